/*
 * diff_report.c — the reports of `quy diff` (cli.h): readable text,
 * JSON, CSV of the moved records, and a self-contained HTML page (inline
 * CSS and JavaScript, no network) with colour-scaled transition matrices
 * and the moved records filterable by cause.
 *
 * Input: a diff that ran (quy_diff_* in quy.h), read through its
 * accessors: the summary's parts, then the listed records one by one.
 * Percentages are computed in integers (tenths of a percent, rounded half
 * up): no floating point anywhere in the tool's arithmetic.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* The HTML page lists at most this many moved records (the JSON and CSV
 * reports list them all). */
#define HTML_MAX_ROWS 10000

static const char *nz(const char *s) { return s ? s : ""; }

/* A count of the diff (0 if it has none). */
static uint64_t cnt(const quy_diff *d, int what)
{
    uint64_t v = 0;
    quy_diff_count(d, what, &v);
    return v;
}

/* The counts of a group, a cause, a cause's move, an approval, a listed record. */
static uint64_t gnum(quy_diff *d, const char *by, size_t i, const char *attr)
{
    uint64_t v = 0;
    quy_diff_group_num(d, by, i, attr, &v);
    return v;
}
static uint64_t cnum(quy_diff *d, size_t i, const char *attr)
{
    uint64_t v = 0;
    quy_diff_cause_num(d, i, attr, &v);
    return v;
}
static uint64_t mnum(quy_diff *d, size_t i, size_t j)
{
    uint64_t v = 0;
    quy_diff_cause_move_num(d, i, j, "count", &v);
    return v;
}
static uint64_t anum(quy_diff *d, const char *list, size_t i, const char *attr)
{
    uint64_t v = 0;
    quy_diff_approval_num(d, list, i, attr, &v);
    return v;
}
static uint64_t lnum(quy_diff *d, size_t i, const char *attr)
{
    uint64_t v = 0;
    quy_diff_listed_num(d, i, attr, &v);
    return v;
}

/* "12.3%" of n in total (tenths, half up); "–" when total is 0 */
static void pct(uint64_t n, uint64_t total, char *buf, size_t size)
{
    if (!total) {
        snprintf(buf, size, "–");
        return;
    }
    uint64_t t = (n * 2000 + total) / (2 * total);
    unsigned u = (unsigned)(t > 10000 ? 10000 : t); /* n <= total: at most 100.0% */
    snprintf(buf, size, "%u.%u%%", (u / 10) % 10000, u % 10);
}

/* Print s padded with spaces to `width` display columns (right-aligned when right). */
static void padded(FILE *f, const char *s, size_t width, bool right)
{
    size_t w = quy_display_width(s);
    if (right)
        for (size_t i = w; i < width; i++) fputc(' ', f);
    fputs(s, f);
    if (!right)
        for (size_t i = w; i < width; i++) fputc(' ', f);
}

static uint64_t matrix_cell(const quy_diff *d, int final, const char *from, const char *to)
{
    size_t n = 0;
    quy_diff_matrix(d, final, from, to, &n);
    return n;
}

/* Column totals of a matrix (one per state; malloc'd, exits when out of memory). */
static uint64_t *col_totals(size_t ns)
{
    uint64_t *c = calloc(ns ? ns : 1, sizeof *c);
    if (!c) {
        fprintf(stderr, "quy diff: out of memory\n");
        exit(EXIT_IO);
    }
    return c;
}

/* =====================================================================
 * Text
 * ===================================================================== */

static void text_matrix(FILE *f, quy_diff *d, int final)
{
    size_t ns = quy_diff_state_count(d);
    char cell[64];
    const size_t w0 = 10, w = 16;
    padded(f, "cũ \\ mới", w0, false);
    for (size_t j = 0; j < ns; j++) padded(f, quy_diff_state(d, j), w, true);
    padded(f, "tổng", 9, true);
    fputc('\n', f);
    uint64_t *coltot = col_totals(ns), all = 0;
    for (size_t i = 0; i < ns; i++) {
        const char *from = quy_diff_state(d, i);
        uint64_t rowtot = 0;
        for (size_t j = 0; j < ns; j++) rowtot += matrix_cell(d, final, from, quy_diff_state(d, j));
        padded(f, from, w0, false);
        for (size_t j = 0; j < ns; j++) {
            uint64_t n = matrix_cell(d, final, from, quy_diff_state(d, j));
            coltot[j] += n;
            if (!n) {
                snprintf(cell, sizeof cell, ".");
            } else {
                char p[16];
                pct(n, rowtot, p, sizeof p);
                snprintf(cell, sizeof cell, "%llu (%s)", (unsigned long long)n, p);
            }
            padded(f, cell, w, true);
        }
        snprintf(cell, sizeof cell, "%llu", (unsigned long long)rowtot);
        padded(f, cell, 9, true);
        fputc('\n', f);
        all += rowtot;
    }
    padded(f, "tổng", w0, false);
    for (size_t j = 0; j < ns; j++) {
        snprintf(cell, sizeof cell, "%llu", (unsigned long long)coltot[j]);
        padded(f, cell, w, true);
    }
    snprintf(cell, sizeof cell, "%llu", (unsigned long long)all);
    padded(f, cell, 9, true);
    fputc('\n', f);
    free(coltot);
}

static void text_groups(FILE *f, quy_diff *d, const char *by, const char *title, size_t max)
{
    size_t n = quy_diff_group_count(d, by);
    fprintf(f, "\n%s", title);
    if (n > max) fprintf(f, " — %zu nhóm nhiều thay đổi nhất trong %zu", max, n);
    fputc('\n', f);
    size_t w = 12;
    for (size_t i = 0; i < n && i < max; i++) {
        size_t l = quy_display_width(nz(quy_diff_group(d, by, i, "name")));
        if (l > w) w = l;
    }
    fputs("  ", f);
    padded(f, by, w, false);
    fprintf(f, " %9s %8s %8s %8s %8s %8s\n", "records", "moved", "%", "up", "down", "other");
    for (size_t i = 0; i < n && i < max; i++) {
        char p[16];
        pct(gnum(d, by, i, "moved"), gnum(d, by, i, "records"), p, sizeof p);
        fputs("  ", f);
        padded(f, nz(quy_diff_group(d, by, i, "name")), w, false);
        fprintf(f, " %9llu %8llu %8s %8llu %8llu %8llu\n", (unsigned long long)gnum(d, by, i, "records"),
                (unsigned long long)gnum(d, by, i, "moved"), p, (unsigned long long)gnum(d, by, i, "up"),
                (unsigned long long)gnum(d, by, i, "down"), (unsigned long long)gnum(d, by, i, "other"));
    }
}

static void text_moves_list(FILE *f, quy_diff *d, size_t c)
{
    for (size_t j = 0; j < quy_diff_cause_move_count(d, c); j++)
        fprintf(f, "%s%s→%s %llu", j ? ", " : "", nz(quy_diff_cause_move(d, c, j, "old")),
                nz(quy_diff_cause_move(d, c, j, "new")), (unsigned long long)mnum(d, c, j));
}

static void text_expect(FILE *f, quy_diff *d, bool refines)
{
    if (quy_diff_is(d, "checked") != 1) return;
    const char *file = nz(quy_diff_expect_file(d));
    fprintf(f, "\n%s%s%s: %llu được chấp thuận (approved), %llu KHÔNG được chấp thuận (not approved)\n",
            refines ? "Kiểm tra --refines" : "Kiểm tra --expect", *file ? " " : "", file,
            (unsigned long long)cnt(d, QUY_DIFF_APPROVED), (unsigned long long)cnt(d, QUY_DIFF_UNAPPROVED));
    for (size_t i = 0; i < quy_diff_approval_count(d, "unapproved"); i++)
        fprintf(f, "  ✗ %s → %s  %s: %llu (chấp thuận %llu)\n", nz(quy_diff_approval(d, "unapproved", i, "old")),
                nz(quy_diff_approval(d, "unapproved", i, "new")), nz(quy_diff_approval(d, "unapproved", i, "cause")),
                (unsigned long long)anum(d, "unapproved", i, "count"), (unsigned long long)anum(d, "unapproved", i, "approved"));
    for (size_t i = 0; i < quy_diff_approval_count(d, "unused"); i++) {
        uint64_t ap = anum(d, "unused", i, "approved");
        char a[32];
        if (ap == UINT64_MAX) snprintf(a, sizeof a, "*");
        else snprintf(a, sizeof a, "%lld", (long long)ap);
        fprintf(f, "  · chấp thuận nhưng không thấy đủ: %s → %s  %s: thấy %llu, chấp thuận %s\n",
                nz(quy_diff_approval(d, "unused", i, "old")), nz(quy_diff_approval(d, "unused", i, "new")),
                nz(quy_diff_approval(d, "unused", i, "cause")), (unsigned long long)anum(d, "unused", i, "count"), a);
    }
}

/* "  cũ  (old): SPEC  [L1 > L2]" */
static void text_side(FILE *f, quy_diff *d, int side)
{
    fprintf(f, "  %s: %s", side ? "mới (new)" : "cũ  (old)", nz(quy_diff_side(d, side, "spec")));
    size_t nl = quy_diff_layer_count(d, side);
    for (size_t i = 0; i < nl; i++) fprintf(f, "%s%s", i ? " > " : "  [", nz(quy_diff_layer(d, side, i)));
    fprintf(f, "%s\n", nl ? "]" : "");
}

static int write_text(quy_diff *d, FILE *f)
{
    bool refines = quy_diff_is(d, "refines") == 1;
    fprintf(f, "quy diff: %s %s → %s %s\n", nz(quy_diff_side(d, 0, "name")), nz(quy_diff_side(d, 0, "version")),
            nz(quy_diff_side(d, 1, "name")), nz(quy_diff_side(d, 1, "version")));
    text_side(f, d, 0);
    text_side(f, d, 1);
    uint64_t total = cnt(d, QUY_DIFF_RECORDS), moved = cnt(d, QUY_DIFF_MOVED);
    char p[16];
    pct(moved, total, p, sizeof p);
    fprintf(f, "  bản ghi (records): %llu; thay đổi (moved): %llu (%s) — lên (up) %llu, xuống (down) %llu, khác (other) %llu\n",
            (unsigned long long)total, (unsigned long long)moved, p, (unsigned long long)cnt(d, QUY_DIFF_UP),
            (unsigned long long)cnt(d, QUY_DIFF_DOWN), (unsigned long long)cnt(d, QUY_DIFF_OTHER));
    fprintf(f, "  cùng mức nhưng khác quy tắc quyết định (same tier, another deciding rule): %llu\n",
            (unsigned long long)cnt(d, QUY_DIFF_SAME_TIER_OTHER_RULE));

    fprintf(f, "\nMức xếp loại cuối cùng (final tiers) — hàng: bộ quy tắc cũ, cột: bộ quy tắc mới; số bản ghi (%% của hàng)\n");
    text_matrix(f, d, 1);
    if (quy_diff_is(d, "eligible_equals_final") == 1) {
        fprintf(f, "\nMức đủ điều kiện (eligible tiers, trước các bước theo lô): giống hệt bảng trên — không bước nào (tỉ lệ, giới hạn) đổi mức của bản ghi nào.\n");
    } else {
        fprintf(f, "\nMức đủ điều kiện (eligible tiers, trước các bước theo lô)\n");
        text_matrix(f, d, 0);
    }

    size_t nc = quy_diff_cause_count(d);
    fprintf(f, "\nNguyên nhân (causes): quy tắc đầu tiên, theo thứ tự xét, cho kết quả khác nhau\n");
    if (!nc) fprintf(f, "  (không bản ghi nào thay đổi)\n");
    for (size_t i = 0; i < nc; i++) {
        const char *label = nz(quy_diff_cause(d, i, "label"));
        fprintf(f, "  %7llu  %s", (unsigned long long)cnum(d, i, "count"), nz(quy_diff_cause(d, i, "cause")));
        if (*label) fprintf(f, " — %s", label);
        fprintf(f, "\n           ");
        text_moves_list(f, d, i);
        fputc('\n', f);
        if (quy_diff_cause(d, i, "cite_old")) fprintf(f, "           cũ: %s\n", quy_diff_cause(d, i, "cite_old"));
        if (quy_diff_cause(d, i, "cite_new")) fprintf(f, "           mới: %s\n", quy_diff_cause(d, i, "cite_new"));
    }
    text_groups(f, d, "kind", "Theo loại đối tượng (by kind)", 1000);
    text_groups(f, d, "peer_group", "Theo nhóm tương đồng (by peer_group)", 20);

    if (refines) {
        fprintf(f, "\n--refines: %llu bản ghi được bộ quy tắc mới xếp CAO HƠN bộ quy tắc cũ (the new ruleset rates higher)\n",
                (unsigned long long)cnt(d, QUY_DIFF_LOOSENED));
        for (size_t i = 0; i < quy_diff_loosened_cause_count(d); i++) {
            uint64_t n = 0;
            quy_diff_loosened_cause_num(d, i, "count", &n);
            const char *label = nz(quy_diff_loosened_cause(d, i, "label"));
            fprintf(f, "  %7llu  %s%s%s\n", (unsigned long long)n, nz(quy_diff_loosened_cause(d, i, "cause")),
                    *label ? " — " : "", label);
        }
    }

    size_t nl = quy_diff_listed_count(d);
    fprintf(f, "\n%s (%llu)\n", refines ? "Bản ghi được xếp cao hơn (loosened records)" : "Bản ghi thay đổi (moved records)",
            (unsigned long long)nl);
    for (size_t i = 0; i < nl; i++) {
        const char *id = quy_diff_listed(d, i, "id"), *pg = quy_diff_listed(d, i, "peer_group");
        fprintf(f, "%s (%s%s%s)  %s → %s  [%s]", id ? id : "(không có id)", nz(quy_diff_listed(d, i, "kind")),
                pg ? ", " : "", nz(pg), nz(quy_diff_listed_side(d, i, 0, "state")),
                nz(quy_diff_listed_side(d, i, 1, "state")), nz(quy_diff_listed(d, i, "cause")));
        fprintf(f, "  %s:%llu\n", nz(quy_diff_listed(d, i, "file")), (unsigned long long)lnum(d, i, "line"));
        dc_detail_text(d, i, f, 4);
    }
    text_expect(f, d, refines);
    return 0;
}

/* =====================================================================
 * JSON
 * ===================================================================== */

static int write_json(quy_diff *d, FILE *f)
{
    const char *s = quy_diff_summary_json(d, 2);
    if (!s) return -1;
    const char *end = strrchr(s, '}');
    if (!end) return -1;
    while (end > s && (end[-1] == '\n' || end[-1] == ' ')) end--;
    fwrite(s, 1, (size_t)(end - s), f);
    fputs(",\n  \"moved_records\": [", f);
    size_t n = quy_diff_listed_count(d);
    for (size_t i = 0; i < n; i++) {
        const char *line = quy_diff_listed_json(d, i);
        if (!line) return -1;
        fprintf(f, "%s\n    %s", i ? "," : "", line);
    }
    fputs(n ? "\n  ]\n}\n" : "]\n}\n", f);
    return 0;
}

/* =====================================================================
 * CSV
 * ===================================================================== */

static void csv_field(FILE *f, const char *s, bool last)
{
    bool quote = strpbrk(s, ",\"\n\r") != NULL;
    if (!quote) {
        fputs(s, f);
    } else {
        fputc('"', f);
        for (; *s; s++) {
            if (*s == '"') fputc('"', f);
            fputc(*s, f);
        }
        fputc('"', f);
    }
    fputc(last ? '\n' : ',', f);
}

static int write_csv(quy_diff *d, FILE *f)
{
    fputs("id,kind,peer_group,file,line,old,new,old_eligible,old_tier,new_eligible,new_tier,direction,cause,cause_label,"
          "old_rule,old_cite,new_rule,new_cite,detail\n",
          f);
    size_t n = quy_diff_listed_count(d);
    for (size_t i = 0; i < n; i++) {
        char line[32];
        snprintf(line, sizeof line, "%llu", (unsigned long long)lnum(d, i, "line"));
        csv_field(f, nz(quy_diff_listed(d, i, "id")), false);
        csv_field(f, nz(quy_diff_listed(d, i, "kind")), false);
        csv_field(f, nz(quy_diff_listed(d, i, "peer_group")), false);
        csv_field(f, nz(quy_diff_listed(d, i, "file")), false);
        csv_field(f, line, false);
        csv_field(f, nz(quy_diff_listed_side(d, i, 0, "state")), false);
        csv_field(f, nz(quy_diff_listed_side(d, i, 1, "state")), false);
        csv_field(f, nz(quy_diff_listed_side(d, i, 0, "eligible")), false);
        csv_field(f, nz(quy_diff_listed_side(d, i, 0, "tier")), false);
        csv_field(f, nz(quy_diff_listed_side(d, i, 1, "eligible")), false);
        csv_field(f, nz(quy_diff_listed_side(d, i, 1, "tier")), false);
        csv_field(f, nz(quy_diff_listed(d, i, "direction")), false);
        csv_field(f, nz(quy_diff_listed(d, i, "cause")), false);
        csv_field(f, nz(quy_diff_listed(d, i, "cause_label")), false);
        csv_field(f, nz(quy_diff_listed_side(d, i, 0, "rule")), false);
        csv_field(f, nz(quy_diff_listed_side(d, i, 0, "cite")), false);
        csv_field(f, nz(quy_diff_listed_side(d, i, 1, "rule")), false);
        csv_field(f, nz(quy_diff_listed_side(d, i, 1, "cite")), false);
        char *text = NULL;
        size_t dl = 0;
        FILE *mf = open_memstream(&text, &dl);
        if (mf) {
            dc_detail_text(d, i, mf, 0);
            fclose(mf);
            while (dl && text[dl - 1] == '\n') text[--dl] = 0;
        }
        csv_field(f, text ? text : "", true);
        free(text);
    }
    return 0;
}

/* =====================================================================
 * HTML
 * ===================================================================== */

static void h(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fputc(*s, f);
        }
    }
}

static const char html_head[] =
    "<!DOCTYPE html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>quy diff</title>\n<style>\n"
    "body{font-family:system-ui,-apple-system,'Segoe UI','Noto Sans',sans-serif;margin:20px 24px;color:#1f2328;background:#fff;font-size:14px}\n"
    "h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:4px}\n"
    ".sub{color:#59636e;margin:2px 0}\n"
    ".cards{display:flex;gap:12px;margin:16px 0;flex-wrap:wrap}\n"
    ".card{border:1px solid #d0d7de;border-radius:8px;padding:8px 14px;min-width:110px}\n"
    ".card b{display:block;font-size:20px}.card span{color:#59636e;font-size:12px}\n"
    ".card.up b{color:#b42318}.card.down b{color:#175cd3}\n"
    ".grid{display:flex;gap:28px;flex-wrap:wrap;align-items:flex-start}\n"
    "table{border-collapse:collapse}th,td{padding:4px 8px;border:1px solid #d0d7de;text-align:right;white-space:nowrap}\n"
    "th{background:#f6f8fa;font-weight:600}td.l,th.l{text-align:left}\n"
    "table.mx td{min-width:50px;height:30px;line-height:1.15;padding:2px 5px}table.mx td small{display:block;font-size:11px;opacity:.85}\n"
    "table.mx th{padding:2px 5px}\n"
    ".scroll{max-height:420px;overflow:auto;border-bottom:1px solid #d0d7de}\n"
    "table.mx th.corner{font-weight:400;font-size:11px;color:#59636e}\n"
    ".legend{font-size:12px;color:#59636e;margin:6px 0}.legend i{display:inline-block;width:14px;height:10px;margin:0 4px 0 10px;border:1px solid #d0d7de}\n"
    "tr.cause{cursor:pointer}tr.cause:hover td{background:#f6f8fa}tr.cause.sel td{background:#fff8c5}\n"
    ".tok{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12.5px}\n"
    ".filters{display:flex;gap:12px;align-items:center;margin:8px 0 10px;flex-wrap:wrap}\n"
    "select,input{font-size:14px;padding:4px 6px;border:1px solid #d0d7de;border-radius:6px}\n"
    "table.moved{width:100%}table.moved td{white-space:normal;text-align:left;vertical-align:top}\n"
    "table.moved td:nth-child(-n+4){white-space:nowrap}\n"
    ".st{font-family:ui-monospace,monospace;padding:1px 6px;border-radius:10px;background:#eef1f4}\n"
    ".d-up .st.n{background:#fde2e1;color:#912018}.d-down .st.n{background:#dbe8fe;color:#1849a9}\n"
    "details summary{cursor:pointer;color:#0969da}\n"
    ".side{margin:4px 0 6px}.side b{font-weight:600}.cl{margin:2px 0 2px 16px}.rd{margin-left:32px;color:#59636e;font-size:12.5px}\n"
    ".ok{color:#1a7f37}.ko{color:#cf222e}.sk{color:#9a6700}\n"
    ".note{color:#59636e;font-size:12.5px}\n"
    ".bad{color:#cf222e;font-weight:600}.good{color:#1a7f37;font-weight:600}\n"
    "</style>\n</head>\n<body>\n";

/* Background of a matrix cell: diagonal green, up (new higher) red, down
 * blue, anything involving not_rated / deferred / rejected purple; the
 * intensity is the cell's share of its row, in tenths of a percent. */
static void cell_style(FILE *f, int i, int j, uint64_t n, uint64_t rowtot, quy_diff *d)
{
    if (!n || !rowtot) {
        fputs(" style=\"color:#8c959f\"", f);
        return;
    }
    int so = quy_tier_rank(quy_diff_state(d, (size_t)i)), sn = quy_tier_rank(quy_diff_state(d, (size_t)j));
    unsigned r, g, b;
    if (i == j) r = 26, g = 127, b = 55;
    else if (so >= 0 && sn >= 0 && sn > so) r = 207, g = 34, b = 46;
    else if (so >= 0 && sn >= 0) r = 9, g = 105, b = 218;
    else r = 130, g = 80, b = 223;
    uint64_t permille = (n * 1000 + rowtot / 2) / rowtot;
    unsigned a = (unsigned)(80 + permille * 820 / 1000); /* alpha in thousandths: 0.08 .. 0.90 */
    fprintf(f, " style=\"background:rgba(%u,%u,%u,0.%03u)%s\"", r, g, b, a > 999 ? 999 : a,
            permille > 550 ? ";color:#fff" : "");
}

static void html_matrix(FILE *f, quy_diff *d, int final, const char *title)
{
    size_t ns = quy_diff_state_count(d);
    fprintf(f, "<div><h3 style=\"font-size:14px;margin:6px 0\">");
    h(f, title);
    fprintf(f, "</h3>\n<table class=\"mx\"><tr><th class=\"corner l\">cũ ↓ &nbsp; mới →</th>");
    for (size_t j = 0; j < ns; j++) {
        fputs("<th>", f);
        h(f, nz(quy_diff_state(d, j)));
        fputs("</th>", f);
    }
    fputs("<th>tổng</th></tr>\n", f);
    uint64_t *coltot = col_totals(ns), all = 0;
    for (size_t i = 0; i < ns; i++) {
        const char *from = nz(quy_diff_state(d, i));
        uint64_t rowtot = 0;
        for (size_t j = 0; j < ns; j++) rowtot += matrix_cell(d, final, from, quy_diff_state(d, j));
        fputs("<tr><th class=\"l\">", f);
        h(f, from);
        fputs("</th>", f);
        for (size_t j = 0; j < ns; j++) {
            uint64_t n = matrix_cell(d, final, from, quy_diff_state(d, j));
            coltot[j] += n;
            fputs("<td", f);
            cell_style(f, (int)i, (int)j, n, rowtot, d);
            if (!n) {
                fputs(">·</td>", f);
                continue;
            }
            char p[16];
            pct(n, rowtot, p, sizeof p);
            fprintf(f, " title=\"%s → %s: %llu (%s of the row)\">%llu<small>%s</small></td>", from,
                    nz(quy_diff_state(d, j)), (unsigned long long)n, p, (unsigned long long)n, p);
        }
        fprintf(f, "<th>%llu</th></tr>\n", (unsigned long long)rowtot);
        all += rowtot;
    }
    fputs("<tr><th class=\"l\">tổng</th>", f);
    for (size_t j = 0; j < ns; j++) fprintf(f, "<th>%llu</th>", (unsigned long long)coltot[j]);
    fprintf(f, "<th>%llu</th></tr>\n</table></div>\n", (unsigned long long)all);
    free(coltot);
}

static void html_groups(FILE *f, quy_diff *d, const char *by, const char *title, size_t max)
{
    size_t n = quy_diff_group_count(d, by);
    fprintf(f, "<div><h3 style=\"font-size:14px;margin:6px 0\">");
    h(f, title);
    if (n > max) fprintf(f, " <span class=\"note\">(%zu nhóm nhiều thay đổi nhất trong %zu)</span>", max, n);
    fprintf(f, "</h3>\n<div class=\"scroll\"><table><tr><th class=\"l\">%s</th><th>records</th><th>moved</th><th>%%</th><th>up</th><th>down</th><th>other</th></tr>\n",
            by);
    for (size_t i = 0; i < n && i < max; i++) {
        char p[16];
        pct(gnum(d, by, i, "moved"), gnum(d, by, i, "records"), p, sizeof p);
        fputs("<tr><td class=\"l\">", f);
        h(f, nz(quy_diff_group(d, by, i, "name")));
        fprintf(f, "</td><td>%llu</td><td>%llu</td><td>%s</td><td>%llu</td><td>%llu</td><td>%llu</td></tr>\n",
                (unsigned long long)gnum(d, by, i, "records"), (unsigned long long)gnum(d, by, i, "moved"), p,
                (unsigned long long)gnum(d, by, i, "up"), (unsigned long long)gnum(d, by, i, "down"),
                (unsigned long long)gnum(d, by, i, "other"));
    }
    fputs("</table></div></div>\n", f);
}

static bool is(const char *a, const char *b) { return a && !strcmp(a, b); }

static void html_clause(FILE *f, quy_diff *d, size_t r, int side, size_t c)
{
    const char *res = quy_diff_detail_clause(d, r, side, c, "result");
    const char *label = quy_diff_detail_clause(d, r, side, c, "label");
    fprintf(f, "<div class=\"cl\"><span class=\"%s\">%s</span> ", is(res, "true") ? "ok" : is(res, "false") ? "ko" : "sk",
            is(res, "true") ? "✓" : is(res, "false") ? "✗" : "–");
    if (label) {
        h(f, label);
        fputs(" <span class=\"tok\">[", f);
        h(f, nz(quy_diff_detail_clause(d, r, side, c, "condition")));
        fputs("]</span>", f);
    } else {
        fputs("<span class=\"tok\">", f);
        h(f, nz(quy_diff_detail_clause(d, r, side, c, "condition")));
        fputs("</span>", f);
    }
    if (is(res, "skipped")) {
        fputs(" — bỏ qua: không có dữ liệu «", f);
        h(f, nz(quy_diff_detail_clause(d, r, side, c, "absent")));
        fputs("»", f);
    }
    const char *held = quy_diff_detail_clause(d, r, side, c, "unless_held");
    if (held) {
        fputs(" — ngoại lệ «", f);
        h(f, nz(quy_diff_detail_clause(d, r, side, c, "unless")));
        fputs(is(held, "true") ? "»: có" : "»: không", f);
    }
    fputs(" <span class=\"note\">(", f);
    h(f, nz(quy_diff_detail_clause(d, r, side, c, "cite")));
    fputs(" [", f);
    h(f, nz(quy_diff_detail_clause(d, r, side, c, "layer")));
    fputs("])</span>", f);
    size_t nr = quy_diff_detail_read_count(d, r, side, c);
    if (nr) {
        fputs("<div class=\"rd\">giá trị: ", f);
        for (size_t i = 0; i < nr; i++) {
            const char *field = nz(quy_diff_detail_read(d, r, side, c, i, "field"));
            if (i) fputs("; ", f);
            if (!strcmp(field, "share()")) fputs("tỉ lệ ", f);
            else {
                h(f, field);
                fputs(" = ", f);
            }
            h(f, nz(quy_diff_detail_read(d, r, side, c, i, "value")));
        }
        fputs("</div>", f);
    }
    fputs("</div>\n", f);
}

static void html_adjust(FILE *f, quy_diff *d, size_t r, int side, const char *who)
{
    for (size_t i = 0; i < quy_diff_detail_adjust_count(d, r, side); i++) {
        fprintf(f, "<div class=\"side\"><b>%s:</b> ↺ <span class=\"tok\">", who);
        h(f, nz(quy_diff_detail_adjust(d, r, side, i, "step")));
        fputs("</span>", f);
        if (quy_diff_detail_adjust(d, r, side, i, "from")) {
            fputc(' ', f);
            h(f, quy_diff_detail_adjust(d, r, side, i, "from"));
            fputs(" → ", f);
            h(f, nz(quy_diff_detail_adjust(d, r, side, i, "to")));
        } else {
            fputs(" (hồ sơ điều chỉnh trước khi xếp loại)", f);
        }
        const char *reason = nz(quy_diff_detail_adjust(d, r, side, i, "reason"));
        if (*reason) {
            fputs(": ", f);
            h(f, reason);
        }
        fputs(" <span class=\"note\">— ", f);
        h(f, nz(quy_diff_detail_adjust(d, r, side, i, "cite")));
        fputs(" [", f);
        h(f, nz(quy_diff_detail_adjust(d, r, side, i, "layer")));
        fputs("]</span></div>\n", f);
    }
}

static void html_detail(FILE *f, quy_diff *d, size_t r)
{
    const char *type = nz(quy_diff_detail(d, r, "type"));
    html_adjust(f, d, r, 0, "cũ");
    html_adjust(f, d, r, 1, "mới");
    if (!strcmp(type, "adjust")) {
        fputs("<div class=\"side\">các quy tắc như nhau; bước điều chỉnh <span class=\"tok\">", f);
        h(f, nz(quy_diff_detail(d, r, "step")));
        fputs("</span> sau khi xếp loại khác nhau</div>\n", f);
        return;
    }
    if (!strcmp(type, "rule")) {
        static const char *const vi[2] = {"cũ", "mới"};
        for (int s = 0; s < 2; s++) {
            const char *st = nz(quy_diff_detail_side(d, r, s, "state"));
            fprintf(f, "<div class=\"side\"><b>%s:</b> ", vi[s]);
            if (!strcmp(st, "absent")) {
                fputs("không có quy tắc này</div>\n", f);
                continue;
            }
            if (!strcmp(st, "held")) {
                fputs("áp dụng → ", f);
                h(f, nz(quy_diff_detail_side(d, r, s, "outcome")));
            } else {
                fputs(!strcmp(st, "failed") ? "không đạt (" : "không xét tới (", f);
                h(f, nz(quy_diff_detail_side(d, r, s, "outcome")));
                fputs(")", f);
            }
            fputs(" <span class=\"note\">— ", f);
            h(f, nz(quy_diff_detail_side(d, r, s, "cite")));
            fputs(" [", f);
            h(f, nz(quy_diff_detail_side(d, r, s, "layer")));
            fputs("]</span>\n", f);
            for (size_t i = 0; i < quy_diff_detail_clause_count(d, r, s); i++) html_clause(f, d, r, s, i);
            fputs("</div>\n", f);
        }
    } else if (!strcmp(type, "rejected")) {
        fprintf(f, "<div class=\"side\">bộ quy tắc %s từ chối bản ghi <span class=\"tok\">[",
                is(quy_diff_detail(d, r, "side"), "old") ? "cũ" : "mới");
        h(f, nz(quy_diff_detail(d, r, "code")));
        if (quy_diff_detail(d, r, "field")) {
            fputc(' ', f);
            h(f, quy_diff_detail(d, r, "field"));
        }
        fputs("]</span>: ", f);
        h(f, nz(quy_diff_detail(d, r, "message")));
        fputs("</div>\n", f);
    } else if (!strcmp(type, "batch")) {
        if (quy_diff_detail(d, r, "steps_old")) {
            fputs("<div class=\"side\"><b>cũ:</b> ", f);
            h(f, quy_diff_detail(d, r, "steps_old"));
            fputs("</div>", f);
        }
        if (quy_diff_detail(d, r, "steps_new")) {
            fputs("<div class=\"side\"><b>mới:</b> ", f);
            h(f, quy_diff_detail(d, r, "steps_new"));
            fputs("</div>", f);
        }
    } else {
        fputs("<div class=\"side\">(không xác định được nguyên nhân)</div>", f);
    }
}

static const char html_script[] =
    "<script>\n"
    "(function(){\n"
    "  var sel=document.getElementById('cause'), q=document.getElementById('q'), dir=document.getElementById('dir');\n"
    "  var rows=[].slice.call(document.querySelectorAll('table.moved tbody tr'));\n"
    "  var shown=document.getElementById('shown');\n"
    "  function apply(){\n"
    "    var c=sel.value, t=q.value.toLowerCase(), d=dir.value, n=0;\n"
    "    rows.forEach(function(r){\n"
    "      var ok=(!c||r.getAttribute('data-cause')===c)&&(!d||r.getAttribute('data-dir')===d)&&(!t||r.textContent.toLowerCase().indexOf(t)>=0);\n"
    "      r.style.display=ok?'':'none'; if(ok)n++;\n"
    "    });\n"
    "    shown.textContent=n;\n"
    "    [].forEach.call(document.querySelectorAll('tr.cause'),function(r){r.classList.toggle('sel',r.getAttribute('data-cause')===c&&c!=='');});\n"
    "  }\n"
    "  sel.addEventListener('change',apply); q.addEventListener('input',apply); dir.addEventListener('change',apply);\n"
    "  [].forEach.call(document.querySelectorAll('tr.cause'),function(r){r.addEventListener('click',function(){\n"
    "    var c=r.getAttribute('data-cause'); sel.value=(sel.value===c?'':c); apply();\n"
    "    document.getElementById('moved').scrollIntoView({behavior:'smooth'});});});\n"
    "  apply();\n"
    "})();\n"
    "</script>\n";

/* Title, the two sides, the inputs, the cards of totals. */
static void html_top(quy_diff *d, FILE *f, bool refines)
{
    fputs(html_head, f);
    fputs("<h1>quy diff: ", f);
    h(f, nz(quy_diff_side(d, 0, "name")));
    fputc(' ', f);
    h(f, nz(quy_diff_side(d, 0, "version")));
    fputs(" → ", f);
    h(f, nz(quy_diff_side(d, 1, "name")));
    fputc(' ', f);
    h(f, nz(quy_diff_side(d, 1, "version")));
    fputs("</h1>\n", f);
    for (int side = 0; side < 2; side++) {
        fprintf(f, "<p class=\"sub\">%s: <span class=\"tok\">", side ? "mới (new)" : "cũ (old)");
        h(f, nz(quy_diff_side(d, side, "spec")));
        fputs("</span> — lớp (layers): ", f);
        for (size_t i = 0; i < quy_diff_layer_count(d, side); i++) {
            if (i) fputs(" › ", f);
            h(f, nz(quy_diff_layer(d, side, i)));
        }
        fputs("</p>\n", f);
    }
    fputs("<p class=\"sub\">dữ liệu (records): ", f);
    for (size_t i = 0; i < quy_diff_input_count(d); i++) {
        if (i) fputs(", ", f);
        fputs("<span class=\"tok\">", f);
        h(f, nz(quy_diff_input(d, i)));
        fputs("</span>", f);
    }
    fputs("</p>\n", f);
    uint64_t total = cnt(d, QUY_DIFF_RECORDS), moved = cnt(d, QUY_DIFF_MOVED);
    char p[16];
    pct(moved, total, p, sizeof p);
    fprintf(f,
            "<div class=\"cards\"><div class=\"card\"><b>%llu</b><span>bản ghi (records)</span></div>"
            "<div class=\"card\"><b>%llu</b><span>thay đổi (moved), %s</span></div>"
            "<div class=\"card up\"><b>%llu</b><span>lên (up)</span></div>"
            "<div class=\"card down\"><b>%llu</b><span>xuống (down)</span></div>"
            "<div class=\"card\"><b>%llu</b><span>khác (other)</span></div>"
            "<div class=\"card\"><b>%llu</b><span>cùng mức, khác quy tắc</span></div>",
            (unsigned long long)total, (unsigned long long)moved, p, (unsigned long long)cnt(d, QUY_DIFF_UP),
            (unsigned long long)cnt(d, QUY_DIFF_DOWN), (unsigned long long)cnt(d, QUY_DIFF_OTHER),
            (unsigned long long)cnt(d, QUY_DIFF_SAME_TIER_OTHER_RULE));
    bool checked = quy_diff_is(d, "checked") == 1;
    if (checked) {
        uint64_t un = cnt(d, QUY_DIFF_UNAPPROVED);
        fprintf(f, "<div class=\"card\"><b class=\"%s\">%llu</b><span>%s: chưa được chấp thuận</span></div>",
                un ? "bad" : "good", (unsigned long long)un, refines ? "--refines" : "--expect");
    }
    fputs("</div>\n", f);

}

/* The matrices, the causes, the breakdowns. */
static void html_causes(quy_diff *d, FILE *f)
{
    fputs("<h2>Ma trận chuyển mức (transition matrix)</h2>\n"
          "<p class=\"legend\">Hàng: bộ quy tắc cũ; cột: bộ quy tắc mới; số bản ghi và % của hàng. Màu:"
          "<i style=\"background:rgba(26,127,55,.6)\"></i>giữ nguyên"
          "<i style=\"background:rgba(207,34,46,.6)\"></i>lên mức (mới cao hơn)"
          "<i style=\"background:rgba(9,105,218,.6)\"></i>xuống mức"
          "<i style=\"background:rgba(130,80,223,.6)\"></i>không xếp loại / hoãn / bị từ chối"
          " — càng đậm, tỉ lệ trong hàng càng cao.</p>\n<div class=\"grid\">\n",
          f);
    html_matrix(f, d, 1, "Mức cuối cùng (final tiers)");
    html_matrix(f, d, 0, "Mức đủ điều kiện (eligible tiers, trước các bước theo lô)");
    fputs("</div>\n", f);
    if (quy_diff_is(d, "eligible_equals_final") == 1)
        fputs("<p class=\"note\">Hai bảng giống nhau: không bước theo lô nào (tỉ lệ, giới hạn) đổi mức của bản ghi nào.</p>\n", f);

    size_t nc = quy_diff_cause_count(d);
    fputs("<h2>Nguyên nhân (causes)</h2>\n<p class=\"note\">Quy tắc đầu tiên, theo thứ tự xét, cho kết quả khác nhau "
          "giữa hai bộ quy tắc. Bấm vào một dòng để lọc danh sách bên dưới.</p>\n"
          "<table><tr><th>moved</th><th class=\"l\">cause</th><th class=\"l\">nhãn</th><th class=\"l\">chuyển mức</th>"
          "<th class=\"l\">căn cứ cũ</th><th class=\"l\">căn cứ mới</th></tr>\n",
          f);
    if (!nc) fputs("<tr><td colspan=\"6\" class=\"l note\">không bản ghi nào thay đổi</td></tr>\n", f);
    for (size_t i = 0; i < nc; i++) {
        fputs("<tr class=\"cause\" data-cause=\"", f);
        h(f, nz(quy_diff_cause(d, i, "cause")));
        fprintf(f, "\"><td>%llu</td><td class=\"l tok\">", (unsigned long long)cnum(d, i, "count"));
        h(f, nz(quy_diff_cause(d, i, "cause")));
        fputs("</td><td class=\"l\" style=\"white-space:normal;max-width:320px\">", f);
        h(f, nz(quy_diff_cause(d, i, "label")));
        fputs("</td><td class=\"l tok\" style=\"white-space:normal;max-width:260px\">", f);
        for (size_t j = 0; j < quy_diff_cause_move_count(d, i); j++) {
            fprintf(f, "%s", j ? ", " : "");
            h(f, nz(quy_diff_cause_move(d, i, j, "old")));
            fputs("→", f);
            h(f, nz(quy_diff_cause_move(d, i, j, "new")));
            fprintf(f, " %llu", (unsigned long long)mnum(d, i, j));
        }
        fputs("</td><td class=\"l\" style=\"white-space:normal;max-width:260px\">", f);
        h(f, nz(quy_diff_cause(d, i, "cite_old")));
        fputs("</td><td class=\"l\" style=\"white-space:normal;max-width:260px\">", f);
        h(f, nz(quy_diff_cause(d, i, "cite_new")));
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n", f);

    fputs("<h2>Theo loại đối tượng và nhóm tương đồng (breakdowns)</h2>\n<div class=\"grid\">\n", f);
    html_groups(f, d, "kind", "Theo loại đối tượng (kind)", 1000);
    html_groups(f, d, "peer_group", "Theo nhóm tương đồng (peer_group)", 200);
    fputs("</div>\n", f);

}

/* When checked: the moves not approved. */
static void html_unapproved(quy_diff *d, FILE *f, bool refines)
{
    bool checked = quy_diff_is(d, "checked") == 1;
    size_t nu = checked ? quy_diff_approval_count(d, "unapproved") : 0;
    if (nu) {
        fprintf(f, "<h2>%s: chưa được chấp thuận (not approved)</h2>\n<table><tr><th class=\"l\">cũ</th><th class=\"l\">mới</th><th class=\"l\">cause</th><th>số</th><th>chấp thuận</th></tr>\n",
                refines ? "--refines" : "--expect");
        for (size_t i = 0; i < nu; i++) {
            fputs("<tr><td class=\"l tok\">", f);
            h(f, nz(quy_diff_approval(d, "unapproved", i, "old")));
            fputs("</td><td class=\"l tok\">", f);
            h(f, nz(quy_diff_approval(d, "unapproved", i, "new")));
            fputs("</td><td class=\"l tok\">", f);
            h(f, nz(quy_diff_approval(d, "unapproved", i, "cause")));
            fprintf(f, "</td><td>%llu</td><td>%llu</td></tr>\n", (unsigned long long)anum(d, "unapproved", i, "count"),
                    (unsigned long long)anum(d, "unapproved", i, "approved"));
        }
        fputs("</table>\n", f);
    }
}

/* The listed records' heading and filters; how many are listed. */
static uint64_t html_filters(quy_diff *d, FILE *f, bool refines)
{
    uint64_t nl = quy_diff_listed_count(d);
    size_t nc = quy_diff_cause_count(d);
    fprintf(f, "<h2 id=\"moved\">%s (%llu)</h2>\n",
            refines ? "Bản ghi được xếp cao hơn (loosened records)" : "Bản ghi thay đổi (moved records)",
            (unsigned long long)nl);
    fputs("<div class=\"filters\"><label>Nguyên nhân: <select id=\"cause\"><option value=\"\">(tất cả)</option>", f);
    for (size_t i = 0; i < nc; i++) {
        fputs("<option value=\"", f);
        h(f, nz(quy_diff_cause(d, i, "cause")));
        fputs("\">", f);
        h(f, nz(quy_diff_cause(d, i, "cause")));
        fprintf(f, " (%llu)</option>", (unsigned long long)cnum(d, i, "count"));
    }
    fputs("</select></label><label>Hướng: <select id=\"dir\"><option value=\"\">(tất cả)</option><option value=\"up\">lên</option>"
          "<option value=\"down\">xuống</option><option value=\"other\">khác</option></select></label>"
          "<label>Tìm: <input id=\"q\" type=\"search\" placeholder=\"id, nhóm, quy tắc…\"></label>"
          "<span class=\"note\">hiển thị <b id=\"shown\"></b>",
          f);
    if (nl > HTML_MAX_ROWS)
        fprintf(f, " — trang này chỉ liệt kê %d bản ghi đầu; đủ %llu bản ghi trong báo cáo JSON / CSV", HTML_MAX_ROWS,
                (unsigned long long)nl);
    fputs("</span></div>\n<table class=\"moved\"><thead><tr><th class=\"l\">id</th><th class=\"l\">kind</th>"
          "<th class=\"l\">peer_group</th><th class=\"l\">cũ → mới</th><th class=\"l\">nguyên nhân và giá trị</th></tr></thead><tbody>\n",
          f);
    return nl;
}

/* The listed records, each with its cause (the first few open). */
static void html_rows(quy_diff *d, FILE *f, uint64_t nl)
{
    /* the first record of each of the first 3 causes is shown open */
    char *opened[3] = {NULL, NULL, NULL}; /* copies: a listed record's strings last until the next is read */
    int nopened = 0;
    for (size_t row = 0; row < nl && row < HTML_MAX_ROWS; row++) {
        const char *cause = nz(quy_diff_listed(d, row, "cause")), *dir = nz(quy_diff_listed(d, row, "direction"));
        bool open = false;
        if (nopened < 3) {
            open = true;
            for (int k = 0; k < nopened && open; k++) open = strcmp(opened[k], cause) != 0;
            if (open && !(opened[nopened++] = strdup(cause))) {
                fprintf(stderr, "quy diff: out of memory\n");
                exit(EXIT_IO);
            }
        }
        fprintf(f, "<tr class=\"d-%s\" data-dir=\"%s\" data-cause=\"", dir, dir);
        h(f, cause);
        fputs("\"><td class=\"tok\">", f);
        h(f, nz(quy_diff_listed(d, row, "id")));
        fputs("</td><td>", f);
        h(f, nz(quy_diff_listed(d, row, "kind")));
        fputs("</td><td>", f);
        h(f, nz(quy_diff_listed(d, row, "peer_group")));
        fputs("</td><td style=\"white-space:nowrap\"><span class=\"st\">", f);
        h(f, nz(quy_diff_listed_side(d, row, 0, "state")));
        fputs("</span> → <span class=\"st n\">", f);
        h(f, nz(quy_diff_listed_side(d, row, 1, "state")));
        fprintf(f, "</span></td><td><details%s><summary><span class=\"tok\">", open ? " open" : "");
        h(f, cause);
        fputs("</span>", f);
        const char *cl = nz(quy_diff_listed(d, row, "cause_label"));
        if (*cl) {
            fputs(" — ", f);
            h(f, cl);
        }
        fputs("</summary>\n", f);
        html_detail(f, d, row);
        fprintf(f, "<div class=\"note\">");
        h(f, nz(quy_diff_listed(d, row, "file")));
        fprintf(f, ":%llu</div></details></td></tr>\n", (unsigned long long)lnum(d, row, "line"));
    }
    for (int k = 0; k < nopened; k++) free(opened[k]);
    fputs("</tbody></table>\n", f);
}

static int write_html(quy_diff *d, FILE *f)
{
    bool refines = quy_diff_is(d, "refines") == 1;
    html_top(d, f, refines);
    html_causes(d, f);
    html_unapproved(d, f, refines);
    html_rows(d, f, html_filters(d, f, refines));
    fputs(html_script, f);
    fputs("</body>\n</html>\n", f);
    return 0;
}

int rp_write(rp_format fmt, quy_diff *d, FILE *out)
{
    switch (fmt) {
    case RP_JSON: return write_json(d, out);
    case RP_CSV: return write_csv(d, out);
    case RP_HTML: return write_html(d, out);
    default: return write_text(d, out);
    }
}
