/*
 * util.c — versions, the per-thread error message, status names.
 */
#define _GNU_SOURCE 1 /* vasprintf */
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../runtime/output.h"
#include "internal.h"

#define QI_STR2(x) #x
#define QI_STR(x) QI_STR2(x)

const char *quy_version(void)
{
    return QI_STR(QUY_VERSION_MAJOR) "." QI_STR(QUY_VERSION_MINOR) "." QI_STR(QUY_VERSION_PATCH);
}

int quy_version_number(void) { return QUY_VERSION_NUMBER; }

int quy_bytecode_version(void) { return QUY_BC_VERSION; }

/* The message of the last failing call on this thread: a malloc'd string
 * held under a pthread key (freed when the thread ends), so that a long
 * message (a registry's list of errors) is never cut. */
static pthread_key_t g_key;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void make_key(void) { pthread_key_create(&g_key, free); }

const char *quy_errmsg(void)
{
    pthread_once(&g_once, make_key);
    const char *m = pthread_getspecific(g_key);
    return m ? m : "";
}

quy_status qi_fail(quy_status st, const char *fmt, ...)
{
    pthread_once(&g_once, make_key);
    va_list ap;
    va_start(ap, fmt);
    char *m = NULL;
    if (vasprintf(&m, fmt, ap) < 0) m = NULL;
    va_end(ap);
    free(pthread_getspecific(g_key));
    pthread_setspecific(g_key, m); /* NULL (no memory): quy_errmsg() is "" */
    return st;
}

#define QI_STATUSES(S) \
    S(QUY_OK, "ok") S(QUY_ERROR, "error") S(QUY_REJECTED, "rejected") S(QUY_IO, "io") S(QUY_EINVAL, "einval") \
    S(QUY_ENOTFOUND, "enotfound") S(QUY_ENOMEM, "enomem") S(QUY_ESTATE, "estate")

const char *quy_status_name(int status)
{
#define S_CASE(e, name) \
    if (status == e) return name;
    QI_STATUSES(S_CASE)
#undef S_CASE
    return "unknown";
}

void quy_free(void *p) { free(p); }

char *qi_strdup(const char *s) { return s ? strdup(s) : NULL; }

int quy_tier_rank(const char *code)
{
    for (int i = 0; code && i <= QO_HTXSNV; i++)
        if (!strcmp(code, q_outcome_code[i])) return i;
    return -1;
}

size_t quy_display_width(const char *s) { return s ? out_display_width(s) : 0; }
