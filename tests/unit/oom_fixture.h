/*
 * oom_fixture.h — fail the Nth allocation (test_oom.c, test_diff_oom.c).
 *
 * A test that includes this is linked with
 * -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc (tests/CMakeLists.txt):
 * every allocation our own code makes goes through the wrappers below.
 * arm(N) makes the Nth allocation from then on fail (0: none); `failed`
 * says whether one did, `count` how many were made.
 */
#ifndef QUY_TEST_OOM_FIXTURE_H
#define QUY_TEST_OOM_FIXTURE_H

#include <stddef.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);

static unsigned long fail_at; /* 0: never */
static unsigned long count;
static int failed;

static int fail_now(void)
{
    if (!fail_at || ++count != fail_at) return 0;
    failed = 1;
    return 1;
}

void *__wrap_malloc(size_t n) { return fail_now() ? NULL : __real_malloc(n); }
void *__wrap_calloc(size_t n, size_t size) { return fail_now() ? NULL : __real_calloc(n, size); }
void *__wrap_realloc(void *p, size_t n) { return fail_now() ? NULL : __real_realloc(p, n); }

static void arm(unsigned long n)
{
    fail_at = n;
    count = 0;
    failed = 0;
}

#endif /* QUY_TEST_OOM_FIXTURE_H */
