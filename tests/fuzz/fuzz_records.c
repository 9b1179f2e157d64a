/*
 * fuzz_records.c — libFuzzer harness for the record readers (JSON Lines, a
 * JSON array, CSV) + VM + batch steps + writers, in memory: each input is
 * read through fmemopen and rated as one batch by quy_rate_stream (the
 * public door), its results written as JSON Lines or CSV to /dev/null.
 *
 * The first byte picks the output format and whether explanations are
 * attached; the rest is the input (its format sniffed as `quy eval` does).
 * Ruleset: central-124 from rulesets/ (QUY_SOURCE_DIR), compiled once.
 * Build with -DQUY_FUZZ=ON (tests/fuzz/CMakeLists.txt); run with
 * tests/fuzz/run.sh records SECONDS (tests/fuzz/README.md).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "quy.h"

static quy_ruleset *rs;
static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *dirs[] = {QUY_SOURCE_DIR "/rulesets"};
    char *errors = NULL;
    rs = quy_ruleset_load("central-124", dirs, 1, &errors);
    if (!rs) {
        fprintf(stderr, "fuzz_records: cannot load central-124: %s\n", errors ? errors : "?");
        abort();
    }
    free(errors);
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
    size_t rated = 0, rejected = 0;
    quy_rate_stream(rs, in, "fuzz", devnull, (mode & 1) ? "csv" : "jsonl", (mode >> 1) & 1, &rated, &rejected);
    fclose(in);
    return 0;
}
