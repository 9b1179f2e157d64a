/*
 * sema_int.h — the checker's own interface between its phase files (not
 * used outside compiler/sema*.c and compiler/cg_expr.c, cg_lower.c).
 *
 * The checker resolves every name, types every expression, enforces the
 * decision order, flattens an `extends` chain into one program and emits
 * its bytecode through cg.c. Phases, in order, over the files of the chain
 * (root first), one file each:
 *   1. types     scales, enums, structs (sema_types)          sema_decl.c
 *   1b. hooks    declarations: the Lua file is read, checked and embedded
 *                (sema_hooks)                                   sema_hook.c
 *   2. records   record declarations; each rated record becomes a kind with
 *                a flat field list, parents' fields first      sema_decl.c
 *   3. rates     rate blocks, then `amend rate` of later layers merged into
 *                them (sema_collect_rates)                     sema_decl.c
 *   4. lowering  per kind: checks, rules, clauses, flags (cg_lower_kind,
 *                cg_lower.c); expressions are typed in sema_expr.c and
 *                emitted in cg_expr.c; caps and quota keys in sema_batch.c;
 *                `adjust` steps in sema_hook.c
 *   5. quotas    (sema_quotas)                                 sema_batch.c
 * The driver (sema_run) and the shared helpers are in sema.c. Each phase
 * reports every error it finds and goes on; nothing is emitted into a
 * program that is returned unless the whole run was clean.
 */
#ifndef QUY_SEMA_INT_H
#define QUY_SEMA_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sema.h"

#include "../runtime/vec.h"
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
    /* names seen so far, so that a duplicate is found in constant time: */
    strset rule_names;   /* of the `rate` block being read */
    strset field_names;  /* of the kind whose fields are being created */
    strset member_names; /* of the enum or scale being declared */

    /* lowering context */
    uint32_t file;   /* file of the node being checked */
    uint32_t kind;   /* kind being lowered */
    s_kfield *kf;    /* its fields */
    size_t nkf;
    s_item *lets;    /* lets visible in the current rate block */
    struct x_size *let_size; /* [nlets] the code each stands for, written out (sema_add_let) */
    size_t nlets;
    strset let_names;   /* let name -> index of the last let of that name (sema_add_let) */
    s_scope scope[QUY_MAX_LOOPS];
    int depth;
    uint32_t gap_flag; /* flagdef of the builtin `gap` flag, or QUY_NONE */
    bool adjust_tier;  /* typing an `adjust ... tier` step: `tier` is the outcome decided */
    s_item quotas[16]; /* effective quota declarations, after `replace quota` */
    size_t nquotas;
} sema;

/* Each declaration `dcl` of the chain, root file first, in source order,
 * with S->file set to the index `fi` of its file:
 *     SEMA_EACH_DECL(S, fi, dcl) { if (dcl->kind != AST_D_HOOK) continue; ... } */
#define SEMA_EACH_DECL(S, fi, dcl)                  \
    for (size_t fi = 0; fi < (S)->nfiles; fi++)     \
        for (ast_node *dcl = ((S)->file = (uint32_t)fi, (S)->files[fi].ast.decls); dcl; dcl = dcl->next)

/* Room for one more element of a vector (runtime/vec.h); out of memory
 * jumps to sema_run's catch (ast_bail). */
#define GROWV(arr, n, cap)                                              \
    do {                                                                \
        if (VEC_RESERVE(arr, n, cap, 1) != 0) ast_bail("out of memory"); \
    } while (0)

/* A growable list of indices (instruction addresses to patch, field slots). */
typedef struct u32vec {
    uint32_t *v;
    size_t n, cap;
} u32vec;
static inline void u32_push(u32vec *x, uint32_t v)
{
    GROWV(x->v, x->n, x->cap);
    x->v[x->n++] = v;
}
static inline void u32_free(u32vec *x)
{
    free(x->v);
    *x = (u32vec){0};
}

/* Fields a (checked) expression reads: as values (`val`) and in present(),
 * each slot once. Free with sema_reads_free. */
typedef struct s_reads {
    u32vec val, pres;
} s_reads;
static inline void sema_reads_free(s_reads *r)
{
    u32_free(&r->val);
    u32_free(&r->pres);
}

/* ---------------------------------------------------------------------
 * Shared helpers (sema.c)
 * ------------------------------------------------------------------- */
void sema_err(sema *S, q_span sp, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void sema_warn(sema *S, q_span sp, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
uint32_t sema_span_text(sema *S, q_span sp); /* the source text of sp, whitespace collapsed, interned */
const char *sema_type_name(sema *S, uint32_t t, char *buf, size_t size);

static inline uint32_t pos_of(sema *S, q_span sp) { return QUY_POS(S->file, sp.start); }
static inline uint32_t str_of(sema *S, ast_str s) { return cg_str(&S->b, s.s ? s.s : "", s.len); }
static inline uint8_t tkind(sema *S, uint32_t t) { return t < S->b.p->ntypes ? S->b.p->types[t].kind : QT__COUNT; }
static inline bool is_numeric(sema *S, uint32_t t)
{
    uint8_t k = tkind(S, t);
    return k == QT_INT || k == QT_DECIMAL || k == QT_PERCENT;
}
static inline const char *node_name(ast_node *e) { return e->u.name.text.s ? e->u.name.text.s : ""; }
static inline bool name_is(ast_node *e, const char *s)
{
    return e->kind == AST_E_NAME && e->u.name.text.len == strlen(s) && memcmp(e->u.name.text.s, s, e->u.name.text.len) == 0;
}
/* The flags (QF_*) of field `slot` of the kind being lowered. */
static inline uint32_t kf_flags(sema *S, uint32_t slot)
{
    return S->b.p->fields[S->b.p->kinds[S->kind].first_field + slot].flags;
}
/* A bare optional (or computed) field given to a hook: passed as nil when
 * absent (LOADF c = 1) instead of failing the record. */
static inline bool hook_nil_arg(sema *S, ast_node *a)
{
    return a->kind == AST_E_NAME && a->sem.res == RES_FIELD && (kf_flags(S, a->sem.ref) & (QF_OPTIONAL | QF_BATCH));
}

/* "Did you mean": candidates gathered into a growable list, then the
 * nearest one (diag_suggest) written into `buf` between `pre` and `post`
 * ("; did you mean '" NAME "'?"), or "" when none is near. sema_suggest
 * frees the list. */
typedef struct sema_cands {
    const char **v;
    size_t n, cap;
} sema_cands;
void sema_cand(sema_cands *c, const char *name);
const char *sema_suggest(sema_cands *c, const char *name, const char *pre, const char *post, char *buf, size_t size);
#define DYM_PRE "; did you mean '"
#define DYM_POST "'?"
#define SEMA_SUGGEST_SIZE 512 /* a buffer for sema_suggest: a name and a sentence */

/* ---------------------------------------------------------------------
 * 1-3. Declarations (sema_decl.c)
 * ------------------------------------------------------------------- */
void sema_types(sema *S);
uint32_t sema_resolve_type(sema *S, ast_node *t);
void sema_collect_records(sema *S);
s_record *sema_find_record(sema *S, const char *name, size_t len);
s_rate *sema_find_rate(sema *S, const char *name, size_t len);
void sema_record_cands(sema *S, sema_cands *c); /* declared records */
void sema_rate_cands(sema *S, sema_cands *c);   /* rated kinds */
s_record **sema_record_chain(sema *S, s_record *r, size_t *n);
/* The declarations (record and `amend record`) that make up a kind. */
typedef struct s_decls {
    s_item *v;
    size_t n, cap;
} s_decls;
s_decls sema_kind_decls(sema *S, s_record *r);
void sema_kind_fields(sema *S, s_record *r, q_kind *qk, const s_decls *ds);
void sema_collect_rates(sema *S);
/* What a variant's amendment can loosen: warnings (sema_variant.c). */
void sema_warn_new_rule(sema *S, s_rate *R, ast_node *rule, int o);
void sema_warn_replace(sema *S, const s_rule *old, ast_node *nr, int o);
int sema_outcome_of(const ast_str *s);
bool sema_check_outcome(sema *S, ast_node *rule, int *o);

/* ---------------------------------------------------------------------
 * 4. Expressions: typing (sema_expr.c) and code (cg_expr.c)
 * ------------------------------------------------------------------- */
uint32_t sema_expr(sema *S, ast_node *e);
uint32_t sema_name(sema *S, ast_node *e);
void sema_unknown_name(sema *S, ast_node *e, uint32_t hint);
uint32_t sema_resolve_member(sema *S, ast_node *e, uint32_t type);
uint32_t sema_need_value(sema *S, ast_node *e, uint32_t t);
uint32_t sema_need_bool(sema *S, ast_node *e, uint32_t t, const char *what);
uint32_t sema_need_num(sema *S, ast_node *e, uint32_t t);
void sema_collect_reads(sema *S, ast_node *e, s_reads *r);
/* Does a checked expression fit the VM stack (QUY_MAX_STACK)? Reports it if not. */
bool sema_check_depth(sema *S, ast_node *e);
/* The code a let stands for once the lets it uses are written out
 * (cg_expr repeats a let's expression at each use): its operations, and
 * the operators on its longest path (the checker and cg_expr recurse that
 * deep). Over SEMA_MAX_LET_SIZE (lets that each use the one before twice
 * double at every step: 40 of them never finished compiling) or
 * SEMA_MAX_LET_HEIGHT (a chain of 50,000 lets overflowed the C stack; the
 * parser's bound on one expression is the same 1,000) the let is an error. */
typedef struct x_size {
    uint64_t ops;
    uint32_t height;
} x_size;
#define SEMA_MAX_LET_SIZE 100000u
#define SEMA_MAX_LET_HEIGHT 1000u
/* Make a let item (just typed) visible to the expressions checked after
 * it, or report it over the limits above. */
void sema_add_let(sema *S, s_item item);
/* Is read i never absent, or tested by present() in the same expression? */
bool sema_read_guarded(sema *S, const s_reads *r, size_t i);
void sema_field_cands(sema *S, sema_cands *c); /* the fields of the kind being lowered */
void cg_expr(sema *S, ast_node *e);
uint32_t cg_expr_block(sema *S, ast_node *e, uint32_t k); /* a q_bexpr of kind k: code that leaves one value */
void cg_hook_call(sema *S, ast_node *e);

/* ---------------------------------------------------------------------
 * 4b. Lowering a kind (cg_lower.c)
 * ------------------------------------------------------------------- */
bool sema_clause(sema *S, ast_node *c, const char *ctx);
uint32_t cg_new_flag(sema *S, uint32_t name, uint32_t message, uint32_t cite, uint32_t layer, uint8_t kind,
                     uint32_t clause, uint32_t pos);
void cg_lower_kind(sema *S, s_record *rec, s_rate *R);

/* ---------------------------------------------------------------------
 * 5. Batch steps and quotas (sema_batch.c)
 * ------------------------------------------------------------------- */
void sema_kind_batch(sema *S, s_record *rec, uint32_t k);
void sema_collect_quotas(sema *S);
void sema_quotas(sema *S);
void sema_check_caps(sema *S);

/* ---------------------------------------------------------------------
 * 6. Hooks and adjust steps (sema_hook.c)
 * ------------------------------------------------------------------- */
void sema_hooks(sema *S);
uint32_t sema_find_hook(sema *S, const char *name);
void sema_hook_cands(sema *S, sema_cands *c); /* declared hooks */
uint32_t sema_hook_call(sema *S, ast_node *e, uint32_t h);
bool sema_hook_args(sema *S, ast_node *e, uint32_t h);
void sema_adjust_steps(sema *S, const char *kind, bool tier);
void sema_check_adjusts(sema *S);

#endif /* QUY_SEMA_INT_H */
