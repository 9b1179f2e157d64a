/*
 * opcodes.c — the opcode table, generated from the one list in opcodes.h.
 * Nothing here is written by hand: add an opcode to QUY_OPCODES and the
 * name, format, stack effect and documentation follow.
 */
#include "opcodes.h"

const op_info op_table[OP__COUNT] = {
#define OP_INFO(name, fmt, pop, push, doc) [OP_##name] = {#name, OPF_##fmt, pop, push, doc},
    QUY_OPCODES(OP_INFO)
#undef OP_INFO
};

const uint8_t op_fuse_len[OP__COUNT] = {
#define FUSE_LEN(OP, name, len, pop, push, doc) [OP_##name] = len,
    QUY_FUSED(FUSE_LEN, _)
#undef FUSE_LEN
};
