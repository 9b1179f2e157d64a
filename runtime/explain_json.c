/*
 * explain_json.c — the explanation as JSON, for machines (see explain.h).
 * Written straight into a string builder, member order fixed:
 *   {"decided_by":{rule,label?,outcome,cite,layer},
 *    "rules":[{rule,label?,outcome,cite,layer,held,clauses:[
 *        {condition,label?,result,absent?,unless?:{held?,condition},cite,layer,read}]}],
 *    "flags":[{code,message,cite?,layer?,read}],
 *    "adjustments":[{hook,phase,label?,reason,from?,to?,cite,layer,read}]?,
 *    "truncated":true?}
 * "read" is an object: field name → value for people; "share()" and the
 * aggregates ("sum axes") → the list of their values in order; a hook
 * called in an expression, "name()" → its value.
 */
#include <stdlib.h>
#include <string.h>

#include "explain.h"

static const char *const agg_word[] = {[QK_SUM] = "sum", [QK_MIN] = "min", [QK_MAX] = "max", [QK_RUN] = "longest run of"};

/* Whether reads a and b are shown under the same member (a field, share(),
 * a hook, an aggregate of a field): compared by what they read, not by a
 * rendered key, so no name is cut. */
static bool same_key(const ex_read *a, const ex_read *b)
{
    if (a->type != b->type) return false;
    switch (a->type) {
    case EV_READ: return a->slot == b->slot;
    case EV_SHARE: return true;
    case EV_HOOK: return a->idx == b->idx;
    default: return a->result == b->result && a->slot == b->slot;
    }
}

/* Whether the member's values are a list (share() and the aggregates). */
static bool key_is_list(const ex_read *r) { return r->type != EV_READ && r->type != EV_HOOK; }

/* tmp's text as a JSON string; tmp's lost text is out's. */
static void json_of(const strbuf *tmp, strbuf *out)
{
    if (tmp->failed) out->failed = true;
    strbuf_json_n(out, strbuf_text(tmp), tmp->n);
}

/* The member a read is shown under, as a JSON string (tmp: scratch). */
static void put_key(const explanation *x, const ex_read *r, strbuf *tmp, strbuf *out)
{
    const q_program *p = x->p;
    strbuf_reset(tmp);
    switch (r->type) {
    case EV_READ: strbuf_puts(tmp, explain_field_name(x, r->slot)); break;
    case EV_SHARE: strbuf_puts(tmp, "share()"); break;
    case EV_HOOK: strbuf_printf(tmp, "%s()", prog_str(p, p->hooks[r->idx].name)); break;
    default:
        strbuf_printf(tmp, "%s %s", r->result >= QK_SUM && r->result <= QK__LAST ? agg_word[r->result] : "?",
                      explain_field_name(x, r->slot));
        break;
    }
    json_of(tmp, out);
}

static void read_value(const explanation *x, const ex_read *r, strbuf *tmp, strbuf *out)
{
    const q_program *p = x->p;
    strbuf_reset(tmp);
    switch (r->type) {
    case EV_READ: explain_value(p, x->rec->kind, r->slot, r->val, x->rec, tmp); break;
    case EV_SHARE: {
        char b[128];
        q_format(r->val, true, b, sizeof b);
        strbuf_puts(tmp, b);
        break;
    }
    case EV_HOOK:
        if (r->result) explain_scalar(p, p->hooks[r->idx].result, r->val, tmp);
        else strbuf_printf(tmp,
                           "hook %s(…) lỗi, bỏ qua vì quy tắc đã không đạt (failed; ignored, the rule had already failed): %s",
                           prog_str(p, p->hooks[r->idx].name), r->why ? r->why : "");
        break;
    default: explain_agg(p, r, tmp); break;
    }
    json_of(tmp, out);
}

/* "read":{...} of reads [r0, r0 + n): each key once, at its first read; a
 * scalar shows its last value, a list all of them. */
static void json_reads(const explanation *x, uint32_t r0, uint32_t n, strbuf *out)
{
    const ex_read *rd = &x->reads[r0];
    strbuf tmp = {0};
    strbuf_puts(out, "\"read\":{");
    bool first = true;
    for (uint32_t i = 0; i < n; i++) {
        bool seen = false;
        for (uint32_t j = 0; j < i && !seen; j++) seen = same_key(&rd[j], &rd[i]);
        if (seen) continue;
        if (!first) strbuf_putc(out, ',');
        first = false;
        put_key(x, &rd[i], &tmp, out);
        strbuf_putc(out, ':');
        if (key_is_list(&rd[i])) {
            strbuf_putc(out, '[');
            for (uint32_t k = i, m = 0; k < n; k++)
                if (same_key(&rd[k], &rd[i])) {
                    if (m++) strbuf_putc(out, ',');
                    read_value(x, &rd[k], &tmp, out);
                }
            strbuf_putc(out, ']');
        } else {
            uint32_t last = i;
            for (uint32_t k = i + 1; k < n; k++)
                if (same_key(&rd[k], &rd[i])) last = k;
            read_value(x, &rd[last], &tmp, out);
        }
    }
    strbuf_putc(out, '}');
    strbuf_free(&tmp);
}

/* "name":"value", preceded by a comma */
static void member(strbuf *out, const char *name, const char *value)
{
    strbuf_printf(out, ",\"%s\":", name);
    strbuf_json(out, value);
}

static void rule_ref(const q_program *p, uint32_t r, strbuf *out)
{
    const q_rule *qr = &p->rules[r];
    strbuf_puts(out, "{\"rule\":");
    strbuf_json(out, prog_str(p, qr->name));
    if (qr->label) member(out, "label", prog_str(p, qr->label));
    member(out, "outcome", q_outcome_code[qr->outcome]);
    member(out, "cite", prog_str(p, qr->cite));
    member(out, "layer", prog_str(p, qr->layer));
}

static void json_clause(const explanation *x, const ex_clause *c, strbuf *out)
{
    const q_program *p = x->p;
    const q_clause *qc = &p->clauses[c->clause];
    strbuf_puts(out, "{\"condition\":");
    strbuf_json(out, prog_str(p, qc->text));
    if (qc->label) member(out, "label", prog_str(p, qc->label));
    if (c->result < 0) {
        member(out, "result", "skipped");
        member(out, "absent", explain_field_name(x, c->absent_slot));
    } else {
        strbuf_puts(out, c->result ? ",\"result\":true" : ",\"result\":false");
    }
    if (qc->exc_text) {
        strbuf_puts(out, ",\"unless\":{");
        if (c->exc >= 0) strbuf_puts(out, c->exc ? "\"held\":true," : "\"held\":false,");
        strbuf_puts(out, "\"condition\":");
        strbuf_json(out, prog_str(p, qc->exc_text));
        strbuf_putc(out, '}');
    }
    member(out, "cite", prog_str(p, qc->cite));
    member(out, "layer", prog_str(p, qc->layer));
    strbuf_putc(out, ',');
    json_reads(x, c->read0, c->nreads, out);
    strbuf_putc(out, '}');
}

static void json_rule(const explanation *x, const ex_rule *er, strbuf *out)
{
    rule_ref(x->p, er->rule, out);
    strbuf_puts(out, er->held ? ",\"held\":true,\"clauses\":[" : ",\"held\":false,\"clauses\":[");
    for (uint32_t c = 0; c < er->nclauses; c++) {
        if (c) strbuf_putc(out, ',');
        json_clause(x, &x->clauses[er->clause0 + c], out);
    }
    strbuf_puts(out, "]}");
}

static void json_flag(const explanation *x, const ex_flag *ef, strbuf *out)
{
    const q_program *p = x->p;
    const q_flagdef *f = &p->flags[ef->flag];
    strbuf_puts(out, "{\"code\":");
    strbuf_json(out, prog_str(p, f->name));
    member(out, "message", prog_str(p, f->message));
    if (f->cite) member(out, "cite", prog_str(p, f->cite));
    if (f->layer) member(out, "layer", prog_str(p, f->layer));
    strbuf_putc(out, ',');
    json_reads(x, ef->read0, ef->nreads, out);
    strbuf_putc(out, '}');
}

static void json_adjust(const explanation *x, const ex_adjust *a, strbuf *out)
{
    const q_program *p = x->p;
    const q_flagdef *f = a->flag != QUY_NONE ? &p->flags[a->flag] : NULL;
    const q_adjust *qa = &p->adjusts[a->adjust];
    strbuf_puts(out, "{\"hook\":");
    strbuf_json(out, prog_str(p, f ? f->name : 0));
    member(out, "phase", qa->phase == QA_RECORD ? "record" : "tier");
    if (f && f->message != f->name) member(out, "label", prog_str(p, f->message));
    member(out, "reason", a->reason);
    if (qa->phase == QA_TIER && a->from < QO__COUNT && a->to < QO__COUNT) {
        member(out, "from", q_outcome_code[a->from]);
        member(out, "to", q_outcome_code[a->to]);
    }
    if (f) member(out, "cite", prog_str(p, f->cite));
    if (f) member(out, "layer", prog_str(p, f->layer));
    strbuf_putc(out, ',');
    json_reads(x, a->read0, a->nreads, out);
    strbuf_putc(out, '}');
}

void explain_render_json(const explanation *x, strbuf *out, const char *tail)
{
    strbuf_putc(out, '{');
    if (x->decided_by != QUY_NONE) {
        strbuf_puts(out, "\"decided_by\":");
        rule_ref(x->p, x->decided_by, out);
        strbuf_puts(out, "},");
    }
    strbuf_puts(out, "\"rules\":[");
    for (size_t i = 0; i < x->nrules; i++) {
        if (i) strbuf_putc(out, ',');
        json_rule(x, &x->rules[i], out);
    }
    strbuf_puts(out, "],\"flags\":[");
    for (size_t i = 0; i < x->nflags; i++) {
        if (i) strbuf_putc(out, ',');
        json_flag(x, &x->flags[i], out);
    }
    strbuf_putc(out, ']');
    if (x->nadjusts) {
        strbuf_puts(out, ",\"adjustments\":[");
        for (size_t i = 0; i < x->nadjusts; i++) {
            if (i) strbuf_putc(out, ',');
            json_adjust(x, &x->adjusts[i], out);
        }
        strbuf_putc(out, ']');
    }
    if (x->truncated) strbuf_puts(out, ",\"truncated\":true");
    if (tail && *tail) {
        strbuf_putc(out, ',');
        strbuf_puts(out, tail);
    }
    strbuf_putc(out, '}');
}

/* ---------------------------------------------------------------------
 * For callers that want a jansson tree (lib/ of the library issue, until
 * its quy_explain reads the model directly): the same JSON, parsed.
 * ------------------------------------------------------------------- */

#include <jansson.h>

void *explain_json(const q_program *p, const q_record *rec, const vm_result *res, const vm_trace *tr)
{
    explanation x = {0};
    strbuf sb = {0};
    if (explain_build(&x, p, rec, res, tr) == 0) explain_render_json(&x, &sb, NULL);
    explain_clear(&x);
    json_t *j = sb.s && !sb.failed ? json_loads(sb.s, 0, NULL) : NULL;
    strbuf_free(&sb);
    return j;
}
