/*
 * vm.c — the Quy virtual machine (prefix vm_).
 *
 * One interpreter body (vm_exec.inc) is instantiated twice: without tracing
 * (the fast path: a failed clause jumps straight to the next rule, no
 * event is written) and with tracing (every clause of every rule tried is
 * evaluated and recorded). Dispatch is computed goto, or a switch when built
 * with QUY_VM_SWITCH; both are built and tested (see CMakeLists.txt).
 *
 * The VM trusts only what bc_verify() established: opcodes, operand ranges,
 * jump targets and stack depth. Record contents are not trusted: an absent
 * field, an overflow or a division by zero is a per-record error.
 */
#include "vm.h"

#include <string.h>

#include "hook.h"
#include "period.h"

const char *const vm_error_message[VM__COUNT] = {
#define E_MSG(name, msg) msg,
    QUY_VM_ERRORS(E_MSG)
#undef E_MSG
};

/* A quantifier's loop register. */
typedef struct vm_loop {
    uint32_t base;   /* first element index in rec->elems */
    uint32_t count;  /* number of elements */
    uint32_t i;      /* elements consumed */
    uint32_t stride; /* values per element (struct field count, or 1) */
    uint32_t cur;    /* elems index of the current element */
    uint8_t kind;    /* q_quant */
    uint16_t slot;   /* the list field's slot (for the trace) */
    int64_t acc;     /* all/any/none: truth; count: matches; min/max: values folded; run: current run */
    q_val sum;       /* sum; min/max: the extreme so far; run: the longest run */
} vm_loop;

/* Values per element of the list field in `slot` of kind k. */
static uint32_t vm_stride(const q_program *p, const q_kind *k, uint32_t slot)
{
    const q_type *lt = &p->types[p->fields[k->first_field + slot].type];
    const q_type *et = &p->types[lt->elem];
    return et->kind == QT_STRUCT ? et->count : 1;
}

static inline void vm_event_push(vm_trace *t, uint8_t type, uint8_t result, uint16_t slot, uint32_t idx, q_val val)
{
    if (t->n >= t->cap) {
        t->truncated = true;
        return;
    }
    vm_event *e = &t->ev[t->n++];
    e->type = type;
    e->result = result;
    e->slot = slot;
    e->idx = idx;
    e->val = val;
}

static inline bool vm_add_flag(vm_result *out, uint32_t f)
{
    for (uint16_t i = 0; i < out->nflags; i++)
        if (out->flags[i] == f) return false;
    if (out->nflags < QUY_MAX_FLAGS) out->flags[out->nflags++] = f;
    return true;
}

/* Record an adjustment that took effect: its flag and its note. */
static inline void vm_add_note(vm_result *out, uint32_t adjust, uint32_t flag, const char *text)
{
    vm_add_flag(out, flag);
    if (out->nnotes < QUY_MAX_NOTES) out->notes[out->nnotes++] = (vm_note){flag, adjust, text};
}

const char *vm_note_of(const vm_result *r, uint32_t f)
{
    for (uint8_t i = 0; i < r->nnotes && i < QUY_MAX_NOTES; i++)
        if (r->notes[i].flag == f) return r->notes[i].text;
    return NULL;
}

/* Instantiate the interpreter: vm_exec_fast and vm_exec_trace. */
#define VM_TRACING 0
#define VM_EXEC vm_exec_fast
#include "vm_exec.inc"
#undef VM_EXEC
#undef VM_TRACING

#define VM_TRACING 1
#define VM_EXEC vm_exec_trace
#include "vm_exec.inc"
#undef VM_EXEC
#undef VM_TRACING

int vm_rate(const q_program *p, hook_session *hs, const q_record *rec, vm_result *out, vm_trace *trace)
{
    out->nflags = 0;
    out->rule = QUY_NONE;
    out->outcome = QO_KHTNV;
    out->error = VM_OK;
    out->error_pc = QUY_NONE;
    out->error_slot = 0;
    out->error_text = NULL;
    out->nnotes = 0;
    if (rec->kind >= p->nkinds || p->kinds[rec->kind].entry == QUY_NONE) {
        out->error = VM_NO_RATE;
        return VM_NO_RATE;
    }
    const q_kind *k = &p->kinds[rec->kind];
    int rc = trace ? vm_exec_trace(p, hs, k, k->entry, rec, out, trace, NULL)
                   : vm_exec_fast(p, hs, k, k->entry, rec, out, NULL, NULL);
    out->error = (uint8_t)rc;
    return rc;
}

int vm_eval(const q_program *p, hook_session *hs, uint32_t entry, const q_record *rec, q_val *ret)
{
    vm_result scratch;
    scratch.nflags = 0;
    scratch.rule = QUY_NONE;
    scratch.outcome = QO_KHTNV;
    scratch.error_pc = QUY_NONE;
    scratch.error_slot = 0;
    scratch.error_text = NULL;
    scratch.nnotes = 0;
    if (rec->kind >= p->nkinds || entry >= p->ncode) return VM_BAD_PROGRAM;
    return vm_exec_fast(p, hs, &p->kinds[rec->kind], entry, rec, &scratch, NULL, ret);
}
