/*
 * hook.c — Lua 5.4 hooks (prefix hook_, sandbox functions sb_). See hook.h
 * for the contract and docs/hooks-guide.md for what a hook sees.
 *
 * Layout of a program's hook runtime (struct hook_rt):
 *   - a Lua state, created by the first call and closed after a limit was
 *     hit (the next call makes a new one);
 *   - per hook, a registry reference to its function (loaded on its first
 *     call, from the source embedded in the program);
 *   - an interned string set (messages, reasons, strings a hook set) that
 *     outlives the state: results of earlier records point into it;
 *   - scratch slots for record-phase adjustments.
 *
 * Every Lua operation that can raise runs inside lua_pcall (sb_open,
 * sb_body, sb_check): a Lua error never unwinds through the VM.
 */
#include "hook.h"

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOOK_TICK 1000u               /* the count hook runs every HOOK_TICK instructions */
#define HOOK_INTERN_MAX (64u << 20)   /* bytes of interned strings per program */
#define HOOK_MOVE_MAX (1u << 20)      /* elements one table.move may move */
#define ABSENT_D INT64_MIN            /* q_val.d of an absent argument */

#define MT_MEMBER "quy.member"
#define MT_RATIO "quy.ratio"
#define REG_MEMBERS "quy.members" /* registry: [type + 1] = {member userdata by ordinal + 1} */
#define REG_BASE "quy.base"       /* registry: the table every hook environment reads through */

/* One hook call in progress (or a compile-time check). */
typedef struct call {
    const q_program *p;
    const q_record *rec;
    const q_val *slots;
    const uint8_t *present;
    uint32_t h;
    const q_val *args;
    uint32_t nargs;
    q_val *result;
    hook_adj *adj;
    /* hook_check_source */
    const char *src;
    size_t len;
    const char *file;
    const char *name;
} call;

struct hook_rt {
    const q_program *p;
    lua_State *L;
    size_t mem, mem_cap;        /* bytes held by the state, and the cap */
    uint64_t ticks, max_ticks;  /* count-hook ticks this call, and the budget in ticks */
    uint64_t instructions;      /* the budget as set */
    bool budget_hit;            /* this call ran out of instructions */
    int *fn;                    /* [nhooks] registry references, LUA_NOREF until loaded */
    uint32_t nfn;
    call *cur;
    /* interned strings: open addressing, NULL = empty */
    char **set;
    uint32_t nset, capset;
    size_t setbytes;
    /* scratch record for record-phase adjustments */
    q_val *slots;
    uint8_t *present;
    uint32_t cap;
    hook_stats st;
};

typedef struct hook_rt hook_rt;

static hook_rt *RT(lua_State *L) { return *(hook_rt **)lua_getextraspace(L); }

/* =====================================================================
 * Interned strings
 * =================================================================== */

static uint64_t fnv(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* A stable NUL-terminated copy of s[0..n), shared by equal strings; NULL
 * when out of memory or over HOOK_INTERN_MAX. */
static const char *rt_intern(hook_rt *rt, const char *s, size_t n)
{
    if (rt->nset * 2 >= rt->capset) {
        uint32_t nc = rt->capset ? rt->capset * 2 : 64;
        char **ns = calloc(nc, sizeof *ns);
        if (!ns) return NULL;
        for (uint32_t i = 0; i < rt->capset; i++) {
            if (!rt->set[i]) continue;
            uint64_t j = fnv(rt->set[i], strlen(rt->set[i])) & (nc - 1);
            while (ns[j]) j = (j + 1) & (nc - 1);
            ns[j] = rt->set[i];
        }
        free(rt->set);
        rt->set = ns;
        rt->capset = nc;
    }
    uint64_t j = fnv(s, n) & (rt->capset - 1);
    for (; rt->set[j]; j = (j + 1) & (rt->capset - 1))
        if (strlen(rt->set[j]) == n && memcmp(rt->set[j], s, n) == 0) return rt->set[j];
    if (rt->setbytes + n + 1 > HOOK_INTERN_MAX) return NULL;
    char *c = malloc(n + 1);
    if (!c) return NULL;
    memcpy(c, s, n);
    c[n] = 0;
    rt->set[j] = c;
    rt->nset++;
    rt->setbytes += n + 1;
    return c;
}

static const char *rt_internf(hook_rt *rt, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const char *rt_internf(hook_rt *rt, const char *fmt, ...)
{
    char buf[1400];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0) return NULL;
    if ((size_t)n >= sizeof buf) n = (int)sizeof buf - 1;
    return rt_intern(rt, buf, (size_t)n);
}

/* =====================================================================
 * The runtime of a program
 * =================================================================== */

static hook_rt *rt_get(const q_program *p)
{
    if (p->hook_rt) return p->hook_rt;
    hook_rt *rt = calloc(1, sizeof *rt);
    if (!rt) return NULL;
    rt->p = p;
    rt->mem_cap = QUY_HOOK_MEMORY;
    rt->instructions = QUY_HOOK_INSTRUCTIONS;
    /* the one place a program changes after it is built (see program.h) */
    ((q_program *)p)->hook_rt = rt;
    return rt;
}

static void rt_close_state(hook_rt *rt)
{
    if (rt->L) lua_close(rt->L);
    rt->L = NULL;
    rt->mem = 0;
    free(rt->fn);
    rt->fn = NULL;
    rt->nfn = 0;
}

void hook_rt_free(struct hook_rt *rt)
{
    if (!rt) return;
    rt_close_state(rt);
    for (uint32_t i = 0; i < rt->capset; i++) free(rt->set[i]);
    free(rt->set);
    free(rt->slots);
    free(rt->present);
    free(rt);
}

void hook_set_limits(const q_program *p, uint64_t instructions, size_t memory)
{
    hook_rt *rt = rt_get(p);
    if (!rt) return;
    if (instructions) rt->instructions = instructions;
    if (memory) rt->mem_cap = memory;
}

hook_stats hook_get_stats(const q_program *p)
{
    hook_stats s = {0};
    if (p->hook_rt) {
        s = p->hook_rt->st;
        s.memory = p->hook_rt->mem;
    }
    return s;
}

/* The allocator of the Lua state: counts every byte, refuses past the cap
 * (Lua then collects garbage, retries, and raises a memory error). */
static void *rt_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    hook_rt *rt = ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        rt->mem -= old;
        return NULL;
    }
    if (nsize > old && (nsize - old > rt->mem_cap || rt->mem + (nsize - old) > rt->mem_cap)) return NULL;
    void *np = realloc(ptr, nsize);
    if (!np) return NULL;
    rt->mem = rt->mem - old + nsize;
    return np;
}

/* Runs every HOOK_TICK instructions: the instruction budget. Once over
 * it, every later tick raises again, so a pcall cannot keep it running. */
static void count_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    hook_rt *rt = RT(L);
    if (++rt->ticks > rt->max_ticks) {
        rt->budget_hit = true;
        lua_pushliteral(L, "instruction budget exceeded");
        lua_error(L);
    }
}

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

static void push_num(lua_State *L, q_val v)
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
    push_num(L, r);
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
    push_num(L, r);
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
    push_num(L, r);
    return 1;
}

/* quy.decimal("12.5"): an exact decimal from its text */
static int quy_decimal(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    q_val r;
    if (!q_parse_decimal(s, n, &r)) return luaL_error(L, "quy.decimal: '%s' is not a decimal number", s);
    push_num(L, r);
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

typedef struct sb_member {
    uint32_t type; /* type index; QUY_NONE: not_rated / deferred */
    uint32_t ord;  /* ordinal (outcomes: q_outcome) */
} sb_member;

static const char *member_code(const q_program *p, const sb_member *m)
{
    if (m->type == QUY_NONE) return m->ord < QO__COUNT ? q_outcome_code[m->ord] : "?";
    const q_type *t = &p->types[m->type];
    return m->ord < t->count ? prog_str(p, p->members[t->first + m->ord].name) : "?";
}

static const char *type_word(const q_program *p, uint32_t type)
{
    if (type == QUY_NONE) return "outcome";
    if (type >= p->ntypes) return "?";
    const q_type *t = &p->types[type];
    return t->name ? prog_str(p, t->name) : q_type_kind_name[t->kind];
}

static int member_index(lua_State *L)
{
    hook_rt *rt = RT(L);
    const sb_member *m = luaL_checkudata(L, 1, MT_MEMBER);
    const char *k = luaL_checkstring(L, 2);
    const q_program *p = rt->cur ? rt->cur->p : rt->p;
    if (strcmp(k, "code") == 0) {
        lua_pushstring(L, member_code(p, m));
    } else if (strcmp(k, "label") == 0) {
        if (m->type == QUY_NONE)
            lua_pushstring(L, m->ord < QO__COUNT ? q_outcome_label[m->ord] : "");
        else
            lua_pushstring(L, prog_str(p, p->members[p->types[m->type].first + m->ord].label));
    } else if (strcmp(k, "rank") == 0) {
        lua_pushinteger(L, (lua_Integer)m->ord + 1);
    } else if (strcmp(k, "type") == 0) {
        lua_pushstring(L, type_word(p, m->type));
    } else {
        lua_pushnil(L);
    }
    return 1;
}

static int member_tostring(lua_State *L)
{
    hook_rt *rt = RT(L);
    const sb_member *m = luaL_checkudata(L, 1, MT_MEMBER);
    lua_pushstring(L, member_code(rt->cur ? rt->cur->p : rt->p, m));
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
    hook_rt *rt = RT(L);
    const q_program *p = rt->cur ? rt->cur->p : rt->p;
    *a = member_at(L, 1);
    *b = member_at(L, 2);
    if (!*a || !*b || (*a)->type != (*b)->type || (*a)->type == QUY_NONE || p->types[(*a)->type].kind != QT_SCALE)
        luaL_error(L, "cannot order %s and %s: only values of one scale have an order", *a ? type_word(p, (*a)->type) : luaL_typename(L, 1),
                   *b ? type_word(p, (*b)->type) : luaL_typename(L, 2));
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
static void push_member(lua_State *L, uint32_t type, uint32_t ord)
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
static bool limit_hit(lua_State *L, int status) { return status == LUA_ERRMEM || RT(L)->budget_hit; }

static int sb_pcall(lua_State *L)
{
    luaL_checkany(L, 1);
    int status = lua_pcall(L, lua_gettop(L) - 1, LUA_MULTRET, 0);
    if (limit_hit(L, status)) return lua_error(L);
    lua_pushboolean(L, status == LUA_OK);
    lua_insert(L, 1);
    return lua_gettop(L);
}

static int sb_xpcall(lua_State *L)
{
    int n = lua_gettop(L);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_pushvalue(L, 1); /* f */
    lua_copy(L, 2, 1);   /* the handler below it */
    lua_replace(L, 2);
    int status = lua_pcall(L, n - 2, LUA_MULTRET, 1);
    if (limit_hit(L, status)) return lua_error(L);
    lua_pushboolean(L, status == LUA_OK);
    lua_replace(L, 1);
    return lua_gettop(L);
}

/* setmetatable, without finalizers: a __gc would run at an arbitrary later
 * point (inside another record's call, or when the state is closed). */
static int sb_setmetatable(lua_State *L)
{
    int t = lua_type(L, 2);
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_argexpected(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table");
    if (t == LUA_TTABLE) {
        lua_pushliteral(L, "__gc");
        if (lua_rawget(L, 2) != LUA_TNIL) return luaL_error(L, "finalizers (__gc) are not allowed in a hook");
        lua_pop(L, 1);
    }
    if (luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL) return luaL_error(L, "cannot change a protected metatable");
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
 * sandbox environment. Returns the function, or nil and the message. */
static int sb_load(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    const char *name = luaL_optstring(L, 2, "=(load)");
    if (luaL_loadbufferx(L, s, n, name, "t") != LUA_OK) {
        lua_pushnil(L);
        lua_insert(L, -2);
        return 2;
    }
    new_env(L);
    if (!lua_setupvalue(L, -2, 1)) lua_pop(L, 1);
    return 1;
}

/* string.find: plain search only. Lua patterns can backtrack for hours
 * inside one C call, where the instruction budget cannot stop them. */
static int sb_find(lua_State *L)
{
    if (!lua_toboolean(L, 4))
        return luaL_error(L, "string.find: patterns are disabled in hooks; only a plain search is available "
                             "(string.find(s, text, init, true))");
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

/* string.rep: an empty result at once (the original loops n times). */
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
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

/* table.move: bounded (the original loops without running instructions). */
static int sb_move(lua_State *L)
{
    lua_Integer f = luaL_checkinteger(L, 2), e = luaL_checkinteger(L, 3);
    if (e >= f && (lua_Unsigned)e - (lua_Unsigned)f >= HOOK_MOVE_MAX)
        return luaL_error(L, "table.move: more than %d elements", (int)HOOK_MOVE_MAX);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

/* Replace field `name` of the table at -1 by C function fn with the
 * original as its upvalue. */
static void wrap_field(lua_State *L, const char *name, lua_CFunction fn)
{
    lua_getfield(L, -1, name);
    lua_pushcclosure(L, fn, 1);
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
    hook_rt *rt = RT(L);
    const q_program *p = rt->cur ? rt->cur->p : rt->p;

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

    /* string: no dump, no patterns; and its metatable is protected */
    open_lib(L, LUA_STRLIBNAME, luaopen_string);
    static const char *const str_drop[] = {"dump", "match", "gmatch", "gsub", NULL};
    drop_fields(L, str_drop);
    wrap_field(L, "find", sb_find);
    wrap_field(L, "rep", sb_rep);
    make_proxy(L);
    lua_setfield(L, base, "string");
    lua_pushliteral(L, "");
    if (lua_getmetatable(L, -1)) {
        lua_pushboolean(L, 0);
        lua_setfield(L, -2, "__metatable");
        lua_pop(L, 1);
    }
    lua_pop(L, 1);

    open_lib(L, LUA_TABLIBNAME, luaopen_table);
    wrap_field(L, "move", sb_move);
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

static bool rt_open(hook_rt *rt)
{
    lua_State *L = lua_newstate(rt_alloc, rt);
    if (!L) return false;
    *(hook_rt **)lua_getextraspace(L) = rt;
    lua_sethook(L, count_hook, LUA_MASKCOUNT, HOOK_TICK);
    rt->max_ticks = (rt->instructions + HOOK_TICK - 1) / HOOK_TICK;
    rt->ticks = 0;
    rt->budget_hit = false;
    lua_gc(L, LUA_GCGEN, 0, 0);
    lua_pushcfunction(L, sb_open);
    if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
        lua_close(L);
        return false;
    }
    rt->L = L;
    rt->st.states++;
    return true;
}

/* Load a hook file's chunk in a fresh environment, run it, freeze the
 * environment, and leave the hook's function on the stack. */
static void load_chunk(lua_State *L, const char *src, size_t len, const char *file, const char *name)
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

/* =====================================================================
 * Values: Quy -> Lua
 * =================================================================== */

static void push_value(lua_State *L, const call *c, uint32_t type, q_val v);

static void push_scalar_or_list(lua_State *L, const call *c, uint32_t type, q_val v)
{
    const q_program *p = c->p;
    const q_type *t = &p->types[type];
    switch (t->kind) {
    case QT_INT:
    case QT_DECIMAL:
    case QT_PERCENT:
        push_num(L, v);
        break;
    case QT_BOOL: lua_pushboolean(L, v.n != 0); break;
    case QT_DATE: {
        char d[16];
        q_format_date(v.n, d);
        lua_pushstring(L, d);
        break;
    }
    case QT_STRING: lua_pushlstring(L, (const char *)(intptr_t)v.n, (size_t)v.d); break;
    case QT_ENUM:
    case QT_SCALE: push_member(L, type, (uint32_t)v.n); break;
    case QT_LIST: {
        const q_type *et = &p->types[t->elem];
        uint64_t stride = et->kind == QT_STRUCT ? et->count : 1;
        if (v.n < 0 || v.d < 0 || (uint64_t)v.n + (uint64_t)v.d * stride > c->rec->nelems)
            luaL_error(L, "a list argument lies outside the record");
        lua_createtable(L, (int)v.d, 0);
        bool members = v.d > 0 && (et->kind == QT_ENUM || et->kind == QT_SCALE);
        for (int64_t i = 0; i < v.d; i++) {
            const q_val *e = &c->rec->elems[(uint64_t)v.n + (uint64_t)i * stride];
            if (et->kind == QT_STRUCT) {
                lua_createtable(L, 0, (int)et->count);
                for (uint32_t f = 0; f < et->count; f++) {
                    const q_field *sf = &p->fields[et->first + f];
                    push_value(L, c, sf->type, e[f]);
                    lua_setfield(L, -2, prog_str(p, sf->name));
                }
            } else if (et->kind == QT_ENUM || et->kind == QT_SCALE) {
                if (i == 0) { /* the type's members, once per list, below the list */
                    lua_getfield(L, LUA_REGISTRYINDEX, REG_MEMBERS);
                    lua_rawgeti(L, -1, (lua_Integer)t->elem + 1);
                    lua_replace(L, -2);
                    lua_insert(L, -2);
                }
                if (lua_rawgeti(L, -2, e->n + 1) != LUA_TUSERDATA) luaL_error(L, "a list value out of range");
            } else {
                push_value(L, c, t->elem, *e);
            }
            lua_rawseti(L, -2, i + 1);
        }
        if (members) lua_remove(L, -2); /* the type's members */
        break;
    }
    default: luaL_error(L, "a %s cannot be passed to a hook", q_type_kind_name[t->kind]);
    }
}

static void push_value(lua_State *L, const call *c, uint32_t type, q_val v)
{
    if (v.d == ABSENT_D) {
        lua_pushnil(L);
        return;
    }
    luaL_checkstack(L, 4, "value");
    push_scalar_or_list(L, c, type, v);
}

/* =====================================================================
 * Values: Lua -> Quy (results), checked against the declared type
 * =================================================================== */

/* "a string ("httnv")", "a float (0.5)", "a table" */
static const char *describe(lua_State *L, int idx, char *buf, size_t size)
{
    switch (lua_type(L, idx)) {
    case LUA_TSTRING: snprintf(buf, size, "a string (\"%.60s\")", lua_tostring(L, idx)); break;
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx))
            snprintf(buf, size, "an integer (%lld)", (long long)lua_tointeger(L, idx));
        else
            snprintf(buf, size, "a float (%.17g)", (double)lua_tonumber(L, idx));
        break;
    case LUA_TBOOLEAN: snprintf(buf, size, "a boolean (%s)", lua_toboolean(L, idx) ? "true" : "false"); break;
    case LUA_TNIL: snprintf(buf, size, "nil"); break;
    case LUA_TUSERDATA: {
        const sb_member *m = luaL_testudata(L, idx, MT_MEMBER);
        if (m) {
            hook_rt *rt = RT(L);
            snprintf(buf, size, "a %s value (%s)", type_word(rt->cur->p, m->type), member_code(rt->cur->p, m));
        } else if (luaL_testudata(L, idx, MT_RATIO)) {
            char v[64];
            q_format(*(q_val *)lua_touserdata(L, idx), false, v, sizeof v);
            snprintf(buf, size, "a fraction (%s)", v);
        } else {
            snprintf(buf, size, "a userdata");
        }
        break;
    }
    default: snprintf(buf, size, "a %s", luaL_typename(L, idx)); break;
    }
    return buf;
}

/* Raise "WHAT is X where TYPE is declared" (with a hint for members). */
static int wrong_type(lua_State *L, const call *c, int idx, uint32_t type, const char *what)
{
    char d[128];
    const char *tw = type_word(c->p, type);
    describe(L, idx, d, sizeof d);
    if (type < c->p->ntypes && (c->p->types[type].kind == QT_ENUM || c->p->types[type].kind == QT_SCALE) &&
        lua_type(L, idx) == LUA_TSTRING && c->p->types[type].name)
        return luaL_error(L, "%s is %s where %s is declared (write %s.%s, not a string)", what, d, tw, tw,
                          lua_tostring(L, idx));
    if (lua_type(L, idx) == LUA_TNUMBER && !lua_isinteger(L, idx))
        return luaL_error(L, "%s is %s where %s is declared (floating point is not exact: use integers, // or quy.ratio)",
                          what, d, tw);
    return luaL_error(L, "%s is %s where %s is declared", what, d, tw);
}

static q_val to_value(lua_State *L, const call *c, int idx, uint32_t type, const char *what)
{
    hook_rt *rt = RT(L);
    const q_program *p = c->p;
    const q_type *t = &p->types[type];
    switch (t->kind) {
    case QT_INT:
        if (lua_isinteger(L, idx)) return q_int(lua_tointeger(L, idx));
        break;
    case QT_DECIMAL:
    case QT_PERCENT:
        if (lua_isinteger(L, idx)) return q_int(lua_tointeger(L, idx));
        if (luaL_testudata(L, idx, MT_RATIO)) return *(q_val *)lua_touserdata(L, idx);
        break;
    case QT_BOOL:
        if (lua_type(L, idx) == LUA_TBOOLEAN) return q_bool(lua_toboolean(L, idx));
        break;
    case QT_DATE:
        if (lua_type(L, idx) == LUA_TSTRING) {
            size_t n;
            const char *s = lua_tolstring(L, idx, &n);
            int64_t days;
            if (n == 10 && q_parse_date(s, n, &days)) return q_int(days);
            luaL_error(L, "%s is the string \"%s\" where a date (\"YYYY-MM-DD\") is declared", what, s);
        }
        break;
    case QT_STRING:
        if (lua_type(L, idx) == LUA_TSTRING) {
            size_t n;
            const char *s = lua_tolstring(L, idx, &n);
            const char *k = rt_intern(rt, s, n);
            if (!k) luaL_error(L, "out of memory keeping a string");
            return (q_val){(int64_t)(intptr_t)k, (int64_t)n};
        }
        break;
    case QT_ENUM:
    case QT_SCALE: {
        const sb_member *m = luaL_testudata(L, idx, MT_MEMBER);
        if (m && m->type == type) return q_int(m->ord);
        break;
    }
    default: luaL_error(L, "%s: a %s cannot be a hook's result", what, q_type_kind_name[t->kind]);
    }
    wrong_type(L, c, idx, type, what);
    return q_int(0);
}

/* A value for a note: "12", "50%", "httnv", "2024-01-31", "\"x\"". */
static void fmt_note_value(const q_program *p, uint32_t type, q_val v, char *buf, size_t size)
{
    const q_type *t = &p->types[type];
    switch (t->kind) {
    case QT_INT:
    case QT_DECIMAL: q_format(v, false, buf, size); break;
    case QT_PERCENT: q_format(v, true, buf, size); break;
    case QT_BOOL: snprintf(buf, size, "%s", v.n ? "true" : "false"); break;
    case QT_DATE: {
        char d[16];
        q_format_date(v.n, d);
        snprintf(buf, size, "%s", d);
        break;
    }
    case QT_STRING: snprintf(buf, size, "\"%.*s\"", (int)(v.d < 200 ? v.d : 200), (const char *)(intptr_t)v.n); break;
    case QT_ENUM:
    case QT_SCALE:
        snprintf(buf, size, "%s", v.n >= 0 && (uint64_t)v.n < t->count ? prog_str(p, p->members[t->first + v.n].name) : "?");
        break;
    default: snprintf(buf, size, "…"); break;
    }
}

/* An adjustment: nil, or {reason = STR [, tier = T] [, fields = {...}]},
 * read raw (no metamethod runs). */
static void to_adjustment(lua_State *L, const call *c, int idx)
{
    hook_rt *rt = RT(L);
    const q_program *p = c->p;
    hook_adj *a = c->adj;
    if (lua_type(L, idx) == LUA_TNIL) {
        *c->result = q_bool(false);
        return;
    }
    char d[128];
    if (lua_type(L, idx) != LUA_TTABLE)
        luaL_error(L, "the result is %s where an adjustment (nil, or a table {reason = ..., tier = ..., fields = {...}}) "
                      "is declared", describe(L, idx, d, sizeof d));
    idx = lua_absindex(L, idx);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
        if (!k || (strcmp(k, "reason") && strcmp(k, "tier") && strcmp(k, "fields")))
            luaL_error(L, "unknown key %s%s%s in the adjustment (expected reason, tier, fields)", k ? "'" : "",
                       k ? k : describe(L, -2, d, sizeof d), k ? "'" : "");
        lua_pop(L, 1);
    }
    lua_pushliteral(L, "reason"); /* raw reads: the table's metatable is not trusted */
    lua_rawget(L, idx);
    if (lua_type(L, -1) != LUA_TSTRING)
        luaL_error(L, "the adjustment's reason is %s: a reason (a string) is required", describe(L, -1, d, sizeof d));
    size_t rlen;
    const char *reason = lua_tolstring(L, -1, &rlen);
    if (rlen == 0) luaL_error(L, "the adjustment's reason is empty");
    if (rlen > QUY_HOOK_MAX_REASON) luaL_error(L, "the adjustment's reason is longer than %d bytes", QUY_HOOK_MAX_REASON);

    lua_pushliteral(L, "tier");
    if (lua_rawget(L, idx) != LUA_TNIL) {
        const sb_member *m = luaL_testudata(L, -1, MT_MEMBER);
        if (m && m->type == p->tier_type)
            a->outcome = (uint8_t)m->ord;
        else if (m && m->type == QUY_NONE)
            a->outcome = (uint8_t)m->ord;
        else
            luaL_error(L, "the adjustment's tier is %s where a tier (tier.httnv, outcome.not_rated, ...) is declared",
                       describe(L, -1, d, sizeof d));
    }
    lua_pop(L, 1);

    char changes[1200];
    size_t cl = 0;
    changes[0] = 0;
    lua_pushliteral(L, "fields");
    if (lua_rawget(L, idx) != LUA_TNIL) {
        if (lua_type(L, -1) != LUA_TTABLE)
            luaL_error(L, "the adjustment's fields is %s, not a table {field = value}", describe(L, -1, d, sizeof d));
        int ft = lua_gettop(L);
        uint32_t k = c->rec->kind;
        lua_pushnil(L);
        while (lua_next(L, ft)) {
            if (lua_type(L, -2) != LUA_TSTRING) luaL_error(L, "the adjustment's fields: a key is not a field name");
            size_t nl;
            const char *fname = lua_tolstring(L, -2, &nl);
            uint32_t fi = prog_find_field(p, k, fname, nl);
            if (fi == QUY_NONE)
                luaL_error(L, "the adjustment sets '%s', which is not a field of %s", fname, prog_str(p, p->kinds[k].name));
            const q_field *f = &p->fields[fi];
            uint8_t tk = p->types[f->type].kind;
            if (tk == QT_LIST || tk == QT_STRUCT) luaL_error(L, "the adjustment sets '%s': a list cannot be set", fname);
            if (a->npatch >= QUY_HOOK_MAX_PATCH)
                luaL_error(L, "the adjustment sets more than %d fields", QUY_HOOK_MAX_PATCH);
            char what[200];
            snprintf(what, sizeof what, "field '%s' of the adjustment", fname);
            q_val v = to_value(L, c, -1, f->type, what);
            uint16_t slot = f->slot;
            a->slot[a->npatch] = slot;
            a->val[a->npatch++] = v;
            char ov[96], nv[96];
            if (c->present[slot])
                fmt_note_value(p, f->type, c->slots[slot], ov, sizeof ov);
            else
                snprintf(ov, sizeof ov, "không có");
            fmt_note_value(p, f->type, v, nv, sizeof nv);
            if (cl < sizeof changes) {
                int w = snprintf(changes + cl, sizeof changes - cl, "%s%s: %s → %s", cl ? "; " : "", fname, ov, nv);
                if (w > 0) cl += (size_t)w;
            }
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);

    const char *note;
    if (a->npatch)
        note = rt_internf(rt, "%.*s (%s)", (int)rlen, reason, changes);
    else
        note = rt_intern(rt, reason, rlen);
    if (!note) luaL_error(L, "out of memory keeping the reason");
    a->note = note;
    a->set = 1;
    *c->result = q_bool(true);
}

/* =====================================================================
 * Calls
 * =================================================================== */

/* The protected body of a call: load the hook if needed, convert the
 * arguments, call, check the result. */
static int sb_body(lua_State *L)
{
    hook_rt *rt = RT(L);
    const call *c = rt->cur;
    const q_program *p = c->p;
    const q_hook *hk = &p->hooks[c->h];
    if (!rt->fn) {
        rt->fn = malloc((p->nhooks ? p->nhooks : 1) * sizeof *rt->fn);
        if (!rt->fn) return luaL_error(L, "out of memory");
        rt->nfn = p->nhooks;
        for (uint32_t i = 0; i < rt->nfn; i++) rt->fn[i] = LUA_NOREF;
    }
    if (rt->fn[c->h] == LUA_NOREF) {
        const char *src = prog_str(p, hk->source);
        load_chunk(L, src, strlen(src), prog_str(p, hk->file), prog_str(p, hk->name));
        rt->fn[c->h] = luaL_ref(L, LUA_REGISTRYINDEX);
        lua_settop(L, 0);
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, rt->fn[c->h]);
    luaL_checkstack(L, (int)c->nargs + 8, "hook arguments");
    for (uint32_t i = 0; i < c->nargs; i++) push_value(L, c, p->params[hk->first_param + i].type, c->args[i]);
    lua_call(L, (int)c->nargs, 1);
    if (hk->result == QUY_NONE)
        to_adjustment(L, c, -1);
    else
        *c->result = to_value(L, c, -1, hk->result, "the result");
    return 0;
}

int hook_call(const q_program *p, const q_record *rec, const q_val *slots, const uint8_t *present, uint32_t h,
              const q_val *args, uint32_t nargs, q_val *result, hook_adj *adj, const char **error)
{
    static const char oom[] = "hook: out of memory (không đủ bộ nhớ)";
    adj->set = 0;
    adj->outcome = QO__COUNT;
    adj->npatch = 0;
    adj->note = NULL;
    *result = q_bool(false);
    hook_rt *rt = rt_get(p);
    if (!rt) {
        *error = oom;
        return -1;
    }
    rt->st.calls++;
    if (h >= p->nhooks || nargs != p->hooks[h].nparams) {
        rt->st.errors++;
        *error = rt_internf(rt, "hook %u: no such hook, or called with %u arguments", h, nargs);
        if (!*error) *error = oom;
        return -1;
    }
    const q_hook *hk = &p->hooks[h];
    call c = {.p = p, .rec = rec, .slots = slots, .present = present, .h = h, .args = args, .nargs = nargs,
              .result = result, .adj = adj};
    rt->cur = &c;
    if (!rt->L && !rt_open(rt)) {
        rt->cur = NULL;
        rt->st.errors++;
        *error = hook_message(p, h, "không tạo được môi trường Lua (cannot create the Lua state: out of memory)");
        if (!*error) *error = oom;
        return -1;
    }
    lua_State *L = rt->L;
    rt->max_ticks = (rt->instructions + HOOK_TICK - 1) / HOOK_TICK;
    rt->ticks = 0;
    rt->budget_hit = false;
    lua_settop(L, 0);
    lua_pushcfunction(L, sb_body);
    int status = lua_pcall(L, 0, 0, 0);
    rt->cur = NULL;
    if (status == LUA_OK && !rt->budget_hit) {
        lua_settop(L, 0);
        return 0;
    }
    rt->st.errors++;
    adj->set = 0;
    const char *name = prog_str(p, hk->name), *file = prog_str(p, hk->file);
    if (rt->budget_hit) {
        *error = rt_internf(rt, "hook '%s' (%s): vượt giới hạn %llu lệnh Lua cho một lần gọi (instruction budget exceeded)",
                            name, file, (unsigned long long)rt->instructions);
    } else if (status == LUA_ERRMEM) {
        *error = rt_internf(rt, "hook '%s' (%s): vượt giới hạn bộ nhớ %zu byte (memory limit exceeded)", name, file,
                            rt->mem_cap);
    } else {
        const char *msg = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        if (msg)
            *error = rt_internf(rt, "hook '%s' (%s): %.1100s", name, file, msg);
        else
            *error = rt_internf(rt, "hook '%s' (%s): raised a %s value as its error", name, file, luaL_typename(L, -1));
    }
    if (!*error) *error = oom;
    if (rt->budget_hit || status == LUA_ERRMEM)
        rt_close_state(rt); /* the next call starts from a fresh state */
    else
        lua_settop(L, 0);
    return -1;
}

const char *hook_message(const q_program *p, uint32_t h, const char *fmt, ...)
{
    hook_rt *rt = rt_get(p);
    if (!rt) return NULL;
    char msg[1100];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (h < p->nhooks)
        return rt_internf(rt, "hook '%s' (%s): %s", prog_str(p, p->hooks[h].name), prog_str(p, p->hooks[h].file), msg);
    return rt_intern(rt, msg, strlen(msg));
}

int hook_patch(const q_program *p, const q_record *rec, const hook_adj *adj, const q_val **slots,
               const uint8_t **present, const char **error)
{
    hook_rt *rt = rt_get(p);
    uint32_t n = rec->kind < p->nkinds ? p->kinds[rec->kind].nfields : 0;
    if (!rt) {
        *error = "hook: out of memory (không đủ bộ nhớ)";
        return -1;
    }
    if (*slots != rt->slots) {
        if (n > rt->cap) {
            q_val *s = realloc(rt->slots, n * sizeof *s);
            if (s) rt->slots = s;
            uint8_t *pr = realloc(rt->present, n);
            if (pr) rt->present = pr;
            if (!s || !pr) {
                *error = "hook: out of memory (không đủ bộ nhớ)";
                return -1;
            }
            rt->cap = n;
        }
        if (n) {
            memcpy(rt->slots, *slots, n * sizeof *rt->slots);
            memcpy(rt->present, *present, n);
        }
        *slots = rt->slots;
        *present = rt->present;
    }
    for (uint16_t i = 0; i < adj->npatch; i++) {
        if (adj->slot[i] >= n) {
            *error = "hook: an adjustment sets a field outside the record";
            return -1;
        }
        rt->slots[adj->slot[i]] = adj->val[i];
        rt->present[adj->slot[i]] = 1;
    }
    return 0;
}

/* =====================================================================
 * Compile-time check
 * =================================================================== */

static int sb_check(lua_State *L)
{
    hook_rt *rt = RT(L);
    const call *c = rt->cur;
    load_chunk(L, c->src, c->len, c->file, c->name);
    return 0;
}

bool hook_check_source(const q_program *p, const char *name, const char *file, const char *src, size_t len,
                       char *err, size_t errsize)
{
    hook_rt rt;
    memset(&rt, 0, sizeof rt);
    rt.p = p;
    rt.mem_cap = QUY_HOOK_MEMORY;
    rt.instructions = QUY_HOOK_INSTRUCTIONS;
    call c = {.p = p, .src = src, .len = len, .file = file, .name = name};
    rt.cur = &c;
    bool ok = false;
    if (!rt_open(&rt)) {
        snprintf(err, errsize, "cannot create the Lua state (out of memory)");
        goto done;
    }
    rt.ticks = 0;
    rt.budget_hit = false;
    lua_pushcfunction(rt.L, sb_check);
    int status = lua_pcall(rt.L, 0, 0, 0);
    if (rt.budget_hit)
        snprintf(err, errsize, "running %s went over the instruction budget (%u)", file, QUY_HOOK_INSTRUCTIONS);
    else if (status == LUA_ERRMEM)
        snprintf(err, errsize, "running %s went over the memory limit (%u bytes)", file, QUY_HOOK_MEMORY);
    else if (status != LUA_OK)
        snprintf(err, errsize, "%s", lua_type(rt.L, -1) == LUA_TSTRING ? lua_tostring(rt.L, -1) : "error");
    else
        ok = true;
done:
    rt.cur = NULL;
    rt_close_state(&rt);
    for (uint32_t i = 0; i < rt.capset; i++) free(rt.set[i]);
    free(rt.set);
    return ok;
}
