/*
 * prove.h — answers about every possible record (prove/, prefix prove_).
 *
 * `quy prove` translates the rate blocks of compiled rulesets into Z3 SMT
 * terms by symbolic execution of their bytecode (prove/sym.c): the VM's
 * semantics are the reference, so what the prover reasons about is exactly
 * what the VM runs. Questions (prove/questions.c):
 *
 *   PQ_GAPS     every way a valid record reaches `otherwise`, one witness per
 *               gap flag it raises, and one for "no named gap" (a gap the
 *               ruleset does not name);
 *   PQ_DEAD     rules no valid record can reach, clauses that can never
 *               change an outcome, flags that can never be raised;
 *   PQ_REFINES  no valid record is rated higher by the variant (first
 *               program) than by its parent (second program);
 *   PQ_EQUIV    every (old tier -> new tier) transition between two
 *               versions, each with a witness.
 *
 * Every witness is written as a record (JSON), read back by the record
 * reader and rated by the VM before it is reported; a witness the VM does
 * not confirm makes the question fail with PROVE_MISMATCH (a bug in the
 * encoding, never reported as a finding).
 *
 * What v1 does not encode (reported with every answer, never answered
 * wrongly): batch steps (roll-ups, caps, quotas: the answers are about the
 * eligible tier); records on which a Lua hook is called (adjust steps and
 * hook calls: the records reaching one are left out of every question, and
 * the report names the hooks). Lists of enum/scale values are exact (counts
 * per value) unless `longest run` reads them (order matters): those, and
 * every other list, are bounded to PROVE_LIST_BOUND elements, and the
 * report says which.
 */
#ifndef QUY_PROVE_H
#define QUY_PROVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../runtime/program.h"

#define PROVE_LIST_BOUND 4 /* elements of a bounded list: structs, numbers, strings, dates; enum values under 'longest run' */

typedef enum prove_question { PQ_GAPS, PQ_DEAD, PQ_REFINES, PQ_EQUIV } prove_question;

typedef enum prove_status {
    PROVE_PROVED = 0,   /* nothing found: holds for every valid record (within the stated limits) */
    PROVE_FOUND = 5,    /* findings, each with a VM-confirmed witness */
    PROVE_ERROR = 1,    /* could not encode or solve: message says why */
    PROVE_MISMATCH = 6, /* a witness the VM does not confirm: an encoding bug */
} prove_status;

typedef enum prove_kind_of_finding {
    PF_GAP,          /* reaches `otherwise` (gap = the named gap flag, or none) */
    PF_DEAD_RULE,    /* no valid record reaches this rule's decision */
    PF_DEAD_CLAUSE,  /* the clause never changes the outcome */
    PF_DEAD_FLAG,    /* the flag is never raised */
    PF_LOOSER,       /* refines: the variant rates higher */
    PF_TRANSITION,   /* equiv: a transition from -> to */
    PF_UNKNOWN,      /* the solver gave no answer in time */
} prove_kind_of_finding;

typedef struct prove_finding {
    uint8_t what;      /* prove_kind_of_finding */
    uint32_t kind;     /* kind index in the first program */
    uint32_t rule;     /* rule index (first program) or QUY_NONE */
    uint32_t clause;   /* clause index (first program) or QUY_NONE */
    uint32_t flag;     /* flag index (first program) or QUY_NONE */
    uint32_t rule2;    /* rule index in the second program, or QUY_NONE */
    uint8_t from, to;  /* outcomes: second program (parent / old) -> first (variant / new) */
    char *why;         /* malloc'd: reason (dead rules: "shadowed" / "contradictory"), or NULL */
    char *witness;     /* malloc'd JSON object (one line), or NULL when none exists (dead code) */
} prove_finding;

typedef struct prove_report {
    prove_question q;
    prove_status status;
    prove_finding *f;
    size_t nf, capf;
    char **notes; /* what the answer does not cover (hooks, bounds, batch steps) */
    size_t nnotes, capnotes;
    char *error;  /* malloc'd, when status is PROVE_ERROR or PROVE_MISMATCH */
    unsigned queries; /* solver calls made */
} prove_report;

typedef struct prove_opts {
    unsigned timeout_ms;  /* per solver call; 0 = none */
    int mismatch_test;    /* tests only: corrupt each witness (drop the last field) to prove the VM check bites */
} prove_opts;

/* Answer question q about `a` (and `b` for PQ_REFINES: a is the variant, b
 * its parent; PQ_EQUIV: b is old, a is new). Fills *out (free with
 * prove_report_free). Returns out->status. */
prove_status prove_run(prove_question q, const q_program *a, const q_program *b, const prove_opts *o,
                       prove_report *out);
void prove_report_free(prove_report *r);

#endif /* QUY_PROVE_H */
