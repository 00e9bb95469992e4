#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <sodium.h>

#include "errcode.h"
#include "log.h"
#include "pwhash.h"

_Static_assert(PWHASH_MAX == crypto_pwhash_STRBYTES, "PWHASH_MAX");

#if defined(_FILE_OFFSET_BITS) && _FILE_OFFSET_BITS == 64
/* sys/mman.h would rename the mmap defined below to mmap64. */
#error "db/pwhash.c defines mmap: build it without _FILE_OFFSET_BITS=64"
#endif

/*
 * This thread's Argon2 area (pwhash.h). hashing: inside libsodium's
 * crypto_pwhash on this thread; lent: libsodium holds the area (between
 * its mmap and its munmap).
 */
static _Thread_local struct {
	bool keep;
	bool hashing;
	bool lent;
	void *base;
	size_t size;
} pwhash_area;

static int
pwhash_sys_munmap(void *addr, size_t len)
{
	return (int)syscall(SYS_munmap, addr, len);
}

/* Unmaps the kept area unless libsodium holds it. */
static void
pwhash_area_unmap(void)
{
	if (pwhash_area.base == NULL || pwhash_area.lent)
		return;
	if (pwhash_sys_munmap(pwhash_area.base, pwhash_area.size) != 0)
		log_warn("pwhash: munmap: %s", strerror(errno));
	pwhash_area.base = NULL;
	pwhash_area.size = 0;
}

#ifndef NATTER_SANITIZED
static void *
pwhash_sys_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

/*
 * libsodium's mapping of len bytes (flags: private, anonymous, perhaps
 * populated), from the kept area, mapped first if need be.
 */
static void *
pwhash_area_lend(size_t len, int flags)
{
	void *p;

	if (pwhash_area.base != NULL && pwhash_area.size != len)
		pwhash_area_unmap(); /* another cost: not worth keeping */
	if (pwhash_area.base == NULL) {
		p = pwhash_sys_mmap(NULL, len, PROT_READ | PROT_WRITE, flags,
		                    -1, 0);
		if (p == MAP_FAILED)
			return p;
		pwhash_area.base = p;
		pwhash_area.size = len;
	}
	pwhash_area.lent = true;
	return pwhash_area.base;
}

/*
 * libc's mmap and munmap for the whole program: the plain system calls,
 * except libsodium's one anonymous mapping inside a hash on a thread that
 * keeps its area (Argon2 never reads a block before writing it in the
 * same hash, so what the last hash left there does not matter; it stays
 * in memory until the next hash or the release, as the stored hashes do
 * in the database's pages).
 */
void *
mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	if (pwhash_area.hashing && pwhash_area.keep && !pwhash_area.lent &&
	    addr == NULL && fd == -1 && prot == (PROT_READ | PROT_WRITE) &&
	    (flags & ~MAP_POPULATE) == (MAP_PRIVATE | MAP_ANONYMOUS))
		return pwhash_area_lend(len, flags);
	return pwhash_sys_mmap(addr, len, prot, flags, fd, off);
}

int
munmap(void *addr, size_t len)
{
	if (pwhash_area.lent && addr == pwhash_area.base) {
		pwhash_area.lent = false; /* kept for the next hash */
		return 0;
	}
	return pwhash_sys_munmap(addr, len);
}
#endif

void
pwhash_keep_area(void)
{
	pwhash_area.keep = true;
}

void
pwhash_release_area(void)
{
	pwhash_area_unmap();
}

size_t
pwhash_area_kept(void)
{
	return pwhash_area.size;
}

/* Marks a libsodium hash on this thread, for mmap above. */
static void
pwhash_hashing(bool on)
{
	pwhash_area.hashing = on;
	pwhash_area.lent = false; /* libsodium unmapped it, or failed to map */
}

/* sodium_init picks its implementations once; later calls return 1. */
int
pwhash_init(void)
{
	if (sodium_init() < 0) {
		log_error("%s: sodium_init failed", __func__);
		return -ERR_INTERNAL;
	}
	return 0;
}

/* Argon2id with the configured cost, or libsodium's interactive default. */
int
pwhash_make(const struct store_options *opt, const char *password,
            char out[PWHASH_MAX])
{
	unsigned long long ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
	size_t mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
	int r;

	if (opt != NULL && opt->pwhash_ops != 0)
		ops = opt->pwhash_ops;
	if (opt != NULL && opt->pwhash_mem != 0)
		mem = opt->pwhash_mem;
	pwhash_hashing(true);
	r = crypto_pwhash_str_alg(out, password, strlen(password), ops, mem,
	                          crypto_pwhash_ALG_ARGON2ID13);
	pwhash_hashing(false);
	if (r != 0) {
		log_error(
		    "%s: crypto_pwhash_str_alg failed (ops %llu, mem %zu)",
		    __func__, ops, mem);
		return -ERR_INTERNAL;
	}
	return 0;
}

/* The hash string names its own algorithm and cost. */
bool
pwhash_check(const char *hash, const char *password)
{
	char buf[PWHASH_MAX];
	int r;

	/* crypto_pwhash_str_verify reads a fixed-size buffer. */
	memset(buf, 0, sizeof(buf));
	strncpy(buf, hash, sizeof(buf) - 1);
	pwhash_hashing(true);
	r = crypto_pwhash_str_verify(buf, password, strlen(password));
	pwhash_hashing(false);
	return r == 0;
}
