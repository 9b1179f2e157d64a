/*
 * quy.h — the Quy C library, and its only door: compile the rulesets of
 * Quy định 124-QĐ/TW and its local variants, rate evaluation records with
 * them, explain every rating. The `quy` tool is built on this header alone.
 *
 *   quy_loader *ld;  quy_ruleset *rs;  quy_session *s;  const quy_result *r;
 *   quy_loader_new(&ld);                                   // search path: docs/integration-guide.md
 *   char *name;
 *   quy_loader_resolve(ld, "cho-chu", "2024-12-01", &name, NULL);
 *   if (quy_loader_load(ld, name, &rs, NULL) != QUY_OK) { fprintf(stderr, "%s\n", quy_errmsg()); ... }
 *   quy_session_new(rs, &s);
 *   if (quy_rate_json(s, json, strlen(json), &r) == QUY_OK)
 *       printf("%s -> %s\n", quy_result_id(r), quy_result_tier(r));
 *   quy_session_free(s); quy_ruleset_free(rs); quy_free(name); quy_loader_free(ld);
 *
 * A complete program: docs/examples/rate.c. Link: `pkg-config --cflags
 * --libs quy`, or find_package(quy) and target_link_libraries(x quy::quy).
 *
 * CONVENTIONS
 * - Every object is an opaque handle made by a *_new / *_load call and
 *   freed by its *_free (NULL is accepted by every *_free).
 * - Calls that can fail return a quy_status. On anything but QUY_OK,
 *   quy_errmsg() is a one-line message saying what went wrong and what to
 *   do instead (it stays valid until the next failing call on the same
 *   thread). A NULL handle or pointer argument, an index out of range or an
 *   unknown option string is QUY_EINVAL, never a crash.
 * - Accessors returning `const char *` return NULL on a NULL handle or an
 *   index out of range (and set quy_errmsg()); otherwise the string belongs
 *   to the object it came from and lives as long as that object, unless the
 *   function says otherwise. Strings returned through `char **` or as a
 *   `char *` are malloc'd: free them with quy_free().
 * - No struct crosses this interface by value and no array has a fixed
 *   size: a binding (ctypes, cffi) needs only pointers, size_t and int.
 *
 * THREADS
 * - A quy_ruleset is immutable once loaded: any number of threads may rate
 *   with one ruleset at the same time, each through its own quy_session.
 * - A quy_session holds everything that changes while rating (the Lua
 *   hook state, its limits and the strings hooks return, the trace buffer,
 *   the results of the last call); a quy_batch holds its record decoder
 *   and the batch's data. Use each session (and the batches, results and
 *   writers made from it) from one thread at a time.
 * - A quy_loader, quy_diags or quy_explain is used by one thread at a time.
 *   quy_errmsg() is per thread.
 *
 * Records and results: docs/integration-guide.md (sections 3 to 6) and the
 * records contract it references.
 */
#ifndef QUY_H
#define QUY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(QUY_BUILDING) && defined(__GNUC__)
#define QUY_API __attribute__((visibility("default")))
#else
#define QUY_API
#endif

/* =====================================================================
 * Versions
 * =================================================================== */

/* The version of this header (the project's version: CMakeLists.txt reads
 * it from here). The ABI follows MAJOR (the shared library's soname is
 * libquy.so.MAJOR); see docs/integration-guide.md, "ABI". */
#define QUY_VERSION_MAJOR 0
#define QUY_VERSION_MINOR 2
#define QUY_VERSION_PATCH 0
#define QUY_VERSION_NUMBER (QUY_VERSION_MAJOR * 10000 + QUY_VERSION_MINOR * 100 + QUY_VERSION_PATCH)

/* "MAJOR.MINOR.PATCH" of the library linked (compare with the macros). */
QUY_API const char *quy_version(void);
/* QUY_VERSION_NUMBER of the library linked. */
QUY_API int quy_version_number(void);
/* The version of the compiled-ruleset (.qbc) format this library reads and writes. */
QUY_API int quy_bytecode_version(void);

/* =====================================================================
 * Status and errors
 * =================================================================== */

typedef enum quy_status {
    QUY_OK = 0,
    QUY_ERROR = 1,     /* the ruleset has errors (see its quy_diags) or a registry cannot resolve */
    QUY_REJECTED = 2,  /* a record was rejected (its quy_result says why), or some were */
    QUY_IO = 3,        /* a file or stream could not be read or written */
    QUY_EINVAL = 10,   /* a bad argument: NULL, index out of range, unknown option */
    QUY_ENOTFOUND = 11, /* no such folder, file, ruleset, locality or record id */
    QUY_ENOMEM = 12,   /* out of memory */
    QUY_ESTATE = 13,   /* a call out of order (e.g. a result before quy_batch_run) */
} quy_status;

/* "Did you mean": the candidate closest to `word` by edit distance
 * (adjacent transpositions count once), or NULL when none is close enough
 * (more than max(1, len/3) edits) or an argument is NULL. The answer is one
 * of `candidates`. For a tool's own names (commands, options, formats). */
QUY_API const char *quy_suggest(const char *word, const char *const *candidates, size_t n);

/* The message of the last call that failed on this thread ("" if none). */
QUY_API const char *quy_errmsg(void);
/* "ok", "error", "rejected", "io", "einval", "enotfound", "enomem", "estate". */
QUY_API const char *quy_status_name(int status);
/* Free a string or buffer the library returned as malloc'd. */
QUY_API void quy_free(void *p);

typedef struct quy_loader quy_loader;
typedef struct quy_diags quy_diags;
typedef struct quy_ruleset quy_ruleset;
typedef struct quy_session quy_session;
typedef struct quy_batch quy_batch;
typedef struct quy_result quy_result;
typedef struct quy_writer quy_writer;
typedef struct quy_explain quy_explain;

/* =====================================================================
 * Loading: the search path, the registry, compiling
 * =================================================================== */

/* A loader finds rulesets by name (DIR/NAME/NAME.quy, then DIR/NAME.quy) in
 * its search path, in this order:
 *   1. the folders given with quy_loader_add_dir, in order;
 *   2. unless quy_loader_set_defaults(ld, 0): the folders of $QUY_RULESETS
 *      (DIR:DIR...), ./rulesets (if it exists), the rulesets installed
 *      beside the library (PREFIX/share/quy/rulesets, found from where
 *      libquy or the program is), the install prefix it was built for,
 *      and the source tree it was built from.
 * A folder named explicitly (add_dir, $QUY_RULESETS) that does not exist
 * is an error (QUY_ENOTFOUND naming it), never skipped. */
QUY_API quy_status quy_loader_new(quy_loader **out);
QUY_API void quy_loader_free(quy_loader *ld);
QUY_API quy_status quy_loader_add_dir(quy_loader *ld, const char *dir);
QUY_API quy_status quy_loader_set_defaults(quy_loader *ld, int on);
/* The registry file for quy_loader_resolve (default: the first
 * registry.json in the search path). */
QUY_API quy_status quy_loader_set_registry(quy_loader *ld, const char *file);
/* The whole search path: *n folders, read with quy_loader_dir(ld, i). */
QUY_API quy_status quy_loader_dirs(quy_loader *ld, size_t *n);
QUY_API const char *quy_loader_dir(const quy_loader *ld, size_t i);
/* The source file a ruleset name (or path) resolves to: *path malloc'd. */
QUY_API quy_status quy_loader_find(quy_loader *ld, const char *name, char **path);

/* The ruleset in force for a locality on a date, by the registry.
 * `locality` is a locality's id, administrative code, name or full name
 * ("cho-chu", "Chợ Chu"); `date` is "YYYY-MM-DD" or a rating period ("2025":
 * the annual round, rated on 2025-12-31; "2026-Q2": the quarter's last
 * day). When the locality has no
 * ruleset of its own in force that day, its parent's is taken, and so on
 * up. *ruleset (a name for quy_loader_load) and *why (one line saying what
 * was chosen and why; may be NULL) are malloc'd. QUY_ENOTFOUND: unknown
 * locality (with a suggestion) or nothing in force (naming the nearest);
 * QUY_EINVAL: a bad date; QUY_ERROR: the registry has errors. */
QUY_API quy_status quy_loader_resolve(quy_loader *ld, const char *locality, const char *date, char **ruleset,
                                      char **why);

/* ---- the registry: localities and the rulesets in force -------------- */

/* The registry (rulesets/registry.json, docs/integration-guide.md "The
 * registry") as data: its localities and rulesets read by index and
 * attribute, the resolution quy_loader_resolve uses, and the checks of
 * `quy list`. An attribute the item lacks (a locality without a code, a
 * ruleset in force with no end) is NULL; an unknown attribute is NULL
 * with QUY_EINVAL in quy_errmsg(). Strings live as long as the handle. */
typedef struct quy_registry quy_registry;

/* The loader's registry (quy_loader_set_registry, or the first
 * registry.json in the search path). QUY_ENOTFOUND: none in the search
 * path; QUY_ERROR: it has errors (quy_errmsg() lists every one, naming the
 * file and the entry). */
QUY_API quy_status quy_loader_registry(quy_loader *ld, quy_registry **out);
/* A registry file. QUY_ERROR as above (a file that cannot be read too). */
QUY_API quy_status quy_registry_load(const char *path, quy_registry **out);
QUY_API void quy_registry_free(quy_registry *r);
QUY_API const char *quy_registry_path(const quy_registry *r);
/* Localities, in the file's order. Attributes: id name full_name code note
 * level ("trung_uong" "tinh" "huyen" "xa") level_label parent (its id;
 * NULL for the root). */
QUY_API size_t quy_registry_locality_count(const quy_registry *r);
QUY_API const char *quy_registry_locality(const quy_registry *r, size_t i, const char *attr);
/* Rulesets, in the file's order. Attributes: ruleset locality (its id)
 * document source note provisional (why it is provisional; NULL for an
 * ordinary ruleset) effective until in_force_until (dates YYYY-MM-DD;
 * NULL: open-ended) superseded_by (a ruleset name) validity (the dates in
 * words, "2024-10-25 → (open)"). */
QUY_API size_t quy_registry_ruleset_count(const quy_registry *r);
QUY_API const char *quy_registry_ruleset(const quy_registry *r, size_t i, const char *attr);
/* The ruleset in force for `locality` on `date` (as quy_loader_resolve
 * takes them): *ruleset its index; *asked the locality named, *from the
 * locality whose ruleset it is (may be NULL); *why as quy_loader_resolve. */
QUY_API quy_status quy_registry_resolve(const quy_registry *r, const char *locality, const char *date,
                                        size_t *ruleset, size_t *asked, size_t *from, char **why);
/* Check the registry against a loader's search path: each ruleset it names
 * must be found, and a ruleset that extends another must be in force only
 * while its parent is. *nwarnings warnings, read with quy_registry_warning
 * (one line each, in the registry's order). QUY_ENOTFOUND: a bad
 * $QUY_RULESETS folder. */
QUY_API quy_status quy_registry_check(quy_registry *r, quy_loader *ld, size_t *nwarnings);
QUY_API const char *quy_registry_warning(const quy_registry *r, size_t i);
/* The day a date or rating period stands for ("2025" → "2025-12-31",
 * "2026-Q2" → "2026-06-30", a date itself): *day malloc'd. QUY_EINVAL
 * when it is neither. */
QUY_API quy_status quy_period_day(const char *period, char **day);

/* Load a ruleset by name, by source path or by compiled (.qbc) path. On
 * QUY_ERROR the diagnostics say why; *diags (if not NULL) receives them
 * whatever the outcome (warnings too) — free with quy_diags_free. */
QUY_API quy_status quy_loader_load(quy_loader *ld, const char *name_or_path, quy_ruleset **out, quy_diags **diags);
/* Compile source text held in memory. `file_name` names it in diagnostics
 * (and locates its hooks/ folder); a ruleset it `extends` is found through
 * the loader's search path. */
QUY_API quy_status quy_loader_compile(quy_loader *ld, const char *file_name, const char *source, size_t len,
                                      quy_ruleset **out, quy_diags **diags);
/* A compiled ruleset from bytes (what quy_ruleset_bytecode wrote); verified. */
QUY_API quy_status quy_ruleset_from_bytecode(const void *buf, size_t len, quy_ruleset **out);

/* ---- diagnostics: an iterable list ---------------------------------- */

typedef enum quy_severity { QUY_SEV_ERROR = 0, QUY_SEV_WARNING = 1, QUY_SEV_NOTE = 2 } quy_severity;

QUY_API size_t quy_diags_count(const quy_diags *d);
QUY_API size_t quy_diags_errors(const quy_diags *d);
/* quy_severity of diagnostic i, or -1 if out of range. */
QUY_API int quy_diag_severity(const quy_diags *d, size_t i);
QUY_API const char *quy_diag_file(const quy_diags *d, size_t i);
/* 1-based line and column (the column counts characters); 0 if out of range. */
QUY_API unsigned quy_diag_line(const quy_diags *d, size_t i);
QUY_API unsigned quy_diag_column(const quy_diags *d, size_t i);
/* Byte offsets [start, end) of the span in its file's text. */
QUY_API size_t quy_diag_start(const quy_diags *d, size_t i);
QUY_API size_t quy_diag_end(const quy_diags *d, size_t i);
QUY_API const char *quy_diag_message(const quy_diags *d, size_t i);
/* What to write instead ("did you mean 'x'?" → "x"), or NULL if none. */
QUY_API const char *quy_diag_suggestion(const quy_diags *d, size_t i);
/* Every diagnostic as `file:line:col: level: message`, the source line and
 * a caret underline (color: ANSI colors). */
QUY_API quy_status quy_diags_print(const quy_diags *d, FILE *out, int color);
QUY_API void quy_diags_free(quy_diags *d);

/* =====================================================================
 * A compiled ruleset (immutable, shareable between threads)
 * =================================================================== */

QUY_API void quy_ruleset_free(quy_ruleset *rs);
QUY_API const char *quy_ruleset_name(const quy_ruleset *rs);
QUY_API const char *quy_ruleset_version(const quy_ruleset *rs); /* "…+provisional": not from the official text */
QUY_API const char *quy_ruleset_title(const quy_ruleset *rs);   /* the document it encodes, in words ("" if none) */
/* The file it was loaded from (source or .qbc), the file name given to
 * quy_loader_compile, or "" from bytes. */
QUY_API const char *quy_ruleset_file(const quy_ruleset *rs);

typedef enum quy_count {
    QUY_COUNT_KINDS, QUY_COUNT_RULES, QUY_COUNT_CLAUSES, QUY_COUNT_INSTRUCTIONS, QUY_COUNT_FLAGS, QUY_COUNT_HOOKS,
} quy_count;
/* How many of `what` the ruleset has (0 on a bad argument). */
QUY_API size_t quy_ruleset_count(const quy_ruleset *rs, int what);
/* Every key of a record (a JSON object as text) names a field of its kind,
 * and every key of a struct element a field of the struct: QUY_OK, or
 * QUY_ERROR with quy_errmsg() naming the key and the nearest field ("'x' is
 * not a field of record 'member'; did you mean 'y'?"). The reader itself
 * only warns about an unknown field; `quy test` cases are checked here. */
QUY_API quy_status quy_ruleset_check_fields(const quy_ruleset *rs, const char *json, size_t len);
/* ---- the record fields: kinds, their fields, types ----------------- */

/* What a record of each kind holds (docs/records.md is rendered from
 * these by `quy describe --fields`). Kinds are numbered 0 ..
 * quy_ruleset_count(rs, QUY_COUNT_KINDS) - 1, types 0 ..
 * quy_ruleset_type_count(rs) - 1; an index out of range is NULL / 0 /
 * QUY_EINVAL with a message, never a crash. */
QUY_API const char *quy_ruleset_kind(const quy_ruleset *rs, size_t kind); /* its name ("member") */
/* A kind's attributes: name, label, rated ("true": it has a rate block;
 * "false": a part other kinds extend, such as `common`). */
QUY_API const char *quy_kind(const quy_ruleset *rs, size_t kind, const char *attr);
/* The checks a record of the kind must pass (`check` in its declaration:
 * its ranges and cross-field constraints): "message" (what a record that
 * fails it is told, "Số tháng không được âm"), "field" (the field it
 * names; NULL if none). */
QUY_API size_t quy_kind_check_count(const quy_ruleset *rs, size_t kind);
QUY_API const char *quy_kind_check(const quy_ruleset *rs, size_t kind, size_t i, const char *attr);
QUY_API quy_status quy_ruleset_find_kind(const quy_ruleset *rs, const char *name, size_t *kind); /* QUY_ENOTFOUND */
/* The fields of a kind (`id` and `kind` aside), in declaration order.
 * Attributes:
 *   name      the record's key ("tasks_total")
 *   label     what it is, in Vietnamese
 *   presence  "required", "optional" (absent: not collected), "default"
 *             (absent: the default), "computed" (absent: computed from the batch)
 *   default   the default as written in a record ("0", "false", "tot"), or NULL
 *   read      "true" if the ruleset reads it (its rules, checks, caps, the
 *             batch's links or quota groups), else "false" */
QUY_API size_t quy_kind_field_count(const quy_ruleset *rs, size_t kind);
QUY_API const char *quy_kind_field(const quy_ruleset *rs, size_t kind, size_t i, const char *attr);
/* The field's type (an index for quy_type*). */
QUY_API quy_status quy_kind_field_type(const quy_ruleset *rs, size_t kind, size_t i, size_t *type);
/* Types. Attributes: kind ("int" "decimal" "percent" "bool" "date" "string"
 * "enum" "scale" "struct" "list"), name (a declared type's name; NULL for a
 * built-in or anonymous one), label. A list's element type comes from
 * quy_type_element; an enum's or scale's values (in order; a scale from low
 * to high) and a struct's fields are its members (attributes name, label;
 * a struct field's type from quy_type_member_type). */
QUY_API size_t quy_ruleset_type_count(const quy_ruleset *rs);
QUY_API const char *quy_type(const quy_ruleset *rs, size_t type, const char *attr);
QUY_API quy_status quy_type_element(const quy_ruleset *rs, size_t type, size_t *element); /* QUY_EINVAL: not a list */
QUY_API size_t quy_type_member_count(const quy_ruleset *rs, size_t type);
QUY_API const char *quy_type_member(const quy_ruleset *rs, size_t type, size_t i, const char *attr);
QUY_API quy_status quy_type_member_type(const quy_ruleset *rs, size_t type, size_t i, size_t *member_type);

/* The compiled form (.qbc bytes), *buf malloc'd. */
QUY_API quy_status quy_ruleset_bytecode(const quy_ruleset *rs, void **buf, size_t *len);
/* The bytecode listing, one instruction a line, with the rules' sources. */
QUY_API quy_status quy_ruleset_disasm(const quy_ruleset *rs, FILE *out);
/* The instruction set as a Markdown table (docs/bytecode.md). */
QUY_API quy_status quy_opcodes_markdown(FILE *out);

/* =====================================================================
 * Sessions (one per thread) and rating
 * =================================================================== */

QUY_API quy_status quy_session_new(const quy_ruleset *rs, quy_session **out);
QUY_API void quy_session_free(quy_session *s);
/* Limits of one Lua hook call: Lua VM instructions, bytes of memory the
 * Lua state may hold, and milliseconds of the thread's CPU clock (0 keeps
 * the current value; defaults 5,000,000 instructions, 16 MiB, 2,000 ms:
 * docs/hooks-guide.md). A call past one ends, and its record is rejected
 * (code `eval`) naming the limit. QUY_EINVAL (nothing changed): a NULL
 * session, memory under QUY_HOOK_MIN_MEMORY (the sandbox needs about
 * 100 KiB), cpu_ms over QUY_HOOK_MAX_CPU_MS (a day). */
#define QUY_HOOK_MIN_MEMORY (256u * 1024u)
#define QUY_HOOK_MAX_CPU_MS 86400000u
QUY_API quy_status quy_session_set_hook_limits(quy_session *s, uint64_t instructions, size_t memory, uint64_t cpu_ms);
/* The limits in force (any pointer may be NULL). */
QUY_API quy_status quy_session_hook_limits(const quy_session *s, uint64_t *instructions, size_t *memory,
                                           uint64_t *cpu_ms);

/* Rate one record (a JSON object as text) alone, with the semantics of a
 * `quy test` case: its own rules, then the caps that read only itself.
 * Batch steps that need other records — roll-ups, caps reading another
 * record, the quota — are not applied: quy_result_steps() has
 * QUY_STEP_NO_BATCH. Returns QUY_OK (rated) or QUY_REJECTED (the result
 * says why); *out belongs to the session and stays valid until the next
 * quy_rate_json on it. */
QUY_API quy_status quy_rate_json(quy_session *s, const char *json, size_t len, const quy_result **out);

/* ---- batches: all records of one rating ----------------------------- */

enum {
    QUY_BATCH_EXPLAIN = 1, /* keep what explanations need (quy_result_explain*, writers' explain) */
    QUY_BATCH_SINGLE = 2,  /* every record alone (as quy_rate_json): no quota */
};
QUY_API quy_status quy_batch_new(quy_session *s, unsigned flags, quy_batch **out);
QUY_API void quy_batch_free(quy_batch *b);
/* Warnings while reading (an unknown extra field, once per field per
 * input): file, line, record id ("" if none), message. */
typedef void (*quy_warning_fn)(void *ctx, const char *file, unsigned line, const char *id, const char *message);
QUY_API quy_status quy_batch_on_warning(quy_batch *b, quy_warning_fn fn, void *ctx);
/* Limits on one input (0 keeps the default; call before adding records):
 * bytes in one record (a JSON Lines line, a CSV row, a JSON array
 * element; default 1 MiB), nesting of JSON arrays/objects (32), elements
 * of one list field (10,000). A record past one is rejected (code
 * `limit`) naming it. */
QUY_API quy_status quy_batch_set_limits(quy_batch *b, uint32_t max_line, uint32_t max_depth, uint32_t max_list);
/* One record as a JSON object (text, read exactly: no number goes through
 * a double); `name` and `line` locate it in messages. */
QUY_API quy_status quy_batch_add_json(quy_batch *b, const char *json, size_t len, const char *name, unsigned line);
/* Every record of a text in memory / of a stream: JSON Lines, a JSON array
 * or CSV with a header (sniffed). A rejected record is kept as rejected
 * (QUY_OK still); QUY_IO if the input cannot be read. */
QUY_API quy_status quy_batch_read(quy_batch *b, const char *text, size_t len, const char *name);
QUY_API quy_status quy_batch_read_stream(quy_batch *b, FILE *in, const char *name);
/* Read JSON Lines on `jobs` threads (lib/jobs.c; 0: one per core; 1, the
 * default: the calling thread only). quy_batch_read and
 * quy_batch_read_stream then decode, check and rate the records on that
 * many threads, each with a session of its own over the batch's ruleset
 * (hook limits copied), and add them to the batch in input order: the
 * results, messages, warnings and batch steps are exactly those of one
 * thread. A JSON array or CSV is read on the calling thread. Call before
 * adding records. */
QUY_API quy_status quy_batch_set_jobs(quy_batch *b, unsigned jobs);
/* Roll-ups, caps and quotas over everything added. Once only. */
QUY_API quy_status quy_batch_run(quy_batch *b);
QUY_API size_t quy_batch_count(const quy_batch *b);
/* Result i (input order) after quy_batch_run; NULL on a bad index. */
QUY_API const quy_result *quy_batch_result(quy_batch *b, size_t i);
/* The index of the record with this id (QUY_ENOTFOUND if none). */
QUY_API quy_status quy_batch_find(const quy_batch *b, const char *id, size_t *index);
/* Per group: counts per eligible and final tier, each quota's limit and
 * use, as a table (json = 0) or JSON Lines. */
QUY_API quy_status quy_batch_summary(const quy_batch *b, FILE *out, int json);

/* ---- results -------------------------------------------------------- */

/* What the batch steps did to a result (quy_result_steps). */
enum {
    QUY_STEP_ROLLUP = 1 << 0,        /* a computed field was filled from the batch */
    QUY_STEP_CAPPED = 1 << 1,        /* a cap lowered the tier */
    QUY_STEP_QUOTA_KEPT = 1 << 2,    /* a quota candidate that kept its tier */
    QUY_STEP_QUOTA_DEMOTED = 1 << 3, /* demoted by a quota */
    QUY_STEP_SMALL_GROUP = 1 << 4,   /* kept under the small-unit exception */
    QUY_STEP_TIE = 1 << 5,           /* kept/demoted by input order among equal keys */
    QUY_STEP_NO_BATCH = 1 << 8,      /* rated alone: roll-ups, cross-record caps and quotas NOT applied */
};

/* QUY_OK if rated, QUY_REJECTED if rejected, QUY_EINVAL on NULL. */
QUY_API int quy_result_status(const quy_result *r);
QUY_API size_t quy_result_index(const quy_result *r);
QUY_API const char *quy_result_id(const quy_result *r);     /* "" if the record had none */
QUY_API const char *quy_result_file(const quy_result *r);   /* input name */
QUY_API unsigned quy_result_line(const quy_result *r);
QUY_API const char *quy_result_kind(const quy_result *r);   /* NULL if rejected before the kind was known */
/* The final tier: "htxsnv" "httnv" "htnv" "khtnv" "not_rated" "deferred"; NULL if rejected. */
QUY_API const char *quy_result_tier(const quy_result *r);
QUY_API const char *quy_result_tier_label(const quy_result *r); /* "Hoàn thành tốt nhiệm vụ", ... */
QUY_API const char *quy_result_eligible_tier(const quy_result *r); /* before the batch steps */
QUY_API const char *quy_result_eligible_label(const quy_result *r);
QUY_API const char *quy_result_rule(const quy_result *r);   /* deciding rule; NULL if none */
QUY_API const char *quy_result_cite(const quy_result *r);
QUY_API const char *quy_result_layer(const quy_result *r);  /* ruleset that wrote the rule */
QUY_API unsigned quy_result_steps(const quy_result *r);     /* QUY_STEP_* bits */
/* Flags: the rules' flags, then the batch steps' ("capped", "quota_demoted"). */
QUY_API size_t quy_result_flag_count(const quy_result *r);
QUY_API const char *quy_result_flag(const quy_result *r, size_t i);         /* code */
QUY_API const char *quy_result_flag_message(const quy_result *r, size_t i); /* Vietnamese */
QUY_API const char *quy_result_flag_cite(const quy_result *r, size_t i);    /* "" if none */
/* An adjustment's reason (a hook's `adjust` step), or NULL. */
QUY_API const char *quy_result_flag_detail(const quy_result *r, size_t i);
/* A rejected record: code (missing_field wrong_type unknown_value
 * constraint bad_json bad_csv unknown_kind duplicate_id eval ...), field
 * ("" if the record as a whole; "grades[1]" inside a list), message. */
QUY_API const char *quy_result_error_code(const quy_result *r);
QUY_API const char *quy_result_error_field(const quy_result *r);
QUY_API const char *quy_result_error_message(const quy_result *r);
/* A record that failed while a rule ran (code "eval": division by zero, an
 * absent field read, a hook error): where, drawn as the compiler draws its
 * errors — "rules.quy:12:7: error: message", the source line, a caret under
 * the column (in characters). *text is the caller's (quy_free).
 * QUY_ENOTFOUND when the error is not at a place in a rule. */
QUY_API quy_status quy_result_error_source(const quy_result *r, char **text);

/* The explanation (needs QUY_BATCH_EXPLAIN, or a result of quy_rate_json):
 * Vietnamese text, each line indented by `indent` spaces — the rules tried
 * clause by clause with the values read, adjustments, then the batch
 * steps — or JSON. Both malloc'd (quy_free). */
QUY_API quy_status quy_result_explain_text(const quy_result *r, int indent, char **text);
QUY_API quy_status quy_result_explain_json(const quy_result *r, char **json);

/* ---- the explanation as data ---------------------------------------- */

/* Rules tried (in order) → their clauses → the values each read; flags
 * raised; adjustments; batch steps. Attributes are read by name as strings
 * (booleans as "true"/"false"); an attribute the item lacks is NULL.
 *   rule:       rule label outcome cite layer held
 *   clause:     condition label result ("true" "false" "skipped") absent cite layer unless unless_held
 *   flag:       code message cite layer
 *   adjustment: hook phase label reason from to cite layer
 *   step:       step message cite layer           (batch steps)
 *   decided_by: rule label outcome cite layer     (quy_explain_decided_by) */
QUY_API quy_status quy_result_explain(const quy_result *r, quy_explain **out);
QUY_API void quy_explain_free(quy_explain *e);
QUY_API const char *quy_explain_decided_by(quy_explain *e, const char *attr);
QUY_API size_t quy_explain_rule_count(const quy_explain *e);
QUY_API const char *quy_explain_rule(quy_explain *e, size_t rule, const char *attr);
QUY_API size_t quy_explain_clause_count(const quy_explain *e, size_t rule);
QUY_API const char *quy_explain_clause(quy_explain *e, size_t rule, size_t clause, const char *attr);
/* The values a clause read: name ("tasks_total", "share()", "sum axes") and value as shown to people. */
QUY_API size_t quy_explain_read_count(const quy_explain *e, size_t rule, size_t clause);
QUY_API const char *quy_explain_read_name(quy_explain *e, size_t rule, size_t clause, size_t k);
QUY_API const char *quy_explain_read_value(quy_explain *e, size_t rule, size_t clause, size_t k);
QUY_API size_t quy_explain_flag_count(const quy_explain *e);
QUY_API const char *quy_explain_flag(quy_explain *e, size_t i, const char *attr);
QUY_API size_t quy_explain_adjustment_count(const quy_explain *e);
QUY_API const char *quy_explain_adjustment(quy_explain *e, size_t i, const char *attr);
QUY_API size_t quy_explain_step_count(const quy_explain *e);
QUY_API const char *quy_explain_step(quy_explain *e, size_t i, const char *attr);

/* =====================================================================
 * Writing results: JSON Lines, CSV, a table
 * =================================================================== */

/* format: "jsonl" (or "json"), "csv", "table" (aligned, for a terminal). */
QUY_API quy_status quy_writer_new(const quy_ruleset *rs, FILE *out, const char *format, quy_writer **w);
/* Write one result (rated or rejected); `explain` attaches the trace (its
 * batch needs QUY_BATCH_EXPLAIN) and the batch steps. */
QUY_API quy_status quy_writer_result(quy_writer *w, const quy_result *r, int explain);
/* Flush (a table is written here), free; QUY_IO if writing failed. */
QUY_API quy_status quy_writer_close(quy_writer *w);

/* A stream as one batch (roll-ups, caps and quotas over the whole stream),
 * written to `out` in input order as `format` (as quy_writer_new). Counts
 * through rated/rejected (may be NULL). QUY_OK, QUY_REJECTED if any record
 * was rejected, QUY_IO, or QUY_EINVAL (e.g. an unknown format: nothing is
 * written). */
QUY_API quy_status quy_rate_stream(quy_session *s, FILE *in, const char *in_name, FILE *out, const char *format,
                                   int explain, size_t *rated, size_t *rejected);

/* Writing on several threads (lib/jobs_write.c). quy_writer_batch: every
 * result of `b` (after quy_batch_run), in input order: byte for byte what
 * quy_writer_result(w, quy_batch_result(b, i), explain) for each i writes,
 * JSON Lines and CSV formatted on the batch's threads (quy_batch_set_jobs;
 * each thread with its own trace buffer and hook session), a table on the
 * calling thread. QUY_ESTATE before quy_batch_run, or `explain` without
 * QUY_BATCH_EXPLAIN. quy_rate_stream_jobs: quy_rate_stream reading and
 * writing on `jobs` threads (0: one per core; at most 256), with the same
 * output, counts and status as with one. */
QUY_API quy_status quy_writer_batch(quy_writer *w, const quy_batch *b, int explain);
QUY_API quy_status quy_rate_stream_jobs(quy_session *s, FILE *in, const char *in_name, FILE *out, const char *format,
                                        int explain, unsigned jobs, size_t *rated, size_t *rejected);

/* ---------------------------------------------------------------------
 * Proving (quy prove): answers about every possible record, with the Z3
 * SMT solver. docs/testing-guide.md, section 7, says what each question
 * covers and what it leaves out (batch steps, records on which a hook
 * runs); quy_proof_note() lists that for each answer.
 * ------------------------------------------------------------------- */

typedef struct quy_proof quy_proof;

enum {
    QUY_PROVE_GAPS = 0,    /* every way a valid record reaches `otherwise` */
    QUY_PROVE_DEAD = 1,    /* rules, clauses, flags that never act */
    QUY_PROVE_REFINES = 2, /* does rs ever rate higher than `other` (its parent)? */
    QUY_PROVE_EQUIV = 3,   /* every transition other -> rs */
    QUY_PROVE_TEST_MISMATCH = 0x100, /* tests only, OR'ed into the question: expect a wrong tier of every
                                        witness, to show that the VM's check of witnesses fails the question */
};

/* Answer `question` about rs (`other`: the parent for QUY_PROVE_REFINES,
 * the old version for QUY_PROVE_EQUIV, else NULL). timeout_ms bounds each
 * solver call (0: none); a call that runs out is a finding of what
 * "unknown", never a proof. QUY_OK: answered (proved or with findings,
 * each with a witness record the VM rated as the solver said); an error
 * when the ruleset uses what the prover cannot encode, or when a witness is
 * not confirmed by the VM (a prover bug, never reported as a finding). */
QUY_API quy_status quy_prove(const quy_ruleset *rs, const quy_ruleset *other, int question, unsigned timeout_ms,
                             quy_proof **out);
QUY_API void quy_proof_free(quy_proof *pf);
QUY_API int quy_proof_proved(const quy_proof *pf);       /* 1: nothing found (EQUIV: every record keeps its tier) */
QUY_API unsigned quy_proof_queries(const quy_proof *pf); /* solver calls made */
QUY_API size_t quy_proof_count(const quy_proof *pf);     /* findings */
/* Finding i; NULL when it has no such part or i is out of range. */
QUY_API const char *quy_proof_key(const quy_proof *pf, size_t i);  /* "member gap gap_undone_half": for approval files */
QUY_API const char *quy_proof_kind(const quy_proof *pf, size_t i); /* "member" */
QUY_API const char *quy_proof_what(const quy_proof *pf, size_t i); /* gap dead-rule dead-clause dead-flag looser transition unknown */
QUY_API const char *quy_proof_rule(const quy_proof *pf, size_t i);
QUY_API const char *quy_proof_cite(const quy_proof *pf, size_t i);
QUY_API const char *quy_proof_rule2(const quy_proof *pf, size_t i); /* the other ruleset's deciding rule */
QUY_API const char *quy_proof_cite2(const quy_proof *pf, size_t i);
QUY_API const char *quy_proof_clause(const quy_proof *pf, size_t i);
QUY_API const char *quy_proof_flag(const quy_proof *pf, size_t i);
QUY_API const char *quy_proof_flag_message(const quy_proof *pf, size_t i);
QUY_API const char *quy_proof_why(const quy_proof *pf, size_t i);
QUY_API const char *quy_proof_witness(const quy_proof *pf, size_t i); /* one JSON record, or NULL */
QUY_API const char *quy_proof_from(const quy_proof *pf, size_t i);    /* looser/transition: the other ruleset's tier */
QUY_API const char *quy_proof_to(const quy_proof *pf, size_t i);      /* ... and rs's */
QUY_API size_t quy_proof_note_count(const quy_proof *pf);
QUY_API const char *quy_proof_note(const quy_proof *pf, size_t i);

/* =====================================================================
 * The diff engine and the boundary generator (quy_diff_*, quy_gen_*)
 *
 * The engines of `quy diff` and `quy gen` (diff/, gen/ in the source):
 * rate one corpus with two rulesets and say who moves and why; make valid
 * records concentrated on the boundaries of a ruleset's conditions.
 * Opaque handles: each is made by *_new, freed by *_free (NULL accepted),
 * and keeps the message of its last failing call (*_errmsg). The
 * rulesets given to *_new must outlive the handle. One thread at a time
 * per handle.
 * ===================================================================== */

typedef struct quy_diff quy_diff;

/* A diff of `old_rs` against `new_rs`. */
QUY_API quy_status quy_diff_new(const quy_ruleset *old_rs, const quy_ruleset *new_rs, quy_diff **out);
QUY_API void quy_diff_free(quy_diff *d);
/* The message of d's last failing call ("" if none; also in quy_errmsg()), valid
 * until the next failing call on d (or quy_diff_free). */
QUY_API const char *quy_diff_errmsg(const quy_diff *d);
/* Before quy_diff_run:
 *   "refines" "1"|"0"    list and check only the upward moves (does the new ruleset ever rate higher?)
 *   "expect"  FILE       approved moves (the format of `quy diff --write-expect`) to check the moves
 *                        against; read here: QUY_ERROR if it cannot be read or has errors (each
 *                        reported on stderr naming FILE:LINE)
 *   "check"   "1"|"0"    compare the moves with the approvals (default: with "expect" or "refines";
 *                        "0" to only record the moves for quy_diff_write_expect)
 *   "old_name", "new_name"  how each side is named in the summary (default: the rulesets' names)
 *   "jobs"    "N"        threads that decode and rate JSON Lines (1 to 256; default: one per core;
 *                        the report is the same whatever N) */
QUY_API quy_status quy_diff_set(quy_diff *d, const char *option, const char *value);
/* Inputs, in order: a file of records (JSON Lines, a JSON array or CSV),
 * records held in memory (copied; `name` names them in messages), or a
 * stream read to its end now (copied to a temporary file: the diff reads
 * each input twice; name "-" is standard input in messages). */
QUY_API quy_status quy_diff_add_file(quy_diff *d, const char *path);
QUY_API quy_status quy_diff_add_memory(quy_diff *d, const char *name, const char *data, size_t len);
QUY_API quy_status quy_diff_add_stream(quy_diff *d, const char *name, FILE *in);
/* Rate and compare. QUY_IO: an input could not be read; QUY_ENOMEM. */
QUY_API quy_status quy_diff_run(quy_diff *d);

/* Results, after quy_diff_run. Before it, and on a NULL handle or an index
 * out of range, the calls below return 0, NULL, -1 or QUY_ESTATE /
 * QUY_EINVAL, with a message. Strings live as long as the handle, except
 * those of a listed record (quy_diff_listed*, quy_diff_detail*): they live
 * until a listed record with another index is read. Sides: 0 old, 1 new. */
QUY_API size_t quy_diff_records(const quy_diff *d);
QUY_API size_t quy_diff_moved(const quy_diff *d);
typedef enum quy_diff_stat {
    QUY_DIFF_RECORDS, QUY_DIFF_MOVED, QUY_DIFF_UP, QUY_DIFF_DOWN, QUY_DIFF_OTHER,
    QUY_DIFF_SAME_TIER_OTHER_RULE, /* same final tier, another deciding rule (not a move) */
    QUY_DIFF_REJECTED_BY_BOTH,     /* not moves */
    QUY_DIFF_LISTED,               /* records listed (moved, or loosened with "refines") */
    QUY_DIFF_LOOSENED,             /* with "refines": rated higher by the new ruleset */
    QUY_DIFF_APPROVED, QUY_DIFF_UNAPPROVED, /* when checked: moves approved or not */
} quy_diff_stat;
QUY_API quy_status quy_diff_count(const quy_diff *d, int what, uint64_t *value);
/* 1 / 0 (-1 on a bad argument): "refines" (the diff ran with it),
 * "checked" (the moves were compared with approvals), "eligible_equals_final"
 * (no batch step changed any record's tier: both matrices are equal). */
QUY_API int quy_diff_is(const quy_diff *d, const char *what);
/* Each side's ruleset: attributes name, version, spec (how it was named);
 * its layers (the rulesets it extends, the base first, then itself). */
QUY_API const char *quy_diff_side(quy_diff *d, int side, const char *attr);
QUY_API size_t quy_diff_layer_count(quy_diff *d, int side);
QUY_API const char *quy_diff_layer(quy_diff *d, int side, size_t i);
/* The inputs' names, in order. */
QUY_API size_t quy_diff_input_count(const quy_diff *d);
QUY_API const char *quy_diff_input(quy_diff *d, size_t i);
/* The states in display order ("htxsnv" "httnv" "htnv" "khtnv" "not_rated"
 * "deferred" "rejected"): the rows and columns of the matrices. */
QUY_API size_t quy_diff_state_count(const quy_diff *d);
QUY_API const char *quy_diff_state(quy_diff *d, size_t i);
/* Records whose state went from `from` to `to` — by their final tier
 * (final = 1) or their tier before the batch steps (0). QUY_EINVAL for an
 * unknown state. */
QUY_API quy_status quy_diff_matrix(const quy_diff *d, int final, const char *from, const char *to, size_t *count);
/* Causes, most frequent first. Attributes: "cause" (the key), "type"
 * (rule, rejected, batch, unexplained), "label", "cite_old", "cite_new"
 * (NULL when that side has none); the counts "count", "up", "down",
 * "other" through quy_diff_cause_num (quy_diff_cause also gives them as
 * decimal text, valid until the next quy_diff_cause call). Each cause's
 * moves: attributes "old", "new" (states), and the count "count". */
QUY_API size_t quy_diff_cause_count(const quy_diff *d);
QUY_API const char *quy_diff_cause(quy_diff *d, size_t i, const char *attr);
QUY_API quy_status quy_diff_cause_num(quy_diff *d, size_t i, const char *attr, uint64_t *value);
QUY_API size_t quy_diff_cause_move_count(const quy_diff *d, size_t cause);
QUY_API const char *quy_diff_cause_move(quy_diff *d, size_t cause, size_t j, const char *attr);
QUY_API quy_status quy_diff_cause_move_num(quy_diff *d, size_t cause, size_t j, const char *attr, uint64_t *value);
/* Breakdowns `by` "kind" or "peer_group" (most moved first): attribute
 * "name"; counts "records", "moved", "up", "down", "other". */
QUY_API size_t quy_diff_group_count(const quy_diff *d, const char *by);
QUY_API const char *quy_diff_group(quy_diff *d, const char *by, size_t i, const char *attr);
QUY_API quy_status quy_diff_group_num(quy_diff *d, const char *by, size_t i, const char *attr, uint64_t *value);
/* With "refines": the causes of the loosened records — "cause", "label"; count "count". */
QUY_API size_t quy_diff_loosened_cause_count(const quy_diff *d);
QUY_API const char *quy_diff_loosened_cause(quy_diff *d, size_t i, const char *attr);
QUY_API quy_status quy_diff_loosened_cause_num(quy_diff *d, size_t i, const char *attr, uint64_t *value);
/* When checked: the approvals file (NULL with "refines" alone); the list
 * "unapproved" (moves not approved) or "unused" (approvals that allow more
 * than was seen): "old", "new", "cause"; counts "count" (seen) and
 * "approved" (UINT64_MAX: any number, '*'). */
QUY_API const char *quy_diff_expect_file(const quy_diff *d);
QUY_API size_t quy_diff_approval_count(const quy_diff *d, const char *list);
QUY_API const char *quy_diff_approval(quy_diff *d, const char *list, size_t i, const char *attr);
QUY_API quy_status quy_diff_approval_num(quy_diff *d, const char *list, size_t i, const char *attr, uint64_t *value);
/* The first records both rulesets rejected (at most 5), one line each. */
QUY_API size_t quy_diff_rejected_sample_count(const quy_diff *d);
QUY_API const char *quy_diff_rejected_sample(quy_diff *d, size_t i);

/* The listed records (all the moved ones, or the upward ones with
 * "refines"), in input order. Each:
 *   quy_diff_listed: "id" (NULL if none), "kind", "peer_group" (NULL if
 *     none), "file", "direction" (up, down, other), "cause", "cause_label";
 *     count "line" (quy_diff_listed_num)
 *   quy_diff_listed_side: "state", "eligible", "tier", "rule", "cite", "group"
 *   quy_diff_detail — why it moved: "type" (rule: the first rule, in
 *     decision order, whose outcome differs; adjust: a tier adjustment;
 *     rejected; batch: a batch step; unexplained), "rule", "label" (rule);
 *     "step" (adjust); "side", "code", "field", "message" (rejected);
 *     "steps_old", "steps_new" (the batch steps in words, one a line)
 *   quy_diff_detail_side (rule): "state" (held, failed, not_reached,
 *     absent), "outcome", "cite", "layer"; its clauses that differ from the
 *     other side's: "condition", "label", "result" ("true" "false"
 *     "skipped"), "absent" (the field whose absence skipped it), "cite",
 *     "layer", "unless" (its exception), "unless_held" ("true" "false");
 *     the values each read: "field", "label", "value"
 *   quy_diff_detail_adjust: each side's adjustments — "step", "phase",
 *     "label", "reason", "from", "to", "cite", "layer"
 * As JSON (one object a line): quy_diff_listed_json. */
QUY_API size_t quy_diff_listed_count(const quy_diff *d);
QUY_API const char *quy_diff_listed(quy_diff *d, size_t i, const char *attr);
QUY_API quy_status quy_diff_listed_num(quy_diff *d, size_t i, const char *attr, uint64_t *value);
QUY_API const char *quy_diff_listed_side(quy_diff *d, size_t i, int side, const char *attr);
QUY_API const char *quy_diff_detail(quy_diff *d, size_t i, const char *attr);
QUY_API const char *quy_diff_detail_side(quy_diff *d, size_t i, int side, const char *attr);
QUY_API size_t quy_diff_detail_clause_count(quy_diff *d, size_t i, int side);
QUY_API const char *quy_diff_detail_clause(quy_diff *d, size_t i, int side, size_t clause, const char *attr);
QUY_API size_t quy_diff_detail_read_count(quy_diff *d, size_t i, int side, size_t clause);
QUY_API const char *quy_diff_detail_read(quy_diff *d, size_t i, int side, size_t clause, size_t k, const char *attr);
QUY_API size_t quy_diff_detail_adjust_count(quy_diff *d, size_t i, int side);
QUY_API const char *quy_diff_detail_adjust(quy_diff *d, size_t i, int side, size_t j, const char *attr);
/* Listed record i as one JSON object (text; valid until the next call). */
QUY_API const char *quy_diff_listed_json(quy_diff *d, size_t i);
/* Everything but the listed records as one JSON object (text; indent 0:
 * one line, 1..31: that many spaces a level): the rulesets, the matrices,
 * the causes, by kind and peer group, approvals (docs/testing-guide.md,
 * section 6). Valid until the next call with another indent. */
QUY_API const char *quy_diff_summary_json(quy_diff *d, int indent);
/* When checked: listed moves not approved (0: all approved). */
QUY_API size_t quy_diff_unapproved(const quy_diff *d);
/* Write the listed moves as an approval file. */
QUY_API quy_status quy_diff_write_expect(quy_diff *d, const char *path);

/* ---- for reports ----------------------------------------------------- */

/* The rank of a tier code, lowest first: "khtnv" 0, "htnv" 1, "httnv" 2,
 * "htxsnv" 3; -1 for anything else ("not_rated", "rejected", NULL). */
QUY_API int quy_tier_rank(const char *code);
/* The columns a UTF-8 string takes on a terminal (0 for NULL). */
QUY_API size_t quy_display_width(const char *s);

typedef struct quy_gen quy_gen;

/* A generator of records for `rs`: seed 1, ids GEN-000001..., every rated kind. */
QUY_API quy_status quy_gen_new(const quy_ruleset *rs, quy_gen **out);
QUY_API void quy_gen_free(quy_gen *g);
QUY_API const char *quy_gen_errmsg(const quy_gen *g);
/* Before the first record:
 *   "seed"   a whole number (the same seed gives the same records everywhere)
 *   "prefix" the ids' prefix, at most 16 bytes
 *   "kind"   generate this kind (repeatable; default: every rated kind) */
QUY_API quy_status quy_gen_set(quy_gen *g, const char *option, const char *value);
/* The next record (kinds in turn) as one JSON line, newline included;
 * *json stays valid until the next call on g. QUY_ERROR: the ruleset's
 * checks could not be satisfied for this record (the message says which). */
QUY_API quy_status quy_gen_next(quy_gen *g, const char **json, size_t *len);
/* What the generator aims at (each kind's boundaries), as text; malloc'd (quy_free). */
QUY_API quy_status quy_gen_targets(quy_gen *g, char **text);
/* What the generator has: kinds generated, targets, their variants, and
 * records so far that lost their boundary target to be valid. */
typedef enum quy_gen_stat { QUY_GEN_KINDS, QUY_GEN_TARGETS, QUY_GEN_VARIANTS, QUY_GEN_DROPPED } quy_gen_stat;
/* The count `what` (a quy_gen_stat) into *value. The first call scans the
 * ruleset (as the first quy_gen_next does; options are fixed from then on)
 * and fails as it would: QUY_ERROR when there is no kind to generate.
 * QUY_EINVAL on NULL or an unknown `what`. */
QUY_API quy_status quy_gen_count(quy_gen *g, int what, uint64_t *value);

#ifdef __cplusplus
}
#endif

#endif /* QUY_H */
