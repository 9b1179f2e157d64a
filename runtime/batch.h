/*
 * batch.h — the batch steps (runtime/batch.c, prefix batch_): rating a
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
 * Ownership: strings in a batch_view point into the batch and stay valid
 * until batch_free().
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
 * `quy test` batch cases. Same result as one record of batch_read. */
int batch_add_json(batch *b, const void *obj, uint32_t line, const char *name, rec_error *err);
/* One record the caller decoded with its own reader over b's program, or
 * the reader's rejection of it: the same as one record of batch_read (for
 * `quy diff`, which parses each record once and decodes it for two
 * programs). */
void batch_add_record(batch *b, const q_record *rec, const char *name);
void batch_add_rejected(batch *b, const rec_error *err, const char *name);
/* Keep (as keep_records does, but only for them) the records whose input
 * index has its bit set in keep[] (bit i % 8 of keep[i / 8], n bits):
 * their view.rec stays valid after batch_run, roll-ups filled. The array
 * is the caller's and must outlive the batch. */
void batch_keep_some(batch *b, const uint8_t *keep, size_t n);
/* Roll-ups, caps and quotas over everything read, in dependency order. */
void batch_run(batch *b);

size_t batch_count(const batch *b);
void batch_get(const batch *b, size_t i, batch_view *v);
/* Record index of an id, or SIZE_MAX. */
size_t batch_find(const batch *b, const char *id);

/* Flags the batch steps raise on record i (codes "capped", "quota_demoted"),
 * with their Vietnamese messages and citations: up to `max`; returns how many. */
size_t batch_flags(const batch *b, size_t i, const char **code, char **message, const char **cite, size_t max);
/* The batch steps of record i in Vietnamese, one line per step, each
 * indented by `indent` spaces (malloc'd; "" when there were none). */
char *batch_explain_text(const batch *b, size_t i, int indent);
/* The same as a JSON array of {"step","message","cite","layer"} (a jansson json_t*, new reference). */
void *batch_explain_json(const batch *b, size_t i);

/* Write rated record i to `w` (runtime/output.h): its final and eligible
 * tiers, its rules' flags and the batch steps' flags. With `tr` (a trace
 * buffer) and the record kept (batch_new's keep_records), the rate block is
 * re-run with the trace and the explanation is attached: as "trace" with
 * its "batch_steps" in JSON, and — with `text` — as text under the row. */
struct out_writer;
void batch_write(const batch *b, size_t i, struct out_writer *w, vm_trace *tr, bool text);

/* Per group: counts per eligible and final tier, each quota's limit and use.
 * Text (a table) or JSON Lines (one object per group). */
void batch_summary(const batch *b, FILE *out, bool json);

void batch_free(batch *b);

#endif /* QUY_BATCH_H */
