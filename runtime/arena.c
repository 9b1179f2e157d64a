/*
 * arena.c — see arena.h.
 */
#include "arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct q_arena_chunk {
    q_arena_chunk *next;
    size_t cap, used;
    max_align_t data[];
};

void *q_arena_alloc(q_arena *a, size_t n)
{
    if (n > SIZE_MAX - sizeof(max_align_t)) return NULL;
    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    for (;;) {
        q_arena_chunk *c = a->cur;
        if (c && c->cap - c->used >= n) {
            void *m = (char *)c->data + c->used;
            c->used += n;
            return m;
        }
        if (c && c->next) { /* a chunk kept by q_arena_reset */
            a->cur = c->next;
            a->cur->used = 0;
            continue;
        }
        size_t want = a->chunk ? a->chunk : (size_t)1 << 18, cap = n > want ? n : want;
        if (cap > SIZE_MAX - sizeof(q_arena_chunk)) return NULL;
        q_arena_chunk *nc = malloc(sizeof *nc + cap);
        if (!nc) return NULL;
        nc->next = NULL;
        nc->cap = cap;
        nc->used = 0;
        if (c) c->next = nc;
        else a->chunks = nc;
        a->cur = nc;
    }
}

const char *q_arena_strdup(q_arena *a, const char *s)
{
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *d = q_arena_alloc(a, n);
    return d ? memcpy(d, s, n) : NULL;
}

void q_arena_reset(q_arena *a)
{
    a->cur = a->chunks;
    if (a->cur) a->cur->used = 0;
}

void q_arena_free(q_arena *a)
{
    for (q_arena_chunk *c = a->chunks, *n; c; c = n) {
        n = c->next;
        free(c);
    }
    a->chunks = a->cur = NULL;
}
