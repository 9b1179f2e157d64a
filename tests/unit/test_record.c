/*
 * test_record.c — the record loader (runtime/record.c) against a
 * hand-built program (rec_fixture.h): JSON Lines, a JSON array, CSV,
 * standard-input-like streams, and every rejection code.
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

#include "rec_harness.h"

static const char *str_of(q_val v) { return q_val_str(v); }

#define GOOD_FIELDS                                                                                            \
    "\"tasks_total\":10,\"tasks_completed\":8,\"grades\":[\"tot\",\"xuat_sac\"],\"exemplary\":\"guong_mau\"," \
    "\"discipline_cases\":[],\"review_held_on\":\"2024-12-15\""


/* GOOD_FIELDS followed by overrides in one line: the GOOD_FIELDS members
 * whose key the line gives again are dropped (a key twice in one object
 * is an error, tested on its own in test_duplicate_key). */
static char *override(const char *text)
{
    static const char good[] = GOOD_FIELDS;
    size_t cap = strlen(text) + 1;
    char *out = calloc(cap, 1), *o = out;
    assert_non_null(out);
    while (*text) {
        const char *nl = strchr(text, '\n');
        size_t len = nl ? (size_t)(nl - text) + 1 : strlen(text);
        const char *g = strstr(text, good);
        if (!g || g >= text + len) {
            memcpy(o, text, len);
            o += len;
            text += len;
            continue;
        }
        const char *after = g + sizeof good - 1;
        memcpy(o, text, (size_t)(g - text));
        o += g - text;
        bool wrote = false;
        for (const char *m = good; *m;) { /* members of GOOD_FIELDS, bracket-aware */
            const char *e = m;
            int depth = 0;
            while (*e && (depth || *e != ',')) {
                depth += (*e == '[' || *e == '{') - (*e == ']' || *e == '}');
                e++;
            }
            const char *colon = strchr(m, ':');
            char key[64];
            snprintf(key, sizeof key, "%.*s:", (int)(colon - m), m);
            const char *again = strstr(after, key);
            if (!again || again >= text + len) {
                if (wrote) *o++ = ',';
                memcpy(o, m, (size_t)(e - m));
                o += e - m;
                wrote = true;
            }
            m = *e ? e + 1 : e;
        }
        const char *rest = after;
        if (!wrote && *rest == ',') rest++;
        size_t rl = (size_t)(text + len - rest);
        memcpy(o, rest, rl);
        o += rl;
        text += len;
    }
    *o = 0;
    return out;
}

static void read_over(run *out, const char *text, rec_format fmt)
{
    char *t = override(text);
    read_more(out, t, fmt);
    free(t);
}

/* ---------------------------------------------------------------------
 * JSON Lines
 * ------------------------------------------------------------------- */

static void test_jsonl_good(void **state)
{
    run *r = *state;
    read_over(r,
             "{\"id\":\"a1\",\"kind\":\"member\"," GOOD_FIELDS ",\"pct\":66.67,\"score\":89.99,\"note\":\"Chi bộ số 3\","
             "\"discipline_cases\":[{\"who\":\"member\",\"corruption\":true},{\"who\":\"collective\",\"corruption\":false}],"
             "\"dossier\":[\"bien_ban\",\"phieu\"]}\n"
             "\n"
             "{\"id\":\"a2\",\"kind\":\"member\"," GOOD_FIELDS ",\"pct\":55,\"review_done\":false,\"score\":12,\"note\":null}\n",
             REC_JSONL);
    assert_int_equal(r->nerrs, 0);
    assert_int_equal(r->nwarns, 0);
    assert_int_equal(r->nrecs, 2);
    q_record *a = r->recs[0], *b = r->recs[1];
    assert_string_equal(a->id, "a1");
    assert_int_equal(a->kind, 0);
    assert_int_equal(a->line, 1);
    assert_int_equal(a->index, 0);
    assert_q(a->slots[0], 10, 1);
    assert_q(a->slots[1], 8, 1);
    assert_true(a->present[2]);
    assert_q(a->slots[2], 6667, 10000); /* 66.67 % exactly, not a binary double */
    assert_q(a->slots[8], 8999, 100);   /* 89.99 exactly */
    /* grades: ordinals in the element arena */
    assert_int_equal(a->slots[3].d, 2);
    assert_q(a->elems[a->slots[3].n], 2, 1);
    assert_q(a->elems[a->slots[3].n + 1], 3, 1);
    assert_q(a->slots[4], 1, 1); /* guong_mau */
    /* discipline_cases: 2 elements x 2 fields (who, corruption) */
    assert_int_equal(a->slots[5].d, 2);
    int64_t c0 = a->slots[5].n;
    assert_q(a->elems[c0 + 0], 1, 1); /* member */
    assert_q(a->elems[c0 + 1], 1, 1); /* true */
    assert_q(a->elems[c0 + 2], 2, 1); /* collective */
    assert_q(a->elems[c0 + 3], 0, 1); /* false */
    /* date: days since 1970-01-01 */
    assert_q(a->slots[6], 20072, 1);
    /* defaulted */
    assert_true(a->present[7]);
    assert_q(a->slots[7], 1, 1);
    /* strings */
    assert_int_equal(a->slots[9].d, (int64_t)strlen("Chi bộ số 3"));
    assert_memory_equal(str_of(a->slots[9]), "Chi bộ số 3", strlen("Chi bộ số 3"));
    assert_int_equal(a->slots[10].d, 2);
    assert_string_equal(str_of(a->elems[a->slots[10].n + 1]), "phieu");
    /* batch field absent: not present, no error */
    assert_false(a->present[11]);

    assert_string_equal(b->id, "a2");
    assert_int_equal(b->line, 3);
    assert_int_equal(b->index, 1);
    assert_q(b->slots[2], 11, 20); /* 55 % = 55/100 */
    assert_q(b->slots[7], 0, 1);
    assert_q(b->slots[8], 12, 1);
    assert_false(b->present[9]); /* null = absent */
    assert_int_equal(b->slots[5].d, 0);
}

static void test_jsonl_missing_field(void **state)
{
    run *r = *state;
    read_over(r,
             "{\"id\":\"m1\",\"kind\":\"member\",\"tasks_completed\":1,\"grades\":[],\"exemplary\":\"khong\","
             "\"discipline_cases\":[],\"review_held_on\":\"2024-01-01\"}\n",
             REC_JSONL);
    assert_int_equal(r->nrecs, 0);
    assert_int_equal(r->nerrs, 1);
    rec_error *e = &r->errs[0];
    assert_string_equal(e->code, "missing_field");
    assert_string_equal(e->field, "tasks_total");
    assert_string_equal(e->id, "m1");
    assert_string_equal(e->file, "input.x");
    assert_int_equal(e->line, 1);
    assert_non_null(strstr(e->message, "thiếu trường bắt buộc 'tasks_total'"));
    assert_non_null(strstr(e->message, "(missing required field)"));
}

static void test_jsonl_missing_id_kind(void **state)
{
    run *r = *state;
    read_over(r, "{\"kind\":\"member\"}\n{\"id\":\"x\"}\n{\"id\":7,\"kind\":\"member\"}\n", REC_JSONL);
    assert_int_equal(r->nerrs, 3);
    assert_string_equal(r->errs[0].code, "missing_field");
    assert_string_equal(r->errs[0].field, "id");
    assert_string_equal(r->errs[1].code, "missing_field");
    assert_string_equal(r->errs[1].field, "kind");
    assert_string_equal(r->errs[1].id, "x");
    assert_string_equal(r->errs[2].code, "wrong_type");
    assert_string_equal(r->errs[2].field, "id");
}

static void test_jsonl_wrong_type(void **state)
{
    run *r = *state;
    read_over(r,
             "{\"id\":\"w1\",\"kind\":\"member\"," GOOD_FIELDS ",\"tasks_total\":\"ten\"}\n"
             "{\"id\":\"w2\",\"kind\":\"member\"," GOOD_FIELDS ",\"tasks_total\":12.5}\n"
             "{\"id\":\"w3\",\"kind\":\"member\"," GOOD_FIELDS ",\"tasks_total\":12.0}\n"
             "{\"id\":\"w4\",\"kind\":\"member\"," GOOD_FIELDS ",\"review_done\":\"yes\"}\n"
             "{\"id\":\"w5\",\"kind\":\"member\"," GOOD_FIELDS ",\"review_held_on\":\"2024-02-30\"}\n"
             "{\"id\":\"w6\",\"kind\":\"member\"," GOOD_FIELDS ",\"grades\":\"tot\"}\n",
             REC_JSONL);
    assert_int_equal(r->nrecs, 1); /* 12.0 is an integer */
    assert_q(r->recs[0]->slots[0], 12, 1);
    assert_int_equal(r->nerrs, 5);
    for (int i = 0; i < 5; i++) assert_string_equal(r->errs[i].code, "wrong_type");
    assert_string_equal(r->errs[0].field, "tasks_total");
    assert_non_null(strstr(r->errs[0].message, "số nguyên"));
    assert_non_null(strstr(r->errs[0].message, "\"ten\""));
    assert_non_null(strstr(r->errs[0].message, "expected int"));
    assert_non_null(strstr(r->errs[1].message, "12.5"));
    assert_string_equal(r->errs[2].field, "review_done");
    assert_string_equal(r->errs[3].field, "review_held_on");
    assert_non_null(strstr(r->errs[3].message, "2024-02-30"));
    assert_string_equal(r->errs[4].field, "grades");
    assert_int_equal(r->errs[4].line, 6);
}

static void test_jsonl_unknown_enum(void **state)
{
    run *r = *state;
    read_over(r,
             "{\"id\":\"e1\",\"kind\":\"member\"," GOOD_FIELDS ",\"exemplary\":\"rat_guong_mau\"}\n"
             "{\"id\":\"e2\",\"kind\":\"member\"," GOOD_FIELDS ",\"grades\":[\"tot\",\"gioi\"]}\n"
             "{\"id\":\"e3\",\"kind\":\"member\"," GOOD_FIELDS
             ",\"discipline_cases\":[{\"who\":\"member\",\"corruption\":false},{\"who\":\"cadre\",\"corruption\":true}]}\n"
             "{\"id\":\"e4\",\"kind\":\"member\"," GOOD_FIELDS
             ",\"discipline_cases\":[{\"who\":\"member\"}]}\n",
             REC_JSONL);
    assert_int_equal(r->nrecs, 0);
    assert_int_equal(r->nerrs, 4);
    assert_string_equal(r->errs[0].code, "unknown_value");
    assert_string_equal(r->errs[0].field, "exemplary");
    assert_non_null(strstr(r->errs[0].message, "\"rat_guong_mau\""));
    assert_non_null(strstr(r->errs[0].message, "khong, guong_mau, thuc_su_guong_mau"));
    assert_string_equal(r->errs[1].field, "grades[1]");
    assert_string_equal(r->errs[2].code, "unknown_value");
    assert_string_equal(r->errs[2].field, "discipline_cases[1].who");
    assert_non_null(strstr(r->errs[2].message, "sub_unit, member, collective"));
    assert_string_equal(r->errs[3].code, "missing_field");
    assert_string_equal(r->errs[3].field, "discipline_cases[0].corruption");
}

static void test_jsonl_unknown_kind(void **state)
{
    run *r = *state;
    read_over(r, "{\"id\":\"k1\",\"kind\":\"cadre\"}\n", REC_JSONL);
    assert_int_equal(r->nerrs, 1);
    assert_string_equal(r->errs[0].code, "unknown_kind");
    assert_string_equal(r->errs[0].field, "kind");
    assert_non_null(strstr(r->errs[0].message, "\"cadre\""));
    assert_non_null(strstr(r->errs[0].message, "member, leader"));
    assert_null(strstr(r->errs[0].message, "agency")); /* declared but not rated */
}

static void test_jsonl_bad_line_continues(void **state)
{
    run *r = *state;
    read_over(r,
             "{\"id\":\"b1\",\"kind\":\"member\"," GOOD_FIELDS "}\n"
             "{\"id\":\"b2\",\"kind\":\"member\",\n"
             "[1,2]\n"
             "{\"id\":\"b3\",\"kind\":\"member\"," GOOD_FIELDS "}\n",
             REC_JSONL);
    assert_int_equal(r->nrecs, 2);
    assert_string_equal(r->recs[1]->id, "b3");
    assert_int_equal(r->recs[1]->line, 4);
    assert_int_equal(r->nerrs, 2);
    assert_string_equal(r->errs[0].code, "bad_json");
    assert_int_equal(r->errs[0].line, 2);
    assert_non_null(strstr(r->errs[0].message, "cột"));
    assert_string_equal(r->errs[1].code, "bad_json");
    assert_int_equal(r->errs[1].line, 3);
}

static void test_duplicate_id(void **state)
{
    run *r = *state;
    read_over(r,
             "{\"id\":\"d1\",\"kind\":\"member\"," GOOD_FIELDS "}\n"
             "{\"id\":\"d2\",\"kind\":\"member\"," GOOD_FIELDS "}\n"
             "{\"id\":\"d1\",\"kind\":\"member\"," GOOD_FIELDS "}\n",
             REC_JSONL);
    assert_int_equal(r->nrecs, 2);
    assert_int_equal(r->nerrs, 1);
    assert_string_equal(r->errs[0].code, "duplicate_id");
    assert_string_equal(r->errs[0].id, "d1");
    assert_int_equal(r->errs[0].line, 3);
    assert_non_null(strstr(r->errs[0].message, "dòng 1"));
}

static void test_many_ids(void **state)
{
    /* enough ids to grow the set several times */
    run *r = *state;
    FILE *f = tmpfile();
    assert_non_null(f);
    for (int i = 0; i < 5000; i++)
        fprintf(f, "{\"id\":\"n%d\",\"kind\":\"member\"," GOOD_FIELDS "}\n", i % 4000);
    rewind(f);
    rec_reader *rd = rec_reader_open(r->p, f, "big", REC_AUTO);
    q_record *rec;
    rec_error err;
    int good = 0, dup = 0, rc;
    while ((rc = rec_reader_next(rd, &rec, &err)) != 0) {
        if (rc == 1) good++;
        else if (!strcmp(err.code, "duplicate_id")) dup++;
    }
    assert_int_equal(good, 4000);
    assert_int_equal(dup, 1000);
    rec_reader_free(rd);
    fclose(f);
}

static void test_unknown_field_warned_once(void **state)
{
    run *r = *state;
    read_over(r,
             "{\"id\":\"u1\",\"kind\":\"member\"," GOOD_FIELDS ",\"nickname\":\"A\"}\n"
             "{\"id\":\"u2\",\"kind\":\"member\"," GOOD_FIELDS ",\"nickname\":\"B\",\"shoe_size\":42}\n",
             REC_JSONL);
    assert_int_equal(r->nerrs, 0);
    assert_int_equal(r->nrecs, 2);
    assert_int_equal(r->nwarns, 2);
    assert_string_equal(r->warns[0].code, "unknown_field");
    assert_string_equal(r->warns[0].field, "nickname");
    assert_int_equal(r->warns[0].line, 1);
    assert_string_equal(r->warns[1].field, "shoe_size");
    assert_int_equal(r->warns[1].line, 2);
}

/* Two unknown fields whose names share their first 250 bytes are warned of
 * apart (the once-per-name set held the first 200 bytes: the second was
 * never warned of); a name too long to show ends in "…". */
static void test_unknown_long_fields_warned_apart(void **state)
{
    run *r = *state;
    char a[251];
    memset(a, 'x', 250);
    a[250] = 0;
    char text[1024];
    snprintf(text, sizeof text, "{\"id\":\"u1\",\"kind\":\"member\"," GOOD_FIELDS ",\"%s1\":1,\"%s2\":2}\n", a, a);
    read_over(r, text, REC_JSONL);
    assert_int_equal(r->nrecs, 1);
    assert_int_equal(r->nwarns, 2);
    for (int i = 0; i < 2; i++) {
        const char *f = r->warns[i].field;
        assert_string_equal(f + strlen(f) - strlen("…"), "…");
        assert_non_null(strstr(r->warns[i].message, "xxx…' không có"));
    }
}

static void test_misspelt_field_warned_on_rejection(void **state)
{
    run *r = *state;
    read_over(r,
             "{\"id\":\"t1\",\"kind\":\"member\",\"tasks_totl\":10,\"tasks_completed\":8,\"grades\":[],"
             "\"exemplary\":\"khong\",\"discipline_cases\":[],\"review_held_on\":\"2024-01-01\"}\n",
             REC_JSONL);
    assert_int_equal(r->nerrs, 1);
    assert_string_equal(r->errs[0].field, "tasks_total");
    assert_int_equal(r->nwarns, 1);
    assert_string_equal(r->warns[0].field, "tasks_totl");
}

static void test_constraint(void **state)
{
    run *r = *state;
    read_over(r,
             "{\"id\":\"c1\",\"kind\":\"member\"," GOOD_FIELDS ",\"tasks_completed\":12}\n"
             "{\"id\":\"c2\",\"kind\":\"member\"," GOOD_FIELDS ",\"tasks_completed\":10}\n",
             REC_JSONL);
    assert_int_equal(r->nrecs, 1);
    assert_string_equal(r->recs[0]->id, "c2");
    assert_int_equal(r->nerrs, 1);
    rec_error *e = &r->errs[0];
    assert_string_equal(e->code, "constraint");
    assert_string_equal(e->field, "tasks_completed");
    assert_string_equal(e->id, "c1");
    assert_non_null(strstr(e->message, "tasks_completed <= tasks_total"));
    assert_non_null(strstr(e->message, "tasks_completed = 12"));
    assert_non_null(strstr(e->message, "tasks_total = 10"));
}

static void test_decimal_exponents(void **state)
{
    run *r = *state;
    read_over(r,
             "{\"id\":\"x1\",\"kind\":\"member\"," GOOD_FIELDS ",\"score\":1e-7,\"pct\":0.1}\n"
             "{\"id\":\"x2\",\"kind\":\"member\"," GOOD_FIELDS ",\"score\":2.5e3,\"pct\":100}\n"
             "{\"id\":\"x3\",\"kind\":\"member\"," GOOD_FIELDS ",\"score\":-0.3}\n",
             REC_JSONL);
    assert_int_equal(r->nerrs, 0);
    assert_int_equal(r->nrecs, 3);
    assert_q(r->recs[0]->slots[8], 1, 10000000);
    assert_q(r->recs[0]->slots[2], 1, 1000);
    assert_q(r->recs[1]->slots[8], 2500, 1);
    assert_q(r->recs[1]->slots[2], 1, 1);
    assert_q(r->recs[2]->slots[8], -3, 10);
}

/* ---------------------------------------------------------------------
 * JSON array
 * ------------------------------------------------------------------- */

static void test_json_array(void **state)
{
    run *r = *state;
    read_over(r,
             "[\n"
             "  {\"id\":\"j1\",\"kind\":\"member\"," GOOD_FIELDS "},\n"
             "  {\"id\":\"j2\",\n"
             "   \"kind\":\"leader\",\"exemplary\":\"thuc_su_guong_mau\"},\n"
             "  {\"id\":\"j3\",\"kind\":\"member\"},\n"
             "  42\n"
             "]\n",
             REC_AUTO);
    assert_int_equal(r->nrecs, 2);
    assert_string_equal(r->recs[0]->id, "j1");
    assert_int_equal(r->recs[0]->line, 2);
    assert_string_equal(r->recs[1]->id, "j2");
    assert_int_equal(r->recs[1]->kind, 1);
    assert_int_equal(r->recs[1]->line, 3);
    assert_q(r->recs[1]->slots[0], 2, 1);
    assert_int_equal(r->nerrs, 2);
    assert_string_equal(r->errs[0].code, "missing_field");
    assert_int_equal(r->errs[0].line, 5);
    assert_string_equal(r->errs[1].code, "bad_json");
    assert_int_equal(r->errs[1].line, 6);
}

static void test_json_array_syntax_error(void **state)
{
    run *r = *state;
    read_over(r,
             "[\n"
             "  {\"id\":\"s1\",\"kind\":\"member\"," GOOD_FIELDS "},\n"
             "  {\"id\":\"s2\",\n"
             "   \"kind\": member}\n"
             "]\n",
             REC_AUTO);
    assert_int_equal(r->nrecs, 1); /* the element before the error is rated; the rest is lost */
    assert_int_equal(r->nerrs, 1); /* reported once */
    assert_string_equal(r->errs[0].code, "bad_json");
    assert_int_equal(r->errs[0].line, 4);
    assert_int_equal(r->errs[0].column, 12); /* the bad token itself */
    assert_non_null(strstr(r->errs[0].message, "cột 12"));

    r->nerrs = 0;
    read_over(r, "[{\"id\":\"s3\",\"kind\":\"member\"} {\"id\":\"s4\"}]", REC_JSON);
    assert_int_equal(r->nerrs, 2); /* s3 lacks its fields, then the syntax error */
    assert_non_null(strstr(r->errs[1].message, "expected ',' or ']'"));

    r->nerrs = 0;
    read_over(r, "[{\"id\":\"s5\",\"kind\":\"member\"}", REC_JSON);
    assert_int_equal(r->nerrs, 2);
    assert_non_null(strstr(r->errs[1].message, "unterminated"));

    r->nerrs = 0;
    read_over(r, "[]  \n", REC_AUTO);
    assert_int_equal(r->nerrs, 0);
    assert_int_equal(r->nrecs, 1); /* s1, from the first array */
}

/* ---------------------------------------------------------------------
 * CSV
 * ------------------------------------------------------------------- */

static void test_csv(void **state)
{
    run *r = *state;
    read_over(r,
             "id,kind,tasks_total,tasks_completed,pct,grades,exemplary,discipline_cases,review_held_on,review_done,"
             "note,dossier,nickname\n"
             "v1,member,10,9,66.67,tot;xuat_sac,guong_mau,\"[{\"\"who\"\":\"\"member\"\",\"\"corruption\"\":true}]\","
             "2024-12-15,0,\"Chi bộ, số 3\",bien_ban; phieu,x\n"
             "\n"
             "v2,member, 4 ,4,,kem,khong,[],2024-11-01,,\"hai\n"
             "dòng\",,\n"
             "v3,member,1,1\n"
             "v4,member,1,1,,,khong,[],2024-11-01,TRUE,,,\n"
             "v5,member,1,1,55%,dat,khong,[],2024-11-01,maybe,,,\n",
             REC_AUTO);
    assert_int_equal(r->nrecs, 2);
    q_record *a = r->recs[0], *b = r->recs[1];
    assert_string_equal(a->id, "v1");
    assert_int_equal(a->line, 2);
    assert_q(a->slots[2], 6667, 10000);
    assert_int_equal(a->slots[3].d, 2);
    assert_q(a->elems[a->slots[3].n + 1], 3, 1);
    assert_int_equal(a->slots[5].d, 1);
    assert_q(a->elems[a->slots[5].n], 1, 1);
    assert_q(a->elems[a->slots[5].n + 1], 1, 1);
    assert_q(a->slots[7], 0, 1);
    assert_string_equal(str_of(a->slots[9]), "Chi bộ, số 3");
    assert_int_equal(a->slots[10].d, 2);
    assert_string_equal(str_of(a->elems[a->slots[10].n + 1]), "phieu");
    assert_int_equal(r->nwarns, 1);
    assert_string_equal(r->warns[0].field, "nickname");

    assert_string_equal(b->id, "v2");
    assert_int_equal(b->line, 4);
    assert_q(b->slots[0], 4, 1);
    assert_false(b->present[2]); /* empty cell: absent */
    assert_true(b->present[7]);  /* empty cell: defaulted */
    assert_q(b->slots[7], 1, 1);
    assert_string_equal(str_of(b->slots[9]), "hai\ndòng");
    assert_int_equal(b->slots[5].d, 0);

    assert_int_equal(r->nerrs, 3);
    assert_string_equal(r->errs[0].code, "bad_csv");
    assert_int_equal(r->errs[0].line, 6);
    assert_string_equal(r->errs[0].id, "v3");
    assert_non_null(strstr(r->errs[0].message, "dòng 6"));
    assert_string_equal(r->errs[1].code, "missing_field"); /* v4: grades empty */
    assert_string_equal(r->errs[1].field, "grades");
    assert_int_equal(r->errs[1].line, 7);
    assert_string_equal(r->errs[2].code, "wrong_type");
    assert_string_equal(r->errs[2].field, "review_done");
    assert_non_null(strstr(r->errs[2].message, "\"maybe\""));
}

static void test_csv_syntax(void **state)
{
    run *r = *state;
    read_over(r,
             "id,kind,tasks_total,tasks_completed,grades,exemplary,discipline_cases,review_held_on\n"
             "q1,member,1,1,tot,khong,[],2024-01-01\n"
             "q2,mem\"ber,1,1,tot,khong,[],2024-01-01\n"
             "q3,member,1,1,tot,khong,\"[{\"\"who\"\":1}]\",2024-01-01\n"
             "q4,member,1,1,tot,khong,[],2024-01-01\n"
             "q5,member,1,1,tot,khong,[],\"2024-01-01\n",
             REC_CSV);
    assert_int_equal(r->nrecs, 2);
    assert_string_equal(r->recs[1]->id, "q4");
    assert_int_equal(r->recs[1]->line, 5);
    assert_int_equal(r->nerrs, 3);
    assert_string_equal(r->errs[0].code, "bad_csv");
    assert_int_equal(r->errs[0].line, 3);
    assert_string_equal(r->errs[1].code, "wrong_type");
    assert_string_equal(r->errs[1].field, "discipline_cases[0].who");
    assert_string_equal(r->errs[2].code, "bad_csv");
    assert_int_equal(r->errs[2].line, 6);
}

/* ---------------------------------------------------------------------
 * Streams, copies, decode_json
 * ------------------------------------------------------------------- */

static void test_stdin_like(void **state)
{
    /* a stream that cannot seek, with a BOM and blank lines before the data */
    run *r = *state;
    static const char text[] = "\xEF\xBB\xBF\n  \n{\"id\":\"s1\",\"kind\":\"member\"," GOOD_FIELDS "}\n"
                               "{\"id\":\"s2\",\"kind\":\"member\"," GOOD_FIELDS "}";
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(write(fds[1], text, sizeof text - 1), (ssize_t)(sizeof text - 1));
    close(fds[1]);
    FILE *f = fdopen(fds[0], "r");
    rec_reader *rd = rec_reader_open(r->p, f, NULL, REC_AUTO);
    q_record *rec;
    rec_error err;
    assert_int_equal(rec_reader_next(rd, &rec, &err), 1);
    assert_string_equal(rec->id, "s1");
    assert_int_equal(rec->line, 3);
    assert_int_equal(rec_reader_next(rd, &rec, &err), 1);
    assert_string_equal(rec->id, "s2");
    assert_int_equal(rec->line, 4);
    assert_int_equal(rec_reader_next(rd, &rec, &err), 0);
    assert_int_equal(rec_reader_next(rd, &rec, &err), 0);
    rec_reader_free(rd);
    fclose(f);

    /* fmemopen, CSV sniffed, error names "-" */
    f = fmemopen((void *)(uintptr_t)"id,kind\nz,nope\n", 15, "r");
    rd = rec_reader_open(r->p, f, NULL, REC_AUTO);
    assert_int_equal(rec_reader_next(rd, &rec, &err), -1);
    assert_string_equal(err.code, "unknown_kind");
    assert_string_equal(err.file, "-");
    assert_int_equal(err.line, 2);
    assert_int_equal(rec_reader_next(rd, &rec, &err), 0);
    rec_reader_free(rd);
    fclose(f);

    /* empty input */
    f = fmemopen((void *)(uintptr_t)"  \n", 3, "r");
    rd = rec_reader_open(r->p, f, NULL, REC_AUTO);
    assert_int_equal(rec_reader_next(rd, &rec, &err), 0);
    rec_reader_free(rd);
    fclose(f);
}

static void test_copy_outlives_reader(void **state)
{
    run *r = *state;
    read_over(r,
             "{\"id\":\"cp1\",\"kind\":\"member\"," GOOD_FIELDS ",\"note\":\"một\",\"dossier\":[\"a\",\"bb\"]}\n"
             "{\"id\":\"cp2\",\"kind\":\"member\"," GOOD_FIELDS ",\"note\":\"hai\",\"dossier\":[\"ccc\"]}\n",
             REC_JSONL);
    /* read_all copied each record and freed the reader */
    assert_int_equal(r->nrecs, 2);
    q_record *a = r->recs[0];
    assert_string_equal(a->id, "cp1");
    assert_string_equal(str_of(a->slots[9]), "một");
    assert_string_equal(str_of(a->elems[a->slots[10].n]), "a");
    assert_string_equal(str_of(a->elems[a->slots[10].n + 1]), "bb");
    q_record *c = rec_copy(r->p, r->recs[1]);
    assert_string_equal(c->id, "cp2");
    assert_string_equal(str_of(c->elems[c->slots[10].n]), "ccc");
    assert_ptr_not_equal(str_of(c->slots[9]), str_of(r->recs[1]->slots[9]));
    rec_free(c);
}

static void test_decode_json(void **state)
{
    run *r = *state;
    rec_reader *rd = rec_reader_open(r->p, NULL, "cases.quytest", REC_JSON);
    json_error_t je;
    json_t *o = json_loads("{\"id\":\"t\",\"kind\":\"leader\",\"exemplary\":\"khong\"}", 0, &je);
    q_record *rec;
    rec_error err;
    assert_int_equal(rec_decode_json(rd, o, 17, &rec, &err), 1);
    assert_int_equal(rec->line, 17);
    assert_int_equal(rec->kind, 1);
    /* the same id again is fine: test cases are independent */
    assert_int_equal(rec_decode_json(rd, o, 18, &rec, &err), 1);
    json_decref(o);
    o = json_loads("{\"id\":\"t\",\"kind\":\"leader\"}", 0, &je);
    assert_int_equal(rec_decode_json(rd, o, 19, &rec, &err), -1);
    assert_string_equal(err.code, "missing_field");
    assert_int_equal(err.line, 19);
    assert_string_equal(err.file, "cases.quytest");
    json_decref(o);
    /* a reader without input has nothing to read */
    assert_int_equal(rec_reader_next(rd, &rec, &err), 0);
    rec_reader_free(rd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_jsonl_good, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jsonl_missing_field, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jsonl_missing_id_kind, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jsonl_wrong_type, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jsonl_unknown_enum, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jsonl_unknown_kind, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jsonl_bad_line_continues, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_field_warned_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_long_fields_warned_apart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_misspelt_field_warned_on_rejection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_constraint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_decimal_exponents, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_array, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_array_syntax_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csv, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csv_syntax, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stdin_like, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy_outlives_reader, setup, teardown),
        cmocka_unit_test_setup_teardown(test_decode_json, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
