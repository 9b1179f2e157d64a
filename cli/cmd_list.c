/*
 * cmd_list.c — `quy list`: the registry of rulesets (rulesets/registry.json)
 * as a tree of localities with each ruleset's validity; `quy list
 * --locality X --at DATE` prints the ruleset in force there and then.
 * The registry, its resolution and its checks are the library's
 * (quy_registry_* in quy.h); this file renders them as text or JSON.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

/* The registry: --registry FILE, else the first registry.json in the
 * search path. NULL (reported) on error. */
static quy_registry *load_registry(const cli_paths *ps, const char *file, const char *cmd)
{
    quy_registry *r = NULL;
    quy_status st = file ? quy_registry_load(file, &r) : quy_loader_registry(ps->ld, &r);
    if (st == QUY_ERROR)
        fprintf(stderr, "%s\nquy %s: the registry has errors: nothing was resolved\n", quy_errmsg(), cmd);
    else if (st != QUY_OK)
        fprintf(stderr, "quy %s: %s\n", cmd, quy_errmsg());
    return r;
}

static const char *loc(const quy_registry *r, size_t i, const char *attr) { return quy_registry_locality(r, i, attr); }
static const char *ent(const quy_registry *r, size_t i, const char *attr) { return quy_registry_ruleset(r, i, attr); }
static bool same(const char *a, const char *b) { return a && b && !strcmp(a, b); }

/* ---------------------------------------------------------------------
 * The tree
 * ------------------------------------------------------------------- */

static const quy_registry *g_sort; /* for cmp_entry */

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(ent(g_sort, *(const size_t *)a, "effective"), ent(g_sort, *(const size_t *)b, "effective"));
}

/* The rulesets of locality l, by effective date (n returned; out holds
 * quy_registry_ruleset_count entries). Two rulesets of one locality are
 * never in force on the same day, so the order is total. */
static size_t loc_rulesets(const quy_registry *r, size_t l, size_t *out)
{
    size_t n = 0;
    for (size_t i = 0; i < quy_registry_ruleset_count(r); i++)
        if (same(ent(r, i, "locality"), loc(r, l, "id"))) out[n++] = i;
    g_sort = r;
    qsort(out, n, sizeof *out, cmp_entry);
    return n;
}

static size_t *alloc_indexes(size_t n)
{
    size_t *v = malloc((n + 1) * sizeof *v);
    if (!v) {
        fprintf(stderr, "quy list: out of memory\n");
        exit(EXIT_IO);
    }
    return v;
}

static void print_node(const quy_registry *r, size_t l, const char *lead, const char *cont)
{
    printf("%s%s [%s, %s]\n", lead, loc(r, l, "full_name"), loc(r, l, "id"), loc(r, l, "level"));
    size_t nloc = quy_registry_locality_count(r), nk = 0;
    size_t *kids = alloc_indexes(nloc), *es = alloc_indexes(quy_registry_ruleset_count(r));
    for (size_t i = 0; i < nloc; i++)
        if (same(loc(r, i, "parent"), loc(r, l, "id"))) kids[nk++] = i;
    size_t ne = loc_rulesets(r, l, es);
    for (size_t i = 0; i < ne; i++) {
        printf("%s%s• %s  %s  %s\n", cont, nk ? "│  " : "   ", ent(r, es[i], "ruleset"), ent(r, es[i], "validity"),
               ent(r, es[i], "document"));
        if (ent(r, es[i], "provisional"))
            printf("%s%s    ⚠ PROVISIONAL (tạm thời): %s\n", cont, nk ? "│  " : "   ", ent(r, es[i], "provisional"));
    }
    free(es);
    for (size_t i = 0; i < nk; i++) {
        bool last = i + 1 == nk;
        size_t n = strlen(cont) + 8;
        char *l2 = malloc(n), *c2 = malloc(n);
        if (!l2 || !c2) {
            fprintf(stderr, "quy list: out of memory\n");
            exit(EXIT_IO);
        }
        snprintf(l2, n, "%s%s", cont, last ? "└─ " : "├─ ");
        snprintf(c2, n, "%s%s", cont, last ? "   " : "│  ");
        print_node(r, kids[i], l2, c2);
        free(l2);
        free(c2);
    }
    free(kids);
}

static json_t *str_or_null(const char *s) { return s ? json_string(s) : json_null(); }

static json_t *node_json(const quy_registry *r, size_t l)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(loc(r, l, "id")));
    json_object_set_new(o, "name", json_string(loc(r, l, "name")));
    json_object_set_new(o, "full_name", json_string(loc(r, l, "full_name")));
    json_object_set_new(o, "code", str_or_null(loc(r, l, "code")));
    json_object_set_new(o, "level", json_string(loc(r, l, "level")));
    json_object_set_new(o, "parent", str_or_null(loc(r, l, "parent")));
    json_t *rs = json_array();
    size_t *es = alloc_indexes(quy_registry_ruleset_count(r));
    size_t ne = loc_rulesets(r, l, es);
    static const char *const attrs[] = {"ruleset", "document", "source", "effective", "until", "superseded_by",
                                        "in_force_until", "provisional"};
    for (size_t i = 0; i < ne; i++) {
        json_t *j = json_object();
        for (size_t a = 0; a < sizeof attrs / sizeof attrs[0]; a++)
            json_object_set_new(j, attrs[a], str_or_null(ent(r, es[i], attrs[a])));
        json_array_append_new(rs, j);
    }
    free(es);
    json_object_set_new(o, "rulesets", rs);
    json_t *kids = json_array();
    for (size_t i = 0; i < quy_registry_locality_count(r); i++)
        if (same(loc(r, i, "parent"), loc(r, l, "id"))) json_array_append_new(kids, node_json(r, i));
    json_object_set_new(o, "children", kids);
    return o;
}

/* `quy list --locality X [--at DATE]`: the ruleset in force there. */
static int list_locality(const cli_paths *ps, const char *registry_file, const char *locality, const char *at,
                         bool json)
{
    char today[16];
    if (!at) cli_today(today, sizeof today);
    const char *when = at ? at : today;
    char *day = NULL;
    if (quy_period_day(when, &day) != QUY_OK) {
        fprintf(stderr, "quy list: --at needs a date YYYY-MM-DD or a rating period (2025, 2026-Q2), not '%s'\n", when);
        return EXIT_RULESET;
    }
    quy_registry *r = load_registry(ps, registry_file, "list");
    if (!r) {
        quy_free(day);
        return EXIT_RULESET;
    }
    size_t e, asked, from;
    char *why = NULL;
    if (quy_registry_resolve(r, locality, when, &e, &asked, &from, &why) != QUY_OK) {
        fprintf(stderr, "quy list: %s\n", quy_errmsg());
        quy_free(day);
        quy_registry_free(r);
        return EXIT_RULESET;
    }
    if (json) {
        json_t *o = json_object();
        json_object_set_new(o, "locality", json_string(loc(r, asked, "id")));
        json_object_set_new(o, "at", json_string(day));
        json_object_set_new(o, "ruleset", json_string(ent(r, e, "ruleset")));
        json_object_set_new(o, "from_locality", json_string(loc(r, from, "id")));
        json_object_set_new(o, "effective", json_string(ent(r, e, "effective")));
        json_object_set_new(o, "in_force_until", str_or_null(ent(r, e, "in_force_until")));
        json_object_set_new(o, "provisional", str_or_null(ent(r, e, "provisional")));
        json_object_set_new(o, "reason", json_string(why));
        json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        putchar('\n');
        json_decref(o);
    } else {
        printf("%s%s\n", ent(r, e, "ruleset"), ent(r, e, "provisional") ? " (PROVISIONAL)" : "");
        fprintf(stderr, "quy list: %s%s\n", why, at ? "" : " (--at not given: today)");
    }
    quy_free(why);
    quy_free(day);
    quy_registry_free(r);
    return EXIT_OK;
}

int cmd_list(int argc, char **argv)
{
    cli_paths ps;
    cli_paths_init(&ps);
    const char *registry_file = NULL, *locality = NULL, *at = NULL;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (cli_opt(argc, argv, &i, "--rulesets", &v))
            cli_paths_add(&ps, v);
        else if (cli_opt(argc, argv, &i, "--registry", &v))
            registry_file = v;
        else if (cli_opt(argc, argv, &i, "--locality", &v))
            locality = v;
        else if (cli_opt(argc, argv, &i, "--at", &v))
            at = v;
        else if (cli_opt(argc, argv, &i, "--json", NULL))
            json = true;
        else {
            fprintf(stderr, "usage: quy list [--json] [--registry FILE] [--rulesets DIR] [--locality NAME|CODE [--at YYYY-MM-DD|PERIOD]]\n");
            return EXIT_RULESET;
        }
    }
    if (at && !locality) {
        fprintf(stderr, "quy list: --at needs --locality\n");
        return EXIT_RULESET;
    }
    if (locality) return list_locality(&ps, registry_file, locality, at, json);
    quy_registry *r = load_registry(&ps, registry_file, "list");
    if (!r) return EXIT_RULESET;
    fprintf(stderr, "registry: %s\n", quy_registry_path(r));
    /* a registered ruleset that the search path cannot find, or whose parent's dates do not cover it */
    size_t nw;
    if (quy_registry_check(r, ps.ld, &nw) != QUY_OK) {
        fprintf(stderr, "quy list: %s\n", quy_errmsg());
        quy_registry_free(r);
        return EXIT_RULESET;
    }
    for (size_t i = 0; i < nw; i++) fprintf(stderr, "quy list: warning: %s\n", quy_registry_warning(r, i));
    if (json) {
        json_t *roots = json_array();
        for (size_t i = 0; i < quy_registry_locality_count(r); i++)
            if (!loc(r, i, "parent")) json_array_append_new(roots, node_json(r, i));
        json_t *o = json_object();
        json_object_set_new(o, "localities", roots);
        json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        putchar('\n');
        json_decref(o);
    } else {
        for (size_t i = 0; i < quy_registry_locality_count(r); i++)
            if (!loc(r, i, "parent")) print_node(r, i, "", "");
    }
    quy_registry_free(r);
    return EXIT_OK;
}
