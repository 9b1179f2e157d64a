/*
 * cmd_eval.c — `quy eval` (rate records) and `quy explain` (the same with a
 * Vietnamese explanation per record, as text or JSON).
 *
 * Every record is rated independently: a rejected record is reported with
 * its file, line, id and field, and the rest are still rated (exit 2).
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    const char *inputs[256];
    int ninputs;
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

/* `quy explain` text block for one record. */
static void explain_block(const q_program *p, const q_record *rec, const vm_result *res, const vm_trace *tr)
{
    const char *kind = prog_str(p, p->kinds[rec->kind].name);
    if (res->error != VM_OK) {
        printf("%s (%s): LỖI — %s\n\n", rec->id, kind, vm_error_message[res->error]);
        return;
    }
    printf("%s (%s) → %s (%s)", rec->id, kind, q_outcome_label[res->outcome], q_outcome_code[res->outcome]);
    printf("  — bộ quy tắc %s %s\n", prog_str(p, p->name), prog_str(p, p->version));
    explain_text(p, rec, res, tr, stdout, 2);
    putchar('\n');
}

static int eval_file(const q_program *p, const eval_opts *o, const char *path, out_writer *w, eval_stats *st,
                     vm_event *evbuf)
{
    FILE *in = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!in) {
        fprintf(stderr, "quy: %s: %s\n", path, strerror(errno));
        return EXIT_IO;
    }
    rec_reader *r = rec_reader_open(p, in, strcmp(path, "-") == 0 ? "-" : path, REC_AUTO);
    if (!r) {
        if (in != stdin) fclose(in);
        fprintf(stderr, "quy: %s: out of memory\n", path);
        return EXIT_IO;
    }
    rec_reader_on_warning(r, on_warning, st);
    q_record *rec;
    rec_error err;
    int rc;
    vm_trace tr = {.ev = evbuf, .cap = QUY_TRACE_CAP};
    while ((rc = rec_reader_next(r, &rec, &err)) != 0) {
        if (rc < 0) {
            if (o->only_id && strcmp(err.id, o->only_id) != 0) continue;
            st->rejected++;
            report_rejected(&err);
            if (w) out_rejected(w, &err);
            continue;
        }
        if (o->only_id && strcmp(rec->id, o->only_id) != 0) continue;
        vm_result res;
        tr.n = 0;
        tr.truncated = false;
        vm_rate(p, rec, &res, (o->explain || o->explain_cmd) ? &tr : NULL);
        if (res.error != VM_OK) {
            st->rejected++;
            rec_error e;
            memset(&e, 0, sizeof e);
            snprintf(e.file, sizeof e.file, "%s", path);
            e.line = rec->line;
            snprintf(e.id, sizeof e.id, "%s", rec->id);
            snprintf(e.code, sizeof e.code, "eval");
            if (res.error == VM_ABSENT)
                snprintf(e.field, sizeof e.field, "%s",
                         prog_str(p, p->fields[p->kinds[rec->kind].first_field + res.error_slot].name));
            const char *file = NULL;
            uint32_t line = 0, col = 0, llen;
            const char *ls;
            if (res.error_pc != QUY_NONE && res.error_pc < p->ncode)
                prog_locate(p, p->code_pos[res.error_pc], &file, &line, &col, &ls, &llen);
            snprintf(e.message, sizeof e.message, "%s%s%s%s%s%s%u", vm_error_message[res.error],
                     res.error_text ? ": " : "", res.error_text ? res.error_text : "", file ? " — tại " : "",
                     file ? file : "", file ? ":" : "", line);
            report_rejected(&e);
            if (w) out_rejected(w, &e);
            continue;
        }
        st->rated++;
        if (o->explain_cmd && !o->json) {
            explain_block(p, rec, &res, &tr);
            continue;
        }
        json_t *tj = NULL;
        char *tt = NULL;
        if (o->explain || o->explain_cmd) {
            tj = explain_json(p, rec, &res, &tr);
            tt = explain_text_str(p, rec, &res, &tr, 4);
        }
        out_result(w, rec, &res, res.outcome, tj, tt);
        if (tj) json_decref(tj);
        free(tt);
    }
    rec_reader_free(r);
    if (in != stdin) fclose(in);
    return EXIT_OK;
}

int cmd_eval(int argc, char **argv, bool explain_cmd)
{
    eval_opts o;
    memset(&o, 0, sizeof o);
    o.explain_cmd = explain_cmd;
    cli_paths ps;
    cli_paths_init(&ps);
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (cli_opt(argc, argv, &i, "--ruleset", &v))
            o.ruleset = v;
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
        else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "quy %s: unknown option '%s' (try 'quy help')\n", argv[0], argv[i]);
            return EXIT_RULESET;
        } else if (o.ninputs < 256)
            o.inputs[o.ninputs++] = argv[i];
    }
    if (!o.ruleset) {
        fprintf(stderr, "quy %s: --ruleset NAME|FILE is required (e.g. --ruleset central-124)\n", argv[0]);
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
            return EXIT_RULESET;
        }
    }
    q_program *p = cli_load(&ps, o.ruleset);
    if (!p) return EXIT_RULESET;
    out_writer *w = (explain_cmd && !o.json) ? NULL : out_open(stdout, fmt, p);
    vm_event *evbuf = malloc(sizeof(vm_event) * QUY_TRACE_CAP);
    eval_stats st = {0};
    int rc = EXIT_OK;
    for (int i = 0; i < o.ninputs; i++) {
        int r = eval_file(p, &o, o.inputs[i], w, &st, evbuf);
        if (r != EXIT_OK) rc = r;
    }
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
