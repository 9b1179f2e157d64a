/*
 * sym.h — symbolic execution of a compiled rate block into Z3 terms
 * (prove/sym.c, prefix sym_). Internal to prove/.
 *
 * A record is a set of solver variables, one per field (a presence flag for
 * optional fields, a value), shared by name between the programs of one
 * question, so that "the same record" means the same variables. Numbers,
 * dates, enum ordinals and string ids are Real terms (ints and dates are
 * Int variables lifted to Real), bools are Bool terms. A string is the id
 * of an equivalence class: the program only ever compares strings for
 * equality, so id k < nstrs is the k-th string constant and any other id
 * is a string equal to no constant.
 *
 * The code is executed in the tracing VM's order (every clause of a rule is
 * evaluated, then DECIDE), path conditions are kept as guards, and paths
 * that meet at a join are merged with if-then-else terms, so each
 * instruction is executed once. A quantifier loop is executed once per
 * element value (lists of enum/scale values are described by how many
 * elements take each member) or per element (other lists, bounded to
 * PROVE_LIST_BOUND elements).
 */
#ifndef QUY_PROVE_SYM_H
#define QUY_PROVE_SYM_H

#include <z3.h>

#include "prove.h"
#include "../compiler/ast.h" /* ast_bail, ast_x*: out of memory ends prove_run with an error */
#include "../runtime/vec.h"

/* One solver variable set, shared by name between programs. */
typedef struct sym_var {
    char *key;      /* "kind/field" or "kind/field[i].sub" */
    uint8_t tk;     /* q_type_kind of the value */
    Z3_ast present; /* Bool, or NULL when the field is always present */
    Z3_ast val;     /* scalar value (Real or Bool), NULL for lists */
    /* lists of enum/scale values: count of elements per member */
    Z3_ast *cnt;
    uint32_t ncnt;
    char **members; /* member names, for witnesses and for matching two programs */
    /* other lists: length (Int as Real) and element variables */
    Z3_ast len;
    struct sym_var **elem; /* [PROVE_LIST_BOUND * nsub] (structs) or [PROVE_LIST_BOUND] */
    uint32_t nsub;
    char **subnames; /* struct field names */
    bool read;      /* a list the code reads (a quantifier, its length): its bound is in the report */
    /* a string read as a rating period (PERIODDATE): "YYYY" or "YYYY-Qn" */
    Z3_ast year, quarter; /* Int terms: 0..9999, 0 (a year) or 1..4 */
} sym_var;

typedef struct sym_ctx {
    Z3_context z;
    Z3_sort real, intg, boolean;
    sym_var **vars;
    size_t nvars, capvars;
    char **strs; /* interned string constants: id = index */
    size_t nstrs, capstrs;
    Z3_ast *dom; /* domain constraints of every variable */
    size_t ndom, capdom;
    char **bounded; /* keys of enum lists read by 'longest run': bounded, not counted */
    size_t nbounded, capbounded;
    char **periods; /* keys of strings read as a period (PERIODDATE): a year and a quarter */
    size_t nperiods, capperiods;
    char *retry_key;  /* set when a run needs this key bounded / read as a period: run the kind again */
    bool retry_period;
    char *err;     /* malloc'd, set once: the first error (NULL: none) */
} sym_ctx;

/* One kind of one program, executed. */
typedef struct sym_kind {
    const q_program *p;
    uint32_t k;
    sym_var **slot;      /* [nfields] */
    Z3_ast valid;        /* the record loader accepts it: checks hold (domains are in ctx->dom) */
    Z3_ast err;          /* the VM stops with an error */
    Z3_ast hook;         /* a hook is called (left out of every question) */
    Z3_ast *decide;      /* [p->nrules]: rule decides */
    Z3_ast *reach;       /* [p->nrules]: the rule is tried */
    Z3_ast *cfail;       /* [p->nclauses]: the clause fails */
    Z3_ast *cseen;       /* [p->nclauses]: the clause is evaluated */
    Z3_ast *flag;        /* [p->nflagdefs]: raised */
    Z3_ast outcome;      /* Real: the outcome at HALT */
    const char **hooks;  /* names of the hooks called (in p's string pool), for the report */
    size_t nhooks, caphooks;
} sym_kind;

bool sym_init(sym_ctx *c);
void sym_free(sym_ctx *c);
/* Execute kind k of p. Returns false (reason in c->err) when something
 * cannot be encoded. */
bool sym_kind_run(sym_ctx *c, const q_program *p, uint32_t k, sym_kind *out);
void sym_kind_free(sym_kind *s);
/* After a failed sym_kind_run: true when running it again can succeed
 * (a list read by 'longest run' is now bounded, a string is read as a
 * period); clears the error. False when the run asked for nothing new. */
bool sym_kind_retry(sym_ctx *c);

Z3_ast sym_and(sym_ctx *c, Z3_ast a, Z3_ast b);
Z3_ast sym_or(sym_ctx *c, Z3_ast a, Z3_ast b);
Z3_ast sym_not(sym_ctx *c, Z3_ast a);
Z3_ast sym_num(sym_ctx *c, int64_t n, int64_t d);

#endif /* QUY_PROVE_SYM_H */
