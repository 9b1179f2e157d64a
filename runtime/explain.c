/*
 * explain.c — explanations from a VM trace (see explain.h).
 *
 * The trace is a flat event list in evaluation order. Reads (EV_READ) that
 * happen before a clause's result (EV_CLAUSE / EV_SKIP) belong to that
 * clause; EV_RULE closes a rule; reads and EV_FLAG after the deciding rule
 * belong to the flag section. Both renderers walk the list once through
 * explain_walk().
 */
#include "explain.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------
 * Values
 * ------------------------------------------------------------------- */

static int fmt_scalar(const q_program *p, uint32_t type, q_val v, char *buf, size_t size)
{
    const q_type *t = &p->types[type];
    switch (t->kind) {
    case QT_INT:
    case QT_DECIMAL: return q_format(v, false, buf, size);
    case QT_PERCENT: return q_format(v, true, buf, size);
    case QT_BOOL: return snprintf(buf, size, "%s", v.n ? "có" : "không");
    case QT_DATE: {
        char d[16];
        q_format_date(v.n, d);
        return snprintf(buf, size, "%s", d);
    }
    case QT_STRING: return snprintf(buf, size, "\"%.*s\"", (int)v.d, (const char *)(intptr_t)v.n);
    case QT_ENUM:
    case QT_SCALE: {
        if (v.n < 0 || (uint64_t)v.n >= t->count) return snprintf(buf, size, "?");
        const q_member *m = &p->members[t->first + (uint32_t)v.n];
        const char *label = prog_str(p, m->label);
        return *label ? snprintf(buf, size, "%s", label) : snprintf(buf, size, "%s", prog_str(p, m->name));
    }
    default: return snprintf(buf, size, "…");
    }
}

int explain_value(const q_program *p, uint32_t kind, uint32_t slot, q_val v, const q_record *rec, char *buf, size_t size)
{
    const q_field *f = &p->fields[p->kinds[kind].first_field + slot];
    const q_type *t = &p->types[f->type];
    if (t->kind != QT_LIST) return fmt_scalar(p, f->type, v, buf, size);
    const q_type *et = &p->types[t->elem];
    if (et->kind == QT_STRUCT) return snprintf(buf, size, "%lld mục", (long long)v.d);
    size_t n = 0;
    n += (size_t)snprintf(buf + n, n < size ? size - n : 0, "[");
    for (int64_t i = 0; i < v.d && rec && (uint64_t)(v.n + i) < rec->nelems; i++) {
        if (n >= size) break;
        if (i) n += (size_t)snprintf(buf + n, n < size ? size - n : 0, ", ");
        if (n >= size) break;
        n += (size_t)fmt_scalar(p, t->elem, rec->elems[v.n + i], buf + n, size - n);
    }
    if (n < size) n += (size_t)snprintf(buf + n, size - n, "]");
    return (int)n;
}

/* "Nhãn (field) = giá trị" */
static int fmt_read(const q_program *p, const q_record *rec, const vm_event *e, char *buf, size_t size)
{
    const q_field *f = &p->fields[p->kinds[rec->kind].first_field + e->slot];
    char val[512];
    explain_value(p, rec->kind, e->slot, e->val, rec, val, sizeof val);
    const char *label = prog_str(p, f->label);
    if (*label) return snprintf(buf, size, "%s (%s) = %s", label, prog_str(p, f->name), val);
    return snprintf(buf, size, "%s = %s", prog_str(p, f->name), val);
}

/* "«hook» = value" of a hook called in an expression (0 for an adjustment) */
static int fmt_hook(const q_program *p, const vm_event *e, char *buf, size_t size)
{
    if (e->idx >= p->nhooks || p->hooks[e->idx].result == QUY_NONE) return 0;
    if (!e->result)
        return snprintf(buf, size, "hook %s(…) lỗi, bỏ qua vì quy tắc đã không đạt (failed; ignored, the rule had already failed): %s",
                        prog_str(p, p->hooks[e->idx].name), e->val.n ? (const char *)(intptr_t)e->val.n : "");
    char val[256];
    fmt_scalar(p, p->hooks[e->idx].result, e->val, val, sizeof val);
    return snprintf(buf, size, "hook %s(…) = %s", prog_str(p, p->hooks[e->idx].name), val);
}

/* The adjust step of an EV_ADJUST, its flag, and the outcomes around it. */
static const q_flagdef *adjust_flag(const q_program *p, const vm_event *e)
{
    if (e->idx >= p->nadjusts || p->adjusts[e->idx].flag >= p->nflagdefs) return NULL;
    return &p->flags[p->adjusts[e->idx].flag];
}

static const char *adjust_note(const vm_event *e) { return e->val.n ? (const char *)(intptr_t)e->val.n : ""; }

static const char *field_label(const q_program *p, const q_record *rec, uint16_t slot)
{
    const q_field *f = &p->fields[p->kinds[rec->kind].first_field + slot];
    const char *l = prog_str(p, f->label);
    return *l ? l : prog_str(p, f->name);
}

/* The name of an aggregate over a list: "sum axes", "min axes", ... */
static const char *const agg_word[] = {[QK_SUM] = "sum", [QK_MIN] = "min", [QK_MAX] = "max", [QK_RUN] = "longest run of"};
static void agg_key(const q_program *p, const q_record *rec, const vm_event *e, char *buf, size_t size)
{
    const q_field *f = &p->fields[p->kinds[rec->kind].first_field + e->slot];
    snprintf(buf, size, "%s %s", e->result >= QK_SUM && e->result <= QK__LAST ? agg_word[e->result] : "?",
             prog_str(p, f->name));
}

static void agg_value(const q_program *p, const vm_event *e, char *buf, size_t size)
{
    if (e->idx < p->ntypes && p->types[e->idx].kind != QT_LIST && p->types[e->idx].kind != QT_STRUCT)
        fmt_scalar(p, e->idx, e->val, buf, size);
    else
        q_format(e->val, false, buf, size);
}

/* ---------------------------------------------------------------------
 * JSON
 * ------------------------------------------------------------------- */

static json_t *rule_ref(const q_program *p, uint32_t r)
{
    const q_rule *qr = &p->rules[r];
    json_t *o = json_object();
    json_object_set_new(o, "rule", json_string(prog_str(p, qr->name)));
    if (qr->label) json_object_set_new(o, "label", json_string(prog_str(p, qr->label)));
    json_object_set_new(o, "outcome", json_string(q_outcome_code[qr->outcome]));
    json_object_set_new(o, "cite", json_string(prog_str(p, qr->cite)));
    json_object_set_new(o, "layer", json_string(prog_str(p, qr->layer)));
    return o;
}

void *explain_json(const q_program *p, const q_record *rec, const vm_result *res, const vm_trace *tr)
{
    json_t *root = json_object();
    if (res->rule != QUY_NONE) json_object_set_new(root, "decided_by", rule_ref(p, res->rule));
    json_t *rules = json_array(), *flags = json_array();
    json_t *reads = json_object(); /* pending reads, attached to the next clause */
    json_t *clauses = json_array();
    json_t *exc = NULL, *adjusts = NULL;
    char buf[1024];
    for (uint32_t i = 0; tr && i < tr->n; i++) {
        const vm_event *e = &tr->ev[i];
        switch (e->type) {
        case EV_READ: {
            const q_field *f = &p->fields[p->kinds[rec->kind].first_field + e->slot];
            explain_value(p, rec->kind, e->slot, e->val, rec, buf, sizeof buf);
            json_object_set_new(reads, prog_str(p, f->name), json_string(buf));
            break;
        }
        case EV_SHARE: {
            char v[64];
            q_format(e->val, true, v, sizeof v);
            json_t *arr = json_object_get(reads, "share()");
            if (!arr) {
                arr = json_array();
                json_object_set_new(reads, "share()", arr);
            }
            json_array_append_new(arr, json_string(v));
            break;
        }
        case EV_HOOK:
            if (fmt_hook(p, e, buf, sizeof buf) > 0) {
                char key[200];
                snprintf(key, sizeof key, "%s()", prog_str(p, p->hooks[e->idx].name));
                if (e->result) fmt_scalar(p, p->hooks[e->idx].result, e->val, buf, sizeof buf);
                json_object_set_new(reads, key, json_string(buf));
            }
            break;
        case EV_ADJUST: {
            const q_flagdef *f = adjust_flag(p, e);
            const q_adjust *a = &p->adjusts[e->idx];
            json_t *o = json_object();
            json_object_set_new(o, "hook", json_string(prog_str(p, f ? f->name : 0)));
            json_object_set_new(o, "phase", json_string(a->phase == QA_RECORD ? "record" : "tier"));
            if (f && f->message != f->name) json_object_set_new(o, "label", json_string(prog_str(p, f->message)));
            json_object_set_new(o, "reason", json_string(adjust_note(e)));
            if (a->phase == QA_TIER && e->slot < QO__COUNT && e->result < QO__COUNT) {
                json_object_set_new(o, "from", json_string(q_outcome_code[e->slot]));
                json_object_set_new(o, "to", json_string(q_outcome_code[e->result]));
            }
            if (f) json_object_set_new(o, "cite", json_string(prog_str(p, f->cite)));
            if (f) json_object_set_new(o, "layer", json_string(prog_str(p, f->layer)));
            json_object_set_new(o, "read", reads);
            reads = json_object();
            if (!adjusts) adjusts = json_array();
            json_array_append_new(adjusts, o);
            break;
        }
        case EV_AGG: {
            /* "sum axes": ["91"] — the aggregate's value, per list */
            char key[160], v[64];
            agg_key(p, rec, e, key, sizeof key);
            agg_value(p, e, v, sizeof v);
            json_t *arr = json_object_get(reads, key);
            if (!arr) {
                arr = json_array();
                json_object_set_new(reads, key, arr);
            }
            json_array_append_new(arr, json_string(v));
            break;
        }
        case EV_EXC:
            exc = json_object();
            json_object_set_new(exc, "held", json_boolean(e->result));
            break;
        case EV_CLAUSE:
        case EV_SKIP: {
            const q_clause *c = &p->clauses[e->idx];
            json_t *o = json_object();
            json_object_set_new(o, "condition", json_string(prog_str(p, c->text)));
            if (c->label) json_object_set_new(o, "label", json_string(prog_str(p, c->label)));
            if (e->type == EV_SKIP) {
                json_object_set_new(o, "result", json_string("skipped"));
                json_object_set_new(o, "absent", json_string(prog_str(p, p->fields[p->kinds[rec->kind].first_field + e->slot].name)));
            } else {
                json_object_set_new(o, "result", json_boolean(e->result));
            }
            if (c->exc_text) {
                if (!exc) exc = json_object();
                json_object_set_new(exc, "condition", json_string(prog_str(p, c->exc_text)));
                json_object_set_new(o, "unless", exc);
                exc = NULL;
            }
            json_object_set_new(o, "cite", json_string(prog_str(p, c->cite)));
            json_object_set_new(o, "layer", json_string(prog_str(p, c->layer)));
            json_object_set_new(o, "read", reads);
            reads = json_object();
            json_array_append_new(clauses, o);
            break;
        }
        case EV_RULE: {
            json_t *o = rule_ref(p, e->idx);
            json_object_set_new(o, "held", json_boolean(e->result));
            json_object_set_new(o, "clauses", clauses);
            clauses = json_array();
            json_array_append_new(rules, o);
            json_object_clear(reads);
            break;
        }
        case EV_FLAG: {
            const q_flagdef *f = &p->flags[e->idx];
            json_t *o = json_object();
            json_object_set_new(o, "code", json_string(prog_str(p, f->name)));
            json_object_set_new(o, "message", json_string(prog_str(p, f->message)));
            if (f->cite) json_object_set_new(o, "cite", json_string(prog_str(p, f->cite)));
            if (f->layer) json_object_set_new(o, "layer", json_string(prog_str(p, f->layer)));
            json_object_set_new(o, "read", reads);
            reads = json_object();
            json_array_append_new(flags, o);
            break;
        }
        default: break;
        }
    }
    json_decref(reads);
    json_decref(clauses);
    if (exc) json_decref(exc);
    json_object_set_new(root, "rules", rules);
    json_object_set_new(root, "flags", flags);
    if (adjusts) json_object_set_new(root, "adjustments", adjusts);
    if (tr && tr->truncated) json_object_set_new(root, "truncated", json_true());
    return root;
}

/* ---------------------------------------------------------------------
 * Text
 * ------------------------------------------------------------------- */

typedef struct tx_clause {
    uint32_t clause;
    int result; /* 1 held, 0 failed, -1 skipped */
    uint16_t absent_slot;
    int exc; /* -1 none, 0/1 exception value */
    uint32_t first_read, nreads; /* event indices of its reads */
} tx_clause;

static void pad(FILE *out, int n)
{
    for (int i = 0; i < n; i++) fputc(' ', out);
}

static void text_clause(const q_program *p, const q_record *rec, const vm_trace *tr, const tx_clause *c, FILE *out,
                        int indent)
{
    const q_clause *qc = &p->clauses[c->clause];
    pad(out, indent);
    const char *mark = c->result == 1 ? "✓" : c->result == 0 ? "✗" : "–";
    if (qc->label)
        fprintf(out, "%s %s  [%s]", mark, prog_str(p, qc->label), prog_str(p, qc->text));
    else
        fprintf(out, "%s %s", mark, prog_str(p, qc->text));
    if (c->result == -1) fprintf(out, " — bỏ qua: không có dữ liệu «%s»", field_label(p, rec, c->absent_slot));
    if (c->exc >= 0 && qc->exc_text)
        fprintf(out, " — ngoại lệ «%s»: %s", prog_str(p, qc->exc_text), c->exc ? "có, nên không áp dụng" : "không");
    fputc('\n', out);
    if (c->nreads) {
        pad(out, indent + 4);
        fprintf(out, "giá trị: ");
        char buf[1024];
        bool first = true;
        for (uint32_t i = 0; i < c->nreads; i++) {
            const vm_event *e = &tr->ev[c->first_read + i];
            if (e->type == EV_READ) {
                bool dup = false; /* a field read twice is shown once */
                for (uint32_t j = 0; j < i; j++) {
                    const vm_event *f = &tr->ev[c->first_read + j];
                    dup |= f->type == EV_READ && f->slot == e->slot;
                }
                if (dup) continue;
                fmt_read(p, rec, e, buf, sizeof buf);
            } else if (e->type == EV_HOOK) {
                if (fmt_hook(p, e, buf, sizeof buf) <= 0) continue;
            } else if (e->type == EV_AGG) {
                /* "tổng theo «Các trục kết quả» = 91" */
                static const char *const vn[] = {[QK_SUM] = "tổng", [QK_MIN] = "nhỏ nhất", [QK_MAX] = "lớn nhất",
                                                 [QK_RUN] = "chuỗi liên tiếp dài nhất"};
                char v[64];
                agg_value(p, e, v, sizeof v);
                snprintf(buf, sizeof buf, "%s theo «%s» = %s",
                         e->result >= QK_SUM && e->result <= QK__LAST ? vn[e->result] : "?", field_label(p, rec, e->slot),
                         v);
            } else if (e->type == EV_SHARE) {
                char v[64];
                q_format(e->val, true, v, sizeof v);
                if (e->slot != 0xFFFF && e->idx != 0xFFFFFFFF)
                    snprintf(buf, sizeof buf, "tỉ lệ %u/%u = %s", e->slot, e->idx, v);
                else
                    snprintf(buf, sizeof buf, "tỉ lệ = %s", v);
            } else {
                continue;
            }
            fprintf(out, "%s%s", first ? "" : "; ", buf);
            first = false;
        }
        fputc('\n', out);
    }
}

void explain_text(const q_program *p, const q_record *rec, const vm_result *res, const vm_trace *tr, FILE *out,
                  int indent)
{
    if (!tr) return;
    tx_clause cl[256];
    size_t ncl = 0;
    uint32_t read_start = 0;
    int exc = -1;
    /* disqualifiers / not-rated rules that did not fire, listed briefly */
    uint32_t quiet[256];
    size_t nquiet = 0;
    for (uint32_t i = 0; i < tr->n; i++) {
        const vm_event *e = &tr->ev[i];
        switch (e->type) {
        case EV_READ:
        case EV_SHARE:
        case EV_HOOK: break;
        case EV_ADJUST: {
            const q_flagdef *f = adjust_flag(p, e);
            const q_adjust *a = &p->adjusts[e->idx];
            pad(out, indent);
            if (a->phase == QA_RECORD)
                fprintf(out, "↺ Hồ sơ được điều chỉnh trước khi xếp loại");
            else if (e->slot != e->result && e->slot < QO__COUNT && e->result < QO__COUNT)
                fprintf(out, "↺ Mức xếp loại được điều chỉnh: %s → %s", q_outcome_code[e->slot], q_outcome_code[e->result]);
            else
                fprintf(out, "↺ Ghi nhận sau khi xếp loại");
            if (f) {
                fprintf(out, " («%s»", prog_str(p, f->name));
                if (f->message != f->name) fprintf(out, ": %s", prog_str(p, f->message));
                fputc(')', out);
            }
            fprintf(out, ": %s", adjust_note(e));
            if (f && *prog_str(p, f->cite)) fprintf(out, " — %s", prog_str(p, f->cite));
            if (f && *prog_str(p, f->layer)) fprintf(out, " [%s]", prog_str(p, f->layer));
            fputc('\n', out);
            read_start = i + 1;
            break;
        }
        case EV_AGG: break;
        case EV_EXC: exc = e->result; break;
        case EV_CLAUSE:
        case EV_SKIP:
            if (ncl < 256) {
                cl[ncl].clause = e->idx;
                cl[ncl].result = e->type == EV_SKIP ? -1 : e->result;
                cl[ncl].absent_slot = e->slot;
                cl[ncl].exc = exc;
                cl[ncl].first_read = read_start;
                cl[ncl].nreads = i - read_start;
                ncl++;
            }
            exc = -1;
            read_start = i + 1;
            break;
        case EV_RULE: {
            const q_rule *r = &p->rules[e->idx];
            bool disq = r->outcome == QO_KHTNV || r->outcome >= QO_NOT_RATED;
            if (!e->result && disq && !(r->flags & QR_OTHERWISE)) {
                if (nquiet < 256) quiet[nquiet++] = e->idx;
            } else {
                if (nquiet) {
                    pad(out, indent);
                    fprintf(out, "Không thuộc trường hợp nào trong %zu trường hợp loại trừ / không xếp loại đã xét:\n",
                            nquiet);
                    for (size_t q = 0; q < nquiet; q++) {
                        const q_rule *qr = &p->rules[quiet[q]];
                        pad(out, indent + 2);
                        fprintf(out, "· %s%s%s — %s [%s]\n", prog_str(p, qr->name), qr->label ? ": " : "",
                                prog_str(p, qr->label), prog_str(p, qr->cite), prog_str(p, qr->layer));
                    }
                    nquiet = 0;
                }
                pad(out, indent);
                const char *what = q_outcome_label[r->outcome];
                if (e->result && (r->flags & QR_OTHERWISE))
                    fprintf(out, "→ %s: không quy tắc nào ở trên khớp (otherwise)", what);
                else if (e->result)
                    fprintf(out, "→ %s theo «%s»%s%s", what, prog_str(p, r->name), r->label ? ": " : "", prog_str(p, r->label));
                else
                    fprintf(out, "✗ Không đạt %s («%s»)", what, prog_str(p, r->name));
                if (r->cite) fprintf(out, " — %s", prog_str(p, r->cite));
                fprintf(out, " [%s]\n", prog_str(p, r->layer));
                /* held: every clause; failed: the failing ones in full, a count of the rest */
                size_t passed = 0;
                for (size_t c = 0; c < ncl; c++) {
                    if (e->result || cl[c].result == 0) {
                        text_clause(p, rec, tr, &cl[c], out, indent + 4);
                        /* amended clauses carry their own citation and layer */
                        const q_clause *qc = &p->clauses[cl[c].clause];
                        if (qc->layer != r->layer || qc->cite != r->cite) {
                            pad(out, indent + 8);
                            fprintf(out, "(%s [%s])\n", prog_str(p, qc->cite), prog_str(p, qc->layer));
                        }
                    } else {
                        passed++;
                    }
                }
                if (passed) {
                    pad(out, indent + 4);
                    fprintf(out, "(%zu điều kiện khác đạt)\n", passed);
                }
            }
            ncl = 0;
            read_start = i + 1;
            break;
        }
        case EV_FLAG: {
            const q_flagdef *f = &p->flags[e->idx];
            pad(out, indent);
            fprintf(out, "⚑ %s: %s", prog_str(p, f->name), prog_str(p, f->message));
            if (f->cite && *prog_str(p, f->cite)) fprintf(out, " — %s", prog_str(p, f->cite));
            if (f->layer && *prog_str(p, f->layer)) fprintf(out, " [%s]", prog_str(p, f->layer));
            fputc('\n', out);
            read_start = i + 1;
            break;
        }
        default: break;
        }
    }
    if (tr->truncated) {
        pad(out, indent);
        fprintf(out, "(giải thích bị cắt ngắn: quá nhiều sự kiện)\n");
    }
    (void)res;
}

char *explain_text_str(const q_program *p, const q_record *rec, const vm_result *res, const vm_trace *tr, int indent)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return NULL;
    explain_text(p, rec, res, tr, f, indent);
    fclose(f);
    return buf;
}
