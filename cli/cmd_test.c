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

#include "../compiler/diag.h"
#include "../runtime/batch.h"
#include "../runtime/batch_render.h"
#include "../runtime/explain.h"
#include "../runtime/record.h"
#include "../runtime/vm.h"
#include "cli.h"

typedef struct test_stats {
    size_t passed, failed;
} test_stats;

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The flag codes of a rated record: its rules' flags, then the batch steps'. */
static size_t flag_codes(const q_program *p, const batch *bt, const batch_view *v, const char **out, size_t max)
{
    size_t n = 0;
    for (uint16_t i = 0; i < v->res.nflags && n < max; i++) out[n++] = prog_str(p, p->flags[v->res.flags[i]].name);
    const char *code[8], *cite[8];
    char *msg[8];
    size_t nx = batch_flags(bt, v->index, code, msg, cite, 8);
    for (size_t i = 0; i < nx; i++) {
        if (n < max) out[n++] = code[i];
        free(msg[i]);
    }
    return n;
}

/* Does the raised flag set equal the expected array (as sets)? */
static bool flags_match(const char **got, size_t ng, json_t *want)
{
    size_t nw = json_array_size(want);
    for (size_t i = 0; i < ng; i++) {
        bool found = false;
        for (size_t j = 0; j < nw; j++) found |= strcmp(json_string_value(json_array_get(want, j)) ?: "", got[i]) == 0;
        if (!found) return false;
    }
    for (size_t j = 0; j < nw; j++) {
        const char *w = json_string_value(json_array_get(want, j));
        bool found = false;
        for (size_t i = 0; i < ng && w; i++) found |= strcmp(got[i], w) == 0;
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

/* Check record `idx` of the batch against one "expect" object; false with
 * the reason in `why` on a mismatch. */
static bool check_expect(const q_program *p, const batch *bt, size_t idx, json_t *ex, char *why, size_t whysz)
{
    batch_view v;
    batch_get(bt, idx, &v);
    const char *want_err = json_string_value(json_object_get(ex, "error"));
    const char *want_field = json_string_value(json_object_get(ex, "field"));
    const char *want_tier = json_string_value(json_object_get(ex, "tier"));
    const char *want_elig = json_string_value(json_object_get(ex, "eligible_tier"));
    json_t *want_flags = json_object_get(ex, "flags");
    if (v.status == BATCH_REJECTED) {
        const rec_error *e = v.error;
        if (!want_err) {
            snprintf(why, whysz, "record rejected: [%s] field '%s': %s", e->code, e->field, e->message);
            return false;
        }
        if (strcmp(want_err, e->code) != 0 || (want_field && strcmp(want_field, e->field) != 0)) {
            snprintf(why, whysz, "expected error %s on '%s', got [%s] on '%s': %s", want_err, want_field ?: "", e->code,
                     e->field, e->message);
            return false;
        }
        return true;
    }
    const char *rule = v.res.rule < p->nrules ? prog_str(p, p->rules[v.res.rule].name) : "?";
    if (want_err) {
        snprintf(why, whysz, "expected the record to be rejected (%s), but it was rated %s", want_err,
                 q_outcome_code[v.res.outcome]);
        return false;
    }
    if (want_tier && strcmp(want_tier, q_outcome_code[v.res.outcome]) != 0) {
        snprintf(why, whysz, "expected tier %s, got %s (rule %s; eligible %s)", want_tier, q_outcome_code[v.res.outcome],
                 rule, q_outcome_code[v.eligible]);
        return false;
    }
    if (want_elig && strcmp(want_elig, q_outcome_code[v.eligible]) != 0) {
        snprintf(why, whysz, "expected eligible tier %s, got %s (rule %s)", want_elig, q_outcome_code[v.eligible], rule);
        return false;
    }
    const char *got[QUY_MAX_FLAGS + 8];
    size_t ng = flag_codes(p, bt, &v, got, QUY_MAX_FLAGS + 8);
    if (want_flags && !flags_match(got, ng, want_flags)) {
        char *w = json_dumps(want_flags, JSON_COMPACT);
        size_t o = (size_t)snprintf(why, whysz, "expected flags %s, got [", w ?: "?");
        free(w);
        for (size_t i = 0; i < ng && o < whysz; i++) o += (size_t)snprintf(why + o, whysz - o, "%s%s", i ? ", " : "", got[i]);
        if (o < whysz) snprintf(why + o, whysz - o, "]");
        return false;
    }
    json_t *want_details = json_object_get(ex, "details");
    if (json_is_object(want_details) && !details_match(p, &v.res, want_details, why, whysz)) return false;
    return true;
}

/* On a failure: the rate block's trace and the batch steps of record idx. */
static void show_trace(const q_program *p, const batch *bt, size_t idx, vm_event *evbuf)
{
    batch_view v;
    batch_get(bt, idx, &v);
    if (v.status != BATCH_RATED || !v.rec) return;
    vm_trace tr = {.ev = evbuf, .cap = QUY_TRACE_CAP};
    vm_result res;
    vm_rate(p, batch_hooks(bt), v.rec, &res, &tr);
    explain_text(p, v.rec, &res, &tr, stdout, 5);
    char *steps = batch_explain_text(bt, idx, 5);
    if (steps) fputs(steps, stdout);
    free(steps);
}

/* Keys of `obj` that are not among fields[first .. first + n) (and not
 * `skip`, e.g. id and kind): a misspelt field in a test case would pass on
 * the field's default, so it is an error, with the nearest name. */
static bool known_keys(const q_program *p, json_t *obj, uint32_t first, uint32_t n, const char *owner, char *why,
                       size_t whysz)
{
    const char *key;
    json_t *val;
    json_object_foreach(obj, key, val) {
        if (!strcmp(key, "id") || !strcmp(key, "kind")) continue;
        bool found = false;
        for (uint32_t i = 0; i < n && !found; i++) found = !strcmp(prog_str(p, p->fields[first + i].name), key);
        if (found) continue;
        const char **cand = malloc((n ? n : 1) * sizeof *cand);
        if (!cand) abort();
        for (uint32_t i = 0; i < n; i++) cand[i] = prog_str(p, p->fields[first + i].name);
        const char *sug = diag_suggest(key, cand, n);
        snprintf(why, whysz, "'%s' is not a field of %s%s%s%s", key, owner, sug ? "; did you mean '" : "",
                 sug ? sug : "", sug ? "'?" : "");
        free(cand);
        return false;
    }
    return true;
}

/* Every key of a case's record names a field of its kind, and every key of
 * a struct element (a list of structs) a field of the struct. */
static bool known_fields(const q_program *p, json_t *rec, char *why, size_t whysz)
{
    const char *kind = json_string_value(json_object_get(rec, "kind"));
    uint32_t k = kind ? prog_find_kind(p, kind, strlen(kind)) : QUY_NONE;
    if (k == QUY_NONE) return true; /* the reader rejects the record and says why */
    const q_kind *kd = &p->kinds[k];
    char owner[160];
    snprintf(owner, sizeof owner, "record '%s'", kind);
    if (!known_keys(p, rec, kd->first_field, kd->nfields, owner, why, whysz)) return false;
    for (uint32_t i = 0; i < kd->nfields; i++) {
        const q_field *f = &p->fields[kd->first_field + i];
        const q_type *t = &p->types[f->type];
        json_t *list = json_object_get(rec, prog_str(p, f->name));
        if (t->kind != QT_LIST || p->types[t->elem].kind != QT_STRUCT || !json_is_array(list)) continue;
        const q_type *st = &p->types[t->elem];
        snprintf(owner, sizeof owner, "the elements of '%s'", prog_str(p, f->name));
        for (size_t j = 0; j < json_array_size(list); j++)
            if (json_is_object(json_array_get(list, j)) &&
                !known_keys(p, json_array_get(list, j), st->first, st->count, owner, why, whysz))
                return false;
    }
    return true;
}

static void run_case(const q_program *p, const char *file, uint32_t line, json_t *tc, test_stats *st, vm_event *evbuf)
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
    for (size_t i = 0; i < (single ? 1 : json_array_size(bj)); i++)
        if (!known_fields(p, single ? rj : json_array_get(bj, i), why, sizeof why)) {
            st->failed++;
            const char *rid = json_string_value(json_object_get(single ? rj : json_array_get(bj, i), "id"));
            printf("FAIL %s — %s (%s:%u)\n     the case's record '%s': %s\n", name, clause, file, line, rid ? rid : "?",
                   why);
            return;
        }
    batch *bt = batch_new(p, true);
    if (!bt) abort();
    batch_single(bt, single);
    rec_error err;
    if (single) {
        batch_add_json(bt, rj, line, file, &err);
    } else {
        for (size_t i = 0; i < json_array_size(bj); i++) batch_add_json(bt, json_array_get(bj, i), line, file, &err);
    }
    if (batch_run(bt) != 0) {
        st->failed++;
        printf("FAIL %s (%s:%u): out of memory\n", name, file, line);
        batch_free(bt);
        return;
    }
    bool ok = true;
    size_t bad = 0;
    if (single) {
        ok = check_expect(p, bt, 0, ex, why, sizeof why);
    } else {
        const char *id;
        json_t *want;
        json_object_foreach(ex, id, want) {
            size_t idx = batch_find(bt, id);
            if (idx == SIZE_MAX) {
                ok = false;
                snprintf(why, sizeof why, "'%s': no record with this id in the batch", id);
                break;
            }
            char w[1800];
            if (!json_is_object(want) || !check_expect(p, bt, idx, want, w, sizeof w)) {
                ok = false;
                bad = idx;
                snprintf(why, sizeof why, "'%s': %s", id, json_is_object(want) ? w : "expect an object per id");
                break;
            }
        }
    }
    if (ok) {
        st->passed++;
    } else {
        st->failed++;
        printf("FAIL %s — %s (%s:%u)\n     %s\n", name, clause, file, line, why);
        show_trace(p, bt, bad, evbuf);
    }
    batch_free(bt);
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
    const char *locality = NULL, *at = NULL, *registry_file = NULL;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (cli_opt(argc, argv, &i, "--rulesets", &v))
            cli_paths_add(&ps, v);
        else if (cli_opt(argc, argv, &i, "--locality", &v))
            locality = v;
        else if (cli_opt(argc, argv, &i, "--at", &v))
            at = v;
        else if (cli_opt(argc, argv, &i, "--registry", &v))
            registry_file = v;
        else if (nnames < 64)
            names[nnames++] = argv[i];
    }
    char *chosen = NULL; /* --locality: the ruleset in force there */
    if ((at || registry_file) && !locality) {
        fprintf(stderr, "quy test: --at and --registry go with --locality\n");
        return EXIT_RULESET;
    }
    if (locality) {
        if (!(chosen = cli_locality_ruleset(&ps, registry_file, locality, at, "test"))) return EXIT_RULESET;
        if (nnames < 64) names[nnames++] = chosen;
    }
    if (!nnames) {
        fprintf(stderr, "usage: quy test NAME... | --locality NAME|CODE [--at YYYY-MM-DD|PERIOD]   (runs rulesets/NAME/tests/*.jsonl)\n");
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
    free(chosen);
    printf("%zu passed, %zu failed\n", total.passed, total.failed);
    if (rc == EXIT_OK && total.failed) rc = EXIT_TESTFAIL;
    return rc;
}
