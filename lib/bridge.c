/*
 * bridge.c — not part of quy.h: for the `quy` commands that still use the
 * compiled program directly (cli/cli.h, "Bridge"). Hidden in libquy.so.
 */
#include <stdlib.h>

#include "internal.h"

q_program *quy_bridge_take_program(quy_ruleset *rs);
q_program *quy_bridge_take_program(quy_ruleset *rs)
{
    if (!rs) return NULL;
    q_program *p = rs->p;
    rs->p = NULL;
    free(rs->file);
    free(rs);
    return p;
}

/* For diff/diff_api.c and gen/gen_api.c: the program of a ruleset (not freed). */
const q_program *quy_ruleset_program_(const quy_ruleset *rs);
const q_program *quy_ruleset_program_(const quy_ruleset *rs) { return rs ? rs->p : NULL; }
