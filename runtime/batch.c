/*
 * batch.c — roll-ups, caps and quotas over a batch (see batch.h).
 *
 * Data: one compact b_item per input record; names (ids and the ids that
 * `unit` / `head_of` refer to) interned once in a strset; quota groups by
 * the value of the quota field. The dependency graph has a node per record
 * with something left to do when batch_run starts (a roll-up to fill, a
 * cap reading another record's tier) and one per group: a group depends on
 * those of its records (the quota needs the whole group capped; the others
 * were rated and capped as they were read), and a record that reads
 * another record's final tier (a roll-up, a head_of/unit cap) depends on
 * that record's group (or on the record itself when it is in no group and
 * is a node). Kahn's algorithm visits the nodes; a record node rates the
 * record or applies its late caps, a group node applies the quotas. The
 * graph's arrays are sized by those records and the groups, not by the
 * batch.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "explain.h"
#include "output.h"
#include "strset.h"

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

/* What one quota did in one group. */
typedef struct b_qrun {
    uint32_t n_tier, n_of, n_above; /* before the quota: #T, #U, #(above T) */
    uint32_t base;                  /* the count the share was taken of */
    q_val raw;                      /* share x base */
    uint32_t limit;                 /* after rounding */
    uint32_t kept;                  /* candidates that kept T */
    bool small;                     /* the small-unit exception gave the one */
    bool have_next;                 /* basis final, kept < candidates: what one more would allow */
    uint32_t next_base, next_limit;
    q_val next_raw;
    uint32_t first_kept[5];         /* item indices, in rank order */
    uint32_t nfirst;
} b_qrun;

typedef struct b_group {
    uint32_t key;       /* name index of the key text */
    uint32_t first, n;  /* members: b->gmem[first .. +n] */
    uint32_t count_elig[QO__COUNT], count_final[QO__COUNT];
    b_qrun *runs;       /* [nquotas] once applied */
} b_group;

/* Per kind: slots of unit / head_of / the quota field and of the computed
 * fields (QUY_NONE when the kind has none). */
typedef struct b_kslots {
    uint32_t unit, head_of, per, member_tiers, subordinate_tiers;
    bool ref_caps; /* a cap reads head_of.tier / unit.tier */
} b_kslots;

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

    b_item *items;
    size_t n, cap;

    strset names;       /* name -> name index */
    uint32_t *name_off; /* name index -> offset of its bytes in names.keys (the only copy) */
    size_t nnames, capnames;
    uint32_t *item_of;  /* name index -> item with that id, QUY_NONE */
    b_last last_unit;   /* the unit of the record read last */
    uint32_t last_group; /* the group of the record read last (QUY_NONE), its tagged key: */
    char last_gkey[302];
    size_t last_glen;
    size_t cap_item_of;

    strset group_set;   /* group key text -> group index */
    b_group *groups;
    size_t ngroups, capgroups;
    uint32_t *gmem;

    char **files;
    size_t nfiles;
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

#define GROW(arr, n, capv)                                                   \
    do {                                                                     \
        if ((n) >= (capv)) {                                                 \
            size_t nc_ = (capv) ? (capv) * 2 : 64;                           \
            void *np_ = realloc((arr), nc_ * sizeof *(arr));                 \
            if (!np_) {                                                      \
                b->oom = true;                                               \
                abort();                                                     \
            }                                                                \
            (arr) = np_;                                                     \
            (capv) = nc_;                                                    \
        }                                                                    \
    } while (0)

/* The input file item i came from. */
static const char *file_of(const batch *b, const b_item *it)
{
    uint32_t i = (uint32_t)(it - b->items);
    size_t lo = 0, hi = b->nfruns; /* the last run with first <= i */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (b->fruns[mid].first <= i)
            lo = mid;
        else
            hi = mid;
    }
    return b->files[b->fruns[lo].file];
}

static const char *name_str(const batch *b, uint32_t n) { return n == QUY_NONE ? "" : b->names.keys + b->name_off[n]; }

static uint32_t intern(batch *b, const char *s, size_t len)
{
    uint32_t idx = (uint32_t)b->nnames, old;
    int added = strset_add(&b->names, s, len, idx, &old); /* one probe, found or added */
    if (added < 0) abort();
    if (!added) return old;
    GROW(b->name_off, b->nnames, b->capnames);
    GROW(b->item_of, b->nnames, b->cap_item_of); /* only the names' entries are set (and touched) */
    b->name_off[b->nnames] = (uint32_t)b->names.last;
    b->item_of[b->nnames++] = QUY_NONE;
    return idx;
}

/* intern() for a field value that usually repeats from one record to the
 * next (an export lists a unit's members together): the last one is kept. */
static uint32_t intern_last(batch *b, b_last *last, const char *s, size_t len)
{
    if (last->name != QUY_NONE && last->len == len && !memcmp(b->names.keys + b->name_off[last->name], s, len))
        return last->name;
    last->name = intern(b, s, len);
    last->len = len;
    return last->name;
}

static uint32_t slot_of(const q_program *p, uint32_t k, const char *name)
{
    uint32_t f = prog_find_field(p, k, name, strlen(name));
    return f == QUY_NONE ? QUY_NONE : p->fields[f].slot;
}

batch *batch_new(const q_program *p, bool keep_records)
{
    batch *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    b->p = p;
    b->names.cstr = true; /* the ids are kept only there (name_str) */
    b->last_unit.name = b->last_group = QUY_NONE;
    b->keep = keep_records;
    b->ks = calloc(p->nkinds ? p->nkinds : 1, sizeof *b->ks);
    if (!b->ks) {
        free(b);
        return NULL;
    }
    for (uint32_t k = 0; k < p->nkinds; k++) {
        b->ks[k].unit = slot_of(p, k, "unit");
        b->ks[k].head_of = slot_of(p, k, "head_of");
        b->ks[k].per = p->nquotas ? slot_of(p, k, prog_str(p, p->quotas[0].per)) : QUY_NONE;
        uint32_t mt = slot_of(p, k, "member_tiers"), st = slot_of(p, k, "subordinate_tiers");
        const q_kind *kd = &p->kinds[k];
        b->ks[k].member_tiers = mt != QUY_NONE && (p->fields[kd->first_field + mt].flags & QF_BATCH) ? mt : QUY_NONE;
        b->ks[k].subordinate_tiers =
            st != QUY_NONE && (p->fields[kd->first_field + st].flags & QF_BATCH) ? st : QUY_NONE;
    }
    for (uint32_t c = 0; c < p->ncaps; c++)
        if (p->caps[c].bound == QCAP_HEAD_OF || p->caps[c].bound == QCAP_UNIT) b->ks[p->caps[c].kind].ref_caps = true;
    for (uint32_t q = 0; q < p->nquotas; q++) b->keys_per += p->quotas[q].nkeys;
    return b;
}

void batch_single(batch *b, bool single) { b->single = single; }

void batch_on_warning(batch *b, rec_warn_fn fn, void *ctx)
{
    b->warn = fn;
    b->warn_ctx = ctx;
}

/* ---------------------------------------------------------------------
 * Rating one record (at read time, or when its turn comes)
 * ------------------------------------------------------------------- */

static const char *str_slot(const q_record *rec, uint32_t slot, size_t *len)
{
    if (slot == QUY_NONE || !rec->present[slot]) return NULL;
    q_val v = rec->slots[slot];
    *len = (size_t)v.d;
    return (const char *)(intptr_t)v.n;
}

/* Must the record wait for other records' tiers before its rules run (a
 * roll-up to fill)? Caps that read another record (head_of.tier) wait too,
 * but only the cap: the record is rated at once. */
static bool needs_rollup(const batch *b, const q_record *rec)
{
    const b_kslots *ks = &b->ks[rec->kind];
    if (ks->member_tiers != QUY_NONE && !rec->present[ks->member_tiers]) return true;
    return ks->subordinate_tiers != QUY_NONE && !rec->present[ks->subordinate_tiers];
}

/* A rated record becomes rejected: its error kept, its kept copy freed. */
static void set_rejected(batch *b, b_item *it, const rec_error *e)
{
    GROW(b->errs, b->nerrs, b->caperrs);
    b->errs[b->nerrs] = *e;
    if (it->status == BATCH_RATED && it->extra != QUY_NONE && b->recs[it->extra]) {
        rec_free(b->recs[it->extra]);
        b->recs[it->extra] = NULL;
    }
    it->extra = (uint32_t)b->nerrs++;
    it->status = BATCH_REJECTED;
    it->state = B_DONE;
}

static void reject_eval(batch *b, b_item *it, const q_record *rec, const vm_result *res)
{
    rec_error e;
    memset(&e, 0, sizeof e);
    snprintf(e.file, sizeof e.file, "%s", file_of(b, it));
    e.line = it->line;
    snprintf(e.id, sizeof e.id, "%s", rec->id ? rec->id : "");
    snprintf(e.code, sizeof e.code, "eval");
    const q_program *p = b->p;
    if (res->error == VM_ABSENT && res->error_slot < p->kinds[rec->kind].nfields)
        snprintf(e.field, sizeof e.field, "%s", prog_str(p, p->fields[p->kinds[rec->kind].first_field + res->error_slot].name));
    const char *file = NULL;
    uint32_t line = 0, col = 0, llen;
    const char *ls;
    if (res->error_pc != QUY_NONE && res->error_pc < p->ncode)
        prog_locate(p, p->code_pos[res->error_pc], &file, &line, &col, &ls, &llen);
    snprintf(e.message, sizeof e.message, "%s%s%s%s%s%s%u", res->error < VM__COUNT ? vm_error_message[res->error] : "?",
             res->error_text ? ": " : "", res->error_text ? res->error_text : "", file ? " — tại " : "",
             file ? file : "", file ? ":" : "", line);
    set_rejected(b, it, &e);
    it->vm_error = res->error;
}

static void reject(batch *b, b_item *it, const char *code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void reject(batch *b, b_item *it, const char *code, const char *field, const char *fmt, ...)
{
    rec_error e;
    memset(&e, 0, sizeof e);
    snprintf(e.file, sizeof e.file, "%s", file_of(b, it));
    e.line = it->line;
    snprintf(e.id, sizeof e.id, "%s", name_str(b, it->name));
    snprintf(e.code, sizeof e.code, "%s", code);
    snprintf(e.field, sizeof e.field, "%s", field ? field : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e.message, sizeof e.message, fmt, ap);
    va_end(ap);
    set_rejected(b, it, &e);
}

/* A bool batch expression: absent data or any failure counts as false. */
static bool bexpr_true(const q_program *p, uint32_t x, const q_record *rec)
{
    q_val v;
    return vm_eval(p, p->bexprs[x].entry, rec, &v) == VM_OK && v.n != 0;
}

static uint8_t final_of(const batch *b, uint32_t name)
{
    uint32_t t = name == QUY_NONE || name >= b->nnames ? QUY_NONE : b->item_of[name];
    if (t == QUY_NONE || b->items[t].status != BATCH_RATED) return QO__COUNT;
    return b->items[t].tier;
}

/* Caps in declaration order, each on the tier the previous left: those
 * with a constant or field bound when the record is rated (`refs` false),
 * those reading another record's tier once that tier is final (`refs`
 * true). A cap is a minimum, so the split does not change the result. */
static void apply_caps(batch *b, b_item *it, const q_record *rec, bool refs)
{
    const q_program *p = b->p;
    for (uint32_t c = 0; c < p->ncaps; c++) {
        const q_cap *cap = &p->caps[c];
        if (cap->kind != rec->kind || it->tier > QO_HTXSNV) continue;
        if ((cap->bound == QCAP_HEAD_OF || cap->bound == QCAP_UNIT) != refs) continue;
        if (cap->when != QUY_NONE && !bexpr_true(p, cap->when, rec)) continue;
        if (cap->unless != QUY_NONE && bexpr_true(p, cap->unless, rec)) continue;
        uint8_t bound = QO__COUNT;
        switch (cap->bound) {
        case QCAP_TIER: bound = cap->tier; break;
        case QCAP_FIELD:
            if (rec->present[cap->slot]) bound = (uint8_t)rec->slots[cap->slot].n;
            break;
        case QCAP_HEAD_OF:
            bound = final_of(b, it->head_of);
            break;
        case QCAP_UNIT:
            bound = final_of(b, it->unit);
            break;
        }
        if (bound > QO_HTXSNV || bound >= it->tier) continue; /* absent / not rated / not lower: no cap */
        it->capped_from = it->tier;
        it->tier = bound;
        it->cap = c;
        it->steps |= BS_CAPPED;
    }
}

/* Order keys of every quota for a candidate record. */
static void eval_keys(batch *b, b_item *it, const q_record *rec)
{
    const q_program *p = b->p;
    if (!b->keys_per) return;
    bool cand = false;
    for (uint32_t q = 0; q < p->nquotas; q++) cand |= it->tier == p->quotas[q].tier;
    if (!cand) return;
    while (b->nkeys + b->keys_per > b->capkeys) {
        b->capkeys = b->capkeys ? b->capkeys * 2 : 256;
        b->keys = realloc(b->keys, b->capkeys * sizeof *b->keys);
        if (!b->keys) abort();
    }
    it->keys_at = (uint32_t)b->nkeys;
    uint32_t base = 0;
    for (uint32_t q = 0; q < p->nquotas; q++) {
        for (uint32_t j = 0; j < p->quotas[q].nkeys; j++) {
            q_val v = {0, 0}; /* d = 0: no value (sorts last) */
            for (uint32_t i = 0; i < p->nqkeys; i++) {
                const q_qkey *k = &p->qkeys[i];
                if (k->quota == q && k->key == j && k->kind == rec->kind) {
                    q_val r;
                    if (vm_eval(p, p->bexprs[k->expr].entry, rec, &r) == VM_OK && r.d > 0) v = r;
                }
            }
            b->keys[b->nkeys + base + j] = v;
        }
        base += p->quotas[q].nkeys;
    }
    b->nkeys += b->keys_per;
}

static void rate_item(batch *b, b_item *it, const q_record *rec)
{
    vm_result res;
    vm_rate(b->p, rec, &res, NULL);
    if (res.error != VM_OK) {
        reject_eval(b, it, rec, &res);
        it->state = B_DONE;
        return;
    }
    it->eligible = it->tier = res.outcome;
    it->rule = res.rule;
    uint32_t nf = res.nflags < QUY_MAX_FLAGS ? res.nflags : QUY_MAX_FLAGS;
    it->flags_at = (uint32_t)b->nflags;
    it->nflags = (uint8_t)nf;
    for (uint32_t i = 0; i < nf; i++) {
        GROW(b->flags, b->nflags, b->capflags);
        b->flags[b->nflags++] = (uint16_t)res.flags[i];
    }
    it->notes_at = (uint32_t)b->nnotes;
    it->nnotes = res.nnotes;
    for (uint32_t i = 0; i < res.nnotes; i++) {
        GROW(b->notes, b->nnotes, b->capnotes);
        b->notes[b->nnotes++] = res.notes[i];
    }
    apply_caps(b, it, rec, false);
    eval_keys(b, it, rec);
}

/* ---------------------------------------------------------------------
 * Reading
 * ------------------------------------------------------------------- */

static uint32_t group_of(batch *b, const q_record *rec)
{
    const q_program *p = b->p;
    if (!p->nquotas) return QUY_NONE;
    size_t len;
    const char *s = str_slot(rec, b->ks[rec->kind].per, &len);
    /* `=` marks a field value, `#` a kind, so a peer_group named like a kind
     * stays apart; the value is cut at 256 bytes (or a NUL), the kind's
     * text at 299 */
    char tagged[302];
    size_t n;
    if (s) {
        n = strnlen(s, len < 256 ? len : 256);
        memcpy(tagged + 1, s, n);
    } else {
        int w = snprintf(tagged + 1, 300, "loại %s", prog_str(p, p->kinds[rec->kind].name));
        n = w < 0 ? 0 : (size_t)w >= 300 ? 299 : (size_t)w;
    }
    tagged[0] = s ? '=' : '#';
    if (b->last_group != QUY_NONE && b->last_glen == n + 1 && !memcmp(b->last_gkey, tagged, n + 1))
        return b->last_group; /* the same group as the record read last */
    uint32_t idx = (uint32_t)b->ngroups, old;
    int added = strset_add(&b->group_set, tagged, n + 1, idx, &old);
    if (added < 0) abort();
    if (added) {
        GROW(b->groups, b->ngroups, b->capgroups);
        memset(&b->groups[idx], 0, sizeof b->groups[idx]);
        b->groups[idx].key = intern(b, tagged + 1, n);
        b->ngroups++;
    } else {
        idx = old;
    }
    memcpy(b->last_gkey, tagged, n + 1);
    b->last_glen = n + 1;
    b->last_group = idx;
    return idx;
}

static uint32_t file_index(batch *b, const char *name)
{
    if (b->nfiles && strcmp(b->files[b->nfiles - 1], name) == 0) return (uint32_t)b->nfiles - 1;
    char **nf = realloc(b->files, (b->nfiles + 1) * sizeof *nf);
    if (!nf) abort();
    b->files = nf;
    b->files[b->nfiles] = strdup(name);
    if (!b->files[b->nfiles]) abort();
    return (uint32_t)b->nfiles++;
}

static b_item *new_item(batch *b, uint32_t file, uint32_t line)
{
    GROW(b->items, b->n, b->cap);
    b_item *it = &b->items[b->n++];
    memset(it, 0, sizeof *it);
    it->name = it->unit = it->head_of = it->group = QUY_NONE;
    it->keys_at = it->extra = it->cap = QUY_NONE;
    if (!b->nfruns || b->fruns[b->nfruns - 1].file != file) {
        GROW(b->fruns, b->nfruns, b->capfruns);
        b->fruns[b->nfruns++] = (b_frun){(uint32_t)(b->n - 1), file};
    }
    it->line = line;
    return it;
}

static void add_rejected(batch *b, uint32_t file, const rec_error *err)
{
    b_item *it = new_item(b, file, err->line);
    it->status = BATCH_REJECTED;
    it->state = B_DONE;
    if (err->id[0]) it->name = intern(b, err->id, strlen(err->id));
    GROW(b->errs, b->nerrs, b->caperrs);
    b->errs[b->nerrs] = *err;
    it->extra = (uint32_t)b->nerrs++;
}

static bool keep_item(const batch *b, size_t i)
{
    return b->keep || (i < b->nkeep_bits && (b->keep_bits[i / 8] >> (i % 8) & 1u));
}

static void add_record(batch *b, uint32_t file, const q_record *rec)
{
    b_item *it = new_item(b, file, rec->line);
    it->kind = rec->kind;
    it->status = BATCH_RATED;
    it->name = intern(b, rec->id, strlen(rec->id));
    if (b->item_of[it->name] != QUY_NONE) {
        const b_item *first = &b->items[b->item_of[it->name]];
        reject(b, it, "duplicate_id", "id",
               "mã '%s' bị trùng với bản ghi ở %s:%u (duplicate id; first seen at %s:%u)", rec->id,
               file_of(b, first), first->line, file_of(b, first), first->line);
        return;
    }
    b->item_of[it->name] = (uint32_t)(it - b->items);
    size_t len;
    const char *s;
    if ((s = str_slot(rec, b->ks[rec->kind].unit, &len))) it->unit = intern_last(b, &b->last_unit, s, len);
    it = &b->items[b->n - 1]; /* intern may not move items, but keep it obvious */
    if ((s = str_slot(rec, b->ks[rec->kind].head_of, &len))) it->head_of = intern(b, s, len);
    it->group = group_of(b, rec);
    bool wait = needs_rollup(b, rec);
    if (keep_item(b, b->n - 1) || wait || b->ks[rec->kind].ref_caps) {
        q_record *c = rec_copy(b->p, rec);
        if (!c) abort();
        GROW(b->recs, b->nrecs, b->caprecs);
        b->recs[b->nrecs] = c;
        it->extra = (uint32_t)b->nrecs++;
    }
    if (wait) {
        it->state = B_WAITING;
        return;
    }
    rate_item(b, it, rec);
    it = &b->items[b->n - 1];
    it->state = B_DONE;
}

int batch_read(batch *b, FILE *in, const char *name, rec_error *err)
{
    rec_reader *r = rec_reader_open(b->p, in, name, REC_AUTO);
    if (!r) {
        memset(err, 0, sizeof *err);
        snprintf(err->file, sizeof err->file, "%s", name);
        snprintf(err->code, sizeof err->code, "no_memory");
        snprintf(err->message, sizeof err->message, "hết bộ nhớ (out of memory)");
        return -1;
    }
    if (b->warn) rec_reader_on_warning(r, b->warn, b->warn_ctx);
    uint32_t file = file_index(b, name);
    q_record *rec;
    rec_error e;
    int rc, ret = 0;
    while ((rc = rec_reader_next(r, &rec, &e)) != 0) {
        if (rc > 0) {
            add_record(b, file, rec);
            continue;
        }
        if (!strcmp(e.code, "io") || !strcmp(e.code, "no_memory")) {
            *err = e;
            ret = -1;
            break;
        }
        add_rejected(b, file, &e);
    }
    rec_reader_free(r);
    return ret;
}

void batch_add_record(batch *b, const q_record *rec, const char *name) { add_record(b, file_index(b, name), rec); }

void batch_add_rejected(batch *b, const rec_error *err, const char *name) { add_rejected(b, file_index(b, name), err); }

void batch_keep_some(batch *b, const uint8_t *keep, size_t n)
{
    b->keep_bits = keep;
    b->nkeep_bits = n;
}

int batch_add_json(batch *b, const void *obj, uint32_t line, const char *name, rec_error *err)
{
    if (!b->json_reader) {
        b->json_reader = rec_reader_open(b->p, NULL, name, REC_JSONL);
        if (!b->json_reader) return -1;
        if (b->warn) rec_reader_on_warning(b->json_reader, b->warn, b->warn_ctx);
    }
    uint32_t file = file_index(b, name);
    q_record *rec;
    int rc = rec_decode_json(b->json_reader, obj, line, &rec, err);
    if (rc > 0)
        add_record(b, file, rec);
    else
        add_rejected(b, file, err);
    return rc > 0 ? 0 : 1;
}

/* ---------------------------------------------------------------------
 * Roll-ups
 * ------------------------------------------------------------------- */

static void build_children(batch *b)
{
    size_t nn = b->nnames;
    b->child_first = calloc(nn + 1, sizeof *b->child_first);
    if (!b->child_first) abort();
    size_t total = 0;
    for (size_t i = 0; i < b->n; i++)
        if (b->items[i].status == BATCH_RATED && b->items[i].unit != QUY_NONE) {
            b->child_first[b->items[i].unit + 1]++;
            total++;
        }
    for (size_t i = 0; i < nn; i++) b->child_first[i + 1] += b->child_first[i];
    b->child = malloc((total ? total : 1) * sizeof *b->child);
    uint32_t *fill = calloc(nn ? nn : 1, sizeof *fill);
    if (!b->child || !fill) abort();
    for (size_t i = 0; i < b->n; i++) {
        const b_item *it = &b->items[i];
        if (it->status != BATCH_RATED || it->unit == QUY_NONE) continue;
        b->child[b->child_first[it->unit] + fill[it->unit]++] = (uint32_t)i;
    }
    free(fill);
}

static uint32_t nchildren(const batch *b, uint32_t name)
{
    return name == QUY_NONE || !b->child_first ? 0 : b->child_first[name + 1] - b->child_first[name];
}

/* Fill the absent computed fields of a waiting record from its children's
 * final tiers (records not rated — rejected, not_rated, deferred — have no
 * tier and are left out). No child at all: the field stays absent. */
static q_record *fill_rollups(batch *b, b_item *it, q_record *rec)
{
    const b_kslots *ks = &b->ks[rec->kind];
    uint32_t slots[2] = {ks->member_tiers, ks->subordinate_tiers};
    uint32_t of[2] = {it->name, it->head_of};
    uint32_t add = 0;
    for (int i = 0; i < 2; i++)
        if (slots[i] != QUY_NONE && !rec->present[slots[i]]) add += nchildren(b, of[i]);
    uint32_t nf = b->p->kinds[rec->kind].nfields;
    q_record tmp = *rec;
    tmp.slots = malloc(nf * sizeof *tmp.slots);
    tmp.present = malloc(nf ? nf : 1);
    tmp.elems = malloc(((size_t)rec->nelems + add + 1) * sizeof *tmp.elems);
    if (!tmp.slots || !tmp.present || !tmp.elems) abort();
    memcpy(tmp.slots, rec->slots, nf * sizeof *tmp.slots);
    memcpy(tmp.present, rec->present, nf);
    if (rec->nelems) memcpy(tmp.elems, rec->elems, rec->nelems * sizeof *tmp.elems);
    tmp.nelems = rec->nelems;
    for (int i = 0; i < 2; i++) {
        if (slots[i] == QUY_NONE || rec->present[slots[i]]) continue;
        it->rollups |= (uint8_t)(1u << i);
        uint32_t nc = nchildren(b, of[i]);
        if (!nc) continue;
        uint32_t first = tmp.nelems;
        for (uint32_t c = 0; c < nc; c++) {
            const b_item *ch = &b->items[b->child[b->child_first[of[i]] + c]];
            if (ch->status != BATCH_RATED || ch->tier > QO_HTXSNV) continue;
            tmp.elems[tmp.nelems++] = q_int(ch->tier);
        }
        tmp.slots[slots[i]] = (q_val){first, tmp.nelems - first};
        tmp.present[slots[i]] = 1;
        it->steps |= BS_ROLLUP;
    }
    q_record *c = rec_copy(b->p, &tmp);
    free(tmp.slots);
    free(tmp.present);
    free(tmp.elems);
    if (!c) abort();
    rec_free(rec);
    return c;
}

/* ---------------------------------------------------------------------
 * Quotas
 * ------------------------------------------------------------------- */

static uint32_t round_val(q_val x, uint8_t mode)
{
    /* x >= 0: floor = n / d */
    int64_t fl = x.n / x.d, rem = x.n % x.d;
    switch (mode) {
    case QROUND_UP: return (uint32_t)(fl + (rem ? 1 : 0));
    case QROUND_HALF_UP: return (uint32_t)(fl + (2 * rem >= x.d ? 1 : 0));
    default: return (uint32_t)fl;
    }
}

static q_val times(q_val share, uint32_t n)
{
    q_val r;
    if (q_mul(share, q_int(n), &r) != Q_OK) r = q_int(INT32_MAX);
    return r;
}

typedef struct cand_ctx {
    const batch *b;
    uint32_t key0, nkeys;
    const uint8_t *desc;
} cand_ctx;

static _Thread_local cand_ctx *g_cand;

/* Compare two candidates by the quota's keys (absent last), then input order. */
static int key_cmp(const batch *b, uint32_t a, uint32_t c, uint32_t key0, uint32_t nkeys, const uint8_t *desc)
{
    const b_item *x = &b->items[a], *y = &b->items[c];
    for (uint32_t k = 0; k < nkeys; k++) {
        q_val u = x->keys_at == QUY_NONE ? (q_val){0, 0} : b->keys[x->keys_at + key0 + k];
        q_val v = y->keys_at == QUY_NONE ? (q_val){0, 0} : b->keys[y->keys_at + key0 + k];
        if (!u.d || !v.d) {
            if (u.d != v.d) return u.d ? -1 : 1;
            continue;
        }
        int r = q_cmp(u, v);
        if (desc[k]) r = -r;
        if (r) return r;
    }
    return 0;
}

static int cand_sort(const void *pa, const void *pb)
{
    uint32_t a = *(const uint32_t *)pa, c = *(const uint32_t *)pb;
    int r = key_cmp(g_cand->b, a, c, g_cand->key0, g_cand->nkeys, g_cand->desc);
    if (r) return r;
    return (a > c) - (a < c); /* input order */
}

static void apply_quotas(batch *b, uint32_t g)
{
    const q_program *p = b->p;
    b_group *G = &b->groups[g];
    G->runs = calloc(p->nquotas ? p->nquotas : 1, sizeof *G->runs);
    uint32_t *cand = malloc(((size_t)G->n + 1) * sizeof *cand);
    if (!G->runs || !cand) abort();
    uint32_t key0 = 0;
    for (uint32_t q = 0; q < p->nquotas; q++) {
        const q_quota *Q = &p->quotas[q];
        b_qrun *run = &G->runs[q];
        uint32_t nc = 0, nrated = 0, below = 0;
        for (uint32_t i = 0; i < G->n; i++) {
            const b_item *it = &b->items[b->gmem[G->first + i]];
            if (it->status != BATCH_RATED || it->tier > QO_HTXSNV) continue;
            nrated++;
            if (it->tier == Q->tier) cand[nc++] = b->gmem[G->first + i];
            else if (it->tier == Q->of_tier) run->n_of++;
            else if (it->tier > Q->tier) run->n_above++;
            else below++;
        }
        run->n_tier = nc;
        uint32_t k;
        switch (Q->basis) {
        case QBASIS_ELIGIBLE:
            run->base = run->n_of;
            run->raw = times(Q->share, run->base);
            run->limit = round_val(run->raw, Q->rounding);
            k = nc < run->limit ? nc : run->limit;
            break;
        case QBASIS_AT_LEAST:
            run->base = run->n_of + nc + run->n_above;
            run->raw = times(Q->share, run->base);
            run->limit = round_val(run->raw, Q->rounding);
            k = nc < run->limit ? nc : run->limit;
            break;
        default: /* final: the largest k with k <= round(share x (#U + demoted)) */
            k = nc;
            for (;;) {
                run->base = run->n_of + (nc - k);
                run->raw = times(Q->share, run->base);
                run->limit = round_val(run->raw, Q->rounding);
                if (k <= run->limit || k == 0) break;
                k--;
            }
            if (k < nc) {
                run->have_next = true;
                run->next_base = run->n_of + (nc - k - 1);
                run->next_raw = times(Q->share, run->next_base);
                run->next_limit = round_val(run->next_raw, Q->rounding);
            }
            break;
        }
        if (Q->small_group && k == 0 && nc > 0 && nrated < Q->small_group && below == 0) {
            k = 1;
            run->small = true;
            run->have_next = false; /* the exception, not the count, decided */
        }
        run->kept = k;
        uint8_t desc[64] = {0};
        uint32_t nk = Q->nkeys < 64 ? Q->nkeys : 64;
        for (uint32_t i = 0; i < p->nqkeys; i++)
            if (p->qkeys[i].quota == q && p->qkeys[i].key < 64) desc[p->qkeys[i].key] = p->qkeys[i].desc;
        cand_ctx cx = {b, key0, nk, desc};
        g_cand = &cx;
        qsort(cand, nc, sizeof *cand, cand_sort);
        g_cand = NULL;
        /* ties: candidates whose keys equal those at the cut */
        bool cut = k < nc && k > 0;
        for (uint32_t i = 0; i < nc; i++) {
            b_item *it = &b->items[cand[i]];
            it->rank = i + 1;
            if (cut && key_cmp(b, cand[i], cand[k - 1], key0, nk, desc) == 0 &&
                key_cmp(b, cand[k], cand[k - 1], key0, nk, desc) == 0)
                it->steps |= BS_TIE;
            if (i < k) {
                it->steps |= BS_QUOTA_KEPT;
                if (run->small) it->steps |= BS_SMALL_GROUP;
                if (run->nfirst < 5) run->first_kept[run->nfirst++] = cand[i];
            } else {
                it->steps |= BS_QUOTA_DEMOTED;
                it->tier = Q->of_tier;
            }
        }
        key0 += Q->nkeys;
    }
    for (uint32_t i = 0; i < G->n; i++) {
        const b_item *it = &b->items[b->gmem[G->first + i]];
        if (it->status != BATCH_RATED) continue;
        if (it->eligible < QO__COUNT) G->count_elig[it->eligible]++;
        if (it->tier < QO__COUNT) G->count_final[it->tier]++;
    }
    free(cand);
}

/* ---------------------------------------------------------------------
 * Dependency order
 * ------------------------------------------------------------------- */

typedef struct edge {
    uint32_t from, to; /* `to` waits for `from` */
} edge;

/* Nodes: the records with something left to do when batch_run starts — a
 * roll-up to fill before their rules run, or a cap that reads another
 * record's tier (is_node) — (0 .. nwait-1, in input order: wait[node] is
 * the item) and the groups (nwait + group). Any other record was rated and
 * capped as it was read and is no node: its tier before the quota is
 * known, and its final tier is its group's (or that one when in no group),
 * so nothing has to wait for it. */
typedef struct graph {
    edge *e;
    size_t n, cap;
    uint32_t *wait, nwait;
    uint32_t *stamp; /* per node: last dependent that added an edge from it (dedup) */
} graph;

static bool is_node(const batch *b, const b_item *it)
{
    return it->status == BATCH_RATED && (it->state == B_WAITING || b->ks[it->kind].ref_caps);
}

/* The node of item t, or QUY_NONE when t is no node (its tier is known). */
static uint32_t item_node(const graph *g, uint32_t t)
{
    uint32_t lo = 0, hi = g->nwait;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (g->wait[mid] < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < g->nwait && g->wait[lo] == t ? lo : QUY_NONE;
}

/* `to` waits for `from`; nothing to wait for when from is QUY_NONE. */
static void add_edge(batch *b, graph *g, uint32_t from, uint32_t to)
{
    if (from == QUY_NONE || g->stamp[from] == to) return;
    g->stamp[from] = to;
    GROW(g->e, g->n, g->cap);
    g->e[g->n++] = (edge){from, to};
}

/* The node to wait for to know item t's final tier (QUY_NONE: known). */
static uint32_t final_node(const batch *b, const graph *g, uint32_t t)
{
    const b_item *it = &b->items[t];
    return it->group != QUY_NONE ? g->nwait + it->group : item_node(g, t);
}

static void node_name(const batch *b, const graph *g, uint32_t node, char *buf, size_t size)
{
    if (node < g->nwait)
        snprintf(buf, size, "'%s'", name_str(b, b->items[g->wait[node]].name));
    else
        snprintf(buf, size, "nhóm '%s'", name_str(b, b->groups[node - g->nwait].key));
}

/* Name a cycle through unfinished node `start` (following waits-for edges). */
static void describe_cycle(const batch *b, const graph *g, const uint8_t *done, uint32_t start, char *buf, size_t size)
{
    uint32_t path[64];
    size_t np = 0;
    uint32_t cur = start;
    size_t at = SIZE_MAX;
    while (np < 64) {
        for (size_t i = 0; i < np; i++)
            if (path[i] == cur) at = i;
        if (at != SIZE_MAX) break;
        path[np++] = cur;
        uint32_t next = UINT32_MAX;
        for (size_t i = 0; i < g->n && next == UINT32_MAX; i++)
            if (g->e[i].to == cur && !done[g->e[i].from]) next = g->e[i].from;
        if (next == UINT32_MAX) break;
        cur = next;
    }
    size_t o = 0;
    buf[0] = 0;
    if (at == SIZE_MAX) at = 0;
    for (size_t i = at; i < np && o < size; i++) {
        char nm[200];
        node_name(b, g, path[i], nm, sizeof nm);
        int w = snprintf(buf + o, size - o, "%s%s", i > at ? " ← " : "", nm);
        if (w < 0) break;
        o += (size_t)w;
    }
    if (o < size && np) {
        char nm[200];
        node_name(b, g, path[at], nm, sizeof nm);
        snprintf(buf + o, size - o, " ← %s", nm);
    }
}

void batch_run(batch *b)
{
    const q_program *p = b->p;
    size_t N = b->n, G = b->ngroups;
    build_children(b);

    /* group members */
    uint32_t *gfill = calloc(G + 1, sizeof *gfill);
    if (!gfill) abort();
    for (size_t i = 0; i < N; i++)
        if (b->items[i].status == BATCH_RATED && b->items[i].group != QUY_NONE) b->groups[b->items[i].group].n++;
    uint32_t acc = 0;
    for (size_t g = 0; g < G; g++) {
        b->groups[g].first = acc;
        acc += b->groups[g].n;
    }
    b->gmem = malloc((acc ? acc : 1) * sizeof *b->gmem);
    if (!b->gmem) abort();
    for (size_t i = 0; i < N; i++) {
        const b_item *it = &b->items[i];
        if (it->status == BATCH_RATED && it->group != QUY_NONE)
            b->gmem[b->groups[it->group].first + gfill[it->group]++] = (uint32_t)i;
    }
    free(gfill);

    /* nodes: the records with something left to do, then the groups */
    graph gr = {0};
    for (size_t i = 0; i < N; i++) gr.nwait += is_node(b, &b->items[i]);
    gr.wait = malloc((gr.nwait ? gr.nwait : 1) * sizeof *gr.wait);
    if (!gr.wait) abort();
    for (size_t i = 0, w = 0; i < N; i++)
        if (is_node(b, &b->items[i])) gr.wait[w++] = (uint32_t)i;
    size_t W = gr.nwait, NN = W + G;

    /* edges */
    gr.stamp = malloc((NN ? NN : 1) * sizeof *gr.stamp);
    if (!gr.stamp) abort();
    for (size_t i = 0; i < NN; i++) gr.stamp[i] = UINT32_MAX;
    for (uint32_t w = 0; w < W; w++) {
        uint32_t i = gr.wait[w];
        b_item *it = &b->items[i];
        if (it->status != BATCH_RATED) continue;
        if (it->group != QUY_NONE) add_edge(b, &gr, w, (uint32_t)W + it->group);
        const q_record *rec = b->recs[it->extra];
        const b_kslots *ks = &b->ks[it->kind];
        uint32_t of[2] = {it->name, it->head_of};
        uint32_t sl[2] = {ks->member_tiers, ks->subordinate_tiers};
        for (int r = 0; r < 2; r++) {
            if (it->state != B_WAITING || sl[r] == QUY_NONE || rec->present[sl[r]] || of[r] == QUY_NONE) continue;
            for (uint32_t c = 0; c < nchildren(b, of[r]); c++) {
                uint32_t ch = b->child[b->child_first[of[r]] + c];
                if (ch == i) continue;
                /* the collective's own head (a secretary in the chi bộ he
                 * heads): his tier before the head-not-above-the-collective
                 * cap, which waits for the collective ("the head after the
                 * collective") */
                if (r == 0 && b->items[ch].head_of == it->name && b->items[ch].state == B_DONE) continue;
                /* a child in the collective's own quota group: its tier
                 * before the quota (the quota waits for the collective) */
                bool same = b->items[ch].group != QUY_NONE && b->items[ch].group == it->group;
                add_edge(b, &gr, same ? item_node(&gr, ch) : final_node(b, &gr, ch), w);
            }
        }
        for (uint32_t c = 0; c < p->ncaps; c++) {
            const q_cap *cap = &p->caps[c];
            if (cap->kind != it->kind || (cap->bound != QCAP_HEAD_OF && cap->bound != QCAP_UNIT)) continue;
            uint32_t ref = cap->bound == QCAP_HEAD_OF ? it->head_of : it->unit;
            if (ref == QUY_NONE) continue; /* no reference: the cap has nothing to compare with */
            uint32_t t = b->item_of[ref];
            if (t == QUY_NONE && b->single) continue;
            if (t == QUY_NONE) {
                const char *field = cap->bound == QCAP_HEAD_OF ? "head_of" : "unit";
                reject(b, it, "dangling_ref", field,
                       "'%s' của '%s' là '%s', nhưng không có bản ghi '%s' trong lô: giới hạn \"%s\" (%s) cần xếp loại "
                       "của tập thể đó (record '%s' refers to '%s', which is not in the batch)",
                       field, name_str(b, it->name), name_str(b, ref), name_str(b, ref), prog_str(p, cap->text),
                       prog_str(p, cap->cite), name_str(b, it->name), name_str(b, ref));
                break;
            }
            if (t != i) add_edge(b, &gr, final_node(b, &gr, t), w);
        }
    }

    /* Kahn: CSR of dependents, indegrees */
    uint32_t *indeg = calloc(NN ? NN : 1, sizeof *indeg), *first = calloc(NN + 1, sizeof *first);
    uint32_t *adj = malloc((gr.n ? gr.n : 1) * sizeof *adj), *queue = malloc((NN ? NN : 1) * sizeof *queue);
    uint8_t *done = calloc(NN ? NN : 1, 1);
    if (!indeg || !first || !adj || !queue || !done) abort();
    for (size_t i = 0; i < gr.n; i++) {
        indeg[gr.e[i].to]++;
        first[gr.e[i].from + 1]++;
    }
    for (size_t i = 0; i < NN; i++) first[i + 1] += first[i];
    uint32_t *fill = calloc(NN ? NN : 1, sizeof *fill);
    if (!fill) abort();
    for (size_t i = 0; i < gr.n; i++) adj[first[gr.e[i].from] + fill[gr.e[i].from]++] = gr.e[i].to;
    free(fill);
    size_t qh = 0, qt = 0;
    for (size_t i = 0; i < NN; i++)
        if (!indeg[i]) queue[qt++] = (uint32_t)i;
    while (qh < qt) {
        uint32_t v = queue[qh++];
        done[v] = 1;
        if (v < W) {
            b_item *it = &b->items[gr.wait[v]];
            if (it->status == BATCH_RATED && it->state == B_WAITING) {
                q_record *rec = fill_rollups(b, it, b->recs[it->extra]);
                b->recs[it->extra] = rec;
                rate_item(b, it, rec);
                it = &b->items[gr.wait[v]];
                it->state = B_DONE;
            }
            if (it->status == BATCH_RATED && it->extra != QUY_NONE && b->recs[it->extra]) {
                if (b->ks[it->kind].ref_caps) apply_caps(b, it, b->recs[it->extra], true);
                if (!keep_item(b, gr.wait[v])) {
                    rec_free(b->recs[it->extra]);
                    b->recs[it->extra] = NULL;
                    it->extra = QUY_NONE;
                }
            }
        } else if (!b->single) {
            apply_quotas(b, v - (uint32_t)W);
        }
        for (uint32_t j = first[v]; j < first[v + 1]; j++)
            if (--indeg[adj[j]] == 0) queue[qt++] = adj[j];
    }

    /* whatever is left waits, directly or not, on a cycle */
    for (uint32_t w = 0; w < W; w++) {
        b_item *it = &b->items[gr.wait[w]];
        if (done[w] || it->status != BATCH_RATED) continue;
        char cyc[400];
        describe_cycle(b, &gr, done, w, cyc, sizeof cyc);
        reject(b, it, "cycle", "",
               "phụ thuộc vòng, không xác định được thứ tự xếp loại: %s (a cycle of references: each waits for the "
               "next one's tier; check unit / head_of and the quota groups)",
               cyc);
    }
    for (size_t g = 0; g < G; g++)
        if (!done[W + g] && !b->groups[g].runs) {
            /* a group on a cycle: count what is there, apply no quota */
            b->groups[g].runs = calloc(p->nquotas ? p->nquotas : 1, sizeof *b->groups[g].runs);
            if (!b->groups[g].runs) abort();
            for (uint32_t q = 0; q < p->nquotas; q++) b->groups[g].runs[q].raw = q_int(0);
            b_group *Gp = &b->groups[g];
            for (uint32_t i = 0; i < Gp->n; i++) {
                const b_item *it = &b->items[b->gmem[Gp->first + i]];
                if (it->status != BATCH_RATED) continue;
                if (it->eligible < QO__COUNT) Gp->count_elig[it->eligible]++;
                if (it->tier < QO__COUNT) Gp->count_final[it->tier]++;
            }
        }
    free(indeg);
    free(first);
    free(adj);
    free(queue);
    free(done);
    free(gr.e);
    free(gr.stamp);
    free(gr.wait);
}

/* ---------------------------------------------------------------------
 * Results
 * ------------------------------------------------------------------- */

size_t batch_count(const batch *b) { return b->n; }

size_t batch_find(const batch *b, const char *id)
{
    uint32_t *v = strset_get(&b->names, id, strlen(id));
    if (!v || *v >= b->nnames || b->item_of[*v] == QUY_NONE) return SIZE_MAX;
    return b->item_of[*v];
}

void batch_get(const batch *b, size_t i, batch_view *v)
{
    const b_item *it = &b->items[i];
    memset(v, 0, sizeof *v);
    v->index = (uint32_t)i;
    v->status = (batch_status)it->status;
    v->id = name_str(b, it->name);
    v->file = file_of(b, it);
    v->line = it->line;
    v->kind = it->kind;
    if (it->status == BATCH_REJECTED) {
        v->error = &b->errs[it->extra];
        return;
    }
    v->rec = it->extra != QUY_NONE ? b->recs[it->extra] : NULL;
    v->res.outcome = it->tier;
    v->res.error = VM_OK;
    v->res.rule = it->rule;
    v->res.nflags = it->nflags;
    for (uint32_t f = 0; f < it->nflags; f++) v->res.flags[f] = b->flags[it->flags_at + f];
    v->res.nnotes = it->nnotes;
    for (uint32_t f = 0; f < it->nnotes && f < QUY_MAX_NOTES; f++) v->res.notes[f] = b->notes[it->notes_at + f];
    v->eligible = it->eligible;
    v->steps = it->steps;
    v->group = it->group != QUY_NONE ? name_str(b, b->groups[it->group].key) : NULL;
}

/* Exact rational (or percent) for people, Vietnamese decimal comma: 1,6 */
static void fmt_vi(q_val v, bool pct, char *buf, size_t size)
{
    if (v.d <= 0) v = q_int(0);
    q_format(v, pct, buf, size);
    for (char *c = buf; *c && *c != ' '; c++)
        if (*c == '.') *c = ',';
}

static const char *tier_up(uint8_t t)
{
    static const char *const up[] = {"KHTNV", "HTNV", "HTTNV", "HTXSNV", "KHÔNG XẾP LOẠI", "CHƯA XẾP LOẠI"};
    return t < QO__COUNT ? up[t] : "?";
}

static const char *const round_vi[] = {"làm tròn xuống", "làm tròn (từ 0,5 lên 1)", "làm tròn lên"};

typedef struct sbuf {
    char *s;
    size_t n, cap;
} sbuf;

static void sb_printf(sbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *sb, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = sb->cap - sb->n;
        int w = vsnprintf(sb->s ? sb->s + sb->n : NULL, sb->s ? room : 0, fmt, ap);
        va_end(ap);
        if (w < 0) return;
        if (sb->s && (size_t)w < room) {
            sb->n += (size_t)w;
            return;
        }
        size_t nc = sb->cap ? sb->cap * 2 : 256;
        while (nc < sb->n + (size_t)w + 1) nc *= 2;
        char *ns = realloc(sb->s, nc);
        if (!ns) abort();
        sb->s = ns;
        sb->cap = nc;
    }
}

/* One message per batch step of item i; calls emit(step, message, cite, layer). */
typedef void (*step_fn)(void *ctx, const char *step, const char *msg, const char *cite, const char *layer);

static void steps_of(const batch *b, size_t i, step_fn emit, void *ctx)
{
    const q_program *p = b->p;
    const b_item *it = &b->items[i];
    if (it->status != BATCH_RATED) return;
    const b_kslots *ks = &b->ks[it->kind];
    sbuf sb = {0};
    /* roll-ups */
    uint32_t sl[2] = {ks->member_tiers, ks->subordinate_tiers};
    uint32_t of[2] = {it->name, it->head_of};
    const char *what[2] = {"các thành viên / tổ chức trực thuộc", "các đơn vị thuộc quyền quản lý"};
    for (int r = 0; r < 2; r++) {
        if (sl[r] == QUY_NONE || !(it->rollups & (1u << r))) continue;
        const q_field *f = &p->fields[p->kinds[it->kind].first_field + sl[r]];
        sb.n = 0;
        sb_printf(&sb, "%s (%s) lấy từ lô: ", prog_str(p, f->label), prog_str(p, f->name));
        sb_printf(&sb, "%s (bản ghi có unit = '%s')", what[r], name_str(b, of[r]));
        uint32_t nc = nchildren(b, of[r]);
        if (!nc) {
            sb_printf(&sb, " — không có bản ghi nào trong lô, trường để trống (các điều kiện 'if present' bỏ qua)");
        } else {
            sb_printf(&sb, ": ");
            uint32_t shown = 0, skipped = 0;
            for (uint32_t c = 0; c < nc; c++) {
                const b_item *ch = &b->items[b->child[b->child_first[of[r]] + c]];
                if (ch->status != BATCH_RATED || ch->tier > QO_HTXSNV) {
                    skipped++;
                    continue;
                }
                bool same = ch->group != QUY_NONE && ch->group == it->group && (ch->steps & BS_QUOTA_DEMOTED);
                uint8_t used = same ? (uint8_t)(ch->tier + 1) : ch->tier; /* a demotion is one tier down */
                bool head = r == 0 && ch->head_of == it->name && (ch->steps & BS_CAPPED) &&
                            (p->caps[ch->cap].bound == QCAP_HEAD_OF || p->caps[ch->cap].bound == QCAP_UNIT);
                if (head) {
                    used = ch->capped_from;
                    same = false;
                }
                if (shown < 12)
                    sb_printf(&sb, "%s%s = %s%s", shown ? ", " : "", name_str(b, ch->name), q_outcome_code[used],
                              same ? " (trước hạn mức: cùng nhóm với tập thể)"
                              : head ? " (người đứng đầu: mức trước giới hạn không cao hơn tập thể)"
                                     : "");
                shown++;
            }
            if (shown > 12) sb_printf(&sb, ", … (%u bản ghi)", shown);
            if (!shown) sb_printf(&sb, "danh sách rỗng");
            if (skipped) {
                sb_printf(&sb, "; %u bản ghi không có xếp loại (bị từ chối, không xếp loại hoặc chưa xếp loại) không tính:",
                          skipped);
                uint32_t named = 0;
                for (uint32_t c = 0; c < nc && named < 5; c++) {
                    const b_item *ch = &b->items[b->child[b->child_first[of[r]] + c]];
                    if (ch->status == BATCH_RATED && ch->tier <= QO_HTXSNV) continue;
                    sb_printf(&sb, "%s %s (%s)", named ? "," : "", name_str(b, ch->name),
                              ch->status != BATCH_RATED ? "lỗi" : q_outcome_code[ch->tier]);
                    named++;
                }
                if (skipped > named) sb_printf(&sb, ", …");
            }
        }
        emit(ctx, "rollup", sb.s, "", "");
    }
    /* cap */
    if (it->steps & BS_CAPPED) {
        const q_cap *cap = &p->caps[it->cap];
        sb.n = 0;
        sb_printf(&sb, "Giảm do giới hạn \"%s\": %s → %s", prog_str(p, cap->text), tier_up(it->capped_from),
                  tier_up((uint8_t)(it->steps & BS_QUOTA_DEMOTED ? p->quotas[0].tier : it->tier)));
        if (cap->bound == QCAP_HEAD_OF || cap->bound == QCAP_UNIT) {
            uint32_t ref = cap->bound == QCAP_HEAD_OF ? it->head_of : it->unit;
            sb_printf(&sb, " (tập thể '%s' xếp loại %s)", name_str(b, ref), tier_up(final_of(b, ref)));
        }
        emit(ctx, "cap", sb.s, prog_str(p, cap->cite), prog_str(p, cap->layer));
    }
    /* quota */
    if ((it->steps & (BS_QUOTA_KEPT | BS_QUOTA_DEMOTED)) && it->group != QUY_NONE && b->groups[it->group].runs) {
        const b_group *G = &b->groups[it->group];
        for (uint32_t q = 0; q < p->nquotas; q++) {
            const q_quota *Q = &p->quotas[q];
            const b_qrun *run = &G->runs[q];
            if (!run->n_tier) continue;
            if (it->eligible < Q->tier && !(it->steps & BS_CAPPED)) continue;
            char raw[64], share[32];
            fmt_vi(run->raw, false, raw, sizeof raw);
            fmt_vi(Q->share, true, share, sizeof share);
            sb.n = 0;
            bool demoted = (it->steps & BS_QUOTA_DEMOTED) != 0;
            sb_printf(&sb, "%s: nhóm '%s' ", demoted ? "Giảm do hạn mức" : "Trong hạn mức", name_str(b, G->key));
            switch (Q->basis) {
            case QBASIS_ELIGIBLE:
                sb_printf(&sb, "có %u %s trước hạn mức, hạn mức %s = %s → %u", run->base, tier_up(Q->of_tier), share,
                          raw, run->limit);
                break;
            case QBASIS_AT_LEAST:
                sb_printf(&sb, "có %u người %s trở lên, hạn mức %s = %s → %u", run->base, tier_up(Q->of_tier), share,
                          raw, run->limit);
                break;
            default:
                sb_printf(&sb, "có %u %s (kể cả người bị giảm), hạn mức %s = %s → %u", run->base, tier_up(Q->of_tier),
                          share, raw, run->limit);
                break;
            }
            sb_printf(&sb, " (%s)", round_vi[Q->rounding < 3 ? Q->rounding : 0]);
            if (run->have_next) {
                char nraw[64];
                fmt_vi(run->next_raw, false, nraw, sizeof nraw);
                sb_printf(&sb, "; giữ %u thì chỉ còn %u %s: %s × %u = %s → %u < %u", run->kept + 1, run->next_base,
                          tier_up(Q->of_tier), share, run->next_base, nraw, run->next_limit, run->kept + 1);
            }
            if (run->small)
                sb_printf(&sb, "; nhóm dưới %u người, tất cả %s trở lên: được giữ 1", Q->small_group, tier_up(Q->of_tier));
            sb_printf(&sb, "; %u người đủ điều kiện %s, giữ %u", run->n_tier, tier_up(Q->tier), run->kept);
            if (run->kept) {
                sb_printf(&sb, " theo thứ tự%s: ", Q->nkeys ? "" : " nhập (không khai báo tiêu chí ưu tiên)");
                for (uint32_t j = 0; j < run->nfirst; j++)
                    sb_printf(&sb, "%s%s", j ? ", " : "", name_str(b, b->items[run->first_kept[j]].name));
                if (run->kept > run->nfirst) sb_printf(&sb, ", …");
            }
            sb_printf(&sb, "; người này xếp thứ %u → %s", it->rank, tier_up(it->tier));
            if (it->steps & BS_TIE)
                sb_printf(&sb, " (bằng điểm ưu tiên với người ở ranh giới: phân định theo thứ tự nhập)");
            emit(ctx, demoted ? "quota_demoted" : "quota_kept", sb.s, prog_str(p, Q->cite), prog_str(p, Q->layer));
        }
    }
    free(sb.s);
}

typedef struct text_ctx {
    sbuf sb;
    int indent;
} text_ctx;

static void text_emit(void *ctx, const char *step, const char *msg, const char *cite, const char *layer)
{
    text_ctx *t = ctx;
    (void)step;
    sb_printf(&t->sb, "%*s⇒ %s", t->indent, "", msg);
    if (*cite) sb_printf(&t->sb, " — %s%s%s%s", cite, *layer ? " [" : "", layer, *layer ? "]" : "");
    sb_printf(&t->sb, "\n");
}

char *batch_explain_text(const batch *b, size_t i, int indent)
{
    text_ctx t = {{0}, indent};
    sb_printf(&t.sb, "%s", "");
    steps_of(b, i, text_emit, &t);
    return t.sb.s;
}

static void json_emit(void *ctx, const char *step, const char *msg, const char *cite, const char *layer)
{
    json_t *o = json_object();
    json_object_set_new(o, "step", json_string(step));
    json_object_set_new(o, "message", json_string(msg));
    json_object_set_new(o, "cite", *cite ? json_string(cite) : json_null());
    json_object_set_new(o, "layer", *layer ? json_string(layer) : json_null());
    json_array_append_new(ctx, o);
}

void *batch_explain_json(const batch *b, size_t i)
{
    json_t *a = json_array();
    steps_of(b, i, json_emit, a);
    return a;
}

typedef struct flag_ctx {
    const char **code;
    char **message;
    const char **cite;
    size_t n, max;
} flag_ctx;

static void flag_emit(void *ctx, const char *step, const char *msg, const char *cite, const char *layer)
{
    flag_ctx *f = ctx;
    (void)layer;
    const char *code = !strcmp(step, "cap") ? "capped" : !strcmp(step, "quota_demoted") ? "quota_demoted" : NULL;
    if (!code || f->n >= f->max) return;
    f->code[f->n] = code;
    f->message[f->n] = strdup(msg);
    f->cite[f->n] = cite;
    f->n++;
}

size_t batch_flags(const batch *b, size_t i, const char **code, char **message, const char **cite, size_t max)
{
    const b_item *it = &b->items[i];
    if (!(it->steps & (BS_CAPPED | BS_QUOTA_DEMOTED))) return 0;
    flag_ctx f = {code, message, cite, 0, max};
    steps_of(b, i, flag_emit, &f);
    return f.n;
}

void batch_write(const batch *b, size_t i, out_writer *w, vm_trace *tr, bool text)
{
    const q_program *p = b->p;
    batch_view v;
    batch_get(b, i, &v);
    if (v.status != BATCH_RATED) return;
    const char *code[8], *cite[8];
    char *msg[8];
    size_t nx = batch_flags(b, i, code, msg, cite, 8);
    out_flag extra[8];
    for (size_t k = 0; k < nx; k++) extra[k] = (out_flag){code[k], msg[k], cite[k]};
    char *tj = NULL, *tt = NULL;
    if (tr && v.rec) {
        vm_result res; /* the rate block's own result, for the trace */
        tr->n = 0;
        tr->truncated = false;
        vm_rate(p, v.rec, &res, tr);
        explanation x = {0};
        explain_build(&x, p, v.rec, &res, tr);
        json_t *steps = batch_explain_json(b, i);
        char *tail = NULL;
        if (json_array_size(steps)) {
            char *sj = json_dumps(steps, JSON_COMPACT | JSON_PRESERVE_ORDER);
            strbuf t = {0};
            strbuf_printf(&t, "\"batch_steps\":%s", sj ? sj : "[]");
            free(sj);
            tail = strbuf_take(&t);
        }
        json_decref(steps);
        strbuf sb = {0};
        explain_render_json(&x, &sb, tail);
        free(tail);
        tj = strbuf_take(&sb);
        if (text) {
            explain_render_text(&x, &sb, 4);
            char *t2 = batch_explain_text(b, i, 4);
            strbuf_puts(&sb, t2 ? t2 : "");
            free(t2);
            tt = strbuf_take(&sb);
        }
        explain_clear(&x);
    }
    q_record shown = {.kind = v.kind, .id = v.id, .line = v.line};
    out_result_ex(w, v.rec ? v.rec : &shown, &v.res, v.eligible, extra, nx, tj, tt);
    for (size_t k = 0; k < nx; k++) free(msg[k]);
    free(tj);
    free(tt);
}

void batch_summary(const batch *b, FILE *out, bool json)
{
    const q_program *p = b->p;
    if (!json)
        fprintf(out, "%s%*s %7s %7s %7s %7s %7s  %s\n", "nhóm (group)", 12, "", "HTXSNV", "HTTNV", "HTNV", "KHTNV", "khác",
                "hạn mức (quota)");
    for (size_t g = 0; g < b->ngroups; g++) {
        const b_group *G = &b->groups[g];
        uint32_t other = G->count_final[QO_NOT_RATED] + G->count_final[QO_DEFERRED];
        if (json) {
            json_t *o = json_object();
            json_object_set_new(o, "group", json_string(name_str(b, G->key)));
            json_object_set_new(o, "records", json_integer(G->n));
            json_t *el = json_object(), *fi = json_object();
            for (int t = 0; t < QO__COUNT; t++) {
                json_object_set_new(el, q_outcome_code[t], json_integer(G->count_elig[t]));
                json_object_set_new(fi, q_outcome_code[t], json_integer(G->count_final[t]));
            }
            json_object_set_new(o, "eligible", el);
            json_object_set_new(o, "final", fi);
            json_t *qs = json_array();
            for (uint32_t q = 0; q < p->nquotas && G->runs; q++) {
                const b_qrun *r = &G->runs[q];
                char raw[64];
                q_format(r->raw.d > 0 ? r->raw : q_int(0), false, raw, sizeof raw);
                json_t *qo = json_object();
                json_object_set_new(qo, "tier", json_string(q_outcome_code[p->quotas[q].tier]));
                json_object_set_new(qo, "base", json_integer(r->base));
                json_object_set_new(qo, "raw", json_string(raw));
                json_object_set_new(qo, "limit", json_integer(r->limit));
                json_object_set_new(qo, "candidates", json_integer(r->n_tier));
                json_object_set_new(qo, "kept", json_integer(r->kept));
                json_object_set_new(qo, "demoted", json_integer(r->n_tier - r->kept));
                json_object_set_new(qo, "small_group", json_boolean(r->small));
                json_array_append_new(qs, qo);
            }
            json_object_set_new(o, "quotas", qs);
            json_dumpf(o, out, JSON_COMPACT | JSON_PRESERVE_ORDER);
            fputc('\n', out);
            json_decref(o);
            continue;
        }
        const char *key = name_str(b, G->key);
        size_t wd = out_display_width(key);
        fprintf(out, "%s%*s %7u %7u %7u %7u %7u ", key, (int)(wd < 24 ? 24 - wd : 0), "", G->count_final[QO_HTXSNV],
                G->count_final[QO_HTTNV], G->count_final[QO_HTNV], G->count_final[QO_KHTNV], other);
        for (uint32_t q = 0; q < p->nquotas && G->runs; q++) {
            const b_qrun *r = &G->runs[q];
            char raw[64];
            fmt_vi(r->raw, false, raw, sizeof raw);
            fprintf(out, " %s: %u/%u giữ (hạn mức %s → %u%s)", q_outcome_code[p->quotas[q].tier], r->kept, r->n_tier,
                    raw, r->limit, r->small ? ", nhóm nhỏ" : "");
        }
        fputc('\n', out);
    }
}

void batch_free(batch *b)
{
    if (!b) return;
    for (size_t i = 0; i < b->nrecs; i++) rec_free(b->recs[i]);
    for (size_t i = 0; i < b->nfiles; i++) free(b->files[i]);
    for (size_t g = 0; g < b->ngroups; g++) free(b->groups[g].runs);
    if (b->json_reader) rec_reader_free(b->json_reader);
    strset_free(&b->names);
    strset_free(&b->group_set);
    free(b->recs);
    free(b->files);
    free(b->fruns);
    free(b->items);
    free(b->name_off);
    free(b->item_of);
    free(b->groups);
    free(b->gmem);
    free(b->flags);
    free(b->notes);
    free(b->keys);
    free(b->errs);
    free(b->ks);
    free(b->child_first);
    free(b->child);
    free(b);
}
