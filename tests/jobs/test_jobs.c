/*
 * test_jobs.c — quy_batch_set_jobs: a batch read on 4 threads gives
 * exactly what it gives on one, byte for byte: every result (tier,
 * eligible tier, rule, flags with hook details, error code), the JSON Lines
 * (with explanations) and CSV written, the warnings in order, the
 * per-group summary; and quy_writer_batch (formatting on the batch's
 * threads) writes exactly what quy_writer_result does for each result,
 * and quy_rate_stream_jobs on 4 threads what quy_rate_stream does.
 *
 *   test_jobs SOURCE_DIR
 *
 * The corpus, per ruleset: its sample records and the records of its hook
 * test cases (rulesets using rulesets/hooks/kiem_nhiem.lua), repeated with
 * new ids to span many blocks, with invalid JSON, blank and CRLF lines,
 * unknown fields (inside and after a duplicate id), duplicate ids (with a
 * later error too), a wrong type, a missing kind, and lines past
 * --max-line in one run. Batch steps (roll-ups, caps, quotas) run over it.
 * Also run under ThreadSanitizer by scripts/test.sh (build-tsan).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quy.h"

#define ROUNDS 100

static int failures;

static void on_warning(void *ctx, const char *file, unsigned line, const char *id, const char *message)
{
    fprintf((FILE *)ctx, "W %s:%u [%s] %s\n", file, line, id, message);
}

static void add_line(FILE *o, json_t *rec, const char *suffix)
{
    json_t *c = json_deep_copy(rec);
    const char *id = json_string_value(json_object_get(c, "id"));
    if (id && suffix) {
        char buf[300];
        snprintf(buf, sizeof buf, "%s%s", id, suffix);
        json_object_set_new(c, "id", json_string(buf));
    }
    char *s = json_dumps(c, JSON_COMPACT | JSON_PRESERVE_ORDER);
    fprintf(o, "%s\n", s);
    free(s);
    json_decref(c);
}

/* The records of a JSON Lines file, or of the "record" members of test cases. */
static size_t load(const char *path, json_t *into)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    char *line = NULL;
    size_t cap = 0, n = 0;
    while (getline(&line, &cap, f) > 0) {
        json_t *o = json_loads(line, 0, NULL);
        if (!o) continue;
        json_t *r = json_object_get(o, "record"), *batch = json_object_get(o, "batch");
        size_t bi;
        json_t *br;
        if (json_is_object(r)) json_array_append(into, r);
        else if (json_is_array(batch)) json_array_foreach(batch, bi, br) json_array_append(into, br);
        else if (!json_object_get(o, "case")) json_array_append(into, o);
        json_decref(o);
        n++;
    }
    free(line);
    fclose(f);
    return n;
}

static char *corpus(const char *src, const char *dir, const char *rs, const char *extra, int rounds, size_t *len)
{
    char path[1024];
    json_t *recs = json_array();
    snprintf(path, sizeof path, "%s/%s/%s/samples/records.jsonl", src, dir, rs);
    load(path, recs);
    snprintf(path, sizeof path, "%s/%s/%s/tests/hooks.jsonl", src, dir, rs);
    load(path, recs);
    if (extra) { /* the records of some batch test cases */
        snprintf(path, sizeof path, "%s/%s/%s/tests/%s", src, dir, rs, extra);
        load(path, recs);
    }
    char *text = NULL;
    FILE *o = open_memstream(&text, len);
    for (int r = 0; r < rounds; r++) {
        char suffix[32];
        snprintf(suffix, sizeof suffix, "-r%d", r);
        size_t i;
        json_t *rec;
        json_array_foreach(recs, i, rec) add_line(o, rec, r ? suffix : NULL);
        if (r == 1) { /* a duplicate of round 0's first record, as written; then with a bad field after the id */
            add_line(o, json_array_get(recs, 0), NULL);
            json_t *c = json_deep_copy(json_array_get(recs, 1));
            json_object_set_new(c, "zz_unknown_after_dup", json_integer(1));
            json_object_set_new(c, "months_in_role", json_string("many"));
            add_line(o, c, NULL);
            json_decref(c);
        }
        if (r % 7 == 3) {
            fputs("{\"id\": \"BAD-JSON\", \"kind\": \"member\", \n", o); /* invalid JSON */
            fputs("   \n\n", o);                                          /* blank lines */
            fprintf(o, "{\"id\": \"NOKIND-%d\", \"period\": \"2024\"}\r\n", r);
            fprintf(o, "{\"id\": \"WRONG-%d\", \"kind\": \"member\", \"tasks_total\": \"abc\"}\n", r);
            json_t *c = json_deep_copy(json_array_get(recs, 0));
            json_object_set_new(c, "zz_unknown_field", json_integer(r));
            json_object_set_new(c, "zz_other_unknown", json_integer(r));
            add_line(o, c, r == 3 ? "-unk" : "-unk2");
            json_decref(c);
        }
    }
    fclose(o);
    json_decref(recs);
    return text;
}

static void compare(const char *what, const char *a, size_t na, const char *b, size_t nb);

/* Everything a batch read with `jobs` threads gives, as text; also checks
 * that quy_writer_batch writes what quy_writer_result does, result by result. */
static char *run(const quy_ruleset *rs, const char *text, size_t len, unsigned jobs, unsigned flags,
                 uint32_t max_line, size_t *outlen)
{
    char *all = NULL;
    FILE *o = open_memstream(&all, outlen);
    quy_session *s;
    quy_batch *b;
    if (quy_session_new(rs, &s) != QUY_OK || quy_batch_new(s, flags, &b) != QUY_OK) exit(2);
    quy_batch_on_warning(b, on_warning, o);
    if (quy_batch_set_limits(b, max_line, 0, 0) != QUY_OK || quy_batch_set_jobs(b, jobs) != QUY_OK) {
        fprintf(stderr, "set: %s\n", quy_errmsg());
        exit(2);
    }
    if (quy_batch_read(b, text, len, "corpus.jsonl") != QUY_OK || quy_batch_run(b) != QUY_OK) {
        fprintf(stderr, "read: %s\n", quy_errmsg());
        exit(2);
    }
    int explain = (flags & QUY_BATCH_EXPLAIN) != 0;
    static const char *const formats[] = {"jsonl", "csv"};
    char *per[2] = {NULL, NULL}, *whole[2] = {NULL, NULL};
    size_t nper[2], nwhole[2];
    for (int f = 0; f < 2; f++) { /* each result in turn, and the whole batch (on the batch's threads) */
        FILE *po = open_memstream(&per[f], &nper[f]), *wo = open_memstream(&whole[f], &nwhole[f]);
        quy_writer *pw, *ww;
        if (quy_writer_new(rs, po, formats[f], &pw) != QUY_OK || quy_writer_new(rs, wo, formats[f], &ww) != QUY_OK) exit(2);
        for (size_t i = 0; i < quy_batch_count(b); i++) quy_writer_result(pw, quy_batch_result(b, i), f ? 0 : explain);
        if (quy_writer_batch(ww, b, f ? 0 : explain) != QUY_OK) {
            fprintf(stderr, "quy_writer_batch: %s\n", quy_errmsg());
            exit(2);
        }
        quy_writer_close(pw);
        quy_writer_close(ww);
        fclose(po);
        fclose(wo);
        char what[160];
        snprintf(what, sizeof what, "quy_writer_batch vs quy_writer_result, %s, %u threads, flags %u", formats[f], jobs, flags);
        compare(what, per[f], nper[f], whole[f], nwhole[f]);
    }
    for (size_t i = 0; i < quy_batch_count(b); i++) {
        const quy_result *r = quy_batch_result(b, i);
        fprintf(o, "%s %s %s %s %s %s:%u [", quy_result_id(r), quy_result_tier(r) ?: "-",
                quy_result_eligible_tier(r) ?: "-", quy_result_rule(r) ?: "-", quy_result_error_code(r) ?: "-",
                quy_result_file(r), quy_result_line(r));
        for (size_t k = 0; k < quy_result_flag_count(r); k++) {
            const char *d = quy_result_flag_detail(r, k);
            fprintf(o, " %s%s%s", quy_result_flag(r, k), d ? "=" : "", d ? d : "");
        }
        fprintf(o, " ] %s\n", quy_result_status(r) == QUY_OK ? "" : quy_result_error_message(r));
    }
    for (int f = 0; f < 2; f++) {
        fwrite(per[f], 1, nper[f], o);
        free(per[f]);
        free(whole[f]);
    }
    quy_batch_summary(b, o, 1);
    quy_batch_free(b);
    quy_session_free(s);
    fclose(o);
    return all;
}

static void compare(const char *what, const char *a, size_t na, const char *b, size_t nb)
{
    if (na == nb && !memcmp(a, b, na)) return;
    failures++;
    size_t i = 0;
    while (i < na && i < nb && a[i] == b[i]) i++;
    size_t from = i > 200 ? i - 200 : 0;
    fprintf(stderr, "FAIL %s: outputs differ at byte %zu (%zu / %zu bytes)\n  one thread: %.400s\n  4 threads:  %.400s\n",
            what, i, na, nb, a + from, b + from);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_jobs SOURCE_DIR\n");
        return 2;
    }
    /* with hooks (the last two); caps with a condition and quota order keys computed by the decoding threads
     * (batch-caps, thanh-lam-quarterly-2026: batch_pre_rate) */
    static const struct { const char *dir, *name, *extra; int rounds; } rulesets[] = {
        {"rulesets", "central-124", NULL, ROUNDS}, {"rulesets", "ha-tinh-city-2023", NULL, ROUNDS},
        {"rulesets", "cho-chu-2024", NULL, ROUNDS}, {"rulesets", "thanh-lam-quarterly-2026", "quota.jsonl", 20},
        {"tests/rulesets", "batch-caps", "batch.jsonl", 20},
    };
    quy_loader *ld;
    char dir[1024], tdir[1024];
    snprintf(dir, sizeof dir, "%s/rulesets", argv[1]);
    snprintf(tdir, sizeof tdir, "%s/tests/rulesets", argv[1]);
    if (quy_loader_new(&ld) != QUY_OK || quy_loader_add_dir(ld, dir) != QUY_OK || quy_loader_add_dir(ld, tdir) != QUY_OK)
        return 2;
    size_t checked = 0;
    for (size_t k = 0; k < sizeof rulesets / sizeof *rulesets; k++) {
        quy_ruleset *rs;
        if (quy_loader_load(ld, rulesets[k].name, &rs, NULL) != QUY_OK) {
            fprintf(stderr, "%s: %s\n", rulesets[k].name, quy_errmsg());
            return 2;
        }
        size_t len;
        char *text = corpus(argv[1], rulesets[k].dir, rulesets[k].name, rulesets[k].extra, rulesets[k].rounds, &len);
        static const struct { unsigned flags; uint32_t max_line; } modes[] = {
            {QUY_BATCH_EXPLAIN, 0}, {0, 0}, {0, 700},
        };
        for (size_t m = 0; m < sizeof modes / sizeof *modes; m++) {
            size_t n1, n4;
            char *one = run(rs, text, len, 1, modes[m].flags, modes[m].max_line, &n1);
            char *four = run(rs, text, len, 4, modes[m].flags, modes[m].max_line, &n4);
            char what[128];
            snprintf(what, sizeof what, "%s, mode %zu", rulesets[k].name, m);
            compare(what, one, n1, four, n4);
            if (!modes[m].max_line && (!strstr(one, "duplicate_id") || !strstr(one, "bad_json") || !strstr(one, "W corpus.jsonl"))) {
                fprintf(stderr, "FAIL %s: the corpus lacks a duplicate id, invalid JSON or a warning\n", what);
                failures++;
            }
            if (modes[m].max_line && !strstr(one, "limit")) {
                fprintf(stderr, "FAIL %s: no line past --max-line\n", what);
                failures++;
            }
            checked += n1;
            free(one);
            free(four);
            /* quy_rate_stream (one thread) and quy_rate_stream_jobs (4): the same bytes, counts and status */
            if (modes[m].max_line) continue;
            int explain = (modes[m].flags & QUY_BATCH_EXPLAIN) != 0;
            char *so[2];
            size_t sn[2], rated[2], rejected[2];
            quy_status sst[2];
            for (int t = 0; t < 2; t++) {
                quy_session *s;
                if (quy_session_new(rs, &s) != QUY_OK) exit(2);
                FILE *in = fmemopen(text, len, "r"), *out = open_memstream(&so[t], &sn[t]);
                sst[t] = t ? quy_rate_stream_jobs(s, in, "corpus.jsonl", out, "jsonl", explain, 4, &rated[t], &rejected[t])
                           : quy_rate_stream(s, in, "corpus.jsonl", out, "jsonl", explain, &rated[t], &rejected[t]);
                fclose(in);
                fclose(out);
                quy_session_free(s);
            }
            snprintf(what, sizeof what, "%s, mode %zu: quy_rate_stream vs quy_rate_stream_jobs", rulesets[k].name, m);
            compare(what, so[0], sn[0], so[1], sn[1]);
            if (sst[0] != sst[1] || rated[0] != rated[1] || rejected[0] != rejected[1] || !rejected[0]) {
                fprintf(stderr, "FAIL %s: status %d/%d, rated %zu/%zu, rejected %zu/%zu\n", what, sst[0], sst[1], rated[0],
                        rated[1], rejected[0], rejected[1]);
                failures++;
            }
            free(so[0]);
            free(so[1]);
        }
        free(text);
        quy_ruleset_free(rs);
    }
    quy_loader_free(ld);
    if (failures) return 1;
    printf("ok: 5 rulesets x 3 modes, 1 and 4 threads agree, and quy_writer_batch with quy_writer_result (%zu bytes "
           "compared)\n", checked);
    return 0;
}
