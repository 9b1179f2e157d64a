/*
 * ast.h — the syntax tree the parser (grammar/parser.y) builds and the
 * checker (compiler/sema.c) reads.
 *
 * All nodes live in one arena per compilation (ast_arena): free the arena,
 * never a node. Every node carries the byte span of its source text; line
 * and column are computed only when a diagnostic is printed (diag.c).
 * Lists are singly linked through `next`, in source order.
 */
#ifndef QUY_AST_H
#define QUY_AST_H

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../runtime/value.h"

typedef struct q_span {
    uint32_t start, end; /* byte offsets [start, end) in the source file */
} q_span;

/* ---------------------------------------------------------------------
 * Node kinds, declared once: AST(NAME, "what it is")
 * ------------------------------------------------------------------- */
#define QUY_AST_KINDS(AST)                                                            \
    /* expressions */                                                                 \
    AST(E_INT, "integer literal: num")                                                \
    AST(E_DEC, "decimal literal: num (exact rational)")                               \
    AST(E_PCT, "percent literal 50% -> num = 1/2")                                    \
    AST(E_DATE, "date literal 2023-12-10: num.n = days since 1970-01-01")             \
    AST(E_STR, "string literal: text")                                                \
    AST(E_BOOL, "true / false: num.n")                                                \
    AST(E_NAME, "identifier: a field, a let, an enum/scale member, or `it`: text")    \
    AST(E_UNARY, "op a: '-' or 'not'")                                                \
    AST(E_BINARY, "a op b: + - * / = != < <= > >= and or else")                       \
    AST(E_CALL, "text(args): share, present, min, max")                               \
    AST(E_QUANT, "quant list [where|of] body: all any none count sum min max run")    \
    AST(E_MEMBER, "a.text: field of a struct value (reserved)")                       \
    AST(E_PERIOD, "05/12 of F, start of F, end of F: a date of the period in string field F") \
    /* declarations */                                                                \
    AST(D_RULESET, "ruleset header")                                                  \
    AST(D_SCALE, "scale NAME label? { m1 < m2 < ... }")                               \
    AST(D_ENUM, "enum NAME label? { m1, m2, ... }")                                   \
    AST(D_MEMBER, "a member of an enum or scale: text, label")                        \
    AST(D_STRUCT, "struct NAME label? { fields }")                                    \
    AST(D_RECORD, "[amend] record NAME [extends NAME] label? { fields checks }")      \
    AST(D_FIELD, "NAME : [optional|computed] TYPE [= default] label?")                \
    AST(D_CHECK, "check EXPR label?")                                                 \
    AST(T_NAMED, "type name: int decimal percent bool date string or a declared one") \
    AST(T_LIST, "list of TYPE")                                                       \
    AST(T_ENUM, "inline enum { members }")                                            \
    AST(D_RATE, "rate KIND[, KIND...] { items }   /   amend rate KIND[, KIND...] { items }")                \
    AST(D_RULE, "NAME: OUTCOME when CLAUSES [flag F] cite S  /  otherwise OUTCOME")   \
    AST(D_CLAUSE, "one top-level conjunct: expr [unless expr] [if present] [label]")  \
    AST(D_ALSO, "OUTCOME also requires CLAUSES cite S (amend only)")                  \
    AST(D_REPLACE, "replace NAME: RULE (amend only)")                                 \
    AST(D_LET, "let NAME = EXPR label?")                                              \
    AST(D_FLAG, "flag NAME when CLAUSES message? cite S")                             \
    AST(D_GAP, "gap NAME when CLAUSES message? cite S")                               \
    AST(D_QUOTA, "[replace] quota T <= P% of U per FIELD round R [basis B] [small_group N] [order K [desc], ...] cite S")                       \
    AST(D_CAP, "cap KIND at BOUND [when EXPR] [unless EXPR] cite S")                 \
    AST(D_HOOK, "hook NAME(params) -> TYPE from FILE")                                \
    AST(D_ADJUST, "adjust KIND record|tier by HOOK(args) [when COND] label? cite S")

typedef enum ast_kind {
#define AST_ENUM(name, doc) AST_##name,
    QUY_AST_KINDS(AST_ENUM)
#undef AST_ENUM
    AST__COUNT
} ast_kind;

extern const char *const ast_kind_name[AST__COUNT];

/* Operators of E_UNARY / E_BINARY. */
typedef enum ast_op {
    OPR_NEG, OPR_NOT,
    OPR_ADD, OPR_SUB, OPR_MUL, OPR_DIV,
    OPR_EQ, OPR_NE, OPR_LT, OPR_LE, OPR_GT, OPR_GE,
    OPR_AND, OPR_OR,
    OPR_ELSE, /* `field else default`: the field's value, or the default when it is absent */
} ast_op;

/* Quantifiers of E_QUANT. */
typedef enum ast_quant { QNT_ALL, QNT_ANY, QNT_NONE, QNT_COUNT, QNT_SUM, QNT_MIN, QNT_MAX, QNT_RUN } ast_quant;

typedef struct ast_str {
    const char *s; /* arena copy, NUL-terminated, escapes already decoded */
    uint32_t len;
} ast_str;

typedef struct ast_node ast_node;
struct ast_node {
    ast_kind kind;
    q_span span;    /* whole construct */
    ast_node *next; /* next sibling in a list */
    uint32_t height; /* operators on the longest path below (parser: mk_bin/mk_unary, at most PARSE_MAX_HEIGHT) */
    /* Filled by the checker (sema.c); zero from the parser. */
    struct {
        uint32_t type; /* program type index of an expression (+1; 0 = not yet typed) */
        uint32_t ref;  /* what an E_NAME resolved to: slot, member ordinal, struct field, let index */
        uint8_t res;   /* sema_res: how an E_NAME resolved */
        uint8_t depth; /* quantifier nesting depth of `it` / struct fields */
    } sem;
    union {
        /* E_INT E_DEC E_PCT E_DATE E_BOOL */
        q_val num;
        /* E_STR E_NAME: text; E_CALL: fname + args */
        struct {
            ast_str text;
            ast_node *args; /* E_CALL arguments */
        } name;
        /* E_UNARY: a; E_BINARY: a op b */
        struct {
            ast_op op;
            ast_node *a, *b;
            q_span op_span; /* the operator token */
        } bin;
        /* E_QUANT: quant list_expr [where pred | of term]. The shorthand
         * `all L >= tot` is desugared by the parser to
         * `all L where it >= tot` (E_NAME "it"). `count L` alone has
         * body == NULL. */
        struct {
            ast_quant q;
            ast_node *list; /* E_NAME of a list field */
            ast_node *body; /* predicate (all/any/none/count/longest run) or term (sum/min/max), or NULL */
            ast_node *filter; /* sum/min/max `where` predicate: the elements folded, or NULL (all) */
        } quant;
        /* E_PERIOD: the date `spec` (runtime/period.h) of the period text in field `field` */
        struct {
            ast_node *field; /* E_NAME */
            uint32_t spec;   /* QPD_START, QPD_END, or month * 100 + day */
        } period;
        /* E_MEMBER: a.text */
        struct {
            ast_node *a;
            ast_str field;
        } member;

        /* D_RULESET */
        struct {
            ast_str name;    /* "central-124" */
            ast_str parent;  /* extends ...; len 0 if none */
            ast_str version, title, source; /* len 0 if absent */
            q_span name_span, parent_span;
        } ruleset;
        /* D_SCALE D_ENUM D_STRUCT D_RECORD: a named declaration with a body */
        struct {
            ast_str name;
            ast_str parent; /* D_RECORD extends; len 0 if none */
            ast_str label;
            ast_node *items; /* D_MEMBER / D_FIELD / D_CHECK list */
            q_span name_span, parent_span;
            bool amend; /* D_RECORD: `amend record NAME { ... }` adds to a declared record */
        } decl;
        /* D_MEMBER */
        struct {
            ast_str name, label;
        } member_decl;
        /* D_FIELD */
        struct {
            ast_str name, label;
            ast_node *type;   /* T_* */
            ast_node *deflt;  /* literal expression, or NULL */
            bool optional;    /* `optional` */
            bool computed;    /* `computed`: may be absent, computed from the batch */
            q_span name_span;
        } field;
        /* D_CHECK, D_LET: expr and label (D_LET also name) */
        struct {
            ast_str name; /* D_LET */
            ast_str label;
            ast_node *expr;
            q_span name_span;
        } check;
        /* T_NAMED: name; T_LIST: elem; T_ENUM: members */
        struct {
            ast_str name;
            ast_node *elem;    /* T_LIST element type */
            ast_node *members; /* T_ENUM D_MEMBER list */
        } type;
        /* D_RATE */
        struct {
            ast_str kind; /* record kind rated */
            ast_node *more; /* `rate a, b, c`: E_NAME list of the further kinds the same block rates */
            bool amend;   /* `amend rate` */
            ast_node *items; /* D_RULE D_ALSO D_REPLACE D_LET D_FLAG D_GAP */
            q_span kind_span;
        } rate;
        /* D_RULE D_ALSO D_REPLACE D_FLAG D_GAP */
        struct {
            ast_str name;     /* rule/flag name; D_REPLACE: the replaced rule; empty for D_ALSO */
            ast_str outcome;  /* "htxsnv" ... "not_rated" "deferred"; D_ALSO: the amended tier */
            ast_str label;    /* rule label / flag or gap message; len 0 if absent */
            ast_str cite;     /* len 0 if absent (sema reports it) */
            ast_str flag;     /* `flag NAME` on a rule: raised when it decides */
            bool otherwise;   /* the `otherwise` rule */
            ast_node *clauses; /* D_CLAUSE list; NULL for otherwise */
            ast_node *rule;    /* D_REPLACE: the new D_RULE */
            q_span name_span, outcome_span, cite_span;
        } rule;
        /* D_CLAUSE */
        struct {
            ast_node *expr;
            ast_node *unless; /* exception, or NULL */
            ast_str label;    /* len 0 if absent */
            bool if_present;
            bool desc;        /* a quota `order` key: larger first */
        } clause;
        /* D_QUOTA */
        struct {
            ast_str tier, of_tier, per, rounding, cite, basis;
            ast_node *share;  /* E_PCT */
            ast_node *keys;   /* `order`: D_CLAUSE list (expr, desc) */
            int64_t small_group; /* 0: no small-unit exception */
            bool replace;     /* `replace quota`: supersedes the parent's quota on the tier */
            q_span tier_span, of_span, per_span, rounding_span, basis_span, small_span;
        } quota;
        /* D_CAP: kind at bound [when cond] [unless exc] cite */
        struct {
            ast_str kind, cite;
            ast_node *bound, *when, *unless;
            q_span kind_span, cite_span;
        } cap;
        /* D_HOOK */
        struct {
            ast_str name, file, result_type;
            ast_node *params; /* D_FIELD list */
            ast_node *result; /* T_*: the result type ("adjustment": an adjustment) */
            q_span name_span, file_span;
        } hook;
        /* D_ADJUST */
        struct {
            ast_str kind, label, cite;
            bool tier;       /* `tier`: after the rules; false: `record`, before them */
            ast_node *call;  /* E_CALL of the hook */
            ast_node *when;  /* `when COND`: run only where it holds; NULL: always */
            q_span kind_span, phase_span;
        } adjust;
    } u;
};

/* A parsed file: the ruleset header and its declarations in order. */
typedef struct ast_file {
    const char *path;   /* as given */
    const char *src;    /* full text, NUL-terminated (owned by the caller) */
    size_t len;
    ast_node *header;   /* D_RULESET, or NULL if missing (a diagnostic was issued) */
    ast_node *decls;    /* every other top-level declaration */
} ast_file;

/* ---------------------------------------------------------------------
 * Arena
 * ------------------------------------------------------------------- */
typedef struct ast_arena ast_arena;

ast_arena *ast_arena_new(void);
void ast_arena_free(ast_arena *a);
void *ast_alloc(ast_arena *a, size_t size);          /* zeroed, aligned, never NULL (ast_bail on OOM) */
ast_str ast_strdup(ast_arena *a, const char *s, size_t len);
ast_node *ast_new(ast_arena *a, ast_kind kind, q_span span);

/* ---------------------------------------------------------------------
 * Out of memory while compiling
 *
 * The compiler's allocations (the arena, the checker's vectors, the
 * program builder) do not hand NULL to their callers: on failure they call
 * ast_bail(why), which jumps back to the innermost catch — parse_file and
 * sema_run set one — and that entry point frees what it holds and returns
 * failure with `why` as a diagnostic. Nothing aborts:
 *
 *     ast_catch c;
 *     ast_catch_push(&c);
 *     if (setjmp(c.jb) == 0) { ...work... } else { ...free, report ast_bail_why()... }
 *     ast_catch_pop(&c);
 *
 * The function holding the catch changes none of its own locals between
 * the two (C leaves them indeterminate after the jump): what the work
 * builds lives in the heap or in the caller's frame.
 * ------------------------------------------------------------------- */
typedef struct ast_catch {
    jmp_buf jb;
    struct ast_catch *prev; /* the enclosing catch (per thread) */
} ast_catch;

void ast_catch_push(ast_catch *c);
void ast_catch_pop(ast_catch *c);
_Noreturn void ast_bail(const char *why);
/* What the last ast_bail of this thread was given ("out of memory", a
 * limit), for the catch to report. */
const char *ast_bail_why(void);
/* malloc, calloc, realloc and strdup that ast_bail("out of memory"). */
void *ast_xmalloc(size_t n);
void *ast_xcalloc(size_t n, size_t size);
void *ast_xrealloc(void *p, size_t n);
char *ast_xstrdup(const char *s);

#endif /* QUY_AST_H */
