/*
 * test_limits.c — the checker has no silent limit (issue 14.2): every list
 * it builds while lowering grows, and the one limit an instruction operand
 * imposes is an error naming it. Each test is past a limit the checker
 * once had (a rule's clauses past 255, a flag's conditions past 63, the
 * fields one clause reads past 64, a record ancestry past 16) and rates a
 * record whose outcome depends on what lay past it; an expression deeper
 * than the VM stack is the checker's error.
 */
#include "quy_fixture.h"

/* A growing source text. */
typedef struct sbuf {
    char *s;
    size_t n, cap;
} sbuf;

static void sb_add(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    assert_true(w >= 0);
    if (b->n + (size_t)w + 1 > b->cap) {
        b->cap = (b->n + (size_t)w + 1) * 2;
        b->s = realloc(b->s, b->cap);
        assert_non_null(b->s);
    }
    va_start(ap, fmt);
    vsnprintf(b->s + b->n, b->cap - b->n, fmt, ap);
    va_end(ap);
    b->n += (size_t)w;
}

#define HEAD "ruleset t version \"1\"\nrecord member {\n  n : int\n  opt : optional int\n"

/* A rule with 300 clauses: the last one decides. */
static void test_rule_with_300_clauses(void **state)
{
    qfx *fx = *state;
    sbuf b = {0};
    sb_add(&b, HEAD "}\nrate member {\n  a: htxsnv when n >= 0");
    for (int i = 1; i < 299; i++) sb_add(&b, "\n    and n >= %d", -i);
    sb_add(&b, "\n    and n = 7 cite \"x\"\n  otherwise khtnv\n}\n");
    q_program *p = qfx_ok(fx, b.s);
    assert_int_equal(p->rules[0].nclauses, 300);
    assert_int_equal(qfx_tier(fx, "{'id':'r','kind':'member','n':7}"), QO_HTXSNV);
    assert_int_equal(qfx_tier(fx, "{'id':'r','kind':'member','n':8}"), QO_KHTNV);
    free(b.s);
}

/* 300 `if present` clauses on one rule (once: at most 200 skips). */
static void test_rule_with_300_optional_clauses(void **state)
{
    qfx *fx = *state;
    sbuf b = {0};
    sb_add(&b, HEAD "}\nrate member {\n  a: htxsnv when opt >= 0 if present");
    for (int i = 1; i < 299; i++) sb_add(&b, "\n    and opt >= %d if present", -i);
    sb_add(&b, "\n    and n = 7 cite \"x\"\n  otherwise khtnv\n}\n");
    qfx_ok(fx, b.s);
    assert_int_equal(qfx_tier(fx, "{'id':'r','kind':'member','n':7}"), QO_HTXSNV);
    assert_int_equal(qfx_tier(fx, "{'id':'r','kind':'member','n':8,'opt':1}"), QO_KHTNV);
    assert_int_equal(qfx_tier(fx, "{'id':'r','kind':'member','n':7,'opt':-400}"), QO_KHTNV);
    free(b.s);
}

/* A flag with 100 conditions: the last one decides whether it is raised. */
static void test_flag_with_100_conditions(void **state)
{
    qfx *fx = *state;
    sbuf b = {0};
    sb_add(&b, HEAD "}\nrate member {\n  otherwise khtnv\n  flag f when n >= 0");
    for (int i = 1; i < 99; i++) sb_add(&b, "\n    and n >= %d", -i);
    sb_add(&b, "\n    and n = 7 cite \"x\"\n}\n");
    qfx_ok(fx, b.s);
    vm_result r;
    qfx_tier_res(fx, "{'id':'r','kind':'member','n':7}", &r);
    assert_int_equal(r.nflags, 1);
    assert_string_equal(qfx_flag_name(fx->p, &r, 0), "f");
    qfx_tier_res(fx, "{'id':'r','kind':'member','n':8}", &r);
    assert_int_equal(r.nflags, 0);
    free(b.s);
}

/* One clause reading 70 optional fields: each absent one skips it. */
static void test_clause_reading_70_fields(void **state)
{
    qfx *fx = *state;
    sbuf b = {0};
    sb_add(&b, HEAD);
    for (int i = 0; i < 70; i++) sb_add(&b, "  f%d : optional int\n", i);
    sb_add(&b, "}\nrate member {\n  a: htxsnv when f0");
    for (int i = 1; i < 70; i++) sb_add(&b, " + f%d", i);
    sb_add(&b, " >= 0 if present cite \"x\"\n  otherwise khtnv\n}\n");
    q_program *p = qfx_ok(fx, b.s);
    assert_int_equal(p->clauses[0].nreads, 70);
    /* every field present: the clause holds */
    sbuf r = {0};
    sb_add(&r, "{'id':'r','kind':'member','n':1");
    for (int i = 0; i < 70; i++) sb_add(&r, ",'f%d':1", i);
    sb_add(&r, "}");
    assert_int_equal(qfx_tier(fx, r.s), QO_HTXSNV);
    /* f69 absent (the 70th read): the clause is skipped, not a run-time error */
    r.n = 0;
    sb_add(&r, "{'id':'r','kind':'member','n':1");
    for (int i = 0; i < 69; i++) sb_add(&r, ",'f%d':1", i);
    sb_add(&r, "}");
    assert_int_equal(qfx_tier(fx, r.s), QO_HTXSNV);
    free(r.s);
    free(b.s);
}

/* A check reading 70 optional fields: it does not apply when one is absent. */
static void test_check_reading_70_fields(void **state)
{
    qfx *fx = *state;
    sbuf b = {0};
    sb_add(&b, HEAD);
    for (int i = 0; i < 70; i++) sb_add(&b, "  f%d : optional int\n", i);
    sb_add(&b, "  check f0");
    for (int i = 1; i < 70; i++) sb_add(&b, " + f%d", i);
    sb_add(&b, " >= 0\n}\nrate member {\n  otherwise khtnv\n}\n");
    qfx_ok(fx, b.s);
    sbuf r = {0};
    sb_add(&r, "{'id':'r','kind':'member','n':1");
    for (int i = 0; i < 69; i++) sb_add(&r, ",'f%d':1", i);
    sb_add(&r, "}");
    assert_int_equal(qfx_tier(fx, r.s), QO_KHTNV);
    free(r.s);
    free(b.s);
}

/* A record ancestry 20 deep is not a cycle. */
static void test_record_ancestry_20_deep(void **state)
{
    qfx *fx = *state;
    sbuf b = {0};
    sb_add(&b, "ruleset t version \"1\"\nrecord r0 {\n  n : int\n}\n");
    for (int i = 1; i < 20; i++) sb_add(&b, "record r%d extends r%d {\n  n%d : int\n}\n", i, i - 1, i);
    sb_add(&b, "rate r19 {\n  a: htxsnv when n + n19 = 2 cite \"x\"\n  otherwise khtnv\n}\n");
    q_program *p = qfx_ok(fx, b.s);
    assert_int_equal(p->kinds[0].nfields, 20);
    free(b.s);
}

/* An instruction addresses a clause with 16 bits: the 65536th is an error
 * naming the limit, not a clause that another one's trace would show. */
static void test_65536_clauses_is_an_error(void **state)
{
    qfx *fx = *state;
    sbuf b = {0};
    sb_add(&b, HEAD "}\nrate member {\n  a: htxsnv when n >= 0");
    for (int i = 1; i < 65536; i++) sb_add(&b, " and n >= 0");
    sb_add(&b, " cite \"x\"\n  otherwise khtnv\n}\n");
    assert_null(qfx_src(fx, b.s));
    qfx_expect(fx, DIAG_ERROR, 1, 1, "a ruleset chain has at most 65535 rule clauses; this one has 65536");
    free(b.s);
}

/* The VM stack holds QUY_MAX_STACK values: an expression that needs more is
 * the checker's error at the expression, not the verifier's "internal
 * error"; one that needs exactly that many compiles. */
static void test_expression_deeper_than_the_stack(void **state)
{
    qfx *fx = *state;
    for (int d = QUY_MAX_STACK - 1; d <= QUY_MAX_STACK; d++) {
        sbuf b = {0};
        sb_add(&b, HEAD "}\nrate member {\n  a: htxsnv when n");
        for (int i = 0; i < d; i++) sb_add(&b, " + (n");
        for (int i = 0; i < d; i++) sb_add(&b, ")");
        sb_add(&b, " >= 0 cite \"x\"\n  otherwise khtnv\n}\n");
        if (d < QUY_MAX_STACK) {
            qfx_ok(fx, b.s);
            assert_int_equal(qfx_tier(fx, "{'id':'r','kind':'member','n':1}"), QO_HTXSNV);
        } else {
            assert_null(qfx_src(fx, b.s));
            qfx_expect(fx, DIAG_ERROR, 7, 18, "this expression nests too deeply: it needs 65 values at once, the VM holds 64");
        }
        free(b.s);
    }
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, qfx_setup, qfx_teardown)
    const struct CMUnitTest tests[] = {
        T(test_rule_with_300_clauses),
        T(test_rule_with_300_optional_clauses),
        T(test_flag_with_100_conditions),
        T(test_clause_reading_70_fields),
        T(test_check_reading_70_fields),
        T(test_record_ancestry_20_deep),
        T(test_65536_clauses_is_an_error),
        T(test_expression_deeper_than_the_stack),
    };
    return cmocka_run_group_tests_name("limits", tests, NULL, NULL);
}
