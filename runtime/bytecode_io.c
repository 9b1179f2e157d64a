/*
 * bytecode_io.c — the bytecode file: bc_write, bc_read, bc_read_file. The
 * verifier (bc_verify) is in bytecode_verify.c. The format is described in
 * docs/bytecode.md; in short:
 *
 *   offset  size  field
 *   0       4     magic "QUYB"
 *   4       4     u32 format version (QUY_BC_VERSION)
 *   8       4     u32 flags (reserved, must be 0)
 *   12      8     u64 payload length P
 *   20      P     payload: every table of q_program, field by field
 *   20+P    8     u64 XXH3-64 of bytes [0, 20+P)
 *
 * All integers are little-endian with explicit widths; no struct is ever
 * written as memory. bc_read trusts nothing: every read is bounds-checked,
 * every count is capped by the bytes that remain before anything is
 * allocated, and the program is verified before it is returned.
 *
 * The payload is generated from the table lists of program_tables.h: the
 * head scalars, every table (a u32 count, then each element's fields in
 * list order), the tail scalars. Nothing here names a table.
 */
#include "program.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define BC_HEADER_SIZE 20u
#define BC_TRAILER_SIZE 8u

/* =====================================================================
 * Checksum
 *
 * XXH3-64 (libxxhash, the hash of runtime/strset.c). It guards against
 * damage, not against tampering.
 * =================================================================== */

uint64_t bc_checksum(const uint8_t *buf, size_t n) { return XXH3_64bits(buf, n); }

/* =====================================================================
 * Writing
 * =================================================================== */

typedef struct wbuf {
    uint8_t *p;
    size_t len, cap;
    bool oom;
    bool bad; /* a string constant outside the pool: cannot be stored */
} wbuf;

static void w_bytes(wbuf *w, const void *src, size_t n)
{
    if (w->oom) return;
    if (w->cap - w->len < n) {
        size_t cap = w->cap ? w->cap : 4096;
        while (cap - w->len < n) cap *= 2;
        uint8_t *np = realloc(w->p, cap);
        if (!np) {
            w->oom = true;
            return;
        }
        w->p = np;
        w->cap = cap;
    }
    if (n) memcpy(w->p + w->len, src, n);
    w->len += n;
}

static void w_u8(wbuf *w, uint8_t v) { w_bytes(w, &v, 1); }

static void w_u16(wbuf *w, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    w_bytes(w, b, 2);
}

static void w_u32(wbuf *w, uint32_t v)
{
    uint8_t b[4];
    for (int i = 0; i < 4; i++) b[i] = (uint8_t)(v >> (8 * i));
    w_bytes(w, b, 4);
}

static void w_u64(wbuf *w, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (8 * i));
    w_bytes(w, b, 8);
}

static void w_i64(wbuf *w, int64_t v) { w_u64(w, (uint64_t)v); }

static void put_u64_at(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* Widths of the field lists: bytes in the file. */
#define SZW_U8 1
#define SZW_U16 2
#define SZW_U32 4
#define SZW_VAL 16
#define SZW_KVAL 16
#define SZ_FIELD_(w, ...) +SZW_##w

/* Record sizes in the payload, used by the reader to cap counts. */
enum {
#define SZ_ROW(arr, n, elem, sect, FIELDS, extra, one) SZ_##arr = 0 FIELDS(SZ_FIELD_, SZ_FIELD_, SZ_FIELD_),
    QUY_PROGRAM_TABLES(SZ_ROW, SZ_ROW, QT_NOFIELD_)
#undef SZ_ROW
};

/* A constant: a string is (blob offset, length); anything else its two
 * words. A string that does not lie in the pool cannot be stored. */
static void w_kval(wbuf *w, const q_program *p, uint8_t type, q_val c)
{
    if (type == QT_STRING) {
        if (!prog_str_in_pool(p, c)) {
            w->bad = true;
            return;
        }
        w_i64(w, (int64_t)prog_kstr_off(p, c));
        w_i64(w, c.d);
    } else {
        w_i64(w, c.n);
        w_i64(w, c.d);
    }
}

#define WR_U8(w, p, i, v) w_u8(w, (uint8_t)(v))
#define WR_U16(w, p, i, v) w_u16(w, v)
#define WR_U32(w, p, i, v) w_u32(w, v)
#define WR_VAL(w, p, i, v) (w_i64(w, (v).n), w_i64(w, (v).d))
#define WR_KVAL(w, p, i, v) w_kval(w, p, (p)->const_type[i], v)
#define WR_F(wd, name, chk, arg) WR_##wd(w, p, i, e->name);
#define WR_S(wd, chk, arg) WR_##wd(w, p, i, *e);
#define WR_P(wd, arr2, chk, arg) WR_##wd(w, p, i, p->arr2[i]);
#define WR_H(wd, name, chk, arg) WR_##wd(w, p, 0, p->name);
/* A table of bytes (the string pool) is copied whole. */
#define WR_TABLE(arr, n, elem, sect, FIELDS, extra, one)      \
    w_u32(w, p->n);                                           \
    if (SZ_##arr == 1 && sizeof *p->arr == 1)                 \
        w_bytes(w, p->arr, p->n);                             \
    else                                                      \
        for (uint32_t i = 0; i < p->n; i++) {                 \
            const elem *e = &p->arr[i];                       \
            (void)e;                                          \
            FIELDS(WR_F, WR_S, WR_P)                          \
        }

static void write_payload(wbuf *w, const q_program *p)
{
    QUY_PROGRAM_HEAD(WR_H)
    QUY_PROGRAM_TABLES(WR_TABLE, WR_TABLE, QT_NOFIELD_)
    QUY_PROGRAM_TAIL(WR_H)
}

bool bc_write(const q_program *p, uint8_t **out, size_t *out_len)
{
    wbuf w = {0};
    *out = NULL;
    *out_len = 0;

    /* header; the payload length is patched in at the end */
    w_bytes(&w, QUY_BC_MAGIC, 4);
    w_u32(&w, QUY_BC_VERSION);
    w_u32(&w, 0);
    w_u64(&w, 0);
    write_payload(&w, p);
    if (w.oom || w.bad) {
        free(w.p);
        return false;
    }
    put_u64_at(w.p + 12, (uint64_t)(w.len - BC_HEADER_SIZE));
    uint64_t sum = bc_checksum(w.p, w.len);
    w_u64(&w, sum);
    if (w.oom) {
        free(w.p);
        return false;
    }
    *out = w.p;
    *out_len = w.len;
    return true;
}

/* =====================================================================
 * Reading
 * =================================================================== */

typedef struct rbuf {
    const uint8_t *p; /* the whole file */
    size_t end;       /* reads stop here (end of the payload) */
    size_t pos;
    const char *section; /* what is being read, for messages */
    bool fail;
    char *err;
    size_t errsize;
} rbuf;

__attribute__((format(printf, 3, 4))) static void set_err(char *err, size_t errsize, const char *fmt, ...)
{
    if (!err || !errsize) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsize, fmt, ap);
    va_end(ap);
}

static bool r_need(rbuf *r, size_t n)
{
    if (r->fail) return false;
    if (r->end - r->pos < n) {
        set_err(r->err, r->errsize, "truncated at byte %zu: %s needs %zu more bytes", r->end, r->section,
                n - (r->end - r->pos));
        r->fail = true;
        return false;
    }
    return true;
}

static uint8_t r_u8(rbuf *r)
{
    if (!r_need(r, 1)) return 0;
    return r->p[r->pos++];
}

static uint16_t r_u16(rbuf *r)
{
    if (!r_need(r, 2)) return 0;
    uint16_t v = (uint16_t)(r->p[r->pos] | (r->p[r->pos + 1] << 8));
    r->pos += 2;
    return v;
}

static uint32_t r_u32(rbuf *r)
{
    if (!r_need(r, 4)) return 0;
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v |= (uint32_t)r->p[r->pos + i] << (8 * i);
    r->pos += 4;
    return v;
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static uint64_t r_u64(rbuf *r)
{
    if (!r_need(r, 8)) return 0;
    uint64_t v = get_u64(r->p + r->pos);
    r->pos += 8;
    return v;
}

static int64_t r_i64(rbuf *r) { return (int64_t)r_u64(r); }

/* Reads a table count and allocates the table. The count is capped by the
 * bytes that remain, so a forged count cannot make us allocate more than
 * the file could fill. */
static void *r_table(rbuf *r, const char *section, uint32_t *count, size_t rec_size, size_t elem_size, size_t extra)
{
    r->section = section;
    uint32_t n = r_u32(r);
    *count = 0;
    if (r->fail) return NULL;
    size_t left = r->end - r->pos;
    if (rec_size && n > left / rec_size) {
        set_err(r->err, r->errsize, "truncated at byte %zu: %s: %u entries need %zu bytes, %zu remain", r->end,
                section, n, (size_t)n * rec_size, left);
        r->fail = true;
        return NULL;
    }
    if (n == 0) return NULL;
    void *t = calloc((size_t)n + extra, elem_size);
    if (!t) {
        set_err(r->err, r->errsize, "out of memory reading %s (%u entries)", section, n);
        r->fail = true;
        return NULL;
    }
    *count = n;
    return t;
}

/* A parallel array of `n` elements (the table just read has n). */
static void *r_parallel(rbuf *r, uint32_t n, size_t elem_size)
{
    if (r->fail || n == 0) return NULL;
    void *t = calloc(n, elem_size);
    if (!t) {
        set_err(r->err, r->errsize, "out of memory reading %s (%u entries)", r->section, n);
        r->fail = true;
    }
    return t;
}

static q_val r_val(rbuf *r)
{
    q_val v;
    v.n = r_i64(r);
    v.d = r_i64(r);
    return v;
}

/* A constant; a string's (offset, length) must lie in the pool and
 * becomes a pointer into it. */
static q_val r_kval(rbuf *r, const q_program *p, uint32_t i)
{
    if (p->const_type[i] != QT_STRING) return r_val(r);
    int64_t off = r_i64(r), len = r_i64(r);
    if (r->fail) return (q_val){0, 0};
    if (!p->blob || off < 0 || len < 0 || (uint64_t)off > p->blob_len || (uint64_t)len > p->blob_len - (uint64_t)off) {
        set_err(r->err, r->errsize, "constant %u: string (offset %lld, length %lld) outside the pool (%u bytes)", i,
                (long long)off, (long long)len, p->blob_len);
        r->fail = true;
        return (q_val){0, 0};
    }
    return prog_kstr(p, (uint64_t)off, (uint64_t)len);
}

#define RD_U8(r, p, i) r_u8(r)
#define RD_U16(r, p, i) r_u16(r)
#define RD_U32(r, p, i) r_u32(r)
#define RD_VAL(r, p, i) r_val(r)
#define RD_KVAL(r, p, i) r_kval(r, p, i)
#define RD_F(wd, name, chk, arg) e->name = RD_##wd(r, p, i);
#define RD_S(wd, chk, arg) *e = RD_##wd(r, p, i);
#define RD_P(wd, arr2, chk, arg) p->arr2[i] = RD_##wd(r, p, i);
#define RD_H(wd, name, chk, arg) p->name = RD_##wd(r, p, 0);
#define RD_NOP(...)
#define RD_ALLOC_P(wd, arr2, chk, arg) p->arr2 = r_parallel(r, cnt, sizeof *p->arr2);
#define RD_TABLE(arr, n, elem, sect, FIELDS, extra, one)                         \
    {                                                                            \
        p->arr = r_table(r, sect, &p->n, SZ_##arr, sizeof *p->arr, extra);      \
        uint32_t cnt = p->n;                                                     \
        FIELDS(RD_NOP, RD_NOP, RD_ALLOC_P)                                       \
        if (SZ_##arr == 1 && sizeof *p->arr == 1 && cnt && !r->fail) {          \
            memcpy(p->arr, r->p + r->pos, cnt); /* r_table checked the bytes */ \
            r->pos += cnt;                                                       \
            cnt = 0;                                                             \
        }                                                                        \
        for (uint32_t i = 0; i < cnt && !r->fail; i++) {                         \
            elem *e = &p->arr[i];                                                \
            (void)e;                                                             \
            FIELDS(RD_F, RD_S, RD_P)                                             \
        }                                                                        \
    }

static void read_payload(rbuf *r, q_program *p)
{
    r->section = "identity";
    QUY_PROGRAM_HEAD(RD_H)
    QUY_PROGRAM_TABLES(RD_TABLE, RD_TABLE, QT_NOFIELD_)
    r->section = "trailer";
    QUY_PROGRAM_TAIL(RD_H)
}

q_program *bc_read(const uint8_t *buf, size_t len, char *err, size_t errsize)
{
    set_err(err, errsize, "no error");
    if (!buf) len = 0;
    if (len < 4) {
        if (len && memcmp(buf, QUY_BC_MAGIC, len) != 0) {
            set_err(err, errsize, "not a Quy bytecode file (bad magic)");
        } else {
            set_err(err, errsize, "truncated at byte %zu: no complete header (%u bytes)", len, BC_HEADER_SIZE);
        }
        return NULL;
    }
    if (memcmp(buf, QUY_BC_MAGIC, 4) != 0) {
        set_err(err, errsize, "not a Quy bytecode file (bad magic, expected \"%s\")", QUY_BC_MAGIC);
        return NULL;
    }
    if (len < BC_HEADER_SIZE) {
        set_err(err, errsize, "truncated at byte %zu: no complete header (%u bytes)", len, BC_HEADER_SIZE);
        return NULL;
    }
    rbuf hr = {.p = buf, .end = BC_HEADER_SIZE, .pos = 4, .section = "header", .err = err, .errsize = errsize};
    uint32_t version = r_u32(&hr);
    uint32_t flags = r_u32(&hr);
    uint64_t plen = r_u64(&hr);
    if (version != QUY_BC_VERSION) {
        set_err(err, errsize,
                "bytecode format version %u, but this quy reads version %u; recompile the ruleset", version,
                (unsigned)QUY_BC_VERSION);
        return NULL;
    }
    if (flags != 0) {
        set_err(err, errsize, "unknown header flags 0x%x (this quy knows none)", flags);
        return NULL;
    }
    size_t avail = len - BC_HEADER_SIZE;
    if (avail < BC_TRAILER_SIZE || plen > avail - BC_TRAILER_SIZE) {
        set_err(err, errsize, "truncated at byte %zu: the header announces %llu payload bytes and a checksum",
                len, (unsigned long long)plen);
        return NULL;
    }
    size_t total = BC_HEADER_SIZE + (size_t)plen + BC_TRAILER_SIZE;
    if (len > total) {
        set_err(err, errsize, "trailing garbage: %zu bytes after the end of the file at byte %zu", len - total,
                total);
        return NULL;
    }
    uint64_t want = get_u64(buf + BC_HEADER_SIZE + plen);
    uint64_t got = bc_checksum(buf, BC_HEADER_SIZE + (size_t)plen);
    if (want != got) {
        set_err(err, errsize, "checksum mismatch: stored %016llx, computed %016llx (file damaged)",
                (unsigned long long)want, (unsigned long long)got);
        return NULL;
    }

    q_program *p = calloc(1, sizeof *p);
    if (!p) {
        set_err(err, errsize, "out of memory");
        return NULL;
    }
    rbuf rb = {.p = buf, .end = BC_HEADER_SIZE + (size_t)plen, .pos = BC_HEADER_SIZE, .err = err,
               .errsize = errsize};
    rbuf *r = &rb;
    read_payload(r, p);
    if (!r->fail && r->pos != r->end) {
        set_err(err, errsize, "trailing garbage: %zu bytes after the last table at byte %zu", r->end - r->pos,
                r->pos);
        r->fail = true;
    }
    if (r->fail) {
        prog_free(p);
        return NULL;
    }

    char why[400];
    if (!bc_verify(p, why, sizeof why)) {
        set_err(err, errsize, "invalid program: %s", why);
        prog_free(p);
        return NULL;
    }
    return p;
}

/* ---------------------------------------------------------------------
 * Files
 * ------------------------------------------------------------------- */

bool bc_is_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return false;
    char magic[4] = {0};
    size_t n = fread(magic, 1, 4, f);
    fclose(f);
    return n == 4 && memcmp(magic, QUY_BC_MAGIC, 4) == 0;
}

q_program *bc_read_file(const char *path, char *err, size_t errsize)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errsize, "%s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0, got;
    uint8_t *buf = malloc(cap);
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            uint8_t *nb = realloc(buf, cap *= 2);
            if (!nb) free(buf);
            buf = nb;
        }
    }
    fclose(f);
    if (!buf) {
        snprintf(err, errsize, "%s: out of memory", path);
        return NULL;
    }
    char why[512];
    q_program *p = bc_read(buf, n, why, sizeof why);
    free(buf);
    if (!p && snprintf(err, errsize, "%s: not a valid compiled ruleset: %s", path, why) >= (int)errsize && errsize)
        err[errsize - 1] = 0;
    return p;
}
