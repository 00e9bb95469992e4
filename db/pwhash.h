#ifndef NATTER_DB_PWHASH_H
#define NATTER_DB_PWHASH_H

#include <stdbool.h>

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

#endif
