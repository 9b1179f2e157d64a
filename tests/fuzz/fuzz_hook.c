/*
 * fuzz_hook.c — libFuzzer harness for the Lua hook sandbox, in memory: the
 * input is the source of a hook file (t.lua), run in the sandbox with a
 * few records — every escape from a limit shows as a libFuzzer timeout,
 * an out-of-memory or a sanitizer report.
 *
 * At start a small ruleset is compiled once (in a temporary folder) with
 * two hooks read from t.lua: f(n, s, g, xs, p, d) -> bool, called in a
 * rule, and adj(n, p) -> adjustment, an `adjust member record` step. Per
 * input: a copy of that program whose hooks' embedded source is the input
 * (the program itself is never changed), the load-time check
 * (hook_check_source), then each record rated by a fresh hook session, fast
 * and with a trace (until a call hits a limit: the next records would hit
 * it again). The limits are lower than the defaults (a loop costs a
 * millisecond, not seconds); the sandbox must hold under any.
 * Build with -DQUY_FUZZ=ON; run with tests/fuzz/run.sh hook SECONDS.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compiler/compiler.h"
#include "runtime/hook.h"
#include "runtime/record.h"
#include "runtime/vm.h"

#define NREC 3
#define TRACE_CAP 256

static const char ruleset[] =
    "ruleset fz version \"1\"\n"
    "scale grade { kem < tot < xuat_sac }\n"
    "record member {\n"
    "  n   : int \"Số\"\n"
    "  s   : string\n"
    "  g   : grade\n"
    "  xs  : list of int\n"
    "  pct : optional percent\n"
    "  day : optional date\n"
    "}\n"
    "hook f(n: int, s: string, g: grade, xs: list of int, p: percent, d: date) -> bool from \"t.lua\"\n"
    "hook adj(n: int, p: percent) -> adjustment from \"t.lua\"\n"
    "rate member {\n"
    "  a: htxsnv when f(n, s, g, xs, pct, day) cite \"t\"\n"
    "  b: httnv when n > 3 cite \"t\"\n"
    "  otherwise htnv\n"
    "}\n"
    "adjust member record by adj(n, pct) \"x\" cite \"t\"\n";

static const char *const records[NREC] = {
    "{\"id\":\"A\",\"kind\":\"member\",\"n\":3,\"s\":\"2024-Q1\",\"g\":\"tot\",\"xs\":[1,2,3],\"pct\":50.5,\"day\":\"2024-02-29\"}",
    "{\"id\":\"B\",\"kind\":\"member\",\"n\":-7,\"s\":\"\",\"g\":\"kem\",\"xs\":[]}",
    "{\"id\":\"C\",\"kind\":\"member\",\"n\":9223372036854775807,\"s\":\"Nguyễn Văn A\",\"g\":\"xuat_sac\","
    "\"xs\":[9,8,7,6,5,4,3,2,1,0],\"pct\":100}",
};

static q_program *base;
static rec_reader *rd[NREC];
static q_record *recs[NREC];
static vm_event ev[TRACE_CAP];
static const hook_limits fuzz_limits = {.instructions = 20000, .memory = 1u << 20, .cpu_ms = 100};

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char dir[] = "/tmp/quy-fuzz-hook-XXXXXX";
    if (!mkdtemp(dir)) abort();
    write_file(dir, "fz.quy", ruleset);
    write_file(dir, "t.lua", "return function() end\n");
    const char *search[1] = {dir};
    compiler *c = compiler_new(search, 1);
    base = c ? compiler_compile(c, "fz") : NULL;
    if (!base) {
        if (c) diag_print(compiler_diags(c), stderr, false);
        abort();
    }
    compiler_free(c);
    char path[512];
    snprintf(path, sizeof path, "%s/fz.quy", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/t.lua", dir);
    unlink(path);
    rmdir(dir);
    for (int i = 0; i < NREC; i++) {
        rd[i] = rec_reader_open(base, NULL, "fuzz", REC_JSON);
        json_t *o = json_loads(records[i], 0, NULL);
        rec_error err;
        if (!rd[i] || !o || rec_decode_json(rd[i], o, 1, &recs[i], &err) != 1) {
            fprintf(stderr, "fuzz_hook: record %d rejected: %s\n", i, err.message);
            abort();
        }
        json_decref(o);
    }
    return 0;
}

/* `base` with every hook's source replaced by src[0..len) (a new string). */
static bool with_source(q_program *p, const uint8_t *src, size_t len)
{
    *p = *base;
    p->blob = malloc((size_t)base->blob_len + len + 1);
    p->str_off = malloc(((size_t)base->nstr + 1) * sizeof *p->str_off);
    p->hooks = malloc(base->nhooks * sizeof *p->hooks);
    if (!p->blob || !p->str_off || !p->hooks) return false;
    memcpy(p->blob, base->blob, base->blob_len);
    memcpy(p->blob + base->blob_len, src, len);
    p->blob[base->blob_len + len] = 0;
    memcpy(p->str_off, base->str_off, base->nstr * sizeof *p->str_off);
    p->str_off[base->nstr] = base->blob_len;
    p->nstr = base->nstr + 1;
    p->blob_len = base->blob_len + (uint32_t)len + 1;
    memcpy(p->hooks, base->hooks, base->nhooks * sizeof *p->hooks);
    for (uint32_t h = 0; h < p->nhooks; h++) p->hooks[h].source = base->nstr;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1u << 16) return 0;
    q_program p;
    if (with_source(&p, data, size)) {
        char err[512];
        hook_check_source_limits(&p, "f", "t.lua", (const char *)data, size, &fuzz_limits, err, sizeof err);
        hook_session *hs = hook_session_new(&p, &fuzz_limits);
        for (int i = 0; hs && i < NREC; i++) {
            vm_result r;
            vm_rate(&p, hs, recs[i], &r, NULL);
            /* a limit: the other records would only hit it again */
            if (r.error == VM_HOOK && r.error_text && strstr(r.error_text, "): vượt giới hạn ")) break;
            vm_trace tr = {.ev = ev, .cap = TRACE_CAP};
            vm_rate(&p, hs, recs[i], &r, &tr);
        }
        hook_session_free(hs);
    }
    free(p.blob);
    free(p.str_off);
    free(p.hooks);
    return 0;
}
