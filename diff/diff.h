/*
 * diff.h — the diff engine (diff/diff_*.c): rate one corpus with two rulesets
 * and say who moves and why. The library's own interface; integrators use
 * quy_diff_* in quy.h; `quy diff` (cli/cmd_diff.c) parses the options and
 * renders the result (cli/diff_report.c: text, JSON, CSV, HTML).
 *
 *   diff_rate.c    the rating source: a corpus rated by one program
 *                  (dr_src_*, over the batch engine), the input reader that
 *                  parses each record once and decodes it for both programs
 *                  (dr_in_*, over the runtime's record decoder)
 *   diff_cause.c   why a record moved: the first rule, in decision order,
 *                  whose outcome differs, from the two explanations (dc_explain)
 *   diff_expect.c  approved moves: read, check, write (dx_*)
 *   diff_run.c     the two passes, the tallies, the summary (diff_run)
 *
 * Ownership: everything returned by a dr_/dc_/dx_ function belongs to the
 * caller unless said otherwise; strings are malloc'd.
 */
#ifndef QUY_DIFF_ENGINE_H
#define QUY_DIFF_ENGINE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../runtime/program.h"
#include "../runtime/record.h"
#include "../runtime/explain.h"
#include "../runtime/vm.h"

/* Exit status of `quy diff` when some move is not approved (--expect, or
 * an upward move under --refines). Documented in docs/integration-guide.md. */
enum { EXIT_UNAPPROVED = 5 };

/* =====================================================================
 * States: a q_outcome (khtnv .. deferred) or "rejected" (the loader
 * rejected the record, or the VM failed on it).
 * ===================================================================== */

enum { DS_REJECTED = QO__COUNT, DS__COUNT };

extern const uint8_t ds_order[DS__COUNT]; /* display order: htxsnv first, rejected last */
const char *ds_code(int s);              /* "htxsnv", ..., "rejected" */
int ds_parse(const char *s, size_t len); /* -1 if unknown */
static inline bool ds_is_tier(int s) { return s <= QO_HTXSNV; }

/* =====================================================================
 * The rating source (diff_rate.c)
 * ===================================================================== */

typedef enum dr_status { DR_RATED, DR_REJECTED } dr_status;

/* One record rated by one program (a view into its rating source: the
 * pointers stay valid until dr_src_free). */
typedef struct dr_row {
    uint8_t status;         /* dr_status: rejected by the loader, the VM (code "eval") or the batch */
    uint8_t eligible;       /* q_outcome before the batch steps (caps, quotas) */
    uint8_t tier;           /* q_outcome after them */
    uint8_t steps;          /* BS_* bits of runtime/batch.h */
    uint32_t rule;          /* deciding rule index, QUY_NONE */
    uint32_t kind;          /* kind index (rated records) */
    const char *group;      /* quota group, or NULL */
    const rec_error *error; /* DR_REJECTED: why */
    const char *id;         /* "" if none */
    const char *file;       /* input name */
    uint32_t line;
} dr_row;

static inline int dr_state(const dr_row *r, bool final)
{
    return r->status != DR_RATED ? DS_REJECTED : final ? r->tier : r->eligible;
}

/* THE rating source: a corpus rated by one program, as one batch (the
 * batch engine, runtime/batch.h: roll-ups, caps, quotas), records in input
 * order. Everything `quy diff` knows of a rating comes through here:
 *   dr_src_new, dr_src_add (each record, decoded by the caller),
 *   dr_src_run, then dr_src_row / dr_src_rec / dr_src_steps per record.
 * A record that waited for a roll-up is kept whole after the run (roll-ups
 * filled) for dr_src_rec; any other is not kept. */
typedef struct dr_src dr_src;

dr_src *dr_src_new(const q_program *p);
void dr_src_free(dr_src *s);
/* One record: rec (decoded by a reader over s's program) or its rejection. */
/* 0, or -1 when out of memory (dr_src_add, dr_src_run). */
/* res: the rate block's result computed ahead (dr_in_rate_ahead), or NULL. */
int dr_src_add(dr_src *s, const q_record *rec, const rec_error *err, const char *file, const vm_result *res);
int dr_src_run(dr_src *s);
size_t dr_src_count(const dr_src *s);
void dr_src_row(const dr_src *s, size_t i, dr_row *row);
/* The record as rated, roll-ups filled, when it waited for a roll-up;
 * else NULL (the caller decodes it again). */
const q_record *dr_src_rec(const dr_src *s, size_t i);
/* The batch steps of record i in words ("" if none; malloc'd). */
char *dr_src_steps(const dr_src *s, size_t i);
/* The hook session the source's batch rates with (for a trace). */
struct hook_session *dr_src_hooks(const dr_src *s);

/* One input record decoded for both programs. rc[s] = 1: rec[s] is valid
 * (until the next dr_in_next); -1: err[s] says why program s rejected it
 * (err[s] is set only then); 0: not decoded (dr_in_skip_until). */
typedef struct dr_pair {
    int rc[2];
    q_record *rec[2];
    uint32_t line;
    size_t index;        /* position over all inputs (dr_in_open's base + records before) */
    const char *file;    /* input name */
    const char *kind;    /* "kind" of the input object if known (JSON), else NULL */
    const char *id;      /* id if known, else NULL */
    const char *peer_group;
    const vm_result *res[2]; /* rated ahead on a worker thread (dr_in_rate_ahead), else NULL */
    rec_error err[2];        /* last: 2.4 KB that is neither cleared nor copied unless rc[s] is -1 */
} dr_pair;

typedef struct dr_in dr_in;

/* Read input `path`, open as f (the caller closes f after dr_in_close),
 * for programs p[0] and p[1]. JSON Lines are read line by line; each line
 * is decoded from its text by the runtime's reader (rec_decode_text: exact
 * numbers, the messages and columns of `quy eval`) for each program — once
 * only when the record's kind has the same layout (fields, types,
 * defaults, checks) in both programs — and parsed by jansson only to name
 * it (kind, id, peer_group) in the tallies, even when both reject it; a
 * JSON array or CSV is read by one reader per program in lockstep. NULL with a message on stderr if it cannot be
 * opened. (Standard input is first copied to a file: dr_spool_stdin.) */
dr_in *dr_in_open(const char *path, FILE *f, const q_program *const p[2], size_t base);
/* 1: *out holds the next record; 0: end of input; -1: read error, or a
 * reader out of memory (reported; never passed on as a rejected record).
 * Records are counted from `base`; with `want`, a JSON Lines
 * record whose index has no bit set in want[] (nwant bits) is counted but
 * neither parsed nor decoded (rc 0 on both sides). */
int dr_in_next(dr_in *in, dr_pair *out, const uint8_t *want, size_t nwant);
/* Standard input copied to an unlinked temporary file (read twice by a
 * diff); NULL with a message on failure. */
FILE *dr_spool_stdin(void);
void dr_in_close(dr_in *in);
/* Decode JSON Lines on `jobs` threads (0: one per core; 1, the default:
 * this one) when dr_in_next is called without `want`: the same pairs, in
 * the same order, with the same warnings (diff_rate.c, "worker threads"). */
void dr_in_set_jobs(dr_in *in, unsigned jobs);
/* With worker threads: also rate each record there for src[s] (when its
 * batch rates it at read), with hook sessions the batches adopt. */
void dr_in_rate_ahead(dr_in *in, dr_src *const src[2]);
/* Unknown-field warnings seen (reported once per field, and only for a
 * field neither program declares). */
size_t dr_in_warnings(const dr_in *in);

/* =====================================================================
 * Causes (diff_cause.c)
 * ===================================================================== */

typedef enum dc_type { DC_RULE, DC_REJECTED, DC_BATCH, DC_UNEXPLAINED } dc_type;

/* A cause keeps its texts whole (malloc'd; a rule name of any length is
 * its own cause, a label or citation of any length is shown whole). */
typedef struct dc_cause {
    dc_type type;
    char *key;        /* the cause as a token: rule name, rejected:SIDE:CODE[:FIELD], batch:..., unexplained */
    char *label;      /* human label (Vietnamese rule label, error message) */
    char *cite_old, *cite_new; /* the rule's citation on each side, or NULL */
    json_t *detail;   /* structured detail */
} dc_cause;

/* What dc_explain needs of one record on both sides. */
typedef struct dc_input {
    const q_record *rec[2];   /* as rated (NULL: rejected) */
    const dr_row *row[2];
    const char *steps[2];     /* batch steps in words ("" none) */
    struct hook_session *hooks[2]; /* the sessions that rated it (dr_src_hooks) */
} dc_input;

/* Why the record's rows differ. Rates the record again with a trace by
 * both programs when both rated it, into ex[0] and ex[1] (reused). 0, or
 * -1 when out of memory (*out is then empty). Free *out with dc_cause_free. */
int dc_explain(const q_program *const p[2], const dc_input *in, explanation *ex[2], dc_cause *out);
void dc_cause_free(dc_cause *c);


/* =====================================================================
 * Approved moves (diff_expect.c)
 * ===================================================================== */

/* A move's key: old state, new state, cause. A state is a tier code, or
 * "ELIGIBLE/FINAL" when a batch step changed the tier. */
typedef struct dx_set dx_set;

dx_set *dx_new(void);
void dx_free(dx_set *s);
/* Count n moves; `label` (may be NULL) is kept from the first call and
 * written as a comment by dx_write. 0, or -1 when out of memory. */
int dx_add(dx_set *s, const char *old_state, const char *new_state, const char *cause, const char *label, uint64_t n);
/* Read an approval file; NULL with a message naming file:line on error. */
dx_set *dx_read(const char *path);
/* Write the moves of `seen` as an approval file (header names the rulesets). */
int dx_write(const dx_set *seen, const char *path, const char *old_name, const char *new_name, bool refines);

typedef struct dx_verdict {
    uint64_t approved, unapproved; /* moves */
    json_t *unapproved_list;       /* [{old,new,cause,count,approved}] */
    json_t *unused_list;           /* approvals that matched fewer moves than they allow */
} dx_verdict;

/* Compare the moves seen with the approvals. */
void dx_check(const dx_set *seen, const dx_set *approved, dx_verdict *v);

/* Iterate a set: i from 0 while dx_get returns true. */
bool dx_get(const dx_set *s, size_t i, const char **old_state, const char **new_state, const char **cause,
            uint64_t *n, bool *any);

/* =====================================================================
 * The run (diff_run.c)
 * ===================================================================== */

/* What to compare. */
typedef struct diff_spec {
    const char *spec[2];       /* how each side was named (the summary's "spec") */
    const char *const *inputs; /* input names, in order */
    FILE *const *files;        /* each opened (standard input spooled: dr_spool_stdin); read twice */
    int ninputs;
    bool refines;              /* list (and approve) only the upward moves */
    bool check;                /* compare the moves with `approved` (NULL: none approved) */
    const dx_set *approved;
    const char *expect;        /* the approval file's name, for the summary, or NULL */
    unsigned jobs;             /* threads decoding JSON Lines (dr_in_set_jobs; 0: one per core) */
} diff_spec;

/* How many of the records both rulesets rejected are described (the
 * rest are counted: rejected_both). */
enum { DIFF_REJECTED_SAMPLES = 5 };

/* What came out. */
typedef struct diff_result {
    json_t *summary;           /* everything but the moved records (see docs/testing-guide.md, section 6) */
    FILE *moved;               /* the moved (or, with refines, loosened) records, one JSON object a line */
    uint64_t nmoved;
    dx_set *seen;              /* the moves listed, as an approval set (dx_write) */
    dx_verdict verdict;        /* with check */
    uint64_t rejected_both;    /* records both rulesets rejected (not moves) */
    char *rejected_sample[DIFF_REJECTED_SAMPLES]; /* the first of them, each described whole, for a message */
} diff_result;

/* Run the diff: 0, or -1 on a read error or out of memory (reported on
 * stderr). *out is filled in both cases; free it with diff_result_free. */
int diff_run(const q_program *const p[2], const diff_spec *s, diff_result *out);
void diff_result_free(diff_result *r);

#endif /* QUY_DIFF_ENGINE_H */
