/*
 * cg.c — the program builder (prefix cg_): growable tables that become a
 * q_program. The checker (sema.c) decides what to emit; this file only
 * stores it, interning strings and constants.
 */
#include <stdlib.h>
#include <string.h>

#include "sema.h"

static void *cg_grow(void *ptr, uint32_t *cap, uint32_t need, size_t elem)
{
    if (need <= *cap) return ptr;
    uint32_t nc = *cap ? *cap : 16;
    while (nc < need) nc *= 2;
    void *np = realloc(ptr, (size_t)nc * elem);
    if (!np) abort(); /* compile-time data: out of memory is fatal */
    memset((char *)np + (size_t)*cap * elem, 0, (size_t)(nc - *cap) * elem);
    *cap = nc;
    return np;
}

#define GROW(arr, cap, n) ((arr) = cg_grow((arr), &(cap), (n), sizeof *(arr)))

void cg_init(cg_builder *b)
{
    memset(b, 0, sizeof *b);
    b->p = calloc(1, sizeof *b->p);
    if (!b->p) abort();
    cg_str(b, "", 0); /* id 0 = "" */
}

uint32_t cg_str(cg_builder *b, const char *s, size_t len)
{
    q_program *p = b->p;
    for (uint32_t i = 0; i < p->nstr; i++) {
        const char *t = p->blob + p->str_off[i];
        if (strlen(t) == len && memcmp(t, s, len) == 0) return i;
    }
    GROW(p->str_off, b->cap_str, p->nstr + 1);
    GROW(p->blob, b->cap_blob, p->blob_len + (uint32_t)len + 1);
    p->str_off[p->nstr] = p->blob_len;
    if (len) memcpy(p->blob + p->blob_len, s, len);
    p->blob[p->blob_len + len] = 0;
    p->blob_len += (uint32_t)len + 1;
    return p->nstr++;
}

uint32_t cg_cstr(cg_builder *b, const char *s) { return cg_str(b, s, strlen(s)); }

/* String constants are stored as blob offsets while building (the blob
 * moves as it grows) and turned into pointers by cg_finish(). */
uint32_t cg_const(cg_builder *b, q_val v, uint8_t type_kind)
{
    q_program *p = b->p;
    for (uint32_t i = 0; i < p->nconsts; i++)
        if (p->const_type[i] == type_kind && p->consts[i].n == v.n && p->consts[i].d == v.d) return i;
    uint32_t cap = b->cap_consts;
    GROW(p->consts, cap, p->nconsts + 1);
    GROW(p->const_type, b->cap_consts, p->nconsts + 1);
    p->consts[p->nconsts] = v;
    p->const_type[p->nconsts] = type_kind;
    return p->nconsts++;
}

uint32_t cg_emit(cg_builder *b, uint8_t op, uint16_t a, uint32_t bb, uint8_t c, uint32_t pos)
{
    q_program *p = b->p;
    uint32_t cap = b->cap_code;
    GROW(p->code, cap, p->ncode + 1);
    GROW(p->code_pos, b->cap_code, p->ncode + 1);
    q_instr *i = &p->code[p->ncode];
    i->op = op;
    i->a = a;
    i->b = bb;
    i->c = c;
    p->code_pos[p->ncode] = pos;
    return p->ncode++;
}

void cg_patch(cg_builder *b, uint32_t at, uint32_t target) { b->p->code[at].b = target; }
uint32_t cg_here(const cg_builder *b) { return b->p->ncode; }

uint32_t cg_type(cg_builder *b, q_type t)
{
    q_program *p = b->p;
    GROW(p->types, b->cap_types, p->ntypes + 1);
    p->types[p->ntypes] = t;
    return p->ntypes++;
}

uint32_t cg_list_type(cg_builder *b, uint32_t elem)
{
    q_program *p = b->p;
    for (uint32_t i = 0; i < p->ntypes; i++)
        if (p->types[i].kind == QT_LIST && p->types[i].elem == elem) return i;
    q_type t = {.kind = QT_LIST, .elem = elem};
    return cg_type(b, t);
}

#define CG_APPEND(fn, type, arr, n, cap)            \
    type *fn(cg_builder *b)                         \
    {                                               \
        q_program *p = b->p;                        \
        GROW(p->arr, b->cap, p->n + 1);             \
        memset(&p->arr[p->n], 0, sizeof p->arr[0]); \
        return &p->arr[p->n++];                     \
    }
CG_APPEND(cg_field, q_field, fields, nfields, cap_fields)
CG_APPEND(cg_member, q_member, members, nmembers, cap_members)
CG_APPEND(cg_kind, q_kind, kinds, nkinds, cap_kinds)
CG_APPEND(cg_rule, q_rule, rules, nrules, cap_rules)
CG_APPEND(cg_clause, q_clause, clauses, nclauses, cap_clauses)
CG_APPEND(cg_flag, q_flagdef, flags, nflagdefs, cap_flags)
CG_APPEND(cg_check, q_check, checks, nchecks, cap_checks)
CG_APPEND(cg_quota, q_quota, quotas, nquotas, cap_quotas)
CG_APPEND(cg_qkey, q_qkey, qkeys, nqkeys, cap_qkeys)
CG_APPEND(cg_cap, q_cap, caps, ncaps, cap_caps)
CG_APPEND(cg_bexpr, q_bexpr, bexprs, nbexprs, cap_bexprs)
CG_APPEND(cg_hook, q_hook, hooks, nhooks, cap_hooks)
CG_APPEND(cg_param, q_param, params, nparams, cap_params)
CG_APPEND(cg_adjust, q_adjust, adjusts, nadjusts, cap_adjusts)

void cg_read(cg_builder *b, uint16_t slot)
{
    q_program *p = b->p;
    GROW(p->reads, b->cap_reads, p->nreads + 1);
    p->reads[p->nreads++] = slot;
}

uint32_t cg_source(cg_builder *b, const char *name, const char *text, size_t len)
{
    q_program *p = b->p;
    GROW(p->sources, b->cap_sources, p->nsources + 1);
    p->sources[p->nsources].name = cg_cstr(b, name);
    p->sources[p->nsources].text = cg_str(b, text, len);
    return p->nsources++;
}

void cg_layer(cg_builder *b, uint32_t name)
{
    q_program *p = b->p;
    GROW(p->layers, b->cap_layers, p->nlayers + 1);
    p->layers[p->nlayers++] = name;
}

q_program *cg_finish(cg_builder *b)
{
    q_program *p = b->p;
    for (uint32_t i = 0; i < p->nconsts; i++)
        if (p->const_type[i] == QT_STRING) p->consts[i].n = (int64_t)(intptr_t)(p->blob + p->consts[i].n);
    b->p = NULL;
    return p;
}

void cg_abandon(cg_builder *b)
{
    if (b->p) prog_free(b->p);
    b->p = NULL;
}
