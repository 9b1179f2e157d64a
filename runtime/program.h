/*
 * program.h — a compiled, flat ruleset: what the compiler (compiler/cg.c)
 * produces, the bytecode file (runtime/bytecode.c) stores, the verifier
 * checks, the disassembler prints, the record loader (runtime/record.c)
 * checks records against, and the VM (runtime/vm.c) runs.
 *
 * Everything is in flat tables indexed by uint32_t; names, labels,
 * citations and source texts are ids into one string pool. Rule metadata
 * (name, citation, layer) is in side tables, so tracing costs nothing
 * when it is off.
 *
 * Ownership: a q_program owns every array it points to; prog_free()
 * releases them all. Nothing else frees them.
 */
#ifndef QUY_PROGRAM_H
#define QUY_PROGRAM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "opcodes.h"
#include "value.h"

#define QUY_NONE UINT32_MAX /* "no index" in any table */
#define QUY_MAX_STACK 64    /* VM operand stack; the verifier enforces it */
#define QUY_MAX_LOOPS 8     /* nested quantifier registers */
#define QUY_MAX_FLAGS 32    /* flags one record can raise in one rating */

/* One instruction: 8 bytes. Operand meaning depends on the format in
 * opcodes.h. */
typedef struct q_instr {
    uint8_t op; /* op_code */
    uint8_t c;  /* small operand (quantifier kind) */
    uint16_t a; /* slot / register / clause / rule / flag index */
    uint32_t b; /* constant index / jump target / field index */
} q_instr;

/* ---------------------------------------------------------------------
 * Types
 * ------------------------------------------------------------------- */

#define QUY_TYPE_KINDS(T)                                        \
    T(INT, "int", "số nguyên")                                  \
    T(DECIMAL, "decimal", "số thập phân")                       \
    T(PERCENT, "percent", "tỉ lệ phần trăm")                    \
    T(BOOL, "bool", "đúng/sai")                                 \
    T(DATE, "date", "ngày (YYYY-MM-DD)")                        \
    T(STRING, "string", "chuỗi")                                \
    T(ENUM, "enum", "danh mục")                                 \
    T(SCALE, "scale", "thang bậc")                              \
    T(STRUCT, "struct", "bản ghi con")                          \
    T(LIST, "list", "danh sách")

typedef enum q_type_kind {
#define T_ENUM(name, word, vi) QT_##name,
    QUY_TYPE_KINDS(T_ENUM)
#undef T_ENUM
    QT__COUNT
} q_type_kind;

extern const char *const q_type_kind_name[QT__COUNT];    /* "int", ... */
extern const char *const q_type_kind_name_vi[QT__COUNT]; /* "số nguyên", ... */

typedef struct q_type {
    uint8_t kind;   /* q_type_kind */
    uint32_t name;  /* string id: declared name ("grade"), or 0 for builtins */
    uint32_t label; /* string id: Vietnamese label, or 0 */
    uint32_t elem;  /* QT_LIST: element type index */
    uint32_t first; /* QT_ENUM/QT_SCALE: first member; QT_STRUCT: first field */
    uint32_t count; /* members / fields */
} q_type;

/* A member of an enum or scale; its ordinal is its index minus type.first.
 * Scales compare by ordinal (declared from lowest to highest). */
typedef struct q_member {
    uint32_t name;  /* string id: code, e.g. "xuat_sac" */
    uint32_t label; /* string id: "Xuất sắc" */
} q_member;

enum {
    QF_OPTIONAL = 1 << 0, /* may be absent; absent means "not collected" */
    QF_DEFAULT = 1 << 1,  /* absent means the default constant */
    QF_BATCH = 1 << 2,    /* absent means "computed from the batch" */
};

/* A field of a record kind or of a struct. */
typedef struct q_field {
    uint32_t name;  /* string id: contract field name */
    uint32_t label; /* string id: Vietnamese label */
    uint32_t type;  /* type index */
    uint16_t slot;  /* record: slot index; struct: index inside an element */
    uint8_t flags;  /* QF_* */
    uint32_t deflt; /* constant index of the default, QUY_NONE if none */
} q_field;

/* A declared cross-field constraint (`check` in a record declaration). */
typedef struct q_check {
    uint32_t entry; /* code index: evaluates to bool, then HALT */
    uint32_t field; /* field index (in the kind's field range) to blame */
    uint32_t text;  /* string id: the source text of the condition */
    uint32_t pos;   /* source position */
} q_check;

/* ---------------------------------------------------------------------
 * Rules
 * ------------------------------------------------------------------- */

/* Outcomes: tier ordinals first (the builtin scale `tier`), then the two
 * non-tiers. */
typedef enum q_outcome {
    QO_KHTNV = 0,
    QO_HTNV = 1,
    QO_HTTNV = 2,
    QO_HTXSNV = 3,
    QO_NOT_RATED = 4,
    QO_DEFERRED = 5,
    QO__COUNT
} q_outcome;

extern const char *const q_outcome_code[QO__COUNT];  /* "khtnv", ... */
extern const char *const q_outcome_label[QO__COUNT]; /* "Không hoàn thành nhiệm vụ", ... */

enum {
    QR_OTHERWISE = 1 << 0, /* the mandatory fallback rule */
};

typedef struct q_rule {
    uint32_t name;    /* string id: rule name, unique in its rate block */
    uint32_t label;   /* string id: optional Vietnamese label, or 0 */
    uint32_t cite;    /* string id: citation, e.g. "124-QĐ/TW Điều 12, 4.3 d" */
    uint32_t layer;   /* string id: the ruleset that wrote the rule */
    uint8_t outcome;  /* q_outcome */
    uint8_t flags;    /* QR_* */
    uint32_t flag;    /* flag raised when this rule decides (gap), or QUY_NONE */
    uint32_t first_clause;
    uint32_t nclauses;
    uint32_t pos;     /* source position of the rule */
} q_rule;

/* A clause is one top-level conjunct of a rule's condition. Amendments
 * (`also requires`) append clauses with their own citation and layer. */
typedef struct q_clause {
    uint32_t rule;       /* owning rule index, or QUY_NONE for flags */
    uint32_t text;       /* string id: source text of the condition */
    uint32_t label;      /* string id: Vietnamese label, or 0 */
    uint32_t cite;       /* string id: citation (the rule's unless amended) */
    uint32_t layer;      /* string id: ruleset that wrote the clause */
    uint32_t exc_text;   /* string id: source text of `unless ...`, or 0 */
    uint8_t if_present;  /* `if present`: skipped when a field it reads is absent */
    uint32_t first_read; /* reads[first_read .. +nreads]: slots it reads */
    uint32_t nreads;
    uint32_t pos;        /* source position */
} q_clause;

typedef enum q_flag_kind {
    QFL_FLAG,  /* `flag`: evaluated for every rated record */
    QFL_GAP,   /* `gap`: evaluated only when `otherwise` decides */
} q_flag_kind;

typedef struct q_flagdef {
    uint32_t name;    /* string id: flag code in the output, e.g. "late_dossier" */
    uint32_t message; /* string id: Vietnamese message */
    uint32_t cite;    /* string id */
    uint32_t layer;   /* string id */
    uint8_t kind;     /* q_flag_kind */
    uint32_t clause;  /* clause index holding its condition, or QUY_NONE */
    uint32_t pos;
} q_flagdef;

/* One record kind (contract `kind`) and its rate block. */
typedef struct q_kind {
    uint32_t name;        /* string id: "member", "leader", ... */
    uint32_t label;       /* string id */
    uint32_t first_field; /* fields[first_field .. +nfields], slot = index - first_field */
    uint32_t nfields;
    uint32_t first_check;
    uint32_t nchecks;
    uint32_t entry;       /* code index of the rate block, QUY_NONE if not rated */
    uint32_t first_rule;
    uint32_t nrules;
} q_kind;

/* ---------------------------------------------------------------------
 * Batch steps (runtime/batch.c): caps, then quotas, after every record is
 * rated on its own; roll-ups fill `computed` fields before that.
 * ------------------------------------------------------------------- */

/* An expression evaluated per record by the batch steps (a cap's `when` /
 * `unless` condition, a quota's `order` key): code at `entry` for `kind`'s
 * slots, leaving one value, then HALT. Run with vm_eval(). */
typedef struct q_bexpr {
    uint32_t kind;  /* kind whose slots it reads */
    uint32_t entry; /* code index */
    uint32_t text;  /* string id: source text */
    uint32_t pos;
} q_bexpr;

/* `cap KIND at BOUND [when C] [unless C] cite S`: lowers a rated record's
 * tier to BOUND. One q_cap per kind it applies to, in declaration order. */
typedef enum q_cap_bound {
    QCAP_TIER,    /* a tier constant: `tier` */
    QCAP_FIELD,   /* a tier field of the record: `slot` (absent: not applied) */
    QCAP_HEAD_OF, /* `head_of.tier`: final tier of the batch record named by the head_of field (`slot`) */
    QCAP_UNIT,    /* `unit.tier`: the same through the unit field (`slot`) */
} q_cap_bound;

typedef struct q_cap {
    uint32_t kind;    /* kind index */
    uint8_t bound;    /* q_cap_bound */
    uint8_t tier;     /* QCAP_TIER: the q_outcome */
    uint16_t slot;    /* QCAP_FIELD / HEAD_OF / UNIT: the field's slot */
    uint32_t when;    /* bexpr index (bool), or QUY_NONE */
    uint32_t unless;  /* bexpr index (bool), or QUY_NONE */
    uint32_t text;    /* string id: source text of the bound */
    uint32_t cite;
    uint32_t layer;
    uint32_t pos;
} q_cap;

/* `quota T <= P of U per FIELD round R [basis B] [small_group N]
 * [order KEY [asc|desc], ...]` (Điều 12, 1.4). */
typedef enum q_rounding { QROUND_DOWN, QROUND_HALF_UP, QROUND_UP } q_rounding;

typedef enum q_basis {
    QBASIS_FINAL,    /* after the quota: #T <= P x #U, the demoted counted among U */
    QBASIS_ELIGIBLE, /* P x #U eligible before the quota */
    QBASIS_AT_LEAST, /* P x #(U or above) */
} q_basis;

typedef struct q_quota {
    uint8_t tier;      /* q_outcome of the limited tier */
    uint8_t of_tier;   /* q_outcome it is counted against */
    uint8_t rounding;  /* q_rounding */
    uint8_t basis;     /* q_basis */
    q_val share;       /* e.g. 1/5 */
    uint32_t per;      /* string id: field name grouping records ("peer_group") */
    uint32_t small_group; /* groups of fewer rated records, all >= of_tier, keep one; 0 = no such exception */
    uint32_t nkeys;    /* order keys (qkeys with this quota index) */
    uint32_t cite;
    uint32_t layer;
    uint32_t pos;
} q_quota;

/* One `order` key of a quota, compiled for one kind. */
typedef struct q_qkey {
    uint32_t quota; /* quota index */
    uint32_t key;   /* 0-based position in the quota's order list */
    uint32_t kind;
    uint32_t expr;  /* bexpr index */
    uint8_t desc;   /* 1: larger first */
} q_qkey;

/* ---------------------------------------------------------------------
 * Hooks: Lua functions a ruleset declares (`hook`), calls in expressions
 * (CALLHOOK) and runs as adjustment steps (`adjust`). runtime/hook.c runs
 * them; docs/hooks-guide.md is the guide.
 * ------------------------------------------------------------------- */

/* `hook NAME(p: T, ...) -> R from "file.lua"`. The Lua source is embedded
 * in the string pool, so a compiled program is self-contained. */
typedef struct q_hook {
    uint32_t name;        /* string id: the name the ruleset calls it by */
    uint32_t file;        /* string id: the Lua file as declared ("rerate.lua") */
    uint32_t source;      /* string id: the Lua source text */
    uint32_t result;      /* type index of the result; QUY_NONE: an adjustment */
    uint32_t first_param; /* params[first_param .. +nparams] */
    uint32_t nparams;
    uint32_t layer;       /* string id: the ruleset that declared it */
    uint32_t pos;         /* source position of the declaration */
} q_hook;

/* A parameter of a hook: its name (for messages) and type. */
typedef struct q_param {
    uint32_t name; /* string id */
    uint32_t type; /* type index */
} q_param;

/* When an `adjust` step runs: before the rules (it may change the values of
 * fields the rules read) or after them (it may change the outcome). */
typedef enum q_adjust_phase { QA_RECORD, QA_TIER } q_adjust_phase;

/* `adjust KIND record|tier by HOOK(args) [LABEL] cite STR`. When the hook
 * returns an adjustment, flag `flag` (code = the hook's name, message =
 * LABEL, citation) is raised and the hook's reason kept as its note. */
typedef struct q_adjust {
    uint32_t kind;  /* kind index */
    uint32_t hook;  /* hook index; the hook returns an adjustment */
    uint8_t phase;  /* q_adjust_phase */
    uint32_t flag;  /* flagdef raised when the step adjusts */
    uint32_t pos;   /* source position of the step */
} q_adjust;

/* A source file of the flattened chain, kept for diagnostics and
 * explanations; positions are (file << 24) | byte offset. */
typedef struct q_source {
    uint32_t name; /* string id: path as given to the compiler */
    uint32_t text; /* string id: full text */
} q_source;

#define QUY_POS(file, off) (((uint32_t)(file) << 24) | ((uint32_t)(off) & 0xFFFFFFu))
#define QUY_POS_FILE(p) ((p) >> 24)
#define QUY_POS_OFF(p) ((p) & 0xFFFFFFu)

typedef struct q_program {
    /* identity */
    uint32_t name;    /* string id: "central-124" */
    uint32_t version; /* string id */
    uint32_t title;   /* string id */
    uint32_t source;  /* string id: the document cited */
    uint32_t *layers; /* string ids, root first: central-124, ha-tinh-... */
    uint32_t nlayers;

    /* string pool: strings[i] points into blob, NUL-terminated; id 0 = "" */
    char *blob;
    uint32_t blob_len;
    uint32_t *str_off;
    uint32_t nstr;

    q_val *consts;       /* string constants hold a pointer into blob */
    uint8_t *const_type; /* q_type_kind of each constant */
    uint32_t nconsts;

    q_instr *code;
    uint32_t *code_pos;  /* source position of each instruction */
    uint32_t ncode;

    q_type *types;     uint32_t ntypes;
    q_member *members; uint32_t nmembers;
    q_field *fields;   uint32_t nfields;
    q_check *checks;   uint32_t nchecks;
    q_kind *kinds;     uint32_t nkinds;
    q_rule *rules;     uint32_t nrules;
    q_clause *clauses; uint32_t nclauses;
    uint16_t *reads;   uint32_t nreads;  /* slots read by clauses */
    q_flagdef *flags;  uint32_t nflagdefs;
    q_quota *quotas;   uint32_t nquotas;
    q_qkey *qkeys;     uint32_t nqkeys;
    q_cap *caps;       uint32_t ncaps;
    q_bexpr *bexprs;   uint32_t nbexprs;
    q_source *sources; uint32_t nsources;
    q_hook *hooks;     uint32_t nhooks;
    q_param *params;   uint32_t nparams;   /* hook parameters */
    q_adjust *adjusts; uint32_t nadjusts;

    uint32_t tier_type; /* type index of the builtin scale `tier` */
    uint32_t max_stack; /* computed by the verifier */
    /* Nothing here changes after the program is built: the Lua state and
     * buffers of hooks live in a hook_session (runtime/hook.h), one per
     * thread, so a program may be shared between threads. */
} q_program;

static inline const char *prog_str(const q_program *p, uint32_t id)
{
    return id < p->nstr ? p->blob + p->str_off[id] : "";
}

void prog_free(q_program *p);

/* Kind index by name, or QUY_NONE. */
uint32_t prog_find_kind(const q_program *p, const char *name, size_t len);
/* Field index (absolute) of `name` in kind k, or QUY_NONE. */
uint32_t prog_find_field(const q_program *p, uint32_t k, const char *name, size_t len);
/* Member ordinal of `name` in enum/scale type t, or -1. */
int prog_find_member(const q_program *p, uint32_t t, const char *name, size_t len);

/* Line (1-based), column (1-based, in bytes) and the line's text of a
 * source position; returns false if the position is unknown. */
bool prog_locate(const q_program *p, uint32_t pos, const char **file, uint32_t *line, uint32_t *col,
                 const char **line_start, uint32_t *line_len);

/* ---------------------------------------------------------------------
 * The bytecode file (runtime/bytecode.c)
 * ------------------------------------------------------------------- */

#define QUY_BC_MAGIC "QUYB"
#define QUY_BC_VERSION 3

/* Serialise to a malloc'd buffer. Returns false on allocation failure. */
bool bc_write(const q_program *p, uint8_t **out, size_t *out_len);
/* Parse, checksum-check and verify a buffer. On failure returns NULL and
 * writes a one-line reason into err. Never crashes on any input. */
q_program *bc_read(const uint8_t *buf, size_t len, char *err, size_t errsize);
/* Does the file at `path` start with the bytecode magic? */
bool bc_is_file(const char *path);
/* Read, checksum-check and verify a compiled file. NULL with a reason in
 * err (which names the file) on any failure. */
q_program *bc_read_file(const char *path, char *err, size_t errsize);
/* Verify a program's internal consistency: every index in range, every
 * jump inside its block, stack depth within QUY_MAX_STACK along every
 * path, loop registers balanced, every string id valid. Sets max_stack. */
bool bc_verify(q_program *p, char *err, size_t errsize);

/* The disassembler (runtime/disasm.c): code with rule names, citations
 * and source lines. */
void disasm_print(const q_program *p, FILE *out);
/* The opcode reference, generated from QUY_OPCODES (docs/bytecode.md). */
void disasm_opcodes_md(FILE *out);

#endif /* QUY_PROGRAM_H */
