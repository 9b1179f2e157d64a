/*
 * strbuf.h — the string builder (prefix strbuf_; one for runtime/ and cli/).
 *
 * A strbuf grows as text is appended; its text is always NUL-terminated
 * once anything was added. Out of memory does not abort: the builder
 * stops growing, sets `failed`, and the caller checks it once at the end
 * (strbuf_take returns NULL then).
 *
 *     strbuf b = {0};
 *     strbuf_printf(&b, "%s = %d", name, v);
 *     char *s = strbuf_take(&b);   // caller frees; NULL if out of memory
 */
#ifndef QUY_STRBUF_H
#define QUY_STRBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct strbuf {
    char *s;     /* the text (NUL-terminated), or NULL while empty */
    size_t n;    /* its length in bytes */
    size_t cap;  /* bytes allocated */
    bool failed; /* out of memory at some append: the text is incomplete */
} strbuf;

/* Room for `more` bytes past n (plus the NUL); false when out of memory. */
bool strbuf_reserve(strbuf *b, size_t more);
void strbuf_put(strbuf *b, const char *s, size_t n);
void strbuf_puts(strbuf *b, const char *s);
void strbuf_putc(strbuf *b, char c);
void strbuf_printf(strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strbuf_vprintf(strbuf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* n spaces */
void strbuf_pad(strbuf *b, size_t n);
/* `s` as a JSON string literal, escaped as jansson's dump does ("\\",
 * "\"", \b \f \n \r \t, other controls as \u00XX; UTF-8 kept as is);
 * bytes that are not valid UTF-8 become U+FFFD so the output stays JSON. */
void strbuf_json(strbuf *b, const char *s);
/* The same for n bytes (NUL bytes are escaped as \u0000). */
void strbuf_json_n(strbuf *b, const char *s, size_t n);
/* strbuf_json, or `null` when s is NULL or empty */
void strbuf_json_or_null(strbuf *b, const char *s);
/* Empty the text, keep the memory (and clear `failed`). */
void strbuf_reset(strbuf *b);
/* The text so far, owned by the builder ("" while empty). */
static inline const char *strbuf_text(const strbuf *b) { return b->s ? b->s : ""; }
/* The text, owned by the caller ("" when empty); NULL if out of memory.
 * The builder is left empty. */
char *strbuf_take(strbuf *b);
void strbuf_free(strbuf *b);

#endif /* QUY_STRBUF_H */
