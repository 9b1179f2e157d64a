/*
 * diff.h — `quy diff`'s reports (cli/diff_report.c) over the engine in
 * diff/diff.h; cli/cmd_diff.c parses the options.
 */
#ifndef QUY_DIFF_H
#define QUY_DIFF_H

#include "../diff/diff.h"

/* The detail of a cause as readable lines, each indented by `indent` (for
 * the text report and the CSV). Appends to f. */
void dc_detail_text(const json_t *detail, FILE *f, int indent);

/* =====================================================================
 * Reports (diff_report.c)
 * ===================================================================== */

typedef enum rp_format { RP_TEXT, RP_JSON, RP_CSV, RP_HTML } rp_format;

/* The whole result, built by cmd_diff.c. `summary` is a JSON object with
 * everything but the moved records; the moved records are JSON Lines in
 * `moved` (a temporary file, rewound by the writer). */
typedef struct rp_input {
    json_t *summary;
    FILE *moved;
    uint64_t nmoved;
} rp_input;

int rp_write(rp_format fmt, const rp_input *in, FILE *out);

#endif /* QUY_DIFF_H */
