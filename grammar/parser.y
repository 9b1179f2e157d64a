/*
 * parser.y — the Quy grammar (bison, pure, LALR(1) with LAC). Prefix parse_.
 *
 * Builds the AST of compiler/ast.h in the caller's arena. Locations are
 * byte spans (q_span). Syntax errors are reported with specific messages
 * (yyreport_syntax_error below) and recovered from at the next declaration,
 * rate item or record field, so one run reports every error.
 *
 * Between the scanner and the parser sits parse_lex(), which
 *   - turns an identifier followed by ':' (or by a label string and ':')
 *     into DEFNAME (a rule, field, parameter or replaced-rule name), and one
 *     followed by 'also' into ALSO_NAME, so that every rate item and record
 *     field starts with a token of its own: error recovery resumes exactly
 *     at the next item, and no bare identifier can start one;
 *   - tracks open '{' and '(' so messages can say "to close '{' at line N",
 *     and closes blocks left open before a top-level keyword or the end of
 *     the file (reporting it once).
 */

%code requires {
#include <stdbool.h>
#include <stdint.h>

#include "ast.h"

typedef struct parse_state parse_state;

/* The clauses of a condition while they are collected. */
typedef struct parse_clauses {
    ast_node *head, *tail; /* D_CLAUSE list */
    uint32_t n;            /* number of clauses */
    bool bare_or;          /* some clause's expr or unless is an unparenthesised `or` */
    q_span or_span;        /* the first such `or` */
} parse_clauses;

/* A name with its span. */
typedef struct parse_name {
    ast_str s;
    q_span sp;
} parse_name;
}

%define api.pure full
%define api.prefix {parse_}
%define api.token.prefix {TK_}
%define api.location.type {q_span}
%define parse.error custom
%define parse.lac full
%locations
%param {parse_state *p}
%expect 0

%initial-action {
    @$.start = 0;
    @$.end = 0;
}

%union {
    ast_node *node;
    ast_str str;
    q_val num;
    int ival;          /* ast_op, ast_quant, field modifier */
    bool flag;
    parse_clauses cl;
    parse_name name;
}

%code {
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "diag.h"
#include "parse.h"

#include "../runtime/period.h"

enum { PARSE_NEST = 64 }; /* remembered '{' / '(' positions */

struct parse_state {
    ast_arena *arena;
    diag_list *d;
    const char *path;
    const char *src;
    size_t len;
    ast_file *file;
    lex_state lex;

    /* token stream between scanner and parser */
    lex_token ahead[2];   /* tokens scanned but not yet delivered */
    int nahead;
    lex_token replay;     /* token held back while injected '}' are delivered */
    bool has_replay;
    int ninject;          /* '}' still to inject */
    bool cur_injected;    /* the token last delivered was injected */
    int prev_kind;        /* kind of the token delivered before the current one */
    int cur_kind;
    q_span cur;           /* span of the token last delivered */
    uint32_t prev_end;    /* end of the token before it */

    uint32_t brace[PARSE_NEST]; /* offsets of open '{' */
    int nbrace;
    uint32_t paren[PARSE_NEST]; /* offsets of open '(' */
    int nparen;
    bool paren_reset;     /* forget open '(' before the next token */

    /* error reporting */
    bool have_err;
    uint32_t last_err;    /* offset of the last token reported */
    const char *ctx;      /* "rule", "flag", ... : whose condition is being parsed */
    bool started;         /* the first token was delivered */

    /* rate items */
    ast_node *last_item;  /* last item appended to the current rate block */
    bool last_item_error; /* the item before was a syntax error */

    /* lists built left-recursively (`list ',' item`): the last one appended
     * to and its tail, so a long list is built in linear time */
    ast_node *tail_head, *tail;
    bool height_reported; /* an expression over PARSE_MAX_HEIGHT was reported */
    ast_node *decls_tail;
    bool in_quota;        /* between 'quota' and its 'cite' */
};

static int parse_lex(PARSE_STYPE *lval, q_span *lloc, parse_state *p);
static void parse_error(const q_span *loc, parse_state *p, const char *msg);
static void perr(parse_state *p, q_span sp, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Location of a rule: from the first to the last non-empty component. */
static q_span parse_span_join(const q_span *rhs, int n)
{
    q_span r;
    int a = 1, b = n;
    while (a <= n && rhs[a].start == rhs[a].end) a++;
    while (b >= 1 && rhs[b].start == rhs[b].end) b--;
    if (a > b) {
        /* every component empty: at them. Not at rhs[0] unless there are
         * none: bison's error recovery calls this with rhs[0] unset. */
        r.start = r.end = n > 0 ? rhs[1].start : rhs[0].end;
    } else {
        r.start = rhs[a].start;
        r.end = rhs[b].end;
    }
    return r;
}
#define YYLLOC_DEFAULT(Cur, Rhs, N) ((Cur) = parse_span_join(&YYRHSLOC(Rhs, 0), (N)))

static q_span sp2(q_span a, q_span b)
{
    q_span r = {a.start, b.end};
    return r;
}

static ast_str span_text(parse_state *p, q_span sp)
{
    return ast_strdup(p->arena, p->src + sp.start, sp.end - sp.start);
}

static ast_str cstr(parse_state *p, const char *s)
{
    return ast_strdup(p->arena, s, strlen(s));
}

static ast_node *mk_num(parse_state *p, ast_kind k, q_val v, q_span sp)
{
    ast_node *n = ast_new(p->arena, k, sp);
    n->u.num = v;
    return n;
}

/* A quota declaration: the options node collected by quota_opts, filled. */
static ast_node *mk_quota(parse_state *p, q_span sp, ast_node *q, ast_str tier, q_span tier_sp, q_val share,
                          q_span share_sp, ast_str of, q_span of_sp, ast_str per, q_span per_sp, ast_str rnd,
                          q_span rnd_sp, ast_str cite, bool replace)
{
    q->span = sp;
    q->u.quota.tier = tier;
    q->u.quota.tier_span = tier_sp;
    q->u.quota.share = mk_num(p, AST_E_PCT, share, share_sp);
    q->u.quota.of_tier = of;
    q->u.quota.of_span = of_sp;
    q->u.quota.per = per;
    q->u.quota.per_span = per_sp;
    q->u.quota.rounding = rnd;
    q->u.quota.rounding_span = rnd_sp;
    q->u.quota.cite = cite;
    q->u.quota.replace = replace;
    if (strcmp(rnd.s, "half_up") && strcmp(rnd.s, "down") && strcmp(rnd.s, "up"))
        perr(p, rnd_sp, "unknown rounding '%s': expected 'half_up', 'down' or 'up'", rnd.s);
    return q;
}

static ast_node *mk_name(parse_state *p, ast_str s, q_span sp)
{
    ast_node *n = ast_new(p->arena, AST_E_NAME, sp);
    n->u.name.text = s;
    return n;
}

/* `05/12 of period`, `end of period`, `start of period` (period.h spec). */
static ast_node *mk_period(parse_state *p, uint32_t spec, ast_str field, q_span field_sp, q_span sp)
{
    ast_node *n = ast_new(p->arena, AST_E_PERIOD, sp);
    n->u.period.spec = spec;
    n->u.period.field = mk_name(p, field, field_sp);
    return n;
}

/* Operators on one path of an expression: the checker and the code
 * generator recurse over it, so a chain of 30,000 `+` overflowed the C
 * stack (a 10,000-deep nesting of parentheses is the parser's own limit). */
enum { PARSE_MAX_HEIGHT = 1000 };

/* Past the limit: reported once (at the operator that crosses it), and
 * the operator is dropped so that the tree stays within it. */
static uint32_t height_below(const ast_node *a, const ast_node *b)
{
    uint32_t ha = a ? a->height : 0, hb = b ? b->height : 0;
    return ha > hb ? ha : hb;
}

static bool too_high(parse_state *p, const ast_node *a, const ast_node *b, q_span op_sp)
{
    if (height_below(a, b) < PARSE_MAX_HEIGHT) return false;
    if (!p->height_reported)
        perr(p, op_sp, "this expression is too long: more than %d operators on one path (split it into lets, or a "
                       "rule into clauses)", PARSE_MAX_HEIGHT);
    p->height_reported = true;
    return true;
}

static ast_node *mk_bin(parse_state *p, int op, ast_node *a, ast_node *b, q_span sp, q_span op_sp)
{
    if (too_high(p, a, b, op_sp)) return a ? a : b;
    ast_node *n = ast_new(p->arena, AST_E_BINARY, sp);
    n->height = 1 + height_below(a, b);
    n->u.bin.op = (ast_op)op;
    n->u.bin.a = a;
    n->u.bin.b = b;
    n->u.bin.op_span = op_sp;
    return n;
}

static ast_node *mk_unary(parse_state *p, int op, ast_node *a, q_span sp, q_span op_sp)
{
    if (too_high(p, a, NULL, op_sp)) return a;
    ast_node *n = ast_new(p->arena, AST_E_UNARY, sp);
    n->height = 1 + height_below(a, NULL);
    n->u.bin.op = (ast_op)op;
    n->u.bin.a = a;
    n->u.bin.op_span = op_sp;
    return n;
}

/* `n`, found at location `loc`, is an `op` (and/or) written without
 * parentheses: a parenthesised operand's node span stops before the ')'. */
static bool is_bare(const ast_node *n, q_span loc, ast_op op)
{
    return n && n->kind == AST_E_BINARY && n->u.bin.op == op && n->span.end == loc.end;
}

static void mixing_error(parse_state *p, q_span op_sp)
{
    perr(p, op_sp, "mixing 'and' and 'or' needs parentheses: write '(a or b) and c' or 'a or (b and c)'");
}

/* E_QUANT; `all L CMP E` is desugared to `all L where it CMP E`. */
static ast_node *mk_quant(parse_state *p, int q, ast_str list, q_span list_sp, ast_node *body, q_span sp)
{
    ast_node *n = ast_new(p->arena, AST_E_QUANT, sp);
    n->u.quant.q = (ast_quant)q;
    n->u.quant.list = mk_name(p, list, list_sp);
    n->u.quant.body = body;
    return n;
}

static ast_node *mk_shorthand(parse_state *p, q_span list_sp, int op, q_span op_sp, ast_node *rhs, q_span rhs_sp)
{
    ast_node *it = mk_name(p, cstr(p, "it"), list_sp);
    return mk_bin(p, op, it, rhs, sp2(list_sp, rhs_sp), op_sp);
}

static ast_node *mk_decl(parse_state *p, ast_kind k, q_span sp, ast_str name, q_span name_sp, ast_str label,
                         ast_node *items)
{
    ast_node *n = ast_new(p->arena, k, sp);
    n->u.decl.name = name;
    n->u.decl.name_span = name_sp;
    n->u.decl.label = label;
    n->u.decl.items = items;
    return n;
}

static ast_node *mk_rule(parse_state *p, ast_kind k, q_span sp)
{
    return ast_new(p->arena, k, sp);
}

static void add_decl(parse_state *p, ast_node *n)
{
    if (!n) return;
    if (p->decls_tail)
        p->decls_tail->next = n;
    else
        p->file->decls = n;
    p->decls_tail = n;
}

/* list -> list item: appends in constant time when `list` is the list
 * appended to last (the common case: one long list at a time), otherwise
 * walks it (a list nested in another, e.g. call arguments). */
static ast_node *list_add(parse_state *p, ast_node *list, ast_node *item)
{
    if (!item) return list;
    if (!list) {
        list = item;
    } else {
        ast_node *t = list == p->tail_head && p->tail && !p->tail->next ? p->tail : list;
        while (t->next) t = t->next;
        t->next = item;
    }
    ast_node *t = item;
    while (t->next) t = t->next;
    p->tail_head = list;
    p->tail = t;
    return list;
}

/* items -> items item: a bare `flag CODE [cite S]` belongs to the
 * `otherwise` just before it. */
static ast_node *add_item(parse_state *p, ast_node *items, ast_node *it, q_span it_sp)
{
    if (!it) {
        p->last_item = NULL;
        p->last_item_error = true;
        return items;
    }
    if (it->kind == AST_D_FLAG && !it->u.rule.clauses) {
        ast_node *o = p->last_item;
        if (o && o->kind == AST_D_RULE && o->u.rule.otherwise && o->u.rule.flag.len == 0) {
            o->u.rule.flag = it->u.rule.name;
            if (it->u.rule.cite.len) {
                if (o->u.rule.cite.len)
                    perr(p, it->u.rule.cite_span, "'otherwise' already has a 'cite'");
                o->u.rule.cite = it->u.rule.cite;
                o->u.rule.cite_span = it->u.rule.cite_span;
            }
            o->span.end = it_sp.end;
        } else if (!p->last_item_error) {
            perr(p, it_sp,
                 "'flag %s' needs a condition: 'flag CODE [\"message\"] when CONDITION cite \"...\"' "
                 "(only 'otherwise OUTCOME flag CODE' takes a bare flag)",
                 it->u.rule.name.s);
        }
        p->last_item_error = false;
        return items;
    }
    p->last_item = it;
    p->last_item_error = false;
    return list_add(p, items, it);
}


/* clauses -> clause: collect, remembering an unparenthesised `or`. */
static parse_clauses one_clause(ast_node *c, ast_node *e, q_span e_loc, ast_node *u, q_span u_loc)
{
    parse_clauses r = {c, c, 1, false, {0, 0}};
    if (is_bare(e, e_loc, OPR_OR)) {
        r.bare_or = true;
        r.or_span = e->u.bin.op_span;
    } else if (is_bare(u, u_loc, OPR_OR)) {
        r.bare_or = true;
        r.or_span = u->u.bin.op_span;
    }
    return r;
}
}

/* ---------------------------------------------------------------------
 * Tokens
 * ------------------------------------------------------------------- */
%token <str> IDENT "identifier"
%token <str> DEFNAME "name before ':'"
%token <str> ALSO_NAME "outcome before 'also'"
%token <str> STRING "string"
%token <num> INT "integer" DECIMAL "decimal number" PERCENT "percentage" DATE "date" DAYMONTH "day/month"
%token LEXERR "lexical error"
%token NE "!=" LE "<=" GE ">=" ARROW "->"
%token RULESET "ruleset" EXTENDS "extends" VERSION "version" TITLE "title" SOURCE "source"
%token SCALE "scale" ENUM "enum" STRUCT "struct" RECORD "record" OPTIONAL "optional"
%token COMPUTED "computed" CHECK "check" LIST "list" OF "of" RATE "rate" AMEND "amend"
%token WHEN "when" UNLESS "unless" IF "if" PRESENT "present" OTHERWISE "otherwise"
%token ALSO "also" REQUIRES "requires" REPLACE "replace" LET "let" FLAG "flag" GAP "gap"
%token BASIS "basis" SMALL_GROUP "small_group" ORDER "order"
%token CITE "cite" QUOTA "quota" PER "per" ROUND "round" AT "at" CAP "cap" HOOK "hook"
%token ADJUST "adjust" BY "by"
%token FROM "from" ALL "all" ANY "any" NONE "none" COUNT "count" SUM "sum" WHERE "where"
%token AND "and" OR "or" NOT "not" TRUE "true" FALSE "false" IT "it"
%token MIN "min" MAX "max" LONGEST "longest" RUN "run" ELSE "else"

%type <node> attrs decl scale_decl enum_decl struct_decl record_decl rate_decl more_kinds quota_decl cap_decl hook_decl adjust_decl
%type <node> member scale_members enum_body enum_members fields field type opt_default literal
%type <node> items item opt_unless condition opt_adjust_when
%type <node> expr orexpr andexpr notexpr disj cmp arith term unary primary quant opt_args args
%type <node> opt_params params param quota_opts qkeys qkey opt_cap_when
%type <str> opt_label flag_code
%type <name> opt_extends opt_rec_extends opt_rule_flag opt_cite
%type <ival> opt_mod cmpop qkw aggkw
%type <flag> opt_if_present adjust_phase
%type <cl> clauses clause

%%

/* =====================================================================
 * File and header
 * =================================================================== */

/* file -> header decl* (the header is parsed as a declaration so that a
 * file without one still parses; parse_lex reports it missing, once, at
 * the first token) */
file
    : decls
    ;

/* header -> 'ruleset' NAME ['extends' NAME] attr* */
header
    : RULESET rsname opt_extends attrs
        {
            ast_node *h = $4;
            h->span = @$;
            h->u.ruleset.name = span_text(p, @2);
            h->u.ruleset.name_span = @2;
            h->u.ruleset.parent = $3.s;
            h->u.ruleset.parent_span = $3.sp;
            if (p->file->header)
                perr(p, @1, "a file holds one ruleset: this is a second 'ruleset' header");
            else if (p->file->decls || p->have_err)
                perr(p, @1, "the 'ruleset' header must come before every declaration");
            if (!p->file->header) p->file->header = h;
        }
    | RULESET error
        {
            if (!p->file->header) p->file->header = ast_new(p->arena, AST_D_RULESET, @1);
        }
    ;

/* NAME -> piece ('-' piece)* written without spaces: central-124 */
rsname
    : rsname_piece
    | rsname '-' rsname_piece
        {
            if (@1.end != @2.start || @2.end != @3.start)
                perr(p, @2, "write the ruleset name without spaces around '-'");
        }
    ;

rsname_piece
    : IDENT { (void)$1; }
    | INT { (void)$1; }
    | DATE { (void)$1; }
    ;

opt_extends
    : %empty { $$.s = (ast_str){0}; $$.sp = @$; }
    | EXTENDS rsname { $$.s = span_text(p, @2); $$.sp = @2; }
    ;

/* attr -> 'version' STR | 'title' STR | 'source' STR, any order */
attrs
    : %empty { $$ = ast_new(p->arena, AST_D_RULESET, @$); }
    | attrs VERSION STRING
        {
            $$ = $1;
            if ($$->u.ruleset.version.s) perr(p, @2, "duplicate 'version'");
            $$->u.ruleset.version = $3;
        }
    | attrs TITLE STRING
        {
            $$ = $1;
            if ($$->u.ruleset.title.s) perr(p, @2, "duplicate 'title'");
            $$->u.ruleset.title = $3;
        }
    | attrs SOURCE STRING
        {
            $$ = $1;
            if ($$->u.ruleset.source.s) perr(p, @2, "duplicate 'source'");
            $$->u.ruleset.source = $3;
        }
    ;

decls
    : %empty
    | decls decl { add_decl(p, $2); }
    ;

decl
    : header { $$ = NULL; }
    | scale_decl
    | enum_decl
    | struct_decl
    | record_decl
    | rate_decl
    | quota_decl
    | cap_decl
    | hook_decl
    | adjust_decl
    | error { $$ = NULL; }
    ;

opt_label
    : %empty { $$ = (ast_str){0}; }
    | STRING
    ;

/* =====================================================================
 * Types: scale, enum, struct, record
 * =================================================================== */

/* scale_decl -> 'scale' NAME [STR] '{' member ('<' member)* '}' */
scale_decl
    : SCALE IDENT opt_label '{' scale_members '}'
        { $$ = mk_decl(p, AST_D_SCALE, @$, $2, @2, $3, $5); }
    | SCALE IDENT opt_label '{' error '}'
        { $$ = mk_decl(p, AST_D_SCALE, @$, $2, @2, $3, NULL); }
    ;

scale_members
    : member
    | scale_members '<' member { $$ = list_add(p, $1, $3); }
    ;

/* member -> NAME [STR] */
member
    : IDENT opt_label
        {
            $$ = ast_new(p->arena, AST_D_MEMBER, @$);
            $$->u.member_decl.name = $1;
            $$->u.member_decl.label = $2;
        }
    /* `none` is a keyword (the quantifier) but also a natural code for an
     * enum or scale member (366's discipline_level: none < khien_trach
     * ...). Allowed as a member name; as a value in an expression it is
     * still the quantifier, so compare against the other members. */
    | NONE opt_label
        {
            $$ = ast_new(p->arena, AST_D_MEMBER, @$);
            $$->u.member_decl.name = (ast_str){"none", 4};
            $$->u.member_decl.label = $2;
        }
    ;

/* enum_decl -> 'enum' NAME [STR] '{' member (',' member)* [','] '}' */
enum_decl
    : ENUM IDENT opt_label '{' enum_body '}'
        { $$ = mk_decl(p, AST_D_ENUM, @$, $2, @2, $3, $5); }
    ;

enum_body
    : enum_members
    | enum_members ','
    | error { $$ = NULL; }
    ;

enum_members
    : member
    | enum_members ',' member { $$ = list_add(p, $1, $3); }
    ;

/* struct_decl -> 'struct' NAME [STR] '{' field* '}' */
struct_decl
    : STRUCT IDENT opt_label '{' fields '}'
        { $$ = mk_decl(p, AST_D_STRUCT, @$, $2, @2, $3, $5); }
    ;

/* record_decl -> 'record' NAME ['extends' NAME] [STR] '{' (field | check)* '}'
 *              | 'amend' 'record' NAME '{' (field | check)* '}'   (a later layer adds fields) */
record_decl
    : RECORD IDENT opt_rec_extends opt_label '{' fields '}'
        {
            $$ = mk_decl(p, AST_D_RECORD, @$, $2, @2, $4, $6);
            $$->u.decl.parent = $3.s;
            $$->u.decl.parent_span = $3.sp;
        }
    | AMEND RECORD IDENT '{' fields '}'
        {
            $$ = mk_decl(p, AST_D_RECORD, @$, $3, @3, (ast_str){0}, $5);
            $$->u.decl.amend = true;
        }
    ;

opt_rec_extends
    : %empty { $$.s = (ast_str){0}; $$.sp = @$; }
    | EXTENDS IDENT { $$.s = $2; $$.sp = @2; }
    ;

fields
    : %empty { $$ = NULL; }
    | fields field { $$ = list_add(p, $1, $2); }
    ;

/* field -> NAME ':' ['optional'|'computed'] TYPE ['=' literal] [STR]
 *        | 'check' EXPR [STR] */
field
    : DEFNAME ':' opt_mod type opt_default opt_label
        {
            $$ = ast_new(p->arena, AST_D_FIELD, @$);
            $$->u.field.name = $1;
            $$->u.field.name_span = @1;
            $$->u.field.optional = $3 == 1;
            $$->u.field.computed = $3 == 2;
            $$->u.field.type = $4;
            $$->u.field.deflt = $5;
            $$->u.field.label = $6;
        }
    | CHECK expr opt_label
        {
            $$ = ast_new(p->arena, AST_D_CHECK, @$);
            $$->u.check.expr = $2;
            $$->u.check.label = $3;
        }
    | error { $$ = NULL; }
    ;

opt_mod
    : %empty { $$ = 0; }
    | OPTIONAL { $$ = 1; }
    | COMPUTED { $$ = 2; }
    ;

/* type -> NAME | 'list' 'of' type | 'enum' '{' members '}' */
type
    : IDENT
        {
            $$ = ast_new(p->arena, AST_T_NAMED, @$);
            $$->u.type.name = $1;
        }
    | LIST OF type
        {
            $$ = ast_new(p->arena, AST_T_LIST, @$);
            $$->u.type.elem = $3;
        }
    | ENUM '{' enum_body '}'
        {
            $$ = ast_new(p->arena, AST_T_ENUM, @$);
            $$->u.type.members = $3;
        }
    ;

opt_default
    : %empty { $$ = NULL; }
    | '=' literal { $$ = $2; }
    ;

literal
    : INT { $$ = mk_num(p, AST_E_INT, $1, @$); }
    | DECIMAL { $$ = mk_num(p, AST_E_DEC, $1, @$); }
    | PERCENT { $$ = mk_num(p, AST_E_PCT, $1, @$); }
    | '-' INT { q_val v; if (q_neg($2, &v) != Q_OK) v = $2; $$ = mk_num(p, AST_E_INT, v, @$); }
    | '-' DECIMAL { q_val v; if (q_neg($2, &v) != Q_OK) v = $2; $$ = mk_num(p, AST_E_DEC, v, @$); }
    | '-' PERCENT { q_val v; if (q_neg($2, &v) != Q_OK) v = $2; $$ = mk_num(p, AST_E_PCT, v, @$); }
    | DATE { $$ = mk_num(p, AST_E_DATE, $1, @$); }
    | TRUE { $$ = mk_num(p, AST_E_BOOL, q_bool(true), @$); }
    | FALSE { $$ = mk_num(p, AST_E_BOOL, q_bool(false), @$); }
    | STRING
        {
            $$ = ast_new(p->arena, AST_E_STR, @$);
            $$->u.name.text = $1;
        }
    | IDENT { $$ = mk_name(p, $1, @$); }
    ;

/* =====================================================================
 * Rate blocks
 * =================================================================== */

/* rate_decl -> ['amend'] 'rate' KIND (',' KIND)* '{' item* '}' */
rate_decl
    : RATE IDENT more_kinds '{' items '}'
        {
            $$ = ast_new(p->arena, AST_D_RATE, @$);
            $$->u.rate.kind = $2;
            $$->u.rate.kind_span = @2;
            $$->u.rate.more = $3;
            $$->u.rate.items = $5;
        }
    | AMEND RATE IDENT more_kinds '{' items '}'
        {
            $$ = ast_new(p->arena, AST_D_RATE, @$);
            $$->u.rate.kind = $3;
            $$->u.rate.kind_span = @3;
            $$->u.rate.more = $4;
            $$->u.rate.amend = true;
            $$->u.rate.items = $6;
        }
    ;

/* more_kinds -> (',' KIND)*: further kinds rated by the same block */
more_kinds
    : %empty { $$ = NULL; }
    | more_kinds ',' IDENT { $$ = list_add(p, $1, mk_name(p, $3, @3)); }
    ;

items
    : %empty
        {
            $$ = NULL;
            p->last_item = NULL;
            p->last_item_error = false;
        }
    | items item { $$ = add_item(p, $1, $2, @2); }
    ;

item
    /* rule -> NAME [STR] ':' OUTCOME 'when' CLAUSES ['flag' CODE] 'cite' STR */
    : DEFNAME opt_label ':' IDENT rule_when condition opt_rule_flag CITE STRING
        {
            $$ = mk_rule(p, AST_D_RULE, @$);
            $$->u.rule.name = $1;
            $$->u.rule.name_span = @1;
            $$->u.rule.label = $2;
            $$->u.rule.outcome = $4;
            $$->u.rule.outcome_span = @4;
            $$->u.rule.clauses = $6;
            $$->u.rule.flag = $7.s;
            $$->u.rule.cite = $9;
            $$->u.rule.cite_span = @9;
        }
    /* otherwise -> 'otherwise' OUTCOME ['flag' CODE] ['cite' STR]; the flag
     * arrives as a bare flag item (see add_item) */
    | OTHERWISE IDENT opt_cite
        {
            $$ = mk_rule(p, AST_D_RULE, @$);
            $$->u.rule.name = cstr(p, "otherwise");
            $$->u.rule.name_span = @1;
            $$->u.rule.otherwise = true;
            $$->u.rule.outcome = $2;
            $$->u.rule.outcome_span = @2;
            $$->u.rule.cite = $3.s;
            $$->u.rule.cite_span = $3.sp;
        }
    /* bare flag (only after otherwise) */
    | FLAG flag_code
        {
            $$ = mk_rule(p, AST_D_FLAG, @$);
            $$->u.rule.name = $2;
            $$->u.rule.name_span = @2;
        }
    | FLAG flag_code CITE STRING
        {
            $$ = mk_rule(p, AST_D_FLAG, @$);
            $$->u.rule.name = $2;
            $$->u.rule.name_span = @2;
            $$->u.rule.cite = $4;
            $$->u.rule.cite_span = @4;
        }
    /* flag -> 'flag' CODE [STR] 'when' CLAUSES 'cite' STR */
    | FLAG flag_code opt_label flag_when condition CITE STRING
        {
            $$ = mk_rule(p, AST_D_FLAG, @$);
            $$->u.rule.name = $2;
            $$->u.rule.name_span = @2;
            $$->u.rule.label = $3;
            $$->u.rule.clauses = $5;
            $$->u.rule.cite = $7;
            $$->u.rule.cite_span = @7;
        }
    /* gap -> 'gap' CODE [STR] 'when' CLAUSES 'cite' STR */
    | GAP IDENT opt_label gap_when condition CITE STRING
        {
            $$ = mk_rule(p, AST_D_GAP, @$);
            $$->u.rule.name = $2;
            $$->u.rule.name_span = @2;
            $$->u.rule.label = $3;
            $$->u.rule.clauses = $5;
            $$->u.rule.cite = $7;
            $$->u.rule.cite_span = @7;
        }
    /* let -> 'let' NAME [STR] '=' EXPR */
    | LET IDENT opt_label '=' expr
        {
            $$ = ast_new(p->arena, AST_D_LET, @$);
            $$->u.check.name = $2;
            $$->u.check.name_span = @2;
            $$->u.check.label = $3;
            $$->u.check.expr = $5;
        }
    /* also -> OUTCOME 'also' 'requires' CLAUSES 'cite' STR */
    | ALSO_NAME ALSO also_requires condition CITE STRING
        {
            $$ = mk_rule(p, AST_D_ALSO, @$);
            $$->u.rule.outcome = $1;
            $$->u.rule.outcome_span = @1;
            $$->u.rule.clauses = $4;
            $$->u.rule.cite = $6;
            $$->u.rule.cite_span = @6;
        }
    /* replace -> 'replace' NAME [STR] ':' OUTCOME 'when' CLAUSES ['flag' CODE] 'cite' STR */
    | REPLACE DEFNAME opt_label ':' IDENT rule_when condition opt_rule_flag CITE STRING
        {
            ast_node *r = mk_rule(p, AST_D_RULE, sp2(@2, @10));
            r->u.rule.name = $2;
            r->u.rule.name_span = @2;
            r->u.rule.label = $3;
            r->u.rule.outcome = $5;
            r->u.rule.outcome_span = @5;
            r->u.rule.clauses = $7;
            r->u.rule.flag = $8.s;
            r->u.rule.cite = $10;
            r->u.rule.cite_span = @10;
            $$ = mk_rule(p, AST_D_REPLACE, @$);
            $$->u.rule.name = $2;
            $$->u.rule.name_span = @2;
            $$->u.rule.label = $3;
            $$->u.rule.outcome = $5;
            $$->u.rule.outcome_span = @5;
            $$->u.rule.cite = $10;
            $$->u.rule.cite_span = @10;
            $$->u.rule.rule = r;
        }
    | error { $$ = NULL; }
    ;

rule_when : WHEN { p->ctx = "rule"; } ;
flag_when : WHEN { p->ctx = "flag"; } ;
gap_when : WHEN { p->ctx = "gap"; } ;
also_requires : REQUIRES { p->ctx = "'also requires'"; } ;

flag_code
    : IDENT
    | GAP { $$ = cstr(p, "gap"); }
    ;

opt_rule_flag
    : %empty { $$.s = (ast_str){0}; $$.sp = @$; }
    | FLAG flag_code { $$.s = $2; $$.sp = @2; }
    ;

opt_cite
    : %empty { $$.s = (ast_str){0}; $$.sp = @$; }
    | CITE STRING { $$.s = $2; $$.sp = @2; }
    ;

/* condition -> clause ('and' clause)* */
condition
    : clauses
        {
            if ($1.n > 1 && $1.bare_or) mixing_error(p, $1.or_span);
            $$ = $1.head;
        }
    ;

clauses
    : clause
    | clauses AND clause
        {
            $$ = $1;
            $$.tail->next = $3.head;
            $$.tail = $3.tail;
            $$.n += $3.n;
            if (!$$.bare_or && $3.bare_or) {
                $$.bare_or = true;
                $$.or_span = $3.or_span;
            }
        }
    ;

/* clause -> disj ['unless' disj] ['if' 'present'] [STR] */
clause
    : disj opt_unless opt_if_present opt_label
        {
            q_span sp = @1;
            if ($2) sp.end = @2.end;
            if ($3) sp.end = @3.end;
            ast_node *c = ast_new(p->arena, AST_D_CLAUSE, sp);
            c->u.clause.expr = $1;
            c->u.clause.unless = $2;
            c->u.clause.if_present = $3;
            c->u.clause.label = $4;
            $$ = one_clause(c, $1, @1, $2, @2);
        }
    ;

opt_unless
    : %empty { $$ = NULL; }
    | UNLESS disj { $$ = $2; }
    ;

opt_if_present
    : %empty { $$ = false; }
    | IF PRESENT { $$ = true; }
    ;

/* =====================================================================
 * Top-level batch declarations
 * =================================================================== */

/* quota -> ['replace'] 'quota' TIER '<=' PCT 'of' TIER 'per' FIELD 'round' R
 *          ['basis' B] ['small_group' N] ['order' KEY [asc|desc] (',' KEY ...)*] 'cite' STR */
quota_decl
    : quota_kw IDENT LE PERCENT OF IDENT PER IDENT ROUND IDENT quota_opts CITE STRING
        { $$ = mk_quota(p, @$, $11, $2, @2, $4, @4, $6, @6, $8, @8, $10, @10, $13, false); }
    | REPLACE quota_kw IDENT LE PERCENT OF IDENT PER IDENT ROUND IDENT quota_opts CITE STRING
        { $$ = mk_quota(p, @$, $12, $3, @3, $5, @5, $7, @7, $9, @9, $11, @11, $14, true); }
    ;

quota_kw : QUOTA { p->ctx = NULL; } ;

quota_opts
    : %empty { $$ = ast_new(p->arena, AST_D_QUOTA, @$); }
    | quota_opts BASIS IDENT
        {
            $$ = $1;
            if ($$->u.quota.basis.s) perr(p, @2, "duplicate 'basis'");
            if (strcmp($3.s, "final") && strcmp($3.s, "eligible") && strcmp($3.s, "at_least"))
                perr(p, @3, "unknown quota basis '%s': expected 'final', 'eligible' or 'at_least'", $3.s);
            $$->u.quota.basis = $3;
            $$->u.quota.basis_span = @3;
        }
    | quota_opts SMALL_GROUP INT
        {
            $$ = $1;
            if ($$->u.quota.small_group) perr(p, @2, "duplicate 'small_group'");
            if ($3.d != 1 || $3.n < 2 || $3.n > 1000000)
                perr(p, @3, "'small_group' takes a whole number of records from 2 (e.g. small_group 5)");
            else
                $$->u.quota.small_group = $3.n;
            $$->u.quota.small_span = @3;
        }
    | quota_opts ORDER qkeys
        {
            $$ = $1;
            if ($$->u.quota.keys) perr(p, @2, "duplicate 'order'");
            $$->u.quota.keys = $3;
        }
    ;

qkeys
    : qkey
    | qkeys ',' qkey { $$ = list_add(p, $1, $3); }
    ;

/* qkey -> EXPR ['asc' | 'desc'] (desc: larger first; the default is asc) */
qkey
    : cmp
        {
            $$ = ast_new(p->arena, AST_D_CLAUSE, @$);
            $$->u.clause.expr = $1;
        }
    | cmp IDENT
        {
            $$ = ast_new(p->arena, AST_D_CLAUSE, @$);
            $$->u.clause.expr = $1;
            if (!strcmp($2.s, "desc"))
                $$->u.clause.desc = true;
            else if (strcmp($2.s, "asc"))
                perr(p, @2, "expected 'asc' or 'desc' after an order key, not '%s'", $2.s);
        }
    ;

/* cap -> 'cap' KIND 'at' BOUND ['when' COND] ['unless' COND] 'cite' STR */
cap_decl
    : cap_kw IDENT AT expr opt_cap_when opt_unless CITE STRING
        {
            $$ = ast_new(p->arena, AST_D_CAP, @$);
            $$->u.cap.kind = $2;
            $$->u.cap.kind_span = @2;
            $$->u.cap.bound = $4;
            $$->u.cap.when = $5;
            $$->u.cap.unless = $6;
            $$->u.cap.cite = $8;
            $$->u.cap.cite_span = @8;
        }
    ;

opt_cap_when
    : %empty { $$ = NULL; }
    | WHEN disj { $$ = $2; }
    ;

cap_kw : CAP { p->ctx = NULL; } ;

/* hook -> 'hook' NAME '(' [param (',' param)*] ')' '->' TYPE 'from' STR */
hook_decl
    : HOOK IDENT '(' opt_params ')' ARROW type FROM STRING
        {
            $$ = ast_new(p->arena, AST_D_HOOK, @$);
            $$->u.hook.name = $2;
            $$->u.hook.params = $4;
            $$->u.hook.result_type = span_text(p, @7);
            $$->u.hook.result = $7;
            $$->u.hook.file = $9;
            $$->u.hook.name_span = @2;
            $$->u.hook.file_span = @9;
        }
    ;

/* adjust -> 'adjust' KIND ('record' | 'tier') 'by' HOOK '(' [args] ')' ['when' COND] [STR] 'cite' STR */
adjust_decl
    : adjust_kw IDENT adjust_phase BY IDENT '(' opt_args ')' opt_adjust_when opt_label CITE STRING
        {
            $$ = ast_new(p->arena, AST_D_ADJUST, @$);
            $$->u.adjust.kind = $2;
            $$->u.adjust.kind_span = @2;
            $$->u.adjust.tier = $3;
            $$->u.adjust.phase_span = @3;
            ast_node *c = ast_new(p->arena, AST_E_CALL, (q_span){@5.start, @8.end});
            c->u.name.text = $5;
            c->u.name.args = $7;
            $$->u.adjust.call = c;
            $$->u.adjust.when = $9;
            $$->u.adjust.label = $10;
            $$->u.adjust.cite = $12;
        }
    ;

/* ['when' CONDITION]: the step runs only for records where it holds */
opt_adjust_when
    : %empty { $$ = NULL; }
    | WHEN disj { $$ = $2; }
    ;

adjust_kw : ADJUST { p->ctx = NULL; } ;

/* 'record': before the rules (may set fields); 'tier': after them */
adjust_phase
    : RECORD { $$ = false; }
    | IDENT
        {
            $$ = true;
            if (strcmp($1.s, "tier") != 0)
                perr(p, @1, "expected 'record' (before the rules) or 'tier' (after them), not '%s'", $1.s);
        }
    ;

opt_params
    : %empty { $$ = NULL; }
    | params
    ;

params
    : param
    | params ',' param { $$ = list_add(p, $1, $3); }
    ;

/* param -> NAME ':' TYPE */
param
    : DEFNAME ':' type
        {
            $$ = ast_new(p->arena, AST_D_FIELD, @$);
            $$->u.field.name = $1;
            $$->u.field.name_span = @1;
            $$->u.field.type = $3;
        }
    ;

/* =====================================================================
 * Expressions, loosest first: or; and; not; comparison; + -; * /; unary -
 * =================================================================== */

/* expr -> full expression (parentheses, let, check, arguments) */
expr
    : orexpr
    ;

orexpr
    : andexpr
    | orexpr OR andexpr
        {
            if (is_bare($1, @1, OPR_AND) || is_bare($3, @3, OPR_AND)) mixing_error(p, @2);
            $$ = mk_bin(p, OPR_OR, $1, $3, @$, @2);
        }
    ;

andexpr
    : notexpr
    | andexpr AND notexpr { $$ = mk_bin(p, OPR_AND, $1, $3, @$, @2); }
    ;

/* disj -> the expression of a clause: `or` but no bare `and` */
disj
    : notexpr
    | disj OR notexpr { $$ = mk_bin(p, OPR_OR, $1, $3, @$, @2); }
    ;

notexpr
    : cmp
    | NOT notexpr { $$ = mk_unary(p, OPR_NOT, $2, @$, @1); }
    ;

/* cmp -> arith [CMP arith] | quantifier (non-associative) */
cmp
    : arith
    | arith cmpop arith { $$ = mk_bin(p, $2, $1, $3, @$, @2); }
    | quant
    ;

cmpop
    : '=' { $$ = OPR_EQ; }
    | NE { $$ = OPR_NE; }
    | '<' { $$ = OPR_LT; }
    | LE { $$ = OPR_LE; }
    | '>' { $$ = OPR_GT; }
    | GE { $$ = OPR_GE; }
    ;

arith
    : term
    | arith '+' term { $$ = mk_bin(p, OPR_ADD, $1, $3, @$, @2); }
    | arith '-' term { $$ = mk_bin(p, OPR_SUB, $1, $3, @$, @2); }
    ;

term
    : unary
    | term '*' unary { $$ = mk_bin(p, OPR_MUL, $1, $3, @$, @2); }
    | term '/' unary { $$ = mk_bin(p, OPR_DIV, $1, $3, @$, @2); }
    ;

/* unary -> primary | '-' unary | NAME 'else' unary (the field, or the default when absent) */
unary
    : primary
    | '-' unary { $$ = mk_unary(p, OPR_NEG, $2, @$, @1); }
    | IDENT ELSE unary { $$ = mk_bin(p, OPR_ELSE, mk_name(p, $1, @1), $3, @$, @2); }
    ;

primary
    : INT { $$ = mk_num(p, AST_E_INT, $1, @$); }
    | DECIMAL { $$ = mk_num(p, AST_E_DEC, $1, @$); }
    | PERCENT { $$ = mk_num(p, AST_E_PCT, $1, @$); }
    | DATE { $$ = mk_num(p, AST_E_DATE, $1, @$); }
    | TRUE { $$ = mk_num(p, AST_E_BOOL, q_bool(true), @$); }
    | FALSE { $$ = mk_num(p, AST_E_BOOL, q_bool(false), @$); }
    | STRING
        {
            $$ = ast_new(p->arena, AST_E_STR, @$);
            $$->u.name.text = $1;
        }
    | IDENT { $$ = mk_name(p, $1, @$); }
    | DAYMONTH OF IDENT { $$ = mk_period(p, (uint32_t)$1.n, $3, @3, @$); }
    | IDENT OF IDENT
        {
            bool end = strcmp($1.s, "end") == 0, start = strcmp($1.s, "start") == 0;
            if (!end && !start)
                perr(p, @1, "'%s of %s': a date of the period is 'start of %s', 'end of %s' or 'DD/MM of %s' "
                     "(05/12 of %s)", $1.s, $3.s, $3.s, $3.s, $3.s, $3.s);
            $$ = mk_period(p, end ? QPD_END : QPD_START, $3, @3, @$);
        }
    | INT OF IDENT IDENT OF IDENT
        {
            bool first = strcmp($3.s, "first") == 0, last = strcmp($3.s, "last") == 0;
            int64_t day = $1.n;
            if ((!first && !last) || strcmp($4.s, "month") != 0)
                perr(p, @3, "'%s %s': a day of the period's month is 'DD of first month of %s' or 'DD of last month "
                     "of %s' (15 of last month of %s)", $3.s, $4.s, $6.s, $6.s, $6.s);
            else if (day < 1 || day > 30)
                perr(p, @1, "day %lld of a month: write 1 to 30 (every first and last month of a year or a quarter "
                     "has 30 days; the last day is 'end of %s')", (long long)day, $6.s);
            $$ = mk_period(p, (last ? QPD_LAST_MONTH : QPD_FIRST_MONTH) + (uint32_t)(day >= 1 && day <= 30 ? day : 1),
                           $6, @6, @$);
        }
    | IT { $$ = mk_name(p, cstr(p, "it"), @$); }
    | '(' expr ')' { $$ = $2; }
    | IDENT '(' opt_args ')'
        {
            $$ = ast_new(p->arena, AST_E_CALL, @$);
            $$->u.name.text = $1;
            $$->u.name.args = $3;
        }
    | PRESENT '(' IDENT ')'
        {
            $$ = ast_new(p->arena, AST_E_CALL, @$);
            $$->u.name.text = cstr(p, "present");
            $$->u.name.args = mk_name(p, $3, @3);
        }
    | primary '.' IDENT
        {
            $$ = ast_new(p->arena, AST_E_MEMBER, @$);
            $$->u.member.a = $1;
            $$->u.member.field = $3;
        }
    ;

opt_args
    : %empty { $$ = NULL; }
    | args
    ;

args
    : expr
    | args ',' expr { $$ = list_add(p, $1, $3); }
    ;

/* quant -> (all|any|none|count) L ('where' ['not'] cmp | CMP arith)
 *        | 'count' L | ('sum'|'min'|'max') L 'of' arith ['where' ['not'] cmp]
 *        | 'longest' 'run' 'of' L ('where' ['not'] cmp | CMP arith) */
quant
    : qkw IDENT WHERE notexpr { $$ = mk_quant(p, $1, $2, @2, $4, @$); }
    | qkw IDENT cmpop arith { $$ = mk_quant(p, $1, $2, @2, mk_shorthand(p, @2, $3, @3, $4, @4), @$); }
    | COUNT IDENT { $$ = mk_quant(p, QNT_COUNT, $2, @2, NULL, @$); }
    | COUNT IDENT WHERE notexpr { $$ = mk_quant(p, QNT_COUNT, $2, @2, $4, @$); }
    | COUNT IDENT cmpop arith
        { $$ = mk_quant(p, QNT_COUNT, $2, @2, mk_shorthand(p, @2, $3, @3, $4, @4), @$); }
    | aggkw IDENT OF arith { $$ = mk_quant(p, $1, $2, @2, $4, @$); }
    | aggkw IDENT OF arith WHERE notexpr
        {
            $$ = mk_quant(p, $1, $2, @2, $4, @$);
            $$->u.quant.filter = $6;
        }
    | LONGEST RUN OF IDENT WHERE notexpr { $$ = mk_quant(p, QNT_RUN, $4, @4, $6, @$); }
    | LONGEST RUN OF IDENT cmpop arith
        { $$ = mk_quant(p, QNT_RUN, $4, @4, mk_shorthand(p, @4, $5, @5, $6, @6), @$); }
    ;

aggkw
    : SUM { $$ = QNT_SUM; }
    | MIN { $$ = QNT_MIN; }
    | MAX { $$ = QNT_MAX; }
    ;

qkw
    : ALL { $$ = QNT_ALL; }
    | ANY { $$ = QNT_ANY; }
    | NONE { $$ = QNT_NONE; }
    ;

%%

#include "parse_errors.inc" /* perr, parse_error, yyreport_syntax_error */

/* =====================================================================
 * Token stream: scanner -> parser
 * =================================================================== */

static lex_token *peek(parse_state *p, int i)
{
    while (p->nahead <= i) lex_next(&p->lex, &p->ahead[p->nahead++]);
    return &p->ahead[i];
}

static lex_token take(parse_state *p)
{
    lex_token t = *peek(p, 0);
    p->ahead[0] = p->ahead[1];
    p->nahead--;
    return t;
}

/* A keyword that can only start a top-level declaration. `enum` after ':'
 * (or a field modifier, or 'of') is an inline enum type. */
static bool is_toplevel(int kind, int prev)
{
    switch (kind) {
    case TK_RULESET: case TK_SCALE: case TK_STRUCT: case TK_RECORD: case TK_RATE: case TK_AMEND:
    case TK_QUOTA: case TK_CAP: case TK_HOOK: case TK_ADJUST:
        return true;
    case TK_ENUM:
        return prev != ':' && prev != TK_OPTIONAL && prev != TK_COMPUTED && prev != TK_OF;
    default:
        return false;
    }
}

static bool starts_item(int kind)
{
    switch (kind) {
    case TK_DEFNAME: case TK_ALSO_NAME: case TK_OTHERWISE: case TK_LET: case TK_FLAG: case TK_GAP:
    case TK_REPLACE: case TK_CHECK: case '}':
        return true;
    default:
        return false;
    }
}

static void deliver(parse_state *p, int kind, q_span sp)
{
    if (p->paren_reset) {
        p->nparen = 0;
        p->paren_reset = false;
    }
    p->prev_kind = p->cur_kind;
    p->prev_end = p->cur.end;
    p->cur_kind = kind;
    p->cur = sp;
    switch (kind) {
    case '{':
        if (p->nbrace < PARSE_NEST) p->brace[p->nbrace] = sp.start;
        p->nbrace++;
        break;
    case '}':
        if (p->nbrace > 0) p->nbrace--;
        break;
    case '(':
        if (p->nparen < PARSE_NEST) p->paren[p->nparen] = sp.start;
        p->nparen++;
        break;
    case ')':
        if (p->nparen > 0) p->nparen--;
        break;
    default:
        break;
    }
    if (starts_item(kind) || is_toplevel(kind, p->prev_kind)) p->paren_reset = true;
}

static int parse_lex(PARSE_STYPE *lval, q_span *lloc, parse_state *p)
{
    p->cur_injected = false;
    if (p->ninject > 0) {
        /* closing a block left open before a top-level keyword or EOF */
        p->ninject--;
        q_span at = {p->replay.span.start, p->replay.span.start};
        deliver(p, '}', at);
        p->cur_injected = true;
        *lloc = at;
        return '}';
    }
    lex_token t;
    if (p->has_replay) {
        t = p->replay;
        p->has_replay = false;
    } else {
        t = take(p);
        if (t.kind == TK_IDENT) {
            lex_token *n1 = peek(p, 0);
            if (n1->kind == ':' || (n1->kind == TK_STRING && peek(p, 1)->kind == ':'))
                t.kind = TK_DEFNAME;
            else if (n1->kind == TK_ALSO)
                t.kind = TK_ALSO_NAME;
            /* quota options are words only inside a quota declaration, so
             * 'order' or 'basis' stay free as names everywhere else */
            else if (p->in_quota && !strcmp(t.str.s, "basis"))
                t.kind = TK_BASIS;
            else if (p->in_quota && !strcmp(t.str.s, "small_group"))
                t.kind = TK_SMALL_GROUP;
            else if (p->in_quota && !strcmp(t.str.s, "order"))
                t.kind = TK_ORDER;
        }
        if (t.kind == TK_QUOTA) p->in_quota = true;
        if (t.kind == TK_CITE || is_toplevel(t.kind, p->cur_kind) || t.kind == TK_YYEOF) p->in_quota = t.kind == TK_QUOTA;
        if (p->nbrace > 0 && (t.kind == TK_YYEOF || is_toplevel(t.kind, p->cur_kind))) {
            int b = p->nbrace <= PARSE_NEST ? p->nbrace : PARSE_NEST;
            uint32_t line = line_of(p, p->brace[b - 1]);
            if (t.kind == TK_YYEOF)
                perr(p, t.span, "unexpected end of file, expected '}' to close '{' at line %u", line);
            else
                perr(p, t.span, "unexpected '%.*s', expected '}' to close '{' at line %u",
                     (int)(t.span.end - t.span.start), p->src + t.span.start, line);
            p->replay = t;
            p->has_replay = true;
            p->ninject = p->nbrace - 1;
            q_span at = {t.span.start, t.span.start};
            deliver(p, '}', at);
            p->cur_injected = true;
            *lloc = at;
            return '}';
        }
    }
    if (!p->started) {
        p->started = true;
        if (t.kind != TK_RULESET && t.kind != TK_LEXERR) {
            perr(p, t.span, "a ruleset file starts with 'ruleset NAME'");
            p->have_err = true; /* not again as "unexpected ..." */
            p->last_err = t.span.start;
        }
    }
    deliver(p, t.kind, t.span);
    *lloc = t.span;
    switch (t.kind) {
    case TK_IDENT: case TK_DEFNAME: case TK_ALSO_NAME: case TK_STRING:
        lval->str = t.str;
        break;
    case TK_INT: case TK_DECIMAL: case TK_PERCENT: case TK_DATE: case TK_DAYMONTH:
        lval->num = t.num;
        break;
    default:
        break;
    }
    return t.kind;
}

/* =====================================================================
 * Entry points
 * =================================================================== */

const char *parse_token_name(int token)
{
    if (token < 0) return "?";
    return yysymbol_name(YYTRANSLATE(token));
}

/* Out of memory jumped out of the parser: the file is empty, with an error. */
static void parse_report_bail(diag_list *d, const char *path, const char *src, size_t len, ast_file *out)
{
    memset(out, 0, sizeof *out);
    out->path = path;
    out->src = src;
    out->len = len;
    diag_add(d, DIAG_ERROR, path, NULL, (q_span){0, 0}, "%s while parsing", ast_bail_why());
}

bool parse_file(ast_arena *arena, diag_list *d, const char *path, const char *src, size_t len, ast_file *out)
{
    memset(out, 0, sizeof *out);
    out->path = path;
    out->src = src;
    out->len = len;
    size_t before = d->nerrors;
    if (len >= UINT32_MAX) {
        q_span sp = {0, 0};
        diag_add(d, DIAG_ERROR, path, src, sp, "file too large (%zu bytes)", len);
        return false;
    }
    /* Out of memory in the arena: an error, the nodes stay in the arena
     * (freed with it); bison's own stack, if it had grown, is lost. */
    ast_catch c;
    ast_catch_push(&c);
    if (setjmp(c.jb) == 0) {
        parse_state *p = ast_alloc(arena, sizeof *p);
        p->arena = arena;
        p->d = d;
        p->path = path;
        p->src = src;
        p->len = len;
        p->file = out;
        lex_init(&p->lex, arena, d, path, src, len);
        parse_parse(p);
    } else {
        parse_report_bail(d, path, src, len, out);
    }
    ast_catch_pop(&c);
    return d->nerrors == before;
}
