/*
 * program.c — helpers over a compiled program (program.h): freeing it,
 * looking kinds, fields and members up by name, turning a source position
 * into file:line:col, and the name tables for types and outcomes.
 */
#include "program.h"

#include <stdlib.h>
#include <string.h>

#include "srcpos.h"


const char *const q_type_kind_name[QT__COUNT] = {
#define T_WORD(name, word, vi) word,
    QUY_TYPE_KINDS(T_WORD)
#undef T_WORD
};

const char *const q_type_kind_name_vi[QT__COUNT] = {
#define T_VI(name, word, vi) vi,
    QUY_TYPE_KINDS(T_VI)
#undef T_VI
};

const char *const q_outcome_code[QO__COUNT] = {
    [QO_KHTNV] = "khtnv",         [QO_HTNV] = "htnv",           [QO_HTTNV] = "httnv",
    [QO_HTXSNV] = "htxsnv",       [QO_NOT_RATED] = "not_rated", [QO_DEFERRED] = "deferred",
};

const char *const q_outcome_label[QO__COUNT] = {
    [QO_KHTNV] = "Không hoàn thành nhiệm vụ",
    [QO_HTNV] = "Hoàn thành nhiệm vụ",
    [QO_HTTNV] = "Hoàn thành tốt nhiệm vụ",
    [QO_HTXSNV] = "Hoàn thành xuất sắc nhiệm vụ",
    [QO_NOT_RATED] = "Không xếp loại",
    [QO_DEFERRED] = "Hoãn xếp loại",
};

/* Releases every array the program owns and then the program itself
 * (programs are heap-allocated: bc_read and the code generator return
 * them from malloc). NULL is a no-op. */
void prog_free(q_program *p)
{
    if (!p) return;
#define FREE_TABLE(arr, ...) free(p->arr);
    QUY_PROGRAM_TABLES(FREE_TABLE, FREE_TABLE, FREE_TABLE)
#undef FREE_TABLE
    free(p);
}

static bool str_is(const q_program *p, uint32_t id, const char *name, size_t len)
{
    const char *s = prog_str(p, id);
    return strlen(s) == len && memcmp(s, name, len) == 0;
}

uint32_t prog_find_kind(const q_program *p, const char *name, size_t len)
{
    for (uint32_t k = 0; k < p->nkinds; k++)
        if (str_is(p, p->kinds[k].name, name, len)) return k;
    return QUY_NONE;
}

uint32_t prog_find_field(const q_program *p, uint32_t k, const char *name, size_t len)
{
    if (k >= p->nkinds) return QUY_NONE;
    const q_kind *kd = &p->kinds[k];
    for (uint32_t i = 0; i < kd->nfields; i++) {
        uint32_t f = kd->first_field + i;
        if (f >= p->nfields) break;
        if (str_is(p, p->fields[f].name, name, len)) return f;
    }
    return QUY_NONE;
}

int prog_find_member(const q_program *p, uint32_t t, const char *name, size_t len)
{
    if (t >= p->ntypes) return -1;
    const q_type *ty = &p->types[t];
    if (ty->kind != QT_ENUM && ty->kind != QT_SCALE) return -1;
    for (uint32_t i = 0; i < ty->count; i++) {
        uint32_t m = ty->first + i;
        if (m >= p->nmembers) break;
        if (str_is(p, p->members[m].name, name, len)) return (int)i;
    }
    return -1;
}

/* Positions are byte offsets; the line and column (in characters,
 * srcpos.h) are found by scanning the source text, only when something is
 * reported. */
bool prog_locate(const q_program *p, uint32_t pos, const char **file, uint32_t *line, uint32_t *col,
                 const char **line_start, uint32_t *line_len)
{
    uint32_t fi = QUY_POS_FILE(pos), off = QUY_POS_OFF(pos);
    if (pos == QUY_NONE || fi >= p->nsources) return false;
    const char *text = prog_str(p, p->sources[fi].text);
    size_t tlen = strlen(text);
    if (off > tlen) return false;
    uint32_t ln, cn;
    srcpos_linecol(text, off, &ln, &cn);
    const char *ls = text + off;
    while (ls > text && ls[-1] != '\n') ls--;
    const char *le = ls;
    while (*le && *le != '\n') le++;
    if (le > ls && le[-1] == '\r') le--;
    if (file) *file = prog_str(p, p->sources[fi].name);
    if (line) *line = ln;
    if (col) *col = cn;
    if (line_start) *line_start = ls;
    if (line_len) *line_len = (uint32_t)(le - ls);
    return true;
}

bool prog_render_at(const q_program *p, uint32_t pos, const char *msg, size_t msglen, strbuf *out)
{
    uint32_t fi = QUY_POS_FILE(pos), off = QUY_POS_OFF(pos);
    if (pos == QUY_NONE || fi >= p->nsources) return false;
    const char *text = prog_str(p, p->sources[fi].text);
    if (off > strlen(text)) return false;
    srcpos_render(out, prog_str(p, p->sources[fi].name), text, off, off, "error", NULL, msg, msglen);
    return true;
}
