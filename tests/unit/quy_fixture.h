/*
 * quy_fixture.h — compile rulesets from strings and rate JSON records
 * against them, for the cmocka tests of the checker and the VM
 * (test_sema.c, test_vm.c). Header-only; each test binary includes it once
 * and uses qfx_setup / qfx_teardown as every test's setup and teardown.
 *
 *   qfx *fx = *state;
 *   q_program *p = qfx_src(fx, "ruleset t version \"1\"\n...");   // NULL on error
 *   qfx_expect(fx, DIAG_ERROR, 13, 18, "unknown field 'x'");      // consume one
 *   int tier = qfx_tier(fx, "{'id':'r','kind':'member','a':1}"); // ' -> "
 *
 * Each ruleset is written into a fresh temporary directory that is also the
 * compiler's search path, so `extends NAME` finds NAME.quy written there by
 * qfx_file(). The teardown (and every recompile) asserts that each
 * diagnostic was consumed by a qfx_expect(): no error or warning goes
 * unnoticed (libyang's utests.h habit).
 */
#ifndef QUY_FIXTURE_H
#define QUY_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "compiler.h"
#include "diag.h"
#include "hook.h"
#include "program.h"
#include "record.h"
#include "vm.h"

#define QFX_MAX_FILES 16
#define QFX_MAX_DIAGS 256
#define QFX_TRACE_CAP 4096

typedef struct qfx {
    char dir[64];                    /* temporary directory = search path */
    char *files[QFX_MAX_FILES];      /* names written into it */
    size_t nfiles;
    compiler *c;                     /* the current compiler (one per compile) */
    q_program *p;                    /* the last program compiled, or NULL */
    bool seen[QFX_MAX_DIAGS];        /* diagnostics consumed by qfx_expect */
    rec_reader *rd;                  /* reader for p, made on first use */
    hook_session *hs;                /* hook session for p, made on first use (qfx_hooks) */
    json_t *json;                    /* the last record's JSON (kept alive) */
    rec_error rerr;                  /* why the last record was rejected */
    vm_event ev[QFX_TRACE_CAP];      /* trace buffer of qfx_rate_trace */
    vm_trace trace;
} qfx;

static inline const char *qfx_level_name(diag_level l)
{
    return l == DIAG_ERROR ? "error" : l == DIAG_WARNING ? "warning" : "note";
}

/* Print every diagnostic of the current compiler, marking consumed ones. */
static inline void qfx_dump(qfx *fx)
{
    if (!fx->c) return;
    const diag_list *d = compiler_diags(fx->c);
    for (size_t i = 0; i < d->n; i++) {
        uint32_t line = 0, col = 0;
        if (d->items[i].src) srcpos_linecol(d->items[i].src, d->items[i].span.start, &line, &col);
        print_message("  %s %u:%u: %s: %s\n", i < QFX_MAX_DIAGS && fx->seen[i] ? "[ok]" : "[!!]", line, col,
                      qfx_level_name(d->items[i].level), d->items[i].msg);
    }
}

/* Every diagnostic of the current compile was expected. */
static inline void qfx_check_consumed(qfx *fx)
{
    if (!fx->c) return;
    const diag_list *d = compiler_diags(fx->c);
    size_t left = 0;
    for (size_t i = 0; i < d->n; i++)
        if (i >= QFX_MAX_DIAGS || !fx->seen[i]) left++;
    if (left) {
        print_error("%zu diagnostic(s) left over (not expected by the test):\n", left);
        qfx_dump(fx);
    }
    assert_int_equal(left, 0);
}

static inline void qfx_release(qfx *fx)
{
    if (fx->rd) rec_reader_free(fx->rd);
    fx->rd = NULL;
    hook_session_free(fx->hs);
    fx->hs = NULL;
    if (fx->json) json_decref(fx->json);
    fx->json = NULL;
    prog_free(fx->p);
    fx->p = NULL;
    compiler_free(fx->c);
    fx->c = NULL;
    memset(fx->seen, 0, sizeof fx->seen);
}

static inline int qfx_setup(void **state)
{
    qfx *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    snprintf(fx->dir, sizeof fx->dir, "/tmp/quy-unit-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    fx->trace.ev = fx->ev;
    fx->trace.cap = QFX_TRACE_CAP;
    *state = fx;
    return 0;
}

static inline int qfx_teardown(void **state)
{
    qfx *fx = *state;
    qfx_check_consumed(fx);
    qfx_release(fx);
    for (size_t i = 0; i < fx->nfiles; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", fx->dir, fx->files[i]);
        unlink(path);
        free(fx->files[i]);
    }
    rmdir(fx->dir);
    free(fx);
    return 0;
}

/* Write `src` to DIR/FNAME (removed by the teardown). */
static inline void qfx_write(qfx *fx, const char *fname, const char *src)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", fx->dir, fname);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(src, 1, strlen(src), f), strlen(src));
    assert_int_equal(fclose(f), 0);
    for (size_t i = 0; i < fx->nfiles; i++)
        if (strcmp(fx->files[i], fname) == 0) return;
    assert_true(fx->nfiles < QFX_MAX_FILES);
    fx->files[fx->nfiles++] = strdup(fname);
}

/* Write `src` to DIR/NAME.quy. */
static inline void qfx_file(qfx *fx, const char *name, const char *src)
{
    char fn[256];
    snprintf(fn, sizeof fn, "%s.quy", name);
    qfx_write(fx, fn, src);
}

/* Compile ruleset NAME from the temporary directory. The previous
 * compile's diagnostics must all have been consumed. */
static inline q_program *qfx_compile(qfx *fx, const char *name)
{
    qfx_check_consumed(fx);
    qfx_release(fx);
    const char *search[1] = {fx->dir};
    fx->c = compiler_new(search, 1);
    assert_non_null(fx->c);
    fx->p = compiler_compile(fx->c, name);
    return fx->p;
}

/* Write `src` as DIR/main.quy and compile it. */
static inline q_program *qfx_src(qfx *fx, const char *src)
{
    qfx_file(fx, "main", src);
    return qfx_compile(fx, "main");
}

/* Compile `src`; it must compile with no diagnostic at all. */
static inline q_program *qfx_ok(qfx *fx, const char *src)
{
    q_program *p = qfx_src(fx, src);
    if (!p || compiler_diags(fx->c)->n) {
        print_error("expected a clean compile:\n");
        qfx_dump(fx);
    }
    assert_non_null(p);
    assert_int_equal(compiler_diags(fx->c)->n, 0);
    return p;
}

static inline size_t qfx_count(qfx *fx, diag_level level)
{
    const diag_list *d = compiler_diags(fx->c);
    size_t n = 0;
    for (size_t i = 0; i < d->n; i++) n += d->items[i].level == level;
    return n;
}

/* Consume the first unconsumed diagnostic of `level` at line:col whose
 * message contains `needle`; fail (listing all of them) if there is none.
 * `file` (may be NULL) must be a suffix of the diagnostic's path. */
static inline void qfx_expect_in_(qfx *fx, const char *file, diag_level level, uint32_t line, uint32_t col, const char *needle,
                           const char *srcfile, int srcline)
{
    assert_non_null(fx->c);
    const diag_list *d = compiler_diags(fx->c);
    for (size_t i = 0; i < d->n && i < QFX_MAX_DIAGS; i++) {
        const diag_entry *e = &d->items[i];
        if (fx->seen[i] || e->level != level || !strstr(e->msg, needle)) continue;
        uint32_t l = 0, c = 0;
        if (e->src) srcpos_linecol(e->src, e->span.start, &l, &c);
        if (l != line || c != col) continue;
        if (file) {
            size_t pl = strlen(e->path ? e->path : ""), fl = strlen(file);
            if (pl < fl || strcmp(e->path + pl - fl, file) != 0) continue;
        }
        fx->seen[i] = true;
        return;
    }
    print_error("%s:%d: no %s at %u:%u containing \"%s\"; diagnostics were:\n", srcfile, srcline,
                qfx_level_name(level), line, col, needle);
    qfx_dump(fx);
    _fail(srcfile, srcline);
}

#define qfx_expect(fx, level, line, col, needle) qfx_expect_in_((fx), NULL, (level), (line), (col), (needle), __FILE__, __LINE__)
#define qfx_expect_in(fx, file, level, line, col, needle) \
    qfx_expect_in_((fx), (file), (level), (line), (col), (needle), __FILE__, __LINE__)

/* ---------------------------------------------------------------------
 * Records and rating
 * ------------------------------------------------------------------- */

/* The hook session of the current program (made on first use). */
static inline hook_session *qfx_hooks(qfx *fx)
{
    assert_non_null(fx->p);
    if (!fx->hs) fx->hs = hook_session_new(fx->p, NULL);
    assert_non_null(fx->hs);
    return fx->hs;
}

/* Decode a JSON object (single quotes stand for double quotes) into a
 * record of the current program. Returns rec_decode_json's code (1 ok,
 * -1 rejected: fx->rerr says why); *out valid until the next call. */
static inline int qfx_record(qfx *fx, const char *json, q_record **out)
{
    assert_non_null(fx->p);
    if (!fx->rd) fx->rd = rec_reader_open(fx->p, NULL, "test", REC_JSON);
    assert_non_null(fx->rd);
    rec_reader_set_hooks(fx->rd, qfx_hooks(fx));
    char *buf = strdup(json);
    assert_non_null(buf);
    for (char *s = buf; *s; s++)
        if (*s == '\'') *s = '"';
    json_error_t je;
    json_t *o = json_loads(buf, 0, &je);
    if (!o) print_error("bad test JSON: %s: %s\n", je.text, buf);
    free(buf);
    assert_non_null(o);
    if (fx->json) json_decref(fx->json);
    fx->json = o;
    return rec_decode_json(fx->rd, o, 1, out, &fx->rerr);
}

static inline q_record *qfx_rec(qfx *fx, const char *json)
{
    q_record *r = NULL;
    int rc = qfx_record(fx, json, &r);
    if (rc != 1) print_error("record rejected: %s [%s] field '%s': %s\n", json, fx->rerr.code, fx->rerr.field, fx->rerr.message);
    assert_int_equal(rc, 1);
    return r;
}

/* Rate a record in fast mode; returns the vm_error. */
static inline int qfx_rate(qfx *fx, const char *json, vm_result *out)
{
    q_record *r = qfx_rec(fx, json);
    return vm_rate(fx->p, fx->hs, r, out, NULL);
}

/* Rate a record with a trace (fx->trace, reset first). */
static inline int qfx_rate_trace(qfx *fx, const char *json, vm_result *out)
{
    fx->trace.n = 0;
    fx->trace.truncated = false;
    q_record *r = qfx_rec(fx, json);
    return vm_rate(fx->p, fx->hs, r, out, &fx->trace);
}

/* Rate in both modes; both must succeed and agree (outcome, rule, flags).
 * Returns the outcome. */
static inline int qfx_tier_(qfx *fx, const char *json, vm_result *res, const char *srcfile, int srcline)
{
    vm_result a, b;
    q_record *r = qfx_rec(fx, json);
    int ra = vm_rate(fx->p, fx->hs, r, &a, NULL);
    fx->trace.n = 0;
    fx->trace.truncated = false;
    r = qfx_rec(fx, json);
    int rb = vm_rate(fx->p, fx->hs, r, &b, &fx->trace);
    if (ra != VM_OK || rb != VM_OK) {
        print_error("%s:%d: rating failed: fast %s, trace %s\n", srcfile, srcline, vm_error_message[ra],
                    vm_error_message[rb]);
        _fail(srcfile, srcline);
    }
    if (a.outcome != b.outcome || a.rule != b.rule || a.nflags != b.nflags ||
        memcmp(a.flags, b.flags, a.nflags * sizeof a.flags[0]) != 0) {
        print_error("%s:%d: fast and trace modes disagree: %s/rule %u vs %s/rule %u\n", srcfile, srcline,
                    q_outcome_code[a.outcome], a.rule, q_outcome_code[b.outcome], b.rule);
        _fail(srcfile, srcline);
    }
    assert_false(fx->trace.truncated);
    if (res) *res = a;
    return a.outcome;
}

#define qfx_tier(fx, json) qfx_tier_((fx), (json), NULL, __FILE__, __LINE__)
#define qfx_tier_res(fx, json, res) qfx_tier_((fx), (json), (res), __FILE__, __LINE__)

/* Name of the rule that decided, for assertions. */
static inline const char *qfx_rule_name(const q_program *p, const vm_result *r)
{
    return r->rule < p->nrules ? prog_str(p, p->rules[r->rule].name) : "";
}

/* Name of flag i of a result. */
static inline const char *qfx_flag_name(const q_program *p, const vm_result *r, uint16_t i)
{
    return i < r->nflags && r->flags[i] < p->nflagdefs ? prog_str(p, p->flags[r->flags[i]].name) : "";
}

#endif /* QUY_FIXTURE_H */
