/*
 * explain.h — turns a VM trace into explanations (prefix explain_):
 * Vietnamese text for people (cadre officers) and JSON for machines.
 * Both list every rule tried in decision order, whether it held, the clause
 * that failed with the values it read (with the fields' Vietnamese labels),
 * skipped clauses (data not collected), exceptions applied, the flags
 * raised, and for each its citation and layer (the ruleset that wrote it).
 */
#ifndef QUY_EXPLAIN_H
#define QUY_EXPLAIN_H

#include <stdio.h>

#include "vm.h"

/* Events a trace buffer should hold for one record of a ruleset. */
#define QUY_TRACE_CAP 4096

/* A jansson json_t* (returned as void* so that this header does not
 * require jansson): {"decided_by": {...}, "rules": [...], "flags": [...]}.
 * Caller owns it (json_decref). */
void *explain_json(const q_program *p, const q_record *rec, const vm_result *res, const vm_trace *tr);

/* Text form, several lines, each indented by `indent` spaces. */
void explain_text(const q_program *p, const q_record *rec, const vm_result *res, const vm_trace *tr, FILE *out,
                  int indent);

/* The same text into a malloc'd string (caller frees). */
char *explain_text_str(const q_program *p, const q_record *rec, const vm_result *res, const vm_trace *tr, int indent);

/* Format the value of slot `slot` of record kind `kind` for people: labels
 * for enum/scale members, "55%" for percents, "có"/"không" for bools,
 * lists in brackets. Returns bytes written (snprintf semantics). */
int explain_value(const q_program *p, uint32_t kind, uint32_t slot, q_val v, const q_record *rec, char *buf, size_t size);

#endif /* QUY_EXPLAIN_H */
