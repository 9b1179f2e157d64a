/*
 * srcpos.c — see srcpos.h.
 */
#include "srcpos.h"

/* A UTF-8 continuation byte does not start a character. */
static bool is_cont(unsigned char c) { return (c & 0xC0) == 0x80; }

void srcpos_advance(const char *s, size_t n, uint32_t *line, uint32_t *col)
{
    uint32_t l = *line, c = *col;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '\n') {
            l++;
            c = 1;
        } else if (!is_cont(ch)) {
            c++;
        }
    }
    *line = l;
    *col = c;
}

void srcpos_linecol(const char *text, size_t off, uint32_t *line, uint32_t *col)
{
    *line = 1;
    *col = 1;
    if (text) srcpos_advance(text, off, line, col);
}

/* From byte `at`, n characters back (not before lo) or forward (not past hi). */
static uint32_t chars_back(const char *t, uint32_t at, uint32_t lo, size_t n)
{
    for (; n && at > lo; n--)
        do at--; while (at > lo && is_cont((unsigned char)t[at]));
    return at;
}
static uint32_t chars_fwd(const char *t, uint32_t at, uint32_t hi, size_t n)
{
    for (; n && at < hi; n--)
        do at++; while (at < hi && is_cont((unsigned char)t[at]));
    return at;
}

void srcpos_render(strbuf *b, const char *path, const char *text, uint32_t start, uint32_t end, const char *level,
                   const char *level_color, const char *msg, size_t msglen)
{
    const char *bold = level_color ? "\033[1m" : "", *reset = level_color ? "\033[0m" : "";
    const char *lc = level_color ? level_color : "";
    if (end < start) end = start;
    uint32_t line, col;
    srcpos_linecol(text, start, &line, &col);
    strbuf_printf(b, "%s%s:%u:%u:%s %s%s:%s %s", bold, path, line, col, reset, lc, level, reset, bold);
    strbuf_put(b, msg, msglen);
    strbuf_puts(b, reset);
    strbuf_putc(b, '\n');

    /* The source line holding the span's start (no strlen: the text may
     * hold a NUL inside the span). */
    uint32_t ls = start;
    while (ls > 0 && text[ls - 1] != '\n') ls--;
    uint32_t le = start;
    while (text[le] != '\n' && (text[le] != '\0' || le < end)) le++;
    uint32_t lshow = le;
    if (lshow > ls && text[lshow - 1] == '\r') lshow--;
    /* A line longer than SRCPOS_WIDTH characters (a 2 MB name) is shown as
     * a window of that many around the start, "…" marking what is cut. */
    bool cut_l = false, cut_r = false;
    if (chars_fwd(text, ls, lshow, SRCPOS_WIDTH) < lshow) {
        uint32_t ws = chars_back(text, start, ls, SRCPOS_BEFORE);
        uint32_t we = chars_fwd(text, ws, lshow, SRCPOS_WIDTH);
        cut_l = ws > ls;
        cut_r = we < lshow;
        ls = ws;
        lshow = we;
    }
    strbuf_printf(b, "%5u | %s", line, cut_l ? "…" : "");
    for (uint32_t i = ls; i < lshow; i++) strbuf_putc(b, text[i] ? text[i] : ' ');
    strbuf_puts(b, cut_r ? "…\n" : "\n");

    /* Underline: keep tabs so the caret lines up, one column per character. */
    strbuf_puts(b, cut_l ? "      |  " : "      | ");
    for (uint32_t i = ls; i < start; i++) {
        unsigned char ch = (unsigned char)text[i];
        if (ch == '\t')
            strbuf_putc(b, '\t');
        else if (!is_cont(ch))
            strbuf_putc(b, ' ');
    }
    uint32_t uend = end < lshow ? end : lshow;
    size_t nchars = 0;
    for (uint32_t i = start; i < uend; i++)
        if (!is_cont((unsigned char)text[i])) nchars++;
    strbuf_puts(b, lc);
    strbuf_putc(b, '^');
    for (size_t i = 1; i < nchars; i++) strbuf_putc(b, '~');
    strbuf_puts(b, reset);
    strbuf_putc(b, '\n');
}
