/*
 * test_bytecode.c — the bytecode file, the verifier, the disassembler and
 * the program helpers (runtime/bytecode.c, disasm.c, program.c).
 *
 * The programs are built by hand (build_program) so these tests do not
 * depend on the compiler: one kind `member` with two scalar fields and a
 * list of structs, one check, two rules (one with two clauses, one
 * `otherwise`), one flag with a quantifier.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "program.h"

/* ---------------------------------------------------------------------
 * Building a program by hand
 * ------------------------------------------------------------------- */

typedef struct pool {
    char buf[4096];
    uint32_t len;
    uint32_t off[128];
    uint32_t n;
} pool;

static uint32_t str(pool *sp, const char *s)
{
    for (uint32_t i = 0; i < sp->n; i++)
        if (strcmp(sp->buf + sp->off[i], s) == 0) return i;
    size_t n = strlen(s) + 1;
    assert_true(sp->len + n <= sizeof sp->buf && sp->n < 128);
    memcpy(sp->buf + sp->len, s, n);
    sp->off[sp->n] = sp->len;
    sp->len += (uint32_t)n;
    return sp->n++;
}

#define NEW(arr, n) ((arr) = calloc((n), sizeof *(arr)))

static const char *SOURCE_TEXT = "ruleset central-124\n"
                                 "kind member:\n"
                                 "  check tasks_total >= 0 and len(tasks) >= 0\n"
                                 "rate member:\n"
                                 "  rule excellent -> htxsnv:\n"
                                 "    tasks_total >= 10\n"
                                 "    done_share >= 90% if present\n"
                                 "  otherwise -> htnv\n"
                                 "  flag late: not all t in tasks: t.done\n";

/* Byte offset of the first occurrence of `needle` in the source. */
static uint32_t at(const char *needle)
{
    const char *s = strstr(SOURCE_TEXT, needle);
    assert_non_null(s);
    return QUY_POS(0, (uint32_t)(s - SOURCE_TEXT));
}

enum { K_TEN, K_PCT90, K_STR, K_DATE, K_TRUE, K_ZERO, NCONSTS };

static q_program *build_program(void)
{
    q_program *p = calloc(1, sizeof *p);
    pool sp = {0};
    str(&sp, "");
    p->name = str(&sp, "central-124");
    p->version = str(&sp, "2024.1");
    p->title = str(&sp, "Xếp loại đảng viên");
    p->source = str(&sp, "Quy định 124-QĐ/TW");
    p->nlayers = 1;
    NEW(p->layers, 1);
    p->layers[0] = p->name;

    /* types: 0 int, 1 percent, 2 bool, 3 struct task, 4 list of task, 5 tier */
    p->ntypes = 6;
    NEW(p->types, 6);
    p->types[0] = (q_type){.kind = QT_INT};
    p->types[1] = (q_type){.kind = QT_PERCENT};
    p->types[2] = (q_type){.kind = QT_BOOL};
    p->types[3] = (q_type){.kind = QT_STRUCT, .name = str(&sp, "task"), .first = 3, .count = 2};
    p->types[4] = (q_type){.kind = QT_LIST, .elem = 3};
    p->types[5] = (q_type){.kind = QT_SCALE, .name = str(&sp, "tier"), .first = 0, .count = 4};
    p->tier_type = 5;
    p->nmembers = 4;
    NEW(p->members, 4);
    const char *tiers[] = {"khtnv", "htnv", "httnv", "htxsnv"};
    for (int i = 0; i < 4; i++) p->members[i] = (q_member){str(&sp, tiers[i]), str(&sp, q_outcome_label[i])};

    /* fields: the kind's three, then the struct's two */
    p->nfields = 5;
    NEW(p->fields, 5);
    p->fields[0] = (q_field){str(&sp, "tasks_total"), str(&sp, "Tổng số nhiệm vụ"), 0, 0, 0, QUY_NONE};
    p->fields[1] = (q_field){str(&sp, "done_share"), str(&sp, "Tỉ lệ hoàn thành"), 1, 1, QF_OPTIONAL, QUY_NONE};
    p->fields[2] = (q_field){str(&sp, "tasks"), str(&sp, "Nhiệm vụ"), 4, 2, 0, QUY_NONE};
    p->fields[3] = (q_field){str(&sp, "done"), str(&sp, "Đã xong"), 2, 0, 0, QUY_NONE};
    p->fields[4] = (q_field){str(&sp, "score"), str(&sp, "Điểm"), 0, 1, QF_DEFAULT, K_ZERO};

    p->nkinds = 1;
    NEW(p->kinds, 1);
    p->kinds[0] = (q_kind){.name = str(&sp, "member"), .label = str(&sp, "Đảng viên"), .first_field = 0,
                           .nfields = 3, .first_check = 0, .nchecks = 1, .entry = 8, .first_rule = 0,
                           .nrules = 2};

    p->nchecks = 1;
    NEW(p->checks, 1);
    p->checks[0] = (q_check){.entry = 0, .field = 0, .text = str(&sp, "tasks_total >= 0 and len(tasks) >= 0"),
                             .pos = at("tasks_total >= 0")};

    uint32_t cite = str(&sp, "124-QĐ/TW Điều 12, 4.1");
    p->nrules = 2;
    NEW(p->rules, 2);
    p->rules[0] = (q_rule){.name = str(&sp, "excellent"), .cite = cite, .layer = p->name, .outcome = QO_HTXSNV,
                           .flag = QUY_NONE, .first_clause = 0, .nclauses = 2, .pos = at("rule excellent")};
    p->rules[1] = (q_rule){.name = str(&sp, "otherwise"), .cite = str(&sp, "124-QĐ/TW Điều 12, 2"),
                           .layer = p->name, .outcome = QO_HTNV, .flags = QR_OTHERWISE, .flag = QUY_NONE,
                           .first_clause = 2, .nclauses = 0, .pos = at("otherwise")};

    p->nreads = 3;
    NEW(p->reads, 3);
    p->reads[0] = 0;
    p->reads[1] = 1;
    p->reads[2] = 2;
    p->nclauses = 3;
    NEW(p->clauses, 3);
    p->clauses[0] = (q_clause){.rule = 0, .text = str(&sp, "tasks_total >= 10"), .cite = cite, .layer = p->name,
                               .first_read = 0, .nreads = 1, .pos = at("tasks_total >= 10")};
    p->clauses[1] = (q_clause){.rule = 0, .text = str(&sp, "done_share >= 90%"), .cite = cite, .layer = p->name,
                               .if_present = 1, .first_read = 1, .nreads = 1, .pos = at("done_share")};
    p->clauses[2] = (q_clause){.rule = QUY_NONE, .text = str(&sp, "not all t in tasks: t.done"),
                               .cite = str(&sp, "124-QĐ/TW Điều 12, 5"), .layer = p->name, .first_read = 2,
                               .nreads = 1, .pos = at("not all")};
    p->nflagdefs = 1;
    NEW(p->flags, 1);
    p->flags[0] = (q_flagdef){.name = str(&sp, "late"), .message = str(&sp, "Còn nhiệm vụ chưa xong"),
                              .cite = p->clauses[2].cite, .layer = p->name, .kind = QFL_FLAG, .clause = 2,
                              .pos = at("flag late")};

    p->nquotas = 1;
    NEW(p->quotas, 1);
    p->quotas[0] = (q_quota){.tier = QO_HTXSNV, .of_tier = QO_HTTNV, .rounding = QROUND_DOWN, .basis = 0,
                             .share = {1, 5}, .per = str(&sp, "peer_group"), .cite = str(&sp, "124-QĐ/TW Điều 12, 1.4"),
                             .layer = p->name};

    p->nsources = 1;
    NEW(p->sources, 1);
    p->sources[0] = (q_source){str(&sp, "rules/central.quy"), str(&sp, SOURCE_TEXT)};
    uint32_t abc = str(&sp, "abc");

    /* the string pool */
    p->blob_len = sp.len;
    p->blob = malloc(sp.len);
    memcpy(p->blob, sp.buf, sp.len);
    p->nstr = sp.n;
    NEW(p->str_off, sp.n);
    memcpy(p->str_off, sp.off, sp.n * sizeof *p->str_off);

    p->nconsts = NCONSTS;
    NEW(p->consts, NCONSTS);
    NEW(p->const_type, NCONSTS);
    p->consts[K_TEN] = q_int(10);
    p->const_type[K_TEN] = QT_INT;
    p->consts[K_PCT90] = (q_val){9, 10};
    p->const_type[K_PCT90] = QT_PERCENT;
    p->consts[K_STR] = q_str(p->blob + p->str_off[abc], 3);
    p->const_type[K_STR] = QT_STRING;
    int64_t days;
    assert_true(q_parse_date("2024-12-31", 10, &days));
    p->consts[K_DATE] = q_int(days);
    p->const_type[K_DATE] = QT_DATE;
    p->consts[K_TRUE] = q_bool(true);
    p->const_type[K_TRUE] = QT_BOOL;
    p->consts[K_ZERO] = q_int(0);
    p->const_type[K_ZERO] = QT_INT;

    static const q_instr code[] = {
        /* check 0: tasks_total >= 0 and len(tasks) >= 0 */
        {OP_LOADF, 0, 0, 0},            /*  0 */
        {OP_PUSHK, 0, 0, K_ZERO},       /*  1 */
        {OP_GE, 0, 0, 0},               /*  2 */
        {OP_JFKEEP, 0, 0, 7},           /*  3 */
        {OP_LEN, 0, 2, 0},              /*  4 */
        {OP_PUSHK, 0, 0, K_ZERO},       /*  5 */
        {OP_GE, 0, 0, 0},               /*  6 */
        {OP_HALT, 0, 0, 0},             /*  7 */
        /* rate member: rule excellent */
        {OP_LOADF, 0, 0, 0},            /*  8 */
        {OP_PUSHK, 0, 0, K_TEN},        /*  9 */
        {OP_GE, 0, 0, 0},               /* 10 */
        {OP_CLAUSE, 0, 0, 18},          /* 11 */
        {OP_IFABSENT, 0, 1, 17},        /* 12 */
        {OP_LOADF, 0, 1, 0},            /* 13 */
        {OP_PUSHK, 0, 0, K_PCT90},      /* 14 */
        {OP_GE, 0, 0, 0},               /* 15 */
        {OP_CLAUSE, 0, 1, 18},          /* 16 */
        {OP_DECIDE, 0, 0, 19},          /* 17 */
        /* otherwise */
        {OP_DECIDE, 0, 1, 19},          /* 18 */
        /* flag late: not all t in tasks: t.done */
        {OP_QBEGIN, QK_ALL, 0, 2},      /* 19 */
        {OP_QNEXT, 0, 0, 23},           /* 20 */
        {OP_ELEMF, 0, 0, 0},            /* 21 */
        {OP_QSTEP, 0, 0, 20},           /* 22 */
        {OP_QEND, 0, 0, 2},             /* 23: bool */
        {OP_NOT, 0, 0, 0},              /* 24 */
        {OP_FLAG, 0, 0, 0},             /* 25 */
        {OP_HALT, 0, 0, 0},             /* 26 */
    };
    p->ncode = sizeof code / sizeof code[0];
    NEW(p->code, p->ncode);
    NEW(p->code_pos, p->ncode);
    memcpy(p->code, code, sizeof code);
    for (uint32_t i = 0; i < p->ncode; i++) {
        p->code_pos[i] = i < 8 ? at("tasks_total >= 0") : i < 12 ? at("tasks_total >= 10")
                       : i < 17 ? at("done_share") : i < 19 ? at("otherwise") : at("not all");
    }
    return p;
}

/* A verified program, or the test fails. */
static q_program *good_program(void)
{
    q_program *p = build_program();
    char err[256];
    if (!bc_verify(p, err, sizeof err)) fail_msg("the hand-built program does not verify: %s", err);
    return p;
}

/* Asserts that bc_verify rejects p with a message containing `want`. */
static void expect_reject(q_program *p, const char *want)
{
    char err[512] = "";
    bool ok = bc_verify(p, err, sizeof err);
    if (ok) fail_msg("expected rejection containing '%s', but the program verified", want);
    if (!strstr(err, want)) fail_msg("expected a message containing '%s', got '%s'", want, err);
    prog_free(p);
}

/* Recompute the trailing checksum (to get past it and test what follows). */
static void reseal(uint8_t *b, size_t n)
{
    uint64_t h = bc_checksum(b, n - 8);
    for (int i = 0; i < 8; i++) b[n - 8 + i] = (uint8_t)(h >> (8 * i));
}

static void write_program(const q_program *p, uint8_t **buf, size_t *len)
{
    assert_true(bc_write(p, buf, len));
    assert_non_null(*buf);
    assert_true(*len > 28);
}

/* ---------------------------------------------------------------------
 * Tables and helpers
 * ------------------------------------------------------------------- */

static void test_tables(void **state)
{
    (void)state;
    assert_string_equal(q_outcome_code[QO_KHTNV], "khtnv");
    assert_string_equal(q_outcome_code[QO_DEFERRED], "deferred");
    assert_string_equal(q_outcome_label[QO_HTXSNV], "Hoàn thành xuất sắc nhiệm vụ");
    assert_string_equal(q_outcome_label[QO_NOT_RATED], "Không xếp loại");
    assert_string_equal(q_type_kind_name[QT_PERCENT], "percent");
    assert_string_equal(q_type_kind_name_vi[QT_LIST], "danh sách");
    for (int op = 0; op < OP__COUNT; op++) {
        assert_non_null(op_table[op].name);
        assert_non_null(op_table[op].doc);
        assert_true(op_table[op].pop >= 0 && op_table[op].push >= 0);
    }
    assert_string_equal(op_table[OP_HALT].name, "HALT");
    assert_int_equal(op_table[OP_PUSHK].format, OPF_K);
    assert_int_equal(op_table[OP_ADD].pop, 2);
    assert_int_equal(op_table[OP_ADD].push, 1);
}

static void test_find_and_locate(void **state)
{
    (void)state;
    q_program *p = good_program();
    assert_int_equal(prog_find_kind(p, "member", 6), 0);
    assert_int_equal(prog_find_kind(p, "membe", 5), QUY_NONE);
    assert_int_equal(prog_find_kind(p, "leader", 6), QUY_NONE);
    assert_int_equal(prog_find_field(p, 0, "done_share", 10), 1);
    assert_int_equal(prog_find_field(p, 0, "done", 4), QUY_NONE); /* a struct field, not the kind's */
    assert_int_equal(prog_find_field(p, 7, "tasks", 5), QUY_NONE);
    assert_int_equal(prog_find_member(p, 5, "httnv", 5), 2);
    assert_int_equal(prog_find_member(p, 5, "xuat_sac", 8), -1);
    assert_int_equal(prog_find_member(p, 0, "htnv", 4), -1); /* not an enum */

    const char *file, *ls;
    uint32_t line, col, llen;
    assert_true(prog_locate(p, at("done_share"), &file, &line, &col, &ls, &llen));
    assert_string_equal(file, "rules/central.quy");
    assert_int_equal(line, 7);
    assert_int_equal(col, 5);
    assert_int_equal(llen, strlen("    done_share >= 90% if present"));
    assert_memory_equal(ls, "    done_share", 14);
    assert_true(prog_locate(p, QUY_POS(0, 0), &file, &line, &col, NULL, NULL));
    assert_int_equal(line, 1);
    assert_int_equal(col, 1);
    assert_false(prog_locate(p, QUY_POS(1, 0), &file, &line, &col, NULL, NULL));
    assert_false(prog_locate(p, QUY_POS(0, 100000), &file, &line, &col, NULL, NULL));
    prog_free(p);
    prog_free(NULL);
}

/* ---------------------------------------------------------------------
 * The file
 * ------------------------------------------------------------------- */

static void test_round_trip(void **state)
{
    (void)state;
    q_program *p = good_program();
    assert_int_equal(p->max_stack, 2);
    uint8_t *buf;
    size_t len;
    write_program(p, &buf, &len);
    assert_memory_equal(buf, "QUYB", 4);
    assert_int_equal(buf[4], QUY_BC_VERSION);

    char err[256];
    q_program *q = bc_read(buf, len, err, sizeof err);
    if (!q) fail_msg("bc_read: %s", err);

    /* field by field on a sample, then everything by re-serialising */
    assert_int_equal(q->ncode, p->ncode);
    assert_memory_equal(q->blob, p->blob, p->blob_len);
    assert_memory_equal(q->str_off, p->str_off, p->nstr * sizeof *p->str_off);
    for (uint32_t i = 0; i < p->ncode; i++) {
        assert_int_equal(q->code[i].op, p->code[i].op);
        assert_int_equal(q->code[i].a, p->code[i].a);
        assert_int_equal(q->code[i].b, p->code[i].b);
        assert_int_equal(q->code[i].c, p->code[i].c);
        assert_int_equal(q->code_pos[i], p->code_pos[i]);
    }
    assert_string_equal(prog_str(q, q->rules[0].cite), "124-QĐ/TW Điều 12, 4.1");
    assert_string_equal(prog_str(q, q->kinds[0].label), "Đảng viên");
    assert_int_equal(q->fields[1].flags, QF_OPTIONAL);
    assert_int_equal(q->fields[4].deflt, K_ZERO);
    assert_int_equal(q->quotas[0].share.n, 1);
    assert_int_equal(q->quotas[0].share.d, 5);
    assert_int_equal(q->tier_type, 5);
    assert_int_equal(q->max_stack, 2);
    for (uint32_t k = 0; k < NCONSTS; k++) {
        assert_int_equal(q->const_type[k], p->const_type[k]);
        if (q->const_type[k] == QT_STRING) {
            /* a pointer into the new pool */
            const char *s = q_val_str(q->consts[k]);
            assert_true(s >= q->blob && s + q->consts[k].d <= q->blob + q->blob_len);
            assert_int_equal(q->consts[k].d, 3);
            assert_memory_equal(s, "abc", 3);
        } else {
            assert_int_equal(q->consts[k].n, p->consts[k].n);
            assert_int_equal(q->consts[k].d, p->consts[k].d);
        }
    }
    uint8_t *buf2;
    size_t len2;
    write_program(q, &buf2, &len2);
    assert_int_equal(len2, len);
    assert_memory_equal(buf2, buf, len);

    free(buf2);
    free(buf);
    prog_free(q);
    prog_free(p);
}

static void test_empty_tables_round_trip(void **state)
{
    (void)state;
    /* the smallest valid program: a pool with "" and nothing else */
    q_program *p = calloc(1, sizeof *p);
    p->blob = calloc(1, 1);
    p->blob_len = 1;
    p->str_off = calloc(1, sizeof *p->str_off);
    p->nstr = 1;
    p->tier_type = QUY_NONE;
    char err[256];
    assert_true(bc_verify(p, err, sizeof err));
    uint8_t *buf;
    size_t len;
    write_program(p, &buf, &len);
    q_program *q = bc_read(buf, len, err, sizeof err);
    if (!q) fail_msg("bc_read: %s", err);
    assert_int_equal(q->ncode, 0);
    assert_int_equal(q->nstr, 1);
    assert_int_equal(q->tier_type, QUY_NONE);
    prog_free(q);
    prog_free(p);
    free(buf);
}

static void test_truncated(void **state)
{
    (void)state;
    q_program *p = good_program();
    uint8_t *buf;
    size_t len;
    write_program(p, &buf, &len);
    for (size_t n = 0; n < len; n++) {
        /* a copy of exactly n bytes, so ASan sees any over-read */
        uint8_t *cut = malloc(n ? n : 1);
        memcpy(cut, buf, n);
        char err[256] = "";
        q_program *q = bc_read(cut, n, err, sizeof err);
        if (q) fail_msg("a file truncated to %zu of %zu bytes was accepted", n, len);
        if (!strstr(err, "truncated at byte")) fail_msg("truncated to %zu bytes: message '%s'", n, err);
        free(cut);
    }
    char err[256] = "";
    assert_null(bc_read(NULL, 0, err, sizeof err));
    assert_non_null(strstr(err, "truncated at byte 0"));
    free(buf);
    prog_free(p);
}

static void test_every_byte_flipped(void **state)
{
    (void)state;
    q_program *p = good_program();
    uint8_t *buf;
    size_t len;
    write_program(p, &buf, &len);
    uint8_t *copy = malloc(len);
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit += 7) {
            memcpy(copy, buf, len);
            copy[i] ^= (uint8_t)(1u << bit);
            char err[256] = "";
            q_program *q = bc_read(copy, len, err, sizeof err);
            if (q) fail_msg("byte %zu with bit %d flipped was accepted", i, bit);
            assert_true(err[0] != 0);
            if (i < 4)
                assert_non_null(strstr(err, "magic"));
            else if (i < 8)
                assert_non_null(strstr(err, "version"));
            else if (i < 12)
                assert_non_null(strstr(err, "flags"));
            else if (i >= 20)
                assert_non_null(strstr(err, "checksum"));
        }
    }
    free(copy);
    free(buf);
    prog_free(p);
}

static void test_header_errors(void **state)
{
    (void)state;
    q_program *p = good_program();
    uint8_t *buf;
    size_t len;
    write_program(p, &buf, &len);
    char err[256];

    /* wrong version: the message names both */
    uint8_t *b = malloc(len + 16);
    memcpy(b, buf, len);
    b[4] = 7;
    reseal(b, len);
    assert_null(bc_read(b, len, err, sizeof err));
    assert_non_null(strstr(err, "version 7"));
    char cur[32];
    snprintf(cur, sizeof cur, "version %u", (unsigned)QUY_BC_VERSION);
    assert_non_null(strstr(err, cur));

    /* trailing garbage */
    memcpy(b, buf, len);
    b[len] = 0;
    assert_null(bc_read(b, len + 1, err, sizeof err));
    assert_non_null(strstr(err, "trailing garbage"));

    /* not a bytecode file */
    assert_null(bc_read((const uint8_t *)"-- a ruleset\n", 13, err, sizeof err));
    assert_non_null(strstr(err, "magic"));

    /* a payload length that announces more than there is */
    memcpy(b, buf, len);
    b[19] = 0x80;
    assert_null(bc_read(b, len, err, sizeof err));
    assert_non_null(strstr(err, "truncated at byte"));

    /* a payload with trailing bytes inside it, correctly sealed */
    memcpy(b, buf, len - 8);
    memset(b + len - 8, 0, 4);
    uint64_t plen = len - 28 + 4;
    for (int i = 0; i < 8; i++) b[12 + i] = (uint8_t)(plen >> (8 * i));
    reseal(b, len + 4);
    assert_null(bc_read(b, len + 4, err, sizeof err));
    assert_non_null(strstr(err, "trailing garbage"));

    /* a table count far beyond the file, correctly sealed: no huge allocation */
    memcpy(b, buf, len);
    b[20 + 16] = 0xff, b[20 + 17] = 0xff, b[20 + 18] = 0xff, b[20 + 19] = 0x7f; /* nlayers */
    reseal(b, len);
    assert_null(bc_read(b, len, err, sizeof err));
    assert_non_null(strstr(err, "truncated at byte"));
    assert_non_null(strstr(err, "layers"));

    free(b);
    free(buf);
    prog_free(p);
}

/* A string constant is (pool offset, length) in the file and a pointer in
 * memory: the writer refuses a string outside the pool, the reader an
 * offset or a length past it. */
static void test_string_constant_on_disk(void **state)
{
    (void)state;
    q_program *p = good_program();
    static const char elsewhere[] = "abc";
    q_val keep = p->consts[K_STR];
    p->consts[K_STR] = q_str(elsewhere, 3);
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_false(bc_write(p, &buf, &len));
    free(buf);
    p->consts[K_STR] = keep;

    write_program(p, &buf, &len);
    uint8_t want[16];
    uint64_t off = prog_kstr_off(p, keep);
    for (int i = 0; i < 8; i++) {
        want[i] = (uint8_t)(off >> (8 * i));
        want[8 + i] = (uint8_t)((uint64_t)3 >> (8 * i));
    }
    size_t at = 0;
    unsigned found = 0;
    for (size_t i = 0; i + 16 <= len; i++)
        if (memcmp(buf + i, want, 16) == 0) at = i, found++;
    assert_int_equal(found, 1);
    for (int which = 0; which < 2; which++) { /* the offset, then the length */
        uint8_t *copy = malloc(len);
        memcpy(copy, buf, len);
        uint64_t past = (uint64_t)p->blob_len + 1;
        for (int i = 0; i < 8; i++) copy[at + 8 * which + i] = (uint8_t)(past >> (8 * i));
        reseal(copy, len);
        char err[256] = "";
        assert_null(bc_read(copy, len, err, sizeof err));
        if (!strstr(err, "constant 2: string (offset") || !strstr(err, "outside the pool"))
            fail_msg("unexpected message: %s", err);
        free(copy);
    }
    free(buf);
    prog_free(p);
}

/* Mutations behind a valid checksum reach the parser and the verifier;
 * each must be rejected cleanly or, if harmless, verify. Run under ASan
 * this shows there is no over-read or crash on any of them. */
static void test_sealed_mutations(void **state)
{
    (void)state;
    q_program *p = good_program();
    uint8_t *buf;
    size_t len;
    write_program(p, &buf, &len);
    uint8_t *copy = malloc(len);
    static const uint8_t xors[] = {0x01, 0x80, 0xff, 0x10};
    unsigned rejected = 0, accepted = 0;
    for (size_t i = 20; i < len - 8; i++) {
        for (size_t x = 0; x < sizeof xors; x++) {
            memcpy(copy, buf, len);
            copy[i] ^= xors[x];
            reseal(copy, len);
            char err[256] = "";
            q_program *q = bc_read(copy, len, err, sizeof err);
            if (q) {
                accepted++;
                char err2[256];
                assert_true(bc_verify(q, err2, sizeof err2));
                prog_free(q);
            } else {
                rejected++;
                assert_true(err[0] != 0);
            }
        }
    }
    assert_true(rejected > 0);
    (void)accepted;
    free(copy);
    free(buf);
    prog_free(p);
}

/* ---------------------------------------------------------------------
 * The verifier on corrupted programs
 * ------------------------------------------------------------------- */

static void test_verify_bad_jump(void **state)
{
    (void)state;
    q_program *p = good_program();
    p->code[11].b = 9999;
    expect_reject(p, "instruction 11 (CLAUSE): jump target 9999 outside code (ncode 27)");

    p = good_program();
    p->code[11].b = 8;
    expect_reject(p, "instruction 11 (CLAUSE): backward jump to 8");

    p = good_program();
    p->code[22].b = 21; /* QSTEP must return to its QNEXT */
    expect_reject(p, "instruction 22 (QSTEP): target 21 is not the QNEXT heading loop register 0");
}

static void test_verify_bad_const(void **state)
{
    (void)state;
    q_program *p = good_program();
    p->code[9].b = 99;
    expect_reject(p, "instruction 9 (PUSHK): constant index 99 out of range (nconsts 6)");

    p = good_program();
    p->consts[K_STR].d = 100000;
    expect_reject(p, "constant 2: string does not lie inside the string pool");

    static const char elsewhere[] = "abc"; /* the right bytes, but not the pool's */
    p = good_program();
    p->consts[K_STR] = q_str(elsewhere, 3);
    expect_reject(p, "constant 2: string does not lie inside the string pool");

    p = good_program();
    p->consts[K_PCT90].d = 0;
    expect_reject(p, "constant 1: percent with denominator 0");
}

static void test_verify_stack_underflow(void **state)
{
    (void)state;
    q_program *p = good_program();
    p->code[8].op = OP_NOP;
    expect_reject(p, "instruction 10 (GE): stack underflow: needs 2 values, has 1");

    p = good_program();
    p->code[0].op = OP_POP;
    expect_reject(p, "instruction 0 (POP): stack underflow: needs 1 values, has 0");
}

static void replace_rate_block(q_program *p, uint32_t npush)
{
    /* keep the check (0..7); the rate block pushes npush constants and pops them */
    uint32_t n = 8 + 2 * npush + 1;
    p->code = realloc(p->code, n * sizeof *p->code);
    p->code_pos = realloc(p->code_pos, n * sizeof *p->code_pos);
    for (uint32_t i = 0; i < npush; i++) p->code[8 + i] = (q_instr){OP_PUSHK, 0, 0, K_TEN};
    for (uint32_t i = 0; i < npush; i++) p->code[8 + npush + i] = (q_instr){OP_POP, 0, 0, 0};
    p->code[n - 1] = (q_instr){OP_HALT, 0, 0, 0};
    for (uint32_t i = 8; i < n; i++) p->code_pos[i] = 0;
    p->ncode = n;
}

static void test_verify_stack_overflow(void **state)
{
    (void)state;
    char err[256];
    q_program *p = build_program();
    replace_rate_block(p, QUY_MAX_STACK);
    if (!bc_verify(p, err, sizeof err)) fail_msg("%d values should fit: %s", QUY_MAX_STACK, err);
    assert_int_equal(p->max_stack, QUY_MAX_STACK);
    prog_free(p);

    p = build_program();
    replace_rate_block(p, QUY_MAX_STACK + 1);
    expect_reject(p, "instruction 72 (PUSHK): stack overflow: depth 65 exceeds QUY_MAX_STACK 64");
}

static void test_verify_join_depth(void **state)
{
    (void)state;
    q_program *p = good_program();
    p->code[3].b = 6; /* taken keeps 1 value; the other path reaches 6 with 2 */
    expect_reject(p, "stack depth");

    p = good_program();
    p->code[25].op = OP_NOP; /* the flag's value is left on the stack */
    expect_reject(p, "instruction 26 (HALT): stack depth 1 at HALT, a rate block must end with 0");
}

static void test_verify_loops(void **state)
{
    (void)state;
    q_program *p = good_program();
    p->code[23] = (q_instr){OP_PUSHK, 0, 0, K_TRUE}; /* no QEND */
    expect_reject(p, "instruction 20 (QNEXT): its exit 23 is not the QEND of loop register 0");

    p = good_program();
    p->code[22].a = 1;
    expect_reject(p, "instruction 22 (QSTEP): loop register 1 is not the innermost loop (0 is)");

    p = good_program();
    p->code[20].a = 9;
    expect_reject(p, "instruction 19 (QBEGIN): not followed by the QNEXT of loop register 0");

    p = good_program();
    p->code[21].a = 3;
    expect_reject(p, "instruction 21 (ELEMF): loop register 3 is not active");

    p = good_program();
    p->code[19].b = 0; /* tasks_total is not a list */
    expect_reject(p, "instruction 19 (QBEGIN): slot 0 ('tasks_total') is not a list");

    p = good_program();
    p->code[21].b = 2; /* task has two fields */
    expect_reject(p, "instruction 21 (ELEMF): struct field 2 out of range (the struct has 2 fields)");

    p = good_program();
    p->code[21].op = OP_ELEM;
    expect_reject(p, "instruction 21 (ELEM): loop register 0 iterates a list of structs");

    p = good_program();
    p->code[19].c = 9;
    expect_reject(p, "instruction 19 (QBEGIN): unknown quantifier kind 9");
}

static void test_verify_bad_slot(void **state)
{
    (void)state;
    q_program *p = good_program();
    p->code[8].a = 7;
    expect_reject(p, "instruction 8 (LOADF): slot 7 out of range (kind 'member' has 3 fields)");

    p = good_program();
    p->code[12].a = 3;
    expect_reject(p, "instruction 12 (IFABSENT): slot 3 out of range");

    p = good_program();
    p->code[12].c = 1; /* absent: the rule fails, via CLAUSE 16's failure jump */
    char err[256];
    if (!bc_verify(p, err, sizeof err)) fail_msg("IFABSENT c = 1: %s", err);
    prog_free(p);

    p = good_program();
    p->code[12].c = 2;
    expect_reject(p, "instruction 12 (IFABSENT): unknown mode c = 2 (0 or 1)");

    p = good_program();
    p->code[12].c = 1;
    p->code[12].b = 16; /* does not follow a CLAUSE */
    expect_reject(p, "instruction 12 (IFABSENT): with c = 1 the target 16 must follow a CLAUSE");

    p = good_program();
    p->code[4].a = 0; /* LEN of a non-list */
    expect_reject(p, "instruction 4 (LEN): slot 0 ('tasks_total') is not a list");
}

static void test_verify_missing_halt(void **state)
{
    (void)state;
    q_program *p = good_program();
    p->code[26].op = OP_NOP;
    expect_reject(p, "instruction 26 (NOP): runs off the end of the code (ncode 27) without HALT");

    p = good_program();
    p->code[7].op = OP_NOP; /* the check falls into the rate block */
    expect_reject(p, "reached from both");
}

static void test_verify_indices(void **state)
{
    (void)state;
    q_program *p = good_program();
    p->code[8].op = 200;
    expect_reject(p, "instruction 8: unknown opcode 200");

    p = good_program();
    p->rules[0].cite = 9999;
    expect_reject(p, "rules[0].cite: string id 9999 out of range");

    p = good_program();
    p->code[17].a = 5;
    expect_reject(p, "instruction 17 (DECIDE): rule 5 out of range (nrules 2)");

    p = good_program();
    p->code[16].a = 3;
    expect_reject(p, "instruction 16 (CLAUSE): clause 3 out of range (nclauses 3)");

    p = good_program();
    p->code[25].a = 1;
    expect_reject(p, "instruction 25 (FLAG): flag 1 out of range (nflags 1)");

    p = good_program();
    p->kinds[0].nfields = 9;
    expect_reject(p, "kind 0: fields 0..+9 out of range");

    p = good_program();
    p->kinds[0].entry = 500;
    expect_reject(p, "kinds[0].entry: index 500 out of range (ncode 27, or none)");

    p = good_program();
    p->rules[0].first_clause = 2;
    expect_reject(p, "rule 0: clauses 2..+2 out of range");

    p = good_program();
    p->clauses[1].nreads = 5;
    expect_reject(p, "clause 1: reads 1..+5 out of range");

    p = good_program();
    p->reads[1] = 40;
    expect_reject(p, "clause 1: reads slot 40");

    p = good_program();
    p->types[4].elem = 77;
    expect_reject(p, "type 4: list element type 77 out of range");

    p = good_program();
    p->str_off[3] = p->blob_len + 1;
    expect_reject(p, "string offsets[3]: index");

    p = good_program();
    p->blob[p->blob_len - 1] = 'x';
    expect_reject(p, "not NUL");

    p = good_program();
    p->fields[2].slot = 5;
    expect_reject(p, "kind 0: field 2 has slot 5, expected 2");

    p = good_program();
    p->code[12].op = OP_CALLHOOK;
    expect_reject(p, "instruction 12 (CALLHOOK): hook 1 out of range (nhooks 0)");

    p = good_program();
    p->checks[0].entry = 8; /* the rate block's entry */
    expect_reject(p, "entry of check 0 of kind 'member' is already part of the rate block");
}

/* ---------------------------------------------------------------------
 * The disassembler
 * ------------------------------------------------------------------- */

static char *capture_disasm(const q_program *p)
{
    char *text = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&text, &n);
    assert_non_null(f);
    disasm_print(p, f);
    fclose(f);
    return text;
}

static void test_disasm(void **state)
{
    (void)state;
    q_program *p = good_program();
    char *text = capture_disasm(p);
    static const char *const want[] = {
        "; Quy bytecode: central-124 2024.1",
        "; layers: central-124",
        "K1     percent  90%",
        "K2     string   \"abc\"",
        "K3     date     2024-12-31",
        "kind 0 member \"Đảng viên\": 3 fields, 1 checks, 2 rules, rate block at 8",
        "tasks_total",
        "list of task (struct)",
        "done_share               percent  \"Tỉ lệ hoàn thành\" optional",
        "check 0 (blames tasks_total): tasks_total >= 0 and len(tasks) >= 0",
        ";; ==== rule 0 excellent -> htxsnv  [124-QĐ/TW Điều 12, 4.1]  (layer central-124) ====",
        ";; -- clause 0: tasks_total >= 10",
        ";; -- clause 1 (if present): done_share >= 90%",
        ";; ==== rule 1 otherwise -> htnv (otherwise)",
        ";; ---- flag 0 late  [124-QĐ/TW Điều 12, 5]",
        "PUSHK     K0             ; int 10",
        "LOADF     0              ; tasks_total",
        "IFABSENT  1 -> 17        ; done_share",
        "QBEGIN    L0 2 all       ; all over tasks",
        "ELEMF     L0 0           ; tasks.done",
        "CLAUSE    C0 -> 18       ; tasks_total >= 10",
        "DECIDE    R0 -> 19       ; rule excellent -> htxsnv",
        "FLAG      F0             ; flag late",
        "@ rules/central.quy:6",
        "quota htxsnv <= 20% of httnv per peer_group round down",
        "    26  HALT",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(text, want[i])) fail_msg("disassembly lacks '%s':\n%s", want[i], text);
    free(text);

    /* an unverified, damaged program prints without crashing */
    p->code[9].b = 99;
    p->code[8].op = 250;
    p->code[21].a = 200;
    p->rules[0].name = 9999;
    p->kinds[0].nfields = 100;
    text = capture_disasm(p);
    assert_non_null(strstr(text, "???"));
    free(text);
    prog_free(p);
}

static char *capture_opcodes_md(void)
{
    char *text = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&text, &n);
    assert_non_null(f);
    disasm_opcodes_md(f);
    fclose(f);
    return text;
}

static void test_opcodes_md(void **state)
{
    (void)state;
    char *md = capture_opcodes_md();
    for (int op = 0; op < OP__COUNT; op++) {
        char cell[64];
        snprintf(cell, sizeof cell, "| `%s` |", op_table[op].name);
        assert_non_null(strstr(md, cell));
    }
    assert_non_null(strstr(md, "| `JFKEEP` | JUMP | 1 | 1 |"));

    /* docs/bytecode.md carries the generated table verbatim */
    FILE *f = fopen(QUY_SOURCE_DIR "/docs/bytecode.md", "rb");
    if (!f) fail_msg("cannot open docs/bytecode.md");
    char *doc = calloc(1, 1 << 20);
    size_t n = fread(doc, 1, (1 << 20) - 1, f);
    doc[n] = 0;
    fclose(f);
    if (!strstr(doc, md))
        fail_msg("docs/bytecode.md is out of date with QUY_OPCODES: regenerate its opcode table with "
                 "`quy disasm --opcodes` (disasm_opcodes_md)");
    free(doc);
    free(md);
}

/* C3: operand types (the reliability issue's bytecode-01: STREQ on numbers). */
static void test_verify_operand_types(void **state)
{
    (void)state;
    q_program *p = good_program();
    p->code[10].op = OP_STREQ;
    expect_reject(p, "instruction 10 (STREQ): operand 1 is a number, but STREQ takes a string");

    p = good_program();
    p->code[9].b = K_DATE;
    expect_reject(p, "instruction 10 (GE): cannot compare a number with a date");

    p = good_program();
    p->code[9].b = K_STR;
    expect_reject(p, "instruction 10 (GE): cannot compare a number with a string");

    p = good_program();
    p->code[8].c = 1; /* a hook argument's 'absent' compared */
    expect_reject(p, "instruction 10 (GE): cannot compare a value that may be absent with a number");

    p = good_program();
    p->code[24].op = OP_NEG; /* NEG on the quantifier's bool */
    expect_reject(p, "instruction 24 (NEG): operand 1 is a bool, but NEG takes a number");

    p = good_program();
    p->code[14].b = K_STR; /* done_share >= "abc" */
    expect_reject(p, "instruction 15 (GE): cannot compare a number with a string");
}

/* C5: a check leaves a bool. */
static void test_verify_block_result(void **state)
{
    (void)state;
    q_program *p = good_program();
    p->code[2].op = OP_ADD; /* tasks_total + 0: a number, then JFKEEP takes it as a truth value */
    p->code[6].op = OP_ADD; /* ... and the check leaves a number on one path, a bool on none */
    expect_reject(p, "instruction 7 (HALT): the block leaves a number, but its use needs a bool");
}

/* C4: loops exit past their body; ELEM only on an element (bytecode-05/06). */
static void test_verify_loop_exit(void **state)
{
    (void)state;
    q_program *p = good_program();
    p->code[20].b = 21; /* QNEXT exits into its own body */
    expect_reject(p, "instruction 20 (QNEXT): its exit 21 is not the QEND of loop register 0");

    p = good_program();
    p->code[20].b = 22;
    expect_reject(p, "instruction 20 (QNEXT): its exit 22 is not the QEND");

    p = good_program();
    p->code[23].a = 1; /* QEND of another register */
    expect_reject(p, "is not the QEND of loop register 0");

    p = good_program();
    p->code[19].op = OP_NOP; /* QNEXT with no QBEGIN */
    expect_reject(p, "instruction 20 (QNEXT): loop register 0 is not active (no loop is)");
}

/* T5: a field's default has the field's type (bytecode-04). */
static void test_verify_defaults(void **state)
{
    (void)state;
    q_program *p = good_program();
    p->fields[4].deflt = K_STR;
    expect_reject(p, "field 4 ('score'): its default, constant 2, is a string, but the field is a int");

    p = good_program();
    p->fields[4].flags = 0;
    expect_reject(p, "field 4: the default flag and the default constant disagree");

    p = good_program();
    p->fields[4].deflt = 77;
    expect_reject(p, "fields[4].deflt: index 77 out of range (nconsts 6, or none)");
}

/* T4: no table entry owned twice (bytecode-03). */
static void test_verify_overlaps(void **state)
{
    (void)state;
    q_program *p = good_program();
    p->types[1] = p->types[3]; /* two struct types own fields 3..4 */
    expect_reject(p, "field 3 belongs to type 1 and to type 3 (ranges overlap)");

    p = good_program();
    p->kinds[0].first_check = 0;
    p->kinds[0].nchecks = 2; /* one check only */
    expect_reject(p, "kind 0: checks 0..+2 out of range (nchecks 1)");
}

/* Every opcode declares its operand types (QUY_OPCODE_TYPES), once: the
 * verifier rejects an opcode that has none, so a new opcode without its
 * line fails here first. */
static void test_opcode_types_declared(void **state)
{
    (void)state;
    int seen[OP__COUNT] = {0};
#define OPT_SEEN(name, in, out) seen[OP_##name]++;
    QUY_OPCODE_TYPES(OPT_SEEN)
#undef OPT_SEEN
    for (int op = 0; op < OP__COUNT; op++)
        if (seen[op] != 1) fail_msg("opcode %s: %d QUY_OPCODE_TYPES lines (want 1)", op_table[op].name, seen[op]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tables),
        cmocka_unit_test(test_find_and_locate),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_string_constant_on_disk),
        cmocka_unit_test(test_empty_tables_round_trip),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_every_byte_flipped),
        cmocka_unit_test(test_header_errors),
        cmocka_unit_test(test_sealed_mutations),
        cmocka_unit_test(test_verify_bad_jump),
        cmocka_unit_test(test_verify_bad_const),
        cmocka_unit_test(test_verify_stack_underflow),
        cmocka_unit_test(test_verify_stack_overflow),
        cmocka_unit_test(test_verify_join_depth),
        cmocka_unit_test(test_verify_loops),
        cmocka_unit_test(test_verify_bad_slot),
        cmocka_unit_test(test_verify_missing_halt),
        cmocka_unit_test(test_verify_indices),
        cmocka_unit_test(test_verify_operand_types),
        cmocka_unit_test(test_verify_block_result),
        cmocka_unit_test(test_verify_loop_exit),
        cmocka_unit_test(test_verify_defaults),
        cmocka_unit_test(test_verify_overlaps),
        cmocka_unit_test(test_opcode_types_declared),
        cmocka_unit_test(test_disasm),
        cmocka_unit_test(test_opcodes_md),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
