/*
 * hook.h — Lua 5.4 hooks (prefix hook_): the sandbox a ruleset's Lua
 * functions run in, the conversion of Quy values to Lua values and back,
 * and the limits. The guide for people who write hooks is
 * docs/hooks-guide.md; this header is for the VM and the compiler.
 *
 * A compiled program is never changed by a hook call: everything that
 * changes while rating lives in a hook_session, which a caller creates per
 * thread (and per program) and passes to the VM (vm_rate, vm_eval) and to
 * the record reader (rec_reader_set_hooks, for checks that call hooks).
 * The program may be shared by any number of threads, each with its own
 * session. The session's Lua state is created by the first hook call and
 * reused for every later record: a record that calls no hook pays nothing.
 * The state holds only:
 *   - the base functions that cannot reach outside (no dofile, loadfile,
 *     print, collectgarbage, rawset; `load` takes text only, in the
 *     sandbox), string (no dump, patterns or binary packing), table, math
 *     (no random), utf8, and `quy` (exact numbers);
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
 * the call (a reason, a string field it set) is interned in the session
 * and stays valid until hook_session_free() or
 * hook_session_release_strings(). A session keeps at most 64 MiB of them;
 * past that a hook call fails with a message saying so.
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

/* The limits of hook calls: one struct, the defaults above. */
typedef struct hook_limits {
    uint64_t instructions; /* Lua VM instructions one call may run */
    size_t memory;         /* bytes the Lua state may hold (the sandbox alone needs about 100 KiB) */
    uint32_t cpu_ms;       /* CPU time one call may take, in milliseconds of the thread's CPU clock */
} hook_limits;

hook_limits hook_limits_default(void);

typedef struct hook_session hook_session;

/* A session for running `p`'s hooks on one thread, with `lim` (NULL: the
 * defaults; a 0 field keeps its default). NULL when out of memory. The
 * program must outlive the session. */
hook_session *hook_session_new(const q_program *p, const hook_limits *lim);
void hook_session_free(hook_session *hs);
/* Change the limits (a 0 field keeps its value); applies from the next call. */
void hook_session_set_limits(hook_session *hs, const hook_limits *lim);
hook_limits hook_session_limits(const hook_session *hs);
/* The program the session runs (NULL for NULL). */
const q_program *hook_session_program(const hook_session *hs);
/* Free every message and reason kept so far: call it only when no result
 * of an earlier call is used any more (e.g. after a batch was written). */
void hook_session_release_strings(hook_session *hs);

typedef struct hook_stats {
    uint64_t calls;   /* hook calls made */
    uint32_t states;  /* Lua states created (1 unless a limit was hit) */
    uint32_t errors;  /* calls that failed */
    size_t memory;    /* bytes the current state holds */
    size_t strings;   /* bytes of messages and reasons kept */
} hook_stats;

/* Counters of the session; all zero for NULL or if no hook was called. */
hook_stats hook_session_stats(const hook_session *hs);

/*
 * Call hook `h` of `p` in session `hs` (made for `p`; NULL or another
 * program's session fails the call with a message saying so), with `nargs`
 * arguments (Quy values of its parameter types; {n = 0, d = INT64_MIN} is
 * an absent optional field, nil in Lua). On success returns 0 and *result
 * is the hook's value, checked against the declared result type; for an
 * adjustment hook *result is q_bool(adjusts) and *adj says how.
 * `slots`/`present` are the values the rules currently read (the
 * record's, or an earlier adjustment's): the note of an adjustment shows
 * each field it sets against them. On failure returns -1 and *error names
 * the hook, its file and what went wrong.
 */
int hook_call(hook_session *hs, const q_program *p, const q_record *rec, const q_val *slots, const uint8_t *present,
              uint32_t h, const q_val *args, uint32_t nargs, q_val *result, hook_adj *adj, const char **error);

/* Apply the fields of a record-phase adjustment: the first time, copy the
 * record's slots into the session's scratch buffers and point *slots and
 * *present at them; then write the values. 0, or -1 with *error. */
int hook_patch(hook_session *hs, const q_record *rec, const hook_adj *adj, const q_val **slots,
               const uint8_t **present, const char **error);

/* A message about hook `h` ("hook 'h' (file): ..."), kept in the session. */
const char *hook_message(hook_session *hs, uint32_t h, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Compile-time check of a hook's Lua file: it must be text (no NUL, no
 * binary chunk), compile, run under the default limits in a fresh sandbox
 * with the types of `p` (the program being built), and return either a
 * function or a table whose field `name` is a function. false with the
 * reason in err.
 */
bool hook_check_source(const q_program *p, const char *name, const char *file, const char *src, size_t len,
                       char *err, size_t errsize);
/* The same under other limits (the hook fuzz harness checks under its own,
 * smaller ones, so that hostile top-level code costs it 100 ms, not 2 s). */
bool hook_check_source_limits(const q_program *p, const char *name, const char *file, const char *src, size_t len,
                              const hook_limits *limits, char *err, size_t errsize);

#endif /* QUY_HOOK_H */
