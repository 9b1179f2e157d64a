/*
 * test_threads.c — one compiled ruleset shared by 4 threads, each with its
 * own quy_session, rating the same records at the same time (alone with
 * quy_rate_json, and as a batch from memory, with explanations). Every
 * thread's answers must equal a single-threaded run's, byte for byte.
 * Built and run under ThreadSanitizer by scripts/test.sh (build-tsan), and
 * plainly in every other build.
 *
 *   test_threads SOURCE_DIR
 *
 * Rulesets: central-124 (it declares Lua hooks: each session has its own
 * Lua state) and tests/golden/eval/aggregates/rs/agg (no hooks).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quy.h"

#define NTHREADS 4
#define ROUNDS 3

typedef struct job {
    const quy_ruleset *rs;
    const char *records; /* JSON Lines */
    char *out;           /* what this thread saw */
    size_t len;
    int failed;
} job;

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (!s || fread(s, 1, (size_t)n, f) != (size_t)n) exit(2);
    s[n] = 0;
    fclose(f);
    return s;
}

static void describe(FILE *o, const quy_result *r)
{
    fprintf(o, "%s %s %s %s %s [", quy_result_id(r), quy_result_tier(r) ?: "-", quy_result_eligible_tier(r) ?: "-",
            quy_result_rule(r) ?: "-", quy_result_error_code(r) ?: "-");
    for (size_t i = 0; i < quy_result_flag_count(r); i++) {
        const char *d = quy_result_flag_detail(r, i);
        fprintf(o, " %s%s%s", quy_result_flag(r, i), d ? "=" : "", d ? d : "");
    }
    fprintf(o, " ]\n");
    char *text = NULL;
    if (quy_result_status(r) == QUY_OK && quy_result_explain_text(r, 2, &text) == QUY_OK) fputs(text, o);
    quy_free(text);
}

static void *run(void *arg)
{
    job *j = arg;
    FILE *o = open_memstream(&j->out, &j->len);
    quy_session *s;
    if (!o || quy_session_new(j->rs, &s) != QUY_OK) {
        j->failed = 1;
        return NULL;
    }
    for (int round = 0; round < ROUNDS; round++) {
        /* each record alone */
        for (const char *line = j->records; *line;) {
            const char *end = strchr(line, '\n');
            size_t n = end ? (size_t)(end - line) : strlen(line);
            const quy_result *r;
            if (n) {
                quy_rate_json(s, line, n, &r);
                describe(o, r);
            }
            line += n + (end != NULL);
        }
        /* all of them as one batch */
        quy_batch *b;
        if (quy_batch_new(s, QUY_BATCH_EXPLAIN, &b) != QUY_OK ||
            quy_batch_read(b, j->records, strlen(j->records), "records.jsonl") != QUY_OK || quy_batch_run(b) != QUY_OK) {
            j->failed = 1;
            break;
        }
        for (size_t i = 0; i < quy_batch_count(b); i++) describe(o, quy_batch_result(b, i));
        quy_batch_free(b);
    }
    quy_session_free(s);
    fclose(o);
    return NULL;
}

static int check(const char *src, const char *dir, const char *name, const char *records_file)
{
    quy_loader *ld;
    quy_ruleset *rs;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", src, dir);
    if (quy_loader_new(&ld) != QUY_OK || quy_loader_set_defaults(ld, 0) != QUY_OK || quy_loader_add_dir(ld, path) ||
        quy_loader_load(ld, name, &rs, NULL) != QUY_OK) {
        fprintf(stderr, "test_threads: %s: %s\n", name, quy_errmsg());
        return 1;
    }
    snprintf(path, sizeof path, "%s/%s", src, records_file);
    char *records = slurp(path);
    job solo = {rs, records, NULL, 0, 0};
    run(&solo); /* the single-threaded answer */
    job jobs[NTHREADS];
    pthread_t t[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        jobs[i] = (job){rs, records, NULL, 0, 0};
        if (pthread_create(&t[i], NULL, run, &jobs[i]) != 0) return 1;
    }
    int bad = solo.failed || solo.len == 0;
    for (int i = 0; i < NTHREADS; i++) {
        pthread_join(t[i], NULL);
        if (jobs[i].failed || jobs[i].len != solo.len || memcmp(jobs[i].out, solo.out, solo.len) != 0) {
            fprintf(stderr, "test_threads: %s: thread %d answered differently from the single-threaded run\n", name, i);
            bad = 1;
        }
        free(jobs[i].out);
    }
    printf("%s: %d threads x %d rounds, %zu bytes of results each: %s\n", name, NTHREADS, ROUNDS, solo.len,
           bad ? "DIFFER" : "identical");
    free(solo.out);
    free(records);
    quy_ruleset_free(rs);
    quy_loader_free(ld);
    return bad;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_threads SOURCE_DIR\n");
        return 2;
    }
    int bad = check(argv[1], "rulesets", "central-124", "rulesets/central-124/samples/records.jsonl");
    bad |= check(argv[1], "tests/golden/eval/aggregates/rs", "agg", "tests/golden/eval/aggregates/records.jsonl");
    return bad;
}
