/*
 * test_hook_sandbox.c — the hook sandbox has no way out: every call ends
 * within its limits whatever the Lua code does, including work done inside
 * one C library function where no Lua instruction runs (the reproducers of
 * the reliability issue, hook-01..05, and more of the same kind).
 *
 * Verdicts never depend on speed: a case that must hit the CPU-time limit
 * runs with an instruction budget it cannot reach, and each case checks
 * the message (which limit, or which refusal), not how long it took.
 */
#include "hook_fixture.h"

typedef struct escape {
    const char *what;
    const char *lua; /* t.lua: returns f(n), called with n = 3 */
    const char *msg; /* the failure's message must hold this; NULL: the hook returns true */
} escape;

/* The five reproducers (/work/shared/reliability/hook-hang.lua). */
static const escape reproducers[] = {
    {"hook-01: plain find, 4 MiB haystack, 2 MiB needle (quadratic in Lua's lmemfind)",
     "return function(n)\n"
     "  local s = string.rep('a', 4 * 1024 * 1024)\n"
     "  local p = string.rep('a', 2 * 1024 * 1024) .. 'b'\n"
     "  return s:find(p, 1, true) == nil and s:find('a', 4 * 1024 * 1024, true) == 4 * 1024 * 1024\n"
     "end",
     NULL},
    {"hook-02: table.sort over a fake __len with C __index/__newindex",
     "return function(n)\n"
     "  local t = setmetatable({}, {__len = function() return (1 << 31) - 2 end, __index = rawlen, __newindex = rawequal})\n"
     "  table.sort(t) return true\n"
     "end",
     "table.sort: the table has a __len metamethod"},
    {"hook-03: table.insert(t, 1, x) over a fake __len",
     "return function(n)\n"
     "  local t = setmetatable({}, {__len = function() return math.maxinteger - 2 end, __index = rawget, __newindex = rawequal})\n"
     "  table.insert(t, 1, 0) return true\n"
     "end",
     "table.insert: the table has a __len metamethod"},
    {"hook-04: table.remove(t, 1) over a fake __len",
     "return function(n)\n"
     "  local t = setmetatable({}, {__len = function() return math.maxinteger - 2 end, __index = rawget, __newindex = rawequal})\n"
     "  table.remove(t, 1) return true\n"
     "end",
     "table.remove: the table has a __len metamethod"},
    {"hook-05: xpcall whose message handler loops",
     "return function(n) return xpcall(error, function() while true do end end) end",
     "vượt giới hạn 5000000 lệnh Lua cho một lần gọi (instruction budget exceeded)"},
};

/* More of the same kind: C functions that loop, ways to catch a limit,
 * collector work, the libraries a hook does not need. */
static const escape more[] = {
    {"string.rep past the memory limit", "return function(n) return #string.rep('x', 1 << 30) > 0 end",
     "memory limit exceeded"},
    {"string.rep past Lua's own size limit", "return function(n) return #string.rep('x', 1 << 40) > 0 end", "resulting string too large"},
    {"string.rep of an empty string 2^62 times is empty at once",
     "return function(n) return string.rep('', 1 << 62) == '' and string.rep('', 1 << 62, '') == '' end", NULL},
    {"string.rep with a separator past the memory limit", "return function(n) return #string.rep('', 1 << 29, 'ab') > 0 end",
     "memory limit exceeded"},
    {"pattern backtracking: find", "return function(n) return string.find(('a'):rep(40), ('a*'):rep(20) .. 'b') end",
     "patterns are disabled in hooks"},
    {"pattern backtracking: s:find", "return function(n) return (('a'):rep(40)):find('.-.-.-.-b') end",
     "patterns are disabled in hooks"},
    {"gsub is absent", "return function(n) return ('aaa'):gsub('a*', 'b') end", "attempt to call a nil value (method 'gsub')"},
    {"match is absent", "return function(n) return string.match('aaa', '(a*)*b') end",
     "attempt to call a nil value (field 'match')"},
    {"gmatch is absent", "return function(n) for w in string.gmatch('a', 'a') do end return true end",
     "attempt to call a nil value (field 'gmatch')"},
    {"a text without special characters is a plain search, as in Lua",
     "return function(n)\n"
     "  local a, b = ('2024 Q1 2024'):find('2024', 2)\n"
     "  assert(a == 9 and b == 12, a)\n"
     "  assert(('abc'):find('') == 1 and ('abc'):find('', 10) == nil and ('abc'):find('c', -1) == 3)\n"
     "  return ('a.b'):find('.', 1, true) == 2\n"
     "end",
     NULL},
    {"string.pack is absent", "return function(n) return string.pack('i4', 1) end", "attempt to call a nil value (field 'pack')"},
    {"string arithmetic is gone", "return function(n) return '10' + 1 == 11 end",
     "attempt to perform arithmetic on a string value"},
    {"string.byte over 10 MiB", "return function(n) return select('#', string.byte(string.rep('x', 2 << 20), 1, -1)) > 0 end",
     "string slice too long"},
    {"table.concat over a fake __len",
     "return function(n) return table.concat(setmetatable({}, {__len = function() return 1 << 40 end, __index = function() return 'x' end})) end",
     "table.concat: the table has a __len metamethod"},
    {"table.unpack over a fake __len",
     "return function(n) return select('#', table.unpack(setmetatable({}, {__len = function() return 1 << 40 end}))) > 0 end",
     "table.unpack: the table has a __len metamethod"},
    {"table.unpack over 2^40 explicit positions", "return function(n) return select('#', table.unpack({}, 1, 1 << 40)) end",
     "too many results to unpack"},
    {"table functions on a table with a metatable but no __len: its own length",
     "return function(n)\n"
     "  local t = setmetatable({1, 2, 3}, {__index = {}})\n"
     "  table.insert(t, 1, 0); table.sort(t); return t[1] == 0 and #t == 4 and table.concat(t, ',') == '0,1,2,3'\n"
     "end",
     NULL},
    {"table.move past its bound", "return function(n) table.move({}, 1, 1e12, 1) return true end",
     "table.move: more than 1048576 elements"},
    {"a giant table", "return function(n) local t = {} for i = 1, 1e9 do t[i] = i end return true end",
     "memory limit exceeded"},
    {"a giant string by doubling", "return function(n) local s = 'x' while true do s = s .. s end end",
     "memory limit exceeded"},
    {"deep recursion", "local function f(n) return 1 + f(n + 1) end\nreturn function(n) return f(1) > 0 end",
     "memory limit exceeded"},
    {"deep recursion caught by pcall", "local function f(n) return 1 + f(n + 1) end\n"
     "return function(n) local ok = pcall(f, 1) while not ok do end end", "memory limit exceeded"},
    {"__index recursion in C", "return function(n) local t = setmetatable({}, {__index = function(t, k) return t[k] end}) return t.x end",
     "stack overflow"},
    {"coroutines are absent", "return function(n) return coroutine.wrap(function() end) end",
     "attempt to index a nil value (global 'coroutine')"},
    {"load does not return a memory error", "return function(n) local f, e = load(('x = 1 '):rep(1 << 21)) return f ~= nil end",
     "memory limit exceeded"},
    {"load cannot make bytecode", "return function(n) return load(string.dump(function() end)) end",
     "attempt to call a nil value (field 'dump')"},
    {"load of deep nesting is an error it returns",
     "return function(n) local f, e = load('return ' .. ('('):rep(1000) .. '1' .. (')'):rep(1000)) return f == nil and e ~= nil end",
     NULL},
    {"code made by load is under the same budget",
     "return function(n) local f = load('while true do end') f() end", "instruction budget exceeded"},
    {"utf8.codes over 6 MiB", "return function(n) for p, c in utf8.codes(('a'):rep(6 << 20)) do end return true end",
     "instruction budget exceeded"},
    {"utf8.char of a million values", "return function(n) local t = {} for i = 1, 1e6 do t[i] = 65 end return #utf8.char(table.unpack(t)) end",
     "hook 'f'"},
    {"utf8.len and offset on invalid text", "return function(n) return utf8.len('\\xff\\xfe') == nil and utf8.offset('abc', 5) == nil end",
     NULL},
    {"__tostring that loops, called by string.format",
     "return function(n) return string.format('%s', setmetatable({}, {__tostring = function() while true do end end})) end",
     "instruction budget exceeded"},
    {"__close that loops after the budget",
     "return function(n)\n"
     "  local x <close> = setmetatable({}, {__close = function() while true do end end})\n"
     "  while true do end\n"
     "end",
     "instruction budget exceeded"},
    {"xpcall whose handler raises", "return function(n) local ok, e = xpcall(error, function() error('again') end, 'x') return not ok and e:find('again', 1, true) ~= nil end",
     NULL},
    {"xpcall passes its arguments and results",
     "return function(n) local ok, a, b = xpcall(function(x, y) return y, x end, error, 1, 2) return ok and a == 2 and b == 1 end", NULL},
    {"xpcall handler gets the message", "return function(n) local ok, e = xpcall(error, function(m) return 'h:' .. m end, 'boom', 0) return not ok and e == 'h:boom' end",
     NULL},
    {"pcall of a limit inside xpcall inside pcall",
     "return function(n) while true do pcall(xpcall, function() while true do end end, function(e) return e end) end end",
     "instruction budget exceeded"},
    {"weak tables are refused", "return function(n) setmetatable({}, {__mode = 'k'}) return true end",
     "weak tables (__mode) are not allowed in a hook"},
    {"finalizers are refused", "return function(n) setmetatable({}, {__gc = function() while true do end end}) return true end",
     "finalizers (__gc) are not allowed in a hook"},
    /* A __mode written after setmetatable made the table weak: a chain of
     * weak keys over eight tables then ran the collector (no hook runs in
     * it) for 6.4 s of CPU against the 2 s limit. */
    {"a __mode written after setmetatable (weak-key chain over eight tables)",
     "return function(n)\n"
     "  local mt = {}\n"
     "  local es = {}\n"
     "  for j = 1, 8 do es[j] = setmetatable({}, mt) end\n"
     "  mt.__mode = 'k'\n"
     "  local k = {}\n"
     "  for i = 1, 1e9 do local nk = {} es[(i * 5) % 8 + 1][k] = nk k = nk end\n"
     "end",
     "weak tables (__mode) are not allowed in a hook (a metatable cannot be given a __mode after setmetatable"},
    {"a __mode written after setmetatable, its name built at run time",
     "return function(n) local mt = {} setmetatable({}, mt) mt['__mo' .. 'de'] = 'kv' end",
     "weak tables (__mode) are not allowed in a hook"},
    {"a __gc written after setmetatable", "return function(n) local mt = {} setmetatable({}, mt) mt.__gc = error end",
     "finalizers (__gc) are not allowed in a hook"},
    {"a metatable's other fields can be set after setmetatable",
     "return function(n) local mt = {} local t = setmetatable({}, mt) mt.__index = function() return 5 end\n"
     "  mt.__mode2 = 1 return t.x == 5 and getmetatable(t) == mt and getmetatable(mt) == false end",
     NULL},
    {"a table with a metatable cannot be a metatable (its writes would bypass the guard)",
     "return function(n) local mt = setmetatable({}, {}) setmetatable({}, mt) end",
     "a table that has a metatable cannot be a metatable in a hook"},
    {"a metatable cannot get a metatable of its own",
     "return function(n) local mt = {} setmetatable({}, mt) setmetatable(mt, {__newindex = function() end}) end",
     "this table is the metatable of another table: in a hook it cannot have a metatable of its own"},
    {"a metatable cannot lose its guard", "return function(n) local mt = {} setmetatable({}, mt) setmetatable(mt, nil) end",
     "this table is the metatable of another table"},
    {"a table cannot be its own metatable", "return function(n) local t = {} setmetatable(t, t) t.__mode = 'k' end",
     "a table cannot be its own metatable in a hook"},
    {"a library table is no metatable", "return function(n) setmetatable({}, string) end",
     "a table that has a metatable cannot be a metatable in a hook"},
    {"the string metatable is protected", "return function(n) return getmetatable('') == false end", NULL},
    {"sort with a comparator that loops", "return function(n) table.sort({3, 2, 1}, function(a, b) while true do end end) end",
     "instruction budget exceeded"},
    {"sort with a comparator that lies", "return function(n) local t = {} for i = 1, 100 do t[i] = i end table.sort(t, function() return true end) return true end",
     "invalid order function for sorting"},
};

static void run_cases(qfx *fx, const escape *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        print_message("  %s\n", cases[i].what);
        one_hook(fx, cases[i].lua);
        if (cases[i].msg) {
            expect_failure(fx, cases[i].msg);
        } else {
            vm_result r;
            int rc = qfx_rate(fx, REC(""), &r);
            if (rc != VM_OK) print_error("%s: %s\n", cases[i].what, r.error_text ? r.error_text : "?");
            assert_int_equal(rc, VM_OK);
            assert_int_equal(r.outcome, QO_HTXSNV);
        }
        qfx_release(fx);
    }
}

static void test_reproducers(void **state) { run_cases(*state, reproducers, sizeof reproducers / sizeof *reproducers); }

static void test_more_escapes(void **state) { run_cases(*state, more, sizeof more / sizeof *more); }

/* A limit a call cannot reach (the instruction budget) beside one it must
 * reach (CPU time): the verdict is the message, whatever the speed. */
static void cpu_case(qfx *fx, const char *lua)
{
    one_hook(fx, lua);
    hook_session_set_limits(qfx_hooks(fx), &(hook_limits){.instructions = 1ull << 62, .cpu_ms = 20});
    expect_failure(fx, "vượt giới hạn 20 ms thời gian CPU cho một lần gọi (CPU time limit exceeded)");
    qfx_release(fx);
}

static void test_cpu_time(void **state)
{
    qfx *fx = *state;
    /* Lua instructions: the count hook reads the clock */
    cpu_case(fx, "return function(n) while true do end end");
    /* work inside C functions: the call hook reads the clock */
    cpu_case(fx, "return function(n) local s = ('a'):rep(1 << 20) while true do local _ = s:upper() end end");
    /* C metamethods called by C: rawequal as __index, ipairs never ends */
    cpu_case(fx, "return function(n) for _ in ipairs(setmetatable({}, {__index = rawequal})) do end end");
    /* caught by pcall, again and again */
    cpu_case(fx, "return function(n) while true do pcall(function() while true do end end) end end");
    /* the message handler of xpcall runs under the limit too */
    cpu_case(fx, "return function(n) return xpcall(error, function() while true do end end) end");
}

/* The compile-time run of a hook file is under the same limits. */
static void test_limits_at_load(void **state)
{
    qfx *fx = *state;
    lua_file(fx, "t.lua", "local t = setmetatable({}, {__len = function() return 1 << 62 end})\n"
                          "table.sort(t)\nreturn function(n) return true end\n");
    assert_null(qfx_src(fx, HDR "hook f(n: int) -> bool from \"t.lua\"\n"
                                "rate member { hi: htxsnv when f(n) cite \"t\"\n otherwise htnv }\n"));
    qfx_expect(fx, DIAG_ERROR, 16, 29, "hook 'f': t.lua:2: table.sort: the table has a __len metamethod");
    qfx_expect(fx, DIAG_ERROR, 17, 31, "unknown function 'f'");
}

/* The weak-key chain at load time (the compiler runs the file once). */
static void test_weak_at_load(void **state)
{
    qfx *fx = *state;
    lua_file(fx, "t.lua", "local mt = {}\nlocal e = setmetatable({}, mt)\nmt.__mode = 'k'\n"
                          "local k = {}\nfor i = 1, 1e9 do local nk = {} e[k] = nk k = nk end\n"
                          "return function(n) return true end\n");
    assert_null(qfx_src(fx, HDR "hook f(n: int) -> bool from \"t.lua\"\n"
                                "rate member { hi: htxsnv when f(n) cite \"t\"\n otherwise htnv }\n"));
    qfx_expect(fx, DIAG_ERROR, 16, 29, "hook 'f': t.lua:3: weak tables (__mode) are not allowed in a hook");
    qfx_expect(fx, DIAG_ERROR, 17, 31, "unknown function 'f'");
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, qfx_setup, qfx_teardown)
    const struct CMUnitTest tests[] = {
        T(test_reproducers),
        T(test_more_escapes),
        T(test_cpu_time),
        T(test_limits_at_load),
        T(test_weak_at_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
