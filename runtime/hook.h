/*
 * hook.h — Lua 5.4 hooks (prefix hook_): the sandbox a ruleset's Lua
 * functions run in, the conversion of Quy values to Lua values and back,
 * and the limits. The guide for people who write hooks is
 * docs/hooks-guide.md; this header is for the VM and the compiler.
 *
 * One Lua state per program (a program is used by one thread at a time),
 * created by the first hook call and reused for every later record: a
 * record that calls no hook pays nothing. The state holds only:
 *   - the base functions that cannot reach outside (no dofile, loadfile,
 *     print, collectgarbage, rawset; `load` takes text only, in the
 *     sandbox), string (no dump, no pattern matching), table, math (no
 *     random), utf8, and `quy` (exact numbers);
 *   - the ruleset's enum and scale types as tables of values (tier.httnv);
 *   - one read-only environment per hook file.
 * Every call runs under an instruction budget and a CPU-time deadline, and
 * the state under a memory cap (a counting lua_Alloc); library functions
 * that would loop in C past those are bounded or removed (hook_sandbox.c
 * lists how). Going over a limit ends the call with an error naming the
 * hook and the limit, even if the hook catches it; the state is then
 * closed and made anew by the next call. Any other error (a Lua error, a
 * result of the wrong type) is an error of that call only.
 *
 * Ownership: every message and every string a hook produced that outlives
 * the call (a reason, a string field it set) is interned in the program's
 * hook runtime and stays valid until prog_free().
 */
#ifndef QUY_HOOK_H
#define QUY_HOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "program.h"
#include "record.h"

#define QUY_HOOK_INSTRUCTIONS 5000000u  /* Lua VM instructions one call may run */
#define QUY_HOOK_MEMORY (16u << 20)      /* bytes the Lua state may hold */
#define QUY_HOOK_CPU_MS 2000u            /* CPU time one call may take (thread CPU clock), ms */
#define QUY_HOOK_MAX_PATCH 16            /* fields one adjustment may set */
#define QUY_HOOK_MAX_REASON 1000         /* bytes of an adjustment's reason */

/* What an adjustment hook returned (filled by hook_call, applied by the
 * VM's ADJUST). Lives on the VM's C stack. */
typedef struct hook_adj {
    uint8_t set;      /* the hook returned an adjustment, not nil */
    uint8_t outcome;  /* `tier`: the new outcome (q_outcome), or QO__COUNT: unchanged */
    uint16_t npatch;  /* `fields`: how many are set */
    const char *note; /* the reason, with the fields set ("tasks_total 12 → 8") */
    uint16_t slot[QUY_HOOK_MAX_PATCH];
    q_val val[QUY_HOOK_MAX_PATCH];
} hook_adj;

/*
 * Call hook `h` with `nargs` arguments (Quy values of its parameter types;
 * {n = 0, d = INT64_MIN} is an absent optional field, nil in Lua). On
 * success returns 0 and *result is the hook's value, checked against the
 * declared result type; for an adjustment hook *result is q_bool(adjusts)
 * and *adj says how. `slots`/`present` are the values the rules currently
 * read (the record's, or an earlier adjustment's): the note of an
 * adjustment shows each field it sets against them. On failure returns -1
 * and *error names the hook, its file and what went wrong.
 */
int hook_call(const q_program *p, const q_record *rec, const q_val *slots, const uint8_t *present, uint32_t h,
              const q_val *args, uint32_t nargs, q_val *result, hook_adj *adj, const char **error);

/* Apply the fields of a record-phase adjustment: the first time, copy the
 * record's slots into the program's scratch buffers and point *slots and
 * *present at them; then write the values. 0, or -1 with *error. */
int hook_patch(const q_program *p, const q_record *rec, const hook_adj *adj, const q_val **slots,
               const uint8_t **present, const char **error);

/* A message about hook `h` ("hook 'h' (file): ..."), interned. */
const char *hook_message(const q_program *p, uint32_t h, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Compile-time check of a hook's Lua file: it must be text (no NUL, no
 * binary chunk), compile, run under the limits in a fresh sandbox with the
 * types of `p` (the program being built), and return either a function or
 * a table whose field `name` is a function. false with the reason in err.
 */
bool hook_check_source(const q_program *p, const char *name, const char *file, const char *src, size_t len,
                       char *err, size_t errsize);

/* The limits of hook calls: one struct, the defaults above. */
typedef struct hook_limits {
    uint64_t instructions; /* Lua VM instructions one call may run */
    size_t memory;         /* bytes the Lua state may hold (the sandbox alone needs about 100 KiB) */
    uint32_t cpu_ms;       /* CPU time one call may take, in milliseconds of the thread's CPU clock */
} hook_limits;

hook_limits hook_limits_default(void);

/* Limits for this program's hooks (tests, embedders); a 0 field keeps its
 * value. Applies from the next call. */
void hook_set_limits(const q_program *p, const hook_limits *lim);

typedef struct hook_stats {
    uint64_t calls;   /* hook calls made */
    uint32_t states;  /* Lua states created (1 unless a limit was hit) */
    uint32_t errors;  /* calls that failed */
    size_t memory;    /* bytes the current state holds */
} hook_stats;

/* Counters of this program's hooks; all zero if no hook was ever called. */
hook_stats hook_get_stats(const q_program *p);

/* Free the Lua state and everything interned (called by prog_free). */
void hook_rt_free(struct hook_rt *rt);

#endif /* QUY_HOOK_H */
