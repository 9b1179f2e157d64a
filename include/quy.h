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
    QUY_REJECTED = 2, /* the record was rejected: error_* are set */
    QUY_IO = 3,       /* a stream could not be read or written */
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

#ifdef __cplusplus
}
#endif

#endif /* QUY_H */
