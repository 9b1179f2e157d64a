/*
 * hook_files.h — where a hook's Lua file is found (compiler side, prefix
 * hook_file_). One function, so the rule is written once.
 */
#ifndef QUY_HOOK_FILES_H
#define QUY_HOOK_FILES_H

#include <stddef.h>

#include "sema.h"

/*
 * The path of hook file `name` (relative, ending in .lua, without "..")
 * declared by files[fi] of a chain (root first), looked up in order:
 *   1. beside the declaring ruleset file;
 *   2. beside each ruleset it extends, nearest first (a variant uses its
 *      parent's hooks without a copy);
 *   3. in each shared folder of files[fi].hook_dirs (the ruleset search
 *      path: `from "hooks/kiem_nhiem.lua"` finds rulesets/hooks/kiem_nhiem.lua).
 * The first that exists wins (a variant's own file overrides its parent's).
 * Returns a malloc'd path, or NULL with why = "cannot read PATH: REASON"
 * for the first place looked in (beside the declaring file).
 */
char *hook_file_find(const sema_file *files, size_t fi, const char *name, char *why, size_t whysize);

#endif /* QUY_HOOK_FILES_H */
