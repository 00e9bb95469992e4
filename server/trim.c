#include "trim.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "log.h"

void
trim_accepted(struct trim *t)
{
	t->accepts++;
}

bool
trim_due(struct trim *t)
{
	bool quiet = t->accepts == t->seen;

	t->seen = t->accepts;
	if (!quiet || t->accepts - t->trimmed < TRIM_AFTER)
		return false;
	t->trimmed = t->accepts;
	return true;
}

/* Resident KiB from /proc/self/statm (field 2, pages), or -1. */
static long
trim_rss_kib(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long size, pages = -1;

	if (f == NULL)
		return -1;
	if (fscanf(f, "%ld %ld", &size, &pages) != 2)
		pages = -1;
	fclose(f);
	return pages < 0 ? -1 : pages * (sysconf(_SC_PAGESIZE) / 1024);
}

void
trim_release(void)
{
#ifdef __GLIBC__
	struct timespec t0, t1;
	long before = trim_rss_kib();

	clock_gettime(CLOCK_MONOTONIC, &t0);
	malloc_trim(0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	log_debug("trim: resident %ld -> %ld KiB in %.2f ms", before,
	          trim_rss_kib(),
	          (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	              (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
#endif
}
