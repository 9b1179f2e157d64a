/*
 * test_value.c — exact arithmetic (runtime/value.c): the boundaries of the
 * regulations must compare exactly, never through floating point.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "value.h"

static q_val pct(const char *s) /* "66.67" -> 66.67 % as a fraction */
{
    q_val v, r;
    assert_true(q_parse_decimal(s, strlen(s), &v));
    assert_int_equal(q_div(v, q_int(100), &r), Q_OK);
    return r;
}

static q_val dec(const char *s)
{
    q_val v;
    assert_true(q_parse_decimal(s, strlen(s), &v));
    return v;
}

static q_val share(int64_t a, int64_t b)
{
    q_val r;
    assert_int_equal(q_share(q_int(a), q_int(b), &r), Q_OK);
    return r;
}

static void test_share_boundaries(void **state)
{
    (void)state;
    assert_true(q_cmp(share(1, 2), pct("50")) >= 0);  /* share(1, 2) >= 50% */
    assert_true(q_cmp(share(3, 6), pct("50")) >= 0);
    assert_true(q_cmp(share(7, 10), pct("70")) >= 0); /* share(7, 10) >= 70% */
    assert_false(q_cmp(share(7, 10), pct("70")) < 0); /* share(7, 10) < 70% is false */
    assert_true(q_cmp(share(2, 3), pct("66.67")) < 0); /* share(2, 3) < 66.67% */
    assert_true(q_cmp(share(2, 3), pct("66.66")) > 0);
    assert_true(q_cmp(share(1, 5), pct("20")) == 0);   /* exactly 20 % */
    assert_true(q_cmp(share(21, 100), pct("20")) > 0);
    assert_true(q_cmp(share(501, 1000), pct("50")) > 0);
}

static void test_share_zero_denominator(void **state)
{
    (void)state;
    /* documented meaning: share(x, 0) = 0 % */
    assert_int_equal(q_cmp(share(0, 0), q_int(0)), 0);
    assert_int_equal(q_cmp(share(5, 0), q_int(0)), 0);
    assert_true(q_cmp(share(0, 0), pct("50")) < 0);
}

static void test_decimal_exact(void **state)
{
    (void)state;
    assert_true(q_cmp(dec("89.99"), q_int(90)) < 0); /* 89.99 < 90 */
    q_val s;
    assert_int_equal(q_add(dec("0.1"), dec("0.2"), &s), Q_OK);
    assert_int_equal(q_cmp(s, dec("0.3")), 0); /* 0.1 + 0.2 = 0.3 */
    assert_int_equal(dec("89.99").n, 8999);
    assert_int_equal(dec("89.99").d, 100);
    assert_int_equal(dec("-3.50").n, -7);
    assert_int_equal(dec("-3.50").d, 2);
    q_val bad;
    assert_false(q_parse_decimal("1e2", 3, &bad));
    assert_false(q_parse_decimal("", 0, &bad));
    assert_false(q_parse_decimal("1.2.3", 5, &bad));
    assert_false(q_parse_decimal("1234567890123456789", 19, &bad)); /* > 18 digits */
}

static void test_overflow_is_an_error(void **state)
{
    (void)state;
    q_val r;
    assert_int_equal(q_add(q_int(INT64_MAX), q_int(1), &r), Q_OVERFLOW);
    assert_int_equal(q_mul(q_int(INT64_MAX), q_int(2), &r), Q_OVERFLOW);
    assert_int_equal(q_div(q_int(1), q_int(0), &r), Q_DIV_ZERO);
    assert_int_equal(q_neg(q_int(INT64_MIN), &r), Q_OVERFLOW);
    /* large but representable after reduction */
    q_val a, b;
    assert_int_equal(q_make(INT64_MAX, 3, &a), Q_OK);
    assert_int_equal(q_make(3, INT64_MAX, &b), Q_OK);
    assert_int_equal(q_mul(a, b, &r), Q_OK);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.d, 1);
}

static void test_dates(void **state)
{
    (void)state;
    int64_t d1, d2;
    assert_true(q_parse_date("2023-12-10", 10, &d1));
    assert_true(q_parse_date("2023-12-11", 10, &d2));
    assert_int_equal(d2 - d1, 1);
    assert_true(q_parse_date("1970-01-01", 10, &d1));
    assert_int_equal(d1, 0);
    assert_true(q_parse_date("2024-02-29", 10, &d1));  /* leap year */
    assert_false(q_parse_date("2023-02-29", 10, &d1)); /* not a leap year */
    assert_false(q_parse_date("2023-13-01", 10, &d1));
    assert_false(q_parse_date("2023-1-01", 9, &d1));
    char buf[16];
    assert_true(q_parse_date("2022-11-25", 10, &d1));
    q_format_date(d1, buf);
    assert_string_equal(buf, "2022-11-25");
}

static void test_format(void **state)
{
    (void)state;
    char buf[64];
    q_format(pct("50"), true, buf, sizeof buf);
    assert_string_equal(buf, "50%");
    q_format(dec("89.99"), false, buf, sizeof buf);
    assert_string_equal(buf, "89.99");
    q_format(q_int(-12), false, buf, sizeof buf);
    assert_string_equal(buf, "-12");
    q_format(share(2, 3), true, buf, sizeof buf);
    assert_non_null(strstr(buf, "66.6666"));
    assert_non_null(strstr(buf, "(2/3)"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_share_boundaries), cmocka_unit_test(test_share_zero_denominator),
        cmocka_unit_test(test_decimal_exact),    cmocka_unit_test(test_overflow_is_an_error),
        cmocka_unit_test(test_dates),            cmocka_unit_test(test_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
