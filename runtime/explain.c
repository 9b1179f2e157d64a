/*
 * explain.c — the explanation model: built once from a VM trace (see
 * explain.h), and the formatters of explained values.
 */
#include "explain.h"

#include <stdlib.h>
#include <string.h>

#include "vec.h"

/* =====================================================================
 * Values
 * ===================================================================== */

/* A number: q_format's longest text (an int128 quotient, four decimals and
 * the exact fraction) is under 100 bytes. */
static void put_number(q_val v, bool pct, strbuf *out)
{
    char b[128];
    q_format(v, pct, b, sizeof b);
    strbuf_puts(out, b);
}

void explain_scalar(const q_program *p, uint32_t type, q_val v, strbuf *out)
{
    if (type >= p->ntypes) {
        put_number(v, false, out);
        return;
    }
    const q_type *t = &p->types[type];
    switch (t->kind) {
    case QT_INT:
    case QT_DECIMAL: put_number(v, false, out); return;
    case QT_PERCENT: put_number(v, true, out); return;
    case QT_BOOL: strbuf_puts(out, v.n ? "có" : "không"); return;
    case QT_DATE: {
        char d[16];
        q_format_date(v.n, d);
        strbuf_puts(out, d);
        return;
    }
    case QT_STRING:
        strbuf_putc(out, '"');
        strbuf_put(out, q_val_str(v), q_val_len(v));
        strbuf_putc(out, '"');
        return;
    case QT_ENUM:
    case QT_SCALE: {
        if (v.n < 0 || (uint64_t)v.n >= t->count) {
            strbuf_putc(out, '?');
            return;
        }
        const q_member *m = &p->members[t->first + (uint32_t)v.n];
        const char *label = prog_str(p, m->label);
        strbuf_puts(out, *label ? label : prog_str(p, m->name));
        return;
    }
    default: strbuf_puts(out, "…"); return;
    }
}

void explain_value(const q_program *p, uint32_t kind, uint32_t slot, q_val v, const q_record *rec, strbuf *out)
{
    const q_field *f = &p->fields[p->kinds[kind].first_field + slot];
    const q_type *t = &p->types[f->type];
    if (t->kind != QT_LIST) {
        explain_scalar(p, f->type, v, out);
        return;
    }
    const q_type *et = &p->types[t->elem];
    if (et->kind == QT_STRUCT) {
        strbuf_printf(out, "%lld mục", (long long)v.d);
        return;
    }
    strbuf_putc(out, '[');
    for (int64_t i = 0; i < v.d && rec && (uint64_t)(v.n + i) < rec->nelems; i++) {
        if (i) strbuf_puts(out, ", ");
        explain_scalar(p, t->elem, rec->elems[v.n + i], out);
    }
    strbuf_putc(out, ']');
}

void explain_share(const ex_read *r, strbuf *out)
{
    if (r->slot != 0xFFFF && r->idx != 0xFFFFFFFF) strbuf_printf(out, "%u/%u = ", r->slot, r->idx);
    put_number(r->val, true, out);
}

void explain_agg(const q_program *p, const ex_read *r, strbuf *out)
{
    if (r->idx < p->ntypes && p->types[r->idx].kind != QT_LIST && p->types[r->idx].kind != QT_STRUCT)
        explain_scalar(p, r->idx, r->val, out);
    else
        put_number(r->val, false, out);
}

const char *explain_field_name(const explanation *x, uint16_t slot)
{
    const q_program *p = x->p;
    return prog_str(p, p->fields[p->kinds[x->rec->kind].first_field + slot].name);
}

const char *explain_field_label(const explanation *x, uint16_t slot)
{
    const q_program *p = x->p;
    const q_field *f = &p->fields[p->kinds[x->rec->kind].first_field + slot];
    const char *l = prog_str(p, f->label);
    return *l ? l : prog_str(p, f->name);
}

/* =====================================================================
 * The model
 * ===================================================================== */

explanation *explain_new(void) { return calloc(1, sizeof(explanation)); }

void explain_clear(explanation *x)
{
    free(x->steps);
    free(x->rules);
    free(x->clauses);
    free(x->reads);
    free(x->adjusts);
    free(x->flags);
    free(x->ev);
    memset(x, 0, sizeof *x);
}

void explain_free(explanation *x)
{
    if (!x) return;
    explain_clear(x);
    free(x);
}

static int add_step(explanation *x, uint8_t type, size_t index)
{
    if (VEC_RESERVE(x->steps, x->nsteps, x->capsteps, 1) != 0) return -1;
    x->steps[x->nsteps++] = (ex_step){type, (uint32_t)index};
    return 0;
}

/* The value of a read event, or 0 when it shows nothing (an adjust step's hook). */
static int add_read(explanation *x, const vm_event *e)
{
    const q_program *p = x->p;
    if (e->type == EV_HOOK && (e->idx >= p->nhooks || p->hooks[e->idx].result == QUY_NONE)) return 0;
    if (VEC_RESERVE(x->reads, x->nreads, x->capreads, 1) != 0) return -1;
    ex_read *r = &x->reads[x->nreads++];
    *r = (ex_read){e->type, e->result, e->slot, e->idx, e->val, NULL};
    if (e->type == EV_HOOK && !e->result) { /* failed: the event carries the reason */
        r->why = e->note ? e->note : "";
        r->val = q_int(0);
    }
    return 0;
}

static int build(explanation *x, const vm_trace *tr)
{
    const q_program *p = x->p;
    uint32_t read0 = 0;   /* first read not yet attributed */
    size_t clause0 = 0;   /* first clause of the rule being tried */
    int exc = -1;         /* the pending exception's value */
    for (uint32_t i = 0; tr && i < tr->n; i++) {
        const vm_event *e = &tr->ev[i];
        switch (e->type) {
        case EV_READ:
        case EV_SHARE:
        case EV_AGG:
        case EV_HOOK:
            if (add_read(x, e) != 0) return -1;
            break;
        case EV_EXC: exc = e->result; break;
        case EV_CLAUSE:
        case EV_SKIP:
            if (VEC_RESERVE(x->clauses, x->nclauses, x->capclauses, 1) != 0) return -1;
            x->clauses[x->nclauses++] = (ex_clause){e->idx, e->type == EV_SKIP ? -1 : (int8_t)(e->result != 0),
                                                    (int8_t)exc, e->slot, read0, (uint32_t)x->nreads - read0};
            exc = -1;
            read0 = (uint32_t)x->nreads;
            break;
        case EV_RULE:
            if (VEC_RESERVE(x->rules, x->nrules, x->caprules, 1) != 0) return -1;
            x->rules[x->nrules] = (ex_rule){e->idx, e->result != 0, (uint32_t)clause0, (uint32_t)(x->nclauses - clause0)};
            if (add_step(x, EX_RULE, x->nrules++) != 0) return -1;
            clause0 = x->nclauses;
            x->nreads = read0; /* reads after the last clause belong to nothing */
            break;
        case EV_ADJUST: {
            if (VEC_RESERVE(x->adjusts, x->nadjusts, x->capadjusts, 1) != 0) return -1;
            uint32_t flag = e->idx < p->nadjusts && p->adjusts[e->idx].flag < p->nflagdefs ? p->adjusts[e->idx].flag
                                                                                            : QUY_NONE;
            x->adjusts[x->nadjusts] = (ex_adjust){e->idx, flag, (uint8_t)e->slot, e->result,
                                                  e->note ? e->note : "", read0,
                                                  (uint32_t)x->nreads - read0};
            if (add_step(x, EX_ADJUST, x->nadjusts++) != 0) return -1;
            read0 = (uint32_t)x->nreads;
            break;
        }
        case EV_FLAG:
            if (VEC_RESERVE(x->flags, x->nflags, x->capflags, 1) != 0) return -1;
            x->flags[x->nflags] = (ex_flag){e->idx, read0, (uint32_t)x->nreads - read0};
            if (add_step(x, EX_FLAG, x->nflags++) != 0) return -1;
            read0 = (uint32_t)x->nreads;
            break;
        default: break;
        }
    }
    return 0;
}

int explain_build(explanation *x, const q_program *p, const q_record *rec, const vm_result *res, const vm_trace *tr)
{
    x->p = p;
    x->rec = rec;
    x->decided_by = res ? res->rule : QUY_NONE;
    x->truncated = tr && tr->truncated;
    x->failed = false;
    x->nsteps = x->nrules = x->nclauses = x->nreads = x->nadjusts = x->nflags = 0;
    if (build(x, tr) != 0) {
        x->failed = true;
        return -1;
    }
    return 0;
}

int explain_rate(explanation *x, const q_program *p, struct hook_session *hs, const q_record *rec, vm_result *res)
{
    if (!x->ev && !(x->ev = malloc(QUY_TRACE_CAP * sizeof *x->ev))) {
        x->failed = true;
        return -1;
    }
    vm_trace tr = {.ev = x->ev, .cap = QUY_TRACE_CAP};
    vm_result own;
    if (!res) res = &own;
    int rc = vm_rate(p, hs, rec, res, &tr);
    if (explain_build(x, p, rec, res, &tr) != 0) return -1;
    return rc;
}

const ex_rule *explain_find_rule(const explanation *x, uint32_t r)
{
    for (size_t i = 0; i < x->nrules; i++)
        if (x->rules[i].rule == r) return &x->rules[i];
    return NULL;
}
