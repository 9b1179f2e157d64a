/*
 * loader.c — the one search-path builder and the one loader, used by the
 * library's callers and by the `quy` tool alike (quy.h, "Loading").
 */
#define _GNU_SOURCE 1
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../compiler/registry.h"
#include "internal.h"

#ifndef QUY_INSTALL_RULESETS
#define QUY_INSTALL_RULESETS ""
#endif
#ifndef QUY_SOURCE_RULESETS
#define QUY_SOURCE_RULESETS ""
#endif

/* A growable list of owned strings. */
typedef struct qi_strs {
    char **v;
    size_t n, cap;
} qi_strs;

struct quy_loader {
    qi_strs given;     /* quy_loader_add_dir, in order */
    bool no_defaults;  /* quy_loader_set_defaults(ld, 0) */
    char *registry;    /* quy_loader_set_registry */
    qi_strs all;       /* the search path, rebuilt by build_path */
};

static bool strs_add(qi_strs *s, const char *str)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i], str) == 0) return true; /* once each */
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 8;
        char **v = realloc(s->v, cap * sizeof *v);
        if (!v) return false;
        s->v = v;
        s->cap = cap;
    }
    if (!(s->v[s->n] = strdup(str))) return false;
    s->n++;
    return true;
}

static void strs_clear(qi_strs *s)
{
    for (size_t i = 0; i < s->n; i++) free(s->v[i]);
    s->n = 0;
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

quy_status quy_loader_new(quy_loader **out)
{
    if (!out) return qi_fail(QUY_EINVAL, "quy_loader_new: out is NULL");
    *out = calloc(1, sizeof **out);
    return *out ? QUY_OK : qi_fail(QUY_ENOMEM, "out of memory");
}

void quy_loader_free(quy_loader *ld)
{
    if (!ld) return;
    strs_clear(&ld->given);
    strs_clear(&ld->all);
    free(ld->given.v);
    free(ld->all.v);
    free(ld->registry);
    free(ld);
}

quy_status quy_loader_add_dir(quy_loader *ld, const char *dir)
{
    if (!ld || !dir) return qi_fail(QUY_EINVAL, "quy_loader_add_dir: NULL argument");
    if (!is_dir(dir))
        return qi_fail(QUY_ENOTFOUND, "ruleset folder '%s' does not exist or is not a folder; give a folder that "
                       "holds NAME/NAME.quy", dir);
    return strs_add(&ld->given, dir) ? QUY_OK : qi_fail(QUY_ENOMEM, "out of memory");
}

quy_status quy_loader_set_defaults(quy_loader *ld, int on)
{
    if (!ld) return qi_fail(QUY_EINVAL, "quy_loader_set_defaults: loader is NULL");
    ld->no_defaults = !on;
    return QUY_OK;
}

quy_status quy_loader_set_registry(quy_loader *ld, const char *file)
{
    if (!ld || !file) return qi_fail(QUY_EINVAL, "quy_loader_set_registry: NULL argument");
    if (!is_file(file)) return qi_fail(QUY_ENOTFOUND, "registry file '%s' does not exist", file);
    free(ld->registry);
    ld->registry = strdup(file);
    return ld->registry ? QUY_OK : qi_fail(QUY_ENOMEM, "out of memory");
}

/* PREFIX/share/quy/rulesets for the PREFIX the library (or the program it
 * is linked into) was installed in: PREFIX/lib/libquy.so or PREFIX/bin/quy. */
static bool installed_beside(char *buf, size_t size)
{
    Dl_info info;
    char exe[PATH_MAX], real[PATH_MAX];
    const char *from = NULL;
    if (dladdr((void *)&quy_loader_new, &info) && info.dli_fname && strchr(info.dli_fname, '/') &&
        realpath(info.dli_fname, real))
        from = real;
    else {
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n <= 0) return false;
        exe[n] = 0;
        from = exe;
    }
    /* LIBDIR may be lib/ or lib/x86_64-linux-gnu/: look up to 3 levels up */
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", from);
    for (int up = 0; up < 3; up++) {
        char *slash = strrchr(dir, '/');
        if (!slash || slash == dir) return false;
        *slash = 0;
        if (snprintf(buf, size, "%s/share/quy/rulesets", dir) < (int)size && is_dir(buf)) return true;
    }
    return false;
}

/* The search path (quy.h): given folders, then the defaults. */
static quy_status build_path(quy_loader *ld)
{
    strs_clear(&ld->all);
    for (size_t i = 0; i < ld->given.n; i++)
        if (!strs_add(&ld->all, ld->given.v[i])) return qi_fail(QUY_ENOMEM, "out of memory");
    if (ld->no_defaults) return QUY_OK;
    const char *env = getenv("QUY_RULESETS");
    if (env && *env) {
        char *copy = strdup(env), *save = NULL;
        if (!copy) return qi_fail(QUY_ENOMEM, "out of memory");
        for (char *tok = strtok_r(copy, ":", &save); tok; tok = strtok_r(NULL, ":", &save)) {
            if (!is_dir(tok)) {
                quy_status st = qi_fail(QUY_ENOTFOUND,
                                        "QUY_RULESETS names '%s', which is not a folder (unset it or fix the path)", tok);
                free(copy);
                return st;
            }
            if (!strs_add(&ld->all, tok)) {
                free(copy);
                return qi_fail(QUY_ENOMEM, "out of memory");
            }
        }
        free(copy);
    }
    char beside[PATH_MAX];
    const char *defaults[] = {"rulesets", installed_beside(beside, sizeof beside) ? beside : "", QUY_INSTALL_RULESETS,
                              QUY_SOURCE_RULESETS};
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
        if (*defaults[i] && is_dir(defaults[i]) && !strs_add(&ld->all, defaults[i]))
            return qi_fail(QUY_ENOMEM, "out of memory");
    return QUY_OK;
}

quy_status quy_loader_dirs(quy_loader *ld, size_t *n)
{
    if (!ld || !n) return qi_fail(QUY_EINVAL, "quy_loader_dirs: NULL argument");
    quy_status st = build_path(ld);
    *n = st == QUY_OK ? ld->all.n : 0;
    return st;
}

const char *quy_loader_dir(const quy_loader *ld, size_t i)
{
    if (!ld || i >= ld->all.n) {
        qi_fail(QUY_EINVAL, "quy_loader_dir: no folder %zu (call quy_loader_dirs first)", i);
        return NULL;
    }
    return ld->all.v[i];
}

static quy_status new_compiler(quy_loader *ld, compiler **c)
{
    quy_status st = build_path(ld);
    if (st != QUY_OK) return st;
    *c = compiler_new((const char *const *)ld->all.v, ld->all.n);
    return *c ? QUY_OK : qi_fail(QUY_ENOMEM, "out of memory");
}

quy_status quy_loader_find(quy_loader *ld, const char *name, char **path)
{
    if (!ld || !name || !path) return qi_fail(QUY_EINVAL, "quy_loader_find: NULL argument");
    *path = NULL;
    compiler *c;
    quy_status st = new_compiler(ld, &c);
    if (st != QUY_OK) return st;
    *path = compiler_resolve(c, name);
    compiler_free(c);
    if (!*path)
        return qi_fail(QUY_ENOTFOUND,
                       "cannot find ruleset '%s' (looked for NAME/NAME.quy and NAME.quy in the ruleset search path)",
                       name);
    return QUY_OK;
}

/* A diagnostics list of one error (a .qbc that does not load). */
static quy_diags *one_error(const char *file, const char *msg)
{
    diag_list d;
    diag_init(&d);
    diag_add(&d, DIAG_ERROR, file, "", (q_span){0, 0}, "%s", msg);
    quy_diags *q = qi_diags_from(&d);
    diag_free(&d);
    return q;
}

/* Finish a compile: diagnostics out, the ruleset made. */
static quy_status finish(compiler *c, q_program *p, const char *file, quy_ruleset **out, quy_diags **diags)
{
    diag_list *d = compiler_diags(c);
    if (diags) *diags = qi_diags_from(d);
    if (!p) {
        quy_status st = qi_fail(QUY_ERROR, "%s: %zu error%s (see the diagnostics)", file, d->nerrors,
                                d->nerrors == 1 ? "" : "s");
        compiler_free(c);
        return st;
    }
    compiler_free(c);
    return qi_ruleset_new(p, file, out);
}

quy_status quy_loader_load(quy_loader *ld, const char *name, quy_ruleset **out, quy_diags **diags)
{
    if (out) *out = NULL;
    if (diags) *diags = NULL;
    if (!ld || !name || !out) return qi_fail(QUY_EINVAL, "quy_loader_load: NULL argument");
    if (is_file(name) && bc_is_file(name)) { /* compiled, recognised by its magic */
        char err[1024];
        q_program *p = bc_read_file(name, err, sizeof err);
        if (!p) {
            size_t n = strlen(name); /* the diagnostic names the file once */
            const char *msg = strncmp(err, name, n) == 0 && strncmp(err + n, ": ", 2) == 0 ? err + n + 2 : err;
            if (diags) *diags = one_error(name, msg);
            return qi_fail(QUY_ERROR, "%s", err);
        }
        return qi_ruleset_new(p, name, out);
    }
    compiler *c;
    quy_status st = new_compiler(ld, &c);
    if (st != QUY_OK) return st;
    char *file = compiler_resolve(c, name);
    q_program *p = compiler_compile(c, name);
    st = finish(c, p, file ? file : name, out, diags);
    free(file);
    return st;
}

quy_status quy_loader_compile(quy_loader *ld, const char *file_name, const char *source, size_t len,
                              quy_ruleset **out, quy_diags **diags)
{
    if (out) *out = NULL;
    if (diags) *diags = NULL;
    if (!ld || !file_name || !source || !out) return qi_fail(QUY_EINVAL, "quy_loader_compile: NULL argument");
    compiler *c;
    quy_status st = new_compiler(ld, &c);
    if (st != QUY_OK) return st;
    q_program *p = compiler_compile_source(c, file_name, source, len);
    return finish(c, p, file_name, out, diags);
}

quy_status quy_ruleset_from_bytecode(const void *buf, size_t len, quy_ruleset **out)
{
    if (out) *out = NULL;
    if (!buf || !out) return qi_fail(QUY_EINVAL, "quy_ruleset_from_bytecode: NULL argument");
    char err[1024];
    q_program *p = bc_read(buf, len, err, sizeof err);
    if (!p) return qi_fail(QUY_ERROR, "%s", err);
    return qi_ruleset_new(p, "", out);
}

/* ---------------------------------------------------------------------
 * The registry
 * ------------------------------------------------------------------- */

/* A date YYYY-MM-DD, or a rating period — the period decides which
 * regulation rates it: "2025" is the annual round, rated at the year's
 * end (2025-12-31); "2026-Q2" the quarter's last day. */
static bool period_day(const char *at, int64_t *days)
{
    char end[16];
    size_t n = strlen(at);
    bool year = n == 4 || (n == 7 && at[4] == '-' && (at[5] == 'Q' || at[5] == 'q') && at[6] >= '1' && at[6] <= '4');
    for (size_t i = 0; year && i < 4; i++) year = at[i] >= '0' && at[i] <= '9';
    if (year) {
        static const char *const qend[4] = {"03-31", "06-30", "09-30", "12-31"};
        snprintf(end, sizeof end, "%.4s-%s", at, n == 4 ? "12-31" : qend[at[6] - '1']);
        at = end;
        n = 10;
    }
    return n == 10 && q_parse_date(at, 10, days);
}

quy_status quy_loader_resolve(quy_loader *ld, const char *locality, const char *date, char **ruleset, char **why)
{
    if (ruleset) *ruleset = NULL;
    if (why) *why = NULL;
    if (!ld || !locality || !date || !ruleset) return qi_fail(QUY_EINVAL, "quy_loader_resolve: NULL argument");
    int64_t days;
    if (!period_day(date, &days))
        return qi_fail(QUY_EINVAL, "not a date YYYY-MM-DD or a rating period (2025, 2026-Q2): '%s'", date);
    char *path = NULL;
    if (ld->registry)
        path = strdup(ld->registry);
    else {
        quy_status st = build_path(ld);
        if (st != QUY_OK) return st;
        path = reg_find((const char *const *)ld->all.v, ld->all.n);
        if (!path)
            return qi_fail(QUY_ENOTFOUND, "no %s in the ruleset search path (give --registry FILE or --rulesets DIR)",
                           REG_FILE);
    }
    char *err = NULL;
    registry *r = reg_load(path, &err);
    free(path);
    if (!r) {
        quy_status st = qi_fail(QUY_ERROR, "%s", err ? err : "the registry has errors");
        free(err);
        return st;
    }
    reg_choice c;
    char *msg = NULL;
    quy_status st = QUY_OK;
    if (reg_resolve(r, locality, days, &c, &msg) == 0) {
        *ruleset = strdup(c.entry->ruleset);
        if (why) *why = msg;
        else free(msg);
        if (!*ruleset) st = qi_fail(QUY_ENOMEM, "out of memory");
    } else {
        st = qi_fail(QUY_ENOTFOUND, "%s", msg ? msg : "cannot resolve the locality");
        free(msg);
    }
    reg_free(r);
    return st;
}
