/*
 * hook_sandbox.c — the Lua environment a hook runs in (prefix sb_ inside,
 * hook_ for what hook.c calls) and the limits that bound every call.
 * See hook.h for the contract and docs/hooks-guide.md for what a hook
 * author sees.
 *
 * A call ends within bounded work whatever the Lua code does:
 *   - instructions: a count hook every HOOK_TICK Lua instructions;
 *   - CPU time: the same hook at every tick, and a call hook every few
 *     function calls (Lua or C, metamethods included, so a C function
 *     looping over C metamethods is seen), read the thread's CPU clock
 *     and raise past the call's deadline. The CPU clock is a system call;
 *     it is read only when the (cheap, vDSO) monotonic clock says that
 *     HOOK_SLICE_NS passed since the last read: a thread's CPU time grows
 *     no faster than wall time, so the deadline is seen at most a slice
 *     plus one event late;
 *   - memory: the state's allocator counts every byte and refuses past the
 *     cap;
 *   - work done inside one C function, where no hook runs: every library
 *     function that loops over its input is bounded — by the memory cap
 *     (a string is at most that long), by a length check (table.insert,
 *     remove, sort, concat, unpack refuse a length no table under the cap
 *     can have, such as a fake __len), by a linear algorithm (plain
 *     string.find uses memmem), or removed (patterns, string.pack/unpack,
 *     coroutines, weak tables, finalizers).
 * Weak tables stay out for good: the collector's work on ephemeron
 * (weak-key) tables grows faster than linearly, and no hook runs during a
 * collection (a chain of weak keys over eight tables ran 6.4 s of CPU
 * against the 2 s limit). setmetatable refuses a metatable holding __mode,
 * and gives every table it installs as a metatable a guard metatable of
 * its own that refuses a __mode (or __gc) written into it later; a table
 * with another metatable, or that is its own, cannot become a metatable
 * (its writes would bypass the guard), nor can a guarded table get one.
 * A limit, once hit, is raised again at every later hook event, and
 * pcall/xpcall re-raise it: a hook cannot catch it. xpcall calls its
 * message handler after the protected call returned, never from inside
 * the hook that raised the limit (where hooks are disabled).
 */
#define _GNU_SOURCE /* memmem */
#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hook_impl.h"

#define HOOK_TICK 1000u          /* the count hook runs every HOOK_TICK instructions */
#define HOOK_CALL_EVERY 16u      /* the clocks are looked at every HOOK_CALL_EVERY call events */
#define HOOK_SLICE_NS 5000000    /* wall time between two reads of the CPU clock */
#define HOOK_MOVE_MAX (1u << 20) /* elements one table.move may move */
#define HOOK_SLOT_BYTES 16u      /* bytes of one table slot: #t above memory / 16 is a fake length */
#define REG_META_GUARD "quy.metaguard" /* registry: the metatable of every metatable setmetatable installed */

/* =====================================================================
 * Limits
 * =================================================================== */

static int64_t wall_now_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) return 0;
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t cpu_now_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) return 0;
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void hook_call_begin(hook_session *rt)
{
    rt->max_ticks = (rt->lim.instructions + HOOK_TICK - 1) / HOOK_TICK;
    rt->ticks = 0;
    rt->calls = 0;
    rt->wall_ns = wall_now_ns();
    rt->hit = HIT_NONE;
    rt->deadline_ns = cpu_now_ns() + (int64_t)rt->lim.cpu_ms * 1000000;
}

const char *hook_limit_text(const hook_session *rt, int status, char *buf, size_t size)
{
    if (rt->hit == HIT_INSTRUCTIONS)
        snprintf(buf, size, "vượt giới hạn %llu lệnh Lua cho một lần gọi (instruction budget exceeded)",
                 (unsigned long long)rt->lim.instructions);
    else if (rt->hit == HIT_CPU)
        snprintf(buf, size, "vượt giới hạn %u ms thời gian CPU cho một lần gọi (CPU time limit exceeded)",
                 (unsigned)rt->lim.cpu_ms);
    else if (status == LUA_ERRMEM)
        snprintf(buf, size, "vượt giới hạn bộ nhớ %zu byte (memory limit exceeded)", rt->lim.memory);
    else
        return NULL;
    return buf;
}

/* The allocator of the Lua state: counts every byte, refuses past the cap
 * (Lua then collects garbage, retries, and raises a memory error). */
static void *rt_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    hook_session *rt = ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        rt->mem -= old;
        return NULL;
    }
    if (nsize > old && (nsize - old > rt->lim.memory || rt->mem + (nsize - old) > rt->lim.memory)) return NULL;
    void *np = realloc(ptr, nsize);
    if (!np) return NULL;
    rt->mem = rt->mem - old + nsize;
    return np;
}

/* Past the call's CPU deadline? Reads the CPU clock only once a slice of
 * wall time has passed since the last read (see the top of the file). */
static bool past_deadline(hook_session *rt)
{
    int64_t w = wall_now_ns();
    if (w - rt->wall_ns < HOOK_SLICE_NS) return false;
    rt->wall_ns = w;
    return cpu_now_ns() > rt->deadline_ns;
}

/* Runs every HOOK_TICK instructions (LUA_HOOKCOUNT) and at every
 * function call, Lua or C (LUA_HOOKCALL, LUA_HOOKTAILCALL): counts the
 * instruction budget, and at every tick and every HOOK_CALL_EVERY calls
 * looks at the CPU deadline. Once a limit is hit, every later event
 * raises again, so a pcall cannot keep the call running. */
static void sb_limit_hook(lua_State *L, lua_Debug *ar)
{
    hook_session *rt = RT(L);
    if (rt->hit == HIT_NONE) {
        if (ar->event == LUA_HOOKCOUNT && ++rt->ticks > rt->max_ticks)
            rt->hit = HIT_INSTRUCTIONS;
        else if ((ar->event == LUA_HOOKCOUNT || ++rt->calls % HOOK_CALL_EVERY == 0) && past_deadline(rt))
            rt->hit = HIT_CPU;
        else
            return;
    }
    lua_pushstring(L, rt->hit == HIT_CPU ? "CPU time limit exceeded" : "instruction budget exceeded");
    lua_error(L);
}

/* The error raised for a write to a read-only table. */
/* The error raised for a write to a read-only table. */
static int sb_readonly(lua_State *L)
{
    const char *k = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : "?";
    return luaL_error(L, "cannot set '%s': globals and libraries are read-only in a hook (use a local variable)", k);
}

static int sb_next(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 2);
    if (lua_next(L, 1)) return 2;
    lua_pushnil(L);
    return 1;
}

/* __pairs of a read-only view: iterate the table behind it */
static int sb_proxy_pairs(lua_State *L)
{
    lua_pushcfunction(L, sb_next);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushnil(L);
    return 3;
}

/* Replace the table at the top by a read-only view of it. */
static void make_proxy(lua_State *L)
{
    int real = lua_gettop(L);
    lua_newtable(L);             /* the proxy */
    lua_createtable(L, 0, 4);    /* its metatable */
    lua_pushvalue(L, real);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, sb_readonly);
    lua_setfield(L, -2, "__newindex");
    lua_pushvalue(L, real);
    lua_pushcclosure(L, sb_proxy_pairs, 1);
    lua_setfield(L, -2, "__pairs");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
    lua_replace(L, real);
}

/* =====================================================================
 * Exact numbers: integers are Lua integers, other rationals a userdata
 * =================================================================== */

void hook_push_num(lua_State *L, q_val v)
{
    if (v.d == 1) {
        lua_pushinteger(L, v.n);
        return;
    }
    q_val *u = lua_newuserdatauv(L, sizeof *u, 0);
    *u = v;
    luaL_setmetatable(L, MT_RATIO);
}

/* The exact value at idx (an integer or a ratio); raises otherwise. */
static q_val check_num(lua_State *L, int idx)
{
    if (lua_isinteger(L, idx)) return q_int(lua_tointeger(L, idx));
    q_val *u = luaL_testudata(L, idx, MT_RATIO);
    if (u) return *u;
    if (lua_type(L, idx) == LUA_TNUMBER)
        luaL_error(L, "the floating-point number %s is not exact: use integers, quy.ratio(n, d) or quy.decimal(\"1.5\")",
                   lua_tostring(L, idx));
    luaL_error(L, "expected an exact number, got a %s", luaL_typename(L, idx));
    return q_int(0);
}

static int ratio_arith(lua_State *L, q_status (*fn)(q_val, q_val, q_val *))
{
    q_val a = check_num(L, 1), b = check_num(L, 2), r;
    q_status s = fn(a, b, &r);
    if (s == Q_DIV_ZERO) return luaL_error(L, "division by zero");
    if (s != Q_OK) return luaL_error(L, "arithmetic overflow");
    hook_push_num(L, r);
    return 1;
}

static int ratio_add(lua_State *L) { return ratio_arith(L, q_add); }
static int ratio_sub(lua_State *L) { return ratio_arith(L, q_sub); }
static int ratio_mul(lua_State *L) { return ratio_arith(L, q_mul); }
static int ratio_div(lua_State *L) { return ratio_arith(L, q_div); }

static int ratio_unm(lua_State *L)
{
    q_val r;
    if (q_neg(check_num(L, 1), &r) != Q_OK) return luaL_error(L, "arithmetic overflow");
    hook_push_num(L, r);
    return 1;
}

/* floor(a / b) for d > 0 */
static int64_t q_floor(q_val v)
{
    int64_t f = v.n / v.d;
    if (v.n % v.d != 0 && v.n < 0) f--;
    return f;
}

static int ratio_idiv(lua_State *L)
{
    q_val r;
    q_status s = q_div(check_num(L, 1), check_num(L, 2), &r);
    if (s == Q_DIV_ZERO) return luaL_error(L, "division by zero");
    if (s != Q_OK) return luaL_error(L, "arithmetic overflow");
    lua_pushinteger(L, q_floor(r));
    return 1;
}

static int ratio_eq(lua_State *L)
{
    lua_pushboolean(L, q_cmp(check_num(L, 1), check_num(L, 2)) == 0);
    return 1;
}

static int ratio_lt(lua_State *L)
{
    lua_pushboolean(L, q_cmp(check_num(L, 1), check_num(L, 2)) < 0);
    return 1;
}

static int ratio_le(lua_State *L)
{
    lua_pushboolean(L, q_cmp(check_num(L, 1), check_num(L, 2)) <= 0);
    return 1;
}

static int ratio_tostring(lua_State *L)
{
    char buf[96];
    q_format(check_num(L, 1), false, buf, sizeof buf);
    lua_pushstring(L, buf);
    return 1;
}

static int ratio_concat(lua_State *L)
{
    for (int i = 1; i <= 2; i++) {
        if (luaL_testudata(L, i, MT_RATIO)) {
            char buf[96];
            q_format(*(q_val *)lua_touserdata(L, i), false, buf, sizeof buf);
            lua_pushstring(L, buf);
        } else {
            size_t n;
            const char *s = lua_tolstring(L, i, &n);
            if (!s) return luaL_error(L, "attempt to concatenate a %s value", luaL_typename(L, i));
            lua_pushlstring(L, s, n);
        }
    }
    lua_concat(L, 2);
    return 1;
}

/* quy.ratio(n, d): the exact fraction n/d (an integer when d divides n) */
static int quy_ratio(lua_State *L)
{
    lua_Integer n = luaL_checkinteger(L, 1), d = luaL_optinteger(L, 2, 1);
    q_val r;
    q_status s = q_make(n, d, &r);
    if (s == Q_DIV_ZERO) return luaL_error(L, "quy.ratio: division by zero");
    if (s != Q_OK) return luaL_error(L, "quy.ratio: overflow");
    hook_push_num(L, r);
    return 1;
}

/* quy.decimal("12.5"): an exact decimal from its text */
static int quy_decimal(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    q_val r;
    if (!q_parse_decimal(s, n, &r)) return luaL_error(L, "quy.decimal: '%s' is not a decimal number", s);
    hook_push_num(L, r);
    return 1;
}

static int quy_floor(lua_State *L)
{
    lua_pushinteger(L, q_floor(check_num(L, 1)));
    return 1;
}

static int quy_ceil(lua_State *L)
{
    q_val v = check_num(L, 1);
    int64_t f = q_floor(v);
    lua_pushinteger(L, v.n % v.d != 0 ? f + 1 : f);
    return 1;
}

/* half up: floor(x + 1/2) */
static int quy_round(lua_State *L)
{
    q_val v = check_num(L, 1), r;
    if (q_add(v, (q_val){1, 2}, &r) != Q_OK) return luaL_error(L, "quy.round: overflow");
    lua_pushinteger(L, q_floor(r));
    return 1;
}

/* quy.parts(x): numerator and denominator */
static int quy_parts(lua_State *L)
{
    q_val v = check_num(L, 1);
    lua_pushinteger(L, v.n);
    lua_pushinteger(L, v.d);
    return 2;
}

/* =====================================================================
 * Enum and scale values: one userdata per member, compared by identity
 * (=) and, within one scale, by rank (<).
 * =================================================================== */

const char *hook_member_code(const q_program *p, const sb_member *m)
{
    if (m->type == QUY_NONE) return m->ord < QO__COUNT ? q_outcome_code[m->ord] : "?";
    const q_type *t = &p->types[m->type];
    return m->ord < t->count ? prog_str(p, p->members[t->first + m->ord].name) : "?";
}

const char *hook_type_word(const q_program *p, uint32_t type)
{
    if (type == QUY_NONE) return "outcome";
    if (type >= p->ntypes) return "?";
    const q_type *t = &p->types[type];
    return t->name ? prog_str(p, t->name) : q_type_kind_name[t->kind];
}

static int member_index(lua_State *L)
{
    hook_session *rt = RT(L);
    const sb_member *m = luaL_checkudata(L, 1, MT_MEMBER);
    const char *k = luaL_checkstring(L, 2);
    const q_program *p = RT_PROG(rt);
    if (strcmp(k, "code") == 0) {
        lua_pushstring(L, hook_member_code(p, m));
    } else if (strcmp(k, "label") == 0) {
        if (m->type == QUY_NONE)
            lua_pushstring(L, m->ord < QO__COUNT ? q_outcome_label[m->ord] : "");
        else
            lua_pushstring(L, prog_str(p, p->members[p->types[m->type].first + m->ord].label));
    } else if (strcmp(k, "rank") == 0) {
        lua_pushinteger(L, (lua_Integer)m->ord + 1);
    } else if (strcmp(k, "type") == 0) {
        lua_pushstring(L, hook_type_word(p, m->type));
    } else {
        lua_pushnil(L);
    }
    return 1;
}

static int member_tostring(lua_State *L)
{
    hook_session *rt = RT(L);
    const sb_member *m = luaL_checkudata(L, 1, MT_MEMBER);
    lua_pushstring(L, hook_member_code(RT_PROG(rt), m));
    return 1;
}

/* The member at idx, or NULL: its metatable is the one in upvalue 1 (a
 * raw comparison, no registry lookup: ordering is the hot path of hooks
 * that walk grade lists). */
static const sb_member *member_at(lua_State *L, int idx)
{
    const sb_member *m = lua_touserdata(L, idx);
    if (!m || !lua_getmetatable(L, idx)) return NULL;
    bool ok = lua_rawequal(L, -1, lua_upvalueindex(1));
    lua_pop(L, 1);
    return ok ? m : NULL;
}

static void member_pair(lua_State *L, const sb_member **a, const sb_member **b)
{
    hook_session *rt = RT(L);
    const q_program *p = RT_PROG(rt);
    *a = member_at(L, 1);
    *b = member_at(L, 2);
    if (!*a || !*b || (*a)->type != (*b)->type || (*a)->type == QUY_NONE || p->types[(*a)->type].kind != QT_SCALE)
        luaL_error(L, "cannot order %s and %s: only values of one scale have an order", *a ? hook_type_word(p, (*a)->type) : luaL_typename(L, 1),
                   *b ? hook_type_word(p, (*b)->type) : luaL_typename(L, 2));
}

static int member_lt(lua_State *L)
{
    const sb_member *a, *b;
    member_pair(L, &a, &b);
    lua_pushboolean(L, a->ord < b->ord);
    return 1;
}

static int member_le(lua_State *L)
{
    const sb_member *a, *b;
    member_pair(L, &a, &b);
    lua_pushboolean(L, a->ord <= b->ord);
    return 1;
}

static void new_member(lua_State *L, uint32_t type, uint32_t ord)
{
    sb_member *m = lua_newuserdatauv(L, sizeof *m, 0);
    m->type = type;
    m->ord = ord;
    luaL_setmetatable(L, MT_MEMBER);
}

/* Push member `ord` of `type` (type QUY_NONE: an outcome). */
void hook_push_member(lua_State *L, uint32_t type, uint32_t ord)
{
    lua_getfield(L, LUA_REGISTRYINDEX, REG_MEMBERS);
    lua_rawgeti(L, -1, type == QUY_NONE ? 0 : (lua_Integer)type + 1);
    if (lua_rawgeti(L, -1, (lua_Integer)ord + 1) != LUA_TUSERDATA) luaL_error(L, "value %d of type %d out of range", (int)ord, (int)type);
    lua_replace(L, -3);
    lua_pop(L, 1);
}

/* =====================================================================
 * The sandbox
 * =================================================================== */

/* A call that hit a limit cannot be caught: pcall/xpcall re-raise. */
static bool limit_hit(lua_State *L, int status) { return status == LUA_ERRMEM || RT(L)->hit != HIT_NONE; }

static int sb_pcall(lua_State *L)
{
    luaL_checkany(L, 1);
    int status = lua_pcall(L, lua_gettop(L) - 1, LUA_MULTRET, 0);
    if (limit_hit(L, status)) return lua_error(L);
    lua_pushboolean(L, status == LUA_OK);
    lua_insert(L, 1);
    return lua_gettop(L);
}

/* xpcall(f, handler, ...): f runs protected; on an error that is not a
 * limit, handler(error) is called after f has unwound, as an ordinary call
 * under the limits. Lua's own xpcall calls the handler where the error was
 * raised, which for a limit raised by the count hook means with hooks
 * disabled: a handler that loops would never stop. A hook cannot tell the
 * difference (it has no debug library to look at the stack). An error in
 * the handler is returned as xpcall's second result. */
static int sb_xpcall(lua_State *L)
{
    int n = lua_gettop(L);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_pushvalue(L, 1); /* f, then its arguments */
    for (int i = 3; i <= n; i++) lua_pushvalue(L, i);
    int status = lua_pcall(L, n - 2, LUA_MULTRET, 0);
    if (limit_hit(L, status)) return lua_error(L);
    if (status == LUA_OK) {
        lua_pushboolean(L, 1);
        lua_insert(L, n + 1);
        return lua_gettop(L) - n;
    }
    lua_pushvalue(L, 2); /* handler(error) */
    lua_insert(L, n + 1);
    status = lua_pcall(L, 1, 1, 0);
    if (limit_hit(L, status)) return lua_error(L);
    lua_pushboolean(L, 0);
    lua_insert(L, n + 1);
    return 2;
}

/* Is the string at idx `name` (the whole string: no NUL tricks)? */
static bool key_is(lua_State *L, int idx, const char *name)
{
    size_t n;
    const char *k = lua_type(L, idx) == LUA_TSTRING ? lua_tolstring(L, idx, &n) : NULL;
    return k && n == strlen(name) && memcmp(k, name, n) == 0;
}

/* __newindex of the guard (REG_META_GUARD) of a table installed as a
 * metatable: a key it does not hold yet is written through here, so a
 * __mode or __gc added after setmetatable is refused. */
static int sb_guard_newindex(lua_State *L)
{
    if (key_is(L, 2, "__mode"))
        return luaL_error(L, "weak tables (__mode) are not allowed in a hook (a metatable cannot be given a __mode "
                             "after setmetatable either)");
    if (key_is(L, 2, "__gc"))
        return luaL_error(L, "finalizers (__gc) are not allowed in a hook (a metatable cannot be given a __gc after "
                             "setmetatable either)");
    lua_settop(L, 3);
    lua_rawset(L, 1);
    return 0;
}

/* Is the metatable of the table at idx the guard? (nothing on the stack) */
static bool guarded(lua_State *L, int idx)
{
    if (!lua_getmetatable(L, idx)) return false;
    lua_getfield(L, LUA_REGISTRYINDEX, REG_META_GUARD);
    bool g = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    return g;
}

/* setmetatable, without finalizers or weak tables: a __gc would run at an
 * arbitrary later point (inside another record's call, or when the state
 * is closed) with hooks disabled; weak tables (__mode) make the collector's
 * work depend on the hook's data (ephemeron chains), with no hook running
 * while it works. A hook needs neither. The metatable gets the guard (see
 * the top of the file), so neither can be added to it later. */
static int sb_setmetatable(lua_State *L)
{
    int t = lua_type(L, 2);
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_argexpected(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table");
    if (guarded(L, 1))
        return luaL_error(L, "this table is the metatable of another table: in a hook it cannot have a metatable "
                             "of its own");
    if (luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL) return luaL_error(L, "cannot change a protected metatable");
    if (t == LUA_TTABLE) {
        lua_pushliteral(L, "__gc");
        if (lua_rawget(L, 2) != LUA_TNIL) return luaL_error(L, "finalizers (__gc) are not allowed in a hook");
        lua_pushliteral(L, "__mode");
        if (lua_rawget(L, 2) != LUA_TNIL) return luaL_error(L, "weak tables (__mode) are not allowed in a hook");
        lua_pop(L, 2);
        if (lua_rawequal(L, 1, 2)) return luaL_error(L, "a table cannot be its own metatable in a hook");
        if (!guarded(L, 2)) {
            if (lua_getmetatable(L, 2))
                return luaL_error(L, "a table that has a metatable cannot be a metatable in a hook (give the "
                                     "metatable its fields directly instead of through __index)");
            lua_getfield(L, LUA_REGISTRYINDEX, REG_META_GUARD);
            lua_setmetatable(L, 2);
        }
    }
    lua_settop(L, 2);
    lua_setmetatable(L, 1);
    return 1;
}

/* A fresh environment reading through the base (writes stay in it). */
static void new_env(lua_State *L)
{
    lua_newtable(L);
    lua_createtable(L, 0, 2);
    lua_getfield(L, LUA_REGISTRYINDEX, REG_BASE);
    lua_setfield(L, -2, "__index");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
}

/* load(text [, chunkname]): text only (never a binary chunk), in a fresh
 * sandbox environment. Returns the function, or nil and the message; a
 * memory error is not returned (it would let a hook catch the limit). */
static int sb_load(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    const char *name = luaL_optstring(L, 2, "=(load)");
    int status = luaL_loadbufferx(L, s, n, name, "t");
    if (status == LUA_ERRMEM) return lua_error(L);
    if (status != LUA_OK) {
        lua_pushnil(L);
        lua_insert(L, -2);
        return 2;
    }
    new_env(L);
    if (!lua_setupvalue(L, -2, 1)) lua_pop(L, 1);
    return 1;
}

/* Call the original library function (upvalue 1) with this call's
 * arguments, returning what it returns. */
static int sb_forward(lua_State *L)
{
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

/* Byte offset of string position `pos` (Lua's posrelatI, 1-based). */
static size_t sb_posrelat(lua_Integer pos, size_t len)
{
    if (pos > 0) return (size_t)pos;
    if (pos == 0 || pos < -(lua_Integer)len) return 1;
    return len + (size_t)pos + 1;
}

/* string.find(s, text [, init [, plain]]): a plain search, in linear time
 * (memmem; Lua's own plain search is quadratic: a 4 MiB haystack and a
 * 2 MiB needle run for hours inside one C call). A pattern is accepted
 * only if it has no special character, as Lua then searches plainly too:
 * patterns can backtrack for hours inside one C call. */
static int sb_find(lua_State *L)
{
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    size_t init = sb_posrelat(luaL_optinteger(L, 3, 1), ls) - 1;
    if (!lua_toboolean(L, 4)) {
        for (size_t i = 0; i < lp; i++)
            if (p[i] && strchr("^$*+?.([%-", p[i]))
                return luaL_error(L, "string.find: patterns are disabled in hooks; only a plain search is available "
                                     "(string.find(s, text, init, true))");
    }
    if (init > ls) {
        luaL_pushfail(L);
        return 1;
    }
    const char *f = lp == 0 ? s + init : memmem(s + init, ls - init, p, lp);
    if (!f) {
        luaL_pushfail(L);
        return 1;
    }
    lua_pushinteger(L, (lua_Integer)(f - s) + 1);
    lua_pushinteger(L, (lua_Integer)(f - s) + (lua_Integer)lp);
    return 2;
}

/* string.rep: an empty result at once (the original loops n times even
 * when each copy is empty); otherwise the result is at most the memory
 * limit long. */
static int sb_rep(lua_State *L)
{
    size_t l, lsep = 0;
    luaL_checklstring(L, 1, &l);
    lua_Integer n = luaL_checkinteger(L, 2);
    luaL_optlstring(L, 3, "", &lsep);
    if (n <= 0 || (l == 0 && (lsep == 0 || n == 1))) {
        lua_pushliteral(L, "");
        return 1;
    }
    return sb_forward(L);
}

/* table.move: bounded (the original loops without running instructions). */
static int sb_move(lua_State *L)
{
    lua_Integer f = luaL_checkinteger(L, 2), e = luaL_checkinteger(L, 3);
    if (e >= f && (lua_Unsigned)e - (lua_Unsigned)f >= HOOK_MOVE_MAX)
        return luaL_error(L, "table.move: more than %d elements", (int)HOOK_MOVE_MAX);
    return sb_forward(L);
}

/* table.insert, remove, sort, concat, unpack: the library loops in C over
 * the length the table claims, calling no hook when its __index and
 * __newindex are tables or C functions. Without __len the length is the
 * table's own, bounded by the memory limit; a __len could claim 2^63
 * (and answer differently to each question), so it is refused. */
static int sb_table_fn(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    if (luaL_getmetafield(L, 1, "__len") != LUA_TNIL)
        return luaL_error(L, "table.%s: the table has a __len metamethod; the table library in a hook works on a "
                             "table's own length only (copy it into a plain table first)",
                          lua_tostring(L, lua_upvalueindex(2)));
    return sb_forward(L);
}

/* Replace field `name` of the table at -1 by C function fn with the
 * original as its upvalue. */
static void wrap_field(lua_State *L, const char *name, lua_CFunction fn)
{
    lua_getfield(L, -1, name);
    lua_pushcclosure(L, fn, 1);
    lua_setfield(L, -2, name);
}

/* The same for a table function, with its name as upvalue 2. */
static void wrap_table_fn(lua_State *L, const char *name)
{
    lua_getfield(L, -1, name);
    lua_pushstring(L, name);
    lua_pushcclosure(L, sb_table_fn, 2);
    lua_setfield(L, -2, name);
}

static void drop_fields(lua_State *L, const char *const *names)
{
    for (; *names; names++) {
        lua_pushnil(L);
        lua_setfield(L, -2, *names);
    }
}

static void open_lib(lua_State *L, const char *name, lua_CFunction open)
{
    luaL_requiref(L, name, open, 0);
}

/* Builds the sandbox in a new state (run under lua_pcall). */
static int sb_open(lua_State *L)
{
    hook_session *rt = RT(L);
    const q_program *p = RT_PROG(rt);

    /* metatables of exact numbers and enum/scale values */
    luaL_newmetatable(L, MT_RATIO);
    static const luaL_Reg ratio_mt[] = {{"__add", ratio_add}, {"__sub", ratio_sub}, {"__mul", ratio_mul},
                                        {"__div", ratio_div}, {"__unm", ratio_unm}, {"__idiv", ratio_idiv},
                                        {"__eq", ratio_eq},   {"__lt", ratio_lt},   {"__le", ratio_le},
                                        {"__tostring", ratio_tostring}, {"__concat", ratio_concat}, {NULL, NULL}};
    luaL_setfuncs(L, ratio_mt, 0);
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);
    luaL_newmetatable(L, MT_MEMBER);
    static const luaL_Reg member_mt[] = {{"__index", member_index}, {"__tostring", member_tostring}, {NULL, NULL}};
    luaL_setfuncs(L, member_mt, 0);
    static const luaL_Reg member_order[] = {{"__lt", member_lt}, {"__le", member_le}, {NULL, NULL}};
    lua_pushvalue(L, -1);
    luaL_setfuncs(L, member_order, 1); /* upvalue: this metatable */
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);

    /* the guard of every table setmetatable installs as a metatable */
    lua_createtable(L, 0, 2);
    lua_pushcfunction(L, sb_guard_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setfield(L, LUA_REGISTRYINDEX, REG_META_GUARD);

    lua_newtable(L); /* the base every environment reads through */
    int base = lua_gettop(L);

    /* base functions that stay, and the sandboxed replacements */
    open_lib(L, LUA_GNAME, luaopen_base);
    static const char *const keep[] = {"assert", "error", "ipairs", "next", "pairs", "select", "tonumber", "tostring",
                                       "type", "getmetatable", "rawequal", "rawget", "rawlen", "_VERSION", NULL};
    for (const char *const *k = keep; *k; k++) {
        lua_getfield(L, -1, *k);
        lua_setfield(L, base, *k);
    }
    lua_pop(L, 1);
    static const luaL_Reg repl[] = {{"pcall", sb_pcall}, {"xpcall", sb_xpcall}, {"setmetatable", sb_setmetatable},
                                    {"load", sb_load}, {NULL, NULL}};
    lua_pushvalue(L, base);
    luaL_setfuncs(L, repl, 0);
    lua_pop(L, 1);

    /* string: no dump, no patterns, no binary packing */
    open_lib(L, LUA_STRLIBNAME, luaopen_string);
    static const char *const str_drop[] = {"dump", "match", "gmatch", "gsub", "pack", "packsize", "unpack", NULL};
    drop_fields(L, str_drop);
    wrap_field(L, "find", sb_find);
    wrap_field(L, "rep", sb_rep);
    /* the string metatable: __index (s:sub(...)) only, protected; Lua's
     * arithmetic on strings ("10" + 1, a float for "0.5") goes */
    lua_pushliteral(L, "");
    lua_createtable(L, 0, 2);
    lua_pushvalue(L, -3);
    lua_setfield(L, -2, "__index");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
    lua_pop(L, 1);
    make_proxy(L);
    lua_setfield(L, base, "string");

    open_lib(L, LUA_TABLIBNAME, luaopen_table);
    wrap_field(L, "move", sb_move);
    static const char *const tab_len[] = {"insert", "remove", "sort", "concat", "unpack", NULL};
    for (const char *const *f = tab_len; *f; f++) wrap_table_fn(L, *f);
    make_proxy(L);
    lua_setfield(L, base, "table");

    open_lib(L, LUA_MATHLIBNAME, luaopen_math);
    static const char *const math_drop[] = {"random", "randomseed", NULL};
    drop_fields(L, math_drop);
    make_proxy(L);
    lua_setfield(L, base, "math");

    open_lib(L, LUA_UTF8LIBNAME, luaopen_utf8);
    make_proxy(L);
    lua_setfield(L, base, "utf8");

    static const luaL_Reg quylib[] = {{"ratio", quy_ratio}, {"decimal", quy_decimal}, {"floor", quy_floor},
                                      {"ceil", quy_ceil},   {"round", quy_round},     {"parts", quy_parts},
                                      {NULL, NULL}};
    luaL_newlib(L, quylib);
    make_proxy(L);
    lua_setfield(L, base, "quy");

    /* the ruleset's enum and scale values, and the outcomes */
    lua_newtable(L);
    int members = lua_gettop(L);
    lua_createtable(L, QO__COUNT, 0);
    lua_createtable(L, 0, QO__COUNT);
    int outcome = lua_gettop(L);
    for (uint32_t t = 0; t < p->ntypes; t++) {
        const q_type *ty = &p->types[t];
        if (ty->kind != QT_ENUM && ty->kind != QT_SCALE) continue;
        lua_createtable(L, (int)ty->count, 0); /* by ordinal */
        lua_createtable(L, 0, (int)ty->count); /* by code */
        for (uint32_t i = 0; i < ty->count; i++) {
            new_member(L, t, i);
            lua_pushvalue(L, -1);
            lua_rawseti(L, -4, (lua_Integer)i + 1);
            if (t == p->tier_type) {
                lua_pushvalue(L, -1);
                lua_setfield(L, outcome, prog_str(p, p->members[ty->first + i].name));
            }
            lua_setfield(L, -2, prog_str(p, p->members[ty->first + i].name));
        }
        if (ty->name && lua_getfield(L, base, prog_str(p, ty->name)) == LUA_TNIL) {
            lua_pop(L, 1);
            make_proxy(L);
            lua_setfield(L, base, prog_str(p, ty->name));
        } else {
            lua_pop(L, ty->name ? 2 : 1);
        }
        lua_rawseti(L, members, (lua_Integer)t + 1);
    }
    for (uint32_t o = QO_NOT_RATED; o < QO__COUNT; o++) {
        new_member(L, QUY_NONE, o);
        lua_pushvalue(L, -1);
        lua_rawseti(L, outcome - 1, (lua_Integer)o + 1);
        lua_setfield(L, outcome, q_outcome_code[o]);
    }
    make_proxy(L);
    lua_setfield(L, base, "outcome");
    lua_rawseti(L, members, 0);
    lua_setfield(L, LUA_REGISTRYINDEX, REG_MEMBERS);

    lua_setfield(L, LUA_REGISTRYINDEX, REG_BASE);
    return 0;
}

bool hook_state_open(hook_session *rt)
{
    lua_State *L = lua_newstate(rt_alloc, rt);
    if (!L) return false;
    *(hook_session **)lua_getextraspace(L) = rt;
    lua_sethook(L, sb_limit_hook, LUA_MASKCOUNT | LUA_MASKCALL, HOOK_TICK);
    hook_call_begin(rt);
    lua_gc(L, LUA_GCSTOP);
    lua_pushcfunction(L, sb_open);
    if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
        lua_close(L);
        return false;
    }
    lua_gc(L, LUA_GCRESTART);
    lua_gc(L, LUA_GCGEN, 0, 0);
    rt->L = L;
    rt->st.states++;
    return true;
}

void hook_load_chunk(lua_State *L, const char *src, size_t len, const char *file, const char *name)
{
    char chunk[300];
    snprintf(chunk, sizeof chunk, "@%s", file);
    if (memchr(src, 0, len)) luaL_error(L, "%s is not a text file (it holds a NUL byte)", file);
    if (luaL_loadbufferx(L, src, len, chunk, "t") != LUA_OK) lua_error(L);
    new_env(L);
    lua_pushvalue(L, -1);
    int env = lua_gettop(L) - 1;
    if (!lua_setupvalue(L, -3, 1)) lua_pop(L, 1);
    lua_pushvalue(L, env - 1); /* the chunk */
    lua_call(L, 0, 1);
    /* freeze: what the chunk defined moves to a backing table, the
     * environment stays empty and refuses writes */
    lua_newtable(L);
    int backing = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, env)) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, backing);
    }
    lua_pushnil(L);
    while (lua_next(L, backing)) {
        lua_pop(L, 1);
        lua_pushvalue(L, -1);
        lua_pushnil(L);
        lua_rawset(L, env);
    }
    lua_createtable(L, 0, 1);
    lua_getfield(L, LUA_REGISTRYINDEX, REG_BASE);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, backing);
    lua_createtable(L, 0, 3);
    lua_pushvalue(L, backing);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, sb_readonly);
    lua_setfield(L, -2, "__newindex");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, env);
    lua_pop(L, 1); /* backing */
    /* the chunk's value: the function, or a table holding it by name */
    if (lua_type(L, -1) == LUA_TTABLE) {
        lua_pushstring(L, name);
        lua_rawget(L, -2);
        if (lua_type(L, -1) != LUA_TFUNCTION)
            luaL_error(L, "%s returns a table without a function '%s' (found a %s)", file, name, luaL_typename(L, -1));
    } else if (lua_type(L, -1) != LUA_TFUNCTION) {
        luaL_error(L, "%s must return a function (or a table of functions holding '%s'), not a %s", file, name,
                   luaL_typename(L, -1));
    }
}

