/*
 * cmd_gen.c — `quy gen --ruleset X --count N --seed S [-o FILE]`: the
 * options, then the records of the boundary generator (gen/gen.h, in the
 * library) written one line at a time.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../gen/gen.h"
#include "../runtime/strbuf.h"
#include "cli.h"

static void usage(void)
{
    fprintf(stderr, "usage: quy gen --ruleset NAME|FILE [--count N] [--seed S] [--kind K]... [--prefix P] [-o FILE]\n"
                    "       quy gen --ruleset NAME|FILE --targets   (what the generator aims at)\n");
}

/* Write `count` records to out_path (or stdout). */
static int write_records(gen *g, unsigned long long count, const char *out_path)
{
    FILE *out = stdout;
    if (out_path && strcmp(out_path, "-") && !(out = fopen(out_path, "w"))) {
        fprintf(stderr, "quy gen: %s: %s\n", out_path, strerror(errno));
        return EXIT_IO;
    }
    int rc = EXIT_OK;
    strbuf sb = {0};
    for (unsigned long long i = 0; rc == EXIT_OK && i < count; i++) {
        strbuf_reset(&sb);
        int r = gen_next(g, &sb);
        if (r != 0) {
            fprintf(stderr, "quy gen: %s\n", gen_error(g));
            rc = r > 0 ? EXIT_RULESET : EXIT_IO;
        } else if (fwrite(sb.s, 1, sb.n, out) != sb.n) {
            fprintf(stderr, "quy gen: cannot write: %s\n", strerror(errno));
            rc = EXIT_IO;
        }
    }
    strbuf_free(&sb);
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
    q_program *p = rc == EXIT_OK ? cli_load(&ps, ruleset) : NULL;
    if (rc == EXIT_OK && !p) rc = EXIT_RULESET;
    gen *g = p ? gen_new(p) : NULL;
    if (p && !g) {
        fprintf(stderr, "quy gen: out of memory\n");
        rc = EXIT_IO;
    }
    if (g) {
        gen_set_seed(g, seed);
        if (gen_set_prefix(g, prefix) != 0) {
            fprintf(stderr, "quy gen: --prefix: %s\n", gen_error(g));
            rc = EXIT_RULESET;
        }
        for (int w = 0; w < nkw; w++)
            if (gen_add_kind(g, kinds_wanted[w]) != 0) {
                fprintf(stderr, "quy gen: %s\n", gen_error(g));
                rc = EXIT_RULESET;
            }
    }
    if (rc == EXIT_OK) {
        int r = gen_prepare(g);
        if (r != 0) {
            fprintf(stderr, "quy gen: %s\n", gen_error(g));
            rc = r == -1 ? EXIT_IO : EXIT_RULESET;
        }
    }
    if (rc == EXIT_OK && show_targets) {
        gen_print_targets(g, stdout);
    } else if (rc == EXIT_OK) {
        rc = write_records(g, count, out_path);
        if (rc == EXIT_OK) {
            uint64_t dropped = gen_dropped(g);
            fprintf(stderr, "quy gen: %llu records of %u kinds, seed %llu; %u targets, %u variants%s", count,
                    gen_kind_count(g), seed, gen_target_count(g), gen_variant_count(g), dropped ? "" : "\n");
            if (dropped)
                fprintf(stderr, "; %llu record(s) lost their boundary target to make them valid\n",
                        (unsigned long long)dropped);
        }
    }
    gen_free(g);
    prog_free(p);
    free(kinds_wanted);
    return rc;
}
