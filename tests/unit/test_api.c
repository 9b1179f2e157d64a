/*
 * test_api.c — the public C library (include/quy.h), used as an integrator
 * would: load central-124 by name, rate records given as JSON text and as
 * a stream, read explanations and errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "quy.h"

static const char *const dirs[] = {QUY_SOURCE_DIR "/rulesets"};

#define MEMBER(extra)                                                                                              \
    "{\"id\":\"DV-1\",\"kind\":\"member\",\"period\":\"2024\",\"months_in_role\":40,"                              \
    "\"result_grades\":[\"tot\",\"xuat_sac\"],\"other_grades\":[\"tot\",\"tot\"],\"outstanding\":false,"         \
    "\"tasks_total\":10,\"tasks_on_time\":10,\"tasks_exceeded\":2,\"exempt\":false,\"suspended\":false,"        \
    "\"degraded\":false,\"prohibited_conduct\":false,\"exemplary_breach\":false,\"disciplined\":false,"         \
    "\"self_remedied\":false" extra "}"

static void test_load_and_rate(void **state)
{
    (void)state;
    char *errors = NULL;
    quy_ruleset *rs = quy_ruleset_load("central-124", dirs, 1, &errors);
    assert_non_null(rs);
    assert_null(errors);
    assert_string_equal(quy_ruleset_name(rs), "central-124");

    quy_result r;
    const char *ok = MEMBER(",\"tasks_completed\":10");
    char *why = NULL;
    assert_int_equal(quy_rate_json(rs, ok, strlen(ok), &r, &why), QUY_OK);
    assert_string_equal(r.id, "DV-1");
    assert_string_equal(r.tier, "httnv");
    assert_string_equal(r.rule, "hoan_thanh_tot");
    assert_non_null(strstr(r.cite, "Điều 12, 2"));
    assert_string_equal(r.layer, "central-124");
    assert_non_null(why);
    assert_non_null(strstr(why, "Hoàn thành tốt nhiệm vụ"));
    free(why);

    /* completed > total: rejected, naming the field */
    const char *bad = MEMBER(",\"tasks_completed\":12");
    assert_int_equal(quy_rate_json(rs, bad, strlen(bad), &r, NULL), QUY_REJECTED);
    assert_string_equal(r.error_code, "constraint");
    assert_string_equal(r.error_field, "tasks_completed");
    assert_null(r.tier);

    const char *broken = "{\"id\": ";
    assert_int_equal(quy_rate_json(rs, broken, strlen(broken), &r, NULL), QUY_REJECTED);
    assert_string_equal(r.error_code, "bad_json");
    quy_ruleset_free(rs);
}

static void test_load_errors(void **state)
{
    (void)state;
    char *errors = NULL;
    assert_null(quy_ruleset_load("no-such-ruleset", dirs, 1, &errors));
    assert_non_null(errors);
    assert_non_null(strstr(errors, "cannot find ruleset 'no-such-ruleset'"));
    free(errors);
}

static void test_stream(void **state)
{
    (void)state;
    quy_ruleset *rs = quy_ruleset_load("central-124", dirs, 1, NULL);
    assert_non_null(rs);
    const char *in_text = MEMBER(",\"tasks_completed\":10") "\n" "{\"id\":\"X\",\"kind\":\"member\"}\n";
    FILE *in = fmemopen((void *)in_text, strlen(in_text), "r");
    char *outbuf = NULL;
    size_t outlen = 0;
    FILE *out = open_memstream(&outbuf, &outlen);
    size_t rated = 0, rejected = 0;
    assert_int_equal(quy_rate_stream(rs, in, "mem", out, "jsonl", 0, &rated, &rejected), QUY_REJECTED);
    fclose(out);
    fclose(in);
    assert_int_equal(rated, 1);
    assert_int_equal(rejected, 1);
    assert_non_null(strstr(outbuf, "\"tier\":\"httnv\""));
    assert_non_null(strstr(outbuf, "\"code\":\"missing_field\""));
    free(outbuf);
    quy_ruleset_free(rs);
}

static void test_resolve_locality(void **state)
{
    (void)state;
    char *name = NULL, *why = NULL, *err = NULL;
    /* the locality's own ruleset, by id and by Vietnamese name */
    assert_int_equal(quy_ruleset_resolve("cho-chu", "2024-12-01", dirs, 1, &name, &why, &err), 0);
    assert_string_equal(name, "cho-chu-2024");
    assert_null(err);
    assert_non_null(strstr(why, "thị trấn Chợ Chu"));
    free(name);
    free(why);
    assert_int_equal(quy_ruleset_resolve("Chợ Chu", "2024-10-25", dirs, 1, &name, NULL, &err), 0);
    assert_string_equal(name, "cho-chu-2024");
    free(name);
    /* before its own takes effect: the parent locality's, and it says so */
    assert_int_equal(quy_ruleset_resolve("cho-chu", "2024-10-24", dirs, 1, &name, &why, &err), 0);
    assert_string_equal(name, "central-124");
    assert_non_null(strstr(why, "none in force (cho-chu-2024 2024-10-25"));
    free(name);
    free(why);
    /* a ruleset that ended: Đức Phố's 2022 letter, superseded by 124 */
    assert_int_equal(quy_ruleset_resolve("duc-pho", "2023-10-03", dirs, 1, &name, NULL, &err), 0);
    assert_string_equal(name, "duc-pho-hdnd-2022");
    free(name);
    assert_int_equal(quy_ruleset_resolve("duc-pho", "2023-10-04", dirs, 1, &name, NULL, &err), 0);
    assert_string_equal(name, "central-124");
    free(name);
    /* a date outside every ruleset up the chain: the nearest is named */
    assert_int_equal(quy_ruleset_resolve("duc-pho", "2022-11-07", dirs, 1, &name, &why, &err), -1);
    assert_null(name);
    assert_null(why);
    assert_non_null(strstr(err, "no ruleset is in force for thị xã Đức Phố [duc-pho] on 2022-11-07"));
    assert_non_null(strstr(err, "the nearest is duc-pho-hdnd-2022"));
    free(err);
    /* unknown locality, bad date */
    assert_int_equal(quy_ruleset_resolve("thanh-lamm", "2026-07-01", dirs, 1, &name, NULL, &err), -1);
    assert_non_null(strstr(err, "did you mean 'thanh-lam'?"));
    free(err);
    assert_int_equal(quy_ruleset_resolve("thanh-lam", "2026-02-30", dirs, 1, &name, NULL, &err), -1);
    assert_non_null(strstr(err, "not a date"));
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_and_rate),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_stream),
        cmocka_unit_test(test_resolve_locality),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
