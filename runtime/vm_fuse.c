/*
 * vm_fuse.c — what the body of each fused instruction looks like (see
 * QUY_FUSED in opcodes.h and vm_fuse.h). The VM's fast path for each is in
 * vm_exec.inc; the pass that inserts them is compiler/cg_opt.c.
 */
#include "vm_fuse.h"

#include <string.h>

int vm_fuse_relop(uint8_t op) { return op >= OP_EQ && op <= OP_GE ? (int)(op - OP_EQ) : -1; }

const char *vm_fuse_relop_text(uint32_t r)
{
    static const char *const text[QREL__COUNT] = {"=", "!=", "<", "<=", ">", ">="};
    return r < QREL__COUNT ? text[r] : "?";
}

/* A field read that fails on an absent field (c = 0; c = 1 is a hook's nil). */
static bool is_load(const q_instr *in) { return in->op == OP_LOADF && in->c == 0; }

/* QBEGIN r L q; QNEXT r -> QEND; ELEM r; PUSHK K; cmp; QSTEP r -> QNEXT; QEND r,
 * q one of all / any / none / count, L a scalar list (the verifier checks
 * that ELEM reads a scalar list). */
static bool match_qlist(const q_instr *c, uint32_t at, q_instr *f)
{
    uint16_t r = c[0].a;
    int rel = vm_fuse_relop(c[4].op);
    if (c[0].op != OP_QBEGIN || c[0].c > QK_COUNT || c[0].b > UINT16_MAX || rel < 0) return false;
    if (c[1].op != OP_QNEXT || c[1].a != r || c[1].b != at + 6) return false;
    if (c[2].op != OP_ELEM || c[2].a != r || c[3].op != OP_PUSHK) return false;
    if (c[5].op != OP_QSTEP || c[5].a != r || c[5].b != at + 1) return false;
    if (c[6].op != OP_QEND || c[6].a != r) return false;
    f->a = (uint16_t)c[0].b;
    f->b = c[3].b;
    f->c = (uint8_t)(c[0].c << 3 | rel);
    return true;
}

uint32_t vm_fuse_match(const q_program *p, uint32_t at, uint8_t op, q_instr *f)
{
    uint32_t len = op < OP__COUNT ? op_fuse_len[op] : 0;
    if (!len || at > p->ncode || p->ncode - at < len) return 0;
    const q_instr *c = &p->code[at];
    memset(f, 0, sizeof *f);
    f->op = op;
    /* the last instruction of a ...C body: the clause it closes */
    if ((op == OP_QLISTKC || op == OP_CMPFKC || op == OP_CMPFFC || op == OP_FIELDC || op == OP_SHAREKC ||
         op == OP_SHAREFKC) &&
        c[len - 1].op != OP_CLAUSE)
        return 0;
    int rel;
    switch (op) {
    case OP_QLISTK:
    case OP_QLISTKC:
        return match_qlist(c, at, f) ? len : 0;
    case OP_CMPFK:
    case OP_CMPFKC:
        rel = vm_fuse_relop(c[2].op);
        if (!is_load(&c[0]) || c[1].op != OP_PUSHK || rel < 0) return 0;
        f->a = c[0].a;
        f->b = c[1].b;
        f->c = (uint8_t)rel;
        return len;
    case OP_CMPFF:
    case OP_CMPFFC:
        rel = vm_fuse_relop(c[2].op);
        if (!is_load(&c[0]) || !is_load(&c[1]) || rel < 0) return 0;
        f->a = c[0].a;
        f->b = c[1].a;
        f->c = (uint8_t)rel;
        return len;
    case OP_FIELDC:
        if (!is_load(&c[0])) return 0;
        f->a = c[0].a;
        return len;
    case OP_SUBFF:
        if (!is_load(&c[0]) || !is_load(&c[1]) || c[2].op != OP_SUB) return 0;
        f->a = c[0].a;
        f->b = c[1].a;
        return len;
    case OP_SHAREK:
    case OP_SHAREKC:
        rel = vm_fuse_relop(c[2].op);
        if (c[0].op != OP_SHARE || c[1].op != OP_PUSHK || rel < 0) return 0;
        f->b = c[1].b;
        f->c = (uint8_t)rel;
        return len;
    case OP_SHAREFK:
    case OP_SHAREFKC:
        rel = vm_fuse_relop(c[3].op);
        if (!is_load(&c[0]) || c[1].op != OP_SHARE || c[2].op != OP_PUSHK || rel < 0) return 0;
        f->a = c[0].a;
        f->b = c[2].b;
        f->c = (uint8_t)rel;
        return len;
    case OP_PRESJF:
    case OP_FIELDJF:
        if ((op == OP_PRESJF ? c[0].op != OP_PRESENT : !is_load(&c[0])) || c[1].op != OP_JFKEEP) return 0;
        f->a = c[0].a;
        return len;
    default:
        return 0;
    }
}
