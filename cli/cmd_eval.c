/*
 * cmd_eval.c — `quy eval` (rate records) and `quy explain` (the same with a
 * Vietnamese explanation per record, as text or JSON).
 *
 * All inputs form one batch (runtime/batch.h): each record is rated by its
 * rate block, then roll-ups, caps and quotas run in dependency order, and
 * the results are written in input order. A rejected record is reported
 * with its file, line, id and field, and the rest are still rated (exit 2).
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../runtime/batch.h"
#include "../runtime/batch_render.h"
#include "../runtime/explain.h"
#include "../runtime/output.h"
#include "../runtime/record.h"
#include "../runtime/vm.h"
#include "cli.h"

typedef struct eval_opts {
    const char *ruleset;
    const char *format; /* NULL = table on a terminal, jsonl otherwise */
    bool explain;       /* attach traces */
    bool explain_cmd;   /* `quy explain`: text blocks (or JSON with --json) */
    bool json;
    const char *only_id;
    bool summary;       /* --summary: the per-group table instead of records */
    const char *inputs[256];
    int ninputs;
    rec_limits limits;  /* --max-line, --max-depth, --max-list (0: default) */
} eval_opts;

typedef struct eval_stats {
    size_t rated, rejected, warnings;
} eval_stats;

static void on_warning(void *ctx, const rec_error *w)
{
    eval_stats *st = ctx;
    st->warnings++;
    fprintf(stderr, "%s:%u: warning: %s%s%s%s\n", w->file, w->line, w->id[0] ? "record '" : "", w->id,
            w->id[0] ? "': " : "", w->message);
}

static void report_rejected(const rec_error *e)
{
    char who[400] = "";
    size_t n = 0;
    if (e->id[0]) n += (size_t)snprintf(who + n, sizeof who - n, "record '%s'", e->id);
    if (e->field[0] && n < sizeof who)
        n += (size_t)snprintf(who + n, sizeof who - n, "%sfield '%s'", n ? ", " : "", e->field);
    fprintf(stderr, "%s:%u: error: %s%s[%s]\n", e->file, e->line, who, n ? " " : "", e->code);
    fprintf(stderr, "    %s\n", e->message);
}

/* `quy explain` text block for one record: the rate block's trace (which
 * decided the eligible tier), then the batch steps. */
static void explain_block(const q_program *p, const batch *bt, const batch_view *v, const vm_result *res,
                          const vm_trace *tr)
{
    const char *kind = prog_str(p, p->kinds[v->kind].name);
    printf("%s (%s) → %s (%s)", v->id, kind, q_outcome_label[v->res.outcome], q_outcome_code[v->res.outcome]);
    /* a version "…+provisional" (central-366: not the official text) says so in words */
    printf("  — bộ quy tắc %s %s%s\n", prog_str(p, p->name), prog_str(p, p->version),
           strstr(prog_str(p, p->version), "provisional") ? " (TẠM THỜI: chưa mã hoá từ văn bản chính thức — provisional)" : "");
    if (v->eligible != v->res.outcome)
        printf("  Đủ điều kiện %s (%s) theo quy tắc; sau các bước của cả lô: %s (%s)\n", q_outcome_label[v->eligible],
               q_outcome_code[v->eligible], q_outcome_label[v->res.outcome], q_outcome_code[v->res.outcome]);
    explain_text(p, v->rec, res, tr, stdout, 2);
    char *steps = batch_explain_text(bt, v->index, 2);
    if (steps && *steps) fputs(steps, stdout);
    free(steps);
    putchar('\n');
}

/* --max-line N and the like: a whole number from 1. */
static bool limit_opt(const char *opt, const char *v, uint32_t *out)
{
    char *end;
    unsigned long n = strtoul(v, &end, 10);
    if (*v < '0' || *v > '9' || *end || n == 0 || n > UINT32_MAX) {
        fprintf(stderr, "quy eval: %s needs a whole number from 1 to %u, e.g. %s 1048576\n", opt, UINT32_MAX, opt);
        return false;
    }
    *out = (uint32_t)n;
    return true;
}

static int read_inputs(batch *bt, const eval_opts *o)
{
    int rc = EXIT_OK;
    for (int i = 0; i < o->ninputs; i++) {
        const char *path = o->inputs[i];
        bool std = strcmp(path, "-") == 0;
        FILE *in = std ? stdin : fopen(path, "rb");
        if (!in) {
            fprintf(stderr, "quy: %s: %s\n", path, strerror(errno));
            rc = EXIT_IO;
            continue;
        }
        rec_error err;
        if (batch_read(bt, in, std ? "-" : path, &err) != 0) {
            fprintf(stderr, "quy: %s:%u: %s\n", path, err.line, err.message);
            rc = EXIT_IO;
        }
        if (!std) fclose(in);
    }
    return rc;
}

/* Rate every input as one batch, then write the results in input order. */
static int eval_batch(const q_program *p, const eval_opts *o, out_writer *w, eval_stats *st, vm_event *evbuf)
{
    bool explain = o->explain || o->explain_cmd;
    batch *bt = batch_new(p, explain);
    if (bt) batch_set_limits(bt, &o->limits);
    if (!bt) {
        fprintf(stderr, "quy: out of memory\n");
        return EXIT_IO;
    }
    batch_on_warning(bt, on_warning, st);
    int rc = read_inputs(bt, o);
    if (batch_run(bt) != 0) {
        fprintf(stderr, "quy: out of memory\n");
        batch_free(bt);
        return EXIT_IO;
    }
    if (o->summary) {
        batch_summary(bt, stdout, o->format && strcmp(o->format, "table") != 0);
    }
    vm_trace tr = {.ev = evbuf, .cap = QUY_TRACE_CAP};
    for (size_t i = 0; i < batch_count(bt); i++) {
        batch_view v;
        batch_get(bt, i, &v);
        if (o->only_id && strcmp(v.id, o->only_id) != 0) continue;
        if (v.status == BATCH_REJECTED) {
            st->rejected++;
            report_rejected(v.error);
            if (w && !o->summary) out_rejected(w, v.error);
            continue;
        }
        st->rated++;
        if (o->summary) continue;
        if (o->explain_cmd && !o->json) {
            vm_result res = v.res; /* the rate block's own result, for the trace */
            tr.n = 0;
            tr.truncated = false;
            if (v.rec) vm_rate(p, batch_hooks(bt), v.rec, &res, &tr);
            explain_block(p, bt, &v, &res, &tr);
            continue;
        }
        batch_write(bt, i, w, explain ? &tr : NULL, true);
    }
    batch_free(bt);
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
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (cli_opt(argc, argv, &i, "--ruleset", &v))
            o.ruleset = v;
        else if (cli_opt(argc, argv, &i, "--locality", &v))
            locality = v;
        else if (cli_opt(argc, argv, &i, "--at", &v))
            at = v;
        else if (cli_opt(argc, argv, &i, "--registry", &v))
            registry_file = v;
        else if (cli_opt(argc, argv, &i, "--rulesets", &v))
            cli_paths_add(&ps, v);
        else if (cli_opt(argc, argv, &i, "--format", &v))
            o.format = v;
        else if (cli_opt(argc, argv, &i, "--explain", NULL))
            o.explain = true;
        else if (cli_opt(argc, argv, &i, "--json", NULL))
            o.json = true;
        else if (cli_opt(argc, argv, &i, "--id", &v))
            o.only_id = v;
        else if (cli_opt(argc, argv, &i, "--summary", NULL))
            o.summary = true;
        else if (cli_opt(argc, argv, &i, "--max-line", &v)) { /* record limits: record.h, rec_limits */
            if (!limit_opt("--max-line", v, &o.limits.max_line)) return EXIT_RULESET;
        } else if (cli_opt(argc, argv, &i, "--max-depth", &v)) {
            if (!limit_opt("--max-depth", v, &o.limits.max_depth)) return EXIT_RULESET;
        } else if (cli_opt(argc, argv, &i, "--max-list", &v)) {
            if (!limit_opt("--max-list", v, &o.limits.max_list)) return EXIT_RULESET;
        }
        else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "quy %s: unknown option '%s' (try 'quy help')\n", argv[0], argv[i]);
            return EXIT_RULESET;
        } else if (o.ninputs < 256)
            o.inputs[o.ninputs++] = argv[i];
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
    if (locality && !(o.ruleset = chosen = cli_locality_ruleset(&ps, registry_file, locality, at, argv[0])))
        return EXIT_RULESET;
    if (!o.ruleset) {
        fprintf(stderr, "quy %s: --ruleset NAME|FILE (or --locality NAME --at DATE) is required (e.g. --ruleset central-124)\n", argv[0]);
        return EXIT_RULESET;
    }
    if (o.ninputs == 0) o.inputs[o.ninputs++] = "-";
    out_format fmt = isatty(1) ? OUT_TABLE : OUT_JSONL;
    if (explain_cmd && o.json) fmt = OUT_JSONL;
    if (o.format) {
        if (!strcmp(o.format, "jsonl") || !strcmp(o.format, "json"))
            fmt = OUT_JSONL;
        else if (!strcmp(o.format, "csv"))
            fmt = OUT_CSV;
        else if (!strcmp(o.format, "table"))
            fmt = OUT_TABLE;
        else {
            fprintf(stderr, "quy: unknown format '%s' (jsonl, csv or table)\n", o.format);
            free(chosen);
            return EXIT_RULESET;
        }
    }
    q_program *p = cli_load(&ps, o.ruleset);
    free(chosen);
    if (!p) return EXIT_RULESET;
    /* a provisional ruleset (version "…+provisional") says so whatever the
     * output format (the table and CSV formats carry no ruleset column) */
    if (strstr(prog_str(p, p->version), "provisional"))
        fprintf(stderr, "quy %s: lưu ý: %s %s là bộ quy tắc TẠM THỜI, chưa mã hoá từ văn bản chính thức (provisional: %s)\n",
                argv[0], prog_str(p, p->name), prog_str(p, p->version), prog_str(p, p->title));
    out_writer *w = (explain_cmd && !o.json) ? NULL : out_open(stdout, fmt, p);
    vm_event *evbuf = malloc(sizeof(vm_event) * QUY_TRACE_CAP);
    eval_stats st = {0};
    int rc = eval_batch(p, &o, w, &st, evbuf);
    if (w && out_close(w) != 0) {
        fprintf(stderr, "quy: cannot write the output: %s\n", strerror(errno));
        rc = EXIT_IO;
    }
    free(evbuf);
    prog_free(p);
    if (st.rejected)
        fprintf(stderr, "quy: %zu bản ghi đã xếp loại, %zu bản ghi bị từ chối (%zu records rated, %zu rejected)\n", st.rated,
                st.rejected, st.rated, st.rejected);
    if (rc == EXIT_OK && st.rejected) rc = EXIT_REJECTED;
    return rc;
}
