/*
 * disasm.c — the disassembler: a compiled program as a person reads it,
 * with rule names, citations, clause texts, field names and source lines
 * next to the code (disasm_print), and the opcode reference generated from
 * QUY_OPCODES (disasm_opcodes_md, the table in docs/bytecode.md).
 *
 * Everything is bounds-checked, so a program that has not been verified
 * prints (with "?" where an index is bad) instead of crashing.
 */
#include "program.h"
#include "vm_fuse.h"

#include <stdlib.h>
#include <string.h>

static const char *const quant_name[QK__LAST + 1] = {"all", "any", "none", "count", "sum", "min", "max", "run"};

static const char *S(const q_program *p, uint32_t id) { return prog_str(p, id); }

/* A string in double quotes, escaping quotes, backslashes and control
 * bytes; UTF-8 passes through. */
static void put_quoted(FILE *out, const char *s, size_t n)
{
    fputc('"', out);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\')
            fprintf(out, "\\%c", ch);
        else if (ch == '\n')
            fputs("\\n", out);
        else if (ch == '\t')
            fputs("\\t", out);
        else if (ch < 0x20 || ch == 0x7f)
            fprintf(out, "\\x%02x", ch);
        else
            fputc(ch, out);
    }
    fputc('"', out);
}

static void put_qstr(FILE *out, const q_program *p, uint32_t id)
{
    const char *s = S(p, id);
    put_quoted(out, s, strlen(s));
}

/* One line of text (up to the first newline), for clause texts in comments. */
static void put_line(FILE *out, const char *s)
{
    size_t n = strcspn(s, "\n");
    fwrite(s, 1, n, out);
    if (s[n]) fputs(" …", out);
}

static void put_const(FILE *out, const q_program *p, uint32_t k)
{
    if (k >= p->nconsts) {
        fputs("?", out);
        return;
    }
    q_val v = p->consts[k];
    uint8_t t = p->const_type[k];
    char buf[128];
    switch (t) {
    case QT_INT: case QT_DECIMAL:
        if (v.d > 0) {
            q_format(v, false, buf, sizeof buf);
            fputs(buf, out);
        } else {
            fprintf(out, "%lld/%lld", (long long)v.n, (long long)v.d);
        }
        break;
    case QT_PERCENT:
        if (v.d > 0) {
            q_format(v, true, buf, sizeof buf);
            fputs(buf, out);
        } else {
            fprintf(out, "%lld/%lld", (long long)v.n, (long long)v.d);
        }
        break;
    case QT_BOOL:
        fputs(v.n ? "true" : "false", out);
        break;
    case QT_DATE:
        q_format_date(v.n, buf);
        fputs(buf, out);
        break;
    case QT_STRING: {
        if (prog_str_in_pool(p, v))
            put_quoted(out, q_val_str(v), q_val_len(v));
        else
            fputs("<string outside the pool>", out);
        break;
    }
    case QT_ENUM: case QT_SCALE:
        fprintf(out, "#%lld", (long long)v.n);
        break;
    default:
        fprintf(out, "{%lld, %lld}", (long long)v.n, (long long)v.d);
        break;
    }
}

static const char *type_kind_word(uint8_t k) { return k < QT__COUNT ? q_type_kind_name[k] : "?"; }

/* "int", "grade (scale)", "list of task (struct)" */
static void put_type(FILE *out, const q_program *p, uint32_t t)
{
    if (t >= p->ntypes) {
        fputs("?", out);
        return;
    }
    const q_type *ty = &p->types[t];
    if (ty->kind == QT_LIST) {
        fputs("list of ", out);
        if (ty->elem < p->ntypes && p->types[ty->elem].kind != QT_LIST)
            put_type(out, p, ty->elem);
        else
            fputs("?", out);
        return;
    }
    const char *name = S(p, ty->name);
    if (*name)
        fprintf(out, "%s (%s)", name, type_kind_word(ty->kind));
    else
        fputs(type_kind_word(ty->kind), out);
}

static void put_field_flags(FILE *out, const q_program *p, const q_field *f)
{
    if (f->flags & QF_OPTIONAL) fputs(" optional", out);
    if (f->flags & QF_BATCH) fputs(" batch", out);
    if ((f->flags & QF_DEFAULT) || f->deflt != QUY_NONE) {
        fputs(" default=", out);
        if (f->deflt != QUY_NONE) {
            put_const(out, p, f->deflt);
        } else {
            fputs("?", out);
        }
    }
}

static void put_fields(FILE *out, const q_program *p, uint32_t first, uint32_t n, const char *indent)
{
    for (uint32_t i = 0; i < n; i++) {
        uint32_t fi = first + i;
        if (fi >= p->nfields) break;
        const q_field *f = &p->fields[fi];
        fprintf(out, "%s%-4u %-24s ", indent, (unsigned)f->slot, S(p, f->name));
        put_type(out, p, f->type);
        if (*S(p, f->label)) {
            fputs("  ", out);
            put_qstr(out, p, f->label);
        }
        put_field_flags(out, p, f);
        fputc('\n', out);
        /* the fields of a list's struct elements, indented under it */
        if (f->type < p->ntypes && p->types[f->type].kind == QT_LIST) {
            uint32_t e = p->types[f->type].elem;
            if (e < p->ntypes && p->types[e].kind == QT_STRUCT && strlen(indent) < 16) {
                char deeper[32];
                snprintf(deeper, sizeof deeper, "%s  . ", indent);
                put_fields(out, p, p->types[e].first, p->types[e].count, deeper);
            }
        }
    }
}

/* ---------------------------------------------------------------------
 * Code
 * ------------------------------------------------------------------- */

typedef struct dctx {
    const q_program *p;
    FILE *out;
    uint32_t kind;                  /* kind whose slots the block reads */
    uint32_t rule;                  /* rule whose banner was printed last */
    uint32_t lslot[QUY_MAX_LOOPS];  /* list slot of each loop register (last QBEGIN) */
    const uint32_t *next_meta;      /* [ncode+1]: next CLAUSE/DECIDE/FLAG at or after i */
    const char *last_file;
    uint32_t last_line;
} dctx;

static const q_field *kind_slot(const dctx *d, uint32_t slot)
{
    const q_program *p = d->p;
    if (d->kind >= p->nkinds) return NULL;
    const q_kind *k = &p->kinds[d->kind];
    if (slot >= k->nfields || k->first_field + slot >= p->nfields) return NULL;
    return &p->fields[k->first_field + slot];
}

static void put_slot_name(const dctx *d, uint32_t slot)
{
    const q_field *f = kind_slot(d, slot);
    fputs(f ? S(d->p, f->name) : "?", d->out);
}

static void put_cite_layer(FILE *out, const q_program *p, uint32_t cite, uint32_t layer)
{
    if (*S(p, cite)) fprintf(out, "  [%s]", S(p, cite));
    if (*S(p, layer)) fprintf(out, "  (layer %s)", S(p, layer));
}

static void rule_banner(dctx *d, uint32_t r)
{
    const q_program *p = d->p;
    FILE *out = d->out;
    d->rule = r;
    if (r >= p->nrules) return;
    const q_rule *ru = &p->rules[r];
    fprintf(out, "        ;; ==== rule %u %s -> %s%s", r, S(p, ru->name),
            ru->outcome < QO__COUNT ? q_outcome_code[ru->outcome] : "?",
            (ru->flags & QR_OTHERWISE) ? " (otherwise)" : "");
    put_cite_layer(out, p, ru->cite, ru->layer);
    fputs(" ====\n", out);
}

static void clause_banner(dctx *d, uint32_t c)
{
    const q_program *p = d->p;
    FILE *out = d->out;
    if (c >= p->nclauses) return;
    const q_clause *cl = &p->clauses[c];
    fprintf(out, "        ;; -- clause %u%s: ", c, cl->if_present ? " (if present)" : "");
    put_line(out, S(p, cl->text));
    if (*S(p, cl->exc_text)) {
        fputs(" unless ", out);
        put_line(out, S(p, cl->exc_text));
    }
    if (cl->rule < p->nrules && (cl->cite != p->rules[cl->rule].cite || cl->layer != p->rules[cl->rule].layer))
        put_cite_layer(out, p, cl->cite, cl->layer); /* an amendment */
    fputc('\n', out);
}

static void flag_banner(dctx *d, uint32_t f)
{
    const q_program *p = d->p;
    FILE *out = d->out;
    if (f >= p->nflagdefs) return;
    const q_flagdef *fl = &p->flags[f];
    fprintf(out, "        ;; ---- %s %u %s", fl->kind == QFL_GAP ? "gap" : "flag", f, S(p, fl->name));
    put_cite_layer(out, p, fl->cite, fl->layer);
    fputc('\n', out);
}

/* At the start of a segment (after an entry or a CLAUSE/DECIDE/FLAG),
 * announce what the segment computes. */
static void segment_banner(dctx *d, uint32_t i, uint32_t end)
{
    const q_program *p = d->p;
    uint32_t j = d->next_meta[i];
    if (j >= end) return;
    const q_instr *in = &p->code[j];
    switch (in->op) {
    case OP_CLAUSE:
        if (in->a < p->nclauses) {
            uint32_t r = p->clauses[in->a].rule;
            if (r != QUY_NONE && r != d->rule) rule_banner(d, r);
            if (r == QUY_NONE)
                for (uint32_t f = 0; f < p->nflagdefs; f++)
                    if (p->flags[f].clause == in->a) flag_banner(d, f);
            clause_banner(d, in->a);
        }
        break;
    case OP_DECIDE:
        if (in->a != d->rule) rule_banner(d, in->a);
        break;
    case OP_FLAG:
        /* gaps are evaluated inside the `otherwise` rule, before its DECIDE */
        if (in->a < p->nflagdefs && p->flags[in->a].kind == QFL_GAP) {
            for (uint32_t k = j + 1; k < end && k < p->ncode; k++) {
                if (p->code[k].op != OP_DECIDE) continue;
                if (p->code[k].a != d->rule) rule_banner(d, p->code[k].a);
                break;
            }
        }
        flag_banner(d, in->a);
        break;
    case OP_ADJUST:
        if (in->a < p->nadjusts && p->adjusts[in->a].hook < p->nhooks) {
            const q_adjust *a = &p->adjusts[in->a];
            fprintf(d->out, "        ;; ==== adjust %u: %s by %s", in->a, a->phase == QA_RECORD ? "record" : "tier",
                    S(p, p->hooks[a->hook].name));
            if (a->flag < p->nflagdefs) put_cite_layer(d->out, p, p->flags[a->flag].cite, p->flags[a->flag].layer);
            fputs(" ====\n", d->out);
        }
        break;
    default:
        break;
    }
}

/* The operands of a fused instruction, for the instruction column. */
static void fused_operands(const q_instr *in, char *ops, size_t size)
{
    const char *rel = vm_fuse_relop_text(in->c & 7);
    switch (in->op) {
    case OP_QLISTK: case OP_QLISTKC:
        snprintf(ops, size, "%u %s %s K%u", in->a, (in->c >> 3) <= QK__LAST ? quant_name[in->c >> 3] : "?", rel, in->b);
        break;
    case OP_CMPFK: case OP_CMPFKC: snprintf(ops, size, "%u %s K%u", in->a, rel, in->b); break;
    case OP_CMPFF: case OP_CMPFFC: snprintf(ops, size, "%u %s %u", in->a, rel, in->b); break;
    case OP_SUBFF: snprintf(ops, size, "%u - %u", in->a, in->b); break;
    case OP_SHAREK: case OP_SHAREKC: snprintf(ops, size, "%s K%u", rel, in->b); break;
    case OP_SHAREFK: case OP_SHAREFKC: snprintf(ops, size, "%u %s K%u", in->a, rel, in->b); break;
    default: snprintf(ops, size, "%u", in->a); break;
    }
}

/* "enum #2", "percent 50%" */
static void put_typed_const(FILE *out, const q_program *p, uint32_t k)
{
    if (k < p->nconsts) fprintf(out, "%s ", type_kind_word(p->const_type[k]));
    put_const(out, p, k);
}

/* What a fused instruction computes, in the names of the ruleset. */
static void fused_comment(dctx *d, const q_instr *in)
{
    FILE *out = d->out;
    const char *rel = vm_fuse_relop_text(in->c & 7);
    switch (in->op) {
    case OP_QLISTK: case OP_QLISTKC:
        fprintf(out, "%s ", (in->c >> 3) <= QK__LAST ? quant_name[in->c >> 3] : "?");
        put_slot_name(d, in->a);
        fprintf(out, " %s ", rel);
        put_typed_const(out, d->p, in->b);
        break;
    case OP_CMPFK: case OP_CMPFKC:
        put_slot_name(d, in->a);
        fprintf(out, " %s ", rel);
        put_typed_const(out, d->p, in->b);
        break;
    case OP_CMPFF: case OP_CMPFFC: case OP_SUBFF:
        put_slot_name(d, in->a);
        fprintf(out, " %s ", in->op == OP_SUBFF ? "-" : rel);
        put_slot_name(d, in->b);
        break;
    case OP_SHAREK: case OP_SHAREKC:
        fprintf(out, "share(x, y) %s ", rel);
        put_typed_const(out, d->p, in->b);
        break;
    case OP_SHAREFK: case OP_SHAREFKC:
        fputs("share(x, ", out);
        put_slot_name(d, in->a);
        fprintf(out, ") %s ", rel);
        put_typed_const(out, d->p, in->b);
        break;
    case OP_PRESJF:
        fputs("present(", out);
        put_slot_name(d, in->a);
        fputs(") and", out);
        break;
    case OP_FIELDJF:
        put_slot_name(d, in->a);
        fputs(" and", out);
        break;
    default:
        put_slot_name(d, in->a);
        break;
    }
    fprintf(out, " [fast path of the %u below]", (unsigned)op_fuse_len[in->op]);
}

static void put_instr(dctx *d, uint32_t i)
{
    const q_program *p = d->p;
    FILE *out = d->out;
    const q_instr *in = &p->code[i];
    if (in->op >= OP__COUNT) {
        fprintf(out, "  %6u  ??? op=%u c=%u a=%u b=%u\n", i, in->op, in->c, in->a, in->b);
        return;
    }
    const op_info *oi = &op_table[in->op];
    char ops[48] = "";
    switch (oi->format) {
    case OPF_NONE: break;
    case OPF_K: snprintf(ops, sizeof ops, "K%u", in->b); break;
    case OPF_SLOT: snprintf(ops, sizeof ops, "%u", in->a); break;
    case OPF_ESLOT: snprintf(ops, sizeof ops, "L%u %u", in->a, in->b); break;
    case OPF_JUMP: snprintf(ops, sizeof ops, "-> %u", in->b); break;
    case OPF_SLOTJ: snprintf(ops, sizeof ops, "%u -> %u", in->a, in->b); break;
    case OPF_LOOP:
        snprintf(ops, sizeof ops, "L%u %u %s", in->a, in->b, in->c <= QK__LAST ? quant_name[in->c] : "?");
        break;
    case OPF_LOOPJ: case OPF_QSTEP: snprintf(ops, sizeof ops, "L%u -> %u", in->a, in->b); break;
    case OPF_QEND: snprintf(ops, sizeof ops, "L%u", in->a); break;
    case OPF_CLAUSE: snprintf(ops, sizeof ops, "C%u -> %u", in->a, in->b); break;
    case OPF_CMETA: snprintf(ops, sizeof ops, "C%u", in->a); break;
    case OPF_RULE: snprintf(ops, sizeof ops, "R%u -> %u", in->a, in->b); break;
    case OPF_FLAG: snprintf(ops, sizeof ops, "F%u", in->a); break;
    case OPF_HOOK: snprintf(ops, sizeof ops, "H%u %u", in->a, in->b); break;
    case OPF_ADJUST: snprintf(ops, sizeof ops, "A%u", in->a); break;
    case OPF_FUSED: fused_operands(in, ops, sizeof ops); break;
    }
    /* the head is padded only when a comment follows it */
    char head[80];
    snprintf(head, sizeof head, "  %6u  %-9s %-14s", i, oi->name, ops);
    size_t hl = strlen(head);
    while (hl && head[hl - 1] == ' ') hl--;
    fwrite(head, 1, hl, out);

    /* the comment: what the operands name */
    bool sep = false;
#define COMMENT() (sep ? (void)0 : (void)fprintf(out, "%s ; ", head + hl), sep = true)
    switch (oi->format) {
    case OPF_K:
        COMMENT();
        if (in->b < p->nconsts) fprintf(out, "%s ", type_kind_word(p->const_type[in->b]));
        put_const(out, p, in->b);
        break;
    case OPF_SLOT: case OPF_SLOTJ:
        COMMENT();
        put_slot_name(d, in->a);
        if (in->op == OP_IFABSENT && in->c == 1) fputs(" (absent: the rule fails)", out);
        if (in->op == OP_LOADF && in->c == 1) fputs(" (absent: nil for the hook)", out);
        break;
    case OPF_HOOK:
        COMMENT();
        if (in->a < p->nhooks) {
            const q_hook *h = &p->hooks[in->a];
            fprintf(out, "hook %s (%s)", S(p, h->name), S(p, h->file));
        } else {
            fputs("?", out);
        }
        break;
    case OPF_ADJUST:
        COMMENT();
        if (in->a < p->nadjusts && p->adjusts[in->a].hook < p->nhooks) {
            const q_adjust *a = &p->adjusts[in->a];
            fprintf(out, "adjust %s by %s", a->phase == QA_RECORD ? "record" : "tier", S(p, p->hooks[a->hook].name));
            if (a->flag < p->nflagdefs && *S(p, p->flags[a->flag].cite)) fprintf(out, " [%s]", S(p, p->flags[a->flag].cite));
        } else {
            fputs("?", out);
        }
        break;
    case OPF_LOOP:
        COMMENT();
        fprintf(out, "%s over ", in->c <= QK__LAST ? quant_name[in->c] : "?");
        put_slot_name(d, in->b);
        if (in->a < QUY_MAX_LOOPS) d->lslot[in->a] = in->b;
        break;
    case OPF_ESLOT:
        if (in->op == OP_ELEM && in->a < QUY_MAX_LOOPS) {
            const q_field *lf = kind_slot(d, d->lslot[in->a]);
            COMMENT();
            fprintf(out, "element of %s", lf ? S(p, lf->name) : "?");
        }
        if (in->op == OP_ELEMF && in->a < QUY_MAX_LOOPS) {
            const q_field *lf = kind_slot(d, d->lslot[in->a]);
            COMMENT();
            if (lf && lf->type < p->ntypes && p->types[lf->type].elem < p->ntypes) {
                const q_type *et = &p->types[p->types[lf->type].elem];
                if (et->kind == QT_STRUCT && in->b < et->count && et->first + in->b < p->nfields)
                    fprintf(out, "%s.%s", S(p, lf->name), S(p, p->fields[et->first + in->b].name));
                else
                    fputs("?", out);
            } else {
                fputs("?", out);
            }
        }
        break;
    case OPF_CLAUSE: case OPF_CMETA:
        COMMENT();
        if (in->a < p->nclauses) {
            const q_clause *cl = &p->clauses[in->a];
            if (in->op == OP_EXC) {
                fputs("unless ", out);
                put_line(out, S(p, cl->exc_text));
            } else {
                put_line(out, S(p, cl->text));
            }
        } else {
            fputs("?", out);
        }
        break;
    case OPF_RULE:
        COMMENT();
        if (in->a < p->nrules) {
            const q_rule *r = &p->rules[in->a];
            fprintf(out, "rule %s -> %s", S(p, r->name), r->outcome < QO__COUNT ? q_outcome_code[r->outcome] : "?");
            if (*S(p, r->cite)) fprintf(out, " [%s]", S(p, r->cite));
        } else {
            fputs("?", out);
        }
        break;
    case OPF_FUSED:
        COMMENT();
        fused_comment(d, in);
        break;
    case OPF_FLAG:
        COMMENT();
        if (in->a < p->nflagdefs) {
            const q_flagdef *f = &p->flags[in->a];
            fprintf(out, "%s %s", f->kind == QFL_GAP ? "gap" : "flag", S(p, f->name));
            if (*S(p, f->cite)) fprintf(out, " [%s]", S(p, f->cite));
        } else {
            fputs("?", out);
        }
        break;
    default:
        break;
    }

    /* the source line, when it changes */
    const char *file;
    uint32_t line;
    if (p->code_pos && prog_locate(p, p->code_pos[i], &file, &line, NULL, NULL, NULL) &&
        (file != d->last_file || line != d->last_line)) {
        COMMENT();
        fprintf(out, "  @ %s:%u", file, line);
        d->last_file = file;
        d->last_line = line;
    }
#undef COMMENT
    fputc('\n', out);
}

static void put_code(dctx *d, uint32_t start, uint32_t end)
{
    const q_program *p = d->p;
    d->rule = QUY_NONE;
    d->last_file = NULL;
    d->last_line = 0;
    for (uint32_t r = 0; r < QUY_MAX_LOOPS; r++) d->lslot[r] = QUY_NONE;
    for (uint32_t i = start; i < end && i < p->ncode; i++) {
        if (i == start) segment_banner(d, i, end);
        put_instr(d, i);
        uint8_t op = p->code[i].op;
        if (op == OP_CLAUSE || op == OP_DECIDE || op == OP_FLAG || op == OP_ADJUST) segment_banner(d, i + 1, end);
    }
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* A block runs from its entry to the next entry (blocks are laid out one
 * after another by the code generator). */
static uint32_t block_end(const uint32_t *entries, uint32_t n, uint32_t start, uint32_t ncode)
{
    for (uint32_t i = 0; i < n; i++)
        if (entries[i] > start) return entries[i] < ncode ? entries[i] : ncode;
    return ncode;
}

void disasm_print(const q_program *p, FILE *out)
{
    fprintf(out, "; Quy bytecode: %s %s\n", S(p, p->name), S(p, p->version));
    if (*S(p, p->title)) fprintf(out, "; title: %s\n", S(p, p->title));
    if (*S(p, p->source)) fprintf(out, "; source: %s\n", S(p, p->source));
    fputs("; layers:", out);
    for (uint32_t i = 0; i < p->nlayers; i++) fprintf(out, "%s %s", i ? " >" : "", S(p, p->layers[i]));
    fputc('\n', out);
    fprintf(out, "; %u strings, %u constants, %u instructions, %u kinds, %u rules, %u clauses, %u flags, max stack %u\n",
            p->nstr, p->nconsts, p->ncode, p->nkinds, p->nrules, p->nclauses, p->nflagdefs, p->max_stack);
    for (uint32_t i = 0; i < p->nsources; i++) fprintf(out, "; source file %u: %s\n", i, S(p, p->sources[i].name));

    if (p->nconsts) {
        fputs("\nconstants:\n", out);
        for (uint32_t k = 0; k < p->nconsts; k++) {
            fprintf(out, "  K%-5u %-8s ", k, type_kind_word(p->const_type[k]));
            put_const(out, p, k);
            fputc('\n', out);
        }
    }

    for (uint32_t i = 0; i < p->nhooks; i++) {
        const q_hook *h = &p->hooks[i];
        fprintf(out, "%shook %u %s(", i ? "" : "\n", i, S(p, h->name));
        for (uint32_t j = 0; j < h->nparams && h->first_param + j < p->nparams; j++) {
            const q_param *pa = &p->params[h->first_param + j];
            fprintf(out, "%s%s: ", j ? ", " : "", S(p, pa->name));
            put_type(out, p, pa->type);
        }
        fputs(") -> ", out);
        if (h->result == QUY_NONE)
            fputs("adjustment", out);
        else
            put_type(out, p, h->result);
        fprintf(out, " from \"%s\" (%zu bytes of Lua) [%s]\n", S(p, h->file), strlen(S(p, h->source)), S(p, h->layer));
    }
    for (uint32_t i = 0; i < p->nadjusts; i++) {
        const q_adjust *a = &p->adjusts[i];
        fprintf(out, "%sadjust %u: %s %s by %s", i ? "" : "\n", i, a->kind < p->nkinds ? S(p, p->kinds[a->kind].name) : "?",
                a->phase == QA_RECORD ? "record" : "tier", a->hook < p->nhooks ? S(p, p->hooks[a->hook].name) : "?");
        if (a->flag < p->nflagdefs) put_cite_layer(out, p, p->flags[a->flag].cite, p->flags[a->flag].layer);
        fputc('\n', out);
    }

    for (uint32_t i = 0; i < p->nquotas; i++) {
        const q_quota *q = &p->quotas[i];
        char share[64] = "?";
        if (q->share.d > 0) q_format(q->share, true, share, sizeof share);
        fprintf(out, "%squota %s <= %s of %s per %s round %s", i ? "" : "\n",
                q->tier < QO__COUNT ? q_outcome_code[q->tier] : "?", share,
                q->of_tier < QO__COUNT ? q_outcome_code[q->of_tier] : "?", S(p, q->per),
                q->rounding == QROUND_DOWN ? "down" : q->rounding == QROUND_HALF_UP ? "half_up" : "up");
        put_cite_layer(out, p, q->cite, q->layer);
        fputc('\n', out);
    }

    /* entries, sorted, to delimit blocks */
    uint32_t nent = 0;
    uint32_t *ent = malloc(((size_t)p->nkinds + p->nchecks + 1) * sizeof *ent);
    uint32_t *nm = malloc(((size_t)p->ncode + 1) * sizeof *nm);
    if (!ent || !nm) {
        free(ent);
        free(nm);
        fputs("; out of memory\n", out);
        return;
    }
    for (uint32_t k = 0; k < p->nkinds; k++)
        if (p->kinds[k].entry != QUY_NONE) ent[nent++] = p->kinds[k].entry;
    for (uint32_t c = 0; c < p->nchecks; c++) ent[nent++] = p->checks[c].entry;
    qsort(ent, nent, sizeof *ent, cmp_u32);
    nm[p->ncode] = QUY_NONE;
    for (uint32_t i = p->ncode; i-- > 0;) {
        uint8_t op = p->code[i].op;
        nm[i] = (op == OP_CLAUSE || op == OP_DECIDE || op == OP_FLAG || op == OP_ADJUST) ? i : nm[i + 1];
    }
    dctx d = {.p = p, .out = out, .next_meta = nm};

    for (uint32_t k = 0; k < p->nkinds; k++) {
        const q_kind *kd = &p->kinds[k];
        d.kind = k;
        fprintf(out, "\nkind %u %s", k, S(p, kd->name));
        if (*S(p, kd->label)) {
            fputc(' ', out);
            put_qstr(out, p, kd->label);
        }
        fprintf(out, ": %u fields, %u checks, %u rules", kd->nfields, kd->nchecks, kd->nrules);
        if (kd->entry == QUY_NONE)
            fputs(", not rated\n", out);
        else
            fprintf(out, ", rate block at %u\n", kd->entry);
        fputs("  fields:\n", out);
        put_fields(out, p, kd->first_field, kd->nfields, "    ");
        for (uint32_t c = 0; c < kd->nchecks; c++) {
            uint32_t ci = kd->first_check + c;
            if (ci >= p->nchecks) break;
            const q_check *ch = &p->checks[ci];
            fprintf(out, "  check %u", ci);
            if (ch->field < p->nfields) fprintf(out, " (blames %s)", S(p, p->fields[ch->field].name));
            fputs(": ", out);
            put_line(out, S(p, ch->text));
            fputc('\n', out);
            if (ch->entry < p->ncode) put_code(&d, ch->entry, block_end(ent, nent, ch->entry, p->ncode));
        }
        if (kd->entry != QUY_NONE && kd->entry < p->ncode) {
            fputs("  rate:\n", out);
            put_code(&d, kd->entry, block_end(ent, nent, kd->entry, p->ncode));
        }
    }
    /* code before the first entry belongs to no block */
    uint32_t first = nent ? ent[0] : p->ncode;
    if (first > p->ncode) first = p->ncode;
    if (first > 0) {
        fputs("\ncode outside any block:\n", out);
        d.kind = QUY_NONE;
        put_code(&d, 0, first);
    }
    free(ent);
    free(nm);
}

/* ---------------------------------------------------------------------
 * The opcode reference
 * ------------------------------------------------------------------- */

static void md_cell(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            fputs("\\|", out);
        else
            fputc(*s, out);
    }
}

void disasm_opcodes_md(FILE *out)
{
    fputs("| # | Opcode | Format | Pop | Push | Effect |\n", out);
    fputs("|---|--------|--------|-----|------|--------|\n", out);
    /* straight from the list: the format is the token written in opcodes.h */
#define OP_ROW(name, fmt, pop, push, doc)                      \
    fprintf(out, "| %d | `%s` | %s | %d | %d | ", OP_##name, #name, #fmt, pop, push); \
    md_cell(out, doc);                                         \
    fputs(" |\n", out);
    QUY_OPCODES(OP_ROW)
#undef OP_ROW
}
