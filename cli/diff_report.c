/*
 * diff_report.c — the reports of `quy diff` (see diff.h): readable text,
 * JSON, CSV of the moved records, and a self-contained HTML page (inline
 * CSS and JavaScript, no network) with colour-scaled transition matrices
 * and the moved records filterable by cause.
 *
 * Input: the summary (a JSON object built by cmd_diff.c) and the moved
 * records, one JSON object per line in a temporary file, read back once.
 * Percentages are computed in integers (tenths of a percent, rounded half
 * up): no floating point anywhere in the tool's arithmetic.
 */
#include <stdlib.h>
#include <string.h>

#include "../runtime/output.h"
#include "diff.h"

/* The HTML page lists at most this many moved records (the JSON and CSV
 * reports list them all). */
#define HTML_MAX_ROWS 10000

static const char *js(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static uint64_t ji(const json_t *o, const char *k) { return (uint64_t)json_integer_value(json_object_get(o, k)); }

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
    size_t w = out_display_width(s);
    if (right)
        for (size_t i = w; i < width; i++) fputc(' ', f);
    fputs(s, f);
    if (!right)
        for (size_t i = w; i < width; i++) fputc(' ', f);
}

/* Read the next moved record from the spool; NULL at the end. */
static json_t *next_moved(FILE *f, char **buf, size_t *cap)
{
    ssize_t n = getline(buf, cap, f);
    if (n <= 0) return NULL;
    json_error_t je;
    return json_loadb(*buf, (size_t)n, 0, &je);
}

static uint64_t matrix_cell(const json_t *m, size_t i, size_t j)
{
    return (uint64_t)json_integer_value(json_array_get(json_array_get(m, i), j));
}

/* =====================================================================
 * Text
 * ===================================================================== */

static void text_matrix(FILE *f, const json_t *states, const json_t *m)
{
    size_t ns = json_array_size(states);
    char cell[64];
    const size_t w0 = 10, w = 16;
    padded(f, "cũ \\ mới", w0, false);
    for (size_t j = 0; j < ns; j++) padded(f, json_string_value(json_array_get(states, j)), w, true);
    padded(f, "tổng", 9, true);
    fputc('\n', f);
    uint64_t coltot[16] = {0}, all = 0;
    for (size_t i = 0; i < ns; i++) {
        uint64_t rowtot = 0;
        for (size_t j = 0; j < ns; j++) rowtot += matrix_cell(m, i, j);
        padded(f, json_string_value(json_array_get(states, i)), w0, false);
        for (size_t j = 0; j < ns; j++) {
            uint64_t n = matrix_cell(m, i, j);
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
}

static void text_groups(FILE *f, const json_t *a, const char *key, const char *title, size_t max)
{
    size_t n = json_array_size(a);
    fprintf(f, "\n%s", title);
    if (n > max) fprintf(f, " — %zu nhóm nhiều thay đổi nhất trong %zu", max, n);
    fputc('\n', f);
    size_t w = 12;
    for (size_t i = 0; i < n && i < max; i++) {
        size_t l = out_display_width(js(json_array_get(a, i), key));
        if (l > w) w = l;
    }
    fputs("  ", f);
    padded(f, key, w, false);
    fprintf(f, " %9s %8s %8s %8s %8s %8s\n", "records", "moved", "%", "up", "down", "other");
    for (size_t i = 0; i < n && i < max; i++) {
        json_t *g = json_array_get(a, i);
        char p[16];
        pct(ji(g, "moved"), ji(g, "records"), p, sizeof p);
        fputs("  ", f);
        padded(f, js(g, key), w, false);
        fprintf(f, " %9llu %8llu %8s %8llu %8llu %8llu\n", (unsigned long long)ji(g, "records"),
                (unsigned long long)ji(g, "moved"), p, (unsigned long long)ji(g, "up"), (unsigned long long)ji(g, "down"),
                (unsigned long long)ji(g, "other"));
    }
}

static void text_moves_list(FILE *f, const json_t *moves)
{
    for (size_t i = 0; i < json_array_size(moves); i++) {
        json_t *m = json_array_get(moves, i);
        fprintf(f, "%s%s→%s %llu", i ? ", " : "", js(m, "old"), js(m, "new"), (unsigned long long)ji(m, "count"));
    }
}

static void text_expect(FILE *f, const json_t *e, bool refines)
{
    if (!e) return;
    const char *file = js(e, "file");
    fprintf(f, "\n%s%s%s: %llu được chấp thuận (approved), %llu KHÔNG được chấp thuận (not approved)\n",
            refines ? "Kiểm tra --refines" : "Kiểm tra --expect", *file ? " " : "", file,
            (unsigned long long)ji(e, "approved"), (unsigned long long)ji(e, "unapproved"));
    json_t *u = json_object_get(e, "unapproved_moves");
    for (size_t i = 0; i < json_array_size(u); i++) {
        json_t *x = json_array_get(u, i);
        fprintf(f, "  ✗ %s → %s  %s: %llu (chấp thuận %llu)\n", js(x, "old"), js(x, "new"), js(x, "cause"),
                (unsigned long long)ji(x, "count"), (unsigned long long)ji(x, "approved"));
    }
    json_t *un = json_object_get(e, "unused_approvals");
    for (size_t i = 0; i < json_array_size(un); i++) {
        json_t *x = json_array_get(un, i);
        json_t *ap = json_object_get(x, "approved");
        char a[32];
        if (json_is_string(ap)) snprintf(a, sizeof a, "*");
        else snprintf(a, sizeof a, "%lld", (long long)json_integer_value(ap));
        fprintf(f, "  · chấp thuận nhưng không thấy đủ: %s → %s  %s: thấy %llu, chấp thuận %s\n", js(x, "old"),
                js(x, "new"), js(x, "cause"), (unsigned long long)ji(x, "count"), a);
    }
}

static int write_text(const rp_input *in, FILE *f)
{
    const json_t *s = in->summary;
    const json_t *o = json_object_get(s, "old"), *n = json_object_get(s, "new");
    bool refines = json_object_get(s, "refines") != NULL;
    fprintf(f, "quy diff: %s %s → %s %s\n", js(o, "name"), js(o, "version"), js(n, "name"), js(n, "version"));
    fprintf(f, "  cũ  (old): %s", js(o, "spec"));
    json_t *l = json_object_get(o, "layers");
    for (size_t i = 0; i < json_array_size(l); i++) fprintf(f, "%s%s", i ? " > " : "  [", json_string_value(json_array_get(l, i)));
    fprintf(f, "%s\n", json_array_size(l) ? "]" : "");
    fprintf(f, "  mới (new): %s", js(n, "spec"));
    l = json_object_get(n, "layers");
    for (size_t i = 0; i < json_array_size(l); i++) fprintf(f, "%s%s", i ? " > " : "  [", json_string_value(json_array_get(l, i)));
    fprintf(f, "%s\n", json_array_size(l) ? "]" : "");
    uint64_t total = ji(s, "records"), moved = ji(s, "moved");
    char p[16];
    pct(moved, total, p, sizeof p);
    fprintf(f, "  bản ghi (records): %llu; thay đổi (moved): %llu (%s) — lên (up) %llu, xuống (down) %llu, khác (other) %llu\n",
            (unsigned long long)total, (unsigned long long)moved, p, (unsigned long long)ji(s, "up"),
            (unsigned long long)ji(s, "down"), (unsigned long long)ji(s, "other"));
    fprintf(f, "  cùng mức nhưng khác quy tắc quyết định (same tier, another deciding rule): %llu\n",
            (unsigned long long)ji(s, "same_tier_other_rule"));

    const json_t *states = json_object_get(s, "states"), *mx = json_object_get(s, "matrix");
    fprintf(f, "\nMức xếp loại cuối cùng (final tiers) — hàng: bộ quy tắc cũ, cột: bộ quy tắc mới; số bản ghi (%% của hàng)\n");
    text_matrix(f, states, json_object_get(mx, "final"));
    if (json_is_true(json_object_get(s, "eligible_equals_final"))) {
        fprintf(f, "\nMức đủ điều kiện (eligible tiers, trước các bước theo lô): giống hệt bảng trên — không bước nào (tỉ lệ, giới hạn) đổi mức của bản ghi nào.\n");
    } else {
        fprintf(f, "\nMức đủ điều kiện (eligible tiers, trước các bước theo lô)\n");
        text_matrix(f, states, json_object_get(mx, "eligible"));
    }

    const json_t *causes = json_object_get(s, "causes");
    fprintf(f, "\nNguyên nhân (causes): quy tắc đầu tiên, theo thứ tự xét, cho kết quả khác nhau\n");
    if (!json_array_size(causes)) fprintf(f, "  (không bản ghi nào thay đổi)\n");
    for (size_t i = 0; i < json_array_size(causes); i++) {
        json_t *c = json_array_get(causes, i);
        fprintf(f, "  %7llu  %s", (unsigned long long)ji(c, "count"), js(c, "cause"));
        if (*js(c, "label")) fprintf(f, " — %s", js(c, "label"));
        fprintf(f, "\n           ");
        text_moves_list(f, json_object_get(c, "moves"));
        fputc('\n', f);
        if (json_object_get(c, "cite_old")) fprintf(f, "           cũ: %s\n", js(c, "cite_old"));
        if (json_object_get(c, "cite_new")) fprintf(f, "           mới: %s\n", js(c, "cite_new"));
    }
    text_groups(f, json_object_get(s, "by_kind"), "kind", "Theo loại đối tượng (by kind)", 1000);
    text_groups(f, json_object_get(s, "by_peer_group"), "peer_group", "Theo nhóm tương đồng (by peer_group)", 20);

    if (refines) {
        const json_t *r = json_object_get(s, "refines");
        fprintf(f, "\n--refines: %llu bản ghi được bộ quy tắc mới xếp CAO HƠN bộ quy tắc cũ (the new ruleset rates higher)\n",
                (unsigned long long)ji(r, "loosened"));
        json_t *rc = json_object_get(r, "causes");
        for (size_t i = 0; i < json_array_size(rc); i++) {
            json_t *c = json_array_get(rc, i);
            fprintf(f, "  %7llu  %s%s%s\n", (unsigned long long)ji(c, "count"), js(c, "cause"), *js(c, "label") ? " — " : "",
                    js(c, "label"));
        }
    }

    fprintf(f, "\n%s (%llu)\n", refines ? "Bản ghi được xếp cao hơn (loosened records)" : "Bản ghi thay đổi (moved records)",
            (unsigned long long)in->nmoved);
    rewind(in->moved);
    char *buf = NULL;
    size_t cap = 0;
    json_t *m;
    while ((m = next_moved(in->moved, &buf, &cap))) {
        json_t *mo = json_object_get(m, "old"), *mn = json_object_get(m, "new");
        fprintf(f, "%s (%s%s%s)  %s → %s  [%s]", json_is_string(json_object_get(m, "id")) ? js(m, "id") : "(không có id)",
                js(m, "kind"), json_is_string(json_object_get(m, "peer_group")) ? ", " : "", js(m, "peer_group"),
                js(mo, "state"), js(mn, "state"), js(m, "cause"));
        fprintf(f, "  %s:%llu\n", js(m, "file"), (unsigned long long)ji(m, "line"));
        dc_detail_text(json_object_get(m, "detail"), f, 4);
        json_decref(m);
    }
    free(buf);
    text_expect(f, json_object_get(s, "expect"), refines);
    return 0;
}

/* =====================================================================
 * JSON
 * ===================================================================== */

static int write_json(const rp_input *in, FILE *f)
{
    char *s = json_dumps(in->summary, JSON_INDENT(2));
    if (!s) return -1;
    char *end = strrchr(s, '}');
    if (!end) {
        free(s);
        return -1;
    }
    while (end > s && (end[-1] == '\n' || end[-1] == ' ')) end--;
    fwrite(s, 1, (size_t)(end - s), f);
    free(s);
    fputs(",\n  \"moved_records\": [", f);
    rewind(in->moved);
    char *buf = NULL;
    size_t cap = 0;
    ssize_t n;
    bool first = true;
    while ((n = getline(&buf, &cap, in->moved)) > 0) {
        if (buf[n - 1] == '\n') buf[--n] = 0;
        fprintf(f, "%s\n    %s", first ? "" : ",", buf);
        first = false;
    }
    free(buf);
    fputs(first ? "]\n}\n" : "\n  ]\n}\n", f);
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

static int write_csv(const rp_input *in, FILE *f)
{
    fputs("id,kind,peer_group,file,line,old,new,old_eligible,old_tier,new_eligible,new_tier,direction,cause,cause_label,"
          "old_rule,old_cite,new_rule,new_cite,detail\n",
          f);
    rewind(in->moved);
    char *buf = NULL;
    size_t cap = 0;
    json_t *m;
    while ((m = next_moved(in->moved, &buf, &cap))) {
        json_t *mo = json_object_get(m, "old"), *mn = json_object_get(m, "new");
        char line[32];
        snprintf(line, sizeof line, "%llu", (unsigned long long)ji(m, "line"));
        csv_field(f, js(m, "id"), false);
        csv_field(f, js(m, "kind"), false);
        csv_field(f, js(m, "peer_group"), false);
        csv_field(f, js(m, "file"), false);
        csv_field(f, line, false);
        csv_field(f, js(mo, "state"), false);
        csv_field(f, js(mn, "state"), false);
        csv_field(f, js(mo, "eligible"), false);
        csv_field(f, js(mo, "tier"), false);
        csv_field(f, js(mn, "eligible"), false);
        csv_field(f, js(mn, "tier"), false);
        csv_field(f, js(m, "direction"), false);
        csv_field(f, js(m, "cause"), false);
        csv_field(f, js(m, "cause_label"), false);
        csv_field(f, js(mo, "rule"), false);
        csv_field(f, js(mo, "cite"), false);
        csv_field(f, js(mn, "rule"), false);
        csv_field(f, js(mn, "cite"), false);
        char *d = NULL;
        size_t dl = 0;
        FILE *mf = open_memstream(&d, &dl);
        if (mf) {
            dc_detail_text(json_object_get(m, "detail"), mf, 0);
            fclose(mf);
            while (dl && d[dl - 1] == '\n') d[--dl] = 0;
        }
        csv_field(f, d ? d : "", true);
        free(d);
        json_decref(m);
    }
    free(buf);
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
static void cell_style(FILE *f, int i, int j, uint64_t n, uint64_t rowtot, const json_t *states)
{
    if (!n || !rowtot) {
        fputs(" style=\"color:#8c959f\"", f);
        return;
    }
    int so = ds_parse(json_string_value(json_array_get(states, (size_t)i)), strlen(json_string_value(json_array_get(states, (size_t)i))));
    int sn = ds_parse(json_string_value(json_array_get(states, (size_t)j)), strlen(json_string_value(json_array_get(states, (size_t)j))));
    unsigned r, g, b;
    if (i == j) r = 26, g = 127, b = 55;
    else if (ds_is_tier(so) && ds_is_tier(sn) && sn > so) r = 207, g = 34, b = 46;
    else if (ds_is_tier(so) && ds_is_tier(sn)) r = 9, g = 105, b = 218;
    else r = 130, g = 80, b = 223;
    uint64_t permille = (n * 1000 + rowtot / 2) / rowtot;
    unsigned a = (unsigned)(80 + permille * 820 / 1000); /* alpha in thousandths: 0.08 .. 0.90 */
    fprintf(f, " style=\"background:rgba(%u,%u,%u,0.%03u)%s\"", r, g, b, a > 999 ? 999 : a,
            permille > 550 ? ";color:#fff" : "");
}

static void html_matrix(FILE *f, const json_t *states, const json_t *m, const char *title)
{
    size_t ns = json_array_size(states);
    fprintf(f, "<div><h3 style=\"font-size:14px;margin:6px 0\">");
    h(f, title);
    fprintf(f, "</h3>\n<table class=\"mx\"><tr><th class=\"corner l\">cũ ↓ &nbsp; mới →</th>");
    for (size_t j = 0; j < ns; j++) {
        fputs("<th>", f);
        h(f, json_string_value(json_array_get(states, j)));
        fputs("</th>", f);
    }
    fputs("<th>tổng</th></tr>\n", f);
    uint64_t coltot[16] = {0}, all = 0;
    for (size_t i = 0; i < ns; i++) {
        uint64_t rowtot = 0;
        for (size_t j = 0; j < ns; j++) rowtot += matrix_cell(m, i, j);
        fputs("<tr><th class=\"l\">", f);
        h(f, json_string_value(json_array_get(states, i)));
        fputs("</th>", f);
        for (size_t j = 0; j < ns; j++) {
            uint64_t n = matrix_cell(m, i, j);
            coltot[j] += n;
            fputs("<td", f);
            cell_style(f, (int)i, (int)j, n, rowtot, states);
            if (!n) {
                fputs(">·</td>", f);
                continue;
            }
            char p[16];
            pct(n, rowtot, p, sizeof p);
            fprintf(f, " title=\"%s → %s: %llu (%s of the row)\">%llu<small>%s</small></td>",
                    json_string_value(json_array_get(states, i)), json_string_value(json_array_get(states, j)),
                    (unsigned long long)n, p, (unsigned long long)n, p);
        }
        fprintf(f, "<th>%llu</th></tr>\n", (unsigned long long)rowtot);
        all += rowtot;
    }
    fputs("<tr><th class=\"l\">tổng</th>", f);
    for (size_t j = 0; j < ns; j++) fprintf(f, "<th>%llu</th>", (unsigned long long)coltot[j]);
    fprintf(f, "<th>%llu</th></tr>\n</table></div>\n", (unsigned long long)all);
}

static void html_groups(FILE *f, const json_t *a, const char *key, const char *title, size_t max)
{
    size_t n = json_array_size(a);
    fprintf(f, "<div><h3 style=\"font-size:14px;margin:6px 0\">");
    h(f, title);
    if (n > max) fprintf(f, " <span class=\"note\">(%zu nhóm nhiều thay đổi nhất trong %zu)</span>", max, n);
    fprintf(f, "</h3>\n<div class=\"scroll\"><table><tr><th class=\"l\">%s</th><th>records</th><th>moved</th><th>%%</th><th>up</th><th>down</th><th>other</th></tr>\n",
            key);
    for (size_t i = 0; i < n && i < max; i++) {
        json_t *g = json_array_get(a, i);
        char p[16];
        pct(ji(g, "moved"), ji(g, "records"), p, sizeof p);
        fputs("<tr><td class=\"l\">", f);
        h(f, js(g, key));
        fprintf(f, "</td><td>%llu</td><td>%llu</td><td>%s</td><td>%llu</td><td>%llu</td><td>%llu</td></tr>\n",
                (unsigned long long)ji(g, "records"), (unsigned long long)ji(g, "moved"), p,
                (unsigned long long)ji(g, "up"), (unsigned long long)ji(g, "down"), (unsigned long long)ji(g, "other"));
    }
    fputs("</table></div></div>\n", f);
}

static void html_clause(FILE *f, const json_t *c)
{
    json_t *res = json_object_get(c, "result");
    fprintf(f, "<div class=\"cl\"><span class=\"%s\">%s</span> ", json_is_true(res) ? "ok" : json_is_false(res) ? "ko" : "sk",
            json_is_true(res) ? "✓" : json_is_false(res) ? "✗" : "–");
    if (json_object_get(c, "label")) {
        h(f, js(c, "label"));
        fputs(" <span class=\"tok\">[", f);
        h(f, js(c, "condition"));
        fputs("]</span>", f);
    } else {
        fputs("<span class=\"tok\">", f);
        h(f, js(c, "condition"));
        fputs("</span>", f);
    }
    if (json_is_string(res)) {
        fputs(" — bỏ qua: không có dữ liệu «", f);
        h(f, js(c, "absent"));
        fputs("»", f);
    }
    json_t *u = json_object_get(c, "unless");
    if (u && json_object_get(u, "held")) {
        fputs(" — ngoại lệ «", f);
        h(f, js(u, "condition"));
        fputs(json_is_true(json_object_get(u, "held")) ? "»: có" : "»: không", f);
    }
    fputs(" <span class=\"note\">(", f);
    h(f, js(c, "cite"));
    fputs(" [", f);
    h(f, js(c, "layer"));
    fputs("])</span>", f);
    json_t *reads = json_object_get(c, "read");
    if (json_array_size(reads)) {
        fputs("<div class=\"rd\">giá trị: ", f);
        for (size_t i = 0; i < json_array_size(reads); i++) {
            json_t *r = json_array_get(reads, i);
            if (i) fputs("; ", f);
            if (!strcmp(js(r, "field"), "share()")) fputs("tỉ lệ ", f);
            else {
                h(f, js(r, "field"));
                fputs(" = ", f);
            }
            h(f, js(r, "value"));
        }
        fputs("</div>", f);
    }
    fputs("</div>\n", f);
}

static void html_adjust(FILE *f, const char *who, const json_t *a)
{
    for (size_t i = 0; i < json_array_size(a); i++) {
        const json_t *o = json_array_get(a, i);
        fprintf(f, "<div class=\"side\"><b>%s:</b> ↺ <span class=\"tok\">", who);
        h(f, js(o, "step"));
        fputs("</span>", f);
        if (json_object_get(o, "from")) {
            fputc(' ', f);
            h(f, js(o, "from"));
            fputs(" → ", f);
            h(f, js(o, "to"));
        } else {
            fputs(" (hồ sơ điều chỉnh trước khi xếp loại)", f);
        }
        if (*js(o, "reason")) {
            fputs(": ", f);
            h(f, js(o, "reason"));
        }
        fputs(" <span class=\"note\">— ", f);
        h(f, js(o, "cite"));
        fputs(" [", f);
        h(f, js(o, "layer"));
        fputs("]</span></div>\n", f);
    }
}

static void html_detail(FILE *f, const json_t *d)
{
    const char *type = js(d, "type");
    html_adjust(f, "cũ", json_object_get(d, "adjust_old"));
    html_adjust(f, "mới", json_object_get(d, "adjust_new"));
    if (!strcmp(type, "adjust")) {
        fputs("<div class=\"side\">các quy tắc như nhau; bước điều chỉnh <span class=\"tok\">", f);
        h(f, js(d, "step"));
        fputs("</span> sau khi xếp loại khác nhau</div>\n", f);
        return;
    }
    if (!strcmp(type, "rule")) {
        static const char *const sides[2] = {"old", "new"};
        static const char *const vi[2] = {"cũ", "mới"};
        for (int s = 0; s < 2; s++) {
            json_t *sj = json_object_get(d, sides[s]);
            const char *st = js(sj, "state");
            fprintf(f, "<div class=\"side\"><b>%s:</b> ", vi[s]);
            if (!strcmp(st, "absent")) {
                fputs("không có quy tắc này</div>\n", f);
                continue;
            }
            if (!strcmp(st, "held")) {
                fputs("áp dụng → ", f);
                h(f, js(sj, "outcome"));
            } else {
                fputs(!strcmp(st, "failed") ? "không đạt (" : "không xét tới (", f);
                h(f, js(sj, "outcome"));
                fputs(")", f);
            }
            fputs(" <span class=\"note\">— ", f);
            h(f, js(sj, "cite"));
            fputs(" [", f);
            h(f, js(sj, "layer"));
            fputs("]</span>\n", f);
            json_t *cl = json_object_get(sj, "clauses");
            for (size_t i = 0; i < json_array_size(cl); i++) html_clause(f, json_array_get(cl, i));
            fputs("</div>\n", f);
        }
    } else if (!strcmp(type, "rejected")) {
        fprintf(f, "<div class=\"side\">bộ quy tắc %s từ chối bản ghi <span class=\"tok\">[", !strcmp(js(d, "side"), "old") ? "cũ" : "mới");
        h(f, js(d, "code"));
        if (json_object_get(d, "field")) {
            fputc(' ', f);
            h(f, js(d, "field"));
        }
        fputs("]</span>: ", f);
        h(f, js(d, "message"));
        fputs("</div>\n", f);
    } else if (!strcmp(type, "batch")) {
        if (json_object_get(d, "old")) {
            fputs("<div class=\"side\"><b>cũ:</b> ", f);
            h(f, js(d, "old"));
            fputs("</div>", f);
        }
        if (json_object_get(d, "new")) {
            fputs("<div class=\"side\"><b>mới:</b> ", f);
            h(f, js(d, "new"));
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

static int write_html(const rp_input *in, FILE *f)
{
    const json_t *s = in->summary;
    const json_t *o = json_object_get(s, "old"), *n = json_object_get(s, "new");
    bool refines = json_object_get(s, "refines") != NULL;
    fputs(html_head, f);
    fputs("<h1>quy diff: ", f);
    h(f, js(o, "name"));
    fputc(' ', f);
    h(f, js(o, "version"));
    fputs(" → ", f);
    h(f, js(n, "name"));
    fputc(' ', f);
    h(f, js(n, "version"));
    fputs("</h1>\n", f);
    for (int side = 0; side < 2; side++) {
        const json_t *x = side ? n : o;
        fprintf(f, "<p class=\"sub\">%s: <span class=\"tok\">", side ? "mới (new)" : "cũ (old)");
        h(f, js(x, "spec"));
        fputs("</span> — lớp (layers): ", f);
        json_t *l = json_object_get(x, "layers");
        for (size_t i = 0; i < json_array_size(l); i++) {
            if (i) fputs(" › ", f);
            h(f, json_string_value(json_array_get(l, i)));
        }
        fputs("</p>\n", f);
    }
    fputs("<p class=\"sub\">dữ liệu (records): ", f);
    json_t *ins = json_object_get(s, "inputs");
    for (size_t i = 0; i < json_array_size(ins); i++) {
        if (i) fputs(", ", f);
        fputs("<span class=\"tok\">", f);
        h(f, json_string_value(json_array_get(ins, i)));
        fputs("</span>", f);
    }
    fputs("</p>\n", f);
    uint64_t total = ji(s, "records"), moved = ji(s, "moved");
    char p[16];
    pct(moved, total, p, sizeof p);
    fprintf(f,
            "<div class=\"cards\"><div class=\"card\"><b>%llu</b><span>bản ghi (records)</span></div>"
            "<div class=\"card\"><b>%llu</b><span>thay đổi (moved), %s</span></div>"
            "<div class=\"card up\"><b>%llu</b><span>lên (up)</span></div>"
            "<div class=\"card down\"><b>%llu</b><span>xuống (down)</span></div>"
            "<div class=\"card\"><b>%llu</b><span>khác (other)</span></div>"
            "<div class=\"card\"><b>%llu</b><span>cùng mức, khác quy tắc</span></div>",
            (unsigned long long)total, (unsigned long long)moved, p, (unsigned long long)ji(s, "up"),
            (unsigned long long)ji(s, "down"), (unsigned long long)ji(s, "other"),
            (unsigned long long)ji(s, "same_tier_other_rule"));
    const json_t *e = json_object_get(s, "expect");
    if (e) {
        uint64_t un = ji(e, "unapproved");
        fprintf(f, "<div class=\"card\"><b class=\"%s\">%llu</b><span>%s: chưa được chấp thuận</span></div>",
                un ? "bad" : "good", (unsigned long long)un, refines ? "--refines" : "--expect");
    }
    fputs("</div>\n", f);

    const json_t *states = json_object_get(s, "states"), *mx = json_object_get(s, "matrix");
    fputs("<h2>Ma trận chuyển mức (transition matrix)</h2>\n"
          "<p class=\"legend\">Hàng: bộ quy tắc cũ; cột: bộ quy tắc mới; số bản ghi và % của hàng. Màu:"
          "<i style=\"background:rgba(26,127,55,.6)\"></i>giữ nguyên"
          "<i style=\"background:rgba(207,34,46,.6)\"></i>lên mức (mới cao hơn)"
          "<i style=\"background:rgba(9,105,218,.6)\"></i>xuống mức"
          "<i style=\"background:rgba(130,80,223,.6)\"></i>không xếp loại / hoãn / bị từ chối"
          " — càng đậm, tỉ lệ trong hàng càng cao.</p>\n<div class=\"grid\">\n",
          f);
    html_matrix(f, states, json_object_get(mx, "final"), "Mức cuối cùng (final tiers)");
    html_matrix(f, states, json_object_get(mx, "eligible"), "Mức đủ điều kiện (eligible tiers, trước các bước theo lô)");
    fputs("</div>\n", f);
    if (json_is_true(json_object_get(s, "eligible_equals_final")))
        fputs("<p class=\"note\">Hai bảng giống nhau: không bước theo lô nào (tỉ lệ, giới hạn) đổi mức của bản ghi nào.</p>\n", f);

    const json_t *causes = json_object_get(s, "causes");
    fputs("<h2>Nguyên nhân (causes)</h2>\n<p class=\"note\">Quy tắc đầu tiên, theo thứ tự xét, cho kết quả khác nhau "
          "giữa hai bộ quy tắc. Bấm vào một dòng để lọc danh sách bên dưới.</p>\n"
          "<table><tr><th>moved</th><th class=\"l\">cause</th><th class=\"l\">nhãn</th><th class=\"l\">chuyển mức</th>"
          "<th class=\"l\">căn cứ cũ</th><th class=\"l\">căn cứ mới</th></tr>\n",
          f);
    if (!json_array_size(causes)) fputs("<tr><td colspan=\"6\" class=\"l note\">không bản ghi nào thay đổi</td></tr>\n", f);
    for (size_t i = 0; i < json_array_size(causes); i++) {
        json_t *c = json_array_get(causes, i);
        fputs("<tr class=\"cause\" data-cause=\"", f);
        h(f, js(c, "cause"));
        fprintf(f, "\"><td>%llu</td><td class=\"l tok\">", (unsigned long long)ji(c, "count"));
        h(f, js(c, "cause"));
        fputs("</td><td class=\"l\" style=\"white-space:normal;max-width:320px\">", f);
        h(f, js(c, "label"));
        fputs("</td><td class=\"l tok\" style=\"white-space:normal;max-width:260px\">", f);
        json_t *mv = json_object_get(c, "moves");
        for (size_t j = 0; j < json_array_size(mv); j++) {
            json_t *m = json_array_get(mv, j);
            fprintf(f, "%s", j ? ", " : "");
            h(f, js(m, "old"));
            fputs("→", f);
            h(f, js(m, "new"));
            fprintf(f, " %llu", (unsigned long long)ji(m, "count"));
        }
        fputs("</td><td class=\"l\" style=\"white-space:normal;max-width:260px\">", f);
        h(f, js(c, "cite_old"));
        fputs("</td><td class=\"l\" style=\"white-space:normal;max-width:260px\">", f);
        h(f, js(c, "cite_new"));
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n", f);

    fputs("<h2>Theo loại đối tượng và nhóm tương đồng (breakdowns)</h2>\n<div class=\"grid\">\n", f);
    html_groups(f, json_object_get(s, "by_kind"), "kind", "Theo loại đối tượng (kind)", 1000);
    html_groups(f, json_object_get(s, "by_peer_group"), "peer_group", "Theo nhóm tương đồng (peer_group)", 200);
    fputs("</div>\n", f);

    if (e) {
        json_t *u = json_object_get(e, "unapproved_moves");
        if (json_array_size(u)) {
            fprintf(f, "<h2>%s: chưa được chấp thuận (not approved)</h2>\n<table><tr><th class=\"l\">cũ</th><th class=\"l\">mới</th><th class=\"l\">cause</th><th>số</th><th>chấp thuận</th></tr>\n",
                    refines ? "--refines" : "--expect");
            for (size_t i = 0; i < json_array_size(u); i++) {
                json_t *x = json_array_get(u, i);
                fputs("<tr><td class=\"l tok\">", f);
                h(f, js(x, "old"));
                fputs("</td><td class=\"l tok\">", f);
                h(f, js(x, "new"));
                fputs("</td><td class=\"l tok\">", f);
                h(f, js(x, "cause"));
                fprintf(f, "</td><td>%llu</td><td>%llu</td></tr>\n", (unsigned long long)ji(x, "count"),
                        (unsigned long long)ji(x, "approved"));
            }
            fputs("</table>\n", f);
        }
    }

    fprintf(f, "<h2 id=\"moved\">%s (%llu)</h2>\n",
            refines ? "Bản ghi được xếp cao hơn (loosened records)" : "Bản ghi thay đổi (moved records)",
            (unsigned long long)in->nmoved);
    fputs("<div class=\"filters\"><label>Nguyên nhân: <select id=\"cause\"><option value=\"\">(tất cả)</option>", f);
    for (size_t i = 0; i < json_array_size(causes); i++) {
        json_t *c = json_array_get(causes, i);
        fputs("<option value=\"", f);
        h(f, js(c, "cause"));
        fputs("\">", f);
        h(f, js(c, "cause"));
        fprintf(f, " (%llu)</option>", (unsigned long long)ji(c, "count"));
    }
    fputs("</select></label><label>Hướng: <select id=\"dir\"><option value=\"\">(tất cả)</option><option value=\"up\">lên</option>"
          "<option value=\"down\">xuống</option><option value=\"other\">khác</option></select></label>"
          "<label>Tìm: <input id=\"q\" type=\"search\" placeholder=\"id, nhóm, quy tắc…\"></label>"
          "<span class=\"note\">hiển thị <b id=\"shown\"></b>",
          f);
    if (in->nmoved > HTML_MAX_ROWS)
        fprintf(f, " — trang này chỉ liệt kê %d bản ghi đầu; đủ %llu bản ghi trong báo cáo JSON / CSV", HTML_MAX_ROWS,
                (unsigned long long)in->nmoved);
    fputs("</span></div>\n<table class=\"moved\"><thead><tr><th class=\"l\">id</th><th class=\"l\">kind</th>"
          "<th class=\"l\">peer_group</th><th class=\"l\">cũ → mới</th><th class=\"l\">nguyên nhân và giá trị</th></tr></thead><tbody>\n",
          f);
    rewind(in->moved);
    char *buf = NULL;
    size_t cap = 0;
    json_t *m;
    uint64_t row = 0;
    char opened[8][192]; /* the first record of each of the first causes is shown open */
    int nopened = 0;
    while (row < HTML_MAX_ROWS && (m = next_moved(in->moved, &buf, &cap))) {
        row++;
        bool open = false;
        if (nopened < 3) {
            open = true;
            for (int k = 0; k < nopened && open; k++) open = strcmp(opened[k], js(m, "cause")) != 0;
            if (open) snprintf(opened[nopened++], sizeof opened[0], "%s", js(m, "cause"));
        }
        json_t *mo = json_object_get(m, "old"), *mn = json_object_get(m, "new");
        fprintf(f, "<tr class=\"d-%s\" data-dir=\"%s\" data-cause=\"", js(m, "direction"), js(m, "direction"));
        h(f, js(m, "cause"));
        fputs("\"><td class=\"tok\">", f);
        h(f, js(m, "id"));
        fputs("</td><td>", f);
        h(f, js(m, "kind"));
        fputs("</td><td>", f);
        h(f, js(m, "peer_group"));
        fputs("</td><td style=\"white-space:nowrap\"><span class=\"st\">", f);
        h(f, js(mo, "state"));
        fputs("</span> → <span class=\"st n\">", f);
        h(f, js(mn, "state"));
        fprintf(f, "</span></td><td><details%s><summary><span class=\"tok\">", open ? " open" : "");
        h(f, js(m, "cause"));
        fputs("</span>", f);
        if (*js(m, "cause_label")) {
            fputs(" — ", f);
            h(f, js(m, "cause_label"));
        }
        fputs("</summary>\n", f);
        html_detail(f, json_object_get(m, "detail"));
        fprintf(f, "<div class=\"note\">");
        h(f, js(m, "file"));
        fprintf(f, ":%llu</div></details></td></tr>\n", (unsigned long long)ji(m, "line"));
        json_decref(m);
    }
    free(buf);
    fputs("</tbody></table>\n", f);
    fputs(html_script, f);
    fputs("</body>\n</html>\n", f);
    return 0;
}

int rp_write(rp_format fmt, const rp_input *in, FILE *out)
{
    switch (fmt) {
    case RP_JSON: return write_json(in, out);
    case RP_CSV: return write_csv(in, out);
    case RP_HTML: return write_html(in, out);
    default: return write_text(in, out);
    }
}
