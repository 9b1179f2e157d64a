/*
 * questions.c — the prover's questions over every valid record
 * (prove/, prefix prove_). See prove.h.
 *
 * For each kind the solver holds the record's domains, its declared
 * checks, "the VM does not stop with an error" and "no hook is called";
 * each question then asks for a model of one more condition. A model is
 * written as a record and rated by the VM before it is reported.
 */
#include "prove.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../runtime/strbuf.h"
#include "sym.h"
#include "witness.h"

typedef struct ask {
    sym_ctx *c;
    Z3_solver s;
    const prove_opts *o;
    prove_report *r;
    sym_kind *a, *b; /* b: NULL for one program */
    unsigned nwit;
} ask;

static char *dupf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *dupf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = ast_xmalloc((size_t)(n < 0 ? 0 : n) + 1);
    vsnprintf(s, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return s;
}

static void note(prove_report *r, char *s)
{
    for (size_t i = 0; i < r->nnotes; i++)
        if (strcmp(r->notes[i], s) == 0) {
            free(s);
            return;
        }
    if (VEC_RESERVE(r->notes, r->nnotes, r->capnotes, 1) != 0) {
        free(s);
        ast_bail("out of memory");
    }
    r->notes[r->nnotes++] = s;
}

static prove_finding *add(prove_report *r, uint8_t what, uint32_t kind)
{
    if (VEC_RESERVE(r->f, r->nf, r->capf, 1) != 0) ast_bail("out of memory");
    prove_finding *f = &r->f[r->nf++];
    memset(f, 0, sizeof *f);
    f->what = what;
    f->kind = kind;
    f->rule = f->clause = f->flag = f->rule2 = QUY_NONE;
    return f;
}

static void fail(prove_report *r, prove_status st, char *msg)
{
    if (r->error) {
        free(msg);
        return;
    }
    r->status = st;
    r->error = msg;
}

static Z3_ast is_outcome(sym_ctx *c, Z3_ast t, unsigned o) { return Z3_mk_eq(c->z, t, sym_num(c, o, 1)); }

/* Every decimal and percent field a multiple of 1/scale. */
static void on_grid(sym_ctx *c, Z3_solver s, int64_t scale)
{
    for (size_t i = 0; i < c->nvars; i++) {
        sym_var *v = c->vars[i];
        if (v->val && (v->tk == QT_DECIMAL || v->tk == QT_PERCENT))
            Z3_solver_assert(c->z, s, Z3_mk_is_int(c->z, Z3_mk_mul(c->z, 2, (Z3_ast[]){v->val, sym_num(c, scale, 1)})));
    }
}

/* The model gave a number no record can hold (1/3): solve again on a
 * decimal grid, 10^-8 first (short numbers, within the witness's shape),
 * then 10^-18 alone. A record's decimals and percents are multiples of
 * 10^-18 (at most 18 fraction digits, 16 for a percent: runtime/record.c
 * "too_precise"), so no model there is no record (with 10^-8 only, a rule
 * that needs 10^-10 was never reached, silently). Runs inside query's
 * second push. The model, inc_ref'd, or NULL with *res not true. */
static Z3_model decimal_model(ask *q, Z3_lbool *res)
{
    sym_ctx *c = q->c;
    on_grid(c, q->s, 100000000);
    *res = Z3_solver_check(c->z, q->s);
    if (*res != Z3_L_TRUE) {
        Z3_solver_pop(c->z, q->s, 1); /* the witness's shape off */
        Z3_solver_push(c->z, q->s);
        on_grid(c, q->s, 1000000000000000000);
        *res = Z3_solver_check(c->z, q->s);
    }
    if (*res != Z3_L_TRUE) return NULL;
    Z3_model m = Z3_solver_get_model(c->z, q->s);
    Z3_model_inc_ref(c->z, m);
    return m;
}

/* Is `cond` satisfiable (with the kind's base constraints)? On sat, and
 * when `w` is not NULL, writes the VM-confirmed witness. */
static Z3_lbool query(ask *q, Z3_ast cond, char **w)
{
    sym_ctx *c = q->c;
    q->r->queries++;
    Z3_solver_push(c->z, q->s);
    Z3_solver_assert(c->z, q->s, cond);
    Z3_lbool res = Z3_solver_check(c->z, q->s);
    if (res == Z3_L_TRUE && w) {
        /* a small witness reads better: try lists of at most 6 elements of
         * each value and numbers within ±1000 first (only the witness's
         * shape, not the answer, depends on this) */
        Z3_solver_push(c->z, q->s);
        for (size_t i = 0; i < c->nvars; i++) {
            sym_var *v = c->vars[i];
            for (uint32_t e = 0; v->cnt && e < v->ncnt; e++)
                Z3_solver_assert(c->z, q->s, Z3_mk_le(c->z, v->cnt[e], sym_num(c, 6, 1)));
            if (v->year) { /* a period near today's reads better than year 0 */
                Z3_solver_assert(c->z, q->s, Z3_mk_ge(c->z, v->year, Z3_mk_int(c->z, 2020, Z3_mk_int_sort(c->z))));
                Z3_solver_assert(c->z, q->s, Z3_mk_le(c->z, v->year, Z3_mk_int(c->z, 2030, Z3_mk_int_sort(c->z))));
            } else if (v->val && v->tk != QT_BOOL && v->tk != QT_DATE && v->tk != QT_ENUM && v->tk != QT_SCALE) {
                Z3_solver_assert(c->z, q->s, Z3_mk_le(c->z, v->val, sym_num(c, 1000, 1)));
                Z3_solver_assert(c->z, q->s, Z3_mk_ge(c->z, v->val, sym_num(c, -1000, 1)));
            }
        }
        if (Z3_solver_check(c->z, q->s) != Z3_L_TRUE) {
            Z3_solver_pop(c->z, q->s, 1);
            Z3_solver_check(c->z, q->s);
            Z3_solver_push(c->z, q->s);
        }
        Z3_model m = Z3_solver_get_model(c->z, q->s);
        Z3_model_inc_ref(c->z, m);
        wit wt = {.c = c};
        *w = wit_json(&wt, m, q->a, q->b, ++q->nwit);
        if (wt.not_decimal) { /* again, on a decimal grid */
            Z3_model_dec_ref(c->z, m);
            free(*w);
            *w = NULL;
            m = decimal_model(q, &res);
            if (m) {
                wt.not_decimal = false;
                *w = wit_json(&wt, m, q->a, q->b, q->nwit);
            }
        }
        if (m) {
            if (wt.failed || wt.not_decimal)
                fail(q->r, PROVE_ERROR, dupf("a witness could not be written from the solver's model"));
            Z3_model_dec_ref(c->z, m);
        }
        Z3_solver_pop(c->z, q->s, 1);
    }
    Z3_solver_pop(c->z, q->s, 1);
    return res;
}

/* The VM must rate the witness as the encoding says: `want_a` by a (rule
 * ra, or any when QUY_NONE), and `want_b` by b when b is set. */
static bool confirm(ask *q, const char *w, unsigned want_a, uint32_t ra, unsigned want_b)
{
    uint8_t oa, ob;
    uint32_t rule;
    char *why = NULL;
    if (q->o->mismatch_test) want_a = (want_a + 1) % QO__COUNT;
    if (!wit_rate(q->a->p, w, &oa, &rule, &why)) {
        fail(q->r, PROVE_MISMATCH, dupf("witness %s: %s", w, why));
        free(why);
        return false;
    }
    if (oa != want_a || (ra != QUY_NONE && rule != ra)) {
        fail(q->r, PROVE_MISMATCH,
             dupf("witness %s: the encoding says %s by rule %s, the VM rates it %s by rule %s", w, q_outcome_code[want_a],
                  ra != QUY_NONE ? prog_str(q->a->p, q->a->p->rules[ra].name) : "(any)", q_outcome_code[oa],
                  rule < q->a->p->nrules ? prog_str(q->a->p, q->a->p->rules[rule].name) : "-"));
        return false;
    }
    if (q->b) {
        if (!wit_rate(q->b->p, w, &ob, &rule, &why)) {
            fail(q->r, PROVE_MISMATCH, dupf("witness %s (second ruleset): %s", w, why));
            free(why);
            return false;
        }
        if (ob != want_b) {
            fail(q->r, PROVE_MISMATCH, dupf("witness %s: the encoding says %s by the second ruleset, the VM rates it %s", w,
                                            q_outcome_code[want_b], q_outcome_code[ob]));
            return false;
        }
    }
    return true;
}

static bool unknown(ask *q, Z3_lbool res, uint32_t kind, const char *what)
{
    if (res != Z3_L_UNDEF) return false;
    prove_finding *f = add(q->r, PF_UNKNOWN, kind);
    f->why = dupf("%s: %s", what, Z3_solver_get_reason_unknown(q->c->z, q->s));
    return true;
}

/* --gaps: the `otherwise` rules, per named gap flag and with none. */
static void ask_gaps(ask *q, uint32_t kind)
{
    sym_ctx *c = q->c;
    const q_program *p = q->a->p;
    const q_kind *kd = &p->kinds[kind];
    Z3_ast F = Z3_mk_false(c->z);
    for (uint32_t r = kd->first_rule; r < kd->first_rule + kd->nrules; r++) {
        if (!(p->rules[r].flags & QR_OTHERWISE)) continue;
        Z3_ast none = q->a->decide[r];
        for (uint32_t g = 0; g < p->nflagdefs; g++) {
            if (p->flags[g].kind != QFL_GAP || g == p->rules[r].flag || Z3_is_eq_ast(c->z, q->a->flag[g], F)) continue;
            char *w = NULL;
            Z3_lbool res = query(q, sym_and(c, q->a->decide[r], q->a->flag[g]), &w);
            if (res == Z3_L_TRUE && w && confirm(q, w, p->rules[r].outcome, r, 0)) {
                prove_finding *f = add(q->r, PF_GAP, kind);
                f->rule = r;
                f->flag = g;
                f->witness = w;
                w = NULL;
            } else if (res == Z3_L_FALSE) {
                prove_finding *f = add(q->r, PF_DEAD_FLAG, kind);
                f->flag = g;
                f->why = dupf("no valid record reaches 'otherwise' with this gap");
            } else {
                unknown(q, res, kind, prog_str(p, p->flags[g].name));
            }
            free(w);
            none = sym_and(c, none, sym_not(c, q->a->flag[g]));
        }
        char *w = NULL;
        Z3_lbool res = query(q, none, &w);
        if (res == Z3_L_TRUE && w && confirm(q, w, p->rules[r].outcome, r, 0)) {
            prove_finding *f = add(q->r, PF_GAP, kind);
            f->rule = r;
            f->why = dupf("reaches 'otherwise' raising no named gap: a gap the ruleset does not name "
                          "(khoảng trống chưa được đặt tên)");
            f->witness = w;
            w = NULL;
        } else if (res == Z3_L_FALSE) {
            note(q->r, dupf("kind %s: every valid record that reaches 'otherwise' raises a named gap: the list of gaps is "
                            "complete (proved)", prog_str(p, kd->name)));
        } else {
            unknown(q, res, kind, "otherwise, no named gap");
        }
        free(w);
    }
}

/* --dead: rules never deciding, clauses never changing an outcome, flags never raised. */
static void ask_dead(ask *q, uint32_t kind)
{
    sym_ctx *c = q->c;
    const q_program *p = q->a->p;
    const q_kind *kd = &p->kinds[kind];
    Z3_ast F = Z3_mk_false(c->z);
    for (uint32_t r = kd->first_rule; r < kd->first_rule + kd->nrules; r++) {
        Z3_lbool res = query(q, q->a->decide[r], NULL);
        if (unknown(q, res, kind, prog_str(p, p->rules[r].name))) continue;
        if (res == Z3_L_FALSE) {
            prove_finding *f = add(q->r, PF_DEAD_RULE, kind);
            f->rule = r;
            Z3_lbool reach = query(q, q->a->reach[r], NULL);
            f->why = dupf(reach == Z3_L_FALSE ? "never tried: earlier rules decide every valid record"
                                              : "its clauses never all hold for a record that reaches it");
            continue;
        }
        const q_rule *ru = &p->rules[r];
        for (uint32_t cl = ru->first_clause; cl < ru->first_clause + ru->nclauses; cl++) {
            Z3_ast others = Z3_mk_true(c->z);
            for (uint32_t o = ru->first_clause; o < ru->first_clause + ru->nclauses; o++)
                if (o != cl) others = sym_and(c, others, sym_not(c, q->a->cfail[o]));
            Z3_lbool cr = query(q, sym_and(c, q->a->reach[r], sym_and(c, q->a->cfail[cl], others)), NULL);
            if (unknown(q, cr, kind, prog_str(p, p->clauses[cl].text))) continue;
            if (cr == Z3_L_FALSE) {
                prove_finding *f = add(q->r, PF_DEAD_CLAUSE, kind);
                f->rule = r;
                f->clause = cl;
                f->why = dupf("whenever it fails, another clause of the rule fails too: it never changes the outcome");
            }
        }
    }
    for (uint32_t g = 0; g < p->nflagdefs; g++) {
        if (p->flags[g].kind != QFL_FLAG || Z3_is_eq_ast(c->z, q->a->flag[g], F)) continue;
        Z3_lbool res = query(q, q->a->flag[g], NULL);
        if (unknown(q, res, kind, prog_str(p, p->flags[g].name))) continue;
        if (res == Z3_L_FALSE) {
            prove_finding *f = add(q->r, PF_DEAD_FLAG, kind);
            f->flag = g;
            f->why = dupf("no valid record raises it");
        }
    }
}

/* --refines / --equiv: transitions b -> a. */
static void ask_pairs(ask *q, uint32_t kind, bool refines)
{
    sym_ctx *c = q->c;
    unsigned hi = refines ? QO_HTXSNV : QO__COUNT - 1;
    for (unsigned from = 0; from <= hi; from++)
        for (unsigned to = 0; to <= hi; to++) {
            if (refines && to <= from) continue;
            char *w = NULL;
            Z3_lbool res = query(q, sym_and(c, is_outcome(c, q->b->outcome, from), is_outcome(c, q->a->outcome, to)), &w);
            if (res == Z3_L_TRUE && w && confirm(q, w, to, QUY_NONE, from)) {
                prove_finding *f = add(q->r, refines ? PF_LOOSER : PF_TRANSITION, kind);
                f->from = (uint8_t)from;
                f->to = (uint8_t)to;
                uint8_t o;
                wit_rate(q->a->p, w, &o, &f->rule, NULL); /* confirmed above: it rates */
                wit_rate(q->b->p, w, &o, &f->rule2, NULL);
                f->witness = w;
                w = NULL;
            } else {
                char what[64]; /* bounded: two codes of q_outcome_code, the longest "not_rated" */
                snprintf(what, sizeof what, "%s -> %s", q_outcome_code[from], q_outcome_code[to]);
                unknown(q, res, kind, what);
            }
            free(w);
            if (q->r->error) return;
        }
}

static void base(ask *q, sym_kind *s)
{
    sym_ctx *c = q->c;
    Z3_solver_assert(c->z, q->s, s->valid);
    Z3_solver_assert(c->z, q->s, sym_not(c, s->err));
    Z3_solver_assert(c->z, q->s, sym_not(c, s->hook));
}

static void limits_notes(prove_report *r, const q_program *p, const sym_kind *s)
{
    if (!s->nhooks) return;
    strbuf names = {0};
    for (size_t i = 0; i < s->nhooks; i++) strbuf_printf(&names, "%s%s", i ? ", " : "", s->hooks[i]);
    char *list = strbuf_take(&names);
    if (!list) ast_bail("out of memory");
    char *msg = dupf("%s, kind %s: records on which a Lua hook is called (%s) are left out: the answer holds for "
                     "every other valid record",
                     prog_str(p, p->name), prog_str(p, p->kinds[s->k].name), list);
    free(list);
    note(r, msg);
}

/* What the encoding bounds, said with every answer: lists read by 'longest
 * run' and the other lists the rules read (PROVE_LIST_BOUND elements), and
 * strings read as a period. */
static void bound_notes(prove_report *r, const sym_ctx *c)
{
    for (size_t i = 0; i < c->nbounded; i++)
        note(r, dupf("%s is read by 'longest run': lists of at most %d elements are considered", c->bounded[i],
                     PROVE_LIST_BOUND));
    for (size_t i = 0; i < c->nvars; i++) { /* other lists read: bounded (not a list inside a list's element) */
        const sym_var *v = c->vars[i];
        size_t n = strlen(v->key);
        if (v->read && v->elem && !strchr(v->key, '[') && !(n && v->key[n - 1] == '~'))
            note(r, dupf("%s is a list of %s: lists of at most %d elements are considered", v->key,
                         v->nsub ? "structs" : "numbers, strings or dates", PROVE_LIST_BOUND));
    }
    for (size_t i = 0; i < c->nperiods; i++)
        note(r, dupf("%s is read as a rating period: records whose period is not \"YYYY\" or \"YYYY-Qn\" "
                     "(which the VM rejects there) are left out", c->periods[i]));
}

static void one_kind(ask *q, prove_question qq, const q_program *a, const q_program *b, uint32_t k)
{
    sym_ctx *c = q->c;
    sym_kind sa = {0}, sb = {0};
    const char *kname = prog_str(a, a->kinds[k].name);
    uint32_t kb = QUY_NONE;
    if (b) {
        kb = prog_find_kind(b, kname, strlen(kname));
        if (kb == QUY_NONE || b->kinds[kb].entry == QUY_NONE) {
            note(q->r, dupf("kind %s: not rated by %s, not compared", kname, prog_str(b, b->name)));
            return;
        }
    }
    bool ok, have_b = b != NULL;
    for (;;) { /* again while a run asks for a list bounded or a string read as a period (no cap: each asks anew) */
        ok = sym_kind_run(c, a, k, &sa) && (!b || sym_kind_run(c, b, kb, &sb));
        if (ok || !sym_kind_retry(c)) break;
        sym_kind_free(&sa);
        if (b) sym_kind_free(&sb);
    }
    if (!ok) {
        fail(q->r, PROVE_ERROR, dupf("kind %s: cannot encode: %s", kname, c->err));
        sym_kind_free(&sa);
        if (b) sym_kind_free(&sb);
        return;
    }
    bound_notes(q->r, c);
    q->a = &sa;
    q->b = have_b ? &sb : NULL;
    Z3_solver_push(c->z, q->s);
    for (size_t i = 0; i < c->ndom; i++) Z3_solver_assert(c->z, q->s, c->dom[i]);
    base(q, &sa);
    if (have_b) base(q, &sb);
    limits_notes(q->r, a, &sa);
    if (have_b) limits_notes(q->r, b, &sb);
    switch (qq) {
    case PQ_GAPS: ask_gaps(q, k); break;
    case PQ_DEAD: ask_dead(q, k); break;
    case PQ_REFINES: ask_pairs(q, k, true); break;
    case PQ_EQUIV: ask_pairs(q, k, false); break;
    }
    Z3_solver_pop(c->z, q->s, 1);
    sym_kind_free(&sa);
    if (have_b) sym_kind_free(&sb);
    q->a = q->b = NULL;
}

/* Each kind of `a`. Out of memory anywhere below (ast_bail) ends the run
 * with an error; what the kind being encoded held is lost, the rest is
 * freed by the caller. */
static void every_kind(ask *q, prove_question qq, const q_program *a, const q_program *b)
{
    prove_report *out = q->r;
    ast_catch oom;
    ast_catch_push(&oom);
    if (setjmp(oom.jb) == 0) {
        note(out, dupf("batch steps (roll-ups, caps, quotas) are not part of v1: the answers are about the tier "
                       "each record's own rules give (eligible_tier)"));
        for (uint32_t k = 0; k < a->nkinds && !out->error; k++) {
            if (a->kinds[k].entry == QUY_NONE) continue;
            one_kind(q, qq, a, (qq == PQ_REFINES || qq == PQ_EQUIV) ? b : NULL, k);
        }
    } else {
        out->status = PROVE_ERROR;
        free(out->error);
        out->error = strdup(ast_bail_why()); /* NULL if even that fails: the caller says "the prover failed" */
    }
    ast_catch_pop(&oom);
}

prove_status prove_run(prove_question qq, const q_program *a, const q_program *b, const prove_opts *o,
                       prove_report *out)
{
    memset(out, 0, sizeof *out);
    out->q = qq;
    if (!a || ((qq == PQ_REFINES || qq == PQ_EQUIV) && !b)) {
        fail(out, PROVE_ERROR, strdup(a ? "this question needs two rulesets" : "this question needs a ruleset"));
        return out->status;
    }
    sym_ctx c;
    if (!sym_init(&c)) {
        out->status = PROVE_ERROR;
        out->error = strdup("the Z3 solver could not be started");
        return out->status;
    }
    ask q = {.c = &c, .o = o, .r = out};
    q.s = Z3_mk_solver(c.z);
    Z3_solver_inc_ref(c.z, q.s);
    if (o->timeout_ms) {
        Z3_params prm = Z3_mk_params(c.z);
        Z3_params_inc_ref(c.z, prm);
        Z3_params_set_uint(c.z, prm, Z3_mk_string_symbol(c.z, "timeout"), o->timeout_ms);
        Z3_solver_set_params(c.z, q.s, prm);
        Z3_params_dec_ref(c.z, prm);
    }
    every_kind(&q, qq, a, b);
    Z3_solver_dec_ref(c.z, q.s);
    sym_free(&c);
    if (out->status == PROVE_ERROR || out->error) return out->status;
    bool found = false;
    for (size_t i = 0; i < out->nf; i++) {
        if (out->f[i].what == PF_TRANSITION && out->f[i].from == out->f[i].to) continue;
        found = true;
    }
    out->status = found ? PROVE_FOUND : PROVE_PROVED;
    return out->status;
}

void prove_report_free(prove_report *r)
{
    for (size_t i = 0; i < r->nf; i++) {
        free(r->f[i].why);
        free(r->f[i].witness);
    }
    free(r->f);
    for (size_t i = 0; i < r->nnotes; i++) free(r->notes[i]);
    free(r->notes);
    free(r->error);
    memset(r, 0, sizeof *r);
}
