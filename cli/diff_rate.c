/*
 * diff_rate.c — the rating source of `quy diff`: states, dr_rate (rate a
 * corpus with one program), and the input reader that parses each record
 * once and decodes it for both programs (see diff.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
 * Rating
 * ===================================================================== */

bool dr_is_batch(const q_program *p)
{
    /* No batch engine yet: quotas are declared and stored but applied by
     * nothing, caps are ignored, computed fields stay absent. When
     * runtime/batch.h lands, this asks it whether p has batch steps. */
    (void)p;
    return false;
}

void dr_rate(const q_program *p, q_record *const *recs, size_t n, dr_row *rows)
{
    for (size_t i = 0; i < n; i++) {
        dr_row *r = &rows[i];
        memset(r, 0, sizeof *r);
        r->rule = QUY_NONE;
        r->error_pc = QUY_NONE;
        if (!recs[i]) {
            r->status = DR_REJECTED;
            continue;
        }
        vm_result res;
        vm_rate(p, recs[i], &res, NULL);
        if (res.error != VM_OK) {
            r->status = DR_FAILED;
            r->error = res.error;
            r->error_pc = res.error_pc;
            r->error_slot = res.error_slot;
            continue;
        }
        r->status = DR_RATED;
        r->eligible = r->tier = res.outcome;
        r->rule = res.rule;
    }
}

/* =====================================================================
 * Input: one parse, two decodes
 * ===================================================================== */

typedef struct idset { /* 64-bit id hashes -> line first seen (duplicate ids) */
    uint64_t *h;
    uint32_t *line;
    size_t n, cap; /* cap a power of two; slot empty when h == 0 */
} idset;

struct dr_in {
    const q_program *p[2];
    char name[256];
    FILE *f[2];          /* JSONL: f[0] only; lockstep: one per reader */
    bool own[2];         /* close f[s] at the end */
    bool lockstep;
    rec_reader *rd[2];
    /* JSON Lines */
    char *buf;
    size_t bufcap;
    uint32_t line;
    json_t *obj;         /* the current record's object (kept until the next call) */
    bool skip_bom;       /* the file starts with a UTF-8 byte order mark */
    idset ids;
    /* warnings */
    char **warned;
    size_t nwarned, capwarned;
    size_t nwarnings;
    bool io_error;
};

size_t dr_in_warnings(const dr_in *in) { return in->nwarnings; }

static uint64_t hash64(const char *s, size_t n)
{
    /* FNV-1a, then a splitmix64 finaliser; 0 is reserved for "empty". */
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 0x100000001b3ull;
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    h ^= h >> 31;
    return h ? h : 1;
}

/* 0 if added, the first line if already present, UINT32_MAX when out of memory. */
static uint32_t idset_add(idset *s, const char *id, size_t len, uint32_t line)
{
    if (s->n * 2 >= s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 1024;
        uint64_t *nh = calloc(ncap, sizeof *nh);
        uint32_t *nl = calloc(ncap, sizeof *nl);
        if (!nh || !nl) {
            free(nh);
            free(nl);
            return UINT32_MAX;
        }
        for (size_t i = 0; i < s->cap; i++) {
            if (!s->h[i]) continue;
            size_t j = s->h[i] & (ncap - 1);
            while (nh[j]) j = (j + 1) & (ncap - 1);
            nh[j] = s->h[i];
            nl[j] = s->line[i];
        }
        free(s->h);
        free(s->line);
        s->h = nh;
        s->line = nl;
        s->cap = ncap;
    }
    uint64_t h = hash64(id, len);
    size_t j = h & (s->cap - 1);
    while (s->h[j]) {
        if (s->h[j] == h) return s->line[j] ? s->line[j] : 1;
        j = (j + 1) & (s->cap - 1);
    }
    s->h[j] = h;
    s->line[j] = line;
    s->n++;
    return 0;
}

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
    if (in->nwarned == in->capwarned) {
        size_t nc = in->capwarned ? in->capwarned * 2 : 8;
        char **nw = realloc(in->warned, nc * sizeof *nw);
        if (!nw) return;
        in->warned = nw;
        in->capwarned = nc;
    }
    char *dup = strdup(w->field);
    if (!dup) return;
    in->warned[in->nwarned++] = dup;
    in->nwarnings++;
    fprintf(stderr, "%s:%u: warning: %s%s%s%s\n", w->file, w->line, w->id[0] ? "record '" : "", w->id,
            w->id[0] ? "': " : "", w->message);
}

/* Copy standard input to an unlinked temporary file; two independent
 * handles on it (each with its own offset). */
static bool spool_stdin(const char *prefix, size_t plen, FILE *out[2])
{
    const char *dir = getenv("TMPDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/quy-diff-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0) return false;
    FILE *w = fdopen(fd, "w+b");
    if (!w) {
        close(fd);
        unlink(path);
        return false;
    }
    bool ok = fwrite(prefix, 1, plen, w) == plen;
    char buf[65536];
    size_t n;
    while (ok && (n = fread(buf, 1, sizeof buf, stdin)) > 0) ok = fwrite(buf, 1, n, w) == n;
    ok = ok && !ferror(stdin) && fflush(w) == 0;
    out[0] = ok ? fopen(path, "rb") : NULL;
    out[1] = ok ? fopen(path, "rb") : NULL;
    unlink(path);
    fclose(w);
    if (!out[0] || !out[1]) {
        if (out[0]) fclose(out[0]);
        if (out[1]) fclose(out[1]);
        return false;
    }
    return true;
}

dr_in *dr_in_open(const char *path, const q_program *const p[2])
{
    dr_in *in = calloc(1, sizeof *in);
    if (!in) return NULL;
    in->p[0] = p[0];
    in->p[1] = p[1];
    bool is_stdin = !strcmp(path, "-");
    snprintf(in->name, sizeof in->name, "%s", path);
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "quy diff: %s: %s\n", path, strerror(errno));
        free(in);
        return NULL;
    }
    /* Sniff: skip a BOM and white space; '{' = JSON Lines, anything else
     * (a JSON array, CSV) goes to one reader per program. */
    char head[4096];
    size_t nh = 0;
    int c = 0;
    while (nh < sizeof head && (c = getc(f)) != EOF) {
        head[nh++] = (char)c;
        if (nh <= 3 && (uint8_t)c >= 0x80) continue; /* BOM bytes */
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n') break;
    }
    bool jsonl = c == '{';
    in->skip_bom = jsonl && nh >= 3 && !memcmp(head, "\xEF\xBB\xBF", 3);
    if (!is_stdin) {
        rewind(f);
        if (jsonl) {
            in->f[0] = f;
            in->own[0] = true;
        } else {
            in->f[0] = f;
            in->f[1] = fopen(path, "rb");
            in->own[0] = in->own[1] = true;
            if (!in->f[1]) {
                fprintf(stderr, "quy diff: %s: %s\n", path, strerror(errno));
                fclose(f);
                free(in);
                return NULL;
            }
        }
    } else if (jsonl) {
        /* Only white space (and a BOM) was consumed: count its lines and put
         * the '{' back. */
        for (size_t i = 0; i + 1 < nh; i++) in->line += head[i] == '\n';
        in->skip_bom = false;
        ungetc('{', f);
        in->f[0] = f;
    } else {
        if (!spool_stdin(head, nh, in->f)) {
            fprintf(stderr, "quy diff: cannot spool standard input to a temporary file: %s\n", strerror(errno));
            free(in);
            return NULL;
        }
        in->own[0] = in->own[1] = true;
    }
    in->lockstep = !jsonl;
    for (int s = 0; s < 2; s++) {
        in->rd[s] = rec_reader_open(p[s], in->lockstep ? in->f[s] : NULL, path, in->lockstep ? REC_AUTO : REC_JSONL);
        if (!in->rd[s]) {
            fprintf(stderr, "quy diff: out of memory\n");
            dr_in_close(in);
            return NULL;
        }
        warn_ctxs[s] = (warn_ctx){in, s};
        rec_reader_on_warning(in->rd[s], on_warning, &warn_ctxs[s]);
    }
    return in;
}

void dr_in_close(dr_in *in)
{
    if (!in) return;
    for (int s = 0; s < 2; s++) {
        rec_reader_free(in->rd[s]);
        if (in->own[s] && in->f[s]) fclose(in->f[s]);
    }
    if (in->obj) json_decref(in->obj);
    free(in->buf);
    free(in->ids.h);
    free(in->ids.line);
    for (size_t i = 0; i < in->nwarned; i++) free(in->warned[i]);
    free(in->warned);
    free(in);
}

static void both_rejected(dr_in *in, dr_pair *out, const char *code, const char *field, const char *id,
                          const char *msg)
{
    for (int s = 0; s < 2; s++) {
        rec_error *e = &out->err[s];
        memset(e, 0, sizeof *e);
        snprintf(e->file, sizeof e->file, "%s", in->name);
        e->line = in->line;
        snprintf(e->id, sizeof e->id, "%s", id ? id : "");
        snprintf(e->field, sizeof e->field, "%s", field);
        snprintf(e->code, sizeof e->code, "%s", code);
        snprintf(e->message, sizeof e->message, "%s", msg);
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

static int next_jsonl(dr_in *in, dr_pair *out)
{
    if (in->obj) {
        json_decref(in->obj);
        in->obj = NULL;
    }
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
        char *text = in->buf;
        if (in->line == 1 && in->skip_bom && n >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3)) {
            text += 3;
            n -= 3;
        }
        if (blank_line(text, (size_t)n)) continue;
        memset(out, 0, sizeof *out);
        out->line = in->line;
        out->file = in->name;
        json_error_t je;
        json_t *obj = json_loadb(text, (size_t)n, 0, &je);
        if (!obj) {
            char msg[512];
            snprintf(msg, sizeof msg, "JSON không hợp lệ ở cột %d: %s (invalid JSON)", je.column, je.text);
            both_rejected(in, out, "bad_json", "", NULL, msg);
            return 1;
        }
        in->obj = obj;
        out->kind = obj_str(obj, "kind");
        out->id = obj_str(obj, "id");
        out->peer_group = obj_str(obj, "peer_group");
        if (out->id) {
            uint32_t first = idset_add(&in->ids, out->id, strlen(out->id), in->line);
            if (first == UINT32_MAX) {
                both_rejected(in, out, "no_memory", "", out->id, "hết bộ nhớ (out of memory)");
                return 1;
            }
            if (first) {
                char msg[512];
                snprintf(msg, sizeof msg, "mã '%.200s' bị trùng với bản ghi ở dòng %u (duplicate id; first seen at line %u)",
                         out->id, first, first);
                both_rejected(in, out, "duplicate_id", "id", out->id, msg);
                return 1;
            }
        }
        for (int s = 0; s < 2; s++) {
            out->rc[s] = rec_decode_json(in->rd[s], obj, in->line, &out->rec[s], &out->err[s]);
            if (out->rc[s] != 1) out->rec[s] = NULL;
        }
        return 1;
    }
}

static int next_lockstep(dr_in *in, dr_pair *out)
{
    memset(out, 0, sizeof *out);
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

int dr_in_next(dr_in *in, dr_pair *out)
{
    if (in->io_error) return -1;
    return in->lockstep ? next_lockstep(in, out) : next_jsonl(in, out);
}
