#ifndef NATTER_DB_PWHASH_H
#define NATTER_DB_PWHASH_H

#include <stdbool.h>
#include <stddef.h>

#include "store.h"

/*
 * Password hashing for every backend: argon2id through libsodium's
 * crypto_pwhash_str_alg, cost from store_options. Blocking and slow by
 * design: DB threads only.
 */

/* Room for an encoded hash, NUL included (crypto_pwhash_STRBYTES). */
#define PWHASH_MAX 128

/* Initialises libsodium; safe to call again, from any thread. */
int pwhash_init(void);
/* Hashes password into out; 0 or -ERR_INTERNAL. */
int pwhash_make(const struct store_options *opt, const char *password,
                char out[PWHASH_MAX]);
/* Whether password matches the encoded hash. */
bool pwhash_check(const char *hash, const char *password);

/*
 * Argon2's memory. libsodium maps a fresh area for every hash (64 MiB at
 * its interactive cost) and unmaps it afterwards; the kernel then faults
 * in and zeroes every page again, which on the VMs measured took two
 * thirds of a login's time (doc/performance.md). A thread that called
 * pwhash_keep_area instead keeps the area of its last hash for its next
 * one of the same size, until pwhash_release_area: the DB pool's general
 * threads keep it while logins queue up and release it when their queue
 * runs dry, so an idle server holds none. How: pwhash.c defines mmap and
 * munmap for the whole program (a program's definition wins over libc's)
 * and lends the kept area to libsodium's mapping inside a hash; every
 * other call is the plain system call. Not in sanitizer builds, whose
 * runtimes intercept mmap themselves.
 */
void pwhash_keep_area(void);
/* Unmaps the area this thread keeps, if any; its next hash keeps one again. */
void pwhash_release_area(void);
/* Bytes of the area this thread keeps now; 0 if none. */
size_t pwhash_area_kept(void);

#endif
