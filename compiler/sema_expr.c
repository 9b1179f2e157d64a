/*
 * sema_expr.c — expressions: names, types and the fields each expression reads (phase 4, typing).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sema_int.h"

/* ---------------------------------------------------------------------
 * 4. Expressions: typing (sema_expr) and emission (cg_expr)
 * ------------------------------------------------------------------- */

void sema_unknown_name(sema *S, ast_node *e, uint32_t hint)
{
    sema_cands c = {0};
    char dym[SEMA_SUGGEST_SIZE];
    sema_field_cands(S, &c);
    for (size_t i = 0; i < S->nlets; i++) sema_cand(&c, S->lets[i].node->u.check.name.s);
    if (S->depth > 0) {
        const q_type *et = &S->b.p->types[S->scope[S->depth - 1].elem_type];
        if (et->kind == QT_STRUCT)
            for (uint32_t i = 0; i < et->count; i++) sema_cand(&c, prog_str(S->b.p, S->b.p->fields[et->first + i].name));
    }
    bool members = hint < S->b.p->ntypes && (tkind(S, hint) == QT_ENUM || tkind(S, hint) == QT_SCALE);
    if (members) {
        const q_type *t = &S->b.p->types[hint];
        for (uint32_t i = 0; i < t->count; i++) sema_cand(&c, prog_str(S->b.p, S->b.p->members[t->first + i].name));
    }
    const char *sug = sema_suggest(&c, node_name(e), DYM_PRE, DYM_POST, dym, sizeof dym);
    if (members) {
        char tb[128];
        sema_err(S, e->span, "'%s' is not a field nor a value of %s%s", node_name(e), sema_type_name(S, hint, tb, sizeof tb),
                 sug);
    } else if (sug[0]) {
        sema_err(S, e->span, "unknown field '%s'%s", node_name(e), sug);
    } else {
        sema_err(S, e->span, "unknown field '%s' in record '%s'", node_name(e), prog_str(S->b.p, S->b.p->kinds[S->kind].name));
    }
}

void sema_field_cands(sema *S, sema_cands *c)
{
    for (size_t i = 0; i < S->nkf; i++) sema_cand(c, S->kf[i].name);
}

/* Resolve a bare name against an enum/scale type, or report it. */
uint32_t sema_resolve_member(sema *S, ast_node *e, uint32_t type)
{
    uint8_t k = tkind(S, type);
    if (k == QT_ENUM || k == QT_SCALE) {
        int o = prog_find_member(S->b.p, type, e->u.name.text.s, e->u.name.text.len);
        if (o >= 0) {
            e->sem.res = RES_MEMBER;
            e->sem.ref = (uint32_t)o;
            e->sem.type = type + 1;
            return type;
        }
    }
    sema_unknown_name(S, e, type);
    return TY_ERR;
}


uint32_t sema_need_value(sema *S, ast_node *e, uint32_t t)
{
    if (t == TY_MEMBER) return sema_resolve_member(S, e, TY_ERR);
    if (t != TY_ERR && tkind(S, t) == QT_LIST) {
        sema_err(S, e->span, "'%s' is a list: use all/any/none/count/sum over it", node_name(e));
        return TY_ERR;
    }
    return t;
}

uint32_t sema_need_bool(sema *S, ast_node *e, uint32_t t, const char *what)
{
    t = sema_need_value(S, e, t);
    if (t != TY_ERR && t != TY_BOOL) {
        char tb[128];
        sema_err(S, e->span, "%s must be true/false (bool), not %s", what, sema_type_name(S, t, tb, sizeof tb));
        return TY_ERR;
    }
    return t;
}

uint32_t sema_need_num(sema *S, ast_node *e, uint32_t t)
{
    t = sema_need_value(S, e, t);
    if (t != TY_ERR && !is_numeric(S, t)) {
        char tb[128];
        sema_err(S, e->span, "expected a number, not %s", sema_type_name(S, t, tb, sizeof tb));
        return TY_ERR;
    }
    return t;
}

uint32_t sema_name(sema *S, ast_node *e)
{
    if (name_is(e, "it")) {
        if (S->depth == 0) {
            sema_err(S, e->span, "'it' is only meaningful inside all/any/none/count/sum/min/max/longest run");
            return TY_ERR;
        }
        e->sem.res = RES_IT;
        e->sem.depth = (uint8_t)(S->depth - 1);
        return S->scope[S->depth - 1].elem_type;
    }
    for (int d = S->depth - 1; d >= 0; d--) {
        const q_type *et = &S->b.p->types[S->scope[d].elem_type];
        if (et->kind != QT_STRUCT) continue;
        for (uint32_t i = 0; i < et->count; i++) {
            const q_field *f = &S->b.p->fields[et->first + i];
            if (strcmp(prog_str(S->b.p, f->name), node_name(e)) == 0) {
                e->sem.res = RES_SFIELD;
                e->sem.ref = i;
                e->sem.depth = (uint8_t)d;
                return f->type;
            }
        }
    }
    const uint32_t *li = strset_get(&S->let_names, node_name(e), e->u.name.text.len);
    if (li) {
        ast_node *l = S->lets[*li].node;
        if (!l->sem.type) return TY_ERR; /* a let in error (reported): nothing to write out */
        e->sem.res = RES_LET;
        e->sem.ref = *li;
        return l->sem.type - 1;
    }
    for (size_t i = 0; i < S->nkf; i++) {
        if (strcmp(S->kf[i].name, node_name(e)) == 0) {
            e->sem.res = RES_FIELD;
            e->sem.ref = S->kf[i].slot;
            return S->kf[i].type;
        }
    }
    if (S->adjust_tier && name_is(e, "tier")) {
        e->sem.res = RES_OUTCOME;
        return S->b.p->tier_type;
    }
    return TY_MEMBER;
}

static uint32_t numeric_result(sema *S, uint32_t a, uint32_t b, ast_op op)
{
    if (a == TY_ERR || b == TY_ERR) return TY_ERR;
    if (op == OPR_DIV) return TY_DECIMAL;
    /* a sum or difference of percents is a percent (compared with 100%) */
    if ((op == OPR_ADD || op == OPR_SUB) && tkind(S, a) == QT_PERCENT && tkind(S, b) == QT_PERCENT) return TY_PERCENT;
    if (tkind(S, a) == QT_INT && tkind(S, b) == QT_INT) return TY_INT;
    return TY_DECIMAL;
}

/* A percent met by a bare number (compared with it, or given as its
 * `else` default): 90 there is 9000 %, and 0.9 reads as 90 % only to those
 * who know the representation. Both are type errors whose message gives
 * the percent to write: an integer N is N%, a decimal d at most 1 is a
 * fraction (d x 100 %). `pct` is the percent operand, `num` the other. */
static void percent_mismatch(sema *S, ast_node *e, ast_node *pct, ast_node *num, uint32_t tnum)
{
    char b1[128], fix[96], what[160];
    q_span at = e->u.bin.op_span.end ? e->u.bin.op_span : e->span;
    bool dflt = e->u.bin.op == OPR_ELSE;
    if (pct->kind == AST_E_NAME)
        snprintf(what, sizeof what, "'%s' (a percent)", node_name(pct));
    else
        snprintf(what, sizeof what, "a percent");
    if (num->kind == AST_E_INT || num->kind == AST_E_DEC) {
        const char *src = S->files[S->file].src + num->span.start;
        int len = (int)(num->span.end - num->span.start);
        q_val v = num->u.num;
        bool fraction = num->kind == AST_E_DEC && v.n >= 0 && v.n <= v.d;
        q_format(v, fraction, fix, sizeof fix);
        if (!fraction) strncat(fix, "%", sizeof fix - strlen(fix) - 1);
        if (dflt)
            sema_err(S, at, "the default of %s is the bare number %.*s: did you mean %s?", what, len, src, fix);
        else
            sema_err(S, at, "cannot compare %s with the bare number %.*s: did you mean %s?", what, len, src, fix);
        return;
    }
    sema_err(S, at, "%s %s with %s: write the other side as a percent too (e.g. 50%%, or share(part, whole))",
             dflt ? "cannot default" : "cannot compare", what, sema_type_name(S, tnum, b1, sizeof b1));
}

static uint32_t sema_compare(sema *S, ast_node *e)
{
    ast_node *a = e->u.bin.a, *b = e->u.bin.b;
    uint32_t ta = sema_expr(S, a), tb = sema_expr(S, b);
    /* a list compared with a value: one error, not a second for the value */
    if ((ta < S->b.p->ntypes && tkind(S, ta) == QT_LIST) || (tb < S->b.p->ntypes && tkind(S, tb) == QT_LIST)) {
        sema_need_value(S, tkind(S, ta) == QT_LIST ? a : b, tkind(S, ta) == QT_LIST ? ta : tb);
        return TY_BOOL;
    }
    if (ta == TY_MEMBER && tb == TY_MEMBER) {
        sema_resolve_member(S, a, TY_ERR);
        return TY_ERR;
    }
    /* a bare name facing an operand already in error: no second error */
    if ((ta == TY_MEMBER && tb == TY_ERR) || (tb == TY_MEMBER && ta == TY_ERR)) return TY_BOOL;
    if (ta == TY_MEMBER) ta = sema_resolve_member(S, a, tb);
    if (tb == TY_MEMBER) tb = sema_resolve_member(S, b, ta);
    ta = sema_need_value(S, a, ta);
    tb = sema_need_value(S, b, tb);
    if (ta == TY_ERR || tb == TY_ERR) return TY_BOOL;
    uint8_t ka = tkind(S, ta), kb = tkind(S, tb);
    bool ordered = e->u.bin.op != OPR_EQ && e->u.bin.op != OPR_NE;
    char b1[128], b2[128];
    if (is_numeric(S, ta) && is_numeric(S, tb)) {
        if (ka == QT_PERCENT && kb != QT_PERCENT) percent_mismatch(S, e, a, b, tb);
        if (kb == QT_PERCENT && ka != QT_PERCENT) percent_mismatch(S, e, b, a, ta);
        return TY_BOOL;
    }
    if (ta != tb && !(ka == kb && (ka == QT_BOOL || ka == QT_DATE || ka == QT_STRING))) {
        sema_err(S, e->u.bin.op_span.end ? e->u.bin.op_span : e->span, "cannot compare %s with %s",
            sema_type_name(S, ta, b1, sizeof b1), sema_type_name(S, tb, b2, sizeof b2));
        return TY_BOOL;
    }
    if (ordered && (ka == QT_ENUM || ka == QT_BOOL || ka == QT_STRING || ka == QT_STRUCT)) {
        sema_err(S, e->u.bin.op_span.end ? e->u.bin.op_span : e->span,
            "%s has no order: only = and != apply (declare it as a 'scale' to compare by rank)",
            sema_type_name(S, ta, b1, sizeof b1));
    }
    return TY_BOOL;
}


/* `FIELD else DEFAULT`: an optional (or computed) field of the record, or
 * DEFAULT when it is absent. Numbers mix (the result is int only when both
 * are); any other type must be the same on both sides. */
static uint32_t sema_else(sema *S, ast_node *e)
{
    ast_node *a = e->u.bin.a, *b = e->u.bin.b;
    uint32_t ta = sema_expr(S, a), tb = sema_expr(S, b);
    if (ta == TY_MEMBER) {
        sema_unknown_name(S, a, TY_ERR);
        return TY_ERR;
    }
    if (ta == TY_ERR) return TY_ERR;
    if (a->sem.res != RES_FIELD || !(kf_flags(S, a->sem.ref) & (QF_OPTIONAL | QF_BATCH))) {
        sema_err(S, a->span, "'%s' is never absent: 'else' follows an optional or computed field of the record",
            node_name(a));
        return TY_ERR;
    }
    ta = sema_need_value(S, a, ta);
    if (tb == TY_MEMBER) tb = sema_resolve_member(S, b, ta);
    tb = sema_need_value(S, b, tb);
    if (ta == TY_ERR || tb == TY_ERR) return TY_ERR;
    if (is_numeric(S, ta) && is_numeric(S, tb)) {
        if ((tkind(S, ta) == QT_PERCENT) != (tkind(S, tb) == QT_PERCENT)) {
            percent_mismatch(S, e, tkind(S, ta) == QT_PERCENT ? a : b, tkind(S, ta) == QT_PERCENT ? b : a,
                             tkind(S, ta) == QT_PERCENT ? tb : ta);
            return TY_ERR;
        }
        return ta == tb ? ta : numeric_result(S, ta, tb, OPR_ADD);
    }
    if (ta != tb && !(tkind(S, ta) == tkind(S, tb) && (tkind(S, ta) == QT_BOOL || tkind(S, ta) == QT_DATE ||
                                                      tkind(S, ta) == QT_STRING))) {
        char b1[128], b2[128];
        sema_err(S, e->u.bin.op_span, "'else' gives %s when '%s' is absent, but '%s' is %s",
            sema_type_name(S, tb, b2, sizeof b2), node_name(a), node_name(a), sema_type_name(S, ta, b1, sizeof b1));
        return TY_ERR;
    }
    return ta;
}

/* A name that must be a field, let or element (not a bare enum member):
 * its type, or TY_ERR once reported. */
static uint32_t known_name(sema *S, ast_node *n)
{
    uint32_t t = sema_name(S, n);
    if (t == TY_MEMBER) {
        sema_unknown_name(S, n, TY_ERR);
        return TY_ERR;
    }
    return t;
}

static uint32_t sema_list_operand(sema *S, ast_node *l, uint32_t *elem)
{
    if (l->kind != AST_E_NAME) {
        sema_err(S, l->span, "expected the name of a list field");
        return TY_ERR;
    }
    uint32_t t = known_name(S, l);
    if (t == TY_ERR) return TY_ERR;
    if (l->sem.res != RES_FIELD || tkind(S, t) != QT_LIST) {
        char tb[128];
        sema_err(S, l->span, "'%s' is %s, not a list field", node_name(l), sema_type_name(S, t, tb, sizeof tb));
        return TY_ERR;
    }
    *elem = S->b.p->types[t].elem;
    return t;
}

/* `05/12 of period`, `start of period`, `end of period`: a date of the
 * rating period, read from a string field of the record ("2024",
 * "2026-Q2"; the VM rejects a record whose text is neither). */
static uint32_t sema_period(sema *S, ast_node *e)
{
    ast_node *f = e->u.period.field;
    uint32_t t = known_name(S, f);
    if (t == TY_ERR) return TY_ERR;
    if (f->sem.res != RES_FIELD || tkind(S, t) != QT_STRING) {
        char tb[128];
        sema_err(S, f->span,
                 "'%s' is %s: a date of the period reads the string field that holds the period (\"2024\", \"2026-Q2\")",
                 node_name(f), f->sem.res == RES_FIELD ? sema_type_name(S, t, tb, sizeof tb) : "not a field of the record");
        return TY_ERR;
    }
    f->sem.type = t + 1;
    return TY_DATE;
}

/* present(f), share(a, b), or a hook call. */
static uint32_t sema_call(sema *S, ast_node *e)
{
    const char *fn = node_name(e);
    size_t nargs = 0;
    for (ast_node *a = e->u.name.args; a; a = a->next) nargs++;
    if (strcmp(fn, "present") == 0) {
        ast_node *a = e->u.name.args;
        if (nargs != 1 || a->kind != AST_E_NAME) {
            sema_err(S, e->span, "present() takes one field name");
            return TY_ERR;
        }
        if (known_name(S, a) == TY_ERR) return TY_ERR;
        if (a->sem.res != RES_FIELD) {
            sema_err(S, a->span, "present() takes a field of the record");
            return TY_ERR;
        }
        return TY_BOOL;
    }
    if (strcmp(fn, "share") == 0) {
        if (nargs != 2) {
            sema_err(S, e->span, "share(part, whole) takes two numbers");
            return TY_ERR;
        }
        uint32_t a = sema_need_num(S, e->u.name.args, sema_expr(S, e->u.name.args));
        uint32_t b = sema_need_num(S, e->u.name.args->next, sema_expr(S, e->u.name.args->next));
        return a == TY_ERR || b == TY_ERR ? TY_ERR : TY_PERCENT;
    }
    uint32_t h = sema_find_hook(S, fn);
    if (h != QUY_NONE) return sema_hook_call(S, e, h);
    sema_cands c = {0};
    char dym[SEMA_SUGGEST_SIZE];
    sema_hook_cands(S, &c);
    const char *sug = sema_suggest(&c, fn, "; did you mean the hook '", DYM_POST, dym, sizeof dym);
    sema_err(S, e->span, "unknown function '%s'%s", fn, sug[0] ? sug : " (available: share, present)");
    return TY_ERR;
}

/* all/any/none/count/sum/min/max/longest run over a list field. */
static uint32_t sema_quant(sema *S, ast_node *e)
{
    uint32_t elem;
    if (sema_list_operand(S, e->u.quant.list, &elem) == TY_ERR) {
        return TY_ERR;
    }
    if (!e->u.quant.body) {
        if (e->u.quant.q != QNT_COUNT) {
            sema_err(S, e->span, "this quantifier needs 'where CONDITION' (or 'of VALUE' for sum)");
            return TY_ERR;
        }
        return TY_INT;
    }
    if (S->depth >= QUY_MAX_LOOPS) {
        sema_err(S, e->span, "quantifiers nested deeper than %d", QUY_MAX_LOOPS);
        return TY_ERR;
    }
    S->scope[S->depth++].elem_type = elem;
    ast_quant q = e->u.quant.q;
    uint32_t ft = e->u.quant.filter ? sema_need_bool(S, e->u.quant.filter, sema_expr(S, e->u.quant.filter),
                                                "the 'where' condition of sum/min/max")
                                    : TY_BOOL;
    uint32_t bt = sema_expr(S, e->u.quant.body);
    if (q == QNT_SUM) {
        bt = sema_need_num(S, e->u.quant.body, bt);
    } else if (q == QNT_MIN || q == QNT_MAX) {
        /* min/max compare: numbers, dates, or a scale by rank */
        bt = sema_need_value(S, e->u.quant.body, bt);
        uint8_t k = bt == TY_ERR ? QT_INT : tkind(S, bt);
        if (bt != TY_ERR && !is_numeric(S, bt) && k != QT_DATE && k != QT_SCALE) {
            char tb[128];
            sema_err(S, e->u.quant.body->span, "min/max need numbers, dates or a scale, not %s",
                sema_type_name(S, bt, tb, sizeof tb));
            bt = TY_ERR;
        }
    } else {
        bt = sema_need_bool(S, e->u.quant.body, bt, "the condition of a quantifier");
    }
    S->depth--;
    if (bt == TY_ERR || ft == TY_ERR) return TY_ERR;
    switch (q) {
    case QNT_COUNT:
    case QNT_RUN: return TY_INT;
    case QNT_SUM: return tkind(S, bt) == QT_INT ? TY_INT : TY_DECIMAL;
    case QNT_MIN:
    case QNT_MAX: return bt;
    default: return TY_BOOL;
    }
}

static uint32_t sema_expr_inner(sema *S, ast_node *e)
{
    switch (e->kind) {
    case AST_E_INT: return TY_INT;
    case AST_E_DEC: return TY_DECIMAL;
    case AST_E_PCT: return TY_PERCENT;
    case AST_E_DATE: return TY_DATE;
    case AST_E_STR: return TY_STRING;
    case AST_E_BOOL: return TY_BOOL;
    case AST_E_NAME: return sema_name(S, e);
    case AST_E_UNARY: {
        uint32_t t = sema_expr(S, e->u.bin.a);
        if (e->u.bin.op == OPR_NOT) return sema_need_bool(S, e->u.bin.a, t, "the operand of 'not'") == TY_ERR ? TY_ERR : TY_BOOL;
        t = sema_need_num(S, e->u.bin.a, t);
        return t == TY_PERCENT ? TY_PERCENT : t;
    }
    case AST_E_BINARY: {
        ast_op op = e->u.bin.op;
        if (op == OPR_AND || op == OPR_OR) {
            uint32_t a = sema_need_bool(S, e->u.bin.a, sema_expr(S, e->u.bin.a), "each side of 'and'/'or'");
            uint32_t b = sema_need_bool(S, e->u.bin.b, sema_expr(S, e->u.bin.b), "each side of 'and'/'or'");
            return a == TY_ERR || b == TY_ERR ? TY_ERR : TY_BOOL;
        }
        if (op >= OPR_EQ && op <= OPR_GE) return sema_compare(S, e);
        if (op == OPR_ELSE) return sema_else(S, e);
        uint32_t a = sema_need_num(S, e->u.bin.a, sema_expr(S, e->u.bin.a));
        uint32_t b = sema_need_num(S, e->u.bin.b, sema_expr(S, e->u.bin.b));
        return numeric_result(S, a, b, op);
    }
    case AST_E_CALL: return sema_call(S, e);
    case AST_E_PERIOD: return sema_period(S, e);
    case AST_E_QUANT: return sema_quant(S, e);
    default:
        sema_err(S, e->span, "not an expression");
        return TY_ERR;
    }
}

uint32_t sema_expr(sema *S, ast_node *e)
{
    uint32_t t = sema_expr_inner(S, e);
    if (t != TY_MEMBER && t != TY_ERR) e->sem.type = t + 1;
    return t;
}


static void add_read(u32vec *x, uint32_t slot)
{
    for (size_t i = 0; i < x->n; i++)
        if (x->v[i] == slot) return;
    u32_push(x, slot);
}

/* Values the VM stack holds at most while cg_expr's code for e runs (the
 * verifier rejects more than QUY_MAX_STACK). Mirrors cg_expr's order: a
 * binary operator keeps its left value while the right one is computed. */
static uint32_t stack_need(sema *S, ast_node *e)
{
    if (!e) return 0;
    uint32_t a, b;
    switch (e->kind) {
    case AST_E_NAME:
        if (e->sem.res == RES_LET) return stack_need(S, S->lets[e->sem.ref].node->u.check.expr);
        return 1;
    case AST_E_UNARY: return stack_need(S, e->u.bin.a);
    case AST_E_BINARY:
        a = stack_need(S, e->u.bin.a);
        b = stack_need(S, e->u.bin.b);
        if (e->u.bin.op == OPR_AND || e->u.bin.op == OPR_OR) return a > b ? a : b; /* the left value is popped */
        if (e->u.bin.op == OPR_ELSE) return b > 1 ? b : 1;
        return a > b + 1 ? a : b + 1;
    case AST_E_CALL: {
        uint32_t n = 0, most = 1;
        for (ast_node *x = e->u.name.args; x; x = x->next, n++) {
            uint32_t need = n + stack_need(S, x);
            if (need > most) most = need;
        }
        return most;
    }
    case AST_E_QUANT: {
        uint32_t f = stack_need(S, e->u.quant.filter), bd = stack_need(S, e->u.quant.body);
        uint32_t m = f > bd ? f : bd;
        return m > 1 ? m : 1;
    }
    default: return 1;
    }
}

/* The code for e once every let it uses is written out (x_size). */
static x_size x_join(x_size a, x_size b)
{
    return (x_size){a.ops + b.ops, a.height > b.height ? a.height : b.height};
}

static x_size expr_size(sema *S, ast_node *e)
{
    x_size r = {0, 0};
    if (!e) return r;
    switch (e->kind) {
    case AST_E_NAME:
        if (e->sem.res == RES_LET && e->sem.ref < S->nlets) return S->let_size[e->sem.ref];
        return (x_size){1, 0};
    case AST_E_UNARY: r = expr_size(S, e->u.bin.a); break;
    case AST_E_BINARY: r = x_join(expr_size(S, e->u.bin.a), expr_size(S, e->u.bin.b)); break;
    case AST_E_CALL:
        for (ast_node *x = e->u.name.args; x; x = x->next) r = x_join(r, expr_size(S, x));
        break;
    case AST_E_QUANT:
        r = x_join(x_join(expr_size(S, e->u.quant.list), expr_size(S, e->u.quant.body)), expr_size(S, e->u.quant.filter));
        break;
    default: return (x_size){1, 0};
    }
    return (x_size){r.ops + 1, r.height + 1};
}

void sema_add_let(sema *S, s_item item)
{
    const ast_str *nm = &item.node->u.check.name;
    uint32_t i = (uint32_t)S->nlets, old;
    int added = strset_add(&S->let_names, nm->s ? nm->s : "", nm->len, i, &old);
    if (added < 0) ast_bail("out of memory");
    if (added == 0) *strset_get(&S->let_names, nm->s ? nm->s : "", nm->len) = i; /* the later one hides it */
    S->let_size[i] = expr_size(S, item.node->u.check.expr);
    ast_node *let = item.node;
    if (let->sem.type && S->let_size[i].ops > SEMA_MAX_LET_SIZE) {
        sema_err(S, let->span,
                 "let '%s' stands for %llu operations once the lets it uses are written out (at most %u): the "
                 "code repeats a let at each use, so a chain of lets each using the one before twice doubles "
                 "at every step",
                 nm->s, (unsigned long long)S->let_size[i].ops, SEMA_MAX_LET_SIZE);
        let->sem.type = 0; /* its uses are errors already reported */
    } else if (let->sem.type && S->let_size[i].height > SEMA_MAX_LET_HEIGHT) {
        sema_err(S, let->span,
                 "let '%s' nests %u operators deep once the lets it uses are written out (at most %u, as in one "
                 "expression): compute part of it in a field, or shorten the chain of lets",
                 nm->s, S->let_size[i].height, SEMA_MAX_LET_HEIGHT);
        let->sem.type = 0;
    }
    if (!let->sem.type) S->let_size[i] = (x_size){1, 0};
    S->lets[S->nlets++] = item;
}

bool sema_check_depth(sema *S, ast_node *e)
{
    uint32_t need = stack_need(S, e);
    if (need <= QUY_MAX_STACK) return true;
    sema_err(S, e->span,
             "this expression nests too deeply: it needs %u values at once, the VM holds %d (write a long sum or "
             "product without nested parentheses, a + b + c, or split the condition into clauses)",
             need, QUY_MAX_STACK);
    return false;
}

bool sema_read_guarded(sema *S, const s_reads *r, size_t i)
{
    if (!(kf_flags(S, r->val.v[i]) & (QF_OPTIONAL | QF_BATCH))) return true;
    for (size_t j = 0; j < r->pres.n; j++)
        if (r->pres.v[j] == r->val.v[i]) return true;
    return false;
}

void sema_collect_reads(sema *S, ast_node *e, s_reads *r)
{
    if (!e) return;
    switch (e->kind) {
    case AST_E_NAME:
        if (e->sem.res == RES_FIELD) add_read(&r->val, e->sem.ref);
        if (e->sem.res == RES_LET) sema_collect_reads(S, S->lets[e->sem.ref].node->u.check.expr, r);
        break;
    case AST_E_UNARY: sema_collect_reads(S, e->u.bin.a, r); break;
    case AST_E_BINARY:
        /* `f else d` reads f only when present: neither a value read
         * (no 'if present' needed, a check still applies) nor a guard */
        if (e->u.bin.op != OPR_ELSE) sema_collect_reads(S, e->u.bin.a, r);
        sema_collect_reads(S, e->u.bin.b, r);
        break;
    case AST_E_CALL:
        if (strcmp(node_name(e), "present") == 0) {
            if (e->u.name.args && e->u.name.args->sem.res == RES_FIELD) add_read(&r->pres, e->u.name.args->sem.ref);
        } else {
            /* an optional field given bare to a hook is nil when absent, not an error */
            for (ast_node *a = e->u.name.args; a; a = a->next)
                if (e->sem.res != RES_HOOK || !hook_nil_arg(S, a)) sema_collect_reads(S, a, r);
        }
        break;
    case AST_E_PERIOD: sema_collect_reads(S, e->u.period.field, r); break;
    case AST_E_QUANT:
        sema_collect_reads(S, e->u.quant.list, r);
        sema_collect_reads(S, e->u.quant.filter, r);
        sema_collect_reads(S, e->u.quant.body, r);
        break;
    default: break;
    }
}
