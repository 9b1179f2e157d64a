/*
 * diff_cause_text.c — a moved record's cause (quy_diff_detail* in quy.h)
 * as readable Vietnamese lines, for the text report and the CSV of
 * `quy diff`.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* =====================================================================
 * Text
 * ===================================================================== */

static void pad(FILE *f, int n)
{
    for (int i = 0; i < n; i++) fputc(' ', f);
}

static const char *nz(const char *s) { return s ? s : ""; }

static bool is(const char *a, const char *b) { return a && !strcmp(a, b); }

static void clause_text(quy_diff *d, size_t r, int side, size_t c, FILE *f, int indent)
{
    const char *res = quy_diff_detail_clause(d, r, side, c, "result");
    const char *mark = is(res, "true") ? "✓" : is(res, "false") ? "✗" : "–";
    const char *label = quy_diff_detail_clause(d, r, side, c, "label");
    pad(f, indent);
    if (label)
        fprintf(f, "%s %s  [%s]", mark, label, nz(quy_diff_detail_clause(d, r, side, c, "condition")));
    else
        fprintf(f, "%s %s", mark, nz(quy_diff_detail_clause(d, r, side, c, "condition")));
    if (is(res, "skipped"))
        fprintf(f, " — bỏ qua: không có dữ liệu «%s»", nz(quy_diff_detail_clause(d, r, side, c, "absent")));
    const char *held = quy_diff_detail_clause(d, r, side, c, "unless_held");
    if (held)
        fprintf(f, " — ngoại lệ «%s»: %s", nz(quy_diff_detail_clause(d, r, side, c, "unless")),
                is(held, "true") ? "có, nên không áp dụng" : "không");
    fprintf(f, "  (%s [%s])\n", nz(quy_diff_detail_clause(d, r, side, c, "cite")),
            nz(quy_diff_detail_clause(d, r, side, c, "layer")));
    size_t nr = quy_diff_detail_read_count(d, r, side, c);
    if (nr) {
        pad(f, indent + 4);
        fputs("giá trị: ", f);
        for (size_t i = 0; i < nr; i++) {
            const char *field = nz(quy_diff_detail_read(d, r, side, c, i, "field"));
            const char *value = nz(quy_diff_detail_read(d, r, side, c, i, "value"));
            if (!strcmp(field, "share()"))
                fprintf(f, "%stỉ lệ %s", i ? "; " : "", value);
            else
                fprintf(f, "%s%s = %s", i ? "; " : "", field, value);
        }
        fputc('\n', f);
    }
}

/* Adjustments ("↺ ...") of one side. */
static void adjust_text(quy_diff *d, size_t r, int side, FILE *f, int indent, const char *who)
{
    for (size_t i = 0; i < quy_diff_detail_adjust_count(d, r, side); i++) {
        pad(f, indent);
        fprintf(f, "%s: ↺ «%s»", who, nz(quy_diff_detail_adjust(d, r, side, i, "step")));
        if (quy_diff_detail_adjust(d, r, side, i, "from"))
            fprintf(f, " %s → %s", quy_diff_detail_adjust(d, r, side, i, "from"),
                    nz(quy_diff_detail_adjust(d, r, side, i, "to")));
        else fprintf(f, " (hồ sơ điều chỉnh trước khi xếp loại)");
        const char *reason = nz(quy_diff_detail_adjust(d, r, side, i, "reason"));
        if (*reason) fprintf(f, ": %s", reason);
        fprintf(f, " — %s [%s]\n", nz(quy_diff_detail_adjust(d, r, side, i, "cite")),
                nz(quy_diff_detail_adjust(d, r, side, i, "layer")));
    }
}

/* Batch-step lines ("⇒ ...", one per line) under a side's name. */
static void steps_text(FILE *f, int indent, const char *who, const char *steps)
{
    pad(f, indent);
    if (!*steps) {
        fprintf(f, "%s: không có bước theo lô nào\n", who);
        return;
    }
    fprintf(f, "%s:\n", who);
    for (const char *l = steps; *l;) {
        const char *nl = strchr(l, '\n');
        size_t n = nl ? (size_t)(nl - l) : strlen(l);
        pad(f, indent + 4);
        fprintf(f, "%.*s\n", (int)n, l);
        l += n + (nl ? 1 : 0);
    }
}

void dc_detail_text(quy_diff *d, size_t r, FILE *f, int indent)
{
    const char *type = nz(quy_diff_detail(d, r, "type"));
    if (!strcmp(type, "rule")) {
        static const char *const vi[2] = {"cũ", "mới"};
        for (int s = 0; s < 2; s++) {
            const char *st = nz(quy_diff_detail_side(d, r, s, "state"));
            pad(f, indent);
            if (!strcmp(st, "absent")) {
                fprintf(f, "%s: không có quy tắc «%s»\n", vi[s], nz(quy_diff_detail(d, r, "rule")));
                continue;
            }
            const char *outcome = nz(quy_diff_detail_side(d, r, s, "outcome"));
            if (!strcmp(st, "held")) fprintf(f, "%s: áp dụng → %s", vi[s], outcome);
            else fprintf(f, "%s: %s (%s)", vi[s], !strcmp(st, "failed") ? "không đạt" : "không xét tới", outcome);
            fprintf(f, " — %s [%s]\n", nz(quy_diff_detail_side(d, r, s, "cite")), nz(quy_diff_detail_side(d, r, s, "layer")));
            for (size_t i = 0; i < quy_diff_detail_clause_count(d, r, s); i++) clause_text(d, r, s, i, f, indent + 4);
        }
        adjust_text(d, r, 0, f, indent, "cũ");
        adjust_text(d, r, 1, f, indent, "mới");
        if (quy_diff_detail(d, r, "steps_old")) steps_text(f, indent, "cũ, bước theo lô", quy_diff_detail(d, r, "steps_old"));
        if (quy_diff_detail(d, r, "steps_new")) steps_text(f, indent, "mới, bước theo lô", quy_diff_detail(d, r, "steps_new"));
    } else if (!strcmp(type, "adjust")) {
        pad(f, indent);
        fprintf(f, "các quy tắc như nhau; bước điều chỉnh «%s» sau khi xếp loại khác nhau\n",
                nz(quy_diff_detail(d, r, "step")));
        adjust_text(d, r, 0, f, indent, "cũ");
        adjust_text(d, r, 1, f, indent, "mới");
    } else if (!strcmp(type, "rejected")) {
        const char *field = quy_diff_detail(d, r, "field");
        pad(f, indent);
        fprintf(f, "bộ quy tắc %s từ chối bản ghi [%s%s%s]: %s\n", is(quy_diff_detail(d, r, "side"), "old") ? "cũ" : "mới",
                nz(quy_diff_detail(d, r, "code")), field ? " " : "", nz(field), nz(quy_diff_detail(d, r, "message")));
    } else if (!strcmp(type, "batch")) {
        steps_text(f, indent, "cũ", nz(quy_diff_detail(d, r, "steps_old")));
        steps_text(f, indent, "mới", nz(quy_diff_detail(d, r, "steps_new")));
        return;
    } else {
        pad(f, indent);
        fprintf(f, "(không xác định được nguyên nhân)\n");
    }
}
