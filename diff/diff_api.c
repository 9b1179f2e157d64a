/*
 * diff_api.c — quy_diff_* (include/quy.h): the diff engine (diff.h) behind
 * an opaque handle, its results read through accessors.
 *
 * What the engine leaves (diff_result): the summary, a JSON object, and
 * the listed records, one JSON object a line in a temporary file. The
 * accessors read the summary in place; a listed record is read from the
 * file when asked for (an index of line offsets, 8 bytes a record), and
 * the last one read is kept parsed: its strings live until a record with
 * another index is asked for.
 */
#define _GNU_SOURCE 1 /* fseeko, getline */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../include/quy.h"
#include "../runtime/vec.h"
#include "diff.h"

const q_program *quy_ruleset_program_(const quy_ruleset *rs);
quy_status qi_fail(quy_status st, const char *fmt, ...) __attribute__((format(printf, 2, 3))); /* lib/util.c */

static const json_t *item(quy_diff *d, const json_t *a, size_t i, const char *fn);

struct quy_diff {
    const q_program *p[2];
    char *name[2];        /* "old_name" / "new_name", or NULL */
    bool refines;
    unsigned jobs;        /* "jobs": threads decoding and rating JSON Lines (0: one per core) */
    int check;            /* "check": -1 default (with expect or refines), 0, 1 */
    char *expect;         /* approvals file, or NULL */
    dx_set *approved;     /* ... as read by quy_diff_set */
    char **inputs;        /* input names */
    FILE **files;         /* open inputs (memory inputs spooled to temporary files) */
    size_t ninputs, capinputs, capfiles;
    bool ran;
    diff_result res;
    off_t *listed;        /* offset of each listed record's line in res.moved, on first use */
    size_t nlisted, caplisted;
    bool listed_read;
    size_t rec_i;         /* the listed record parsed in rec (SIZE_MAX: none) */
    json_t *rec;
    char *line;           /* its line (quy_diff_listed_json) */
    size_t linecap;
    char *summary;        /* res.summary as text, on first use */
    int summary_indent;
    char num[32];         /* a count as text (quy_diff_cause) */
    char *err;            /* the last failing call's message, whole (NULL: none, or no memory for it) */
    bool err_lost;        /* ... no memory for it */
};

#define NO_MESSAGE "out of memory (for the message of a failing call)"

/* The handle's message and the thread's (quy_errmsg), whole: it stays
 * valid until the next failing call on the handle. */
static quy_status fail(quy_diff *d, quy_status st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static quy_status fail(quy_diff *d, quy_status st, const char *fmt, ...)
{
    char *m = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&m, fmt, ap) < 0) m = NULL;
    va_end(ap);
    quy_status r = qi_fail(st, "%s", m ? m : NO_MESSAGE);
    if (d) {
        free(d->err);
        d->err = m;
        d->err_lost = !m;
    } else {
        free(m);
    }
    return r;
}

quy_status quy_diff_new(const quy_ruleset *old_rs, const quy_ruleset *new_rs, quy_diff **out)
{
    if (!out) return fail(NULL, QUY_EINVAL, "quy_diff_new: NULL argument");
    *out = NULL;
    if (!old_rs || !new_rs) return fail(NULL, QUY_EINVAL, "quy_diff_new: NULL ruleset");
    quy_diff *d = calloc(1, sizeof *d);
    if (!d) return fail(NULL, QUY_ENOMEM, "out of memory");
    d->p[0] = quy_ruleset_program_(old_rs);
    d->p[1] = quy_ruleset_program_(new_rs);
    d->check = -1;
    d->rec_i = SIZE_MAX;
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
    free(d->listed);
    json_decref(d->rec);
    free(d->line);
    dx_free(d->approved);
    free(d->summary);
    free(d->name[0]);
    free(d->name[1]);
    free(d->expect);
    free(d->err);
    free(d);
}

const char *quy_diff_errmsg(const quy_diff *d)
{
    return !d ? "quy_diff_errmsg: NULL handle" : d->err ? d->err : d->err_lost ? NO_MESSAGE : "";
}

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
        if (strcmp(value, "0") && strcmp(value, "1")) return fail(d, QUY_EINVAL, "refines: \"0\" or \"1\", not '%s'", value);
        d->refines = value[0] == '1';
        return QUY_OK;
    }
    if (!strcmp(option, "check")) {
        if (strcmp(value, "0") && strcmp(value, "1")) return fail(d, QUY_EINVAL, "check: \"0\" or \"1\", not '%s'", value);
        d->check = value[0] == '1';
        return QUY_OK;
    }
    if (!strcmp(option, "expect")) {
        dx_set *a = dx_read(value); /* reports each error on stderr, naming file:line */
        if (!a) return fail(d, QUY_ERROR, "%s: the approvals cannot be read (the messages above say why)", value);
        quy_status st = set_str(d, &d->expect, value);
        if (st != QUY_OK) {
            dx_free(a);
            return st;
        }
        dx_free(d->approved);
        d->approved = a;
        return QUY_OK;
    }
    if (!strcmp(option, "jobs")) { /* diff/diff_rate.c, dr_in_set_jobs */
        char *end;
        unsigned long n = strtoul(value, &end, 10);
        if (value[0] < '0' || value[0] > '9' || *end || n < 1 || n > 256)
            return fail(d, QUY_EINVAL, "jobs: a whole number from 1 to 256 (e.g. \"2\"), not '%s'", value);
        d->jobs = (unsigned)n;
        return QUY_OK;
    }
    if (!strcmp(option, "old_name")) return set_str(d, &d->name[0], value);
    if (!strcmp(option, "new_name")) return set_str(d, &d->name[1], value);
    return fail(d, QUY_EINVAL, "quy_diff_set: unknown option '%s' (refines, check, expect, jobs, old_name, new_name)", option);
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
    if (!f) return fail(d, QUY_IO, "%s: %s", path, strerror(errno));
    return add_input(d, path, f);
}

quy_status quy_diff_add_stream(quy_diff *d, const char *name, FILE *in)
{
    if (!d || !name || !in) return fail(d, QUY_EINVAL, "quy_diff_add_stream: NULL argument");
    if (d->ran) return fail(d, QUY_ESTATE, "quy_diff_add_stream: inputs go before quy_diff_run");
    const char *what = strcmp(name, "-") ? name : "standard input";
    FILE *f = tmpfile(); /* read twice, by two readers: a real file */
    if (!f) return fail(d, QUY_IO, "cannot copy %s to a temporary file: %s", what, strerror(errno));
    char buf[65536]; /* one chunk of the copy: the loop copies everything */
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, f) != n) break;
    if (ferror(in) || ferror(f) || fflush(f) != 0) {
        quy_status st = fail(d, QUY_IO, "cannot copy %s to a temporary file: %s", what, strerror(errno));
        fclose(f);
        return st;
    }
    rewind(f);
    return add_input(d, name, f);
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
    if (!d) return fail(NULL, QUY_EINVAL, "quy_diff_run: NULL handle");
    if (d->ran) return fail(d, QUY_ESTATE, "quy_diff_run: already run");
    if (!d->ninputs)
        return fail(d, QUY_EINVAL, "quy_diff_run: no input (quy_diff_add_file / quy_diff_add_memory / quy_diff_add_stream)");
    const char *spec[2];
    for (int s = 0; s < 2; s++) spec[s] = d->name[s] ? d->name[s] : prog_str(d->p[s], d->p[s]->name);
    bool check = d->check >= 0 ? d->check == 1 : d->approved || d->refines;
    diff_spec ds = {{spec[0], spec[1]}, (const char *const *)d->inputs, d->files, (int)d->ninputs, d->refines,
                    check, d->approved, d->expect, d->jobs};
    int rc = diff_run(d->p, &ds, &d->res);
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

quy_status quy_diff_matrix(const quy_diff *cd, int final, const char *from, const char *to, size_t *count)
{
    quy_diff *d = (quy_diff *)cd; /* for its message */
    if (count) *count = 0;
    if (!d || !count) return fail(d, QUY_EINVAL, "quy_diff_matrix: NULL argument");
    if (!d->ran || !d->res.summary) return fail(d, QUY_ESTATE, "quy_diff_matrix: call quy_diff_run first");
    int a = state_pos(from), b = state_pos(to);
    if (a < 0 || b < 0)
        return fail(d, QUY_EINVAL, "quy_diff_matrix: unknown state '%s' (htxsnv httnv htnv khtnv not_rated deferred rejected)",
                    a < 0 ? (from ? from : "(null)") : (to ? to : "(null)"));
    const json_t *m = json_object_get(sum(d, "matrix"), final ? "final" : "eligible");
    *count = (size_t)json_integer_value(json_array_get(json_array_get(m, (size_t)a), (size_t)b));
    return QUY_OK;
}

size_t quy_diff_cause_count(const quy_diff *d) { return json_array_size(sum(d, "causes")); }

const char *quy_diff_cause(quy_diff *d, size_t i, const char *attr)
{
    const json_t *c = item(d, sum(d, "causes"), i, "quy_diff_cause");
    if (!c) return NULL;
    if (!attr) return fail(d, QUY_EINVAL, "quy_diff_cause: NULL attribute"), NULL;
    const json_t *v = json_object_get(c, attr);
    if (json_is_integer(v)) {
        snprintf(d->num, sizeof d->num, "%lld", (long long)json_integer_value(v));
        return d->num;
    }
    return json_string_value(v);
}

/* The offset of every listed record's line (on first use). */
static bool read_listed(quy_diff *d)
{
    if (d->listed_read) return true;
    if (!d->ran || !d->res.moved) return false;
    d->listed_read = true;
    if (fseeko(d->res.moved, 0, SEEK_SET) != 0) return false;
    ssize_t len;
    off_t at = 0;
    while ((len = getline(&d->line, &d->linecap, d->res.moved)) > 0) {
        if (VEC_RESERVE(d->listed, d->nlisted, d->caplisted, 1) != 0) {
            fail(d, QUY_ENOMEM, "out of memory");
            return false;
        }
        d->listed[d->nlisted++] = at;
        at += len;
    }
    return true;
}

size_t quy_diff_listed_count(const quy_diff *d) { return (size_t)json_integer_value(sum(d, "listed_count")); }

/* Line i of the listed records into d->line (no newline); false with a message. */
static bool listed_line(quy_diff *d, size_t i, const char *fn)
{
    if (!d) return fail(NULL, QUY_EINVAL, "%s: NULL handle", fn), false;
    if (!read_listed(d)) return fail(d, QUY_ESTATE, "%s: call quy_diff_run first", fn), false;
    if (i >= d->nlisted) return fail(d, QUY_EINVAL, "%s: no listed record %zu (there are %zu)", fn, i, d->nlisted), false;
    ssize_t len;
    if (fseeko(d->res.moved, d->listed[i], SEEK_SET) != 0 || (len = getline(&d->line, &d->linecap, d->res.moved)) <= 0)
        return fail(d, QUY_IO, "%s: cannot read back listed record %zu: %s", fn, i, strerror(errno)), false;
    if (d->line[len - 1] == '\n') d->line[len - 1] = 0;
    return true;
}

const char *quy_diff_listed_json(quy_diff *d, size_t i)
{
    return listed_line(d, i, "quy_diff_listed_json") ? d->line : NULL;
}

/* Listed record i, parsed (kept until another index is asked for). */
static const json_t *listed_rec(quy_diff *d, size_t i, const char *fn)
{
    if (d && d->rec_i == i && d->rec) return d->rec;
    if (!listed_line(d, i, fn)) return NULL;
    json_decref(d->rec);
    json_error_t je;
    d->rec = json_loads(d->line, 0, &je);
    d->rec_i = d->rec ? i : SIZE_MAX;
    if (!d->rec) fail(d, QUY_IO, "%s: listed record %zu is not JSON: %s", fn, i, je.text);
    return d->rec;
}

const char *quy_diff_summary_json(quy_diff *d, int indent)
{
    if (!d || !d->ran || !d->res.summary)
        return fail(d, d ? QUY_ESTATE : QUY_EINVAL, "quy_diff_summary_json: no summary before quy_diff_run"), NULL;
    if (indent < 0 || indent > 31) return fail(d, QUY_EINVAL, "quy_diff_summary_json: indent %d (0 to 31)", indent), NULL;
    if (d->summary && d->summary_indent == indent) return d->summary;
    free(d->summary);
    d->summary = json_dumps(d->res.summary, indent ? JSON_INDENT(indent) : JSON_COMPACT | JSON_PRESERVE_ORDER);
    d->summary_indent = indent;
    if (!d->summary) fail(d, QUY_ENOMEM, "out of memory");
    return d->summary;
}

quy_status quy_diff_write_expect(quy_diff *d, const char *path)
{
    if (!d || !path) return fail(d, QUY_EINVAL, "quy_diff_write_expect: NULL argument");
    if (!d->ran || !d->res.seen) return fail(d, QUY_ESTATE, "quy_diff_write_expect: call quy_diff_run first");
    char *name[2] = {NULL, NULL};
    for (int s = 0; s < 2; s++)
        if (asprintf(&name[s], "%s %s", prog_str(d->p[s], d->p[s]->name), prog_str(d->p[s], d->p[s]->version)) < 0)
            name[s] = NULL;
    quy_status st = !name[0] || !name[1] ? fail(d, QUY_ENOMEM, "out of memory")
                    : dx_write(d->res.seen, path, name[0], name[1], d->refines) != 0
                        ? fail(d, QUY_IO, "%s: cannot write the approvals (the message above says why)", path)
                        : QUY_OK;
    free(name[0]);
    free(name[1]);
    return st;
}

/* =====================================================================
 * The summary read by parts (what the reports render)
 * ===================================================================== */

/* A string or boolean value as text; NULL for anything else. */
static const char *text_of(const json_t *v)
{
    return json_is_string(v) ? json_string_value(v) : json_is_true(v) ? "true" : json_is_false(v) ? "false" : NULL;
}

/* Element i of array `a`, or NULL with a message naming what. */
static const json_t *item(quy_diff *d, const json_t *a, size_t i, const char *fn)
{
    if (!d) return fail(NULL, QUY_EINVAL, "%s: NULL handle", fn), NULL;
    if (!d->ran || !d->res.summary) return fail(d, QUY_ESTATE, "%s: call quy_diff_run first", fn), NULL;
    if (i >= json_array_size(a))
        return fail(d, QUY_EINVAL, "%s: no item %zu (there are %zu)", fn, i, json_array_size(a)), NULL;
    return json_array_get(a, i);
}

/* Attribute `attr` of object o as text (NULL if it has none). */
static const char *attr_text(quy_diff *d, const json_t *o, const char *attr, const char *fn)
{
    if (!o) return NULL;
    if (!attr) return fail(d, QUY_EINVAL, "%s: NULL attribute", fn), NULL;
    return text_of(json_object_get(o, attr));
}

/* Attribute `attr` of object o as a number: QUY_EINVAL if it is not one
 * ("approved" of an approval that allows any number: UINT64_MAX). */
static quy_status attr_num(quy_diff *d, const json_t *o, const char *attr, uint64_t *v, const char *fn)
{
    if (v) *v = 0;
    if (!v || !attr) return fail(d, QUY_EINVAL, "%s: NULL argument", fn);
    if (!o) return QUY_EINVAL; /* the message is set */
    const json_t *x = json_object_get(o, attr);
    if (json_is_string(x) && !strcmp(json_string_value(x), "*")) {
        *v = UINT64_MAX;
        return QUY_OK;
    }
    if (!json_is_integer(x)) return fail(d, QUY_EINVAL, "%s: '%s' is not a count here", fn, attr);
    *v = (uint64_t)json_integer_value(x);
    return QUY_OK;
}

static const char *const count_key[] = {
    [QUY_DIFF_RECORDS] = "records", [QUY_DIFF_MOVED] = "moved", [QUY_DIFF_UP] = "up", [QUY_DIFF_DOWN] = "down",
    [QUY_DIFF_OTHER] = "other", [QUY_DIFF_SAME_TIER_OTHER_RULE] = "same_tier_other_rule",
    [QUY_DIFF_REJECTED_BY_BOTH] = "rejected_by_both", [QUY_DIFF_LISTED] = "listed_count",
    [QUY_DIFF_LOOSENED] = "loosened", [QUY_DIFF_APPROVED] = "approved", [QUY_DIFF_UNAPPROVED] = "unapproved",
};

quy_status quy_diff_count(const quy_diff *cd, int what, uint64_t *value)
{
    quy_diff *d = (quy_diff *)cd; /* for its message */
    if (value) *value = 0;
    if (!d || !value) return fail(d, QUY_EINVAL, "quy_diff_count: NULL argument");
    if (what < 0 || what > QUY_DIFF_UNAPPROVED)
        return fail(d, QUY_EINVAL, "quy_diff_count: unknown count %d (QUY_DIFF_RECORDS ... QUY_DIFF_UNAPPROVED)", what);
    if (!d->ran || !d->res.summary) return fail(d, QUY_ESTATE, "quy_diff_count: call quy_diff_run first");
    const json_t *o = d->res.summary;
    if (what == QUY_DIFF_LOOSENED) o = json_object_get(o, "refines");
    if (what == QUY_DIFF_APPROVED || what == QUY_DIFF_UNAPPROVED) o = json_object_get(o, "expect");
    *value = (uint64_t)json_integer_value(json_object_get(o, count_key[what])); /* 0 without refines / a check */
    return QUY_OK;
}

int quy_diff_is(const quy_diff *cd, const char *what)
{
    quy_diff *d = (quy_diff *)cd;
    if (!d || !what) return fail(d, QUY_EINVAL, "quy_diff_is: NULL argument"), -1;
    if (!d->ran || !d->res.summary) return fail(d, QUY_ESTATE, "quy_diff_is: call quy_diff_run first"), -1;
    if (!strcmp(what, "refines")) return json_object_get(d->res.summary, "refines") != NULL;
    if (!strcmp(what, "checked")) return json_object_get(d->res.summary, "expect") != NULL;
    if (!strcmp(what, "eligible_equals_final")) return json_is_true(json_object_get(d->res.summary, "eligible_equals_final"));
    return fail(d, QUY_EINVAL, "quy_diff_is: unknown question '%s' (refines, checked, eligible_equals_final)", what), -1;
}

/* The summary's object for side 0 (old) or 1 (new). */
static const json_t *side_obj(quy_diff *d, int side, const char *fn)
{
    if (!d) return fail(NULL, QUY_EINVAL, "%s: NULL handle", fn), NULL;
    if (side != 0 && side != 1) return fail(d, QUY_EINVAL, "%s: side %d (0: old, 1: new)", fn, side), NULL;
    if (!d->ran || !d->res.summary) return fail(d, QUY_ESTATE, "%s: call quy_diff_run first", fn), NULL;
    return json_object_get(d->res.summary, side ? "new" : "old");
}

const char *quy_diff_side(quy_diff *d, int side, const char *attr)
{
    return attr_text(d, side_obj(d, side, "quy_diff_side"), attr, "quy_diff_side");
}

size_t quy_diff_layer_count(quy_diff *d, int side)
{
    return json_array_size(json_object_get(side_obj(d, side, "quy_diff_layer_count"), "layers"));
}

const char *quy_diff_layer(quy_diff *d, int side, size_t i)
{
    const json_t *o = side_obj(d, side, "quy_diff_layer");
    return o ? json_string_value(item(d, json_object_get(o, "layers"), i, "quy_diff_layer")) : NULL;
}

size_t quy_diff_input_count(const quy_diff *d) { return json_array_size(sum(d, "inputs")); }
const char *quy_diff_input(quy_diff *d, size_t i)
{
    return json_string_value(item(d, sum(d, "inputs"), i, "quy_diff_input"));
}

size_t quy_diff_state_count(const quy_diff *d) { return json_array_size(sum(d, "states")); }
const char *quy_diff_state(quy_diff *d, size_t i)
{
    return json_string_value(item(d, sum(d, "states"), i, "quy_diff_state"));
}

quy_status quy_diff_cause_num(quy_diff *d, size_t i, const char *attr, uint64_t *value)
{
    return attr_num(d, item(d, sum(d, "causes"), i, "quy_diff_cause_num"), attr, value, "quy_diff_cause_num");
}

size_t quy_diff_cause_move_count(const quy_diff *d, size_t i)
{
    return json_array_size(json_object_get(json_array_get(sum(d, "causes"), i), "moves"));
}

static const json_t *cause_move(quy_diff *d, size_t i, size_t j, const char *fn)
{
    const json_t *c = item(d, sum(d, "causes"), i, fn);
    return c ? item(d, json_object_get(c, "moves"), j, fn) : NULL;
}

const char *quy_diff_cause_move(quy_diff *d, size_t i, size_t j, const char *attr)
{
    return attr_text(d, cause_move(d, i, j, "quy_diff_cause_move"), attr, "quy_diff_cause_move");
}

quy_status quy_diff_cause_move_num(quy_diff *d, size_t i, size_t j, const char *attr, uint64_t *value)
{
    return attr_num(d, cause_move(d, i, j, "quy_diff_cause_move_num"), attr, value, "quy_diff_cause_move_num");
}

/* The breakdown "kind" or "peer_group". */
static const json_t *groups(const quy_diff *d, const char *by)
{
    return !by ? NULL : !strcmp(by, "kind") ? sum(d, "by_kind") : !strcmp(by, "peer_group") ? sum(d, "by_peer_group") : NULL;
}

static const json_t *group(quy_diff *d, const char *by, size_t i, const char *fn)
{
    if (d && (!by || (strcmp(by, "kind") && strcmp(by, "peer_group"))))
        return fail(d, QUY_EINVAL, "%s: by '%s' (kind or peer_group)", fn, by ? by : "(null)"), NULL;
    return item(d, groups(d, by), i, fn);
}

size_t quy_diff_group_count(const quy_diff *d, const char *by) { return json_array_size(groups(d, by)); }

const char *quy_diff_group(quy_diff *d, const char *by, size_t i, const char *attr)
{
    const json_t *g = group(d, by, i, "quy_diff_group");
    if (g && attr && !strcmp(attr, "name")) return json_string_value(json_object_get(g, by));
    return attr_text(d, g, attr, "quy_diff_group");
}

quy_status quy_diff_group_num(quy_diff *d, const char *by, size_t i, const char *attr, uint64_t *value)
{
    return attr_num(d, group(d, by, i, "quy_diff_group_num"), attr, value, "quy_diff_group_num");
}

static const json_t *loosened(const quy_diff *d) { return json_object_get(sum(d, "refines"), "causes"); }
size_t quy_diff_loosened_cause_count(const quy_diff *d) { return json_array_size(loosened(d)); }

const char *quy_diff_loosened_cause(quy_diff *d, size_t i, const char *attr)
{
    return attr_text(d, item(d, loosened(d), i, "quy_diff_loosened_cause"), attr, "quy_diff_loosened_cause");
}

quy_status quy_diff_loosened_cause_num(quy_diff *d, size_t i, const char *attr, uint64_t *value)
{
    return attr_num(d, item(d, loosened(d), i, "quy_diff_loosened_cause_num"), attr, value,
                    "quy_diff_loosened_cause_num");
}

const char *quy_diff_expect_file(const quy_diff *d) { return json_string_value(json_object_get(sum(d, "expect"), "file")); }

/* The list "unapproved" (moves not approved) or "unused" (approvals not used up). */
static const json_t *approvals(const quy_diff *d, const char *list)
{
    const json_t *e = sum(d, "expect");
    return !list ? NULL
           : !strcmp(list, "unapproved") ? json_object_get(e, "unapproved_moves")
           : !strcmp(list, "unused")     ? json_object_get(e, "unused_approvals")
                                         : NULL;
}

static const json_t *approval(quy_diff *d, const char *list, size_t i, const char *fn)
{
    if (d && (!list || (strcmp(list, "unapproved") && strcmp(list, "unused"))))
        return fail(d, QUY_EINVAL, "%s: list '%s' (unapproved or unused)", fn, list ? list : "(null)"), NULL;
    return item(d, approvals(d, list), i, fn);
}

size_t quy_diff_approval_count(const quy_diff *d, const char *list) { return json_array_size(approvals(d, list)); }

const char *quy_diff_approval(quy_diff *d, const char *list, size_t i, const char *attr)
{
    return attr_text(d, approval(d, list, i, "quy_diff_approval"), attr, "quy_diff_approval");
}

quy_status quy_diff_approval_num(quy_diff *d, const char *list, size_t i, const char *attr, uint64_t *value)
{
    return attr_num(d, approval(d, list, i, "quy_diff_approval_num"), attr, value, "quy_diff_approval_num");
}

size_t quy_diff_rejected_sample_count(const quy_diff *d)
{
    if (!d || !d->ran) return 0;
    size_t n = sizeof d->res.rejected_sample / sizeof d->res.rejected_sample[0];
    return d->res.rejected_both < n ? (size_t)d->res.rejected_both : n;
}

const char *quy_diff_rejected_sample(quy_diff *d, size_t i)
{
    if (!d) return fail(NULL, QUY_EINVAL, "quy_diff_rejected_sample: NULL handle"), NULL;
    if (i >= quy_diff_rejected_sample_count(d))
        return fail(d, QUY_EINVAL, "quy_diff_rejected_sample: no sample %zu (there are %zu)", i,
                    quy_diff_rejected_sample_count(d)),
               NULL;
    return d->res.rejected_sample[i] ? d->res.rejected_sample[i] : "";
}

/* =====================================================================
 * The listed records, and the cause of each
 * ===================================================================== */

const char *quy_diff_listed(quy_diff *d, size_t i, const char *attr)
{
    return attr_text(d, listed_rec(d, i, "quy_diff_listed"), attr, "quy_diff_listed");
}

quy_status quy_diff_listed_num(quy_diff *d, size_t i, const char *attr, uint64_t *value)
{
    return attr_num(d, listed_rec(d, i, "quy_diff_listed_num"), attr, value, "quy_diff_listed_num");
}

static const char *const side_key[2] = {"old", "new"};

/* Object `key` of listed record i ("detail"; or a side of it). */
static const json_t *rec_part(quy_diff *d, size_t i, int side, const char *key, const char *fn)
{
    if (side != 0 && side != 1) return fail(d, QUY_EINVAL, "%s: side %d (0: old, 1: new)", fn, side), NULL;
    const json_t *r = listed_rec(d, i, fn);
    if (!r) return NULL;
    if (!key) return json_object_get(r, side_key[side]);
    const json_t *x = json_object_get(r, key);
    return json_is_object(x) ? x : NULL;
}

const char *quy_diff_listed_side(quy_diff *d, size_t i, int side, const char *attr)
{
    return attr_text(d, rec_part(d, i, side, NULL, "quy_diff_listed_side"), attr, "quy_diff_listed_side");
}

const char *quy_diff_detail(quy_diff *d, size_t i, const char *attr)
{
    const json_t *x = rec_part(d, i, 0, "detail", "quy_diff_detail");
    if (!x || !attr) return attr_text(d, x, attr, "quy_diff_detail");
    bool batch = !strcmp(json_string_value(json_object_get(x, "type")) ? json_string_value(json_object_get(x, "type")) : "", "batch");
    if (!strcmp(attr, "steps_old") || !strcmp(attr, "steps_new")) /* a batch cause names them old / new */
        return text_of(json_object_get(x, batch ? attr + 6 : attr));
    if (!strcmp(attr, "old") || !strcmp(attr, "new")) return NULL; /* sides: quy_diff_detail_side */
    return text_of(json_object_get(x, attr));
}

/* The detail's side (a rule cause: the rule on that side). */
static const json_t *detail_side(quy_diff *d, size_t i, int side, const char *fn)
{
    const json_t *x = rec_part(d, i, side, "detail", fn); /* NULL for a bad side */
    const json_t *s = x ? json_object_get(x, side_key[side]) : NULL;
    return json_is_object(s) ? s : NULL;
}

const char *quy_diff_detail_side(quy_diff *d, size_t i, int side, const char *attr)
{
    return attr_text(d, detail_side(d, i, side, "quy_diff_detail_side"), attr, "quy_diff_detail_side");
}

size_t quy_diff_detail_clause_count(quy_diff *d, size_t i, int side)
{
    return json_array_size(json_object_get(detail_side(d, i, side, "quy_diff_detail_clause_count"), "clauses"));
}

static const json_t *clause(quy_diff *d, size_t i, int side, size_t c, const char *fn)
{
    const json_t *s = detail_side(d, i, side, fn);
    return s ? item(d, json_object_get(s, "clauses"), c, fn) : NULL;
}

const char *quy_diff_detail_clause(quy_diff *d, size_t i, int side, size_t c, const char *attr)
{
    const json_t *x = clause(d, i, side, c, "quy_diff_detail_clause");
    if (x && attr && !strcmp(attr, "unless")) return text_of(json_object_get(json_object_get(x, "unless"), "condition"));
    if (x && attr && !strcmp(attr, "unless_held")) return text_of(json_object_get(json_object_get(x, "unless"), "held"));
    return attr_text(d, x, attr, "quy_diff_detail_clause");
}

size_t quy_diff_detail_read_count(quy_diff *d, size_t i, int side, size_t c)
{
    return json_array_size(json_object_get(clause(d, i, side, c, "quy_diff_detail_read_count"), "read"));
}

const char *quy_diff_detail_read(quy_diff *d, size_t i, int side, size_t c, size_t k, const char *attr)
{
    const json_t *x = clause(d, i, side, c, "quy_diff_detail_read");
    return attr_text(d, x ? item(d, json_object_get(x, "read"), k, "quy_diff_detail_read") : NULL, attr,
                     "quy_diff_detail_read");
}

static const json_t *adjusts(quy_diff *d, size_t i, int side, const char *fn)
{
    const json_t *x = rec_part(d, i, side, "detail", fn);
    return x ? json_object_get(x, side ? "adjust_new" : "adjust_old") : NULL;
}

size_t quy_diff_detail_adjust_count(quy_diff *d, size_t i, int side)
{
    return json_array_size(adjusts(d, i, side, "quy_diff_detail_adjust_count"));
}

const char *quy_diff_detail_adjust(quy_diff *d, size_t i, int side, size_t j, const char *attr)
{
    const json_t *a = adjusts(d, i, side, "quy_diff_detail_adjust");
    return attr_text(d, a ? item(d, a, j, "quy_diff_detail_adjust") : NULL, attr, "quy_diff_detail_adjust");
}
