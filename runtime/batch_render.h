/*
 * batch_render.h — the batch steps for people and machines (prefix batch_,
 * runtime/batch_render.c): renders what the engine (batch.h) computed —
 * each step of a record in Vietnamese, the steps as JSON, the flags the
 * steps raise, a rated record written with its explanation, and the
 * per-group summary table. The engine itself writes nothing.
 */
#ifndef QUY_BATCH_RENDER_H
#define QUY_BATCH_RENDER_H

#include <stdio.h>

#include "batch.h"
#include "strbuf.h"
#include "vm.h"

/* The step's code: "rollup", "cap", "quota_kept" or "quota_demoted". */
const char *batch_step_code(const batch_step *s);
/* The citation and layer of the rule behind a step ("" for a roll-up). */
const char *batch_step_cite(const batch *b, const batch_step *s);
const char *batch_step_layer(const batch *b, const batch_step *s);
/* Step k of record i in Vietnamese, one line without its newline. */
void batch_step_text(const batch *b, size_t i, const batch_step *s, strbuf *out);

/* The batch steps of record i in Vietnamese, one line per step
 * ("⇒ message — cite [layer]"), each indented by `indent` spaces. */
void batch_render_steps(const batch *b, size_t i, int indent, strbuf *out);
/* The same as a malloc'd string ("" when there were none; NULL when out of memory). */
char *batch_explain_text(const batch *b, size_t i, int indent);
/* The steps as a JSON array of {"step","message","cite","layer"}. */
void batch_render_steps_json(const batch *b, size_t i, strbuf *out);

/* The same as a jansson json_t* (returned as void*; caller json_decrefs). */
void *batch_explain_json(const batch *b, size_t i);

/* Flags the batch steps raise on record i (codes "capped", "quota_demoted"),
 * with their Vietnamese messages (malloc'd, the caller frees each) and
 * citations: up to `max`; returns how many. */
size_t batch_flags(const batch *b, size_t i, const char **code, char **message, const char **cite, size_t max);

/* Write rated record i to `w` (runtime/output.h): its final and eligible
 * tiers, its rules' flags and the batch steps' flags. With `tr` (a trace
 * buffer) and the record kept (batch_new's keep_records), the rate block is
 * re-run with the trace and the explanation is attached: as "trace" with
 * its "batch_steps" in JSON, and — with `text` — as text under the row. */
struct out_writer;
void batch_write(const batch *b, size_t i, struct out_writer *w, vm_trace *tr, bool text);
/* batch_write re-running the rate block (for the trace) with hook session
 * `hs` instead of the batch's: for another thread (lib/jobs_write.c), with
 * its own trace buffer and writer; the batch is only read. */
struct hook_session;
void batch_write_hs(const batch *b, size_t i, struct out_writer *w, vm_trace *tr, bool text, struct hook_session *hs);

/* Per group: counts per eligible and final tier, each quota's limit and use.
 * Text (a table) or JSON Lines (one object per group). */
void batch_summary(const batch *b, FILE *out, bool json);

#endif /* QUY_BATCH_RENDER_H */
