/*
 * sema_hook.c — hooks and adjust steps (phase 1b and 6): declarations, calls, the steps lowered into a kind.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sema_int.h"

#include "../runtime/hook.h"
#include "compiler.h"
#include "hook_files.h"

/* ---------------------------------------------------------------------
 * 6. Hooks and adjust steps
 * ------------------------------------------------------------------- */

/* The declared hooks' names, as candidates of a "did you mean". */
void sema_hook_cands(sema *S, sema_cands *c)
{
    for (uint32_t i = 0; i < S->b.p->nhooks; i++) sema_cand(c, prog_str(S->b.p, S->b.p->hooks[i].name));
}

uint32_t sema_find_hook(sema *S, const char *name)
{
    for (uint32_t i = 0; i < S->b.p->nhooks; i++)
        if (strcmp(prog_str(S->b.p, S->b.p->hooks[i].name), name) == 0) return i;
    return QUY_NONE;
}

/* The Lua file of a hook: a relative path ending in .lua, without "..",
 * found beside the declaring ruleset, its parents or in a shared folder
 * (hook_file_find). NULL with a reason. */
static char *read_hook_file(sema *S, const ast_str *file, size_t *len, char *why, size_t whysize)
{
    const char *f = file->s ? file->s : "";
    size_t n = file->len;
    if (n < 5 || strcmp(f + n - 4, ".lua") != 0) {
        snprintf(why, whysize, "a hook file is a Lua file whose name ends in '.lua'");
        return NULL;
    }
    if (f[0] == '/' || strstr(f, "..") || strchr(f, '\\')) {
        snprintf(why, whysize, "a hook file is named relative to the ruleset's folder, without '..'");
        return NULL;
    }
    char *path = hook_file_find(S->files, S->file, f, why, whysize);
    if (!path) return NULL;
    int err;
    char *buf = compiler_read_file(path, 16u << 20, len, &err);
    if (!buf && err == ENOMEM) {
        free(path);
        ast_bail("out of memory");
    }
    if (!buf && err == EFBIG)
        snprintf(why, whysize, "%s is larger than 16 MiB", path);
    else if (!buf)
        snprintf(why, whysize, "cannot read %s: %s", path, strerror(err));
    free(path);
    return buf;
}

/* A hook's parameter or result type: a declared or builtin name (an inline
 * enum has no name a hook could use). */
static uint32_t hook_type(sema *S, ast_node *t, bool result)
{
    if (t && t->kind == AST_T_ENUM) {
        sema_err(S, t->span, "declare this enum by name ('enum NAME { ... }') to use it in a hook");
        return TY_ERR;
    }
    uint32_t ty = sema_resolve_type(S, t);
    if (ty == TY_ERR) return TY_ERR;
    uint8_t k = tkind(S, ty);
    if (result && (k == QT_LIST || k == QT_STRUCT)) {
        sema_err(S, t->span, "a hook returns one value (int, decimal, percent, bool, date, string, an enum or a scale), "
                        "or 'adjustment' for an 'adjust' step");
        return TY_ERR;
    }
    if (!result && k == QT_STRUCT) {
        sema_err(S, t->span, "a struct cannot be passed to a hook on its own; pass the list field that holds it");
        return TY_ERR;
    }
    return ty;
}

/* Phase 1b: `hook NAME(p: T, ...) -> R from "file.lua"`: checked, and the
 * Lua source embedded in the program. */
void sema_hooks(sema *S)
{
    SEMA_EACH_DECL(S, fi, dcl) {
        if (dcl->kind != AST_D_HOOK) continue;
        const ast_str *nm = &dcl->u.hook.name;
        size_t before = S->d->nerrors;
        if (sema_find_hook(S, nm->s) != QUY_NONE) {
            sema_err(S, dcl->u.hook.name_span, "hook '%s' is already declared", nm->s);
            continue;
        }
        if (strcmp(nm->s, "share") == 0 || strcmp(nm->s, "present") == 0) {
            sema_err(S, dcl->u.hook.name_span, "'%s' is a built-in function; give the hook another name", nm->s);
            continue;
        }
        uint32_t ptypes[QUY_MAX_STACK];
        uint32_t np = 0;
        for (ast_node *pa = dcl->u.hook.params; pa; pa = pa->next) {
            for (ast_node *o = dcl->u.hook.params; o != pa; o = o->next)
                if (strcmp(o->u.field.name.s, pa->u.field.name.s) == 0)
                    sema_err(S, pa->u.field.name_span, "parameter '%s' is declared twice", pa->u.field.name.s);
            if (np == QUY_MAX_STACK) {
                sema_err(S, pa->span, "a hook takes at most %d parameters", QUY_MAX_STACK);
                break;
            }
            ptypes[np++] = hook_type(S, pa->u.field.type, false);
        }
        uint32_t result = QUY_NONE;
        ast_node *rt = dcl->u.hook.result;
        bool adjustment = rt && rt->kind == AST_T_NAMED && strcmp(rt->u.type.name.s, "adjustment") == 0;
        if (!adjustment) result = hook_type(S, rt, true);
        char why[1024];
        size_t len = 0;
        char *src = S->d->nerrors == before ? read_hook_file(S, &dcl->u.hook.file, &len, why, sizeof why) : NULL;
        if (S->d->nerrors == before) {
            if (!src)
                sema_err(S, dcl->u.hook.file_span, "hook '%s': %s", nm->s, why);
            else if (!hook_check_source(S->b.p, nm->s, dcl->u.hook.file.s, src, len, why, sizeof why))
                sema_err(S, dcl->u.hook.file_span, "hook '%s': %s", nm->s, why);
        }
        if (S->d->nerrors != before) {
            free(src);
            continue;
        }
        q_hook h = {0};
        h.name = str_of(S, *nm);
        h.file = str_of(S, dcl->u.hook.file);
        h.source = cg_str(&S->b, src, len);
        h.result = result;
        h.first_param = S->b.p->nparams;
        h.nparams = np;
        h.layer = cg_cstr(&S->b, S->files[fi].layer);
        h.pos = pos_of(S, dcl->span);
        free(src);
        ast_node *pa = dcl->u.hook.params;
        for (uint32_t i = 0; i < np; i++, pa = pa->next) {
            uint32_t pn = str_of(S, pa->u.field.name);
            q_param *qp = cg_param(&S->b);
            qp->name = pn;
            qp->type = ptypes[i];
        }
        *cg_hook(&S->b) = h;
    }
}

/* Does an argument of type `at` fit a parameter of type `pt`? */
static bool hook_arg_fits(sema *S, uint32_t pt, uint32_t at)
{
    if (pt == at) return true;
    uint8_t pk = tkind(S, pt), ak = tkind(S, at);
    if (pk == QT_INT) return ak == QT_INT;
    if (pk == QT_DECIMAL || pk == QT_PERCENT) return is_numeric(S, at);
    if (pk == QT_BOOL || pk == QT_DATE || pk == QT_STRING) return ak == pk;
    return false; /* enums, scales and lists: the very type */
}

/* Type the arguments of a call of hook h against its parameters. */
bool sema_hook_args(sema *S, ast_node *e, uint32_t h)
{
    size_t before = S->d->nerrors;
    const char *hn = node_name(e);
    uint32_t np = S->b.p->hooks[h].nparams, first = S->b.p->hooks[h].first_param;
    uint32_t n = 0;
    for (ast_node *a = e->u.name.args; a; a = a->next) n++;
    if (n != np) {
        char sig[512];
        size_t sl = 0;
        sig[0] = 0;
        for (uint32_t i = 0; i < np && sl < sizeof sig; i++) {
            char tb[128];
            const q_param *pa = &S->b.p->params[first + i];
            int w = snprintf(sig + sl, sizeof sig - sl, "%s%s: %s", i ? ", " : "", prog_str(S->b.p, pa->name),
                             sema_type_name(S, pa->type, tb, sizeof tb));
            if (w > 0) sl += (size_t)w;
        }
        sema_err(S, e->span, "hook '%s' takes %u argument%s (%s), not %u", hn, np, np == 1 ? "" : "s", sig, n);
        return false;
    }
    uint32_t i = 0;
    for (ast_node *a = e->u.name.args; a; a = a->next, i++) {
        q_param pa = S->b.p->params[first + i];
        char pn[128], tb[128], ta[128];
        snprintf(pn, sizeof pn, "%s", prog_str(S->b.p, pa.name));
        if (tkind(S, pa.type) == QT_LIST) {
            uint32_t t = a->kind == AST_E_NAME ? sema_name(S, a) : TY_ERR;
            if (t == TY_MEMBER) {
                sema_unknown_name(S, a, TY_ERR);
                continue;
            }
            if (a->kind != AST_E_NAME || a->sem.res != RES_FIELD || t != pa.type) {
                sema_err(S, a->span, "argument %u of hook '%s' (%s) is a list field of type %s", i + 1, hn, pn,
                    sema_type_name(S, pa.type, tb, sizeof tb));
                continue;
            }
            a->sem.type = t + 1;
            continue;
        }
        uint32_t t = sema_expr(S, a);
        if (t == TY_MEMBER) t = sema_resolve_member(S, a, pa.type);
        t = sema_need_value(S, a, t);
        if (t == TY_ERR) continue;
        if (!hook_arg_fits(S, pa.type, t))
            sema_err(S, a->span, "argument %u of hook '%s' (%s) is %s, but the hook takes %s", i + 1, hn, pn,
                sema_type_name(S, t, ta, sizeof ta), sema_type_name(S, pa.type, tb, sizeof tb));
    }
    return S->d->nerrors == before;
}

/* NAME(args) where NAME is a hook: its declared result type. */
uint32_t sema_hook_call(sema *S, ast_node *e, uint32_t h)
{
    e->sem.res = RES_HOOK;
    e->sem.ref = h;
    if (S->b.p->hooks[h].result == QUY_NONE) {
        sema_err(S, e->span, "hook '%s' returns an adjustment: use it in an 'adjust' step, not in an expression",
            node_name(e));
        return TY_ERR;
    }
    if (!sema_hook_args(S, e, h)) return TY_ERR;
    return S->b.p->hooks[h].result;
}

/* The condition of `adjust ... when COND`: a bool whose optional fields
 * are guarded by present(), as a clause without `if present`. */
static bool sema_adjust_when(sema *S, ast_node *when)
{
    size_t before = S->d->nerrors;
    sema_need_bool(S, when, sema_expr(S, when), "the condition of an 'adjust' step");
    if (S->d->nerrors != before) return false;
    s_reads r = {0};
    sema_collect_reads(S, when, &r);
    for (size_t i = 0; i < r.val.n; i++) {
        if (sema_read_guarded(S, &r, i)) continue;
        const char *nm = S->kf[r.val.v[i]].name;
        sema_err(S, when->span, "'%s' may be absent (optional): test present(%s) in the condition", nm, nm);
    }
    sema_reads_free(&r);
    return S->d->nerrors == before;
}

/* The `adjust KIND record|tier by HOOK(args)` steps of one kind, in layer
 * order: before the rules (tier = false) or after the flags (tier = true;
 * a record not rated is not adjusted). */
void sema_adjust_steps(sema *S, const char *kind, bool tier)
{
    cg_builder *b = &S->b;
    uint32_t save = S->file, unrated = QUY_NONE;
    for (size_t fi = 0; fi < S->nfiles; fi++) {
        for (ast_node *dcl = S->files[fi].ast.decls; dcl; dcl = dcl->next) {
            if (dcl->kind != AST_D_ADJUST || dcl->u.adjust.tier != tier || strcmp(dcl->u.adjust.kind.s, kind) != 0)
                continue;
            S->file = (uint32_t)fi;
            ast_node *call = dcl->u.adjust.call;
            const char *hn = node_name(call);
            uint32_t h = sema_find_hook(S, hn);
            if (h == QUY_NONE) {
                sema_cands c = {0};
                char dym[SEMA_SUGGEST_SIZE];
                sema_hook_cands(S, &c);
                sema_err(S, call->span, "unknown hook '%s'%s", hn, sema_suggest(&c, hn, DYM_PRE, DYM_POST, dym, sizeof dym));
                continue;
            }
            if (b->p->hooks[h].result != QUY_NONE) {
                sema_err(S, call->span,
                    "hook '%s' returns a value, not an adjustment: call it in a condition or a 'let' "
                    "(an 'adjust' step needs a hook declared '-> adjustment')",
                    hn);
                continue;
            }
            if (!dcl->u.adjust.cite.len) sema_err(S, dcl->span, "an 'adjust' step needs a 'cite'");
            call->sem.res = RES_HOOK;
            call->sem.ref = h;
            S->adjust_tier = tier;
            bool ok = sema_hook_args(S, call, h);
            ast_node *when = dcl->u.adjust.when;
            if (when) ok &= sema_adjust_when(S, when);
            if (ok) ok = sema_check_depth(S, call) && (!when || sema_check_depth(S, when));
            S->adjust_tier = false;
            if (!ok || !dcl->u.adjust.cite.len) continue;
            if (tier && unrated == QUY_NONE) unrated = cg_emit(b, OP_UNRATED, 0, 0, 0, pos_of(S, dcl->span));
            /* when COND: COND; JFKEEP skip; step; JMP end; skip: POP; end: */
            uint32_t skip = QUY_NONE;
            if (when) {
                S->adjust_tier = tier;
                cg_expr(S, when);
                S->adjust_tier = false;
                skip = cg_emit(b, OP_JFKEEP, 0, 0, 0, pos_of(S, when->span));
            }
            uint32_t msg = dcl->u.adjust.label.len ? str_of(S, dcl->u.adjust.label) : 0;
            uint32_t fl = cg_new_flag(S, b->p->hooks[h].name, msg, str_of(S, dcl->u.adjust.cite),
                                   cg_cstr(b, S->files[fi].layer), QFL_FLAG, QUY_NONE, pos_of(S, dcl->span));
            uint32_t ai = b->p->nadjusts;
            q_adjust *qa = cg_adjust(b);
            qa->kind = S->kind;
            qa->hook = h;
            qa->phase = tier ? QA_TIER : QA_RECORD;
            qa->flag = fl;
            qa->pos = pos_of(S, dcl->span);
            cg_hook_call(S, call);
            cg_emit(b, OP_ADJUST, (uint16_t)ai, 0, 0, pos_of(S, dcl->span));
            if (when) {
                uint32_t over = cg_emit(b, OP_JMP, 0, 0, 0, pos_of(S, when->span));
                cg_patch(b, skip, cg_here(b));
                cg_emit(b, OP_POP, 0, 0, 0, pos_of(S, when->span));
                cg_patch(b, over, cg_here(b));
            }
        }
    }
    if (unrated != QUY_NONE) cg_patch(b, unrated, cg_here(b));
    S->file = save;
}

/* Every `adjust` names a rated kind, and no kind has more steps than a
 * result can note. */
void sema_check_adjusts(sema *S)
{
    SEMA_EACH_DECL(S, fi, dcl) {
        if (dcl->kind != AST_D_ADJUST) continue;
        const ast_str *k = &dcl->u.adjust.kind;
        if (!sema_find_rate(S, k->s, k->len) || !sema_find_record(S, k->s, k->len)) {
            sema_cands c = {0};
            char dym[SEMA_SUGGEST_SIZE];
            sema_rate_cands(S, &c);
            sema_err(S, dcl->u.adjust.kind_span, "'adjust %s': no 'rate %s' to adjust%s", k->s, k->s,
                     sema_suggest(&c, k->s, DYM_PRE, DYM_POST, dym, sizeof dym));
            continue;
        }
        /* the steps of this kind up to this one, in layer order */
        uint32_t n = 0;
        for (size_t fj = 0; fj <= fi; fj++)
            for (ast_node *o = S->files[fj].ast.decls; o && (fj < fi || o != dcl->next); o = o->next)
                n += o->kind == AST_D_ADJUST && strcmp(o->u.adjust.kind.s, k->s) == 0;
        if (n == QUY_MAX_NOTES + 1)
            sema_err(S, dcl->u.adjust.kind_span, "a kind has at most %d 'adjust' steps; this is the %uth for '%s'",
                QUY_MAX_NOTES, n, k->s);
    }
}
