/*
 * value.h — the one value representation shared by the compiler's constant
 * folder, the record loader and the VM.
 *
 * Every value is two int64 words. Numbers (int, decimal, percent, the result
 * of share()) are exact rationals n/d with d > 0, kept in lowest terms:
 * an int is n/1, "89.99" is 8999/100, "50%" is 1/2 (a percent is stored as
 * the fraction it denotes, so 50% == 0.5 == share(1, 2)). Comparisons
 * cross-multiply in 128 bits, so no floating point ever decides a tier.
 *
 * The other types reuse the two words:
 *   bool         n = 0 | 1, d = 1
 *   date         n = days since 1970-01-01 (proleptic Gregorian), d = 1
 *   enum, scale  n = member ordinal (declaration order; scales compare by it)
 *   string       s = pointer to UTF-8 bytes (the first word is a union: the
 *                static type, which the verifier tracks, says which member
 *                holds), d = length in bytes; build one with q_str(),
 *                read it with q_val_str()
 *   list         n = index of the first element in the record's element
 *                arena, d = element count (a struct element takes `stride`
 *                consecutive values, one per struct field)
 *
 * Ownership: values never own memory. Strings and list elements live in the
 * record (or in the program's constant pool) they were read from.
 */
#ifndef QUY_VALUE_H
#define QUY_VALUE_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

typedef struct q_val {
    union {
        int64_t n;     /* numerator / payload (every type but string) */
        const char *s; /* string: its UTF-8 bytes (not NUL-terminated) */
    };
    int64_t d; /* denominator (> 0 for numbers) / length / count */
} q_val;

_Static_assert(sizeof(q_val) == 16, "a q_val is two words: the VM's stack and the .qbc format rely on it");

/* A string value: `len` bytes at `p`, which must outlive the value. */
static inline q_val q_str(const char *p, size_t len)
{
    q_val v;
    v.s = p;
    v.d = (int64_t)len;
    return v;
}
/* The bytes of a string value (q_val_len() of them). */
static inline const char *q_val_str(q_val v) { return v.s; }
static inline size_t q_val_len(q_val v) { return (size_t)v.d; }

/* Status of an arithmetic operation: overflow is an error, never a wrap. */
typedef enum q_status {
    Q_OK = 0,
    Q_OVERFLOW,   /* result does not fit int64 n/d after reduction */
    Q_DIV_ZERO,   /* a / 0 with the '/' operator (share() defines x/0) */
} q_status;

static inline q_val q_int(int64_t n) { q_val v = {n, 1}; return v; }
static inline q_val q_bool(bool b) { q_val v = {b ? 1 : 0, 1}; return v; }

/* n/d reduced to lowest terms with d > 0; Q_DIV_ZERO when d == 0. */
q_status q_make(int64_t n, int64_t d, q_val *out);

q_status q_add(q_val a, q_val b, q_val *out);
q_status q_sub(q_val a, q_val b, q_val *out);
q_status q_mul(q_val a, q_val b, q_val *out);
q_status q_div(q_val a, q_val b, q_val *out);
q_status q_neg(q_val a, q_val *out);

/*
 * share(a, b) = a / b as an exact fraction. Documented meaning of a zero
 * denominator: share(x, 0) = 0 (0 %): "no part of nothing". Rulesets that
 * must treat an empty denominator differently test it explicitly
 * (e.g. `tasks_total > 0 and share(...) ...`). See docs/language-guide.md.
 */
q_status q_share(q_val a, q_val b, q_val *out);

/* Three-way numeric comparison by cross-multiplication: -1, 0, 1. */
static inline int q_cmp(q_val a, q_val b)
{
    __int128 l = (__int128)a.n * b.d;
    __int128 r = (__int128)b.n * a.d;
    return (l > r) - (l < r);
}

/* Byte-wise string equality for string values. */
bool q_str_eq(q_val a, q_val b);

/*
 * Parse an exact decimal ("12", "-3.5", "89.99", "1e2" is rejected) into a
 * rational. `len` bytes, no terminator needed. Returns false on bad syntax or
 * overflow. Used by the lexer, the record loader and the CSV reader.
 */
bool q_parse_decimal(const char *s, size_t len, q_val *out);

/* Parse "YYYY-MM-DD" into days since 1970-01-01; validates the calendar. */
bool q_parse_date(const char *s, size_t len, int64_t *days);
/* Format days since epoch as "YYYY-MM-DD" into buf (>= 11 bytes). */
void q_format_date(int64_t days, char *buf);

/*
 * Format a rational for people: integers as "12", others as a decimal with
 * up to `max_frac` fraction digits, exact when the expansion terminates
 * within them, otherwise the exact fraction in parentheses is appended:
 * "0.6667 (2/3)". As a percent (`pct`), the value is multiplied by 100 and
 * "%" appended: 1/2 -> "50%". Returns bytes written (snprintf semantics).
 */
int q_format(q_val v, bool pct, char *buf, size_t size);

#endif /* QUY_VALUE_H */
