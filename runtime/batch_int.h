/*
 * batch_int.h — the batch's data, shared by its two files (not a public
 * header): runtime/batch.c reads and keeps records and exposes results;
 * runtime/batch_run.c runs the steps (roll-ups, quotas, the order).
 * The model is described at the top of batch.c.
 */
#ifndef QUY_BATCH_INT_H
#define QUY_BATCH_INT_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "hook.h"
#include "strset.h"
#include "vec.h"

enum { B_WAITING, B_DONE }; /* b_item.state */

/* 60 bytes per record: the input file is not here (see b_frun), and the
 * three small fields share a byte. */
typedef struct b_item {
    uint32_t name;    /* name index of the id, QUY_NONE if none */
    uint32_t unit;    /* name index, QUY_NONE */
    uint32_t head_of; /* name index, QUY_NONE */
    uint32_t group;   /* group index, QUY_NONE */
    uint32_t kind;
    uint32_t line;
    uint32_t rule;
    uint32_t flags_at; /* into b->flags */
    uint32_t keys_at;  /* into b->keys (QUY_NONE: no keys) */
    uint32_t extra;    /* rejected: index into b->errs; kept record: index into b->recs; else QUY_NONE */
    uint32_t cap;      /* the cap that lowered the tier, QUY_NONE */
    uint32_t rank;     /* quota candidate: 1-based rank in its group, 0 if none */
    uint32_t notes_at; /* into b->notes */
    uint8_t nflags;
    uint8_t eligible;  /* q_outcome from the rate block */
    uint8_t tier;      /* after caps and quotas */
    uint8_t capped_from; /* tier before the cap that lowered it */
    uint8_t steps;     /* BS_* */
    uint8_t vm_error;  /* VM error when the rating failed (status REJECTED) */
    uint8_t nnotes;    /* adjustments (hooks) noted by the rate block */
    uint8_t status : 1;  /* batch_status */
    uint8_t state : 1;   /* B_WAITING / B_DONE */
    uint8_t rollups : 2; /* bit r: computed field r (0 member_tiers, 1 subordinate_tiers) was computed */
} b_item;

/* Items from `first` on (up to the next run) came from input file `file`:
 * a file per run of records, not per record. */
typedef struct b_frun {
    uint32_t first, file;
} b_frun;

typedef struct b_group {
    uint32_t key;       /* name index of the key text */
    uint32_t tag_off, tag_len; /* its tagged key (group_of) in group_set.keys */
    uint32_t first, n;  /* members: b->gmem[first .. +n] */
    uint32_t count_elig[QO__COUNT], count_final[QO__COUNT];
    batch_quota_run *runs;       /* [nquotas] once applied */
} b_group;

/* Per kind: slots of unit / head_of / the quota field and of the computed
 * fields (QUY_NONE when the kind has none). */
typedef struct b_kslots {
    uint32_t unit, head_of, per, member_tiers, subordinate_tiers;
    bool ref_caps; /* a cap reads head_of.tier / unit.tier */
} b_kslots;

/* One name: an id, a unit / head_of value or a group key. */
typedef struct b_name {
    uint32_t off;  /* offset of its bytes in names.keys (the only copy) */
    uint32_t item; /* the item with that id, QUY_NONE */
} b_name;

/* The readers' duplicate-id check over the names (reader_id), so that one
 * set holds every id; kept while reading only (freed by batch_run). */
typedef struct b_seen {
    uint32_t src;  /* the reader (b->src) that saw the name as an id, 0: none */
    uint32_t line; /* the line it saw it at first */
} b_seen;

/* The name a field had in the record read last (intern_last). */
typedef struct b_last {
    uint32_t name; /* QUY_NONE: none yet */
    size_t len;
} b_last;

struct batch {
    const q_program *p;
    bool keep;
    const uint8_t *keep_bits; /* batch_keep_some */
    size_t nkeep_bits;
    rec_warn_fn warn;
    void *warn_ctx;
    rec_reader *json_reader; /* for batch_add_json */
    rec_limits limits;       /* for the readers of batch_read (0: defaults) */
    hook_session *hooks;     /* the hook session every rating uses: own_hooks, or the caller's */
    hook_session *own_hooks; /* made by batch_new, freed by batch_free */
    hook_session **adopted;  /* other threads' sessions whose strings results point to (batch_adopt_hooks) */
    size_t nadopted, capadopted;

    b_item *items;
    size_t n, cap;

    strset names;       /* name -> name index */
    b_name *nm;         /* name index -> b_name */
    size_t nnames, capnames;
    b_seen *seen;       /* name index -> b_seen, for the names before nseen (reader_id) */
    size_t nseen, capseen;
    uint32_t last_id;   /* the name the readers' id check interned last (QUY_NONE: none) */
    uint32_t src;       /* the reader being read (batch_reader counts them from 1) */
    b_last last_unit;   /* the unit of the record read last */
    uint32_t last_group; /* the group of the record read last (QUY_NONE) */
    char *gkey;          /* the tagged key being looked up (group_of), the whole value */
    size_t capgkey;

    strset group_set;   /* group key text -> group index */
    b_group *groups;
    size_t ngroups, capgroups;
    uint32_t *gmem;

    char **files;
    size_t nfiles, capfiles;
    b_frun *fruns;
    size_t nfruns, capfruns;

    uint16_t *flags;
    size_t nflags, capflags;
    vm_note *notes; /* adjustments' notes (texts owned by the program) */
    size_t nnotes, capnotes;
    q_val *keys;
    size_t nkeys, capkeys;
    uint32_t keys_per; /* keys per candidate: all quotas' keys */
    rec_error *errs;
    size_t nerrs, caperrs;
    q_record **recs;
    size_t nrecs, caprecs;

    b_kslots *ks; /* per kind */

    /* children (records whose unit is a name): CSR over name indices, built by batch_run */
    uint32_t *child_first, *child;
    bool oom;
    bool single; /* batch_single() */
};

/* Room for one more element, or: the batch is out of memory (b->oom, the
 * error every public function returns from then on) and `fail` runs. */
#define GROW(arr, n, capv, fail)                                             \
    do {                                                                     \
        if (VEC_RESERVE(arr, n, capv, 1) != 0) {                             \
            b->oom = true;                                                   \
            fail;                                                            \
        }                                                                    \
    } while (0)

/* An allocation that failed: the batch is out of memory. */
#define OOM_IF(cond, fail)                                                   \
    do {                                                                     \
        if (cond) {                                                          \
            b->oom = true;                                                   \
            fail;                                                            \
        }                                                                    \
    } while (0)

static inline const char *name_str(const batch *b, uint32_t n) { return n == QUY_NONE ? "" : b->names.keys + b->nm[n].off; }

/* Shared by batch.c and batch_run.c (prefix bi_: batch internal). */
void bi_reject(batch *b, b_item *it, const char *code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void bi_apply_caps(const batch *b, hook_session *hs, b_item *it, const q_record *rec, bool refs);
void bi_rate_item(batch *b, b_item *it, const q_record *rec, const vm_result *ahead);
bool bi_keep_item(const batch *b, size_t i);
uint32_t bi_nchildren(const batch *b, uint32_t name);

#endif
