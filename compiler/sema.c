/*
 * sema.c — the checker's driver (sema_run) and the helpers its phase files
 * share: diagnostics, source text, type names, "did you mean". The phases
 * are listed in sema_int.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sema_int.h"

/* A diagnostic, once: a block that rates several kinds (`rate a, b`) is
 * checked once per kind, and says each thing once. */
static void sema_diag(sema *S, diag_level level, q_span sp, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    char *msg = ast_xmalloc(n > 0 ? (size_t)n + 1 : 1);
    vsnprintf(msg, n > 0 ? (size_t)n + 1 : 1, fmt, ap);
    const char *path = S->files[S->file].path;
    bool seen = false;
    for (size_t i = 0; i < S->d->n && !seen; i++) {
        const diag_entry *e = &S->d->items[i];
        seen = e->level == level && e->span.start == sp.start && e->span.end == sp.end && e->path == path &&
               strcmp(e->msg, msg) == 0;
    }
    if (!seen)
        diag_add(S->d, level, path, S->files[S->file].src, sp, "%s", msg);
    else if (level == DIAG_ERROR)
        S->d->nerrors++; /* said once, but still an error of this kind: nothing is emitted for it */
    free(msg);
}

void sema_err(sema *S, q_span sp, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sema_diag(S, DIAG_ERROR, sp, fmt, ap);
    va_end(ap);
}

void sema_warn(sema *S, q_span sp, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sema_diag(S, DIAG_WARNING, sp, fmt, ap);
    va_end(ap);
}

uint32_t sema_span_text(sema *S, q_span sp)
{
    const char *src = S->files[S->file].src;
    uint32_t a = sp.start, e = sp.end;
    while (e > a && (src[e - 1] == ' ' || src[e - 1] == '\n' || src[e - 1] == '\t' || src[e - 1] == '\r')) e--;
    /* collapse runs of whitespace so multi-line conditions read as one line */
    char *buf = ast_xmalloc(e - a + 1);
    size_t n = 0;
    bool space = false;
    for (uint32_t i = a; i < e; i++) {
        char c = src[i];
        if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
            space = true;
            continue;
        }
        if (space && n) buf[n++] = ' ';
        space = false;
        buf[n++] = c;
    }
    uint32_t id = cg_str(&S->b, buf, n);
    free(buf);
    return id;
}

const char *sema_type_name(sema *S, uint32_t t, char *buf, size_t size)
{
    if (t == TY_ERR || t == TY_MEMBER) return "?";
    const q_type *ty = &S->b.p->types[t];
    if (ty->kind == QT_LIST) {
        char inner[96];
        /* a type name longer than the message buffer is cut, on purpose */
        if (snprintf(buf, size, "list of %s", sema_type_name(S, ty->elem, inner, sizeof inner)) >= (int)size && size)
            buf[size - 1] = 0;
        return buf;
    }
    if (ty->name) return prog_str(S->b.p, ty->name);
    return q_type_kind_name[ty->kind];
}

void sema_cand(sema_cands *c, const char *name)
{
    GROWV(c->v, c->n, c->cap);
    c->v[c->n++] = name;
}

const char *sema_suggest(sema_cands *c, const char *name, const char *pre, const char *post, char *buf, size_t size)
{
    const char *sug = diag_suggest(name, c->v, c->n);
    free(c->v);
    *c = (sema_cands){0};
    if (!sug || !size) return "";
    /* a suggestion longer than the buffer is cut, on purpose: it only names a candidate */
    if (snprintf(buf, size, "%s%s%s", pre, sug, post) >= (int)size) buf[size - 1] = 0;
    return buf;
}

/* ---------------------------------------------------------------------
 * Driver
 * ------------------------------------------------------------------- */

/* A source position (QUY_POS) holds a file index in 8 bits and an offset
 * in 24: a chain of more files, or a larger file, is an error naming the
 * limit rather than positions that point elsewhere. */
static void sema_file_limits(sema *S)
{
    S->file = (uint32_t)(S->nfiles - 1);
    if (S->nfiles > 256)
        sema_err(S, (q_span){0, 0}, "an 'extends' chain has at most 256 rulesets; this one has %zu", S->nfiles);
    for (size_t i = 0; i < S->nfiles && i < 256; i++) {
        S->file = (uint32_t)i;
        if (S->files[i].len > 0xFFFFFFu)
            sema_err(S, (q_span){0, 0}, "a ruleset file has at most 16 MiB (16777215 bytes); this one has %zu bytes",
                     S->files[i].len);
    }
}

/* Instructions address clauses, rules, flags, adjust steps, hooks, a
 * kind's fields and a struct's fields with a 16-bit operand: past 65535 an
 * error names it. */
static void sema_table_limits(sema *S)
{
    const q_program *p = S->b.p;
    struct {
        const char *what;
        size_t n;
    } t[] = {{"rule clauses", p->nclauses}, {"rules", p->nrules}, {"flags and gaps", p->nflagdefs},
             {"'adjust' steps", p->nadjusts}, {"hooks", p->nhooks}};
    S->file = (uint32_t)(S->nfiles - 1);
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (t[i].n > UINT16_MAX)
            sema_err(S, (q_span){0, 0}, "a ruleset chain has at most %u %s; this one has %zu", UINT16_MAX, t[i].what,
                     t[i].n);
    for (uint32_t ty = 0; ty < p->ntypes; ty++)
        if (p->types[ty].kind == QT_STRUCT && p->types[ty].count > UINT16_MAX)
            sema_err(S, (q_span){0, 0}, "a struct has at most %u fields; '%s' has %u", UINT16_MAX,
                     prog_str(p, p->types[ty].name), p->types[ty].count);
    for (uint32_t k = 0; k < p->nkinds; k++)
        if (p->kinds[k].nfields > UINT16_MAX)
            sema_err(S, (q_span){0, 0}, "a record has at most %u fields; '%s' has %u", UINT16_MAX,
                     prog_str(p, p->kinds[k].name), p->kinds[k].nfields);
}

/* The lowering state of one kind (cg_lower_kind). */
static void sema_release_kind(sema *S)
{
    for (size_t j = 0; j < S->nkf; j++) free((char *)S->kf[j].name);
    free(S->kf);
    S->kf = NULL;
    S->nkf = 0;
    free(S->lets);
    S->lets = NULL;
    free(S->let_size);
    S->let_size = NULL;
    S->nlets = 0;
    strset_free(&S->let_names);
}

/* The phases, in order (sema_int.h). */
static void sema_body(sema *S)
{
    sema_file *files = S->files;
    size_t nfiles = S->nfiles;
    cg_init(&S->b);

    /* identity and sources: the leaf names the program */
    sema_file *leaf = &files[nfiles - 1];
    ast_node *h = leaf->ast.header;
    for (size_t i = 0; i < nfiles; i++) {
        cg_source(&S->b, files[i].path, files[i].src, files[i].len);
        cg_layer(&S->b, cg_cstr(&S->b, files[i].layer));
    }
    if (h) {
        S->b.p->name = str_of(S, h->u.ruleset.name);
        S->b.p->version = str_of(S, h->u.ruleset.version);
        S->b.p->title = str_of(S, h->u.ruleset.title);
        S->b.p->source = str_of(S, h->u.ruleset.source);
    }

    sema_file_limits(S);
    sema_types(S);
    sema_hooks(S);
    sema_collect_records(S);
    sema_collect_rates(S);
    sema_collect_quotas(S);
    sema_check_caps(S);
    for (size_t i = 0; i < S->nrates; i++) {
        s_record *rec = sema_find_record(S, S->rates[i].kind, strlen(S->rates[i].kind));
        if (!rec) continue;
        cg_lower_kind(S, rec, &S->rates[i]);
        sema_release_kind(S);
    }
    sema_quotas(S);
    sema_check_adjusts(S);
    sema_table_limits(S);
}

/* What the checker holds, freed after a success, errors or out of memory
 * alike (every vector is whole at any point: it grows or stays). */
static void sema_release(sema *S)
{
    sema_release_kind(S);
    for (size_t i = 0; i < S->nrates; i++) {
        for (size_t j = 0; j < S->rates[i].nrules; j++) {
            s_also *a = S->rates[i].rules[j].also;
            while (a) {
                s_also *nx = a->next;
                free(a);
                a = nx;
            }
        }
        free(S->rates[i].rules);
        free(S->rates[i].items);
    }
    free(S->rates);
    free(S->records);
    free(S->amends);
    strset_free(&S->rule_names);
    strset_free(&S->field_names);
    strset_free(&S->member_names);
    free(S->types);
}

/* Out of memory (or a limit) jumped out of the phases. */
static void sema_report_bail(diag_list *d, const char *leaf)
{
    diag_add(d, DIAG_ERROR, leaf, NULL, (q_span){0, 0}, "%s while checking the ruleset", ast_bail_why());
}

q_program *sema_run(sema_file *files, size_t nfiles, diag_list *d)
{
    const char *leaf = files[nfiles - 1].path;
    sema *S = calloc(1, sizeof *S);
    if (!S) {
        diag_add(d, DIAG_ERROR, leaf, NULL, (q_span){0, 0}, "out of memory while checking the ruleset");
        return NULL;
    }
    S->files = files;
    S->nfiles = nfiles;
    S->d = d;
    S->gap_flag = QUY_NONE;
    size_t errors0 = d->nerrors;
    ast_catch c;
    ast_catch_push(&c);
    if (setjmp(c.jb) == 0)
        sema_body(S);
    else
        sema_report_bail(d, leaf);
    ast_catch_pop(&c);
    sema_release(S);
    q_program *p = NULL;
    if (d->nerrors != errors0)
        cg_abandon(&S->b);
    else
        p = cg_finish(&S->b);
    free(S);
    return p;
}
