/*
 * record-read.c — the record reader alone: CPU time of rec_reader_next
 * over a JSON Lines file of central-124 records (reading, decoding, the
 * kind's declared checks, duplicate ids), 3 runs. Standalone, against a
 * build's static libraries (bench/README.md, "Record reader"):
 *   gcc -O2 -o record-read bench/record-read.c -Iruntime -Icompiler -Iinclude -I. -Ibuild/gen \
 *       build/libquy_compiler_goto.a build/libquy_runtime_goto.a \
 *       $(pkg-config --libs lua5.4 jansson libxxhash libutf8proc) -lcsv -lm
 *   ./record-read rulesets records.jsonl
 * (build-bench/ for a Release build). The instruction counts of
 * bench/README.md ("Record reader, session 4") are rec_reader_next's
 * inclusive Ir / 15,000 over 5,000 records (the 3 runs):
 *   valgrind --tool=callgrind --callgrind-out-file=rr.cg ./record-read rulesets records.jsonl
 *   callgrind_annotate --inclusive=yes rr.cg | grep rec_reader_next
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "compiler.h"
#include "record.h"
int main(int argc, char **argv)
{
    const char *dirs[] = {argv[1]};
    compiler *c = compiler_new(dirs, 1);
    q_program *p = compiler_compile(c, "central-124");
    if (!p) return 1;
    for (int rep = 0; rep < 3; rep++) {
        FILE *f = fopen(argv[2], "rb");
        rec_reader *r = rec_reader_open(p, f, argv[2], REC_JSONL);
        struct timespec a, b;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
        q_record *rec; rec_error err; int rc; long good = 0, bad = 0;
        while ((rc = rec_reader_next(r, &rec, &err)) != 0) { if (rc > 0) good++; else bad++; }
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
        double s = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
        printf("%ld read, %ld rejected: %.3f s CPU, %.2f us/record\n", good, bad, s, s * 1e6 / (good + bad));
        rec_reader_free(r);
        fclose(f);
    }
    return 0;
}
