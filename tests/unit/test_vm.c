/*
 * test_vm.c — the virtual machine (runtime/vm.c, vm_exec.inc), one test or
 * more per opcode, in both dispatch modes (this file is built twice) and,
 * for rate blocks, in both the fast and the tracing interpreter.
 *
 * Most programs are assembled by hand (hand_program below) and run through
 * bc_verify() first, so every program here is one the verifier accepts
 * (except CALLHOOK, which it rejects by design). Expressions are run as a
 * check block with vm_eval(); rules, clauses, flags and the trace as a rate
 * block with vm_rate(). Records are built by hand (hand_rec). The last
 * tests compile rulesets with the compiler (quy_fixture.h) and compare the
 * two interpreters on sets of JSON records.
 */
#include "quy_fixture.h"

/* ---------------------------------------------------------------------
 * A hand-built program
 *
 *   kind 0 `member` (6 slots):
 *     0 a      int
 *     1 b      int
 *     2 c      optional int
 *     3 xs     optional list of int
 *     4 items  list of item { v : int, ok : bool }
 *     5 s      string
 *   kind 1 `agency`: no fields, no rate block
 *   rule 0 `r0` -> htxsnv, clauses 0 and 1; rule 1 `otherwise` -> htnv,
 *   raising flag 1 (`gap`); clause 2 belongs to flag 0 (`f0`).
 *
 * Mode HP_CHECK: the code is check 0 of kind 0 (an expression ending in
 * HALT with one value), run with vm_eval(p, NULL, 0, ...). Mode HP_RATE: the code
 * is kind 0's rate block.
 * ------------------------------------------------------------------- */

enum { S_A, S_B, S_C, S_XS, S_ITEMS, S_S, NSLOTS };
enum { HP_CHECK, HP_RATE };

static const char *const POOL[] = {"",     "t",     "member", "agency", "a",     "b",    "c",
                                   "xs",   "items", "s",      "v",      "ok",    "item", "r0",
                                   "otherwise", "f0", "gap",  "abc",    "abd",   "ab",   "khtnv",
                                   "htnv", "httnv", "htxsnv", "tier",   "a > 5", "b < 3"};
enum { ST_EMPTY, ST_T, ST_MEMBER, ST_AGENCY, ST_A, ST_B, ST_C, ST_XS, ST_ITEMS, ST_S, ST_V, ST_OK, ST_ITEM, ST_R0,
       ST_OTHERWISE, ST_F0, ST_GAP, ST_ABC, ST_ABD, ST_AB, ST_KHTNV, ST_HTNV, ST_HTTNV, ST_HTXSNV, ST_TIER,
       ST_TXT0, ST_TXT1, NPOOL };

/* A constant: for QT_STRING, v.n is a POOL index (turned into a pointer). */
typedef struct hk {
    q_val v;
    uint8_t t;
} hk;

#define KI(n) {{(n), 1}, QT_INT}
#define KD(n, d) {{(n), (d)}, QT_DECIMAL}
#define KB(b) {{(b), 1}, QT_BOOL}
#define KS(id) {{(id), 0}, QT_STRING}

/* One instruction: op, a, b, c (q_instr is {op, c, a, b}). */
#define I(op, a, b) {OP_##op, 0, (a), (b)}
#define IC(op, a, b, c) {OP_##op, (c), (a), (b)}

#define NEWA(arr, n) ((arr) = calloc((n) ? (n) : 1, sizeof *(arr)))

static q_program *hand_program_(int mode, const q_instr *code, uint32_t ncode, const hk *k, uint32_t nk, bool verify)
{
    q_program *p = calloc(1, sizeof *p);
    assert_non_null(p);

    /* string pool */
    size_t len = 0;
    for (int i = 0; i < NPOOL; i++) len += strlen(POOL[i]) + 1;
    p->blob = malloc(len);
    NEWA(p->str_off, NPOOL);
    p->nstr = NPOOL;
    p->blob_len = (uint32_t)len;
    size_t o = 0;
    for (int i = 0; i < NPOOL; i++) {
        p->str_off[i] = (uint32_t)o;
        memcpy(p->blob + o, POOL[i], strlen(POOL[i]) + 1);
        o += strlen(POOL[i]) + 1;
    }
    p->name = ST_T;
    p->nlayers = 1;
    NEWA(p->layers, 1);
    p->layers[0] = ST_T;

    /* constants */
    p->nconsts = nk;
    NEWA(p->consts, nk);
    NEWA(p->const_type, nk);
    for (uint32_t i = 0; i < nk; i++) {
        p->const_type[i] = k[i].t;
        p->consts[i] = k[i].v;
        if (k[i].t == QT_STRING) {
            uint32_t id = (uint32_t)k[i].v.n;
            p->consts[i] = q_str(p->blob + p->str_off[id], strlen(POOL[id]));
        }
    }

    /* code */
    p->ncode = ncode;
    NEWA(p->code, ncode);
    NEWA(p->code_pos, ncode);
    memcpy(p->code, code, ncode * sizeof *code);

    /* types: 0 int, 1 decimal, 2 bool, 3 string, 4 struct item, 5 list of
     * int, 6 list of item, 7 tier */
    p->ntypes = 8;
    NEWA(p->types, 8);
    p->types[0] = (q_type){.kind = QT_INT};
    p->types[1] = (q_type){.kind = QT_DECIMAL};
    p->types[2] = (q_type){.kind = QT_BOOL};
    p->types[3] = (q_type){.kind = QT_STRING};
    p->types[4] = (q_type){.kind = QT_STRUCT, .name = ST_ITEM, .first = 6, .count = 2};
    p->types[5] = (q_type){.kind = QT_LIST, .elem = 0};
    p->types[6] = (q_type){.kind = QT_LIST, .elem = 4};
    p->types[7] = (q_type){.kind = QT_SCALE, .name = ST_TIER, .first = 0, .count = 4};
    p->tier_type = 7;
    p->nmembers = 4;
    NEWA(p->members, 4);
    for (int i = 0; i < 4; i++) p->members[i] = (q_member){(uint32_t)(ST_KHTNV + i), 0};

    /* fields: the kind's six, then the struct's two */
    p->nfields = 8;
    NEWA(p->fields, 8);
    p->fields[0] = (q_field){ST_A, 0, 0, 0, 0, QUY_NONE};
    p->fields[1] = (q_field){ST_B, 0, 0, 1, 0, QUY_NONE};
    p->fields[2] = (q_field){ST_C, 0, 0, 2, QF_OPTIONAL, QUY_NONE};
    p->fields[3] = (q_field){ST_XS, 0, 5, 3, QF_OPTIONAL, QUY_NONE};
    p->fields[4] = (q_field){ST_ITEMS, 0, 6, 4, 0, QUY_NONE};
    p->fields[5] = (q_field){ST_S, 0, 3, 5, 0, QUY_NONE};
    p->fields[6] = (q_field){ST_V, 0, 0, 0, 0, QUY_NONE};
    p->fields[7] = (q_field){ST_OK, 0, 2, 1, 0, QUY_NONE};

    p->nkinds = 2;
    NEWA(p->kinds, 2);
    p->kinds[0] = (q_kind){.name = ST_MEMBER, .first_field = 0, .nfields = NSLOTS, .first_check = 0,
                           .nchecks = 0, .entry = mode == HP_RATE ? 0 : QUY_NONE,
                           .first_rule = 0, .nrules = 2};
    p->kinds[1] = (q_kind){.name = ST_AGENCY, .first_field = 8, .nfields = 0, .first_check = 0,
                           .nchecks = 0, .entry = QUY_NONE, .first_rule = 2, .nrules = 0};
    if (mode == HP_CHECK) { /* a batch expression: any result type */
        p->nbexprs = 1;
        NEWA(p->bexprs, 1);
        p->bexprs[0] = (q_bexpr){.kind = 0, .entry = 0, .text = ST_TXT0};
    }

    p->nrules = 2;
    NEWA(p->rules, 2);
    p->rules[0] = (q_rule){.name = ST_R0, .cite = ST_T, .layer = ST_T, .outcome = QO_HTXSNV, .flag = QUY_NONE,
                           .first_clause = 0, .nclauses = 2};
    p->rules[1] = (q_rule){.name = ST_OTHERWISE, .cite = ST_T, .layer = ST_T, .outcome = QO_HTNV,
                           .flags = QR_OTHERWISE, .flag = 1, .first_clause = 2, .nclauses = 0};
    p->nclauses = 3;
    NEWA(p->clauses, 3);
    p->clauses[0] = (q_clause){.rule = 0, .text = ST_TXT0, .cite = ST_T, .layer = ST_T, .if_present = 1};
    p->clauses[1] = (q_clause){.rule = 0, .text = ST_TXT1, .cite = ST_T, .layer = ST_T};
    p->clauses[2] = (q_clause){.rule = QUY_NONE, .text = ST_TXT1, .cite = ST_T, .layer = ST_T};
    p->nflagdefs = 2;
    NEWA(p->flags, 2);
    p->flags[0] = (q_flagdef){.name = ST_F0, .message = ST_F0, .cite = ST_T, .layer = ST_T, .kind = QFL_FLAG, .clause = 2};
    p->flags[1] = (q_flagdef){.name = ST_GAP, .message = ST_GAP, .cite = ST_EMPTY, .layer = ST_EMPTY,
                              .kind = QFL_FLAG, .clause = QUY_NONE};
    NEWA(p->reads, 0);
    NEWA(p->quotas, 0);
    NEWA(p->sources, 0);

    if (verify) {
        char why[512];
        bool ok = bc_verify(p, why, sizeof why);
        if (!ok) print_error("hand program fails verification: %s\n", why);
        assert_true(ok);
    }
    return p;
}

#define hand_program(mode, code, k) \
    hand_program_((mode), (code), sizeof(code) / sizeof((code)[0]), (k), sizeof(k) / sizeof((k)[0]), true)

/* A record of kind 0 built by hand: a = 1, b = 1, c absent, xs = [],
 * items = [], s = "abc". */
typedef struct hand_rec {
    q_record r;
    q_val slots[NSLOTS];
    uint8_t present[NSLOTS];
    q_val elems[64];
} hand_rec;

static const char REC_ABC[] = {'a', 'b', 'c'}; /* not NUL-terminated, not the pool's */

static void hand_rec_init(hand_rec *h)
{
    memset(h, 0, sizeof *h);
    h->r.kind = 0;
    h->r.id = "h";
    h->r.slots = h->slots;
    h->r.present = h->present;
    h->r.elems = h->elems;
    h->r.nelems = 0;
    h->slots[S_A] = q_int(1);
    h->slots[S_B] = q_int(1);
    h->slots[S_XS] = (q_val){0, 0};
    h->slots[S_ITEMS] = (q_val){0, 0};
    h->slots[S_S] = q_str(REC_ABC, 3);
    h->present[S_A] = h->present[S_B] = h->present[S_XS] = h->present[S_ITEMS] = h->present[S_S] = 1;
}

static void hand_rec_xs(hand_rec *h, const int64_t *v, uint32_t n)
{
    assert_true(h->r.nelems + n <= 64);
    uint32_t base = h->r.nelems;
    for (uint32_t i = 0; i < n; i++) h->elems[base + i] = q_int(v[i]);
    h->r.nelems += n;
    h->slots[S_XS] = (q_val){base, n};
    h->present[S_XS] = 1;
}

static void hand_rec_items(hand_rec *h, const int64_t (*vk)[2], uint32_t n)
{
    assert_true(h->r.nelems + 2 * n <= 64);
    uint32_t base = h->r.nelems;
    for (uint32_t i = 0; i < n; i++) {
        h->elems[base + 2 * i] = q_int(vk[i][0]);
        h->elems[base + 2 * i + 1] = q_bool(vk[i][1] != 0);
    }
    h->r.nelems += 2 * n;
    h->slots[S_ITEMS] = (q_val){base, n};
}

/* Run `code` as a check block against `rec` (a default one if NULL). */
static int eval_(const q_instr *code, uint32_t ncode, const hk *k, uint32_t nk, const hand_rec *rec, q_val *out)
{
    hand_rec def;
    if (!rec) {
        hand_rec_init(&def);
        rec = &def;
    }
    q_program *p = hand_program_(HP_CHECK, code, ncode, k, nk, true);
    *out = q_int(-999);
    int rc = vm_eval(p, NULL, 0, &rec->r, out);
    prog_free(p);
    return rc;
}

#define eval(code, k, rec, out) eval_((code), sizeof(code) / sizeof((code)[0]), (k), sizeof(k) / sizeof((k)[0]), (rec), (out))

static void assert_val(q_val v, int64_t n, int64_t d)
{
    if (v.n != n || v.d != d) print_error("value %lld/%lld, expected %lld/%lld\n", (long long)v.n, (long long)v.d,
                                          (long long)n, (long long)d);
    assert_true(v.n == n && v.d == d);
}

/* Evaluate `x OP y` on two constants. */
static q_val binop(uint8_t op, hk x, hk y, int *rc)
{
    const hk k[] = {x, y};
    const q_instr code[] = {I(PUSHK, 0, 0), I(PUSHK, 0, 1), {op, 0, 0, 0}, I(HALT, 0, 0)};
    q_val out;
    *rc = eval(code, k, NULL, &out);
    return out;
}

static q_val binop_ok(uint8_t op, hk x, hk y)
{
    int rc;
    q_val v = binop(op, x, y, &rc);
    assert_int_equal(rc, VM_OK);
    return v;
}

/* ---------------------------------------------------------------------
 * Stack, constants, fields
 * ------------------------------------------------------------------- */

static void test_pushk_nop_halt(void **state)
{
    (void)state;
    const hk k[] = {KD(-7, 3)};
    const q_instr code[] = {I(NOP, 0, 0), I(PUSHK, 0, 0), I(NOP, 0, 0), I(HALT, 0, 0)};
    q_val v;
    assert_int_equal(eval(code, k, NULL, &v), VM_OK);
    assert_val(v, -7, 3);
}

static void test_pop(void **state)
{
    (void)state;
    const hk k[] = {KI(1), KI(2)};
    const q_instr code[] = {I(PUSHK, 0, 0), I(PUSHK, 0, 1), I(POP, 0, 0), I(HALT, 0, 0)};
    q_val v;
    assert_int_equal(eval(code, k, NULL, &v), VM_OK);
    assert_val(v, 1, 1);
}

static void test_loadf(void **state)
{
    (void)state;
    const hk k[] = {KI(0)};
    const q_instr code[] = {I(LOADF, S_B, 0), I(HALT, 0, 0)};
    hand_rec h;
    hand_rec_init(&h);
    h.slots[S_B] = q_int(42);
    q_val v;
    assert_int_equal(eval(code, k, &h, &v), VM_OK);
    assert_val(v, 42, 1);
}

static void test_loadf_absent(void **state)
{
    (void)state;
    const hk k[] = {KI(0)};
    const q_instr code[] = {I(PUSHK, 0, 0), I(POP, 0, 0), I(LOADF, S_C, 0), I(HALT, 0, 0)};
    q_program *p = hand_program(HP_CHECK, code, k);
    hand_rec h;
    hand_rec_init(&h);
    q_val v;
    assert_int_equal(vm_eval(p, NULL, 0, &h.r, &v), VM_ABSENT);
    prog_free(p);

    /* in a rate block: the result names the slot and the instruction, in both modes */
    const q_instr rate[] = {I(LOADF, S_C, 0), I(POP, 0, 0), I(HALT, 0, 0)};
    p = hand_program(HP_RATE, rate, k);
    vm_result r;
    assert_int_equal(vm_rate(p, NULL, &h.r, &r, NULL), VM_ABSENT);
    assert_int_equal(r.error, VM_ABSENT);
    assert_int_equal(r.error_slot, S_C);
    assert_int_equal(r.error_pc, 0);
    vm_event ev[8];
    vm_trace t = {ev, 8, 0, false};
    memset(&r, 0, sizeof r);
    assert_int_equal(vm_rate(p, NULL, &h.r, &r, &t), VM_ABSENT);
    assert_int_equal(r.error_slot, S_C);
    assert_int_equal(r.error_pc, 0);
    /* present: fine */
    h.present[S_C] = 1;
    h.slots[S_C] = q_int(3);
    assert_int_equal(vm_rate(p, NULL, &h.r, &r, NULL), VM_OK);
    prog_free(p);
}

static void test_present(void **state)
{
    (void)state;
    const hk k[] = {KI(0)};
    const q_instr code[] = {I(PRESENT, S_C, 0), I(HALT, 0, 0)};
    hand_rec h;
    hand_rec_init(&h);
    q_val v;
    assert_int_equal(eval(code, k, &h, &v), VM_OK);
    assert_val(v, 0, 1);
    h.present[S_C] = 1;
    assert_int_equal(eval(code, k, &h, &v), VM_OK);
    assert_val(v, 1, 1);
}

static void test_ifabsent_in_check(void **state)
{
    (void)state;
    /* a check reading an absent optional field does not apply: true */
    const hk k[] = {KB(1), KI(5)};
    const q_instr code[] = {I(IFABSENT, S_C, 5), I(LOADF, S_C, 0), I(PUSHK, 0, 1), I(GT, 0, 0), I(HALT, 0, 0),
                            I(PUSHK, 0, 0), I(HALT, 0, 0)};
    hand_rec h;
    hand_rec_init(&h);
    q_val v;
    assert_int_equal(eval(code, k, &h, &v), VM_OK);
    assert_val(v, 1, 1);
    h.present[S_C] = 1;
    h.slots[S_C] = q_int(4);
    assert_int_equal(eval(code, k, &h, &v), VM_OK);
    assert_val(v, 0, 1);
    h.slots[S_C] = q_int(6);
    assert_int_equal(eval(code, k, &h, &v), VM_OK);
    assert_val(v, 1, 1);
}

/* ---------------------------------------------------------------------
 * Arithmetic
 * ------------------------------------------------------------------- */

static void test_add_sub_mul_div(void **state)
{
    (void)state;
    assert_val(binop_ok(OP_ADD, (hk)KD(1, 10), (hk)KD(2, 10)), 3, 10);
    assert_val(binop_ok(OP_ADD, (hk)KI(2), (hk)KD(1, 2)), 5, 2);
    assert_val(binop_ok(OP_SUB, (hk)KI(5), (hk)KI(7)), -2, 1);
    assert_val(binop_ok(OP_SUB, (hk)KD(3, 10), (hk)KD(1, 10)), 1, 5);
    assert_val(binop_ok(OP_MUL, (hk)KD(2, 3), (hk)KD(3, 4)), 1, 2);
    assert_val(binop_ok(OP_MUL, (hk)KI(-4), (hk)KI(6)), -24, 1);
    assert_val(binop_ok(OP_DIV, (hk)KI(1), (hk)KI(3)), 1, 3);
    assert_val(binop_ok(OP_DIV, (hk)KI(6), (hk)KD(-3, 2)), -4, 1);
}

static void test_div_by_zero(void **state)
{
    (void)state;
    int rc;
    binop(OP_DIV, (hk)KI(1), (hk)KI(0), &rc);
    assert_int_equal(rc, VM_DIV_ZERO);
    binop(OP_DIV, (hk)KI(0), (hk)KI(0), &rc);
    assert_int_equal(rc, VM_DIV_ZERO);
    /* in a rate block, error_pc is the DIV */
    const hk k[] = {KI(1), KI(0)};
    const q_instr code[] = {I(PUSHK, 0, 0), I(LOADF, S_A, 0), I(DIV, 0, 0), I(POP, 0, 0), I(HALT, 0, 0)};
    q_program *p = hand_program(HP_RATE, code, k);
    hand_rec h;
    hand_rec_init(&h);
    h.slots[S_A] = q_int(0);
    vm_result r;
    assert_int_equal(vm_rate(p, NULL, &h.r, &r, NULL), VM_DIV_ZERO);
    assert_int_equal(r.error_pc, 2);
    vm_event ev[8];
    vm_trace t = {ev, 8, 0, false};
    assert_int_equal(vm_rate(p, NULL, &h.r, &r, &t), VM_DIV_ZERO);
    assert_int_equal(r.error_pc, 2);
    prog_free(p);
}

static void test_overflow(void **state)
{
    (void)state;
    int rc;
    binop(OP_ADD, (hk)KI(INT64_MAX), (hk)KI(1), &rc);
    assert_int_equal(rc, VM_OVERFLOW);
    binop(OP_SUB, (hk)KI(INT64_MIN), (hk)KI(1), &rc);
    assert_int_equal(rc, VM_OVERFLOW);
    binop(OP_MUL, (hk)KI(INT64_MAX / 2 + 1), (hk)KI(2), &rc);
    assert_int_equal(rc, VM_OVERFLOW);
    binop(OP_DIV, (hk)KI(INT64_MAX), (hk)KD(1, 2), &rc);
    assert_int_equal(rc, VM_OVERFLOW);
    /* denominators that do not fit */
    binop(OP_ADD, (hk)KD(1, INT64_MAX), (hk)KD(1, INT64_MAX - 1), &rc);
    assert_int_equal(rc, VM_OVERFLOW);
    /* the edges that fit */
    assert_val(binop_ok(OP_ADD, (hk)KI(INT64_MAX - 1), (hk)KI(1)), INT64_MAX, 1);
    assert_val(binop_ok(OP_SUB, (hk)KI(INT64_MIN + 1), (hk)KI(1)), INT64_MIN, 1);
}

static void test_neg(void **state)
{
    (void)state;
    const hk k[] = {KD(3, 4)};
    const q_instr code[] = {I(PUSHK, 0, 0), I(NEG, 0, 0), I(HALT, 0, 0)};
    q_val v;
    assert_int_equal(eval(code, k, NULL, &v), VM_OK);
    assert_val(v, -3, 4);
    const hk kmin[] = {KI(INT64_MIN)};
    assert_int_equal(eval(code, kmin, NULL, &v), VM_OVERFLOW);
    const hk kmax[] = {KI(INT64_MAX)};
    assert_int_equal(eval(code, kmax, NULL, &v), VM_OK);
    assert_val(v, -INT64_MAX, 1);
}

static void test_share(void **state)
{
    (void)state;
    assert_val(binop_ok(OP_SHARE, (hk)KI(1), (hk)KI(2)), 1, 2);
    assert_val(binop_ok(OP_SHARE, (hk)KI(7), (hk)KI(10)), 7, 10);
    assert_val(binop_ok(OP_SHARE, (hk)KI(4), (hk)KI(6)), 2, 3);
    /* share(x, 0) = 0, not an error */
    assert_val(binop_ok(OP_SHARE, (hk)KI(5), (hk)KI(0)), 0, 1);
    assert_val(binop_ok(OP_SHARE, (hk)KI(0), (hk)KI(0)), 0, 1);
    int rc;
    binop(OP_SHARE, (hk)KI(INT64_MAX), (hk)KD(1, 3), &rc);
    assert_int_equal(rc, VM_OVERFLOW);
}

/* ---------------------------------------------------------------------
 * Comparisons, strings, logic, jumps
 * ------------------------------------------------------------------- */

static void test_compare_ops(void **state)
{
    (void)state;
    static const uint8_t ops[6] = {OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE};
    static const struct {
        hk x, y;
        int cmp; /* -1, 0, 1 */
    } cases[] = {
        {KI(1), KI(2), -1},
        {KI(2), KI(2), 0},
        {KI(3), KI(2), 1},
        {KI(-5), KI(3), -1},
        {KD(1, 3), KD(33, 100), 1},   /* 1/3 > 0.33: cross-multiplied */
        {KD(2, 3), KD(6667, 10000), -1}, /* 2/3 < 66.67% */
        {KD(1, 2), KD(5, 10), 0},     /* unreduced equal */
        {KD(8999, 100), KI(90), -1},  /* 89.99 < 90 */
        {KD(INT64_MAX, 3), KD(INT64_MAX - 1, 3), 1}, /* 128-bit products */
        {KI(INT64_MIN), KI(INT64_MAX), -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int c = cases[i].cmp;
        const bool want[6] = {c == 0, c != 0, c < 0, c <= 0, c > 0, c >= 0};
        for (int o = 0; o < 6; o++) {
            q_val v = binop_ok(ops[o], cases[i].x, cases[i].y);
            if (v.n != want[o]) print_error("case %zu, %s: got %lld\n", i, op_table[ops[o]].name, (long long)v.n);
            assert_val(v, want[o], 1);
        }
    }
}

static void test_streq_strne(void **state)
{
    (void)state;
    const hk k[] = {KS(ST_ABC), KS(ST_ABD), KS(ST_AB)};
    hand_rec h;
    hand_rec_init(&h);
    q_val v;
    for (uint32_t i = 0; i < 3; i++) {
        /* the record's bytes (not the pool's) against each constant */
        const q_instr eq[] = {I(LOADF, S_S, 0), I(PUSHK, 0, i), I(STREQ, 0, 0), I(HALT, 0, 0)};
        const q_instr ne[] = {I(LOADF, S_S, 0), I(PUSHK, 0, i), I(STRNE, 0, 0), I(HALT, 0, 0)};
        assert_int_equal(eval(eq, k, &h, &v), VM_OK);
        assert_val(v, i == 0, 1);
        assert_int_equal(eval(ne, k, &h, &v), VM_OK);
        assert_val(v, i != 0, 1);
    }
    /* "ab" is a prefix of "abc": not equal either way round */
    const q_instr pre[] = {I(PUSHK, 0, 2), I(LOADF, S_S, 0), I(STREQ, 0, 0), I(HALT, 0, 0)};
    assert_int_equal(eval(pre, k, &h, &v), VM_OK);
    assert_val(v, 0, 1);
    /* empty strings are equal */
    h.slots[S_S] = q_str(REC_ABC, 0);
    const hk ke[] = {{{0, 0}, QT_STRING}};
    const q_instr e[] = {I(LOADF, S_S, 0), I(PUSHK, 0, 0), I(STREQ, 0, 0), I(HALT, 0, 0)};
    assert_int_equal(eval(e, ke, &h, &v), VM_OK);
    assert_val(v, 1, 1);
}

static void test_not(void **state)
{
    (void)state;
    const hk k[] = {KB(1), KB(0)};
    const q_instr c1[] = {I(PUSHK, 0, 0), I(NOT, 0, 0), I(HALT, 0, 0)};
    const q_instr c2[] = {I(PUSHK, 0, 1), I(NOT, 0, 0), I(HALT, 0, 0)};
    const q_instr c3[] = {I(PUSHK, 0, 1), I(NOT, 0, 0), I(NOT, 0, 0), I(HALT, 0, 0)};
    q_val v;
    assert_int_equal(eval(c1, k, NULL, &v), VM_OK);
    assert_val(v, 0, 1);
    assert_int_equal(eval(c2, k, NULL, &v), VM_OK);
    assert_val(v, 1, 1);
    assert_int_equal(eval(c3, k, NULL, &v), VM_OK);
    assert_val(v, 0, 1);
}

static void test_jmp(void **state)
{
    (void)state;
    const hk k[] = {KI(1)};
    const q_instr code[] = {I(PUSHK, 0, 0), I(JMP, 0, 3), I(NEG, 0, 0), I(HALT, 0, 0)};
    q_val v;
    assert_int_equal(eval(code, k, NULL, &v), VM_OK);
    assert_val(v, 1, 1);
}

/* `x and LOADF c` / `x or LOADF c`: the right side reads an absent field,
 * so it must not run when the left side decides. */
static void test_jfkeep_jtkeep(void **state)
{
    (void)state;
    const hk k[] = {KB(0), KB(1)};
    hand_rec h;
    hand_rec_init(&h);
    q_val v;
    for (uint32_t x = 0; x < 2; x++) {
        const q_instr and_[] = {I(PUSHK, 0, x), I(JFKEEP, 0, 4), I(LOADF, S_C, 0), I(NOT, 0, 0), I(HALT, 0, 0)};
        const q_instr or_[] = {I(PUSHK, 0, x), I(JTKEEP, 0, 4), I(LOADF, S_C, 0), I(NOT, 0, 0), I(HALT, 0, 0)};
        int rc = eval(and_, k, &h, &v);
        if (x == 0) {
            assert_int_equal(rc, VM_OK); /* false and ... = false, right side not run */
            assert_val(v, 0, 1);
        } else {
            assert_int_equal(rc, VM_ABSENT); /* true and ...: the right side runs */
        }
        rc = eval(or_, k, &h, &v);
        if (x == 1) {
            assert_int_equal(rc, VM_OK);
            assert_val(v, 1, 1);
        } else {
            assert_int_equal(rc, VM_ABSENT);
        }
    }
    /* the right side's value is the result when the left does not decide */
    h.present[S_C] = 1;
    h.slots[S_C] = q_int(0); /* NOT 0 = true */
    for (uint32_t x = 0; x < 2; x++) {
        const q_instr and_[] = {I(PUSHK, 0, x), I(JFKEEP, 0, 4), I(LOADF, S_C, 0), I(NOT, 0, 0), I(HALT, 0, 0)};
        const q_instr or_[] = {I(PUSHK, 0, x), I(JTKEEP, 0, 4), I(LOADF, S_C, 0), I(NOT, 0, 0), I(HALT, 0, 0)};
        assert_int_equal(eval(and_, k, &h, &v), VM_OK);
        assert_val(v, x ? 1 : 0, 1);
        assert_int_equal(eval(or_, k, &h, &v), VM_OK);
        assert_val(v, 1, 1);
    }
}

/* ---------------------------------------------------------------------
 * Quantifiers and LEN
 * ------------------------------------------------------------------- */

/* `Q xs where 12 / it > 2` (sum/min/max: `sum xs of 12 / it`; longest run:
 * `longest run of xs where 12 / it > 2`): an element 0 makes the body fail
 * with DIV_ZERO, which shows whether it was evaluated. */
static int quant(uint8_t kind, const int64_t *xs, uint32_t n, q_val *out)
{
    const hk k[] = {KI(12), KI(2)};
    hand_rec h;
    hand_rec_init(&h);
    hand_rec_xs(&h, xs, n);
    if (kind == QK_SUM || kind == QK_MIN || kind == QK_MAX) {
        const q_instr code[] = {IC(QBEGIN, 0, S_XS, kind), I(QNEXT, 0, 6), I(PUSHK, 0, 0), I(ELEM, 0, 0),
                                I(DIV, 0, 0), I(QSTEP, 0, 1), I(QEND, 0, 0), I(HALT, 0, 0)};
        return eval(code, k, &h, out);
    }
    const q_instr code[] = {IC(QBEGIN, 0, S_XS, kind), I(QNEXT, 0, 8), I(PUSHK, 0, 0), I(ELEM, 0, 0), I(DIV, 0, 0),
                            I(PUSHK, 0, 1), I(GT, 0, 0), I(QSTEP, 0, 1), I(QEND, 0, 0), I(HALT, 0, 0)};
    return eval(code, k, &h, out);
}

static void test_quantifiers(void **state)
{
    (void)state;
    q_val v;
    const int64_t small[] = {1, 2, 3};     /* 12, 6, 4: all > 2 */
    const int64_t mixed[] = {1, 6, 12};    /* 12, 2, 1: one > 2 */
    const int64_t big[] = {6, 12};         /* 2, 1: none > 2 */
    assert_int_equal(quant(QK_ALL, small, 3, &v), VM_OK);
    assert_val(v, 1, 1);
    assert_int_equal(quant(QK_ALL, mixed, 3, &v), VM_OK);
    assert_val(v, 0, 1);
    assert_int_equal(quant(QK_ANY, mixed, 3, &v), VM_OK);
    assert_val(v, 1, 1);
    assert_int_equal(quant(QK_ANY, big, 2, &v), VM_OK);
    assert_val(v, 0, 1);
    assert_int_equal(quant(QK_NONE, big, 2, &v), VM_OK);
    assert_val(v, 1, 1);
    assert_int_equal(quant(QK_NONE, mixed, 3, &v), VM_OK);
    assert_val(v, 0, 1);
    assert_int_equal(quant(QK_COUNT, small, 3, &v), VM_OK);
    assert_val(v, 3, 1);
    assert_int_equal(quant(QK_COUNT, mixed, 3, &v), VM_OK);
    assert_val(v, 1, 1);
    assert_int_equal(quant(QK_COUNT, big, 2, &v), VM_OK);
    assert_val(v, 0, 1);
    assert_int_equal(quant(QK_SUM, small, 3, &v), VM_OK); /* 12 + 6 + 4 */
    assert_val(v, 22, 1);
    const int64_t thirds[] = {36, 24};                    /* 1/3 + 1/2 */
    assert_int_equal(quant(QK_SUM, thirds, 2, &v), VM_OK);
    assert_val(v, 5, 6);
}

static void test_quantifiers_empty(void **state)
{
    (void)state;
    q_val v;
    assert_int_equal(quant(QK_ALL, NULL, 0, &v), VM_OK);
    assert_val(v, 1, 1);
    assert_int_equal(quant(QK_ANY, NULL, 0, &v), VM_OK);
    assert_val(v, 0, 1);
    assert_int_equal(quant(QK_NONE, NULL, 0, &v), VM_OK);
    assert_val(v, 1, 1);
    assert_int_equal(quant(QK_COUNT, NULL, 0, &v), VM_OK);
    assert_val(v, 0, 1);
    assert_int_equal(quant(QK_SUM, NULL, 0, &v), VM_OK);
    assert_val(v, 0, 1);
}

static void test_quantifiers_early_exit(void **state)
{
    (void)state;
    q_val v;
    /* all: the first false decides; the 0 after it is never divided by */
    const int64_t all_stop[] = {12, 0};
    assert_int_equal(quant(QK_ALL, all_stop, 2, &v), VM_OK);
    assert_val(v, 0, 1);
    /* any / none: the first true decides */
    const int64_t any_stop[] = {1, 0};
    assert_int_equal(quant(QK_ANY, any_stop, 2, &v), VM_OK);
    assert_val(v, 1, 1);
    assert_int_equal(quant(QK_NONE, any_stop, 2, &v), VM_OK);
    assert_val(v, 0, 1);
    /* count and sum look at every element; so do all/any/none when
     * nothing decides early */
    assert_int_equal(quant(QK_COUNT, any_stop, 2, &v), VM_DIV_ZERO);
    assert_int_equal(quant(QK_SUM, any_stop, 2, &v), VM_DIV_ZERO);
    const int64_t all_go[] = {1, 0};
    assert_int_equal(quant(QK_ALL, all_go, 2, &v), VM_DIV_ZERO);
    const int64_t any_go[] = {12, 0};
    assert_int_equal(quant(QK_ANY, any_go, 2, &v), VM_DIV_ZERO);
    assert_int_equal(quant(QK_NONE, any_go, 2, &v), VM_DIV_ZERO);
}

static void test_quantifier_sum_overflow(void **state)
{
    (void)state;
    const hk k[] = {KI(0)};
    const q_instr code[] = {IC(QBEGIN, 0, S_XS, QK_SUM), I(QNEXT, 0, 4), I(ELEM, 0, 0), I(QSTEP, 0, 1),
                            I(QEND, 0, 0), I(HALT, 0, 0)};
    hand_rec h;
    hand_rec_init(&h);
    const int64_t xs[] = {INT64_MAX, 1};
    hand_rec_xs(&h, xs, 2);
    q_val v;
    assert_int_equal(eval(code, k, &h, &v), VM_OVERFLOW);
    const int64_t ok[] = {INT64_MAX - 1, 1};
    hand_rec_init(&h);
    hand_rec_xs(&h, ok, 2);
    assert_int_equal(eval(code, k, &h, &v), VM_OK);
    assert_val(v, INT64_MAX, 1);
}

static void test_quantifiers_min_max_run(void **state)
{
    (void)state;
    q_val v;
    const int64_t small[] = {1, 2, 3};  /* 12, 6, 4 */
    const int64_t thirds[] = {36, 24};  /* 1/3, 1/2 */
    const int64_t neg[] = {-3, 6, -12}; /* -4, 2, -1 */
    assert_int_equal(quant(QK_MIN, small, 3, &v), VM_OK);
    assert_val(v, 4, 1);
    assert_int_equal(quant(QK_MAX, small, 3, &v), VM_OK);
    assert_val(v, 12, 1);
    assert_int_equal(quant(QK_MIN, thirds, 2, &v), VM_OK); /* exact: 1/3 < 1/2 */
    assert_val(v, 1, 3);
    assert_int_equal(quant(QK_MAX, thirds, 2, &v), VM_OK);
    assert_val(v, 1, 2);
    assert_int_equal(quant(QK_MIN, neg, 3, &v), VM_OK);
    assert_val(v, -4, 1);
    assert_int_equal(quant(QK_MAX, neg, 3, &v), VM_OK);
    assert_val(v, 2, 1);
    /* longest run of `12 / it > 2`: T F T T F T T T -> 3 */
    const int64_t runs[] = {1, 12, 2, 3, 12, 1, 1, 1};
    assert_int_equal(quant(QK_RUN, runs, 8, &v), VM_OK);
    assert_val(v, 3, 1);
    const int64_t mixed[] = {1, 6, 12}; /* T F F */
    assert_int_equal(quant(QK_RUN, mixed, 3, &v), VM_OK);
    assert_val(v, 1, 1);
    assert_int_equal(quant(QK_RUN, small, 3, &v), VM_OK);
    assert_val(v, 3, 1);
    const int64_t big[] = {6, 12}; /* F F */
    assert_int_equal(quant(QK_RUN, big, 2, &v), VM_OK);
    assert_val(v, 0, 1);
    /* the run at the end counts, and a later shorter run does not replace it */
    const int64_t tail[] = {12, 1, 1, 12, 1};
    assert_int_equal(quant(QK_RUN, tail, 5, &v), VM_OK);
    assert_val(v, 2, 1);
    /* no element: min/max are an error, the longest run is 0 */
    assert_int_equal(quant(QK_MIN, NULL, 0, &v), VM_EMPTY);
    assert_int_equal(quant(QK_MAX, NULL, 0, &v), VM_EMPTY);
    assert_int_equal(quant(QK_RUN, NULL, 0, &v), VM_OK);
    assert_val(v, 0, 1);
    /* none of them stops early */
    const int64_t stop[] = {1, 0};
    assert_int_equal(quant(QK_MIN, stop, 2, &v), VM_DIV_ZERO);
    assert_int_equal(quant(QK_MAX, stop, 2, &v), VM_DIV_ZERO);
    assert_int_equal(quant(QK_RUN, stop, 2, &v), VM_DIV_ZERO);
}

/* `Q xs of it where it > 2`: QFILTER skips the elements failing the filter */
static int filtered(uint8_t kind, const int64_t *xs, uint32_t n, q_val *out)
{
    const hk k[] = {KI(2)};
    hand_rec h;
    hand_rec_init(&h);
    hand_rec_xs(&h, xs, n);
    const q_instr code[] = {IC(QBEGIN, 0, S_XS, kind), I(QNEXT, 0, 8), I(ELEM, 0, 0),   I(PUSHK, 0, 0), I(GT, 0, 0),
                            I(QFILTER, 0, 1),          I(ELEM, 0, 0),  I(QSTEP, 0, 1), I(QEND, 0, 0),  I(HALT, 0, 0)};
    return eval(code, k, &h, out);
}

static void test_qfilter(void **state)
{
    (void)state;
    q_val v;
    const int64_t xs[] = {1, 5, 3, 2, 7};
    assert_int_equal(filtered(QK_SUM, xs, 5, &v), VM_OK);
    assert_val(v, 15, 1);
    assert_int_equal(filtered(QK_MIN, xs, 5, &v), VM_OK);
    assert_val(v, 3, 1);
    assert_int_equal(filtered(QK_MAX, xs, 5, &v), VM_OK);
    assert_val(v, 7, 1);
    assert_int_equal(filtered(QK_COUNT, xs, 5, &v), VM_OK); /* count folds the body: all of 5, 3, 7 are nonzero */
    assert_val(v, 3, 1);
    /* nothing passes: the sum is 0, min/max have no element */
    const int64_t low[] = {1, 2, 0};
    assert_int_equal(filtered(QK_SUM, low, 3, &v), VM_OK);
    assert_val(v, 0, 1);
    assert_int_equal(filtered(QK_MIN, low, 3, &v), VM_EMPTY);
    assert_int_equal(filtered(QK_MAX, low, 3, &v), VM_EMPTY);
    /* the last element skipped: the loop still ends */
    const int64_t last[] = {9, 1};
    assert_int_equal(filtered(QK_MAX, last, 2, &v), VM_OK);
    assert_val(v, 9, 1);
}

static void test_verify_qfilter_and_qend(void **state)
{
    (void)state;
    const hk k[] = {KI(2)};
    char why[256];
    /* QFILTER must go back to its own loop's QNEXT */
    const q_instr fwd[] = {IC(QBEGIN, 0, S_XS, QK_SUM), I(QNEXT, 0, 6), I(ELEM, 0, 0), I(QFILTER, 0, 4),
                           I(ELEM, 0, 0),               I(QSTEP, 0, 1), I(QEND, 0, 0), I(HALT, 0, 0)};
    q_program *p = hand_program_(HP_CHECK, fwd, 8, k, 1, false);
    assert_false(bc_verify(p, why, sizeof why));
    assert_non_null(strstr(why, "(QFILTER): target 4 is not the QNEXT heading loop register 0"));
    prog_free(p);
    /* ... and is only meaningful inside a loop */
    const q_instr out[] = {I(PUSHK, 0, 0), I(QFILTER, 0, 0), I(PUSHK, 0, 0), I(HALT, 0, 0)};
    p = hand_program_(HP_CHECK, out, 4, k, 1, false);
    assert_false(bc_verify(p, why, sizeof why));
    assert_non_null(strstr(why, "(QFILTER): loop register 0 is not active"));
    prog_free(p);
    /* QEND's result type is an index into the types */
    const q_instr qend[] = {IC(QBEGIN, 0, S_XS, QK_MIN), I(QNEXT, 0, 4), I(ELEM, 0, 0), I(QSTEP, 0, 1),
                            I(QEND, 0, 99),              I(HALT, 0, 0)};
    p = hand_program_(HP_CHECK, qend, 6, k, 1, false);
    assert_false(bc_verify(p, why, sizeof why));
    assert_non_null(strstr(why, "(QEND): result type 99 out of range"));
    prog_free(p);
    /* an unknown quantifier kind */
    const q_instr kind[] = {IC(QBEGIN, 0, S_XS, QK__LAST + 1), I(QNEXT, 0, 4), I(ELEM, 0, 0), I(QSTEP, 0, 1),
                            I(QEND, 0, 0),                     I(HALT, 0, 0)};
    p = hand_program_(HP_CHECK, kind, 6, k, 1, false);
    assert_false(bc_verify(p, why, sizeof why));
    assert_non_null(strstr(why, "unknown quantifier kind 8"));
    prog_free(p);
}

static void test_elemf_struct_list(void **state)
{
    (void)state;
    const hk k[] = {KI(0)};
    /* count items where ok */
    const q_instr cnt[] = {IC(QBEGIN, 0, S_ITEMS, QK_COUNT), I(QNEXT, 0, 4), I(ELEMF, 0, 1), I(QSTEP, 0, 1),
                           I(QEND, 0, 0), I(HALT, 0, 0)};
    /* sum items of v */
    const q_instr sum[] = {IC(QBEGIN, 0, S_ITEMS, QK_SUM), I(QNEXT, 0, 4), I(ELEMF, 0, 0), I(QSTEP, 0, 1),
                           I(QEND, 0, 0), I(HALT, 0, 0)};
    hand_rec h;
    hand_rec_init(&h);
    const int64_t xs[] = {100, 200}; /* elements before the struct list: base != 0 */
    hand_rec_xs(&h, xs, 2);
    const int64_t items[][2] = {{5, 1}, {7, 0}, {11, 1}};
    hand_rec_items(&h, items, 3);
    q_val v;
    assert_int_equal(eval(cnt, k, &h, &v), VM_OK);
    assert_val(v, 2, 1);
    assert_int_equal(eval(sum, k, &h, &v), VM_OK);
    assert_val(v, 23, 1);
}

static void test_nested_quantifiers(void **state)
{
    (void)state;
    /* any items where (all xs where it < v) */
    const hk k[] = {KI(0)};
    const q_instr code[] = {
        IC(QBEGIN, 0, S_ITEMS, QK_ANY), /* 0 */
        I(QNEXT, 0, 11),                /* 1 */
        IC(QBEGIN, 1, S_XS, QK_ALL),    /* 2 */
        I(QNEXT, 1, 8),                 /* 3 */
        I(ELEM, 1, 0),                  /* 4 */
        I(ELEMF, 0, 0),                 /* 5 */
        I(LT, 0, 0),                    /* 6 */
        I(QSTEP, 1, 3),                 /* 7 */
        I(QEND, 1, 0),                  /* 8 */
        I(QSTEP, 0, 1),                 /* 9 */
        I(NOP, 0, 0),                   /* 10 (unreached) */
        I(QEND, 0, 0),                  /* 11 */
        I(HALT, 0, 0),                  /* 12 */
    };
    hand_rec h;
    hand_rec_init(&h);
    const int64_t xs[] = {3, 9};
    hand_rec_xs(&h, xs, 2);
    const int64_t lo[][2] = {{5, 1}, {9, 1}};
    hand_rec_items(&h, lo, 2);
    q_val v;
    assert_int_equal(eval(code, k, &h, &v), VM_OK);
    assert_val(v, 0, 1); /* 9 < 9 is false */
    hand_rec_init(&h);
    hand_rec_xs(&h, xs, 2);
    const int64_t hi[][2] = {{5, 1}, {10, 0}};
    hand_rec_items(&h, hi, 2);
    assert_int_equal(eval(code, k, &h, &v), VM_OK);
    assert_val(v, 1, 1);
}

static void test_qbegin_absent_and_bad_list(void **state)
{
    (void)state;
    const hk k[] = {KI(0)};
    const q_instr code[] = {IC(QBEGIN, 0, S_XS, QK_COUNT), I(QNEXT, 0, 4), I(ELEM, 0, 0), I(QSTEP, 0, 1),
                            I(QEND, 0, 0), I(POP, 0, 0), I(HALT, 0, 0)};
    q_program *p = hand_program(HP_RATE, code, k);
    hand_rec h;
    hand_rec_init(&h);
    h.present[S_XS] = 0;
    vm_result r;
    assert_int_equal(vm_rate(p, NULL, &h.r, &r, NULL), VM_ABSENT);
    assert_int_equal(r.error_slot, S_XS);
    assert_int_equal(r.error_pc, 0);
    /* a list value pointing past the record's elements: a bad program state, not a crash */
    h.present[S_XS] = 1;
    h.slots[S_XS] = (q_val){0, 100};
    assert_int_equal(vm_rate(p, NULL, &h.r, &r, NULL), VM_BAD_PROGRAM);
    vm_event ev[8];
    vm_trace t = {ev, 8, 0, false};
    assert_int_equal(vm_rate(p, NULL, &h.r, &r, &t), VM_BAD_PROGRAM);
    prog_free(p);
}

static void test_len(void **state)
{
    (void)state;
    const hk k[] = {KI(0)};
    const q_instr xs[] = {I(LEN, S_XS, 0), I(HALT, 0, 0)};
    const q_instr items[] = {I(LEN, S_ITEMS, 0), I(HALT, 0, 0)};
    hand_rec h;
    hand_rec_init(&h);
    q_val v;
    assert_int_equal(eval(xs, k, &h, &v), VM_OK);
    assert_val(v, 0, 1);
    const int64_t three[] = {1, 2, 3};
    hand_rec_xs(&h, three, 3);
    const int64_t it[][2] = {{1, 1}, {2, 0}};
    hand_rec_items(&h, it, 2);
    assert_int_equal(eval(xs, k, &h, &v), VM_OK);
    assert_val(v, 3, 1);
    assert_int_equal(eval(items, k, &h, &v), VM_OK);
    assert_val(v, 2, 1); /* elements, not values */
    h.present[S_XS] = 0;
    assert_int_equal(eval(xs, k, &h, &v), VM_ABSENT);
}

static void test_exc_in_check(void **state)
{
    (void)state;
    const hk k[] = {KB(1), KB(0)};
    const q_instr c1[] = {I(PUSHK, 0, 0), I(EXC, 0, 0), I(HALT, 0, 0)};
    const q_instr c0[] = {I(PUSHK, 0, 1), I(EXC, 1, 0), I(HALT, 0, 0)};
    q_val v;
    assert_int_equal(eval(c1, k, NULL, &v), VM_OK);
    assert_val(v, 0, 1);
    assert_int_equal(eval(c0, k, NULL, &v), VM_OK);
    assert_val(v, 1, 1);
}

static void test_callhook(void **state)
{
    (void)state;
    const hk k[] = {KI(0)};
    const q_instr code[] = {I(PUSHK, 0, 0), I(POP, 0, 0), I(CALLHOOK, 0, 0), I(HALT, 0, 0)};
    /* a program without hooks: the verifier rejects the call, and the VM
     * (run unverified) fails the record instead of crashing; real hooks
     * are tested in test_hook.c */
    q_program *p = hand_program_(HP_CHECK, code, 4, k, 1, false);
    char why[256];
    assert_false(bc_verify(p, why, sizeof why));
    assert_non_null(strstr(why, "hook 0 out of range (nhooks 0)"));
    hand_rec h;
    hand_rec_init(&h);
    q_val v;
    assert_int_equal(vm_eval(p, NULL, 0, &h.r, &v), VM_HOOK);
    prog_free(p);
    p = hand_program_(HP_RATE, code, 4, k, 1, false);
    vm_result r;
    assert_int_equal(vm_rate(p, NULL, &h.r, &r, NULL), VM_HOOK); /* no hook session */
    assert_non_null(strstr(r.error_text, "no hook session"));
    hook_session *hs = hook_session_new(p, NULL);
    assert_int_equal(vm_rate(p, hs, &h.r, &r, NULL), VM_HOOK);
    assert_int_equal(r.error, VM_HOOK);
    assert_int_equal(r.error_pc, 2);
    assert_non_null(r.error_text);
    assert_non_null(strstr(r.error_text, "no such hook"));
    vm_event ev[4];
    vm_trace t = {ev, 4, 0, false};
    assert_int_equal(vm_rate(p, hs, &h.r, &r, &t), VM_HOOK);
    hook_session_free(hs);
    prog_free(p);
}

/* ---------------------------------------------------------------------
 * Rate blocks: CLAUSE, IFABSENT (c = 0 / 1), EXC, DECIDE, FLAG, HALT
 *
 *   r0: htxsnv when c > 5 if present      (clause 0; IFABSENT mode `mode`)
 *                and a > 0 unless b > 5   (clause 1)
 *   otherwise htnv flag gap               (flag 1)
 *   flag f0 when b > 0                    (flag 0)
 * ------------------------------------------------------------------- */

static q_program *std_program(uint8_t mode)
{
    static const hk k[] = {KI(5), KI(0)};
    const q_instr code[] = {
        IC(IFABSENT, S_C, 5, mode), /* 0 */
        I(LOADF, S_C, 0),           /* 1 */
        I(PUSHK, 0, 0),             /* 2 */
        I(GT, 0, 0),                /* 3 */
        I(CLAUSE, 0, 15),           /* 4 */
        I(LOADF, S_A, 0),           /* 5 */
        I(PUSHK, 0, 1),             /* 6 */
        I(GT, 0, 0),                /* 7 */
        I(JFKEEP, 0, 13),           /* 8 */
        I(LOADF, S_B, 0),           /* 9 */
        I(PUSHK, 0, 0),             /* 10 */
        I(GT, 0, 0),                /* 11 */
        I(EXC, 1, 0),               /* 12 */
        I(CLAUSE, 1, 15),           /* 13 */
        I(DECIDE, 0, 16),           /* 14 */
        I(DECIDE, 1, 16),           /* 15 */
        I(LOADF, S_B, 0),           /* 16 */
        I(PUSHK, 0, 1),             /* 17 */
        I(GT, 0, 0),                /* 18 */
        I(FLAG, 0, 0),              /* 19 */
        I(HALT, 0, 0),              /* 20 */
    };
    return hand_program(HP_RATE, code, k);
}

/* a, b, c (c < 0: absent) */
static void std_rec(hand_rec *h, int64_t a, int64_t b, int64_t c)
{
    hand_rec_init(h);
    h->slots[S_A] = q_int(a);
    h->slots[S_B] = q_int(b);
    if (c >= 0) {
        h->present[S_C] = 1;
        h->slots[S_C] = q_int(c);
    }
}

/* Rate in both modes, assert they agree, return the outcome. */
static int rate_both(const q_program *p, const hand_rec *h, vm_result *fast, vm_trace *t)
{
    vm_result tr;
    assert_int_equal(vm_rate(p, NULL, &h->r, fast, NULL), VM_OK);
    t->n = 0;
    t->truncated = false;
    assert_int_equal(vm_rate(p, NULL, &h->r, &tr, t), VM_OK);
    assert_int_equal(fast->outcome, tr.outcome);
    assert_int_equal(fast->rule, tr.rule);
    assert_int_equal(fast->nflags, tr.nflags);
    for (uint16_t i = 0; i < fast->nflags; i++) assert_int_equal(fast->flags[i], tr.flags[i]);
    return fast->outcome;
}

/* Index of the first event of `type` with idx `idx`, or -1. */
static int find_ev(const vm_trace *t, uint8_t type, uint32_t idx)
{
    for (uint32_t i = 0; i < t->n; i++)
        if (t->ev[i].type == type && t->ev[i].idx == idx) return (int)i;
    return -1;
}

/* Index of the first event of `type`, or -1. */
static int find_type(const vm_trace *t, uint8_t type)
{
    for (uint32_t i = 0; i < t->n; i++)
        if (t->ev[i].type == type) return (int)i;
    return -1;
}

static void test_rate_clause_decide_flag(void **state)
{
    (void)state;
    q_program *p = std_program(0);
    vm_event ev[64];
    vm_trace t = {ev, 64, 0, false};
    vm_result r;
    hand_rec h;

    /* c = 9 > 5, a = 1 > 0, b = 0: r0 decides, no flag */
    std_rec(&h, 1, 0, 9);
    assert_int_equal(rate_both(p, &h, &r, &t), QO_HTXSNV);
    assert_int_equal(r.rule, 0);
    assert_int_equal(r.nflags, 0);
    int e0 = find_ev(&t, EV_CLAUSE, 0), e1 = find_ev(&t, EV_CLAUSE, 1), er = find_ev(&t, EV_RULE, 0);
    assert_true(e0 >= 0 && e1 > e0 && er > e1);
    assert_int_equal(t.ev[e0].result, 1);
    assert_int_equal(t.ev[er].result, 1);
    assert_int_equal(find_ev(&t, EV_RULE, 1), -1); /* otherwise not tried */

    /* b = 2: flag f0 raised after the decision */
    std_rec(&h, 1, 2, 9);
    assert_int_equal(rate_both(p, &h, &r, &t), QO_HTXSNV);
    assert_int_equal(r.nflags, 1);
    assert_int_equal(r.flags[0], 0);
    int ef = find_ev(&t, EV_FLAG, 0);
    assert_true(ef > find_ev(&t, EV_RULE, 0));

    /* c = 3: clause 0 fails -> otherwise, which raises `gap` (flag 1) */
    std_rec(&h, 1, 0, 3);
    assert_int_equal(rate_both(p, &h, &r, &t), QO_HTNV);
    assert_int_equal(r.rule, 1);
    assert_int_equal(r.nflags, 1);
    assert_int_equal(r.flags[0], 1);
    /* the trace evaluates every clause of the rule tried: clause 0 failed,
     * clause 1 still recorded, the rule failed, then otherwise held */
    e0 = find_ev(&t, EV_CLAUSE, 0);
    e1 = find_ev(&t, EV_CLAUSE, 1);
    assert_true(e0 >= 0 && e1 > e0);
    assert_int_equal(t.ev[e0].result, 0);
    assert_int_equal(t.ev[e1].result, 1);
    er = find_ev(&t, EV_RULE, 0);
    assert_true(er > e1);
    assert_int_equal(t.ev[er].result, 0);
    int eo = find_ev(&t, EV_RULE, 1);
    assert_true(eo > er);
    assert_int_equal(t.ev[eo].result, 1);
    assert_true(find_ev(&t, EV_FLAG, 1) > eo);
    /* the reads: c (3), then a (1) */
    int rd = -1;
    for (uint32_t i = 0; i < t.n; i++)
        if (ev[i].type == EV_READ && ev[i].slot == S_C) {
            rd = (int)i;
            break;
        }
    assert_true(rd >= 0 && rd < e0);
    assert_val(ev[rd].val, 3, 1);

    /* both gap and f0 */
    std_rec(&h, 1, 1, 3);
    assert_int_equal(rate_both(p, &h, &r, &t), QO_HTNV);
    assert_int_equal(r.nflags, 2);
    assert_int_equal(r.flags[0], 1);
    assert_int_equal(r.flags[1], 0);
    prog_free(p);
}

static void test_rate_exception(void **state)
{
    (void)state;
    q_program *p = std_program(0);
    vm_event ev[64];
    vm_trace t = {ev, 64, 0, false};
    vm_result r;
    hand_rec h;
    /* a > 0 unless b > 5: b = 7 -> the exception holds, clause 1 fails */
    std_rec(&h, 1, 7, 9);
    assert_int_equal(rate_both(p, &h, &r, &t), QO_HTNV);
    int ex = find_ev(&t, EV_EXC, 1);
    assert_true(ex >= 0);
    assert_int_equal(t.ev[ex].result, 1); /* the exception evaluated to true */
    int e1 = find_ev(&t, EV_CLAUSE, 1);
    assert_true(e1 > ex);
    assert_int_equal(t.ev[e1].result, 0);
    /* b = 5: the exception does not hold */
    std_rec(&h, 1, 5, 9);
    assert_int_equal(rate_both(p, &h, &r, &t), QO_HTXSNV);
    ex = find_ev(&t, EV_EXC, 1);
    assert_true(ex >= 0);
    assert_int_equal(t.ev[ex].result, 0);
    /* a = 0: the `unless` is not evaluated (JFKEEP short-circuits) */
    std_rec(&h, 0, 7, 9);
    assert_int_equal(rate_both(p, &h, &r, &t), QO_HTNV);
    assert_int_equal(find_ev(&t, EV_EXC, 1), -1);
    prog_free(p);
}

static void test_rate_ifabsent_modes(void **state)
{
    (void)state;
    vm_event ev[64];
    vm_trace t = {ev, 64, 0, false};
    vm_result r;
    hand_rec h;
    std_rec(&h, 1, 0, -1); /* c absent */

    /* c = 0: the skipped clause counts as holding */
    q_program *p = std_program(0);
    assert_int_equal(rate_both(p, &h, &r, &t), QO_HTXSNV);
    int sk = find_ev(&t, EV_SKIP, 0);
    assert_true(sk >= 0);
    assert_int_equal(t.ev[sk].slot, S_C);
    assert_int_equal(t.ev[sk].result, 1);
    assert_int_equal(find_ev(&t, EV_CLAUSE, 0), -1); /* skipped, not evaluated */
    assert_true(find_ev(&t, EV_CLAUSE, 1) > sk);
    assert_int_equal(t.ev[find_ev(&t, EV_RULE, 0)].result, 1);
    prog_free(p);

    /* c = 1: the rule does not apply */
    p = std_program(1);
    assert_int_equal(rate_both(p, &h, &r, &t), QO_HTNV);
    assert_int_equal(r.rule, 1);
    sk = find_ev(&t, EV_SKIP, 0);
    assert_true(sk >= 0);
    assert_int_equal(t.ev[sk].slot, S_C);
    assert_int_equal(t.ev[sk].result, 0);
    assert_int_equal(t.ev[find_ev(&t, EV_RULE, 0)].result, 0);
    prog_free(p);

    /* present: both modes evaluate the clause */
    for (uint8_t mode = 0; mode < 2; mode++) {
        p = std_program(mode);
        std_rec(&h, 1, 0, 6);
        assert_int_equal(rate_both(p, &h, &r, &t), QO_HTXSNV);
        assert_int_equal(find_ev(&t, EV_SKIP, 0), -1);
        std_rec(&h, 1, 0, 5);
        assert_int_equal(rate_both(p, &h, &r, &t), QO_HTNV);
        prog_free(p);
    }
}

static void test_fast_and_trace_agree(void **state)
{
    (void)state;
    vm_event ev[64];
    vm_trace t = {ev, 64, 0, false};
    vm_result r;
    hand_rec h;
    int n = 0;
    for (uint8_t mode = 0; mode < 2; mode++) {
        q_program *p = std_program(mode);
        for (int64_t a = -1; a <= 1; a++)
            for (int64_t b = 0; b <= 8; b += 2)
                for (int64_t c = -1; c <= 8; c += 3) {
                    std_rec(&h, a, b, c);
                    int o = rate_both(p, &h, &r, &t);
                    bool c_ok = c < 0 ? mode == 0 : c > 5;
                    bool want = c_ok && a > 0 && !(b > 5);
                    assert_int_equal(o, want ? QO_HTXSNV : QO_HTNV);
                    assert_int_equal(r.nflags, (want ? 0 : 1) + (b > 0 ? 1 : 0));
                    assert_false(t.truncated);
                    n++;
                }
        prog_free(p);
    }
    assert_int_equal(n, 2 * 3 * 5 * 4);
}

static void test_trace_truncated(void **state)
{
    (void)state;
    q_program *p = std_program(0);
    hand_rec h;
    vm_result fast, tr;
    /* a record that produces many events: reads, clauses, exception, rules, flags */
    std_rec(&h, 1, 7, 3);
    vm_event ev[2 + 1];
    memset(ev, 0xAB, sizeof ev);
    vm_trace t = {ev, 2, 0, false};
    assert_int_equal(vm_rate(p, NULL, &h.r, &fast, NULL), VM_OK);
    assert_int_equal(vm_rate(p, NULL, &h.r, &tr, &t), VM_OK);
    assert_true(t.truncated);
    assert_int_equal(t.n, 2);
    /* nothing written past the cap */
    const unsigned char *guard = (const unsigned char *)&ev[2];
    for (size_t i = 0; i < sizeof ev[2]; i++) assert_int_equal(guard[i], 0xAB);
    /* the outcome does not depend on the trace buffer */
    assert_int_equal(tr.outcome, fast.outcome);
    assert_int_equal(tr.rule, fast.rule);
    assert_int_equal(tr.nflags, fast.nflags);
    assert_int_equal(tr.nflags, 2);
    /* cap = 0 */
    vm_trace z = {ev, 0, 0, false};
    assert_int_equal(vm_rate(p, NULL, &h.r, &tr, &z), VM_OK);
    assert_true(z.truncated);
    assert_int_equal(z.n, 0);
    assert_int_equal(tr.outcome, fast.outcome);
    prog_free(p);
}

static void test_trace_share_event(void **state)
{
    (void)state;
    const hk k[] = {KD(1, 2)};
    const q_instr code[] = {I(LOADF, S_A, 0), I(LOADF, S_B, 0), I(SHARE, 0, 0), I(PUSHK, 0, 0), I(GE, 0, 0),
                            I(CLAUSE, 0, 7),  I(DECIDE, 0, 8),  I(DECIDE, 1, 8), I(HALT, 0, 0)};
    q_program *p = hand_program(HP_RATE, code, k);
    vm_event ev[16];
    vm_trace t = {ev, 16, 0, false};
    vm_result r;
    hand_rec h;
    std_rec(&h, 7, 10, -1);
    assert_int_equal(rate_both(p, &h, &r, &t), QO_HTXSNV);
    int s = find_type(&t, EV_SHARE);
    assert_true(s >= 0);
    assert_val(ev[s].val, 7, 10);
    assert_int_equal(ev[s].slot, 7);
    assert_int_equal(ev[s].idx, 10);
    std_rec(&h, 3, 0, -1); /* share(3, 0) = 0 */
    assert_int_equal(rate_both(p, &h, &r, &t), QO_HTNV);
    s = find_type(&t, EV_SHARE);
    assert_true(s >= 0);
    assert_val(ev[s].val, 0, 1);
    assert_int_equal(ev[s].slot, 3);
    assert_int_equal(ev[s].idx, 0);
    prog_free(p);
}

/* r0: htxsnv when (max xs of it) >= 2: the trace carries the aggregate */
static void test_trace_agg_event(void **state)
{
    (void)state;
    const hk k[] = {KI(2)};
    const q_instr code[] = {IC(QBEGIN, 0, S_XS, QK_MAX), I(QNEXT, 0, 4), I(ELEM, 0, 0), I(QSTEP, 0, 1), I(QEND, 0, 1),
                            I(PUSHK, 0, 0),              I(GE, 0, 0),    I(CLAUSE, 0, 9), I(DECIDE, 0, 10),
                            I(DECIDE, 1, 10),            I(HALT, 0, 0)};
    q_program *p = hand_program(HP_RATE, code, k);
    vm_event ev[16];
    vm_trace t = {ev, 16, 0, false};
    vm_result r;
    hand_rec h;
    hand_rec_init(&h);
    const int64_t xs[] = {1, 3, 2};
    hand_rec_xs(&h, xs, 3);
    assert_int_equal(rate_both(p, &h, &r, &t), QO_HTXSNV);
    int s = find_type(&t, EV_AGG);
    assert_true(s >= 0);
    assert_val(ev[s].val, 3, 1);
    assert_int_equal(ev[s].result, QK_MAX);
    assert_int_equal(ev[s].slot, S_XS);
    assert_int_equal(ev[s].idx, 1); /* QEND b: the result's type */
    /* all/any/none/count leave no aggregate event */
    prog_free(p);
    const q_instr cnt[] = {IC(QBEGIN, 0, S_XS, QK_COUNT), I(QNEXT, 0, 4), I(ELEM, 0, 0), I(QSTEP, 0, 1),
                           I(QEND, 0, 0),                 I(PUSHK, 0, 0),  I(GE, 0, 0),   I(CLAUSE, 0, 9),
                           I(DECIDE, 0, 10),              I(DECIDE, 1, 10), I(HALT, 0, 0)};
    p = hand_program(HP_RATE, cnt, k);
    t.n = 0;
    assert_int_equal(rate_both(p, &h, &r, &t), QO_HTXSNV);
    assert_true(find_type(&t, EV_AGG) < 0);
    prog_free(p);
}

static void test_flag_raised_once(void **state)
{
    (void)state;
    const hk k[] = {KB(1)};
    const q_instr code[] = {I(PUSHK, 0, 0), I(FLAG, 0, 0), I(PUSHK, 0, 0), I(FLAG, 0, 0), I(PUSHK, 0, 0),
                            I(FLAG, 1, 0),  I(HALT, 0, 0)};
    q_program *p = hand_program(HP_RATE, code, k);
    vm_event ev[16];
    vm_trace t = {ev, 16, 0, false};
    vm_result r;
    hand_rec h;
    hand_rec_init(&h);
    rate_both(p, &h, &r, &t);
    assert_int_equal(r.nflags, 2);
    assert_int_equal(r.flags[0], 0);
    assert_int_equal(r.flags[1], 1);
    int nflag = 0;
    for (uint32_t i = 0; i < t.n; i++) nflag += ev[i].type == EV_FLAG;
    assert_int_equal(nflag, 2);
    /* no rule decided: the defaults */
    assert_int_equal(r.rule, QUY_NONE);
    prog_free(p);
}

static void test_halt_only_and_no_rate(void **state)
{
    (void)state;
    const hk k[] = {KI(0)};
    const q_instr code[] = {I(HALT, 0, 0)};
    q_program *p = hand_program(HP_RATE, code, k);
    hand_rec h;
    hand_rec_init(&h);
    vm_result r;
    memset(&r, 0x5A, sizeof r);
    assert_int_equal(vm_rate(p, NULL, &h.r, &r, NULL), VM_OK);
    assert_int_equal(r.error, VM_OK);
    assert_int_equal(r.rule, QUY_NONE);
    assert_int_equal(r.nflags, 0);
    /* kind 1 has no rate block */
    h.r.kind = 1;
    assert_int_equal(vm_rate(p, NULL, &h.r, &r, NULL), VM_NO_RATE);
    assert_int_equal(r.error, VM_NO_RATE);
    vm_event ev[4];
    vm_trace t = {ev, 4, 0, false};
    assert_int_equal(vm_rate(p, NULL, &h.r, &r, &t), VM_NO_RATE);
    assert_int_equal(t.n, 0);
    /* a kind index out of range */
    h.r.kind = 7;
    assert_int_equal(vm_rate(p, NULL, &h.r, &r, NULL), VM_NO_RATE);
    /* vm_eval: an entry outside the code */
    h.r.kind = 0;
    q_val v;
    assert_int_equal(vm_eval(p, NULL, 99, &h.r, &v), VM_BAD_PROGRAM);
    prog_free(p);
}

static void test_error_messages(void **state)
{
    (void)state;
    for (int i = 0; i < VM__COUNT; i++) {
        assert_non_null(vm_error_message[i]);
        assert_true(strlen(vm_error_message[i]) > 0);
    }
    assert_non_null(strstr(vm_error_message[VM_DIV_ZERO], "division by zero"));
}

/* ---------------------------------------------------------------------
 * Through the compiler
 * ------------------------------------------------------------------- */

static bool has_flag(const q_program *p, const vm_result *r, const char *name)
{
    for (uint16_t i = 0; i < r->nflags; i++)
        if (strcmp(qfx_flag_name(p, r, i), name) == 0) return true;
    return false;
}

#define C_SRC                                                                                   \
    "ruleset vm version \"1\"\n"                                                                \
    "scale grade { kem < dat < tot }\n"                                                         \
    "struct task { done : bool  weight : int }\n"                                               \
    "record member {\n"                                                                         \
    "  a : int\n"                                                                               \
    "  b : int\n"                                                                               \
    "  opt : optional int\n"                                                                    \
    "  grades : list of grade\n"                                                                \
    "  tasks : list of task\n"                                                                  \
    "  name : string\n"                                                                         \
    "  on : date\n"                                                                             \
    "  exempt : bool\n"                                                                         \
    "  bad : bool\n"                                                                            \
    "  fixed : bool\n"                                                                          \
    "}\n"                                                                                       \
    "record agency { a : int }\n"                                                               \
    "rate member {\n"                                                                           \
    "  let undone = b - a\n"                                                                    \
    "  mien: not_rated when exempt cite \"t\"\n"                                                \
    "  hoan: deferred when name = \"hoãn\" cite \"t\"\n"                                        \
    "  kl: khtnv when bad unless fixed cite \"t\"\n"                                            \
    "  kem: khtnv when (any grades where it = kem) or (present(opt) and opt < 0) cite \"t\"\n"          \
    "  xs: htxsnv when all grades >= tot and share(a, b) >= 50% and not (count tasks where done) < 2 cite \"t\"\n" \
    "  tot: httnv when (sum tasks of weight where done) * 2 > b and name != \"x\" and -a < 0 and opt >= 0 if present cite \"t\"\n" \
    "  dat: htnv when undone / 2 <= 1 and on <= 2023-12-10 and (count tasks) >= 0 and a - 1 <= b and a + 1 > a and b != 1000 cite \"t\"\n" \
    "  otherwise khtnv flag gap cite \"t\"\n"                                                  \
    "  gap g_half \"half\" when share(undone, b) = 50% cite \"t\"\n"                           \
    "  flag late \"late\" when on > 2023-12-10 cite \"t\"\n"                                    \
    "  flag big when (present(opt) and opt > 10) or a = 99 cite \"t\"\n"                        \
    "}\n"

static void test_compiled_opcodes_and_modes_agree(void **state)
{
    qfx *fx = *state;
    q_program *p = qfx_src(fx, C_SRC);
    if (!p) qfx_dump(fx);
    assert_non_null(p);
    /* this ruleset makes the compiler emit every opcode but NOP, POP,
     * JMP and CALLHOOK (those are covered by the hand-built programs) */
    bool seen[OP__COUNT] = {false};
    for (uint32_t i = 0; i < p->ncode; i++) seen[p->code[i].op] = true;
    static const uint8_t want[] = {OP_PUSHK, OP_LOADF, OP_PRESENT, OP_IFABSENT, OP_ADD, OP_SUB, OP_MUL, OP_DIV,
                                   OP_NEG, OP_SHARE, OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_STREQ, OP_STRNE,
                                   OP_NOT, OP_JFKEEP, OP_JTKEEP, OP_QBEGIN, OP_QNEXT, OP_ELEM, OP_ELEMF, OP_QSTEP,
                                   OP_QEND, OP_LEN, OP_EXC, OP_CLAUSE, OP_DECIDE, OP_FLAG, OP_HALT, OP_QFILTER};
    for (size_t i = 0; i < sizeof want; i++) {
        if (!seen[want[i]]) print_error("opcode %s not emitted\n", op_table[want[i]].name);
        assert_true(seen[want[i]]);
    }

#define M(fields) "{'id':'m','kind':'member','a':2,'b':4,'grades':['tot'],'tasks':[{'done':true,'weight':3},{'done':true,'weight':0}],'name':'n','on':'2023-12-01','exempt':false,'bad':false,'fixed':false" fields "}"
    static const struct {
        const char *rec;
        int tier;
        const char *rule;
    } cases[] = {
        {M(""), QO_HTXSNV, "xs"},
        {M(",'exempt':true"), QO_NOT_RATED, "mien"},
        {M(",'name':'hoãn'"), QO_DEFERRED, "hoan"},
        {M(",'bad':true"), QO_KHTNV, "kl"},
        {M(",'bad':true,'fixed':true"), QO_HTXSNV, "xs"},
        {M(",'grades':['tot','kem']"), QO_KHTNV, "kem"},
        {M(",'opt':-1"), QO_KHTNV, "kem"},
        {M(",'opt':1"), QO_HTXSNV, "xs"},
        {M(",'grades':['dat']"), QO_HTTNV, "tot"},
        {M(",'grades':[]"), QO_HTXSNV, "xs"},
        {M(",'a':1"), QO_HTTNV, "tot"},   /* share(1, 4) = 25% */
        {M(",'grades':['dat'],'opt':-0"), QO_HTTNV, "tot"},
        {M(",'grades':['dat'],'opt':20"), QO_HTTNV, "tot"},
        {M(",'tasks':[]"), QO_HTNV, "dat"}, /* count where done = 0 < 2; sum 0 */
        {M(",'tasks':[],'on':'2024-01-01'"), QO_KHTNV, "otherwise"},
        {M(",'tasks':[],'a':0"), QO_KHTNV, "otherwise"}, /* undone / 2 = 2 */
        {M(",'tasks':[],'b':1000"), QO_KHTNV, "otherwise"},
        {M(",'b':0"), QO_HTTNV, "tot"},    /* share(2, 0) = 0 */
    };
    vm_result r;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        qfx_tier_res(fx, cases[i].rec, &r);
        if ((int)r.outcome != cases[i].tier || strcmp(qfx_rule_name(p, &r), cases[i].rule) != 0)
            print_error("case %zu: %s by '%s', expected %s by '%s'\n", i, q_outcome_code[r.outcome],
                        qfx_rule_name(p, &r), q_outcome_code[cases[i].tier], cases[i].rule);
        assert_int_equal(r.outcome, cases[i].tier);
        assert_string_equal(qfx_rule_name(p, &r), cases[i].rule);
    }
    /* flags: gap + g_half + late; big */
    qfx_tier_res(fx, M(",'tasks':[],'on':'2024-01-01','a':2,'b':4"), &r);
    assert_int_equal(r.nflags, 3);
    assert_true(has_flag(p, &r, "gap") && has_flag(p, &r, "g_half") && has_flag(p, &r, "late"));
    qfx_tier_res(fx, M(",'tasks':[],'a':0"), &r);
    assert_int_equal(r.nflags, 1);
    assert_string_equal(qfx_flag_name(p, &r, 0), "gap");
    qfx_tier_res(fx, M(",'opt':11"), &r);
    assert_int_equal(r.nflags, 1);
    assert_string_equal(qfx_flag_name(p, &r, 0), "big");
    qfx_tier_res(fx, M(",'a':99,'b':99"), &r);
    assert_int_equal(r.nflags, 1);
    assert_string_equal(qfx_flag_name(p, &r, 0), "big");
    /* agency: declared but not rated, so not a kind of the program: the
     * loader rejects its records before the VM sees them */
    q_record *rec;
    assert_int_equal(qfx_record(fx, "{'id':'x','kind':'agency','a':1}", &rec), -1);
    assert_string_equal(fx->rerr.code, "unknown_kind");
#undef M
}

static void test_compiled_if_present(void **state)
{
    qfx *fx = *state;
    /* optional and computed fields behind `if present`: skipped when
     * absent (a tier rule: the clause holds), never VM_ABSENT */
    assert_non_null(qfx_src(fx, "ruleset t version \"1\"\n"
                                "record member { a : int  o : optional int  member_tiers : computed list of tier }\n"
                                "rate member {\n"
                                "  x: htxsnv when o > a if present and all member_tiers > htnv if present cite \"t\"\n"
                                "  otherwise htnv\n"
                                "}\n"));
    vm_result r;
    assert_int_equal(qfx_tier_res(fx, "{'id':'r','kind':'member','a':1}", &r), QO_HTXSNV);
    assert_int_equal(qfx_tier_res(fx, "{'id':'r','kind':'member','a':1,'o':0}", &r), QO_HTNV);
    assert_int_equal(qfx_tier_res(fx, "{'id':'r','kind':'member','a':1,'o':2,'member_tiers':['httnv','htxsnv']}", &r), QO_HTXSNV);
    assert_int_equal(qfx_tier_res(fx, "{'id':'r','kind':'member','a':1,'o':2,'member_tiers':['httnv','htnv']}", &r), QO_HTNV);
}

#define T(fn) cmocka_unit_test(fn)
#define TF(fn) cmocka_unit_test_setup_teardown(fn, qfx_setup, qfx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_pushk_nop_halt),
        T(test_pop),
        T(test_loadf),
        T(test_loadf_absent),
        T(test_present),
        T(test_ifabsent_in_check),
        T(test_add_sub_mul_div),
        T(test_div_by_zero),
        T(test_overflow),
        T(test_neg),
        T(test_share),
        T(test_compare_ops),
        T(test_streq_strne),
        T(test_not),
        T(test_jmp),
        T(test_jfkeep_jtkeep),
        T(test_quantifiers),
        T(test_quantifiers_empty),
        T(test_quantifiers_early_exit),
        T(test_quantifier_sum_overflow),
        T(test_quantifiers_min_max_run),
        T(test_qfilter),
        T(test_verify_qfilter_and_qend),
        T(test_elemf_struct_list),
        T(test_nested_quantifiers),
        T(test_qbegin_absent_and_bad_list),
        T(test_len),
        T(test_exc_in_check),
        T(test_callhook),
        T(test_rate_clause_decide_flag),
        T(test_rate_exception),
        T(test_rate_ifabsent_modes),
        T(test_fast_and_trace_agree),
        T(test_trace_truncated),
        T(test_trace_share_event),
        T(test_trace_agg_event),
        T(test_flag_raised_once),
        T(test_halt_only_and_no_rate),
        T(test_error_messages),
        TF(test_compiled_opcodes_and_modes_agree),
        TF(test_compiled_if_present),
    };
    return cmocka_run_group_tests_name("vm", tests, NULL, NULL);
}
