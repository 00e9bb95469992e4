#ifndef NATTER_DB_STORE_COMMON_H
#define NATTER_DB_STORE_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

/*
 * Internal to db/: the parts of a send's and a login's rules that do not
 * depend on the database, shared by the backends (store-sqlite.c,
 * store-mysql.c, store-mysql-bulk.c).
 */

/*
 * Fills out with the message in stored as (conv, seq). With in->from_name
 * set, out lends in's strings (store_msg.lent) and from_name must be
 * NULL; else out takes from_name (the sender's, looked up) and copies the
 * body and the cmid.
 */
void store_common_msg_fill(const struct store_send *in, const char *conv,
                           int64_t seq, char *from_name, struct store_msg *out);

/* Reverses v[0..n) in place (newest-first rows into oldest-first). */
void store_common_msgs_reverse(struct store_msg *v, size_t n);

/* Whether r is a send's refusal (no such target, not allowed). */
bool store_common_refused(int r);

/*
 * The key of in's conversation, for tables in memory keyed by a pair
 * (pairtab): both users, lower first, or 0 and the group.
 */
void store_common_conv_key(const struct store_send *in, int64_t *a, int64_t *b);

/*
 * Who gets a direct message live: its two sides, in rcpt (the caller
 * frees rcpt->ids).
 */
void store_common_rcpt_direct(const struct store_msg *m,
                              struct store_ids *rcpt);

/*
 * A login with an unknown name costs what a wrong password does: checks
 * password against a dummy hash, made on first use into *dummy (the
 * caller's to free). Returns -ERR_BAD_CREDENTIALS.
 */
int store_common_login_unknown(char **dummy, const struct store_options *opt,
                               const char *password);

struct schema_step;

/*
 * Whether the database's newest recorded schema version, have, is newer
 * than the newest of steps (the binary's migrations): then a newer
 * natterd migrated it, and this one must not run on it (it would not keep
 * what the newer schema promises, such as bumping social_epoch). Logs why,
 * with where (the database) first, and returns -ERR_INTERNAL; else 0.
 */
int store_common_schema_newer(const struct schema_step *steps, int64_t have,
                              const char *where);

#endif
