/*
 * splitmix.h — the one pseudo-random generator (splitmix64): quy gen's
 * records and the benchmarks' corpora, the same numbers from the same seed
 * on every machine.
 */
#ifndef QUY_SPLITMIX_H
#define QUY_SPLITMIX_H

#include <stdint.h>

typedef struct rng {
    uint64_t s;
} rng;

static inline uint64_t rng_next(rng *g)
{
    uint64_t z = (g->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

#endif /* QUY_SPLITMIX_H */
