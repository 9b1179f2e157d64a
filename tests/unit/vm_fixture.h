/*
 * vm_fixture.h — hand-built programs and records for the VM's unit tests
 * (test_vm.c: one opcode at a time; test_vm_rate.c: rate blocks, the trace
 * and compiled rulesets). Every program is run through bc_verify() first.
 */
#ifndef QUY_TEST_VM_FIXTURE_H
#define QUY_TEST_VM_FIXTURE_H

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

static inline q_program *hand_program_(int mode, const q_instr *code, uint32_t ncode, const hk *k, uint32_t nk, bool verify)
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

static inline void hand_rec_init(hand_rec *h)
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

static inline void hand_rec_xs(hand_rec *h, const int64_t *v, uint32_t n)
{
    assert_true(h->r.nelems + n <= 64);
    uint32_t base = h->r.nelems;
    for (uint32_t i = 0; i < n; i++) h->elems[base + i] = q_int(v[i]);
    h->r.nelems += n;
    h->slots[S_XS] = (q_val){base, n};
    h->present[S_XS] = 1;
}

static inline void hand_rec_items(hand_rec *h, const int64_t (*vk)[2], uint32_t n)
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
static inline int eval_(const q_instr *code, uint32_t ncode, const hk *k, uint32_t nk, const hand_rec *rec, q_val *out)
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

static inline void assert_val(q_val v, int64_t n, int64_t d)
{
    if (v.n != n || v.d != d) print_error("value %lld/%lld, expected %lld/%lld\n", (long long)v.n, (long long)v.d,
                                          (long long)n, (long long)d);
    assert_true(v.n == n && v.d == d);
}

/* Evaluate `x OP y` on two constants. */
static inline q_val binop(uint8_t op, hk x, hk y, int *rc)
{
    const hk k[] = {x, y};
    const q_instr code[] = {I(PUSHK, 0, 0), I(PUSHK, 0, 1), {op, 0, 0, 0}, I(HALT, 0, 0)};
    q_val out;
    *rc = eval(code, k, NULL, &out);
    return out;
}

static inline q_val binop_ok(uint8_t op, hk x, hk y)
{
    int rc;
    q_val v = binop(op, x, y, &rc);
    assert_int_equal(rc, VM_OK);
    return v;
}


#define T(fn) cmocka_unit_test(fn)
#define TF(fn) cmocka_unit_test_setup_teardown(fn, qfx_setup, qfx_teardown)

#endif
