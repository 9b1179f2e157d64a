/*
 * record.c — reading evaluation records (JSON Lines, a JSON array, CSV with
 * a header row; files or standard input) and checking each one against the
 * declared record type of its `kind` (record.h, prefix rec_).
 * Contract: ../shared/spec/records.md.
 *
 * Libraries do the parsing: jansson for JSON, libcsv for CSV. This file
 * maps their values onto q_val slots, one field of the kind at a time, and
 * runs the kind's declared checks (vm_eval) on the decoded record.
 *
 * Memory: one reusable record per reader. The slots, presence bytes and
 * element arena grow as needed and are reused from record to record; strings
 * go into a chunked arena whose chunks never move (a string value holds a
 * pointer), reset per record. Nothing is allocated per field in the hot path
 * except what jansson allocates while parsing.
 *
 * Input is read through a small buffer of our own (not stdio line reading),
 * so that the format can be sniffed from the first non-space byte of a
 * stream that cannot seek (standard input) without pushing bytes back.
 */
#include "record.h"
#include "strset.h"

#include <csv.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "vm.h"

#define MAPPED 1u /* CSV column map: the kind's entry after its fields */

/* =====================================================================
 * String arena: chunks that never move, reset per record
 * ===================================================================== */

typedef struct chunk {
    struct chunk *next;
    size_t cap, used;
    char data[];
} chunk;

typedef struct arena {
    chunk *head, *cur;
} arena;

static void arena_reset(arena *a)
{
    for (chunk *c = a->head; c; c = c->next) c->used = 0;
    a->cur = a->head;
}

static char *arena_alloc(arena *a, size_t n)
{
    for (;;) {
        chunk *c = a->cur;
        if (c && c->cap - c->used >= n) {
            char *s = c->data + c->used;
            c->used += n;
            return s;
        }
        if (c && c->next) {
            a->cur = c->next;
            continue;
        }
        size_t cap = n > 4096 ? n : 4096;
        chunk *nc = malloc(sizeof *nc + cap);
        if (!nc) return NULL;
        nc->next = NULL;
        nc->cap = cap;
        nc->used = 0;
        if (c) c->next = nc;
        else a->head = nc;
        a->cur = nc;
    }
}

static void arena_free(arena *a)
{
    chunk *c = a->head;
    while (c) {
        chunk *n = c->next;
        free(c);
        c = n;
    }
    a->head = a->cur = NULL;
}

/* =====================================================================
 * The reader
 * ===================================================================== */

struct rec_reader {
    const q_program *p;
    FILE *in;
    char name[256];
    rec_format fmt;    /* REC_AUTO until sniffed */
    rec_warn_fn warn;
    void *warn_ctx;

    /* input buffer */
    char *buf;
    size_t cap, start, end;
    bool eof;          /* fread reached the end (or failed) */
    bool io_reported;  /* a read error was reported */
    bool sniffed;      /* BOM and leading white space skipped, format known */
    bool done;         /* no more records */
    uint32_t line;     /* physical lines consumed so far */
    uint32_t index;    /* records seen so far (valid or not) */

    /* the current record */
    q_record rec;
    uint32_t maxfields; /* largest kind: size of slots / present */
    uint32_t elem_cap;
    arena strings;
    const char *cur_id; /* id of the record being decoded, for errors */
    uint32_t cur_line;

    strset ids;        /* id -> line first seen */
    strset warned;     /* unknown field names already warned about */
    strset names;      /* field name -> bit k set if kind k (< 32) declares it */

    /* JSON array: the parsed elements and the line each starts on */
    json_t **items;
    uint32_t *item_line;
    size_t nitems, next_item;

    /* CSV */
    struct csv_parser csv;
    bool csv_ready;    /* csv initialised */
    bool have_header;
    bool in_row;       /* a row has begun and not ended */
    bool row_done;     /* the row just fed is complete */
    uint32_t row_line; /* physical line the current row began on */
    char *cellbuf;     /* cell texts, NUL-terminated, back to back */
    size_t cell_len, cell_cap;
    size_t *cell_off;  /* [ncells]; SIZE_MAX = NULL (empty unquoted) cell */
    uint32_t ncells, cell_max;
    char **cols;       /* header names */
    uint32_t ncols;
    uint32_t col_id, col_kind; /* QUY_NONE if the header lacks them */
    uint32_t *fcol;    /* [nkinds * (maxfields + 1)]: column of each field of a kind, then
                          MAPPED once the kind's columns are resolved */
    char show[160];    /* scratch: a value rendered for a message */
};

#define ATTR_PRINTF(a, b) __attribute__((format(printf, a, b)))

static void copy_str(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "");
}

/* Fill *err for the record being decoded and return -1. */
ATTR_PRINTF(5, 6)
static int fail(rec_reader *r, rec_error *err, const char *code, const char *field, const char *fmt, ...)
{
    copy_str(err->file, sizeof err->file, r->name);
    err->line = r->cur_line;
    copy_str(err->id, sizeof err->id, r->cur_id);
    copy_str(err->field, sizeof err->field, field);
    copy_str(err->code, sizeof err->code, code);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return -1;
}

static int fail_oom(rec_reader *r, rec_error *err)
{
    return fail(r, err, "no_memory", "", "hết bộ nhớ (out of memory)");
}

static void warn_unknown_field(rec_reader *r, const char *name, size_t len, uint32_t kind)
{
    int added = strset_add(&r->warned, name, len, 0, NULL);
    if (added != 1 || !r->warn) return;
    rec_error w;
    memset(&w, 0, sizeof w);
    copy_str(w.file, sizeof w.file, r->name);
    w.line = r->cur_line;
    copy_str(w.id, sizeof w.id, r->cur_id);
    snprintf(w.field, sizeof w.field, "%.*s", (int)len, name);
    copy_str(w.code, sizeof w.code, "unknown_field");
    snprintf(w.message, sizeof w.message,
             "trường '%.*s' không có trong khai báo loại '%s' của bộ quy tắc, bỏ qua "
             "(unknown field ignored)",
             (int)len, name, prog_str(r->p, r->p->kinds[kind].name));
    r->warn(r->warn_ctx, &w);
}

/* A JSON value for a message: compact JSON, cut at ~100 bytes. */
static const char *show_json(rec_reader *r, const json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!s) return "?";
    size_t n = strlen(s);
    if (n > 100) snprintf(r->show, sizeof r->show, "%.100s…", s);
    else snprintf(r->show, sizeof r->show, "%s", s);
    free(s);
    return r->show;
}

/* A CSV cell (or list item) for a message, quoted. */
static const char *show_text(rec_reader *r, const char *s, size_t len)
{
    if (len > 100) snprintf(r->show, sizeof r->show, "\"%.100s…\"", s);
    else snprintf(r->show, sizeof r->show, "\"%.*s\"", (int)len, s);
    return r->show;
}

/* "số nguyên", "thang bậc 'grade'", ... and the English word. */
static void type_names(const q_program *p, uint32_t t, char *vi, size_t visz, const char **en)
{
    const q_type *ty = &p->types[t];
    unsigned k = ty->kind < QT__COUNT ? ty->kind : QT_INT;
    const char *tn = prog_str(p, ty->name);
    if (ty->kind == QT_LIST) {
        const q_type *et = &p->types[ty->elem];
        unsigned ek = et->kind < QT__COUNT ? et->kind : QT_INT;
        const char *en2 = prog_str(p, et->name);
        snprintf(vi, visz, "%s %s%s%s%s", q_type_kind_name_vi[k], q_type_kind_name_vi[ek], *en2 ? " '" : "",
                 en2, *en2 ? "'" : "");
    } else if (*tn) {
        snprintf(vi, visz, "%s '%s'", q_type_kind_name_vi[k], tn);
    } else {
        snprintf(vi, visz, "%s", q_type_kind_name_vi[k]);
    }
    *en = q_type_kind_name[k];
}

static int fail_type(rec_reader *r, rec_error *err, const char *path, uint32_t t, const char *shown)
{
    char vi[96];
    const char *en;
    type_names(r->p, t, vi, sizeof vi, &en);
    return fail(r, err, "wrong_type", path, "trường '%s' phải là %s, nhận được %s (wrong type: expected %s)", path,
                vi, shown, en);
}

static int fail_member(rec_reader *r, rec_error *err, const char *path, uint32_t t, const char *shown)
{
    const q_program *p = r->p;
    const q_type *ty = &p->types[t];
    char allowed[300];
    size_t n = 0;
    allowed[0] = 0;
    for (uint32_t i = 0; i < ty->count && n < sizeof allowed; i++) {
        int w = snprintf(allowed + n, sizeof allowed - n, "%s%s", i ? ", " : "",
                         prog_str(p, p->members[ty->first + i].name));
        if (w < 0) break;
        n += (size_t)w;
    }
    return fail(r, err, "unknown_value", path,
                "giá trị %s không hợp lệ cho trường '%s'; giá trị hợp lệ: %s (unknown value; allowed: %s)", shown,
                path, allowed, allowed);
}

/* ---------------------------------------------------------------------
 * Record buffer
 * ------------------------------------------------------------------- */

static void begin_record(rec_reader *r, uint32_t line)
{
    arena_reset(&r->strings);
    r->rec.nelems = 0;
    r->rec.id = NULL;
    r->cur_id = NULL;
    r->cur_line = line;
    r->rec.line = line;
    r->rec.index = r->index++;
}

/* Reserve n consecutive element values; *first = index of the first. */
static bool reserve_elems(rec_reader *r, size_t n, uint32_t *first)
{
    size_t need = (size_t)r->rec.nelems + n;
    if (n > UINT32_MAX || need > UINT32_MAX) return false;
    if (need > r->elem_cap) {
        size_t ncap = r->elem_cap ? r->elem_cap : 64;
        while (ncap < need) ncap *= 2;
        q_val *e = realloc(r->rec.elems, ncap * sizeof *e);
        if (!e) return false;
        r->rec.elems = e;
        r->elem_cap = (uint32_t)(ncap > UINT32_MAX ? UINT32_MAX : ncap);
    }
    *first = r->rec.nelems;
    for (size_t i = 0; i < n; i++) r->rec.elems[*first + i] = (q_val){0, 0};
    r->rec.nelems = (uint32_t)need;
    return true;
}

static const char *store_str(rec_reader *r, const char *s, size_t len)
{
    char *d = arena_alloc(&r->strings, len + 1);
    if (!d) return NULL;
    if (len) memcpy(d, s, len);
    d[len] = 0;
    return d;
}

/* ---------------------------------------------------------------------
 * Values from JSON
 * ------------------------------------------------------------------- */

/* A binary double as an exact rational. JSON numbers with a fraction reach
 * us as doubles (jansson has no decimal mode). A double holds any decimal
 * of up to 15 significant digits (DBL_DIG) closely enough that printing it
 * with "%.15g" gives back exactly the digits that were written: 89.99 prints
 * "89.99", not 89.98999999999999488409..., and q_parse_decimal then reads
 * that text as 8999/100. So the value is exact for inputs of up to 15
 * significant digits; longer ones are rounded to 15. An exponent
 * ("1e-07", "1e+20") is applied exactly as a power of ten. CSV cells never
 * go through a double: they are parsed as text. */
static bool real_to_q(double d, q_val *out)
{
    if (!isfinite(d)) return false;
    char buf[40];
    int n = snprintf(buf, sizeof buf, "%.15g", d);
    if (n <= 0 || (size_t)n >= sizeof buf) return false;
    char *e = strchr(buf, 'e');
    size_t mlen = e ? (size_t)(e - buf) : (size_t)n;
    q_val m;
    if (!q_parse_decimal(buf, mlen, &m)) return false;
    if (!e) {
        *out = m;
        return true;
    }
    long x = strtol(e + 1, NULL, 10);
    if (x > 18 || x < -18) return false;
    int64_t p10 = 1;
    for (long i = 0; i < (x < 0 ? -x : x); i++) p10 *= 10;
    q_val scale = q_int(p10);
    return (x < 0 ? q_div(m, scale, out) : q_mul(m, scale, out)) == Q_OK;
}

static int dec_json(rec_reader *r, uint32_t t, json_t *v, const char *path, q_val *out, rec_error *err);

static int dec_absent(rec_reader *r, const q_field *f, const char *path, q_val *out, uint8_t *present, rec_error *err)
{
    const q_program *p = r->p;
    if ((f->flags & QF_DEFAULT) && f->deflt < p->nconsts) {
        *out = p->consts[f->deflt];
        if (present) *present = 1;
        return 0;
    }
    /* Struct elements have no presence bytes, so a field inside an element
     * can only be defaulted, never absent. */
    if (present && (f->flags & (QF_OPTIONAL | QF_BATCH))) {
        *out = (q_val){0, 0};
        *present = 0;
        return 0;
    }
    const char *label = prog_str(p, f->label);
    return fail(r, err, "missing_field", path, "thiếu trường bắt buộc '%s'%s%s%s (missing required field)", path,
                *label ? " (" : "", label, *label ? ")" : "");
}

/* One struct element from a JSON object into elems[base .. +count]. */
static int dec_struct_json(rec_reader *r, uint32_t st, json_t *obj, const char *path, uint32_t base,
                           rec_error *err)
{
    const q_program *p = r->p;
    const q_type *ty = &p->types[st];
    if (!json_is_object(obj)) return fail_type(r, err, path, st, show_json(r, obj));
    for (uint32_t j = 0; j < ty->count; j++) {
        const q_field *f = &p->fields[ty->first + j];
        const char *fname = prog_str(p, f->name);
        char sub[128];
        /* a field path longer than the error's field buffer is cut, on purpose */
        if (snprintf(sub, sizeof sub, "%s.%s", path, fname) >= (int)sizeof sub) sub[sizeof sub - 1] = 0;
        json_t *v = json_object_get(obj, fname);
        q_val x;
        int rc = (!v || json_is_null(v)) ? dec_absent(r, f, sub, &x, NULL, err) : dec_json(r, f->type, v, sub, &x, err);
        if (rc) return rc;
        r->rec.elems[base + (f->slot < ty->count ? f->slot : j)] = x;
    }
    /* Keys the struct does not declare: warned like record fields. */
    if (json_object_size(obj) > ty->count) {
        const char *key;
        json_t *val;
        json_object_foreach(obj, key, val) {
            bool known = false;
            for (uint32_t j = 0; j < ty->count && !known; j++)
                known = strcmp(prog_str(p, p->fields[ty->first + j].name), key) == 0;
            if (!known) warn_unknown_field(r, key, strlen(key), r->rec.kind);
        }
    }
    return 0;
}

static int dec_json(rec_reader *r, uint32_t t, json_t *v, const char *path, q_val *out, rec_error *err)
{
    const q_program *p = r->p;
    if (t >= p->ntypes) return fail(r, err, "eval", path, "kiểu không hợp lệ (invalid type index)");
    const q_type *ty = &p->types[t];
    switch (ty->kind) {
    case QT_INT:
        if (json_is_integer(v)) {
            *out = q_int(json_integer_value(v));
            return 0;
        }
        if (json_is_real(v)) {
            double d = json_real_value(v);
            if (d == floor(d) && fabs(d) < 9007199254740992.0) {
                *out = q_int((int64_t)d);
                return 0;
            }
        }
        return fail_type(r, err, path, t, show_json(r, v));
    case QT_DECIMAL:
    case QT_PERCENT: {
        q_val x;
        if (json_is_integer(v)) x = q_int(json_integer_value(v));
        else if (!json_is_real(v) || !real_to_q(json_real_value(v), &x)) return fail_type(r, err, path, t, show_json(r, v));
        if (ty->kind == QT_PERCENT && q_div(x, q_int(100), &x) != Q_OK) return fail_type(r, err, path, t, show_json(r, v));
        *out = x;
        return 0;
    }
    case QT_BOOL:
        if (!json_is_boolean(v)) return fail_type(r, err, path, t, show_json(r, v));
        *out = q_bool(json_is_true(v));
        return 0;
    case QT_DATE: {
        int64_t days;
        if (!json_is_string(v) || !q_parse_date(json_string_value(v), json_string_length(v), &days))
            return fail_type(r, err, path, t, show_json(r, v));
        *out = q_int(days);
        return 0;
    }
    case QT_STRING: {
        if (!json_is_string(v)) return fail_type(r, err, path, t, show_json(r, v));
        size_t len = json_string_length(v);
        const char *s = store_str(r, json_string_value(v), len);
        if (!s) return fail_oom(r, err);
        *out = (q_val){(int64_t)(intptr_t)s, (int64_t)len};
        return 0;
    }
    case QT_ENUM:
    case QT_SCALE: {
        if (!json_is_string(v)) return fail_type(r, err, path, t, show_json(r, v));
        int m = prog_find_member(p, t, json_string_value(v), json_string_length(v));
        if (m < 0) return fail_member(r, err, path, t, show_json(r, v));
        *out = q_int(m);
        return 0;
    }
    case QT_LIST: {
        if (!json_is_array(v)) return fail_type(r, err, path, t, show_json(r, v));
        uint32_t et = ty->elem;
        if (et >= p->ntypes) return fail(r, err, "eval", path, "kiểu không hợp lệ (invalid type index)");
        bool is_struct = p->types[et].kind == QT_STRUCT;
        size_t stride = is_struct ? p->types[et].count : 1, n = json_array_size(v);
        uint32_t first;
        if ((stride && n > SIZE_MAX / stride) || !reserve_elems(r, n * stride, &first)) return fail_oom(r, err);
        for (size_t i = 0; i < n; i++) {
            char sub[128];
            snprintf(sub, sizeof sub, "%s[%zu]", path, i);
            json_t *e = json_array_get(v, i);
            if (is_struct) {
                int rc = dec_struct_json(r, et, e, sub, first + (uint32_t)(i * stride), err);
                if (rc) return rc;
            } else {
                q_val x;
                int rc = dec_json(r, et, e, sub, &x, err);
                if (rc) return rc;
                r->rec.elems[first + i] = x; /* elems may have moved: index, not pointer */
            }
        }
        *out = (q_val){first, (int64_t)n};
        return 0;
    }
    default: /* QT_STRUCT outside a list has no one-slot representation */
        return fail_type(r, err, path, t, show_json(r, v));
    }
}

/* ---------------------------------------------------------------------
 * Values from CSV text
 * ------------------------------------------------------------------- */

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

static void trim(const char **s, size_t *len)
{
    while (*len && is_space(**s)) {
        (*s)++;
        (*len)--;
    }
    while (*len && is_space((*s)[*len - 1])) (*len)--;
}

static bool text_eq_ci(const char *s, size_t len, const char *word)
{
    size_t n = strlen(word);
    if (n != len) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != word[i]) return false;
    }
    return true;
}

static int dec_text(rec_reader *r, uint32_t t, const char *s, size_t len, const char *path, q_val *out,
                    rec_error *err)
{
    const q_program *p = r->p;
    if (t >= p->ntypes) return fail(r, err, "eval", path, "kiểu không hợp lệ (invalid type index)");
    const q_type *ty = &p->types[t];
    if (ty->kind != QT_STRING) trim(&s, &len);
    switch (ty->kind) {
    case QT_INT: {
        q_val x;
        if (!q_parse_decimal(s, len, &x) || x.d != 1) return fail_type(r, err, path, t, show_text(r, s, len));
        *out = x;
        return 0;
    }
    case QT_DECIMAL:
    case QT_PERCENT: {
        q_val x;
        size_t n = len;
        if (ty->kind == QT_PERCENT && n && s[n - 1] == '%') n--; /* "55%" reads as 55 */
        if (!q_parse_decimal(s, n, &x)) return fail_type(r, err, path, t, show_text(r, s, len));
        if (ty->kind == QT_PERCENT && q_div(x, q_int(100), &x) != Q_OK)
            return fail_type(r, err, path, t, show_text(r, s, len));
        *out = x;
        return 0;
    }
    case QT_BOOL:
        if (text_eq_ci(s, len, "true") || (len == 1 && s[0] == '1')) *out = q_bool(true);
        else if (text_eq_ci(s, len, "false") || (len == 1 && s[0] == '0')) *out = q_bool(false);
        else return fail_type(r, err, path, t, show_text(r, s, len));
        return 0;
    case QT_DATE: {
        int64_t days;
        if (!q_parse_date(s, len, &days)) return fail_type(r, err, path, t, show_text(r, s, len));
        *out = q_int(days);
        return 0;
    }
    case QT_STRING: {
        const char *d = store_str(r, s, len);
        if (!d) return fail_oom(r, err);
        *out = (q_val){(int64_t)(intptr_t)d, (int64_t)len};
        return 0;
    }
    case QT_ENUM:
    case QT_SCALE: {
        int m = prog_find_member(p, t, s, len);
        if (m < 0) return fail_member(r, err, path, t, show_text(r, s, len));
        *out = q_int(m);
        return 0;
    }
    case QT_LIST: {
        uint32_t et = ty->elem;
        if (et >= p->ntypes) return fail(r, err, "eval", path, "kiểu không hợp lệ (invalid type index)");
        uint8_t ek = p->types[et].kind;
        if (ek == QT_STRUCT) {
            /* A list of structs is written as JSON array text inside the cell. */
            json_error_t je;
            json_t *arr = json_loadb(s, len, 0, &je);
            if (!arr)
                return fail(r, err, "wrong_type", path,
                            "ô '%s' phải chứa một mảng JSON: %s ở cột %d (cell must hold a JSON array)", path,
                            je.text, je.column);
            int rc = dec_json(r, t, arr, path, out, err);
            json_decref(arr);
            return rc;
        }
        if (ek == QT_LIST) return fail_type(r, err, path, t, show_text(r, s, len));
        /* Scalars: `;`-separated. A trailing `;` is tolerated. */
        size_t n = 1;
        for (size_t i = 0; i < len; i++) n += s[i] == ';';
        const char *last = NULL;
        for (size_t i = len; i-- > 0;)
            if (s[i] == ';') {
                last = s + i;
                break;
            }
        if (last) {
            const char *tail = last + 1;
            size_t tl = len - (size_t)(tail - s);
            trim(&tail, &tl);
            if (!tl) n--;
        }
        uint32_t first;
        if (!reserve_elems(r, n, &first)) return fail_oom(r, err);
        const char *q = s;
        for (size_t i = 0; i < n; i++) {
            const char *semi = memchr(q, ';', len - (size_t)(q - s));
            size_t il = semi ? (size_t)(semi - q) : len - (size_t)(q - s);
            const char *item = q;
            trim(&item, &il);
            char sub[128];
            snprintf(sub, sizeof sub, "%s[%zu]", path, i);
            if (!il && p->types[et].kind != QT_STRING)
                return fail(r, err, "wrong_type", path, "phần tử '%s' rỗng (empty list item)", sub);
            q_val x;
            int rc = dec_text(r, et, item, il, sub, &x, err);
            if (rc) return rc;
            r->rec.elems[first + i] = x;
            q = semi ? semi + 1 : s + len;
        }
        *out = (q_val){first, (int64_t)n};
        return 0;
    }
    default:
        return fail_type(r, err, path, t, show_text(r, s, len));
    }
}

/* ---------------------------------------------------------------------
 * Common parts of a record: id, kind, duplicates, checks
 * ------------------------------------------------------------------- */

static int set_id(rec_reader *r, const char *s, size_t len, bool check_dup, rec_error *err)
{
    const char *id = store_str(r, s, len);
    if (!id) return fail_oom(r, err);
    r->cur_id = id;
    r->rec.id = id;
    if (!check_dup) return 0;
    uint32_t first = 0;
    int added = strset_add(&r->ids, s, len, r->cur_line, &first);
    if (added < 0) return fail_oom(r, err);
    if (added == 0)
        return fail(r, err, "duplicate_id", "id", "mã '%s' bị trùng với bản ghi ở dòng %u (duplicate id; first seen at line %u)",
                    id, first, first);
    return 0;
}

static int unknown_kind(rec_reader *r, const char *shown, rec_error *err)
{
    const q_program *p = r->p;
    char kinds[300];
    size_t n = 0;
    kinds[0] = 0;
    bool any_rated = false;
    for (uint32_t k = 0; k < p->nkinds; k++) any_rated |= p->kinds[k].entry != QUY_NONE;
    for (uint32_t k = 0; k < p->nkinds && n < sizeof kinds; k++) {
        if (any_rated && p->kinds[k].entry == QUY_NONE) continue;
        int w = snprintf(kinds + n, sizeof kinds - n, "%s%s", n ? ", " : "", prog_str(p, p->kinds[k].name));
        if (w < 0) break;
        n += (size_t)w;
    }
    return fail(r, err, "unknown_kind", "kind",
                "loại đối tượng %s không có trong bộ quy tắc; bộ quy tắc xếp loại: %s (unknown kind; the ruleset rates: %s)",
                shown, kinds, kinds);
}

/* A value for a message, by its type. */
static void show_val(const q_program *p, const q_record *rec, uint32_t t, q_val v, char *buf, size_t size)
{
    const q_type *ty = &p->types[t];
    switch (ty->kind) {
    case QT_INT:
    case QT_DECIMAL:
        q_format(v, false, buf, size);
        break;
    case QT_PERCENT:
        q_format(v, true, buf, size);
        break;
    case QT_BOOL:
        snprintf(buf, size, "%s", v.n ? "true" : "false");
        break;
    case QT_DATE:
        if (size >= 11) q_format_date(v.n, buf);
        else if (size) buf[0] = 0;
        break;
    case QT_STRING:
        snprintf(buf, size, "\"%.*s\"", (int)(v.d > 60 ? 60 : v.d), (const char *)(intptr_t)v.n);
        break;
    case QT_ENUM:
    case QT_SCALE:
        snprintf(buf, size, "%s",
                 v.n >= 0 && (uint64_t)v.n < ty->count ? prog_str(p, p->members[ty->first + (uint32_t)v.n].name) : "?");
        break;
    case QT_LIST: {
        const q_type *et = &p->types[ty->elem];
        if (et->kind == QT_STRUCT || et->kind == QT_LIST || v.n < 0 || (uint64_t)(v.n + v.d) > rec->nelems) {
            snprintf(buf, size, "[%lld phần tử]", (long long)v.d);
            break;
        }
        size_t n = 0;
        if (size) buf[0] = 0;
        for (int64_t i = 0; i < v.d && n + 24 < size; i++) {
            char one[64];
            show_val(p, rec, ty->elem, rec->elems[v.n + i], one, sizeof one);
            int w = snprintf(buf + n, size - n, "%s%s", i ? ";" : "[", one);
            if (w < 0) break;
            n += (size_t)w;
        }
        if (n < size) snprintf(buf + n, size - n, "%s", v.d ? "]" : "[]");
        break;
    }
    default:
        snprintf(buf, size, "?");
    }
}

/* "tasks_completed = 12, tasks_total = 10": the blamed field first, then the
 * other fields the check's code loads. */
static void check_values(const q_program *p, const q_record *rec, const q_kind *kd, const q_check *ck, char *buf,
                         size_t size)
{
    uint16_t seen[16];
    uint32_t nseen = 0;
    size_t n = 0;
    buf[0] = 0;
    if (ck->field >= kd->first_field && ck->field < kd->first_field + kd->nfields) seen[nseen++] = p->fields[ck->field].slot;
    for (uint32_t pc = ck->entry; pc < p->ncode && pc < ck->entry + 512 && nseen < 16; pc++) {
        const q_instr *in = &p->code[pc];
        if (in->op == OP_HALT) break;
        if (in->op != OP_LOADF && in->op != OP_PRESENT && in->op != OP_LEN) continue;
        bool dup = false;
        for (uint32_t i = 0; i < nseen; i++) dup |= seen[i] == in->a;
        if (!dup && in->a < kd->nfields) seen[nseen++] = in->a;
    }
    for (uint32_t i = 0; i < nseen && n + 8 < size; i++) {
        uint16_t slot = seen[i];
        if (slot >= kd->nfields) continue;
        const q_field *f = &p->fields[kd->first_field + slot];
        char v[96];
        if (rec->present[slot]) show_val(p, rec, f->type, rec->slots[slot], v, sizeof v);
        else snprintf(v, sizeof v, "không có (absent)");
        int w = snprintf(buf + n, size - n, "%s%s = %s", i ? ", " : "", prog_str(p, f->name), v);
        if (w < 0) break;
        n += (size_t)w;
    }
}

static int run_checks(rec_reader *r, uint32_t k, rec_error *err)
{
    const q_program *p = r->p;
    const q_kind *kd = &p->kinds[k];
    for (uint32_t c = 0; c < kd->nchecks; c++) {
        if (kd->first_check + c >= p->nchecks) break;
        const q_check *ck = &p->checks[kd->first_check + c];
        const char *fname = ck->field < p->nfields ? prog_str(p, p->fields[ck->field].name) : "";
        q_val v = {0, 0};
        int e = vm_eval(p, ck->entry, &r->rec, &v);
        if (e != VM_OK)
            return fail(r, err, "eval", fname, "không kiểm tra được ràng buộc '%s': %s (check could not be evaluated)",
                        prog_str(p, ck->text), e > 0 && e < VM__COUNT ? vm_error_message[e] : "?");
        if (v.n == 0) {
            char vals[256];
            check_values(p, &r->rec, kd, ck, vals, sizeof vals);
            return fail(r, err, "constraint", fname, "vi phạm ràng buộc '%s': %s (constraint violated)",
                        prog_str(p, ck->text), vals);
        }
    }
    return 0;
}

static int finish(rec_reader *r, uint32_t k, q_record **out, rec_error *err)
{
    r->rec.kind = k;
    int rc = run_checks(r, k, err);
    if (rc) return rc;
    *out = &r->rec;
    return 1;
}

/* ---------------------------------------------------------------------
 * A record from a JSON object
 * ------------------------------------------------------------------- */

/* After a missing required field, name every other required field of the
 * kind that the record lacks too (`absent(r, ctx, i)`: field i is absent or
 * empty), in one message ("cũng thiếu: 'a', 'b'"), so that a record of
 * another shape (a 124 record rated by central-366) is fixed in one pass.
 * What does not fit in the message is counted, never dropped silently. */
static void more_missing(rec_reader *r, const q_kind *kd, uint32_t from, bool (*absent)(rec_reader *, const void *, uint32_t),
                         const void *ctx, rec_error *err)
{
    const q_program *p = r->p;
    size_t n = strlen(err->message), extra = 0, listed = 0;
    for (uint32_t i = from; i < kd->nfields; i++) {
        const q_field *f = &p->fields[kd->first_field + i];
        if ((f->flags & (QF_OPTIONAL | QF_BATCH | QF_DEFAULT)) || !absent(r, ctx, i)) continue;
        const char *name = prog_str(p, f->name);
        if (n + strlen(name) + 64 < sizeof err->message) /* room kept for the count */
            n += (size_t)snprintf(err->message + n, sizeof err->message - n, "%s'%s'",
                                  listed++ ? ", " : "; cũng thiếu (also missing): ", name);
        else
            extra++;
    }
    if (extra) snprintf(err->message + n, sizeof err->message - n, " và %zu trường khác (and %zu more)", extra, extra);
}

static bool csv_absent(rec_reader *r, const void *cols, uint32_t i);
static bool json_absent(rec_reader *r, const void *obj, uint32_t i)
{
    const q_field *f = &r->p->fields[r->p->kinds[r->rec.kind].first_field + i];
    json_t *v = json_object_get((json_t *)obj, prog_str(r->p, f->name));
    return !v || json_is_null(v);
}

static int decode_object(rec_reader *r, json_t *obj, bool check_dup, q_record **out, rec_error *err)
{
    const q_program *p = r->p;
    if (!json_is_object(obj))
        return fail(r, err, "bad_json", "", "bản ghi phải là một đối tượng JSON, nhận được %s (record is not a JSON object)",
                    show_json(r, obj));
    json_t *jid = json_object_get(obj, "id");
    if (!jid || json_is_null(jid)) return fail(r, err, "missing_field", "id", "thiếu trường bắt buộc 'id' (missing required field)");
    if (!json_is_string(jid))
        return fail(r, err, "wrong_type", "id", "trường 'id' phải là chuỗi, nhận được %s (wrong type: expected string)",
                    show_json(r, jid));
    int rc = set_id(r, json_string_value(jid), json_string_length(jid), check_dup, err);
    if (rc) return rc;
    json_t *jkind = json_object_get(obj, "kind");
    if (!jkind || json_is_null(jkind))
        return fail(r, err, "missing_field", "kind", "thiếu trường bắt buộc 'kind' (missing required field)");
    if (!json_is_string(jkind))
        return fail(r, err, "wrong_type", "kind", "trường 'kind' phải là chuỗi, nhận được %s (wrong type: expected string)",
                    show_json(r, jkind));
    uint32_t k = prog_find_kind(p, json_string_value(jkind), json_string_length(jkind));
    if (k == QUY_NONE || k >= p->nkinds) return unknown_kind(r, show_json(r, jkind), err);
    r->rec.kind = k;

    const q_kind *kd = &p->kinds[k];
    size_t matched = 2; /* id, kind */
    for (uint32_t i = 0; i < kd->nfields && !rc; i++) {
        const q_field *f = &p->fields[kd->first_field + i];
        uint16_t slot = f->slot < kd->nfields ? f->slot : (uint16_t)i;
        const char *name = prog_str(p, f->name);
        json_t *v = json_object_get(obj, name);
        if (v && (strcmp(name, "id") && strcmp(name, "kind"))) matched++;
        q_val x = {0, 0};
        if (!v || json_is_null(v)) {
            rc = dec_absent(r, f, name, &x, &r->rec.present[slot], err);
        } else {
            rc = dec_json(r, f->type, v, name, &x, err);
            r->rec.present[slot] = 1;
        }
        r->rec.slots[slot] = x;
        if (rc && !strcmp(err->code, "missing_field")) more_missing(r, kd, i + 1, json_absent, obj, err);
    }
    /* Unknown keys are warned about even when the record is rejected: a
     * misspelt field name is the likely cause of a "missing field". */
    if (rc || json_object_size(obj) > matched) {
        const char *key;
        json_t *val;
        json_object_foreach(obj, key, val) {
            if (!strcmp(key, "id") || !strcmp(key, "kind")) continue;
            size_t kl = strlen(key);
            if (strset_get(&r->warned, key, kl)) continue; /* warned once already */
            bool known;
            if (k < 32) {
                const uint32_t *kinds = strset_get(&r->names, key, kl);
                known = kinds && (*kinds >> k & 1u);
            } else {
                known = prog_find_field(p, k, key, kl) != QUY_NONE;
            }
            if (!known) warn_unknown_field(r, key, kl, k);
        }
    }
    if (rc) return rc;
    return finish(r, k, out, err);
}

/* =====================================================================
 * Input buffer
 * ===================================================================== */

/* Read more input; false at end of input (or on a read error). */
static bool fill(rec_reader *r)
{
    if (r->eof || !r->in) return false;
    if (r->start > 0) {
        memmove(r->buf, r->buf + r->start, r->end - r->start);
        r->end -= r->start;
        r->start = 0;
    }
    if (r->end == r->cap) {
        size_t ncap = r->cap ? r->cap * 2 : 65536;
        char *nb = realloc(r->buf, ncap);
        if (!nb) {
            r->eof = true;
            return false;
        }
        r->buf = nb;
        r->cap = ncap;
    }
    size_t n = fread(r->buf + r->end, 1, r->cap - r->end, r->in);
    r->end += n;
    if (n == 0) {
        r->eof = true;
        return false;
    }
    return true;
}

/* Next physical line, with its '\n' if it has one; -1 at end of input.
 * *s points into the buffer and stays valid until the next read. */
static long next_line(rec_reader *r, const char **s)
{
    size_t scanned = 0;
    for (;;) {
        const char *nl = memchr(r->buf + r->start + scanned, '\n', r->end - r->start - scanned);
        if (nl) {
            size_t len = (size_t)(nl - (r->buf + r->start)) + 1;
            *s = r->buf + r->start;
            r->start += len;
            return (long)len;
        }
        scanned = r->end - r->start;
        if (!fill(r)) {
            if (r->end > r->start) {
                size_t len = r->end - r->start;
                *s = r->buf + r->start;
                r->start = r->end;
                return (long)len;
            }
            return -1;
        }
    }
}

static bool blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_space(s[i])) return false;
    return true;
}

/* Skip a UTF-8 byte order mark and white space (counting lines); pick the
 * format from the first byte that remains. */
static void sniff(rec_reader *r)
{
    bool bom_checked = false;
    for (;;) {
        if (r->start == r->end && !fill(r)) break;
        if (!bom_checked) {
            while (r->end - r->start < 3 && fill(r)) {}
            if (r->end - r->start >= 3 && !memcmp(r->buf + r->start, "\xEF\xBB\xBF", 3)) r->start += 3;
            bom_checked = true;
            continue;
        }
        char c = r->buf[r->start];
        if (!is_space(c)) break;
        if (c == '\n') r->line++;
        r->start++;
    }
    if (r->fmt != REC_AUTO) return;
    char c = r->start < r->end ? r->buf[r->start] : 0;
    r->fmt = c == '[' ? REC_JSON : c == '{' ? REC_JSONL : REC_CSV;
}

static int io_error(rec_reader *r, rec_error *err)
{
    if (r->in && ferror(r->in) && !r->io_reported) {
        r->io_reported = true;
        r->done = true;
        begin_record(r, r->line);
        return fail(r, err, "io", "", "lỗi đọc dữ liệu vào: %s (read error)", strerror(errno));
    }
    r->done = true;
    return 0;
}

/* =====================================================================
 * JSON Lines
 * ===================================================================== */

static int next_jsonl(rec_reader *r, q_record **out, rec_error *err)
{
    for (;;) {
        const char *s;
        long n = next_line(r, &s);
        if (n < 0) return io_error(r, err);
        r->line++;
        if (blank(s, (size_t)n)) continue;
        begin_record(r, r->line);
        json_error_t je;
        json_t *obj = json_loadb(s, (size_t)n, 0, &je);
        if (!obj)
            return fail(r, err, "bad_json", "", "JSON không hợp lệ ở cột %d: %s (invalid JSON)", je.column, je.text);
        int rc = decode_object(r, obj, true, out, err);
        json_decref(obj); /* strings were copied into the record */
        return rc;
    }
}

/* =====================================================================
 * A JSON array: parsed element by element (so each object's line is
 * known), all before the first record is returned — a syntax error
 * anywhere loses the whole array, reported once.
 * ===================================================================== */

static void free_items(rec_reader *r)
{
    for (size_t i = r->next_item; i < r->nitems; i++) json_decref(r->items[i]);
    free(r->items);
    free(r->item_line);
    r->items = NULL;
    r->item_line = NULL;
    r->nitems = r->next_item = 0;
}

static int load_array(rec_reader *r, rec_error *err)
{
    while (fill(r)) {}
    if (r->in && ferror(r->in)) return io_error(r, err);
    const char *b = r->buf + r->start;
    size_t len = r->end - r->start, i = 0, cap = 0;
    uint32_t ln = r->line + 1;
    size_t lstart = 0; /* offset of the current line's first byte */
    r->done = true;    /* whatever happens, the array is read once */
#define SKIP_WS()                                      \
    while (i < len && is_space(b[i])) {                \
        if (b[i] == '\n') {                            \
            ln++;                                      \
            lstart = i + 1;                            \
        }                                              \
        i++;                                           \
    }
    const char *why = NULL;
    if (len == 0 || b[0] != '[') {
        why = "dữ liệu vào không phải một mảng JSON (expected a JSON array)";
        goto syntax;
    }
    i = 1;
    SKIP_WS();
    if (i < len && b[i] == ']') {
        i++;
    } else {
        for (;;) {
            SKIP_WS();
            uint32_t eline = ln;
            int ecol = (int)(i - lstart) + 1;
            json_error_t je;
            json_t *v = json_loadb(b + i, len - i, JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, &je);
            if (!v) {
                begin_record(r, eline + (uint32_t)(je.line > 0 ? je.line - 1 : 0));
                free_items(r);
                return fail(r, err, "bad_json", "", "JSON không hợp lệ ở cột %d: %s (invalid JSON; the array is not read)",
                            je.line == 1 ? ecol + je.column - 1 : je.column, je.text);
            }
            if (r->nitems == cap) {
                size_t ncap = cap ? cap * 2 : 256;
                json_t **ni = realloc(r->items, ncap * sizeof *ni);
                uint32_t *nl = ni ? realloc(r->item_line, ncap * sizeof *nl) : NULL;
                if (ni) r->items = ni;
                if (!ni || !nl) {
                    json_decref(v);
                    free_items(r);
                    begin_record(r, eline);
                    return fail_oom(r, err);
                }
                r->item_line = nl;
                cap = ncap;
            }
            r->items[r->nitems] = v;
            r->item_line[r->nitems++] = eline;
            size_t used = (size_t)je.position;
            for (size_t j = i; j < i + used && j < len; j++)
                if (b[j] == '\n') {
                    ln++;
                    lstart = j + 1;
                }
            i += used;
            SKIP_WS();
            if (i < len && b[i] == ',') {
                i++;
                continue;
            }
            if (i < len && b[i] == ']') {
                i++;
                break;
            }
            why = i < len ? "thiếu ',' hoặc ']' giữa các phần tử (expected ',' or ']')"
                          : "mảng JSON chưa đóng (unterminated JSON array)";
            goto syntax;
        }
    }
    SKIP_WS();
    if (i < len) {
        why = "dữ liệu thừa sau mảng JSON (extra data after the array)";
        goto syntax;
    }
#undef SKIP_WS
    r->start = r->end;
    r->done = r->nitems == 0;
    return 0;
syntax:
    free_items(r);
    r->start = r->end;
    begin_record(r, ln);
    return fail(r, err, "bad_json", "", "JSON không hợp lệ ở cột %d: %s", (int)(i - lstart) + 1, why);
}

static int next_json(rec_reader *r, q_record **out, rec_error *err)
{
    if (!r->items && !r->done) {
        int rc = load_array(r, err);
        if (rc) return rc;
    }
    if (r->next_item >= r->nitems) {
        free_items(r);
        r->done = true;
        return 0;
    }
    size_t i = r->next_item++;
    json_t *obj = r->items[i];
    r->items[i] = NULL;
    begin_record(r, r->item_line[i]);
    int rc = decode_object(r, obj, true, out, err);
    json_decref(obj);
    return rc;
}

/* =====================================================================
 * CSV: fed to libcsv one physical line at a time, so every row knows the
 * line it began on (a quoted cell may span lines).
 * ===================================================================== */

static void csv_cb_cell(void *s, size_t len, void *data)
{
    rec_reader *r = data;
    if (r->ncells == r->cell_max) {
        uint32_t nmax = r->cell_max ? r->cell_max * 2 : 64;
        size_t *no = realloc(r->cell_off, nmax * sizeof *no);
        if (!no) return; /* the row then has too few cells: reported as bad_csv */
        r->cell_off = no;
        r->cell_max = nmax;
    }
    if (!s) {
        r->cell_off[r->ncells++] = SIZE_MAX;
        return;
    }
    if (r->cell_len + len + 1 > r->cell_cap) {
        size_t ncap = r->cell_cap ? r->cell_cap : 4096;
        while (ncap < r->cell_len + len + 1) ncap *= 2;
        char *nb = realloc(r->cellbuf, ncap);
        if (!nb) return;
        r->cellbuf = nb;
        r->cell_cap = ncap;
    }
    memcpy(r->cellbuf + r->cell_len, s, len);
    r->cellbuf[r->cell_len + len] = 0;
    r->cell_off[r->ncells++] = r->cell_len;
    r->cell_len += len + 1;
}

static void csv_cb_row(int c, void *data)
{
    (void)c;
    rec_reader *r = data;
    r->row_done = true;
    r->in_row = false;
}

static const char *cell(rec_reader *r, uint32_t c, size_t *len)
{
    if (c >= r->ncells || r->cell_off[c] == SIZE_MAX) {
        *len = 0;
        return "";
    }
    const char *s = r->cellbuf + r->cell_off[c];
    *len = strlen(s);
    return s;
}

static void clear_row(rec_reader *r)
{
    r->ncells = 0;
    r->cell_len = 0;
    r->row_done = false;
}

static int csv_header(rec_reader *r, rec_error *err)
{
    const q_program *p = r->p;
    r->have_header = true;
    r->ncols = r->ncells;
    r->cols = calloc(r->ncols ? r->ncols : 1, sizeof *r->cols);
    r->fcol = calloc((size_t)(p->nkinds ? p->nkinds : 1) * (r->maxfields + 1), sizeof *r->fcol);
    if (!r->cols || !r->fcol) return fail_oom(r, err);
    r->col_id = r->col_kind = QUY_NONE;
    int rc = 0;
    for (uint32_t c = 0; c < r->ncols; c++) {
        size_t len;
        const char *s = cell(r, c, &len);
        trim(&s, &len);
        r->cols[c] = strndup(s, len);
        if (!r->cols[c]) return fail_oom(r, err);
        for (uint32_t d = 0; d < c && !rc; d++)
            if (!strcmp(r->cols[d], r->cols[c])) {
                rc = fail(r, err, "bad_csv", r->cols[c],
                          "cột '%s' xuất hiện hai lần trong dòng tiêu đề; chỉ dùng cột đầu tiên "
                          "(duplicate header column; the first one is used)",
                          r->cols[c]);
                r->cols[c][0] = 0; /* ignored from now on */
            }
        if (!strcmp(r->cols[c], "id") && r->col_id == QUY_NONE) r->col_id = c;
        if (!strcmp(r->cols[c], "kind") && r->col_kind == QUY_NONE) r->col_kind = c;
    }
    return rc;
}

/* Which column holds each field of kind k; unknown columns warned once. */
static void map_kind(rec_reader *r, uint32_t k)
{
    const q_program *p = r->p;
    const q_kind *kd = &p->kinds[k];
    uint32_t *m = r->fcol + (size_t)k * (r->maxfields + 1);
    for (uint32_t i = 0; i < kd->nfields; i++) m[i] = QUY_NONE;
    m[r->maxfields] = MAPPED;
    for (uint32_t c = 0; c < r->ncols; c++) {
        const char *name = r->cols[c];
        if (!*name || c == r->col_id || c == r->col_kind) continue;
        uint32_t f = prog_find_field(p, k, name, strlen(name));
        if (f == QUY_NONE || f < kd->first_field || f >= kd->first_field + kd->nfields) {
            warn_unknown_field(r, name, strlen(name), k);
            continue;
        }
        m[f - kd->first_field] = c;
    }
}


static bool csv_absent(rec_reader *r, const void *cols, uint32_t i)
{
    const uint32_t *m = cols;
    size_t len = 0;
    const char *c = m[i] == QUY_NONE ? "" : cell(r, m[i], &len);
    trim(&c, &len);
    return len == 0;
}

static int csv_record(rec_reader *r, q_record **out, rec_error *err)
{
    const q_program *p = r->p;
    begin_record(r, r->row_line);
    size_t len;
    const char *s;
    if (r->ncells != r->ncols) {
        if (r->col_id != QUY_NONE && r->col_id < r->ncells) {
            s = cell(r, r->col_id, &len);
            trim(&s, &len);
            r->cur_id = store_str(r, s, len);
        }
        return fail(r, err, "bad_csv", "", "dòng %u có %u ô nhưng tiêu đề có %u cột (row has %u cells, the header %u)",
                    r->row_line, r->ncells, r->ncols, r->ncells, r->ncols);
    }
    s = r->col_id == QUY_NONE ? "" : cell(r, r->col_id, &len);
    if (r->col_id == QUY_NONE) len = 0;
    trim(&s, &len);
    if (!len) return fail(r, err, "missing_field", "id", "thiếu trường bắt buộc 'id' (missing required field)");
    int rc = set_id(r, s, len, true, err);
    if (rc) return rc;
    s = r->col_kind == QUY_NONE ? "" : cell(r, r->col_kind, &len);
    if (r->col_kind == QUY_NONE) len = 0;
    trim(&s, &len);
    if (!len) return fail(r, err, "missing_field", "kind", "thiếu trường bắt buộc 'kind' (missing required field)");
    uint32_t k = prog_find_kind(p, s, len);
    if (k == QUY_NONE || k >= p->nkinds) return unknown_kind(r, show_text(r, s, len), err);
    r->rec.kind = k;
    const q_kind *kd = &p->kinds[k];
    uint32_t *m = r->fcol + (size_t)k * (r->maxfields + 1);
    if (m[r->maxfields] != MAPPED) map_kind(r, k);
    for (uint32_t i = 0; i < kd->nfields; i++) {
        const q_field *f = &p->fields[kd->first_field + i];
        uint16_t slot = f->slot < kd->nfields ? f->slot : (uint16_t)i;
        const char *name = prog_str(p, f->name);
        len = 0;
        s = m[i] == QUY_NONE ? "" : cell(r, m[i], &len);
        const char *t = s;
        size_t tl = len;
        trim(&t, &tl);
        q_val x;
        if (!tl) {
            rc = dec_absent(r, f, name, &x, &r->rec.present[slot], err);
        } else {
            rc = dec_text(r, f->type, s, len, name, &x, err);
            r->rec.present[slot] = 1;
        }
        if (rc && !strcmp(err->code, "missing_field")) more_missing(r, kd, i + 1, csv_absent, m, err);
        if (rc) return rc;
        r->rec.slots[slot] = x;
    }
    return finish(r, k, out, err);
}

static void csv_restart(rec_reader *r)
{
    csv_free(&r->csv);
    csv_init(&r->csv, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL | CSV_EMPTY_IS_NULL);
    clear_row(r);
    r->in_row = false;
}

static int next_csv(rec_reader *r, q_record **out, rec_error *err)
{
    if (!r->csv_ready) {
        if (csv_init(&r->csv, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL | CSV_EMPTY_IS_NULL) != 0) {
            r->done = true;
            begin_record(r, 0);
            return fail_oom(r, err);
        }
        r->csv_ready = true;
    }
    for (;;) {
        if (!r->in_row) clear_row(r); /* a quoted cell may continue on the next line */
        const char *s;
        long n = next_line(r, &s);
        if (n < 0) {
            r->done = true;
            int fe = csv_fini(&r->csv, csv_cb_cell, csv_cb_row, r);
            if (fe != 0) {
                begin_record(r, r->row_line);
                return fail(r, err, "bad_csv", "", "dòng %u: ô có dấu ngoặc kép chưa đóng (unterminated quoted cell)",
                            r->row_line);
            }
            if (!r->row_done) return io_error(r, err);
        } else {
            r->line++;
            if (!r->in_row) {
                if (blank(s, (size_t)n)) continue;
                r->in_row = true;
                r->row_line = r->line;
            }
            if (csv_parse(&r->csv, s, (size_t)n, csv_cb_cell, csv_cb_row, r) != (size_t)n) {
                uint32_t at = r->row_line;
                const char *why = csv_strerror(csv_error(&r->csv));
                csv_restart(r);
                begin_record(r, at);
                return fail(r, err, "bad_csv", "", "dòng %u: lỗi cú pháp CSV: %s (CSV syntax error)", r->line, why);
            }
            if (!r->row_done) continue;
        }
        if (!r->have_header) {
            r->cur_line = r->row_line;
            r->cur_id = NULL;
            int rc = csv_header(r, err);
            if (rc) return rc;
            if (r->done) return 0;
            continue;
        }
        return csv_record(r, out, err);
    }
}

/* =====================================================================
 * Public API
 * ===================================================================== */

rec_reader *rec_reader_open(const q_program *p, FILE *in, const char *name, rec_format fmt)
{
    rec_reader *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->p = p;
    r->in = in;
    r->fmt = fmt;
    copy_str(r->name, sizeof r->name, name ? name : "-");
    uint32_t maxf = 1;
    for (uint32_t k = 0; k < p->nkinds; k++)
        if (p->kinds[k].nfields > maxf) maxf = p->kinds[k].nfields;
    r->maxfields = maxf;
    /* Which kinds declare each field name: finding the unknown keys of an
     * object is then one hash lookup per key. */
    for (uint32_t k = 0; k < p->nkinds && k < 32; k++) {
        const q_kind *kd = &p->kinds[k];
        for (uint32_t i = 0; i < kd->nfields && kd->first_field + i < p->nfields; i++) {
            const char *nm = prog_str(p, p->fields[kd->first_field + i].name);
            size_t nl = strlen(nm);
            uint32_t *bits = strset_get(&r->names, nm, nl);
            if (bits) *bits |= 1u << k;
            else if (strset_add(&r->names, nm, nl, 1u << k, NULL) < 0) {
                rec_reader_free(r);
                return NULL;
            }
        }
    }
    r->rec.slots = calloc(maxf, sizeof *r->rec.slots);
    r->rec.present = calloc(maxf, 1);
    if (!r->rec.slots || !r->rec.present) {
        rec_reader_free(r);
        return NULL;
    }
    return r;
}

void rec_reader_on_warning(rec_reader *r, rec_warn_fn fn, void *ctx)
{
    r->warn = fn;
    r->warn_ctx = ctx;
}

int rec_reader_next(rec_reader *r, q_record **out, rec_error *err)
{
    if (r->done || !r->in) return 0;
    if (!r->sniffed) {
        sniff(r);
        r->sniffed = true;
    }
    switch (r->fmt) {
    case REC_JSON: return next_json(r, out, err);
    case REC_CSV: return next_csv(r, out, err);
    default: return next_jsonl(r, out, err);
    }
}

int rec_decode_json(rec_reader *r, const void *obj, uint32_t line, q_record **out, rec_error *err)
{
    begin_record(r, line);
    return decode_object(r, (json_t *)(uintptr_t)obj, false, out, err);
}

void rec_reader_free(rec_reader *r)
{
    if (!r) return;
    free_items(r);
    if (r->csv_ready) csv_free(&r->csv);
    for (uint32_t c = 0; c < r->ncols; c++) free(r->cols[c]);
    free(r->cols);
    free(r->fcol);
    free(r->cellbuf);
    free(r->cell_off);
    strset_free(&r->ids);
    strset_free(&r->warned);
    strset_free(&r->names);
    arena_free(&r->strings);
    free(r->rec.slots);
    free(r->rec.present);
    free(r->rec.elems);
    free(r->buf);
    free(r);
}

/* ---------------------------------------------------------------------
 * Deep copies: one block holding the record, its arrays and its strings.
 * ------------------------------------------------------------------- */

typedef struct copy_ctx {
    size_t need; /* sizing pass: string bytes */
    char *dst;   /* copying pass: where the next string goes */
} copy_ctx;

/* Visit every string value reachable from v (of type t). */
static void walk_strings(const q_program *p, uint32_t t, q_val *v, q_val *elems, uint32_t nelems, copy_ctx *cx)
{
    if (t >= p->ntypes) return;
    const q_type *ty = &p->types[t];
    if (ty->kind == QT_STRING) {
        size_t len = (size_t)v->d;
        if (cx->dst) {
            if (len) memcpy(cx->dst, (const char *)(intptr_t)v->n, len);
            cx->dst[len] = 0;
            v->n = (int64_t)(intptr_t)cx->dst;
            cx->dst += len + 1;
        } else {
            cx->need += len + 1;
        }
        return;
    }
    if (ty->kind != QT_LIST || ty->elem >= p->ntypes) return;
    const q_type *et = &p->types[ty->elem];
    uint64_t stride = et->kind == QT_STRUCT ? et->count : 1;
    if (v->n < 0 || v->d < 0 || (uint64_t)v->n + (uint64_t)v->d * stride > nelems) return;
    for (int64_t i = 0; i < v->d; i++) {
        q_val *e = &elems[(uint64_t)v->n + (uint64_t)i * stride];
        if (et->kind != QT_STRUCT) {
            walk_strings(p, ty->elem, e, elems, nelems, cx);
            continue;
        }
        for (uint32_t j = 0; j < et->count; j++) {
            const q_field *f = &p->fields[et->first + j];
            walk_strings(p, f->type, &e[f->slot < et->count ? f->slot : j], elems, nelems, cx);
        }
    }
}

q_record *rec_copy(const q_program *p, const q_record *rec)
{
    if (!rec || rec->kind >= p->nkinds) return NULL;
    const q_kind *kd = &p->kinds[rec->kind];
    uint32_t nf = kd->nfields;
    copy_ctx cx = {0, NULL};
    for (uint32_t i = 0; i < nf; i++) {
        if (!rec->present[i]) continue;
        q_val v = rec->slots[i];
        /* sizing: walk reads only */
        walk_strings(p, p->fields[kd->first_field + i].type, &v, rec->elems, rec->nelems, &cx);
    }
    size_t idlen = rec->id ? strlen(rec->id) : 0;
    size_t size = sizeof(q_record) + ((size_t)nf + rec->nelems) * sizeof(q_val) + nf + cx.need + idlen + 1;
    q_record *c = malloc(size);
    if (!c) return NULL;
    *c = *rec;
    c->slots = (q_val *)(c + 1);
    c->elems = c->slots + nf;
    c->present = (uint8_t *)(c->elems + rec->nelems);
    char *strs = (char *)(c->present + nf);
    if (nf) {
        memcpy(c->slots, rec->slots, nf * sizeof(q_val));
        memcpy(c->present, rec->present, nf);
    }
    if (rec->nelems) memcpy(c->elems, rec->elems, rec->nelems * sizeof(q_val));
    /* copying: strings in list elements are re-pointed in c->elems, once
     * per element (each element belongs to exactly one list) */
    cx.dst = strs;
    for (uint32_t i = 0; i < nf; i++)
        if (c->present[i]) walk_strings(p, p->fields[kd->first_field + i].type, &c->slots[i], c->elems, c->nelems, &cx);
    memcpy(cx.dst, rec->id ? rec->id : "", idlen + 1);
    c->id = cx.dst;
    return c;
}

void rec_free(q_record *rec) { free(rec); }
