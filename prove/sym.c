/*
 * sym.c — symbolic execution of compiled rate blocks into Z3 terms.
 * See sym.h for the model of a record and prove.h for what is encoded.
 *
 * The interpreter mirrors runtime/vm_exec.inc in its tracing mode (every
 * clause evaluated, failures remembered until DECIDE), which decides the
 * same outcome as the fast mode. A state is a guard (the path condition)
 * and a stack of terms; jumps only go forward (except a quantifier's loop,
 * which is executed as a unit at QBEGIN), so states waiting at a jump
 * target are merged into one when the walk reaches it.
 */
#include "sym.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../runtime/period.h"
#include "../runtime/strbuf.h"

/* =====================================================================
 * Terms
 * =================================================================== */

Z3_ast sym_and(sym_ctx *c, Z3_ast a, Z3_ast b)
{
    if (Z3_is_eq_ast(c->z, a, Z3_mk_true(c->z))) return b;
    if (Z3_is_eq_ast(c->z, b, Z3_mk_true(c->z))) return a;
    Z3_ast v[2] = {a, b};
    return Z3_mk_and(c->z, 2, v);
}

Z3_ast sym_or(sym_ctx *c, Z3_ast a, Z3_ast b)
{
    if (Z3_is_eq_ast(c->z, a, Z3_mk_false(c->z))) return b;
    if (Z3_is_eq_ast(c->z, b, Z3_mk_false(c->z))) return a;
    Z3_ast v[2] = {a, b};
    return Z3_mk_or(c->z, 2, v);
}

Z3_ast sym_not(sym_ctx *c, Z3_ast a) { return Z3_mk_not(c->z, a); }

Z3_ast sym_num(sym_ctx *c, int64_t n, int64_t d)
{
    char buf[64]; /* bounded: "%lld/%lld" is at most 20 + 1 + 20 bytes */
    if (d == 1)
        snprintf(buf, sizeof buf, "%lld", (long long)n);
    else
        snprintf(buf, sizeof buf, "%lld/%lld", (long long)n, (long long)d);
    return Z3_mk_numeral(c->z, buf, c->real);
}

static Z3_ast add2(sym_ctx *c, Z3_ast a, Z3_ast b)
{
    Z3_ast v[2] = {a, b};
    return Z3_mk_add(c->z, 2, v);
}

static Z3_ast mul2(sym_ctx *c, Z3_ast a, Z3_ast b)
{
    Z3_ast v[2] = {a, b};
    return Z3_mk_mul(c->z, 2, v);
}

/* A heap string of any length (runtime/strbuf.h): solver names and messages
 * are never cut. Out of memory jumps to prove_run's catch (ast_bail). */
static char *xvprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
static char *xvprintf(const char *fmt, va_list ap)
{
    strbuf b = {0};
    strbuf_vprintf(&b, fmt, ap);
    char *s = strbuf_take(&b);
    if (!s) ast_bail("out of memory");
    return s;
}

static char *xprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = xvprintf(fmt, ap);
    va_end(ap);
    return s;
}

static bool failf(sym_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool failf(sym_ctx *c, const char *fmt, ...)
{
    if (!c->err) {
        va_list ap;
        va_start(ap, fmt);
        c->err = xvprintf(fmt, ap);
        va_end(ap);
    }
    return false;
}

static void z3_error(Z3_context z, Z3_error_code e)
{
    /* Reported through the context: sym_kind_run checks Z3_get_error_code. */
    (void)z;
    (void)e;
}

bool sym_init(sym_ctx *c)
{
    memset(c, 0, sizeof *c);
    Z3_config cfg = Z3_mk_config();
    if (!cfg) return false;
    c->z = Z3_mk_context(cfg);
    Z3_del_config(cfg);
    if (!c->z) return false;
    Z3_set_error_handler(c->z, z3_error);
    c->real = Z3_mk_real_sort(c->z);
    c->intg = Z3_mk_int_sort(c->z);
    c->boolean = Z3_mk_bool_sort(c->z);
    return true;
}

static void var_free(sym_var *v)
{
    if (!v) return;
    free(v->key);
    free(v->cnt);
    for (uint32_t i = 0; i < v->ncnt; i++) free(v->members[i]);
    free(v->members);
    for (uint32_t i = 0; i < v->nsub; i++) free(v->subnames[i]);
    free(v->subnames);
    free(v->elem); /* the element variables are in ctx->vars too */
    free(v);
}

void sym_free(sym_ctx *c)
{
    for (size_t i = 0; i < c->nvars; i++) var_free(c->vars[i]);
    free(c->vars);
    for (size_t i = 0; i < c->nbounded; i++) free(c->bounded[i]);
    free(c->bounded);
    for (size_t i = 0; i < c->nperiods; i++) free(c->periods[i]);
    free(c->periods);
    free(c->retry_key);
    free(c->err);
    for (size_t i = 0; i < c->nstrs; i++) free(c->strs[i]);
    free(c->strs);
    free(c->dom);
    if (c->z) Z3_del_context(c->z);
    memset(c, 0, sizeof *c);
}

/* Room for one more element (runtime/vec.h); out of memory jumps to
 * prove_run's catch (ast_bail), which reports it as the prover's error. */
#define GROW(arr, n, cap)                                                   \
    do {                                                                    \
        if (VEC_RESERVE(arr, n, cap, 1) != 0) ast_bail("out of memory"); \
    } while (0)

static void dom_add(sym_ctx *c, Z3_ast t)
{
    GROW(c->dom, c->ndom, c->capdom);
    c->dom[c->ndom++] = t;
}

/* Id of a string constant (interned by bytes). */
static uint32_t str_id(sym_ctx *c, const char *s, size_t len)
{
    for (size_t i = 0; i < c->nstrs; i++)
        if (strlen(c->strs[i]) == len && memcmp(c->strs[i], s, len) == 0) return (uint32_t)i;
    GROW(c->strs, c->nstrs, c->capstrs);
    char *cp = ast_xmalloc(len + 1);
    memcpy(cp, s, len);
    cp[len] = 0;
    c->strs[c->nstrs] = cp;
    return (uint32_t)c->nstrs++;
}

/* =====================================================================
 * Variables: one per field, shared by key between programs
 * =================================================================== */

static sym_var *var_find(sym_ctx *c, const char *key)
{
    for (size_t i = 0; i < c->nvars; i++)
        if (strcmp(c->vars[i]->key, key) == 0) return c->vars[i];
    return NULL;
}

/* The solver constant named key + suffix, whole: two constants with the
 * same name and sort are one, so a cut name would merge two fields. */
static Z3_ast mk_var(sym_ctx *c, const char *key, const char *suffix, Z3_sort s)
{
    char *name = xprintf("%s%s", key, suffix);
    Z3_ast v = Z3_mk_const(c->z, Z3_mk_string_symbol(c->z, name), s); /* the symbol keeps a copy */
    free(name);
    return v;
}

/* An Int variable lifted to Real, with lo <= v <= hi (hi < lo: no bound). */
static Z3_ast int_var(sym_ctx *c, const char *key, const char *suffix, int64_t lo, int64_t hi)
{
    Z3_ast v = Z3_mk_int2real(c->z, mk_var(c, key, suffix, c->intg));
    if (lo <= hi) {
        dom_add(c, Z3_mk_ge(c->z, v, sym_num(c, lo, 1)));
        dom_add(c, Z3_mk_le(c->z, v, sym_num(c, hi, 1)));
    }
    return v;
}

static Z3_ast scalar_var(sym_ctx *c, const q_program *p, const q_type *t, const char *key)
{
    switch (t->kind) {
    case QT_BOOL: return mk_var(c, key, "", c->boolean);
    case QT_DECIMAL:
    case QT_PERCENT: return mk_var(c, key, "", c->real);
    case QT_INT: return int_var(c, key, "", 1, 0);
    case QT_DATE: return int_var(c, key, "", -719162, 2932896); /* 0001-01-01 .. 9999-12-31 */
    case QT_STRING: return int_var(c, key, "", 1, 0);
    case QT_ENUM:
    case QT_SCALE: return int_var(c, key, "", 0, (int64_t)t->count - 1);
    default: (void)p; return NULL;
    }
}

static bool same_members(const q_program *p, const q_type *t, const sym_var *v)
{
    if (v->ncnt != t->count) return false;
    for (uint32_t m = 0; m < t->count; m++)
        if (strcmp(v->members[m], prog_str(p, p->members[t->first + m].name)) != 0) return false;
    return true;
}

static char **member_names(const q_program *p, const q_type *t)
{
    char **names = ast_xcalloc(t->count, sizeof *names);
    for (uint32_t m = 0; m < t->count; m++) names[m] = ast_xstrdup(prog_str(p, p->members[t->first + m].name));
    return names;
}

/* A new variable set; takes `key` (malloc'd). */
static sym_var *var_new(sym_ctx *c, char *key, uint8_t tk)
{
    GROW(c->vars, c->nvars, c->capvars);
    sym_var *v = ast_xcalloc(1, sizeof *v);
    v->key = key;
    v->tk = tk;
    c->vars[c->nvars++] = v;
    return v;
}

static bool in_list(char *const *list, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], key) == 0) return true;
    return false;
}

static Z3_ast int_num(sym_ctx *c, int64_t n)
{
    char buf[32]; /* bounded: "%lld" is at most 20 bytes */
    snprintf(buf, sizeof buf, "%lld", (long long)n);
    return Z3_mk_numeral(c->z, buf, c->intg);
}

/* A string read as a rating period: a year 0..9999 and a quarter 0..4
 * (0: the whole year); its value, for equality, is year * 10 + quarter. */
static void period_var(sym_ctx *c, sym_var *v, const char *key)
{
    v->year = mk_var(c, key, "", c->intg);
    v->quarter = mk_var(c, key, "#q", c->intg);
    dom_add(c, Z3_mk_ge(c->z, v->year, int_num(c, 0)));
    dom_add(c, Z3_mk_le(c->z, v->year, int_num(c, 9999)));
    dom_add(c, Z3_mk_ge(c->z, v->quarter, int_num(c, 0)));
    dom_add(c, Z3_mk_le(c->z, v->quarter, int_num(c, 4)));
    Z3_ast v2[2] = {Z3_mk_mul(c->z, 2, (Z3_ast[]){v->year, int_num(c, 10)}), v->quarter};
    v->val = Z3_mk_int2real(c->z, Z3_mk_add(c->z, 2, v2));
}

/* The key of field `name` under `prefix` (a kind's name, or a list
 * element's key), whole: "kind/field", "kind/list[i].sub"; "~" when the
 * list is bounded, "~p" when the string is read as a period. Malloc'd.
 * Names are identifiers ([A-Za-z_][A-Za-z0-9_]*, grammar/lexer.re), so the
 * separators here and the suffixes of mk_var ("?", "#len", "#q", "#member")
 * make each solver name one field's. */
static char *field_key(sym_ctx *c, const char *prefix, bool elem, const char *name, bool *bounded, bool *period)
{
    char *key = xprintf("%s%s%s", prefix, elem ? "." : "/", name);
    *bounded = in_list(c->bounded, c->nbounded, key);
    *period = in_list(c->periods, c->nperiods, key);
    if (!*bounded && !*period) return key;
    char *marked = xprintf("%s%s%s", key, *bounded ? "~" : "", *period ? "~p" : "");
    free(key);
    return marked;
}

static sym_var *field_var(sym_ctx *c, const q_program *p, const q_field *f, const char *prefix, bool elem);

/* A list of enum/scale values: a count per member. */
static void counted_list_var(sym_ctx *c, const q_program *p, const q_type *et, sym_var *v)
{
    v->members = member_names(p, et); /* then its count: var_free reads them together */
    v->ncnt = et->count;
    v->cnt = ast_xcalloc(et->count, sizeof *v->cnt);
    Z3_ast sum = sym_num(c, 0, 1);
    for (uint32_t m = 0; m < et->count; m++) {
        char *sfx = xprintf("#%s", v->members[m]);
        v->cnt[m] = int_var(c, v->key, sfx, 0, 1000000);
        free(sfx);
        sum = add2(c, sum, v->cnt[m]);
    }
    v->len = sum;
}

/* Any other list: a length and PROVE_LIST_BOUND elements, each a variable
 * set (a struct's fields, or the element itself) keyed "key[i]". */
static bool bounded_list_var(sym_ctx *c, const q_program *p, const q_field *f, const q_type *t, sym_var *v)
{
    const q_type *et = &p->types[t->elem];
    v->len = int_var(c, v->key, "#len", 0, PROVE_LIST_BOUND);
    bool structs = et->kind == QT_STRUCT;
    uint32_t per = structs ? et->count : 1; /* variable sets per element */
    if (structs) {
        v->subnames = ast_xcalloc(et->count, sizeof *v->subnames);
        v->nsub = et->count;
        for (uint32_t j = 0; j < et->count; j++) v->subnames[j] = ast_xstrdup(prog_str(p, p->fields[et->first + j].name));
    }
    v->elem = ast_xcalloc((size_t)PROVE_LIST_BOUND * (per ? per : 1), sizeof *v->elem);
    q_field ef = {.name = f->name, .type = t->elem};
    for (int i = 0; i < PROVE_LIST_BOUND; i++) {
        char *pre = xprintf("%s[%d]", v->key, i);
        for (uint32_t j = 0; j < per; j++) {
            sym_var *e = field_var(c, p, structs ? &p->fields[et->first + j] : &ef, pre, true);
            if (!e) {
                free(pre);
                return false;
            }
            v->elem[(size_t)i * per + j] = e;
        }
        free(pre);
    }
    return true;
}

/* A variable set met again (another program, or another run of the kind):
 * the same type and, for enum/scale values, the same members. */
static bool same_var(sym_ctx *c, const q_program *p, const q_type *t, const sym_var *v)
{
    if (v->tk != t->kind)
        return failf(c, "field %s has type %s in one ruleset and %s in the other", v->key, q_type_kind_name[v->tk],
                     q_type_kind_name[t->kind]);
    if ((t->kind == QT_ENUM || t->kind == QT_SCALE) && v->members && !same_members(p, t, v))
        return failf(c, "field %s: its values differ between the two rulesets", v->key);
    return true;
}

/* The variables of field f (of kind `prefix`, or of a list element). */
static sym_var *field_var(sym_ctx *c, const q_program *p, const q_field *f, const char *prefix, bool elem)
{
    bool bounded, period;
    char *key = field_key(c, prefix, elem, prog_str(p, f->name), &bounded, &period);
    if (f->type >= p->ntypes) {
        failf(c, "field %s: bad type", key);
        free(key);
        return NULL;
    }
    const q_type *t = &p->types[f->type];
    sym_var *v = var_find(c, key);
    if (v) {
        free(key);
        return same_var(c, p, t, v) ? v : NULL;
    }
    v = var_new(c, key, t->kind); /* takes key */
    bool always = elem || !(f->flags & (QF_OPTIONAL | QF_BATCH));
    if (!always) v->present = mk_var(c, v->key, "?", c->boolean);
    if (t->kind == QT_ENUM || t->kind == QT_SCALE) {
        v->members = member_names(p, t);
        v->ncnt = t->count;
    }
    if (period && t->kind == QT_STRING) {
        period_var(c, v, v->key);
        return v;
    }
    if (t->kind != QT_LIST) {
        v->val = scalar_var(c, p, t, v->key);
        if (!v->val) return failf(c, "field %s: type %s cannot be encoded", v->key, q_type_kind_name[t->kind]), NULL;
        return v;
    }
    if (t->elem >= p->ntypes) return failf(c, "field %s: bad element type", v->key), NULL;
    const q_type *et = &p->types[t->elem];
    if ((et->kind == QT_ENUM || et->kind == QT_SCALE) && !bounded) {
        counted_list_var(c, p, et, v);
        return v;
    }
    return bounded_list_var(c, p, f, t, v) ? v : NULL;
}

/* =====================================================================
 * States
 * =================================================================== */

typedef enum { SV_VAL, SV_SHARE, SV_LIST } sv_tag;

typedef struct sv {
    uint8_t tag;
    uint8_t period;  /* SV_VAL read from a period field */
    const char *str; /* SV_VAL pushed from a string constant: its bytes (NUL-terminated in the pool) */
    uint32_t strlen_;
    Z3_ast t;        /* SV_VAL */
    Z3_ast num, den; /* SV_SHARE: share(num, den), kept apart so that a compare can cross-multiply */
    uint32_t slot;   /* SV_LIST */
} sv;

typedef struct st {
    bool live;
    Z3_ast g;       /* path condition */
    Z3_ast failed;  /* a clause of the current rule failed */
    Z3_ast outcome; /* Real */
    int sp;
    sv s[QUY_MAX_STACK];
} st;

/* The element a loop register stands for while its body is executed. */
typedef struct loop_el {
    bool enum_list;
    Z3_ast value;    /* enum lists: the member ordinal; scalar bounded lists: the element */
    sym_var **subs;  /* struct lists: the element's field variables */
    Z3_ast result;   /* the loop's result, pushed by QEND */
} loop_el;

typedef struct run {
    sym_ctx *c;
    const q_program *p;
    const q_kind *k;
    sym_kind *out;
    Z3_ast prefix;  /* conjoined with every guard recorded (a loop body's element condition) */
    Z3_ast err;     /* errors of this run */
    loop_el loop[QUY_MAX_LOOPS];
} run;

static Z3_ast guard(run *R, Z3_ast g) { return R->prefix ? sym_and(R->c, R->prefix, g) : g; }

static Z3_ast val_of(run *R, const sv *v)
{
    sym_ctx *c = R->c;
    if (v->tag == SV_SHARE) {
        Z3_ast zero = sym_num(c, 0, 1);
        return Z3_mk_ite(c->z, Z3_mk_eq(c->z, v->den, zero), zero, Z3_mk_div(c->z, v->num, v->den));
    }
    if (v->tag == SV_LIST) return sym_num(c, 0, 1);
    return v->t;
}

static bool merge_into(run *R, st *dst, const st *src)
{
    sym_ctx *c = R->c;
    if (!src->live) return true;
    if (!dst->live) {
        *dst = *src;
        return true;
    }
    if (dst->sp != src->sp) return failf(c, "stack depths differ at a join (%d, %d)", dst->sp, src->sp);
    Z3_ast g = src->g;
    for (int i = 0; i < dst->sp; i++) {
        sv *a = &dst->s[i];
        const sv *b = &src->s[i];
        if (a->tag == b->tag && a->tag == SV_VAL && Z3_is_eq_ast(c->z, a->t, b->t)) continue;
        if (a->tag == SV_LIST && b->tag == SV_LIST && a->slot == b->slot) continue;
        if (a->tag == SV_SHARE && b->tag == SV_SHARE) {
            a->num = Z3_mk_ite(c->z, g, b->num, a->num);
            a->den = Z3_mk_ite(c->z, g, b->den, a->den);
            continue;
        }
        Z3_ast x = val_of(R, a), y = val_of(R, b);
        if (Z3_get_sort_kind(c->z, Z3_get_sort(c->z, x)) != Z3_get_sort_kind(c->z, Z3_get_sort(c->z, y)))
            return failf(c, "values of different types meet at a join");
        a->tag = SV_VAL;
        a->t = Z3_mk_ite(c->z, g, y, x);
    }
    dst->failed = Z3_mk_ite(c->z, g, src->failed, dst->failed);
    dst->outcome = Z3_mk_ite(c->z, g, src->outcome, dst->outcome);
    dst->g = sym_or(c, dst->g, src->g);
    return true;
}

/* =====================================================================
 * The interpreter
 * =================================================================== */

static bool exec(run *R, uint32_t start, uint32_t stop, st *cur, st *at_stop);

static sym_var *slot_var(run *R, uint32_t slot)
{
    if (slot >= R->k->nfields) return failf(R->c, "slot %u out of range", slot), NULL;
    return R->out->slot[slot];
}

static Z3_ast present_of(run *R, sym_var *v)
{
    return v->present ? v->present : Z3_mk_true(R->c->z);
}

/* An error under `cond` on the current path; the path goes on without it. */
static void error_if(run *R, st *cur, Z3_ast cond)
{
    R->err = sym_or(R->c, R->err, guard(R, sym_and(R->c, cur->g, cond)));
    cur->g = sym_and(R->c, cur->g, sym_not(R->c, cond));
}

static Z3_ast compare(run *R, uint8_t op, const sv *x, const sv *y);

static Z3_ast relop(sym_ctx *c, uint8_t op, Z3_ast a, Z3_ast b)
{
    switch (op) {
    case OP_EQ: return Z3_mk_eq(c->z, a, b);
    case OP_NE: return sym_not(c, Z3_mk_eq(c->z, a, b));
    case OP_LT: return Z3_mk_lt(c->z, a, b);
    case OP_LE: return Z3_mk_le(c->z, a, b);
    case OP_GT: return Z3_mk_gt(c->z, a, b);
    default: return Z3_mk_ge(c->z, a, b);
    }
}

static uint8_t flip(uint8_t op)
{
    switch (op) {
    case OP_LT: return OP_GT;
    case OP_LE: return OP_GE;
    case OP_GT: return OP_LT;
    case OP_GE: return OP_LE;
    default: return op;
    }
}

/* x op y; share(n, d) op K is cross-multiplied so that it stays linear. */
static Z3_ast compare(run *R, uint8_t op, const sv *x, const sv *y)
{
    sym_ctx *c = R->c;
    if (x->tag != SV_SHARE && y->tag == SV_SHARE) return compare(R, flip(op), y, x);
    if (x->tag == SV_SHARE && y->tag == SV_VAL && Z3_is_numeral_ast(c->z, y->t)) {
        Z3_ast zero = sym_num(c, 0, 1), kd = mul2(c, y->t, x->den);
        return Z3_mk_ite(c->z, Z3_mk_gt(c->z, x->den, zero), relop(c, op, x->num, kd),
                         Z3_mk_ite(c->z, Z3_mk_lt(c->z, x->den, zero), relop(c, flip(op), x->num, kd),
                                   relop(c, op, zero, y->t)));
    }
    Z3_ast a = val_of(R, x), b = val_of(R, y);
    if (Z3_get_sort_kind(c->z, Z3_get_sort(c->z, a)) == Z3_BOOL_SORT ||
        Z3_get_sort_kind(c->z, Z3_get_sort(c->z, b)) == Z3_BOOL_SORT) {
        if (Z3_get_sort_kind(c->z, Z3_get_sort(c->z, a)) != Z3_get_sort_kind(c->z, Z3_get_sort(c->z, b))) {
            failf(c, "a comparison of a bool with a number");
            return Z3_mk_false(c->z);
        }
        if (op != OP_EQ && op != OP_NE) {
            failf(c, "an order comparison of bools");
            return Z3_mk_false(c->z);
        }
    }
    return relop(c, op, a, b);
}

static Z3_ast push_const(run *R, uint32_t k)
{
    sym_ctx *c = R->c;
    const q_program *p = R->p;
    q_val v = p->consts[k];
    switch (p->const_type[k]) {
    case QT_BOOL: return v.n ? Z3_mk_true(c->z) : Z3_mk_false(c->z);
    case QT_STRING: return sym_num(c, str_id(c, q_val_str(v), q_val_len(v)), 1);
    default: return sym_num(c, v.n, v.d);
    }
}

static Z3_ast fresh_of_type(run *R, uint32_t type)
{
    sym_ctx *c = R->c;
    if (type == QUY_NONE) return Z3_mk_fresh_const(c->z, "adjusts", c->boolean);
    if (type < R->p->ntypes && R->p->types[type].kind == QT_BOOL) return Z3_mk_fresh_const(c->z, "hook", c->boolean);
    return Z3_mk_fresh_const(c->z, "hook", c->real);
}

/* Execute a quantifier loop as a unit: QBEGIN at pc, QNEXT at pc + 1, the
 * body up to the QSTEP that jumps back to QNEXT, QEND at QNEXT's exit.
 * Leaves the result in R->loop[reg].result and returns the QEND's pc. */
static bool exec_loop(run *R, uint32_t pc, st *cur, uint32_t *resume)
{
    sym_ctx *c = R->c;
    const q_program *p = R->p;
    const q_instr *qb = &p->code[pc];
    uint32_t reg = qb->a, qk = qb->c;
    if (reg >= QUY_MAX_LOOPS || pc + 1 >= p->ncode) return failf(c, "bad loop at %u", pc);
    const q_instr *qn = &p->code[pc + 1];
    if (qn->op != OP_QNEXT || qn->a != reg) return failf(c, "loop at %u: QNEXT expected", pc);
    uint32_t exit = qn->b, qstep = QUY_NONE;
    for (uint32_t i = pc + 2; i < exit && i < p->ncode; i++)
        if (p->code[i].op == OP_QSTEP && p->code[i].a == reg && p->code[i].b == pc + 1) qstep = i;
    if (qstep == QUY_NONE || exit >= p->ncode || p->code[exit].op != OP_QEND) return failf(c, "loop at %u: shape", pc);
    sym_var *lv = slot_var(R, qb->b);
    if (!lv || !lv->len) return failf(c, "loop at %u over a field that is not a list", pc);
    error_if(R, cur, sym_not(c, present_of(R, lv))); /* VM_ABSENT */
    lv->read = true;

    bool enum_list = lv->cnt != NULL;
    uint32_t n = enum_list ? lv->ncnt : PROVE_LIST_BOUND;
    if (enum_list && qk == QK_RUN) { /* order matters: run the kind again with this list bounded */
        free(c->retry_key);
        c->retry_key = ast_xstrdup(lv->key);
        c->retry_period = false;
        return failf(c, "'longest run' over %s: the list must be bounded", lv->key);
    }
    Z3_ast zero = sym_num(c, 0, 1), one = sym_num(c, 1, 1);
    Z3_ast all = Z3_mk_true(c->z), any = Z3_mk_false(c->z), count = zero, sum = zero;
    Z3_ast nonempty = Z3_mk_false(c->z), best = NULL, run_cur = zero, run_best = zero;
    Z3_ast saved_prefix = R->prefix;
    loop_el saved = R->loop[reg];
    for (uint32_t e = 0; e < n; e++) {
        Z3_ast active = enum_list ? Z3_mk_gt(c->z, lv->cnt[e], zero) : Z3_mk_lt(c->z, sym_num(c, e, 1), lv->len);
        loop_el el = {.enum_list = enum_list};
        if (enum_list)
            el.value = sym_num(c, e, 1);
        else if (lv->nsub)
            el.subs = &lv->elem[(size_t)e * lv->nsub];
        else
            el.value = lv->elem[e]->val;
        R->loop[reg] = el;
        R->prefix = guard(R, sym_and(c, cur->g, active));
        st body = *cur, end = {0};
        body.g = Z3_mk_true(c->z);
        if (!exec(R, pc + 2, qstep, &body, &end)) return false;
        if (!end.live || end.sp < 1) continue; /* filtered out on every path */
        Z3_ast F = sym_and(c, active, end.g);
        const sv *x = &end.s[end.sp - 1];
        Z3_ast P = (qk == QK_SUM || qk == QK_MIN || qk == QK_MAX) ? NULL : val_of(R, x);
        Z3_ast mult = enum_list ? lv->cnt[e] : one;
        switch (qk) {
        case QK_ALL: all = sym_and(c, all, Z3_mk_implies(c->z, F, P)); break;
        case QK_ANY:
        case QK_NONE: any = sym_or(c, any, sym_and(c, F, P)); break;
        case QK_COUNT: count = add2(c, count, Z3_mk_ite(c->z, sym_and(c, F, P), mult, zero)); break;
        case QK_SUM: sum = add2(c, sum, Z3_mk_ite(c->z, F, mul2(c, mult, val_of(R, x)), zero)); break;
        case QK_MIN:
        case QK_MAX: {
            Z3_ast xv = val_of(R, x);
            if (!best) {
                best = xv;
            } else {
                Z3_ast better = qk == QK_MIN ? Z3_mk_lt(c->z, xv, best) : Z3_mk_gt(c->z, xv, best);
                best = Z3_mk_ite(c->z, sym_and(c, F, sym_or(c, sym_not(c, nonempty), better)), xv, best);
            }
            nonempty = sym_or(c, nonempty, F);
            break;
        }
        case QK_RUN:
            run_cur = Z3_mk_ite(c->z, F, Z3_mk_ite(c->z, P, add2(c, run_cur, one), zero), run_cur);
            run_best = Z3_mk_ite(c->z, Z3_mk_gt(c->z, run_cur, run_best), run_cur, run_best);
            break;
        default: return failf(c, "loop at %u: unknown quantifier %u", pc, qk);
        }
    }
    R->prefix = saved_prefix;
    R->loop[reg] = saved;
    Z3_ast res;
    switch (qk) {
    case QK_ALL: res = all; break;
    case QK_ANY: res = any; break;
    case QK_NONE: res = sym_not(c, any); break;
    case QK_COUNT: res = count; break;
    case QK_SUM: res = sum; break;
    case QK_RUN: res = run_best; break;
    default:
        error_if(R, cur, sym_not(c, nonempty)); /* VM_EMPTY */
        res = best ? best : zero;
        break;
    }
    R->loop[reg].result = res;
    *resume = exit;
    return true;
}

/* Remember that hook `name` (in the program's string pool) is called, once. */
static void hook_seen(sym_kind *out, const char *name)
{
    for (size_t i = 0; i < out->nhooks; i++)
        if (strcmp(out->hooks[i], name) == 0) return;
    GROW(out->hooks, out->nhooks, out->caphooks);
    out->hooks[out->nhooks++] = name;
}

static void push(st *cur, sv v) { cur->s[cur->sp++] = v; }
static sv V(Z3_ast t) { return (sv){.tag = SV_VAL, .t = t}; }

static bool need(run *R, st *cur, int pop, int pushn, uint32_t pc)
{
    if (cur->sp < pop || cur->sp - pop + pushn > QUY_MAX_STACK) return failf(R->c, "stack fault at %u", pc);
    return true;
}

/* Days since 1970-01-01 of year y (Int term), month m, day d (constants):
 * days_from_civil (runtime/value.c) with Z3's floor division. */
static Z3_ast civil_days(sym_ctx *c, Z3_ast year, unsigned m, unsigned d)
{
    Z3_ast y = Z3_mk_sub(c->z, 2, (Z3_ast[]){year, int_num(c, m <= 2 ? 1 : 0)});
    Z3_ast era = Z3_mk_div(c->z, y, int_num(c, 400));
    Z3_ast yoe = Z3_mk_sub(c->z, 2, (Z3_ast[]){y, Z3_mk_mul(c->z, 2, (Z3_ast[]){era, int_num(c, 400)})});
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    Z3_ast doe = Z3_mk_add(c->z, 4,
                           (Z3_ast[]){Z3_mk_mul(c->z, 2, (Z3_ast[]){yoe, int_num(c, 365)}),
                                      Z3_mk_div(c->z, yoe, int_num(c, 4)),
                                      Z3_mk_unary_minus(c->z, Z3_mk_div(c->z, yoe, int_num(c, 100))), int_num(c, doy)});
    Z3_ast days = Z3_mk_add(c->z, 3, (Z3_ast[]){Z3_mk_mul(c->z, 2, (Z3_ast[]){era, int_num(c, 146097)}), doe,
                                                int_num(c, -719468)});
    return Z3_mk_int2real(c->z, days);
}

/* The date PERIODDATE `spec` names in period v (runtime/period.c). */
static Z3_ast period_date(sym_ctx *c, const sym_var *v, uint32_t spec)
{
    static const unsigned mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (spec != QPD_START && spec != QPD_END && spec < QPD_FIRST_MONTH)
        return civil_days(c, v->year, spec / 100, spec % 100);
    Z3_ast r = NULL;
    for (unsigned q = 0; q <= 4; q++) {
        unsigned fm = q ? (q - 1) * 3 + 1 : 1, lm = q ? q * 3 : 12, m, d;
        if (spec == QPD_START) m = fm, d = 1;
        else if (spec == QPD_END) m = lm, d = mdays[lm - 1];
        else if (spec > QPD_LAST_MONTH) m = lm, d = spec % 10000;
        else m = fm, d = spec % 10000;
        Z3_ast t = civil_days(c, v->year, m, d);
        r = r ? Z3_mk_ite(c->z, Z3_mk_eq(c->z, v->quarter, int_num(c, q)), t, r) : t;
    }
    return r;
}

/* A period compared with a string: a constant names a period ("2023",
 * "2026-Q2") or none; two periods are equal when year and quarter are. */
static bool period_eq(run *R, const sv *x, const sv *y, Z3_ast *out)
{
    sym_ctx *c = R->c;
    if (x->period && y->period) {
        *out = Z3_mk_eq(c->z, x->t, y->t);
        return true;
    }
    const sv *k = x->period ? y : x, *f = x->period ? x : y;
    if (!k->str) return failf(c, "a rating period compared with a string field that is not one");
    const char *s = k->str;
    size_t n = k->strlen_;
    int yv = 0, qv = 0;
    bool ok = n == 4 || (n == 7 && s[4] == '-' && (s[5] == 'Q' || s[5] == 'q') && s[6] >= '1' && s[6] <= '4');
    for (size_t i = 0; ok && i < 4; i++) {
        ok = s[i] >= '0' && s[i] <= '9';
        yv = yv * 10 + (s[i] - '0');
    }
    if (ok && n == 7) qv = s[6] - '0';
    /* byte equality: "2026-q2" equals no witness, which writes "2026-Q2" */
    if (ok && n == 7 && s[5] == 'q') ok = false;
    *out = ok ? Z3_mk_eq(c->z, f->t, sym_num(c, (int64_t)yv * 10 + qv, 1)) : Z3_mk_false(c->z);
    return true;
}

static const char *op_name(unsigned op) { return op < OP__COUNT ? op_table[op].name : "(unknown)"; }

/* One instruction on a live state; may send states to `pend`. */
static bool step(run *R, uint32_t pc, st *cur, st **pend, uint32_t *next, st *final)
{
    sym_ctx *c = R->c;
    const q_program *p = R->p;
    const q_instr *ip = &p->code[pc];
    if (ip->op >= OP__COUNT) return failf(c, "bad opcode at %u", pc);
    *next = pc + 1;
    /* a fused instruction (issue 15) is the fast path of the generic body
     * after it, which says the same: read the body, as the tracing VM does */
    if (op_fuse_len[ip->op]) return true;
    if (!need(R, cur, op_table[ip->op].pop, op_table[ip->op].push, pc)) return false;
#define SEND(target, state)                                                    \
    do {                                                                       \
        if ((target) <= pc || (target) >= p->ncode) return failf(c, "jump at %u goes back", pc); \
        if (!pend[target]) pend[target] = ast_xcalloc(1, sizeof(st));          \
        if (!merge_into(R, pend[target], (state))) return false;               \
    } while (0)
    sv *top = cur->sp ? &cur->s[cur->sp - 1] : NULL;
    switch ((op_code)ip->op) {
    case OP_NOP: break;
    case OP_PUSHK: {
        if (ip->b >= p->nconsts) return failf(c, "constant out of range at %u", pc);
        sv k = V(push_const(R, ip->b));
        if (p->const_type[ip->b] == QT_STRING) {
            k.str = q_val_str(p->consts[ip->b]);
            k.strlen_ = (uint32_t)q_val_len(p->consts[ip->b]);
        }
        push(cur, k);
        break;
    }
    case OP_LOADF: {
        sym_var *v = slot_var(R, ip->a);
        if (!v) return false;
        if (!ip->c) error_if(R, cur, sym_not(c, present_of(R, v)));
        if (v->len)
            push(cur, (sv){.tag = SV_LIST, .slot = ip->a});
        else
            push(cur, (sv){.tag = SV_VAL, .t = v->val, .period = v->year != NULL});
        break;
    }
    case OP_PRESENT: {
        sym_var *v = slot_var(R, ip->a);
        if (!v) return false;
        push(cur, V(present_of(R, v)));
        break;
    }
    case OP_IFABSENT: {
        sym_var *v = slot_var(R, ip->a);
        if (!v) return false;
        if (!v->present) break;
        st j = *cur;
        j.g = sym_and(c, cur->g, sym_not(c, v->present));
        bool in_rule = ip->b > 0 && ip->b - 1 < p->ncode && p->code[ip->b - 1].op == OP_CLAUSE;
        if (in_rule && ip->c) j.failed = Z3_mk_true(c->z);
        SEND(ip->b, &j);
        cur->g = sym_and(c, cur->g, v->present);
        break;
    }
    case OP_POP: cur->sp--; break;
    case OP_ADD:
    case OP_SUB:
    case OP_MUL:
    case OP_DIV: {
        Z3_ast x = val_of(R, &cur->s[cur->sp - 2]), y = val_of(R, &cur->s[cur->sp - 1]), r;
        Z3_ast v2[2] = {x, y};
        if (ip->op == OP_ADD) r = Z3_mk_add(c->z, 2, v2);
        else if (ip->op == OP_SUB) r = Z3_mk_sub(c->z, 2, v2);
        else if (ip->op == OP_MUL) r = Z3_mk_mul(c->z, 2, v2);
        else {
            error_if(R, cur, Z3_mk_eq(c->z, y, sym_num(c, 0, 1))); /* VM_DIV_ZERO */
            r = Z3_mk_div(c->z, x, y);
        }
        cur->sp--;
        cur->s[cur->sp - 1] = V(r);
        break;
    }
    case OP_NEG: *top = V(Z3_mk_unary_minus(c->z, val_of(R, top))); break;
    case OP_SHARE: {
        sv s = {.tag = SV_SHARE, .num = val_of(R, &cur->s[cur->sp - 2]), .den = val_of(R, &cur->s[cur->sp - 1])};
        cur->sp--;
        cur->s[cur->sp - 1] = s;
        break;
    }
    case OP_STREQ:
    case OP_STRNE:
        if (cur->s[cur->sp - 2].period || cur->s[cur->sp - 1].period) {
            Z3_ast r = NULL;
            if (!period_eq(R, &cur->s[cur->sp - 2], &cur->s[cur->sp - 1], &r)) return false;
            cur->sp--;
            cur->s[cur->sp - 1] = V(ip->op == OP_STREQ ? r : sym_not(c, r));
            break;
        }
        /* fall through */
    case OP_EQ:
    case OP_NE:
    case OP_LT:
    case OP_LE:
    case OP_GT:
    case OP_GE: {
        uint8_t op = ip->op == OP_STREQ ? OP_EQ : ip->op == OP_STRNE ? OP_NE : ip->op;
        Z3_ast r = compare(R, op, &cur->s[cur->sp - 2], &cur->s[cur->sp - 1]);
        cur->sp--;
        cur->s[cur->sp - 1] = V(r);
        break;
    }
    case OP_NOT: *top = V(sym_not(c, val_of(R, top))); break;
    case OP_JMP:
        SEND(ip->b, cur);
        cur->live = false;
        break;
    case OP_JFKEEP:
    case OP_JTKEEP: {
        Z3_ast x = val_of(R, top);
        Z3_ast jump_if = ip->op == OP_JFKEEP ? sym_not(c, x) : x;
        st j = *cur;
        j.g = sym_and(c, cur->g, jump_if);
        SEND(ip->b, &j);
        cur->g = sym_and(c, cur->g, sym_not(c, jump_if));
        cur->sp--;
        break;
    }
    case OP_QBEGIN: return exec_loop(R, pc, cur, next);
    case OP_ELEM:
    case OP_ELEMF: {
        if (ip->a >= QUY_MAX_LOOPS) return failf(c, "bad loop register at %u", pc);
        loop_el *el = &R->loop[ip->a];
        if (ip->op == OP_ELEMF) {
            if (!el->subs) return failf(c, "ELEMF outside a struct loop at %u", pc);
            push(cur, V(el->subs[ip->b]->val));
        } else {
            if (!el->value) return failf(c, "ELEM outside a scalar loop at %u", pc);
            push(cur, V(el->value));
        }
        break;
    }
    case OP_QFILTER: /* the element counts only where the filter holds */
        cur->g = sym_and(c, cur->g, val_of(R, top));
        cur->sp--;
        break;
    case OP_QEND:
        if (ip->a >= QUY_MAX_LOOPS || !R->loop[ip->a].result) return failf(c, "QEND without its loop at %u", pc);
        push(cur, V(R->loop[ip->a].result));
        break;
    case OP_QNEXT:
    case OP_QSTEP: return failf(c, "loop instruction outside its loop at %u", pc);
    case OP_LEN: {
        sym_var *v = slot_var(R, ip->a);
        if (!v || !v->len) return failf(c, "LEN of a field that is not a list at %u", pc);
        v->read = true;
        error_if(R, cur, sym_not(c, present_of(R, v)));
        push(cur, V(v->len));
        break;
    }
    case OP_EXC: *top = V(sym_not(c, val_of(R, top))); break;
    case OP_CLAUSE: {
        if (ip->a >= p->nclauses) return failf(c, "clause out of range at %u", pc);
        Z3_ast fails = sym_not(c, val_of(R, top));
        cur->sp--;
        R->out->cfail[ip->a] = sym_or(c, R->out->cfail[ip->a], guard(R, sym_and(c, cur->g, fails)));
        R->out->cseen[ip->a] = sym_or(c, R->out->cseen[ip->a], guard(R, cur->g));
        cur->failed = sym_or(c, cur->failed, fails);
        break;
    }
    case OP_DECIDE: {
        if (ip->a >= p->nrules) return failf(c, "rule out of range at %u", pc);
        const q_rule *r = &p->rules[ip->a];
        Z3_ast dec = sym_and(c, cur->g, sym_not(c, cur->failed));
        R->out->reach[ip->a] = sym_or(c, R->out->reach[ip->a], guard(R, cur->g));
        R->out->decide[ip->a] = sym_or(c, R->out->decide[ip->a], guard(R, dec));
        if (r->flag != QUY_NONE && r->flag < p->nflagdefs)
            R->out->flag[r->flag] = sym_or(c, R->out->flag[r->flag], guard(R, dec));
        st j = *cur;
        j.g = dec;
        j.failed = Z3_mk_false(c->z);
        j.outcome = sym_num(c, r->outcome, 1);
        SEND(ip->b, &j);
        cur->g = sym_and(c, cur->g, cur->failed);
        cur->failed = Z3_mk_false(c->z);
        break;
    }
    case OP_FLAG:
        if (ip->a >= p->nflagdefs) return failf(c, "flag out of range at %u", pc);
        R->out->flag[ip->a] = sym_or(c, R->out->flag[ip->a], guard(R, sym_and(c, cur->g, val_of(R, top))));
        cur->sp--;
        break;
    case OP_CALLHOOK: {
        if (ip->a >= p->nhooks || (int)ip->b > cur->sp) return failf(c, "bad hook call at %u", pc);
        const q_hook *h = &p->hooks[ip->a];
        R->out->hook = sym_or(c, R->out->hook, guard(R, cur->g));
        hook_seen(R->out, prog_str(p, h->name));
        cur->sp -= (int)ip->b;
        push(cur, V(fresh_of_type(R, h->result)));
        break;
    }
    case OP_ADJUST: cur->sp--; break;
    case OP_OUTCOME: push(cur, V(cur->outcome)); break;
    case OP_PERIODDATE: {
        sym_var *v = slot_var(R, ip->a);
        if (!v) return false;
        if (!v->year) { /* run the kind again with this string read as a period */
            free(c->retry_key);
            c->retry_key = ast_xstrdup(v->key);
            c->retry_period = true;
            return failf(c, "%s is read as a rating period", v->key);
        }
        error_if(R, cur, sym_not(c, present_of(R, v)));
        push(cur, V(period_date(c, v, ip->b)));
        break;
    }
    case OP_UNRATED: {
        Z3_ast un = Z3_mk_ge(c->z, cur->outcome, sym_num(c, QO_NOT_RATED, 1));
        st j = *cur;
        j.g = sym_and(c, cur->g, un);
        SEND(ip->b, &j);
        cur->g = sym_and(c, cur->g, sym_not(c, un));
        break;
    }
    case OP_HALT:
        if (!merge_into(R, final, cur)) return false;
        cur->live = false;
        break;
    default: return failf(c, "opcode %s is not encoded by the prover", op_name(ip->op));
    }
#undef SEND
    return true;
}

/* Walk from `start`; stop when the walk reaches `stop` (the state arriving
 * there goes to *at_stop) or when no state is left (HALTs merge into
 * *at_stop). */
static bool exec(run *R, uint32_t start, uint32_t stop, st *cur, st *at_stop)
{
    const q_program *p = R->p;
    st **pend = ast_xcalloc(p->ncode + 1, sizeof *pend);
    bool ok = true;
    uint32_t pc = start;
    memset(at_stop, 0, sizeof *at_stop);
    cur->live = true;
    while (ok && pc < p->ncode) {
        if (pend[pc]) {
            ok = merge_into(R, cur, pend[pc]);
            free(pend[pc]);
            pend[pc] = NULL;
            if (!ok) break;
        }
        if (pc == stop) {
            ok = merge_into(R, at_stop, cur);
            break;
        }
        if (!cur->live) {
            uint32_t q = pc + 1;
            while (q < p->ncode && !pend[q]) q++;
            if (q >= p->ncode) break;
            pc = q;
            continue;
        }
        uint32_t next;
        ok = step(R, pc, cur, pend, &next, at_stop);
        if (ok && next <= pc && cur->live) ok = failf(R->c, "the walk does not advance at %u", pc);
        pc = next;
    }
    for (uint32_t i = 0; i <= p->ncode; i++) free(pend[i]);
    free(pend);
    return ok && !R->c->err;
}

static void init_state(sym_ctx *c, st *s)
{
    memset(s, 0, sizeof *s);
    s->live = true;
    s->g = Z3_mk_true(c->z);
    s->failed = Z3_mk_false(c->z);
    s->outcome = sym_num(c, QO_KHTNV, 1);
}

bool sym_kind_retry(sym_ctx *c)
{
    if (!c->retry_key) return false;
    /* no progress (a key asked for twice): give up, with the error. Each
     * retry adds a key of a field, so the retries end. */
    if (in_list(c->retry_period ? c->periods : c->bounded, c->retry_period ? c->nperiods : c->nbounded, c->retry_key))
        return false;
    if (c->retry_period) {
        GROW(c->periods, c->nperiods, c->capperiods);
        c->periods[c->nperiods++] = c->retry_key;
    } else {
        GROW(c->bounded, c->nbounded, c->capbounded);
        c->bounded[c->nbounded++] = c->retry_key;
    }
    c->retry_key = NULL;
    free(c->err);
    c->err = NULL;
    return true;
}

bool sym_kind_run(sym_ctx *c, const q_program *p, uint32_t k, sym_kind *out)
{
    memset(out, 0, sizeof *out);
    out->p = p;
    out->k = k;
    const q_kind *kd = &p->kinds[k];
    const char *kname = prog_str(p, kd->name);
    Z3_ast F = Z3_mk_false(c->z);
    out->slot = ast_xcalloc(kd->nfields, sizeof *out->slot);
    out->decide = ast_xcalloc(p->nrules + 1, sizeof *out->decide);
    out->reach = ast_xcalloc(p->nrules + 1, sizeof *out->reach);
    out->cfail = ast_xcalloc(p->nclauses + 1, sizeof *out->cfail);
    out->cseen = ast_xcalloc(p->nclauses + 1, sizeof *out->cseen);
    out->flag = ast_xcalloc(p->nflagdefs + 1, sizeof *out->flag);
    for (uint32_t i = 0; i < p->nrules; i++) out->decide[i] = out->reach[i] = F;
    for (uint32_t i = 0; i < p->nclauses; i++) out->cfail[i] = out->cseen[i] = F;
    for (uint32_t i = 0; i < p->nflagdefs; i++) out->flag[i] = F;
    out->hook = F;
    for (uint32_t i = 0; i < kd->nfields; i++) {
        out->slot[i] = field_var(c, p, &p->fields[kd->first_field + i], kname, false);
        if (!out->slot[i]) return false;
    }
    run R = {.c = c, .p = p, .k = kd, .out = out, .err = F};
    /* the record's declared checks: a record the loader rejects is no counterexample */
    out->valid = Z3_mk_true(c->z);
    for (uint32_t i = 0; i < kd->nchecks; i++) {
        const q_check *ck = &p->checks[kd->first_check + i];
        st s, fin;
        init_state(c, &s);
        R.err = F;
        if (!exec(&R, ck->entry, QUY_NONE, &s, &fin)) return false;
        if (!fin.live || fin.sp < 1) return failf(c, "check %u of %s leaves no value", i, kname);
        Z3_ast holds = sym_and(c, fin.g, val_of(&R, &fin.s[fin.sp - 1]));
        out->valid = sym_and(c, out->valid, sym_and(c, holds, sym_not(c, R.err)));
    }
    if (kd->entry == QUY_NONE) return failf(c, "kind %s has no rate block", kname);
    st s, fin;
    init_state(c, &s);
    R.err = F;
    if (!exec(&R, kd->entry, QUY_NONE, &s, &fin)) return false;
    out->err = R.err;
    out->outcome = fin.live ? fin.outcome : sym_num(c, QO_KHTNV, 1);
    if (Z3_get_error_code(c->z) != Z3_OK) return failf(c, "solver error: %s", Z3_get_error_msg(c->z, Z3_get_error_code(c->z)));
    return true;
}

void sym_kind_free(sym_kind *s)
{
    free(s->slot);
    free(s->decide);
    free(s->reach);
    free(s->cfail);
    free(s->cseen);
    free(s->flag);
    free(s->hooks);
    memset(s, 0, sizeof *s);
}
