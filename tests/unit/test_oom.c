/*
 * test_oom.c — out of memory in the compiler and the prover is an error
 * returned to the caller, never abort() (issue 14, item 6).
 *
 * This binary is linked with -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc
 * (tests/CMakeLists.txt): every allocation the compiler's and the prover's
 * own code makes goes through the wrappers below, which fail the Nth one.
 * For N = 1, 2, ... until a run meets no failure, the run must end: with
 * the program (a failure the code could do without: no suggestion), or
 * with NULL and a diagnostic saying "out of memory"; the prover with
 * PROVE_ERROR saying it. A crash or an abort() fails the test.
 *
 * What a failed run held when it jumped out (ast_bail) may leak: the
 * checker's and the prover's scratch vectors, bison's stack. Under
 * AddressSanitizer the leaks allocated below the injection loops are
 * suppressed (__lsan_default_suppressions); every other test checks the
 * paths that do not fail for leaks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../compiler/compiler.h"
#include "../../prove/prove.h"
#include "oom_fixture.h"

const char *__lsan_default_suppressions(void);
__attribute__((visibility("default"))) const char *__lsan_default_suppressions(void)
{
    return "leak:compile_every_failure\nleak:test_compile_central\nleak:test_compile_with_errors\nleak:test_prove\n";
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    char *s = __real_malloc((size_t)n + 1);
    assert_non_null(s);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    s[n] = 0;
    *len = (size_t)n;
    return s;
}

static bool said_oom(compiler *c)
{
    const diag_list *d = compiler_diags(c);
    if (d->oom) return true;
    for (size_t i = 0; i < d->n; i++)
        if (strstr(d->items[i].msg, "out of memory")) return true;
    return false;
}

/* Compile `src` with the Nth allocation failing, for every N until none
 * fails; returns how many runs were made. `ok`: the source compiles. */
static unsigned long compile_every_failure(const char *path, const char *src, size_t len, bool ok)
{
    const char *search[] = {QUY_SOURCE_DIR "/rulesets"};
    unsigned long n;
    for (n = 1;; n++) {
        arm(n);
        compiler *c = compiler_new(search, 1);
        q_program *p = c ? compiler_compile_source(c, path, src, len) : NULL;
        int hit = failed;
        arm(0);
        if (c && !p && ok && !said_oom(c)) fail_msg("allocation %lu failed: no program and no 'out of memory'", n);
        if (c && !p && !ok && hit && !said_oom(c) && compiler_diags(c)->nerrors == 0)
            fail_msg("allocation %lu failed: no program and no error", n);
        if (!hit) {
            if (ok) assert_non_null(p);
            prog_free(p);
            compiler_free(c);
            return n;
        }
        prog_free(p);
        compiler_free(c);
    }
}

static void test_compile_central(void **state)
{
    (void)state;
    size_t len;
    char *src = slurp(QUY_SOURCE_DIR "/rulesets/central-124/central-124.quy", &len);
    unsigned long runs = compile_every_failure(QUY_SOURCE_DIR "/rulesets/central-124/central-124.quy", src, len, true);
    assert_true(runs > 100); /* the failures reached deep into the checker and the builder */
    free(src);
}

static void test_compile_with_errors(void **state)
{
    (void)state;
    /* diagnostics with "did you mean" (its scratch rows), and a parse error */
    const char *src = "ruleset t version \"1\"\n"
                      "record member {\n  tasks_total : int\n  tasks_completed : int\n}\n"
                      "rate member {\n"
                      "  a: htxsnv when tasks_compelted = tasks_total cite \"x\"\n"
                      "  b: httnv when tasks_total > ) cite \"y\"\n"
                      "  otherwise khtnv\n}\n";
    compile_every_failure("t.quy", src, strlen(src), false);
}

static void test_prove(void **state)
{
    (void)state;
    size_t len;
    char *src = slurp(QUY_SOURCE_DIR "/tests/golden/check/ok_minimal.quy", &len);
    const char *search[] = {QUY_SOURCE_DIR "/rulesets"};
    compiler *c = compiler_new(search, 1);
    q_program *p = compiler_compile_source(c, "ok_minimal.quy", src, len);
    assert_non_null(p);
    prove_opts o = {.timeout_ms = 10000};
    for (unsigned long n = 1;; n++) {
        prove_report r;
        arm(n);
        prove_status st = prove_run(PQ_GAPS, p, NULL, &o, &r);
        int hit = failed;
        arm(0);
        if (hit && st != PROVE_ERROR && st != PROVE_PROVED && st != PROVE_FOUND)
            fail_msg("allocation %lu failed: status %d: %s", n, (int)st, r.error ? r.error : "");
        if (st == PROVE_ERROR && hit && r.error && !strstr(r.error, "out of memory"))
            fail_msg("allocation %lu failed: error '%s'", n, r.error);
        prove_report_free(&r);
        if (!hit) {
            assert_int_equal(st, PROVE_FOUND);
            break;
        }
    }
    prog_free(p);
    compiler_free(c);
    free(src);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compile_central),
        cmocka_unit_test(test_compile_with_errors),
        cmocka_unit_test(test_prove),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
