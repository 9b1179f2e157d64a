/*
 * test_registry.c — the ruleset registry (compiler/registry.c): the shipped
 * rulesets/registry.json loads and resolves as documented; a manifest with
 * mistakes is rejected with one line per problem naming the file and the
 * entry; validity ends, successors and overlaps; resolution walks up to
 * the parent locality and names the nearest ruleset when none is in force.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../compiler/registry.h"
#include "../../runtime/value.h"

static int64_t day(const char *s)
{
    int64_t d;
    assert_true(q_parse_date(s, strlen(s), &d));
    return d;
}

/* Write `json` (single quotes stand for double quotes) to a temporary
 * file and load it; returns the registry, *err the errors. */
static registry *load_text(const char *json, char **err)
{
    char path[] = "/tmp/quy-registry-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    char *buf = strdup(json);
    for (char *s = buf; *s; s++)
        if (*s == '\'') *s = '"';
    assert_int_equal(write(fd, buf, strlen(buf)), (ssize_t)strlen(buf));
    close(fd);
    free(buf);
    registry *r = reg_load(path, err);
    unlink(path);
    return r;
}

#define LOCS                                                                                         \
    "'localities':["                                                                                 \
    "{'id':'vn','name':'Trung ương','code':null,'level':'trung_uong','parent':null},"                \
    "{'id':'tinh-a','name':'A','full_name':'tỉnh A','code':'01','level':'tinh','parent':'vn'},"      \
    "{'id':'xa-b','name':'B','full_name':'xã B','code':null,'level':'xa','parent':'tinh-a'}]"

#define DOC(rs, loc, eff, until, succ)                                                               \
    "{'ruleset':'" rs "','locality':'" loc "','document':'d','effective':" eff ",'until':" until \
    ",'superseded_by':" succ "}"

static void test_shipped_registry(void **state)
{
    (void)state;
    char *err = NULL;
    registry *r = reg_load(QUY_SOURCE_DIR "/rulesets/registry.json", &err);
    if (!r) fprintf(stderr, "%s\n", err);
    assert_non_null(r);
    assert_int_equal(r->nrs, 6);
    static const char *const names[] = {"central-124", "central-366", "ha-tinh-city-2023", "cho-chu-2024",
                                        "duc-pho-hdnd-2022", "thanh-lam-quarterly-2026"};
    for (size_t i = 0; i < 6; i++) {
        bool found = false;
        for (size_t k = 0; k < r->nrs; k++) found |= strcmp(r->rs[k].ruleset, names[i]) == 0;
        assert_true(found);
    }
    /* no source gives an administrative code */
    for (size_t i = 0; i < r->nloc; i++) assert_null(r->loc[i].code);
    reg_choice c;
    char *why;
    assert_int_equal(reg_resolve(r, "ha-tinh-city", day("2023-12-10"), &c, &why), 0);
    assert_string_equal(c.entry->ruleset, "ha-tinh-city-2023");
    free(why);
    assert_int_equal(reg_resolve(r, "Hà Tĩnh", day("2023-11-20"), &c, &why), 0);
    assert_string_equal(c.entry->ruleset, "central-124");
    assert_string_equal(c.from->id, "viet-nam");
    free(why);
    assert_int_equal(reg_resolve(r, "xã Thanh Lâm", day("2026-06-13"), &c, &why), 0);
    assert_string_equal(c.entry->ruleset, "thanh-lam-quarterly-2026");
    free(why);
    assert_int_equal(reg_resolve(r, "thanh-lam", day("2023-10-03"), &c, &why), -1);
    assert_non_null(strstr(why, "the nearest is central-124"));
    free(why);
    /* issue 17: 124 until 2025-08-29, 366 (provisional) from 2025-08-30 */
    assert_int_equal(reg_resolve(r, "viet-nam", day("2024-12-01"), &c, &why), 0);
    assert_string_equal(c.entry->ruleset, "central-124");
    assert_null(c.entry->provisional);
    assert_null(strstr(why, "PROVISIONAL"));
    free(why);
    assert_int_equal(reg_resolve(r, "viet-nam", day("2025-08-29"), &c, &why), 0);
    assert_string_equal(c.entry->ruleset, "central-124");
    free(why);
    assert_int_equal(reg_resolve(r, "viet-nam", day("2025-08-30"), &c, &why), 0);
    assert_string_equal(c.entry->ruleset, "central-366");
    free(why);
    assert_int_equal(reg_resolve(r, "viet-nam", day("2026-12-01"), &c, &why), 0);
    assert_string_equal(c.entry->ruleset, "central-366");
    assert_non_null(c.entry->provisional);
    assert_non_null(strstr(why, "PROVISIONAL (tạm thời): "));
    free(why);
    /* local rulesets under 124 lapse with it: their localities resolve to 366 */
    assert_int_equal(reg_resolve(r, "ha-tinh-city", day("2025-12-31"), &c, &why), 0);
    assert_string_equal(c.entry->ruleset, "central-366");
    assert_string_equal(c.from->id, "viet-nam");
    free(why);
    assert_int_equal(reg_resolve(r, "cho-chu", day("2024-12-01"), &c, &why), 0);
    assert_string_equal(c.entry->ruleset, "cho-chu-2024");
    free(why);
    assert_int_equal(reg_resolve(r, "cho-chu", day("2026-01-01"), &c, &why), 0);
    assert_string_equal(c.entry->ruleset, "central-366");
    free(why);
    reg_free(r);
}

/* issue 11, 7: --locality ignoring case and diacritics, with did-you-mean */
static void test_locality_folding(void **state)
{
    (void)state;
    char *err = NULL;
    registry *r = reg_load(QUY_SOURCE_DIR "/rulesets/registry.json", &err);
    assert_non_null(r);
    const int cc = reg_find_locality(r, "cho-chu", NULL);
    assert_true(cc >= 0);
    static const char *const same[] = {"Chợ Chu", "CHỢ CHU", "cho chu", "Cho Chu", "CHO-CHU", "thi tran cho chu",
                                       "Thị trấn Chợ Chu", "  cho   chu ", "Cho_Chu"};
    for (size_t i = 0; i < sizeof same / sizeof *same; i++) assert_int_equal(reg_find_locality(r, same[i], NULL), cc);
    /* NFD input (o + combining horn + combining dot below) folds the same */
    assert_int_equal(reg_find_locality(r, "Cho\xcc\x9b\xcc\xa3 Chu", NULL), cc);
    /* đ is a letter, not a mark: folded to d explicitly */
    const int dp = reg_find_locality(r, "duc-pho", NULL);
    assert_true(dp >= 0);
    assert_int_equal(reg_find_locality(r, "ĐỨC PHỔ", NULL), dp);
    assert_int_equal(reg_find_locality(r, "duc pho", NULL), dp);
    assert_int_equal(reg_find_locality(r, "Định Hoá", NULL), reg_find_locality(r, "dinh hoa", NULL));
    /* a near miss: did you mean, with the name as written in the registry */
    char *why = NULL;
    assert_int_equal(reg_find_locality(r, "Cho Chuu", &why), -1);
    assert_non_null(strstr(why, "unknown locality 'Cho Chuu'"));
    assert_non_null(strstr(why, "did you mean"));
    free(why);
    assert_int_equal(reg_find_locality(r, "Thanh Lamm", &why), -1);
    assert_non_null(strstr(why, "did you mean 'thanh-lam'?"));
    free(why);
    /* invalid UTF-8 is an error, not a crash */
    assert_int_equal(reg_find_locality(r, "cho\xff", &why), -1);
    assert_non_null(strstr(why, "not valid UTF-8"));
    free(why);
    char *f = reg_fold("Xã  Thanh-Lâm");
    assert_string_equal(f, "xa thanh lam");
    free(f);
    reg_free(r);
}

static void test_valid_chain_and_successor(void **state)
{
    (void)state;
    char *err = NULL;
    registry *r = load_text("{'format':'quy-registry/1'," LOCS ",'rulesets':["
                            DOC("central", "vn", "'2023-10-04'", "null", "null") ","
                            DOC("a-2023", "tinh-a", "'2023-01-01'", "null", "'a-2024'") ","
                            DOC("a-2024", "tinh-a", "'2024-03-01'", "'2024-12-31'", "null") "]}", &err);
    if (!r) fprintf(stderr, "%s\n", err);
    assert_non_null(r);
    /* a-2023 ends the day before its successor */
    char v[128];
    reg_validity(r, &r->rs[1], v, sizeof v);
    assert_string_equal(v, "2023-01-01 → 2024-02-29, superseded by a-2024");
    reg_validity(r, &r->rs[2], v, sizeof v);
    assert_string_equal(v, "2024-03-01 → 2024-12-31");
    reg_choice c;
    char *why;
    /* by code, on the last day of a-2023 */
    assert_int_equal(reg_resolve(r, "01", day("2024-02-29"), &c, &why), 0);
    assert_string_equal(c.entry->ruleset, "a-2023");
    free(why);
    assert_int_equal(reg_resolve(r, "tinh-a", day("2024-03-01"), &c, &why), 0);
    assert_string_equal(c.entry->ruleset, "a-2024");
    free(why);
    /* xã B has none: two levels up; the explanation names what was skipped */
    assert_int_equal(reg_resolve(r, "xã B", day("2024-06-01"), &c, &why), 0);
    assert_string_equal(c.entry->ruleset, "a-2024");
    assert_string_equal(c.from->id, "tinh-a");
    assert_non_null(strstr(why, "xa-b: no ruleset registered; using a-2024 of tỉnh A [tinh-a]"));
    free(why);
    /* after a-2024's until: central */
    assert_int_equal(reg_resolve(r, "xa-b", day("2025-01-01"), &c, &why), 0);
    assert_string_equal(c.entry->ruleset, "central");
    assert_non_null(strstr(why, "tinh-a: none in force (a-2023 2023-01-01 → 2024-02-29, superseded by a-2024, "
                                "a-2024 2024-03-01 → 2024-12-31)"));
    free(why);
    /* before everything: the nearest in time, here a-2023 (closer than central) */
    assert_int_equal(reg_resolve(r, "xa-b", day("2022-12-01"), &c, &why), -1);
    assert_non_null(strstr(why, "no ruleset is in force for xã B [xa-b] on 2022-12-01"));
    assert_non_null(strstr(why, "the nearest is a-2023 of tỉnh A [tinh-a], in force 2023-01-01 → 2024-02-29"));
    free(why);
    /* unknown and ambiguous names */
    assert_int_equal(reg_resolve(r, "tinh-b", day("2024-01-01"), &c, &why), -1);
    assert_non_null(strstr(why, "unknown locality 'tinh-b'"));
    assert_non_null(strstr(why, "did you mean 'tinh-a'?"));
    free(why);
    reg_free(r);
}

static void test_errors_name_file_and_entry(void **state)
{
    (void)state;
    char *err = NULL;
    registry *r = load_text("{'format':'quy-registry/1','localities':["
                            "{'id':'vn','name':'TW','code':null,'level':'trung_uong','parent':null},"
                            "{'id':'a','name':'A','code':null,'level':'tinh','parent':'vm'},"
                            "{'id':'b','name':'B','code':null,'level':'huyn','parent':'vn'},"
                            "{'id':'c','name':'C','code':null,'level':'trung_uong','parent':'vn'},"
                            "{'id':'d','name':'D','level':'xa','parent':'vn','nmae':'x'}"
                            "],'rulesets':["
                            DOC("r1", "vn", "'2023-02-30'", "null", "null") ","
                            DOC("r2", "vn", "'2023-10-04'", "'2023-01-01'", "null") ","
                            DOC("r3", "a", "'2023-01-01'", "null", "'r5'") ","
                            DOC("r4", "zz", "'2023-01-01'", "null", "null") ","
                            DOC("r6", "vn", "'2024-01-01'", "null", "null") ","
                            DOC("r7", "vn", "'2024-06-01'", "null", "null") "]}", &err);
    assert_null(r);
    assert_non_null(err);
    const char *want[] = {
        "locality 'a': unknown parent 'vm'; did you mean 'vn'?",
        "locality 'b': unknown level 'huyn' (trung_uong, tinh, huyen or xa); did you mean 'huyen'?",
        "locality 'c': level 'trung_uong' is not below its parent 'vn' (level 'trung_uong')",
        "locality 'd': unknown key 'nmae'; did you mean 'name'?",
        "locality 'd': 'code' is required (null when the source gives no administrative code)",
        "ruleset 'r1': 'effective' is not a valid date YYYY-MM-DD: \"2023-02-30\"",
        "ruleset 'r2': 'until' 2023-01-01 is before 'effective' 2023-10-04",
        "ruleset 'r3': 'superseded_by' names an unknown ruleset 'r5'",
        "ruleset 'r4': unknown locality 'zz'",
        "ruleset 'r7': in force 2024-06-01 → open, overlaps ruleset 'r6' (2024-01-01 → open) of the same locality 'vn' on 2024-06-01",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        if (!strstr(err, want[i])) fprintf(stderr, "missing: %s\nin:\n%s\n", want[i], err);
        assert_non_null(strstr(err, want[i]));
    }
    /* every line names the file */
    for (char *line = err; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
        assert_int_equal(strncmp(line, "/tmp/quy-registry-", 18), 0);
    free(err);
}

static void test_successor_dates(void **state)
{
    (void)state;
    char *err = NULL;
    /* successor not later; until past the successor's start */
    assert_null(load_text("{'format':'quy-registry/1'," LOCS ",'rulesets':["
                          DOC("x1", "tinh-a", "'2024-01-01'", "null", "'x2'") ","
                          DOC("x2", "tinh-a", "'2023-01-01'", "null", "null") ","
                          DOC("y1", "xa-b", "'2024-01-01'", "'2024-06-01'", "'y2'") ","
                          DOC("y2", "xa-b", "'2024-06-01'", "null", "null") "]}", &err));
    assert_non_null(strstr(err, "ruleset 'x1': its successor 'x2' takes effect on 2023-01-01, not after this one (2024-01-01)"));
    assert_non_null(strstr(err, "ruleset 'y1': 'until' 2024-06-01 is not before its successor 'y2' takes effect (2024-06-01)"));
    free(err);
    /* bad JSON: file, line, column */
    assert_null(load_text("{'format': 'quy-registry/1',\n 'localities': [,]}", &err));
    assert_non_null(strstr(err, ":2:"));
    assert_non_null(strstr(err, "invalid JSON"));
    free(err);
    /* wrong format tag, missing arrays */
    assert_null(load_text("{'format':'quy-registry/2'}", &err));
    assert_non_null(strstr(err, "top level: 'format' must be \"quy-registry/1\""));
    assert_non_null(strstr(err, "top level: 'localities' must be an array"));
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_registry),
        cmocka_unit_test(test_locality_folding),
        cmocka_unit_test(test_valid_chain_and_successor),
        cmocka_unit_test(test_errors_name_file_and_entry),
        cmocka_unit_test(test_successor_dates),
    };
    return cmocka_run_group_tests_name("registry", tests, NULL, NULL);
}
