/*
 * bench.c — quy-bench: how fast central-124 rates records, four ways.
 *
 *   (a) vm   the Quy VM (vm_rate, computed goto) over q_records already in
 *            memory (loaded once, before timing, by the project's own
 *            record loader from the generated JSON Lines)
 *   (b) e2e  end to end: JSON Lines in (rec_reader over an in-memory
 *            buffer) -> vm_rate -> JSON Lines out (out_result to /dev/null)
 *   (c) C    a hand-written C function encoding the same rules over a plain
 *            struct array: the physical limit
 *   (d) Lua  the same rules in plain Lua 5.4 over Lua tables, a Lua loop
 *            over the array (what a user would write instead); (d') the
 *            same, one lua_call from C per record
 *   (e) hooks  (a) again with central-124 extended by one Lua hook call on
 *            every record (bench/hooks/): a hook that returns nil, one that
 *            receives the two grade lists, one in a flag's condition. The
 *            time over (a), per record, is the cost of one hook call.
 *
 * Every mode rates the same N seeded records (bench_gen.c); the outcomes
 * are compared record by record and any disagreement is printed and makes
 * the exit status 1. Not a test: ctest never runs it (see README.md).
 *
 *   (f) cli  `quy eval` over the same records as a file, JSON Lines out:
 *            end to end as a user runs it (whatever reader and writer the
 *            binary has)
 *   (g) diff `quy diff central-124 fixture-variant` over --diff-n records
 *            made by `quy gen` (1,000,000 by default)
 *   (h) batch `quy eval` over quy-batch-gen's party-sized batch (roll-ups,
 *            quotas; 5,500,000 members by default), with its peak RSS
 *
 * Timing: this thread's CPU time (CLOCK_THREAD_CPUTIME_ID), the least of
 * --reps (3) for (a), (c), (d), (d'), with the wall time beside it; (b)
 * runs once over all records and is then split into its parts — read and
 * check only, rate only (= a), write only — so that the bound of the
 * end-to-end figure is printed, not guessed. (f)-(h): the child's CPU
 * time (user + system, wait4) and wall time, once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "compiler.h"
#include "output.h"
#include "record.h"
#include "vm.h"

#ifndef QUY_SOURCE_RULESETS
#define QUY_SOURCE_RULESETS "rulesets"
#endif
#ifndef QUY_BENCH_LUA
#define QUY_BENCH_LUA "bench/central124.lua"
#endif
#ifndef QUY_BENCH_HOOKS
#define QUY_BENCH_HOOKS "bench/hooks"
#endif

#include "hook.h"

#ifndef QUY_BENCH_QUY
#define QUY_BENCH_QUY "build-bench/quy"
#endif
#ifndef QUY_BENCH_BATCH_GEN
#define QUY_BENCH_BATCH_GEN "build-bench/bench/quy-batch-gen"
#endif
#ifndef QUY_BENCH_DIFF_NEW
#define QUY_BENCH_DIFF_NEW "tests/golden/diff/fixture-variant.quy"
#endif


typedef struct opts {
    size_t n;
    uint64_t seed;
    bench_mix mix;
    const char *ruleset;
    const char *rulesets;
    const char *lua;
    const char *dump; /* write the generated JSON Lines here, or NULL */
    int reps;
    bool hooks;       /* the (e) rows */
    bool cli;         /* the (f)-(h) rows */
    size_t diff_n;    /* records for (g); 0: skip */
    size_t batch_members, batch_cells; /* (h); 0 members: skip */
    bool write_only;  /* --write-only: time the writer alone, per format, and stop */
} opts;

static const char usage[] =
    "usage: quy-bench [--n N] [--seed S] [--kind member|leader|mixed] [--ruleset NAME]\n"
    "                 [--rulesets DIR] [--lua FILE] [--reps R] [--dump FILE] [--no-hooks]\n"
    "                 [--no-cli] [--diff-n N] [--batch-members N] [--batch-cells C]\n"
    "  --n N          records to generate (default 1000000)\n"
    "  --seed S       generator seed (default 42)\n"
    "  --kind K       member, leader or mixed (default: mixed, half each)\n"
    "  --ruleset NAME ruleset to run in the VM (default central-124; (c) and (d)\n"
    "                 encode central-124, so another ruleset is only useful if it\n"
    "                 decides the same tiers)\n"
    "  --rulesets DIR ruleset search directory (default: the source tree's)\n"
    "  --lua FILE     the Lua rules (default: the source tree's bench/central124.lua)\n"
    "  --reps R       repetitions; the best is reported (default 3)\n"
    "  --dump FILE    also write the generated records as JSON Lines to FILE\n"
    "  --write-only 1 time only the result writer (out_result: JSON Lines, CSV), in CPU time\n"
    "exit status: 0 all modes agree, 1 a disagreement or a rejected record, 2 usage or setup error\n";

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double now(void) { return clock_s(CLOCK_MONOTONIC); }

/* Wall time (CLOCK_MONOTONIC, what is reported) and this thread's CPU time
 * over the same interval: cpu well below wall means another process took
 * the core and the figure is low. */
typedef struct span {
    double wall, cpu;
} span;

static span span_start(void) { return (span){now(), clock_s(CLOCK_THREAD_CPUTIME_ID)}; }

static span span_end(span t0) { return (span){now() - t0.wall, clock_s(CLOCK_THREAD_CPUTIME_ID) - t0.cpu}; }

/* The span with the least CPU time (this thread's): on a shared machine
 * the least disturbed measure of a difference between two runs. */
static void span_best_cpu(span *best, span t)
{
    if (t.cpu < best->cpu) *best = t;
}

static bool parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s || *end || *s == '-') return false;
    *out = v;
    return true;
}

static int parse_opts(int argc, char **argv, opts *o)
{
    o->n = 1000000;
    o->seed = 42;
    o->mix = MIX_MIXED;
    o->ruleset = "central-124";
    o->rulesets = QUY_SOURCE_RULESETS;
    o->lua = QUY_BENCH_LUA;
    o->dump = NULL;
    o->reps = 3;
    o->hooks = true;
    o->cli = true;
    o->diff_n = 1000000;
    o->batch_members = 5500000;
    o->batch_cells = 50000;
    o->write_only = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage, stdout);
            exit(0);
        }
        if (strcmp(a, "--no-hooks") == 0 || strcmp(a, "--no-cli") == 0) {
            *(a[5] == 'h' ? &o->hooks : &o->cli) = false;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "quy-bench: %s: missing value or unknown option\n%s", a, usage);
            return -1;
        }
        const char *v = argv[++i];
        uint64_t x;
        if (strcmp(a, "--n") == 0 && parse_u64(v, &x) && x > 0 && x <= 100000000) o->n = (size_t)x;
        else if (strcmp(a, "--seed") == 0 && parse_u64(v, &x)) o->seed = x;
        else if (strcmp(a, "--reps") == 0 && parse_u64(v, &x) && x > 0 && x <= 100) o->reps = (int)x;
        else if (strcmp(a, "--kind") == 0 && strcmp(v, "mixed") == 0) o->mix = MIX_MIXED;
        else if (strcmp(a, "--kind") == 0 && strcmp(v, "member") == 0) o->mix = MIX_MEMBER;
        else if (strcmp(a, "--kind") == 0 && strcmp(v, "leader") == 0) o->mix = MIX_LEADER;
        else if (strcmp(a, "--ruleset") == 0) o->ruleset = v;
        else if (strcmp(a, "--rulesets") == 0) o->rulesets = v;
        else if (strcmp(a, "--lua") == 0) o->lua = v;
        else if (strcmp(a, "--dump") == 0) o->dump = v;
        else if (strcmp(a, "--diff-n") == 0 && parse_u64(v, &x) && x <= 100000000) o->diff_n = (size_t)x;
        else if (strcmp(a, "--batch-members") == 0 && parse_u64(v, &x) && x <= 100000000) o->batch_members = (size_t)x;
        else if (strcmp(a, "--batch-cells") == 0 && parse_u64(v, &x) && x > 0 && x <= 10000000) o->batch_cells = (size_t)x;
        else if (strcmp(a, "--write-only") == 0) o->write_only = strcmp(v, "0") != 0;
        else {
            fprintf(stderr, "quy-bench: bad option or value: %s %s\n%s", a, v, usage);
            return -1;
        }
    }
    return 0;
}

static q_program *compile(const opts *o)
{
    const char *search[1] = {o->rulesets};
    compiler *c = compiler_new(search, 1);
    if (!c) return NULL;
    q_program *p = compiler_compile(c, o->ruleset);
    if (!p) {
        fprintf(stderr, "quy-bench: cannot compile ruleset '%s' (search dir %s):\n", o->ruleset, o->rulesets);
        diag_print(compiler_diags(c), stderr, false);
    }
    compiler_free(c);
    return p;
}

static void print_rec_error(const rec_error *e)
{
    fprintf(stderr, "quy-bench: generated record rejected: line %u id %s field %s: %s: %s\n", e->line, e->id,
            e->field, e->code, e->message);
}

/* =====================================================================
 * The modes
 * ===================================================================== */

/* Load every generated record through the project's loader into owned
 * copies. Returns the number loaded; *rejected counts the others. */
static size_t load_records(const q_program *p, const char *json, size_t len, q_record **recs, size_t n,
                           size_t *rejected, double *secs)
{
    FILE *in = fmemopen((void *)json, len, "r");
    if (!in) return 0;
    rec_reader *r = rec_reader_open(p, in, "bench", REC_JSONL);
    size_t got = 0;
    *rejected = 0;
    double t0 = now();
    q_record *rec;
    rec_error err;
    int rc;
    while (r && (rc = rec_reader_next(r, &rec, &err)) != 0) {
        if (rc < 0) {
            if (++*rejected <= 5) print_rec_error(&err);
            continue;
        }
        if (rec->index < n && !recs[rec->index]) {
            recs[rec->index] = rec_copy(p, rec);
            got += recs[rec->index] != NULL;
        }
    }
    *secs = now() - t0;
    rec_reader_free(r);
    fclose(in);
    return got;
}

/* (a): vm_rate over the loaded records. */
static span run_vm(const q_program *p, hook_session *hs, q_record *const *recs, size_t n, int8_t *res)
{
    span t0 = span_start();
    for (size_t i = 0; i < n; i++) {
        vm_result out;
        vm_rate(p, hs, recs[i], &out, NULL);
        res[i] = out.error == VM_OK ? (int8_t)out.outcome : (int8_t)-1;
    }
    return span_end(t0);
}

/* (e): the same records with a hook variant of central-124 (same kinds,
 * same fields, so the loaded q_records are valid for it). The best time
 * of --reps; *calls is the number of hook calls one pass made. */
static bool run_hook_variant(const opts *o, const char *file, const q_program *base, q_record *const *recs, size_t n,
                             int8_t *res, span *best, span *best_base, uint64_t *calls, uint32_t *states)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", QUY_BENCH_HOOKS, file);
    opts vo = *o;
    vo.ruleset = path;
    q_program *p = compile(&vo);
    if (!p) return false;
    bool same = p->nkinds >= 2;
    for (uint32_t k = 0; k < base->nkinds && same; k++)
        same = k < p->nkinds && p->kinds[k].nfields == base->kinds[k].nfields &&
               strcmp(prog_str(p, p->kinds[k].name), prog_str(base, base->kinds[k].name)) == 0;
    if (!same) {
        fprintf(stderr, "quy-bench: %s does not have central-124's kinds and fields\n", path);
        prog_free(p);
        return false;
    }
    /* (a) and the variant, one after the other in each repetition, so that
     * both see the same load on a shared machine */
    *best = *best_base = (span){1e30, 1e30};
    int8_t *scratch = malloc(n);
    hook_session *hs = hook_session_new(p, NULL), *hb = hook_session_new(base, NULL);
    if (!scratch || !hs || !hb) {
        free(scratch);
        hook_session_free(hs);
        hook_session_free(hb);
        prog_free(p);
        return false;
    }
    for (int r = 0; r < o->reps; r++) {
        span_best_cpu(best_base, run_vm(base, hb, recs, n, scratch));
        span_best_cpu(best, run_vm(p, hs, recs, n, res));
    }
    free(scratch);
    hook_stats st = hook_session_stats(hs);
    *calls = st.calls / (uint64_t)o->reps;
    *states = st.states;
    hook_session_free(hs);
    hook_session_free(hb);
    prog_free(p);
    return true;
}

/* (c): the hand-written C rules over the struct array. */
static span run_c(const bench_rec *recs, size_t n, int8_t *res)
{
    span t0 = span_start();
    for (size_t i = 0; i < n; i++) res[i] = (int8_t)bench_rate_c(&recs[i]);
    return span_end(t0);
}

/* (b): JSON Lines in -> vm_rate -> JSON Lines out, once. With rate = false
 * and write = false only the reader runs (the "read" part of (b)). */
static span run_e2e(const q_program *p, const char *json, size_t len, FILE *sink, int8_t *res, size_t n, bool rate,
                    bool write, size_t *rejected)
{
    span t0 = span_start();
    FILE *in = fmemopen((void *)json, len, "r");
    if (!in) return (span){-1, -1};
    rec_reader *r = rec_reader_open(p, in, "bench", REC_JSONL);
    hook_session *hs = hook_session_new(p, NULL);
    if (r) rec_reader_set_hooks(r, hs);
    out_writer *w = write ? out_open(sink, OUT_JSONL, p) : NULL;
    q_record *rec;
    rec_error err;
    int rc;
    *rejected = 0;
    while (r && (rc = rec_reader_next(r, &rec, &err)) != 0) {
        if (rc < 0) {
            ++*rejected;
            if (w) out_rejected(w, &err);
            continue;
        }
        if (!rate) continue;
        vm_result out;
        vm_rate(p, hs, rec, &out, NULL);
        if (rec->index < n) res[rec->index] = out.error == VM_OK ? (int8_t)out.outcome : (int8_t)-1;
        if (w) out_result(w, rec, &out, out.outcome, NULL, NULL);
    }
    if (w) out_close(w);
    rec_reader_free(r);
    hook_session_free(hs);
    fclose(in);
    return span_end(t0);
}

/* The write part of (b) alone: out_result for every loaded record. */
static span run_write(const q_program *p, q_record *const *recs, size_t n, FILE *sink)
{
    span t0 = span_start();
    out_writer *w = out_open(sink, OUT_JSONL, p);
    hook_session *hs = hook_session_new(p, NULL);
    for (size_t i = 0; i < n && w; i++) {
        vm_result out;
        vm_rate(p, hs, recs[i], &out, NULL);
        out_result(w, recs[i], &out, out.outcome, NULL, NULL);
    }
    if (w) out_close(w);
    hook_session_free(hs);
    return span_end(t0);
}

/* --write-only: out_result alone over the rated records, per format; the
 * least thread CPU time of `reps`, per record. */
static void run_write_only(const q_program *p, hook_session *hs, q_record *const *recs, size_t n, FILE *sink, int reps)
{
    vm_result *res = malloc(n * sizeof *res);
    if (!res) return;
    for (size_t i = 0; i < n; i++) vm_rate(p, hs, recs[i], &res[i], NULL);
    static const char *const name[2] = {"JSON Lines", "CSV"};
    static const out_format fmt[2] = {OUT_JSONL, OUT_CSV};
    for (int f = 0; f < 2; f++) {
        span best = {1e30, 1e30};
        for (int r = 0; r < reps; r++) {
            span t0 = span_start();
            out_writer *w = out_open(sink, fmt[f], p);
            for (size_t i = 0; i < n && w; i++) out_result(w, recs[i], &res[i], res[i].outcome, NULL, NULL);
            if (w) out_close(w);
            span_best_cpu(&best, span_end(t0));
        }
        printf("  write only, %-10s %9.1f ns/rec CPU (%.1f ns/rec wall), %zu records, least of %d\n", name[f],
               best.cpu * 1e9 / (double)n, best.wall * 1e9 / (double)n, n, reps);
    }
    free(res);
}

/* =====================================================================
 * Report
 * ===================================================================== */

static const char *tier_name(int t)
{
    return t >= 0 && t <= T_NOT_RATED ? bench_tier_code[t] : "(error)";
}

static void row(const char *mode, size_t n, span t, const char *note)
{
    double cpu = t.wall > 0 ? 100 * t.cpu / t.wall : 0;
    printf("  %-26s %10zu %9.4f %14.0f %9.1f %9.1f %5.0f%%%s %s\n", mode, n, t.cpu, (double)n / t.cpu,
           t.cpu * 1e9 / (double)n, t.wall * 1e9 / (double)n, cpu, cpu < 90 ? "!" : " ", note);
}

/* The fast path's dispatches per record, by opcode (vm_rate_counted). */
static void profile(const q_program *p, hook_session *hs, q_record *const *recs, size_t n)
{
    uint64_t counts[OP__COUNT] = {0}, total = 0;
    for (size_t i = 0; i < n; i++) {
        vm_result out;
        vm_rate_counted(p, hs, recs[i], &out, counts);
    }
    for (int o = 0; o < OP__COUNT; o++) total += counts[o];
    printf("\n  opcode profile of (a): %.1f dispatches per record; by opcode, per record:\n   ", (double)total / (double)n);
    bool shown[OP__COUNT] = {false};
    for (int k = 0, col = 0; k < OP__COUNT; k++) {
        int best = -1;
        for (int o = 0; o < OP__COUNT; o++)
            if (!shown[o] && counts[o] && (best < 0 || counts[o] > counts[best])) best = o;
        if (best < 0) break;
        shown[best] = true;
        printf(" %s %.2f", op_table[best].name, (double)counts[best] / (double)n);
        if (++col % 8 == 0) printf("\n   ");
    }
    printf("\n");
}

/* Compare the outcome arrays; print the first differences. */
static size_t agree(const bench_rec *recs, size_t n, int8_t *const *res, const char *const *names, int nmodes)
{
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        bool same = true;
        for (int m = 1; m < nmodes; m++) same = same && res[m][i] == res[0][i];
        if (same && res[0][i] >= 0) continue;
        if (++bad <= 10) {
            char id[24];
            bench_id(i, id);
            printf("  DIFF %s (%s):", id, recs[i].kind == BK_LEADER ? "leader" : "member");
            for (int m = 0; m < nmodes; m++) printf(" %s=%s", names[m], tier_name(res[m][i]));
            putchar('\n');
        }
    }
    return bad;
}

static void pass_miss(const char *what, double have, double want, const char *unit)
{
    printf("  %-46s %10.2f %-4s target >= %.2f %-4s %s\n", what, have, unit, want, unit,
           have >= want ? "MET" : "MISSED");
}

int main(int argc, char **argv)
{
    opts o;
    if (parse_opts(argc, argv, &o) != 0) return 2;
    setvbuf(stdout, NULL, _IOLBF, 0); /* progress shows in a pipe too */

    q_program *p = compile(&o);
    if (!p) return 2;
    uint32_t k_member = prog_find_kind(p, "member", 6), k_leader = prog_find_kind(p, "leader", 6);
    if (k_member == QUY_NONE || k_leader == QUY_NONE) {
        fprintf(stderr, "quy-bench: ruleset '%s' has no kind member/leader\n", o.ruleset);
        return 2;
    }

    size_t n = o.n;
    bench_rec *recs = malloc(n * sizeof *recs);
    q_record **qrecs = calloc(n, sizeof *qrecs);
    int8_t *res_vm = malloc(n), *res_e2e = malloc(n), *res_c = malloc(n), *res_lua = malloc(n),
           *res_luac = malloc(n), *res_hook[3] = {malloc(n), malloc(n), malloc(n)};
    if (!recs || !qrecs || !res_vm || !res_e2e || !res_c || !res_lua || !res_luac || !res_hook[0] || !res_hook[1] ||
        !res_hook[2]) {
        fprintf(stderr, "quy-bench: out of memory for %zu records\n", n);
        return 2;
    }
    memset(res_e2e, -1, n);

    printf("quy-bench: ruleset %s@%s, %zu records (%s), seed %llu, best of %d\n", prog_str(p, p->name),
           prog_str(p, p->version), n, o.mix == MIX_MIXED ? "mixed member+leader" : o.mix == MIX_MEMBER ? "member" : "leader",
           (unsigned long long)o.seed, o.reps);

    /* ---- set-up (not timed as a mode) ---- */
    double t0 = now();
    bench_generate(recs, n, o.seed, o.mix);
    size_t jlen = 0;
    char *json = bench_jsonl(recs, n, &jlen);
    if (!json) {
        fprintf(stderr, "quy-bench: out of memory for the JSON Lines text\n");
        return 2;
    }
    double t_gen = now() - t0;
    if (o.dump) {
        FILE *f = fopen(o.dump, "wb");
        if (!f || fwrite(json, 1, jlen, f) != jlen || fclose(f) != 0) {
            fprintf(stderr, "quy-bench: %s: %s\n", o.dump, strerror(errno));
            return 2;
        }
    }
    size_t rejected = 0;
    double t_load = 0;
    size_t loaded = load_records(p, json, jlen, qrecs, n, &rejected, &t_load);
    size_t n_leader = 0;
    for (size_t i = 0; i < n; i++) n_leader += recs[i].kind == BK_LEADER;
    printf("  generated %zu records (%zu member, %zu leader), %.1f MB of JSON Lines (%.0f B/record) in %.2f s;\n"
           "  loaded %zu as q_records in %.2f s\n",
           n, n - n_leader, n_leader, (double)jlen / 1e6, (double)jlen / (double)n, t_gen, loaded, t_load);
    if (loaded != n || rejected) {
        fprintf(stderr, "quy-bench: %zu of %zu generated records were rejected by the loader\n", rejected, n);
        return 1;
    }
    for (size_t i = 0; i < n; i++)
        if (qrecs[i]->kind != (recs[i].kind == BK_LEADER ? k_leader : k_member)) {
            fprintf(stderr, "quy-bench: record %zu loaded with the wrong kind\n", i);
            return 1;
        }
    bench_lua *bl = bench_lua_open(o.lua, recs, n);
    if (!bl) return 2;
    FILE *sink = fopen("/dev/null", "w");
    if (!sink) {
        fprintf(stderr, "quy-bench: /dev/null: %s\n", strerror(errno));
        return 2;
    }
    static char sinkbuf[1 << 16];
    setvbuf(sink, sinkbuf, _IOFBF, sizeof sinkbuf);
    hook_session *hs_main = hook_session_new(p, NULL); /* one per thread: this one */
    if (!hs_main) return 2;
    if (o.write_only) {
        run_write_only(p, hs_main, qrecs, n, sink, o.reps);
        hook_session_free(hs_main);
        return 0;
    }

    /* ---- timed modes ---- */
    span best_vm = {1e30, 1e30}, best_c = {1e30, 1e30}, best_lua = {1e30, 1e30}, best_luac = {1e30, 1e30}, t;
    for (int r = 0; r < o.reps; r++) {
        span_best_cpu(&best_vm, run_vm(p, hs_main, qrecs, n, res_vm));
        span_best_cpu(&best_c, run_c(recs, n, res_c));
        t = span_start();
        bench_lua_run_calls(bl);
        span_best_cpu(&best_luac, span_end(t));
    }
    bench_lua_results(bl, res_luac);
    for (int r = 0; r < o.reps; r++) {
        t = span_start();
        bench_lua_run_loop(bl);
        span_best_cpu(&best_lua, span_end(t));
    }
    bench_lua_results(bl, res_lua);
    size_t rej_e2e = 0, rej_read = 0;
    span t_e2e = run_e2e(p, json, jlen, sink, res_e2e, n, true, true, &rej_e2e);
    span t_read = run_e2e(p, json, jlen, sink, res_e2e, n, false, false, &rej_read);
    span t_write = run_write(p, qrecs, n, sink); /* includes a vm_rate per record */
    static const char *const hook_file[3] = {"bench-lua-noop.quy", "bench-lua-lists.quy", "bench-lua-cond.quy"};
    static const char *const hook_what[3] = {"(e) + hook -> nil, 1 int", "(e') + hook, 2 lists", "(e'') + hook in a flag"};
    static const char *const hook_note[3] = {"adjust ... record by noop(tasks_total)", "grades(result_grades, other_grades, ..)",
                                             "flag when late(done, on_time): a bool"};
    span best_hook[3], best_hook_base[3];
    uint64_t hook_calls[3] = {0};
    uint32_t hook_states[3] = {0};
    bool hooks_ok = o.hooks;
    for (int h = 0; h < 3 && o.hooks; h++) {
        memset(res_hook[h], -1, n);
        hooks_ok &= run_hook_variant(&o, hook_file[h], p, qrecs, n, res_hook[h], &best_hook[h], &best_hook_base[h],
                                     &hook_calls[h], &hook_states[h]);
    }
    t_write.wall -= best_vm.wall;
    t_write.cpu -= best_vm.cpu;
    bench_cli_opts co = {QUY_BENCH_QUY, QUY_BENCH_BATCH_GEN, o.rulesets, o.ruleset, QUY_BENCH_DIFF_NEW,
                         o.seed, o.diff_n, o.batch_members, o.batch_cells};
    bench_cli_result cr;
    bool cli_ok = !o.cli || bench_cli_modes(&co, json, jlen, &cr);

    /* ---- report ---- */
    double dn = (double)n;
    printf("\n  %-26s %10s %9s %14s %9s %9s %6s\n", "mode", "records", "cpu s", "records/s", "ns/rec", "wall ns", "cpu");
    row("(a) vm (in memory)", n, best_vm, "vm_rate over loaded q_records");
    row("(b) end to end", n, t_e2e, "JSONL in -> vm_rate -> JSONL out");
    row("(c) hand-written C", n, best_c, "the physical limit");
    row("(d) Lua 5.4, Lua loop", n, best_lua, "rate_all(records, out)");
    row("(d') Lua 5.4, lua_call/rec", n, best_luac, "one lua_call from C per record");
    for (int h = 0; h < 3 && hooks_ok; h++) row(hook_what[h], n, best_hook[h], hook_note[h]);
    printf("  (times are this thread's CPU time, least of --reps; wall ns/rec beside it; cpu: CPU / wall,\n"
           "   '!' below 90 %%: the core was shared and the figures are unreliable)\n");

    printf("\n  ratios (time per record):\n");
    printf("    VM / C   = %6.2f   (the VM takes %.2fx the time of hand-written C)\n", best_vm.cpu / best_c.cpu,
           best_vm.cpu / best_c.cpu);
    printf("    Lua / VM = %6.2f   (the VM is %.2fx faster than plain Lua)\n", best_lua.cpu / best_vm.cpu,
           best_lua.cpu / best_vm.cpu);
    profile(p, hs_main, qrecs, n);

    if (hooks_ok) {
        printf("\n  hooks (central-124 + one Lua call per record; (a) calls none). Each variant runs\n"
               "  alternately with (a); cost of a call = (variant - (a)) / calls, in this thread's\n"
               "  CPU time, least of --reps each:\n");
        for (int h = 0; h < 3; h++) {
            double per = (best_hook[h].cpu - best_hook_base[h].cpu) * 1e9 / (double)(hook_calls[h] ? hook_calls[h] : 1);
            printf("    %-26s %7.1f ns per call  ((a) %.1f, variant %.1f ns/rec CPU; %llu calls/pass, %u Lua state%s)\n",
                   hook_what[h], per, best_hook_base[h].cpu * 1e9 / dn, best_hook[h].cpu * 1e9 / dn,
                   (unsigned long long)hook_calls[h], hook_states[h], hook_states[h] == 1 ? "" : "s");
        }
    }

    double parts[3] = {t_read.cpu, best_vm.cpu, t_write.cpu};
    const char *part_name[3] = {"read + check", "rate", "write"};
    int top = 0;
    for (int i = 1; i < 3; i++)
        if (parts[i] > parts[top]) top = i;
    printf("\n  end to end, by part (each timed alone):\n");
    printf("    read + check (rec_reader: re2c scanner, decode, declared checks)    %9.1f ns/rec %5.1f %%\n",
           t_read.cpu * 1e9 / dn, 100 * t_read.cpu / t_e2e.cpu);
    printf("    rate (vm_rate, = (a))                                               %9.1f ns/rec %5.1f %%\n",
           best_vm.cpu * 1e9 / dn, 100 * best_vm.cpu / t_e2e.cpu);
    printf("    write (out_result, JSON Lines: one buffer per record, one fwrite)   %9.1f ns/rec %5.1f %%\n",
           t_write.cpu * 1e9 / dn, 100 * t_write.cpu / t_e2e.cpu);
    printf("    -> end to end is bound by %s\n", part_name[top]);

    size_t dist[T_NOT_RATED + 1] = {0};
    for (size_t i = 0; i < n; i++)
        if (res_c[i] >= 0 && res_c[i] <= T_NOT_RATED) dist[res_c[i]]++;
    printf("\n  outcomes:");
    for (int k = T_NOT_RATED; k >= 0; k--) printf(" %s %zu (%.1f %%)", bench_tier_code[k], dist[k], 100.0 * (double)dist[k] / dn);
    printf("\n");

    int8_t *all[] = {res_vm, res_e2e, res_c, res_lua, res_luac, res_hook[0], res_hook[1], res_hook[2]};
    const char *names[] = {"vm", "e2e", "c", "lua", "lua_call", "hook", "hook_lists", "hook_cond"};
    size_t bad = agree(recs, n, all, names, hooks_ok ? 8 : 5);
    printf("  agreement: %zu disagreement%s among vm, e2e, c, lua, lua_call%s over %zu records%s\n", bad,
           bad == 1 ? "" : "s", hooks_ok ? ", the three hook variants" : "", n,
           rej_e2e ? " (end to end rejected some records)" : "");

    if (o.cli) bench_cli_report(&co, &cr);

    printf("\n  targets (issue 15; CPU time, so that other processes on the machine count less):\n");
    double vm_c = best_vm.cpu / best_c.cpu, lua_vm = best_lua.cpu / best_vm.cpu;
    printf("  %-46s %10.2f %-4s target <= %.2f %-4s %s\n", "(a)/(c) VM time over hand-written C", vm_c, "x",
           TARGET_VM_OVER_C, "x", vm_c <= TARGET_VM_OVER_C ? "MET" : "MISSED");
    pass_miss("(d)/(a) VM speed-up over plain Lua", lua_vm, TARGET_VM_OVER_LUA, "x");
    pass_miss("(b) end to end in process, records/s of CPU", dn / t_e2e.cpu / 1e3, TARGET_E2E_RPS / 1e3, "k/s");
    if (o.cli) bench_cli_targets(&co, &cr);

    bench_lua_close(bl);
    fclose(sink);
    for (size_t i = 0; i < n; i++) rec_free(qrecs[i]);
    free(qrecs);
    free(json);
    free(recs);
    free(res_vm);
    free(res_e2e);
    free(res_c);
    free(res_lua);
    free(res_luac);
    for (int h = 0; h < 3; h++) free(res_hook[h]);
    hook_session_free(hs_main);
    prog_free(p);
    return bad || rej_e2e || rej_read || (o.hooks && !hooks_ok) || !cli_ok ? 1 : 0;
}
