/*
 * cmd_list.c — `quy list`: the registry of rulesets (rulesets/registry.json)
 * as a tree of localities with each ruleset's validity; `quy list
 * --locality X --at DATE` prints the ruleset in force there and then.
 * Also the --locality/--at resolution used by `quy eval|explain|test`.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../compiler/registry.h"
#include "cli.h"

/* The registry: --registry FILE, else the first registry.json in the
 * search path. NULL (reported) on error. */
static registry *load_registry(const cli_paths *ps, const char *file, const char *cmd)
{
    char *path = NULL;
    if (file)
        path = strdup(file);
    else {
        cli_paths all;
        cli_paths_defaults(ps, &all);
        path = reg_find(all.dirs, all.n);
        if (!path) {
            fprintf(stderr, "quy %s: no %s in the ruleset search path (give --registry FILE or --rulesets DIR)\n", cmd,
                    REG_FILE);
            return NULL;
        }
    }
    char *err = NULL;
    registry *r = reg_load(path, &err);
    if (!r) fprintf(stderr, "%s\nquy %s: the registry has errors: nothing was resolved\n", err ? err : path, cmd);
    free(err);
    free(path);
    return r;
}

/* --at DATE, or a rating period (the period decides which regulation
 * rates it: "2025" is the annual round, rated at the year's end, so
 * 2025-12-31; "2026-Q2" the quarter's last day), or today (local time)
 * when NULL. */
static bool parse_at(const char *at, int64_t *days, const char *cmd)
{
    char today[16], end[16];
    if (!at) {
        time_t now = time(NULL);
        struct tm tm;
        localtime_r(&now, &tm);
        strftime(today, sizeof today, "%Y-%m-%d", &tm);
        at = today;
    }
    size_t n = strlen(at);
    bool year = n == 4 || (n == 7 && at[4] == '-' && (at[5] == 'Q' || at[5] == 'q') && at[6] >= '1' && at[6] <= '4');
    for (size_t i = 0; year && i < 4; i++) year = at[i] >= '0' && at[i] <= '9';
    if (year) {
        static const char *const qend[4] = {"03-31", "06-30", "09-30", "12-31"};
        snprintf(end, sizeof end, "%.4s-%s", at, n == 4 ? "12-31" : qend[at[6] - '1']);
        at = end;
        n = 10;
    }
    if (n != 10 || !q_parse_date(at, 10, days)) {
        fprintf(stderr, "quy %s: --at needs a date YYYY-MM-DD or a rating period (2025, 2026-Q2), not '%s'\n", cmd, at);
        return false;
    }
    return true;
}

char *cli_locality_ruleset(const cli_paths *ps, const char *registry_file, const char *locality, const char *at,
                           const char *cmd)
{
    int64_t days;
    if (!parse_at(at, &days, cmd)) return NULL;
    registry *r = load_registry(ps, registry_file, cmd);
    if (!r) return NULL;
    reg_choice c;
    char *why = NULL;
    char *name = NULL;
    if (reg_resolve(r, locality, days, &c, &why) == 0) {
        fprintf(stderr, "quy %s: %s%s\n", cmd, why, at ? "" : " (--at not given: today)");
        name = strdup(c.entry->ruleset);
    } else
        fprintf(stderr, "quy %s: %s\n", cmd, why ? why : "cannot resolve the locality");
    free(why);
    reg_free(r);
    return name;
}

/* ---------------------------------------------------------------------
 * The tree
 * ------------------------------------------------------------------- */

static int cmp_entry(const void *a, const void *b)
{
    const reg_entry *x = *(const reg_entry *const *)a, *y = *(const reg_entry *const *)b;
    return (x->effective > y->effective) - (x->effective < y->effective);
}

/* The rulesets of locality l, by effective date (n returned). */
static size_t loc_rulesets(const registry *r, int l, const reg_entry **out)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nrs; i++)
        if (r->rs[i].locality == l) out[n++] = &r->rs[i];
    qsort(out, n, sizeof *out, cmp_entry);
    return n;
}

static void print_node(const registry *r, int l, const char *lead, const char *cont)
{
    const reg_locality *L = &r->loc[l];
    printf("%s%s [%s, %s]\n", lead, L->full_name, L->id, reg_level_code[L->level]);
    int kids[256];
    size_t nk = 0;
    for (size_t i = 0; i < r->nloc && nk < 256; i++)
        if (r->loc[i].parent == l) kids[nk++] = (int)i;
    const reg_entry **es = malloc((r->nrs + 1) * sizeof *es);
    if (!es) abort();
    size_t ne = loc_rulesets(r, l, es);
    for (size_t i = 0; i < ne; i++) {
        char v[128];
        reg_validity(r, es[i], v, sizeof v);
        printf("%s%s• %s  %s  %s\n", cont, nk ? "│  " : "   ", es[i]->ruleset, v, es[i]->document);
        if (es[i]->provisional)
            printf("%s%s    ⚠ PROVISIONAL (tạm thời): %s\n", cont, nk ? "│  " : "   ", es[i]->provisional);
    }
    free(es);
    for (size_t i = 0; i < nk; i++) {
        bool last = i + 1 == nk;
        char l2[512], c2[512];
        snprintf(l2, sizeof l2, "%s%s", cont, last ? "└─ " : "├─ ");
        snprintf(c2, sizeof c2, "%s%s", cont, last ? "   " : "│  ");
        print_node(r, kids[i], l2, c2);
    }
}

static json_t *date_json(int64_t d)
{
    if (d == REG_OPEN_END) return json_null();
    char b[16];
    q_format_date(d, b);
    return json_string(b);
}

static json_t *str_or_null(const char *s) { return s ? json_string(s) : json_null(); }

static json_t *node_json(const registry *r, int l)
{
    const reg_locality *L = &r->loc[l];
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(L->id));
    json_object_set_new(o, "name", json_string(L->name));
    json_object_set_new(o, "full_name", json_string(L->full_name));
    json_object_set_new(o, "code", str_or_null(L->code));
    json_object_set_new(o, "level", json_string(reg_level_code[L->level]));
    json_object_set_new(o, "parent", L->parent >= 0 ? json_string(r->loc[L->parent].id) : json_null());
    json_t *rs = json_array();
    const reg_entry **es = malloc((r->nrs + 1) * sizeof *es);
    if (!es) abort();
    size_t ne = loc_rulesets(r, l, es);
    for (size_t i = 0; i < ne; i++) {
        const reg_entry *e = es[i];
        json_t *j = json_object();
        json_object_set_new(j, "ruleset", json_string(e->ruleset));
        json_object_set_new(j, "document", json_string(e->document));
        json_object_set_new(j, "source", str_or_null(e->source));
        json_object_set_new(j, "effective", date_json(e->effective));
        json_object_set_new(j, "until", date_json(e->until));
        json_object_set_new(j, "superseded_by", e->superseded_by >= 0 ? json_string(r->rs[e->superseded_by].ruleset) : json_null());
        json_object_set_new(j, "in_force_until", date_json(e->end));
        json_object_set_new(j, "provisional", str_or_null(e->provisional));
        json_array_append_new(rs, j);
    }
    free(es);
    json_object_set_new(o, "rulesets", rs);
    json_t *kids = json_array();
    for (size_t i = 0; i < r->nloc; i++)
        if (r->loc[i].parent == l) json_array_append_new(kids, node_json(r, (int)i));
    json_object_set_new(o, "children", kids);
    return o;
}

/* The PARENT of `ruleset NAME extends PARENT` in the header of the .quy at
 * `path` (malloc'd), NULL when it extends nothing (or the file cannot be
 * read: the search-path warning above says so). The header is the first
 * line that is neither blank nor a comment. */
static char *header_parent(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    char line[1024], a[128], b[128], c[128], d[128];
    char *parent = NULL;
    while (fgets(line, sizeof line, f)) {
        const char *t = line + strspn(line, " \t\r\n");
        if (!*t || !strncmp(t, "--", 2)) continue;
        if (sscanf(t, "%127s %127s %127s %127s", a, b, c, d) == 4 && !strcmp(a, "ruleset") && !strcmp(c, "extends"))
            parent = strdup(d);
        break;
    }
    fclose(f);
    return parent;
}

/* A local ruleset extends the ruleset in force on its dates: warn when the
 * registered parent is not in force on the variant's effective date, or
 * ends while the variant stays in force (it should lapse with it:
 * 'superseded_by' or 'until'). */
static void check_parent_dates(const registry *r, const reg_entry *e, const char *src)
{
    char *parent = header_parent(src);
    if (!parent) return;
    for (size_t k = 0; k < r->nrs; k++) {
        const reg_entry *P = &r->rs[k];
        if (strcmp(P->ruleset, parent)) continue;
        char ve[128], vp[128];
        reg_validity(r, e, ve, sizeof ve);
        reg_validity(r, P, vp, sizeof vp);
        if (e->effective < P->effective || e->effective > P->end)
            fprintf(stderr, "quy list: warning: ruleset '%s' (in force %s) extends '%s', which is not in force on its first day (%s)\n",
                    e->ruleset, ve, parent, vp);
        else if (e->end > P->end)
            fprintf(stderr, "quy list: warning: ruleset '%s' (in force %s) extends '%s' but stays in force after it ends (%s): "
                            "give '%s' 'superseded_by' (or 'until') so that it lapses with its parent\n",
                    e->ruleset, ve, parent, vp, e->ruleset);
    }
    free(parent);
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
    if (locality) {
        int64_t days;
        if (!parse_at(at, &days, "list")) return EXIT_RULESET;
        registry *r = load_registry(&ps, registry_file, "list");
        if (!r) return EXIT_RULESET;
        reg_choice c;
        char *why = NULL;
        int rc = reg_resolve(r, locality, days, &c, &why);
        if (rc != 0) {
            fprintf(stderr, "quy list: %s\n", why ? why : "cannot resolve the locality");
            free(why);
            reg_free(r);
            return EXIT_RULESET;
        }
        if (json) {
            json_t *o = json_object();
            json_object_set_new(o, "locality", json_string(c.asked->id));
            json_object_set_new(o, "at", date_json(days));
            json_object_set_new(o, "ruleset", json_string(c.entry->ruleset));
            json_object_set_new(o, "from_locality", json_string(c.from->id));
            json_object_set_new(o, "effective", date_json(c.entry->effective));
            json_object_set_new(o, "in_force_until", date_json(c.entry->end));
            json_object_set_new(o, "provisional", str_or_null(c.entry->provisional));
            json_object_set_new(o, "reason", json_string(why));
            json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
            putchar('\n');
            json_decref(o);
        } else {
            printf("%s%s\n", c.entry->ruleset, c.entry->provisional ? " (PROVISIONAL)" : "");
            fprintf(stderr, "quy list: %s%s\n", why, at ? "" : " (--at not given: today)");
        }
        free(why);
        reg_free(r);
        return EXIT_OK;
    }
    registry *r = load_registry(&ps, registry_file, "list");
    if (!r) return EXIT_RULESET;
    fprintf(stderr, "registry: %s\n", r->path);
    /* a registered ruleset that the search path cannot find */
    for (size_t i = 0; i < r->nrs; i++) {
        char *src = cli_resolve(&ps, r->rs[i].ruleset);
        if (!src)
            fprintf(stderr, "quy list: warning: ruleset '%s' (%s) is not in the ruleset search path\n", r->rs[i].ruleset,
                    r->loc[r->rs[i].locality].id);
        else
            check_parent_dates(r, &r->rs[i], src);
        free(src);
    }
    if (json) {
        json_t *roots = json_array();
        for (size_t i = 0; i < r->nloc; i++)
            if (r->loc[i].parent < 0) json_array_append_new(roots, node_json(r, (int)i));
        json_t *o = json_object();
        json_object_set_new(o, "localities", roots);
        json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        putchar('\n');
        json_decref(o);
    } else {
        for (size_t i = 0; i < r->nloc; i++)
            if (r->loc[i].parent < 0) print_node(r, (int)i, "", "");
    }
    reg_free(r);
    return EXIT_OK;
}
