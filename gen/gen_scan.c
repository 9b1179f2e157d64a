/*
 * gen_scan.c — what `quy gen` aims at: the boundaries in a compiled
 * program's conditions (see gen.h).
 *
 * The bytecode of a rate block (and of each `check`) is run symbolically
 * from its entry to its HALT, in address order: every instruction pops
 * and pushes tree nodes instead of values. Control flow inside a
 * condition is only `and` / `or` (JFKEEP / JTKEEP jump forward to where
 * both paths join, with the left operand on the stack) and quantifier
 * loops (QBEGIN ... QSTEP jumps back, QEND after): a JFKEEP / JTKEEP is
 * remembered with its left operand and closed into an AND / OR node when
 * the scan reaches its target; QSTEP's operand becomes the quantifier's
 * predicate. EXC (`unless X`) is `and not X`. The disassembler
 * (runtime/disasm.c) reads the same instruction set.
 */
#include <stdlib.h>
#include <string.h>

#include "../runtime/record.h"
#include "gen_scan.h"
#include "../runtime/vec.h"

static int32_t node_add(gkind *g, gnode n)
{
    if (VEC_RESERVE(g->nodes, g->nnodes, g->capnodes, 1) != 0) return -1;
    g->nodes[g->nnodes] = n;
    return (int32_t)g->nnodes++;
}

static int32_t mk(gkind *g, uint8_t t, uint8_t op, int32_t a, int32_t b)
{
    gnode n;
    memset(&n, 0, sizeof n);
    n.t = t;
    n.op = op;
    n.a = a;
    n.b = b;
    n.sub = -1;
    return node_add(g, n);
}

/* =====================================================================
 * Linear forms
 * ===================================================================== */

static const q_type *field_type(const q_program *p, uint32_t k, uint16_t slot)
{
    return &p->types[p->fields[p->kinds[k].first_field + slot].type];
}

static bool lin_addvar(glin *l, gvar v, int64_t coef)
{
    for (int i = 0; i < l->n; i++) {
        if (l->v[i].t == v.t && l->v[i].slot == v.slot && l->v[i].pred == v.pred) {
            l->coef[i] += coef;
            return true;
        }
    }
    if (l->n == GLIN_MAX) return false;
    l->v[l->n] = v;
    l->coef[l->n++] = coef;
    return true;
}

static void lin_compact(glin *l)
{
    int j = 0;
    for (int i = 0; i < l->n; i++) {
        if (!l->coef[i]) continue;
        l->v[j] = l->v[i];
        l->coef[j++] = l->coef[i];
    }
    l->n = j;
}

/* out = x + s * y (s = +1 / -1) */
static bool lin_comb(const glin *x, const glin *y, int s, glin *out)
{
    *out = *x;
    for (int i = 0; i < y->n; i++)
        if (!lin_addvar(out, y->v[i], s * y->coef[i])) return false;
    q_val k;
    if ((s > 0 ? q_add(x->k, y->k, &k) : q_sub(x->k, y->k, &k)) != Q_OK) return false;
    out->k = k;
    lin_compact(out);
    return true;
}

bool gen_lin(const q_program *p, const gkind *g, int32_t n, glin *out)
{
    memset(out, 0, sizeof *out);
    out->k = q_int(0);
    if (n < 0 || (size_t)n >= g->nnodes) return false;
    const gnode *x = &g->nodes[n];
    switch (x->t) {
    case GN_CONST:
        if (x->ktype != QT_INT && x->ktype != QT_DECIMAL && x->ktype != QT_PERCENT) return false;
        out->k = x->k;
        return true;
    case GN_FIELD: {
        uint8_t tk = field_type(p, g->k, x->slot)->kind;
        if (tk != QT_INT && tk != QT_DECIMAL && tk != QT_PERCENT && tk != QT_DATE) return false;
        return lin_addvar(out, (gvar){GV_FIELD, x->slot, -1}, 1);
    }
    case GN_LEN: return lin_addvar(out, (gvar){GV_LEN, x->slot, -1}, 1);
    case GN_QUANT:
        if (x->op != QK_COUNT) return false;
        return lin_addvar(out, (gvar){GV_COUNT, x->slot, x->a}, 1);
    case GN_ELSE: return gen_lin(p, g, x->a, out); /* aim at the value the record carries */
    case GN_NEG: {
        glin a, z;
        memset(&z, 0, sizeof z);
        z.k = q_int(0);
        return gen_lin(p, g, x->a, &a) && lin_comb(&z, &a, -1, out);
    }
    case GN_ARITH: {
        glin a, b;
        if (x->op == OP_ADD || x->op == OP_SUB)
            return gen_lin(p, g, x->a, &a) && gen_lin(p, g, x->b, &b) && lin_comb(&a, &b, x->op == OP_ADD ? 1 : -1, out);
        if (x->op == OP_MUL && gen_lin(p, g, x->a, &a) && gen_lin(p, g, x->b, &b)) {
            const glin *c = a.n == 0 ? &a : b.n == 0 ? &b : NULL, *v = c == &a ? &b : &a;
            if (!c || c->k.d != 1) return false;
            *out = *v;
            for (int i = 0; i < out->n; i++) out->coef[i] *= c->k.n;
            return q_mul(v->k, c->k, &out->k) == Q_OK;
        }
        return false;
    }
    default: return false;
    }
}

/* =====================================================================
 * Evaluation (for predicates over list elements and the linear forms)
 * ===================================================================== */

static uint32_t stride_of(const q_program *p, uint32_t k, uint16_t slot)
{
    const q_type *lt = field_type(p, k, slot);
    if (lt->kind != QT_LIST) return 1;
    const q_type *et = &p->types[lt->elem];
    return et->kind == QT_STRUCT ? et->count : 1;
}

bool gen_eval(const q_program *p, const gkind *g, int32_t n, const q_record *rec, int64_t elem, q_val *out)
{
    if (n < 0 || (size_t)n >= g->nnodes) return false;
    const gnode *x = &g->nodes[n];
    q_val a, b;
    switch (x->t) {
    case GN_CONST: *out = x->k; return true;
    case GN_FIELD:
        if (!rec->present[x->slot]) return false;
        *out = rec->slots[x->slot];
        return true;
    case GN_PRESENT: *out = q_bool(rec->present[x->slot]); return true;
    case GN_LEN:
        if (!rec->present[x->slot]) return false;
        *out = q_int(rec->slots[x->slot].d);
        return true;
    case GN_ELEM: {
        if (elem < 0 || (uint64_t)elem >= rec->nelems) return false;
        *out = rec->elems[elem + (x->sub > 0 ? x->sub : 0)];
        return true;
    }
    case GN_QUANT: {
        if (!rec->present[x->slot]) return false;
        q_val lv = rec->slots[x->slot];
        uint32_t stride = stride_of(p, g->k, x->slot);
        int64_t cnt = 0, folded = 0, run = 0, best = 0, total = 0;
        q_val sum = q_int(0);
        for (int64_t i = 0; i < lv.d; i++) {
            q_val v;
            int64_t at = lv.n + i * (int64_t)stride;
            if (x->b >= 0) { /* `where`: the element is skipped unless it holds */
                if (!gen_eval(p, g, x->b, rec, at, &v)) return false;
                if (!v.n) continue;
            }
            total++;
            if (!gen_eval(p, g, x->a, rec, at, &v)) return false;
            if (x->op == QK_SUM) {
                if (q_add(sum, v, &sum) != Q_OK) return false;
            } else if (x->op == QK_MIN || x->op == QK_MAX) {
                if (folded++ == 0 || (x->op == QK_MIN ? q_cmp(v, sum) < 0 : q_cmp(v, sum) > 0)) sum = v;
            } else {
                cnt += v.n != 0;
                run = v.n != 0 ? run + 1 : 0;
                if (run > best) best = run;
            }
        }
        switch (x->op) {
        case QK_ALL: *out = q_bool(cnt == total); break;
        case QK_ANY: *out = q_bool(cnt > 0); break;
        case QK_NONE: *out = q_bool(cnt == 0); break;
        case QK_COUNT: *out = q_int(cnt); break;
        case QK_RUN: *out = q_int(best); break;
        case QK_MIN:
        case QK_MAX:
            if (!folded) return false; /* the VM's "empty" error */
            *out = sum;
            break;
        default: *out = sum; break;
        }
        return true;
    }
    case GN_NEG: return gen_eval(p, g, x->a, rec, elem, &a) && q_neg(a, out) == Q_OK;
    case GN_NOT:
        if (!gen_eval(p, g, x->a, rec, elem, &a)) return false;
        *out = q_bool(a.n == 0);
        return true;
    case GN_ELSE:
        if (gen_eval(p, g, x->a, rec, elem, out)) return true;
        return gen_eval(p, g, x->b, rec, elem, out);
    case GN_AND:
    case GN_OR:
        if (!gen_eval(p, g, x->a, rec, elem, &a)) return false;
        if ((x->t == GN_AND) == (a.n == 0)) {
            *out = a;
            return true;
        }
        return gen_eval(p, g, x->b, rec, elem, out);
    case GN_ARITH:
    case GN_SHARE:
    case GN_CMP: {
        if (!gen_eval(p, g, x->a, rec, elem, &a) || !gen_eval(p, g, x->b, rec, elem, &b)) return false;
        if (x->t == GN_SHARE) return q_share(a, b, out) == Q_OK;
        if (x->t == GN_ARITH) {
            switch (x->op) {
            case OP_ADD: return q_add(a, b, out) == Q_OK;
            case OP_SUB: return q_sub(a, b, out) == Q_OK;
            case OP_MUL: return q_mul(a, b, out) == Q_OK;
            default: return q_div(a, b, out) == Q_OK;
            }
        }
        int c;
        if (x->op == OP_STREQ || x->op == OP_STRNE) {
            bool eq = q_str_eq(a, b);
            *out = q_bool(x->op == OP_STREQ ? eq : !eq);
            return true;
        }
        c = q_cmp(a, b);
        switch (x->op) {
        case OP_EQ: *out = q_bool(c == 0); break;
        case OP_NE: *out = q_bool(c != 0); break;
        case OP_LT: *out = q_bool(c < 0); break;
        case OP_LE: *out = q_bool(c <= 0); break;
        case OP_GT: *out = q_bool(c > 0); break;
        default: *out = q_bool(c >= 0); break;
        }
        return true;
    }
    default: return false;
    }
}

/* =====================================================================
 * The symbolic run
 * ===================================================================== */

typedef struct join {
    uint32_t target;
    int32_t left;
    uint8_t t; /* GN_AND / GN_OR */
} join;

typedef struct scanner {
    const q_program *p;
    gkind *g;
    int32_t st[QUY_MAX_STACK * 2];
    int sp;
    join joins[64];
    int njoins;
    uint16_t reg_list[QUY_MAX_LOOPS];
    uint8_t reg_kind[QUY_MAX_LOOPS];
    int32_t reg_pred[QUY_MAX_LOOPS];
    int32_t reg_filter[QUY_MAX_LOOPS];
} scanner;

static int32_t pop(scanner *s) { return s->sp > 0 ? s->st[--s->sp] : mk(s->g, GN_OPAQUE, 0, -1, -1); }

static void push(scanner *s, int32_t n)
{
    if (s->sp < (int)(sizeof s->st / sizeof s->st[0])) s->st[s->sp++] = n;
}

/* Run from `pc` to the first HALT; call `on_root` for each condition
 * closed by CLAUSE / FLAG (with the clause or flag index) or HALT. */
typedef void (*root_fn)(scanner *s, int32_t root, uint8_t op, uint32_t idx, void *ctx);

static bool scan(scanner *s, uint32_t pc, root_fn on_root, void *ctx)
{
    const q_program *p = s->p;
    s->sp = 0;
    s->njoins = 0;
    for (; pc < p->ncode; pc++) {
        while (s->njoins > 0 && s->joins[s->njoins - 1].target == pc) {
            join j = s->joins[--s->njoins];
            int32_t r = pop(s);
            push(s, mk(s->g, j.t, 0, j.left, r));
        }
        const q_instr *ip = &p->code[pc];
        gnode n;
        memset(&n, 0, sizeof n);
        n.sub = -1;
        n.a = n.b = -1;
        switch ((op_code)ip->op) {
        case OP_PUSHK:
            n.t = GN_CONST;
            n.k = p->consts[ip->b];
            n.ktype = p->const_type[ip->b];
            push(s, node_add(s->g, n));
            break;
        case OP_LOADF:
        case OP_PRESENT:
        case OP_LEN:
            n.t = ip->op == OP_LOADF ? GN_FIELD : ip->op == OP_PRESENT ? GN_PRESENT : GN_LEN;
            n.slot = ip->a;
            push(s, node_add(s->g, n));
            break;
        case OP_POP: pop(s); break;
        case OP_ADD:
        case OP_SUB:
        case OP_MUL:
        case OP_DIV:
        case OP_SHARE:
        case OP_EQ:
        case OP_NE:
        case OP_LT:
        case OP_LE:
        case OP_GT:
        case OP_GE:
        case OP_STREQ:
        case OP_STRNE: {
            int32_t b = pop(s), a = pop(s);
            uint8_t t = ip->op == OP_SHARE ? GN_SHARE : ip->op <= OP_DIV ? GN_ARITH : GN_CMP;
            push(s, mk(s->g, t, ip->op, a, b));
            break;
        }
        case OP_NEG: push(s, mk(s->g, GN_NEG, 0, pop(s), -1)); break;
        case OP_NOT:
        case OP_EXC: push(s, mk(s->g, GN_NOT, 0, pop(s), -1)); break;
        case OP_JFKEEP:
        case OP_JTKEEP:
            if (s->njoins < 64 && ip->b > pc) {
                int32_t left = pop(s);
                s->joins[s->njoins++] = (join){ip->b, left, ip->op == OP_JFKEEP ? GN_AND : GN_OR};
            } else {
                pop(s);
            }
            break;
        case OP_QBEGIN:
            if (ip->a < QUY_MAX_LOOPS) {
                s->reg_list[ip->a] = (uint16_t)ip->b;
                s->reg_kind[ip->a] = ip->c;
                s->reg_pred[ip->a] = -1;
                s->reg_filter[ip->a] = -1;
            }
            break;
        case OP_ELEM:
        case OP_ELEMF:
            n.t = GN_ELEM;
            n.slot = ip->a < QUY_MAX_LOOPS ? s->reg_list[ip->a] : 0;
            n.sub = ip->op == OP_ELEMF ? (int32_t)ip->b : -1;
            push(s, node_add(s->g, n));
            break;
        case OP_QSTEP: {
            int32_t x = pop(s);
            if (ip->a < QUY_MAX_LOOPS) s->reg_pred[ip->a] = x;
            break;
        }
        case OP_QFILTER: { /* `where` of a fold: the element counts only when x holds */
            int32_t x = pop(s);
            if (ip->a < QUY_MAX_LOOPS) {
                int32_t f = s->reg_filter[ip->a];
                s->reg_filter[ip->a] = f < 0 ? x : mk(s->g, GN_AND, 0, f, x);
            }
            break;
        }
        case OP_QEND:
            n.t = GN_QUANT;
            if (ip->a < QUY_MAX_LOOPS) {
                n.slot = s->reg_list[ip->a];
                n.op = s->reg_kind[ip->a];
                n.a = s->reg_pred[ip->a];
                n.b = s->reg_filter[ip->a];
                /* a counted `where`: the count is of elements where both hold */
                if (n.op == QK_COUNT && n.b >= 0) {
                    n.a = n.a < 0 ? n.b : mk(s->g, GN_AND, 0, n.b, n.a);
                    n.b = -1;
                }
            }
            push(s, node_add(s->g, n));
            break;
        case OP_CLAUSE:
        case OP_FLAG: {
            int32_t root = pop(s);
            on_root(s, root, ip->op, ip->a, ctx);
            s->sp = 0;
            break;
        }
        case OP_CALLHOOK:
            for (uint32_t i = 0; i < ip->b; i++) pop(s);
            push(s, mk(s->g, GN_OPAQUE, 0, -1, -1));
            break;
        case OP_OUTCOME: push(s, mk(s->g, GN_OPAQUE, 0, -1, -1)); break;
        case OP_ADJUST: pop(s); break; /* an adjust step: nothing to aim at */
        case OP_HALT:
            on_root(s, s->sp ? pop(s) : -1, OP_HALT, 0, ctx);
            return true;
        case OP_JMP:
            /* `a else b`: the JMP after a jumps over b to where both join */
            if (ip->b > pc && s->sp > 0 && s->njoins < 64) {
                int32_t left = pop(s);
                s->joins[s->njoins++] = (join){ip->b, left, GN_ELSE};
            } else {
                s->sp = 0;
            }
            break;
        case OP_DECIDE:
            s->sp = 0;
            break;
        default: break; /* NOP, IFABSENT, QNEXT: no stack effect on this path */
        }
        if (s->g->nnodes && s->sp > 0 && s->st[s->sp - 1] < 0) return false; /* out of memory */
    }
    return true;
}

/* =====================================================================
 * Targets
 * ===================================================================== */

static bool target_add(gkind *g, const gtarget *t)
{
    for (size_t i = 0; i < g->ntargets; i++)
        if (!memcmp(&g->targets[i], t, sizeof *t)) return true;
    if (VEC_RESERVE(g->targets, g->ntargets, g->captargets, 1) != 0) return false;
    g->targets[g->ntargets++] = *t;
    g->nvariants += t->nvariants;
    return true;
}

/* The smallest step of a linear form's value: 1 for whole quantities,
 * 1/100 for decimals, 1/10000 (0.01 %) for percents. */
static void lin_step(const q_program *p, const gkind *g, const glin *l, gtarget *t)
{
    t->step_int = true;
    t->step = q_int(1);
    for (int i = 0; i < l->n; i++) {
        if (l->v[i].t != GV_FIELD) continue;
        uint8_t tk = field_type(p, g->k, l->v[i].slot)->kind;
        if (tk == QT_DECIMAL && t->step_int) {
            t->step_int = false;
            t->step = (q_val){1, 100};
        } else if (tk == QT_PERCENT) {
            t->step_int = false;
            t->step = (q_val){1, 10000};
        }
    }
}

static uint8_t flip(uint8_t op)
{
    switch (op) {
    case OP_LT: return OP_GT;
    case OP_LE: return OP_GE;
    case OP_GT: return OP_LT;
    case OP_GE: return OP_LE;
    default: return op;
    }
}

static bool has_elem(const gkind *g, int32_t n)
{
    if (n < 0) return false;
    const gnode *x = &g->nodes[n];
    if (x->t == GN_ELEM) return true;
    if (x->t == GN_QUANT) return false; /* a nested quantifier has its own elements */
    return has_elem(g, x->a) || has_elem(g, x->b);
}

static bool cmp_targets(const q_program *p, gkind *g, int32_t n)
{
    const gnode *x = &g->nodes[n];
    const gnode *a = &g->nodes[x->a], *b = &g->nodes[x->b];
    gtarget t;
    memset(&t, 0, sizeof t);
    t.op = x->op;
    t.sub = -1;
    if (x->op == OP_STREQ || x->op == OP_STRNE) {
        const gnode *f = a->t == GN_FIELD ? a : b->t == GN_FIELD ? b : NULL, *c = f == a ? b : a;
        if (!f || c->t != GN_CONST) return true;
        t.t = GT_STR;
        t.slot = f->slot;
        t.c = c->k;
        t.nvariants = 2;
        return target_add(g, &t);
    }
    if (has_elem(g, x->a) || has_elem(g, x->b)) {
        const gnode *e = a->t == GN_ELEM ? a : b->t == GN_ELEM ? b : NULL, *c = e == a ? b : a;
        if (!e || c->t != GN_CONST) return true;
        t.t = GT_ELEM;
        t.op = e == a ? x->op : flip(x->op);
        t.slot = e->slot;
        t.sub = e->sub;
        t.c = c->k;
        t.nvariants = 3;
        if (c->ktype == QT_DECIMAL) t.step = (q_val){1, 100};
        else if (c->ktype == QT_PERCENT) t.step = (q_val){1, 10000};
        else t.step = q_int(1), t.step_int = true;
        return target_add(g, &t);
    }
    /* share(A, B) <op> c */
    const gnode *sh = a->t == GN_SHARE ? a : b->t == GN_SHARE ? b : NULL, *c = sh == a ? b : a;
    if (sh && c->t == GN_CONST) {
        t.t = GT_SHARE;
        t.op = sh == a ? x->op : flip(x->op);
        t.c = c->k;
        if (!gen_lin(p, g, sh->a, &t.a) || !gen_lin(p, g, sh->b, &t.b)) return true;
        lin_step(p, g, &t.a, &t);
        t.nvariants = 4;
        return target_add(g, &t);
    }
    /* A <op> B with A - B linear */
    glin la, lb;
    if (!gen_lin(p, g, x->a, &la) || !gen_lin(p, g, x->b, &lb)) return true;
    t.t = GT_LIN;
    if (!lin_comb(&la, &lb, -1, &t.a) || t.a.n == 0) return true;
    lin_step(p, g, &t.a, &t);
    t.c = q_int(0);
    t.nvariants = 3;
    return target_add(g, &t);
}

static bool walk_targets(const q_program *p, gkind *g, int32_t n)
{
    if (n < 0) return true;
    const gnode *x = &g->nodes[n];
    if (x->t == GN_CMP && !cmp_targets(p, g, n)) return false;
    return walk_targets(p, g, x->a) && walk_targets(p, g, x->b);
}

/* Bool polarity votes: a bool field in an `and` chain of a rule's clause. */
typedef struct pol_votes {
    int *rare, *often;   /* bool values */
    int *prare, *poften; /* presence */
} pol_votes;

/* Fields read anywhere in an `and` chain (presence polarity). */
static void vote_presence(const gkind *g, int32_t n, bool disq, pol_votes *v, int depth)
{
    if (n < 0 || depth > 64) return;
    const gnode *x = &g->nodes[n];
    if (x->t == GN_FIELD || x->t == GN_PRESENT || x->t == GN_LEN || x->t == GN_QUANT)
        (disq ? v->prare : v->poften)[x->slot]++;
    if (x->t == GN_NOT || x->t == GN_OR || x->t == GN_ELSE || x->t == GN_QUANT) return; /* polarity unclear */
    vote_presence(g, x->a, disq, v, depth + 1);
    vote_presence(g, x->b, disq, v, depth + 1);
}

static void vote(const gkind *g, int32_t n, bool neg, bool disq, pol_votes *v)
{
    if (n < 0) return;
    const gnode *x = &g->nodes[n];
    if (x->t == GN_NOT) vote(g, x->a, !neg, disq, v);
    else if (x->t == GN_AND) {
        vote(g, x->a, neg, disq, v);
        vote(g, x->b, neg, disq, v);
    } else if (x->t == GN_FIELD) {
        /* true triggers a disqualifier: rare; true meets a tier: often */
        bool rare = disq != neg;
        (rare ? v->rare : v->often)[x->slot]++;
    }
}

/* Numeric polarity: `field <op> c` in an `and` chain of a rule's clause.
 * A disqualifier's trigger is to be avoided, a tier's condition met. */
static void prefer(const q_program *p, gkind *g, int32_t n, bool neg, bool disq)
{
    if (n < 0) return;
    const gnode *x = &g->nodes[n];
    if (x->t == GN_NOT) {
        prefer(p, g, x->a, !neg, disq);
        return;
    }
    if (x->t == GN_AND) {
        prefer(p, g, x->a, neg, disq);
        prefer(p, g, x->b, neg, disq);
        return;
    }
    if (x->t != GN_CMP || x->op < OP_LT || x->op > OP_GE) return;
    glin la, lb, d;
    if (!gen_lin(p, g, x->a, &la) || !gen_lin(p, g, x->b, &lb) || !lin_comb(&la, &lb, -1, &d) || d.n != 1 ||
        d.v[0].t != GV_FIELD || (d.coef[0] != 1 && d.coef[0] != -1))
        return;
    /* v <op> bound */
    uint8_t op = d.coef[0] == 1 ? x->op : flip(x->op);
    q_val bound;
    if (d.coef[0] == 1) {
        if (q_neg(d.k, &bound) != Q_OK) return;
    } else {
        bound = d.k;
    }
    bool want = !(disq != neg); /* want the comparison to hold? */
    bool upper = (op == OP_LT || op == OP_LE) == want; /* the preferred range is below the bound */
    uint16_t s = d.v[0].slot;
    if (upper) {
        if (!g->phi[s].d || q_cmp(bound, g->phi[s]) < 0) g->phi[s] = bound;
    } else if (!g->plo[s].d || q_cmp(bound, g->plo[s]) > 0) {
        g->plo[s] = bound;
    }
}

typedef struct scan_ctx {
    gkind *g;
    pol_votes votes;
    bool ok;
    bool is_check;
} scan_ctx;

static bool collect_bounds(const q_program *p, gkind *g, int32_t n);

static bool check_add(gkind *g, const glin *l, uint8_t op)
{
    if (VEC_RESERVE(g->checks, g->nchecks, g->capchecks, 1) != 0 || VEC_RESERVE(g->cop, g->nchecks, g->capcop, 1) != 0)
        return false;
    g->checks[g->nchecks] = *l;
    g->cop[g->nchecks++] = op;
    return true;
}

/* A check's top-level conjuncts that are linear comparisons: constraints
 * the repair step can satisfy. */
static bool check_conjuncts(const q_program *p, gkind *g, int32_t n)
{
    if (n < 0) return true;
    const gnode *x = &g->nodes[n];
    if (x->t == GN_AND) return check_conjuncts(p, g, x->a) && check_conjuncts(p, g, x->b);
    if (x->t != GN_CMP || x->op > OP_GE) return true;
    glin la, lb, d;
    if (!gen_lin(p, g, x->a, &la) || !gen_lin(p, g, x->b, &lb) || !lin_comb(&la, &lb, -1, &d) || !d.n) return true;
    return check_add(g, &d, x->op);
}

/* Bounds of single fields anywhere in a check: x >= c, x <= c, ... */
static bool collect_bounds(const q_program *p, gkind *g, int32_t n)
{
    if (n < 0) return true;
    const gnode *x = &g->nodes[n];
    if (x->t == GN_CMP && x->op >= OP_LT && x->op <= OP_GE) {
        glin la, lb, d;
        if (gen_lin(p, g, x->a, &la) && gen_lin(p, g, x->b, &lb) && lin_comb(&la, &lb, -1, &d) && d.n == 1 &&
            d.v[0].t == GV_FIELD && (d.coef[0] == 1 || d.coef[0] == -1)) {
            /* coef * v + k <op> 0 */
            uint8_t op = d.coef[0] == 1 ? x->op : flip(x->op);
            q_val bound;
            if (d.coef[0] == 1) {
                if (q_neg(d.k, &bound) != Q_OK) return true;
            } else {
                bound = d.k;
            }
            uint16_t s = d.v[0].slot;
            if (op == OP_GE || op == OP_GT) {
                if (!g->lo[s].d || q_cmp(bound, g->lo[s]) > 0) g->lo[s] = bound;
            } else if (!g->hi[s].d || q_cmp(bound, g->hi[s]) < 0) {
                g->hi[s] = bound;
            }
        }
        return true;
    }
    return collect_bounds(p, g, x->a) && collect_bounds(p, g, x->b);
}

static void on_root(scanner *s, int32_t root, uint8_t op, uint32_t idx, void *vctx)
{
    scan_ctx *cx = vctx;
    const q_program *p = s->p;
    if (!cx->ok || root < 0) return;
    if (cx->is_check) {
        if (op == OP_HALT) cx->ok = check_conjuncts(p, cx->g, root) && collect_bounds(p, cx->g, root);
        return;
    }
    if (!walk_targets(p, cx->g, root)) {
        cx->ok = false;
        return;
    }
    if (op == OP_CLAUSE && idx < p->nclauses && p->clauses[idx].rule < p->nrules) {
        uint8_t out = p->rules[p->clauses[idx].rule].outcome;
        vote(cx->g, root, false, out == QO_KHTNV || out >= QO_NOT_RATED, &cx->votes);
        vote_presence(cx->g, root, out == QO_KHTNV || out >= QO_NOT_RATED, &cx->votes, 0);
        if (!(p->rules[p->clauses[idx].rule].flags & QR_OTHERWISE))
            prefer(p, cx->g, root, false, out == QO_KHTNV || out >= QO_NOT_RATED);
    }
}

bool gen_scan(const q_program *p, uint32_t k, gkind *g)
{
    memset(g, 0, sizeof *g);
    g->k = k;
    const q_kind *kd = &p->kinds[k];
    uint32_t nf = kd->nfields ? kd->nfields : 1;
    g->pol = calloc(nf, 1);
    g->lo = calloc(nf, sizeof *g->lo);
    g->hi = calloc(nf, sizeof *g->hi);
    g->plo = calloc(nf, sizeof *g->plo);
    g->phi = calloc(nf, sizeof *g->phi);
    g->ppol = calloc(nf, 1);
    int *rare = calloc(nf, sizeof *rare), *often = calloc(nf, sizeof *often);
    int *prare = calloc(nf, sizeof *prare), *poften = calloc(nf, sizeof *poften);
    scanner *s = calloc(1, sizeof *s);
    bool ok = g->pol && g->ppol && g->lo && g->hi && g->plo && g->phi && rare && often && prare && poften && s;
    scan_ctx cx = {g, {rare, often, prare, poften}, ok, false};
    if (ok) {
        s->p = p;
        s->g = g;
        cx.is_check = true;
        for (uint32_t c = kd->first_check; c < kd->first_check + kd->nchecks && cx.ok; c++)
            cx.ok = scan(s, p->checks[c].entry, on_root, &cx) && cx.ok;
        cx.is_check = false;
        if (kd->entry != QUY_NONE && cx.ok) cx.ok = scan(s, kd->entry, on_root, &cx) && cx.ok;
        ok = cx.ok;
    }
    /* field targets: bools, members, optional fields, list lengths */
    for (uint32_t i = 0; ok && i < kd->nfields; i++) {
        const q_field *f = &p->fields[kd->first_field + i];
        const q_type *ty = &p->types[f->type];
        uint16_t slot = f->slot < kd->nfields ? f->slot : (uint16_t)i;
        gtarget t;
        memset(&t, 0, sizeof t);
        t.slot = slot;
        t.sub = -1;
        if (ty->kind == QT_BOOL) {
            t.t = GT_BOOL;
            t.nvariants = 2;
            ok = target_add(g, &t);
            g->pol[slot] = rare[slot] > often[slot] ? GPOL_RARE : often[slot] > rare[slot] ? GPOL_OFTEN : GPOL_NONE;
        } else if (ty->kind == QT_ENUM || ty->kind == QT_SCALE) {
            t.t = GT_MEMBER;
            t.nvariants = ty->count;
            ok = target_add(g, &t);
        } else if (ty->kind == QT_LIST) {
            t.t = GT_LENGTH;
            t.nvariants = 3;
            ok = target_add(g, &t);
        }
        g->ppol[slot] = prare[slot] > poften[slot] ? GPOL_RARE : poften[slot] > prare[slot] ? GPOL_OFTEN : GPOL_NONE;
        if (ok && (f->flags & (QF_OPTIONAL | QF_DEFAULT | QF_BATCH))) {
            memset(&t, 0, sizeof t);
            t.t = GT_OPTION;
            t.slot = slot;
            t.sub = -1;
            t.nvariants = 2;
            ok = target_add(g, &t);
        }
    }
    free(rare);
    free(often);
    free(prare);
    free(poften);
    free(s);
    if (!ok) gen_kind_free(g);
    return ok;
}

void gen_kind_free(gkind *g)
{
    free(g->nodes);
    free(g->targets);
    free(g->checks);
    free(g->cop);
    free(g->pol);
    free(g->ppol);
    free(g->lo);
    free(g->hi);
    free(g->plo);
    free(g->phi);
    memset(g, 0, sizeof *g);
}
