/*
 * cmd_diff.c — `quy diff OLD NEW RECORDS...`: what changes between two
 * rulesets over a corpus, record by record and clause by clause.
 *
 * The engine is the library's (quy_diff_* in quy.h: two passes over the
 * corpus, each program rating it as one batch, the causes found by tracing
 * the moved records; docs/testing-guide.md, section 6). This file parses
 * the options, loads the rulesets, gives the diff its inputs and
 * approvals, and writes the report (diff_report.c) and the approval file.
 *
 * A ruleset is named by a positional argument (a name, a .quy or a .qbc
 * path) or by --old SPEC / --new SPEC; a side_spec holds what names one
 * side, so that other ways of naming it (a locality and a date) only add
 * a field and a branch in load_side().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* =====================================================================
 * Options
 * ===================================================================== */

typedef struct side_spec {
    const char *spec;     /* ruleset name, .quy or .qbc path */
    const char *locality; /* or: the ruleset in force at this locality (registry) */
    const char *at;       /* ... on this date (YYYY-MM-DD; NULL = today) */
    char *chosen;         /* the name the registry chose (malloc'd) */
} side_spec;

typedef struct diff_opts {
    side_spec side[2];
    const char **inputs; /* argc entries */
    int ninputs;
    rp_format fmt;
    const char *out;
    const char *expect, *write_expect;
    const char *registry; /* --registry FILE (with a locality) */
    bool refines;
    const char *jobs; /* --jobs N: threads decoding and rating JSON Lines (default: one per core) */
} diff_opts;

static quy_ruleset *load_side(const cli_paths *ps, side_spec *s, const char *registry)
{
    if (s->locality && !(s->spec = s->chosen = cli_locality_ruleset(ps, registry, s->locality, s->at, "diff")))
        return NULL;
    return cli_ruleset(ps, s->spec);
}

/* The report, to -o FILE or standard output. */
static int write_report(const diff_opts *o, quy_diff *d)
{
    int rc = EXIT_OK;
    FILE *out = o->out && strcmp(o->out, "-") ? fopen(o->out, "w") : stdout;
    if (!out) {
        fprintf(stderr, "quy diff: %s: %s\n", o->out, strerror(errno));
        return EXIT_IO;
    }
    if (rp_write(o->fmt, d, out) != 0 || ferror(out)) rc = EXIT_IO;
    if (out != stdout) {
        if (fclose(out) != 0) rc = EXIT_IO;
    } else if (fflush(out) != 0) {
        rc = EXIT_IO;
    }
    if (rc == EXIT_IO) fprintf(stderr, "quy diff: cannot write the report: %s\n", strerror(errno));
    return rc;
}

static int usage_error(const char *msg)
{
    fprintf(stderr, "quy diff: %s\n", msg);
    fprintf(stderr,
            "usage: quy diff OLD NEW RECORDS... [--format text|json|csv|html] [-o FILE]\n"
            "                [--expect FILE] [--write-expect FILE] [--refines] [--rulesets DIR] [--jobs N]\n"
            "       OLD / NEW: a ruleset name, .quy or .qbc; or --old SPEC / --new SPEC; or\n"
            "       --old-locality L [--old-at YYYY-MM-DD] / --new-locality L [--new-at YYYY-MM-DD] [--registry FILE]\n");
    return EXIT_RULESET;
}

/* The options into *o (and --rulesets into ps): EXIT_OK, or a usage error (reported). */
static int parse_opts(int argc, char **argv, const char **pos, diff_opts *o, cli_paths *ps)
{
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (cli_opt(argc, argv, &i, "--rulesets", &v))
            cli_paths_add(ps, v);
        else if (cli_opt(argc, argv, &i, "--old", &v))
            o->side[0].spec = v;
        else if (cli_opt(argc, argv, &i, "--new", &v))
            o->side[1].spec = v;
        else if (cli_opt(argc, argv, &i, "--old-locality", &v))
            o->side[0].locality = v;
        else if (cli_opt(argc, argv, &i, "--new-locality", &v))
            o->side[1].locality = v;
        else if (cli_opt(argc, argv, &i, "--old-at", &v))
            o->side[0].at = v;
        else if (cli_opt(argc, argv, &i, "--new-at", &v))
            o->side[1].at = v;
        else if (cli_opt(argc, argv, &i, "--registry", &v))
            o->registry = v;
        else if (cli_opt(argc, argv, &i, "--format", &v)) {
            if (!strcmp(v, "text")) o->fmt = RP_TEXT;
            else if (!strcmp(v, "json")) o->fmt = RP_JSON;
            else if (!strcmp(v, "csv")) o->fmt = RP_CSV;
            else if (!strcmp(v, "html")) o->fmt = RP_HTML;
            else return usage_error("unknown format (text, json, csv or html)");
        } else if (cli_opt(argc, argv, &i, "-o", &v) || cli_opt(argc, argv, &i, "--output", &v))
            o->out = v;
        else if (cli_opt(argc, argv, &i, "--expect", &v))
            o->expect = v;
        else if (cli_opt(argc, argv, &i, "--write-expect", &v))
            o->write_expect = v;
        else if (cli_opt(argc, argv, &i, "--refines", NULL))
            o->refines = true;
        else if (cli_opt(argc, argv, &i, "--jobs", &v))
            o->jobs = v;
        else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "quy diff: unknown option '%s'\n", argv[i]);
            return usage_error("see 'quy help'");
        } else
            pos[npos++] = argv[i];
    }
    int next = 0;
    for (int s = 0; s < 2; s++) {
        if (o->side[s].spec && o->side[s].locality) return usage_error("give a ruleset or a locality for each side, not both");
        if (o->side[s].at && !o->side[s].locality) return usage_error("--old-at / --new-at go with --old-locality / --new-locality");
        if (!o->side[s].spec && !o->side[s].locality && next < npos) o->side[s].spec = pos[next++];
    }
    if ((!o->side[0].spec && !o->side[0].locality) || (!o->side[1].spec && !o->side[1].locality))
        return usage_error("two rulesets are needed (OLD NEW, or --old-locality / --new-locality)");
    for (; next < npos; next++) o->inputs[o->ninputs++] = pos[next];
    if (o->ninputs == 0) o->inputs[o->ninputs++] = "-";
    for (int i = 0, nstdin = 0; i < o->ninputs; i++)
        if (!strcmp(o->inputs[i], "-") && ++nstdin > 1) return usage_error("standard input ('-') can be given once");
    return EXIT_OK;
}

/* One line on stderr, whatever the report format (what CI shows), when the
 * moves were checked: EXIT_UNAPPROVED if some move is not approved. */
static int verdict(quy_diff *d, const diff_opts *o)
{
    uint64_t unapproved = 0, approved = 0;
    quy_diff_count(d, QUY_DIFF_UNAPPROVED, &unapproved);
    quy_diff_count(d, QUY_DIFF_APPROVED, &approved);
    if (unapproved) {
        fprintf(stderr, "quy diff: %llu move(s) not approved%s%s%s\n", (unsigned long long)unapproved,
                o->refines ? " (the new ruleset rates higher than the old one)" : "", o->expect ? " by " : "",
                o->expect ? o->expect : "");
        for (size_t i = 0; i < quy_diff_approval_count(d, "unapproved"); i++) {
            uint64_t count = 0, ok = 0;
            quy_diff_approval_num(d, "unapproved", i, "count", &count);
            quy_diff_approval_num(d, "unapproved", i, "approved", &ok);
            fprintf(stderr, "  %s -> %s  %s  %lld (approved %lld)\n", quy_diff_approval(d, "unapproved", i, "old"),
                    quy_diff_approval(d, "unapproved", i, "new"), quy_diff_approval(d, "unapproved", i, "cause"),
                    (long long)count, (long long)ok);
        }
        return EXIT_UNAPPROVED;
    }
    fprintf(stderr, "quy diff: every move approved (%llu)\n", (unsigned long long)approved);
    return EXIT_OK;
}

/* The diff's options, approvals and inputs: EXIT_OK, or why not (reported). */
static int prepare(quy_diff *d, const diff_opts *o)
{
    /* --write-expect alone records the moves: no check */
    if (quy_diff_set(d, "old_name", o->side[0].spec) != QUY_OK || quy_diff_set(d, "new_name", o->side[1].spec) != QUY_OK ||
        quy_diff_set(d, "refines", o->refines ? "1" : "0") != QUY_OK ||
        (o->jobs && quy_diff_set(d, "jobs", o->jobs) != QUY_OK) ||
        (o->write_expect && !o->expect && quy_diff_set(d, "check", "0") != QUY_OK)) {
        fprintf(stderr, "quy diff: %s\n", quy_diff_errmsg(d));
        return EXIT_IO;
    }
    if (o->expect && quy_diff_set(d, "expect", o->expect) != QUY_OK)
        return EXIT_RULESET; /* each error was reported naming FILE:LINE */
    /* every input is read twice: standard input is copied to a file first */
    for (int i = 0; i < o->ninputs; i++) {
        quy_status st = strcmp(o->inputs[i], "-") ? quy_diff_add_file(d, o->inputs[i]) : quy_diff_add_stream(d, "-", stdin);
        if (st != QUY_OK) {
            fprintf(stderr, "quy diff: %s\n", quy_diff_errmsg(d));
            return EXIT_IO;
        }
    }
    return EXIT_OK;
}

static int diff_main(int argc, char **argv, const char **pos, const char **inputs)
{
    diff_opts o;
    memset(&o, 0, sizeof o);
    o.fmt = RP_TEXT;
    o.inputs = inputs;
    cli_paths ps;
    cli_paths_init(&ps);
    int urc = parse_opts(argc, argv, pos, &o, &ps);
    if (urc != EXIT_OK) return urc;
    quy_ruleset *rs[2] = {NULL, NULL};
    quy_diff *d = NULL;
    int rc = EXIT_OK;
    for (int s = 0; s < 2 && rc == EXIT_OK; s++)
        if (!(rs[s] = load_side(&ps, &o.side[s], o.registry))) rc = EXIT_RULESET;
    if (rc == EXIT_OK && quy_diff_new(rs[0], rs[1], &d) != QUY_OK) {
        fprintf(stderr, "quy diff: %s\n", quy_errmsg());
        rc = EXIT_IO;
    }
    if (rc == EXIT_OK) rc = prepare(d, &o);
    bool ran = rc == EXIT_OK;
    if (ran && quy_diff_run(d) != QUY_OK) rc = EXIT_IO; /* reported by the engine */
    uint64_t both = 0;
    if (ran) quy_diff_count(d, QUY_DIFF_REJECTED_BY_BOTH, &both);
    if (both) {
        fprintf(stderr, "quy diff: %llu record(s) rejected by both rulesets (not moves), e.g.:\n", (unsigned long long)both);
        for (size_t i = 0; i < quy_diff_rejected_sample_count(d); i++)
            fprintf(stderr, "  %s\n", quy_diff_rejected_sample(d, i));
    }
    if (rc == EXIT_OK) rc = write_report(&o, d);
    if (rc == EXIT_OK && o.write_expect && quy_diff_write_expect(d, o.write_expect) != QUY_OK)
        rc = EXIT_IO; /* reported naming the file */
    if (rc == EXIT_OK && quy_diff_is(d, "checked") == 1) rc = verdict(d, &o);
    quy_diff_free(d);
    quy_ruleset_free(rs[0]);
    quy_ruleset_free(rs[1]);
    free(o.side[0].chosen);
    free(o.side[1].chosen);
    return rc;
}

int cmd_diff(int argc, char **argv)
{
    /* positional arguments and inputs: as many as the command line has */
    const char **pos = calloc((size_t)argc + 1, sizeof *pos), **inputs = calloc((size_t)argc + 2, sizeof *inputs);
    int rc = EXIT_IO;
    if (pos && inputs) rc = diff_main(argc, argv, pos, inputs);
    else fprintf(stderr, "quy diff: out of memory\n");
    free(pos);
    free(inputs);
    return rc;
}
