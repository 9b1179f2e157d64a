/*
 * test_calls.c — the calls that put `quy list`, `quy describe`, `quy gen`
 * and `quy diff` on quy.h (ctest api.calls), used as an integrator would:
 * the registry as data, the record fields as data, the generator's counts,
 * the diff read through its accessors, the hook CPU-time limit; and every
 * call's answer to NULL, an index out of range, an unknown attribute or
 * option, a call out of order (an error code and a message, never a crash).
 *
 *   test_calls SOURCE_DIR
 */
#define _GNU_SOURCE 1 /* fmemopen, open_memstream, getline */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "quy.h"

static const char *g_src; /* the source tree */

static char *path(const char *rel)
{
    size_t n = strlen(g_src) + strlen(rel) + 2;
    char *p = malloc(n);
    assert_non_null(p);
    snprintf(p, n, "%s/%s", g_src, rel);
    return p;
}

/* A loader over the source tree's rulesets only. */
static quy_loader *loader(void)
{
    quy_loader *ld = NULL;
    char *dir = path("rulesets");
    assert_int_equal(quy_loader_new(&ld), QUY_OK);
    assert_int_equal(quy_loader_set_defaults(ld, 0), QUY_OK);
    assert_int_equal(quy_loader_add_dir(ld, dir), QUY_OK);
    free(dir);
    return ld;
}

static quy_ruleset *load(quy_loader *ld, const char *name)
{
    quy_ruleset *rs = NULL;
    quy_status st = quy_loader_load(ld, name, &rs, NULL);
    if (st != QUY_OK) fprintf(stderr, "%s: %s\n", name, quy_errmsg());
    assert_int_equal(st, QUY_OK);
    return rs;
}

/* quy_errmsg() says something containing `what`. */
static void says(const char *what)
{
    if (!strstr(quy_errmsg(), what)) fail_msg("quy_errmsg() is '%s', expected it to mention '%s'", quy_errmsg(), what);
}

/* =====================================================================
 * The registry
 * ===================================================================== */

static size_t locality_named(const quy_registry *r, const char *id)
{
    for (size_t i = 0; i < quy_registry_locality_count(r); i++)
        if (!strcmp(quy_registry_locality(r, i, "id"), id)) return i;
    fail_msg("no locality '%s'", id);
    return SIZE_MAX;
}

static void test_registry(void **state)
{
    (void)state;
    quy_loader *ld = loader();
    quy_registry *r = NULL;
    assert_int_equal(quy_loader_registry(ld, &r), QUY_OK);
    assert_non_null(strstr(quy_registry_path(r), "registry.json"));
    size_t nl = quy_registry_locality_count(r), nr = quy_registry_ruleset_count(r);
    assert_true(nl > 3 && nr > 3);
    /* one root; every other locality's parent is a locality */
    size_t roots = 0;
    for (size_t i = 0; i < nl; i++) {
        const char *parent = quy_registry_locality(r, i, "parent");
        if (!parent) roots++;
        else locality_named(r, parent);
        assert_non_null(quy_registry_locality(r, i, "full_name"));
        const char *level = quy_registry_locality(r, i, "level");
        assert_true(!strcmp(level, "trung_uong") || !strcmp(level, "tinh") || !strcmp(level, "huyen") ||
                    !strcmp(level, "xa"));
    }
    assert_int_equal(roots, 1);
    /* rulesets: dates as YYYY-MM-DD, an open end as NULL */
    bool open = false;
    for (size_t i = 0; i < nr; i++) {
        assert_int_equal(strlen(quy_registry_ruleset(r, i, "effective")), 10);
        locality_named(r, quy_registry_ruleset(r, i, "locality"));
        assert_non_null(quy_registry_ruleset(r, i, "validity"));
        if (!quy_registry_ruleset(r, i, "in_force_until")) open = true;
    }
    assert_true(open);
    /* the resolution is the loader's */
    size_t e = SIZE_MAX, asked = SIZE_MAX, from = SIZE_MAX;
    char *why = NULL, *name = NULL;
    assert_int_equal(quy_registry_resolve(r, "Chợ Chu", "2024-12-01", &e, &asked, &from, &why), QUY_OK);
    assert_int_equal(quy_loader_resolve(ld, "cho chu", "2024-12-01", &name, NULL), QUY_OK);
    assert_string_equal(quy_registry_ruleset(r, e, "ruleset"), name);
    assert_string_equal(quy_registry_locality(r, asked, "id"), "cho-chu");
    assert_non_null(quy_registry_locality(r, from, "id"));
    assert_non_null(why);
    quy_free(why);
    quy_free(name);
    /* a period is its last day */
    assert_int_equal(quy_registry_resolve(r, "cho-chu", "2024", &e, NULL, NULL, NULL), QUY_OK);
    char *day = NULL;
    assert_int_equal(quy_period_day("2026-Q2", &day), QUY_OK);
    assert_string_equal(day, "2026-06-30");
    quy_free(day);
    assert_int_equal(quy_period_day("2025", &day), QUY_OK);
    assert_string_equal(day, "2025-12-31");
    quy_free(day);
    /* the shipped registry checks clean against the shipped rulesets */
    size_t nw = 99;
    assert_int_equal(quy_registry_check(r, ld, &nw), QUY_OK);
    assert_int_equal(nw, 0);

    /* bad calls */
    assert_int_equal(quy_registry_resolve(r, "nowhere-at-all", "2024-12-01", &e, NULL, NULL, NULL), QUY_ENOTFOUND);
    assert_int_equal(quy_registry_resolve(r, "cho-chu", "2024-13-45", &e, NULL, NULL, NULL), QUY_EINVAL);
    says("2024-13-45");
    assert_int_equal(quy_registry_resolve(r, NULL, "2024", &e, NULL, NULL, NULL), QUY_EINVAL);
    assert_int_equal(quy_registry_resolve(r, "cho-chu", "2024", NULL, NULL, NULL, NULL), QUY_EINVAL);
    assert_int_equal(quy_registry_resolve(NULL, "cho-chu", "2024", &e, NULL, NULL, NULL), QUY_EINVAL);
    assert_null(quy_registry_locality(r, nl, "id"));
    says("no locality");
    assert_null(quy_registry_locality(r, 0, "colour"));
    says("no attribute 'colour'");
    assert_null(quy_registry_locality(r, 0, NULL));
    assert_null(quy_registry_ruleset(r, nr, "ruleset"));
    assert_null(quy_registry_ruleset(r, 0, "colour"));
    assert_null(quy_registry_ruleset(NULL, 0, "ruleset"));
    assert_int_equal(quy_registry_locality_count(NULL), 0);
    assert_int_equal(quy_registry_ruleset_count(NULL), 0);
    assert_null(quy_registry_path(NULL));
    assert_null(quy_registry_warning(r, 0));
    assert_null(quy_registry_warning(NULL, 0));
    assert_int_equal(quy_registry_check(r, NULL, &nw), QUY_EINVAL);
    assert_int_equal(quy_registry_check(NULL, ld, &nw), QUY_EINVAL);
    assert_int_equal(quy_registry_check(r, ld, NULL), QUY_EINVAL);
    assert_int_equal(quy_period_day("20x", &day), QUY_EINVAL);
    assert_null(day);
    assert_int_equal(quy_period_day(NULL, &day), QUY_EINVAL);
    assert_int_equal(quy_period_day("2025", NULL), QUY_EINVAL);
    quy_registry *none = (quy_registry *)1;
    assert_int_equal(quy_loader_registry(NULL, &none), QUY_EINVAL);
    assert_null(none);
    none = (quy_registry *)1;
    assert_int_equal(quy_registry_load("/no/such/registry.json", &none), QUY_ERROR);
    assert_null(none);
    says("/no/such/registry.json");
    assert_int_equal(quy_registry_load(NULL, &none), QUY_EINVAL);
    quy_registry_free(NULL);
    quy_registry_free(r);

    /* a registry whose variants outlive their parent: warnings, one line each */
    char *file = path("tests/golden/eval/registry_parent_dates/registry.json");
    assert_int_equal(quy_registry_load(file, &r), QUY_OK);
    assert_int_equal(quy_registry_check(r, ld, &nw), QUY_OK);
    assert_int_equal(nw, 2);
    assert_non_null(strstr(quy_registry_warning(r, 0), "stays in force after it ends"));
    assert_non_null(strstr(quy_registry_warning(r, 1), "not in force on its first day"));
    assert_null(quy_registry_warning(r, 2));
    quy_registry_free(r);
    free(file);
    quy_loader_free(ld);
}

/* =====================================================================
 * The record fields
 * ===================================================================== */

static size_t field_named(const quy_ruleset *rs, size_t k, const char *name)
{
    for (size_t i = 0; i < quy_kind_field_count(rs, k); i++)
        if (!strcmp(quy_kind_field(rs, k, i, "name"), name)) return i;
    fail_msg("no field '%s'", name);
    return SIZE_MAX;
}

static void test_fields(void **state)
{
    (void)state;
    quy_loader *ld = loader();
    quy_ruleset *rs = load(ld, "central-124");
    size_t nk = quy_ruleset_count(rs, QUY_COUNT_KINDS), k = SIZE_MAX;
    assert_true(nk >= 4);
    assert_int_equal(quy_ruleset_find_kind(rs, "member", &k), QUY_OK);
    assert_string_equal(quy_ruleset_kind(rs, k), "member");
    /* a required int, a field with a default, an optional one, a list of a scale */
    size_t f = field_named(rs, k, "months_in_role"), t = SIZE_MAX;
    assert_string_equal(quy_kind_field(rs, k, f, "presence"), "required");
    assert_null(quy_kind_field(rs, k, f, "default"));
    assert_string_equal(quy_kind_field(rs, k, f, "read"), "true");
    assert_non_null(quy_kind_field(rs, k, f, "label"));
    assert_int_equal(quy_kind_field_type(rs, k, f, &t), QUY_OK);
    assert_string_equal(quy_type(rs, t, "kind"), "int");
    assert_null(quy_type(rs, t, "name"));
    f = field_named(rs, k, "review_done");
    assert_string_equal(quy_kind_field(rs, k, f, "presence"), "default");
    assert_string_equal(quy_kind_field(rs, k, f, "default"), "true");
    f = field_named(rs, k, "unit");
    assert_string_equal(quy_kind_field(rs, k, f, "presence"), "optional");
    f = field_named(rs, k, "result_grades");
    assert_int_equal(quy_kind_field_type(rs, k, f, &t), QUY_OK);
    assert_string_equal(quy_type(rs, t, "kind"), "list");
    size_t e = SIZE_MAX;
    assert_int_equal(quy_type_element(rs, t, &e), QUY_OK);
    assert_string_equal(quy_type(rs, e, "name"), "grade");
    assert_string_equal(quy_type(rs, e, "kind"), "scale");
    size_t nm = quy_type_member_count(rs, e);
    assert_true(nm >= 4);
    assert_non_null(quy_type_member(rs, e, 0, "label"));
    /* a struct's fields are its members, each with a type */
    size_t st = SIZE_MAX;
    for (size_t u = 0; u < quy_ruleset_type_count(rs) && st == SIZE_MAX; u++)
        if (!strcmp(quy_type(rs, u, "kind"), "struct")) st = u;
    assert_true(st != SIZE_MAX);
    assert_true(quy_type_member_count(rs, st) > 0);
    size_t mt = SIZE_MAX;
    assert_int_equal(quy_type_member_type(rs, st, 0, &mt), QUY_OK);
    assert_non_null(quy_type(rs, mt, "kind"));
    /* a computed field */
    size_t ku;
    assert_int_equal(quy_ruleset_find_kind(rs, "party_org", &ku), QUY_OK);
    bool computed = false;
    for (size_t i = 0; i < quy_kind_field_count(rs, ku); i++)
        computed |= !strcmp(quy_kind_field(rs, ku, i, "presence"), "computed");
    assert_true(computed);

    /* kinds and their checks: months_in_role may not be negative (a check of member, from `common`) */
    assert_string_equal(quy_kind(rs, k, "name"), "member");
    assert_string_equal(quy_kind(rs, k, "rated"), "true");
    assert_non_null(quy_kind(rs, k, "label"));
    bool range = false;
    for (size_t i = 0; i < quy_kind_check_count(rs, k); i++) {
        const char *msg = quy_kind_check(rs, k, i, "message"), *fld = quy_kind_check(rs, k, i, "field");
        assert_non_null(msg);
        range |= fld && !strcmp(fld, "months_in_role") && strstr(msg, "không được âm");
    }
    assert_true(range);
    assert_null(quy_kind_check(rs, k, quy_kind_check_count(rs, k), "message"));
    says("has no check");
    assert_null(quy_kind_check(rs, k, 0, "colour"));
    assert_null(quy_kind_check(NULL, 0, 0, "message"));
    assert_int_equal(quy_kind_check_count(rs, nk), 0);
    assert_null(quy_kind(rs, nk, "name"));
    assert_null(quy_kind(rs, k, "colour"));
    assert_null(quy_kind(rs, k, NULL));

    /* bad calls */
    assert_int_equal(quy_ruleset_find_kind(rs, "alien", &k), QUY_ENOTFOUND);
    says("alien");
    assert_int_equal(k, SIZE_MAX);
    assert_int_equal(quy_ruleset_find_kind(NULL, "member", &k), QUY_EINVAL);
    assert_int_equal(quy_ruleset_find_kind(rs, NULL, &k), QUY_EINVAL);
    assert_int_equal(quy_ruleset_find_kind(rs, "member", NULL), QUY_EINVAL);
    assert_null(quy_ruleset_kind(rs, nk));
    assert_null(quy_ruleset_kind(NULL, 0));
    assert_int_equal(quy_kind_field_count(rs, nk), 0);
    assert_int_equal(quy_kind_field_count(NULL, 0), 0);
    assert_null(quy_kind_field(rs, nk, 0, "name"));
    assert_null(quy_kind_field(rs, 0, 100000, "name"));
    says("has no field");
    assert_null(quy_kind_field(rs, 0, 0, "colour"));
    says("no attribute 'colour'");
    assert_null(quy_kind_field(rs, 0, 0, NULL));
    assert_null(quy_kind_field(NULL, 0, 0, "name"));
    assert_int_equal(quy_kind_field_type(rs, 0, 100000, &t), QUY_EINVAL);
    assert_int_equal(quy_kind_field_type(rs, 0, 0, NULL), QUY_EINVAL);
    size_t nt = quy_ruleset_type_count(rs);
    assert_null(quy_type(rs, nt, "kind"));
    assert_null(quy_type(rs, 0, "colour"));
    assert_null(quy_type(NULL, 0, "kind"));
    assert_int_equal(quy_ruleset_type_count(NULL), 0);
    assert_int_equal(quy_type_element(rs, e, &mt), QUY_EINVAL); /* a scale, not a list */
    says("not a list");
    assert_int_equal(quy_type_element(rs, nt, &mt), QUY_EINVAL);
    assert_int_equal(quy_type_element(rs, t, NULL), QUY_EINVAL);
    assert_null(quy_type_member(rs, e, nm, "name"));
    assert_null(quy_type_member(rs, e, 0, "colour"));
    assert_int_equal(quy_type_member_count(rs, nt), 0);
    assert_int_equal(quy_type_member_type(rs, e, 0, &mt), QUY_EINVAL); /* a scale's members have no type */
    assert_int_equal(quy_type_member_type(rs, st, 0, NULL), QUY_EINVAL);
    quy_ruleset_free(rs);
    quy_loader_free(ld);
}

/* =====================================================================
 * The generator's counts
 * ===================================================================== */

static void test_gen_count(void **state)
{
    (void)state;
    quy_loader *ld = loader();
    quy_ruleset *rs = load(ld, "central-124");
    quy_gen *g = NULL;
    assert_int_equal(quy_gen_new(rs, &g), QUY_OK);
    assert_int_equal(quy_gen_set(g, "kind", "member"), QUY_OK);
    uint64_t v = 7;
    assert_int_equal(quy_gen_count(g, 42, &v), QUY_EINVAL);
    assert_int_equal(v, 0);
    assert_int_equal(quy_gen_count(NULL, QUY_GEN_KINDS, &v), QUY_EINVAL);
    assert_int_equal(quy_gen_count(g, QUY_GEN_KINDS, NULL), QUY_EINVAL);
    assert_int_equal(quy_gen_count(g, QUY_GEN_KINDS, &v), QUY_OK); /* scans: the options are fixed now */
    assert_int_equal(v, 1);
    assert_int_equal(quy_gen_set(g, "seed", "3"), QUY_ESTATE);
    assert_int_equal(quy_gen_count(g, QUY_GEN_TARGETS, &v), QUY_OK);
    assert_true(v > 0);
    uint64_t targets = v;
    assert_int_equal(quy_gen_count(g, QUY_GEN_VARIANTS, &v), QUY_OK);
    assert_true(v >= targets);
    const char *json;
    size_t len;
    for (int i = 0; i < 50; i++) assert_int_equal(quy_gen_next(g, &json, &len), QUY_OK);
    assert_int_equal(quy_gen_count(g, QUY_GEN_DROPPED, &v), QUY_OK);
    assert_true(v <= 50);
    quy_gen_free(g);
    /* a kind the ruleset does not rate is refused when set */
    assert_int_equal(quy_gen_new(rs, &g), QUY_OK);
    assert_int_equal(quy_gen_set(g, "kind", "alien"), QUY_EINVAL);
    assert_string_equal(quy_gen_errmsg(g), quy_errmsg());
    quy_gen_free(g);
    assert_int_equal(quy_gen_new(NULL, &g), QUY_EINVAL);
    assert_null(g);
    quy_ruleset_free(rs);
    quy_loader_free(ld);
}

/* =====================================================================
 * Hook limits: CPU time
 * ===================================================================== */

static void test_hook_cpu(void **state)
{
    (void)state;
    quy_loader *ld = loader();
    char *file = path("tests/golden/eval/hooks_sandbox/sandbox.quy");
    quy_ruleset *rs = load(ld, file);
    free(file);
    quy_session *s;
    assert_int_equal(quy_session_new(rs, &s), QUY_OK);
    uint64_t ins = 0, cpu = 0;
    size_t mem = 0;
    assert_int_equal(quy_session_hook_limits(s, &ins, &mem, &cpu), QUY_OK);
    assert_int_equal(ins, 5000000);
    assert_int_equal(mem, 16u << 20);
    assert_int_equal(cpu, 2000);
    /* an endless loop under an instruction budget it never reaches: the CPU clock ends it */
    assert_int_equal(quy_session_set_hook_limits(s, UINT64_C(1) << 60, 0, 50), QUY_OK);
    assert_int_equal(quy_session_hook_limits(s, &ins, &mem, &cpu), QUY_OK);
    assert_int_equal(ins, UINT64_C(1) << 60);
    assert_int_equal(mem, 16u << 20); /* 0 kept it */
    assert_int_equal(cpu, 50);
    const char *loop = "{\"id\":\"L\",\"kind\":\"member\",\"mode\":\"loop\",\"tasks\":6}";
    const quy_result *r;
    assert_int_equal(quy_rate_json(s, loop, strlen(loop), &r), QUY_REJECTED);
    assert_string_equal(quy_result_error_code(r), "eval");
    assert_non_null(strstr(quy_result_error_message(r), "50 ms"));
    /* the session still rates */
    const char *ok = "{\"id\":\"R\",\"kind\":\"member\",\"mode\":\"ok\",\"tasks\":6}";
    assert_int_equal(quy_rate_json(s, ok, strlen(ok), &r), QUY_OK);
    /* checked arguments: nothing changes on a refusal */
    assert_int_equal(quy_session_set_hook_limits(s, 0, 1000, 0), QUY_EINVAL);
    says("QUY_HOOK_MIN_MEMORY");
    assert_int_equal(quy_session_set_hook_limits(s, 0, 0, (uint64_t)QUY_HOOK_MAX_CPU_MS + 1), QUY_EINVAL);
    says("QUY_HOOK_MAX_CPU_MS");
    assert_int_equal(quy_session_set_hook_limits(s, 0, 0, UINT64_MAX), QUY_EINVAL);
    assert_int_equal(quy_session_hook_limits(s, &ins, &mem, &cpu), QUY_OK);
    assert_int_equal(cpu, 50);
    assert_int_equal(mem, 16u << 20);
    assert_int_equal(quy_session_set_hook_limits(s, 0, QUY_HOOK_MIN_MEMORY, QUY_HOOK_MAX_CPU_MS), QUY_OK);
    assert_int_equal(quy_session_hook_limits(s, NULL, &mem, &cpu), QUY_OK);
    assert_int_equal(mem, QUY_HOOK_MIN_MEMORY);
    assert_int_equal(cpu, QUY_HOOK_MAX_CPU_MS);
    assert_int_equal(quy_session_set_hook_limits(NULL, 1, 0, 1), QUY_EINVAL);
    assert_int_equal(quy_session_hook_limits(NULL, &ins, &mem, &cpu), QUY_EINVAL);
    quy_session_free(s);
    quy_ruleset_free(rs);
    quy_loader_free(ld);
}

/* =====================================================================
 * The diff through its accessors
 * ===================================================================== */

/* n records of rs from the generator, as JSON Lines (malloc'd). */
static char *corpus(quy_ruleset *rs, unsigned n, size_t *len)
{
    quy_gen *g;
    assert_int_equal(quy_gen_new(rs, &g), QUY_OK);
    assert_int_equal(quy_gen_set(g, "seed", "11"), QUY_OK);
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    assert_non_null(f);
    for (unsigned i = 0; i < n; i++) {
        const char *json;
        size_t l;
        assert_int_equal(quy_gen_next(g, &json, &l), QUY_OK);
        fwrite(json, 1, l, f);
    }
    fclose(f);
    quy_gen_free(g);
    *len = size;
    return buf;
}

static uint64_t count(const quy_diff *d, int what)
{
    uint64_t v = UINT64_MAX;
    assert_int_equal(quy_diff_count(d, what, &v), QUY_OK);
    return v;
}

/* Every listed record: its parts agree with its JSON, its cause is explained. */
static void check_listed(quy_diff *d)
{
    size_t n = quy_diff_listed_count(d);
    assert_int_equal(n, count(d, QUY_DIFF_LISTED));
    size_t rules = 0, clauses = 0, reads = 0;
    for (size_t i = 0; i < n; i++) {
        const char *cause = quy_diff_listed(d, i, "cause"), *dir = quy_diff_listed(d, i, "direction");
        assert_non_null(cause);
        assert_true(!strcmp(dir, "up") || !strcmp(dir, "down") || !strcmp(dir, "other"));
        uint64_t line = 0;
        assert_int_equal(quy_diff_listed_num(d, i, "line", &line), QUY_OK);
        assert_true(line >= 1);
        assert_int_equal(quy_diff_listed_num(d, i, "cause", &line), QUY_EINVAL); /* not a count */
        assert_true(strcmp(quy_diff_listed_side(d, i, 0, "state"), quy_diff_listed_side(d, i, 1, "state")) != 0 ||
                    !strcmp(dir, "other"));
        char want[300];
        snprintf(want, sizeof want, "\"cause\":\"%.280s\"", cause);
        const char *json = quy_diff_listed_json(d, i);
        assert_non_null(strstr(json, want));
        /* the record's strings outlive quy_diff_listed_json of the same record */
        assert_string_equal(quy_diff_listed(d, i, "cause"), cause);
        const char *type = quy_diff_detail(d, i, "type");
        assert_non_null(type);
        if (strcmp(type, "rule")) continue;
        rules++;
        assert_non_null(quy_diff_detail(d, i, "rule"));
        for (int s = 0; s < 2; s++) {
            const char *st = quy_diff_detail_side(d, i, s, "state");
            assert_true(!strcmp(st, "held") || !strcmp(st, "failed") || !strcmp(st, "not_reached") ||
                        !strcmp(st, "absent"));
            for (size_t c = 0; c < quy_diff_detail_clause_count(d, i, s); c++) {
                clauses++;
                const char *res = quy_diff_detail_clause(d, i, s, c, "result");
                assert_true(!strcmp(res, "true") || !strcmp(res, "false") || !strcmp(res, "skipped"));
                assert_non_null(quy_diff_detail_clause(d, i, s, c, "condition"));
                assert_non_null(quy_diff_detail_clause(d, i, s, c, "cite"));
                for (size_t k = 0; k < quy_diff_detail_read_count(d, i, s, c); k++) {
                    reads++;
                    assert_non_null(quy_diff_detail_read(d, i, s, c, k, "field"));
                    assert_non_null(quy_diff_detail_read(d, i, s, c, k, "value"));
                }
                assert_null(quy_diff_detail_read(d, i, s, c, quy_diff_detail_read_count(d, i, s, c), "field"));
            }
        }
    }
    assert_true(rules > 0 && clauses > 0 && reads > 0);
}

static void test_diff(void **state)
{
    (void)state;
    quy_loader *ld = loader();
    quy_ruleset *o = load(ld, "central-124"), *n = load(ld, "ha-tinh-city-2023");
    size_t len;
    char *recs = corpus(o, 400, &len);
    quy_diff *d;
    assert_int_equal(quy_diff_new(o, n, &d), QUY_OK);
    /* out of order: nothing before the run */
    uint64_t v;
    assert_int_equal(quy_diff_count(d, QUY_DIFF_RECORDS, &v), QUY_ESTATE);
    assert_int_equal(quy_diff_is(d, "refines"), -1);
    assert_null(quy_diff_side(d, 0, "name"));
    assert_null(quy_diff_listed(d, 0, "id"));
    assert_null(quy_diff_summary_json(d, 0));
    /* options and inputs */
    assert_int_equal(quy_diff_set(d, "check", "maybe"), QUY_EINVAL);
    says("check");
    assert_int_equal(quy_diff_set(d, "expect", "/no/such/approvals"), QUY_ERROR);
    says("/no/such/approvals");
    assert_int_equal(quy_diff_set(d, "old_name", "the old one"), QUY_OK);
    assert_int_equal(quy_diff_add_stream(d, NULL, stdin), QUY_EINVAL);
    assert_int_equal(quy_diff_add_stream(d, "x", NULL), QUY_EINVAL);
    assert_int_equal(quy_diff_add_stream(NULL, "x", stdin), QUY_EINVAL);
    FILE *in = fmemopen(recs, len, "r");
    assert_non_null(in);
    assert_int_equal(quy_diff_add_stream(d, "stream.jsonl", in), QUY_OK);
    fclose(in);
    assert_int_equal(quy_diff_add_memory(d, "memory.jsonl", recs, len), QUY_OK);
    assert_int_equal(quy_diff_run(d), QUY_OK);
    assert_int_equal(quy_diff_add_stream(d, "late", stdin), QUY_ESTATE);

    /* totals */
    uint64_t records = count(d, QUY_DIFF_RECORDS), moved = count(d, QUY_DIFF_MOVED);
    assert_int_equal(records, 800);
    assert_int_equal(quy_diff_records(d), 800);
    assert_true(moved > 0 && moved < records);
    assert_int_equal(count(d, QUY_DIFF_UP) + count(d, QUY_DIFF_DOWN) + count(d, QUY_DIFF_OTHER), moved);
    assert_int_equal(quy_diff_is(d, "refines"), 0);
    assert_int_equal(quy_diff_is(d, "checked"), 0);
    assert_true(quy_diff_is(d, "eligible_equals_final") >= 0);
    assert_int_equal(quy_diff_is(d, "colour"), -1);
    assert_int_equal(quy_diff_count(d, 99, &v), QUY_EINVAL);
    assert_int_equal(quy_diff_count(d, -1, &v), QUY_EINVAL);
    assert_int_equal(quy_diff_count(d, QUY_DIFF_MOVED, NULL), QUY_EINVAL);
    assert_int_equal(quy_diff_count(NULL, QUY_DIFF_MOVED, &v), QUY_EINVAL);
    /* sides, inputs */
    assert_string_equal(quy_diff_side(d, 0, "spec"), "the old one");
    assert_string_equal(quy_diff_side(d, 0, "name"), "central-124");
    assert_string_equal(quy_diff_side(d, 1, "spec"), "ha-tinh-city-2023");
    assert_int_equal(quy_diff_layer_count(d, 1), 2);
    assert_string_equal(quy_diff_layer(d, 1, 0), "central-124");
    assert_string_equal(quy_diff_layer(d, 1, 1), "ha-tinh-city-2023");
    assert_null(quy_diff_layer(d, 1, 2));
    assert_null(quy_diff_side(d, 2, "name"));
    says("side 2");
    assert_null(quy_diff_side(d, 0, NULL));
    assert_int_equal(quy_diff_input_count(d), 2);
    assert_string_equal(quy_diff_input(d, 0), "stream.jsonl");
    assert_null(quy_diff_input(d, 2));
    /* the matrices add up to the records, row by row the states */
    size_t ns = quy_diff_state_count(d);
    assert_int_equal(ns, 7);
    for (int final = 0; final < 2; final++) {
        uint64_t total = 0;
        for (size_t i = 0; i < ns; i++)
            for (size_t j = 0; j < ns; j++) {
                size_t c = 0;
                assert_int_equal(quy_diff_matrix(d, final, quy_diff_state(d, i), quy_diff_state(d, j), &c), QUY_OK);
                total += c;
            }
        assert_int_equal(total, records);
    }
    assert_null(quy_diff_state(d, ns));
    /* causes: counts add up to the moves, and so do their moves */
    uint64_t sum = 0;
    for (size_t i = 0; i < quy_diff_cause_count(d); i++) {
        uint64_t c = 0, m = 0;
        assert_int_equal(quy_diff_cause_num(d, i, "count", &c), QUY_OK);
        sum += c;
        for (size_t j = 0; j < quy_diff_cause_move_count(d, i); j++) {
            uint64_t x = 0;
            assert_int_equal(quy_diff_cause_move_num(d, i, j, "count", &x), QUY_OK);
            assert_non_null(quy_diff_cause_move(d, i, j, "old"));
            m += x;
        }
        assert_int_equal(m, c);
        assert_int_equal(quy_diff_cause_num(d, i, "label", &c), QUY_EINVAL); /* text, not a count */
    }
    assert_int_equal(sum, moved);
    assert_int_equal(quy_diff_cause_num(d, quy_diff_cause_count(d), "count", &v), QUY_EINVAL);
    assert_null(quy_diff_cause_move(d, 0, 1000, "old"));
    /* breakdowns: records add up, by kind and by peer group */
    const char *const by[2] = {"kind", "peer_group"};
    for (int b = 0; b < 2; b++) {
        uint64_t rec = 0;
        for (size_t i = 0; i < quy_diff_group_count(d, by[b]); i++) {
            assert_non_null(quy_diff_group(d, by[b], i, "name"));
            uint64_t x = 0;
            assert_int_equal(quy_diff_group_num(d, by[b], i, "records", &x), QUY_OK);
            rec += x;
        }
        if (b == 0) assert_int_equal(rec, records);
    }
    assert_int_equal(quy_diff_group_count(d, "colour"), 0);
    assert_null(quy_diff_group(d, "colour", 0, "name"));
    says("kind or peer_group");
    assert_null(quy_diff_group(d, NULL, 0, "name"));
    assert_int_equal(quy_diff_group_num(d, "kind", 0, NULL, &v), QUY_EINVAL);
    /* not checked: no approvals */
    assert_null(quy_diff_expect_file(d));
    assert_int_equal(quy_diff_approval_count(d, "unapproved"), 0);
    assert_null(quy_diff_approval(d, "nope", 0, "old"));
    says("unapproved or unused");
    /* listed records and their causes */
    check_listed(d);
    size_t nl = quy_diff_listed_count(d);
    assert_null(quy_diff_listed(d, nl, "id"));
    says("no listed record");
    assert_null(quy_diff_listed_json(d, nl));
    assert_null(quy_diff_listed_side(d, 0, 2, "state"));
    assert_null(quy_diff_detail_side(d, 0, -1, "state"));
    assert_int_equal(quy_diff_detail_clause_count(d, nl, 0), 0);
    assert_null(quy_diff_detail_clause(d, 0, 0, 100000, "condition"));
    assert_null(quy_diff_detail_adjust(d, 0, 0, 100000, "step"));
    assert_null(quy_diff_detail(d, 0, NULL));
    assert_null(quy_diff_detail(NULL, 0, "type"));
    /* the summary as JSON, compact and indented */
    const char *compact = quy_diff_summary_json(d, 0);
    assert_non_null(compact);
    assert_null(strchr(compact, '\n'));
    assert_non_null(strstr(quy_diff_summary_json(d, 2), "\n  \"records\": 800"));
    assert_null(quy_diff_summary_json(d, 32));
    assert_null(quy_diff_summary_json(d, -1));

    /* approvals: write the moves seen, drop one line, approve a move never seen */
    char tmpl[] = "/tmp/quy-api-calls-XXXXXX";
    int fd = mkstemp(tmpl);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(quy_diff_write_expect(d, tmpl), QUY_OK);
    quy_diff_free(d);
    FILE *f = fopen(tmpl, "r+");
    assert_non_null(f);
    char *text = NULL;
    size_t cap = 0, tl = 0;
    ssize_t got;
    char *all = calloc(1, 1 << 20);
    assert_non_null(all);
    int dropped = 0;
    while ((got = getline(&text, &cap, f)) > 0) {
        if (text[0] != '#' && !dropped) { /* the first move goes unapproved */
            dropped = 1;
            continue;
        }
        memcpy(all + tl, text, (size_t)got);
        tl += (size_t)got;
    }
    free(text);
    fclose(f);
    strcat(all, "htxsnv khtnv never:seen *\n");
    f = fopen(tmpl, "w");
    fputs(all, f);
    fclose(f);
    free(all);
    assert_int_equal(quy_diff_new(o, n, &d), QUY_OK);
    assert_int_equal(quy_diff_set(d, "expect", tmpl), QUY_OK);
    assert_int_equal(quy_diff_add_memory(d, "memory.jsonl", recs, len), QUY_OK);
    assert_int_equal(quy_diff_run(d), QUY_OK);
    assert_int_equal(quy_diff_is(d, "checked"), 1);
    assert_string_equal(quy_diff_expect_file(d), tmpl);
    uint64_t un = count(d, QUY_DIFF_UNAPPROVED);
    assert_true(un > 0);
    assert_int_equal(un, quy_diff_unapproved(d));
    assert_int_equal(count(d, QUY_DIFF_APPROVED) + un, count(d, QUY_DIFF_MOVED));
    assert_int_equal(quy_diff_approval_count(d, "unapproved"), 1);
    uint64_t seen = 0, ok = 1;
    assert_int_equal(quy_diff_approval_num(d, "unapproved", 0, "count", &seen), QUY_OK);
    assert_int_equal(quy_diff_approval_num(d, "unapproved", 0, "approved", &ok), QUY_OK);
    assert_int_equal(seen, un);
    assert_int_equal(ok, 0);
    bool any = false;
    for (size_t i = 0; i < quy_diff_approval_count(d, "unused"); i++)
        if (!strcmp(quy_diff_approval(d, "unused", i, "cause"), "never:seen")) {
            assert_int_equal(quy_diff_approval_num(d, "unused", i, "approved", &v), QUY_OK);
            assert_int_equal(v, UINT64_MAX); /* '*' */
            any = true;
        }
    assert_true(any);
    assert_null(quy_diff_approval(d, "unapproved", 1, "old"));
    quy_diff_free(d);
    remove(tmpl);

    /* refines: the loosened records only */
    assert_int_equal(quy_diff_new(o, n, &d), QUY_OK);
    assert_int_equal(quy_diff_set(d, "refines", "1"), QUY_OK);
    assert_int_equal(quy_diff_set(d, "check", "0"), QUY_OK);
    assert_int_equal(quy_diff_add_memory(d, "memory.jsonl", recs, len), QUY_OK);
    assert_int_equal(quy_diff_run(d), QUY_OK);
    assert_int_equal(quy_diff_is(d, "refines"), 1);
    assert_int_equal(quy_diff_is(d, "checked"), 0);
    assert_int_equal(quy_diff_listed_count(d), count(d, QUY_DIFF_LOOSENED));
    uint64_t loosened = 0;
    for (size_t i = 0; i < quy_diff_loosened_cause_count(d); i++) {
        uint64_t c = 0;
        assert_int_equal(quy_diff_loosened_cause_num(d, i, "count", &c), QUY_OK);
        assert_non_null(quy_diff_loosened_cause(d, i, "cause"));
        loosened += c;
    }
    assert_int_equal(loosened, count(d, QUY_DIFF_LOOSENED));
    for (size_t i = 0; i < quy_diff_listed_count(d); i++) assert_string_equal(quy_diff_listed(d, i, "direction"), "up");
    assert_null(quy_diff_loosened_cause(d, quy_diff_loosened_cause_count(d), "cause"));
    quy_diff_free(d);
    quy_diff_free(NULL);
    assert_int_equal(quy_diff_new(o, NULL, &d), QUY_EINVAL);
    assert_null(d);
    free(recs);
    quy_ruleset_free(o);
    quy_ruleset_free(n);
    quy_loader_free(ld);
}

static void test_report_helpers(void **state)
{
    (void)state;
    assert_int_equal(quy_tier_rank("khtnv"), 0);
    assert_int_equal(quy_tier_rank("htnv"), 1);
    assert_int_equal(quy_tier_rank("httnv"), 2);
    assert_int_equal(quy_tier_rank("htxsnv"), 3);
    assert_int_equal(quy_tier_rank("not_rated"), -1);
    assert_int_equal(quy_tier_rank("rejected"), -1);
    assert_int_equal(quy_tier_rank(NULL), -1);
    assert_int_equal(quy_display_width("Chợ Chu"), 7);
    assert_int_equal(quy_display_width("cũ \\ mới"), 8);
    assert_int_equal(quy_display_width(""), 0);
    assert_int_equal(quy_display_width(NULL), 0);
}

int main(int argc, char **argv)
{
    g_src = argc > 1 ? argv[1] : ".";
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry),  cmocka_unit_test(test_fields),         cmocka_unit_test(test_gen_count),
        cmocka_unit_test(test_hook_cpu),  cmocka_unit_test(test_diff),           cmocka_unit_test(test_report_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
