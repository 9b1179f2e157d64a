/*
 * jobs_write.c — writing a run batch on several threads (quy_writer_batch).
 *
 * Formatting a result (JSON escaping, flags, the batch steps' messages,
 * and with explanations the traced re-run of the rate block and its
 * rendering) is most of the writer's cost, and each result's text depends
 * only on the batch, which batch_run has finished: so worker threads
 * format blocks of consecutive results, each with a memory writer of its
 * own (runtime/output.h, out_open(NULL, ...)), a trace buffer and a hook
 * session over the same immutable program (quy.h THREADS), and the calling
 * thread writes the finished blocks in input order with one fwrite each.
 * The bytes are those of quy_writer_result over each result in turn
 * (the memory writer is the same code; the CSV header is the file
 * writer's). A table (aligned over all rows) is written on the calling
 * thread.
 *
 * Memory: at most 2 * jobs + 2 blocks of BLOCK_RESULTS results' text.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "jobs.h"
#include "../runtime/batch_render.h"
#include "../runtime/explain.h"
#include "../runtime/output.h"
#include "../runtime/workpool.h"

enum { BLOCK_RESULTS = 256 };

typedef struct w_block {
    size_t first, n; /* results first .. first + n - 1 */
    strbuf text;     /* their text, once done */
    bool lost;       /* some of it was lost for want of memory */
} w_block;

typedef struct w_pool w_pool;

typedef struct w_worker {
    w_pool *pool;
    out_writer *out;  /* a memory writer */
    hook_session *hs; /* for the traced re-run (explanations) */
    vm_event *ev;     /* its trace buffer */
} w_worker;

struct w_pool {
    const batch *bt;
    bool explain;
    workpool wp; /* the threads; block k of wp is blocks[k] */
    w_block *blocks;
    size_t nblocks;
    w_worker *w;
    unsigned nw; /* workers made */
};

/* Results of a block into the worker's memory writer, then its text into the block. */
static void format_block(w_worker *wk, w_block *b)
{
    const batch *bt = wk->pool->bt;
    vm_trace tr = {.ev = wk->ev, .cap = QUY_TRACE_CAP};
    for (size_t i = b->first; i < b->first + b->n; i++) {
        batch_view v;
        batch_get(bt, i, &v);
        if (v.status == BATCH_REJECTED) out_rejected(wk->out, v.error);
        else batch_write_hs(bt, i, wk->out, wk->pool->explain ? &tr : NULL, true, wk->hs);
    }
    b->lost = !out_take(wk->out, &b->text);
    if (wk->pool->explain) hook_session_release_strings(wk->hs); /* the texts are made */
}

static void worker_fn(void *ctx, unsigned worker, size_t k)
{
    w_pool *pl = ctx;
    format_block(&pl->w[worker], &pl->blocks[k]);
}

static int pool_start(w_pool *pl, const quy_batch *qb, out_format fmt, unsigned jobs)
{
    const q_program *p = qb->s->rs->p;
    pl->nblocks = 2 * (size_t)jobs + 2;
    pl->blocks = calloc(pl->nblocks, sizeof *pl->blocks);
    pl->w = calloc(jobs, sizeof *pl->w);
    if (!pl->blocks || !pl->w) return -1;
    hook_limits lim = hook_session_limits(batch_hooks(qb->bt));
    for (unsigned i = 0; i < jobs; i++) {
        w_worker *wk = &pl->w[i];
        wk->pool = pl;
        pl->nw = i + 1;
        wk->out = out_open(NULL, fmt, p);
        if (!wk->out) return -1;
        if (pl->explain) {
            wk->hs = hook_session_new(p, &lim);
            wk->ev = malloc(sizeof *wk->ev * QUY_TRACE_CAP);
            if (!wk->hs || !wk->ev) return -1;
        }
    }
    return wp_start(&pl->wp, pl->nblocks, jobs, worker_fn, pl);
}

static void pool_stop(w_pool *pl)
{
    wp_stop(&pl->wp);
    for (unsigned i = 0; pl->w && i < pl->nw; i++) {
        out_close(pl->w[i].out);
        hook_session_free(pl->w[i].hs);
        free(pl->w[i].ev);
    }
    for (size_t k = 0; pl->blocks && k < pl->nblocks; k++) strbuf_free(&pl->blocks[k].text);
    free(pl->w);
    free(pl->blocks);
}

/* The next results (from *next) into block k, handed out. */
static void hand_out(w_pool *pl, size_t k, size_t *next, size_t total)
{
    w_block *b = &pl->blocks[k];
    b->first = *next;
    b->n = total - *next < BLOCK_RESULTS ? total - *next : BLOCK_RESULTS;
    *next += b->n;
    wp_ready(&pl->wp, k);
}

/* Every result, in order: blocks handed out in ring order, written as they
 * finish. -1 (nothing written) when the threads cannot be started. */
static int write_parallel(const quy_batch *qb, out_writer *out, out_format fmt, bool explain, unsigned jobs)
{
    w_pool pl;
    memset(&pl, 0, sizeof pl);
    pl.bt = qb->bt;
    pl.explain = explain;
    if (pool_start(&pl, qb, fmt, jobs) != 0) {
        pool_stop(&pl);
        return -1;
    }
    size_t total = qb->nresults, next = 0, inflight = 0; /* next: the first result not handed out */
    out_start(out);
    for (size_t k = 0; k < pl.nblocks && next < total; k++, inflight++) hand_out(&pl, k, &next, total);
    for (size_t head = 0; inflight; head = (head + 1) % pl.nblocks) { /* in ring order, as handed out */
        wp_wait(&pl.wp, head);
        w_block *b = &pl.blocks[head];
        if (b->lost) out_fail(out);
        out_put(out, b->text.s, b->text.n);
        wp_release(&pl.wp, head);
        inflight--;
        if (next < total) { /* the next results into this block */
            hand_out(&pl, head, &next, total);
            inflight++;
        }
    }
    pool_stop(&pl);
    return 0;
}

quy_status quy_writer_batch(quy_writer *w, const quy_batch *b, int explain)
{
    if (!w || !b) return qi_fail(QUY_EINVAL, "quy_writer_batch: NULL argument");
    if (!b->ran) return qi_fail(QUY_ESTATE, "quy_writer_batch: call quy_batch_run first");
    if (b->s->rs != w->rs) return qi_fail(QUY_EINVAL, "quy_writer_batch: the batch is of another ruleset");
    if (explain && !(b->flags & QUY_BATCH_EXPLAIN))
        return qi_fail(QUY_ESTATE, "quy_writer_batch: explain needs a batch made with QUY_BATCH_EXPLAIN");
    unsigned jobs = b->jobs > 1 ? b->jobs : 1;
    out_format fmt = out_format_of(w->w);
    if (jobs > 1 && fmt != OUT_TABLE && b->nresults > BLOCK_RESULTS && write_parallel(b, w->w, fmt, explain != 0, jobs) == 0)
        return QUY_OK;
    for (size_t i = 0; i < b->nresults; i++) { /* one thread (or no memory for the threads) */
        quy_status st = quy_writer_result(w, &b->results[i], explain);
        if (st != QUY_OK) return st;
    }
    return QUY_OK;
}
