/*
 * period.h — dates relative to the rating period (the PERIODDATE
 * instruction and the checker that emits it).
 *
 * A record's period is text: a year ("2024") or a quarter ("2026-Q2").
 * A rule that says "trước ngày 05 tháng 12 hằng năm" reads the day of the
 * period's year (`05/12 of period`); a quarterly rule reads the period's
 * first or last day (`start of period`, `end of period`), or a day of its
 * first or last month ("trước ngày 15 tháng cuối quý": `15 of last month
 * of period`). The spec names which date:
 *   QPD_START             the first day of the period (01/01, or the quarter's)
 *   QPD_END               the last day of the period (31/12, or the quarter's)
 *   month * 100 + day     that day of the period's year (101 .. 1231)
 *   QPD_FIRST_MONTH + day that day (1 .. 30) of the period's first month
 *   QPD_LAST_MONTH + day  that day (1 .. 30) of the period's last month
 * (every first and last month of a year or a quarter has 30 days).
 */
#ifndef QUY_PERIOD_H
#define QUY_PERIOD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { QPD_START = 1, QPD_END = 2, QPD_FIRST_MONTH = 10000, QPD_LAST_MONTH = 20000 };

/* Is `spec` one of the above, naming a day that every year has (so not
 * 29/02)? */
bool q_period_spec_ok(uint32_t spec);

/* The date `spec` names in period text s[0..len): days since 1970-01-01.
 * False when the text is neither "YYYY" nor "YYYY-Qn" (n = 1..4). */
bool q_period_date(const char *s, size_t len, uint32_t spec, int64_t *days);

#endif /* QUY_PERIOD_H */
