/*
 * record_json.c — JSON records (JSON Lines, a JSON array) decoded straight
 * from bytes into the record's slots: no DOM (record_int.h).
 *
 * Chosen by measurement (bench/README.md, "Record reader"): among the
 * candidates of the speed issue — jansson (json_loadb per line, what this
 * replaced), yajl (streaming, numbers as text) and a schema-directed
 * scanner — the schema-directed one is the fastest (the shared
 * json-readers bench, 200,000 records of 699 B, CPU time per record on a
 * shared machine: jansson 16.8 µs, yajl 2.88 µs, schema-directed 1.03 µs),
 * and it lets the field's declared type decide what a token
 * must be, so that a number's text goes directly to its exact rational and
 * a string directly to the arena. The tokens come from an re2c scanner
 * (record_scan.re) that validates everything JSON requires, UTF-8
 * included; this file is the recursive-descent decoder over them.
 *
 * The common shapes skip the general path (session 4; each measured,
 * bench/README.md "Record reader, session 4"): punctuation, plain ASCII
 * strings (SSE2), integers and literals are recognised in next() without
 * the automaton; the key that followed the previous one in the last record
 * of the kind is compared in place (predicted_key) before any key is
 * scanned or looked up; bools and integers of such a key, and the plain
 * members of an enum list, are decoded straight from the bytes. Whatever
 * does not fit takes the general path from where it stood, so that the
 * result and every error are the same (a differential run over mutated
 * records against the previous reader found no difference).
 * 26,300 -> 13,600 instructions per record; the yajl streaming parser
 * alone (no checks, no id set) takes longer than this whole reader.
 *
 * Guarantees kept: decimals exact (rec_number: text -> n/d, no double);
 * strings valid UTF-8 and NFC; a key given twice in one object is an error
 * naming the record and the key; nesting limited (rec_limits.max_depth),
 * lists too (max_list); every error has the line and column of the value.
 * Keys are matched to fields by the record's kind, which usually comes
 * second; members before it are skipped and decoded in a second pass.
 */
#include "record_int.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* A value's place, rendered only for a message: "grades[1]",
 * "discipline_cases[2].who". */
typedef struct jpath {
    const struct jpath *up;
    const char *name; /* a field (NUL-terminated), or NULL for an element */
    size_t idx;       /* element index when name is NULL */
} jpath;

typedef struct jd {
    rec_reader *r;
    const char *cur;  /* cursor */
    const char *end;  /* end of the text; *end == 0 */
    rec_error *err;
    uint32_t depth;
    char pbuf[128];   /* a rendered path */
    bool ascii;       /* the last string token is printable ASCII (next()'s plain run reached its quote) */
} jd;

static size_t render(const jpath *p, char *buf, size_t size)
{
    size_t n = p->up ? render(p->up, buf, size) : 0;
    int w = p->name ? snprintf(buf + n, size - n, "%s%s", n ? "." : "", p->name)
                    : snprintf(buf + n, size - n, "[%zu]", p->idx);
    if (w > 0) n += (size_t)w;
    return n < size ? n : size - 1;
}

static const char *path_of(jd *j, const jpath *p)
{
    if (!p) return "";
    if (!p->up && p->name) return p->name;
    j->pbuf[0] = 0;
    render(p, j->pbuf, sizeof j->pbuf);
    return j->pbuf;
}

/* JSON white space; one comparison for the usual byte, which is not. */
static inline bool is_ws(char c)
{
    return (unsigned char)c <= ' ' && (c == ' ' || c == '\n' || c == '\r' || c == '\t');
}

/* The first byte at or after s (s < end, *end == 0) that ends a plain
 * ASCII run of a string: '"', '\\', a control character (NUL included) or
 * a byte >= 0x80. Sixteen bytes at a time with SSE2 (baseline on x86-64),
 * never reading at or past `end` that way; the bytes before it are
 * printable ASCII, valid as they are. */
static inline const char *plain_run(const char *s, const char *end)
{
#ifdef __SSE2__
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'), space = _mm_set1_epi8(0x20);
    while (end - s >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
        /* signed: bytes >= 0x80 are negative, below ' ' as the controls are */
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
                                 _mm_cmplt_epi8(v, space));
        unsigned bits = (unsigned)_mm_movemask_epi8(m);
        if (bits) return s + __builtin_ctz(bits);
        s += 16;
    }
#endif
    for (unsigned char c = (unsigned char)*s; c >= 0x20 && c < 0x80 && c != '"' && c != '\\'; c = (unsigned char)*++s) {}
    return s;
}

/* The tokens the automaton would give on the same text, with the common
 * ones recognised here without it: punctuation, a string of plain ASCII,
 * an integer without fraction or exponent, the literals. Anything else (an
 * escape, non-ASCII text, a fraction, an error) goes to the re2c scanner
 * (record_scan.re), which validates it fully. Hand-written because it
 * measured faster (callgrind, 5,000 bench records of 697 B): the automaton
 * cost ~8,300 of the reader's 26,300 instructions per record, ~40 per
 * token, most of it the call and the general dispatch; this path took the
 * reader to 20,900 (bench/README.md, "Record reader, session 4"). */
static inline rec_jtok next(jd *j, const char **tok)
{
    const char *c = j->cur;
    while (is_ws(*c)) c++;
    *tok = c;
    switch (*c) {
    case '{': j->cur = c + 1; return JT_LBRACE;
    case '}': j->cur = c + 1; return JT_RBRACE;
    case '[': j->cur = c + 1; return JT_LBRACKET;
    case ']': j->cur = c + 1; return JT_RBRACKET;
    case ':': j->cur = c + 1; return JT_COLON;
    case ',': j->cur = c + 1; return JT_COMMA;
    case '"': {
        const char *q = plain_run(c + 1, j->end);
        j->cur = q + 1;
        j->ascii = *q == '"';
        if (j->ascii) return JT_STRING;
        j->cur = q; /* the rest by the automaton, from the character where the run stopped */
        rec_jtok t = rec_json_string(&j->cur);
        return t == JT_UNTERMINATED && j->cur < j->end ? JT_CONTROL : t;
    }
    case 't':
        if (c[1] == 'r' && c[2] == 'u' && c[3] == 'e') {
            j->cur = c + 4;
            return JT_TRUE;
        }
        break;
    case 'f':
        if (c[1] == 'a' && c[2] == 'l' && c[3] == 's' && c[4] == 'e') {
            j->cur = c + 5;
            return JT_FALSE;
        }
        break;
    case 'n':
        if (c[1] == 'u' && c[2] == 'l' && c[3] == 'l') {
            j->cur = c + 4;
            return JT_NULL;
        }
        break;
    case '-': case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': case '8': case '9': {
        const char *d = c + (*c == '-');
        if (*d == '0') d++;
        else if (*d >= '1' && *d <= '9')
            do d++;
            while (*d >= '0' && *d <= '9');
        else break;
        if (*d == '.' || *d == 'e' || *d == 'E') break; /* a fraction or an exponent: the automaton */
        j->cur = d;
        return JT_NUMBER;
    }
    default: break;
    }
    j->cur = c;
    j->ascii = false;
    rec_jtok t = rec_json_token(&j->cur, tok);
    if (t == JT_END && *tok < j->end) return JT_ERROR; /* an embedded NUL byte */
    if (t == JT_UNTERMINATED && j->cur < j->end) return JT_CONTROL;
    return t;
}

/* A syntax error at tok: bad_json, with what was expected. */
static int syntax(jd *j, rec_jtok t, const char *tok, const char *expected)
{
    rec_reader *r = j->r;
    r->pos = tok;
    const char *why;
    char buf[64];
    switch (t) {
    case JT_BAD_UTF8: why = "chuỗi không phải UTF-8 hợp lệ (invalid UTF-8 in a string)"; break;
    case JT_BAD_ESCAPE: why = "ký tự thoát không hợp lệ trong chuỗi (invalid escape in a string)"; break;
    case JT_CONTROL:
        why = *tok ? "ký tự điều khiển trong chuỗi (raw control character in a string)"
                   : "byte NUL trong chuỗi (NUL byte in a string)";
        break;
    case JT_UNTERMINATED: why = "chuỗi chưa đóng (unterminated string)"; break;
    case JT_END: why = "hết dữ liệu giữa chừng (unexpected end of the record)"; break;
    default:
        if (tok < j->end && *tok)
            snprintf(buf, sizeof buf, "gặp '%.*s' (unexpected '%.*s')", (int)rec_utf8_cut(tok, strlen(tok), 8), tok,
                     (int)rec_utf8_cut(tok, strlen(tok), 8), tok);
        else snprintf(buf, sizeof buf, "gặp byte NUL (unexpected NUL byte)");
        why = buf;
    }
    return rec_fail(r, j->err, "bad_json", "", "JSON không hợp lệ: %s; cần %s (invalid JSON)", why, expected);
}

static int limit_depth(jd *j, const char *tok)
{
    j->r->pos = tok;
    return rec_fail(j->r, j->err, "limit", "",
                    "JSON lồng sâu quá %u tầng (nesting deeper than %u; raise it with --max-depth)",
                    j->r->lim.max_depth, j->r->lim.max_depth);
}

/* Skip one value whose first token is t (validating it). */
static int skip_value(jd *j, rec_jtok t, const char *tok)
{
    switch (t) {
    case JT_STRING: case JT_STRING_ESC: case JT_NUMBER: case JT_TRUE: case JT_FALSE: case JT_NULL:
        return 0;
    case JT_LBRACKET:
    case JT_LBRACE: {
        bool obj = t == JT_LBRACE;
        if (++j->depth > j->r->lim.max_depth) return limit_depth(j, tok);
        t = next(j, &tok);
        if (t != (obj ? JT_RBRACE : JT_RBRACKET))
            for (;;) {
                if (obj) {
                    if (t != JT_STRING && t != JT_STRING_ESC) return syntax(j, t, tok, "một khóa (a key)");
                    if ((t = next(j, &tok)) != JT_COLON) return syntax(j, t, tok, "':'");
                    t = next(j, &tok);
                }
                if (skip_value(j, t, tok)) return -1;
                t = next(j, &tok);
                if (t == JT_COMMA) {
                    t = next(j, &tok);
                    continue;
                }
                if (t == (obj ? JT_RBRACE : JT_RBRACKET)) break;
                return syntax(j, t, tok, obj ? "',' hoặc '}' (',' or '}')" : "',' hoặc ']' (',' or ']')");
            }
        j->depth--;
        return 0;
    }
    default:
        return syntax(j, t, tok, "một giá trị (a value)");
    }
}

/* ---------------------------------------------------------------------
 * Strings
 * ------------------------------------------------------------------- */

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c - 'A' + 10;
}

static uint32_t hex4(const char *s)
{
    return (uint32_t)(hexval(s[0]) << 12 | hexval(s[1]) << 8 | hexval(s[2]) << 4 | hexval(s[3]));
}

/* Decode the escapes of a JSON string's text [a, b) (syntax already
 * checked) into out, which has room for b - a bytes: the decoded length, or
 * -1 with *bad the code point of a lone surrogate or a \u0000. */
static long json_unescape(const char *a, const char *b, char *out, uint32_t *bad)
{
    char *o = out;
    for (const char *q = a; q < b;) {
        if (*q != '\\') {
            *o++ = *q++;
            continue;
        }
        char c = q[1];
        q += 2;
        switch (c) {
        case 'b': *o++ = '\b'; continue;
        case 'f': *o++ = '\f'; continue;
        case 'n': *o++ = '\n'; continue;
        case 'r': *o++ = '\r'; continue;
        case 't': *o++ = '\t'; continue;
        case 'u': break;
        default: *o++ = c; continue; /* " \ / */
        }
        uint32_t u = hex4(q);
        q += 4;
        if (u >= 0xD800 && u < 0xDC00 && q + 6 <= b && q[0] == '\\' && q[1] == 'u') {
            uint32_t lo = hex4(q + 2);
            if (lo >= 0xDC00 && lo < 0xE000) {
                u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
                q += 6;
            }
        }
        if ((u >= 0xD800 && u < 0xE000) || u == 0) {
            *bad = u;
            return -1;
        }
        if (u < 0x80) *o++ = (char)u;
        else if (u < 0x800) {
            *o++ = (char)(0xC0 | u >> 6);
            *o++ = (char)(0x80 | (u & 0x3F));
        } else if (u < 0x10000) {
            *o++ = (char)(0xE0 | u >> 12);
            *o++ = (char)(0x80 | (u >> 6 & 0x3F));
            *o++ = (char)(0x80 | (u & 0x3F));
        } else {
            *o++ = (char)(0xF0 | u >> 18);
            *o++ = (char)(0x80 | (u >> 12 & 0x3F));
            *o++ = (char)(0x80 | (u >> 6 & 0x3F));
            *o++ = (char)(0x80 | (u & 0x3F));
        }
    }
    return (long)(o - out);
}

/* The text of a string token (escapes decoded into r->unesc). */
static int str_text(jd *j, rec_jtok t, const char *tok, const char **s, size_t *len)
{
    const char *a = tok + 1, *b = j->cur - 1;
    if (t == JT_STRING) {
        *s = a;
        *len = (size_t)(b - a);
        return 0;
    }
    rec_reader *r = j->r;
    size_t need = (size_t)(b - a) + 1;
    if (need > r->unesc_cap) {
        char *nb = realloc(r->unesc, need);
        if (!nb) return rec_fail_oom(r, j->err);
        r->unesc = nb;
        r->unesc_cap = need;
    }
    uint32_t u = 0;
    long n = json_unescape(a, b, r->unesc, &u);
    if (n < 0) {
        j->r->pos = tok;
        return rec_fail(r, j->err, "bad_json", "",
                        "JSON không hợp lệ: chuỗi có \\u%04X (%s) (invalid string escape)", (unsigned)u,
                        u ? "nửa cặp thay thế đứng một mình: lone surrogate" : "ký tự NUL: NUL character");
    }
    *s = r->unesc;
    *len = (size_t)n;
    return 0;
}

/* ---------------------------------------------------------------------
 * Values, by the field's declared type
 * ------------------------------------------------------------------- */

/* The value at tok is not of type t: show it as written. */
static int wrong_type(jd *j, uint32_t t, const jpath *path, rec_jtok tk, const char *tok)
{
    rec_reader *r = j->r;
    if (skip_value(j, tk, tok)) return -1; /* not a value at all: the syntax error */
    size_t len = (size_t)(j->cur - tok);
    r->pos = tok;
    return rec_fail_type(r, j->err, path_of(j, path), t, rec_show_text(r, tok, len));
}

static int dec_value(jd *j, uint32_t t, const jpath *path, rec_jtok tk, const char *tok, q_val *out);

/* The element at j->cur if it is a member of enum/scale ty written
 * plainly ("tot"): its index, *tok set and j->cur past it; else QUY_NONE
 * and nothing consumed. The same index the string token and
 * rec_find_member give, without scanning the string first. */
static uint32_t plain_member(jd *j, const q_type *ty, const char **tok)
{
    const rec_reader *r = j->r;
    const char *c = j->cur;
    while (is_ws(*c)) c++;
    if (*c != '"') return QUY_NONE;
    size_t room = (size_t)(j->end - c); /* c[room] is the NUL */
    if (room >= 17 && ty->count <= 16) { /* every member compared, without a branch on which matches */
        uint32_t hit = 0;
        for (uint32_t i = 0; i < ty->count; i++) hit |= (uint32_t)rec_pat_match(&r->mpat[ty->first + i], c + 1) << i;
        if (hit) {
            uint32_t i = (uint32_t)__builtin_ctz(hit); /* the first declared, as the names table gives */
            *tok = c;
            j->cur = c + r->mlen[ty->first + i] + 2;
            return i;
        }
    }
    /* near the end of the text, or a type of more than 16 members: one by
     * one (its first 16; the others by the token and the names table) */
    for (uint32_t i = 0; i < ty->count && i < 16; i++) {
        uint32_t m = ty->first + i, n = r->mlen[m];
        if (n < room && c[n + 1] == '"' && rec_same(c + 1, r->mname[m], n)) {
            *tok = c;
            j->cur = c + n + 2;
            return i;
        }
    }
    return QUY_NONE;
}

static int dec_list(jd *j, uint32_t t, const jpath *path, const char *tok, q_val *out)
{
    rec_reader *r = j->r;
    const q_program *p = r->p;
    uint32_t et = p->types[t].elem;
    if (et >= p->ntypes) return rec_fail(r, j->err, "eval", path_of(j, path), "kiểu không hợp lệ (invalid type index)");
    if (++j->depth > r->lim.max_depth) return limit_depth(j, tok);
    const q_type *ety = &p->types[et];
    bool is_struct = ety->kind == QT_STRUCT, is_enum = ety->kind == QT_ENUM || ety->kind == QT_SCALE;
    size_t stride = is_struct ? ety->count : 1, base = r->nscratch, n = 0;
    for (bool first = true;; first = false) {
        rec_jtok tk = JT_STRING;
        uint32_t m = is_enum ? plain_member(j, ety, &tok) : QUY_NONE;
        if (m == QUY_NONE) {
            tk = next(j, &tok);
            if (first && tk == JT_RBRACKET) break;
        }
        if (n >= r->lim.max_list) {
            r->pos = tok;
            return rec_fail(r, j->err, "limit", path_of(j, path),
                            "danh sách '%s' dài hơn giới hạn %u phần tử (list longer than %u elements; raise it "
                            "with --max-list)",
                            path_of(j, path), r->lim.max_list, r->lim.max_list);
        }
        if (r->nscratch + stride > r->scratch_cap) {
            size_t nc = r->scratch_cap ? r->scratch_cap * 2 : 256;
            while (nc < r->nscratch + stride) nc *= 2;
            q_val *ns = realloc(r->scratch, nc * sizeof *ns);
            if (!ns) return rec_fail_oom(r, j->err);
            r->scratch = ns;
            r->scratch_cap = nc;
        }
        size_t at = r->nscratch;
        r->nscratch += stride;
        if (m != QUY_NONE) {
            r->scratch[at] = q_int(m);
        } else {
            jpath ep = {path, NULL, n};
            q_val x = {0, 0};
            if (tk == JT_NULL && !is_struct) return wrong_type(j, et, &ep, tk, tok);
            if (dec_value(j, et, &ep, tk, tok, &x)) return -1;
            if (!is_struct) r->scratch[at] = x; /* a struct wrote its fields there */
        }
        n++;
        tk = next(j, &tok);
        if (tk == JT_COMMA) continue;
        if (tk == JT_RBRACKET) break;
        return syntax(j, tk, tok, "',' hoặc ']' (',' or ']')");
    }
    uint32_t first;
    if (!rec_reserve_elems(r, n * stride, &first)) return rec_fail_oom(r, j->err);
    if (n) memcpy(r->rec.elems + first, r->scratch + base, n * stride * sizeof(q_val));
    r->nscratch = base;
    j->depth--;
    *out = (q_val){first, (int64_t)n};
    return 0;
}

/* A key twice in one object: an error naming the record and the key. */
static int dup_key(jd *j, const char *tok, const char *key, size_t len)
{
    rec_reader *r = j->r;
    r->pos = tok;
    char k[128];
    snprintf(k, sizeof k, "%.*s", (int)rec_utf8_cut(key, len, sizeof k - 1), key);
    return rec_fail(r, j->err, "duplicate_key", k,
                    "khóa '%s' xuất hiện hai lần trong một đối tượng của bản ghi '%s' (duplicate key in one object)",
                    k, r->cur_id ? r->cur_id : "");
}

/* A key no field declares: warned once per input; twice in one object is
 * still an error. */
static int undeclared_key(jd *j, const char *tok, const char *key, size_t len, uint32_t kind)
{
    rec_reader *r = j->r;
    char kb[4 + 256];
    size_t kl = len > 256 ? 256 : len;
    memcpy(kb, &r->objser, 4);
    memcpy(kb + 4, key, kl);
    int added = strset_add(&r->keys, kb, kl + 4, 0, NULL);
    if (added < 0) return rec_fail_oom(r, j->err);
    if (added == 0) return dup_key(j, tok, key, len);
    rec_warn_unknown_field(r, key, len, kind);
    return 0;
}

/* The key of a member (escapes decoded into a copy: the value may reuse r->unesc). */
static int member_key(jd *j, rec_jtok t, const char *tok, char *kbuf, size_t kcap, const char **key, size_t *klen)
{
    if (t != JT_STRING && t != JT_STRING_ESC) return syntax(j, t, tok, "một khóa là chuỗi (a string key)");
    if (str_text(j, t, tok, key, klen)) return -1;
    if (t == JT_STRING_ESC) {
        *klen = *klen < kcap ? *klen : kcap;
        memcpy(kbuf, *key, *klen);
        *key = kbuf;
    }
    const char *ct;
    rec_jtok c = next(j, &ct);
    return c == JT_COLON ? 0 : syntax(j, c, ct, "':'");
}

/* One struct element (an object) into r->scratch[at .. + count]. */
static int dec_struct(jd *j, uint32_t st, const jpath *path, rec_jtok tk, const char *tok, size_t at)
{
    rec_reader *r = j->r;
    const q_program *p = r->p;
    const q_type *ty = &p->types[st];
    if (tk != JT_LBRACE) return wrong_type(j, st, path, tk, tok);
    if (++j->depth > r->lim.max_depth) return limit_depth(j, tok);
    if (ty->count > 64) /* `seen` is one word: a bigger struct is refused, not half-read */
        return rec_fail(r, j->err, "limit", path_of(j, path),
                        "kiểu '%s' có %u trường, quá 64 trường mà bộ đọc hỗ trợ trong một phần tử (a struct element "
                        "of more than 64 fields is not supported)",
                        prog_str(p, ty->name), ty->count);
    uint32_t ser = ++r->objser;
    uint64_t seen = 0; /* fields given, by index */
    tk = next(j, &tok);
    if (tk != JT_RBRACE)
        for (;;) {
            const char *key, *ktok = tok;
            size_t klen;
            char kbuf[256];
            if (member_key(j, tk, tok, kbuf, sizeof kbuf, &key, &klen)) return -1;
            uint32_t fi = rec_name_find(r, NS_STRUCT | st, key, klen);
            tk = next(j, &tok);
            if (fi == QUY_NONE) {
                r->objser = ser;
                if (undeclared_key(j, ktok, key, klen, r->rec.kind) || skip_value(j, tk, tok)) return -1;
            } else {
                if (seen >> fi & 1) return dup_key(j, ktok, key, klen);
                seen |= 1ull << fi;
                const q_field *f = &p->fields[ty->first + fi];
                jpath fp = {path, r->fname[ty->first + fi], 0};
                q_val x;
                r->pos = tok;
                int rc = tk == JT_NULL ? rec_absent(r, f, path_of(j, &fp), &x, NULL, j->err)
                                       : dec_value(j, f->type, &fp, tk, tok, &x);
                if (rc) return rc;
                r->scratch[at + (f->slot < ty->count ? f->slot : fi)] = x;
            }
            tk = next(j, &tok);
            if (tk == JT_COMMA) {
                tk = next(j, &tok);
                continue;
            }
            if (tk == JT_RBRACE) break;
            return syntax(j, tk, tok, "',' hoặc '}' (',' or '}')");
        }
    for (uint32_t i = 0; i < ty->count; i++) {
        if (seen >> i & 1) continue;
        const q_field *f = &p->fields[ty->first + i];
        jpath fp = {path, r->fname[ty->first + i], 0};
        q_val x;
        r->pos = NULL; /* absent: no place of its own, as for the record's fields */
        if (rec_absent(r, f, path_of(j, &fp), &x, NULL, j->err)) return -1;
        r->scratch[at + (f->slot < ty->count ? f->slot : i)] = x;
    }
    j->depth--;
    return 0;
}

/* An enum/scale member or a date from a string token. */
static int dec_string_like(jd *j, uint32_t t, const jpath *path, rec_jtok tk, const char *tok, q_val *out)
{
    rec_reader *r = j->r;
    const q_type *ty = &r->p->types[t];
    const char *s;
    size_t len;
    if (str_text(j, tk, tok, &s, &len)) return -1;
    if (ty->kind == QT_STRING) {
        const char *d;
        size_t i = 0;
        if (tk == JT_STRING && j->ascii) i = len; /* next() saw every byte */
        while (i < len && (unsigned char)s[i] < 0x80) i++;
        if (i == len) { /* ASCII, NFC already (rec_store_text's first case), without rendering the path */
            if (!(d = rec_store_str(r, s, len))) return rec_fail_oom(r, j->err);
        } else if (rec_store_text(r, s, len, path_of(j, path), &d, &len, j->err))
            return -1;
        *out = q_str(d, len);
        return 0;
    }
    if (ty->kind == QT_DATE) {
        int64_t days;
        if (!q_parse_date(s, len, &days)) return wrong_type(j, t, path, tk, tok);
        *out = q_int(days);
        return 0;
    }
    int m = rec_find_member(r, t, s, len);
    if (m < 0) {
        for (size_t i = 0; i < len && m < 0; i++) /* a member written in another normal form */
            if ((unsigned char)s[i] >= 0x80) {
                const char *nfc;
                size_t nl;
                if (rec_store_text(r, s, len, path_of(j, path), &nfc, &nl, j->err)) return -1;
                m = rec_find_member(r, t, nfc, nl);
                break;
            }
        if (m < 0) {
            size_t shown = (size_t)(j->cur - tok);
            return rec_fail_member(r, j->err, path_of(j, path), t, rec_show_text(r, tok, shown));
        }
    }
    *out = q_int(m);
    return 0;
}

static int dec_value(jd *j, uint32_t t, const jpath *path, rec_jtok tk, const char *tok, q_val *out)
{
    rec_reader *r = j->r;
    const q_program *p = r->p;
    if (t >= p->ntypes) return rec_fail(r, j->err, "eval", path_of(j, path), "kiểu không hợp lệ (invalid type index)");
    r->pos = tok;
    switch (p->types[t].kind) {
    case QT_INT:
    case QT_DECIMAL:
    case QT_PERCENT:
        if (tk != JT_NUMBER) return wrong_type(j, t, path, tk, tok);
        if (rec_plain_integer(&p->types[t], tok, (size_t)(j->cur - tok), out)) return 0;
        return rec_number(r, t, tok, (size_t)(j->cur - tok), path_of(j, path), false, out, j->err);
    case QT_BOOL:
        if (tk != JT_TRUE && tk != JT_FALSE) return wrong_type(j, t, path, tk, tok);
        *out = q_bool(tk == JT_TRUE);
        return 0;
    case QT_DATE:
    case QT_STRING:
    case QT_ENUM:
    case QT_SCALE:
        if (tk != JT_STRING && tk != JT_STRING_ESC) return wrong_type(j, t, path, tk, tok);
        return dec_string_like(j, t, path, tk, tok, out);
    case QT_LIST:
        if (tk != JT_LBRACKET) return wrong_type(j, t, path, tk, tok);
        return dec_list(j, t, path, tok, out);
    case QT_STRUCT: /* an element of a list of structs: its fields go to scratch */
        return dec_struct(j, t, path, tk, tok, r->nscratch - p->types[t].count);
    default:
        return wrong_type(j, t, path, tk, tok);
    }
}

/* ---------------------------------------------------------------------
 * A record: one JSON object
 * ------------------------------------------------------------------- */

typedef struct obj_state {
    uint32_t kind;         /* QUY_NONE until `kind` is read */
    uint32_t prev;         /* r->follow index of the last field found (nfields + kind: none yet) */
    bool have_id, have_kind, bad_kind;
    const char *kind_tok;  /* the unknown kind's token */
    const char *kind_key;  /* where the `kind` member starts */
    const char *deferred;  /* the first member met before `kind`: decoded in a second pass */
} obj_state;

/* Field i of the record's kind was not given (or given as null). */
static bool json_absent(rec_reader *r, const void *ctx, uint32_t i)
{
    (void)ctx;
    return r->seen[i] != r->gen;
}

static bool key_is(const char *key, size_t len, const char *word, size_t wl)
{
    return len == wl && !memcmp(key, word, wl);
}

/* `id` or `kind`. */
static int member_id_kind(jd *j, obj_state *o, bool is_id, const char *ktok, rec_jtok tk, const char *tok,
                          bool check_dup)
{
    rec_reader *r = j->r;
    const char *name = is_id ? "id" : "kind";
    if (is_id ? o->have_id : o->have_kind) return dup_key(j, ktok, name, strlen(name));
    if (is_id) o->have_id = true;
    else o->have_kind = true;
    r->pos = tok;
    if (tk == JT_NULL) {
        if (is_id) o->have_id = false;
        else o->have_kind = false;
        return 0;
    }
    if (tk != JT_STRING && tk != JT_STRING_ESC) {
        if (skip_value(j, tk, tok)) return -1; /* not a value at all: the syntax error */
        size_t len = (size_t)(j->cur - tok);
        r->pos = tok;
        return rec_fail(r, j->err, "wrong_type", name,
                        "trường '%s' phải là chuỗi, nhận được %s (wrong type: expected string)", name,
                        rec_show_text(r, tok, len));
    }
    const char *s;
    size_t len;
    if (str_text(j, tk, tok, &s, &len)) return -1;
    if (is_id) return rec_set_id(r, s, len, check_dup, j->err);
    uint32_t k = prog_find_kind(r->p, s, len);
    if (k == QUY_NONE || k >= r->p->nkinds) {
        o->bad_kind = true;
        o->kind_tok = tok;
        return 0;
    }
    o->kind = k;
    o->prev = r->p->nfields + k;
    r->rec.kind = k;
    return 0;
}

/* Member i of the record's kind (`kind` known), its value's first token tk
 * at tok, or its value already decoded (`pre`, from typed_scalar). */
static int member_field_at(jd *j, obj_state *o, uint32_t i, const char *ktok, const char *key, size_t klen,
                           rec_jtok tk, const char *tok, const q_val *pre)
{
    rec_reader *r = j->r;
    const q_program *p = r->p;
    if (r->seen[i] == r->gen) return dup_key(j, ktok, key, klen);
    r->seen[i] = r->gen;
    const q_kind *kd = &p->kinds[o->kind];
    r->follow[o->prev] = i; /* the order of this record's keys predicts the next one's */
    o->prev = kd->first_field + i;
    const q_field *f = &p->fields[kd->first_field + i];
    uint16_t slot = f->slot < kd->nfields ? f->slot : (uint16_t)i;
    jpath fp = {NULL, r->fname[kd->first_field + i], 0};
    q_val x = {0, 0};
    r->pos = tok;
    if (pre) x = *pre;
    else if (tk == JT_NULL) {
        r->seen[i] = 0; /* null is absent: defaulted with the others at the end */
        return 0;
    } else if (dec_value(j, f->type, &fp, tk, tok, &x))
        return -1;
    r->rec.present[slot] = 1;
    r->rec.slots[slot] = x;
    return 0;
}

/* A member of the record's kind (`kind` known), found by its key. */
static int member_field(jd *j, obj_state *o, const char *ktok, const char *key, size_t klen, rec_jtok tk,
                        const char *tok)
{
    rec_reader *r = j->r;
    uint32_t i = rec_field_index(r, o->kind, key, klen);
    if (i == QUY_NONE) {
        r->objser = 0;
        if (undeclared_key(j, ktok, key, klen, o->kind)) return -1;
        return skip_value(j, tk, tok);
    }
    return member_field_at(j, o, i, ktok, key, klen, tk, tok, NULL);
}

/* The key at j->cur if it is the one predicted (the field that followed
 * the previous one in the last record of the kind) written plainly, then
 * its ':': its index in the kind, *ktok set and j->cur past the ':';
 * else QUY_NONE and nothing consumed. One comparison instead of
 * scanning the key and looking it up. */
static uint32_t predicted_key(jd *j, const obj_state *o, const char **ktok)
{
    rec_reader *r = j->r;
    uint32_t i = r->follow[o->prev];
    if (i == QUY_NONE) return QUY_NONE;
    uint32_t f = r->p->kinds[o->kind].first_field + i;
    size_t n = r->flen[f];
    const char *c = j->cur;
    while (is_ws(*c)) c++;
    if (*c != '"') return QUY_NONE;
    if ((size_t)(j->end - c) >= 33 && n <= 31) { /* the usual case: one masked comparison */
        if (!rec_kpat_match(&r->fpat[f], c + 1)) return QUY_NONE;
    } else if ((size_t)(j->end - c) < n + 3 || c[n + 1] != '"' || !r->fplain[f] || !rec_same(c + 1, r->fname[f], n))
        return QUY_NONE;
    const char *d = c + n + 2;
    while (is_ws(*d)) d++;
    if (*d != ':') return QUY_NONE;
    *ktok = c;
    j->cur = d + 1;
    return i;
}

/* A bool or a plain integer (see next() and rec_plain_integer) of type ty
 * at j->cur, decoded without its token: true with *x, *tok and j->cur past
 * it, as next() then dec_value would give; false (nothing consumed) for
 * anything else, which takes that path. */
static inline bool typed_scalar(jd *j, const q_type *ty, const char **tok, q_val *x)
{
    const char *c = j->cur, *d;
    while (is_ws(*c)) c++;
    switch (ty->kind) {
    case QT_BOOL:
        if (c[0] == 't' && c[1] == 'r' && c[2] == 'u' && c[3] == 'e') {
            *x = q_bool(true);
            d = c + 4;
        } else if (c[0] == 'f' && c[1] == 'a' && c[2] == 'l' && c[3] == 's' && c[4] == 'e') {
            *x = q_bool(false);
            d = c + 5;
        } else {
            return false;
        }
        break;
    case QT_INT:
    case QT_DECIMAL:
    case QT_PERCENT:
        d = c + (*c == '-');
        if (*d == '0') d++;
        else if (*d >= '1' && *d <= '9')
            do d++;
            while (*d >= '0' && *d <= '9');
        else return false;
        if (*d == '.' || *d == 'e' || *d == 'E' || !rec_plain_integer(ty, c, (size_t)(d - c), x)) return false;
        break;
    default:
        return false;
    }
    *tok = c;
    j->cur = d;
    return true;
}

/* The members of the object from j->cur (after '{' or a ','). Pass 1:
 * every member; pass 2 (`stop` set): the members before `kind`, which
 * pass 1 skipped. */
static int members(jd *j, obj_state *o, bool check_dup, const char *stop)
{
    rec_reader *r = j->r;
    const char *tok;
    rec_jtok tk;
    for (bool first = true;; first = false) {
        const char *key, *ktok;
        size_t klen;
        char kbuf[256];
        int rc;
        uint32_t fi = !stop && o->kind != QUY_NONE ? predicted_key(j, o, &ktok) : QUY_NONE;
        if (fi != QUY_NONE) {
            uint32_t f = r->p->kinds[o->kind].first_field + fi;
            q_val x;
            if (r->p->fields[f].type < r->p->ntypes && typed_scalar(j, &r->p->types[r->p->fields[f].type], &tok, &x)) {
                rc = member_field_at(j, o, fi, ktok, r->fname[f], r->flen[f], JT_NUMBER /* unused */, tok, &x);
            } else {
                tk = next(j, &tok);
                rc = member_field_at(j, o, fi, ktok, r->fname[f], r->flen[f], tk, tok, NULL);
            }
        } else {
            tk = next(j, &tok);
            if (first && tk == JT_RBRACE && !stop) return 0;
            ktok = tok;
            if (stop && tok >= stop) return 0;
            if (member_key(j, tk, tok, kbuf, sizeof kbuf, &key, &klen)) return -1;
            tk = next(j, &tok);
            bool is_id = key_is(key, klen, "id", 2), is_kind = !is_id && key_is(key, klen, "kind", 4);
            if (stop) rc = is_id || is_kind ? skip_value(j, tk, tok) : member_field(j, o, ktok, key, klen, tk, tok);
            else if (is_id || is_kind) {
                if (is_kind) o->kind_key = ktok;
                rc = member_id_kind(j, o, is_id, ktok, tk, tok, check_dup);
            } else if (o->kind != QUY_NONE) rc = member_field(j, o, ktok, key, klen, tk, tok);
            else {
                if (!o->deferred && !o->bad_kind) o->deferred = ktok;
                rc = skip_value(j, tk, tok);
            }
        }
        if (rc) return rc;
        tk = next(j, &tok);
        if (tk == JT_COMMA) continue;
        if (tk == JT_RBRACE) return 0;
        return syntax(j, tk, tok, "',' hoặc '}' (',' or '}')");
    }
}

/* After a rejection: warn about the undeclared keys the decoder did not
 * reach (a misspelt name is the likely cause). Stops at any syntax error. */
static void warn_rest(rec_reader *r, const char *s, const char *end, uint32_t k)
{
    rec_error scratch;
    jd j = {r, s, end, &scratch, 0, {0}};
    const char *pos = r->pos, *tok;
    if (next(&j, &tok) != JT_LBRACE) goto out;
    rec_jtok tk = next(&j, &tok);
    while (tk == JT_STRING || tk == JT_STRING_ESC) {
        const char *key;
        size_t klen;
        char kbuf[256];
        if (member_key(&j, tk, tok, kbuf, sizeof kbuf, &key, &klen)) break;
        if (!key_is(key, klen, "id", 2) && !key_is(key, klen, "kind", 4) && rec_field_index(r, k, key, klen) == QUY_NONE)
            rec_warn_unknown_field(r, key, klen, k);
        tk = next(&j, &tok);
        if (skip_value(&j, tk, tok) || next(&j, &tok) != JT_COMMA) break;
        tk = next(&j, &tok);
    }
out:
    r->pos = pos;
}

int rec_json_object(rec_reader *r, const char *s, size_t len, uint32_t line, bool check_dup, q_record **out,
                    rec_error *err)
{
    const q_program *p = r->p;
    jd j = {r, s, s + len, err, 0, {0}};
    obj_state o = {QUY_NONE, 0, false, false, false, NULL, NULL, NULL};
    r->pos_base = s;
    r->cur_line = line;
    r->nscratch = 0;
    r->objser = 0;
    if (r->keys.n) { /* undeclared keys of the last record */
        strset_free(&r->keys);
        memset(&r->keys, 0, sizeof r->keys);
    }
    if (++r->gen == 0) {
        memset(r->seen, 0, r->maxfields * sizeof *r->seen);
        r->gen = 1;
    }
    const char *tok;
    rec_jtok tk = next(&j, &tok);
    if (tk != JT_LBRACE) {
        if (tk == JT_END || tk == JT_ERROR || tk == JT_RBRACE || tk == JT_RBRACKET || tk == JT_COLON || tk == JT_COMMA)
            return syntax(&j, tk, tok, "một đối tượng '{' (an object)");
        return rec_fail(r, err, "bad_json", "",
                        "bản ghi phải là một đối tượng JSON, nhận được %s (record is not a JSON object)",
                        rec_show_text(r, tok, len - (size_t)(tok - s)));
    }
    int rc = members(&j, &o, check_dup, NULL);
    if (!rc) {
        tk = next(&j, &tok);
        if (tk != JT_END) rc = syntax(&j, tk, tok, "hết bản ghi sau '}' (the end of the record)");
    }
    if (!rc && o.kind != QUY_NONE && o.deferred) { /* members before `kind` */
        j.cur = o.deferred;
        rc = members(&j, &o, check_dup, o.kind_key);
    }
    r->pos = NULL;
    if (!rc && !o.have_id) rc = rec_fail(r, err, "missing_field", "id", "thiếu trường bắt buộc 'id' (missing required field)");
    if (!rc && !o.have_kind)
        rc = rec_fail(r, err, "missing_field", "kind", "thiếu trường bắt buộc 'kind' (missing required field)");
    if (!rc && o.bad_kind) {
        jd k = j; /* the kind's string token again, to show it */
        const char *e;
        k.cur = o.kind_tok;
        next(&k, &e);
        r->pos = o.kind_tok;
        return rec_unknown_kind(r, rec_show_text(r, o.kind_tok, (size_t)(k.cur - o.kind_tok)), err);
    }
    const q_kind *kd = o.kind != QUY_NONE ? &p->kinds[o.kind] : NULL;
    for (uint32_t i = 0; !rc && kd && i < kd->nfields; i++) {
        if (r->seen[i] == r->gen) continue;
        const q_field *f = &p->fields[kd->first_field + i];
        uint16_t slot = f->slot < kd->nfields ? f->slot : (uint16_t)i;
        q_val x = {0, 0};
        rc = rec_absent(r, f, r->fname[kd->first_field + i], &x, &r->rec.present[slot], err);
        r->rec.slots[slot] = x;
        if (rc) rec_more_missing(r, kd, i + 1, json_absent, NULL, err);
    }
    if (rc) {
        if (o.kind != QUY_NONE) warn_rest(r, s, s + len, o.kind);
        return rc;
    }
    return rec_finish(r, o.kind, out, err);
}

/* ---------------------------------------------------------------------
 * JSON Lines: one object per line, decoded in place (a NUL sentinel is
 * put after the line in the input buffer's spare byte, then restored)
 * ------------------------------------------------------------------- */

int rec_next_jsonl(rec_reader *r, q_record **out, rec_error *err)
{
    for (;;) {
        const char *s;
        long n = rec_next_line(r, &s);
        if (n == -1) return rec_io_error(r, err);
        r->line++;
        if (n == -2) return rec_line_too_long(r, err);
        if (rec_blank(s, (size_t)n)) continue;
        rec_begin(r, r->line);
        while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r')) n--; /* the sentinel replaces them */
        char *w = (char *)(uintptr_t)s, saved = w[n];
        w[n] = 0;
        int rc = rec_json_object(r, s, (size_t)n, r->line, true, out, err);
        w[n] = saved;
        return rc;
    }
}

int rec_decode_line(rec_reader *r, char *s, size_t len, uint32_t line, uint32_t index, bool check_dup, q_record **out,
                    rec_error *err, bool *id_reached)
{
    rec_begin(r, line);
    r->rec.index = index;
    char saved = s[len];
    s[len] = 0;
    int rc = rec_json_object(r, s, len, line, check_dup, out, err);
    s[len] = saved;
    *id_reached = !check_dup && r->cur_id && strlen(r->cur_id) <= REC_ID_MAX;
    return rc;
}

/* ---------------------------------------------------------------------
 * A JSON array, streamed element by element: each element is found
 * (validated by skipping it) in the buffer, then decoded in place. Memory
 * is bounded by max_line per element: a longer one is rejected and passed
 * over unkept. A syntax error ends the array (what follows cannot be told
 * apart), reported once; the elements before it were rated.
 * ------------------------------------------------------------------- */

/* Skip white space in the buffer, counting lines; false at end of input. */
static bool skip_ws(rec_reader *r)
{
    for (;;) {
        while (r->start < r->end) {
            char c = r->buf[r->start];
            if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return true;
            if (c == '\n') r->line++;
            r->start++;
        }
        if (!rec_fill(r)) return false;
    }
}

/* Pass over the element at r->start, longer than max_line, without keeping
 * it: only strings and nesting are followed (it is rejected, so its syntax
 * does not matter), counting lines. True when its end was found (r->start
 * is then on the ',' or ']' after it); false at the end of input. */
static bool pass_long_element(rec_reader *r)
{
    uint32_t depth = 0;
    bool str = false, esc = false;
    for (;;) {
        for (; r->start < r->end; r->start++) {
            char c = r->buf[r->start];
            if (c == '\n') r->line++;
            if (str) {
                if (esc) esc = false;
                else if (c == '\\') esc = true;
                else if (c == '"') str = false;
            } else if (c == '"') {
                str = true;
            } else if (c == '[' || c == '{') {
                depth++;
            } else if (c == ']' || c == '}') {
                if (depth == 0) return true; /* the array's own ']' after a scalar */
                if (--depth == 0) {
                    r->start++;
                    return true;
                }
            } else if (c == ',' && depth == 0) {
                return true;
            }
        }
        if (!rec_fill(r)) return false;
    }
}

static int array_error(rec_reader *r, rec_error *err, const char *why)
{
    r->done = true;
    rec_begin(r, r->line + 1);
    r->cur_col = 0;
    return rec_fail(r, err, "bad_json", "", "JSON không hợp lệ: %s (invalid JSON; the rest of the array is not read)",
                    why);
}

/* The extent of the element at r->start: its length, 0 if more input is
 * needed, -1 on a syntax error (*err filled). */
static long element_extent(rec_reader *r, rec_error *err)
{
    const char *s = r->buf + r->start;
    r->buf[r->end] = 0;
    /* The first pass reports to scratch, without a place: the last
     * element's base may lie in a buffer rec_fill has since moved. */
    r->pos_base = r->pos = NULL;
    jd j = {r, s, r->buf + r->end, err, 0, {0}};
    const char *tok;
    rec_error scratch;
    j.err = &scratch;
    rec_jtok tk = next(&j, &tok);
    if (skip_value(&j, tk, tok) == 0) return (long)(j.cur - s);
    if (!r->eof && j.cur + 8 >= j.end) return 0; /* a token cut by the buffer's end: read more */
    rec_begin(r, r->line + 1);
    r->pos_base = s;
    j.err = err;
    j.cur = s;
    j.depth = 0;
    tk = next(&j, &tok);
    skip_value(&j, tk, tok); /* again, to report the error with its place */
    r->done = true;
    return -1;
}

int rec_next_json(rec_reader *r, q_record **out, rec_error *err)
{
    if (!r->arr_open) {
        if (!skip_ws(r) || r->buf[r->start] != '[')
            return array_error(r, err, "dữ liệu vào không phải một mảng JSON (expected a JSON array)");
        r->start++;
        r->arr_open = true;
    }
    if (!skip_ws(r)) {
        if (r->in && ferror(r->in)) return rec_io_error(r, err);
        return array_error(r, err, "mảng JSON chưa đóng (unterminated JSON array)");
    }
    char c = r->buf[r->start];
    if (r->arr_after || c == ']') {
        if (c == ']') {
            r->start++;
            r->done = true;
            if (skip_ws(r)) return array_error(r, err, "dữ liệu thừa sau mảng JSON (extra data after the array)");
            return 0;
        }
        if (c != ',') return array_error(r, err, "thiếu ',' hoặc ']' giữa các phần tử (expected ',' or ']')");
        r->start++;
        if (!skip_ws(r)) return array_error(r, err, "mảng JSON chưa đóng (unterminated JSON array)");
    }
    r->arr_after = true;
    long n;
    while ((n = element_extent(r, err)) == 0) {
        if (r->end - r->start > r->lim.max_line) { /* rejected; the elements after it are read */
            uint32_t first = r->line + 1;
            if (!pass_long_element(r)) r->done = true;
            rec_begin(r, first);
            return rec_fail(r, err, "limit", "",
                            "phần tử của mảng JSON dài hơn giới hạn %u byte (array element longer than %u bytes; "
                            "raise it with --max-line)",
                            r->lim.max_line, r->lim.max_line);
        }
        if (!rec_fill(r)) {
            if (r->in && ferror(r->in)) return rec_io_error(r, err);
            /* at the end of input: report the error found */
        }
    }
    if (n < 0) return -1;
    if ((size_t)n > r->lim.max_line) { /* it came whole in one read: skip it, the next ones are read */
        uint32_t first = r->line + 1;
        for (long i = 0; i < n; i++) r->line += r->buf[r->start + (size_t)i] == '\n';
        r->start += (size_t)n;
        rec_begin(r, first);
        return rec_fail(r, err, "limit", "",
                        "phần tử của mảng JSON dài hơn giới hạn %u byte (array element longer than %u bytes; "
                        "raise it with --max-line)",
                        r->lim.max_line, r->lim.max_line);
    }
    char *s = r->buf + r->start, saved = s[n];
    uint32_t line = r->line + 1;
    rec_begin(r, line);
    s[n] = 0;
    int rc = rec_json_object(r, s, (size_t)n, line, true, out, err);
    s[n] = saved;
    for (long i = 0; i < n; i++) r->line += s[i] == '\n';
    r->start += (size_t)n;
    return rc;
}

/* ---------------------------------------------------------------------
 * Objects from elsewhere: a jansson object (`quy test`), a text, a cell
 * ------------------------------------------------------------------- */

static int decode_copy(rec_reader *r, const char *text, size_t len, uint32_t line, bool cols, q_record **out,
                       rec_error *err)
{
    char *c = malloc(len + 1);
    if (!c) {
        rec_begin(r, line);
        return rec_fail_oom(r, err);
    }
    memcpy(c, text, len);
    c[len] = 0;
    rec_begin(r, line);
    r->nocol = !cols;
    int rc = rec_json_object(r, c, len, line, false, out, err);
    r->nocol = false;
    r->pos_base = r->pos = NULL;
    free(c);
    return rc;
}

int rec_decode_json(rec_reader *r, const void *obj, uint32_t line, q_record **out, rec_error *err)
{
    /* A jansson real is already a double: 15 significant digits give back
     * the digits written for any decimal of up to 15 (as before). */
    char *s = json_dumps((const json_t *)obj, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
    if (!s) {
        rec_begin(r, line);
        return rec_fail_oom(r, err);
    }
    int rc = decode_copy(r, s, strlen(s), line, false, out, err);
    free(s);
    return rc;
}

int rec_decode_text(rec_reader *r, const char *text, size_t len, uint32_t line, q_record **out, rec_error *err)
{
    return decode_copy(r, text, len, line, true, out, err);
}

int rec_json_value_text(rec_reader *r, uint32_t t, const char *s, size_t len, const char *path, q_val *out,
                        rec_error *err)
{
    char *c = malloc(len + 1);
    if (!c) return rec_fail_oom(r, err);
    memcpy(c, s, len);
    c[len] = 0;
    jd j = {r, c, c + len, err, 0, {0}};
    jpath fp = {NULL, path, 0};
    const char *tok;
    r->nocol = true; /* the column is the cell's (r->cur_col) */
    r->nscratch = 0;
    rec_jtok tk = next(&j, &tok);
    int rc = tk == JT_LBRACKET ? dec_list(&j, t, &fp, tok, out) : wrong_type(&j, t, &fp, tk, tok);
    if (!rc && (tk = next(&j, &tok)) != JT_END) rc = syntax(&j, tk, tok, "hết ô sau ']' (the end of the cell)");
    r->nocol = false;
    r->pos = NULL;
    free(c);
    return rc;
}

void rec_json_free(rec_reader *r)
{
    free(r->scratch);
    free(r->unesc);
    r->scratch = NULL;
    r->unesc = NULL;
}

/* ---------------------------------------------------------------------
 * A few top-level string members of an object, without a DOM (`quy diff`
 * names each record by its kind, id and peer_group before decoding it)
 * ------------------------------------------------------------------- */

/* A \u escape that a strict JSON library refuses (a NUL, a surrogate) or
 * that needs pairing: left to the caller's fallback. */
static bool risky_escape(const char *a, const char *b)
{
    for (const char *q = a; q + 5 < b; q++) {
        if (q[0] != '\\') continue;
        if (q[1] != 'u') {
            q++; /* \\ or \" : skip the escaped character */
            continue;
        }
        uint32_t u = hex4(q + 2);
        if (u == 0 || (u >= 0xD800 && u < 0xE000)) return true;
        q += 5;
    }
    return false;
}

/* A number a double or an int64 holds without overflow, whatever library
 * parses it: no exponent, at most 18 digits before the point. */
static bool tame_number(const char *tok, const char *end)
{
    size_t digits = 0;
    for (const char *q = tok; q < end; q++) {
        if (*q == 'e' || *q == 'E') return false;
        if (*q == '.') break;
        digits += *q >= '0' && *q <= '9';
    }
    return digits <= 18;
}

int rec_json_top_strings(const char *s, size_t len, const char *const keys[], size_t nkeys, rec_span vals[])
{
    enum { MAX_DEPTH = 512 };
    const char *cur = s, *end = s + len, *tok;
    for (size_t k = 0; k < nkeys; k++) vals[k] = (rec_span){NULL, 0, false};
    rec_jtok t = rec_json_token(&cur, &tok);
    if (t != JT_LBRACE) return 0;
    /* a stack of open containers: '{' expects a key next, '[' a value */
    char open[MAX_DEPTH];
    size_t depth = 1;
    open[0] = '{';
    bool need_value = false; /* after a key and ':' (or '[' / ','), a value comes */
    size_t member = SIZE_MAX;  /* the key index of the top-level member whose value comes next */
    t = rec_json_token(&cur, &tok);
    if (t == JT_RBRACE) depth = 0;
    while (depth) {
        if (open[depth - 1] == '{' && !need_value) {
            if (t != JT_STRING && t != JT_STRING_ESC) return 0;
            if (t == JT_STRING_ESC && risky_escape(tok + 1, cur - 1)) return 0;
            member = SIZE_MAX;
            if (depth == 1 && t == JT_STRING)
                for (size_t k = 0; k < nkeys; k++)
                    if ((size_t)(cur - 1 - (tok + 1)) == strlen(keys[k]) && !memcmp(tok + 1, keys[k], strlen(keys[k])))
                        member = k;
            if (depth == 1 && t == JT_STRING_ESC) return 0; /* an escaped top-level key: leave it to the fallback */
            if (rec_json_token(&cur, &tok) != JT_COLON) return 0;
            t = rec_json_token(&cur, &tok);
            need_value = true;
            continue;
        }
        /* a value */
        switch (t) {
        case JT_STRING:
        case JT_STRING_ESC:
            if (t == JT_STRING_ESC && risky_escape(tok + 1, cur - 1)) return 0;
            if (member != SIZE_MAX) vals[member] = (rec_span){tok + 1, (size_t)(cur - 1 - (tok + 1)), t == JT_STRING_ESC};
            break;
        case JT_NUMBER:
            if (!tame_number(tok, cur)) return 0;
            /* fall through */
        case JT_TRUE: case JT_FALSE: case JT_NULL:
            if (member != SIZE_MAX) vals[member] = (rec_span){NULL, 0, false}; /* the last value counts: not a string */
            break;
        case JT_LBRACE:
        case JT_LBRACKET:
            if (member != SIZE_MAX) vals[member] = (rec_span){NULL, 0, false};
            if (depth == MAX_DEPTH) return 0;
            open[depth++] = t == JT_LBRACE ? '{' : '[';
            member = SIZE_MAX;
            t = rec_json_token(&cur, &tok);
            if (t == (open[depth - 1] == '{' ? JT_RBRACE : JT_RBRACKET)) {
                depth--;
                break;
            }
            need_value = open[depth - 1] == '[';
            continue;
        default:
            return 0;
        }
        member = SIZE_MAX;
        /* after a value: ',' or the close of its container (maybe several) */
        for (;;) {
            t = rec_json_token(&cur, &tok);
            if (t == JT_COMMA) {
                t = rec_json_token(&cur, &tok);
                need_value = open[depth - 1] == '[';
                break;
            }
            if (t != (open[depth - 1] == '{' ? JT_RBRACE : JT_RBRACKET)) return 0;
            if (--depth == 0) break;
        }
    }
    t = rec_json_token(&cur, &tok);
    return t == JT_END && tok == end ? 1 : 0;
}

size_t rec_json_unescape(const char *s, size_t len, char *out)
{
    uint32_t bad; /* rec_json_top_strings vouched: no \u0000 or lone surrogate */
    long n = json_unescape(s, s + len, out, &bad);
    return n < 0 ? 0 : (size_t)n;
}
