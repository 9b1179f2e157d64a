/*
 * opcodes.h — the Quy instruction set, declared once.
 *
 * OP(NAME, FORMAT, POP, PUSH, DOC)
 *   NAME    opcode name (enum OP_NAME, disassembler mnemonic)
 *   FORMAT  operand format: which of the instruction's operands are used
 *           and what they index. Read by the verifier and the disassembler:
 *             NONE   no operand
 *             K      b = constant index
 *             SLOT   a = field slot of the record being rated
 *             ESLOT  a = loop register, b = field index inside a struct element
 *             JUMP   b = absolute instruction index
 *             SLOTJ  a = field slot, b = jump target
 *             LOOP   a = loop register, b = list field slot, c = quantifier kind
 *             LOOPJ  a = loop register, b = jump target
 *             QSTEP  a = loop register, b = jump target (loop head)
 *             QEND   a = loop register, b = type of the result (shown in explanations)
 *             CLAUSE a = clause index, b = jump target taken on failure
 *             CMETA  a = clause index
 *             RULE   a = rule index, b = jump target (the flag section)
 *             FLAG   a = flag index
 *             HOOK   a = hook index, b = argument count
 *             ADJUST a = adjust step index
 *   POP     values popped from the stack
 *   PUSH    values pushed
 *   DOC     what it does, in Lua lopcodes.h notation; docs/bytecode.md is
 *           generated from this list (`quy disasm --opcodes`).
 *
 * The opcode numbers are part of the file format: new opcodes go at the
 * end, so that files written before them still read the same.
 *
 * Every reader — the enum, the name table, the stack-effect table, the
 * verifier, the disassembler, the computed-goto table — includes this list.
 */
#ifndef QUY_OPCODES_H
#define QUY_OPCODES_H

#define QUY_OPCODES(OP)                                                                                   \
    OP(NOP, NONE, 0, 0, "no operation")                                                                   \
    OP(PUSHK, K, 0, 1, "push K[b]")                                                                       \
    OP(LOADF, SLOT, 0, 1, "push R[a]; error if absent (c = 1: push 'absent', a hook's nil)")               \
    OP(PRESENT, SLOT, 0, 1, "push present(R[a])")                                                        \
    OP(IFABSENT, SLOTJ, 0, 0, "if R[a] absent: pc := b (clause skipped, or the 'else' default; c = 1: the rule fails instead)")                    \
    OP(POP, NONE, 1, 0, "drop top")                                                                      \
    OP(ADD, NONE, 2, 1, "x := x + y (exact)")                                                            \
    OP(SUB, NONE, 2, 1, "x := x - y (exact)")                                                            \
    OP(MUL, NONE, 2, 1, "x := x * y (exact)")                                                            \
    OP(DIV, NONE, 2, 1, "x := x / y (exact; y = 0 is a run-time error)")                                 \
    OP(NEG, NONE, 1, 1, "x := -x")                                                                       \
    OP(SHARE, NONE, 2, 1, "x := share(x, y) = x / y; share(x, 0) = 0")                                   \
    OP(EQ, NONE, 2, 1, "x := x = y (numbers, bools, dates, enum ordinals)")                              \
    OP(NE, NONE, 2, 1, "x := x != y")                                                                    \
    OP(LT, NONE, 2, 1, "x := x < y (numbers, dates, scale order)")                                       \
    OP(LE, NONE, 2, 1, "x := x <= y")                                                                    \
    OP(GT, NONE, 2, 1, "x := x > y")                                                                     \
    OP(GE, NONE, 2, 1, "x := x >= y")                                                                    \
    OP(STREQ, NONE, 2, 1, "x := bytes(x) = bytes(y)")                                                    \
    OP(STRNE, NONE, 2, 1, "x := bytes(x) != bytes(y)")                                                   \
    OP(NOT, NONE, 1, 1, "x := not x")                                                                    \
    OP(JMP, JUMP, 0, 0, "pc := b")                                                                       \
    OP(JFKEEP, JUMP, 1, 1, "if not x: pc := b (x stays); else pop x   -- 'and'")                         \
    OP(JTKEEP, JUMP, 1, 1, "if x: pc := b (x stays); else pop x       -- 'or'")                          \
    OP(QBEGIN, LOOP, 0, 0, "L[a] := iterator over list R[b] for quantifier kind c")                         \
    OP(QNEXT, LOOPJ, 0, 0, "if L[a] exhausted or decided: pc := b; else advance to next element")       \
    OP(ELEM, ESLOT, 0, 1, "push current element of L[a] (scalar lists)")                                \
    OP(ELEMF, ESLOT, 0, 1, "push field b of current struct element of L[a]")                             \
    OP(QSTEP, QSTEP, 1, 0, "fold predicate x (or summand, or min/max value) into L[a]; pc := b")          \
    OP(QEND, QEND, 0, 1, "push result of L[a] (all/any/none: bool; count, run: int; sum, min, max: value)") \
    OP(LEN, SLOT, 0, 1, "push element count of list R[a]")                                               \
    OP(EXC, CMETA, 1, 1, "x := not x; trace: exception of clause a evaluated to x")                      \
    OP(CLAUSE, CLAUSE, 1, 0, "clause a := x; if not x and not tracing: pc := b")                          \
    OP(DECIDE, RULE, 0, 0, "if every clause since rule start held: outcome := rule a, pc := b")          \
    OP(FLAG, FLAG, 1, 0, "if x: raise flag a")                                                            \
    OP(CALLHOOK, HOOK, 0, 1, "pop b arguments; push hook a(arguments) (an adjustment: push 'it adjusts')") \
    OP(HALT, NONE, 0, 0, "stop; the outcome is final")                                                    \
    OP(QFILTER, QSTEP, 1, 0, "if not x: skip the current element of L[a] (L[a].i++; pc := b, its QNEXT)") \
    OP(ADJUST, ADJUST, 1, 0, "if x: apply the adjustment of the CALLHOOK just before (step a)")           \
    OP(OUTCOME, NONE, 0, 1, "push the outcome decided so far (a tier)")                                  \
    OP(UNRATED, JUMP, 0, 0, "if the outcome is not_rated or deferred: pc := b")                         \
    OP(PERIODDATE, SLOT, 0, 1, "push the date b names in period text R[a] (period.h: 1 first day, 2 last day, MMDD a day of its year, 1000D/2000D day D of its first/last month); error if absent or not a year/quarter")

/*
 * OPT(NAME, IN, OUT): the types of what an opcode pops and pushes, read by
 * the verifier (runtime/bytecode_verify.c), which rejects an opcode that
 * has none. A new opcode needs a line here too.
 *   IN   what the POP values popped must be (the top last):
 *          NONE   nothing            ANY    one value of any type
 *          BOOL   one bool           NUM    one number
 *          NUM2   two numbers        STR2   two strings
 *          EQ2    two values of one scalar type, not strings (numbers, bools, dates, members)
 *          ORD2   two values of one ordered type (numbers, dates, scale ranks)
 *          FOLD   the value the loop folds (bool; a number for sum; min/max: the result type)
 *          ARGS   the hook's arguments, each of its parameter's type (or absent, LOADF c = 1)
 *   OUT  what the PUSH values pushed are:
 *          NONE, BOOL, NUM, DATE, TIER (a tier rank), SAME (the value popped stays),
 *          CONST (the constant's type), SLOT (the field's type), ELEM (the
 *          element's or the struct field's type), LOOP (the quantifier's
 *          result), HOOK (the hook's result type; an adjustment: bool)
 */
#define QUY_OPCODE_TYPES(OPT)                                                                             \
    OPT(NOP, NONE, NONE)                                                                                  \
    OPT(PUSHK, NONE, CONST)                                                                               \
    OPT(LOADF, NONE, SLOT)                                                                                \
    OPT(PRESENT, NONE, BOOL)                                                                              \
    OPT(IFABSENT, NONE, NONE)                                                                             \
    OPT(POP, ANY, NONE)                                                                                   \
    OPT(ADD, NUM2, NUM)                                                                                   \
    OPT(SUB, NUM2, NUM)                                                                                   \
    OPT(MUL, NUM2, NUM)                                                                                   \
    OPT(DIV, NUM2, NUM)                                                                                   \
    OPT(NEG, NUM, NUM)                                                                                    \
    OPT(SHARE, NUM2, NUM)                                                                                 \
    OPT(EQ, EQ2, BOOL)                                                                                    \
    OPT(NE, EQ2, BOOL)                                                                                    \
    OPT(LT, ORD2, BOOL)                                                                                   \
    OPT(LE, ORD2, BOOL)                                                                                   \
    OPT(GT, ORD2, BOOL)                                                                                   \
    OPT(GE, ORD2, BOOL)                                                                                   \
    OPT(STREQ, STR2, BOOL)                                                                                \
    OPT(STRNE, STR2, BOOL)                                                                                \
    OPT(NOT, BOOL, BOOL)                                                                                  \
    OPT(JMP, NONE, NONE)                                                                                  \
    OPT(JFKEEP, BOOL, SAME)                                                                               \
    OPT(JTKEEP, BOOL, SAME)                                                                               \
    OPT(QBEGIN, NONE, NONE)                                                                               \
    OPT(QNEXT, NONE, NONE)                                                                                \
    OPT(ELEM, NONE, ELEM)                                                                                 \
    OPT(ELEMF, NONE, ELEM)                                                                                \
    OPT(QSTEP, FOLD, NONE)                                                                                \
    OPT(QEND, NONE, LOOP)                                                                                 \
    OPT(LEN, NONE, NUM)                                                                                   \
    OPT(EXC, BOOL, BOOL)                                                                                  \
    OPT(CLAUSE, BOOL, NONE)                                                                               \
    OPT(DECIDE, NONE, NONE)                                                                               \
    OPT(FLAG, BOOL, NONE)                                                                                 \
    OPT(CALLHOOK, ARGS, HOOK)                                                                             \
    OPT(HALT, NONE, NONE)                                                                                 \
    OPT(QFILTER, BOOL, NONE)                                                                              \
    OPT(ADJUST, BOOL, NONE)                                                                               \
    OPT(OUTCOME, NONE, TIER)                                                                              \
    OPT(UNRATED, NONE, NONE)                                                                              \
    OPT(PERIODDATE, NONE, DATE)

typedef enum op_code {
#define OP_ENUM(name, fmt, pop, push, doc) OP_##name,
    QUY_OPCODES(OP_ENUM)
#undef OP_ENUM
    OP__COUNT
} op_code;

typedef enum op_format {
    OPF_NONE,
    OPF_K,
    OPF_SLOT,
    OPF_ESLOT,
    OPF_JUMP,
    OPF_SLOTJ,
    OPF_LOOP,
    OPF_LOOPJ,
    OPF_QSTEP,
    OPF_QEND,
    OPF_CLAUSE,
    OPF_CMETA,
    OPF_RULE,
    OPF_FLAG,
    OPF_HOOK,
    OPF_ADJUST,
} op_format;

/* Quantifier kinds (operand c of QBEGIN). */
typedef enum q_quant {
    QK_ALL,
    QK_ANY,
    QK_NONE,
    QK_COUNT,
    QK_SUM,
    QK_MIN,  /* least of the values folded (numbers, dates, scale ranks); none folded: VM_EMPTY */
    QK_MAX,  /* greatest of the values folded; none folded: VM_EMPTY */
    QK_RUN,  /* length of the longest run of consecutive elements satisfying the predicate */
    QK__LAST = QK_RUN
} q_quant;

typedef struct op_info {
    const char *name;
    op_format format;
    int pop, push;
    const char *doc;
} op_info;

/* Indexed by op_code; defined in runtime/opcodes.c from QUY_OPCODES. */
extern const op_info op_table[OP__COUNT];

#endif /* QUY_OPCODES_H */
