/*
 * cmd_diff.c — `quy diff OLD NEW RECORDS...`: what changes between two
 * rulesets over a corpus, record by record and clause by clause.
 *
 * The engine is the library's (diff/diff.h, diff_run); this file parses
 * the options, loads the rulesets, opens the inputs and approvals, and
 * writes the report (diff_report.c) and the approval file.
 *
 * Pass 1: every record is parsed once and decoded for both programs, and
 * each program rates the whole corpus as one batch (dr_src: the batch
 * engine, so roll-ups, caps and quotas apply as in `quy eval`). The
 * tallies that need no cause — transition matrices of eligible and final
 * tiers, kinds, peer groups, directions — are made, and the moved records
 * are marked in a bitset.
 * Pass 2: the moved records are read again and traced by both programs to
 * find the cause (dc_explain); each is written as one JSON line to a
 * temporary file and counted by cause and in the approved-moves set. When
 * no moved record had a roll-up, pass 2 parses and decodes only the moved
 * lines; otherwise both batches are rated again, keeping the moved
 * records whole (with their roll-ups) for the traces.
 * Memory: the batches' needs (a compact summary per record), 6 bytes per
 * record for its kind and peer group, a bit per record, and the causes and
 * groups; the moved records live in the temporary file. The report is
 * written at the end (diff_report.c).
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
#include "diff.h"

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
    unsigned jobs; /* --jobs N: threads decoding JSON Lines (0: one per core) */
} diff_opts;

static q_program *load_side(const cli_paths *ps, side_spec *s, const char *registry)
{
    if (s->locality && !(s->spec = s->chosen = cli_locality_ruleset(ps, registry, s->locality, s->at, "diff")))
        return NULL;
    return cli_load(ps, s->spec);
}

/* The report, to -o FILE or standard output. */
static int write_report(const diff_opts *o, const diff_result *dr)
{
    int rc = EXIT_OK;
    FILE *out = o->out && strcmp(o->out, "-") ? fopen(o->out, "w") : stdout;
    if (!out) {
        fprintf(stderr, "quy diff: %s: %s\n", o->out, strerror(errno));
        return EXIT_IO;
    }
    rp_input ri = {dr->summary, dr->moved, dr->nmoved};
    if (rp_write(o->fmt, &ri, out) != 0 || ferror(out)) rc = EXIT_IO;
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

static int diff_main(int argc, char **argv, const char **pos, const char **inputs)
{
    diff_opts o;
    memset(&o, 0, sizeof o);
    o.fmt = RP_TEXT;
    o.inputs = inputs;
    cli_paths ps;
    cli_paths_init(&ps);
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (cli_opt(argc, argv, &i, "--rulesets", &v))
            cli_paths_add(&ps, v);
        else if (cli_opt(argc, argv, &i, "--old", &v))
            o.side[0].spec = v;
        else if (cli_opt(argc, argv, &i, "--new", &v))
            o.side[1].spec = v;
        else if (cli_opt(argc, argv, &i, "--old-locality", &v))
            o.side[0].locality = v;
        else if (cli_opt(argc, argv, &i, "--new-locality", &v))
            o.side[1].locality = v;
        else if (cli_opt(argc, argv, &i, "--old-at", &v))
            o.side[0].at = v;
        else if (cli_opt(argc, argv, &i, "--new-at", &v))
            o.side[1].at = v;
        else if (cli_opt(argc, argv, &i, "--registry", &v))
            o.registry = v;
        else if (cli_opt(argc, argv, &i, "--format", &v)) {
            if (!strcmp(v, "text")) o.fmt = RP_TEXT;
            else if (!strcmp(v, "json")) o.fmt = RP_JSON;
            else if (!strcmp(v, "csv")) o.fmt = RP_CSV;
            else if (!strcmp(v, "html")) o.fmt = RP_HTML;
            else return usage_error("unknown format (text, json, csv or html)");
        } else if (cli_opt(argc, argv, &i, "-o", &v) || cli_opt(argc, argv, &i, "--output", &v))
            o.out = v;
        else if (cli_opt(argc, argv, &i, "--expect", &v))
            o.expect = v;
        else if (cli_opt(argc, argv, &i, "--write-expect", &v))
            o.write_expect = v;
        else if (cli_opt(argc, argv, &i, "--refines", NULL))
            o.refines = true;
        else if (cli_opt(argc, argv, &i, "--jobs", &v)) { /* diff/diff_rate.c, dr_in_set_jobs */
            char *end;
            unsigned long n = strtoul(v, &end, 10);
            if (*v < '0' || *v > '9' || *end || n < 1 || n > 256) return usage_error("--jobs needs a whole number from 1 to 256, e.g. --jobs 2");
            o.jobs = (unsigned)n;
        }
        else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "quy diff: unknown option '%s'\n", argv[i]);
            return usage_error("see 'quy help'");
        } else
            pos[npos++] = argv[i];
    }
    int next = 0;
    for (int s = 0; s < 2; s++) {
        if (o.side[s].spec && o.side[s].locality) return usage_error("give a ruleset or a locality for each side, not both");
        if (o.side[s].at && !o.side[s].locality) return usage_error("--old-at / --new-at go with --old-locality / --new-locality");
        if (!o.side[s].spec && !o.side[s].locality && next < npos) o.side[s].spec = pos[next++];
    }
    if ((!o.side[0].spec && !o.side[0].locality) || (!o.side[1].spec && !o.side[1].locality))
        return usage_error("two rulesets are needed (OLD NEW, or --old-locality / --new-locality)");
    for (; next < npos; next++) o.inputs[o.ninputs++] = pos[next];
    if (o.ninputs == 0) o.inputs[o.ninputs++] = "-";
    for (int i = 0, nstdin = 0; i < o.ninputs; i++)
        if (!strcmp(o.inputs[i], "-") && ++nstdin > 1) return usage_error("standard input ('-') can be given once");


    q_program *p[2] = {NULL, NULL};
    for (int s = 0; s < 2; s++) {
        p[s] = load_side(&ps, &o.side[s], o.registry);
        if (!p[s]) {
            if (s) prog_free(p[0]);
            free(o.side[0].chosen);
            free(o.side[1].chosen);
            return EXIT_RULESET;
        }
    }
    dx_set *approved = NULL;
    if (o.expect && !(approved = dx_read(o.expect))) {
        prog_free(p[0]);
        prog_free(p[1]);
        free(o.side[0].chosen);
        free(o.side[1].chosen);
        return EXIT_RULESET;
    }

    int rc = EXIT_OK;
    FILE **files = calloc((size_t)o.ninputs + 1, sizeof *files);
    if (!files) {
        fprintf(stderr, "quy diff: out of memory\n");
        rc = EXIT_IO;
    }
    /* every input is read twice: standard input is copied to a file first */
    for (int i = 0; i < o.ninputs && rc == EXIT_OK; i++) {
        files[i] = strcmp(o.inputs[i], "-") ? fopen(o.inputs[i], "rb") : dr_spool_stdin();
        if (!files[i]) {
            if (strcmp(o.inputs[i], "-")) fprintf(stderr, "quy diff: %s: %s\n", o.inputs[i], strerror(errno));
            rc = EXIT_IO;
        }
    }
    const q_program *const cp[2] = {p[0], p[1]};
    /* --write-expect alone records the moves: no check */
    diff_spec ds = {{o.side[0].spec, o.side[1].spec}, o.inputs, files, o.ninputs, o.refines,
                    approved || (o.refines && !o.write_expect), approved, o.expect, o.jobs};
    diff_result dr;
    memset(&dr, 0, sizeof dr);
    if (rc == EXIT_OK && diff_run(cp, &ds, &dr) != 0) rc = EXIT_IO;
    for (int i = 0; files && i < o.ninputs; i++)
        if (files[i]) fclose(files[i]);
    free(files);
    if (dr.rejected_both) {
        fprintf(stderr, "quy diff: %llu record(s) rejected by both rulesets (not moves), e.g.:\n",
                (unsigned long long)dr.rejected_both);
        for (uint64_t i = 0; i < dr.rejected_both && i < 5; i++) fprintf(stderr, "  %s\n", dr.rejected_sample[i]);
    }
    if (rc == EXIT_OK) rc = write_report(&o, &dr);
    if (rc == EXIT_OK && o.write_expect) {
        char on[300], nn[300];
        snprintf(on, sizeof on, "%s %s", prog_str(p[0], p[0]->name), prog_str(p[0], p[0]->version));
        snprintf(nn, sizeof nn, "%s %s", prog_str(p[1], p[1]->name), prog_str(p[1], p[1]->version));
        if (dx_write(dr.seen, o.write_expect, on, nn, o.refines) != 0) rc = EXIT_IO;
    }
    const dx_verdict v = dr.verdict;
    if (rc == EXIT_OK && ds.check) {
        /* One line on stderr, whatever the report format: what CI shows. */
        if (v.unapproved) {
            fprintf(stderr, "quy diff: %llu move(s) not approved%s%s%s\n", (unsigned long long)v.unapproved,
                    o.refines ? " (the new ruleset rates higher than the old one)" : "", o.expect ? " by " : "",
                    o.expect ? o.expect : "");
            for (size_t i = 0; i < json_array_size(v.unapproved_list); i++) {
                json_t *u = json_array_get(v.unapproved_list, i);
                fprintf(stderr, "  %s -> %s  %s  %lld (approved %lld)\n", json_string_value(json_object_get(u, "old")),
                        json_string_value(json_object_get(u, "new")), json_string_value(json_object_get(u, "cause")),
                        (long long)json_integer_value(json_object_get(u, "count")),
                        (long long)json_integer_value(json_object_get(u, "approved")));
            }
            rc = EXIT_UNAPPROVED;
        } else {
            fprintf(stderr, "quy diff: every move approved (%llu)\n", (unsigned long long)v.approved);
        }
    }
    diff_result_free(&dr);
    dx_free(approved);
    prog_free(p[0]);
    prog_free(p[1]);
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
