/*
 * cmd_eval.c — `quy eval` (rate records) and `quy explain` (the same with a
 * Vietnamese explanation per record, as text or JSON), over quy.h.
 *
 * All inputs form one batch (quy_batch_*): each record is rated by its
 * rate block, then roll-ups, caps and quotas run in dependency order, and
 * the results are written in input order. A rejected record is reported
 * with its file, line, id and field, and the rest are still rated (exit 2).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "options.h"

typedef struct eval_opts {
    const char *ruleset;
    const char *format; /* NULL = table on a terminal, jsonl otherwise */
    bool explain;       /* attach traces */
    bool explain_cmd;   /* `quy explain`: text blocks (or JSON with --json) */
    bool json;
    const char *only_id;
    bool summary;       /* --summary: the per-group table instead of records */
    cli_list inputs;
    uint32_t max_line, max_depth, max_list; /* --max-line, --max-depth, --max-list (0: default) */
    uint32_t jobs;      /* --jobs (0: one per core) */
} eval_opts;

typedef struct eval_stats {
    size_t rated, rejected, warnings;
} eval_stats;

static void on_warning(void *ctx, const char *file, unsigned line, const char *id, const char *message)
{
    eval_stats *st = ctx;
    st->warnings++;
    fprintf(stderr, "%s:%u: warning: %s%s%s%s\n", file, line, id[0] ? "record '" : "", id, id[0] ? "': " : "",
            message);
}

static void report_rejected(const quy_result *r)
{
    const char *id = quy_result_id(r), *field = quy_result_error_field(r);
    fprintf(stderr, "%s:%u: error: ", quy_result_file(r), quy_result_line(r));
    if (id[0]) fprintf(stderr, "record '%s'", id);
    if (field[0]) fprintf(stderr, "%sfield '%s'", id[0] ? ", " : "", field);
    fprintf(stderr, "%s[%s]\n", id[0] || field[0] ? " " : "", quy_result_error_code(r));
    char *at = NULL; /* a rule that failed: its source line and a caret */
    if (quy_result_error_source(r, &at) == QUY_OK) fputs(at, stderr);
    else fprintf(stderr, "    %s\n", quy_result_error_message(r));
    quy_free(at);
}

/* `quy explain` text block for one record: the rate block's trace (which
 * decided the eligible tier), then the batch steps. */
static void explain_block(const quy_ruleset *rs, const quy_result *r)
{
    const char *version = quy_ruleset_version(rs);
    printf("%s (%s) → %s (%s)", quy_result_id(r), quy_result_kind(r), quy_result_tier_label(r), quy_result_tier(r));
    /* a version "…+provisional" (central-366: not the official text) says so in words */
    printf("  — bộ quy tắc %s %s%s\n", quy_ruleset_name(rs), version,
           strstr(version, "provisional") ? " (TẠM THỜI: chưa mã hoá từ văn bản chính thức — provisional)" : "");
    if (strcmp(quy_result_tier(r), quy_result_eligible_tier(r)) != 0)
        printf("  Đủ điều kiện %s (%s) theo quy tắc; sau các bước của cả lô: %s (%s)\n", quy_result_eligible_label(r),
               quy_result_eligible_tier(r), quy_result_tier_label(r), quy_result_tier(r));
    char *text = NULL;
    if (quy_result_explain_text(r, 2, &text) == QUY_OK) fputs(text, stdout);
    quy_free(text);
    putchar('\n');
}

/* --max-line N and the like: a whole number from 1. */
/* A whole number from 1 to `max` for option `opt`, or a message saying so. */
static bool limit_opt(const char *opt, const char *v, uint32_t *out, uint32_t max)
{
    char *end;
    errno = 0;
    unsigned long n = strtoul(v, &end, 10);
    if (*v < '0' || *v > '9' || *end || errno || n == 0 || n > max) {
        fprintf(stderr, "quy eval: %s needs a whole number from 1 to %u, not '%s' (e.g. %s %s)\n", opt, max, v, opt,
                strcmp(opt, "--jobs") ? "1048576" : "2");
        return false;
    }
    *out = (uint32_t)n;
    return true;
}

static int read_inputs(quy_batch *b, const eval_opts *o)
{
    int rc = EXIT_OK;
    for (size_t i = 0; i < o->inputs.n; i++) {
        const char *path = o->inputs.v[i];
        bool std = strcmp(path, "-") == 0;
        FILE *in = std ? stdin : fopen(path, "rb");
        if (!in) {
            fprintf(stderr, "quy: %s: %s\n", path, strerror(errno));
            rc = EXIT_IO;
            continue;
        }
        if (quy_batch_read_stream(b, in, std ? "-" : path) != QUY_OK) {
            fprintf(stderr, "quy: %s\n", quy_errmsg());
            rc = EXIT_IO;
        }
        if (!std) fclose(in);
    }
    return rc;
}

/* Rate every input as one batch, then write the results in input order. */
static int eval_batch(const quy_ruleset *rs, const eval_opts *o, quy_writer *w, eval_stats *st)
{
    bool explain = o->explain || o->explain_cmd;
    quy_session *s = NULL;
    quy_batch *b = NULL;
    if (quy_session_new(rs, &s) != QUY_OK || quy_batch_new(s, explain ? QUY_BATCH_EXPLAIN : 0, &b) != QUY_OK ||
        quy_batch_set_limits(b, o->max_line, o->max_depth, o->max_list) != QUY_OK ||
        quy_batch_set_jobs(b, o->jobs) != QUY_OK) {
        fprintf(stderr, "quy: %s\n", quy_errmsg());
        quy_batch_free(b);
        quy_session_free(s);
        return EXIT_IO;
    }
    quy_batch_on_warning(b, on_warning, st);
    int rc = read_inputs(b, o);
    quy_batch_run(b);
    if (o->summary) quy_batch_summary(b, stdout, o->format && strcmp(o->format, "table") != 0);
    if (w && !o->summary && !o->only_id && !(o->explain_cmd && !o->json)) {
        /* every result: the messages here, the records formatted on the batch's threads */
        for (size_t i = 0; i < quy_batch_count(b); i++) {
            const quy_result *r = quy_batch_result(b, i);
            if (quy_result_status(r) == QUY_OK) {
                st->rated++;
                continue;
            }
            st->rejected++;
            report_rejected(r);
        }
        if (quy_writer_batch(w, b, explain) != QUY_OK) {
            fprintf(stderr, "quy: %s\n", quy_errmsg());
            rc = EXIT_IO;
        }
        quy_batch_free(b);
        quy_session_free(s);
        return rc;
    }
    for (size_t i = 0; i < quy_batch_count(b); i++) {
        const quy_result *r = quy_batch_result(b, i);
        if (o->only_id && strcmp(quy_result_id(r), o->only_id) != 0) continue;
        if (quy_result_status(r) != QUY_OK) {
            st->rejected++;
            report_rejected(r);
            if (w && !o->summary) quy_writer_result(w, r, 0);
            continue;
        }
        st->rated++;
        if (o->summary) continue;
        if (o->explain_cmd && !o->json)
            explain_block(rs, r);
        else
            quy_writer_result(w, r, explain);
    }
    quy_batch_free(b);
    quy_session_free(s);
    return rc;
}

int cmd_eval(int argc, char **argv, bool explain_cmd)
{
    eval_opts o;
    memset(&o, 0, sizeof o);
    o.explain_cmd = explain_cmd;
    cli_paths ps;
    cli_paths_init(&ps);
    const char *locality = NULL, *at = NULL, *registry_file = NULL;
    bool ok = true;
    for (int i = 1; i < argc && ok; i++) {
        const char *v = NULL;
        switch (cli_next(argc, argv, &i, CMD_RATE, &v)) {
        case OPT_RULESET: o.ruleset = v; break;
        case OPT_LOCALITY: locality = v; break;
        case OPT_AT: at = v; break;
        case OPT_REGISTRY: registry_file = v; break;
        case OPT_RULESETS: cli_paths_add(&ps, v); break;
        case OPT_FORMAT: o.format = v; break;
        case OPT_EXPLAIN: o.explain = true; break;
        case OPT_JSON: o.json = true; break;
        case OPT_ID: o.only_id = v; break;
        case OPT_SUMMARY: o.summary = true; break;
        case OPT_MAX_LINE: ok = limit_opt("--max-line", v, &o.max_line, UINT32_MAX); break; /* quy_batch_set_limits */
        case OPT_MAX_DEPTH: ok = limit_opt("--max-depth", v, &o.max_depth, UINT32_MAX); break;
        case OPT_MAX_LIST: ok = limit_opt("--max-list", v, &o.max_list, UINT32_MAX); break;
        case OPT_JOBS: ok = limit_opt("--jobs", v, &o.jobs, 256); break; /* threads: quy_batch_set_jobs's limit */
        case OPT_ARG: cli_list_add(&o.inputs, argv[i]); break;
        default: ok = false; break;
        }
    }
    if (!ok) {
        cli_list_free(&o.inputs);
        return EXIT_RULESET;
    }
    char *chosen = NULL; /* --locality: the ruleset in force there */
    if (locality && o.ruleset) {
        fprintf(stderr, "quy %s: give --ruleset or --locality, not both\n", argv[0]);
        return EXIT_RULESET;
    }
    if ((at || registry_file) && !locality) {
        fprintf(stderr, "quy %s: --at and --registry go with --locality\n", argv[0]);
        return EXIT_RULESET;
    }
    if (locality && !(o.ruleset = chosen = cli_locality_ruleset(&ps, registry_file, locality, at, argv[0]))) {
        cli_list_free(&o.inputs);
        return EXIT_RULESET;
    }
    if (!o.ruleset) {
        fprintf(stderr, "quy %s: --ruleset NAME|FILE (or --locality NAME --at DATE) is required (e.g. --ruleset central-124)\n", argv[0]);
        cli_list_free(&o.inputs);
        return EXIT_RULESET;
    }
    if (o.inputs.n == 0) cli_list_add(&o.inputs, "-");
    const char *fmt = isatty(1) ? "table" : "jsonl";
    if (explain_cmd && o.json) fmt = "jsonl";
    if (o.format) {
        if (strcmp(o.format, "jsonl") && strcmp(o.format, "json") && strcmp(o.format, "csv") && strcmp(o.format, "table")) {
            static const char *const formats[] = {"jsonl", "json", "csv", "table"};
            const char *near = quy_suggest(o.format, formats, 4);
            fprintf(stderr, "quy: unknown format '%s'%s%s%s (jsonl, csv or table)\n", o.format,
                    near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
            free(chosen);
            cli_list_free(&o.inputs);
            return EXIT_RULESET;
        }
        fmt = o.format;
    }
    quy_ruleset *rs = cli_ruleset(&ps, o.ruleset);
    free(chosen);
    if (!rs) {
        cli_list_free(&o.inputs);
        return EXIT_RULESET;
    }
    /* a provisional ruleset (version "…+provisional") says so whatever the
     * output format (the table and CSV formats carry no ruleset column) */
    if (strstr(quy_ruleset_version(rs), "provisional"))
        fprintf(stderr, "quy %s: lưu ý: %s %s là bộ quy tắc TẠM THỜI, chưa mã hoá từ văn bản chính thức (provisional: %s)\n",
                argv[0], quy_ruleset_name(rs), quy_ruleset_version(rs), quy_ruleset_title(rs));
    quy_writer *w = NULL;
    if (!(explain_cmd && !o.json) && quy_writer_new(rs, stdout, fmt, &w) != QUY_OK) {
        fprintf(stderr, "quy: %s\n", quy_errmsg());
        quy_ruleset_free(rs);
        cli_list_free(&o.inputs);
        return EXIT_IO;
    }
    eval_stats st = {0};
    int rc = eval_batch(rs, &o, w, &st);
    if (w && quy_writer_close(w) != QUY_OK) {
        fprintf(stderr, "quy: cannot write the output: %s\n", strerror(errno));
        rc = EXIT_IO;
    }
    quy_ruleset_free(rs);
    cli_list_free(&o.inputs);
    if (st.rejected)
        fprintf(stderr, "quy: %zu bản ghi đã xếp loại, %zu bản ghi bị từ chối (%zu records rated, %zu rejected)\n", st.rated,
                st.rejected, st.rated, st.rejected);
    if (rc == EXIT_OK && st.rejected) rc = EXIT_REJECTED;
    return rc;
}
