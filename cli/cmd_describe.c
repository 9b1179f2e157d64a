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
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../runtime/value.h"
#include "cli.h"

typedef struct d_rs {
    char *name;
    q_program *p;
    bool **read; /* read[kind][slot] */
} d_rs;

static int cmp_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

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
        char *path = malloc(len);
        if (!path) abort();
        snprintf(path, len, "%s/%s/%s.quy", dir, e->d_name, e->d_name);
        struct stat st;
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            if (n == cap) {
                cap = cap ? cap * 2 : 8;
                *out = realloc(*out, cap * sizeof **out);
                if (!*out) abort();
            }
            (*out)[n++] = strdup(e->d_name);
        }
        free(path);
    }
    closedir(d);
    qsort(*out, n, sizeof **out, cmp_name);
    return n;
}

/* Where kind k's code starts: its first check, batch expression or rate block. */
static uint32_t kind_start(const q_program *p, uint32_t k)
{
    uint32_t s = p->kinds[k].entry;
    for (uint32_t i = 0; i < p->kinds[k].nchecks; i++)
        if (p->checks[p->kinds[k].first_check + i].entry < s) s = p->checks[p->kinds[k].first_check + i].entry;
    for (uint32_t i = 0; i < p->nbexprs; i++)
        if (p->bexprs[i].kind == k && p->bexprs[i].entry < s) s = p->bexprs[i].entry;
    return s;
}

/* Does the batch link records (a computed roll-up, or a head_of/unit cap)? */
static bool batch_graph(const q_program *p)
{
    for (uint32_t i = 0; i < p->nfields; i++)
        if (p->fields[i].flags & QF_BATCH) return true;
    for (uint32_t i = 0; i < p->ncaps; i++)
        if (p->caps[i].bound == QCAP_HEAD_OF || p->caps[i].bound == QCAP_UNIT) return true;
    return false;
}

/* Which fields each kind's code reads (the checker emits a kind's blocks
 * together, kinds in order), plus the batch's own reads: caps' fields and
 * the quota's grouping field. */
static void find_reads(d_rs *r)
{
    const q_program *p = r->p;
    r->read = calloc(p->nkinds ? p->nkinds : 1, sizeof *r->read);
    if (!r->read) abort();
    for (uint32_t k = 0; k < p->nkinds; k++) {
        r->read[k] = calloc(p->kinds[k].nfields ? p->kinds[k].nfields : 1, sizeof **r->read);
        if (!r->read[k]) abort();
        uint32_t start = kind_start(p, k), end = p->ncode;
        for (uint32_t j = 0; j < p->nkinds; j++) {
            uint32_t s = kind_start(p, j);
            if (j != k && s > start && s < end) end = s;
        }
        for (uint32_t pc = start; pc < end && start != QUY_NONE; pc++) {
            const q_instr *in = &p->code[pc];
            op_format f = op_table[in->op].format;
            uint32_t slot = f == OPF_SLOT || f == OPF_SLOTJ ? in->a : f == OPF_LOOP ? in->b : QUY_NONE;
            if (slot < p->kinds[k].nfields) r->read[k][slot] = true;
        }
        for (uint32_t i = 0; i < p->ncaps; i++)
            if (p->caps[i].kind == k && p->caps[i].bound != QCAP_TIER && p->caps[i].slot < p->kinds[k].nfields)
                r->read[k][p->caps[i].slot] = true;
        /* the batch's roll-ups and head/unit caps link records by `unit` and `head_of` (runtime/batch.c) */
        if (batch_graph(p))
            for (int g = 0; g < 2; g++) {
                uint32_t f = prog_find_field(p, k, g ? "head_of" : "unit", g ? 7 : 4);
                if (f != QUY_NONE) r->read[k][f - p->kinds[k].first_field] = true;
            }
        for (uint32_t i = 0; i < p->nquotas; i++) {
            const char *per = prog_str(p, p->quotas[i].per);
            uint32_t f = prog_find_field(p, k, per, strlen(per));
            if (f != QUY_NONE) r->read[k][f - p->kinds[k].first_field] = true;
        }
    }
}

static void type_text(const q_program *p, uint32_t t, char *buf, size_t size)
{
    const q_type *ty = &p->types[t];
    if (ty->kind == QT_LIST) {
        char inner[128];
        type_text(p, ty->elem, inner, sizeof inner);
        snprintf(buf, size, "list of %s", inner);
    } else if (ty->name) {
        snprintf(buf, size, "`%s`", prog_str(p, ty->name));
    } else if (ty->kind == QT_ENUM) {
        size_t n = (size_t)snprintf(buf, size, "one of");
        for (uint32_t i = 0; i < ty->count && n < size; i++)
            n += (size_t)snprintf(buf + n, size - n, "%s `%s`", i ? "," : "", prog_str(p, p->members[ty->first + i].name));
    } else {
        snprintf(buf, size, "%s", q_type_kind_name[ty->kind]);
    }
}

static void presence_text(const q_program *p, const q_field *f, char *buf, size_t size)
{
    if (f->flags & QF_BATCH) {
        snprintf(buf, size, "computed when absent");
    } else if (f->flags & QF_DEFAULT && f->deflt != QUY_NONE) {
        q_val v = p->consts[f->deflt];
        const q_type *t = &p->types[f->type];
        char vb[64];
        if (t->kind == QT_BOOL) snprintf(vb, sizeof vb, "%s", v.n ? "true" : "false");
        else if (t->kind == QT_DATE) q_format_date(v.n, vb);
        else if (t->kind == QT_ENUM || t->kind == QT_SCALE) snprintf(vb, sizeof vb, "%s", prog_str(p, p->members[t->first + (uint32_t)v.n].name));
        else q_format(v, t->kind == QT_PERCENT, vb, sizeof vb);
        snprintf(buf, size, "default `%s`", vb);
    } else {
        snprintf(buf, size, "%s", f->flags & QF_OPTIONAL ? "optional" : "required");
    }
}

/* Field `nm` of kind `kind` in ruleset r, if it is declared with type text
 * `ty` and presence `pr`: its kind and absolute field index. */
static bool same_decl(const d_rs *r, const char *kind, const char *nm, const char *ty, const char *pr, uint32_t *kb,
                      uint32_t *fb)
{
    *kb = prog_find_kind(r->p, kind, strlen(kind));
    *fb = *kb == QUY_NONE ? QUY_NONE : prog_find_field(r->p, *kb, nm, strlen(nm));
    if (*fb == QUY_NONE) return false;
    char tyb[512], prb[128];
    type_text(r->p, r->p->fields[*fb].type, tyb, sizeof tyb);
    presence_text(r->p, &r->p->fields[*fb], prb, sizeof prb);
    return !strcmp(ty, tyb) && !strcmp(pr, prb);
}

/* One row per field name and declaration (type, presence) of a kind, with
 * the rulesets that declare it so. */
static void kind_table(d_rs *rs, size_t n, const char *kind)
{
    printf("\n### `%s`\n\n| field | type | presence | label | rulesets |\n|---|---|---|---|---|\n", kind);
    printf("| `id` | string | required | mã đối tượng, duy nhất trong một lô | every ruleset |\n");
    printf("| `kind` | `%s` | required | loại đối tượng | every ruleset |\n", kind);
    for (size_t a = 0; a < n; a++) {
        uint32_t ka = prog_find_kind(rs[a].p, kind, strlen(kind));
        if (ka == QUY_NONE) continue;
        const q_kind *kd = &rs[a].p->kinds[ka];
        for (uint32_t i = 0; i < kd->nfields; i++) {
            const q_field *f = &rs[a].p->fields[kd->first_field + i];
            char ty[512], pr[128];
            type_text(rs[a].p, f->type, ty, sizeof ty);
            presence_text(rs[a].p, f, pr, sizeof pr);
            const char *nm = prog_str(rs[a].p, f->name);
            uint32_t kb, fb;
            bool done = false; /* listed with an earlier ruleset's identical declaration */
            for (size_t b = 0; b < a && !done; b++) done = same_decl(&rs[b], kind, nm, ty, pr, &kb, &fb);
            if (done) continue;
            printf("| `%s` | %s | %s | %s | ", nm, ty, pr, prog_str(rs[a].p, f->label));
            for (size_t b = a; b < n; b++) {
                if (!same_decl(&rs[b], kind, nm, ty, pr, &kb, &fb)) continue;
                bool read = rs[b].read[kb][fb - rs[b].p->kinds[kb].first_field];
                printf("%s%s%s", b == a ? "" : ", ", rs[b].name, read ? "" : " (not read)");
            }
            printf(" |\n");
        }
    }
}

/* The type named `name` of one of the kinds in `mask` (1 << QT_...), or QUY_NONE. */
static uint32_t named_type(const q_program *p, unsigned mask, const char *name)
{
    for (uint32_t u = 0; u < p->ntypes; u++)
        if ((mask >> p->types[u].kind & 1) && p->types[u].name && !strcmp(prog_str(p, p->types[u].name), name))
            return u;
    return QUY_NONE;
}

/* Do types t of p and u of q have the same members (codes, in order)? */
static bool same_members(const q_program *p, uint32_t t, const q_program *q, uint32_t u)
{
    if (p->types[t].count != q->types[u].count) return false;
    for (uint32_t i = 0; i < p->types[t].count; i++)
        if (strcmp(prog_str(p, p->members[p->types[t].first + i].name), prog_str(q, q->members[q->types[u].first + i].name)))
            return false;
    return true;
}

/* The structs (elements of a list field), once per name. */
static void struct_tables(d_rs *rs, size_t n)
{
    printf("\n## Elements of the lists of structures\n\n| struct | field | type | label | rulesets |\n|---|---|---|---|---|\n");
    for (size_t a = 0; a < n; a++) {
        const q_program *p = rs[a].p;
        for (uint32_t t = 0; t < p->ntypes; t++) {
            const q_type *ty = &p->types[t];
            if (ty->kind != QT_STRUCT || !ty->name) continue;
            const char *name = prog_str(p, ty->name);
            bool done = false;
            for (size_t b = 0; b < a && !done; b++) done = named_type(rs[b].p, 1u << QT_STRUCT, name) != QUY_NONE;
            if (done) continue;
            char users[512];
            size_t k = (size_t)snprintf(users, sizeof users, "%s", rs[a].name);
            for (size_t b = a + 1; b < n && k < sizeof users; b++)
                if (named_type(rs[b].p, 1u << QT_STRUCT, name) != QUY_NONE)
                    k += (size_t)snprintf(users + k, sizeof users - k, ", %s", rs[b].name);
            for (uint32_t i = 0; i < ty->count; i++) {
                const q_field *f = &p->fields[ty->first + i];
                char tyb[512];
                type_text(p, f->type, tyb, sizeof tyb);
                printf("| `%s` | `%s` | %s | %s | %s |\n", name, prog_str(p, f->name), tyb, prog_str(p, f->label), users);
            }
        }
    }
}

/* The named enums and scales the fields use, once per name and members. */
static void value_tables(d_rs *rs, size_t n)
{
    const unsigned mask = 1u << QT_ENUM | 1u << QT_SCALE;
    printf("\n## Values of the enumerations\n\n| type | values (code: label), in order | rulesets |\n|---|---|---|\n");
    for (size_t a = 0; a < n; a++) {
        const q_program *p = rs[a].p;
        for (uint32_t t = 0; t < p->ntypes; t++) {
            const q_type *ty = &p->types[t];
            if (!(mask >> ty->kind & 1) || !ty->name) continue;
            const char *name = prog_str(p, ty->name);
            bool done = false; /* the same name and values in an earlier ruleset: listed there */
            for (size_t b = 0; b < a && !done; b++) {
                uint32_t u = named_type(rs[b].p, mask, name);
                done = u != QUY_NONE && same_members(p, t, rs[b].p, u);
            }
            if (done) continue;
            printf("| `%s`%s | ", name, ty->kind == QT_SCALE ? " (scale, low to high)" : "");
            for (uint32_t i = 0; i < ty->count; i++)
                printf("%s`%s`: %s", i ? "; " : "", prog_str(p, p->members[ty->first + i].name),
                       prog_str(p, p->members[ty->first + i].label));
            printf(" | %s", rs[a].name);
            for (size_t b = a + 1; b < n; b++) {
                uint32_t u = named_type(rs[b].p, mask, name);
                if (u != QUY_NONE && same_members(p, t, rs[b].p, u)) printf(", %s", rs[b].name);
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
    d_rs *rs = calloc(n, sizeof *rs);
    if (!rs) abort();
    int rc = EXIT_OK;
    for (size_t i = 0; i < n; i++) {
        rs[i].name = names[i];
        rs[i].p = cli_load(&ps, names[i]);
        if (!rs[i].p) {
            fprintf(stderr, "quy describe: ruleset '%s' does not compile\n", names[i]);
            rc = EXIT_RULESET;
            continue;
        }
        find_reads(&rs[i]);
    }
    if (rc == EXIT_OK) {
        /* every kind, in order of first appearance */
        const char **kinds = NULL;
        size_t nk = 0;
        for (size_t i = 0; i < n; i++)
            for (uint32_t k = 0; k < rs[i].p->nkinds; k++) {
                const char *kn = prog_str(rs[i].p, rs[i].p->kinds[k].name);
                bool seen = false;
                for (size_t j = 0; j < nk && !seen; j++) seen = !strcmp(kinds[j], kn);
                if (seen) continue;
                kinds = realloc(kinds, (nk + 1) * sizeof *kinds);
                if (!kinds) abort();
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
        if (rs[i].p) {
            for (uint32_t k = 0; k < rs[i].p->nkinds; k++) free(rs[i].read[k]);
            free(rs[i].read);
            prog_free(rs[i].p);
        }
        free(names[i]);
    }
    free(rs);
    free(names);
    return rc;
}
