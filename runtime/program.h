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
#include "strbuf.h"
#include "value.h"

#define QUY_NONE UINT32_MAX /* "no index" in any table */
#define QUY_MAX_STACK 64    /* VM operand stack; the verifier enforces it */
#define QUY_MAX_LOOPS 8     /* nested quantifier registers */
#define QUY_MAX_FLAGS 32    /* flags one record can raise in one rating */

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

enum {
    QF_OPTIONAL = 1 << 0, /* may be absent; absent means "not collected" */
    QF_DEFAULT = 1 << 1,  /* absent means the default constant */
    QF_BATCH = 1 << 2,    /* absent means "computed from the batch" */
};

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

typedef enum q_flag_kind {
    QFL_FLAG,  /* `flag`: evaluated for every rated record */
    QFL_GAP,   /* `gap`: evaluated only when `otherwise` decides */
    QFL__COUNT
} q_flag_kind;

/* ---------------------------------------------------------------------
 * Batch steps (runtime/batch.c): caps, then quotas, after every record is
 * rated on its own; roll-ups fill `computed` fields before that.
 * ------------------------------------------------------------------- */

/* `cap KIND at BOUND [when C] [unless C] cite S`: lowers a rated record's
 * tier to BOUND. One q_cap per kind it applies to, in declaration order. */
typedef enum q_cap_bound {
    QCAP_TIER,    /* a tier constant: `tier` */
    QCAP_FIELD,   /* a tier field of the record: `slot` (absent: not applied) */
    QCAP_HEAD_OF, /* `head_of.tier`: final tier of the batch record named by the head_of field (`slot`) */
    QCAP_UNIT,    /* `unit.tier`: the same through the unit field (`slot`) */
    QCAP__COUNT
} q_cap_bound;

/* `quota T <= P of U per FIELD round R [basis B] [small_group N]
 * [order KEY [asc|desc], ...]` (Điều 12, 1.4). */
typedef enum q_rounding { QROUND_DOWN, QROUND_HALF_UP, QROUND_UP, QROUND__COUNT } q_rounding;

typedef enum q_basis {
    QBASIS_FINAL,    /* after the quota: #T <= P x #U, the demoted counted among U */
    QBASIS_ELIGIBLE, /* P x #U eligible before the quota */
    QBASIS_AT_LEAST, /* P x #(U or above) */
    QBASIS__COUNT
} q_basis;

/* ---------------------------------------------------------------------
 * Hooks: Lua functions a ruleset declares (`hook`), calls in expressions
 * (CALLHOOK) and runs as adjustment steps (`adjust`). runtime/hook.c runs
 * them; docs/hooks-guide.md is the guide.
 * ------------------------------------------------------------------- */

/* When an `adjust` step runs: before the rules (it may change the values of
 * fields the rules read) or after them (it may change the outcome). */
typedef enum q_adjust_phase { QA_RECORD, QA_TIER, QA__COUNT } q_adjust_phase;

#define QUY_POS(file, off) (((uint32_t)(file) << 24) | ((uint32_t)(off) & 0xFFFFFFu))
#define QUY_POS_FILE(p) ((p) >> 24)
#define QUY_POS_OFF(p) ((p) & 0xFFFFFFu)

/* The element structs, generated from their field lists. */
#include "program_tables.h"

typedef struct q_program {
    /* identity: name ("central-124"), version, title, source (the document
     * cited): string ids */
    QUY_PROGRAM_HEAD(QT_MEMBER_H_)

    /* Every table (program_tables.h), among them: the string pool
     * (strings[i] = blob + str_off[i], NUL-terminated; id 0 = ""); the
     * constants (a string constant holds a pointer into blob) with
     * const_type, the q_type_kind of each; the code with code_pos, the
     * source position of each instruction; `flags` (nflagdefs) the flag
     * definitions; `params` the hooks' parameters; `reads` the slots read
     * by clauses. */
    QUY_PROGRAM_TABLES(QT_MEMBER_T_, QT_MEMBER_T_, QT_MEMBER_P_)

    QUY_PROGRAM_TAIL(QT_MEMBER_H_) /* tier_type: type index of the builtin scale `tier` */
    uint32_t max_stack; /* computed by the verifier */
    /* Nothing here changes after the program is built: the Lua state and
     * buffers of hooks live in a hook_session (runtime/hook.h), one per
     * thread, so a program may be shared between threads. */
} q_program;

static inline const char *prog_str(const q_program *p, uint32_t id)
{
    return id < p->nstr ? p->blob + p->str_off[id] : "";
}

/* A string constant is (offset into blob, length) in a .qbc file and while
 * the compiler builds the pool (which moves as it grows), and a pointer into
 * blob in a loaded program. From one to the other: */
static inline q_val prog_kstr(const q_program *p, uint64_t off, uint64_t len) { return q_str(p->blob + off, len); }
/* Whether string value v lies inside blob. Pointers into different objects
 * cannot be ordered in C, so the addresses are compared as integers. */
static inline bool prog_str_in_pool(const q_program *p, q_val v)
{
    uintptr_t s = (uintptr_t)q_val_str(v), b0 = (uintptr_t)p->blob;
    return p->blob && s >= b0 && s - b0 <= p->blob_len && v.d >= 0 && (uint64_t)v.d <= p->blob_len - (s - b0);
}
/* The offset in blob of a string constant that lies in it (prog_str_in_pool). */
static inline uint64_t prog_kstr_off(const q_program *p, q_val v) { return (uint64_t)(q_val_str(v) - p->blob); }

void prog_free(q_program *p);

/* Kind index by name, or QUY_NONE. */
uint32_t prog_find_kind(const q_program *p, const char *name, size_t len);
/* Field index (absolute) of `name` in kind k, or QUY_NONE. */
uint32_t prog_find_field(const q_program *p, uint32_t k, const char *name, size_t len);
/* Member ordinal of `name` in enum/scale type t, or -1. */
int prog_find_member(const q_program *p, uint32_t t, const char *name, size_t len);

/* Line (1-based), column (1-based, in characters: srcpos.h) and the line's text of a
 * source position; returns false if the position is unknown. */
bool prog_locate(const q_program *p, uint32_t pos, const char **file, uint32_t *line, uint32_t *col,
                 const char **line_start, uint32_t *line_len);

/* A run-time error at source position `pos`, drawn as the compiler draws
 * its diagnostics (srcpos_render): "file:line:col: error: msg", the source
 * line and a caret. False if the position is unknown. */
bool prog_render_at(const q_program *p, uint32_t pos, const char *msg, size_t msglen, strbuf *out);

/* ---------------------------------------------------------------------
 * The bytecode file (runtime/bytecode.c)
 * ------------------------------------------------------------------- */

#define QUY_BC_MAGIC "QUYB"
#define QUY_BC_VERSION 4 /* 4: the checksum became XXH3-64 (docs/bytecode.md) */

/* The file's checksum of its first n bytes (header and payload): XXH3-64. */
uint64_t bc_checksum(const uint8_t *buf, size_t n);

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
