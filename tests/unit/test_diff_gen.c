/*
 * test_diff_gen.c — the diff engine and the boundary generator through
 * their public functions (include/quy.h, quy_diff_*, quy_gen_*), as an
 * integrator calls them: generate records for one ruleset, compare two
 * rulesets over them, read the matrices, causes and moved records, write
 * and check approvals; every bad call is an error code, not a crash.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "../../include/quy.h"

static const char *const dirs[] = {QUY_SOURCE_DIR "/rulesets"};
static const char *const states[] = {"htxsnv", "httnv", "htnv", "khtnv", "not_rated", "deferred", "rejected"};

/* n records of rs with seed, as JSON Lines (malloc'd). */
static char *generate(quy_ruleset *rs, unsigned seed, int n, size_t *len)
{
    quy_gen *g;
    assert_int_equal(quy_gen_new(rs, &g), QUY_OK);
    char s[16];
    snprintf(s, sizeof s, "%u", seed);
    assert_int_equal(quy_gen_set(g, "seed", s), QUY_OK);
    char *out = NULL;
    size_t cap = 0;
    FILE *f = open_memstream(&out, &cap);
    for (int i = 0; i < n; i++) {
        const char *json;
        size_t l;
        assert_int_equal(quy_gen_next(g, &json, &l), QUY_OK);
        assert_true(l > 2 && json[0] == '{' && json[l - 1] == '\n');
        fwrite(json, 1, l, f);
    }
    fclose(f);
    *len = strlen(out);
    quy_gen_free(g);
    return out;
}

/* A shipped ruleset through the public loader (the source tree's rulesets only). */
static quy_ruleset *load(const char *name)
{
    quy_loader *ld = NULL;
    quy_ruleset *rs = NULL;
    if (quy_loader_new(&ld) != QUY_OK) return NULL;
    quy_loader_set_defaults(ld, 0);
    quy_loader_add_dir(ld, dirs[0]);
    quy_loader_load(ld, name, &rs, NULL);
    quy_loader_free(ld);
    return rs;
}

static void test_gen(void **state)
{
    (void)state;
    quy_ruleset *rs = load("central-124");
    assert_non_null(rs);
    size_t la, lb, lc;
    char *a = generate(rs, 5, 60, &la), *b = generate(rs, 5, 60, &lb), *c = generate(rs, 6, 60, &lc);
    assert_true(la == lb && !memcmp(a, b, la)); /* deterministic */
    assert_false(la == lc && !memcmp(a, c, la));
    /* every generated record is valid: rated alone, none rejected */
    quy_session *s = NULL;
    assert_int_equal(quy_session_new(rs, &s), QUY_OK);
    for (char *line = a, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
        const quy_result *r = NULL;
        assert_int_equal(quy_rate_json(s, line, (size_t)(nl - line), &r), QUY_OK);
    }
    quy_session_free(s);
    quy_gen *g;
    assert_int_equal(quy_gen_new(rs, &g), QUY_OK);
    assert_int_equal(quy_gen_set(g, "prefix", "MORE-THAN-SIXTEEN-BYTES"), QUY_EINVAL);
    assert_non_null(strstr(quy_gen_errmsg(g), "at most 16"));
    assert_int_equal(quy_gen_set(g, "kind", "no_such_kind"), QUY_EINVAL);
    assert_int_equal(quy_gen_set(g, "colour", "1"), QUY_EINVAL);
    assert_int_equal(quy_gen_set(g, "seed", "-1"), QUY_EINVAL);
    assert_int_equal(quy_gen_set(g, "kind", "leader"), QUY_OK);
    assert_int_equal(quy_gen_set(g, "prefix", "T"), QUY_OK);
    const char *json;
    size_t l;
    assert_int_equal(quy_gen_next(g, &json, &l), QUY_OK);
    assert_non_null(strstr(json, "\"id\":\"T-000001\",\"kind\":\"leader\""));
    assert_int_equal(quy_gen_set(g, "seed", "2"), QUY_ESTATE); /* too late */
    char *targets;
    assert_int_equal(quy_gen_targets(g, &targets), QUY_OK);
    assert_true(strlen(targets) > 100);
    free(targets);
    assert_int_equal(quy_gen_next(g, NULL, &l), QUY_EINVAL);
    quy_gen_free(g);
    assert_int_equal(quy_gen_new(NULL, &g), QUY_EINVAL);
    quy_gen_free(NULL);
    free(a);
    free(b);
    free(c);
    quy_ruleset_free(rs);
}

static void test_diff(void **state)
{
    (void)state;
    quy_ruleset *o = load("central-124"), *n = load("ha-tinh-city-2023");
    assert_non_null(o);
    assert_non_null(n);
    size_t len;
    char *recs = generate(o, 3, 300, &len);
    quy_diff *d;
    assert_int_equal(quy_diff_new(o, n, &d), QUY_OK);
    assert_int_equal(quy_diff_run(d), QUY_EINVAL); /* no input */
    assert_int_equal(quy_diff_set(d, "colour", "red"), QUY_EINVAL);
    assert_int_equal(quy_diff_set(d, "refines", "maybe"), QUY_EINVAL);
    assert_int_equal(quy_diff_add_file(d, "/no/such/file.jsonl"), QUY_IO);
    assert_int_equal(quy_diff_records(d), 0); /* not run yet */
    assert_null(quy_diff_summary_json(d, 0));
    assert_int_equal(quy_diff_add_memory(d, "gen.jsonl", recs, len), QUY_OK);
    assert_int_equal(quy_diff_run(d), QUY_OK);
    assert_int_equal(quy_diff_run(d), QUY_ESTATE);
    assert_int_equal(quy_diff_records(d), 300);
    size_t moved = quy_diff_moved(d);
    assert_true(moved > 0 && moved < 300);
    /* the final matrix adds up to the records; off its diagonal, to the moves at most */
    size_t total = 0, off = 0, c;
    for (int i = 0; i < 7; i++)
        for (int j = 0; j < 7; j++) {
            assert_int_equal(quy_diff_matrix(d, 1, states[i], states[j], &c), QUY_OK);
            total += c;
            if (i != j) off += c;
        }
    assert_int_equal(total, 300);
    assert_true(off <= moved);
    assert_int_equal(quy_diff_matrix(d, 1, "excellent", "htnv", &c), QUY_EINVAL);
    /* causes: their counts add up to the moves */
    size_t nc = quy_diff_cause_count(d), sum = 0;
    assert_true(nc > 0);
    for (size_t i = 0; i < nc; i++) {
        assert_non_null(quy_diff_cause(d, i, "cause"));
        sum += (size_t)atoll(quy_diff_cause(d, i, "count"));
    }
    assert_int_equal(sum, moved);
    assert_null(quy_diff_cause(d, nc, "cause"));
    /* the moved records, each a JSON object with its cause */
    assert_int_equal(quy_diff_listed_count(d), moved);
    for (size_t i = 0; i < moved; i++) {
        json_t *m = json_loads(quy_diff_listed_json(d, i), 0, NULL);
        assert_non_null(m);
        assert_non_null(json_string_value(json_object_get(m, "cause")));
        json_decref(m);
    }
    assert_null(quy_diff_listed_json(d, moved));
    json_t *s = json_loads(quy_diff_summary_json(d, 0), 0, NULL);
    assert_int_equal(json_integer_value(json_object_get(s, "records")), 300);
    json_decref(s);
    /* approvals: write them, then a second diff checks against them */
    char path[] = "/tmp/quy-test-expect-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(quy_diff_write_expect(d, path), QUY_OK);
    quy_diff_free(d);
    assert_int_equal(quy_diff_new(o, n, &d), QUY_OK);
    assert_int_equal(quy_diff_set(d, "expect", path), QUY_OK);
    assert_int_equal(quy_diff_add_memory(d, "gen.jsonl", recs, len), QUY_OK);
    assert_int_equal(quy_diff_run(d), QUY_OK);
    assert_int_equal(quy_diff_unapproved(d), 0);
    quy_diff_free(d);
    unlink(path);
    /* refines: a ruleset against itself never rates higher, nothing moves */
    assert_int_equal(quy_diff_new(o, o, &d), QUY_OK);
    assert_int_equal(quy_diff_set(d, "refines", "1"), QUY_OK);
    assert_int_equal(quy_diff_add_memory(d, "gen.jsonl", recs, len), QUY_OK);
    assert_int_equal(quy_diff_run(d), QUY_OK);
    assert_int_equal(quy_diff_moved(d), 0);
    assert_int_equal(quy_diff_unapproved(d), 0);
    quy_diff_free(d);
    /* CSV held in memory: read by one reader per ruleset, in lockstep */
    FILE *cf = fopen(QUY_SOURCE_DIR "/rulesets/central-124/samples/records.csv", "rb");
    assert_non_null(cf);
    char csv[1 << 16];
    size_t nb = fread(csv, 1, sizeof csv, cf);
    fclose(cf);
    size_t lines = 0;
    for (size_t i = 0; i < nb; i++) lines += csv[i] == '\n';
    assert_int_equal(quy_diff_new(o, n, &d), QUY_OK);
    assert_int_equal(quy_diff_add_memory(d, "records.csv", csv, nb), QUY_OK);
    assert_int_equal(quy_diff_run(d), QUY_OK);
    assert_int_equal(quy_diff_records(d), lines - 1);
    quy_diff_free(d);
    assert_int_equal(quy_diff_new(NULL, n, &d), QUY_EINVAL);
    quy_diff_free(NULL);
    free(recs);
    quy_ruleset_free(o);
    quy_ruleset_free(n);
}

/* A string constant longer than the generator's first 4,096-byte block (it
 * was cut to "" before): the records that reach the rule comparing with it
 * carry it whole, and rate by that rule. */
static void test_gen_long_string(void **state)
{
    (void)state;
    enum { LONG = 9000 };
    char *lit = malloc(LONG + 3); /* the constant, quoted as the JSON shows it */
    assert_non_null(lit);
    lit[0] = '"';
    for (int i = 1; i <= LONG; i++) lit[i] = (char)('a' + i % 26);
    lit[LONG + 1] = '"';
    lit[LONG + 2] = 0;
    char *src = malloc(LONG + 1024);
    assert_non_null(src);
    int len = snprintf(src, LONG + 1024,
                       "ruleset long-string version \"1\"\n"
                       "record member \"Đảng viên\" {\n  don_vi : string \"Đơn vị\"\n}\n"
                       "rate member {\n  dai: httnv when don_vi = %s cite \"124-QĐ/TW Điều 12\"\n"
                       "  otherwise htnv\n}\n",
                       lit);
    quy_loader *ld = NULL;
    quy_ruleset *rs = NULL;
    assert_int_equal(quy_loader_new(&ld), QUY_OK);
    quy_loader_set_defaults(ld, 0);
    assert_int_equal(quy_loader_compile(ld, "long.quy", src, (size_t)len, &rs, NULL), QUY_OK);
    size_t l;
    char *recs = generate(rs, 1, 40, &l);
    quy_session *s = NULL;
    assert_int_equal(quy_session_new(rs, &s), QUY_OK);
    int whole = 0, by_rule = 0;
    for (char *line = recs, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
        *nl = 0;
        whole += strstr(line, lit) != NULL; /* not the other variant, the constant and "-khac" */
        const quy_result *r = NULL;
        assert_int_equal(quy_rate_json(s, line, (size_t)(nl - line), &r), QUY_OK);
        by_rule += quy_result_rule(r) && !strcmp(quy_result_rule(r), "dai");
    }
    assert_true(whole > 0);
    assert_int_equal(whole, by_rule);
    quy_session_free(s);
    free(recs);
    quy_ruleset_free(rs);
    quy_loader_free(ld);
    free(src);
    free(lit);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gen),
        cmocka_unit_test(test_diff),
        cmocka_unit_test(test_gen_long_string),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
