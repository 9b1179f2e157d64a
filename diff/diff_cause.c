/*
 * diff_cause.c — why a record moved between two rulesets (see diff.h).
 *
 * Both programs rate the record again with a trace, decoded into the
 * explanation model (runtime/explain.h: rules, clauses, values read). The
 * rules of the record's kind are then walked in one decision order — the
 * new program's, with rules only the old one has inserted after their old
 * predecessor — and the cause is the first rule whose outcome differs:
 * held in one program and not in the other (failed, or absent from it),
 * or held in both with different tiers (a `replace`). Its clauses whose
 * text or result differ between the two programs are reported on each
 * side, with their citations and the values they read.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../runtime/batch.h"
#include "../runtime/explain.h"
#include "diff.h"


/* The adjust steps that took effect on one side: [{step, phase, label, reason, from, to, cite, layer}]. */
static json_t *adjust_json(const explanation *x)
{
    const q_program *p = x->p;
    json_t *a = json_array();
    for (size_t i = 0; i < x->nadjusts; i++) {
        const ex_adjust *e = &x->adjusts[i];
        const q_adjust *ad = &p->adjusts[e->adjust];
        const q_flagdef *f = e->flag != QUY_NONE ? &p->flags[e->flag] : NULL;
        json_t *o = json_object();
        json_object_set_new(o, "step", json_string(f ? prog_str(p, f->name) : "?"));
        json_object_set_new(o, "phase", json_string(ad->phase == QA_RECORD ? "record" : "tier"));
        if (f && f->message != f->name) json_object_set_new(o, "label", json_string(prog_str(p, f->message)));
        json_object_set_new(o, "reason", json_string(e->reason));
        if (ad->phase == QA_TIER && e->from < QO__COUNT && e->to < QO__COUNT) {
            json_object_set_new(o, "from", json_string(q_outcome_code[e->from]));
            json_object_set_new(o, "to", json_string(q_outcome_code[e->to]));
        }
        if (f) {
            json_object_set_new(o, "cite", json_string(prog_str(p, f->cite)));
            json_object_set_new(o, "layer", json_string(prog_str(p, f->layer)));
        }
        json_array_append_new(a, o);
    }
    return a;
}

/* =====================================================================
 * Rendering one side of the cause
 * ===================================================================== */

static void add_read(json_t *reads, const char *field, const char *label, const char *value)
{
    json_t *r = json_object();
    json_object_set_new(r, "field", json_string(field));
    if (label) json_object_set_new(r, "label", json_string(label));
    json_object_set_new(r, "value", json_string(value));
    json_array_append_new(reads, r);
}

/* One clause with the values it read; *oom set when out of memory (a value not shown whole). */
static json_t *clause_json(const explanation *x, const ex_clause *c, bool *oom)
{
    const q_program *p = x->p;
    const q_record *rec = x->rec;
    const q_clause *qc = &p->clauses[c->clause];
    json_t *o = json_object();
    json_object_set_new(o, "condition", json_string(prog_str(p, qc->text)));
    if (qc->label) json_object_set_new(o, "label", json_string(prog_str(p, qc->label)));
    if (c->result < 0) {
        json_object_set_new(o, "result", json_string("skipped"));
        json_object_set_new(o, "absent", json_string(explain_field_name(x, c->absent_slot)));
    } else {
        json_object_set_new(o, "result", json_boolean(c->result));
    }
    if (qc->exc_text) {
        json_t *u = json_object();
        json_object_set_new(u, "condition", json_string(prog_str(p, qc->exc_text)));
        if (c->exc >= 0) json_object_set_new(u, "held", json_boolean(c->exc));
        json_object_set_new(o, "unless", u);
    }
    json_object_set_new(o, "cite", json_string(prog_str(p, qc->cite)));
    json_object_set_new(o, "layer", json_string(prog_str(p, qc->layer)));
    /* "values it read": field -> value for people, then the shares */
    json_t *reads = json_array();
    strbuf val = {0}, key = {0};
    for (uint32_t i = 0; i < c->nreads; i++) {
        const ex_read *e = &x->reads[c->read0 + i];
        strbuf_reset(&val);
        strbuf_reset(&key);
        if (e->type == EV_READ) {
            const q_field *f = &p->fields[p->kinds[rec->kind].first_field + e->slot];
            bool dup = false; /* a field read twice is shown once */
            for (uint32_t j = 0; j < i && !dup; j++)
                dup = x->reads[c->read0 + j].type == EV_READ && x->reads[c->read0 + j].slot == e->slot;
            if (dup) continue;
            explain_value(p, rec->kind, e->slot, e->val, rec, &val);
            add_read(reads, prog_str(p, f->name), f->label ? prog_str(p, f->label) : NULL, strbuf_text(&val));
        } else if (e->type == EV_SHARE) {
            explain_share(e, &val);
            add_read(reads, "share()", NULL, strbuf_text(&val));
        } else if (e->type == EV_AGG && e->slot < p->kinds[rec->kind].nfields) {
            /* sum / min / max / longest run over a list: "sum(axes)" = 91 */
            static const char *const word[] = {[QK_SUM] = "sum", [QK_MIN] = "min", [QK_MAX] = "max", [QK_RUN] = "run"};
            strbuf_printf(&key, "%s(%s)", e->result >= QK_SUM && e->result <= QK__LAST ? word[e->result] : "?",
                          explain_field_name(x, e->slot));
            explain_agg(p, e, &val);
            add_read(reads, strbuf_text(&key), NULL, strbuf_text(&val));
        } else if (e->type == EV_HOOK && e->result) {
            strbuf_printf(&key, "%s()", prog_str(p, p->hooks[e->idx].name));
            explain_scalar(p, p->hooks[e->idx].result, e->val, &val);
            add_read(reads, strbuf_text(&key), NULL, strbuf_text(&val));
        }
        if (val.failed || key.failed) *oom = true;
    }
    strbuf_free(&val);
    strbuf_free(&key);
    json_object_set_new(o, "read", reads);
    return o;
}

typedef enum rs_state { RS_ABSENT, RS_UNREACHED, RS_FAILED, RS_HELD } rs_state;
static const char *const rs_name[] = {"absent", "not_reached", "failed", "held"};

typedef struct side {
    const q_program *p;
    const explanation *x; /* the record's explanation by p */
    uint32_t k;           /* kind index */
} side;

static uint32_t find_rule(const side *s, const char *name)
{
    const q_kind *kd = &s->p->kinds[s->k];
    for (uint32_t r = kd->first_rule; r < kd->first_rule + kd->nrules; r++)
        if (!strcmp(prog_str(s->p, s->p->rules[r].name), name)) return r;
    return QUY_NONE;
}


/* Is there a clause in `other` with this text and result? */
static bool clause_matched(const side *s, const ex_clause *c, const side *o, const ex_rule *osr)
{
    if (!osr) return false;
    const char *text = prog_str(s->p, s->p->clauses[c->clause].text);
    for (uint32_t i = osr->clause0; i < osr->clause0 + osr->nclauses; i++) {
        const ex_clause *d = &o->x->clauses[i];
        if (d->result == c->result && !strcmp(prog_str(o->p, o->p->clauses[d->clause].text), text)) return true;
    }
    return false;
}

static json_t *side_json(const side *s, uint32_t r, const ex_rule *sr, rs_state st, const side *o,
                         const ex_rule *osr, bool *oom)
{
    json_t *j = json_object();
    json_object_set_new(j, "state", json_string(rs_name[st]));
    if (r == QUY_NONE) return j;
    const q_rule *qr = &s->p->rules[r];
    json_object_set_new(j, "outcome", json_string(q_outcome_code[qr->outcome]));
    json_object_set_new(j, "cite", json_string(prog_str(s->p, qr->cite)));
    json_object_set_new(j, "layer", json_string(prog_str(s->p, qr->layer)));
    if (!sr) return j;
    json_t *cl = json_array();
    for (uint32_t i = sr->clause0; i < sr->clause0 + sr->nclauses; i++) {
        const ex_clause *c = &s->x->clauses[i];
        if (clause_matched(s, c, o, osr)) continue;
        json_array_append_new(cl, clause_json(s->x, c, oom));
    }
    json_object_set_new(j, "clauses", cl);
    return j;
}

/* =====================================================================
 * The cause
 *
 * Each finder fills *out and returns 1, returns 0 when it does not apply,
 * or -1 when out of memory. The texts are whole: formatted into a strbuf
 * (runtime/strbuf.h) and taken.
 * ===================================================================== */

/* The formatted text, malloc'd; NULL when out of memory. */
__attribute__((format(printf, 1, 2))) static char *text_of(const char *fmt, ...)
{
    strbuf b = {0};
    va_list ap;
    va_start(ap, fmt);
    strbuf_vprintf(&b, fmt, ap);
    va_end(ap);
    return strbuf_take(&b);
}

void dc_cause_free(dc_cause *c)
{
    free(c->key);
    free(c->label);
    free(c->cite_old);
    free(c->cite_new);
    if (c->detail) json_decref(c->detail);
    memset(c, 0, sizeof *c);
}

/* Every text and the detail were made (after a finder filled *out). */
static int made(dc_cause *out)
{
    return out->key && out->label && out->detail ? 1 : -1;
}

/* Rule names in one decision order: the new program's rules, old-only
 * rules inserted after their nearest old predecessor that is already
 * placed. NULL when out of memory; *n rules. */
static const char **decision_order(const side sd[2], size_t *np)
{
    const q_kind *kn = &sd[1].p->kinds[sd[1].k], *ko = &sd[0].p->kinds[sd[0].k];
    size_t cap = kn->nrules + ko->nrules + 1, n = 0;
    const char **order = malloc(cap * sizeof *order);
    if (!order) return NULL;
    for (uint32_t r = 0; r < kn->nrules; r++) order[n++] = prog_str(sd[1].p, sd[1].p->rules[kn->first_rule + r].name);
    for (uint32_t r = 0; r < ko->nrules; r++) {
        const char *name = prog_str(sd[0].p, sd[0].p->rules[ko->first_rule + r].name);
        bool placed = false;
        for (size_t i = 0; i < n && !placed; i++) placed = !strcmp(order[i], name);
        if (placed) continue;
        size_t at = 0;
        for (uint32_t q = r; q-- > 0 && !at;) {
            const char *prev = prog_str(sd[0].p, sd[0].p->rules[ko->first_rule + q].name);
            for (size_t i = 0; i < n; i++)
                if (!strcmp(order[i], prev)) {
                    at = i + 1;
                    break;
                }
        }
        memmove(&order[at + 1], &order[at], (n - at) * sizeof *order);
        order[at] = name;
        n++;
    }
    *np = n;
    return order;
}

/* The cause of rule `name`, whose outcome differs (r[s]: its index on side s, or QUY_NONE). */
static int rule_found(const side sd[2], const char *name, const uint32_t r[2], const ex_rule *const sr[2],
                      const rs_state st[2], dc_cause *out)
{
    out->type = DC_RULE;
    out->key = strdup(name);
    int ls = r[1] != QUY_NONE ? 1 : 0;
    const q_rule *lr = &sd[ls].p->rules[r[ls]];
    out->label = strdup(prog_str(sd[ls].p, lr->label));
    for (int s = 0; s < 2; s++) {
        char *c = r[s] == QUY_NONE ? strdup("(không có quy tắc này)")
                                   : text_of("%s [%s]", prog_str(sd[s].p, sd[s].p->rules[r[s]].cite),
                                             prog_str(sd[s].p, sd[s].p->rules[r[s]].layer));
        *(s ? &out->cite_new : &out->cite_old) = c;
        if (!c) return -1;
    }
    json_t *d = out->detail = json_object();
    if (!d) return -1;
    json_object_set_new(d, "type", json_string("rule"));
    json_object_set_new(d, "rule", json_string(name));
    if (lr->label) json_object_set_new(d, "label", json_string(prog_str(sd[ls].p, lr->label)));
    bool oom = false;
    json_object_set_new(d, "old", side_json(&sd[0], r[0], sr[0], st[0], &sd[1], sr[1], &oom));
    json_object_set_new(d, "new", side_json(&sd[1], r[1], sr[1], st[1], &sd[0], sr[0], &oom));
    return oom ? -1 : made(out);
}

/* The first rule, in decision order, whose outcome differs. */
static int rule_cause(const side sd[2], dc_cause *out)
{
    size_t n = 0;
    const char **order = decision_order(sd, &n);
    if (!order) return -1;
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        uint32_t r[2];
        const ex_rule *sr[2];
        rs_state st[2];
        int outc[2];
        for (int s = 0; s < 2; s++) {
            r[s] = find_rule(&sd[s], order[i]);
            sr[s] = r[s] == QUY_NONE ? NULL : explain_find_rule(sd[s].x, r[s]);
            st[s] = r[s] == QUY_NONE ? RS_ABSENT : !sr[s] ? RS_UNREACHED : sr[s]->held ? RS_HELD : RS_FAILED;
            outc[s] = st[s] == RS_HELD ? sd[s].p->rules[r[s]].outcome : -1;
        }
        if (outc[0] != outc[1]) rc = rule_found(sd, order[i], r, sr, st, out);
    }
    free(order);
    return rc;
}

/* The rules agree: an adjust step after them (a tier adjustment) that one
 * side made and the other did not, or made differently. */
static int adjust_cause(const side sd[2], dc_cause *out)
{
    for (int s = 0; s < 2; s++) {
        const explanation *x = sd[s].x, *y = sd[1 - s].x;
        for (size_t i = 0; i < x->nadjusts; i++) {
            const ex_adjust *e = &x->adjusts[i];
            const q_program *p = sd[s].p;
            if (p->adjusts[e->adjust].phase != QA_TIER) continue;
            const q_flagdef *f = e->flag != QUY_NONE ? &p->flags[e->flag] : NULL;
            const char *name = f ? prog_str(p, f->name) : "?";
            /* the same step with the same result on the other side? */
            bool same = false;
            for (size_t j = 0; j < y->nadjusts && !same; j++) {
                const ex_adjust *o = &y->adjusts[j];
                const q_program *q = sd[1 - s].p;
                if (o->flag == QUY_NONE) continue;
                same = !strcmp(prog_str(q, q->flags[o->flag].name), name) && o->to == e->to && o->from == e->from;
            }
            if (same) continue;
            out->type = DC_RULE;
            out->key = text_of("adjust:%s", name);
            out->label = strdup(f && f->message != f->name ? prog_str(p, f->message) : name);
            if (f && !(*(s ? &out->cite_new : &out->cite_old) = text_of("%s [%s]", prog_str(p, f->cite), prog_str(p, f->layer))))
                return -1;
            json_t *d = out->detail = json_object();
            if (!d) return -1;
            json_object_set_new(d, "type", json_string("adjust"));
            json_object_set_new(d, "step", json_string(name));
            return made(out);
        }
    }
    return 0;
}

static int reject_cause(const dr_row *row, int s, dc_cause *out)
{
    static const char *const sname[2] = {"old", "new"};
    const rec_error *e = row->error;
    const char *code = e ? e->code : "?", *field = e ? e->field : "", *msg = e ? e->message : "";
    out->type = DC_REJECTED;
    out->key = text_of("rejected:%s:%s%s%s", sname[s], code, field[0] ? ":" : "", field);
    /* a key is one token: spaces would break the approval file */
    for (char *c = out->key; c && *c; c++)
        if (*c == ' ' || *c == '\t') *c = '_';
    out->label = strdup(msg);
    json_t *d = out->detail = json_object();
    if (!d) return -1;
    json_object_set_new(d, "type", json_string("rejected"));
    json_object_set_new(d, "side", json_string(sname[s]));
    json_object_set_new(d, "code", json_string(code));
    if (field[0]) json_object_set_new(d, "field", json_string(field));
    json_object_set_new(d, "message", json_string(msg));
    if (e) json_object_set_new(d, "line", json_integer(e->line));
    return made(out);
}

/* The batch steps that differ, as a cause token: batch:cap, batch:quota. */
static int batch_cause(const dc_input *in, dc_cause *out)
{
    uint8_t st = (uint8_t)(in->row[0]->steps ^ in->row[1]->steps) | (uint8_t)(in->row[0]->steps & in->row[1]->steps);
    bool cap = st & BS_CAPPED, quota = st & (BS_QUOTA_DEMOTED | BS_QUOTA_KEPT | BS_SMALL_GROUP);
    const char *group = in->row[1]->group ? in->row[1]->group : in->row[0]->group;
    out->type = DC_BATCH;
    out->key = strdup(cap && quota ? "batch:cap+quota" : cap ? "batch:cap" : quota ? "batch:quota" : "batch:other");
    /* the label is the cause's, shared by every record it moved: the group
     * is in each record's detail */
    out->label = strdup(cap && quota ? "giới hạn (cap) và hạn mức (quota) theo nhóm, sau khi xếp loại"
                        : cap        ? "giới hạn (cap) sau khi xếp loại"
                        : quota      ? "hạn mức (quota) theo nhóm, sau khi xếp loại"
                                     : "bước theo lô (batch step)");
    json_t *d = out->detail = json_object();
    if (!d) return -1;
    json_object_set_new(d, "type", json_string("batch"));
    if (group) json_object_set_new(d, "group", json_string(group));
    static const char *const sname[2] = {"old", "new"};
    for (int s = 0; s < 2; s++) json_object_set_new(d, sname[s], json_string(in->steps[s] ? in->steps[s] : ""));
    return made(out);
}

/* Both rated the record with different rules: the rule (or the adjust
 * step) that differs, with the steps that took effect on each side. */
static int rated_cause(const q_program *const p[2], const dc_input *in, explanation *ex[2], dc_cause *out)
{
    side sd[2];
    for (int s = 0; s < 2; s++) {
        if (explain_rate(ex[s], p[s], in->hooks[s], in->rec[s], NULL) < 0) return -1; /* out of memory */
        sd[s] = (side){p[s], ex[s], in->rec[s]->kind};
    }
    int rc = rule_cause(sd, out);
    if (rc == 0) rc = adjust_cause(sd, out);
    if (rc <= 0) return rc;
    /* the adjust steps that took effect, on each side */
    for (int s = 0; s < 2; s++) {
        json_t *a = adjust_json(ex[s]);
        if (json_array_size(a)) json_object_set_new(out->detail, s ? "adjust_new" : "adjust_old", a);
        else if (a) json_decref(a);
    }
    /* the batch steps too, when any (a cap or a quota on top) */
    for (int s = 0; s < 2; s++)
        if (in->steps[s] && *in->steps[s])
            json_object_set_new(out->detail, s ? "steps_new" : "steps_old", json_string(in->steps[s]));
    return 1;
}

static int unexplained_cause(dc_cause *out)
{
    out->type = DC_UNEXPLAINED;
    out->key = strdup("unexplained");
    out->label = strdup("không xác định được quy tắc khác nhau (trace truncated or rules renamed)");
    json_t *d = out->detail = json_object();
    if (d) json_object_set_new(d, "type", json_string("unexplained"));
    return made(out);
}

int dc_explain(const q_program *const p[2], const dc_input *in, explanation *ex[2], dc_cause *out)
{
    memset(out, 0, sizeof *out);
    const dr_row *const *row = in->row;
    int rc = 0;
    /* a record rated by one program only: the other's rejection is the cause */
    for (int s = 0; s < 2 && !rc; s++)
        if (row[s]->status != DR_RATED && row[1 - s]->status == DR_RATED) rc = reject_cause(row[s], s, out);
    if (!rc && row[0]->status == DR_RATED && row[1]->status == DR_RATED) {
        if (row[0]->eligible == row[1]->eligible && row[0]->tier != row[1]->tier)
            rc = batch_cause(in, out); /* the rules agree; a batch step moved the record */
        else if (in->rec[0] && in->rec[1])
            rc = rated_cause(p, in, ex, out);
    }
    if (!rc) rc = unexplained_cause(out);
    if (rc > 0) return 0;
    dc_cause_free(out);
    return -1;
}
