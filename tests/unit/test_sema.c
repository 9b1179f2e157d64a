/*
 * test_sema.c — the checker (compiler/sema.c) through compiler_compile():
 * name resolution with "did you mean", types, the decision order and the
 * mandatory `otherwise`, reachability, optional fields, citations,
 * `extends` chains (amend / replace / cycles), exact arithmetic decided
 * by the language end to end, and the list aggregates (min/max, filtered
 * sum, longest run) and `field else default`.
 *
 * Every test compiles a small ruleset written into a temporary directory
 * (quy_fixture.h) and asserts each diagnostic's message and line:col; the
 * shared teardown fails if any diagnostic was left unexpected.
 */
#include "quy_fixture.h"

/* The common head of most rulesets below: 11 lines, so the `rate member {`
 * line is 12 and its first item is line 13. */
#define HEAD                                                \
    "ruleset t version \"1\"\n"                             \
    "scale grade { kem < trung_binh < tot < xuat_sac }\n"   \
    "enum color { red, green }\n"                           \
    "record member {\n"                                     \
    "  tasks_total : int\n"                                 \
    "  tasks_completed : int\n"                             \
    "  grades : list of grade\n"                            \
    "  fav : color\n"                                       \
    "  opt : optional int\n"                                \
    "  done : bool\n"                                       \
    "}\n"

/* A rate block whose items are `items` (each line starts at column 3). */
#define RATE(items) HEAD "rate member {\n" items "  otherwise khtnv\n}\n"

#define REC(fields) "{'id':'r','kind':'member','tasks_total':4,'tasks_completed':4,'grades':['tot'],'fav':'red','done':true" fields "}"

/* ---------------------------------------------------------------------
 * Names
 * ------------------------------------------------------------------- */

static void test_ok_baseline(void **state)
{
    qfx *fx = *state;
    q_program *p = qfx_ok(fx, RATE("  a: htxsnv when tasks_completed = tasks_total and all grades >= tot cite \"x\"\n"));
    assert_int_equal(p->nkinds, 1);
    assert_int_equal(p->kinds[0].nrules, 2);
    assert_int_equal(qfx_tier(fx, REC("")), QO_HTXSNV);
    assert_int_equal(qfx_tier(fx, REC(",'opt':3,'tasks_completed':3")), QO_KHTNV);
}

static void test_unknown_field_suggests(void **state)
{
    qfx *fx = *state;
    assert_null(qfx_src(fx, RATE("  a: htxsnv when tasks_compelted = 1 cite \"x\"\n")));
    qfx_expect(fx, DIAG_ERROR, 13, 18, "unknown field 'tasks_compelted'; did you mean 'tasks_completed'?");
    assert_int_equal(qfx_count(fx, DIAG_ERROR), 1);
}

static void test_unknown_field_no_suggestion(void **state)
{
    qfx *fx = *state;
    assert_null(qfx_src(fx, RATE("  a: htxsnv when zzzzzzzz cite \"x\"\n")));
    qfx_expect(fx, DIAG_ERROR, 13, 18, "unknown field 'zzzzzzzz' in record 'member'");
}

static void test_unknown_enum_member(void **state)
{
    qfx *fx = *state;
    assert_null(qfx_src(fx, RATE("  a: httnv when fav = gren cite \"x\"\n"
                                 "  b: htnv when all grades >= tott cite \"x\"\n")));
    qfx_expect(fx, DIAG_ERROR, 13, 23, "'gren' is not a field nor a value of color; did you mean 'green'?");
    qfx_expect(fx, DIAG_ERROR, 14, 30, "'tott' is not a field nor a value of grade; did you mean 'tot'?");
}

static void test_member_of_other_type(void **state)
{
    qfx *fx = *state;
    /* `tot` is a grade, not a color */
    assert_null(qfx_src(fx, RATE("  a: httnv when fav = tot cite \"x\"\n")));
    qfx_expect(fx, DIAG_ERROR, 13, 23, "'tot' is not a field nor a value of color");
}

static void test_unknown_type(void **state)
{
    qfx *fx = *state;
    assert_null(qfx_src(fx, "ruleset t version \"1\"\n"
                            "enum color { red, green }\n"
                            "record member {\n"
                            "  fav : colour\n"
                            "  n : list of intt\n"
                            "}\n"
                            "rate member {\n"
                            "  otherwise khtnv\n"
                            "}\n"));
    qfx_expect(fx, DIAG_ERROR, 4, 9, "unknown type 'colour'; did you mean 'color'?");
    qfx_expect(fx, DIAG_ERROR, 5, 15, "unknown type 'intt'; did you mean 'int'?");
}

static void test_unknown_record_in_rate(void **state)
{
    qfx *fx = *state;
    assert_null(qfx_src(fx, HEAD "rate membr {\n  otherwise khtnv\n}\n"));
    qfx_expect(fx, DIAG_ERROR, 12, 6, "no record 'membr' to rate; did you mean 'member'?");
}

static void test_it_outside_quantifier(void **state)
{
    qfx *fx = *state;
    assert_null(qfx_src(fx, RATE("  a: htnv when it > 1 cite \"x\"\n")));
    qfx_expect(fx, DIAG_ERROR, 13, 16, "'it' is only meaningful inside all/any/none/count/sum");
}

static void test_it_inside_quantifier_ok(void **state)
{
    qfx *fx = *state;
    qfx_ok(fx, RATE("  a: htnv when any grades where it = kem cite \"x\"\n"
                    "  b: htnv when (count grades where it >= tot) >= 1 cite \"x\"\n"));
}

/* ---------------------------------------------------------------------
 * Types
 * ------------------------------------------------------------------- */

static void test_condition_must_be_bool(void **state)
{
    qfx *fx = *state;
    assert_null(qfx_src(fx, RATE("  a: htnv when tasks_total cite \"x\"\n"
                                 "  b: htnv when tasks_total + 1 cite \"x\"\n"
                                 "  c: htnv when done unless tasks_total cite \"x\"\n")));
    qfx_expect(fx, DIAG_ERROR, 13, 16, "a rule condition must be true/false (bool), not int");
    qfx_expect(fx, DIAG_ERROR, 14, 16, "a rule condition must be true/false (bool), not int");
    qfx_expect(fx, DIAG_ERROR, 15, 28, "an 'unless' exception must be true/false (bool), not int");
}

static void test_enum_has_no_order(void **state)
{
    qfx *fx = *state;
    assert_null(qfx_src(fx, RATE("  a: htnv when fav < red cite \"x\"\n"
                                 "  b: htnv when done >= true cite \"x\"\n")));
    qfx_expect(fx, DIAG_ERROR, 13, 20, "color has no order: only = and != apply");
    qfx_expect(fx, DIAG_ERROR, 14, 21, "bool has no order");
}

static void test_scale_and_enum_compare_ok(void **state)
{
    qfx *fx = *state;
    q_program *p = qfx_ok(fx, RATE("  a: htxsnv when all grades < tot and fav != red cite \"x\"\n"
                                   "  b: httnv when all grades >= tot and fav = red cite \"x\"\n"));
    (void)p;
    assert_int_equal(qfx_tier(fx, REC(",'grades':['kem','trung_binh'],'fav':'green'")), QO_HTXSNV);
    assert_int_equal(qfx_tier(fx, REC(",'grades':['kem','tot'],'fav':'green'")), QO_KHTNV);
    assert_int_equal(qfx_tier(fx, REC(",'grades':['xuat_sac','tot'],'fav':'red'")), QO_HTTNV);
}

static void test_compare_different_types(void **state)
{
    qfx *fx = *state;
    assert_null(qfx_src(fx, RATE("  a: htnv when fav = tasks_total cite \"x\"\n"
                                 "  b: htnv when done = 1 cite \"x\"\n")));
    qfx_expect(fx, DIAG_ERROR, 13, 20, "cannot compare color with int");
    qfx_expect(fx, DIAG_ERROR, 14, 21, "cannot compare bool with int");
}

static void test_arithmetic_on_bool(void **state)
{
    qfx *fx = *state;
    assert_null(qfx_src(fx, RATE("  a: htnv when done + 1 > 2 cite \"x\"\n"
                                 "  b: htnv when -done < 0 cite \"x\"\n")));
    qfx_expect(fx, DIAG_ERROR, 13, 16, "expected a number, not bool");
    qfx_expect(fx, DIAG_ERROR, 14, 17, "expected a number, not bool");
}

static void test_share_arity_and_types(void **state)
{
    qfx *fx = *state;
    assert_null(qfx_src(fx, RATE("  a: htnv when share(1) > 2% cite \"x\"\n"
                                 "  b: htnv when share(1, 2, 3) > 2% cite \"x\"\n"
                                 "  c: htnv when share(done, 2) > 2% cite \"x\"\n"
                                 "  d: htnv when shar(1, 2) > 2% cite \"x\"\n")));
    qfx_expect(fx, DIAG_ERROR, 13, 16, "share(part, whole) takes two numbers");
    qfx_expect(fx, DIAG_ERROR, 14, 16, "share(part, whole) takes two numbers");
    qfx_expect(fx, DIAG_ERROR, 15, 22, "expected a number, not bool");
    qfx_expect(fx, DIAG_ERROR, 16, 16, "unknown function 'shar'");
}

static void test_present_of_non_field(void **state)
{
    qfx *fx = *state;
    assert_null(qfx_src(fx, HEAD "rate member {\n"
                                 "  let undone = tasks_total - tasks_completed\n"
                                 "  a: htnv when present(undone) cite \"x\"\n"
                                 "  b: htnv when present(tasks_compelted) cite \"x\"\n"
                                 "  otherwise khtnv\n}\n"));
    qfx_expect(fx, DIAG_ERROR, 14, 24, "present() takes a field of the record");
    qfx_expect(fx, DIAG_ERROR, 15, 24, "unknown field 'tasks_compelted'; did you mean 'tasks_completed'?");
}

static void test_list_used_as_value(void **state)
{
    qfx *fx = *state;
    assert_null(qfx_src(fx, RATE("  a: htnv when grades = tot cite \"x\"\n")));
    qfx_expect(fx, DIAG_ERROR, 13, 16, "'grades' is a list: use all/any/none/count/sum over it");
    /* and no cascading "unknown field 'tot'": one mistake, one error
     * (teardown fails on any diagnostic left unexpected) */
}

/* ---------------------------------------------------------------------
 * Decision order, otherwise, reachability
 * ------------------------------------------------------------------- */

static void test_decision_order(void **state)
{
    qfx *fx = *state;
    assert_null(qfx_src(fx, RATE("  a: htnv when done cite \"x\"\n"
                                 "  b: khtnv when done cite \"x\"\n"
                                 "  c: httnv when done cite \"x\"\n")));
    qfx_expect(fx, DIAG_ERROR, 14, 6, "rule 'b' (khtnv) is out of decision order");
    qfx_expect(fx, DIAG_ERROR, 15, 6, "rule 'c' (httnv) is out of decision order");
}

static void test_decision_order_ok(void **state)
{
    qfx *fx = *state;
    qfx_ok(fx, RATE("  n: not_rated when tasks_total = 0 cite \"x\"\n"
                    "  d: deferred when tasks_total = 1 cite \"x\"\n"
                    "  k: khtnv when tasks_total = 2 cite \"x\"\n"
                    "  x: htxsnv when tasks_total = 3 cite \"x\"\n"
                    "  t: httnv when tasks_total = 4 cite \"x\"\n"
                    "  h: htnv when tasks_total = 5 cite \"x\"\n"));
    static const int want[] = {QO_NOT_RATED, QO_DEFERRED, QO_KHTNV, QO_HTXSNV, QO_HTTNV, QO_HTNV, QO_KHTNV};
    for (int i = 0; i <= 6; i++) {
        char rec[256];
        snprintf(rec, sizeof rec,
                 "{'id':'r','kind':'member','tasks_total':%d,'tasks_completed':0,'grades':[],'fav':'red','done':true}", i);
        assert_int_equal(qfx_tier(fx, rec), want[i]);
    }
}

static void test_missing_otherwise(void **state)
{
    qfx *fx = *state;
    assert_null(qfx_src(fx, HEAD "rate member {\n  a: htnv when done cite \"x\"\n}\n"));
    qfx_expect(fx, DIAG_ERROR, 12, 6, "'rate member' has no 'otherwise' rule");
}

static void test_rule_after_otherwise(void **state)
{
    qfx *fx = *state;
    assert_null(qfx_src(fx, HEAD "rate member {\n"
                                 "  otherwise khtnv\n"
                                 "  a: htnv when done cite \"x\"\n"
                                 "}\n"));
    qfx_expect(fx, DIAG_ERROR, 14, 3, "rule after 'otherwise': 'otherwise' must be the last rule");
}

static void test_never_reached_warning(void **state)
{
    qfx *fx = *state;
    q_program *p = qfx_src(fx, RATE("  a: htxsnv when true cite \"x\"\n"
                                    "  b: htnv when done cite \"x\"\n"));
    /* warnings do not fail the compile */
    assert_non_null(p);
    qfx_expect(fx, DIAG_WARNING, 14, 3, "rule 'b' can never be reached: an earlier rule always holds");
    qfx_expect(fx, DIAG_WARNING, 15, 3, "rule 'otherwise' can never be reached");
    assert_int_equal(qfx_count(fx, DIAG_ERROR), 0);
    assert_int_equal(qfx_tier(fx, REC(",'done':false")), QO_HTXSNV);
}

static void test_no_warning_after_rule_with_error(void **state)
{
    qfx *fx = *state;
    /* `true` followed by a clause with an error: not "always holds" */
    assert_null(qfx_src(fx, RATE("  a: htxsnv when true and tasks_compelted > 0 cite \"x\"\n"
                                 "  b: htnv when done cite \"x\"\n")));
    qfx_expect(fx, DIAG_ERROR, 13, 27, "unknown field 'tasks_compelted'");
    assert_int_equal(qfx_count(fx, DIAG_WARNING), 0);
    /* a rule that is only an error */
    assert_null(qfx_src(fx, RATE("  a: htxsnv when tasks_compelted cite \"x\"\n"
                                 "  b: htnv when done cite \"x\"\n")));
    qfx_expect(fx, DIAG_ERROR, 13, 18, "unknown field 'tasks_compelted'");
    assert_int_equal(qfx_count(fx, DIAG_WARNING), 0);
}

static void test_true_unless_is_not_always(void **state)
{
    qfx *fx = *state;
    q_program *p = qfx_ok(fx, RATE("  a: htxsnv when true unless done cite \"x\"\n"
                                   "  b: htnv when done cite \"x\"\n"));
    (void)p;
    assert_int_equal(qfx_tier(fx, REC(",'done':false")), QO_HTXSNV);
    assert_int_equal(qfx_tier(fx, REC(",'done':true")), QO_HTNV);
}

/* ---------------------------------------------------------------------
 * Optional fields
 * ------------------------------------------------------------------- */

static void test_optional_needs_guard(void **state)
{
    qfx *fx = *state;
    assert_null(qfx_src(fx, RATE("  a: htnv when opt > 1 cite \"x\"\n"
                                 "  b: htnv when done and opt > 1 cite \"x\"\n"
                                 "  c: htnv when present(opt) and opt > 1 cite \"x\"\n")));
    qfx_expect(fx, DIAG_ERROR, 13, 16, "'opt' may be absent (optional): end the clause with 'if present'");
    qfx_expect(fx, DIAG_ERROR, 14, 25, "or test present(opt) in it");
    /* `and` starts a new clause: present() in the first does not guard the second */
    qfx_expect(fx, DIAG_ERROR, 15, 33, "'opt' may be absent");
}

static void test_optional_guarded_ok(void **state)
{
    qfx *fx = *state;
    qfx_ok(fx, RATE("  a: htxsnv when opt > 1 if present cite \"x\"\n"
                    "  b: httnv when (present(opt) and opt > 1) cite \"x\"\n"
                    "  c: htnv when not present(opt) or opt = 0 cite \"x\"\n"));
    /* absent: a's clause is skipped (holds); present and > 1: a holds */
    assert_int_equal(qfx_tier(fx, REC("")), QO_HTXSNV);
    assert_int_equal(qfx_tier(fx, REC(",'opt':5")), QO_HTXSNV);
    assert_int_equal(qfx_tier(fx, REC(",'opt':0")), QO_HTNV);
    assert_int_equal(qfx_tier(fx, REC(",'opt':1")), QO_KHTNV);
}

static void test_optional_through_let_and_unless(void **state)
{
    qfx *fx = *state;
    assert_null(qfx_src(fx, HEAD "rate member {\n"
                                 "  let x = opt + 1\n"
                                 "  a: khtnv when x > 1 cite \"t\"\n"
                                 "  b: khtnv when done unless opt > 2 cite \"t\"\n"
                                 "  otherwise khtnv\n}\n"));
    qfx_expect(fx, DIAG_ERROR, 14, 17, "'opt' may be absent");
    qfx_expect(fx, DIAG_ERROR, 15, 17, "'opt' may be absent");
    /* guarded: fine; a khtnv rule with a skipped clause does not apply */
    qfx_ok(fx, HEAD "rate member {\n"
                    "  let x = opt + 1\n"
                    "  a: khtnv when x > 1 if present cite \"t\"\n"
                    "  otherwise htnv\n}\n");
    assert_int_equal(qfx_tier(fx, REC("")), QO_HTNV);
    assert_int_equal(qfx_tier(fx, REC(",'opt':1")), QO_KHTNV);
    assert_int_equal(qfx_tier(fx, REC(",'opt':0")), QO_HTNV);
}

static void test_flag_if_present_not_raised_when_absent(void **state)
{
    qfx *fx = *state;
    q_program *p = qfx_ok(fx, RATE("  flag big \"lớn\" when opt > 1 if present cite \"t\"\n"));
    vm_result r;
    qfx_tier_res(fx, REC(""), &r);
    assert_int_equal(r.nflags, 0);
    qfx_tier_res(fx, REC(",'opt':2"), &r);
    assert_int_equal(r.nflags, 1);
    assert_string_equal(qfx_flag_name(p, &r, 0), "big");
    qfx_tier_res(fx, REC(",'opt':1"), &r);
    assert_int_equal(r.nflags, 0);
}

/* ---------------------------------------------------------------------
 * Citations
 * ------------------------------------------------------------------- */

static void test_missing_cite_is_parse_error(void **state)
{
    qfx *fx = *state;
    assert_null(qfx_src(fx, RATE("  a: htnv when done\n")));
    qfx_expect(fx, DIAG_ERROR, 13, 20, "missing 'cite' after rule condition");
    assert_null(qfx_src(fx, RATE("  flag f \"msg\" when done\n")));
    qfx_expect(fx, DIAG_ERROR, 13, 25, "missing 'cite' after flag condition");
}

static void test_empty_cite_is_error(void **state)
{
    qfx *fx = *state;
    assert_null(qfx_src(fx, RATE("  a: htnv when done cite \"\"\n"
                                 "  flag f \"msg\" when done cite \"\"\n")));
    qfx_expect(fx, DIAG_ERROR, 13, 3, "rule 'a' needs a 'cite' naming the clause it encodes");
    qfx_expect(fx, DIAG_ERROR, 14, 3, "flag 'f' needs a 'cite'");
}

/* ---------------------------------------------------------------------
 * Several errors in one file
 * ------------------------------------------------------------------- */

static void test_all_errors_reported(void **state)
{
    qfx *fx = *state;
    assert_null(qfx_src(fx, HEAD "rate member {\n"
                                 "  let undone = tasks_total - tasks_completed\n"
                                 "  a: htxsnv when tasks_compelted = 1 cite \"x\"\n"
                                 "  b: httnv when fav = gren cite \"x\"\n"
                                 "  c: htnv when it > 1 cite \"x\"\n"
                                 "  d: htnv when tasks_total cite \"x\"\n"
                                 "  e: htnv when fav < red cite \"x\"\n"
                                 "  f: htnv when all grades < tot cite \"x\"\n"
                                 "  g: htnv when fav = tasks_total cite \"x\"\n"
                                 "  h: htnv when done + 1 > 2 cite \"x\"\n"
                                 "  i: htnv when share(1) > 2 cite \"x\"\n"
                                 "  j: htnv when present(undone) cite \"x\"\n"
                                 "  l: htnv when opt > 1 cite \"x\"\n"
                                 "  m: htnv when opt > 1 if present cite \"x\"\n"
                                 "  otherwise khtnv\n"
                                 "}\n"));
    assert_int_equal(qfx_count(fx, DIAG_ERROR), 10);
    assert_int_equal(qfx_count(fx, DIAG_WARNING), 0);
    qfx_expect(fx, DIAG_ERROR, 14, 18, "unknown field 'tasks_compelted'; did you mean 'tasks_completed'?");
    qfx_expect(fx, DIAG_ERROR, 15, 23, "'gren' is not a field nor a value of color; did you mean 'green'?");
    qfx_expect(fx, DIAG_ERROR, 16, 16, "'it' is only meaningful");
    qfx_expect(fx, DIAG_ERROR, 17, 16, "a rule condition must be true/false (bool), not int");
    qfx_expect(fx, DIAG_ERROR, 18, 20, "color has no order");
    qfx_expect(fx, DIAG_ERROR, 20, 20, "cannot compare color with int");
    qfx_expect(fx, DIAG_ERROR, 21, 16, "expected a number, not bool");
    qfx_expect(fx, DIAG_ERROR, 22, 16, "share(part, whole) takes two numbers");
    qfx_expect(fx, DIAG_ERROR, 23, 24, "present() takes a field of the record");
    qfx_expect(fx, DIAG_ERROR, 24, 16, "'opt' may be absent");
}

/* ---------------------------------------------------------------------
 * extends chains
 * ------------------------------------------------------------------- */

#define PARENT                                                  \
    "ruleset parent version \"1\"\n"                            \
    "record member {\n"                                         \
    "  tasks_total : int\n"                                     \
    "  tasks_completed : int\n"                                 \
    "  done : bool\n"                                           \
    "  extra : bool\n"                                          \
    "}\n"                                                       \
    "rate member {\n"                                           \
    "  xs: htxsnv when done cite \"P 1\"\n"                     \
    "  tot: httnv when tasks_completed = tasks_total cite \"P 2\"\n" \
    "  otherwise htnv cite \"P 3\"\n"                           \
    "}\n"

#define PREC(fields) "{'id':'r','kind':'member','tasks_total':4,'tasks_completed':4,'done':true,'extra':false" fields "}"

static uint32_t rule_by_name(const q_program *p, const char *name)
{
    for (uint32_t i = 0; i < p->nrules; i++)
        if (strcmp(prog_str(p, p->rules[i].name), name) == 0) return i;
    fail_msg("no rule '%s'", name);
    return QUY_NONE;
}

static void test_parent_alone(void **state)
{
    qfx *fx = *state;
    qfx_file(fx, "parent", PARENT);
    q_program *p = qfx_compile(fx, "parent");
    assert_non_null(p);
    assert_int_equal(p->nlayers, 1);
    assert_int_equal(qfx_tier(fx, PREC("")), QO_HTXSNV);
    assert_int_equal(qfx_tier(fx, PREC(",'done':false")), QO_HTTNV);
    assert_int_equal(qfx_tier(fx, PREC(",'done':false,'tasks_completed':3")), QO_HTNV);
}

static void test_amend_also_requires(void **state)
{
    qfx *fx = *state;
    qfx_file(fx, "parent", PARENT);
    qfx_file(fx, "child", "ruleset child extends parent version \"2\"\n"
                          "amend rate member {\n"
                          "  htxsnv also requires extra \"Có thêm\" cite \"C 1\"\n"
                          "}\n");
    q_program *p = qfx_compile(fx, "child");
    assert_non_null(p);
    assert_int_equal(compiler_diags(fx->c)->n, 0);
    assert_int_equal(p->nlayers, 2);
    assert_string_equal(prog_str(p, p->layers[0]), "parent");
    assert_string_equal(prog_str(p, p->layers[1]), "child");
    assert_string_equal(prog_str(p, p->name), "child");
    uint32_t xs = rule_by_name(p, "xs");
    const q_rule *r = &p->rules[xs];
    assert_int_equal(r->nclauses, 2);
    assert_string_equal(prog_str(p, r->layer), "parent");
    const q_clause *c0 = &p->clauses[r->first_clause], *c1 = &p->clauses[r->first_clause + 1];
    assert_string_equal(prog_str(p, c0->layer), "parent");
    assert_string_equal(prog_str(p, c0->cite), "P 1");
    assert_string_equal(prog_str(p, c1->layer), "child");
    assert_string_equal(prog_str(p, c1->cite), "C 1");
    assert_string_equal(prog_str(p, c1->text), "extra");
    assert_string_equal(prog_str(p, c1->label), "Có thêm");
    /* the other rules are untouched */
    assert_int_equal(p->rules[rule_by_name(p, "tot")].nclauses, 1);
    /* done but not extra: no longer htxsnv */
    assert_int_equal(qfx_tier(fx, PREC("")), QO_HTTNV);
    assert_int_equal(qfx_tier(fx, PREC(",'extra':true")), QO_HTXSNV);
}

static void test_amend_replace(void **state)
{
    qfx *fx = *state;
    qfx_file(fx, "parent", PARENT);
    qfx_file(fx, "child", "ruleset child extends parent version \"2\"\n"
                          "amend rate member {\n"
                          "  replace tot \"Tốt (địa phương)\": httnv when tasks_completed >= 3 cite \"C 2\"\n"
                          "}\n");
    q_program *p = qfx_compile(fx, "child");
    assert_non_null(p);
    /* looser than the parent's: said at check (issue 11.10) */
    qfx_expect_in(fx, "child.quy", DIAG_WARNING, 3, 11,
                  "rule 'tot' (httnv) replaces parent's without its clause 'tasks_completed = tasks_total': a record "
                  "that fails it can be rated httnv where parent rates it lower");
    assert_int_equal(compiler_diags(fx->c)->n, 1);
    assert_int_equal(p->kinds[0].nrules, 3);
    uint32_t t = rule_by_name(p, "tot");
    assert_int_equal(t, 1); /* keeps its place */
    assert_string_equal(prog_str(p, p->rules[t].layer), "child");
    assert_string_equal(prog_str(p, p->rules[t].cite), "C 2");
    assert_string_equal(prog_str(p, p->clauses[p->rules[t].first_clause].text), "tasks_completed >= 3");
    assert_int_equal(qfx_tier(fx, PREC(",'done':false,'tasks_completed':3")), QO_HTTNV);
    assert_int_equal(qfx_tier(fx, PREC(",'done':false,'tasks_completed':2")), QO_HTNV);
}

static void test_amend_new_rule_in_order(void **state)
{
    qfx *fx = *state;
    qfx_file(fx, "parent", PARENT);
    qfx_file(fx, "child", "ruleset child extends parent version \"2\"\n"
                          "amend rate member {\n"
                          "  lazy: khtnv when tasks_completed = 0 cite \"C 3\"\n"
                          "}\n");
    q_program *p = qfx_compile(fx, "child");
    assert_non_null(p);
    /* a khtnv rule goes before the tiers */
    assert_int_equal(rule_by_name(p, "lazy"), 0);
    assert_int_equal(qfx_tier(fx, PREC(",'tasks_completed':0")), QO_KHTNV);
    assert_int_equal(qfx_tier(fx, PREC("")), QO_HTXSNV);
}

static void test_replace_unknown_rule(void **state)
{
    qfx *fx = *state;
    qfx_file(fx, "parent", PARENT);
    qfx_file(fx, "child", "ruleset child extends parent version \"2\"\n"
                          "amend rate member {\n"
                          "  replace tott: httnv when done cite \"C 2\"\n"
                          "}\n");
    assert_null(qfx_compile(fx, "child"));
    qfx_expect_in(fx, "child.quy", DIAG_ERROR, 3, 11,
                  "replace: 'tott' is not a rule of 'rate member'; did you mean 'tot'?");
}

static void test_amend_errors(void **state)
{
    qfx *fx = *state;
    qfx_file(fx, "parent", PARENT);
    qfx_file(fx, "child", "ruleset child extends parent version \"2\"\n"
                          "amend rate member {\n"
                          "  replace xs: khtnv when done cite \"C\"\n"
                          "  htnv also requires done cite \"C\"\n"
                          "  otherwise khtnv\n"
                          "  tot: htnv when done cite \"C\"\n"
                          "}\n");
    assert_null(qfx_compile(fx, "child"));
    qfx_expect_in(fx, "child.quy", DIAG_ERROR, 3, 15, "a replacement must keep the rule's place in the decision order (htxsnv)");
    qfx_expect_in(fx, "child.quy", DIAG_ERROR, 4, 3, "'rate member' has no htnv rule to amend");
    qfx_expect_in(fx, "child.quy", DIAG_ERROR, 5, 3, "an amendment cannot add another 'otherwise'");
    qfx_expect_in(fx, "child.quy", DIAG_ERROR, 6, 3, "rule 'tot' already exists in 'rate member'; write 'replace tot: ...'");
}

static void test_second_otherwise_message(void **state)
{
    qfx *fx = *state;
    /* `otherwise` is a keyword and cannot be replaced by name, so the
     * message must not advise it: the parent's fallback stays. */
    qfx_file(fx, "parent", PARENT);
    qfx_file(fx, "child", "ruleset child extends parent version \"2\"\n"
                          "amend rate member {\n"
                          "  otherwise khtnv\n"
                          "}\n");
    assert_null(qfx_compile(fx, "child"));
    qfx_expect_in(fx, "child.quy", DIAG_ERROR, 3, 3,
                  "an amendment cannot add another 'otherwise': the fallback of the layer below stays in force");
}

static void test_duplicate_rule_name(void **state)
{
    qfx *fx = *state;
    assert_null(qfx_src(fx, RATE("  a: htnv when done cite \"x\"\n"
                                 "  a: htnv when done cite \"x\"\n")));
    qfx_expect(fx, DIAG_ERROR, 14, 3, "rule 'a' is already defined in this block");
}

static void test_rate_again_in_child(void **state)
{
    qfx *fx = *state;
    qfx_file(fx, "parent", PARENT);
    qfx_file(fx, "child", "ruleset child extends parent version \"2\"\n"
                          "rate member {\n"
                          "  otherwise khtnv\n"
                          "}\n");
    assert_null(qfx_compile(fx, "child"));
    qfx_expect_in(fx, "child.quy", DIAG_ERROR, 2, 6,
                  "'member' is already rated (by parent); a later layer writes 'amend rate member'");
}

static void test_amend_without_parent_rate(void **state)
{
    qfx *fx = *state;
    assert_null(qfx_src(fx, HEAD "amend rate member {\n  htxsnv also requires done cite \"x\"\n}\n"));
    qfx_expect(fx, DIAG_ERROR, 12, 12, "'amend rate member': no layer below rates 'member'");
}

static void test_also_requires_in_plain_rate(void **state)
{
    qfx *fx = *state;
    assert_null(qfx_src(fx, RATE("  htxsnv also requires done cite \"x\"\n")));
    qfx_expect(fx, DIAG_ERROR, 13, 3, "'also requires' and 'replace' belong in 'amend rate'");
}

static void test_extends_cycle(void **state)
{
    qfx *fx = *state;
    qfx_file(fx, "a", "ruleset a extends b version \"1\"\n");
    qfx_file(fx, "b", "ruleset b extends a version \"1\"\n");
    assert_null(qfx_compile(fx, "a"));
    qfx_expect_in(fx, "b.quy", DIAG_ERROR, 1, 19, "'extends' cycle: 'a' extends itself");
    /* and a file extending itself */
    qfx_file(fx, "s", "ruleset s extends s version \"1\"\n");
    assert_null(qfx_compile(fx, "s"));
    qfx_expect_in(fx, "s.quy", DIAG_ERROR, 1, 19, "'extends' cycle: 's' extends itself");
}

static void test_extends_missing_parent(void **state)
{
    qfx *fx = *state;
    qfx_file(fx, "child", "ruleset child extends nosuch version \"2\"\n"
                          "amend rate member {\n"
                          "  htxsnv also requires done cite \"C 1\"\n"
                          "}\n");
    assert_null(qfx_compile(fx, "child"));
    qfx_expect_in(fx, "child.quy", DIAG_ERROR, 1, 23, "cannot find ruleset 'nosuch'");
}

/* ---------------------------------------------------------------------
 * amend record, amend rate additions, names that do not exist below
 * ------------------------------------------------------------------- */

#define PARENT2                                               \
    "ruleset parent version \"1\"\n"                          \
    "record common {\n"                                       \
    "  months : int\n"                                        \
    "  check months >= 0\n"                                   \
    "}\n"                                                     \
    "record member extends common {\n"                        \
    "  done : bool\n"                                         \
    "}\n"                                                     \
    "record leader extends common {\n"                        \
    "  unit_ok : bool\n"                                      \
    "}\n"                                                     \
    "rate member {\n"                                         \
    "  xs: htxsnv when done cite \"P 1\"\n"                   \
    "  otherwise htnv cite \"P 2\"\n"                         \
    "}\n"                                                     \
    "rate leader {\n"                                         \
    "  xs: htxsnv when unit_ok cite \"P 3\"\n"                \
    "  otherwise htnv cite \"P 4\"\n"                         \
    "}\n"

#define CHILD2_HEAD                                          \
    "ruleset child extends parent version \"2\"\n"           \
    "amend record common {\n"                                \
    "  sick_leave : bool = false \"Nghỉ ốm dài ngày\"\n"      \
    "  reviewed_on : optional date \"Ngày kiểm điểm\"\n"     \
    "  check months <= 12 \"Tối đa 12 tháng\"\n"             \
    "}\n"

#define MREC(fields) "{'id':'m','kind':'member','months':12,'done':true" fields "}"
#define LREC(fields) "{'id':'l','kind':'leader','months':12,'unit_ok':true" fields "}"

static void test_amend_record_flattens_into_every_kind(void **state)
{
    qfx *fx = *state;
    qfx_file(fx, "parent", PARENT2);
    qfx_file(fx, "child", CHILD2_HEAD
                          "amend rate member {\n"
                          "  ngan \"Dưới 6 tháng\": not_rated when months < 6 cite \"C 1\"\n"
                          "  om: khtnv when sick_leave cite \"C 2\"\n"
                          "  flag muon \"Kiểm điểm sau hạn\" when reviewed_on > 2024-11-15 if present cite \"C 3\"\n"
                          "}\n"
                          "amend rate leader {\n"
                          "  htxsnv also requires not sick_leave \"Không nghỉ ốm\" cite \"C 4\"\n"
                          "}\n");
    q_program *p = qfx_compile(fx, "child");
    if (!p) qfx_dump(fx);
    assert_non_null(p);
    assert_int_equal(compiler_diags(fx->c)->n, 0);
    /* both kinds carry the added fields, after the fields declared below */
    for (uint32_t k = 0; k < 2; k++) {
        assert_int_equal(p->kinds[k].nfields, 4);
        uint32_t f = prog_find_field(p, k, "sick_leave", 10);
        assert_int_not_equal(f, QUY_NONE);
        assert_int_equal(p->fields[f].slot, 2);
        assert_true(p->fields[f].flags & QF_DEFAULT);
        assert_string_equal(prog_str(p, p->fields[f].label), "Nghỉ ốm dài ngày");
        f = prog_find_field(p, k, "reviewed_on", 11);
        assert_int_not_equal(f, QUY_NONE);
        assert_int_equal(p->fields[f].slot, 3);
        assert_true(p->fields[f].flags & QF_OPTIONAL);
        /* the parent's check and the amendment's */
        assert_int_equal(p->kinds[k].nchecks, 2);
    }
    /* the amended check rejects a record of either kind */
    q_record *r;
    assert_int_equal(qfx_record(fx, MREC(",'months':13"), &r), -1);
    assert_string_equal(fx->rerr.field, "months");
    assert_int_equal(qfx_record(fx, LREC(",'months':13"), &r), -1);
    /* default false: rated as before */
    vm_result res;
    assert_int_equal(qfx_tier_res(fx, MREC(""), &res), QO_HTXSNV);
    assert_int_equal(res.nflags, 0);
    /* the new not_rated and khtnv rules come first, in that order */
    assert_int_equal(rule_by_name(p, "ngan"), 0);
    assert_int_equal(rule_by_name(p, "om"), 1);
    assert_string_equal(prog_str(p, p->rules[0].layer), "child");
    assert_int_equal(qfx_tier(fx, MREC(",'months':5")), QO_NOT_RATED);
    assert_int_equal(qfx_tier(fx, MREC(",'sick_leave':true")), QO_KHTNV);
    /* the flag reads the added optional field; absent: not raised */
    assert_int_equal(qfx_tier_res(fx, MREC(",'reviewed_on':'2024-11-20'"), &res), QO_HTXSNV);
    assert_int_equal(res.nflags, 1);
    assert_string_equal(qfx_flag_name(p, &res, 0), "muon");
    assert_int_equal(qfx_tier_res(fx, MREC(",'reviewed_on':'2024-11-15'"), &res), QO_HTXSNV);
    assert_int_equal(res.nflags, 0);
    /* leaders: the requirement reads the added field */
    assert_int_equal(qfx_tier(fx, LREC("")), QO_HTXSNV);
    assert_int_equal(qfx_tier(fx, LREC(",'sick_leave':true")), QO_HTNV);
}

static void test_amend_record_new_record_and_gap(void **state)
{
    qfx *fx = *state;
    qfx_file(fx, "parent", PARENT2);
    /* a variant may declare new records (and rate them) and add gaps */
    qfx_file(fx, "child", CHILD2_HEAD
                          "record staff extends common \"Công chức\" {\n"
                          "  score : int\n"
                          "}\n"
                          "rate staff {\n"
                          "  tot: httnv when score >= 90 cite \"C 5\"\n"
                          "  otherwise htnv flag gap\n"
                          "}\n"
                          "amend rate member {\n"
                          "  gap chua_xet \"Chưa kiểm điểm\" when not present(reviewed_on) cite \"C 6\"\n"
                          "}\n");
    q_program *p = qfx_compile(fx, "child");
    if (!p) qfx_dump(fx);
    assert_non_null(p);
    assert_int_equal(p->nkinds, 3);
    uint32_t k = 2;
    assert_string_equal(prog_str(p, p->kinds[k].name), "staff");
    assert_int_equal(p->kinds[k].nfields, 4); /* months, score, sick_leave, reviewed_on */
    assert_int_not_equal(prog_find_field(p, k, "sick_leave", 10), QUY_NONE);
    assert_int_equal(qfx_tier(fx, "{'id':'s','kind':'staff','months':3,'score':95}"), QO_HTTNV);
    /* the gap fires only when `otherwise` decides */
    vm_result res;
    assert_int_equal(qfx_tier_res(fx, MREC(",'done':false"), &res), QO_HTNV);
    assert_int_equal(res.nflags, 1);
    assert_string_equal(qfx_flag_name(p, &res, 0), "chua_xet");
    assert_int_equal(qfx_tier_res(fx, MREC(",'done':false,'reviewed_on':'2024-11-01'"), &res), QO_HTNV);
    assert_int_equal(res.nflags, 0);
}

static void test_amend_record_errors(void **state)
{
    qfx *fx = *state;
    qfx_file(fx, "parent", PARENT2);
    qfx_file(fx, "child", "ruleset child extends parent version \"2\"\n"
                          "amend record comon {\n"
                          "  x : bool\n"
                          "}\n"
                          "amend record common {\n"
                          "  done : bool\n"
                          "  check nosuch > 1\n"
                          "}\n"
                          "record extra extends membr {\n"
                          "  y : bool\n"
                          "}\n"
                          "record local {\n"
                          "  z : bool\n"
                          "}\n"
                          "amend record local {\n"
                          "  w : bool\n"
                          "}\n"
                          "rate extra {\n"
                          "  otherwise htnv\n"
                          "}\n");
    assert_null(qfx_compile(fx, "child"));
    qfx_expect_in(fx, "child.quy", DIAG_ERROR, 2, 14, "amend record: unknown record 'comon'; did you mean 'common'?");
    /* an added field that a kind below already has: once per kind deriving from it */
    qfx_expect_in(fx, "child.quy", DIAG_ERROR, 6, 3, "field 'done' is declared twice in record 'member'");
    qfx_expect_in(fx, "child.quy", DIAG_ERROR, 7, 9, "unknown field 'nosuch'");
    qfx_expect_in(fx, "child.quy", DIAG_ERROR, 7, 9, "unknown field 'nosuch'");
    qfx_expect_in(fx, "child.quy", DIAG_ERROR, 9, 22, "unknown record 'membr'; did you mean 'member'?");
    qfx_expect_in(fx, "child.quy", DIAG_ERROR, 15, 14, "record 'local' is declared in this ruleset");
}

static void test_amend_unknown_names_suggest(void **state)
{
    qfx *fx = *state;
    qfx_file(fx, "parent", PARENT2);
    qfx_file(fx, "child", "ruleset child extends parent version \"2\"\n"
                          "amend rate membr {\n"
                          "  htxsnv also requires done cite \"C\"\n"
                          "}\n"
                          "amend rate member {\n"
                          "  htxsvn also requires done cite \"C\"\n"
                          "  httnv also requires done cite \"C\"\n"
                          "  replace x: htxsnv when done cite \"C\"\n"
                          "}\n");
    assert_null(qfx_compile(fx, "child"));
    qfx_expect_in(fx, "child.quy", DIAG_ERROR, 2, 12, "'amend rate membr': no layer below rates 'membr'; did you mean 'member'?");
    qfx_expect_in(fx, "child.quy", DIAG_ERROR, 6, 3, "'also requires' amends a tier: htxsnv, httnv or htnv; did you mean 'htxsnv'?");
    qfx_expect_in(fx, "child.quy", DIAG_ERROR, 7, 3, "'rate member' has no httnv rule to amend (its tier rules: htxsnv)");
    qfx_expect_in(fx, "child.quy", DIAG_ERROR, 8, 11, "replace: 'x' is not a rule of 'rate member'; did you mean 'xs'?");
}

static void test_amend_record_in_root_is_error(void **state)
{
    qfx *fx = *state;
    assert_null(qfx_src(fx, HEAD "amend record membr {\n  x : bool\n}\n"));
    qfx_expect(fx, DIAG_ERROR, 12, 14, "amend record: unknown record 'membr'; did you mean 'member'?");
    assert_null(qfx_src(fx, HEAD "amend record member {\n  x : bool\n}\n"));
    qfx_expect(fx, DIAG_ERROR, 12, 14, "record 'member' is declared in this ruleset");
}

/* ---------------------------------------------------------------------
 * Exact arithmetic, decided by the language
 * ------------------------------------------------------------------- */

#define ARITH_HEAD                 \
    "ruleset arith version \"1\"\n" \
    "record member {\n"            \
    "  a : int\n"                  \
    "  b : int\n"                  \
    "  x : decimal\n"              \
    "  y : decimal\n"              \
    "  z : decimal\n"              \
    "  p : percent\n"              \
    "}\n"

/* Does `cond` hold for the record with `fields`? Compiled as
 * `yes: htxsnv when COND` + `otherwise khtnv`, rated in both VM modes. */
static bool holds(qfx *fx, const char *cond, const char *fields)
{
    char src[1024], rec[512];
    snprintf(src, sizeof src, ARITH_HEAD "rate member {\n  yes: htxsnv when %s cite \"t\"\n  otherwise khtnv\n}\n", cond);
    if (!qfx_src(fx, src)) {
        print_error("does not compile: %s\n", cond);
        qfx_dump(fx);
    }
    assert_non_null(fx->p);
    snprintf(rec, sizeof rec, "{'id':'r','kind':'member','a':0,'b':0,'x':0,'y':0,'z':0,'p':0%s%s}", *fields ? "," : "",
             fields);
    int t = qfx_tier(fx, rec);
    assert_true(t == QO_HTXSNV || t == QO_KHTNV);
    return t == QO_HTXSNV;
}

static void test_exact_share(void **state)
{
    qfx *fx = *state;
    /* literals */
    assert_true(holds(fx, "share(1, 2) >= 50%", ""));
    assert_true(holds(fx, "share(7, 10) >= 70%", ""));
    assert_false(holds(fx, "share(7, 10) < 70%", ""));
    assert_true(holds(fx, "share(2, 3) < 66.67%", ""));
    assert_false(holds(fx, "share(2, 3) >= 66.67%", ""));
    assert_true(holds(fx, "share(2, 3) > 66.66%", ""));
    /* fields */
    assert_true(holds(fx, "share(a, b) >= 50%", "'a':1,'b':2"));
    assert_false(holds(fx, "share(a, b) >= 50%", "'a':49,'b':99"));
    assert_true(holds(fx, "share(a, b) >= 70%", "'a':7,'b':10"));
    assert_false(holds(fx, "share(a, b) < 70%", "'a':7,'b':10"));
    assert_true(holds(fx, "share(a, b) < 70%", "'a':699999,'b':1000000"));
    assert_true(holds(fx, "share(a, b) < 66.67%", "'a':2,'b':3"));
    assert_true(holds(fx, "share(a, b) = 50%", "'a':5,'b':10"));
    assert_true(holds(fx, "share(a, b) = p", "'a':1,'b':3,'p':33.5") == false);
    assert_true(holds(fx, "share(a, b) = p", "'a':67,'b':200,'p':33.5"));
}

static void test_exact_share_by_zero(void **state)
{
    qfx *fx = *state;
    assert_true(holds(fx, "share(a, b) = 0%", "'a':5,'b':0"));
    assert_true(holds(fx, "share(a, b) = 0%", "'a':0,'b':0"));
    assert_false(holds(fx, "share(a, b) > 0%", "'a':5,'b':0"));
    assert_true(holds(fx, "share(5, 0) = 0%", ""));
}

static void test_exact_decimals(void **state)
{
    qfx *fx = *state;
    assert_true(holds(fx, "89.99 < 90", ""));
    assert_true(holds(fx, "x < 90", "'x':89.99"));
    assert_false(holds(fx, "x >= 90", "'x':89.99"));
    assert_true(holds(fx, "0.1 + 0.2 = 0.3", ""));
    assert_true(holds(fx, "x + y = z", "'x':0.1,'y':0.2,'z':0.3"));
    assert_true(holds(fx, "x + y = 0.3", "'x':0.1,'y':0.2"));
    assert_true(holds(fx, "a / 3 * 3 = a", "'a':1"));
    assert_true(holds(fx, "50% = 25% + 25%", ""));
    assert_true(holds(fx, "p = 50%", "'p':50"));
    assert_true(holds(fx, "p > 50%", "'p':50.01"));
    assert_true(holds(fx, "p + p = 100%", "'p':50"));
    assert_true(holds(fx, "-x < 0", "'x':0.01"));
}

static void test_division_by_zero_is_runtime_error(void **state)
{
    qfx *fx = *state;
    assert_non_null(qfx_src(fx, ARITH_HEAD "rate member {\n  yes: htxsnv when a / b > 1 cite \"t\"\n  otherwise khtnv\n}\n"));
    vm_result r;
    assert_int_equal(qfx_rate(fx, "{'id':'r','kind':'member','a':1,'b':0,'x':0,'y':0,'z':0,'p':0}", &r), VM_DIV_ZERO);
    assert_int_equal(r.error, VM_DIV_ZERO);
    assert_true(r.error_pc < fx->p->ncode);
    assert_int_equal(qfx_rate_trace(fx, "{'id':'r','kind':'member','a':1,'b':0,'x':0,'y':0,'z':0,'p':0}", &r), VM_DIV_ZERO);
    assert_int_equal(qfx_tier(fx, "{'id':'r','kind':'member','a':3,'b':2,'x':0,'y':0,'z':0,'p':0}"), QO_HTXSNV);
}

/* ---------------------------------------------------------------------
 * min / max / filtered sum / longest run / 'else', decided end to end
 * ------------------------------------------------------------------- */

#define AGG_HEAD                                                                       \
    "ruleset agg version \"1\"\n"                                                      \
    "struct ax { role : enum { primary, secondary }  weight : decimal  pct : percent }\n" \
    "record member {\n"                                                                \
    "  axes : list of ax\n"                                                            \
    "  qs : list of tier\n"                                                            \
    "  score : optional decimal\n"                                                     \
    "  n : int\n"                                                                      \
    "}\n"

/* Does `cond` hold for the record whose fields follow `'kind':'member'`? */
static bool agg_holds(qfx *fx, const char *cond, const char *fields)
{
    char src[1024], rec[1024];
    snprintf(src, sizeof src, AGG_HEAD "rate member {\n  yes: htxsnv when %s cite \"t\"\n  otherwise khtnv\n}\n", cond);
    if (!qfx_src(fx, src)) {
        print_error("does not compile: %s\n", cond);
        qfx_dump(fx);
    }
    assert_non_null(fx->p);
    snprintf(rec, sizeof rec, "{'id':'r','kind':'member','n':0%s%s}", *fields ? "," : "", fields);
    int t = qfx_tier(fx, rec);
    assert_true(t == QO_HTXSNV || t == QO_KHTNV);
    return t == QO_HTXSNV;
}

#define AXES3                                                                  \
    "'qs':[],'axes':[{'role':'primary','weight':40,'pct':100},"               \
    "{'role':'secondary','weight':30,'pct':90},{'role':'secondary','weight':30,'pct':80}]"

static void test_min_max_filtered(void **state)
{
    qfx *fx = *state;
    assert_true(agg_holds(fx, "(min axes of weight) = 30", AXES3));
    assert_true(agg_holds(fx, "(max axes of weight) = 40", AXES3));
    assert_true(agg_holds(fx, "(min axes of weight where role = primary) = 40", AXES3));
    assert_true(agg_holds(fx, "(max axes of weight where role = secondary) = 30", AXES3));
    assert_true(agg_holds(fx, "(min axes of weight where role = primary) > (max axes of weight where role = secondary)",
                          AXES3));
    /* a filter with 'not', and a term that is an expression */
    assert_true(agg_holds(fx, "(max axes of weight * pct where not role = primary) = 27", AXES3));
    /* percents compare exactly: 80% < 90% */
    assert_true(agg_holds(fx, "(min axes of pct) = 80%", AXES3));
    /* a scale compares by rank: the lowest quarter */
    assert_true(agg_holds(fx, "(min qs of it) = htnv", "'axes':[],'qs':['httnv','htnv','htxsnv']"));
    assert_true(agg_holds(fx, "(max qs of it) = htxsnv", "'axes':[],'qs':['httnv','htnv','htxsnv']"));
    /* one element is its own min and max */
    assert_true(agg_holds(fx, "(min qs of it) = (max qs of it)", "'axes':[],'qs':['htnv']"));
}

static void test_sum_filtered(void **state)
{
    qfx *fx = *state;
    assert_true(agg_holds(fx, "(sum axes of weight) = 100", AXES3));
    assert_true(agg_holds(fx, "(sum axes of weight * pct) = 91", AXES3));
    assert_true(agg_holds(fx, "(sum axes of weight where role = secondary) = 60", AXES3));
    /* nothing passes the filter: the sum is 0 (not an error, unlike min/max) */
    assert_true(agg_holds(fx, "(sum axes of weight where weight > 50) = 0", AXES3));
}

static void test_min_max_of_nothing_is_runtime_error(void **state)
{
    qfx *fx = *state;
    assert_non_null(qfx_src(fx, AGG_HEAD "rate member {\n  yes: htxsnv when (min axes of weight where weight > 50) > 0 "
                                         "cite \"t\"\n  otherwise khtnv\n}\n"));
    vm_result r;
    const char *rec = "{'id':'r','kind':'member','n':0," AXES3 "}";
    assert_int_equal(qfx_rate(fx, rec, &r), VM_EMPTY);
    assert_true(r.error_pc < fx->p->ncode);
    assert_int_equal(fx->p->code[r.error_pc].op, OP_QEND);
    assert_int_equal(qfx_rate_trace(fx, rec, &r), VM_EMPTY);
    /* an empty list, no filter */
    assert_int_equal(qfx_rate(fx, "{'id':'r','kind':'member','n':0,'qs':[],'axes':[]}", &r), VM_EMPTY);
    /* guarded by a count, 'or' does not evaluate it */
    assert_true(agg_holds(fx, "(count axes where weight > 50) = 0 or (min axes of weight where weight > 50) > 0", AXES3));
}

static void test_longest_run(void **state)
{
    qfx *fx = *state;
    const char *q = "'axes':[],'qs':['khtnv','htnv','khtnv','khtnv']";
    assert_true(agg_holds(fx, "(longest run of qs where it = khtnv) = 2", q));
    assert_true(agg_holds(fx, "(longest run of qs = khtnv) = 2", q));
    assert_true(agg_holds(fx, "(longest run of qs >= htnv) = 1", q));
    assert_true(agg_holds(fx, "(longest run of qs where not it = htxsnv) = 4", q));
    /* separated failing quarters are not consecutive */
    assert_true(agg_holds(fx, "(longest run of qs = khtnv) = 1", "'axes':[],'qs':['khtnv','htnv','khtnv','htnv']"));
    assert_true(agg_holds(fx, "(longest run of qs = khtnv) = 0", "'axes':[],'qs':['htnv','httnv']"));
    assert_true(agg_holds(fx, "(longest run of qs = khtnv) = 0", "'axes':[],'qs':[]"));
    assert_true(agg_holds(fx, "(longest run of qs = khtnv) = 3", "'axes':[],'qs':['htnv','khtnv','khtnv','khtnv']"));
    /* a struct list, with a field in the predicate */
    assert_true(agg_holds(fx, "(longest run of axes where role = secondary) = 2", AXES3));
}

static void test_else_default(void **state)
{
    qfx *fx = *state;
    assert_true(agg_holds(fx, "(score else 7) = 7", AXES3));
    assert_true(agg_holds(fx, "(score else 7) = 95", AXES3 ",'score':95"));
    /* the default can be an aggregate (parenthesised) or a let */
    assert_true(agg_holds(fx, "(score else (sum axes of weight * pct)) = 91", AXES3));
    assert_true(agg_holds(fx, "score else (sum axes of weight * pct) >= 90", AXES3));
    assert_false(agg_holds(fx, "score else (sum axes of weight * pct) >= 90", AXES3 ",'score':89.99"));
    /* binds tighter than arithmetic: (score else 1) + 1 */
    assert_true(agg_holds(fx, "score else 1 + 1 = 2", AXES3));
    assert_true(agg_holds(fx, "score else 1 + 1 = 6", AXES3 ",'score':5"));
    /* no 'if present' needed: the clause never reads an absent field */
    qfx_ok(fx, AGG_HEAD "rate member {\n  let d = score else n\n  a: htnv when d > 1 cite \"t\"\n  otherwise khtnv\n}\n");
}

static void test_new_aggregates_errors(void **state)
{
    qfx *fx = *state;
    assert_null(qfx_src(fx, AGG_HEAD "rate member {\n"
                                     "  a: htnv when (min axes of role) = primary cite \"t\"\n" /* line 10 */
                                     "  b: htnv when (max axes of weight where weight) > 1 cite \"t\"\n"
                                     "  d: htnv when (n else 1) > 1 cite \"t\"\n"
                                     "  e: htnv when (score else done) > 1 cite \"t\"\n"
                                     "  f: htnv when (min n of it) > 1 cite \"t\"\n"
                                     "  otherwise khtnv\n}\n"));
    /* one error each: 'primary' facing the failed min is not reported again */
    qfx_expect(fx, DIAG_ERROR, 10, 29, "min/max need numbers, dates or a scale, not enum");
    qfx_expect(fx, DIAG_ERROR, 11, 42, "the 'where' condition of sum/min/max must be true/false (bool), not decimal");
    qfx_expect(fx, DIAG_ERROR, 12, 17, "'n' is never absent: 'else' follows an optional or computed field");
    qfx_expect(fx, DIAG_ERROR, 13, 28, "unknown field 'done' in record 'member'");
    qfx_expect(fx, DIAG_ERROR, 14, 21, "'n' is int, not a list field");
    /* 'longest run' takes a condition, not a value */
    assert_null(qfx_src(fx, AGG_HEAD "rate member {\n  c: htnv when (longest run of qs of it) > 1 cite \"t\"\n"
                                     "  otherwise khtnv\n}\n"));
    qfx_expect(fx, DIAG_ERROR, 10, 35, "unexpected 'of', expected an operator or 'where'");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, qfx_setup, qfx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_ok_baseline),
        T(test_unknown_field_suggests),
        T(test_unknown_field_no_suggestion),
        T(test_unknown_enum_member),
        T(test_member_of_other_type),
        T(test_unknown_type),
        T(test_unknown_record_in_rate),
        T(test_it_outside_quantifier),
        T(test_it_inside_quantifier_ok),
        T(test_condition_must_be_bool),
        T(test_enum_has_no_order),
        T(test_scale_and_enum_compare_ok),
        T(test_compare_different_types),
        T(test_arithmetic_on_bool),
        T(test_share_arity_and_types),
        T(test_present_of_non_field),
        T(test_list_used_as_value),
        T(test_decision_order),
        T(test_decision_order_ok),
        T(test_missing_otherwise),
        T(test_rule_after_otherwise),
        T(test_never_reached_warning),
        T(test_no_warning_after_rule_with_error),
        T(test_true_unless_is_not_always),
        T(test_optional_needs_guard),
        T(test_optional_guarded_ok),
        T(test_optional_through_let_and_unless),
        T(test_flag_if_present_not_raised_when_absent),
        T(test_missing_cite_is_parse_error),
        T(test_empty_cite_is_error),
        T(test_all_errors_reported),
        T(test_parent_alone),
        T(test_amend_also_requires),
        T(test_amend_replace),
        T(test_amend_new_rule_in_order),
        T(test_replace_unknown_rule),
        T(test_amend_errors),
        T(test_second_otherwise_message),
        T(test_duplicate_rule_name),
        T(test_rate_again_in_child),
        T(test_amend_without_parent_rate),
        T(test_also_requires_in_plain_rate),
        T(test_extends_cycle),
        T(test_extends_missing_parent),
        T(test_amend_record_flattens_into_every_kind),
        T(test_amend_record_new_record_and_gap),
        T(test_amend_record_errors),
        T(test_amend_unknown_names_suggest),
        T(test_amend_record_in_root_is_error),
        T(test_exact_share),
        T(test_exact_share_by_zero),
        T(test_exact_decimals),
        T(test_division_by_zero_is_runtime_error),
        T(test_min_max_filtered),
        T(test_sum_filtered),
        T(test_min_max_of_nothing_is_runtime_error),
        T(test_longest_run),
        T(test_else_default),
        T(test_new_aggregates_errors),
    };
    return cmocka_run_group_tests_name("sema", tests, NULL, NULL);
}
