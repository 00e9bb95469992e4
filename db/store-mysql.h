#ifndef NATTER_DB_STORE_MYSQL_H
#define NATTER_DB_STORE_MYSQL_H

#include <stdbool.h>

#include <mysql.h>

#include "store.h"

/*
 * Internal to db/: the parts of the MariaDB backend (store-mysql.c) that
 * its bulk message path (store-mysql-bulk.c) builds on. A struct
 * store_mysql is one connection, used by one thread.
 */
struct store_mysql;

/* The live connection, or NULL while disconnected. */
MYSQL *store_mysql_conn(struct store_mysql *s);
/*
 * Whether a store URL's server is on this machine: a Unix socket, host
 * "localhost", or a loopback address (127.0.0.0/8, ::1). Names are not
 * resolved: any other host counts as remote.
 */
bool store_mysql_host_local(const char *host, const char *socket);
/* Whether a group commit (store_batch_begin) is open. */
bool store_mysql_batching(const struct store_mysql *s);
/* Whether the open batch's transaction is lost (connection gone too). */
bool store_mysql_lost(struct store_mysql *s);
/*
 * Maps the connection's last error (mysql_real_query & co.) to an errcode
 * as every call does: a lost connection or a deadlock loses the batch.
 */
int store_mysql_conn_fail(struct store_mysql *s, const char *what);
/*
 * Sets the batch's savepoint (replacing the last one): 0 or an errcode;
 * -ERR_UNAVAILABLE and the batch lost if its transaction is gone.
 * store_mysql_rollback_savepoint undoes what ran since; if that fails the
 * batch is lost.
 */
int store_mysql_savepoint(struct store_mysql *s);
void store_mysql_rollback_savepoint(struct store_mysql *s);
/*
 * The checks of store_msg_append (no writes): 0 if in->from_id may send
 * to the target, else -ERR_NOT_FOUND, -ERR_NOT_FRIENDS, -ERR_NOT_MEMBER or
 * a failure. Writes the conversation id into conv; rcpt as in store.h
 * (NULL: not wanted).
 */
int store_mysql_msg_check(struct store_mysql *s, const struct store_send *in,
                          char *conv, struct store_ids *rcpt);
/* A friendship (user, friend) or a membership (group, user). */
struct store_mysql_pair {
	int64_t a, b;
};

/* The rows of the one-row-each table social_epoch (schemas 2 and 3). */
enum store_mysql_epoch_id {
	STORE_MYSQL_EPOCH_FRIENDS = 1, /* bumped by every friendship removal */
	STORE_MYSQL_EPOCH_MEMBERS = 2, /* by every group join and leave */
};

/*
 * What the bulk path has read, kept across batches while the epoch it
 * was read under holds: the friendships it found, or the whole member
 * lists of the groups it sent to (a group is known if it has a pair
 * here; empty lists are not kept). Sorted; forgotten when the connection
 * is lost; about STORE_MYSQL_KNOWN_MAX pairs at most.
 */
struct store_mysql_known {
	bool valid; /* epoch was read on this connection */
	int64_t epoch;
	struct store_mysql_pair *v;
	size_t n, cap;
};

#define STORE_MYSQL_KNOWN_MAX ((size_t)1 << 16)

/* s's known friendships or member lists (owned by s). */
struct store_mysql_known *store_mysql_known(struct store_mysql *s,
                                            enum store_mysql_epoch_id which);

/* Reads an epoch into *epoch: 0, or a negative errcode. */
int store_mysql_epoch(struct store_mysql *s, enum store_mysql_epoch_id which,
                      int64_t *epoch);

/*
 * Rows for store_mysql_insert_rows, column by column: n of each; an
 * indicator STMT_INDICATOR_NULL makes that row's value NULL.
 */
struct store_mysql_rows {
	const char **conv;
	unsigned long *conv_len;
	long long *seq, *sender, *to_user, *to_group, *ts, *ord;
	char *to_user_ind, *to_group_ind;
	const char **body;
	unsigned long *body_len;
	const char **cmid;
	unsigned long *cmid_len;
	char *cmid_ind;
};

/*
 * Inserts n messages with one execution of a prepared INSERT bound to
 * arrays (MariaDB's bulk execution: no SQL text for mariadbd to parse):
 * 0, 1 if a row's key is taken (the rows before it stay inserted), or an
 * errcode as any call's.
 */
int store_mysql_insert_rows(struct store_mysql *s,
                            const struct store_mysql_rows *r, size_t n);

/*
 * The next new message's messages.ord, the order sync returns them in:
 * the clock in microseconds, above the connection's last (schema 4 says
 * why ids sort below).
 */
int64_t store_mysql_ord_next(struct store_mysql *s);

/*
 * The next seq of in's conversation as this connection last took it, or
 * 0 if it does not remember (store-mysql.c says when a hint holds).
 */
int64_t store_mysql_seq_hint(struct store_mysql *s,
                             const struct store_send *in);
/* Notes next as that conversation's next seq, after an insert. */
void store_mysql_seq_note(struct store_mysql *s, const struct store_send *in,
                          int64_t next);
/* Forgets every hint: after a rollback, or when a key was taken. */
void store_mysql_seq_forget(struct store_mysql *s);

/*
 * The last seq of conversation c (SQL text), NULL if it has none: one
 * entry of the key read backwards. MAX(seq) would do the same only where
 * c is a constant; correlated to an outer row, MariaDB 10.11 reads the
 * whole conversation for it (600 ms for a million messages, measured).
 * _LOCKED, for a writer taking the next seq, waits for another writer's
 * insert still uncommitted there, which a plain read would not see (a
 * FOR UPDATE of the outer query would not lock the subquery's rows).
 */
#define STORE_MYSQL_LAST_SEQ_AS(c, lock)                                       \
	"(SELECT ls.seq FROM messages ls WHERE ls.conv = " c                   \
	" ORDER BY ls.seq DESC LIMIT 1" lock ")"
#define STORE_MYSQL_LAST_SEQ(c) STORE_MYSQL_LAST_SEQ_AS(c, "")
#define STORE_MYSQL_LAST_SEQ_LOCKED(c) STORE_MYSQL_LAST_SEQ_AS(c, " FOR UPDATE")

/* store_msg_append on a struct store_mysql (c). */
int store_mysql_msg_append(void *c, const struct store_send *in,
                           struct store_msg *out, bool *dup,
                           struct store_ids *rcpt);

#endif
