/*
 * record_int.h — what the record reader's files share (private to
 * runtime/record*.c; the public interface is record.h).
 *
 *   record.c       the reader: input buffer, format sniffing, the record
 *                  buffer and string arena, errors, values from text (CSV
 *                  cells), exact numbers, NFC, the declared checks, copies
 *   record_json.c  JSON Lines and JSON arrays: a schema-directed decoder
 *                  (bytes -> slots, no DOM) over the re2c token scanner
 *   record_scan.re the JSON token scanner (re2c), UTF-8 validated
 *   record_csv.c   CSV with a header row (libcsv)
 */
#ifndef QUY_RECORD_INT_H
#define QUY_RECORD_INT_H

#include <csv.h>
#include <stdarg.h>
#include <string.h>

#include "record.h"
#include "strset.h"

#define MAPPED 1u /* CSV column map: the kind's entry after its fields */

/* String arena: chunks that never move, reset per record. */
typedef struct rec_chunk {
    struct rec_chunk *next;
    size_t cap, used;
    char data[];
} rec_chunk;

typedef struct rec_arena {
    rec_chunk *head, *cur;
} rec_arena;

/* (scope, name) -> index: the declared names the decoders look up, in an
 * open-addressed table of the program's names only (so that how long a
 * probe runs never depends on the input). Scopes: */
enum {
    NS_KIND = 0u << 30,    /* | k: the fields of kind k (index within the kind) */
    NS_STRUCT = 1u << 30,  /* | t: the fields of struct type t (index within the type) */
    NS_MEMBERS = 2u << 30, /* | t: the members of enum or scale t (index within the type) */
};
/* A short name followed by its closing quote (`tot"`, at most 16 bytes;
 * a key's, at most 32), as masked words: rec_pat_match compares it without
 * a branch that depends on the name (the names met in a record vary from
 * one value to the next, and a mispredicted branch costs more than the
 * comparison: callgrind --branch-sim, bench/README.md "Record reader"). */
typedef struct rec_pat {
    uint64_t w[2], m[2]; /* m == {0, 0}: the name is too long or not plain; never matches */
} rec_pat;
typedef struct rec_kpat {
    uint64_t w[4], m[4]; /* the same for a key */
} rec_kpat;

typedef struct rec_name {
    const char *s; /* NULL: an empty entry */
    uint32_t len, scope, idx;
} rec_name;

struct rec_reader {
    const q_program *p;
    struct hook_session *hooks; /* the caller's, for checks that call hooks (may be NULL) */
    FILE *in;
    char name[256];
    rec_format fmt;    /* REC_AUTO until sniffed */
    rec_limits lim;
    rec_warn_fn warn;
    void *warn_ctx;

    /* input buffer: always one spare byte past `end` for a NUL sentinel */
    char *buf;
    size_t cap, start, end;
    bool eof;          /* fread reached the end (or failed) */
    bool io_reported;  /* a read error was reported */
    bool nomem;        /* the input buffer could not grow: the rest is not read (an error, not the end) */
    bool sniffed;      /* BOM and leading white space skipped, format known */
    bool done;         /* no more records */
    uint32_t line;     /* physical lines consumed so far */
    uint32_t index;    /* records seen so far (valid or not) */

    /* the current record */
    q_record rec;
    uint32_t maxfields; /* largest kind: size of slots / present */
    uint32_t elem_cap;
    rec_arena strings;
    const char *cur_id; /* id of the record being decoded, for errors */
    uint32_t cur_line;
    uint32_t cur_col;   /* column of the value being decoded (1-based; 0 unknown) */
    const char *pos_base; /* JSON: the first byte of line cur_line */
    const char *pos;      /* JSON: the value being decoded (line and column from these) */
    const char **fname; /* [nfields]: each field's name, and its length */
    uint32_t *flen;
    bool *fplain;       /* [nfields]: the name scans as a JSON string as it is (no '"', '\\', control) */
    uint32_t *follow;   /* [nfields + nkinds]: the field (index in its kind) that came after field f
                           in the last record with f, or at nfields + k the first field of kind k;
                           QUY_NONE if none: the key predicted (record_json.c) */
    const char **mname; /* [nmembers]: each enum/scale member's name */
    uint32_t *mlen;     /* [nmembers]: its length, UINT32_MAX if it is not plain (see fplain) */
    rec_kpat *fpat;     /* [nfields]: each plain field name with its quote (see fplain) */
    rec_pat *mpat;      /* [nmembers]: each plain member name with its quote */
    rec_name *names;    /* the names table (rec_name_find), names_mask + 1 entries */
    uint32_t names_mask;
    bool nocol;         /* the text decoded is a copy (rec_decode_json): no columns */
    bool arr_open;      /* JSON array: '[' consumed */
    bool arr_after;     /* JSON array: an element was read; ',' or ']' next */
    bool skipping;      /* discarding the rest of a line longer than max_line */
    bool warn_raw;      /* rec_reader_warn_raw: every warning passed on, not deduplicated here */
    const char *warn_key; /* warn_raw: the key of the warning being passed on */
    size_t warn_keylen;

    strset ids;        /* id -> line first seen */
    rec_id_fn id_fn;   /* rec_reader_on_id: the caller's id set instead of `ids` */
    void *id_ctx;
    strset warned;     /* unknown field names already warned about */

    /* JSON */
    uint32_t *seen;    /* [maxfields]: == gen when the field was given in this record */
    uint32_t gen;      /* record generation, for `seen` */
    strset keys;       /* [object serial: 4 bytes][key] of undeclared keys, this record */
    uint32_t objser;   /* object serial within the record */
    q_val *scratch;    /* list items being read, a stack (indexes: it moves) */
    size_t nscratch, scratch_cap;
    char *unesc;       /* a JSON string with escapes, decoded */
    size_t unesc_cap;

    /* CSV */
    struct csv_parser csv;
    bool csv_ready;    /* csv initialised */
    bool have_header;
    bool in_row;       /* a row has begun and not ended */
    bool row_done;     /* the row just fed is complete */
    bool cell_oom;     /* a cell could not be stored (out of memory) */
    uint32_t row_line; /* physical line the current row began on */
    char *rowtext;     /* the raw lines of the current row (replayed after an unterminated quote) */
    size_t row_len, row_cap;
    char *replay;      /* lines to read again before the input */
    size_t replay_len, replay_pos;
    uint32_t *dupcol;  /* [ncols]: the earlier column of the same name, QUY_NONE if none */
    char *cellbuf;     /* cell texts, NUL-terminated, back to back */
    size_t cell_len, cell_cap;
    size_t *cell_off;  /* [ncells]; SIZE_MAX = NULL (empty unquoted) cell */
    uint32_t ncells, cell_max;
    char **cols;       /* header names */
    uint32_t ncols;
    uint32_t col_id, col_kind; /* QUY_NONE if the header lacks them */
    uint32_t *fcol;    /* [nkinds * (maxfields + 1)]: column of each field of a kind, then
                          MAPPED once the kind's columns are resolved */
    char show[160];    /* scratch: a value rendered for a message */
};

#define ATTR_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* errors (record.c) */
ATTR_PRINTF(5, 6)
int rec_fail(rec_reader *r, rec_error *err, const char *code, const char *field, const char *fmt, ...);
int rec_fail_oom(rec_reader *r, rec_error *err);
int rec_fail_type(rec_reader *r, rec_error *err, const char *path, uint32_t t, const char *shown);
int rec_fail_member(rec_reader *r, rec_error *err, const char *path, uint32_t t, const char *shown);
int rec_unknown_kind(rec_reader *r, const char *shown, rec_error *err);
void rec_warn_unknown_field(rec_reader *r, const char *name, size_t len, uint32_t kind);
const char *rec_show_text(rec_reader *r, const char *s, size_t len);
/* the longest prefix of s (at most max bytes) that ends on a character boundary */
size_t rec_utf8_cut(const char *s, size_t len, size_t max);

/* record buffer (record.c) */
void rec_begin(rec_reader *r, uint32_t line);
bool rec_reserve_elems(rec_reader *r, size_t n, uint32_t *first);
const char *rec_store_str(rec_reader *r, const char *s, size_t len);
/* A string of the record, validated as UTF-8 and normalised to NFC, stored
 * in the arena: 0 and *out, or -1 with *err filled. */
int rec_store_text(rec_reader *r, const char *s, size_t len, const char *path, const char **out, size_t *outlen,
                   rec_error *err);
int rec_set_id(rec_reader *r, const char *s, size_t len, bool check_dup, rec_error *err);
int rec_absent(rec_reader *r, const q_field *f, const char *path, q_val *out, uint8_t *present, rec_error *err);
int rec_finish(rec_reader *r, uint32_t k, q_record **out, rec_error *err);
/* After a missing_field error: append the other required fields from `from` on that are absent too. */
void rec_more_missing(rec_reader *r, const q_kind *kd, uint32_t from,
                      bool (*absent)(rec_reader *, const void *, uint32_t), const void *ctx, rec_error *err);
uint32_t rec_field_index(rec_reader *r, uint32_t k, const char *name, size_t len);
/* The index of `name` in `scope` (NS_*), QUY_NONE if it has none. */
uint32_t rec_name_find(const rec_reader *r, uint32_t scope, const char *name, size_t len);

/* n bytes of a and b equal (both readable for n bytes): word by word, the
 * last word overlapping; the names compared are short. */
static inline uint64_t rec_load8(const char *s)
{
    uint64_t v;
    memcpy(&v, s, 8);
    return v;
}
static inline uint32_t rec_load4(const char *s)
{
    uint32_t v;
    memcpy(&v, s, 4);
    return v;
}
static inline bool rec_same(const char *a, const char *b, size_t n)
{
    if (n >= 8) {
        for (size_t i = 0; i + 8 < n; i += 8)
            if (rec_load8(a + i) != rec_load8(b + i)) return false;
        return rec_load8(a + n - 8) == rec_load8(b + n - 8);
    }
    if (n >= 4) return rec_load4(a) == rec_load4(b) && rec_load4(a + n - 4) == rec_load4(b + n - 4);
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i]) return false;
    return true;
}
/* prog_find_member by the names table. */
int rec_find_member(const rec_reader *r, uint32_t t, const char *name, size_t len);

/* Exact numbers (record.c). A JSON number's text -> the exact rational of
 * the field's type (int, decimal, percent: /100): 0, or -1 with *err
 * naming the field (not a number of that type, or more digits than the
 * type holds exactly). `csv`: the text of a CSV cell (a leading '+', a
 * trailing '%' for percents and surrounding blanks allowed). */
int rec_number(rec_reader *r, uint32_t t, const char *s, size_t len, const char *path, bool csv, q_val *out,
               rec_error *err);

/* The common case of rec_number without its general path: [-] 1 to 18
 * digits, nothing else, for an int, a decimal or a percent (v/100,
 * reduced): the same rational. False: take rec_number. */
static inline bool rec_plain_integer(const q_type *ty, const char *s, size_t len, q_val *out)
{
    bool neg = len && s[0] == '-';
    size_t i = neg;
    if (len - i < 1 || len - i > 18) return false;
    int64_t v = 0;
    for (; i < len; i++) {
        unsigned d = (unsigned)(unsigned char)s[i] - '0';
        if (d > 9) return false;
        v = v * 10 + (int64_t)d;
    }
    if (ty->kind == QT_INT || ty->kind == QT_DECIMAL) {
        *out = q_int(neg ? -v : v);
        return true;
    }
    if (ty->kind != QT_PERCENT) return false;
    int64_t a = v, b = 100; /* v/100 in lowest terms */
    while (b) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    *out = v == 0 ? q_int(0) : (q_val){neg ? -(v / a) : v / a, 100 / a};
    return true;
}

/* s (16 readable bytes) begins with the pattern (no pattern matches a
 * zero mask: see rec_pat). */
static inline bool rec_pat_match(const rec_pat *p, const char *s)
{
    return ((((rec_load8(s) ^ p->w[0]) & p->m[0]) | ((rec_load8(s + 8) ^ p->w[1]) & p->m[1])) == 0) &
           ((p->m[0] | p->m[1]) != 0);
}

/* s (32 readable bytes) begins with the key's pattern. */
static inline bool rec_kpat_match(const rec_kpat *p, const char *s)
{
    uint64_t d = 0;
    for (int i = 0; i < 4; i++) d |= (rec_load8(s + 8 * i) ^ p->w[i]) & p->m[i];
    return (d == 0) & ((p->m[0] | p->m[1]) != 0);
}

/* input (record.c) */
bool rec_fill(rec_reader *r);
long rec_next_line(rec_reader *r, const char **s);
bool rec_blank(const char *s, size_t n);
int rec_io_error(rec_reader *r, rec_error *err);
int rec_line_too_long(rec_reader *r, rec_error *err);

/* formats */
int rec_next_jsonl(rec_reader *r, q_record **out, rec_error *err);
int rec_next_json(rec_reader *r, q_record **out, rec_error *err);
int rec_next_csv(rec_reader *r, q_record **out, rec_error *err);
void rec_json_free(rec_reader *r);
void rec_csv_free(rec_reader *r);
/* Decode one JSON object from text (NUL at s[len]); `line`: line of s[0]. */
int rec_json_object(rec_reader *r, const char *s, size_t len, uint32_t line, bool check_dup, q_record **out,
                    rec_error *err);
/* CSV cell text -> a value of type t (record_csv.c; lists of structs are
 * JSON text inside the cell, decoded by record_json.c). */
int rec_json_value_text(rec_reader *r, uint32_t t, const char *s, size_t len, const char *path, q_val *out,
                        rec_error *err);

/* JSON tokens (record_scan.re) */
typedef enum rec_jtok {
    JT_END,      /* the NUL sentinel (or an embedded NUL: the caller checks) */
    JT_LBRACE, JT_RBRACE, JT_LBRACKET, JT_RBRACKET, JT_COLON, JT_COMMA,
    JT_STRING,   /* "…" without escapes: [tok+1, cur-1) */
    JT_STRING_ESC, /* "…" with escapes (syntax checked; decode with rec_json_unescape) */
    JT_NUMBER,   /* JSON number syntax */
    JT_TRUE, JT_FALSE, JT_NULL,
    JT_BAD_UTF8, /* invalid UTF-8 inside a string */
    JT_BAD_ESCAPE, JT_CONTROL, /* a bad escape, a raw control character in a string */
    JT_UNTERMINATED, /* a string not closed before the end */
    JT_ERROR     /* anything else */
} rec_jtok;
/* Skip white space, scan one token from *cur (NUL-terminated); *tok = its start. */
rec_jtok rec_json_token(const char **cur, const char **tok);
/* The rest of a string from *cur, a character boundary inside its body with
 * no escape before it (record_json.c scans plain ASCII runs itself). */
rec_jtok rec_json_string(const char **cur);

#endif /* QUY_RECORD_INT_H */
