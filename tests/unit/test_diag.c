/*
 * test_diag.c — diagnostics (compiler/diag.c): collection, line:col in
 * characters, the printed form with source line and underline, the error
 * cap, and "did you mean".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "diag.h"

/* diag_print into a string (caller frees). */
static char *print_to_string(const diag_list *d, bool color)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    assert_non_null(f);
    diag_print(d, f, color);
    fclose(f);
    return buf;
}

static q_span span_of(const char *src, const char *needle)
{
    const char *p = strstr(src, needle);
    assert_non_null(p);
    q_span sp = {(uint32_t)(p - src), (uint32_t)(p - src + strlen(needle))};
    return sp;
}

static void test_linecol_counts_characters(void **state)
{
    (void)state;
    const char *src = "ruleset r\n  \"Xuất sắc\" x\n\ny";
    uint32_t l, c;
    srcpos_linecol(src, 0, &l, &c);
    assert_int_equal(l, 1);
    assert_int_equal(c, 1);
    srcpos_linecol(src, span_of(src, "x\n").start, &l, &c);
    assert_int_equal(l, 2);
    assert_int_equal(c, 14); /* 2 spaces + 10 characters of "Xuất sắc" with quotes + 1 space */
    srcpos_linecol(src, span_of(src, "y").start, &l, &c);
    assert_int_equal(l, 4);
    assert_int_equal(c, 1);
}

/* One convention for every position (srcpos.h): the reader's incremental
 * count, the run-time error's and the diagnostic's agree, in characters. */
static void test_srcpos_one_convention(void **state)
{
    (void)state;
    const char *line = "  chia \"Điều 12\": htxsnv when a / b > 1";
    uint32_t off = (uint32_t)(strchr(line, '/') - line); /* byte 35 (0-based) */
    uint32_t l = 7, c = 1;
    srcpos_advance(line, off, &l, &c); /* as the JSON reader counts from a line start */
    assert_int_equal(l, 7);
    assert_int_equal(c, 33);
    srcpos_linecol(line, off, &l, &c);
    assert_int_equal(l, 1);
    assert_int_equal(c, 33);
    strbuf b = {0};
    srcpos_render(&b, "rt.quy", line, off, off + 1, "error", NULL, "chia cho 0xyz", 10);
    char *t = strbuf_take(&b);
    assert_non_null(t);
    assert_string_equal(t, "rt.quy:1:33: error: chia cho 0\n"
                           "    1 |   chia \"Điều 12\": htxsnv when a / b > 1\n"
                           "      |                                 ^\n");
    free(t);
}

static void test_print_format(void **state)
{
    (void)state;
    const char *src = "rate member {\n"
                      "  xuat_sac \"Xuất sắc\": htxsnv when tasks_compelted = tasks_total cite \"x\"\n"
                      "}\n";
    diag_list d;
    diag_init(&d);
    diag_add(&d, DIAG_ERROR, "rules.quy", src, span_of(src, "tasks_compelted"),
             "unknown field '%s'; did you mean '%s'?", "tasks_compelted", "tasks_completed");
    assert_int_equal(d.n, 1);
    assert_int_equal(d.nerrors, 1);
    char *out = print_to_string(&d, false);
    assert_string_equal(out,
                        "rules.quy:2:36: error: unknown field 'tasks_compelted'; did you mean 'tasks_completed'?\n"
                        "    2 |   xuat_sac \"Xuất sắc\": htxsnv when tasks_compelted = tasks_total cite \"x\"\n"
                        "      |                                    ^~~~~~~~~~~~~~~\n");
    free(out);

    /* colour only adds escapes */
    out = print_to_string(&d, true);
    assert_non_null(strstr(out, "\033["));
    assert_non_null(strstr(out, "unknown field"));
    free(out);
    diag_free(&d);
}

static void test_print_levels_tabs_and_edges(void **state)
{
    (void)state;
    const char *src = "\tđ\tx = 1\nlast";
    diag_list d;
    diag_init(&d);
    diag_add(&d, DIAG_WARNING, "w.quy", src, span_of(src, "x"), "never reached");
    diag_add(&d, DIAG_NOTE, "w.quy", src, span_of(src, "last"), "declared here");
    q_span eof = {(uint32_t)strlen(src), (uint32_t)strlen(src)};
    diag_add(&d, DIAG_ERROR, "w.quy", src, eof, "unexpected end of file");
    diag_add(&d, DIAG_ERROR, NULL, NULL, eof, "no source");
    assert_int_equal(d.nerrors, 2);
    assert_int_equal(d.nwarnings, 1);
    char *out = print_to_string(&d, false);
    assert_string_equal(out,
                        "w.quy:1:4: warning: never reached\n"
                        "    1 | \tđ\tx = 1\n"
                        "      | \t \t^\n"
                        "w.quy:2:1: note: declared here\n"
                        "    2 | last\n"
                        "      | ^~~~\n"
                        "w.quy:2:5: error: unexpected end of file\n"
                        "    2 | last\n"
                        "      |     ^\n"
                        "<input>: error: no source\n");
    free(out);
    diag_free(&d);
}

static void test_error_cap(void **state)
{
    (void)state;
    diag_list d;
    diag_init(&d);
    d.max_errors = 3;
    for (int i = 0; i < 10; i++) diag_add(&d, DIAG_ERROR, "c.quy", "x", (q_span){0, 1}, "error %d", i);
    diag_add(&d, DIAG_WARNING, "c.quy", "x", (q_span){0, 1}, "still a warning");
    assert_int_equal(d.n, 4);          /* 3 errors kept + the warning */
    assert_int_equal(d.nerrors, 10);   /* every error counted */
    assert_string_equal(d.items[2].msg, "error 2");
    diag_free(&d);
    assert_int_equal(d.n, 0);
}

static void test_suggest(void **state)
{
    (void)state;
    const char *const names[] = {"tasks_total", "tasks_on_time", "tasks_completed", "tasks_exceeded"};
    assert_string_equal(diag_suggest("tasks_compelted", names, 4), "tasks_completed");
    assert_string_equal(diag_suggest("task_total", names, 4), "tasks_total");
    assert_string_equal(diag_suggest("tasks_exceded", names, 4), "tasks_exceeded");
    assert_null(diag_suggest("period", names, 4));
    assert_null(diag_suggest("x", names, 4));
    const char *const tiers[] = {"htxsnv", "httnv", "htnv", "khtnv"};
    assert_string_equal(diag_suggest("htnvv", tiers, 4), "htnv");
    assert_string_equal(diag_suggest("htxnsv", tiers, 4), "htxsnv");
    assert_null(diag_suggest("abc", tiers, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linecol_counts_characters),
        cmocka_unit_test(test_srcpos_one_convention),
        cmocka_unit_test(test_print_format),
        cmocka_unit_test(test_print_levels_tabs_and_edges),
        cmocka_unit_test(test_error_cap),
        cmocka_unit_test(test_suggest),
    };
    return cmocka_run_group_tests_name("diag", tests, NULL, NULL);
}
