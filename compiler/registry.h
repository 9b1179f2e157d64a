/*
 * registry.h — the ruleset registry (prefix reg_): which ruleset is in
 * force for which locality on which date.
 *
 * The manifest is a JSON file, rulesets/registry.json (format documented in
 * docs/integration-guide.md, "The registry"):
 *
 *   { "format": "quy-registry/1",
 *     "localities": [ {"id": "cho-chu", "name": "Chợ Chu", "full_name": "thị trấn Chợ Chu",
 *                      "code": null, "level": "xa", "parent": "dinh-hoa", "note": "..."} ... ],
 *     "rulesets":   [ {"ruleset": "cho-chu-2024", "locality": "cho-chu", "document": "...",
 *                      "source": "001_....txt", "effective": "2024-10-25", "until": null,
 *                      "superseded_by": null, "note": "...",
 *                      "provisional": "why (optional)"} ... ] }
 *
 *   registry *r = reg_load("rulesets/registry.json", &err);   // validated
 *   reg_choice c;
 *   if (reg_resolve(r, "cho-chu", days, &c, &msg) == 0) use(c.entry->ruleset);
 *   reg_free(r);
 *
 * Validity: a ruleset is in force from `effective` (inclusive) to its end
 * (inclusive): `until` if given, and the day before the `effective` of its
 * `superseded_by` if given; open-ended when neither is. Two rulesets of one
 * locality may not be in force on the same day.
 *
 * Resolution: the ruleset of the locality in force on the date; if the
 * locality has none in force, its parent locality's, and so on up to the
 * root (local guidance only makes the higher level's rules concrete; where
 * a locality has none, the higher level's apply). No ruleset in force
 * anywhere up the chain is an error naming the nearest one in time.
 *
 * Ownership: reg_load returns an owned registry (reg_free); every string in
 * it belongs to it. Messages returned through `char **` are malloc'd.
 */
#ifndef QUY_REGISTRY_H
#define QUY_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REG_FILE "registry.json"
#define REG_OPEN_END INT64_MAX /* end of a ruleset with no end date */

/* Administrative levels, highest first. */
#define QUY_REG_LEVELS(L)                              \
    L(TRUNG_UONG, "trung_uong", "Trung ương")          \
    L(TINH, "tinh", "cấp tỉnh")                        \
    L(HUYEN, "huyen", "cấp huyện")                     \
    L(XA, "xa", "cấp xã")

typedef enum reg_level {
#define L_ENUM(e, code, label) REG_##e,
    QUY_REG_LEVELS(L_ENUM)
#undef L_ENUM
    REG__NLEVELS
} reg_level;

extern const char *const reg_level_code[REG__NLEVELS];
extern const char *const reg_level_label[REG__NLEVELS];

typedef struct reg_locality {
    char *id;        /* ASCII slug: "cho-chu" */
    char *name;      /* "Chợ Chu" */
    char *full_name; /* "thị trấn Chợ Chu" */
    char *code;      /* administrative code, NULL when the source gives none */
    char *note;      /* NULL if none */
    reg_level level;
    int parent;      /* index into localities, -1 for the root */
} reg_locality;

typedef struct reg_entry {
    char *ruleset;   /* "cho-chu-2024" */
    char *document;  /* the source document, in words */
    char *source;    /* seed file name, NULL if none */
    char *note;      /* why these dates; NULL if none */
    char *provisional; /* why the ruleset is provisional (not encoded from the
                        * official text); NULL for an ordinary ruleset */
    int locality;    /* index into localities */
    int64_t effective;      /* days since 1970-01-01 */
    int64_t until;          /* REG_OPEN_END if not given */
    int superseded_by;      /* index into rulesets, -1 if none */
    int64_t end;            /* last day in force (computed), REG_OPEN_END if open */
} reg_entry;

typedef struct registry {
    char *path;
    reg_locality *loc;
    size_t nloc;
    reg_entry *rs;
    size_t nrs;
} registry;

/* The first DIR/registry.json that exists among `dirs` (malloc'd path), or
 * NULL. */
char *reg_find(const char *const *dirs, size_t ndirs);

/* Load and validate a manifest. On any error returns NULL and *err gets
 * every problem found, one per line, each naming the file and the entry
 * ("rulesets/registry.json: ruleset 'x': ..."). */
registry *reg_load(const char *path, char **err);
void reg_free(registry *r);

/* The locality a user names: by id, administrative code, name or full name,
 * compared after folding both sides (reg_fold: case, diacritics, đ → d,
 * '-' and '_' as spaces: "cho chu", "CHỢ CHU", "Chợ Chu" and "cho-chu" all
 * name Chợ Chu). -1 and *err (malloc'd, with a did-you-mean over the folded
 * names) if none or several match. */
int reg_find_locality(const registry *r, const char *what, char **err);

/* The matching key of a name (malloc'd; NULL if `s` is not valid UTF-8):
 * NFKD, Unicode case folding and combining marks stripped (libutf8proc),
 * then 'đ' → 'd' (a letter of its own, not a mark), '-' and '_' → ' ',
 * runs of spaces collapsed and trimmed. */
char *reg_fold(const char *s);

typedef struct reg_choice {
    const reg_entry *entry;      /* the ruleset chosen */
    const reg_locality *asked;   /* the locality asked for */
    const reg_locality *from;    /* the locality whose ruleset was chosen */
} reg_choice;

/* The ruleset in force for `locality` (as reg_find_locality takes it) on
 * `date` (days since 1970-01-01). 0 on success: *out is set and *why (if
 * not NULL) gets one line saying what was chosen and why. -1 on failure:
 * *why gets the error (unknown locality; no ruleset in force, naming the
 * nearest). */
int reg_resolve(const registry *r, const char *locality, int64_t date, reg_choice *out, char **why);

/* "2023-10-04 → (open)" style validity of an entry, into buf (>= 64). */
void reg_validity(const registry *r, const reg_entry *e, char *buf, size_t size);

#endif /* QUY_REGISTRY_H */
