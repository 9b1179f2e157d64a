/*
 * period.c — dates relative to the rating period (see period.h).
 */
#include "period.h"

#include <stdio.h>

#include "value.h"

static const unsigned mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

bool q_period_spec_ok(uint32_t spec)
{
    if (spec == QPD_START || spec == QPD_END) return true;
    if (spec > QPD_FIRST_MONTH && spec <= QPD_LAST_MONTH + 30)
        return spec % 10000 >= 1 && spec % 10000 <= 30 && spec / 10000 <= 2;
    unsigned m = spec / 100, d = spec % 100;
    return m >= 1 && m <= 12 && d >= 1 && d <= mdays[m - 1];
}

/* "2024" -> year 2024, quarter 0; "2026-Q2" -> 2026, 2. */
static bool parse_period(const char *s, size_t len, int *year, int *quarter)
{
    if (len != 4 && len != 7) return false;
    int y = 0;
    for (int i = 0; i < 4; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        y = y * 10 + (s[i] - '0');
    }
    *year = y;
    *quarter = 0;
    if (len == 4) return true;
    if (s[4] != '-' || (s[5] != 'Q' && s[5] != 'q') || s[6] < '1' || s[6] > '4') return false;
    *quarter = s[6] - '0';
    return true;
}

bool q_period_date(const char *s, size_t len, uint32_t spec, int64_t *days)
{
    int y, q;
    if (!s || !q_period_spec_ok(spec) || !parse_period(s, len, &y, &q)) return false;
    unsigned m, d;
    if (spec == QPD_START) {
        m = q ? (unsigned)(q - 1) * 3 + 1 : 1;
        d = 1;
    } else if (spec == QPD_END) {
        m = q ? (unsigned)q * 3 : 12;
        d = mdays[m - 1]; /* a quarter ends in March, June, September or December: never February */
    } else if (spec > QPD_FIRST_MONTH) {
        bool last = spec > QPD_LAST_MONTH;
        m = last ? (q ? (unsigned)q * 3 : 12) : (q ? (unsigned)(q - 1) * 3 + 1 : 1);
        d = spec % 10000;
    } else {
        m = spec / 100;
        d = spec % 100;
    }
    char iso[32]; /* y < 10000, m <= 12, d <= 31: 10 bytes */
    snprintf(iso, sizeof iso, "%04d-%02u-%02u", y, m, d);
    return q_parse_date(iso, 10, days);
}
