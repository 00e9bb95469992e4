#ifndef NATTER_DB_STORE_H
#define NATTER_DB_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The one storage interface the server calls. A struct store is one
 * connection, used by one thread at a time (each DB pool thread owns one).
 * Every call is blocking: call it from a DB thread, never a loop thread.
 *
 * Every function returns 0 or a negative errcode (errcode.h):
 * -ERR_UNAVAILABLE when the database cannot be reached (nothing was
 * stored), -ERR_INTERNAL for anything unexpected; others as documented.
 * Output structs are filled by the callee; strings in them are the
 * caller's, released with the matching *_free / *_clear function.
 */

struct store;

struct store_options {
	/* libsodium crypto_pwhash cost; 0 means the INTERACTIVE defaults. */
	unsigned long long pwhash_ops;
	size_t pwhash_mem;
	/*
	 * MariaDB: work as against a server without bulk execution and
	 * INSERT ... RETURNING (Oracle MySQL): a batch's rows inserted one
	 * by one, its seqs read back by a SELECT; for tests of that path.
	 */
	bool mysql_rows_each;
	/*
	 * SQLite: the WAL length in bytes at which the writer starts it over
	 * under load (0: 256 MiB, STORE_SQLITE_WAL_MAX); for tests.
	 */
	size_t sqlite_wal_max;
};

struct store_user {
	int64_t id;
	char *name;
	bool online; /* not stored: filled in by the server */
};

enum store_role { STORE_ROLE_MEMBER = 0, STORE_ROLE_CREATOR = 1 };

struct store_group {
	int64_t id;
	char *name;
	char *desc;
	enum store_role role; /* of the user who asked */
};

struct store_member {
	int64_t id;
	char *name;
	enum store_role role;
	bool online; /* not stored: filled in by the server */
};

/* A conversation id: "d:<low>:<high>" or "g:<group>". */
#define STORE_CONV_MAX 48

struct store_msg {
	char conv[STORE_CONV_MAX];
	int64_t seq;
	int64_t from_id;
	char *from_name;
	int64_t to_user;  /* set for a direct message, else 0 */
	int64_t to_group; /* set for a group message, else 0 */
	char *body;
	int64_t ts; /* ms since the epoch, server time */
	char *cmid;
	/*
	 * Set when from_name, body and cmid are the store_send's own strings
	 * (store_msg_append's new message): valid only while the caller
	 * keeps those, and store_msg_clear leaves them. Saves the writer
	 * three copies a message.
	 */
	bool lent;
};

/* Input of store_msg_append. Strings are borrowed. */
struct store_send {
	int64_t from_id;
	int64_t to_user; /* exactly one of to_user and to_group is non-zero */
	int64_t to_group;
	const char *body; /* body_len bytes, then a NUL */
	size_t body_len;
	const char *cmid;
	int64_t ts; /* ms since the epoch, chosen by the caller */
	/*
	 * Optional: the sender's name, known from the login. When set,
	 * store_msg_append gives it as out->from_name instead of looking the
	 * sender up, and a new message's strings are in's (out->lent); NULL
	 * looks it up, and out's strings are copies.
	 */
	const char *from_name;
};

/* An array of ids the caller frees with free(). */
struct store_ids {
	int64_t *ids;
	size_t n;
};

/*
 * Opens a connection for url: "sqlite:PATH" (the file is created if
 * missing) or, later, "mysql://USER:PASS@HOST:PORT/DB". On failure returns
 * a negative errcode and, if err is not NULL, a message in *err (caller
 * frees).
 */
int store_open(const char *url, const struct store_options *opt,
               struct store **out, char **err);
void store_close(struct store *st);

/*
 * Group commit: between store_batch_begin and store_batch_end every write
 * call runs in a savepoint of one transaction, committed (or rolled back)
 * as a whole by store_batch_end; a call that fails undoes only its own
 * writes. store_batch_begin returns 0, 1 if the backend does not batch
 * (each call then commits on its own, and store_batch_end is a no-op), or
 * a negative errcode. store_batch_end returns 0 or a negative errcode:
 * then nothing of the batch was stored (store_batch_end(st, false) always
 * returns one). Calls in a batch are never retried: once the batch's
 * transaction is lost (connection lost, deadlock), every later call of the
 * batch and store_batch_end fail with -ERR_UNAVAILABLE, and the next call
 * after the batch reconnects.
 */
int store_batch_begin(struct store *st);
int store_batch_end(struct store *st, bool commit);
/*
 * The most write calls a batch should hold on this backend (at most
 * limit): what one transaction amortises differs, from a local commit
 * (SQLite) to a dozen statements over the network (MariaDB).
 */
size_t store_batch_max(const struct store *st, size_t limit);
/*
 * Whether the next batch on this connection is cheap enough for an event
 * loop to run itself (dbpool.h): it waits for no disk and no network.
 * SQLite: yes, except near the WAL length at which a commit checkpoints
 * itself (15-30 ms). MariaDB: only with the server on this machine (its
 * socket or a loopback address) and the connection in the transaction
 * the last batch's end opened (used within 100 ms, nothing unasked from
 * the server), so that the batch will not reconnect.
 */
bool store_batch_cheap(struct store *st);

/*
 * Says that this connection will only store messages (store_msg_append,
 * store_msg_append_many): the DB pool's writer. A backend may then drop
 * the checks that the message path makes itself. SQLite turns foreign
 * keys off on it: every send reads the friendship or membership row in
 * its own transaction first, which implies the conversation and both
 * users exist (nothing deletes users or conversations), and the foreign
 * key lookups were 5% of natterd's instructions per message. MariaDB
 * turns foreign_key_checks off in the connection's session (again after
 * each reconnection). Returns 0 or a negative errcode.
 */
int store_sends_only(struct store *st);

/*
 * Checkpoints, for a store whose writes go to a log first (SQLite's WAL).
 * store_checkpoint_due says, on the connection that writes, whether enough
 * was logged since it last said so (true once per so much: the caller
 * then runs one); store_checkpoint, on another connection,
 * moves the log into the database without stopping the writer (and waits
 * for the disk: that is why it should not run on the writer). It returns
 * 1 when the log has grown long enough to be started over: the writer
 * should then call store_idle soon, while what is left to copy is what
 * was logged during this checkpoint. Else 0, or a negative errcode.
 * Other backends: never due, nothing to do.
 */
bool store_checkpoint_due(struct store *st);
int store_checkpoint(struct store *st);

/*
 * On the connection that writes, when store_checkpoint asked for it:
 * upkeep that stops it. SQLite checkpoints all of its WAL there, so that
 * the next commit starts the WAL over. Returns 0 or a negative errcode.
 */
int store_idle(struct store *st);
/*
 * On the connection that writes, after it has had nothing to do for a
 * while (DBPOOL_IDLE_MS): whether a checkpoint now (store_checkpoint, on
 * another connection), which nothing writing meanwhile lets copy all of
 * the log, is worth it, so that the next commit starts the log over.
 * SQLite: a WAL of STORE_SQLITE_IDLE_PAGES or more. Other backends: never.
 */
bool store_idle_due(struct store *st);

/* Applies pending schema migrations (versioned, idempotent). */
int store_migrate(struct store *st);

/* Formats a conversation id into buf (STORE_CONV_MAX bytes). */
void store_conv_direct(char *buf, int64_t a, int64_t b);
void store_conv_group(char *buf, int64_t gid);

/* --- users --- */

/* Validated name and password in; -ERR_NAME_TAKEN if the name exists. */
int store_user_register(struct store *st, const char *name,
                        const char *password, struct store_user *out);
/*
 * -ERR_BAD_CREDENTIALS for an unknown name or a wrong password alike; an
 * unknown name still costs one hash verification.
 */
int store_user_login(struct store *st, const char *name, const char *password,
                     struct store_user *out);
/* -ERR_NOT_FOUND if there is no such user. */
int store_user_get(struct store *st, int64_t id, struct store_user *out);
void store_user_clear(struct store_user *u);
void store_users_free(struct store_user *v, size_t n);

/* --- friends (mutual) --- */

/*
 * Makes uid and the user called name friends, both ways, and enters both in
 * their direct conversation. -ERR_NOT_FOUND for an unknown name,
 * -ERR_BAD_REQUEST for oneself. Adding an existing friend succeeds again;
 * *created says whether the friendship is new.
 */
int store_friend_add(struct store *st, int64_t uid, const char *name,
                     struct store_user *out, bool *created);
/* -ERR_NOT_FRIENDS if they are not friends (or fid does not exist). */
int store_friend_remove(struct store *st, int64_t uid, int64_t fid);
/* uid's friends, by name. */
int store_friends(struct store *st, int64_t uid, struct store_user **out,
                  size_t *n);
int store_friend_ids(struct store *st, int64_t uid, struct store_ids *out);

/* --- groups --- */

/* Creator becomes a member with role creator. -ERR_NAME_TAKEN. */
int store_group_create(struct store *st, int64_t uid, const char *name,
                       const char *desc, struct store_group *out);
/*
 * Joins by id (gid > 0) or by name. -ERR_NOT_FOUND, -ERR_ALREADY_MEMBER.
 * The member's delivered cursor starts at the group's last seq: history is
 * there, but sync does not replay what was said before joining.
 */
int store_group_join(struct store *st, int64_t uid, int64_t gid,
                     const char *name, struct store_group *out);
/* -ERR_NOT_FOUND (no group), -ERR_NOT_MEMBER. */
int store_group_leave(struct store *st, int64_t uid, int64_t gid);
int store_groups(struct store *st, int64_t uid, struct store_group **out,
                 size_t *n);
/* -ERR_NOT_FOUND, -ERR_NOT_MEMBER if uid is not in the group. */
int store_group_members(struct store *st, int64_t uid, int64_t gid,
                        struct store_member **out, size_t *n);
int store_group_member_ids(struct store *st, int64_t gid,
                           struct store_ids *out);
void store_group_clear(struct store_group *g);
void store_groups_free(struct store_group *v, size_t n);
void store_members_free(struct store_member *v, size_t n);

/* --- messages --- */

/*
 * Stores a message, allocating its seq inside the transaction. Checks:
 * -ERR_NOT_FOUND (no such user or group), -ERR_NOT_FRIENDS (also for
 * oneself), -ERR_NOT_MEMBER; -ERR_BAD_REQUEST unless exactly one target.
 * If the sender already used cmid, returns the first message and sets
 * *dup; nothing new is stored. On success *out is the stored message
 * (lent in's strings, store_msg.lent, if new and in->from_name is set) and,
 * if rcpt is not NULL, rcpt holds the ids who should get it live (both
 * sides of a direct conversation, or every member of the group, sender
 * included).
 */
int store_msg_append(struct store *st, const struct store_send *in,
                     struct store_msg *out, bool *dup, struct store_ids *rcpt);
/*
 * n store_msg_append calls in one, in order: res[i] is what the i-th call
 * would return and out[i], dup[i], rcpt[i] (rcpt may be NULL) what it
 * would fill; messages of one conversation get their seqs in input order.
 * Meant for a batch (store_batch_begin), where a backend may take fewer
 * round trips (MariaDB); the default makes the n calls. If the batch's
 * transaction is lost nothing of the n is stored and store_batch_end
 * fails: a backend's bulk path then returns a negative errcode with every
 * res[i] an error, the default's calls fail from the loss on (those
 * before it may read 0; store_batch_end's failure overrules them).
 * Otherwise returns 0.
 */
int store_msg_append_many(struct store *st, const struct store_send *in,
                          size_t n, struct store_msg *out, bool *dup,
                          struct store_ids *rcpt, int *res);
/*
 * Messages above uid's cursor in each of its conversations, oldest first,
 * at most limit; *more says whether more are waiting. Each conversation's
 * messages come in seq order, whatever their ts, so what a limit cuts off
 * is always a conversation's tail. Across conversations, the order they
 * were stored in (MariaDB: by the storing node's clock, syncorder.h).
 */
int store_sync(struct store *st, int64_t uid, size_t limit,
               struct store_msg **out, size_t *n, bool *more);
/*
 * Moves uid's cursor in conv forward to seq (never back; clamped to the
 * conversation's last seq). -ERR_NOT_MEMBER if uid is not in conv (or conv
 * does not exist), -ERR_BAD_REQUEST for a malformed conv.
 */
int store_ack(struct store *st, int64_t uid, const char *conv, int64_t seq);
/*
 * Up to limit messages of conv with seq < before (before 0: the newest),
 * oldest first. -ERR_NOT_MEMBER as for store_ack.
 */
int store_history(struct store *st, int64_t uid, const char *conv,
                  int64_t before, size_t limit, struct store_msg **out,
                  size_t *n);
void store_msg_clear(struct store_msg *m);
void store_msgs_free(struct store_msg *v, size_t n);

#endif
