/*
 * main.c — `quy`: command dispatch, help, and the helpers shared by the
 * commands (ruleset search path, loading source or compiled rulesets).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static const char usage[] =
    "quy — xếp loại chất lượng theo Quy định 124-QĐ/TW và các văn bản cụ thể hoá\n"
    "\n"
    "usage: quy COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  eval     rate records:      quy eval --ruleset NAME|FILE [--format jsonl|csv|table] [--explain] [--id ID] FILE...|-\n"
    "  explain  explain ratings:   quy explain --ruleset NAME|FILE [--json] [--id ID] FILE...|-\n"
    "  check    check rulesets:    quy check FILE|NAME...\n"
    "  build    compile to bytecode: quy build NAME|FILE [-o OUT.qbc]\n"
    "  disasm   show bytecode:     quy disasm NAME|FILE|FILE.qbc   (quy disasm --opcodes: the instruction set)\n"
    "  test     run ruleset tests: quy test NAME...   (cases in rulesets/NAME/tests/*.jsonl)\n"
    "  list     the registry:      quy list [--json] [--locality NAME|CODE [--at DATE|PERIOD]]\n"
    "  diff     compare rulesets:  quy diff OLD NEW RECORDS... [--format text|json|csv|html] [-o FILE]\n"
    "                              [--expect FILE] [--write-expect FILE] [--refines]\n"
    "  gen      generate records:  quy gen --ruleset NAME|FILE [--count N] [--seed S] [-o FILE]\n"
    "  describe the record fields of every ruleset:  quy describe --fields [--rulesets DIR]   (docs/records.md)\n"
    "  prove    every record:      quy prove NAME (--gaps | --dead | --refines PARENT | --equiv OTHER)\n"
    "                              [--format text|json] [--timeout S] [--expect FILE]\n"
    "  help     this text;  --version: the version\n"
    "\n"
    "--locality NAME|CODE [--at YYYY-MM-DD|PERIOD] instead of --ruleset (eval, explain, test): the ruleset\n"
    "  in force there on that date (default today; a period 2025 or 2026-Q2: its last day) by\n"
    "  rulesets/registry.json (or --registry FILE). NAME ignores case and diacritics.\n"
    "\n"
    "ruleset search path: --rulesets DIR (repeatable), $QUY_RULESETS (DIR:DIR...), ./rulesets,\n"
    "  the installed rulesets, the source tree's rulesets. NAME finds DIR/NAME/NAME.quy.\n"
    "\n"
    "records: JSON Lines, a JSON array or CSV with a header (sniffed), from files or '-' (stdin).\n"
    "  limits (eval, explain): --max-line BYTES (1048576) --max-depth N (32) --max-list N (10000).\n"
    "output: a table on a terminal, JSON Lines otherwise (--format to choose).\n"
    "\n"
    "exit status: 0 ok; 1 ruleset or usage error; 2 some records rejected (others rated);\n"
    "  3 unreadable input / unwritable output; 4 some test cases failed;\n"
    "  5 quy diff / quy prove: some move or finding not approved (--expect, --refines).\n"
    "\n"
    "examples:\n"
    "  quy eval --ruleset central-124 rulesets/central-124/samples/records.jsonl\n"
    "  quy eval --ruleset central-124 --format csv records.csv > ketqua.csv\n"
    "  quy explain --ruleset central-124 --id DV-0003 rulesets/central-124/samples/records.jsonl\n"
    "  quy check rulesets/central-124/central-124.quy\n"
    "  quy build central-124 -o central-124.qbc && quy eval --ruleset central-124.qbc records.jsonl\n"
    "  quy test central-124\n"
    "  quy eval --locality cho-chu --at 2024-12-01 records.jsonl\n"
    "  quy gen --ruleset central-124 --count 1000 --seed 1 -o gen.jsonl\n"
    "  quy diff central-124 my-variant gen.jsonl --format html -o diff.html\n";

bool cli_opt(int argc, char **argv, int *i, const char *name, const char **val)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0) return false;
    if (!val) return a[n] == 0;
    if (a[n] == '=') {
        *val = a + n + 1;
        return true;
    }
    if (a[n] != 0) return false;
    if (*i + 1 >= argc) {
        fprintf(stderr, "quy: %s needs a value\n", name);
        exit(EXIT_RULESET);
    }
    *val = argv[++*i];
    return true;
}

void cli_paths_add(cli_paths *ps, const char *dir)
{
    if (ps->n < sizeof ps->dirs / sizeof ps->dirs[0]) ps->dirs[ps->n++] = dir;
}

void cli_paths_init(cli_paths *ps) { ps->n = 0; }

void cli_paths_defaults(const cli_paths *in, cli_paths *out)
{
    *out = *in;
    static char envbuf[4096];
    const char *env = getenv("QUY_RULESETS");
    if (env && *env) {
        snprintf(envbuf, sizeof envbuf, "%s", env);
        for (char *tok = strtok(envbuf, ":"); tok; tok = strtok(NULL, ":")) cli_paths_add(out, tok);
    }
    cli_paths_add(out, "rulesets");
    cli_paths_add(out, QUY_INSTALL_RULESETS);
    cli_paths_add(out, QUY_SOURCE_RULESETS);
}

char *cli_resolve(const cli_paths *ps, const char *spec)
{
    cli_paths all;
    cli_paths_defaults(ps, &all);
    compiler *c = compiler_new(all.dirs, all.n);
    if (!c) return NULL;
    char *path = compiler_resolve(c, spec);
    compiler_free(c);
    return path;
}

q_program *cli_load(const cli_paths *ps, const char *spec)
{
    struct stat st;
    if (stat(spec, &st) == 0 && S_ISREG(st.st_mode) && bc_is_file(spec)) {
        char err[1024];
        q_program *p = bc_read_file(spec, err, sizeof err);
        if (!p) fprintf(stderr, "quy: %s\n", err);
        return p;
    }
    cli_paths all;
    cli_paths_defaults(ps, &all);
    compiler *c = compiler_new(all.dirs, all.n);
    if (!c) return NULL;
    q_program *p = compiler_compile(c, spec);
    diag_print(compiler_diags(c), stderr, isatty(2));
    compiler_free(c);
    return p;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return EXIT_RULESET;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
        printf("quy %s (bytecode format %d)\n", QUY_VERSION, QUY_BC_VERSION);
        return EXIT_OK;
    }
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        fputs(usage, stdout);
        return EXIT_OK;
    }
    if (!strcmp(cmd, "eval")) return cmd_eval(argc - 1, argv + 1, false);
    if (!strcmp(cmd, "explain")) return cmd_eval(argc - 1, argv + 1, true);
    if (!strcmp(cmd, "check")) return cmd_check(argc - 1, argv + 1);
    if (!strcmp(cmd, "build")) return cmd_build(argc - 1, argv + 1);
    if (!strcmp(cmd, "disasm")) return cmd_disasm(argc - 1, argv + 1);
    if (!strcmp(cmd, "test")) return cmd_test(argc - 1, argv + 1);
    if (!strcmp(cmd, "list")) return cmd_list(argc - 1, argv + 1);
    if (!strcmp(cmd, "diff")) return cmd_diff(argc - 1, argv + 1);
    if (!strcmp(cmd, "gen")) return cmd_gen(argc - 1, argv + 1);
    if (!strcmp(cmd, "describe")) return cmd_describe(argc - 1, argv + 1);
    if (!strcmp(cmd, "prove")) return cmd_prove(argc - 1, argv + 1);
    fprintf(stderr, "quy: unknown command '%s' (try 'quy help')\n", cmd);
    return EXIT_RULESET;
}
