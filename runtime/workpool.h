/*
 * workpool.h — a ring of blocks worked on by threads and taken back in
 * order (prefix wp_; one for the library's parallel reader, lib/jobs.c, and
 * its parallel writer, lib/jobs_write.c).
 *
 * The calling thread owns the blocks' contents: it fills block k while it
 * is free, hands it out (wp_ready), waits for it (wp_wait), reads it and
 * frees it (wp_release), in ring order. A worker takes the oldest ready
 * block (from the ring's head), runs fn(ctx, worker, k) on it without the
 * lock, and marks it done. The lock orders every hand-over, so a block's
 * contents need no lock of their own.
 *
 *     workpool wp = {0};
 *     if (wp_start(&wp, nblocks, nthreads, fn, ctx) != 0) { wp_stop(&wp); ... }
 *     fill(0); wp_ready(&wp, 0); ...; wp_wait(&wp, 0); use(0); wp_release(&wp, 0);
 *     wp_stop(&wp);
 */
#ifndef QUY_WORKPOOL_H
#define QUY_WORKPOOL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Work on block k, as worker `worker` (0 .. nthreads - 1). */
typedef void (*wp_fn)(void *ctx, unsigned worker, size_t k);

typedef struct wp_thread wp_thread;

typedef struct workpool {
    pthread_mutex_t mu;
    pthread_cond_t work, done;
    bool sync;      /* mu and the conditions were made */
    bool quit;
    uint8_t *state; /* per block: free, ready, busy, done */
    size_t nblocks;
    size_t head;    /* the oldest block handed out: workers look from here */
    wp_thread *th;
    unsigned nth;   /* threads started */
    wp_fn fn;
    void *ctx;
} workpool;

/* nblocks blocks, all free; nthreads threads started. -1 when memory or a
 * thread could not be had (then wp_stop, which joins what started). */
int wp_start(workpool *wp, size_t nblocks, unsigned nthreads, wp_fn fn, void *ctx);
/* Block k (free, filled by the caller) to a worker. */
void wp_ready(workpool *wp, size_t k);
/* Until block k is done. */
void wp_wait(workpool *wp, size_t k);
/* Whether block k is done (without waiting). */
bool wp_is_done(workpool *wp, size_t k);
/* Block k (done) is free again; the head moves past it. */
void wp_release(workpool *wp, size_t k);
/* The threads finish the blocks they hold and end; everything is freed. */
void wp_stop(workpool *wp);

#endif /* QUY_WORKPOOL_H */
