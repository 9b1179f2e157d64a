/*
 * diff_api.c — quy_diff_* (include/quy.h): the diff engine (diff.h) behind
 * an opaque handle, its results read through accessors.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../include/quy.h"
#include "../runtime/vec.h"
#include "diff.h"

const q_program *quy_ruleset_program_(const quy_ruleset *rs);

struct quy_diff {
    const q_program *p[2];
    char *name[2];        /* "old_name" / "new_name", or NULL */
    bool refines;
    char *expect;         /* approvals file, or NULL */
    char **inputs;        /* input names */
    FILE **files;         /* open inputs (memory inputs spooled to temporary files) */
    size_t ninputs, capinputs, capfiles;
    bool ran;
    diff_result res;
    char **listed;        /* the listed records' JSON, read from res.moved on first use */
    size_t nlisted;
    bool listed_read;
    char *summary;        /* res.summary as text, on first use */
    char num[32];         /* a count as text (quy_diff_cause) */
    char err[512];
};

static quy_status fail(quy_diff *d, quy_status st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static quy_status fail(quy_diff *d, quy_status st, const char *fmt, ...)
{
    if (!d) return st;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->err, sizeof d->err, fmt, ap);
    va_end(ap);
    return st;
}

quy_status quy_diff_new(const quy_ruleset *old_rs, const quy_ruleset *new_rs, quy_diff **out)
{
    if (!out) return QUY_EINVAL;
    *out = NULL;
    if (!old_rs || !new_rs) return QUY_EINVAL;
    quy_diff *d = calloc(1, sizeof *d);
    if (!d) return QUY_ENOMEM;
    d->p[0] = quy_ruleset_program_(old_rs);
    d->p[1] = quy_ruleset_program_(new_rs);
    *out = d;
    return QUY_OK;
}

void quy_diff_free(quy_diff *d)
{
    if (!d) return;
    diff_result_free(&d->res);
    for (size_t i = 0; i < d->ninputs; i++) {
        free(d->inputs[i]);
        if (d->files[i]) fclose(d->files[i]);
    }
    free(d->inputs);
    free(d->files);
    for (size_t i = 0; i < d->nlisted; i++) free(d->listed[i]);
    free(d->listed);
    free(d->summary);
    free(d->name[0]);
    free(d->name[1]);
    free(d->expect);
    free(d);
}

const char *quy_diff_errmsg(const quy_diff *d) { return d ? d->err : "quy_diff_errmsg: NULL handle"; }

static quy_status set_str(quy_diff *d, char **dst, const char *v)
{
    char *c = strdup(v);
    if (!c) return fail(d, QUY_ENOMEM, "out of memory");
    free(*dst);
    *dst = c;
    return QUY_OK;
}

quy_status quy_diff_set(quy_diff *d, const char *option, const char *value)
{
    if (!d || !option || !value) return fail(d, QUY_EINVAL, "quy_diff_set: NULL argument");
    if (d->ran) return fail(d, QUY_ESTATE, "quy_diff_set: options go before quy_diff_run");
    if (!strcmp(option, "refines")) {
        if (strcmp(value, "0") && strcmp(value, "1")) return fail(d, QUY_EINVAL, "refines: \"0\" or \"1\", not '%.40s'", value);
        d->refines = value[0] == '1';
        return QUY_OK;
    }
    if (!strcmp(option, "expect")) return set_str(d, &d->expect, value);
    if (!strcmp(option, "old_name")) return set_str(d, &d->name[0], value);
    if (!strcmp(option, "new_name")) return set_str(d, &d->name[1], value);
    return fail(d, QUY_EINVAL, "quy_diff_set: unknown option '%.60s' (refines, expect, old_name, new_name)", option);
}

static quy_status add_input(quy_diff *d, const char *name, FILE *f)
{
    char *n = strdup(name);
    if (!n || VEC_RESERVE(d->inputs, d->ninputs, d->capinputs, 1) != 0 ||
        VEC_RESERVE(d->files, d->ninputs, d->capfiles, 1) != 0) {
        free(n);
        fclose(f);
        return fail(d, QUY_ENOMEM, "out of memory");
    }
    d->inputs[d->ninputs] = n;
    d->files[d->ninputs++] = f;
    return QUY_OK;
}

quy_status quy_diff_add_file(quy_diff *d, const char *path)
{
    if (!d || !path) return fail(d, QUY_EINVAL, "quy_diff_add_file: NULL argument");
    if (d->ran) return fail(d, QUY_ESTATE, "quy_diff_add_file: inputs go before quy_diff_run");
    FILE *f = fopen(path, "rb");
    if (!f) return fail(d, QUY_IO, "%.300s: %s", path, strerror(errno));
    return add_input(d, path, f);
}

quy_status quy_diff_add_memory(quy_diff *d, const char *name, const char *data, size_t len)
{
    if (!d || !name || (!data && len)) return fail(d, QUY_EINVAL, "quy_diff_add_memory: NULL argument");
    if (d->ran) return fail(d, QUY_ESTATE, "quy_diff_add_memory: inputs go before quy_diff_run");
    FILE *f = tmpfile(); /* read twice, by two readers: a real file */
    if (!f) return fail(d, QUY_IO, "no temporary file: %s", strerror(errno));
    if ((len && fwrite(data, 1, len, f) != len) || fflush(f) != 0) {
        fclose(f);
        return fail(d, QUY_IO, "cannot write a temporary file: %s", strerror(errno));
    }
    rewind(f);
    return add_input(d, name, f);
}

quy_status quy_diff_run(quy_diff *d)
{
    if (!d) return QUY_EINVAL;
    if (d->ran) return fail(d, QUY_ESTATE, "quy_diff_run: already run");
    if (!d->ninputs) return fail(d, QUY_EINVAL, "quy_diff_run: no input (quy_diff_add_file / quy_diff_add_memory)");
    dx_set *approved = NULL;
    if (d->expect && !(approved = dx_read(d->expect))) return fail(d, QUY_IO, "%.300s: cannot read the approvals", d->expect);
    const char *spec[2];
    for (int s = 0; s < 2; s++) spec[s] = d->name[s] ? d->name[s] : prog_str(d->p[s], d->p[s]->name);
    diff_spec ds = {{spec[0], spec[1]}, (const char *const *)d->inputs, d->files, (int)d->ninputs, d->refines,
                    approved || d->refines, approved, d->expect};
    int rc = diff_run(d->p, &ds, &d->res);
    dx_free(approved);
    d->ran = true;
    if (rc != 0) return fail(d, QUY_IO, "the diff failed: an input could not be read, or out of memory");
    return QUY_OK;
}

static const json_t *sum(const quy_diff *d, const char *key)
{
    return d && d->ran && d->res.summary ? json_object_get(d->res.summary, key) : NULL;
}

size_t quy_diff_records(const quy_diff *d) { return (size_t)json_integer_value(sum(d, "records")); }
size_t quy_diff_moved(const quy_diff *d) { return (size_t)json_integer_value(sum(d, "moved")); }
size_t quy_diff_unapproved(const quy_diff *d)
{
    return (size_t)json_integer_value(json_object_get(sum(d, "expect"), "unapproved"));
}

static int state_pos(const char *s)
{
    int st = s ? ds_parse(s, strlen(s)) : -1;
    for (int i = 0; st >= 0 && i < DS__COUNT; i++)
        if (ds_order[i] == st) return i;
    return -1;
}

quy_status quy_diff_matrix(const quy_diff *d, int final, const char *from, const char *to, size_t *count)
{
    if (count) *count = 0;
    if (!d || !count) return QUY_EINVAL;
    if (!d->ran || !d->res.summary) return QUY_ESTATE;
    int a = state_pos(from), b = state_pos(to);
    if (a < 0 || b < 0) return QUY_EINVAL;
    const json_t *m = json_object_get(sum(d, "matrix"), final ? "final" : "eligible");
    *count = (size_t)json_integer_value(json_array_get(json_array_get(m, (size_t)a), (size_t)b));
    return QUY_OK;
}

size_t quy_diff_cause_count(const quy_diff *d) { return json_array_size(sum(d, "causes")); }

const char *quy_diff_cause(quy_diff *d, size_t i, const char *attr)
{
    const json_t *c = json_array_get(sum(d, "causes"), i);
    if (!c || !attr) return NULL;
    const json_t *v = json_object_get(c, attr);
    if (json_is_integer(v)) {
        snprintf(d->num, sizeof d->num, "%lld", (long long)json_integer_value(v));
        return d->num;
    }
    return json_is_string(v) ? json_string_value(v) : json_object_get(c, attr) ? NULL : "";
}

static void read_listed(quy_diff *d)
{
    if (d->listed_read || !d->ran || !d->res.moved) return;
    d->listed_read = true;
    rewind(d->res.moved);
    size_t cap = 0, n = 0;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    while ((len = getline(&line, &lcap, d->res.moved)) > 0) {
        if (line[len - 1] == '\n') line[len - 1] = 0;
        char *c = strdup(line);
        if (!c || VEC_RESERVE(d->listed, n, cap, 1) != 0) {
            free(c);
            break;
        }
        d->listed[n++] = c;
    }
    free(line);
    d->nlisted = n;
}

size_t quy_diff_listed_count(const quy_diff *d) { return (size_t)json_integer_value(sum(d, "listed_count")); }

const char *quy_diff_listed_json(quy_diff *d, size_t i)
{
    if (!d) return NULL;
    read_listed(d);
    return i < d->nlisted ? d->listed[i] : NULL;
}

const char *quy_diff_summary_json(quy_diff *d)
{
    if (!d || !d->ran || !d->res.summary) return NULL;
    if (!d->summary) d->summary = json_dumps(d->res.summary, JSON_COMPACT | JSON_PRESERVE_ORDER);
    return d->summary;
}

quy_status quy_diff_write_expect(quy_diff *d, const char *path)
{
    if (!d || !path) return fail(d, QUY_EINVAL, "quy_diff_write_expect: NULL argument");
    if (!d->ran || !d->res.seen) return fail(d, QUY_ESTATE, "quy_diff_write_expect: call quy_diff_run first");
    char on[300], nn[300];
    snprintf(on, sizeof on, "%s %s", prog_str(d->p[0], d->p[0]->name), prog_str(d->p[0], d->p[0]->version));
    snprintf(nn, sizeof nn, "%s %s", prog_str(d->p[1], d->p[1]->name), prog_str(d->p[1], d->p[1]->version));
    if (dx_write(d->res.seen, path, on, nn, d->refines) != 0) return fail(d, QUY_IO, "%.300s: cannot write", path);
    return QUY_OK;
}
