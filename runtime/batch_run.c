/*
 * batch_run.c — the batch's steps once every record is read (batch_run):
 * roll-ups filled from the children's final tiers, quotas per group, and
 * the order they run in (a topological sort of records and groups; a cycle
 * rejects the records in it). The data: batch_int.h; the model: batch.c.
 */
#include <stdlib.h>
#include <string.h>

#include "batch_int.h"

/* ---------------------------------------------------------------------
 * Roll-ups
 * ------------------------------------------------------------------- */

static int build_children(batch *b)
{
    size_t nn = b->nnames;
    b->child_first = calloc(nn + 1, sizeof *b->child_first);
    OOM_IF(!b->child_first, return -1);
    size_t total = 0;
    for (size_t i = 0; i < b->n; i++)
        if (b->items[i].status == BATCH_RATED && b->items[i].unit != QUY_NONE) {
            b->child_first[b->items[i].unit + 1]++;
            total++;
        }
    for (size_t i = 0; i < nn; i++) b->child_first[i + 1] += b->child_first[i];
    b->child = malloc((total ? total : 1) * sizeof *b->child);
    uint32_t *fill = calloc(nn ? nn : 1, sizeof *fill);
    OOM_IF(!b->child || !fill, free(fill); return -1);
    for (size_t i = 0; i < b->n; i++) {
        const b_item *it = &b->items[i];
        if (it->status != BATCH_RATED || it->unit == QUY_NONE) continue;
        b->child[b->child_first[it->unit] + fill[it->unit]++] = (uint32_t)i;
    }
    free(fill);
    return 0;
}

uint32_t bi_nchildren(const batch *b, uint32_t name)
{
    return name == QUY_NONE || !b->child_first ? 0 : b->child_first[name + 1] - b->child_first[name];
}

/* Fill the absent computed fields of a waiting record from its children's
 * final tiers (records not rated — rejected, not_rated, deferred — have no
 * tier and are left out). No child at all: the field stays absent. NULL
 * when out of memory (rec is kept). */
static q_record *fill_rollups(batch *b, b_item *it, q_record *rec)
{
    const b_kslots *ks = &b->ks[rec->kind];
    uint32_t slots[2] = {ks->member_tiers, ks->subordinate_tiers};
    uint32_t of[2] = {it->name, it->head_of};
    uint32_t add = 0;
    for (int i = 0; i < 2; i++)
        if (slots[i] != QUY_NONE && !rec->present[slots[i]]) add += bi_nchildren(b, of[i]);
    uint32_t nf = b->p->kinds[rec->kind].nfields;
    q_record tmp = *rec;
    tmp.slots = malloc(nf * sizeof *tmp.slots);
    tmp.present = malloc(nf ? nf : 1);
    tmp.elems = malloc(((size_t)rec->nelems + add + 1) * sizeof *tmp.elems);
    if (!tmp.slots || !tmp.present || !tmp.elems) {
        free(tmp.slots);
        free(tmp.present);
        free(tmp.elems);
        b->oom = true;
        return NULL;
    }
    memcpy(tmp.slots, rec->slots, nf * sizeof *tmp.slots);
    memcpy(tmp.present, rec->present, nf);
    if (rec->nelems) memcpy(tmp.elems, rec->elems, rec->nelems * sizeof *tmp.elems);
    tmp.nelems = rec->nelems;
    for (int i = 0; i < 2; i++) {
        if (slots[i] == QUY_NONE || rec->present[slots[i]]) continue;
        it->rollups |= (uint8_t)(1u << i);
        uint32_t nc = bi_nchildren(b, of[i]);
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
    OOM_IF(!c, return NULL);
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
    OOM_IF(!G->runs || !cand, free(cand); return);
    uint32_t key0 = 0;
    for (uint32_t q = 0; q < p->nquotas; q++) {
        const q_quota *Q = &p->quotas[q];
        batch_quota_run *run = &G->runs[q];
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
    GROW(g->e, g->n, g->cap, return);
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

/* Each group's members (rated records), in input order, into b->gmem. */
static int group_members(batch *b)
{
    size_t N = b->n, G = b->ngroups;
    uint32_t *gfill = calloc(G + 1, sizeof *gfill);
    OOM_IF(!gfill, return -1);
    for (size_t i = 0; i < N; i++)
        if (b->items[i].status == BATCH_RATED && b->items[i].group != QUY_NONE) b->groups[b->items[i].group].n++;
    uint32_t acc = 0;
    for (size_t g = 0; g < G; g++) {
        b->groups[g].first = acc;
        acc += b->groups[g].n;
    }
    b->gmem = malloc((acc ? acc : 1) * sizeof *b->gmem);
    OOM_IF(!b->gmem, free(gfill); return -1);
    for (size_t i = 0; i < N; i++) {
        const b_item *it = &b->items[i];
        if (it->status == BATCH_RATED && it->group != QUY_NONE)
            b->gmem[b->groups[it->group].first + gfill[it->group]++] = (uint32_t)i;
    }
    free(gfill);
    return 0;
}

/* The edges into record node w: its group waits for it; it waits for the
 * records its roll-ups read and for those its head_of/unit caps read. */
static void record_edges(batch *b, graph *gr, uint32_t w)
{
    const q_program *p = b->p;
    uint32_t W = gr->nwait, i = gr->wait[w];
    b_item *it = &b->items[i];
    if (it->status != BATCH_RATED) return;
    if (it->group != QUY_NONE) add_edge(b, gr, w, W + it->group);
    const q_record *rec = b->recs[it->extra];
    const b_kslots *ks = &b->ks[it->kind];
    uint32_t of[2] = {it->name, it->head_of};
    uint32_t sl[2] = {ks->member_tiers, ks->subordinate_tiers};
    for (int r = 0; r < 2; r++) {
        if (it->state != B_WAITING || sl[r] == QUY_NONE || rec->present[sl[r]] || of[r] == QUY_NONE) continue;
        for (uint32_t c = 0; c < bi_nchildren(b, of[r]); c++) {
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
            add_edge(b, gr, same ? item_node(gr, ch) : final_node(b, gr, ch), w);
        }
    }
    for (uint32_t c = 0; c < p->ncaps; c++) {
        const q_cap *cap = &p->caps[c];
        if (cap->kind != it->kind || (cap->bound != QCAP_HEAD_OF && cap->bound != QCAP_UNIT)) continue;
        uint32_t ref = cap->bound == QCAP_HEAD_OF ? it->head_of : it->unit;
        if (ref == QUY_NONE) continue; /* no reference: the cap has nothing to compare with */
        uint32_t t = b->nm[ref].item;
        if (t == QUY_NONE && b->single) continue;
        if (t == QUY_NONE) {
            const char *field = cap->bound == QCAP_HEAD_OF ? "head_of" : "unit";
            bi_reject(b, it, "dangling_ref", field,
                   "'%s' của '%s' là '%s', nhưng không có bản ghi '%s' trong lô: giới hạn \"%s\" (%s) cần xếp loại "
                   "của tập thể đó (record '%s' refers to '%s', which is not in the batch)",
                   field, name_str(b, it->name), name_str(b, ref), name_str(b, ref), prog_str(p, cap->text),
                   prog_str(p, cap->cite), name_str(b, it->name), name_str(b, ref));
            break;
        }
        if (t != i) add_edge(b, gr, final_node(b, gr, t), w);
    }
}

/* Nodes (the records with something left to do, then the groups) and edges. */
static int build_graph(batch *b, graph *gr)
{
    size_t N = b->n;
    for (size_t i = 0; i < N; i++) gr->nwait += is_node(b, &b->items[i]);
    gr->wait = malloc((gr->nwait ? gr->nwait : 1) * sizeof *gr->wait);
    OOM_IF(!gr->wait, return -1);
    for (size_t i = 0, w = 0; i < N; i++)
        if (is_node(b, &b->items[i])) gr->wait[w++] = (uint32_t)i;
    size_t NN = gr->nwait + b->ngroups;
    gr->stamp = malloc((NN ? NN : 1) * sizeof *gr->stamp);
    OOM_IF(!gr->stamp, return -1);
    for (size_t i = 0; i < NN; i++) gr->stamp[i] = UINT32_MAX;
    for (uint32_t w = 0; w < gr->nwait && !b->oom; w++) record_edges(b, gr, w);
    return b->oom ? -1 : 0;
}

/* Node v's turn: a record is rated (roll-ups filled) and gets its late
 * caps; a group gets its quotas. */
static void visit(batch *b, const graph *gr, uint32_t v)
{
    uint32_t W = gr->nwait;
    if (v >= W) {
        if (!b->single) apply_quotas(b, v - W);
        return;
    }
    b_item *it = &b->items[gr->wait[v]];
    if (it->status == BATCH_RATED && it->state == B_WAITING) {
        q_record *rec = fill_rollups(b, it, b->recs[it->extra]);
        if (!rec) return;
        b->recs[it->extra] = rec;
        bi_rate_item(b, it, rec, NULL);
        it->state = B_DONE;
    }
    if (it->status == BATCH_RATED && it->extra != QUY_NONE && b->recs[it->extra]) {
        if (b->ks[it->kind].ref_caps) bi_apply_caps(b, b->hooks, it, b->recs[it->extra], true);
        if (!bi_keep_item(b, gr->wait[v])) {
            rec_free(b->recs[it->extra]);
            b->recs[it->extra] = NULL;
            it->extra = QUY_NONE;
        }
    }
}

/* Kahn's algorithm over the graph: visits every node not on a cycle,
 * marking it in done[]. */
static int visit_in_order(batch *b, const graph *gr, uint8_t *done)
{
    size_t NN = gr->nwait + b->ngroups;
    uint32_t *indeg = calloc(NN ? NN : 1, sizeof *indeg), *first = calloc(NN + 1, sizeof *first);
    uint32_t *adj = malloc((gr->n ? gr->n : 1) * sizeof *adj), *queue = malloc((NN ? NN : 1) * sizeof *queue);
    uint32_t *fill = calloc(NN ? NN : 1, sizeof *fill);
    int rc = -1;
    if (!indeg || !first || !adj || !queue || !fill) {
        b->oom = true;
        goto out;
    }
    for (size_t i = 0; i < gr->n; i++) {
        indeg[gr->e[i].to]++;
        first[gr->e[i].from + 1]++;
    }
    for (size_t i = 0; i < NN; i++) first[i + 1] += first[i];
    for (size_t i = 0; i < gr->n; i++) adj[first[gr->e[i].from] + fill[gr->e[i].from]++] = gr->e[i].to;
    size_t qh = 0, qt = 0;
    for (size_t i = 0; i < NN; i++)
        if (!indeg[i]) queue[qt++] = (uint32_t)i;
    while (qh < qt && !b->oom) {
        uint32_t v = queue[qh++];
        done[v] = 1;
        visit(b, gr, v);
        for (uint32_t j = first[v]; j < first[v + 1]; j++)
            if (--indeg[adj[j]] == 0) queue[qt++] = adj[j];
    }
    rc = b->oom ? -1 : 0;
out:
    free(indeg);
    free(first);
    free(adj);
    free(queue);
    free(fill);
    return rc;
}

/* Whatever is left waits, directly or not, on a cycle: its records are
 * rejected naming the cycle, its groups counted without quotas. */
static int settle_cycles(batch *b, const graph *gr, const uint8_t *done)
{
    const q_program *p = b->p;
    uint32_t W = gr->nwait;
    for (uint32_t w = 0; w < W; w++) {
        b_item *it = &b->items[gr->wait[w]];
        if (done[w] || it->status != BATCH_RATED) continue;
        char cyc[400];
        describe_cycle(b, gr, done, w, cyc, sizeof cyc);
        bi_reject(b, it, "cycle", "",
               "phụ thuộc vòng, không xác định được thứ tự xếp loại: %s (a cycle of references: each waits for the "
               "next one's tier; check unit / head_of and the quota groups)",
               cyc);
    }
    for (size_t g = 0; g < b->ngroups; g++) {
        b_group *Gp = &b->groups[g];
        if (done[W + g] || Gp->runs) continue;
        Gp->runs = calloc(p->nquotas ? p->nquotas : 1, sizeof *Gp->runs);
        OOM_IF(!Gp->runs, return -1);
        for (uint32_t q = 0; q < p->nquotas; q++) Gp->runs[q].raw = q_int(0);
        for (uint32_t i = 0; i < Gp->n; i++) {
            const b_item *it = &b->items[b->gmem[Gp->first + i]];
            if (it->status != BATCH_RATED) continue;
            if (it->eligible < QO__COUNT) Gp->count_elig[it->eligible]++;
            if (it->tier < QO__COUNT) Gp->count_final[it->tier]++;
        }
    }
    return b->oom ? -1 : 0;
}

int batch_run(batch *b)
{
    free(b->seen); /* reading is over */
    b->seen = NULL;
    b->nseen = b->capseen = 0;
    if (b->oom || build_children(b) != 0 || group_members(b) != 0) return -1;
    graph gr = {0};
    uint8_t *done = NULL;
    if (build_graph(b, &gr) == 0) {
        done = calloc(gr.nwait + b->ngroups + 1, 1);
        OOM_IF(!done, (void)0);
    }
    if (done && visit_in_order(b, &gr, done) == 0) settle_cycles(b, &gr, done);
    free(done);
    free(gr.e);
    free(gr.stamp);
    free(gr.wait);
    return b->oom ? -1 : 0;
}

