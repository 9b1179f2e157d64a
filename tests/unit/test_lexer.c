/*
 * test_lexer.c — the re2c scanner (grammar/lexer.re): tokens, spans,
 * literal values, UTF-8 in strings and comments, lexical errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "parse.h"

typedef struct lx {
    ast_arena *arena;
    diag_list d;
    lex_token t[64];
    int n;
} lx;

/* Scan all of `src` (len bytes, NUL at src[len]) into f->t, EOF included. */
static void scan(lx *f, const char *src, size_t len)
{
    lex_state L;
    lex_init(&L, f->arena, &f->d, "t.quy", src, len);
    f->n = 0;
    do {
        assert_true(f->n < 64);
        lex_next(&L, &f->t[f->n]);
    } while (f->t[f->n++].kind != 0);
}

static void scans(lx *f, const char *src) { scan(f, src, strlen(src)); }

static const char *kind(lx *f, int i) { return parse_token_name(f->t[i].kind); }

static int setup(void **state)
{
    lx *f = calloc(1, sizeof *f);
    f->arena = ast_arena_new();
    diag_init(&f->d);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    lx *f = *state;
    diag_free(&f->d);
    ast_arena_free(f->arena);
    free(f);
    return 0;
}

/* line:col of diagnostic i, for messages like "3:7". */
static void diag_at(lx *f, size_t i, const char *src, uint32_t line, uint32_t col)
{
    assert_true(i < f->d.n);
    uint32_t l, c;
    srcpos_linecol(src, f->d.items[i].span.start, &l, &c);
    assert_int_equal(l, line);
    assert_int_equal(c, col);
}

static void test_keywords_names_operators(void **state)
{
    lx *f = *state;
    scans(f, "rate member { xuat_sac: htxsnv when a <= b and not c != d -> x.y, (e) >= -1 * 2 / 3 + 4 = 5 < 6 > 7 }");
    const char *want[] = {"rate", "identifier", "'{'", "identifier", "':'", "identifier", "when", "identifier",
                          "<=", "identifier", "and", "not", "identifier", "!=", "identifier", "->",
                          "identifier", "'.'", "identifier", "','", "'('", "identifier", "')'", ">=", "'-'",
                          "integer", "'*'", "integer", "'/'", "integer", "'+'", "integer", "'='", "integer",
                          "'<'", "integer", "'>'", "integer", "'}'", "end of file"};
    assert_int_equal(f->n, (int)(sizeof want / sizeof *want));
    for (int i = 0; i < f->n; i++) assert_string_equal(kind(f, i), want[i]);
    assert_string_equal(f->t[1].str.s, "member");
    assert_int_equal(f->t[3].span.start, 14);
    assert_int_equal(f->t[3].span.end, 22);
    assert_int_equal(f->d.n, 0);
}

static void test_every_keyword(void **state)
{
    lx *f = *state;
    const char *kw[] = {"ruleset", "extends", "version", "title", "source", "scale", "enum", "struct",
                        "record", "optional", "computed", "check", "list", "of", "rate", "amend", "when",
                        "unless", "if", "present", "otherwise", "also", "requires", "replace", "let", "flag",
                        "gap", "cite", "quota", "per", "round", "at", "cap", "hook", "from", "all", "any",
                        "none", "count", "sum", "where", "and", "or", "not", "true", "false", "it",
                        "min", "max", "longest", "run", "else"};
    for (size_t i = 0; i < sizeof kw / sizeof *kw; i++) {
        scans(f, kw[i]);
        assert_int_equal(f->n, 2);
        assert_string_equal(kind(f, 0), kw[i]);
    }
    /* a keyword prefix is a name */
    scans(f, "iffy counter itself");
    assert_string_equal(kind(f, 0), "identifier");
    assert_string_equal(kind(f, 1), "identifier");
    assert_string_equal(kind(f, 2), "identifier");
    assert_int_equal(f->d.n, 0);
}

static void test_numbers_percents_dates(void **state)
{
    lx *f = *state;
    scans(f, "12 89.99 50% 66.67% 2023-12-10 0.1 2023-12");
    assert_string_equal(kind(f, 0), "integer");
    assert_int_equal(f->t[0].num.n, 12);
    assert_int_equal(f->t[0].num.d, 1);
    assert_string_equal(kind(f, 1), "decimal number");
    assert_int_equal(f->t[1].num.n, 8999);
    assert_int_equal(f->t[1].num.d, 100);
    assert_string_equal(kind(f, 2), "percentage");
    assert_int_equal(f->t[2].num.n, 1);
    assert_int_equal(f->t[2].num.d, 2);
    assert_string_equal(kind(f, 3), "percentage");
    assert_int_equal(f->t[3].num.n, 6667);
    assert_int_equal(f->t[3].num.d, 10000);
    assert_string_equal(kind(f, 4), "date");
    int64_t days;
    assert_true(q_parse_date("2023-12-10", 10, &days));
    assert_int_equal(f->t[4].num.n, days);
    assert_int_equal(f->t[4].span.end - f->t[4].span.start, 10);
    assert_string_equal(kind(f, 5), "decimal number");
    assert_int_equal(f->t[5].num.n, 1);
    assert_int_equal(f->t[5].num.d, 10);
    /* not a date: integer '-' integer */
    assert_string_equal(kind(f, 6), "integer");
    assert_string_equal(kind(f, 7), "'-'");
    assert_string_equal(kind(f, 8), "integer");
    assert_int_equal(f->d.n, 0);
}

static void test_invalid_date(void **state)
{
    lx *f = *state;
    const char *src = "x > 2023-02-29\n  and y < 2024-02-29 and z = 2023-13-01";
    scans(f, src);
    assert_int_equal(f->d.nerrors, 2);
    assert_string_equal(f->d.items[0].msg, "invalid date '2023-02-29'");
    diag_at(f, 0, src, 1, 5);
    assert_string_equal(f->d.items[1].msg, "invalid date '2023-13-01'");
    diag_at(f, 1, src, 2, 30);
    assert_string_equal(kind(f, 2), "date"); /* still a date token */
}

static void test_too_large_number(void **state)
{
    lx *f = *state;
    scans(f, "1234567890123456789");
    assert_int_equal(f->d.nerrors, 1);
    assert_string_equal(kind(f, 0), "integer");
}

static void test_utf8_strings_and_comments(void **state)
{
    lx *f = *state;
    const char *src = "-- Quy định 124-QĐ/TW: bình luận\n"
                      "label \"Xuất sắc\" -- chú thích\n"
                      "\"Hoàn thành 100% chỉ tiêu\"";
    scans(f, src);
    assert_int_equal(f->d.n, 0);
    assert_int_equal(f->n, 4);
    assert_string_equal(kind(f, 0), "identifier");
    assert_string_equal(kind(f, 1), "string");
    assert_string_equal(f->t[1].str.s, "Xuất sắc");
    assert_int_equal(f->t[1].str.len, strlen("Xuất sắc"));
    assert_string_equal(kind(f, 2), "string");
    assert_string_equal(f->t[2].str.s, "Hoàn thành 100% chỉ tiêu");
    /* span covers the quotes */
    assert_int_equal(src[f->t[1].span.start], '"');
    assert_int_equal(src[f->t[1].span.end - 1], '"');
}

static void test_string_escapes(void **state)
{
    lx *f = *state;
    scans(f, "\"a\\\"b\\\\c\\nd\\te\"");
    assert_int_equal(f->d.n, 0);
    assert_string_equal(f->t[0].str.s, "a\"b\\c\nd\te");
    assert_int_equal(f->t[0].str.len, 9);

    scans(f, "\"bad \\q escape\"");
    assert_int_equal(f->d.nerrors, 1);
    assert_non_null(strstr(f->d.items[0].msg, "unknown escape '\\q'"));
}

static void test_unterminated_string(void **state)
{
    lx *f = *state;
    const char *src = "cite \"Điều 12\nnext \"ok\"";
    scans(f, src);
    assert_int_equal(f->d.nerrors, 1);
    assert_string_equal(f->d.items[0].msg, "unterminated string");
    diag_at(f, 0, src, 1, 6);
    /* the string ends at the end of its line; scanning goes on */
    assert_string_equal(kind(f, 1), "string");
    assert_string_equal(f->t[1].str.s, "Điều 12");
    assert_string_equal(kind(f, 2), "identifier");
    assert_string_equal(kind(f, 3), "string");
    assert_string_equal(f->t[3].str.s, "ok");

    scans(f, "\"at end of file");
    assert_int_equal(f->d.nerrors, 2);
    assert_string_equal(kind(f, 1), "end of file");
}

static void test_bad_utf8(void **state)
{
    lx *f = *state;
    /* 0xC3 0x28: a lead byte without its continuation; 0xED 0xA0 0x80 a
     * surrogate; 0xC0 0xAF an overlong '/'; 0xFF never valid */
    const char *src = "\"ab\xC3\x28\"\n-- x \xED\xA0\x80\n\"\xC0\xAF\" \xFF\xFE x";
    scans(f, src);
    assert_int_equal(f->d.nerrors, 4);
    assert_non_null(strstr(f->d.items[0].msg, "invalid UTF-8 byte 0xC3 in string"));
    diag_at(f, 0, src, 1, 4);
    assert_non_null(strstr(f->d.items[1].msg, "invalid UTF-8 byte 0xED in comment"));
    diag_at(f, 1, src, 2, 6);
    assert_non_null(strstr(f->d.items[2].msg, "invalid UTF-8 byte 0xC0 in string"));
    diag_at(f, 2, src, 3, 2);
    assert_non_null(strstr(f->d.items[3].msg, "invalid UTF-8 byte 0xFF"));
    diag_at(f, 3, src, 3, 5); /* the stray continuation byte 0xAF is not a column */
    /* string, string, lexical error (one for the run FF FE), x, EOF */
    assert_int_equal(f->n, 5);
    assert_string_equal(kind(f, 2), "lexical error");
    assert_string_equal(kind(f, 3), "identifier");
}

static void test_embedded_nul(void **state)
{
    lx *f = *state;
    const char src[] = "a \0 b \"x\0y\" -- c\0d\ne";
    scan(f, src, sizeof src - 1);
    assert_int_equal(f->d.nerrors, 3);
    assert_string_equal(f->d.items[0].msg, "NUL byte in source");
    diag_at(f, 0, src, 1, 3);
    assert_string_equal(f->d.items[1].msg, "NUL byte in string");
    assert_string_equal(f->d.items[2].msg, "NUL byte in comment");
    assert_int_equal(f->n, 5); /* a b "xy" e EOF */
    assert_string_equal(kind(f, 1), "identifier");
    assert_string_equal(f->t[2].str.s, "xy");
    assert_string_equal(f->t[3].str.s, "e");
    assert_string_equal(kind(f, 4), "end of file");
    assert_int_equal(f->t[4].span.start, sizeof src - 1);
}

static void test_vietnamese_name_is_one_error(void **state)
{
    lx *f = *state;
    const char *src = "  điểm_số: int";
    scans(f, src);
    assert_int_equal(f->d.nerrors, 1);
    assert_non_null(strstr(f->d.items[0].msg, "'điểm_số' is not a valid name"));
    diag_at(f, 0, src, 1, 3);
    assert_string_equal(kind(f, 0), "lexical error");
    assert_string_equal(kind(f, 1), "':'");
}

static void test_stray_character(void **state)
{
    lx *f = *state;
    scans(f, "a & b");
    assert_int_equal(f->d.nerrors, 1);
    assert_string_equal(f->d.items[0].msg, "unexpected character '&'");
    assert_string_equal(kind(f, 1), "lexical error");
    assert_string_equal(kind(f, 2), "identifier");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_keywords_names_operators, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_keyword, setup, teardown),
        cmocka_unit_test_setup_teardown(test_numbers_percents_dates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_date, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_large_number, setup, teardown),
        cmocka_unit_test_setup_teardown(test_utf8_strings_and_comments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_string_escapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unterminated_string, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_utf8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_embedded_nul, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vietnamese_name_is_one_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stray_character, setup, teardown),
    };
    return cmocka_run_group_tests_name("lexer", tests, NULL, NULL);
}
