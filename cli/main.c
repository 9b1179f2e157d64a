/*
 * main.c — `quy`: command dispatch, help, and the helpers shared by the
 * commands (the search path and loading, over the library's quy_loader).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "options.h"

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
    "  help     this text; quy help COMMAND: its options; --version: the version\n"
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

/* ---------------------------------------------------------------------
 * Options (options.h)
 * ------------------------------------------------------------------- */

typedef struct cli_optdef {
    const char *name, *alias, *value;
    unsigned cmds;
    const char *help;
} cli_optdef;

static const cli_optdef options[OPT__COUNT] = {
#define O_DEF(id, name, alias, value, cmds, help) {name, alias, value, cmds, help},
    QUY_CLI_OPTIONS(O_DEF)
#undef O_DEF
};

static const char *const command_names[] = {
#define C_NAME(id, name) name,
    QUY_CLI_COMMANDS(C_NAME)
#undef C_NAME
};

unsigned cli_command(const char *name)
{
    for (unsigned k = 0; k < sizeof command_names / sizeof command_names[0]; k++)
        if (!strcmp(command_names[k], name)) return 1u << k;
    return 0;
}

int cli_next(int argc, char **argv, int *i, unsigned cmd, const char **val)
{
    const char *a = argv[*i];
    if (a[0] != '-' || a[1] == 0) return OPT_ARG;
    for (int k = 0; k < OPT__COUNT; k++) {
        const cli_optdef *o = &options[k];
        if (!(o->cmds & cmd)) continue;
        if (cli_opt(argc, argv, i, o->name, o->value ? val : NULL) ||
            (o->alias && cli_opt(argc, argv, i, o->alias, o->value ? val : NULL)))
            return k;
    }
    const char *names[2 * OPT__COUNT];
    size_t n = 0;
    for (int k = 0; k < OPT__COUNT; k++) {
        if (!(options[k].cmds & cmd)) continue;
        names[n++] = options[k].name;
        if (options[k].alias) names[n++] = options[k].alias;
    }
    char opt[64]; /* the option without '=VALUE' */
    snprintf(opt, sizeof opt, "%.*s", (int)strcspn(a, "="), a);
    const char *near = quy_suggest(opt, names, n);
    if (near)
        fprintf(stderr, "quy %s: unknown option '%s'; did you mean '%s'? (try 'quy help %s')\n", argv[0], a, near,
                argv[0]);
    else
        fprintf(stderr, "quy %s: unknown option '%s' (try 'quy help %s')\n", argv[0], a, argv[0]);
    return OPT_BAD;
}

void cli_help_options(FILE *out, unsigned cmd)
{
    for (int k = 0; k < OPT__COUNT; k++) {
        const cli_optdef *o = &options[k];
        if (!(o->cmds & cmd)) continue;
        char head[64];
        snprintf(head, sizeof head, "%s%s%s%s%s", o->name, o->alias ? ", " : "", o->alias ? o->alias : "",
                 o->value ? " " : "", o->value ? o->value : "");
        fprintf(out, "  %-28s %s\n", head, o->help);
    }
}

const char *cli_cmd = "";
bool cli_announce = true;

void cli_list_add(cli_list *l, const char *s)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        const char **v = realloc(l->v, cap * sizeof *v);
        if (!v) {
            fprintf(stderr, "quy: out of memory\n");
            exit(EXIT_IO);
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = s;
}

void cli_list_free(cli_list *l)
{
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

/* One loader per run of `quy` (one command per process), freed at exit. */
static quy_loader *g_loader;
static const char **g_dirs;

static void free_loader(void)
{
    quy_loader_free(g_loader);
    free(g_dirs);
}

void cli_paths_init(cli_paths *ps)
{
    if (!g_loader) {
        if (quy_loader_new(&g_loader) != QUY_OK) {
            fprintf(stderr, "quy: %s\n", quy_errmsg());
            exit(EXIT_IO);
        }
        atexit(free_loader);
    }
    ps->ld = g_loader;
    ps->dirs = NULL;
    ps->n = 0;
}

void cli_paths_add(cli_paths *ps, const char *dir)
{
    if (quy_loader_add_dir(ps->ld, dir) != QUY_OK) {
        fprintf(stderr, "quy %s: --rulesets: %s\n", cli_cmd, quy_errmsg());
        exit(EXIT_RULESET);
    }
}

/* The search path, or exit 1 naming a bad $QUY_RULESETS folder. */
static void paths_or_exit(const cli_paths *ps, size_t *n)
{
    if (quy_loader_dirs(ps->ld, n) != QUY_OK) {
        fprintf(stderr, "quy %s: %s\n", cli_cmd, quy_errmsg());
        exit(EXIT_RULESET);
    }
}

void cli_paths_defaults(const cli_paths *in, cli_paths *out)
{
    size_t n;
    paths_or_exit(in, &n);
    free(g_dirs);
    g_dirs = calloc(n ? n : 1, sizeof *g_dirs);
    if (!g_dirs) {
        fprintf(stderr, "quy: out of memory\n");
        exit(EXIT_IO);
    }
    for (size_t i = 0; i < n; i++) g_dirs[i] = quy_loader_dir(in->ld, i);
    *out = *in;
    out->dirs = g_dirs;
    out->n = n;
}

char *cli_resolve(const cli_paths *ps, const char *spec)
{
    size_t n;
    paths_or_exit(ps, &n);
    char *path = NULL;
    if (quy_loader_find(ps->ld, spec, &path) != QUY_OK) return NULL;
    return path;
}

quy_ruleset *cli_ruleset(const cli_paths *ps, const char *spec)
{
    size_t n;
    paths_or_exit(ps, &n);
    quy_ruleset *rs = NULL;
    quy_diags *d = NULL;
    quy_status st = quy_loader_load(ps->ld, spec, &rs, &d);
    if (d) quy_diags_print(d, stderr, isatty(2));
    else if (st != QUY_OK) fprintf(stderr, "quy: %s\n", quy_errmsg());
    quy_diags_free(d);
    if (rs && cli_announce)
        fprintf(stderr, "quy %s: ruleset %s %s from %s\n", cli_cmd, quy_ruleset_name(rs), quy_ruleset_version(rs),
                quy_ruleset_file(rs));
    return rs;
}

void cli_today(char *buf, size_t size)
{
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(buf, size, "%Y-%m-%d", &tm);
}

char *cli_locality_ruleset(const cli_paths *ps, const char *registry_file, const char *locality, const char *at,
                           const char *cmd)
{
    char today[16];
    if (!at) cli_today(today, sizeof today);
    if (registry_file && quy_loader_set_registry(ps->ld, registry_file) != QUY_OK) {
        fprintf(stderr, "quy %s: --registry: %s\n", cmd, quy_errmsg());
        return NULL;
    }
    char *name = NULL, *why = NULL;
    quy_status st = quy_loader_resolve(ps->ld, locality, at ? at : today, &name, &why);
    if (st == QUY_OK)
        fprintf(stderr, "quy %s: %s%s\n", cmd, why ? why : name, at ? "" : " (--at not given: today)");
    else if (st == QUY_ERROR)
        fprintf(stderr, "%s\nquy %s: the registry has errors: nothing was resolved\n", quy_errmsg(), cmd);
    else if (st == QUY_EINVAL)
        fprintf(stderr, "quy %s: --at needs a date YYYY-MM-DD or a rating period (2025, 2026-Q2), not '%s'\n", cmd,
                at ? at : today);
    else
        fprintf(stderr, "quy %s: %s\n", cmd, quy_errmsg());
    quy_free(why);
    return name;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return EXIT_RULESET;
    }
    const char *cmd = argv[1];
    cli_cmd = cmd;
    /* the commands that say which file each ruleset came from */
    cli_announce = !strcmp(cmd, "check") || !strcmp(cmd, "test") || !strcmp(cmd, "eval") || !strcmp(cmd, "explain") ||
                   !strcmp(cmd, "diff");
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
        printf("quy %s (bytecode format %d)\n", quy_version(), quy_bytecode_version());
        return EXIT_OK;
    }
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        unsigned c = argc > 2 ? cli_command(argv[2]) : 0;
        if (c) {
            printf("options of quy %s:\n", argv[2]);
            cli_help_options(stdout, c);
        } else
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
    const char *near = quy_suggest(cmd, command_names, sizeof command_names / sizeof command_names[0]);
    if (near)
        fprintf(stderr, "quy: unknown command '%s'; did you mean '%s'? (try 'quy help')\n", cmd, near);
    else
        fprintf(stderr, "quy: unknown command '%s' (try 'quy help')\n", cmd);
    return EXIT_RULESET;
}
