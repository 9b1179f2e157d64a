/*
 * vm.h — rates one record with a compiled program.
 *
 * vm_rate() allocates nothing: the operand stack and loop registers live on
 * the C stack, the result in the caller's vm_result, the trace (optional) in
 * the caller's buffer. Tracing is off when `trace` is NULL; then a clause
 * that fails jumps straight to the next rule. With a trace, every clause of
 * every rule tried is evaluated and recorded (no short-circuit between
 * clauses), so an explanation can list everything that failed.
 */
#ifndef QUY_VM_H
#define QUY_VM_H

#include "program.h"
#include "record.h"

typedef enum vm_ev_type {
    EV_READ,   /* a field was read: slot, val (lists: val = {first, count}) */
    EV_CLAUSE, /* clause idx evaluated to result */
    EV_SKIP,   /* clause idx skipped: field `slot` absent (`if present`) */
    EV_EXC,    /* exception (`unless`) of clause idx evaluated to result */
    EV_RULE,   /* rule idx finished: result = 1 held (decided), 0 failed */
    EV_FLAG,   /* flag idx raised */
    EV_SHARE,  /* share(a, b) computed: val = result, slot/idx = a.n, b.n (ints) */
    EV_AGG,    /* sum/min/max/longest run over list `slot`: val = result, result = q_quant, idx = its type */
    EV_HOOK,   /* hook idx called in an expression: result 1, val = its result; result 0: it
                  failed after a clause of the rule had failed (tracing only), note = why */
    EV_ADJUST, /* adjust step idx adjusted: slot = outcome before, result = after,
                  note = its reason (kept by the hook session) */
} vm_ev_type;

typedef struct vm_event {
    uint8_t type;   /* vm_ev_type */
    uint8_t result; /* bool */
    uint16_t slot;  /* EV_READ / EV_SKIP */
    uint32_t idx;   /* clause / rule / flag index */
    union {
        q_val val;        /* EV_READ, EV_SHARE, EV_AGG, EV_HOOK returned: the value */
        const char *note; /* EV_HOOK failed, EV_ADJUST: the reason (NULL: none) */
    };
} vm_event;

typedef struct vm_trace {
    vm_event *ev;   /* caller-owned buffer */
    uint32_t cap;
    uint32_t n;
    bool truncated; /* more events than cap; the rest were dropped */
} vm_trace;

#define QUY_VM_ERRORS(E)                                                           \
    E(OK, "ok")                                                                    \
    E(ABSENT, "đọc trường không có dữ liệu (absent field read outside 'if present')") \
    E(OVERFLOW, "tràn số (arithmetic overflow)")                                   \
    E(DIV_ZERO, "chia cho 0 (division by zero)")                                   \
    E(BAD_PROGRAM, "chương trình hỏng (invalid program state)")                     \
    E(NO_RATE, "bộ quy tắc không xếp loại đối tượng này (kind has no rate block)") \
    E(HOOK, "lỗi hook Lua (hook failed)")                                          \
    E(EMPTY, "min/max của danh sách không có phần tử nào (min/max over no element)")  \
    E(PERIOD, "kỳ đánh giá không có dạng năm \"2024\" hay quý \"2026-Q2\" (the period is not a year or a quarter)")

typedef enum vm_error {
#define E_ENUM(name, msg) VM_##name,
    QUY_VM_ERRORS(E_ENUM)
#undef E_ENUM
    VM__COUNT
} vm_error;

extern const char *const vm_error_message[VM__COUNT];

#define QUY_MAX_NOTES 4 /* adjustments noted on one record */

/* An adjustment that took effect: the flag it raised and why. */
typedef struct vm_note {
    uint32_t flag;    /* flag index (the step's flag) */
    uint32_t adjust;  /* adjust step index */
    const char *text; /* the hook's reason (kept by the hook session, valid until hook_session_free) */
} vm_note;

typedef struct vm_result {
    uint8_t outcome;   /* q_outcome: the tier decided by the rate block */
    uint8_t error;     /* vm_error; outcome is meaningless unless VM_OK */
    uint16_t nflags;
    uint32_t rule;     /* deciding rule index */
    uint32_t flags[QUY_MAX_FLAGS]; /* raised flag indices, in order */
    uint32_t error_pc; /* instruction that failed (source position via code_pos) */
    uint16_t error_slot; /* VM_ABSENT: the slot read */
    const char *error_text; /* VM_HOOK: which hook failed and why (kept by the hook session); else NULL */
    uint8_t nnotes;
    vm_note notes[QUY_MAX_NOTES]; /* adjustments, in the order they took effect */
} vm_result;

/* The note of flag f in a result, or NULL. */
const char *vm_note_of(const vm_result *r, uint32_t f);

/* The caller's per-run state for hooks (runtime/hook.h): one per thread and
 * program, made by hook_session_new(p, limits). NULL is fine for a program
 * that calls no hook; a hook call then fails the record (VM_HOOK). */
struct hook_session;

/* Rate `rec` (whose kind selects the rate block). Returns the vm_error. */
int vm_rate(const q_program *p, struct hook_session *hs, const q_record *rec, vm_result *out, vm_trace *trace);

/* vm_rate without a trace, adding to counts[op] the number of times each
 * opcode was dispatched (the benchmark's profile; a separate copy of the
 * interpreter, so vm_rate pays nothing for it). */
int vm_rate_counted(const q_program *p, struct hook_session *hs, const q_record *rec, vm_result *out,
                    uint64_t counts[OP__COUNT]);

/* Evaluate the expression at `entry` (a check, ending in HALT) against
 * `rec`; *out is the value left on the stack. Returns the vm_error. */
int vm_eval(const q_program *p, struct hook_session *hs, uint32_t entry, const q_record *rec, q_val *out);

/* The declared checks of rec's kind from check *c on, in order, in one
 * call (the record reader's): VM_OK with *c the first whose value (*out)
 * is false, or the kind's nchecks if every one holds; else the vm_error of
 * check *c, with *error_pc its instruction that failed (QUY_NONE if none)
 * for the source line. The same values and errors as vm_eval per check. */
int vm_eval_checks(const q_program *p, struct hook_session *hs, const q_record *rec, uint32_t *c, q_val *out,
                   uint32_t *error_pc);

#endif /* QUY_VM_H */
