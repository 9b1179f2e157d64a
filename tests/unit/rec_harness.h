/*
 * rec_harness.h — read a whole input with the record reader and keep
 * copies of the good records, the errors and the warnings (test_record.c,
 * test_record_strict.c; with rec_fixture.h's program). Header-only, the
 * cmocka setup/teardown of those tests. read_all starts afresh, read_more
 * adds to what earlier reads kept; set `lim` first to read under other
 * limits.
 */
#ifndef QUY_REC_HARNESS_H
#define QUY_REC_HARNESS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rec_fixture.h"
#include "record.h"

#define RH_MAX 32 /* records, errors and warnings kept by one read */

typedef struct run {
    q_program *p;
    rec_limits lim; /* zero: the defaults */
    q_record *recs[RH_MAX];
    int nrecs;
    rec_error errs[RH_MAX];
    int nerrs;
    rec_error warns[RH_MAX];
    int nwarns;
} run;

static inline void on_warn(void *ctx, const rec_error *w)
{
    run *r = ctx;
    if (r->nwarns < RH_MAX) r->warns[r->nwarns++] = *w;
}

static inline void clear(run *r)
{
    for (int i = 0; i < r->nrecs; i++) rec_free(r->recs[i]);
    r->nrecs = r->nerrs = r->nwarns = 0;
}

/* Read `text` as input "input.x" in format fmt, keeping what was kept. */
static inline void read_more(run *out, const char *text, rec_format fmt)
{
    FILE *f = fmemopen((void *)(uintptr_t)text, strlen(text), "r");
    assert_non_null(f);
    rec_reader *rd = rec_reader_open(out->p, f, "input.x", fmt);
    assert_non_null(rd);
    rec_reader_set_limits(rd, &out->lim);
    rec_reader_on_warning(rd, on_warn, out);
    for (int guard = 0; guard < 100; guard++) {
        q_record *rec = NULL;
        rec_error err;
        memset(&err, 0, sizeof err);
        int rc = rec_reader_next(rd, &rec, &err);
        if (rc == 0) break;
        if (rc == 1) {
            assert_true(out->nrecs < RH_MAX);
            out->recs[out->nrecs++] = rec_copy(out->p, rec);
        } else {
            assert_int_equal(rc, -1);
            assert_true(out->nerrs < RH_MAX);
            out->errs[out->nerrs++] = err;
        }
    }
    rec_reader_free(rd);
    fclose(f);
}

/* The same, after forgetting earlier reads. */
static inline void read_all(run *out, const char *text, rec_format fmt)
{
    clear(out);
    read_more(out, text, fmt);
}

static inline int setup(void **state)
{
    run *r = calloc(1, sizeof *r);
    r->p = fx_program();
    *state = r;
    return 0;
}

static inline int teardown(void **state)
{
    run *r = *state;
    clear(r);
    fx_free(r->p);
    free(r);
    return 0;
}

static inline void assert_q(q_val v, int64_t n, int64_t d)
{
    assert_int_equal(v.n, n);
    assert_int_equal(v.d, d);
}

#endif /* QUY_REC_HARNESS_H */
