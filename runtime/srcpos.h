/*
 * srcpos.h — positions in text, one convention for the whole tree (prefix
 * srcpos_): lines count from 1, columns count characters (UTF-8 code
 * points, not bytes) from 1. The compiler's diagnostics, the run-time
 * errors of a rule, the disassembler and the record readers' error
 * positions all compute them here, so "Điều" before an error moves the
 * column by 4 everywhere.
 *
 * srcpos_render prints a message the way the compiler's diagnostics do:
 *
 *   rules.quy:12:7: error: unknown field 'tasks_compelted'
 *      12 |   and tasks_compelted = tasks_total
 *         |       ^~~~~~~~~~~~~~~
 */
#ifndef QUY_SRCPOS_H
#define QUY_SRCPOS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

/* Move a position (*line, *col) over the n bytes of s: a '\n' starts the
 * next line at column 1, every byte that starts a character (any byte but
 * a UTF-8 continuation byte) moves one column. */
void srcpos_advance(const char *s, size_t n, uint32_t *line, uint32_t *col);

/* Line and column of byte offset `off` of text (off must be inside it;
 * the text may hold a NUL before it). */
void srcpos_linecol(const char *text, size_t off, uint32_t *line, uint32_t *col);

/* Write a located message: "path:line:col: level: msg" (msglen bytes of
 * msg), the source line
 * holding byte `start`, and a caret under it with a `~` for each further
 * character of [start, end) on that line. `text` must hold the span (it may
 * hold NUL bytes before `end`, shown as spaces); `level_color` is an ANSI
 * colour for the level, NULL for plain text. */
void srcpos_render(strbuf *b, const char *path, const char *text, uint32_t start, uint32_t end, const char *level,
                   const char *level_color, const char *msg, size_t msglen);
/* A source line longer than SRCPOS_WIDTH characters is drawn as a window of
 * that many, from SRCPOS_BEFORE characters before the start, with "…" where
 * it is cut; the underline stops at the window's end. */
#define SRCPOS_WIDTH 160
#define SRCPOS_BEFORE 60

#endif /* QUY_SRCPOS_H */
