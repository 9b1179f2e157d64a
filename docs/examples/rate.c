/*
 * rate.c — the smallest complete use of libquy (docs/integration-guide.md):
 * find the ruleset in force for a locality on a date, rate records held in
 * memory as one batch, print each tier and the explanation of the first.
 *
 *   cc rate.c $(pkg-config --cflags --libs quy) -o rate    # or CMakeLists.txt here
 *   ./rate [LOCALITY [DATE]]                                # default: cho-chu 2024-12-01
 *
 * tests/api/install.sh builds and runs this file against an installed
 * libquy, so what the guide shows is what is tested.
 */
#include <quy.h>
#include <stdio.h>
#include <string.h>

static const char records[] =
    "{\"id\":\"DV-1\",\"kind\":\"member\",\"period\":\"2024\",\"months_in_role\":40,"
    "\"result_grades\":[\"tot\",\"xuat_sac\"],\"other_grades\":[\"tot\",\"tot\"],\"outstanding\":false,"
    "\"tasks_total\":10,\"tasks_completed\":10,\"tasks_on_time\":10,\"tasks_exceeded\":2,\"exempt\":false,"
    "\"suspended\":false,\"degraded\":false,\"prohibited_conduct\":false,\"exemplary_breach\":false,"
    "\"disciplined\":false,\"self_remedied\":false}\n"
    "{\"id\":\"DV-2\",\"kind\":\"member\",\"period\":\"2024\"}\n";

static int fail(const char *what)
{
    fprintf(stderr, "rate: %s: %s\n", what, quy_errmsg());
    return 1;
}

int main(int argc, char **argv)
{
    const char *locality = argc > 1 ? argv[1] : "cho-chu", *date = argc > 2 ? argv[2] : "2024-12-01";
    printf("libquy %s (header %d.%d.%d), bytecode format %d\n", quy_version(), QUY_VERSION_MAJOR, QUY_VERSION_MINOR,
           QUY_VERSION_PATCH, quy_bytecode_version());

    /* 1. The ruleset in force there and then (the default search path). */
    quy_loader *ld;
    char *name, *why;
    if (quy_loader_new(&ld) != QUY_OK) return fail("loader");
    if (quy_loader_resolve(ld, locality, date, &name, &why) != QUY_OK) return fail(locality);
    printf("%s\n", why);
    quy_ruleset *rs;
    quy_diags *diags;
    quy_status st = quy_loader_load(ld, name, &rs, &diags);
    if (diags) quy_diags_print(diags, stderr, 0);
    quy_diags_free(diags);
    if (st != QUY_OK) return fail(name);
    printf("ruleset %s %s from %s\n", quy_ruleset_name(rs), quy_ruleset_version(rs), quy_ruleset_file(rs));

    /* 2. Rate the records as one batch (one session per thread). */
    quy_session *s;
    quy_batch *b;
    if (quy_session_new(rs, &s) != QUY_OK || quy_batch_new(s, QUY_BATCH_EXPLAIN, &b) != QUY_OK) return fail("session");
    if (quy_batch_read(b, records, strlen(records), "records") != QUY_OK || quy_batch_run(b) != QUY_OK)
        return fail("batch");
    for (size_t i = 0; i < quy_batch_count(b); i++) {
        const quy_result *r = quy_batch_result(b, i);
        if (quy_result_status(r) == QUY_OK)
            printf("%s: %s — %s (rule %s, %s)\n", quy_result_id(r), quy_result_tier(r), quy_result_tier_label(r),
                   quy_result_rule(r), quy_result_cite(r));
        else
            printf("%s: rejected [%s] field '%s': %s\n", quy_result_id(r), quy_result_error_code(r),
                   quy_result_error_field(r), quy_result_error_message(r));
    }

    /* 3. The explanation of the first: as text, and as data. */
    const quy_result *first = quy_batch_result(b, 0);
    char *text;
    if (quy_result_explain_text(first, 2, &text) != QUY_OK) return fail("explain");
    printf("explanation:\n%s", text);
    quy_free(text);
    quy_explain *e;
    if (quy_result_explain(first, &e) != QUY_OK) return fail("explain");
    printf("decided by %s (%s); %zu rules tried\n", quy_explain_decided_by(e, "rule"),
           quy_explain_decided_by(e, "cite"), quy_explain_rule_count(e));
    quy_explain_free(e);

    quy_batch_free(b);
    quy_session_free(s);
    quy_ruleset_free(rs);
    quy_free(name);
    quy_free(why);
    quy_loader_free(ld);
    return 0;
}
