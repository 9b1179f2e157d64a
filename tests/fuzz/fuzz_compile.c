/*
 * fuzz_compile — libFuzzer harness: the compiler (lexer, parser, checker,
 * code generator) on source text, in memory. A program the compiler
 * produces must verify and survive a write/read round trip; anything else
 * (a crash, a leak, undefined behaviour, an unverifiable program) is a
 * finding. `extends` is not followed (no files are read).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"
#include "diag.h"
#include "parse.h"
#include "sema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16) return 0;
    char *src = malloc(size + 1);
    if (!src) return 0;
    memcpy(src, data, size);
    src[size] = 0;
    ast_arena *arena = ast_arena_new();
    diag_list d;
    diag_init(&d);
    sema_file f = {.path = strdup("fuzz.quy"), .src = src, .len = size};
    parse_file(arena, &d, f.path, f.src, f.len, &f.ast);
    f.layer = f.ast.header && f.ast.header->u.ruleset.name.len ? f.ast.header->u.ruleset.name.s : "fuzz";
    if (d.nerrors == 0 && !(f.ast.header && f.ast.header->u.ruleset.parent.len)) {
        q_program *p = sema_run(&f, 1, &d);
        if (p) {
            char why[512];
            if (!bc_verify(p, why, sizeof why)) abort(); /* the compiler wrote an invalid program */
            uint8_t *buf;
            size_t len;
            if (!bc_write(p, &buf, &len)) abort();
            q_program *q = bc_read(buf, len, why, sizeof why);
            if (!q) abort(); /* its own file does not read back */
            prog_free(q);
            free(buf);
            prog_free(p);
        }
    }
    diag_free(&d);
    ast_arena_free(arena);
    free(f.path);
    free(src);
    return 0;
}
