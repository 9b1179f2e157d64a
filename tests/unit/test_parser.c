/*
 * test_parser.c — the bison grammar (grammar/parser.y): the AST built for
 * the language reference's example, spans, desugaring, and error recovery
 * (several errors per file, each at its line:col, none twice).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "parse.h"

typedef struct dbuf { char *s; size_t n, cap; } dbuf;
static void dput(dbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void dput(dbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char tmp[512];
    int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (k < 0) return;
    if (b->n + (size_t)k + 1 > b->cap) {
        b->cap = (b->n + (size_t)k + 1) * 2;
        b->s = realloc(b->s, b->cap);
    }
    memcpy(b->s + b->n, tmp, (size_t)k + 1);
    b->n += (size_t)k;
}

static const char *op_name(ast_op op)
{
    static const char *const n[] = {"neg", "not", "+", "-", "*", "/", "=", "!=", "<", "<=", ">", ">=", "and", "or", "else"};
    return n[op];
}

static void dump(dbuf *b, const ast_node *n);
static void dump_list(dbuf *b, const ast_node *n)
{
    for (; n; n = n->next) {
        dput(b, " ");
        dump(b, n);
    }
}

static void dump(dbuf *b, const ast_node *n)
{
    if (!n) {
        dput(b, "nil");
        return;
    }
    switch (n->kind) {
    case AST_E_INT: case AST_E_DEC: case AST_E_PCT:
        dput(b, "%lld/%lld", (long long)n->u.num.n, (long long)n->u.num.d);
        if (n->kind == AST_E_PCT) dput(b, "%%");
        break;
    case AST_E_DATE: dput(b, "date:%lld", (long long)n->u.num.n); break;
    case AST_E_BOOL: dput(b, n->u.num.n ? "true" : "false"); break;
    case AST_E_STR: dput(b, "\"%s\"", n->u.name.text.s); break;
    case AST_E_NAME: dput(b, "%s", n->u.name.text.s); break;
    case AST_E_UNARY: dput(b, "(%s ", op_name(n->u.bin.op)); dump(b, n->u.bin.a); dput(b, ")"); break;
    case AST_E_BINARY:
        dput(b, "(%s ", op_name(n->u.bin.op));
        dump(b, n->u.bin.a);
        dput(b, " ");
        dump(b, n->u.bin.b);
        dput(b, ")");
        break;
    case AST_E_CALL: dput(b, "(call %s", n->u.name.text.s); dump_list(b, n->u.name.args); dput(b, ")"); break;
    case AST_E_QUANT: {
        static const char *const q[] = {"all", "any", "none", "count", "sum", "min", "max", "run"};
        dput(b, "(%s ", q[n->u.quant.q]);
        dump(b, n->u.quant.list);
        if (n->u.quant.body) {
            dput(b, " ");
            dump(b, n->u.quant.body);
        }
        if (n->u.quant.filter) {
            dput(b, " where ");
            dump(b, n->u.quant.filter);
        }
        dput(b, ")");
        break;
    }
    case AST_E_MEMBER: dput(b, "(. "); dump(b, n->u.member.a); dput(b, " %s)", n->u.member.field.s); break;
    case AST_D_RULESET:
        dput(b, "(ruleset %s", n->u.ruleset.name.s);
        if (n->u.ruleset.parent.len) dput(b, " extends %s", n->u.ruleset.parent.s);
        if (n->u.ruleset.version.s) dput(b, " version \"%s\"", n->u.ruleset.version.s);
        if (n->u.ruleset.title.s) dput(b, " title \"%s\"", n->u.ruleset.title.s);
        if (n->u.ruleset.source.s) dput(b, " source \"%s\"", n->u.ruleset.source.s);
        dput(b, ")");
        break;
    case AST_D_SCALE: case AST_D_ENUM: case AST_D_STRUCT: case AST_D_RECORD:
        dput(b, "(%s %s", n->kind == AST_D_SCALE ? "scale" : n->kind == AST_D_ENUM ? "enum"
                          : n->kind == AST_D_STRUCT ? "struct" : "record", n->u.decl.name.s);
        if (n->u.decl.parent.len) dput(b, " extends %s", n->u.decl.parent.s);
        if (n->u.decl.label.len) dput(b, " \"%s\"", n->u.decl.label.s);
        dump_list(b, n->u.decl.items);
        dput(b, ")");
        break;
    case AST_D_MEMBER:
        dput(b, "%s", n->u.member_decl.name.s);
        if (n->u.member_decl.label.len) dput(b, ":\"%s\"", n->u.member_decl.label.s);
        break;
    case AST_D_FIELD:
        dput(b, "(field %s%s%s ", n->u.field.name.s, n->u.field.optional ? " optional" : "",
             n->u.field.computed ? " computed" : "");
        dump(b, n->u.field.type);
        if (n->u.field.deflt) { dput(b, " = "); dump(b, n->u.field.deflt); }
        if (n->u.field.label.len) dput(b, " \"%s\"", n->u.field.label.s);
        dput(b, ")");
        break;
    case AST_D_CHECK:
        dput(b, "(check ");
        dump(b, n->u.check.expr);
        if (n->u.check.label.len) dput(b, " \"%s\"", n->u.check.label.s);
        dput(b, ")");
        break;
    case AST_T_NAMED: dput(b, "%s", n->u.type.name.s); break;
    case AST_T_LIST: dput(b, "(list "); dump(b, n->u.type.elem); dput(b, ")"); break;
    case AST_T_ENUM: dput(b, "(enum"); dump_list(b, n->u.type.members); dput(b, ")"); break;
    case AST_D_RATE:
        dput(b, "(%srate %s", n->u.rate.amend ? "amend " : "", n->u.rate.kind.s);
        dump_list(b, n->u.rate.items);
        dput(b, ")");
        break;
    case AST_D_RULE: case AST_D_ALSO: case AST_D_FLAG: case AST_D_GAP: case AST_D_REPLACE: {
        const char *k = n->kind == AST_D_RULE ? (n->u.rule.otherwise ? "otherwise" : "rule")
                        : n->kind == AST_D_ALSO ? "also" : n->kind == AST_D_FLAG ? "flag"
                        : n->kind == AST_D_GAP ? "gap" : "replace";
        dput(b, "(%s", k);
        if (n->u.rule.name.len && !n->u.rule.otherwise) dput(b, " %s", n->u.rule.name.s);
        if (n->u.rule.label.len) dput(b, " \"%s\"", n->u.rule.label.s);
        if (n->u.rule.outcome.len) dput(b, " -> %s", n->u.rule.outcome.s);
        if (n->kind == AST_D_REPLACE) {
            dput(b, " ");
            dump(b, n->u.rule.rule);
        } else {
            dump_list(b, n->u.rule.clauses);
        }
        if (n->u.rule.flag.len) dput(b, " flag %s", n->u.rule.flag.s);
        if (n->u.rule.cite.len) dput(b, " cite \"%s\"", n->u.rule.cite.s);
        dput(b, ")");
        break;
    }
    case AST_D_CLAUSE:
        dput(b, "[");
        dump(b, n->u.clause.expr);
        if (n->u.clause.unless) { dput(b, " unless "); dump(b, n->u.clause.unless); }
        if (n->u.clause.if_present) dput(b, " if present");
        if (n->u.clause.label.len) dput(b, " \"%s\"", n->u.clause.label.s);
        dput(b, "]");
        break;
    case AST_D_LET:
        dput(b, "(let %s", n->u.check.name.s);
        if (n->u.check.label.len) dput(b, " \"%s\"", n->u.check.label.s);
        dput(b, " ");
        dump(b, n->u.check.expr);
        dput(b, ")");
        break;
    case AST_D_QUOTA:
        dput(b, "(quota %s <= ", n->u.quota.tier.s);
        dump(b, n->u.quota.share);
        dput(b, " of %s per %s round %s cite \"%s\")", n->u.quota.of_tier.s, n->u.quota.per.s,
             n->u.quota.rounding.s, n->u.quota.cite.s);
        break;
    case AST_D_CAP:
        dput(b, "(cap %s ", n->u.cap.kind.s);
        dump(b, n->u.cap.bound);
        if (n->u.cap.unless) { dput(b, " unless "); dump(b, n->u.cap.unless); }
        dput(b, " cite \"%s\")", n->u.cap.cite.s);
        break;
    case AST_D_HOOK:
        dput(b, "(hook %s", n->u.hook.name.s);
        dump_list(b, n->u.hook.params);
        dput(b, " -> %s from \"%s\")", n->u.hook.result_type.s, n->u.hook.file.s);
        break;
    default:
        dput(b, "<kind %d>", (int)n->kind);
    }
}

static char *dump_file(const ast_file *f)
{
    dbuf b = {0};
    dput(&b, "%s", "");
    dump(&b, f->header);
    for (const ast_node *n = f->decls; n; n = n->next) {
        dput(&b, "\n");
        dump(&b, n);
    }
    return b.s;
}

/* =====================================================================
 * Fixture
 * =================================================================== */

typedef struct px {
    ast_arena *arena;
    diag_list d;
    ast_file file;
    const char *src;
    char *dump;
} px;

static int setup(void **state)
{
    px *f = calloc(1, sizeof *f);
    f->arena = ast_arena_new();
    diag_init(&f->d);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    px *f = *state;
    diag_free(&f->d);
    ast_arena_free(f->arena);
    free(f->dump);
    free(f);
    return 0;
}

static bool parse(px *f, const char *src)
{
    f->src = src;
    bool ok = parse_file(f->arena, &f->d, "t.quy", src, strlen(src), &f->file);
    free(f->dump);
    f->dump = dump_file(&f->file);
    return ok;
}

/* Print the diagnostics (shown when a test fails). */
static void show(px *f) { diag_print(&f->d, stderr, false); }

static void assert_diag(px *f, size_t i, uint32_t line, uint32_t col, const char *msg_part)
{
    if (i >= f->d.n) show(f);
    assert_true(i < f->d.n);
    uint32_t l, c;
    srcpos_linecol(f->src, f->d.items[i].span.start, &l, &c);
    if (l != line || c != col || !strstr(f->d.items[i].msg, msg_part)) {
        fprintf(stderr, "diag %zu: %u:%u: %s\n", i, l, c, f->d.items[i].msg);
        show(f);
    }
    assert_int_equal(l, line);
    assert_int_equal(c, col);
    assert_non_null(strstr(f->d.items[i].msg, msg_part));
}

/* The source text a span covers. */
static char *text(px *f, q_span sp)
{
    static char buf[4][256];
    static int k;
    char *b = buf[k++ % 4];
    snprintf(b, 256, "%.*s", (int)(sp.end - sp.start), f->src + sp.start);
    return b;
}

/* n-th top-level declaration */
static ast_node *decl(px *f, int n)
{
    ast_node *d = f->file.decls;
    while (d && n-- > 0) d = d->next;
    assert_non_null(d);
    return d;
}

static ast_node *nth(ast_node *list, int n)
{
    while (list && n-- > 0) list = list->next;
    assert_non_null(list);
    return list;
}

/* =====================================================================
 * The example of docs/language-reference.md
 * =================================================================== */

static const char reference_example[] =
    "ruleset central-124 version \"2023-10-04\"\n"
    "  title  \"Quy định 124-QĐ/TW ...\"\n"
    "  source \"003_565f1a3572090fb0.txt\"\n"
    "\n"
    "scale grade \"Mức đánh giá tiêu chí\" { kem \"Kém\" < trung_binh \"Trung bình\" < tot \"Tốt\" < xuat_sac \"Xuất sắc\" }\n"
    "enum exemplary_level { khong \"Không\", guong_mau \"Gương mẫu\", thuc_su_guong_mau \"Thực sự gương mẫu\" }\n"
    "struct discipline_case \"Vụ việc kỷ luật\" {\n"
    "  who           : enum { sub_unit \"Tổ chức trực thuộc\", member \"Thành viên\", collective \"Tập thể\" } \"Đối tượng\"\n"
    "  corruption    : bool \"Tham nhũng, tiêu cực\"\n"
    "  self_remedied : bool \"Tự phát hiện, khắc phục xong\"\n"
    "}\n"
    "record common \"Chung\" {\n"
    "  period         : string \"Kỳ đánh giá\"\n"
    "  months_in_role : int \"Số tháng\"\n"
    "  review_done    : bool = true \"Đã kiểm điểm\"\n"
    "  peer_group     : optional string \"Nhóm đối tượng tương đồng\"\n"
    "  check months_in_role >= 0\n"
    "}\n"
    "record member extends common \"Đảng viên\" {\n"
    "  other_grades : list of grade\n"
    "  member_tiers : computed list of tier\n"
    "  cases        : list of discipline_case\n"
    "  exemplary    : exemplary_level = khong\n"
    "  score        : decimal = -1.5\n"
    "  check tasks_completed <= tasks_total \"Không vượt tổng số\"\n"
    "}\n"
    "\n"
    "rate member {\n"
    "  let undone \"Số chỉ tiêu không hoàn thành\" = tasks_total - tasks_completed\n"
    "\n"
    "  mien \"Miễn sinh hoạt đảng\": not_rated when exempt                                     cite \"124-QĐ/TW Điều 5, 2.1\"\n"
    "  ky_luat: khtnv when disciplined unless self_remedied            cite \"124-QĐ/TW Điều 12, 4.3 d\"\n"
    "  xuat_sac: htxsnv when\n"
    "        outstanding                                \"Có nhiều thành tích nổi bật\"\n"
    "    and all other_grades >= tot                    \"Các tiêu chí đều đạt Tốt trở lên\"\n"
    "    and tasks_on_time = tasks_total                \"Hoàn thành 100% chỉ tiêu đúng tiến độ\"\n"
    "    and share(tasks_exceeded, tasks_total) >= 50%  \"Ít nhất 50% chỉ tiêu vượt mức\"\n"
    "    cite \"124-QĐ/TW Điều 12, 1, 1.2\"\n"
    "  otherwise khtnv flag gap\n"
    "\n"
    "  gap exactly_half \"Đúng 50% chỉ tiêu không hoàn thành\" when share(undone, tasks_total) = 50%\n"
    "      cite \"124-QĐ/TW Điều 12, 4.3 b\"\n"
    "  flag late_dossier \"Nộp hồ sơ muộn\" when dossier_submitted_on > 2023-12-10 if present\n"
    "      cite \"Hà Tĩnh III.1.4\"\n"
    "}\n"
    "quota htxsnv <= 20% of httnv per peer_group round half_up cite \"124-QĐ/TW Điều 12, 1.4\"\n"
    "cap leader at unit_tier unless newly_transferred cite \"...\"        -- batch steps issue\n"
    "hook prorate(tasks_total: int, months: int) -> int from \"prorate.lua\"  -- hooks issue\n";

static void test_reference_example(void **state)
{
    px *f = *state;
    bool ok = parse(f, reference_example);
    if (!ok) show(f);
    assert_true(ok);
    assert_int_equal(f->d.n, 0);
    const char *want =
        "(ruleset central-124 version \"2023-10-04\" title \"Quy định 124-QĐ/TW ...\" source \"003_565f1a3572090fb0.txt\")\n"
        "(scale grade \"Mức đánh giá tiêu chí\" kem:\"Kém\" trung_binh:\"Trung bình\" tot:\"Tốt\" xuat_sac:\"Xuất sắc\")\n"
        "(enum exemplary_level khong:\"Không\" guong_mau:\"Gương mẫu\" thuc_su_guong_mau:\"Thực sự gương mẫu\")\n"
        "(struct discipline_case \"Vụ việc kỷ luật\""
        " (field who (enum sub_unit:\"Tổ chức trực thuộc\" member:\"Thành viên\" collective:\"Tập thể\") \"Đối tượng\")"
        " (field corruption bool \"Tham nhũng, tiêu cực\")"
        " (field self_remedied bool \"Tự phát hiện, khắc phục xong\"))\n"
        "(record common \"Chung\" (field period string \"Kỳ đánh giá\") (field months_in_role int \"Số tháng\")"
        " (field review_done bool = true \"Đã kiểm điểm\")"
        " (field peer_group optional string \"Nhóm đối tượng tương đồng\") (check (>= months_in_role 0/1)))\n"
        "(record member extends common \"Đảng viên\" (field other_grades (list grade))"
        " (field member_tiers computed (list tier)) (field cases (list discipline_case))"
        " (field exemplary exemplary_level = khong) (field score decimal = -3/2)"
        " (check (<= tasks_completed tasks_total) \"Không vượt tổng số\"))\n"
        "(rate member"
        " (let undone \"Số chỉ tiêu không hoàn thành\" (- tasks_total tasks_completed))"
        " (rule mien \"Miễn sinh hoạt đảng\" -> not_rated [exempt] cite \"124-QĐ/TW Điều 5, 2.1\")"
        " (rule ky_luat -> khtnv [disciplined unless self_remedied] cite \"124-QĐ/TW Điều 12, 4.3 d\")"
        " (rule xuat_sac -> htxsnv [outstanding \"Có nhiều thành tích nổi bật\"]"
        " [(all other_grades (>= it tot)) \"Các tiêu chí đều đạt Tốt trở lên\"]"
        " [(= tasks_on_time tasks_total) \"Hoàn thành 100% chỉ tiêu đúng tiến độ\"]"
        " [(>= (call share tasks_exceeded tasks_total) 1/2%) \"Ít nhất 50% chỉ tiêu vượt mức\"]"
        " cite \"124-QĐ/TW Điều 12, 1, 1.2\")"
        " (otherwise -> khtnv flag gap)"
        " (gap exactly_half \"Đúng 50% chỉ tiêu không hoàn thành\" [(= (call share undone tasks_total) 1/2%)]"
        " cite \"124-QĐ/TW Điều 12, 4.3 b\")"
        " (flag late_dossier \"Nộp hồ sơ muộn\" [(> dossier_submitted_on date:19701) if present]"
        " cite \"Hà Tĩnh III.1.4\"))\n"
        "(quota htxsnv <= 1/5% of httnv per peer_group round half_up cite \"124-QĐ/TW Điều 12, 1.4\")\n"
        "(cap leader unit_tier unless newly_transferred cite \"...\")\n"
        "(hook prorate (field tasks_total int) (field months int) -> int from \"prorate.lua\")";
    if (strcmp(f->dump, want) != 0) fprintf(stderr, "got:\n%s\n", f->dump);
    assert_string_equal(f->dump, want);

    /* header */
    ast_node *h = f->file.header;
    assert_int_equal(h->kind, AST_D_RULESET);
    assert_string_equal(text(f, h->u.ruleset.name_span), "central-124");
    assert_int_equal(h->u.ruleset.parent.len, 0);
    assert_string_equal(ast_kind_name[h->kind], "D_RULESET");
}

static void test_spans(void **state)
{
    px *f = *state;
    assert_true(parse(f, reference_example));
    ast_node *rate = decl(f, 5);
    assert_int_equal(rate->kind, AST_D_RATE);
    assert_string_equal(text(f, rate->u.rate.kind_span), "member");

    ast_node *ky = nth(rate->u.rate.items, 2);
    assert_string_equal(text(f, ky->u.rule.name_span), "ky_luat");
    assert_string_equal(text(f, ky->u.rule.outcome_span), "khtnv");
    assert_string_equal(text(f, ky->u.rule.cite_span), "\"124-QĐ/TW Điều 12, 4.3 d\"");
    assert_string_equal(text(f, ky->u.rule.clauses->span), "disciplined unless self_remedied");

    /* a clause's span stops before its label; its expr's span is the expr */
    ast_node *xs = nth(rate->u.rate.items, 3);
    ast_node *c1 = nth(xs->u.rule.clauses, 1);
    assert_string_equal(text(f, c1->span), "all other_grades >= tot");
    assert_string_equal(text(f, c1->u.clause.expr->span), "all other_grades >= tot");
    /* the desugared body: `other_grades >= tot`, `it` at the list */
    ast_node *body = c1->u.clause.expr->u.quant.body;
    assert_string_equal(text(f, body->span), "other_grades >= tot");
    assert_string_equal(text(f, body->u.bin.a->span), "other_grades");
    assert_string_equal(text(f, body->u.bin.op_span), ">=");
    ast_node *c3 = nth(xs->u.rule.clauses, 3);
    assert_string_equal(text(f, c3->span), "share(tasks_exceeded, tasks_total) >= 50%");
    assert_string_equal(text(f, c3->u.clause.expr->u.bin.a->span), "share(tasks_exceeded, tasks_total)");

    ast_node *fl = nth(rate->u.rate.items, 6);
    assert_int_equal(fl->kind, AST_D_FLAG);
    assert_string_equal(text(f, fl->u.rule.clauses->span), "dossier_submitted_on > 2023-12-10 if present");
    assert_string_equal(text(f, fl->u.rule.clauses->u.clause.expr->span), "dossier_submitted_on > 2023-12-10");

    /* otherwise absorbed its `flag gap` */
    ast_node *ow = nth(rate->u.rate.items, 4);
    assert_true(ow->u.rule.otherwise);
    assert_string_equal(text(f, ow->span), "otherwise khtnv flag gap");

    ast_node *let = rate->u.rate.items;
    assert_string_equal(text(f, let->u.check.name_span), "undone");
    assert_string_equal(text(f, let->u.check.expr->span), "tasks_total - tasks_completed");

    ast_node *rec = decl(f, 4);
    ast_node *fld = rec->u.decl.items;
    assert_string_equal(text(f, fld->u.field.name_span), "other_grades");
    assert_string_equal(text(f, fld->span), "other_grades : list of grade");

    ast_node *q = decl(f, 6);
    assert_string_equal(text(f, q->u.quota.share->span), "20%");
    assert_string_equal(text(f, q->u.quota.rounding_span), "half_up");

    /* a parenthesised expression: the node's span is inside the parens */
    assert_true(parse(f, "ruleset r\nrate m { a: htnv when (x or y) and z cite \"c\" }"));
    ast_node *cl = decl(f, 0)->u.rate.items->u.rule.clauses;
    assert_string_equal(text(f, cl->span), "(x or y)");
    assert_string_equal(text(f, cl->u.clause.expr->span), "x or y");
}

static void test_ruleset_names(void **state)
{
    px *f = *state;
    assert_true(parse(f, "ruleset ha-tinh-city-2023 extends central-124 version \"2023\" source \"s\" title \"t\""));
    ast_node *h = f->file.header;
    assert_string_equal(h->u.ruleset.name.s, "ha-tinh-city-2023");
    assert_string_equal(h->u.ruleset.parent.s, "central-124");
    assert_string_equal(text(f, h->u.ruleset.parent_span), "central-124");
    assert_string_equal(h->u.ruleset.version.s, "2023");
    assert_string_equal(h->u.ruleset.title.s, "t");
    assert_string_equal(h->u.ruleset.source.s, "s");

    assert_false(parse(f, "ruleset central -124"));
    assert_diag(f, 0, 1, 17, "without spaces around '-'");

    assert_false(parse(f, "ruleset a version \"1\" version \"2\""));
    assert_diag(f, 1, 1, 23, "duplicate 'version'");
}

static void test_missing_header(void **state)
{
    px *f = *state;
    assert_false(parse(f, "scale s { a < b }"));
    assert_int_equal(f->d.nerrors, 1);
    assert_diag(f, 0, 1, 1, "starts with 'ruleset NAME'");
    assert_non_null(f->file.decls); /* the rest still parsed */
    assert_null(f->file.header);
}

static void test_amend(void **state)
{
    px *f = *state;
    bool ok = parse(f, "ruleset ha-tinh extends central-124\n"
                       "amend rate member {\n"
                       "  htxsnv also requires (count member_tiers where it >= httnv) >= 3 \"Ba tiêu chí\" cite \"HT 1\"\n"
                       "  replace ky_luat \"Kỷ luật\": khtnv when disciplined and not (a or b) flag f cite \"HT 2\"\n"
                       "  otherwise htnv cite \"HT 3\"\n"
                       "}\n");
    if (!ok) show(f);
    assert_true(ok);
    assert_string_equal(f->dump,
                        "(ruleset ha-tinh extends central-124)\n"
                        "(amend rate member"
                        " (also -> htxsnv [(>= (count member_tiers (>= it httnv)) 3/1) \"Ba tiêu chí\"] cite \"HT 1\")"
                        " (replace ky_luat \"Kỷ luật\" -> khtnv"
                        " (rule ky_luat \"Kỷ luật\" -> khtnv [disciplined] [(not (or a b))] flag f cite \"HT 2\")"
                        " cite \"HT 2\")"
                        " (otherwise -> htnv cite \"HT 3\"))");
    ast_node *rate = decl(f, 0);
    assert_true(rate->u.rate.amend);
    ast_node *also = rate->u.rate.items;
    assert_int_equal(also->kind, AST_D_ALSO);
    assert_string_equal(text(f, also->u.rule.outcome_span), "htxsnv");
    ast_node *rep = also->next;
    assert_int_equal(rep->kind, AST_D_REPLACE);
    assert_string_equal(rep->u.rule.name.s, "ky_luat");
    assert_int_equal(rep->u.rule.rule->kind, AST_D_RULE);
    assert_string_equal(rep->u.rule.rule->u.rule.name.s, "ky_luat");
    assert_string_equal(text(f, rep->u.rule.rule->u.rule.outcome_span), "khtnv");
    assert_string_equal(text(f, rep->u.rule.rule->u.rule.cite_span), "\"HT 2\"");
}

static void test_expressions(void **state)
{
    px *f = *state;
    bool ok = parse(f, "ruleset r\n"
                       "rate m {\n"
                       "  let a = not x = y + z * -w / 2 - 1\n"
                       "  let b = count l\n"
                       "  let c = count l where it >= httnv\n"
                       "  let d = count l >= httnv\n"
                       "  let e = sum cases of weight * 2\n"
                       "  let g = none cases where corruption\n"
                       "  let h = any l = tot\n"
                       "  let i = (count l where it >= httnv) >= 3\n"
                       "  let j = f(a, g(b, 1)) + present(x)\n"
                       "  let k = a or b or c\n"
                       "  let l = a and (b or c) and d\n"
                       "  let m = 1.25 + 12.5% - 2024-02-29\n"
                       "  let n = \"Chuỗi\" != it\n"
                       "  let o = x.y = true and false\n"
                       "  let p = all l where any m where it > 1\n"
                       "  let q = all cases where not corruption\n"
                       "  let r = min axes of weight where role = primary\n"
                       "  let s = (max axes of weight * 2 where not ok) > (sum axes of weight where ok)\n"
                       "  let t = (longest run of quarters where it = khtnv) >= 2\n"
                       "  let u = longest run of quarters >= htnv\n"
                       "  let v = score else x + 1\n"
                       "  let w = -score else (sum l of it)\n"
                       "}\n");
    if (!ok) show(f);
    assert_true(ok);
    const char *want = "(ruleset r)\n(rate m"
                       " (let a (not (= x (- (+ y (/ (* z (neg w)) 2/1)) 1/1))))"
                       " (let b (count l))"
                       " (let c (count l (>= it httnv)))"
                       " (let d (count l (>= it httnv)))"
                       " (let e (sum cases (* weight 2/1)))"
                       " (let g (none cases corruption))"
                       " (let h (any l (= it tot)))"
                       " (let i (>= (count l (>= it httnv)) 3/1))"
                       " (let j (+ (call f a (call g b 1/1)) (call present x)))"
                       " (let k (or (or a b) c))"
                       " (let l (and (and a (or b c)) d))"
                       " (let m (- (+ 5/4 1/8%) date:19782))"
                       " (let n (!= \"Chuỗi\" it))"
                       " (let o (and (= (. x y) true) false))"
                       " (let p (all l (any m (> it 1/1))))"
                       " (let q (all cases (not corruption)))"
                       " (let r (min axes weight where (= role primary)))"
                       " (let s (> (max axes (* weight 2/1) where (not ok)) (sum axes weight where ok)))"
                       " (let t (>= (run quarters (= it khtnv)) 2/1))"
                       " (let u (run quarters (>= it htnv)))"
                       " (let v (+ (else score x) 1/1))"
                       " (let w (neg (else score (sum l it)))))";
    if (strcmp(f->dump, want) != 0) fprintf(stderr, "got:\n%s\n", f->dump);
    assert_string_equal(f->dump, want);
}

/* =====================================================================
 * Errors and recovery
 * =================================================================== */

static void test_three_errors_reported(void **state)
{
    px *f = *state;
    const char *src = "ruleset r\n"                                      /* 1 */
                      "record member {\n"                                /* 2 */
                      "  tasks_total : = 3\n"                            /* 3 */
                      "  tasks_done  : int\n"                            /* 4 */
                      "}\n"                                              /* 5 */
                      "rate member {\n"                                  /* 6 */
                      "  a: htnv when x + * y cite \"a\"\n"              /* 7 */
                      "  b: htnv when tasks_done > 0 cite \"b\"\n"       /* 8 */
                      "  c: htxsnv when y > 1 z cite \"c\"\n"            /* 9 */
                      "  otherwise khtnv\n"                              /* 10 */
                      "}\n";
    assert_false(parse(f, src));
    assert_int_equal(f->d.nerrors, 3);
    assert_diag(f, 0, 3, 17, "unexpected '=', expected a name, 'enum', 'optional', 'computed' or 'list'");
    assert_diag(f, 1, 7, 20, "unexpected '*', expected an expression");
    assert_diag(f, 2, 9, 24, "unexpected 'z'");
    /* what parsed cleanly is kept */
    ast_node *rec = decl(f, 0);
    assert_string_equal(rec->u.decl.items->u.field.name.s, "tasks_done");
    ast_node *rate = decl(f, 1);
    assert_string_equal(rate->u.rate.items->u.rule.name.s, "b");
    assert_true(rate->u.rate.items->next->u.rule.otherwise);
}

static void test_and_or_mixing(void **state)
{
    px *f = *state;
    assert_false(parse(f, "ruleset r\nrate m {\n  a: htnv when (x or y and z) cite \"a\"\n}"));
    assert_int_equal(f->d.nerrors, 1);
    assert_diag(f, 0, 3, 19, "mixing 'and' and 'or' needs parentheses");

    assert_false(parse(f, "ruleset r\nrate m {\n  a: htnv when x or y and z cite \"a\"\n}"));
    assert_diag(f, 1, 3, 18, "mixing 'and' and 'or' needs parentheses");
    assert_false(parse(f, "ruleset r\nrate m {\n  a: htnv when x and y or z cite \"a\"\n}"));
    assert_diag(f, 2, 3, 24, "mixing 'and' and 'or' needs parentheses");
    assert_false(parse(f, "ruleset r\nrate m {\n  a: htnv when w and x unless y or z cite \"a\"\n}"));
    assert_diag(f, 3, 3, 33, "mixing 'and' and 'or' needs parentheses");
    assert_false(parse(f, "ruleset r\nrate m {\n  let v = a and b or c\n}"));
    assert_diag(f, 4, 3, 19, "mixing 'and' and 'or' needs parentheses");
    assert_int_equal(f->d.nerrors, 5);

    /* fine: parenthesised, or a single clause with `or` */
    assert_true(parse(f, "ruleset r\nrate m {\n"
                         "  a: htnv when (x or y) and z cite \"a\"\n"
                         "  b: htnv when x or (y and z) cite \"b\"\n"
                         "  c: htnv when x or y unless u or v \"nhãn\" cite \"c\"\n"
                         "  d: htnv when (x) or (y) cite \"d\"\n"
                         "  let e = (a and b) or c\n"
                         "}"));
    assert_int_equal(f->d.nerrors, 5);
}

static void test_missing_cite(void **state)
{
    px *f = *state;
    const char *src = "ruleset r\nrate m {\n"
                      "  a: htnv when x > 1 \"nhãn\"\n"
                      "  b: htnv when y cite \"b\"\n"
                      "  flag late when z\n"
                      "  otherwise khtnv\n"
                      "}\n"
                      "quota htxsnv <= 20% of httnv per g round up\n";
    assert_false(parse(f, src));
    assert_int_equal(f->d.nerrors, 3);
    assert_diag(f, 0, 3, 28, "missing 'cite' after rule condition");
    assert_diag(f, 1, 5, 19, "missing 'cite' after flag condition");
    assert_diag(f, 2, 8, 44, "missing 'cite");
    ast_node *rate = decl(f, 0);
    assert_string_equal(rate->u.rate.items->u.rule.name.s, "b");
}

static void test_unclosed_blocks(void **state)
{
    px *f = *state;
    const char *src = "ruleset r\n"
                      "rate m {\n"
                      "  a: htnv when x cite \"a\"\n"
                      "scale s { lo < hi }\n"
                      "rate k {\n"
                      "  b: htnv when (x or y cite \"b\"\n";
    assert_false(parse(f, src));
    assert_int_equal(f->d.nerrors, 3);
    assert_diag(f, 0, 4, 1, "unexpected 'scale', expected '}' to close '{' at line 2");
    assert_diag(f, 1, 6, 24, "expected an operator, 'and', 'or' or ')' (to close '(' at line 6)");
    assert_diag(f, 2, 7, 1, "unexpected end of file, expected '}' to close '{' at line 5");
    /* the block was closed there and the rest parsed */
    assert_int_equal(decl(f, 0)->u.rate.items->kind, AST_D_RULE);
    assert_int_equal(decl(f, 1)->kind, AST_D_SCALE);
    assert_int_equal(decl(f, 2)->kind, AST_D_RATE);
}

static void test_min_max_call_targeted(void **state)
{
    px *f = *state;
    const char *src = "ruleset r\nrate m {\n  let a = min(x, 1)\n  let b = 2 + max (y)\n  let c = amin(x)\n}\n";
    assert_false(parse(f, src));
    assert_int_equal(f->d.nerrors, 2);
    assert_diag(f, 0, 3, 14, "'min' takes a list, as in 'min axes of weight [where role = primary]' (there is no min(a, b))");
    assert_diag(f, 1, 4, 15, "unexpected 'max': a quantifier used as an operand needs parentheses, as in '1 + (max ...)'");
}

static void test_lexical_error_reported_once(void **state)
{
    px *f = *state;
    const char *src = "ruleset r\nrate m {\n  a: htnv when x & y cite \"a\"\n  b: htnv when y cite \"Điều\n}";
    assert_false(parse(f, src));
    assert_int_equal(f->d.nerrors, 2);
    assert_diag(f, 0, 3, 18, "unexpected character '&'");
    assert_diag(f, 1, 4, 23, "unterminated string");
    /* the unterminated string still ends rule b */
    assert_string_equal(decl(f, 0)->u.rate.items->u.rule.name.s, "b");
}

static void test_bare_flag(void **state)
{
    px *f = *state;
    assert_false(parse(f, "ruleset r\nrate m {\n  a: htnv when x cite \"a\"\n  flag oops\n}"));
    assert_int_equal(f->d.nerrors, 1);
    assert_diag(f, 0, 4, 3, "'flag oops' needs a condition");
}

static void test_misc_errors(void **state)
{
    px *f = *state;
    assert_false(parse(f, "ruleset r\nquota htxsnv <= 20% of httnv per g round nearest cite \"q\""));
    assert_diag(f, 0, 2, 42, "unknown rounding 'nearest'");
    assert_false(parse(f, "ruleset r\nrate m { a: htnv when x < y < z cite \"a\" }"));
    assert_diag(f, 1, 2, 29, "comparisons do not chain");
    assert_false(parse(f, "ruleset r\nrate m { a: htnv when count l >= 1 > 0 cite \"a\" }"));
    assert_diag(f, 2, 2, 36, "a quantifier used as an operand needs parentheses");
    assert_false(parse(f, "ruleset r\nscale s { a < b < }\nenum e { x, y, }"));
    assert_diag(f, 3, 2, 19, "unexpected '}', expected a name");
    assert_int_equal(f->d.nerrors, 4);
}

/* Every prefix of a valid file parses without crashing, reports an error
 * when incomplete, and never reports two errors at one position. */
static void test_every_prefix(void **state)
{
    px *f = *state;
    size_t len = strlen(reference_example);
    char *buf = malloc(len + 1);
    for (size_t n = 0; n <= len; n++) {
        memcpy(buf, reference_example, n);
        buf[n] = '\0';
        ast_arena *a = ast_arena_new();
        diag_list d;
        diag_init(&d);
        ast_file file;
        parse_file(a, &d, "p.quy", buf, n, &file);
        for (size_t i = 1; i < d.n; i++)
            if (d.items[i].span.start == d.items[i - 1].span.start) {
                fprintf(stderr, "prefix %zu:\n", n);
                diag_print(&d, stderr, false);
                fail();
            }
        diag_free(&d);
        ast_arena_free(a);
    }
    free(buf);
    (void)f;
}

/* Deleting any one byte never crashes the parser. */
static void test_every_deletion(void **state)
{
    (void)state;
    size_t len = strlen(reference_example);
    char *buf = malloc(len + 1);
    for (size_t k = 0; k < len; k++) {
        memcpy(buf, reference_example, k);
        memcpy(buf + k, reference_example + k + 1, len - k);
        ast_arena *a = ast_arena_new();
        diag_list d;
        diag_init(&d);
        ast_file file;
        parse_file(a, &d, "p.quy", buf, len - 1, &file);
        diag_free(&d);
        ast_arena_free(a);
    }
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reference_example, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spans, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ruleset_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_header, setup, teardown),
        cmocka_unit_test_setup_teardown(test_amend, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expressions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_three_errors_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_and_or_mixing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_cite, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unclosed_blocks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_min_max_call_targeted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lexical_error_reported_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bare_flag, setup, teardown),
        cmocka_unit_test_setup_teardown(test_misc_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_prefix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_deletion, setup, teardown),
    };
    return cmocka_run_group_tests_name("parser", tests, NULL, NULL);
}
