/*
 * api.c — the public C library (include/quy.h) over the compiler, the
 * record loader, the VM and the writers. It lives in compiler/ because it
 * compiles rulesets; it adds no logic of its own beyond wiring.
 */
#include "../include/quy.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "../runtime/batch.h"
#include "../runtime/batch_render.h"
#include "../runtime/explain.h"
#include "../runtime/hook.h"
#include "../runtime/output.h"
#include "../runtime/record.h"
#include "../runtime/vm.h"
#include "compiler.h"
#include "registry.h"

struct quy_ruleset {
    q_program *p;
    rec_reader *decoder; /* for quy_rate_json */
    vm_event *ev;        /* trace buffer, QUY_TRACE_CAP events */
    hook_session *hooks; /* for quy_rate_json (the reasons it returns are kept there) */
};

static char *slurp_diags(diag_list *d)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return NULL;
    diag_print(d, f, false);
    fclose(f);
    return buf;
}

/* The search path: the caller's dirs, then $QUY_RULESETS (DIR:DIR...).
 * all[] points into dirs and into *env, which the caller frees after use. */
static size_t search_dirs(const char *const *dirs, size_t ndirs, const char *all[64], char **env)
{
    size_t na = 0;
    for (size_t i = 0; i < ndirs && na < 63; i++) all[na++] = dirs[i];
    *env = getenv("QUY_RULESETS") ? strdup(getenv("QUY_RULESETS")) : NULL;
    for (char *tok = *env ? strtok(*env, ":") : NULL; tok && na < 64; tok = strtok(NULL, ":")) all[na++] = tok;
    return na;
}

quy_ruleset *quy_ruleset_load(const char *name, const char *const *dirs, size_t ndirs, char **errors)
{
    if (errors) *errors = NULL;
    q_program *p = NULL;
    if (bc_is_file(name)) { /* a compiled file, recognised by its magic as the CLI does */
        char err[1024];
        p = bc_read_file(name, err, sizeof err);
        if (!p && errors) *errors = strdup(err);
    } else {
        const char *all[64];
        char *env;
        size_t na = search_dirs(dirs, ndirs, all, &env);
        compiler *c = compiler_new(all, na);
        free(env);
        if (!c) return NULL;
        p = compiler_compile(c, name);
        if (!p && errors) *errors = slurp_diags(compiler_diags(c));
        compiler_free(c);
    }
    if (!p) return NULL;
    quy_ruleset *rs = calloc(1, sizeof *rs);
    if (rs) {
        rs->p = p;
        rs->decoder = rec_reader_open(p, NULL, "json", REC_JSONL);
        rs->ev = malloc(sizeof(vm_event) * QUY_TRACE_CAP);
        rs->hooks = hook_session_new(p, NULL);
        if (rs->decoder) rec_reader_set_hooks(rs->decoder, rs->hooks);
    }
    if (!rs || !rs->decoder || !rs->ev || !rs->hooks) {
        quy_ruleset_free(rs);
        if (!rs) prog_free(p);
        return NULL;
    }
    return rs;
}

void quy_ruleset_free(quy_ruleset *rs)
{
    if (!rs) return;
    if (rs->decoder) rec_reader_free(rs->decoder);
    free(rs->ev);
    hook_session_free(rs->hooks);
    prog_free(rs->p);
    free(rs);
}

int quy_ruleset_resolve(const char *locality, const char *date, const char *const *dirs, size_t ndirs, char **chosen,
                        char **why, char **errors)
{
    *chosen = NULL;
    if (why) *why = NULL;
    if (errors) *errors = NULL;
    int64_t days;
    if (!date || strlen(date) != 10 || !q_parse_date(date, 10, &days)) {
        if (errors) {
            size_t n = strlen(date ? date : "(null)") + 40;
            *errors = malloc(n);
            if (*errors) snprintf(*errors, n, "not a date YYYY-MM-DD: '%s'", date ? date : "(null)");
        }
        return -1;
    }
    const char *all[64];
    char *env;
    size_t na = search_dirs(dirs, ndirs, all, &env);
    char *path = reg_find(all, na);
    free(env);
    if (!path) {
        if (errors) *errors = strdup("no " REG_FILE " in the ruleset directories");
        return -1;
    }
    registry *r = reg_load(path, errors);
    free(path);
    if (!r) return -1;
    reg_choice c;
    char *msg = NULL;
    int rc = reg_resolve(r, locality, days, &c, &msg);
    if (rc == 0) {
        *chosen = strdup(c.entry->ruleset);
        if (why) *why = msg;
        else free(msg);
    } else if (errors)
        *errors = msg;
    else
        free(msg);
    reg_free(r);
    return rc;
}

const char *quy_ruleset_name(const quy_ruleset *rs) { return prog_str(rs->p, rs->p->name); }
const char *quy_ruleset_version(const quy_ruleset *rs) { return prog_str(rs->p, rs->p->version); }

static void fill_error(quy_result *out, const rec_error *e)
{
    snprintf(out->id, sizeof out->id, "%s", e->id);
    snprintf(out->error_code, sizeof out->error_code, "%s", e->code);
    snprintf(out->error_field, sizeof out->error_field, "%s", e->field);
    snprintf(out->error_message, sizeof out->error_message, "%s", e->message);
}

quy_status quy_rate_json(quy_ruleset *rs, const char *json, size_t len, quy_result *out, char **explain)
{
    const q_program *p = rs->p;
    memset(out, 0, sizeof *out);
    if (explain) *explain = NULL;
    q_record *rec;
    rec_error err;
    /* from the text: exact numbers (a jansson object's decimals are doubles) */
    int rc = rec_decode_text(rs->decoder, json, len, 1, &rec, &err);
    if (rc < 0) {
        fill_error(out, &err);
        return QUY_REJECTED;
    }
    snprintf(out->id, sizeof out->id, "%s", rec->id);
    out->kind = prog_str(p, p->kinds[rec->kind].name);
    vm_result res;
    vm_trace tr = {.ev = rs->ev, .cap = QUY_TRACE_CAP};
    vm_rate(p, rs->hooks, rec, &res, explain ? &tr : NULL);
    if (res.error != VM_OK) {
        snprintf(out->error_code, sizeof out->error_code, "eval");
        snprintf(out->error_message, sizeof out->error_message, "%s%s%s", vm_error_message[res.error],
                 res.error_text ? ": " : "", res.error_text ? res.error_text : "");
        if (res.error == VM_ABSENT)
            snprintf(out->error_field, sizeof out->error_field, "%s",
                     prog_str(p, p->fields[p->kinds[rec->kind].first_field + res.error_slot].name));
        return QUY_REJECTED;
    }
    out->tier = q_outcome_code[res.outcome];
    out->tier_label = q_outcome_label[res.outcome];
    out->eligible_tier = out->tier;
    if (res.rule != QUY_NONE) {
        out->rule = prog_str(p, p->rules[res.rule].name);
        out->cite = prog_str(p, p->rules[res.rule].cite);
        out->layer = prog_str(p, p->rules[res.rule].layer);
    }
    for (uint16_t i = 0; i < res.nflags && i < QUY_FLAGS_MAX; i++) {
        out->flags[i] = prog_str(p, p->flags[res.flags[i]].name);
        out->flag_messages[i] = prog_str(p, p->flags[res.flags[i]].message);
        out->flag_details[i] = vm_note_of(&res, res.flags[i]);
        out->nflags++;
    }
    if (explain) *explain = explain_text_str(p, rec, &res, &tr, 0);
    return QUY_OK;
}

quy_status quy_rate_stream(quy_ruleset *rs, FILE *in, const char *in_name, FILE *out, const char *format, int explain,
                           size_t *rated, size_t *rejected)
{
    const q_program *p = rs->p;
    out_writer *w = out_open(out, format && strcmp(format, "csv") == 0 ? OUT_CSV : OUT_JSONL, p);
    batch *bt = batch_new(p, explain != 0);
    if (!w || !bt) {
        if (w) out_close(w);
        batch_free(bt);
        return QUY_IO;
    }
    /* the whole stream is one batch: roll-ups, caps and quotas (runtime/batch.h) */
    rec_error err;
    bool io = batch_read(bt, in, in_name ? in_name : "-", &err) != 0;
    io |= batch_run(bt) != 0; /* out of memory */
    size_t nrated = 0, nrej = 0;
    vm_trace tr = {.ev = rs->ev, .cap = QUY_TRACE_CAP};
    for (size_t i = 0; i < batch_count(bt); i++) {
        batch_view v;
        batch_get(bt, i, &v);
        if (v.status == BATCH_REJECTED) {
            nrej++;
            out_rejected(w, v.error);
            continue;
        }
        nrated++;
        batch_write(bt, i, w, explain ? &tr : NULL, false);
    }
    batch_free(bt);
    int wrc = out_close(w);
    if (rated) *rated = nrated;
    if (rejected) *rejected = nrej;
    if (wrc != 0 || io) return QUY_IO;
    return nrej ? QUY_REJECTED : QUY_OK;
}

/* The compiled program of a ruleset, for the library's own engines
 * (diff/diff_api.c, gen/gen_api.c); not in quy.h. */
const q_program *quy_ruleset_program_(const quy_ruleset *rs);
const q_program *quy_ruleset_program_(const quy_ruleset *rs) { return rs ? rs->p : NULL; }
