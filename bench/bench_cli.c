/*
 * bench_cli.c — the benchmark's command-line modes: `quy eval` end to end,
 * `quy diff` and the national batch, each run as its own process through
 * the `quy` the build produced, so they measure whatever reader, writer
 * and batch engine that binary has (the in-process modes in bench.c call
 * the library directly).
 *
 * A process is timed by wall clock and by its own CPU time (user + system,
 * from wait4), with its peak resident set.
 */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

bool bench_run(char *const argv[], const char *out_path, bench_proc *r)
{
    memset(r, 0, sizeof *r);
    r->status = -1;
    int sync[2]; /* closed by the child's exec: the parent waits for it */
    if (pipe2(sync, O_CLOEXEC) != 0) {
        fprintf(stderr, "quy-bench: pipe: %s\n", strerror(errno));
        return false;
    }
    fflush(NULL);
    double t0 = wall_now();
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "quy-bench: fork: %s\n", strerror(errno));
        close(sync[0]);
        close(sync[1]);
        return false;
    }
    if (pid == 0) {
        close(sync[0]);
        int out = open(out_path ? out_path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int err = open("/dev/null", O_WRONLY);
        if (out < 0 || err < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) _exit(127);
        execv(argv[0], argv);
        _exit(127);
    }
    close(sync[1]);
    char ch;
    while (read(sync[0], &ch, 1) < 0 && errno == EINTR) continue;
    close(sync[0]);
    /* The peak RSS: ru_maxrss of a forked child counts the parent's pages
     * it shared before exec (the records this process holds), so read the
     * child's own high-water mark (VmHWM, reset by exec) every 10 ms while
     * it runs (after its exec); the last reading is at most 10 ms before
     * it exits. */
    int st = 0;
    struct rusage ru;
    char status[64];
    snprintf(status, sizeof status, "/proc/%d/status", (int)pid);
    for (;;) {
        pid_t w = wait4(pid, &st, WNOHANG, &ru);
        if (w == pid) break;
        if (w < 0 && errno != EINTR) {
            fprintf(stderr, "quy-bench: wait4: %s\n", strerror(errno));
            return false;
        }
        FILE *f = fopen(status, "r");
        char line[256];
        while (f && fgets(line, sizeof line, f))
            if (strncmp(line, "VmHWM:", 6) == 0) {
                long kb = strtol(line + 6, NULL, 10);
                if (kb > r->maxrss_kb) r->maxrss_kb = kb;
            }
        if (f) fclose(f);
        nanosleep(&(struct timespec){0, 10000000}, NULL);
    }
    r->wall = wall_now() - t0;
    r->cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec +
             (double)ru.ru_stime.tv_usec * 1e-6;
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    return true;
}

/* Lines in a file (records of JSON Lines), or 0. */
size_t bench_count_lines(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    size_t n = 0;
    char buf[1 << 16];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0)
        for (size_t i = 0; i < got; i++) n += buf[i] == '\n';
    fclose(f);
    return n;
}

/* ---------------------------------------------------------------------
 * The three command-line modes
 * ------------------------------------------------------------------- */

#define BATCH_FULL 5555000.0 /* records of the default national batch */
#define DIFF_FULL 1000000.0

/* DIR/NAME into buf; false (said on stderr) when it does not fit: a cut
 * path would name another file. */
static bool cli_path(char *buf, size_t size, const char *dir, const char *name)
{
    int n = snprintf(buf, size, "%s/%s", dir, name);
    if (n >= 0 && (size_t)n < size) return true;
    fprintf(stderr, "quy-bench: the path %s/%s is longer than %zu bytes: use a shorter $TMPDIR\n", dir, name, size - 1);
    return false;
}

/* (f): quy eval over the records already generated (json, jlen). */
static void cli_eval(const bench_cli_opts *o, const char *dir, const char *json, size_t jlen, bench_cli_result *r)
{
    char in[1024];
    if (!cli_path(in, sizeof in, dir, "records.jsonl")) return;
    FILE *f = fopen(in, "wb");
    if (!f || fwrite(json, 1, jlen, f) != jlen || fclose(f) != 0) {
        fprintf(stderr, "quy-bench: %s: %s\n", in, strerror(errno));
        return;
    }
    char *argv[] = {(char *)o->quy, "eval", "--jobs", "1", "--ruleset", (char *)o->ruleset, "--rulesets",
                    (char *)o->rulesets, "--format", "jsonl", in, NULL};
    r->eval_n = bench_count_lines(in);
    r->eval_ok = bench_run(argv, NULL, &r->eval) && r->eval.status == 0;
    argv[3] = "2"; /* (f'): the same on two threads (lib/jobs.c) */
    r->eval2_ok = bench_run(argv, NULL, &r->eval2) && r->eval2.status == 0;
    unlink(in);
}

/* (g): quy gen, then quy diff OLD NEW over its records. */
static void cli_diff(const bench_cli_opts *o, const char *dir, bench_cli_result *r)
{
    char corpus[1024], report[1024], count[32], seed[32];
    if (!cli_path(corpus, sizeof corpus, dir, "corpus.jsonl") || !cli_path(report, sizeof report, dir, "diff.txt"))
        return;
    snprintf(count, sizeof count, "%zu", o->diff_n);
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)o->seed);
    char *gen[] = {(char *)o->quy, "gen", "--rulesets", (char *)o->rulesets, "--ruleset", "central-124", "--count",
                   count, "--seed", seed, "-o", corpus, NULL};
    bench_proc g;
    if (!bench_run(gen, NULL, &g) || g.status != 0) {
        fprintf(stderr, "quy-bench: quy gen failed (exit %d)\n", g.status);
        unlink(corpus);
        return;
    }
    r->diff_n = bench_count_lines(corpus);
    char *diff[] = {(char *)o->quy, "diff", "--rulesets", (char *)o->rulesets, "central-124", (char *)o->diff_new,
                    corpus, "-o", report, NULL};
    r->diff_ok = bench_run(diff, NULL, &r->diff) && r->diff.status == 0;
    unlink(corpus);
    unlink(report);
}

/* (h): quy-batch-gen, then quy eval of the whole batch. */
static void cli_batch(const bench_cli_opts *o, const char *dir, bench_cli_result *r)
{
    char in[1024], members[32], cells[32], seed[32];
    if (!cli_path(in, sizeof in, dir, "batch.jsonl")) return;
    snprintf(members, sizeof members, "%zu", o->batch_members);
    snprintf(cells, sizeof cells, "%zu", o->batch_cells);
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)o->seed);
    char *gen[] = {(char *)o->batch_gen, "--members", members, "--cells", cells, "--seed", seed, "-o", in, NULL};
    bench_proc g;
    if (!bench_run(gen, NULL, &g) || g.status != 0) {
        fprintf(stderr, "quy-bench: quy-batch-gen failed (exit %d)\n", g.status);
        unlink(in);
        return;
    }
    r->batch_n = bench_count_lines(in);
    char *argv[] = {(char *)o->quy, "eval", "--jobs", "2", "--ruleset", "central-124", "--rulesets",
                    (char *)o->rulesets, "--format", "jsonl", in, NULL};
    r->batch_ok = bench_run(argv, NULL, &r->batch) && r->batch.status == 0;
    unlink(in);
}

bool bench_cli_modes(const bench_cli_opts *o, const char *json, size_t jlen, bench_cli_result *r)
{
    memset(r, 0, sizeof *r);
    const char *tmp = getenv("TMPDIR");
    char dir[920];
    snprintf(dir, sizeof dir, "%.880s/quy-bench.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        fprintf(stderr, "quy-bench: mkdtemp %s: %s\n", dir, strerror(errno));
        return false;
    }
    printf("  running the command-line modes (%s) ...\n", o->quy);
    cli_eval(o, dir, json, jlen, r);
    if (o->diff_n) cli_diff(o, dir, r);
    if (o->batch_members) cli_batch(o, dir, r);
    rmdir(dir);
    return r->eval_ok && r->eval2_ok && (!o->diff_n || r->diff_ok) && (!o->batch_members || r->batch_ok);
}

static void cli_row(const char *mode, size_t n, const bench_proc *p, bool ok, const char *note)
{
    if (!ok) {
        printf("  %-26s %10zu  FAILED (exit %d)  %s\n", mode, n, p->status, note);
        return;
    }
    printf("  %-26s %10zu %9.3f %14.0f %9.1f %9.3f %8.1f  %s\n", mode, n, p->cpu, (double)n / p->cpu,
           p->cpu * 1e9 / (double)n, p->wall, (double)p->maxrss_kb / 1024.0, note);
}

static void target(const char *what, double have, const char *op, double want, const char *unit, bool met,
                   const char *how)
{
    printf("  %-46s %10.2f %-4s target %s %.2f %-4s %s%s\n", what, have, unit, op, want, unit, met ? "MET" : "MISSED",
           how);
}

void bench_cli_report(const bench_cli_opts *o, const bench_cli_result *r)
{
    printf("\n  command-line modes (one process each, whatever reader, writer and batch engine the binary has):\n");
    printf("  %-26s %10s %9s %14s %9s %9s %8s\n", "mode", "records", "cpu s", "records/s", "ns/rec", "wall s", "peak MB");
    cli_row("(f) quy eval, JSONL->JSONL", r->eval_n, &r->eval, r->eval_ok,
            "--jobs 1: the same records as (a)-(d), from a file");
    cli_row("(f') quy eval --jobs 2", r->eval_n, &r->eval2, r->eval2_ok, "the same on two threads (lib/jobs.c)");
    if (r->eval_ok && r->eval2_ok)
        printf("  %-26s wall %.2fx faster, CPU %.2fx (--jobs 1 / --jobs 2; a shared machine lowers the first)\n",
               "(f)/(f') --jobs 2", r->eval.wall / r->eval2.wall, r->eval.cpu / r->eval2.cpu);
    if (o->diff_n)
        cli_row("(g) quy diff", r->diff_n, &r->diff, r->diff_ok, "central-124 vs fixture-variant, quy gen records");
    if (o->batch_members)
        cli_row("(h) batch: quy eval", r->batch_n, &r->batch, r->batch_ok,
                "--jobs 2, quy-batch-gen: roll-ups + 20 % quotas");
}

void bench_cli_targets(const bench_cli_opts *o, const bench_cli_result *r)
{
    if (r->eval_ok && r->eval_n)
        target("(f) end to end, records/s of CPU (one core)", (double)r->eval_n / r->eval.cpu / 1e3, ">=",
               TARGET_E2E_RPS / 1e3, "k/s", (double)r->eval_n / r->eval.cpu >= TARGET_E2E_RPS, "");
    if (r->eval2_ok && r->eval_n)
        target("(f') end to end --jobs 2, records/s of wall", (double)r->eval_n / r->eval2.wall / 1e3, ">=",
               TARGET_E2E2_RPS / 1e3, "k/s", (double)r->eval_n / r->eval2.wall >= TARGET_E2E2_RPS,
               "  (wall time: needs an idle machine)");
    if (o->diff_n && r->diff_ok && r->diff_n) {
        double s = r->diff.cpu * DIFF_FULL / (double)r->diff_n;
        target("(g) quy diff of 1 M records, CPU s", s, "<", TARGET_DIFF_S, "s", s < TARGET_DIFF_S,
               r->diff_n < DIFF_FULL ? "  (projected linearly from --diff-n)" : "");
    }
    if (o->batch_members && r->batch_ok && r->batch_n) {
        double k = BATCH_FULL / (double)r->batch_n;
        double s = r->batch.cpu * k, mb = (double)r->batch.maxrss_kb / 1024.0;
        const char *how = r->batch_n < BATCH_FULL ? "  (projected linearly from --batch-members)" : "";
        target("(h) national batch (5.5 M), CPU s", s, "<", TARGET_BATCH_S, "s", s < TARGET_BATCH_S, how);
        target("(h) national batch (5.5 M), wall s, --jobs 2", r->batch.wall * k, "<", TARGET_BATCH_S, "s",
               r->batch.wall * k < TARGET_BATCH_S, how);
        if (r->batch_n >= BATCH_FULL)
            target("(h) national batch (5.5 M), peak RSS", mb, "<", TARGET_BATCH_MB, "MB", mb < TARGET_BATCH_MB, "");
        else
            printf("  %-46s %10.2f %-4s at %zu records (memory does not scale linearly: run the full batch)\n",
                   "(h) batch peak RSS", mb, "MB", r->batch_n);
    }
}
