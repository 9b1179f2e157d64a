/*
 * test_vm.c — the virtual machine (runtime/vm.c, vm_exec.inc), one test or
 * more per opcode, in both dispatch modes (this file is built twice).
 *
 * Programs are assembled by hand (vm_fixture.h) and run through bc_verify()
 * first, so every program here is one the verifier accepts (except
 * CALLHOOK, which it rejects by design). Expressions are run as a check
 * block with vm_eval(). Rate blocks, the trace and compiled rulesets are in
 * test_vm_rate.c.
 */
#include "vm_fixture.h"
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
    };
    return cmocka_run_group_tests_name("vm", tests, NULL, NULL);
}
