/*
 * internal.h — the library behind include/quy.h (prefix quy_, internal
 * helpers qi_). Files:
 *   lib/util.c      versions, per-thread error messages, status names
 *   lib/loader.c    the search path (one builder), loading, compiling, the registry
 *   lib/diags.c     the diagnostics list
 *   lib/api.c       rulesets, sessions, batches, results, writers
 *   lib/explain.c   the explanation as data
 *   lib/registry.c  the registry: localities, rulesets, resolution, checks
 *   lib/fields.c    the record fields of a ruleset
 *   lib/jobs.c      reading a batch on several threads; lib/jobs_write.c writing it
 *
 * Ownership of run-time state (quy.h, THREADS): a quy_ruleset holds the
 * compiled program and nothing that changes while rating; a quy_session
 * holds the hook session (runtime/hook.h: the Lua state, its limits, the
 * strings hooks return), the trace buffer and the last single result; a
 * quy_batch holds its record decoder and the batch's data.
 */
#ifndef QUY_LIB_INTERNAL_H
#define QUY_LIB_INTERNAL_H

#include <stdbool.h>

#include "../compiler/compiler.h"
#include "../include/quy.h"
#include "../runtime/batch.h"
#include "../runtime/hook.h"
#include "../runtime/record.h"
#include "../runtime/vm.h"

struct quy_ruleset {
    q_program *p;
    char *file;      /* where it came from ("" from bytes) */
    char **deflt;    /* per field of p: its default as text, or NULL (lib/fields.c; made at load: immutable) */
};

struct quy_session {
    const quy_ruleset *rs;
    hook_session *hooks; /* this thread's Lua state and limits (runtime/hook.h) */
    vm_event *ev;        /* trace buffer, QUY_TRACE_CAP events */
    quy_batch *single;   /* the batch of the last quy_rate_json */
    size_t nbatches;     /* batches alive (hook strings are released when none is) */
};

struct quy_result {
    quy_batch *b;
    size_t i;
};

struct quy_batch {
    quy_session *s;
    batch *bt;
    rec_reader *decoder;  /* quy_batch_add_json: JSON text → records (opened on first use) */
    rec_limits limits;    /* quy_batch_set_limits */
    unsigned flags;       /* QUY_BATCH_* */
    unsigned jobs;        /* quy_batch_set_jobs (lib/jobs.c): decoding threads; 0 or 1 = this one */
    bool ran;
    quy_result *results;  /* one per record, made by quy_batch_run */
    size_t nresults;
    quy_warning_fn warn;
    void *warn_ctx;
    /* the batch steps' flags of the result last asked for (quy_result_flag*) */
    size_t flags_of;      /* result index, SIZE_MAX = none */
    const char **xcode, **xcite;
    char **xmsg;
    size_t nx;
};

struct out_writer;
struct quy_writer {
    struct out_writer *w; /* runtime/output.h */
    const quy_ruleset *rs;
};

/* Set the per-thread message (printf-style) and return `st`. */
quy_status qi_fail(quy_status st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *qi_strdup(const char *s);

/* Make a quy_ruleset around a program (takes it; frees it on failure). */
quy_status qi_ruleset_new(q_program *p, const char *file, quy_ruleset **out);

/* The ruleset's field texts (lib/fields.c): false when out of memory. */
bool qi_fields_init(quy_ruleset *rs);
void qi_fields_free(quy_ruleset *rs);

/* A diagnostics list copied out of a compiler's (NULL on no memory). */
quy_diags *qi_diags_from(const diag_list *d);

/* A date YYYY-MM-DD or a rating period ("2025", "2026-Q2") as a day
 * (lib/registry.c). */
bool qi_period_day(const char *at, int64_t *days);

/* The batch view of a result (false with a message on a bad handle). */
bool qi_view(const quy_result *r, batch_view *v);

#endif /* QUY_LIB_INTERNAL_H */
