/*
 * test_explain.c — the explanation model (runtime/explain.h) and the
 * string builder it renders into (runtime/strbuf.h): the model's shape,
 * the text and JSON renderers reading it, no limit on rules, and JSON
 * strings escaped exactly as jansson's dump escapes them.
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

#include "explain.h"
#include "quy_fixture.h"
#include "strbuf.h"
#include "vec.h"

#define SRC                                                                          \
    "ruleset ex version \"1\"\n"                                                   \
    "record member {\n"                                                            \
    "  a : int\n"                                                                  \
    "  b : int\n"                                                                  \
    "  fixed : bool\n"                                                             \
    "}\n"                                                                          \
    "rate member {\n"                                                              \
    "  kl: khtnv when a = 0 unless fixed cite \"t\"\n"                             \
    "  xs: htxsnv when share(a, b) >= 50% and a > 3 cite \"x\"\n"                  \
    "  otherwise htnv flag gap cite \"o\"\n"                                       \
    "  gap g \"half\" when a < b cite \"f\"\n"                                     \
    "}\n"

static void test_model(void **state)
{
    qfx *fx = *state;
    q_program *p = qfx_ok(fx, SRC);
    const q_record *rec = qfx_rec(fx, "{'id':'r','kind':'member','a':0,'b':8,'fixed':true}");
    explanation *x = explain_new();
    vm_result res;
    assert_int_equal(explain_rate(x, p, NULL, rec, &res), VM_OK);
    assert_int_equal(res.outcome, QO_HTNV);
    /* three rules tried, in order; the last decided */
    assert_int_equal(x->nrules, 3);
    assert_false(x->rules[0].held);
    assert_false(x->rules[1].held);
    assert_true(x->rules[2].held);
    assert_int_equal(x->decided_by, x->rules[2].rule);
    /* kl: one clause, failed because its exception held */
    const ex_clause *c = &x->clauses[x->rules[0].clause0];
    assert_int_equal(x->rules[0].nclauses, 1);
    assert_int_equal(c->result, 0);
    assert_int_equal(c->exc, 1);
    /* xs: the share's read is a value of its first clause */
    const ex_clause *s = &x->clauses[x->rules[1].clause0];
    bool share = false;
    for (uint32_t i = 0; i < s->nreads; i++) {
        const ex_read *r = &x->reads[s->read0 + i];
        if (r->type != EV_SHARE) continue;
        strbuf b = {0};
        explain_share(r, &b);
        assert_string_equal(b.s, "0/8 = 0%");
        strbuf_free(&b);
        share = true;
    }
    assert_true(share);
    /* the flag, after the deciding rule, with the values it read */
    assert_true(x->nflags >= 1);
    assert_true(x->flags[0].nreads >= 2); /* g read a and b */
    assert_int_equal(x->steps[x->nsteps - 1].type, EX_FLAG);
    /* both renderers read the model */
    strbuf t = {0}, j = {0};
    explain_render_text(x, &t, 0);
    assert_non_null(strstr(t.s, "tỉ lệ 0/8 = 0%"));
    assert_non_null(strstr(t.s, "→ Hoàn thành nhiệm vụ"));
    explain_render_json(x, &j, "\"extra\":1");
    json_error_t je;
    json_t *o = json_loads(j.s, 0, &je);
    assert_non_null(o);
    assert_int_equal(json_array_size(json_object_get(o, "rules")), 3);
    assert_int_equal(json_integer_value(json_object_get(o, "extra")), 1);
    json_t *read = json_object_get(json_array_get(json_object_get(json_array_get(json_object_get(o, "rules"), 1),
                                                                  "clauses"), 0), "read");
    assert_string_equal(json_string_value(json_array_get(json_object_get(read, "share()"), 0)), "0%");
    json_decref(o);
    strbuf_free(&t);
    strbuf_free(&j);
    explain_free(x);
}

/* 300 disqualifiers that do not fire: the text lists all 300 (the old
 * decoder stopped at 256 without a word). */
static void test_many_rules(void **state)
{
    qfx *fx = *state;
    strbuf src = {0};
    strbuf_puts(&src, "ruleset many version \"1\"\nrecord member { a : int }\nrate member {\n");
    for (int i = 0; i < 300; i++) strbuf_printf(&src, "  r%d: khtnv when a = %d cite \"t\"\n", i, 1000 + i);
    strbuf_puts(&src, "  otherwise htnv cite \"o\"\n}\n");
    q_program *p = qfx_ok(fx, src.s);
    strbuf_free(&src);
    explanation x = {0};
    assert_int_equal(explain_rate(&x, p, NULL, qfx_rec(fx, "{'id':'r','kind':'member','a':1}"), NULL), VM_OK);
    assert_int_equal(x.nrules, 301);
    strbuf t = {0};
    explain_render_text(&x, &t, 0);
    assert_non_null(strstr(t.s, "trong 300 trường hợp"));
    assert_non_null(strstr(t.s, "· r299 —"));
    strbuf_free(&t);
    explain_clear(&x);
}

/* No value and no name is cut: a list of 3,000 grades, a 3,000-letter
 * string and two fields whose names share their first 250 bytes are shown
 * whole in both renderers (values were cut at 1,024 bytes, mid-letter,
 * and JSON keys at 200: the two fields became one member). */
static void test_long_values(void **state)
{
    qfx *fx = *state;
    enum { N = 3000, LONGNAME = 250 };
    char name[LONGNAME + 1];
    memset(name, 'a', LONGNAME);
    name[LONGNAME] = 0;
    strbuf src = {0}, rec = {0};
    strbuf_printf(&src,
                  "ruleset longv version \"1\"\nscale grade { kem < tot }\n"
                  "record member {\n  grades : list of grade\n  ten : string\n  %s1 : int\n  %s2 : int\n}\n"
                  "rate member {\n  xs: htxsnv when all grades >= tot and ten != \"x\" and %s1 < %s2 cite \"t\"\n"
                  "  otherwise htnv cite \"o\"\n}\n",
                  name, name, name, name);
    q_program *p = qfx_ok(fx, src.s);
    strbuf_printf(&rec, "{'id':'r','kind':'member','%s1':1,'%s2':2,'grades':[", name, name);
    for (int i = 0; i < N; i++) strbuf_puts(&rec, i ? ",'tot'" : "'tot'");
    strbuf_puts(&rec, "],'ten':'");
    for (int i = 0; i < N; i++) strbuf_puts(&rec, "ố");
    strbuf_puts(&rec, "'}");
    explanation x = {0};
    vm_result res;
    assert_int_equal(explain_rate(&x, p, NULL, qfx_rec(fx, rec.s), &res), VM_OK);
    assert_int_equal(res.outcome, QO_HTXSNV);
    strbuf j = {0}, t = {0};
    explain_render_json(&x, &j, NULL);
    explain_render_text(&x, &t, 0);
    assert_false(j.failed || t.failed);
    json_error_t err;
    json_t *o = json_loads(j.s, 0, &err);
    assert_non_null(o);
    json_t *read = json_object(), *clauses = json_object_get(json_array_get(json_object_get(o, "rules"), 0), "clauses");
    for (size_t i = 0; i < json_array_size(clauses); i++)
        json_object_update(read, json_object_get(json_array_get(clauses, i), "read"));
    assert_int_equal(json_object_size(read), 4); /* grades, ten and the two long names */
    const char *g = json_string_value(json_object_get(read, "grades"));
    assert_non_null(g);
    assert_int_equal(strlen(g), 2 + N * 3 + (N - 1) * 2); /* "[tot, …, tot]" */
    assert_int_equal(g[strlen(g) - 1], ']');
    const char *ten = json_string_value(json_object_get(read, "ten"));
    assert_non_null(ten);
    assert_int_equal(strlen(ten), 2 + N * strlen("ố"));
    strbuf k = {0};
    strbuf_printf(&k, "%s2", name);
    assert_string_equal(json_string_value(json_object_get(read, k.s)), "2");
    assert_non_null(strstr(t.s, "tot, tot]"));
    json_decref(o);
    json_decref(read);
    strbuf_free(&k);
    strbuf_free(&j);
    strbuf_free(&t);
    strbuf_free(&src);
    strbuf_free(&rec);
    explain_clear(&x);
}

/* strbuf_json writes what jansson's compact dump writes. */
static void test_json_escape(void **state)
{
    (void)state;
    const char *cases[] = {"", "plain", "quote\" back\\slash", "ctl \x01\x1f\b\f\n\r\t", "sl/ash", "đ ư ơ “x” 😀",
                           "\x7f"};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        json_t *js = json_string(cases[i]);
        char *want = json_dumps(js, JSON_COMPACT | JSON_ENCODE_ANY);
        strbuf b = {0};
        strbuf_json(&b, cases[i]);
        assert_string_equal(b.s, want);
        free(want);
        json_decref(js);
        strbuf_free(&b);
    }
    /* invalid UTF-8: each bad byte becomes U+FFFD */
    strbuf b = {0};
    strbuf_json(&b, "a\xff\xc0\x80z");
    assert_string_equal(b.s, "\"a\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBDz\"");
    strbuf_free(&b);
}

static void test_strbuf_and_vec(void **state)
{
    (void)state;
    strbuf b = {0};
    for (int i = 0; i < 1000; i++) strbuf_printf(&b, "%d,", i);
    assert_int_equal(b.n, strlen(b.s));
    strbuf_pad(&b, 3);
    assert_int_equal(b.s[b.n - 1], ' ');
    strbuf_reset(&b);
    assert_int_equal(b.n, 0);
    char *s = strbuf_take(&b);
    assert_string_equal(s, "");
    free(s);
    int *v = NULL;
    size_t n = 0, cap = 0;
    for (int i = 0; i < 10000; i++) {
        assert_int_equal(VEC_RESERVE(v, n, cap, 1), 0);
        v[n++] = i;
    }
    assert_int_equal(v[9999], 9999);
    assert_int_equal(VEC_RESERVE(v, n, cap, SIZE_MAX / 2), -1); /* too large: an error, v kept */
    assert_int_equal(v[0], 0);
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_model, qfx_setup, qfx_teardown),
        cmocka_unit_test_setup_teardown(test_many_rules, qfx_setup, qfx_teardown),
        cmocka_unit_test_setup_teardown(test_long_values, qfx_setup, qfx_teardown),
        cmocka_unit_test(test_json_escape),
        cmocka_unit_test(test_strbuf_and_vec),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
