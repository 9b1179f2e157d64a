/*
 * cmd_gen.c — `quy gen --ruleset X --count N --seed S [-o FILE]`: the
 * options, then the records of the library's boundary generator (quy_gen_*
 * in quy.h) written one line at a time.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void usage(void)
{
    fprintf(stderr, "usage: quy gen --ruleset NAME|FILE [--count N] [--seed S] [--kind K]... [--prefix P] [-o FILE]\n"
                    "       quy gen --ruleset NAME|FILE --targets   (what the generator aims at)\n");
}

/* Write `count` records to out_path (or stdout). */
static int write_records(quy_gen *g, unsigned long long count, const char *out_path)
{
    FILE *out = stdout;
    if (out_path && strcmp(out_path, "-") && !(out = fopen(out_path, "w"))) {
        fprintf(stderr, "quy gen: %s: %s\n", out_path, strerror(errno));
        return EXIT_IO;
    }
    int rc = EXIT_OK;
    for (unsigned long long i = 0; rc == EXIT_OK && i < count; i++) {
        const char *line;
        size_t n;
        quy_status st = quy_gen_next(g, &line, &n);
        if (st != QUY_OK) {
            fprintf(stderr, "quy gen: %s\n", quy_gen_errmsg(g));
            rc = st == QUY_ERROR ? EXIT_RULESET : EXIT_IO;
        } else if (fwrite(line, 1, n, out) != n) {
            fprintf(stderr, "quy gen: cannot write: %s\n", strerror(errno));
            rc = EXIT_IO;
        }
    }
    if (out != stdout) {
        if (fclose(out) != 0 && rc == EXIT_OK) {
            fprintf(stderr, "quy gen: %s: %s\n", out_path, strerror(errno));
            rc = EXIT_IO;
        }
    } else if (fflush(stdout) != 0 && rc == EXIT_OK) {
        rc = EXIT_IO;
    }
    return rc;
}

/* What the command line asks for. */
typedef struct gen_opts {
    const char *ruleset, *out_path, *prefix;
    const char **kinds; /* --kind, argc entries */
    int nkinds;
    unsigned long long count, seed;
    bool show_targets;
} gen_opts;

/* A whole number option: false (reported) if it is not one. */
static bool whole(const char *opt, const char *v, int base, unsigned long long *out)
{
    char *end;
    errno = 0;
    *out = strtoull(v, &end, base);
    if (errno || *end || !*v || v[0] == '-') {
        fprintf(stderr, "quy gen: %s needs a whole number, not '%s'\n", opt, v);
        return false;
    }
    return true;
}

/* The options into *o (--rulesets into ps): EXIT_OK or EXIT_RULESET (reported). */
static int parse_opts(int argc, char **argv, gen_opts *o, cli_paths *ps)
{
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (cli_opt(argc, argv, &i, "--ruleset", &v))
            o->ruleset = v;
        else if (cli_opt(argc, argv, &i, "--rulesets", &v))
            cli_paths_add(ps, v);
        else if (cli_opt(argc, argv, &i, "--count", &v) || cli_opt(argc, argv, &i, "-n", &v)) {
            if (!whole("--count", v, 10, &o->count)) return EXIT_RULESET;
        } else if (cli_opt(argc, argv, &i, "--seed", &v)) {
            if (!whole("--seed", v, 0, &o->seed)) return EXIT_RULESET;
        } else if (cli_opt(argc, argv, &i, "--kind", &v))
            o->kinds[o->nkinds++] = v;
        else if (cli_opt(argc, argv, &i, "-o", &v) || cli_opt(argc, argv, &i, "--output", &v))
            o->out_path = v;
        else if (cli_opt(argc, argv, &i, "--prefix", &v))
            o->prefix = v;
        else if (cli_opt(argc, argv, &i, "--targets", NULL))
            o->show_targets = true;
        else {
            fprintf(stderr, "quy gen: unknown argument '%s'\n", argv[i]);
            usage();
            return EXIT_RULESET;
        }
    }
    if (!o->ruleset) {
        fprintf(stderr, "quy gen: --ruleset NAME|FILE is required\n");
        usage();
        return EXIT_RULESET;
    }
    return EXIT_OK;
}

/* The generator with the options set, its kinds scanned: EXIT_OK, or why
 * not (reported; *out NULL or to be freed). */
static int make_gen(const quy_ruleset *rs, const gen_opts *o, quy_gen **out)
{
    quy_gen *g = NULL;
    if (quy_gen_new(rs, &g) != QUY_OK) {
        fprintf(stderr, "quy gen: %s\n", quy_errmsg());
        return EXIT_IO;
    }
    *out = g;
    char num[32];
    snprintf(num, sizeof num, "%llu", o->seed);
    quy_gen_set(g, "seed", num); /* a whole number, checked above */
    int rc = EXIT_OK;
    if (quy_gen_set(g, "prefix", o->prefix) != QUY_OK) {
        fprintf(stderr, "quy gen: --prefix: %s\n", quy_gen_errmsg(g));
        rc = EXIT_RULESET;
    }
    for (int w = 0; w < o->nkinds; w++)
        if (quy_gen_set(g, "kind", o->kinds[w]) != QUY_OK) {
            fprintf(stderr, "quy gen: %s\n", quy_gen_errmsg(g));
            rc = EXIT_RULESET;
        }
    uint64_t kinds;
    quy_status st;
    if (rc == EXIT_OK && (st = quy_gen_count(g, QUY_GEN_KINDS, &kinds)) != QUY_OK) {
        /* scanning the kinds fails (as gen_next would) before the output is opened */
        fprintf(stderr, "quy gen: %s\n", quy_gen_errmsg(g));
        rc = st == QUY_ENOMEM ? EXIT_IO : EXIT_RULESET;
    }
    return rc;
}

/* "quy gen: N records of K kinds, seed S; T targets, V variants" on stderr. */
static void summary(quy_gen *g, const gen_opts *o)
{
    uint64_t kinds = 0, targets = 0, variants = 0, dropped = 0;
    quy_gen_count(g, QUY_GEN_KINDS, &kinds);
    quy_gen_count(g, QUY_GEN_TARGETS, &targets);
    quy_gen_count(g, QUY_GEN_VARIANTS, &variants);
    quy_gen_count(g, QUY_GEN_DROPPED, &dropped);
    fprintf(stderr, "quy gen: %llu records of %llu kinds, seed %llu; %llu targets, %llu variants%s", o->count,
            (unsigned long long)kinds, o->seed, (unsigned long long)targets, (unsigned long long)variants,
            dropped ? "" : "\n");
    if (dropped)
        fprintf(stderr, "; %llu record(s) lost their boundary target to make them valid\n", (unsigned long long)dropped);
}

int cmd_gen(int argc, char **argv)
{
    gen_opts o = {.prefix = "GEN", .count = 100, .seed = 1, .kinds = calloc((size_t)argc + 1, sizeof(char *))};
    if (!o.kinds) {
        fprintf(stderr, "quy gen: out of memory\n");
        return EXIT_IO;
    }
    cli_paths ps;
    cli_paths_init(&ps);
    int rc = parse_opts(argc, argv, &o, &ps);
    quy_ruleset *rs = rc == EXIT_OK ? cli_ruleset(&ps, o.ruleset) : NULL;
    if (rc == EXIT_OK && !rs) rc = EXIT_RULESET;
    quy_gen *g = NULL;
    if (rc == EXIT_OK) rc = make_gen(rs, &o, &g);
    char *targets = NULL;
    if (rc == EXIT_OK && o.show_targets) {
        quy_status st = quy_gen_targets(g, &targets);
        if (st != QUY_OK) {
            fprintf(stderr, "quy gen: %s\n", quy_gen_errmsg(g));
            rc = st == QUY_ERROR ? EXIT_RULESET : EXIT_IO;
        } else {
            fputs(targets, stdout);
        }
    } else if (rc == EXIT_OK) {
        rc = write_records(g, o.count, o.out_path);
        if (rc == EXIT_OK) summary(g, &o);
    }
    quy_free(targets);
    quy_gen_free(g);
    quy_ruleset_free(rs);
    free(o.kinds);
    return rc;
}
