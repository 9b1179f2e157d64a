/*
 * cmd_build.c — `quy check`, `quy build`, `quy disasm`.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* Parse --rulesets DIR options; positional arguments go to pos[]. */
static int collect_args(int argc, char **argv, cli_paths *ps, const char **pos, int maxpos, const char **out,
                        bool *opcodes)
{
    int npos = 0;
    cli_paths_init(ps);
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (cli_opt(argc, argv, &i, "--rulesets", &v))
            cli_paths_add(ps, v);
        else if (out && (cli_opt(argc, argv, &i, "-o", &v) || cli_opt(argc, argv, &i, "--output", &v)))
            *out = v;
        else if (opcodes && cli_opt(argc, argv, &i, "--opcodes", NULL))
            *opcodes = true;
        else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "quy %s: unknown option '%s'\n", argv[0], argv[i]);
            return -1;
        } else if (npos < maxpos)
            pos[npos++] = argv[i];
    }
    return npos;
}

int cmd_check(int argc, char **argv)
{
    cli_paths ps;
    const char *pos[64];
    int n = collect_args(argc, argv, &ps, pos, 64, NULL, NULL);
    if (n <= 0) {
        fprintf(stderr, "usage: quy check FILE|NAME...\n");
        return EXIT_RULESET;
    }
    int bad = 0;
    for (int i = 0; i < n; i++) {
        q_program *p = cli_load(&ps, pos[i]);
        if (!p) {
            bad++;
            continue;
        }
        uint32_t nrules = p->nrules;
        fprintf(stderr, "%s: ok — ruleset %s %s, %u kinds, %u rules, %u clauses, %u instructions\n", pos[i],
                prog_str(p, p->name), prog_str(p, p->version), p->nkinds, nrules, p->nclauses, p->ncode);
        prog_free(p);
    }
    return bad ? EXIT_RULESET : EXIT_OK;
}

int cmd_build(int argc, char **argv)
{
    cli_paths ps;
    const char *pos[2], *out = NULL;
    int n = collect_args(argc, argv, &ps, pos, 2, &out, NULL);
    if (n != 1) {
        fprintf(stderr, "usage: quy build NAME|FILE [-o OUT.qbc]\n");
        return EXIT_RULESET;
    }
    q_program *p = cli_load(&ps, pos[0]);
    if (!p) return EXIT_RULESET;
    char defname[512];
    if (!out) {
        snprintf(defname, sizeof defname, "%s.qbc", prog_str(p, p->name));
        out = defname;
    }
    uint8_t *buf;
    size_t len;
    if (!bc_write(p, &buf, &len)) {
        fprintf(stderr, "quy build: out of memory\n");
        prog_free(p);
        return EXIT_IO;
    }
    FILE *f = fopen(out, "wb");
    int rc = EXIT_OK;
    if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "quy build: cannot write %s: %s\n", out, strerror(errno));
        rc = EXIT_IO;
    } else {
        fprintf(stderr, "quy build: wrote %s (%zu bytes, ruleset %s %s, format %d)\n", out, len, prog_str(p, p->name),
                prog_str(p, p->version), QUY_BC_VERSION);
    }
    free(buf);
    prog_free(p);
    return rc;
}

int cmd_disasm(int argc, char **argv)
{
    cli_paths ps;
    const char *pos[2];
    bool opcodes = false;
    int n = collect_args(argc, argv, &ps, pos, 2, NULL, &opcodes);
    if (opcodes) {
        disasm_opcodes_md(stdout);
        return EXIT_OK;
    }
    if (n != 1) {
        fprintf(stderr, "usage: quy disasm NAME|FILE|FILE.qbc   or   quy disasm --opcodes\n");
        return EXIT_RULESET;
    }
    q_program *p = cli_load(&ps, pos[0]);
    if (!p) return EXIT_RULESET;
    disasm_print(p, stdout);
    prog_free(p);
    return EXIT_OK;
}
