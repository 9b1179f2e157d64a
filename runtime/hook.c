/*
 * hook.c — Lua 5.4 hooks (prefix hook_): calls, values, interned strings. See hook.h
 * for the contract and docs/hooks-guide.md for what a hook sees.
 *
 * Layout of a hook session (struct hook_session, one per thread and
 * program; the program itself is never changed):
 *   - a Lua state, created by the first call and closed after a limit was
 *     hit (the next call makes a new one);
 *   - per hook, a registry reference to its function (loaded on its first
 *     call, from the source embedded in the program);
 *   - an interned string set (messages, reasons, strings a hook set) that
 *     outlives the state: results of earlier records point into it;
 *   - scratch slots for record-phase adjustments.
 *
 * Every Lua operation that can raise runs inside lua_pcall (sb_open,
 * sb_body, sb_check): a Lua error never unwinds through the VM. The Lua
 * environment and the limits are in hook_sandbox.c.
 */
#include <lauxlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hook_impl.h"
#include "vec.h"

#define HOOK_INTERN_MAX (64u << 20)   /* bytes of interned strings per session (the oom message says 64 MiB) */
#define ABSENT_D INT64_MIN            /* q_val.d of an absent argument */

/* =====================================================================
 * Interned strings
 * =================================================================== */

/* A stable NUL-terminated copy of s[0..n), shared by equal strings; NULL
 * when out of memory or over HOOK_INTERN_MAX. */
static const char *rt_intern(hook_session *rt, const char *s, size_t n)
{
    const uint32_t *idx = strset_get(&rt->set, s, n);
    if (idx) return rt->strs[*idx];
    if (rt->setbytes + n + 1 > HOOK_INTERN_MAX || rt->nstrs >= UINT32_MAX) return NULL;
    if (VEC_RESERVE(rt->strs, rt->nstrs, rt->capstrs, 1) != 0) return NULL;
    char *c = malloc(n + 1);
    if (!c) return NULL;
    if (strset_add(&rt->set, s, n, (uint32_t)rt->nstrs, NULL) < 0) {
        free(c);
        return NULL;
    }
    memcpy(c, s, n);
    c[n] = 0;
    rt->strs[rt->nstrs++] = c;
    rt->setbytes += n + 1;
    return c;
}

static void rt_strings_free(hook_session *rt)
{
    for (size_t i = 0; i < rt->nstrs; i++) free(rt->strs[i]);
    free(rt->strs);
    rt->strs = NULL;
    rt->nstrs = rt->capstrs = 0;
    strset_free(&rt->set);
    rt->setbytes = 0;
}

static const char *rt_internf(hook_session *rt, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const char *rt_internf(hook_session *rt, const char *fmt, ...)
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

hook_session *hook_session_new(const q_program *p, const hook_limits *lim)
{
    hook_session *rt = calloc(1, sizeof *rt);
    if (!rt) return NULL;
    rt->p = p;
    rt->lim = hook_limits_default();
    if (lim) hook_session_set_limits(rt, lim);
    return rt;
}

static void rt_close_state(hook_session *rt)
{
    if (rt->L) lua_close(rt->L);
    rt->L = NULL;
    rt->mem = 0;
    free(rt->fn);
    rt->fn = NULL;
    rt->nfn = 0;
}

void hook_session_release_strings(hook_session *rt)
{
    if (!rt) return;
    rt_strings_free(rt);
}

void hook_session_free(hook_session *rt)
{
    if (!rt) return;
    rt_close_state(rt);
    hook_session_release_strings(rt);
    free(rt->slots);
    free(rt->present);
    free(rt);
}

const q_program *hook_session_program(const hook_session *hs) { return hs ? hs->p : NULL; }

hook_limits hook_limits_default(void)
{
    return (hook_limits){.instructions = QUY_HOOK_INSTRUCTIONS, .memory = QUY_HOOK_MEMORY, .cpu_ms = QUY_HOOK_CPU_MS};
}

void hook_session_set_limits(hook_session *rt, const hook_limits *lim)
{
    if (!rt || !lim) return;
    if (lim->instructions) rt->lim.instructions = lim->instructions;
    if (lim->memory) rt->lim.memory = lim->memory;
    if (lim->cpu_ms) rt->lim.cpu_ms = lim->cpu_ms;
}

hook_limits hook_session_limits(const hook_session *hs) { return hs ? hs->lim : hook_limits_default(); }

hook_stats hook_session_stats(const hook_session *rt)
{
    hook_stats s = {0};
    if (rt) {
        s = rt->st;
        s.memory = rt->mem;
        s.strings = rt->setbytes;
    }
    return s;
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
        hook_push_num(L, v);
        break;
    case QT_BOOL: lua_pushboolean(L, v.n != 0); break;
    case QT_DATE: {
        char d[16];
        q_format_date(v.n, d);
        lua_pushstring(L, d);
        break;
    }
    case QT_STRING: lua_pushlstring(L, q_val_str(v), q_val_len(v)); break;
    case QT_ENUM:
    case QT_SCALE: hook_push_member(L, type, (uint32_t)v.n); break;
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
            hook_session *rt = RT(L);
            snprintf(buf, size, "a %s value (%s)", hook_type_word(rt->cur->p, m->type), hook_member_code(rt->cur->p, m));
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
    const char *tw = hook_type_word(c->p, type);
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
    hook_session *rt = RT(L);
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
            return q_str(k, n);
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
/* A value in an adjustment's note, pushed as a Lua string (whole: a long
 * string field is not cut). */
static void push_note_value(lua_State *L, const q_program *p, uint32_t type, q_val v)
{
    const q_type *t = &p->types[type];
    char buf[128]; /* a number, a bool or a date: q_format's longest is under 100 bytes */
    switch (t->kind) {
    case QT_INT:
    case QT_DECIMAL: q_format(v, false, buf, sizeof buf); break;
    case QT_PERCENT: q_format(v, true, buf, sizeof buf); break;
    case QT_BOOL: snprintf(buf, sizeof buf, "%s", v.n ? "true" : "false"); break;
    case QT_DATE: q_format_date(v.n, buf); break;
    case QT_STRING:
        lua_pushliteral(L, "\"");
        lua_pushlstring(L, q_val_str(v), q_val_len(v));
        lua_pushliteral(L, "\"");
        lua_concat(L, 3);
        return;
    case QT_ENUM:
    case QT_SCALE:
        lua_pushstring(L, v.n >= 0 && (uint64_t)v.n < t->count ? prog_str(p, p->members[t->first + v.n].name) : "?");
        return;
    default: snprintf(buf, sizeof buf, "…"); break;
    }
    lua_pushstring(L, buf);
}

/* An adjustment: nil, or {reason = STR [, tier = T] [, fields = {...}]},
 * read raw (no metamethod runs). */
static void to_adjustment(lua_State *L, const call *c, int idx)
{
    hook_session *rt = RT(L);
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

    lua_pushliteral(L, ""); /* the changes, "field: old → new; ...", on the Lua stack (no length limit) */
    int changes = lua_gettop(L);
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
            snprintf(what, sizeof what, "field '%.150s' of the adjustment", fname);
            q_val v = to_value(L, c, -1, f->type, what);
            uint16_t slot = f->slot;
            a->slot[a->npatch] = slot;
            a->val[a->npatch++] = v;
            int top = lua_gettop(L);
            lua_pushvalue(L, changes);
            if (a->npatch > 1) lua_pushliteral(L, "; ");
            lua_pushlstring(L, fname, nl);
            lua_pushliteral(L, ": ");
            if (c->present[slot]) push_note_value(L, p, f->type, c->slots[slot]);
            else lua_pushliteral(L, "không có");
            lua_pushliteral(L, " → ");
            push_note_value(L, p, f->type, v);
            lua_concat(L, lua_gettop(L) - top);
            lua_replace(L, changes);
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);

    const char *note;
    if (a->npatch) {
        lua_pushlstring(L, reason, rlen);
        lua_pushliteral(L, " (");
        lua_pushvalue(L, changes);
        lua_pushliteral(L, ")");
        lua_concat(L, 4);
        size_t nl;
        const char *s = lua_tolstring(L, -1, &nl);
        note = rt_intern(rt, s, nl);
        lua_pop(L, 1);
    } else {
        note = rt_intern(rt, reason, rlen);
    }
    lua_pop(L, 1); /* the changes */
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
    hook_session *rt = RT(L);
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
        hook_load_chunk(L, src, strlen(src), prog_str(p, hk->file), prog_str(p, hk->name));
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

static const char no_session[] = "hook: không có phiên chạy hook cho bộ quy tắc này (no hook session for this "
                                 "program: the caller passes one made by hook_session_new)";

int hook_call(hook_session *rt, const q_program *p, const q_record *rec, const q_val *slots, const uint8_t *present,
              uint32_t h, const q_val *args, uint32_t nargs, q_val *result, hook_adj *adj, const char **error)
{
    static const char oom[] = "hook: không đủ bộ nhớ (out of memory, or over the 64 MiB of messages and reasons a hook "
                              "session keeps: see hook_session_release_strings)";
    adj->set = 0;
    adj->outcome = QO__COUNT;
    adj->npatch = 0;
    adj->note = NULL;
    *result = q_bool(false);
    if (!rt || rt->p != p) {
        *error = no_session;
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
    if (!rt->L && !hook_state_open(rt)) {
        rt->cur = NULL;
        rt->st.errors++;
        *error = hook_message(rt, h, "không tạo được môi trường Lua (cannot create the Lua state: out of memory)");
        if (!*error) *error = oom;
        return -1;
    }
    lua_State *L = rt->L;
    hook_call_begin(rt);
    lua_settop(L, 0);
    lua_pushcfunction(L, sb_body);
    int status = lua_pcall(L, 0, 0, 0);
    rt->cur = NULL;
    if (status == LUA_OK && rt->hit == HIT_NONE) {
        lua_settop(L, 0);
        return 0;
    }
    rt->st.errors++;
    adj->set = 0;
    const char *name = prog_str(p, hk->name), *file = prog_str(p, hk->file);
    char lim[160];
    bool limit = hook_limit_text(rt, status, lim, sizeof lim) != NULL;
    if (limit) {
        *error = rt_internf(rt, "hook '%s' (%s): %s", name, file, lim);
    } else {
        const char *msg = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        if (msg)
            *error = rt_internf(rt, "hook '%s' (%s): %.1100s", name, file, msg);
        else
            *error = rt_internf(rt, "hook '%s' (%s): raised a %s value as its error", name, file, luaL_typename(L, -1));
    }
    if (!*error) *error = oom;
    if (limit)
        rt_close_state(rt); /* the next call starts from a fresh state */
    else
        lua_settop(L, 0);
    return -1;
}

const char *hook_message(hook_session *rt, uint32_t h, const char *fmt, ...)
{
    if (!rt) return no_session;
    const q_program *p = rt->p;
    char msg[1100];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (h < p->nhooks)
        return rt_internf(rt, "hook '%s' (%s): %s", prog_str(p, p->hooks[h].name), prog_str(p, p->hooks[h].file), msg);
    return rt_intern(rt, msg, strlen(msg));
}

int hook_patch(hook_session *rt, const q_record *rec, const hook_adj *adj, const q_val **slots,
               const uint8_t **present, const char **error)
{
    if (!rt) {
        *error = no_session;
        return -1;
    }
    const q_program *p = rt->p;
    uint32_t n = rec->kind < p->nkinds ? p->kinds[rec->kind].nfields : 0;
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
    hook_session *rt = RT(L);
    const call *c = rt->cur;
    hook_load_chunk(L, c->src, c->len, c->file, c->name);
    return 0;
}

bool hook_check_source(const q_program *p, const char *name, const char *file, const char *src, size_t len,
                       char *err, size_t errsize)
{
    hook_limits lim = hook_limits_default();
    return hook_check_source_limits(p, name, file, src, len, &lim, err, errsize);
}

bool hook_check_source_limits(const q_program *p, const char *name, const char *file, const char *src, size_t len,
                              const hook_limits *limits, char *err, size_t errsize)
{
    hook_session rt;
    memset(&rt, 0, sizeof rt);
    rt.p = p;
    rt.lim = *limits;
    call c = {.p = p, .src = src, .len = len, .file = file, .name = name};
    rt.cur = &c;
    bool ok = false;
    if (!hook_state_open(&rt)) {
        snprintf(err, errsize, "cannot create the Lua state (out of memory)");
        goto done;
    }
    hook_call_begin(&rt);
    lua_pushcfunction(rt.L, sb_check);
    int status = lua_pcall(rt.L, 0, 0, 0);
    char lim[160];
    if (hook_limit_text(&rt, status, lim, sizeof lim))
        snprintf(err, errsize, "running %s when it is loaded: %s", file, lim);
    else if (status != LUA_OK)
        snprintf(err, errsize, "%s", lua_type(rt.L, -1) == LUA_TSTRING ? lua_tostring(rt.L, -1) : "error");
    else
        ok = true;
done:
    rt.cur = NULL;
    rt_close_state(&rt);
    rt_strings_free(&rt);
    return ok;
}
