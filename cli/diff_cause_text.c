/*
 * diff_cause_text.c — a moved record's cause (the engine's detail object,
 * diff/diff_cause.c) as readable Vietnamese lines, for the text report and
 * the CSV of `quy diff`.
 */
#include <string.h>

#include "diff.h"

/* =====================================================================
 * Text
 * ===================================================================== */

static void pad(FILE *f, int n)
{
    for (int i = 0; i < n; i++) fputc(' ', f);
}

static const char *js(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static void clause_text(const json_t *c, FILE *f, int indent)
{
    json_t *res = json_object_get(c, "result");
    const char *mark = json_is_true(res) ? "✓" : json_is_false(res) ? "✗" : "–";
    pad(f, indent);
    if (json_object_get(c, "label"))
        fprintf(f, "%s %s  [%s]", mark, js(c, "label"), js(c, "condition"));
    else
        fprintf(f, "%s %s", mark, js(c, "condition"));
    if (json_is_string(res)) fprintf(f, " — bỏ qua: không có dữ liệu «%s»", js(c, "absent"));
    json_t *u = json_object_get(c, "unless");
    if (u && json_object_get(u, "held"))
        fprintf(f, " — ngoại lệ «%s»: %s", js(u, "condition"),
                json_is_true(json_object_get(u, "held")) ? "có, nên không áp dụng" : "không");
    fprintf(f, "  (%s [%s])\n", js(c, "cite"), js(c, "layer"));
    json_t *reads = json_object_get(c, "read");
    if (json_array_size(reads)) {
        pad(f, indent + 4);
        fputs("giá trị: ", f);
        for (size_t i = 0; i < json_array_size(reads); i++) {
            json_t *r = json_array_get(reads, i);
            const char *field = js(r, "field");
            if (!strcmp(field, "share()"))
                fprintf(f, "%stỉ lệ %s", i ? "; " : "", js(r, "value"));
            else
                fprintf(f, "%s%s = %s", i ? "; " : "", field, js(r, "value"));
        }
        fputc('\n', f);
    }
}

/* Adjustments ("↺ ...") of one side. */
static void adjust_text(FILE *f, int indent, const char *who, const json_t *a)
{
    for (size_t i = 0; i < json_array_size(a); i++) {
        const json_t *o = json_array_get(a, i);
        pad(f, indent);
        fprintf(f, "%s: ↺ «%s»", who, js(o, "step"));
        if (json_object_get(o, "from")) fprintf(f, " %s → %s", js(o, "from"), js(o, "to"));
        else fprintf(f, " (hồ sơ điều chỉnh trước khi xếp loại)");
        if (*js(o, "reason")) fprintf(f, ": %s", js(o, "reason"));
        fprintf(f, " — %s [%s]\n", js(o, "cite"), js(o, "layer"));
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

void dc_detail_text(const json_t *d, FILE *f, int indent)
{
    const char *type = js(d, "type");
    if (!strcmp(type, "rule")) {
        static const char *const sides[2] = {"old", "new"};
        static const char *const vi[2] = {"cũ", "mới"};
        for (int s = 0; s < 2; s++) {
            json_t *sj = json_object_get(d, sides[s]);
            const char *st = js(sj, "state");
            pad(f, indent);
            if (!strcmp(st, "absent")) {
                fprintf(f, "%s: không có quy tắc «%s»\n", vi[s], js(d, "rule"));
                continue;
            }
            if (!strcmp(st, "held")) fprintf(f, "%s: áp dụng → %s", vi[s], js(sj, "outcome"));
            else fprintf(f, "%s: %s (%s)", vi[s], !strcmp(st, "failed") ? "không đạt" : "không xét tới", js(sj, "outcome"));
            fprintf(f, " — %s [%s]\n", js(sj, "cite"), js(sj, "layer"));
            json_t *cl = json_object_get(sj, "clauses");
            for (size_t i = 0; i < json_array_size(cl); i++) clause_text(json_array_get(cl, i), f, indent + 4);
        }
        adjust_text(f, indent, "cũ", json_object_get(d, "adjust_old"));
        adjust_text(f, indent, "mới", json_object_get(d, "adjust_new"));
        if (json_object_get(d, "steps_old")) steps_text(f, indent, "cũ, bước theo lô", js(d, "steps_old"));
        if (json_object_get(d, "steps_new")) steps_text(f, indent, "mới, bước theo lô", js(d, "steps_new"));
    } else if (!strcmp(type, "adjust")) {
        pad(f, indent);
        fprintf(f, "các quy tắc như nhau; bước điều chỉnh «%s» sau khi xếp loại khác nhau\n", js(d, "step"));
        adjust_text(f, indent, "cũ", json_object_get(d, "adjust_old"));
        adjust_text(f, indent, "mới", json_object_get(d, "adjust_new"));
    } else if (!strcmp(type, "rejected")) {
        pad(f, indent);
        fprintf(f, "bộ quy tắc %s từ chối bản ghi [%s%s%s]: %s\n", !strcmp(js(d, "side"), "old") ? "cũ" : "mới",
                js(d, "code"), json_object_get(d, "field") ? " " : "", js(d, "field"), js(d, "message"));
    } else if (!strcmp(type, "batch")) {
        steps_text(f, indent, "cũ", js(d, "old"));
        steps_text(f, indent, "mới", js(d, "new"));
        return;
    } else {
        pad(f, indent);
        fprintf(f, "(không xác định được nguyên nhân)\n");
    }
}
