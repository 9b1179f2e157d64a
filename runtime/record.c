/*
 * record.c — reading evaluation records (record.h, prefix rec_): the parts
 * every format shares. The formats are in record_json.c (JSON Lines and
 * JSON arrays, schema-directed, no DOM) and record_csv.c (CSV with a header
 * row, libcsv); record_int.h says who does what.
 * Contract: docs/records.md.
 *
 * Here: the input buffer (our own, not stdio line reading, so that the
 * format can be sniffed from the first non-space byte of a stream that
 * cannot seek, and a line longer than the limit is skipped without being
 * buffered), the record buffer and its string arena, errors with their
 * file/line/column/record/field, exact numbers from text, NFC strings, the
 * kind's declared checks (vm_eval) and deep copies.
 *
 * Memory: one reusable record per reader. The slots, presence bytes and
 * element arena grow as needed and are reused from record to record; strings
 * go into a chunked arena whose chunks never move (a string value holds a
 * pointer), reset per record. What one record may cost is bounded by
 * rec_limits, so memory stays bounded on an endless stream.
 */
#include "record_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "srcpos.h"
#include "vm.h"

/* =====================================================================
 * String arena: chunks that never move, reset per record
 * ===================================================================== */

static void arena_reset(rec_arena *a)
{
    for (rec_chunk *c = a->head; c; c = c->next) c->used = 0;
    a->cur = a->head;
}

static char *arena_alloc(rec_arena *a, size_t n)
{
    for (;;) {
        rec_chunk *c = a->cur;
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
        rec_chunk *nc = malloc(sizeof *nc + cap);
        if (!nc) return NULL;
        nc->next = NULL;
        nc->cap = cap;
        nc->used = 0;
        if (c) c->next = nc;
        else a->head = nc;
        a->cur = nc;
    }
}

static void arena_free(rec_arena *a)
{
    rec_chunk *c = a->head;
    while (c) {
        rec_chunk *n = c->next;
        free(c);
        c = n;
    }
    a->head = a->cur = NULL;
}

/* =====================================================================
 * Errors
 * ===================================================================== */

void rec_mark_cut(char *buf, size_t size, int n)
{
    if (n < 0 || (size_t)n < size || size <= strlen("…")) return;
    size_t k = rec_utf8_cut(buf, strlen(buf), size - 1 - strlen("…"));
    memcpy(buf + k, "…", strlen("…") + 1);
}

/* src into dst[size]; a text too long for it is cut at a character
 * boundary and ends in "…", so the cut shows. */
static void copy_str(char *dst, size_t size, const char *src)
{
    rec_mark_cut(dst, size, snprintf(dst, size, "%s", src ? src : ""));
}

size_t rec_utf8_cut(const char *s, size_t len, size_t max)
{
    if (len <= max) return len;
    size_t n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--; /* s[n] continues a character */
    return n;
}

/* Line and column of r->pos (JSON), counted from r->pos_base on line cur_line. */
static void json_where(const rec_reader *r, uint32_t *line, uint32_t *col)
{
    *line = r->cur_line;
    *col = 1;
    srcpos_advance(r->pos_base, (size_t)(r->pos - r->pos_base), line, col);
}

/* Invalid UTF-8 in a message (a bad cell shown as it was written) becomes
 * '?', so that every message can be written as JSON or text. */
static void scrub_utf8(char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        utf8proc_int32_t c;
        utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(n - i), &c);
        if (k < 1) s[i++] = '?';
        else i += (size_t)k;
    }
}

/* Fill *err for the record being decoded and return -1. */
int rec_fail(rec_reader *r, rec_error *err, const char *code, const char *field, const char *fmt, ...)
{
    copy_str(err->file, sizeof err->file, r->name);
    err->line = r->cur_line;
    err->column = r->cur_col;
    if (r->pos_base && r->pos && !r->nocol) json_where(r, &err->line, &err->column);
    const char *id = r->cur_id ? r->cur_id : "";
    size_t il = strlen(id);
    if (il <= REC_ID_MAX) copy_str(err->id, sizeof err->id, id);
    else err->id[0] = 0; /* only a too-long id, whose error says so */
    copy_str(err->field, sizeof err->field, field);
    copy_str(err->code, sizeof err->code, code);
    err->src_pos = err->src_msg = 0; /* only a declared check that fails at run time has a source line */
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    rec_mark_cut(err->message, sizeof err->message, n);
    if (n >= 0 && (size_t)n < sizeof err->message && err->column)
        snprintf(err->message + n, sizeof err->message - (size_t)n, " [dòng %u, cột %u]", err->line, err->column);
    scrub_utf8(err->message);
    scrub_utf8(err->field);
    scrub_utf8(err->id);
    return -1;
}

int rec_fail_oom(rec_reader *r, rec_error *err)
{
    return rec_fail(r, err, "no_memory", "", "hết bộ nhớ (out of memory)");
}

void rec_warn_unknown_field(rec_reader *r, const char *name, size_t len, uint32_t kind)
{
    int added = r->warn_raw ? 1 : strset_add(&r->warned, name, len, 0, NULL); /* once per whole name */
    const char *more = len > 200 ? "…" : ""; /* a name shown cut says so */
    if (len > 200) len = rec_utf8_cut(name, len, 200);
    if (added != 1 || !r->warn) return;
    r->warn_key = name;
    r->warn_keylen = len;
    rec_error w;
    memset(&w, 0, sizeof w);
    copy_str(w.file, sizeof w.file, r->name);
    w.line = r->cur_line;
    if (r->cur_id && strlen(r->cur_id) <= REC_ID_MAX) copy_str(w.id, sizeof w.id, r->cur_id);
    size_t fl = rec_utf8_cut(name, len, sizeof w.field - 1 - strlen("…"));
    snprintf(w.field, sizeof w.field, "%.*s%s", (int)fl, name, fl < len ? "…" : more);
    copy_str(w.code, sizeof w.code, "unknown_field");
    snprintf(w.message, sizeof w.message,
             "trường '%.*s%s' không có trong khai báo loại '%s' của bộ quy tắc, bỏ qua "
             "(unknown field ignored)",
             (int)len, name, more, prog_str(r->p, r->p->kinds[kind].name));
    scrub_utf8(w.message);
    scrub_utf8(w.field);
    scrub_utf8(w.id);
    r->warn(r->warn_ctx, &w);
}

/* A value's text for a message (a CSV cell quoted; JSON as written), cut
 * at ~100 bytes on a character boundary. */
const char *rec_show_text(rec_reader *r, const char *s, size_t len)
{
    size_t n = rec_utf8_cut(s, len, 100);
    snprintf(r->show, sizeof r->show, "%.*s%s", (int)n, s, n < len ? "…" : "");
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

int rec_fail_type(rec_reader *r, rec_error *err, const char *path, uint32_t t, const char *shown)
{
    char vi[96];
    const char *en;
    type_names(r->p, t, vi, sizeof vi, &en);
    return rec_fail(r, err, "wrong_type", path, "trường '%s' phải là %s, nhận được %s (wrong type: expected %s)", path,
                    vi, shown, en);
}

int rec_fail_member(rec_reader *r, rec_error *err, const char *path, uint32_t t, const char *shown)
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
    return rec_fail(r, err, "unknown_value", path,
                    "giá trị %s không hợp lệ cho trường '%s'; giá trị hợp lệ: %s (unknown value; allowed: %s)", shown,
                    path, allowed, allowed);
}

/* =====================================================================
 * Record buffer
 * ===================================================================== */

void rec_begin(rec_reader *r, uint32_t line)
{
    arena_reset(&r->strings);
    r->rec.nelems = 0;
    r->rec.id = NULL;
    r->cur_id = NULL;
    r->cur_line = line;
    r->cur_col = 0;
    r->pos_base = r->pos = NULL;
    r->rec.line = line;
    r->rec.index = r->index++;
}

/* Reserve n consecutive element values; *first = index of the first. */
bool rec_reserve_elems(rec_reader *r, size_t n, uint32_t *first)
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

const char *rec_store_str(rec_reader *r, const char *s, size_t len)
{
    char *d = arena_alloc(&r->strings, len + 1);
    if (!d) return NULL;
    if (len) memcpy(d, s, len);
    d[len] = 0;
    return d;
}

int rec_store_text(rec_reader *r, const char *s, size_t len, const char *path, const char **out, size_t *outlen,
                   rec_error *err)
{
    size_t i = 0;
    while (i < len && (unsigned char)s[i] < 0x80) i++;
    if (i == len) { /* ASCII: already NFC */
        *out = rec_store_str(r, s, len);
        *outlen = len;
        return *out ? 0 : rec_fail_oom(r, err);
    }
    utf8proc_uint8_t *d = NULL;
    utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len, &d,
                                      UTF8PROC_STABLE | UTF8PROC_COMPOSE);
    if (n < 0) {
        free(d);
        if (n == UTF8PROC_ERROR_NOMEM) return rec_fail_oom(r, err);
        return rec_fail(r, err, "wrong_type", path, "trường '%s' không phải văn bản UTF-8 hợp lệ: %s (invalid UTF-8)",
                        path, utf8proc_errmsg(n));
    }
    *out = rec_store_str(r, (const char *)d, (size_t)n);
    *outlen = (size_t)n;
    free(d);
    return *out ? 0 : rec_fail_oom(r, err);
}

/* =====================================================================
 * Exact numbers: the text's digits straight into n/d, never a double
 * ===================================================================== */

typedef enum num_rc { NUM_OK, NUM_SYNTAX, NUM_PRECISE } num_rc;

/* [sign] digits [. digits] [e [sign] digits] -> ±m × 10^e, m without
 * trailing zeros (at most 38 significant digits kept: more that are not
 * zeros cannot be exact in 64 bits anyway). */
static num_rc scan_number(const char *s, size_t len, bool csv, bool *neg, __int128 *m, int64_t *e)
{
    size_t i = 0;
    *neg = false;
    *m = 0;
    int64_t x = 0;
    unsigned sig = 0;
    bool over = false, digits = false;
    if (i < len && (s[i] == '-' || (csv && s[i] == '+'))) *neg = s[i++] == '-';
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
        digits = true;
        int d = s[i] - '0';
        if (*m == 0 && d == 0) continue;
        if (sig < 38) {
            *m = *m * 10 + d;
            sig++;
        } else {
            over |= d != 0;
            x++;
        }
    }
    if (i < len && s[i] == '.') {
        i++;
        bool fd = false;
        for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
            fd = digits = true;
            int d = s[i] - '0';
            if (sig < 38 && (*m != 0 || d != 0)) {
                *m = *m * 10 + d;
                sig++;
                x--;
            } else if (*m == 0) {
                x--;
            } else {
                over |= d != 0;
            }
        }
        if (!fd && !csv) return NUM_SYNTAX;
    }
    if (!digits) return NUM_SYNTAX;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        bool eneg = false;
        if (i < len && (s[i] == '-' || s[i] == '+')) eneg = s[i++] == '-';
        if (i == len || s[i] < '0' || s[i] > '9') return NUM_SYNTAX;
        int64_t ex = 0;
        for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
            if (ex < 1000000) ex = ex * 10 + (s[i] - '0');
        x += eneg ? -ex : ex;
    }
    if (i != len) return NUM_SYNTAX;
    if (*m == 0) {
        *e = 0;
        return NUM_OK;
    }
    if (over) return NUM_PRECISE;
    while (*m % 10 == 0) {
        *m /= 10;
        x++;
    }
    *e = x;
    return NUM_OK;
}

/* ±m × 10^e exactly as n/d in 64 bits, or NUM_PRECISE. */
static num_rc exact_q(bool neg, __int128 m, int64_t e, q_val *out)
{
    const __int128 max = INT64_MAX;
    if (m == 0) {
        *out = q_int(0);
        return NUM_OK;
    }
    if (e > 38 || e < -38) return NUM_PRECISE;
    __int128 p10 = 1;
    for (int64_t i = 0; i < (e < 0 ? -e : e); i++) p10 *= 10;
    __int128 n = m, d = 1;
    if (e >= 0) {
        if (m > max / p10) return NUM_PRECISE;
        n = m * p10;
    } else {
        __int128 a = m, b = p10;
        while (b) {
            __int128 t = a % b;
            a = b;
            b = t;
        }
        n = m / a;
        d = p10 / a;
    }
    if (n > max || d > max) return NUM_PRECISE;
    out->n = neg ? -(int64_t)n : (int64_t)n;
    out->d = (int64_t)d;
    return NUM_OK;
}

int rec_number(rec_reader *r, uint32_t t, const char *s, size_t len, const char *path, bool csv, q_val *out,
               rec_error *err)
{
    const q_type *ty = &r->p->types[t];
    if (rec_plain_integer(ty, s, len, out)) return 0;
    size_t n = len;
    if (csv && ty->kind == QT_PERCENT && n && s[n - 1] == '%') n--; /* "55%" reads as 55 */
    bool neg;
    __int128 m;
    int64_t e;
    num_rc rc = scan_number(s, n, csv, &neg, &m, &e);
    if (rc == NUM_OK) rc = exact_q(neg, m, ty->kind == QT_PERCENT ? e - 2 : e, out); /* a percent is n/100 */
    if (rc == NUM_OK && (ty->kind != QT_INT || out->d == 1)) return 0;
    const char *shown = csv ? NULL : rec_show_text(r, s, len);
    if (csv) {
        size_t c = rec_utf8_cut(s, len, 100);
        snprintf(r->show, sizeof r->show, "\"%.*s%s\"", (int)c, s, c < len ? "…" : "");
        shown = r->show;
    }
    if (rc == NUM_SYNTAX) return rec_fail_type(r, err, path, t, shown);
    if (rc == NUM_PRECISE) {
        char vi[96];
        const char *en;
        type_names(r->p, t, vi, sizeof vi, &en);
        bool pct = ty->kind == QT_PERCENT;
        return rec_fail(r, err, "too_precise", path,
                        "trường '%s': số %s có nhiều chữ số hơn %s giữ được chính xác (tử số và mẫu số 64 bit: "
                        "khoảng 18 chữ số%s; không làm tròn) (more digits than a %s field holds exactly: 64-bit "
                        "numerator and denominator, about 18 digits%s; never rounded)",
                        path, shown, vi, pct ? ", phần trăm: 16 chữ số sau dấu phẩy" : "", en,
                        pct ? ", 16 decimals for a percent" : "");
    }
    if (ty->kind == QT_INT && out->d != 1) return rec_fail_type(r, err, path, t, shown);
    return 0;
}

/* =====================================================================
 * Common parts of a record: id, kind, absent fields, checks
 * ===================================================================== */

int rec_set_id(rec_reader *r, const char *s, size_t len, bool check_dup, rec_error *err)
{
    const char *id;
    size_t il;
    if (rec_store_text(r, s, len, "id", &id, &il, err)) return -1;
    r->cur_id = id;
    r->rec.id = id;
    if (il > REC_ID_MAX) {
        size_t c = rec_utf8_cut(id, il, 60);
        return rec_fail(r, err, "limit", "id",
                        "mã bản ghi dài %zu byte, quá giới hạn %u byte: '%.*s…' (record id longer than %u bytes)", il,
                        REC_ID_MAX, (int)c, id, REC_ID_MAX);
    }
    if (!check_dup) return 0;
    uint32_t first = 0;
    int added = r->id_fn ? r->id_fn(r->id_ctx, id, il, r->cur_line, &first) : strset_add(&r->ids, id, il, r->cur_line, &first);
    if (added < 0) return rec_fail_oom(r, err);
    if (added == 0)
        return rec_fail(r, err, "duplicate_id", "id",
                        "mã '%s' bị trùng với bản ghi ở dòng %u (duplicate id; first seen at line %u)", id, first, first);
    return 0;
}

int rec_absent(rec_reader *r, const q_field *f, const char *path, q_val *out, uint8_t *present, rec_error *err)
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
    return rec_fail(r, err, "missing_field", path, "thiếu trường bắt buộc '%s'%s%s%s (missing required field)", path,
                    *label ? " (" : "", label, *label ? ")" : "");
}

/* After a missing required field, name every other required field of the
 * kind that the record lacks too (`absent(r, ctx, i)`: field i is absent or
 * empty), in one message ("cũng thiếu: 'a', 'b'"), so that a record of
 * another shape (a 124 record rated by central-366) is fixed in one pass.
 * What does not fit in the message is counted, never dropped silently. */
void rec_more_missing(rec_reader *r, const q_kind *kd, uint32_t from,
                      bool (*absent)(rec_reader *, const void *, uint32_t), const void *ctx, rec_error *err)
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

int rec_unknown_kind(rec_reader *r, const char *shown, rec_error *err)
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
    return rec_fail(r, err, "unknown_kind", "kind",
                    "loại đối tượng %s không có trong bộ quy tắc; bộ quy tắc xếp loại: %s (unknown kind; the ruleset "
                    "rates: %s)",
                    shown, kinds, kinds);
}

static inline uint32_t name_hash(uint32_t scope, const char *s, size_t len)
{
    uint32_t h = scope * 0x9E3779B1u + (uint32_t)len * 0x85EBCA77u;
    if (len)
        h += (uint8_t)s[0] * 0xC2B2AE3Du + (uint8_t)s[len - 1] * 0x27D4EB2Fu + (uint8_t)s[len / 2] * 0x165667B1u;
    return h ^ h >> 15;
}

uint32_t rec_name_find(const rec_reader *r, uint32_t scope, const char *name, size_t len)
{
    for (uint32_t h = name_hash(scope, name, len) & r->names_mask;; h = (h + 1) & r->names_mask) {
        const rec_name *e = &r->names[h];
        if (!e->s) return QUY_NONE;
        if (e->scope == scope && e->len == len && rec_same(e->s, name, len)) return e->idx;
    }
}

static void name_add(rec_reader *r, uint32_t scope, const char *name, uint32_t idx)
{
    size_t len = strlen(name);
    if (rec_name_find(r, scope, name, len) != QUY_NONE) return; /* the first declared wins, as a scan would */
    uint32_t h = name_hash(scope, name, len) & r->names_mask;
    while (r->names[h].s) h = (h + 1) & r->names_mask;
    r->names[h] = (rec_name){name, (uint32_t)len, scope, idx};
}

/* Field index (within kind k) of a key, QUY_NONE if the kind has none. */
uint32_t rec_field_index(rec_reader *r, uint32_t k, const char *name, size_t len)
{
    return rec_name_find(r, NS_KIND | k, name, len);
}

int rec_find_member(const rec_reader *r, uint32_t t, const char *name, size_t len)
{
    const q_program *p = r->p;
    if (t >= p->ntypes) return -1;
    const q_type *ty = &p->types[t];
    if (ty->kind != QT_ENUM && ty->kind != QT_SCALE) return -1;
    uint32_t i = rec_name_find(r, NS_MEMBERS | t, name, len);
    return i == QUY_NONE ? -1 : (int)i;
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
        snprintf(buf, size, "\"%.*s\"", (int)(v.d > 60 ? 60 : v.d), q_val_str(v));
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

/* The kind's declared checks, in one call into the VM (vm_eval_checks);
 * the first that fails is reported: false, with the values it read; not
 * evaluable (an overflow, a hook's error), with its source line, as `quy
 * eval` draws a rule that fails (quy_result_error_source). */
static int run_checks(rec_reader *r, uint32_t k, rec_error *err)
{
    const q_program *p = r->p;
    const q_kind *kd = &p->kinds[k];
    r->pos = NULL; /* a check is about the record, not one place in it */
    r->cur_col = 0;
    if (!kd->nchecks) return 0;
    uint32_t c = 0, epc;
    q_val v = {0, 0};
    int e = vm_eval_checks(p, r->hooks, &r->rec, &c, &v, &epc);
    if (e == VM_OK && c >= kd->nchecks) return 0;
    if (c >= kd->nchecks || kd->first_check + c >= p->nchecks) c = 0; /* not a check's own error: name the first */
    const q_check *ck = &p->checks[kd->first_check + c];
    const char *fname = ck->field < p->nfields ? prog_str(p, p->fields[ck->field].name) : "";
    if (e == VM_OK) {
        char vals[256];
        check_values(p, &r->rec, kd, ck, vals, sizeof vals);
        return rec_fail(r, err, "constraint", fname, "vi phạm ràng buộc '%s': %s (constraint violated)",
                        prog_str(p, ck->text), vals);
    }
    rec_fail(r, err, "eval", fname, "không kiểm tra được ràng buộc '%s': %s (check could not be evaluated)",
             prog_str(p, ck->text), e > 0 && e < VM__COUNT ? vm_error_message[e] : "?");
    const char *file = NULL, *ls;
    uint32_t line = 0, col = 0, llen;
    size_t at = strlen(err->message);
    if (epc < p->ncode && p->code_pos && prog_locate(p, p->code_pos[epc], &file, &line, &col, &ls, &llen) && file &&
        at < sizeof err->message) {
        err->src_pos = p->code_pos[epc] + 1;
        err->src_msg = (uint32_t)at;
        snprintf(err->message + at, sizeof err->message - at, " — tại %s:%u", file, line);
        scrub_utf8(err->message);
    }
    return -1;
}

int rec_finish(rec_reader *r, uint32_t k, q_record **out, rec_error *err)
{
    r->rec.kind = k;
    int rc = run_checks(r, k, err);
    if (rc) return rc;
    *out = &r->rec;
    return 1;
}

/* =====================================================================
 * Input buffer
 * ===================================================================== */

/* Read more input; false at end of input (or on a read error). One byte
 * past `end` is always allocated, for the JSON scanner's NUL sentinel. */
bool rec_fill(rec_reader *r)
{
    if (r->eof || !r->in) return false;
    if (r->start > 0) {
        memmove(r->buf, r->buf + r->start, r->end - r->start);
        r->end -= r->start;
        r->start = 0;
    }
    if (r->end == r->cap) {
        size_t ncap = r->cap ? r->cap * 2 : 65536;
        char *nb = realloc(r->buf, ncap + 1);
        if (!nb) {
            r->eof = r->nomem = true;
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

/* Discard the rest of a line that was too long (up to its '\n'). */
static bool skip_rest(rec_reader *r)
{
    while (r->skipping) {
        const char *nl = memchr(r->buf + r->start, '\n', r->end - r->start);
        if (nl) {
            r->start = (size_t)(nl - r->buf) + 1;
            r->skipping = false;
            break;
        }
        r->start = r->end;
        if (!rec_fill(r)) return false;
    }
    return true;
}

/* Next physical line, with its '\n' if it has one; -1 at end of input;
 * -2 if it is longer than max_line (then it is skipped, never buffered
 * whole). *s points into the buffer and stays valid until the next read. */
long rec_next_line(rec_reader *r, const char **s)
{
    size_t scanned = 0;
    if (!skip_rest(r)) return -1;
    for (;;) {
        const char *nl = r->buf ? memchr(r->buf + r->start + scanned, '\n', r->end - r->start - scanned) : NULL;
        if (nl) {
            size_t len = (size_t)(nl - (r->buf + r->start)) + 1;
            if (len - 1 > r->lim.max_line) break;
            *s = r->buf + r->start;
            r->start += len;
            return (long)len;
        }
        scanned = r->end - r->start;
        if (scanned > r->lim.max_line) break;
        if (!rec_fill(r)) {
            if (r->end > r->start && !r->nomem) {
                size_t len = r->end - r->start;
                *s = r->buf + r->start;
                r->start = r->end;
                return (long)len;
            }
            return -1;
        }
    }
    r->skipping = true;
    skip_rest(r);
    return -2;
}

int rec_line_too_long(rec_reader *r, rec_error *err)
{
    rec_begin(r, r->line);
    return rec_fail(r, err, "limit", "",
                    "dòng %u dài hơn giới hạn %u byte của một bản ghi; bỏ qua dòng này (record longer than the "
                    "limit of %u bytes; raise it with --max-line)",
                    r->line, r->lim.max_line, r->lim.max_line);
}

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool rec_blank(const char *s, size_t n)
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
        if (r->start == r->end && !rec_fill(r)) break;
        if (!bom_checked) {
            while (r->end - r->start < 3 && rec_fill(r)) {}
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

int rec_io_error(rec_reader *r, rec_error *err)
{
    if (r->nomem && !r->io_reported) {
        r->io_reported = true;
        r->done = true;
        rec_begin(r, r->line);
        return rec_fail(r, err, "no_memory", "", "hết bộ nhớ khi đọc dữ liệu vào; phần còn lại không được đọc (out of memory reading the input)");
    }
    if (r->in && ferror(r->in) && !r->io_reported) {
        r->io_reported = true;
        r->done = true;
        rec_begin(r, r->line);
        return rec_fail(r, err, "io", "", "lỗi đọc dữ liệu vào: %s (read error)", strerror(errno));
    }
    r->done = true;
    return 0;
}

/* =====================================================================
 * Public API
 * ===================================================================== */

/* A name as it is is a JSON string's text: no '"', '\\' or control
 * character, valid UTF-8. */
static bool plain_name(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == '"' || s[i] == '\\') return false;
    utf8proc_int32_t c;
    for (size_t i = 0; i < len;) {
        utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(len - i), &c);
        if (k < 1) return false;
        i += (size_t)k;
    }
    return true;
}

/* A plain name and its quote as `words` masked words (rec_pat, rec_kpat);
 * all zero (never matching) if it is not plain or does not fit. */
static void name_words(const char *s, size_t n, bool plain, uint64_t *w, uint64_t *m, size_t words)
{
    char wb[32] = {0}, mb[32] = {0};
    if (plain && n + 1 <= 8 * words) {
        memcpy(wb, s, n);
        wb[n] = '"';
        memset(mb, 0xFF, n + 1);
    }
    memcpy(w, wb, 8 * words);
    memcpy(m, mb, 8 * words);
}

/* Field and member names, their lengths, the names table and the
 * predicted key order (declared order to begin with), for the decoders. */
static bool index_fields(rec_reader *r)
{
    const q_program *p = r->p;
    size_t nnames = 2 * (size_t)p->nfields + p->nmembers, cap = 16; /* a field in two scopes at most */
    while (cap < 2 * nnames) cap *= 2; /* at most half full: a probe always ends */
    if (cap > UINT32_MAX) return false;
    r->names = calloc(cap, sizeof *r->names);
    r->names_mask = (uint32_t)(cap - 1);
    r->fname = calloc(p->nfields ? p->nfields : 1, sizeof *r->fname);
    r->flen = calloc(p->nfields ? p->nfields : 1, sizeof *r->flen);
    r->fplain = calloc(p->nfields ? p->nfields : 1, sizeof *r->fplain);
    r->follow = calloc((size_t)p->nfields + p->nkinds, sizeof *r->follow);
    r->mname = calloc(p->nmembers ? p->nmembers : 1, sizeof *r->mname);
    r->mlen = calloc(p->nmembers ? p->nmembers : 1, sizeof *r->mlen);
    r->fpat = calloc(p->nfields ? p->nfields : 1, sizeof *r->fpat);
    r->mpat = calloc(p->nmembers ? p->nmembers : 1, sizeof *r->mpat);
    if (!r->names || !r->fname || !r->flen || !r->fplain || !r->follow || !r->mname || !r->mlen || !r->fpat ||
        !r->mpat)
        return false;
    for (uint32_t m = 0; m < p->nmembers; m++) {
        r->mname[m] = prog_str(p, p->members[m].name);
        size_t n = strlen(r->mname[m]);
        r->mlen[m] = plain_name(r->mname[m], n) && n < UINT32_MAX ? (uint32_t)n : UINT32_MAX;
        name_words(r->mname[m], n, r->mlen[m] != UINT32_MAX, r->mpat[m].w, r->mpat[m].m, 2);
    }
    for (uint32_t f = 0; f < p->nfields; f++) {
        r->fname[f] = prog_str(p, p->fields[f].name);
        r->flen[f] = (uint32_t)strlen(r->fname[f]);
        /* `id` and `kind` are the record's own keys, never predicted as a field */
        r->fplain[f] = plain_name(r->fname[f], r->flen[f]) && strcmp(r->fname[f], "id") && strcmp(r->fname[f], "kind");
        name_words(r->fname[f], r->flen[f], r->fplain[f], r->fpat[f].w, r->fpat[f].m, 4);
        r->follow[f] = QUY_NONE;
    }
    for (uint32_t k = 0; k < p->nkinds; k++) {
        const q_kind *kd = &p->kinds[k];
        r->follow[p->nfields + k] = kd->nfields && kd->first_field < p->nfields ? 0 : QUY_NONE;
        for (uint32_t i = 0; i < kd->nfields && kd->first_field + i < p->nfields; i++) {
            uint32_t f = kd->first_field + i;
            if (i + 1 < kd->nfields && f + 1 < p->nfields) r->follow[f] = i + 1;
            name_add(r, NS_KIND | k, r->fname[f], i);
        }
    }
    for (uint32_t t = 0; t < p->ntypes; t++) {
        const q_type *ty = &p->types[t];
        if (ty->kind == QT_STRUCT)
            for (uint32_t i = 0; i < ty->count && ty->first + i < p->nfields; i++)
                name_add(r, NS_STRUCT | t, r->fname[ty->first + i], i);
        if (ty->kind == QT_ENUM || ty->kind == QT_SCALE)
            for (uint32_t i = 0; i < ty->count && ty->first + i < p->nmembers; i++)
                name_add(r, NS_MEMBERS | t, r->mname[ty->first + i], i);
    }
    return true;
}

rec_reader *rec_reader_open(const q_program *p, FILE *in, const char *name, rec_format fmt)
{
    rec_reader *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->p = p;
    r->in = in;
    r->fmt = fmt;
    r->lim = (rec_limits){REC_DEFAULT_MAX_LINE, REC_DEFAULT_MAX_DEPTH, REC_DEFAULT_MAX_LIST};
    copy_str(r->name, sizeof r->name, name ? name : "-");
    uint32_t maxf = 1;
    for (uint32_t k = 0; k < p->nkinds; k++)
        if (p->kinds[k].nfields > maxf) maxf = p->kinds[k].nfields;
    r->maxfields = maxf;
    r->rec.slots = calloc(maxf, sizeof *r->rec.slots);
    r->rec.present = calloc(maxf, 1);
    r->seen = calloc(maxf, sizeof *r->seen);
    if (!r->rec.slots || !r->rec.present || !r->seen || !index_fields(r)) {
        rec_reader_free(r);
        return NULL;
    }
    return r;
}

void rec_reader_set_limits(rec_reader *r, const rec_limits *lim)
{
    if (lim->max_line) r->lim.max_line = lim->max_line;
    if (lim->max_depth) r->lim.max_depth = lim->max_depth;
    if (lim->max_list) r->lim.max_list = lim->max_list;
}

void rec_reader_on_id(rec_reader *r, rec_id_fn fn, void *ctx)
{
    r->id_fn = fn;
    r->id_ctx = ctx;
}

void rec_reader_on_warning(rec_reader *r, rec_warn_fn fn, void *ctx)
{
    r->warn = fn;
    r->warn_ctx = ctx;
}

void rec_reader_set_hooks(rec_reader *r, struct hook_session *hs) { r->hooks = hs; }

/* ---------------------------------------------------------------------
 * Parallel reading (record.h): the lines, the ids and the warnings in
 * input order on one thread, the decoding on others
 * ------------------------------------------------------------------- */

rec_format rec_reader_sniff(rec_reader *r)
{
    if (!r->sniffed && r->in) {
        sniff(r);
        r->sniffed = true;
    }
    return r->fmt;
}

int rec_reader_line(rec_reader *r, const char **s, size_t *len, uint32_t *line, uint32_t *index, rec_error *err)
{
    if (r->done || !r->in) return REC_LINE_END;
    if (!r->sniffed) {
        sniff(r);
        r->sniffed = true;
    }
    if (r->fmt != REC_JSONL) return REC_LINE_OTHER;
    for (;;) { /* as rec_next_jsonl, without the decoding */
        const char *t;
        long n = rec_next_line(r, &t);
        if (n == -1) return rec_io_error(r, err) ? REC_LINE_ERROR : REC_LINE_END;
        r->line++;
        if (n == -2) return rec_line_too_long(r, err), REC_LINE_ERROR;
        if (rec_blank(t, (size_t)n)) continue;
        while (n > 0 && (t[n - 1] == '\n' || t[n - 1] == '\r')) n--;
        *s = t;
        *len = (size_t)n;
        *line = r->line;
        *index = r->index++;
        return REC_LINE_TEXT;
    }
}

int rec_reader_note_id(rec_reader *r, const char *id, uint32_t line)
{
    uint32_t first;
    return r->id_fn ? r->id_fn(r->id_ctx, id, strlen(id), line, &first) : strset_add(&r->ids, id, strlen(id), line, NULL);
}

void rec_reader_warn_raw(rec_reader *r, bool raw) { r->warn_raw = raw; }

const char *rec_reader_warn_key(const rec_reader *r, size_t *len)
{
    *len = r->warn_keylen;
    return r->warn_key;
}

int rec_reader_warn_replay(rec_reader *r, const rec_error *w, const char *key, size_t len)
{
    int added = strset_add(&r->warned, key, len, 0, NULL);
    if (added < 0) return -1;
    if (added == 1 && r->warn) r->warn(r->warn_ctx, w);
    return 0;
}

int rec_reader_next(rec_reader *r, q_record **out, rec_error *err)
{
    if (r->done || !r->in) return 0;
    if (!r->sniffed) {
        sniff(r);
        r->sniffed = true;
    }
    switch (r->fmt) {
    case REC_JSON: return rec_next_json(r, out, err);
    case REC_CSV: return rec_next_csv(r, out, err);
    default: return rec_next_jsonl(r, out, err);
    }
}

void rec_reader_free(rec_reader *r)
{
    if (!r) return;
    rec_json_free(r);
    rec_csv_free(r);
    strset_free(&r->ids);
    strset_free(&r->warned);
    strset_free(&r->keys);
    arena_free(&r->strings);
    free(r->fname);
    free(r->flen);
    free(r->fplain);
    free(r->mname);
    free(r->mlen);
    free(r->fpat);
    free(r->mpat);
    free(r->follow);
    free(r->names);
    free(r->seen);
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

/* A value of type t may hold a string (most fields do not: skipped at
 * once; a quarter of a copy's instructions, callgrind on quy eval). */
static inline bool may_hold_strings(const q_program *p, uint32_t t)
{
    return t < p->ntypes && (p->types[t].kind == QT_STRING || p->types[t].kind == QT_LIST);
}

/* Visit every string value reachable from v (of type t). */
static void walk_strings(const q_program *p, uint32_t t, q_val *v, q_val *elems, uint32_t nelems, copy_ctx *cx)
{
    if (t >= p->ntypes) return;
    const q_type *ty = &p->types[t];
    if (ty->kind == QT_STRING) {
        size_t len = (size_t)v->d;
        if (cx->dst) {
            if (len) memcpy(cx->dst, q_val_str(*v), len);
            cx->dst[len] = 0;
            *v = q_str(cx->dst, len);
            cx->dst += len + 1;
        } else {
            cx->need += len + 1;
        }
        return;
    }
    if (ty->kind != QT_LIST || ty->elem >= p->ntypes) return;
    const q_type *et = &p->types[ty->elem];
    if (et->kind != QT_STRING && et->kind != QT_STRUCT && et->kind != QT_LIST) return; /* no strings in it */
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

size_t rec_copy_size(const q_program *p, const q_record *rec)
{
    if (!rec || rec->kind >= p->nkinds) return 0;
    const q_kind *kd = &p->kinds[rec->kind];
    uint32_t nf = kd->nfields;
    copy_ctx cx = {0, NULL};
    for (uint32_t i = 0; i < nf; i++) {
        if (!rec->present[i] || !may_hold_strings(p, p->fields[kd->first_field + i].type)) continue;
        q_val v = rec->slots[i];
        walk_strings(p, p->fields[kd->first_field + i].type, &v, rec->elems, rec->nelems, &cx);
    }
    size_t idlen = rec->id ? strlen(rec->id) : 0;
    return sizeof(q_record) + ((size_t)nf + rec->nelems) * sizeof(q_val) + nf + cx.need + idlen + 1;
}

q_record *rec_copy_into(const q_program *p, const q_record *rec, void *mem)
{
    const q_kind *kd = &p->kinds[rec->kind];
    uint32_t nf = kd->nfields;
    size_t idlen = rec->id ? strlen(rec->id) : 0;
    q_record *c = mem;
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
    copy_ctx cx = {0, strs};
    for (uint32_t i = 0; i < nf; i++)
        if (c->present[i] && may_hold_strings(p, p->fields[kd->first_field + i].type))
            walk_strings(p, p->fields[kd->first_field + i].type, &c->slots[i], c->elems, c->nelems, &cx);
    memcpy(cx.dst, rec->id ? rec->id : "", idlen + 1);
    c->id = cx.dst;
    return c;
}

q_record *rec_copy(const q_program *p, const q_record *rec)
{
    size_t size = rec_copy_size(p, rec);
    void *m = size ? malloc(size) : NULL;
    return m ? rec_copy_into(p, rec, m) : NULL;
}

void rec_free(q_record *rec) { free(rec); }
