/*
 * api.c — rulesets, sessions, batches, results and writers (include/quy.h)
 * over the record reader, the VM, the batch engine and the writers. It
 * adds no rating logic of its own: a single record is a batch of one in
 * single mode (runtime/batch.h, batch_single), exactly as a `quy test`
 * case, so the library, `quy test` and `quy eval` agree.
 */
#include <stdlib.h>
#include <string.h>

#include "../runtime/explain.h"
#include "../runtime/output.h"
#include "internal.h"
#include "jobs.h"
#include "../runtime/batch_render.h"

#define NULLARG(fn) qi_fail(QUY_EINVAL, fn ": NULL argument")

/* =====================================================================
 * Rulesets
 * =================================================================== */

quy_status qi_ruleset_new(q_program *p, const char *file, quy_ruleset **out)
{
    quy_ruleset *rs = calloc(1, sizeof *rs);
    char *f = strdup(file ? file : "");
    if (!rs || !f) {
        free(rs);
        free(f);
        prog_free(p);
        return qi_fail(QUY_ENOMEM, "out of memory");
    }
    rs->p = p;
    rs->file = f;
    if (!qi_fields_init(rs)) {
        quy_ruleset_free(rs);
        return qi_fail(QUY_ENOMEM, "out of memory");
    }
    *out = rs;
    return QUY_OK;
}

/* For diff/diff_api.c and gen/gen_api.c (not in quy.h): the program of a ruleset. */
const q_program *quy_ruleset_program_(const quy_ruleset *rs);
const q_program *quy_ruleset_program_(const quy_ruleset *rs) { return rs ? rs->p : NULL; }

void quy_ruleset_free(quy_ruleset *rs)
{
    if (!rs) return;
    qi_fields_free(rs);
    prog_free(rs->p);
    free(rs->file);
    free(rs);
}

const char *quy_ruleset_name(const quy_ruleset *rs)
{
    if (!rs) return NULLARG("quy_ruleset_name"), NULL;
    return prog_str(rs->p, rs->p->name);
}

const char *quy_ruleset_version(const quy_ruleset *rs)
{
    if (!rs) return NULLARG("quy_ruleset_version"), NULL;
    return prog_str(rs->p, rs->p->version);
}

const char *quy_ruleset_title(const quy_ruleset *rs)
{
    if (!rs) return NULLARG("quy_ruleset_title"), NULL;
    return prog_str(rs->p, rs->p->title);
}

const char *quy_ruleset_file(const quy_ruleset *rs)
{
    if (!rs) return NULLARG("quy_ruleset_file"), NULL;
    return rs->file;
}

size_t quy_ruleset_count(const quy_ruleset *rs, int what)
{
    if (!rs) return NULLARG("quy_ruleset_count"), 0;
    const q_program *p = rs->p;
    switch (what) {
    case QUY_COUNT_KINDS: return p->nkinds;
    case QUY_COUNT_RULES: return p->nrules;
    case QUY_COUNT_CLAUSES: return p->nclauses;
    case QUY_COUNT_INSTRUCTIONS: return p->ncode;
    case QUY_COUNT_FLAGS: return p->nflagdefs;
    case QUY_COUNT_HOOKS: return p->nhooks;
    default: qi_fail(QUY_EINVAL, "quy_ruleset_count: unknown quy_count %d", what); return 0;
    }
}

quy_status quy_ruleset_bytecode(const quy_ruleset *rs, void **buf, size_t *len)
{
    if (!rs || !buf || !len) return NULLARG("quy_ruleset_bytecode");
    uint8_t *b;
    if (!bc_write(rs->p, &b, len)) return qi_fail(QUY_ENOMEM, "out of memory");
    *buf = b;
    return QUY_OK;
}

quy_status quy_ruleset_disasm(const quy_ruleset *rs, FILE *out)
{
    if (!rs || !out) return NULLARG("quy_ruleset_disasm");
    disasm_print(rs->p, out);
    return ferror(out) ? qi_fail(QUY_IO, "cannot write the listing") : QUY_OK;
}

quy_status quy_opcodes_markdown(FILE *out)
{
    if (!out) return NULLARG("quy_opcodes_markdown");
    disasm_opcodes_md(out);
    return ferror(out) ? qi_fail(QUY_IO, "cannot write the table") : QUY_OK;
}

/* =====================================================================
 * Sessions
 * =================================================================== */

quy_status quy_session_new(const quy_ruleset *rs, quy_session **out)
{
    if (out) *out = NULL;
    if (!rs || !out) return NULLARG("quy_session_new");
    quy_session *s = calloc(1, sizeof *s);
    if (s) s->ev = malloc(sizeof(vm_event) * QUY_TRACE_CAP);
    if (s && s->ev) s->hooks = hook_session_new(rs->p, NULL);
    if (!s || !s->ev || !s->hooks) {
        if (s) free(s->ev);
        free(s);
        return qi_fail(QUY_ENOMEM, "out of memory");
    }
    s->rs = rs;
    *out = s;
    return QUY_OK;
}

void quy_session_free(quy_session *s)
{
    if (!s) return;
    quy_batch_free(s->single);
    hook_session_free(s->hooks);
    free(s->ev);
    free(s);
}

quy_status quy_session_set_hook_limits(quy_session *s, uint64_t instructions, size_t memory, uint64_t cpu_ms)
{
    if (!s) return NULLARG("quy_session_set_hook_limits");
    if (memory && memory < QUY_HOOK_MIN_MEMORY)
        return qi_fail(QUY_EINVAL,
                       "quy_session_set_hook_limits: memory %zu bytes is under the sandbox's minimum; give at least "
                       "%u (QUY_HOOK_MIN_MEMORY), or 0 to keep the current limit",
                       memory, QUY_HOOK_MIN_MEMORY);
    if (cpu_ms > QUY_HOOK_MAX_CPU_MS)
        return qi_fail(QUY_EINVAL,
                       "quy_session_set_hook_limits: cpu_ms %llu is over a day; give at most %u "
                       "(QUY_HOOK_MAX_CPU_MS), or 0 to keep the current limit",
                       (unsigned long long)cpu_ms, QUY_HOOK_MAX_CPU_MS);
    hook_limits lim = {.instructions = instructions, .memory = memory, .cpu_ms = (uint32_t)cpu_ms};
    hook_session_set_limits(s->hooks, &lim);
    return QUY_OK;
}

quy_status quy_session_hook_limits(const quy_session *s, uint64_t *instructions, size_t *memory, uint64_t *cpu_ms)
{
    if (!s) return NULLARG("quy_session_hook_limits");
    hook_limits lim = hook_session_limits(s->hooks);
    if (instructions) *instructions = lim.instructions;
    if (memory) *memory = lim.memory;
    if (cpu_ms) *cpu_ms = lim.cpu_ms;
    return QUY_OK;
}

/* =====================================================================
 * Batches
 * =================================================================== */

quy_status quy_batch_new(quy_session *s, unsigned flags, quy_batch **out)
{
    if (out) *out = NULL;
    if (!s || !out) return NULLARG("quy_batch_new");
    if (flags & ~(unsigned)(QUY_BATCH_EXPLAIN | QUY_BATCH_SINGLE))
        return qi_fail(QUY_EINVAL, "quy_batch_new: unknown flags 0x%x (QUY_BATCH_EXPLAIN, QUY_BATCH_SINGLE)", flags);
    quy_batch *b = calloc(1, sizeof *b);
    if (b) b->bt = batch_new(s->rs->p, (flags & QUY_BATCH_EXPLAIN) != 0);
    if (!b || !b->bt) {
        free(b);
        return qi_fail(QUY_ENOMEM, "out of memory");
    }
    batch_single(b->bt, (flags & QUY_BATCH_SINGLE) != 0);
    batch_set_hooks(b->bt, s->hooks); /* borrowed: the session outlives its batches */
    s->nbatches++;
    b->s = s;
    b->flags = flags;
    b->flags_of = SIZE_MAX;
    *out = b;
    return QUY_OK;
}

static void clear_xflags(quy_batch *b)
{
    for (size_t k = 0; k < b->nx; k++) free(b->xmsg[k]);
    free(b->xcode);
    free(b->xcite);
    free(b->xmsg);
    b->xcode = b->xcite = NULL;
    b->xmsg = NULL;
    b->nx = 0;
    b->flags_of = SIZE_MAX;
}

void quy_batch_free(quy_batch *b)
{
    if (!b) return;
    clear_xflags(b);
    if (b->decoder) rec_reader_free(b->decoder);
    batch_free(b->bt);
    b->s->nbatches--;
    free(b->results);
    free(b);
}

static void on_warning(void *ctx, const rec_error *w)
{
    quy_batch *b = ctx;
    b->warn(b->warn_ctx, w->file, w->line, w->id, w->message);
}

quy_status quy_batch_on_warning(quy_batch *b, quy_warning_fn fn, void *ctx)
{
    if (!b || !fn) return NULLARG("quy_batch_on_warning");
    b->warn = fn;
    b->warn_ctx = ctx;
    batch_on_warning(b->bt, on_warning, b);
    if (b->decoder) rec_reader_on_warning(b->decoder, on_warning, b);
    return QUY_OK;
}

static quy_status not_after_run(const quy_batch *b, const char *fn)
{
    return b->ran ? qi_fail(QUY_ESTATE, "%s: the batch has run already; make a new batch", fn) : QUY_OK;
}

quy_status quy_batch_set_limits(quy_batch *b, uint32_t max_line, uint32_t max_depth, uint32_t max_list)
{
    if (!b) return NULLARG("quy_batch_set_limits");
    if (b->decoder || batch_count(b->bt))
        return qi_fail(QUY_ESTATE, "quy_batch_set_limits: set the limits before adding records");
    b->limits = (rec_limits){max_line, max_depth, max_list};
    batch_set_limits(b->bt, &b->limits);
    return QUY_OK;
}

quy_status quy_batch_add_json(quy_batch *b, const char *json, size_t len, const char *name, unsigned line)
{
    if (!b || !json) return NULLARG("quy_batch_add_json");
    quy_status st = not_after_run(b, "quy_batch_add_json");
    if (st != QUY_OK) return st;
    if (!name) name = "json";
    if (!b->decoder) {
        /* one decoder per batch, from the text: exact numbers (a jansson
         * object's decimals would already have gone through a double) */
        if (!(b->decoder = rec_reader_open(b->s->rs->p, NULL, name, REC_JSONL))) return qi_fail(QUY_ENOMEM, "out of memory");
        rec_reader_set_limits(b->decoder, &b->limits);
        rec_reader_set_hooks(b->decoder, b->s->hooks);
        if (b->warn) rec_reader_on_warning(b->decoder, on_warning, b);
    }
    q_record *rec;
    rec_error err;
    if (rec_decode_text(b->decoder, json, len, line, &rec, &err) > 0)
        batch_add_record(b->bt, rec, name);
    else
        batch_add_rejected(b->bt, &err, name);
    return QUY_OK;
}

quy_status quy_batch_read_stream(quy_batch *b, FILE *in, const char *name)
{
    if (!b || !in) return NULLARG("quy_batch_read_stream");
    quy_status st = not_after_run(b, "quy_batch_read_stream");
    if (st != QUY_OK) return st;
    if (!name) name = "-";
    rec_error err;
    int rc = b->jobs > 1 ? qi_batch_read_jobs(b, in, name, b->jobs, &err) : batch_read(b->bt, in, name, &err);
    if (rc != 0) return qi_fail(QUY_IO, "%s:%u: %s", name, err.line, err.message);
    return QUY_OK;
}

quy_status quy_batch_read(quy_batch *b, const char *text, size_t len, const char *name)
{
    if (!b || !text) return NULLARG("quy_batch_read");
    if (len == 0) return not_after_run(b, "quy_batch_read");
    FILE *in = fmemopen((void *)text, len, "r");
    if (!in) return qi_fail(QUY_ENOMEM, "out of memory");
    quy_status st = quy_batch_read_stream(b, in, name ? name : "memory");
    fclose(in);
    return st;
}

quy_status quy_batch_run(quy_batch *b)
{
    if (!b) return NULLARG("quy_batch_run");
    quy_status st = not_after_run(b, "quy_batch_run");
    if (st != QUY_OK) return st;
    batch_run(b->bt);
    b->nresults = batch_count(b->bt);
    b->results = calloc(b->nresults ? b->nresults : 1, sizeof *b->results);
    if (!b->results) return qi_fail(QUY_ENOMEM, "out of memory");
    for (size_t i = 0; i < b->nresults; i++) b->results[i] = (quy_result){b, i};
    b->ran = true;
    return QUY_OK;
}

size_t quy_batch_count(const quy_batch *b) { return b ? batch_count(b->bt) : 0; }

const quy_result *quy_batch_result(quy_batch *b, size_t i)
{
    if (!b) return NULLARG("quy_batch_result"), NULL;
    if (!b->ran) return qi_fail(QUY_ESTATE, "quy_batch_result: call quy_batch_run first"), NULL;
    if (i >= b->nresults) return qi_fail(QUY_EINVAL, "quy_batch_result: no record %zu (%zu in the batch)", i, b->nresults), NULL;
    return &b->results[i];
}

quy_status quy_batch_find(const quy_batch *b, const char *id, size_t *index)
{
    if (!b || !id || !index) return NULLARG("quy_batch_find");
    size_t i = batch_find(b->bt, id);
    if (i == SIZE_MAX) return qi_fail(QUY_ENOTFOUND, "no record with id '%s' in the batch", id);
    *index = i;
    return QUY_OK;
}

quy_status quy_batch_summary(const quy_batch *b, FILE *out, int json)
{
    if (!b || !out) return NULLARG("quy_batch_summary");
    if (!b->ran) return qi_fail(QUY_ESTATE, "quy_batch_summary: call quy_batch_run first");
    batch_summary(b->bt, out, json != 0);
    return ferror(out) ? qi_fail(QUY_IO, "cannot write the summary") : QUY_OK;
}

/* =====================================================================
 * Single records
 * =================================================================== */

quy_status quy_rate_json(quy_session *s, const char *json, size_t len, const quy_result **out)
{
    if (out) *out = NULL;
    if (!s || !json || !out) return NULLARG("quy_rate_json");
    quy_batch_free(s->single);
    s->single = NULL;
    /* no result of this session is alive any more: the strings hooks
     * returned for earlier records can go (a session keeps 64 MiB at most) */
    if (s->nbatches == 0) hook_session_release_strings(s->hooks);
    quy_batch *b;
    quy_status st = quy_batch_new(s, QUY_BATCH_SINGLE | QUY_BATCH_EXPLAIN, &b);
    if (st != QUY_OK) return st;
    s->single = b;
    if ((st = quy_batch_add_json(b, json, len, "json", 1)) != QUY_OK || (st = quy_batch_run(b)) != QUY_OK) return st;
    *out = &b->results[0];
    return quy_result_status(*out) == QUY_OK ? QUY_OK
                                             : qi_fail(QUY_REJECTED, "record rejected [%s] %s", quy_result_error_code(*out),
                                                       quy_result_error_message(*out));
}

/* =====================================================================
 * A stream rated and written in one call (quy_rate_stream, lib/result.c,
 * is this with one thread)
 * =================================================================== */

quy_status quy_rate_stream_jobs(quy_session *s, FILE *in, const char *in_name, FILE *out, const char *format, int explain,
                                unsigned jobs, size_t *rated_n, size_t *rejected_n)
{
    if (rated_n) *rated_n = 0;
    if (rejected_n) *rejected_n = 0;
    if (!s || !in || !out) return qi_fail(QUY_EINVAL, "quy_rate_stream: NULL argument");
    quy_writer *w;
    quy_status st = quy_writer_new(s->rs, out, format ? format : "jsonl", &w);
    if (st != QUY_OK) return st;
    quy_batch *b = NULL;
    if ((st = quy_batch_new(s, explain ? QUY_BATCH_EXPLAIN : 0, &b)) != QUY_OK ||
        (st = quy_batch_set_jobs(b, jobs)) != QUY_OK) {
        quy_batch_free(b);
        quy_writer_close(w);
        return st;
    }
    /* the whole stream is one batch: roll-ups, caps and quotas (runtime/batch.h) */
    quy_status io = quy_batch_read_stream(b, in, in_name);
    char *io_msg = io != QUY_OK ? strdup(quy_errmsg()) : NULL;
    st = quy_batch_run(b);
    size_t nrated = 0, nrej = 0;
    for (size_t i = 0; st == QUY_OK && i < b->nresults; i++) {
        if (quy_result_status(&b->results[i]) == QUY_OK)
            nrated++;
        else
            nrej++;
    }
    if (st == QUY_OK) st = quy_writer_batch(w, b, explain);
    quy_batch_free(b);
    quy_status wst = quy_writer_close(w);
    if (rated_n) *rated_n = nrated;
    if (rejected_n) *rejected_n = nrej;
    if (st == QUY_OK) st = wst;
    if (st == QUY_OK && io != QUY_OK) st = qi_fail(io, "%s", io_msg ? io_msg : "cannot read the input");
    free(io_msg);
    if (st == QUY_OK && nrej) st = qi_fail(QUY_REJECTED, "%zu of %zu records rejected", nrej, nrated + nrej);
    return st;
}
