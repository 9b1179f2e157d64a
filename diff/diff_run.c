/*
 * diff_run.c — `quy diff`'s engine (diff.h): both rulesets rate the corpus,
 * every record's move is tallied (matrices, kinds, peer groups), then each
 * moved record's cause is found (diff_cause.c) and written as one JSON
 * line; the summary is a JSON object. Pass 1 rates both batches; pass 2
 * explains the moved records (reading their lines again; a record that
 * waited for a roll-up as its batch kept it, roll-ups filled).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../runtime/batch.h"
#include "../runtime/explain.h"
#include "../runtime/strbuf.h"
#include "../runtime/strset.h"
#include "../runtime/vec.h"
#include "diff.h"

enum { EXIT_OK = 0, EXIT_IO = 3 }; /* the statuses of diff_run */

/* =====================================================================
 * Tallies
 * ===================================================================== */

typedef struct gstat {
    uint64_t records, moved, up, down, other;
} gstat;

/* Interned names (kinds, peer groups) -> index, with a gstat each. The
 * set (runtime/strset.h) holds the only copy of each name. */
typedef struct strtab {
    strset set;   /* name -> index */
    size_t *off;  /* index -> offset of its name in set.keys */
    gstat *st;    /* index -> its tallies */
    size_t n, capoff, capst;
} strtab;

static const char *strtab_name(const strtab *t, size_t i) { return t->set.keys + t->off[i]; }

/* Index of name (added if new); UINT32_MAX when out of memory. */
static uint32_t strtab_get(strtab *t, const char *name, size_t len)
{
    t->set.cstr = true;
    uint32_t old;
    if (VEC_RESERVE(t->off, t->n, t->capoff, 1) != 0 || VEC_RESERVE(t->st, t->n, t->capst, 1) != 0) return UINT32_MAX;
    int added = strset_add(&t->set, name, len, (uint32_t)t->n, &old);
    if (added < 0) return UINT32_MAX;
    if (!added) return old;
    t->off[t->n] = t->set.last;
    memset(&t->st[t->n], 0, sizeof t->st[0]);
    return (uint32_t)t->n++;
}

static void strtab_free(strtab *t)
{
    strset_free(&t->set);
    free(t->off);
    free(t->st);
}

typedef struct cstat { /* one cause, grouped by its whole key */
    char *key, *label, *cite_old, *cite_new; /* copies of the first record's (dc_cause); cites may be NULL */
    dc_type type;
    uint64_t count, up, down, other, loosened;
} cstat;

typedef struct tally {
    uint64_t records, moved, up, down, other, same_tier_other_rule, loosened;
    uint64_t rejected_both;
    char *rejected_sample[DIFF_REJECTED_SAMPLES]; /* the first records both rulesets rejected, for stderr */
    uint64_t mat[2][DS__COUNT][DS__COUNT]; /* [0] eligible, [1] final; [old][new] by state */
    cstat *causes;
    size_t ncauses, capcauses;
    strtab kinds, groups;
    uint32_t *rec_kind; /* per record: index in kinds (any number of kinds: an input names its own) */
    uint32_t *rec_group; /* per record: index in groups */
    size_t nrec, caprec, caprecg;
    uint8_t *moved_bits;
    dx_set *seen;  /* the moves listed (all, or the upward ones with --refines): approvals */
    dx_set *all;   /* every move, by state strings: the causes' transitions */
    FILE *spool;
    uint64_t spooled;
} tally;

static void cstat_free(cstat *s)
{
    free(s->key);
    free(s->label);
    free(s->cite_old);
    free(s->cite_new);
}

/* A copy of s, or NULL (NULL too when out of memory: *oom set). */
static char *copy_or_null(const char *s, bool *oom)
{
    char *c = s ? strdup(s) : NULL;
    if (s && !c) *oom = true;
    return c;
}

/* The tally of cause c (added if new); NULL when out of memory. */
static cstat *cause_get(tally *t, const dc_cause *c)
{
    for (size_t i = 0; i < t->ncauses; i++)
        if (!strcmp(t->causes[i].key, c->key)) return &t->causes[i];
    if (VEC_RESERVE(t->causes, t->ncauses, t->capcauses, 1) != 0) return NULL;
    cstat s = {.type = c->type};
    bool oom = false;
    s.key = copy_or_null(c->key, &oom);
    s.label = copy_or_null(c->label, &oom);
    s.cite_old = copy_or_null(c->cite_old, &oom);
    s.cite_new = copy_or_null(c->cite_new, &oom);
    if (oom) {
        cstat_free(&s);
        return NULL;
    }
    t->causes[t->ncauses] = s;
    return &t->causes[t->ncauses++];
}

/* "httnv", "htxsnv/httnv" (eligible/final), "rejected" */
static void state_str(const dr_row *r, char *buf, size_t size)
{
    if (r->status != DR_RATED) snprintf(buf, size, "rejected");
    else if (r->eligible != r->tier) snprintf(buf, size, "%s/%s", ds_code(r->eligible), ds_code(r->tier));
    else snprintf(buf, size, "%s", ds_code(r->tier));
}

/* up (+1), down (-1) or other (0): final tiers, else eligible tiers */
static int direction(const dr_row *o, const dr_row *n)
{
    int fo = dr_state(o, true), fn = dr_state(n, true);
    if (fo == fn) {
        fo = dr_state(o, false);
        fn = dr_state(n, false);
    }
    if (!ds_is_tier(fo) || !ds_is_tier(fn)) return 0;
    return fn > fo ? 1 : fn < fo ? -1 : 0;
}

static bool row_moved(const dr_row *o, const dr_row *n)
{
    return dr_state(o, false) != dr_state(n, false) || dr_state(o, true) != dr_state(n, true);
}

/* The string field `name` of rec (not NUL-terminated: *len bytes), NULL if absent. */
static const char *rec_str_field(const q_program *p, const q_record *rec, const char *name, size_t *len)
{
    uint32_t f = prog_find_field(p, rec->kind, name, strlen(name));
    if (f == QUY_NONE) return NULL;
    uint32_t slot = f - p->kinds[rec->kind].first_field;
    if (!rec->present[slot] || p->types[p->fields[f].type].kind != QT_STRING) return NULL;
    q_val v = rec->slots[slot];
    *len = q_val_len(v);
    return q_val_str(v);
}

static json_t *side_json(const q_program *p, const dr_row *r, const char *state)
{
    json_t *o = json_object();
    json_object_set_new(o, "state", json_string(state));
    if (r->status == DR_RATED) {
        json_object_set_new(o, "eligible", json_string(ds_code(r->eligible)));
        json_object_set_new(o, "tier", json_string(ds_code(r->tier)));
        if (r->rule != QUY_NONE) {
            json_object_set_new(o, "rule", json_string(prog_str(p, p->rules[r->rule].name)));
            json_object_set_new(o, "cite", json_string(prog_str(p, p->rules[r->rule].cite)));
        }
        if (r->group) json_object_set_new(o, "group", json_string(r->group));
    }
    return o;
}

/* Pass 1, as each record is read: its kind and peer group. */
static bool note_record(const q_program *const p[2], const dr_pair *pr, tally *t)
{
    const char *kind = pr->kind, *pg = pr->peer_group;
    size_t pglen = pg ? strlen(pg) : 0;
    for (int s = 0; s < 2 && (!kind || !pg); s++) {
        if (!pr->rec[s]) continue;
        if (!kind) kind = prog_str(p[s], p[s]->kinds[pr->rec[s]->kind].name);
        if (!pg) pg = rec_str_field(p[s], pr->rec[s], "peer_group", &pglen);
    }
    if (VEC_RESERVE(t->rec_kind, t->nrec, t->caprec, 1) != 0 || VEC_RESERVE(t->rec_group, t->nrec, t->caprecg, 1) != 0)
        return false;
    if (!kind) kind = "(không rõ)";
    if (!pg) pglen = strlen(pg = "(không có peer_group)");
    uint32_t k = strtab_get(&t->kinds, kind, strlen(kind)), g = strtab_get(&t->groups, pg, pglen);
    if (k == UINT32_MAX || g == UINT32_MAX) return false;
    t->rec_kind[t->nrec] = k;
    t->rec_group[t->nrec++] = g;
    return true;
}

/* Pass 1, after both batches ran: everything but the cause. false when
 * out of memory. */
static bool tally_record(const q_program *const p[2], size_t i, const dr_row *row[2], tally *t)
{
    t->records++;
    int es[2], fs[2];
    for (int s = 0; s < 2; s++) {
        es[s] = dr_state(row[s], false);
        fs[s] = dr_state(row[s], true);
    }
    t->mat[0][es[0]][es[1]]++;
    t->mat[1][fs[0]][fs[1]]++;
    gstat *gk = i < t->nrec ? &t->kinds.st[t->rec_kind[i]] : NULL;
    gstat *gp = i < t->nrec ? &t->groups.st[t->rec_group[i]] : NULL;
    if (gk) gk->records++;
    if (gp) gp->records++;
    if (row[0]->status != DR_RATED && row[1]->status != DR_RATED) {
        if (t->rejected_both < DIFF_REJECTED_SAMPLES) {
            const dr_row *r = row[0]->error ? row[0] : row[1];
            const rec_error *e = r->error;
            if (e) { /* the file named whole as the batch keeps it (e->file is a bounded copy) */
                strbuf b = {0};
                strbuf_printf(&b, "%s:%u: %s%s[%s%s%s] %s", r->file ? r->file : e->file, e->line, e->id,
                              e->id[0] ? " " : "", e->code,
                              e->field[0] ? " " : "", e->field, e->message);
                if (!(t->rejected_sample[t->rejected_both] = strbuf_take(&b))) return false;
            }
        }
        t->rejected_both++;
    }
    if (!row_moved(row[0], row[1])) {
        if (row[0]->status == DR_RATED && row[1]->status == DR_RATED && row[0]->rule != QUY_NONE &&
            row[1]->rule != QUY_NONE &&
            strcmp(prog_str(p[0], p[0]->rules[row[0]->rule].name), prog_str(p[1], p[1]->rules[row[1]->rule].name)))
            t->same_tier_other_rule++;
        return true;
    }
    t->moved++;
    t->moved_bits[i / 8] |= (uint8_t)(1u << (i % 8));
    int dir = direction(row[0], row[1]);
    (*(dir > 0 ? &t->up : dir < 0 ? &t->down : &t->other))++;
    if (dir > 0) t->loosened++;
    if (gk) {
        gk->moved++;
        (*(dir > 0 ? &gk->up : dir < 0 ? &gk->down : &gk->other))++;
    }
    if (gp) {
        gp->moved++;
        (*(dir > 0 ? &gp->up : dir < 0 ? &gp->down : &gp->other))++;
    }
    return true;
}

/* The moved record, one JSON line in the spool: 0, or -1 (out of memory, or the spool cannot be written). */
static int spool_record(const q_program *const p[2], size_t i, const dr_row *const row[2], const char *state[2],
                        int dir, const dc_cause *c, tally *t)
{
    const dr_row *r = row[0]->id && *row[0]->id ? row[0] : row[1];
    json_t *m = json_object();
    if (!m) return -1;
    json_object_set_new(m, "id", r->id && *r->id ? json_string(r->id) : json_null());
    json_object_set_new(m, "kind", json_string(i < t->nrec ? strtab_name(&t->kinds, t->rec_kind[i]) : ""));
    const char *pg = i < t->nrec ? strtab_name(&t->groups, t->rec_group[i]) : NULL;
    json_object_set_new(m, "peer_group", pg && strcmp(pg, "(không có peer_group)") ? json_string(pg) : json_null());
    json_object_set_new(m, "file", json_string(r->file ? r->file : ""));
    json_object_set_new(m, "line", json_integer(r->line));
    json_object_set_new(m, "old", side_json(p[0], row[0], state[0]));
    json_object_set_new(m, "new", side_json(p[1], row[1], state[1]));
    json_object_set_new(m, "direction", json_string(dir > 0 ? "up" : dir < 0 ? "down" : "other"));
    json_object_set_new(m, "cause", json_string(c->key));
    json_object_set_new(m, "cause_label", json_string(c->label));
    json_object_set_new(m, "detail", json_incref(c->detail));
    int rc = json_dumpf(m, t->spool, JSON_COMPACT) == 0 && fputc('\n', t->spool) != EOF ? 0 : -1;
    json_decref(m);
    if (rc == 0) t->spooled++;
    return rc;
}

/* Pass 2, for a moved record: the cause, counted and written out. false
 * when out of memory or the spool cannot be written (reported). */
static bool explain_record(const q_program *const p[2], size_t i, const dc_input *in, tally *t, const diff_spec *o,
                           explanation *ex[2])
{
    const dr_row *const *row = in->row;
    int dir = direction(row[0], row[1]);
    dc_cause c;
    if (dc_explain(p, in, ex, &c) != 0) {
        fprintf(stderr, "quy diff: out of memory\n");
        return false;
    }
    cstat *cs = cause_get(t, &c);
    char so[32], sn[32];
    state_str(row[0], so, sizeof so);
    state_str(row[1], sn, sizeof sn);
    bool listed = !o->refines || dir > 0;
    bool ok = cs && (!listed || dx_add(t->seen, so, sn, c.key, c.label, 1) == 0) && dx_add(t->all, so, sn, c.key, NULL, 1) == 0;
    if (!ok) fprintf(stderr, "quy diff: out of memory\n");
    if (cs) {
        cs->count++;
        (*(dir > 0 ? &cs->up : dir < 0 ? &cs->down : &cs->other))++;
        if (dir > 0) cs->loosened++;
    }
    const char *state[2] = {so, sn};
    if (ok && listed && t->spool && spool_record(p, i, row, state, dir, &c, t) != 0) {
        fprintf(stderr, "quy diff: cannot write the moved records to a temporary file: %s\n", strerror(errno));
        ok = false;
    }
    dc_cause_free(&c);
    return ok;
}

/* =====================================================================
 * The summary (everything but the moved records)
 * ===================================================================== */

static json_t *prog_json(const q_program *p, const char *spec)
{
    json_t *o = json_object();
    json_object_set_new(o, "spec", json_string(spec));
    json_object_set_new(o, "name", json_string(prog_str(p, p->name)));
    json_object_set_new(o, "version", json_string(prog_str(p, p->version)));
    json_t *l = json_array();
    for (uint32_t i = 0; i < p->nlayers; i++) json_array_append_new(l, json_string(prog_str(p, p->layers[i])));
    json_object_set_new(o, "layers", l);
    return o;
}

static json_t *matrix_json(const uint64_t m[DS__COUNT][DS__COUNT])
{
    json_t *rows = json_array();
    for (int i = 0; i < DS__COUNT; i++) {
        json_t *r = json_array();
        for (int j = 0; j < DS__COUNT; j++) json_array_append_new(r, json_integer((json_int_t)m[ds_order[i]][ds_order[j]]));
        json_array_append_new(rows, r);
    }
    return rows;
}

static int cmp_cause(const void *a, const void *b)
{
    const cstat *x = a, *y = b;
    if (x->count != y->count) return x->count < y->count ? 1 : -1;
    return strcmp(x->key, y->key);
}

typedef struct gsort {
    const char *name;
    gstat st;
} gsort;

static int cmp_group_name(const void *a, const void *b)
{
    return strcmp(((const struct gsort *)a)->name, ((const struct gsort *)b)->name);
}

static int cmp_group_moved(const void *a, const void *b)
{
    const struct gsort *x = a, *y = b;
    if (x->st.moved != y->st.moved) return x->st.moved < y->st.moved ? 1 : -1;
    return strcmp(x->name, y->name);
}

/* The breakdown by kind or peer group; NULL when out of memory. */
static json_t *groups_json(const strtab *m, const char *keyname, bool by_moved)
{
    gsort *v = malloc((m->n ? m->n : 1) * sizeof *v);
    json_t *a = json_array();
    if (!v || !a) {
        free(v);
        json_decref(a);
        return NULL;
    }
    size_t n = m->n;
    for (size_t i = 0; i < n; i++) v[i] = (gsort){strtab_name(m, i), m->st[i]};
    qsort(v, n, sizeof *v, by_moved ? cmp_group_moved : cmp_group_name);
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_object();
        json_object_set_new(o, keyname, json_string(v[i].name));
        json_object_set_new(o, "records", json_integer((json_int_t)v[i].st.records));
        json_object_set_new(o, "moved", json_integer((json_int_t)v[i].st.moved));
        json_object_set_new(o, "up", json_integer((json_int_t)v[i].st.up));
        json_object_set_new(o, "down", json_integer((json_int_t)v[i].st.down));
        json_object_set_new(o, "other", json_integer((json_int_t)v[i].st.other));
        json_array_append_new(a, o);
    }
    free(v);
    return a;
}

/* One cause of the summary, with its moves by state. */
static json_t *cause_json(const tally *t, const cstat *c)
{
    static const char *const tname[] = {"rule", "rejected", "batch", "unexplained"};
    json_t *j = json_object();
    json_object_set_new(j, "cause", json_string(c->key));
    json_object_set_new(j, "type", json_string(tname[c->type]));
    json_object_set_new(j, "label", json_string(c->label));
    if (c->cite_old && c->cite_old[0]) json_object_set_new(j, "cite_old", json_string(c->cite_old));
    if (c->cite_new && c->cite_new[0]) json_object_set_new(j, "cite_new", json_string(c->cite_new));
    json_object_set_new(j, "count", json_integer((json_int_t)c->count));
    json_object_set_new(j, "up", json_integer((json_int_t)c->up));
    json_object_set_new(j, "down", json_integer((json_int_t)c->down));
    json_object_set_new(j, "other", json_integer((json_int_t)c->other));
    json_t *mv = json_array(); /* by state: ELIGIBLE/FINAL when a batch step changed the tier */
    const char *mo, *mn, *mc;
    uint64_t cnt;
    bool any;
    for (size_t k = 0; dx_get(t->all, k, &mo, &mn, &mc, &cnt, &any); k++) {
        if (strcmp(mc, c->key)) continue;
        json_t *x = json_object();
        json_object_set_new(x, "old", json_string(mo));
        json_object_set_new(x, "new", json_string(mn));
        json_object_set_new(x, "count", json_integer((json_int_t)cnt));
        json_array_append_new(mv, x);
    }
    /* most frequent first (insertion sort: a cause has few transitions) */
    for (size_t a = 1; a < json_array_size(mv); a++)
        for (size_t b = a; b > 0; b--) {
            json_t *x = json_array_get(mv, b - 1), *y = json_array_get(mv, b);
            if (json_integer_value(json_object_get(x, "count")) >= json_integer_value(json_object_get(y, "count"))) break;
            json_incref(x);
            json_array_set(mv, b - 1, y);
            json_array_set_new(mv, b, x);
        }
    json_object_set_new(j, "moves", mv);
    return j;
}

/* With refines: the upward moves and their causes. */
static json_t *refines_json(const tally *t)
{
    json_t *r = json_object();
    json_object_set_new(r, "loosened", json_integer((json_int_t)t->loosened));
    json_t *rc = json_array();
    for (size_t i = 0; i < t->ncauses; i++) {
        if (!t->causes[i].loosened) continue;
        json_t *x = json_object();
        json_object_set_new(x, "cause", json_string(t->causes[i].key));
        json_object_set_new(x, "label", json_string(t->causes[i].label));
        json_object_set_new(x, "count", json_integer((json_int_t)t->causes[i].loosened));
        json_array_append_new(rc, x);
    }
    json_object_set_new(r, "causes", rc);
    return r;
}

static json_t *summary_json(const q_program *const p[2], const diff_spec *o, tally *t, const dx_verdict *v,
                            bool checked)
{
    json_t *s = json_object();
    json_object_set_new(s, "old", prog_json(p[0], o->spec[0]));
    json_object_set_new(s, "new", prog_json(p[1], o->spec[1]));
    json_t *in = json_array();
    for (int i = 0; i < o->ninputs; i++) json_array_append_new(in, json_string(o->inputs[i]));
    json_object_set_new(s, "inputs", in);
    json_object_set_new(s, "records", json_integer((json_int_t)t->records));
    json_object_set_new(s, "moved", json_integer((json_int_t)t->moved));
    json_object_set_new(s, "up", json_integer((json_int_t)t->up));
    json_object_set_new(s, "down", json_integer((json_int_t)t->down));
    json_object_set_new(s, "other", json_integer((json_int_t)t->other));
    json_object_set_new(s, "same_tier_other_rule", json_integer((json_int_t)t->same_tier_other_rule));
    json_object_set_new(s, "rejected_by_both", json_integer((json_int_t)t->rejected_both));
    json_t *states = json_array();
    for (int i = 0; i < DS__COUNT; i++) json_array_append_new(states, json_string(ds_code(ds_order[i])));
    json_object_set_new(s, "states", states);
    json_t *mx = json_object();
    json_object_set_new(mx, "eligible", matrix_json((const uint64_t(*)[DS__COUNT])t->mat[0]));
    json_object_set_new(mx, "final", matrix_json((const uint64_t(*)[DS__COUNT])t->mat[1]));
    json_object_set_new(s, "matrix", mx);
    json_object_set_new(s, "eligible_equals_final", json_boolean(!memcmp(t->mat[0], t->mat[1], sizeof t->mat[0])));
    if (t->ncauses) qsort(t->causes, t->ncauses, sizeof *t->causes, cmp_cause); /* qsort(NULL, 0) is UB */
    json_t *cs = json_array();
    for (size_t i = 0; i < t->ncauses; i++) json_array_append_new(cs, cause_json(t, &t->causes[i]));
    json_object_set_new(s, "causes", cs);
    json_t *by[2] = {groups_json(&t->kinds, "kind", false), groups_json(&t->groups, "peer_group", true)};
    if (!by[0] || !by[1]) { /* out of memory: no summary */
        json_decref(by[0]);
        json_decref(by[1]);
        json_decref(s);
        return NULL;
    }
    json_object_set_new(s, "by_kind", by[0]);
    json_object_set_new(s, "by_peer_group", by[1]);
    json_object_set_new(s, "listed", json_string(o->refines ? "loosened" : "moved"));
    json_object_set_new(s, "listed_count", json_integer((json_int_t)t->spooled));
    if (o->refines) json_object_set_new(s, "refines", refines_json(t));
    if (checked) {
        json_t *e = json_object();
        json_object_set_new(e, "file", o->expect ? json_string(o->expect) : json_null());
        json_object_set_new(e, "approved", json_integer((json_int_t)v->approved));
        json_object_set_new(e, "unapproved", json_integer((json_int_t)v->unapproved));
        json_object_set_new(e, "unapproved_moves", json_incref(v->unapproved_list));
        json_object_set_new(e, "unused_approvals", json_incref(v->unused_list));
        json_object_set_new(s, "expect", e);
    }
    return s;
}

/* =====================================================================
 * The two passes
 * ===================================================================== */

/* Feed every input to both rating sources (pass 1). */
static int feed(const q_program *const p[2], const diff_spec *o, dr_src *src[2], tally *t)
{
    size_t base = 0;
    for (int i = 0; i < o->ninputs; i++) {
        dr_in *in = dr_in_open(o->inputs[i], o->files[i], p, base);
        if (!in) return EXIT_IO;
        dr_in_set_jobs(in, o->jobs);
        dr_in_rate_ahead(in, src);
        dr_pair pr;
        int r;
        while ((r = dr_in_next(in, &pr, NULL, 0)) == 1) {
            bool oom = false;
            for (int s = 0; s < 2; s++) oom |= dr_src_add(src[s], pr.rec[s], &pr.err[s], pr.file, pr.res[s]) != 0;
            if (oom || !note_record(p, &pr, t)) {
                r = -1;
                fprintf(stderr, "quy diff: out of memory\n");
                break;
            }
            base++;
        }
        dr_in_close(in);
        if (r < 0) return EXIT_IO;
    }
    return EXIT_OK;
}

static bool is_moved(const tally *t, size_t i) { return t->moved_bits[i / 8] >> (i % 8) & 1u; }

/* The batch steps of record i in words, on each side; false when out of memory. */
static bool steps_of(dr_src *src[2], size_t i, char *steps[2])
{
    for (int s = 0; s < 2; s++) steps[s] = dr_src_steps(src[s], i);
    return steps[0] && steps[1];
}

/* Pass 2: parse and decode the moved lines again and explain each. A
 * record that waited for a roll-up on a side is explained as that batch
 * rated it (roll-ups filled: dr_src_rec); any other as decoded. */
static int pass2(const q_program *const p[2], const diff_spec *o, dr_src *src[2], tally *t, explanation *ex[2])
{
    size_t base = 0, n = t->records;
    for (int i = 0; i < o->ninputs; i++) {
        dr_in *in = dr_in_open(o->inputs[i], o->files[i], p, base);
        if (!in) return EXIT_IO;
        dr_pair pr;
        int r;
        while ((r = dr_in_next(in, &pr, t->moved_bits, n)) == 1) {
            base++;
            size_t gi = pr.index;
            if (gi >= n || !is_moved(t, gi)) continue;
            dr_row row[2];
            const q_record *rec[2];
            for (int s = 0; s < 2; s++) {
                dr_src_row(src[s], gi, &row[s]);
                const q_record *kept = dr_src_rec(src[s], gi);
                rec[s] = kept ? kept : pr.rec[s];
            }
            char *steps[2];
            bool ok = steps_of(src, gi, steps);
            if (!ok) fprintf(stderr, "quy diff: out of memory\n");
            dc_input di = {{rec[0], rec[1]}, {&row[0], &row[1]}, {steps[0], steps[1]},
                           {dr_src_hooks(src[0]), dr_src_hooks(src[1])}};
            ok = ok && explain_record(p, gi, &di, t, o, ex);
            free(steps[0]);
            free(steps[1]);
            if (!ok) {
                r = -1;
                break;
            }
        }
        dr_in_close(in);
        if (r < 0) return EXIT_IO;
    }
    return EXIT_OK;
}

/* =====================================================================
 * The run
 * ===================================================================== */

typedef struct run_arg {
    dr_src *src;
    int rc;
} run_arg;

static void *run_thread(void *arg)
{
    run_arg *a = arg;
    a->rc = dr_src_run(a->src);
    return NULL;
}

/* The batch steps of both sources: 0, or -1 when out of memory. The two
 * batches share nothing but the (immutable) programs, and each rates with
 * its own hook session, so unless `jobs` is 1 the new one runs on a
 * second thread (the steps rate every record that waited for a roll-up:
 * a third of central-124's). */
static int run_both(dr_src *src[2], unsigned jobs)
{
    run_arg a = {src[1], -1};
    pthread_t th;
    if (!jobs) jobs = sysconf(_SC_NPROCESSORS_ONLN) > 1 ? 2 : 1;
    bool threaded = jobs > 1 && pthread_create(&th, NULL, run_thread, &a) == 0;
    int rc0 = dr_src_run(src[0]);
    if (threaded) pthread_join(th, NULL);
    else a.rc = dr_src_run(src[1]);
    return rc0 != 0 || a.rc != 0 ? -1 : 0;
}

/* Pass 1: both batches rated; every record tallied. */
static int pass1(const q_program *const p[2], const diff_spec *o, dr_src *src[2], tally *t)
{
    int rc = feed(p, o, src, t);
    if (rc == EXIT_OK && run_both(src, o->jobs) != 0) {
        fprintf(stderr, "quy diff: out of memory\n");
        rc = EXIT_IO;
    }
    if (rc != EXIT_OK) return rc;
    size_t n = dr_src_count(src[0]);
    if (n != dr_src_count(src[1]) || n != t->nrec) {
        fprintf(stderr, "quy diff: internal error: the two rulesets saw %zu and %zu records\n", n, dr_src_count(src[1]));
        return EXIT_IO;
    }
    if (!(t->moved_bits = calloc(n / 8 + 1, 1))) {
        fprintf(stderr, "quy diff: out of memory\n");
        return EXIT_IO;
    }
    for (size_t i = 0; i < n; i++) {
        dr_row row[2];
        for (int s = 0; s < 2; s++) dr_src_row(src[s], i, &row[s]);
        const dr_row *rp[2] = {&row[0], &row[1]};
        if (!tally_record(p, i, rp, t)) {
            fprintf(stderr, "quy diff: out of memory\n");
            return EXIT_IO;
        }
    }
    return EXIT_OK;
}

static void tally_free(tally *t)
{
    dx_free(t->all);
    for (size_t i = 0; i < t->ncauses; i++) cstat_free(&t->causes[i]);
    free(t->causes);
    for (int i = 0; i < DIFF_REJECTED_SAMPLES; i++) free(t->rejected_sample[i]);
    strtab_free(&t->kinds);
    strtab_free(&t->groups);
    free(t->rec_kind);
    free(t->rec_group);
    free(t->moved_bits);
}

int diff_run(const q_program *const p[2], const diff_spec *o, diff_result *out)
{
    memset(out, 0, sizeof *out);
    tally t;
    memset(&t, 0, sizeof t);
    t.seen = dx_new();
    t.all = dx_new();
    t.spool = tmpfile();
    explanation *ex[2] = {explain_new(), explain_new()};
    int rc = EXIT_OK;
    if (!t.seen || !t.all || !t.spool || !ex[0] || !ex[1]) {
        fprintf(stderr, "quy diff: out of memory (or no temporary file: %s)\n", strerror(errno));
        rc = EXIT_IO;
    }
    dr_src *src[2] = {dr_src_new(p[0]), dr_src_new(p[1])};
    if (rc == EXIT_OK && (!src[0] || !src[1])) {
        fprintf(stderr, "quy diff: out of memory\n");
        rc = EXIT_IO;
    }
    if (rc == EXIT_OK) rc = pass1(p, o, src, &t);
    if (rc == EXIT_OK && t.moved) rc = pass2(p, o, src, &t, ex);
    dr_src_free(src[0]);
    dr_src_free(src[1]);
    explain_free(ex[0]);
    explain_free(ex[1]);
    out->rejected_both = t.rejected_both;
    memcpy(out->rejected_sample, t.rejected_sample, sizeof out->rejected_sample); /* moved: the result frees them */
    memset(t.rejected_sample, 0, sizeof t.rejected_sample);
    if (rc == EXIT_OK && o->check) dx_check(t.seen, o->approved, &out->verdict);
    if (rc == EXIT_OK) out->summary = summary_json(p, o, &t, &out->verdict, o->check);
    out->seen = t.seen;
    out->moved = t.spool;
    out->nmoved = t.spooled;
    tally_free(&t);
    if (rc == EXIT_OK && !out->summary) {
        fprintf(stderr, "quy diff: out of memory\n");
        rc = EXIT_IO;
    }
    return rc == EXIT_OK ? 0 : -1;
}

void diff_result_free(diff_result *r)
{
    if (r->summary) json_decref(r->summary);
    if (r->moved) fclose(r->moved);
    dx_free(r->seen);
    if (r->verdict.unapproved_list) json_decref(r->verdict.unapproved_list);
    if (r->verdict.unused_list) json_decref(r->verdict.unused_list);
    for (int i = 0; i < DIFF_REJECTED_SAMPLES; i++) free(r->rejected_sample[i]);
    memset(r, 0, sizeof *r);
}
