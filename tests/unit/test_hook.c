/*
 * test_hook.c — Lua hooks: declaring and calling them (checker), the
 * sandbox and its limits (runtime/hook.c), adjust steps (VM), the hook
 * tables in the bytecode and the verifier.
 *
 * Every sandbox escape and every limit is its own test: a hook that calls
 * os.execute, loops forever, allocates without bound, returns the wrong
 * type, raises an error, loads bytecode, touches the string metatable or a
 * library, defines a finalizer, uses a pattern. Each must fail the record
 * that called it, with a message naming the hook, and leave the program
 * able to rate the next record.
 */
#include "hook_fixture.h"

#include <pthread.h>
#include <sys/stat.h>

#include "explain.h"

/* ---------------------------------------------------------------------
 * Calls in conditions and lets
 * ------------------------------------------------------------------- */

static void test_call_in_condition_and_let(void **state)
{
    qfx *fx = *state;
    lua_file(fx, "t.lua",
             "local M = {}\n"
             "function M.double(x) return x * 2 end\n"
             "function M.good(g, xs, p) return g >= grade.tot and (p == nil or p > quy.ratio(1, 2)) end\n"
             "return M\n");
    qfx_ok(fx, HDR "hook double(x: int) -> int from \"t.lua\"\n"
                                  "hook good(g: grade, cs: list of case, p: percent) -> bool from \"t.lua\"\n"
                                  "rate member {\n"
                                  "  let d \"Gấp đôi\" = double(n + 1)\n"
                                  "  hi: htxsnv when d >= 10 and good(g, cases, pct) cite \"t\"\n"
                                  "  mid: httnv when d >= 6 cite \"t\"\n"
                                  "  otherwise htnv\n}\n");
    assert_int_equal(hook_session_stats(fx->hs).states, 0); /* nothing created at load */
    vm_result r;
    assert_int_equal(qfx_tier_res(fx, REC(",'n':4"), &r), QO_HTXSNV);
    assert_int_equal(qfx_tier(fx, REC(",'n':4,'pct':50")), QO_HTTNV);   /* 50% is not > 1/2 */
    assert_int_equal(qfx_tier(fx, REC(",'n':4,'pct':50.5")), QO_HTXSNV);
    assert_int_equal(qfx_tier(fx, REC(",'n':4,'g':'kem'")), QO_HTTNV);
    assert_int_equal(qfx_tier(fx, REC(",'n':2")), QO_HTTNV);
    assert_int_equal(qfx_tier(fx, REC(",'n':1")), QO_HTNV);
    /* the trace holds each hook call with its result */
    qfx_rate_trace(fx, REC(",'n':4"), &r);
    uint32_t hooks = 0;
    for (uint32_t i = 0; i < fx->trace.n; i++)
        if (fx->trace.ev[i].type == EV_HOOK) {
            hooks++;
            if (fx->trace.ev[i].idx == 0) assert_int_equal(fx->trace.ev[i].val.n, 10);
        }
    assert_true(hooks >= 2);
    hook_stats st = hook_session_stats(fx->hs);
    assert_int_equal(st.states, 1); /* one state, reused by every record */
    assert_true(st.calls >= 12);
    assert_int_equal(st.errors, 0);
    assert_true(st.memory > 0 && st.memory < QUY_HOOK_MEMORY);
}

/* ---------------------------------------------------------------------
 * Sessions: the program is never changed; each thread has its own session
 * ------------------------------------------------------------------- */

typedef struct rate_job {
    const q_program *p;
    q_record *const *recs; /* decoded once, read-only here */
    size_t n;
    uint8_t out[64];
    const char *note; /* the first record's reason, kept by this job's session */
    bool ok;
} rate_job;

static void *rate_thread(void *arg)
{
    rate_job *j = arg;
    hook_session *hs = hook_session_new(j->p, &(hook_limits){.instructions = 100000});
    j->ok = hs != NULL;
    for (int rep = 0; rep < 50 && j->ok; rep++)
        for (size_t i = 0; i < j->n; i++) {
            vm_result r;
            j->ok &= vm_rate(j->p, hs, j->recs[i], &r, NULL) == VM_OK;
            j->out[i] = r.outcome;
            if (i == 0) j->note = r.nnotes ? r.notes[0].text : NULL;
        }
    j->ok &= hook_session_stats(hs).states == 1 && hook_session_stats(hs).calls == 50 * 2 * j->n;
    j->ok &= j->note && strcmp(j->note, "gấp đôi (n: 6 → 12)") == 0;
    hook_session_free(hs);
    return NULL;
}

static void test_sessions(void **state)
{
    qfx *fx = *state;
    lua_file(fx, "a.lua",
             "local M = {}\n"
             "function M.patch(n, pct) if n < 10 then return {reason = 'gấp đôi', fields = {n = n * 2}} end end\n"
             "function M.big(n) return n >= 12 end\n"
             "return M\n");
    q_program *p = qfx_ok(fx, HDR "hook patch(n: int, pct: percent) -> adjustment from \"a.lua\"\n"
                                  "hook big(n: int) -> bool from \"a.lua\"\n"
                                  "rate member { hi: htxsnv when big(n) cite \"t\"\n otherwise htnv }\n"
                                  "adjust member record by patch(n, pct) \"x\" cite \"t\"\n");
    /* records decoded once (each by its own reader, as a batch keeps them) */
    static const char *const json[] = {REC(",'n':6"), REC(",'n':3"), REC(",'n':12"), REC(",'n':9")};
    enum { N = sizeof json / sizeof *json };
    rec_reader *rd[N];
    q_record *recs[N];
    for (size_t i = 0; i < N; i++) {
        rd[i] = rec_reader_open(p, NULL, "t", REC_JSON);
        char buf[256];
        snprintf(buf, sizeof buf, "%s", json[i]);
        for (char *c = buf; *c; c++)
            if (*c == '\'') *c = '"';
        json_t *o = json_loads(buf, 0, NULL);
        rec_error err;
        assert_int_equal(rec_decode_json(rd[i], o, 1, &recs[i], &err), 1);
        json_decref(o);
    }
    /* one thread first: the expected outcomes */
    rate_job one = {.p = p, .recs = recs, .n = N};
    rate_thread(&one);
    assert_true(one.ok);
    static const uint8_t want[N] = {QO_HTXSNV, QO_HTNV, QO_HTXSNV, QO_HTXSNV};
    assert_memory_equal(one.out, want, N);
    /* the compiled program is the same bytes after rating */
    uint8_t *before, *after;
    size_t nb, na;
    assert_true(bc_write(p, &before, &nb));
    /* four threads, one program, a session each */
    rate_job jobs[4];
    pthread_t th[4];
    for (int t = 0; t < 4; t++) {
        jobs[t] = (rate_job){.p = p, .recs = recs, .n = N};
        assert_int_equal(pthread_create(&th[t], NULL, rate_thread, &jobs[t]), 0);
    }
    for (int t = 0; t < 4; t++) {
        assert_int_equal(pthread_join(th[t], NULL), 0);
        assert_true(jobs[t].ok);
        assert_memory_equal(jobs[t].out, want, N);
    }
    assert_true(bc_write(p, &after, &na));
    assert_int_equal(nb, na);
    assert_memory_equal(before, after, nb);
    free(before);
    free(after);
    for (size_t i = 0; i < N; i++) rec_reader_free(rd[i]);
    /* strings kept by a session are counted, and released on request */
    hook_session *hs = hook_session_new(p, NULL);
    vm_result r;
    recs[0] = qfx_rec(fx, json[0]);
    assert_int_equal(vm_rate(p, hs, recs[0], &r, NULL), VM_OK);
    assert_true(hook_session_stats(hs).strings > 0);
    hook_session_release_strings(hs);
    assert_int_equal(hook_session_stats(hs).strings, 0);
    assert_int_equal(vm_rate(p, hs, recs[0], &r, NULL), VM_OK);
    assert_string_equal(r.notes[0].text, "gấp đôi (n: 6 → 12)");
    assert_int_equal(hook_session_limits(hs).instructions, QUY_HOOK_INSTRUCTIONS);
    assert_ptr_equal(hook_session_program(hs), p);
    hook_session_free(hs);
}

/* An adjustment that sets a long string: its note shows the old and the new
 * value whole (string values were cut at 200 bytes and the changes at 1,200). */
static void test_adjust_note_whole(void **state)
{
    qfx *fx = *state;
    enum { LONG = 700 };
    lua_file(fx, "a.lua",
             "local M = {}\n"
             "function M.patch(n) return {reason = 'dài', fields = {period = string.rep('ố', 700), n = n + 1}} end\n"
             "return M\n");
    q_program *p = qfx_ok(fx, HDR "hook patch(n: int) -> adjustment from \"a.lua\"\n"
                                  "rate member { otherwise htnv }\n"
                                  "adjust member record by patch(n) \"x\" cite \"t\"\n");
    vm_result r;
    assert_int_equal(vm_rate(p, fx->hs, qfx_rec(fx, REC("")), &r, NULL), VM_OK);
    const char *note = r.notes[0].text;
    assert_non_null(note);
    /* the fields in the order Lua's table gives them: both changes whole */
    assert_non_null(strstr(note, "n: 3 → 4"));
    assert_non_null(strstr(note, "period: \"2024\" → \""));
    const char *v = strstr(note, "→ \"ố");
    assert_non_null(v);
    size_t n = 0;
    for (const char *c = v + strlen("→ \""); !strncmp(c, "ố", strlen("ố")); c += strlen("ố")) n++;
    assert_int_equal(n, LONG);
    assert_int_equal(strncmp(note, "dài (", strlen("dài (")), 0);
    assert_int_equal(note[strlen(note) - 1], ')');
}

static void test_no_hook_no_cost(void **state)
{
    qfx *fx = *state;
    one_hook(fx, "return function(n) return n > 2 end");
    /* a record of a kind that calls no hook creates nothing */
    assert_int_equal(qfx_tier(fx, "{'id':'o','kind':'other','n':1}"), QO_HTNV);
    assert_int_equal(hook_session_stats(fx->hs).states, 0);
    assert_int_equal(hook_session_stats(fx->hs).calls, 0);
    /* the first call creates the state; a thousand more reuse it */
    for (int i = 0; i < 1000; i++) assert_int_equal(qfx_tier(fx, REC("")), QO_HTXSNV);
    assert_int_equal(hook_session_stats(fx->hs).states, 1);
    assert_int_equal(hook_session_stats(fx->hs).calls, 2000);
}

static void test_optional_args_are_nil(void **state)
{
    qfx *fx = *state;
    lua_file(fx, "t.lua",
             "return { f = function(d, cs)\n"
             "  if d == nil and cs == nil then return -1 end\n"
             "  local n = 0\n"
             "  for _, c in ipairs(cs or {}) do if c.spot == place.away and not c.ok then n = n + c.year end end\n"
             "  if d then n = n + 1000 * tonumber(d:sub(1, 4)) end\n"
             "  return n\n"
             "end }\n");
    qfx_ok(fx, HDR "hook f(d: date, cs: list of case) -> int from \"t.lua\"\n"
                   "rate member {\n  a: htxsnv when f(day, cases) = -1 cite \"t\"\n"
                   "  b: httnv when f(day, cases) = 2022 cite \"t\"\n"
                   "  c: htnv when f(day, cases) = 2025000 cite \"t\"\n  otherwise khtnv\n}\n");
    assert_int_equal(qfx_tier(fx, REC("")), QO_HTXSNV);
    assert_int_equal(qfx_tier(fx, REC(",'cases':[{'year':2022,'spot':'away','ok':false},"
                                      "{'year':2023,'spot':'home','ok':false},{'year':1,'spot':'away','ok':true}]")),
                     QO_HTTNV);
    assert_int_equal(qfx_tier(fx, REC(",'day':'2025-03-01'")), QO_HTNV);
    assert_int_equal(qfx_tier(fx, REC(",'cases':[]")), QO_KHTNV); /* empty list: not nil, n = 0 */
}

static void test_exact_numbers(void **state)
{
    qfx *fx = *state;
    lua_file(fx, "t.lua",
             "local M = {}\n"
             "function M.third(p) return p * 3 end\n"
             "function M.chk(p)\n"
             "  local r = quy.ratio(1, 3)\n"
             "  assert(r * 3 == 1 and math.type(r * 3) == 'integer')\n"
             "  assert(quy.decimal('0.1') + quy.decimal('0.2') == quy.decimal('0.3'))\n"
             "  assert(quy.floor(quy.ratio(-7, 2)) == -4 and quy.ceil(quy.ratio(7, 2)) == 4)\n"
             "  assert(quy.round(quy.ratio(5, 2)) == 3 and quy.round(quy.ratio(-5, 2)) == -2)\n"
             "  assert(tostring(quy.ratio(1, 4)) == '0.25' and quy.ratio(7, 2) // 1 == 3)\n"
             "  return p\n"
             "end\n"
             "function M.float(p) return 0.5 end\n"
             "function M.mix(p) return p + 0.5 end\n"
             "return M\n");
    qfx_ok(fx, HDR "hook third(p: percent) -> decimal from \"t.lua\"\n"
                   "hook chk(p: percent) -> percent from \"t.lua\"\n"
                   "hook float(p: percent) -> percent from \"t.lua\"\n"
                   "hook mix(p: percent) -> percent from \"t.lua\"\n"
                   "rate member {\n"
                   "  a: htxsnv when n = 3 and third(pct) = 1 if present cite \"t\"\n"
                   "  b: httnv when n = 3 and chk(pct) = pct if present cite \"t\"\n"
                   "  c: htnv when n = 7 and float(pct) = 100% if present cite \"t\"\n"
                   "  d: htnv when n = 8 and mix(pct) = 100% if present cite \"t\"\n"
                   "  otherwise khtnv\n}\n");
    assert_int_equal(qfx_tier(fx, REC(",'pct':50")), QO_HTTNV);     /* 3/2 != 1, then the checks hold */
    assert_int_equal(qfx_tier(fx, REC(",'pct':33.3")), QO_HTTNV);   /* 0.999 */
    /* 100/3 % is not a decimal literal: 1/3 only through arithmetic, so a
     * third hook multiplying by 3 gets exactly 1 */
    vm_result r;
    assert_int_equal(qfx_rate(fx, REC(",'pct':1,'n':7"), &r), VM_HOOK);
    assert_non_null(strstr(r.error_text, "a float (0.5) where percent is declared"));
    assert_int_equal(qfx_rate(fx, REC(",'pct':1,'n':8"), &r), VM_HOOK);
    assert_non_null(strstr(r.error_text, "floating-point number 0.5 is not exact"));
}

static void test_members(void **state)
{
    qfx *fx = *state;
    lua_file(fx, "t.lua",
             "local M = {}\n"
             "function M.up(g)\n"
             "  assert(grade.kem < grade.tot and grade.xuat_sac >= grade.tot and g.type == 'grade')\n"
             "  assert(tier.httnv > tier.htnv and outcome.httnv == tier.httnv and outcome.not_rated.code == 'not_rated')\n"
             "  assert(place.home.label == 'Nhà' and tostring(place.away) == 'away' and grade.tot.rank == 2)\n"
             "  local n = 0\n"
             "  for code, v in pairs(grade) do n = n + 1; assert(v.code == code) end\n"
             "  assert(n == 3)\n"
             "  if g == grade.kem then return grade.tot end\n"
             "  return g\n"
             "end\n"
             "function M.cmp(g) return g < tier.httnv end\n"
             "function M.str(g) return 'httnv' end\n"
             "function M.enum_order(g) return place.home < place.away end\n"
             "return M\n");
    qfx_ok(fx, HDR "hook up(g: grade) -> grade from \"t.lua\"\n"
                   "hook cmp(g: grade) -> bool from \"t.lua\"\n"
                   "hook str(g: grade) -> tier from \"t.lua\"\n"
                   "hook enum_order(g: grade) -> bool from \"t.lua\"\n"
                   "rate member {\n"
                   "  a: htxsnv when n = 3 and up(g) = tot cite \"t\"\n"
                   "  b: httnv when n = 4 and cmp(g) cite \"t\"\n"
                   "  c: httnv when n = 5 and str(g) = httnv cite \"t\"\n"
                   "  d: httnv when n = 6 and enum_order(g) cite \"t\"\n"
                   "  otherwise htnv\n}\n");
    assert_int_equal(qfx_tier(fx, REC(",'g':'kem'")), QO_HTXSNV);
    assert_int_equal(qfx_tier(fx, REC(",'g':'xuat_sac'")), QO_HTNV);
    vm_result r;
    assert_int_equal(qfx_rate(fx, REC(",'n':4"), &r), VM_HOOK);
    assert_non_null(strstr(r.error_text, "cannot order grade and tier"));
    /* a Lua string where a tier is declared: an error naming the hook, not a guess */
    assert_int_equal(qfx_rate(fx, REC(",'n':5"), &r), VM_HOOK);
    assert_non_null(strstr(r.error_text, "hook 'str' (t.lua)"));
    assert_non_null(strstr(r.error_text, "the result is a string (\"httnv\") where tier is declared (write tier.httnv"));
    assert_int_equal(qfx_rate(fx, REC(",'n':6"), &r), VM_HOOK);
    assert_non_null(strstr(r.error_text, "only values of one scale have an order"));
}

/* ---------------------------------------------------------------------
 * The sandbox: escapes and errors, each a per-record error
 * ------------------------------------------------------------------- */

static void test_os_execute(void **state)
{
    qfx *fx = *state;
    one_hook(fx, "return function(n) os.execute('touch /tmp/quy-hook-escaped') return true end");
    expect_failure(fx, "attempt to index a nil value (global 'os')");
    assert_int_equal(access("/tmp/quy-hook-escaped", F_OK), -1);
}

static void test_no_io_require_debug(void **state)
{
    qfx *fx = *state;
    one_hook(fx, "return function(n)\n"
                 "  assert(io == nil and require == nil and package == nil and debug == nil and dofile == nil)\n"
                 "  assert(loadfile == nil and print == nil and collectgarbage == nil and rawset == nil)\n"
                 "  assert(coroutine == nil and math.random == nil and string.dump == nil and warn == nil)\n"
                 "  return require('os')\n"
                 "end");
    expect_failure(fx, "attempt to call a nil value (global 'require')");
}

static void test_infinite_loop(void **state)
{
    qfx *fx = *state;
    one_hook(fx, "return function(n) while true do end end");
    expect_failure(fx, "vượt giới hạn 5000000 lệnh Lua cho một lần gọi (instruction budget exceeded)");
    /* the state was closed after the limit, and made anew */
    vm_result r;
    qfx_rate(fx, REC(""), &r);
    assert_true(hook_session_stats(fx->hs).states >= 2);
}

static void test_loop_catching_the_budget(void **state)
{
    qfx *fx = *state;
    one_hook(fx, "return function(n)\n"
                 "  while true do pcall(function() while true do end end) end\n"
                 "end");
    expect_failure(fx, "instruction budget exceeded");
    qfx_release(fx);
    one_hook(fx, "return function(n)\n"
                 "  while true do xpcall(function() while true do end end, function(e) return e end) end\n"
                 "end");
    expect_failure(fx, "instruction budget exceeded");
}

static void test_unbounded_allocation(void **state)
{
    qfx *fx = *state;
    one_hook(fx, "return function(n)\n"
                                "  local t = {}\n"
                                "  while true do t[#t + 1] = string.rep('x', 4096) .. #t end\n"
                                "end");
    expect_failure(fx, "vượt giới hạn bộ nhớ 16777216 byte (memory limit exceeded)");
    /* memory came back: the state was closed */
    assert_true(hook_session_stats(fx->hs).memory < 1u << 20);
}

static void test_allocation_caught_by_pcall(void **state)
{
    qfx *fx = *state;
    one_hook(fx, "return function(n)\n"
                 "  local ok = pcall(function() local s = 'x'; while true do s = s .. s end end)\n"
                 "  return not ok\n"
                 "end");
    expect_failure(fx, "memory limit exceeded");
}

static void test_small_limits(void **state)
{
    qfx *fx = *state;
    one_hook(fx, "return function(n) local s = 0; for i = 1, n * 1000 do s = s + i end; return s > 0 end");
    hook_session_set_limits(qfx_hooks(fx), &(hook_limits){.instructions = 2000});
    assert_int_equal(qfx_tier(fx, REC(",'n':1")), QO_HTXSNV); /* ~1000 instructions */
    vm_result r;
    assert_int_equal(qfx_rate(fx, REC(",'n':100"), &r), VM_HOOK);
    assert_non_null(strstr(r.error_text, "vượt giới hạn 2000 lệnh Lua"));
    hook_session_set_limits(qfx_hooks(fx), &(hook_limits){.memory = 8 * 1024});
    assert_int_equal(qfx_rate(fx, REC(",'n':1"), &r), VM_HOOK); /* the base state alone is bigger */
    assert_non_null(strstr(r.error_text, "không tạo được môi trường Lua"));
}

static void test_wrong_result_types(void **state)
{
    qfx *fx = *state;
    lua_file(fx, "t.lua",
             "local M = {}\n"
             "function M.b(n) if n == 1 then return nil elseif n == 2 then return 1 end return 'yes' end\n"
             "function M.i(n) if n == 1 then return 2.5 elseif n == 2 then return '3' end return 3.0 end\n"
             "function M.d(n) if n == 1 then return '2024-02-30' end return {} end\n"
             "function M.s(n) return 7 end\n"
             "return M\n");
    qfx_ok(fx, HDR "hook b(n: int) -> bool from \"t.lua\"\n"
                   "hook i(n: int) -> int from \"t.lua\"\n"
                   "hook d(n: int) -> date from \"t.lua\"\n"
                   "hook s(n: int) -> string from \"t.lua\"\n"
                   "rate member {\n"
                   "  a: htxsnv when g = kem and b(n) cite \"t\"\n"
                   "  bb: httnv when g = tot and i(n) = 1 cite \"t\"\n"
                   "  c: htnv when g = xuat_sac and period = \"2024\" and d(n) > 2020-01-01 cite \"t\"\n"
                   "  e: htnv when period = \"2025\" and s(n) = \"x\" cite \"t\"\n"
                   "  otherwise khtnv\n}\n");
    static const struct {
        const char *rec, *msg;
    } cases[] = {
        {REC(",'g':'kem','n':1"), "hook 'b' (t.lua): the result is nil where bool is declared"},
        {REC(",'g':'kem','n':2"), "the result is an integer (1) where bool is declared"},
        {REC(",'g':'kem','n':3"), "the result is a string (\"yes\") where bool is declared"},
        {REC(",'n':1"), "hook 'i' (t.lua): the result is a float (2.5) where int is declared (floating point is not exact"},
        {REC(",'n':2"), "the result is a string (\"3\") where int is declared"},
        {REC(",'n':3"), "the result is a float (3) where int is declared"},
        {REC(",'g':'xuat_sac','n':1"), "the result is the string \"2024-02-30\" where a date (\"YYYY-MM-DD\") is declared"},
        {REC(",'g':'xuat_sac','n':2"), "the result is a table where date is declared"},
        {"{'id':'r','kind':'member','period':'2025','n':1,'g':'xuat_sac'}",
         "hook 's' (t.lua): the result is an integer (7) where string is declared"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        vm_result r;
        assert_int_equal(qfx_rate(fx, cases[i].rec, &r), VM_HOOK);
        if (!strstr(r.error_text, cases[i].msg)) print_error("case %zu: %s\n", i, r.error_text);
        assert_non_null(strstr(r.error_text, cases[i].msg));
    }
}

static void test_error_raised(void **state)
{
    qfx *fx = *state;
    one_hook(fx, "local function inner(n)\n"
                 "  error('boom ' .. n)\n"
                 "end\n"
                 "return function(n) return inner(n) end\n");
    expect_failure(fx, "t.lua:2: boom 3");
    qfx_release(fx);
    one_hook(fx, "return function(n) error({code = 1}) end");
    expect_failure(fx, "raised a table value as its error");
    qfx_release(fx);
    one_hook(fx, "return function(n) return nil + n end");
    expect_failure(fx, "attempt to perform arithmetic on a nil value");
}

static void test_bytecode_refused(void **state)
{
    qfx *fx = *state;
    /* no string.dump to make bytecode, and load() takes text only */
    one_hook(fx, "return function(n)\n"
                 "  local f, msg = load('\\27Lua\\84\\0\\25\\147\\13\\10\\26\\10')\n"
                 "  assert(f == nil and msg:find('attempt to load a binary chunk', 1, true))\n"
                 "  local g = load('return os')\n"
                 "  assert(g() == nil)\n"
                 "  return string.dump(function() end)\n"
                 "end");
    expect_failure(fx, "attempt to call a nil value (field 'dump')");
}

static void test_metatable_escapes(void **state)
{
    qfx *fx = *state;
    one_hook(fx, "return function(n) getmetatable('').__index = {} return true end");
    expect_failure(fx, "attempt to index a boolean value");
    qfx_release(fx);
    one_hook(fx, "return function(n) setmetatable(string, nil) return true end");
    expect_failure(fx, "cannot change a protected metatable");
    qfx_release(fx);
    one_hook(fx, "return function(n) string.upper = function() return 'x' end return true end");
    expect_failure(fx, "cannot set 'upper': globals and libraries are read-only in a hook");
    qfx_release(fx);
    one_hook(fx, "return function(n) setmetatable(_ENV, nil) return true end");
    expect_failure(fx, "cannot change a protected metatable");
    qfx_release(fx);
    one_hook(fx, "return function(n) tier.htxsnv = tier.khtnv return true end");
    expect_failure(fx, "cannot set 'htxsnv'");
    qfx_release(fx);
    one_hook(fx, "return function(n) table.insert(math, 1) return true end");
    expect_failure(fx, "read-only in a hook");
}

static void test_state_not_shared_between_records(void **state)
{
    qfx *fx = *state;
    /* globals are read-only during calls; what the file defines at load
     * stays readable */
    one_hook(fx, "limit = 2\n"
                 "function helper(n) return n > limit end\n"
                 "return function(n) if n == 9 then counter = 1 end return helper(n) end\n");
    assert_int_equal(qfx_tier(fx, REC("")), QO_HTXSNV);
    vm_result r;
    assert_int_equal(qfx_rate(fx, REC(",'n':9"), &r), VM_HOOK);
    assert_non_null(strstr(r.error_text, "cannot set 'counter'"));
    assert_int_equal(qfx_tier(fx, REC(",'n':2")), QO_HTNV);
}

static void test_finalizers_and_patterns(void **state)
{
    qfx *fx = *state;
    one_hook(fx, "return function(n) setmetatable({}, {__gc = function() while true do end end}) return true end");
    expect_failure(fx, "finalizers (__gc) are not allowed in a hook");
    qfx_release(fx);
    one_hook(fx, "return function(n)\n"
                 "  assert(('2024-Q1'):find('-', 1, true) == 5 and string.rep('', 1e15) == '' and ('ab'):rep(2) == 'abab')\n"
                 "  return string.find(string.rep('a', 30), string.rep('a*', 30) .. 'b') ~= nil\n"
                 "end");
    expect_failure(fx, "patterns are disabled in hooks");
    qfx_release(fx);
    one_hook(fx, "return function(n) return ('x'):gsub('x', 'y') == 'y' end");
    expect_failure(fx, "attempt to call a nil value (method 'gsub')");
    qfx_release(fx);
    one_hook(fx, "return function(n) table.move({}, 1, 1e12, 1) return true end");
    expect_failure(fx, "table.move: more than 1048576 elements");
}

/* ---------------------------------------------------------------------
 * Adjust steps
 * ------------------------------------------------------------------- */

#define ADJ_RS                                                                                  \
    HDR "hook lower(t: tier, p: string) -> adjustment from \"a.lua\"\n"                         \
        "hook patch(n: int, pct: percent) -> adjustment from \"a.lua\"\n"                       \
        "rate member {\n"                                                                       \
        "  skip: not_rated when n < 0 cite \"t\"\n"                                             \
        "  hi: htxsnv when n >= 10 cite \"t\"\n"                                                \
        "  mid: httnv when n >= 5 cite \"t\"\n"                                                 \
        "  otherwise htnv\n}\n"                                                                 \
        "adjust member record by patch(n, pct) \"Tính theo thời gian thực tế\" cite \"HT 7.12\"\n" \
        "adjust member tier by lower(tier, period) \"Xếp loại lại\" cite \"124 Đ12 4.5\"\n"

static void adj_lua(qfx *fx, const char *extra)
{
    char buf[4096];
    snprintf(buf, sizeof buf,
             "local M = {}\n"
             "function M.lower(t, p)\n"
             "  if t == tier.htxsnv and p == '2024' then return {tier = tier.httnv, reason = 'năm ' .. p} end\n"
             "  if p == '2030' then return {reason = 'chỉ ghi nhận'} end\n"
             "  if p == '2031' then return {tier = outcome.not_rated, reason = 'không xếp loại'} end\n"
             "  return nil\n"
             "end\n"
             "function M.patch(n, pct)\n"
             "  if pct ~= nil and n < 10 then return {fields = {n = n * 2}, reason = 'gấp đôi'} end\n"
             "end\n"
             "%s\n"
             "return M\n",
             extra);
    lua_file(fx, "a.lua", buf);
}

static void test_adjust_steps(void **state)
{
    qfx *fx = *state;
    adj_lua(fx, "");
    q_program *p = qfx_ok(fx, ADJ_RS);
    assert_int_equal(p->nadjusts, 2);
    vm_result r;
    /* tier phase: htxsnv -> httnv, flag `lower` with its note */
    assert_int_equal(qfx_tier_res(fx, REC(",'n':10"), &r), QO_HTTNV);
    assert_int_equal(r.nflags, 1);
    assert_string_equal(qfx_flag_name(p, &r, 0), "lower");
    assert_string_equal(prog_str(p, p->flags[r.flags[0]].message), "Xếp loại lại");
    assert_string_equal(vm_note_of(&r, r.flags[0]), "năm 2024");
    assert_string_equal(qfx_rule_name(p, &r), "hi"); /* the rule that decided before the step */
    /* no adjustment: nothing raised */
    assert_int_equal(qfx_tier_res(fx, REC(",'n':5"), &r), QO_HTTNV);
    assert_int_equal(r.nflags, 0);
    /* record phase: n = 6 becomes 12 before the rules, then the tier step */
    assert_int_equal(qfx_tier_res(fx, REC(",'n':6,'pct':10"), &r), QO_HTTNV);
    assert_int_equal(r.nflags, 2);
    assert_string_equal(qfx_flag_name(p, &r, 0), "patch");
    assert_string_equal(vm_note_of(&r, r.flags[0]), "gấp đôi (n: 6 → 12)");
    assert_string_equal(qfx_rule_name(p, &r), "hi");
    /* the trace shows the patched value and both steps */
    qfx_rate_trace(fx, REC(",'n':6,'pct':10"), &r);
    int adjusts = 0;
    for (uint32_t i = 0; i < fx->trace.n; i++) {
        const vm_event *e = &fx->trace.ev[i];
        if (e->type == EV_ADJUST) adjusts++;
        if (e->type == EV_READ && adjusts == 1 && e->slot == 1) assert_int_equal(e->val.n, 12);
        if (e->type == EV_ADJUST && adjusts == 2) {
            assert_int_equal(e->slot, QO_HTXSNV);
            assert_int_equal(e->result, QO_HTTNV);
        }
    }
    assert_int_equal(adjusts, 2);
    char *text = explain_text_str(p, qfx_rec(fx, REC(",'n':6,'pct':10")), &r, &fx->trace, 0);
    assert_non_null(strstr(text, "↺ Hồ sơ được điều chỉnh trước khi xếp loại («patch»: Tính theo thời gian thực tế): "
                                 "gấp đôi (n: 6 → 12) — HT 7.12 [main]"));
    assert_non_null(strstr(text, "↺ Mức xếp loại được điều chỉnh: htxsnv → httnv («lower»: Xếp loại lại): năm 2024"));
    free(text);
    /* a note alone, and an outcome that is not a tier */
    assert_int_equal(qfx_tier_res(fx, "{'id':'r','kind':'member','period':'2030','n':1,'g':'tot'}", &r), QO_HTNV);
    assert_string_equal(vm_note_of(&r, r.flags[0]), "chỉ ghi nhận");
    assert_int_equal(qfx_tier(fx, "{'id':'r','kind':'member','period':'2031','n':1,'g':'tot'}"), QO_NOT_RATED);
    /* a record not rated is not adjusted after the rules */
    assert_int_equal(qfx_tier_res(fx, "{'id':'r','kind':'member','period':'2031','n':-1,'g':'tot'}", &r), QO_NOT_RATED);
    assert_int_equal(r.nflags, 0);
}

static void test_adjustment_errors(void **state)
{
    qfx *fx = *state;
    static const struct {
        const char *lua, *msg;
    } cases[] = {
        {"function M.patch(n) return {fields = {n = 1}} end", "a reason (a string) is required"},
        {"function M.patch(n) return {reason = ''} end", "the adjustment's reason is empty"},
        {"function M.patch(n) return {reson = 'x'} end", "unknown key 'reson' in the adjustment"},
        {"function M.patch(n) return {reason = 'x', tier = tier.htnv} end", "may set fields, not the tier"},
        {"function M.patch(n) return {reason = 'x', fields = {nn = 1}} end", "sets 'nn', which is not a field of member"},
        {"function M.patch(n) return {reason = 'x', fields = {n = 'one'}} end",
         "field 'n' of the adjustment is a string (\"one\") where int is declared"},
        {"function M.patch(n) return {reason = 'x', fields = {cases = {}}} end", "a list cannot be set"},
        {"function M.patch(n) return 'httnv' end", "the result is a string (\"httnv\") where an adjustment"},
        {"function M.patch(n) return {reason = string.rep('x', 1001)} end", "longer than 1000 bytes"},
        {"function M.patch(n) return setmetatable({}, {__index = function() while true do end end}) end",
         "a reason (a string) is required"},
        {"function M.lower(t) return {reason = 'x', tier = 'htnv'} end",
         "the adjustment's tier is a string (\"htnv\") where a tier"},
        {"function M.lower(t) return {reason = 'x', fields = {n = 1}} end", "may set the tier, not fields"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        adj_lua(fx, cases[i].lua);
        qfx_ok(fx, ADJ_RS);
        vm_result r;
        assert_int_equal(qfx_rate(fx, REC(",'n':10,'pct':1"), &r), VM_HOOK);
        if (!strstr(r.error_text, cases[i].msg)) print_error("case %zu: %s\n", i, r.error_text);
        assert_non_null(strstr(r.error_text, cases[i].msg));
        assert_int_equal(qfx_rate_trace(fx, REC(",'n':10,'pct':1"), &r), VM_HOOK);
    }
}

static void test_adjust_when(void **state)
{
    qfx *fx = *state;
    adj_lua(fx, "");
    qfx_ok(fx, HDR "hook patch(n: int, pct: percent) -> adjustment from \"a.lua\"\n"
                                  "rate member { hi: htxsnv when n >= 10 cite \"t\"\n otherwise htnv }\n"
                                  "adjust member record by patch(n, pct) when present(pct) \"x\" cite \"t\"\n");
    /* no pct: the hook is not called at all (a record that needs no hook pays nothing) */
    assert_int_equal(qfx_tier(fx, REC(",'n':6")), QO_HTNV);
    assert_int_equal(hook_session_stats(fx->hs).states, 0);
    vm_result r;
    assert_int_equal(qfx_tier_res(fx, REC(",'n':6,'pct':5"), &r), QO_HTXSNV);
    assert_string_equal(vm_note_of(&r, r.flags[0]), "gấp đôi (n: 6 → 12)");
    assert_int_equal(hook_session_stats(fx->hs).calls, 2); /* fast and trace */
    /* the condition's optional fields must be guarded */
    assert_null(qfx_src(fx, HDR "hook patch(n: int, pct: percent) -> adjustment from \"a.lua\"\n"
                                "rate member { otherwise htnv }\n"
                                "adjust member record by patch(n, pct) when pct > 1% cite \"t\"\n"
                                "adjust member record by patch(n, pct) when n cite \"t\"\n"));
    qfx_expect(fx, DIAG_ERROR, 18, 44, "'pct' may be absent (optional): test present(pct) in the condition");
    qfx_expect(fx, DIAG_ERROR, 19, 44, "the condition of an 'adjust' step must be true/false (bool), not int");
}

/* ---------------------------------------------------------------------
 * Compile-time checks
 * ------------------------------------------------------------------- */

/* Write DIR/rel (its folders made first; removed by hook_files_cleanup). */
static void tree_file(qfx *fx, const char *rel, const char *src)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", fx->dir, rel);
    for (char *c = path + strlen(fx->dir) + 1; *c; c++)
        if (*c == '/') {
            *c = 0;
            mkdir(path, 0700);
            *c = '/';
        }
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(src, f);
    assert_int_equal(fclose(f), 0);
}

/* A hook file is found beside the ruleset, beside the rulesets it extends,
 * or in a shared folder of the search path: no copy per variant. */
static void test_hook_file_resolution(void **state)
{
    qfx *fx = *state;
    static const char *const made[] = {"base/base.quy", "base/hooks/p.lua", "hooks/s.lua", "var/var.quy",
                                       "var/hooks/own.lua", "over/over.quy", "over/hooks/p.lua", NULL};
    tree_file(fx, "base/base.quy", HDR "rate member { otherwise htnv }\n");
    tree_file(fx, "base/hooks/p.lua", "return function(n) return n == 3 end\n");
    tree_file(fx, "hooks/s.lua", "return function(n) return n == 4 end\n");
    tree_file(fx, "var/hooks/own.lua", "return function(n) return n == 5 end\n");
    tree_file(fx, "var/var.quy",
              "ruleset var extends base version \"1\"\n"
              "hook p(n: int) -> bool from \"hooks/p.lua\"\n"   /* the parent's */
              "hook s(n: int) -> bool from \"hooks/s.lua\"\n"   /* the shared folder's */
              "hook own(n: int) -> bool from \"hooks/own.lua\"\n" /* its own */
              "amend rate member { a: htxsnv when p(n) cite \"t\"\n b: httnv when s(n) cite \"t\"\n"
              " c: htnv when own(n) cite \"t\" }\n");
    q_program *p = qfx_compile(fx, "var");
    if (!p) qfx_dump(fx);
    assert_non_null(p);
    /* new tier rules in a variant can loosen it: check warns (issue 11.10) */
    qfx_expect_in(fx, "var.quy", DIAG_WARNING, 5, 21, "rule 'a' (htxsnv) is new in this variant");
    qfx_expect_in(fx, "var.quy", DIAG_WARNING, 6, 2, "rule 'b' (httnv) is new in this variant");
    qfx_expect_in(fx, "var.quy", DIAG_WARNING, 7, 2, "rule 'c' (htnv) is new in this variant");
    assert_int_equal(qfx_tier(fx, REC(",'n':3")), QO_HTXSNV);
    assert_int_equal(qfx_tier(fx, REC(",'n':4")), QO_HTTNV);
    assert_int_equal(qfx_tier(fx, REC(",'n':5")), QO_HTNV);
    /* a variant's own file overrides its parent's */
    tree_file(fx, "over/hooks/p.lua", "return function(n) return n == 7 end\n");
    tree_file(fx, "over/over.quy",
              "ruleset over extends base version \"1\"\n"
              "hook p(n: int) -> bool from \"hooks/p.lua\"\n"
              "hook q(n: int) -> bool from \"hooks/nowhere.lua\"\n"
              "amend rate member { a: htxsnv when p(n) cite \"t\" }\n");
    assert_null(qfx_compile(fx, "over"));
    qfx_expect_in(fx, "over.quy", DIAG_ERROR, 3, 29, "over/hooks/nowhere.lua: No such file or directory");
    qfx_expect_in(fx, "over.quy", DIAG_WARNING, 4, 21, "rule 'a' (htxsnv) is new in this variant");
    tree_file(fx, "over/over.quy",
              "ruleset over extends base version \"1\"\n"
              "hook p(n: int) -> bool from \"hooks/p.lua\"\n"
              "amend rate member { a: htxsnv when p(n) cite \"t\" }\n");
    assert_non_null(qfx_compile(fx, "over"));
    qfx_expect_in(fx, "over.quy", DIAG_WARNING, 3, 21, "rule 'a' (htxsnv) is new in this variant");
    assert_int_equal(qfx_tier(fx, REC(",'n':3")), QO_HTNV);
    assert_int_equal(qfx_tier(fx, REC(",'n':7")), QO_HTXSNV);
    qfx_release(fx);
    for (const char *const *m = made; *m; m++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", fx->dir, *m);
        unlink(path);
    }
    static const char *const dirs[] = {"base/hooks", "base", "hooks", "var/hooks", "var", "over/hooks", "over", NULL};
    for (const char *const *d = dirs; *d; d++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", fx->dir, *d);
        assert_int_equal(rmdir(path), 0);
    }
}

static void test_compile_errors(void **state)
{
    qfx *fx = *state;
    lua_file(fx, "ok.lua", "return {f = function() return 1 end, adj = function() end}");
    lua_file(fx, "syntax.lua", "return function(n)\n  return n +\nend\n");
    lua_file(fx, "noret.lua", "local x = 1\n");
    lua_file(fx, "notable.lua", "return {other = function() end}\n");
    lua_file(fx, "boom.lua", "error('at load')\n");
    lua_file(fx, "loop.lua", "while true do end\n");
#define L(n) HDR "hook f(n: int) -> int from \"ok.lua\"\nhook adj(n: int) -> adjustment from \"ok.lua\"\n" n
    assert_null(qfx_src(fx, L("hook g() -> int from \"missing.lua\"\nrate member { otherwise htnv }\n")));
    qfx_expect(fx, DIAG_ERROR, 18, 22, "hook 'g': cannot read");
    assert_null(qfx_src(fx, L("hook g() -> int from \"syntax.lua\"\nrate member { otherwise htnv }\n")));
    qfx_expect(fx, DIAG_ERROR, 18, 22, "hook 'g': syntax.lua:3: unexpected symbol near 'end'");
    assert_null(qfx_src(fx, L("hook g() -> int from \"noret.lua\"\nrate member { otherwise htnv }\n")));
    qfx_expect(fx, DIAG_ERROR, 18, 22, "noret.lua must return a function (or a table of functions holding 'g'), not a nil");
    assert_null(qfx_src(fx, L("hook g() -> int from \"notable.lua\"\nrate member { otherwise htnv }\n")));
    qfx_expect(fx, DIAG_ERROR, 18, 22, "notable.lua returns a table without a function 'g'");
    assert_null(qfx_src(fx, L("hook g() -> int from \"boom.lua\"\nrate member { otherwise htnv }\n")));
    qfx_expect(fx, DIAG_ERROR, 18, 22, "boom.lua:1: at load");
    assert_null(qfx_src(fx, L("hook g() -> int from \"loop.lua\"\nrate member { otherwise htnv }\n")));
    qfx_expect(fx, DIAG_ERROR, 18, 22, "instruction budget exceeded");
    assert_null(qfx_src(fx, L("hook g() -> int from \"../x.lua\"\nhook h() -> int from \"x.py\"\nrate member { otherwise htnv }\n")));
    qfx_expect(fx, DIAG_ERROR, 18, 22, "relative to the ruleset's folder");
    qfx_expect(fx, DIAG_ERROR, 19, 22, "ends in '.lua'");
    assert_null(qfx_src(fx, L("hook f(x: int) -> int from \"ok.lua\"\nrate member { otherwise htnv }\n")));
    qfx_expect(fx, DIAG_ERROR, 18, 6, "hook 'f' is already declared");
    assert_null(qfx_src(fx, L("hook g(a: int, a: grade, s: case, e: enum { x, y }) -> list of int from \"ok.lua\"\n"
                              "rate member { otherwise htnv }\n")));
    qfx_expect(fx, DIAG_ERROR, 18, 16, "parameter 'a' is declared twice");
    qfx_expect(fx, DIAG_ERROR, 18, 29, "a struct cannot be passed to a hook on its own");
    qfx_expect(fx, DIAG_ERROR, 18, 38, "declare this enum by name");
    qfx_expect(fx, DIAG_ERROR, 18, 56, "a hook returns one value");
    /* calls */
    assert_null(qfx_src(fx, L("rate member {\n"
                              "  a: htxsnv when f(n, 1) = 1 cite \"t\"\n"
                              "  b: httnv when f(g) = 1 cite \"t\"\n"
                              "  c: httnv when f(pct) = 1 cite \"t\"\n"
                              "  d: htnv when adj(n) cite \"t\"\n"
                              "  e: htnv when f(n) cite \"t\"\n"
                              "  ff: htnv when ff(n) = 1 cite \"t\"\n"
                              "  otherwise htnv\n}\n"
                              "adjust member tier by f(n) cite \"t\"\n"
                              "adjust member tier by adjj(n) cite \"t\"\n"
                              "adjust membr tier by adj(n) cite \"t\"\n"
                              "adjust member tier by adj(tier) cite \"t\"\n")));
    qfx_expect(fx, DIAG_ERROR, 19, 18, "hook 'f' takes 1 argument (n: int), not 2");
    qfx_expect(fx, DIAG_ERROR, 20, 19, "argument 1 of hook 'f' (n) is grade, but the hook takes int");
    qfx_expect(fx, DIAG_ERROR, 21, 19, "argument 1 of hook 'f' (n) is percent, but the hook takes int");
    qfx_expect(fx, DIAG_ERROR, 22, 16, "hook 'adj' returns an adjustment: use it in an 'adjust' step");
    qfx_expect(fx, DIAG_ERROR, 23, 16, "a rule condition must be true/false (bool), not int");
    qfx_expect(fx, DIAG_ERROR, 24, 17, "unknown function 'ff'; did you mean the hook 'f'?");
    qfx_expect(fx, DIAG_ERROR, 27, 23, "hook 'f' returns a value, not an adjustment");
    qfx_expect(fx, DIAG_ERROR, 28, 23, "unknown hook 'adjj'; did you mean 'adj'?");
    qfx_expect(fx, DIAG_ERROR, 29, 8, "'adjust membr': no 'rate membr' to adjust; did you mean 'member'?");
    qfx_expect(fx, DIAG_ERROR, 30, 27, "argument 1 of hook 'adj' (n) is tier, but the hook takes int");
    assert_null(qfx_src(fx, L("rate member { otherwise htnv }\nadjust member record by adj(n)\n")));
    qfx_expect(fx, DIAG_ERROR, 19, 31, "missing 'cite");
    /* `tier` only means the outcome in an `adjust ... tier` step */
    assert_null(qfx_src(fx, L("rate member { otherwise htnv }\nadjust member record by adj(tier) cite \"t\"\n")));
    qfx_expect(fx, DIAG_ERROR, 19, 29, "unknown field 'tier'");
    assert_null(qfx_src(fx, L("rate member { otherwise htnv }\nadjust member before by adj(n) cite \"t\"\n")));
    qfx_expect(fx, DIAG_ERROR, 19, 15, "expected 'record' (before the rules) or 'tier' (after them), not 'before'");
#undef L
}

static void test_too_many_steps(void **state)
{
    qfx *fx = *state;
    lua_file(fx, "ok.lua", "return function() end");
    assert_null(qfx_src(fx, HDR "hook adj() -> adjustment from \"ok.lua\"\nrate member { otherwise htnv }\n"
                                "adjust member tier by adj() cite \"t\"\nadjust member tier by adj() cite \"t\"\n"
                                "adjust member record by adj() cite \"t\"\nadjust member tier by adj() cite \"t\"\n"
                                "adjust member tier by adj() cite \"t\"\n"));
    qfx_expect(fx, DIAG_ERROR, 22, 8, "a kind has at most 4 'adjust' steps; this is the 5th for 'member'");
}

/* ---------------------------------------------------------------------
 * Bytecode: self-contained, verified
 * ------------------------------------------------------------------- */

static void test_bytecode_round_trip(void **state)
{
    qfx *fx = *state;
    adj_lua(fx, "");
    q_program *p = qfx_ok(fx, ADJ_RS);
    uint8_t *buf;
    size_t len;
    assert_true(bc_write(p, &buf, &len));
    /* the Lua file is not needed any more: the source is in the program */
    char path[512];
    snprintf(path, sizeof path, "%s/a.lua", fx->dir);
    assert_int_equal(unlink(path), 0);
    char err[512];
    q_program *q = bc_read(buf, len, err, sizeof err);
    if (!q) print_error("%s\n", err);
    assert_non_null(q);
    assert_int_equal(q->nhooks, 2);
    assert_int_equal(q->nadjusts, 2);
    assert_string_equal(prog_str(q, q->hooks[1].name), "patch");
    q_record *rec = qfx_rec(fx, REC(",'n':6,'pct':10"));
    vm_result r;
    hook_session *hq = hook_session_new(q, NULL); /* a session is for one program */
    assert_non_null(hq);
    assert_int_equal(vm_rate(q, fx->hs, rec, &r, NULL), VM_HOOK);
    assert_non_null(strstr(r.error_text, "no hook session for this program"));
    assert_int_equal(vm_rate(q, hq, rec, &r, NULL), VM_OK);
    assert_int_equal(r.outcome, QO_HTTNV);
    assert_string_equal(vm_note_of(&r, r.flags[0]), "gấp đôi (n: 6 → 12)");
    hook_session_free(hq);
    /* the disassembler names hooks and steps */
    char *text = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&text, &n);
    disasm_print(q, f);
    fclose(f);
    assert_non_null(strstr(text, "hook 1 patch(n: int, pct: percent) -> adjustment from \"a.lua\""));
    assert_non_null(strstr(text, "adjust 0: member record by patch  [HT 7.12]  (layer main)"));
    assert_non_null(strstr(text, "CALLHOOK  H1 2"));
    assert_non_null(strstr(text, "LOADF     3"));
    assert_non_null(strstr(text, "(absent: nil for the hook)"));
    free(text);
    prog_free(q);

    /* the verifier: argument count, ADJUST placement, table indices */
    uint32_t call = QUY_NONE;
    for (uint32_t i = 0; i < p->ncode; i++)
        if (p->code[i].op == OP_CALLHOOK && call == QUY_NONE) call = i;
    assert_true(call != QUY_NONE);
    char why[512];
    p->code[call].b = 1;
    assert_false(bc_verify(p, why, sizeof why));
    assert_non_null(strstr(why, "1 arguments, but hook 'patch' takes 2"));
    p->code[call].b = 2;
    p->code[call + 1].op = OP_NOP;
    assert_false(bc_verify(p, why, sizeof why));
    assert_non_null(strstr(why, "returns an adjustment: an ADJUST of its step must follow"));
    p->code[call + 1].op = OP_ADJUST;
    p->adjusts[0].hook = 0;
    assert_false(bc_verify(p, why, sizeof why));
    p->adjusts[0].hook = 1;
    p->hooks[0].result = 4000;
    assert_false(bc_verify(p, why, sizeof why));
    assert_non_null(strstr(why, "hooks[0].result: index 4000 out of range"));
    p->hooks[0].result = QUY_NONE;
    p->adjusts[1].phase = 7;
    assert_false(bc_verify(p, why, sizeof why));
    assert_non_null(strstr(why, "adjust steps[1].phase: 7 is not a valid value"));
    p->adjusts[1].phase = QA_TIER;
    assert_true(bc_verify(p, why, sizeof why));
    free(buf);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, qfx_setup, qfx_teardown)
    const struct CMUnitTest tests[] = {
        T(test_call_in_condition_and_let),
        T(test_no_hook_no_cost),
        T(test_sessions),
        T(test_optional_args_are_nil),
        T(test_exact_numbers),
        T(test_members),
        T(test_os_execute),
        T(test_no_io_require_debug),
        T(test_infinite_loop),
        T(test_loop_catching_the_budget),
        T(test_unbounded_allocation),
        T(test_allocation_caught_by_pcall),
        T(test_small_limits),
        T(test_wrong_result_types),
        T(test_error_raised),
        T(test_bytecode_refused),
        T(test_metatable_escapes),
        T(test_state_not_shared_between_records),
        T(test_finalizers_and_patterns),
        T(test_adjust_steps),
        T(test_adjust_note_whole),
        T(test_adjustment_errors),
        T(test_adjust_when),
        T(test_compile_errors),
        T(test_hook_file_resolution),
        T(test_too_many_steps),
        T(test_bytecode_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
