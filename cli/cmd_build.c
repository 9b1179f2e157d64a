/*
 * cmd_build.c — `quy check`, `quy build`, `quy disasm`.
 */
#define _GNU_SOURCE 1 /* asprintf */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "options.h"

/* Parse the options of `cmd` (options.h); positional arguments go to pos.
 * -1 on a usage error (reported). */
static int collect_args(int argc, char **argv, unsigned cmd, cli_paths *ps, cli_list *pos, const char **out,
                        bool *opcodes)
{
    cli_paths_init(ps);
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        switch (cli_next(argc, argv, &i, cmd, &v)) {
        case OPT_RULESETS: cli_paths_add(ps, v); break;
        case OPT_OUTPUT: *out = v; break;
        case OPT_OPCODES: *opcodes = true; break;
        case OPT_ARG: cli_list_add(pos, argv[i]); break;
        default: return -1;
        }
    }
    return 0;
}

int cmd_check(int argc, char **argv)
{
    cli_paths ps;
    cli_list pos = {0};
    if (collect_args(argc, argv, CMD_CHECK, &ps, &pos, NULL, NULL) < 0 || pos.n == 0) {
        fprintf(stderr, "usage: quy check FILE|NAME...\n");
        cli_list_free(&pos);
        return EXIT_RULESET;
    }
    int bad = 0;
    for (size_t i = 0; i < pos.n; i++) {
        quy_ruleset *rs = cli_ruleset(&ps, pos.v[i]);
        if (!rs) {
            bad++;
            continue;
        }
        fprintf(stderr, "%s: ok — ruleset %s %s, %zu kinds, %zu rules, %zu clauses, %zu instructions\n", pos.v[i],
                quy_ruleset_name(rs), quy_ruleset_version(rs), quy_ruleset_count(rs, QUY_COUNT_KINDS),
                quy_ruleset_count(rs, QUY_COUNT_RULES), quy_ruleset_count(rs, QUY_COUNT_CLAUSES),
                quy_ruleset_count(rs, QUY_COUNT_INSTRUCTIONS));
        quy_ruleset_free(rs);
    }
    cli_list_free(&pos);
    return bad ? EXIT_RULESET : EXIT_OK;
}

/* The one ruleset a command names (NULL after a usage message). */
static quy_ruleset *one_ruleset(const cli_paths *ps, cli_list *pos, const char *usage)
{
    quy_ruleset *rs = NULL;
    if (pos->n != 1)
        fputs(usage, stderr);
    else
        rs = cli_ruleset(ps, pos->v[0]);
    cli_list_free(pos);
    return rs;
}

int cmd_build(int argc, char **argv)
{
    cli_paths ps;
    cli_list pos = {0};
    const char *out = NULL;
    if (collect_args(argc, argv, CMD_BUILD, &ps, &pos, &out, NULL) < 0) pos.n = 0;
    quy_ruleset *rs = one_ruleset(&ps, &pos, "usage: quy build NAME|FILE [-o OUT.qbc]\n");
    if (!rs) return EXIT_RULESET;
    char *defname = NULL;
    if (!out && asprintf(&defname, "%s.qbc", quy_ruleset_name(rs)) >= 0) out = defname;
    void *buf = NULL;
    size_t len = 0;
    if (!out || quy_ruleset_bytecode(rs, &buf, &len) != QUY_OK) {
        fprintf(stderr, "quy build: out of memory\n");
        quy_ruleset_free(rs);
        free(defname);
        return EXIT_IO;
    }
    FILE *f = fopen(out, "wb");
    int rc = EXIT_OK;
    if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "quy build: cannot write %s: %s\n", out, strerror(errno));
        rc = EXIT_IO;
    } else {
        fprintf(stderr, "quy build: wrote %s (%zu bytes, ruleset %s %s, format %d)\n", out, len, quy_ruleset_name(rs),
                quy_ruleset_version(rs), quy_bytecode_version());
    }
    quy_free(buf);
    free(defname);
    quy_ruleset_free(rs);
    return rc;
}

int cmd_disasm(int argc, char **argv)
{
    cli_paths ps;
    cli_list pos = {0};
    bool opcodes = false;
    if (collect_args(argc, argv, CMD_DISASM, &ps, &pos, NULL, &opcodes) < 0) pos.n = 0;
    if (opcodes) {
        cli_list_free(&pos);
        quy_opcodes_markdown(stdout);
        return EXIT_OK;
    }
    quy_ruleset *rs = one_ruleset(&ps, &pos, "usage: quy disasm NAME|FILE|FILE.qbc   or   quy disasm --opcodes\n");
    if (!rs) return EXIT_RULESET;
    quy_ruleset_disasm(rs, stdout);
    quy_ruleset_free(rs);
    return EXIT_OK;
}
