/*
 * cmd_prove.c — `quy prove`: answers about every possible record
 * (prove/prove.h). This file parses options and renders reports; the
 * prover is in prove/.
 *
 *   quy prove RULESET --gaps | --dead | --refines PARENT | --equiv OTHER
 *             [--format text|json] [--timeout SECONDS] [--expect FILE] [--rulesets DIR]
 *
 * Exit: 0 proved (or every finding approved by --expect), 5 a finding,
 * 1 an error (a ruleset that does not load, a question that cannot be
 * encoded, a witness the VM does not confirm).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../prove/prove.h"
#include "cli.h"

enum { EXIT_FINDING = 5 };

static const char prove_usage[] =
    "usage: quy prove RULESET (--gaps | --dead | --refines PARENT | --equiv OTHER)\n"
    "                 [--format text|json] [--timeout SECONDS] [--expect FILE] [--rulesets DIR]\n"
    "  --gaps            mọi cách một bản ghi hợp lệ rơi vào 'otherwise' (every way to reach 'otherwise')\n"
    "  --dead            quy tắc, điều kiện, cờ không bao giờ có tác dụng (rules, clauses, flags that never act)\n"
    "  --refines PARENT  không bản ghi nào được RULESET xếp cao hơn PARENT (never rated higher than the parent)\n"
    "  --equiv OTHER     mọi chuyển loại OTHER -> RULESET, mỗi loại một bản ghi chứng minh (every transition)\n"
    "  --expect FILE     các phát hiện đã được duyệt, mỗi dòng một khoá (approved findings, one key a line)\n"
    "  --write-expect FILE  ghi khoá của mọi phát hiện để duyệt (write every finding's key, to review and approve)\n";

static const char *kname(const q_program *p, uint32_t k) { return prog_str(p, p->kinds[k].name); }

/* The key of a finding in an approval file: "KIND WHAT DETAIL". */
static void finding_key(const prove_report *r, const prove_finding *f, const q_program *a, char *buf, size_t n)
{
    switch (f->what) {
    case PF_GAP:
        snprintf(buf, n, "%s gap %s", kname(a, f->kind), f->flag != QUY_NONE ? prog_str(a, a->flags[f->flag].name) : "(none)");
        break;
    case PF_DEAD_RULE: snprintf(buf, n, "%s dead-rule %s", kname(a, f->kind), prog_str(a, a->rules[f->rule].name)); break;
    case PF_DEAD_CLAUSE:
        snprintf(buf, n, "%s dead-clause %s#%u", kname(a, f->kind), prog_str(a, a->rules[f->rule].name),
                 f->clause - a->rules[f->rule].first_clause + 1);
        break;
    case PF_DEAD_FLAG: snprintf(buf, n, "%s dead-flag %s", kname(a, f->kind), prog_str(a, a->flags[f->flag].name)); break;
    case PF_LOOSER:
    case PF_TRANSITION:
        snprintf(buf, n, "%s %s %s->%s", kname(a, f->kind), r->q == PQ_REFINES ? "looser" : "transition",
                 q_outcome_code[f->from], q_outcome_code[f->to]);
        break;
    default: snprintf(buf, n, "%s unknown %s", kname(a, f->kind), f->why ? f->why : ""); break;
    }
}

typedef struct approvals {
    char **keys;
    bool *used;
    size_t n;
} approvals;

static bool read_approvals(const char *path, approvals *ap)
{
    memset(ap, 0, sizeof *ap);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "quy prove: cannot read %s\n", path);
        return false;
    }
    char *line = NULL;
    size_t cap = 0, capk = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) >= 0) {
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' ')) line[--len] = 0;
        if (!len || line[0] == '#') continue;
        if (ap->n == capk) {
            capk = capk ? 2 * capk : 16;
            ap->keys = realloc(ap->keys, capk * sizeof *ap->keys);
            ap->used = realloc(ap->used, capk * sizeof *ap->used);
            if (!ap->keys || !ap->used) abort();
        }
        ap->used[ap->n] = false;
        ap->keys[ap->n++] = strdup(line);
    }
    free(line);
    fclose(f);
    return true;
}

static bool approved(approvals *ap, const char *key)
{
    for (size_t i = 0; i < ap->n; i++)
        if (strcmp(ap->keys[i], key) == 0) return ap->used[i] = true;
    return false;
}

static void json_str(FILE *o, const char *s)
{
    fputc('"', o);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') fputc('\\', o);
        if ((unsigned char)*s < 0x20) fprintf(o, "\\u%04x", *s);
        else fputc(*s, o);
    }
    fputc('"', o);
}

static const char *what_vi[] = {
    [PF_GAP] = "khoảng trống (gap)",          [PF_DEAD_RULE] = "quy tắc không bao giờ quyết định (dead rule)",
    [PF_DEAD_CLAUSE] = "điều kiện thừa (dead clause)", [PF_DEAD_FLAG] = "cờ không bao giờ bật (dead flag)",
    [PF_LOOSER] = "xếp cao hơn văn bản gốc (looser than the parent)", [PF_TRANSITION] = "chuyển loại (transition)",
    [PF_UNKNOWN] = "không xác định (unknown: solver gave no answer)",
};

static void print_rule(FILE *o, const q_program *p, uint32_t r, const char *which)
{
    const char *cite = prog_str(p, p->rules[r].cite);
    fprintf(o, "    %s%squy tắc %s", which ? which : "", which ? ": " : "", prog_str(p, p->rules[r].name));
    fprintf(o, *cite ? " [%s]\n" : "%s\n", cite);
}

static void render_text(const prove_report *r, const q_program *a, const q_program *b, approvals *ap, FILE *o)
{
    char key[512];
    for (size_t i = 0; i < r->nf; i++) {
        const prove_finding *f = &r->f[i];
        finding_key(r, f, a, key, sizeof key);
        bool ok = ap && approved(ap, key);
        fprintf(o, "%s %s — %s\n", ok ? "✓" : "•", key, what_vi[f->what]);
        if (f->rule != QUY_NONE) print_rule(o, a, f->rule, NULL);
        if (f->rule2 != QUY_NONE && b) print_rule(o, b, f->rule2, prog_str(b, b->name));
        if (f->clause != QUY_NONE) fprintf(o, "    điều kiện: %s\n", prog_str(a, a->clauses[f->clause].text));
        if (f->flag != QUY_NONE)
            fprintf(o, "    cờ %s: %s\n", prog_str(a, a->flags[f->flag].name), prog_str(a, a->flags[f->flag].message));
        if (f->why) fprintf(o, "    lý do: %s\n", f->why);
        if (f->witness) fprintf(o, "    bản ghi chứng minh (witness, VM-confirmed): %s\n", f->witness);
    }
    for (size_t i = 0; i < r->nnotes; i++) fprintf(o, "lưu ý (note): %s\n", r->notes[i]);
}

static void render_json(const prove_report *r, const q_program *a, FILE *o)
{
    char key[512];
    fputs("{\"status\":", o);
    json_str(o, r->status == PROVE_PROVED ? "proved" : r->status == PROVE_FOUND ? "found" : "error");
    fputs(",\"findings\":[", o);
    for (size_t i = 0; i < r->nf; i++) {
        const prove_finding *f = &r->f[i];
        finding_key(r, f, a, key, sizeof key);
        fputs(i ? ",{\"key\":" : "{\"key\":", o);
        json_str(o, key);
        if (f->rule != QUY_NONE) fputs(",\"rule\":", o), json_str(o, prog_str(a, a->rules[f->rule].name));
        if (f->clause != QUY_NONE) fputs(",\"clause\":", o), json_str(o, prog_str(a, a->clauses[f->clause].text));
        if (f->flag != QUY_NONE) fputs(",\"flag\":", o), json_str(o, prog_str(a, a->flags[f->flag].name));
        if (f->why) fputs(",\"why\":", o), json_str(o, f->why);
        if (f->witness) fprintf(o, ",\"witness\":%s", f->witness);
        fputc('}', o);
    }
    fputs("],\"notes\":[", o);
    for (size_t i = 0; i < r->nnotes; i++) {
        if (i) fputc(',', o);
        json_str(o, r->notes[i]);
    }
    fprintf(o, "],\"queries\":%u}\n", r->queries);
}

static bool write_keys(const char *path, const prove_report *r, const q_program *a, const char *spec, const char *other)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "quy prove: cannot write %s\n", path);
        return false;
    }
    fprintf(f, "# quy prove %s%s%s: approved findings, one key a line (KIND WHAT DETAIL)\n", spec, other ? " vs " : "",
            other ? other : "");
    char key[512];
    for (size_t i = 0; i < r->nf; i++) {
        if (r->f[i].what == PF_TRANSITION && r->f[i].from == r->f[i].to) continue;
        finding_key(r, &r->f[i], a, key, sizeof key);
        fprintf(f, "%s\n", key);
    }
    return fclose(f) == 0;
}

int cmd_prove(int argc, char **argv)
{
    cli_paths ps;
    cli_paths_init(&ps);
    const char *spec = NULL, *other = NULL, *format = "text", *expect = NULL, *timeout = NULL, *write_expect = NULL, *v;
    int q = -1;
    prove_opts o = {.timeout_ms = 60000};
    for (int i = 1; i < argc; i++) {
        if (cli_opt(argc, argv, &i, "--gaps", NULL)) q = PQ_GAPS;
        else if (cli_opt(argc, argv, &i, "--dead", NULL)) q = PQ_DEAD;
        else if (cli_opt(argc, argv, &i, "--refines", &v)) q = PQ_REFINES, other = v;
        else if (cli_opt(argc, argv, &i, "--equiv", &v)) q = PQ_EQUIV, other = v;
        else if (cli_opt(argc, argv, &i, "--format", &v)) format = v;
        else if (cli_opt(argc, argv, &i, "--timeout", &v)) timeout = v;
        else if (cli_opt(argc, argv, &i, "--expect", &v)) expect = v;
        else if (cli_opt(argc, argv, &i, "--write-expect", &v)) write_expect = v;
        else if (cli_opt(argc, argv, &i, "--rulesets", &v)) cli_paths_add(&ps, v);
        else if (cli_opt(argc, argv, &i, "--seed-mismatch", NULL)) o.mismatch_test = 1;
        else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "quy prove: unknown option '%s'\n%s", argv[i], prove_usage);
            return EXIT_RULESET;
        } else if (!spec) spec = argv[i];
        else {
            fprintf(stderr, "quy prove: one ruleset only ('%s' is extra); the second goes after --refines or --equiv\n",
                    argv[i]);
            return EXIT_RULESET;
        }
    }
    if (!spec || q < 0) {
        fprintf(stderr, "quy prove: %s\n%s", !spec ? "which ruleset?" : "which question? (--gaps, --dead, --refines, --equiv)",
                prove_usage);
        return EXIT_RULESET;
    }
    if (strcmp(format, "text") != 0 && strcmp(format, "json") != 0) {
        fprintf(stderr, "quy prove: --format %s: write text or json\n", format);
        return EXIT_RULESET;
    }
    if (timeout) {
        char *end;
        long s = strtol(timeout, &end, 10);
        if (*end || s <= 0 || s > 86400) {
            fprintf(stderr, "quy prove: --timeout %s: write a whole number of seconds from 1 to 86400\n", timeout);
            return EXIT_RULESET;
        }
        o.timeout_ms = (unsigned)s * 1000u;
    }
    approvals ap = {0};
    if (expect && !read_approvals(expect, &ap)) return EXIT_IO;
    q_program *a = cli_load(&ps, spec), *b = NULL;
    if (!a) return EXIT_RULESET;
    if (other && !(b = cli_load(&ps, other))) {
        prog_free(a);
        return EXIT_RULESET;
    }
    prove_report r;
    prove_status st = prove_run((prove_question)q, a, b, &o, &r);
    int rc = EXIT_OK;
    if (st == PROVE_ERROR || st == PROVE_MISMATCH) {
        fprintf(stderr, "quy prove: %s%s\n", st == PROVE_MISMATCH ? "encoding bug (the VM disagrees): " : "", r.error);
        rc = EXIT_RULESET;
    } else {
        if (strcmp(format, "json") == 0)
            render_json(&r, a, stdout);
        else
            render_text(&r, a, b, expect ? &ap : NULL, stdout);
        size_t unapproved = 0;
        char key[512];
        for (size_t i = 0; i < r.nf; i++) {
            if (r.f[i].what == PF_TRANSITION && r.f[i].from == r.f[i].to) continue;
            finding_key(&r, &r.f[i], a, key, sizeof key);
            if (!expect || !approved(&ap, key)) unapproved++;
        }
        if (write_expect && !write_keys(write_expect, &r, a, spec, other)) rc = EXIT_IO;
        for (size_t i = 0; i < ap.n; i++)
            if (!ap.used[i]) fprintf(stderr, "quy prove: approved in %s but not found now: %s\n", expect, ap.keys[i]);
        if (strcmp(format, "text") == 0)
            printf("%s: %zu phát hiện%s, %u truy vấn (%zu findings%s, %u solver queries)\n",
                   unapproved ? "CÓ PHÁT HIỆN" : "ĐÃ CHỨNG MINH", unapproved, expect ? " chưa duyệt" : "", r.queries,
                   unapproved, expect ? " not approved" : "", r.queries);
        if (rc == EXIT_OK) rc = unapproved ? EXIT_FINDING : EXIT_OK;
    }
    for (size_t i = 0; i < ap.n; i++) free(ap.keys[i]);
    free(ap.keys);
    free(ap.used);
    prove_report_free(&r);
    prog_free(a);
    if (b) prog_free(b);
    return rc;
}
