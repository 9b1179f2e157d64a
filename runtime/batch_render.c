/*
 * batch_render.c — the batch steps in Vietnamese and JSON, their flags,
 * a rated record written with its explanation, and the summary table
 * (see batch_render.h). Everything here reads the engine's results
 * (batch.h); nothing here changes them.
 */
#include "batch_render.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "explain.h"
#include "hook.h"
#include "output.h"

/* =====================================================================
 * Words
 * ===================================================================== */

/* Exact rational (or percent) for people, Vietnamese decimal comma: 1,6 */
static void fmt_vi(q_val v, bool pct, char *buf, size_t size)
{
    if (v.d <= 0) v = q_int(0);
    q_format(v, pct, buf, size);
    for (char *c = buf; *c && *c != ' '; c++)
        if (*c == '.') *c = ',';
}

static const char *tier_up(uint8_t t)
{
    static const char *const up[] = {"KHTNV", "HTNV", "HTTNV", "HTXSNV", "KHÔNG XẾP LOẠI", "CHƯA XẾP LOẠI"};
    return t < QO__COUNT ? up[t] : "?";
}

static const char *const round_vi[] = {"làm tròn xuống", "làm tròn (từ 0,5 lên 1)", "làm tròn lên"};

const char *batch_step_code(const batch_step *s)
{
    switch (s->type) {
    case BATCH_STEP_ROLLUP: return "rollup";
    case BATCH_STEP_CAP: return "cap";
    default: return s->demoted ? "quota_demoted" : "quota_kept";
    }
}

const char *batch_step_cite(const batch *b, const batch_step *s)
{
    const q_program *p = batch_program(b);
    if (s->type == BATCH_STEP_CAP) return prog_str(p, p->caps[s->cap].cite);
    if (s->type == BATCH_STEP_QUOTA) return prog_str(p, p->quotas[s->quota].cite);
    return "";
}

const char *batch_step_layer(const batch *b, const batch_step *s)
{
    const q_program *p = batch_program(b);
    if (s->type == BATCH_STEP_CAP) return prog_str(p, p->caps[s->cap].layer);
    if (s->type == BATCH_STEP_QUOTA) return prog_str(p, p->quotas[s->quota].layer);
    return "";
}

/* =====================================================================
 * One step in Vietnamese
 * ===================================================================== */

static void rollup_text(const batch *b, size_t i, const batch_step *s, strbuf *sb)
{
    const q_program *p = batch_program(b);
    static const char *const what[2] = {"các thành viên / tổ chức trực thuộc", "các đơn vị thuộc quyền quản lý"};
    const q_field *f = &p->fields[p->kinds[s->kind].first_field + s->slot];
    strbuf_printf(sb, "%s (%s) lấy từ lô: ", prog_str(p, f->label), prog_str(p, f->name));
    strbuf_printf(sb, "%s (bản ghi có unit = '%s')", what[s->rollup], s->of);
    if (!s->nchildren) {
        strbuf_puts(sb, " — không có bản ghi nào trong lô, trường để trống (các điều kiện 'if present' bỏ qua)");
        return;
    }
    strbuf_puts(sb, ": ");
    uint32_t shown = 0, skipped = 0;
    batch_rollup_child ch;
    for (uint32_t c = 0; c < s->nchildren; c++) {
        batch_rollup_child_get(b, i, s, c, &ch);
        if (!ch.counted) {
            skipped++;
            continue;
        }
        if (shown < 12)
            strbuf_printf(sb, "%s%s = %s%s", shown ? ", " : "", ch.id, q_outcome_code[ch.used],
                          ch.how == BATCH_USED_BEFORE_QUOTA ? " (trước hạn mức: cùng nhóm với tập thể)"
                          : ch.how == BATCH_USED_BEFORE_CAP ? " (người đứng đầu: mức trước giới hạn không cao hơn tập thể)"
                                                            : "");
        shown++;
    }
    if (shown > 12) strbuf_printf(sb, ", … (%u bản ghi)", shown);
    if (!shown) strbuf_puts(sb, "danh sách rỗng");
    if (!skipped) return;
    strbuf_printf(sb, "; %u bản ghi không có xếp loại (bị từ chối, không xếp loại hoặc chưa xếp loại) không tính:",
                  skipped);
    uint32_t named = 0;
    for (uint32_t c = 0; c < s->nchildren && named < 5; c++) {
        batch_rollup_child_get(b, i, s, c, &ch);
        if (ch.counted) continue;
        strbuf_printf(sb, "%s %s (%s)", named ? "," : "", ch.id, ch.rejected ? "lỗi" : q_outcome_code[ch.tier]);
        named++;
    }
    if (skipped > named) strbuf_puts(sb, ", …");
}

static void cap_text(const batch *b, const batch_step *s, strbuf *sb)
{
    const q_program *p = batch_program(b);
    strbuf_printf(sb, "Giảm do giới hạn \"%s\": %s → %s", prog_str(p, p->caps[s->cap].text), tier_up(s->from),
                  tier_up(s->to));
    if (s->ref) strbuf_printf(sb, " (tập thể '%s' xếp loại %s)", s->ref, tier_up(s->ref_tier));
}

static void quota_text(const batch *b, const batch_step *s, strbuf *sb)
{
    const q_program *p = batch_program(b);
    const q_quota *Q = &p->quotas[s->quota];
    const batch_quota_run *run = s->run;
    char raw[64], share[32];
    fmt_vi(run->raw, false, raw, sizeof raw);
    fmt_vi(Q->share, true, share, sizeof share);
    strbuf_printf(sb, "%s: nhóm '%s' ", s->demoted ? "Giảm do hạn mức" : "Trong hạn mức", s->group);
    switch (Q->basis) {
    case QBASIS_ELIGIBLE:
        strbuf_printf(sb, "có %u %s trước hạn mức, hạn mức %s = %s → %u", run->base, tier_up(Q->of_tier), share, raw,
                      run->limit);
        break;
    case QBASIS_AT_LEAST:
        strbuf_printf(sb, "có %u người %s trở lên, hạn mức %s = %s → %u", run->base, tier_up(Q->of_tier), share, raw,
                      run->limit);
        break;
    default:
        strbuf_printf(sb, "có %u %s (kể cả người bị giảm), hạn mức %s = %s → %u", run->base, tier_up(Q->of_tier),
                      share, raw, run->limit);
        break;
    }
    strbuf_printf(sb, " (%s)", round_vi[Q->rounding < 3 ? Q->rounding : 0]);
    if (run->have_next) {
        char nraw[64];
        fmt_vi(run->next_raw, false, nraw, sizeof nraw);
        strbuf_printf(sb, "; giữ %u thì chỉ còn %u %s: %s × %u = %s → %u < %u", run->kept + 1, run->next_base,
                      tier_up(Q->of_tier), share, run->next_base, nraw, run->next_limit, run->kept + 1);
    }
    if (run->small)
        strbuf_printf(sb, "; nhóm dưới %u người, tất cả %s trở lên: được giữ 1", Q->small_group, tier_up(Q->of_tier));
    strbuf_printf(sb, "; %u người đủ điều kiện %s, giữ %u", run->n_tier, tier_up(Q->tier), run->kept);
    if (run->kept) {
        strbuf_printf(sb, " theo thứ tự%s: ", Q->nkeys ? "" : " nhập (không khai báo tiêu chí ưu tiên)");
        for (uint32_t j = 0; j < run->nfirst; j++)
            strbuf_printf(sb, "%s%s", j ? ", " : "", batch_id(b, run->first_kept[j]));
        if (run->kept > run->nfirst) strbuf_puts(sb, ", …");
    }
    strbuf_printf(sb, "; người này xếp thứ %u → %s", s->rank, tier_up(s->tier));
    if (s->tie) strbuf_puts(sb, " (bằng điểm ưu tiên với người ở ranh giới: phân định theo thứ tự nhập)");
}

void batch_step_text(const batch *b, size_t i, const batch_step *s, strbuf *out)
{
    switch (s->type) {
    case BATCH_STEP_ROLLUP: rollup_text(b, i, s, out); break;
    case BATCH_STEP_CAP: cap_text(b, s, out); break;
    default: quota_text(b, s, out); break;
    }
}

/* =====================================================================
 * All the steps of a record: text, JSON, flags
 * ===================================================================== */

void batch_render_steps(const batch *b, size_t i, int indent, strbuf *out)
{
    size_t n = batch_nsteps(b, i);
    for (size_t k = 0; k < n; k++) {
        batch_step s;
        batch_step_get(b, i, k, &s);
        strbuf_pad(out, (size_t)indent);
        strbuf_puts(out, "⇒ ");
        batch_step_text(b, i, &s, out);
        const char *cite = batch_step_cite(b, &s), *layer = batch_step_layer(b, &s);
        if (*cite) strbuf_printf(out, " — %s%s%s%s", cite, *layer ? " [" : "", layer, *layer ? "]" : "");
        strbuf_putc(out, '\n');
    }
}

char *batch_explain_text(const batch *b, size_t i, int indent)
{
    strbuf sb = {0};
    batch_render_steps(b, i, indent, &sb);
    return strbuf_take(&sb);
}

void batch_render_steps_json(const batch *b, size_t i, strbuf *out)
{
    size_t n = batch_nsteps(b, i);
    strbuf msg = {0};
    strbuf_putc(out, '[');
    for (size_t k = 0; k < n; k++) {
        batch_step s;
        batch_step_get(b, i, k, &s);
        strbuf_reset(&msg);
        batch_step_text(b, i, &s, &msg);
        strbuf_puts(out, k ? ",{\"step\":" : "{\"step\":");
        strbuf_json(out, batch_step_code(&s));
        strbuf_puts(out, ",\"message\":");
        strbuf_json(out, strbuf_text(&msg));
        strbuf_puts(out, ",\"cite\":");
        strbuf_json_or_null(out, batch_step_cite(b, &s));
        strbuf_puts(out, ",\"layer\":");
        strbuf_json_or_null(out, batch_step_layer(b, &s));
        strbuf_putc(out, '}');
    }
    strbuf_putc(out, ']');
    if (msg.failed) out->failed = true;
    strbuf_free(&msg);
}

void *batch_explain_json(const batch *b, size_t i)
{
    strbuf sb = {0};
    batch_render_steps_json(b, i, &sb);
    json_t *j = sb.s && !sb.failed ? json_loads(sb.s, 0, NULL) : NULL;
    strbuf_free(&sb);
    return j;
}

size_t batch_flags(const batch *b, size_t i, const char **code, char **message, const char **cite, size_t max)
{
    size_t n = batch_nsteps(b, i), nf = 0;
    for (size_t k = 0; k < n && nf < max; k++) {
        batch_step s;
        batch_step_get(b, i, k, &s);
        if (s.type == BATCH_STEP_ROLLUP || (s.type == BATCH_STEP_QUOTA && !s.demoted)) continue;
        strbuf msg = {0};
        batch_step_text(b, i, &s, &msg);
        code[nf] = s.type == BATCH_STEP_CAP ? "capped" : "quota_demoted";
        message[nf] = strbuf_take(&msg);
        cite[nf] = batch_step_cite(b, &s);
        nf++;
    }
    return nf;
}

/* =====================================================================
 * A rated record, written with its explanation
 * ===================================================================== */

void batch_write(const batch *b, size_t i, out_writer *w, vm_trace *tr, bool text)
{
    batch_write_hs(b, i, w, tr, text, batch_hooks(b));
}

void batch_write_hs(const batch *b, size_t i, out_writer *w, vm_trace *tr, bool text, hook_session *hs)
{
    const q_program *p = batch_program(b);
    batch_view v;
    batch_get(b, i, &v);
    if (v.status != BATCH_RATED) return;
    const char *code[8], *cite[8];
    char *msg[8];
    size_t nx = batch_flags(b, i, code, msg, cite, 8);
    out_flag extra[8];
    for (size_t k = 0; k < nx; k++) extra[k] = (out_flag){code[k], msg[k] ? msg[k] : "", cite[k]};
    char *tj = NULL, *tt = NULL;
    if (tr && v.rec) {
        vm_result res; /* the rate block's own result, for the trace */
        tr->n = 0;
        tr->truncated = false;
        vm_rate(p, hs, v.rec, &res, tr);
        explanation x = {0};
        explain_build(&x, p, v.rec, &res, tr);
        strbuf sb = {0};
        if (batch_nsteps(b, i)) {
            strbuf_puts(&sb, "\"batch_steps\":");
            batch_render_steps_json(b, i, &sb);
        }
        char *tail = strbuf_take(&sb);
        explain_render_json(&x, &sb, tail);
        free(tail);
        tj = strbuf_take(&sb);
        if (text) {
            explain_render_text(&x, &sb, 4);
            batch_render_steps(b, i, 4, &sb);
            tt = strbuf_take(&sb);
        }
        explain_clear(&x);
    }
    q_record shown = {.kind = v.kind, .id = v.id, .line = v.line};
    out_result_ex(w, v.rec ? v.rec : &shown, &v.res, v.eligible, extra, nx, tj, tt);
    for (size_t k = 0; k < nx; k++) free(msg[k]);
    free(tj);
    free(tt);
}

/* =====================================================================
 * Summary per group
 * ===================================================================== */

static void summary_json(const batch *b, const batch_group_view *G, strbuf *sb)
{
    const q_program *p = batch_program(b);
    strbuf_puts(sb, "{\"group\":");
    strbuf_json(sb, G->key);
    strbuf_printf(sb, ",\"records\":%u", G->n);
    const uint32_t *counts[2] = {G->count_elig, G->count_final};
    for (int k = 0; k < 2; k++) {
        strbuf_puts(sb, k ? ",\"final\":{" : ",\"eligible\":{");
        for (int t = 0; t < QO__COUNT; t++) strbuf_printf(sb, "%s\"%s\":%u", t ? "," : "", q_outcome_code[t], counts[k][t]);
        strbuf_putc(sb, '}');
    }
    strbuf_puts(sb, ",\"quotas\":[");
    for (uint32_t q = 0; q < p->nquotas && G->runs; q++) {
        const batch_quota_run *r = &G->runs[q];
        char raw[64];
        q_format(r->raw.d > 0 ? r->raw : q_int(0), false, raw, sizeof raw);
        strbuf_printf(sb, "%s{\"tier\":\"%s\",\"base\":%u,\"raw\":", q ? "," : "", q_outcome_code[p->quotas[q].tier],
                      r->base);
        strbuf_json(sb, raw);
        strbuf_printf(sb, ",\"limit\":%u,\"candidates\":%u,\"kept\":%u,\"demoted\":%u,\"small_group\":%s}", r->limit,
                      r->n_tier, r->kept, r->n_tier - r->kept, r->small ? "true" : "false");
    }
    strbuf_puts(sb, "]}\n");
}

static void summary_row(const batch *b, const batch_group_view *G, strbuf *sb)
{
    const q_program *p = batch_program(b);
    uint32_t other = G->count_final[QO_NOT_RATED] + G->count_final[QO_DEFERRED];
    size_t wd = out_display_width(G->key);
    strbuf_printf(sb, "%s%*s %7u %7u %7u %7u %7u ", G->key, (int)(wd < 24 ? 24 - wd : 0), "",
                  G->count_final[QO_HTXSNV], G->count_final[QO_HTTNV], G->count_final[QO_HTNV],
                  G->count_final[QO_KHTNV], other);
    for (uint32_t q = 0; q < p->nquotas && G->runs; q++) {
        const batch_quota_run *r = &G->runs[q];
        char raw[64];
        fmt_vi(r->raw, false, raw, sizeof raw);
        strbuf_printf(sb, " %s: %u/%u giữ (hạn mức %s → %u%s)", q_outcome_code[p->quotas[q].tier], r->kept, r->n_tier,
                      raw, r->limit, r->small ? ", nhóm nhỏ" : "");
    }
    strbuf_putc(sb, '\n');
}

void batch_summary(const batch *b, FILE *out, bool json)
{
    strbuf sb = {0};
    if (!json)
        strbuf_printf(&sb, "%s%*s %7s %7s %7s %7s %7s  %s\n", "nhóm (group)", 12, "", "HTXSNV", "HTTNV", "HTNV", "KHTNV",
                      "khác", "hạn mức (quota)");
    for (size_t g = 0; g < batch_ngroups(b); g++) {
        batch_group_view G;
        batch_group_get(b, g, &G);
        if (json) summary_json(b, &G, &sb);
        else summary_row(b, &G, &sb);
        if (sb.n >= 1 << 16) { /* write in blocks */
            fwrite(sb.s, 1, sb.n, out);
            strbuf_reset(&sb);
        }
    }
    if (sb.n) fwrite(sb.s, 1, sb.n, out);
    strbuf_free(&sb);
}
