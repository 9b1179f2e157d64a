/*
 * diff_cause.c — why a record moved between two rulesets (see diff.h).
 *
 * Both programs rate the record again with a trace. Each trace is cut into
 * rules (EV_RULE closes a rule; EV_CLAUSE / EV_SKIP close a clause, and the
 * reads and shares before a clause belong to it, as in explain.c). The
 * rules of the record's kind are then walked in one decision order — the
 * new program's, with rules only the old one has inserted after their old
 * predecessor — and the cause is the first rule whose outcome differs:
 * held in one program and not in the other (failed, or absent from it),
 * or held in both with different tiers (a `replace`). Its clauses whose
 * text or result differ between the two programs are reported on each
 * side, with their citations and the values they read.
 */
#include <stdlib.h>
#include <string.h>

#include "../runtime/batch.h"
#include "../runtime/explain.h"
#include "diff.h"

/* =====================================================================
 * A trace cut into rules and clauses
 * ===================================================================== */

typedef struct seg_clause {
    uint32_t clause;
    int8_t result;        /* 1 held, 0 failed, -1 skipped (field absent) */
    int8_t exc;           /* -1 no exception evaluated, else its value */
    uint16_t absent_slot; /* skipped: the absent field */
    uint32_t ev0, nev;    /* its reads and shares: events [ev0, ev0 + nev) */
} seg_clause;

typedef struct seg_rule {
    uint32_t rule;
    bool held;
    uint32_t c0, nc; /* clauses [c0, c0 + nc) */
} seg_rule;

#define SEG_MAX_RULES 512
#define SEG_MAX_CLAUSES 2048

#define SEG_MAX_ADJ 8

typedef struct tseg {
    seg_rule rules[SEG_MAX_RULES];
    size_t nrules;
    seg_clause cl[SEG_MAX_CLAUSES];
    size_t ncl;
    uint32_t adj[SEG_MAX_ADJ]; /* EV_ADJUST event indices: the adjust steps that took effect */
    size_t nadj;
} tseg;

static void seg_trace(const vm_trace *tr, tseg *sg)
{
    sg->nrules = sg->ncl = sg->nadj = 0;
    uint32_t read_start = 0, rule_c0 = 0;
    int exc = -1;
    for (uint32_t i = 0; i < tr->n; i++) {
        const vm_event *e = &tr->ev[i];
        switch (e->type) {
        case EV_EXC: exc = e->result; break;
        case EV_CLAUSE:
        case EV_SKIP:
            if (sg->ncl < SEG_MAX_CLAUSES) {
                seg_clause *c = &sg->cl[sg->ncl++];
                c->clause = e->idx;
                c->result = e->type == EV_SKIP ? -1 : (int8_t)e->result;
                c->exc = (int8_t)exc;
                c->absent_slot = e->slot;
                c->ev0 = read_start;
                c->nev = i - read_start;
            }
            exc = -1;
            read_start = i + 1;
            break;
        case EV_RULE:
            if (sg->nrules < SEG_MAX_RULES)
                sg->rules[sg->nrules++] = (seg_rule){e->idx, e->result != 0, rule_c0, (uint32_t)sg->ncl - rule_c0};
            rule_c0 = (uint32_t)sg->ncl;
            read_start = i + 1;
            break;
        case EV_FLAG: read_start = i + 1; break;
        case EV_ADJUST:
            if (sg->nadj < SEG_MAX_ADJ) sg->adj[sg->nadj++] = i;
            break;
        default: break;
        }
    }
}

/* A scalar of type t for people (numbers exact, bools có/không, members by label). */
static void fmt_typed(const q_program *p, uint32_t t, q_val v, char *buf, size_t size)
{
    const q_type *ty = t < p->ntypes ? &p->types[t] : NULL;
    if (!ty) {
        q_format(v, false, buf, size);
        return;
    }
    switch (ty->kind) {
    case QT_PERCENT: q_format(v, true, buf, size); break;
    case QT_BOOL: snprintf(buf, size, "%s", v.n ? "có" : "không"); break;
    case QT_ENUM:
    case QT_SCALE:
        if (v.n >= 0 && (uint64_t)v.n < ty->count) {
            const q_member *m = &p->members[ty->first + (uint32_t)v.n];
            snprintf(buf, size, "%s", *prog_str(p, m->label) ? prog_str(p, m->label) : prog_str(p, m->name));
        } else {
            snprintf(buf, size, "?");
        }
        break;
    case QT_DATE: {
        char d[16];
        q_format_date(v.n, d);
        snprintf(buf, size, "%s", d);
        break;
    }
    default: q_format(v, false, buf, size); break;
    }
}

/* The adjust steps that took effect on one side: [{step, phase, label, reason, from, to, cite, layer}]. */
static json_t *adjust_json(const q_program *p, const vm_trace *tr, const tseg *sg)
{
    json_t *a = json_array();
    for (size_t i = 0; i < sg->nadj; i++) {
        const vm_event *e = &tr->ev[sg->adj[i]];
        if (e->idx >= p->nadjusts) continue;
        const q_adjust *ad = &p->adjusts[e->idx];
        const q_flagdef *f = ad->flag < p->nflagdefs ? &p->flags[ad->flag] : NULL;
        json_t *o = json_object();
        json_object_set_new(o, "step", json_string(f ? prog_str(p, f->name) : "?"));
        json_object_set_new(o, "phase", json_string(ad->phase == QA_RECORD ? "record" : "tier"));
        if (f && f->message != f->name) json_object_set_new(o, "label", json_string(prog_str(p, f->message)));
        json_object_set_new(o, "reason", json_string(e->val.n ? (const char *)(intptr_t)e->val.n : ""));
        if (ad->phase == QA_TIER && e->slot < QO__COUNT && e->result < QO__COUNT) {
            json_object_set_new(o, "from", json_string(q_outcome_code[e->slot]));
            json_object_set_new(o, "to", json_string(q_outcome_code[e->result]));
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

static json_t *clause_json(const q_program *p, const q_record *rec, const vm_trace *tr, const seg_clause *c)
{
    const q_clause *qc = &p->clauses[c->clause];
    json_t *o = json_object();
    json_object_set_new(o, "condition", json_string(prog_str(p, qc->text)));
    if (qc->label) json_object_set_new(o, "label", json_string(prog_str(p, qc->label)));
    if (c->result < 0) {
        json_object_set_new(o, "result", json_string("skipped"));
        json_object_set_new(o, "absent",
                            json_string(prog_str(p, p->fields[p->kinds[rec->kind].first_field + c->absent_slot].name)));
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
    char buf[1024];
    for (uint32_t i = 0; i < c->nev; i++) {
        const vm_event *e = &tr->ev[c->ev0 + i];
        if (e->type == EV_READ) {
            const q_field *f = &p->fields[p->kinds[rec->kind].first_field + e->slot];
            const char *name = prog_str(p, f->name);
            bool dup = false; /* a field read twice is shown once */
            for (size_t j = 0; j < json_array_size(reads) && !dup; j++)
                dup = !strcmp(json_string_value(json_object_get(json_array_get(reads, j), "field")) ?: "", name);
            if (dup) continue;
            explain_value(p, rec->kind, e->slot, e->val, rec, buf, sizeof buf);
            json_t *r = json_object();
            json_object_set_new(r, "field", json_string(name));
            if (f->label) json_object_set_new(r, "label", json_string(prog_str(p, f->label)));
            json_object_set_new(r, "value", json_string(buf));
            json_array_append_new(reads, r);
        } else if (e->type == EV_SHARE) {
            char v[64];
            q_format(e->val, true, v, sizeof v);
            if (e->slot != 0xFFFF && e->idx != 0xFFFFFFFF)
                snprintf(buf, sizeof buf, "%u/%u = %s", e->slot, e->idx, v);
            else
                snprintf(buf, sizeof buf, "%s", v);
            json_t *r = json_object();
            json_object_set_new(r, "field", json_string("share()"));
            json_object_set_new(r, "value", json_string(buf));
            json_array_append_new(reads, r);
        } else if (e->type == EV_AGG && e->slot < p->kinds[rec->kind].nfields) {
            /* sum / min / max / longest run over a list: "sum(axes)" = 91 */
            static const char *const word[] = {[QK_SUM] = "sum", [QK_MIN] = "min", [QK_MAX] = "max", [QK_RUN] = "run"};
            char key[160];
            snprintf(key, sizeof key, "%s(%s)", e->result >= QK_SUM && e->result <= QK__LAST ? word[e->result] : "?",
                     prog_str(p, p->fields[p->kinds[rec->kind].first_field + e->slot].name));
            fmt_typed(p, e->idx < p->ntypes && p->types[e->idx].kind != QT_LIST ? e->idx : QUY_NONE, e->val, buf, sizeof buf);
            json_t *r = json_object();
            json_object_set_new(r, "field", json_string(key));
            json_object_set_new(r, "value", json_string(buf));
            json_array_append_new(reads, r);
        } else if (e->type == EV_HOOK && e->idx < p->nhooks && p->hooks[e->idx].result != QUY_NONE && e->result) {
            char key[160];
            snprintf(key, sizeof key, "%s()", prog_str(p, p->hooks[e->idx].name));
            fmt_typed(p, p->hooks[e->idx].result, e->val, buf, sizeof buf);
            json_t *r = json_object();
            json_object_set_new(r, "field", json_string(key));
            json_object_set_new(r, "value", json_string(buf));
            json_array_append_new(reads, r);
        }
    }
    json_object_set_new(o, "read", reads);
    return o;
}

typedef enum rs_state { RS_ABSENT, RS_UNREACHED, RS_FAILED, RS_HELD } rs_state;
static const char *const rs_name[] = {"absent", "not_reached", "failed", "held"};

typedef struct side {
    const q_program *p;
    const q_record *rec;
    const vm_trace *tr;
    tseg *sg;
    uint32_t k; /* kind index */
} side;

static uint32_t find_rule(const side *s, const char *name)
{
    const q_kind *kd = &s->p->kinds[s->k];
    for (uint32_t r = kd->first_rule; r < kd->first_rule + kd->nrules; r++)
        if (!strcmp(prog_str(s->p, s->p->rules[r].name), name)) return r;
    return QUY_NONE;
}

static const seg_rule *find_seg(const side *s, uint32_t r)
{
    for (size_t i = 0; i < s->sg->nrules; i++)
        if (s->sg->rules[i].rule == r) return &s->sg->rules[i];
    return NULL;
}

/* Is there a clause in `other` with this text and result? */
static bool clause_matched(const side *s, const seg_clause *c, const side *o, const seg_rule *osr)
{
    if (!osr) return false;
    const char *text = prog_str(s->p, s->p->clauses[c->clause].text);
    for (uint32_t i = osr->c0; i < osr->c0 + osr->nc; i++) {
        const seg_clause *d = &o->sg->cl[i];
        if (d->result == c->result && !strcmp(prog_str(o->p, o->p->clauses[d->clause].text), text)) return true;
    }
    return false;
}

static json_t *side_json(const side *s, uint32_t r, const seg_rule *sr, rs_state st, const side *o,
                         const seg_rule *osr)
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
    for (uint32_t i = sr->c0; i < sr->c0 + sr->nc; i++) {
        const seg_clause *c = &s->sg->cl[i];
        if (clause_matched(s, c, o, osr)) continue;
        json_array_append_new(cl, clause_json(s->p, s->rec, s->tr, c));
    }
    json_object_set_new(j, "clauses", cl);
    return j;
}

/* =====================================================================
 * The cause
 * ===================================================================== */

static void rule_cause(const side sd[2], dc_cause *out)
{
    /* decision order: the new program's rules, old-only rules inserted after
     * their nearest old predecessor that is already placed */
    const q_kind *kn = &sd[1].p->kinds[sd[1].k], *ko = &sd[0].p->kinds[sd[0].k];
    size_t cap = kn->nrules + ko->nrules + 1, n = 0;
    const char **order = malloc(cap * sizeof *order);
    if (!order) return;
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
    for (size_t i = 0; i < n; i++) {
        uint32_t r[2];
        const seg_rule *sr[2];
        rs_state st[2];
        int outc[2];
        for (int s = 0; s < 2; s++) {
            r[s] = find_rule(&sd[s], order[i]);
            sr[s] = r[s] == QUY_NONE ? NULL : find_seg(&sd[s], r[s]);
            st[s] = r[s] == QUY_NONE ? RS_ABSENT : !sr[s] ? RS_UNREACHED : sr[s]->held ? RS_HELD : RS_FAILED;
            outc[s] = st[s] == RS_HELD ? sd[s].p->rules[r[s]].outcome : -1;
        }
        if (outc[0] == outc[1]) continue;
        out->type = DC_RULE;
        snprintf(out->key, sizeof out->key, "%s", order[i]);
        int ls = r[1] != QUY_NONE ? 1 : 0;
        const q_rule *lr = &sd[ls].p->rules[r[ls]];
        snprintf(out->label, sizeof out->label, "%s", prog_str(sd[ls].p, lr->label));
        for (int s = 0; s < 2; s++) {
            char *dst = s ? out->cite_new : out->cite_old;
            if (r[s] == QUY_NONE) snprintf(dst, sizeof out->cite_old, "(không có quy tắc này)");
            else snprintf(dst, sizeof out->cite_old, "%s [%s]", prog_str(sd[s].p, sd[s].p->rules[r[s]].cite),
                          prog_str(sd[s].p, sd[s].p->rules[r[s]].layer));
        }
        json_t *d = json_object();
        json_object_set_new(d, "type", json_string("rule"));
        json_object_set_new(d, "rule", json_string(order[i]));
        if (lr->label) json_object_set_new(d, "label", json_string(prog_str(sd[ls].p, lr->label)));
        json_object_set_new(d, "old", side_json(&sd[0], r[0], sr[0], st[0], &sd[1], sr[1]));
        json_object_set_new(d, "new", side_json(&sd[1], r[1], sr[1], st[1], &sd[0], sr[0]));
        out->detail = d;
        break;
    }
    free(order);
}

/* The rules agree: an adjust step after them (a tier adjustment) that one
 * side made and the other did not, or made differently. */
static void adjust_cause(const side sd[2], dc_cause *out)
{
    for (int s = 0; s < 2 && !out->detail; s++) {
        for (size_t i = 0; i < sd[s].sg->nadj && !out->detail; i++) {
            const vm_event *e = &sd[s].tr->ev[sd[s].sg->adj[i]];
            const q_program *p = sd[s].p;
            if (e->idx >= p->nadjusts || p->adjusts[e->idx].phase != QA_TIER) continue;
            const q_flagdef *f = p->adjusts[e->idx].flag < p->nflagdefs ? &p->flags[p->adjusts[e->idx].flag] : NULL;
            const char *name = f ? prog_str(p, f->name) : "?";
            /* the same step with the same result on the other side? */
            bool same = false;
            for (size_t j = 0; j < sd[1 - s].sg->nadj && !same; j++) {
                const vm_event *o = &sd[1 - s].tr->ev[sd[1 - s].sg->adj[j]];
                const q_program *q = sd[1 - s].p;
                if (o->idx >= q->nadjusts || q->adjusts[o->idx].flag >= q->nflagdefs) continue;
                same = !strcmp(prog_str(q, q->flags[q->adjusts[o->idx].flag].name), name) && o->result == e->result &&
                       o->slot == e->slot;
            }
            if (same) continue;
            out->type = DC_RULE;
            snprintf(out->key, sizeof out->key, "adjust:%.150s", name);
            snprintf(out->label, sizeof out->label, "%.200s", f && f->message != f->name ? prog_str(p, f->message) : name);
            if (f) snprintf(s ? out->cite_new : out->cite_old, sizeof out->cite_old, "%.200s [%.40s]", prog_str(p, f->cite), prog_str(p, f->layer));
            json_t *d = json_object();
            json_object_set_new(d, "type", json_string("adjust"));
            json_object_set_new(d, "step", json_string(name));
            out->detail = d;
        }
    }
}

static void reject_cause(const dr_row *row, int s, dc_cause *out)
{
    static const char *const sname[2] = {"old", "new"};
    const rec_error *e = row->error;
    const char *code = e ? e->code : "?", *field = e ? e->field : "", *msg = e ? e->message : "";
    out->type = DC_REJECTED;
    snprintf(out->key, sizeof out->key, "rejected:%s:%.40s%s%.100s", sname[s], code, field[0] ? ":" : "", field);
    /* a key is one token: spaces would break the approval file */
    for (char *c = out->key; *c; c++)
        if (*c == ' ' || *c == '\t') *c = '_';
    snprintf(out->label, sizeof out->label, "%.200s", msg);
    json_t *d = json_object();
    json_object_set_new(d, "type", json_string("rejected"));
    json_object_set_new(d, "side", json_string(sname[s]));
    json_object_set_new(d, "code", json_string(code));
    if (field[0]) json_object_set_new(d, "field", json_string(field));
    json_object_set_new(d, "message", json_string(msg));
    if (e) json_object_set_new(d, "line", json_integer(e->line));
    out->detail = d;
}

/* The batch steps that differ, as a cause token: batch:cap, batch:quota. */
static void batch_cause(const dc_input *in, dc_cause *out)
{
    uint8_t st = (uint8_t)(in->row[0]->steps ^ in->row[1]->steps) | (uint8_t)(in->row[0]->steps & in->row[1]->steps);
    bool cap = st & BS_CAPPED, quota = st & (BS_QUOTA_DEMOTED | BS_QUOTA_KEPT | BS_SMALL_GROUP);
    const char *group = in->row[1]->group ? in->row[1]->group : in->row[0]->group;
    out->type = DC_BATCH;
    snprintf(out->key, sizeof out->key, "batch:%s", cap && quota ? "cap+quota" : cap ? "cap" : quota ? "quota" : "other");
    /* the label is the cause's, shared by every record it moved: the group
     * is in each record's detail */
    snprintf(out->label, sizeof out->label, "%s",
             cap && quota ? "giới hạn (cap) và hạn mức (quota) theo nhóm, sau khi xếp loại"
             : cap        ? "giới hạn (cap) sau khi xếp loại"
             : quota      ? "hạn mức (quota) theo nhóm, sau khi xếp loại"
                          : "bước theo lô (batch step)");
    json_t *d = json_object();
    json_object_set_new(d, "type", json_string("batch"));
    if (group) json_object_set_new(d, "group", json_string(group));
    static const char *const sname[2] = {"old", "new"};
    for (int s = 0; s < 2; s++) json_object_set_new(d, sname[s], json_string(in->steps[s] ? in->steps[s] : ""));
    out->detail = d;
}

void dc_explain(const q_program *const p[2], const dc_input *in, vm_event *evbuf[2], dc_cause *out)
{
    memset(out, 0, sizeof *out);
    const dr_row *const *row = in->row;
    /* a record rated by one program only: the other's rejection is the cause */
    for (int s = 0; s < 2; s++) {
        if (row[s]->status != DR_RATED && row[1 - s]->status == DR_RATED) {
            reject_cause(row[s], s, out);
            return;
        }
    }
    if (row[0]->status == DR_RATED && row[1]->status == DR_RATED) {
        if (row[0]->eligible == row[1]->eligible && row[0]->tier != row[1]->tier) {
            /* the rules agree; a batch step moved the record */
            batch_cause(in, out);
            return;
        }
        if (in->rec[0] && in->rec[1]) {
            static tseg sg[2]; /* large: kept off the stack */
            side sd[2];
            vm_trace tr[2];
            for (int s = 0; s < 2; s++) {
                tr[s] = (vm_trace){.ev = evbuf[s], .cap = QUY_TRACE_CAP};
                vm_result res;
                vm_rate(p[s], in->hooks[s], in->rec[s], &res, &tr[s]);
                seg_trace(&tr[s], &sg[s]);
                sd[s] = (side){p[s], in->rec[s], &tr[s], &sg[s], in->rec[s]->kind};
            }
            rule_cause(sd, out);
            if (!out->detail) adjust_cause(sd, out);
            if (out->detail) {
                /* the adjust steps that took effect, on each side */
                for (int s = 0; s < 2; s++) {
                    json_t *a = adjust_json(p[s], &tr[s], &sg[s]);
                    if (json_array_size(a)) json_object_set_new(out->detail, s ? "adjust_new" : "adjust_old", a);
                    else json_decref(a);
                }
                /* the batch steps too, when any (a cap or a quota on top) */
                for (int s = 0; s < 2; s++)
                    if (in->steps[s] && *in->steps[s])
                        json_object_set_new(out->detail, s ? "steps_new" : "steps_old", json_string(in->steps[s]));
                return;
            }
        }
    }
    out->type = DC_UNEXPLAINED;
    snprintf(out->key, sizeof out->key, "unexplained");
    snprintf(out->label, sizeof out->label, "không xác định được quy tắc khác nhau (trace truncated or rules renamed)");
    json_t *d = json_object();
    json_object_set_new(d, "type", json_string("unexplained"));
    out->detail = d;
}

/* =====================================================================
 * Text
 * ===================================================================== */

static void pad(FILE *f, int n)
{
    for (int i = 0; i < n; i++) fputc(' ', f);
}

static const char *js(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static void clause_text(const json_t *c, FILE *f, int indent)
{
    json_t *res = json_object_get(c, "result");
    const char *mark = json_is_true(res) ? "✓" : json_is_false(res) ? "✗" : "–";
    pad(f, indent);
    if (json_object_get(c, "label"))
        fprintf(f, "%s %s  [%s]", mark, js(c, "label"), js(c, "condition"));
    else
        fprintf(f, "%s %s", mark, js(c, "condition"));
    if (json_is_string(res)) fprintf(f, " — bỏ qua: không có dữ liệu «%s»", js(c, "absent"));
    json_t *u = json_object_get(c, "unless");
    if (u && json_object_get(u, "held"))
        fprintf(f, " — ngoại lệ «%s»: %s", js(u, "condition"),
                json_is_true(json_object_get(u, "held")) ? "có, nên không áp dụng" : "không");
    fprintf(f, "  (%s [%s])\n", js(c, "cite"), js(c, "layer"));
    json_t *reads = json_object_get(c, "read");
    if (json_array_size(reads)) {
        pad(f, indent + 4);
        fputs("giá trị: ", f);
        for (size_t i = 0; i < json_array_size(reads); i++) {
            json_t *r = json_array_get(reads, i);
            const char *field = js(r, "field");
            if (!strcmp(field, "share()"))
                fprintf(f, "%stỉ lệ %s", i ? "; " : "", js(r, "value"));
            else
                fprintf(f, "%s%s = %s", i ? "; " : "", field, js(r, "value"));
        }
        fputc('\n', f);
    }
}

/* Adjustments ("↺ ...") of one side. */
static void adjust_text(FILE *f, int indent, const char *who, const json_t *a)
{
    for (size_t i = 0; i < json_array_size(a); i++) {
        const json_t *o = json_array_get(a, i);
        pad(f, indent);
        fprintf(f, "%s: ↺ «%s»", who, js(o, "step"));
        if (json_object_get(o, "from")) fprintf(f, " %s → %s", js(o, "from"), js(o, "to"));
        else fprintf(f, " (hồ sơ điều chỉnh trước khi xếp loại)");
        if (*js(o, "reason")) fprintf(f, ": %s", js(o, "reason"));
        fprintf(f, " — %s [%s]\n", js(o, "cite"), js(o, "layer"));
    }
}

/* Batch-step lines ("⇒ ...", one per line) under a side's name. */
static void steps_text(FILE *f, int indent, const char *who, const char *steps)
{
    pad(f, indent);
    if (!*steps) {
        fprintf(f, "%s: không có bước theo lô nào\n", who);
        return;
    }
    fprintf(f, "%s:\n", who);
    for (const char *l = steps; *l;) {
        const char *nl = strchr(l, '\n');
        size_t n = nl ? (size_t)(nl - l) : strlen(l);
        pad(f, indent + 4);
        fprintf(f, "%.*s\n", (int)n, l);
        l += n + (nl ? 1 : 0);
    }
}

void dc_detail_text(const json_t *d, FILE *f, int indent)
{
    const char *type = js(d, "type");
    if (!strcmp(type, "rule")) {
        static const char *const sides[2] = {"old", "new"};
        static const char *const vi[2] = {"cũ", "mới"};
        for (int s = 0; s < 2; s++) {
            json_t *sj = json_object_get(d, sides[s]);
            const char *st = js(sj, "state");
            pad(f, indent);
            if (!strcmp(st, "absent")) {
                fprintf(f, "%s: không có quy tắc «%s»\n", vi[s], js(d, "rule"));
                continue;
            }
            if (!strcmp(st, "held")) fprintf(f, "%s: áp dụng → %s", vi[s], js(sj, "outcome"));
            else fprintf(f, "%s: %s (%s)", vi[s], !strcmp(st, "failed") ? "không đạt" : "không xét tới", js(sj, "outcome"));
            fprintf(f, " — %s [%s]\n", js(sj, "cite"), js(sj, "layer"));
            json_t *cl = json_object_get(sj, "clauses");
            for (size_t i = 0; i < json_array_size(cl); i++) clause_text(json_array_get(cl, i), f, indent + 4);
        }
        adjust_text(f, indent, "cũ", json_object_get(d, "adjust_old"));
        adjust_text(f, indent, "mới", json_object_get(d, "adjust_new"));
        if (json_object_get(d, "steps_old")) steps_text(f, indent, "cũ, bước theo lô", js(d, "steps_old"));
        if (json_object_get(d, "steps_new")) steps_text(f, indent, "mới, bước theo lô", js(d, "steps_new"));
    } else if (!strcmp(type, "adjust")) {
        pad(f, indent);
        fprintf(f, "các quy tắc như nhau; bước điều chỉnh «%s» sau khi xếp loại khác nhau\n", js(d, "step"));
        adjust_text(f, indent, "cũ", json_object_get(d, "adjust_old"));
        adjust_text(f, indent, "mới", json_object_get(d, "adjust_new"));
    } else if (!strcmp(type, "rejected")) {
        pad(f, indent);
        fprintf(f, "bộ quy tắc %s từ chối bản ghi [%s%s%s]: %s\n", !strcmp(js(d, "side"), "old") ? "cũ" : "mới",
                js(d, "code"), json_object_get(d, "field") ? " " : "", js(d, "field"), js(d, "message"));
    } else if (!strcmp(type, "batch")) {
        steps_text(f, indent, "cũ", js(d, "old"));
        steps_text(f, indent, "mới", js(d, "new"));
        return;
    } else {
        pad(f, indent);
        fprintf(f, "(không xác định được nguyên nhân)\n");
    }
}
