/*
 * cg_lower.c — lowering of a rated kind: checks, lets, rules and their clauses, flags and gaps, in decision order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sema_int.h"

/* ---------------------------------------------------------------------
 * 4b. Clauses, rules, flags
 * ------------------------------------------------------------------- */

/* Check one clause; returns false on error. `ctx` names the construct. */
bool sema_clause(sema *S, ast_node *c, const char *ctx)
{
    size_t before = S->d->nerrors;
    sema_need_bool(S, c->u.clause.expr, sema_expr(S, c->u.clause.expr), ctx);
    if (c->u.clause.unless)
        sema_need_bool(S, c->u.clause.unless, sema_expr(S, c->u.clause.unless), "an 'unless' exception");
    if (S->d->nerrors != before) return false;
    if (!sema_check_depth(S, c->u.clause.expr) || (c->u.clause.unless && !sema_check_depth(S, c->u.clause.unless)))
        return false;
    s_reads r = {0};
    sema_collect_reads(S, c->u.clause.expr, &r);
    sema_collect_reads(S, c->u.clause.unless, &r);
    if (!c->u.clause.if_present) {
        for (size_t i = 0; i < r.val.n; i++) {
            if (sema_read_guarded(S, &r, i)) continue;
            const char *nm = S->kf[r.val.v[i]].name;
            sema_err(S, c->span,
                     "'%s' may be absent (optional): end the clause with 'if present' to skip it when absent, "
                     "or test present(%s) in it",
                     nm, nm);
        }
    }
    sema_reads_free(&r);
    return S->d->nerrors == before;
}

/* Emit one clause; returns the index of its CLAUSE instruction (rules) or
 * of the last instruction of its value (flags, `as_value`). */
static uint32_t cg_emit_clause(sema *S, ast_node *c, uint32_t rule, const char *cite, size_t cite_len, bool as_value,
                               u32vec *skips)
{
    /* In a not_rated / deferred / khtnv rule, a clause skipped for lack of
     * data means the case is not established: the rule does not apply. */
    uint8_t trigger = rule != QUY_NONE && (S->b.p->rules[rule].outcome == QO_KHTNV ||
                                            S->b.p->rules[rule].outcome >= QO_NOT_RATED);
    cg_builder *b = &S->b;
    uint32_t ci = b->p->nclauses;
    q_clause *qc = cg_clause(b);
    qc->rule = rule;
    qc->text = sema_span_text(S, c->u.clause.expr->span);
    qc = &b->p->clauses[ci];
    qc->label = str_of(S, c->u.clause.label);
    qc->cite = cg_str(b, cite, cite_len);
    qc->layer = cg_cstr(b, S->files[S->file].layer);
    qc->exc_text = c->u.clause.unless ? sema_span_text(S, c->u.clause.unless->span) : 0;
    qc = &b->p->clauses[ci];
    qc->if_present = c->u.clause.if_present;
    qc->pos = pos_of(S, c->span);
    s_reads r = {0};
    sema_collect_reads(S, c->u.clause.expr, &r);
    sema_collect_reads(S, c->u.clause.unless, &r);
    qc->first_read = b->p->nreads;
    for (size_t i = 0; i < r.val.n; i++) cg_read(b, (uint16_t)r.val.v[i]);
    b->p->clauses[ci].nreads = b->p->nreads - b->p->clauses[ci].first_read;

    if (c->u.clause.if_present)
        for (size_t i = 0; i < r.val.n; i++)
            if (kf_flags(S, r.val.v[i]) & (QF_OPTIONAL | QF_BATCH))
                u32_push(skips, cg_emit(b, OP_IFABSENT, (uint16_t)r.val.v[i], 0, trigger, pos_of(S, c->span)));
    sema_reads_free(&r);
    cg_expr(S, c->u.clause.expr);
    if (c->u.clause.unless) {
        uint32_t j = cg_emit(b, OP_JFKEEP, 0, 0, 0, pos_of(S, c->u.clause.unless->span));
        cg_expr(S, c->u.clause.unless);
        cg_emit(b, OP_EXC, (uint16_t)ci, 0, 0, pos_of(S, c->u.clause.unless->span));
        cg_patch(b, j, cg_here(b));
    }
    if (as_value) return ci;
    return cg_emit(b, OP_CLAUSE, (uint16_t)ci, 0, 0, pos_of(S, c->span));
}

static bool clause_always_true(ast_node *c)
{
    return c->u.clause.expr->kind == AST_E_BOOL && c->u.clause.expr->u.num.n == 1 && !c->u.clause.unless;
}

/* Append a flag definition (strings already interned). */
uint32_t cg_new_flag(sema *S, uint32_t name, uint32_t message, uint32_t cite, uint32_t layer, uint8_t kind,
                         uint32_t clause, uint32_t pos)
{
    uint32_t fi = S->b.p->nflagdefs;
    q_flagdef *f = cg_flag(&S->b);
    f->name = name;
    f->message = message ? message : name;
    f->cite = cite;
    f->layer = layer;
    f->kind = kind;
    f->clause = clause;
    f->pos = pos;
    return fi;
}

/* flag / gap item: clauses AND-ed into one value, then FLAG. */
static void cg_flag_item(sema *S, ast_node *it, bool gap)
{
    cg_builder *b = &S->b;
    bool ok = true;
    for (ast_node *c = it->u.rule.clauses; c; c = c->next) ok &= sema_clause(S, c, gap ? "a gap condition" : "a flag condition");
    if (!it->u.rule.cite.len) sema_err(S, it->span, "%s '%s' needs a 'cite'", gap ? "gap" : "flag", it->u.rule.name.s);
    if (!ok) return;
    uint32_t name = str_of(S, it->u.rule.name);
    uint32_t fi = cg_new_flag(S, name, it->u.rule.label.len ? str_of(S, it->u.rule.label) : 0, str_of(S, it->u.rule.cite),
                           cg_cstr(b, S->files[S->file].layer), gap ? QFL_GAP : QFL_FLAG, b->p->nclauses,
                           pos_of(S, it->span));
    u32vec skips = {0}, ands = {0};
    for (ast_node *c = it->u.rule.clauses; c; c = c->next) {
        if (c != it->u.rule.clauses) u32_push(&ands, cg_emit(b, OP_JFKEEP, 0, 0, 0, pos_of(S, c->span)));
        cg_emit_clause(S, c, QUY_NONE, it->u.rule.cite.s, it->u.rule.cite.len, true, &skips);
    }
    for (size_t i = 0; i < ands.n; i++) cg_patch(b, ands.v[i], cg_here(b));
    cg_emit(b, OP_FLAG, (uint16_t)fi, 0, 0, pos_of(S, it->span));
    for (size_t i = 0; i < skips.n; i++) cg_patch(b, skips.v[i], cg_here(b));
    u32_free(&ands);
    u32_free(&skips);
}

static uint32_t cg_gap_flag(sema *S)
{
    if (S->gap_flag != QUY_NONE) return S->gap_flag;
    cg_builder *b = &S->b;
    S->gap_flag = cg_new_flag(S, cg_cstr(b, "gap"),
                           cg_cstr(b, "Không quy tắc xếp loại nào của văn bản khớp với hồ sơ này: văn bản bỏ ngỏ "
                                      "trường hợp này (khoảng trống)"),
                           cg_cstr(b, ""), cg_cstr(b, ""), QFL_FLAG, QUY_NONE, 0);
    return S->gap_flag;
}

static uint32_t cg_rule_flag(sema *S, ast_node *r)
{
    if (!r->u.rule.flag.len) return QUY_NONE;
    if (r->u.rule.flag.len == 3 && memcmp(r->u.rule.flag.s, "gap", 3) == 0) return cg_gap_flag(S);
    return cg_new_flag(S, str_of(S, r->u.rule.flag), r->u.rule.label.len ? str_of(S, r->u.rule.label) : 0,
                    str_of(S, r->u.rule.cite), cg_cstr(&S->b, S->files[S->file].layer), QFL_FLAG, QUY_NONE,
                    pos_of(S, r->span));
}


/* The kind's fields, for name lookup (copies: the string pool moves as it grows). */
static void kind_field_names(sema *S, const q_kind *qk)
{
    cg_builder *b = &S->b;
    S->kf = ast_xcalloc(qk->nfields, sizeof *S->kf);
    S->nkf = qk->nfields;
    for (uint32_t i = 0; i < qk->nfields; i++) {
        const q_field *f = &b->p->fields[qk->first_field + i];
        S->kf[i] = (s_kfield){ast_xstrdup(prog_str(b->p, f->name)), f->slot, f->type, f->flags};
    }
}

/* One `check`: a block that leaves true/false; a check reading an absent
 * optional field does not apply (leaves true). */
static void cg_check_item(sema *S, ast_node *c, uint32_t k)
{
    cg_builder *b = &S->b;
    size_t before = S->d->nerrors;
    sema_need_bool(S, c->u.check.expr, sema_expr(S, c->u.check.expr), "a check");
    if (S->d->nerrors != before || !sema_check_depth(S, c->u.check.expr)) return;
    s_reads r = {0};
    sema_collect_reads(S, c->u.check.expr, &r);
    uint32_t chk = b->p->nchecks;
    q_check *qc = cg_check(b);
    qc->entry = cg_here(b);
    /* blame the first field read, else the first tested with present() */
    qc->field = b->p->kinds[k].first_field + (r.val.n ? r.val.v[0] : r.pres.n ? r.pres.v[0] : 0);
    qc->pos = pos_of(S, c->span);
    uint32_t txt = sema_span_text(S, c->u.check.expr->span);
    b->p->checks[chk].text = c->u.check.label.len ? str_of(S, c->u.check.label) : txt;
    u32vec skips = {0};
    for (size_t i = 0; i < r.val.n; i++)
        if (kf_flags(S, r.val.v[i]) & (QF_OPTIONAL | QF_BATCH))
            u32_push(&skips, cg_emit(b, OP_IFABSENT, (uint16_t)r.val.v[i], 0, 0, pos_of(S, c->span)));
    cg_expr(S, c->u.check.expr);
    cg_emit(b, OP_HALT, 0, 0, 0, pos_of(S, c->span));
    if (skips.n) {
        for (size_t i = 0; i < skips.n; i++) cg_patch(b, skips.v[i], cg_here(b));
        cg_emit(b, OP_PUSHK, 0, cg_const(b, q_bool(true), QT_BOOL), 0, pos_of(S, c->span));
        cg_emit(b, OP_HALT, 0, 0, 0, pos_of(S, c->span));
    }
    u32_free(&skips);
    sema_reads_free(&r);
}

/* The clauses of rule r from one layer (its own, or an `also requires`):
 * each CLAUSE jumps to `fails` when it does not hold; its `if present`
 * skips land just after it. False if one is always-true-breaking. */
static void cg_rule_clauses(sema *S, ast_node *clauses, uint32_t r, const ast_str *cite, const char *ctx, u32vec *fails,
                            bool *all_true)
{
    cg_builder *b = &S->b;
    u32vec skips = {0};
    for (ast_node *c = clauses; c; c = c->next) {
        if (!sema_clause(S, c, ctx)) {
            *all_true = false;
            continue;
        }
        *all_true &= clause_always_true(c);
        u32_push(fails, cg_emit_clause(S, c, r, cite->s, cite->len, false, &skips));
        for (size_t i = 0; i < skips.n; i++) cg_patch(b, skips.v[i], cg_here(b));
        skips.n = 0;
    }
    u32_free(&skips);
}

/* Rule ri of R: its q_rule, clauses (with `also requires`), gaps for
 * `otherwise`, then DECIDE. Returns the DECIDE's address; *always is set
 * when the rule holds for every record. */
static uint32_t cg_rule_item(sema *S, s_rate *R, size_t ri, bool *always)
{
    cg_builder *b = &S->b;
    ast_node *rn = R->rules[ri].node;
    S->file = R->rules[ri].file;
    if (*always) sema_warn(S, rn->span, "rule '%s' can never be reached: an earlier rule always holds",
                           rn->u.rule.otherwise ? "otherwise" : rn->u.rule.name.s);
    int o;
    sema_check_outcome(S, rn, &o);
    if (!rn->u.rule.otherwise && !rn->u.rule.cite.len)
        sema_err(S, rn->span, "rule '%s' needs a 'cite' naming the clause it encodes", rn->u.rule.name.s);
    uint32_t r = b->p->nrules;
    q_rule *qr = cg_rule(b);
    qr->name = rn->u.rule.otherwise ? cg_cstr(b, "otherwise") : str_of(S, rn->u.rule.name);
    qr = &b->p->rules[r];
    qr->label = str_of(S, rn->u.rule.label);
    qr = &b->p->rules[r];
    qr->cite = str_of(S, rn->u.rule.cite);
    qr = &b->p->rules[r];
    qr->layer = cg_cstr(b, S->files[S->file].layer);
    qr = &b->p->rules[r];
    qr->outcome = (uint8_t)(o < 0 ? QO_KHTNV : o);
    qr->flags = rn->u.rule.otherwise ? QR_OTHERWISE : 0;
    qr->pos = pos_of(S, rn->span);
    qr->first_clause = b->p->nclauses;
    uint32_t fl = cg_rule_flag(S, rn);
    b->p->rules[r].flag = fl;

    u32vec fails = {0};
    bool all_true = true; /* every clause is the literal `true` */
    cg_rule_clauses(S, rn->u.rule.clauses, r, &rn->u.rule.cite, "a rule condition", &fails, &all_true);
    for (s_also *a = R->rules[ri].also; a; a = a->next) {
        S->file = a->file;
        if (!a->node->u.rule.cite.len) sema_err(S, a->node->span, "'also requires' needs a 'cite'");
        cg_rule_clauses(S, a->node->u.rule.clauses, r, &a->node->u.rule.cite, "a requirement", &fails, &all_true);
        S->file = R->rules[ri].file;
    }
    b->p->rules[r].nclauses = b->p->nclauses - b->p->rules[r].first_clause;
    if (rn->u.rule.otherwise) {
        /* gaps: which hole of the text this record fell into */
        for (size_t i = 0; i < R->nitems; i++) {
            if (R->items[i].node->kind != AST_D_GAP) continue;
            S->file = R->items[i].file;
            cg_flag_item(S, R->items[i].node, true);
        }
        S->file = R->rules[ri].file;
    }
    uint32_t decide = cg_emit(b, OP_DECIDE, (uint16_t)r, 0, 0, pos_of(S, rn->span));
    for (size_t i = 0; i < fails.n; i++) cg_patch(b, fails.v[i], cg_here(b));
    u32_free(&fails);
    if (all_true && !rn->u.rule.otherwise) *always = true;
    return decide;
}

void cg_lower_kind(sema *S, s_record *rec, s_rate *R)
{
    cg_builder *b = &S->b;
    uint32_t k = b->p->nkinds;
    q_kind *qk = cg_kind(b);
    qk->name = cg_cstr(b, rec->name);
    qk = &b->p->kinds[k];
    qk->label = str_of(S, rec->decl->u.decl.label);
    qk->entry = QUY_NONE;
    rec->kind = (int)k;
    S->kind = k;
    s_decls ds = sema_kind_decls(S, rec);
    sema_kind_fields(S, rec, &b->p->kinds[k], &ds);
    kind_field_names(S, &b->p->kinds[k]);
    S->nlets = 0;
    strset_free(&S->let_names);
    S->depth = 0;

    /* checks, from every record of the ancestry and their amendments */
    b->p->kinds[k].first_check = b->p->nchecks;
    for (size_t ci = 0; ci < ds.n; ci++) {
        S->file = ds.v[ci].file;
        for (ast_node *c = ds.v[ci].node->u.decl.items; c; c = c->next)
            if (c->kind == AST_D_CHECK) cg_check_item(S, c, k);
    }
    free(ds.v);
    b->p->kinds[k].nchecks = b->p->nchecks - b->p->kinds[k].first_check;
    if (!R) return;

    /* lets (typed once, in order; each sees the ones before it) */
    S->lets = ast_xcalloc(R->nitems, sizeof *S->lets);
    S->let_size = ast_xcalloc(R->nitems, sizeof *S->let_size);
    for (size_t i = 0; i < R->nitems; i++) {
        ast_node *it = R->items[i].node;
        if (it->kind != AST_D_LET) continue;
        S->file = R->items[i].file;
        uint32_t t = sema_need_value(S, it->u.check.expr, sema_expr(S, it->u.check.expr));
        it->sem.type = t == TY_ERR ? 0 : t + 1;
        sema_add_let(S, R->items[i]);
    }

    /* caps and quota order keys (blocks of their own, before the rate block) */
    sema_kind_batch(S, rec, k);

    /* rules, after the `adjust ... record` steps */
    b->p->kinds[k].entry = cg_here(b);
    b->p->kinds[k].first_rule = b->p->nrules;
    sema_adjust_steps(S, rec->name, false);
    uint32_t *decides = ast_xcalloc(R->nrules, sizeof *decides);
    bool always = false;
    for (size_t ri = 0; ri < R->nrules; ri++) decides[ri] = cg_rule_item(S, R, ri, &always);
    b->p->kinds[k].nrules = b->p->nrules - b->p->kinds[k].first_rule;
    /* The flag section: every record that got a tier. */
    uint32_t flags_at = cg_here(b);
    for (size_t ri = 0; ri < R->nrules; ri++) cg_patch(b, decides[ri], flags_at);
    free(decides);
    for (size_t i = 0; i < R->nitems; i++) {
        if (R->items[i].node->kind != AST_D_FLAG) continue;
        S->file = R->items[i].file;
        cg_flag_item(S, R->items[i].node, false);
    }
    sema_adjust_steps(S, rec->name, true);
    cg_emit(b, OP_HALT, 0, 0, 0, pos_of(S, R->decl->span));
}
