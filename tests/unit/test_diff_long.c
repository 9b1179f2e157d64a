/*
 * test_diff_long.c — the diff engine keeps every text whole (issue 14, "no
 * silent limit"), through the public functions (include/quy.h, quy_diff_*).
 *
 * Before, a cause kept its texts in fixed arrays: its key in 192 bytes
 * (two rules whose names share their first 191 bytes were one cause, with
 * both counts), its label and citations in 256 (cut, possibly inside a
 * character: jansson then refused the string and the member vanished from
 * the report), a rejected record's field in 100; the input's name was cut
 * at 255 bytes, a rejected record's sample at 100 bytes of it; the peer
 * groups were told apart by their first 255 bytes (fixed in a701d38); a
 * record's kind was a 16-bit index.
 *
 * One diff of two small rulesets over six records, read by five tests:
 *   old: rule X (label: 312 Vietnamese characters, citation: 400 bytes)
 *        htxsnv when score >= 90, rule Y httnv when score >= 50;
 *        fields A and B optional
 *   new: X at 100, Y at 70; A and B required
 *   R1 (95) moves by X, R2 (60) by Y; R3 lacks A, R4 lacks B: the new
 *   ruleset rejects them; R5 lacks score: both reject it; R6 stays.
 * X and Y share their first 250 bytes; so do A and B (110 bytes each); the
 * records' peer_groups (300 bytes) differ in their last byte only.
 */
#define _GNU_SOURCE 1 /* asprintf */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../include/quy.h"

typedef struct fixture {
    char *rule_x, *rule_y;   /* rule names, sharing their first 250 bytes */
    char *field_a, *field_b; /* field names, sharing their first 105 bytes */
    char *label, *cite;      /* rule X's */
    char *group1, *group2;   /* peer groups, differing in the last byte */
    char *input;             /* the input's name (over 300 bytes) */
    char *recs;              /* the records, JSON Lines */
    quy_loader *ld;
    quy_ruleset *rs[2];
    quy_diff *d;
} fixture;

/* s repeated until it is at least n bytes long (malloc'd). */
static char *repeat(const char *prefix, const char *s, size_t n)
{
    size_t len = strlen(prefix), sl = strlen(s);
    char *out = malloc(len + n + sl + 1);
    assert_non_null(out);
    memcpy(out, prefix, len);
    while (len < n) {
        memcpy(out + len, s, sl);
        len += sl;
    }
    out[len] = 0;
    return out;
}

static char *cat(const char *a, const char *b)
{
    char *s;
    assert_true(asprintf(&s, "%s%s", a, b) > 0);
    return s;
}

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++) n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static char *ruleset(const fixture *f, const char *name, int x_at, int y_at, const char *req)
{
    char *src;
    assert_true(asprintf(&src,
                         "ruleset %s version \"1\"\n"
                         "record member \"Đảng viên\" {\n"
                         "  peer_group : optional string \"Nhóm\"\n"
                         "  score : int \"Điểm\"\n"
                         "  %s : %sint \"A\"\n"
                         "  %s : %sint \"B\"\n"
                         "}\n"
                         "rate member {\n"
                         "  %s \"%s\": htxsnv when score >= %d \"điểm cao\" cite \"%s\"\n"
                         "  %s \"Khá\": httnv when score >= %d \"điểm khá\" cite \"c-y\"\n"
                         "  otherwise htnv\n"
                         "}\n",
                         name, f->field_a, req, f->field_b, req, f->rule_x, f->label, x_at, f->cite, f->rule_y,
                         y_at) > 0);
    return src;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    char *stem = repeat("quy_tac_", "a", 250);
    f->rule_x = cat(stem, "_x");
    f->rule_y = cat(stem, "_y");
    free(stem);
    stem = repeat("truong_", "b", 105);
    f->field_a = cat(stem, "_mot");
    f->field_b = cat(stem, "_hai");
    free(stem);
    /* 312 characters, 429 bytes; byte 255 is inside a character (the old
     * 256-byte copy cut it there, and jansson refused the rest) */
    f->label = repeat("Đ", "Hoàn thành tốt nhiệm vụ ", 400);
    assert_true(utf8_chars(f->label) >= 300);
    assert_true(((unsigned char)f->label[255] & 0xC0) == 0x80);
    f->cite = repeat("124-QĐ/TW ", "Điều 12, khoản 1, điểm 1.1; ", 400);
    stem = repeat("nhom_", "g", 299);
    f->group1 = cat(stem, "1");
    f->group2 = cat(stem, "2");
    free(stem);
    stem = repeat("", "hồ sơ đánh giá năm 2024 — ", 300);
    f->input = cat(stem, ".jsonl");
    free(stem);

    assert_int_equal(quy_loader_new(&f->ld), QUY_OK);
    quy_loader_set_defaults(f->ld, 0);
    char *src[2] = {ruleset(f, "cu", 90, 50, "optional "), ruleset(f, "moi", 100, 70, "")};
    const char *file[2] = {"cu.quy", "moi.quy"};
    for (int s = 0; s < 2; s++) {
        assert_int_equal(quy_loader_compile(f->ld, file[s], src[s], strlen(src[s]), &f->rs[s], NULL), QUY_OK);
        free(src[s]);
    }
    assert_true(asprintf(&f->recs,
                         "{\"id\":\"R1\",\"kind\":\"member\",\"peer_group\":\"%s\",\"score\":95,\"%s\":1,\"%s\":1}\n"
                         "{\"id\":\"R2\",\"kind\":\"member\",\"peer_group\":\"%s\",\"score\":60,\"%s\":1,\"%s\":1}\n"
                         "{\"id\":\"R3\",\"kind\":\"member\",\"peer_group\":\"%s\",\"score\":40,\"%s\":1}\n"
                         "{\"id\":\"R4\",\"kind\":\"member\",\"peer_group\":\"%s\",\"score\":40,\"%s\":1}\n"
                         "{\"id\":\"R5\",\"kind\":\"member\",\"peer_group\":\"%s\",\"%s\":1,\"%s\":1}\n"
                         "{\"id\":\"R6\",\"kind\":\"member\",\"peer_group\":\"%s\",\"score\":10,\"%s\":1,\"%s\":1}\n",
                         f->group1, f->field_a, f->field_b, f->group2, f->field_a, f->field_b, f->group1, f->field_b,
                         f->group2, f->field_a, f->group1, f->field_a, f->field_b, f->group2, f->field_a,
                         f->field_b) > 0);
    assert_int_equal(quy_diff_new(f->rs[0], f->rs[1], &f->d), QUY_OK);
    assert_int_equal(quy_diff_add_memory(f->d, f->input, f->recs, strlen(f->recs)), QUY_OK);
    assert_int_equal(quy_diff_run(f->d), QUY_OK);
    assert_int_equal(quy_diff_records(f->d), 6);
    assert_int_equal(quy_diff_moved(f->d), 4);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    quy_diff_free(f->d);
    quy_ruleset_free(f->rs[0]);
    quy_ruleset_free(f->rs[1]);
    quy_loader_free(f->ld);
    char *own[] = {f->rule_x, f->rule_y, f->field_a, f->field_b, f->label, f->cite, f->group1, f->group2, f->input, f->recs};
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++) free(own[i]);
    free(f);
    return 0;
}

/* The index of the cause whose key is `key`, or SIZE_MAX. */
static size_t cause_named(quy_diff *d, const char *key)
{
    for (size_t i = 0; i < quy_diff_cause_count(d); i++)
        if (!strcmp(quy_diff_cause(d, i, "cause"), key)) return i;
    return SIZE_MAX;
}

/* Two rules whose names share their first 250 bytes are two causes, each
 * with its whole name and its own count (one cause counting 2 before). */
static void test_long_rule_names(void **state)
{
    fixture *f = *state;
    quy_diff *d = f->d;
    assert_int_equal(quy_diff_cause_count(d), 4); /* X, Y, rejected A, rejected B */
    const char *names[2] = {f->rule_x, f->rule_y};
    for (int r = 0; r < 2; r++) {
        size_t i = cause_named(d, names[r]);
        assert_true(i != SIZE_MAX);
        assert_string_equal(quy_diff_cause(d, i, "count"), "1");
        assert_string_equal(quy_diff_cause(d, i, "type"), "rule");
    }
    /* each moved record names its cause whole */
    int seen[2] = {0, 0};
    for (size_t i = 0; i < quy_diff_listed_count(d); i++)
        for (int r = 0; r < 2; r++) seen[r] += !strcmp(quy_diff_listed(d, i, "cause"), names[r]);
    assert_int_equal(seen[0], 1);
    assert_int_equal(seen[1], 1);
}

/* The cause of the listed record with this id, or SIZE_MAX. */
static size_t cause_of(quy_diff *d, const char *id)
{
    for (size_t i = 0; i < quy_diff_listed_count(d); i++)
        if (!strcmp(quy_diff_listed(d, i, "id"), id)) return cause_named(d, quy_diff_listed(d, i, "cause"));
    return SIZE_MAX;
}

/* A label of 312 Vietnamese characters and a citation of 400 bytes are in
 * the report whole (the label vanished from the JSON before: cut inside a
 * character, jansson refused it). */
static void test_long_label_and_cite(void **state)
{
    fixture *f = *state;
    quy_diff *d = f->d;
    size_t i = cause_of(d, "R1"); /* rule X's */
    assert_true(i != SIZE_MAX);
    assert_non_null(quy_diff_cause(d, i, "label"));
    assert_string_equal(quy_diff_cause(d, i, "label"), f->label);
    char *cite[2];
    assert_true(asprintf(&cite[0], "%s [cu]", f->cite) > 0);
    assert_true(asprintf(&cite[1], "%s [moi]", f->cite) > 0);
    assert_string_equal(quy_diff_cause(d, i, "cite_old"), cite[0]);
    assert_string_equal(quy_diff_cause(d, i, "cite_new"), cite[1]);
    free(cite[0]);
    free(cite[1]);
    /* the moved record's label, and the summary as text */
    for (size_t k = 0; k < quy_diff_listed_count(d); k++)
        if (!strcmp(quy_diff_listed(d, k, "id"), "R1")) assert_string_equal(quy_diff_listed(d, k, "cause_label"), f->label);
    const char *sum = quy_diff_summary_json(d, 0);
    assert_non_null(sum);
    assert_non_null(strstr(sum, f->label));
}

/* Records the new ruleset rejects for two missing fields whose names
 * share their first 105 bytes: two causes, each naming its field whole
 * (the key kept 100 bytes of the field: one cause before). */
static void test_long_rejected_fields(void **state)
{
    fixture *f = *state;
    quy_diff *d = f->d;
    const char *field[2] = {f->field_a, f->field_b};
    for (int k = 0; k < 2; k++) {
        char *key;
        assert_true(asprintf(&key, "rejected:new:missing_field:%s", field[k]) > 0);
        size_t i = cause_named(d, key);
        assert_true(i != SIZE_MAX);
        assert_string_equal(quy_diff_cause(d, i, "count"), "1");
        assert_string_equal(quy_diff_cause(d, i, "type"), "rejected");
        assert_non_null(strstr(quy_diff_cause(d, i, "label"), field[k]));
        free(key);
    }
}

/* The two peer groups are two rows of the breakdown, named whole, with
 * records 3 and 3 (one row of 6 before). */
static void peer_rows(const fixture *f, quy_diff *d, uint64_t want1, uint64_t want2)
{
    assert_int_equal(quy_diff_group_count(d, "peer_group"), 2);
    int found = 0;
    for (size_t i = 0; i < 2; i++) {
        const char *g = quy_diff_group(d, "peer_group", i, "name");
        uint64_t n;
        assert_int_equal(quy_diff_group_num(d, "peer_group", i, "records", &n), QUY_OK);
        int which = !strcmp(g, f->group1) ? 1 : !strcmp(g, f->group2) ? 2 : 0;
        assert_true(which != 0);
        assert_int_equal(n, which == 1 ? want1 : want2);
        found |= which;
    }
    assert_int_equal(found, 3);
}

/* Two peer_groups of 300 bytes that differ in the last one are two rows
 * of the breakdown: in JSON Lines (named by the scan of each line), and in
 * a JSON array, where each ruleset's reader decodes the records and the
 * peer_group is read from a decoded record (cut at 255 bytes at a701d38^:
 * one row). R5, rejected by both, has no decoded record there: left out. */
static void test_long_peer_groups(void **state)
{
    fixture *f = *state;
    peer_rows(f, f->d, 3, 3);
    size_t n = strlen(f->recs);
    char *arr = malloc(n + 3), *w = arr;
    assert_non_null(arr);
    *w++ = '[';
    for (const char *line = f->recs, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
        if (strstr(line, "\"R5\"") && strstr(line, "\"R5\"") < nl) continue;
        if (w > arr + 1) *w++ = ',';
        memcpy(w, line, (size_t)(nl - line));
        w += nl - line;
    }
    *w++ = ']';
    quy_diff *d;
    assert_int_equal(quy_diff_new(f->rs[0], f->rs[1], &d), QUY_OK);
    assert_int_equal(quy_diff_add_memory(d, "records.json", arr, (size_t)(w - arr)), QUY_OK);
    free(arr);
    assert_int_equal(quy_diff_run(d), QUY_OK);
    assert_int_equal(quy_diff_records(d), 5);
    peer_rows(f, d, 2, 3);
    quy_diff_free(d);
}

/* The input's name, 300 bytes and more, is whole in each moved record and
 * in the sample of a record both rulesets rejected (cut at 255 and 100
 * bytes before). */
static void test_long_input_name(void **state)
{
    fixture *f = *state;
    quy_diff *d = f->d;
    for (size_t i = 0; i < quy_diff_listed_count(d); i++) {
        assert_non_null(quy_diff_listed(d, i, "file"));
        assert_string_equal(quy_diff_listed(d, i, "file"), f->input);
    }
    assert_int_equal(quy_diff_rejected_sample_count(d), 1);
    const char *s = quy_diff_rejected_sample(d, 0);
    size_t n = strlen(f->input);
    assert_true(strlen(s) > n && !strncmp(s, f->input, n) && s[n] == ':');
    assert_non_null(strstr(s, "R5"));
    assert_non_null(strstr(s, "score"));
}

/* A failing call's message names a long path whole, in the handle's
 * message and the thread's (cut at 300 bytes before). */
static void test_long_message(void **state)
{
    fixture *f = *state;
    char *path = cat("/không/có/", f->input);
    quy_diff *d;
    assert_int_equal(quy_diff_new(f->rs[0], f->rs[1], &d), QUY_OK);
    assert_string_equal(quy_diff_errmsg(d), "");
    assert_int_equal(quy_diff_add_file(d, path), QUY_IO);
    size_t n = strlen(path);
    assert_true(!strncmp(quy_diff_errmsg(d), path, n) && !strncmp(quy_diff_errmsg(d) + n, ": ", 2));
    assert_true(!strncmp(quy_errmsg(), path, n) && !strncmp(quy_errmsg() + n, ": ", 2));
    assert_int_equal(quy_diff_set(d, "expect", path), QUY_ERROR);
    assert_true(!strncmp(quy_diff_errmsg(d), path, n) && !strncmp(quy_diff_errmsg(d) + n, ": ", 2));
    quy_diff_free(d);
    free(path);
}

/* An input that names 66,000 kinds (neither ruleset knows them: every
 * record is rejected by both) is tallied by each (past 65,535 kinds the
 * diff failed, saying "out of memory"). */
static void test_many_kinds(void **state)
{
    fixture *f = *state;
    enum { KINDS = 66000 };
    char *in = malloc((size_t)KINDS * 40), *w = in;
    assert_non_null(in);
    for (int i = 0; i < KINDS; i++) w += sprintf(w, "{\"id\":\"K%d\",\"kind\":\"k%d\"}\n", i, i);
    quy_diff *d;
    assert_int_equal(quy_diff_new(f->rs[0], f->rs[1], &d), QUY_OK);
    assert_int_equal(quy_diff_add_memory(d, "kinds.jsonl", in, (size_t)(w - in)), QUY_OK);
    free(in);
    assert_int_equal(quy_diff_run(d), QUY_OK);
    assert_int_equal(quy_diff_records(d), KINDS);
    assert_int_equal(quy_diff_group_count(d, "kind"), KINDS);
    uint64_t n;
    assert_int_equal(quy_diff_count(d, QUY_DIFF_REJECTED_BY_BOTH, &n), QUY_OK);
    assert_int_equal(n, KINDS);
    assert_string_equal(quy_diff_group(d, "kind", KINDS - 1, "name"), "k9999"); /* by name: k0 k1 k10 ... k9999 */
    quy_diff_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_long_rule_names),
        cmocka_unit_test(test_long_label_and_cite),
        cmocka_unit_test(test_long_rejected_fields),
        cmocka_unit_test(test_long_peer_groups),
        cmocka_unit_test(test_long_input_name),
        cmocka_unit_test(test_long_message),
        cmocka_unit_test(test_many_kinds),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
