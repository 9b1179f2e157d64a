/*
 * stream_rss.c — memory stays bounded on an endless stream: SIZE bytes of
 * JSON Lines records (generated on the fly through fopencookie, no file)
 * are read and checked by one rec_reader, then a single line of SIZE/8
 * bytes with no newline; the peak RSS (VmHWM) must stay under LIMIT MB.
 * What grows with the stream is only the set of ids seen (duplicate
 * detection needs it): ~30 bytes per record, counted in the bound.
 * usage: stream_rss [SIZE_MB=1024] [LIMIT_MB=160]
 *
 *        stream_rss --eval QUY RULESETS SIZE_MB LIMIT_MB
 * pipes SIZE_MB of central-124 member records (generated here, one unit,
 * unique ids) into `QUY eval --ruleset central-124 -` and checks, from
 * wait4's ru_maxrss, that its peak RSS stays under LIMIT_MB and that every
 * record was rated (exit 0). `quy eval` rates its input as one batch (the
 * quotas need every record), so what it keeps grows with the number of
 * records (a result slot and an id each, ~250 bytes), never with their
 * bytes: LIMIT_MB checks that.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rec_fixture.h"
#include "record.h"

typedef struct gen {
    unsigned long long left; /* bytes still to produce */
    unsigned long long n;    /* records so far */
    char line[1024];
    size_t len, pos;         /* the current line, and how much of it was given */
    int mode;                /* 0: records, 1: one endless line */
} gen;

static ssize_t gen_read(void *c, char *buf, size_t size)
{
    gen *g = c;
    size_t out = 0;
    while (out < size && (g->left > 0 || g->pos < g->len)) { /* a line is always finished */
        if (g->pos == g->len) {
            if (!g->left) break;
            if (g->mode == 1) {
                memset(g->line, ' ', sizeof g->line);
                g->line[0] = g->n++ ? ' ' : '{';
                g->len = sizeof g->line;
            } else {
                g->len = (size_t)snprintf(g->line, sizeof g->line,
                                          "{\"id\":\"r%llu\",\"kind\":\"member\",\"tasks_total\":10,\"tasks_completed\":%llu,"
                                          "\"grades\":[\"tot\",\"xuat_sac\",\"tot\"],\"exemplary\":\"guong_mau\","
                                          "\"discipline_cases\":[{\"who\":\"member\",\"corruption\":false}],"
                                          "\"review_held_on\":\"2024-12-15\",\"pct\":66.67,\"score\":89.99,"
                                          "\"note\":\"Chi bộ số %llu — %0300d\",\"dossier\":[\"bien_ban\",\"phieu\"]}\n",
                                          g->n, g->n % 11, g->n % 97, 0);
                g->n++;
            }
            g->pos = 0;
        }
        size_t k = g->len - g->pos;
        if (k > size - out) k = size - out;
        memcpy(buf + out, g->line + g->pos, k);
        g->pos += k;
        out += k;
        g->left -= k < g->left ? k : g->left;
    }
    return (ssize_t)out;
}

static long vm_hwm_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char l[256];
    long kb = -1;
    while (f && fgets(l, sizeof l, f))
        if (!strncmp(l, "VmHWM:", 6)) kb = strtol(l + 6, NULL, 10);
    if (f) fclose(f);
    return kb;
}

static int run(q_program *p, gen *g, size_t *good, size_t *bad, char *last_code, size_t codesz)
{
    cookie_io_functions_t io = {gen_read, NULL, NULL, NULL};
    FILE *in = fopencookie(g, "r", io);
    if (!in) return -1;
    rec_reader *r = rec_reader_open(p, in, "stream", REC_JSONL);
    q_record *rec;
    rec_error err;
    int rc;
    while ((rc = rec_reader_next(r, &rec, &err)) != 0) {
        if (rc > 0) (*good)++;
        else {
            (*bad)++;
            snprintf(last_code, codesz, "%s", err.code);
        }
    }
    rec_reader_free(r);
    fclose(in);
    return 0;
}

/* A central-124 member record (record-01's first), with a unique id. */
static int eval_pipe(const char *quy, const char *rulesets, unsigned long long mb, long limit)
{
    int fds[2];
    if (pipe(fds) != 0) return 1;
    pid_t pid = fork();
    if (pid < 0) return 1;
    if (pid == 0) {
        dup2(fds[0], 0);
        close(fds[0]);
        close(fds[1]);
        if (!freopen("/dev/null", "w", stdout)) _exit(127);
        execl(quy, quy, "eval", "--rulesets", rulesets, "--ruleset", "central-124", "--format", "jsonl", "-",
              (char *)NULL);
        _exit(127);
    }
    close(fds[0]);
    signal(SIGPIPE, SIG_IGN);
    FILE *out = fdopen(fds[1], "w");
    unsigned long long bytes = 0, n = 0;
    while (out && bytes < (mb << 20)) {
        int w = fprintf(out,
                        "{\"id\": \"S-%llu\", \"kind\": \"member\", \"period\": \"2024\", \"unit\": \"TCD-0002\", "
                        "\"months_in_role\": 87, \"result_grades\": [\"tot\", \"xuat_sac\", \"tot\"], \"other_grades\": "
                        "[\"tot\", \"trung_binh\", \"tot\", \"tot\"], \"outstanding\": false, \"tasks_total\": 6, "
                        "\"tasks_completed\": 6, \"tasks_on_time\": 6, \"tasks_exceeded\": %llu, \"exempt\": false, "
                        "\"suspended\": false, \"degraded\": false, \"prohibited_conduct\": false, \"exemplary_breach\": "
                        "false, \"disciplined\": false, \"self_remedied\": false, \"peer_group\": \"Chi bộ %llu\"}\n",
                        n, n % 4, n % 50);
        if (w < 0) break;
        bytes += (unsigned long long)w;
        n++;
    }
    if (out) fclose(out);
    int status = 0;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0) return 1;
    printf("stream_rss --eval: %llu MB (%llu records) through quy eval: exit %d, peak RSS %ld kB (%.0f B/record)\n",
           bytes >> 20, n, WIFEXITED(status) ? WEXITSTATUS(status) : -1, ru.ru_maxrss,
           n ? ru.ru_maxrss * 1024.0 / (double)n : 0.0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        printf("FAIL: every record should be rated (exit 0)\n");
        return 1;
    }
    if (ru.ru_maxrss > limit * 1024) {
        printf("FAIL: peak RSS over the bound of %ld MB\n", limit);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 6 && !strcmp(argv[1], "--eval"))
        return eval_pipe(argv[2], argv[3], strtoull(argv[4], NULL, 10), strtol(argv[5], NULL, 10));
    unsigned long long mb = argc > 1 ? strtoull(argv[1], NULL, 10) : 1024;
    long limit = argc > 2 ? strtol(argv[2], NULL, 10) : 160;
    q_program *p = fx_program();
    gen g = {mb << 20, 0, {0}, 0, 0, 0};
    size_t good = 0, bad = 0;
    char code[32] = "";
    run(p, &g, &good, &bad, code, sizeof code);
    long after_records = vm_hwm_kb();
    printf("stream_rss: %llu MB of records: %zu rated, %zu rejected; VmHWM %ld kB\n", mb, good, bad, after_records);
    if (bad || good != g.n) {
        printf("FAIL: every generated record should be valid (last error: %s)\n", code);
        return 1;
    }
    gen g2 = {(mb << 20) / 8, 0, {0}, 0, 0, 1};
    size_t good2 = 0, bad2 = 0;
    run(p, &g2, &good2, &bad2, code, sizeof code);
    long after_line = vm_hwm_kb();
    printf("stream_rss: one line of %llu MB without a newline: %zu rejected (%s); VmHWM %ld kB\n", mb / 8, bad2, code,
           after_line);
    fx_free(p);
    if (bad2 != 1 || strcmp(code, "limit")) {
        printf("FAIL: the long line should be one `limit` rejection\n");
        return 1;
    }
    if (after_line > limit * 1024) {
        printf("FAIL: peak RSS %ld kB is over the bound of %ld MB\n", after_line, limit);
        return 1;
    }
    printf("stream_rss: peak RSS within %ld MB\n", limit);
    return 0;
}
