#ifndef NATTER_DB_SCHEMA_H
#define NATTER_DB_SCHEMA_H

/*
 * Schema migrations embedded at build time (embed-schema.cmake turns
 * schema/<dialect>/NNN-*.sql into schema-<dialect>.c). Each array is in
 * version order and ends with a step whose version is 0. A backend applies
 * each version it has not recorded in its schema_version table, in one
 * transaction per version.
 */
struct schema_step {
	int version;
	const char *name; /* file stem, e.g. "001-init" */
	const char *sql;  /* one or more statements */
};

extern const struct schema_step schema_sqlite[];
extern const struct schema_step schema_mysql[];

/* The newest version of steps (the last before the 0 that ends them). */
static inline int
schema_newest(const struct schema_step *steps)
{
	int v = 0;

	for (; steps->version != 0; steps++)
		v = steps->version;
	return v;
}

/*
 * A database whose schema_version names a version newer than the binary
 * knows was migrated by a newer natterd: an older one must not run on it
 * (it would not keep what the newer schema promises, such as bumping the
 * epochs in social_epoch). Backends refuse to migrate it.
 */
#define SCHEMA_NEWER_MSG                                                       \
	"the database's schema is version %lld, newer than this natterd's "    \
	"%d: run a natterd at least as new as the one that migrated it"

#endif
