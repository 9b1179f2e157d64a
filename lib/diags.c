/*
 * diags.c — the diagnostics of a compile as an iterable list (quy.h).
 * A quy_diags copies what it needs out of the compiler's diag_list: the
 * file names, the messages and the sources the spans point into (so that
 * quy_diags_print can show the source line and caret after the compiler
 * is gone).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef struct qi_diag {
    int severity;
    unsigned line, col;
    size_t start, end;
    char *suggestion; /* NULL if none */
} qi_diag;

struct quy_diags {
    diag_list d;    /* a copy: paths, sources and messages owned below */
    qi_diag *items;
    char **owned;   /* strings the copy's entries point into */
    size_t nowned;
};

/* "... did you mean 'x'?" or "... did you mean 90%?" → "x" / "90%". */
static char *suggestion_of(const char *msg)
{
    const char *m = strstr(msg, "did you mean ");
    if (!m) return NULL;
    m += strlen("did you mean ");
    const char *end;
    if (*m == '\'') {
        m++;
        end = strchr(m, '\'');
    } else
        end = strchr(m, '?');
    if (!end || end == m) return NULL;
    return strndup(m, (size_t)(end - m));
}

/* The copy of `s` kept by q (same copy for the same pointer). */
static const char *keep(quy_diags *q, const char *s, const char **from, char **to, size_t *n)
{
    for (size_t i = 0; i < *n; i++)
        if (from[i] == s) return to[i];
    char *c = strdup(s ? s : "");
    if (!c) return NULL;
    from[*n] = s;
    to[*n] = c;
    q->owned[q->nowned++] = c;
    (*n)++;
    return c;
}

quy_diags *qi_diags_from(const diag_list *d)
{
    quy_diags *q = calloc(1, sizeof *q);
    if (!q) return NULL;
    diag_init(&q->d);
    q->d.max_errors = SIZE_MAX; /* the list was capped already: copy it all */
    size_t n = d->n;
    q->items = calloc(n ? n : 1, sizeof *q->items);
    q->owned = calloc(2 * n + 1, sizeof *q->owned);
    const char **from = calloc(2 * n + 1, sizeof *from);
    char **to = calloc(2 * n + 1, sizeof *to);
    size_t nk = 0;
    bool ok = q->items && q->owned && from && to;
    for (size_t i = 0; ok && i < n; i++) {
        const diag_entry *e = &d->items[i];
        const char *path = keep(q, e->path, from, to, &nk), *src = keep(q, e->src, from, to, &nk);
        ok = path && src;
        if (!ok) break;
        diag_add(&q->d, e->level, path, src, e->span, "%s", e->msg);
        qi_diag *it = &q->items[i];
        it->severity = e->level == DIAG_ERROR ? QUY_SEV_ERROR : e->level == DIAG_WARNING ? QUY_SEV_WARNING : QUY_SEV_NOTE;
        srcpos_linecol(src, e->span.start, &it->line, &it->col);
        it->start = e->span.start;
        it->end = e->span.end;
        it->suggestion = suggestion_of(e->msg);
    }
    free(from);
    free(to);
    q->d.nerrors = d->nerrors; /* counted past the cap */
    q->d.nwarnings = d->nwarnings;
    if (!ok || q->d.n != n) {
        quy_diags_free(q);
        return NULL;
    }
    return q;
}

void quy_diags_free(quy_diags *q)
{
    if (!q) return;
    for (size_t i = 0; i < q->d.n && q->items; i++) free(q->items[i].suggestion);
    diag_free(&q->d);
    for (size_t i = 0; i < q->nowned; i++) free(q->owned[i]);
    free(q->owned);
    free(q->items);
    free(q);
}

static const qi_diag *item(const quy_diags *q, size_t i, const char *fn)
{
    if (!q || i >= q->d.n) {
        qi_fail(QUY_EINVAL, "%s: no diagnostic %zu", fn, i);
        return NULL;
    }
    return &q->items[i];
}

size_t quy_diags_count(const quy_diags *q) { return q ? q->d.n : 0; }
size_t quy_diags_errors(const quy_diags *q) { return q ? q->d.nerrors : 0; }

int quy_diag_severity(const quy_diags *q, size_t i)
{
    const qi_diag *it = item(q, i, "quy_diag_severity");
    return it ? it->severity : -1;
}

const char *quy_diag_file(const quy_diags *q, size_t i)
{
    return item(q, i, "quy_diag_file") ? q->d.items[i].path : NULL;
}

unsigned quy_diag_line(const quy_diags *q, size_t i)
{
    const qi_diag *it = item(q, i, "quy_diag_line");
    return it ? it->line : 0;
}

unsigned quy_diag_column(const quy_diags *q, size_t i)
{
    const qi_diag *it = item(q, i, "quy_diag_column");
    return it ? it->col : 0;
}

size_t quy_diag_start(const quy_diags *q, size_t i)
{
    const qi_diag *it = item(q, i, "quy_diag_start");
    return it ? it->start : 0;
}

size_t quy_diag_end(const quy_diags *q, size_t i)
{
    const qi_diag *it = item(q, i, "quy_diag_end");
    return it ? it->end : 0;
}

const char *quy_diag_message(const quy_diags *q, size_t i)
{
    return item(q, i, "quy_diag_message") ? q->d.items[i].msg : NULL;
}

const char *quy_diag_suggestion(const quy_diags *q, size_t i)
{
    const qi_diag *it = item(q, i, "quy_diag_suggestion");
    return it ? it->suggestion : NULL;
}

quy_status quy_diags_print(const quy_diags *q, FILE *out, int color)
{
    if (!q || !out) return qi_fail(QUY_EINVAL, "quy_diags_print: NULL argument");
    diag_print(&q->d, out, color != 0);
    return ferror(out) ? qi_fail(QUY_IO, "cannot write the diagnostics") : QUY_OK;
}
