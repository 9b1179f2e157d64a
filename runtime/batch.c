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
#include <stdarg.h>

#include "batch_int.h"

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


static uint32_t intern(batch *b, const char *s, size_t len)
{
    uint32_t idx = (uint32_t)b->nnames, old;
    if (b->oom) return QUY_NONE;
    int added = strset_add(&b->names, s, len, idx, &old); /* one probe, found or added */
    OOM_IF(added < 0, return QUY_NONE);
    if (!added) return old;
    GROW(b->nm, b->nnames, b->capnames, return QUY_NONE);
    b->nm[b->nnames++] = (b_name){(uint32_t)b->names.last, QUY_NONE};
    return idx;
}

/* Is name n the n bytes at s? */
static bool name_is(const batch *b, uint32_t n, const char *s, size_t len)
{
    uint32_t have;
    memcpy(&have, b->names.keys + b->nm[n].off - sizeof have, sizeof have); /* strset.h: [uint32 length][bytes] */
    return have == len && !memcmp(b->names.keys + b->nm[n].off, s, len);
}

/* intern() for a field value that usually repeats from one record to the
 * next (an export lists a unit's members together): the last one is kept. */
static uint32_t intern_last(batch *b, b_last *last, const char *s, size_t len)
{
    if (last->name != QUY_NONE && last->len == len && !memcmp(b->names.keys + b->nm[last->name].off, s, len))
        return last->name;
    uint32_t n = intern(b, s, len);
    if (n == QUY_NONE) return n;
    last->name = n;
    last->len = len;
    return n;
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
    b->hooks = b->own_hooks = hook_session_new(p, NULL);
    if (!b->hooks) {
        free(b);
        return NULL;
    }
    b->names.cstr = true; /* the ids are kept only there (name_str) */
    b->last_unit.name = b->last_group = b->last_id = QUY_NONE;
    b->keep = keep_records;
    b->ks = calloc(p->nkinds ? p->nkinds : 1, sizeof *b->ks);
    if (!b->ks) {
        hook_session_free(b->own_hooks);
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
    *len = q_val_len(v);
    return q_val_str(v);
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
    GROW(b->errs, b->nerrs, b->caperrs, return);
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
    rec_mark_cut(e.file, sizeof e.file, snprintf(e.file, sizeof e.file, "%s", file_of(b, it)));
    e.line = it->line;
    snprintf(e.id, sizeof e.id, "%s", rec->id ? rec->id : ""); /* ids are at most REC_ID_MAX bytes */
    snprintf(e.code, sizeof e.code, "eval");
    const q_program *p = b->p;
    if (res->error == VM_ABSENT && res->error_slot < p->kinds[rec->kind].nfields)
        rec_mark_cut(e.field, sizeof e.field,
                     snprintf(e.field, sizeof e.field, "%s", prog_str(p, p->fields[p->kinds[rec->kind].first_field + res->error_slot].name)));
    const char *file = NULL;
    uint32_t line = 0, col = 0, llen;
    const char *ls;
    if (res->error_pc != QUY_NONE && res->error_pc < p->ncode)
        prog_locate(p, p->code_pos[res->error_pc], &file, &line, &col, &ls, &llen);
    int at = snprintf(e.message, sizeof e.message, "%s%s%s", res->error < VM__COUNT ? vm_error_message[res->error] : "?",
                      res->error_text ? ": " : "", res->error_text ? res->error_text : "");
    rec_mark_cut(e.message, sizeof e.message, at);
    if (file && at >= 0 && (size_t)at < sizeof e.message) { /* the source line and caret: quy_result_error_source */
        e.src_pos = p->code_pos[res->error_pc] + 1;
        e.src_msg = (uint32_t)at;
        rec_mark_cut(e.message, sizeof e.message,
                     at + snprintf(e.message + at, sizeof e.message - (size_t)at, " — tại %s:%u", file, line));
    }
    set_rejected(b, it, &e);
    it->vm_error = res->error;
}

void bi_reject(batch *b, b_item *it, const char *code, const char *field, const char *fmt, ...)
{
    rec_error e;
    memset(&e, 0, sizeof e);
    rec_mark_cut(e.file, sizeof e.file, snprintf(e.file, sizeof e.file, "%s", file_of(b, it)));
    e.line = it->line;
    snprintf(e.id, sizeof e.id, "%s", name_str(b, it->name)); /* ids are at most REC_ID_MAX bytes */
    snprintf(e.code, sizeof e.code, "%s", code);
    rec_mark_cut(e.field, sizeof e.field, snprintf(e.field, sizeof e.field, "%s", field ? field : ""));
    va_list ap;
    va_start(ap, fmt);
    rec_mark_cut(e.message, sizeof e.message, vsnprintf(e.message, sizeof e.message, fmt, ap));
    va_end(ap);
    set_rejected(b, it, &e);
}

/* A bool batch expression: absent data or any failure counts as false. */
static bool bexpr_true(const batch *b, hook_session *hs, uint32_t x, const q_record *rec)
{
    q_val v;
    return vm_eval(b->p, hs, b->p->bexprs[x].entry, rec, &v) == VM_OK && v.n != 0;
}

static uint8_t final_of(const batch *b, uint32_t name)
{
    uint32_t t = name == QUY_NONE || name >= b->nnames ? QUY_NONE : b->nm[name].item;
    if (t == QUY_NONE || b->items[t].status != BATCH_RATED) return QO__COUNT;
    return b->items[t].tier;
}

/* Caps in declaration order, each on the tier the previous left: those
 * with a constant or field bound when the record is rated (`refs` false),
 * those reading another record's tier once that tier is final (`refs`
 * true). A cap is a minimum, so the split does not change the result. */
void bi_apply_caps(const batch *b, hook_session *hs, b_item *it, const q_record *rec, bool refs)
{
    const q_program *p = b->p;
    for (uint32_t c = 0; c < p->ncaps; c++) {
        const q_cap *cap = &p->caps[c];
        if (cap->kind != rec->kind || it->tier > QO_HTXSNV) continue;
        if ((cap->bound == QCAP_HEAD_OF || cap->bound == QCAP_UNIT) != refs) continue;
        if (cap->when != QUY_NONE && !bexpr_true(b, hs, cap->when, rec)) continue;
        if (cap->unless != QUY_NONE && bexpr_true(b, hs, cap->unless, rec)) continue;
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

/* Order keys of every quota for a record whose tier is `tier`, into
 * out[keys_per]; false when it is no quota candidate (nothing written).
 * Reads only the program: a decoding thread may call it (with its hooks). */
static bool keys_of(const batch *b, hook_session *hs, uint8_t tier, const q_record *rec, q_val *out)
{
    const q_program *p = b->p;
    bool cand = false;
    for (uint32_t q = 0; q < p->nquotas; q++) cand |= tier == p->quotas[q].tier;
    if (!cand || !b->keys_per) return false;
    uint32_t base = 0;
    for (uint32_t q = 0; q < p->nquotas; q++) {
        for (uint32_t j = 0; j < p->quotas[q].nkeys; j++) {
            q_val v = {0, 0}; /* d = 0: no value (sorts last) */
            for (uint32_t i = 0; i < p->nqkeys; i++) {
                const q_qkey *k = &p->qkeys[i];
                if (k->quota == q && k->key == j && k->kind == rec->kind) {
                    q_val r;
                    if (vm_eval(p, hs, p->bexprs[k->expr].entry, rec, &r) == VM_OK && r.d > 0) v = r;
                }
            }
            out[base + j] = v;
        }
        base += p->quotas[q].nkeys;
    }
    return true;
}

/* A candidate's keys appended to b->keys (from `ready`, computed by another
 * thread, or evaluated here). */
static void add_keys(batch *b, b_item *it, const q_record *rec, const q_val *ready)
{
    if (!b->keys_per) return;
    OOM_IF(VEC_RESERVE(b->keys, b->nkeys, b->capkeys, b->keys_per) != 0, return);
    if (ready) memcpy(b->keys + b->nkeys, ready, b->keys_per * sizeof *ready);
    else if (!keys_of(b, b->hooks, it->tier, rec, b->keys + b->nkeys)) return;
    it->keys_at = (uint32_t)b->nkeys;
    b->nkeys += b->keys_per;
}

/* The rate block's flags and notes into the item (appended to the batch's arrays). */
static void take_result(batch *b, b_item *it, const vm_result *res)
{
    it->eligible = it->tier = res->outcome;
    it->rule = res->rule;
    uint32_t nf = res->nflags < QUY_MAX_FLAGS ? res->nflags : QUY_MAX_FLAGS;
    it->flags_at = (uint32_t)b->nflags;
    it->nflags = (uint8_t)nf;
    for (uint32_t i = 0; i < nf; i++) {
        GROW(b->flags, b->nflags, b->capflags, return);
        b->flags[b->nflags++] = (uint16_t)res->flags[i];
    }
    it->notes_at = (uint32_t)b->nnotes;
    it->nnotes = res->nnotes;
    for (uint32_t i = 0; i < res->nnotes; i++) {
        GROW(b->notes, b->nnotes, b->capnotes, return);
        b->notes[b->nnotes++] = res->notes[i];
    }
}

/* `ahead`: the rate block's result computed by another thread
 * (batch_add_rated), else NULL (rated here). */
void bi_rate_item(batch *b, b_item *it, const q_record *rec, const vm_result *ahead)
{
    vm_result res;
    if (ahead) res = *ahead;
    else vm_rate(b->p, b->hooks, rec, &res, NULL);
    if (res.error != VM_OK) {
        reject_eval(b, it, rec, &res);
        it->state = B_DONE;
        return;
    }
    take_result(b, it, &res);
    if (b->oom) return;
    bi_apply_caps(b, b->hooks, it, rec, false);
    add_keys(b, it, rec, NULL);
}

/* ---------------------------------------------------------------------
 * Reading
 * ------------------------------------------------------------------- */

/* The group of a record of kind `kind` whose quota field is s (len bytes; NULL: absent). */
static uint32_t group_of(batch *b, uint32_t kind, const char *s, size_t len)
{
    const q_program *p = b->p;
    if (!p->nquotas) return QUY_NONE;
    /* `=` marks a field value, `#` a kind, so a peer_group named like a kind
     * stays apart; the whole value is the key (no NUL: the readers reject \u0000) */
    static const char by_kind[] = "loại ";
    const size_t nk = sizeof by_kind - 1;
    const char *kname = s ? NULL : prog_str(p, p->kinds[kind].name);
    size_t n = s ? len : nk + strlen(kname);
    OOM_IF(VEC_RESERVE(b->gkey, 0, b->capgkey, n + 1) != 0, return QUY_NONE);
    char *tagged = b->gkey;
    tagged[0] = s ? '=' : '#';
    if (s) {
        if (n) memcpy(tagged + 1, s, n);
    } else {
        memcpy(tagged + 1, by_kind, nk);
        memcpy(tagged + 1 + nk, kname, n - nk);
    }
    if (b->last_group != QUY_NONE) { /* the same group as the record read last? */
        const b_group *L = &b->groups[b->last_group];
        if (L->tag_len == n + 1 && !memcmp(b->group_set.keys + L->tag_off, tagged, n + 1)) return b->last_group;
    }
    uint32_t idx = (uint32_t)b->ngroups, old;
    int added = strset_add(&b->group_set, tagged, n + 1, idx, &old);
    OOM_IF(added < 0, return QUY_NONE);
    if (added) {
        GROW(b->groups, b->ngroups, b->capgroups, return QUY_NONE);
        memset(&b->groups[idx], 0, sizeof b->groups[idx]);
        b->groups[idx].tag_off = (uint32_t)b->group_set.last;
        b->groups[idx].tag_len = (uint32_t)(n + 1);
        b->groups[idx].key = intern(b, tagged + 1, n);
        if (b->oom) return QUY_NONE;
        b->ngroups++;
    } else {
        idx = old;
    }
    b->last_group = idx;
    return idx;
}

/* The index of input `name` (a new one unless it is the last), QUY_NONE when out of memory. */
static uint32_t file_index(batch *b, const char *name)
{
    if (b->nfiles && strcmp(b->files[b->nfiles - 1], name) == 0) return (uint32_t)b->nfiles - 1;
    GROW(b->files, b->nfiles, b->capfiles, return QUY_NONE);
    b->files[b->nfiles] = strdup(name);
    OOM_IF(!b->files[b->nfiles], return QUY_NONE);
    return (uint32_t)b->nfiles++;
}

static b_item *new_item(batch *b, uint32_t file, uint32_t line)
{
    if (!b->nfruns || b->fruns[b->nfruns - 1].file != file) GROW(b->fruns, b->nfruns, b->capfruns, return NULL);
    GROW(b->items, b->n, b->cap, return NULL);
    b_item *it = &b->items[b->n++];
    memset(it, 0, sizeof *it);
    it->name = it->unit = it->head_of = it->group = QUY_NONE;
    it->keys_at = it->extra = it->cap = QUY_NONE;
    if (!b->nfruns || b->fruns[b->nfruns - 1].file != file) b->fruns[b->nfruns++] = (b_frun){(uint32_t)(b->n - 1), file};
    it->line = line;
    return it;
}

static int add_rejected(batch *b, uint32_t file, const rec_error *err)
{
    if (b->oom || file == QUY_NONE) return -1;
    GROW(b->errs, b->nerrs, b->caperrs, return -1);
    b_item *it = new_item(b, file, err->line);
    if (!it) return -1;
    it->status = BATCH_REJECTED;
    it->state = B_DONE;
    b->errs[b->nerrs] = *err;
    it->extra = (uint32_t)b->nerrs++;
    if (err->id[0]) {
        uint32_t name = intern(b, err->id, strlen(err->id));
        b->items[b->n - 1].name = name;
    }
    return b->oom ? -1 : 0;
}

bool bi_keep_item(const batch *b, size_t i)
{
    return b->keep || (i < b->nkeep_bits && (b->keep_bits[i / 8] >> (i % 8) & 1u));
}

/* `own`: a copy of rec (rec_copy) the caller made for the batch to keep,
 * or NULL (the batch copies rec if it keeps it); taken (*own = NULL) when
 * kept, else left to the caller to free. */
/* The strings the batch reads of a record: its id and the values of
 * unit, head_of and the quota field (NULL when absent). */
typedef struct b_names {
    const char *id, *unit, *head_of, *per;
    size_t unit_len, head_of_len, per_len;
} b_names;

static void names_of(const batch *b, const q_record *rec, b_names *nm)
{
    const b_kslots *ks = &b->ks[rec->kind];
    *nm = (b_names){.id = rec->id};
    nm->unit = str_slot(rec, ks->unit, &nm->unit_len);
    nm->head_of = str_slot(rec, ks->head_of, &nm->head_of_len);
    nm->per = b->p->nquotas ? str_slot(rec, ks->per, &nm->per_len) : NULL;
}

/* A new rated item of kind `kind`, named and grouped. NULL: out of memory
 * (-1 in *rc) or a duplicate id (rejected here, 0 in *rc). */
static b_item *add_named(batch *b, uint32_t file, uint32_t kind, uint32_t line, const b_names *nm, int *rc)
{
    *rc = -1;
    if (b->oom || file == QUY_NONE) return NULL;
    size_t idlen = strlen(nm->id);
    uint32_t name = b->last_id; /* the readers' id check interned it (reader_id), usually */
    if (name == QUY_NONE || !name_is(b, name, nm->id, idlen)) name = intern(b, nm->id, idlen);
    b->last_id = QUY_NONE;
    if (name == QUY_NONE) return NULL;
    b_item *it = new_item(b, file, line);
    if (!it) return NULL;
    it->kind = kind;
    it->status = BATCH_RATED;
    it->name = name;
    if (b->nm[it->name].item != QUY_NONE) {
        const b_item *first = &b->items[b->nm[it->name].item];
        bi_reject(b, it, "duplicate_id", "id",
               "mã '%s' bị trùng với bản ghi ở %s:%u (duplicate id; first seen at %s:%u)", nm->id,
               file_of(b, first), first->line, file_of(b, first), first->line);
        *rc = b->oom ? -1 : 0;
        return NULL;
    }
    b->nm[it->name].item = (uint32_t)(it - b->items);
    if (nm->unit) it->unit = intern_last(b, &b->last_unit, nm->unit, nm->unit_len);
    if (nm->head_of) it->head_of = intern(b, nm->head_of, nm->head_of_len);
    it->group = group_of(b, kind, nm->per, nm->per_len);
    return b->oom ? NULL : it;
}

static int add_record(batch *b, uint32_t file, const q_record *rec, const vm_result *ahead, q_record **own)
{
    if (b->oom || file == QUY_NONE) return -1;
    b_names nm;
    names_of(b, rec, &nm);
    int rc;
    b_item *it = add_named(b, file, rec->kind, rec->line, &nm, &rc);
    if (!it) return rc;
    bool wait = needs_rollup(b, rec);
    if (bi_keep_item(b, b->n - 1) || wait || b->ks[rec->kind].ref_caps) {
        GROW(b->recs, b->nrecs, b->caprecs, return -1);
        q_record *c = own && *own ? *own : rec_copy(b->p, rec);
        OOM_IF(!c, return -1);
        if (own) *own = NULL;
        b->recs[b->nrecs] = c;
        it->extra = (uint32_t)b->nrecs++;
    }
    if (wait) {
        it->state = B_WAITING;
        return 0;
    }
    bi_rate_item(b, it, rec, ahead);
    it->state = B_DONE;
    return b->oom ? -1 : 0;
}

static void no_memory(rec_error *err, const char *name)
{
    memset(err, 0, sizeof *err);
    snprintf(err->file, sizeof err->file, "%s", name);
    snprintf(err->code, sizeof err->code, "no_memory");
    snprintf(err->message, sizeof err->message, "hết bộ nhớ (out of memory)");
}

void batch_set_limits(batch *b, const rec_limits *lim) { b->limits = *lim; }
hook_session *batch_hooks(const batch *b) { return b->hooks; }

void batch_set_hooks(batch *b, hook_session *hs)
{
    b->hooks = hs ? hs : b->own_hooks;
    if (b->json_reader) rec_reader_set_hooks(b->json_reader, b->hooks);
}

/* The readers' duplicate-id check (rec_reader_on_id) over the batch's
 * names: an id seen before by the same reader is a duplicate, reported by
 * the reader with the line it was first seen at (ids of other inputs are
 * the batch's check, add_record). */
static int reader_id(void *ctx, const char *id, size_t len, uint32_t line, uint32_t *first)
{
    batch *b = ctx;
    uint32_t n = intern(b, id, len);
    if (n == QUY_NONE) return -1;
    b->last_id = n;
    if (n >= b->nseen) { /* names interned since: none seen as an id yet */
        GROW(b->seen, n, b->capseen, return -1);
        memset(b->seen + b->nseen, 0, (n + 1 - b->nseen) * sizeof *b->seen);
        b->nseen = n + 1;
    }
    b_seen *sn = &b->seen[n];
    if (sn->src == b->src) {
        *first = sn->line;
        return 0;
    }
    sn->src = b->src;
    sn->line = line;
    return 1;
}

rec_reader *batch_reader(batch *b, FILE *in, const char *name)
{
    rec_reader *r = b->oom ? NULL : rec_reader_open(b->p, in, name, REC_AUTO);
    if (!r) {
        b->oom = true;
        return NULL;
    }
    b->src++;
    rec_reader_on_id(r, reader_id, b);
    rec_reader_set_hooks(r, b->hooks);
    if (b->warn) rec_reader_on_warning(r, b->warn, b->warn_ctx);
    rec_reader_set_limits(r, &b->limits);
    return r;
}

int batch_read(batch *b, FILE *in, const char *name, rec_error *err)
{
    rec_reader *r = batch_reader(b, in, name);
    if (!r) {
        no_memory(err, name);
        return -1;
    }
    int ret = batch_read_rest(b, r, name, err);
    rec_reader_free(r);
    return ret;
}

int batch_read_rest(batch *b, rec_reader *r, const char *name, rec_error *err)
{
    uint32_t file = file_index(b, name);
    q_record *rec;
    rec_error e;
    int rc, ret = 0;
    while (!b->oom && (rc = rec_reader_next(r, &rec, &e)) != 0) {
        if (rc > 0) {
            add_record(b, file, rec, NULL, NULL);
            continue;
        }
        if (!strcmp(e.code, "io") || !strcmp(e.code, "no_memory")) {
            *err = e;
            ret = -1;
            break;
        }
        add_rejected(b, file, &e);
    }
    if (b->oom) {
        no_memory(err, name);
        ret = -1;
    }
    return ret;
}

int batch_add_record(batch *b, const q_record *rec, const char *name)
{
    return b->oom ? -1 : add_record(b, file_index(b, name), rec, NULL, NULL);
}

bool batch_rates_at_read(const batch *b, const q_record *rec) { return !needs_rollup(b, rec); }

int batch_add_rated(batch *b, const q_record *rec, const char *name, const vm_result *res)
{
    return b->oom ? -1 : add_record(b, file_index(b, name), rec, needs_rollup(b, rec) ? NULL : res, NULL);
}

size_t batch_keys_per(const batch *b) { return b->keys_per; }

bool batch_pre_rate(const batch *b, hook_session *hs, const q_record *rec, const vm_result *res, batch_pre *out)
{
    if (res->error != VM_OK || needs_rollup(b, rec) || batch_keeps(b, rec) || b->keep_bits) return false;
    b_names nm;
    names_of(b, rec, &nm);
    b_item it = {.tier = res->outcome, .cap = QUY_NONE};
    bi_apply_caps(b, hs, &it, rec, false); /* those that read no other record: the rest wait for batch_run */
    *out = (batch_pre){.kind = rec->kind, .line = rec->line, .id = nm.id, .unit = nm.unit, .head_of = nm.head_of,
                       .per = nm.per, .unit_len = nm.unit_len, .head_of_len = nm.head_of_len, .per_len = nm.per_len,
                       .tier = it.tier, .capped_from = it.capped_from, .steps = it.steps, .cap = it.cap,
                       .keys = out->keys};
    out->cand = out->keys && keys_of(b, hs, it.tier, rec, out->keys);
    return true;
}

int batch_add_pre(batch *b, const batch_pre *pre, const vm_result *res, const char *name)
{
    uint32_t file = b->oom ? QUY_NONE : file_index(b, name);
    b_names nm = {pre->id, pre->unit, pre->head_of, pre->per, pre->unit_len, pre->head_of_len, pre->per_len};
    int rc;
    b_item *it = add_named(b, file, pre->kind, pre->line, &nm, &rc);
    if (!it) return rc;
    take_result(b, it, res);
    if (b->oom) return -1;
    it->tier = pre->tier;
    it->capped_from = pre->capped_from;
    it->cap = pre->cap;
    it->steps |= pre->steps;
    if (pre->cand) add_keys(b, it, NULL, pre->keys);
    it->state = B_DONE;
    return b->oom ? -1 : 0;
}

bool batch_keeps(const batch *b, const q_record *rec)
{
    return !b->keep_bits && (b->keep || needs_rollup(b, rec) || b->ks[rec->kind].ref_caps);
}

int batch_add_rated_copy(batch *b, q_record *copy, const char *name, const vm_result *res)
{
    q_record *own = copy;
    int rc = b->oom ? -1 : add_record(b, file_index(b, name), copy, needs_rollup(b, copy) ? NULL : res, &own);
    rec_free(own);
    return rc;
}

int batch_adopt_hooks(batch *b, hook_session *hs)
{
    GROW(b->adopted, b->nadopted, b->capadopted, return -1);
    b->adopted[b->nadopted++] = hs;
    return 0;
}

int batch_add_rejected(batch *b, const rec_error *err, const char *name)
{
    return b->oom ? -1 : add_rejected(b, file_index(b, name), err);
}

void batch_keep_some(batch *b, const uint8_t *keep, size_t n)
{
    b->keep_bits = keep;
    b->nkeep_bits = n;
}

int batch_add_json(batch *b, const void *obj, uint32_t line, const char *name, rec_error *err)
{
    if (b->oom) return -1;
    if (!b->json_reader) {
        b->json_reader = rec_reader_open(b->p, NULL, name, REC_JSONL);
        OOM_IF(!b->json_reader, return -1);
        rec_reader_set_hooks(b->json_reader, b->hooks);
        if (b->warn) rec_reader_on_warning(b->json_reader, b->warn, b->warn_ctx);
    }
    uint32_t file = file_index(b, name);
    q_record *rec;
    int rc = rec_decode_json(b->json_reader, obj, line, &rec, err);
    if ((rc > 0 ? add_record(b, file, rec, NULL, NULL) : add_rejected(b, file, err)) != 0) return -1;
    return rc > 0 ? 0 : 1;
}

/* ---------------------------------------------------------------------
 * Results
 * ------------------------------------------------------------------- */

size_t batch_count(const batch *b) { return b->n; }

size_t batch_find(const batch *b, const char *id)
{
    uint32_t *v = strset_get(&b->names, id, strlen(id));
    if (!v || *v >= b->nnames || b->nm[*v].item == QUY_NONE) return SIZE_MAX;
    return b->nm[*v].item;
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

bool batch_failed(const batch *b) { return b->oom; }

const q_program *batch_program(const batch *b) { return b->p; }

const char *batch_id(const batch *b, size_t i) { return name_str(b, b->items[i].name); }

/* ---------------------------------------------------------------------
 * The steps of one record, as data
 * ------------------------------------------------------------------- */

/* Walk record i's steps; fill *out with step k (when out is not NULL).
 * Returns the number of steps. */
static size_t walk_steps(const batch *b, size_t i, size_t k, batch_step *out)
{
    const q_program *p = b->p;
    const b_item *it = &b->items[i];
    if (it->status != BATCH_RATED) return 0;
    size_t n = 0;
    const b_kslots *ks = &b->ks[it->kind];
    uint32_t sl[2] = {ks->member_tiers, ks->subordinate_tiers};
    uint32_t of[2] = {it->name, it->head_of};
    for (int r = 0; r < 2; r++) {
        if (sl[r] == QUY_NONE || !(it->rollups & (1u << r))) continue;
        if (out && n == k)
            *out = (batch_step){.type = BATCH_STEP_ROLLUP, .rollup = (uint8_t)r, .slot = sl[r],
                                .of = name_str(b, of[r]), .nchildren = bi_nchildren(b, of[r])};
        n++;
    }
    if (it->steps & BS_CAPPED) {
        const q_cap *cap = &p->caps[it->cap];
        if (out && n == k) {
            *out = (batch_step){.type = BATCH_STEP_CAP, .cap = it->cap, .from = it->capped_from,
                                .to = (uint8_t)(it->steps & BS_QUOTA_DEMOTED ? p->quotas[0].tier : it->tier),
                                .ref_tier = QO__COUNT};
            if (cap->bound == QCAP_HEAD_OF || cap->bound == QCAP_UNIT) {
                uint32_t ref = cap->bound == QCAP_HEAD_OF ? it->head_of : it->unit;
                out->ref = name_str(b, ref);
                out->ref_tier = final_of(b, ref);
            }
        }
        n++;
    }
    if ((it->steps & (BS_QUOTA_KEPT | BS_QUOTA_DEMOTED)) && it->group != QUY_NONE && b->groups[it->group].runs) {
        const b_group *G = &b->groups[it->group];
        for (uint32_t q = 0; q < p->nquotas; q++) {
            const batch_quota_run *run = &G->runs[q];
            if (!run->n_tier) continue;
            if (it->eligible < p->quotas[q].tier && !(it->steps & BS_CAPPED)) continue;
            if (out && n == k)
                *out = (batch_step){.type = BATCH_STEP_QUOTA, .quota = q, .group = name_str(b, G->key),
                                    .demoted = (it->steps & BS_QUOTA_DEMOTED) != 0, .run = run, .rank = it->rank,
                                    .tier = it->tier, .tie = (it->steps & BS_TIE) != 0};
            n++;
        }
    }
    return n;
}

size_t batch_nsteps(const batch *b, size_t i) { return walk_steps(b, i, 0, NULL); }

void batch_step_get(const batch *b, size_t i, size_t k, batch_step *out)
{
    memset(out, 0, sizeof *out);
    walk_steps(b, i, k, out);
    out->kind = b->items[i].kind;
}

void batch_rollup_child_get(const batch *b, size_t i, const batch_step *step, uint32_t c, batch_rollup_child *out)
{
    const q_program *p = b->p;
    const b_item *it = &b->items[i];
    uint32_t of = step->rollup ? it->head_of : it->name;
    const b_item *ch = &b->items[b->child[b->child_first[of] + c]];
    *out = (batch_rollup_child){.id = name_str(b, ch->name), .rejected = ch->status != BATCH_RATED,
                                .counted = ch->status == BATCH_RATED && ch->tier <= QO_HTXSNV, .tier = ch->tier,
                                .used = ch->tier, .how = BATCH_USED_FINAL};
    if (!out->counted) return;
    if (step->rollup == 0 && ch->head_of == it->name && (ch->steps & BS_CAPPED) &&
        (p->caps[ch->cap].bound == QCAP_HEAD_OF || p->caps[ch->cap].bound == QCAP_UNIT)) {
        out->used = ch->capped_from;
        out->how = BATCH_USED_BEFORE_CAP;
    } else if (ch->group != QUY_NONE && ch->group == it->group && (ch->steps & BS_QUOTA_DEMOTED)) {
        out->used = (uint8_t)(ch->tier + 1); /* a demotion is one tier down */
        out->how = BATCH_USED_BEFORE_QUOTA;
    }
}

size_t batch_ngroups(const batch *b) { return b->ngroups; }

void batch_group_get(const batch *b, size_t g, batch_group_view *v)
{
    const b_group *G = &b->groups[g];
    v->key = name_str(b, G->key);
    v->n = G->n;
    memcpy(v->count_elig, G->count_elig, sizeof v->count_elig);
    memcpy(v->count_final, G->count_final, sizeof v->count_final);
    v->runs = G->runs;
}

void batch_free(batch *b)
{
    if (!b) return;
    for (size_t i = 0; i < b->nrecs; i++) rec_free(b->recs[i]);
    for (size_t i = 0; i < b->nfiles; i++) free(b->files[i]);
    for (size_t g = 0; g < b->ngroups; g++) free(b->groups[g].runs);
    if (b->json_reader) rec_reader_free(b->json_reader);
    hook_session_free(b->own_hooks);
    for (size_t i = 0; i < b->nadopted; i++) hook_session_free(b->adopted[i]);
    free(b->adopted);
    strset_free(&b->names);
    strset_free(&b->group_set);
    free(b->recs);
    free(b->files);
    free(b->fruns);
    free(b->items);
    free(b->nm);
    free(b->seen);
    free(b->groups);
    free(b->gmem);
    free(b->flags);
    free(b->notes);
    free(b->keys);
    free(b->errs);
    free(b->ks);
    free(b->child_first);
    free(b->child);
    free(b->gkey);
    free(b);
}
