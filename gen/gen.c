/*
 * gen.c — the boundary generator (gen.h; `quy gen` is its command): valid
 * records concentrated on the boundaries of a ruleset's conditions.
 *
 * For each rated kind, gen_scan() (gen_scan.c) lists the targets: every
 * linear comparison (months_in_role < 6, tasks_on_time = tasks_total,
 * (count discipline_cases where ...) <= sub_units_total), every share()
 * compared with a constant (share(undone, tasks_total) > 50%), every
 * comparison of a list element with a constant (all result_grades >= tot),
 * every bool, every enum / scale member, optional fields, list lengths.
 * Each target has variants: just below, at and just above the boundary
 * (and a zero denominator for a share); on / off; each member; absent /
 * present; 0, 1 and several elements.
 *
 * Record i (kinds in turn) draws a plausible base record, then pins the
 * next variant of its kind's target list (and, every other record, one
 * more drawn at random), solving the target's linear form for one of its
 * numbers; the kind's `check` constraints are then repaired on the
 * numbers not pinned, and the record is kept only if every check holds
 * and the VM rates it without error — the record is accepted by
 * `quy eval`. A record that cannot be made valid with its targets is
 * drawn again (up to 40 times, dropping the targets one by one).
 *
 * Determinism: record i depends only on the ruleset, the seed and i. The
 * PRNG is splitmix64 (Steele, Lea, Flood 2014), seeded per record with
 * seed ^ (i * 0x9E3779B97F4A7C15), our own code: the same seed gives the
 * same records on every machine and C library.
 */
#include <stdlib.h>
#include <string.h>

#include "../runtime/hook.h"
#include "../runtime/record.h"
#include "../runtime/splitmix.h"
#include "../runtime/strbuf.h"
#include "../runtime/vec.h"
#include "../runtime/vm.h"
#include "gen.h"
#include "gen_scan.h"

/* =====================================================================
 * PRNG
 * ===================================================================== */

/* rng, rng_next: runtime/splitmix.h */

static int64_t rng_below(rng *g, int64_t n) { return n <= 0 ? 0 : (int64_t)(rng_next(g) % (uint64_t)n); }
static int64_t rng_range(rng *g, int64_t lo, int64_t hi) { return hi <= lo ? lo : lo + rng_below(g, hi - lo + 1); }
static bool rng_pct(rng *g, int pct) { return rng_below(g, 100) < pct; }

/* =====================================================================
 * A record being generated
 * ===================================================================== */

typedef struct glist {
    q_val *e; /* n * stride values */
    uint32_t n, cap;
} glist;

enum { PIN_VALUE = 1, PIN_LEN = 2, PIN_ELEMS = 4 };

typedef struct grec {
    hook_session *hooks; /* for checks and rules that call hooks */
    const q_program *p;
    const gkind *g;
    const q_kind *kd;
    uint32_t nf;
    rng r;
    q_val *val;       /* [nf] */
    uint8_t *present; /* [nf] */
    uint8_t *emit;    /* [nf]: written to the output (0: absent, or a default left out) */
    uint8_t *pin;     /* [nf] PIN_* */
    glist *lists;     /* [nf] */
    struct gstr_block *strs; /* string values (gstr) */
    bool oom;                /* a string could not be stored: the record fails */
    q_record rec;     /* materialised for evaluation */
    q_val *elems;
    uint32_t capelems;
    char id[48];
    char unit_ref[48], head_ref[48]; /* ids of earlier collective records ("" none) */
} grec;

/* The id this record may refer to in `unit` / `head_of`, or NULL. */
static const char *ref_for(const grec *gr, const char *name)
{
    if (!strcmp(name, "unit")) return gr->unit_ref[0] ? gr->unit_ref : NULL;
    if (!strcmp(name, "head_of")) return gr->head_ref[0] ? gr->head_ref : NULL;
    return NULL;
}

static const q_field *fld(const grec *gr, uint16_t slot) { return &gr->p->fields[gr->kd->first_field + slot]; }
static const q_type *ftype(const grec *gr, uint16_t slot) { return &gr->p->types[fld(gr, slot)->type]; }

static uint32_t list_stride(const grec *gr, uint16_t slot)
{
    const q_type *et = &gr->p->types[ftype(gr, slot)->elem];
    return et->kind == QT_STRUCT ? et->count : 1;
}

/* The string values of the record being generated live in blocks that never
 * move (a q_val points into them), emptied for each record and reused; a
 * string longer than a block gets a block of its own, so no string is cut. */
typedef struct gstr_block {
    struct gstr_block *next;
    size_t cap, used;
    char b[];
} gstr_block;

/* The string a[0..na) followed by `suffix`, as a value; on out of memory the
 * record fails (gr->oom) and the value is empty. */
static q_val gstr(grec *gr, const char *a, size_t na, const char *suffix)
{
    size_t ns = strlen(suffix), need = na + ns + 1;
    gstr_block *k = gr->strs;
    while (k && k->cap - k->used < need) k = k->next;
    if (!k) {
        size_t cap = need > 4096 ? need : 4096;
        if (!(k = malloc(sizeof *k + cap))) {
            gr->oom = true;
            return q_str("", 0);
        }
        *k = (gstr_block){gr->strs, cap, 0};
        gr->strs = k;
    }
    char *d = k->b + k->used;
    if (na) memcpy(d, a, na);
    memcpy(d + na, suffix, ns + 1);
    k->used += need;
    return q_str(d, na + ns);
}

static q_val str_val(grec *gr, const char *s) { return gstr(gr, s, strlen(s), ""); }

/* Lay the lists out in one element array and point the record at it. */
static bool materialise(grec *gr)
{
    uint32_t need = 0;
    for (uint32_t i = 0; i < gr->nf; i++)
        if (ftype(gr, (uint16_t)i)->kind == QT_LIST) need += gr->lists[i].n * list_stride(gr, (uint16_t)i);
    if (need > gr->capelems) {
        q_val *ne = realloc(gr->elems, (need + 64) * sizeof *ne);
        if (!ne) return false;
        gr->elems = ne;
        gr->capelems = need + 64;
    }
    uint32_t at = 0;
    for (uint32_t i = 0; i < gr->nf; i++) {
        if (ftype(gr, (uint16_t)i)->kind != QT_LIST) continue;
        uint32_t n = gr->lists[i].n * list_stride(gr, (uint16_t)i);
        if (n) memcpy(gr->elems + at, gr->lists[i].e, n * sizeof *gr->elems);
        gr->val[i] = (q_val){at, gr->lists[i].n};
        at += n;
    }
    gr->rec.kind = gr->g->k;
    gr->rec.id = gr->id;
    gr->rec.slots = gr->val;
    gr->rec.present = gr->present;
    gr->rec.elems = gr->elems;
    gr->rec.nelems = at;
    return true;
}

/* =====================================================================
 * Random values
 * ===================================================================== */

/* A random value of scalar type t; `slot` >= 0 for a record field (bounds,
 * bool polarity), -1 inside a list element. */
static q_val rand_scalar(grec *gr, uint32_t t, int slot, int64_t span)
{
    const q_type *ty = &gr->p->types[t];
    rng *r = &gr->r;
    switch (ty->kind) {
    case QT_INT:
    case QT_DECIMAL: {
        int64_t lo = 0, hi = span;
        if (slot >= 0 && gr->g->lo[slot].d == 1) lo = gr->g->lo[slot].n;
        if (slot >= 0 && gr->g->hi[slot].d == 1 && gr->g->hi[slot].n < lo + span) hi = gr->g->hi[slot].n;
        else hi = lo + span;
        /* 4 in 5 draws inside the range the rules prefer (see gen.h) */
        if (slot >= 0 && rng_pct(r, 80)) {
            const q_val *plo = &gr->g->plo[slot], *phi = &gr->g->phi[slot];
            int64_t a = plo->d ? (plo->n + plo->d - 1) / plo->d : lo, b = phi->d ? phi->n / phi->d : hi;
            if (a < lo) a = lo;
            if (b > hi) b = hi;
            if (a <= b) lo = a, hi = b;
        }
        q_val v = q_int(rng_range(r, lo, hi));
        if (ty->kind == QT_DECIMAL && rng_pct(r, 30) && v.n < hi) q_make(v.n * 2 + 1, 2, &v);
        return v;
    }
    case QT_PERCENT: {
        q_val v;
        int64_t lo = 0, hi = 100;
        if (slot >= 0 && gr->g->lo[slot].d) lo = gr->g->lo[slot].n * 100 / gr->g->lo[slot].d;
        if (slot >= 0 && gr->g->hi[slot].d) hi = gr->g->hi[slot].n * 100 / gr->g->hi[slot].d;
        if (slot >= 0 && rng_pct(r, 80)) {
            const q_val *plo = &gr->g->plo[slot], *phi = &gr->g->phi[slot];
            int64_t a = plo->d ? (plo->n * 100 + plo->d - 1) / plo->d : lo, b = phi->d ? phi->n * 100 / phi->d : hi;
            if (a < lo) a = lo;
            if (b > hi) b = hi;
            if (a <= b) lo = a, hi = b;
        }
        /* mostly whole percents, now and then with two decimals */
        if (rng_pct(r, 20)) q_make(rng_range(r, lo * 100, hi * 100), 10000, &v);
        else q_make(rng_range(r, lo, hi), 100, &v);
        return v;
    }
    case QT_BOOL: {
        int pct = 30;
        if (slot >= 0) pct = gr->g->pol[slot] == GPOL_RARE ? 8 : gr->g->pol[slot] == GPOL_OFTEN ? 75 : 30;
        return q_bool(rng_pct(r, pct));
    }
    case QT_DATE: {
        int64_t d;
        q_parse_date("2024-01-01", 10, &d);
        return q_int(d + rng_below(r, 366));
    }
    case QT_ENUM: return q_int(rng_below(r, ty->count));
    case QT_SCALE:
        /* records that reach the tier rules need good grades: 7 draws in 8
         * come from the upper half of the scale */
        if (ty->count > 1 && rng_pct(r, 88)) return q_int(rng_range(r, ty->count / 2, ty->count - 1));
        return q_int(rng_below(r, ty->count));
    case QT_STRING: {
        char b[32];
        snprintf(b, sizeof b, "s%lld", (long long)rng_below(r, 20));
        return str_val(gr, b);
    }
    default: return q_int(0);
    }
}

/* Fill element e (stride values) of list `slot` at random. */
static void rand_elem(grec *gr, uint16_t slot, q_val *e)
{
    const q_type *lt = ftype(gr, slot);
    const q_type *et = &gr->p->types[lt->elem];
    if (et->kind != QT_STRUCT) {
        *e = rand_scalar(gr, lt->elem, -1, 12);
        return;
    }
    for (uint32_t j = 0; j < et->count; j++) {
        const q_field *f = &gr->p->fields[et->first + j];
        e[f->slot < et->count ? f->slot : j] = rand_scalar(gr, f->type, -1, 12);
    }
}

static bool list_resize(grec *gr, uint16_t slot, uint32_t n)
{
    glist *l = &gr->lists[slot];
    uint32_t stride = list_stride(gr, slot);
    if (n * stride > l->cap) {
        q_val *ne = realloc(l->e, (n * stride + 16) * sizeof *ne);
        if (!ne) return false;
        l->e = ne;
        l->cap = n * stride + 16;
    }
    for (uint32_t i = l->n; i < n; i++) rand_elem(gr, slot, l->e + (size_t)i * stride);
    l->n = n;
    gr->present[slot] = gr->emit[slot] = 1;
    return true;
}

/* The largest constant a field is compared with alone (months_in_role < 6
 * gives 6): values are drawn up to about twice that, at least 20. */
static int64_t field_span(const gkind *g, uint16_t slot)
{
    int64_t span = 20;
    for (size_t i = 0; i < g->ntargets; i++) {
        const gtarget *t = &g->targets[i];
        if (t->t != GT_LIN || t->a.n != 1 || t->a.v[0].t != GV_FIELD || t->a.v[0].slot != slot) continue;
        int64_t c = t->a.k.d ? t->a.k.n / t->a.k.d : 0;
        if (c < 0) c = -c;
        if (2 * c > span) span = 2 * c;
    }

    return span > 1000000 ? 1000000 : span;
}

static void base_record(grec *gr, size_t nth_of_kind)
{
    const q_program *p = gr->p;
    for (uint32_t i = 0; i < gr->nf; i++) {
        const q_field *f = fld(gr, (uint16_t)i);
        const q_type *ty = &p->types[f->type];
        const char *name = prog_str(p, f->name);
        gr->present[i] = gr->emit[i] = 1;
        gr->lists[i].n = 0;
        if (ty->kind == QT_LIST) {
            const q_type *et = &p->types[ty->elem];
            /* lists of cases (structs) are often empty, criteria lists rarely */
            uint32_t n = et->kind == QT_STRUCT ? (rng_pct(&gr->r, 55) ? 0 : (uint32_t)rng_range(&gr->r, 1, 3))
                                               : (rng_pct(&gr->r, 8) ? 0 : (uint32_t)rng_range(&gr->r, 1, 6));
            list_resize(gr, (uint16_t)i, n);
        } else if (ty->kind == QT_STRING) {
            char b[128];
            if (!strcmp(name, "period")) snprintf(b, sizeof b, "2024");
            else if (!strcmp(name, "peer_group"))
                snprintf(b, sizeof b, "pg-%s-%zu", prog_str(p, gr->kd->name), nth_of_kind / 10 + 1);
            else if (ref_for(gr, name)) snprintf(b, sizeof b, "%s", ref_for(gr, name));
            else snprintf(b, sizeof b, "%s-%zu", name, nth_of_kind % 50);
            gr->val[i] = str_val(gr, b);
            /* references to other records (unit, head_of) must exist in the
             * batch: only the ones chosen by the caller (earlier collective
             * records); other optional strings but peer_group are left out */
            if ((f->flags & (QF_OPTIONAL | QF_BATCH)) && strcmp(name, "peer_group") && !ref_for(gr, name))
                gr->present[i] = gr->emit[i] = 0;
        } else {
            gr->val[i] = rand_scalar(gr, f->type, (int)i, field_span(gr->g, (uint16_t)i));
        }
        if (f->flags & QF_DEFAULT) {
            /* the default is the usual case: left out half the time, written
             * out with the default value most of the other half */
            if (rng_pct(&gr->r, 90)) gr->val[i] = p->consts[f->deflt];
            if (rng_pct(&gr->r, 50)) {
                gr->val[i] = p->consts[f->deflt];
                gr->emit[i] = 0; /* left out: the default applies */
            }
        } else if ((f->flags & (QF_OPTIONAL | QF_BATCH)) && ty->kind != QT_STRING) {
            /* absent half the time for a computed field; an optional field
             * whose presence triggers a disqualifier is rarely there, one a
             * tier reads often (see gen.h) */
            int absent = (f->flags & QF_BATCH) ? 50
                       : gr->g->ppol[i] == GPOL_RARE ? 70 : gr->g->ppol[i] == GPOL_OFTEN ? 20 : 40;
            if (rng_pct(&gr->r, absent)) gr->present[i] = gr->emit[i] = 0;
        }
    }
}

/* =====================================================================
 * Numbers: reading and setting the variables of linear forms
 * ===================================================================== */

static bool var_get(grec *gr, const gvar *v, q_val *out)
{
    if (!gr->present[v->slot]) return false;
    switch (v->t) {
    case GV_FIELD: *out = gr->val[v->slot]; return true;
    case GV_LEN: *out = q_int(gr->lists[v->slot].n); return true;
    default: {
        if (!materialise(gr)) return false;
        gnode q;
        memset(&q, 0, sizeof q);
        (void)q;
        /* count elements satisfying pred */
        uint32_t stride = list_stride(gr, v->slot);
        int64_t cnt = 0;
        q_val lv = gr->val[v->slot];
        for (int64_t i = 0; i < lv.d; i++) {
            q_val b;
            if (!gen_eval(gr->p, gr->g, v->pred, &gr->rec, lv.n + i * (int64_t)stride, &b)) return false;
            cnt += b.n != 0;
        }
        *out = q_int(cnt);
        return true;
    }
    }
}

static bool elem_pred(grec *gr, const gvar *v, uint32_t i, bool *out)
{
    if (!materialise(gr)) return false;
    q_val b;
    if (!gen_eval(gr->p, gr->g, v->pred, &gr->rec, gr->val[v->slot].n + (int64_t)i * list_stride(gr, v->slot), &b))
        return false;
    *out = b.n != 0;
    return true;
}

static bool in_bounds(const grec *gr, uint16_t slot, q_val x)
{
    if (gr->g->lo[slot].d && q_cmp(x, gr->g->lo[slot]) < 0) return false;
    if (gr->g->hi[slot].d && q_cmp(x, gr->g->hi[slot]) > 0) return false;
    return true;
}

/* Can x be written exactly as a decimal (d divides a power of ten)? */
static bool terminating(q_val x)
{
    int64_t d = x.d;
    while (d % 2 == 0) d /= 2;
    while (d % 5 == 0) d /= 5;
    return d == 1;
}

static bool var_set(grec *gr, const gvar *v, q_val x, uint8_t pinbit)
{
    switch (v->t) {
    case GV_FIELD: {
        uint8_t tk = ftype(gr, v->slot)->kind;
        if (gr->pin[v->slot] & PIN_VALUE) return false;
        if ((tk == QT_INT || tk == QT_DATE) && x.d != 1) return false;
        if (!terminating(x) || !in_bounds(gr, v->slot, x)) return false;
        if (tk == QT_INT && (x.n < -1000000000 || x.n > 1000000000)) return false;
        if (tk == QT_PERCENT) {
            /* at most 4 decimals in percent units */
            q_val t;
            if (q_mul(x, q_int(1000000), &t) != Q_OK || t.d != 1) return false;
        }
        gr->val[v->slot] = x;
        gr->present[v->slot] = gr->emit[v->slot] = 1;
        gr->pin[v->slot] |= pinbit;
        return true;
    }
    case GV_LEN:
        if (x.d != 1 || x.n < 0 || x.n > 40 || (gr->pin[v->slot] & (PIN_LEN | PIN_ELEMS))) return false;
        if (!list_resize(gr, v->slot, (uint32_t)x.n)) return false;
        gr->pin[v->slot] |= pinbit ? PIN_LEN : 0;
        return true;
    default: {
        if (x.d != 1 || x.n < 0 || x.n > 40 || (gr->pin[v->slot] & PIN_ELEMS)) return false;
        glist *l = &gr->lists[v->slot];
        if (!gr->present[v->slot]) {
            if (gr->pin[v->slot] & PIN_LEN) return false;
            if (!list_resize(gr, v->slot, 0)) return false;
        }
        if ((uint32_t)x.n > l->n) {
            if (gr->pin[v->slot] & PIN_LEN) return false;
            if (!list_resize(gr, v->slot, (uint32_t)x.n)) return false;
        }
        /* make exactly x.n elements satisfy the predicate: redraw elements
         * until each has the status it needs */
        uint32_t stride = list_stride(gr, v->slot);
        for (uint32_t i = 0; i < l->n; i++) {
            bool want = i < (uint32_t)x.n, have;
            int tries = 0;
            while (elem_pred(gr, v, i, &have) && have != want && tries++ < 64) rand_elem(gr, v->slot, l->e + (size_t)i * stride);
            if (!elem_pred(gr, v, i, &have) || have != want) return false;
        }
        gr->pin[v->slot] |= pinbit ? (PIN_ELEMS | PIN_LEN) : 0;
        return true;
    }
    }
}

static bool var_is_int(const grec *gr, const gvar *v)
{
    if (v->t != GV_FIELD) return true;
    uint8_t tk = ftype(gr, v->slot)->kind;
    return tk == QT_INT || tk == QT_DATE;
}

/* Make l's value equal `target` by setting one of its variables (tried in
 * a random order; pinned ones are skipped). Pins what it sets. */
static bool solve(grec *gr, const glin *l, q_val target, uint8_t pinbit)
{
    if (!l->n) return false;
    q_val cur[GLIN_MAX];
    for (int i = 0; i < l->n; i++)
        if (!var_get(gr, &l->v[i], &cur[i])) cur[i] = q_int(0);
    int start = (int)rng_below(&gr->r, l->n);
    for (int t = 0; t < l->n; t++) {
        int j = (start + t) % l->n;
        if (!l->coef[j]) continue;
        /* x_j = (target - k - sum_{i != j} coef_i x_i) / coef_j */
        q_val rest = l->k, term, need;
        bool ok = true;
        for (int i = 0; i < l->n && ok; i++) {
            if (i == j) continue;
            ok = q_mul(cur[i], q_int(l->coef[i]), &term) == Q_OK && q_add(rest, term, &rest) == Q_OK;
        }
        if (!ok || q_sub(target, rest, &need) != Q_OK || q_div(need, q_int(l->coef[j]), &need) != Q_OK) continue;
        if (var_is_int(gr, &l->v[j]) && need.d != 1) continue;
        if (var_set(gr, &l->v[j], need, pinbit)) return true;
    }
    return false;
}

static bool lin_value(grec *gr, const glin *l, q_val *out)
{
    q_val acc = l->k, x, term;
    for (int i = 0; i < l->n; i++) {
        if (!var_get(gr, &l->v[i], &x)) return false;
        if (q_mul(x, q_int(l->coef[i]), &term) != Q_OK || q_add(acc, term, &acc) != Q_OK) return false;
    }
    *out = acc;
    return true;
}

/* =====================================================================
 * Targets
 * ===================================================================== */

static q_val floor_q(q_val x) { return q_int(x.n >= 0 ? x.n / x.d : -((-x.n + x.d - 1) / x.d)); }

static bool apply_target(grec *gr, const gtarget *t, uint32_t variant)
{
    const q_program *p = gr->p;
    q_val v;
    switch (t->t) {
    case GT_LIN: {
        /* the form is lhs - rhs: aim at -step, 0, +step */
        q_val target = q_int(0);
        if (variant == 0) q_neg(t->step, &target);
        else if (variant == 2) target = t->step;
        return solve(gr, &t->a, target, PIN_VALUE);
    }
    case GT_SHARE: {
        if (variant == 3) return solve(gr, &t->b, q_int(0), PIN_VALUE); /* share(x, 0) = 0 */
        int64_t d;
        if (variant == 1 && t->step_int) {
            /* share exactly c: the denominator a multiple of c's */
            if (t->c.d > 40) return false;
            d = t->c.d * rng_range(&gr->r, 1, t->c.d <= 4 ? 6 : t->c.d <= 10 ? 2 : 1);
        } else {
            d = rng_range(&gr->r, 1, 15);
        }
        if (!solve(gr, &t->b, q_int(d), PIN_VALUE)) return false;
        q_val den;
        if (!lin_value(gr, &t->b, &den) || den.n <= 0) return false;
        q_val exact, num;
        if (q_mul(t->c, den, &exact) != Q_OK) return false;
        if (t->step_int) {
            q_val fl = floor_q(exact);
            bool whole = exact.d == 1;
            if (variant == 1) {
                if (!whole) return false;
                num = exact;
            } else if (variant == 0) {
                num = whole ? q_int(fl.n - 1) : fl;
            } else {
                num = q_int(fl.n + 1);
            }
        } else {
            num = exact;
            if (variant == 0) q_sub(exact, t->step, &num);
            else if (variant == 2) q_add(exact, t->step, &num);
        }
        return solve(gr, &t->a, num, PIN_VALUE);
    }
    case GT_ELEM: {
        glist *l = &gr->lists[t->slot];
        if (gr->pin[t->slot] & PIN_ELEMS) return false;
        if (!gr->present[t->slot] || l->n == 0) {
            if (gr->pin[t->slot] & PIN_LEN) return false;
            if (!list_resize(gr, t->slot, (uint32_t)rng_range(&gr->r, 1, 4))) return false;
        }
        const q_type *lt = ftype(gr, t->slot);
        uint32_t et = lt->elem;
        if (t->sub >= 0 && p->types[et].kind == QT_STRUCT) {
            const q_type *st = &p->types[et];
            et = QUY_NONE;
            for (uint32_t j = 0; j < st->count; j++) {
                const q_field *f = &p->fields[st->first + j];
                if ((f->slot < st->count ? f->slot : j) == (uint32_t)t->sub) et = f->type;
            }
            if (et == QUY_NONE) return false;
        }
        const q_type *ety = &p->types[et];
        if (ety->kind == QT_ENUM || ety->kind == QT_SCALE) {
            int64_t m = t->c.n + (int64_t)variant - 1;
            if (m < 0 || m >= (int64_t)ety->count) return false;
            v = q_int(m);
        } else if (ety->kind == QT_BOOL) {
            v = q_bool(variant == 1 ? t->c.n != 0 : t->c.n == 0);
        } else {
            v = t->c;
            if (variant == 0 && q_sub(t->c, t->step, &v) != Q_OK) return false;
            if (variant == 2 && q_add(t->c, t->step, &v) != Q_OK) return false;
        }
        uint32_t i = (uint32_t)rng_below(&gr->r, l->n);
        l->e[(size_t)i * list_stride(gr, t->slot) + (t->sub >= 0 ? (uint32_t)t->sub : 0)] = v;
        gr->pin[t->slot] |= PIN_ELEMS | PIN_LEN;
        return true;
    }
    case GT_BOOL:
        if (gr->pin[t->slot] & PIN_VALUE) return false;
        gr->val[t->slot] = q_bool(variant);
        gr->present[t->slot] = gr->emit[t->slot] = 1;
        gr->pin[t->slot] |= PIN_VALUE;
        return true;
    case GT_MEMBER:
        if (gr->pin[t->slot] & PIN_VALUE) return false;
        gr->val[t->slot] = q_int(variant);
        gr->present[t->slot] = gr->emit[t->slot] = 1;
        gr->pin[t->slot] |= PIN_VALUE;
        return true;
    case GT_OPTION: {
        const q_field *f = fld(gr, t->slot);
        if (gr->pin[t->slot]) return false;
        if (variant == 0) {
            if (f->flags & QF_DEFAULT) {
                gr->val[t->slot] = p->consts[f->deflt];
                gr->present[t->slot] = 1;
                gr->emit[t->slot] = 0;
            } else {
                gr->present[t->slot] = gr->emit[t->slot] = 0;
            }
        } else {
            const q_type *ty = ftype(gr, t->slot);
            if (ty->kind == QT_LIST) {
                if (!gr->present[t->slot] && !list_resize(gr, t->slot, (uint32_t)rng_range(&gr->r, 0, 5))) return false;
            } else if (!gr->present[t->slot] || !gr->emit[t->slot]) {
                if (ty->kind == QT_STRING) {
                    const char *name = prog_str(p, f->name);
                    if (!strcmp(name, "unit") || !strcmp(name, "head_of")) {
                        /* a reference: only to a record that exists */
                        if (!ref_for(gr, name)) return false;
                        gr->val[t->slot] = str_val(gr, ref_for(gr, name));
                    } else {
                        char b[64];
                        snprintf(b, sizeof b, "%s-1", name);
                        gr->val[t->slot] = str_val(gr, b);
                    }
                } else {
                    gr->val[t->slot] = rand_scalar(gr, f->type, t->slot, field_span(gr->g, t->slot));
                }
            }
            gr->present[t->slot] = gr->emit[t->slot] = 1;
        }
        gr->pin[t->slot] |= PIN_VALUE | PIN_LEN;
        return true;
    }
    case GT_LENGTH: {
        if (gr->pin[t->slot] & (PIN_LEN | PIN_ELEMS)) return false;
        uint32_t n = variant == 0 ? 0 : variant == 1 ? 1 : (uint32_t)rng_range(&gr->r, 3, 6);
        if (!list_resize(gr, t->slot, n)) return false;
        gr->pin[t->slot] |= PIN_LEN;
        return true;
    }
    case GT_STR: {
        if (gr->pin[t->slot] & PIN_VALUE) return false;
        gr->val[t->slot] = gstr(gr, q_val_str(t->c), q_val_len(t->c), variant ? "-khac" : "");
        gr->present[t->slot] = gr->emit[t->slot] = 1;
        gr->pin[t->slot] |= PIN_VALUE;
        return true;
    }
    default: return false;
    }
}

/* Repair the checks that are linear comparisons, on numbers not pinned. */
static void repair(grec *gr)
{
    const gkind *g = gr->g;
    for (int pass = 0; pass < 12; pass++) {
        bool changed = false;
        for (size_t i = 0; i < g->nchecks; i++) {
            q_val v;
            if (!lin_value(gr, &g->checks[i], &v)) continue;
            int c = q_cmp(v, q_int(0));
            uint8_t op = g->cop[i];
            bool ok = op == OP_EQ ? c == 0 : op == OP_NE ? c != 0 : op == OP_LT ? c < 0 : op == OP_LE ? c <= 0
                    : op == OP_GT ? c > 0 : c >= 0;
            if (ok) continue;
            /* the nearest satisfying value: the boundary, or one unit past it */
            q_val target = q_int(0);
            if (op == OP_LT) target = q_int(-1);
            else if (op == OP_GT || op == OP_NE) target = q_int(1);
            if (solve(gr, &g->checks[i], target, 0)) changed = true;
        }
        if (!changed) break;
    }
}

/* Every check holds and the VM rates the record without error. */
static bool valid(grec *gr)
{
    if (!materialise(gr)) return false;
    const q_program *p = gr->p;
    for (uint32_t c = gr->kd->first_check; c < gr->kd->first_check + gr->kd->nchecks; c++) {
        q_val v;
        if (vm_eval(p, gr->hooks, p->checks[c].entry, &gr->rec, &v) != VM_OK || v.n == 0) return false;
    }
    /* a required field the base left out (never: only optional ones) */
    for (uint32_t i = 0; i < gr->nf; i++) {
        const q_field *f = fld(gr, (uint16_t)i);
        if (!gr->present[i] && !(f->flags & (QF_OPTIONAL | QF_BATCH))) return false;
    }
    vm_result res;
    return vm_rate(p, gr->hooks, &gr->rec, &res, NULL) == VM_OK;
}

/* =====================================================================
 * JSON output
 * ===================================================================== */

/* An exact decimal (the value is terminating; at most 12 decimals). */
static void gen_decimal(strbuf *b, q_val x)
{
    char buf[64];
    if (x.d == 1) {
        snprintf(buf, sizeof buf, "%lld", (long long)x.n);
        strbuf_puts(b, buf);
        return;
    }
    int digits = 0;
    __int128 n = x.n, d = x.d, p10 = 1;
    while (digits < 12 && (p10 * 10) % d != 0) {
        p10 *= 10;
        digits++;
    }
    p10 *= 10;
    digits++;
    __int128 scaled = n * (p10 / d);
    bool neg = scaled < 0;
    if (neg) scaled = -scaled;
    long long ip = (long long)(scaled / p10);
    long long fp = (long long)(scaled % p10);
    snprintf(buf, sizeof buf, "%s%lld.%0*lld", neg ? "-" : "", ip, digits, fp);
    /* trim trailing zeros */
    size_t l = strlen(buf);
    while (l > 0 && buf[l - 1] == '0') buf[--l] = 0;
    if (l > 0 && buf[l - 1] == '.') buf[--l] = 0;
    strbuf_puts(b, buf);
}

static void gen_value(strbuf *b, const grec *gr, uint32_t t, q_val v)
{
    const q_program *p = gr->p;
    const q_type *ty = &p->types[t];
    char buf[32];
    switch (ty->kind) {
    case QT_INT: snprintf(buf, sizeof buf, "%lld", (long long)v.n); strbuf_puts(b, buf); break;
    case QT_DECIMAL: gen_decimal(b, v); break;
    case QT_PERCENT: {
        q_val x;
        q_mul(v, q_int(100), &x);
        gen_decimal(b, x);
        break;
    }
    case QT_BOOL: strbuf_puts(b, v.n ? "true" : "false"); break;
    case QT_DATE: {
        char d[16];
        q_format_date(v.n, d);
        strbuf_json_n(b, d, strlen(d));
        break;
    }
    case QT_STRING: strbuf_json_n(b, q_val_str(v), q_val_len(v)); break;
    case QT_ENUM:
    case QT_SCALE: {
        const char *m = v.n >= 0 && (uint64_t)v.n < ty->count ? prog_str(p, p->members[ty->first + (uint32_t)v.n].name) : "";
        strbuf_json_n(b, m, strlen(m));
        break;
    }
    default: strbuf_puts(b, "null"); break;
    }
}

static void gen_record(strbuf *b, const grec *gr)
{
    const q_program *p = gr->p;
    strbuf_reset(b);
    strbuf_puts(b, "{\"id\":");
    strbuf_json_n(b, gr->id, strlen(gr->id));
    strbuf_puts(b, ",\"kind\":");
    const char *kn = prog_str(p, gr->kd->name);
    strbuf_json_n(b, kn, strlen(kn));
    for (uint32_t i = 0; i < gr->nf; i++) {
        const q_field *f = fld(gr, (uint16_t)i);
        uint16_t slot = f->slot < gr->nf ? f->slot : (uint16_t)i;
        if (!gr->emit[slot]) continue;
        strbuf_puts(b, ",");
        const char *name = prog_str(p, f->name);
        strbuf_json_n(b, name, strlen(name));
        strbuf_puts(b, ":");
        const q_type *ty = &p->types[f->type];
        if (ty->kind != QT_LIST) {
            gen_value(b, gr, f->type, gr->val[slot]);
            continue;
        }
        const glist *l = &gr->lists[slot];
        const q_type *et = &p->types[ty->elem];
        uint32_t stride = list_stride(gr, slot);
        strbuf_puts(b, "[");
        for (uint32_t e = 0; e < l->n; e++) {
            if (e) strbuf_puts(b, ",");
            const q_val *ev = l->e + (size_t)e * stride;
            if (et->kind != QT_STRUCT) {
                gen_value(b, gr, ty->elem, *ev);
                continue;
            }
            strbuf_puts(b, "{");
            for (uint32_t j = 0; j < et->count; j++) {
                const q_field *sf = &p->fields[et->first + j];
                if (j) strbuf_puts(b, ",");
                const char *sn = prog_str(p, sf->name);
                strbuf_json_n(b, sn, strlen(sn));
                strbuf_puts(b, ":");
                gen_value(b, gr, sf->type, ev[sf->slot < et->count ? sf->slot : j]);
            }
            strbuf_puts(b, "}");
        }
        strbuf_puts(b, "]");
    }
    strbuf_puts(b, "}\n");
}

/* =====================================================================
 * --targets: what the generator aims at, for people
 * ===================================================================== */

static const char *op_text(uint8_t op)
{
    switch (op) {
    case OP_EQ: case OP_STREQ: return "=";
    case OP_NE: case OP_STRNE: return "!=";
    case OP_LT: return "<";
    case OP_LE: return "<=";
    case OP_GT: return ">";
    default: return ">=";
    }
}

static void print_lin(FILE *f, const q_program *p, uint32_t k, const glin *l, bool with_k)
{
    const q_kind *kd = &p->kinds[k];
    for (int i = 0; i < l->n; i++) {
        const char *name = prog_str(p, p->fields[kd->first_field + l->v[i].slot].name);
        int64_t c = l->coef[i];
        fprintf(f, "%s", i ? (c < 0 ? " - " : " + ") : (c < 0 ? "-" : ""));
        if (c != 1 && c != -1) fprintf(f, "%lld*", (long long)(c < 0 ? -c : c));
        if (l->v[i].t == GV_FIELD) fprintf(f, "%s", name);
        else if (l->v[i].t == GV_LEN) fprintf(f, "count(%s)", name);
        else fprintf(f, "count(%s where …)", name);
    }
    if (with_k && l->k.n) {
        char b[64];
        q_val a = l->k;
        bool neg = a.n < 0;
        if (neg) a.n = -a.n;
        q_format(a, false, b, sizeof b);
        fprintf(f, " %s %s", neg ? "-" : "+", b);
    }
}

static void print_targets(FILE *f, const q_program *p, const gkind *g)
{
    const q_kind *kd = &p->kinds[g->k];
    fprintf(f, "%s: %zu targets, %u variants\n", prog_str(p, kd->name), g->ntargets, g->nvariants);
    for (size_t i = 0; i < g->ntargets; i++) {
        const gtarget *t = &g->targets[i];
        const char *name = prog_str(p, p->fields[kd->first_field + t->slot].name);
        char c[64];
        fprintf(f, "  ");
        switch (t->t) {
        case GT_LIN: {
            /* a + k <op> 0  ->  a <op> -k */
            glin a = t->a;
            q_val rhs;
            q_neg(a.k, &rhs);
            a.k = q_int(0);
            print_lin(f, p, g->k, &a, false);
            /* one percent field against a constant: the constant as a percent */
            bool pct = a.n == 1 && a.coef[0] == 1 && a.v[0].t == GV_FIELD &&
                       p->types[p->fields[kd->first_field + a.v[0].slot].type].kind == QT_PERCENT;
            q_format(rhs, pct, c, sizeof c);
            fprintf(f, " %s %s   (below, at, above)\n", op_text(t->op), c);
            break;
        }
        case GT_SHARE:
            fprintf(f, "share(");
            print_lin(f, p, g->k, &t->a, true);
            fprintf(f, ", ");
            print_lin(f, p, g->k, &t->b, true);
            q_format(t->c, true, c, sizeof c);
            fprintf(f, ") %s %s   (below, at, above, denominator 0)\n", op_text(t->op), c);
            break;
        case GT_ELEM: {
            const q_type *lt = &p->types[p->fields[kd->first_field + t->slot].type];
            const q_type *et = &p->types[lt->elem];
            const char *sub = "";
            uint32_t ety = lt->elem;
            if (t->sub >= 0 && et->kind == QT_STRUCT) {
                for (uint32_t j = 0; j < et->count; j++) {
                    const q_field *sf = &p->fields[et->first + j];
                    if ((sf->slot < et->count ? sf->slot : j) == (uint32_t)t->sub) {
                        sub = prog_str(p, sf->name);
                        ety = sf->type;
                    }
                }
            }
            const q_type *vt = &p->types[ety];
            if ((vt->kind == QT_ENUM || vt->kind == QT_SCALE) && t->c.n >= 0 && (uint64_t)t->c.n < vt->count)
                snprintf(c, sizeof c, "%s", prog_str(p, p->members[vt->first + (uint32_t)t->c.n].name));
            else
                q_format(t->c, vt->kind == QT_PERCENT, c, sizeof c);
            fprintf(f, "%s[]%s%s %s %s   (an element below, at, above)\n", name, *sub ? "." : "", sub, op_text(t->op), c);
            break;
        }
        case GT_BOOL: fprintf(f, "%s   (false, true)\n", name); break;
        case GT_MEMBER: fprintf(f, "%s   (each of %u members)\n", name, t->nvariants); break;
        case GT_OPTION: fprintf(f, "%s   (absent, present)\n", name); break;
        case GT_LENGTH: fprintf(f, "%s   (0, 1, several elements)\n", name); break;
        case GT_STR: fprintf(f, "%s %s \"%.*s\"   (equal, different)\n", name, op_text(t->op), (int)q_val_len(t->c), q_val_str(t->c)); break;
        default: break;
        }
    }
}

/* =====================================================================
 * References between records
 * ===================================================================== */

static bool kind_has(const q_program *p, uint32_t k, const char *field)
{
    return prog_find_field(p, k, field, strlen(field)) != QUY_NONE;
}

/* Batch structure: a record refers only to records generated before it, so
 * every reference exists and no cycle forms. Kinds with `member_tiers`
 * are collectives; a kind with `subordinate_tiers` (a leader) heads an
 * earlier collective (`head_of`, 60 %); any other kind belongs to one
 * (`unit`, 70 %); collectives refer to nothing. A leader has no `unit`: a
 * head inside the collective it heads would wait for itself. */
static void choose_refs(grec *gr, const q_program *p, const gkind *gk, uint32_t ngk, unsigned long long i,
                        unsigned long long seed, const char *prefix)
{
    gr->unit_ref[0] = gr->head_ref[0] = 0;
    uint32_t k = gk[i % ngk].k;
    if (kind_has(p, k, "member_tiers")) return;
    bool head = kind_has(p, k, "subordinate_tiers");
    const char *field = head ? "head_of" : "unit";
    if (!kind_has(p, k, field)) return;
    rng r = {seed ^ ((i + 1) * 0xD1B54A32D192ED03ull)};
    rng_next(&r);
    if (!rng_pct(&r, head ? 60 : 70)) return;
    /* earlier records of collective kinds: position c in the round, indices c, c + ngk, ... < i */
    uint32_t cols[64], nc = 0;
    for (uint32_t c = 0; c < ngk && nc < 64; c++)
        if (kind_has(p, gk[c].k, "member_tiers") && c < i) cols[nc++] = c;
    if (!nc) return;
    uint32_t c = cols[rng_below(&r, nc)];
    unsigned long long count = (i - c + ngk - 1) / ngk; /* earlier records at position c */
    unsigned long long j = c + (unsigned long long)rng_below(&r, (int64_t)count) * ngk;
    snprintf(head ? gr->head_ref : gr->unit_ref, sizeof gr->unit_ref, "%.16s-%06llu", prefix, j + 1);
}

/* =====================================================================
 * The generator
 * ===================================================================== */

struct gen {
    const q_program *p;
    uint64_t seed;
    char prefix[17];
    gkind *gk;            /* the kinds generated, in order */
    uint32_t ngk;
    uint32_t *want;       /* kinds asked for (gen_add_kind); none = every rated kind */
    size_t nwant, capwant;
    bool prepared;
    grec gr;              /* the record being drawn */
    uint32_t maxf;
    uint64_t next;        /* index of the next record */
    uint64_t dropped;     /* records that lost their primary target to be valid */
    char error[512];
};

gen *gen_new(const q_program *p)
{
    gen *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->p = p;
    g->seed = 1;
    strcpy(g->prefix, "GEN");
    return g;
}

void gen_set_seed(gen *g, uint64_t seed) { g->seed = seed; }

int gen_set_prefix(gen *g, const char *prefix)
{
    if (strlen(prefix) > GEN_PREFIX_MAX) {
        snprintf(g->error, sizeof g->error, "the id prefix is at most %d bytes ('%.40s' has %zu)", GEN_PREFIX_MAX, prefix,
                 strlen(prefix));
        return -1;
    }
    strcpy(g->prefix, prefix);
    return 0;
}

int gen_add_kind(gen *g, const char *name)
{
    const q_program *p = g->p;
    uint32_t k = prog_find_kind(p, name, strlen(name));
    if (k == QUY_NONE || p->kinds[k].entry == QUY_NONE) {
        snprintf(g->error, sizeof g->error, "the ruleset rates no kind '%.100s'", name);
        return -1;
    }
    if (VEC_RESERVE(g->want, g->nwant, g->capwant, 1) != 0) {
        snprintf(g->error, sizeof g->error, "out of memory");
        return -1;
    }
    g->want[g->nwant++] = k;
    return 0;
}

static bool wanted(const gen *g, uint32_t k)
{
    if (!g->nwant) return true;
    for (size_t i = 0; i < g->nwant; i++)
        if (g->want[i] == k) return true;
    return false;
}

int gen_prepare(gen *g)
{
    const q_program *p = g->p;
    if (g->prepared) return 0;
    g->gk = calloc(p->nkinds ? p->nkinds : 1, sizeof *g->gk);
    if (!g->gk) goto oom;
    for (uint32_t k = 0; k < p->nkinds; k++) {
        if (p->kinds[k].entry == QUY_NONE || !wanted(g, k)) continue;
        if (!gen_scan(p, k, &g->gk[g->ngk])) goto oom;
        g->ngk++;
    }
    if (!g->ngk) {
        snprintf(g->error, sizeof g->error, "the ruleset rates no kind");
        return -2;
    }
    g->maxf = 1;
    for (uint32_t k = 0; k < p->nkinds; k++)
        if (p->kinds[k].nfields > g->maxf) g->maxf = p->kinds[k].nfields;
    grec *gr = &g->gr;
    gr->p = p;
    gr->val = calloc(g->maxf, sizeof *gr->val);
    gr->present = calloc(g->maxf, 1);
    gr->emit = calloc(g->maxf, 1);
    gr->pin = calloc(g->maxf, 1);
    gr->lists = calloc(g->maxf, sizeof *gr->lists);
    gr->hooks = hook_session_new(p, NULL);
    if (!gr->hooks || !gr->val || !gr->present || !gr->emit || !gr->pin || !gr->lists) goto oom;
    g->prepared = true;
    return 0;
oom:
    snprintf(g->error, sizeof g->error, "out of memory");
    return -1;
}

int gen_next(gen *g, strbuf *out)
{
    if (!g->prepared) {
        int rc = gen_prepare(g);
        if (rc == -2) return 1;
        if (rc) return -1;
    }
    const q_program *p = g->p;
    grec *gr = &g->gr;
    uint64_t i = g->next, seed = g->seed;
    gkind *k = &g->gk[i % g->ngk];
    size_t nth = (size_t)(i / g->ngk); /* index among the records of this kind */
    gr->g = k;
    gr->kd = &p->kinds[k->k];
    gr->nf = gr->kd->nfields;
    snprintf(gr->id, sizeof gr->id, "%s-%06llu", g->prefix, (unsigned long long)i + 1);
    choose_refs(gr, p, g->gk, g->ngk, i, seed, g->prefix);
    /* the primary target variant: the kind's variants in turn */
    uint32_t pv = k->nvariants ? (uint32_t)(nth % k->nvariants) : 0, pt = 0;
    while (pt < k->ntargets && pv >= k->targets[pt].nvariants) pv -= k->targets[pt++].nvariants;
    bool ok = false;
    for (int attempt = 0; attempt < 40 && !ok; attempt++) {
        gr->r.s = seed ^ ((i + 1) * 0x9E3779B97F4A7C15ull) ^ ((uint64_t)attempt << 48);
        rng_next(&gr->r);
        for (gstr_block *b = gr->strs; b; b = b->next) b->used = 0;
        memset(gr->pin, 0, gr->nf);
        base_record(gr, nth);
        /* targets: the primary (dropped after 20 attempts), a secondary
         * one every other record (dropped after 10) */
        if (attempt < 20 && pt < k->ntargets) apply_target(gr, &k->targets[pt], pv);
        if (attempt < 10 && (i & 1) && k->ntargets) {
            uint32_t st = (uint32_t)rng_below(&gr->r, (int64_t)k->ntargets);
            apply_target(gr, &k->targets[st], (uint32_t)rng_below(&gr->r, k->targets[st].nvariants));
        }
        repair(gr);
        ok = valid(gr);
        if (!ok && attempt == 19) g->dropped++;
    }
    if (!ok) {
        snprintf(g->error, sizeof g->error,
                 "cannot generate a valid record of kind '%.100s' (record %llu): the checks of the ruleset could not be "
                 "satisfied",
                 prog_str(p, gr->kd->name), (unsigned long long)i + 1);
        return 1;
    }
    gen_record(out, gr);
    g->next++;
    if (out->failed || gr->oom) {
        snprintf(g->error, sizeof g->error, "out of memory");
        return -1;
    }
    return 0;
}

const char *gen_error(const gen *g) { return g->error; }
uint32_t gen_kind_count(const gen *g) { return g->ngk; }
uint64_t gen_dropped(const gen *g) { return g->dropped; }

uint32_t gen_target_count(const gen *g)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < g->ngk; i++) n += (uint32_t)g->gk[i].ntargets;
    return n;
}

uint32_t gen_variant_count(const gen *g)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < g->ngk; i++) n += g->gk[i].nvariants;
    return n;
}

void gen_print_targets(const gen *g, FILE *f)
{
    for (uint32_t i = 0; i < g->ngk; i++) print_targets(f, g->p, &g->gk[i]);
}

void gen_free(gen *g)
{
    if (!g) return;
    grec *gr = &g->gr;
    for (uint32_t i = 0; i < g->maxf && gr->lists; i++) free(gr->lists[i].e);
    free(gr->lists);
    free(gr->val);
    free(gr->present);
    free(gr->emit);
    free(gr->pin);
    free(gr->elems);
    for (gstr_block *k = gr->strs, *nx; k; k = nx) {
        nx = k->next;
        free(k);
    }
    hook_session_free(gr->hooks);
    for (uint32_t i = 0; i < g->ngk; i++) gen_kind_free(&g->gk[i]);
    free(g->gk);
    free(g->want);
    free(g);
}
