/*
 * diag.c — collecting and printing compile-time diagnostics.
 *
 *   rules.quy:12:7: error: unknown field 'tasks_compelted'; did you mean 'tasks_completed'?
 *      12 |   and tasks_compelted = tasks_total
 *         |       ^~~~~~~~~~~~~~~
 *
 * Spans are byte offsets; line and column (in UTF-8 characters) are computed
 * here, only when printing.
 */
#include "diag.h"

#include <stdlib.h>
#include <string.h>

static void *diag_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q) {
        fputs("quy: out of memory\n", stderr);
        abort();
    }
    return q;
}

void diag_init(diag_list *d)
{
    memset(d, 0, sizeof *d);
}

void diag_free(diag_list *d)
{
    for (size_t i = 0; i < d->n; i++) free(d->items[i].msg);
    free(d->items);
    memset(d, 0, sizeof *d);
}

void diag_rollback(diag_list *d, size_t n)
{
    while (d->n > n) {
        diag_entry *e = &d->items[--d->n];
        if (e->level == DIAG_ERROR && d->nerrors) d->nerrors--;
        if (e->level == DIAG_WARNING && d->nwarnings) d->nwarnings--;
        free(e->msg);
    }
}

/* Redeclared with the format attribute (clang's -Wformat-nonliteral). */
void diag_vadd(diag_list *d, diag_level level, const char *path, const char *src, q_span span, const char *fmt,
               va_list ap) __attribute__((format(printf, 6, 0)));

void diag_vadd(diag_list *d, diag_level level, const char *path, const char *src, q_span span, const char *fmt,
               va_list ap)
{
    size_t max = d->max_errors ? d->max_errors : 100;
    if (level == DIAG_ERROR) {
        /* Always counted, so "did anything fail" stays true past the cap. */
        if (d->nerrors++ >= max) return;
    } else if (level == DIAG_WARNING) {
        d->nwarnings++;
    }
    va_list ap2;
    va_copy(ap2, ap);
    int len = vsnprintf(NULL, 0, fmt, ap);
    char *msg = diag_xrealloc(NULL, len > 0 ? (size_t)len + 1 : 1);
    if (len > 0)
        vsnprintf(msg, (size_t)len + 1, fmt, ap2);
    else
        msg[0] = '\0';
    va_end(ap2);
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 16;
        d->items = diag_xrealloc(d->items, d->cap * sizeof *d->items);
    }
    diag_entry *e = &d->items[d->n++];
    e->level = level;
    e->path = path;
    e->src = src;
    e->span = span;
    e->msg = msg;
}

void diag_add(diag_list *d, diag_level level, const char *path, const char *src, q_span span, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_vadd(d, level, path, src, span, fmt, ap);
    va_end(ap);
}

/* A UTF-8 continuation byte does not start a character. */
static bool is_cont(unsigned char c) { return (c & 0xC0) == 0x80; }

void diag_linecol(const char *src, uint32_t off, uint32_t *line, uint32_t *col)
{
    uint32_t l = 1, c = 1;
    if (src) {
        /* The caller guarantees off is inside src (which may hold a NUL). */
        for (uint32_t i = 0; i < off; i++) {
            unsigned char ch = (unsigned char)src[i];
            if (ch == '\n') {
                l++;
                c = 1;
            } else if (!is_cont(ch)) {
                c++;
            }
        }
    }
    *line = l;
    *col = c;
}

static const char *level_name(diag_level l)
{
    switch (l) {
    case DIAG_ERROR: return "error";
    case DIAG_WARNING: return "warning";
    case DIAG_NOTE: return "note";
    }
    return "error";
}

static const char *level_color(diag_level l)
{
    switch (l) {
    case DIAG_ERROR: return "\033[1;31m";
    case DIAG_WARNING: return "\033[1;35m";
    case DIAG_NOTE: return "\033[1;36m";
    }
    return "";
}

/* Print one diagnostic: header, source line, underline. */
static void print_one(const diag_entry *e, FILE *out, bool color)
{
    const char *bold = color ? "\033[1m" : "", *reset = color ? "\033[0m" : "";
    const char *path = e->path ? e->path : "<input>";
    /* No source text (a file that cannot be found or read, a .qbc that
     * does not load): the path and the message, no position or caret. */
    if (!e->src || !e->src[0]) {
        fprintf(out, "%s%s:%s %s%s:%s %s\n", bold, path, reset, color ? level_color(e->level) : "",
                level_name(e->level), reset, e->msg);
        return;
    }
    /* Spans are trusted to lie inside src; the text may hold an embedded
     * NUL (that is itself an error), so no strlen past the span. */
    uint32_t start = e->span.start, end = e->span.end;
    if (end < start) end = start;
    uint32_t line, col;
    diag_linecol(e->src, start, &line, &col);
    fprintf(out, "%s%s:%u:%u:%s %s%s:%s %s%s%s\n", bold, path, line, col, reset,
            color ? level_color(e->level) : "", level_name(e->level), reset, bold, e->msg, reset);

    /* The source line holding the span's start. */
    uint32_t ls = start;
    while (ls > 0 && e->src[ls - 1] != '\n') ls--;
    uint32_t le = start;
    while (e->src[le] != '\n' && (e->src[le] != '\0' || le < end)) le++;
    uint32_t lshow = le;
    if (lshow > ls && e->src[lshow - 1] == '\r') lshow--;
    fprintf(out, "%5u | ", line);
    for (uint32_t i = ls; i < lshow; i++) fputc(e->src[i] ? e->src[i] : ' ', out);
    fputc('\n', out);

    /* Underline: keep tabs so the caret lines up, one column per character. */
    fputs("      | ", out);
    for (uint32_t i = ls; i < start; i++) {
        unsigned char ch = (unsigned char)e->src[i];
        if (ch == '\t')
            fputc('\t', out);
        else if (!is_cont(ch))
            fputc(' ', out);
    }
    uint32_t uend = end < lshow ? end : lshow;
    size_t nchars = 0;
    for (uint32_t i = start; i < uend; i++)
        if (!is_cont((unsigned char)e->src[i])) nchars++;
    fputs(color ? level_color(e->level) : "", out);
    fputc('^', out);
    for (size_t i = 1; i < nchars; i++) fputc('~', out);
    fputs(reset, out);
    fputc('\n', out);
}

void diag_print(const diag_list *d, FILE *out, bool color)
{
    for (size_t i = 0; i < d->n; i++) print_one(&d->items[i], out, color);
}

/* =====================================================================
 * "Did you mean": optimal string alignment distance (Levenshtein plus
 * adjacent transpositions, so "compelted" is one step from "completed").
 * =================================================================== */

static size_t osa_distance(const char *a, size_t la, const char *b, size_t lb)
{
    /* Three rows: i-2, i-1, i. */
    size_t *rows = diag_xrealloc(NULL, 3 * (lb + 1) * sizeof *rows);
    size_t *r2 = rows, *r1 = rows + (lb + 1), *r0 = rows + 2 * (lb + 1);
    for (size_t j = 0; j <= lb; j++) r1[j] = j;
    for (size_t i = 1; i <= la; i++) {
        r0[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t v = r1[j] + 1;
            if (r0[j - 1] + 1 < v) v = r0[j - 1] + 1;
            if (r1[j - 1] + cost < v) v = r1[j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && r2[j - 2] + 1 < v)
                v = r2[j - 2] + 1;
            r0[j] = v;
        }
        size_t *t = r2;
        r2 = r1;
        r1 = r0;
        r0 = t;
    }
    size_t dist = r1[lb];
    free(rows);
    return dist;
}

const char *diag_suggest(const char *name, const char *const *candidates, size_t n)
{
    if (!name) return NULL;
    size_t len = strlen(name);
    size_t limit = len / 3 > 1 ? len / 3 : 1;
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        const char *c = candidates[i];
        if (!c) continue;
        size_t lc = strlen(c);
        size_t diff = lc > len ? lc - len : len - lc;
        if (diff > limit) continue;
        size_t dist = osa_distance(name, len, c, lc);
        if (dist <= limit && dist < best_d) {
            best = c;
            best_d = dist;
        }
    }
    return best;
}
