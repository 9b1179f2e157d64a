/*
 * test_period.c — dates relative to the rating period (issue 11.3):
 * `DD/MM of period` (that day of the period's year), `start of period`
 * and `end of period` (a year's or a quarter's first and last day), in
 * the lexer, the checker, the verifier and both VM modes.
 */
#include "quy_fixture.h"

#include "../../runtime/period.h"

#define HEAD                                 \
    "ruleset t version \"1\"\n"              \
    "record member {\n"                      \
    "  period : string\n"                    \
    "  review_held_on : optional date\n"     \
    "  n : int\n"                            \
    "}\n"

#define REC(period, day) "{'id':'r','kind':'member','n':1,'period':'" period "','review_held_on':'" day "'}"

static void test_day_of_the_period_year(void **state)
{
    qfx *fx = *state;
    qfx_ok(fx, HEAD "rate member {\n"
                    "  late: khtnv when review_held_on >= 05/12 of period if present cite \"x\"\n"
                    "  otherwise htnv\n}\n");
    assert_int_equal(qfx_tier(fx, REC("2023", "2023-12-04")), QO_HTNV);
    assert_int_equal(qfx_tier(fx, REC("2023", "2023-12-05")), QO_KHTNV);
    /* every year, not only 2023 */
    assert_int_equal(qfx_tier(fx, REC("2024", "2024-12-04")), QO_HTNV);
    assert_int_equal(qfx_tier(fx, REC("2024", "2024-12-05")), QO_KHTNV);
    assert_int_equal(qfx_tier(fx, REC("2031", "2031-12-31")), QO_KHTNV);
    /* a quarterly period: the day of its year */
    assert_int_equal(qfx_tier(fx, REC("2026-Q2", "2026-12-04")), QO_HTNV);
    /* absent date: the clause is skipped */
    assert_int_equal(qfx_tier(fx, "{'id':'r','kind':'member','n':1,'period':'2024'}"), QO_HTNV);
}

static void test_start_and_end_of_period(void **state)
{
    qfx *fx = *state;
    qfx_ok(fx, HEAD "rate member {\n"
                    "  inside: htxsnv when review_held_on >= start of period if present\n"
                    "    and review_held_on <= end of period if present cite \"x\"\n"
                    "  otherwise khtnv\n}\n");
    assert_int_equal(qfx_tier(fx, REC("2026-Q2", "2026-04-01")), QO_HTXSNV);
    assert_int_equal(qfx_tier(fx, REC("2026-Q2", "2026-06-30")), QO_HTXSNV);
    assert_int_equal(qfx_tier(fx, REC("2026-Q2", "2026-03-31")), QO_KHTNV);
    assert_int_equal(qfx_tier(fx, REC("2026-Q2", "2026-07-01")), QO_KHTNV);
    assert_int_equal(qfx_tier(fx, REC("2026-q4", "2026-12-31")), QO_HTXSNV);
    assert_int_equal(qfx_tier(fx, REC("2026-Q1", "2026-01-01")), QO_HTXSNV);
    assert_int_equal(qfx_tier(fx, REC("2024", "2024-01-01")), QO_HTXSNV);
    assert_int_equal(qfx_tier(fx, REC("2024", "2024-12-31")), QO_HTXSNV);
    assert_int_equal(qfx_tier(fx, REC("2024", "2025-01-01")), QO_KHTNV);
}

/* Thanh Lâm: "trước ngày 15 tháng cuối quý", "trước ngày 05 tháng đầu quý". */
static void test_day_of_first_and_last_month(void **state)
{
    qfx *fx = *state;
    qfx_ok(fx, HEAD "rate member {\n"
                    "  late: khtnv when review_held_on >= 15 of last month of period if present cite \"x\"\n"
                    "  early: htxsnv when review_held_on < 05 of first month of period if present cite \"x\"\n"
                    "  otherwise htnv\n}\n");
    assert_int_equal(qfx_tier(fx, REC("2026-Q2", "2026-04-04")), QO_HTXSNV);
    assert_int_equal(qfx_tier(fx, REC("2026-Q2", "2026-04-05")), QO_HTNV);
    assert_int_equal(qfx_tier(fx, REC("2026-Q2", "2026-06-14")), QO_HTNV);
    assert_int_equal(qfx_tier(fx, REC("2026-Q2", "2026-06-15")), QO_KHTNV);
    assert_int_equal(qfx_tier(fx, REC("2026-Q3", "2026-09-15")), QO_KHTNV);
    assert_int_equal(qfx_tier(fx, REC("2026", "2026-01-04")), QO_HTXSNV);
    assert_int_equal(qfx_tier(fx, REC("2026", "2026-12-15")), QO_KHTNV);
    assert_int_equal(qfx_tier(fx, REC("2026", "2026-06-15")), QO_HTNV);
    assert_null(qfx_src(fx, HEAD "rate member {\n"
                                 "  a: khtnv when review_held_on >= 31 of last month of period if present cite \"x\"\n"
                                 "  otherwise htnv\n}\n"));
    qfx_expect(fx, DIAG_ERROR, 8, 35, "day 31 of a month: write 1 to 30");
    assert_null(qfx_src(fx, HEAD "rate member {\n"
                                 "  a: khtnv when review_held_on >= 15 of middle month of period if present cite \"x\"\n"
                                 "  otherwise htnv\n}\n"));
    qfx_expect(fx, DIAG_ERROR, 8, 41, "'middle month': a day of the period's month is 'DD of first month of period'");
}

static void test_bad_period_text_is_a_record_error(void **state)
{
    qfx *fx = *state;
    qfx_ok(fx, HEAD "rate member {\n"
                    "  late: khtnv when review_held_on >= 05/12 of period if present cite \"x\"\n"
                    "  otherwise htnv\n}\n");
    const char *bad[] = {REC("2024-Q5", "2024-12-05"), REC("năm 2024", "2024-12-05"), REC("24", "2024-12-05"),
                         REC("2024-12", "2024-12-05")};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        vm_result r;
        assert_int_equal(qfx_rate(fx, bad[i], &r), VM_PERIOD);
        assert_int_equal(r.error_slot, 0);
    }
}

static void test_period_errors_at_check(void **state)
{
    qfx *fx = *state;
    assert_null(qfx_src(fx, HEAD "rate member {\n"
                                 "  a: khtnv when review_held_on >= 31/02 of period if present cite \"x\"\n"
                                 "  b: khtnv when review_held_on >= 29/02 of period if present cite \"x\"\n"
                                 "  d: khtnv when review_held_on >= middle of period if present cite \"x\"\n"
                                 "  otherwise htnv\n}\n"));
    qfx_expect(fx, DIAG_ERROR, 8, 35, "'31/02' is not a day of the year: write DD/MM (05/12 is 5 December)");
    qfx_expect(fx, DIAG_ERROR, 9, 35, "29/02 is not a day of every year: write 28/02 or 01/03");
    qfx_expect(fx, DIAG_ERROR, 10, 35, "'middle of period': a date of the period is 'start of period'");
    assert_null(qfx_src(fx, HEAD "rate member {\n"
                                 "  c: khtnv when review_held_on >= end of n if present cite \"x\"\n"
                                 "  e: khtnv when review_held_on >= end of perod if present cite \"x\"\n"
                                 "  otherwise htnv\n}\n"));
    qfx_expect(fx, DIAG_ERROR, 8, 42,
               "'n' is int: a date of the period reads the string field that holds the period (\"2024\", \"2026-Q2\")");
    qfx_expect(fx, DIAG_ERROR, 9, 42, "unknown field 'perod'; did you mean 'period'?");
}

/* Still a division when not followed by 'of'. */
static void test_day_month_only_before_of(void **state)
{
    qfx *fx = *state;
    qfx_ok(fx, HEAD "rate member {\n  a: htxsnv when n * 12/6 = 2 cite \"x\"\n  otherwise khtnv\n}\n");
    assert_int_equal(qfx_tier(fx, REC("2024", "2024-01-01")), QO_HTXSNV);
}

static void test_period_date_function(void **state)
{
    (void)state;
    int64_t d, want;
    assert_true(q_period_date("2024", 4, 1205, &d) && q_parse_date("2024-12-05", 10, &want) && d == want);
    assert_true(q_period_date("2024", 4, 229, &d) == false); /* never a spec: 29/02 */
    assert_true(q_period_date("2026-Q3", 7, QPD_END, &d) && q_parse_date("2026-09-30", 10, &want) && d == want);
    assert_true(q_period_date("2026-Q3", 7, QPD_START, &d) && q_parse_date("2026-07-01", 10, &want) && d == want);
    assert_false(q_period_date("2026-Q0", 7, QPD_END, &d));
    assert_false(q_period_date("2026 ", 5, QPD_END, &d));
    assert_false(q_period_date(NULL, 0, QPD_END, &d));
    assert_false(q_period_spec_ok(0));
    assert_false(q_period_spec_ok(1301));
    assert_true(q_period_spec_ok(1231));
    assert_true(q_period_spec_ok(QPD_LAST_MONTH + 30));
    assert_false(q_period_spec_ok(QPD_LAST_MONTH + 31));
    assert_false(q_period_spec_ok(QPD_FIRST_MONTH));
    assert_true(q_period_date("2026-Q4", 7, QPD_FIRST_MONTH + 5, &d) && q_parse_date("2026-10-05", 10, &want) && d == want);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, qfx_setup, qfx_teardown)
    const struct CMUnitTest tests[] = {
        T(test_day_of_the_period_year),
        T(test_start_and_end_of_period),
        T(test_day_of_first_and_last_month),
        T(test_bad_period_text_is_a_record_error),
        T(test_period_errors_at_check),
        T(test_day_month_only_before_of),
        T(test_period_date_function),
    };
    return cmocka_run_group_tests_name("period", tests, NULL, NULL);
}
