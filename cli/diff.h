/*
 * diff.h — internals of `quy diff` (cli/cmd_diff.c and cli/diff_*.c).
 *
 *   diff_rate.c    the rating source: rate a corpus with one program
 *                  (dr_rate), the input reader that parses each record once
 *                  and decodes it for both programs (dr_in_*)
 *   diff_cause.c   why a record moved: the first rule, in decision order,
 *                  whose outcome differs, from the two VM traces (dc_explain)
 *   diff_expect.c  approved moves: read, check, write (dx_*)
 *   diff_report.c  text, JSON, CSV and HTML reports (rp_*)
 *   cmd_diff.c     options, the loop over records, the tallies
 *
 * Ownership: everything returned by a dr_/dc_/dx_ function belongs to the
 * caller unless said otherwise; strings are malloc'd.
 */
#ifndef QUY_DIFF_H
#define QUY_DIFF_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../runtime/program.h"
#include "../runtime/record.h"
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

typedef enum dr_status { DR_RATED, DR_REJECTED, DR_FAILED } dr_status;

/* One record rated by one program. */
typedef struct dr_row {
    uint8_t status;     /* dr_status: DR_REJECTED = by the loader, DR_FAILED = in the VM */
    uint8_t eligible;   /* q_outcome before the batch steps */
    uint8_t tier;       /* q_outcome after them */
    uint8_t error;      /* DR_FAILED: the vm_error */
    uint32_t rule;      /* deciding rule index, QUY_NONE */
    uint32_t error_pc;  /* DR_FAILED: instruction */
    uint16_t error_slot;
    const char *batch_note; /* the batch step that moved eligible -> tier, or NULL (static storage of the source) */
} dr_row;

static inline int dr_state(const dr_row *r, bool final)
{
    return r->status != DR_RATED ? DS_REJECTED : final ? r->tier : r->eligible;
}

/* Must the corpus be rated as one batch by this program (quotas, caps,
 * roll-ups applied by the batch engine)? While no batch engine exists,
 * false: every record is rated alone. */
bool dr_is_batch(const q_program *p);

/* THE rating source: rate recs[0..n) with program p as one corpus, in
 * input order, into rows[0..n). recs[i] == NULL: this program's loader
 * rejected record i (rows[i] = DR_REJECTED). Records are rated alone today
 * (eligible == tier); the batch engine plugs in here and nowhere else. */
void dr_rate(const q_program *p, q_record *const *recs, size_t n, dr_row *rows);

/* One input record decoded for both programs. rc[s] = 1: rec[s] is valid
 * (until the next dr_in_next); -1: err[s] says why program s rejected it. */
typedef struct dr_pair {
    int rc[2];
    q_record *rec[2];
    rec_error err[2];
    uint32_t line;
    const char *file;    /* input name */
    const char *kind;    /* "kind" of the input object if known (JSON), else NULL */
    const char *id;      /* id if known, else NULL */
    const char *peer_group;
} dr_pair;

typedef struct dr_in dr_in;

/* Open an input ("-" = standard input) for programs p[0] and p[1]. JSON
 * Lines are read line by line, each line parsed once (json_loadb) and
 * decoded twice (rec_decode_json); a JSON array or CSV is read by one
 * reader per program in lockstep (standard input is spooled to a
 * temporary file first). NULL with a message on stderr if it cannot be
 * opened. */
dr_in *dr_in_open(const char *path, const q_program *const p[2]);
/* 1: *out holds the next record; 0: end of input; -1: read error (reported). */
int dr_in_next(dr_in *in, dr_pair *out);
void dr_in_close(dr_in *in);
/* Unknown-field warnings seen (reported once per field, and only for a
 * field neither program declares). */
size_t dr_in_warnings(const dr_in *in);

/* =====================================================================
 * Causes (diff_cause.c)
 * ===================================================================== */

typedef enum dc_type { DC_RULE, DC_REJECTED, DC_BATCH, DC_UNEXPLAINED } dc_type;

typedef struct dc_cause {
    dc_type type;
    char key[192];    /* the cause as a token: rule name, rejected:SIDE:CODE[:FIELD], quota:..., unexplained */
    char label[256];  /* human label (Vietnamese rule label, error message start) */
    char cite_old[256], cite_new[256];
    json_t *detail;   /* structured detail (owned by the caller) */
} dc_cause;

/* Why the record in `pr` has rows a (old) and b (new) that differ. Traces
 * the record again with both programs when both rated it. evbuf: two
 * buffers of QUY_TRACE_CAP events. */
void dc_explain(const q_program *const p[2], const dr_pair *pr, const dr_row *row[2], vm_event *evbuf[2],
                dc_cause *out);

/* The detail as readable lines, each indented by `indent` (for the text
 * report and the CSV). Appends to f. */
void dc_detail_text(const json_t *detail, FILE *f, int indent);

/* =====================================================================
 * Approved moves (diff_expect.c)
 * ===================================================================== */

/* A move's key: old state, new state, cause. A state is a tier code, or
 * "ELIGIBLE/FINAL" when a batch step changed the tier. */
typedef struct dx_set dx_set;

dx_set *dx_new(void);
void dx_free(dx_set *s);
/* Count n moves; `label` (may be NULL) is kept from the first call and
 * written as a comment by dx_write. */
void dx_add(dx_set *s, const char *old_state, const char *new_state, const char *cause, const char *label, uint64_t n);
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
