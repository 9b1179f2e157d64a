/*
 * cmd_describe.c — `quy describe --fields [--rulesets DIR]`: the record
 * fields of every ruleset in DIR (default ./rulesets), by kind, as the
 * Markdown tables of docs/records.md.
 *
 * Every folder DIR/NAME holding NAME.quy is a ruleset; each is compiled
 * and its kinds' fields listed with their type, presence (required,
 * optional, default, computed), label, and the rulesets that declare the
 * field for the kind — marked "not read" where the ruleset's code never
 * reads it. `scripts/records-md.sh` splices the output into
 * docs/records.md.in; a ctest compares the result with docs/records.md,
 * so a ruleset that adds a field without regenerating fails the tests.
 */
#define _GNU_SOURCE 1 /* asprintf, open_memstream */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/stat.h>

#include "cli.h"

/* One ruleset of the folder (the library's fields API: quy_kind_field*, quy_type*). */
typedef struct d_rs {
    char *name;
    quy_ruleset *rs;
} d_rs;

static int cmp_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static _Noreturn void oom(void)
{
    fprintf(stderr, "quy describe: out of memory\n");
    exit(EXIT_IO);
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) oom();
    return q;
}

/* The rulesets of `dir`: folders NAME holding NAME.quy, sorted. */
static size_t list_rulesets(const char *dir, char ***out)
{
    DIR *d = opendir(dir);
    size_t n = 0, cap = 0;
    *out = NULL;
    if (!d) return 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        size_t len = strlen(dir) + 2 * strlen(e->d_name) + 8;
        char *path = xrealloc(NULL, len);
        snprintf(path, len, "%s/%s/%s.quy", dir, e->d_name, e->d_name);
        struct stat st;
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            if (n == cap) {
                cap = cap ? cap * 2 : 8;
                *out = xrealloc(*out, cap * sizeof **out);
            }
            if (!((*out)[n++] = strdup(e->d_name))) oom();
        }
        free(path);
    }
    closedir(d);
    qsort(*out, n, sizeof **out, cmp_name);
    return n;
}

static bool is(const char *a, const char *b) { return a && b && !strcmp(a, b); }

/* A type as docs/records.md writes it: "list of X", "`name`", "one of `a`, `b`", "int". */
static void type_text(const quy_ruleset *rs, size_t t, FILE *f)
{
    const char *kind = quy_type(rs, t, "kind"), *name = quy_type(rs, t, "name");
    size_t elem;
    if (is(kind, "list") && quy_type_element(rs, t, &elem) == QUY_OK) {
        fputs("list of ", f);
        type_text(rs, elem, f);
    } else if (name) {
        fprintf(f, "`%s`", name);
    } else if (is(kind, "enum")) {
        fputs("one of", f);
        for (size_t i = 0; i < quy_type_member_count(rs, t); i++)
            fprintf(f, "%s `%s`", i ? "," : "", quy_type_member(rs, t, i, "name"));
    } else {
        fputs(kind ? kind : "?", f);
    }
}

/* type_text as a string (malloc'd). */
static char *type_string(const quy_ruleset *rs, size_t t)
{
    char *s = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&s, &n);
    if (!f) oom();
    type_text(rs, t, f);
    if (fclose(f) != 0) oom();
    return s;
}

/* The field's type text and presence text ("default `0`"), malloc'd. */
static void field_texts(const quy_ruleset *rs, size_t k, size_t i, char **ty, char **pr)
{
    size_t t = 0;
    quy_kind_field_type(rs, k, i, &t);
    *ty = type_string(rs, t);
    const char *presence = quy_kind_field(rs, k, i, "presence");
    char *s = NULL;
    if (is(presence, "computed")) s = strdup("computed when absent");
    else if (is(presence, "default") && asprintf(&s, "default `%s`", quy_kind_field(rs, k, i, "default")) < 0) s = NULL;
    else if (!is(presence, "default")) s = strdup(presence ? presence : "?");
    if (!s) oom();
    *pr = s;
}

/* Field `nm` of kind `kind` in ruleset r, if it is declared with type text
 * `ty` and presence `pr`: its kind and field index. */
static bool same_decl(const d_rs *r, const char *kind, const char *nm, const char *ty, const char *pr, size_t *kb,
                      size_t *fb)
{
    if (quy_ruleset_find_kind(r->rs, kind, kb) != QUY_OK) return false;
    size_t n = quy_kind_field_count(r->rs, *kb);
    for (*fb = 0; *fb < n && !is(quy_kind_field(r->rs, *kb, *fb, "name"), nm); ++*fb) {}
    if (*fb == n) return false;
    char *tyb, *prb;
    field_texts(r->rs, *kb, *fb, &tyb, &prb);
    bool same = !strcmp(ty, tyb) && !strcmp(pr, prb);
    free(tyb);
    free(prb);
    return same;
}

/* One row per field name and declaration (type, presence) of a kind, with
 * the rulesets that declare it so. */
static void kind_table(d_rs *rs, size_t n, const char *kind)
{
    printf("\n### `%s`\n\n| field | type | presence | label | rulesets |\n|---|---|---|---|---|\n", kind);
    printf("| `id` | string | required | mã đối tượng, duy nhất trong một lô | every ruleset |\n");
    printf("| `kind` | `%s` | required | loại đối tượng | every ruleset |\n", kind);
    for (size_t a = 0; a < n; a++) {
        size_t ka;
        if (quy_ruleset_find_kind(rs[a].rs, kind, &ka) != QUY_OK) continue;
        for (size_t i = 0; i < quy_kind_field_count(rs[a].rs, ka); i++) {
            char *ty, *pr;
            field_texts(rs[a].rs, ka, i, &ty, &pr);
            const char *nm = quy_kind_field(rs[a].rs, ka, i, "name");
            size_t kb, fb;
            bool done = false; /* listed with an earlier ruleset's identical declaration */
            for (size_t b = 0; b < a && !done; b++) done = same_decl(&rs[b], kind, nm, ty, pr, &kb, &fb);
            if (!done) {
                printf("| `%s` | %s | %s | %s | ", nm, ty, pr, quy_kind_field(rs[a].rs, ka, i, "label"));
                for (size_t b = a; b < n; b++) {
                    if (!same_decl(&rs[b], kind, nm, ty, pr, &kb, &fb)) continue;
                    bool read = is(quy_kind_field(rs[b].rs, kb, fb, "read"), "true");
                    printf("%s%s%s", b == a ? "" : ", ", rs[b].name, read ? "" : " (not read)");
                }
                printf(" |\n");
            }
            free(ty);
            free(pr);
        }
    }
}

/* Is type t of `kinds` (a space-separated list: "enum scale")? */
static bool kind_in(const quy_ruleset *rs, size_t t, const char *kinds)
{
    const char *k = quy_type(rs, t, "kind");
    size_t n = k ? strlen(k) : 0;
    for (const char *p = kinds; k && (p = strstr(p, k)); p += n)
        if ((p == kinds || p[-1] == ' ') && (p[n] == ' ' || !p[n])) return true;
    return false;
}

/* The type named `name` of one of `kinds`, or SIZE_MAX. */
static size_t named_type(const quy_ruleset *rs, const char *kinds, const char *name)
{
    for (size_t u = 0; u < quy_ruleset_type_count(rs); u++)
        if (kind_in(rs, u, kinds) && is(quy_type(rs, u, "name"), name)) return u;
    return SIZE_MAX;
}

/* Do types t of p and u of q have the same members (codes, in order)? */
static bool same_members(const quy_ruleset *p, size_t t, const quy_ruleset *q, size_t u)
{
    if (quy_type_member_count(p, t) != quy_type_member_count(q, u)) return false;
    for (size_t i = 0; i < quy_type_member_count(p, t); i++)
        if (!is(quy_type_member(p, t, i, "name"), quy_type_member(q, u, i, "name"))) return false;
    return true;
}

/* The structs (elements of a list field), once per name. */
static void struct_tables(d_rs *rs, size_t n)
{
    printf("\n## Elements of the lists of structures\n\n| struct | field | type | label | rulesets |\n|---|---|---|---|---|\n");
    for (size_t a = 0; a < n; a++) {
        const quy_ruleset *p = rs[a].rs;
        for (size_t t = 0; t < quy_ruleset_type_count(p); t++) {
            const char *name = quy_type(p, t, "name");
            if (!kind_in(p, t, "struct") || !name) continue;
            bool done = false;
            for (size_t b = 0; b < a && !done; b++) done = named_type(rs[b].rs, "struct", name) != SIZE_MAX;
            if (done) continue;
            char *users = NULL;
            size_t nu = 0;
            FILE *uf = open_memstream(&users, &nu);
            if (!uf) oom();
            fputs(rs[a].name, uf);
            for (size_t b = a + 1; b < n; b++)
                if (named_type(rs[b].rs, "struct", name) != SIZE_MAX) fprintf(uf, ", %s", rs[b].name);
            if (fclose(uf) != 0) oom();
            for (size_t i = 0; i < quy_type_member_count(p, t); i++) {
                size_t ft = 0;
                quy_type_member_type(p, t, i, &ft);
                char *tyb = type_string(p, ft);
                printf("| `%s` | `%s` | %s | %s | %s |\n", name, quy_type_member(p, t, i, "name"), tyb,
                       quy_type_member(p, t, i, "label"), users);
                free(tyb);
            }
            free(users);
        }
    }
}

/* The named enums and scales the fields use, once per name and members. */
static void value_tables(d_rs *rs, size_t n)
{
    printf("\n## Values of the enumerations\n\n| type | values (code: label), in order | rulesets |\n|---|---|---|\n");
    for (size_t a = 0; a < n; a++) {
        const quy_ruleset *p = rs[a].rs;
        for (size_t t = 0; t < quy_ruleset_type_count(p); t++) {
            const char *name = quy_type(p, t, "name");
            if (!kind_in(p, t, "enum scale") || !name) continue;
            bool done = false; /* the same name and values in an earlier ruleset: listed there */
            for (size_t b = 0; b < a && !done; b++) {
                size_t u = named_type(rs[b].rs, "enum scale", name);
                done = u != SIZE_MAX && same_members(p, t, rs[b].rs, u);
            }
            if (done) continue;
            printf("| `%s`%s | ", name, kind_in(p, t, "scale") ? " (scale, low to high)" : "");
            for (size_t i = 0; i < quy_type_member_count(p, t); i++)
                printf("%s`%s`: %s", i ? "; " : "", quy_type_member(p, t, i, "name"), quy_type_member(p, t, i, "label"));
            printf(" | %s", rs[a].name);
            for (size_t b = a + 1; b < n; b++) {
                size_t u = named_type(rs[b].rs, "enum scale", name);
                if (u != SIZE_MAX && same_members(p, t, rs[b].rs, u)) printf(", %s", rs[b].name);
            }
            printf(" |\n");
        }
    }
}

int cmd_describe(int argc, char **argv)
{
    const char *dir = "rulesets";
    bool fields = false;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (cli_opt(argc, argv, &i, "--rulesets", &v))
            dir = v;
        else if (!strcmp(argv[i], "--fields"))
            fields = true;
        else {
            fprintf(stderr, "quy describe: unknown option '%s'\nusage: quy describe --fields [--rulesets DIR]\n", argv[i]);
            return EXIT_RULESET;
        }
    }
    if (!fields) {
        fprintf(stderr, "usage: quy describe --fields [--rulesets DIR]   (the record fields of every ruleset in DIR)\n");
        return EXIT_RULESET;
    }
    char **names;
    size_t n = list_rulesets(dir, &names);
    if (!n) {
        fprintf(stderr, "quy describe: no ruleset (NAME/NAME.quy) in '%s'\n", dir);
        return EXIT_RULESET;
    }
    cli_paths ps;
    cli_paths_init(&ps);
    cli_paths_add(&ps, dir);
    d_rs *rs = xrealloc(NULL, n * sizeof *rs);
    int rc = EXIT_OK;
    for (size_t i = 0; i < n; i++) {
        rs[i].name = names[i];
        rs[i].rs = cli_ruleset(&ps, names[i]);
        if (!rs[i].rs) {
            fprintf(stderr, "quy describe: ruleset '%s' does not compile\n", names[i]);
            rc = EXIT_RULESET;
        }
    }
    if (rc == EXIT_OK) {
        /* every kind, in order of first appearance */
        const char **kinds = NULL;
        size_t nk = 0;
        for (size_t i = 0; i < n; i++)
            for (size_t k = 0; k < quy_ruleset_count(rs[i].rs, QUY_COUNT_KINDS); k++) {
                const char *kn = quy_ruleset_kind(rs[i].rs, k);
                bool seen = false;
                for (size_t j = 0; j < nk && !seen; j++) seen = !strcmp(kinds[j], kn);
                if (seen) continue;
                kinds = xrealloc(kinds, (nk + 1) * sizeof *kinds);
                kinds[nk++] = kn;
            }
        printf("<!-- generated by `quy describe --fields` from rulesets/ (scripts/records-md.sh): do not edit -->\n");
        printf("\n## Fields by kind\n\nRulesets: ");
        for (size_t i = 0; i < n; i++) printf("%s`%s`", i ? ", " : "", rs[i].name);
        printf(".\n");
        for (size_t j = 0; j < nk; j++) kind_table(rs, n, kinds[j]);
        struct_tables(rs, n);
        value_tables(rs, n);
        free(kinds);
    }
    for (size_t i = 0; i < n; i++) {
        quy_ruleset_free(rs[i].rs);
        free(names[i]);
    }
    free(rs);
    free(names);
    return rc;
}
