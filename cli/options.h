/*
 * options.h — every option of the commands built on quy.h, declared once:
 * the parsers (cli_next) and `quy help COMMAND` read this list.
 * O(ID, NAME, ALIAS, VALUE, COMMANDS, HELP): VALUE is NULL for a flag.
 */
#ifndef QUY_CLI_OPTIONS_H
#define QUY_CLI_OPTIONS_H

#include <stdio.h>

/* The commands (bits of COMMANDS). */
#define QUY_CLI_COMMANDS(C) C(EVAL, "eval") C(EXPLAIN, "explain") C(CHECK, "check") C(BUILD, "build") \
    C(DISASM, "disasm") C(TEST, "test")

enum {
#define C_BIT(id, name) CMDBIT_##id,
    QUY_CLI_COMMANDS(C_BIT)
#undef C_BIT
};
enum {
#define C_MASK(id, name) CMD_##id = 1u << CMDBIT_##id,
    QUY_CLI_COMMANDS(C_MASK)
#undef C_MASK
};
#define CMD_RATE (CMD_EVAL | CMD_EXPLAIN)
#define CMD_ALL (CMD_EVAL | CMD_EXPLAIN | CMD_CHECK | CMD_BUILD | CMD_DISASM | CMD_TEST)

#define QUY_CLI_OPTIONS(O)                                                                                          \
    O(RULESET, "--ruleset", NULL, "NAME|FILE", CMD_RATE, "the ruleset: a name, a .quy file or a compiled .qbc")     \
    O(LOCALITY, "--locality", NULL, "NAME|CODE", CMD_RATE | CMD_TEST,                                               \
      "instead of a ruleset: the one in force there, by the registry")                                            \
    O(AT, "--at", NULL, "DATE|PERIOD", CMD_RATE | CMD_TEST,                                                       \
      "with --locality: on this date YYYY-MM-DD or for this rating period (2025, 2026-Q2); default: today")      \
    O(REGISTRY, "--registry", NULL, "FILE", CMD_RATE | CMD_TEST,                                                    \
      "with --locality: this registry (default: the first registry.json in the search path)")                     \
    O(RULESETS, "--rulesets", NULL, "DIR", CMD_ALL, "search this folder first (repeatable; it must exist)")        \
    O(FORMAT, "--format", NULL, "jsonl|csv|table", CMD_RATE,                                                        \
      "output format (default: a table on a terminal, JSON Lines otherwise)")                                     \
    O(EXPLAIN, "--explain", NULL, NULL, CMD_RATE, "attach each record's explanation (the trace)")                  \
    O(JSON, "--json", NULL, NULL, CMD_RATE, "quy explain: JSON Lines instead of text")                             \
    O(ID, "--id", NULL, "ID", CMD_RATE, "only the record with this id")                                            \
    O(SUMMARY, "--summary", NULL, NULL, CMD_RATE, "per-group counts and quota use instead of the records")         \
    O(MAX_LINE, "--max-line", NULL, "N", CMD_RATE, "bytes in one record (a JSON Lines line, a CSV row; default 1 MiB)") \
    O(MAX_DEPTH, "--max-depth", NULL, "N", CMD_RATE, "nesting of JSON arrays/objects in a record (default 32)")     \
    O(MAX_LIST, "--max-list", NULL, "N", CMD_RATE, "elements in one list field (default 10000)")                   \
    O(JOBS, "--jobs", NULL, "N", CMD_RATE, "threads that read and rate JSON Lines (default: one per core; 1: this one)") \
    O(OUTPUT, "-o", "--output", "FILE", CMD_BUILD, "write the compiled ruleset here (default: NAME.qbc)")          \
    O(OPCODES, "--opcodes", NULL, NULL, CMD_DISASM, "the instruction set as a Markdown table")

typedef enum cli_optid {
#define O_ENUM(id, name, alias, value, cmds, help) OPT_##id,
    QUY_CLI_OPTIONS(O_ENUM)
#undef O_ENUM
    OPT__COUNT,
    OPT_ARG = -1, /* a positional argument (or "-") */
    OPT_BAD = -2, /* an option this command does not take (reported) */
} cli_optid;

/* The option at argv[*i] for command `cmd` (a CMD_* bit), its value (if it
 * takes one) in *val; OPT_ARG for a positional argument. */
int cli_next(int argc, char **argv, int *i, unsigned cmd, const char **val);

/* The command bit of a command name, 0 if none. */
unsigned cli_command(const char *name);

/* The options of `cmd`, one per line (quy help COMMAND). */
void cli_help_options(FILE *out, unsigned cmd);

#endif /* QUY_CLI_OPTIONS_H */
