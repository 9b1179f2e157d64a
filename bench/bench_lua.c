/*
 * bench_lua.c — the benchmark's Lua 5.4 mode: central124.lua over one Lua
 * table per record, through the Lua library the project links.
 *
 * The tables are built once, before timing, from the same bench_rec array
 * the other modes use, with the fields a JSON decoder would give a Lua user
 * (strings for enums, nil for absent optional fields, percents as numbers).
 * Two ways to drive it are timed: rate_all, a Lua loop over the array (what
 * a user writes, and the figure reported), and one lua_call from C per
 * record. Both store each result in a Lua array `out`, so neither allocates
 * while timed (the result strings are interned constants).
 */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

struct bench_lua {
    lua_State *L;
    size_t n;
    int records; /* registry refs */
    int out;
    int rate;
    int rate_all;
};

static void set_int(lua_State *L, const char *k, lua_Integer v)
{
    lua_pushinteger(L, v);
    lua_setfield(L, -2, k);
}

static void set_bool(lua_State *L, const char *k, bool v)
{
    lua_pushboolean(L, v);
    lua_setfield(L, -2, k);
}

static void set_str(lua_State *L, const char *k, const char *v)
{
    lua_pushstring(L, v);
    lua_setfield(L, -2, k);
}

static void set_list(lua_State *L, const char *k, const uint8_t *v, int n, const char *const *codes)
{
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        lua_pushstring(L, codes[v[i]]);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, k);
}

/* The record as a Lua table, on top of the stack. */
static void push_record(lua_State *L, const bench_rec *r, size_t i)
{
    bool leader = r->kind == BK_LEADER;
    char t[32];
    lua_createtable(L, 0, leader ? 36 : 24);
    bench_id(i, t);
    set_str(L, "id", t);
    set_str(L, "kind", leader ? "leader" : "member");
    set_str(L, "period", "2024");
    snprintf(t, sizeof t, "U-%05u", (unsigned)r->unit);
    set_str(L, "unit", t);
    snprintf(t, sizeof t, "G-%03u", (unsigned)r->group);
    set_str(L, "peer_group", t);
    set_int(L, "months_in_role", r->months);
    set_list(L, "result_grades", r->result, r->nresult, bench_grade_code);
    set_list(L, "other_grades", r->other, r->nother, bench_grade_code);
    set_bool(L, "outstanding", r->outstanding);
    set_int(L, "tasks_total", r->tasks_total);
    set_int(L, "tasks_completed", r->tasks_completed);
    set_int(L, "tasks_on_time", r->tasks_on_time);
    set_int(L, "tasks_exceeded", r->tasks_exceeded);
    set_bool(L, "exempt", r->exempt);
    set_bool(L, "suspended", r->suspended);
    set_bool(L, "degraded", r->degraded);
    set_bool(L, "prohibited_conduct", r->prohibited);
    set_bool(L, "exemplary_breach", r->breach);
    set_bool(L, "disciplined", r->disciplined);
    set_bool(L, "self_remedied", r->self_remedied);
    if (r->lcp >= 0) {
        lua_pushnumber(L, (lua_Number)r->lcp / 100.0);
        lua_setfield(L, -2, "low_confidence_pct");
    }
    if (!leader) return;
    set_str(L, "exemplary", bench_exemplary_code[r->exemplary]);
    set_int(L, "unit_targets_total", r->ut_total);
    set_int(L, "unit_targets_completed", r->ut_completed);
    set_int(L, "unit_targets_exceeded", r->ut_exceeded);
    set_int(L, "unit_work_total", r->uw_total);
    set_int(L, "unit_work_on_time", r->uw_on_time);
    if (r->unit_tier >= 0) set_str(L, "unit_tier", bench_tier_code[r->unit_tier]);
    if (r->nsubs >= 0) set_list(L, "subordinate_tiers", r->subs, r->nsubs, bench_tier_code);
    set_bool(L, "subordinate_corruption", r->sub_corruption);
    set_bool(L, "subordinate_corruption_self_remedied", r->sub_corruption_remedied);
}

bench_lua *bench_lua_open(const char *path, const bench_rec *recs, size_t n)
{
    bench_lua *bl = calloc(1, sizeof *bl);
    if (!bl) return NULL;
    lua_State *L = luaL_newstate();
    if (!L) {
        free(bl);
        return NULL;
    }
    bl->L = L;
    bl->n = n;
    luaL_openlibs(L);
    if (luaL_dofile(L, path) != LUA_OK) {
        fprintf(stderr, "quy-bench: %s\n", lua_tostring(L, -1));
        bench_lua_close(bl);
        return NULL;
    }
    if (!lua_istable(L, -1)) {
        fprintf(stderr, "quy-bench: %s: the chunk must return { rate = ..., rate_all = ... }\n", path);
        bench_lua_close(bl);
        return NULL;
    }
    lua_getfield(L, -1, "rate");
    bl->rate = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_getfield(L, -1, "rate_all");
    bl->rate_all = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pop(L, 1);

    /* Building a million tables produces no garbage: stop the collector
     * while building, restart it (nothing to collect) before timing. */
    lua_gc(L, LUA_GCSTOP);
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        push_record(L, &recs[i], i);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    bl->records = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        lua_pushboolean(L, 0);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    bl->out = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_gc(L, LUA_GCRESTART);
    return bl;
}

void bench_lua_run_loop(bench_lua *bl)
{
    lua_State *L = bl->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, bl->rate_all);
    lua_rawgeti(L, LUA_REGISTRYINDEX, bl->records);
    lua_rawgeti(L, LUA_REGISTRYINDEX, bl->out);
    if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
        fprintf(stderr, "quy-bench: lua: %s\n", lua_tostring(L, -1));
        lua_pop(L, 1);
    }
}

void bench_lua_run_calls(bench_lua *bl)
{
    lua_State *L = bl->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, bl->records);
    lua_rawgeti(L, LUA_REGISTRYINDEX, bl->out);
    lua_rawgeti(L, LUA_REGISTRYINDEX, bl->rate);
    int recs = lua_absindex(L, -3), out = lua_absindex(L, -2), fn = lua_absindex(L, -1);
    for (size_t i = 1; i <= bl->n; i++) {
        lua_pushvalue(L, fn);
        lua_rawgeti(L, recs, (lua_Integer)i);
        lua_call(L, 1, 1);
        lua_rawseti(L, out, (lua_Integer)i);
    }
    lua_pop(L, 3);
}

void bench_lua_results(bench_lua *bl, int8_t *res)
{
    lua_State *L = bl->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, bl->out);
    for (size_t i = 0; i < bl->n; i++) {
        lua_rawgeti(L, -1, (lua_Integer)i + 1);
        const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        res[i] = -1;
        for (int t = 0; s && t <= T_NOT_RATED; t++)
            if (strcmp(s, bench_tier_code[t]) == 0) res[i] = (int8_t)t;
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
}

void bench_lua_close(bench_lua *bl)
{
    if (!bl) return;
    lua_close(bl->L);
    free(bl);
}
