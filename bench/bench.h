/*
 * bench.h — the benchmark's shared pieces (prefix bench_): the plain record
 * struct every mode is built from, the seeded generator, the hand-written C
 * encoding of central-124 and the Lua side.
 *
 * The generator is the single source of truth: it fills bench_rec structs;
 * the JSON Lines text, the Lua tables and (through the project's own record
 * loader, over that text) the q_records are all derived from them, so the
 * four modes rate the same data.
 */
#ifndef QUY_BENCH_H
#define QUY_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BENCH_MAX_GRADES 8 /* grades per list */
#define BENCH_MAX_SUBS 8   /* subordinate tiers per leader */

/* Grades (scale `grade`, lowest first) and tiers (builtin scale `tier`,
 * same ordinals as q_outcome). */
enum { G_KEM, G_TRUNG_BINH, G_TOT, G_XUAT_SAC };
enum { T_KHTNV, T_HTNV, T_HTTNV, T_HTXSNV, T_NOT_RATED };
enum { EX_KHONG, EX_GUONG_MAU, EX_THUC_SU };
enum { BK_MEMBER, BK_LEADER };

/* One record of kind member or leader: the fields central-124 reads (and
 * the few it does not, emitted so the JSON looks like a real export). */
typedef struct bench_rec {
    uint8_t kind;                   /* BK_* */
    uint8_t nresult, nother;        /* grades in each list */
    uint8_t result[BENCH_MAX_GRADES];
    uint8_t other[BENCH_MAX_GRADES];
    bool outstanding, exempt, suspended, degraded, prohibited, breach;
    bool disciplined, self_remedied;
    int32_t months;                 /* months_in_role */
    int32_t tasks_total, tasks_completed, tasks_on_time, tasks_exceeded;
    int32_t lcp;                    /* low_confidence_pct in hundredths of a percent; -1 absent */
    /* leader only */
    uint8_t exemplary;              /* EX_* */
    int8_t unit_tier;               /* T_*, -1 absent */
    int8_t nsubs;                   /* subordinate_tiers count, -1 absent */
    uint8_t subs[BENCH_MAX_SUBS];
    bool sub_corruption, sub_corruption_remedied;
    int32_t ut_total, ut_completed, ut_exceeded; /* unit_targets_* */
    int32_t uw_total, uw_on_time;                /* unit_work_* */
    uint32_t unit, group;           /* unit / peer_group numbers (not read by rules) */
} bench_rec;

/* Kinds to generate. */
typedef enum bench_mix { MIX_MIXED, MIX_MEMBER, MIX_LEADER } bench_mix;

/* n seeded records into recs[0..n). Deterministic for a seed. */
void bench_generate(bench_rec *recs, size_t n, uint64_t seed, bench_mix mix);

/* The records as JSON Lines (ids "B-0000001", ... in order). Returns a
 * malloc'd NUL-terminated buffer and its length, or NULL. */
char *bench_jsonl(const bench_rec *recs, size_t n, size_t *len);

/* Record id of index i (the one bench_jsonl writes) into buf (>= 24 bytes). */
void bench_id(size_t i, char *buf);

extern const char *const bench_grade_code[4];
extern const char *const bench_tier_code[5];
extern const char *const bench_exemplary_code[3];

/* Hand-written C encoding of central-124 for member / leader: a T_* code. */
int bench_rate_member(const bench_rec *r);
int bench_rate_leader(const bench_rec *r);
int bench_rate_c(const bench_rec *r);

/* Lua 5.4 side (bench_lua.c). */
typedef struct bench_lua bench_lua;
/* Load the rules from `path` and build one Lua table per record. NULL on
 * failure (message on stderr). */
bench_lua *bench_lua_open(const char *path, const bench_rec *recs, size_t n);
/* Rate every record with a Lua-side loop (rate_all): what a user writes. */
void bench_lua_run_loop(bench_lua *bl);
/* Rate every record with one lua_call from C per record. */
void bench_lua_run_calls(bench_lua *bl);
/* After a run: the T_* code of record i (or -1 if Lua returned junk). */
void bench_lua_results(bench_lua *bl, int8_t *out);
void bench_lua_close(bench_lua *bl);

/* Command-line modes (bench_cli.c): a process run to completion. */
typedef struct bench_proc {
    double wall;      /* seconds, wall clock */
    double cpu;       /* seconds of CPU (user + system) of the process */
    long maxrss_kb;   /* peak resident set */
    int status;       /* exit status; 128 + signal if killed; -1 not run */
} bench_proc;

/* Run argv (argv[0] a path) with stdout to out_path (NULL: /dev/null) and
 * stderr to /dev/null; false if it could not be started. */
bool bench_run(char *const argv[], const char *out_path, bench_proc *r);
/* Newlines in a file, or 0. */
size_t bench_count_lines(const char *path);

/* Targets of issue 15 (this 2-core machine, mixed records). */
#define TARGET_VM_OVER_C 3.0   /* VM time <= 3x hand-written C */
#define TARGET_VM_OVER_LUA 5.0 /* VM >= 5x faster than the Lua function */
#define TARGET_E2E_RPS 500e3   /* end to end, one core */
#define TARGET_E2E2_RPS 900e3  /* end to end, --jobs 2 (records per second of wall time) */
#define TARGET_BATCH_S 15.0    /* the national batch, 5.5 M records */
#define TARGET_BATCH_MB 1024.0
#define TARGET_DIFF_S 5.0      /* quy diff of 1 M records */

typedef struct bench_cli_opts {
    const char *quy, *batch_gen;  /* the binaries */
    const char *rulesets, *ruleset;
    const char *diff_new;         /* the ruleset central-124 is diffed against */
    uint64_t seed;
    size_t diff_n;                /* 0: no (g) */
    size_t batch_members, batch_cells; /* 0 members: no (h) */
} bench_cli_opts;

typedef struct bench_cli_result {
    bench_proc eval, eval2, diff, batch; /* eval: --jobs 1; eval2: --jobs 2 */
    size_t eval_n, diff_n, batch_n;
    bool eval_ok, eval2_ok, diff_ok, batch_ok;
} bench_cli_result;

/* Run (f) over json, then (g) and (h), in a temporary directory under
 * $TMPDIR. False if one of them failed. */
bool bench_cli_modes(const bench_cli_opts *o, const char *json, size_t jlen, bench_cli_result *r);
void bench_cli_report(const bench_cli_opts *o, const bench_cli_result *r);
void bench_cli_targets(const bench_cli_opts *o, const bench_cli_result *r);

#endif /* QUY_BENCH_H */
