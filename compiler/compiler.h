/*
 * compiler.h — from ruleset source to a verified q_program.
 *
 *   compiler *c = compiler_new(search, nsearch);
 *   q_program *p = compiler_compile(c, "central-124");   // a name or a path
 *   diag_print(compiler_diags(c), stderr, isatty(2));
 *   compiler_free(c);                                     // p stays valid
 *
 * A name is looked up as DIR/NAME/NAME.quy, then DIR/NAME.quy, in each
 * search directory in order. `extends` chains are loaded the same way,
 * root first, and flattened into one program (sema.c); a cycle is an error.
 * The diagnostics point into the sources the compiler holds, so print them
 * before compiler_free().
 */
#ifndef QUY_COMPILER_H
#define QUY_COMPILER_H

#include <stdbool.h>
#include <stddef.h>

#include "../runtime/program.h"
#include "diag.h"

typedef struct compiler compiler;

compiler *compiler_new(const char *const *search, size_t nsearch);

/* The whole file at `path`, NUL-terminated (malloc'd; *len bytes before
 * the NUL), for a ruleset and a hook's Lua file. NULL with *err an errno
 * value: fopen's, EIO, ENOMEM, or EFBIG past `max` bytes (0: no limit). */
char *compiler_read_file(const char *path, size_t max, size_t *len, int *err);
void compiler_free(compiler *c);

/* Compile and verify. NULL if any error was reported (warnings don't
 * count). The caller owns the program (prog_free). */
q_program *compiler_compile(compiler *c, const char *name_or_path);

/* The same for source text held in memory, named `path` in diagnostics
 * (its `extends` parent is found through the search path). */
q_program *compiler_compile_source(compiler *c, const char *path, const char *src, size_t len);

diag_list *compiler_diags(compiler *c);

/* Insert the specialised instructions (compiler/cg_opt.c; on by default).
 * Off, the program is the generic code alone: rated the same, explained
 * the same, only slower (tests compare the two). */
void compiler_set_specialise(compiler *c, bool on);

/* Resolve a ruleset name to a readable file path (malloc'd) or NULL. A
 * string containing '/' or ending in ".quy" is taken as a path. */
char *compiler_resolve(const compiler *c, const char *name_or_path);
/* The ruleset in the search path (DIR/NAME/NAME.quy) whose name is closest
 * to `name`, for "did you mean"; NULL if none is close. Caller frees. */
char *compiler_suggest_ruleset(const compiler *c, const char *name);

#endif /* QUY_COMPILER_H */
