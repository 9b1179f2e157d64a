/*
 * strset.c — see strset.h. Hashing is xxHash's XXH3 (libxxhash); the table
 * itself (open addressing, linear probing) is the few lines below.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "strset.h"


static uint32_t hash_bytes(const char *s, size_t n) { return (uint32_t)XXH3_64bits(s, n); }

static bool strset_key_eq(const strset *s, uint32_t e, const char *k, size_t n)
{
    uint32_t len;
    memcpy(&len, s->keys + (e - 1), sizeof len);
    return len == n && memcmp(s->keys + (e - 1) + sizeof len, k, n) == 0;
}

static bool strset_grow(strset *s)
{
    uint32_t ncap = s->cap ? s->cap * 2 : 256;
    uint32_t *tab = calloc(ncap, sizeof *tab), *val = calloc(ncap, sizeof *val);
    if (!tab || !val) {
        free(tab);
        free(val);
        return false;
    }
    for (uint32_t i = 0; i < s->cap; i++) {
        uint32_t e = s->tab[i];
        if (!e) continue;
        uint32_t len;
        memcpy(&len, s->keys + (e - 1), sizeof len);
        uint32_t h = hash_bytes(s->keys + (e - 1) + sizeof len, len) & (ncap - 1);
        while (tab[h]) h = (h + 1) & (ncap - 1);
        tab[h] = e;
        val[h] = s->val[i];
    }
    free(s->tab);
    free(s->val);
    s->tab = tab;
    s->val = val;
    s->cap = ncap;
    return true;
}

/* The value slot of key k, or NULL if absent. */
uint32_t *strset_get(const strset *s, const char *k, size_t n)
{
    if (!s->cap) return NULL;
    uint32_t h = hash_bytes(k, n) & (s->cap - 1);
    for (; s->tab[h]; h = (h + 1) & (s->cap - 1))
        if (strset_key_eq(s, s->tab[h], k, n)) return &s->val[h];
    return NULL;
}

/* 1: added. 0: already there (*old = its value). -1: out of memory. */
int strset_add(strset *s, const char *k, size_t n, uint32_t v, uint32_t *old)
{
    if ((s->n + 1) * 4 > s->cap * 3 && !strset_grow(s)) return -1;
    uint32_t h = hash_bytes(k, n) & (s->cap - 1);
    while (s->tab[h]) {
        if (strset_key_eq(s, s->tab[h], k, n)) {
            if (old) *old = s->val[h];
            return 0;
        }
        h = (h + 1) & (s->cap - 1);
    }
    size_t need = s->klen + sizeof(uint32_t) + n;
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
    s->tab[h] = (uint32_t)s->klen + 1;
    s->val[h] = v;
    s->klen = need;
    s->n++;
    return 1;
}

void strset_free(strset *s)
{
    free(s->tab);
    free(s->val);
    free(s->keys);
    memset(s, 0, sizeof *s);
}
