/*
 * An LD_PRELOAD counter of heap allocations, for "allocations a message"
 * (doc/performance.md): malloc, calloc and realloc count as allocations,
 * free of a non-NULL pointer as a free. A thread writes the two totals to
 * /tmp/alloc-count.PID every 100 ms; read the file twice, some seconds
 * apart, and divide by the messages in between. An atomic add a call is
 * cheap enough for 20k msg/s, unlike a uprobe a call. Not for production:
 * it calls glibc's __libc_* entry points directly.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t n);
void __libc_free(void *p);

#define ALLOC_COUNT_PERIOD_US 100000

static atomic_long alloc_count_allocs, alloc_count_frees;

void *
malloc(size_t n)
{
	atomic_fetch_add_explicit(&alloc_count_allocs, 1, memory_order_relaxed);
	return __libc_malloc(n);
}

void *
calloc(size_t n, size_t size)
{
	atomic_fetch_add_explicit(&alloc_count_allocs, 1, memory_order_relaxed);
	return __libc_calloc(n, size);
}

void *
realloc(void *p, size_t n)
{
	atomic_fetch_add_explicit(&alloc_count_allocs, 1, memory_order_relaxed);
	return __libc_realloc(p, n);
}

void
free(void *p)
{
	if (p != NULL)
		atomic_fetch_add_explicit(&alloc_count_frees, 1,
		                          memory_order_relaxed);
	__libc_free(p);
}

/* The writer thread: the totals, replaced in place every period. */
static void *
alloc_count_main(void *arg)
{
	char path[64];
	FILE *f;

	(void)arg;
	snprintf(path, sizeof(path), "/tmp/alloc-count.%d", (int)getpid());
	for (;;) {
		usleep(ALLOC_COUNT_PERIOD_US);
		if ((f = fopen(path, "w")) == NULL)
			continue;
		fprintf(f, "%ld %ld\n", atomic_load(&alloc_count_allocs),
		        atomic_load(&alloc_count_frees));
		fclose(f);
	}
	return NULL;
}

__attribute__((constructor)) static void
alloc_count_init(void)
{
	pthread_t t;

	if (pthread_create(&t, NULL, alloc_count_main, NULL) == 0)
		pthread_detach(t);
}
