/*
 * registry.c — quy_registry_* (quy.h, "The registry"): the ruleset
 * registry (compiler/registry.h) behind an opaque handle — its localities
 * and rulesets read by attribute, the resolution of a locality and a date
 * (the one implementation: quy_loader_resolve calls it), and the checks of
 * `quy list` against the search path.
 */
#define _GNU_SOURCE 1 /* vasprintf */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../compiler/registry.h"
#include "internal.h"

/* The text of each entry's dates, made once at load (the accessors return
 * strings that live as long as the handle). */
typedef struct qi_entry_text {
    char effective[16], until[16], end[16];
    char validity[128];
} qi_entry_text;

struct quy_registry {
    registry *r;
    qi_entry_text *et; /* one per ruleset */
    char **warn;       /* quy_registry_check */
    size_t nwarn;
};

/* "YYYY-MM-DD", or "" for an open end (the accessors answer NULL). */
static void date_text(int64_t d, char buf[16])
{
    if (d == REG_OPEN_END) buf[0] = 0;
    else q_format_date(d, buf);
}

static void free_warnings(quy_registry *q)
{
    for (size_t i = 0; i < q->nwarn; i++) free(q->warn[i]);
    free(q->warn);
    q->warn = NULL;
    q->nwarn = 0;
}

void quy_registry_free(quy_registry *q)
{
    if (!q) return;
    free_warnings(q);
    free(q->et);
    reg_free(q->r);
    free(q);
}

quy_status quy_registry_load(const char *path, quy_registry **out)
{
    if (out) *out = NULL;
    if (!path || !out) return qi_fail(QUY_EINVAL, "quy_registry_load: NULL argument");
    char *err = NULL;
    registry *r = reg_load(path, &err);
    if (!r) {
        quy_status st = qi_fail(QUY_ERROR, "%s", err ? err : path);
        free(err);
        return st;
    }
    quy_registry *q = calloc(1, sizeof *q);
    if (q) q->et = calloc(r->nrs ? r->nrs : 1, sizeof *q->et);
    if (!q || !q->et) {
        free(q);
        reg_free(r);
        return qi_fail(QUY_ENOMEM, "out of memory");
    }
    q->r = r;
    for (size_t i = 0; i < r->nrs; i++) {
        const reg_entry *e = &r->rs[i];
        date_text(e->effective, q->et[i].effective);
        date_text(e->until, q->et[i].until);
        date_text(e->end, q->et[i].end);
        reg_validity(r, e, q->et[i].validity, sizeof q->et[i].validity);
    }
    *out = q;
    return QUY_OK;
}

const char *quy_registry_path(const quy_registry *q)
{
    if (!q) return qi_fail(QUY_EINVAL, "quy_registry_path: NULL handle"), NULL;
    return q->r->path;
}

size_t quy_registry_locality_count(const quy_registry *q) { return q ? q->r->nloc : 0; }
size_t quy_registry_ruleset_count(const quy_registry *q) { return q ? q->r->nrs : 0; }

static const char *unknown(const char *fn, const char *attr, const char *known)
{
    qi_fail(QUY_EINVAL, "%s: no attribute '%.60s' (%s)", fn, attr, known);
    return NULL;
}

const char *quy_registry_locality(const quy_registry *q, size_t i, const char *attr)
{
    if (!q || !attr) return qi_fail(QUY_EINVAL, "quy_registry_locality: NULL argument"), NULL;
    if (i >= q->r->nloc)
        return qi_fail(QUY_EINVAL, "quy_registry_locality: no locality %zu (there are %zu)", i, q->r->nloc), NULL;
    const reg_locality *L = &q->r->loc[i];
    if (!strcmp(attr, "id")) return L->id;
    if (!strcmp(attr, "name")) return L->name;
    if (!strcmp(attr, "full_name")) return L->full_name;
    if (!strcmp(attr, "code")) return L->code;
    if (!strcmp(attr, "note")) return L->note;
    if (!strcmp(attr, "level")) return reg_level_code[L->level];
    if (!strcmp(attr, "level_label")) return reg_level_label[L->level];
    if (!strcmp(attr, "parent")) return L->parent >= 0 ? q->r->loc[L->parent].id : NULL;
    return unknown("quy_registry_locality", attr, "id name full_name code note level level_label parent");
}

static const char *nonempty(const char *s) { return *s ? s : NULL; }

const char *quy_registry_ruleset(const quy_registry *q, size_t i, const char *attr)
{
    if (!q || !attr) return qi_fail(QUY_EINVAL, "quy_registry_ruleset: NULL argument"), NULL;
    if (i >= q->r->nrs)
        return qi_fail(QUY_EINVAL, "quy_registry_ruleset: no ruleset %zu (there are %zu)", i, q->r->nrs), NULL;
    const reg_entry *e = &q->r->rs[i];
    const qi_entry_text *t = &q->et[i];
    if (!strcmp(attr, "ruleset")) return e->ruleset;
    if (!strcmp(attr, "locality")) return q->r->loc[e->locality].id;
    if (!strcmp(attr, "document")) return e->document;
    if (!strcmp(attr, "source")) return e->source;
    if (!strcmp(attr, "note")) return e->note;
    if (!strcmp(attr, "provisional")) return e->provisional;
    if (!strcmp(attr, "effective")) return t->effective;
    if (!strcmp(attr, "until")) return nonempty(t->until);
    if (!strcmp(attr, "in_force_until")) return nonempty(t->end);
    if (!strcmp(attr, "validity")) return t->validity;
    if (!strcmp(attr, "superseded_by")) return e->superseded_by >= 0 ? q->r->rs[e->superseded_by].ruleset : NULL;
    return unknown("quy_registry_ruleset", attr,
                   "ruleset locality document source note provisional effective until in_force_until validity "
                   "superseded_by");
}

/* ---------------------------------------------------------------------
 * Resolution
 * ------------------------------------------------------------------- */

/* A date YYYY-MM-DD, or a rating period — the period decides which
 * regulation rates it: "2025" is the annual round, rated at the year's
 * end (2025-12-31); "2026-Q2" the quarter's last day. */
bool qi_period_day(const char *at, int64_t *days)
{
    char end[16];
    size_t n = strlen(at);
    bool year = n == 4 || (n == 7 && at[4] == '-' && (at[5] == 'Q' || at[5] == 'q') && at[6] >= '1' && at[6] <= '4');
    for (size_t i = 0; year && i < 4; i++) year = at[i] >= '0' && at[i] <= '9';
    if (year) {
        static const char *const qend[4] = {"03-31", "06-30", "09-30", "12-31"};
        snprintf(end, sizeof end, "%.4s-%s", at, n == 4 ? "12-31" : qend[at[6] - '1']);
        at = end;
        n = 10;
    }
    return n == 10 && q_parse_date(at, 10, days);
}

quy_status quy_period_day(const char *period, char **day)
{
    if (day) *day = NULL;
    if (!period || !day) return qi_fail(QUY_EINVAL, "quy_period_day: NULL argument");
    int64_t d;
    if (!qi_period_day(period, &d))
        return qi_fail(QUY_EINVAL, "not a date YYYY-MM-DD or a rating period (2025, 2026-Q2): '%.60s'", period);
    char buf[16];
    q_format_date(d, buf);
    *day = strdup(buf);
    return *day ? QUY_OK : qi_fail(QUY_ENOMEM, "out of memory");
}

quy_status quy_registry_resolve(const quy_registry *q, const char *locality, const char *date, size_t *ruleset,
                                size_t *asked, size_t *from, char **why)
{
    if (why) *why = NULL;
    if (!q || !locality || !date || !ruleset) return qi_fail(QUY_EINVAL, "quy_registry_resolve: NULL argument");
    int64_t days;
    if (!qi_period_day(date, &days))
        return qi_fail(QUY_EINVAL, "not a date YYYY-MM-DD or a rating period (2025, 2026-Q2): '%s'", date);
    reg_choice c;
    char *msg = NULL;
    if (reg_resolve(q->r, locality, days, &c, &msg) != 0) {
        quy_status st = qi_fail(QUY_ENOTFOUND, "%s", msg ? msg : "cannot resolve the locality");
        free(msg);
        return st;
    }
    *ruleset = (size_t)(c.entry - q->r->rs);
    if (asked) *asked = (size_t)(c.asked - q->r->loc);
    if (from) *from = (size_t)(c.from - q->r->loc);
    if (why) *why = msg;
    else free(msg);
    return QUY_OK;
}

/* ---------------------------------------------------------------------
 * Checks against the search path (`quy list`)
 * ------------------------------------------------------------------- */

/* The PARENT of `ruleset NAME extends PARENT` in the header of the .quy at
 * `path` (malloc'd), NULL when it extends nothing (or the file cannot be
 * read). The header is the first line that is neither blank nor a comment. */
static char *header_parent(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    char *line = NULL, *parent = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) != -1) { /* the whole line, however long */
        const char *t = line + strspn(line, " \t\r\n");
        if (!*t || !strncmp(t, "--", 2)) continue;
        char *w[4] = {0};
        if (sscanf(t, "%ms %ms %ms %ms", &w[0], &w[1], &w[2], &w[3]) == 4 && !strcmp(w[0], "ruleset") &&
            !strcmp(w[2], "extends")) {
            parent = w[3];
            w[3] = NULL;
        }
        for (int i = 0; i < 4; i++) free(w[i]);
        break;
    }
    free(line);
    fclose(f);
    return parent;
}

static bool add_warning(quy_registry *q, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool add_warning(quy_registry *q, const char *fmt, ...)
{
    char **v = realloc(q->warn, (q->nwarn + 1) * sizeof *v);
    if (!v) return false;
    q->warn = v;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&q->warn[q->nwarn], fmt, ap);
    va_end(ap);
    if (n < 0) return false;
    q->nwarn++;
    return true;
}

/* A local ruleset extends the ruleset in force on its dates: warn when the
 * registered parent is not in force on the variant's effective date, or
 * ends while the variant stays in force (it should lapse with it:
 * 'superseded_by' or 'until'). */
static bool check_parent_dates(quy_registry *q, size_t i, const char *src)
{
    const registry *r = q->r;
    const reg_entry *e = &r->rs[i];
    char *parent = header_parent(src);
    if (!parent) return true;
    bool ok = true;
    for (size_t k = 0; ok && k < r->nrs; k++) {
        const reg_entry *P = &r->rs[k];
        if (strcmp(P->ruleset, parent)) continue;
        const char *ve = q->et[i].validity, *vp = q->et[k].validity;
        if (e->effective < P->effective || e->effective > P->end)
            ok = add_warning(q, "ruleset '%s' (in force %s) extends '%s', which is not in force on its first day (%s)",
                             e->ruleset, ve, parent, vp);
        else if (e->end > P->end)
            ok = add_warning(q,
                             "ruleset '%s' (in force %s) extends '%s' but stays in force after it ends (%s): "
                             "give '%s' 'superseded_by' (or 'until') so that it lapses with its parent",
                             e->ruleset, ve, parent, vp, e->ruleset);
    }
    free(parent);
    return ok;
}

quy_status quy_registry_check(quy_registry *q, quy_loader *ld, size_t *nwarnings)
{
    if (nwarnings) *nwarnings = 0;
    if (!q || !ld || !nwarnings) return qi_fail(QUY_EINVAL, "quy_registry_check: NULL argument");
    size_t ndirs;
    quy_status st = quy_loader_dirs(ld, &ndirs);
    if (st != QUY_OK) return st;
    free_warnings(q);
    const registry *r = q->r;
    for (size_t i = 0; i < r->nrs; i++) {
        char *src = NULL;
        bool ok;
        if (quy_loader_find(ld, r->rs[i].ruleset, &src) != QUY_OK)
            ok = add_warning(q, "ruleset '%s' (%s) is not in the ruleset search path", r->rs[i].ruleset,
                             r->loc[r->rs[i].locality].id);
        else
            ok = check_parent_dates(q, i, src);
        quy_free(src);
        if (!ok) return qi_fail(QUY_ENOMEM, "out of memory");
    }
    *nwarnings = q->nwarn;
    return QUY_OK;
}

const char *quy_registry_warning(const quy_registry *q, size_t i)
{
    if (!q) return qi_fail(QUY_EINVAL, "quy_registry_warning: NULL handle"), NULL;
    if (i >= q->nwarn)
        return qi_fail(QUY_EINVAL, "quy_registry_warning: no warning %zu (there are %zu)", i, q->nwarn), NULL;
    return q->warn[i];
}
