/*
 * diff_expect.c — approved moves for `quy diff --expect / --write-expect`.
 *
 * The file is text, one approval per line, fields separated by white
 * space, `#` starts a comment:
 *
 *   # OLD     NEW    CAUSE              COUNT
 *   httnv     htnv   hoan_thanh_tot     12
 *   htxsnv    httnv  hoan_thanh_xuat_sac *
 *
 * OLD / NEW: the record's state under each ruleset — a tier code,
 * not_rated, deferred, rejected, or ELIGIBLE/FINAL when a batch step changed
 * the tier. CAUSE: the cause token of the move (a rule name, a
 * rejected:SIDE:CODE[:FIELD] token, batch, unexplained). COUNT: how many
 * such moves are approved; `*` approves any number. Moves beyond the count,
 * and moves with no line, are not approved. Why this format:
 * docs/testing-guide.md, "quy diff".
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "../runtime/vec.h"

typedef struct dx_entry {
    char *old_state, *new_state, *cause;
    char *label; /* written as a comment after the line, or NULL */
    uint64_t n;
    bool any; /* `*` */
} dx_entry;

struct dx_set {
    dx_entry *e;
    size_t n, cap;
    size_t last; /* last hit: moves come in runs */
};

dx_set *dx_new(void) { return calloc(1, sizeof(dx_set)); }

void dx_free(dx_set *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->e[i].old_state);
        free(s->e[i].new_state);
        free(s->e[i].cause);
        free(s->e[i].label);
    }
    free(s->e);
    free(s);
}

static dx_entry *dx_find(dx_set *s, const char *o, const char *n, const char *c)
{
    if (s->last < s->n) {
        dx_entry *e = &s->e[s->last];
        if (!strcmp(e->cause, c) && !strcmp(e->old_state, o) && !strcmp(e->new_state, n)) return e;
    }
    for (size_t i = 0; i < s->n; i++) {
        dx_entry *e = &s->e[i];
        if (!strcmp(e->cause, c) && !strcmp(e->old_state, o) && !strcmp(e->new_state, n)) {
            s->last = i;
            return e;
        }
    }
    return NULL;
}

static dx_entry *dx_insert(dx_set *s, const char *o, const char *n, const char *c)
{
    dx_entry *e = dx_find(s, o, n, c);
    if (e) return e;
    if (VEC_RESERVE(s->e, s->n, s->cap, 1) != 0) return NULL;
    e = &s->e[s->n];
    e->old_state = strdup(o);
    e->new_state = strdup(n);
    e->cause = strdup(c);
    e->n = 0;
    e->any = false;
    e->label = NULL;
    if (!e->old_state || !e->new_state || !e->cause) {
        free(e->old_state);
        free(e->new_state);
        free(e->cause);
        return NULL;
    }
    s->last = s->n++;
    return e;
}

int dx_add(dx_set *s, const char *old_state, const char *new_state, const char *cause, const char *label, uint64_t n)
{
    dx_entry *e = dx_insert(s, old_state, new_state, cause);
    if (!e) return -1;
    e->n += n;
    if (!e->label && label && *label && !(e->label = strdup(label))) return -1;
    return 0;
}

bool dx_get(const dx_set *s, size_t i, const char **o, const char **n, const char **c, uint64_t *count, bool *any)
{
    if (i >= s->n) return false;
    *o = s->e[i].old_state;
    *n = s->e[i].new_state;
    *c = s->e[i].cause;
    *count = s->e[i].n;
    *any = s->e[i].any;
    return true;
}

/* A state token: tier, not_rated, deferred, rejected, or E/F. */
static bool valid_state(const char *t)
{
    const char *slash = strchr(t, '/');
    if (!slash) return ds_parse(t, strlen(t)) >= 0;
    return ds_parse(t, (size_t)(slash - t)) >= 0 && ds_parse(slash + 1, strlen(slash + 1)) >= 0;
}

dx_set *dx_read(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "quy diff: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    dx_set *s = dx_new();
    char *line = NULL;
    size_t cap = 0;
    unsigned lineno = 0;
    bool ok = s != NULL;
    if (!ok) fprintf(stderr, "quy diff: out of memory\n");
    while (ok && getline(&line, &cap, f) >= 0) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash) *hash = 0;
        char *tok[5];
        int nt = 0;
        for (char *t = strtok(line, " \t\r\n"); t; t = strtok(NULL, " \t\r\n")) {
            if (nt < 5) tok[nt] = t;
            nt++;
        }
        if (nt == 0) continue;
        /* an arrow between the states is allowed: "httnv -> htnv cause 3" */
        if (nt == 5 && !strcmp(tok[1], "->")) {
            tok[1] = tok[2];
            tok[2] = tok[3];
            tok[3] = tok[4];
            nt = 4;
        }
        if (nt != 4) {
            fprintf(stderr, "%s:%u: error: expected 'OLD NEW CAUSE COUNT' (4 fields), found %d\n", path, lineno, nt);
            ok = false;
            break;
        }
        for (int i = 0; i < 2 && ok; i++) {
            if (!valid_state(tok[i])) {
                fprintf(stderr,
                        "%s:%u: error: '%s' is not a state (htxsnv, httnv, htnv, khtnv, not_rated, deferred, "
                        "rejected, or ELIGIBLE/FINAL)\n",
                        path, lineno, tok[i]);
                ok = false;
            }
        }
        if (!ok) break;
        bool any = !strcmp(tok[3], "*");
        char *end = NULL;
        errno = 0;
        unsigned long long n = any ? 0 : strtoull(tok[3], &end, 10);
        if (!any && (errno || !end || *end || !isdigit((unsigned char)tok[3][0]))) {
            fprintf(stderr, "%s:%u: error: COUNT must be a number or '*', found '%s'\n", path, lineno, tok[3]);
            ok = false;
            break;
        }
        dx_entry *e = dx_find(s, tok[0], tok[1], tok[2]);
        if (e) {
            fprintf(stderr, "%s:%u: error: '%s %s %s' is approved twice\n", path, lineno, tok[0], tok[1], tok[2]);
            ok = false;
            break;
        }
        e = dx_insert(s, tok[0], tok[1], tok[2]);
        if (!e) {
            fprintf(stderr, "quy diff: out of memory\n");
            ok = false;
            break;
        }
        e->n = n;
        e->any = any;
    }
    if (ok && ferror(f)) {
        fprintf(stderr, "quy diff: %s: read error\n", path);
        ok = false;
    }
    free(line);
    fclose(f);
    if (!ok) {
        dx_free(s);
        return NULL;
    }
    return s;
}

static int cmp_entry(const void *a, const void *b)
{
    const dx_entry *x = a, *y = b;
    int c = strcmp(x->cause, y->cause);
    if (!c) c = strcmp(x->old_state, y->old_state);
    if (!c) c = strcmp(x->new_state, y->new_state);
    return c;
}

int dx_write(const dx_set *seen, const char *path, const char *old_name, const char *new_name, bool refines)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "w") : stdout;
    if (!f) {
        fprintf(stderr, "quy diff: %s: %s\n", path, strerror(errno));
        return -1;
    }
    dx_entry *sorted = malloc((seen->n ? seen->n : 1) * sizeof *sorted);
    if (!sorted) {
        fprintf(stderr, "quy diff: out of memory\n");
        if (f != stdout) fclose(f);
        return -1;
    }
    if (seen->n) memcpy(sorted, seen->e, seen->n * sizeof *sorted);
    qsort(sorted, seen->n, sizeof *sorted, cmp_entry);
    fprintf(f, "# quy diff: approved moves%s, %s -> %s\n", refines ? " where the new ruleset rates higher (--refines)" : "",
            old_name, new_name);
    fprintf(f, "# One line per move: OLD NEW CAUSE COUNT (COUNT '*' = any number). Sorted by cause.\n");
    fprintf(f, "# Written by --write-expect; review every line before committing it.\n");
    fprintf(f, "# OLD NEW CAUSE COUNT\n");
    size_t w[3] = {3, 3, 5};
    for (size_t i = 0; i < seen->n; i++) {
        size_t l[3] = {strlen(sorted[i].old_state), strlen(sorted[i].new_state), strlen(sorted[i].cause)};
        for (int j = 0; j < 3; j++)
            if (l[j] > w[j]) w[j] = l[j];
    }
    for (size_t i = 0; i < seen->n; i++) {
        char n[32];
        snprintf(n, sizeof n, "%llu", (unsigned long long)sorted[i].n);
        fprintf(f, "%-*s %-*s %-*s %-6s", (int)w[0], sorted[i].old_state, (int)w[1], sorted[i].new_state, (int)w[2],
                sorted[i].cause, n);
        /* the label as a comment, on one line */
        if (sorted[i].label) {
            fputs(" # ", f);
            for (const char *c = sorted[i].label; *c; c++) fputc(*c == '\n' || *c == '\r' ? ' ' : *c, f);
        }
        fputc('\n', f);
    }
    free(sorted);
    int rc = ferror(f) ? -1 : 0;
    if (f != stdout) {
        if (fclose(f) != 0) rc = -1;
    } else {
        fflush(f);
    }
    if (rc) fprintf(stderr, "quy diff: %s: write error\n", path);
    return rc;
}

void dx_check(const dx_set *seen, const dx_set *approved, dx_verdict *v)
{
    v->approved = v->unapproved = 0;
    v->unapproved_list = json_array();
    v->unused_list = json_array();
    for (size_t i = 0; i < seen->n; i++) {
        const dx_entry *e = &seen->e[i];
        dx_entry *a = approved ? dx_find((dx_set *)approved, e->old_state, e->new_state, e->cause) : NULL;
        uint64_t ok = !a ? 0 : a->any ? e->n : (a->n < e->n ? a->n : e->n);
        v->approved += ok;
        if (ok < e->n) {
            v->unapproved += e->n - ok;
            json_t *o = json_object();
            json_object_set_new(o, "old", json_string(e->old_state));
            json_object_set_new(o, "new", json_string(e->new_state));
            json_object_set_new(o, "cause", json_string(e->cause));
            json_object_set_new(o, "count", json_integer((json_int_t)e->n));
            json_object_set_new(o, "approved", json_integer((json_int_t)(a ? a->n : 0)));
            json_array_append_new(v->unapproved_list, o);
        }
    }
    for (size_t i = 0; approved && i < approved->n; i++) {
        const dx_entry *a = &approved->e[i];
        dx_entry *e = dx_find((dx_set *)seen, a->old_state, a->new_state, a->cause);
        uint64_t got = e ? e->n : 0;
        if (a->any ? got == 0 : got < a->n) {
            json_t *o = json_object();
            json_object_set_new(o, "old", json_string(a->old_state));
            json_object_set_new(o, "new", json_string(a->new_state));
            json_object_set_new(o, "cause", json_string(a->cause));
            json_object_set_new(o, "count", json_integer((json_int_t)got));
            if (a->any) json_object_set_new(o, "approved", json_string("*"));
            else json_object_set_new(o, "approved", json_integer((json_int_t)a->n));
            json_array_append_new(v->unused_list, o);
        }
    }
}
