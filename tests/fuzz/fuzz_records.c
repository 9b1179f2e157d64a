/*
 * fuzz_records.c — libFuzzer harness for the record readers (JSON Lines, a
 * JSON array, CSV) + VM + batch steps + writers, in memory: each input is
 * read through fmemopen and rated as one batch by quy_rate_stream (the
 * public door), its results written as JSON Lines or CSV to /dev/null.
 *
 * The first byte picks the output format (bit 0: CSV), whether
 * explanations are attached (bit 1) and the input limits (bit 2: small
 * ones — 512 bytes a record, nesting 4, lists of 8 — so that inputs of a
 * few KiB reach every limit's path; else the defaults); the rest is the
 * input (its format sniffed as `quy eval` does). The same steps as
 * quy_rate_stream (lib/result.c), which sets no limits.
 * Ruleset: central-124 from rulesets/ (QUY_SOURCE_DIR), compiled once.
 * Build with -DQUY_FUZZ=ON (tests/fuzz/CMakeLists.txt); run with
 * tests/fuzz/run.sh records SECONDS (tests/fuzz/README.md).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "quy.h"

static quy_ruleset *rs;
static quy_session *session;
static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    quy_loader *ld;
    if (quy_loader_new(&ld) != QUY_OK || quy_loader_add_dir(ld, QUY_SOURCE_DIR "/rulesets") != QUY_OK ||
        quy_loader_load(ld, "central-124", &rs, NULL) != QUY_OK || quy_session_new(rs, &session) != QUY_OK) {
        fprintf(stderr, "fuzz_records: cannot load central-124: %s\n", quy_errmsg());
        abort();
    }
    quy_loader_free(ld);
    devnull = fopen("/dev/null", "w");
    if (!devnull) abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    uint8_t mode = data[0];
    data++;
    size--;
    /* fmemopen of 0 bytes fails on some libcs: an empty input is one NUL-free empty stream */
    static const char empty[1] = {0};
    FILE *in = fmemopen(size ? (void *)(uintptr_t)data : (void *)(uintptr_t)empty, size ? size : 1, "rb");
    if (!in) return 0;
    if (!size) fgetc(in);
    int explain = (mode >> 1) & 1;
    quy_writer *w;
    quy_batch *b;
    if (quy_writer_new(rs, devnull, (mode & 1) ? "csv" : "jsonl", &w) != QUY_OK) abort();
    if (quy_batch_new(session, explain ? QUY_BATCH_EXPLAIN : 0, &b) != QUY_OK) abort();
    if ((mode & 4) && quy_batch_set_limits(b, 512, 4, 8) != QUY_OK) abort();
    quy_batch_read_stream(b, in, "fuzz");
    if (quy_batch_run(b) == QUY_OK)
        for (size_t i = 0; i < quy_batch_count(b); i++) quy_writer_result(w, quy_batch_result(b, i), explain);
    quy_batch_free(b);
    quy_writer_close(w);
    fclose(in);
    return 0;
}
