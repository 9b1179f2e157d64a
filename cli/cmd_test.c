/*
 * cmd_test.c — `quy test NAME...`: runs the cases a ruleset ships in
 * rulesets/NAME/tests/ (every .jsonl file). One JSON object per line:
 *
 *   {"case": "name", "clause": "124-QĐ/TW Điều 12, 1.2", "note": "...",
 *    "record": {...},
 *    "expect": {"tier": "htxsnv", "flags": ["gap"]}}        -- or
 *    "expect": {"error": "constraint", "field": "tasks_completed"}
 *
 * "flags" is the exact set of flag codes expected (omit it to not check).
 * Each failure is printed with the case, its clause and the rule trace.
 * The last line is "N passed, M failed"; exit 4 if any failed.
 */
#include <dirent.h>
#include <jansson.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../runtime/explain.h"
#include "../runtime/record.h"
#include "../runtime/vm.h"
#include "cli.h"

typedef struct test_stats {
    size_t passed, failed;
} test_stats;

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Does the raised flag set equal the expected array (as sets)? */
static bool flags_match(const q_program *p, const vm_result *res, json_t *want)
{
    size_t nw = json_array_size(want);
    for (uint16_t i = 0; i < res->nflags; i++) {
        const char *got = prog_str(p, p->flags[res->flags[i]].name);
        bool found = false;
        for (size_t j = 0; j < nw; j++) found |= strcmp(json_string_value(json_array_get(want, j)) ?: "", got) == 0;
        if (!found) return false;
    }
    for (size_t j = 0; j < nw; j++) {
        const char *w = json_string_value(json_array_get(want, j));
        bool found = false;
        for (uint16_t i = 0; i < res->nflags && w; i++) found |= strcmp(prog_str(p, p->flags[res->flags[i]].name), w) == 0;
        if (!found) return false;
    }
    return true;
}

/* "details": {"flag": "text"}: each flag was raised with a note (an
 * adjustment's reason) containing the text. */
static bool details_match(const q_program *p, const vm_result *res, json_t *want, char *why, size_t size)
{
    const char *code;
    json_t *v;
    json_object_foreach(want, code, v) {
        const char *text = json_string_value(v) ?: "";
        const char *note = NULL;
        for (uint16_t i = 0; i < res->nflags; i++)
            if (strcmp(prog_str(p, p->flags[res->flags[i]].name), code) == 0) note = vm_note_of(res, res->flags[i]);
        if (!note || !strstr(note, text)) {
            snprintf(why, size, "expected flag '%s' with a detail containing \"%s\", got %s%s%s", code, text,
                     note ? "\"" : "none", note ? note : "", note ? "\"" : "");
            return false;
        }
    }
    return true;
}

static void print_flags(const q_program *p, const vm_result *res, FILE *out)
{
    fputc('[', out);
    for (uint16_t i = 0; i < res->nflags; i++) fprintf(out, "%s%s", i ? ", " : "", prog_str(p, p->flags[res->flags[i]].name));
    fputc(']', out);
}

static void run_case(const q_program *p, const char *file, uint32_t line, json_t *tc, test_stats *st, vm_event *evbuf)
{
    const char *name = json_string_value(json_object_get(tc, "case")) ?: "?";
    const char *clause = json_string_value(json_object_get(tc, "clause")) ?: "";
    json_t *rj = json_object_get(tc, "record"), *ex = json_object_get(tc, "expect");
    if (!json_is_object(rj) || !json_is_object(ex)) {
        st->failed++;
        printf("FAIL %s (%s:%u): the case needs \"record\" and \"expect\" objects\n", name, file, line);
        return;
    }
    FILE *none = fmemopen((void *)"", 1, "r");
    rec_reader *r = rec_reader_open(p, none, file, REC_JSONL);
    q_record *rec = NULL;
    rec_error err;
    int rc = rec_decode_json(r, rj, line, &rec, &err);
    const char *want_err = json_string_value(json_object_get(ex, "error"));
    const char *want_field = json_string_value(json_object_get(ex, "field"));
    const char *want_tier = json_string_value(json_object_get(ex, "tier"));
    json_t *want_flags = json_object_get(ex, "flags");
    json_t *want_details = json_object_get(ex, "details");
    bool ok = true;
    char why[1024] = "";
    vm_result res;
    vm_trace tr = {.ev = evbuf, .cap = QUY_TRACE_CAP};
    if (rc < 0) {
        if (!want_err) {
            ok = false;
            snprintf(why, sizeof why, "record rejected: [%s] field '%s': %s", err.code, err.field, err.message);
        } else if (strcmp(want_err, err.code) != 0 || (want_field && strcmp(want_field, err.field) != 0)) {
            ok = false;
            snprintf(why, sizeof why, "expected error %s on '%s', got [%s] on '%s': %s", want_err, want_field ?: "",
                     err.code, err.field, err.message);
        }
    } else if (want_err) {
        ok = false;
        vm_rate(p, rec, &res, NULL);
        snprintf(why, sizeof why, "expected the record to be rejected (%s), but it was rated %s", want_err,
                 res.error == VM_OK ? q_outcome_code[res.outcome] : vm_error_message[res.error]);
    } else {
        vm_rate(p, rec, &res, &tr);
        if (res.error != VM_OK) {
            ok = false;
            snprintf(why, sizeof why, "rating failed: %s%s%s", vm_error_message[res.error], res.error_text ? ": " : "",
                     res.error_text ? res.error_text : "");
        } else if (want_tier && strcmp(want_tier, q_outcome_code[res.outcome]) != 0) {
            ok = false;
            snprintf(why, sizeof why, "expected tier %s, got %s (rule %s)", want_tier, q_outcome_code[res.outcome],
                     res.rule != QUY_NONE ? prog_str(p, p->rules[res.rule].name) : "?");
        } else if (want_flags && !flags_match(p, &res, want_flags)) {
            ok = false;
            char *w = json_dumps(want_flags, JSON_COMPACT);
            snprintf(why, sizeof why, "expected flags %s, got ", w ?: "?");
            free(w);
        } else if (json_is_object(want_details) && !details_match(p, &res, want_details, why, sizeof why)) {
            ok = false;
        }
    }
    if (ok) {
        st->passed++;
    } else {
        st->failed++;
        printf("FAIL %s — %s (%s:%u)\n     %s", name, clause, file, line, why);
        if (strstr(why, "expected flags") == why) print_flags(p, &res, stdout);
        putchar('\n');
        if (rc > 0 && tr.n) explain_text(p, rec, &res, &tr, stdout, 5);
    }
    rec_reader_free(r);
    fclose(none);
}

static void run_file(const q_program *p, const char *path, test_stats *st, vm_event *evbuf)
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
        const char *s = line;
        while (*s == ' ' || *s == '\t') s++;
        if (*s == '\n' || *s == 0 || *s == '#') continue;
        json_error_t je;
        json_t *tc = json_loadb(line, (size_t)n, 0, &je);
        if (!tc) {
            printf("FAIL %s:%u: bad JSON: %s (column %d)\n", path, lineno, je.text, je.column);
            st->failed++;
            continue;
        }
        run_case(p, path, lineno, tc, st, evbuf);
        json_decref(tc);
    }
    free(line);
    fclose(f);
}

int cmd_test(int argc, char **argv)
{
    cli_paths ps;
    cli_paths_init(&ps);
    const char *names[64];
    int nnames = 0;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (cli_opt(argc, argv, &i, "--rulesets", &v))
            cli_paths_add(&ps, v);
        else if (nnames < 64)
            names[nnames++] = argv[i];
    }
    if (!nnames) {
        fprintf(stderr, "usage: quy test NAME...   (runs rulesets/NAME/tests/*.jsonl)\n");
        return EXIT_RULESET;
    }
    test_stats total = {0};
    vm_event *evbuf = malloc(sizeof(vm_event) * QUY_TRACE_CAP);
    int rc = EXIT_OK;
    for (int k = 0; k < nnames; k++) {
        char *src = cli_resolve(&ps, names[k]);
        q_program *p = src ? cli_load(&ps, src) : NULL;
        if (!p) {
            if (!src) fprintf(stderr, "quy test: cannot find ruleset '%s'\n", names[k]);
            free(src);
            rc = EXIT_RULESET;
            continue;
        }
        char *dirbuf = strdup(src);
        char tdir[4096];
        snprintf(tdir, sizeof tdir, "%s/tests", dirname(dirbuf));
        free(dirbuf);
        DIR *d = opendir(tdir);
        char *files[256];
        size_t nf = 0;
        if (d) {
            struct dirent *e;
            while ((e = readdir(d)) && nf < 256) {
                size_t l = strlen(e->d_name);
                if (l > 6 && strcmp(e->d_name + l - 6, ".jsonl") == 0) {
                    char buf[8192];
                    snprintf(buf, sizeof buf, "%s/%s", tdir, e->d_name);
                    files[nf++] = strdup(buf);
                }
            }
            closedir(d);
        }
        qsort(files, nf, sizeof files[0], cmp_str);
        test_stats st = {0};
        for (size_t i = 0; i < nf; i++) {
            run_file(p, files[i], &st, evbuf);
            free(files[i]);
        }
        if (!nf) printf("%s: no test cases in %s\n", names[k], tdir);
        printf("%s: %zu passed, %zu failed\n", prog_str(p, p->name), st.passed, st.failed);
        total.passed += st.passed;
        total.failed += st.failed;
        prog_free(p);
        free(src);
    }
    free(evbuf);
    printf("%zu passed, %zu failed\n", total.passed, total.failed);
    if (rc == EXIT_OK && total.failed) rc = EXIT_TESTFAIL;
    return rc;
}
