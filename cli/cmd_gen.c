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

int cmd_gen(int argc, char **argv)
{
    const char *ruleset = NULL, *out_path = NULL, *prefix = "GEN";
    const char **kinds_wanted = calloc((size_t)argc + 1, sizeof *kinds_wanted);
    int nkw = 0;
    unsigned long long count = 100, seed = 1;
    bool show_targets = false;
    cli_paths ps;
    cli_paths_init(&ps);
    if (!kinds_wanted) {
        fprintf(stderr, "quy gen: out of memory\n");
        return EXIT_IO;
    }
    int rc = EXIT_OK;
    for (int i = 1; i < argc && rc == EXIT_OK; i++) {
        const char *v;
        char *end;
        if (cli_opt(argc, argv, &i, "--ruleset", &v))
            ruleset = v;
        else if (cli_opt(argc, argv, &i, "--rulesets", &v))
            cli_paths_add(&ps, v);
        else if (cli_opt(argc, argv, &i, "--count", &v) || cli_opt(argc, argv, &i, "-n", &v)) {
            errno = 0;
            count = strtoull(v, &end, 10);
            if (errno || *end || !*v || v[0] == '-') {
                fprintf(stderr, "quy gen: --count needs a whole number, not '%s'\n", v);
                rc = EXIT_RULESET;
            }
        } else if (cli_opt(argc, argv, &i, "--seed", &v)) {
            errno = 0;
            seed = strtoull(v, &end, 0);
            if (errno || *end || !*v || v[0] == '-') {
                fprintf(stderr, "quy gen: --seed needs a whole number, not '%s'\n", v);
                rc = EXIT_RULESET;
            }
        } else if (cli_opt(argc, argv, &i, "--kind", &v)) {
            kinds_wanted[nkw++] = v;
        } else if (cli_opt(argc, argv, &i, "-o", &v) || cli_opt(argc, argv, &i, "--output", &v))
            out_path = v;
        else if (cli_opt(argc, argv, &i, "--prefix", &v))
            prefix = v;
        else if (cli_opt(argc, argv, &i, "--targets", NULL))
            show_targets = true;
        else {
            fprintf(stderr, "quy gen: unknown argument '%s'\n", argv[i]);
            usage();
            rc = EXIT_RULESET;
        }
    }
    if (rc == EXIT_OK && !ruleset) {
        fprintf(stderr, "quy gen: --ruleset NAME|FILE is required\n");
        usage();
        rc = EXIT_RULESET;
    }
    quy_ruleset *rs = rc == EXIT_OK ? cli_ruleset(&ps, ruleset) : NULL;
    if (rc == EXIT_OK && !rs) rc = EXIT_RULESET;
    quy_gen *g = NULL;
    if (rs && quy_gen_new(rs, &g) != QUY_OK) {
        fprintf(stderr, "quy gen: %s\n", quy_errmsg());
        rc = EXIT_IO;
    }
    if (g) {
        char num[32];
        snprintf(num, sizeof num, "%llu", seed);
        quy_gen_set(g, "seed", num); /* a whole number, checked above */
        if (quy_gen_set(g, "prefix", prefix) != QUY_OK) {
            fprintf(stderr, "quy gen: --prefix: %s\n", quy_gen_errmsg(g));
            rc = EXIT_RULESET;
        }
        for (int w = 0; w < nkw; w++)
            if (quy_gen_set(g, "kind", kinds_wanted[w]) != QUY_OK) {
                fprintf(stderr, "quy gen: %s\n", quy_gen_errmsg(g));
                rc = EXIT_RULESET;
            }
    }
    uint64_t kinds = 0;
    if (rc == EXIT_OK) { /* scans the kinds: fails (as gen_next would) before the output is opened */
        quy_status st = quy_gen_count(g, QUY_GEN_KINDS, &kinds);
        if (st != QUY_OK) {
            fprintf(stderr, "quy gen: %s\n", quy_gen_errmsg(g));
            rc = st == QUY_ENOMEM ? EXIT_IO : EXIT_RULESET;
        }
    }
    char *targets = NULL;
    if (rc == EXIT_OK && show_targets) {
        quy_status st = quy_gen_targets(g, &targets);
        if (st != QUY_OK) {
            fprintf(stderr, "quy gen: %s\n", quy_gen_errmsg(g));
            rc = st == QUY_ERROR ? EXIT_RULESET : EXIT_IO;
        } else {
            fputs(targets, stdout);
        }
    } else if (rc == EXIT_OK) {
        rc = write_records(g, count, out_path);
        uint64_t ntargets = 0, variants = 0, dropped = 0;
        if (rc == EXIT_OK) {
            quy_gen_count(g, QUY_GEN_TARGETS, &ntargets);
            quy_gen_count(g, QUY_GEN_VARIANTS, &variants);
            quy_gen_count(g, QUY_GEN_DROPPED, &dropped);
            fprintf(stderr, "quy gen: %llu records of %llu kinds, seed %llu; %llu targets, %llu variants%s", count,
                    (unsigned long long)kinds, seed, (unsigned long long)ntargets, (unsigned long long)variants,
                    dropped ? "" : "\n");
            if (dropped)
                fprintf(stderr, "; %llu record(s) lost their boundary target to make them valid\n",
                        (unsigned long long)dropped);
        }
    }
    quy_free(targets);
    quy_gen_free(g);
    quy_ruleset_free(rs);
    free(kinds_wanted);
    return rc;
}
