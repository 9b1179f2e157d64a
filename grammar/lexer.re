/*
 * lexer.re — the Quy scanner (re2c, --utf8). Prefix lex_.
 *
 * The input is NUL-terminated (src[len] == 0) and re2c runs with
 * yyfill disabled: the NUL is the sentinel, and a NUL before `len` is an
 * embedded NUL, reported as an error. Strings and comments are scanned by
 * hand so that every byte of them is checked to be valid UTF-8.
 * Token kinds come from the bison header (gen/parser.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "parse.h"
#include "parser.h"

#include "../runtime/period.h"

void lex_init(lex_state *L, ast_arena *arena, diag_list *d, const char *path, const char *src, size_t len)
{
    memset(L, 0, sizeof *L);
    L->path = path;
    L->src = src;
    L->len = len;
    L->arena = arena;
    L->d = d;
}

static void lex_error(lex_state *L, uint32_t start, uint32_t end, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void lex_error(lex_state *L, uint32_t start, uint32_t end, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    q_span sp = {start, end};
    diag_vadd(L->d, DIAG_ERROR, L->path, L->src, sp, fmt, ap);
    va_end(ap);
    L->nerrors++;
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if it is not one
 * (overlong forms, surrogates and code points past U+10FFFF are invalid).
 * The NUL sentinel is not a continuation byte, so this never reads past it. */
static int utf8_len(const unsigned char *p)
{
    unsigned char c = p[0];
    if (c < 0x80) return 1;
#define CONT(x) (((x) & 0xC0) == 0x80)
    if (c >= 0xC2 && c <= 0xDF) return CONT(p[1]) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        unsigned char lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        return p[1] >= lo && p[1] <= hi && CONT(p[2]) ? 3 : 0;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        unsigned char lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
        return p[1] >= lo && p[1] <= hi && CONT(p[2]) && CONT(p[3]) ? 4 : 0;
    }
#undef CONT
    return 0;
}

/* At an invalid byte at `pos`: report the run of invalid bytes once and
 * return the offset after it. */
static uint32_t bad_utf8(lex_state *L, uint32_t pos, const char *where)
{
    const unsigned char *s = (const unsigned char *)L->src;
    uint32_t e = pos + 1;
    while (e < L->len && s[e] >= 0x80 && utf8_len(s + e) == 0) e++;
    lex_error(L, pos, e, "invalid UTF-8 byte 0x%02X%s", s[pos], where);
    return e;
}

/* comment -> '--' any* '\n' ; pos is just after "--". */
static void skip_comment(lex_state *L)
{
    const unsigned char *s = (const unsigned char *)L->src;
    uint32_t p = L->pos;
    for (;;) {
        unsigned char c = s[p];
        if (c == '\n') break;
        if (c == 0) {
            if (p >= L->len) break;
            lex_error(L, p, p + 1, "NUL byte in comment");
            p++;
        } else if (c < 0x80) {
            p++;
        } else {
            int n = utf8_len(s + p);
            if (n)
                p += (uint32_t)n;
            else
                p = bad_utf8(L, p, " in comment");
        }
    }
    L->pos = p;
}

/* string -> '"' (char | '\' ["\\nt])* '"' ; pos is just after the quote.
 * Decodes into the arena. An unterminated string is reported and ends at
 * the end of its line. */
static void scan_string(lex_state *L, lex_token *t, uint32_t start)
{
    const unsigned char *s = (const unsigned char *)L->src;
    uint32_t p = L->pos;
    uint32_t eol = p;
    while (s[eol] != '\n' && (s[eol] != 0 || eol < L->len)) eol++;
    char *out = ast_alloc(L->arena, eol - p + 1);
    size_t n = 0;
    for (;;) {
        unsigned char c = s[p];
        if (c == '"') {
            p++;
            break;
        }
        if (c == '\n' || (c == 0 && p >= L->len)) {
            uint32_t e = p;
            if (e > start && s[e - 1] == '\r') e--;
            lex_error(L, start, e, "unterminated string");
            break;
        }
        if (c == '\\') {
            unsigned char e = s[p + 1];
            switch (e) {
            case '"': out[n++] = '"'; p += 2; continue;
            case '\\': out[n++] = '\\'; p += 2; continue;
            case 'n': out[n++] = '\n'; p += 2; continue;
            case 't': out[n++] = '\t'; p += 2; continue;
            default: break;
            }
            if (e == '\n' || (e == 0 && p + 1 >= L->len)) {
                p++; /* the backslash; the next round reports the string */
                continue;
            }
            if (e >= 0x20 && e < 0x7F)
                lex_error(L, p, p + 2, "unknown escape '\\%c' in string (use \\\" \\\\ \\n \\t)", e);
            else
                lex_error(L, p, p + 1, "unknown escape in string (use \\\" \\\\ \\n \\t)");
            p++; /* keep the character after the backslash as it is */
            continue;
        }
        if (c == 0) {
            lex_error(L, p, p + 1, "NUL byte in string");
            p++;
            continue;
        }
        if (c < 0x80) {
            out[n++] = (char)c;
            p++;
            continue;
        }
        int k = utf8_len(s + p);
        if (k) {
            memcpy(out + n, s + p, (size_t)k);
            n += (size_t)k;
            p += (uint32_t)k;
        } else {
            p = bad_utf8(L, p, " in string");
        }
    }
    out[n] = '\0';
    L->pos = p;
    t->kind = TK_STRING;
    t->span.start = start;
    t->span.end = p;
    t->str.s = out;
    t->str.len = (uint32_t)n;
}

/* A number token: INT, DECIMAL, or PERCENT when it ends in '%'. */
static void scan_number(lex_state *L, lex_token *t, uint32_t start, uint32_t end)
{
    bool pct = L->src[end - 1] == '%';
    uint32_t ne = pct ? end - 1 : end;
    bool dec = memchr(L->src + start, '.', ne - start) != NULL;
    q_val v = q_int(0);
    if (!q_parse_decimal(L->src + start, ne - start, &v)) {
        lex_error(L, start, end, "number '%.*s' is too large (at most 18 digits)", (int)(end - start),
                  L->src + start);
        v = q_int(0);
    }
    if (pct && q_div(v, q_int(100), &v) != Q_OK) {
        lex_error(L, start, end, "percentage '%.*s' cannot be represented exactly", (int)(end - start),
                  L->src + start);
        v = q_int(0);
    }
    t->kind = pct ? TK_PERCENT : dec ? TK_DECIMAL : TK_INT;
    t->num = v;
}

void lex_next(lex_state *L, lex_token *t)
{
    const unsigned char *base = (const unsigned char *)L->src;
    memset(t, 0, sizeof *t);
    for (;;) {
        const unsigned char *YYCURSOR = base + L->pos, *YYMARKER = YYCURSOR, *YYCTXMARKER = YYCURSOR;
        uint32_t start = L->pos;
        int kind;
/* Finish a token of `k` ending at YYCURSOR. */
#define TOK(k)                                        \
    do {                                              \
        kind = (k);                                   \
        goto done;                                    \
    } while (0)
        /*!re2c
        re2c:yyfill:enable = 0;
        re2c:define:YYCTYPE = "unsigned char";

        digit    = [0-9];
        ws       = [ \t\r\n\f\v];
        nonascii = [\x80-\uD7FF\uE000-\U0010FFFF];
        idchar   = [A-Za-z0-9_] | nonascii;

        "\x00" {
            if (start >= L->len) {
                t->kind = TK_YYEOF;
                t->span.start = t->span.end = (uint32_t)L->len;
                return;
            }
            lex_error(L, start, start + 1, "NUL byte in source");
            L->pos = start + 1;
            continue;
        }
        ws+  { L->pos = (uint32_t)(YYCURSOR - base); continue; }
        "--" { L->pos = (uint32_t)(YYCURSOR - base); skip_comment(L); continue; }

        "ruleset"   { TOK(TK_RULESET); }
        "extends"   { TOK(TK_EXTENDS); }
        "version"   { TOK(TK_VERSION); }
        "title"     { TOK(TK_TITLE); }
        "source"    { TOK(TK_SOURCE); }
        "scale"     { TOK(TK_SCALE); }
        "enum"      { TOK(TK_ENUM); }
        "struct"    { TOK(TK_STRUCT); }
        "record"    { TOK(TK_RECORD); }
        "optional"  { TOK(TK_OPTIONAL); }
        "computed"  { TOK(TK_COMPUTED); }
        "check"     { TOK(TK_CHECK); }
        "list"      { TOK(TK_LIST); }
        "of"        { TOK(TK_OF); }
        "rate"      { TOK(TK_RATE); }
        "amend"     { TOK(TK_AMEND); }
        "when"      { TOK(TK_WHEN); }
        "unless"    { TOK(TK_UNLESS); }
        "if"        { TOK(TK_IF); }
        "present"   { TOK(TK_PRESENT); }
        "otherwise" { TOK(TK_OTHERWISE); }
        "also"      { TOK(TK_ALSO); }
        "requires"  { TOK(TK_REQUIRES); }
        "replace"   { TOK(TK_REPLACE); }
        "let"       { TOK(TK_LET); }
        "flag"      { TOK(TK_FLAG); }
        "gap"       { TOK(TK_GAP); }
        "cite"      { TOK(TK_CITE); }
        "quota"     { TOK(TK_QUOTA); }
        "per"       { TOK(TK_PER); }
        "round"     { TOK(TK_ROUND); }
        "at"        { TOK(TK_AT); }
        "cap"       { TOK(TK_CAP); }
        "hook"      { TOK(TK_HOOK); }
        "adjust"    { TOK(TK_ADJUST); }
        "by"        { TOK(TK_BY); }
        "from"      { TOK(TK_FROM); }
        "all"       { TOK(TK_ALL); }
        "any"       { TOK(TK_ANY); }
        "none"      { TOK(TK_NONE); }
        "count"     { TOK(TK_COUNT); }
        "sum"       { TOK(TK_SUM); }
        "where"     { TOK(TK_WHERE); }
        "min"       { TOK(TK_MIN); }
        "max"       { TOK(TK_MAX); }
        "longest"   { TOK(TK_LONGEST); }
        "run"       { TOK(TK_RUN); }
        "else"      { TOK(TK_ELSE); }
        "and"       { TOK(TK_AND); }
        "or"        { TOK(TK_OR); }
        "not"       { TOK(TK_NOT); }
        "true"      { TOK(TK_TRUE); }
        "false"     { TOK(TK_FALSE); }
        "it"        { TOK(TK_IT); }

        [A-Za-z_][A-Za-z0-9_]* {
            t->str = ast_strdup(L->arena, L->src + start, (size_t)(YYCURSOR - base) - start);
            TOK(TK_IDENT);
        }

        ([A-Za-z_][A-Za-z0-9_]*)? nonascii idchar* {
            /* A name with Vietnamese (or other non-ASCII) letters: one
             * error for the whole word. */
            uint32_t end = (uint32_t)(YYCURSOR - base);
            lex_error(L, start, end,
                      "'%.*s' is not a valid name: names use ASCII letters, digits and '_' "
                      "(Vietnamese text goes in strings)", (int)(end - start), L->src + start);
            TOK(TK_LEXERR);
        }

        digit{4} "-" digit{2} "-" digit{2} {
            int64_t days = 0;
            if (!q_parse_date(L->src + start, 10, &days)) {
                lex_error(L, start, start + 10, "invalid date '%.10s'", L->src + start);
                days = 0;
            }
            t->num = q_int(days);
            TOK(TK_DATE);
        }

        digit{1,2} "/" digit{1,2} / ws+ "of" [^A-Za-z0-9_] {
            /* DD/MM before 'of': a day of the period's year (05/12 of period) */
            uint32_t end = (uint32_t)(YYCURSOR - base);
            unsigned d = 0, m = 0;
            const char *s = L->src + start;
            size_t i = 0;
            for (; s[i] != '/'; i++) d = d * 10 + (unsigned)(s[i] - '0');
            for (i++; start + i < end; i++) m = m * 10 + (unsigned)(s[i] - '0');
            if (m == 2 && d == 29)
                lex_error(L, start, end, "29/02 is not a day of every year: write 28/02 or 01/03");
            else if (!q_period_spec_ok(m * 100 + d))
                lex_error(L, start, end, "'%.*s' is not a day of the year: write DD/MM (05/12 is 5 December)",
                          (int)(end - start), s);
            t->num = q_int(m * 100 + d);
            TOK(TK_DAYMONTH);
        }

        digit+ ("." digit+)? "%"? {
            uint32_t end = (uint32_t)(YYCURSOR - base);
            scan_number(L, t, start, end);
            TOK(t->kind);
        }

        "\"" {
            L->pos = start + 1;
            scan_string(L, t, start);
            return;
        }

        "!=" { TOK(TK_NE); }
        "<=" { TOK(TK_LE); }
        ">=" { TOK(TK_GE); }
        "->" { TOK(TK_ARROW); }
        "="  { TOK('='); }
        "<"  { TOK('<'); }
        ">"  { TOK('>'); }
        "+"  { TOK('+'); }
        "-"  { TOK('-'); }
        "*"  { TOK('*'); }
        "/"  { TOK('/'); }
        "("  { TOK('('); }
        ")"  { TOK(')'); }
        "{"  { TOK('{'); }
        "}"  { TOK('}'); }
        ","  { TOK(','); }
        ":"  { TOK(':'); }
        "."  { TOK('.'); }

        * {
            unsigned char c = base[start];
            uint32_t e = start + 1;
            if (c >= 0x80) {
                /* valid characters were taken by the rule above */
                e = bad_utf8(L, start, "");
            } else if (c >= 0x20 && c < 0x7F) {
                lex_error(L, start, e, "unexpected character '%c'", c);
            } else {
                lex_error(L, start, e, "unexpected control character 0x%02X", c);
            }
            L->pos = e;
            t->kind = TK_LEXERR;
            t->span.start = start;
            t->span.end = e;
            return;
        }
        */
    done:
        (void)YYMARKER;
        (void)YYCTXMARKER;
        L->pos = (uint32_t)(YYCURSOR - base);
        t->kind = kind;
        t->span.start = start;
        t->span.end = L->pos;
        return;
#undef TOK
    }
}
