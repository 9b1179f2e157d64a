/*
 * bench_gen.c — seeded synthetic records for the benchmark, and their JSON
 * Lines text.
 *
 * The PRNG is splitmix64 (our own: the same seed gives the same records on
 * every machine and libc). Records are concentrated around the boundaries
 * the regulation draws, so that every rule of central-124 decides some of
 * them and the agreement check means something:
 *   tasks: 0-20 assigned; completed near 50 %, 80 %, 100 % of them; late
 *          (completed but not on time) near 0 and 20 %; exceeded near 50 %;
 *   grades: 4-8 per list, drawn by a per-record profile (excellent, good,
 *          fair, weak) so that "all xuat_sac" and "a Kém" both happen;
 *   low_confidence_pct present in 30 %, half of those within 1 point of 50 %;
 *   leaders: unit targets completed near 70 %, 80 %, 100 %, unit work on
 *          time near 80 %, unit_tier present in half, subordinate_tiers a
 *          list of 0-8 tiers in 80 % (absent in the rest: `if present`).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "../runtime/splitmix.h"

const char *const bench_grade_code[4] = {"kem", "trung_binh", "tot", "xuat_sac"};
const char *const bench_tier_code[5] = {"khtnv", "htnv", "httnv", "htxsnv", "not_rated"};
const char *const bench_exemplary_code[3] = {"khong", "guong_mau", "thuc_su_guong_mau"};

/* =====================================================================
 * PRNG: splitmix64
 * ===================================================================== */

/* rng, rng_next: runtime/splitmix.h */

/* Uniform in [0, n) (n small: the modulo bias is irrelevant here). */
static int32_t rng_below(rng *g, int32_t n) { return n <= 0 ? 0 : (int32_t)(rng_next(g) % (uint64_t)n); }

/* Uniform in [lo, hi]. */
static int32_t rng_range(rng *g, int32_t lo, int32_t hi) { return lo + rng_below(g, hi - lo + 1); }

/* True with probability per_mille / 1000. */
static bool rng_chance(rng *g, int32_t per_mille) { return rng_below(g, 1000) < per_mille; }

static int32_t clamp(int32_t x, int32_t lo, int32_t hi) { return x < lo ? lo : x > hi ? hi : x; }

/* round(total * pct / 100) + jitter in [-1, 1], clamped to [0, hi]. */
static int32_t near_pct(rng *g, int32_t total, int32_t pct, int32_t hi)
{
    int32_t x = (total * pct + 50) / 100 + rng_range(g, -1, 1);
    return clamp(x, 0, hi);
}

/* =====================================================================
 * Records
 * ===================================================================== */

enum { P_EXCELLENT, P_GOOD, P_FAIR, P_WEAK };

/* One grade for a record of profile `pr`. */
static uint8_t gen_grade(rng *g, int pr, bool result_list)
{
    int32_t x = rng_below(g, 1000);
    switch (pr) {
    case P_EXCELLENT: /* results almost all xuat_sac, others tot or better */
        if (result_list) return x < 960 ? G_XUAT_SAC : G_TOT;
        return x < 500 ? G_XUAT_SAC : x < 990 ? G_TOT : G_TRUNG_BINH;
    case P_GOOD:
        return x < 300 ? G_XUAT_SAC : x < 900 ? G_TOT : G_TRUNG_BINH;
    case P_FAIR:
        return x < 100 ? G_XUAT_SAC : x < 550 ? G_TOT : x < 995 ? G_TRUNG_BINH : G_KEM;
    default:
        return x < 300 ? G_TOT : x < 900 ? G_TRUNG_BINH : G_KEM;
    }
}

static uint8_t gen_tier(rng *g)
{
    int32_t x = rng_below(g, 1000);
    return x < 200 ? T_HTXSNV : x < 700 ? T_HTTNV : x < 950 ? T_HTNV : T_KHTNV;
}

static void gen_one(rng *g, bench_rec *r, bool leader)
{
    memset(r, 0, sizeof *r);
    r->kind = leader ? BK_LEADER : BK_MEMBER;
    int32_t x = rng_below(g, 1000);
    int pr = x < 250 ? P_EXCELLENT : x < 650 ? P_GOOD : x < 900 ? P_FAIR : P_WEAK;

    r->nresult = (uint8_t)rng_range(g, 4, BENCH_MAX_GRADES);
    r->nother = (uint8_t)rng_range(g, 4, BENCH_MAX_GRADES);
    for (int i = 0; i < r->nresult; i++) r->result[i] = gen_grade(g, pr, true);
    for (int i = 0; i < r->nother; i++) r->other[i] = gen_grade(g, pr, false);
    r->outstanding = rng_chance(g, pr == P_EXCELLENT ? 800 : 100);

    /* Not rated (members): exempt, suspended, admitted under 6 months. */
    r->exempt = rng_chance(g, 20);
    r->suspended = rng_chance(g, 10);
    r->months = leader ? rng_range(g, 1, 120) : rng_chance(g, 60) ? rng_range(g, 0, 5) : rng_range(g, 6, 360);

    r->degraded = rng_chance(g, 10);
    r->prohibited = rng_chance(g, 10);
    r->breach = rng_chance(g, 15);
    r->disciplined = rng_chance(g, 50);
    r->self_remedied = rng_chance(g, r->disciplined ? 500 : 20);

    /* Tasks: completed near 100 / 80 / 50 %, late near 0 / 20 %,
     * exceeded near 50 %. */
    int32_t t = rng_chance(g, 20) ? 0 : rng_range(g, 1, 20);
    r->tasks_total = t;
    x = rng_below(g, 1000);
    int32_t done = x < 600 ? t : x < 800 ? near_pct(g, t, 80, t) : x < 950 ? near_pct(g, t, 50, t) : rng_range(g, 0, t);
    r->tasks_completed = done;
    x = rng_below(g, 1000);
    int32_t late = x < 600 ? 0 : x < 900 ? near_pct(g, t, 20, done) : rng_range(g, 0, done);
    r->tasks_on_time = done - late;
    r->tasks_exceeded = rng_chance(g, 700) ? near_pct(g, t, 50, done) : rng_range(g, 0, done);

    /* Low-confidence vote: absent (no vote held) in 60 %. */
    r->lcp = -1;
    if (rng_chance(g, 300)) r->lcp = rng_chance(g, 500) ? 5000 + rng_range(g, -100, 100) : rng_range(g, 0, 3000);

    r->unit = (uint32_t)rng_range(g, 1, 5000);
    r->group = (uint32_t)rng_range(g, 1, 200);
    r->unit_tier = -1;
    r->nsubs = -1;
    if (!leader) return;

    x = rng_below(g, 1000);
    r->exemplary = x < 400 ? EX_THUC_SU : x < 900 ? EX_GUONG_MAU : EX_KHONG;
    int32_t ut = rng_chance(g, 30) ? 0 : rng_range(g, 1, 30);
    r->ut_total = ut;
    x = rng_below(g, 1000);
    r->ut_completed = x < 550 ? ut : x < 750 ? near_pct(g, ut, 70, ut) : x < 900 ? near_pct(g, ut, 80, ut)
                                                                             : rng_range(g, 0, ut);
    r->ut_exceeded = rng_chance(g, 700) ? near_pct(g, ut, 50, r->ut_completed) : rng_range(g, 0, r->ut_completed);
    int32_t uw = rng_chance(g, 30) ? 0 : rng_range(g, 1, 50);
    r->uw_total = uw;
    x = rng_below(g, 1000);
    r->uw_on_time = x < 400 ? uw : x < 900 ? near_pct(g, uw, 80, uw) : rng_range(g, 0, uw);
    if (rng_chance(g, 500)) r->unit_tier = (int8_t)gen_tier(g);
    if (rng_chance(g, 800)) {
        r->nsubs = rng_chance(g, 100) ? 0 : (int8_t)rng_range(g, 1, BENCH_MAX_SUBS);
        for (int i = 0; i < r->nsubs; i++) r->subs[i] = gen_tier(g);
    }
    r->sub_corruption = rng_chance(g, 40);
    r->sub_corruption_remedied = rng_chance(g, r->sub_corruption ? 500 : 20);
}

void bench_generate(bench_rec *recs, size_t n, uint64_t seed, bench_mix mix)
{
    rng g = {seed};
    for (size_t i = 0; i < n; i++) {
        bool leader = mix == MIX_LEADER || (mix == MIX_MIXED && rng_chance(&g, 500));
        gen_one(&g, &recs[i], leader);
    }
}

/* =====================================================================
 * JSON Lines
 * ===================================================================== */

typedef struct buf {
    char *p;
    size_t len, cap;
    bool oom;
} buf;

static bool buf_reserve(buf *b, size_t more)
{
    if (b->len + more + 1 <= b->cap) return true;
    size_t cap = b->cap ? b->cap : 1 << 20;
    while (cap < b->len + more + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = true;
        return false;
    }
    b->p = p;
    b->cap = cap;
    return true;
}

static void put_s(buf *b, const char *s)
{
    size_t n = strlen(s);
    if (!buf_reserve(b, n)) return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void put_i(buf *b, int64_t v)
{
    char t[24];
    int n = snprintf(t, sizeof t, "%lld", (long long)v);
    if (n > 0 && buf_reserve(b, (size_t)n)) {
        memcpy(b->p + b->len, t, (size_t)n);
        b->len += (size_t)n;
    }
}

static void put_kv_i(buf *b, const char *key, int64_t v)
{
    put_s(b, ", \"");
    put_s(b, key);
    put_s(b, "\": ");
    put_i(b, v);
}

static void put_kv_b(buf *b, const char *key, bool v)
{
    put_s(b, ", \"");
    put_s(b, key);
    put_s(b, v ? "\": true" : "\": false");
}

static void put_kv_s(buf *b, const char *key, const char *v)
{
    put_s(b, ", \"");
    put_s(b, key);
    put_s(b, "\": \"");
    put_s(b, v);
    put_s(b, "\"");
}

static void put_list(buf *b, const char *key, const uint8_t *v, int n, const char *const *codes)
{
    put_s(b, ", \"");
    put_s(b, key);
    put_s(b, "\": [");
    for (int i = 0; i < n; i++) {
        if (i) put_s(b, ", ");
        put_s(b, "\"");
        put_s(b, codes[v[i]]);
        put_s(b, "\"");
    }
    put_s(b, "]");
}

void bench_id(size_t i, char *out) { snprintf(out, 24, "B-%07zu", i + 1); }

char *bench_jsonl(const bench_rec *recs, size_t n, size_t *len)
{
    buf b = {0};
    char t[32];
    for (size_t i = 0; i < n && !b.oom; i++) {
        const bench_rec *r = &recs[i];
        bool leader = r->kind == BK_LEADER;
        bench_id(i, t);
        put_s(&b, "{\"id\": \"");
        put_s(&b, t);
        put_s(&b, leader ? "\", \"kind\": \"leader\"" : "\", \"kind\": \"member\"");
        put_kv_s(&b, "period", "2024");
        snprintf(t, sizeof t, "U-%05u", (unsigned)r->unit);
        put_kv_s(&b, "unit", t);
        snprintf(t, sizeof t, "G-%03u", (unsigned)r->group);
        put_kv_s(&b, "peer_group", t);
        put_kv_i(&b, "months_in_role", r->months);
        put_list(&b, "result_grades", r->result, r->nresult, bench_grade_code);
        put_list(&b, "other_grades", r->other, r->nother, bench_grade_code);
        put_kv_b(&b, "outstanding", r->outstanding);
        put_kv_i(&b, "tasks_total", r->tasks_total);
        put_kv_i(&b, "tasks_completed", r->tasks_completed);
        put_kv_i(&b, "tasks_on_time", r->tasks_on_time);
        put_kv_i(&b, "tasks_exceeded", r->tasks_exceeded);
        put_kv_b(&b, "exempt", r->exempt);
        put_kv_b(&b, "suspended", r->suspended);
        put_kv_b(&b, "degraded", r->degraded);
        put_kv_b(&b, "prohibited_conduct", r->prohibited);
        put_kv_b(&b, "exemplary_breach", r->breach);
        put_kv_b(&b, "disciplined", r->disciplined);
        put_kv_b(&b, "self_remedied", r->self_remedied);
        if (r->lcp >= 0) {
            snprintf(t, sizeof t, "%d.%02d", (int)(r->lcp / 100), (int)(r->lcp % 100));
            put_s(&b, ", \"low_confidence_pct\": ");
            put_s(&b, t);
        }
        if (leader) {
            put_kv_s(&b, "exemplary", bench_exemplary_code[r->exemplary]);
            put_kv_i(&b, "unit_targets_total", r->ut_total);
            put_kv_i(&b, "unit_targets_completed", r->ut_completed);
            put_kv_i(&b, "unit_targets_exceeded", r->ut_exceeded);
            put_kv_i(&b, "unit_work_total", r->uw_total);
            put_kv_i(&b, "unit_work_on_time", r->uw_on_time);
            if (r->unit_tier >= 0) put_kv_s(&b, "unit_tier", bench_tier_code[r->unit_tier]);
            if (r->nsubs >= 0) put_list(&b, "subordinate_tiers", r->subs, r->nsubs, bench_tier_code);
            put_kv_b(&b, "subordinate_corruption", r->sub_corruption);
            put_kv_b(&b, "subordinate_corruption_self_remedied", r->sub_corruption_remedied);
        }
        put_s(&b, "}\n");
    }
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    if (!buf_reserve(&b, 0)) return NULL;
    b.p[b.len] = 0;
    *len = b.len;
    return b.p;
}
