/* natterd: the natter chat server. See natterd(8). */
#include <malloc.h>

#include <event2/thread.h>

#include "config.h"
#include "log.h"
#include "server.h"

/*
 * Messages are allocated on the DB writer's thread and freed on the
 * loops', so the writer's malloc arena empties and refills every batch;
 * glibc's default trims (madvise) it each time. Keep up to 32 MiB of free
 * memory per arena instead.
 * Setting that turns off glibc's sliding mmap threshold, which would
 * otherwise rise to the size of the large blocks a process frees: then
 * every block of 128 KiB or more (a cluster relay's batch of deliveries,
 * hiredis's copies of it, a Redis reply) was an mmap and a munmap, with
 * its pages faulted in and zeroed each time. Blocks up to 4 MiB now come
 * from the arenas.
 */
#define MAIN_TRIM_THRESHOLD (32 * 1024 * 1024)
#define MAIN_MMAP_THRESHOLD (4 * 1024 * 1024)

int
main(int argc, char **argv)
{
	struct config cfg;
	enum log_level level;
	int r;

	mallopt(M_TRIM_THRESHOLD, MAIN_TRIM_THRESHOLD);
	mallopt(M_MMAP_THRESHOLD, MAIN_MMAP_THRESHOLD);
	config_init(&cfg);
	if ((r = config_load(&cfg, argc, argv)) != 0) {
		config_clear(&cfg);
		return r > 0 ? 0 : 2;
	}
	if (log_level_parse(cfg.log_level, &level) < 0) {
		fprintf(stderr, "natterd: unknown log level %s\n",
		        cfg.log_level);
		config_clear(&cfg);
		return 2;
	}
	log_set_level(level);
	if (evthread_use_pthreads() < 0)
		fatal("evthread_use_pthreads failed");
	r = server_run(&cfg);
	config_clear(&cfg);
	return r;
}
