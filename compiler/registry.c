/*
 * registry.c — load and validate rulesets/registry.json, and resolve the
 * ruleset in force for a locality on a date. See registry.h.
 */
#include "registry.h"

#include <ctype.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <utf8proc.h>

#include "../runtime/strbuf.h"
#include "../runtime/value.h"
#include "diag.h"

const char *const reg_level_code[REG__NLEVELS] = {
#define L_CODE(e, code, label) code,
    QUY_REG_LEVELS(L_CODE)
#undef L_CODE
};
const char *const reg_level_label[REG__NLEVELS] = {
#define L_LABEL(e, code, label) label,
    QUY_REG_LEVELS(L_LABEL)
#undef L_LABEL
};

/* ---------------------------------------------------------------------
 * A growing message buffer
 * ------------------------------------------------------------------- */

typedef struct reg_buf {
    strbuf t;       /* the messages (runtime/strbuf.h: out of memory leaves it failed) */
    size_t nerrors;
} reg_buf;

static void buf_vadd(reg_buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void buf_vadd(reg_buf *b, const char *fmt, va_list ap) { strbuf_vprintf(&b->t, fmt, ap); }

static void buf_add(reg_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_add(reg_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_vadd(b, fmt, ap);
    va_end(ap);
}

/* One validation error: "PATH: WHAT: message\n". */
static void bad(reg_buf *b, const char *path, const char *what, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void bad(reg_buf *b, const char *path, const char *what, const char *fmt, ...)
{
    buf_add(b, "%s: %s: ", path, what);
    va_list ap;
    va_start(ap, fmt);
    buf_vadd(b, fmt, ap);
    va_end(ap);
    buf_add(b, "\n");
    b->nerrors++;
}

/* The messages (caller frees), "" if none; NULL when out of memory. */
static char *buf_take(reg_buf *b)
{
    /* no trailing newline: callers print the message as one block */
    while (b->t.n && b->t.s[b->t.n - 1] == '\n') b->t.s[--b->t.n] = 0;
    return strbuf_take(&b->t);
}

/* ---------------------------------------------------------------------
 * Loading
 * ------------------------------------------------------------------- */

char *reg_find(const char *const *dirs, size_t ndirs)
{
    for (size_t i = 0; i < ndirs; i++) {
        size_t sz = strlen(dirs[i]) + sizeof REG_FILE + 2;
        char *p = malloc(sz);
        if (!p) return NULL;
        snprintf(p, sz, "%s/%s", dirs[i], REG_FILE);
        struct stat st;
        if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) return p;
        free(p);
    }
    return NULL;
}

void reg_free(registry *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->nloc; i++) {
        free(r->loc[i].id);
        free(r->loc[i].name);
        free(r->loc[i].full_name);
        free(r->loc[i].code);
        free(r->loc[i].note);
    }
    for (size_t i = 0; i < r->nrs; i++) {
        free(r->rs[i].ruleset);
        free(r->rs[i].document);
        free(r->rs[i].source);
        free(r->rs[i].note);
        free(r->rs[i].provisional);
    }
    free(r->loc);
    free(r->rs);
    free(r->path);
    free(r);
}

/* Every key of `obj` must be one of `keys` (NULL-terminated). */
static void check_keys(reg_buf *b, const char *path, const char *what, json_t *obj, const char *const *keys)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        size_t n = 0;
        bool ok = false;
        for (; keys[n]; n++) ok |= strcmp(keys[n], k) == 0;
        if (ok) continue;
        const char *sug = diag_suggest(k, keys, n);
        if (sug)
            bad(b, path, what, "unknown key '%s'; did you mean '%s'?", k, sug);
        else
            bad(b, path, what, "unknown key '%s'", k);
    }
}

/* A string member: required or optional (NULL/absent allowed). */
static char *get_str(reg_buf *b, const char *path, const char *what, json_t *obj, const char *key, bool required)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) {
        if (required) bad(b, path, what, "'%s' is required", key);
        return NULL;
    }
    if (!json_is_string(v)) {
        bad(b, path, what, "'%s' must be a string%s", key, required ? "" : " or null");
        return NULL;
    }
    if (required && json_string_length(v) == 0) {
        bad(b, path, what, "'%s' must not be empty", key);
        return NULL;
    }
    char *s = strdup(json_string_value(v));
    if (!s) bad(b, path, what, "out of memory");
    return s;
}

/* A date member "YYYY-MM-DD"; *ok false if present and invalid. */
static bool get_date(reg_buf *b, const char *path, const char *what, json_t *obj, const char *key, bool required,
                     int64_t *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) {
        if (required) bad(b, path, what, "'%s' is required (a date YYYY-MM-DD)", key);
        return false;
    }
    int64_t d;
    if (!json_is_string(v)) {
        bad(b, path, what, "'%s' must be a date string YYYY-MM-DD%s", key, required ? "" : " or null");
        return false;
    }
    if (json_string_length(v) != 10 || !q_parse_date(json_string_value(v), 10, &d)) {
        bad(b, path, what, "'%s' is not a valid date YYYY-MM-DD: \"%s\"", key, json_string_value(v));
        return false;
    }
    *out = d;
    return true;
}

static bool slug_ok(const char *s)
{
    if (!*s) return false;
    for (; *s; s++)
        if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '-')) return false;
    return true;
}

static bool ruleset_name_ok(const char *s)
{
    if (!*s) return false;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '-' || *s == '_')) return false;
    return true;
}

static int find_loc_id(const registry *r, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (r->loc[i].id && strcmp(r->loc[i].id, id) == 0) return (int)i;
    return -1;
}

static int find_rs(const registry *r, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (r->rs[i].ruleset && strcmp(r->rs[i].ruleset, name) == 0) return (int)i;
    return -1;
}

static void fmt_date(int64_t d, char *buf)
{
    if (d == REG_OPEN_END)
        strcpy(buf, "open");
    else
        q_format_date(d, buf);
}

static void load_localities(registry *r, reg_buf *b, json_t *arr, char **parents)
{
    static const char *const keys[] = {"id", "name", "full_name", "code", "level", "parent", "note", NULL};
    const char *path = r->path;
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o) {
        char what[160];
        reg_locality *L = &r->loc[r->nloc];
        memset(L, 0, sizeof *L);
        L->parent = -1;
        json_t *jid = json_is_object(o) ? json_object_get(o, "id") : NULL;
        if (jid && json_is_string(jid))
            snprintf(what, sizeof what, "locality '%s'", json_string_value(jid));
        else
            snprintf(what, sizeof what, "localities[%zu]", i);
        if (!json_is_object(o)) {
            bad(b, path, what, "must be an object");
            continue;
        }
        check_keys(b, path, what, o, keys);
        L->id = get_str(b, path, what, o, "id", true);
        if (L->id && !slug_ok(L->id)) bad(b, path, what, "'id' must be lower-case ASCII letters, digits and '-'");
        if (L->id && find_loc_id(r, r->nloc, L->id) >= 0) bad(b, path, what, "declared twice");
        L->name = get_str(b, path, what, o, "name", true);
        L->full_name = get_str(b, path, what, o, "full_name", false);
        if (!L->full_name && L->name) L->full_name = strdup(L->name);
        L->code = get_str(b, path, what, o, "code", false);
        if (json_object_get(o, "code") == NULL)
            bad(b, path, what, "'code' is required (null when the source gives no administrative code)");
        if (L->code)
            for (size_t k = 0; k < r->nloc; k++)
                if (r->loc[k].code && strcmp(r->loc[k].code, L->code) == 0)
                    bad(b, path, what, "code '%s' is also the code of locality '%s'", L->code, r->loc[k].id);
        L->note = get_str(b, path, what, o, "note", false);
        char *lv = get_str(b, path, what, o, "level", true);
        L->level = REG__NLEVELS;
        if (lv) {
            for (int k = 0; k < REG__NLEVELS; k++)
                if (strcmp(lv, reg_level_code[k]) == 0) L->level = (reg_level)k;
            if (L->level == REG__NLEVELS) {
                const char *sug = diag_suggest(lv, reg_level_code, REG__NLEVELS);
                bad(b, path, what, "unknown level '%s' (trung_uong, tinh, huyen or xa)%s%s%s", lv,
                    sug ? "; did you mean '" : "", sug ? sug : "", sug ? "'?" : "");
            }
            free(lv);
        }
        parents[r->nloc] = get_str(b, path, what, o, "parent", false);
        r->nloc++;
    }
    /* parents, once every id is known */
    for (size_t k = 0; k < r->nloc; k++) {
        reg_locality *L = &r->loc[k];
        if (!parents[k] || !L->id) continue;
        char what[160];
        snprintf(what, sizeof what, "locality '%s'", L->id);
        int p = find_loc_id(r, r->nloc, parents[k]);
        if (p < 0) {
            const char *cand[256];
            size_t n = 0;
            for (size_t j = 0; j < r->nloc && n < 256; j++)
                if (r->loc[j].id) cand[n++] = r->loc[j].id;
            const char *sug = diag_suggest(parents[k], cand, n);
            bad(b, path, what, "unknown parent '%s'%s%s%s", parents[k], sug ? "; did you mean '" : "", sug ? sug : "",
                sug ? "'?" : "");
            continue;
        }
        if ((size_t)p == k) {
            bad(b, path, what, "is its own parent");
            continue;
        }
        /* levels strictly descend from parent to child: no cycles */
        if (L->level != REG__NLEVELS && r->loc[p].level != REG__NLEVELS && r->loc[p].level >= L->level) {
            bad(b, path, what, "level '%s' is not below its parent '%s' (level '%s')", reg_level_code[L->level],
                r->loc[p].id, reg_level_code[r->loc[p].level]);
            continue;
        }
        L->parent = p;
    }
}

static void load_rulesets(registry *r, reg_buf *b, json_t *arr)
{
    static const char *const keys[] = {"ruleset", "locality", "document", "source", "effective", "until",
                                       "superseded_by", "note", "provisional", NULL};
    const char *path = r->path;
    size_t i;
    json_t *o;
    char **succ = calloc(json_array_size(arr) + 1, sizeof *succ);
    bool *dates_ok = calloc(json_array_size(arr) + 1, sizeof *dates_ok);
    if (!succ || !dates_ok) {
        free(succ);
        free(dates_ok);
        bad(b, path, "rulesets", "out of memory");
        return;
    }
    json_array_foreach(arr, i, o) {
        char what[160];
        reg_entry *E = &r->rs[r->nrs];
        memset(E, 0, sizeof *E);
        E->locality = -1;
        E->superseded_by = -1;
        E->until = REG_OPEN_END;
        json_t *jn = json_is_object(o) ? json_object_get(o, "ruleset") : NULL;
        if (jn && json_is_string(jn))
            snprintf(what, sizeof what, "ruleset '%s'", json_string_value(jn));
        else
            snprintf(what, sizeof what, "rulesets[%zu]", i);
        if (!json_is_object(o)) {
            bad(b, path, what, "must be an object");
            continue;
        }
        check_keys(b, path, what, o, keys);
        E->ruleset = get_str(b, path, what, o, "ruleset", true);
        if (E->ruleset && !ruleset_name_ok(E->ruleset))
            bad(b, path, what, "'ruleset' must be a ruleset name (letters, digits, '-', '_')");
        if (E->ruleset && find_rs(r, r->nrs, E->ruleset) >= 0) bad(b, path, what, "listed twice");
        E->document = get_str(b, path, what, o, "document", true);
        E->source = get_str(b, path, what, o, "source", false);
        E->note = get_str(b, path, what, o, "note", false);
        E->provisional = get_str(b, path, what, o, "provisional", false);
        if (E->provisional && !*E->provisional) bad(b, path, what, "'provisional' must say why (a non-empty string), or be left out");
        char *loc = get_str(b, path, what, o, "locality", true);
        if (loc) {
            E->locality = find_loc_id(r, r->nloc, loc);
            if (E->locality < 0) {
                const char *cand[256];
                size_t n = 0;
                for (size_t j = 0; j < r->nloc && n < 256; j++)
                    if (r->loc[j].id) cand[n++] = r->loc[j].id;
                const char *sug = diag_suggest(loc, cand, n);
                bad(b, path, what, "unknown locality '%s'%s%s%s", loc, sug ? "; did you mean '" : "", sug ? sug : "",
                    sug ? "'?" : "");
            }
            free(loc);
        }
        bool ok = get_date(b, path, what, o, "effective", true, &E->effective);
        json_t *ju = json_object_get(o, "until");
        if (ju && !json_is_null(ju)) {
            ok &= get_date(b, path, what, o, "until", false, &E->until);
            if (ok && E->until < E->effective) {
                char d1[16], d2[16];
                fmt_date(E->until, d1);
                fmt_date(E->effective, d2);
                bad(b, path, what, "'until' %s is before 'effective' %s", d1, d2);
                ok = false;
            }
        }
        dates_ok[r->nrs] = ok;
        succ[r->nrs] = get_str(b, path, what, o, "superseded_by", false);
        r->nrs++;
    }
    /* successors and ends */
    for (size_t k = 0; k < r->nrs; k++) {
        reg_entry *E = &r->rs[k];
        E->end = E->until;
        if (!succ[k] || !E->ruleset) continue;
        char what[160];
        snprintf(what, sizeof what, "ruleset '%s'", E->ruleset);
        int s = find_rs(r, r->nrs, succ[k]);
        if (s < 0) {
            const char *cand[256];
            size_t n = 0;
            for (size_t j = 0; j < r->nrs && n < 256; j++)
                if (r->rs[j].ruleset) cand[n++] = r->rs[j].ruleset;
            const char *sug = diag_suggest(succ[k], cand, n);
            bad(b, path, what, "'superseded_by' names an unknown ruleset '%s'%s%s%s", succ[k],
                sug ? "; did you mean '" : "", sug ? sug : "", sug ? "'?" : "");
            dates_ok[k] = false;
            continue;
        }
        if ((size_t)s == k) {
            bad(b, path, what, "is superseded by itself");
            dates_ok[k] = false;
            continue;
        }
        E->superseded_by = s;
        if (!dates_ok[k] || !dates_ok[s]) continue;
        char d1[16], d2[16];
        if (r->rs[s].effective <= E->effective) {
            fmt_date(r->rs[s].effective, d1);
            fmt_date(E->effective, d2);
            bad(b, path, what, "its successor '%s' takes effect on %s, not after this one (%s)", succ[k], d1, d2);
            dates_ok[k] = false;
            continue;
        }
        if (E->until != REG_OPEN_END && E->until >= r->rs[s].effective) {
            fmt_date(E->until, d1);
            fmt_date(r->rs[s].effective, d2);
            bad(b, path, what, "'until' %s is not before its successor '%s' takes effect (%s)", d1, succ[k], d2);
            dates_ok[k] = false;
            continue;
        }
        if (E->until == REG_OPEN_END) E->end = r->rs[s].effective - 1;
    }
    /* one ruleset in force per locality per day */
    for (size_t a = 0; a < r->nrs; a++) {
        for (size_t c = a + 1; c < r->nrs; c++) {
            reg_entry *A = &r->rs[a], *C = &r->rs[c];
            if (!dates_ok[a] || !dates_ok[c] || A->locality < 0 || A->locality != C->locality) continue;
            if (A->effective <= C->end && C->effective <= A->end) {
                char d[16], va[64], vc[64];
                fmt_date(A->effective > C->effective ? A->effective : C->effective, d);
                reg_validity(r, A, va, sizeof va);
                reg_validity(r, C, vc, sizeof vc);
                char what[160];
                snprintf(what, sizeof what, "ruleset '%s'", C->ruleset);
                bad(b, path, what,
                    "in force %s, overlaps ruleset '%s' (%s) of the same locality '%s' on %s: "
                    "give the earlier one 'until' or 'superseded_by'",
                    vc, A->ruleset, va, r->loc[A->locality].id, d);
            }
        }
    }
    for (size_t k = 0; k < r->nrs; k++) free(succ[k]);
    free(succ);
    free(dates_ok);
}

registry *reg_load(const char *path, char **err)
{
    if (err) *err = NULL;
    reg_buf b = {0};
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        if (je.line > 0)
            buf_add(&b, "%s:%d:%d: invalid JSON: %s", path, je.line, je.column, je.text);
        else
            buf_add(&b, "%s: %s", path, je.text);
        if (err) *err = buf_take(&b);
        else strbuf_free(&b.t);
        return NULL;
    }
    registry *r = calloc(1, sizeof *r);
    if (!r || !(r->path = strdup(path))) {
        free(r);
        json_decref(root);
        if (err) *err = strdup("out of memory");
        return NULL;
    }
    static const char *const keys[] = {"format", "note", "localities", "rulesets", NULL};
    if (!json_is_object(root)) {
        bad(&b, path, "top level", "must be an object with 'format', 'localities' and 'rulesets'");
        goto done;
    }
    check_keys(&b, path, "top level", root, keys);
    json_t *fmt = json_object_get(root, "format");
    if (!json_is_string(fmt) || strcmp(json_string_value(fmt), "quy-registry/1") != 0)
        bad(&b, path, "top level", "'format' must be \"quy-registry/1\"");
    json_t *locs = json_object_get(root, "localities"), *rss = json_object_get(root, "rulesets");
    if (!json_is_array(locs)) bad(&b, path, "top level", "'localities' must be an array");
    if (!json_is_array(rss)) bad(&b, path, "top level", "'rulesets' must be an array");
    if (!json_is_array(locs) || !json_is_array(rss)) goto done;
    r->loc = calloc(json_array_size(locs) + 1, sizeof *r->loc);
    r->rs = calloc(json_array_size(rss) + 1, sizeof *r->rs);
    char **parents = calloc(json_array_size(locs) + 1, sizeof *parents);
    if (!r->loc || !r->rs || !parents) {
        free(parents);
        bad(&b, path, "top level", "out of memory");
        goto done;
    }
    load_localities(r, &b, locs, parents);
    for (size_t k = 0; k < r->nloc; k++) free(parents[k]);
    free(parents);
    load_rulesets(r, &b, rss);
done:
    json_decref(root);
    if (b.nerrors) {
        if (err) *err = buf_take(&b);
        else strbuf_free(&b.t);
        reg_free(r);
        return NULL;
    }
    strbuf_free(&b.t);
    return r;
}

/* ---------------------------------------------------------------------
 * Resolution
 * ------------------------------------------------------------------- */

char *reg_fold(const char *s)
{
    utf8proc_uint8_t *m = NULL;
    utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)s, 0, &m,
                                      UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_DECOMPOSE |
                                          UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK);
    if (n < 0) return NULL;
    /* 'đ' (U+0111, after case folding) is 2 bytes, 'd' is 1: in place */
    char *out = (char *)m;
    size_t o = 0;
    bool space = true; /* drop leading spaces */
    for (utf8proc_ssize_t i = 0; i < n; i++) {
        unsigned char c = m[i];
        if (c == 0xC4 && i + 1 < n && m[i + 1] == 0x91) {
            c = 'd';
            i++;
        }
        if (c == '-' || c == '_' || c == ' ' || c == '\t') {
            if (!space) out[o++] = ' ';
            space = true;
            continue;
        }
        out[o++] = (char)c;
        space = false;
    }
    if (o && out[o - 1] == ' ') o--;
    out[o] = 0;
    return out;
}

/* Does the folded key `key` name `s`? */
static bool fold_eq(const char *key, const char *s)
{
    if (!s) return false;
    char *f = reg_fold(s);
    bool eq = f && !strcmp(f, key);
    free(f);
    return eq;
}

int reg_find_locality(const registry *r, const char *what, char **err)
{
    int found = -1;
    reg_buf b = {0};
    char *key = reg_fold(what);
    if (!key) {
        buf_add(&b, "locality '%s' is not valid UTF-8", what);
        if (err) *err = buf_take(&b);
        else strbuf_free(&b.t);
        return -1;
    }
    for (size_t i = 0; i < r->nloc; i++) {
        const reg_locality *L = &r->loc[i];
        if (!fold_eq(key, L->id) && !fold_eq(key, L->code) && !fold_eq(key, L->name) && !fold_eq(key, L->full_name))
            continue;
        if (found >= 0) {
            if (!b.t.n) buf_add(&b, "locality '%s' is ambiguous: it names '%s'", what, r->loc[found].id);
            buf_add(&b, ", '%s'", L->id);
            continue;
        }
        found = (int)i;
    }
    if (b.t.n) {
        free(key);
        buf_add(&b, " (give the id)");
        if (err) *err = buf_take(&b);
        else strbuf_free(&b.t);
        return -1;
    }
    if (found >= 0) {
        free(key);
        return found;
    }
    /* did you mean: over the folded ids, names and full names, answering
     * with the name as written */
    size_t cap = 3 * r->nloc + 1, n = 0;
    char **folded = calloc(cap, sizeof *folded);
    const char **orig = calloc(cap, sizeof *orig);
    for (size_t i = 0; folded && orig && i < r->nloc; i++) { /* out of memory: no suggestion */
        const char *names[3] = {r->loc[i].id, r->loc[i].name, r->loc[i].full_name};
        for (int j = 0; j < 3; j++) {
            char *f = names[j] ? reg_fold(names[j]) : NULL;
            if (!f) continue;
            folded[n] = f;
            orig[n++] = names[j];
        }
    }
    const char *sug = diag_suggest(key, (const char *const *)folded, n);
    const char *sug_orig = NULL;
    for (size_t i = 0; sug && i < n; i++)
        if (folded[i] == sug) sug_orig = orig[i];
    buf_add(&b, "unknown locality '%s' in %s", what, r->path);
    if (sug_orig) buf_add(&b, "; did you mean '%s'?", sug_orig);
    buf_add(&b, " (quy list shows them)");
    for (size_t i = 0; i < n; i++) free(folded[i]);
    free(folded);
    free(orig);
    free(key);
    if (err) *err = buf_take(&b);
    else strbuf_free(&b.t);
    return -1;
}

void reg_validity(const registry *r, const reg_entry *e, char *buf, size_t size)
{
    char a[16], z[16];
    fmt_date(e->effective, a);
    fmt_date(e->end, z);
    size_t n = (size_t)snprintf(buf, size, "%s → %s", a, z);
    if (e->superseded_by >= 0 && n < size)
        snprintf(buf + n, size - n, ", superseded by %s", r->rs[e->superseded_by].ruleset);
}

static const char *loc_name(const reg_locality *L) { return L->full_name ? L->full_name : L->name; }

int reg_resolve(const registry *r, const char *locality, int64_t date, reg_choice *out, char **why)
{
    if (why) *why = NULL;
    memset(out, 0, sizeof *out);
    int li = reg_find_locality(r, locality, why);
    if (li < 0) return -1;
    const reg_locality *asked = &r->loc[li];
    out->asked = asked;
    char day[16], v[128];
    fmt_date(date, day);
    reg_buf b = {0};
    /* the rulesets of the asked locality, and those of the localities
     * between it and the chosen one, are named in the explanation */
    reg_buf skipped = {0};
    for (int l = li; l >= 0; l = r->loc[l].parent) {
        const reg_entry *hit = NULL;
        for (size_t i = 0; i < r->nrs; i++) {
            const reg_entry *e = &r->rs[i];
            if (e->locality == l && e->effective <= date && date <= e->end) hit = e;
        }
        if (hit) {
            out->entry = hit;
            out->from = &r->loc[l];
            reg_validity(r, hit, v, sizeof v);
            if (l == li)
                buf_add(&b, "%s [%s] on %s: %s (%s; in force %s)", loc_name(asked), asked->id, day, hit->ruleset,
                        hit->document, v);
            else
                buf_add(&b, "%s [%s] on %s: %s; using %s of %s [%s], the nearest locality above it with a ruleset in "
                            "force (%s; in force %s)",
                        loc_name(asked), asked->id, day, skipped.t.s ? skipped.t.s : "", hit->ruleset, loc_name(&r->loc[l]), r->loc[l].id,
                        hit->document, v);
            if (hit->provisional)
                buf_add(&b, "; PROVISIONAL (tạm thời): %s", hit->provisional);
            strbuf_free(&skipped.t);
            if (why) *why = buf_take(&b);
            else strbuf_free(&b.t);
            return 0;
        }
        /* "cho-chu: none in force (cho-chu-2024 2024-10-25 → open)" */
        buf_add(&skipped, "%s%s: ", skipped.t.n ? "; " : "", r->loc[l].id);
        size_t mark = skipped.t.n;
        for (size_t i = 0; i < r->nrs; i++) {
            const reg_entry *e = &r->rs[i];
            if (e->locality != l) continue;
            reg_validity(r, e, v, sizeof v);
            buf_add(&skipped, "%s%s %s", skipped.t.n == mark ? "none in force (" : ", ", e->ruleset, v);
        }
        buf_add(&skipped, "%s", skipped.t.n == mark ? "no ruleset registered" : ")");
    }
    strbuf_free(&skipped.t);
    /* none in force up the chain: the nearest in time */
    const reg_entry *best = NULL;
    int64_t bestd = INT64_MAX;
    for (int l = li; l >= 0; l = r->loc[l].parent)
        for (size_t i = 0; i < r->nrs; i++) {
            const reg_entry *e = &r->rs[i];
            if (e->locality != l) continue;
            int64_t d = date < e->effective ? e->effective - date : date - e->end;
            if (d < bestd) {
                bestd = d;
                best = e;
            }
        }
    buf_add(&b, "no ruleset is in force for %s [%s] on %s, nor for a locality above it", loc_name(asked), asked->id,
            day);
    if (best) {
        reg_validity(r, best, v, sizeof v);
        buf_add(&b, "; the nearest is %s of %s [%s], in force %s (%s)", best->ruleset, loc_name(&r->loc[best->locality]),
                r->loc[best->locality].id, v, best->document);
    } else
        buf_add(&b, "; no ruleset is registered for it or above it in %s", r->path);
    if (why) *why = buf_take(&b);
    else strbuf_free(&b.t);
    return -1;
}
