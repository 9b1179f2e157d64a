/*
 * vec.h — the growable array (one macro for runtime/ and cli/).
 *
 * A vector is three variables: a pointer, a count and a capacity (both
 * size_t). VEC_RESERVE makes room for `more` elements past the count and
 * returns 0, or -1 when out of memory — the array is then unchanged, so
 * the caller reports the error and keeps what it had:
 *
 *     if (VEC_RESERVE(x->rules, x->nrules, x->caprules, 1) != 0) return -1;
 *     x->rules[x->nrules++] = r;
 */
#ifndef QUY_VEC_H
#define QUY_VEC_H

#include <stdint.h>
#include <stdlib.h>

static inline int vec_reserve_(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return 0;
    size_t nc = *cap ? *cap : 8;
    while (nc < need) {
        if (nc > SIZE_MAX / 2) return -1;
        nc *= 2;
    }
    if (nc > SIZE_MAX / elem) return -1;
    void *np = realloc(*arr, nc * elem);
    if (!np) return -1;
    *arr = np;
    *cap = nc;
    return 0;
}

#define VEC_RESERVE(arr, n, cap, more) vec_reserve_((void **)&(arr), &(cap), (size_t)(n) + (size_t)(more), sizeof *(arr))

#endif /* QUY_VEC_H */
