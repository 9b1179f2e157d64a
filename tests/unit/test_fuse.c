/*
 * test_fuse.c — the specialised instructions (issue 15): QUY_FUSED in
 * runtime/opcodes.h, the pass compiler/cg_opt.c, the fast paths in
 * runtime/vm_exec.inc, the matcher runtime/vm_fuse.c.
 *
 * Differential: every shipped ruleset (and the batch fixtures) compiled
 * with and without the pass rates the same seeded random records — values
 * near the rules' constants, absent fields, extreme integers — to the same
 * outcome, rule, flags, notes and error (with the same source position),
 * evaluates every check and batch expression to the same value, and
 * traces the same events (the tracing VM runs the generic body). Every
 * fused opcode must have been dispatched by some record.
 *
 * Verifier: a fused instruction that is not exactly the fusion of the
 * instructions after it, or whose body is cut short, is rejected.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compiler.h"
#include "hook.h"
#include "program.h"
#include "record.h"
#include "vm.h"
#include "vm_fuse.h"

#define RECORDS_PER_KIND 3000
#define MAX_ELEMS 512
#define TRACE_CAP 4096

/* splitmix64 */
static uint64_t rnd_state;
static uint64_t rnd(void)
{
    uint64_t z = (rnd_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static int64_t rnd_in(int64_t lo, int64_t hi) { return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1)); }

static const char *const strings[] = {"", "a", "CB-01", "DB-0001", "x y"};

/* A value of scalar type t, near the constants rules compare with;
 * enum and scale values not below `lo`. */
static q_val rnd_scalar(const q_program *p, uint32_t t, int64_t lo)
{
    const q_type *ty = &p->types[t];
    static const int64_t dens[] = {1, 1, 1, 2, 3, 10, 100, 10000};
    switch (ty->kind) {
    case QT_INT:
        switch (rnd() % 16) {
        case 0: return q_int(INT64_MIN);
        case 1: return q_int(INT64_MAX);
        case 2: return q_int(rnd_in(-3, -1));
        case 3: return q_int((int64_t)1 << 62);
        default: return q_int(rnd_in(0, 12));
        }
    case QT_DECIMAL:
    case QT_PERCENT: {
        int64_t d = dens[rnd() % 8];
        q_val v;
        if (q_make(rnd_in(-d, 2 * d), d, &v) != Q_OK) v = q_int(0);
        return v;
    }
    case QT_BOOL: return q_bool(rnd() & 1);
    case QT_DATE: return q_int(rnd_in(19000, 20500));
    case QT_STRING: {
        const char *s = strings[rnd() % (sizeof strings / sizeof strings[0])];
        return q_str(s, strlen(s));
    }
    case QT_ENUM:
    case QT_SCALE: return q_int(ty->count ? rnd_in(lo < (int64_t)ty->count ? lo : 0, (int64_t)ty->count - 1) : 0);
    default: return q_int(0);
    }
}

typedef struct rec_buf {
    q_record rec;
    q_val slots[256];
    uint8_t present[256];
    q_val elems[MAX_ELEMS];
} rec_buf;

/* A random record of kind k: each field present (optional ones 70 %,
 * others 98 %: an absent one is an error) with a random value; lists of
 * 0..8 scalars (enum values from a random floor up, so that "all >= x"
 * holds now and then) or 0..3 structs. */
static void rnd_record(const q_program *p, uint32_t k, rec_buf *b)
{
    const q_kind *kd = &p->kinds[k];
    memset(&b->rec, 0, sizeof b->rec);
    b->rec.kind = k;
    b->rec.id = "R";
    b->rec.slots = b->slots;
    b->rec.present = b->present;
    b->rec.elems = b->elems;
    uint32_t ne = 0;
    assert_true(kd->nfields <= 256);
    for (uint32_t s = 0; s < kd->nfields; s++) {
        const q_field *f = &p->fields[kd->first_field + s];
        const q_type *ty = &p->types[f->type];
        b->present[s] = rnd() % 100 < ((f->flags & (QF_OPTIONAL | QF_BATCH)) ? 70 : 98);
        if (ty->kind != QT_LIST) {
            b->slots[s] = rnd_scalar(p, f->type, 0);
            continue;
        }
        const q_type *et = &p->types[ty->elem];
        uint32_t stride = et->kind == QT_STRUCT ? et->count : 1;
        uint32_t n = (uint32_t)rnd_in(0, et->kind == QT_STRUCT ? 3 : 8);
        int64_t lo = rnd_in(0, 4);
        if (ne + n * stride > MAX_ELEMS) n = 0;
        b->slots[s] = (q_val){ne, n};
        for (uint32_t i = 0; i < n; i++)
            for (uint32_t j = 0; j < stride; j++)
                b->elems[ne++] = rnd_scalar(p, et->kind == QT_STRUCT ? p->fields[et->first + j].type : ty->elem, lo);
    }
    b->rec.nelems = ne;
}

static q_program *compile(const char *dir, const char *name, bool specialise)
{
    const char *search[2] = {QUY_SOURCE_DIR "/rulesets", dir};
    compiler *c = compiler_new(search, 2);
    assert_non_null(c);
    compiler_set_specialise(c, specialise);
    q_program *p = compiler_compile(c, name);
    if (!p) {
        diag_print(compiler_diags(c), stderr, false);
        fail_msg("%s does not compile", name);
    }
    compiler_free(c);
    return p;
}

static const char *str_or(const char *s) { return s ? s : "(null)"; }

/* Source position of a result's failing instruction. */
static uint32_t error_pos(const q_program *p, const vm_result *r)
{
    return r->error_pc < p->ncode ? p->code_pos[r->error_pc] : QUY_NONE;
}

static void same_result(const q_program *g, const vm_result *a, const q_program *f, const vm_result *b, const char *what)
{
    if (a->error != b->error || a->outcome != b->outcome || a->rule != b->rule || a->nflags != b->nflags ||
        a->nnotes != b->nnotes || error_pos(g, a) != error_pos(f, b) || (a->error == VM_ABSENT && a->error_slot != b->error_slot))
        fail_msg("%s: generic error %d outcome %d rule %u flags %u pos %u, fused error %d outcome %d rule %u flags %u pos %u",
                 what, a->error, a->outcome, a->rule, a->nflags, error_pos(g, a), b->error, b->outcome, b->rule,
                 b->nflags, error_pos(f, b));
    for (uint16_t i = 0; i < a->nflags; i++) assert_int_equal(a->flags[i], b->flags[i]);
    if (a->error == VM_HOOK) assert_string_equal(str_or(a->error_text), str_or(b->error_text));
}

static void same_trace(const vm_trace *a, const vm_trace *b)
{
    assert_int_equal(a->n, b->n);
    assert_int_equal(a->truncated, b->truncated);
    for (uint32_t i = 0; i < a->n; i++) {
        const vm_event *x = &a->ev[i], *y = &b->ev[i];
        if (x->type != y->type || x->result != y->result || x->slot != y->slot || x->idx != y->idx)
            fail_msg("trace event %u differs: type %u/%u result %u/%u slot %u/%u idx %u/%u", i, x->type, y->type,
                     x->result, y->result, x->slot, y->slot, x->idx, y->idx);
        /* hook results and notes point into each program's own hook state */
        if (x->type != EV_HOOK && x->type != EV_ADJUST) {
            assert_int_equal(x->val.n, y->val.n);
            assert_int_equal(x->val.d, y->val.d);
        }
    }
}

static vm_event ev_g[TRACE_CAP], ev_f[TRACE_CAP];

/* Rate `n` random records of every kind with both programs. */
static void differential(const q_program *g, const q_program *f, uint64_t counts[OP__COUNT], const char *name)
{
    static rec_buf b;
    char what[600];
    hook_session *hg = hook_session_new(g, NULL), *hf = hook_session_new(f, NULL);
    assert_non_null(hg);
    assert_non_null(hf);
    for (uint32_t k = 0; k < g->nkinds; k++) {
        for (int i = 0; i < RECORDS_PER_KIND; i++) {
            rnd_record(g, k, &b);
            snprintf(what, sizeof what, "%.200s kind %.200s record %d", name, prog_str(g, g->kinds[k].name), i);
            vm_result rg, rf;
            if (g->kinds[k].entry != QUY_NONE) {
                vm_rate(g, hg, &b.rec, &rg, NULL);
                vm_rate_counted(f, hf, &b.rec, &rf, counts);
                same_result(g, &rg, f, &rf, what);
                vm_rate(f, hf, &b.rec, &rf, NULL);
                same_result(g, &rg, f, &rf, what);
                vm_trace tg = {ev_g, TRACE_CAP, 0, false}, tf = {ev_f, TRACE_CAP, 0, false};
                vm_rate(g, hg, &b.rec, &rg, &tg);
                vm_rate(f, hf, &b.rec, &rf, &tf);
                same_result(g, &rg, f, &rf, what);
                same_trace(&tg, &tf);
            }
            for (uint32_t c = g->kinds[k].first_check; c < g->kinds[k].first_check + g->kinds[k].nchecks; c++) {
                q_val vg = {0, 0}, vf = {0, 0};
                int eg = vm_eval(g, hg, g->checks[c].entry, &b.rec, &vg),
                    ef = vm_eval(f, hf, f->checks[c].entry, &b.rec, &vf);
                if (eg != ef || (eg == VM_OK && (vg.n != vf.n || vg.d != vf.d)))
                    fail_msg("%s: check %u: generic %d {%lld,%lld}, fused %d {%lld,%lld}", what, c, eg, (long long)vg.n,
                             (long long)vg.d, ef, (long long)vf.n, (long long)vf.d);
            }
            for (uint32_t e = 0; e < g->nbexprs; e++) {
                if (g->bexprs[e].kind != k) continue;
                q_val vg = {0, 0}, vf = {0, 0};
                int eg = vm_eval(g, hg, g->bexprs[e].entry, &b.rec, &vg),
                    ef = vm_eval(f, hf, f->bexprs[e].entry, &b.rec, &vf);
                assert_int_equal(eg, ef);
                if (eg == VM_OK) {
                    assert_int_equal(vg.n, vf.n);
                    assert_int_equal(vg.d, vf.d);
                }
            }
        }
    }    hook_session_free(hg);
    hook_session_free(hf);
}

static void run_dir(const char *dir, bool fixture, uint64_t counts[OP__COUNT], int *nrulesets)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') continue;
        char path[1024];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s/%s.quy", dir, de->d_name, de->d_name);
        if (stat(path, &st) != 0) continue;
        q_program *g = compile(dir, fixture ? path : de->d_name, false);
        q_program *f = compile(dir, fixture ? path : de->d_name, true);
        uint32_t nfused = 0;
        for (uint32_t i = 0; i < f->ncode; i++) nfused += op_fuse_len[f->code[i].op] != 0;
        assert_int_equal(f->ncode, g->ncode + nfused);
        assert_true(nfused > 0);
        rnd_state = 42;
        differential(g, f, counts, de->d_name);
        prog_free(g);
        prog_free(f);
        ++*nrulesets;
    }
    closedir(d);
}

/* Every shape the pass fuses, in one small ruleset (the shipped ones do
 * not write some of them, e.g. share() of a count in a clause of its own). */
static const char shapes_src[] =
    "-- Every shape the specialisation pass fuses (tests/unit/test_fuse.c).\n"
    "ruleset fuse-shapes version \"1\"\n"
    "scale level { a \"A\" < b \"B\" < c \"C\" < d \"D\" }\n"
    "record member \"M\" {\n"
    "  n      : int \"N\"\n"
    "  m      : int \"M\"\n"
    "  q      : decimal \"Q\"\n"
    "  ok     : bool \"OK\"\n"
    "  ok2    : bool \"OK2\"\n"
    "  opt    : optional percent \"O\"\n"
    "  levels : list of level \"Ls\"\n"
    "  nums   : list of int \"Ns\"\n"
    "  check n >= 0 \"n\"\n"
    "  check (count nums where it > 5) <= 8 \"c\"\n"
    "}\n"
    "rate member {\n"
    "  r1: not_rated when ok cite \"X\"\n"
    "  r1b: khtnv when ok2 unless n = m cite \"X\"\n"
    "  r2: khtnv when none levels where it = a and (count levels where it < c) >= 2 and ((any nums where it > 100) or n = m) cite \"X\"\n"
    "  r3: htxsnv when share(count levels where it >= c, count levels) >= 50% and n - m >= 1 and share(n, m) < 200% and q != 1.5 cite \"X\"\n"
    "  r4: httnv when (share(m, count levels) > 50% or ok) and (share(n - m, n) > 50% or ok) and n = m and (n > 3 or ok) cite \"X\"\n"
    "  r5: htnv when (present(opt) and opt > 50%) and all nums >= 0 and all levels >= b and share(n - m, n) <= 20% cite \"X\"\n"
    "  otherwise khtnv flag gap cite \"X\"\n"
    "}\n";

static void test_differential(void **state)
{
    (void)state;
    uint64_t counts[OP__COUNT] = {0};
    int n = 0;
    run_dir(QUY_SOURCE_DIR "/rulesets", false, counts, &n);
    run_dir(QUY_SOURCE_DIR "/tests/rulesets", true, counts, &n);
    assert_true(n >= 5);

    char dir[] = "/tmp/quy-fuse-XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/fuse-shapes.quy", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(shapes_src, 1, sizeof shapes_src - 1, f), sizeof shapes_src - 1);
    assert_int_equal(fclose(f), 0);
    q_program *pg = compile(dir, "fuse-shapes", false), *pf = compile(dir, "fuse-shapes", true);
    unlink(path);
    rmdir(dir);
    for (int op = 0; op < OP__COUNT; op++) {
        bool has = false;
        for (uint32_t i = 0; i < pf->ncode; i++) has |= pf->code[i].op == op;
        if (op_fuse_len[op] && !has) fail_msg("the shapes ruleset has no %s", op_table[op].name);
    }
    rnd_state = 7;
    differential(pg, pf, counts, "fuse-shapes");
    prog_free(pg);
    prog_free(pf);
    for (int op = 0; op < OP__COUNT; op++)
        if (op_fuse_len[op] && !counts[op]) fail_msg("fused %s never dispatched by any record", op_table[op].name);
}

/* share(x, y) r K by cross-multiplication agrees with SHARE then the
 * compare on the edges: negative and zero denominators, INT64_MIN. */
static void test_share_edges(void **state)
{
    (void)state;
    static const int64_t v[] = {INT64_MIN, INT64_MIN + 1, -7, -2, -1, 0, 1, 2, 3, 7, INT64_MAX - 1, INT64_MAX};
    static const q_val ks[] = {{0, 1}, {1, 2}, {-1, 3}, {1, 1}, {7, 10}, {INT64_MAX, 1}, {INT64_MIN, 1}, {3, INT64_MAX}};
    const size_t nv = sizeof v / sizeof v[0], nk = sizeof ks / sizeof ks[0];
    /* a program whose code is the generic body and, before it, the fused
     * instruction: PUSHK x; PUSHK y; [SHAREK] SHARE PUSHK K cmp; HALT */
    q_program p;
    memset(&p, 0, sizeof p);
    q_val consts[3];
    uint8_t ctype[3] = {QT_INT, QT_INT, QT_DECIMAL};
    q_instr code[8];
    uint32_t pos[8] = {0};
    q_kind kind = {.entry = QUY_NONE};
    q_check chk = {0};
    p.consts = consts;
    p.const_type = ctype;
    p.nconsts = 3;
    p.code = code;
    p.code_pos = pos;
    p.kinds = &kind;
    p.nkinds = 1;
    p.checks = &chk;
    p.nchecks = 1;
    q_record rec = {0};
    for (int rel = 0; rel < QREL__COUNT; rel++) {
        code[0] = (q_instr){OP_PUSHK, 0, 0, 0};
        code[1] = (q_instr){OP_PUSHK, 0, 0, 1};
        code[2] = (q_instr){OP_SHAREK, (uint8_t)rel, 0, 2};
        code[3] = (q_instr){OP_SHARE, 0, 0, 0};
        code[4] = (q_instr){OP_PUSHK, 0, 0, 2};
        code[5] = (q_instr){(uint8_t)(OP_EQ + rel), 0, 0, 0};
        code[6] = (q_instr){OP_HALT, 0, 0, 0};
        p.ncode = 7;
        q_instr f;
        assert_int_equal(vm_fuse_match(&p, 3, OP_SHAREK, &f), FUSE_LEN_SHAREK);
        assert_int_equal(f.b, 2);
        assert_int_equal(f.c, rel);
        for (size_t i = 0; i < nv; i++)
            for (size_t j = 0; j < nv; j++)
                for (size_t k = 0; k < nk; k++) {
                    consts[0] = q_int(v[i]);
                    consts[1] = q_int(v[j]);
                    consts[2] = ks[k];
                    q_val generic = {0, 0}, fused = {0, 0};
                    /* first the generic body alone (a NOP in place of SHAREK), then with it */
                    code[2] = (q_instr){OP_NOP, 0, 0, 0};
                    int eg = vm_eval(&p, NULL, 0, &rec, &generic);
                    code[2] = (q_instr){OP_SHAREK, (uint8_t)rel, 0, 2};
                    int ef = vm_eval(&p, NULL, 0, &rec, &fused);
                    if (eg != ef || (eg == VM_OK && (generic.n != fused.n || generic.d != fused.d)))
                        fail_msg("share(%lld, %lld) %s %lld/%lld: generic %d %lld, fused %d %lld", (long long)v[i],
                                 (long long)v[j], vm_fuse_relop_text((uint32_t)rel), (long long)ks[k].n,
                                 (long long)ks[k].d, eg, (long long)generic.n, ef, (long long)fused.n);
                }
    }
}

/* A compiled program with its first fused instruction tampered with is
 * rejected by the verifier (round trip through the file format). */
static void test_verifier_rejects(void **state)
{
    (void)state;
    q_program *p = compile(QUY_SOURCE_DIR "/rulesets", "central-124", true);
    uint32_t at = QUY_NONE;
    for (uint32_t i = 0; i < p->ncode && at == QUY_NONE; i++)
        if (p->code[i].op == OP_CMPFKC) at = i;
    assert_true(at != QUY_NONE);
    char err[512];
    assert_true(bc_verify(p, err, sizeof err));
    q_instr saved = p->code[at];
    /* another constant, another relop, another slot: not the body's */
    p->code[at].b ^= 1;
    assert_false(bc_verify(p, err, sizeof err));
    assert_non_null(strstr(err, "not the fusion"));
    p->code[at] = saved;
    p->code[at].c = (uint8_t)((saved.c + 1) % QREL__COUNT);
    assert_false(bc_verify(p, err, sizeof err));
    p->code[at] = saved;
    p->code[at].a++;
    assert_false(bc_verify(p, err, sizeof err));
    /* a fused instruction in front of something else */
    p->code[at] = saved;
    p->code[at].op = OP_QLISTK;
    assert_false(bc_verify(p, err, sizeof err));
    /* the body changed under it */
    p->code[at] = saved;
    q_instr body = p->code[at + 3];
    p->code[at + 3].op = body.op == OP_LT ? OP_GT : OP_LT;
    assert_false(bc_verify(p, err, sizeof err));
    p->code[at + 3] = body;
    assert_true(bc_verify(p, err, sizeof err));
    /* a fused instruction at the very end: its body is cut short */
    uint32_t n = p->ncode;
    p->code[n - 1] = (q_instr){OP_FIELDC, 0, 0, 0};
    assert_false(bc_verify(p, err, sizeof err));
    prog_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_share_edges),
        cmocka_unit_test(test_verifier_rejects),
        cmocka_unit_test(test_differential),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
