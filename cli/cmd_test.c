/*
 * cmd_test.c — `quy test NAME...`: runs the cases a ruleset ships in
 * rulesets/NAME/tests/ (every .jsonl file). One JSON object per line:
 *
 *   {"case": "name", "clause": "124-QĐ/TW Điều 12, 1.2", "note": "...",
 *    "record": {...},
 *    "expect": {"tier": "htxsnv", "eligible_tier": "htxsnv", "flags": ["gap"]}}   -- or
 *    "expect": {"error": "constraint", "field": "tasks_completed"}
 *
 * or a batch case, rated with roll-ups, caps and quotas:
 *
 *   {"case": ..., "batch": [{record}, ...],
 *    "expect": {"ID": {"tier": ..., "eligible_tier": ..., "flags": [...]}, ...}}
 *
 * A single "record" is a batch of one without quotas (batch_single): its
 * tier is after its own rules and caps. "flags" is the exact set of flag
 * codes expected, the batch steps' ("capped", "quota_demoted") included
 * (omit it to not check).
 * Each failure is printed with the case, its clause and the rule trace.
 * The last line is "N passed, M failed"; exit 4 if any failed.
 */
#include <dirent.h>
#include <jansson.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "options.h"

typedef struct test_stats {
    size_t passed, failed;
} test_stats;

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Does the raised flag set (rule flags, then the batch steps') equal the
 * expected array (as sets)? */
static bool flags_match(const quy_result *r, json_t *want)
{
    size_t nw = json_array_size(want), ng = quy_result_flag_count(r);
    for (size_t i = 0; i < ng; i++) {
        bool found = false;
        for (size_t j = 0; j < nw; j++)
            found |= strcmp(json_string_value(json_array_get(want, j)) ?: "", quy_result_flag(r, i)) == 0;
        if (!found) return false;
    }
    for (size_t j = 0; j < nw; j++) {
        const char *w = json_string_value(json_array_get(want, j));
        bool found = false;
        for (size_t i = 0; i < ng && w; i++) found |= strcmp(quy_result_flag(r, i), w) == 0;
        if (!found) return false;
    }
    return true;
}

/* "details": {"flag": "text"}: each flag was raised with a note (an
 * adjustment's reason) containing the text. */
static bool details_match(const quy_result *r, json_t *want, char *why, size_t size)
{
    const char *code;
    json_t *v;
    json_object_foreach(want, code, v) {
        const char *text = json_string_value(v) ?: "";
        const char *note = NULL;
        for (size_t i = 0; i < quy_result_flag_count(r); i++)
            if (strcmp(quy_result_flag(r, i), code) == 0 && quy_result_flag_detail(r, i))
                note = quy_result_flag_detail(r, i);
        if (!note || !strstr(note, text)) {
            snprintf(why, size, "expected flag '%s' with a detail containing \"%s\", got %s%s%s", code, text,
                     note ? "\"" : "none", note ? note : "", note ? "\"" : "");
            return false;
        }
    }
    return true;
}

/* Check one result against one "expect" object; false with the reason in
 * `why` on a mismatch. */
static bool check_expect(const quy_result *r, json_t *ex, char *why, size_t whysz)
{
    const char *want_err = json_string_value(json_object_get(ex, "error"));
    const char *want_field = json_string_value(json_object_get(ex, "field"));
    const char *want_tier = json_string_value(json_object_get(ex, "tier"));
    const char *want_elig = json_string_value(json_object_get(ex, "eligible_tier"));
    json_t *want_flags = json_object_get(ex, "flags");
    if (quy_result_status(r) != QUY_OK) {
        const char *code = quy_result_error_code(r), *field = quy_result_error_field(r),
                   *msg = quy_result_error_message(r);
        if (!want_err) {
            snprintf(why, whysz, "record rejected: [%s] field '%s': %s", code, field, msg);
            return false;
        }
        if (strcmp(want_err, code) != 0 || (want_field && strcmp(want_field, field) != 0)) {
            snprintf(why, whysz, "expected error %s on '%s', got [%s] on '%s': %s", want_err, want_field ?: "", code,
                     field, msg);
            return false;
        }
        return true;
    }
    const char *rule = quy_result_rule(r) ?: "?", *tier = quy_result_tier(r), *elig = quy_result_eligible_tier(r);
    if (want_err) {
        snprintf(why, whysz, "expected the record to be rejected (%s), but it was rated %s", want_err, tier);
        return false;
    }
    if (want_tier && strcmp(want_tier, tier) != 0) {
        snprintf(why, whysz, "expected tier %s, got %s (rule %s; eligible %s)", want_tier, tier, rule, elig);
        return false;
    }
    if (want_elig && strcmp(want_elig, elig) != 0) {
        snprintf(why, whysz, "expected eligible tier %s, got %s (rule %s)", want_elig, elig, rule);
        return false;
    }
    if (want_flags && !flags_match(r, want_flags)) {
        char *w = json_dumps(want_flags, JSON_COMPACT);
        size_t o = (size_t)snprintf(why, whysz, "expected flags %s, got [", w ?: "?");
        free(w);
        for (size_t i = 0; i < quy_result_flag_count(r) && o < whysz; i++)
            o += (size_t)snprintf(why + o, whysz - o, "%s%s", i ? ", " : "", quy_result_flag(r, i));
        if (o < whysz) snprintf(why + o, whysz - o, "]");
        return false;
    }
    json_t *want_details = json_object_get(ex, "details");
    if (json_is_object(want_details) && !details_match(r, want_details, why, whysz)) return false;
    return true;
}

/* On a failure: the rate block's trace and the batch steps of a result;
 * for a record that failed while a rule ran, where (the source line and a
 * caret, as `quy eval` draws it), indented under the FAIL line. */
static void show_trace(const quy_result *r)
{
    char *text = NULL;
    if (quy_result_status(r) == QUY_OK) {
        if (quy_result_explain_text(r, 5, &text) == QUY_OK) fputs(text, stdout);
    } else if (quy_result_error_source(r, &text) == QUY_OK) {
        for (const char *l = text; *l;) {
            const char *e = strchr(l, '\n');
            size_t n = e ? (size_t)(e - l) : strlen(l);
            printf("     %.*s\n", (int)n, l);
            l += n + (e != NULL);
        }
    }
    quy_free(text);
}

/* The records of a case are handed to the library as the bytes the case
 * file holds, so that their decimals reach the record reader exactly as
 * written (a jansson object would have read them through a double:
 * 50.00000000000001 would be 50). jansson has parsed and validated the
 * line; these helpers only find the byte spans of its values. */
typedef struct span {
    const char *s;
    size_t n;
} span;

static size_t skip_ws(const char *s, size_t n, size_t i)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) i++;
    return i;
}

static size_t skip_string(const char *s, size_t n, size_t i) /* s[i] is the opening quote */
{
    for (i++; i < n; i++) {
        if (s[i] == '\\') i++;
        else if (s[i] == '"') return i + 1;
    }
    return n;
}

static size_t skip_value(const char *s, size_t n, size_t i)
{
    i = skip_ws(s, n, i);
    if (i < n && s[i] == '"') return skip_string(s, n, i);
    if (i < n && (s[i] == '{' || s[i] == '[')) {
        for (int depth = 0; i < n; i++) {
            if (s[i] == '"') i = skip_string(s, n, i) - 1;
            else if (s[i] == '{' || s[i] == '[') depth++;
            else if ((s[i] == '}' || s[i] == ']') && --depth == 0) return i + 1;
        }
        return n;
    }
    while (i < n && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' && s[i] != '\n') i++;
    return i;
}

/* The value of the top-level member `key` of the object text[0..n). */
static bool member_span(const char *text, size_t n, const char *key, span *out)
{
    size_t i = skip_ws(text, n, 0);
    if (i >= n || text[i] != '{') return false;
    for (i++;;) {
        i = skip_ws(text, n, i);
        if (i >= n || text[i] != '"') return false;
        size_t ks = i + 1, ke = skip_string(text, n, i);
        i = skip_ws(text, n, ke);
        if (i >= n || text[i] != ':') return false;
        size_t vb = skip_ws(text, n, i + 1), ve = skip_value(text, n, vb);
        if (ke - 1 - ks == strlen(key) && memcmp(text + ks, key, ke - 1 - ks) == 0) {
            *out = (span){text + vb, ve - vb};
            return true;
        }
        i = skip_ws(text, n, ve);
        if (i >= n || text[i] != ',') return false;
        i++;
    }
}

/* The records of a case: its "record", or the elements of its "batch". */
static size_t case_records(const char *text, size_t n, bool single, span *out, size_t cap)
{
    span v;
    if (!member_span(text, n, single ? "record" : "batch", &v)) return 0;
    if (single) {
        out[0] = v;
        return 1;
    }
    size_t k = 0, i = skip_ws(v.s, v.n, 1);
    while (k < cap && i < v.n && v.s[i] != ']') {
        size_t e = skip_value(v.s, v.n, i);
        out[k++] = (span){v.s + i, e - i};
        i = skip_ws(v.s, v.n, e);
        if (i < v.n && v.s[i] == ',') i = skip_ws(v.s, v.n, i + 1);
    }
    return k;
}

/* Every key of every record of the case names a field (a misspelt field
 * would pass on the field's default): false with the reason in `why`. */
static bool case_fields(const quy_ruleset *rs, json_t *const *recs, const span *raw, size_t n, char *why, size_t whysz)
{
    for (size_t i = 0; i < n; i++) {
        quy_status st = quy_ruleset_check_fields(rs, raw[i].s, raw[i].n);
        if (st != QUY_OK) {
            const char *rid = json_string_value(json_object_get(recs[i], "id"));
            snprintf(why, whysz, "the case's record '%s': %s", rid ? rid : "?", quy_errmsg());
            return false;
        }
    }
    return true;
}

/* Check every id of a batch case's "expect"; false with the reason. */
static bool check_batch(quy_batch *b, json_t *ex, char *why, size_t whysz, const quy_result **bad)
{
    const char *id;
    json_t *want;
    json_object_foreach(ex, id, want) {
        size_t idx;
        if (quy_batch_find(b, id, &idx) != QUY_OK) {
            snprintf(why, whysz, "'%s': no record with this id in the batch", id);
            return false;
        }
        char w[1800];
        const quy_result *r = quy_batch_result(b, idx);
        if (!json_is_object(want) || !check_expect(r, want, w, sizeof w)) {
            *bad = r;
            snprintf(why, whysz, "'%s': %s", id, json_is_object(want) ? w : "expect an object per id");
            return false;
        }
    }
    return true;
}

static void run_case(const quy_ruleset *rs, quy_session *s, const char *file, uint32_t line, const char *text,
                     size_t len, json_t *tc, test_stats *st)
{
    const char *name = json_string_value(json_object_get(tc, "case")) ?: "?";
    const char *clause = json_string_value(json_object_get(tc, "clause")) ?: "";
    json_t *rj = json_object_get(tc, "record"), *bj = json_object_get(tc, "batch"), *ex = json_object_get(tc, "expect");
    bool single = json_is_object(rj);
    if ((!single && !json_is_array(bj)) || !json_is_object(ex)) {
        st->failed++;
        printf("FAIL %s (%s:%u): the case needs a \"record\" object (or a \"batch\" array) and an \"expect\" object\n",
               name, file, line);
        return;
    }
    char why[2048] = "";
    size_t nrec = single ? 1 : json_array_size(bj);
    json_t **recs = malloc((nrec ? nrec : 1) * sizeof *recs);
    if (!recs) {
        fprintf(stderr, "quy test: out of memory\n");
        exit(EXIT_IO);
    }
    span *raw = malloc((nrec ? nrec : 1) * sizeof *raw);
    if (!raw) {
        fprintf(stderr, "quy test: out of memory\n");
        exit(EXIT_IO);
    }
    for (size_t i = 0; i < nrec; i++) recs[i] = single ? rj : json_array_get(bj, i);
    if (case_records(text, len, single, raw, nrec) != nrec) {
        free(recs);
        free(raw);
        st->failed++;
        printf("FAIL %s (%s:%u): the case's records could not be found in its text\n", name, file, line);
        return;
    }
    bool fields_ok = case_fields(rs, recs, raw, nrec, why, sizeof why);
    free(recs);
    if (!fields_ok) {
        free(raw);
        st->failed++;
        printf("FAIL %s — %s (%s:%u)\n     %s\n", name, clause, file, line, why);
        return;
    }
    quy_batch *b;
    if (quy_batch_new(s, QUY_BATCH_EXPLAIN | (single ? QUY_BATCH_SINGLE : 0), &b) != QUY_OK) {
        fprintf(stderr, "quy test: %s\n", quy_errmsg());
        exit(EXIT_IO);
    }
    for (size_t i = 0; i < nrec; i++) quy_batch_add_json(b, raw[i].s, raw[i].n, file, line);
    free(raw);
    quy_batch_run(b);
    const quy_result *bad = quy_batch_result(b, 0);
    bool ok = single ? check_expect(bad, ex, why, sizeof why) : check_batch(b, ex, why, sizeof why, &bad);
    if (ok) {
        st->passed++;
    } else {
        st->failed++;
        printf("FAIL %s — %s (%s:%u)\n     %s\n", name, clause, file, line, why);
        if (bad) show_trace(bad);
    }
    quy_batch_free(b);
}

static void run_file(const quy_ruleset *rs, quy_session *s, const char *path, test_stats *st)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        printf("FAIL %s: cannot open\n", path);
        st->failed++;
        return;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    uint32_t lineno = 0;
    while ((n = getline(&line, &cap, f)) > 0) {
        lineno++;
        const char *p = line;
        while (*p == ' ' || *p == '\t') p++;
        if (*p == '\n' || *p == 0 || *p == '#') continue;
        json_error_t je;
        json_t *tc = json_loadb(line, (size_t)n, JSON_REJECT_DUPLICATES, &je);
        if (!tc) {
            printf("FAIL %s:%u: bad JSON: %s (column %d)\n", path, lineno, je.text, je.column);
            st->failed++;
            continue;
        }
        run_case(rs, s, path, lineno, line, (size_t)n, tc, st);
        json_decref(tc);
    }
    free(line);
    fclose(f);
}

/* The case files of a ruleset: the .jsonl files of tests/ beside its source, sorted
 * (malloc'd paths into `files`). */
static void case_files(const char *src, char *tdir, size_t tdirsz, cli_list *files)
{
    char *dirbuf = strdup(src);
    snprintf(tdir, tdirsz, "%s/tests", dirname(dirbuf));
    free(dirbuf);
    DIR *d = opendir(tdir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l > 6 && strcmp(e->d_name + l - 6, ".jsonl") == 0) {
            size_t sz = strlen(tdir) + l + 2;
            char *buf = malloc(sz);
            if (!buf) {
                fprintf(stderr, "quy test: out of memory\n");
                exit(EXIT_IO);
            }
            snprintf(buf, sz, "%s/%s", tdir, e->d_name);
            cli_list_add(files, buf);
        }
    }
    closedir(d);
    qsort(files->v, files->n, sizeof files->v[0], cmp_str);
}

/* Run every case of one ruleset; false if it could not be loaded. */
static bool test_ruleset(const cli_paths *ps, const char *name, test_stats *total)
{
    char *src = cli_resolve(ps, name);
    quy_ruleset *rs = src ? cli_ruleset(ps, src) : NULL;
    quy_session *s = NULL;
    if (rs && quy_session_new(rs, &s) != QUY_OK) fprintf(stderr, "quy test: %s\n", quy_errmsg());
    if (!s) {
        if (!src) fprintf(stderr, "quy test: %s\n", quy_errmsg()); /* names it, with a suggestion */
        quy_ruleset_free(rs);
        free(src);
        return false;
    }
    char tdir[4096];
    cli_list files = {0};
    case_files(src, tdir, sizeof tdir, &files);
    test_stats st = {0};
    for (size_t i = 0; i < files.n; i++) {
        run_file(rs, s, files.v[i], &st);
        free((char *)files.v[i]);
    }
    if (!files.n) printf("%s: no test cases in %s\n", name, tdir);
    printf("%s: %zu passed, %zu failed\n", quy_ruleset_name(rs), st.passed, st.failed);
    total->passed += st.passed;
    total->failed += st.failed;
    cli_list_free(&files);
    quy_session_free(s);
    quy_ruleset_free(rs);
    free(src);
    return true;
}

int cmd_test(int argc, char **argv)
{
    cli_paths ps;
    cli_paths_init(&ps);
    cli_list names = {0};
    const char *locality = NULL, *at = NULL, *registry_file = NULL;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        switch (cli_next(argc, argv, &i, CMD_TEST, &v)) {
        case OPT_RULESETS: cli_paths_add(&ps, v); break;
        case OPT_LOCALITY: locality = v; break;
        case OPT_AT: at = v; break;
        case OPT_REGISTRY: registry_file = v; break;
        case OPT_ARG: cli_list_add(&names, argv[i]); break;
        default: cli_list_free(&names); return EXIT_RULESET;
        }
    }
    char *chosen = NULL; /* --locality: the ruleset in force there */
    int rc = EXIT_OK;
    if ((at || registry_file) && !locality) {
        fprintf(stderr, "quy test: --at and --registry go with --locality\n");
        rc = EXIT_RULESET;
    } else if (locality) {
        if (!(chosen = cli_locality_ruleset(&ps, registry_file, locality, at, "test")))
            rc = EXIT_RULESET;
        else
            cli_list_add(&names, chosen);
    }
    if (rc == EXIT_OK && !names.n) {
        fprintf(stderr, "usage: quy test NAME... | --locality NAME|CODE [--at YYYY-MM-DD|PERIOD]   (runs rulesets/NAME/tests/*.jsonl)\n");
        rc = EXIT_RULESET;
    }
    if (rc != EXIT_OK) {
        cli_list_free(&names);
        return rc;
    }
    test_stats total = {0};
    for (size_t k = 0; k < names.n; k++)
        if (!test_ruleset(&ps, names.v[k], &total)) rc = EXIT_RULESET;
    free(chosen);
    cli_list_free(&names);
    printf("%zu passed, %zu failed\n", total.passed, total.failed);
    if (rc == EXIT_OK && total.failed) rc = EXIT_TESTFAIL;
    return rc;
}
