/*
 * fields.c — quy_ruleset_check_fields (quy.h): every key of a record names
 * a field of its kind. The reader ignores an unknown field (with a
 * warning), so a misspelt field in a `quy test` case would pass on the
 * field's default; the test runner, and anyone as strict, asks here first.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "../compiler/diag.h"
#include "internal.h"

/* Keys of `obj` that are not among fields[first .. first + n) (id and kind
 * aside): false with the reason and the nearest name in `why`. */
static bool known_keys(const q_program *p, json_t *obj, uint32_t first, uint32_t n, const char *owner, char *why,
                       size_t whysz)
{
    const char *key;
    json_t *val;
    json_object_foreach(obj, key, val) {
        if (!strcmp(key, "id") || !strcmp(key, "kind")) continue;
        bool found = false;
        for (uint32_t i = 0; i < n && !found; i++) found = !strcmp(prog_str(p, p->fields[first + i].name), key);
        if (found) continue;
        const char **cand = malloc((n ? n : 1) * sizeof *cand);
        const char *sug = NULL;
        if (cand) {
            for (uint32_t i = 0; i < n; i++) cand[i] = prog_str(p, p->fields[first + i].name);
            sug = diag_suggest(key, cand, n);
        }
        snprintf(why, whysz, "'%s' is not a field of %s%s%s%s", key, owner, sug ? "; did you mean '" : "",
                 sug ? sug : "", sug ? "'?" : "");
        free(cand);
        return false;
    }
    return true;
}

/* Every key of the record names a field of its kind, and every key of a
 * struct element (a list of structs) a field of the struct. */
static bool known_fields(const q_program *p, json_t *rec, char *why, size_t whysz)
{
    const char *kind = json_string_value(json_object_get(rec, "kind"));
    uint32_t k = kind ? prog_find_kind(p, kind, strlen(kind)) : QUY_NONE;
    if (k == QUY_NONE) return true; /* the reader rejects the record and says why */
    const q_kind *kd = &p->kinds[k];
    char owner[160];
    snprintf(owner, sizeof owner, "record '%s'", kind);
    if (!known_keys(p, rec, kd->first_field, kd->nfields, owner, why, whysz)) return false;
    for (uint32_t i = 0; i < kd->nfields; i++) {
        const q_field *f = &p->fields[kd->first_field + i];
        const q_type *t = &p->types[f->type];
        json_t *list = json_object_get(rec, prog_str(p, f->name));
        if (t->kind != QT_LIST || p->types[t->elem].kind != QT_STRUCT || !json_is_array(list)) continue;
        const q_type *st = &p->types[t->elem];
        snprintf(owner, sizeof owner, "the elements of '%s'", prog_str(p, f->name));
        for (size_t j = 0; j < json_array_size(list); j++)
            if (json_is_object(json_array_get(list, j)) &&
                !known_keys(p, json_array_get(list, j), st->first, st->count, owner, why, whysz))
                return false;
    }
    return true;
}

quy_status quy_ruleset_check_fields(const quy_ruleset *rs, const char *json, size_t len)
{
    if (!rs || !json) return qi_fail(QUY_EINVAL, "quy_ruleset_check_fields: NULL argument");
    json_error_t je;
    json_t *rec = json_loadb(json, len, 0, &je);
    if (!rec) return QUY_OK; /* not JSON: the reader rejects it and says why */
    char why[1024];
    bool ok = !json_is_object(rec) || known_fields(rs->p, rec, why, sizeof why);
    json_decref(rec);
    return ok ? QUY_OK : qi_fail(QUY_ERROR, "%s", why);
}
