/*
 * sema_batch.c — batch steps: caps and quota order keys compiled per kind, and the quotas in force (phase 5).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sema_int.h"

/* ---------------------------------------------------------------------
 * Batch steps: caps and quota order keys, compiled per kind as batch
 * expressions (q_bexpr: code that leaves one value, run by vm_eval)
 * ------------------------------------------------------------------- */

static const s_kfield *kf_find(sema *S, const char *name)
{
    for (size_t i = 0; i < S->nkf; i++)
        if (strcmp(S->kf[i].name, name) == 0) return &S->kf[i];
    return NULL;
}

/* Does `cap X` name kind k's record or one of its ancestors? */
static bool names_kind(sema *S, s_record *rec, const ast_str *name)
{
    size_t n;
    s_record **chain = sema_record_chain(S, rec, &n);
    bool found = false;
    for (size_t i = 0; i < n && !found; i++)
        found = strlen(chain[i]->name) == name->len && memcmp(chain[i]->name, name->s, name->len) == 0;
    free(chain);
    return found;
}

static void sema_cap(sema *S, ast_node *c, uint32_t k)
{
    cg_builder *b = &S->b;
    ast_node *bd = c->u.cap.bound;
    q_cap cap = {.kind = k, .when = QUY_NONE, .unless = QUY_NONE};
    bool ok = true;
    if (!c->u.cap.cite.len) {
        sema_err(S, c->span, "a cap needs a 'cite' naming the clause it encodes");
        ok = false;
    }
    if (bd->kind == AST_E_NAME && sema_outcome_of(&bd->u.name.text) >= 0 && sema_outcome_of(&bd->u.name.text) <= QO_HTXSNV) {
        cap.bound = QCAP_TIER;
        cap.tier = (uint8_t)sema_outcome_of(&bd->u.name.text);
    } else if (bd->kind == AST_E_NAME && kf_find(S, bd->u.name.text.s)) {
        const s_kfield *f = kf_find(S, bd->u.name.text.s);
        if (f->type != b->p->tier_type) {
            sema_err(S, bd->span, "a cap's bound must be a tier: '%s' is not a tier field", bd->u.name.text.s);
            ok = false;
        }
        cap.bound = QCAP_FIELD;
        cap.slot = (uint16_t)f->slot;
    } else if (bd->kind == AST_E_MEMBER && bd->u.member.a->kind == AST_E_NAME &&
               strcmp(bd->u.member.field.s, "tier") == 0 &&
               (name_is(bd->u.member.a, "head_of") || name_is(bd->u.member.a, "unit"))) {
        const char *ref = node_name(bd->u.member.a);
        const s_kfield *f = kf_find(S, ref);
        if (!f || tkind(S, f->type) != QT_STRING) {
            sema_err(S, bd->span, "'%s.tier' needs a string field '%s' (the id of a record in the batch) in record '%s'",
                ref, ref, prog_str(b->p, b->p->kinds[k].name));
            ok = false;
        } else {
            cap.bound = name_is(bd->u.member.a, "head_of") ? QCAP_HEAD_OF : QCAP_UNIT;
            cap.slot = (uint16_t)f->slot;
        }
    } else if (bd->kind == AST_E_NAME) {
        sema_cands cd = {0};
        char dym[SEMA_SUGGEST_SIZE];
        sema_field_cands(S, &cd);
        sema_err(S, bd->span, "unknown field '%s' in record '%s'%s: a cap's bound is a tier (httnv), a tier field, "
                 "head_of.tier or unit.tier", bd->u.name.text.s, prog_str(b->p, b->p->kinds[k].name),
                 sema_suggest(&cd, bd->u.name.text.s, " (did you mean '", "'?)", dym, sizeof dym));
        ok = false;
    } else {
        sema_err(S, bd->span,
            "a cap's bound is a tier (httnv), a tier field of the record (civil_servant_tier), head_of.tier or "
            "unit.tier");
        ok = false;
    }
    ast_node *conds[2] = {c->u.cap.when, c->u.cap.unless};
    uint32_t ex[2] = {QUY_NONE, QUY_NONE};
    for (int i = 0; i < 2; i++) {
        if (!conds[i]) continue;
        size_t before = S->d->nerrors;
        sema_need_bool(S, conds[i], sema_expr(S, conds[i]), i ? "a cap's 'unless'" : "a cap's 'when'");
        if (S->d->nerrors != before || !sema_check_depth(S, conds[i])) {
            ok = false;
            continue;
        }
        if (ok) ex[i] = cg_expr_block(S, conds[i], k);
    }
    if (!ok) return;
    cap.when = ex[0];
    cap.unless = ex[1];
    cap.text = sema_span_text(S, bd->span);
    cap.cite = str_of(S, c->u.cap.cite);
    cap.layer = cg_cstr(b, S->files[S->file].layer);
    cap.pos = pos_of(S, c->span);
    *cg_cap(b) = cap;
}

/* Caps naming kind k (or an ancestor record), then the order keys of
 * every quota, compiled for kind k. */
void sema_kind_batch(sema *S, s_record *rec, uint32_t k)
{
    uint32_t saved = S->file;
    SEMA_EACH_DECL(S, fi, c)
        if (c->kind == AST_D_CAP && names_kind(S, rec, &c->u.cap.kind)) sema_cap(S, c, k);
    for (size_t qi = 0; qi < S->nquotas; qi++) {
        S->file = S->quotas[qi].file;
        uint32_t j = 0;
        for (ast_node *key = S->quotas[qi].node->u.quota.keys; key; key = key->next, j++) {
            /* tentative: a kind without the key's fields has no key (sorts
             * last); sema_quotas reports a key no kind has */
            size_t mark = S->d->n, before = S->d->nerrors;
            uint32_t t = sema_expr(S, key->u.clause.expr);
            if (S->d->nerrors != before || t == TY_ERR || t == TY_MEMBER || !is_numeric(S, t)) {
                diag_rollback(S->d, mark);
                continue;
            }
            if (!sema_check_depth(S, key->u.clause.expr)) continue;
            uint32_t x = cg_expr_block(S, key->u.clause.expr, k);
            q_qkey *qk = cg_qkey(&S->b);
            qk->quota = (uint32_t)qi;
            qk->key = j;
            qk->kind = k;
            qk->expr = x;
            qk->desc = key->u.clause.desc;
        }
    }
    S->file = saved;
}

/* ---------------------------------------------------------------------
 * 5. Quotas
 * ------------------------------------------------------------------- */

/* The quotas in force: a later layer's `replace quota T` supersedes the
 * quota on T of an earlier layer; a second quota on T without `replace`
 * is an error (a variant changes the parent's quota explicitly). */
void sema_collect_quotas(sema *S)
{
    SEMA_EACH_DECL(S, fi, dcl) {
        if (dcl->kind != AST_D_QUOTA) continue;
        size_t at = S->nquotas;
        for (size_t i = 0; i < S->nquotas; i++) {
            ast_node *o = S->quotas[i].node;
            if (o->u.quota.tier.len != dcl->u.quota.tier.len ||
                memcmp(o->u.quota.tier.s, dcl->u.quota.tier.s, o->u.quota.tier.len) != 0)
                continue;
            if (!dcl->u.quota.replace || S->quotas[i].file == fi)
                sema_err(S, dcl->u.quota.tier_span, "%s '%s' already has a quota on '%s'%s", S->quotas[i].file == fi ? "this ruleset" : "ruleset",
                    S->files[S->quotas[i].file].layer, o->u.quota.tier.s,
                    S->quotas[i].file == fi ? "" : ": write 'replace quota …' to change it");
            at = i;
        }
        if (at == S->nquotas) {
            if (dcl->u.quota.replace) {
                sema_err(S, dcl->span, "'replace quota': no earlier ruleset of the chain has a quota on '%s'",
                    dcl->u.quota.tier.s);
                continue;
            }
            if (S->nquotas == sizeof S->quotas / sizeof S->quotas[0]) {
                sema_err(S, dcl->span, "too many quotas: a ruleset chain has at most %zu",
                         sizeof S->quotas / sizeof S->quotas[0]);
                continue;
            }
            S->nquotas++;
        }
        S->quotas[at] = (s_item){dcl, (uint32_t)fi};
        if (S->quotas[0].node->u.quota.per.len != dcl->u.quota.per.len ||
            memcmp(S->quotas[0].node->u.quota.per.s, dcl->u.quota.per.s, dcl->u.quota.per.len) != 0)
            sema_err(S, dcl->u.quota.per_span, "every quota of a ruleset groups by the same field ('%s')",
                S->quotas[0].node->u.quota.per.s);
    }
}

void sema_quotas(sema *S)
{
    for (size_t qi = 0; qi < S->nquotas; qi++) {
        ast_node *dcl = S->quotas[qi].node;
        S->file = S->quotas[qi].file;
        int t = sema_outcome_of(&dcl->u.quota.tier), of = sema_outcome_of(&dcl->u.quota.of_tier);
        if (t < 0 || t > QO_HTXSNV) sema_err(S, dcl->u.quota.tier_span, "a quota limits a tier (htxsnv, httnv, htnv)");
        if (of < 0 || of > QO_HTXSNV) sema_err(S, dcl->u.quota.of_span, "a quota is counted against a tier (htxsnv, httnv, htnv)");
        if (t >= 0 && of >= 0 && t <= QO_HTXSNV && of <= QO_HTXSNV && of != t - 1)
            sema_err(S, dcl->u.quota.of_span,
                "a quota on '%s' is counted against the tier just below it ('%s'), where the demoted records go",
                q_outcome_code[t], t > 0 ? q_outcome_code[t - 1] : "?");
        int rnd = -1;
        static const char *const rounds[] = {"down", "half_up", "up"};
        for (int i = 0; i < 3; i++)
            if (dcl->u.quota.rounding.len == strlen(rounds[i]) &&
                memcmp(dcl->u.quota.rounding.s, rounds[i], dcl->u.quota.rounding.len) == 0)
                rnd = i;
        if (dcl->u.quota.rounding.len && rnd < 0)
            sema_err(S, dcl->u.quota.rounding_span, "unknown rounding '%s' (down, half_up or up)", dcl->u.quota.rounding.s);
        int basis = QBASIS_FINAL;
        if (dcl->u.quota.basis.s && !strcmp(dcl->u.quota.basis.s, "eligible")) basis = QBASIS_ELIGIBLE;
        if (dcl->u.quota.basis.s && !strcmp(dcl->u.quota.basis.s, "at_least")) basis = QBASIS_AT_LEAST;
        bool per_ok = false;
        for (uint32_t k = 0; k < S->b.p->nkinds; k++) {
            uint32_t f = prog_find_field(S->b.p, k, dcl->u.quota.per.s, dcl->u.quota.per.len);
            if (f == QUY_NONE) continue;
            per_ok = true;
            if (S->b.p->types[S->b.p->fields[f].type].kind != QT_STRING)
                sema_err(S, dcl->u.quota.per_span, "a quota groups by a string field; '%s' of record '%s' is not one",
                    dcl->u.quota.per.s, prog_str(S->b.p, S->b.p->kinds[k].name));
        }
        if (!per_ok) sema_err(S, dcl->u.quota.per_span, "no record has a field '%s' to group the quota by", dcl->u.quota.per.s);
        if (!dcl->u.quota.cite.len) sema_err(S, dcl->span, "a quota needs a 'cite'");
        uint32_t nkeys = 0;
        for (ast_node *key = dcl->u.quota.keys; key; key = key->next, nkeys++) {
            bool any = false;
            for (uint32_t i = 0; i < S->b.p->nqkeys; i++)
                any |= S->b.p->qkeys[i].quota == qi && S->b.p->qkeys[i].key == nkeys;
            if (!any)
                sema_err(S, key->span, "order key: no rated record has a number here (check the field names and that it is "
                                  "a number, e.g. score or count quarters where it = htxsnv)");
        }
        q_quota *q = cg_quota(&S->b);
        q->tier = (uint8_t)(t < 0 ? 0 : t);
        q->of_tier = (uint8_t)(of < 0 ? 0 : of);
        q->rounding = (uint8_t)(rnd < 0 ? QROUND_DOWN : rnd);
        q->basis = (uint8_t)basis;
        q->small_group = (uint32_t)dcl->u.quota.small_group;
        q->nkeys = nkeys;
        q->share = dcl->u.quota.share ? dcl->u.quota.share->u.num : q_int(0);
        q->per = str_of(S, dcl->u.quota.per);
        q = &S->b.p->quotas[S->b.p->nquotas - 1];
        q->cite = str_of(S, dcl->u.quota.cite);
        q = &S->b.p->quotas[S->b.p->nquotas - 1];
        q->layer = cg_cstr(&S->b, S->files[S->file].layer);
        q->pos = pos_of(S, dcl->span);
    }
}

/* Caps naming a record that is not declared (or not rated). */
void sema_check_caps(sema *S)
{
    SEMA_EACH_DECL(S, fi, c) {
        if (c->kind != AST_D_CAP) continue;
        if (!sema_find_record(S, c->u.cap.kind.s, c->u.cap.kind.len)) {
            sema_cands cd = {0};
            char dym[SEMA_SUGGEST_SIZE];
            sema_record_cands(S, &cd);
            sema_err(S, c->u.cap.kind_span, "cap on unknown record '%s'%s", c->u.cap.kind.s,
                     sema_suggest(&cd, c->u.cap.kind.s, " (did you mean '", "'?)", dym, sizeof dym));
        }
    }
}
