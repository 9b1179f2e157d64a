/*
 * test_output.c — the result writers (runtime/output.c): JSON Lines, CSV
 * and the aligned table, against the hand-built program of rec_fixture.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "output.h"
#include "rec_fixture.h"

typedef struct ctx {
    q_program *p;
    char *buf;
    size_t len;
    FILE *f;
} ctx;

static int setup(void **state)
{
    ctx *c = calloc(1, sizeof *c);
    c->p = fx_program();
    c->f = open_memstream(&c->buf, &c->len);
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    ctx *c = *state;
    if (c->f) fclose(c->f);
    free(c->buf);
    fx_free(c->p);
    free(c);
    return 0;
}

/* Close the stream and return what was written. */
static const char *written(ctx *c)
{
    fclose(c->f);
    c->f = NULL;
    return c->buf;
}

static q_record a_record(const char *id, uint32_t kind)
{
    q_record r;
    memset(&r, 0, sizeof r);
    r.id = id;
    r.kind = kind;
    r.line = 3;
    return r;
}

static vm_result a_result(uint8_t outcome, uint32_t rule, int nflags)
{
    vm_result res;
    memset(&res, 0, sizeof res);
    res.outcome = outcome;
    res.error = VM_OK;
    res.rule = rule;
    res.nflags = (uint16_t)nflags;
    for (int i = 0; i < nflags; i++) res.flags[i] = (uint32_t)i;
    return res;
}

static rec_error an_error(void)
{
    rec_error e;
    memset(&e, 0, sizeof e);
    snprintf(e.file, sizeof e.file, "in.jsonl");
    e.line = 7;
    snprintf(e.id, sizeof e.id, "bad1");
    snprintf(e.field, sizeof e.field, "tasks_total");
    snprintf(e.code, sizeof e.code, "missing_field");
    snprintf(e.message, sizeof e.message, "thiếu trường bắt buộc 'tasks_total' (missing required field)");
    return e;
}

/* ---------------------------------------------------------------------
 * JSON Lines
 * ------------------------------------------------------------------- */

static void test_jsonl(void **state)
{
    ctx *c = *state;
    out_writer *w = out_open(c->f, OUT_JSONL, c->p);
    q_record r1 = a_record("a1", 0), r2 = a_record("b2", 1);
    vm_result x1 = a_result(QO_HTXSNV, 0, 1), x2 = a_result(QO_HTNV, QUY_NONE, 0);
    out_result(w, &r1, &x1, QO_HTXSNV, NULL, "ignored in jsonl");
    out_result(w, &r2, &x2, QO_HTTNV, NULL, NULL);
    rec_error e = an_error();
    out_rejected(w, &e);
    e.id[0] = 0;
    e.field[0] = 0;
    e.line = 0;
    out_rejected(w, &e);
    assert_int_equal(out_close(w), 0);
    const char *want =
        "{\"id\":\"a1\",\"kind\":\"member\",\"tier\":\"htxsnv\",\"eligible_tier\":\"htxsnv\","
        "\"flags\":[{\"code\":\"late_dossier\",\"message\":\"Hồ sơ nộp muộn, \\\"quá hạn\\\"\",\"cite\":\"Hà Tĩnh 7.3\"}],"
        "\"rule\":{\"name\":\"xuat_sac\",\"cite\":\"124-QĐ/TW Điều 12, 1\",\"layer\":\"central-124\"},"
        "\"ruleset\":\"central-124@1.0\"}\n"
        "{\"id\":\"b2\",\"kind\":\"leader\",\"tier\":\"htnv\",\"eligible_tier\":\"httnv\",\"flags\":[],\"rule\":null,"
        "\"ruleset\":\"central-124@1.0\"}\n"
        "{\"id\":\"bad1\",\"error\":{\"code\":\"missing_field\",\"field\":\"tasks_total\",\"line\":7,\"file\":\"in.jsonl\","
        "\"message\":\"thiếu trường bắt buộc 'tasks_total' (missing required field)\"}}\n"
        "{\"id\":null,\"error\":{\"code\":\"missing_field\",\"field\":null,\"line\":null,\"file\":\"in.jsonl\","
        "\"message\":\"thiếu trường bắt buộc 'tasks_total' (missing required field)\"}}\n";
    assert_string_equal(written(c), want);
}

static void test_jsonl_trace_and_bad_utf8(void **state)
{
    ctx *c = *state;
    out_writer *w = out_open(c->f, OUT_JSONL, c->p);
    const char *trace = "{\"rules\":[\"xuat_sac\",\"fallback\"]}"; /* JSON text, written as is */
    q_record r1 = a_record("ab\xff", 0);
    vm_result x1 = a_result(QO_HTNV, 1, 0);
    out_result(w, &r1, &x1, QO_HTNV, trace, NULL);
    assert_int_equal(out_close(w), 0);
    const char *s = written(c);
    assert_non_null(strstr(s, "\"id\":\"ab\xEF\xBF\xBD\""));
    assert_non_null(strstr(s, "\"ruleset\":\"central-124@1.0\",\"trace\":{\"rules\":[\"xuat_sac\",\"fallback\"]}}\n"));
    json_error_t je;
    json_t *back = json_loads(s, 0, &je);
    assert_non_null(back);
    json_decref(back);
}

/* ---------------------------------------------------------------------
 * CSV
 * ------------------------------------------------------------------- */

static void test_csv(void **state)
{
    ctx *c = *state;
    out_writer *w = out_open(c->f, OUT_CSV, c->p);
    q_record r1 = a_record("a1", 0), r2 = a_record("b \"2\"", 1);
    vm_result x1 = a_result(QO_HTXSNV, 0, 2), x2 = a_result(QO_NOT_RATED, 1, 0);
    out_result(w, &r1, &x1, QO_HTTNV, NULL, NULL);
    out_result(w, &r2, &x2, QO_NOT_RATED, NULL, NULL);
    rec_error e = an_error();
    out_rejected(w, &e);
    assert_int_equal(out_close(w), 0);
    const char *want = "id,kind,tier,eligible_tier,flags,rule,cite,error\n"
                       "a1,member,htxsnv,httnv,late_dossier;gap_x,xuat_sac,\"124-QĐ/TW Điều 12, 1\",\n"
                       "\"b \"\"2\"\"\",leader,not_rated,not_rated,,fallback,,\n"
                       "bad1,,,,,,,missing_field: thiếu trường bắt buộc 'tasks_total' (missing required field)\n";
    assert_string_equal(written(c), want);
}

static void test_csv_empty_has_header(void **state)
{
    ctx *c = *state;
    out_writer *w = out_open(c->f, OUT_CSV, c->p);
    assert_int_equal(out_close(w), 0);
    assert_string_equal(written(c), "id,kind,tier,eligible_tier,flags,rule,cite,error\n");
}

/* ---------------------------------------------------------------------
 * Table
 * ------------------------------------------------------------------- */

static void test_display_width(void **state)
{
    (void)state;
    assert_int_equal(out_display_width(""), 0);
    assert_int_equal(out_display_width("abc"), 3);
    assert_int_equal(out_display_width("Hoàn thành xuất sắc"), 19);   /* precomposed */
    assert_int_equal(out_display_width("Hoa\xCC\x80n"), 4);           /* a + combining grave */
    assert_int_equal(out_display_width("\xE4\xB8\xAD\xE6\x96\x87"), 4); /* two CJK ideographs */
    assert_int_equal(out_display_width("a\xff" "b"), 3);               /* a broken byte counts 1 */
}

/* Column (display width) at which `needle` starts in `line`. */
static size_t col_of(const char *line, const char *needle)
{
    const char *at = strstr(line, needle);
    assert_non_null(at);
    char tmp[512];
    size_t n = (size_t)(at - line);
    assert_true(n < sizeof tmp);
    memcpy(tmp, line, n);
    tmp[n] = 0;
    return out_display_width(tmp);
}

static void test_table(void **state)
{
    ctx *c = *state;
    out_writer *w = out_open(c->f, OUT_TABLE, c->p);
    q_record r1 = a_record("DV-0001", 0), r2 = a_record("Đặng-Thị-Ánh", 1);
    vm_result x1 = a_result(QO_HTXSNV, 0, 1), x2 = a_result(QO_KHTNV, 1, 0);
    out_result(w, &r1, &x1, QO_HTXSNV, NULL, "quy tắc xuat_sac: đạt\ncăn cứ 124");
    out_result(w, &r2, &x2, QO_KHTNV, NULL, NULL);
    rec_error e = an_error();
    out_rejected(w, &e);
    assert_int_equal(out_close(w), 0);
    const char *s = written(c);
    /* split into lines */
    char *copy = strdup(s), *lines[16];
    int n = 0;
    for (char *l = strtok(copy, "\n"); l && n < 16; l = strtok(NULL, "\n")) lines[n++] = l;
    assert_int_equal(n, 7); /* header, 2 rows + 2 trace lines, rejected row, summary */
    assert_non_null(strstr(lines[0], "xếp loại"));
    assert_int_equal(strncmp(lines[1], "DV-0001", 7), 0);
    assert_int_equal(strncmp(lines[2], "    quy tắc xuat_sac: đạt", 10), 0);
    assert_string_equal(lines[3], "    căn cứ 124");
    assert_int_equal(strncmp(lines[4], "Đặng-Thị-Ánh", strlen("Đặng-Thị-Ánh")), 0);
    /* aligned by display width, not bytes */
    size_t tier_col = col_of(lines[0], "tier");
    assert_int_equal(col_of(lines[1], "htxsnv"), tier_col);
    assert_int_equal(col_of(lines[4], "khtnv"), tier_col);
    assert_int_equal(col_of(lines[5], "LỖI"), tier_col);
    size_t label_col = col_of(lines[0], "xếp loại");
    assert_int_equal(col_of(lines[1], "Hoàn thành xuất sắc nhiệm vụ"), label_col);
    assert_int_equal(col_of(lines[4], "Không hoàn thành nhiệm vụ"), label_col);
    size_t rule_col = col_of(lines[0], "quy tắc (căn cứ)");
    assert_int_equal(col_of(lines[1], "xuat_sac (124-QĐ/TW Điều 12, 1)"), rule_col);
    assert_int_equal(col_of(lines[1], "late_dossier"), col_of(lines[0], "cờ"));
    /* rejected row: message with file and line */
    assert_non_null(strstr(lines[5], "missing_field: thiếu trường bắt buộc 'tasks_total'"));
    assert_non_null(strstr(lines[5], "[in.jsonl:7]"));
    /* summary */
    assert_non_null(strstr(lines[6], "Tổng cộng 3 bản ghi"));
    assert_non_null(strstr(lines[6], "htxsnv 1"));
    assert_non_null(strstr(lines[6], "khtnv 1"));
    assert_non_null(strstr(lines[6], "httnv 0"));
    assert_null(strstr(lines[6], "not_rated"));
    assert_non_null(strstr(lines[6], "lỗi 1"));
    /* no trailing spaces */
    for (int i = 0; i < n; i++) assert_true(lines[i][strlen(lines[i]) - 1] != ' ');
    free(copy);
}

static void test_write_error(void **state)
{
    ctx *c = *state;
    FILE *full = fopen("/dev/full", "w");
    if (!full) skip();
    out_writer *w = out_open(full, OUT_JSONL, c->p);
    q_record r1 = a_record("a1", 0);
    vm_result x1 = a_result(QO_HTNV, 1, 0);
    out_result(w, &r1, &x1, QO_HTNV, NULL, NULL);
    assert_int_equal(out_close(w), -1);
    fclose(full);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_jsonl, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jsonl_trace_and_bad_utf8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csv, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csv_empty_has_header, setup, teardown),
        cmocka_unit_test(test_display_width),
        cmocka_unit_test_setup_teardown(test_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_error, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
