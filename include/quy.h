/*
 * quy.h — the Quy C library: load the ruleset of a locality and rate
 * evaluation records with it, with explanations.
 *
 *   char *errors = NULL;
 *   quy_ruleset *rs = quy_ruleset_load("central-124", dirs, ndirs, &errors);
 *   if (!rs) { fputs(errors, stderr); free(errors); return 1; }
 *   quy_result r;
 *   if (quy_rate_json(rs, line, strlen(line), &r, NULL) == QUY_OK)
 *       printf("%s -> %s (%s)\n", r.id, r.tier, r.cite);
 *   else
 *       printf("rejected: %s %s: %s\n", r.error_code, r.error_field, r.error_message);
 *   quy_ruleset_free(rs);
 *
 * Link with the static libraries the build makes (libquy_compiler_goto.a,
 * libquy_runtime_goto.a) and -llua5.4 -ljansson -lcsv -lm.
 *
 * Ownership: strings in a quy_result point into the ruleset or into the
 * result itself and stay valid until the next call with the same result or
 * quy_ruleset_free(). Strings returned through `char **` are malloc'd and
 * the caller frees them. A quy_ruleset keeps reusable buffers: use one per
 * thread (load it once per thread; loading a compiled .qbc is cheap).
 *
 * Contract of records and results: docs/records.md and
 * docs/integration-guide.md.
 */
#ifndef QUY_H
#define QUY_H

#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define QUY_FLAGS_MAX 32

typedef struct quy_ruleset quy_ruleset;

typedef enum quy_status {
    QUY_OK = 0,       /* rated: tier, rule, flags are set */
    QUY_ERROR = 1,    /* the ruleset cannot do it (quy_gen: its checks cannot be satisfied) */
    QUY_REJECTED = 2, /* the record was rejected: error_* are set */
    QUY_IO = 3,       /* a stream could not be read or written */
    QUY_EINVAL = 10,  /* a bad argument: NULL, index out of range, unknown option */
    QUY_ENOMEM = 12,  /* out of memory */
    QUY_ESTATE = 13,  /* a call out of order (a result before the run) */
} quy_status;

typedef struct quy_result {
    char id[256];          /* the record's id ("" if it had none); ids are at most 255 bytes */
    const char *kind;      /* "member", ... (NULL if rejected before the kind was known) */
    const char *tier;      /* "htxsnv" "httnv" "htnv" "khtnv" "not_rated" "deferred"; NULL if rejected */
    const char *tier_label; /* "Hoàn thành tốt nhiệm vụ", ... */
    const char *eligible_tier; /* tier before batch steps (quota, caps) */
    const char *rule;      /* deciding rule name */
    const char *cite;      /* its citation */
    const char *layer;     /* ruleset that wrote it */
    size_t nflags;
    const char *flags[QUY_FLAGS_MAX];        /* flag codes ("gap", "late_dossier", ...) */
    const char *flag_messages[QUY_FLAGS_MAX]; /* their Vietnamese messages */
    const char *flag_details[QUY_FLAGS_MAX];  /* an adjustment's reason (a hook's `adjust` step), else NULL */
    char error_code[32];   /* missing_field wrong_type unknown_value constraint bad_json unknown_kind eval ... */
    char error_field[128];
    char error_message[512];
} quy_result;

/* Load a ruleset by name (found as DIR/NAME/NAME.quy in `dirs`, then in
 * $QUY_RULESETS), by source path, or by compiled .qbc path. On failure
 * returns NULL and, if `errors` is not NULL, a malloc'd text of every
 * diagnostic (file:line:col, source line and caret). */
quy_ruleset *quy_ruleset_load(const char *name_or_path, const char *const *dirs, size_t ndirs, char **errors);
void quy_ruleset_free(quy_ruleset *rs);

/* The ruleset in force for a locality on a date, by the registry
 * (rulesets/registry.json: the first DIR/registry.json among `dirs`, then
 * $QUY_RULESETS). `locality` is a locality's id, administrative code, name
 * or full name ("cho-chu", "Chợ Chu"); `date` is "YYYY-MM-DD". When the
 * locality has no ruleset of its own in force that day, its parent
 * locality's is taken, and so on up. Returns 0 and sets *chosen (the
 * ruleset name, for quy_ruleset_load) and, if `why` is not NULL, *why (one
 * line saying what was chosen and why). Returns -1 and sets *errors (if not
 * NULL): the registry's validation errors, an unknown locality (with a
 * suggestion), a bad date, or "no ruleset is in force" naming the nearest.
 *
 *   char *name, *why, *err;
 *   if (quy_ruleset_resolve("cho-chu", "2024-12-01", dirs, ndirs, &name, &why, &err) == 0)
 *       rs = quy_ruleset_load(name, dirs, ndirs, &err);   // "cho-chu-2024"
 */
int quy_ruleset_resolve(const char *locality, const char *date, const char *const *dirs, size_t ndirs, char **chosen,
                        char **why, char **errors);

const char *quy_ruleset_name(const quy_ruleset *rs);
const char *quy_ruleset_version(const quy_ruleset *rs);

/* Rate one record given as a JSON object (text), alone: its own rules only,
 * no batch steps (eligible_tier == tier). With `explain` not NULL,
 * *explain receives a malloc'd Vietnamese explanation (text). Returns
 * QUY_OK or QUY_REJECTED. */
quy_status quy_rate_json(quy_ruleset *rs, const char *json, size_t len, quy_result *out, char **explain);

/* Rate a stream of records (JSON Lines, a JSON array or CSV, sniffed) as
 * one batch — roll-ups, caps and quotas over the whole stream, so results
 * are written after the stream ends, in input order — and write one result
 * per record to `out` as JSON Lines ("jsonl") or CSV ("csv"), with the
 * explanation trace (and "batch_steps") attached when `explain` is set.
 * Counts are returned through rated/rejected (may be NULL). Returns QUY_OK,
 * QUY_REJECTED if any record was rejected, or QUY_IO. */
quy_status quy_rate_stream(quy_ruleset *rs, FILE *in, const char *in_name, FILE *out, const char *format, int explain,
                           size_t *rated, size_t *rejected);

/* =====================================================================
 * The diff engine and the boundary generator (quy_diff_*, quy_gen_*)
 *
 * The engines of `quy diff` and `quy gen` (diff/, gen/ in the source):
 * rate one corpus with two rulesets and say who moves and why; make valid
 * records concentrated on the boundaries of a ruleset's conditions.
 * Opaque handles: each is made by *_new, freed by *_free (NULL accepted),
 * and keeps the message of its last failing call (*_errmsg). The
 * rulesets given to *_new must outlive the handle. One thread at a time
 * per handle.
 * ===================================================================== */

typedef struct quy_diff quy_diff;

/* A diff of `old_rs` against `new_rs`. */
quy_status quy_diff_new(const quy_ruleset *old_rs, const quy_ruleset *new_rs, quy_diff **out);
void quy_diff_free(quy_diff *d);
/* The message of d's last failing call ("" if none). */
const char *quy_diff_errmsg(const quy_diff *d);
/* Before quy_diff_run:
 *   "refines" "1"|"0"    list and check only the upward moves (does the new ruleset ever rate higher?)
 *   "expect"  FILE       approved moves (the format of `quy diff --write-expect`) to check the moves against
 *   "old_name", "new_name"  how each side is named in the summary (default: the rulesets' names) */
quy_status quy_diff_set(quy_diff *d, const char *option, const char *value);
/* Inputs, in order: a file of records (JSON Lines, a JSON array or CSV),
 * or records held in memory (copied; `name` names them in messages). */
quy_status quy_diff_add_file(quy_diff *d, const char *path);
quy_status quy_diff_add_memory(quy_diff *d, const char *name, const char *data, size_t len);
/* Rate and compare. QUY_IO: an input could not be read; QUY_ENOMEM. */
quy_status quy_diff_run(quy_diff *d);

/* Results (after quy_diff_run; before it they return 0 / NULL). */
size_t quy_diff_records(const quy_diff *d);
size_t quy_diff_moved(const quy_diff *d);
/* Records whose state went from `from` to `to` — states "htxsnv" "httnv"
 * "htnv" "khtnv" "not_rated" "deferred" "rejected" — by their final tier
 * (final = 1) or their tier before the batch steps (0). QUY_EINVAL for an
 * unknown state. */
quy_status quy_diff_matrix(const quy_diff *d, int final, const char *from, const char *to, size_t *count);
/* Causes, most frequent first. Attributes: "cause" (the key), "type"
 * (rule, rejected, batch, unexplained), "label", "cite_old", "cite_new",
 * and the counts "count", "up", "down", "other" as decimal text. */
size_t quy_diff_cause_count(const quy_diff *d);
const char *quy_diff_cause(quy_diff *d, size_t i, const char *attr);
/* The moved records listed (all, or the upward ones with "refines"), in
 * input order, each a JSON object (text): id, kind, file, line, old, new,
 * direction, cause, cause_label, detail (the rule and clauses on each side). */
size_t quy_diff_listed_count(const quy_diff *d);
const char *quy_diff_listed_json(quy_diff *d, size_t i);
/* Everything but the listed records as one JSON object (text): the
 * rulesets, the matrices, the causes, by kind and peer group, approvals. */
const char *quy_diff_summary_json(quy_diff *d);
/* With "expect" or "refines": listed moves not approved (0: all approved). */
size_t quy_diff_unapproved(const quy_diff *d);
/* Write the listed moves as an approval file. */
quy_status quy_diff_write_expect(quy_diff *d, const char *path);

typedef struct quy_gen quy_gen;

/* A generator of records for `rs`: seed 1, ids GEN-000001..., every rated kind. */
quy_status quy_gen_new(const quy_ruleset *rs, quy_gen **out);
void quy_gen_free(quy_gen *g);
const char *quy_gen_errmsg(const quy_gen *g);
/* Before the first record:
 *   "seed"   a whole number (the same seed gives the same records everywhere)
 *   "prefix" the ids' prefix, at most 16 bytes
 *   "kind"   generate this kind (repeatable; default: every rated kind) */
quy_status quy_gen_set(quy_gen *g, const char *option, const char *value);
/* The next record (kinds in turn) as one JSON line, newline included;
 * *json stays valid until the next call on g. QUY_ERROR: the ruleset's
 * checks could not be satisfied for this record (the message says which). */
quy_status quy_gen_next(quy_gen *g, const char **json, size_t *len);
/* What the generator aims at (each kind's boundaries), as text; malloc'd, free() it. */
quy_status quy_gen_targets(quy_gen *g, char **text);

#ifdef __cplusplus
}
#endif

#endif /* QUY_H */
