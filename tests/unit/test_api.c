/*
 * test_api.c — the public C library (include/quy.h), used as an integrator
 * would: the search path, loading by name and from memory with its
 * diagnostics, rating one record and batches, results, explanations (text,
 * JSON, data), writers, the registry, and every call's answer to a NULL or
 * bad argument.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "quy.h"

#define RULESETS QUY_SOURCE_DIR "/rulesets"
#define FIXTURES QUY_SOURCE_DIR "/tests/rulesets"

#define MEMBER(extra)                                                                                              \
    "{\"id\":\"DV-1\",\"kind\":\"member\",\"period\":\"2024\",\"months_in_role\":40,"                              \
    "\"result_grades\":[\"tot\",\"xuat_sac\"],\"other_grades\":[\"tot\",\"tot\"],\"outstanding\":false,"         \
    "\"tasks_total\":10,\"tasks_on_time\":10,\"tasks_exceeded\":2,\"exempt\":false,\"suspended\":false,"        \
    "\"degraded\":false,\"prohibited_conduct\":false,\"exemplary_breach\":false,\"disciplined\":false,"         \
    "\"self_remedied\":false" extra "}"

/* A loader over the source tree's rulesets only (no defaults). */
static quy_loader *loader(void)
{
    quy_loader *ld = NULL;
    assert_int_equal(quy_loader_new(&ld), QUY_OK);
    assert_int_equal(quy_loader_set_defaults(ld, 0), QUY_OK);
    assert_int_equal(quy_loader_add_dir(ld, RULESETS), QUY_OK);
    return ld;
}

static quy_ruleset *load(quy_loader *ld, const char *name)
{
    quy_ruleset *rs = NULL;
    quy_diags *d = NULL;
    quy_status st = quy_loader_load(ld, name, &rs, &d);
    if (st != QUY_OK) quy_diags_print(d, stderr, 0);
    assert_int_equal(st, QUY_OK);
    assert_non_null(rs);
    quy_diags_free(d);
    return rs;
}

static void test_version(void **state)
{
    (void)state;
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", QUY_VERSION_MAJOR, QUY_VERSION_MINOR, QUY_VERSION_PATCH);
    assert_string_equal(quy_version(), want);
    assert_int_equal(quy_version_number(), QUY_VERSION_NUMBER);
    assert_true(quy_bytecode_version() > 0);
    assert_string_equal(quy_status_name(QUY_EINVAL), "einval");
}

static void test_rate_one(void **state)
{
    (void)state;
    quy_loader *ld = loader();
    quy_ruleset *rs = load(ld, "central-124");
    assert_string_equal(quy_ruleset_name(rs), "central-124");
    assert_non_null(strstr(quy_ruleset_file(rs), "rulesets/central-124/central-124.quy"));
    quy_session *s;
    assert_int_equal(quy_session_new(rs, &s), QUY_OK);

    const quy_result *r;
    const char *ok = MEMBER(",\"tasks_completed\":10");
    assert_int_equal(quy_rate_json(s, ok, strlen(ok), &r), QUY_OK);
    assert_int_equal(quy_result_status(r), QUY_OK);
    assert_string_equal(quy_result_id(r), "DV-1");
    assert_string_equal(quy_result_kind(r), "member");
    assert_string_equal(quy_result_tier(r), "httnv");
    assert_string_equal(quy_result_eligible_tier(r), "httnv");
    assert_string_equal(quy_result_rule(r), "hoan_thanh_tot");
    assert_non_null(strstr(quy_result_cite(r), "Điều 12, 2"));
    assert_string_equal(quy_result_layer(r), "central-124");
    assert_true(quy_result_steps(r) & QUY_STEP_NO_BATCH); /* the quota was not applied */
    char *text = NULL;
    assert_int_equal(quy_result_explain_text(r, 2, &text), QUY_OK);
    assert_non_null(strstr(text, "Hoàn thành tốt nhiệm vụ"));
    quy_free(text);
    char *json = NULL;
    assert_int_equal(quy_result_explain_json(r, &json), QUY_OK);
    assert_non_null(strstr(json, "\"decided_by\""));
    quy_free(json);

    /* completed > total: rejected, naming the field */
    const char *bad = MEMBER(",\"tasks_completed\":12");
    assert_int_equal(quy_rate_json(s, bad, strlen(bad), &r), QUY_REJECTED);
    assert_int_equal(quy_result_status(r), QUY_REJECTED);
    assert_string_equal(quy_result_error_code(r), "constraint");
    assert_string_equal(quy_result_error_field(r), "tasks_completed");
    assert_null(quy_result_tier(r));
    assert_int_equal(quy_result_explain_text(r, 0, &text), QUY_EINVAL);
    assert_null(text);

    const char *broken = "{\"id\": ";
    assert_int_equal(quy_rate_json(s, broken, strlen(broken), &r), QUY_REJECTED);
    assert_string_equal(quy_result_error_code(r), "bad_json");

    /* an id longer than 127 bytes (the old struct's limit) comes back whole;
     * one over the reader's limit (255 bytes) is rejected, saying so */
    char longid[400], rec[1600];
    memset(longid, 'x', 200);
    longid[200] = 0;
    const char *member = MEMBER(",\"tasks_completed\":10");
    snprintf(rec, sizeof rec, "{\"id\":\"%s\"%s", longid, strchr(member, ','));
    assert_int_equal(quy_rate_json(s, rec, strlen(rec), &r), QUY_OK);
    assert_string_equal(quy_result_id(r), longid);
    memset(longid, 'x', 300);
    longid[300] = 0;
    snprintf(rec, sizeof rec, "{\"id\":\"%s\"%s", longid, strchr(member, ','));
    assert_int_equal(quy_rate_json(s, rec, strlen(rec), &r), QUY_REJECTED);
    assert_string_equal(quy_result_error_field(r), "id");
    assert_non_null(strstr(quy_result_error_message(r), "255"));
    quy_session_free(s);
    quy_ruleset_free(rs);
    quy_loader_free(ld);
}

/* NULL, out-of-range and unknown options: an error code and a message, no crash. */
static void test_bad_arguments(void **state)
{
    (void)state;
    const quy_result *r = (const quy_result *)1;
    assert_int_equal(quy_rate_json(NULL, "{}", 2, &r), QUY_EINVAL);
    assert_null(r);
    assert_non_null(strstr(quy_errmsg(), "NULL"));
    assert_int_equal(quy_session_new(NULL, NULL), QUY_EINVAL);
    assert_int_equal(quy_loader_new(NULL), QUY_EINVAL);
    assert_null(quy_ruleset_name(NULL));
    assert_null(quy_result_tier(NULL));
    assert_int_equal(quy_result_status(NULL), QUY_EINVAL);
    assert_int_equal(quy_result_flag_count(NULL), 0);
    assert_null(quy_diag_message(NULL, 0));
    assert_int_equal(quy_batch_count(NULL), 0);
    assert_null(quy_batch_result(NULL, 0));
    quy_ruleset_free(NULL);
    quy_session_free(NULL);
    quy_batch_free(NULL);
    quy_loader_free(NULL);
    quy_diags_free(NULL);
    quy_explain_free(NULL);

    quy_loader *ld = loader();
    quy_ruleset *rs = load(ld, "central-124");
    quy_session *s;
    assert_int_equal(quy_session_new(rs, &s), QUY_OK);
    /* an unknown format writes nothing and says so */
    char *outbuf = NULL;
    size_t outlen = 0;
    FILE *out = open_memstream(&outbuf, &outlen);
    const char *one = MEMBER(",\"tasks_completed\":10") "\n";
    FILE *in = fmemopen((void *)one, strlen(one), "r");
    assert_int_equal(quy_rate_stream(s, in, "mem", out, "xml", 0, NULL, NULL), QUY_EINVAL);
    assert_non_null(strstr(quy_errmsg(), "unknown format 'xml'"));
    fclose(in);
    fclose(out);
    assert_int_equal(outlen, 0);
    free(outbuf);
    quy_batch *b;
    assert_int_equal(quy_batch_new(s, 0x80, &b), QUY_EINVAL);
    assert_int_equal(quy_batch_new(s, 0, &b), QUY_OK);
    assert_null(quy_batch_result(b, 0)); /* before run */
    assert_int_equal(quy_batch_run(b), QUY_OK);
    assert_null(quy_batch_result(b, 0)); /* empty */
    assert_int_equal(quy_batch_run(b), QUY_ESTATE);
    quy_batch_free(b);
    assert_int_equal(quy_ruleset_count(rs, 99), 0);
    assert_int_equal(quy_ruleset_count(rs, QUY_COUNT_KINDS) > 0, 1);
    quy_session_free(s);
    quy_ruleset_free(rs);
    quy_loader_free(ld);
}

static void test_search_path(void **state)
{
    (void)state;
    quy_loader *ld = NULL;
    assert_int_equal(quy_loader_new(&ld), QUY_OK);
    /* a folder given that does not exist is an error, not skipped */
    assert_int_equal(quy_loader_add_dir(ld, "/no/such/folder"), QUY_ENOTFOUND);
    assert_non_null(strstr(quy_errmsg(), "/no/such/folder"));
    /* so is one named by $QUY_RULESETS, when the path is built */
    setenv("QUY_RULESETS", RULESETS ":/no/such/env-folder", 1);
    size_t n;
    assert_int_equal(quy_loader_dirs(ld, &n), QUY_ENOTFOUND);
    assert_non_null(strstr(quy_errmsg(), "/no/such/env-folder"));
    quy_ruleset *rs = NULL;
    assert_int_equal(quy_loader_load(ld, "central-124", &rs, NULL), QUY_ENOTFOUND);
    assert_null(rs);
    unsetenv("QUY_RULESETS");
    /* many folders (the CLI once kept 32): all are searched, in order */
    char tmpl[] = "/tmp/quy-api-XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    char dirs[40][64];
    for (int i = 0; i < 40; i++) {
        snprintf(dirs[i], sizeof dirs[i], "%s/d%02d", tmpl, i);
        assert_int_equal(mkdir(dirs[i], 0700), 0);
        assert_int_equal(quy_loader_add_dir(ld, dirs[i]), QUY_OK);
    }
    char path[128];
    snprintf(path, sizeof path, "%s/last.quy", dirs[39]);
    FILE *f = fopen(path, "w");
    fputs("ruleset last extends central-124 version \"1\"\n", f);
    fclose(f);
    assert_int_equal(quy_loader_add_dir(ld, RULESETS), QUY_OK);
    assert_int_equal(quy_loader_set_defaults(ld, 0), QUY_OK);
    assert_int_equal(quy_loader_dirs(ld, &n), QUY_OK);
    assert_int_equal(n, 41);
    assert_string_equal(quy_loader_dir(ld, 39), dirs[39]);
    assert_null(quy_loader_dir(ld, 41));
    char *found = NULL;
    assert_int_equal(quy_loader_find(ld, "last", &found), QUY_OK);
    assert_string_equal(found, path);
    quy_free(found);
    rs = load(ld, "last");
    assert_string_equal(quy_ruleset_name(rs), "last");
    quy_ruleset_free(rs);
    assert_int_equal(quy_loader_find(ld, "no-such-ruleset", &found), QUY_ENOTFOUND);
    assert_null(found);
    unlink(path);
    for (int i = 0; i < 40; i++) rmdir(dirs[i]);
    rmdir(tmpl);
    quy_loader_free(ld);
}

static void test_compile_from_memory(void **state)
{
    (void)state;
    quy_loader *ld = loader();
    const char *bad = "ruleset mine extends central-124 version \"1\"\n"
                      "cap member at httnv when months_in_rol < 12 cite \"x\"\n";
    quy_ruleset *rs = NULL;
    quy_diags *d = NULL;
    assert_int_equal(quy_loader_compile(ld, "mine.quy", bad, strlen(bad), &rs, &d), QUY_ERROR);
    assert_null(rs);
    assert_non_null(d);
    assert_true(quy_diags_count(d) >= 1);
    assert_true(quy_diags_errors(d) >= 1);
    size_t i = 0;
    while (i < quy_diags_count(d) && quy_diag_severity(d, i) != QUY_SEV_ERROR) i++;
    assert_true(i < quy_diags_count(d));
    assert_string_equal(quy_diag_file(d, i), "mine.quy");
    assert_int_equal(quy_diag_line(d, i), 2);
    assert_int_equal(quy_diag_column(d, i), 26);
    assert_int_equal(quy_diag_end(d, i) - quy_diag_start(d, i), strlen("months_in_rol"));
    assert_memory_equal(bad + quy_diag_start(d, i), "months_in_rol", strlen("months_in_rol"));
    assert_non_null(strstr(quy_diag_message(d, i), "unknown field 'months_in_rol'"));
    assert_int_equal(quy_diag_severity(d, quy_diags_count(d)), -1);
    /* a misspelt field: the message and the suggestion */
    bool suggested = false;
    for (size_t k = 0; k < quy_diags_count(d); k++)
        if (quy_diag_suggestion(d, k) && !strcmp(quy_diag_suggestion(d, k), "months_in_role")) suggested = true;
    assert_true(suggested);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(quy_diags_print(d, f, 0), QUY_OK);
    fclose(f);
    assert_non_null(strstr(buf, "mine.quy:"));
    assert_non_null(strstr(buf, "^"));
    free(buf);
    quy_diags_free(d);

    const char *good = "ruleset mine extends central-124 version \"1\"\n";
    assert_int_equal(quy_loader_compile(ld, "mine.quy", good, strlen(good), &rs, &d), QUY_OK);
    assert_string_equal(quy_ruleset_name(rs), "mine");
    assert_string_equal(quy_ruleset_file(rs), "mine.quy");
    quy_diags_free(d);
    /* the compiled form, and back */
    void *bc = NULL;
    size_t bclen = 0;
    assert_int_equal(quy_ruleset_bytecode(rs, &bc, &bclen), QUY_OK);
    quy_ruleset *rs2 = NULL;
    assert_int_equal(quy_ruleset_from_bytecode(bc, bclen, &rs2), QUY_OK);
    assert_string_equal(quy_ruleset_name(rs2), "mine");
    quy_ruleset *rs3 = (quy_ruleset *)1;
    assert_int_equal(quy_ruleset_from_bytecode(bc, bclen / 2, &rs3), QUY_ERROR);
    assert_null(rs3);
    quy_free(bc);
    quy_ruleset_free(rs);
    quy_ruleset_free(rs2);
    quy_loader_free(ld);
}

static void test_batch_memory_and_explain(void **state)
{
    (void)state;
    quy_loader *ld = loader();
    quy_ruleset *rs = load(ld, "central-124");
    quy_session *s;
    assert_int_equal(quy_session_new(rs, &s), QUY_OK);
    quy_batch *b;
    assert_int_equal(quy_batch_new(s, QUY_BATCH_EXPLAIN, &b), QUY_OK);
    const char *text = MEMBER(",\"tasks_completed\":10") "\n" "{\"id\":\"X\",\"kind\":\"member\"}\n";
    assert_int_equal(quy_batch_read(b, text, strlen(text), "mem.jsonl"), QUY_OK);
    assert_int_equal(quy_batch_run(b), QUY_OK);
    assert_int_equal(quy_batch_count(b), 2);
    size_t idx;
    assert_int_equal(quy_batch_find(b, "DV-1", &idx), QUY_OK);
    assert_int_equal(idx, 0);
    assert_int_equal(quy_batch_find(b, "nobody", &idx), QUY_ENOTFOUND);
    const quy_result *r = quy_batch_result(b, 0), *x = quy_batch_result(b, 1);
    assert_string_equal(quy_result_tier(r), "httnv");
    assert_false(quy_result_steps(r) & QUY_STEP_NO_BATCH);
    assert_string_equal(quy_result_file(x), "mem.jsonl");
    assert_int_equal(quy_result_line(x), 2);
    assert_string_equal(quy_result_error_code(x), "missing_field");

    quy_explain *e;
    assert_int_equal(quy_result_explain(r, &e), QUY_OK);
    assert_string_equal(quy_explain_decided_by(e, "rule"), "hoan_thanh_tot");
    size_t nrules = quy_explain_rule_count(e);
    assert_true(nrules >= 2);
    /* the last rule tried decided; the first (htxsnv) failed */
    assert_string_equal(quy_explain_rule(e, nrules - 1, "held"), "true");
    assert_string_equal(quy_explain_rule(e, 0, "held"), "false");
    assert_true(quy_explain_clause_count(e, 0) >= 1);
    assert_string_equal(quy_explain_clause(e, 0, 0, "condition"), "exempt");
    assert_string_equal(quy_explain_clause(e, 0, 0, "result"), "false");
    assert_string_equal(quy_explain_read_name(e, 0, 0, 0), "exempt");
    assert_string_equal(quy_explain_read_value(e, 0, 0, 0), "không");
    bool read_tasks = false;
    for (size_t ru = 0; ru < nrules; ru++)
        for (size_t c = 0; c < quy_explain_clause_count(e, ru); c++) {
            assert_non_null(quy_explain_clause(e, ru, c, "condition"));
            assert_non_null(quy_explain_clause(e, ru, c, "result"));
            for (size_t k = 0; k < quy_explain_read_count(e, ru, c); k++)
                if (!strcmp(quy_explain_read_name(e, ru, c, k), "tasks_exceeded")) read_tasks = true;
        }
    assert_true(read_tasks);
    assert_null(quy_explain_rule(e, nrules, "rule"));
    assert_null(quy_explain_rule(e, 0, "no_such_attr"));
    quy_explain_free(e);

    /* the writer: JSON Lines with the rejected record */
    char *outbuf = NULL;
    size_t outlen = 0;
    FILE *out = open_memstream(&outbuf, &outlen);
    quy_writer *w;
    assert_int_equal(quy_writer_new(rs, out, "jsonl", &w), QUY_OK);
    assert_int_equal(quy_writer_result(w, r, 1), QUY_OK);
    assert_int_equal(quy_writer_result(w, x, 0), QUY_OK);
    assert_int_equal(quy_writer_close(w), QUY_OK);
    fclose(out);
    assert_non_null(strstr(outbuf, "\"tier\":\"httnv\""));
    assert_non_null(strstr(outbuf, "\"code\":\"missing_field\""));
    free(outbuf);
    assert_int_equal(quy_writer_new(rs, stdout, "xml", &w), QUY_EINVAL);
    assert_int_equal(quy_batch_set_limits(b, 10, 0, 0), QUY_ESTATE); /* after records */
    quy_batch_free(b);

    /* limits: a record longer than max_line is rejected, naming the limit */
    assert_int_equal(quy_batch_new(s, 0, &b), QUY_OK);
    assert_int_equal(quy_batch_set_limits(b, 100, 0, 0), QUY_OK);
    assert_int_equal(quy_batch_read(b, text, strlen(text), "mem.jsonl"), QUY_OK);
    assert_int_equal(quy_batch_run(b), QUY_OK);
    assert_string_equal(quy_result_error_code(quy_batch_result(b, 0)), "limit");
    quy_batch_free(b);

    /* strict fields: a misspelt key is named, with the nearest field */
    const char *typo = "{\"id\":\"T\",\"kind\":\"member\",\"tasks_compelted\":1}";
    assert_int_equal(quy_ruleset_check_fields(rs, typo, strlen(typo)), QUY_ERROR);
    assert_non_null(strstr(quy_errmsg(), "'tasks_compelted' is not a field of record 'member'; did you mean 'tasks_completed'?"));
    const char *fine = MEMBER(",\"tasks_completed\":10");
    assert_int_equal(quy_ruleset_check_fields(rs, fine, strlen(fine)), QUY_OK);
    assert_int_equal(quy_ruleset_check_fields(NULL, fine, strlen(fine)), QUY_EINVAL);
    quy_session_free(s);
    quy_ruleset_free(rs);
    quy_loader_free(ld);
}

static void test_stream(void **state)
{
    (void)state;
    quy_loader *ld = loader();
    quy_ruleset *rs = load(ld, "central-124");
    quy_session *s;
    assert_int_equal(quy_session_new(rs, &s), QUY_OK);
    const char *in_text = MEMBER(",\"tasks_completed\":10") "\n" "{\"id\":\"X\",\"kind\":\"member\"}\n";
    FILE *in = fmemopen((void *)in_text, strlen(in_text), "r");
    char *outbuf = NULL;
    size_t outlen = 0;
    FILE *out = open_memstream(&outbuf, &outlen);
    size_t rated = 0, rejected = 0;
    assert_int_equal(quy_rate_stream(s, in, "mem", out, "jsonl", 0, &rated, &rejected), QUY_REJECTED);
    fclose(out);
    fclose(in);
    assert_int_equal(rated, 1);
    assert_int_equal(rejected, 1);
    assert_non_null(strstr(outbuf, "\"tier\":\"httnv\""));
    assert_non_null(strstr(outbuf, "\"code\":\"missing_field\""));
    free(outbuf);
    quy_session_free(s);
    quy_ruleset_free(rs);
    quy_loader_free(ld);
}

/* A cap is applied to a record rated alone (as `quy test` and `quy eval` do). */
static void test_cap_alone(void **state)
{
    (void)state;
    quy_loader *ld = loader();
    assert_int_equal(quy_loader_add_dir(ld, FIXTURES), QUY_OK);
    quy_ruleset *rs = load(ld, "batch-caps");
    quy_session *s;
    assert_int_equal(quy_session_new(rs, &s), QUY_OK);
    const char *rec = "{\"id\":\"N1\",\"kind\":\"member\",\"period\":\"2024\",\"months_in_role\":8,"
                      "\"result_grades\":[\"xuat_sac\",\"xuat_sac\"],\"other_grades\":[\"xuat_sac\",\"xuat_sac\"],"
                      "\"outstanding\":true,\"tasks_total\":10,\"tasks_completed\":10,\"tasks_on_time\":10,"
                      "\"tasks_exceeded\":8,\"exempt\":false,\"suspended\":false,\"degraded\":false,"
                      "\"prohibited_conduct\":false,\"exemplary_breach\":false,\"disciplined\":false,"
                      "\"self_remedied\":false}";
    const quy_result *r;
    assert_int_equal(quy_rate_json(s, rec, strlen(rec), &r), QUY_OK);
    assert_string_equal(quy_result_eligible_tier(r), "htxsnv");
    assert_string_equal(quy_result_tier(r), "httnv");
    assert_true(quy_result_steps(r) & QUY_STEP_CAPPED);
    bool capped = false;
    for (size_t i = 0; i < quy_result_flag_count(r); i++) capped |= !strcmp(quy_result_flag(r, i), "capped");
    assert_true(capped);
    assert_null(quy_result_flag(r, quy_result_flag_count(r)));
    quy_session_free(s);
    quy_ruleset_free(rs);
    quy_loader_free(ld);
}

/* The batch steps, in the result and in the explanation: a lone htxsnv
 * member is demoted by the 20 % quota in a batch, not when rated alone. */
static void test_quota_steps(void **state)
{
    (void)state;
    quy_loader *ld = loader();
    quy_ruleset *rs = load(ld, "central-124");
    quy_session *s;
    assert_int_equal(quy_session_new(rs, &s), QUY_OK);
    FILE *f = fopen(RULESETS "/central-124/samples/records.jsonl", "r");
    assert_non_null(f);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, f);
    fclose(f);
    assert_true(n > 0);
    quy_batch *b;
    assert_int_equal(quy_batch_new(s, QUY_BATCH_EXPLAIN, &b), QUY_OK);
    assert_int_equal(quy_batch_add_json(b, line, (size_t)n, "samples", 1), QUY_OK);
    assert_int_equal(quy_batch_run(b), QUY_OK);
    const quy_result *r = quy_batch_result(b, 0);
    assert_string_equal(quy_result_eligible_tier(r), "htxsnv");
    assert_string_equal(quy_result_tier(r), "httnv");
    assert_true(quy_result_steps(r) & QUY_STEP_QUOTA_DEMOTED);
    size_t last = quy_result_flag_count(r) - 1;
    assert_string_equal(quy_result_flag(r, last), "quota_demoted");
    assert_non_null(strstr(quy_result_flag_cite(r, last), "Điều 12, 1.4"));
    assert_null(quy_result_flag_detail(r, last));
    quy_explain *e;
    assert_int_equal(quy_result_explain(r, &e), QUY_OK);
    assert_int_equal(quy_explain_step_count(e), 1);
    assert_string_equal(quy_explain_step(e, 0, "step"), "quota_demoted");
    assert_non_null(strstr(quy_explain_step(e, 0, "message"), "hạn mức 20%"));
    quy_explain_free(e);
    quy_batch_free(b);
    /* alone: the quota is not applied, and the result says so */
    const quy_result *one;
    assert_int_equal(quy_rate_json(s, line, (size_t)n, &one), QUY_OK);
    assert_string_equal(quy_result_tier(one), "htxsnv");
    assert_true(quy_result_steps(one) & QUY_STEP_NO_BATCH);
    assert_false(quy_result_steps(one) & QUY_STEP_QUOTA_DEMOTED);
    free(line);
    quy_session_free(s);
    quy_ruleset_free(rs);
    quy_loader_free(ld);
}

/* Hook limits belong to the session: two sessions of one ruleset, two budgets. */
static void test_hook_limits(void **state)
{
    (void)state;
    quy_loader *ld = loader();
    quy_ruleset *rs = load(ld, QUY_SOURCE_DIR "/tests/golden/eval/hooks_sandbox/sandbox.quy");
    quy_session *small, *plain;
    assert_int_equal(quy_session_new(rs, &small), QUY_OK);
    assert_int_equal(quy_session_new(rs, &plain), QUY_OK);
    assert_int_equal(quy_session_set_hook_limits(small, 100000, 0, 0), QUY_OK);
    assert_int_equal(quy_session_set_hook_limits(NULL, 1, 1, 1), QUY_EINVAL);
    const char *loop = "{\"id\":\"L\",\"kind\":\"member\",\"mode\":\"loop\",\"tasks\":6}";
    const quy_result *r;
    assert_int_equal(quy_rate_json(small, loop, strlen(loop), &r), QUY_REJECTED);
    assert_string_equal(quy_result_error_code(r), "eval");
    assert_non_null(strstr(quy_result_error_message(r), "100000 lệnh"));
    assert_int_equal(quy_rate_json(plain, loop, strlen(loop), &r), QUY_REJECTED);
    assert_non_null(strstr(quy_result_error_message(r), "5000000 lệnh"));
    const char *ok = "{\"id\":\"R\",\"kind\":\"member\",\"mode\":\"ok\",\"tasks\":6}";
    assert_int_equal(quy_rate_json(small, ok, strlen(ok), &r), QUY_OK);
    assert_string_equal(quy_result_tier(r), "httnv");
    assert_int_equal(quy_ruleset_count(rs, QUY_COUNT_HOOKS), 1);
    quy_session_free(small);
    quy_session_free(plain);
    quy_ruleset_free(rs);
    quy_loader_free(ld);
}

/* quy_prove as an integrator calls it: the gaps central-124 names, each with
 * a witness; a refinement proved; bad calls are error codes. */
static void test_prove(void **state)
{
    (void)state;
    quy_loader *ld = loader();
    quy_ruleset *c124 = load(ld, "central-124"), *cho = load(ld, "cho-chu-2024");
    quy_proof *pf = NULL;
    assert_int_equal(quy_prove(c124, NULL, QUY_PROVE_GAPS, 60000, &pf), QUY_OK);
    assert_false(quy_proof_proved(pf));
    size_t gaps = 0;
    for (size_t i = 0; i < quy_proof_count(pf); i++) {
        assert_string_equal(quy_proof_what(pf, i), "gap");
        assert_non_null(quy_proof_witness(pf, i));
        assert_non_null(strstr(quy_proof_witness(pf, i), "\"kind\":"));
        if (strcmp(quy_proof_key(pf, i), "member gap gap_undone_half") == 0) gaps++;
    }
    assert_int_equal(gaps, 1);
    assert_true(quy_proof_note_count(pf) > 0); /* what the answer leaves out */
    assert_null(quy_proof_key(pf, quy_proof_count(pf)));
    quy_proof_free(pf);
    assert_int_equal(quy_prove(cho, c124, QUY_PROVE_REFINES, 60000, &pf), QUY_OK);
    assert_true(quy_proof_proved(pf));
    assert_int_equal(quy_proof_count(pf), 0);
    quy_proof_free(pf);
    /* the VM's check of every witness bites */
    assert_int_equal(quy_prove(c124, NULL, QUY_PROVE_GAPS | QUY_PROVE_TEST_MISMATCH, 60000, &pf), QUY_ERROR);
    assert_non_null(strstr(quy_errmsg(), "encoding bug"));
    assert_null(pf);
    assert_int_equal(quy_prove(NULL, NULL, QUY_PROVE_GAPS, 0, &pf), QUY_EINVAL);
    assert_int_equal(quy_prove(c124, NULL, QUY_PROVE_REFINES, 0, &pf), QUY_EINVAL);
    assert_int_equal(quy_prove(c124, c124, QUY_PROVE_DEAD, 0, &pf), QUY_EINVAL);
    assert_int_equal(quy_prove(c124, NULL, 7, 0, &pf), QUY_EINVAL);
    assert_int_equal(quy_proof_count(NULL), 0);
    quy_proof_free(NULL);
    quy_ruleset_free(cho);
    quy_ruleset_free(c124);
    quy_loader_free(ld);
}

static void test_resolve_locality(void **state)
{
    (void)state;
    quy_loader *ld = loader();
    char *name = NULL, *why = NULL;
    /* the locality's own ruleset, by id and by Vietnamese name */
    assert_int_equal(quy_loader_resolve(ld, "cho-chu", "2024-12-01", &name, &why), QUY_OK);
    assert_string_equal(name, "cho-chu-2024");
    assert_non_null(strstr(why, "thị trấn Chợ Chu"));
    quy_free(name);
    quy_free(why);
    assert_int_equal(quy_loader_resolve(ld, "Chợ Chu", "2024-10-25", &name, NULL), QUY_OK);
    assert_string_equal(name, "cho-chu-2024");
    quy_free(name);
    /* before its own takes effect: the parent locality's, and it says so */
    assert_int_equal(quy_loader_resolve(ld, "cho-chu", "2024-10-24", &name, &why), QUY_OK);
    assert_string_equal(name, "central-124");
    assert_non_null(strstr(why, "none in force (cho-chu-2024 2024-10-25"));
    quy_free(name);
    quy_free(why);
    /* a ruleset that ended: Đức Phố's 2022 letter, superseded by 124 */
    assert_int_equal(quy_loader_resolve(ld, "duc-pho", "2023-10-03", &name, NULL), QUY_OK);
    assert_string_equal(name, "duc-pho-hdnd-2022");
    quy_free(name);
    assert_int_equal(quy_loader_resolve(ld, "duc-pho", "2023-10-04", &name, NULL), QUY_OK);
    assert_string_equal(name, "central-124");
    quy_free(name);
    /* a date outside every ruleset up the chain: the nearest is named */
    assert_int_equal(quy_loader_resolve(ld, "duc-pho", "2022-11-07", &name, &why), QUY_ENOTFOUND);
    assert_null(name);
    assert_null(why);
    assert_non_null(strstr(quy_errmsg(), "no ruleset is in force for thị xã Đức Phố [duc-pho] on 2022-11-07"));
    assert_non_null(strstr(quy_errmsg(), "the nearest is duc-pho-hdnd-2022"));
    /* unknown locality, bad date */
    assert_int_equal(quy_loader_resolve(ld, "thanh-lamm", "2026-07-01", &name, NULL), QUY_ENOTFOUND);
    assert_non_null(strstr(quy_errmsg(), "did you mean 'thanh-lam'?"));
    assert_int_equal(quy_loader_resolve(ld, "thanh-lam", "2026-02-30", &name, NULL), QUY_EINVAL);
    assert_non_null(strstr(quy_errmsg(), "not a date"));
    assert_int_equal(quy_loader_set_registry(ld, "/no/such/registry.json"), QUY_ENOTFOUND);
    quy_loader_free(ld);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_rate_one),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_search_path),
        cmocka_unit_test(test_compile_from_memory),
        cmocka_unit_test(test_batch_memory_and_explain),
        cmocka_unit_test(test_stream),
        cmocka_unit_test(test_cap_alone),
        cmocka_unit_test(test_quota_steps),
        cmocka_unit_test(test_hook_limits),
        cmocka_unit_test(test_resolve_locality),
        cmocka_unit_test(test_prove),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
