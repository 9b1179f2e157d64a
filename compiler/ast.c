/*
 * ast.c — the AST arena and the node-kind name table.
 *
 * Ownership: every node and string of one compilation lives in its arena;
 * ast_arena_free releases them all at once. Nothing is freed node by node.
 */
#include "ast.h"

#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Node kind names, generated from the one list in ast.h: "E_INT", ... */
const char *const ast_kind_name[AST__COUNT] = {
#define AST_NAME(name, doc) #name,
    QUY_AST_KINDS(AST_NAME)
#undef AST_NAME
};

/* =====================================================================
 * Out of memory: the catches of this thread (ast.h)
 * =================================================================== */

static _Thread_local ast_catch *catch_top;
static _Thread_local const char *bail_why;

void ast_catch_push(ast_catch *c)
{
    c->prev = catch_top;
    catch_top = c;
}

const char *ast_bail_why(void) { return bail_why ? bail_why : "out of memory"; }

void ast_catch_pop(ast_catch *c) { catch_top = c->prev; }

_Noreturn void ast_bail(const char *why)
{
    ast_catch *c = catch_top;
    bail_why = why;
    if (c) {
        catch_top = c->prev;
        longjmp(c->jb, 1);
    }
    /* Unreachable from the library: every entry point into the parser and
     * the checker (parse_file, sema_run) sets a catch. */
    fprintf(stderr, "quy: %s outside a compilation\n", why);
    abort();
}

void *ast_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) ast_bail("out of memory");
    return p;
}

void *ast_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) ast_bail("out of memory");
    return p;
}

void *ast_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) ast_bail("out of memory");
    return q;
}

char *ast_xstrdup(const char *s)
{
    char *d = strdup(s);
    if (!d) ast_bail("out of memory");
    return d;
}

/* =====================================================================
 * Arena: a list of chunks, bump-allocated
 * =================================================================== */

enum { ARENA_CHUNK = 64 * 1024 };

typedef struct arena_chunk arena_chunk;
struct arena_chunk {
    arena_chunk *prev; /* chunk allocated before this one */
    size_t size;       /* usable bytes in data */
    size_t used;       /* bytes handed out */
    alignas(max_align_t) unsigned char data[];
};

struct ast_arena {
    arena_chunk *head; /* newest chunk, the one allocated from */
};

ast_arena *ast_arena_new(void) { return calloc(1, sizeof(ast_arena)); }

void ast_arena_free(ast_arena *a)
{
    if (!a) return;
    arena_chunk *c = a->head;
    while (c) {
        arena_chunk *prev = c->prev;
        free(c);
        c = prev;
    }
    free(a);
}

void *ast_alloc(ast_arena *a, size_t size)
{
    const size_t align = alignof(max_align_t);
    size = (size + align - 1) & ~(align - 1);
    if (size == 0) size = align;
    arena_chunk *c = a->head;
    if (!c || c->size - c->used < size) {
        size_t cap = size > ARENA_CHUNK ? size : ARENA_CHUNK;
        c = ast_xmalloc(sizeof *c + cap);
        c->prev = a->head;
        c->size = cap;
        c->used = 0;
        a->head = c;
    }
    void *p = c->data + c->used;
    c->used += size;
    memset(p, 0, size);
    return p;
}

ast_str ast_strdup(ast_arena *a, const char *s, size_t len)
{
    char *p = ast_alloc(a, len + 1);
    if (len) memcpy(p, s, len);
    p[len] = '\0';
    ast_str r = {p, (uint32_t)len};
    return r;
}

ast_node *ast_new(ast_arena *a, ast_kind kind, q_span span)
{
    ast_node *n = ast_alloc(a, sizeof *n);
    n->kind = kind;
    n->span = span;
    return n;
}

