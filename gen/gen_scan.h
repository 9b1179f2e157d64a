/*
 * gen_scan.h — the boundary generator's view of a ruleset (gen/gen_scan.c,
 * used by gen/gen.c; not part of quy.h).
 *
 * gen_scan.c reads a compiled program back into expression trees (a
 * symbolic run of each rate block and each `check` over the bytecode:
 * every instruction's stack effect, with `and` / `or` rebuilt from the
 * JFKEEP / JTKEEP jumps) and collects, per record kind, the targets a
 * generator should hit: every comparison whose two sides differ by a
 * linear form of the record's numbers (fields, list lengths, counts of
 * list elements matching a predicate), every share() compared with a
 * constant, every comparison of a list element with a constant, every
 * bool, every enum/scale member, optional fields, list lengths.
 * gen.c draws records around those targets and repairs them against
 * the kind's `check` constraints, which are targets' linear forms too.
 */
#ifndef QUY_GEN_SCAN_H
#define QUY_GEN_SCAN_H

#include <stdbool.h>
#include <stdint.h>

#include "../runtime/program.h"

/* ---- expression trees ---------------------------------------------- */

typedef enum gn_type {
    GN_CONST,   /* k (ktype: q_type_kind of the constant) */
    GN_FIELD,   /* field `slot` of the record */
    GN_PRESENT, /* present(slot) */
    GN_LEN,     /* element count of list `slot` */
    GN_ELEM,    /* the current element of list `slot`; sub = offset in a struct element, -1 scalar */
    GN_QUANT,   /* op = q_quant over list `slot`; a = predicate / summand; b = `where` filter or -1 */
    GN_ARITH,   /* op = OP_ADD/SUB/MUL/DIV; a, b */
    GN_NEG,     /* a */
    GN_SHARE,   /* share(a, b) */
    GN_CMP,     /* op = OP_EQ..OP_GE, OP_STREQ, OP_STRNE; a, b */
    GN_NOT,     /* a */
    GN_AND,     /* a, b */
    GN_OR,      /* a, b */
    GN_ELSE,    /* `a else b`: a when it can be read (its field present), else b */
    GN_OPAQUE,  /* anything else (an exception, a hook) */
} gn_type;

typedef struct gnode {
    uint8_t t;     /* gn_type */
    uint8_t op;    /* see gn_type */
    uint8_t ktype; /* GN_CONST */
    uint16_t slot;
    int32_t sub;
    int32_t a, b;  /* child node indices, -1 none */
    q_val k;
} gnode;

/* ---- linear forms over the record's numbers ------------------------- */

typedef enum gv_type {
    GV_FIELD, /* the number in field `slot` (int, decimal, percent, date) */
    GV_LEN,   /* the length of list `slot` */
    GV_COUNT, /* how many elements of list `slot` satisfy node `pred` */
} gv_type;

typedef struct gvar {
    uint8_t t;
    uint16_t slot;
    int32_t pred;
} gvar;

#define GLIN_MAX 6

typedef struct glin {
    int n;
    gvar v[GLIN_MAX];
    int64_t coef[GLIN_MAX]; /* integer coefficients */
    q_val k;                /* constant part */
} glin;

/* ---- targets --------------------------------------------------------- */

typedef enum gt_type {
    GT_LIN,    /* a <op> 0 (a linear form; constants folded into a.k) */
    GT_SHARE,  /* share(a, b) <op> c */
    GT_ELEM,   /* an element of list `slot` (struct offset sub) <op> c */
    GT_BOOL,   /* field `slot` on / off */
    GT_MEMBER, /* field `slot` takes each member of its enum / scale */
    GT_OPTION, /* optional field `slot` absent / present */
    GT_LENGTH, /* list `slot` with 0, 1, several elements */
    GT_STR,    /* string field `slot` equal / not equal to c (a string constant) */
} gt_type;

typedef struct gtarget {
    uint8_t t;      /* gt_type */
    uint8_t op;     /* the comparison opcode (GT_LIN, GT_SHARE, GT_ELEM, GT_STR) */
    uint16_t slot;
    int32_t sub;
    glin a, b;
    q_val c;
    bool step_int;  /* the compared quantity moves in whole units */
    q_val step;     /* "just below / above" distance */
    uint32_t nvariants;
} gtarget;

/* A bool field's polarity, read off the rules: the value that lets a
 * record go deeper into the decision order (a disqualifier's trigger is
 * rarely true, a tier condition often). */
typedef enum gpol { GPOL_NONE, GPOL_RARE, GPOL_OFTEN } gpol;

/* Everything known about one record kind. */
typedef struct gkind {
    uint32_t k;           /* kind index */
    gnode *nodes;
    size_t nnodes, capnodes;
    gtarget *targets;
    size_t ntargets, captargets;
    glin *checks;         /* the `check` constraints as linear forms: checks[i] <cop[i]> 0 */
    uint8_t *cop;
    size_t nchecks, capchecks, capcop;
    uint8_t *pol;         /* [nfields] gpol of bool fields */
    uint8_t *ppol;        /* [nfields] gpol of the presence of optional fields: read in a
                             disqualifier's condition = rarely present, in a tier's = often */
    q_val *lo, *hi;       /* [nfields] bounds of numeric fields from checks ({0,0} d=0: none) */
    q_val *plo, *phi;     /* [nfields] preferred range of a numeric field, read off the rules like
                             bool polarity: outside a disqualifier's trigger, inside a tier's condition */
    uint32_t nvariants;   /* sum over targets */
} gkind;

/* Scan kind k of p. false when out of memory. */
bool gen_scan(const q_program *p, uint32_t k, gkind *out);
void gen_kind_free(gkind *g);

/* Evaluate node n for record rec (elements: the current element index of
 * each list, for GN_ELEM; -1 outside a quantifier). Returns false if the
 * value cannot be computed (absent field, opaque node, arithmetic error). */
struct q_record;
bool gen_eval(const q_program *p, const gkind *g, int32_t n, const struct q_record *rec, int64_t elem, q_val *out);

/* The linear form of node n (a number built from fields, lengths, counts,
 * constants with + - and integer *). */
bool gen_lin(const q_program *p, const gkind *g, int32_t n, glin *out);

#endif /* QUY_GEN_SCAN_H */
