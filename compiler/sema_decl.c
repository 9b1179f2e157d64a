/*
 * sema_decl.c — declarations: phases 1-3 of the checker (types, records and kinds, rate blocks and their amendments).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sema_int.h"

static uint32_t find_type(sema *S, const char *name, size_t len)
{
    for (size_t i = 0; i < S->ntypes; i++)
        if (strlen(S->types[i].name) == len && memcmp(S->types[i].name, name, len) == 0) return S->types[i].type;
    return TY_ERR;
}

static void add_type_name(sema *S, const char *name, uint32_t type, uint32_t file)
{
    GROWV(S->types, S->ntypes, S->captypes);
    S->types[S->ntypes++] = (s_named){name, type, file};
}


/* ---------------------------------------------------------------------
 * 1. Types
 * ------------------------------------------------------------------- */

static bool sema_literal(sema *S, ast_node *e, uint32_t type, q_val *out);

static uint32_t sema_enum_members(sema *S, ast_node *members, uint32_t *first)
{
    *first = S->b.p->nmembers;
    uint32_t n = 0;
    strset_free(&S->member_names);
    for (ast_node *m = members; m; m = m->next, n++) {
        int added = strset_add(&S->member_names, m->u.member_decl.name.s ? m->u.member_decl.name.s : "",
                               m->u.member_decl.name.len, 0, NULL);
        if (added < 0) ast_bail("out of memory");
        if (added == 0) sema_err(S, m->span, "duplicate member '%s'", m->u.member_decl.name.s);
        q_member *qm = cg_member(&S->b);
        qm->name = str_of(S, m->u.member_decl.name);
        qm->label = str_of(S, m->u.member_decl.label);
    }
    strset_free(&S->member_names);
    return n;
}


static void sema_struct_fields(sema *S, ast_node *items, uint32_t *first, uint32_t *count)
{
    /* resolve field types first: resolving may append types, not fields */
    uint32_t n = 0;
    for (ast_node *f = items; f; f = f->next)
        if (f->kind == AST_D_FIELD) {
            f->sem.type = sema_resolve_type(S, f->u.field.type);
            n++;
        }
    *first = S->b.p->nfields;
    *count = n;
    uint16_t i = 0;
    for (ast_node *f = items; f; f = f->next) {
        if (f->kind != AST_D_FIELD) {
            sema_err(S, f->span, "only fields may appear in a struct");
            continue;
        }
        q_field *qf = cg_field(&S->b);
        qf->name = str_of(S, f->u.field.name);
        qf->label = str_of(S, f->u.field.label);
        qf->type = f->sem.type == TY_ERR ? TY_INT : f->sem.type;
        qf->slot = i++;
        qf->deflt = QUY_NONE;
        if (f->u.field.optional || f->u.field.computed)
            sema_err(S, f->span, "struct fields cannot be optional");
        /* `= literal`: the default of an element that leaves the field out
         * (it was parsed and silently dropped before) */
        if (f->u.field.deflt && f->sem.type != TY_ERR) {
            q_val v;
            if (sema_literal(S, f->u.field.deflt, f->sem.type, &v)) {
                qf = &S->b.p->fields[S->b.p->nfields - 1];
                qf->deflt = cg_const(&S->b, v, tkind(S, f->sem.type));
                qf->flags |= QF_DEFAULT;
            }
        }
    }
}

uint32_t sema_resolve_type(sema *S, ast_node *t)
{
    if (!t) return TY_ERR;
    switch (t->kind) {
    case AST_T_NAMED: {
        uint32_t ty = find_type(S, t->u.type.name.s, t->u.type.name.len);
        if (ty == TY_ERR) {
            sema_cands c = {0};
            char dym[SEMA_SUGGEST_SIZE];
            for (size_t i = 0; i < S->ntypes; i++) sema_cand(&c, S->types[i].name);
            sema_err(S, t->span, "unknown type '%s'%s", t->u.type.name.s,
                     sema_suggest(&c, t->u.type.name.s, DYM_PRE, DYM_POST, dym, sizeof dym));
        }
        return ty;
    }
    case AST_T_LIST: {
        uint32_t e = sema_resolve_type(S, t->u.type.elem);
        if (e == TY_ERR) return TY_ERR;
        if (tkind(S, e) == QT_LIST) {
            sema_err(S, t->span, "lists of lists are not supported");
            return TY_ERR;
        }
        return cg_list_type(&S->b, e);
    }
    case AST_T_ENUM: {
        q_type qt = {.kind = QT_ENUM};
        qt.count = sema_enum_members(S, t->u.type.members, &qt.first);
        return cg_type(&S->b, qt);
    }
    default:
        sema_err(S, t->span, "not a type");
        return TY_ERR;
    }
}

void sema_types(sema *S)
{
    /* builtins, at the fixed indices of the TY_ enum */
    static const uint8_t kinds[] = {QT_INT, QT_DECIMAL, QT_PERCENT, QT_BOOL, QT_DATE, QT_STRING};
    for (size_t i = 0; i < sizeof kinds; i++) {
        q_type t = {.kind = kinds[i]};
        add_type_name(S, q_type_kind_name[kinds[i]], cg_type(&S->b, t), 0);
    }
    q_type tier = {.kind = QT_SCALE, .name = cg_cstr(&S->b, "tier"),
                   .label = cg_cstr(&S->b, "Mức xếp loại chất lượng")};
    tier.first = S->b.p->nmembers;
    tier.count = 4;
    for (int o = QO_KHTNV; o <= QO_HTXSNV; o++) {
        q_member *m = cg_member(&S->b);
        m->name = cg_cstr(&S->b, q_outcome_code[o]);
        m->label = cg_cstr(&S->b, q_outcome_label[o]);
    }
    S->b.p->tier_type = cg_type(&S->b, tier);
    add_type_name(S, "tier", S->b.p->tier_type, 0);

    /* declared scales and enums first (structs may use them), then structs */
    for (int pass = 0; pass < 2; pass++) {
        SEMA_EACH_DECL(S, fi, dcl) {
            bool scalar = dcl->kind == AST_D_SCALE || dcl->kind == AST_D_ENUM;
            if ((pass == 0) != scalar || (!scalar && dcl->kind != AST_D_STRUCT)) continue;
            const ast_str *nm = &dcl->u.decl.name;
            if (find_type(S, nm->s, nm->len) != TY_ERR) {
                sema_err(S, dcl->u.decl.name_span, "type '%s' is already declared", nm->s);
                continue;
            }
            q_type t = {.kind = dcl->kind == AST_D_SCALE ? QT_SCALE
                                : dcl->kind == AST_D_ENUM ? QT_ENUM
                                                          : QT_STRUCT};
            t.name = str_of(S, *nm);
            t.label = str_of(S, dcl->u.decl.label);
            if (scalar)
                t.count = sema_enum_members(S, dcl->u.decl.items, &t.first);
            else
                sema_struct_fields(S, dcl->u.decl.items, &t.first, &t.count);
            add_type_name(S, nm->s, cg_type(&S->b, t), (uint32_t)fi);
        }
    }
}

/* ---------------------------------------------------------------------
 * 2. Records and kinds
 * ------------------------------------------------------------------- */

s_record *sema_find_record(sema *S, const char *name, size_t len)
{
    for (size_t i = 0; i < S->nrecords; i++)
        if (strlen(S->records[i].name) == len && memcmp(S->records[i].name, name, len) == 0) return &S->records[i];
    return NULL;
}

/* The rated kinds' names, as candidates of a "did you mean". */
void sema_rate_cands(sema *S, sema_cands *c)
{
    for (size_t i = 0; i < S->nrates; i++) sema_cand(c, S->rates[i].kind);
}

s_rate *sema_find_rate(sema *S, const char *name, size_t len)
{
    for (size_t i = 0; i < S->nrates; i++)
        if (strlen(S->rates[i].kind) == len && memcmp(S->rates[i].kind, name, len) == 0) return &S->rates[i];
    return NULL;
}

/* The declared records' names, as candidates of a "did you mean". */
void sema_record_cands(sema *S, sema_cands *c)
{
    for (size_t i = 0; i < S->nrecords; i++) sema_cand(c, S->records[i].name);
}

/* "unknown record 'x'; did you mean 'y'?" */
static void unknown_record(sema *S, q_span sp, const char *prefix, const ast_str *name)
{
    sema_cands c = {0};
    char dym[SEMA_SUGGEST_SIZE];
    sema_record_cands(S, &c);
    sema_err(S, sp, "%sunknown record '%s'%s", prefix, name->s, sema_suggest(&c, name->s, DYM_PRE, DYM_POST, dym, sizeof dym));
}

void sema_collect_records(sema *S)
{
    SEMA_EACH_DECL(S, fi, dcl) {
        if (dcl->kind != AST_D_RECORD) continue;
        if (dcl->u.decl.amend) {
            /* `amend record R`: R must come from a layer below */
            s_record *r = sema_find_record(S, dcl->u.decl.name.s, dcl->u.decl.name.len);
            if (!r)
                unknown_record(S, dcl->u.decl.name_span, "amend record: ", &dcl->u.decl.name);
            else if (r->file == fi)
                sema_err(S, dcl->u.decl.name_span,
                    "record '%s' is declared in this ruleset: add the fields to its declaration "
                    "('amend record' is for a record of a layer below)",
                    dcl->u.decl.name.s);
            else {
                GROWV(S->amends, S->namends, S->capamends);
                S->amends[S->namends++] = (s_item){dcl, (uint32_t)fi};
            }
            continue;
        }
        if (sema_find_record(S, dcl->u.decl.name.s, dcl->u.decl.name.len)) {
            sema_err(S, dcl->u.decl.name_span, "record '%s' is already declared", dcl->u.decl.name.s);
            continue;
        }
        GROWV(S->records, S->nrecords, S->caprecords);
        S->records[S->nrecords++] = (s_record){dcl->u.decl.name.s, dcl, (uint32_t)fi, -1};
    }
}

/* The ancestry of a record, root first (malloc'd, *n entries); NULL on a
 * cycle or an unknown parent, reported. A chain longer than the number of
 * records is a cycle. */
s_record **sema_record_chain(sema *S, s_record *r, size_t *n)
{
    s_record **chain = NULL;
    size_t cap = 0;
    *n = 0;
    for (s_record *cur = r; cur;) {
        if (*n == S->nrecords) {
            S->file = r->file;
            sema_err(S, r->decl->u.decl.name_span, "record '%s' extends itself (cycle)", r->name);
            break;
        }
        GROWV(chain, *n, cap);
        chain[(*n)++] = cur;
        const ast_str *par = &cur->decl->u.decl.parent;
        if (!par->len) {
            /* reverse: root first */
            for (size_t i = 0; i < *n / 2; i++) {
                s_record *t = chain[i];
                chain[i] = chain[*n - 1 - i];
                chain[*n - 1 - i] = t;
            }
            return chain;
        }
        cur = sema_find_record(S, par->s, par->len);
        if (!cur) {
            S->file = chain[*n - 1]->file;
            unknown_record(S, chain[*n - 1]->decl->u.decl.parent_span, "", par);
        }
    }
    free(chain);
    *n = 0;
    return NULL;
}


/* The declarations that make up a kind, in order: the record's ancestry,
 * root first, then every `amend record` of one of them, in layer order
 * (so an amendment's fields come after all the fields declared below it).
 * Empty on a broken ancestry. Free .v. */
s_decls sema_kind_decls(sema *S, s_record *r)
{
    s_decls ds = {0};
    size_t n;
    s_record **chain = sema_record_chain(S, r, &n);
    for (size_t ci = 0; ci < n; ci++) {
        GROWV(ds.v, ds.n, ds.cap);
        ds.v[ds.n++] = (s_item){chain[ci]->decl, chain[ci]->file};
    }
    for (size_t ai = 0; ai < S->namends; ai++) {
        const ast_str *nm = &S->amends[ai].node->u.decl.name;
        for (size_t ci = 0; ci < n; ci++)
            if (strcmp(chain[ci]->name, nm->s) == 0) {
                GROWV(ds.v, ds.n, ds.cap);
                ds.v[ds.n++] = S->amends[ai];
                break;
            }
    }
    free(chain);
    return ds;
}

/* Create kind k's fields (consecutive in the program's field table) from
 * the declarations sema_kind_decls() found. */
void sema_kind_fields(sema *S, s_record *r, q_kind *qk, const s_decls *ds)
{
    qk->first_field = S->b.p->nfields;
    uint16_t slot = 0;
    strset_free(&S->field_names);
    for (size_t ci = 0; ci < ds->n; ci++) {
        S->file = ds->v[ci].file;
        for (ast_node *f = ds->v[ci].node->u.decl.items; f; f = f->next) {
            if (f->kind != AST_D_FIELD) continue;
            const ast_str *nm = &f->u.field.name;
            if (strset_get(&S->field_names, nm->s ? nm->s : "", nm->len)) {
                sema_err(S, f->u.field.name_span, "field '%s' is declared twice in record '%s'", nm->s, r->name);
                continue;
            }
            if ((nm->len == 2 && memcmp(nm->s, "id", 2) == 0) || (nm->len == 4 && memcmp(nm->s, "kind", 4) == 0)) {
                sema_err(S, f->u.field.name_span, "'%s' is part of every record and cannot be declared", nm->s);
                continue;
            }
            if (strset_add(&S->field_names, nm->s ? nm->s : "", nm->len, 0, NULL) < 0) ast_bail("out of memory");
            uint32_t ty = sema_resolve_type(S, f->u.field.type);
            q_field *qf = cg_field(&S->b);
            qk->nfields++;
            qf->name = str_of(S, *nm);
            qf->label = str_of(S, f->u.field.label);
            qf->type = ty == TY_ERR ? TY_INT : ty;
            qf->slot = slot++;
            qf->deflt = QUY_NONE;
            qf->flags = (uint8_t)((f->u.field.optional ? QF_OPTIONAL : 0) | (f->u.field.computed ? QF_BATCH : 0));
            /* roll-ups the batch knows how to compute (runtime/batch.c) */
            if (f->u.field.computed && ty != TY_ERR &&
                (!((nm->len == 12 && memcmp(nm->s, "member_tiers", 12) == 0) ||
                   (nm->len == 17 && memcmp(nm->s, "subordinate_tiers", 17) == 0)) ||
                 tkind(S, ty) != QT_LIST || S->b.p->types[ty].elem != S->b.p->tier_type))
                sema_err(S, f->u.field.name_span,
                    "a computed field is a roll-up the batch fills: 'member_tiers' or 'subordinate_tiers', "
                    "of type 'list of tier'");
            if (f->u.field.deflt && ty != TY_ERR) {
                q_val v;
                if (sema_literal(S, f->u.field.deflt, ty, &v)) {
                    qf = &S->b.p->fields[S->b.p->nfields - 1];
                    qf->deflt = cg_const(&S->b, v, tkind(S, ty));
                    qf->flags |= QF_DEFAULT;
                }
            }
        }
    }
    strset_free(&S->field_names);
}

/* A default value: a literal of the field's type. */
static bool sema_literal(sema *S, ast_node *e, uint32_t type, q_val *out)
{
    uint8_t k = tkind(S, type);
    switch (e->kind) {
    case AST_E_INT:
    case AST_E_DEC:
    case AST_E_PCT:
        if (k == QT_INT || k == QT_DECIMAL || k == QT_PERCENT) {
            if (k == QT_INT && e->u.num.d != 1) break;
            *out = e->u.num;
            return true;
        }
        break;
    case AST_E_BOOL:
        if (k == QT_BOOL) {
            *out = e->u.num;
            return true;
        }
        break;
    case AST_E_DATE:
        if (k == QT_DATE) {
            *out = e->u.num;
            return true;
        }
        break;
    case AST_E_NAME:
        if (k == QT_ENUM || k == QT_SCALE) {
            int o = prog_find_member(S->b.p, type, e->u.name.text.s, e->u.name.text.len);
            if (o >= 0) {
                *out = q_int(o);
                return true;
            }
        }
        break;
    default: break;
    }
    char tb[128];
    sema_err(S, e->span, "default value does not fit the field's type %s", sema_type_name(S, type, tb, sizeof tb));
    return false;
}

/* ---------------------------------------------------------------------
 * 3. Rate blocks and amendments
 * ------------------------------------------------------------------- */

int sema_outcome_of(const ast_str *s)
{
    for (int o = 0; o < QO__COUNT; o++)
        if (strlen(q_outcome_code[o]) == s->len && memcmp(q_outcome_code[o], s->s, s->len) == 0) return o;
    return -1;
}

/* Decision order rank: not_rated/deferred, khtnv, then tiers high to low. */
static int outcome_rank(int o)
{
    switch (o) {
    case QO_NOT_RATED:
    case QO_DEFERRED: return 0;
    case QO_KHTNV: return 1;
    case QO_HTXSNV: return 2;
    case QO_HTTNV: return 3;
    case QO_HTNV: return 4;
    default: return 5;
    }
}

bool sema_check_outcome(sema *S, ast_node *rule, int *o)
{
    if (rule->u.rule.otherwise && !rule->u.rule.outcome.len) {
        *o = QO_KHTNV;
        return true;
    }
    *o = sema_outcome_of(&rule->u.rule.outcome);
    if (*o >= 0) return true;
    sema_cands c = {0};
    char dym[SEMA_SUGGEST_SIZE];
    for (int i = 0; i < QO__COUNT; i++) sema_cand(&c, q_outcome_code[i]);
    sema_err(S, rule->u.rule.outcome_span, "unknown outcome '%s'%s (expected htxsnv, httnv, htnv, khtnv, not_rated or deferred)",
             rule->u.rule.outcome.s, sema_suggest(&c, rule->u.rule.outcome.s, DYM_PRE, DYM_POST, dym, sizeof dym));
    return false;
}

static s_rule *find_rule(s_rate *R, const char *name, size_t len)
{
    for (size_t i = 0; i < R->nrules; i++) {
        ast_node *n = R->rules[i].node;
        if (n->u.rule.name.len == len && memcmp(n->u.rule.name.s, name, len) == 0) return &R->rules[i];
    }
    return NULL;
}

static void suggest_rule(sema *S, s_rate *R, q_span sp, const char *what, const ast_str *name)
{
    sema_cands c = {0};
    char dym[SEMA_SUGGEST_SIZE];
    for (size_t i = 0; i < R->nrules; i++)
        if (R->rules[i].node->u.rule.name.len) sema_cand(&c, R->rules[i].node->u.rule.name.s);
    sema_err(S, sp, "%s '%s' is not a rule of 'rate %s'%s", what, name->s, R->kind,
             sema_suggest(&c, name->s, DYM_PRE, DYM_POST, dym, sizeof dym));
}

/* Insert a rule at the end of its decision-order rank. */
static void rate_insert(s_rate *R, s_rule r, int rank)
{
    GROWV(R->rules, R->nrules, R->caprules);
    size_t at = R->nrules;
    for (size_t i = 0; i < R->nrules; i++) {
        int o;
        ast_node *n = R->rules[i].node;
        o = n->u.rule.otherwise ? 5 : outcome_rank(sema_outcome_of(&n->u.rule.outcome));
        if (o > rank) {
            at = i;
            break;
        }
    }
    memmove(&R->rules[at + 1], &R->rules[at], (R->nrules - at) * sizeof *R->rules);
    R->rules[at] = r;
    R->nrules++;
}

static void rate_item(s_rate *R, ast_node *n, uint32_t file)
{
    GROWV(R->items, R->nitems, R->capitems);
    R->items[R->nitems++] = (s_item){n, file};
}

/* `rate K { items }` for kind k (one of the block's kinds). */
static void rate_block(sema *S, ast_node *dcl, const ast_str *k, q_span kspan, uint32_t fi)
{
    s_rate *R = sema_find_rate(S, k->s, k->len);
    if (R) {
        sema_err(S, kspan, "'%s' is already rated (by %s); a later layer writes 'amend rate %s'", k->s,
                 S->files[R->file].layer, k->s);
        return;
    }
    if (!sema_find_record(S, k->s, k->len)) {
        sema_cands c = {0};
        char dym[SEMA_SUGGEST_SIZE];
        sema_record_cands(S, &c);
        sema_err(S, kspan, "no record '%s' to rate%s", k->s, sema_suggest(&c, k->s, DYM_PRE, DYM_POST, dym, sizeof dym));
        return;
    }
    GROWV(S->rates, S->nrates, S->caprates);
    R = &S->rates[S->nrates++];
    memset(R, 0, sizeof *R);
    R->kind = k->s;
    R->decl = dcl;
    R->file = fi;
    int last = 0;
    bool seen_otherwise = false;
    strset_free(&S->rule_names); /* the block's rule names: a duplicate is found in constant time */
    for (ast_node *it = dcl->u.rate.items; it; it = it->next) {
        if (it->kind == AST_D_RULE) {
            int o;
            if (!sema_check_outcome(S, it, &o)) continue;
            int rank = it->u.rule.otherwise ? 5 : outcome_rank(o);
            if (seen_otherwise) {
                sema_err(S, it->span, "rule after 'otherwise': 'otherwise' must be the last rule");
                continue;
            }
            if (rank < last)
                sema_err(S, it->u.rule.outcome_span,
                    "rule '%s' (%s) is out of decision order: not_rated/deferred rules come first, "
                    "then khtnv rules, then tiers from htxsnv down to htnv",
                    it->u.rule.name.s ? it->u.rule.name.s : "", q_outcome_code[o]);
            else
                last = rank;
            if (it->u.rule.name.len) {
                int added = strset_add(&S->rule_names, it->u.rule.name.s, it->u.rule.name.len, 0, NULL);
                if (added < 0) ast_bail("out of memory");
                if (added == 0)
                    sema_err(S, it->u.rule.name_span, "rule '%s' is already defined in this block",
                        it->u.rule.name.s);
            }
            seen_otherwise |= it->u.rule.otherwise;
            GROWV(R->rules, R->nrules, R->caprules);
            R->rules[R->nrules++] = (s_rule){it, fi, NULL};
        } else if (it->kind == AST_D_LET || it->kind == AST_D_FLAG || it->kind == AST_D_GAP) {
            rate_item(R, it, fi);
        } else {
            sema_err(S, it->span, "'also requires' and 'replace' belong in 'amend rate', in a ruleset that extends another");
        }
    }
    strset_free(&S->rule_names);
    if (!seen_otherwise)
        sema_err(S, kspan,
            "'rate %s' has no 'otherwise' rule: every record must get a tier (add e.g. 'otherwise khtnv flag gap')",
            k->s);
}

/* A new rule in `amend rate`: inserted at its place in the decision order. */
static void amend_rule(sema *S, s_rate *R, ast_node *it, uint32_t fi)
{
    int o;
    if (!sema_check_outcome(S, it, &o)) return;
    if (it->u.rule.otherwise) {
        sema_err(S, it->span, "an amendment cannot add another 'otherwise': the fallback of the layer below stays in force");
        return;
    }
    if (find_rule(R, it->u.rule.name.s, it->u.rule.name.len)) {
        sema_err(S, it->u.rule.name_span, "rule '%s' already exists in 'rate %s'; write 'replace %s: ...' to change it",
                 it->u.rule.name.s, R->kind, it->u.rule.name.s);
        return;
    }
    rate_insert(R, (s_rule){it, fi, NULL}, outcome_rank(o));
    sema_warn_new_rule(S, R, it, o);
}

/* `TIER also requires CLAUSES`: appended to every rule of the tier. */
static void amend_also(sema *S, s_rate *R, ast_node *it, uint32_t fi)
{
    int o = sema_outcome_of(&it->u.rule.outcome);
    if (o < 0 || o > QO_HTXSNV) {
        sema_cands c = {0};
        char dym[SEMA_SUGGEST_SIZE];
        if (o < 0)
            for (int t = QO_HTXSNV; t >= QO_HTNV; t--) sema_cand(&c, q_outcome_code[t]);
        sema_err(S, it->u.rule.outcome_span, "'also requires' amends a tier: htxsnv, httnv or htnv%s",
                 sema_suggest(&c, it->u.rule.outcome.s, DYM_PRE, DYM_POST, dym, sizeof dym));
        return;
    }
    bool any = false;
    for (size_t i = 0; i < R->nrules; i++) {
        ast_node *n = R->rules[i].node;
        if (n->u.rule.otherwise || sema_outcome_of(&n->u.rule.outcome) != o) continue;
        s_also *a = ast_xcalloc(1, sizeof *a);
        a->node = it;
        a->file = fi;
        s_also **tail = &R->rules[i].also;
        while (*tail) tail = &(*tail)->next;
        *tail = a;
        any = true;
    }
    if (any) return;
    char have[64] = "";
    for (int t = QO_HTXSNV; t >= QO_HTNV; t--)
        for (size_t i = 0; i < R->nrules; i++)
            if (!R->rules[i].node->u.rule.otherwise && sema_outcome_of(&R->rules[i].node->u.rule.outcome) == t) {
                if (have[0]) strcat(have, ", ");
                strcat(have, q_outcome_code[t]);
                break;
            }
    sema_err(S, it->u.rule.outcome_span, "'rate %s' has no %s rule to amend (its tier rules: %s)", R->kind,
             q_outcome_code[o], have[0] ? have : "none");
}

/* `replace NAME: RULE`: the named rule swapped out, `also requires` of the
 * layers below dropped with it. */
static void amend_replace(sema *S, s_rate *R, ast_node *it, uint32_t fi)
{
    s_rule *old = find_rule(R, it->u.rule.name.s, it->u.rule.name.len);
    if (!old) {
        suggest_rule(S, R, it->u.rule.name_span, "replace:", &it->u.rule.name);
        return;
    }
    ast_node *nr = it->u.rule.rule;
    int o, oo;
    if (!nr || !sema_check_outcome(S, nr, &o)) return;
    sema_check_outcome(S, old->node, &oo);
    if ((old->node->u.rule.otherwise ? 5 : outcome_rank(oo)) != (nr->u.rule.otherwise ? 5 : outcome_rank(o)))
        sema_err(S, nr->u.rule.outcome_span, "a replacement must keep the rule's place in the decision order (%s)",
                 q_outcome_code[oo]);
    /* keep the old name unless the new rule names itself */
    if (!nr->u.rule.name.len) nr->u.rule.name = old->node->u.rule.name;
    sema_warn_replace(S, old, nr, o);
    old->node = nr;
    old->file = fi;
    for (s_also *a = old->also, *nx; a; a = nx) {
        nx = a->next;
        free(a);
    }
    old->also = NULL;
}

/* `amend rate K { items }` for kind k: rules added in decision order,
 * `also requires`, `replace`, and further lets, flags and gaps. */
static void amend_block(sema *S, ast_node *dcl, const ast_str *k, q_span kspan, uint32_t fi)
{
    s_rate *R = sema_find_rate(S, k->s, k->len);
    if (!R) {
        sema_cands c = {0};
        char dym[SEMA_SUGGEST_SIZE];
        sema_rate_cands(S, &c);
        sema_err(S, kspan, "'amend rate %s': no layer below rates '%s'%s", k->s, k->s,
                 sema_suggest(&c, k->s, DYM_PRE, DYM_POST, dym, sizeof dym));
        return;
    }
    for (ast_node *it = dcl->u.rate.items; it; it = it->next) {
        switch (it->kind) {
        case AST_D_RULE: amend_rule(S, R, it, fi); break;
        case AST_D_ALSO: amend_also(S, R, it, fi); break;
        case AST_D_REPLACE: amend_replace(S, R, it, fi); break;
        case AST_D_LET:
        case AST_D_FLAG:
        case AST_D_GAP: rate_item(R, it, fi); break;
        default: sema_err(S, it->span, "unexpected item in 'amend rate'"); break;
        }
    }
}

void sema_collect_rates(sema *S)
{
    SEMA_EACH_DECL(S, fi, dcl) {
        if (dcl->kind != AST_D_RATE) continue;
        /* `rate a, b { ... }`: the block rates each kind, as if written once per kind */
        void (*block)(sema *, ast_node *, const ast_str *, q_span, uint32_t) = dcl->u.rate.amend ? amend_block : rate_block;
        block(S, dcl, &dcl->u.rate.kind, dcl->u.rate.kind_span, (uint32_t)fi);
        for (ast_node *m = dcl->u.rate.more; m; m = m->next) block(S, dcl, &m->u.name.text, m->span, (uint32_t)fi);
    }
}
