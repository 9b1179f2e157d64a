/*
 * output.c — rating results as JSON Lines, CSV or an aligned table
 * (output.h, prefix out_). Each JSON Lines / CSV record is formatted into
 * one buffer (a strbuf, reused) and written with one fwrite; the table is
 * formatted at out_close() and written in blocks. JSON strings are escaped
 * as jansson's compact dump did (strbuf_json), CSV cells quoted as libcsv
 * did (only when needed, `"` doubled).
 */
#include "output.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "vec.h"

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
    char *ruleset_json; /* the same as a JSON string */
    bool failed;        /* a write failed */
    bool header_done;   /* CSV header written */
    out_row *rows;      /* table */
    size_t nrows, rows_cap;
    size_t count[QO__COUNT];
    size_t nrejected;
    const out_flag *extra; /* batch flags of the row being written */
    size_t nextra;
    strbuf line;        /* the record being formatted (JSON Lines, CSV) or a block of the table */
    /* program strings already escaped as JSON (most of a JSON line): */
    strbuf esc;         /* their escaped texts, one after the other */
    uint32_t *esc_at;   /* per string id: offset in esc, UINT32_MAX until first used */
    uint32_t *esc_len;  /* per string id: length */
};

/* =====================================================================
 * Helpers
 * ===================================================================== */

static char *dup_str(const char *s)
{
    return strdup(s ? s : "");
}

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

/* Flag codes joined by `sep`. */
static void join_flags(const out_writer *w, const vm_result *res, const char *sep, strbuf *out)
{
    const q_program *p = w->p;
    size_t start = out->n;
    for (uint32_t i = 0; i < nflags(res); i++) {
        const q_flagdef *fl = flag_at(p, res, i);
        if (i) strbuf_puts(out, sep);
        strbuf_puts(out, fl ? prog_str(p, fl->name) : "?");
    }
    for (size_t i = 0; i < w->nextra; i++) {
        if (out->n > start) strbuf_puts(out, sep);
        strbuf_puts(out, w->extra[i].code);
    }
}

/* Write the formatted record and empty the buffer (a memory writer keeps
 * it: out_take). */
static void flush_line(out_writer *w)
{
    if (!w->f) {
        if (w->line.failed) w->failed = true;
        return;
    }
    if (w->line.failed || (w->line.n && fwrite(w->line.s, 1, w->line.n, w->f) != w->line.n)) w->failed = true;
    strbuf_reset(&w->line);
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

/* ,"name": (a literal: sizeof - 1 is its length) */
#define key(b, name) strbuf_put((b), ",\"" name "\":", sizeof(",\"" name "\":") - 1)

/* Program string `id` as a JSON string, escaped once per writer. */
static void jprog(out_writer *w, uint32_t id)
{
    const q_program *p = w->p;
    if (id >= p->nstr || !w->esc_at) {
        strbuf_json(&w->line, prog_str(p, id));
        return;
    }
    if (w->esc_at[id] == UINT32_MAX) {
        size_t at = w->esc.n;
        strbuf_json(&w->esc, prog_str(p, id));
        if (w->esc.failed || w->esc.n > UINT32_MAX) {
            strbuf_json(&w->line, prog_str(p, id));
            return;
        }
        w->esc_at[id] = (uint32_t)at;
        w->esc_len[id] = (uint32_t)(w->esc.n - at);
    }
    strbuf_put(&w->line, w->esc.s + w->esc_at[id], w->esc_len[id]);
}

static void jstr(strbuf *b, const char *s)
{
    if (s) strbuf_json(b, s);
    else strbuf_puts(b, "null");
}

static void jline(strbuf *b, uint32_t line)
{
    if (line) strbuf_printf(b, "%u", line);
    else strbuf_puts(b, "null");
}

static void jsonl_result(out_writer *w, const q_record *rec, const vm_result *res, uint8_t eligible,
                         const char *trace_json)
{
    const q_program *p = w->p;
    strbuf *b = &w->line;
    strbuf_puts(b, "{\"id\":");
    jstr(b, rec->id);
    key(b, "kind");
    if (rec->kind < p->nkinds) jprog(w, p->kinds[rec->kind].name);
    else jstr(b, "");
    if (res->error != VM_OK) {
        char msg[1400];
        const char *field;
        vm_failure(p, rec, res, msg, sizeof msg, &field);
        strbuf_puts(b, ",\"error\":{\"code\":\"eval\",\"field\":");
        strbuf_json_or_null(b, field);
        key(b, "line");
        jline(b, rec->line);
        strbuf_puts(b, ",\"file\":null,\"message\":");
        jstr(b, msg);
        strbuf_puts(b, "},\"ruleset\":");
        strbuf_puts(b, w->ruleset_json);
        strbuf_puts(b, "}\n");
        flush_line(w);
        return;
    }
    key(b, "tier");
    jstr(b, outcome_code(res->outcome));
    key(b, "eligible_tier");
    jstr(b, eligible < QO__COUNT ? q_outcome_code[eligible] : NULL);
    strbuf_puts(b, ",\"flags\":[");
    for (uint32_t i = 0; i < nflags(res); i++) {
        const q_flagdef *fl = flag_at(p, res, i);
        strbuf_puts(b, i ? ",{\"code\":" : "{\"code\":");
        if (fl) {
            jprog(w, fl->name);
            key(b, "message");
            jprog(w, fl->message);
            key(b, "cite");
            jprog(w, fl->cite);
        } else {
            strbuf_puts(b, "\"?\",\"message\":\"\",\"cite\":\"\"");
        }
        const char *note = vm_note_of(res, res->flags[i]); /* an adjustment's reason */
        if (note) {
            key(b, "detail");
            jstr(b, note);
        }
        strbuf_putc(b, '}');
    }
    for (size_t i = 0; i < w->nextra; i++) {
        strbuf_puts(b, i || nflags(res) ? ",{\"code\":" : "{\"code\":");
        jstr(b, w->extra[i].code);
        key(b, "message");
        jstr(b, w->extra[i].message);
        key(b, "cite");
        jstr(b, w->extra[i].cite);
        strbuf_putc(b, '}');
    }
    strbuf_puts(b, "],\"rule\":");
    const q_rule *ru = deciding_rule(p, res);
    if (ru) {
        strbuf_puts(b, "{\"name\":");
        jprog(w, ru->name);
        key(b, "cite");
        jprog(w, ru->cite);
        key(b, "layer");
        jprog(w, ru->layer);
        strbuf_putc(b, '}');
    } else {
        strbuf_puts(b, "null");
    }
    key(b, "ruleset");
    strbuf_puts(b, w->ruleset_json);
    if (trace_json) {
        key(b, "trace");
        strbuf_puts(b, trace_json);
    }
    strbuf_puts(b, "}\n");
    flush_line(w);
}

static void jsonl_rejected(out_writer *w, const rec_error *err)
{
    strbuf *b = &w->line;
    strbuf_puts(b, "{\"id\":");
    strbuf_json_or_null(b, err->id);
    strbuf_puts(b, ",\"error\":{\"code\":");
    jstr(b, err->code);
    key(b, "field");
    strbuf_json_or_null(b, err->field);
    key(b, "line");
    jline(b, err->line);
    key(b, "file");
    strbuf_json_or_null(b, err->file);
    key(b, "message");
    jstr(b, err->message);
    strbuf_puts(b, "}}\n");
    flush_line(w);
}

/* =====================================================================
 * CSV
 * ===================================================================== */

/* One cell: quoted only when it has to be, `"` doubled. */
static void csv_cell(out_writer *w, const char *s, bool last)
{
    strbuf *b = &w->line;
    s = s ? s : "";
    size_t n = strlen(s);
    bool quote = n && (strpbrk(s, ",\"\r\n") || s[0] == ' ' || s[n - 1] == ' ');
    if (quote) {
        strbuf_putc(b, '"');
        for (const char *q; (q = strchr(s, '"')); s = q + 1) {
            strbuf_put(b, s, (size_t)(q - s) + 1);
            strbuf_putc(b, '"');
        }
        strbuf_puts(b, s);
        strbuf_putc(b, '"');
    } else {
        strbuf_put(b, s, n);
    }
    strbuf_putc(b, last ? '\n' : ',');
    if (last) flush_line(w);
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
    strbuf fl = {0};
    join_flags(w, res, ";", &fl);
    if (fl.failed) w->failed = true;
    csv_cell(w, fl.s, false);
    strbuf_free(&fl);
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
    strbuf msg = {0};
    strbuf_printf(&msg, "%s: %s", err->code, err->message);
    if (msg.failed) w->failed = true;
    csv_cell(w, msg.s ? msg.s : err->code, true);
    strbuf_free(&msg);
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
        strbuf fl = {0};
        join_flags(w, res, ", ", &fl);
        r->cell[COL_FLAGS] = strbuf_take(&fl);
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

static void put(out_writer *w, const char *s) { strbuf_puts(&w->line, s); }

static void pad(out_writer *w, size_t n) { strbuf_pad(&w->line, n); }

/* The table is written in blocks of about 64 KiB. */
static void block_done(out_writer *w)
{
    if (w->line.n >= 1 << 16) flush_line(w);
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
                strbuf_put(&w->line, t, n);
                put(w, "\n");
                t += n + (nl ? 1 : 0);
            }
        }
        block_done(w);
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
    flush_line(w);
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
    w->header_done = !f; /* a memory writer's text follows the file writer's header */
    const char *name = prog_str(p, p->name), *version = prog_str(p, p->version);
    size_t n = strlen(name) + strlen(version) + 2;
    w->ruleset = malloc(n);
    if (!w->ruleset) {
        free(w);
        return NULL;
    }
    snprintf(w->ruleset, n, *version ? "%s@%s" : "%s", name, version);
    strbuf rj = {0};
    strbuf_json(&rj, w->ruleset);
    if (!(w->ruleset_json = strbuf_take(&rj))) {
        free(w->ruleset);
        free(w);
        return NULL;
    }
    if (fmt == OUT_JSONL && p->nstr) { /* without the cache, strings are escaped each time */
        w->esc_at = malloc(p->nstr * sizeof *w->esc_at);
        w->esc_len = malloc(p->nstr * sizeof *w->esc_len);
        if (w->esc_at && w->esc_len) memset(w->esc_at, 0xFF, p->nstr * sizeof *w->esc_at);
        else {
            free(w->esc_at);
            free(w->esc_len);
            w->esc_at = w->esc_len = NULL;
        }
    }
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

void out_start(out_writer *w)
{
    if (w->fmt == OUT_CSV) csv_header(w);
}

bool out_take(out_writer *w, strbuf *into)
{
    bool ok = !w->failed && !w->line.failed;
    strbuf_reset(into);
    strbuf text = w->line;
    w->line = *into; /* its memory is reused for the next records */
    *into = text;
    w->failed = false;
    return ok;
}

void out_put(out_writer *w, const char *s, size_t n)
{
    if (n && fwrite(s, 1, n, w->f) != n) w->failed = true;
}

void out_fail(out_writer *w) { w->failed = true; }

out_format out_format_of(const out_writer *w) { return w->fmt; }

int out_close(out_writer *w)
{
    if (!w) return -1;
    if (w->fmt == OUT_TABLE && w->f) table_flush(w);
    if (w->fmt == OUT_CSV) csv_header(w); /* an empty result still has its header */
    if (w->f && (fflush(w->f) != 0 || ferror(w->f))) w->failed = true;
    int rc = w->failed ? -1 : 0;
    for (size_t i = 0; i < w->nrows; i++) {
        for (int c = 0; c < NCOLS; c++) free(w->rows[i].cell[c]);
        free(w->rows[i].trace);
    }
    free(w->rows);
    strbuf_free(&w->line);
    strbuf_free(&w->esc);
    free(w->esc_at);
    free(w->esc_len);
    free(w->ruleset);
    free(w->ruleset_json);
    free(w);
    return rc;
}
