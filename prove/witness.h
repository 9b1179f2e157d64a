/*
 * witness.h — solver models as records, and their confirmation by the VM
 * (prove/witness.c). Internal to prove/.
 */
#ifndef QUY_PROVE_WITNESS_H
#define QUY_PROVE_WITNESS_H

#include "sym.h"

typedef struct wit {
    sym_ctx *c;
    bool failed;      /* a value could not be read from the model */
    bool not_decimal; /* a decimal had no finite decimal expansion: solve again on a decimal grid */
} wit;

/* The record of model m, with every field of kind a (and of b, for two
 * programs), as one line of JSON (malloc'd); id "W-n". */
char *wit_json(wit *w, Z3_model m, const sym_kind *a, const sym_kind *b, unsigned n);

/* Read `json` with p's record reader and rate it with p's VM. False when
 * the reader rejects it or the VM stops; then *why (unless why is NULL) is
 * the reason, malloc'd, whole. */
bool wit_rate(const q_program *p, const char *json, uint8_t *outcome, uint32_t *rule, char **why);

#endif /* QUY_PROVE_WITNESS_H */
