#include <arpa/inet.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>

#include "errcode.h"
#include "log.h"
#include "pairtab.h"
#include "pwhash.h"
#include "schema.h"
#include "store-backend.h"
#include "store-common.h"
#include "store-mysql-bulk.h"
#include "store-mysql.h"
#include "syncorder.h"
#include "xmalloc.h"

/*
 * The MariaDB/MySQL backend (MariaDB Connector/C). One connection per
 * struct store_mysql, used by one thread. Every statement is prepared
 * (mysql_stmt_*) and cached per connection; only the embedded schema DDL
 * goes through mysql_real_query.
 *
 * Sessions run READ COMMITTED with utf8mb4. A conversation's last seq is
 * the end of its range of the messages table's primary key (conv, seq):
 * a new message takes the next one, and the key refuses a seq another
 * writer took first. The writer remembers the next seq of the
 * conversations it wrote (store_mysql_seq_hint), so a batch usually
 * reads none; a hint comes only from this connection's own inserts, so
 * it can be behind (another node wrote since: the insert finds the key
 * taken and the batch runs again, reading) but never ahead, and every
 * rollback forgets them all. A writer takes seq n + 1 only once n is
 * committed or its own, so commit order is still seq order. (Before
 * schema 5, every batch upserted a counter, conversations.last_seq: a
 * sixth of mariadbd's time at 20k msg/s; doc/performance.md.)
 *
 * Failures: a lost connection (server gone, KILL, wait_timeout, restart)
 * marks the connection dead; the next call reconnects (a short connect
 * timeout) and re-prepares. A call that failed before its COMMIT is
 * retried once on a new connection, and a deadlock is retried too, so
 * nothing half-done is ever reported as done. A COMMIT whose outcome is
 * unknown is reported -ERR_UNAVAILABLE: the client retries with the same
 * cmid, which UNIQUE(sender, cmid) deduplicates. No auto-reconnect: it
 * would drop the session settings and prepared statements silently.
 *
 * Group commit (store_batch_begin): one transaction, each write call in a
 * savepoint. Nothing in a batch reconnects or retries on a new connection
 * (it would run outside the batch's transaction): once the transaction is
 * lost (connection gone, deadlock, or the server rolled it back) every
 * later call of the batch and its end fail -ERR_UNAVAILABLE, and the next
 * call after the batch reconnects.
 */

#define STORE_MYSQL_TRIES 4       /* attempts per call */
#define STORE_MYSQL_SEQ_TRIES 8   /* seqs taken first by others, per insert */
#define STORE_MYSQL_CONNECT_S 2   /* connect timeout */
#define STORE_MYSQL_IO_S 10       /* read and write timeouts */
#define STORE_MYSQL_REDIAL_MS 200 /* between failed connects */
#define STORE_MYSQL_PARAMS 9      /* most ? in one statement */
#define STORE_MYSQL_COLS 10       /* most columns in one result */
/* A string column's buffer; longer values come by mysql_stmt_fetch_column. */
#define STORE_MYSQL_BUF 256
#define STORE_MYSQL_LIMIT_MAX ((size_t)1 << 30)
/*
 * The most sends in one transaction. A batch costs about a dozen
 * statements whatever its size, and once mariadbd and natterd fill their
 * core the backlog must go in fewer, larger batches: at 20k msg/s, 256 a
 * batch left the rate unheld in some runs (p99 175 ms to 3.3 s), 1024
 * held it in every run (p99 40-59 ms).
 */
#define STORE_MYSQL_BATCH_MAX 1024
/* How long the transaction a batch's end opens serves the next batch. */
#define STORE_MYSQL_CHAIN_MS 100
#define STORE_MYSQL_LOCK "natter-migrate"
/*
 * How long a node waits for another's migration: rebuilding a big table
 * takes minutes (schema 4: some 4 s a million messages). The read
 * timeout does not cut such a wait short (measured).
 */
#define STORE_MYSQL_LOCK_S "3600"
/* The fewest messages sync reads of a conversation at a time. */
#define STORE_MYSQL_SYNC_SHARE 32
/* Conversations whose next seq the writer remembers (direct-mapped). */
#define STORE_MYSQL_SEQ_HINTS 4096
/*
 * The last seq (STORE_MYSQL_LAST_SEQ) of conversation v.id, of the one
 * bound, and of member row c's: 0 if none.
 */
#define STORE_MYSQL_END_V "COALESCE(" STORE_MYSQL_LAST_SEQ("v.id") ", 0)"
#define STORE_MYSQL_END_ARG "COALESCE(" STORE_MYSQL_LAST_SEQ("?") ", 0)"
#define STORE_MYSQL_END_C "COALESCE(" STORE_MYSQL_LAST_SEQ("c.conv") ", 0)"

/* A message's columns (store_mysql_msg_row), and where they come from. */
#define STORE_MYSQL_MSG_LIST                                                   \
	"m.conv, m.seq, m.sender, u.name, m.to_user, m.to_group, m.body, "     \
	"m.ts, m.cmid"
#define STORE_MYSQL_MSG_FROM " FROM messages m JOIN users u ON u.id = m.sender"
#define STORE_MYSQL_MSG_COLS "SELECT " STORE_MYSQL_MSG_LIST STORE_MYSQL_MSG_FROM

/* Every statement the backend runs, prepared once per connection. */
enum store_mysql_sq {
	SQ_BEGIN,
	SQ_COMMIT,
	SQ_COMMIT_CHAIN,
	SQ_ROLLBACK,
	SQ_ROLLBACK_CHAIN,
	SQ_SAVEPOINT,
	SQ_ROLLBACK_TO,
	SQ_LOCK,
	SQ_UNLOCK,
	SQ_VERSION_TABLE,
	SQ_VERSION_HAS,
	SQ_VERSION_ADD,
	SQ_VERSION_MAX,
	SQ_USER_BY_NAME,
	SQ_USER_ID_BY_NAME,
	SQ_USER_BY_ID,
	SQ_USER_INSERT,
	SQ_FRIEND_CHECK,
	SQ_FRIEND_INSERT,
	SQ_FRIEND_DELETE,
	SQ_FRIENDS,
	SQ_FRIEND_IDS,
	SQ_CONV_ENSURE,
	SQ_CONV_ENTER,
	SQ_CONV_REENTER,
	SQ_CONV_LEAVE,
	SQ_GROUP_BY_ID,
	SQ_GROUP_BY_NAME,
	SQ_GROUP_INSERT,
	SQ_MEMBER_ROLE,
	SQ_MEMBER_INSERT,
	SQ_MEMBER_DELETE,
	SQ_GROUPS,
	SQ_MEMBERS,
	SQ_MEMBER_IDS,
	SQ_MSG_BY_CMID,
	SQ_SEQ_LAST,
	SQ_MSG_INSERT,
	SQ_MSG_INSERT_ROWS,
	SQ_EPOCH_READ,
	SQ_EPOCH_BUMP,
	SQ_SYNC_CONVS,
	SQ_SYNC_CONV,
	SQ_MEMBER_CONV,
	SQ_ACK,
	SQ_HISTORY,
	SQ__COUNT
};

/* A statement and the types of its result columns: 'i' int, 's' text. */
struct store_mysql_sql {
	const char *sql;
	const char *cols;
};

#define STORE_MYSQL_MSG_INSERT                                                 \
	"INSERT INTO messages(conv, seq, sender, to_user, to_group, body, "    \
	"ts, cmid, ord) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)"

static const struct store_mysql_sql store_mysql_sql[SQ__COUNT] = {
    [SQ_BEGIN] = {"START TRANSACTION", ""},
    [SQ_COMMIT] = {"COMMIT", ""},
    /* Ends a batch and opens the next one's transaction, empty. */
    [SQ_COMMIT_CHAIN] = {"COMMIT AND CHAIN", ""},
    [SQ_ROLLBACK] = {"ROLLBACK", ""},
    [SQ_ROLLBACK_CHAIN] = {"ROLLBACK AND CHAIN", ""},
    /* Setting a savepoint again replaces it: no RELEASE needed. */
    [SQ_SAVEPOINT] = {"SAVEPOINT natter_call", ""},
    [SQ_ROLLBACK_TO] = {"ROLLBACK TO SAVEPOINT natter_call", ""},
    [SQ_LOCK] = {"SELECT GET_LOCK('" STORE_MYSQL_LOCK "', " STORE_MYSQL_LOCK_S
                 ")",
                 "i"},
    [SQ_UNLOCK] = {"SELECT RELEASE_LOCK('" STORE_MYSQL_LOCK "')", "i"},
    [SQ_VERSION_TABLE] = {"CREATE TABLE IF NOT EXISTS schema_version ("
                          "version INT NOT NULL PRIMARY KEY, "
                          "name VARCHAR(255) NOT NULL, "
                          "applied BIGINT NOT NULL) ENGINE=InnoDB "
                          "DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
                          ""},
    [SQ_VERSION_HAS] = {"SELECT 1 FROM schema_version WHERE version = ?", "i"},
    [SQ_VERSION_MAX] = {"SELECT COALESCE(MAX(version), 0) "
                        "FROM schema_version",
                        "i"},
    [SQ_VERSION_ADD] = {"INSERT INTO schema_version(version, name, "
                        "applied) VALUES(?, ?, ?)",
                        ""},
    [SQ_USER_BY_NAME] = {"SELECT id, name, pwhash FROM users WHERE name = ?",
                         "iss"},
    [SQ_USER_ID_BY_NAME] = {"SELECT id FROM users WHERE name = ?", "i"},
    [SQ_USER_BY_ID] = {"SELECT id, name FROM users WHERE id = ?", "is"},
    [SQ_USER_INSERT] = {"INSERT INTO users(name, pwhash, created) "
                        "VALUES(?, ?, ?)",
                        ""},
    [SQ_FRIEND_CHECK] = {"SELECT 1 FROM friendships "
                         "WHERE user_id = ? AND friend_id = ?",
                         "i"},
    [SQ_FRIEND_INSERT] = {"INSERT INTO friendships(user_id, friend_id, "
                          "created) VALUES(?, ?, ?), (?, ?, ?) "
                          "ON DUPLICATE KEY UPDATE user_id = user_id",
                          ""},
    [SQ_FRIEND_DELETE] = {"DELETE FROM friendships "
                          "WHERE (user_id = ? AND friend_id = ?) "
                          "OR (user_id = ? AND friend_id = ?)",
                          ""},
    [SQ_FRIENDS] = {"SELECT u.id, u.name FROM friendships f "
                    "JOIN users u ON u.id = f.friend_id "
                    "WHERE f.user_id = ? ORDER BY u.name",
                    "is"},
    [SQ_FRIEND_IDS] = {"SELECT friend_id FROM friendships "
                       "WHERE user_id = ? ORDER BY friend_id",
                       "i"},
    [SQ_CONV_ENSURE] = {"INSERT INTO conversations(id) "
                        "VALUES(?) ON DUPLICATE KEY UPDATE id = id",
                        ""},
    /* A new participant's cursor starts at the conversation's end. */
    [SQ_CONV_ENTER] = {"INSERT INTO conv_members(user_id, conv, acked) "
                       "SELECT ?, v.id, " STORE_MYSQL_END_V
                       " FROM conversations v "
                       "WHERE v.id = ? ON DUPLICATE KEY UPDATE acked = acked",
                       ""},
    [SQ_CONV_REENTER] = {"INSERT INTO conv_members(user_id, conv, acked) "
                         "SELECT ?, v.id, " STORE_MYSQL_END_V
                         " FROM conversations v WHERE v.id = ? "
                         "ON DUPLICATE KEY UPDATE acked = VALUES(acked)",
                         ""},
    [SQ_CONV_LEAVE] = {"DELETE FROM conv_members "
                       "WHERE conv = ? AND user_id = ?",
                       ""},
    [SQ_GROUP_BY_ID] = {"SELECT id, name, descr FROM chat_groups "
                        "WHERE id = ?",
                        "iss"},
    [SQ_GROUP_BY_NAME] = {"SELECT id, name, descr FROM chat_groups "
                          "WHERE name = ?",
                          "iss"},
    [SQ_GROUP_INSERT] = {"INSERT INTO chat_groups(name, descr, creator, "
                         "created) VALUES(?, ?, ?, ?)",
                         ""},
    [SQ_MEMBER_ROLE] = {"SELECT role FROM group_members "
                        "WHERE group_id = ? AND user_id = ?",
                        "i"},
    [SQ_MEMBER_INSERT] = {"INSERT INTO group_members(group_id, user_id, "
                          "role, joined) VALUES(?, ?, ?, ?)",
                          ""},
    [SQ_MEMBER_DELETE] = {"DELETE FROM group_members "
                          "WHERE group_id = ? AND user_id = ?",
                          ""},
    [SQ_GROUPS] = {"SELECT g.id, g.name, g.descr, m.role "
                   "FROM group_members m "
                   "JOIN chat_groups g ON g.id = m.group_id "
                   "WHERE m.user_id = ? ORDER BY g.name",
                   "issi"},
    [SQ_MEMBERS] = {"SELECT u.id, u.name, m.role FROM group_members m "
                    "JOIN users u ON u.id = m.user_id "
                    "WHERE m.group_id = ? ORDER BY u.name",
                    "isi"},
    [SQ_MEMBER_IDS] = {"SELECT user_id FROM group_members "
                       "WHERE group_id = ? ORDER BY user_id",
                       "i"},
    [SQ_MSG_BY_CMID] = {STORE_MYSQL_MSG_COLS
                        " WHERE m.sender = ? AND m.cmid = ?",
                        "siisiisis"},
    /* The end of the key's range (conv, seq), locked; 0 if none. */
    [SQ_SEQ_LAST] = {"SELECT COALESCE(" STORE_MYSQL_LAST_SEQ_LOCKED("?") ", 0)",
                     "i"},
    [SQ_MSG_INSERT] = {STORE_MYSQL_MSG_INSERT, ""},
    /*
     * The same text in a statement of its own: store_mysql_insert_rows
     * binds it to arrays of rows (STMT_ATTR_ARRAY_SIZE stays set on it).
     */
    [SQ_MSG_INSERT_ROWS] = {STORE_MYSQL_MSG_INSERT, ""},
    /* Schemas 2 and 3; see struct store_mysql_known. */
    [SQ_EPOCH_READ] = {"SELECT n FROM social_epoch WHERE id = ?", "i"},
    [SQ_EPOCH_BUMP] = {"UPDATE social_epoch SET n = n + 1 WHERE id = ?", ""},
    /*
     * Sync reads each conversation's range on its own (syncorder.h):
     * joined to conv_members, messages were read from each
     * conversation's first, whatever the cursor.
     */
    [SQ_SYNC_CONVS] = {"SELECT c.conv, c.acked FROM conv_members c "
                       "WHERE c.user_id = ? AND " STORE_MYSQL_END_C
                       " > c.acked",
                       "si"},
    /* The message's columns, then its ord (column 9). */
    [SQ_SYNC_CONV] = {"SELECT " STORE_MYSQL_MSG_LIST
                      ", m.ord" STORE_MYSQL_MSG_FROM
                      " WHERE m.conv = ? AND m.seq > ? ORDER BY m.seq LIMIT ?",
                      "siisiisisi"},
    [SQ_MEMBER_CONV] = {"SELECT acked FROM conv_members "
                        "WHERE user_id = ? AND conv = ?",
                        "i"},
    /* Counts matched rows (CLIENT_FOUND_ROWS), changed or not. */
    [SQ_ACK] = {"UPDATE conv_members SET acked = GREATEST(acked, "
                "LEAST(?, " STORE_MYSQL_END_ARG
                ")) WHERE user_id = ? AND conv = ?",
                ""},
    [SQ_HISTORY] = {STORE_MYSQL_MSG_COLS " WHERE m.conv = ? AND m.seq < ? "
                                         "ORDER BY m.seq DESC LIMIT ?",
                    "siisiisis"},
};

struct store_mysql {
	MYSQL *db; /* NULL while disconnected */
	char *host, *user, *pass, *name;
	char *socket; /* a Unix socket's path, or NULL: TCP to host:port */
	unsigned int port;
	bool local; /* the server is on this machine: socket or loopback */
	struct store_options opt;
	char *dummy; /* hash checked for unknown names; made on first use */
	MYSQL_STMT *stmt[SQ__COUNT];
	bool in_txn;     /* between BEGIN and COMMIT/ROLLBACK */
	bool chained;    /* in_txn: the empty one the last batch's end opened */
	bool fresh;      /* the batch's transaction has no write call yet */
	bool undo_all;   /* the call's undo is the whole (fresh) transaction */
	bool retryable;  /* the last failure may be retried from the start */
	bool batch;      /* in a group commit: calls use savepoints */
	bool batch_lost; /* the batch's transaction is gone */
	bool sends_only; /* store_sends_only: foreign key checks off */
	int64_t ord_last; /* the last messages.ord this connection gave */
	struct pairtab *seq_hints; /* next seqs: store_mysql_seq_hint */
	bool bulk_exec; /* the server runs statements bound to arrays */
	struct store_mysql_known known;   /* the bulk path's friendships */
	struct store_mysql_known members; /* and group members */
	int64_t chained_ms; /* monotonic: when chained was opened */
	int64_t redial;     /* ms: no connect attempt before this */
};

/* Parameters bound to one execution; they must outlive it. */
struct store_mysql_params {
	MYSQL_BIND b[STORE_MYSQL_PARAMS];
	long long iv[STORE_MYSQL_PARAMS];
	unsigned long len[STORE_MYSQL_PARAMS];
};

/* The result columns of one statement being read. */
struct store_mysql_res {
	struct store_mysql *s;
	MYSQL_STMT *st;
	const char *cols;
	MYSQL_BIND b[STORE_MYSQL_COLS];
	long long iv[STORE_MYSQL_COLS];
	char sv[STORE_MYSQL_COLS][STORE_MYSQL_BUF];
	unsigned long len[STORE_MYSQL_COLS];
	my_bool null[STORE_MYSQL_COLS], err[STORE_MYSQL_COLS];
};

/* The library is initialised once, before any connection or thread. */
static pthread_once_t store_mysql_once = PTHREAD_ONCE_INIT;
static int store_mysql_lib_rc;

/* Runs mysql_library_init exactly once. */
static void
store_mysql_lib_once(void)
{
	store_mysql_lib_rc = mysql_library_init(0, NULL, NULL);
}

/* mysql_library_init, once per process; 0 or -ERR_INTERNAL. */
static int
store_mysql_lib_init(void)
{
	pthread_once(&store_mysql_once, store_mysql_lib_once);
	return store_mysql_lib_rc == 0 ? 0 : -ERR_INTERNAL;
}

/* A DB thread starting: per-thread client state. */
static void
store_mysql_thread_init(void)
{
	(void)mysql_thread_init();
}

/* A DB thread exiting: frees the client's per-thread state. */
static void
store_mysql_thread_end(void)
{
	mysql_thread_end();
}

/* Whether a client or server error code means the connection is gone. */
static bool
store_mysql_conn_error(unsigned int e)
{
	switch (e) {
	case CR_CONNECTION_ERROR:
	case CR_CONN_HOST_ERROR:
	case CR_SERVER_GONE_ERROR:
	case CR_SERVER_LOST:
	case CR_SERVER_LOST_EXTENDED:
	case CR_COMMANDS_OUT_OF_SYNC:
	case ER_CONNECTION_KILLED:
	case ER_SERVER_SHUTDOWN:
	case ER_QUERY_INTERRUPTED:
	case ER_CON_COUNT_ERROR:
		return true;
	default:
		return e >= 2000 && e < 3000; /* any other client error */
	}
}

/* Whether the server is up but cannot take writes or locks right now. */
static bool
store_mysql_busy_error(unsigned int e)
{
	switch (e) {
	case ER_LOCK_DEADLOCK:
	case ER_LOCK_WAIT_TIMEOUT:
	case ER_OPTION_PREVENTS_STATEMENT: /* read_only */
	case ER_READ_ONLY_MODE:
	case 1021: /* ER_DISK_FULL */
	case 1114: /* ER_RECORD_FILE_FULL */
		return true;
	default:
		return false;
	}
}

static void store_mysql_disconnect(struct store_mysql *s);
static void store_mysql_res_end(struct store_mysql_res *res);

int64_t
store_mysql_seq_hint(struct store_mysql *s, const struct store_send *in)
{
	int64_t a, b;

	if (s->seq_hints == NULL)
		return 0;
	store_common_conv_key(in, &a, &b);
	return pairtab_find(s->seq_hints, a, b);
}

void
store_mysql_seq_note(struct store_mysql *s, const struct store_send *in,
                     int64_t next)
{
	int64_t a, b;

	/* Made on first use: connections that store no message need none. */
	if (s->seq_hints == NULL)
		s->seq_hints = pairtab_new(STORE_MYSQL_SEQ_HINTS);
	store_common_conv_key(in, &a, &b);
	pairtab_set(s->seq_hints, a, b, next);
}

void
store_mysql_seq_forget(struct store_mysql *s)
{
	if (s->seq_hints != NULL)
		pairtab_clear(s->seq_hints);
}

/*
 * Maps a failed call to an errcode. A lost connection is marked dead
 * (reopened by the next call) and is retryable unless it died during
 * COMMIT, whose outcome is then unknown. A deadlock is retryable.
 */
static int
store_mysql_fail(struct store_mysql *s, unsigned int e, const char *msg,
                 const char *what, bool commit)
{
	store_mysql_seq_forget(s); /* whatever was rolled back */
	if (store_mysql_conn_error(e)) {
		log_warn("mysql %s@%s/%s: %s: %s (%u)", s->user, s->host,
		         s->name, what, msg, e);
		store_mysql_disconnect(s);
		s->retryable = !commit;
		return -ERR_UNAVAILABLE;
	}
	if (store_mysql_busy_error(e)) {
		log_warn("mysql %s/%s: %s: %s (%u)", s->host, s->name, what,
		         msg, e);
		s->retryable = e == ER_LOCK_DEADLOCK;
		/* A deadlock rolls the whole transaction back. */
		if (e == ER_LOCK_DEADLOCK && s->batch)
			s->batch_lost = true;
		return -ERR_UNAVAILABLE;
	}
	log_error("mysql %s/%s: %s: %s (%u)", s->host, s->name, what, msg, e);
	return -ERR_INTERNAL;
}

/* As store_mysql_fail, for an error on statement st. */
static int
store_mysql_stmt_fail(struct store_mysql *s, MYSQL_STMT *st, const char *what)
{
	return store_mysql_fail(s, mysql_stmt_errno(st), mysql_stmt_error(st),
	                        what, false);
}

/* Closes the statements and the connection; the struct stays. */
static void
store_mysql_disconnect(struct store_mysql *s)
{
	int i;

	for (i = 0; i < SQ__COUNT; i++) {
		if (s->stmt[i] != NULL)
			mysql_stmt_close(s->stmt[i]);
		s->stmt[i] = NULL;
	}
	if (s->db != NULL)
		mysql_close(s->db);
	s->db = NULL;
	s->in_txn = s->chained = false;
	if (s->batch) /* its transaction went with the connection */
		s->batch_lost = true;
	/* A change may pass unseen meanwhile. */
	s->known.valid = s->members.valid = false;
	s->known.n = s->members.n = 0;
	store_mysql_seq_forget(s);
}

/*
 * Session settings: utf8mb4, short timeouts, READ COMMITTED, strict; on a
 * sends-only connection (store.h) no foreign key checks. Init commands
 * run again on every reconnection.
 */
static void
store_mysql_options(MYSQL *db, bool sends_only)
{
	unsigned int connect_s = STORE_MYSQL_CONNECT_S, io_s = STORE_MYSQL_IO_S;
	my_bool off = 0;

	mysql_options(db, MYSQL_OPT_CONNECT_TIMEOUT, &connect_s);
	mysql_options(db, MYSQL_OPT_READ_TIMEOUT, &io_s);
	mysql_options(db, MYSQL_OPT_WRITE_TIMEOUT, &io_s);
	mysql_options(db, MYSQL_OPT_RECONNECT, &off);
	mysql_options(db, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	mysql_options(db, MYSQL_INIT_COMMAND,
	              "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED");
	mysql_options(db, MYSQL_INIT_COMMAND,
	              "SET SESSION sql_mode = "
	              "'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION', "
	              "SESSION innodb_lock_wait_timeout = 5, "
	              "NAMES utf8mb4 COLLATE utf8mb4_bin");
	if (sends_only)
		mysql_options(db, MYSQL_INIT_COMMAND,
		              "SET SESSION foreign_key_checks = 0");
}

/*
 * Whether the server executes a statement bound to arrays of rows in one
 * go (COM_STMT_BULK_EXECUTE: MariaDB 10.2 and later). Oracle MySQL, and
 * proxies that present themselves as it, set CLIENT_MYSQL and lack it.
 */
static bool
store_mysql_can_bulk(MYSQL *db)
{
	unsigned long caps = 0, ext = 0;

	if (mariadb_get_infov(db, MARIADB_CONNECTION_SERVER_CAPABILITIES,
	                      &caps) != 0 ||
	    mariadb_get_infov(
	        db, MARIADB_CONNECTION_EXTENDED_SERVER_CAPABILITIES, &ext) != 0)
		return false;
	return (caps & CLIENT_MYSQL) == 0 &&
	       (ext & (MARIADB_CLIENT_STMT_BULK_OPERATIONS >> 32)) != 0;
}

/*
 * Connects (no statements yet). On failure returns -ERR_UNAVAILABLE and,
 * if err is not NULL, a message in *err.
 */
static int
store_mysql_connect(struct store_mysql *s, char **err)
{
	MYSQL *db;

	if ((db = mysql_init(NULL)) == NULL) {
		if (err != NULL)
			*err = xstrdup("mysql_init failed");
		return -ERR_INTERNAL;
	}
	store_mysql_options(db, s->sends_only);
	/* Connector/C takes the socket only for host "localhost". */
	if (mysql_real_connect(db, s->socket != NULL ? "localhost" : s->host,
	                       s->user, s->pass, s->name, s->port, s->socket,
	                       CLIENT_FOUND_ROWS) == NULL) {
		if (err != NULL)
			*err = xasprintf("mysql://%s@%s:%u/%s: %s (%u)",
			                 s->user, s->host, s->port, s->name,
			                 mysql_error(db), mysql_errno(db));
		else
			log_warn("mysql %s:%u/%s: connect: %s (%u)", s->host,
			         s->port, s->name, mysql_error(db),
			         mysql_errno(db));
		mysql_close(db);
		return -ERR_UNAVAILABLE;
	}
	s->db = db;
	s->bulk_exec = !s->opt.mysql_rows_each && store_mysql_can_bulk(db);
	if (!s->bulk_exec && !s->opt.mysql_rows_each)
		log_warn(
		    "mysql %s:%u: the server lacks bulk execution (not "
		    "MariaDB?): a batch's messages are inserted row by row",
		    s->host, s->port);
	return 0;
}

/* Makes sure there is a connection, reopening a dead one (rate-limited). */
static int
store_mysql_ready(struct store_mysql *s)
{
	int64_t now;

	if (s->db != NULL)
		return 0;
	now = store_now_ms();
	if (now < s->redial)
		return -ERR_UNAVAILABLE;
	if (store_mysql_connect(s, NULL) < 0) {
		s->redial = now + STORE_MYSQL_REDIAL_MS;
		return -ERR_UNAVAILABLE;
	}
	log_info("mysql %s:%u/%s: reconnected", s->host, s->port, s->name);
	return 0;
}

/* The cached statement id, prepared on first use. */
static int
store_mysql_prep(struct store_mysql *s, enum store_mysql_sq id,
                 MYSQL_STMT **out)
{
	const char *sql = store_mysql_sql[id].sql;
	MYSQL_STMT *st;
	int r;

	if (s->db == NULL)
		return -ERR_UNAVAILABLE;
	if (s->stmt[id] == NULL) {
		if ((st = mysql_stmt_init(s->db)) == NULL)
			return store_mysql_fail(s, mysql_errno(s->db),
			                        mysql_error(s->db), sql, false);
		if (mysql_stmt_prepare(st, sql, (unsigned long)strlen(sql))) {
			r = store_mysql_stmt_fail(s, st, sql);
			mysql_stmt_close(st);
			return r;
		}
		s->stmt[id] = st;
	}
	*out = s->stmt[id];
	return 0;
}

/* Binds one string parameter (NULL binds SQL NULL). */
static void
store_mysql_bind_str(struct store_mysql_params *p, int i, const char *str,
                     size_t len)
{
	if (str == NULL) {
		p->b[i].buffer_type = MYSQL_TYPE_NULL;
		return;
	}
	p->len[i] = (unsigned long)len;
	p->b[i].buffer_type = MYSQL_TYPE_STRING;
	p->b[i].buffer = (void *)str;
	p->b[i].buffer_length = (unsigned long)len;
	p->b[i].length = &p->len[i];
}

/*
 * Binds parameters from ap as types says: 'i' int64_t, 'n' int64_t bound
 * as NULL when 0, 's' string (NULL binds NULL), 'b' string and a size_t
 * length. Values are not copied: they must outlive the execution.
 */
static void
store_mysql_vbind(struct store_mysql_params *p, const char *types, va_list ap)
{
	const char *str;
	size_t len;
	int i;

	memset(p, 0, sizeof(*p));
	for (i = 0; types[i] != '\0' && i < STORE_MYSQL_PARAMS; i++) {
		switch (types[i]) {
		case 'i':
		case 'n':
			p->iv[i] = va_arg(ap, int64_t);
			p->b[i].buffer_type = types[i] == 'n' && p->iv[i] == 0
			                          ? MYSQL_TYPE_NULL
			                          : MYSQL_TYPE_LONGLONG;
			p->b[i].buffer = &p->iv[i];
			break;
		case 's':
			str = va_arg(ap, const char *);
			store_mysql_bind_str(p, i, str,
			                     str != NULL ? strlen(str) : 0);
			break;
		case 'b':
			str = va_arg(ap, const char *);
			len = va_arg(ap, size_t);
			store_mysql_bind_str(p, i, str, len);
			break;
		}
	}
}

/* Whether statement id commits: if the connection is lost, who knows. */
static bool
store_mysql_commits(enum store_mysql_sq id)
{
	return id == SQ_COMMIT || id == SQ_COMMIT_CHAIN;
}

/* Binds p to statement st and executes it. */
static int
store_mysql_execute(struct store_mysql *s, MYSQL_STMT *st,
                    enum store_mysql_sq id, struct store_mysql_params *p)
{
	if (mysql_stmt_param_count(st) > 0 && mysql_stmt_bind_param(st, p->b))
		return store_mysql_stmt_fail(s, st, store_mysql_sql[id].sql);
	if (mysql_stmt_execute(st))
		return store_mysql_fail(
		    s, mysql_stmt_errno(st), mysql_stmt_error(st),
		    store_mysql_sql[id].sql, store_mysql_commits(id));
	return 0;
}

/*
 * Runs a statement that returns no rows; *affected (if not NULL) gets the
 * matched rows, dup (if not NULL) is set on a duplicate key instead of
 * failing.
 */
static int
store_mysql_vrun(struct store_mysql *s, enum store_mysql_sq id,
                 uint64_t *affected, bool *dup, const char *types, va_list ap)
{
	struct store_mysql_params p;
	MYSQL_STMT *st;
	int r;

	if ((r = store_mysql_prep(s, id, &st)) < 0)
		return r;
	store_mysql_vbind(&p, types, ap);
	if (dup != NULL)
		*dup = false;
	if (mysql_stmt_param_count(st) > 0 && mysql_stmt_bind_param(st, p.b))
		return store_mysql_stmt_fail(s, st, store_mysql_sql[id].sql);
	if (mysql_stmt_execute(st)) {
		if (dup != NULL && mysql_stmt_errno(st) == ER_DUP_ENTRY) {
			store_mysql_seq_forget(s); /* maybe a seq taken */
			*dup = true;
			return 0;
		}
		return store_mysql_fail(
		    s, mysql_stmt_errno(st), mysql_stmt_error(st),
		    store_mysql_sql[id].sql, store_mysql_commits(id));
	}
	if (affected != NULL)
		*affected = mysql_stmt_affected_rows(st);
	return 0;
}

/* store_mysql_vrun with the rows and duplicate reports dropped. */
static int
store_mysql_run(struct store_mysql *s, enum store_mysql_sq id,
                const char *types, ...)
{
	va_list ap;
	int r;

	va_start(ap, types);
	r = store_mysql_vrun(s, id, NULL, NULL, types, ap);
	va_end(ap);
	return r;
}

/* store_mysql_vrun with the number of matched rows in *affected. */
static int
store_mysql_run_n(struct store_mysql *s, enum store_mysql_sq id,
                  uint64_t *affected, const char *types, ...)
{
	va_list ap;
	int r;

	va_start(ap, types);
	r = store_mysql_vrun(s, id, affected, NULL, types, ap);
	va_end(ap);
	return r;
}

/* store_mysql_vrun that reports a duplicate key in *dup. */
static int
store_mysql_run_dup(struct store_mysql *s, enum store_mysql_sq id, bool *dup,
                    const char *types, ...)
{
	va_list ap;
	int r;

	va_start(ap, types);
	r = store_mysql_vrun(s, id, NULL, dup, types, ap);
	va_end(ap);
	return r;
}

/* Binds the result columns of res->st by res->cols. */
static int
store_mysql_bind_result(struct store_mysql_res *res, enum store_mysql_sq id)
{
	int i;

	res->cols = store_mysql_sql[id].cols;
	memset(res->b, 0, sizeof(res->b));
	for (i = 0; res->cols[i] != '\0' && i < STORE_MYSQL_COLS; i++) {
		res->b[i].is_null = &res->null[i];
		res->b[i].error = &res->err[i];
		res->b[i].length = &res->len[i];
		if (res->cols[i] == 'i') {
			res->b[i].buffer_type = MYSQL_TYPE_LONGLONG;
			res->b[i].buffer = &res->iv[i];
		} else {
			res->b[i].buffer_type = MYSQL_TYPE_STRING;
			res->b[i].buffer = res->sv[i];
			res->b[i].buffer_length = STORE_MYSQL_BUF;
		}
	}
	if (mysql_stmt_bind_result(res->st, res->b))
		return store_mysql_stmt_fail(res->s, res->st,
		                             store_mysql_sql[id].sql);
	return 0;
}

/* store_mysql_query with the parameters in ap. */
static int
store_mysql_vquery(struct store_mysql *s, enum store_mysql_sq id,
                   struct store_mysql_res *res, const char *types, va_list ap)
{
	struct store_mysql_params p;
	int r;

	res->s = s;
	if ((r = store_mysql_prep(s, id, &res->st)) < 0)
		return r;
	store_mysql_vbind(&p, types, ap);
	if ((r = store_mysql_execute(s, res->st, id, &p)) < 0)
		return r;
	if ((r = store_mysql_bind_result(res, id)) < 0 ||
	    mysql_stmt_store_result(res->st)) {
		if (r == 0)
			r = store_mysql_stmt_fail(s, res->st,
			                          store_mysql_sql[id].sql);
		store_mysql_res_end(res);
		return r;
	}
	return 0;
}

/*
 * Executes a query and buffers its whole result, ready for
 * store_mysql_fetch; end with store_mysql_res_end.
 */
static int
store_mysql_query(struct store_mysql *s, enum store_mysql_sq id,
                  struct store_mysql_res *res, const char *types, ...)
{
	va_list ap;
	int r;

	va_start(ap, types);
	r = store_mysql_vquery(s, id, res, types, ap);
	va_end(ap);
	return r;
}

/* The next row: 1, 0 at the end, or a negative errcode. */
static int
store_mysql_fetch(struct store_mysql_res *res)
{
	int rc = mysql_stmt_fetch(res->st);

	if (rc == 0 || rc == MYSQL_DATA_TRUNCATED)
		return 1;
	if (rc == MYSQL_NO_DATA)
		return 0;
	return store_mysql_stmt_fail(res->s, res->st, "fetch");
}

/* Releases the buffered result (unless the connection died with it). */
static void
store_mysql_res_end(struct store_mysql_res *res)
{
	if (res->s->db != NULL)
		mysql_stmt_free_result(res->st);
}

/* An integer column of the current row; 0 for NULL. */
static int64_t
store_mysql_col_int(const struct store_mysql_res *res, int col)
{
	return res->null[col] ? 0 : (int64_t)res->iv[col];
}

/* A copy of a text column, byte-exact; NULL for SQL NULL. */
static char *
store_mysql_col_str(struct store_mysql_res *res, int col)
{
	unsigned long len = res->len[col];
	MYSQL_BIND b;
	char *v;

	if (res->null[col])
		return NULL;
	v = xmalloc((size_t)len + 1);
	if (len <= STORE_MYSQL_BUF) {
		memcpy(v, res->sv[col], len);
	} else {
		/* Longer than the bound buffer: fetch the whole value. */
		memset(&b, 0, sizeof(b));
		b.buffer_type = MYSQL_TYPE_STRING;
		b.buffer = v;
		b.buffer_length = len;
		if (mysql_stmt_fetch_column(res->st, &b, (unsigned int)col, 0))
			len = 0;
	}
	v[len] = '\0';
	return v;
}

/* As store_mysql_col_str, but "" for NULL: for NOT NULL columns. */
static char *
store_mysql_col_str_nn(struct store_mysql_res *res, int col)
{
	char *v = store_mysql_col_str(res, col);

	return v != NULL ? v : xstrdup("");
}

/* A text column copied into buf (size bytes, cut to fit; "" for NULL). */
static void
store_mysql_col_copy(struct store_mysql_res *res, int col, char *buf,
                     size_t size)
{
	char *v = store_mysql_col_str_nn(res, col);

	snprintf(buf, size, "%s", v);
	free(v);
}

/*
 * Runs a query for one integer (column 0 of the first row): 1 and *out
 * if there is a row, 0 if none, or a negative errcode.
 */
static int
store_mysql_int(struct store_mysql *s, enum store_mysql_sq id, int64_t *out,
                const char *types, ...)
{
	struct store_mysql_res res;
	va_list ap;
	int r;

	va_start(ap, types);
	r = store_mysql_vquery(s, id, &res, types, ap);
	va_end(ap);
	if (r < 0)
		return r;
	if ((r = store_mysql_fetch(&res)) == 1)
		*out = store_mysql_col_int(&res, 0);
	store_mysql_res_end(&res);
	return r;
}

/* Starts a transaction. */
static int
store_mysql_begin(struct store_mysql *s)
{
	int r;

	s->chained = false; /* START TRANSACTION commits it: it is empty */
	if ((r = store_mysql_run(s, SQ_BEGIN, "")) == 0)
		s->in_txn = true;
	return r;
}

/*
 * Ends the empty transaction a batch's end left open, so that a call
 * outside batches runs on its own (its reads would hold their table
 * locks until the next commit).
 */
static int
store_mysql_unchain(struct store_mysql *s)
{
	if (!s->chained || s->db == NULL)
		return 0;
	s->chained = s->in_txn = false;
	return store_mysql_run(s, SQ_ROLLBACK, "");
}

/*
 * Ends the transaction begun by store_mysql_begin: commits if r is 0,
 * else rolls back. Returns r, or the commit's error.
 */
static int
store_mysql_end(struct store_mysql *s, int r)
{
	if (!s->in_txn)
		return r < 0 ? r : -ERR_UNAVAILABLE;
	if (r >= 0) {
		r = store_mysql_run(s, SQ_COMMIT, "");
		if (r == 0 || s->db == NULL) {
			s->in_txn = false;
			return r;
		}
	}
	if (s->db != NULL) {
		bool retry = s->retryable;

		store_mysql_seq_forget(s);
		(void)store_mysql_run(s, SQ_ROLLBACK, "");
		s->retryable = retry;
	}
	s->in_txn = false;
	return r;
}

/* Collects column 0 of every row of statement id into out. */
static int
store_mysql_ids(struct store_mysql *s, enum store_mysql_sq id, int64_t key,
                struct store_ids *out)
{
	struct store_mysql_res res;
	size_t cap = 0;
	int r;

	out->ids = NULL;
	out->n = 0;
	if ((r = store_mysql_query(s, id, &res, "i", key)) < 0)
		return r;
	while ((r = store_mysql_fetch(&res)) == 1) {
		out->ids = xgrow(out->ids, out->n, &cap, sizeof(*out->ids));
		out->ids[out->n++] = store_mysql_col_int(&res, 0);
	}
	store_mysql_res_end(&res);
	if (r < 0) {
		free(out->ids);
		out->ids = NULL;
		out->n = 0;
	}
	return r;
}

/* --- calls, with reconnection and retries --- */

/*
 * One store call: body runs on a live connection, inside a transaction
 * if txn; undo resets the outputs before another attempt.
 */
struct store_mysql_call {
	int (*body)(struct store_mysql *s, void *arg);
	void (*undo)(void *arg);
	void *arg;
	bool txn;
};

/* One attempt of call: connect if needed, then the body. */
static int
store_mysql_attempt(struct store_mysql *s, const struct store_mysql_call *call)
{
	int r;

	s->retryable = false;
	if ((r = store_mysql_ready(s)) < 0)
		return r;
	if (!call->txn) {
		if ((r = store_mysql_unchain(s)) < 0)
			return r;
		return call->body(s, call->arg);
	}
	if ((r = store_mysql_begin(s)) < 0)
		return r;
	r = call->body(s, call->arg);
	return store_mysql_end(s, r);
}

/* Whether the server says a transaction is open on the connection. */
static bool
store_mysql_in_trans(struct store_mysql *s)
{
	unsigned int status = 0;

	if (mariadb_get_infov(s->db, MARIADB_CONNECTION_SERVER_STATUS,
	                      &status) != 0)
		return false;
	return (status & SERVER_STATUS_IN_TRANS) != 0;
}

/*
 * One attempt of call inside the batch's transaction: a write call runs
 * in a savepoint, so that failing undoes only its own writes. A savepoint
 * set outside any transaction (the server rolled it back) or one that
 * cannot be rolled back to means the batch is lost.
 */
static int
store_mysql_batch_attempt(struct store_mysql *s,
                          const struct store_mysql_call *call)
{
	bool retry;
	int r;

	s->retryable = false;
	if (!call->txn) {
		s->fresh = false; /* a later undo must not take it back */
		return call->body(s, call->arg);
	}
	if ((r = store_mysql_savepoint(s)) < 0)
		return r;
	if ((r = call->body(s, call->arg)) >= 0 || s->batch_lost)
		return r;
	retry = s->retryable;
	store_mysql_rollback_savepoint(s);
	s->retryable = retry && !s->batch_lost;
	return r;
}

/*
 * Sets the batch's savepoint. One set outside any transaction (the server
 * rolled it back) means the batch is lost. The first write call of a
 * batch needs none (a round trip saved per batch): its undo rolls the
 * whole transaction back and opens it again.
 */
int
store_mysql_savepoint(struct store_mysql *s)
{
	int r;

	s->undo_all = s->fresh;
	s->fresh = false;
	if (!s->undo_all && (r = store_mysql_run(s, SQ_SAVEPOINT, "")) < 0)
		return r;
	if (!store_mysql_in_trans(s)) {
		s->batch_lost = true;
		return -ERR_UNAVAILABLE;
	}
	return 0;
}

/* Undoes what ran since the savepoint; if that fails the batch is lost. */
void
store_mysql_rollback_savepoint(struct store_mysql *s)
{
	store_mysql_seq_forget(s);
	if (s->undo_all) {
		s->undo_all = false;
		if (store_mysql_run(s, SQ_ROLLBACK_CHAIN, "") < 0)
			s->batch_lost = true;
		else
			s->fresh = true;
		return;
	}
	if (store_mysql_run(s, SQ_ROLLBACK_TO, "") < 0)
		s->batch_lost = true;
}

/* The live connection, or NULL. */
MYSQL *
store_mysql_conn(struct store_mysql *s)
{
	return s->db;
}

/*
 * Binds column i of store_mysql_insert_rows: an array of n values (ints
 * or string pointers with lengths), NULL where ind says so.
 */
static void
store_mysql_bind_col(MYSQL_BIND *b, enum enum_field_types type, void *values,
                     unsigned long *len, char *ind)
{
	memset(b, 0, sizeof(*b));
	b->buffer_type = type;
	b->buffer = values;
	b->length = len;
	b->u.indicator = ind;
}

/*
 * store_mysql_insert_rows without bulk execution: one execution of the
 * single-row INSERT per row, the same results.
 */
static int
store_mysql_insert_each(struct store_mysql *s, const struct store_mysql_rows *r,
                        size_t n)
{
	bool dup = false;
	size_t k;
	int rc;

	for (k = 0; k < n; k++) {
		rc = store_mysql_run_dup(
		    s, SQ_MSG_INSERT, &dup, "siinnbisi", r->conv[k],
		    (int64_t)r->seq[k], (int64_t)r->sender[k],
		    (int64_t)(r->to_user_ind[k] == STMT_INDICATOR_NULL
		                  ? 0
		                  : r->to_user[k]),
		    (int64_t)(r->to_group_ind[k] == STMT_INDICATOR_NULL
		                  ? 0
		                  : r->to_group[k]),
		    r->body[k], (size_t)r->body_len[k], (int64_t)r->ts[k],
		    r->cmid_ind[k] == STMT_INDICATOR_NULL ? NULL : r->cmid[k],
		    (int64_t)r->ord[k]);
		if (rc < 0)
			return rc;
		if (dup)
			return 1;
	}
	return 0;
}

int
store_mysql_insert_rows(struct store_mysql *s, const struct store_mysql_rows *r,
                        size_t n)
{
	const char *sql = store_mysql_sql[SQ_MSG_INSERT_ROWS].sql;
	unsigned int size = (unsigned int)n;
	MYSQL_BIND b[9];
	MYSQL_STMT *st;
	int rc;

	if (!s->bulk_exec)
		return store_mysql_insert_each(s, r, n);
	if ((rc = store_mysql_prep(s, SQ_MSG_INSERT_ROWS, &st)) < 0)
		return rc;
	store_mysql_bind_col(&b[0], MYSQL_TYPE_STRING, r->conv, r->conv_len,
	                     NULL);
	store_mysql_bind_col(&b[1], MYSQL_TYPE_LONGLONG, r->seq, NULL, NULL);
	store_mysql_bind_col(&b[2], MYSQL_TYPE_LONGLONG, r->sender, NULL, NULL);
	store_mysql_bind_col(&b[3], MYSQL_TYPE_LONGLONG, r->to_user, NULL,
	                     r->to_user_ind);
	store_mysql_bind_col(&b[4], MYSQL_TYPE_LONGLONG, r->to_group, NULL,
	                     r->to_group_ind);
	store_mysql_bind_col(&b[5], MYSQL_TYPE_STRING, r->body, r->body_len,
	                     NULL);
	store_mysql_bind_col(&b[6], MYSQL_TYPE_LONGLONG, r->ts, NULL, NULL);
	store_mysql_bind_col(&b[7], MYSQL_TYPE_STRING, r->cmid, r->cmid_len,
	                     r->cmid_ind);
	store_mysql_bind_col(&b[8], MYSQL_TYPE_LONGLONG, r->ord, NULL, NULL);
	if (mysql_stmt_attr_set(st, STMT_ATTR_ARRAY_SIZE, &size) ||
	    mysql_stmt_bind_param(st, b))
		return store_mysql_stmt_fail(s, st, sql);
	if (mysql_stmt_execute(st)) {
		if (mysql_stmt_errno(st) == ER_DUP_ENTRY) {
			store_mysql_seq_forget(s); /* maybe a seq taken */
			return 1;
		}
		return store_mysql_fail(s, mysql_stmt_errno(st),
		                        mysql_stmt_error(st), sql, false);
	}
	return 0;
}

int64_t
store_mysql_ord_next(struct store_mysql *s)
{
	struct timespec t;
	int64_t us;

	clock_gettime(CLOCK_REALTIME, &t);
	us = (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
	s->ord_last = us > s->ord_last ? us : s->ord_last + 1;
	return s->ord_last;
}

struct store_mysql_known *
store_mysql_known(struct store_mysql *s, enum store_mysql_epoch_id which)
{
	return which == STORE_MYSQL_EPOCH_MEMBERS ? &s->members : &s->known;
}

int
store_mysql_epoch(struct store_mysql *s, enum store_mysql_epoch_id which,
                  int64_t *epoch)
{
	int r = store_mysql_int(s, SQ_EPOCH_READ, epoch, "i", (int64_t)which);

	return r < 0 ? r : r == 0 ? -ERR_INTERNAL : 0;
}

/* Whether a group commit is open. */
bool
store_mysql_batching(const struct store_mysql *s)
{
	return s->batch;
}

/* Whether the open batch's transaction is gone (a dead connection too). */
bool
store_mysql_lost(struct store_mysql *s)
{
	if (s->batch && s->db == NULL)
		s->batch_lost = true;
	return s->batch && s->batch_lost;
}

/* As store_mysql_fail, for the last error of mysql_real_query & co. */
int
store_mysql_conn_fail(struct store_mysql *s, const char *what)
{
	return store_mysql_fail(s, mysql_errno(s->db), mysql_error(s->db), what,
	                        false);
}

/*
 * Runs call in the batch's transaction. Never reconnects: on a new
 * connection the call would run outside the batch, so once the batch is
 * lost every call fails. A retryable failure that kept the transaction
 * (a cmid stored meanwhile elsewhere) is retried in it.
 */
static int
store_mysql_batch_do(struct store_mysql *s, const struct store_mysql_call *call)
{
	int r, i;

	for (i = 0;; i++) {
		if (s->db == NULL)
			s->batch_lost = true;
		if (s->batch_lost)
			return -ERR_UNAVAILABLE;
		if ((r = store_mysql_batch_attempt(s, call)) >= 0)
			return r;
		if (call->undo != NULL)
			call->undo(call->arg);
		if (s->batch_lost)
			return -ERR_UNAVAILABLE;
		if (!s->retryable || i + 1 >= STORE_MYSQL_TRIES)
			return r;
	}
}

/*
 * Runs call, again from the start (on a new connection if the old one
 * died) while the failure happened before anything could have committed.
 */
static int
store_mysql_do(struct store_mysql *s, const struct store_mysql_call *call)
{
	int r, i;

	if (s->batch)
		return store_mysql_batch_do(s, call);
	for (i = 0;; i++) {
		if ((r = store_mysql_attempt(s, call)) >= 0)
			return r;
		if (call->undo != NULL)
			call->undo(call->arg);
		if (!s->retryable || i + 1 >= STORE_MYSQL_TRIES)
			return r;
		s->redial = 0; /* the server was there a moment ago */
	}
}

/* Runs body(s, arg) as one call with reconnection and retries. */
static int
store_mysql_call(struct store_mysql *s, bool txn,
                 int (*body)(struct store_mysql *, void *),
                 void (*undo)(void *), void *arg)
{
	struct store_mysql_call call = {body, undo, arg, txn};

	return store_mysql_do(s, &call);
}

/* The body of store_batch_begin: opens the batch's transaction. */
static int
store_mysql_batch_open(struct store_mysql *s, void *arg)
{
	(void)arg;
	return store_mysql_begin(s);
}

/*
 * Whether the server sent something unasked: it does so as it closes the
 * connection (KILL, wait_timeout, shutdown). No round trip: a poll of
 * the socket. The caller then starts a transaction the usual way, which
 * reconnects if the connection is gone (and reads whatever else came).
 */
static bool
store_mysql_unasked(struct store_mysql *s)
{
	struct pollfd p = {.fd = (int)mysql_get_socket(s->db),
	                   .events = POLLIN};

	return p.fd < 0 || poll(&p, 1, 0) != 0;
}

/*
 * Whether the batch can use the transaction the last one's end opened:
 * a round trip saved per batch under load. Not if the server sent
 * something meanwhile (it may have closed the connection), nor once it
 * has waited STORE_MYSQL_CHAIN_MS: a connection that died unseen would
 * fail the batch, where a new transaction reconnects first.
 */
static bool
store_mysql_chain_ok(struct store_mysql *s)
{
	return s->chained && s->db != NULL && s->in_txn &&
	       store_mono_ms() - s->chained_ms < STORE_MYSQL_CHAIN_MS &&
	       store_mysql_in_trans(s) && !store_mysql_unasked(s);
}

/*
 * Group commit: one transaction for many calls (store.h). Starting it
 * may reconnect, as any call does.
 */
static int
store_mysql_batch_begin(void *c)
{
	struct store_mysql *s = c;
	int r;

	if (s->batch)
		return -ERR_INTERNAL;
	if (!store_mysql_chain_ok(s)) {
		s->chained = false; /* START TRANSACTION ends it */
		if ((r = store_mysql_call(s, false, store_mysql_batch_open,
		                          NULL, NULL)) < 0)
			return r;
	}
	s->chained = false;
	s->batch = s->fresh = true;
	s->batch_lost = s->undo_all = false;
	return 0;
}

/*
 * Whether an event loop may run the next batch itself (store.h): when
 * the server is on this machine and the batch can use the transaction
 * the last one's end opened, so that it will not reconnect. The loop
 * does so only on one core (dbpool_loop_writes), which a local mariadbd
 * may then share, as in compare: there the loop's own batches took p99
 * at 20k msg/s to 0.76x and p50 at 5k to 0.58x (doc/performance.md). A
 * remote server's batches stay the writer's: their round trips would
 * stop the loop for the network.
 */
static bool
store_mysql_batch_cheap(void *c)
{
	struct store_mysql *s = c;

	return s->local && store_mysql_chain_ok(s);
}

/* Commits the batch and opens the next one's transaction. */
static int
store_mysql_commit_chain(struct store_mysql *s)
{
	int r;

	if (!s->in_txn)
		return -ERR_UNAVAILABLE;
	if ((r = store_mysql_run(s, SQ_COMMIT_CHAIN, "")) < 0)
		return store_mysql_end(s, r);
	s->chained = true;
	s->chained_ms = store_mono_ms();
	return 0;
}

/*
 * Commits or rolls back the batch. A lost batch stored nothing; its dead
 * connection is reopened by the next call.
 */
static int
store_mysql_batch_end(void *c, bool commit)
{
	struct store_mysql *s = c;
	bool lost = s->batch_lost || s->db == NULL;

	s->batch = s->fresh = s->undo_all = false;
	s->batch_lost = false;
	if (lost || !commit) /* however the server lost it: hints included */
		store_mysql_seq_forget(s);
	if (lost) {
		(void)store_mysql_end(s, -ERR_UNAVAILABLE);
		return -ERR_UNAVAILABLE;
	}
	if (!commit)
		return store_mysql_end(s, -ERR_INTERNAL);
	return store_mysql_commit_chain(s);
}

/* --- open, close, migrate --- */

/* Decodes %XX escapes of URL part [p, end) into a new string. */
static char *
store_mysql_unescape(const char *p, const char *end)
{
	char *v = xmalloc((size_t)(end - p) + 1), *o = v;
	unsigned int x;

	for (; p < end; p++) {
		if (*p == '%' && end - p >= 3 &&
		    sscanf(p + 1, "%2x", &x) == 1) {
			*o++ = (char)x;
			p += 2;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	return v;
}

/* Splits "HOST[:PORT]" or "[V6]:PORT" of [p, end) into s. */
static int
store_mysql_parse_host(struct store_mysql *s, const char *p, const char *end)
{
	const char *colon = NULL, *q;
	char *e;
	long port = 3306;

	if (*p == '[' && (q = memchr(p, ']', (size_t)(end - p))) != NULL) {
		s->host = store_mysql_unescape(p + 1, q);
		colon = q + 1 < end && q[1] == ':' ? q + 1 : NULL;
	} else {
		for (q = p; q < end; q++)
			if (*q == ':')
				colon = q;
		s->host = store_mysql_unescape(p, colon != NULL ? colon : end);
	}
	if (colon != NULL) {
		port = strtol(colon + 1, &e, 10);
		if (e != end || port <= 0 || port > 65535)
			return -ERR_BAD_REQUEST;
	}
	s->port = (unsigned int)port;
	return *s->host != '\0' ? 0 : -ERR_BAD_REQUEST;
}

/*
 * Parses the URL's query, "socket=PATH" or nothing: the server's Unix
 * socket, cheaper than TCP on the same machine (a round trip costs both
 * processes less kernel time).
 */
static int
store_mysql_parse_query(struct store_mysql *s, const char *q)
{
	static const char key[] = "socket=";

	if (q == NULL)
		return 0;
	if (strncmp(q, key, sizeof(key) - 1) != 0 || strchr(q, '&') != NULL)
		return -ERR_BAD_REQUEST;
	q += sizeof(key) - 1;
	s->socket = store_mysql_unescape(q, q + strlen(q));
	return *s->socket == '/' ? 0 : -ERR_BAD_REQUEST;
}

/*
 * Parses "USER[:PASS]@HOST[:PORT]/DB[?socket=PATH]" (the URL after
 * mysql://) into s.
 */
static int
store_mysql_parse(struct store_mysql *s, const char *rest)
{
	const char *at = strrchr(rest, '@'), *colon, *slash, *q, *end;

	if (at == NULL || (slash = strchr(at, '/')) == NULL)
		return -ERR_BAD_REQUEST;
	q = strchr(slash, '?');
	end = q != NULL ? q : slash + strlen(slash);
	if (end == slash + 1 ||
	    memchr(slash + 1, '/', (size_t)(end - slash - 1)))
		return -ERR_BAD_REQUEST;
	colon = memchr(rest, ':', (size_t)(at - rest));
	s->user = store_mysql_unescape(rest, colon != NULL ? colon : at);
	s->pass =
	    colon != NULL ? store_mysql_unescape(colon + 1, at) : xstrdup("");
	s->name = store_mysql_unescape(slash + 1, end);
	if (*s->user == '\0' ||
	    store_mysql_parse_query(s, q != NULL ? q + 1 : NULL) < 0)
		return -ERR_BAD_REQUEST;
	return store_mysql_parse_host(s, at + 1, slash);
}

bool
store_mysql_host_local(const char *host, const char *socket)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (socket != NULL || strcmp(host, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	return inet_pton(AF_INET6, host, &a6) == 1 &&
	       memcmp(&a6, &in6addr_loopback, sizeof(a6)) == 0;
}

/* Closes the connection and its statements; NULL is a no-op. */
static void
store_mysql_close(void *c)
{
	struct store_mysql *s = c;

	if (s == NULL)
		return;
	store_mysql_disconnect(s);
	pairtab_free(s->seq_hints);
	free(s->known.v);
	free(s->members.v);
	free(s->dummy);
	free(s->host);
	free(s->socket);
	free(s->user);
	if (s->pass != NULL)
		memset(s->pass, 0, strlen(s->pass));
	free(s->pass);
	free(s->name);
	free(s);
}

/* Connects to the database that rest (after "mysql://") names. */
static int
store_mysql_open(const char *rest, const struct store_options *opt, void **out,
                 char **err)
{
	struct store_mysql *s;
	int r;

	*out = NULL;
	if (store_mysql_lib_init() < 0 || pwhash_init() < 0) {
		if (err != NULL)
			*err = xstrdup("mysql: library initialisation failed");
		return -ERR_INTERNAL;
	}
	s = xcalloc(1, sizeof(*s));
	if (opt != NULL)
		s->opt = *opt;
	if (store_mysql_parse(s, rest) < 0) {
		if (err != NULL)
			*err = xstrdup("bad store URL: want "
			               "mysql://USER:PASS@HOST:PORT/DB"
			               "[?socket=PATH]");
		store_mysql_close(s);
		return -ERR_BAD_REQUEST;
	}
	s->local = store_mysql_host_local(s->host, s->socket);
	if ((r = store_mysql_connect(s, err)) < 0) {
		store_mysql_close(s);
		return r;
	}
	*out = s;
	return 0;
}

/* Runs each statement of a migration (split at ';' outside comments). */
static int
store_mysql_exec_script(struct store_mysql *s, const char *sql)
{
	const char *p = sql, *start = sql;
	bool text = false;

	for (; *p != '\0'; p++) {
		if (p[0] == '-' && p[1] == '-') {
			p += strcspn(p, "\n");
			if (*p == '\0')
				break;
			continue;
		}
		if (*p > ' ' && *p != ';')
			text = true;
		if (*p != ';')
			continue;
		if (text &&
		    mysql_real_query(s->db, start, (unsigned long)(p - start)))
			return store_mysql_fail(s, mysql_errno(s->db),
			                        mysql_error(s->db), "migration",
			                        false);
		start = p + 1;
		text = false;
	}
	return 0;
}

/* Applies one migration step unless schema_version has it already. */
static int
store_mysql_migrate_step(struct store_mysql *s, const struct schema_step *step)
{
	int64_t have;
	int r;

	r = store_mysql_int(s, SQ_VERSION_HAS, &have, "i",
	                    (int64_t)step->version);
	if (r != 0)
		return r < 0 ? r : 0;
	if ((r = store_mysql_exec_script(s, step->sql)) < 0) {
		log_error("mysql %s/%s: migration %s failed", s->host, s->name,
		          step->name);
		return r;
	}
	r = store_mysql_run(s, SQ_VERSION_ADD, "isi", (int64_t)step->version,
	                    step->name, store_now_ms());
	if (r == 0)
		log_info("mysql %s/%s: applied schema %s", s->host, s->name,
		         step->name);
	return r;
}

/*
 * Applies every embedded migration not yet recorded, in order. DDL
 * commits implicitly in MySQL, so nodes starting together serialize on a
 * named lock instead of a transaction.
 */
static int
store_mysql_migrate_body(struct store_mysql *s, void *arg)
{
	const struct schema_step *step;
	int64_t got = 0, have = 0;
	char *where;
	int r;

	(void)arg;
	if ((r = store_mysql_int(s, SQ_LOCK, &got, "")) < 0)
		return r;
	if (got != 1)
		return -ERR_UNAVAILABLE;
	if ((r = store_mysql_run(s, SQ_VERSION_TABLE, "")) == 0 &&
	    (r = store_mysql_int(s, SQ_VERSION_MAX, &have, "")) >= 0) {
		where = xasprintf("mysql %s/%s", s->host, s->name);
		r = store_common_schema_newer(schema_mysql, have, where);
		free(where);
	}
	for (step = schema_mysql; r == 0 && step->version != 0; step++)
		r = store_mysql_migrate_step(s, step);
	if (s->db != NULL)
		(void)store_mysql_int(s, SQ_UNLOCK, &got, "");
	return r;
}

/* Applies pending migrations. */
static int
store_mysql_migrate(void *c)
{
	return store_mysql_call(c, false, store_mysql_migrate_body, NULL, NULL);
}

/* --- the calls' arguments --- */

/*
 * The arguments and outputs of one store call, as the body functions
 * below see them. Unused fields stay zero.
 */
struct store_mysql_op {
	int64_t uid, gid, seq, before;
	const char *name, *desc, *conv;
	const char *hash;
	size_t limit;
	const struct store_send *in;
	struct store_user *user;
	struct store_group *group;
	struct store_user **users;
	struct store_group **groups;
	struct store_member **members;
	struct store_msg **msgs;
	struct store_msg *msg;
	struct store_ids *ids;
	size_t *n;
	bool *flag; /* created, dup or more */
	char *pwhash;
	enum store_mysql_sq sq; /* the id list to read */
};

/* --- users --- */

/* Whether a user called op->name exists: -ERR_NAME_TAKEN or 0. */
static int
store_mysql_name_free(struct store_mysql *s, void *arg)
{
	struct store_mysql_op *op = arg;
	int64_t id;
	int r;

	r = store_mysql_int(s, SQ_USER_ID_BY_NAME, &id, "s", op->name);
	return r != 0 ? (r < 0 ? r : -ERR_NAME_TAKEN) : 0;
}

/* Inserts the user; the UNIQUE key settles a race for the name. */
static int
store_mysql_user_insert(struct store_mysql *s, void *arg)
{
	struct store_mysql_op *op = arg;
	bool dup;
	int r;

	if ((r = store_mysql_run_dup(s, SQ_USER_INSERT, &dup, "ssi", op->name,
	                             op->hash, store_now_ms())) < 0)
		return r;
	if (dup)
		return -ERR_NAME_TAKEN;
	op->user->id = (int64_t)mysql_stmt_insert_id(s->stmt[SQ_USER_INSERT]);
	return 0;
}

/* Hashes outside any transaction (it is slow), then inserts. */
static int
store_mysql_user_register(void *c, const char *name, const char *password,
                          struct store_user *out)
{
	struct store_mysql_op op = {.name = name, .user = out};
	char hash[PWHASH_MAX];
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = store_mysql_call(c, false, store_mysql_name_free, NULL, &op)) <
	    0)
		return r;
	if ((r = pwhash_make(&((struct store_mysql *)c)->opt, password, hash)) <
	    0)
		return r;
	op.hash = hash;
	if ((r = store_mysql_call(c, true, store_mysql_user_insert, NULL,
	                          &op)) < 0)
		return r;
	out->name = xstrdup(name);
	return 0;
}

/* Clears a user output and the hash read with it. */
static void
store_mysql_user_undo(void *arg)
{
	struct store_mysql_op *op = arg;

	store_user_clear(op->user);
	free(op->pwhash);
	op->pwhash = NULL;
}

/* Reads id, name and hash of op->name; nothing if there is none. */
static int
store_mysql_user_lookup(struct store_mysql *s, void *arg)
{
	struct store_mysql_op *op = arg;
	struct store_mysql_res res;
	int r;

	if ((r = store_mysql_query(s, SQ_USER_BY_NAME, &res, "s", op->name)) <
	    0)
		return r;
	if ((r = store_mysql_fetch(&res)) == 1) {
		op->user->id = store_mysql_col_int(&res, 0);
		op->user->name = store_mysql_col_str_nn(&res, 1);
		op->pwhash = store_mysql_col_str_nn(&res, 2);
	}
	store_mysql_res_end(&res);
	return r < 0 ? r : 0;
}

/* Looks the name up, then verifies with no statement open. */
static int
store_mysql_user_login(void *c, const char *name, const char *password,
                       struct store_user *out)
{
	struct store_mysql *s = c;
	struct store_mysql_op op = {.name = name, .user = out};
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = store_mysql_call(s, false, store_mysql_user_lookup,
	                          store_mysql_user_undo, &op)) < 0)
		return r;
	if (op.pwhash == NULL)
		return store_common_login_unknown(&s->dummy, &s->opt, password);
	if (!pwhash_check(op.pwhash, password)) {
		store_user_clear(out);
		r = -ERR_BAD_CREDENTIALS;
	}
	free(op.pwhash);
	return r;
}

/* Reads user op->uid into op->user; -ERR_NOT_FOUND. */
static int
store_mysql_user_read(struct store_mysql *s, void *arg)
{
	struct store_mysql_op *op = arg;
	struct store_mysql_res res;
	int r;

	if ((r = store_mysql_query(s, SQ_USER_BY_ID, &res, "i", op->uid)) < 0)
		return r;
	if ((r = store_mysql_fetch(&res)) == 1) {
		op->user->id = store_mysql_col_int(&res, 0);
		op->user->name = store_mysql_col_str_nn(&res, 1);
	}
	store_mysql_res_end(&res);
	return r < 0 ? r : r == 1 ? 0 : -ERR_NOT_FOUND;
}

/* Reads the user with id into out. */
static int
store_mysql_user_get(void *c, int64_t id, struct store_user *out)
{
	struct store_mysql_op op = {.uid = id, .user = out};

	memset(out, 0, sizeof(*out));
	return store_mysql_call(c, false, store_mysql_user_read,
	                        store_mysql_user_undo, &op);
}

/* --- friends --- */

/* Puts uid into conversation conv (creating it), cursor at its end. */
static int
store_mysql_conv_enter(struct store_mysql *s, const char *conv, int64_t uid,
                       bool reset)
{
	int r;

	if ((r = store_mysql_run(s, SQ_CONV_ENSURE, "s", conv)) < 0)
		return r;
	return store_mysql_run(s, reset ? SQ_CONV_REENTER : SQ_CONV_ENTER, "is",
	                       uid, conv);
}

/* The body of store_friend_add, inside its transaction. */
static int
store_mysql_friend_add_txn(struct store_mysql *s, void *arg)
{
	struct store_mysql_op *op = arg;
	char conv[STORE_CONV_MAX];
	int64_t fid, one, now = store_now_ms();
	int r;

	if ((r = store_mysql_int(s, SQ_USER_ID_BY_NAME, &fid, "s", op->name)) <=
	    0)
		return r < 0 ? r : -ERR_NOT_FOUND;
	if (fid == op->uid)
		return -ERR_BAD_REQUEST;
	if ((r = store_mysql_int(s, SQ_FRIEND_CHECK, &one, "ii", op->uid,
	                         fid)) < 0)
		return r;
	*op->flag = r == 0;
	if (*op->flag &&
	    (r = store_mysql_run(s, SQ_FRIEND_INSERT, "iiiiii", op->uid, fid,
	                         now, fid, op->uid, now)) < 0)
		return r;
	/* For an existing friendship this only repairs missing rows. */
	store_conv_direct(conv, op->uid, fid);
	if ((r = store_mysql_conv_enter(s, conv, op->uid, false)) < 0 ||
	    (r = store_mysql_conv_enter(s, conv, fid, false)) < 0)
		return r;
	op->user->id = fid;
	op->user->name = xstrdup(op->name);
	return 0;
}

/* Clears the outputs of a failed friend_add. */
static void
store_mysql_friend_add_undo(void *arg)
{
	struct store_mysql_op *op = arg;

	store_user_clear(op->user);
	*op->flag = false;
}

/* Befriends both ways in one transaction. */
static int
store_mysql_friend_add(void *c, int64_t uid, const char *name,
                       struct store_user *out, bool *created)
{
	struct store_mysql_op op = {
	    .uid = uid, .name = name, .user = out, .flag = created};

	memset(out, 0, sizeof(*out));
	*created = false;
	return store_mysql_call(c, true, store_mysql_friend_add_txn,
	                        store_mysql_friend_add_undo, &op);
}

/* The body of store_friend_remove, inside its transaction. */
static int
store_mysql_friend_remove_txn(struct store_mysql *s, void *arg)
{
	struct store_mysql_op *op = arg;
	char conv[STORE_CONV_MAX];
	uint64_t n = 0;
	int r;

	if ((r = store_mysql_run_n(s, SQ_FRIEND_DELETE, &n, "iiii", op->uid,
	                           op->gid, op->gid, op->uid)) < 0)
		return r;
	if (n == 0)
		return -ERR_NOT_FRIENDS;
	/* The writers' known friendships are void from its commit on. */
	if ((r = store_mysql_run(s, SQ_EPOCH_BUMP, "i",
	                         (int64_t)STORE_MYSQL_EPOCH_FRIENDS)) < 0)
		return r;
	store_conv_direct(conv, op->uid, op->gid);
	if ((r = store_mysql_run(s, SQ_CONV_LEAVE, "si", conv, op->uid)) < 0)
		return r;
	return store_mysql_run(s, SQ_CONV_LEAVE, "si", conv, op->gid);
}

/* Ends the friendship both ways; both leave their direct conversation. */
static int
store_mysql_friend_remove(void *c, int64_t uid, int64_t fid)
{
	struct store_mysql_op op = {.uid = uid, .gid = fid};

	return store_mysql_call(c, true, store_mysql_friend_remove_txn, NULL,
	                        &op);
}

/* Frees a user list output. */
static void
store_mysql_users_undo(void *arg)
{
	struct store_mysql_op *op = arg;

	store_users_free(*op->users, *op->n);
	*op->users = NULL;
	*op->n = 0;
}

/* Reads op->uid's friends sorted by name. */
static int
store_mysql_friends_read(struct store_mysql *s, void *arg)
{
	struct store_mysql_op *op = arg;
	struct store_mysql_res res;
	struct store_user *u;
	size_t cap = 0;
	int r;

	if ((r = store_mysql_query(s, SQ_FRIENDS, &res, "i", op->uid)) < 0)
		return r;
	while ((r = store_mysql_fetch(&res)) == 1) {
		*op->users =
		    xgrow(*op->users, *op->n, &cap, sizeof(**op->users));
		u = &(*op->users)[(*op->n)++];
		memset(u, 0, sizeof(*u));
		u->id = store_mysql_col_int(&res, 0);
		u->name = store_mysql_col_str_nn(&res, 1);
	}
	store_mysql_res_end(&res);
	return r;
}

/* uid's friends sorted by name. */
static int
store_mysql_friends(void *c, int64_t uid, struct store_user **out, size_t *n)
{
	struct store_mysql_op op = {.uid = uid, .users = out, .n = n};

	*out = NULL;
	*n = 0;
	return store_mysql_call(c, false, store_mysql_friends_read,
	                        store_mysql_users_undo, &op);
}

/* Reads an id list (op->ids) with statement op->sq for key op->uid. */
static int
store_mysql_ids_read(struct store_mysql *s, void *arg)
{
	struct store_mysql_op *op = arg;

	return store_mysql_ids(s, op->sq, op->uid, op->ids);
}

/* uid's friends' ids, ascending. */
static int
store_mysql_friend_ids(void *c, int64_t uid, struct store_ids *out)
{
	struct store_mysql_op op = {
	    .uid = uid, .sq = SQ_FRIEND_IDS, .ids = out};

	return store_mysql_call(c, false, store_mysql_ids_read, NULL, &op);
}

/* --- groups --- */

/* The body of store_group_create, inside its transaction. */
static int
store_mysql_group_create_txn(struct store_mysql *s, void *arg)
{
	struct store_mysql_op *op = arg;
	char conv[STORE_CONV_MAX];
	int64_t gid, now = store_now_ms();
	bool dup;
	int r;

	if ((r = store_mysql_int(s, SQ_GROUP_BY_NAME, &gid, "s", op->name)) !=
	    0)
		return r < 0 ? r : -ERR_NAME_TAKEN;
	if ((r = store_mysql_run_dup(s, SQ_GROUP_INSERT, &dup, "ssii", op->name,
	                             op->desc, op->uid, now)) < 0)
		return r;
	if (dup)
		return -ERR_NAME_TAKEN;
	gid = (int64_t)mysql_stmt_insert_id(s->stmt[SQ_GROUP_INSERT]);
	if ((r = store_mysql_run(s, SQ_MEMBER_INSERT, "iiii", gid, op->uid,
	                         (int64_t)STORE_ROLE_CREATOR, now)) < 0)
		return r;
	store_conv_group(conv, gid);
	if ((r = store_mysql_conv_enter(s, conv, op->uid, true)) < 0)
		return r;
	op->group->id = gid;
	op->group->name = xstrdup(op->name);
	op->group->desc = xstrdup(op->desc);
	op->group->role = STORE_ROLE_CREATOR;
	return 0;
}

/* Clears a group output. */
static void
store_mysql_group_undo(void *arg)
{
	struct store_mysql_op *op = arg;

	store_group_clear(op->group);
}

/* Creates the group with uid as its creator; desc NULL means "". */
static int
store_mysql_group_create(void *c, int64_t uid, const char *name,
                         const char *desc, struct store_group *out)
{
	struct store_mysql_op op = {.uid = uid,
	                            .name = name,
	                            .desc = desc != NULL ? desc : "",
	                            .group = out};

	memset(out, 0, sizeof(*out));
	return store_mysql_call(c, true, store_mysql_group_create_txn,
	                        store_mysql_group_undo, &op);
}

/* Reads a group by id (gid > 0) or name into out; -ERR_NOT_FOUND. */
static int
store_mysql_group_find(struct store_mysql *s, int64_t gid, const char *name,
                       struct store_group *out)
{
	struct store_mysql_res res;
	int r;

	if (gid > 0)
		r = store_mysql_query(s, SQ_GROUP_BY_ID, &res, "i", gid);
	else if (name != NULL)
		r = store_mysql_query(s, SQ_GROUP_BY_NAME, &res, "s", name);
	else
		return -ERR_NOT_FOUND;
	if (r < 0)
		return r;
	if ((r = store_mysql_fetch(&res)) == 1) {
		out->id = store_mysql_col_int(&res, 0);
		out->name = store_mysql_col_str_nn(&res, 1);
		out->desc = store_mysql_col_str_nn(&res, 2);
	}
	store_mysql_res_end(&res);
	return r < 0 ? r : r == 1 ? 0 : -ERR_NOT_FOUND;
}

/* The body of store_group_join, inside its transaction. */
static int
store_mysql_group_join_txn(struct store_mysql *s, void *arg)
{
	struct store_mysql_op *op = arg;
	char conv[STORE_CONV_MAX];
	int64_t role;
	bool dup;
	int r;

	if ((r = store_mysql_group_find(s, op->gid, op->name, op->group)) < 0)
		return r;
	if ((r = store_mysql_int(s, SQ_MEMBER_ROLE, &role, "ii", op->group->id,
	                         op->uid)) != 0)
		return r < 0 ? r : -ERR_ALREADY_MEMBER;
	/* A concurrent join of the same user may win the race. */
	if ((r = store_mysql_run_dup(
	         s, SQ_MEMBER_INSERT, &dup, "iiii", op->group->id, op->uid,
	         (int64_t)STORE_ROLE_MEMBER, store_now_ms())) < 0)
		return r;
	if (dup)
		return -ERR_ALREADY_MEMBER;
	/* The writers' known member lists are void from its commit on. */
	if ((r = store_mysql_run(s, SQ_EPOCH_BUMP, "i",
	                         (int64_t)STORE_MYSQL_EPOCH_MEMBERS)) < 0)
		return r;
	store_conv_group(conv, op->group->id);
	op->group->role = STORE_ROLE_MEMBER;
	return store_mysql_conv_enter(s, conv, op->uid, true);
}

/* Joins; the new member's cursor starts at the group's last seq. */
static int
store_mysql_group_join(void *c, int64_t uid, int64_t gid, const char *name,
                       struct store_group *out)
{
	struct store_mysql_op op = {
	    .uid = uid, .gid = gid, .name = name, .group = out};

	memset(out, 0, sizeof(*out));
	return store_mysql_call(c, true, store_mysql_group_join_txn,
	                        store_mysql_group_undo, &op);
}

/* Whether group gid exists: 1, 0 or a negative errcode. */
static int
store_mysql_group_exists(struct store_mysql *s, int64_t gid)
{
	int64_t id;

	return store_mysql_int(s, SQ_GROUP_BY_ID, &id, "i", gid);
}

/* The body of store_group_leave, inside its transaction. */
static int
store_mysql_group_leave_txn(struct store_mysql *s, void *arg)
{
	struct store_mysql_op *op = arg;
	char conv[STORE_CONV_MAX];
	uint64_t n = 0;
	int r;

	if ((r = store_mysql_group_exists(s, op->gid)) <= 0)
		return r < 0 ? r : -ERR_NOT_FOUND;
	if ((r = store_mysql_run_n(s, SQ_MEMBER_DELETE, &n, "ii", op->gid,
	                           op->uid)) < 0)
		return r;
	if (n == 0)
		return -ERR_NOT_MEMBER;
	/* A writer must not push to the leaver from its commit on. */
	if ((r = store_mysql_run(s, SQ_EPOCH_BUMP, "i",
	                         (int64_t)STORE_MYSQL_EPOCH_MEMBERS)) < 0)
		return r;
	store_conv_group(conv, op->gid);
	return store_mysql_run(s, SQ_CONV_LEAVE, "si", conv, op->uid);
}

/* Leaves the group and its conversation; the group stays. */
static int
store_mysql_group_leave(void *c, int64_t uid, int64_t gid)
{
	struct store_mysql_op op = {.uid = uid, .gid = gid};

	return store_mysql_call(c, true, store_mysql_group_leave_txn, NULL,
	                        &op);
}

/* Frees a group list output. */
static void
store_mysql_groups_undo(void *arg)
{
	struct store_mysql_op *op = arg;

	store_groups_free(*op->groups, *op->n);
	*op->groups = NULL;
	*op->n = 0;
}

/* A stored role as the enum. */
static enum store_role
store_mysql_role(int64_t v)
{
	return v == STORE_ROLE_CREATOR ? STORE_ROLE_CREATOR : STORE_ROLE_MEMBER;
}

/* Reads op->uid's groups sorted by name, with its role in each. */
static int
store_mysql_groups_read(struct store_mysql *s, void *arg)
{
	struct store_mysql_op *op = arg;
	struct store_mysql_res res;
	struct store_group *g;
	size_t cap = 0;
	int r;

	if ((r = store_mysql_query(s, SQ_GROUPS, &res, "i", op->uid)) < 0)
		return r;
	while ((r = store_mysql_fetch(&res)) == 1) {
		*op->groups =
		    xgrow(*op->groups, *op->n, &cap, sizeof(**op->groups));
		g = &(*op->groups)[(*op->n)++];
		g->id = store_mysql_col_int(&res, 0);
		g->name = store_mysql_col_str_nn(&res, 1);
		g->desc = store_mysql_col_str_nn(&res, 2);
		g->role = store_mysql_role(store_mysql_col_int(&res, 3));
	}
	store_mysql_res_end(&res);
	return r;
}

/* uid's groups sorted by name, with uid's role in each. */
static int
store_mysql_groups(void *c, int64_t uid, struct store_group **out, size_t *n)
{
	struct store_mysql_op op = {.uid = uid, .groups = out, .n = n};

	*out = NULL;
	*n = 0;
	return store_mysql_call(c, false, store_mysql_groups_read,
	                        store_mysql_groups_undo, &op);
}

/* Frees a member list output. */
static void
store_mysql_members_undo(void *arg)
{
	struct store_mysql_op *op = arg;

	store_members_free(*op->members, *op->n);
	*op->members = NULL;
	*op->n = 0;
}

/* Reads the members of op->gid, sorted by name, for a member op->uid. */
static int
store_mysql_members_read(struct store_mysql *s, void *arg)
{
	struct store_mysql_op *op = arg;
	struct store_mysql_res res;
	struct store_member *m;
	int64_t role;
	size_t cap = 0;
	int r;

	if ((r = store_mysql_group_exists(s, op->gid)) <= 0)
		return r < 0 ? r : -ERR_NOT_FOUND;
	if ((r = store_mysql_int(s, SQ_MEMBER_ROLE, &role, "ii", op->gid,
	                         op->uid)) <= 0)
		return r < 0 ? r : -ERR_NOT_MEMBER;
	if ((r = store_mysql_query(s, SQ_MEMBERS, &res, "i", op->gid)) < 0)
		return r;
	while ((r = store_mysql_fetch(&res)) == 1) {
		*op->members =
		    xgrow(*op->members, *op->n, &cap, sizeof(**op->members));
		m = &(*op->members)[(*op->n)++];
		memset(m, 0, sizeof(*m));
		m->id = store_mysql_col_int(&res, 0);
		m->name = store_mysql_col_str_nn(&res, 1);
		m->role = store_mysql_role(store_mysql_col_int(&res, 2));
	}
	store_mysql_res_end(&res);
	return r;
}

/* The members of gid, sorted by name, for a member uid. */
static int
store_mysql_group_members(void *c, int64_t uid, int64_t gid,
                          struct store_member **out, size_t *n)
{
	struct store_mysql_op op = {
	    .uid = uid, .gid = gid, .members = out, .n = n};

	*out = NULL;
	*n = 0;
	return store_mysql_call(c, false, store_mysql_members_read,
	                        store_mysql_members_undo, &op);
}

/* Member ids of gid, ascending; empty for an unknown group. */
static int
store_mysql_group_member_ids(void *c, int64_t gid, struct store_ids *out)
{
	struct store_mysql_op op = {
	    .uid = gid, .sq = SQ_MEMBER_IDS, .ids = out};

	return store_mysql_call(c, false, store_mysql_ids_read, NULL, &op);
}

/* --- messages --- */

/* Reads a row of STORE_MYSQL_MSG_COLS into m. */
static void
store_mysql_msg_row(struct store_mysql_res *res, struct store_msg *m)
{
	memset(m, 0, sizeof(*m));
	store_mysql_col_copy(res, 0, m->conv, sizeof(m->conv));
	m->seq = store_mysql_col_int(res, 1);
	m->from_id = store_mysql_col_int(res, 2);
	m->from_name = store_mysql_col_str_nn(res, 3);
	m->to_user = store_mysql_col_int(res, 4);
	m->to_group = store_mysql_col_int(res, 5);
	m->body = store_mysql_col_str_nn(res, 6);
	m->ts = store_mysql_col_int(res, 7);
	m->cmid = store_mysql_col_str(res, 8);
}

/*
 * Reads the rows of an executed message query, keeping up to max; *more
 * says whether another row followed. Ends res.
 */
static int
store_mysql_msgs_read(struct store_mysql_res *res, size_t max,
                      struct store_msg **out, size_t *n, bool *more)
{
	size_t cap = 0;
	int r;

	*more = false;
	while ((r = store_mysql_fetch(res)) == 1) {
		if (*n == max) {
			*more = true;
			r = 0;
			break;
		}
		*out = xgrow(*out, *n, &cap, sizeof(**out));
		store_mysql_msg_row(res, &(*out)[(*n)++]);
	}
	store_mysql_res_end(res);
	if (r < 0) {
		store_msgs_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return r;
}

/* Who gets message m live: both sides, or every member of the group. */
static int
store_mysql_rcpt(struct store_mysql *s, const struct store_msg *m,
                 struct store_ids *rcpt)
{
	if (rcpt == NULL)
		return 0;
	if (m->to_group != 0)
		return store_mysql_ids(s, SQ_MEMBER_IDS, m->to_group, rcpt);
	store_common_rcpt_direct(m, rcpt);
	return 0;
}

/* The sender's earlier message with in->cmid: 1 and *out, 0 or error. */
static int
store_mysql_msg_by_cmid(struct store_mysql *s, const struct store_send *in,
                        struct store_msg *out)
{
	struct store_mysql_res res;
	struct store_msg *v = NULL;
	size_t n = 0;
	bool more;
	int r;

	if ((r = store_mysql_query(s, SQ_MSG_BY_CMID, &res, "is", in->from_id,
	                           in->cmid)) < 0)
		return r;
	if ((r = store_mysql_msgs_read(&res, 1, &v, &n, &more)) < 0)
		return r;
	if (n == 1)
		*out = v[0];
	free(v);
	return n == 1;
}

/*
 * Why a direct message may not go to in->to_user: -ERR_NOT_FOUND for no
 * such user, else -ERR_NOT_FRIENDS (oneself included).
 */
static int
store_mysql_msg_direct_denied(struct store_mysql *s,
                              const struct store_send *in)
{
	int64_t x;
	int r;

	r = store_mysql_int(s, SQ_USER_BY_ID, &x, "i", in->to_user);
	return r < 0 ? r : r == 0 ? -ERR_NOT_FOUND : -ERR_NOT_FRIENDS;
}

/* Whether rcpt holds uid. */
static bool
store_mysql_ids_has(const struct store_ids *rcpt, int64_t uid)
{
	size_t i;

	for (i = 0; i < rcpt->n; i++)
		if (rcpt->ids[i] == uid)
			return true;
	return false;
}

/*
 * Checks the sender may write to the target and writes the conv id. The
 * common case costs one statement: the friendship or membership row (its
 * foreign keys vouch for the target); only a refusal looks further, to
 * tell "no such target" from "not allowed". When rcpt is not NULL a group's
 * member list (which rcpt needs anyway) is the membership check.
 */
int
store_mysql_msg_check(struct store_mysql *s, const struct store_send *in,
                      char *conv, struct store_ids *rcpt)
{
	int64_t x;
	int r;

	if (in->to_user != 0) {
		store_conv_direct(conv, in->from_id, in->to_user);
		if (in->to_user == in->from_id)
			return store_mysql_msg_direct_denied(s, in);
		r = store_mysql_int(s, SQ_FRIEND_CHECK, &x, "ii", in->from_id,
		                    in->to_user);
		return r != 0 ? (r < 0 ? r : 0)
		              : store_mysql_msg_direct_denied(s, in);
	}
	store_conv_group(conv, in->to_group);
	if (rcpt != NULL) {
		r = store_mysql_ids(s, SQ_MEMBER_IDS, in->to_group, rcpt);
		if (r == 0 && store_mysql_ids_has(rcpt, in->from_id))
			r = 1;
	} else {
		r = store_mysql_int(s, SQ_MEMBER_ROLE, &x, "ii", in->to_group,
		                    in->from_id);
	}
	if (r != 0)
		return r < 0 ? r : 0;
	r = store_mysql_group_exists(s, in->to_group);
	return r < 0 ? r : r == 0 ? -ERR_NOT_FOUND : -ERR_NOT_MEMBER;
}

/*
 * Reads the conversation's next seq into *seq and inserts the message
 * there: 0, 1 if a key is taken, or a negative errcode. The read locks
 * the conversation's last message, waiting for any writer that inserted
 * after it to commit; a plain read would not see such a row, and against
 * another node's writer that streams its inserts from its seq hints
 * every insert would then find its seq taken. Another writer may still
 * take the seq between the read and the insert: the seq is then read
 * again and, if it moved, the insert tried again, up to
 * STORE_MYSQL_SEQ_TRIES times. If it did not move, the key taken is
 * (sender, cmid).
 */
static int
store_mysql_msg_insert_at_end(struct store_mysql *s,
                              const struct store_send *in, const char *conv,
                              int64_t *seq)
{
	int64_t was = 0;
	bool dup;
	int r, i;

	for (i = 0; i < STORE_MYSQL_SEQ_TRIES; i++) {
		if ((r = store_mysql_int(s, SQ_SEQ_LAST, seq, "s", conv)) < 0)
			return r;
		if (r == 0) /* a SELECT without FROM always has its row */
			return -ERR_INTERNAL;
		++*seq;
		if (i > 0 && *seq == was)
			return 1;
		dup = false;
		if ((r = store_mysql_run_dup(
		         s, SQ_MSG_INSERT, &dup, "siinnbisi", conv, *seq,
		         in->from_id, in->to_user, in->to_group, in->body,
		         in->body_len, in->ts, in->cmid,
		         store_mysql_ord_next(s))) < 0 ||
		    !dup)
			return r;
		was = *seq;
	}
	return 1;
}

/*
 * Takes the conversation's next seq and inserts the message: 0, 1 if the
 * key (sender, cmid) is taken, or (conv, seq) again and again (no lookup
 * before; the caller tells them apart), or a negative errcode. The
 * conversation's row comes first: the messages' foreign key wants it.
 */
static int
store_mysql_msg_insert(struct store_mysql *s, const struct store_send *in,
                       const char *conv, struct store_msg *out)
{
	struct store_user sender = {0};
	struct store_mysql_op op = {.uid = in->from_id, .user = &sender};
	int64_t seq = 0;
	int r;

	/* The caller knows the sender's name from the login: lent. */
	if (in->from_name == NULL && (r = store_mysql_user_read(s, &op)) < 0)
		return r;
	if ((r = store_mysql_run(s, SQ_CONV_ENSURE, "s", conv)) == 0)
		r = store_mysql_msg_insert_at_end(s, in, conv, &seq);
	if (r != 0) {
		store_user_clear(&sender);
		return r;
	}
	store_mysql_seq_note(s, in, seq + 1);
	store_common_msg_fill(in, conv, seq, sender.name, out);
	return 0;
}

/*
 * The sender's earlier message with in->cmid, in place of a new one: the
 * stored message wins over any later change, checks included. r is what
 * storing a new one gave: a refusal, or 1 for a cmid that is taken. READ
 * COMMITTED: the lookup sees a row that another connection committed
 * while the insert waited for it.
 */
static int
store_mysql_msg_retry(struct store_mysql *s, struct store_mysql_op *op, int r)
{
	int found;

	if (op->ids != NULL) { /* a group's, filled by the check */
		free(op->ids->ids);
		op->ids->ids = NULL;
		op->ids->n = 0;
	}
	if ((found = store_mysql_msg_by_cmid(s, op->in, op->msg)) < 0)
		return found;
	if (found == 0) { /* gone again, or a duplicate (conv, seq) */
		s->retryable = r == 1;
		return r == 1 ? -ERR_UNAVAILABLE : r;
	}
	*op->flag = true;
	return store_mysql_rcpt(s, op->msg, op->ids);
}

/*
 * The body of store_msg_append, inside its transaction. The common case
 * costs three statements: the check, the seq and the insert; the cmid is
 * looked up only when the insert finds it taken or the check refuses.
 */
static int
store_mysql_msg_append_txn(struct store_mysql *s, void *arg)
{
	struct store_mysql_op *op = arg;
	const struct store_send *in = op->in;
	char conv[STORE_CONV_MAX];
	int r;

	/* A group's rcpt is read by the check. */
	if ((r = store_mysql_msg_check(s, in, conv, op->ids)) == 0 &&
	    (r = store_mysql_msg_insert(s, in, conv, op->msg)) == 0)
		return in->to_group != 0
		           ? 0
		           : store_mysql_rcpt(s, op->msg, op->ids);
	if (in->cmid == NULL || (r < 0 && !store_common_refused(r)))
		return r < 0 ? r : -ERR_INTERNAL;
	return store_mysql_msg_retry(s, op, r);
}

/* Clears the outputs of a failed append. */
static void
store_mysql_msg_append_undo(void *arg)
{
	struct store_mysql_op *op = arg;

	store_msg_clear(op->msg);
	*op->flag = false;
	if (op->ids != NULL) {
		free(op->ids->ids);
		op->ids->ids = NULL;
		op->ids->n = 0;
	}
}

/* Stores a message in one transaction. */
int
store_mysql_msg_append(void *c, const struct store_send *in,
                       struct store_msg *out, bool *dup, struct store_ids *rcpt)
{
	struct store_mysql_op op = {
	    .in = in, .msg = out, .flag = dup, .ids = rcpt};

	memset(out, 0, sizeof(*out));
	*dup = false;
	if (rcpt != NULL) {
		rcpt->ids = NULL;
		rcpt->n = 0;
	}
	if ((in->to_user != 0) == (in->to_group != 0) || in->body == NULL)
		return -ERR_BAD_REQUEST;
	return store_mysql_call(c, true, store_mysql_msg_append_txn,
	                        store_mysql_msg_append_undo, &op);
}

/* Frees a message list output. */
static void
store_mysql_msgs_undo(void *arg)
{
	struct store_mysql_op *op = arg;

	store_msgs_free(*op->msgs, *op->n);
	*op->msgs = NULL;
	*op->n = 0;
	if (op->flag != NULL)
		*op->flag = false;
}

/* A conversation with messages above a user's cursor. */
struct store_mysql_pending {
	char conv[STORE_CONV_MAX];
	int64_t acked;
};

/* Lists uid's conversations with messages above its cursor. */
static int
store_mysql_sync_convs(struct store_mysql *s, int64_t uid,
                       struct store_mysql_pending **out, size_t *n)
{
	struct store_mysql_res res;
	size_t cap = 0;
	int r;

	*out = NULL;
	*n = 0;
	if ((r = store_mysql_query(s, SQ_SYNC_CONVS, &res, "i", uid)) < 0)
		return r;
	while ((r = store_mysql_fetch(&res)) == 1) {
		*out = xgrow(*out, *n, &cap, sizeof(**out));
		store_mysql_col_copy(&res, 0, (*out)[*n].conv, STORE_CONV_MAX);
		(*out)[(*n)++].acked = store_mysql_col_int(&res, 1);
	}
	store_mysql_res_end(&res);
	return r;
}

/* The messages a sync has read so far: op's list, and their ords. */
struct store_mysql_sync {
	struct store_mysql_op *op;
	size_t cap;
	int64_t *ord;
	size_t ord_cap;
};

/*
 * Appends up to max messages of p above its cursor to the sync's; *part
 * counts them and says whether more wait.
 */
static int
store_mysql_sync_part(struct store_mysql *s, struct store_mysql_sync *y,
                      const struct store_mysql_pending *p, size_t max,
                      struct syncorder_part *part)
{
	struct store_mysql_res res;
	struct store_msg **v = y->op->msgs;
	size_t *n = y->op->n, start = *n;
	int r;

	/* One more than max, to know whether more wait. */
	if ((r = store_mysql_query(s, SQ_SYNC_CONV, &res, "sii", p->conv,
	                           p->acked, (int64_t)max + 1)) < 0)
		return r;
	while ((r = store_mysql_fetch(&res)) == 1) {
		*v = xgrow(*v, *n, &y->cap, sizeof(**v));
		y->ord = xgrow(y->ord, *n, &y->ord_cap, sizeof(*y->ord));
		y->ord[*n] = store_mysql_col_int(&res, 9);
		store_mysql_msg_row(&res, &(*v)[(*n)++]);
	}
	store_mysql_res_end(&res);
	part->partial = *n - start > max;
	if (part->partial)
		store_msg_clear(&(*v)[--*n]);
	part->n = *n - start;
	return r;
}

/* Each conversation's share of a sync's limit. */
static size_t
store_mysql_sync_share(size_t limit, size_t convs)
{
	size_t share = convs > 0 ? limit / convs : 0;

	if (share < STORE_MYSQL_SYNC_SHARE)
		share = STORE_MYSQL_SYNC_SHARE;
	return share < limit ? share : limit;
}

/*
 * Reads up to op->limit messages above op->uid's cursors, oldest first:
 * each conversation with some, up to its share of the limit, then
 * syncorder_sort.
 */
static int
store_mysql_sync_read(struct store_mysql *s, void *arg)
{
	struct store_mysql_sync y = {.op = arg};
	struct store_mysql_op *op = arg;
	struct store_mysql_pending *pend;
	struct syncorder_part *parts;
	size_t k, i, share, keep;
	int r;

	if ((r = store_mysql_sync_convs(s, op->uid, &pend, &k)) < 0) {
		free(pend);
		return r;
	}
	share = store_mysql_sync_share(op->limit, k);
	parts = xcalloc(k + 1, sizeof(*parts));
	for (i = 0; i < k && r >= 0; i++)
		r = store_mysql_sync_part(s, &y, &pend[i], share, &parts[i]);
	if (r >= 0) {
		keep = syncorder_sort(*op->msgs, y.ord, *op->n, parts, k,
		                      op->limit, op->flag);
		while (*op->n > keep)
			store_msg_clear(&(*op->msgs)[--*op->n]);
	}
	free(y.ord);
	free(parts);
	free(pend);
	return r < 0 ? r : 0;
}

/* Everything above uid's cursors; within a conversation, in seq order. */
static int
store_mysql_sync(void *c, int64_t uid, size_t limit, struct store_msg **out,
                 size_t *n, bool *more)
{
	struct store_mysql_op op = {
	    .uid = uid, .msgs = out, .n = n, .flag = more};

	*out = NULL;
	*n = 0;
	*more = false;
	op.limit =
	    limit > STORE_MYSQL_LIMIT_MAX ? STORE_MYSQL_LIMIT_MAX : limit;
	return store_mysql_call(c, false, store_mysql_sync_read,
	                        store_mysql_msgs_undo, &op);
}

/* Moves op->uid's cursor in op->conv; -ERR_NOT_MEMBER if no row. */
static int
store_mysql_ack_txn(struct store_mysql *s, void *arg)
{
	struct store_mysql_op *op = arg;
	uint64_t n = 0;
	int r;

	if ((r = store_mysql_run_n(s, SQ_ACK, &n, "isis", op->seq, op->conv,
	                           op->uid, op->conv)) < 0)
		return r;
	return n == 0 ? -ERR_NOT_MEMBER : 0;
}

/* Moves the cursor forward only, never past the conversation's end. */
static int
store_mysql_ack(void *c, int64_t uid, const char *conv, int64_t seq)
{
	struct store_mysql_op op = {.uid = uid, .conv = conv, .seq = seq};
	struct store_conv pc;

	if (store_conv_parse(conv, &pc) < 0)
		return -ERR_BAD_REQUEST;
	return store_mysql_call(c, true, store_mysql_ack_txn, NULL, &op);
}

/* Reads a page of op->conv before op->before, for a participant. */
static int
store_mysql_history_read(struct store_mysql *s, void *arg)
{
	struct store_mysql_op *op = arg;
	struct store_mysql_res res;
	int64_t acked;
	bool more;
	int r;

	if ((r = store_mysql_int(s, SQ_MEMBER_CONV, &acked, "is", op->uid,
	                         op->conv)) <= 0)
		return r < 0 ? r : -ERR_NOT_MEMBER;
	if ((r = store_mysql_query(s, SQ_HISTORY, &res, "sii", op->conv,
	                           op->before, (int64_t)op->limit)) < 0)
		return r;
	if ((r = store_mysql_msgs_read(&res, op->limit, op->msgs, op->n,
	                               &more)) < 0)
		return r;
	store_common_msgs_reverse(*op->msgs, *op->n);
	return 0;
}

/* A page of conv before seq `before`, for a participant. */
static int
store_mysql_history(void *c, int64_t uid, const char *conv, int64_t before,
                    size_t limit, struct store_msg **out, size_t *n)
{
	struct store_mysql_op op = {
	    .uid = uid, .conv = conv, .msgs = out, .n = n};
	struct store_conv pc;

	*out = NULL;
	*n = 0;
	if (store_conv_parse(conv, &pc) < 0)
		return -ERR_BAD_REQUEST;
	op.before = before <= 0 ? INT64_MAX : before;
	op.limit =
	    limit > STORE_MYSQL_LIMIT_MAX ? STORE_MYSQL_LIMIT_MAX : limit;
	return store_mysql_call(c, false, store_mysql_history_read,
	                        store_mysql_msgs_undo, &op);
}

/*
 * Foreign key checks off on the writer's connection, now and after every
 * reconnection (store.h says why it is safe). InnoDB checks each row's
 * parents (its conversation, its sender) with a shared lock on each.
 */
static int
store_mysql_sends_only(void *c)
{
	struct store_mysql *s = c;

	s->sends_only = true;
	if (s->db == NULL) /* set on the next connection */
		return 0;
	if (mysql_query(s->db, "SET SESSION foreign_key_checks = 0") != 0) {
		log_error("mysql %s:%u/%s: foreign_key_checks: %s", s->host,
		          s->port, s->name, mysql_error(s->db));
		return -ERR_UNAVAILABLE;
	}
	return 0;
}

const struct store_backend store_mysql_backend = {
    .prefix = "mysql://",
    .lib_init = store_mysql_lib_init,
    .thread_init = store_mysql_thread_init,
    .thread_end = store_mysql_thread_end,
    .open = store_mysql_open,
    .close = store_mysql_close,
    .migrate = store_mysql_migrate,
    .batch_begin = store_mysql_batch_begin,
    .batch_end = store_mysql_batch_end,
    .batch_cheap = store_mysql_batch_cheap,
    .batch_max = STORE_MYSQL_BATCH_MAX,
    .sends_only = store_mysql_sends_only,
    .user_register = store_mysql_user_register,
    .user_login = store_mysql_user_login,
    .user_get = store_mysql_user_get,
    .friend_add = store_mysql_friend_add,
    .friend_remove = store_mysql_friend_remove,
    .friends = store_mysql_friends,
    .friend_ids = store_mysql_friend_ids,
    .group_create = store_mysql_group_create,
    .group_join = store_mysql_group_join,
    .group_leave = store_mysql_group_leave,
    .groups = store_mysql_groups,
    .group_members = store_mysql_group_members,
    .group_member_ids = store_mysql_group_member_ids,
    .msg_append = store_mysql_msg_append,
    .msg_append_many = store_mysql_bulk_msg_append_many,
    .sync = store_mysql_sync,
    .ack = store_mysql_ack,
    .history = store_mysql_history,
};
