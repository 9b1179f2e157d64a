/*
 * fuzz_bytecode — libFuzzer harness: the bytecode reader, the verifier, the
 * VM and the batch steps on .qbc bytes, in memory. The header's payload
 * length and the trailing checksum are fixed up first, so that mutations
 * reach the verifier instead of stopping at the checksum. A program the
 * verifier accepts is run over a few records of every seed's kinds (plain
 * and tracing VM, batch steps, explanations): the VM trusts the verifier,
 * so a crash, hang or undefined behaviour there is a verifier hole.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "batch_render.h"
#include "program.h"
#include "record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Records for the seeds' kinds (tests/fuzz/corpus/bytecode: ok_minimal
 * and the shipped rulesets): some rate, some are rejected. */
static const char RECORDS[] =
    "{\"id\":\"A\",\"kind\":\"member\",\"tasks_total\":5,\"tasks_completed\":5,\"grades\":[\"tot\"],\"pct\":5}\n"
    "{\"id\":\"B\",\"kind\":\"member\",\"tasks_total\":5,\"tasks_completed\":3,\"grades\":[]}\n"
    "{\"id\":\"C\",\"kind\":\"member\",\"tasks_total\":7,\"tasks_completed\":7,\"grades\":[\"xuat_sac\",\"tot\"],"
    "\"pct\":60}\n"
    "{\"id\":\"D\",\"kind\":\"member\",\"period\":\"2024\",\"unit\":\"U\",\"months_in_role\":14,"
    "\"result_grades\":[\"xuat_sac\",\"tot\"],\"other_grades\":[\"tot\"],\"outstanding\":true,\"tasks_total\":8,"
    "\"tasks_completed\":8,\"tasks_on_time\":8,\"tasks_exceeded\":5,\"exempt\":false,\"suspended\":false,"
    "\"degraded\":false,\"prohibited_conduct\":false,\"exemplary_breach\":false,\"disciplined\":false,"
    "\"self_remedied\":false,\"low_confidence_pct\":2.5,\"peer_group\":\"g\"}\n";

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 28 || size > 1 << 20) return 0;
    uint8_t *buf = malloc(size);
    if (!buf) return 0;
    memcpy(buf, data, size);
    put_u64(buf + 12, size - 28);
    put_u64(buf + size - 8, bc_checksum(buf, size - 8));
    char why[512];
    q_program *p = bc_read(buf, size, why, sizeof why);
    free(buf);
    if (!p) return 0;
    batch *b = batch_new(p, true);
    FILE *in = fmemopen((void *)RECORDS, sizeof RECORDS - 1, "r");
    if (b && in) {
        rec_error err;
        batch_read(b, in, "fuzz.jsonl", &err);
        batch_run(b);
        for (size_t i = 0; i < batch_count(b); i++) free(batch_explain_text(b, i, 2));
    }
    if (in) fclose(in);
    batch_free(b);
    prog_free(p);
    return 0;
}
