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
 */
#define MAIN_TRIM_THRESHOLD (32 * 1024 * 1024)

int
main(int argc, char **argv)
{
	struct config cfg;
	enum log_level level;
	int r;

	mallopt(M_TRIM_THRESHOLD, MAIN_TRIM_THRESHOLD);
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
