/*
 * rec_fixture.h — a small q_program built by hand for the record loader
 * and output writer tests (test_record.c, test_output.c), so they do not
 * depend on the compiler. Header-only; each test binary includes it once.
 *
 *   kind member (rated):
 *     0 tasks_total      int
 *     1 tasks_completed  int                 check tasks_completed <= tasks_total
 *     2 pct              percent, optional
 *     3 grades           list of scale grade {kem < dat < tot < xuat_sac}
 *     4 exemplary        enum {khong, guong_mau, thuc_su_guong_mau}
 *     5 discipline_cases list of {who: enum {sub_unit, member, collective}, corruption: bool}
 *     6 review_held_on   date
 *     7 review_done      bool, default true
 *     8 score            decimal, optional
 *     9 note             string, optional
 *    10 dossier          list of string, optional
 *    11 member_tiers     list of grade, computed from the batch when absent
 *   kind leader (rated): exemplary
 *   kind agency (declared, not rated)
 *   rule 0 `xuat_sac` -> htxsnv, rule 1 `fallback` -> htnv; flag 0 late_dossier, 1 gap_x
 */
#ifndef QUY_REC_FIXTURE_H
#define QUY_REC_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include "program.h"

typedef struct fx_strings {
    const char *s[64];
    uint32_t n;
} fx_strings;

static uint32_t fx_str(fx_strings *t, const char *s)
{
    for (uint32_t i = 0; i < t->n; i++)
        if (!strcmp(t->s[i], s)) return i;
    t->s[t->n] = s;
    return t->n++;
}

#define FX_ARR(type, n) ((type *)calloc((n), sizeof(type)))

static q_program *fx_program(void)
{
    q_program *p = calloc(1, sizeof *p);
    fx_strings st = {{""}, 1};
    p->name = fx_str(&st, "central-124");
    p->version = fx_str(&st, "1.0");

    /* types */
    p->ntypes = 13;
    p->types = FX_ARR(q_type, p->ntypes);
    const uint8_t basic[6] = {QT_INT, QT_DECIMAL, QT_PERCENT, QT_BOOL, QT_DATE, QT_STRING};
    for (int i = 0; i < 6; i++) p->types[i].kind = basic[i];
    p->types[6] = (q_type){QT_SCALE, fx_str(&st, "grade"), 0, 0, 0, 4};
    p->types[7] = (q_type){QT_LIST, 0, 0, 6, 0, 0};
    p->types[8] = (q_type){QT_ENUM, fx_str(&st, "exemplary"), 0, 0, 4, 3};
    p->types[9] = (q_type){QT_ENUM, fx_str(&st, "who"), 0, 0, 7, 3};
    p->types[10] = (q_type){QT_STRUCT, fx_str(&st, "case"), 0, 0, 12, 2};
    p->types[11] = (q_type){QT_LIST, 0, 0, 10, 0, 0};
    p->types[12] = (q_type){QT_LIST, 0, 0, 5, 0, 0};

    static const char *const members[10] = {"kem", "dat", "tot", "xuat_sac", "khong", "guong_mau",
                                            "thuc_su_guong_mau", "sub_unit", "member", "collective"};
    p->nmembers = 10;
    p->members = FX_ARR(q_member, p->nmembers);
    for (int i = 0; i < 10; i++) p->members[i].name = fx_str(&st, members[i]);

    /* fields */
    static const struct {
        const char *name, *label;
        uint32_t type;
        uint8_t flags;
    } fl[15] = {
        {"tasks_total", "Chỉ tiêu, nhiệm vụ được giao", 0, 0},
        {"tasks_completed", "Số đã hoàn thành", 0, 0},
        {"pct", "Tỉ lệ tín nhiệm thấp", 2, QF_OPTIONAL},
        {"grades", "", 7, 0},
        {"exemplary", "Mức độ gương mẫu", 8, 0},
        {"discipline_cases", "", 11, 0},
        {"review_held_on", "", 4, 0},
        {"review_done", "", 3, QF_DEFAULT},
        {"score", "", 1, QF_OPTIONAL},
        {"note", "", 5, QF_OPTIONAL},
        {"dossier", "", 12, QF_OPTIONAL},
        {"member_tiers", "", 7, QF_BATCH},
        {"who", "", 9, 0},          /* struct case, slot 0 */
        {"corruption", "", 3, 0},   /* struct case, slot 1 */
        {"exemplary", "", 8, 0},    /* leader */
    };
    p->nfields = 15;
    p->fields = FX_ARR(q_field, p->nfields);
    for (uint32_t i = 0; i < 15; i++) {
        q_field *f = &p->fields[i];
        f->name = fx_str(&st, fl[i].name);
        f->label = fx_str(&st, fl[i].label);
        f->type = fl[i].type;
        f->flags = fl[i].flags;
        f->slot = (uint16_t)(i < 12 ? i : i < 14 ? i - 12 : 0);
        f->deflt = fl[i].flags & QF_DEFAULT ? 0 : QUY_NONE;
    }

    p->nconsts = 1;
    p->consts = FX_ARR(q_val, 1);
    p->const_type = FX_ARR(uint8_t, 1);
    p->consts[0] = q_bool(true);
    p->const_type[0] = QT_BOOL;

    /* check 0: tasks_completed <= tasks_total */
    p->ncode = 4;
    p->code = FX_ARR(q_instr, p->ncode);
    p->code_pos = FX_ARR(uint32_t, p->ncode);
    p->code[0] = (q_instr){OP_LOADF, 0, 1, 0};
    p->code[1] = (q_instr){OP_LOADF, 0, 0, 0};
    p->code[2] = (q_instr){OP_LE, 0, 0, 0};
    p->code[3] = (q_instr){OP_HALT, 0, 0, 0};
    p->nchecks = 1;
    p->checks = FX_ARR(q_check, 1);
    p->checks[0] = (q_check){0, 1, fx_str(&st, "tasks_completed <= tasks_total"), 0};

    p->nkinds = 3;
    p->kinds = FX_ARR(q_kind, p->nkinds);
    p->kinds[0] = (q_kind){fx_str(&st, "member"), 0, 0, 12, 0, 1, 0, 0, 2};
    p->kinds[1] = (q_kind){fx_str(&st, "leader"), 0, 14, 1, 1, 0, 0, 0, 2};
    p->kinds[2] = (q_kind){fx_str(&st, "agency"), 0, 15, 0, 1, 0, QUY_NONE, 0, 0};

    uint32_t layer = fx_str(&st, "central-124");
    p->nrules = 2;
    p->rules = FX_ARR(q_rule, p->nrules);
    p->rules[0] = (q_rule){fx_str(&st, "xuat_sac"), 0, fx_str(&st, "124-QĐ/TW Điều 12, 1"), layer, QO_HTXSNV, 0,
                           QUY_NONE, 0, 0, 0};
    p->rules[1] = (q_rule){fx_str(&st, "fallback"), 0, 0, layer, QO_HTNV, QR_OTHERWISE, QUY_NONE, 0, 0, 0};
    p->nflagdefs = 2;
    p->flags = FX_ARR(q_flagdef, p->nflagdefs);
    p->flags[0] = (q_flagdef){fx_str(&st, "late_dossier"), fx_str(&st, "Hồ sơ nộp muộn, \"quá hạn\""),
                              fx_str(&st, "Hà Tĩnh 7.3"), layer, QFL_FLAG, QUY_NONE, 0};
    p->flags[1] = (q_flagdef){fx_str(&st, "gap_x"), fx_str(&st, "Không quy tắc nào khớp"), 0, layer, QFL_GAP,
                              QUY_NONE, 0};
    p->tier_type = 6;

    /* the string pool */
    size_t len = 0;
    for (uint32_t i = 0; i < st.n; i++) len += strlen(st.s[i]) + 1;
    p->blob = malloc(len);
    p->str_off = FX_ARR(uint32_t, st.n);
    p->nstr = st.n;
    p->blob_len = (uint32_t)len;
    size_t o = 0;
    for (uint32_t i = 0; i < st.n; i++) {
        p->str_off[i] = (uint32_t)o;
        memcpy(p->blob + o, st.s[i], strlen(st.s[i]) + 1);
        o += strlen(st.s[i]) + 1;
    }
    return p;
}

static void fx_free(q_program *p)
{
    free(p->types);
    free(p->members);
    free(p->fields);
    free(p->consts);
    free(p->const_type);
    free(p->code);
    free(p->code_pos);
    free(p->checks);
    free(p->kinds);
    free(p->rules);
    free(p->flags);
    free(p->blob);
    free(p->str_off);
    free(p);
}

#endif /* QUY_REC_FIXTURE_H */
