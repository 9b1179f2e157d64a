/*
 * hook_files.c — where a hook's Lua file is found. See hook_files.h.
 */
#include "hook_files.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* DIR/NAME where DIR is the folder of `ruleset_path` ("." if none). */
static char *beside(const char *ruleset_path, const char *name)
{
    const char *slash = strrchr(ruleset_path, '/');
    int dl = slash ? (int)(slash - ruleset_path) : 1;
    size_t sz = (size_t)dl + strlen(name) + 2;
    char *p = malloc(sz);
    if (p) snprintf(p, sz, "%.*s/%s", dl, slash ? ruleset_path : ".", name);
    return p;
}

static char *in_dir(const char *dir, const char *name)
{
    size_t sz = strlen(dir) + strlen(name) + 2;
    char *p = malloc(sz);
    if (p) snprintf(p, sz, "%s/%s", dir, name);
    return p;
}

static bool is_file(const char *path)
{
    struct stat st;
    return path && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

char *hook_file_find(const sema_file *files, size_t fi, const char *name, char *why, size_t whysize)
{
    char *first = beside(files[fi].path, name);
    if (!first) {
        snprintf(why, whysize, "out of memory");
        return NULL;
    }
    struct stat st;
    int err = stat(first, &st) == 0 ? EISDIR : errno;
    if (is_file(first)) return first;
    for (size_t up = fi; up-- > 0;) {
        char *p = beside(files[up].path, name);
        if (is_file(p)) {
            free(first);
            return p;
        }
        free(p);
    }
    for (size_t i = 0; i < files[fi].nhook_dirs; i++) {
        char *p = in_dir(files[fi].hook_dirs[i], name);
        if (is_file(p)) {
            free(first);
            return p;
        }
        free(p);
    }
    snprintf(why, whysize, "cannot read %s: %s", first, strerror(err));
    free(first);
    return NULL;
}
