/*
 * bytecode.c — the bytecode file (bc_write, bc_read) and the verifier
 * (bc_verify). The format is described in docs/bytecode.md; in short:
 *
 *   offset  size  field
 *   0       4     magic "QUYB"
 *   4       4     u32 format version (QUY_BC_VERSION)
 *   8       4     u32 flags (reserved, must be 0)
 *   12      8     u64 payload length P
 *   20      P     payload: every table of q_program, field by field
 *   20+P    8     u64 FNV-1a 64 of bytes [0, 20+P)
 *
 * All integers are little-endian with explicit widths; no struct is ever
 * written as memory. bc_read trusts nothing: every read is bounds-checked,
 * every count is capped by the bytes that remain before anything is
 * allocated, and the program is verified before it is returned.
 */
#include "program.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "period.h"

#define BC_HEADER_SIZE 20u
#define BC_TRAILER_SIZE 8u

/* =====================================================================
 * Checksum
 *
 * FNV-1a 64 (Fowler–Noll–Vo, http://www.isthe.com/chongo/tech/comp/fnv/).
 * None of the project's dependencies (Lua 5.4, jansson, libcsv, cmocka)
 * offers a hash, and ten lines do not justify a new one. The checksum
 * guards against damage, not against tampering: each step (xor a byte,
 * multiply by an odd constant modulo 2^64) is a bijection of the state, so
 * any single changed byte always changes the result.
 * =================================================================== */

static uint64_t fnv1a64(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV offset basis */
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull; /* FNV 64-bit prime */
    }
    return h;
}

/* =====================================================================
 * Writing
 * =================================================================== */

typedef struct wbuf {
    uint8_t *p;
    size_t len, cap;
    bool oom;
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

/* Record sizes in the payload, used by the reader to cap counts. */
enum {
    SZ_CONST = 1 + 8 + 8,
    SZ_INSTR = 1 + 1 + 2 + 4 + 4,
    SZ_TYPE = 1 + 5 * 4,
    SZ_MEMBER = 2 * 4,
    SZ_FIELD = 3 * 4 + 2 + 1 + 4,
    SZ_CHECK = 4 * 4,
    SZ_KIND = 9 * 4,
    SZ_RULE = 4 * 4 + 1 + 1 + 4 * 4,
    SZ_CLAUSE = 6 * 4 + 1 + 3 * 4,
    SZ_READ = 2,
    SZ_FLAG = 4 * 4 + 1 + 2 * 4,
    SZ_QUOTA = 4 + 2 * 8 + 6 * 4,
    SZ_QKEY = 5 * 4 + 1,
    SZ_CAP = 4 + 1 + 1 + 2 + 6 * 4,
    SZ_BEXPR = 4 * 4,
    SZ_SOURCE = 2 * 4,
    SZ_HOOK = 8 * 4,
    SZ_PARAM = 2 * 4,
    SZ_ADJUST = 4 * 4 + 1,
};

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

    /* identity */
    w_u32(&w, p->name);
    w_u32(&w, p->version);
    w_u32(&w, p->title);
    w_u32(&w, p->source);
    w_u32(&w, p->nlayers);
    for (uint32_t i = 0; i < p->nlayers; i++) w_u32(&w, p->layers[i]);

    /* string pool */
    w_u32(&w, p->blob_len);
    w_bytes(&w, p->blob, p->blob_len);
    w_u32(&w, p->nstr);
    for (uint32_t i = 0; i < p->nstr; i++) w_u32(&w, p->str_off[i]);

    /* constants: type, then the two words; a string is (blob offset, length) */
    w_u32(&w, p->nconsts);
    for (uint32_t i = 0; i < p->nconsts; i++) {
        q_val c = p->consts[i];
        w_u8(&w, p->const_type[i]);
        if (p->const_type[i] == QT_STRING) {
            uintptr_t s = (uintptr_t)c.n, b0 = (uintptr_t)p->blob;
            if (s < b0 || s - b0 > p->blob_len || c.d < 0 || (uint64_t)c.d > p->blob_len - (s - b0)) {
                free(w.p);
                return false; /* not a pool string: cannot be stored */
            }
            w_i64(&w, (int64_t)(s - b0));
            w_i64(&w, c.d);
        } else {
            w_i64(&w, c.n);
            w_i64(&w, c.d);
        }
    }

    /* code with source positions */
    w_u32(&w, p->ncode);
    for (uint32_t i = 0; i < p->ncode; i++) {
        const q_instr *in = &p->code[i];
        w_u8(&w, in->op);
        w_u8(&w, in->c);
        w_u16(&w, in->a);
        w_u32(&w, in->b);
        w_u32(&w, p->code_pos ? p->code_pos[i] : 0);
    }

    w_u32(&w, p->ntypes);
    for (uint32_t i = 0; i < p->ntypes; i++) {
        const q_type *t = &p->types[i];
        w_u8(&w, t->kind);
        w_u32(&w, t->name);
        w_u32(&w, t->label);
        w_u32(&w, t->elem);
        w_u32(&w, t->first);
        w_u32(&w, t->count);
    }

    w_u32(&w, p->nmembers);
    for (uint32_t i = 0; i < p->nmembers; i++) {
        w_u32(&w, p->members[i].name);
        w_u32(&w, p->members[i].label);
    }

    w_u32(&w, p->nfields);
    for (uint32_t i = 0; i < p->nfields; i++) {
        const q_field *f = &p->fields[i];
        w_u32(&w, f->name);
        w_u32(&w, f->label);
        w_u32(&w, f->type);
        w_u16(&w, f->slot);
        w_u8(&w, f->flags);
        w_u32(&w, f->deflt);
    }

    w_u32(&w, p->nchecks);
    for (uint32_t i = 0; i < p->nchecks; i++) {
        const q_check *c = &p->checks[i];
        w_u32(&w, c->entry);
        w_u32(&w, c->field);
        w_u32(&w, c->text);
        w_u32(&w, c->pos);
    }

    w_u32(&w, p->nkinds);
    for (uint32_t i = 0; i < p->nkinds; i++) {
        const q_kind *k = &p->kinds[i];
        w_u32(&w, k->name);
        w_u32(&w, k->label);
        w_u32(&w, k->first_field);
        w_u32(&w, k->nfields);
        w_u32(&w, k->first_check);
        w_u32(&w, k->nchecks);
        w_u32(&w, k->entry);
        w_u32(&w, k->first_rule);
        w_u32(&w, k->nrules);
    }

    w_u32(&w, p->nrules);
    for (uint32_t i = 0; i < p->nrules; i++) {
        const q_rule *r = &p->rules[i];
        w_u32(&w, r->name);
        w_u32(&w, r->label);
        w_u32(&w, r->cite);
        w_u32(&w, r->layer);
        w_u8(&w, r->outcome);
        w_u8(&w, r->flags);
        w_u32(&w, r->flag);
        w_u32(&w, r->first_clause);
        w_u32(&w, r->nclauses);
        w_u32(&w, r->pos);
    }

    w_u32(&w, p->nclauses);
    for (uint32_t i = 0; i < p->nclauses; i++) {
        const q_clause *c = &p->clauses[i];
        w_u32(&w, c->rule);
        w_u32(&w, c->text);
        w_u32(&w, c->label);
        w_u32(&w, c->cite);
        w_u32(&w, c->layer);
        w_u32(&w, c->exc_text);
        w_u8(&w, c->if_present);
        w_u32(&w, c->first_read);
        w_u32(&w, c->nreads);
        w_u32(&w, c->pos);
    }

    w_u32(&w, p->nreads);
    for (uint32_t i = 0; i < p->nreads; i++) w_u16(&w, p->reads[i]);

    w_u32(&w, p->nflagdefs);
    for (uint32_t i = 0; i < p->nflagdefs; i++) {
        const q_flagdef *f = &p->flags[i];
        w_u32(&w, f->name);
        w_u32(&w, f->message);
        w_u32(&w, f->cite);
        w_u32(&w, f->layer);
        w_u8(&w, f->kind);
        w_u32(&w, f->clause);
        w_u32(&w, f->pos);
    }

    w_u32(&w, p->nquotas);
    for (uint32_t i = 0; i < p->nquotas; i++) {
        const q_quota *q = &p->quotas[i];
        w_u8(&w, q->tier);
        w_u8(&w, q->of_tier);
        w_u8(&w, q->rounding);
        w_u8(&w, q->basis);
        w_i64(&w, q->share.n);
        w_i64(&w, q->share.d);
        w_u32(&w, q->per);
        w_u32(&w, q->small_group);
        w_u32(&w, q->nkeys);
        w_u32(&w, q->cite);
        w_u32(&w, q->layer);
        w_u32(&w, q->pos);
    }

    w_u32(&w, p->nqkeys);
    for (uint32_t i = 0; i < p->nqkeys; i++) {
        const q_qkey *k = &p->qkeys[i];
        w_u32(&w, k->quota);
        w_u32(&w, k->key);
        w_u32(&w, k->kind);
        w_u32(&w, k->expr);
        w_u32(&w, 0); /* reserved */
        w_u8(&w, k->desc);
    }

    w_u32(&w, p->ncaps);
    for (uint32_t i = 0; i < p->ncaps; i++) {
        const q_cap *c = &p->caps[i];
        w_u32(&w, c->kind);
        w_u8(&w, c->bound);
        w_u8(&w, c->tier);
        w_u16(&w, c->slot);
        w_u32(&w, c->when);
        w_u32(&w, c->unless);
        w_u32(&w, c->text);
        w_u32(&w, c->cite);
        w_u32(&w, c->layer);
        w_u32(&w, c->pos);
    }

    w_u32(&w, p->nbexprs);
    for (uint32_t i = 0; i < p->nbexprs; i++) {
        const q_bexpr *e = &p->bexprs[i];
        w_u32(&w, e->kind);
        w_u32(&w, e->entry);
        w_u32(&w, e->text);
        w_u32(&w, e->pos);
    }

    w_u32(&w, p->nsources);
    for (uint32_t i = 0; i < p->nsources; i++) {
        w_u32(&w, p->sources[i].name);
        w_u32(&w, p->sources[i].text);
    }

    w_u32(&w, p->nhooks);
    for (uint32_t i = 0; i < p->nhooks; i++) {
        const q_hook *h = &p->hooks[i];
        w_u32(&w, h->name);
        w_u32(&w, h->file);
        w_u32(&w, h->source);
        w_u32(&w, h->result);
        w_u32(&w, h->first_param);
        w_u32(&w, h->nparams);
        w_u32(&w, h->layer);
        w_u32(&w, h->pos);
    }
    w_u32(&w, p->nparams);
    for (uint32_t i = 0; i < p->nparams; i++) {
        w_u32(&w, p->params[i].name);
        w_u32(&w, p->params[i].type);
    }
    w_u32(&w, p->nadjusts);
    for (uint32_t i = 0; i < p->nadjusts; i++) {
        const q_adjust *a = &p->adjusts[i];
        w_u32(&w, a->kind);
        w_u32(&w, a->hook);
        w_u8(&w, a->phase);
        w_u32(&w, a->flag);
        w_u32(&w, a->pos);
    }

    w_u32(&w, p->tier_type);

    if (w.oom) {
        free(w.p);
        return false;
    }
    put_u64_at(w.p + 12, (uint64_t)(w.len - BC_HEADER_SIZE));
    uint64_t sum = fnv1a64(w.p, w.len);
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
static void *r_table(rbuf *r, const char *section, uint32_t *count, size_t rec_size, size_t elem_size)
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
    void *t = calloc(n, elem_size);
    if (!t) {
        set_err(r->err, r->errsize, "out of memory reading %s (%u entries)", section, n);
        r->fail = true;
        return NULL;
    }
    *count = n;
    return t;
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
    uint64_t got = fnv1a64(buf, BC_HEADER_SIZE + (size_t)plen);
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

    r->section = "identity";
    p->name = r_u32(r);
    p->version = r_u32(r);
    p->title = r_u32(r);
    p->source = r_u32(r);
    p->layers = r_table(r, "layers", &p->nlayers, 4, sizeof *p->layers);
    for (uint32_t i = 0; i < p->nlayers; i++) p->layers[i] = r_u32(r);

    /* string pool; a NUL is kept after the blob so that even an
     * unverified pool cannot be read past its end */
    r->section = "string pool";
    uint32_t blen = r_u32(r);
    if (r_need(r, blen)) {
        p->blob = malloc((size_t)blen + 1);
        if (!p->blob) {
            set_err(err, errsize, "out of memory");
            r->fail = true;
        } else {
            memcpy(p->blob, buf + r->pos, blen);
            p->blob[blen] = 0;
            p->blob_len = blen;
            r->pos += blen;
        }
    }
    p->str_off = r_table(r, "string offsets", &p->nstr, 4, sizeof *p->str_off);
    for (uint32_t i = 0; i < p->nstr; i++) p->str_off[i] = r_u32(r);

    p->consts = r_table(r, "constants", &p->nconsts, SZ_CONST, sizeof *p->consts);
    if (p->nconsts) {
        p->const_type = calloc(p->nconsts, 1);
        if (!p->const_type) {
            set_err(err, errsize, "out of memory");
            r->fail = true;
            p->nconsts = 0;
        }
    }
    for (uint32_t i = 0; i < p->nconsts && !r->fail; i++) {
        uint8_t t = r_u8(r);
        int64_t n = r_i64(r), d = r_i64(r);
        p->const_type[i] = t;
        if (t == QT_STRING) {
            if (n < 0 || d < 0 || (uint64_t)n > p->blob_len || (uint64_t)d > p->blob_len - (uint64_t)n) {
                set_err(err, errsize, "constant %u: string (offset %lld, length %lld) outside the pool (%u bytes)",
                        i, (long long)n, (long long)d, p->blob_len);
                r->fail = true;
                break;
            }
            p->consts[i].n = (int64_t)(intptr_t)(p->blob + n);
            p->consts[i].d = d;
        } else {
            p->consts[i].n = n;
            p->consts[i].d = d;
        }
    }

    p->code = r_table(r, "code", &p->ncode, SZ_INSTR, sizeof *p->code);
    if (p->ncode) {
        p->code_pos = calloc(p->ncode, sizeof *p->code_pos);
        if (!p->code_pos) {
            set_err(err, errsize, "out of memory");
            r->fail = true;
            p->ncode = 0;
        }
    }
    for (uint32_t i = 0; i < p->ncode; i++) {
        q_instr *in = &p->code[i];
        in->op = r_u8(r);
        in->c = r_u8(r);
        in->a = r_u16(r);
        in->b = r_u32(r);
        p->code_pos[i] = r_u32(r);
    }

    p->types = r_table(r, "types", &p->ntypes, SZ_TYPE, sizeof *p->types);
    for (uint32_t i = 0; i < p->ntypes; i++) {
        q_type *t = &p->types[i];
        t->kind = r_u8(r);
        t->name = r_u32(r);
        t->label = r_u32(r);
        t->elem = r_u32(r);
        t->first = r_u32(r);
        t->count = r_u32(r);
    }

    p->members = r_table(r, "members", &p->nmembers, SZ_MEMBER, sizeof *p->members);
    for (uint32_t i = 0; i < p->nmembers; i++) {
        p->members[i].name = r_u32(r);
        p->members[i].label = r_u32(r);
    }

    p->fields = r_table(r, "fields", &p->nfields, SZ_FIELD, sizeof *p->fields);
    for (uint32_t i = 0; i < p->nfields; i++) {
        q_field *f = &p->fields[i];
        f->name = r_u32(r);
        f->label = r_u32(r);
        f->type = r_u32(r);
        f->slot = r_u16(r);
        f->flags = r_u8(r);
        f->deflt = r_u32(r);
    }

    p->checks = r_table(r, "checks", &p->nchecks, SZ_CHECK, sizeof *p->checks);
    for (uint32_t i = 0; i < p->nchecks; i++) {
        q_check *c = &p->checks[i];
        c->entry = r_u32(r);
        c->field = r_u32(r);
        c->text = r_u32(r);
        c->pos = r_u32(r);
    }

    p->kinds = r_table(r, "kinds", &p->nkinds, SZ_KIND, sizeof *p->kinds);
    for (uint32_t i = 0; i < p->nkinds; i++) {
        q_kind *k = &p->kinds[i];
        k->name = r_u32(r);
        k->label = r_u32(r);
        k->first_field = r_u32(r);
        k->nfields = r_u32(r);
        k->first_check = r_u32(r);
        k->nchecks = r_u32(r);
        k->entry = r_u32(r);
        k->first_rule = r_u32(r);
        k->nrules = r_u32(r);
    }

    p->rules = r_table(r, "rules", &p->nrules, SZ_RULE, sizeof *p->rules);
    for (uint32_t i = 0; i < p->nrules; i++) {
        q_rule *x = &p->rules[i];
        x->name = r_u32(r);
        x->label = r_u32(r);
        x->cite = r_u32(r);
        x->layer = r_u32(r);
        x->outcome = r_u8(r);
        x->flags = r_u8(r);
        x->flag = r_u32(r);
        x->first_clause = r_u32(r);
        x->nclauses = r_u32(r);
        x->pos = r_u32(r);
    }

    p->clauses = r_table(r, "clauses", &p->nclauses, SZ_CLAUSE, sizeof *p->clauses);
    for (uint32_t i = 0; i < p->nclauses; i++) {
        q_clause *c = &p->clauses[i];
        c->rule = r_u32(r);
        c->text = r_u32(r);
        c->label = r_u32(r);
        c->cite = r_u32(r);
        c->layer = r_u32(r);
        c->exc_text = r_u32(r);
        c->if_present = r_u8(r);
        c->first_read = r_u32(r);
        c->nreads = r_u32(r);
        c->pos = r_u32(r);
    }

    p->reads = r_table(r, "clause reads", &p->nreads, SZ_READ, sizeof *p->reads);
    for (uint32_t i = 0; i < p->nreads; i++) p->reads[i] = r_u16(r);

    p->flags = r_table(r, "flags", &p->nflagdefs, SZ_FLAG, sizeof *p->flags);
    for (uint32_t i = 0; i < p->nflagdefs; i++) {
        q_flagdef *f = &p->flags[i];
        f->name = r_u32(r);
        f->message = r_u32(r);
        f->cite = r_u32(r);
        f->layer = r_u32(r);
        f->kind = r_u8(r);
        f->clause = r_u32(r);
        f->pos = r_u32(r);
    }

    p->quotas = r_table(r, "quotas", &p->nquotas, SZ_QUOTA, sizeof *p->quotas);
    for (uint32_t i = 0; i < p->nquotas; i++) {
        q_quota *q = &p->quotas[i];
        q->tier = r_u8(r);
        q->of_tier = r_u8(r);
        q->rounding = r_u8(r);
        q->basis = r_u8(r);
        q->share.n = r_i64(r);
        q->share.d = r_i64(r);
        q->per = r_u32(r);
        q->small_group = r_u32(r);
        q->nkeys = r_u32(r);
        q->cite = r_u32(r);
        q->layer = r_u32(r);
        q->pos = r_u32(r);
    }

    p->qkeys = r_table(r, "quota keys", &p->nqkeys, SZ_QKEY, sizeof *p->qkeys);
    for (uint32_t i = 0; i < p->nqkeys; i++) {
        q_qkey *k = &p->qkeys[i];
        k->quota = r_u32(r);
        k->key = r_u32(r);
        k->kind = r_u32(r);
        k->expr = r_u32(r);
        (void)r_u32(r);
        k->desc = r_u8(r);
    }

    p->caps = r_table(r, "caps", &p->ncaps, SZ_CAP, sizeof *p->caps);
    for (uint32_t i = 0; i < p->ncaps; i++) {
        q_cap *c = &p->caps[i];
        c->kind = r_u32(r);
        c->bound = r_u8(r);
        c->tier = r_u8(r);
        c->slot = r_u16(r);
        c->when = r_u32(r);
        c->unless = r_u32(r);
        c->text = r_u32(r);
        c->cite = r_u32(r);
        c->layer = r_u32(r);
        c->pos = r_u32(r);
    }

    p->bexprs = r_table(r, "batch expressions", &p->nbexprs, SZ_BEXPR, sizeof *p->bexprs);
    for (uint32_t i = 0; i < p->nbexprs; i++) {
        q_bexpr *e = &p->bexprs[i];
        e->kind = r_u32(r);
        e->entry = r_u32(r);
        e->text = r_u32(r);
        e->pos = r_u32(r);
    }

    p->sources = r_table(r, "sources", &p->nsources, SZ_SOURCE, sizeof *p->sources);
    for (uint32_t i = 0; i < p->nsources; i++) {
        p->sources[i].name = r_u32(r);
        p->sources[i].text = r_u32(r);
    }

    p->hooks = r_table(r, "hooks", &p->nhooks, SZ_HOOK, sizeof *p->hooks);
    for (uint32_t i = 0; i < p->nhooks; i++) {
        q_hook *h = &p->hooks[i];
        h->name = r_u32(r);
        h->file = r_u32(r);
        h->source = r_u32(r);
        h->result = r_u32(r);
        h->first_param = r_u32(r);
        h->nparams = r_u32(r);
        h->layer = r_u32(r);
        h->pos = r_u32(r);
    }
    p->params = r_table(r, "hook parameters", &p->nparams, SZ_PARAM, sizeof *p->params);
    for (uint32_t i = 0; i < p->nparams; i++) {
        p->params[i].name = r_u32(r);
        p->params[i].type = r_u32(r);
    }
    p->adjusts = r_table(r, "adjust steps", &p->nadjusts, SZ_ADJUST, sizeof *p->adjusts);
    for (uint32_t i = 0; i < p->nadjusts; i++) {
        q_adjust *a = &p->adjusts[i];
        a->kind = r_u32(r);
        a->hook = r_u32(r);
        a->phase = r_u8(r);
        a->flag = r_u32(r);
        a->pos = r_u32(r);
    }

    r->section = "trailer";
    p->tier_type = r_u32(r);

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

/* =====================================================================
 * The verifier
 *
 * First the tables: every string id, every index and every range in
 * bounds. Then the code, one block per entry (each kind's rate block, each
 * check): a walk of the control-flow graph from the entry that carries an
 * abstract state — stack depth and the stack of active loop registers —
 * to every reachable instruction. Each reachable instruction belongs to
 * exactly one block (that is how blocks are delimited: a block is what its
 * entry reaches), its operands are checked against that block's kind, and
 * every join point must see the same state along every path. Jumps go
 * forward, except QSTEP and QFILTER which return to their loop's QNEXT, so every run
 * ends; every path must end at HALT with an empty loop stack and the
 * block's result depth (0 for a rate block, 1 — the bool — for a check).
 * =================================================================== */

typedef struct vctx {
    q_program *p;
    char *err;
    size_t errsize;
} vctx;

__attribute__((format(printf, 2, 3))) static bool vfail(vctx *v, const char *fmt, ...)
{
    if (v->err && v->errsize) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(v->err, v->errsize, fmt, ap);
        va_end(ap);
    }
    return false;
}

static bool in_range(uint32_t first, uint32_t count, uint32_t n) { return first <= n && count <= n - first; }

#define STR_OK(id, what, idx, field)                                                                  \
    do {                                                                                            \
        if ((id) >= p->nstr)                                                                        \
            return vfail(v, "%s %u: %s string id %u out of range (nstr %u)", what, (unsigned)(idx), \
                         field, (unsigned)(id), p->nstr);                                          \
    } while (0)

#define NEED_ARRAY(arr, n, what)                                                                   \
    do {                                                                                         \
        if ((n) && !(arr)) return vfail(v, "%s: %u entries but no table", what, (unsigned)(n));    \
    } while (0)

/* The kind whose rule range holds rule r, or QUY_NONE. */
static uint32_t kind_of_rule(const q_program *p, uint32_t r)
{
    for (uint32_t k = 0; k < p->nkinds; k++)
        if (r >= p->kinds[k].first_rule && r - p->kinds[k].first_rule < p->kinds[k].nrules) return k;
    return QUY_NONE;
}

static uint32_t kind_of_check(const q_program *p, uint32_t c)
{
    for (uint32_t k = 0; k < p->nkinds; k++)
        if (c >= p->kinds[k].first_check && c - p->kinds[k].first_check < p->kinds[k].nchecks) return k;
    return QUY_NONE;
}

static bool verify_tables(vctx *v)
{
    q_program *p = v->p;

    NEED_ARRAY(p->layers, p->nlayers, "layers");
    NEED_ARRAY(p->str_off, p->nstr, "strings");
    NEED_ARRAY(p->consts, p->nconsts, "constants");
    NEED_ARRAY(p->const_type, p->nconsts, "constant types");
    NEED_ARRAY(p->code, p->ncode, "code");
    NEED_ARRAY(p->code_pos, p->ncode, "code positions");
    NEED_ARRAY(p->types, p->ntypes, "types");
    NEED_ARRAY(p->members, p->nmembers, "members");
    NEED_ARRAY(p->fields, p->nfields, "fields");
    NEED_ARRAY(p->checks, p->nchecks, "checks");
    NEED_ARRAY(p->kinds, p->nkinds, "kinds");
    NEED_ARRAY(p->rules, p->nrules, "rules");
    NEED_ARRAY(p->clauses, p->nclauses, "clauses");
    NEED_ARRAY(p->reads, p->nreads, "reads");
    NEED_ARRAY(p->flags, p->nflagdefs, "flags");
    NEED_ARRAY(p->quotas, p->nquotas, "quotas");
    NEED_ARRAY(p->sources, p->nsources, "sources");
    NEED_ARRAY(p->hooks, p->nhooks, "hooks");
    NEED_ARRAY(p->params, p->nparams, "hook parameters");
    NEED_ARRAY(p->adjusts, p->nadjusts, "adjust steps");

    /* the string pool: id 0 is "", and the pool ends in a NUL, so every
     * string that starts inside it is terminated inside it */
    if (p->nstr == 0 || !p->blob || p->blob_len == 0)
        return vfail(v, "string pool: empty (string 0 must be \"\")");
    if (p->blob[p->blob_len - 1] != 0)
        return vfail(v, "string pool: last byte (%u) is not NUL", p->blob_len - 1);
    for (uint32_t i = 0; i < p->nstr; i++)
        if (p->str_off[i] >= p->blob_len)
            return vfail(v, "string %u: offset %u outside the pool (%u bytes)", i, p->str_off[i], p->blob_len);
    if (p->blob[p->str_off[0]] != 0) return vfail(v, "string 0: not the empty string");

    const char *idn[] = {"name", "version", "title", "source"};
    uint32_t ids[] = {p->name, p->version, p->title, p->source};
    for (int i = 0; i < 4; i++)
        if (ids[i] >= p->nstr)
            return vfail(v, "program %s: string id %u out of range (nstr %u)", idn[i], ids[i], p->nstr);
    for (uint32_t i = 0; i < p->nlayers; i++) STR_OK(p->layers[i], "layer", i, "name");

    for (uint32_t i = 0; i < p->nconsts; i++) {
        q_val c = p->consts[i];
        uint8_t t = p->const_type[i];
        if (t >= QT__COUNT) return vfail(v, "constant %u: unknown type %u", i, t);
        switch (t) {
        case QT_INT: case QT_DECIMAL: case QT_PERCENT:
            if (c.d <= 0) return vfail(v, "constant %u: %s with denominator %lld", i, q_type_kind_name[t], (long long)c.d);
            break;
        case QT_BOOL:
            if (c.d != 1 || (c.n != 0 && c.n != 1)) return vfail(v, "constant %u: bool is not 0 or 1", i);
            break;
        case QT_DATE:
            if (c.d != 1) return vfail(v, "constant %u: date with d = %lld", i, (long long)c.d);
            break;
        case QT_STRING: {
            uintptr_t s = (uintptr_t)c.n, b0 = (uintptr_t)p->blob;
            if (s < b0 || s - b0 > p->blob_len || c.d < 0 || (uint64_t)c.d > p->blob_len - (s - b0))
                return vfail(v, "constant %u: string does not lie inside the string pool", i);
            break;
        }
        case QT_ENUM: case QT_SCALE:
            if (c.n < 0) return vfail(v, "constant %u: negative member ordinal %lld", i, (long long)c.n);
            break;
        default:
            return vfail(v, "constant %u: a %s cannot be a constant", i, q_type_kind_name[t]);
        }
    }

    for (uint32_t i = 0; i < p->ntypes; i++) {
        const q_type *t = &p->types[i];
        if (t->kind >= QT__COUNT) return vfail(v, "type %u: unknown kind %u", i, t->kind);
        STR_OK(t->name, "type", i, "name");
        STR_OK(t->label, "type", i, "label");
        switch (t->kind) {
        case QT_LIST:
            if (t->elem >= p->ntypes)
                return vfail(v, "type %u: list element type %u out of range (ntypes %u)", i, t->elem, p->ntypes);
            if (p->types[t->elem].kind == QT_LIST) return vfail(v, "type %u: list of lists", i);
            break;
        case QT_ENUM: case QT_SCALE:
            if (!in_range(t->first, t->count, p->nmembers))
                return vfail(v, "type %u: members %u..+%u out of range (nmembers %u)", i, t->first, t->count,
                             p->nmembers);
            break;
        case QT_STRUCT:
            if (!in_range(t->first, t->count, p->nfields))
                return vfail(v, "type %u: fields %u..+%u out of range (nfields %u)", i, t->first, t->count,
                             p->nfields);
            for (uint32_t j = 0; j < t->count; j++)
                if (p->fields[t->first + j].slot != j)
                    return vfail(v, "type %u: field %u has slot %u, expected %u", i, t->first + j,
                                 p->fields[t->first + j].slot, j);
            break;
        default:
            break;
        }
    }
    if (p->tier_type != QUY_NONE && p->tier_type >= p->ntypes)
        return vfail(v, "tier type %u out of range (ntypes %u)", p->tier_type, p->ntypes);

    for (uint32_t i = 0; i < p->nmembers; i++) {
        STR_OK(p->members[i].name, "member", i, "name");
        STR_OK(p->members[i].label, "member", i, "label");
    }

    for (uint32_t i = 0; i < p->nfields; i++) {
        const q_field *f = &p->fields[i];
        STR_OK(f->name, "field", i, "name");
        STR_OK(f->label, "field", i, "label");
        if (f->type >= p->ntypes) return vfail(v, "field %u: type %u out of range (ntypes %u)", i, f->type, p->ntypes);
        if (f->deflt != QUY_NONE && f->deflt >= p->nconsts)
            return vfail(v, "field %u: default constant %u out of range (nconsts %u)", i, f->deflt, p->nconsts);
        if (f->flags & ~(QF_OPTIONAL | QF_DEFAULT | QF_BATCH))
            return vfail(v, "field %u: unknown flags 0x%x", i, f->flags);
    }

    for (uint32_t k = 0; k < p->nkinds; k++) {
        const q_kind *kd = &p->kinds[k];
        STR_OK(kd->name, "kind", k, "name");
        STR_OK(kd->label, "kind", k, "label");
        if (!in_range(kd->first_field, kd->nfields, p->nfields))
            return vfail(v, "kind %u: fields %u..+%u out of range (nfields %u)", k, kd->first_field, kd->nfields,
                         p->nfields);
        if (kd->nfields > 65536u) return vfail(v, "kind %u: %u fields exceed the 65536 slots", k, kd->nfields);
        for (uint32_t j = 0; j < kd->nfields; j++)
            if (p->fields[kd->first_field + j].slot != j)
                return vfail(v, "kind %u: field %u has slot %u, expected %u", k, kd->first_field + j,
                             p->fields[kd->first_field + j].slot, j);
        if (!in_range(kd->first_check, kd->nchecks, p->nchecks))
            return vfail(v, "kind %u: checks %u..+%u out of range (nchecks %u)", k, kd->first_check, kd->nchecks,
                         p->nchecks);
        if (!in_range(kd->first_rule, kd->nrules, p->nrules))
            return vfail(v, "kind %u: rules %u..+%u out of range (nrules %u)", k, kd->first_rule, kd->nrules,
                         p->nrules);
        if (kd->entry != QUY_NONE && kd->entry >= p->ncode)
            return vfail(v, "kind %u: entry %u outside code (ncode %u)", k, kd->entry, p->ncode);
    }

    for (uint32_t i = 0; i < p->nchecks; i++) {
        const q_check *c = &p->checks[i];
        STR_OK(c->text, "check", i, "text");
        uint32_t k = kind_of_check(p, i);
        if (k == QUY_NONE) return vfail(v, "check %u: belongs to no kind", i);
        if (c->entry >= p->ncode) return vfail(v, "check %u: entry %u outside code (ncode %u)", i, c->entry, p->ncode);
        const q_kind *kd = &p->kinds[k];
        if (c->field != QUY_NONE && !(c->field >= kd->first_field && c->field - kd->first_field < kd->nfields))
            return vfail(v, "check %u: field %u is not a field of kind %u", i, c->field, k);
    }

    for (uint32_t i = 0; i < p->nrules; i++) {
        const q_rule *r = &p->rules[i];
        STR_OK(r->name, "rule", i, "name");
        STR_OK(r->label, "rule", i, "label");
        STR_OK(r->cite, "rule", i, "cite");
        STR_OK(r->layer, "rule", i, "layer");
        if (r->outcome >= QO__COUNT) return vfail(v, "rule %u: unknown outcome %u", i, r->outcome);
        if (r->flags & ~QR_OTHERWISE) return vfail(v, "rule %u: unknown flags 0x%x", i, r->flags);
        if (r->flag != QUY_NONE && r->flag >= p->nflagdefs)
            return vfail(v, "rule %u: flag %u out of range (nflags %u)", i, r->flag, p->nflagdefs);
        if (!in_range(r->first_clause, r->nclauses, p->nclauses))
            return vfail(v, "rule %u: clauses %u..+%u out of range (nclauses %u)", i, r->first_clause, r->nclauses,
                         p->nclauses);
        for (uint32_t j = 0; j < r->nclauses; j++)
            if (p->clauses[r->first_clause + j].rule != i)
                return vfail(v, "rule %u: clause %u names rule %u as its owner", i, r->first_clause + j,
                             p->clauses[r->first_clause + j].rule);
    }

    for (uint32_t i = 0; i < p->nclauses; i++) {
        const q_clause *c = &p->clauses[i];
        STR_OK(c->text, "clause", i, "text");
        STR_OK(c->label, "clause", i, "label");
        STR_OK(c->cite, "clause", i, "cite");
        STR_OK(c->layer, "clause", i, "layer");
        STR_OK(c->exc_text, "clause", i, "exception text");
        if (c->rule != QUY_NONE && c->rule >= p->nrules)
            return vfail(v, "clause %u: rule %u out of range (nrules %u)", i, c->rule, p->nrules);
        if (c->if_present > 1) return vfail(v, "clause %u: if_present is %u, not 0 or 1", i, c->if_present);
        if (!in_range(c->first_read, c->nreads, p->nreads))
            return vfail(v, "clause %u: reads %u..+%u out of range (nreads %u)", i, c->first_read, c->nreads,
                         p->nreads);
        /* the slots a clause reads are slots of its rule's kind; a flag's
         * clause has no rule, so it is held to the widest kind */
        uint32_t k = c->rule != QUY_NONE ? kind_of_rule(p, c->rule) : QUY_NONE;
        uint32_t limit = 0;
        if (k != QUY_NONE) {
            limit = p->kinds[k].nfields;
        } else {
            for (uint32_t kk = 0; kk < p->nkinds; kk++)
                if (p->kinds[kk].nfields > limit) limit = p->kinds[kk].nfields;
        }
        for (uint32_t j = 0; j < c->nreads; j++)
            if (p->reads[c->first_read + j] >= limit)
                return vfail(v, "clause %u: reads slot %u, but its kind has %u fields", i,
                             p->reads[c->first_read + j], limit);
    }

    for (uint32_t i = 0; i < p->nflagdefs; i++) {
        const q_flagdef *f = &p->flags[i];
        STR_OK(f->name, "flag", i, "name");
        STR_OK(f->message, "flag", i, "message");
        STR_OK(f->cite, "flag", i, "cite");
        STR_OK(f->layer, "flag", i, "layer");
        if (f->kind > QFL_GAP) return vfail(v, "flag %u: unknown kind %u", i, f->kind);
        if (f->clause != QUY_NONE && f->clause >= p->nclauses)
            return vfail(v, "flag %u: clause %u out of range (nclauses %u)", i, f->clause, p->nclauses);
    }

    for (uint32_t i = 0; i < p->nquotas; i++) {
        const q_quota *q = &p->quotas[i];
        STR_OK(q->per, "quota", i, "per");
        STR_OK(q->cite, "quota", i, "cite");
        STR_OK(q->layer, "quota", i, "layer");
        if (q->tier > QO_HTXSNV || q->of_tier > QO_HTXSNV)
            return vfail(v, "quota %u: tiers %u/%u are not tiers", i, q->tier, q->of_tier);
        if (q->rounding > QROUND_UP) return vfail(v, "quota %u: unknown rounding %u", i, q->rounding);
        if (q->basis > QBASIS_AT_LEAST) return vfail(v, "quota %u: unknown basis %u", i, q->basis);
        if (i > 0 && q->per != p->quotas[0].per) return vfail(v, "quota %u: groups by another field than quota 0", i);
        if (q->share.d <= 0 || q->share.n < 0)
            return vfail(v, "quota %u: share %lld/%lld is not a non-negative fraction", i, (long long)q->share.n,
                         (long long)q->share.d);
    }

    for (uint32_t i = 0; i < p->nbexprs; i++) {
        const q_bexpr *e = &p->bexprs[i];
        STR_OK(e->text, "batch expression", i, "text");
        if (e->kind >= p->nkinds) return vfail(v, "batch expression %u: kind %u out of range", i, e->kind);
        if (e->entry >= p->ncode)
            return vfail(v, "batch expression %u: entry %u outside code (ncode %u)", i, e->entry, p->ncode);
    }

    for (uint32_t i = 0; i < p->nqkeys; i++) {
        const q_qkey *k = &p->qkeys[i];
        if (k->quota >= p->nquotas || k->key >= p->quotas[k->quota].nkeys || k->kind >= p->nkinds ||
            k->expr >= p->nbexprs || p->bexprs[k->expr].kind != k->kind || k->desc > 1)
            return vfail(v, "quota key %u: quota %u key %u kind %u expression %u out of range", i, k->quota, k->key,
                         k->kind, k->expr);
    }

    for (uint32_t i = 0; i < p->ncaps; i++) {
        const q_cap *c = &p->caps[i];
        STR_OK(c->text, "cap", i, "text");
        STR_OK(c->cite, "cap", i, "cite");
        STR_OK(c->layer, "cap", i, "layer");
        if (c->kind >= p->nkinds) return vfail(v, "cap %u: kind %u out of range", i, c->kind);
        if (c->bound > QCAP_UNIT) return vfail(v, "cap %u: unknown bound %u", i, c->bound);
        if (c->bound == QCAP_TIER && c->tier > QO_HTXSNV) return vfail(v, "cap %u: bound %u is not a tier", i, c->tier);
        if (c->bound != QCAP_TIER) {
            if (c->slot >= p->kinds[c->kind].nfields) return vfail(v, "cap %u: slot %u out of range", i, c->slot);
            const q_field *f = &p->fields[p->kinds[c->kind].first_field + c->slot];
            uint8_t want = c->bound == QCAP_FIELD ? QT_SCALE : QT_STRING;
            if (f->type >= p->ntypes || p->types[f->type].kind != want ||
                (c->bound == QCAP_FIELD && f->type != p->tier_type))
                return vfail(v, "cap %u: field in slot %u has the wrong type", i, c->slot);
        }
        uint32_t ex[2] = {c->when, c->unless};
        for (int j = 0; j < 2; j++)
            if (ex[j] != QUY_NONE && (ex[j] >= p->nbexprs || p->bexprs[ex[j]].kind != c->kind))
                return vfail(v, "cap %u: condition %u out of range or of another kind", i, ex[j]);
    }

    for (uint32_t i = 0; i < p->nsources; i++) {
        STR_OK(p->sources[i].name, "source", i, "name");
        STR_OK(p->sources[i].text, "source", i, "text");
    }

    for (uint32_t i = 0; i < p->nparams; i++) {
        STR_OK(p->params[i].name, "hook parameter", i, "name");
        if (p->params[i].type >= p->ntypes)
            return vfail(v, "hook parameter %u: type %u out of range (ntypes %u)", i, p->params[i].type, p->ntypes);
        if (p->types[p->params[i].type].kind == QT_STRUCT)
            return vfail(v, "hook parameter %u: a struct (only a list of structs can be passed)", i);
    }
    for (uint32_t i = 0; i < p->nhooks; i++) {
        const q_hook *h = &p->hooks[i];
        STR_OK(h->name, "hook", i, "name");
        STR_OK(h->file, "hook", i, "file");
        STR_OK(h->source, "hook", i, "source");
        STR_OK(h->layer, "hook", i, "layer");
        if (h->result != QUY_NONE) {
            if (h->result >= p->ntypes)
                return vfail(v, "hook %u: result type %u out of range (ntypes %u)", i, h->result, p->ntypes);
            uint8_t rk = p->types[h->result].kind;
            if (rk == QT_LIST || rk == QT_STRUCT) return vfail(v, "hook %u: a %s result", i, q_type_kind_name[rk]);
        }
        if (!in_range(h->first_param, h->nparams, p->nparams))
            return vfail(v, "hook %u: parameters %u..+%u out of range (nparams %u)", i, h->first_param, h->nparams,
                         p->nparams);
        if (h->nparams > QUY_MAX_STACK)
            return vfail(v, "hook %u: %u parameters exceed the stack (%d)", i, h->nparams, QUY_MAX_STACK);
    }
    for (uint32_t i = 0; i < p->nadjusts; i++) {
        const q_adjust *a = &p->adjusts[i];
        if (a->kind >= p->nkinds) return vfail(v, "adjust step %u: kind %u out of range (nkinds %u)", i, a->kind, p->nkinds);
        if (a->hook >= p->nhooks) return vfail(v, "adjust step %u: hook %u out of range (nhooks %u)", i, a->hook, p->nhooks);
        if (p->hooks[a->hook].result != QUY_NONE)
            return vfail(v, "adjust step %u: hook %u does not return an adjustment", i, a->hook);
        if (a->phase > QA_TIER) return vfail(v, "adjust step %u: unknown phase %u", i, a->phase);
        if (a->flag >= p->nflagdefs)
            return vfail(v, "adjust step %u: flag %u out of range (nflags %u)", i, a->flag, p->nflagdefs);
    }
    return true;
}

/* ---------------------------------------------------------------------
 * Code
 * ------------------------------------------------------------------- */

typedef struct vstate {
    int32_t depth;                  /* operand stack depth; -1: not reached yet */
    uint32_t nloops;                /* active loop registers */
    uint8_t order[QUY_MAX_LOOPS];   /* active registers, outermost first */
    uint16_t lslot[QUY_MAX_LOOPS];  /* the list slot each register iterates */
} vstate;

typedef struct vblock {
    uint32_t kind;  /* the kind whose slots the block reads */
    uint32_t check; /* check index, or QUY_NONE for the rate block */
    uint32_t expr;  /* batch expression index, or QUY_NONE */
} vblock;

typedef struct vcode {
    vctx *v;
    q_program *p;
    vstate *st;      /* [ncode] */
    uint32_t *owner; /* [ncode]: block id, QUY_NONE if unreached */
    uint32_t *work;  /* [ncode] worklist */
    uint32_t nwork;
    vblock *blocks;
    uint32_t nblocks;
    uint32_t max_depth;
} vcode;

static void block_name(const vcode *c, uint32_t b, char *buf, size_t size)
{
    const vblock *bl = &c->blocks[b];
    const char *kn = prog_str(c->p, c->p->kinds[bl->kind].name);
    if (bl->expr != QUY_NONE)
        snprintf(buf, size, "batch expression %u of kind '%s'", bl->expr, kn);
    else if (bl->check == QUY_NONE)
        snprintf(buf, size, "the rate block of kind '%s'", kn);
    else
        snprintf(buf, size, "check %u of kind '%s'", bl->check, kn);
}

static bool same_loops(const vstate *a, const vstate *b)
{
    if (a->nloops != b->nloops) return false;
    for (uint32_t i = 0; i < a->nloops; i++)
        if (a->order[i] != b->order[i] || a->lslot[a->order[i]] != b->lslot[b->order[i]]) return false;
    return true;
}

/* Flow state `s` from instruction `from` into `to`. */
static bool flow(vcode *c, uint32_t blk, uint32_t from, uint32_t to, const vstate *s, bool fall)
{
    q_program *p = c->p;
    const char *fname = op_table[p->code[from].op].name;
    if (to >= p->ncode) {
        if (fall)
            return vfail(c->v, "instruction %u (%s): runs off the end of the code (ncode %u) without HALT", from,
                         fname, p->ncode);
        return vfail(c->v, "instruction %u (%s): jump target %u outside code (ncode %u)", from, fname, to, p->ncode);
    }
    const char *tname = p->code[to].op < OP__COUNT ? op_table[p->code[to].op].name : "?";
    if (c->owner[to] == QUY_NONE) {
        c->owner[to] = blk;
        c->st[to] = *s;
        c->work[c->nwork++] = to;
        return true;
    }
    if (c->owner[to] != blk) {
        char a[160], b[160];
        block_name(c, blk, a, sizeof a);
        block_name(c, c->owner[to], b, sizeof b);
        return vfail(c->v, "instruction %u (%s): reached from both %s (via instruction %u) and %s; missing HALT?", to,
                     tname, a, from, b);
    }
    const vstate *t = &c->st[to];
    if (t->depth != s->depth)
        return vfail(c->v, "instruction %u (%s): stack depth %d when reached from instruction %u, but %d on another path",
                     to, tname, s->depth, from, t->depth);
    if (!same_loops(t, s))
        return vfail(c->v, "instruction %u (%s): active loops differ between instruction %u and another path", to, tname,
                     from);
    return true;
}

static const q_field *slot_field(const q_program *p, const vblock *bl, uint32_t slot)
{
    return &p->fields[p->kinds[bl->kind].first_field + slot];
}

/* Checks one instruction reached with state `s`, and flows to its successors. */
static bool step(vcode *c, uint32_t blk, uint32_t i)
{
    q_program *p = c->p;
    vctx *v = c->v;
    const vblock *bl = &c->blocks[blk];
    const q_kind *kd = &p->kinds[bl->kind];
    const q_instr in = p->code[i];
    vstate s = c->st[i];

    if (in.op >= OP__COUNT) return vfail(v, "instruction %u: unknown opcode %u (OP__COUNT %u)", i, in.op, OP__COUNT);
    const op_info *oi = &op_table[in.op];
    const char *nm = oi->name;
    int pop = oi->pop, push = oi->push;

    /* operands, by format */
    switch (oi->format) {
    case OPF_NONE:
        break;
    case OPF_K:
        if (in.b >= p->nconsts)
            return vfail(v, "instruction %u (%s): constant index %u out of range (nconsts %u)", i, nm, in.b, p->nconsts);
        break;
    case OPF_SLOT:
    case OPF_SLOTJ:
        if (in.a >= kd->nfields)
            return vfail(v, "instruction %u (%s): slot %u out of range (kind '%s' has %u fields)", i, nm, in.a,
                         prog_str(p, kd->name), kd->nfields);
        if (in.op == OP_LOADF && in.c > 1) return vfail(v, "instruction %u (%s): unknown mode c = %u (0 or 1)", i, nm, in.c);
        if (in.op == OP_PERIODDATE && (p->types[slot_field(p, bl, in.a)->type].kind != QT_STRING || !q_period_spec_ok(in.b)))
            return vfail(v, "instruction %u (%s): slot %u ('%s') is not a string, or %u names no day of a period", i, nm,
                         in.a, prog_str(p, slot_field(p, bl, in.a)->name), in.b);
        if (in.op == OP_LEN && p->types[slot_field(p, bl, in.a)->type].kind != QT_LIST)
            return vfail(v, "instruction %u (%s): slot %u ('%s') is not a list", i, nm, in.a,
                         prog_str(p, slot_field(p, bl, in.a)->name));
        break;
    case OPF_LOOP:
        if (in.a >= QUY_MAX_LOOPS)
            return vfail(v, "instruction %u (%s): loop register %u out of range (QUY_MAX_LOOPS %d)", i, nm, in.a,
                         QUY_MAX_LOOPS);
        if (in.b >= kd->nfields)
            return vfail(v, "instruction %u (%s): list slot %u out of range (kind '%s' has %u fields)", i, nm, in.b,
                         prog_str(p, kd->name), kd->nfields);
        if (p->types[slot_field(p, bl, in.b)->type].kind != QT_LIST)
            return vfail(v, "instruction %u (%s): slot %u ('%s') is not a list", i, nm, in.b,
                         prog_str(p, slot_field(p, bl, in.b)->name));
        if (in.c > QK__LAST) return vfail(v, "instruction %u (%s): unknown quantifier kind %u", i, nm, in.c);
        break;
    case OPF_QEND:
        if (in.b >= p->ntypes)
            return vfail(v, "instruction %u (%s): result type %u out of range (ntypes %u)", i, nm, in.b, p->ntypes);
        /* fall through */
    case OPF_ESLOT:
    case OPF_LOOPJ:
    case OPF_QSTEP:
        if (in.a >= QUY_MAX_LOOPS)
            return vfail(v, "instruction %u (%s): loop register %u out of range (QUY_MAX_LOOPS %d)", i, nm, in.a,
                         QUY_MAX_LOOPS);
        break;
    case OPF_JUMP:
        break;
    case OPF_CLAUSE:
    case OPF_CMETA:
        if (in.a >= p->nclauses)
            return vfail(v, "instruction %u (%s): clause %u out of range (nclauses %u)", i, nm, in.a, p->nclauses);
        break;
    case OPF_RULE:
        if (bl->check != QUY_NONE || bl->expr != QUY_NONE)
            return vfail(v, "instruction %u (%s): DECIDE outside a rate block", i, nm);
        if (in.a >= p->nrules)
            return vfail(v, "instruction %u (%s): rule %u out of range (nrules %u)", i, nm, in.a, p->nrules);
        if (!(in.a >= kd->first_rule && in.a - kd->first_rule < kd->nrules))
            return vfail(v, "instruction %u (%s): rule %u is not a rule of kind '%s'", i, nm, in.a, prog_str(p, kd->name));
        break;
    case OPF_FLAG:
        if (in.a >= p->nflagdefs)
            return vfail(v, "instruction %u (%s): flag %u out of range (nflags %u)", i, nm, in.a, p->nflagdefs);
        break;
    case OPF_HOOK:
        if (in.a >= p->nhooks)
            return vfail(v, "instruction %u (%s): hook %u out of range (nhooks %u)", i, nm, in.a, p->nhooks);
        if (in.b != p->hooks[in.a].nparams)
            return vfail(v, "instruction %u (%s): %u arguments, but hook '%s' takes %u", i, nm, in.b,
                         prog_str(p, p->hooks[in.a].name), p->hooks[in.a].nparams);
        pop = (int)in.b;
        /* an adjustment is consumed by the ADJUST of a step of this hook */
        if (p->hooks[in.a].result == QUY_NONE &&
            (i + 1 >= p->ncode || p->code[i + 1].op != OP_ADJUST || p->code[i + 1].a >= p->nadjusts ||
             p->adjusts[p->code[i + 1].a].hook != in.a))
            return vfail(v, "instruction %u (%s): hook '%s' returns an adjustment: an ADJUST of its step must follow",
                         i, nm, prog_str(p, p->hooks[in.a].name));
        break;
    case OPF_ADJUST:
        if (bl->check != QUY_NONE) return vfail(v, "instruction %u (%s): ADJUST outside a rate block", i, nm);
        if (in.a >= p->nadjusts)
            return vfail(v, "instruction %u (%s): adjust step %u out of range (nadjusts %u)", i, nm, in.a, p->nadjusts);
        if (p->adjusts[in.a].kind != bl->kind)
            return vfail(v, "instruction %u (%s): adjust step %u is not a step of kind '%s'", i, nm, in.a,
                         prog_str(p, kd->name));
        if (i == 0 || p->code[i - 1].op != OP_CALLHOOK || p->code[i - 1].a != p->adjusts[in.a].hook)
            return vfail(v, "instruction %u (%s): must follow the CALLHOOK of its step's hook", i, nm);
        break;
    }

    /* the loop registers: properly nested */
    uint32_t inner = s.nloops ? s.order[s.nloops - 1] : QUY_NONE;
    bool active = false;
    for (uint32_t j = 0; j < s.nloops; j++)
        if (s.order[j] == in.a) active = true;
    switch (in.op) {
    case OP_OUTCOME:
    case OP_UNRATED:
        if (bl->check != QUY_NONE) return vfail(v, "instruction %u (%s): outside a rate block", i, nm);
        break;
    case OP_QBEGIN:
        if (active) return vfail(v, "instruction %u (%s): loop register %u is already in use", i, nm, in.a);
        if (s.nloops >= QUY_MAX_LOOPS)
            return vfail(v, "instruction %u (%s): more than %d nested loops", i, nm, QUY_MAX_LOOPS);
        s.order[s.nloops++] = (uint8_t)in.a;
        s.lslot[in.a] = (uint16_t)in.b;
        break;
    case OP_QNEXT:
    case OP_QSTEP:
    case OP_QFILTER:
    case OP_QEND:
        if (inner != in.a) {
            if (inner == QUY_NONE)
                return vfail(v, "instruction %u (%s): loop register %u is not active (no loop is)", i, nm, in.a);
            return vfail(v, "instruction %u (%s): loop register %u is not the innermost loop (%u is)", i, nm, in.a,
                         inner);
        }
        if (in.op == OP_QEND) s.nloops--;
        break;
    case OP_ELEM:
    case OP_ELEMF: {
        if (!active) return vfail(v, "instruction %u (%s): loop register %u is not active", i, nm, in.a);
        const q_type *lt = &p->types[slot_field(p, bl, s.lslot[in.a])->type];
        const q_type *et = &p->types[lt->elem];
        if (in.op == OP_ELEM && et->kind == QT_STRUCT)
            return vfail(v, "instruction %u (%s): loop register %u iterates a list of structs; use ELEMF", i, nm, in.a);
        if (in.op == OP_ELEMF) {
            if (et->kind != QT_STRUCT)
                return vfail(v, "instruction %u (%s): loop register %u iterates a list of %s, not of structs", i, nm,
                             in.a, q_type_kind_name[et->kind]);
            if (in.b >= et->count)
                return vfail(v, "instruction %u (%s): struct field %u out of range (the struct has %u fields)", i, nm,
                             in.b, et->count);
        }
        break;
    }
    default:
        break;
    }

    /* the stack */
    if (s.depth < pop)
        return vfail(v, "instruction %u (%s): stack underflow: needs %d values, has %d", i, nm, pop, s.depth);
    int32_t before = s.depth;
    s.depth = s.depth - pop + push;
    if (s.depth > QUY_MAX_STACK)
        return vfail(v, "instruction %u (%s): stack overflow: depth %d exceeds QUY_MAX_STACK %d", i, nm, s.depth,
                     QUY_MAX_STACK);
    if ((uint32_t)s.depth > c->max_depth) c->max_depth = (uint32_t)s.depth;

    /* successors */
    switch (in.op) {
    case OP_HALT: {
        int32_t want = bl->check == QUY_NONE && bl->expr == QUY_NONE ? 0 : 1;
        if (s.nloops)
            return vfail(v, "instruction %u (%s): loop register %u still active at HALT", i, nm, s.order[s.nloops - 1]);
        if (s.depth != want)
            return vfail(v, "instruction %u (%s): stack depth %d at HALT, %s must end with %d", i, nm, s.depth,
                         bl->check == QUY_NONE ? "a rate block" : "a check", want);
        return true;
    }
    case OP_JMP:
        if (in.b <= i && in.b < p->ncode)
            return vfail(v, "instruction %u (%s): backward jump to %u (only QSTEP jumps back)", i, nm, in.b);
        return flow(c, blk, i, in.b, &s, false);
    case OP_QSTEP:
    case OP_QFILTER: /* QFILTER: back to the QNEXT (element skipped), or on */
        if (in.b >= p->ncode)
            return vfail(v, "instruction %u (%s): jump target %u outside code (ncode %u)", i, nm, in.b, p->ncode);
        if (in.b >= i || p->code[in.b].op != OP_QNEXT || p->code[in.b].a != in.a)
            return vfail(v, "instruction %u (%s): target %u is not the QNEXT heading loop register %u", i, nm, in.b,
                         in.a);
        if (in.op == OP_QSTEP) return flow(c, blk, i, in.b, &s, false);
        if (!flow(c, blk, i, in.b, &s, false)) return false;
        break;
    case OP_JFKEEP:
    case OP_JTKEEP: {
        /* taken: the value stays; fall-through: it is popped */
        vstate taken = s;
        taken.depth = before;
        s.depth = before - 1;
        if (in.b <= i && in.b < p->ncode)
            return vfail(v, "instruction %u (%s): backward jump to %u (only QSTEP jumps back)", i, nm, in.b);
        return flow(c, blk, i, in.b, &taken, false) && flow(c, blk, i, i + 1, &s, true);
    }
    case OP_IFABSENT:
        /* c = 1: the rule fails instead; the VM then takes the failure
         * jump of the CLAUSE just before b, so that is a successor too */
        if (in.c > 1) return vfail(v, "instruction %u (%s): unknown mode c = %u (0 or 1)", i, nm, in.c);
        if (in.c == 1) {
            if (in.b == 0 || in.b > p->ncode || p->code[in.b - 1].op != OP_CLAUSE)
                return vfail(v, "instruction %u (%s): with c = 1 the target %u must follow a CLAUSE", i, nm, in.b);
            uint32_t fb = p->code[in.b - 1].b;
            if (fb <= i && fb < p->ncode)
                return vfail(v, "instruction %u (%s): backward jump to %u (only QSTEP jumps back)", i, nm, fb);
            if (!flow(c, blk, i, fb, &s, false)) return false;
        }
        break;
    default:
        break;
    }
    switch (oi->format) {
    case OPF_JUMP:
    case OPF_SLOTJ:
    case OPF_LOOPJ:
    case OPF_CLAUSE:
    case OPF_RULE:
        if (in.b <= i && in.b < p->ncode)
            return vfail(v, "instruction %u (%s): backward jump to %u (only QSTEP jumps back)", i, nm, in.b);
        if (!flow(c, blk, i, in.b, &s, false)) return false;
        break;
    default:
        break;
    }
    return flow(c, blk, i, i + 1, &s, true);
}

static bool verify_code(vctx *v)
{
    q_program *p = v->p;
    vcode c = {.v = v, .p = p};
    bool ok = false;
    size_t n = p->ncode ? p->ncode : 1;
    c.st = calloc(n, sizeof *c.st);
    c.owner = malloc(n * sizeof *c.owner);
    c.work = malloc(n * sizeof *c.work);
    c.blocks = malloc(((size_t)p->nkinds + p->nchecks + p->nbexprs + 1) * sizeof *c.blocks);
    if (!c.st || !c.owner || !c.work || !c.blocks) {
        vfail(v, "out of memory verifying %u instructions", p->ncode);
        goto done;
    }
    for (uint32_t i = 0; i < p->ncode; i++) c.owner[i] = QUY_NONE;

    for (uint32_t k = 0; k < p->nkinds; k++)
        if (p->kinds[k].entry != QUY_NONE) c.blocks[c.nblocks++] = (vblock){k, QUY_NONE, QUY_NONE};
    for (uint32_t i = 0; i < p->nchecks; i++) c.blocks[c.nblocks++] = (vblock){kind_of_check(p, i), i, QUY_NONE};
    for (uint32_t i = 0; i < p->nbexprs; i++) c.blocks[c.nblocks++] = (vblock){p->bexprs[i].kind, QUY_NONE, i};

    for (uint32_t b = 0; b < c.nblocks; b++) {
        uint32_t e = c.blocks[b].expr != QUY_NONE    ? p->bexprs[c.blocks[b].expr].entry
                     : c.blocks[b].check == QUY_NONE ? p->kinds[c.blocks[b].kind].entry
                                                     : p->checks[c.blocks[b].check].entry;
        char name[160];
        block_name(&c, b, name, sizeof name);
        if (c.owner[e] != QUY_NONE) {
            char other[160];
            block_name(&c, c.owner[e], other, sizeof other);
            vfail(v, "instruction %u: entry of %s is already part of %s", e, name, other);
            goto done;
        }
        c.owner[e] = b;
        c.st[e] = (vstate){.depth = 0};
        c.nwork = 0;
        c.work[c.nwork++] = e;
        while (c.nwork) {
            uint32_t i = c.work[--c.nwork];
            if (!step(&c, b, i)) goto done;
        }
    }
    p->max_stack = c.max_depth;
    ok = true;
done:
    free(c.st);
    free(c.owner);
    free(c.work);
    free(c.blocks);
    return ok;
}

bool bc_verify(q_program *p, char *err, size_t errsize)
{
    vctx v = {.p = p, .err = err, .errsize = errsize};
    if (err && errsize) err[0] = 0;
    return verify_tables(&v) && verify_code(&v);
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
