/*
 * bytecode_verify.c — the verifier (bc_verify): what the VM trusts.
 */
#include "program.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* =====================================================================
 * The verifier
 *
 * First the tables: every string id, every index and every range in
 * bounds. Then the code, one block per entry (each kind's rate block, each
 * check): a walk of the control-flow graph from the entry that carries an
 * abstract state — stack depth and the stack of active loop registers —
 * to every reachable instruction. Each reachable instruction belongs to
 * exactly one block (that is how blocks are delimited: a block is what its
 * entry reaches), its operands are checked against that block's kind, and
 * every join point must see the same state along every path. Jumps go
 * forward, except QSTEP and QFILTER which return to their loop's QNEXT, so every run
 * ends; every path must end at HALT with an empty loop stack and the
 * block's result depth (0 for a rate block, 1 — the bool — for a check).
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
        case QT_STRING: {
            uintptr_t s = (uintptr_t)c.n, b0 = (uintptr_t)p->blob;
            if (s < b0 || s - b0 > p->blob_len || c.d < 0 || (uint64_t)c.d > p->blob_len - (s - b0))
                return vfail(v, "constant %u: string does not lie inside the string pool", i);
            break;
        }
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

typedef struct vstate {
    int32_t depth;                  /* operand stack depth; -1: not reached yet */
    uint32_t nloops;                /* active loop registers */
    uint8_t order[QUY_MAX_LOOPS];   /* active registers, outermost first */
    uint16_t lslot[QUY_MAX_LOOPS];  /* the list slot each register iterates */
} vstate;

typedef struct vblock {
    uint32_t kind;  /* the kind whose slots the block reads */
    uint32_t check; /* check index, or QUY_NONE for the rate block */
    uint32_t expr;  /* batch expression index, or QUY_NONE */
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

static bool same_loops(const vstate *a, const vstate *b)
{
    if (a->nloops != b->nloops) return false;
    for (uint32_t i = 0; i < a->nloops; i++)
        if (a->order[i] != b->order[i] || a->lslot[a->order[i]] != b->lslot[b->order[i]]) return false;
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
    if (!same_loops(t, s))
        return vfail(c->v, "instruction %u (%s): active loops differ between instruction %u and another path", to, tname,
                     from);
    return true;
}

static const q_field *slot_field(const q_program *p, const vblock *bl, uint32_t slot)
{
    return &p->fields[p->kinds[bl->kind].first_field + slot];
}

/* Checks one instruction reached with state `s`, and flows to its successors. */
static bool step(vcode *c, uint32_t blk, uint32_t i)
{
    q_program *p = c->p;
    vctx *v = c->v;
    const vblock *bl = &c->blocks[blk];
    const q_kind *kd = &p->kinds[bl->kind];
    const q_instr in = p->code[i];
    vstate s = c->st[i];

    if (in.op >= OP__COUNT) return vfail(v, "instruction %u: unknown opcode %u (OP__COUNT %u)", i, in.op, OP__COUNT);
    const op_info *oi = &op_table[in.op];
    const char *nm = oi->name;
    int pop = oi->pop, push = oi->push;

    /* operands, by format */
    switch (oi->format) {
    case OPF_NONE:
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
    case OPF_JUMP:
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
        pop = (int)in.b;
        /* an adjustment is consumed by the ADJUST of a step of this hook */
        if (p->hooks[in.a].result == QUY_NONE &&
            (i + 1 >= p->ncode || p->code[i + 1].op != OP_ADJUST || p->code[i + 1].a >= p->nadjusts ||
             p->adjusts[p->code[i + 1].a].hook != in.a))
            return vfail(v, "instruction %u (%s): hook '%s' returns an adjustment: an ADJUST of its step must follow",
                         i, nm, prog_str(p, p->hooks[in.a].name));
        break;
    case OPF_ADJUST:
        if (bl->check != QUY_NONE) return vfail(v, "instruction %u (%s): ADJUST outside a rate block", i, nm);
        if (in.a >= p->nadjusts)
            return vfail(v, "instruction %u (%s): adjust step %u out of range (nadjusts %u)", i, nm, in.a, p->nadjusts);
        if (p->adjusts[in.a].kind != bl->kind)
            return vfail(v, "instruction %u (%s): adjust step %u is not a step of kind '%s'", i, nm, in.a,
                         prog_str(p, kd->name));
        if (i == 0 || p->code[i - 1].op != OP_CALLHOOK || p->code[i - 1].a != p->adjusts[in.a].hook)
            return vfail(v, "instruction %u (%s): must follow the CALLHOOK of its step's hook", i, nm);
        break;
    }

    /* the loop registers: properly nested */
    uint32_t inner = s.nloops ? s.order[s.nloops - 1] : QUY_NONE;
    bool active = false;
    for (uint32_t j = 0; j < s.nloops; j++)
        if (s.order[j] == in.a) active = true;
    switch (in.op) {
    case OP_OUTCOME:
    case OP_UNRATED:
        if (bl->check != QUY_NONE) return vfail(v, "instruction %u (%s): outside a rate block", i, nm);
        break;
    case OP_QBEGIN:
        if (active) return vfail(v, "instruction %u (%s): loop register %u is already in use", i, nm, in.a);
        if (s.nloops >= QUY_MAX_LOOPS)
            return vfail(v, "instruction %u (%s): more than %d nested loops", i, nm, QUY_MAX_LOOPS);
        s.order[s.nloops++] = (uint8_t)in.a;
        s.lslot[in.a] = (uint16_t)in.b;
        break;
    case OP_QNEXT:
    case OP_QSTEP:
    case OP_QFILTER:
    case OP_QEND:
        if (inner != in.a) {
            if (inner == QUY_NONE)
                return vfail(v, "instruction %u (%s): loop register %u is not active (no loop is)", i, nm, in.a);
            return vfail(v, "instruction %u (%s): loop register %u is not the innermost loop (%u is)", i, nm, in.a,
                         inner);
        }
        if (in.op == OP_QEND) s.nloops--;
        break;
    case OP_ELEM:
    case OP_ELEMF: {
        if (!active) return vfail(v, "instruction %u (%s): loop register %u is not active", i, nm, in.a);
        const q_type *lt = &p->types[slot_field(p, bl, s.lslot[in.a])->type];
        const q_type *et = &p->types[lt->elem];
        if (in.op == OP_ELEM && et->kind == QT_STRUCT)
            return vfail(v, "instruction %u (%s): loop register %u iterates a list of structs; use ELEMF", i, nm, in.a);
        if (in.op == OP_ELEMF) {
            if (et->kind != QT_STRUCT)
                return vfail(v, "instruction %u (%s): loop register %u iterates a list of %s, not of structs", i, nm,
                             in.a, q_type_kind_name[et->kind]);
            if (in.b >= et->count)
                return vfail(v, "instruction %u (%s): struct field %u out of range (the struct has %u fields)", i, nm,
                             in.b, et->count);
        }
        break;
    }
    default:
        break;
    }

    /* the stack */
    if (s.depth < pop)
        return vfail(v, "instruction %u (%s): stack underflow: needs %d values, has %d", i, nm, pop, s.depth);
    int32_t before = s.depth;
    s.depth = s.depth - pop + push;
    if (s.depth > QUY_MAX_STACK)
        return vfail(v, "instruction %u (%s): stack overflow: depth %d exceeds QUY_MAX_STACK %d", i, nm, s.depth,
                     QUY_MAX_STACK);
    if ((uint32_t)s.depth > c->max_depth) c->max_depth = (uint32_t)s.depth;

    /* successors */
    switch (in.op) {
    case OP_HALT: {
        int32_t want = bl->check == QUY_NONE && bl->expr == QUY_NONE ? 0 : 1;
        if (s.nloops)
            return vfail(v, "instruction %u (%s): loop register %u still active at HALT", i, nm, s.order[s.nloops - 1]);
        if (s.depth != want)
            return vfail(v, "instruction %u (%s): stack depth %d at HALT, %s must end with %d", i, nm, s.depth,
                         bl->check == QUY_NONE ? "a rate block" : "a check", want);
        return true;
    }
    case OP_JMP:
        if (in.b <= i && in.b < p->ncode)
            return vfail(v, "instruction %u (%s): backward jump to %u (only QSTEP jumps back)", i, nm, in.b);
        return flow(c, blk, i, in.b, &s, false);
    case OP_QSTEP:
    case OP_QFILTER: /* QFILTER: back to the QNEXT (element skipped), or on */
        if (in.b >= p->ncode)
            return vfail(v, "instruction %u (%s): jump target %u outside code (ncode %u)", i, nm, in.b, p->ncode);
        if (in.b >= i || p->code[in.b].op != OP_QNEXT || p->code[in.b].a != in.a)
            return vfail(v, "instruction %u (%s): target %u is not the QNEXT heading loop register %u", i, nm, in.b,
                         in.a);
        if (in.op == OP_QSTEP) return flow(c, blk, i, in.b, &s, false);
        if (!flow(c, blk, i, in.b, &s, false)) return false;
        break;
    case OP_JFKEEP:
    case OP_JTKEEP: {
        /* taken: the value stays; fall-through: it is popped */
        vstate taken = s;
        taken.depth = before;
        s.depth = before - 1;
        if (in.b <= i && in.b < p->ncode)
            return vfail(v, "instruction %u (%s): backward jump to %u (only QSTEP jumps back)", i, nm, in.b);
        return flow(c, blk, i, in.b, &taken, false) && flow(c, blk, i, i + 1, &s, true);
    }
    case OP_IFABSENT:
        /* c = 1: the rule fails instead; the VM then takes the failure
         * jump of the CLAUSE just before b, so that is a successor too */
        if (in.c > 1) return vfail(v, "instruction %u (%s): unknown mode c = %u (0 or 1)", i, nm, in.c);
        if (in.c == 1) {
            if (in.b == 0 || in.b > p->ncode || p->code[in.b - 1].op != OP_CLAUSE)
                return vfail(v, "instruction %u (%s): with c = 1 the target %u must follow a CLAUSE", i, nm, in.b);
            uint32_t fb = p->code[in.b - 1].b;
            if (fb <= i && fb < p->ncode)
                return vfail(v, "instruction %u (%s): backward jump to %u (only QSTEP jumps back)", i, nm, fb);
            if (!flow(c, blk, i, fb, &s, false)) return false;
        }
        break;
    default:
        break;
    }
    switch (oi->format) {
    case OPF_JUMP:
    case OPF_SLOTJ:
    case OPF_LOOPJ:
    case OPF_CLAUSE:
    case OPF_RULE:
        if (in.b <= i && in.b < p->ncode)
            return vfail(v, "instruction %u (%s): backward jump to %u (only QSTEP jumps back)", i, nm, in.b);
        if (!flow(c, blk, i, in.b, &s, false)) return false;
        break;
    default:
        break;
    }
    return flow(c, blk, i, i + 1, &s, true);
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
    if (!c.st || !c.owner || !c.work || !c.blocks) {
        vfail(v, "out of memory verifying %u instructions", p->ncode);
        goto done;
    }
    for (uint32_t i = 0; i < p->ncode; i++) c.owner[i] = QUY_NONE;

    for (uint32_t k = 0; k < p->nkinds; k++)
        if (p->kinds[k].entry != QUY_NONE) c.blocks[c.nblocks++] = (vblock){k, QUY_NONE, QUY_NONE};
    for (uint32_t i = 0; i < p->nchecks; i++) c.blocks[c.nblocks++] = (vblock){kind_of_check(p, i), i, QUY_NONE};
    for (uint32_t i = 0; i < p->nbexprs; i++) c.blocks[c.nblocks++] = (vblock){p->bexprs[i].kind, QUY_NONE, i};

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
    p->max_stack = c.max_depth;
    ok = true;
done:
    free(c.st);
    free(c.owner);
    free(c.work);
    free(c.blocks);
    return ok;
}

bool bc_verify(q_program *p, char *err, size_t errsize)
{
    vctx v = {.p = p, .err = err, .errsize = errsize};
    if (err && errsize) err[0] = 0;
    return verify_tables(&v) && verify_code(&v);
}

