/*
 * cg.c — the program builder (prefix cg_): growable tables that become a
 * q_program. The checker (sema.c) decides what to emit; this file only
 * stores it, interning strings and constants.
 */
#include <stdlib.h>
#include <string.h>

#include "sema.h"
#include "vec.h"

/* Room for `need` elements, the new ones zeroed (runtime/vec.h); out of
 * memory, or a table past its u32 count, jumps to sema_run's catch. */
static void cg_grow(void **arr, size_t *cap, uint64_t need, size_t elem)
{
    if (need <= *cap) return;
    if (need > UINT32_MAX - 1) ast_bail("a table of the compiled program would hold more than 4294967294 entries");
    size_t old = *cap;
    if (vec_reserve_(arr, cap, (size_t)need, elem) != 0) ast_bail("out of memory");
    memset((char *)*arr + old * elem, 0, (*cap - old) * elem);
}

#define GROW(arr, cap, n) cg_grow((void **)&(arr), &(cap), (n), sizeof *(arr))

/* cg_add_ARR for every table of QUY_PROGRAM_TABLES: k more zeroed elements
 * in the table and its parallel arrays (grown memory is zeroed; `extra`
 * elements past the end stay zero, e.g. the pool's NUL). */
#define CG_NOP(...)
#define CG_GROW_P(w, arr2, chk, arg) GROW(p->arr2, b->cap_##arr2, need);
#define CG_ADD(arr, n, elem, sect, FIELDS, extra, one)                 \
    elem *cg_add_##arr(cg_builder *b, uint32_t k)                      \
    {                                                                  \
        q_program *p = b->p;                                           \
        uint64_t need = (uint64_t)p->n + k + (extra);                  \
        GROW(p->arr, b->cap_##arr, need);                              \
        FIELDS(CG_NOP, CG_NOP, CG_GROW_P)                              \
        p->n += k;                                                     \
        return &p->arr[p->n - k];                                      \
    }                                                                  \
    elem *cg_##one(cg_builder *b) { return cg_add_##arr(b, 1); }
QUY_PROGRAM_TABLES(CG_ADD, CG_ADD, CG_NOP)
#undef CG_ADD

void cg_init(cg_builder *b)
{
    memset(b, 0, sizeof *b);
    b->p = ast_xcalloc(1, sizeof *b->p);
    cg_str(b, "", 0); /* id 0 = "" */
}

uint32_t cg_str(cg_builder *b, const char *s, size_t len)
{
    q_program *p = b->p;
    uint32_t *id = strset_get(&b->strs, s, len);
    if (id) return *id;
    if (strset_add(&b->strs, s, len, p->nstr, NULL) < 0) ast_bail("out of memory");
    *cg_new_str_off(b) = p->blob_len;
    char *d = cg_add_blob(b, (uint32_t)len + 1);
    if (len) memcpy(d, s, len);
    d[len] = 0;
    return p->nstr - 1;
}

uint32_t cg_cstr(cg_builder *b, const char *s) { return cg_str(b, s, strlen(s)); }

uint32_t cg_const(cg_builder *b, q_val v, uint8_t type_kind)
{
    q_program *p = b->p;
    char key[17]; /* type, n, d: the constant's identity */
    key[0] = (char)type_kind;
    memcpy(key + 1, &v.n, 8);
    memcpy(key + 9, &v.d, 8);
    uint32_t old;
    int added = strset_add(&b->consts, key, sizeof key, p->nconsts, &old);
    if (added < 0) ast_bail("out of memory");
    if (added == 0) return old;
    *cg_new_const(b) = v;
    p->const_type[p->nconsts - 1] = type_kind;
    return p->nconsts - 1;
}

/* A string constant is stored as (blob offset, length) while building, as
 * in a .qbc file (the blob moves as it grows); cg_finish() makes it a
 * pointer (prog_kstr). */
uint32_t cg_kstr(cg_builder *b, const char *s, size_t len)
{
    uint32_t id = cg_str(b, s, len);
    return cg_const(b, (q_val){(int64_t)b->p->str_off[id], (int64_t)len}, QT_STRING);
}

uint32_t cg_emit(cg_builder *b, uint8_t op, uint16_t a, uint32_t bb, uint8_t c, uint32_t pos)
{
    q_program *p = b->p;
    q_instr *i = cg_new_instr(b);
    i->op = op;
    i->a = a;
    i->b = bb;
    i->c = c;
    p->code_pos[p->ncode - 1] = pos;
    return p->ncode - 1;
}

void cg_patch(cg_builder *b, uint32_t at, uint32_t target) { b->p->code[at].b = target; }
uint32_t cg_here(const cg_builder *b) { return b->p->ncode; }

uint32_t cg_type(cg_builder *b, q_type t)
{
    *cg_new_type(b) = t;
    return b->p->ntypes - 1;
}

uint32_t cg_list_type(cg_builder *b, uint32_t elem)
{
    q_program *p = b->p;
    for (uint32_t i = 0; i < p->ntypes; i++)
        if (p->types[i].kind == QT_LIST && p->types[i].elem == elem) return i;
    q_type t = {.kind = QT_LIST, .elem = elem};
    return cg_type(b, t);
}

void cg_read(cg_builder *b, uint16_t slot)
{
    *cg_new_read(b) = slot;
}

uint32_t cg_source(cg_builder *b, const char *name, const char *text, size_t len)
{
    uint32_t nm = cg_cstr(b, name), tx = cg_str(b, text, len);
    q_source *s = cg_new_source(b);
    s->name = nm;
    s->text = tx;
    return b->p->nsources - 1;
}

void cg_layer(cg_builder *b, uint32_t name)
{
    *cg_new_layer(b) = name;
}

q_program *cg_finish(cg_builder *b)
{
    q_program *p = b->p;
    for (uint32_t i = 0; i < p->nconsts; i++)
        if (p->const_type[i] == QT_STRING)
            p->consts[i] = prog_kstr(p, (uint64_t)p->consts[i].n, (uint64_t)p->consts[i].d);
    b->p = NULL;
    strset_free(&b->strs);
    strset_free(&b->consts);
    return p;
}

void cg_abandon(cg_builder *b)
{
    if (b->p) prog_free(b->p);
    b->p = NULL;
    strset_free(&b->strs);
    strset_free(&b->consts);
}
