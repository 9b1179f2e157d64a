/*
 * record_csv.c — CSV records with a header row (libcsv; record_int.h).
 *
 * Fed to libcsv one physical line at a time, so every row knows the line
 * it began on (a quoted cell may span lines). The raw lines of a row are
 * kept until it ends: if its quote is never closed (at the end of input,
 * or once the row is longer than max_line), the row is rejected naming the
 * line where it starts and the lines after that one are read again as
 * rows of their own — an unterminated quote loses one row, not the rest.
 *
 * A column named twice in the header is a warning; a row whose two cells
 * of that name differ is rejected naming the column (which one to rate is
 * not ours to guess); a row where they agree is rated.
 */
#include "record_int.h"

#include <stdlib.h>
#include <string.h>

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

/* A cell for a message, quoted, cut on a character boundary. */
static const char *show_cell(rec_reader *r, const char *s, size_t len)
{
    size_t n = rec_utf8_cut(s, len, 100);
    snprintf(r->show, sizeof r->show, "\"%.*s%s\"", (int)n, s, n < len ? "…" : "");
    return r->show;
}

/* ---------------------------------------------------------------------
 * Values from cell text
 * ------------------------------------------------------------------- */

static int dec_text(rec_reader *r, uint32_t t, const char *s, size_t len, const char *path, q_val *out,
                    rec_error *err);

/* A `;`-separated list of scalars (a trailing `;` is tolerated). */
static int dec_list_text(rec_reader *r, uint32_t et, const char *s, size_t len, const char *path, q_val *out,
                         rec_error *err)
{
    const q_program *p = r->p;
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
    if (n > r->lim.max_list)
        return rec_fail(r, err, "limit", path,
                        "danh sách '%s' dài hơn giới hạn %u phần tử (list longer than %u elements; raise it with "
                        "--max-list)",
                        path, r->lim.max_list, r->lim.max_list);
    uint32_t first;
    if (!rec_reserve_elems(r, n, &first)) return rec_fail_oom(r, err);
    const char *q = s;
    for (size_t i = 0; i < n; i++) {
        const char *semi = memchr(q, ';', len - (size_t)(q - s));
        size_t il = semi ? (size_t)(semi - q) : len - (size_t)(q - s);
        const char *item = q;
        trim(&item, &il);
        char sub[128];
        snprintf(sub, sizeof sub, "%s[%zu]", path, i);
        if (!il && p->types[et].kind != QT_STRING)
            return rec_fail(r, err, "wrong_type", path, "phần tử '%s' rỗng (empty list item)", sub);
        q_val x;
        int rc = dec_text(r, et, item, il, sub, &x, err);
        if (rc) return rc;
        r->rec.elems[first + i] = x;
        q = semi ? semi + 1 : s + len;
    }
    *out = (q_val){first, (int64_t)n};
    return 0;
}

static int dec_text(rec_reader *r, uint32_t t, const char *s, size_t len, const char *path, q_val *out,
                    rec_error *err)
{
    const q_program *p = r->p;
    if (t >= p->ntypes) return rec_fail(r, err, "eval", path, "kiểu không hợp lệ (invalid type index)");
    const q_type *ty = &p->types[t];
    if (ty->kind != QT_STRING) trim(&s, &len);
    switch (ty->kind) {
    case QT_INT:
    case QT_DECIMAL:
    case QT_PERCENT:
        return rec_number(r, t, s, len, path, true, out, err);
    case QT_BOOL:
        if (text_eq_ci(s, len, "true") || (len == 1 && s[0] == '1')) *out = q_bool(true);
        else if (text_eq_ci(s, len, "false") || (len == 1 && s[0] == '0')) *out = q_bool(false);
        else return rec_fail_type(r, err, path, t, show_cell(r, s, len));
        return 0;
    case QT_DATE: {
        int64_t days;
        if (!q_parse_date(s, len, &days)) return rec_fail_type(r, err, path, t, show_cell(r, s, len));
        *out = q_int(days);
        return 0;
    }
    case QT_STRING: {
        const char *d;
        size_t dl;
        if (rec_store_text(r, s, len, path, &d, &dl, err)) return -1;
        *out = q_str(d, dl);
        return 0;
    }
    case QT_ENUM:
    case QT_SCALE: {
        int m = prog_find_member(p, t, s, len);
        for (size_t i = 0; i < len && m < 0; i++) /* a member written in another normal form */
            if ((unsigned char)s[i] >= 0x80) {
                const char *nfc;
                size_t nl;
                if (rec_store_text(r, s, len, path, &nfc, &nl, err)) return -1;
                m = prog_find_member(p, t, nfc, nl);
                break;
            }
        if (m < 0) return rec_fail_member(r, err, path, t, show_cell(r, s, len));
        *out = q_int(m);
        return 0;
    }
    case QT_LIST: {
        uint32_t et = ty->elem;
        if (et >= p->ntypes) return rec_fail(r, err, "eval", path, "kiểu không hợp lệ (invalid type index)");
        uint8_t ek = p->types[et].kind;
        if (ek == QT_STRUCT) /* a list of structs is written as JSON array text inside the cell */
            return rec_json_value_text(r, t, s, len, path, out, err);
        if (ek == QT_LIST) return rec_fail_type(r, err, path, t, show_cell(r, s, len));
        return dec_list_text(r, et, s, len, path, out, err);
    }
    default:
        return rec_fail_type(r, err, path, t, show_cell(r, s, len));
    }
}

/* ---------------------------------------------------------------------
 * Cells from libcsv
 * ------------------------------------------------------------------- */

static void csv_cb_cell(void *s, size_t len, void *data)
{
    rec_reader *r = data;
    if (r->ncells == r->cell_max) {
        uint32_t nmax = r->cell_max ? r->cell_max * 2 : 64;
        size_t *no = realloc(r->cell_off, nmax * sizeof *no);
        if (!no) {
            r->cell_oom = true;
            return;
        }
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
        if (!nb) {
            r->cell_oom = true;
            return;
        }
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
    r->row_len = 0;
}

/* ---------------------------------------------------------------------
 * Header and rows
 * ------------------------------------------------------------------- */

static void warn_dup_column(rec_reader *r, const char *name, uint32_t first, uint32_t again)
{
    if (!r->warn) return;
    rec_error w;
    memset(&w, 0, sizeof w);
    snprintf(w.file, sizeof w.file, "%s", r->name);
    w.line = r->row_line;
    w.column = again + 1;
    snprintf(w.field, sizeof w.field, "%s", name);
    snprintf(w.code, sizeof w.code, "duplicate_column");
    snprintf(w.message, sizeof w.message,
             "cột '%s' xuất hiện hai lần trong dòng tiêu đề (cột %u và %u); một dòng có hai giá trị khác nhau ở "
             "hai cột này sẽ bị từ chối (duplicate header column; a row whose two cells differ is rejected)",
             name, first + 1, again + 1);
    r->warn(r->warn_ctx, &w);
}

static int csv_header(rec_reader *r, rec_error *err)
{
    const q_program *p = r->p;
    r->have_header = true;
    r->ncols = r->ncells;
    r->cols = calloc(r->ncols ? r->ncols : 1, sizeof *r->cols);
    r->dupcol = calloc(r->ncols ? r->ncols : 1, sizeof *r->dupcol);
    r->fcol = calloc((size_t)(p->nkinds ? p->nkinds : 1) * (r->maxfields + 1), sizeof *r->fcol);
    if (!r->cols || !r->fcol || !r->dupcol) return rec_fail_oom(r, err);
    r->col_id = r->col_kind = QUY_NONE;
    for (uint32_t c = 0; c < r->ncols; c++) {
        size_t len;
        const char *s = cell(r, c, &len);
        trim(&s, &len);
        r->cols[c] = strndup(s, len);
        if (!r->cols[c]) return rec_fail_oom(r, err);
        r->dupcol[c] = QUY_NONE;
        for (uint32_t d = 0; d < c && r->dupcol[c] == QUY_NONE; d++)
            if (!strcmp(r->cols[d], r->cols[c]) && *r->cols[c]) {
                r->dupcol[c] = d;
                warn_dup_column(r, r->cols[c], d, c);
            }
        if (r->dupcol[c] != QUY_NONE) continue; /* the first column of a name is read */
        if (!strcmp(r->cols[c], "id") && r->col_id == QUY_NONE) r->col_id = c;
        if (!strcmp(r->cols[c], "kind") && r->col_kind == QUY_NONE) r->col_kind = c;
    }
    return 0;
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
        if (!*name || c == r->col_id || c == r->col_kind || r->dupcol[c] != QUY_NONE) continue;
        uint32_t i = rec_field_index(r, k, name, strlen(name));
        if (i == QUY_NONE) {
            rec_warn_unknown_field(r, name, strlen(name), k);
            continue;
        }
        m[i] = c;
    }
}

/* Two cells of a column named twice that differ: the row is rejected. */
static int check_dup_cells(rec_reader *r, rec_error *err)
{
    for (uint32_t c = 0; c < r->ncols; c++) {
        if (r->dupcol[c] == QUY_NONE) continue;
        size_t la, lb;
        const char *a = cell(r, r->dupcol[c], &la), *b = cell(r, c, &lb);
        trim(&a, &la);
        trim(&b, &lb);
        if (la == lb && !memcmp(a, b, la)) continue;
        char sa[sizeof r->show], sb[sizeof r->show];
        snprintf(sa, sizeof sa, "%s", show_cell(r, a, rec_utf8_cut(a, la, 60)));
        snprintf(sb, sizeof sb, "%s", show_cell(r, b, rec_utf8_cut(b, lb, 60)));
        r->cur_col = c + 1;
        return rec_fail(r, err, "bad_csv", r->cols[c],
                        "cột '%s' có hai lần trong tiêu đề và hai giá trị khác nhau ở dòng này: %s (cột %u) và %s "
                        "(cột %u); hãy bỏ một cột (duplicate header column with different values: remove one)",
                        r->cols[c], sa, r->dupcol[c] + 1, sb, c + 1);
    }
    return 0;
}

/* Field i of the row's kind has no cell, or an empty one (cols: the kind's column map). */
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
    rec_begin(r, r->row_line);
    size_t len;
    const char *s;
    if (r->cell_oom) return rec_fail_oom(r, err);
    if (r->col_id != QUY_NONE && r->col_id < r->ncells) { /* the id first, for every message */
        s = cell(r, r->col_id, &len);
        trim(&s, &len);
        r->cur_id = rec_store_str(r, s, len);
    }
    if (r->ncells != r->ncols)
        return rec_fail(r, err, "bad_csv", "", "dòng %u có %u ô nhưng tiêu đề có %u cột (row has %u cells, the header %u)",
                        r->row_line, r->ncells, r->ncols, r->ncells, r->ncols);
    int rc = check_dup_cells(r, err);
    if (rc) return rc;
    s = r->col_id == QUY_NONE ? "" : cell(r, r->col_id, &len);
    if (r->col_id == QUY_NONE) len = 0;
    trim(&s, &len);
    r->cur_col = r->col_id == QUY_NONE ? 0 : r->col_id + 1;
    if (!len) return rec_fail(r, err, "missing_field", "id", "thiếu trường bắt buộc 'id' (missing required field)");
    rc = rec_set_id(r, s, len, true, err);
    if (rc) return rc;
    s = r->col_kind == QUY_NONE ? "" : cell(r, r->col_kind, &len);
    if (r->col_kind == QUY_NONE) len = 0;
    trim(&s, &len);
    r->cur_col = r->col_kind == QUY_NONE ? 0 : r->col_kind + 1;
    if (!len) return rec_fail(r, err, "missing_field", "kind", "thiếu trường bắt buộc 'kind' (missing required field)");
    uint32_t k = prog_find_kind(p, s, len);
    if (k == QUY_NONE || k >= p->nkinds) return rec_unknown_kind(r, show_cell(r, s, len), err);
    r->rec.kind = k;
    const q_kind *kd = &p->kinds[k];
    uint32_t *m = r->fcol + (size_t)k * (r->maxfields + 1);
    if (m[r->maxfields] != MAPPED) map_kind(r, k);
    for (uint32_t i = 0; i < kd->nfields; i++) {
        const q_field *f = &p->fields[kd->first_field + i];
        uint16_t slot = f->slot < kd->nfields ? f->slot : (uint16_t)i;
        const char *name = r->fname[kd->first_field + i];
        len = 0;
        s = m[i] == QUY_NONE ? "" : cell(r, m[i], &len);
        r->cur_col = m[i] == QUY_NONE ? 0 : m[i] + 1;
        const char *t = s;
        size_t tl = len;
        trim(&t, &tl);
        q_val x;
        if (!tl) {
            rc = rec_absent(r, f, name, &x, &r->rec.present[slot], err);
            if (rc) rec_more_missing(r, kd, i + 1, csv_absent, m, err);
        } else {
            rc = dec_text(r, f->type, s, len, name, &x, err);
            r->rec.present[slot] = 1;
        }
        if (rc) return rc;
        r->rec.slots[slot] = x;
    }
    r->cur_col = 0;
    return rec_finish(r, k, out, err);
}

/* ---------------------------------------------------------------------
 * Lines: replayed ones first, then the input
 * ------------------------------------------------------------------- */

static long csv_line(rec_reader *r, const char **s)
{
    if (r->replay_pos < r->replay_len) {
        const char *a = r->replay + r->replay_pos;
        const char *nl = memchr(a, '\n', r->replay_len - r->replay_pos);
        size_t len = nl ? (size_t)(nl - a) + 1 : r->replay_len - r->replay_pos;
        r->replay_pos += len;
        *s = a;
        return (long)len;
    }
    return rec_next_line(r, s);
}

static bool keep_row_text(rec_reader *r, const char *s, size_t n)
{
    if (r->row_len + n > r->row_cap) {
        size_t nc = r->row_cap ? r->row_cap : 4096;
        while (nc < r->row_len + n) nc *= 2;
        char *nb = realloc(r->rowtext, nc);
        if (!nb) return false;
        r->rowtext = nb;
        r->row_cap = nc;
    }
    memcpy(r->rowtext + r->row_len, s, n);
    r->row_len += n;
    return true;
}

static void csv_restart(rec_reader *r)
{
    csv_free(&r->csv);
    csv_init(&r->csv, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL | CSV_EMPTY_IS_NULL);
    r->ncells = 0;
    r->cell_len = 0;
    r->row_done = false;
    r->in_row = false;
}

/* The row that began at row_line has a quote that does not close (by the
 * end of input, or within max_line bytes): reject it, and read the lines
 * after its first one again. */
static int unterminated(rec_reader *r, rec_error *err, bool at_end)
{
    uint32_t at = r->row_line;
    rec_begin(r, at);
    if (r->have_header && r->col_id < r->ncells && !r->cell_oom) { /* the id, if read before the quote */
        size_t il;
        const char *id = cell(r, r->col_id, &il);
        trim(&id, &il);
        r->cur_id = rec_store_str(r, id, il);
    }
    const char *nl = memchr(r->rowtext, '\n', r->row_len);
    size_t first = nl ? (size_t)(nl - r->rowtext) + 1 : r->row_len;
    /* the rest of the row's text becomes the replay (before any older replay left) */
    size_t rest = r->row_len - first, left = r->replay_len - r->replay_pos;
    char *nb = malloc(rest + left + 1);
    if (!nb) return rec_fail_oom(r, err);
    memcpy(nb, r->rowtext + first, rest);
    if (left) memcpy(nb + rest, r->replay + r->replay_pos, left);
    free(r->replay);
    r->replay = nb;
    r->replay_len = rest + left;
    r->replay_pos = 0;
    r->line = at; /* the replayed lines are counted again */
    csv_restart(r);
    r->row_len = 0;
    if (at_end && !rest) r->done = true;
    return rec_fail(r, err, "bad_csv", "",
                    "dòng %u: ô có dấu ngoặc kép mở mà không đóng%s; các dòng sau được đọc lại như những dòng riêng "
                    "(unterminated quoted cell starting on line %u%s)",
                    at, at_end ? "" : " trong giới hạn --max-line", at, at_end ? "" : " within --max-line bytes");
}

/* The header row cannot be read (longer than max_line, or a quote that
 * does not close): no row of the input can be read without it (the next
 * line taken as the header would misname every cell), so the input ends. */
static int header_unreadable(rec_reader *r, rec_error *err, const char *code, const char *vi, const char *en)
{
    uint32_t at = r->in_row ? r->row_line : r->line;
    csv_restart(r);
    r->row_len = 0;
    r->done = true;
    rec_begin(r, at);
    return rec_fail(r, err, code, "",
                    "dòng %u: không đọc được dòng tiêu đề CSV: %s; không dòng nào của tệp được đọc (cannot read the "
                    "CSV header: %s; no row of this input is read)",
                    at, vi, en);
}

static int header_too_long(rec_reader *r, rec_error *err)
{
    char vi[96], en[96];
    snprintf(vi, sizeof vi, "dài hơn giới hạn %u byte (--max-line)", r->lim.max_line);
    snprintf(en, sizeof en, "longer than the limit of %u bytes; raise it with --max-line", r->lim.max_line);
    return header_unreadable(r, err, "limit", vi, en);
}

static int header_unterminated(rec_reader *r, rec_error *err)
{
    return header_unreadable(r, err, "bad_csv", "ô có dấu ngoặc kép mở mà không đóng", "unterminated quoted cell");
}

int rec_next_csv(rec_reader *r, q_record **out, rec_error *err)
{
    if (!r->csv_ready) {
        if (csv_init(&r->csv, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL | CSV_EMPTY_IS_NULL) != 0) {
            r->done = true;
            rec_begin(r, 0);
            return rec_fail_oom(r, err);
        }
        r->csv_ready = true;
    }
    for (;;) {
        if (!r->in_row) clear_row(r); /* a quoted cell may continue on the next line */
        const char *s;
        long n = csv_line(r, &s);
        if (n == -2) {
            r->line++;
            if (!r->have_header) return r->in_row ? header_unterminated(r, err) : header_too_long(r, err);
            if (r->in_row) return unterminated(r, err, false);
            return rec_line_too_long(r, err);
        }
        if (n < 0) {
            if (r->in_row && r->row_len) {
                int fe = csv_fini(&r->csv, csv_cb_cell, csv_cb_row, r);
                if (fe != 0) return r->have_header ? unterminated(r, err, true) : header_unterminated(r, err);
            } else {
                csv_fini(&r->csv, csv_cb_cell, csv_cb_row, r);
            }
            r->done = true;
            if (!r->row_done) return rec_io_error(r, err);
        } else {
            r->line++;
            if (!r->in_row) {
                if (rec_blank(s, (size_t)n)) continue;
                r->in_row = true;
                r->row_line = r->line;
            }
            const char *nul = memchr(s, 0, (size_t)n);
            if (nul) { /* a cell would be cut there: the row is refused, the next one read */
                uint32_t at = r->row_line, col = 1;
                for (const char *q = s; q < nul; q++) col += ((unsigned char)*q & 0xC0) != 0x80;
                csv_restart(r);
                r->row_len = 0;
                rec_begin(r, at);
                r->cur_col = col;
                return rec_fail(r, err, "bad_csv", "", "dòng %u có byte NUL (NUL byte in a CSV row)", r->line);
            }
            if (!keep_row_text(r, s, (size_t)n)) {
                rec_begin(r, r->row_line);
                csv_restart(r);
                return rec_fail_oom(r, err);
            }
            if (csv_parse(&r->csv, s, (size_t)n, csv_cb_cell, csv_cb_row, r) != (size_t)n) {
                uint32_t at = r->row_line;
                const char *why = csv_strerror(csv_error(&r->csv));
                csv_restart(r);
                rec_begin(r, at);
                return rec_fail(r, err, "bad_csv", "", "dòng %u: lỗi cú pháp CSV: %s (CSV syntax error)", r->line, why);
            }
            if (!r->row_done) {
                if (r->row_len > r->lim.max_line)
                    return r->have_header ? unterminated(r, err, false) : header_unterminated(r, err);
                continue;
            }
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

void rec_csv_free(rec_reader *r)
{
    if (r->csv_ready) csv_free(&r->csv);
    for (uint32_t c = 0; r->cols && c < r->ncols; c++) free(r->cols[c]); /* cols NULL: out of memory in csv_header */
    free(r->cols);
    free(r->dupcol);
    free(r->fcol);
    free(r->cellbuf);
    free(r->cell_off);
    free(r->rowtext);
    free(r->replay);
}
