/*
 * workpool.c — a ring of blocks worked on by threads (see workpool.h).
 */
#include "workpool.h"

#include <stdlib.h>

enum { WP_FREE, WP_READY, WP_BUSY, WP_DONE };

struct wp_thread {
    workpool *wp;
    unsigned index;
    pthread_t th;
};

static void *thread_main(void *arg)
{
    wp_thread *t = arg;
    workpool *wp = t->wp;
    pthread_mutex_lock(&wp->mu);
    for (;;) {
        size_t k = wp->nblocks;
        for (size_t i = 0; i < wp->nblocks && k == wp->nblocks; i++) { /* the oldest ready block */
            size_t c = (wp->head + i) % wp->nblocks;
            if (wp->state[c] == WP_READY) k = c;
        }
        if (k < wp->nblocks) {
            wp->state[k] = WP_BUSY;
            pthread_mutex_unlock(&wp->mu);
            wp->fn(wp->ctx, t->index, k);
            pthread_mutex_lock(&wp->mu);
            wp->state[k] = WP_DONE;
            pthread_cond_broadcast(&wp->done);
            continue;
        }
        if (wp->quit) break;
        pthread_cond_wait(&wp->work, &wp->mu);
    }
    pthread_mutex_unlock(&wp->mu);
    return NULL;
}

int wp_start(workpool *wp, size_t nblocks, unsigned nthreads, wp_fn fn, void *ctx)
{
    wp->nblocks = nblocks;
    wp->fn = fn;
    wp->ctx = ctx;
    wp->state = calloc(nblocks ? nblocks : 1, sizeof *wp->state);
    wp->th = calloc(nthreads ? nthreads : 1, sizeof *wp->th);
    if (!wp->state || !wp->th) return -1;
    if (pthread_mutex_init(&wp->mu, NULL) != 0) return -1;
    if (pthread_cond_init(&wp->work, NULL) != 0) {
        pthread_mutex_destroy(&wp->mu);
        return -1;
    }
    if (pthread_cond_init(&wp->done, NULL) != 0) {
        pthread_cond_destroy(&wp->work);
        pthread_mutex_destroy(&wp->mu);
        return -1;
    }
    wp->sync = true;
    for (unsigned i = 0; i < nthreads; i++) {
        wp->th[i] = (wp_thread){wp, i, 0};
        if (pthread_create(&wp->th[i].th, NULL, thread_main, &wp->th[i]) != 0) return -1;
        wp->nth = i + 1;
    }
    return 0;
}

void wp_ready(workpool *wp, size_t k)
{
    pthread_mutex_lock(&wp->mu);
    wp->state[k] = WP_READY;
    pthread_cond_signal(&wp->work);
    pthread_mutex_unlock(&wp->mu);
}

void wp_wait(workpool *wp, size_t k)
{
    pthread_mutex_lock(&wp->mu);
    while (wp->state[k] != WP_DONE) pthread_cond_wait(&wp->done, &wp->mu);
    pthread_mutex_unlock(&wp->mu);
}

bool wp_is_done(workpool *wp, size_t k)
{
    pthread_mutex_lock(&wp->mu);
    bool done = wp->state[k] == WP_DONE;
    pthread_mutex_unlock(&wp->mu);
    return done;
}

void wp_release(workpool *wp, size_t k)
{
    pthread_mutex_lock(&wp->mu);
    wp->state[k] = WP_FREE;
    if (k == wp->head) wp->head = (k + 1) % wp->nblocks;
    pthread_mutex_unlock(&wp->mu);
}

void wp_stop(workpool *wp)
{
    if (wp->sync) {
        pthread_mutex_lock(&wp->mu);
        wp->quit = true;
        pthread_cond_broadcast(&wp->work);
        pthread_mutex_unlock(&wp->mu);
        for (unsigned i = 0; i < wp->nth; i++) pthread_join(wp->th[i].th, NULL);
        pthread_mutex_destroy(&wp->mu);
        pthread_cond_destroy(&wp->work);
        pthread_cond_destroy(&wp->done);
    }
    free(wp->state);
    free(wp->th);
    *wp = (workpool){0};
}
