/*
 * rate_one.c — rate each line of standard input (a JSON object) alone with
 * the library's quy_rate_json and print what a test compares:
 *
 *   rate_one DIR NAME < records.jsonl
 *   N1: htnv (eligible htxsnv) flags capped; batch steps not applied
 *
 * Used by tests/api/three-agree.sh (quy eval, quy test and the library agree).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quy.h"

int main(int argc, char **argv)
{
    quy_loader *ld;
    quy_ruleset *rs;
    quy_session *s;
    if (argc != 3) {
        fprintf(stderr, "usage: rate_one DIR NAME < records.jsonl\n");
        return 2;
    }
    if (quy_loader_new(&ld) != QUY_OK || quy_loader_add_dir(ld, argv[1]) != QUY_OK ||
        quy_loader_load(ld, argv[2], &rs, NULL) != QUY_OK || quy_session_new(rs, &s) != QUY_OK) {
        fprintf(stderr, "rate_one: %s\n", quy_errmsg());
        return 1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, stdin)) > 0) {
        const quy_result *r;
        if (quy_rate_json(s, line, (size_t)n, &r) != QUY_OK) {
            printf("%s: rejected [%s] %s\n", quy_result_id(r), quy_result_error_code(r), quy_result_error_field(r));
            continue;
        }
        printf("%s: %s (eligible %s) flags", quy_result_id(r), quy_result_tier(r), quy_result_eligible_tier(r));
        for (size_t i = 0; i < quy_result_flag_count(r); i++) printf(" %s", quy_result_flag(r, i));
        printf("%s\n", quy_result_steps(r) & QUY_STEP_NO_BATCH ? "; batch steps not applied" : "");
    }
    free(line);
    quy_session_free(s);
    quy_ruleset_free(rs);
    quy_loader_free(ld);
    return 0;
}
