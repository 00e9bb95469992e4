#include <string.h>

#include <sodium.h>

#include "errcode.h"
#include "log.h"
#include "pwhash.h"

_Static_assert(PWHASH_MAX == crypto_pwhash_STRBYTES, "PWHASH_MAX");

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

	if (opt != NULL && opt->pwhash_ops != 0)
		ops = opt->pwhash_ops;
	if (opt != NULL && opt->pwhash_mem != 0)
		mem = opt->pwhash_mem;
	if (crypto_pwhash_str_alg(out, password, strlen(password), ops, mem,
	                          crypto_pwhash_ALG_ARGON2ID13) != 0) {
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

	/* crypto_pwhash_str_verify reads a fixed-size buffer. */
	memset(buf, 0, sizeof(buf));
	strncpy(buf, hash, sizeof(buf) - 1);
	return crypto_pwhash_str_verify(buf, password, strlen(password)) == 0;
}
