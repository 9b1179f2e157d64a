/*
 * diag.h — compile-time diagnostics, collected and printed jq/rustc style:
 *
 *   rules.quy:12:7: error: unknown field 'tasks_compelted'; did you mean 'tasks_completed'?
 *      12 |   and tasks_compelted = tasks_total
 *         |       ^~~~~~~~~~~~~~~
 *
 * Positions are byte spans; line and column are computed only when printing
 * (srcpos_linecol, runtime/srcpos.h: columns count characters).
 * Every phase keeps going after an error (the parser recovers, the checker
 * checks the next rule), so one run reports every problem.
 */
#ifndef QUY_DIAG_H
#define QUY_DIAG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ast.h"
#include "srcpos.h"

typedef enum diag_level { DIAG_ERROR, DIAG_WARNING, DIAG_NOTE } diag_level;

typedef struct diag_entry {
    diag_level level;
    const char *path; /* file the span points into */
    const char *src;  /* its text */
    q_span span;
    char *msg;        /* owned */
} diag_entry;

typedef struct diag_list {
    diag_entry *items;
    size_t n, cap;
    size_t nerrors, nwarnings;
    size_t max_errors; /* stop collecting past this many errors (0 = 100) */
    bool oom;          /* a diagnostic was lost (out of memory); counted as an error */
} diag_list;

void diag_init(diag_list *d);
void diag_free(diag_list *d);
/* Drop every diagnostic added after the first `n` (a tentative check that
 * failed and is not an error of the program). */
void diag_rollback(diag_list *d, size_t n);

/* Record a diagnostic; the message is printf-formatted. */
void diag_add(diag_list *d, diag_level level, const char *path, const char *src, q_span span, const char *fmt,
              ...) __attribute__((format(printf, 6, 7)));
void diag_vadd(diag_list *d, diag_level level, const char *path, const char *src, q_span span, const char *fmt,
               va_list ap);

/* Print every diagnostic with its source line and caret underline. `color`
 * adds ANSI colours (the CLI passes isatty()). */
void diag_print(const diag_list *d, FILE *out, bool color);

/* Closest candidate to `name` by edit distance, or NULL if none is close
 * enough (distance <= max(1, len/3)). For "did you mean 'x'?". */
const char *diag_suggest(const char *name, const char *const *candidates, size_t n);

#endif /* QUY_DIAG_H */
