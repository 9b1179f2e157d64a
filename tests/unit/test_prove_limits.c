/*
 * test_prove_limits.c — no silent limit in the prover (issue #14 item 2).
 * Solver variables are named by the whole field name: two int fields whose
 * names share their first 450 bytes were one solver variable when names
 * were cut at 400 bytes, so a rule reachable only when they differ was
 * reported dead. Messages, finding keys and the note naming the hooks are
 * whole too; the bound on lists is said in the report; any number of lists
 * read by 'longest run' is encoded; a witness's decimals may have as many
 * digits as a record's. Each test fails on a701d38.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "quy.h"

#define SHARED 450 /* bytes the two field names share */

/* "x" then SHARED - 1 more "x", then `tail`: a field name over 450 bytes. */
static char *long_name(const char *tail)
{
    size_t n = strlen(tail);
    char *s = malloc(SHARED + n + 1);
    assert_non_null(s);
    memset(s, 'x', SHARED);
    memcpy(s + SHARED, tail, n + 1);
    return s;
}

static quy_ruleset *compile_src(quy_loader *ld, const char *name, const char *src)
{
    quy_ruleset *rs = NULL;
    quy_diags *d = NULL;
    quy_status st = quy_loader_compile(ld, name, src, strlen(src), &rs, &d);
    if (st != QUY_OK) quy_diags_print(d, stderr, 0);
    assert_int_equal(st, QUY_OK);
    quy_diags_free(d);
    return rs;
}

/* Field a is an int; b an int ("both": a > 5 and b < 3) or a bool ("both":
 * a > 5 and b). */
static quy_ruleset *compile_typed(quy_loader *ld, const char *a, const char *b, const char *kname, bool b_int)
{
    char *src = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&src, &len);
    assert_non_null(f);
    fprintf(f,
            "ruleset long-names version \"1\"\n"
            "record %s \"Đảng viên\" {\n"
            "  %s : int \"first\"\n"
            "  %s : %s \"second\"\n"
            "}\n"
            "rate %s {\n"
            "  both: htxsnv when %s > 5 and %s%s cite \"fixture\"\n"
            "  otherwise khtnv\n"
            "}\n",
            kname, a, b, b_int ? "int" : "bool", kname, a, b, b_int ? " < 3" : "");
    fclose(f);
    quy_ruleset *rs = compile_src(ld, "long-names.quy", src);
    free(src);
    return rs;
}

/* The integer the witness gives field `name` (whole, quoted). */
static long witness_int(const char *w, const char *name)
{
    size_t n = strlen(name);
    char *pat = malloc(n + 4);
    assert_non_null(pat);
    snprintf(pat, n + 4, "\"%s\":", name);
    const char *at = strstr(w, pat);
    assert_non_null(at);
    long v = strtol(at + n + 3, NULL, 10);
    free(pat);
    return v;
}

static void check(const char *kname)
{
    char *a = long_name("_a"), *b = long_name("_b");
    quy_loader *ld = NULL;
    assert_int_equal(quy_loader_new(&ld), QUY_OK);
    assert_int_equal(quy_loader_set_defaults(ld, 0), QUY_OK);
    quy_ruleset *rs = compile_typed(ld, a, b, kname, true);
    /* the rule is reachable: no dead rule */
    quy_proof *pf = NULL;
    quy_status st = quy_prove(rs, NULL, QUY_PROVE_DEAD, 60000, &pf);
    if (st != QUY_OK) fprintf(stderr, "%s\n", quy_errmsg());
    assert_int_equal(st, QUY_OK);
    for (size_t i = 0; i < quy_proof_count(pf); i++) fprintf(stderr, "finding: %s\n", quy_proof_key(pf, i));
    assert_true(quy_proof_proved(pf));
    assert_int_equal(quy_proof_count(pf), 0);
    quy_proof_free(pf);
    /* its witness (a transition of the ruleset to itself) names both fields in full */
    pf = NULL;
    st = quy_prove(rs, rs, QUY_PROVE_EQUIV, 60000, &pf);
    if (st != QUY_OK) fprintf(stderr, "%s\n", quy_errmsg());
    assert_int_equal(st, QUY_OK);
    size_t seen = 0;
    for (size_t i = 0; i < quy_proof_count(pf); i++) {
        if (strcmp(quy_proof_from(pf, i), "htxsnv") || strcmp(quy_proof_to(pf, i), "htxsnv")) continue;
        const char *w = quy_proof_witness(pf, i);
        assert_non_null(w);
        assert_true(witness_int(w, a) > 5);
        assert_true(witness_int(w, b) < 3);
        char *key = malloc(strlen(kname) + 64);
        assert_non_null(key);
        sprintf(key, "%s transition htxsnv->htxsnv", kname);
        assert_string_equal(quy_proof_key(pf, i), key); /* the key names the kind in full */
        free(key);
        seen++;
    }
    assert_int_equal(seen, 1);
    quy_proof_free(pf);
    /* a message naming a field names it in full: b is a bool in the other ruleset */
    quy_ruleset *other = compile_typed(ld, a, b, kname, false);
    pf = NULL;
    assert_int_equal(quy_prove(rs, other, QUY_PROVE_EQUIV, 60000, &pf), QUY_ERROR);
    assert_null(pf);
    char *want = malloc(strlen(kname) + strlen(b) + 128);
    assert_non_null(want);
    sprintf(want, "field %s/%s has type int in one ruleset and bool in the other", kname, b);
    if (!strstr(quy_errmsg(), want)) fail_msg("message: %s", quy_errmsg());
    free(want);
    quy_ruleset_free(other);
    quy_ruleset_free(rs);
    quy_loader_free(ld);
    free(a);
    free(b);
}

static void test_long_field_names(void **state)
{
    (void)state;
    check("member");
}

/* The kind's name is part of every variable's name and of each finding's
 * key: a 600-byte kind name with the long fields. */
static void test_long_kind_name(void **state)
{
    (void)state;
    char kname[601];
    memset(kname, 'k', 600);
    kname[600] = 0;
    check(kname);
}

/* The note naming the hooks whose records are left out names every one, in
 * full: "score" as well as "score_x" (a name inside another), and two names
 * over 256 bytes (the note said nothing of them: a list cut at 256 bytes). */
static void test_hook_names(void **state)
{
    (void)state;
    char *h1 = long_name("_a"), *h2 = long_name("_b");
    char dir[] = "/tmp/test_prove_limits.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128], lua[128];
    snprintf(path, sizeof path, "%s/hooks.quy", dir);
    snprintf(lua, sizeof lua, "%s/h.lua", dir);
    FILE *f = fopen(lua, "w");
    assert_non_null(f);
    fprintf(f, "local function one(x) return x end\nreturn { score_x = one, score = one, %s = one, %s = one }\n", h1, h2);
    fclose(f);
    f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f,
            "ruleset hooks version \"1\"\n"
            "record member \"Đảng viên\" {\n  n : int \"n\"\n}\n"
            "hook score_x(x: int) -> int from \"h.lua\"\n"
            "hook score(x: int) -> int from \"h.lua\"\n"
            "hook %s(x: int) -> int from \"h.lua\"\n"
            "hook %s(x: int) -> int from \"h.lua\"\n"
            "rate member {\n"
            "  a: htxsnv when score_x(n) > 1 and score(n) > 1 and %s(n) > 1 and %s(n) > 1 cite \"fixture\"\n"
            "  otherwise khtnv\n"
            "}\n",
            h1, h2, h1, h2);
    fclose(f);
    quy_loader *ld = NULL;
    assert_int_equal(quy_loader_new(&ld), QUY_OK);
    assert_int_equal(quy_loader_set_defaults(ld, 0), QUY_OK);
    quy_ruleset *rs = NULL;
    quy_diags *d = NULL;
    quy_status st = quy_loader_load(ld, path, &rs, &d);
    if (st != QUY_OK) quy_diags_print(d, stderr, 0);
    assert_int_equal(st, QUY_OK);
    quy_diags_free(d);
    quy_proof *pf = NULL;
    assert_int_equal(quy_prove(rs, NULL, QUY_PROVE_DEAD, 60000, &pf), QUY_OK);
    char *want = malloc(strlen(h1) + strlen(h2) + 64);
    assert_non_null(want);
    sprintf(want, "(score_x, score, %s, %s)", h1, h2);
    size_t hit = 0;
    for (size_t i = 0; i < quy_proof_note_count(pf); i++) hit += strstr(quy_proof_note(pf, i), want) != NULL;
    if (hit != 1)
        for (size_t i = 0; i < quy_proof_note_count(pf); i++) fprintf(stderr, "note: %.300s\n", quy_proof_note(pf, i));
    assert_int_equal(hit, 1);
    free(want);
    quy_proof_free(pf);
    quy_ruleset_free(rs);
    quy_loader_free(ld);
    unlink(lua);
    unlink(path);
    rmdir(dir);
    free(h1);
    free(h2);
}

/* A list of numbers is considered up to PROVE_LIST_BOUND (4) elements: a
 * rule that needs 5 is "dead" within that bound, and the report says so
 * (it did not: the bound was silent). */
static void test_list_bound_said(void **state)
{
    (void)state;
    const char *src = "ruleset lst version \"1\"\n"
                      "record member \"m\" {\n  scores : list of int \"s\"\n}\n"
                      "rate member {\n"
                      "  many: htxsnv when (count scores) >= 5 cite \"fixture\"\n"
                      "  otherwise khtnv\n"
                      "}\n";
    quy_loader *ld = NULL;
    assert_int_equal(quy_loader_new(&ld), QUY_OK);
    assert_int_equal(quy_loader_set_defaults(ld, 0), QUY_OK);
    quy_ruleset *rs = compile_src(ld, "lst.quy", src);
    quy_proof *pf = NULL;
    assert_int_equal(quy_prove(rs, NULL, QUY_PROVE_DEAD, 60000, &pf), QUY_OK);
    assert_int_equal(quy_proof_count(pf), 1);
    assert_string_equal(quy_proof_key(pf, 0), "member dead-rule many");
    size_t hit = 0;
    for (size_t i = 0; i < quy_proof_note_count(pf); i++)
        hit += strcmp(quy_proof_note(pf, i),
                      "member/scores is a list of numbers, strings or dates: lists of at most 4 elements are considered") == 0;
    assert_int_equal(hit, 1);
    quy_proof_free(pf);
    quy_ruleset_free(rs);
    quy_loader_free(ld);
}

/* Each list read by 'longest run' makes the prover run the kind again with
 * it bounded: twelve such lists are twelve runs (a cap of 9 runs made the
 * tenth an error, "the list must be bounded"). */
static void test_many_longest_runs(void **state)
{
    (void)state;
    enum { N = 12 };
    char *src = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&src, &len);
    assert_non_null(f);
    fprintf(f, "ruleset runs version \"1\"\nscale grade { kem \"K\" < tot \"T\" }\nrecord member \"m\" {\n");
    for (int i = 0; i < N; i++) fprintf(f, "  q%d : list of grade \"q\"\n", i);
    fprintf(f, "}\nrate member {\n  a: khtnv when ");
    for (int i = 0; i < N; i++) fprintf(f, "%s(longest run of q%d = kem) >= 2", i ? " and " : "", i);
    fprintf(f, " cite \"fixture\"\n  otherwise htnv\n}\n");
    fclose(f);
    quy_loader *ld = NULL;
    assert_int_equal(quy_loader_new(&ld), QUY_OK);
    assert_int_equal(quy_loader_set_defaults(ld, 0), QUY_OK);
    quy_ruleset *rs = compile_src(ld, "runs.quy", src);
    quy_proof *pf = NULL;
    quy_status st = quy_prove(rs, NULL, QUY_PROVE_DEAD, 60000, &pf);
    if (st != QUY_OK) fprintf(stderr, "%s\n", quy_errmsg());
    assert_int_equal(st, QUY_OK);
    assert_true(quy_proof_proved(pf));
    size_t bounded = 0;
    for (size_t i = 0; i < quy_proof_note_count(pf); i++) bounded += strstr(quy_proof_note(pf, i), "is read by 'longest run'") != NULL;
    assert_int_equal(bounded, N);
    quy_proof_free(pf);
    quy_ruleset_free(rs);
    quy_loader_free(ld);
    free(src);
}

/* A witness's decimals are found on the record format's own grid: a rule
 * that holds only for x in [1/3 x 10^-9, 11/30 x 10^-9) is reached by
 * x = 0.00000000035 (11 fraction digits). With the grid cut at 10^-8 the
 * loosening was not found and the refinement was "proved". */
static void test_fine_decimals(void **state)
{
    (void)state;
    const char *variant = "ruleset fine version \"1\"\n"
                          "record member \"m\" {\n  x : decimal \"x\"\n}\n"
                          "rate member {\n"
                          "  a: htxsnv when x * 3 >= 0.000000001 and x * 3 < 0.0000000011 cite \"fixture\"\n"
                          "  otherwise khtnv\n"
                          "}\n";
    const char *parent = "ruleset coarse version \"1\"\n"
                         "record member \"m\" {\n  x : decimal \"x\"\n}\n"
                         "rate member {\n  otherwise khtnv\n}\n";
    quy_loader *ld = NULL;
    assert_int_equal(quy_loader_new(&ld), QUY_OK);
    assert_int_equal(quy_loader_set_defaults(ld, 0), QUY_OK);
    quy_ruleset *v = compile_src(ld, "fine.quy", variant), *p = compile_src(ld, "coarse.quy", parent);
    quy_proof *pf = NULL;
    quy_status st = quy_prove(v, p, QUY_PROVE_REFINES, 60000, &pf);
    if (st != QUY_OK) fprintf(stderr, "%s\n", quy_errmsg());
    assert_int_equal(st, QUY_OK);
    assert_false(quy_proof_proved(pf));
    assert_int_equal(quy_proof_count(pf), 1);
    assert_string_equal(quy_proof_key(pf, 0), "member looser khtnv->htxsnv");
    const char *w = quy_proof_witness(pf, 0);
    assert_non_null(w);
    const char *x = strstr(w, "\"x\":");
    assert_non_null(x);
    double xv = strtod(x + 4, NULL);
    assert_true(xv * 3 >= 0.999e-9 && xv * 3 < 1.1e-9);
    quy_proof_free(pf);
    quy_ruleset_free(p);
    quy_ruleset_free(v);
    quy_loader_free(ld);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_long_field_names),
        cmocka_unit_test(test_long_kind_name),
        cmocka_unit_test(test_hook_names),
        cmocka_unit_test(test_list_bound_said),
        cmocka_unit_test(test_many_longest_runs),
        cmocka_unit_test(test_fine_decimals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
