/* Retry delays with jitter, and the random bytes behind them and cmids. */
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "backoff.h"

/* A last resort if getrandom fails: splitmix64 over the clock. */
static void
backoff_weak_random(unsigned char *p, size_t n)
{
	static uint64_t state;
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	state ^= (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32);
	while (n > 0) {
		uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
		size_t k = n < sizeof(z) ? n : sizeof(z);

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		z ^= z >> 31;
		memcpy(p, &z, k);
		p += k;
		n -= k;
	}
}

/* Kernel randomness; GRND_NONBLOCK so an early-boot pool cannot hang us. */
void
backoff_random(void *buf, size_t n)
{
	unsigned char *p = buf;

	while (n > 0) {
		ssize_t r = getrandom(p, n, GRND_NONBLOCK);

		if (r <= 0) {
			backoff_weak_random(p, n);
			return;
		}
		p += r;
		n -= (size_t)r;
	}
}

/* Doubling capped at max_ms, then jitter down to half of it. */
unsigned
backoff_delay_ms(unsigned attempt, unsigned base_ms, unsigned max_ms)
{
	uint64_t d = base_ms;
	uint32_t rnd;

	for (unsigned i = 0; i < attempt && d < max_ms; i++)
		d *= 2;
	if (d > max_ms)
		d = max_ms;
	if (d < 2)
		return (unsigned)d;
	backoff_random(&rnd, sizeof(rnd));
	return (unsigned)(d / 2 + rnd % (d - d / 2 + 1));
}
