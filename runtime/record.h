/*
 * record.h — evaluation records: reading them (JSON Lines, a JSON array,
 * CSV; files or standard input) and checking each against the declared
 * record type of its `kind` (runtime/record.c, prefix rec_).
 *
 * A record is a flat array of values, one slot per field of its kind (see
 * q_kind in program.h), a presence byte per slot, and an element arena for
 * list fields. Contract: docs/records.md.
 *
 * Ownership: a record returned by rec_reader_next() belongs to the reader
 * and stays valid until the next call or rec_reader_free(); use
 * rec_copy() to keep one.
 *
 * Guarantees: numbers are exact (the text of a JSON number or CSV cell is
 * read straight into the rational of value.h, never through a double; a
 * number with more digits than its field's type holds exactly is an error
 * naming the field); strings are valid UTF-8, normalised to NFC
 * (libutf8proc); a key given twice in one object is an error naming the
 * record and the key; every error names the file, line, column, record and
 * field; one bad record never stops the others. What one input may cost is
 * bounded (rec_limits): memory stays bounded on an endless stream.
 */
#ifndef QUY_RECORD_H
#define QUY_RECORD_H

#include <stdio.h>

#include "program.h"

typedef struct q_record {
    uint32_t kind;     /* index into program kinds */
    const char *id;    /* contract `id`, NUL-terminated */
    uint32_t line;     /* 1-based line in the input (JSON array: line of the object) */
    uint32_t index;    /* 0-based position in the input */
    q_val *slots;      /* [kind.nfields] */
    uint8_t *present;  /* [kind.nfields]: 1 if the field was given (or defaulted) */
    q_val *elems;      /* list elements; a list value is {first, count} into this */
    uint32_t nelems;
} q_record;

typedef enum rec_format { REC_AUTO, REC_JSONL, REC_JSON, REC_CSV } rec_format;

/* Hard limits on one input; exceeding one rejects the record (code
 * `limit`) with a message naming the limit and its option. 0 in a field
 * given to rec_reader_set_limits keeps the default. */
typedef struct rec_limits {
    uint32_t max_line;  /* bytes in one record (a JSON Lines line, a CSV row, a
                           JSON array element); --max-line */
    uint32_t max_depth; /* nesting of JSON arrays/objects in a record; --max-depth */
    uint32_t max_list;  /* elements in one list field; --max-list */
} rec_limits;

#define REC_DEFAULT_MAX_LINE (1u << 20) /* 1 MiB: a record is ~700 bytes */
#define REC_DEFAULT_MAX_DEPTH 32u       /* records nest 3 deep */
#define REC_DEFAULT_MAX_LIST 10000u
#define REC_ID_MAX 255u                 /* bytes in a record id (rec_error.id holds it whole) */

/* Why a record was rejected (or a warning about one). Strings are copied. */
typedef struct rec_error {
    char file[256];   /* input name ("-" for standard input) */
    uint32_t line;    /* 1-based; 0 if unknown */
    uint32_t column;  /* 1-based column of the offending value (JSON: characters
                         from the line start; CSV: the cell's column); 0 if unknown */
    char id[REC_ID_MAX + 1]; /* record id, whole ("" if it has none or it is too long) */
    char field[128];  /* offending field, "" if the record as a whole; inside a
                         list: "grades[1]", "discipline_cases[2].who" */
    char code[32];    /* machine code: missing_field, wrong_type, unknown_value,
                         constraint, bad_json, bad_csv, unknown_kind, duplicate_id, eval,
                         duplicate_key, too_precise, limit;
                         also io (read error), no_memory; warnings: unknown_field */
    char message[512]; /* Vietnamese-first human message, with the value */
    uint32_t src_pos;  /* code "eval": 1 + the source position (QUY_POS) of the rule's
                          instruction that failed; 0 if none */
    uint32_t src_msg;  /* then: the length of message before the " — tại file:line" naming it */
} rec_error;

/* After n = snprintf(buf, size, ...): when the text did not fit, end it at
 * a character boundary with "…" so the cut shows. */
void rec_mark_cut(char *buf, size_t size, int n);

typedef struct rec_reader rec_reader;

typedef void (*rec_warn_fn)(void *ctx, const rec_error *warning);

/* Start reading `in` (not closed by the reader). REC_AUTO sniffs: '[' first
 * means a JSON array, '{' JSON Lines, anything else CSV with a header. */
rec_reader *rec_reader_open(const q_program *p, FILE *in, const char *name, rec_format fmt);
/* Limits for this reader (call before the first record); see rec_limits. */
void rec_reader_set_limits(rec_reader *r, const rec_limits *lim);
/* Warnings (an unknown extra field, reported once per field per input). */
void rec_reader_on_warning(rec_reader *r, rec_warn_fn fn, void *ctx);
/* Ids checked for duplicates in the caller's set instead of the reader's
 * own (the batch keeps one id set for its names and this check:
 * runtime/batch.c): fn answers as strset_add does, 1 new, 0 a duplicate
 * (*first = the line it was first seen at in this input), -1 no memory. */
typedef int (*rec_id_fn)(void *ctx, const char *id, size_t len, uint32_t line, uint32_t *first);
void rec_reader_on_id(rec_reader *r, rec_id_fn fn, void *ctx);
/* 1: *out is the next valid record. 0: end of input.
 * -1: the next record was rejected; *err says why; call again for the rest. */
int rec_reader_next(rec_reader *r, q_record **out, rec_error *err);
void rec_reader_free(rec_reader *r);
/* The hook session (runtime/hook.h, the caller's) for checks that call a
 * hook; without one such a check rejects the record. */
struct hook_session;
void rec_reader_set_hooks(rec_reader *r, struct hook_session *hs);

/* Decode one already-parsed JSON object (used by `quy test`). `obj` is a
 * jansson json_t*; same result codes as rec_reader_next. Ids are not checked
 * for duplicates here (test cases are independent). `in` given to
 * rec_reader_open may be NULL for a reader used only for this. */
int rec_decode_json(rec_reader *r, const void *obj, uint32_t line, q_record **out, rec_error *err);
/* The same from the text of one JSON object (`len` bytes): exact numbers,
 * unlike a jansson object whose decimals already went through a double
 * (rec_decode_json prints them with 15 significant digits, as before). */
int rec_decode_text(rec_reader *r, const char *text, size_t len, uint32_t line, q_record **out, rec_error *err);

/* Parallel reading (lib/jobs.c): one thread splits the input and keeps
 * the order-dependent state (ids seen, warnings given), others decode.
 *
 * rec_reader_line: the next JSON Lines record's text, as rec_reader_next
 * would read it (blank lines skipped, the line end cut): REC_LINE_TEXT
 * with *s (valid until the next call), *len, its line and its index in the
 * input; REC_LINE_ERROR with *err (a line past max_line, or a read error:
 * code io, the end); REC_LINE_END; REC_LINE_OTHER: the input is a JSON
 * array or CSV, read it with rec_reader_next (nothing was consumed). */
/* The input's format, sniffed (nothing consumed but a BOM and white space). */
rec_format rec_reader_sniff(rec_reader *r);
enum { REC_LINE_OTHER = -2, REC_LINE_ERROR = -1, REC_LINE_END = 0, REC_LINE_TEXT = 1 };
int rec_reader_line(rec_reader *r, const char **s, size_t *len, uint32_t *line, uint32_t *index, rec_error *err);
/* Decode a record's text (NUL at s[len]) as rec_reader_next would (same
 * result codes), its ids checked for duplicates only if check_dup. Without
 * the check, *id_reached says whether the reader would have checked the id
 * (the record got that far): then the splitting thread checks it with
 * rec_reader_note_id, and on a duplicate decodes the text again itself
 * with check_dup, which gives exactly the serial reader's error. */
int rec_decode_line(rec_reader *r, char *s, size_t len, uint32_t line, uint32_t index, bool check_dup, q_record **out,
                    rec_error *err, bool *id_reached);
/* Note an id first seen at `line`: 1 new, 0 a duplicate, -1 no memory. */
int rec_reader_note_id(rec_reader *r, const char *id, uint32_t line);
/* Warnings passed on without deduplication (a decoding thread's reader);
 * during the callback, rec_reader_warn_key gives the key to deduplicate by,
 * and the splitting thread replays them in order with
 * rec_reader_warn_replay (its reader's callback, once per key; -1: no memory). */
void rec_reader_warn_raw(rec_reader *r, bool raw);
const char *rec_reader_warn_key(const rec_reader *r, size_t *len);
int rec_reader_warn_replay(rec_reader *r, const rec_error *w, const char *key, size_t len);

/* Some top-level string members of one JSON object, found without a DOM
 * (`quy diff` names each record by kind, id and peer_group). `s` has a NUL
 * at s[len]. 1: the text is one valid JSON object and vals[k] is the last
 * value of keys[k] when it is a string (s inside the text, `esc`: with
 * escapes, decode with rec_json_unescape), {NULL} otherwise. 0: invalid,
 * or something a strict JSON library may treat otherwise (a \u0000 or
 * surrogate escape, an escaped top-level key, a number past int64 or with
 * an exponent, nesting past 512): the caller uses its full parser. */
typedef struct rec_span {
    const char *s;
    size_t len;
    bool esc;
} rec_span;
int rec_json_top_strings(const char *s, size_t len, const char *const keys[], size_t nkeys, rec_span vals[]);
/* A string's escapes decoded (syntax already checked, no \u0000 or
 * surrogate): out needs len bytes; returns the decoded length. */
size_t rec_json_unescape(const char *s, size_t len, char *out);

/* A deep copy that owns its memory (free with rec_free). */
q_record *rec_copy(const q_program *p, const q_record *rec);
/* The same into memory the caller gives: rec_copy_size bytes (0: no such
 * kind), aligned for a pointer. */
size_t rec_copy_size(const q_program *p, const q_record *rec);
q_record *rec_copy_into(const q_program *p, const q_record *rec, void *mem);
void rec_free(q_record *rec);

#endif /* QUY_RECORD_H */
