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

static void free_approvals(approvals *ap)
{
    for (size_t i = 0; i < ap->n; i++) free(ap->keys[i]);
    free(ap->keys);
    free(ap->used);
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

/* The Vietnamese name of a finding's kind (quy_proof_what). */
static const char *what_vi(const char *what)
{
    static const char *const names[][2] = {
        {"gap", "khoảng trống (gap)"},
        {"dead-rule", "quy tắc không bao giờ quyết định (dead rule)"},
        {"dead-clause", "điều kiện thừa (dead clause)"},
        {"dead-flag", "cờ không bao giờ bật (dead flag)"},
        {"looser", "xếp cao hơn văn bản gốc (looser than the parent)"},
        {"transition", "chuyển loại (transition)"},
        {"unknown", "không xác định (unknown: solver gave no answer)"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(names[i][0], what) == 0) return names[i][1];
    return what;
}

/* A finding that is not a tier kept the same (an --equiv diagonal). */
static bool counts(const quy_proof *pf, size_t i)
{
    const char *f = quy_proof_from(pf, i), *t = quy_proof_to(pf, i);
    return !(strcmp(quy_proof_what(pf, i), "transition") == 0 && f && t && strcmp(f, t) == 0);
}

static void print_rule(FILE *o, const char *rule, const char *cite, const char *which)
{
    if (!rule) return;
    fprintf(o, "    %s%squy tắc %s", which ? which : "", which ? ": " : "", rule);
    fprintf(o, cite && *cite ? " [%s]\n" : "\n", cite);
}

static void render_text(const quy_proof *pf, const char *other, approvals *ap, FILE *o)
{
    for (size_t i = 0; i < quy_proof_count(pf); i++) {
        const char *key = quy_proof_key(pf, i);
        bool ok = ap && approved(ap, key);
        fprintf(o, "%s %s — %s\n", ok ? "✓" : "•", key, what_vi(quy_proof_what(pf, i)));
        print_rule(o, quy_proof_rule(pf, i), quy_proof_cite(pf, i), NULL);
        print_rule(o, quy_proof_rule2(pf, i), quy_proof_cite2(pf, i), other);
        if (quy_proof_clause(pf, i)) fprintf(o, "    điều kiện: %s\n", quy_proof_clause(pf, i));
        if (quy_proof_flag(pf, i)) fprintf(o, "    cờ %s: %s\n", quy_proof_flag(pf, i), quy_proof_flag_message(pf, i));
        if (quy_proof_why(pf, i)) fprintf(o, "    lý do: %s\n", quy_proof_why(pf, i));
        if (quy_proof_witness(pf, i))
            fprintf(o, "    bản ghi chứng minh (witness, VM-confirmed): %s\n", quy_proof_witness(pf, i));
    }
    for (size_t i = 0; i < quy_proof_note_count(pf); i++) fprintf(o, "lưu ý (note): %s\n", quy_proof_note(pf, i));
}

static void render_json(const quy_proof *pf, FILE *o)
{
    fputs("{\"status\":", o);
    json_str(o, quy_proof_proved(pf) ? "proved" : "found");
    fputs(",\"findings\":[", o);
    for (size_t i = 0; i < quy_proof_count(pf); i++) {
        fputs(i ? ",{\"key\":" : "{\"key\":", o);
        json_str(o, quy_proof_key(pf, i));
        const char *parts[][2] = {{"rule", quy_proof_rule(pf, i)}, {"clause", quy_proof_clause(pf, i)},
                                  {"flag", quy_proof_flag(pf, i)}, {"why", quy_proof_why(pf, i)}};
        for (size_t j = 0; j < sizeof parts / sizeof parts[0]; j++)
            if (parts[j][1]) fprintf(o, ",\"%s\":", parts[j][0]), json_str(o, parts[j][1]);
        if (quy_proof_witness(pf, i)) fprintf(o, ",\"witness\":%s", quy_proof_witness(pf, i));
        fputc('}', o);
    }
    fputs("],\"notes\":[", o);
    for (size_t i = 0; i < quy_proof_note_count(pf); i++) {
        if (i) fputc(',', o);
        json_str(o, quy_proof_note(pf, i));
    }
    fprintf(o, "],\"queries\":%u}\n", quy_proof_queries(pf));
}

static bool write_keys(const char *path, const quy_proof *pf, const char *spec, const char *other)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "quy prove: cannot write %s\n", path);
        return false;
    }
    fprintf(f, "# quy prove %s%s%s: approved findings, one key a line (KIND WHAT DETAIL)\n", spec, other ? " vs " : "",
            other ? other : "");
    for (size_t i = 0; i < quy_proof_count(pf); i++)
        if (counts(pf, i)) fprintf(f, "%s\n", quy_proof_key(pf, i));
    return fclose(f) == 0;
}

int cmd_prove(int argc, char **argv)
{
    cli_paths ps;
    cli_paths_init(&ps);
    const char *spec = NULL, *other = NULL, *format = "text", *expect = NULL, *timeout = NULL, *write_expect = NULL, *v;
    int q = -1;
    unsigned timeout_ms = 60000;
    int seed_mismatch = 0;
    for (int i = 1; i < argc; i++) {
        if (cli_opt(argc, argv, &i, "--gaps", NULL)) q = QUY_PROVE_GAPS;
        else if (cli_opt(argc, argv, &i, "--dead", NULL)) q = QUY_PROVE_DEAD;
        else if (cli_opt(argc, argv, &i, "--refines", &v)) q = QUY_PROVE_REFINES, other = v;
        else if (cli_opt(argc, argv, &i, "--equiv", &v)) q = QUY_PROVE_EQUIV, other = v;
        else if (cli_opt(argc, argv, &i, "--format", &v)) format = v;
        else if (cli_opt(argc, argv, &i, "--timeout", &v)) timeout = v;
        else if (cli_opt(argc, argv, &i, "--expect", &v)) expect = v;
        else if (cli_opt(argc, argv, &i, "--write-expect", &v)) write_expect = v;
        else if (cli_opt(argc, argv, &i, "--rulesets", &v)) cli_paths_add(&ps, v);
        else if (cli_opt(argc, argv, &i, "--seed-mismatch", NULL)) seed_mismatch = QUY_PROVE_TEST_MISMATCH;
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
        timeout_ms = (unsigned)s * 1000u;
    }
    approvals ap = {0};
    if (expect && !read_approvals(expect, &ap)) return EXIT_IO;
    quy_ruleset *a = cli_ruleset(&ps, spec), *b = NULL;
    if (!a || (other && !(b = cli_ruleset(&ps, other)))) {
        quy_ruleset_free(a);
        free_approvals(&ap);
        return EXIT_RULESET;
    }
    quy_proof *pf = NULL;
    int rc = EXIT_OK;
    if (quy_prove(a, b, q | seed_mismatch, timeout_ms, &pf) != QUY_OK) {
        fprintf(stderr, "quy prove: %s\n", quy_errmsg());
        rc = EXIT_RULESET;
    } else {
        if (strcmp(format, "json") == 0)
            render_json(pf, stdout);
        else
            render_text(pf, other, expect ? &ap : NULL, stdout);
        size_t unapproved = 0;
        for (size_t i = 0; i < quy_proof_count(pf); i++)
            if (counts(pf, i) && (!expect || !approved(&ap, quy_proof_key(pf, i)))) unapproved++;
        if (write_expect && !write_keys(write_expect, pf, spec, other)) rc = EXIT_IO;
        for (size_t i = 0; i < ap.n; i++)
            if (!ap.used[i]) fprintf(stderr, "quy prove: approved in %s but not found now: %s\n", expect, ap.keys[i]);
        if (strcmp(format, "text") == 0)
            printf("%s: %zu phát hiện%s, %u truy vấn (%zu findings%s, %u solver queries)\n",
                   unapproved ? "CÓ PHÁT HIỆN" : "ĐÃ CHỨNG MINH", unapproved, expect ? " chưa duyệt" : "",
                   quy_proof_queries(pf), unapproved, expect ? " not approved" : "", quy_proof_queries(pf));
        if (rc == EXIT_OK) rc = unapproved ? EXIT_FINDING : EXIT_OK;
    }
    quy_proof_free(pf);
    quy_ruleset_free(a);
    quy_ruleset_free(b);
    free_approvals(&ap);
    return rc;
}
