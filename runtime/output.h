/*
 * output.h — writing rating results (runtime/output.c, prefix out_):
 * JSON Lines and CSV for machines, an aligned table for terminals.
 * Output fields: docs/records.md, "Output".
 *
 * JSON Lines, one object per record, keys always in this order:
 *   {"id","kind","tier","eligible_tier",
 *    "flags":[{"code","message","cite"}...],
 *    "rule":{"name","cite","layer"} | null,
 *    "ruleset":"name@version", "trace":... (only when given)}
 * a rejected record:
 *   {"id": "..." | null, "error":{"code","field","line","file","message"}}
 * (empty field / id / file and line 0 are written as null), and a record
 * whose rating failed in the VM (res->error != VM_OK):
 *   {"id","kind","error":{"code":"eval","field","line","file":null,"message"},"ruleset"}
 *
 * CSV: header id,kind,tier,eligible_tier,flags,rule,cite,error; flags are
 * `;`-joined codes; a rejected record fills id and error ("code: message").
 *
 * Table: id, kind, tier code, Vietnamese tier label, deciding rule (cite),
 * flags; columns aligned by display width, so every row is kept until
 * out_close(); a rejected row shows "LỖI" and the message; the trace text,
 * when given, is printed indented under its row; a summary line ends it.
 *
 * Ownership: the writer copies what it keeps; `f` is not closed. JSON and
 * CSV rows are written immediately, table rows at out_close().
 */
#ifndef QUY_OUTPUT_H
#define QUY_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "program.h"
#include "strbuf.h"
#include "record.h"
#include "vm.h"

typedef enum out_format { OUT_JSONL, OUT_CSV, OUT_TABLE } out_format;

typedef struct out_writer out_writer;

/* NULL when out of memory. With f NULL, a memory writer (JSON Lines or
 * CSV): the records are formatted exactly as for a file, without the CSV
 * header, and kept until out_take (for formatting on several threads,
 * lib/jobs_write.c; the file's own writer adds the header and writes the
 * texts with out_put, in order). */
out_writer *out_open(FILE *f, out_format fmt, const q_program *p);

/* Memory writers: move the text formatted since the last call into `into`
 * (whose old memory the writer reuses). false when some of it was lost
 * for want of memory. */
bool out_take(out_writer *w, strbuf *into);
/* File writers: the CSV header now if it is not written yet (as the first
 * record would); then text a memory writer formatted, written as is. A
 * failed write is reported by out_close, as is out_fail (a text lost). */
void out_start(out_writer *w);
void out_put(out_writer *w, const char *s, size_t n);
void out_fail(out_writer *w);
out_format out_format_of(const out_writer *w);

/* One rated record. `eligible` is the q_outcome before the batch steps
 * (quota, caps). `trace_json` (JSON text, may be NULL: explain_render_json)
 * is written as "trace" in JSON Lines. `trace_text` (may be NULL) is printed under the row in the
 * table; both are ignored by the formats that have no place for them. */
void out_result(out_writer *w, const q_record *rec, const vm_result *res, uint8_t eligible, const char *trace_json,
                const char *trace_text);

/* A finding of the batch steps, written among the flags ("capped",
 * "quota_demoted"). Strings are copied. */
typedef struct out_flag {
    const char *code, *message, *cite;
} out_flag;

/* out_result() with the batch steps' flags appended to the rule flags. */
void out_result_ex(out_writer *w, const q_record *rec, const vm_result *res, uint8_t eligible, const out_flag *extra,
                   size_t nextra, const char *trace_json, const char *trace_text);

/* One rejected record (or a warning the caller chooses to show). */
void out_rejected(out_writer *w, const rec_error *err);

/* Write what is buffered (the whole table), the summary line, flush, and
 * free the writer. 0, or -1 if any write failed. */
int out_close(out_writer *w);

/* Display width of UTF-8 text in terminal columns: code points, combining
 * marks 0, East Asian wide and emoji 2 (an approximation of wcwidth that
 * does not depend on the locale). */
size_t out_display_width(const char *s);

#endif /* QUY_OUTPUT_H */
