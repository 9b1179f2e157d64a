/*
 * diff_rate.c — the rating source of `quy diff`: states, dr_rate (rate a
 * corpus with one program), and the input reader that parses each record
 * once and decodes it for both programs (see diff.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../runtime/arena.h"
#include "../runtime/batch.h"
#include "../runtime/batch_render.h"
#include "../runtime/hook.h"
#include "../runtime/vec.h"
#include "diff.h"

/* =====================================================================
 * States
 * ===================================================================== */

const uint8_t ds_order[DS__COUNT] = {QO_HTXSNV, QO_HTTNV, QO_HTNV, QO_KHTNV, QO_NOT_RATED, QO_DEFERRED, DS_REJECTED};

const char *ds_code(int s)
{
    if (s >= 0 && s < QO__COUNT) return q_outcome_code[s];
    return s == DS_REJECTED ? "rejected" : "?";
}

int ds_parse(const char *s, size_t len)
{
    for (int i = 0; i < DS__COUNT; i++) {
        const char *c = ds_code(i);
        if (strlen(c) == len && !memcmp(c, s, len)) return i;
    }
    return -1;
}

/* =====================================================================
 * The rating source: one batch per program
 * ===================================================================== */

struct dr_src {
    const q_program *p;
    batch *b;
    /* Bit i: record i waits for a roll-up, and the batch keeps it whole,
     * roll-ups filled, after rating it (batch_keep_some): pass 2 explains
     * a moved record with it instead of rating the corpus again. Such a
     * record is kept until its turn in batch_run anyway, so this adds
     * nothing to the peak. */
    uint8_t *keep;
    size_t capkeep;
};

dr_src *dr_src_new(const q_program *p)
{
    dr_src *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->p = p;
    s->b = batch_new(p, false);
    if (!s->b) {
        free(s);
        return NULL;
    }
    return s;
}

struct hook_session *dr_src_hooks(const dr_src *s) { return batch_hooks(s->b); }

void dr_src_free(dr_src *s)
{
    if (!s) return;
    batch_free(s->b);
    free(s->keep);
    free(s);
}

int dr_src_add(dr_src *s, const q_record *rec, const rec_error *err, const char *file, const vm_result *res)
{
    if (!rec) return batch_add_rejected(s->b, err, file);
    size_t i = batch_count(s->b);
    if (i / 8 >= s->capkeep) {
        size_t ncap = s->capkeep ? s->capkeep : 4096;
        while (ncap <= i / 8) ncap *= 2;
        uint8_t *k = realloc(s->keep, ncap);
        if (!k) return -1;
        memset(k + s->capkeep, 0, ncap - s->capkeep);
        s->keep = k;
        s->capkeep = ncap;
        batch_keep_some(s->b, s->keep, s->capkeep * 8);
    }
    if (!batch_rates_at_read(s->b, rec)) s->keep[i / 8] |= (uint8_t)(1u << (i % 8));
    return batch_add_rated(s->b, rec, file, res);
}

int dr_src_run(dr_src *s) { return batch_run(s->b); }

size_t dr_src_count(const dr_src *s) { return batch_count(s->b); }

void dr_src_row(const dr_src *s, size_t i, dr_row *row)
{
    batch_view v;
    batch_get(s->b, i, &v);
    memset(row, 0, sizeof *row);
    row->rule = QUY_NONE;
    row->id = v.id;
    row->file = v.file;
    row->line = v.line;
    if (v.status != BATCH_RATED) {
        row->status = DR_REJECTED;
        row->error = v.error;
        return;
    }
    row->status = DR_RATED;
    row->eligible = v.eligible;
    row->tier = v.res.outcome;
    row->rule = v.res.rule;
    row->steps = v.steps;
    row->kind = v.kind;
    row->group = v.group;
}

const q_record *dr_src_rec(const dr_src *s, size_t i)
{
    batch_view v;
    batch_get(s->b, i, &v);
    return v.status == BATCH_RATED ? v.rec : NULL;
}

char *dr_src_steps(const dr_src *s, size_t i) { return batch_explain_text(s->b, i, 0); }

/* =====================================================================
 * Input: one parse, two decodes
 * ===================================================================== */

/* The part of a dr_pair cleared and copied for every record (not err[]). */
#define DR_PAIR_HEAD offsetof(dr_pair, err)

/* What decoding one JSON Lines record needs: the serial reader's, or a worker's. */
typedef struct dr_dec {
    const char *name;    /* input name, for messages */
    const uint32_t *same_kind;
    rec_reader *rd[2];
    q_record alias;      /* rec[1] when the layouts agree */
    json_t *obj;         /* the current record's object (kept until the next call; only for lines
                            rec_json_top_strings leaves to jansson) */
    char *names;         /* kind, id, peer_group of the current line, decoded, NUL-terminated */
    size_t names_cap;
} dr_dec;

typedef struct dr_pipe dr_pipe;
static void dr_pipe_free(dr_pipe *pp);

struct dr_in {
    const q_program *p[2];
    char *name;          /* the input's name, whole (malloc'd) */
    FILE *f[2];          /* JSONL: f[0] only; lockstep: one per reader */
    bool own[2];         /* close f[s] at the end */
    bool lockstep;
    rec_reader *rd[2];
    hook_session *hooks[2]; /* for checks that call hooks, one per program */
    /* JSON Lines */
    char *buf;
    size_t bufcap;
    uint32_t line;
    dr_dec dec;          /* decoding on this thread (rd: the readers above) */
    dr_pipe *pipe;       /* decoding on worker threads (dr_in_set_jobs), started by the first dr_in_next */
    unsigned jobs;
    dr_src *src[2];      /* dr_in_rate_ahead: the workers rate for these too */
    bool skip_bom;       /* the file starts with a UTF-8 byte order mark */
    size_t index;        /* records seen */
    /* warnings */
    char **warned;
    size_t nwarned, capwarned;
    size_t nwarnings;
    bool io_error;
    /* Decode once: kind k of the old program has exactly the layout of
     * kind same_kind[k] of the new one (QUY_NONE: it has not), so the old
     * decoder's record serves both. */
    uint32_t *same_kind;
};

/* =====================================================================
 * Same record layout in both programs (then one decode serves both)
 * ===================================================================== */

static bool same_str(const q_program *a, uint32_t x, const q_program *b, uint32_t y)
{
    return !strcmp(prog_str(a, x), prog_str(b, y));
}

static bool same_type(const q_program *a, uint32_t ta, const q_program *b, uint32_t tb, int depth);

static bool same_field(const q_program *a, const q_field *fa, const q_program *b, const q_field *fb, int depth)
{
    if (!same_str(a, fa->name, b, fb->name) || fa->slot != fb->slot || fa->flags != fb->flags) return false;
    if ((fa->deflt == QUY_NONE) != (fb->deflt == QUY_NONE)) return false;
    if (fa->deflt != QUY_NONE) {
        if (fa->deflt >= a->nconsts || fb->deflt >= b->nconsts) return false;
        q_val x = a->consts[fa->deflt], y = b->consts[fb->deflt];
        if (a->const_type[fa->deflt] != b->const_type[fb->deflt]) return false;
        if (a->const_type[fa->deflt] == QT_STRING ? !q_str_eq(x, y) : (x.n != y.n || x.d != y.d)) return false;
    }
    return same_type(a, fa->type, b, fb->type, depth + 1);
}

static bool same_type(const q_program *a, uint32_t ta, const q_program *b, uint32_t tb, int depth)
{
    if (depth > 8 || ta >= a->ntypes || tb >= b->ntypes) return false;
    const q_type *x = &a->types[ta], *y = &b->types[tb];
    if (x->kind != y->kind) return false;
    switch (x->kind) {
    case QT_ENUM:
    case QT_SCALE:
        if (x->count != y->count) return false;
        for (uint32_t i = 0; i < x->count; i++)
            if (!same_str(a, a->members[x->first + i].name, b, b->members[y->first + i].name)) return false;
        return true;
    case QT_LIST: return same_type(a, x->elem, b, y->elem, depth + 1);
    case QT_STRUCT:
        if (x->count != y->count) return false;
        for (uint32_t i = 0; i < x->count; i++)
            if (!same_field(a, &a->fields[x->first + i], b, &b->fields[y->first + i], depth)) return false;
        return true;
    default: return true;
    }
}

/* Kind ka of a and kind kb of b: same fields (names, slots, types,
 * defaults) and the same checks (by their source text). */
static bool same_layout(const q_program *a, uint32_t ka, const q_program *b, uint32_t kb)
{
    const q_kind *x = &a->kinds[ka], *y = &b->kinds[kb];
    if (x->nfields != y->nfields || x->nchecks != y->nchecks) return false;
    for (uint32_t i = 0; i < x->nfields; i++)
        if (!same_field(a, &a->fields[x->first_field + i], b, &b->fields[y->first_field + i], 0)) return false;
    for (uint32_t i = 0; i < x->nchecks; i++) {
        const q_check *ca = &a->checks[x->first_check + i], *cb = &b->checks[y->first_check + i];
        if (!same_str(a, ca->text, b, cb->text) || ca->field - x->first_field != cb->field - y->first_field) return false;
    }
    return true;
}

size_t dr_in_warnings(const dr_in *in) { return in->nwarnings; }

/* Does program p declare a field of this name in any kind? */
static bool knows_field(const q_program *p, const char *name)
{
    for (uint32_t k = 0; k < p->nkinds; k++)
        if (prog_find_field(p, k, name, strlen(name)) != QUY_NONE) return true;
    return false;
}

typedef struct warn_ctx {
    dr_in *in;
    int side;
} warn_ctx;

static warn_ctx warn_ctxs[2]; /* the reader callbacks' contexts (one input open at a time) */

static void on_warning(void *ctx, const rec_error *w)
{
    warn_ctx *wc = ctx;
    dr_in *in = wc->in;
    /* A field the other ruleset declares is expected in a diff (a variant
     * adds fields): not worth a warning. */
    if (!strcmp(w->code, "unknown_field") && knows_field(in->p[1 - wc->side], w->field)) return;
    for (size_t i = 0; i < in->nwarned; i++)
        if (!strcmp(in->warned[i], w->field)) return;
    /* out of memory to remember the field: warned again next time, never silent */
    char *dup = VEC_RESERVE(in->warned, in->nwarned, in->capwarned, 1) == 0 ? strdup(w->field) : NULL;
    if (dup) in->warned[in->nwarned++] = dup;
    in->nwarnings++;
    fprintf(stderr, "%s:%u: warning: %s%s%s%s\n", w->file, w->line, w->id[0] ? "record '" : "", w->id,
            w->id[0] ? "': " : "", w->message);
}

FILE *dr_spool_stdin(void)
{
    FILE *w = tmpfile();
    if (!w) {
        fprintf(stderr, "quy diff: cannot copy standard input to a temporary file: %s\n", strerror(errno));
        return NULL;
    }
    char buf[65536]; /* one chunk of the copy: the loop copies everything */
    size_t n;
    bool ok = true;
    while (ok && (n = fread(buf, 1, sizeof buf, stdin)) > 0) ok = fwrite(buf, 1, n, w) == n;
    if (!ok || ferror(stdin) || fflush(w) != 0) {
        fprintf(stderr, "quy diff: cannot copy standard input to a temporary file: %s\n", strerror(errno));
        fclose(w);
        return NULL;
    }
    rewind(w);
    return w;
}

/* A second handle with its own offset on the file behind f (standard
 * input spooled, or records given in memory, have no path of their own). */
static FILE *reopen(const char *path, FILE *f)
{
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fileno(f));
    FILE *g = fileno(f) >= 0 ? fopen(proc, "rb") : NULL;
    return g ? g : fopen(path, "rb");
}

dr_in *dr_in_open(const char *path, FILE *f, const q_program *const p[2], size_t base)
{
    dr_in *in = calloc(1, sizeof *in);
    if (!in) return NULL;
    in->index = base;
    in->p[0] = p[0];
    in->p[1] = p[1];
    if (!(in->name = strdup(path))) {
        fprintf(stderr, "quy diff: out of memory\n");
        free(in);
        return NULL;
    }
    /* Sniff: skip a BOM and white space; '{' = JSON Lines, anything else
     * (a JSON array, CSV) goes to one reader per program. */
    rewind(f);
    char head[3];
    size_t nh = 0;
    int c = 0;
    while ((c = getc(f)) != EOF) {
        if (nh < 3) head[nh] = (char)c;
        nh++;
        if (nh <= 3 && (uint8_t)c >= 0x80) continue; /* BOM bytes */
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n') break;
    }
    bool jsonl = c == '{';
    in->skip_bom = jsonl && nh >= 3 && !memcmp(head, "\xEF\xBB\xBF", 3);
    rewind(f);
    in->f[0] = f;
    in->lockstep = !jsonl;
    if (in->lockstep) {
        in->f[1] = reopen(path, f);
        in->own[1] = true;
        if (!in->f[1]) {
            fprintf(stderr, "quy diff: %s: %s\n", path, strerror(errno));
            free(in->name);
            free(in);
            return NULL;
        }
    }
    in->same_kind = malloc((p[0]->nkinds ? p[0]->nkinds : 1) * sizeof *in->same_kind);
    if (!in->same_kind) {
        dr_in_close(in);
        return NULL;
    }
    for (uint32_t k = 0; k < p[0]->nkinds; k++) {
        const char *name = prog_str(p[0], p[0]->kinds[k].name);
        uint32_t kb = prog_find_kind(p[1], name, strlen(name));
        in->same_kind[k] = kb != QUY_NONE && same_layout(p[0], k, p[1], kb) ? kb : QUY_NONE;
    }
    for (int s = 0; s < 2; s++) {
        in->rd[s] = rec_reader_open(p[s], in->lockstep ? in->f[s] : NULL, path, in->lockstep ? REC_AUTO : REC_JSONL);
        in->hooks[s] = hook_session_new(p[s], NULL);
        if (in->rd[s]) rec_reader_set_hooks(in->rd[s], in->hooks[s]);
        if (!in->rd[s] || !in->hooks[s]) {
            fprintf(stderr, "quy diff: out of memory\n");
            dr_in_close(in);
            return NULL;
        }
        warn_ctxs[s] = (warn_ctx){in, s};
        rec_reader_on_warning(in->rd[s], on_warning, &warn_ctxs[s]);
        in->dec.rd[s] = in->rd[s];
    }
    in->dec.name = in->name;
    in->dec.same_kind = in->same_kind;
    return in;
}

void dr_in_close(dr_in *in)
{
    if (!in) return;
    for (int s = 0; s < 2; s++) {
        rec_reader_free(in->rd[s]);
        hook_session_free(in->hooks[s]);
        if (in->own[s] && in->f[s]) fclose(in->f[s]);
    }
    dr_pipe_free(in->pipe);
    if (in->dec.obj) json_decref(in->dec.obj);
    free(in->buf);
    free(in->dec.names);
    free(in->same_kind);
    free(in->name);
    for (size_t i = 0; i < in->nwarned; i++) free(in->warned[i]);
    free(in->warned);
    free(in);
}

static void both_rejected(const char *name, uint32_t line, dr_pair *out, const char *code, const char *field,
                          const char *id, const char *msg)
{
    for (int s = 0; s < 2; s++) {
        rec_error *e = &out->err[s];
        memset(e, 0, sizeof *e);
        /* the runtime's bounded copies: a text too long ends in "…" (the
         * record's file is also kept whole: dr_pair.file) */
        rec_mark_cut(e->file, sizeof e->file, snprintf(e->file, sizeof e->file, "%s", name));
        e->line = line;
        rec_mark_cut(e->id, sizeof e->id, snprintf(e->id, sizeof e->id, "%s", id ? id : ""));
        rec_mark_cut(e->field, sizeof e->field, snprintf(e->field, sizeof e->field, "%s", field));
        snprintf(e->code, sizeof e->code, "%s", code); /* a code of ours: "bad_json" */
        rec_mark_cut(e->message, sizeof e->message, snprintf(e->message, sizeof e->message, "%s", msg));
        out->rc[s] = -1;
        out->rec[s] = NULL;
    }
}

static const char *obj_str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static bool blank_line(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n') return false;
    return true;
}

/* Room for the decoded names of one line (fewer bytes than the line). */
static int names_room(dr_dec *d, size_t need)
{
    if (need <= d->names_cap) return 0;
    char *nb = realloc(d->names, need);
    if (!nb) return -1;
    d->names = nb;
    d->names_cap = need;
    return 0;
}

/* One JSON Lines record (text: n bytes with its line end, writable) decoded
 * for both programs into *out (line, file and index already set); what it
 * points to lives in d until the next call. 0, or -1 when out of memory. */
static int decode_line(dr_dec *d, char *text, size_t n, dr_pair *out)
{
    if (d->obj) {
        json_decref(d->obj);
        d->obj = NULL;
    }
    size_t tn = n;
    while (tn && (text[tn - 1] == '\n' || text[tn - 1] == '\r')) tn--;
    /* kind, id and peer_group name the record in the tallies (even when
     * both rulesets reject it): found by the runtime's JSON scanner, and
     * only where it cannot tell (invalid JSON, rare escapes and numbers) by
     * jansson, whose message an invalid line keeps; the record itself is
     * decoded from the text by the runtime's reader (exact numbers) */
    static const char *const names[3] = {"kind", "id", "peer_group"};
    rec_span sp[3];
    char saved = text[tn];
    text[tn] = 0;
    int fast = rec_json_top_strings(text, tn, names, 3, sp);
    text[tn] = saved;
    if (fast) {
        const char **dst[3] = {&out->kind, &out->id, &out->peer_group};
        if (names_room(d, tn + 3)) return -1;
        char *w = d->names;
        for (int k = 0; k < 3; k++) {
            if (!sp[k].s) continue;
            size_t len = sp[k].esc ? rec_json_unescape(sp[k].s, sp[k].len, w) : sp[k].len;
            if (!sp[k].esc) memcpy(w, sp[k].s, len);
            w[len] = 0;
            *dst[k] = w;
            w += len + 1;
        }
    } else {
        json_error_t je;
        json_t *obj = json_loadb(text, n, 0, &je);
        if (!obj) {
            char msg[512]; /* room for all of it: je.text is at most JSON_ERROR_TEXT_LENGTH (160) bytes */
            snprintf(msg, sizeof msg, "JSON không hợp lệ ở cột %d: %s (invalid JSON)", je.column, je.text);
            both_rejected(d->name, out->line, out, "bad_json", "", NULL, msg);
            return 0;
        }
        d->obj = obj;
        out->kind = obj_str(obj, "kind");
        out->id = obj_str(obj, "id");
        out->peer_group = obj_str(obj, "peer_group");
    }
    for (int s = 0; s < 2; s++) {
        if (s == 1 && out->rc[0] == 1 && d->same_kind[out->rec[0]->kind] != QUY_NONE) {
            /* the same layout in both programs: the old decoder's record,
             * with the new program's kind index */
            d->alias = *out->rec[0];
            d->alias.kind = d->same_kind[out->rec[0]->kind];
            out->rec[1] = &d->alias;
            out->rc[1] = 1;
            continue;
        }
        out->rc[s] = rec_decode_text(d->rd[s], text, tn, out->line, &out->rec[s], &out->err[s]);
        if (out->rc[s] != 1) out->rec[s] = NULL;
    }
    return 0;
}

/* The next non-blank line: its length (with its line end) and *text, 0 at
 * the end, -1 on a read error (said). Counts lines and records. */
static long next_text(dr_in *in, char **text)
{
    for (;;) {
        errno = 0;
        ssize_t n = getline(&in->buf, &in->bufcap, in->f[0]);
        if (n < 0) {
            if (ferror(in->f[0])) {
                fprintf(stderr, "quy diff: %s: read error: %s\n", in->name, strerror(errno));
                in->io_error = true;
                return -1;
            }
            return 0;
        }
        in->line++;
        char *t = in->buf;
        if (in->line == 1 && in->skip_bom && n >= 3 && !memcmp(t, "\xEF\xBB\xBF", 3)) {
            t += 3;
            n -= 3;
        }
        if (blank_line(t, (size_t)n)) continue;
        *text = t;
        return (long)n;
    }
}

static int next_jsonl(dr_in *in, dr_pair *out, const uint8_t *want, size_t nwant)
{
    char *text;
    long n = next_text(in, &text);
    if (n <= 0) return (int)n;
    memset(out, 0, DR_PAIR_HEAD);
    out->line = in->line;
    out->file = in->name;
    size_t idx = in->index++;
    out->index = idx;
    if (want && (idx >= nwant || !(want[idx / 8] >> (idx % 8) & 1u))) return 1; /* not wanted: rc 0 */
    if (decode_line(&in->dec, text, (size_t)n, out) != 0) {
        fprintf(stderr, "quy diff: out of memory\n");
        in->io_error = true;
        return -1;
    }
    return 1;
}

static int next_lockstep(dr_in *in, dr_pair *out)
{
    memset(out, 0, DR_PAIR_HEAD);
    out->file = in->name;
    int rc[2];
    for (int s = 0; s < 2; s++) {
        rc[s] = rec_reader_next(in->rd[s], &out->rec[s], &out->err[s]);
        if (rc[s] != 1) out->rec[s] = NULL;
        out->rc[s] = rc[s];
    }
    if (rc[0] == 0 && rc[1] == 0) return 0;
    uint32_t line[2];
    for (int s = 0; s < 2; s++) line[s] = rc[s] == 1 ? out->rec[s]->line : out->err[s].line;
    for (int s = 0; s < 2; s++) {
        if (rc[s] < 0 && !strcmp(out->err[s].code, "io")) {
            fprintf(stderr, "quy diff: %s: %s\n", in->name, out->err[s].message);
            in->io_error = true;
            return -1;
        }
    }
    if (rc[0] == 0 || rc[1] == 0 || line[0] != line[1]) {
        fprintf(stderr,
                "quy diff: %s: the two rulesets' readers disagree on where record %u ends (line %u / %u); "
                "convert the input to JSON Lines\n",
                in->name, in->line + 1, line[0], line[1]);
        in->io_error = true;
        return -1;
    }
    in->line++;
    out->line = line[0];
    out->index = in->index++;
    for (int s = 0; s < 2; s++) {
        if (rc[s] == 1) {
            if (!out->id) out->id = out->rec[s]->id;
            if (!out->kind) out->kind = prog_str(in->p[s], in->p[s]->kinds[out->rec[s]->kind].name);
        } else if (!out->id && out->err[s].id[0]) {
            out->id = out->err[s].id;
        }
    }
    return 1;
}

/* =====================================================================
 * JSON Lines decoded on worker threads (dr_in_set_jobs)
 *
 * This thread reads the lines (next_text: line numbers, the BOM, blank
 * lines, read errors as before) into blocks; each worker decodes a block's
 * lines for both programs with readers and hook sessions of its own
 * (decode_line, as this thread would) and copies the records, names and
 * errors into the block; dr_in_next hands the records out in input order.
 * The readers' warnings are passed on raw and replayed here, in order,
 * through this thread's readers (their once-per-field sets, on_warning),
 * so the messages are exactly the serial ones. Rating stays on this thread
 * (the rating sources). At most 2 * jobs + 2 blocks are in flight.
 * ===================================================================== */

enum { PIPE_RECORDS = 256 };
enum { P_FREE, P_READY, P_BUSY, P_DONE };

typedef struct p_warn {
    int side;
    rec_error w;
    size_t key_at, key_len; /* in p_block.keys */
} p_warn;

typedef struct p_rec {
    size_t at, len;         /* the line in p_block.text */
    uint32_t warn_first, nwarn;
    dr_pair pr;             /* cleared up to pr.err (p_fill) */
    q_record alias;         /* pr.rec[1] when the layouts agree: pr.rec[0]'s copy, the new program's kind */
    vm_result res[2];       /* pr.res[s] points here when rated ahead */
} p_rec;

typedef struct p_block {
    int state;
    bool oom;
    char *text;             /* the lines, back to back, each with a spare byte */
    size_t ntext, captext;
    p_rec *recs;
    size_t n, cap;
    p_warn *warns;
    size_t nwarns, capwarns;
    char *keys;
    size_t nkeys, capkeys;
    q_arena copies;         /* records and names (chunks never move) */
} p_block;

typedef struct p_worker p_worker;

typedef struct p_wctx {
    p_worker *wk;
    int side;
} p_wctx;

struct p_worker {
    dr_pipe *pp;
    p_wctx wctx[2];
    pthread_t th;
    bool started;
    dr_dec dec;
    hook_session *hooks[2];
    p_block *blk;
    size_t at;
};

struct dr_pipe {
    pthread_mutex_t mu;
    pthread_cond_t work, done;
    bool sync_ok, quit, eof;
    p_block *blocks;
    size_t nblocks, head, fill, inflight;
    p_worker *w;
    unsigned nw;
    p_block *cur; /* the block being handed out (done), cur_i its next record */
    size_t cur_i;
    const q_program *p[2];
    dr_src *src[2]; /* rate ahead for these (NULL: decode only) */
};

/* A copy of s in the block's arena; NULL (and the block marked) when out of memory. */
static const char *p_str(p_block *b, const char *s)
{
    const char *d = q_arena_strdup(&b->copies, s);
    if (s && !d) b->oom = true;
    return d;
}

/* A warning of a worker's reader: kept for the replay. */
static void p_on_warning(void *ctx, const rec_error *w)
{
    p_wctx *wc = ctx;
    p_block *b = wc->wk->blk;
    size_t klen;
    const char *key = rec_reader_warn_key(wc->wk->dec.rd[wc->side], &klen);
    if (VEC_RESERVE(b->warns, b->nwarns, b->capwarns, 1) != 0 || VEC_RESERVE(b->keys, b->nkeys, b->capkeys, klen + 1) != 0) {
        b->oom = true;
        return;
    }
    memcpy(b->keys + b->nkeys, key, klen);
    b->warns[b->nwarns++] = (p_warn){wc->side, *w, b->nkeys, klen};
    b->nkeys += klen;
    b->recs[wc->wk->at].nwarn++;
}

static void p_decode(p_worker *wk, p_block *b)
{
    const q_program *const *p = wk->pp->p;
    wk->blk = b;
    for (size_t i = 0; i < b->n && !b->oom; i++) {
        wk->at = i;
        b->recs[i].warn_first = (uint32_t)b->nwarns;
        dr_pair *pr = &b->recs[i].pr;
        if (decode_line(&wk->dec, b->text + b->recs[i].at, b->recs[i].len, pr) != 0) {
            b->oom = true;
            break;
        }
        pr->kind = p_str(b, pr->kind);
        pr->id = p_str(b, pr->id);
        pr->peer_group = p_str(b, pr->peer_group);
        for (int s = 0; s < 2; s++) {
            if (pr->rc[s] != 1) continue;
            if (s == 1 && pr->rec[1] == &wk->dec.alias) { /* one copy serves both */
                b->recs[i].alias = *pr->rec[0];
                b->recs[i].alias.kind = wk->dec.alias.kind;
                pr->rec[1] = &b->recs[i].alias;
            } else {
                void *m = q_arena_alloc(&b->copies, rec_copy_size(p[s], pr->rec[s]));
                if (!m) {
                    b->oom = true;
                    break;
                }
                pr->rec[s] = rec_copy_into(p[s], pr->rec[s], m);
            }
            const dr_src *src = wk->pp->src[s];
            if (src && batch_rates_at_read(src->b, pr->rec[s])) {
                vm_rate(p[s], wk->hooks[s], pr->rec[s], &b->recs[i].res[s], NULL);
                pr->res[s] = &b->recs[i].res[s];
            }
        }
    }
    wk->blk = NULL;
}

static void *p_main(void *arg)
{
    p_worker *wk = arg;
    dr_pipe *pp = wk->pp;
    pthread_mutex_lock(&pp->mu);
    for (;;) {
        p_block *b = NULL;
        for (size_t k = 0; k < pp->nblocks && !b; k++) {
            p_block *c = &pp->blocks[(pp->head + k) % pp->nblocks];
            if (c->state == P_READY) b = c;
        }
        if (b) {
            b->state = P_BUSY;
            pthread_mutex_unlock(&pp->mu);
            p_decode(wk, b);
            pthread_mutex_lock(&pp->mu);
            b->state = P_DONE;
            pthread_cond_broadcast(&pp->done);
            continue;
        }
        if (pp->quit) break;
        pthread_cond_wait(&pp->work, &pp->mu);
    }
    pthread_mutex_unlock(&pp->mu);
    return NULL;
}

static void dr_pipe_free(dr_pipe *pp)
{
    if (!pp) return;
    if (pp->sync_ok) {
        pthread_mutex_lock(&pp->mu);
        pp->quit = true;
        pthread_cond_broadcast(&pp->work);
        pthread_mutex_unlock(&pp->mu);
        for (unsigned i = 0; i < pp->nw; i++)
            if (pp->w[i].started) pthread_join(pp->w[i].th, NULL);
        pthread_mutex_destroy(&pp->mu);
        pthread_cond_destroy(&pp->work);
        pthread_cond_destroy(&pp->done);
    }
    for (unsigned i = 0; pp->w && i < pp->nw; i++) {
        p_worker *wk = &pp->w[i];
        for (int s = 0; s < 2; s++) {
            rec_reader_free(wk->dec.rd[s]);
            if (!pp->src[s]) hook_session_free(wk->hooks[s]); /* else the batch's (batch_adopt_hooks) */
        }
        if (wk->dec.obj) json_decref(wk->dec.obj);
        free(wk->dec.names);
    }
    for (size_t k = 0; pp->blocks && k < pp->nblocks; k++) {
        p_block *b = &pp->blocks[k];
        free(b->text);
        free(b->recs);
        free(b->warns);
        free(b->keys);
        q_arena_free(&b->copies);
    }
    free(pp->w);
    free(pp->blocks);
    free(pp);
}

static dr_pipe *p_start(dr_in *in)
{
    dr_pipe *pp = calloc(1, sizeof *pp);
    if (!pp) return NULL;
    pp->p[0] = in->p[0];
    pp->p[1] = in->p[1];
    pp->src[0] = in->src[0];
    pp->src[1] = in->src[1];
    pp->nblocks = 2 * (size_t)in->jobs + 2;
    pp->blocks = calloc(pp->nblocks, sizeof *pp->blocks);
    pp->w = calloc(in->jobs, sizeof *pp->w);
    if (!pp->blocks || !pp->w) {
        dr_pipe_free(pp);
        return NULL;
    }
    pthread_mutex_init(&pp->mu, NULL);
    pthread_cond_init(&pp->work, NULL);
    pthread_cond_init(&pp->done, NULL);
    pp->sync_ok = true;
    for (unsigned i = 0; i < in->jobs; i++) {
        p_worker *wk = &pp->w[i];
        wk->pp = pp;
        pp->nw = i + 1;
        wk->dec.name = in->name;
        wk->dec.same_kind = in->same_kind;
        for (int s = 0; s < 2; s++) {
            wk->dec.rd[s] = rec_reader_open(in->p[s], NULL, in->name, REC_JSONL);
            wk->hooks[s] = hook_session_new(in->p[s], NULL);
            if (wk->hooks[s] && pp->src[s] && batch_adopt_hooks(pp->src[s]->b, wk->hooks[s]) != 0) {
                hook_session_free(wk->hooks[s]);
                wk->hooks[s] = NULL;
            }
            if (!wk->dec.rd[s] || !wk->hooks[s]) {
                dr_pipe_free(pp);
                return NULL;
            }
            rec_reader_set_hooks(wk->dec.rd[s], wk->hooks[s]);
            wk->wctx[s] = (p_wctx){wk, s};
            rec_reader_on_warning(wk->dec.rd[s], p_on_warning, &wk->wctx[s]);
            rec_reader_warn_raw(wk->dec.rd[s], true);
        }
        if (pthread_create(&wk->th, NULL, p_main, wk) != 0) {
            dr_pipe_free(pp);
            return NULL;
        }
        wk->started = true;
    }
    return pp;
}

/* Fill the block at pp->fill with the next lines and hand it to the
 * workers; false at the end of the input or on a read error. */
static bool p_fill(dr_in *in, dr_pipe *pp)
{
    p_block *b = &pp->blocks[pp->fill];
    b->n = b->ntext = b->nwarns = b->nkeys = 0;
    b->oom = false;
    q_arena_reset(&b->copies);
    bool more = true;
    while (b->n < PIPE_RECORDS) {
        char *text;
        long n = next_text(in, &text);
        if (n <= 0) {
            more = false;
            break;
        }
        if (VEC_RESERVE(b->recs, b->n, b->cap, 1) != 0) {
            b->oom = true;
            more = false;
            break;
        }
        if (VEC_RESERVE(b->text, b->ntext, b->captext, (size_t)n + 1) != 0) {
            b->oom = true;
            more = false;
            break;
        }
        memcpy(b->text + b->ntext, text, (size_t)n);
        p_rec *pr = &b->recs[b->n++];
        memset(pr, 0, offsetof(p_rec, pr) + DR_PAIR_HEAD);
        pr->at = b->ntext;
        pr->len = (size_t)n;
        b->ntext += (size_t)n + 1;
        pr->pr.line = in->line;
        pr->pr.file = in->name;
        pr->pr.index = in->index++;
    }
    if (b->n || b->oom) {
        pthread_mutex_lock(&pp->mu);
        b->state = P_READY;
        pthread_cond_signal(&pp->work);
        pthread_mutex_unlock(&pp->mu);
        pp->fill = (pp->fill + 1) % pp->nblocks;
        pp->inflight++;
    }
    return more;
}

/* The next record, decoded by a worker, in input order. */
static int pipe_next(dr_in *in, dr_pair *out)
{
    dr_pipe *pp = in->pipe;
    if (!pp && !(pp = in->pipe = p_start(in))) {
        fprintf(stderr, "quy diff: out of memory (or no thread)\n");
        in->io_error = true;
        return -1;
    }
    while (!pp->cur || pp->cur_i == pp->cur->n) {
        if (pp->cur) { /* handed out: free again */
            pthread_mutex_lock(&pp->mu);
            pp->cur->state = P_FREE;
            pp->head = (pp->head + 1) % pp->nblocks;
            pthread_mutex_unlock(&pp->mu);
            pp->cur = NULL;
            pp->inflight--;
        }
        while (!pp->eof && pp->inflight < pp->nblocks) pp->eof = !p_fill(in, pp);
        if (!pp->inflight) return in->io_error ? -1 : 0;
        p_block *b = &pp->blocks[pp->head];
        pthread_mutex_lock(&pp->mu);
        while (b->state != P_DONE) pthread_cond_wait(&pp->done, &pp->mu);
        pthread_mutex_unlock(&pp->mu);
        if (b->oom) {
            fprintf(stderr, "quy diff: out of memory\n");
            in->io_error = true;
            return -1;
        }
        pp->cur = b;
        pp->cur_i = 0;
    }
    p_block *b = pp->cur;
    size_t i = pp->cur_i++;
    for (uint32_t k = 0; k < b->recs[i].nwarn; k++) {
        const p_warn *w = &b->warns[b->recs[i].warn_first + k];
        rec_reader_warn_replay(in->rd[w->side], &w->w, b->keys + w->key_at, w->key_len);
    }
    const dr_pair *pr = &b->recs[i].pr;
    memcpy(out, pr, DR_PAIR_HEAD);
    for (int s = 0; s < 2; s++)
        if (pr->rc[s] < 0) out->err[s] = pr->err[s];
    return 1;
}

void dr_in_rate_ahead(dr_in *in, dr_src *const src[2])
{
    in->src[0] = src[0];
    in->src[1] = src[1];
}

void dr_in_set_jobs(dr_in *in, unsigned jobs)
{
    if (!jobs) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        jobs = n < 1 ? 1 : n > 256 ? 256 : (unsigned)n;
    }
    in->jobs = jobs;
}

/* A reader that ran out of memory (or met a read error) rejects the
 * record with code no_memory (io): the diff stops there, as the batch
 * does, rather than count the record as rejected. */
static int fatal_reject(dr_in *in, const dr_pair *pr)
{
    for (int s = 0; s < 2; s++) {
        if (pr->rc[s] >= 0) continue;
        const char *code = pr->err[s].code;
        if (strcmp(code, "no_memory") && strcmp(code, "io")) continue;
        fprintf(stderr, "quy diff: %s:%u: %s\n", in->name, pr->err[s].line ? pr->err[s].line : pr->line,
                pr->err[s].message);
        in->io_error = true;
        return -1;
    }
    return 1;
}

int dr_in_next(dr_in *in, dr_pair *out, const uint8_t *want, size_t nwant)
{
    /* the workers' reader may have met a read error ahead: the records
     * before it are still handed out first, as on one thread */
    int rc;
    if (!in->lockstep && !want && in->jobs > 1 && (in->pipe || !in->io_error)) rc = pipe_next(in, out);
    else if (in->io_error) return -1;
    else rc = in->lockstep ? next_lockstep(in, out) : next_jsonl(in, out, want, nwant);
    return rc == 1 ? fatal_reject(in, out) : rc;
}
