/*
 * compiler.c — the driver: finds a ruleset and its `extends` chain, parses
 * each file, hands the chain (root first) to the checker, verifies the
 * result. See compiler.h.
 */
#include "compiler.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cg_opt.h"
#include "diag.h"
#include "parse.h"
#include "sema.h"

#define QUY_MAX_CHAIN 16 /* central -> province -> district -> commune, with room */

struct compiler {
    char **search;
    size_t nsearch;
    diag_list diags;
    ast_arena *arena;
    sema_file files[QUY_MAX_CHAIN];
    size_t nfiles;
    bool specialise; /* run cg_specialise (default on) */
};

compiler *compiler_new(const char *const *search, size_t nsearch)
{
    compiler *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    diag_init(&c->diags);
    c->specialise = true;
    c->search = calloc(nsearch ? nsearch : 1, sizeof *c->search);
    c->arena = ast_arena_new();
    if (!c->search || !c->arena) {
        compiler_free(c);
        return NULL;
    }
    for (size_t i = 0; i < nsearch; i++) {
        if (!(c->search[c->nsearch] = strdup(search[i]))) {
            compiler_free(c);
            return NULL;
        }
        c->nsearch++;
    }
    return c;
}

void compiler_set_specialise(compiler *c, bool on) { c->specialise = on; }

static void compiler_reset(compiler *c)
{
    for (size_t i = 0; i < c->nfiles; i++) {
        free(c->files[i].path);
        free(c->files[i].src);
    }
    c->nfiles = 0;
}

void compiler_free(compiler *c)
{
    if (!c) return;
    compiler_reset(c);
    for (size_t i = 0; i < c->nsearch; i++) free(c->search[i]);
    free(c->search);
    diag_free(&c->diags);
    ast_arena_free(c->arena);
    free(c);
}

diag_list *compiler_diags(compiler *c) { return &c->diags; }

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

char *compiler_resolve(const compiler *c, const char *name)
{
    size_t n = strlen(name);
    if (strchr(name, '/') || (n > 4 && strcmp(name + n - 4, ".quy") == 0)) return is_file(name) ? strdup(name) : NULL;
    for (size_t i = 0; i < c->nsearch; i++) {
        size_t sz = strlen(c->search[i]) + 2 * n + 16;
        char *p = malloc(sz);
        if (!p) return NULL;
        snprintf(p, sz, "%s/%s/%s.quy", c->search[i], name, name);
        if (is_file(p)) return p;
        snprintf(p, sz, "%s/%s.quy", c->search[i], name);
        if (is_file(p)) return p;
        free(p);
    }
    return NULL;
}

char *compiler_suggest_ruleset(const compiler *c, const char *name)
{
    char **names = NULL;
    size_t n = 0, cap = 0;
    for (size_t i = 0; i < c->nsearch; i++) {
        DIR *d = opendir(c->search[i]);
        if (!d) continue;
        for (struct dirent *e; (e = readdir(d));) {
            if (e->d_name[0] == '.') continue;
            size_t sz = strlen(c->search[i]) + 2 * strlen(e->d_name) + 8;
            char *p = malloc(sz);
            if (!p) break;
            snprintf(p, sz, "%s/%s/%s.quy", c->search[i], e->d_name, e->d_name);
            bool ruleset = is_file(p);
            free(p);
            char *copy = ruleset ? strdup(e->d_name) : NULL;
            if (!copy) continue;
            if (n == cap) {
                char **nn = realloc(names, (cap = cap ? 2 * cap : 16) * sizeof *names);
                if (!nn) { free(copy); break; }
                names = nn;
            }
            names[n++] = copy;
        }
        closedir(d);
    }
    const char *best = diag_suggest(name, (const char *const *)names, n);
    /* 'cho-chu' for 'cho-chu-2024': the one ruleset named NAME-something
     * (a folder may be in the search path twice: the same name is one) */
    size_t len = strlen(name);
    bool one = true;
    const char *only = NULL;
    for (size_t i = 0; !best && i < n; i++) {
        if (strncmp(names[i], name, len) || names[i][len] != '-') continue;
        if (only && strcmp(only, names[i])) one = false;
        only = names[i];
    }
    if (!best && one) best = only;
    char *out = best ? strdup(best) : NULL;
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    return out;
}

char *compiler_read_file(const char *path, size_t max, size_t *len, int *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        *err = errno;
        return NULL;
    }
    size_t cap = 1 << 14, n = 0, got;
    char *buf = malloc(cap);
    *err = buf ? 0 : ENOMEM;
    while (buf && (got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (n + 1 < cap) continue;
        if (max && cap >= max) {
            *err = EFBIG;
            break;
        }
        char *nb = realloc(buf, cap *= 2);
        if (!nb) *err = ENOMEM;
        if (!nb) break;
        buf = nb;
    }
    if (!*err && ferror(f)) *err = EIO;
    fclose(f);
    if (*err) {
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    *len = n;
    return buf;
}

static bool load_chain(compiler *c, const char *name, const char *from_path, const char *from_src, q_span from_span,
                       const char **loading, size_t depth);

/* Parse one file of the chain (path and src owned, given to c->files),
 * then its ancestors, so the chain ends up root first. */
static bool load_text(compiler *c, const char *name, char *path, char *src, size_t len, const char **loading,
                      size_t depth)
{
    sema_file f = {.path = path, .src = src, .len = len, .hook_dirs = (const char *const *)c->search, .nhook_dirs = c->nsearch};
    parse_file(c->arena, &c->diags, f.path, f.src, f.len, &f.ast);
    ast_node *h = f.ast.header;
    f.layer = h && h->u.ruleset.name.len ? h->u.ruleset.name.s : name;
    loading[depth] = path;
    bool ok = true;
    if (h && h->u.ruleset.parent.len)
        ok = load_chain(c, h->u.ruleset.parent.s, f.path, f.src, h->u.ruleset.parent_span, loading, depth + 1);
    /* keep the file (diagnostics point into it) even when its parent failed */
    c->files[c->nfiles++] = f;
    return ok;
}

/* Load `name` after its ancestors (so the chain ends up root first);
 * `depth` counts the files being loaded above this one, for cycles. */
static bool load_chain(compiler *c, const char *name, const char *from_path, const char *from_src, q_span from_span,
                       const char **loading, size_t depth)
{
    const char *at_path = from_path ? from_path : name, *at_src = from_src ? from_src : "";
    char *path = compiler_resolve(c, name);
    if (!path) {
        char *near = compiler_suggest_ruleset(c, name);
        diag_add(&c->diags, DIAG_ERROR, at_path, at_src, from_span,
                 "cannot find ruleset '%s' (looked for NAME/NAME.quy and NAME.quy in the ruleset search path)%s%s%s",
                 name, near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
        free(near);
        return false;
    }
    for (size_t i = 0; i < depth; i++) {
        if (strcmp(loading[i], path) == 0) {
            diag_add(&c->diags, DIAG_ERROR, at_path, at_src, from_span, "'extends' cycle: '%s' extends itself", name);
            free(path);
            return false;
        }
    }
    if (depth == QUY_MAX_CHAIN || c->nfiles == QUY_MAX_CHAIN) {
        diag_add(&c->diags, DIAG_ERROR, at_path, at_src, from_span, "'extends' chain deeper than %d", QUY_MAX_CHAIN);
        free(path);
        return false;
    }
    size_t len;
    int err;
    char *src = compiler_read_file(path, 0, &len, &err);
    if (!src) {
        diag_add(&c->diags, DIAG_ERROR, path, "", (q_span){0, 0}, "cannot read: %s",
                 err == ENOMEM ? "out of memory" : strerror(err));
        free(path);
        return false;
    }
    return load_text(c, name, path, src, len, loading, depth);
}

static q_program *compile_chain(compiler *c);

q_program *compiler_compile(compiler *c, const char *name_or_path)
{
    compiler_reset(c);
    size_t errors0 = c->diags.nerrors;
    const char *loading[QUY_MAX_CHAIN + 1];
    if (!load_chain(c, name_or_path, NULL, NULL, (q_span){0, 0}, loading, 0) || c->diags.nerrors != errors0) return NULL;
    return compile_chain(c);
}

q_program *compiler_compile_source(compiler *c, const char *path, const char *src, size_t len)
{
    compiler_reset(c);
    size_t errors0 = c->diags.nerrors;
    const char *loading[QUY_MAX_CHAIN + 1];
    char *p = strdup(path), *s = malloc(len + 1);
    if (!p || !s) {
        free(p);
        free(s);
        diag_add(&c->diags, DIAG_ERROR, path, "", (q_span){0, 0}, "out of memory");
        return NULL;
    }
    memcpy(s, src, len);
    s[len] = 0;
    if (!load_text(c, path, p, s, len, loading, 0) || c->diags.nerrors != errors0) return NULL;
    return compile_chain(c);
}

/* Check, lower and verify the chain loaded into c->files. */
static q_program *compile_chain(compiler *c)
{
    q_program *p = sema_run(c->files, c->nfiles, &c->diags);
    if (!p) return NULL;
    /* issue 15: specialised instructions before the generic code they speed up */
    if (c->specialise && !cg_specialise(p)) {
        diag_add(&c->diags, DIAG_ERROR, c->files[c->nfiles - 1].path, "", (q_span){0, 0}, "out of memory");
        prog_free(p);
        return NULL;
    }
    char why[512];
    if (!bc_verify(p, why, sizeof why)) {
        diag_add(&c->diags, DIAG_ERROR, c->files[c->nfiles - 1].path, "", (q_span){0, 0},
                 "internal error: the compiled program fails verification: %s", why);
        prog_free(p);
        return NULL;
    }
    return p;
}
