/*
 * explain.h — the explanation of one rating (prefix explain_).
 *
 * The VM's trace (vm.h) is a flat event list. It is decoded ONCE, by
 * explain_build(), into the explanation model below — plain C data:
 *
 *   the steps in decision order (ex_step): rules tried, adjustments, flags;
 *   each rule (ex_rule) with its clauses (ex_clause), each clause with the
 *   values it read (ex_read: a field, a share(), an aggregate over a list,
 *   a hook's result) and the exception (`unless`) it evaluated;
 *   each adjustment (ex_adjust) and flag (ex_flag) with the values read
 *   for it.
 *
 * Every renderer reads the model, never the trace: the Vietnamese text for
 * people (explain_text.c), JSON for machines (explain_json.c), and the
 * causes of `quy diff` (which compares the models of two programs).
 * Values are formatted for people by explain_value / explain_scalar /
 * explain_share, the only formatters of explained values.
 *
 * Attribution: the reads since the previous clause, rule, adjustment or
 * flag belong to the next clause, adjustment or flag; reads left over when
 * a rule closes (after its last clause) are dropped.
 *
 * Ownership: an `explanation` owns its arrays and its trace buffer; it
 * points at the program and the record it explains (not copied), which
 * must outlive its use. Reuse one explanation for many records
 * (explain_build / explain_rate reset it).
 */
#ifndef QUY_EXPLAIN_H
#define QUY_EXPLAIN_H

#include <stdio.h>

#include "strbuf.h"
#include "vm.h"

/* Events a trace buffer should hold for one record of a ruleset. */
#define QUY_TRACE_CAP 4096

/* A value the explanation shows (a copy of its trace event, decoded). */
typedef struct ex_read {
    uint8_t type;     /* EV_READ, EV_SHARE, EV_AGG or EV_HOOK */
    uint8_t result;   /* EV_AGG: the q_quant (QK_SUM..); EV_HOOK: 1 returned, 0 failed */
    uint16_t slot;    /* EV_READ / EV_AGG: the field's slot; EV_SHARE: numerator, 0xFFFF unknown */
    uint32_t idx;     /* EV_SHARE: denominator (0xFFFFFFFF unknown); EV_AGG: type of the value; EV_HOOK: the hook */
    q_val val;        /* the value (EV_READ of a list: {first element, count}) */
    const char *why;  /* EV_HOOK failed: the reason (owned by the program); else NULL */
} ex_read;

typedef struct ex_clause {
    uint32_t clause;      /* clause index */
    int8_t result;        /* 1 held, 0 failed, -1 skipped (a field absent, `if present`) */
    int8_t exc;           /* -1 no exception evaluated, else the `unless` condition's value */
    uint16_t absent_slot; /* skipped: the absent field's slot */
    uint32_t read0, nreads; /* its values: reads[read0 .. read0 + nreads) */
} ex_clause;

typedef struct ex_rule {
    uint32_t rule;             /* rule index */
    bool held;                 /* it decided the tier */
    uint32_t clause0, nclauses; /* clauses[clause0 .. clause0 + nclauses) */
} ex_rule;

typedef struct ex_adjust {
    uint32_t adjust;        /* adjust step index */
    uint32_t flag;          /* its flag index, QUY_NONE if invalid */
    uint8_t from, to;       /* outcome before and after (QA_TIER) */
    const char *reason;     /* the hook's note ("" if none; owned by the program) */
    uint32_t read0, nreads; /* values read for it */
} ex_adjust;

typedef struct ex_flag {
    uint32_t flag;          /* flag index */
    uint32_t read0, nreads; /* values read for it */
} ex_flag;

typedef enum ex_step_type { EX_RULE, EX_ADJUST, EX_FLAG } ex_step_type;

/* One entry of the decision order: rules[i], adjusts[i] or flags[i]. */
typedef struct ex_step {
    uint8_t type;   /* ex_step_type */
    uint32_t index;
} ex_step;

typedef struct explanation {
    const q_program *p;
    const q_record *rec;   /* the record as rated */
    uint32_t decided_by;   /* deciding rule index, QUY_NONE */
    bool truncated;        /* the trace overflowed: the end of the story is missing */
    bool failed;           /* out of memory while building: incomplete */
    ex_step *steps;
    size_t nsteps, capsteps;
    ex_rule *rules;
    size_t nrules, caprules;
    ex_clause *clauses;
    size_t nclauses, capclauses;
    ex_read *reads;
    size_t nreads, capreads;
    ex_adjust *adjusts;
    size_t nadjusts, capadjusts;
    ex_flag *flags;
    size_t nflags, capflags;
    vm_event *ev;          /* trace buffer of explain_rate (QUY_TRACE_CAP events, allocated on first use) */
} explanation;

/* ---------------------------------------------------------------------
 * Building the model
 * ------------------------------------------------------------------- */

/* A zeroed explanation (or `explanation x = {0};`). NULL when out of memory. */
explanation *explain_new(void);
void explain_free(explanation *x);   /* frees x itself (from explain_new) */
void explain_clear(explanation *x);  /* frees the arrays of an embedded one */

/* Decode trace `tr` of `rec` rated by `p` (res may be NULL) into x.
 * 0, or -1 when out of memory (x->failed). */
int explain_build(explanation *x, const q_program *p, const q_record *rec, const vm_result *res, const vm_trace *tr);

/* Rate `rec` again with a trace (hook session `hs`, NULL when p calls no
 * hook: runtime/vm.h) and build its explanation: the rate block's own
 * result in *res (may be NULL). Returns the vm_error, or -1 when out of
 * memory. */
struct hook_session;
int explain_rate(explanation *x, const q_program *p, struct hook_session *hs, const q_record *rec, vm_result *res);

/* The rule entry of rule index r in x, or NULL if r was not tried. */
const ex_rule *explain_find_rule(const explanation *x, uint32_t r);

/* ---------------------------------------------------------------------
 * Values, for people
 * ------------------------------------------------------------------- */

/* Each appends the whole value to `out` (no value is cut: a list of 10,000
 * grades is shown whole; out of memory sets out->failed).
 *
 * Field `slot` of record kind `kind`: labels for enum/scale members,
 * "55%" for percents, "có"/"không" for bools, lists in brackets, "N mục"
 * for lists of structs. */
void explain_value(const q_program *p, uint32_t kind, uint32_t slot, q_val v, const q_record *rec, strbuf *out);
/* A scalar of type index `type` (strings quoted). */
void explain_scalar(const q_program *p, uint32_t type, q_val v, strbuf *out);
/* share(): "a/b = v%" when both operands are known, else "v%". */
void explain_share(const ex_read *r, strbuf *out);
/* The value of an aggregate read (EV_AGG). */
void explain_agg(const q_program *p, const ex_read *r, strbuf *out);
/* The Vietnamese label of field `slot` of x's record, or its name. */
const char *explain_field_label(const explanation *x, uint16_t slot);
/* The name of field `slot` of x's record. */
const char *explain_field_name(const explanation *x, uint16_t slot);

/* ---------------------------------------------------------------------
 * Renderers
 * ------------------------------------------------------------------- */

/* Vietnamese text, several lines, each indented by `indent` spaces. */
void explain_render_text(const explanation *x, strbuf *out, int indent);

/* JSON: {"decided_by":{...},"rules":[...],"flags":[...],"adjustments":[...],
 * "truncated":true, <tail>} — `tail` (may be NULL) is written as is before
 * the closing brace (more members, e.g. "\"batch_steps\":[...]"). */
void explain_render_json(const explanation *x, strbuf *out, const char *tail);

/* The JSON as a jansson json_t* (returned as void*; caller json_decrefs),
 * for callers that walk a tree (it parses explain_render_json's text). */
void *explain_json(const q_program *p, const q_record *rec, const vm_result *res, const vm_trace *tr);

/* Convenience: build from a trace and render the text to a FILE / into a
 * malloc'd string (caller frees; NULL when out of memory). */
void explain_text(const q_program *p, const q_record *rec, const vm_result *res, const vm_trace *tr, FILE *out,
                  int indent);
char *explain_text_str(const q_program *p, const q_record *rec, const vm_result *res, const vm_trace *tr, int indent);

#endif /* QUY_EXPLAIN_H */
