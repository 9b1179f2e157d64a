/*
 * cg_expr.c — code generation of expressions: an expression, a batch expression block, a hook call.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sema_int.h"

/* a op b: 'and'/'or' short-circuit, 'else' through IFABSENT, the rest on the stack. */
static void cg_binary(sema *S, ast_node *e)
{
    cg_builder *b = &S->b;
    uint32_t pos = pos_of(S, e->span);
    ast_op op = e->u.bin.op;
    if (op == OPR_AND || op == OPR_OR) {
        cg_expr(S, e->u.bin.a);
        uint32_t j = cg_emit(b, op == OPR_AND ? OP_JFKEEP : OP_JTKEEP, 0, 0, 0, pos);
        cg_expr(S, e->u.bin.b);
        cg_patch(b, j, cg_here(b));
        return;
    }
    if (op == OPR_ELSE) { /* IFABSENT f -> d; LOADF f; JMP end; d: DEFAULT; end: */
        uint16_t slot = (uint16_t)e->u.bin.a->sem.ref;
        uint32_t skip = cg_emit(b, OP_IFABSENT, slot, 0, 0, pos);
        cg_emit(b, OP_LOADF, slot, 0, 0, pos);
        uint32_t j = cg_emit(b, OP_JMP, 0, 0, 0, pos);
        cg_patch(b, skip, cg_here(b));
        cg_expr(S, e->u.bin.b);
        cg_patch(b, j, cg_here(b));
        return;
    }
    cg_expr(S, e->u.bin.a);
    cg_expr(S, e->u.bin.b);
    uint32_t ta = e->u.bin.a->sem.type ? e->u.bin.a->sem.type - 1 : TY_ERR;
    bool str = ta != TY_ERR && tkind(S, ta) == QT_STRING;
    static const uint8_t ops[] = {[OPR_ADD] = OP_ADD, [OPR_SUB] = OP_SUB, [OPR_MUL] = OP_MUL, [OPR_DIV] = OP_DIV,
                                  [OPR_EQ] = OP_EQ,   [OPR_NE] = OP_NE,   [OPR_LT] = OP_LT,   [OPR_LE] = OP_LE,
                                  [OPR_GT] = OP_GT,   [OPR_GE] = OP_GE};
    uint8_t o = ops[op];
    if (str) o = op == OPR_EQ ? OP_STREQ : OP_STRNE;
    /* at the operator: a run-time error (division by zero, overflow) points at it */
    cg_emit(b, o, 0, 0, 0, pos_of(S, e->u.bin.op_span));
}

/* A quantifier: QBEGIN, the loop (filter, body, QSTEP), QEND; `count L` alone is LEN. */
static void cg_quant(sema *S, ast_node *e)
{
    cg_builder *b = &S->b;
    uint32_t pos = pos_of(S, e->span);
    uint16_t slot = (uint16_t)e->u.quant.list->sem.ref;
    if (!e->u.quant.body) {
        cg_emit(b, OP_LEN, slot, 0, 0, pos);
        return;
    }
    static const uint8_t qk[] = {[QNT_ALL] = QK_ALL, [QNT_ANY] = QK_ANY,   [QNT_NONE] = QK_NONE,
                                 [QNT_COUNT] = QK_COUNT, [QNT_SUM] = QK_SUM, [QNT_MIN] = QK_MIN,
                                 [QNT_MAX] = QK_MAX,     [QNT_RUN] = QK_RUN};
    uint16_t reg = (uint16_t)S->depth;
    S->depth++;
    cg_emit(b, OP_QBEGIN, reg, slot, qk[e->u.quant.q], pos);
    uint32_t head = cg_emit(b, OP_QNEXT, reg, 0, 0, pos);
    if (e->u.quant.filter) { /* an element failing the filter is not folded */
        cg_expr(S, e->u.quant.filter);
        cg_emit(b, OP_QFILTER, reg, head, 0, pos);
    }
    cg_expr(S, e->u.quant.body);
    cg_emit(b, OP_QSTEP, reg, head, 0, pos);
    cg_patch(b, head, cg_here(b));
    cg_emit(b, OP_QEND, reg, e->sem.type ? e->sem.type - 1 : 0, 0, pos); /* b: result type, for the trace */
    S->depth--;
}

void cg_expr(sema *S, ast_node *e)
{
    cg_builder *b = &S->b;
    uint32_t pos = pos_of(S, e->span);
    switch (e->kind) {
    case AST_E_INT:
    case AST_E_DEC:
    case AST_E_PCT: cg_emit(b, OP_PUSHK, 0, cg_const(b, e->u.num, e->kind == AST_E_PCT ? QT_PERCENT : QT_DECIMAL), 0, pos); break;
    case AST_E_DATE: cg_emit(b, OP_PUSHK, 0, cg_const(b, e->u.num, QT_DATE), 0, pos); break;
    case AST_E_BOOL: cg_emit(b, OP_PUSHK, 0, cg_const(b, e->u.num, QT_BOOL), 0, pos); break;
    case AST_E_STR: {
        cg_emit(b, OP_PUSHK, 0, cg_kstr(b, e->u.name.text.s ? e->u.name.text.s : "", e->u.name.text.len), 0, pos);
        break;
    }
    case AST_E_NAME:
        switch (e->sem.res) {
        case RES_FIELD: cg_emit(b, OP_LOADF, (uint16_t)e->sem.ref, 0, 0, pos); break;
        case RES_MEMBER: cg_emit(b, OP_PUSHK, 0, cg_const(b, q_int(e->sem.ref), QT_ENUM), 0, pos); break;
        case RES_IT: cg_emit(b, OP_ELEM, e->sem.depth, 0, 0, pos); break;
        case RES_SFIELD: cg_emit(b, OP_ELEMF, e->sem.depth, e->sem.ref, 0, pos); break;
        case RES_LET: cg_expr(S, S->lets[e->sem.ref].node->u.check.expr); break;
        case RES_OUTCOME: cg_emit(b, OP_OUTCOME, 0, 0, 0, pos); break;
        default: break;
        }
        break;
    case AST_E_UNARY:
        cg_expr(S, e->u.bin.a);
        cg_emit(b, e->u.bin.op == OPR_NOT ? OP_NOT : OP_NEG, 0, 0, 0, pos);
        break;
    case AST_E_BINARY: cg_binary(S, e); break;
    case AST_E_CALL:
        if (e->sem.res == RES_HOOK) {
            cg_hook_call(S, e);
        } else if (strcmp(node_name(e), "present") == 0) {
            cg_emit(b, OP_PRESENT, (uint16_t)e->u.name.args->sem.ref, 0, 0, pos);
        } else { /* share */
            cg_expr(S, e->u.name.args);
            cg_expr(S, e->u.name.args->next);
            cg_emit(b, OP_SHARE, 0, 0, 0, pos);
        }
        break;
    case AST_E_PERIOD: cg_emit(b, OP_PERIODDATE, (uint16_t)e->u.period.field->sem.ref, e->u.period.spec, 0, pos); break;
    case AST_E_QUANT: cg_quant(S, e); break;
    default: break;
    }
}

uint32_t cg_expr_block(sema *S, ast_node *e, uint32_t k)
{
    cg_builder *b = &S->b;
    uint32_t x = b->p->nbexprs;
    q_bexpr *be = cg_bexpr(b);
    be->kind = k;
    be->entry = cg_here(b);
    be->pos = pos_of(S, e->span);
    uint32_t txt = sema_span_text(S, e->span);
    b->p->bexprs[x].text = txt;
    cg_expr(S, e);
    cg_emit(b, OP_HALT, 0, 0, 0, pos_of(S, e->span));
    return x;
}

void cg_hook_call(sema *S, ast_node *e)
{
    uint32_t n = 0;
    for (ast_node *a = e->u.name.args; a; a = a->next, n++) {
        if (hook_nil_arg(S, a))
            cg_emit(&S->b, OP_LOADF, (uint16_t)a->sem.ref, 0, 1, pos_of(S, a->span));
        else
            cg_expr(S, a);
    }
    cg_emit(&S->b, OP_CALLHOOK, (uint16_t)e->sem.ref, n, 0, pos_of(S, e->span));
}
