/*
 * program_tables.h — the compiled program's tables, declared once.
 *
 * QUY_PROGRAM_TABLES(T, P) lists every array a q_program owns, in file
 * order; each table's element fields are listed by its Q_*_FIELDS(F, S, P)
 * macro, in file order. From these lists come: the element structs and the
 * q_program members (below), prog_free (program.c), the builder's
 * capacities and appends (compiler/cg.c, sema.h), the record sizes, the
 * file writer and reader (bytecode_io.c) and the null-table and
 * index-range checks of the verifier (bytecode_verify.c). Adding a table is
 * one T line here plus its field list (which declares its struct);
 * nothing else is edited by hand.
 *
 *   T(ARR, N, ELEM, SECTION, FIELDS, EXTRA, ONE)   a table of structs
 *   V(ARR, N, ELEM, SECTION, FIELDS, EXTRA, ONE)   a table of scalars
 *     ARR      q_program member: ELEM *ARR
 *     N        q_program member: uint32_t N, its element count
 *     ELEM     element type: T: the struct generated from FIELDS; V: a scalar
 *     SECTION  name in messages ("fields[3].type ...")
 *     FIELDS   the element's field list macro
 *     EXTRA    zeroed elements allocated past the end (1: the string pool's NUL)
 *     ONE      the builder's one-element append: ELEM *cg_ONE(cg_builder *)
 *   P(ARR, N, ELEM, SECTION)
 *     a parallel array: N elements like the table just above it; it is
 *     stored inside that table's records (a P(...) entry of its FIELDS).
 *
 * Field lists: F(W, NAME, CHK, ARG) a struct member; S(W, CHK, ARG) the
 * element itself (a table of scalars); P(W, ARR, CHK, ARG) element i of a
 * parallel array. W is the width in the file: U8, U16, U32, VAL (a q_val as
 * two i64), KVAL (a constant: a string is stored as a pool offset). CHK is
 * what the verifier checks of every value before anything else:
 *   ANY         nothing
 *   STR         a string id (< nstr)
 *   REF, N      an index into the table counted by N (< p->N)
 *   OREF, N     the same or QUY_NONE
 *   LT, K       less than the constant K (an enum's count)
 */
#ifndef QUY_PROGRAM_TABLES_H
#define QUY_PROGRAM_TABLES_H

/* Width -> C type of a struct member. */
#define QW_U8 uint8_t
#define QW_U16 uint16_t
#define QW_U32 uint32_t
#define QW_VAL q_val

/* One instruction: 8 bytes. Operand meaning depends on the format in
 * opcodes.h. */
#define Q_INSTR_FIELDS(F, S, P)                                                  \
    F(U8, op, ANY, _)  /* op_code (checked by the code verifier) */              \
    F(U8, c, ANY, _)   /* small operand (quantifier kind) */                     \
    F(U16, a, ANY, _)  /* slot / register / clause / rule / flag index */        \
    F(U32, b, ANY, _)  /* constant index / jump target / field index */          \
    P(U32, code_pos, ANY, _) /* source position of the instruction */

#define Q_TYPE_FIELDS(F, S, P)                                                   \
    F(U8, kind, LT, QT__COUNT) /* q_type_kind */                                 \
    F(U32, name, STR, _)  /* declared name ("grade"), or 0 for builtins */       \
    F(U32, label, STR, _) /* Vietnamese label, or 0 */                           \
    F(U32, elem, ANY, _)  /* QT_LIST: element type index */                      \
    F(U32, first, ANY, _) /* QT_ENUM/QT_SCALE: first member; QT_STRUCT: first field */ \
    F(U32, count, ANY, _) /* members / fields */

/* A member of an enum or scale; its ordinal is its index minus type.first.
 * Scales compare by ordinal (declared from lowest to highest). */
#define Q_MEMBER_FIELDS(F, S, P)                                                 \
    F(U32, name, STR, _)  /* code, e.g. "xuat_sac" */                            \
    F(U32, label, STR, _) /* "Xuất sắc" */

/* A field of a record kind or of a struct. */
#define Q_FIELD_FIELDS(F, S, P)                                                  \
    F(U32, name, STR, _)        /* contract field name */                        \
    F(U32, label, STR, _)       /* Vietnamese label */                           \
    F(U32, type, REF, ntypes)   /* type index */                                 \
    F(U16, slot, ANY, _)        /* record: slot index; struct: index inside an element */ \
    F(U8, flags, ANY, _)        /* QF_* */                                       \
    F(U32, deflt, OREF, nconsts) /* constant index of the default, QUY_NONE if none */

/* A declared cross-field constraint (`check` in a record declaration). */
#define Q_CHECK_FIELDS(F, S, P)                                                  \
    F(U32, entry, REF, ncode) /* code index: evaluates to bool, then HALT */     \
    F(U32, field, OREF, nfields) /* field index (in the kind's field range) to blame */ \
    F(U32, text, STR, _)      /* the source text of the condition */             \
    F(U32, pos, ANY, _)       /* source position */

/* One record kind (contract `kind`) and its rate block. */
#define Q_KIND_FIELDS(F, S, P)                                                   \
    F(U32, name, STR, _)        /* "member", "leader", ... */                    \
    F(U32, label, STR, _)                                                        \
    F(U32, first_field, ANY, _) /* fields[first_field .. +nfields], slot = index - first_field */ \
    F(U32, nfields, ANY, _)                                                      \
    F(U32, first_check, ANY, _)                                                  \
    F(U32, nchecks, ANY, _)                                                      \
    F(U32, entry, OREF, ncode)  /* code index of the rate block, QUY_NONE if not rated */ \
    F(U32, first_rule, ANY, _)                                                   \
    F(U32, nrules, ANY, _)

#define Q_RULE_FIELDS(F, S, P)                                                   \
    F(U32, name, STR, _)   /* rule name, unique in its rate block */             \
    F(U32, label, STR, _)  /* optional Vietnamese label, or 0 */                 \
    F(U32, cite, STR, _)   /* citation, e.g. "124-QĐ/TW Điều 12, 4.3 d" */       \
    F(U32, layer, STR, _)  /* the ruleset that wrote the rule */                 \
    F(U8, outcome, LT, QO__COUNT) /* q_outcome */                                \
    F(U8, flags, ANY, _)   /* QR_* */                                            \
    F(U32, flag, OREF, nflagdefs) /* flag raised when this rule decides (gap), or QUY_NONE */ \
    F(U32, first_clause, ANY, _)                                                 \
    F(U32, nclauses, ANY, _)                                                     \
    F(U32, pos, ANY, _)    /* source position of the rule */

/* A clause is one top-level conjunct of a rule's condition. Amendments
 * (`also requires`) append clauses with their own citation and layer. */
#define Q_CLAUSE_FIELDS(F, S, P)                                                 \
    F(U32, rule, OREF, nrules) /* owning rule index, or QUY_NONE for flags */    \
    F(U32, text, STR, _)     /* source text of the condition */                  \
    F(U32, label, STR, _)    /* Vietnamese label, or 0 */                        \
    F(U32, cite, STR, _)     /* citation (the rule's unless amended) */          \
    F(U32, layer, STR, _)    /* ruleset that wrote the clause */                 \
    F(U32, exc_text, STR, _) /* source text of `unless ...`, or 0 */             \
    F(U8, if_present, LT, 2) /* `if present`: skipped when a field it reads is absent */ \
    F(U32, first_read, ANY, _) /* reads[first_read .. +nreads]: slots it reads */ \
    F(U32, nreads, ANY, _)                                                       \
    F(U32, pos, ANY, _)      /* source position */

#define Q_FLAGDEF_FIELDS(F, S, P)                                                \
    F(U32, name, STR, _)    /* flag code in the output, e.g. "late_dossier" */   \
    F(U32, message, STR, _) /* Vietnamese message */                             \
    F(U32, cite, STR, _)                                                         \
    F(U32, layer, STR, _)                                                        \
    F(U8, kind, LT, QFL__COUNT) /* q_flag_kind */                                \
    F(U32, clause, OREF, nclauses) /* clause index holding its condition, or QUY_NONE */ \
    F(U32, pos, ANY, _)

/* `quota T <= P of U per FIELD round R [basis B] [small_group N]
 * [order KEY [asc|desc], ...]` (Điều 12, 1.4). */
#define Q_QUOTA_FIELDS(F, S, P)                                                  \
    F(U8, tier, LT, QO_NOT_RATED)    /* q_outcome of the limited tier */         \
    F(U8, of_tier, LT, QO_NOT_RATED) /* q_outcome it is counted against */       \
    F(U8, rounding, LT, QROUND__COUNT) /* q_rounding */                          \
    F(U8, basis, LT, QBASIS__COUNT)  /* q_basis */                               \
    F(VAL, share, ANY, _)  /* e.g. 1/5 */                                        \
    F(U32, per, STR, _)    /* field name grouping records ("peer_group") */      \
    F(U32, small_group, ANY, _) /* groups of fewer rated records, all >= of_tier, keep one; 0 = none */ \
    F(U32, nkeys, ANY, _)  /* order keys (qkeys with this quota index) */        \
    F(U32, cite, STR, _)                                                         \
    F(U32, layer, STR, _)                                                        \
    F(U32, pos, ANY, _)

/* One `order` key of a quota, compiled for one kind. */
#define Q_QKEY_FIELDS(F, S, P)                                                   \
    F(U32, quota, REF, nquotas) /* quota index */                                \
    F(U32, key, ANY, _)         /* 0-based position in the quota's order list */ \
    F(U32, kind, REF, nkinds)                                                    \
    F(U32, expr, REF, nbexprs)  /* bexpr index */                                \
    F(U32, reserved, LT, 1)     /* written 0 */                                  \
    F(U8, desc, LT, 2)          /* 1: larger first */

/* `cap KIND at BOUND [when C] [unless C] cite S`: lowers a rated record's
 * tier to BOUND. One q_cap per kind it applies to, in declaration order. */
#define Q_CAP_FIELDS(F, S, P)                                                    \
    F(U32, kind, REF, nkinds)                                                    \
    F(U8, bound, LT, QCAP__COUNT) /* q_cap_bound */                              \
    F(U8, tier, ANY, _)     /* QCAP_TIER: the q_outcome */                       \
    F(U16, slot, ANY, _)    /* QCAP_FIELD / HEAD_OF / UNIT: the field's slot */  \
    F(U32, when, OREF, nbexprs)   /* bexpr index (bool), or QUY_NONE */          \
    F(U32, unless, OREF, nbexprs) /* bexpr index (bool), or QUY_NONE */          \
    F(U32, text, STR, _)    /* source text of the bound */                       \
    F(U32, cite, STR, _)                                                         \
    F(U32, layer, STR, _)                                                        \
    F(U32, pos, ANY, _)

/* An expression evaluated per record by the batch steps (a cap's `when` /
 * `unless` condition, a quota's `order` key): code at `entry` for `kind`'s
 * slots, leaving one value, then HALT. Run with vm_eval(). */
#define Q_BEXPR_FIELDS(F, S, P)                                                  \
    F(U32, kind, REF, nkinds) /* kind whose slots it reads */                    \
    F(U32, entry, REF, ncode) /* code index */                                   \
    F(U32, text, STR, _)      /* source text */                                  \
    F(U32, pos, ANY, _)

/* A source file of the flattened chain, kept for diagnostics and
 * explanations; positions are (file << 24) | byte offset. */
#define Q_SOURCE_FIELDS(F, S, P)                                                 \
    F(U32, name, STR, _) /* path as given to the compiler */                     \
    F(U32, text, STR, _) /* full text */

/* `hook NAME(p: T, ...) -> R from "file.lua"`. The Lua source is embedded
 * in the string pool, so a compiled program is self-contained. */
#define Q_HOOK_FIELDS(F, S, P)                                                   \
    F(U32, name, STR, _)        /* the name the ruleset calls it by */           \
    F(U32, file, STR, _)        /* the Lua file as declared ("rerate.lua") */    \
    F(U32, source, STR, _)      /* the Lua source text */                        \
    F(U32, result, OREF, ntypes) /* type index of the result; QUY_NONE: an adjustment */ \
    F(U32, first_param, ANY, _) /* params[first_param .. +nparams] */            \
    F(U32, nparams, ANY, _)                                                      \
    F(U32, layer, STR, _)       /* the ruleset that declared it */               \
    F(U32, pos, ANY, _)         /* source position of the declaration */

/* A parameter of a hook: its name (for messages) and type. */
#define Q_PARAM_FIELDS(F, S, P)                                                  \
    F(U32, name, STR, _)                                                         \
    F(U32, type, REF, ntypes)

/* `adjust KIND record|tier by HOOK(args) [LABEL] cite STR`. When the hook
 * returns an adjustment, flag `flag` (code = the hook's name, message =
 * LABEL, citation) is raised and the hook's reason kept as its note. */
#define Q_ADJUST_FIELDS(F, S, P)                                                 \
    F(U32, kind, REF, nkinds)                                                    \
    F(U32, hook, REF, nhooks) /* the hook returns an adjustment */               \
    F(U8, phase, LT, QA__COUNT) /* q_adjust_phase */                             \
    F(U32, flag, REF, nflagdefs) /* flagdef raised when the step adjusts */      \
    F(U32, pos, ANY, _)   /* source position of the step */

/* Tables of scalars. */
#define Q_LAYER_FIELDS(F, S, P) S(U32, STR, _)   /* ruleset names, root first */
#define Q_BYTE_FIELDS(F, S, P) S(U8, ANY, _)     /* the string pool's bytes */
#define Q_STROFF_FIELDS(F, S, P) S(U32, REF, blob_len) /* string i starts at blob + str_off[i] */
#define Q_READ_FIELDS(F, S, P) S(U16, ANY, _)    /* slots read by clauses */
/* A constant: its q_type_kind, then its value; string constants hold a
 * pointer into the blob, stored in the file as (offset, length). */
#define Q_CONST_FIELDS(F, S, P) P(U8, const_type, LT, QT__COUNT) S(KVAL, ANY, _)

/* The program's scalars outside any table: first and last in the file. */
#define QUY_PROGRAM_HEAD(F)                                                      \
    F(U32, name, STR, _)    /* "central-124" */                                  \
    F(U32, version, STR, _)                                                      \
    F(U32, title, STR, _)                                                        \
    F(U32, source, STR, _)  /* the document cited */
#define QUY_PROGRAM_TAIL(F) F(U32, tier_type, OREF, ntypes) /* the builtin scale `tier` */

/* Every table, in file order. */
#define QUY_PROGRAM_TABLES(T, V, P)                                                                       \
    V(layers, nlayers, uint32_t, "layers", Q_LAYER_FIELDS, 0, new_layer)                               \
    V(blob, blob_len, char, "string pool", Q_BYTE_FIELDS, 1, new_byte)                                 \
    V(str_off, nstr, uint32_t, "string offsets", Q_STROFF_FIELDS, 0, new_str_off)                      \
    V(consts, nconsts, q_val, "constants", Q_CONST_FIELDS, 0, new_const)                               \
    P(const_type, nconsts, uint8_t, "constant types")                                                  \
    T(code, ncode, q_instr, "code", Q_INSTR_FIELDS, 0, new_instr)                                      \
    P(code_pos, ncode, uint32_t, "code positions")                                                     \
    T(types, ntypes, q_type, "types", Q_TYPE_FIELDS, 0, new_type)                                      \
    T(members, nmembers, q_member, "members", Q_MEMBER_FIELDS, 0, member)                              \
    T(fields, nfields, q_field, "fields", Q_FIELD_FIELDS, 0, field)                                    \
    T(checks, nchecks, q_check, "checks", Q_CHECK_FIELDS, 0, check)                                    \
    T(kinds, nkinds, q_kind, "kinds", Q_KIND_FIELDS, 0, kind)                                          \
    T(rules, nrules, q_rule, "rules", Q_RULE_FIELDS, 0, rule)                                          \
    T(clauses, nclauses, q_clause, "clauses", Q_CLAUSE_FIELDS, 0, clause)                              \
    V(reads, nreads, uint16_t, "clause reads", Q_READ_FIELDS, 0, new_read)                             \
    T(flags, nflagdefs, q_flagdef, "flags", Q_FLAGDEF_FIELDS, 0, flag)                                 \
    T(quotas, nquotas, q_quota, "quotas", Q_QUOTA_FIELDS, 0, quota)                                    \
    T(qkeys, nqkeys, q_qkey, "quota keys", Q_QKEY_FIELDS, 0, qkey)                                     \
    T(caps, ncaps, q_cap, "caps", Q_CAP_FIELDS, 0, cap)                                                \
    T(bexprs, nbexprs, q_bexpr, "batch expressions", Q_BEXPR_FIELDS, 0, bexpr)                         \
    T(sources, nsources, q_source, "sources", Q_SOURCE_FIELDS, 0, new_source)                          \
    T(hooks, nhooks, q_hook, "hooks", Q_HOOK_FIELDS, 0, hook)                                          \
    T(params, nparams, q_param, "hook parameters", Q_PARAM_FIELDS, 0, param)                           \
    T(adjusts, nadjusts, q_adjust, "adjust steps", Q_ADJUST_FIELDS, 0, adjust)

/* ---------------------------------------------------------------------
 * Generated declarations
 * ------------------------------------------------------------------- */

#define QT_NOFIELD_(...)
#define QT_DECL_F_(w, name, chk, arg) QW_##w name;
#define QT_STRUCT_(tag, FIELDS)                                                  \
    typedef struct tag {                                                         \
        FIELDS(QT_DECL_F_, QT_NOFIELD_, QT_NOFIELD_)                             \
    } tag;

#define QT_STRUCT_ROW_(arr, n, elem, sect, FIELDS, extra, one) QT_STRUCT_(elem, FIELDS)
QUY_PROGRAM_TABLES(QT_STRUCT_ROW_, QT_NOFIELD_, QT_NOFIELD_)

/* q_program members: the table pointers and their counts. */
#define QT_MEMBER_T_(arr, n, elem, sect, FIELDS, extra, one) elem *arr; uint32_t n;
/* QUY_PROGRAM_TABLES(QT_MEMBER_T_, QT_MEMBER_T_, QT_MEMBER_P_) */
#define QT_MEMBER_P_(arr, n, elem, sect) elem *arr;
#define QT_MEMBER_H_(w, name, chk, arg) QW_##w name;

#endif /* QUY_PROGRAM_TABLES_H */
