/*
 * bytecode_verify.c — the verifier (bc_verify): what the VM trusts.
 */
#include "program.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "period.h"
#include "vm_fuse.h"

/* =====================================================================
 * What the VM trusts
 *
 * The VM (vm_exec.inc) and the batch steps check nothing that is listed
 * here; bc_verify() establishes every one of these properties of a program
 * before any record is rated with it, and each has a test that crafts a
 * file violating it (tests/unit/test_bytecode.c, tests/tools/qbc_edit.c,
 * tests/bytecode/):
 *
 *  T1  every table is present when its count is not 0 (generated from
 *      QUY_PROGRAM_TABLES);
 *  T2  every string id, index and enum value in a table is in range
 *      (generated from each field's CHK), every range (first, count) of a
 *      kind, rule, clause, type, hook lies inside its table;
 *  T3  the string pool is NUL-terminated and string 0 is ""; every string
 *      constant lies inside the pool; every constant is a valid value of
 *      its type (numbers: denominator > 0; bool 0/1; date, member: d = 1);
 *  T4  the fields, checks and rules of different kinds (and the fields of
 *      struct types) do not overlap: each belongs to exactly one owner; a
 *      kind's field i has slot i; clauses belong to their rule;
 *  T5  a field's default constant has the field's type (a member: one of
 *      the type's), and is there exactly when QF_DEFAULT says so;
 *  C1  every instruction reachable from an entry belongs to exactly one
 *      block (rate block, check, batch expression) and its operands are in
 *      range for that block's kind (slots, constants, rules of the kind,
 *      clauses, flags, hooks, adjust steps, loop registers, struct fields);
 *  C2  the stack never underflows and never exceeds QUY_MAX_STACK; every
 *      join sees the same depth, stack types and active loops;
 *  C3  every stack value has a type (number, bool, date, string, member,
 *      list), and every instruction gets the operand types that its
 *      QUY_OPCODE_TYPES declaration says (STREQ only on strings, arithmetic
 *      only on numbers, comparisons on two values of one type, a truth
 *      value a bool or a number (true when not 0), hook
 *      arguments of their parameters' types; a possibly absent value only
 *      as a hook argument); a constant pushed has its declared type;
 *  C4  loops are properly nested; QBEGIN is followed by its QNEXT, whose
 *      exit is its QEND; ELEM/ELEMF run only after QNEXT found an element
 *      (never on an exhausted list); QSTEP/QFILTER run only on an element
 *      and are the only backward jumps (to their QNEXT); so every loop and
 *      every run ends;
 *  C5  every path ends at HALT with no active loop and the block's result:
 *      nothing (rate block), a bool (check, a cap's condition), a number,
 *      date, member or bool (a quota's order key);
 *  C6  DECIDE, ADJUST, OUTCOME and UNRATED only in rate blocks; an
 *      adjustment hook's CALLHOOK is followed by an ADJUST of its step.
 * =================================================================== */

typedef struct vctx {
    q_program *p;
    char *err;
    size_t errsize;
} vctx;

__attribute__((format(printf, 2, 3))) static bool vfail(vctx *v, const char *fmt, ...)
{
    if (v->err && v->errsize) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(v->err, v->errsize, fmt, ap);
        va_end(ap);
    }
    return false;
}

static bool in_range(uint32_t first, uint32_t count, uint32_t n) { return first <= n && count <= n - first; }

/* ---------------------------------------------------------------------
 * Generated from program_tables.h: every table present when its count is
 * not 0, and every field's CHK (a string id, an index into a table, an
 * enum below its count).
 * ------------------------------------------------------------------- */

#define VCHK_ANY(x, arg, lab)
#define VCHK_STR(x, arg, lab)                                                                            \
    if ((x) >= p->nstr)                                                                                  \
        return vfail(v, "%s[%u]%s: string id %u out of range (nstr %u)", sect, i, lab, (unsigned)(x), p->nstr);
#define VCHK_REF(x, arg, lab)                                                                            \
    if ((x) >= p->arg)                                                                                   \
        return vfail(v, "%s[%u]%s: index %u out of range (" #arg " %u)", sect, i, lab, (unsigned)(x), p->arg);
#define VCHK_OREF(x, arg, lab)                                                                           \
    if ((x) != QUY_NONE && (x) >= p->arg)                                                                \
        return vfail(v, "%s[%u]%s: index %u out of range (" #arg " %u, or none)", sect, i, lab, (unsigned)(x), \
                     p->arg);
#define VCHK_LT(x, arg, lab)                                                                             \
    if ((x) >= (arg))                                                                                    \
        return vfail(v, "%s[%u]%s: %u is not a valid value (below " #arg " = %u)", sect, i, lab, (unsigned)(x), \
                     (unsigned)(arg));
#define VT_F(w, name, chk, arg) VCHK_##chk(e->name, arg, "." #name)
#define VT_S(w, chk, arg) VCHK_##chk(*e, arg, "")
#define VT_P(w, arr2, chk, arg) VCHK_##chk(p->arr2[i], arg, " (" #arr2 ")")
#define VT_NEED(arr, n, ...)                                                                             \
    if (p->n && !p->arr) return vfail(v, "%s: %u entries but no table", #arr, p->n);
#define VT_TABLE(arr, n, elem, section, FIELDS, extra, one)                                              \
    for (uint32_t i = 0; i < p->n; i++) {                                                                \
        const char *sect = section;                                                                      \
        const elem *e = &p->arr[i];                                                                      \
        (void)e;                                                                                         \
        (void)sect;                                                                                      \
        FIELDS(VT_F, VT_S, VT_P)                                                                         \
    }
#define VT_HEAD(w, name, chk, arg) VCHK_##chk(p->name, arg, "." #name)

static bool verify_fields(vctx *v)
{
    q_program *p = v->p;
    QUY_PROGRAM_TABLES(VT_NEED, VT_NEED, VT_NEED)
    {
        const char *sect = "program";
        uint32_t i = 0;
        QUY_PROGRAM_HEAD(VT_HEAD)
        QUY_PROGRAM_TAIL(VT_HEAD)
    }
    QUY_PROGRAM_TABLES(VT_TABLE, VT_TABLE, QT_NOFIELD_)
    return true;
}

/* The string pool and the constants: every string terminated inside the
 * pool, every constant a valid value of its type. */
static bool verify_consts(vctx *v)
{
    q_program *p = v->p;
    /* id 0 is "", and the pool ends in a NUL, so every string that starts
     * inside it is terminated inside it */
    if (p->nstr == 0 || !p->blob || p->blob_len == 0)
        return vfail(v, "string pool: empty (string 0 must be \"\")");
    if (p->blob[p->blob_len - 1] != 0) return vfail(v, "string pool: last byte (%u) is not NUL", p->blob_len - 1);
    if (p->blob[p->str_off[0]] != 0) return vfail(v, "string 0: not the empty string");

    for (uint32_t i = 0; i < p->nconsts; i++) {
        q_val c = p->consts[i];
        uint8_t t = p->const_type[i];
        switch (t) {
        case QT_INT: case QT_DECIMAL: case QT_PERCENT:
            if (c.d <= 0) return vfail(v, "constant %u: %s with denominator %lld", i, q_type_kind_name[t], (long long)c.d);
            if (t == QT_INT && c.d != 1) return vfail(v, "constant %u: int with denominator %lld", i, (long long)c.d);
            break;
        case QT_BOOL:
            if (c.d != 1 || (c.n != 0 && c.n != 1)) return vfail(v, "constant %u: bool is not 0 or 1", i);
            break;
        case QT_DATE:
            if (c.d != 1) return vfail(v, "constant %u: date with d = %lld", i, (long long)c.d);
            break;
        case QT_STRING:
            if (!prog_str_in_pool(p, c)) return vfail(v, "constant %u: string does not lie inside the string pool", i);
            break;
        case QT_ENUM: case QT_SCALE:
            if (c.n < 0 || c.d != 1) return vfail(v, "constant %u: member ordinal %lld/%lld", i, (long long)c.n, (long long)c.d);
            break;
        default:
            return vfail(v, "constant %u: a %s cannot be a constant", i, q_type_kind_name[t]);
        }
    }
    return true;
}

/* Marks table entries [first, first + count) as owned by `who`; an entry
 * already owned is an overlap. */
static bool claim(vctx *v, uint32_t *owner, uint32_t first, uint32_t count, uint32_t who, const char *what,
                  const char *whose)
{
    for (uint32_t j = first; j < first + count; j++) {
        if (owner[j] != QUY_NONE)
            return vfail(v, "%s %u belongs to %s %u and to %s %u (ranges overlap)", what, j, whose, owner[j], whose,
                         who);
        owner[j] = who;
    }
    return true;
}

/* A default constant's type is the field's, and an ordinal is a member. */
static bool verify_default(vctx *v, uint32_t i)
{
    const q_program *p = v->p;
    const q_field *f = &p->fields[i];
    if ((f->deflt != QUY_NONE) != ((f->flags & QF_DEFAULT) != 0))
        return vfail(v, "field %u: the default flag and the default constant disagree", i);
    if (f->deflt == QUY_NONE) return true;
    const q_type *t = &p->types[f->type];
    uint8_t ck = p->const_type[f->deflt];
    if (ck != t->kind)
        return vfail(v, "field %u ('%s'): its default, constant %u, is a %s, but the field is a %s", i,
                     prog_str(p, f->name), f->deflt, q_type_kind_name[ck], q_type_kind_name[t->kind]);
    if ((ck == QT_ENUM || ck == QT_SCALE) && (uint64_t)p->consts[f->deflt].n >= t->count)
        return vfail(v, "field %u ('%s'): default ordinal %lld, but the type has %u members", i, prog_str(p, f->name),
                     (long long)p->consts[f->deflt].n, t->count);
    return true;
}

/* Types and fields: ranges in bounds, no list of lists, struct fields in
 * slot order, no table entry owned twice. */
static bool verify_types(vctx *v, uint32_t *field_owner)
{
    q_program *p = v->p;
    for (uint32_t i = 0; i < p->ntypes; i++) {
        const q_type *t = &p->types[i];
        switch (t->kind) {
        case QT_LIST:
            if (t->elem >= p->ntypes)
                return vfail(v, "type %u: list element type %u out of range (ntypes %u)", i, t->elem, p->ntypes);
            if (p->types[t->elem].kind == QT_LIST) return vfail(v, "type %u: list of lists", i);
            break;
        case QT_ENUM: case QT_SCALE:
            if (!in_range(t->first, t->count, p->nmembers))
                return vfail(v, "type %u: members %u..+%u out of range (nmembers %u)", i, t->first, t->count,
                             p->nmembers);
            break;
        case QT_STRUCT:
            if (!in_range(t->first, t->count, p->nfields))
                return vfail(v, "type %u: fields %u..+%u out of range (nfields %u)", i, t->first, t->count,
                             p->nfields);
            for (uint32_t j = 0; j < t->count; j++) {
                const q_field *f = &p->fields[t->first + j];
                if (f->slot != j)
                    return vfail(v, "type %u: field %u has slot %u, expected %u", i, t->first + j, f->slot, j);
                uint8_t fk = p->types[f->type].kind;
                if (fk == QT_LIST || fk == QT_STRUCT)
                    return vfail(v, "type %u: field %u is a %s (a struct holds scalars)", i, t->first + j,
                                 q_type_kind_name[fk]);
            }
            if (!claim(v, field_owner, t->first, t->count, i, "field", "type")) return false;
            break;
        default:
            break;
        }
    }
    if (p->tier_type != QUY_NONE &&
        (p->types[p->tier_type].kind != QT_SCALE || p->types[p->tier_type].count != QO_NOT_RATED))
        return vfail(v, "tier type %u: not a scale of the %d tiers", p->tier_type, QO_NOT_RATED);
    for (uint32_t i = 0; i < p->nfields; i++) {
        if (p->fields[i].flags & ~(QF_OPTIONAL | QF_DEFAULT | QF_BATCH))
            return vfail(v, "field %u: unknown flags 0x%x", i, p->fields[i].flags);
        if (!verify_default(v, i)) return false;
    }
    return true;
}

/* Kinds: their fields, checks and rules are ranges in bounds, owned by
 * one kind each; a kind's fields are scalars or lists. */
static bool verify_kinds(vctx *v, uint32_t *field_owner, uint32_t *check_owner, uint32_t *rule_owner)
{
    q_program *p = v->p;
    for (uint32_t k = 0; k < p->nkinds; k++) {
        const q_kind *kd = &p->kinds[k];
        if (!in_range(kd->first_field, kd->nfields, p->nfields))
            return vfail(v, "kind %u: fields %u..+%u out of range (nfields %u)", k, kd->first_field, kd->nfields,
                         p->nfields);
        if (kd->nfields > 65536u) return vfail(v, "kind %u: %u fields exceed the 65536 slots", k, kd->nfields);
        for (uint32_t j = 0; j < kd->nfields; j++) {
            const q_field *f = &p->fields[kd->first_field + j];
            if (f->slot != j)
                return vfail(v, "kind %u: field %u has slot %u, expected %u", k, kd->first_field + j, f->slot, j);
            if (p->types[f->type].kind == QT_STRUCT)
                return vfail(v, "kind %u: field %u is a struct (only a list of structs)", k, kd->first_field + j);
        }
        if (!in_range(kd->first_check, kd->nchecks, p->nchecks))
            return vfail(v, "kind %u: checks %u..+%u out of range (nchecks %u)", k, kd->first_check, kd->nchecks,
                         p->nchecks);
        if (!in_range(kd->first_rule, kd->nrules, p->nrules))
            return vfail(v, "kind %u: rules %u..+%u out of range (nrules %u)", k, kd->first_rule, kd->nrules,
                         p->nrules);
        if (!claim(v, field_owner, kd->first_field, kd->nfields, k, "field", "kind") ||
            !claim(v, check_owner, kd->first_check, kd->nchecks, k, "check", "kind") ||
            !claim(v, rule_owner, kd->first_rule, kd->nrules, k, "rule", "kind"))
            return false;
    }
    for (uint32_t i = 0; i < p->nchecks; i++) {
        const q_check *c = &p->checks[i];
        uint32_t k = check_owner[i];
        if (k == QUY_NONE) return vfail(v, "check %u: belongs to no kind", i);
        const q_kind *kd = &p->kinds[k];
        if (c->field != QUY_NONE && !(c->field >= kd->first_field && c->field - kd->first_field < kd->nfields))
            return vfail(v, "check %u: field %u is not a field of kind %u", i, c->field, k);
    }
    return true;
}

/* Rules own their clauses; a clause reads slots of its rule's kind. */
static bool verify_rules(vctx *v, const uint32_t *rule_owner)
{
    q_program *p = v->p;
    for (uint32_t i = 0; i < p->nrules; i++) {
        const q_rule *r = &p->rules[i];
        if (r->flags & ~QR_OTHERWISE) return vfail(v, "rule %u: unknown flags 0x%x", i, r->flags);
        if (rule_owner[i] == QUY_NONE) return vfail(v, "rule %u: belongs to no kind", i);
        if (!in_range(r->first_clause, r->nclauses, p->nclauses))
            return vfail(v, "rule %u: clauses %u..+%u out of range (nclauses %u)", i, r->first_clause, r->nclauses,
                         p->nclauses);
        for (uint32_t j = 0; j < r->nclauses; j++)
            if (p->clauses[r->first_clause + j].rule != i)
                return vfail(v, "rule %u: clause %u names rule %u as its owner", i, r->first_clause + j,
                             p->clauses[r->first_clause + j].rule);
    }
    for (uint32_t i = 0; i < p->nclauses; i++) {
        const q_clause *c = &p->clauses[i];
        if (!in_range(c->first_read, c->nreads, p->nreads))
            return vfail(v, "clause %u: reads %u..+%u out of range (nreads %u)", i, c->first_read, c->nreads,
                         p->nreads);
        /* the slots a clause reads are slots of its rule's kind; a flag's
         * clause has no rule, so it is held to the widest kind */
        uint32_t limit = 0;
        if (c->rule != QUY_NONE) {
            limit = p->kinds[rule_owner[c->rule]].nfields;
        } else {
            for (uint32_t kk = 0; kk < p->nkinds; kk++)
                if (p->kinds[kk].nfields > limit) limit = p->kinds[kk].nfields;
        }
        for (uint32_t j = 0; j < c->nreads; j++)
            if (p->reads[c->first_read + j] >= limit)
                return vfail(v, "clause %u: reads slot %u, but its kind has %u fields", i, p->reads[c->first_read + j],
                             limit);
    }
    return true;
}

/* The batch steps: quotas, their keys and caps, against the kinds. */
static bool verify_batch(vctx *v)
{
    q_program *p = v->p;
    for (uint32_t i = 0; i < p->nquotas; i++) {
        const q_quota *q = &p->quotas[i];
        if (i > 0 && q->per != p->quotas[0].per) return vfail(v, "quota %u: groups by another field than quota 0", i);
        if (q->share.d <= 0 || q->share.n < 0)
            return vfail(v, "quota %u: share %lld/%lld is not a non-negative fraction", i, (long long)q->share.n,
                         (long long)q->share.d);
    }
    for (uint32_t i = 0; i < p->nqkeys; i++) {
        const q_qkey *k = &p->qkeys[i];
        if (k->key >= p->quotas[k->quota].nkeys || p->bexprs[k->expr].kind != k->kind)
            return vfail(v, "quota key %u: quota %u key %u kind %u expression %u out of range", i, k->quota, k->key,
                         k->kind, k->expr);
    }
    for (uint32_t i = 0; i < p->ncaps; i++) {
        const q_cap *c = &p->caps[i];
        if (c->bound == QCAP_TIER && c->tier > QO_HTXSNV) return vfail(v, "cap %u: bound %u is not a tier", i, c->tier);
        if (c->bound != QCAP_TIER) {
            if (c->slot >= p->kinds[c->kind].nfields) return vfail(v, "cap %u: slot %u out of range", i, c->slot);
            const q_field *f = &p->fields[p->kinds[c->kind].first_field + c->slot];
            uint8_t want = c->bound == QCAP_FIELD ? QT_SCALE : QT_STRING;
            if (p->types[f->type].kind != want || (c->bound == QCAP_FIELD && f->type != p->tier_type))
                return vfail(v, "cap %u: field in slot %u has the wrong type", i, c->slot);
        }
        uint32_t ex[2] = {c->when, c->unless};
        for (int j = 0; j < 2; j++)
            if (ex[j] != QUY_NONE && p->bexprs[ex[j]].kind != c->kind)
                return vfail(v, "cap %u: condition %u is an expression of another kind", i, ex[j]);
    }
    return true;
}

/* Hooks: parameters in range and passable, results scalar, adjustment
 * steps calling adjustment hooks. */
static bool verify_hooks(vctx *v)
{
    q_program *p = v->p;
    for (uint32_t i = 0; i < p->nparams; i++)
        if (p->types[p->params[i].type].kind == QT_STRUCT)
            return vfail(v, "hook parameter %u: a struct (only a list of structs can be passed)", i);
    for (uint32_t i = 0; i < p->nhooks; i++) {
        const q_hook *h = &p->hooks[i];
        if (h->result != QUY_NONE) {
            uint8_t rk = p->types[h->result].kind;
            if (rk == QT_LIST || rk == QT_STRUCT) return vfail(v, "hook %u: a %s result", i, q_type_kind_name[rk]);
        }
        if (!in_range(h->first_param, h->nparams, p->nparams))
            return vfail(v, "hook %u: parameters %u..+%u out of range (nparams %u)", i, h->first_param, h->nparams,
                         p->nparams);
        if (h->nparams > QUY_MAX_STACK)
            return vfail(v, "hook %u: %u parameters exceed the stack (%d)", i, h->nparams, QUY_MAX_STACK);
    }
    for (uint32_t i = 0; i < p->nadjusts; i++)
        if (p->hooks[p->adjusts[i].hook].result != QUY_NONE)
            return vfail(v, "adjust step %u: hook %u does not return an adjustment", i, p->adjusts[i].hook);
    return true;
}

/* Every table: generated field checks first (so every index used below
 * is in range), then the relations between tables. */
static bool verify_tables(vctx *v)
{
    q_program *p = v->p;
    if (!verify_fields(v) || !verify_consts(v)) return false;
    size_t n = (size_t)p->nfields + p->nchecks + p->nrules + 3;
    uint32_t *own = malloc(n * sizeof *own);
    if (!own) return vfail(v, "out of memory verifying the tables");
    for (size_t i = 0; i < n; i++) own[i] = QUY_NONE;
    uint32_t *field_owner = own, *check_owner = own + p->nfields + 1, *rule_owner = check_owner + p->nchecks + 1;
    bool ok = verify_types(v, field_owner) && verify_kinds(v, field_owner, check_owner, rule_owner) &&
              verify_rules(v, rule_owner) && verify_batch(v) && verify_hooks(v);
    free(own);
    return ok;
}

/* ---------------------------------------------------------------------
 * Code
 * ------------------------------------------------------------------- */

/* The kind whose check range holds check c (exactly one, verify_kinds). */
static uint32_t kind_of_check(const q_program *p, uint32_t c)
{
    for (uint32_t k = 0; k < p->nkinds; k++)
        if (c >= p->kinds[k].first_check && c - p->kinds[k].first_check < p->kinds[k].nchecks) return k;
    return QUY_NONE;
}

/* The type of a value on the abstract stack: a class (what the VM's q_val
 * holds), for a list also its type index; VT_NIL marks a value that may be
 * a hook's nil (LOADF c = 1), which only CALLHOOK accepts. */
enum { VT_NUM = 1, VT_BOOL, VT_DATE, VT_STR, VT_ORD, VT_LIST, VT_BAD };
#define VT_NIL 0x80u
#define VT_ANYVAL 0x7Fu /* a block's result: any value */
#define VT_CLASS(t) ((t) & 0x7Fu)
#define VT_LISTOF(type) (VT_LIST | ((uint32_t)(type) << 8))

static const char *vt_name(uint32_t t)
{
    static const char *const nm[] = {"nothing", "a number", "a bool", "a date", "a string", "a member",
                                     "a list", "a struct"};
    return (t & VT_NIL) ? "a value that may be absent" : nm[VT_CLASS(t) < VT_BAD + 1 ? VT_CLASS(t) : 0];
}

/* The stack type of a value of program type t. */
static uint32_t vt_of(const q_program *p, uint32_t t)
{
    switch (p->types[t].kind) {
    case QT_INT: case QT_DECIMAL: case QT_PERCENT: return VT_NUM;
    case QT_BOOL: return VT_BOOL;
    case QT_DATE: return VT_DATE;
    case QT_STRING: return VT_STR;
    case QT_ENUM: case QT_SCALE: return VT_ORD;
    case QT_LIST: return VT_LISTOF(t);
    default: return VT_BAD;
    }
}

static uint32_t vt_of_kind(uint8_t k)
{
    static const uint8_t m[QT__COUNT] = {[QT_INT] = VT_NUM,  [QT_DECIMAL] = VT_NUM, [QT_PERCENT] = VT_NUM,
                                          [QT_BOOL] = VT_BOOL, [QT_DATE] = VT_DATE,   [QT_STRING] = VT_STR,
                                          [QT_ENUM] = VT_ORD,  [QT_SCALE] = VT_ORD,   [QT_STRUCT] = VT_BAD,
                                          [QT_LIST] = VT_BAD};
    return k < QT__COUNT ? m[k] : VT_BAD;
}

/* A loop register's phase: HEAD before its QNEXT (from QBEGIN, or back
 * from QSTEP/QFILTER), ITER after QNEXT found an element (ELEM, QSTEP,
 * QFILTER allowed), DONE after QNEXT found none (only QEND allowed). */
enum { LP_HEAD, LP_ITER, LP_DONE };

typedef struct vloop {
    uint8_t reg;   /* loop register */
    uint8_t phase; /* LP_* */
    uint8_t kind;  /* q_quant */
    uint16_t slot; /* the list slot it iterates */
    uint32_t fold; /* stack type QSTEP folds */
    uint32_t end;  /* its QEND */
} vloop;

typedef struct vstate {
    int32_t depth;                /* operand stack depth */
    uint32_t nloops;              /* active loops, outermost first */
    vloop loop[QUY_MAX_LOOPS];
    uint32_t ty[QUY_MAX_STACK];   /* stack types, bottom first */
} vstate;

typedef struct vblock {
    uint32_t kind;  /* the kind whose slots the block reads */
    uint32_t check; /* check index, or QUY_NONE for the rate block */
    uint32_t expr;  /* batch expression index, or QUY_NONE */
    uint32_t want;  /* stack type it leaves at HALT; 0: nothing (rate block); VT_BAD: any scalar */
} vblock;

typedef struct vcode {
    vctx *v;
    q_program *p;
    vstate *st;      /* [ncode] */
    uint32_t *owner; /* [ncode]: block id, QUY_NONE if unreached */
    uint32_t *work;  /* [ncode] worklist */
    uint32_t nwork;
    vblock *blocks;
    uint32_t nblocks;
    uint32_t max_depth;
} vcode;

static void block_name(const vcode *c, uint32_t b, char *buf, size_t size)
{
    const vblock *bl = &c->blocks[b];
    const char *kn = prog_str(c->p, c->p->kinds[bl->kind].name);
    if (bl->expr != QUY_NONE)
        snprintf(buf, size, "batch expression %u of kind '%s'", bl->expr, kn);
    else if (bl->check == QUY_NONE)
        snprintf(buf, size, "the rate block of kind '%s'", kn);
    else
        snprintf(buf, size, "check %u of kind '%s'", bl->check, kn);
}

static bool same_state(const vstate *a, const vstate *b)
{
    if (a->nloops != b->nloops) return false;
    for (uint32_t i = 0; i < a->nloops; i++) {
        const vloop *x = &a->loop[i], *y = &b->loop[i];
        if (x->reg != y->reg || x->phase != y->phase || x->kind != y->kind || x->slot != y->slot ||
            x->fold != y->fold || x->end != y->end)
            return false;
    }
    for (int32_t i = 0; i < a->depth; i++)
        if (a->ty[i] != b->ty[i]) return false;
    return true;
}

/* Flow state `s` from instruction `from` into `to`. */
static bool flow(vcode *c, uint32_t blk, uint32_t from, uint32_t to, const vstate *s, bool fall)
{
    q_program *p = c->p;
    const char *fname = op_table[p->code[from].op].name;
    if (to >= p->ncode) {
        if (fall)
            return vfail(c->v, "instruction %u (%s): runs off the end of the code (ncode %u) without HALT", from,
                         fname, p->ncode);
        return vfail(c->v, "instruction %u (%s): jump target %u outside code (ncode %u)", from, fname, to, p->ncode);
    }
    if (!fall && to <= from && !(p->code[from].op == OP_QSTEP || p->code[from].op == OP_QFILTER))
        return vfail(c->v, "instruction %u (%s): backward jump to %u (only QSTEP and QFILTER jump back)", from, fname,
                     to);
    const char *tname = p->code[to].op < OP__COUNT ? op_table[p->code[to].op].name : "?";
    if (c->owner[to] == QUY_NONE) {
        c->owner[to] = blk;
        c->st[to] = *s;
        c->work[c->nwork++] = to;
        return true;
    }
    if (c->owner[to] != blk) {
        char a[160], b[160];
        block_name(c, blk, a, sizeof a);
        block_name(c, c->owner[to], b, sizeof b);
        return vfail(c->v, "instruction %u (%s): reached from both %s (via instruction %u) and %s; missing HALT?", to,
                     tname, a, from, b);
    }
    const vstate *t = &c->st[to];
    if (t->depth != s->depth)
        return vfail(c->v, "instruction %u (%s): stack depth %d when reached from instruction %u, but %d on another path",
                     to, tname, s->depth, from, t->depth);
    if (!same_state(t, s))
        return vfail(c->v,
                     "instruction %u (%s): the stack types or the active loops differ between instruction %u and "
                     "another path",
                     to, tname, from);
    return true;
}

static const q_field *slot_field(const q_program *p, const vblock *bl, uint32_t slot)
{
    return &p->fields[p->kinds[bl->kind].first_field + slot];
}

/* Index of loop register r in the active loops, or -1. */
static int find_loop(const vstate *s, uint32_t r)
{
    for (uint32_t j = 0; j < s->nloops; j++)
        if (s->loop[j].reg == r) return (int)j;
    return -1;
}

/* Operands, by format: every index in range for the block's kind. */
static bool check_operands(vcode *c, const vblock *bl, uint32_t i)
{
    q_program *p = c->p;
    vctx *v = c->v;
    const q_kind *kd = &p->kinds[bl->kind];
    const q_instr in = p->code[i];
    const op_info *oi = &op_table[in.op];
    const char *nm = oi->name;
    switch (oi->format) {
    case OPF_NONE:
    case OPF_JUMP:
    case OPF_FUSED: /* verify_fused: its operands are its body's */
        break;
    case OPF_K:
        if (in.b >= p->nconsts)
            return vfail(v, "instruction %u (%s): constant index %u out of range (nconsts %u)", i, nm, in.b, p->nconsts);
        break;
    case OPF_SLOT:
    case OPF_SLOTJ:
        if (in.a >= kd->nfields)
            return vfail(v, "instruction %u (%s): slot %u out of range (kind '%s' has %u fields)", i, nm, in.a,
                         prog_str(p, kd->name), kd->nfields);
        if (in.op == OP_LOADF && in.c > 1) return vfail(v, "instruction %u (%s): unknown mode c = %u (0 or 1)", i, nm, in.c);
        if (in.op == OP_PERIODDATE && (p->types[slot_field(p, bl, in.a)->type].kind != QT_STRING || !q_period_spec_ok(in.b)))
            return vfail(v, "instruction %u (%s): slot %u ('%s') is not a string, or %u names no day of a period", i, nm,
                         in.a, prog_str(p, slot_field(p, bl, in.a)->name), in.b);
        if (in.op == OP_LEN && p->types[slot_field(p, bl, in.a)->type].kind != QT_LIST)
            return vfail(v, "instruction %u (%s): slot %u ('%s') is not a list", i, nm, in.a,
                         prog_str(p, slot_field(p, bl, in.a)->name));
        break;
    case OPF_LOOP:
        if (in.a >= QUY_MAX_LOOPS)
            return vfail(v, "instruction %u (%s): loop register %u out of range (QUY_MAX_LOOPS %d)", i, nm, in.a,
                         QUY_MAX_LOOPS);
        if (in.b >= kd->nfields)
            return vfail(v, "instruction %u (%s): list slot %u out of range (kind '%s' has %u fields)", i, nm, in.b,
                         prog_str(p, kd->name), kd->nfields);
        if (p->types[slot_field(p, bl, in.b)->type].kind != QT_LIST)
            return vfail(v, "instruction %u (%s): slot %u ('%s') is not a list", i, nm, in.b,
                         prog_str(p, slot_field(p, bl, in.b)->name));
        if (in.c > QK__LAST) return vfail(v, "instruction %u (%s): unknown quantifier kind %u", i, nm, in.c);
        break;
    case OPF_QEND:
        if (in.b >= p->ntypes)
            return vfail(v, "instruction %u (%s): result type %u out of range (ntypes %u)", i, nm, in.b, p->ntypes);
        /* fall through */
    case OPF_ESLOT:
    case OPF_LOOPJ:
    case OPF_QSTEP:
        if (in.a >= QUY_MAX_LOOPS)
            return vfail(v, "instruction %u (%s): loop register %u out of range (QUY_MAX_LOOPS %d)", i, nm, in.a,
                         QUY_MAX_LOOPS);
        break;
    case OPF_CLAUSE:
    case OPF_CMETA:
        if (in.a >= p->nclauses)
            return vfail(v, "instruction %u (%s): clause %u out of range (nclauses %u)", i, nm, in.a, p->nclauses);
        break;
    case OPF_RULE:
        if (bl->check != QUY_NONE || bl->expr != QUY_NONE)
            return vfail(v, "instruction %u (%s): DECIDE outside a rate block", i, nm);
        if (in.a >= p->nrules)
            return vfail(v, "instruction %u (%s): rule %u out of range (nrules %u)", i, nm, in.a, p->nrules);
        if (!(in.a >= kd->first_rule && in.a - kd->first_rule < kd->nrules))
            return vfail(v, "instruction %u (%s): rule %u is not a rule of kind '%s'", i, nm, in.a, prog_str(p, kd->name));
        break;
    case OPF_FLAG:
        if (in.a >= p->nflagdefs)
            return vfail(v, "instruction %u (%s): flag %u out of range (nflags %u)", i, nm, in.a, p->nflagdefs);
        break;
    case OPF_HOOK:
        if (in.a >= p->nhooks)
            return vfail(v, "instruction %u (%s): hook %u out of range (nhooks %u)", i, nm, in.a, p->nhooks);
        if (in.b != p->hooks[in.a].nparams)
            return vfail(v, "instruction %u (%s): %u arguments, but hook '%s' takes %u", i, nm, in.b,
                         prog_str(p, p->hooks[in.a].name), p->hooks[in.a].nparams);
        /* an adjustment is consumed by the ADJUST of a step of this hook */
        if (p->hooks[in.a].result == QUY_NONE &&
            (i + 1 >= p->ncode || p->code[i + 1].op != OP_ADJUST || p->code[i + 1].a >= p->nadjusts ||
             p->adjusts[p->code[i + 1].a].hook != in.a))
            return vfail(v, "instruction %u (%s): hook '%s' returns an adjustment: an ADJUST of its step must follow",
                         i, nm, prog_str(p, p->hooks[in.a].name));
        break;
    case OPF_ADJUST:
        if (bl->check != QUY_NONE || bl->expr != QUY_NONE)
            return vfail(v, "instruction %u (%s): ADJUST outside a rate block", i, nm);
        if (in.a >= p->nadjusts)
            return vfail(v, "instruction %u (%s): adjust step %u out of range (nadjusts %u)", i, nm, in.a, p->nadjusts);
        if (p->adjusts[in.a].kind != bl->kind)
            return vfail(v, "instruction %u (%s): adjust step %u is not a step of kind '%s'", i, nm, in.a,
                         prog_str(p, kd->name));
        if (i == 0 || p->code[i - 1].op != OP_CALLHOOK || p->code[i - 1].a != p->adjusts[in.a].hook)
            return vfail(v, "instruction %u (%s): must follow the CALLHOOK of its step's hook", i, nm);
        break;
    }
    return true;
}

/* ---------------------------------------------------------------------
 * Operand types, from QUY_OPCODE_TYPES (opcodes.h)
 * ------------------------------------------------------------------- */

enum { VIN_NONE, VIN_ANY, VIN_BOOL, VIN_NUM, VIN_NUM2, VIN_STR2, VIN_EQ2, VIN_ORD2, VIN_FOLD, VIN_ARGS };
enum { VOUT_NONE, VOUT_BOOL, VOUT_NUM, VOUT_DATE, VOUT_TIER, VOUT_SAME, VOUT_CONST, VOUT_SLOT, VOUT_ELEM, VOUT_LOOP, VOUT_HOOK };

typedef struct vsig {
    uint8_t declared, in, out;
} vsig;

static const vsig op_sig[OP__COUNT] = {
#define OPT_SIG(name, in, out) [OP_##name] = {1, VIN_##in, VOUT_##out},
    QUY_OPCODE_TYPES(OPT_SIG)
#undef OPT_SIG
};

/* The element type a loop register yields: the list's scalar element, or
 * field `f` of its struct element (QUY_NONE for ELEM). */
static uint32_t elem_type(const q_program *p, const vblock *bl, const vloop *l, uint32_t f)
{
    const q_type *lt = &p->types[slot_field(p, bl, l->slot)->type];
    const q_type *et = &p->types[lt->elem];
    return f == QUY_NONE ? lt->elem : p->fields[et->first + f].type;
}

/* Pops the instruction's operands from s, checking their types. */
static bool type_inputs(vcode *c, uint32_t i, vstate *s, uint32_t *popped)
{
    const q_program *p = c->p;
    const q_instr in = p->code[i];
    const char *nm = op_table[in.op].name;
    uint8_t how = op_sig[in.op].in;
    int npop = how == VIN_ARGS ? (int)in.b : op_table[in.op].pop;
    if (s->depth < npop)
        return vfail(c->v, "instruction %u (%s): stack underflow: needs %d values, has %d", i, nm, npop, s->depth);
    const uint32_t *x = &s->ty[s->depth - npop];
    *popped = npop ? x[npop - 1] : 0;
    uint32_t want = 0;
    switch (how) {
    case VIN_NONE: case VIN_ANY: break;
    case VIN_BOOL: want = VT_BOOL; break;
    case VIN_NUM: case VIN_NUM2: want = VT_NUM; break;
    case VIN_STR2: want = VT_STR; break;
    case VIN_EQ2:
    case VIN_ORD2:
        if (x[0] != x[1] || (x[0] != VT_NUM && x[0] != VT_DATE && x[0] != VT_ORD && (how == VIN_ORD2 || x[0] != VT_BOOL)))
            return vfail(c->v, "instruction %u (%s): cannot compare %s with %s", i, nm, vt_name(x[0]), vt_name(x[1]));
        break;
    case VIN_FOLD: {
        int l = find_loop(s, in.a);
        want = l >= 0 ? s->loop[l].fold : VT_BOOL;
        break;
    }
    case VIN_ARGS: {
        const q_hook *h = &p->hooks[in.a];
        for (uint32_t j = 0; j < in.b; j++) {
            uint32_t pt = vt_of(p, p->params[h->first_param + j].type);
            if ((x[j] & ~VT_NIL) != pt)
                return vfail(c->v, "instruction %u (%s): argument %u of hook '%s' is %s, but its parameter is %s", i, nm,
                             j + 1, prog_str(p, h->name), vt_name(x[j]), vt_name(pt));
        }
        break;
    }
    }
    /* a truth value: a bool, or a number (true when not 0: the VM tests
     * n != 0, and a number's denominator is positive) */
    for (int j = 0; want && j < npop; j++)
        if (x[j] != want && !(want == VT_BOOL && x[j] == VT_NUM))
            return vfail(c->v, "instruction %u (%s): operand %d is %s, but %s takes %s", i, nm, j + 1, vt_name(x[j]), nm,
                         vt_name(want));
    s->depth -= npop;
    return true;
}

/* Pushes the instruction's results onto s. */
static bool type_outputs(vcode *c, const vblock *bl, uint32_t i, vstate *s, uint32_t popped)
{
    const q_program *p = c->p;
    const q_instr in = p->code[i];
    const char *nm = op_table[in.op].name;
    int npush = op_table[in.op].push;
    uint32_t t = 0;
    switch (op_sig[in.op].out) {
    case VOUT_NONE: break;
    case VOUT_BOOL: t = VT_BOOL; break;
    case VOUT_NUM: t = VT_NUM; break;
    case VOUT_DATE: t = VT_DATE; break;
    case VOUT_TIER: t = VT_ORD; break;
    case VOUT_SAME: t = popped; break;
    case VOUT_CONST: t = vt_of_kind(p->const_type[in.b]); break;
    case VOUT_SLOT:
        t = vt_of(p, slot_field(p, bl, in.a)->type);
        if (in.op == OP_LOADF && in.c == 1) t |= VT_NIL;
        break;
    case VOUT_ELEM: {
        int l = find_loop(s, in.a);
        if (l < 0) return vfail(c->v, "instruction %u (%s): loop register %u is not active", i, nm, in.a);
        t = vt_of(p, elem_type(p, bl, &s->loop[l], in.op == OP_ELEMF ? in.b : QUY_NONE));
        break;
    }
    case VOUT_LOOP: {
        int l = find_loop(s, in.a);
        uint8_t qk = l < 0 ? QK_ALL : s->loop[l].kind;
        t = qk <= QK_NONE ? VT_BOOL : qk == QK_COUNT || qk == QK_RUN ? VT_NUM : s->loop[l].fold;
        /* b is the type the explanation shows for sum, min and max */
        if ((qk == QK_SUM || qk == QK_MIN || qk == QK_MAX) && vt_of(p, in.b) != t)
            return vfail(c->v, "instruction %u (%s): result type %u is %s, but the loop yields %s", i, nm, in.b,
                         vt_name(vt_of(p, in.b)), vt_name(t));
        break;
    }
    case VOUT_HOOK: {
        uint32_t r = p->hooks[in.a].result;
        t = r == QUY_NONE ? VT_BOOL : vt_of(p, r);
        break;
    }
    }
    if (npush && (t == 0 || VT_CLASS(t) == VT_BAD))
        return vfail(c->v, "instruction %u (%s): pushes %s, which the VM cannot hold", i, nm, vt_name(t));
    if (s->depth + npush > QUY_MAX_STACK)
        return vfail(c->v, "instruction %u (%s): stack overflow: depth %d exceeds QUY_MAX_STACK %d", i, nm,
                     s->depth + npush, QUY_MAX_STACK);
    for (int j = 0; j < npush; j++) s->ty[s->depth++] = t;
    if ((uint32_t)s->depth > c->max_depth) c->max_depth = (uint32_t)s->depth;
    return true;
}

/* =====================================================================
 * Control flow: the loops and the successors of each instruction. Every
 * special case of the instruction set's control flow is here.
 *
 * Loops: QBEGIN is followed by its QNEXT, whose exit target is its QEND;
 * only QSTEP and QFILTER jump back, to their loop's QNEXT, and only from
 * the ITER phase; QNEXT leaves HEAD for ITER (an element) or DONE (none);
 * ELEM/ELEMF need ITER, QEND needs DONE. Since each jump back advances the
 * loop's index and QNEXT exits once it reaches the count, every loop ends.
 * =================================================================== */

/* The loop checks: `s` is the state after the instruction's operands were
 * popped (and before anything was pushed). */
static bool control_loops(vcode *c, const vblock *bl, uint32_t i, vstate *s)
{
    q_program *p = c->p;
    vctx *v = c->v;
    const q_instr in = p->code[i];
    const char *nm = op_table[in.op].name;
    int l = find_loop(s, in.a);
    vloop *inner = s->nloops ? &s->loop[s->nloops - 1] : NULL;
    static const char *const phase[] = {"before its first QNEXT", "on an element", "after its last element"};
    switch (in.op) {
    case OP_QBEGIN: {
        if (l >= 0) return vfail(v, "instruction %u (%s): loop register %u is already in use", i, nm, in.a);
        if (s->nloops >= QUY_MAX_LOOPS)
            return vfail(v, "instruction %u (%s): more than %d nested loops", i, nm, QUY_MAX_LOOPS);
        uint32_t nx = i + 1, end = nx < p->ncode ? p->code[nx].b : QUY_NONE;
        if (nx >= p->ncode || p->code[nx].op != OP_QNEXT || p->code[nx].a != in.a)
            return vfail(v, "instruction %u (%s): not followed by the QNEXT of loop register %u", i, nm, in.a);
        if (end >= p->ncode || end <= nx || p->code[end].op != OP_QEND || p->code[end].a != in.a)
            return vfail(v, "instruction %u (QNEXT): its exit %u is not the QEND of loop register %u (a loop must "
                         "exit past its body)", nx, end, in.a);
        if (p->code[end].b >= p->ntypes)
            return vfail(v, "instruction %u (QEND): result type %u out of range (ntypes %u)", end, p->code[end].b,
                         p->ntypes);
        vloop nl = {.reg = (uint8_t)in.a, .phase = LP_HEAD, .kind = in.c, .slot = (uint16_t)in.b, .end = end};
        if (in.c <= QK_COUNT || in.c == QK_RUN) nl.fold = VT_BOOL;
        else if (in.c == QK_SUM) nl.fold = VT_NUM;
        else nl.fold = vt_of(p, p->code[end].b);
        if (nl.fold != VT_BOOL && nl.fold != VT_NUM && nl.fold != VT_DATE && nl.fold != VT_ORD)
            return vfail(v, "instruction %u (%s): a %s of %s", i, nm, in.c == QK_MIN ? "min" : "max", vt_name(nl.fold));
        s->loop[s->nloops++] = nl;
        return true;
    }
    case OP_QNEXT: case OP_QSTEP: case OP_QFILTER: case OP_QEND: {
        if (!inner) return vfail(v, "instruction %u (%s): loop register %u is not active (no loop is)", i, nm, in.a);
        if (inner->reg != in.a)
            return vfail(v, "instruction %u (%s): loop register %u is not the innermost loop (%u is)", i, nm, in.a,
                         inner->reg);
        uint8_t need = in.op == OP_QNEXT ? LP_HEAD : in.op == OP_QEND ? LP_DONE : LP_ITER;
        if (inner->phase != need)
            return vfail(v, "instruction %u (%s): loop register %u is %s here (%s needs it %s)", i, nm, in.a,
                         phase[inner->phase], nm, phase[need]);
        if (in.op == OP_QEND && i != inner->end)
            return vfail(v, "instruction %u (%s): not the QEND at %u that loop register %u exits to", i, nm,
                         inner->end, in.a);
        return true; /* QEND ends the loop in control_flow, after its result is typed */
    }
    case OP_ELEM: case OP_ELEMF: {
        if (l < 0) return vfail(v, "instruction %u (%s): loop register %u is not active", i, nm, in.a);
        if (s->loop[l].phase != LP_ITER)
            return vfail(v, "instruction %u (%s): loop register %u is %s here: there is no element to read", i, nm,
                         in.a, phase[s->loop[l].phase]);
        const q_type *et = &p->types[p->types[slot_field(p, bl, s->loop[l].slot)->type].elem];
        if (in.op == OP_ELEM && et->kind == QT_STRUCT)
            return vfail(v, "instruction %u (%s): loop register %u iterates a list of structs; use ELEMF", i, nm, in.a);
        if (in.op == OP_ELEMF && et->kind != QT_STRUCT)
            return vfail(v, "instruction %u (%s): loop register %u iterates a list of %s, not of structs", i, nm, in.a,
                         q_type_kind_name[et->kind]);
        if (in.op == OP_ELEMF && in.b >= et->count)
            return vfail(v, "instruction %u (%s): struct field %u out of range (the struct has %u fields)", i, nm, in.b,
                         et->count);
        return true;
    }
    case OP_OUTCOME: case OP_UNRATED:
        if (bl->check != QUY_NONE || bl->expr != QUY_NONE)
            return vfail(v, "instruction %u (%s): outside a rate block", i, nm);
        return true;
    default:
        return true;
    }
}

/* The successors of instruction i, given the state `s` after it. */
static bool control_flow(vcode *c, uint32_t blk, uint32_t i, vstate *s)
{
    q_program *p = c->p;
    vctx *v = c->v;
    const vblock *bl = &c->blocks[blk];
    const q_instr in = p->code[i];
    const char *nm = op_table[in.op].name;
    switch (in.op) {
    case OP_HALT:
        if (s->nloops)
            return vfail(v, "instruction %u (%s): loop register %u still active at HALT", i, nm,
                         s->loop[s->nloops - 1].reg);
        if (s->depth != (bl->want ? 1 : 0))
            return vfail(v, "instruction %u (%s): stack depth %d at HALT, %s must end with %d", i, nm, s->depth,
                         bl->check == QUY_NONE && bl->expr == QUY_NONE ? "a rate block" : "a check or batch expression",
                         bl->want ? 1 : 0);
        if (bl->want == VT_ANYVAL) return true;
        if (bl->want && bl->want != VT_BAD && s->ty[0] != bl->want)
            return vfail(v, "instruction %u (%s): the block leaves %s, but its use needs %s", i, nm, vt_name(s->ty[0]),
                         vt_name(bl->want));
        if (bl->want == VT_BAD && s->ty[0] != VT_NUM && s->ty[0] != VT_DATE && s->ty[0] != VT_ORD && s->ty[0] != VT_BOOL)
            return vfail(v, "instruction %u (%s): the block leaves %s, which the batch cannot use", i, nm,
                         vt_name(s->ty[0]));
        return true;
    case OP_JMP:
        return flow(c, blk, i, in.b, s, false);
    case OP_QEND:
        s->nloops--;
        break;
    case OP_QSTEP: /* back to the loop's QNEXT, the next element */
    case OP_QFILTER: { /* taken: the element skipped, back to QNEXT; else on */
        if (in.b >= i || p->code[in.b].op != OP_QNEXT || p->code[in.b].a != in.a)
            return vfail(v, "instruction %u (%s): target %u is not the QNEXT heading loop register %u", i, nm, in.b,
                         in.a);
        vstate back = *s;
        back.loop[back.nloops - 1].phase = LP_HEAD;
        if (in.op == OP_QSTEP) return flow(c, blk, i, in.b, &back, false);
        return flow(c, blk, i, in.b, &back, false) && flow(c, blk, i, i + 1, s, true);
    }
    case OP_QNEXT: { /* an element: ITER, on; none: DONE, to the QEND */
        vstate done = *s;
        done.loop[done.nloops - 1].phase = LP_DONE;
        s->loop[s->nloops - 1].phase = LP_ITER;
        return flow(c, blk, i, in.b, &done, false) && flow(c, blk, i, i + 1, s, true);
    }
    case OP_JFKEEP:
    case OP_JTKEEP: { /* taken: the value stays; fall-through: it is popped */
        vstate fall = *s;
        fall.depth--;
        return flow(c, blk, i, in.b, s, false) && flow(c, blk, i, i + 1, &fall, true);
    }
    case OP_IFABSENT:
        /* c = 1: the rule fails instead; the VM then takes the failure
         * jump of the CLAUSE just before b, so that is a successor too */
        if (in.c > 1) return vfail(v, "instruction %u (%s): unknown mode c = %u (0 or 1)", i, nm, in.c);
        if (in.c == 1) {
            if (in.b == 0 || in.b > p->ncode || p->code[in.b - 1].op != OP_CLAUSE)
                return vfail(v, "instruction %u (%s): with c = 1 the target %u must follow a CLAUSE", i, nm, in.b);
            if (!flow(c, blk, i, p->code[in.b - 1].b, s, false)) return false;
        }
        break;
    default:
        break;
    }
    switch (op_table[in.op].format) {
    case OPF_JUMP: case OPF_SLOTJ: case OPF_LOOPJ: case OPF_CLAUSE: case OPF_RULE:
        if (!flow(c, blk, i, in.b, s, false)) return false;
        break;
    default:
        break;
    }
    return flow(c, blk, i, i + 1, s, true);
}

/* A fused instruction (QUY_FUSED in opcodes.h; runtime/vm_fuse.c): the
 * fast path of the instructions after it (its body, which the tracing VM
 * runs instead). Valid only as exactly the fusion of its body: the matcher
 * the compiler uses derives the operands from the body and they must be
 * the instruction's. Where its fast path continues (past the body, the
 * failure target of the CLAUSE that ends it, the target of the JFKEEP that
 * ends it) and with what stack are then the body's own, so it flows into
 * its body alone, which is checked as any other code. */
static bool verify_fused(vcode *c, uint32_t blk, uint32_t i, const vstate *s)
{
    return flow(c, blk, i, i + 1, s, true);
}

/* After every block: each reached fused instruction is exactly the fusion
 * of its (verified) body; checked last, so an error in the body itself is
 * reported as such. */
static bool verify_fusions(vcode *c)
{
    for (uint32_t i = 0; i < c->p->ncode; i++) {
        const q_instr in = c->p->code[i];
        if (c->owner[i] == QUY_NONE || in.op >= OP__COUNT || !op_fuse_len[in.op]) continue;
        q_instr f;
        uint32_t len = vm_fuse_match(c->p, i + 1, in.op, &f);
        if (!len || f.a != in.a || f.b != in.b || f.c != in.c)
            return vfail(c->v, "instruction %u (%s): not the fusion of the %u instructions after it", i,
                         op_table[in.op].name, (unsigned)op_fuse_len[in.op]);
    }
    return true;
}

/* Checks one instruction reached with its recorded state, and flows to its
 * successors. */
static bool step(vcode *c, uint32_t blk, uint32_t i)
{
    q_program *p = c->p;
    const vblock *bl = &c->blocks[blk];
    const q_instr in = p->code[i];
    vstate s = c->st[i];
    if (in.op >= OP__COUNT) return vfail(c->v, "instruction %u: unknown opcode %u (OP__COUNT %u)", i, in.op, OP__COUNT);
    if (op_fuse_len[in.op]) return verify_fused(c, blk, i, &s);
    if (!op_sig[in.op].declared)
        return vfail(c->v, "instruction %u (%s): the opcode has no operand types (QUY_OPCODE_TYPES)", i,
                     op_table[in.op].name);
    uint32_t popped = 0;
    return check_operands(c, bl, i) && type_inputs(c, i, &s, &popped) && control_loops(c, bl, i, &s) &&
           type_outputs(c, bl, i, &s, popped) && control_flow(c, blk, i, &s);
}

/* What each batch expression must leave: a bool for a cap's condition, a
 * number, date or rank for a quota's order key. */
static bool bexpr_wants(vctx *v, uint32_t *want)
{
    q_program *p = v->p;
    for (uint32_t i = 0; i < p->nbexprs; i++) want[i] = 0;
    for (uint32_t i = 0; i < p->ncaps; i++) {
        uint32_t ex[2] = {p->caps[i].when, p->caps[i].unless};
        for (int j = 0; j < 2; j++)
            if (ex[j] != QUY_NONE) want[ex[j]] = VT_BOOL;
    }
    for (uint32_t i = 0; i < p->nqkeys; i++) {
        if (want[p->qkeys[i].expr] == VT_BOOL)
            return vfail(v, "batch expression %u: both a cap's condition and a quota's order key", p->qkeys[i].expr);
        want[p->qkeys[i].expr] = VT_BAD;
    }
    for (uint32_t i = 0; i < p->nbexprs; i++)
        if (!want[i]) want[i] = VT_ANYVAL; /* used by nothing: any value */
    return true;
}

static bool verify_code(vctx *v)
{
    q_program *p = v->p;
    vcode c = {.v = v, .p = p};
    bool ok = false;
    size_t n = p->ncode ? p->ncode : 1;
    c.st = calloc(n, sizeof *c.st);
    c.owner = malloc(n * sizeof *c.owner);
    c.work = malloc(n * sizeof *c.work);
    c.blocks = malloc(((size_t)p->nkinds + p->nchecks + p->nbexprs + 1) * sizeof *c.blocks);
    uint32_t *want = malloc(((size_t)p->nbexprs + 1) * sizeof *want);
    if (!c.st || !c.owner || !c.work || !c.blocks || !want) {
        vfail(v, "out of memory verifying %u instructions", p->ncode);
        goto done;
    }
    for (uint32_t i = 0; i < p->ncode; i++) c.owner[i] = QUY_NONE;

    if (!bexpr_wants(v, want)) goto done;
    for (uint32_t k = 0; k < p->nkinds; k++)
        if (p->kinds[k].entry != QUY_NONE) c.blocks[c.nblocks++] = (vblock){k, QUY_NONE, QUY_NONE, 0};
    for (uint32_t i = 0; i < p->nchecks; i++)
        c.blocks[c.nblocks++] = (vblock){kind_of_check(p, i), i, QUY_NONE, VT_BOOL};
    for (uint32_t i = 0; i < p->nbexprs; i++) c.blocks[c.nblocks++] = (vblock){p->bexprs[i].kind, QUY_NONE, i, want[i]};

    for (uint32_t b = 0; b < c.nblocks; b++) {
        uint32_t e = c.blocks[b].expr != QUY_NONE    ? p->bexprs[c.blocks[b].expr].entry
                     : c.blocks[b].check == QUY_NONE ? p->kinds[c.blocks[b].kind].entry
                                                     : p->checks[c.blocks[b].check].entry;
        char name[160];
        block_name(&c, b, name, sizeof name);
        if (c.owner[e] != QUY_NONE) {
            char other[160];
            block_name(&c, c.owner[e], other, sizeof other);
            vfail(v, "instruction %u: entry of %s is already part of %s", e, name, other);
            goto done;
        }
        c.owner[e] = b;
        c.st[e] = (vstate){.depth = 0};
        c.nwork = 0;
        c.work[c.nwork++] = e;
        while (c.nwork) {
            uint32_t i = c.work[--c.nwork];
            if (!step(&c, b, i)) goto done;
        }
    }
    if (!verify_fusions(&c)) goto done;
    p->max_stack = c.max_depth;
    ok = true;
done:
    free(c.st);
    free(c.owner);
    free(c.work);
    free(c.blocks);
    free(want);
    return ok;
}

bool bc_verify(q_program *p, char *err, size_t errsize)
{
    vctx v = {.p = p, .err = err, .errsize = errsize};
    if (err && errsize) err[0] = 0;
    return verify_tables(&v) && verify_code(&v);
}

