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
#include "vm_fuse.h"

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

/* An event that carries a reason instead of a value (EV_HOOK failed, EV_ADJUST). */
static inline void vm_note_push(vm_trace *t, uint8_t type, uint8_t result, uint16_t slot, uint32_t idx,
                                const char *note)
{
    uint32_t at = t->n;
    vm_event_push(t, type, result, slot, idx, (q_val){0, 0});
    if (t->n > at) t->ev[at].note = note;
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

/* ---------------------------------------------------------------------
 * The fast paths of the fused instructions (QUY_FUSED in opcodes.h). Each
 * computes exactly what the generic instructions of its body compute.
 * ------------------------------------------------------------------- */

/* The three-way compare of EQ .. GE: integers without the rational path. */
static inline int vm_cmp3(q_val x, q_val y)
{
    return (x.d == 1 && y.d == 1) ? (x.n > y.n) - (x.n < y.n) : q_cmp(x, y);
}

/* Relation r (q_relop) as a mask over the three outcomes of a compare:
 * bit 0 less, bit 1 equal, bit 2 greater. */
static const uint8_t vm_relmask[8] = {[QREL_EQ] = 2, [QREL_NE] = 5, [QREL_LT] = 1,
                                      [QREL_LE] = 3, [QREL_GT] = 4, [QREL_GE] = 6};

static inline bool vm_rel(int c3, uint8_t r) { return (vm_relmask[r & 7] >> (c3 + 1)) & 1; }

/* The values of CMPFK (a field with a constant) and CMPFF (two fields),
 * for the interpreters and check_inline alike. */
static inline q_val vm_cmpfk(const q_program *p, const q_val *slots, const q_instr *ip)
{
    return q_bool(vm_rel(vm_cmp3(slots[ip->a], p->consts[ip->b]), ip->c));
}
static inline q_val vm_cmpff(const q_val *slots, const q_instr *ip)
{
    return q_bool(vm_rel(vm_cmp3(slots[ip->a], slots[ip->b]), ip->c));
}

/* Quantifier q = qc >> 3 (all, any, none, count) over n scalar elements
 * of (e r k), r = qc & 7: the QBEGIN .. QEND loop of QLISTK, with the
 * same early exits (QNEXT stops all at the first false, any and none at
 * the first true). The result is a bool or a count, both {v, 1}. */
static inline int64_t vm_qlist(const q_val *e, uint32_t n, q_val k, uint8_t qc)
{
    uint8_t q = qc >> 3, m = vm_relmask[qc & 7];
    int64_t count = 0;
    for (uint32_t i = 0; i < n; i++) {
        int t = (m >> (vm_cmp3(e[i], k) + 1)) & 1;
        if (q == QK_ALL) {
            if (!t) return 0;
        } else if (q == QK_ANY || q == QK_NONE) {
            if (t) return q == QK_ANY;
        } else {
            count += t;
        }
    }
    return q == QK_ALL || q == QK_NONE ? 1 : q == QK_ANY ? 0 : count;
}

/* The ordinals 0..63 standing in relation r to the integer k. */
static inline uint64_t vm_relset(uint8_t r, int64_t k)
{
    uint64_t lt = k <= 0 ? 0 : k >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << k) - 1; /* v < k */
    uint64_t eq = k >= 0 && k < 64 ? (uint64_t)1 << k : 0;
    switch (r & 7) {
    case QREL_EQ: return eq;
    case QREL_NE: return ~eq;
    case QREL_LT: return lt;
    case QREL_LE: return lt | eq;
    case QREL_GT: return ~(lt | eq);
    case QREL_GE: return ~lt;
    default: return 0;
    }
}

/* The values of the scalar lists read in one rating, as bitmasks: a list
 * of enum, scale or tier values (ordinals 0..63) is a set, and all / any /
 * none of (e r K) is one test of it. Computed on the first quantifier over
 * a list, kept for the others; forgotten when an adjustment repoints the
 * record's values. */
#define VM_MASKS 4
typedef struct vm_masks {
    uint8_t n;
    uint8_t ok[VM_MASKS];     /* every element an integer 0..63 */
    uint16_t slot[VM_MASKS];
    uint64_t mask[VM_MASKS];
} vm_masks;

static inline bool vm_mask_of(vm_masks *c, uint16_t slot, const q_val *e, uint32_t n, uint64_t *mask)
{
    for (uint8_t i = 0; i < c->n; i++)
        if (c->slot[i] == slot) {
            *mask = c->mask[i];
            return c->ok[i];
        }
    uint64_t m = 0, bad = 0; /* bad: some d != 1 or n outside 0..63 (branch-free) */
    for (uint32_t i = 0; i < n; i++) {
        bad |= ((uint64_t)e[i].d ^ 1) | ((uint64_t)e[i].n >> 6);
        m |= (uint64_t)1 << (e[i].n & 63);
    }
    bool ok = bad == 0;
    if (c->n < VM_MASKS) {
        c->slot[c->n] = slot;
        c->mask[c->n] = m;
        c->ok[c->n++] = ok;
    }
    *mask = m;
    return ok;
}

/* QLISTK: q = qc >> 3 over the n elements of list `slot` of (e r k),
 * r = qc & 7; by the list's bitmask when it has one, else element by
 * element (vm_qlist). */
static inline int64_t vm_qlistk(vm_masks *c, uint16_t slot, const q_val *e, uint32_t n, q_val k, uint8_t qc)
{
    uint8_t q = qc >> 3;
    uint64_t m;
    if (q != QK_COUNT && k.d == 1 && vm_mask_of(c, slot, e, n, &m)) {
        uint64_t s = vm_relset(qc, k.n);
        return q == QK_ALL ? (m & ~s) == 0 : q == QK_ANY ? (m & s) != 0 : (m & s) == 0;
    }
    return vm_qlist(e, n, k, qc);
}

/* share(x, y) compared with k, as SHARE then a compare would: by
 * cross-multiplication when x and y are integers (share(x, 0) = 0), else
 * through q_share. Returns q_share's status (an overflow is an error
 * either way); *c3 is the three-way result. */
static inline q_status vm_share_cmp(q_val x, q_val y, q_val k, int *c3)
{
    if (x.d == 1 && y.d == 1 && x.n != INT64_MIN && y.n != INT64_MIN && k.d > 0) {
        if (y.n == 0) {
            *c3 = vm_cmp3(q_int(0), k);
            return Q_OK;
        }
        /* sign(x/y - kn/kd) = sign(x * kd - kn * y) * sign(y), kd > 0 */
        __int128 l = (__int128)x.n * k.d, r = (__int128)k.n * y.n;
        int c = (l > r) - (l < r);
        *c3 = y.n > 0 ? c : -c;
        return Q_OK;
    }
    q_val sh;
    q_status s = q_share(x, y, &sh);
    if (s == Q_OK) *c3 = vm_cmp3(sh, k);
    return s;
}

/* Instantiate the interpreter: vm_exec_fast, vm_exec_trace and
 * vm_exec_count (the fast path, counting dispatches per opcode: the
 * benchmark's profile). */
#define VM_COUNTING 0
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
#undef VM_COUNTING

#define VM_COUNTING 1
#define VM_TRACING 0
#define VM_EXEC vm_exec_count
#include "vm_exec.inc"
#undef VM_EXEC
#undef VM_TRACING
#undef VM_COUNTING

/* The state every rating starts from. */
static void vm_result_init(vm_result *out)
{
    out->nflags = 0;
    out->rule = QUY_NONE;
    out->outcome = QO_KHTNV;
    out->error = VM_OK;
    out->error_pc = QUY_NONE;
    out->error_slot = 0;
    out->error_text = NULL;
    out->nnotes = 0;
}

int vm_rate(const q_program *p, hook_session *hs, const q_record *rec, vm_result *out, vm_trace *trace)
{
    vm_result_init(out);
    if (rec->kind >= p->nkinds || p->kinds[rec->kind].entry == QUY_NONE) {
        out->error = VM_NO_RATE;
        return VM_NO_RATE;
    }
    const q_kind *k = &p->kinds[rec->kind];
    int rc = trace ? vm_exec_trace(p, hs, k, k->entry, rec, out, trace, NULL, NULL)
                   : vm_exec_fast(p, hs, k, k->entry, rec, out, NULL, NULL, NULL);
    out->error = (uint8_t)rc;
    return rc;
}

int vm_eval(const q_program *p, hook_session *hs, uint32_t entry, const q_record *rec, q_val *ret)
{
    vm_result scratch;
    vm_result_init(&scratch);
    if (rec->kind >= p->nkinds || entry >= p->ncode) return VM_BAD_PROGRAM;
    return vm_exec_fast(p, hs, &p->kinds[rec->kind], entry, rec, &scratch, NULL, ret, NULL);
}

/* A check that is one comparison (CMPFK or CMPFF, its fused body, HALT)
 * of fields the record has: its value, computed here exactly as the VM
 * computes it (vm_cmpfk / vm_cmpff, as the interpreters), without entering the
 * interpreter, whose entry and exit were most of such a check's cost (the
 * reader: 13,530 -> 12,858 instructions a record over bench records).
 * Anything else, and an absent field (whose error the VM reports), runs in
 * the VM. */
static inline bool check_inline(const q_program *p, const q_record *rec, uint32_t entry, q_val *ret)
{
    const q_instr *ip = &p->code[entry];
    uint32_t halt;
    if (ip->op == OP_CMPFK) halt = entry + 1 + FUSE_LEN_CMPFK;
    else if (ip->op == OP_CMPFF) halt = entry + 1 + FUSE_LEN_CMPFF;
    else return false;
    if (halt >= p->ncode || p->code[halt].op != OP_HALT || !rec->present[ip->a]) return false;
    if (ip->op == OP_CMPFF && !rec->present[ip->b]) return false;
    *ret = ip->op == OP_CMPFK ? vm_cmpfk(p, rec->slots, ip) : vm_cmpff(rec->slots, ip);
    return true;
}

int vm_eval_checks(const q_program *p, hook_session *hs, const q_record *rec, uint32_t *c, q_val *ret,
                   uint32_t *error_pc)
{
    *error_pc = QUY_NONE;
    if (rec->kind >= p->nkinds) return VM_BAD_PROGRAM;
    const q_kind *k = &p->kinds[rec->kind];
    vm_result scratch; /* what a check writes only when it fails */
    vm_result_init(&scratch);
    for (; *c < k->nchecks; ++*c) {
        if (k->first_check + *c >= p->nchecks) { /* as vm_eval's caller did: no more checks */
            *c = k->nchecks;
            break;
        }
        uint32_t entry = p->checks[k->first_check + *c].entry;
        if (entry >= p->ncode) return VM_BAD_PROGRAM;
        if (!check_inline(p, rec, entry, ret)) {
            int e = vm_exec_fast(p, hs, k, entry, rec, &scratch, NULL, ret, NULL);
            if (e != VM_OK) {
                *error_pc = scratch.error_pc;
                return e;
            }
        }
        if (ret->n == 0) return VM_OK;
    }
    return VM_OK;
}

int vm_rate_counted(const q_program *p, hook_session *hs, const q_record *rec, vm_result *out,
                    uint64_t counts[OP__COUNT])
{
    vm_result_init(out);
    if (rec->kind >= p->nkinds || p->kinds[rec->kind].entry == QUY_NONE) {
        out->error = VM_NO_RATE;
        return VM_NO_RATE;
    }
    const q_kind *k = &p->kinds[rec->kind];
    int rc = vm_exec_count(p, hs, k, k->entry, rec, out, NULL, NULL, counts);
    out->error = (uint8_t)rc;
    return rc;
}
