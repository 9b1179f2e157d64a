/*
 * arena.h — a bump allocator in chunks that never move, reset and reused:
 * the parallel readers (lib/jobs.c for quy eval, diff/diff_rate.c for quy
 * diff) copy a block's records into one and drop them all at once.
 */
#ifndef QUY_ARENA_H
#define QUY_ARENA_H

#include <stddef.h>

typedef struct q_arena_chunk q_arena_chunk;

typedef struct q_arena {
    q_arena_chunk *chunks, *cur;
    size_t chunk; /* bytes of a new chunk (0: 256 KiB); larger requests get their own */
} q_arena;

/* n bytes aligned for any type, or NULL when out of memory. */
void *q_arena_alloc(q_arena *a, size_t n);
/* A copy of the string s (NULL for NULL), or NULL when out of memory. */
const char *q_arena_strdup(q_arena *a, const char *s);
/* Forget every allocation; the chunks stay for reuse. */
void q_arena_reset(q_arena *a);
void q_arena_free(q_arena *a);

#endif /* QUY_ARENA_H */
