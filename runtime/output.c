/*
 * output.c — rating results as JSON Lines, CSV or an aligned table
 * (output.h, prefix out_). jansson builds and prints the JSON; libcsv
 * quotes CSV cells.
 */
#include "output.h"
#include "vec.h"

#include <csv.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* One table row, kept until out_close() so the columns can be aligned. */
enum { COL_ID, COL_KIND, COL_TIER, COL_LABEL, COL_RULE, COL_FLAGS, NCOLS };

typedef struct out_row {
    char *cell[NCOLS]; /* malloc'd; for a rejected row COL_LABEL holds the message */
    char *trace;       /* malloc'd or NULL */
    bool rejected;
} out_row;

struct out_writer {
    FILE *f;
    out_format fmt;
    const q_program *p;
    char *ruleset;      /* "name@version" */
    bool failed;        /* a write failed */
    bool header_done;   /* CSV header written */
    out_row *rows;      /* table */
    size_t nrows, rows_cap;
    size_t count[QO__COUNT];
    size_t nrejected;
    const out_flag *extra; /* batch flags of the row being written */
    size_t nextra;
};

/* =====================================================================
 * Helpers
 * ===================================================================== */

static char *dup_str(const char *s)
{
    return strdup(s ? s : "");
}

/* A JSON string; text that is not valid UTF-8 (a CSV id, say) has its bad
 * bytes replaced by U+FFFD so the output stays valid JSON. */
static json_t *jstr(const char *s)
{
    if (!s) return json_null();
    json_t *j = json_string(s);
    if (j) return j;
    size_t n = strlen(s);
    char *t = malloc(n * 3 + 1);
    if (!t) return json_null();
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        bool ok = len > 0 && i + len <= n;
        for (size_t k = 1; ok && k < len; k++) ok = ((unsigned char)s[i + k] >> 6) == 2;
        if (ok) {
            memcpy(t + o, s + i, len);
            o += len;
            i += len;
        } else {
            memcpy(t + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        }
    }
    t[o] = 0;
    j = json_string(t);
    free(t);
    return j ? j : json_null();
}

static json_t *jstr_or_null(const char *s) { return s && *s ? jstr(s) : json_null(); }

static const char *outcome_code(uint8_t o) { return o < QO__COUNT ? q_outcome_code[o] : "?"; }

static const char *kind_name(const q_program *p, const q_record *rec)
{
    return rec->kind < p->nkinds ? prog_str(p, p->kinds[rec->kind].name) : "";
}

static const q_rule *deciding_rule(const q_program *p, const vm_result *res)
{
    return res->rule < p->nrules ? &p->rules[res->rule] : NULL;
}

static const q_flagdef *flag_at(const q_program *p, const vm_result *res, uint32_t i)
{
    uint32_t idx = res->flags[i];
    return idx < p->nflagdefs ? &p->flags[idx] : NULL;
}

static uint32_t nflags(const vm_result *res)
{
    return res->nflags < QUY_MAX_FLAGS ? res->nflags : QUY_MAX_FLAGS;
}

/* Flag codes joined by `sep`, malloc'd. */
static char *join_flags(const out_writer *w, const vm_result *res, const char *sep)
{
    const q_program *p = w->p;
    size_t n = 1;
    for (uint32_t i = 0; i < nflags(res); i++) {
        const q_flagdef *fl = flag_at(p, res, i);
        n += strlen(fl ? prog_str(p, fl->name) : "?") + strlen(sep);
    }
    for (size_t i = 0; i < w->nextra; i++) n += strlen(w->extra[i].code) + strlen(sep);
    char *s = malloc(n);
    if (!s) return NULL;
    s[0] = 0;
    size_t o = 0;
    for (uint32_t i = 0; i < nflags(res); i++) {
        const q_flagdef *fl = flag_at(p, res, i);
        o += (size_t)snprintf(s + o, n - o, "%s%s", i ? sep : "", fl ? prog_str(p, fl->name) : "?");
    }
    for (size_t i = 0; i < w->nextra; i++)
        o += (size_t)snprintf(s + o, n - o, "%s%s", o ? sep : "", w->extra[i].code);
    return s;
}

/* The message of a VM failure, naming the absent field when there is one. */
static void vm_failure(const q_program *p, const q_record *rec, const vm_result *res, char *buf, size_t size,
                       const char **field)
{
    const char *msg = res->error < VM__COUNT ? vm_error_message[res->error] : "?";
    *field = "";
    if (res->error == VM_ABSENT && rec->kind < p->nkinds && res->error_slot < p->kinds[rec->kind].nfields)
        *field = prog_str(p, p->fields[p->kinds[rec->kind].first_field + res->error_slot].name);
    if (**field) snprintf(buf, size, "%s: '%s'", msg, *field);
    else if (res->error_text) snprintf(buf, size, "%s: %s", msg, res->error_text);
    else snprintf(buf, size, "%s", msg);
}

/* =====================================================================
 * JSON Lines
 * ===================================================================== */

static void emit_json(out_writer *w, json_t *o)
{
    if (!o || json_dumpf(o, w->f, JSON_COMPACT | JSON_PRESERVE_ORDER) != 0 || fputc('\n', w->f) == EOF)
        w->failed = true;
    json_decref(o);
}

static void jsonl_result(out_writer *w, const q_record *rec, const vm_result *res, uint8_t eligible,
                         const char *trace_json)
{
    const q_program *p = w->p;
    json_t *o = json_object();
    json_object_set_new(o, "id", jstr(rec->id));
    json_object_set_new(o, "kind", jstr(kind_name(p, rec)));
    if (res->error != VM_OK) {
        char msg[1400];
        const char *field;
        vm_failure(p, rec, res, msg, sizeof msg, &field);
        json_t *e = json_object();
        json_object_set_new(e, "code", json_string("eval"));
        json_object_set_new(e, "field", jstr_or_null(field));
        json_object_set_new(e, "line", rec->line ? json_integer(rec->line) : json_null());
        json_object_set_new(e, "file", json_null());
        json_object_set_new(e, "message", jstr(msg));
        json_object_set_new(o, "error", e);
        json_object_set_new(o, "ruleset", jstr(w->ruleset));
        emit_json(w, o);
        return;
    }
    json_object_set_new(o, "tier", json_string(outcome_code(res->outcome)));
    json_object_set_new(o, "eligible_tier", eligible < QO__COUNT ? json_string(q_outcome_code[eligible]) : json_null());
    json_t *flags = json_array();
    for (uint32_t i = 0; i < nflags(res); i++) {
        const q_flagdef *fl = flag_at(p, res, i);
        json_t *f = json_object();
        json_object_set_new(f, "code", jstr(fl ? prog_str(p, fl->name) : "?"));
        json_object_set_new(f, "message", jstr(fl ? prog_str(p, fl->message) : ""));
        json_object_set_new(f, "cite", jstr(fl ? prog_str(p, fl->cite) : ""));
        const char *note = vm_note_of(res, res->flags[i]); /* an adjustment's reason */
        if (note) json_object_set_new(f, "detail", jstr(note));
        json_array_append_new(flags, f);
    }
    for (size_t i = 0; i < w->nextra; i++) {
        json_t *f = json_object();
        json_object_set_new(f, "code", jstr(w->extra[i].code));
        json_object_set_new(f, "message", jstr(w->extra[i].message));
        json_object_set_new(f, "cite", jstr(w->extra[i].cite));
        json_array_append_new(flags, f);
    }
    json_object_set_new(o, "flags", flags);
    const q_rule *ru = deciding_rule(p, res);
    if (ru) {
        json_t *r = json_object();
        json_object_set_new(r, "name", jstr(prog_str(p, ru->name)));
        json_object_set_new(r, "cite", jstr(prog_str(p, ru->cite)));
        json_object_set_new(r, "layer", jstr(prog_str(p, ru->layer)));
        json_object_set_new(o, "rule", r);
    } else {
        json_object_set_new(o, "rule", json_null());
    }
    json_object_set_new(o, "ruleset", jstr(w->ruleset));
    if (trace_json) { /* interim: the object's text, then the trace */
        char *t = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        size_t n = t ? strlen(t) : 0;
        if (!n || fwrite(t, 1, n - 1, w->f) != n - 1 || fprintf(w->f, ",\"trace\":%s}\n", trace_json) < 0)
            w->failed = true;
        free(t);
        json_decref(o);
        return;
    }
    emit_json(w, o);
}

static void jsonl_rejected(out_writer *w, const rec_error *err)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", jstr_or_null(err->id));
    json_t *e = json_object();
    json_object_set_new(e, "code", jstr(err->code));
    json_object_set_new(e, "field", jstr_or_null(err->field));
    json_object_set_new(e, "line", err->line ? json_integer(err->line) : json_null());
    json_object_set_new(e, "file", jstr_or_null(err->file));
    json_object_set_new(e, "message", jstr(err->message));
    json_object_set_new(o, "error", e);
    emit_json(w, o);
}

/* =====================================================================
 * CSV
 * ===================================================================== */

/* One cell: quoted by libcsv only when it has to be. */
static void csv_cell(out_writer *w, const char *s, bool last)
{
    s = s ? s : "";
    size_t n = strlen(s);
    bool quote = n && (strpbrk(s, ",\"\r\n") || s[0] == ' ' || s[n - 1] == ' ');
    int rc = quote ? csv_fwrite(w->f, s, n) : (n ? (fwrite(s, 1, n, w->f) == n ? 0 : EOF) : 0);
    if (rc == EOF || fputc(last ? '\n' : ',', w->f) == EOF) w->failed = true;
}

static void csv_header(out_writer *w)
{
    if (w->header_done) return;
    w->header_done = true;
    static const char *const head[] = {"id", "kind", "tier", "eligible_tier", "flags", "rule", "cite", "error"};
    for (size_t i = 0; i < 8; i++) csv_cell(w, head[i], i == 7);
}

static void csv_result(out_writer *w, const q_record *rec, const vm_result *res, uint8_t eligible)
{
    const q_program *p = w->p;
    csv_header(w);
    csv_cell(w, rec->id, false);
    csv_cell(w, kind_name(p, rec), false);
    if (res->error != VM_OK) {
        char msg[1400], line[1420];
        const char *field;
        vm_failure(p, rec, res, msg, sizeof msg, &field);
        snprintf(line, sizeof line, "eval: %s", msg);
        for (int i = 0; i < 5; i++) csv_cell(w, "", false);
        csv_cell(w, line, true);
        return;
    }
    csv_cell(w, outcome_code(res->outcome), false);
    csv_cell(w, eligible < QO__COUNT ? q_outcome_code[eligible] : "", false);
    char *fl = join_flags(w, res, ";");
    if (!fl) w->failed = true;
    csv_cell(w, fl, false);
    free(fl);
    const q_rule *ru = deciding_rule(p, res);
    csv_cell(w, ru ? prog_str(p, ru->name) : "", false);
    csv_cell(w, ru ? prog_str(p, ru->cite) : "", false);
    csv_cell(w, "", true);
}

static void csv_rejected(out_writer *w, const rec_error *err)
{
    csv_header(w);
    csv_cell(w, err->id, false);
    for (int i = 0; i < 6; i++) csv_cell(w, "", false);
    size_t n = strlen(err->code) + strlen(err->message) + 3;
    char *s = malloc(n);
    if (!s) {
        w->failed = true;
        csv_cell(w, err->code, true);
        return;
    }
    snprintf(s, n, "%s: %s", err->code, err->message);
    csv_cell(w, s, true);
    free(s);
}

/* =====================================================================
 * Table
 * ===================================================================== */

static bool is_combining(uint32_t c)
{
    return (c >= 0x0300 && c <= 0x036F) || (c >= 0x1AB0 && c <= 0x1AFF) || (c >= 0x1DC0 && c <= 0x1DFF) ||
           (c >= 0x20D0 && c <= 0x20FF) || (c >= 0xFE20 && c <= 0xFE2F) || c == 0x200B || c == 0x200C ||
           c == 0x200D || c == 0xFE0F;
}

static bool is_wide(uint32_t c)
{
    return (c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0xA4CF) || (c >= 0xAC00 && c <= 0xD7A3) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFF60) ||
           (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x1F300 && c <= 0x1F64F) || (c >= 0x1F900 && c <= 0x1F9FF) ||
           (c >= 0x20000 && c <= 0x3FFFD);
}

size_t out_display_width(const char *s)
{
    size_t w = 0;
    const unsigned char *u = (const unsigned char *)s;
    while (*u) {
        uint32_t c = *u;
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
        if (len > 1) {
            c &= 0x3Fu >> (len - 1);
            for (size_t k = 1; k < len; k++) {
                if ((u[k] >> 6) != 2) { /* broken sequence: one column per byte */
                    len = 1;
                    c = 0xFFFD;
                    break;
                }
                c = (c << 6) | (u[k] & 0x3Fu);
            }
        }
        u += len;
        w += is_combining(c) ? 0 : is_wide(c) ? 2 : 1;
    }
    return w;
}

static out_row *new_row(out_writer *w)
{
    if (VEC_RESERVE(w->rows, w->nrows, w->rows_cap, 1) != 0) {
        w->failed = true;
        return NULL;
    }
    out_row *r = &w->rows[w->nrows++];
    memset(r, 0, sizeof *r);
    return r;
}

static void table_result(out_writer *w, const q_record *rec, const vm_result *res, const char *trace_text)
{
    const q_program *p = w->p;
    out_row *r = new_row(w);
    if (!r) return;
    r->cell[COL_ID] = dup_str(rec->id);
    r->cell[COL_KIND] = dup_str(kind_name(p, rec));
    if (res->error != VM_OK) {
        char msg[1400];
        const char *field;
        vm_failure(p, rec, res, msg, sizeof msg, &field);
        char line[1420];
        snprintf(line, sizeof line, "eval: %s", msg);
        r->rejected = true;
        r->cell[COL_TIER] = dup_str("LỖI");
        r->cell[COL_LABEL] = dup_str(line);
    } else {
        r->cell[COL_TIER] = dup_str(outcome_code(res->outcome));
        r->cell[COL_LABEL] = dup_str(res->outcome < QO__COUNT ? q_outcome_label[res->outcome] : "");
        const q_rule *ru = deciding_rule(p, res);
        if (ru) {
            const char *name = prog_str(p, ru->name), *cite = prog_str(p, ru->cite);
            size_t n = strlen(name) + strlen(cite) + 4;
            r->cell[COL_RULE] = malloc(n);
            if (r->cell[COL_RULE]) snprintf(r->cell[COL_RULE], n, *cite ? "%s (%s)" : "%s", name, cite);
        } else {
            r->cell[COL_RULE] = dup_str("");
        }
        r->cell[COL_FLAGS] = join_flags(w, res, ", ");
    }
    if (trace_text && *trace_text) r->trace = dup_str(trace_text);
    for (int c = 0; c < NCOLS; c++)
        if (!r->cell[c] && !(r->rejected && c > COL_LABEL)) w->failed = true;
}

static void table_rejected(out_writer *w, const rec_error *err)
{
    out_row *r = new_row(w);
    if (!r) return;
    r->rejected = true;
    r->cell[COL_ID] = dup_str(err->id[0] ? err->id : "?");
    r->cell[COL_KIND] = dup_str("");
    r->cell[COL_TIER] = dup_str("LỖI");
    size_t n = strlen(err->code) + strlen(err->message) + strlen(err->file) + 40;
    r->cell[COL_LABEL] = malloc(n);
    if (r->cell[COL_LABEL]) {
        if (err->line) snprintf(r->cell[COL_LABEL], n, "%s: %s [%s:%u]", err->code, err->message, err->file, err->line);
        else snprintf(r->cell[COL_LABEL], n, "%s: %s", err->code, err->message);
    }
    if (!r->cell[COL_ID] || !r->cell[COL_KIND] || !r->cell[COL_TIER] || !r->cell[COL_LABEL]) w->failed = true;
}

static void put(out_writer *w, const char *s)
{
    if (fputs(s, w->f) == EOF) w->failed = true;
}

static void pad(out_writer *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (fputc(' ', w->f) == EOF) w->failed = true;
}

/* Cells [0, upto) padded to their column width, two spaces apart; the
 * last cell of a row is never padded. */
static void table_flush(out_writer *w)
{
    static const char *const head[NCOLS] = {"id", "kind", "tier", "xếp loại", "quy tắc (căn cứ)", "cờ"};
    size_t width[NCOLS];
    for (int c = 0; c < NCOLS; c++) width[c] = out_display_width(head[c]);
    for (size_t i = 0; i < w->nrows; i++) {
        const out_row *r = &w->rows[i];
        int ncells = r->rejected ? COL_LABEL : NCOLS; /* a rejected row's message is not aligned */
        for (int c = 0; c < ncells; c++) {
            size_t dw = out_display_width(r->cell[c] ? r->cell[c] : "");
            if (dw > width[c]) width[c] = dw;
        }
    }
    for (int c = 0; c < NCOLS; c++) {
        put(w, head[c]);
        if (c < NCOLS - 1) pad(w, width[c] - out_display_width(head[c]) + 2);
    }
    put(w, "\n");
    for (size_t i = 0; i < w->nrows; i++) {
        const out_row *r = &w->rows[i];
        int last = r->rejected ? COL_LABEL : NCOLS - 1;
        while (!r->rejected && last > 0 && !(r->cell[last] && *r->cell[last])) last--; /* no trailing pad */
        for (int c = 0; c <= last; c++) {
            const char *s = r->cell[c] ? r->cell[c] : "";
            put(w, s);
            if (c < last) pad(w, width[c] - out_display_width(s) + 2);
        }
        put(w, "\n");
        if (r->trace) {
            const char *t = r->trace;
            while (*t) {
                const char *nl = strchr(t, '\n');
                size_t n = nl ? (size_t)(nl - t) : strlen(t);
                put(w, "    ");
                if (fwrite(t, 1, n, w->f) != n) w->failed = true;
                put(w, "\n");
                t += n + (nl ? 1 : 0);
            }
        }
    }
    /* Summary: every tier, the non-tiers when they occur, the rejected. */
    size_t total = w->nrejected;
    for (int o = 0; o < QO__COUNT; o++) total += w->count[o];
    char line[512];
    size_t n = (size_t)snprintf(line, sizeof line, "Tổng cộng %zu bản ghi:", total);
    static const uint8_t order[] = {QO_HTXSNV, QO_HTTNV, QO_HTNV, QO_KHTNV, QO_NOT_RATED, QO_DEFERRED};
    bool first = true;
    for (size_t k = 0; k < sizeof order && n < sizeof line; k++) {
        uint8_t o = order[k];
        if (o >= QO_NOT_RATED && !w->count[o]) continue;
        n += (size_t)snprintf(line + n, sizeof line - n, "%s %s %zu", first ? "" : " ·", q_outcome_code[o], w->count[o]);
        first = false;
    }
    if (n < sizeof line)
        snprintf(line + n, sizeof line - n, " · lỗi %zu (%zu records, %zu rejected)\n", w->nrejected, total,
                 w->nrejected);
    put(w, line);
}

/* =====================================================================
 * Public API
 * ===================================================================== */

out_writer *out_open(FILE *f, out_format fmt, const q_program *p)
{
    out_writer *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->f = f;
    w->fmt = fmt;
    w->p = p;
    const char *name = prog_str(p, p->name), *version = prog_str(p, p->version);
    size_t n = strlen(name) + strlen(version) + 2;
    w->ruleset = malloc(n);
    if (!w->ruleset) {
        free(w);
        return NULL;
    }
    snprintf(w->ruleset, n, *version ? "%s@%s" : "%s", name, version);
    return w;
}

void out_result(out_writer *w, const q_record *rec, const vm_result *res, uint8_t eligible, const char *trace_json,
                const char *trace_text)
{
    out_result_ex(w, rec, res, eligible, NULL, 0, trace_json, trace_text);
}

void out_result_ex(out_writer *w, const q_record *rec, const vm_result *res, uint8_t eligible, const out_flag *extra,
                   size_t nextra, const char *trace_json, const char *trace_text)
{
    w->extra = extra;
    w->nextra = nextra;
    if (res->error != VM_OK) w->nrejected++;
    else if (res->outcome < QO__COUNT) w->count[res->outcome]++;
    switch (w->fmt) {
    case OUT_JSONL: jsonl_result(w, rec, res, eligible, trace_json); break;
    case OUT_CSV: csv_result(w, rec, res, eligible); break;
    case OUT_TABLE: table_result(w, rec, res, trace_text); break;
    }
    w->extra = NULL;
    w->nextra = 0;
}

void out_rejected(out_writer *w, const rec_error *err)
{
    w->nrejected++;
    switch (w->fmt) {
    case OUT_JSONL: jsonl_rejected(w, err); break;
    case OUT_CSV: csv_rejected(w, err); break;
    case OUT_TABLE: table_rejected(w, err); break;
    }
}

int out_close(out_writer *w)
{
    if (!w) return -1;
    if (w->fmt == OUT_TABLE) table_flush(w);
    if (w->fmt == OUT_CSV) csv_header(w); /* an empty result still has its header */
    if (fflush(w->f) != 0 || ferror(w->f)) w->failed = true;
    int rc = w->failed ? -1 : 0;
    for (size_t i = 0; i < w->nrows; i++) {
        for (int c = 0; c < NCOLS; c++) free(w->rows[i].cell[c]);
        free(w->rows[i].trace);
    }
    free(w->rows);
    free(w->ruleset);
    free(w);
    return rc;
}
