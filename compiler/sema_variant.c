/*
 * sema_variant.c — what a variant's `amend rate` can loosen (issue 11.10).
 *
 * A variant should only add to its parent; a rule that can rate a record
 * higher than the parent would is worth a word at `check`, saying why:
 *   - a new tier rule (htxsnv, httnv, htnv): one more way to the tier;
 *   - a `replace` of a tier rule that drops a clause of the rule it
 *     replaces (or of the `also requires` attached to it), or turns one
 *     into `if present`;
 *   - a `replace` of a khtnv rule that adds a condition (fewer records
 *     are disqualified);
 * and, in each, a clause ending in `if present` reads "absent = met".
 * Clauses are compared by their source text, whitespace collapsed: a
 * replacement that rewrites a clause in other words is reported as
 * dropping it, which is the cautious side. Warnings only: the variant may
 * mean it; `quy diff --refines` shows which records move.
 */
#include <stdio.h>
#include <string.h>

#include "sema_int.h"

/* Do two source spans read the same, runs of whitespace collapsed? */
static bool same_text(const char *sa, q_span a, const char *sb, q_span b)
{
    uint32_t i = a.start, j = b.start;
    for (;;) {
        bool wi = false, wj = false;
        while (i < a.end && (sa[i] == ' ' || sa[i] == '\n' || sa[i] == '\t' || sa[i] == '\r')) i++, wi = true;
        while (j < b.end && (sb[j] == ' ' || sb[j] == '\n' || sb[j] == '\t' || sb[j] == '\r')) j++, wj = true;
        if (i == a.end || j == b.end) return i == a.end && j == b.end;
        if (wi != wj && i != a.start && j != b.start) return false;
        if (sa[i] != sb[j]) return false;
        i++, j++;
    }
}

/* A clause and the file it is written in. */
typedef struct v_clause {
    ast_node *c;
    const char *src;
} v_clause;

static bool same_clause(v_clause x, v_clause y, bool with_if_present)
{
    if (!same_text(x.src, x.c->u.clause.expr->span, y.src, y.c->u.clause.expr->span)) return false;
    if (!x.c->u.clause.unless != !y.c->u.clause.unless) return false;
    if (x.c->u.clause.unless && !same_text(x.src, x.c->u.clause.unless->span, y.src, y.c->u.clause.unless->span))
        return false;
    return !with_if_present || x.c->u.clause.if_present == y.c->u.clause.if_present;
}

/* The clauses of a rule as it stands (its own and its `also requires`). */
static size_t rule_clauses(sema *S, const s_rule *r, v_clause **out)
{
    size_t n = 0, cap = 0;
    *out = NULL;
    for (ast_node *c = r->node->u.rule.clauses; c; c = c->next) {
        GROWV(*out, n, cap);
        (*out)[n++] = (v_clause){c, S->files[r->file].src};
    }
    for (s_also *a = r->also; a; a = a->next)
        for (ast_node *c = a->node->u.rule.clauses; c; c = c->next) {
            GROWV(*out, n, cap);
            (*out)[n++] = (v_clause){c, S->files[a->file].src};
        }
    return n;
}

/* Its expression's text, whitespace collapsed, cut to fit. */
static const char *clause_text(v_clause x, char *buf, size_t size)
{
    size_t n = 0;
    bool sp = false;
    for (uint32_t i = x.c->u.clause.expr->span.start; i < x.c->u.clause.expr->span.end && n + 4 < size; i++) {
        char ch = x.src[i];
        if (ch == ' ' || ch == '\n' || ch == '\t' || ch == '\r') {
            sp = n > 0;
            continue;
        }
        if (sp) buf[n++] = ' ';
        sp = false;
        buf[n++] = ch;
    }
    buf[n] = 0;
    return buf;
}

/* "; 'if present' reads absent = met: a record without 'f' meets 'f >= 1' (and 2 more)" or "". */
static const char *if_present_note(sema *S, ast_node *rule, char *buf, size_t size)
{
    size_t k = 0;
    ast_node *first = NULL;
    for (ast_node *c = rule->u.rule.clauses; c; c = c->next)
        if (c->u.clause.if_present && !k++) first = c;
    buf[0] = 0;
    if (!first) return buf;
    char t[160];
    clause_text((v_clause){first, S->files[S->file].src}, t, sizeof t);
    snprintf(buf, size, "; 'if present' reads absent = met: a record that lacks the field meets '%s'%s", t,
             k > 1 ? " (and the other 'if present' clauses)" : "");
    return buf;
}

void sema_warn_new_rule(sema *S, s_rate *R, ast_node *rule, int o)
{
    if (o < QO_HTNV || o > QO_HTXSNV) return; /* a disqualifier or a not_rated case only narrows the tiers */
    char note[320];
    sema_warn(S, rule->u.rule.name_span,
              "rule '%s' (%s) is new in this variant: a record that meets it is rated %s even where %s rates it "
              "lower%s",
              rule->u.rule.name.s, q_outcome_code[o], q_outcome_code[o], S->files[R->file].layer,
              if_present_note(S, rule, note, sizeof note));
}

void sema_warn_replace(sema *S, const s_rule *old, ast_node *nr, int o)
{
    if (o < QO_KHTNV || o > QO_HTXSNV || nr->u.rule.otherwise) return;
    const char *parent = S->files[old->file].layer;
    s_rule now = {nr, S->file, NULL};
    v_clause *oc, *nc;
    size_t no = rule_clauses(S, old, &oc), nn = rule_clauses(S, &now, &nc);
    char t[160], note[320];
    if (o == QO_KHTNV) {
        /* a disqualifier narrowed: a condition the old one did not have */
        for (size_t i = 0; i < nn; i++) {
            bool had = false;
            for (size_t j = 0; j < no && !had; j++) had = same_clause(nc[i], oc[j], true);
            if (had) continue;
            sema_warn(S, nr->u.rule.name_span,
                      "rule '%s' (khtnv) replaces %s's with the added condition '%s': a record that fails it escapes "
                      "khtnv where %s rates it khtnv%s",
                      nr->u.rule.name.s, parent, clause_text(nc[i], t, sizeof t), parent,
                      nc[i].c->u.clause.if_present ? " ('if present': a record that lacks the field escapes too)" : "");
            break;
        }
    } else {
        /* a tier rule widened: a clause of the old one that is gone, or now 'if present' */
        size_t missing = 0, first = 0;
        bool became_if_present = false;
        for (size_t j = 0; j < no; j++) {
            bool kept = false, loose = false;
            for (size_t i = 0; i < nn && !kept; i++) {
                kept = same_clause(nc[i], oc[j], true);
                loose |= same_clause(nc[i], oc[j], false) && nc[i].c->u.clause.if_present;
            }
            if (kept) continue;
            if (!missing++) first = j, became_if_present = loose;
        }
        if (missing) {
            char more[48] = "";
            if (missing > 1) snprintf(more, sizeof more, " (and %zu more)", missing - 1);
            sema_warn(S, nr->u.rule.name_span,
                      "rule '%s' (%s) replaces %s's %s '%s'%s: a record that fails it can be rated %s where %s rates "
                      "it lower%s",
                      nr->u.rule.name.s, q_outcome_code[o], parent,
                      became_if_present ? "with 'if present' (absent = met) on its clause" : "without its clause",
                      clause_text(oc[first], t, sizeof t), more, q_outcome_code[o], parent,
                      if_present_note(S, nr, note, sizeof note));
        }
    }
    free(oc);
    free(nc);
}
