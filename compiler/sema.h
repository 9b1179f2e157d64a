/*
 * sema.h — internal interface between the driver (compiler.c), the checker
 * (sema.c) and the code generator (cg.c). Not part of the public API.
 */
#ifndef QUY_SEMA_H
#define QUY_SEMA_H

#include "../runtime/program.h"
#include "ast.h"
#include "diag.h"
#include "strset.h"

/* A loaded source file of the chain (root first). */
typedef struct sema_file {
    char *path;     /* owned */
    char *src;      /* owned, NUL-terminated */
    size_t len;
    ast_file ast;
    const char *layer; /* the ruleset name declared in its header */
    const char *const *hook_dirs; /* shared folders for hook files (the search path; not owned) */
    size_t nhook_dirs;
} sema_file;

/* How an E_NAME resolved (ast_node.sem.res). */
typedef enum sema_res {
    RES_NONE,
    RES_FIELD,   /* record field: ref = slot */
    RES_MEMBER,  /* enum/scale member: ref = ordinal */
    RES_IT,      /* the element of the quantifier at depth */
    RES_SFIELD,  /* field `ref` of the struct element at depth */
    RES_LET,     /* let number ref */
    RES_HOOK,    /* an E_CALL of hook number ref */
    RES_OUTCOME, /* `tier` in an `adjust ... tier` step: the outcome decided */
} sema_res;

/* Growable program under construction (cg.c): a capacity per table of
 * QUY_PROGRAM_TABLES, and per table `cg_add_ARR(b, k)` (append k zeroed
 * elements, return the first) and its one-element form `cg_ONE(b)`. */
typedef struct cg_builder {
    q_program *p;
    strset strs;   /* interned strings -> string id */
    strset consts; /* constants (type, n, d as bytes; a string's n is its pool offset) -> index */
#define CG_CAP(arr, ...) size_t cap_##arr;
    QUY_PROGRAM_TABLES(CG_CAP, CG_CAP, CG_CAP)
#undef CG_CAP
} cg_builder;
#define CG_ADD_DECL(arr, n, elem, sect, FIELDS, extra, one) \
    elem *cg_add_##arr(cg_builder *b, uint32_t k);          \
    elem *cg_##one(cg_builder *b);
QUY_PROGRAM_TABLES(CG_ADD_DECL, CG_ADD_DECL, QT_NOFIELD_)
#undef CG_ADD_DECL

void cg_init(cg_builder *b);
uint32_t cg_str(cg_builder *b, const char *s, size_t len);   /* interned string id */
uint32_t cg_cstr(cg_builder *b, const char *s);
uint32_t cg_const(cg_builder *b, q_val v, uint8_t type_kind); /* deduplicated; not a string */
uint32_t cg_kstr(cg_builder *b, const char *s, size_t len);   /* a string constant (interned), deduplicated */
uint32_t cg_emit(cg_builder *b, uint8_t op, uint16_t a, uint32_t bb, uint8_t c, uint32_t pos);
void cg_patch(cg_builder *b, uint32_t at, uint32_t target); /* sets operand b */
uint32_t cg_here(const cg_builder *b);
uint32_t cg_type(cg_builder *b, q_type t);        /* append a type */
uint32_t cg_list_type(cg_builder *b, uint32_t elem); /* find or add `list of elem` */
void cg_read(cg_builder *b, uint16_t slot);
uint32_t cg_source(cg_builder *b, const char *name, const char *text, size_t len);
void cg_layer(cg_builder *b, uint32_t name);
/* Hand the finished program over (arrays shrunk to fit). */
q_program *cg_finish(cg_builder *b);
void cg_abandon(cg_builder *b);

/* Check and lower the flattened chain. Returns NULL on error. */
q_program *sema_run(sema_file *files, size_t nfiles, diag_list *d);

#endif /* QUY_SEMA_H */
