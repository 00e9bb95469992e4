#ifndef NATTER_TESTS_UNIT_DB_H
#define NATTER_TESTS_UNIT_DB_H

/*
 * Helpers for the unit programs of db/ (test-db-*.c), on top of unit.h:
 * a store opened the way the tests want it, and an SQLite file's removal.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "store.h"
#include "unit.h"
#include "xmalloc.h"

/*
 * A store on url, migrated, with the cheapest password hashing; exits on
 * failure (nothing else in a test could go on). The caller closes it.
 */
static inline struct store *
unit_db_open(const char *url)
{
	struct store_options opt = {.pwhash_ops = crypto_pwhash_OPSLIMIT_MIN,
	                            .pwhash_mem = crypto_pwhash_MEMLIMIT_MIN};
	struct store *st = NULL;
	char *err = NULL;

	if (store_open(url, &opt, &st, &err) < 0) {
		fprintf(stderr, "%s: %s\n", url, err != NULL ? err : "?");
		free(err);
		exit(1);
	}
	CHECK_EQ_INT(store_migrate(st), 0);
	return st;
}

/* Removes the SQLite database at path with its -wal and -shm files. */
static inline void
unit_db_unlink(const char *path)
{
	static const char *const sfx[] = {"", "-wal", "-shm"};
	char *p;
	size_t i;

	for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		p = xasprintf("%s%s", path, sfx[i]);
		unlink(p);
		free(p);
	}
}

#endif
