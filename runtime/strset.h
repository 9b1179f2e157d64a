/*
 * strset.h — a set of strings, each with a uint32_t value (prefix strset_):
 * the ids seen in an input, field names already warned about, and the
 * batch's names (ids, units, groups) -> index.
 *
 * Neither jansson nor libcsv exposes a general hash table (a jansson object
 * would cost a json_t per entry), and the batch holds millions of ids, so
 * this is compact: two uint32_t per slot plus the key bytes, length-prefixed
 * in one growing buffer. Hashing is xxHash (libxxhash-dev).
 */
#ifndef QUY_STRSET_H
#define QUY_STRSET_H

#include <stddef.h>
#include <stdint.h>

typedef struct strset {
    uint32_t *tab; /* cap entries: 0 = empty, else 1 + offset of the key in keys */
    uint32_t *val; /* value of each entry */
    uint32_t cap, n;
    char *keys;    /* [uint32 length][bytes]... */
    size_t klen, kcap;
} strset;

/* The value slot of key k, or NULL if absent. The pointer is valid until
 * the next strset_add. */
uint32_t *strset_get(const strset *s, const char *k, size_t n);
/* 1: added. 0: already there (*old = its value). -1: out of memory. */
int strset_add(strset *s, const char *k, size_t n, uint32_t v, uint32_t *old);
void strset_free(strset *s);

#endif /* QUY_STRSET_H */
