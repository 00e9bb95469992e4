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

#endif
