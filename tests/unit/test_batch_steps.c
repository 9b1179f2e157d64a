/*
 * test_batch_steps.c — the batch engine's steps as data (runtime/batch.h:
 * batch_step_get, batch_group_get) and their renderers
 * (runtime/batch_render.h): a cap and a quota over a small batch.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "batch.h"
#include "batch_render.h"
#include "quy_fixture.h"

#define SRC                                                         \
    "ruleset bt version \"1\"\n"                                  \
    "record member {\n"                                           \
    "  g : int\n"                                                 \
    "  months : int\n"                                            \
    "  peer_group : optional string\n"                            \
    "}\n"                                                         \
    "rate member {\n"                                             \
    "  xs: htxsnv when g >= 9 cite \"x\"\n"                       \
    "  tot: httnv when g >= 5 cite \"t\"\n"                       \
    "  otherwise htnv cite \"o\"\n"                               \
    "}\n"                                                         \
    "quota htxsnv <= 20% of httnv per peer_group round down cite \"q\"\n" \
    "cap member at httnv when months < 12 cite \"c\"\n"

static void test_steps(void **state)
{
    qfx *fx = *state;
    q_program *p = qfx_ok(fx, SRC);
    /* group A: three eligible for htxsnv (one capped by months), five httnv */
    static const char recs[] =
        "{\"id\":\"x1\",\"kind\":\"member\",\"g\":9,\"months\":24,\"peer_group\":\"A\"}\n"
        "{\"id\":\"x2\",\"kind\":\"member\",\"g\":10,\"months\":24,\"peer_group\":\"A\"}\n"
        "{\"id\":\"c1\",\"kind\":\"member\",\"g\":9,\"months\":3,\"peer_group\":\"A\"}\n"
        "{\"id\":\"t1\",\"kind\":\"member\",\"g\":5,\"months\":24,\"peer_group\":\"A\"}\n"
        "{\"id\":\"t2\",\"kind\":\"member\",\"g\":5,\"months\":24,\"peer_group\":\"A\"}\n"
        "{\"id\":\"t3\",\"kind\":\"member\",\"g\":5,\"months\":24,\"peer_group\":\"A\"}\n"
        "{\"id\":\"t4\",\"kind\":\"member\",\"g\":5,\"months\":24,\"peer_group\":\"A\"}\n"
        "{\"id\":\"t5\",\"kind\":\"member\",\"g\":6,\"months\":24,\"peer_group\":\"A\"}\n";
    FILE *in = fmemopen((void *)recs, sizeof recs - 1, "r");
    batch *b = batch_new(p, false);
    rec_error err;
    assert_int_equal(batch_read(b, in, "in.jsonl", &err), 0);
    fclose(in);
    assert_int_equal(batch_run(b), 0);
    assert_false(batch_failed(b));
    /* c1: capped htxsnv -> httnv, one step, with its citation */
    size_t c1 = batch_find(b, "c1");
    assert_int_equal(batch_nsteps(b, c1), 1);
    batch_step s;
    batch_step_get(b, c1, 0, &s);
    assert_int_equal(s.type, BATCH_STEP_CAP);
    assert_int_equal(s.from, QO_HTXSNV);
    assert_int_equal(s.to, QO_HTTNV);
    assert_null(s.ref);
    assert_string_equal(batch_step_cite(b, &s), "c");
    assert_string_equal(batch_step_code(&s), "cap");
    /* x1, x2: quota candidates; 20% of (6 httnv + demoted) rounded down keeps 1 */
    size_t kept = 0, demoted = 0;
    const char *ids[2] = {"x1", "x2"};
    for (int k = 0; k < 2; k++) {
        size_t i = batch_find(b, ids[k]);
        assert_int_equal(batch_nsteps(b, i), 1);
        batch_step_get(b, i, 0, &s);
        assert_int_equal(s.type, BATCH_STEP_QUOTA);
        assert_string_equal(s.group, "A");
        assert_int_equal(s.run->n_tier, 2);
        assert_true(s.rank == 1 || s.rank == 2);
        batch_view v;
        batch_get(b, i, &v);
        assert_int_equal(v.res.outcome, s.demoted ? QO_HTTNV : QO_HTXSNV);
        kept += !s.demoted;
        demoted += s.demoted;
        /* the flags: a demotion raises one, keeping does not */
        const char *code[4], *cite[4];
        char *msg[4];
        size_t nf = batch_flags(b, i, code, msg, cite, 4);
        assert_int_equal(nf, s.demoted ? 1 : 0);
        for (size_t f = 0; f < nf; f++) {
            assert_string_equal(code[f], "quota_demoted");
            assert_non_null(strstr(msg[f], "Giảm do hạn mức: nhóm 'A'"));
            free(msg[f]);
        }
    }
    assert_int_equal(kept, 1);
    assert_int_equal(demoted, 1);
    /* the group's view agrees */
    assert_int_equal(batch_ngroups(b), 1);
    batch_group_view G;
    batch_group_get(b, 0, &G);
    assert_string_equal(G.key, "A");
    assert_int_equal(G.n, 8);
    assert_int_equal(G.count_final[QO_HTXSNV], 1);
    assert_int_equal(G.runs[0].kept, 1);
    /* the renderers read the same steps */
    char *text = batch_explain_text(b, c1, 2);
    assert_non_null(strstr(text, "  ⇒ Giảm do giới hạn"));
    assert_non_null(strstr(text, "HTXSNV → HTTNV — c ["));
    free(text);
    strbuf j = {0};
    batch_render_steps_json(b, c1, &j);
    assert_non_null(strstr(j.s, "[{\"step\":\"cap\",\"message\":\"Giảm do giới hạn"));
    strbuf_free(&j);
    /* a plain httnv record took no step */
    assert_int_equal(batch_nsteps(b, batch_find(b, "t1")), 0);
    batch_free(b);
}

/* Two peer groups whose names share their first 300 bytes are two groups
 * (the key was cut at 256 bytes: they were one group, and one quota
 * demoted a record of the other). */
static void test_long_group_keys(void **state)
{
    qfx *fx = *state;
    q_program *p = qfx_ok(fx, SRC);
    char prefix[301];
    memset(prefix, 'g', 300);
    prefix[300] = 0;
    strbuf recs = {0};
    /* each group: one htxsnv candidate and five httnv: 20% of 6 keeps 1 */
    for (int g = 0; g < 2; g++) {
        strbuf_printf(&recs, "{\"id\":\"x%d\",\"kind\":\"member\",\"g\":9,\"months\":24,\"peer_group\":\"%s%d\"}\n", g,
                      prefix, g);
        for (int i = 0; i < 5; i++)
            strbuf_printf(&recs, "{\"id\":\"t%d-%d\",\"kind\":\"member\",\"g\":5,\"months\":24,\"peer_group\":\"%s%d\"}\n",
                          g, i, prefix, g);
    }
    FILE *in = fmemopen(recs.s, recs.n, "r");
    batch *b = batch_new(p, false);
    rec_error err;
    assert_int_equal(batch_read(b, in, "in.jsonl", &err), 0);
    fclose(in);
    assert_int_equal(batch_run(b), 0);
    assert_int_equal(batch_ngroups(b), 2);
    for (int g = 0; g < 2; g++) {
        char id[8];
        snprintf(id, sizeof id, "x%d", g);
        batch_view v;
        batch_get(b, batch_find(b, id), &v);
        assert_int_equal(v.res.outcome, QO_HTXSNV);
        batch_group_view G;
        batch_group_get(b, (size_t)g, &G);
        assert_int_equal(strlen(G.key), 301);
        assert_int_equal(G.n, 6);
    }
    batch_free(b);
    strbuf_free(&recs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_steps, qfx_setup, qfx_teardown),
        cmocka_unit_test_setup_teardown(test_long_group_keys, qfx_setup, qfx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
