/*
 * strset.c — see strset.h. Hashing is xxHash's XXH3 (libxxhash), inlined
 * (XXH_INLINE_ALL: the header holds the implementation; a call into the
 * shared library cost more than the hash of a short id); the table itself
 * (open addressing, linear probing, the hash kept in the slot) is the few
 * lines below.
 *
 * Measured (callgrind, `quy eval --jobs 2` over 50,550 records of
 * quy-batch-gen, the thread that keeps the ids): the batch's id check cost
 * 460 instructions a record with separate key/value arrays and no stored
 * hash — at up to 75 % load a new key probes several slots, and every
 * probe compared key bytes (ids have equal lengths).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "strset.h"

static uint32_t hash_bytes(const char *s, size_t n) { return (uint32_t)XXH3_64bits(s, n); }

static bool strset_key_eq(const strset *s, uint32_t at, const char *k, size_t n)
{
    uint32_t len;
    memcpy(&len, s->keys + (at - 1), sizeof len);
    return len == n && memcmp(s->keys + (at - 1) + sizeof len, k, n) == 0;
}

static bool strset_grow(strset *s)
{
    uint32_t ncap = s->cap ? s->cap * 2 : 256;
    strset_slot *tab = calloc(ncap, sizeof *tab);
    if (!tab) return false;
    for (uint32_t i = 0; i < s->cap; i++) {
        const strset_slot *e = &s->tab[i];
        if (!e->at) continue;
        uint32_t h = e->hash & (ncap - 1);
        while (tab[h].at) h = (h + 1) & (ncap - 1);
        tab[h] = *e;
    }
    free(s->tab);
    s->tab = tab;
    s->cap = ncap;
    return true;
}

/* The value slot of key k, or NULL if absent. */
uint32_t *strset_get(const strset *s, const char *k, size_t n)
{
    if (!s->cap) return NULL;
    uint32_t hash = hash_bytes(k, n);
    for (uint32_t h = hash & (s->cap - 1); s->tab[h].at; h = (h + 1) & (s->cap - 1))
        if (s->tab[h].hash == hash && strset_key_eq(s, s->tab[h].at, k, n)) return &s->tab[h].val;
    return NULL;
}

/* 1: added. 0: already there (*old = its value). -1: out of memory. */
int strset_add(strset *s, const char *k, size_t n, uint32_t v, uint32_t *old)
{
    if ((s->n + 1) * 4 > s->cap * 3 && !strset_grow(s)) return -1;
    uint32_t hash = hash_bytes(k, n), h = hash & (s->cap - 1);
    while (s->tab[h].at) {
        if (s->tab[h].hash == hash && strset_key_eq(s, s->tab[h].at, k, n)) {
            if (old) *old = s->tab[h].val;
            return 0;
        }
        h = (h + 1) & (s->cap - 1);
    }
    size_t need = s->klen + sizeof(uint32_t) + n + (s->cstr ? 1 : 0);
    if (n > UINT32_MAX / 2 || need >= UINT32_MAX) return -1;
    if (need > s->kcap) {
        size_t ncap = s->kcap ? s->kcap : 4096;
        while (ncap < need) ncap *= 2;
        char *nk = realloc(s->keys, ncap);
        if (!nk) return -1;
        s->keys = nk;
        s->kcap = ncap;
    }
    uint32_t len = (uint32_t)n;
    memcpy(s->keys + s->klen, &len, sizeof len);
    if (n) memcpy(s->keys + s->klen + sizeof len, k, n);
    if (s->cstr) s->keys[s->klen + sizeof len + n] = 0;
    s->last = s->klen + sizeof len;
    s->tab[h] = (strset_slot){(uint32_t)s->klen + 1, hash, v};
    s->klen = need;
    s->n++;
    return 1;
}

void strset_free(strset *s)
{
    free(s->tab);
    free(s->keys);
    memset(s, 0, sizeof *s);
}
