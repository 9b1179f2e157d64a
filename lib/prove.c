/*
 * prove.c — quy_prove and its accessors (include/quy.h, "Proving"): the
 * library face of prove/ (prove/prove.h). Each finding's strings are made
 * once here, so that a binding reads them without knowing the program.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../prove/prove.h"
#include "../runtime/strbuf.h"
#include "internal.h"

typedef struct qi_finding {
    char *key, *kind, *what, *rule, *cite, *rule2, *cite2, *clause, *flag, *flag_message, *why, *witness;
    const char *from, *to;
} qi_finding;

struct quy_proof {
    int proved;
    unsigned queries;
    qi_finding *f;
    size_t nf;
    char **notes;
    size_t nnotes;
};

static const char *const what_code[] = {
    [PF_GAP] = "gap", [PF_DEAD_RULE] = "dead-rule", [PF_DEAD_CLAUSE] = "dead-clause", [PF_DEAD_FLAG] = "dead-flag",
    [PF_LOOSER] = "looser", [PF_TRANSITION] = "transition", [PF_UNKNOWN] = "unknown",
};

static char *dup_or_null(const char *s) { return s ? qi_strdup(s) : NULL; }

/* The finding's key, whole ("member gap gap_x", "member looser htnv->httnv"):
 * the CLI matches approval files by it. NULL when out of memory. */
static char *key_of(const prove_finding *f, const q_program *a)
{
    strbuf b = {0};
    const char *kind = prog_str(a, a->kinds[f->kind].name);
    switch (f->what) {
    case PF_GAP:
        strbuf_printf(&b, "%s gap %s", kind, f->flag != QUY_NONE ? prog_str(a, a->flags[f->flag].name) : "(none)");
        break;
    case PF_DEAD_RULE: strbuf_printf(&b, "%s dead-rule %s", kind, prog_str(a, a->rules[f->rule].name)); break;
    case PF_DEAD_CLAUSE:
        strbuf_printf(&b, "%s dead-clause %s#%u", kind, prog_str(a, a->rules[f->rule].name),
                      f->clause - a->rules[f->rule].first_clause + 1);
        break;
    case PF_DEAD_FLAG: strbuf_printf(&b, "%s dead-flag %s", kind, prog_str(a, a->flags[f->flag].name)); break;
    case PF_LOOSER:
    case PF_TRANSITION:
        strbuf_printf(&b, "%s %s %s->%s", kind, what_code[f->what], q_outcome_code[f->from], q_outcome_code[f->to]);
        break;
    default: strbuf_printf(&b, "%s unknown %s", kind, f->why ? f->why : ""); break;
    }
    return strbuf_take(&b);
}

static void finding_free(qi_finding *f)
{
    char *all[] = {f->key, f->kind, f->what, f->rule, f->cite, f->rule2, f->cite2, f->clause, f->flag, f->flag_message, f->why, f->witness};
    for (size_t j = 0; j < sizeof all / sizeof all[0]; j++) free(all[j]);
}

/* False when out of memory (a string that should be there is not). */
static bool finding_strings(qi_finding *o, const prove_finding *f, const q_program *a, const q_program *b)
{
    bool ok = (o->key = key_of(f, a)) != NULL;
    ok &= (o->kind = qi_strdup(prog_str(a, a->kinds[f->kind].name))) != NULL;
    ok &= (o->what = qi_strdup(what_code[f->what])) != NULL;
    if (f->rule != QUY_NONE) {
        ok &= (o->rule = qi_strdup(prog_str(a, a->rules[f->rule].name))) != NULL;
        ok &= (o->cite = qi_strdup(prog_str(a, a->rules[f->rule].cite))) != NULL;
    }
    if (f->rule2 != QUY_NONE && b) {
        ok &= (o->rule2 = qi_strdup(prog_str(b, b->rules[f->rule2].name))) != NULL;
        ok &= (o->cite2 = qi_strdup(prog_str(b, b->rules[f->rule2].cite))) != NULL;
    }
    if (f->clause != QUY_NONE) ok &= (o->clause = qi_strdup(prog_str(a, a->clauses[f->clause].text))) != NULL;
    if (f->flag != QUY_NONE) {
        ok &= (o->flag = qi_strdup(prog_str(a, a->flags[f->flag].name))) != NULL;
        ok &= (o->flag_message = qi_strdup(prog_str(a, a->flags[f->flag].message))) != NULL;
    }
    ok &= (o->why = dup_or_null(f->why)) != NULL || !f->why;
    ok &= (o->witness = dup_or_null(f->witness)) != NULL || !f->witness;
    if (f->what == PF_LOOSER || f->what == PF_TRANSITION) {
        o->from = q_outcome_code[f->from];
        o->to = q_outcome_code[f->to];
    }
    return ok;
}

quy_status quy_prove(const quy_ruleset *rs, const quy_ruleset *other, int question, unsigned timeout_ms, quy_proof **out)
{
    if (out) *out = NULL;
    if (!rs || !out) return qi_fail(QUY_EINVAL, "quy_prove: the ruleset and the result pointer must not be NULL");
    int mismatch = question & QUY_PROVE_TEST_MISMATCH;
    question &= ~QUY_PROVE_TEST_MISMATCH;
    if (question < QUY_PROVE_GAPS || question > QUY_PROVE_EQUIV)
        return qi_fail(QUY_EINVAL, "quy_prove: question %d: use QUY_PROVE_GAPS, _DEAD, _REFINES or _EQUIV", question);
    bool two = question == QUY_PROVE_REFINES || question == QUY_PROVE_EQUIV;
    if (two != (other != NULL))
        return qi_fail(QUY_EINVAL, two ? "quy_prove: this question compares two rulesets: give the other one"
                                       : "quy_prove: this question is about one ruleset: pass NULL as the other");
    prove_opts o = {.timeout_ms = timeout_ms, .mismatch_test = mismatch != 0};
    prove_report r;
    prove_status st = prove_run((prove_question)question, rs->p, two ? other->p : NULL, &o, &r);
    if (st == PROVE_ERROR || st == PROVE_MISMATCH) {
        quy_status e = qi_fail(QUY_ERROR, "%s%s", st == PROVE_MISMATCH ? "encoding bug (the VM disagrees): " : "",
                               r.error ? r.error : "the prover failed");
        prove_report_free(&r);
        return e;
    }
    quy_proof *pf = calloc(1, sizeof *pf);
    if (!pf || (r.nf && !(pf->f = calloc(r.nf, sizeof *pf->f))) || (r.nnotes && !(pf->notes = calloc(r.nnotes, sizeof *pf->notes)))) {
        if (pf) free(pf->f);
        free(pf);
        prove_report_free(&r);
        return qi_fail(QUY_ENOMEM, "quy_prove: out of memory");
    }
    pf->proved = st == PROVE_PROVED;
    pf->queries = r.queries;
    bool ok = true;
    pf->nf = r.nf;
    for (size_t i = 0; i < r.nf; i++) ok &= finding_strings(&pf->f[i], &r.f[i], rs->p, two ? other->p : NULL);
    pf->nnotes = r.nnotes;
    for (size_t i = 0; i < r.nnotes; i++) ok &= (pf->notes[i] = qi_strdup(r.notes[i])) != NULL;
    prove_report_free(&r);
    if (!ok) {
        quy_proof_free(pf);
        return qi_fail(QUY_ENOMEM, "quy_prove: out of memory");
    }
    *out = pf;
    return QUY_OK;
}

void quy_proof_free(quy_proof *pf)
{
    if (!pf) return;
    for (size_t i = 0; i < pf->nf; i++) finding_free(&pf->f[i]);
    free(pf->f);
    for (size_t i = 0; i < pf->nnotes; i++) free(pf->notes[i]);
    free(pf->notes);
    free(pf);
}

int quy_proof_proved(const quy_proof *pf) { return pf ? pf->proved : 0; }
size_t quy_proof_count(const quy_proof *pf) { return pf ? pf->nf : 0; }
unsigned quy_proof_queries(const quy_proof *pf) { return pf ? pf->queries : 0; }
size_t quy_proof_note_count(const quy_proof *pf) { return pf ? pf->nnotes : 0; }
const char *quy_proof_note(const quy_proof *pf, size_t i) { return pf && i < pf->nnotes ? pf->notes[i] : NULL; }

#define FIELD(fn, member)                                                  \
    const char *fn(const quy_proof *pf, size_t i)                          \
    {                                                                      \
        return pf && i < pf->nf ? pf->f[i].member : NULL;                  \
    }
FIELD(quy_proof_key, key)
FIELD(quy_proof_kind, kind)
FIELD(quy_proof_what, what)
FIELD(quy_proof_rule, rule)
FIELD(quy_proof_cite, cite)
FIELD(quy_proof_rule2, rule2)
FIELD(quy_proof_cite2, cite2)
FIELD(quy_proof_clause, clause)
FIELD(quy_proof_flag, flag)
FIELD(quy_proof_flag_message, flag_message)
FIELD(quy_proof_why, why)
FIELD(quy_proof_witness, witness)
FIELD(quy_proof_from, from)
FIELD(quy_proof_to, to)
#undef FIELD
