/*
 * witness.c — a solver model written as a record (JSON), and the VM's
 * confirmation of it (prove/, prefix wit_).
 *
 * The record is read back by the project's own record reader and rated by
 * the VM: a witness the reader rejects or the VM rates otherwise than the
 * encoding said is an encoding bug, reported as such.
 */
#include "witness.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../runtime/hook.h"
#include "../runtime/record.h"
#include "../runtime/strbuf.h"
#include "../runtime/vm.h"

/* The model's value of a Real/Int term as n/d. */
static bool model_rat(sym_ctx *c, Z3_model m, Z3_ast t, int64_t *n, int64_t *d)
{
    Z3_ast v;
    if (!Z3_model_eval(c->z, m, t, true, &v) || !Z3_is_numeral_ast(c->z, v)) return false;
    return Z3_get_numeral_rational_int64(c->z, v, n, d) && *d > 0;
}

static bool model_bool(sym_ctx *c, Z3_model m, Z3_ast t)
{
    Z3_ast v;
    return Z3_model_eval(c->z, m, t, true, &v) && Z3_get_bool_value(c->z, v) == Z3_L_TRUE;
}

/* n/d as an exact decimal; false when d has a prime factor other than 2, 5. */
static bool put_decimal(strbuf *b, int64_t n, int64_t d)
{
    int k = 0;
    __int128 num = n, den = d;
    while (den != 1 && k < 18) {
        if (den % 10 == 0) den /= 10;
        else if (den % 2 == 0) { den /= 2; num *= 5; }
        else if (den % 5 == 0) { den /= 5; num *= 2; }
        else return false;
        k++;
    }
    if (den != 1) return false;
    /* num / 10^k */
    char digits[64]; /* bounded: |num| < 2^127 has at most 39 digits, and k <= 18 */
    bool neg = num < 0;
    unsigned __int128 u = neg ? (unsigned __int128)(-num) : (unsigned __int128)num;
    int nd = 0;
    do {
        digits[nd++] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u);
    while (nd <= k) digits[nd++] = '0';
    if (neg) strbuf_put(b, "-", 1);
    for (int i = nd - 1; i >= 0; i--) {
        strbuf_put(b, &digits[i], 1);
        if (i == k && k > 0) strbuf_put(b, ".", 1);
    }
    return true;
}

static bool put_value(wit *w, strbuf *b, const sym_var *v, Z3_model m);

static bool put_scalar(wit *w, strbuf *b, uint8_t tk, Z3_ast t, const sym_var *v, Z3_model m)
{
    sym_ctx *c = w->c;
    int64_t n = 0, d = 1;
    char tmp[64]; /* bounded: a %lld (20 bytes), a date (10: q_format_date clamps the year), "khác-âm-" (10) + a %lld */
    if (tk == QT_BOOL) {
        strbuf_puts(b, model_bool(c, m, t) ? "true" : "false");
        return true;
    }
    if (!model_rat(c, m, t, &n, &d)) return false;
    switch (tk) {
    case QT_INT:
        snprintf(tmp, sizeof tmp, "%lld", (long long)n);
        strbuf_puts(b, tmp);
        return true;
    case QT_DECIMAL:
        if (!put_decimal(b, n, d)) w->not_decimal = true;
        return true;
    case QT_PERCENT:
        if (n > INT64_MAX / 100 || n < INT64_MIN / 100 || !put_decimal(b, n * 100, d)) w->not_decimal = true;
        return true;
    case QT_DATE:
        q_format_date(n, tmp);
        strbuf_json(b, tmp);
        return true;
    case QT_STRING:
        if (n >= 0 && (size_t)n < c->nstrs) {
            strbuf_json(b, c->strs[n]);
        } else {
            /* injective: distinct ids, distinct strings, none equal to a constant */
            if (n < 0)
                snprintf(tmp, sizeof tmp, "khác-âm-%lld", -(long long)n);
            else
                snprintf(tmp, sizeof tmp, "khác-%lld", (long long)(n - (int64_t)c->nstrs + 1));
            strbuf_json(b, tmp);
        }
        return true;
    case QT_ENUM:
    case QT_SCALE:
        if (!v || n < 0 || n >= (int64_t)v->ncnt) return false;
        strbuf_json(b, v->members[n]);
        return true;
    default: return false;
    }
}

static bool put_value(wit *w, strbuf *b, const sym_var *v, Z3_model m)
{
    sym_ctx *c = w->c;
    if (v->year) { /* a rating period: "YYYY" or "YYYY-Qn" */
        int64_t y, q, d;
        if (!model_rat(c, m, v->year, &y, &d) || !model_rat(c, m, v->quarter, &q, &d)) return false;
        if (y < 0 || y > 9999 || q < 0 || q > 4) return false; /* its domain (sym.c period_var) */
        char tmp[16]; /* bounded by the check above: "YYYY-Qn" */
        if (q)
            snprintf(tmp, sizeof tmp, "%04d-Q%d", (int)y, (int)q);
        else
            snprintf(tmp, sizeof tmp, "%04d", (int)y);
        strbuf_json(b, tmp);
        return true;
    }
    if (v->tk != QT_LIST) return put_scalar(w, b, v->tk, v->val, v, m);
    strbuf_put(b, "[", 1);
    bool first = true;
    if (v->cnt) {
        for (uint32_t e = 0; e < v->ncnt; e++) {
            int64_t n, d;
            if (!model_rat(c, m, v->cnt[e], &n, &d) || d != 1 || n < 0) return false;
            for (int64_t i = 0; i < n; i++) {
                if (!first) strbuf_put(b, ",", 1);
                first = false;
                strbuf_json(b, v->members[e]);
            }
        }
    } else {
        int64_t len, d;
        if (!model_rat(c, m, v->len, &len, &d) || d != 1 || len < 0 || len > PROVE_LIST_BOUND) return false;
        for (int64_t i = 0; i < len; i++) {
            if (!first) strbuf_put(b, ",", 1);
            first = false;
            if (v->nsub) {
                strbuf_put(b, "{", 1);
                for (uint32_t j = 0; j < v->nsub; j++) {
                    if (j) strbuf_put(b, ",", 1);
                    strbuf_json(b, v->subnames[j]);
                    strbuf_put(b, ":", 1);
                    const sym_var *e = v->elem[(size_t)i * v->nsub + j];
                    if (!put_value(w, b, e, m)) return false;
                }
                strbuf_put(b, "}", 1);
            } else if (!put_value(w, b, v->elem[i], m)) {
                return false;
            }
        }
    }
    strbuf_put(b, "]", 1);
    return true;
}

static void put_fields(wit *w, strbuf *b, const sym_kind *s, Z3_model m, const sym_var **done, size_t *ndone)
{
    const q_kind *kd = &s->p->kinds[s->k];
    for (uint32_t i = 0; i < kd->nfields; i++) {
        const sym_var *v = s->slot[i];
        bool seen = false;
        for (size_t j = 0; j < *ndone; j++) seen = seen || done[j] == v;
        if (seen) continue;
        done[(*ndone)++] = v;
        if (v->present && !model_bool(w->c, m, v->present)) continue;
        strbuf_put(b, ",", 1);
        strbuf_json(b, prog_str(s->p, s->p->fields[kd->first_field + i].name));
        strbuf_put(b, ":", 1);
        if (!put_value(w, b, v, m)) w->failed = true;
    }
}

char *wit_json(wit *w, Z3_model m, const sym_kind *a, const sym_kind *b, unsigned n)
{
    strbuf out = {0};
    char id[32]; /* bounded: "W-%u" is at most 12 bytes */
    snprintf(id, sizeof id, "W-%u", n);
    strbuf_puts(&out, "{\"id\":");
    strbuf_json(&out, id);
    strbuf_puts(&out, ",\"kind\":");
    strbuf_json(&out, prog_str(a->p, a->p->kinds[a->k].name));
    size_t cap = a->p->kinds[a->k].nfields + (b ? b->p->kinds[b->k].nfields : 0) + 1;
    const sym_var **done = ast_xcalloc(cap, sizeof *done);
    size_t ndone = 0;
    w->failed = w->not_decimal = false;
    put_fields(w, &out, a, m, done, &ndone);
    if (b) put_fields(w, &out, b, m, done, &ndone);
    free(done);
    strbuf_put(&out, "}", 1);
    char *json = strbuf_take(&out);
    if (!json) ast_bail("out of memory"); /* to prove_run's catch */
    return json;
}

/* Set *why (when why is not NULL) to a malloc'd reason. */
static void set_why(char **why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_why(char **why, const char *fmt, ...)
{
    if (!why) return;
    strbuf b = {0};
    va_list ap;
    va_start(ap, fmt);
    strbuf_vprintf(&b, fmt, ap);
    va_end(ap);
    *why = strbuf_take(&b);
    if (!*why) ast_bail("out of memory");
}

/* Rate the witness with the VM: its outcome and deciding rule, or false
 * with a reason (the reader rejected it, or the VM stopped). */
bool wit_rate(const q_program *p, const char *json, uint8_t *outcome, uint32_t *rule, char **why)
{
    size_t len = strlen(json);
    char *line = ast_xmalloc(len + 2);
    memcpy(line, json, len);
    line[len] = '\n';
    line[len + 1] = 0;
    FILE *in = fmemopen(line, len + 1, "r");
    if (!in) {
        free(line);
        set_why(why, "fmemopen failed");
        return false;
    }
    rec_reader *r = rec_reader_open(p, in, "witness", REC_JSONL);
    hook_session *hs = hook_session_new(p, NULL); /* hooks the witness's rules call */
    if (r) rec_reader_set_hooks(r, hs);
    bool ok = false, oom = !r || !hs;
    int vr = VM_OK;
    rec_error e;
    memset(&e, 0, sizeof e);
    if (!oom) {
        q_record *rec = NULL;
        int rc = rec_reader_next(r, &rec, &e);
        if (rc == 1) {
            vm_result res;
            vr = vm_rate(p, hs, rec, &res, NULL);
            if (vr == VM_OK) {
                *outcome = res.outcome;
                *rule = res.rule;
                ok = true;
            }
        } else if (strcmp(e.code, "no_memory") == 0) {
            oom = true;
        }
    }
    rec_reader_free(r);
    hook_session_free(hs);
    fclose(in);
    free(line);
    if (oom) ast_bail("out of memory"); /* an error of the run, not a mismatch */
    if (ok) return true; /* the reason is written once all is freed: set_why may jump out */
    if (vr != VM_OK)
        set_why(why, "the VM stopped: %s", vm_error_message[vr]);
    else
        set_why(why, "the record reader rejected it: %s %s: %s", e.code, e.field, e.message);
    return false;
}
