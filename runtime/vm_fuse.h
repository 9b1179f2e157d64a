/*
 * vm_fuse.h — the bodies of the specialised ("fused") instructions
 * (QUY_FUSED in opcodes.h), prefix vm_fuse_.
 *
 * One matcher serves the compiler pass that inserts fused instructions
 * (compiler/cg_opt.c) and the verifier that accepts them
 * (runtime/bytecode.c): a fused instruction is valid only if its operands
 * are exactly what vm_fuse_match() derives from the instructions after it.
 */
#ifndef QUY_VM_FUSE_H
#define QUY_VM_FUSE_H

#include "program.h"

/* Does the code at `at` have the shape of the body of fused opcode `op`?
 * If so, *f is the fused instruction (op and operands) and the body length
 * (op_fuse_len[op]) is returned; otherwise 0. Bounds-checked: any program,
 * verified or not. */
uint32_t vm_fuse_match(const q_program *p, uint32_t at, uint8_t op, q_instr *f);

/* The relational operator of a compare opcode (OP_EQ .. OP_GE), or -1. */
int vm_fuse_relop(uint8_t op);

/* "=", "!=", "<", "<=", ">", ">=" for relop r (0..5), "?" otherwise. */
const char *vm_fuse_relop_text(uint32_t r);

#endif /* QUY_VM_FUSE_H */
