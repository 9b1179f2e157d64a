/*
 * explain.c — the explanation as data (quy.h, quy_explain_*): thin
 * accessors over the explanation tree the runtime builds for a rated
 * record (runtime/explain.h explain_json, with the batch steps of
 * runtime/batch.h). Attributes are read by name; values are strings.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void *qi_explain_tree(const quy_result *r, quy_status *st);

struct quy_explain {
    json_t *root;
    char **strs; /* strings made for the caller (numbers, joined lists) */
    size_t nstrs, cap;
};

quy_status quy_result_explain(const quy_result *r, quy_explain **out)
{
    if (out) *out = NULL;
    if (!r || !out) return qi_fail(QUY_EINVAL, "quy_result_explain: NULL argument");
    quy_status st;
    json_t *root = qi_explain_tree(r, &st);
    if (!root) return st;
    quy_explain *e = calloc(1, sizeof *e);
    if (!e) {
        json_decref(root);
        return qi_fail(QUY_ENOMEM, "out of memory");
    }
    e->root = root;
    *out = e;
    return QUY_OK;
}

void quy_explain_free(quy_explain *e)
{
    if (!e) return;
    json_decref(e->root);
    for (size_t i = 0; i < e->nstrs; i++) free(e->strs[i]);
    free(e->strs);
    free(e);
}

/* Keep s (malloc'd) for the explanation's lifetime. */
static const char *own(quy_explain *e, char *s)
{
    if (!s) return NULL;
    if (e->nstrs == e->cap) {
        size_t cap = e->cap ? 2 * e->cap : 16;
        char **v = realloc(e->strs, cap * sizeof *v);
        if (!v) {
            free(s);
            return NULL;
        }
        e->strs = v;
        e->cap = cap;
    }
    return e->strs[e->nstrs++] = s;
}

/* A JSON value as people read it: strings as they are, booleans
 * "true"/"false", arrays joined by ", ". */
static const char *as_text(quy_explain *e, json_t *v)
{
    if (!v) return NULL;
    if (json_is_string(v)) return json_string_value(v);
    if (json_is_true(v)) return "true";
    if (json_is_false(v)) return "false";
    if (json_is_array(v)) {
        size_t len = 1;
        for (size_t i = 0; i < json_array_size(v); i++) len += strlen(json_string_value(json_array_get(v, i)) ?: "") + 2;
        char *s = calloc(1, len);
        for (size_t i = 0; s && i < json_array_size(v); i++) {
            if (i) strcat(s, ", ");
            strcat(s, json_string_value(json_array_get(v, i)) ?: "");
        }
        return own(e, s);
    }
    return own(e, json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT));
}

static json_t *list(const quy_explain *e, const char *name) { return e ? json_object_get(e->root, name) : NULL; }

static json_t *at(json_t *arr, size_t i, const char *fn)
{
    json_t *o = json_array_get(arr, i);
    if (!o) qi_fail(QUY_EINVAL, "%s: no item %zu", fn, i);
    return o;
}

static const char *attr_of(quy_explain *e, json_t *o, const char *attr)
{
    if (!o || !attr) return NULL;
    return as_text(e, json_object_get(o, attr));
}

const char *quy_explain_decided_by(quy_explain *e, const char *attr)
{
    return e ? attr_of(e, json_object_get(e->root, "decided_by"), attr) : NULL;
}

size_t quy_explain_rule_count(const quy_explain *e) { return json_array_size(list(e, "rules")); }

const char *quy_explain_rule(quy_explain *e, size_t rule, const char *attr)
{
    return e ? attr_of(e, at(list(e, "rules"), rule, "quy_explain_rule"), attr) : NULL;
}

static json_t *clause_at(const quy_explain *e, size_t rule, size_t clause, const char *fn)
{
    json_t *r = e ? at(list(e, "rules"), rule, fn) : NULL;
    return r ? at(json_object_get(r, "clauses"), clause, fn) : NULL;
}

size_t quy_explain_clause_count(const quy_explain *e, size_t rule)
{
    json_t *r = json_array_get(list(e, "rules"), rule);
    return json_array_size(json_object_get(r, "clauses"));
}

const char *quy_explain_clause(quy_explain *e, size_t rule, size_t clause, const char *attr)
{
    json_t *c = clause_at(e, rule, clause, "quy_explain_clause");
    if (!c || !attr) return NULL;
    json_t *unless = json_object_get(c, "unless");
    if (!strcmp(attr, "unless")) return attr_of(e, unless, "condition");
    if (!strcmp(attr, "unless_held")) return attr_of(e, unless, "held");
    return attr_of(e, c, attr);
}

size_t quy_explain_read_count(const quy_explain *e, size_t rule, size_t clause)
{
    json_t *r = json_array_get(list(e, "rules"), rule);
    return json_object_size(json_object_get(json_array_get(json_object_get(r, "clauses"), clause), "read"));
}

/* Read k of a clause (object members in insertion order). */
static bool read_at(const quy_explain *e, size_t rule, size_t clause, size_t k, const char **key, json_t **val)
{
    json_t *c = clause_at(e, rule, clause, "quy_explain_read");
    json_t *reads = c ? json_object_get(c, "read") : NULL;
    size_t i = 0;
    const char *kk;
    json_t *v;
    json_object_foreach(reads, kk, v) {
        if (i++ == k) {
            *key = kk;
            *val = v;
            return true;
        }
    }
    qi_fail(QUY_EINVAL, "quy_explain_read: no read %zu", k);
    return false;
}

const char *quy_explain_read_name(quy_explain *e, size_t rule, size_t clause, size_t k)
{
    const char *key;
    json_t *v;
    return read_at(e, rule, clause, k, &key, &v) ? key : NULL;
}

const char *quy_explain_read_value(quy_explain *e, size_t rule, size_t clause, size_t k)
{
    const char *key;
    json_t *v;
    return read_at(e, rule, clause, k, &key, &v) ? as_text(e, v) : NULL;
}

size_t quy_explain_flag_count(const quy_explain *e) { return json_array_size(list(e, "flags")); }

const char *quy_explain_flag(quy_explain *e, size_t i, const char *attr)
{
    return e ? attr_of(e, at(list(e, "flags"), i, "quy_explain_flag"), attr) : NULL;
}

size_t quy_explain_adjustment_count(const quy_explain *e) { return json_array_size(list(e, "adjustments")); }

const char *quy_explain_adjustment(quy_explain *e, size_t i, const char *attr)
{
    return e ? attr_of(e, at(list(e, "adjustments"), i, "quy_explain_adjustment"), attr) : NULL;
}

size_t quy_explain_step_count(const quy_explain *e) { return json_array_size(list(e, "batch_steps")); }

const char *quy_explain_step(quy_explain *e, size_t i, const char *attr)
{
    return e ? attr_of(e, at(list(e, "batch_steps"), i, "quy_explain_step"), attr) : NULL;
}
