/*
 * cli.h — shared pieces of the `quy` command-line tool (cli/), which is
 * built on the public library alone (include/quy.h), as lua.c is on lua.h.
 * One file per command family: cmd_eval.c (eval, explain), cmd_build.c
 * (check, build, disasm), cmd_test.c (test), cmd_list.c (list, the registry),
 * cmd_diff.c + diff_report.c + diff_cause_text.c (diff: options and
 * reports), cmd_gen.c (gen), cmd_describe.c (describe), cmd_prove.c
 * (prove); main.c dispatches; options.h declares the options once.
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

#include <quy.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum { EXIT_OK = 0, EXIT_RULESET = 1, EXIT_REJECTED = 2, EXIT_IO = 3, EXIT_TESTFAIL = 4, EXIT_UNAPPROVED = 5 };

/* A growable list of strings the list does not own (arguments). */
typedef struct cli_list {
    const char **v;
    size_t n, cap;
} cli_list;
void cli_list_add(cli_list *l, const char *s); /* exits on no memory */
void cli_list_free(cli_list *l);

/* The ruleset search path: the library's loader (quy_loader_*), with the
 * --rulesets folders given; the defaults come after them (quy.h). */
typedef struct cli_paths {
    quy_loader *ld;
    const char **dirs; /* cli_paths_defaults: the whole search path */
    size_t n;
} cli_paths;

void cli_paths_init(cli_paths *ps);
/* --rulesets DIR: a folder that does not exist is an error (reported; exit 1). */
void cli_paths_add(cli_paths *ps, const char *dir);
/* The full search path into out->dirs/out->n (exit 1 on a bad $QUY_RULESETS). */
void cli_paths_defaults(const cli_paths *in, cli_paths *out);

/* Load a ruleset by name, source path or compiled (.qbc) path; prints the
 * diagnostics and (for check, test, eval, explain, diff) one line naming the
 * file it came from on stderr. NULL on error (reported). */
quy_ruleset *cli_ruleset(const cli_paths *ps, const char *spec);

/* The source file a ruleset name resolves to (malloc'd), or NULL. */
char *cli_resolve(const cli_paths *ps, const char *spec);

/* Today, YYYY-MM-DD (local time), into buf (16 bytes suffice): --at's default. */
void cli_today(char *buf, size_t size);

/* The ruleset in force for `locality` on `at` (YYYY-MM-DD; NULL = today)
 * by the registry (`registry_file`, or the first registry.json in the search
 * path). Says on stderr which it chose and why; NULL (reported) on error.
 * The name is malloc'd. */
char *cli_locality_ruleset(const cli_paths *ps, const char *registry_file, const char *locality, const char *at,
                           const char *cmd);

/* Does the option at argv[*i] match `name` (takes a value when `val`)? */
bool cli_opt(int argc, char **argv, int *i, const char *name, const char **val);

/* The command's name for messages ("eval"), and whether to announce the
 * file each ruleset came from (check, test, eval, explain, diff). */
extern const char *cli_cmd;
extern bool cli_announce;

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

/* `quy diff`'s reports (diff_report.c) of a diff that ran: text, JSON,
 * CSV, HTML. 0, or -1 when the diff cannot be read back. */
typedef enum rp_format { RP_TEXT, RP_JSON, RP_CSV, RP_HTML } rp_format;
int rp_write(rp_format fmt, quy_diff *d, FILE *out);
/* Why listed record i moved, as readable lines each indented by `indent`
 * (diff_cause_text.c: the text report and the CSV). */
void dc_detail_text(quy_diff *d, size_t i, FILE *f, int indent);

#endif /* QUY_CLI_H */
