/*
 * qbc_edit — edits fields of a compiled ruleset (.qbc) and fixes its
 * checksum, to craft files that the verifier must reject.
 *
 *   qbc_edit IN OUT [TABLE[INDEX].FIELD=VALUE ...]
 *
 * TABLE and FIELD are the names of program_tables.h (code[17].b=18,
 * kinds[3].first_check=18, fields[3].deflt=4, code[4].op=18,
 * code[4].code_pos=0, layers[0].value=1,
 * consts[2].value.n=5, quotas[0].share.d=0); VALUE is a number or `none`
 * (QUY_NONE). The layout is walked with the same table lists the reader is
 * generated from, without verifying anything, so any value can be written.
 * With no edit, it only reseals (recomputes the checksum).
 *
 * Two edits cut a table short, resealed (payload length and checksum
 * fixed, so the reader and the verifier see the cut, not the seal):
 *   cut:TABLE   the payload ends halfway through TABLE's records (its
 *               count still announces them all);
 *   drop:TABLE  TABLE keeps its first half (count halved, the rest of its
 *               records removed): what refers past it now points nowhere.
 *   qbc_edit --tables IN   lists the tables with their counts.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "program.h"

#define HEADER 20u

static uint64_t get(const uint8_t *p, unsigned w)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < w; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void put(uint8_t *p, unsigned w, uint64_t v)
{
    for (unsigned i = 0; i < w; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* Widths in the file; VAL and KVAL are two i64, edited as `.n` and `.d`. */
#define W_U8 1
#define W_U16 2
#define W_U32 4
#define W_VAL 16
#define W_KVAL 16

typedef struct field_at {
    const char *name;
    unsigned off, width;
} field_at;

typedef struct table_at {
    const char *name;
    size_t count_at; /* offset of its u32 count */
    unsigned rec;    /* record size */
    field_at f[16];
    unsigned nf;
} table_at;

static table_at tabs[64];
static unsigned ntabs;

#define ADD_F(w, nm, chk, arg) t->f[t->nf++] = (field_at){#nm, rec, W_##w}, rec += W_##w;
#define ADD_S(w, chk, arg) t->f[t->nf++] = (field_at){"value", rec, W_##w}, rec += W_##w;
#define ADD_P(w, arr2, chk, arg) t->f[t->nf++] = (field_at){#arr2, rec, W_##w}, rec += W_##w;
#define ADD_T(arr, n, elem, sect, FIELDS, extra, one)                                              \
    {                                                                                              \
        table_at *t = &tabs[ntabs++];                                                              \
        unsigned rec = 0;                                                                          \
        t->name = #arr;                                                                            \
        FIELDS(ADD_F, ADD_S, ADD_P)                                                                \
        t->rec = rec;                                                                              \
    }
#define NONE_(...)

__attribute__((format(printf, 1, 2))) static int fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "qbc_edit: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

static table_at *table_named(const char *name)
{
    for (unsigned t = 0; t < ntabs; t++)
        if (strcmp(tabs[t].name, name) == 0) return &tabs[t];
    return NULL;
}

/* cut:TABLE or drop:TABLE on buf[0..*len) (the checksum excluded from
 * *len): moves bytes, fixes the payload length. */
static int shorten(uint8_t *buf, size_t *len, const char *spec)
{
    bool cut = strncmp(spec, "cut:", 4) == 0;
    table_at *t = table_named(spec + (cut ? 4 : 5));
    if (!t) return fail("'%s': no such table", spec);
    uint32_t n = (uint32_t)get(buf + t->count_at, 4);
    size_t recs = t->count_at + 4, keep = recs + (size_t)(n / 2) * t->rec;
    if (cut) {
        if (n == 0) return fail("'%s': the table is empty, nothing to cut", spec);
        *len = keep + (t->rec > 1 && n % 2 ? t->rec / 2 : 0);
    } else {
        size_t gone = (size_t)(n - n / 2) * t->rec;
        memmove(buf + keep, buf + keep + gone, *len - keep - gone);
        *len -= gone;
        put(buf + t->count_at, 4, n / 2);
    }
    put(buf + 12, 8, *len - HEADER);
    return 0;
}

static int edit(uint8_t *buf, const char *spec)
{
    char tname[64], fname[64], val[64];
    unsigned idx;
    if (sscanf(spec, "%63[a-z_][%u].%63[a-z_.]=%63s", tname, &idx, fname, val) != 4)
        return fail("bad edit '%s' (write TABLE[INDEX].FIELD=VALUE)", spec);
    for (unsigned t = 0; t < ntabs; t++) {
        if (strcmp(tabs[t].name, tname) != 0) continue;
        uint32_t n = (uint32_t)get(buf + tabs[t].count_at, 4);
        if (idx >= n) return fail("'%s': index out of range", spec);
        char *dot = strchr(fname, '.'); /* a value's .n or .d */
        unsigned extra = dot && strcmp(dot + 1, "d") == 0 ? 8 : 0;
        if (dot) *dot = 0;
        for (unsigned f = 0; f < tabs[t].nf; f++) {
            const field_at *fa = &tabs[t].f[f];
            if (strcmp(fa->name, fname) != 0) continue;
            uint64_t v = strcmp(val, "none") == 0 ? UINT32_MAX : (uint64_t)strtoll(val, NULL, 0);
            unsigned w = fa->width == 16 ? 8 : fa->width;
            put(buf + tabs[t].count_at + 4 + (size_t)idx * tabs[t].rec + fa->off + extra, w, v);
            return 0;
        }
        return fail("'%s': no such field", spec);
    }
    return fail("'%s': no such table", spec);
}

int main(int argc, char **argv)
{
    bool list = argc == 3 && strcmp(argv[1], "--tables") == 0;
    if (argc < 3) {
        fprintf(stderr, "usage: qbc_edit IN OUT [TABLE[INDEX].FIELD=VALUE | cut:TABLE | drop:TABLE ...]\n"
                        "       qbc_edit --tables IN\n");
        return 2;
    }
    QUY_PROGRAM_TABLES(ADD_T, ADD_T, NONE_)
    const char *in = list ? argv[2] : argv[1];
    FILE *f = fopen(in, "rb");
    if (!f) return fail("cannot open %s", in);
    static uint8_t buf[1 << 24];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    if (len == sizeof buf) return fail("%s: larger than %zu bytes", in, sizeof buf);
    if (len < HEADER + 8 || memcmp(buf, QUY_BC_MAGIC, 4) != 0) return fail("%s: not a .qbc file", in);
    size_t end = len - 8, pos = HEADER + 4 * 4; /* the head: name, version, title, source */
    for (unsigned t = 0; t < ntabs; t++) {
        if (pos + 4 > end) return fail("%s: truncated", argv[1]);
        tabs[t].count_at = pos;
        pos += 4 + (size_t)get(buf + pos, 4) * tabs[t].rec;
    }
    if (pos + 4 != end) return fail("%s: the tables do not end where the payload does", in);
    if (list) {
        for (unsigned t = 0; t < ntabs; t++) printf("%s %u\n", tabs[t].name, (unsigned)get(buf + tabs[t].count_at, 4));
        return 0;
    }
    for (int i = 3; i < argc; i++) {
        bool sh = strncmp(argv[i], "cut:", 4) == 0 || strncmp(argv[i], "drop:", 5) == 0;
        if (sh && i != argc - 1) return fail("'%s' must be the last edit", argv[i]);
        if (sh ? shorten(buf, &end, argv[i]) : edit(buf, argv[i])) return 1;
    }
    put(buf + end, 8, bc_checksum(buf, end));
    len = end + 8;
    f = fopen(argv[2], "wb");
    if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0) return fail("cannot write %s", argv[2]);
    return 0;
}
