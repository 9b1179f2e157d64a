/*
 * test_record_strict.c — what the record reader guarantees beyond reading
 * (record.h): exact numbers from text, a key twice is an error, UTF-8 and
 * NFC, escapes, limits, the place (line, column) of every error, members
 * before `kind`, and CSV's duplicated columns, unterminated quotes and long
 * ids. Against the hand-built program of rec_fixture.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rec_harness.h"

/* The required fields of a member, then whatever the test adds. */
#define REQ "\"tasks_total\":10,\"tasks_completed\":8,\"grades\":[\"tot\"],\"exemplary\":\"khong\",\"discipline_cases\":[]," \
            "\"review_held_on\":\"2024-12-15\""
#define MEMBER(id) "{\"id\":\"" id "\",\"kind\":\"member\"," REQ

/* ---------------------------------------------------------------------
 * Exact numbers
 * ------------------------------------------------------------------- */

static void test_numbers_exact(void **state)
{
    run *r = *state;
    read_all(r,
             MEMBER("n1") ",\"pct\":50.00000000000001,\"score\":1.50}\n"     /* more than 50 %: 16 digits kept */
             MEMBER("n2") ",\"pct\":0e-400,\"score\":-0.0}\n"                 /* zero, whatever the exponent */
             MEMBER("n3") ",\"score\":1e-18,\"pct\":12.5e-1}\n"               /* 1/10^18; 1.25 % = 1/80 */
             "{\"id\":\"n4\",\"kind\":\"member\",\"tasks_total\":1e1,\"tasks_completed\":8,\"grades\":[\"tot\"],"
             "\"exemplary\":\"khong\",\"discipline_cases\":[],\"review_held_on\":\"2024-12-15\"}\n",
             REC_JSONL);
    assert_int_equal(r->nerrs, 0);
    assert_int_equal(r->nrecs, 4);
    assert_q(r->recs[0]->slots[2], 5000000000000001, 10000000000000000);
    assert_q(r->recs[0]->slots[8], 3, 2);
    assert_q(r->recs[1]->slots[2], 0, 1);
    assert_q(r->recs[1]->slots[8], 0, 1);
    assert_q(r->recs[2]->slots[8], 1, 1000000000000000000);
    assert_q(r->recs[2]->slots[2], 1, 80);
    assert_q(r->recs[3]->slots[0], 10, 1);
}

static void test_numbers_too_precise(void **state)
{
    run *r = *state;
    read_all(r,
             MEMBER("t1") ",\"pct\":1e-19}\n"                      /* 1/10^21: no int64 denominator */
             MEMBER("t2") ",\"pct\":1e-400}\n"                     /* never 0 */
             MEMBER("t3") ",\"score\":1e-19}\n"
             MEMBER("t4") ",\"score\":123456789012345678901234567890}\n"
             MEMBER("t5") ",\"score\":0.1234567890123456789}\n"    /* 19 decimals */
             MEMBER("t6") ",\"score\":1e400}\n",
             REC_JSONL);
    assert_int_equal(r->nrecs, 0);
    assert_int_equal(r->nerrs, 6);
    for (int i = 0; i < 6; i++) assert_string_equal(r->errs[i].code, "too_precise");
    assert_string_equal(r->errs[0].field, "pct");
    assert_string_equal(r->errs[0].id, "t1");
    assert_non_null(strstr(r->errs[0].message, "1e-19"));
    assert_string_equal(r->errs[2].field, "score");
    assert_int_equal(r->errs[0].line, 1);
    assert_true(r->errs[0].column > 100);

    /* CSV: the same text, the same answer */
    read_all(r,
             "id,kind,tasks_total,tasks_completed,grades,exemplary,review_held_on,pct,score,discipline_cases\n"
             "c1,member,10,8,tot,khong,2024-12-15,1e-19,,[]\n"
             "c2,member,10,8,tot,khong,2024-12-15,50.00000000000001%,0.1234567890123456789,[]\n"
             "c3,member,10,8,tot,khong,2024-12-15,50.00000000000001,,[]\n",
             REC_CSV);
    assert_int_equal(r->nerrs, 2);
    assert_string_equal(r->errs[0].code, "too_precise");
    assert_int_equal(r->errs[0].column, 8);
    assert_string_equal(r->errs[1].code, "too_precise");
    assert_string_equal(r->errs[1].field, "score");
    assert_int_equal(r->nrecs, 1);
    assert_q(r->recs[0]->slots[2], 5000000000000001, 10000000000000000);
}

/* The reader's fast paths (record_json.c: predicted keys, integers and
 * enum elements decoded in place) give what the general path gives: at
 * the boundaries of each, the same values and the same errors. */
static void test_fast_paths_agree(void **state)
{
    run *r = *state;
    read_all(r,
             MEMBER("f1") ",\"pct\":50,\"score\":123456789012345678}\n"   /* 18 digits: in place */
             MEMBER("f2") ",\"pct\":-0,\"score\":-1234567890123456789}\n" /* 19: the general path */
             /* another order, an escaped key, white space, a member in another normal form */
             "{\"id\":\"f3\",\"kind\":\"member\", \"grades\" : [ \"tot\" ,\"xuat_sac\",\"k\\u0065m\"],"
             "\"tasks\\u005ftotal\":10,\"tasks_completed\":8,\"exemplary\":\"khong\",\"discipline_cases\":[],"
             "\"review_held_on\":\"2024-12-15\",\"pct\":7}\n"
             MEMBER("f4") ",\"tasks_total\":10}\n"                           /* twice: the predicted key */
             "{\"id\":\"f5\",\"kind\":\"member\",\"tasks_total\":10,\"tasks_completed\":8,"      /* a member's */
             "\"grades\":[\"tot\",\"tott\"],\"exemplary\":\"khong\",\"discipline_cases\":[],"       /* name and more */
             "\"review_held_on\":\"2024-12-15\"}\n"
             MEMBER("f6") ",\"pct\":01}\n"                                   /* a leading zero */
             MEMBER("f7") ",\"review_done\":truex}\n"                        /* a literal and more */
             MEMBER("f8") ",\"score\":5.0,\"pct\":1e2}\n",                 /* the general path */
             REC_JSONL);
    assert_int_equal(r->nrecs, 4);
    assert_q(r->recs[0]->slots[2], 1, 2);
    assert_q(r->recs[0]->slots[8], 123456789012345678, 1);
    assert_q(r->recs[1]->slots[2], 0, 1);
    assert_q(r->recs[1]->slots[8], -1234567890123456789, 1);
    assert_q(r->recs[2]->slots[0], 10, 1);
    assert_q(r->recs[2]->slots[2], 7, 100);
    q_val g = r->recs[2]->slots[3];
    assert_int_equal(g.d, 3);
    assert_int_equal(r->recs[2]->elems[g.n].n, 2);     /* tot */
    assert_int_equal(r->recs[2]->elems[g.n + 1].n, 3); /* xuat_sac */
    assert_int_equal(r->recs[2]->elems[g.n + 2].n, 0); /* kem, escaped */
    assert_q(r->recs[3]->slots[8], 5, 1);
    assert_q(r->recs[3]->slots[2], 1, 1);
    assert_int_equal(r->nerrs, 4);
    assert_string_equal(r->errs[0].code, "duplicate_key");
    assert_string_equal(r->errs[0].field, "tasks_total");
    assert_string_equal(r->errs[1].code, "unknown_value");
    assert_string_equal(r->errs[1].field, "grades[1]");
    assert_string_equal(r->errs[2].code, "bad_json");
    assert_string_equal(r->errs[3].code, "bad_json");
}

static void test_numbers_syntax(void **state)
{
    run *r = *state;
    read_all(r,
             MEMBER("s1") ",\"score\":01}\n"
             MEMBER("s2") ",\"score\":1.}\n"
             MEMBER("s3") ",\"score\":.5}\n"
             MEMBER("s4") ",\"score\":+1}\n"
             MEMBER("s5") ",\"score\":NaN}\n",
             REC_JSONL);
    assert_int_equal(r->nrecs, 0);
    assert_int_equal(r->nerrs, 5);
    for (int i = 0; i < 5; i++) assert_string_equal(r->errs[i].code, "bad_json");
}

/* ---------------------------------------------------------------------
 * Keys
 * ------------------------------------------------------------------- */

static void test_duplicate_keys(void **state)
{
    run *r = *state;
    read_all(r,
             MEMBER("d1") ",\"tasks_total\":99}\n"
             MEMBER("d2") ",\"id\":\"d2b\"}\n"
             MEMBER("d3") ",\"nick\":1,\"nick\":2}\n"
             "{\"id\":\"d4\",\"kind\":\"member\",\"tasks_total\":10,\"tasks_completed\":8,\"grades\":[\"tot\"],"
             "\"exemplary\":\"khong\",\"review_held_on\":\"2024-12-15\","
             "\"discipline_cases\":[{\"who\":\"member\",\"corruption\":true,\"who\":\"collective\"}]}\n"
             "{\"id\":\"d5\",\"kind\":\"member\",\"tasks_total\":10,\"tasks_completed\":8,\"grades\":[\"tot\"],"
             "\"exemplary\":\"khong\",\"review_held_on\":\"2024-12-15\","
             "\"discipline_cases\":[{\"who\":\"member\",\"corruption\":true,\"x\":1},"
             "{\"who\":\"member\",\"corruption\":false,\"x\":2}]}\n",
             REC_JSONL);
    assert_int_equal(r->nerrs, 4);
    for (int i = 0; i < 4; i++) assert_string_equal(r->errs[i].code, "duplicate_key");
    assert_string_equal(r->errs[0].field, "tasks_total");
    assert_string_equal(r->errs[0].id, "d1");
    assert_non_null(strstr(r->errs[0].message, "'d1'"));
    assert_string_equal(r->errs[1].field, "id");
    assert_string_equal(r->errs[2].field, "nick");
    assert_string_equal(r->errs[3].field, "who");
    /* the same undeclared key in two elements is not a repeat */
    assert_int_equal(r->nrecs, 1);
    assert_string_equal(r->recs[0]->id, "d5");
}

static void test_kind_after_fields(void **state)
{
    run *r = *state;
    read_all(r,
             "{" REQ ",\"score\":2.5,\"id\":\"k1\",\"note\":\"x\",\"kind\":\"member\",\"pct\":10}\n"
             "{" REQ ",\"score\":2.5,\"id\":\"k2\",\"kind\":\"member\",\"score\":3}\n"
             "{" REQ ",\"tasks_totl\":1,\"id\":\"k3\",\"kind\":\"member\",\"score\":\"x\"}\n",
             REC_JSONL);
    assert_int_equal(r->nrecs, 1);
    q_record *a = r->recs[0];
    assert_string_equal(a->id, "k1");
    assert_q(a->slots[0], 10, 1);
    assert_q(a->slots[8], 5, 2);
    assert_q(a->slots[2], 1, 10);
    assert_string_equal(q_val_str(a->slots[9]), "x");
    assert_int_equal(r->nerrs, 2);
    assert_string_equal(r->errs[0].code, "duplicate_key"); /* before and after `kind` */
    assert_string_equal(r->errs[0].field, "score");
    assert_string_equal(r->errs[1].code, "wrong_type");
    /* an undeclared key before `kind` is still warned about */
    assert_int_equal(r->nwarns, 1);
    assert_string_equal(r->warns[0].field, "tasks_totl");
}

/* ---------------------------------------------------------------------
 * Strings: UTF-8, NFC, escapes
 * ------------------------------------------------------------------- */

static void test_strings(void **state)
{
    run *r = *state;
    read_all(r,
             MEMBER("u1") ",\"note\":\"Ho\xcc\x80\x61 Bi\xcc\x80nh\"}\n"           /* NFD: o + grave, i + grave */
             MEMBER("u2") ",\"note\":\"\\u00e9\\ud83d\\ude00\\t\\\"\"}\n"         /* escapes, a surrogate pair */
             MEMBER("u3") ",\"note\":\"\xc3\x28\"}\n"                             /* invalid UTF-8 */
             MEMBER("u4") ",\"note\":\"\\ud83d\"}\n"                              /* a lone surrogate */
             MEMBER("u5") ",\"note\":\"a\\u0000b\"}\n"                            /* NUL */
             MEMBER("u6") ",\"note\":\"\xed\xa0\x80\"}\n"                         /* an encoded surrogate */
             MEMBER("u7") ",\"note\":\"tab\there\"}\n"                            /* a raw control character */
             MEMBER("u8") ",\"note\":\"\\x\"}\n",                                 /* a bad escape */
             REC_JSONL);
    assert_int_equal(r->nrecs, 2);
    assert_string_equal(q_val_str(r->recs[0]->slots[9]), "H\xc3\xb2\x61 B\xc3\xacnh"); /* NFC */
    assert_int_equal(r->recs[0]->slots[9].d, 10);
    assert_string_equal(q_val_str(r->recs[1]->slots[9]), "\xc3\xa9\xf0\x9f\x98\x80\t\"");
    assert_int_equal(r->nerrs, 6);
    for (int i = 0; i < 6; i++) {
        assert_string_equal(r->errs[i].code, "bad_json");
        assert_int_equal(r->errs[i].line, (uint32_t)i + 3);
        assert_true(r->errs[i].column > 100);
    }
    assert_non_null(strstr(r->errs[0].message, "UTF-8"));

    /* CSV: NFC and UTF-8 too; an id in NFD equals its NFC form */
    read_all(r,
             "id,kind,tasks_total,tasks_completed,grades,exemplary,review_held_on,note,discipline_cases\n"
             "\xc4\x90\xe1\xbb\x97,member,10,8,tot,khong,2024-12-15,Ho\xcc\x80\x61,[]\n"
             "\xc4\x90o\xcc\x82\xcc\x83,member,10,8,tot,khong,2024-12-15,x,[]\n"
             "v3,member,10,8,tot,khong,2024-12-15,\xff,[]\n",
             REC_CSV);
    assert_int_equal(r->nrecs, 1);
    assert_string_equal(q_val_str(r->recs[0]->slots[9]), "H\xc3\xb2\x61");
    assert_int_equal(r->nerrs, 2);
    assert_string_equal(r->errs[0].code, "duplicate_id");
    assert_string_equal(r->errs[1].code, "wrong_type");
    assert_string_equal(r->errs[1].field, "note");
    assert_int_equal(r->errs[1].column, 8);
}

/* ---------------------------------------------------------------------
 * Limits
 * ------------------------------------------------------------------- */

static void test_limits(void **state)
{
    run *r = *state;
    r->lim = (rec_limits){0, 3, 2};
    read_all(r,
             MEMBER("l1") ",\"x\":[[[1]]]}\n"                      /* depth 3: fine */
             MEMBER("l2") ",\"x\":[[[[1]]]]}\n"                    /* depth 4 */
             MEMBER("l3") ",\"dossier\":[\"a\",\"b\",\"c\"]}\n",  /* 3 > 2 elements */
             REC_JSONL);
    assert_int_equal(r->nrecs, 1);
    assert_int_equal(r->nerrs, 2);
    assert_string_equal(r->errs[0].code, "limit");
    assert_non_null(strstr(r->errs[0].message, "--max-depth"));
    assert_string_equal(r->errs[1].code, "limit");
    assert_string_equal(r->errs[1].field, "dossier");
    assert_non_null(strstr(r->errs[1].message, "--max-list"));

    r->lim = (rec_limits){200, 0, 0};
    read_all(r,
             MEMBER("m1") "}\n"
             MEMBER("m2") ",\"note\":\"" "0123456789012345678901234567890123456789012345678901234567890123456789"
             "0123456789012345678901234567890123456789\"}\n"
             MEMBER("m3") "}\n",
             REC_JSONL);
    assert_int_equal(r->nrecs, 2);
    assert_int_equal(r->nerrs, 1);
    assert_string_equal(r->errs[0].code, "limit");
    assert_int_equal(r->errs[0].line, 2);
    assert_non_null(strstr(r->errs[0].message, "--max-line"));
    assert_string_equal(r->recs[1]->id, "m3");
    assert_int_equal(r->recs[1]->line, 3);
    r->lim = (rec_limits){0, 0, 0};
}

/* ---------------------------------------------------------------------
 * CSV
 * ------------------------------------------------------------------- */

static void test_csv_duplicate_column(void **state)
{
    run *r = *state;
    read_all(r,
             "id,kind,tasks_total,tasks_completed,grades,exemplary,review_held_on,tasks_total,discipline_cases\n"
             "a1,member,10,8,tot,khong,2024-12-15,10,[]\n"
             "a2,member,10,8,tot,khong,2024-12-15,11,[]\n",
             REC_CSV);
    assert_int_equal(r->nwarns, 1);
    assert_string_equal(r->warns[0].code, "duplicate_column");
    assert_string_equal(r->warns[0].field, "tasks_total");
    assert_int_equal(r->nrecs, 1); /* the cells agree */
    assert_string_equal(r->recs[0]->id, "a1");
    assert_int_equal(r->nerrs, 1); /* they differ: no extra error for the header */
    assert_string_equal(r->errs[0].code, "bad_csv");
    assert_string_equal(r->errs[0].field, "tasks_total");
    assert_string_equal(r->errs[0].id, "a2");
    assert_int_equal(r->errs[0].column, 8);
}

static void test_csv_unterminated_quote(void **state)
{
    run *r = *state;
    read_all(r,
             "id,kind,tasks_total,tasks_completed,grades,exemplary,review_held_on,note,discipline_cases\n"
             "q1,member,10,8,tot,khong,2024-12-15,\"two\nlines\",[]\n"
             "q2,member,10,8,tot,khong,2024-12-15,\"open,[]\n"
             "q3,member,10,8,tot,khong,2024-12-15,x,[]\n"
             "q4,member,10,8,tot,khong,2024-12-15,y,[]\n",
             REC_CSV);
    assert_int_equal(r->nerrs, 1);
    assert_string_equal(r->errs[0].code, "bad_csv");
    assert_int_equal(r->errs[0].line, 4);
    assert_string_equal(r->errs[0].id, "q2");
    assert_non_null(strstr(r->errs[0].message, "dòng 4"));
    assert_int_equal(r->nrecs, 3);
    assert_string_equal(q_val_str(r->recs[0]->slots[9]), "two\nlines");
    assert_string_equal(r->recs[1]->id, "q3");
    assert_int_equal(r->recs[1]->line, 5);
    assert_string_equal(r->recs[2]->id, "q4");
    assert_int_equal(r->recs[2]->line, 6);
}

static void test_long_id(void **state)
{
    run *r = *state;
    char text[2048];
    char id[301];
    memset(id, 'A', 297);
    memcpy(id + 297, "\xe1\xbb\x87", 3); /* ệ across the 300th byte */
    id[300] = 0;
    snprintf(text, sizeof text, MEMBER("%s") "}\n" MEMBER("ok") "}\n", id);
    read_all(r, text, REC_JSONL);
    assert_int_equal(r->nerrs, 1);
    assert_string_equal(r->errs[0].code, "limit");
    assert_string_equal(r->errs[0].field, "id");
    assert_string_equal(r->errs[0].id, ""); /* never a cut id */
    assert_non_null(strstr(r->errs[0].message, "255"));
    assert_int_equal(r->nrecs, 1);

    char id2[256];
    memset(id2, 'B', 252);
    memcpy(id2 + 252, "\xe1\xbb\x87", 3); /* 255 bytes: kept whole */
    id2[255] = 0;
    snprintf(text, sizeof text, MEMBER("%s") ",\"tasks_completed\":11}\n", id2);
    read_all(r, text, REC_JSONL);
    assert_int_equal(r->nerrs, 1);
    assert_string_equal(r->errs[0].id, id2);
}

/* A NUL byte in a CSV row refuses the row (a cell would be cut there);
 * invalid UTF-8 shown in a message becomes '?'. */
static void test_csv_nul_and_bad_bytes(void **state)
{
    run *r = *state;
    static const char text[] = "id,kind,tasks_total,tasks_completed,grades,exemplary,review_held_on,note,discipline_cases\n"
                               "z1,member,10,8,tot,khong,2024-12-15,a\0b,[]\n"
                               "z2,\xff\xfe,10,8,tot,khong,2024-12-15,x,[]\n"
                               "z3,member,10,8,tot,khong,2024-12-15,x,[]\n";
    clear(r);
    FILE *f = fmemopen((void *)(uintptr_t)text, sizeof text - 1, "r");
    rec_reader *rd = rec_reader_open(r->p, f, "in.csv", REC_CSV);
    q_record *rec;
    rec_error err;
    int rc, good = 0, bad = 0;
    rec_error errs[4];
    while ((rc = rec_reader_next(rd, &rec, &err)) != 0) {
        if (rc > 0) good++;
        else if (bad < 4) errs[bad++] = err;
    }
    rec_reader_free(rd);
    fclose(f);
    assert_int_equal(good, 1);
    assert_int_equal(bad, 2);
    assert_string_equal(errs[0].code, "bad_csv");
    assert_int_equal(errs[0].line, 2);
    assert_non_null(strstr(errs[0].message, "NUL"));
    assert_string_equal(errs[1].code, "unknown_kind");
    assert_non_null(strstr(errs[1].message, "\"??\""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_numbers_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_numbers_too_precise, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fast_paths_agree, setup, teardown),
        cmocka_unit_test_setup_teardown(test_numbers_syntax, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kind_after_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_strings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csv_duplicate_column, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csv_unterminated_quote, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csv_nul_and_bad_bytes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
