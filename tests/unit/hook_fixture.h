/*
 * hook_fixture.h — helpers for the hook tests (test_hook.c,
 * test_hook_sandbox.c) over quy_fixture.h: a Lua file beside the ruleset,
 * a ruleset whose one rule calls hook `f(n)` from t.lua, and the check that
 * a hook failure fails its record only.
 */
#ifndef QUY_HOOK_FIXTURE_H
#define QUY_HOOK_FIXTURE_H

#include "quy_fixture.h"

#include "hook.h"

/* Write a Lua file beside the ruleset (removed by the teardown). */
static inline void lua_file(qfx *fx, const char *name, const char *src) { qfx_write(fx, name, src); }

/* A member record with a count, a grade list and an optional percent. */
#define HDR                                                                  \
    "ruleset main version \"1\"\n"                                          \
    "scale grade { kem < tot < xuat_sac }\n"                                \
    "enum place { home \"Nhà\", away \"Xa\" }\n"                            \
    "struct case { year : int  spot : place  ok : bool }\n"                \
    "record member {\n"                                                     \
    "  period : string\n"                                                   \
    "  n      : int \"Số\"\n"                                               \
    "  g      : grade\n"                                                    \
    "  pct    : optional percent\n"                                         \
    "  day    : optional date\n"                                            \
    "  cases  : optional list of case\n"                                    \
    "}\n"                                                                   \
    "record other { n : int }\n"                                            \
    "rate other { big: httnv when n > 5 cite \"t\"\n otherwise htnv }\n"

#define REC(extra) "{'id':'r','kind':'member','period':'2024','n':3,'g':'tot'" extra "}"

/* A ruleset whose rule `hi` holds when hook `f(n)` does; `f` is in t.lua. */
static inline q_program *one_hook(qfx *fx, const char *lua)
{
    lua_file(fx, "t.lua", lua);
    return qfx_ok(fx, HDR "hook f(n: int) -> bool from \"t.lua\"\n"
                          "rate member { hi: htxsnv when f(n) cite \"t\"\n otherwise htnv }\n");
}

/* Rate REC() and expect a hook failure whose message holds `needle`; then
 * the next record must be rated normally. */
static inline void expect_failure(qfx *fx, const char *needle)
{
    vm_result r;
    assert_int_equal(qfx_rate(fx, REC(""), &r), VM_HOOK);
    assert_int_equal(r.error, VM_HOOK);
    assert_non_null(r.error_text);
    if (!strstr(r.error_text, needle)) print_error("error text: %s\n(wanted \"%s\")\n", r.error_text, needle);
    assert_non_null(strstr(r.error_text, needle));
    assert_non_null(strstr(r.error_text, "hook 'f' (t.lua)"));
    /* the trace mode fails the same way */
    assert_int_equal(qfx_rate_trace(fx, REC(""), &r), VM_HOOK);
    /* the batch goes on: a record of a kind without hooks, then this kind */
    assert_int_equal(qfx_tier(fx, "{'id':'o','kind':'other','n':9}"), QO_HTTNV);
}

#endif /* QUY_HOOK_FIXTURE_H */
