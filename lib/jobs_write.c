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
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "jobs.h"
#include "../runtime/batch_render.h"
#include "../runtime/explain.h"
#include "../runtime/output.h"

enum { BLOCK_RESULTS = 256 };
enum { W_FREE, W_READY, W_BUSY, W_DONE }; /* w_block.state */

typedef struct w_block {
    int state;
    size_t first, n; /* results first .. first + n - 1 */
    strbuf text;     /* their text, once done */
    bool lost;       /* some of it was lost for want of memory */
} w_block;

typedef struct w_pool w_pool;

typedef struct w_worker {
    w_pool *pool;
    pthread_t th;
    bool started;
    out_writer *out;  /* a memory writer */
    hook_session *hs; /* for the traced re-run (explanations) */
    vm_event *ev;     /* its trace buffer */
} w_worker;

struct w_pool {
    const batch *bt;
    bool explain;
    pthread_mutex_t mu;
    pthread_cond_t work, done;
    w_block *blocks;
    size_t nblocks;
    bool quit;
    w_worker *w;
    unsigned nw;
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

static void *worker_main(void *arg)
{
    w_worker *wk = arg;
    w_pool *pl = wk->pool;
    pthread_mutex_lock(&pl->mu);
    for (;;) {
        w_block *b = NULL;
        for (size_t k = 0; k < pl->nblocks && !b; k++)
            if (pl->blocks[k].state == W_READY) b = &pl->blocks[k];
        if (b) {
            b->state = W_BUSY;
            pthread_mutex_unlock(&pl->mu);
            format_block(wk, b);
            pthread_mutex_lock(&pl->mu);
            b->state = W_DONE;
            pthread_cond_broadcast(&pl->done);
            continue;
        }
        if (pl->quit) break;
        pthread_cond_wait(&pl->work, &pl->mu);
    }
    pthread_mutex_unlock(&pl->mu);
    return NULL;
}

static int pool_start(w_pool *pl, const quy_batch *qb, out_format fmt, unsigned jobs)
{
    const q_program *p = qb->s->rs->p;
    pl->nblocks = 2 * (size_t)jobs + 2;
    pl->blocks = calloc(pl->nblocks, sizeof *pl->blocks);
    pl->w = calloc(jobs, sizeof *pl->w);
    if (!pl->blocks || !pl->w) return -1;
    pthread_mutex_init(&pl->mu, NULL);
    pthread_cond_init(&pl->work, NULL);
    pthread_cond_init(&pl->done, NULL);
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
        if (pthread_create(&wk->th, NULL, worker_main, wk) != 0) return -1;
        wk->started = true;
    }
    return 0;
}

static void pool_stop(w_pool *pl)
{
    if (pl->blocks && pl->w) {
        pthread_mutex_lock(&pl->mu);
        pl->quit = true;
        pthread_cond_broadcast(&pl->work);
        pthread_mutex_unlock(&pl->mu);
        for (unsigned i = 0; i < pl->nw; i++)
            if (pl->w[i].started) pthread_join(pl->w[i].th, NULL);
        pthread_mutex_destroy(&pl->mu);
        pthread_cond_destroy(&pl->work);
        pthread_cond_destroy(&pl->done);
    }
    for (unsigned i = 0; pl->w && i < pl->nw; i++) {
        out_close(pl->w[i].out);
        hook_session_free(pl->w[i].hs);
        free(pl->w[i].ev);
    }
    for (size_t k = 0; pl->blocks && k < pl->nblocks; k++) strbuf_free(&pl->blocks[k].text);
    free(pl->w);
    free(pl->blocks);
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
    size_t total = qb->nresults, next = 0; /* the first result not handed out */
    out_start(out);
    pthread_mutex_lock(&pl.mu);
    for (size_t k = 0; k < pl.nblocks && next < total; k++) {
        pl.blocks[k] = (w_block){W_READY, next, total - next < BLOCK_RESULTS ? total - next : BLOCK_RESULTS, {0}, false};
        next += pl.blocks[k].n;
    }
    pthread_cond_broadcast(&pl.work);
    for (size_t head = 0; pl.blocks[head].state != W_FREE; head = (head + 1) % pl.nblocks) {
        w_block *b = &pl.blocks[head];
        while (b->state != W_DONE) pthread_cond_wait(&pl.done, &pl.mu);
        pthread_mutex_unlock(&pl.mu);
        if (b->lost) out_fail(out);
        out_put(out, b->text.s, b->text.n);
        pthread_mutex_lock(&pl.mu);
        b->state = W_FREE;
        if (next < total) { /* the next block of results into this one */
            b->first = next;
            b->n = total - next < BLOCK_RESULTS ? total - next : BLOCK_RESULTS;
            next += b->n;
            b->state = W_READY;
            pthread_cond_signal(&pl.work);
        }
    }
    pthread_mutex_unlock(&pl.mu);
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
