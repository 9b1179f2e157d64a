/*
 * bench_hand.c — central-124's rate blocks for `member` and `leader`,
 * written by hand in C over the plain bench_rec struct: the physical limit
 * the VM is measured against.
 *
 * The decision procedure is the ruleset's, rule for rule and in the same
 * order (rulesets/central-124/central-124.quy): not_rated rules, then the
 * khtnv disqualifiers, then the tier rules top-down, otherwise khtnv.
 * Shares are compared exactly by integer cross-multiplication, with the
 * language's share(x, 0) = 0 % where a denominator can be 0:
 *   share(a, b) >  p/q  <=>  b > 0 and a*q >  p*b
 *   share(a, b) >= p/q  <=>  b > 0 ? a*q >= p*b : 0 >= p/q
 *   share(a, b) <= p/q  <=>  b == 0 or a*q <= p*b
 * Percent fields are in hundredths of a percent (lcp 5001 = 50.01 %).
 */
#include "bench.h"

static bool any_grade(const uint8_t *g, int n, int grade)
{
    for (int i = 0; i < n; i++)
        if (g[i] == grade) return true;
    return false;
}

static bool all_at_least(const uint8_t *g, int n, int min)
{
    for (int i = 0; i < n; i++)
        if (g[i] < min) return false;
    return true;
}

/* Điều 12, 4 and 4.3: the disqualifiers members and leaders share. */
static bool individual_khtnv(const bench_rec *r)
{
    if (any_grade(r->result, r->nresult, G_KEM) || any_grade(r->other, r->nother, G_KEM)) return true;
    if (r->degraded || r->prohibited || r->breach) return true;
    int32_t t = r->tasks_total, undone = t - r->tasks_completed;
    if (t > 0 && undone * 2 > t) return true;  /* share(undone, total) > 50% */
    if (r->lcp >= 0 && r->lcp > 5000) return true;
    if (r->disciplined && !r->self_remedied) return true;
    return false;
}

int bench_rate_member(const bench_rec *r)
{
    if (r->exempt || r->suspended || r->months < 6) return T_NOT_RATED;
    if (individual_khtnv(r)) return T_KHTNV;
    int32_t t = r->tasks_total, done = r->tasks_completed, on_time = r->tasks_on_time;
    if (r->outstanding && all_at_least(r->other, r->nother, G_TOT) && all_at_least(r->result, r->nresult, G_XUAT_SAC) &&
        t > 0 && on_time == t && r->tasks_exceeded * 2 >= t)
        return T_HTXSNV;
    if (all_at_least(r->other, r->nother, G_TRUNG_BINH) && all_at_least(r->result, r->nresult, G_TOT) && on_time == t)
        return T_HTTNV;
    if (all_at_least(r->other, r->nother, G_TRUNG_BINH) && all_at_least(r->result, r->nresult, G_TRUNG_BINH) &&
        done == t && (done - on_time) * 5 <= t)
        return T_HTNV;
    return T_KHTNV;
}

/* (count subordinate_tiers) = 0 or share(count where it >= min, count) >= 70%,
 * `if present`: an absent list skips the clause, which then holds. */
static bool subs_70(const bench_rec *r, int min)
{
    if (r->nsubs <= 0) return true;
    int k = 0;
    for (int i = 0; i < r->nsubs; i++) k += r->subs[i] >= min;
    return k * 10 >= 7 * r->nsubs;
}

/* all subordinate_tiers >= htnv if present */
static bool subs_all_htnv(const bench_rec *r)
{
    return r->nsubs <= 0 || all_at_least(r->subs, r->nsubs, T_HTNV);
}

int bench_rate_leader(const bench_rec *r)
{
    if (individual_khtnv(r)) return T_KHTNV;
    int32_t ut = r->ut_total, uc = r->ut_completed;
    if (ut > 0 && uc * 10 < ut * 7) return T_KHTNV;              /* 4.4: unit under 70 % */
    if (r->unit_tier == T_KHTNV) return T_KHTNV;                 /* 4.4: unit rated khtnv */
    if (r->sub_corruption && !r->sub_corruption_remedied) return T_KHTNV; /* 4.4 */
    int32_t t = r->tasks_total, done = r->tasks_completed, on_time = r->tasks_on_time;
    if (r->outstanding && all_at_least(r->other, r->nother, G_TOT) && all_at_least(r->result, r->nresult, G_XUAT_SAC) &&
        t > 0 && on_time == t && r->tasks_exceeded * 2 >= t && r->exemplary == EX_THUC_SU && ut > 0 && uc == ut &&
        r->ut_exceeded * 2 >= ut && subs_all_htnv(r) && subs_70(r, T_HTTNV))
        return T_HTXSNV;
    if (all_at_least(r->other, r->nother, G_TRUNG_BINH) && all_at_least(r->result, r->nresult, G_TOT) && on_time == t &&
        r->exemplary >= EX_GUONG_MAU && ut > 0 && uc == ut && r->uw_total > 0 && r->uw_on_time * 5 >= r->uw_total * 4 &&
        subs_all_htnv(r))
        return T_HTTNV;
    if (all_at_least(r->other, r->nother, G_TRUNG_BINH) && all_at_least(r->result, r->nresult, G_TRUNG_BINH) &&
        done == t && (done - on_time) * 5 <= t && r->exemplary >= EX_GUONG_MAU && ut > 0 && uc * 10 > ut * 7 &&
        subs_70(r, T_HTNV))
        return T_HTNV;
    return T_KHTNV;
}

int bench_rate_c(const bench_rec *r)
{
    return r->kind == BK_LEADER ? bench_rate_leader(r) : bench_rate_member(r);
}
