/*
 * batch_gen.c — quy-batch-gen: a seeded, party-sized batch for the batch
 * benchmark (bench/batch-bench.sh, README.md "The batch benchmark").
 *
 * Writes JSON Lines valid for central-124, as one tree, the way a
 * membership system exports it (each collective, then what is under it):
 *
 *   district  H-01 .. H-50 (not a record: the peer group of its đảng bộ)
 *   party_org org_level dang_bo   DB-0001 ..   (default 5,000; --cells-per-committee)
 *   party_org org_level chi_bo    CB-00001 ..  (default 50,000; --cells)
 *   member                        DV-00000001 .. (default 5,500,000; --members)
 *
 * `unit`: a member's unit is its chi bộ, a chi bộ's its đảng bộ (so both
 * collectives' member_tiers are roll-ups from the batch: a chi bộ's from
 * its members, a đảng bộ's from its chi bộ). No record carries
 * member_tiers.
 *
 * `peer_group` (the group the 20 % quota is counted in, 124 Điều 12, 1.4:
 * "theo từng nhóm đối tượng có vị trí, vai trò, chức năng, nhiệm vụ tương
 * đồng", decided by the authority that rates them):
 *   members   the chi bộ ("<CB>:dang_vien"): a member is reviewed and rated
 *             in the chi bộ where they are active, and the chi bộ (or the
 *             đảng uỷ over it, chi bộ by chi bộ) decides the rating;
 *   chi bộ    the đảng bộ cơ sở over them ("<DB>:chi_bo"): the đảng uỷ
 *             rates its chi bộ, which are comparable with each other;
 *   đảng bộ   the district ("<H>:dang_bo"), whose committee rates them.
 *
 * Sizes: chi bộ from 3 members (the minimum of a chi bộ) to ~400, most
 * 30-150 (weights 10 % small 3-15, 70 % 30-150, 20 % 150-400, scaled to
 * add up to --members exactly); 3-17 chi bộ per đảng bộ, scaled the same
 * way; 100 đảng bộ per district.
 *
 * Tiers (eligible, before the quota): each chi bộ has a quality (25 %
 * strong, 60 % ordinary, 15 % weak) that sets its members' chances of
 * htxsnv / httnv / htnv / khtnv; about 5 % are not rated (exempt,
 * admitted under 6 months, suspended). Each record's fields are drawn to
 * meet exactly the conditions of its target tier in central-124 (or, for
 * khtnv, one of its causes, including the `gap` case), so the mix is known:
 * with seed 42 the members are 16.6 % htxsnv-eligible against 63.9 % httnv,
 * 12.5 % htnv, 2.4 % khtnv, 4.6 % not rated — more htxsnv than the 20 %
 * quota allows in most chi bộ (after it: 12.1 % htxsnv, 68.4 % httnv).
 *
 * PRNG: splitmix64 (same records on every machine for a seed).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../runtime/splitmix.h"

/* rng, rng_next: runtime/splitmix.h */

static int32_t rng_below(rng *g, int32_t n) { return n <= 0 ? 0 : (int32_t)(rng_next(g) % (uint64_t)n); }
static int32_t rng_range(rng *g, int32_t lo, int32_t hi) { return lo + rng_below(g, hi - lo + 1); }
/* True with probability per_mille / 1000. */
static bool rng_chance(rng *g, int32_t per_mille) { return rng_below(g, 1000) < per_mille; }

enum { G_KEM, G_TB, G_TOT, G_XS };
static const char *const grade_code[4] = {"kem", "trung_binh", "tot", "xuat_sac"};
enum { T_KHTNV, T_HTNV, T_HTTNV, T_HTXSNV, T_NOT_RATED };

/* ---------------------------------------------------------------------
 * Output: one line at a time into a fixed buffer, then fwrite.
 * ------------------------------------------------------------------- */

typedef struct line {
    char s[2048];
    size_t n;
} line;

static void put(line *l, const char *s)
{
    size_t k = strlen(s);
    memcpy(l->s + l->n, s, k);
    l->n += k;
}

static void put_u(line *l, uint64_t v)
{
    char t[24];
    int k = 0;
    do {
        t[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (k) l->s[l->n++] = t[--k];
}

/* prefix + zero-padded number of `width` digits */
static void put_id(line *l, const char *prefix, uint64_t v, int width)
{
    put(l, prefix);
    char t[24];
    for (int i = width - 1; i >= 0; i--) {
        t[i] = (char)('0' + v % 10);
        v /= 10;
    }
    memcpy(l->s + l->n, t, (size_t)width);
    l->n += (size_t)width;
}

static void kv_u(line *l, const char *k, uint64_t v)
{
    put(l, ",\"");
    put(l, k);
    put(l, "\":");
    put_u(l, v);
}

static void kv_b(line *l, const char *k, bool v)
{
    put(l, ",\"");
    put(l, k);
    put(l, v ? "\":true" : "\":false");
}

static void kv_grades(line *l, const char *k, const uint8_t *g, int n)
{
    put(l, ",\"");
    put(l, k);
    put(l, "\":[");
    for (int i = 0; i < n; i++) {
        put(l, i ? ",\"" : "\"");
        put(l, grade_code[g[i]]);
        put(l, "\"");
    }
    put(l, "]");
}

/* ---------------------------------------------------------------------
 * Sizes: `total` split into `parts` positive parts drawn from `draw`,
 * scaled to add up exactly, each >= lo.
 * ------------------------------------------------------------------- */

static uint32_t *split(rng *g, uint64_t total, uint32_t parts, uint32_t lo, uint32_t (*draw)(rng *))
{
    uint32_t *s = malloc((size_t)parts * sizeof *s);
    uint64_t *w = malloc((size_t)parts * sizeof *w);
    if (!s || !w) {
        free(s);
        free(w);
        return NULL;
    }
    uint64_t W = 0;
    for (uint32_t i = 0; i < parts; i++) W += w[i] = draw(g);
    uint64_t sum = 0;
    for (uint32_t i = 0; i < parts; i++) {
        uint64_t x = (uint64_t)((unsigned __int128)w[i] * total / W);
        s[i] = (uint32_t)(x < lo ? lo : x);
        sum += s[i];
    }
    /* fix the rounding: add to / take from the parts in turn */
    for (uint32_t i = 0; sum != total; i = (i + 1) % parts) {
        if (sum < total) {
            s[i]++;
            sum++;
        } else if (s[i] > lo) {
            s[i]--;
            sum--;
        }
    }
    free(w);
    return s;
}

static uint32_t draw_cell_size(rng *g)
{
    int32_t x = rng_below(g, 1000);
    return (uint32_t)(x < 100 ? rng_range(g, 3, 15) : x < 800 ? rng_range(g, 30, 150) : rng_range(g, 150, 400));
}

static uint32_t draw_committee_size(rng *g) { return (uint32_t)rng_range(g, 3, 17); }

/* ---------------------------------------------------------------------
 * Records
 * ------------------------------------------------------------------- */

static void grades(rng *g, uint8_t *v, int n, int xs, int tot, int tb) /* per mille; rest kem */
{
    for (int i = 0; i < n; i++) {
        int32_t x = rng_below(g, 1000);
        v[i] = x < xs ? G_XS : x < xs + tot ? G_TOT : x < xs + tot + tb ? G_TB : G_KEM;
    }
}

static bool all_at_least(const uint8_t *v, int n, int lo)
{
    for (int i = 0; i < n; i++)
        if (v[i] < lo) return false;
    return true;
}

/* Target tier of a rated member of a chi bộ of quality q (0 strong, 1 ordinary, 2 weak). */
static int member_target(rng *g, int q)
{
    static const int16_t p[3][3] = {
        /* htxsnv, httnv, htnv per mille; the rest khtnv */
        {270, 640, 75},
        {160, 690, 130},
        {70, 640, 230},
    };
    int32_t x = rng_below(g, 1000);
    return x < p[q][0] ? T_HTXSNV : x < p[q][0] + p[q][1] ? T_HTTNV : x < p[q][0] + p[q][1] + p[q][2] ? T_HTNV : T_KHTNV;
}

typedef struct ids {
    uint64_t member, cell, committee; /* next numbers */
} ids;

static void member(rng *g, line *l, uint64_t no, uint32_t cell, int quality)
{
    uint8_t res[4], oth[5];
    int nres = rng_range(g, 2, 4), noth = rng_range(g, 4, 5);
    bool exempt = rng_chance(g, 30), suspended = rng_chance(g, 1);
    uint32_t months = rng_chance(g, 15) ? (uint32_t)rng_range(g, 0, 5) : (uint32_t)rng_range(g, 6, 600);
    int t = member_target(g, quality);
    bool outstanding = false, disciplined = false, remedied = false, breach = false;
    uint32_t total = (uint32_t)rng_range(g, 2, 10), done = total, late = 0, exceeded = 0;
    switch (t) {
    case T_HTXSNV: /* 124 Điều 12, 1.2: every condition met */
        outstanding = true;
        grades(g, res, nres, 1000, 0, 0);
        grades(g, oth, noth, 600, 400, 0);
        exceeded = (total + 1) / 2 + (uint32_t)rng_below(g, (int32_t)(total - (total + 1) / 2 + 1));
        break;
    case T_HTTNV: /* 2.2; not 1.2 (outstanding only where another condition fails) */
        grades(g, res, nres, 400, 600, 0);
        grades(g, oth, noth, 250, 650, 100);
        exceeded = (uint32_t)rng_below(g, (int32_t)(total + 1) / 2); /* under 50 % */
        outstanding = rng_chance(g, 100);
        break;
    case T_HTNV: /* 3.2 but not 2.2: a Trung bình result, or late work within 20 % */
        grades(g, oth, noth, 100, 600, 300);
        if (total >= 5 && rng_chance(g, 400)) {
            grades(g, res, nres, 200, 800, 0);
            late = (uint32_t)rng_range(g, 1, (int32_t)total / 5);
        } else {
            grades(g, res, nres, 100, 500, 400);
            if (all_at_least(res, nres, G_TOT)) res[rng_below(g, nres)] = G_TB;
        }
        break;
    default: { /* 4 / 4.3: one cause, or the gap (undone, under 50 %) */
        grades(g, res, nres, 100, 600, 300);
        grades(g, oth, noth, 100, 600, 300);
        int32_t c = rng_below(g, 10);
        if (c < 4)
            oth[rng_below(g, noth)] = G_KEM;
        else if (c < 6)
            disciplined = true;
        else if (c < 8)
            done = (uint32_t)rng_below(g, (int32_t)(total + 1) / 2); /* over 50 % undone */
        else if (c < 9)
            breach = true;
        else
            done = total - 1; /* gap: some undone, not over 50 % */
        late = done ? (uint32_t)rng_below(g, (int32_t)done / 4 + 1) : 0;
        break;
    }
    }
    if (!disciplined && rng_chance(g, 5)) disciplined = remedied = true; /* remedied: no effect */
    l->n = 0;
    put_id(l, "{\"id\":\"DV-", no, 8);
    put(l, "\",\"kind\":\"member\",\"period\":\"2024\"");
    put_id(l, ",\"unit\":\"CB-", cell, 5);
    put_id(l, "\",\"peer_group\":\"CB-", cell, 5);
    put(l, ":dang_vien\"");
    kv_u(l, "months_in_role", months);
    kv_grades(l, "result_grades", res, nres);
    kv_grades(l, "other_grades", oth, noth);
    kv_b(l, "outstanding", outstanding);
    kv_u(l, "tasks_total", total);
    kv_u(l, "tasks_completed", done);
    kv_u(l, "tasks_on_time", done - late);
    kv_u(l, "tasks_exceeded", exceeded < done ? exceeded : done);
    kv_b(l, "exempt", exempt);
    kv_b(l, "suspended", suspended);
    kv_b(l, "degraded", false);
    kv_b(l, "prohibited_conduct", false);
    kv_b(l, "exemplary_breach", breach);
    kv_b(l, "disciplined", disciplined);
    kv_b(l, "self_remedied", remedied);
    put(l, "}\n");
}

/* A party_org (chi bộ or đảng bộ) with a target tier drawn from a
 * collective's usual mix. */
static void party_org(rng *g, line *l, bool dang_bo, uint32_t no, uint32_t parent, uint32_t nsub)
{
    uint8_t res[4], oth[6];
    int nres = rng_range(g, 3, 4), noth = rng_range(g, 5, 6);
    int32_t x = rng_below(g, 1000);
    int t = x < 180 ? T_HTXSNV : x < 820 ? T_HTTNV : x < 960 ? T_HTNV : T_KHTNV;
    bool outstanding = false, key_missed = false, collective_case = false, remedied_case = false;
    uint32_t pct = (uint32_t)rng_range(g, 8500, 10000); /* hundredths of a percent */
    switch (t) {
    case T_HTXSNV: /* 124 Điều 12, 1.1 */
        outstanding = true;
        grades(g, res, nres, 1000, 0, 0);
        grades(g, oth, noth, 500, 500, 0);
        break;
    case T_HTTNV: /* 2.1 */
        grades(g, res, nres, 400, 600, 0);
        grades(g, oth, noth, 250, 650, 100);
        remedied_case = rng_chance(g, 50);
        break;
    case T_HTNV: /* 3.1, not 2.1 */
        grades(g, res, nres, 100, 500, 400);
        if (all_at_least(res, nres, G_TOT)) res[rng_below(g, nres)] = G_TB;
        grades(g, oth, noth, 100, 600, 300);
        break;
    default: /* 4 / 4.1 */
        grades(g, res, nres, 100, 600, 300);
        grades(g, oth, noth, 100, 600, 300);
        if (rng_chance(g, 500))
            oth[rng_below(g, noth)] = G_KEM;
        else if (rng_chance(g, 500)) {
            pct = (uint32_t)rng_range(g, 3000, 4999);
            key_missed = true;
        } else
            collective_case = true;
        break;
    }
    l->n = 0;
    if (dang_bo)
        put_id(l, "{\"id\":\"DB-", no, 4);
    else
        put_id(l, "{\"id\":\"CB-", no, 5);
    put(l, dang_bo ? "\",\"kind\":\"party_org\",\"org_level\":\"dang_bo\",\"period\":\"2024\""
                   : "\",\"kind\":\"party_org\",\"org_level\":\"chi_bo\",\"period\":\"2024\"");
    if (dang_bo) {
        put_id(l, ",\"peer_group\":\"H-", parent, 2);
        put(l, ":dang_bo\"");
    } else {
        put_id(l, ",\"unit\":\"DB-", parent, 4);
        put_id(l, "\",\"peer_group\":\"DB-", parent, 4);
        put(l, ":chi_bo\"");
    }
    kv_u(l, "months_in_role", (uint32_t)rng_range(g, 24, 720));
    kv_grades(l, "result_grades", res, nres);
    kv_grades(l, "other_grades", oth, noth);
    kv_b(l, "outstanding", outstanding);
    kv_u(l, "sub_units_total", nsub);
    put(l, ",\"discipline_cases\":[");
    if (collective_case) put(l, "{\"who\":\"collective\",\"corruption\":false,\"self_remedied\":false}");
    if (remedied_case) put(l, "{\"who\":\"member\",\"corruption\":false,\"self_remedied\":true}");
    put(l, "]");
    put(l, ",\"targets_completed_pct\":");
    put_u(l, pct / 100);
    if (pct % 100) {
        put(l, ".");
        put_u(l, pct % 100 / 10);
        if (pct % 10) put_u(l, pct % 10);
    }
    kv_b(l, "key_targets_missed", key_missed);
    kv_b(l, "force_majeure", false);
    put(l, "}\n");
}

/* ---------------------------------------------------------------------
 * main
 * ------------------------------------------------------------------- */

static const char usage[] =
    "usage: quy-batch-gen [--members N] [--cells C] [--cells-per-committee K] [--seed S] [-o FILE]\n"
    "  --members N              member records (default 5500000)\n"
    "  --cells C                chi bộ (party_org, org_level chi_bo; default 50000)\n"
    "  --cells-per-committee K  average chi bộ per đảng bộ cơ sở (default 10)\n"
    "  --seed S                 generator seed (default 42)\n"
    "  -o FILE                  output (default: standard output)\n"
    "Writes JSON Lines for central-124; on standard error, the counts.\n";

static bool num(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || *s == '-') return false;
    *out = v;
    return true;
}

int main(int argc, char **argv)
{
    uint64_t members = 5500000, cells = 50000, per = 10, seed = 42;
    const char *out = NULL;
    for (int i = 1; i < argc; i++) {
        uint64_t *dst = NULL;
        if (!strcmp(argv[i], "--members"))
            dst = &members;
        else if (!strcmp(argv[i], "--cells"))
            dst = &cells;
        else if (!strcmp(argv[i], "--cells-per-committee"))
            dst = &per;
        else if (!strcmp(argv[i], "--seed"))
            dst = &seed;
        else if (!strcmp(argv[i], "-o") && i + 1 < argc) {
            out = argv[++i];
            continue;
        } else {
            fputs(usage, stderr);
            return 2;
        }
        if (i + 1 >= argc || !num(argv[++i], dst)) {
            fputs(usage, stderr);
            return 2;
        }
    }
    if (!cells || !per || cells > 99999 || members > 99999999 || members < 3 * cells) {
        fprintf(stderr, "quy-batch-gen: need 1 <= cells <= 99999, members <= 99999999, members >= 3 x cells\n");
        return 2;
    }
    uint64_t committees = (cells + per - 1) / per;
    if (committees > 9999) committees = 9999;
    uint64_t districts = (committees + 99) / 100;
    rng g = {seed};
    uint32_t *cell_size = split(&g, members, (uint32_t)cells, 3, draw_cell_size);
    uint32_t *comm_size = split(&g, cells, (uint32_t)committees, 1, draw_committee_size);
    if (!cell_size || !comm_size) {
        fprintf(stderr, "quy-batch-gen: out of memory\n");
        return 2;
    }
    FILE *f = out ? fopen(out, "wb") : stdout;
    if (!f) {
        fprintf(stderr, "quy-batch-gen: %s: %s\n", out, strerror(errno));
        return 2;
    }
    static char iobuf[1 << 20];
    setvbuf(f, iobuf, _IOFBF, sizeof iobuf);
    line l;
    uint64_t m = 0, c = 0, min = UINT64_MAX, max = 0;
    for (uint32_t d = 0; d < committees; d++) {
        party_org(&g, &l, true, d + 1, (uint32_t)(d / 100 + 1), comm_size[d]);
        fwrite(l.s, 1, l.n, f);
        for (uint32_t k = 0; k < comm_size[d]; k++, c++) {
            int quality = rng_chance(&g, 250) ? 0 : rng_chance(&g, 800) ? 1 : 2;
            party_org(&g, &l, false, (uint32_t)c + 1, d + 1, (uint32_t)rng_range(&g, 0, 4));
            fwrite(l.s, 1, l.n, f);
            if (cell_size[c] < min) min = cell_size[c];
            if (cell_size[c] > max) max = cell_size[c];
            for (uint32_t j = 0; j < cell_size[c]; j++) {
                member(&g, &l, ++m, (uint32_t)c + 1, quality);
                fwrite(l.s, 1, l.n, f);
            }
        }
    }
    if (fflush(f) != 0 || ferror(f) || (out && fclose(f) != 0)) {
        fprintf(stderr, "quy-batch-gen: cannot write: %s\n", strerror(errno));
        return 2;
    }
    fprintf(stderr,
            "quy-batch-gen: %" PRIu64 " records: %" PRIu64 " members, %" PRIu64 " chi bộ (%" PRIu64 "-%" PRIu64
            " members), %" PRIu64 " đảng bộ, %" PRIu64 " districts; seed %" PRIu64 "\n",
            m + c + committees, m, c, min, max, committees, districts, seed);
    free(cell_size);
    free(comm_size);
    return 0;
}
