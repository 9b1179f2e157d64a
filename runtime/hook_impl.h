/*
 * hook_impl.h — private to runtime/hook.c (calls, values, interned
 * strings) and runtime/hook_sandbox.c (the Lua environment and its
 * limits). Nothing outside these two files includes it.
 */
#ifndef QUY_HOOK_IMPL_H
#define QUY_HOOK_IMPL_H

#include <lua.h>

#include "hook.h"
#include "strset.h"

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

/* Which limit ended the current call (LUA_ERRMEM says memory). */
typedef enum hook_limit_hit {
    HIT_NONE,
    HIT_INSTRUCTIONS, /* the instruction budget */
    HIT_CPU,          /* the CPU-time deadline */
} hook_limit_hit;

struct hook_session {
    const q_program *p;
    lua_State *L;
    hook_limits lim;            /* the limits as set */
    size_t mem;                 /* bytes held by the state */
    uint64_t ticks, max_ticks;  /* count-hook ticks this call, and the budget in ticks */
    uint64_t calls;             /* call events this call: the clocks are looked at every few */
    int64_t wall_ns;            /* monotonic time of the last read of the CPU clock */
    int64_t deadline_ns;        /* thread CPU time at which this call must end */
    uint8_t hit;                /* hook_limit_hit */
    int *fn;                    /* [nhooks] registry references, LUA_NOREF until loaded */
    uint32_t nfn;
    call *cur;
    /* interned strings: the set maps each to its index in strs, whose
     * copies never move (results of earlier records point into them) */
    strset set;
    char **strs;
    size_t nstrs, capstrs;
    size_t setbytes;            /* bytes of the copies */
    /* scratch record for record-phase adjustments */
    q_val *slots;
    uint8_t *present;
    uint32_t cap;
    hook_stats st;
};


static inline hook_session *RT(lua_State *L) { return *(hook_session **)lua_getextraspace(L); }

/* The program of the state's current call (or of the state). */
static inline const q_program *RT_PROG(hook_session *rt) { return rt->cur ? rt->cur->p : rt->p; }

/* An enum or scale value (a full userdata with metatable MT_MEMBER). */
typedef struct sb_member {
    uint32_t type; /* type index; QUY_NONE: not_rated / deferred */
    uint32_t ord;  /* ordinal (outcomes: q_outcome) */
} sb_member;

/* ---- hook_sandbox.c ---- */

/* A new Lua state holding the sandbox for rt's program, with the
 * allocator and the hooks that enforce the limits; false when out of
 * memory. */
bool hook_state_open(hook_session *rt);
/* Arm the limits for one call: instruction budget and CPU deadline. */
void hook_call_begin(hook_session *rt);
/* Load a hook file's chunk in a fresh environment, run it, freeze the
 * environment, and leave the hook's function on the stack (raises). */
void hook_load_chunk(lua_State *L, const char *src, size_t len, const char *file, const char *name);
/* Exact numbers and enum values, Quy <-> Lua (raise on a wrong value). */
void hook_push_num(lua_State *L, q_val v);
void hook_push_member(lua_State *L, uint32_t type, uint32_t ord);
const char *hook_member_code(const q_program *p, const sb_member *m);
const char *hook_type_word(const q_program *p, uint32_t type);
/* The name and value of the limit a call hit ("5000000 lệnh Lua ..."),
 * for its message; NULL if none was hit. */
const char *hook_limit_text(const hook_session *rt, int status, char *buf, size_t size);

#endif /* QUY_HOOK_IMPL_H */
