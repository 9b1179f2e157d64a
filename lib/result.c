/*
 * result.c — results (accessors over a batch's view of one record), their
 * explanations as text and JSON, and the writers (include/quy.h).
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "../runtime/explain.h"
#include "../runtime/output.h"
#include "internal.h"
#include "../runtime/batch_render.h"

bool qi_view(const quy_result *r, batch_view *v)
{
    if (!r || !r->b) {
        qi_fail(QUY_EINVAL, "NULL result");
        return false;
    }
    batch_get(r->b->bt, r->i, v);
    return true;
}

static const q_program *prog_of(const quy_result *r) { return r->b->s->rs->p; }

int quy_result_status(const quy_result *r)
{
    batch_view v;
    if (!qi_view(r, &v)) return QUY_EINVAL;
    return v.status == BATCH_RATED ? QUY_OK : QUY_REJECTED;
}

size_t quy_result_index(const quy_result *r) { return r ? r->i : 0; }

const char *quy_result_id(const quy_result *r)
{
    batch_view v;
    return qi_view(r, &v) ? v.id : NULL;
}

const char *quy_result_file(const quy_result *r)
{
    batch_view v;
    return qi_view(r, &v) ? v.file : NULL;
}

unsigned quy_result_line(const quy_result *r)
{
    batch_view v;
    return qi_view(r, &v) ? v.line : 0;
}

/* The view of a rated result, or NULL (rejected: the string accessors
 * answer NULL without an error message, as documented). */
static const batch_view *rated(const quy_result *r, batch_view *v)
{
    if (!qi_view(r, v)) return NULL;
    return v->status == BATCH_RATED ? v : NULL;
}

const char *quy_result_kind(const quy_result *r)
{
    batch_view v;
    if (!qi_view(r, &v)) return NULL;
    if (v.status == BATCH_RATED) return prog_str(prog_of(r), prog_of(r)->kinds[v.kind].name);
    return NULL;
}

const char *quy_result_tier(const quy_result *r)
{
    batch_view v;
    return rated(r, &v) ? q_outcome_code[v.res.outcome] : NULL;
}

const char *quy_result_tier_label(const quy_result *r)
{
    batch_view v;
    return rated(r, &v) ? q_outcome_label[v.res.outcome] : NULL;
}

const char *quy_result_eligible_tier(const quy_result *r)
{
    batch_view v;
    return rated(r, &v) ? q_outcome_code[v.eligible] : NULL;
}

const char *quy_result_eligible_label(const quy_result *r)
{
    batch_view v;
    return rated(r, &v) ? q_outcome_label[v.eligible] : NULL;
}

static const q_rule *rule_of(const quy_result *r)
{
    batch_view v;
    if (!rated(r, &v) || v.res.rule >= prog_of(r)->nrules) return NULL;
    return &prog_of(r)->rules[v.res.rule];
}

const char *quy_result_rule(const quy_result *r)
{
    const q_rule *q = rule_of(r);
    return q ? prog_str(prog_of(r), q->name) : NULL;
}

const char *quy_result_cite(const quy_result *r)
{
    const q_rule *q = rule_of(r);
    return q ? prog_str(prog_of(r), q->cite) : NULL;
}

const char *quy_result_layer(const quy_result *r)
{
    const q_rule *q = rule_of(r);
    return q ? prog_str(prog_of(r), q->layer) : NULL;
}

unsigned quy_result_steps(const quy_result *r)
{
    batch_view v;
    if (!qi_view(r, &v)) return 0;
    unsigned steps = v.steps; /* BS_* are QUY_STEP_* bit for bit (checked below) */
    if (r->b->flags & QUY_BATCH_SINGLE) steps |= QUY_STEP_NO_BATCH;
    return steps;
}

_Static_assert((int)BS_ROLLUP == (int)QUY_STEP_ROLLUP && (int)BS_CAPPED == (int)QUY_STEP_CAPPED &&
                   (int)BS_QUOTA_KEPT == (int)QUY_STEP_QUOTA_KEPT && (int)BS_QUOTA_DEMOTED == (int)QUY_STEP_QUOTA_DEMOTED &&
                   (int)BS_SMALL_GROUP == (int)QUY_STEP_SMALL_GROUP && (int)BS_TIE == (int)QUY_STEP_TIE,
               "runtime/batch.h BS_* and quy.h QUY_STEP_* differ");

/* The batch steps' flags of result r, computed once per result asked. */
static bool xflags(const quy_result *r)
{
    quy_batch *b = r->b;
    if (b->flags_of == r->i) return true;
    for (size_t k = 0; k < b->nx; k++) free(b->xmsg[k]);
    b->nx = 0;
    b->flags_of = SIZE_MAX;
    for (size_t max = 8;; max *= 2) {
        const char **code = realloc(b->xcode, max * sizeof *code), **cite;
        if (code) b->xcode = code;
        cite = code ? realloc(b->xcite, max * sizeof *cite) : NULL;
        if (cite) b->xcite = cite;
        char **msg = cite ? realloc(b->xmsg, max * sizeof *msg) : NULL;
        if (!msg) return qi_fail(QUY_ENOMEM, "out of memory"), false;
        b->xmsg = msg;
        size_t n = batch_flags(b->bt, r->i, b->xcode, b->xmsg, b->xcite, max);
        if (n < max) {
            b->nx = n;
            break;
        }
        for (size_t k = 0; k < n; k++) free(b->xmsg[k]); /* maybe cut: again, larger */
    }
    b->flags_of = r->i;
    return true;
}

size_t quy_result_flag_count(const quy_result *r)
{
    batch_view v;
    if (!rated(r, &v) || !xflags(r)) return 0;
    return v.res.nflags + r->b->nx;
}

/* Flag i: a rule flag (*fd set) or a batch step's (*x set to its index). */
static bool flag_at(const quy_result *r, size_t i, const q_flagdef **fd, size_t *x, batch_view *v, const char *fn)
{
    *fd = NULL;
    if (!rated(r, v) || !xflags(r) || i >= v->res.nflags + r->b->nx) {
        qi_fail(QUY_EINVAL, "%s: no flag %zu", fn, i);
        return false;
    }
    if (i < v->res.nflags)
        *fd = &prog_of(r)->flags[v->res.flags[i]];
    else
        *x = i - v->res.nflags;
    return true;
}

const char *quy_result_flag(const quy_result *r, size_t i)
{
    const q_flagdef *fd;
    size_t x = 0;
    batch_view v;
    if (!flag_at(r, i, &fd, &x, &v, "quy_result_flag")) return NULL;
    return fd ? prog_str(prog_of(r), fd->name) : r->b->xcode[x];
}

const char *quy_result_flag_message(const quy_result *r, size_t i)
{
    const q_flagdef *fd;
    size_t x = 0;
    batch_view v;
    if (!flag_at(r, i, &fd, &x, &v, "quy_result_flag_message")) return NULL;
    return fd ? prog_str(prog_of(r), fd->message) : r->b->xmsg[x];
}

const char *quy_result_flag_cite(const quy_result *r, size_t i)
{
    const q_flagdef *fd;
    size_t x = 0;
    batch_view v;
    if (!flag_at(r, i, &fd, &x, &v, "quy_result_flag_cite")) return NULL;
    const char *c = fd ? prog_str(prog_of(r), fd->cite) : r->b->xcite[x];
    return c ? c : "";
}

const char *quy_result_flag_detail(const quy_result *r, size_t i)
{
    const q_flagdef *fd;
    size_t x = 0;
    batch_view v;
    if (!flag_at(r, i, &fd, &x, &v, "quy_result_flag_detail") || !fd) return NULL;
    /* a batch step's reasons are in its message; the note belongs to the result held in the batch */
    const batch_view *held = &v;
    return vm_note_of(&held->res, held->res.flags[i]);
}

const char *quy_result_error_code(const quy_result *r)
{
    batch_view v;
    if (!qi_view(r, &v)) return NULL;
    return v.status == BATCH_REJECTED ? v.error->code : NULL;
}

const char *quy_result_error_field(const quy_result *r)
{
    batch_view v;
    if (!qi_view(r, &v)) return NULL;
    return v.status == BATCH_REJECTED ? v.error->field : NULL;
}

const char *quy_result_error_message(const quy_result *r)
{
    batch_view v;
    if (!qi_view(r, &v)) return NULL;
    return v.status == BATCH_REJECTED ? v.error->message : NULL;
}

quy_status quy_result_error_source(const quy_result *r, char **text)
{
    if (!r || !text) return qi_fail(QUY_EINVAL, "quy_result_error_source: NULL argument");
    *text = NULL;
    batch_view v;
    if (!qi_view(r, &v)) return QUY_EINVAL;
    if (v.status != BATCH_REJECTED || !v.error->src_pos)
        return qi_fail(QUY_ENOTFOUND, "quy_result_error_source: record %zu did not fail in a rule", r->i);
    strbuf b = {0};
    size_t n = strnlen(v.error->message, sizeof v.error->message);
    if (!prog_render_at(prog_of(r), v.error->src_pos - 1, v.error->message, v.error->src_msg < n ? v.error->src_msg : n,
                        &b))
        return qi_fail(QUY_ENOTFOUND, "quy_result_error_source: record %zu: its rule's position is unknown", r->i);
    *text = strbuf_take(&b);
    return *text ? QUY_OK : qi_fail(QUY_ENOMEM, "out of memory");
}

/* =====================================================================
 * Explanations
 * =================================================================== */

/* Re-run the rate block of result r with a trace into the session's
 * buffer, with the session's hooks. */
static quy_status traced(const quy_result *r, batch_view *v, vm_result *res, vm_trace *tr, const char *fn)
{
    if (!qi_view(r, v)) return QUY_EINVAL;
    if (v->status != BATCH_RATED)
        return qi_fail(QUY_EINVAL, "%s: record %zu was rejected ([%s] %s): there is no explanation", fn, r->i,
                       v->error->code, v->error->message);
    if (!v->rec)
        return qi_fail(QUY_ESTATE, "%s: the batch was made without QUY_BATCH_EXPLAIN: its records were not kept", fn);
    quy_session *s = r->b->s;
    *tr = (vm_trace){.ev = s->ev, .cap = QUY_TRACE_CAP};
    *res = v->res;
    vm_rate(s->rs->p, s->hooks, v->rec, res, tr);
    return QUY_OK;
}

quy_status quy_result_explain_text(const quy_result *r, int indent, char **text)
{
    if (!r || !text) return qi_fail(QUY_EINVAL, "quy_result_explain_text: NULL argument");
    *text = NULL;
    if (indent < 0 || indent > 64) return qi_fail(QUY_EINVAL, "quy_result_explain_text: indent %d (0 to 64)", indent);
    batch_view v;
    vm_result res;
    vm_trace tr;
    quy_status st = traced(r, &v, &res, &tr, "quy_result_explain_text");
    if (st != QUY_OK) return st;
    char *t1 = explain_text_str(prog_of(r), v.rec, &res, &tr, indent), *t2 = batch_explain_text(r->b->bt, r->i, indent);
    size_t n1 = t1 ? strlen(t1) : 0, n2 = t2 ? strlen(t2) : 0;
    char *t = malloc(n1 + n2 + 1);
    if (t) {
        memcpy(t, t1 ? t1 : "", n1);
        memcpy(t + n1, t2 ? t2 : "", n2);
        t[n1 + n2] = 0;
    }
    free(t1);
    free(t2);
    if (!t) return qi_fail(QUY_ENOMEM, "out of memory");
    *text = t;
    return QUY_OK;
}

/* The explanation as a jansson tree: the rate block's, with "batch_steps". */
void *qi_explain_tree(const quy_result *r, quy_status *st);
void *qi_explain_tree(const quy_result *r, quy_status *st)
{
    batch_view v;
    vm_result res;
    vm_trace tr;
    if ((*st = traced(r, &v, &res, &tr, "quy_result_explain")) != QUY_OK) return NULL;
    json_t *tj = explain_json(prog_of(r), v.rec, &res, &tr);
    json_t *steps = batch_explain_json(r->b->bt, r->i);
    if (tj && json_array_size(steps)) json_object_set(tj, "batch_steps", steps);
    json_decref(steps);
    if (!tj) *st = qi_fail(QUY_ENOMEM, "out of memory");
    return tj;
}

quy_status quy_result_explain_json(const quy_result *r, char **json)
{
    if (!r || !json) return qi_fail(QUY_EINVAL, "quy_result_explain_json: NULL argument");
    *json = NULL;
    quy_status st;
    json_t *tj = qi_explain_tree(r, &st);
    if (!tj) return st;
    *json = json_dumps(tj, JSON_COMPACT);
    json_decref(tj);
    return *json ? QUY_OK : qi_fail(QUY_ENOMEM, "out of memory");
}

/* =====================================================================
 * Writers
 * =================================================================== */

static bool parse_format(const char *format, out_format *f)
{
    if (!strcmp(format, "jsonl") || !strcmp(format, "json"))
        *f = OUT_JSONL;
    else if (!strcmp(format, "csv"))
        *f = OUT_CSV;
    else if (!strcmp(format, "table"))
        *f = OUT_TABLE;
    else
        return false;
    return true;
}

quy_status quy_writer_new(const quy_ruleset *rs, FILE *out, const char *format, quy_writer **w)
{
    if (w) *w = NULL;
    if (!rs || !out || !format || !w) return qi_fail(QUY_EINVAL, "quy_writer_new: NULL argument");
    out_format f;
    if (!parse_format(format, &f)) return qi_fail(QUY_EINVAL, "unknown format '%s' (jsonl, csv or table)", format);
    quy_writer *q = calloc(1, sizeof *q);
    if (q) q->w = out_open(out, f, rs->p);
    if (!q || !q->w) {
        free(q);
        return qi_fail(QUY_ENOMEM, "out of memory");
    }
    q->rs = rs;
    *w = q;
    return QUY_OK;
}

quy_status quy_writer_result(quy_writer *w, const quy_result *r, int explain)
{
    if (!w || !r) return qi_fail(QUY_EINVAL, "quy_writer_result: NULL argument");
    if (r->b->s->rs != w->rs) return qi_fail(QUY_EINVAL, "quy_writer_result: the result is of another ruleset");
    batch_view v;
    qi_view(r, &v);
    if (v.status == BATCH_REJECTED) {
        out_rejected(w->w, v.error);
        return QUY_OK;
    }
    if (explain && !v.rec)
        return qi_fail(QUY_ESTATE, "quy_writer_result: explain needs a batch made with QUY_BATCH_EXPLAIN");
    quy_session *s = r->b->s;
    vm_trace tr = {.ev = s->ev, .cap = QUY_TRACE_CAP};
    batch_write(r->b->bt, r->i, w->w, explain ? &tr : NULL, true);
    return QUY_OK;
}

quy_status quy_writer_close(quy_writer *w)
{
    if (!w) return qi_fail(QUY_EINVAL, "quy_writer_close: NULL writer");
    int rc = out_close(w->w);
    free(w);
    return rc == 0 ? QUY_OK : qi_fail(QUY_IO, "cannot write the output");
}

quy_status quy_rate_stream(quy_session *s, FILE *in, const char *in_name, FILE *out, const char *format, int explain,
                           size_t *rated_n, size_t *rejected_n)
{
    return quy_rate_stream_jobs(s, in, in_name, out, format, explain, 1, rated_n, rejected_n); /* lib/api.c */
}
