/*
 * test_vm_rate.c — the VM's rate blocks (CLAUSE, IFABSENT, EXC, DECIDE,
 * FLAG, HALT) in both the fast and the tracing interpreter, in both dispatch
 * modes (this file is built twice); the last tests compile rulesets with the
 * compiler (quy_fixture.h) and compare the two interpreters on sets of JSON
 * records. Hand-built programs: vm_fixture.h.
 */
#include "vm_fixture.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
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
    return cmocka_run_group_tests_name("vm_rate", tests, NULL, NULL);
}
