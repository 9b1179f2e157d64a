/*
 * gen_api.c — quy_gen_* (include/quy.h): the boundary generator (gen.h)
 * behind an opaque handle.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../include/quy.h"
#include "gen.h"

const q_program *quy_ruleset_program_(const quy_ruleset *rs);
quy_status qi_fail(quy_status st, const char *fmt, ...) __attribute__((format(printf, 2, 3))); /* lib/util.c */

struct quy_gen {
    gen *g;
    strbuf line; /* the last record */
    bool started;
    bool prepared; /* gen_prepare succeeded */
    char err[600];
};

quy_status quy_gen_new(const quy_ruleset *rs, quy_gen **out)
{
    if (!out) return qi_fail(QUY_EINVAL, "quy_gen_new: NULL argument");
    *out = NULL;
    if (!rs) return qi_fail(QUY_EINVAL, "quy_gen_new: NULL ruleset");
    quy_gen *q = calloc(1, sizeof *q);
    if (!q || !(q->g = gen_new(quy_ruleset_program_(rs)))) {
        free(q);
        return qi_fail(QUY_ENOMEM, "out of memory");
    }
    *out = q;
    return QUY_OK;
}

void quy_gen_free(quy_gen *q)
{
    if (!q) return;
    gen_free(q->g);
    strbuf_free(&q->line);
    free(q);
}

const char *quy_gen_errmsg(const quy_gen *q) { return q ? q->err : "quy_gen_errmsg: NULL handle"; }

/* The handle's message and the thread's (quy_errmsg). */
static quy_status fail(quy_gen *q, quy_status st, const char *what)
{
    snprintf(q->err, sizeof q->err, "%s", what);
    return qi_fail(st, "%s", what);
}

quy_status quy_gen_set(quy_gen *q, const char *option, const char *value)
{
    if (!q) return qi_fail(QUY_EINVAL, "quy_gen_set: NULL handle");
    if (!option || !value) return fail(q, QUY_EINVAL, "quy_gen_set: NULL argument");
    if (q->started) return fail(q, QUY_ESTATE, "quy_gen_set: options go before the first record");
    if (!strcmp(option, "seed")) {
        char *end;
        errno = 0;
        unsigned long long s = strtoull(value, &end, 0);
        if (errno || *end || !*value || value[0] == '-') return fail(q, QUY_EINVAL, "seed: a whole number");
        gen_set_seed(q->g, s);
        return QUY_OK;
    }
    if (!strcmp(option, "prefix"))
        return gen_set_prefix(q->g, value) == 0 ? QUY_OK : fail(q, QUY_EINVAL, gen_error(q->g));
    if (!strcmp(option, "kind")) return gen_add_kind(q->g, value) == 0 ? QUY_OK : fail(q, QUY_EINVAL, gen_error(q->g));
    return fail(q, QUY_EINVAL, "quy_gen_set: unknown option (seed, prefix, kind)");
}

static quy_status prepare(quy_gen *q)
{
    q->started = true;
    int rc = gen_prepare(q->g);
    q->prepared = rc == 0;
    return rc == 0 ? QUY_OK : fail(q, rc == -1 ? QUY_ENOMEM : QUY_ERROR, gen_error(q->g));
}

quy_status quy_gen_next(quy_gen *q, const char **json, size_t *len)
{
    if (json) *json = NULL;
    if (len) *len = 0;
    if (!q) return qi_fail(QUY_EINVAL, "quy_gen_next: NULL handle");
    if (!json || !len) return fail(q, QUY_EINVAL, "quy_gen_next: NULL argument");
    quy_status st = prepare(q);
    if (st != QUY_OK) return st;
    strbuf_reset(&q->line);
    int rc = gen_next(q->g, &q->line);
    if (rc) return fail(q, rc > 0 ? QUY_ERROR : QUY_ENOMEM, gen_error(q->g));
    *json = q->line.s;
    *len = q->line.n;
    return QUY_OK;
}

quy_status quy_gen_targets(quy_gen *q, char **text)
{
    if (text) *text = NULL;
    if (!q) return qi_fail(QUY_EINVAL, "quy_gen_targets: NULL handle");
    if (!text) return fail(q, QUY_EINVAL, "quy_gen_targets: NULL argument");
    quy_status st = prepare(q);
    if (st != QUY_OK) return st;
    size_t n = 0;
    FILE *f = open_memstream(text, &n);
    if (!f) return fail(q, QUY_ENOMEM, "out of memory");
    gen_print_targets(q->g, f);
    if (fclose(f) != 0) {
        free(*text);
        *text = NULL;
        return fail(q, QUY_ENOMEM, "out of memory");
    }
    return QUY_OK;
}

quy_status quy_gen_count(quy_gen *q, int what, uint64_t *value)
{
    if (value) *value = 0;
    if (!q || !value) return qi_fail(QUY_EINVAL, "quy_gen_count: NULL argument");
    if (what < QUY_GEN_KINDS || what > QUY_GEN_DROPPED)
        return fail(q, QUY_EINVAL, "quy_gen_count: unknown count (QUY_GEN_KINDS ... QUY_GEN_DROPPED)");
    if (!q->prepared) {
        quy_status st = prepare(q);
        if (st != QUY_OK) return st;
    }
    switch (what) {
    case QUY_GEN_KINDS: *value = gen_kind_count(q->g); return QUY_OK;
    case QUY_GEN_TARGETS: *value = gen_target_count(q->g); return QUY_OK;
    case QUY_GEN_VARIANTS: *value = gen_variant_count(q->g); return QUY_OK;
    case QUY_GEN_DROPPED: *value = gen_dropped(q->g); return QUY_OK;
    default: return QUY_EINVAL; /* checked above */
    }
}
