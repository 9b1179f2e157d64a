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

/* =====================================================================
 * The record fields as data: kinds, their fields, types (quy.h, "Record
 * fields"; `quy describe --fields` renders docs/records.md from these).
 * =================================================================== */

#define BAD(fn, ...) (qi_fail(QUY_EINVAL, fn ": " __VA_ARGS__), NULL)

const char *quy_ruleset_kind(const quy_ruleset *rs, size_t k)
{
    if (!rs) return BAD("quy_ruleset_kind", "NULL ruleset");
    if (k >= rs->p->nkinds) return BAD("quy_ruleset_kind", "no kind %zu (there are %u)", k, rs->p->nkinds);
    return prog_str(rs->p, rs->p->kinds[k].name);
}

quy_status quy_ruleset_find_kind(const quy_ruleset *rs, const char *name, size_t *k)
{
    if (k) *k = SIZE_MAX;
    if (!rs || !name || !k) return qi_fail(QUY_EINVAL, "quy_ruleset_find_kind: NULL argument");
    uint32_t i = prog_find_kind(rs->p, name, strlen(name));
    if (i == QUY_NONE) return qi_fail(QUY_ENOTFOUND, "ruleset '%s' has no kind '%s'", prog_str(rs->p, rs->p->name), name);
    *k = i;
    return QUY_OK;
}

const char *quy_kind(const quy_ruleset *rs, size_t k, const char *attr)
{
    if (!rs || !attr) return BAD("quy_kind", "NULL argument");
    if (k >= rs->p->nkinds) return BAD("quy_kind", "no kind %zu (there are %u)", k, rs->p->nkinds);
    const q_kind *kd = &rs->p->kinds[k];
    if (!strcmp(attr, "name")) return prog_str(rs->p, kd->name);
    if (!strcmp(attr, "label")) return prog_str(rs->p, kd->label);
    if (!strcmp(attr, "rated")) return kd->entry != QUY_NONE ? "true" : "false";
    return BAD("quy_kind", "no attribute '%.60s' (name label rated)", attr);
}

size_t quy_kind_check_count(const quy_ruleset *rs, size_t k)
{
    return rs && k < rs->p->nkinds ? rs->p->kinds[k].nchecks : 0;
}

const char *quy_kind_check(const quy_ruleset *rs, size_t k, size_t i, const char *attr)
{
    if (!rs || !attr) return BAD("quy_kind_check", "NULL argument");
    if (k >= rs->p->nkinds) return BAD("quy_kind_check", "no kind %zu (there are %u)", k, rs->p->nkinds);
    const q_kind *kd = &rs->p->kinds[k];
    if (i >= kd->nchecks)
        return BAD("quy_kind_check", "kind '%s' has no check %zu (it has %u)", prog_str(rs->p, kd->name), i, kd->nchecks);
    const q_check *c = &rs->p->checks[kd->first_check + i];
    if (!strcmp(attr, "message")) return prog_str(rs->p, c->text);
    if (!strcmp(attr, "field")) return c->field != QUY_NONE ? prog_str(rs->p, rs->p->fields[c->field].name) : NULL;
    return BAD("quy_kind_check", "no attribute '%.60s' (message field)", attr);
}

size_t quy_kind_field_count(const quy_ruleset *rs, size_t k)
{
    return rs && k < rs->p->nkinds ? rs->p->kinds[k].nfields : 0;
}

/* Field i of kind k, or NULL with a message. */
static const q_field *kind_field(const quy_ruleset *rs, size_t k, size_t i, const char *fn)
{
    if (!rs) return qi_fail(QUY_EINVAL, "%s: NULL ruleset", fn), NULL;
    if (k >= rs->p->nkinds) return qi_fail(QUY_EINVAL, "%s: no kind %zu (there are %u)", fn, k, rs->p->nkinds), NULL;
    if (i >= rs->p->kinds[k].nfields)
        return qi_fail(QUY_EINVAL, "%s: kind '%s' has no field %zu (it has %u)", fn,
                       prog_str(rs->p, rs->p->kinds[k].name), i, rs->p->kinds[k].nfields),
               NULL;
    return &rs->p->fields[rs->p->kinds[k].first_field + i];
}

/* Where kind k's code starts: its first check, batch expression or rate block. */
static uint32_t kind_start(const q_program *p, uint32_t k)
{
    uint32_t s = p->kinds[k].entry;
    for (uint32_t i = 0; i < p->kinds[k].nchecks; i++)
        if (p->checks[p->kinds[k].first_check + i].entry < s) s = p->checks[p->kinds[k].first_check + i].entry;
    for (uint32_t i = 0; i < p->nbexprs; i++)
        if (p->bexprs[i].kind == k && p->bexprs[i].entry < s) s = p->bexprs[i].entry;
    return s;
}

/* Does the batch link records (a computed roll-up, or a head_of/unit cap)? */
static bool batch_graph(const q_program *p)
{
    for (uint32_t i = 0; i < p->nfields; i++)
        if (p->fields[i].flags & QF_BATCH) return true;
    for (uint32_t i = 0; i < p->ncaps; i++)
        if (p->caps[i].bound == QCAP_HEAD_OF || p->caps[i].bound == QCAP_UNIT) return true;
    return false;
}

/* Does the ruleset read slot `slot` of kind k: in the kind's code (the
 * checker emits a kind's blocks together, kinds in order), in a cap, as
 * the batch's link between records (`unit`, `head_of`), or as a quota's
 * grouping field? */
static bool field_read(const q_program *p, uint32_t k, uint32_t slot)
{
    uint32_t start = kind_start(p, k), end = p->ncode;
    for (uint32_t j = 0; j < p->nkinds; j++) {
        uint32_t s = kind_start(p, j);
        if (j != k && s > start && s < end) end = s;
    }
    for (uint32_t pc = start; pc < end && start != QUY_NONE; pc++) {
        const q_instr *in = &p->code[pc];
        op_format f = op_table[in->op].format;
        uint32_t sl = f == OPF_SLOT || f == OPF_SLOTJ ? in->a : f == OPF_LOOP ? in->b : QUY_NONE;
        if (sl == slot) return true;
    }
    for (uint32_t i = 0; i < p->ncaps; i++)
        if (p->caps[i].kind == k && p->caps[i].bound != QCAP_TIER && p->caps[i].slot == slot) return true;
    const char *name = prog_str(p, p->fields[p->kinds[k].first_field + slot].name);
    if (batch_graph(p) && (!strcmp(name, "unit") || !strcmp(name, "head_of"))) return true;
    for (uint32_t i = 0; i < p->nquotas; i++)
        if (!strcmp(prog_str(p, p->quotas[i].per), name)) return true;
    return false;
}

/* A constant of type t as a person writes it in a record. */
/* The text of a default value (malloc'd): a member's whole name; a bool, a
 * date or a number fit in 128 bytes (q_format's longest is under 100). */
static char *value_text(const q_program *p, uint32_t t, q_val v)
{
    const q_type *ty = &p->types[t];
    if (ty->kind == QT_ENUM || ty->kind == QT_SCALE) return strdup(prog_str(p, p->members[ty->first + (uint32_t)v.n].name));
    char buf[128];
    if (ty->kind == QT_BOOL) snprintf(buf, sizeof buf, "%s", v.n ? "true" : "false");
    else if (ty->kind == QT_DATE) q_format_date(v.n, buf);
    else q_format(v, ty->kind == QT_PERCENT, buf, sizeof buf);
    return strdup(buf);
}

bool qi_fields_init(quy_ruleset *rs)
{
    const q_program *p = rs->p;
    if (!(rs->deflt = calloc(p->nfields ? p->nfields : 1, sizeof *rs->deflt))) return false;
    for (uint32_t i = 0; i < p->nfields; i++) {
        const q_field *f = &p->fields[i];
        if (f->flags & QF_BATCH || !(f->flags & QF_DEFAULT) || f->deflt == QUY_NONE) continue;
        if (!(rs->deflt[i] = value_text(p, f->type, p->consts[f->deflt]))) return false;
    }
    return true;
}

void qi_fields_free(quy_ruleset *rs)
{
    for (uint32_t i = 0; rs->deflt && i < rs->p->nfields; i++) free(rs->deflt[i]);
    free(rs->deflt);
    rs->deflt = NULL;
}

const char *quy_kind_field(const quy_ruleset *rs, size_t k, size_t i, const char *attr)
{
    const q_field *f = kind_field(rs, k, i, "quy_kind_field");
    if (!f) return NULL;
    if (!attr) return BAD("quy_kind_field", "NULL attribute");
    const q_program *p = rs->p;
    if (!strcmp(attr, "name")) return prog_str(p, f->name);
    if (!strcmp(attr, "label")) return prog_str(p, f->label);
    if (!strcmp(attr, "presence"))
        return f->flags & QF_BATCH                                 ? "computed"
               : (f->flags & QF_DEFAULT && f->deflt != QUY_NONE) ? "default"
               : f->flags & QF_OPTIONAL                          ? "optional"
                                                                 : "required";
    if (!strcmp(attr, "default")) return rs->deflt[f - p->fields];
    if (!strcmp(attr, "read")) return field_read(p, (uint32_t)k, (uint32_t)i) ? "true" : "false";
    return BAD("quy_kind_field", "no attribute '%.60s' (name label presence default read)", attr);
}

quy_status quy_kind_field_type(const quy_ruleset *rs, size_t k, size_t i, size_t *type)
{
    if (type) *type = SIZE_MAX;
    if (!type) return qi_fail(QUY_EINVAL, "quy_kind_field_type: NULL argument");
    const q_field *f = kind_field(rs, k, i, "quy_kind_field_type");
    if (!f) return QUY_EINVAL;
    *type = f->type;
    return QUY_OK;
}

/* ---- types ---------------------------------------------------------- */

size_t quy_ruleset_type_count(const quy_ruleset *rs) { return rs ? rs->p->ntypes : 0; }

static const q_type *type_at(const quy_ruleset *rs, size_t t, const char *fn)
{
    if (!rs) return qi_fail(QUY_EINVAL, "%s: NULL ruleset", fn), NULL;
    if (t >= rs->p->ntypes) return qi_fail(QUY_EINVAL, "%s: no type %zu (there are %u)", fn, t, rs->p->ntypes), NULL;
    return &rs->p->types[t];
}

const char *quy_type(const quy_ruleset *rs, size_t t, const char *attr)
{
    const q_type *ty = type_at(rs, t, "quy_type");
    if (!ty) return NULL;
    if (!attr) return BAD("quy_type", "NULL attribute");
    if (!strcmp(attr, "kind")) return q_type_kind_name[ty->kind];
    if (!strcmp(attr, "name")) return ty->name ? prog_str(rs->p, ty->name) : NULL;
    if (!strcmp(attr, "label")) return ty->label ? prog_str(rs->p, ty->label) : NULL;
    return BAD("quy_type", "no attribute '%.60s' (kind name label)", attr);
}

quy_status quy_type_element(const quy_ruleset *rs, size_t t, size_t *elem)
{
    if (elem) *elem = SIZE_MAX;
    if (!elem) return qi_fail(QUY_EINVAL, "quy_type_element: NULL argument");
    const q_type *ty = type_at(rs, t, "quy_type_element");
    if (!ty) return QUY_EINVAL;
    if (ty->kind != QT_LIST) return qi_fail(QUY_EINVAL, "quy_type_element: type %zu is a %s, not a list", t, q_type_kind_name[ty->kind]);
    *elem = ty->elem;
    return QUY_OK;
}

static bool has_members(const q_type *ty) { return ty->kind == QT_ENUM || ty->kind == QT_SCALE || ty->kind == QT_STRUCT; }

size_t quy_type_member_count(const quy_ruleset *rs, size_t t)
{
    const q_type *ty = rs && t < rs->p->ntypes ? &rs->p->types[t] : NULL;
    return ty && has_members(ty) ? ty->count : 0;
}

/* Member i of type t: an enum's or scale's member, or a struct's field. */
static const q_type *member_of(const quy_ruleset *rs, size_t t, size_t i, const char *fn)
{
    const q_type *ty = type_at(rs, t, fn);
    if (!ty) return NULL;
    if (!has_members(ty))
        return qi_fail(QUY_EINVAL, "%s: type %zu is a %s: it has no members", fn, t, q_type_kind_name[ty->kind]), NULL;
    if (i >= ty->count) return qi_fail(QUY_EINVAL, "%s: type %zu has no member %zu (it has %u)", fn, t, i, ty->count), NULL;
    return ty;
}

const char *quy_type_member(const quy_ruleset *rs, size_t t, size_t i, const char *attr)
{
    const q_type *ty = member_of(rs, t, i, "quy_type_member");
    if (!ty) return NULL;
    if (!attr) return BAD("quy_type_member", "NULL attribute");
    const q_program *p = rs->p;
    uint32_t name = ty->kind == QT_STRUCT ? p->fields[ty->first + i].name : p->members[ty->first + i].name;
    uint32_t label = ty->kind == QT_STRUCT ? p->fields[ty->first + i].label : p->members[ty->first + i].label;
    if (!strcmp(attr, "name")) return prog_str(p, name);
    if (!strcmp(attr, "label")) return prog_str(p, label);
    return BAD("quy_type_member", "no attribute '%.60s' (name label)", attr);
}

quy_status quy_type_member_type(const quy_ruleset *rs, size_t t, size_t i, size_t *type)
{
    if (type) *type = SIZE_MAX;
    if (!type) return qi_fail(QUY_EINVAL, "quy_type_member_type: NULL argument");
    const q_type *ty = member_of(rs, t, i, "quy_type_member_type");
    if (!ty) return QUY_EINVAL;
    if (ty->kind != QT_STRUCT) return qi_fail(QUY_EINVAL, "quy_type_member_type: type %zu is a %s: its members have no type", t, q_type_kind_name[ty->kind]);
    *type = rs->p->fields[ty->first + i].type;
    return QUY_OK;
}
