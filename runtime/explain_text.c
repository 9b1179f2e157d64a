/*
 * explain_text.c — the explanation in Vietnamese, for people (see
 * explain.h). Rules are listed in decision order: the deciding rule with
 * every clause, a failed rule with the clauses that failed and a count of
 * the rest; disqualifiers and not-rated rules that did not fire are
 * summed up in one short list; adjustments and flags where they happened.
 */
#include <stdlib.h>
#include <string.h>

#include "explain.h"

/* Whether read_text shows anything for r. */
static bool read_shows(const ex_read *r)
{
    return r->type == EV_READ || r->type == EV_HOOK || r->type == EV_AGG || r->type == EV_SHARE;
}

/* "Nhãn (field) = giá trị", "tổng theo «Nhãn» = 91", "tỉ lệ 1/6 = 16.6%",
 * "hook h(…) = v", appended to out (read_shows(r)). */
static void read_text(const explanation *x, const ex_read *r, strbuf *out)
{
    const q_program *p = x->p;
    switch (r->type) {
    case EV_READ: {
        const q_field *f = &p->fields[p->kinds[x->rec->kind].first_field + r->slot];
        const char *label = prog_str(p, f->label);
        if (*label) strbuf_printf(out, "%s (%s) = ", label, prog_str(p, f->name));
        else strbuf_printf(out, "%s = ", prog_str(p, f->name));
        explain_value(p, x->rec->kind, r->slot, r->val, x->rec, out);
        return;
    }
    case EV_HOOK: {
        const char *name = prog_str(p, p->hooks[r->idx].name);
        if (!r->result) {
            strbuf_printf(out,
                          "hook %s(…) lỗi, bỏ qua vì quy tắc đã không đạt (failed; ignored, the rule had already failed): %s",
                          name, r->why ? r->why : "");
            return;
        }
        strbuf_printf(out, "hook %s(…) = ", name);
        explain_scalar(p, p->hooks[r->idx].result, r->val, out);
        return;
    }
    case EV_AGG: {
        static const char *const vn[] = {[QK_SUM] = "tổng", [QK_MIN] = "nhỏ nhất", [QK_MAX] = "lớn nhất",
                                         [QK_RUN] = "chuỗi liên tiếp dài nhất"};
        strbuf_printf(out, "%s theo «%s» = ", r->result >= QK_SUM && r->result <= QK__LAST ? vn[r->result] : "?",
                      explain_field_label(x, r->slot));
        explain_agg(p, r, out);
        return;
    }
    case EV_SHARE:
        strbuf_puts(out, r->slot != 0xFFFF && r->idx != 0xFFFFFFFF ? "tỉ lệ " : "tỉ lệ = ");
        explain_share(r, out);
        return;
    default: return;
    }
}

static void text_clause(const explanation *x, const ex_clause *c, strbuf *out, int indent)
{
    const q_program *p = x->p;
    const q_clause *qc = &p->clauses[c->clause];
    strbuf_pad(out, (size_t)indent);
    const char *mark = c->result == 1 ? "✓" : c->result == 0 ? "✗" : "–";
    if (qc->label)
        strbuf_printf(out, "%s %s  [%s]", mark, prog_str(p, qc->label), prog_str(p, qc->text));
    else
        strbuf_printf(out, "%s %s", mark, prog_str(p, qc->text));
    if (c->result == -1) strbuf_printf(out, " — bỏ qua: không có dữ liệu «%s»", explain_field_label(x, c->absent_slot));
    if (c->exc >= 0 && qc->exc_text)
        strbuf_printf(out, " — ngoại lệ «%s»: %s", prog_str(p, qc->exc_text), c->exc ? "có, nên không áp dụng" : "không");
    strbuf_putc(out, '\n');
    if (!c->nreads && c->exc < 0) return;
    strbuf_pad(out, (size_t)indent + 4);
    strbuf_puts(out, "giá trị: ");
    bool first = true;
    for (uint32_t i = 0; i < c->nreads; i++) {
        const ex_read *r = &x->reads[c->read0 + i];
        if (r->type == EV_READ) {
            bool dup = false; /* a field read twice is shown once */
            for (uint32_t j = 0; j < i && !dup; j++) {
                const ex_read *o = &x->reads[c->read0 + j];
                dup = o->type == EV_READ && o->slot == r->slot;
            }
            if (dup) continue;
        }
        if (!read_shows(r)) continue;
        if (!first) strbuf_puts(out, "; ");
        read_text(x, r, out);
        first = false;
    }
    strbuf_putc(out, '\n');
}

static void text_adjust(const explanation *x, const ex_adjust *a, strbuf *out, int indent)
{
    const q_program *p = x->p;
    const q_flagdef *f = a->flag != QUY_NONE ? &p->flags[a->flag] : NULL;
    strbuf_pad(out, (size_t)indent);
    if (p->adjusts[a->adjust].phase == QA_RECORD)
        strbuf_puts(out, "↺ Hồ sơ được điều chỉnh trước khi xếp loại");
    else if (a->from != a->to && a->from < QO__COUNT && a->to < QO__COUNT)
        strbuf_printf(out, "↺ Mức xếp loại được điều chỉnh: %s → %s", q_outcome_code[a->from], q_outcome_code[a->to]);
    else
        strbuf_puts(out, "↺ Ghi nhận sau khi xếp loại");
    if (f) {
        strbuf_printf(out, " («%s»", prog_str(p, f->name));
        if (f->message != f->name) strbuf_printf(out, ": %s", prog_str(p, f->message));
        strbuf_putc(out, ')');
    }
    strbuf_printf(out, ": %s", a->reason);
    if (f && *prog_str(p, f->cite)) strbuf_printf(out, " — %s", prog_str(p, f->cite));
    if (f && *prog_str(p, f->layer)) strbuf_printf(out, " [%s]", prog_str(p, f->layer));
    strbuf_putc(out, '\n');
}

/* Disqualifiers / not-rated rules that did not fire, listed briefly. */
static void text_quiet(const explanation *x, const uint32_t *quiet, size_t n, strbuf *out, int indent)
{
    const q_program *p = x->p;
    strbuf_pad(out, (size_t)indent);
    strbuf_printf(out, "Không thuộc trường hợp nào trong %zu trường hợp loại trừ / không xếp loại đã xét:\n", n);
    for (size_t q = 0; q < n; q++) {
        const q_rule *qr = &p->rules[x->rules[quiet[q]].rule];
        strbuf_pad(out, (size_t)indent + 2);
        strbuf_printf(out, "· %s%s%s — %s [%s]\n", prog_str(p, qr->name), qr->label ? ": " : "", prog_str(p, qr->label),
                      prog_str(p, qr->cite), prog_str(p, qr->layer));
    }
}

/* A rule: held, every clause; failed, the failing ones in full and a count of the rest. */
static void text_rule(const explanation *x, const ex_rule *er, strbuf *out, int indent)
{
    const q_program *p = x->p;
    const q_rule *r = &p->rules[er->rule];
    strbuf_pad(out, (size_t)indent);
    const char *what = q_outcome_label[r->outcome];
    if (er->held && (r->flags & QR_OTHERWISE))
        strbuf_printf(out, "→ %s: không quy tắc nào ở trên khớp (otherwise)", what);
    else if (er->held)
        strbuf_printf(out, "→ %s theo «%s»%s%s", what, prog_str(p, r->name), r->label ? ": " : "", prog_str(p, r->label));
    else
        strbuf_printf(out, "✗ Không đạt %s («%s»)", what, prog_str(p, r->name));
    if (r->cite) strbuf_printf(out, " — %s", prog_str(p, r->cite));
    strbuf_printf(out, " [%s]\n", prog_str(p, r->layer));
    size_t passed = 0;
    for (uint32_t c = er->clause0; c < er->clause0 + er->nclauses; c++) {
        const ex_clause *cl = &x->clauses[c];
        if (!er->held && cl->result != 0) {
            passed++;
            continue;
        }
        text_clause(x, cl, out, indent + 4);
        /* amended clauses carry their own citation and layer */
        const q_clause *qc = &p->clauses[cl->clause];
        if (qc->layer != r->layer || qc->cite != r->cite) {
            strbuf_pad(out, (size_t)indent + 8);
            strbuf_printf(out, "(%s [%s])\n", prog_str(p, qc->cite), prog_str(p, qc->layer));
        }
    }
    if (passed) {
        strbuf_pad(out, (size_t)indent + 4);
        strbuf_printf(out, "(%zu điều kiện khác đạt)\n", passed);
    }
}

static void text_flag(const explanation *x, const ex_flag *ef, strbuf *out, int indent)
{
    const q_program *p = x->p;
    const q_flagdef *f = &p->flags[ef->flag];
    strbuf_pad(out, (size_t)indent);
    strbuf_printf(out, "⚑ %s: %s", prog_str(p, f->name), prog_str(p, f->message));
    if (f->cite && *prog_str(p, f->cite)) strbuf_printf(out, " — %s", prog_str(p, f->cite));
    if (f->layer && *prog_str(p, f->layer)) strbuf_printf(out, " [%s]", prog_str(p, f->layer));
    strbuf_putc(out, '\n');
}

void explain_render_text(const explanation *x, strbuf *out, int indent)
{
    const q_program *p = x->p;
    uint32_t *quiet = NULL; /* rule entries not fired, waiting for the next rule that shows */
    size_t nquiet = 0;
    if (x->nrules && !(quiet = malloc(x->nrules * sizeof *quiet))) {
        out->failed = true;
        return;
    }
    for (size_t s = 0; s < x->nsteps; s++) {
        const ex_step *st = &x->steps[s];
        if (st->type == EX_ADJUST) {
            text_adjust(x, &x->adjusts[st->index], out, indent);
        } else if (st->type == EX_FLAG) {
            text_flag(x, &x->flags[st->index], out, indent);
        } else {
            const ex_rule *er = &x->rules[st->index];
            const q_rule *r = &p->rules[er->rule];
            bool disq = r->outcome == QO_KHTNV || r->outcome >= QO_NOT_RATED;
            if (!er->held && disq && !(r->flags & QR_OTHERWISE)) {
                quiet[nquiet++] = st->index;
                continue;
            }
            if (nquiet) text_quiet(x, quiet, nquiet, out, indent);
            nquiet = 0;
            text_rule(x, er, out, indent);
        }
    }
    free(quiet);
    if (x->truncated) {
        strbuf_pad(out, (size_t)indent);
        strbuf_puts(out, "(giải thích bị cắt ngắn: quá nhiều sự kiện)\n");
    }
}

char *explain_text_str(const q_program *p, const q_record *rec, const vm_result *res, const vm_trace *tr, int indent)
{
    explanation x = {0};
    strbuf sb = {0};
    if (explain_build(&x, p, rec, res, tr) == 0) explain_render_text(&x, &sb, indent);
    else sb.failed = true;
    explain_clear(&x);
    return strbuf_take(&sb);
}

void explain_text(const q_program *p, const q_record *rec, const vm_result *res, const vm_trace *tr, FILE *out,
                  int indent)
{
    char *s = explain_text_str(p, rec, res, tr, indent);
    if (s) fputs(s, out);
    free(s);
}
