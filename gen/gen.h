/*
 * gen.h — the boundary generator (gen/gen.c, gen/gen_scan.c; prefix gen_):
 * valid records concentrated on the boundaries of a ruleset's conditions,
 * as JSON Lines, deterministic for a ruleset, a seed and a record index.
 * The library's own interface; integrators use quy_gen_* in quy.h, the
 * `quy gen` command parses options and writes what this returns.
 *
 *   gen *g = gen_new(p);  gen_set_seed(g, 5);
 *   strbuf line = {0};
 *   for (i = 0; i < n; i++) { strbuf_reset(&line); if (gen_next(g, &line)) ...; fwrite(line.s, 1, line.n, f); }
 *   gen_free(g);
 *
 * Errors: a call that fails returns non-zero and gen_error() says why.
 */
#ifndef QUY_GEN_H
#define QUY_GEN_H

#include <stdint.h>
#include <stdio.h>

#include "../runtime/program.h"
#include "../runtime/strbuf.h"

#define GEN_PREFIX_MAX 16 /* bytes of the id prefix ("GEN" -> GEN-000001) */

typedef struct gen gen;

/* A generator over program p (not copied: it must outlive the generator).
 * Seed 1, prefix "GEN", every rated kind. NULL when out of memory. */
gen *gen_new(const q_program *p);
void gen_free(gen *g);
void gen_set_seed(gen *g, uint64_t seed);
/* -1 when longer than GEN_PREFIX_MAX bytes. */
int gen_set_prefix(gen *g, const char *prefix);
/* Generate only this kind (repeatable; kinds then come in the program's
 * order). -1 when the ruleset rates no such kind. */
int gen_add_kind(gen *g, const char *name);
/* Scan the kinds (gen_next does it on first use): 0; -1 out of memory;
 * -2 no kind to generate. */
int gen_prepare(gen *g);
/* The next record (kinds in turn) as one JSON line, appended to out:
 * 0; 1 its checks could not be satisfied (no record; gen_error says which);
 * -1 out of memory. */
int gen_next(gen *g, strbuf *out);
const char *gen_error(const gen *g);

/* After gen_prepare: kinds generated, targets and their variants; records
 * so far that lost their primary target to be valid. */
uint32_t gen_kind_count(const gen *g);
uint32_t gen_target_count(const gen *g);
uint32_t gen_variant_count(const gen *g);
uint64_t gen_dropped(const gen *g);
/* What the generator aims at, per kind, as text. */
void gen_print_targets(const gen *g, FILE *f);

#endif /* QUY_GEN_H */
