/*
 * cg_opt.c — the specialisation pass (prefix cg_): after code generation,
 * before verification, every generic instruction sequence that is the
 * body of a fused instruction (QUY_FUSED in runtime/opcodes.h) gets that
 * instruction inserted before it.
 *
 * The body stays where it was: the VM without a trace runs the fused
 * instruction and continues after the body, the tracing VM runs the body,
 * so explanations come from the very same events as before; `quy gen`
 * reads the body as it always did. The shapes are recognised by
 * runtime/vm_fuse.c, the same matcher the verifier uses to accept them.
 *
 * A sequence is fused only if no jump enters it except at its first
 * instruction (its own loop jumps aside); a jump to that first instruction
 * is redirected to the fused instruction. Greedy, left to right, the
 * longest shape first.
 */
#include "cg_opt.h"

#include <stdlib.h>
#include <string.h>

#include "../runtime/vm_fuse.h"

/* The shapes tried at each instruction, in order: the longer (with the
 * CLAUSE that closes the condition) before the shorter. */
static const uint8_t cg_fused_ops[] = {OP_QLISTKC, OP_QLISTK,   OP_CMPFKC,   OP_CMPFK,   OP_CMPFFC,
                                       OP_CMPFF,   OP_SUBFF,    OP_SHAREFKC, OP_SHAREFK, OP_FIELDC,
                                       OP_SHAREKC, OP_SHAREK,   OP_PRESJF,   OP_FIELDJF};

/* The jump target of instruction `in` (an explicit operand), or QUY_NONE. */
static uint32_t cg_jump_of(const q_instr *in)
{
    if (in->op >= OP__COUNT) return QUY_NONE;
    switch (op_table[in->op].format) {
    case OPF_JUMP:
    case OPF_SLOTJ:
    case OPF_LOOPJ:
    case OPF_QSTEP:
    case OPF_CLAUSE:
    case OPF_RULE:
        return in->b;
    default:
        return QUY_NONE;
    }
}

/* Every instruction j that may transfer control to t != j + 1: its
 * operand, and for IFABSENT with c = 1 the failure target of the CLAUSE
 * before its own target. */
static uint32_t cg_edges(const q_program *p, uint32_t j, uint32_t out[2])
{
    const q_instr *in = &p->code[j];
    uint32_t n = 0, t = cg_jump_of(in);
    if (t != QUY_NONE) out[n++] = t;
    if (in->op == OP_IFABSENT && in->c == 1 && in->b > 0 && in->b <= p->ncode && p->code[in->b - 1].op == OP_CLAUSE)
        out[n++] = p->code[in->b - 1].b;
    return n;
}

/* Is [s, s + len) entered only at s? `into[t]` counts the edges into t
 * (jumps and block entries); those from inside the sequence do not count. */
static bool cg_single_entry(const q_program *p, const uint32_t *into, uint32_t s, uint32_t len)
{
    for (uint32_t t = s + 1; t < s + len; t++) {
        uint32_t inside = 0, e[2];
        for (uint32_t j = s; j < s + len; j++) {
            uint32_t ne = cg_edges(p, j, e);
            for (uint32_t k = 0; k < ne; k++) inside += e[k] == t;
        }
        if (into[t] != inside) return false;
    }
    return true;
}

/* The code indices the tables hold: block entries. */
static void cg_remap_entries(q_program *p, const uint32_t *map)
{
    for (uint32_t k = 0; k < p->nkinds; k++)
        if (p->kinds[k].entry != QUY_NONE && p->kinds[k].entry <= p->ncode) p->kinds[k].entry = map[p->kinds[k].entry];
    for (uint32_t i = 0; i < p->nchecks; i++)
        if (p->checks[i].entry <= p->ncode) p->checks[i].entry = map[p->checks[i].entry];
    for (uint32_t i = 0; i < p->nbexprs; i++)
        if (p->bexprs[i].entry <= p->ncode) p->bexprs[i].entry = map[p->bexprs[i].entry];
}

/* Count the edges into each instruction; false if a target is outside the
 * code (then the verifier reports the program as it is). */
static bool cg_count_edges(const q_program *p, uint32_t *into)
{
    uint32_t n = p->ncode, e[2];
    for (uint32_t j = 0; j < n; j++) {
        uint32_t ne = cg_edges(p, j, e);
        for (uint32_t k = 0; k < ne; k++) {
            if (e[k] > n) return false;
            into[e[k]]++;
        }
    }
    for (uint32_t k = 0; k < p->nkinds; k++)
        if (p->kinds[k].entry != QUY_NONE) {
            if (p->kinds[k].entry >= n) return false;
            into[p->kinds[k].entry]++;
        }
    for (uint32_t i = 0; i < p->nchecks; i++) {
        if (p->checks[i].entry >= n) return false;
        into[p->checks[i].entry]++;
    }
    for (uint32_t i = 0; i < p->nbexprs; i++) {
        if (p->bexprs[i].entry >= n) return false;
        into[p->bexprs[i].entry]++;
    }
    return true;
}

/* Choose the fused instruction at each body start: fused[s].op != 0. */
static uint32_t cg_choose(const q_program *p, const uint32_t *into, q_instr *fused)
{
    uint32_t nf = 0;
    for (uint32_t s = 0; s < p->ncode;) {
        uint32_t len = 0;
        for (size_t k = 0; k < sizeof cg_fused_ops && !len; k++) {
            q_instr f;
            len = vm_fuse_match(p, s, cg_fused_ops[k], &f);
            if (len && !cg_single_entry(p, into, s, len)) len = 0;
            if (len) fused[s] = f;
        }
        nf += len != 0;
        s += len ? len : 1;
    }
    return nf;
}

bool cg_specialise(q_program *p)
{
    uint32_t n = p->ncode;
    uint32_t *into = calloc((size_t)n + 1, sizeof *into);
    q_instr *fused = calloc((size_t)n + 1, sizeof *fused);
    uint32_t *map = malloc(((size_t)n + 1) * sizeof *map);
    q_instr *code = NULL;
    uint32_t *pos = NULL;
    bool ok = into && fused && map;
    if (!ok || !cg_count_edges(p, into)) goto done;
    uint32_t nf = cg_choose(p, into, fused);
    if (!nf) goto done;
    code = malloc(((size_t)n + nf) * sizeof *code);
    pos = malloc(((size_t)n + nf) * sizeof *pos);
    if (!code || !pos) {
        ok = false;
        goto done;
    }
    uint32_t k = 0;
    for (uint32_t j = 0; j < n; j++) {
        map[j] = k;
        if (fused[j].op) {
            pos[k] = p->code_pos[j];
            code[k++] = fused[j];
        }
        pos[k] = p->code_pos[j];
        code[k++] = p->code[j];
    }
    map[n] = k;
    for (uint32_t j = 0; j < k; j++)
        if (cg_jump_of(&code[j]) != QUY_NONE) code[j].b = map[code[j].b];
    free(p->code);
    free(p->code_pos);
    p->code = code;
    p->code_pos = pos;
    cg_remap_entries(p, map);
    p->ncode = k;
    code = NULL;
    pos = NULL;
done:
    free(into);
    free(fused);
    free(map);
    free(code);
    free(pos);
    return ok;
}
