/*
 * batch_mem.c — quy-batch-mem: what the batch engine (runtime/batch.c)
 * holds per record, and what it decided, for one input file.
 *
 *   quy-batch-mem [--ruleset NAME] [--rulesets DIR] FILE
 *
 * Does what `quy eval` does before writing (batch_new without kept
 * records, batch_read, batch_run), and reports
 *   - the heap the batch holds after reading and after the batch steps
 *     (glibc mallinfo2: bytes in use in the arenas + mmapped blocks, so a
 *     growing array counts with its whole capacity), per record: the
 *     "compact state" — one b_item per record, the interned ids, the flags,
 *     the collectives kept whole until their roll-up, the groups;
 *   - the resident set (VmRSS, VmHWM) at the same points;
 *   - the time of each phase (read + rate, batch steps);
 *   - records rated / rejected, the eligible and final tier counts per
 *     kind, and how many the quota demoted (so that a benchmark input can
 *     be checked: no rejection, the quota bites).
 * Exit status: 0, 1 if any record was rejected, 2 on a usage / set-up error.
 * A benchmark tool: never run by ctest (bench/README.md).
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "batch.h"
#include "compiler.h"
#include "program.h"

#ifndef QUY_SOURCE_RULESETS
#define QUY_SOURCE_RULESETS "rulesets"
#endif

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static size_t heap(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

/* VmRSS or VmHWM from /proc/self/status, in bytes (0 if unknown). */
static size_t proc_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return 0;
    char buf[256];
    size_t kb = 0, n = strlen(key);
    while (fgets(buf, sizeof buf, f))
        if (!strncmp(buf, key, n) && buf[n] == ':') {
            kb = (size_t)strtoull(buf + n + 1, NULL, 10);
            break;
        }
    fclose(f);
    return kb * 1024;
}

static double mb(size_t b) { return (double)b / (1024.0 * 1024.0); }

int main(int argc, char **argv)
{
    const char *ruleset = "central-124", *dir = QUY_SOURCE_RULESETS, *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--ruleset") && i + 1 < argc)
            ruleset = argv[++i];
        else if (!strcmp(argv[i], "--rulesets") && i + 1 < argc)
            dir = argv[++i];
        else if (argv[i][0] != '-' && !path)
            path = argv[i];
        else {
            fprintf(stderr, "usage: quy-batch-mem [--ruleset NAME] [--rulesets DIR] FILE\n");
            return 2;
        }
    }
    if (!path) {
        fprintf(stderr, "usage: quy-batch-mem [--ruleset NAME] [--rulesets DIR] FILE\n");
        return 2;
    }
    const char *search[1] = {dir};
    compiler *c = compiler_new(search, 1);
    q_program *p = c ? compiler_compile(c, ruleset) : NULL;
    if (!p) {
        fprintf(stderr, "quy-batch-mem: cannot compile ruleset '%s' (search dir %s)\n", ruleset, dir);
        if (c) diag_print(compiler_diags(c), stderr, false);
        compiler_free(c);
        return 2;
    }
    compiler_free(c);
    FILE *in = fopen(path, "rb");
    if (!in) {
        perror(path);
        prog_free(p);
        return 2;
    }

    size_t h0 = heap(), r0 = proc_kb("VmRSS");
    double t0 = now();
    batch *b = batch_new(p, false);
    rec_error err;
    if (!b || batch_read(b, in, path, &err) != 0) {
        fprintf(stderr, "quy-batch-mem: cannot read %s\n", path);
        return 2;
    }
    fclose(in);
    double t1 = now();
    size_t h1 = heap(), r1 = proc_kb("VmRSS");
    batch_run(b);
    double t2 = now();
    size_t h2 = heap(), r2 = proc_kb("VmRSS"), hwm = proc_kb("VmHWM");

    size_t n = batch_count(b), rated = 0, rejected = 0, demoted = 0, capped = 0, rolled = 0;
    size_t elig[64][QO__COUNT], fin[64][QO__COUNT];
    memset(elig, 0, sizeof elig);
    memset(fin, 0, sizeof fin);
    const rec_error *first_err = NULL;
    for (size_t i = 0; i < n; i++) {
        batch_view v;
        batch_get(b, i, &v);
        if (v.status == BATCH_REJECTED) {
            if (!rejected++) first_err = v.error;
            if (rejected <= 5 && v.error)
                fprintf(stderr, "%s:%u: rejected '%s' [%s] %s\n", v.error->file, v.error->line, v.error->id,
                        v.error->code, v.error->message);
            continue;
        }
        rated++;
        uint32_t k = v.kind < 64 ? v.kind : 63;
        if (v.eligible < QO__COUNT) elig[k][v.eligible]++;
        if (v.res.outcome < QO__COUNT) fin[k][v.res.outcome]++;
        demoted += (v.steps & BS_QUOTA_DEMOTED) != 0;
        capped += (v.steps & BS_CAPPED) != 0;
        rolled += (v.steps & BS_ROLLUP) != 0;
    }
    double t3 = now();
    (void)first_err;

    printf("records           %zu (rated %zu, rejected %zu)\n", n, rated, rejected);
    printf("read + rate       %.2f s (%.0f records/s)   batch steps %.2f s   results walk %.2f s\n", t1 - t0,
           (double)n / (t1 - t0), t2 - t1, t3 - t2);
    printf("heap after read   %9.1f MB  %6.1f bytes/record\n", mb(h1 - h0), (double)(h1 - h0) / (double)(n ? n : 1));
    printf("heap after steps  %9.1f MB  %6.1f bytes/record\n", mb(h2 - h0), (double)(h2 - h0) / (double)(n ? n : 1));
    printf("RSS               %9.1f MB before, %.1f MB after read, %.1f MB after steps, peak %.1f MB\n", mb(r0),
           mb(r1), mb(r2), mb(hwm));
    printf("roll-ups %zu, capped %zu, demoted by a quota %zu\n", rolled, capped, demoted);
    printf("%-12s %-9s %10s %10s %10s %10s %10s %10s\n", "kind", "", "htxsnv", "httnv", "htnv", "khtnv", "not_rated",
           "deferred");
    for (uint32_t k = 0; k < p->nkinds && k < 64; k++) {
        size_t tot = 0;
        for (int t = 0; t < QO__COUNT; t++) tot += elig[k][t];
        if (!tot) continue;
        static const int order[QO__COUNT] = {QO_HTXSNV, QO_HTTNV, QO_HTNV, QO_KHTNV, QO_NOT_RATED, QO_DEFERRED};
        for (int w = 0; w < 2; w++) {
            printf("%-12s %-9s", w ? "" : prog_str(p, p->kinds[k].name), w ? "final" : "eligible");
            for (int t = 0; t < QO__COUNT; t++) {
                size_t x = w ? fin[k][order[t]] : elig[k][order[t]];
                printf(" %10zu", x);
            }
            printf("\n");
        }
        printf("%-12s %-9s", "", "%");
        for (int t = 0; t < QO__COUNT; t++) printf(" %9.2f%%", 100.0 * (double)fin[k][order[t]] / (double)tot);
        printf("\n");
    }
    batch_free(b);
    prog_free(p);
    return rejected ? 1 : 0;
}
