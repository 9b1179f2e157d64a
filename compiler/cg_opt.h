/*
 * cg_opt.h — the specialisation pass (compiler/cg_opt.c), run on a
 * generated program before it is verified.
 */
#ifndef QUY_CG_OPT_H
#define QUY_CG_OPT_H

#include <stdbool.h>

#include "../runtime/program.h"

/* Insert a fused instruction (QUY_FUSED in runtime/opcodes.h) before every
 * generic sequence that is the body of one and that no jump enters except
 * at its start. The bodies stay; jump targets and entries are renumbered.
 * Returns false only when out of memory, leaving the program unchanged. */
bool cg_specialise(q_program *p);

#endif /* QUY_CG_OPT_H */
