/*
 * diag.c — collecting and printing compile-time diagnostics.
 *
 *   rules.quy:12:7: error: unknown field 'tasks_compelted'; did you mean 'tasks_completed'?
 *      12 |   and tasks_compelted = tasks_total
 *         |       ^~~~~~~~~~~~~~~
 *
 * Spans are byte offsets; line and column (in UTF-8 characters) are computed
 * only when printing, by runtime/srcpos.c, which also draws the source line
 * and the caret (run-time errors are drawn the same way).
 */
#include "diag.h"

#include <stdlib.h>
#include <string.h>

#include "srcpos.h"
#include "strbuf.h"
#include "vec.h"

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
    char *msg = malloc(len > 0 ? (size_t)len + 1 : 1);
    if (msg && len > 0)
        vsnprintf(msg, (size_t)len + 1, fmt, ap2);
    else if (msg)
        msg[0] = '\0';
    va_end(ap2);
    if (!msg || VEC_RESERVE(d->items, d->n, d->cap, 1) != 0) {
        /* Out of memory: the diagnostic is lost, but the compilation fails
         * and diag_print says why. */
        free(msg);
        if (!d->oom && level != DIAG_ERROR) d->nerrors++;
        d->oom = true;
        return;
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

/* A message over DIAG_MSG_WIDTH characters (one quoting a 2 MB name) is
 * printed with its middle cut: its first DIAG_MSG_HEAD characters, " … ",
 * its last DIAG_MSG_TAIL (the library's diagnostics keep it whole). */
#define DIAG_MSG_WIDTH 400
#define DIAG_MSG_HEAD 240
#define DIAG_MSG_TAIL 120

static bool is_cont(unsigned char c) { return (c & 0xC0) == 0x80; }

/* The message to print: msg itself, or its shortened copy in buf (which
 * holds 4 bytes a character of DIAG_MSG_HEAD + DIAG_MSG_TAIL, and " … "). */
static const char *short_msg(const char *msg, char *buf, size_t size)
{
    size_t n = strlen(msg), chars = 0, head = 0, tail = n;
    for (size_t i = 0; i < n && chars <= DIAG_MSG_WIDTH; i++) chars += !is_cont((unsigned char)msg[i]);
    if (chars <= DIAG_MSG_WIDTH) return msg;
    for (size_t c = 0; c < DIAG_MSG_HEAD && head < n; c++)
        do head++; while (head < n && is_cont((unsigned char)msg[head]));
    for (size_t c = 0; c < DIAG_MSG_TAIL && tail > head; c++)
        do tail--; while (tail > head && is_cont((unsigned char)msg[tail]));
    snprintf(buf, size, "%.*s … %s", (int)head, msg, msg + tail);
    return buf;
}

/* Print one diagnostic: header, source line, underline (srcpos_render). */
static void print_one(const diag_entry *e, FILE *out, bool color)
{
    const char *bold = color ? "\033[1m" : "", *reset = color ? "\033[0m" : "";
    const char *path = e->path ? e->path : "<input>";
    char buf[4 * (DIAG_MSG_HEAD + DIAG_MSG_TAIL) + 8];
    const char *msg = short_msg(e->msg, buf, sizeof buf);
    /* No source text (a file that cannot be found or read, a .qbc that
     * does not load): the path and the message, no position or caret. */
    if (!e->src || !e->src[0]) {
        fprintf(out, "%s%s:%s %s%s:%s %s\n", bold, path, reset, color ? level_color(e->level) : "",
                level_name(e->level), reset, msg);
        return;
    }
    strbuf b = {0};
    srcpos_render(&b, path, e->src, e->span.start, e->span.end, level_name(e->level),
                  color ? level_color(e->level) : NULL, msg, strlen(msg));
    if (b.failed) fprintf(out, "%s: %s: %s\n", path, level_name(e->level), msg);
    else if (b.n) fwrite(b.s, 1, b.n, out);
    strbuf_free(&b);
}

void diag_print(const diag_list *d, FILE *out, bool color)
{
    for (size_t i = 0; i < d->n; i++) print_one(&d->items[i], out, color);
    if (d->oom) fputs("quy: error: out of memory: some diagnostics were lost\n", out);
}

/* =====================================================================
 * "Did you mean": optimal string alignment distance (Levenshtein plus
 * adjacent transpositions, so "compelted" is one step from "completed").
 * =================================================================== */

static size_t osa_distance(const char *a, size_t la, const char *b, size_t lb)
{
    /* Three rows: i-2, i-1, i. Out of memory: no suggestion. */
    size_t *rows = malloc(3 * (lb + 1) * sizeof *rows);
    if (!rows) return (size_t)-1;
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
