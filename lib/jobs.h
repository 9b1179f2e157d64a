/*
 * jobs.h — reading a batch on several threads (lib/jobs.c; quy.h,
 * quy_batch_set_jobs). Private to the library.
 */
#ifndef QUY_LIB_JOBS_H
#define QUY_LIB_JOBS_H

#include "internal.h"

/* `jobs`, or the number of cores when 0 (at most 256). */
unsigned qi_jobs_resolve(unsigned jobs);
/* batch_read of `in` into qb's batch with `jobs` decoding threads (JSON
 * Lines; other formats on this thread): the same records, errors,
 * warnings and order as batch_read. 0, or -1 with *err (read error, no
 * memory). */
int qi_batch_read_jobs(quy_batch *qb, FILE *in, const char *name, unsigned jobs, rec_error *err);

#endif /* QUY_LIB_JOBS_H */
