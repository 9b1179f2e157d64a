/*
 * strbuf.c — the string builder (see strbuf.h).
 */
#include "strbuf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool strbuf_reserve(strbuf *b, size_t more)
{
    if (b->failed) return false;
    if (more >= SIZE_MAX - b->n) {
        b->failed = true;
        return false;
    }
    size_t need = b->n + more + 1;
    if (need <= b->cap) return true;
    size_t nc = b->cap ? b->cap : 128;
    while (nc < need) nc = nc > SIZE_MAX / 2 ? need : nc * 2;
    char *ns = realloc(b->s, nc);
    if (!ns) {
        b->failed = true;
        return false;
    }
    b->s = ns;
    b->cap = nc;
    return true;
}

void strbuf_put(strbuf *b, const char *s, size_t n)
{
    if (!strbuf_reserve(b, n)) return;
    if (n) memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = 0;
}

void strbuf_puts(strbuf *b, const char *s) { strbuf_put(b, s, strlen(s)); }

void strbuf_putc(strbuf *b, char c) { strbuf_put(b, &c, 1); }

void strbuf_vprintf(strbuf *b, const char *fmt, va_list ap)
{
    char small[256];
    va_list ap2;
    va_copy(ap2, ap);
    int w = vsnprintf(small, sizeof small, fmt, ap);
    if (w >= 0 && (size_t)w < sizeof small) {
        strbuf_put(b, small, (size_t)w);
    } else if (w >= 0 && strbuf_reserve(b, (size_t)w)) {
        vsnprintf(b->s + b->n, (size_t)w + 1, fmt, ap2);
        b->n += (size_t)w;
    }
    va_end(ap2);
}

void strbuf_printf(strbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    strbuf_vprintf(b, fmt, ap);
    va_end(ap);
}

void strbuf_pad(strbuf *b, size_t n)
{
    if (!strbuf_reserve(b, n)) return;
    memset(b->s + b->n, ' ', n);
    b->n += n;
    b->s[b->n] = 0;
}

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (!len || len > n) return 0;
    for (size_t k = 1; k < len; k++)
        if ((s[k] >> 6) != 2) return 0;
    if (len == 1) return 1;
    uint32_t cp = c & (0x7Fu >> len);
    for (size_t k = 1; k < len; k++) cp = (cp << 6) | (s[k] & 0x3Fu);
    /* overlong forms, surrogates and code points past U+10FFFF are invalid */
    static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[len] || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) return 0;
    return len;
}

void strbuf_json(strbuf *b, const char *str) { strbuf_json_n(b, str, strlen(str)); }

void strbuf_json_n(strbuf *b, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    strbuf_putc(b, '"');
    size_t run = 0; /* start of the bytes not yet copied */
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        const char *esc = NULL;
        char seq[8];
        size_t len = 1;
        if (c == '"') esc = "\\\"";
        else if (c == '\\') esc = "\\\\";
        else if (c < 0x20) {
            switch (c) {
            case '\b': esc = "\\b"; break;
            case '\f': esc = "\\f"; break;
            case '\n': esc = "\\n"; break;
            case '\r': esc = "\\r"; break;
            case '\t': esc = "\\t"; break;
            default:
                snprintf(seq, sizeof seq, "\\u%04X", c);
                esc = seq;
            }
        } else if (c >= 0x80) {
            len = utf8_len(s + i, n - i);
            if (!len) {
                esc = "\xEF\xBF\xBD";
                len = 1;
            }
        }
        if (esc) {
            strbuf_put(b, str + run, i - run);
            strbuf_puts(b, esc);
            run = i + len;
        }
        i += len;
    }
    strbuf_put(b, str + run, n - run);
    strbuf_putc(b, '"');
}

void strbuf_json_or_null(strbuf *b, const char *s)
{
    if (s && *s) strbuf_json(b, s);
    else strbuf_put(b, "null", 4);
}

void strbuf_reset(strbuf *b)
{
    b->n = 0;
    b->failed = false;
    if (b->s) b->s[0] = 0;
}

char *strbuf_take(strbuf *b)
{
    if (b->failed) {
        strbuf_free(b);
        return NULL;
    }
    char *s = b->s ? b->s : strdup("");
    *b = (strbuf){0};
    return s;
}

void strbuf_free(strbuf *b)
{
    free(b->s);
    *b = (strbuf){0};
}
