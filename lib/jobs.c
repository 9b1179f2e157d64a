/*
 * jobs.c — reading a batch on several threads (quy_batch_set_jobs).
 *
 * JSON Lines only (a JSON array or CSV is read on the calling thread, as
 * before). The calling thread splits the input into blocks of lines with
 * the batch's own reader (rec_reader_line: blank lines, the BOM, lines past
 * --max-line, read errors exactly as the serial reader), hands each block
 * to a worker, and commits finished blocks in input order. A worker owns a
 * record reader and a hook session over the same immutable program (the
 * ruleset's threading rule, quy.h THREADS): it decodes and checks each
 * line (rec_decode_line, without the duplicate-id check), rates it with
 * the VM when the batch rates it at read (no roll-up to wait for), and
 * keeps a copy of the record, its error, or its warnings in the block.
 *
 * What depends on order stays on the calling thread, at commit: the ids
 * seen (rec_reader_note_id; a duplicate is decoded again here, with the
 * check, so that its error — and the warnings before it — are the serial
 * reader's), the warnings once per field (rec_reader_warn_replay), and the
 * batch itself (batch_add_rated: names, groups, caps, quota keys). So the
 * results, messages, warnings and batch steps are exactly those of one
 * thread; only the rate block's VM run (and the record's checks) happen
 * elsewhere, with hook sessions that the batch adopts (a result keeps the
 * strings a hook returned).
 *
 * Memory: at most 2 * jobs + 2 blocks of BLOCK_RECORDS records (or
 * BLOCK_BYTES of text) are in flight, whatever the input's size.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "jobs.h"
#include "../runtime/arena.h"
#include "../runtime/vec.h"
#include "../runtime/workpool.h"

enum { BLOCK_RECORDS = 256, BLOCK_BYTES = 1 << 18 };

typedef struct j_rec {
    uint32_t line, index;
    size_t text_at, text_len; /* the line in j_block.text */
    bool split_error;         /* the splitter's error (a line too long, a read error): errs[err_at] */
    bool id_reached;          /* the reader would have checked the id (rec_decode_line) */
    bool rated;               /* res holds the rate block's result */
    bool owned;               /* rec is a rec_copy for the batch to keep (batch_keeps), not in `copies` */
    int rc;                   /* 1 decoded (rec), -1 rejected (errs[err_at]) */
    q_record *rec;            /* a copy in the block's chunks, or owned; NULL with pre */
    batch_pre *pre;           /* or what the batch needs of it (batch_pre_rate), in the block's chunks */
    uint32_t err_at;
    uint32_t warn_first, nwarn;
    vm_result res;
} j_rec;

typedef struct j_warn {
    rec_error w;
    size_t key_at, key_len; /* the key to deduplicate by, in j_block.keys */
} j_warn;

typedef struct j_block {
    bool oom; /* a worker ran out of memory in it */
    char *text;
    size_t ntext, captext;
    j_rec *recs;
    size_t nrecs, caprecs;
    rec_error *errs;
    size_t nerrs, caperrs;
    j_warn *warns;
    size_t nwarns, capwarns;
    char *keys;
    size_t nkeys, capkeys;
    q_arena copies; /* record copies (chunks never move: a copy holds pointers) */
} j_block;

typedef struct j_pool j_pool;

typedef struct j_worker {
    j_pool *pool;
    rec_reader *rd;
    hook_session *hs;
    j_block *blk; /* the block being decoded, for the warning callback */
    uint32_t at;  /* its record */
} j_worker;

struct j_pool {
    const q_program *p;
    batch *bt;
    workpool wp; /* the threads; block k of wp is blocks[k] */
    j_block *blocks;
    size_t nblocks;
    size_t head; /* next block to commit (ring index); blocks are filled in ring order */
    j_worker *w;
    unsigned nw; /* workers made (a reader and a hook session each) */
};

/* bytes n of s into the arena, NUL-terminated (NULL for NULL, and when out of memory: *oom). */
static const char *arena_bytes(q_arena *a, const char *s, size_t n, bool *oom)
{
    if (!s) return NULL;
    char *c = q_arena_alloc(a, n + 1);
    if (!c) {
        *oom = true;
        return NULL;
    }
    memcpy(c, s, n);
    c[n] = 0;
    return c;
}

/* What the batch needs of a record rated here, instead of a copy of it
 * (batch_pre_rate: names, tier after the caps, quota keys): NULL when the
 * record goes whole. */
static batch_pre *pre_rate(j_worker *wk, j_block *b, const q_record *rec, const vm_result *res)
{
    size_t nkeys = batch_keys_per(wk->pool->bt);
    batch_pre *pre = q_arena_alloc(&b->copies, sizeof *pre + nkeys * sizeof(q_val));
    if (!pre) {
        b->oom = true;
        return NULL;
    }
    pre->keys = nkeys ? (q_val *)(pre + 1) : NULL;
    if (!batch_pre_rate(wk->pool->bt, wk->hs, rec, res, pre)) return NULL;
    pre->id = arena_bytes(&b->copies, pre->id, strlen(pre->id), &b->oom);
    pre->unit = arena_bytes(&b->copies, pre->unit, pre->unit_len, &b->oom);
    pre->head_of = arena_bytes(&b->copies, pre->head_of, pre->head_of_len, &b->oom);
    pre->per = arena_bytes(&b->copies, pre->per, pre->per_len, &b->oom);
    return b->oom ? NULL : pre;
}

/* Room for `more` more elements of a block's array (runtime/vec.h). */
#define ROOM(b, arr, more) (VEC_RESERVE((b)->arr, (b)->n##arr, (b)->cap##arr, (more)) == 0)

static void block_reset(j_block *b)
{
    for (size_t i = 0; i < b->nrecs; i++) /* copies the batch did not take (a stop, a duplicate) */
        if (b->recs[i].owned) rec_free(b->recs[i].rec);
    b->ntext = b->nrecs = b->nerrs = b->nwarns = b->nkeys = 0;
    b->oom = false;
    q_arena_reset(&b->copies);
}

static void block_free(j_block *b)
{
    block_reset(b);
    free(b->text);
    free(b->recs);
    free(b->errs);
    free(b->warns);
    free(b->keys);
    q_arena_free(&b->copies);
}

/* ---------------------------------------------------------------------
 * Workers
 * ------------------------------------------------------------------- */

/* A warning of the worker's reader (passed on raw): kept for the commit. */
static void on_warning(void *ctx, const rec_error *w)
{
    j_worker *wk = ctx;
    j_block *b = wk->blk;
    size_t klen;
    const char *key = rec_reader_warn_key(wk->rd, &klen);
    if (!ROOM(b, warns, 1) || !ROOM(b, keys, klen + 1)) {
        b->oom = true;
        return;
    }
    memcpy(b->keys + b->nkeys, key, klen);
    b->warns[b->nwarns++] = (j_warn){*w, b->nkeys, klen};
    b->nkeys += klen;
    b->recs[wk->at].nwarn++;
}

static void decode_block(j_worker *wk, j_block *b)
{
    const q_program *p = wk->pool->p;
    wk->blk = b;
    for (uint32_t i = 0; i < b->nrecs && !b->oom; i++) {
        j_rec *jr = &b->recs[i];
        if (jr->split_error) continue;
        wk->at = i;
        jr->warn_first = (uint32_t)b->nwarns;
        q_record *rec;
        rec_error err;
        jr->rc = rec_decode_line(wk->rd, b->text + jr->text_at, jr->text_len, jr->line, jr->index, false, &rec, &err,
                                 &jr->id_reached);
        if (jr->rc > 0) {
            if (batch_rates_at_read(wk->pool->bt, rec)) {
                vm_rate(p, wk->hs, rec, &jr->res, NULL);
                jr->rated = true;
                if ((jr->pre = pre_rate(wk, b, rec, &jr->res))) continue;
                if (b->oom) break;
            }
            if (batch_keeps(wk->pool->bt, rec)) { /* the copy the batch keeps, made here */
                if (!(jr->rec = rec_copy(p, rec))) {
                    b->oom = true;
                    break;
                }
                jr->owned = true;
                continue;
            }
            void *m = q_arena_alloc(&b->copies, rec_copy_size(p, rec));
            if (!m) {
                b->oom = true;
                break;
            }
            jr->rec = rec_copy_into(p, rec, m);
        } else {
            if (!ROOM(b, errs, 1)) {
                b->oom = true;
                break;
            }
            jr->err_at = (uint32_t)b->nerrs;
            b->errs[b->nerrs++] = err;
        }
    }
    wk->blk = NULL;
}

static void worker_fn(void *ctx, unsigned worker, size_t k)
{
    j_pool *pl = ctx;
    decode_block(&pl->w[worker], &pl->blocks[k]);
}

/* ---------------------------------------------------------------------
 * The calling thread: split, commit in order
 * ------------------------------------------------------------------- */

typedef struct j_main {
    quy_batch *qb;
    batch *bt;
    rec_reader *r;  /* the batch's reader: lines, ids, warnings */
    const char *name;
    rec_error *err; /* a read error or no memory: the batch_read error */
    int ret;        /* 0, or -1 (stop) */
} j_main;

static void stop_oom(j_main *m)
{
    memset(m->err, 0, sizeof *m->err);
    snprintf(m->err->file, sizeof m->err->file, "%s", m->name);
    snprintf(m->err->code, sizeof m->err->code, "no_memory");
    snprintf(m->err->message, sizeof m->err->message, "hết bộ nhớ (out of memory)");
    m->ret = -1;
}

static bool oom_false(j_main *m)
{
    stop_oom(m);
    return false;
}

/* One record of a finished block into the batch, as batch_read would add it. */
static void commit_rec(j_main *m, j_block *b, j_rec *jr)
{
    if (jr->split_error) {
        const rec_error *e = &b->errs[jr->err_at];
        if (!strcmp(e->code, "io")) {
            *m->err = *e;
            m->ret = -1;
            return;
        }
        if (batch_add_rejected(m->bt, e, m->name) != 0) stop_oom(m);
        return;
    }
    const rec_error *e = jr->rc > 0 ? NULL : &b->errs[jr->err_at];
    if (jr->id_reached) {
        int n = rec_reader_note_id(m->r, jr->rc <= 0 ? e->id : jr->pre ? jr->pre->id : jr->rec->id, jr->line);
        if (n < 0) {
            stop_oom(m);
            return;
        }
        if (n == 0) { /* a duplicate: decoded again here, with the check, as the serial reader does */
            q_record *rec;
            rec_error again;
            bool reached;
            int rc = rec_decode_line(m->r, b->text + jr->text_at, jr->text_len, jr->line, jr->index, true, &rec,
                                     &again, &reached);
            if ((rc > 0 ? batch_add_rated(m->bt, rec, m->name, NULL) : batch_add_rejected(m->bt, &again, m->name)) != 0)
                stop_oom(m);
            return;
        }
    }
    for (uint32_t k = 0; k < jr->nwarn; k++) {
        const j_warn *w = &b->warns[jr->warn_first + k];
        if (rec_reader_warn_replay(m->r, &w->w, b->keys + w->key_at, w->key_len) != 0) {
            stop_oom(m);
            return;
        }
    }
    if (e && !strcmp(e->code, "no_memory")) {
        *m->err = *e;
        m->ret = -1;
        return;
    }
    int rc;
    if (e) rc = batch_add_rejected(m->bt, e, m->name);
    else if (jr->pre) rc = batch_add_pre(m->bt, jr->pre, &jr->res, m->name);
    else if (jr->owned) { /* the batch takes the copy */
        jr->owned = false;
        rc = batch_add_rated_copy(m->bt, jr->rec, m->name, jr->rated ? &jr->res : NULL);
    } else rc = batch_add_rated(m->bt, jr->rec, m->name, jr->rated ? &jr->res : NULL);
    if (rc != 0) stop_oom(m);
}

static void commit_block(j_main *m, j_block *b)
{
    if (b->oom) {
        stop_oom(m);
        return;
    }
    for (size_t i = 0; i < b->nrecs && m->ret == 0; i++) commit_rec(m, b, &b->recs[i]);
}

/* Fill b with the next lines; false when the input ended (b may hold some). */
static bool fill_block(j_main *m, j_block *b)
{
    block_reset(b);
    while (b->nrecs < BLOCK_RECORDS && b->ntext < BLOCK_BYTES) {
        const char *s;
        size_t len;
        uint32_t line, index;
        rec_error e;
        int rc = rec_reader_line(m->r, &s, &len, &line, &index, &e);
        if (rc == REC_LINE_END) return false;
        if (!ROOM(b, recs, 1)) return oom_false(m);
        j_rec *jr = &b->recs[b->nrecs];
        memset(jr, 0, offsetof(j_rec, res));
        if (rc == REC_LINE_ERROR) {
            if (!ROOM(b, errs, 1)) return oom_false(m);
            jr->split_error = true;
            jr->err_at = (uint32_t)b->nerrs;
            b->errs[b->nerrs++] = e;
            b->nrecs++;
            if (!strcmp(e.code, "io")) return false;
            continue;
        }
        if (!ROOM(b, text, len + 1)) return oom_false(m);
        memcpy(b->text + b->ntext, s, len);
        jr->text_at = b->ntext;
        jr->text_len = len;
        jr->line = line;
        jr->index = index;
        b->ntext += len + 1; /* one byte for the decoder's NUL sentinel */
        b->nrecs++;
    }
    return true;
}

static int pool_start(j_pool *pl, quy_batch *qb, const char *name, unsigned jobs)
{
    pl->p = qb->s->rs->p;
    pl->bt = qb->bt;
    pl->nblocks = 2 * (size_t)jobs + 2;
    pl->blocks = calloc(pl->nblocks, sizeof *pl->blocks);
    pl->w = calloc(jobs, sizeof *pl->w);
    if (!pl->blocks || !pl->w) return -1;
    hook_limits lim = hook_session_limits(batch_hooks(qb->bt));
    for (unsigned i = 0; i < jobs; i++) {
        j_worker *wk = &pl->w[i];
        wk->pool = pl;
        wk->rd = rec_reader_open(pl->p, NULL, name, REC_JSONL);
        wk->hs = hook_session_new(pl->p, &lim);
        if (wk->hs && batch_adopt_hooks(qb->bt, wk->hs) != 0) {
            hook_session_free(wk->hs);
            wk->hs = NULL;
        }
        pl->nw = i + 1;
        if (!wk->rd || !wk->hs) return -1;
        rec_reader_set_limits(wk->rd, &qb->limits);
        rec_reader_set_hooks(wk->rd, wk->hs);
        rec_reader_on_warning(wk->rd, on_warning, wk);
        rec_reader_warn_raw(wk->rd, true);
    }
    return wp_start(&pl->wp, pl->nblocks, jobs, worker_fn, pl);
}

static void pool_stop(j_pool *pl)
{
    wp_stop(&pl->wp);
    for (unsigned i = 0; pl->w && i < pl->nw; i++) rec_reader_free(pl->w[i].rd); /* hook sessions: the batch's now */
    for (size_t k = 0; pl->blocks && k < pl->nblocks; k++) block_free(&pl->blocks[k]);
    free(pl->w);
    free(pl->blocks);
}

/* Commit the block at the head, waiting for its worker. */
static void commit_head(j_main *m, j_pool *pl)
{
    wp_wait(&pl->wp, pl->head);
    if (m->ret == 0) commit_block(m, &pl->blocks[pl->head]);
    wp_release(&pl->wp, pl->head);
    pl->head = (pl->head + 1) % pl->nblocks;
}

static int read_parallel(j_main *m, quy_batch *qb, unsigned jobs)
{
    j_pool pl;
    memset(&pl, 0, sizeof pl);
    if (pool_start(&pl, qb, m->name, jobs) != 0) {
        pool_stop(&pl);
        stop_oom(m);
        return m->ret;
    }
    size_t fill = 0, inflight = 0; /* blocks fill .. are free; head .. fill - 1 are in flight */
    bool more = true;
    while (more && m->ret == 0) {
        if (inflight == pl.nblocks) { /* every block in flight: wait for the oldest */
            commit_head(m, &pl);
            inflight--;
        }
        j_block *b = &pl.blocks[fill];
        more = fill_block(m, b);
        if (b->nrecs) {
            wp_ready(&pl.wp, fill);
            fill = (fill + 1) % pl.nblocks;
            inflight++;
        }
        while (inflight && wp_is_done(&pl.wp, pl.head)) {
            commit_head(m, &pl);
            inflight--;
        }
    }
    while (inflight) { /* the rest, in order (after a stop: waited for, not added) */
        commit_head(m, &pl);
        inflight--;
    }
    pool_stop(&pl);
    return m->ret;
}

unsigned qi_jobs_resolve(unsigned jobs)
{
    if (jobs) return jobs;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 256 ? 256 : (unsigned)n;
}

int qi_batch_read_jobs(quy_batch *qb, FILE *in, const char *name, unsigned jobs, rec_error *err)
{
    j_main m = {qb, qb->bt, NULL, name, err, 0};
    if (!(m.r = batch_reader(qb->bt, in, name))) {
        stop_oom(&m);
        return -1;
    }
    /* a JSON array or CSV: this thread, as before */
    int rc = rec_reader_sniff(m.r) == REC_JSONL ? read_parallel(&m, qb, jobs) : batch_read_rest(qb->bt, m.r, name, err);
    rec_reader_free(m.r);
    return rc;
}

quy_status quy_batch_set_jobs(quy_batch *b, unsigned jobs)
{
    if (!b) return qi_fail(QUY_EINVAL, "quy_batch_set_jobs: NULL argument");
    if (b->decoder || batch_count(b->bt))
        return qi_fail(QUY_ESTATE, "quy_batch_set_jobs: set the threads before adding records");
    if (jobs > 256)
        return qi_fail(QUY_EINVAL, "quy_batch_set_jobs: %u threads is more than the 256 a batch reads with; give at most "
                                   "256 (0: one per core)", jobs);
    b->jobs = qi_jobs_resolve(jobs);
    return QUY_OK;
}
