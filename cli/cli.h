/*
 * cli.h — shared pieces of the `quy` command-line tool (cli/).
 * One file per command family: cmd_eval.c (eval, explain), cmd_build.c
 * (check, build, disasm), cmd_test.c (test), cmd_list.c (list, the registry),
 * cmd_diff.c + diff_*.c (diff), cmd_gen.c + gen_*.c (gen); main.c dispatches.
 *
 * Exit codes (documented in docs/integration-guide.md):
 *   0  success: every record rated / every test passed / no error
 *   1  a ruleset or usage error: nothing was rated
 *   2  some records were rejected (the others were rated and written)
 *   3  an input or output file could not be read or written
 *   4  `quy test`: some test cases failed
 *   5  `quy diff`: some move is not approved (--expect, --refines)
 */
#ifndef QUY_CLI_H
#define QUY_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "../compiler/compiler.h"
#include "../runtime/program.h"

enum { EXIT_OK = 0, EXIT_RULESET = 1, EXIT_REJECTED = 2, EXIT_IO = 3, EXIT_TESTFAIL = 4 };

/* The ruleset search path: --rulesets DIR (repeatable), then $QUY_RULESETS
 * (colon-separated), then ./rulesets, the installed rulesets and the
 * source tree's rulesets. */
typedef struct cli_paths {
    const char *dirs[32];
    size_t n;
} cli_paths;

void cli_paths_init(cli_paths *ps);
void cli_paths_add(cli_paths *ps, const char *dir);

/* Load a ruleset by name, source path or compiled (.qbc) path; prints
 * diagnostics to stderr. NULL on error. */
q_program *cli_load(const cli_paths *ps, const char *spec);

/* The source file a ruleset name resolves to (malloc'd), or NULL. */
char *cli_resolve(const cli_paths *ps, const char *spec);

/* The full search path: `in` followed by $QUY_RULESETS and the defaults. */
void cli_paths_defaults(const cli_paths *in, cli_paths *out);

/* The ruleset in force for `locality` on `at` (YYYY-MM-DD; NULL = today)
 * by the registry (`registry_file`, or the first registry.json in the search
 * path). Says on stderr which it chose and why; NULL (reported) on error.
 * The name is malloc'd. */
char *cli_locality_ruleset(const cli_paths *ps, const char *registry_file, const char *locality, const char *at,
                           const char *cmd);

/* Does the option at argv[*i] match `name` (takes a value when `val`)? */
bool cli_opt(int argc, char **argv, int *i, const char *name, const char **val);

int cmd_eval(int argc, char **argv, bool explain_cmd);
int cmd_check(int argc, char **argv);
int cmd_build(int argc, char **argv);
int cmd_disasm(int argc, char **argv);
int cmd_test(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_gen(int argc, char **argv);
int cmd_describe(int argc, char **argv); /* cmd_describe.c: quy describe --fields */
int cmd_prove(int argc, char **argv);

#endif /* QUY_CLI_H */
