/*
 * parse.h — the front end: re2c scanner (grammar/lexer.re, lex_) and bison
 * parser (grammar/parser.y, parse_) producing the AST of compiler/ast.h.
 *
 * Ownership: every node and string produced lives in the caller's arena.
 * `src` is owned by the caller and must outlive the AST and the diagnostics
 * (spans and diag entries point into it).
 */
#ifndef QUY_PARSE_H
#define QUY_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ast.h"
#include "diag.h"

/*
 * Parse one ruleset file. Always returns (never aborts on bad input);
 * errors go to `d`, several per file (the parser recovers at the next
 * declaration, rule or field). `src` must be NUL-terminated at src[len].
 * Fills *out (path, src, len, header, decls); on errors the AST holds
 * whatever parsed cleanly. Returns true if no error was reported.
 */
bool parse_file(ast_arena *arena, diag_list *d, const char *path, const char *src, size_t len, ast_file *out);

/* Printable name of a bison token kind (as in parser.h), for messages and
 * tests: "identifier", "string", "'{'", "when", "end of file", ... */
const char *parse_token_name(int token);

/* ---------------------------------------------------------------------
 * Scanner (used by the parser; exposed for tests)
 * ------------------------------------------------------------------- */

/* One token. `kind` is a bison token kind from parser.h (TK_...); 0 is end
 * of file. */
typedef struct lex_token {
    int kind;
    q_span span;  /* bytes of the token in the source */
    ast_str str;  /* TK_IDENT: the name; TK_STRING: decoded text (arena) */
    q_val num;    /* TK_INT TK_DECIMAL TK_PERCENT: exact value; TK_DATE: days since 1970-01-01 */
} lex_token;

typedef struct lex_state {
    const char *path;  /* for diagnostics */
    const char *src;   /* text, NUL at src[len] */
    size_t len;
    uint32_t pos;      /* offset of the next byte to scan */
    ast_arena *arena;  /* decoded strings */
    diag_list *d;      /* lexical errors */
    size_t nerrors;    /* errors this scanner reported */
} lex_state;

void lex_init(lex_state *L, ast_arena *arena, diag_list *d, const char *path, const char *src, size_t len);
/* Scan the next token into *t. A lexical error is reported to `d` and
 * yields TK_LEXERR (the parser does not report that token again), except
 * for errors inside a string or comment and a stray NUL, which are reported
 * and scanned past. At the end, kind 0 (TK_YYEOF) forever. */
void lex_next(lex_state *L, lex_token *t);

#endif /* QUY_PARSE_H */
