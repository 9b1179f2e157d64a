/*
 * record_scan.re — the JSON token scanner of the record reader (re2c;
 * record_int.h, rec_json_token). The decoder in record_json.c drives it
 * one token at a time and decides, from the field's declared type, what
 * the token must be: no tree is built.
 *
 * Full validation here: strings are valid UTF-8 (no overlong forms, no
 * surrogates, nothing above U+10FFFF), contain no raw control characters
 * and only JSON's escapes; numbers follow JSON's grammar exactly; literals
 * are true/false/null. The input ends with a NUL sentinel
 * (re2c:yyfill:enable = 0); a NUL inside the text is reported by the
 * caller, which knows where the text ends.
 */
#include "record_int.h"

/*!re2c
    re2c:define:YYCTYPE = "unsigned char";
    re2c:yyfill:enable = 0;
    re2c:flags:utf-8 = 0;
*/

/* One UTF-8 character other than '"', '\\' and the controls below 0x20. */
/*!re2c
    tail = [\x80-\xBF];
    plain = [\x20\x21\x23-\x5B\x5D-\x7F]
          | [\xC2-\xDF] tail
          | "\xE0" [\xA0-\xBF] tail
          | [\xE1-\xEC\xEE\xEF] tail tail
          | "\xED" [\x80-\x9F] tail
          | "\xF0" [\x90-\xBF] tail tail
          | [\xF1-\xF3] tail tail tail
          | "\xF4" [\x80-\x8F] tail tail;
    hex = [0-9a-fA-F];
    esc = "\\" ( ["\\/bfnrt] | "u" hex hex hex hex );
    number = "-"? ("0" | [1-9][0-9]*) ("." [0-9]+)? ([eE] [+-]? [0-9]+)?;
    ws = [ \t\r\n]+;
*/

/* The body of a string after its opening quote (or from any character
 * boundary in it before which there was no escape): JT_STRING or
 * JT_STRING_ESC with the cursor after the closing quote, or the error found. */
rec_jtok rec_json_string(const char **cur)
{
    const unsigned char *YYCURSOR = (const unsigned char *)*cur, *YYMARKER = YYCURSOR;
    rec_jtok ok = JT_STRING;
    for (;;) {
        /* printable ASCII other than '"' and '\\' (most of a record's
         * text): a plain loop, then the automaton for the rest */
        for (unsigned char c = *YYCURSOR; c >= 0x20 && c < 0x80 && c != '"' && c != '\\'; c = *++YYCURSOR) {}
        const unsigned char *at = YYCURSOR;
        (void)at;
        /*!re2c
            plain+     { continue; }
            esc        { ok = JT_STRING_ESC; continue; }
            "\""       { *cur = (const char *)YYCURSOR; return ok; }
            "\\"       { *cur = (const char *)at; return JT_BAD_ESCAPE; }
            [\x00]     { *cur = (const char *)at; return JT_UNTERMINATED; }
            [\x01-\x1F] { *cur = (const char *)at; return JT_CONTROL; }
            *          { *cur = (const char *)at; return JT_BAD_UTF8; }
        */
    }
}

rec_jtok rec_json_token(const char **cur, const char **tok)
{
    const unsigned char *YYCURSOR = (const unsigned char *)*cur, *YYMARKER = YYCURSOR;
    for (;;) {
        *tok = (const char *)YYCURSOR;
        /*!re2c
            ws       { continue; }
            "{"      { *cur = (const char *)YYCURSOR; return JT_LBRACE; }
            "}"      { *cur = (const char *)YYCURSOR; return JT_RBRACE; }
            "["      { *cur = (const char *)YYCURSOR; return JT_LBRACKET; }
            "]"      { *cur = (const char *)YYCURSOR; return JT_RBRACKET; }
            ":"      { *cur = (const char *)YYCURSOR; return JT_COLON; }
            ","      { *cur = (const char *)YYCURSOR; return JT_COMMA; }
            "true"   { *cur = (const char *)YYCURSOR; return JT_TRUE; }
            "false"  { *cur = (const char *)YYCURSOR; return JT_FALSE; }
            "null"   { *cur = (const char *)YYCURSOR; return JT_NULL; }
            number   { *cur = (const char *)YYCURSOR; return JT_NUMBER; }
            "\""     { *cur = (const char *)YYCURSOR; return rec_json_string(cur); }
            [\x00]   { *cur = *tok; return JT_END; }
            *        { *cur = *tok; return JT_ERROR; }
        */
    }
}
