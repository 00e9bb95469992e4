/*
 * pwhash.h: hashes made and checked while a thread keeps Argon2's area
 * are the same as without it (a hash made one way checks the other way,
 * a wrong password fails either way), the area is kept at the size of
 * the last hash and goes on release, a thread that does not keep one has
 * none, and the program's other mmap/munmap calls are untouched.
 */
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>

#include "pwhash.h"
#include "unit.h"

#define TEST_KIB 64 /* a cheap cost, so the test is quick */

static const struct store_options test_small = {.pwhash_ops = 1,
                                                .pwhash_mem = TEST_KIB * 1024};
static const struct store_options test_big = {
    .pwhash_ops = 1, .pwhash_mem = 2 * TEST_KIB * 1024};

/* Whether areas are kept in this build (not under a sanitizer). */
static size_t
test_expect(size_t bytes)
{
#ifdef NATTER_SANITIZED
	(void)bytes;
	return 0;
#else
	return bytes;
#endif
}

/* A hash made on a thread that keeps no area. */
static void *
test_plain_make(void *arg)
{
	CHECK_EQ_INT(pwhash_make(&test_small, "plain secret", arg), 0);
	CHECK_EQ_INT(pwhash_area_kept(), 0);
	return NULL;
}

/* An ordinary anonymous mapping on a keeping thread: a mapping of its own. */
static void
test_other_mappings(void)
{
	char *p = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	CHECK(p != MAP_FAILED);
	if (p == MAP_FAILED)
		return;
	memset(p, 'x', 1 << 16);
	CHECK_EQ_INT(munmap(p, 1 << 16), 0);
	/* A bad call still fails as the system call does. */
	CHECK(mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) ==
	      MAP_FAILED);
}

int
main(void)
{
	char kept[PWHASH_MAX], plain[PWHASH_MAX], again[PWHASH_MAX];
	pthread_t t;
	size_t area;

	CHECK_EQ_INT(pwhash_init(), 0);
	pthread_create(&t, NULL, test_plain_make, plain);
	pthread_join(t, NULL);

	pwhash_keep_area();
	CHECK_EQ_INT(pwhash_area_kept(), 0); /* none before the first hash */
	CHECK_EQ_INT(pwhash_make(&test_small, "kept secret", kept), 0);
	area = pwhash_area_kept();
	CHECK_EQ_INT(area, test_expect(TEST_KIB * 1024));

	/* Reused: checks agree with hashes made without the area. */
	CHECK(pwhash_check(plain, "plain secret"));
	CHECK(!pwhash_check(plain, "plain secreT"));
	CHECK(pwhash_check(kept, "kept secret"));
	CHECK(!pwhash_check(kept, "kept secre"));
	CHECK_EQ_INT(pwhash_area_kept(), area);
	test_other_mappings();
	CHECK_EQ_INT(pwhash_area_kept(), area);

	/* Another cost: the area follows the last hash's size. */
	CHECK_EQ_INT(pwhash_make(&test_big, "kept secret", again), 0);
	CHECK_EQ_INT(pwhash_area_kept(), test_expect(2 * TEST_KIB * 1024));
	CHECK(pwhash_check(again, "kept secret"));
	CHECK(pwhash_check(kept, "kept secret"));
	CHECK_EQ_INT(pwhash_area_kept(), test_expect(TEST_KIB * 1024));

	pwhash_release_area();
	CHECK_EQ_INT(pwhash_area_kept(), 0);
	CHECK(pwhash_check(kept, "kept secret")); /* keeps one again */
	CHECK_EQ_INT(pwhash_area_kept(), test_expect(TEST_KIB * 1024));
	pwhash_release_area();

	/* A hash made with the area checks on a thread without one. */
	pthread_create(&t, NULL, test_plain_make, plain);
	pthread_join(t, NULL);
	CHECK(pwhash_check(plain, "plain secret"));
	pwhash_release_area();
	return UNIT_END();
}
