/*
 * batch.h — the batch steps (runtime/batch.c, batch_run.c; prefix batch_): rating a
 * whole batch of records where some rules need the others.
 *
 *   1. roll-ups: a collective's `member_tiers` (records whose `unit` is its
 *      id) and a leader's `subordinate_tiers` (records whose `unit` is its
 *      `head_of`), when the record does not carry them, from the FINAL tiers
 *      of those records;
 *   2. caps (`cap KIND at BOUND`), in declaration order, on the tier each
 *      record's rate block decided (its eligible tier);
 *   3. quotas (`quota T <= P of U per FIELD`), per group of the FIELD's
 *      value, once every record of the group is capped.
 * Records are processed in dependency order — a topological sort over the
 * records and the quota groups: a collective after its members' groups,
 * a head after the collective it heads. A cycle rejects the records in it,
 * naming them; a head_of/unit reference a cap needs that is not in the
 * batch rejects the record, naming both ids.
 *
 * Memory: a record that needs nothing from the batch is rated as it is
 * read and only a compact summary is kept (≈ 60 bytes plus its id); a
 * record waiting for others is kept whole until it is rated. With
 * `keep_records` (explanations) every record is kept.
 *
 * The engine computes; it writes nothing. The steps it took for a record
 * are data (batch_step_get); prose, JSON, flags and the summary table are
 * rendered from them by runtime/batch_render.h.
 *
 * Out of memory is an error returned by the call that met it (and by every
 * later one): -1, or the no_memory error of batch_read.
 *
 * Ownership: strings in a batch_view and a batch_step point into the batch
 * and stay valid until batch_free().
 */
#ifndef QUY_BATCH_H
#define QUY_BATCH_H

#include <stdio.h>

#include "program.h"
#include "record.h"
#include "vm.h"

typedef struct batch batch;

typedef enum batch_status { BATCH_RATED, BATCH_REJECTED } batch_status;

/* What the batch steps did to a record (bits of batch_view.steps). */
enum {
    BS_ROLLUP = 1 << 0,        /* a computed field was filled from the batch */
    BS_CAPPED = 1 << 1,        /* a cap lowered the tier */
    BS_QUOTA_KEPT = 1 << 2,    /* a quota candidate that kept its tier */
    BS_QUOTA_DEMOTED = 1 << 3, /* demoted by a quota */
    BS_SMALL_GROUP = 1 << 4,   /* kept under the small-unit exception */
    BS_TIE = 1 << 5,           /* kept/demoted by input order among equal keys */
};

typedef struct batch_view {
    uint32_t index;        /* position in the input (0-based, over all files) */
    batch_status status;
    const char *id;        /* "" if the record had none */
    const char *file;      /* input name */
    uint32_t line;
    const rec_error *error; /* BATCH_REJECTED: why */
    const q_record *rec;   /* the record with roll-ups filled, when kept; else NULL */
    uint32_t kind;         /* kind index (BATCH_RATED) */
    vm_result res;         /* BATCH_RATED: res.outcome is the FINAL tier, res.rule the deciding rule */
    uint8_t eligible;      /* q_outcome before caps and quotas */
    uint8_t steps;         /* BS_* */
    const char *group;     /* quota group (value of the quota's field, or "loại <kind>"), NULL if none */
} batch_view;

/* What one quota did in one group. */
typedef struct batch_quota_run {
    uint32_t n_tier, n_of, n_above; /* before the quota: #T, #U, #(above T) */
    uint32_t base;                  /* the count the share was taken of */
    q_val raw;                      /* share x base */
    uint32_t limit;                 /* after rounding */
    uint32_t kept;                  /* candidates that kept T */
    bool small;                     /* the small-unit exception gave the one */
    bool have_next;                 /* basis final, kept < candidates: what one more would allow */
    uint32_t next_base, next_limit;
    q_val next_raw;
    uint32_t first_kept[5];         /* the first kept, record indices in rank order (a sample: `kept` counts them all) */
    uint32_t nfirst;
} batch_quota_run;

/* One quota group after batch_run. */
typedef struct batch_group_view {
    const char *key;                /* the value of the quota's field, or "loại <kind>" */
    uint32_t n;                     /* rated records in it */
    uint32_t count_elig[QO__COUNT]; /* per eligible tier */
    uint32_t count_final[QO__COUNT]; /* per final tier */
    const batch_quota_run *runs;    /* [nquotas], NULL when no quota ran (single mode) */
} batch_group_view;

/* =====================================================================
 * The batch steps of one record, as data (batch_step_get). Renderers
 * (runtime/batch_render.h) turn them into prose, JSON and flags.
 * ===================================================================== */

typedef enum batch_step_type {
    BATCH_STEP_ROLLUP, /* a computed field filled from the batch */
    BATCH_STEP_CAP,    /* a cap lowered the tier */
    BATCH_STEP_QUOTA,  /* a quota kept or demoted the record */
} batch_step_type;

/* How a roll-up counted one record of the unit (batch_rollup_child). */
typedef enum batch_used {
    BATCH_USED_FINAL,        /* its final tier */
    BATCH_USED_BEFORE_QUOTA, /* in the collective's own quota group: its tier before the quota */
    BATCH_USED_BEFORE_CAP,   /* the collective's head: its tier before the head-not-above-the-collective cap */
} batch_used;

typedef struct batch_step {
    uint8_t type;          /* batch_step_type */
    uint32_t kind;         /* the record's kind */
    /* BATCH_STEP_ROLLUP */
    uint8_t rollup;        /* 0 member_tiers (records whose unit is this id), 1 subordinate_tiers (unit = head_of) */
    uint32_t slot;         /* the field filled */
    const char *of;        /* the unit id the records name */
    uint32_t nchildren;    /* records naming it: batch_rollup_child_get(…, 0 .. nchildren-1) */
    /* BATCH_STEP_CAP */
    uint32_t cap;          /* cap index */
    uint8_t from, to;      /* tier before the cap; after it (and a quota's demotion) */
    const char *ref;       /* head_of / unit cap: the collective's id, else NULL */
    uint8_t ref_tier;      /* its final tier (QO__COUNT: none) */
    /* BATCH_STEP_QUOTA */
    uint32_t quota;        /* quota index */
    const char *group;     /* the group's key */
    bool demoted;          /* demoted (else kept) */
    const batch_quota_run *run; /* the quota in this group */
    uint32_t rank;         /* 1-based rank among the candidates */
    uint8_t tier;          /* the record's final tier */
    bool tie;              /* decided by input order among equal keys */
} batch_step;

typedef struct batch_rollup_child {
    const char *id;
    bool rejected;         /* rejected record (not counted) */
    bool counted;          /* rated with a tier (khtnv .. htxsnv): in the list */
    uint8_t tier;          /* final tier (not counted: not_rated / deferred) */
    uint8_t used;          /* the tier the roll-up used */
    uint8_t how;           /* batch_used */
} batch_rollup_child;

batch *batch_new(const q_program *p, bool keep_records);
void batch_on_warning(batch *b, rec_warn_fn fn, void *ctx);
/* The hook session the batch rates with (runtime/hook.h): its own, made by
 * batch_new and freed by batch_free, unless the caller set one (borrowed:
 * it must be for the same program and outlive the batch; NULL goes back
 * to the batch's own). Re-rating a record of the batch (for a trace) uses
 * batch_hooks(b). */
struct hook_session;
struct hook_session *batch_hooks(const batch *b);
void batch_set_hooks(batch *b, struct hook_session *hs);
/* Single-record mode (`quy test` cases with one "record"): no quotas (a
 * group of one is not a group), and a cap whose head_of/unit record is not
 * in the batch is skipped instead of rejecting the record. */
void batch_single(batch *b, bool single);
/* Read every record of `in` (JSON Lines, JSON array or CSV). Valid records
 * that need nothing from the batch are rated at once. Rejected records are
 * kept as items with their error. 0, or -1 on a read error / no memory
 * (*err says which). */
int batch_read(batch *b, FILE *in, const char *name, rec_error *err);
/* Limits for the readers of batch_read (record.h, rec_limits; 0 = default). */
void batch_set_limits(batch *b, const rec_limits *lim);
/* One record given as a parsed JSON object (a jansson json_t*), for
 * `quy test` batch cases. Same result as one record of batch_read:
 * 0 rated, 1 rejected, -1 out of memory. */
int batch_add_json(batch *b, const void *obj, uint32_t line, const char *name, rec_error *err);
/* One record the caller decoded with its own reader over b's program, or
 * the reader's rejection of it: the same as one record of batch_read (for
 * `quy diff`, which parses each record once and decodes it for two
 * programs). 0, or -1 when out of memory. */
int batch_add_record(batch *b, const q_record *rec, const char *name);
int batch_add_rejected(batch *b, const rec_error *err, const char *name);
/* Parallel reading (lib/jobs.c). batch_reader: a reader over `in` set up
 * as batch_read's (limits, warnings, the batch's hook session); NULL when
 * out of memory. batch_read_rest: the rest of its records, as batch_read
 * (which is batch_reader + batch_read_rest). batch_rates_at_read: whether
 * a record is rated as it is added (no roll-up to wait for); only reads
 * what batch_new set, so other threads may ask while the batch grows.
 * batch_add_rated: batch_add_record with the rate block's result computed
 * by another thread (NULL: rate here), with its own hook session, which
 * batch_adopt_hooks gives to the batch (freed by batch_free: results keep
 * the strings its hooks returned). -1 when out of memory. */
rec_reader *batch_reader(batch *b, FILE *in, const char *name);
int batch_read_rest(batch *b, rec_reader *r, const char *name, rec_error *err);
bool batch_rates_at_read(const batch *b, const q_record *rec);
int batch_add_rated(batch *b, const q_record *rec, const char *name, const vm_result *res);
/* batch_keeps: whether the batch keeps a copy of rec when it is added (for
 * a trace, a roll-up to wait for, a cap reading another record); only
 * reads what batch_new set. batch_add_rated_copy: batch_add_rated with
 * such a copy made by the caller (rec_copy; the decoding thread makes it),
 * which the batch takes: kept, or freed. */
bool batch_keeps(const batch *b, const q_record *rec);
int batch_add_rated_copy(batch *b, q_record *copy, const char *name, const vm_result *res);
/* What a decoding thread works out for a record rated at read, so that the
 * calling thread adds it without a copy of the record: its names (pointing
 * into the record: the caller copies them), its tier after the caps that
 * read no other record, and, for a quota candidate, its order keys (into
 * `keys`, batch_keys_per values, set by the caller before the call; NULL
 * when batch_keys_per is 0). batch_pre_rate (only reads the batch; `hs`:
 * the thread's hook session) returns false when the record must be added
 * whole (a VM error, a roll-up to wait for, a copy the batch keeps).
 * batch_add_pre adds it as batch_add_rated would, `res` being the rate
 * block's result. */
typedef struct batch_pre {
    uint32_t kind, line;
    const char *id, *unit, *head_of, *per; /* unit, head_of, per: NULL when absent */
    size_t unit_len, head_of_len, per_len;
    uint8_t tier, capped_from, steps;
    uint32_t cap;
    bool cand;
    q_val *keys;
} batch_pre;
size_t batch_keys_per(const batch *b);
bool batch_pre_rate(const batch *b, struct hook_session *hs, const q_record *rec, const vm_result *res, batch_pre *out);
int batch_add_pre(batch *b, const batch_pre *pre, const vm_result *res, const char *name);
int batch_adopt_hooks(batch *b, struct hook_session *hs);
/* Keep (as keep_records does, but only for them) the records whose input
 * index has its bit set in keep[] (bit i % 8 of keep[i / 8], n bits):
 * their view.rec stays valid after batch_run, roll-ups filled. The array
 * is the caller's and must outlive the batch. */
void batch_keep_some(batch *b, const uint8_t *keep, size_t n);
/* Roll-ups, caps and quotas over everything read, in dependency order.
 * 0, or -1 when out of memory (the results are then incomplete). */
int batch_run(batch *b);
/* Out of memory at some call: every later call fails too. */
bool batch_failed(const batch *b);

size_t batch_count(const batch *b);
void batch_get(const batch *b, size_t i, batch_view *v);
/* Record index of an id, or SIZE_MAX. */
size_t batch_find(const batch *b, const char *id);

/* The program the batch rates with. */
const q_program *batch_program(const batch *b);
/* The id of record i ("" if none). */
const char *batch_id(const batch *b, size_t i);

/* The batch steps of record i, in order: roll-ups, cap, quotas. */
size_t batch_nsteps(const batch *b, size_t i);
void batch_step_get(const batch *b, size_t i, size_t k, batch_step *out);
/* Record c of a roll-up step (0 <= c < step->nchildren), in input order. */
void batch_rollup_child_get(const batch *b, size_t i, const batch_step *step, uint32_t c, batch_rollup_child *out);

/* Quota groups, in order of first appearance. */
size_t batch_ngroups(const batch *b);
void batch_group_get(const batch *b, size_t g, batch_group_view *v);

void batch_free(batch *b);

#endif /* QUY_BATCH_H */
