/*
 * strset.h — a set of strings, each with a uint32_t value (prefix strset_):
 * the ids seen in an input, field names already warned about, and the
 * batch's names (ids, units, groups) -> index.
 *
 * Neither jansson nor libcsv exposes a general hash table (a jansson object
 * would cost a json_t per entry), and the batch holds millions of ids, so
 * this is compact: three uint32_t per slot plus the key bytes, length-prefixed
 * in one growing buffer. Hashing is xxHash (libxxhash-dev).
 */
#ifndef QUY_STRSET_H
#define QUY_STRSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One slot of the table: the key's place, its hash (compared first: a
 * probe past another key reads no key bytes) and its value, together so
 * that a lookup touches one cache line of the table. */
typedef struct strset_slot {
    uint32_t at;   /* 0 = empty, else 1 + offset of the key in keys */
    uint32_t hash; /* the key's hash (its low bits are the home slot) */
    uint32_t val;  /* the entry's value */
} strset_slot;

typedef struct strset {
    strset_slot *tab; /* cap slots */
    uint32_t cap, n;
    char *keys;    /* [uint32 length][bytes]... ([bytes][NUL] when cstr) */
    size_t klen, kcap;
    bool cstr;     /* set before the first add: keep a NUL after each key, so
                    * that the set can hold the only copy of its strings */
    size_t last;   /* offset in keys of the bytes of the key added last */
} strset;

/* The value slot of key k, or NULL if absent. The pointer is valid until
 * the next strset_add. */
uint32_t *strset_get(const strset *s, const char *k, size_t n);
/* 1: added (its bytes are at s->keys + s->last: an offset, stable while
 * the buffer grows; NUL-terminated when cstr). 0: already there (*old = its
 * value). -1: out of memory. */
int strset_add(strset *s, const char *k, size_t n, uint32_t v, uint32_t *old);
void strset_free(strset *s);

#endif /* QUY_STRSET_H */
