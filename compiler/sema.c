/*
 * sema.c — the checker and lowering (prefix sema_): resolves every name,
 * types every expression, enforces the decision order, flattens an
 * `extends` chain into one program and emits its bytecode through cg.c.
 *
 * Phases, in order, over the files of the chain (root first):
 *   1. types     scales, enums, structs (sema_types)
 *   2. records   record declarations; each rated record becomes a kind with
 *                a flat field list, parents' fields first (sema_kinds)
 *   3. rates     rate blocks, then `amend rate` of later layers merged into
 *                them (sema_collect_rates)
 *   4. lowering  per kind: checks, rules, clauses, flags (sema_lower_kind)
 *   5. quotas
 *   6. hooks     declarations (phase 1b, after types: the Lua file is read,
 *                checked and embedded), calls in expressions, and the
 *                `adjust` steps lowered into each kind's rate block
 * Each phase reports every error it finds and goes on; nothing is emitted
 * into a program that is returned unless the whole run was clean.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sema.h"

#include "../runtime/hook.h"
#include "../runtime/vm.h"

#define TY_ERR UINT32_MAX        /* an error was reported: don't cascade */
#define TY_MEMBER (UINT32_MAX - 1) /* a bare name awaiting its enum type */

enum { TY_INT, TY_DECIMAL, TY_PERCENT, TY_BOOL, TY_DATE, TY_STRING, TY_TIER, TY__BUILTIN };

/* ---------------------------------------------------------------------
 * Symbol tables (small: a ruleset has tens of names; linear search)
 * ------------------------------------------------------------------- */

typedef struct s_named {
    const char *name;
    uint32_t type;
    uint32_t file;
} s_named;

typedef struct s_record {
    const char *name;
    ast_node *decl;
    uint32_t file;
    int kind; /* kind index once lowered, -1 if not rated */
} s_record;

/* A clause list added to a rule by `also requires` in a later layer. */
typedef struct s_also {
    ast_node *node; /* D_ALSO */
    uint32_t file;
    struct s_also *next;
} s_also;

typedef struct s_rule {
    ast_node *node; /* D_RULE */
    uint32_t file;
    s_also *also;
} s_rule;

typedef struct s_item { /* a let, flag or gap */
    ast_node *node;
    uint32_t file;
} s_item;

typedef struct s_rate {
    const char *kind;
    ast_node *decl;
    uint32_t file;
    s_rule *rules;
    size_t nrules, caprules;
    s_item *items; /* lets, flags, gaps in order */
    size_t nitems, capitems;
} s_rate;

typedef struct s_kfield {
    const char *name;
    uint32_t slot;
    uint32_t type;
    uint8_t flags;
} s_kfield;

/* Quantifier scope. */
typedef struct s_scope {
    uint32_t elem_type;
} s_scope;

typedef struct sema {
    sema_file *files;
    size_t nfiles;
    diag_list *d;
    cg_builder b;

    s_named *types;
    size_t ntypes, captypes;
    s_record *records;
    size_t nrecords, caprecords;
    s_rate *rates;
    size_t nrates, caprates;
    s_item *amends; /* `amend record` declarations (D_RECORD, amend), in file order */
    size_t namends, capamends;

    /* lowering context */
    uint32_t file;   /* file of the node being checked */
    uint32_t kind;   /* kind being lowered */
    s_kfield *kf;    /* its fields */
    size_t nkf;
    s_item *lets;    /* lets visible in the current rate block */
    size_t nlets;
    s_scope scope[QUY_MAX_LOOPS];
    int depth;
    uint32_t gap_flag; /* flagdef of the builtin `gap` flag, or QUY_NONE */
    bool adjust_tier;  /* typing an `adjust ... tier` step: `tier` is the outcome decided */
    s_item quotas[16]; /* effective quota declarations, after `replace quota` */
    size_t nquotas;
} sema;

#define GROWV(arr, n, cap)                                           \
    do {                                                             \
        if ((n) >= (cap)) {                                          \
            (cap) = (cap) ? (cap) * 2 : 8;                           \
            (arr) = realloc((arr), (cap) * sizeof *(arr));           \
            if (!(arr)) abort();                                     \
        }                                                            \
    } while (0)

static void err(sema *S, q_span sp, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void err(sema *S, q_span sp, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_vadd(S->d, DIAG_ERROR, S->files[S->file].path, S->files[S->file].src, sp, fmt, ap);
    va_end(ap);
}

static void warn(sema *S, q_span sp, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void warn(sema *S, q_span sp, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_vadd(S->d, DIAG_WARNING, S->files[S->file].path, S->files[S->file].src, sp, fmt, ap);
    va_end(ap);
}

static uint32_t pos_of(sema *S, q_span sp) { return QUY_POS(S->file, sp.start); }

static uint32_t str_of(sema *S, ast_str s) { return cg_str(&S->b, s.s ? s.s : "", s.len); }

static uint32_t span_text(sema *S, q_span sp)
{
    const char *src = S->files[S->file].src;
    uint32_t a = sp.start, e = sp.end;
    while (e > a && (src[e - 1] == ' ' || src[e - 1] == '\n' || src[e - 1] == '\t' || src[e - 1] == '\r')) e--;
    /* collapse runs of whitespace so multi-line conditions read as one line */
    char *buf = malloc(e - a + 1);
    if (!buf) abort();
    size_t n = 0;
    bool space = false;
    for (uint32_t i = a; i < e; i++) {
        char c = src[i];
        if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
            space = true;
            continue;
        }
        if (space && n) buf[n++] = ' ';
        space = false;
        buf[n++] = c;
    }
    uint32_t id = cg_str(&S->b, buf, n);
    free(buf);
    return id;
}

static const char *type_name(sema *S, uint32_t t, char *buf, size_t size)
{
    if (t == TY_ERR || t == TY_MEMBER) return "?";
    const q_type *ty = &S->b.p->types[t];
    if (ty->kind == QT_LIST) {
        char inner[96];
        /* a type name longer than the message buffer is cut, on purpose */
        if (snprintf(buf, size, "list of %s", type_name(S, ty->elem, inner, sizeof inner)) >= (int)size && size)
            buf[size - 1] = 0;
        return buf;
    }
    if (ty->name) return prog_str(S->b.p, ty->name);
    return q_type_kind_name[ty->kind];
}

static bool is_numeric(sema *S, uint32_t t)
{
    if (t >= S->b.p->ntypes) return false;
    uint8_t k = S->b.p->types[t].kind;
    return k == QT_INT || k == QT_DECIMAL || k == QT_PERCENT;
}

static uint8_t tkind(sema *S, uint32_t t) { return t < S->b.p->ntypes ? S->b.p->types[t].kind : QT__COUNT; }
static bool sema_literal(sema *S, ast_node *e, uint32_t type, q_val *out);

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

static uint32_t sema_enum_members(sema *S, ast_node *members, uint32_t *first)
{
    *first = S->b.p->nmembers;
    uint32_t n = 0;
    for (ast_node *m = members; m; m = m->next, n++) {
        for (ast_node *o = members; o != m; o = o->next)
            if (o->u.member_decl.name.len == m->u.member_decl.name.len &&
                memcmp(o->u.member_decl.name.s, m->u.member_decl.name.s, m->u.member_decl.name.len) == 0)
                err(S, m->span, "duplicate member '%s'", m->u.member_decl.name.s);
        q_member *qm = cg_member(&S->b);
        qm->name = str_of(S, m->u.member_decl.name);
        qm->label = str_of(S, m->u.member_decl.label);
    }
    return n;
}

static uint32_t sema_resolve_type(sema *S, ast_node *t);

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
            err(S, f->span, "only fields may appear in a struct");
            continue;
        }
        q_field *qf = cg_field(&S->b);
        qf->name = str_of(S, f->u.field.name);
        qf->label = str_of(S, f->u.field.label);
        qf->type = f->sem.type == TY_ERR ? TY_INT : f->sem.type;
        qf->slot = i++;
        qf->deflt = QUY_NONE;
        if (f->u.field.optional || f->u.field.computed)
            err(S, f->span, "struct fields cannot be optional");
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

static uint32_t sema_resolve_type(sema *S, ast_node *t)
{
    if (!t) return TY_ERR;
    switch (t->kind) {
    case AST_T_NAMED: {
        uint32_t ty = find_type(S, t->u.type.name.s, t->u.type.name.len);
        if (ty == TY_ERR) {
            const char *cand[256];
            size_t n = 0;
            for (size_t i = 0; i < S->ntypes && n < 256; i++) cand[n++] = S->types[i].name;
            const char *sug = diag_suggest(t->u.type.name.s, cand, n);
            if (sug)
                err(S, t->span, "unknown type '%s'; did you mean '%s'?", t->u.type.name.s, sug);
            else
                err(S, t->span, "unknown type '%s'", t->u.type.name.s);
        }
        return ty;
    }
    case AST_T_LIST: {
        uint32_t e = sema_resolve_type(S, t->u.type.elem);
        if (e == TY_ERR) return TY_ERR;
        if (tkind(S, e) == QT_LIST) {
            err(S, t->span, "lists of lists are not supported");
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
        err(S, t->span, "not a type");
        return TY_ERR;
    }
}

static void sema_types(sema *S)
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
        for (size_t fi = 0; fi < S->nfiles; fi++) {
            S->file = (uint32_t)fi;
            for (ast_node *dcl = S->files[fi].ast.decls; dcl; dcl = dcl->next) {
                bool scalar = dcl->kind == AST_D_SCALE || dcl->kind == AST_D_ENUM;
                if ((pass == 0) != scalar || (!scalar && dcl->kind != AST_D_STRUCT)) continue;
                const ast_str *nm = &dcl->u.decl.name;
                if (find_type(S, nm->s, nm->len) != TY_ERR) {
                    err(S, dcl->u.decl.name_span, "type '%s' is already declared", nm->s);
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
}

/* ---------------------------------------------------------------------
 * 2. Records and kinds
 * ------------------------------------------------------------------- */

static s_record *find_record(sema *S, const char *name, size_t len)
{
    for (size_t i = 0; i < S->nrecords; i++)
        if (strlen(S->records[i].name) == len && memcmp(S->records[i].name, name, len) == 0) return &S->records[i];
    return NULL;
}

static s_rate *find_rate(sema *S, const char *name, size_t len)
{
    for (size_t i = 0; i < S->nrates; i++)
        if (strlen(S->rates[i].kind) == len && memcmp(S->rates[i].kind, name, len) == 0) return &S->rates[i];
    return NULL;
}

/* "unknown record 'x'; did you mean 'y'?" */
static void unknown_record(sema *S, q_span sp, const char *prefix, const ast_str *name)
{
    const char *cand[256];
    size_t n = 0;
    for (size_t i = 0; i < S->nrecords && n < 256; i++) cand[n++] = S->records[i].name;
    const char *sug = diag_suggest(name->s, cand, n);
    err(S, sp, "%sunknown record '%s'%s%s%s", prefix, name->s, sug ? "; did you mean '" : "", sug ? sug : "",
        sug ? "'?" : "");
}

static void sema_collect_records(sema *S)
{
    for (size_t fi = 0; fi < S->nfiles; fi++) {
        S->file = (uint32_t)fi;
        for (ast_node *dcl = S->files[fi].ast.decls; dcl; dcl = dcl->next) {
            if (dcl->kind != AST_D_RECORD) continue;
            if (dcl->u.decl.amend) {
                /* `amend record R`: R must come from a layer below */
                s_record *r = find_record(S, dcl->u.decl.name.s, dcl->u.decl.name.len);
                if (!r)
                    unknown_record(S, dcl->u.decl.name_span, "amend record: ", &dcl->u.decl.name);
                else if (r->file == fi)
                    err(S, dcl->u.decl.name_span,
                        "record '%s' is declared in this ruleset: add the fields to its declaration "
                        "('amend record' is for a record of a layer below)",
                        dcl->u.decl.name.s);
                else {
                    GROWV(S->amends, S->namends, S->capamends);
                    S->amends[S->namends++] = (s_item){dcl, (uint32_t)fi};
                }
                continue;
            }
            if (find_record(S, dcl->u.decl.name.s, dcl->u.decl.name.len)) {
                err(S, dcl->u.decl.name_span, "record '%s' is already declared", dcl->u.decl.name.s);
                continue;
            }
            GROWV(S->records, S->nrecords, S->caprecords);
            S->records[S->nrecords++] = (s_record){dcl->u.decl.name.s, dcl, (uint32_t)fi, -1};
        }
    }
}

/* The ancestry of a record, root first, into chain[]; false on a cycle. */
static size_t record_chain(sema *S, s_record *r, s_record **chain, size_t max)
{
    size_t n = 0;
    for (s_record *cur = r; cur; n++) {
        if (n == max) {
            S->file = r->file;
            err(S, r->decl->u.decl.name_span, "record '%s' extends itself (cycle)", r->name);
            return 0;
        }
        chain[n] = cur;
        const ast_str *par = &cur->decl->u.decl.parent;
        if (!par->len) {
            n++;
            break;
        }
        s_record *next = find_record(S, par->s, par->len);
        if (!next) {
            S->file = cur->file;
            unknown_record(S, cur->decl->u.decl.parent_span, "", par);
            return 0;
        }
        cur = next;
    }
    /* reverse: root first */
    for (size_t i = 0; i < n / 2; i++) {
        s_record *t = chain[i];
        chain[i] = chain[n - 1 - i];
        chain[n - 1 - i] = t;
    }
    return n;
}


/* The declarations that make up a kind, in order: the record's ancestry,
 * root first, then every `amend record` of one of them, in layer order
 * (so an amendment's fields come after all the fields declared below it).
 * Fills decl[] and file[]; returns the count (0 on a broken ancestry). */
#define QUY_MAX_KIND_DECLS 64
static size_t kind_decls(sema *S, s_record *r, ast_node **decl, uint32_t *file)
{
    s_record *chain[16];
    size_t n = record_chain(S, r, chain, 16), m = 0;
    for (size_t ci = 0; ci < n; ci++) {
        decl[m] = chain[ci]->decl;
        file[m++] = chain[ci]->file;
    }
    for (size_t ai = 0; ai < S->namends && m < QUY_MAX_KIND_DECLS; ai++) {
        const ast_str *nm = &S->amends[ai].node->u.decl.name;
        for (size_t ci = 0; ci < n; ci++)
            if (strcmp(chain[ci]->name, nm->s) == 0) {
                decl[m] = S->amends[ai].node;
                file[m++] = S->amends[ai].file;
                break;
            }
    }
    return m;
}

/* Create kind k's fields (consecutive in the program's field table) from
 * the n declarations kind_decls() found. */
static void sema_kind_fields(sema *S, s_record *r, q_kind *qk, ast_node **decl, const uint32_t *dfile, size_t n)
{
    qk->first_field = S->b.p->nfields;
    uint16_t slot = 0;
    for (size_t ci = 0; ci < n; ci++) {
        S->file = dfile[ci];
        for (ast_node *f = decl[ci]->u.decl.items; f; f = f->next) {
            if (f->kind != AST_D_FIELD) continue;
            const ast_str *nm = &f->u.field.name;
            if (prog_find_field(S->b.p, (uint32_t)(qk - S->b.p->kinds), nm->s, nm->len) != QUY_NONE) {
                err(S, f->u.field.name_span, "field '%s' is declared twice in record '%s'", nm->s, r->name);
                continue;
            }
            if ((nm->len == 2 && memcmp(nm->s, "id", 2) == 0) || (nm->len == 4 && memcmp(nm->s, "kind", 4) == 0)) {
                err(S, f->u.field.name_span, "'%s' is part of every record and cannot be declared", nm->s);
                continue;
            }
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
                err(S, f->u.field.name_span,
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
    err(S, e->span, "default value does not fit the field's type %s", type_name(S, type, tb, sizeof tb));
    return false;
}

/* ---------------------------------------------------------------------
 * 3. Rate blocks and amendments
 * ------------------------------------------------------------------- */

static int outcome_of(const ast_str *s)
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

static bool check_outcome(sema *S, ast_node *rule, int *o)
{
    if (rule->u.rule.otherwise && !rule->u.rule.outcome.len) {
        *o = QO_KHTNV;
        return true;
    }
    *o = outcome_of(&rule->u.rule.outcome);
    if (*o >= 0) return true;
    const char *cand[QO__COUNT];
    for (int i = 0; i < QO__COUNT; i++) cand[i] = q_outcome_code[i];
    const char *sug = diag_suggest(rule->u.rule.outcome.s, cand, QO__COUNT);
    err(S, rule->u.rule.outcome_span, "unknown outcome '%s'%s%s%s (expected htxsnv, httnv, htnv, khtnv, not_rated or deferred)",
        rule->u.rule.outcome.s, sug ? "; did you mean '" : "", sug ? sug : "", sug ? "'?" : "");
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
    const char *cand[512];
    size_t n = 0;
    for (size_t i = 0; i < R->nrules && n < 512; i++)
        if (R->rules[i].node->u.rule.name.len) cand[n++] = R->rules[i].node->u.rule.name.s;
    const char *sug = diag_suggest(name->s, cand, n);
    if (sug)
        err(S, sp, "%s '%s' is not a rule of 'rate %s'; did you mean '%s'?", what, name->s, R->kind, sug);
    else
        err(S, sp, "%s '%s' is not a rule of 'rate %s'", what, name->s, R->kind);
}

/* Insert a rule at the end of its decision-order rank. */
static void rate_insert(s_rate *R, s_rule r, int rank)
{
    GROWV(R->rules, R->nrules, R->caprules);
    size_t at = R->nrules;
    for (size_t i = 0; i < R->nrules; i++) {
        int o;
        ast_node *n = R->rules[i].node;
        o = n->u.rule.otherwise ? 5 : outcome_rank(outcome_of(&n->u.rule.outcome));
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

static void sema_collect_rates(sema *S)
{
    for (size_t fi = 0; fi < S->nfiles; fi++) {
        S->file = (uint32_t)fi;
        for (ast_node *dcl = S->files[fi].ast.decls; dcl; dcl = dcl->next) {
            if (dcl->kind != AST_D_RATE) continue;
            const ast_str *k = &dcl->u.rate.kind;
            s_rate *R = find_rate(S, k->s, k->len);
            if (!dcl->u.rate.amend) {
                if (R) {
                    err(S, dcl->u.rate.kind_span, "'%s' is already rated (by %s); a later layer writes 'amend rate %s'",
                        k->s, S->files[R->file].layer, k->s);
                    continue;
                }
                if (!find_record(S, k->s, k->len)) {
                    const char *cand[256];
                    size_t n = 0;
                    for (size_t i = 0; i < S->nrecords && n < 256; i++) cand[n++] = S->records[i].name;
                    const char *sug = diag_suggest(k->s, cand, n);
                    err(S, dcl->u.rate.kind_span, "no record '%s' to rate%s%s%s", k->s, sug ? "; did you mean '" : "",
                        sug ? sug : "", sug ? "'?" : "");
                    continue;
                }
                GROWV(S->rates, S->nrates, S->caprates);
                R = &S->rates[S->nrates++];
                memset(R, 0, sizeof *R);
                R->kind = k->s;
                R->decl = dcl;
                R->file = (uint32_t)fi;
                int last = 0;
                bool seen_otherwise = false;
                for (ast_node *it = dcl->u.rate.items; it; it = it->next) {
                    if (it->kind == AST_D_RULE) {
                        int o;
                        if (!check_outcome(S, it, &o)) continue;
                        int rank = it->u.rule.otherwise ? 5 : outcome_rank(o);
                        if (seen_otherwise) {
                            err(S, it->span, "rule after 'otherwise': 'otherwise' must be the last rule");
                            continue;
                        }
                        if (rank < last)
                            err(S, it->u.rule.outcome_span,
                                "rule '%s' (%s) is out of decision order: not_rated/deferred rules come first, "
                                "then khtnv rules, then tiers from htxsnv down to htnv",
                                it->u.rule.name.s ? it->u.rule.name.s : "", q_outcome_code[o]);
                        else
                            last = rank;
                        if (it->u.rule.name.len && find_rule(R, it->u.rule.name.s, it->u.rule.name.len))
                            err(S, it->u.rule.name_span, "rule '%s' is already defined in this block",
                                it->u.rule.name.s);
                        seen_otherwise |= it->u.rule.otherwise;
                        GROWV(R->rules, R->nrules, R->caprules);
                        R->rules[R->nrules++] = (s_rule){it, (uint32_t)fi, NULL};
                    } else if (it->kind == AST_D_LET || it->kind == AST_D_FLAG || it->kind == AST_D_GAP) {
                        rate_item(R, it, (uint32_t)fi);
                    } else {
                        err(S, it->span, "'also requires' and 'replace' belong in 'amend rate', in a ruleset that extends another");
                    }
                }
                if (!seen_otherwise)
                    err(S, dcl->u.rate.kind_span,
                        "'rate %s' has no 'otherwise' rule: every record must get a tier (add e.g. 'otherwise khtnv flag gap')",
                        k->s);
                continue;
            }
            /* amend rate */
            if (!R) {
                const char *cand[256];
                size_t n = 0;
                for (size_t i = 0; i < S->nrates && n < 256; i++) cand[n++] = S->rates[i].kind;
                const char *sug = diag_suggest(k->s, cand, n);
                err(S, dcl->u.rate.kind_span, "'amend rate %s': no layer below rates '%s'%s%s%s", k->s, k->s,
                    sug ? "; did you mean '" : "", sug ? sug : "", sug ? "'?" : "");
                continue;
            }
            for (ast_node *it = dcl->u.rate.items; it; it = it->next) {
                switch (it->kind) {
                case AST_D_RULE: {
                    int o;
                    if (!check_outcome(S, it, &o)) break;
                    if (it->u.rule.otherwise) {
                        err(S, it->span, "an amendment cannot add another 'otherwise': the fallback of the layer below stays in force");
                        break;
                    }
                    if (find_rule(R, it->u.rule.name.s, it->u.rule.name.len)) {
                        err(S, it->u.rule.name_span,
                            "rule '%s' already exists in 'rate %s'; write 'replace %s: ...' to change it", it->u.rule.name.s,
                            k->s, it->u.rule.name.s);
                        break;
                    }
                    rate_insert(R, (s_rule){it, (uint32_t)fi, NULL}, outcome_rank(o));
                    break;
                }
                case AST_D_ALSO: {
                    int o = outcome_of(&it->u.rule.outcome);
                    if (o < 0 || o > QO_HTXSNV) {
                        const char *cand[] = {q_outcome_code[QO_HTXSNV], q_outcome_code[QO_HTTNV], q_outcome_code[QO_HTNV]};
                        const char *sug = o < 0 ? diag_suggest(it->u.rule.outcome.s, cand, 3) : NULL;
                        err(S, it->u.rule.outcome_span, "'also requires' amends a tier: htxsnv, httnv or htnv%s%s%s",
                            sug ? "; did you mean '" : "", sug ? sug : "", sug ? "'?" : "");
                        break;
                    }
                    bool any = false;
                    for (size_t i = 0; i < R->nrules; i++) {
                        ast_node *n = R->rules[i].node;
                        if (n->u.rule.otherwise || outcome_of(&n->u.rule.outcome) != o) continue;
                        s_also *a = calloc(1, sizeof *a);
                        if (!a) abort();
                        a->node = it;
                        a->file = (uint32_t)fi;
                        s_also **tail = &R->rules[i].also;
                        while (*tail) tail = &(*tail)->next;
                        *tail = a;
                        any = true;
                    }
                    if (!any) {
                        char have[64] = "";
                        for (int t = QO_HTXSNV; t >= QO_HTNV; t--)
                            for (size_t i = 0; i < R->nrules; i++)
                                if (!R->rules[i].node->u.rule.otherwise &&
                                    outcome_of(&R->rules[i].node->u.rule.outcome) == t) {
                                    if (have[0]) strcat(have, ", ");
                                    strcat(have, q_outcome_code[t]);
                                    break;
                                }
                        err(S, it->u.rule.outcome_span, "'rate %s' has no %s rule to amend (its tier rules: %s)", k->s,
                            q_outcome_code[o], have[0] ? have : "none");
                    }
                    break;
                }
                case AST_D_REPLACE: {
                    s_rule *old = find_rule(R, it->u.rule.name.s, it->u.rule.name.len);
                    if (!old) {
                        suggest_rule(S, R, it->u.rule.name_span, "replace:", &it->u.rule.name);
                        break;
                    }
                    ast_node *nr = it->u.rule.rule;
                    int o, oo;
                    if (!nr || !check_outcome(S, nr, &o)) break;
                    check_outcome(S, old->node, &oo);
                    if ((old->node->u.rule.otherwise ? 5 : outcome_rank(oo)) != (nr->u.rule.otherwise ? 5 : outcome_rank(o)))
                        err(S, nr->u.rule.outcome_span, "a replacement must keep the rule's place in the decision order (%s)",
                            q_outcome_code[oo]);
                    /* keep the old name unless the new rule names itself */
                    if (!nr->u.rule.name.len) nr->u.rule.name = old->node->u.rule.name;
                    old->node = nr;
                    old->file = (uint32_t)fi;
                    old->also = NULL;
                    break;
                }
                case AST_D_LET:
                case AST_D_FLAG:
                case AST_D_GAP: rate_item(R, it, (uint32_t)fi); break;
                default: err(S, it->span, "unexpected item in 'amend rate'"); break;
                }
            }
        }
    }
}

/* ---------------------------------------------------------------------
 * 4. Expressions: typing (sema_expr) and emission (cg_expr)
 * ------------------------------------------------------------------- */

static const char *node_name(ast_node *e) { return e->u.name.text.s ? e->u.name.text.s : ""; }

static bool name_is(ast_node *e, const char *s)
{
    return e->kind == AST_E_NAME && e->u.name.text.len == strlen(s) && memcmp(e->u.name.text.s, s, e->u.name.text.len) == 0;
}

static void unknown_name(sema *S, ast_node *e, uint32_t hint)
{
    const char *cand[512];
    size_t n = 0;
    for (size_t i = 0; i < S->nkf && n < 512; i++) cand[n++] = S->kf[i].name;
    for (size_t i = 0; i < S->nlets && n < 512; i++) cand[n++] = S->lets[i].node->u.check.name.s;
    if (S->depth > 0) {
        const q_type *et = &S->b.p->types[S->scope[S->depth - 1].elem_type];
        if (et->kind == QT_STRUCT)
            for (uint32_t i = 0; i < et->count && n < 512; i++)
                cand[n++] = prog_str(S->b.p, S->b.p->fields[et->first + i].name);
    }
    if (hint < S->b.p->ntypes && (tkind(S, hint) == QT_ENUM || tkind(S, hint) == QT_SCALE)) {
        const q_type *t = &S->b.p->types[hint];
        for (uint32_t i = 0; i < t->count && n < 512; i++) cand[n++] = prog_str(S->b.p, S->b.p->members[t->first + i].name);
    }
    const char *sug = diag_suggest(node_name(e), cand, n);
    if (hint < S->b.p->ntypes && (tkind(S, hint) == QT_ENUM || tkind(S, hint) == QT_SCALE)) {
        char tb[128];
        if (sug)
            err(S, e->span, "'%s' is not a field nor a value of %s; did you mean '%s'?", node_name(e),
                type_name(S, hint, tb, sizeof tb), sug);
        else
            err(S, e->span, "'%s' is not a field nor a value of %s", node_name(e), type_name(S, hint, tb, sizeof tb));
    } else if (sug) {
        err(S, e->span, "unknown field '%s'; did you mean '%s'?", node_name(e), sug);
    } else {
        err(S, e->span, "unknown field '%s' in record '%s'", node_name(e), prog_str(S->b.p, S->b.p->kinds[S->kind].name));
    }
}

/* Resolve a bare name against an enum/scale type, or report it. */
static uint32_t resolve_member(sema *S, ast_node *e, uint32_t type)
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
    unknown_name(S, e, type);
    return TY_ERR;
}

static uint32_t sema_expr(sema *S, ast_node *e);
static uint32_t find_hook(sema *S, const char *name);
static uint32_t sema_hook_call(sema *S, ast_node *e, uint32_t h);
static bool hook_nil_arg(sema *S, ast_node *a);
static void cg_hook_call(sema *S, ast_node *e);

static uint32_t need_value(sema *S, ast_node *e, uint32_t t)
{
    if (t == TY_MEMBER) return resolve_member(S, e, TY_ERR);
    if (t != TY_ERR && tkind(S, t) == QT_LIST) {
        err(S, e->span, "'%s' is a list: use all/any/none/count/sum over it", node_name(e));
        return TY_ERR;
    }
    return t;
}

static uint32_t need_bool(sema *S, ast_node *e, uint32_t t, const char *what)
{
    t = need_value(S, e, t);
    if (t != TY_ERR && t != TY_BOOL) {
        char tb[128];
        err(S, e->span, "%s must be true/false (bool), not %s", what, type_name(S, t, tb, sizeof tb));
        return TY_ERR;
    }
    return t;
}

static uint32_t need_num(sema *S, ast_node *e, uint32_t t)
{
    t = need_value(S, e, t);
    if (t != TY_ERR && !is_numeric(S, t)) {
        char tb[128];
        err(S, e->span, "expected a number, not %s", type_name(S, t, tb, sizeof tb));
        return TY_ERR;
    }
    return t;
}

static uint32_t sema_name(sema *S, ast_node *e)
{
    if (name_is(e, "it")) {
        if (S->depth == 0) {
            err(S, e->span, "'it' is only meaningful inside all/any/none/count/sum/min/max/longest run");
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
    for (size_t i = S->nlets; i-- > 0;) {
        ast_node *l = S->lets[i].node;
        if (strcmp(l->u.check.name.s, node_name(e)) == 0) {
            e->sem.res = RES_LET;
            e->sem.ref = (uint32_t)i;
            return l->sem.type ? l->sem.type - 1 : TY_ERR;
        }
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
    if (tkind(S, a) == QT_INT && tkind(S, b) == QT_INT) return TY_INT;
    return TY_DECIMAL;
}

static uint32_t sema_compare(sema *S, ast_node *e)
{
    ast_node *a = e->u.bin.a, *b = e->u.bin.b;
    uint32_t ta = sema_expr(S, a), tb = sema_expr(S, b);
    /* a list compared with a value: one error, not a second for the value */
    if ((ta < S->b.p->ntypes && tkind(S, ta) == QT_LIST) || (tb < S->b.p->ntypes && tkind(S, tb) == QT_LIST)) {
        need_value(S, tkind(S, ta) == QT_LIST ? a : b, tkind(S, ta) == QT_LIST ? ta : tb);
        return TY_BOOL;
    }
    if (ta == TY_MEMBER && tb == TY_MEMBER) {
        resolve_member(S, a, TY_ERR);
        return TY_ERR;
    }
    /* a bare name facing an operand already in error: no second error */
    if ((ta == TY_MEMBER && tb == TY_ERR) || (tb == TY_MEMBER && ta == TY_ERR)) return TY_BOOL;
    if (ta == TY_MEMBER) ta = resolve_member(S, a, tb);
    if (tb == TY_MEMBER) tb = resolve_member(S, b, ta);
    ta = need_value(S, a, ta);
    tb = need_value(S, b, tb);
    if (ta == TY_ERR || tb == TY_ERR) return TY_BOOL;
    uint8_t ka = tkind(S, ta), kb = tkind(S, tb);
    bool ordered = e->u.bin.op != OPR_EQ && e->u.bin.op != OPR_NE;
    char b1[128], b2[128];
    if (is_numeric(S, ta) && is_numeric(S, tb)) return TY_BOOL;
    if (ta != tb && !(ka == kb && (ka == QT_BOOL || ka == QT_DATE || ka == QT_STRING))) {
        err(S, e->u.bin.op_span.end ? e->u.bin.op_span : e->span, "cannot compare %s with %s",
            type_name(S, ta, b1, sizeof b1), type_name(S, tb, b2, sizeof b2));
        return TY_BOOL;
    }
    if (ordered && (ka == QT_ENUM || ka == QT_BOOL || ka == QT_STRING || ka == QT_STRUCT)) {
        err(S, e->u.bin.op_span.end ? e->u.bin.op_span : e->span,
            "%s has no order: only = and != apply (declare it as a 'scale' to compare by rank)",
            type_name(S, ta, b1, sizeof b1));
    }
    return TY_BOOL;
}

static uint32_t kf_flags(sema *S, uint32_t slot);

/* `FIELD else DEFAULT`: an optional (or computed) field of the record, or
 * DEFAULT when it is absent. Numbers mix (the result is int only when both
 * are); any other type must be the same on both sides. */
static uint32_t sema_else(sema *S, ast_node *e)
{
    ast_node *a = e->u.bin.a, *b = e->u.bin.b;
    uint32_t ta = sema_expr(S, a), tb = sema_expr(S, b);
    if (ta == TY_MEMBER) {
        unknown_name(S, a, TY_ERR);
        return TY_ERR;
    }
    if (ta == TY_ERR) return TY_ERR;
    if (a->sem.res != RES_FIELD || !(kf_flags(S, a->sem.ref) & (QF_OPTIONAL | QF_BATCH))) {
        err(S, a->span, "'%s' is never absent: 'else' follows an optional or computed field of the record",
            node_name(a));
        return TY_ERR;
    }
    ta = need_value(S, a, ta);
    if (tb == TY_MEMBER) tb = resolve_member(S, b, ta);
    tb = need_value(S, b, tb);
    if (ta == TY_ERR || tb == TY_ERR) return TY_ERR;
    if (is_numeric(S, ta) && is_numeric(S, tb)) return ta == tb ? ta : numeric_result(S, ta, tb, OPR_ADD);
    if (ta != tb && !(tkind(S, ta) == tkind(S, tb) && (tkind(S, ta) == QT_BOOL || tkind(S, ta) == QT_DATE ||
                                                      tkind(S, ta) == QT_STRING))) {
        char b1[128], b2[128];
        err(S, e->u.bin.op_span, "'else' gives %s when '%s' is absent, but '%s' is %s",
            type_name(S, tb, b2, sizeof b2), node_name(a), node_name(a), type_name(S, ta, b1, sizeof b1));
        return TY_ERR;
    }
    return ta;
}

static uint32_t sema_list_operand(sema *S, ast_node *l, uint32_t *elem)
{
    if (l->kind != AST_E_NAME) {
        err(S, l->span, "expected the name of a list field");
        return TY_ERR;
    }
    uint32_t t = sema_name(S, l);
    if (t == TY_MEMBER) {
        unknown_name(S, l, TY_ERR);
        return TY_ERR;
    }
    if (t == TY_ERR) return TY_ERR;
    if (l->sem.res != RES_FIELD || tkind(S, t) != QT_LIST) {
        char tb[128];
        err(S, l->span, "'%s' is %s, not a list field", node_name(l), type_name(S, t, tb, sizeof tb));
        return TY_ERR;
    }
    *elem = S->b.p->types[t].elem;
    return t;
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
        if (e->u.bin.op == OPR_NOT) return need_bool(S, e->u.bin.a, t, "the operand of 'not'") == TY_ERR ? TY_ERR : TY_BOOL;
        t = need_num(S, e->u.bin.a, t);
        return t == TY_PERCENT ? TY_PERCENT : t;
    }
    case AST_E_BINARY: {
        ast_op op = e->u.bin.op;
        if (op == OPR_AND || op == OPR_OR) {
            uint32_t a = need_bool(S, e->u.bin.a, sema_expr(S, e->u.bin.a), "each side of 'and'/'or'");
            uint32_t b = need_bool(S, e->u.bin.b, sema_expr(S, e->u.bin.b), "each side of 'and'/'or'");
            return a == TY_ERR || b == TY_ERR ? TY_ERR : TY_BOOL;
        }
        if (op >= OPR_EQ && op <= OPR_GE) return sema_compare(S, e);
        if (op == OPR_ELSE) return sema_else(S, e);
        uint32_t a = need_num(S, e->u.bin.a, sema_expr(S, e->u.bin.a));
        uint32_t b = need_num(S, e->u.bin.b, sema_expr(S, e->u.bin.b));
        return numeric_result(S, a, b, op);
    }
    case AST_E_CALL: {
        const char *fn = node_name(e);
        size_t nargs = 0;
        for (ast_node *a = e->u.name.args; a; a = a->next) nargs++;
        if (strcmp(fn, "present") == 0) {
            ast_node *a = e->u.name.args;
            if (nargs != 1 || a->kind != AST_E_NAME) {
                err(S, e->span, "present() takes one field name");
                return TY_ERR;
            }
            uint32_t t = sema_name(S, a);
            if (t == TY_MEMBER) {
                unknown_name(S, a, TY_ERR);
                return TY_ERR;
            }
            if (a->sem.res != RES_FIELD) {
                err(S, a->span, "present() takes a field of the record");
                return TY_ERR;
            }
            return TY_BOOL;
        }
        if (strcmp(fn, "share") == 0) {
            if (nargs != 2) {
                err(S, e->span, "share(part, whole) takes two numbers");
                return TY_ERR;
            }
            uint32_t a = need_num(S, e->u.name.args, sema_expr(S, e->u.name.args));
            uint32_t b = need_num(S, e->u.name.args->next, sema_expr(S, e->u.name.args->next));
            return a == TY_ERR || b == TY_ERR ? TY_ERR : TY_PERCENT;
        }
        uint32_t h = find_hook(S, fn);
        if (h != QUY_NONE) return sema_hook_call(S, e, h);
        const char *cand[256];
        size_t nc = 0;
        for (uint32_t i = 0; i < S->b.p->nhooks && nc < 256; i++) cand[nc++] = prog_str(S->b.p, S->b.p->hooks[i].name);
        const char *sug = diag_suggest(fn, cand, nc);
        if (sug)
            err(S, e->span, "unknown function '%s'; did you mean the hook '%s'?", fn, sug);
        else
            err(S, e->span, "unknown function '%s' (available: share, present)", fn);
        return TY_ERR;
    }
    case AST_E_QUANT: {
        uint32_t elem;
        if (sema_list_operand(S, e->u.quant.list, &elem) == TY_ERR) {
            return TY_ERR;
        }
        if (!e->u.quant.body) {
            if (e->u.quant.q != QNT_COUNT) {
                err(S, e->span, "this quantifier needs 'where CONDITION' (or 'of VALUE' for sum)");
                return TY_ERR;
            }
            return TY_INT;
        }
        if (S->depth >= QUY_MAX_LOOPS) {
            err(S, e->span, "quantifiers nested deeper than %d", QUY_MAX_LOOPS);
            return TY_ERR;
        }
        S->scope[S->depth++].elem_type = elem;
        ast_quant q = e->u.quant.q;
        uint32_t ft = e->u.quant.filter ? need_bool(S, e->u.quant.filter, sema_expr(S, e->u.quant.filter),
                                                    "the 'where' condition of sum/min/max")
                                        : TY_BOOL;
        uint32_t bt = sema_expr(S, e->u.quant.body);
        if (q == QNT_SUM) {
            bt = need_num(S, e->u.quant.body, bt);
        } else if (q == QNT_MIN || q == QNT_MAX) {
            /* min/max compare: numbers, dates, or a scale by rank */
            bt = need_value(S, e->u.quant.body, bt);
            uint8_t k = bt == TY_ERR ? QT_INT : tkind(S, bt);
            if (bt != TY_ERR && !is_numeric(S, bt) && k != QT_DATE && k != QT_SCALE) {
                char tb[128];
                err(S, e->u.quant.body->span, "min/max need numbers, dates or a scale, not %s",
                    type_name(S, bt, tb, sizeof tb));
                bt = TY_ERR;
            }
        } else {
            bt = need_bool(S, e->u.quant.body, bt, "the condition of a quantifier");
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
    default:
        err(S, e->span, "not an expression");
        return TY_ERR;
    }
}

static uint32_t sema_expr(sema *S, ast_node *e)
{
    uint32_t t = sema_expr_inner(S, e);
    if (t != TY_MEMBER && t != TY_ERR) e->sem.type = t + 1;
    return t;
}

/* Fields a (checked) expression reads: as values (`val`) and in present(). */
typedef struct s_reads {
    uint32_t val[64];
    size_t nval;
    uint32_t pres[64];
    size_t npres;
} s_reads;

static void add_read(uint32_t *arr, size_t *n, uint32_t slot)
{
    for (size_t i = 0; i < *n; i++)
        if (arr[i] == slot) return;
    if (*n < 64) arr[(*n)++] = slot;
}

static void collect_reads(sema *S, ast_node *e, s_reads *r)
{
    if (!e) return;
    switch (e->kind) {
    case AST_E_NAME:
        if (e->sem.res == RES_FIELD) add_read(r->val, &r->nval, e->sem.ref);
        if (e->sem.res == RES_LET) collect_reads(S, S->lets[e->sem.ref].node->u.check.expr, r);
        break;
    case AST_E_UNARY: collect_reads(S, e->u.bin.a, r); break;
    case AST_E_BINARY:
        /* `f else d` reads f only when present: neither a value read
         * (no 'if present' needed, a check still applies) nor a guard */
        if (e->u.bin.op != OPR_ELSE) collect_reads(S, e->u.bin.a, r);
        collect_reads(S, e->u.bin.b, r);
        break;
    case AST_E_CALL:
        if (strcmp(node_name(e), "present") == 0) {
            if (e->u.name.args && e->u.name.args->sem.res == RES_FIELD) add_read(r->pres, &r->npres, e->u.name.args->sem.ref);
        } else {
            /* an optional field given bare to a hook is nil when absent, not an error */
            for (ast_node *a = e->u.name.args; a; a = a->next)
                if (e->sem.res != RES_HOOK || !hook_nil_arg(S, a)) collect_reads(S, a, r);
        }
        break;
    case AST_E_QUANT:
        collect_reads(S, e->u.quant.list, r);
        collect_reads(S, e->u.quant.filter, r);
        collect_reads(S, e->u.quant.body, r);
        break;
    default: break;
    }
}

static uint32_t kf_flags(sema *S, uint32_t slot) { return S->b.p->fields[S->b.p->kinds[S->kind].first_field + slot].flags; }

/* A bare optional (or computed) field given to a hook: passed as nil when
 * absent (LOADF c = 1) instead of failing the record. */
static bool hook_nil_arg(sema *S, ast_node *a)
{
    return a->kind == AST_E_NAME && a->sem.res == RES_FIELD && (kf_flags(S, a->sem.ref) & (QF_OPTIONAL | QF_BATCH));
}

static void cg_expr(sema *S, ast_node *e);

static void cg_expr(sema *S, ast_node *e)
{
    cg_builder *b = &S->b;
    uint32_t pos = pos_of(S, e->span);
    switch (e->kind) {
    case AST_E_INT:
    case AST_E_DEC:
    case AST_E_PCT: cg_emit(b, OP_PUSHK, 0, cg_const(b, e->u.num, e->kind == AST_E_PCT ? QT_PERCENT : QT_DECIMAL), 0, pos); break;
    case AST_E_DATE: cg_emit(b, OP_PUSHK, 0, cg_const(b, e->u.num, QT_DATE), 0, pos); break;
    case AST_E_BOOL: cg_emit(b, OP_PUSHK, 0, cg_const(b, e->u.num, QT_BOOL), 0, pos); break;
    case AST_E_STR: {
        uint32_t id = str_of(S, e->u.name.text);
        q_val v = {(int64_t)b->p->str_off[id], (int64_t)e->u.name.text.len};
        cg_emit(b, OP_PUSHK, 0, cg_const(b, v, QT_STRING), 0, pos);
        break;
    }
    case AST_E_NAME:
        switch (e->sem.res) {
        case RES_FIELD: cg_emit(b, OP_LOADF, (uint16_t)e->sem.ref, 0, 0, pos); break;
        case RES_MEMBER: cg_emit(b, OP_PUSHK, 0, cg_const(b, q_int(e->sem.ref), QT_ENUM), 0, pos); break;
        case RES_IT: cg_emit(b, OP_ELEM, e->sem.depth, 0, 0, pos); break;
        case RES_SFIELD: cg_emit(b, OP_ELEMF, e->sem.depth, e->sem.ref, 0, pos); break;
        case RES_LET: cg_expr(S, S->lets[e->sem.ref].node->u.check.expr); break;
        case RES_OUTCOME: cg_emit(b, OP_OUTCOME, 0, 0, 0, pos); break;
        default: break;
        }
        break;
    case AST_E_UNARY:
        cg_expr(S, e->u.bin.a);
        cg_emit(b, e->u.bin.op == OPR_NOT ? OP_NOT : OP_NEG, 0, 0, 0, pos);
        break;
    case AST_E_BINARY: {
        ast_op op = e->u.bin.op;
        if (op == OPR_AND || op == OPR_OR) {
            cg_expr(S, e->u.bin.a);
            uint32_t j = cg_emit(b, op == OPR_AND ? OP_JFKEEP : OP_JTKEEP, 0, 0, 0, pos);
            cg_expr(S, e->u.bin.b);
            cg_patch(b, j, cg_here(b));
            break;
        }
        if (op == OPR_ELSE) { /* IFABSENT f -> d; LOADF f; JMP end; d: DEFAULT; end: */
            uint16_t slot = (uint16_t)e->u.bin.a->sem.ref;
            uint32_t skip = cg_emit(b, OP_IFABSENT, slot, 0, 0, pos);
            cg_emit(b, OP_LOADF, slot, 0, 0, pos);
            uint32_t j = cg_emit(b, OP_JMP, 0, 0, 0, pos);
            cg_patch(b, skip, cg_here(b));
            cg_expr(S, e->u.bin.b);
            cg_patch(b, j, cg_here(b));
            break;
        }
        cg_expr(S, e->u.bin.a);
        cg_expr(S, e->u.bin.b);
        uint32_t ta = e->u.bin.a->sem.type ? e->u.bin.a->sem.type - 1 : TY_ERR;
        bool str = ta != TY_ERR && tkind(S, ta) == QT_STRING;
        static const uint8_t ops[] = {[OPR_ADD] = OP_ADD, [OPR_SUB] = OP_SUB, [OPR_MUL] = OP_MUL, [OPR_DIV] = OP_DIV,
                                      [OPR_EQ] = OP_EQ,   [OPR_NE] = OP_NE,   [OPR_LT] = OP_LT,   [OPR_LE] = OP_LE,
                                      [OPR_GT] = OP_GT,   [OPR_GE] = OP_GE};
        uint8_t o = ops[op];
        if (str) o = op == OPR_EQ ? OP_STREQ : OP_STRNE;
        cg_emit(b, o, 0, 0, 0, pos);
        break;
    }
    case AST_E_CALL:
        if (e->sem.res == RES_HOOK) {
            cg_hook_call(S, e);
        } else if (strcmp(node_name(e), "present") == 0) {
            cg_emit(b, OP_PRESENT, (uint16_t)e->u.name.args->sem.ref, 0, 0, pos);
        } else { /* share */
            cg_expr(S, e->u.name.args);
            cg_expr(S, e->u.name.args->next);
            cg_emit(b, OP_SHARE, 0, 0, 0, pos);
        }
        break;
    case AST_E_QUANT: {
        uint16_t slot = (uint16_t)e->u.quant.list->sem.ref;
        if (!e->u.quant.body) {
            cg_emit(b, OP_LEN, slot, 0, 0, pos);
            break;
        }
        static const uint8_t qk[] = {[QNT_ALL] = QK_ALL, [QNT_ANY] = QK_ANY,   [QNT_NONE] = QK_NONE,
                                     [QNT_COUNT] = QK_COUNT, [QNT_SUM] = QK_SUM, [QNT_MIN] = QK_MIN,
                                     [QNT_MAX] = QK_MAX,     [QNT_RUN] = QK_RUN};
        uint16_t reg = (uint16_t)S->depth;
        S->depth++;
        cg_emit(b, OP_QBEGIN, reg, slot, qk[e->u.quant.q], pos);
        uint32_t head = cg_emit(b, OP_QNEXT, reg, 0, 0, pos);
        if (e->u.quant.filter) { /* an element failing the filter is not folded */
            cg_expr(S, e->u.quant.filter);
            cg_emit(b, OP_QFILTER, reg, head, 0, pos);
        }
        cg_expr(S, e->u.quant.body);
        cg_emit(b, OP_QSTEP, reg, head, 0, pos);
        cg_patch(b, head, cg_here(b));
        cg_emit(b, OP_QEND, reg, e->sem.type ? e->sem.type - 1 : 0, 0, pos); /* b: result type, for the trace */
        S->depth--;
        break;
    }
    default: break;
    }
}

/* ---------------------------------------------------------------------
 * 4b. Clauses, rules, flags
 * ------------------------------------------------------------------- */

/* Check one clause; returns false on error. `ctx` names the construct. */
static bool sema_clause(sema *S, ast_node *c, const char *ctx)
{
    size_t before = S->d->nerrors;
    need_bool(S, c->u.clause.expr, sema_expr(S, c->u.clause.expr), ctx);
    if (c->u.clause.unless)
        need_bool(S, c->u.clause.unless, sema_expr(S, c->u.clause.unless), "an 'unless' exception");
    if (S->d->nerrors != before) return false;
    s_reads r = {0};
    collect_reads(S, c->u.clause.expr, &r);
    collect_reads(S, c->u.clause.unless, &r);
    if (!c->u.clause.if_present) {
        for (size_t i = 0; i < r.nval; i++) {
            if (!(kf_flags(S, r.val[i]) & (QF_OPTIONAL | QF_BATCH))) continue;
            bool guarded = false;
            for (size_t j = 0; j < r.npres; j++) guarded |= r.pres[j] == r.val[i];
            if (!guarded) {
                const char *nm = S->kf[r.val[i]].name;
                err(S, c->span,
                    "'%s' may be absent (optional): end the clause with 'if present' to skip it when absent, "
                    "or test present(%s) in it",
                    nm, nm);
            }
        }
    }
    return S->d->nerrors == before;
}

/* Emit one clause; returns the index of its CLAUSE instruction (rules) or
 * of the last instruction of its value (flags, `as_value`). */
static uint32_t emit_clause(sema *S, ast_node *c, uint32_t rule, const char *cite, size_t cite_len, bool as_value,
                          uint32_t *skips, size_t *nskips)
{
    /* In a not_rated / deferred / khtnv rule, a clause skipped for lack of
     * data means the case is not established: the rule does not apply. */
    uint8_t trigger = rule != QUY_NONE && (S->b.p->rules[rule].outcome == QO_KHTNV ||
                                            S->b.p->rules[rule].outcome >= QO_NOT_RATED);
    cg_builder *b = &S->b;
    uint32_t ci = b->p->nclauses;
    q_clause *qc = cg_clause(b);
    qc->rule = rule;
    qc->text = span_text(S, c->u.clause.expr->span);
    qc = &b->p->clauses[ci];
    qc->label = str_of(S, c->u.clause.label);
    qc->cite = cg_str(b, cite, cite_len);
    qc->layer = cg_cstr(b, S->files[S->file].layer);
    qc->exc_text = c->u.clause.unless ? span_text(S, c->u.clause.unless->span) : 0;
    qc = &b->p->clauses[ci];
    qc->if_present = c->u.clause.if_present;
    qc->pos = pos_of(S, c->span);
    s_reads r = {0};
    collect_reads(S, c->u.clause.expr, &r);
    collect_reads(S, c->u.clause.unless, &r);
    qc->first_read = b->p->nreads;
    for (size_t i = 0; i < r.nval; i++) cg_read(b, (uint16_t)r.val[i]);
    b->p->clauses[ci].nreads = b->p->nreads - b->p->clauses[ci].first_read;

    if (c->u.clause.if_present)
        for (size_t i = 0; i < r.nval; i++)
            if (kf_flags(S, r.val[i]) & (QF_OPTIONAL | QF_BATCH))
                skips[(*nskips)++] = cg_emit(b, OP_IFABSENT, (uint16_t)r.val[i], 0, trigger, pos_of(S, c->span));
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
static uint32_t new_flag(sema *S, uint32_t name, uint32_t message, uint32_t cite, uint32_t layer, uint8_t kind,
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
static void sema_flag_item(sema *S, ast_node *it, bool gap)
{
    cg_builder *b = &S->b;
    bool ok = true;
    for (ast_node *c = it->u.rule.clauses; c; c = c->next) ok &= sema_clause(S, c, gap ? "a gap condition" : "a flag condition");
    if (!it->u.rule.cite.len) err(S, it->span, "%s '%s' needs a 'cite'", gap ? "gap" : "flag", it->u.rule.name.s);
    if (!ok) return;
    uint32_t name = str_of(S, it->u.rule.name);
    uint32_t fi = new_flag(S, name, it->u.rule.label.len ? str_of(S, it->u.rule.label) : 0, str_of(S, it->u.rule.cite),
                           cg_cstr(b, S->files[S->file].layer), gap ? QFL_GAP : QFL_FLAG, b->p->nclauses,
                           pos_of(S, it->span));
    uint32_t skips[256], ands[64];
    size_t nskips = 0, nands = 0;
    bool first = true;
    for (ast_node *c = it->u.rule.clauses; c; c = c->next) {
        if (!first) {
            ands[nands++] = cg_emit(b, OP_JFKEEP, 0, 0, 0, pos_of(S, c->span));
        }
        first = false;
        emit_clause(S, c, QUY_NONE, it->u.rule.cite.s, it->u.rule.cite.len, true, skips, &nskips);
        if (nands >= 63 || nskips >= 200) break;
    }
    for (size_t i = 0; i < nands; i++) cg_patch(b, ands[i], cg_here(b));
    cg_emit(b, OP_FLAG, (uint16_t)fi, 0, 0, pos_of(S, it->span));
    for (size_t i = 0; i < nskips; i++) cg_patch(b, skips[i], cg_here(b));
}

static uint32_t builtin_gap_flag(sema *S)
{
    if (S->gap_flag != QUY_NONE) return S->gap_flag;
    cg_builder *b = &S->b;
    S->gap_flag = new_flag(S, cg_cstr(b, "gap"),
                           cg_cstr(b, "Không quy tắc xếp loại nào của văn bản khớp với hồ sơ này: văn bản bỏ ngỏ "
                                      "trường hợp này (khoảng trống)"),
                           cg_cstr(b, ""), cg_cstr(b, ""), QFL_FLAG, QUY_NONE, 0);
    return S->gap_flag;
}

static uint32_t rule_flag(sema *S, ast_node *r)
{
    if (!r->u.rule.flag.len) return QUY_NONE;
    if (r->u.rule.flag.len == 3 && memcmp(r->u.rule.flag.s, "gap", 3) == 0) return builtin_gap_flag(S);
    return new_flag(S, str_of(S, r->u.rule.flag), r->u.rule.label.len ? str_of(S, r->u.rule.label) : 0,
                    str_of(S, r->u.rule.cite), cg_cstr(&S->b, S->files[S->file].layer), QFL_FLAG, QUY_NONE,
                    pos_of(S, r->span));
}

static void sema_adjust_steps(sema *S, const char *kind, bool tier);

/* ---------------------------------------------------------------------
 * Batch steps: caps and quota order keys, compiled per kind as batch
 * expressions (q_bexpr: code that leaves one value, run by vm_eval)
 * ------------------------------------------------------------------- */

static uint32_t emit_bexpr(sema *S, ast_node *e, uint32_t k)
{
    cg_builder *b = &S->b;
    uint32_t x = b->p->nbexprs;
    q_bexpr *be = cg_bexpr(b);
    be->kind = k;
    be->entry = cg_here(b);
    be->pos = pos_of(S, e->span);
    uint32_t txt = span_text(S, e->span);
    b->p->bexprs[x].text = txt;
    cg_expr(S, e);
    cg_emit(b, OP_HALT, 0, 0, 0, pos_of(S, e->span));
    return x;
}

static const s_kfield *kf_find(sema *S, const char *name)
{
    for (size_t i = 0; i < S->nkf; i++)
        if (strcmp(S->kf[i].name, name) == 0) return &S->kf[i];
    return NULL;
}

/* Does `cap X` name kind k's record or one of its ancestors? */
static bool names_kind(sema *S, s_record *rec, const ast_str *name)
{
    s_record *chain[16];
    size_t n = record_chain(S, rec, chain, 16);
    for (size_t i = 0; i < n; i++)
        if (strlen(chain[i]->name) == name->len && memcmp(chain[i]->name, name->s, name->len) == 0) return true;
    return false;
}

static void sema_cap(sema *S, ast_node *c, uint32_t k)
{
    cg_builder *b = &S->b;
    ast_node *bd = c->u.cap.bound;
    q_cap cap = {.kind = k, .when = QUY_NONE, .unless = QUY_NONE};
    bool ok = true;
    if (!c->u.cap.cite.len) {
        err(S, c->span, "a cap needs a 'cite' naming the clause it encodes");
        ok = false;
    }
    if (bd->kind == AST_E_NAME && outcome_of(&bd->u.name.text) >= 0 && outcome_of(&bd->u.name.text) <= QO_HTXSNV) {
        cap.bound = QCAP_TIER;
        cap.tier = (uint8_t)outcome_of(&bd->u.name.text);
    } else if (bd->kind == AST_E_NAME && kf_find(S, bd->u.name.text.s)) {
        const s_kfield *f = kf_find(S, bd->u.name.text.s);
        if (f->type != b->p->tier_type) {
            err(S, bd->span, "a cap's bound must be a tier: '%s' is not a tier field", bd->u.name.text.s);
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
            err(S, bd->span, "'%s.tier' needs a string field '%s' (the id of a record in the batch) in record '%s'",
                ref, ref, prog_str(b->p, b->p->kinds[k].name));
            ok = false;
        } else {
            cap.bound = name_is(bd->u.member.a, "head_of") ? QCAP_HEAD_OF : QCAP_UNIT;
            cap.slot = (uint16_t)f->slot;
        }
    } else if (bd->kind == AST_E_NAME) {
        const char *cand[512];
        size_t n = 0;
        for (size_t i = 0; i < S->nkf && n < 512; i++) cand[n++] = S->kf[i].name;
        const char *sug = diag_suggest(bd->u.name.text.s, cand, n);
        err(S, bd->span, "unknown field '%s' in record '%s'%s%s%s: a cap's bound is a tier (httnv), a tier field, "
            "head_of.tier or unit.tier", bd->u.name.text.s, prog_str(b->p, b->p->kinds[k].name),
            sug ? " (did you mean '" : "", sug ? sug : "", sug ? "'?)" : "");
        ok = false;
    } else {
        err(S, bd->span,
            "a cap's bound is a tier (httnv), a tier field of the record (civil_servant_tier), head_of.tier or "
            "unit.tier");
        ok = false;
    }
    ast_node *conds[2] = {c->u.cap.when, c->u.cap.unless};
    uint32_t ex[2] = {QUY_NONE, QUY_NONE};
    for (int i = 0; i < 2; i++) {
        if (!conds[i]) continue;
        size_t before = S->d->nerrors;
        need_bool(S, conds[i], sema_expr(S, conds[i]), i ? "a cap's 'unless'" : "a cap's 'when'");
        if (S->d->nerrors != before) {
            ok = false;
            continue;
        }
        if (ok) ex[i] = emit_bexpr(S, conds[i], k);
    }
    if (!ok) return;
    cap.when = ex[0];
    cap.unless = ex[1];
    cap.text = span_text(S, bd->span);
    cap.cite = str_of(S, c->u.cap.cite);
    cap.layer = cg_cstr(b, S->files[S->file].layer);
    cap.pos = pos_of(S, c->span);
    *cg_cap(b) = cap;
}

/* Caps naming kind k (or an ancestor record), then the order keys of
 * every quota, compiled for kind k. */
static void sema_kind_batch(sema *S, s_record *rec, uint32_t k)
{
    uint32_t saved = S->file;
    for (size_t fi = 0; fi < S->nfiles; fi++) {
        S->file = (uint32_t)fi;
        for (ast_node *c = S->files[fi].ast.decls; c; c = c->next)
            if (c->kind == AST_D_CAP && names_kind(S, rec, &c->u.cap.kind)) sema_cap(S, c, k);
    }
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
            uint32_t x = emit_bexpr(S, key->u.clause.expr, k);
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

static void sema_lower_kind(sema *S, s_record *rec, s_rate *R)
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
    ast_node *decl[QUY_MAX_KIND_DECLS];
    uint32_t dfile[QUY_MAX_KIND_DECLS];
    size_t n = kind_decls(S, rec, decl, dfile);
    sema_kind_fields(S, rec, &b->p->kinds[k], decl, dfile, n);
    qk = &b->p->kinds[k];

    /* the kind's fields, for name lookup */
    S->nkf = qk->nfields;
    S->kf = calloc(S->nkf ? S->nkf : 1, sizeof *S->kf);
    if (!S->kf) abort();
    for (uint32_t i = 0; i < qk->nfields; i++) {
        const q_field *f = &b->p->fields[qk->first_field + i];
        /* a copy: the string pool moves as it grows */
        S->kf[i] = (s_kfield){strdup(prog_str(b->p, f->name)), f->slot, f->type, f->flags};
        if (!S->kf[i].name) abort();
    }
    S->nlets = 0;
    S->depth = 0;

    /* checks, from every record of the ancestry and their amendments */
    b->p->kinds[k].first_check = b->p->nchecks;
    for (size_t ci = 0; ci < n; ci++) {
        S->file = dfile[ci];
        for (ast_node *c = decl[ci]->u.decl.items; c; c = c->next) {
            if (c->kind != AST_D_CHECK) continue;
            size_t before = S->d->nerrors;
            need_bool(S, c->u.check.expr, sema_expr(S, c->u.check.expr), "a check");
            if (S->d->nerrors != before) continue;
            s_reads r = {0};
            collect_reads(S, c->u.check.expr, &r);
            uint32_t chk = b->p->nchecks;
            q_check *qc = cg_check(b);
            qc->entry = cg_here(b);
            /* blame the first field read, else the first tested with present() */
            qc->field = b->p->kinds[k].first_field + (r.nval ? r.val[0] : r.npres ? r.pres[0] : 0);
            qc->pos = pos_of(S, c->span);
            uint32_t txt = span_text(S, c->u.check.expr->span);
            b->p->checks[chk].text = c->u.check.label.len ? str_of(S, c->u.check.label) : txt;
            /* a check reading an absent optional field does not apply */
            uint32_t skips[64];
            size_t ns = 0;
            for (size_t i = 0; i < r.nval; i++)
                if (kf_flags(S, r.val[i]) & (QF_OPTIONAL | QF_BATCH))
                    skips[ns++] = cg_emit(b, OP_IFABSENT, (uint16_t)r.val[i], 0, 0, pos_of(S, c->span));
            cg_expr(S, c->u.check.expr);
            cg_emit(b, OP_HALT, 0, 0, 0, pos_of(S, c->span));
            if (ns) {
                for (size_t i = 0; i < ns; i++) cg_patch(b, skips[i], cg_here(b));
                cg_emit(b, OP_PUSHK, 0, cg_const(b, q_bool(true), QT_BOOL), 0, pos_of(S, c->span));
                cg_emit(b, OP_HALT, 0, 0, 0, pos_of(S, c->span));
            }
        }
    }
    b->p->kinds[k].nchecks = b->p->nchecks - b->p->kinds[k].first_check;
    if (!R) return;

    /* lets (typed once, in order; each sees the ones before it) */
    S->lets = calloc(R->nitems ? R->nitems : 1, sizeof *S->lets);
    if (!S->lets) abort();
    for (size_t i = 0; i < R->nitems; i++) {
        ast_node *it = R->items[i].node;
        if (it->kind != AST_D_LET) continue;
        S->file = R->items[i].file;
        uint32_t t = need_value(S, it->u.check.expr, sema_expr(S, it->u.check.expr));
        it->sem.type = t == TY_ERR ? 0 : t + 1;
        S->lets[S->nlets++] = R->items[i];
    }

    /* caps and quota order keys (blocks of their own, before the rate block) */
    sema_kind_batch(S, rec, k);

    /* rules, after the `adjust ... record` steps */
    b->p->kinds[k].entry = cg_here(b);
    b->p->kinds[k].first_rule = b->p->nrules;
    sema_adjust_steps(S, rec->name, false);
    uint32_t *decides = calloc(R->nrules ? R->nrules : 1, sizeof *decides);
    if (!decides) abort();
    bool always = false;
    for (size_t ri = 0; ri < R->nrules; ri++) {
        ast_node *rn = R->rules[ri].node;
        S->file = R->rules[ri].file;
        if (always) warn(S, rn->span, "rule '%s' can never be reached: an earlier rule always holds",
                         rn->u.rule.otherwise ? "otherwise" : rn->u.rule.name.s);
        int o;
        check_outcome(S, rn, &o);
        if (!rn->u.rule.otherwise && !rn->u.rule.cite.len)
            err(S, rn->span, "rule '%s' needs a 'cite' naming the clause it encodes", rn->u.rule.name.s);
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
        uint32_t fl = rule_flag(S, rn);
        b->p->rules[r].flag = fl;

        uint32_t fails[256], skips[256];
        size_t nfails = 0, nskips = 0;
        bool all_true = true; /* every clause is the literal `true` */
        for (ast_node *c = rn->u.rule.clauses; c; c = c->next) {
            if (!sema_clause(S, c, "a rule condition")) {
                all_true = false;
                continue;
            }
            all_true &= clause_always_true(c);
            if (nfails < 255 && nskips < 200)
                fails[nfails++] = emit_clause(S, c, r, rn->u.rule.cite.s, rn->u.rule.cite.len, false, skips, &nskips);
            for (size_t i = 0; i < nskips; i++) cg_patch(b, skips[i], cg_here(b));
            nskips = 0;
        }
        for (s_also *a = R->rules[ri].also; a; a = a->next) {
            S->file = a->file;
            if (!a->node->u.rule.cite.len) err(S, a->node->span, "'also requires' needs a 'cite'");
            for (ast_node *c = a->node->u.rule.clauses; c; c = c->next) {
                if (!sema_clause(S, c, "a requirement")) {
                    all_true = false;
                    continue;
                }
                all_true &= clause_always_true(c);
                if (nfails < 255 && nskips < 200)
                    fails[nfails++] = emit_clause(S, c, r, a->node->u.rule.cite.s, a->node->u.rule.cite.len, false, skips, &nskips);
                for (size_t i = 0; i < nskips; i++) cg_patch(b, skips[i], cg_here(b));
                nskips = 0;
            }
            S->file = R->rules[ri].file;
        }
        b->p->rules[r].nclauses = b->p->nclauses - b->p->rules[r].first_clause;
        if (rn->u.rule.otherwise) {
            /* gaps: which hole of the text this record fell into */
            for (size_t i = 0; i < R->nitems; i++) {
                if (R->items[i].node->kind != AST_D_GAP) continue;
                S->file = R->items[i].file;
                sema_flag_item(S, R->items[i].node, true);
            }
            S->file = R->rules[ri].file;
        }
        decides[ri] = cg_emit(b, OP_DECIDE, (uint16_t)r, 0, 0, pos_of(S, rn->span));
        for (size_t i = 0; i < nfails; i++) cg_patch(b, fails[i], cg_here(b));
        if (all_true && !rn->u.rule.otherwise) always = true;
    }
    b->p->kinds[k].nrules = b->p->nrules - b->p->kinds[k].first_rule;
    /* The flag section: every record that got a tier. */
    uint32_t flags_at = cg_here(b);
    for (size_t ri = 0; ri < R->nrules; ri++) cg_patch(b, decides[ri], flags_at);
    free(decides);
    for (size_t i = 0; i < R->nitems; i++) {
        if (R->items[i].node->kind != AST_D_FLAG) continue;
        S->file = R->items[i].file;
        sema_flag_item(S, R->items[i].node, false);
    }
    sema_adjust_steps(S, rec->name, true);
    cg_emit(b, OP_HALT, 0, 0, 0, pos_of(S, R->decl->span));
}

/* ---------------------------------------------------------------------
 * 5. Quotas
 * ------------------------------------------------------------------- */

/* The quotas in force: a later layer's `replace quota T` supersedes the
 * quota on T of an earlier layer; a second quota on T without `replace`
 * is an error (a variant changes the parent's quota explicitly). */
static void sema_collect_quotas(sema *S)
{
    for (size_t fi = 0; fi < S->nfiles; fi++) {
        S->file = (uint32_t)fi;
        for (ast_node *dcl = S->files[fi].ast.decls; dcl; dcl = dcl->next) {
            if (dcl->kind != AST_D_QUOTA) continue;
            size_t at = S->nquotas;
            for (size_t i = 0; i < S->nquotas; i++) {
                ast_node *o = S->quotas[i].node;
                if (o->u.quota.tier.len != dcl->u.quota.tier.len ||
                    memcmp(o->u.quota.tier.s, dcl->u.quota.tier.s, o->u.quota.tier.len) != 0)
                    continue;
                if (!dcl->u.quota.replace || S->quotas[i].file == fi)
                    err(S, dcl->u.quota.tier_span, "%s '%s' already has a quota on '%s'%s", S->quotas[i].file == fi ? "this ruleset" : "ruleset",
                        S->files[S->quotas[i].file].layer, o->u.quota.tier.s,
                        S->quotas[i].file == fi ? "" : ": write 'replace quota …' to change it");
                at = i;
            }
            if (at == S->nquotas) {
                if (dcl->u.quota.replace) {
                    err(S, dcl->span, "'replace quota': no earlier ruleset of the chain has a quota on '%s'",
                        dcl->u.quota.tier.s);
                    continue;
                }
                if (S->nquotas == sizeof S->quotas / sizeof S->quotas[0]) {
                    err(S, dcl->span, "too many quotas");
                    continue;
                }
                S->nquotas++;
            }
            S->quotas[at] = (s_item){dcl, (uint32_t)fi};
            if (S->quotas[0].node->u.quota.per.len != dcl->u.quota.per.len ||
                memcmp(S->quotas[0].node->u.quota.per.s, dcl->u.quota.per.s, dcl->u.quota.per.len) != 0)
                err(S, dcl->u.quota.per_span, "every quota of a ruleset groups by the same field ('%s')",
                    S->quotas[0].node->u.quota.per.s);
        }
    }
}

static void sema_quotas(sema *S)
{
    for (size_t qi = 0; qi < S->nquotas; qi++) {
        ast_node *dcl = S->quotas[qi].node;
        S->file = S->quotas[qi].file;
        int t = outcome_of(&dcl->u.quota.tier), of = outcome_of(&dcl->u.quota.of_tier);
        if (t < 0 || t > QO_HTXSNV) err(S, dcl->u.quota.tier_span, "a quota limits a tier (htxsnv, httnv, htnv)");
        if (of < 0 || of > QO_HTXSNV) err(S, dcl->u.quota.of_span, "a quota is counted against a tier (htxsnv, httnv, htnv)");
        if (t >= 0 && of >= 0 && t <= QO_HTXSNV && of <= QO_HTXSNV && of != t - 1)
            err(S, dcl->u.quota.of_span,
                "a quota on '%s' is counted against the tier just below it ('%s'), where the demoted records go",
                q_outcome_code[t], t > 0 ? q_outcome_code[t - 1] : "?");
        int rnd = -1;
        static const char *const rounds[] = {"down", "half_up", "up"};
        for (int i = 0; i < 3; i++)
            if (dcl->u.quota.rounding.len == strlen(rounds[i]) &&
                memcmp(dcl->u.quota.rounding.s, rounds[i], dcl->u.quota.rounding.len) == 0)
                rnd = i;
        if (dcl->u.quota.rounding.len && rnd < 0)
            err(S, dcl->u.quota.rounding_span, "unknown rounding '%s' (down, half_up or up)", dcl->u.quota.rounding.s);
        int basis = QBASIS_FINAL;
        if (dcl->u.quota.basis.s && !strcmp(dcl->u.quota.basis.s, "eligible")) basis = QBASIS_ELIGIBLE;
        if (dcl->u.quota.basis.s && !strcmp(dcl->u.quota.basis.s, "at_least")) basis = QBASIS_AT_LEAST;
        bool per_ok = false;
        for (uint32_t k = 0; k < S->b.p->nkinds; k++) {
            uint32_t f = prog_find_field(S->b.p, k, dcl->u.quota.per.s, dcl->u.quota.per.len);
            if (f == QUY_NONE) continue;
            per_ok = true;
            if (S->b.p->types[S->b.p->fields[f].type].kind != QT_STRING)
                err(S, dcl->u.quota.per_span, "a quota groups by a string field; '%s' of record '%s' is not one",
                    dcl->u.quota.per.s, prog_str(S->b.p, S->b.p->kinds[k].name));
        }
        if (!per_ok) err(S, dcl->u.quota.per_span, "no record has a field '%s' to group the quota by", dcl->u.quota.per.s);
        if (!dcl->u.quota.cite.len) err(S, dcl->span, "a quota needs a 'cite'");
        uint32_t nkeys = 0;
        for (ast_node *key = dcl->u.quota.keys; key; key = key->next, nkeys++) {
            bool any = false;
            for (uint32_t i = 0; i < S->b.p->nqkeys; i++)
                any |= S->b.p->qkeys[i].quota == qi && S->b.p->qkeys[i].key == nkeys;
            if (!any)
                err(S, key->span, "order key: no rated record has a number here (check the field names and that it is "
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
static void sema_check_caps(sema *S)
{
    for (size_t fi = 0; fi < S->nfiles; fi++) {
        S->file = (uint32_t)fi;
        for (ast_node *c = S->files[fi].ast.decls; c; c = c->next) {
            if (c->kind != AST_D_CAP) continue;
            if (!find_record(S, c->u.cap.kind.s, c->u.cap.kind.len)) {
                const char *cand[256];
                size_t n = 0;
                for (size_t i = 0; i < S->nrecords && n < 256; i++) cand[n++] = S->records[i].name;
                const char *sug = diag_suggest(c->u.cap.kind.s, cand, n);
                err(S, c->u.cap.kind_span, "cap on unknown record '%s'%s%s%s", c->u.cap.kind.s,
                    sug ? " (did you mean '" : "", sug ? sug : "", sug ? "'?)" : "");
            }
        }
    }
}

/* ---------------------------------------------------------------------
 * 6. Hooks and adjust steps
 * ------------------------------------------------------------------- */

static uint32_t find_hook(sema *S, const char *name)
{
    for (uint32_t i = 0; i < S->b.p->nhooks; i++)
        if (strcmp(prog_str(S->b.p, S->b.p->hooks[i].name), name) == 0) return i;
    return QUY_NONE;
}

/* The Lua file of a hook, beside the ruleset file that declares it: a
 * relative path ending in .lua, without "..". NULL with a reason. */
static char *read_hook_file(sema *S, const ast_str *file, size_t *len, char *why, size_t whysize)
{
    const char *f = file->s ? file->s : "";
    size_t n = file->len;
    if (n < 5 || strcmp(f + n - 4, ".lua") != 0) {
        snprintf(why, whysize, "a hook file is a Lua file whose name ends in '.lua'");
        return NULL;
    }
    if (f[0] == '/' || strstr(f, "..") || strchr(f, '\\')) {
        snprintf(why, whysize, "a hook file is named relative to the ruleset's folder, without '..'");
        return NULL;
    }
    const char *rs = S->files[S->file].path;
    const char *slash = strrchr(rs, '/');
    size_t dl = slash ? (size_t)(slash - rs) : 1;
    char *path = malloc(dl + n + 2);
    if (!path) abort();
    snprintf(path, dl + n + 2, "%.*s/%s", (int)dl, slash ? rs : ".", f);
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        snprintf(why, whysize, "cannot read %s: %s", path, strerror(errno));
        free(path);
        return NULL;
    }
    size_t cap = 4096, got = 0, r;
    char *buf = malloc(cap);
    if (!buf) abort();
    while ((r = fread(buf + got, 1, cap - got - 1, fp)) > 0) {
        got += r;
        if (got + 1 == cap) {
            if (cap >= (16u << 20)) {
                snprintf(why, whysize, "%s is larger than 16 MiB", path);
                fclose(fp);
                free(buf);
                free(path);
                return NULL;
            }
            buf = realloc(buf, cap *= 2);
            if (!buf) abort();
        }
    }
    fclose(fp);
    free(path);
    buf[got] = 0;
    *len = got;
    return buf;
}

/* A hook's parameter or result type: a declared or builtin name (an inline
 * enum has no name a hook could use). */
static uint32_t hook_type(sema *S, ast_node *t, bool result)
{
    if (t && t->kind == AST_T_ENUM) {
        err(S, t->span, "declare this enum by name ('enum NAME { ... }') to use it in a hook");
        return TY_ERR;
    }
    uint32_t ty = sema_resolve_type(S, t);
    if (ty == TY_ERR) return TY_ERR;
    uint8_t k = tkind(S, ty);
    if (result && (k == QT_LIST || k == QT_STRUCT)) {
        err(S, t->span, "a hook returns one value (int, decimal, percent, bool, date, string, an enum or a scale), "
                        "or 'adjustment' for an 'adjust' step");
        return TY_ERR;
    }
    if (!result && k == QT_STRUCT) {
        err(S, t->span, "a struct cannot be passed to a hook on its own; pass the list field that holds it");
        return TY_ERR;
    }
    return ty;
}

/* Phase 1b: `hook NAME(p: T, ...) -> R from "file.lua"`: checked, and the
 * Lua source embedded in the program. */
static void sema_hooks(sema *S)
{
    for (size_t fi = 0; fi < S->nfiles; fi++) {
        S->file = (uint32_t)fi;
        for (ast_node *dcl = S->files[fi].ast.decls; dcl; dcl = dcl->next) {
            if (dcl->kind != AST_D_HOOK) continue;
            const ast_str *nm = &dcl->u.hook.name;
            size_t before = S->d->nerrors;
            if (find_hook(S, nm->s) != QUY_NONE) {
                err(S, dcl->u.hook.name_span, "hook '%s' is already declared", nm->s);
                continue;
            }
            if (strcmp(nm->s, "share") == 0 || strcmp(nm->s, "present") == 0) {
                err(S, dcl->u.hook.name_span, "'%s' is a built-in function; give the hook another name", nm->s);
                continue;
            }
            uint32_t ptypes[QUY_MAX_STACK];
            uint32_t np = 0;
            for (ast_node *pa = dcl->u.hook.params; pa; pa = pa->next) {
                for (ast_node *o = dcl->u.hook.params; o != pa; o = o->next)
                    if (strcmp(o->u.field.name.s, pa->u.field.name.s) == 0)
                        err(S, pa->u.field.name_span, "parameter '%s' is declared twice", pa->u.field.name.s);
                if (np == QUY_MAX_STACK) {
                    err(S, pa->span, "a hook takes at most %d parameters", QUY_MAX_STACK);
                    break;
                }
                ptypes[np++] = hook_type(S, pa->u.field.type, false);
            }
            uint32_t result = QUY_NONE;
            ast_node *rt = dcl->u.hook.result;
            bool adjustment = rt && rt->kind == AST_T_NAMED && strcmp(rt->u.type.name.s, "adjustment") == 0;
            if (!adjustment) result = hook_type(S, rt, true);
            char why[1024];
            size_t len = 0;
            char *src = S->d->nerrors == before ? read_hook_file(S, &dcl->u.hook.file, &len, why, sizeof why) : NULL;
            if (S->d->nerrors == before) {
                if (!src)
                    err(S, dcl->u.hook.file_span, "hook '%s': %s", nm->s, why);
                else if (!hook_check_source(S->b.p, nm->s, dcl->u.hook.file.s, src, len, why, sizeof why))
                    err(S, dcl->u.hook.file_span, "hook '%s': %s", nm->s, why);
            }
            if (S->d->nerrors != before) {
                free(src);
                continue;
            }
            q_hook h = {0};
            h.name = str_of(S, *nm);
            h.file = str_of(S, dcl->u.hook.file);
            h.source = cg_str(&S->b, src, len);
            h.result = result;
            h.first_param = S->b.p->nparams;
            h.nparams = np;
            h.layer = cg_cstr(&S->b, S->files[fi].layer);
            h.pos = pos_of(S, dcl->span);
            free(src);
            ast_node *pa = dcl->u.hook.params;
            for (uint32_t i = 0; i < np; i++, pa = pa->next) {
                uint32_t pn = str_of(S, pa->u.field.name);
                q_param *qp = cg_param(&S->b);
                qp->name = pn;
                qp->type = ptypes[i];
            }
            *cg_hook(&S->b) = h;
        }
    }
}

/* Does an argument of type `at` fit a parameter of type `pt`? */
static bool hook_arg_fits(sema *S, uint32_t pt, uint32_t at)
{
    if (pt == at) return true;
    uint8_t pk = tkind(S, pt), ak = tkind(S, at);
    if (pk == QT_INT) return ak == QT_INT;
    if (pk == QT_DECIMAL || pk == QT_PERCENT) return is_numeric(S, at);
    if (pk == QT_BOOL || pk == QT_DATE || pk == QT_STRING) return ak == pk;
    return false; /* enums, scales and lists: the very type */
}

/* Type the arguments of a call of hook h against its parameters. */
static bool sema_hook_args(sema *S, ast_node *e, uint32_t h)
{
    size_t before = S->d->nerrors;
    const char *hn = node_name(e);
    uint32_t np = S->b.p->hooks[h].nparams, first = S->b.p->hooks[h].first_param;
    uint32_t n = 0;
    for (ast_node *a = e->u.name.args; a; a = a->next) n++;
    if (n != np) {
        char sig[512];
        size_t sl = 0;
        sig[0] = 0;
        for (uint32_t i = 0; i < np && sl < sizeof sig; i++) {
            char tb[128];
            const q_param *pa = &S->b.p->params[first + i];
            int w = snprintf(sig + sl, sizeof sig - sl, "%s%s: %s", i ? ", " : "", prog_str(S->b.p, pa->name),
                             type_name(S, pa->type, tb, sizeof tb));
            if (w > 0) sl += (size_t)w;
        }
        err(S, e->span, "hook '%s' takes %u argument%s (%s), not %u", hn, np, np == 1 ? "" : "s", sig, n);
        return false;
    }
    uint32_t i = 0;
    for (ast_node *a = e->u.name.args; a; a = a->next, i++) {
        q_param pa = S->b.p->params[first + i];
        char pn[128], tb[128], ta[128];
        snprintf(pn, sizeof pn, "%s", prog_str(S->b.p, pa.name));
        if (tkind(S, pa.type) == QT_LIST) {
            uint32_t t = a->kind == AST_E_NAME ? sema_name(S, a) : TY_ERR;
            if (t == TY_MEMBER) {
                unknown_name(S, a, TY_ERR);
                continue;
            }
            if (a->kind != AST_E_NAME || a->sem.res != RES_FIELD || t != pa.type) {
                err(S, a->span, "argument %u of hook '%s' (%s) is a list field of type %s", i + 1, hn, pn,
                    type_name(S, pa.type, tb, sizeof tb));
                continue;
            }
            a->sem.type = t + 1;
            continue;
        }
        uint32_t t = sema_expr(S, a);
        if (t == TY_MEMBER) t = resolve_member(S, a, pa.type);
        t = need_value(S, a, t);
        if (t == TY_ERR) continue;
        if (!hook_arg_fits(S, pa.type, t))
            err(S, a->span, "argument %u of hook '%s' (%s) is %s, but the hook takes %s", i + 1, hn, pn,
                type_name(S, t, ta, sizeof ta), type_name(S, pa.type, tb, sizeof tb));
    }
    return S->d->nerrors == before;
}

/* NAME(args) where NAME is a hook: its declared result type. */
static uint32_t sema_hook_call(sema *S, ast_node *e, uint32_t h)
{
    e->sem.res = RES_HOOK;
    e->sem.ref = h;
    if (S->b.p->hooks[h].result == QUY_NONE) {
        err(S, e->span, "hook '%s' returns an adjustment: use it in an 'adjust' step, not in an expression",
            node_name(e));
        return TY_ERR;
    }
    if (!sema_hook_args(S, e, h)) return TY_ERR;
    return S->b.p->hooks[h].result;
}

static void cg_hook_call(sema *S, ast_node *e)
{
    uint32_t n = 0;
    for (ast_node *a = e->u.name.args; a; a = a->next, n++) {
        if (hook_nil_arg(S, a))
            cg_emit(&S->b, OP_LOADF, (uint16_t)a->sem.ref, 0, 1, pos_of(S, a->span));
        else
            cg_expr(S, a);
    }
    cg_emit(&S->b, OP_CALLHOOK, (uint16_t)e->sem.ref, n, 0, pos_of(S, e->span));
}

/* The condition of `adjust ... when COND`: a bool whose optional fields
 * are guarded by present(), as a clause without `if present`. */
static bool sema_adjust_when(sema *S, ast_node *when)
{
    size_t before = S->d->nerrors;
    need_bool(S, when, sema_expr(S, when), "the condition of an 'adjust' step");
    if (S->d->nerrors != before) return false;
    s_reads r = {0};
    collect_reads(S, when, &r);
    for (size_t i = 0; i < r.nval; i++) {
        if (!(kf_flags(S, r.val[i]) & (QF_OPTIONAL | QF_BATCH))) continue;
        bool guarded = false;
        for (size_t j = 0; j < r.npres; j++) guarded |= r.pres[j] == r.val[i];
        if (!guarded) {
            const char *nm = S->kf[r.val[i]].name;
            err(S, when->span, "'%s' may be absent (optional): test present(%s) in the condition", nm, nm);
        }
    }
    return S->d->nerrors == before;
}

/* The `adjust KIND record|tier by HOOK(args)` steps of one kind, in layer
 * order: before the rules (tier = false) or after the flags (tier = true;
 * a record not rated is not adjusted). */
static void sema_adjust_steps(sema *S, const char *kind, bool tier)
{
    cg_builder *b = &S->b;
    uint32_t save = S->file, unrated = QUY_NONE;
    for (size_t fi = 0; fi < S->nfiles; fi++) {
        for (ast_node *dcl = S->files[fi].ast.decls; dcl; dcl = dcl->next) {
            if (dcl->kind != AST_D_ADJUST || dcl->u.adjust.tier != tier || strcmp(dcl->u.adjust.kind.s, kind) != 0)
                continue;
            S->file = (uint32_t)fi;
            ast_node *call = dcl->u.adjust.call;
            const char *hn = node_name(call);
            uint32_t h = find_hook(S, hn);
            if (h == QUY_NONE) {
                const char *cand[256];
                size_t nc = 0;
                for (uint32_t i = 0; i < b->p->nhooks && nc < 256; i++) cand[nc++] = prog_str(b->p, b->p->hooks[i].name);
                const char *sug = diag_suggest(hn, cand, nc);
                err(S, call->span, "unknown hook '%s'%s%s%s", hn, sug ? "; did you mean '" : "", sug ? sug : "",
                    sug ? "'?" : "");
                continue;
            }
            if (b->p->hooks[h].result != QUY_NONE) {
                err(S, call->span,
                    "hook '%s' returns a value, not an adjustment: call it in a condition or a 'let' "
                    "(an 'adjust' step needs a hook declared '-> adjustment')",
                    hn);
                continue;
            }
            if (!dcl->u.adjust.cite.len) err(S, dcl->span, "an 'adjust' step needs a 'cite'");
            call->sem.res = RES_HOOK;
            call->sem.ref = h;
            S->adjust_tier = tier;
            bool ok = sema_hook_args(S, call, h);
            ast_node *when = dcl->u.adjust.when;
            if (when) ok &= sema_adjust_when(S, when);
            S->adjust_tier = false;
            if (!ok || !dcl->u.adjust.cite.len) continue;
            if (tier && unrated == QUY_NONE) unrated = cg_emit(b, OP_UNRATED, 0, 0, 0, pos_of(S, dcl->span));
            /* when COND: COND; JFKEEP skip; step; JMP end; skip: POP; end: */
            uint32_t skip = QUY_NONE;
            if (when) {
                S->adjust_tier = tier;
                cg_expr(S, when);
                S->adjust_tier = false;
                skip = cg_emit(b, OP_JFKEEP, 0, 0, 0, pos_of(S, when->span));
            }
            uint32_t msg = dcl->u.adjust.label.len ? str_of(S, dcl->u.adjust.label) : 0;
            uint32_t fl = new_flag(S, b->p->hooks[h].name, msg, str_of(S, dcl->u.adjust.cite),
                                   cg_cstr(b, S->files[fi].layer), QFL_FLAG, QUY_NONE, pos_of(S, dcl->span));
            uint32_t ai = b->p->nadjusts;
            q_adjust *qa = cg_adjust(b);
            qa->kind = S->kind;
            qa->hook = h;
            qa->phase = tier ? QA_TIER : QA_RECORD;
            qa->flag = fl;
            qa->pos = pos_of(S, dcl->span);
            cg_hook_call(S, call);
            cg_emit(b, OP_ADJUST, (uint16_t)ai, 0, 0, pos_of(S, dcl->span));
            if (when) {
                uint32_t over = cg_emit(b, OP_JMP, 0, 0, 0, pos_of(S, when->span));
                cg_patch(b, skip, cg_here(b));
                cg_emit(b, OP_POP, 0, 0, 0, pos_of(S, when->span));
                cg_patch(b, over, cg_here(b));
            }
        }
    }
    if (unrated != QUY_NONE) cg_patch(b, unrated, cg_here(b));
    S->file = save;
}

/* Every `adjust` names a rated kind, and no kind has more steps than a
 * result can note. */
static void sema_check_adjusts(sema *S)
{
    for (size_t fi = 0; fi < S->nfiles; fi++) {
        S->file = (uint32_t)fi;
        for (ast_node *dcl = S->files[fi].ast.decls; dcl; dcl = dcl->next) {
            if (dcl->kind != AST_D_ADJUST) continue;
            const ast_str *k = &dcl->u.adjust.kind;
            if (!find_rate(S, k->s, k->len) || !find_record(S, k->s, k->len)) {
                const char *cand[256];
                size_t n = 0;
                for (size_t i = 0; i < S->nrates && n < 256; i++) cand[n++] = S->rates[i].kind;
                const char *sug = diag_suggest(k->s, cand, n);
                err(S, dcl->u.adjust.kind_span, "'adjust %s': no 'rate %s' to adjust%s%s%s", k->s, k->s,
                    sug ? "; did you mean '" : "", sug ? sug : "", sug ? "'?" : "");
                continue;
            }
            /* the steps of this kind up to this one, in layer order */
            uint32_t n = 0;
            for (size_t fj = 0; fj <= fi; fj++)
                for (ast_node *o = S->files[fj].ast.decls; o && (fj < fi || o != dcl->next); o = o->next)
                    n += o->kind == AST_D_ADJUST && strcmp(o->u.adjust.kind.s, k->s) == 0;
            if (n == QUY_MAX_NOTES + 1)
                err(S, dcl->u.adjust.kind_span, "a kind has at most %d 'adjust' steps; this is the %uth for '%s'",
                    QUY_MAX_NOTES, n, k->s);
        }
    }
}

/* ---------------------------------------------------------------------
 * Driver
 * ------------------------------------------------------------------- */

q_program *sema_run(sema_file *files, size_t nfiles, diag_list *d)
{
    sema S;
    memset(&S, 0, sizeof S);
    S.files = files;
    S.nfiles = nfiles;
    S.d = d;
    S.gap_flag = QUY_NONE;
    cg_init(&S.b);
    size_t errors0 = d->nerrors;

    /* identity and sources: the leaf names the program */
    sema_file *leaf = &files[nfiles - 1];
    ast_node *h = leaf->ast.header;
    for (size_t i = 0; i < nfiles; i++) {
        cg_source(&S.b, files[i].path, files[i].src, files[i].len);
        cg_layer(&S.b, cg_cstr(&S.b, files[i].layer));
    }
    if (h) {
        S.b.p->name = str_of(&S, h->u.ruleset.name);
        S.b.p->version = str_of(&S, h->u.ruleset.version);
        S.b.p->title = str_of(&S, h->u.ruleset.title);
        S.b.p->source = str_of(&S, h->u.ruleset.source);
    }

    sema_types(&S);
    sema_hooks(&S);
    sema_collect_records(&S);
    sema_collect_rates(&S);
    sema_collect_quotas(&S);
    sema_check_caps(&S);
    for (size_t i = 0; i < S.nrates; i++) {
        s_record *rec = find_record(&S, S.rates[i].kind, strlen(S.rates[i].kind));
        if (!rec) continue;
        sema_lower_kind(&S, rec, &S.rates[i]);
        for (size_t j = 0; j < S.nkf; j++) free((char *)S.kf[j].name);
        free(S.kf);
        S.kf = NULL;
        free(S.lets);
        S.lets = NULL;
    }
    sema_quotas(&S);
    sema_check_adjusts(&S);

    for (size_t i = 0; i < S.nrates; i++) {
        for (size_t j = 0; j < S.rates[i].nrules; j++) {
            s_also *a = S.rates[i].rules[j].also;
            while (a) {
                s_also *nx = a->next;
                free(a);
                a = nx;
            }
        }
        free(S.rates[i].rules);
        free(S.rates[i].items);
    }
    free(S.rates);
    free(S.records);
    free(S.amends);
    free(S.types);
    if (d->nerrors != errors0) {
        cg_abandon(&S.b);
        return NULL;
    }
    return cg_finish(&S.b);
}
