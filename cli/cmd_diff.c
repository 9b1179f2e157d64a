/*
 * cmd_diff.c — `quy diff OLD NEW RECORDS...`: what changes between two
 * rulesets over a corpus, record by record and clause by clause.
 *
 * Every record is parsed once and decoded for both programs; both rate it
 * (dr_rate, the one rating source); the tallies (transition matrices of
 * eligible and final tiers, causes, kinds, peer groups, approved moves)
 * are updated; a record that moved is traced again by both programs to
 * find the cause (dc_explain) and written as one JSON line to a temporary
 * file, so memory stays proportional to the number of causes and groups,
 * not to the corpus. The report is written at the end (diff_report.c).
 *
 * A ruleset is named by a positional argument (a name, a .quy or a .qbc
 * path) or by --old SPEC / --new SPEC; a side_spec holds what names one
 * side, so that other ways of naming it (a locality and a date) only add
 * a field and a branch in load_side().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../runtime/explain.h"
#include "cli.h"
#include "diff.h"

/* =====================================================================
 * Options
 * ===================================================================== */

typedef struct side_spec {
    const char *spec; /* ruleset name, .quy or .qbc path */
} side_spec;

typedef struct diff_opts {
    side_spec side[2];
    const char *inputs[256];
    int ninputs;
    rp_format fmt;
    const char *out;
    const char *expect, *write_expect;
    bool refines;
} diff_opts;

static q_program *load_side(const cli_paths *ps, const side_spec *s) { return cli_load(ps, s->spec); }

/* =====================================================================
 * Tallies
 * ===================================================================== */

typedef struct gstat {
    char *name;
    uint64_t records, moved, up, down, other;
} gstat;

typedef struct gmap { /* name -> gstat, open addressing */
    gstat *g;
    size_t n, cap;
} gmap;

static uint64_t str_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
    return h;
}

static gstat *gmap_get(gmap *m, const char *name)
{
    if (m->n * 2 >= m->cap) {
        size_t nc = m->cap ? m->cap * 2 : 64;
        gstat *ng = calloc(nc, sizeof *ng);
        if (!ng) return NULL;
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->g[i].name) continue;
            size_t j = str_hash(m->g[i].name) & (nc - 1);
            while (ng[j].name) j = (j + 1) & (nc - 1);
            ng[j] = m->g[i];
        }
        free(m->g);
        m->g = ng;
        m->cap = nc;
    }
    size_t j = str_hash(name) & (m->cap - 1);
    while (m->g[j].name) {
        if (!strcmp(m->g[j].name, name)) return &m->g[j];
        j = (j + 1) & (m->cap - 1);
    }
    m->g[j].name = strdup(name);
    if (!m->g[j].name) return NULL;
    m->n++;
    return &m->g[j];
}

static void gmap_free(gmap *m)
{
    for (size_t i = 0; i < m->cap; i++) free(m->g[i].name);
    free(m->g);
}

typedef struct cstat { /* one cause */
    char key[192], label[256], cite_old[256], cite_new[256];
    dc_type type;
    uint64_t count, up, down, other, loosened;
    uint64_t trans[DS__COUNT][DS__COUNT]; /* final states */
} cstat;

typedef struct tally {
    uint64_t records, moved, up, down, other, same_tier_other_rule, loosened;
    uint64_t rejected_both;
    char rejected_sample[5][400]; /* the first records both rulesets rejected, for stderr */
    uint64_t mat[2][DS__COUNT][DS__COUNT]; /* [0] eligible, [1] final; [old][new] by state */
    cstat *causes;
    size_t ncauses, capcauses;
    gmap kinds, groups;
    dx_set *seen;
    FILE *spool;
    uint64_t spooled;
} tally;

static cstat *cause_get(tally *t, const dc_cause *c)
{
    for (size_t i = 0; i < t->ncauses; i++)
        if (!strcmp(t->causes[i].key, c->key)) return &t->causes[i];
    if (t->ncauses == t->capcauses) {
        size_t nc = t->capcauses ? t->capcauses * 2 : 16;
        cstat *n = realloc(t->causes, nc * sizeof *n);
        if (!n) return NULL;
        t->causes = n;
        t->capcauses = nc;
    }
    cstat *s = &t->causes[t->ncauses++];
    memset(s, 0, sizeof *s);
    snprintf(s->key, sizeof s->key, "%s", c->key);
    snprintf(s->label, sizeof s->label, "%s", c->label);
    snprintf(s->cite_old, sizeof s->cite_old, "%s", c->cite_old);
    snprintf(s->cite_new, sizeof s->cite_new, "%s", c->cite_new);
    s->type = c->type;
    return s;
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

static const char *rec_str_field(const q_program *p, const q_record *rec, const char *name)
{
    uint32_t f = prog_find_field(p, rec->kind, name, strlen(name));
    if (f == QUY_NONE) return NULL;
    uint32_t slot = f - p->kinds[rec->kind].first_field;
    if (!rec->present[slot] || p->types[p->fields[f].type].kind != QT_STRING) return NULL;
    static char buf[256];
    q_val v = rec->slots[slot];
    snprintf(buf, sizeof buf, "%.*s", (int)v.d, (const char *)(intptr_t)v.n);
    return buf;
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
    }
    return o;
}

/* One record through both programs. */
static void diff_record(const q_program *const p[2], const dr_pair *pr, const dr_row *row[2], tally *t,
                        const diff_opts *o, vm_event *evbuf[2])
{
    t->records++;
    int es[2], fs[2];
    for (int s = 0; s < 2; s++) {
        es[s] = dr_state(row[s], false);
        fs[s] = dr_state(row[s], true);
    }
    t->mat[0][es[0]][es[1]]++;
    t->mat[1][fs[0]][fs[1]]++;
    const char *kind = pr->kind, *pg = pr->peer_group;
    for (int s = 0; s < 2 && (!kind || !pg); s++) {
        if (!pr->rec[s]) continue;
        if (!kind) kind = prog_str(p[s], p[s]->kinds[pr->rec[s]->kind].name);
        if (!pg) pg = rec_str_field(p[s], pr->rec[s], "peer_group");
    }
    char pgbuf[256];
    snprintf(pgbuf, sizeof pgbuf, "%s", pg ? pg : "(không có peer_group)");
    gstat *gk = gmap_get(&t->kinds, kind ? kind : "(không rõ)");
    gstat *gp = gmap_get(&t->groups, pgbuf);
    if (gk) gk->records++;
    if (gp) gp->records++;
    bool moved = es[0] != es[1] || fs[0] != fs[1];
    if (row[0]->status != DR_RATED && row[1]->status != DR_RATED) {
        if (t->rejected_both < 5) {
            const rec_error *e = &pr->err[row[0]->status == DR_REJECTED ? 0 : 1];
            if (row[0]->status == DR_REJECTED || row[1]->status == DR_REJECTED)
                snprintf(t->rejected_sample[t->rejected_both], sizeof t->rejected_sample[0], "%s:%u: %s%s[%s%s%s] %.200s",
                         e->file, e->line, e->id, e->id[0] ? " " : "", e->code, e->field[0] ? " " : "", e->field,
                         e->message);
            else
                snprintf(t->rejected_sample[t->rejected_both], sizeof t->rejected_sample[0], "%s:%u: %s [eval] %s",
                         pr->file ? pr->file : "", pr->line, pr->id ? pr->id : "",
                         row[0]->error < VM__COUNT ? vm_error_message[row[0]->error] : "?");
        }
        t->rejected_both++;
    }
    if (!moved) {
        if (row[0]->status == DR_RATED && row[1]->status == DR_RATED && row[0]->rule != QUY_NONE &&
            row[1]->rule != QUY_NONE &&
            strcmp(prog_str(p[0], p[0]->rules[row[0]->rule].name), prog_str(p[1], p[1]->rules[row[1]->rule].name)))
            t->same_tier_other_rule++;
        return;
    }
    t->moved++;
    int dir = direction(row[0], row[1]);
    uint64_t *cnt = dir > 0 ? &t->up : dir < 0 ? &t->down : &t->other;
    (*cnt)++;
    if (gk) {
        gk->moved++;
        (*(dir > 0 ? &gk->up : dir < 0 ? &gk->down : &gk->other))++;
    }
    if (gp) {
        gp->moved++;
        (*(dir > 0 ? &gp->up : dir < 0 ? &gp->down : &gp->other))++;
    }
    dc_cause c;
    dc_explain(p, pr, row, evbuf, &c);
    cstat *cs = cause_get(t, &c);
    if (cs) {
        cs->count++;
        (*(dir > 0 ? &cs->up : dir < 0 ? &cs->down : &cs->other))++;
        cs->trans[fs[0]][fs[1]]++;
        if (dir > 0) cs->loosened++;
    }
    if (dir > 0) t->loosened++;
    char so[32], sn[32];
    state_str(row[0], so, sizeof so);
    state_str(row[1], sn, sizeof sn);
    bool listed = !o->refines || dir > 0;
    if (listed) dx_add(t->seen, so, sn, c.key, c.label, 1);
    if (listed && t->spool) {
        json_t *m = json_object();
        json_object_set_new(m, "id", pr->id ? json_string(pr->id) : json_null());
        json_object_set_new(m, "kind", json_string(kind ? kind : ""));
        json_object_set_new(m, "peer_group", pg ? json_string(pg) : json_null());
        json_object_set_new(m, "file", json_string(pr->file ? pr->file : ""));
        json_object_set_new(m, "line", json_integer(pr->line));
        json_object_set_new(m, "old", side_json(p[0], row[0], so));
        json_object_set_new(m, "new", side_json(p[1], row[1], sn));
        json_object_set_new(m, "direction", json_string(dir > 0 ? "up" : dir < 0 ? "down" : "other"));
        json_object_set_new(m, "cause", json_string(c.key));
        json_object_set_new(m, "cause_label", json_string(c.label));
        json_object_set_new(m, "detail", c.detail ? json_incref(c.detail) : json_null());
        if (json_dumpf(m, t->spool, JSON_COMPACT) == 0) fputc('\n', t->spool);
        t->spooled++;
        json_decref(m);
    }
    if (c.detail) json_decref(c.detail);
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

static int cmp_group_name(const void *a, const void *b) { return strcmp(((const gstat *)a)->name, ((const gstat *)b)->name); }

static int cmp_group_moved(const void *a, const void *b)
{
    const gstat *x = a, *y = b;
    if (x->moved != y->moved) return x->moved < y->moved ? 1 : -1;
    return strcmp(x->name, y->name);
}

static json_t *groups_json(gmap *m, const char *keyname, bool by_moved)
{
    gstat *v = malloc((m->n ? m->n : 1) * sizeof *v);
    json_t *a = json_array();
    if (!v) return a;
    size_t n = 0;
    for (size_t i = 0; i < m->cap; i++)
        if (m->g[i].name) v[n++] = m->g[i];
    qsort(v, n, sizeof *v, by_moved ? cmp_group_moved : cmp_group_name);
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_object();
        json_object_set_new(o, keyname, json_string(v[i].name));
        json_object_set_new(o, "records", json_integer((json_int_t)v[i].records));
        json_object_set_new(o, "moved", json_integer((json_int_t)v[i].moved));
        json_object_set_new(o, "up", json_integer((json_int_t)v[i].up));
        json_object_set_new(o, "down", json_integer((json_int_t)v[i].down));
        json_object_set_new(o, "other", json_integer((json_int_t)v[i].other));
        json_array_append_new(a, o);
    }
    free(v);
    return a;
}

static json_t *summary_json(const q_program *const p[2], const diff_opts *o, tally *t, const dx_verdict *v,
                            bool checked)
{
    json_t *s = json_object();
    json_object_set_new(s, "old", prog_json(p[0], o->side[0].spec));
    json_object_set_new(s, "new", prog_json(p[1], o->side[1].spec));
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
    qsort(t->causes, t->ncauses, sizeof *t->causes, cmp_cause);
    json_t *cs = json_array();
    static const char *const tname[] = {"rule", "rejected", "batch", "unexplained"};
    for (size_t i = 0; i < t->ncauses; i++) {
        const cstat *c = &t->causes[i];
        json_t *j = json_object();
        json_object_set_new(j, "cause", json_string(c->key));
        json_object_set_new(j, "type", json_string(tname[c->type]));
        json_object_set_new(j, "label", json_string(c->label));
        if (c->cite_old[0]) json_object_set_new(j, "cite_old", json_string(c->cite_old));
        if (c->cite_new[0]) json_object_set_new(j, "cite_new", json_string(c->cite_new));
        json_object_set_new(j, "count", json_integer((json_int_t)c->count));
        json_object_set_new(j, "up", json_integer((json_int_t)c->up));
        json_object_set_new(j, "down", json_integer((json_int_t)c->down));
        json_object_set_new(j, "other", json_integer((json_int_t)c->other));
        json_t *mv = json_array();
        for (int a = 0; a < DS__COUNT; a++)
            for (int b = 0; b < DS__COUNT; b++) {
                uint64_t n = c->trans[ds_order[a]][ds_order[b]];
                if (!n) continue;
                json_t *x = json_object();
                json_object_set_new(x, "old", json_string(ds_code(ds_order[a])));
                json_object_set_new(x, "new", json_string(ds_code(ds_order[b])));
                json_object_set_new(x, "count", json_integer((json_int_t)n));
                json_array_append_new(mv, x);
            }
        json_object_set_new(j, "moves", mv);
        json_array_append_new(cs, j);
    }
    json_object_set_new(s, "causes", cs);
    json_object_set_new(s, "by_kind", groups_json(&t->kinds, "kind", false));
    json_object_set_new(s, "by_peer_group", groups_json(&t->groups, "peer_group", true));
    json_object_set_new(s, "listed", json_string(o->refines ? "loosened" : "moved"));
    json_object_set_new(s, "listed_count", json_integer((json_int_t)t->spooled));
    if (o->refines) {
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
        json_object_set_new(s, "refines", r);
    }
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
 * Batch mode: the corpus is kept and rated as one batch by each program
 * ===================================================================== */

typedef struct kept {
    q_record *rec[2];  /* rec_copy, or NULL: rejected (err[s]) */
    rec_error *err[2]; /* malloc'd only for a rejection */
    const char *file;  /* the input name (argv) */
    uint32_t line;
} kept;

static bool keep_pair(q_program *const p[2], const dr_pair *pr, kept *k)
{
    memset(k, 0, sizeof *k);
    k->file = pr->file;
    k->line = pr->line;
    for (int s = 0; s < 2; s++) {
        if (pr->rec[s]) {
            if (!(k->rec[s] = rec_copy(p[s], pr->rec[s]))) return false;
        } else {
            if (!(k->err[s] = malloc(sizeof *k->err[s]))) return false;
            *k->err[s] = pr->err[s];
        }
    }
    return true;
}

static void kept_free(kept *k)
{
    for (int s = 0; s < 2; s++) {
        rec_free(k->rec[s]);
        free(k->err[s]);
    }
}

static int diff_batch(const q_program *const p[2], kept *keep, size_t n, tally *t, const diff_opts *o,
                      vm_event *evbuf[2])
{
    dr_row *rows[2] = {calloc(n ? n : 1, sizeof(dr_row)), calloc(n ? n : 1, sizeof(dr_row))};
    q_record **recs = calloc(n ? n : 1, sizeof *recs);
    int rc = EXIT_OK;
    if (!rows[0] || !rows[1] || !recs) {
        fprintf(stderr, "quy diff: out of memory\n");
        rc = EXIT_IO;
    }
    for (int s = 0; s < 2 && rc == EXIT_OK; s++) {
        for (size_t i = 0; i < n; i++) recs[i] = keep[i].rec[s];
        dr_rate(p[s], recs, n, rows[s]);
    }
    for (size_t i = 0; i < n && rc == EXIT_OK; i++) {
        dr_pair pr;
        memset(&pr, 0, sizeof pr);
        pr.file = keep[i].file;
        pr.line = keep[i].line;
        for (int s = 0; s < 2; s++) {
            pr.rec[s] = keep[i].rec[s];
            pr.rc[s] = pr.rec[s] ? 1 : -1;
            if (keep[i].err[s]) pr.err[s] = *keep[i].err[s];
            if (!pr.id) pr.id = pr.rec[s] ? pr.rec[s]->id : pr.err[s].id[0] ? pr.err[s].id : NULL;
        }
        const dr_row *rp[2] = {&rows[0][i], &rows[1][i]};
        diff_record(p, &pr, rp, t, o, evbuf);
    }
    free(rows[0]);
    free(rows[1]);
    free(recs);
    return rc;
}

/* =====================================================================
 * The command
 * ===================================================================== */

static int usage_error(const char *msg)
{
    fprintf(stderr, "quy diff: %s\n", msg);
    fprintf(stderr,
            "usage: quy diff OLD NEW RECORDS... [--format text|json|csv|html] [-o FILE]\n"
            "                [--expect FILE] [--write-expect FILE] [--refines] [--rulesets DIR]\n"
            "       (OLD / NEW may also be given as --old SPEC / --new SPEC)\n");
    return EXIT_RULESET;
}

int cmd_diff(int argc, char **argv)
{
    diff_opts o;
    memset(&o, 0, sizeof o);
    o.fmt = RP_TEXT;
    cli_paths ps;
    cli_paths_init(&ps);
    const char *pos[260];
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (cli_opt(argc, argv, &i, "--rulesets", &v))
            cli_paths_add(&ps, v);
        else if (cli_opt(argc, argv, &i, "--old", &v))
            o.side[0].spec = v;
        else if (cli_opt(argc, argv, &i, "--new", &v))
            o.side[1].spec = v;
        else if (cli_opt(argc, argv, &i, "--format", &v)) {
            if (!strcmp(v, "text")) o.fmt = RP_TEXT;
            else if (!strcmp(v, "json")) o.fmt = RP_JSON;
            else if (!strcmp(v, "csv")) o.fmt = RP_CSV;
            else if (!strcmp(v, "html")) o.fmt = RP_HTML;
            else return usage_error("unknown format (text, json, csv or html)");
        } else if (cli_opt(argc, argv, &i, "-o", &v) || cli_opt(argc, argv, &i, "--output", &v))
            o.out = v;
        else if (cli_opt(argc, argv, &i, "--expect", &v))
            o.expect = v;
        else if (cli_opt(argc, argv, &i, "--write-expect", &v))
            o.write_expect = v;
        else if (cli_opt(argc, argv, &i, "--refines", NULL))
            o.refines = true;
        else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "quy diff: unknown option '%s'\n", argv[i]);
            return usage_error("see 'quy help'");
        } else if (npos < 260)
            pos[npos++] = argv[i];
    }
    int next = 0;
    for (int s = 0; s < 2; s++)
        if (!o.side[s].spec && next < npos) o.side[s].spec = pos[next++];
    if (!o.side[0].spec || !o.side[1].spec) return usage_error("two rulesets are needed (OLD NEW)");
    for (; next < npos && o.ninputs < 256; next++) o.inputs[o.ninputs++] = pos[next];
    if (o.ninputs == 0) o.inputs[o.ninputs++] = "-";

    q_program *p[2] = {NULL, NULL};
    for (int s = 0; s < 2; s++) {
        p[s] = load_side(&ps, &o.side[s]);
        if (!p[s]) {
            if (s) prog_free(p[0]);
            return EXIT_RULESET;
        }
    }
    dx_set *approved = NULL;
    if (o.expect && !(approved = dx_read(o.expect))) {
        prog_free(p[0]);
        prog_free(p[1]);
        return EXIT_RULESET;
    }

    tally t;
    memset(&t, 0, sizeof t);
    t.seen = dx_new();
    t.spool = tmpfile();
    vm_event *evbuf[2] = {malloc(sizeof(vm_event) * QUY_TRACE_CAP), malloc(sizeof(vm_event) * QUY_TRACE_CAP)};
    int rc = EXIT_OK;
    if (!t.seen || !t.spool || !evbuf[0] || !evbuf[1]) {
        fprintf(stderr, "quy diff: out of memory (or no temporary file: %s)\n", strerror(errno));
        rc = EXIT_IO;
    }
    const q_program *const cp[2] = {p[0], p[1]};
    bool batch = dr_is_batch(p[0]) || dr_is_batch(p[1]);
    /* Batch mode keeps a copy of every record for the batch engine (and
     * the rejection of a record a program rejected). */
    kept *keep = NULL;
    size_t nkeep = 0, capkeep = 0;
    for (int i = 0; i < o.ninputs && rc == EXIT_OK; i++) {
        dr_in *in = dr_in_open(o.inputs[i], cp);
        if (!in) {
            rc = EXIT_IO;
            break;
        }
        dr_pair pr;
        int r;
        while ((r = dr_in_next(in, &pr)) == 1) {
            if (!batch) {
                dr_row row[2];
                for (int s = 0; s < 2; s++) dr_rate(p[s], &pr.rec[s], 1, &row[s]);
                const dr_row *rp[2] = {&row[0], &row[1]};
                diff_record(cp, &pr, rp, &t, &o, evbuf);
                continue;
            }
            if (nkeep == capkeep) {
                size_t nc = capkeep ? capkeep * 2 : 1024;
                kept *nk = realloc(keep, nc * sizeof *nk);
                if (!nk) {
                    fprintf(stderr, "quy diff: out of memory\n");
                    rc = EXIT_IO;
                    break;
                }
                keep = nk;
                capkeep = nc;
            }
            if (!keep_pair(p, &pr, &keep[nkeep++])) {
                fprintf(stderr, "quy diff: out of memory\n");
                rc = EXIT_IO;
                break;
            }
        }
        if (r < 0) rc = EXIT_IO;
        dr_in_close(in);
    }
    if (batch && rc == EXIT_OK) rc = diff_batch(cp, keep, nkeep, &t, &o, evbuf);
    for (size_t i = 0; i < nkeep; i++) kept_free(&keep[i]);
    free(keep);

    if (t.rejected_both) {
        fprintf(stderr, "quy diff: %llu record(s) rejected by both rulesets (not moves), e.g.:\n",
                (unsigned long long)t.rejected_both);
        for (uint64_t i = 0; i < t.rejected_both && i < 5; i++) fprintf(stderr, "  %s\n", t.rejected_sample[i]);
    }
    dx_verdict v = {0};
    /* --write-expect alone records the moves: no check */
    bool checked = approved || (o.refines && !o.write_expect);
    if (rc == EXIT_OK && checked) dx_check(t.seen, approved, &v);
    if (rc == EXIT_OK) {
        json_t *sum = summary_json(cp, &o, &t, &v, checked);
        FILE *out = o.out && strcmp(o.out, "-") ? fopen(o.out, "w") : stdout;
        if (!out) {
            fprintf(stderr, "quy diff: %s: %s\n", o.out, strerror(errno));
            rc = EXIT_IO;
        } else {
            rp_input ri = {sum, t.spool, t.spooled};
            if (rp_write(o.fmt, &ri, out) != 0 || ferror(out)) rc = EXIT_IO;
            if (out != stdout) {
                if (fclose(out) != 0) rc = EXIT_IO;
            } else if (fflush(out) != 0) {
                rc = EXIT_IO;
            }
            if (rc == EXIT_IO) fprintf(stderr, "quy diff: cannot write the report: %s\n", strerror(errno));
        }
        json_decref(sum);
    }
    if (rc == EXIT_OK && o.write_expect) {
        char on[300], nn[300];
        snprintf(on, sizeof on, "%s %s", prog_str(p[0], p[0]->name), prog_str(p[0], p[0]->version));
        snprintf(nn, sizeof nn, "%s %s", prog_str(p[1], p[1]->name), prog_str(p[1], p[1]->version));
        if (dx_write(t.seen, o.write_expect, on, nn, o.refines) != 0) rc = EXIT_IO;
    }
    if (rc == EXIT_OK && checked) {
        /* One line on stderr, whatever the report format: what CI shows. */
        if (v.unapproved) {
            fprintf(stderr, "quy diff: %llu move(s) not approved%s%s%s\n", (unsigned long long)v.unapproved,
                    o.refines ? " (the new ruleset rates higher than the old one)" : "", o.expect ? " by " : "",
                    o.expect ? o.expect : "");
            for (size_t i = 0; i < json_array_size(v.unapproved_list); i++) {
                json_t *u = json_array_get(v.unapproved_list, i);
                fprintf(stderr, "  %s -> %s  %s  %lld (approved %lld)\n", json_string_value(json_object_get(u, "old")),
                        json_string_value(json_object_get(u, "new")), json_string_value(json_object_get(u, "cause")),
                        (long long)json_integer_value(json_object_get(u, "count")),
                        (long long)json_integer_value(json_object_get(u, "approved")));
            }
            rc = EXIT_UNAPPROVED;
        } else {
            fprintf(stderr, "quy diff: every move approved (%llu)\n", (unsigned long long)v.approved);
        }
    }
    if (v.unapproved_list) json_decref(v.unapproved_list);
    if (v.unused_list) json_decref(v.unused_list);
    dx_free(approved);
    dx_free(t.seen);
    if (t.spool) fclose(t.spool);
    free(t.causes);
    gmap_free(&t.kinds);
    gmap_free(&t.groups);
    free(evbuf[0]);
    free(evbuf[1]);
    prog_free(p[0]);
    prog_free(p[1]);
    return rc;
}
