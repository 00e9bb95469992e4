#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "cmidtab.h"
#include "errcode.h"
#include "log.h"
#include "pwhash.h"
#include "schema.h"
#include "pairtab.h"
#include "seqtail.h"
#include "store-backend.h"
#include "store-common.h"
#include "store-sqlite-vfs.h"
#include "xmalloc.h"

/*
 * The SQLite backend. One connection per struct store_sqlite, used by one
 * thread (SQLITE_OPEN_NOMUTEX). Writers take the write lock up front with
 * BEGIN IMMEDIATE, so concurrent pool threads serialize on it (waiting up
 * to the busy timeout) instead of failing on a lock upgrade; that also
 * makes messages.id the global commit order.
 *
 * Durability: WAL with synchronous=NORMAL. A committed transaction survives
 * the process being killed (the WAL is in the OS page cache); only a power
 * loss or OS crash may lose the last transactions before a checkpoint
 * (about STORE_SQLITE_CHECKPOINT pages of them).
 * That is the usual trade for an embedded single-node store; FULL would
 * fsync every commit.
 */

#define STORE_SQLITE_BUSY_MS 5000
#define STORE_SQLITE_BUSY_STEP_US 100 /* between tries for a lock */
/*
 * A checkpoint is due every 4000 WAL pages (4 MiB at 1 KiB), not
 * SQLite's 1000: it fsyncs, and under load the default ran one every few
 * hundred sends. That is also about how much a power loss may take (see
 * above). The writer does not run it (store_checkpoint_due/_checkpoint:
 * the DB pool hands it to another connection, which also syncs the
 * database file now and then, store_sqlite_sync_db). SQLite starts the
 * WAL over only when a checkpoint has copied all of it, which one running
 * beside a busy writer never does. So:
 * - once the writer has been idle a while with at least
 *   STORE_SQLITE_IDLE_PAGES in the WAL (store_idle_due), the pool runs a
 *   checkpoint: nothing writes, so it catches up (SQLite then syncs the
 *   database itself) and the next commit starts the WAL over at no cost
 *   to anyone. Not on the writer, whose connection the loops' sends need:
 *   that sync has up to STORE_SQLITE_DB_SYNC to write;
 * - under load with no such pause, once the WAL is within four intervals
 *   of STORE_SQLITE_WAL_MAX bytes, the next pool checkpoint asks the
 *   writer (store_checkpoint returns 1) to checkpoint what was logged
 *   meanwhile, and the WAL restarts. That stops the writer for a copy of
 *   some hundreds of pages and two fsyncs, once per ~200,000 messages at
 *   1 KiB pages; at 64 MiB, latency's p99 at 5k msg/s was twice as high.
 *   Left to the WAL reaching STORE_SQLITE_WAL_MAX (the writer then
 *   checkpoints itself in store_sqlite_wal_hook), it copied everything
 *   since the last pool checkpoint began, ~1,700 pages, with the WAL
 *   unsynced for as long: 15-25 ms against 8.5-10.5 at 20k msg/s.
 * The WAL file is cut back to that size, which it only reaches under
 * sustained load.
 */
#define STORE_SQLITE_CHECKPOINT 4000
/* Unsynced bytes in the database file that a pool checkpoint syncs
 * (store_sqlite_sync_db): about once a second at 20k msg/s. */
#define STORE_SQLITE_DB_SYNC ((size_t)8 << 20)
#define STORE_SQLITE_IDLE_PAGES 1000
#define STORE_SQLITE_WAL_MAX 268435456
#define STORE_SQLITE_STR(x) STORE_SQLITE_STR_(x)
#define STORE_SQLITE_STR_(x) #x
/*
 * The page size of a new database (an existing one keeps its own: SQLite
 * ignores the pragma once the file has pages). A group commit writes one
 * WAL frame per dirty page, mostly index leaves touched by one message
 * each, so the WAL's bytes follow the page size. 2 KiB instead of 4 cut
 * the server's CPU per message by about 5%; 1 KiB instead of 2 costs ~2%
 * more instructions but writes 0.67x the bytes to disk per message and
 * restarts the WAL (the writer's stall) half as often: at 20k msg/s,
 * latency's p99 0.78x. Bodies longer than ~990 bytes (up to 4096) spill
 * into overflow pages.
 */
#define STORE_SQLITE_PAGE_SIZE "1024"
/*
 * Page caches, in KiB (SQLite's own default is 2,000 a connection). Each
 * connection keeps its own, and a general one fills it with what its
 * jobs read and keeps it: logins read the users table, so two general
 * threads held ~190 KiB each after 1,000 logins and ~2 MiB each after
 * 10,000, which counted as a third of the RSS per idle connection. Their
 * reads are a few pages each (a login, a sync, an ack), answered from the
 * kernel's page cache when missed, so a general connection keeps 64 KiB
 * (its B-trees' upper pages stay). The writer, whose sends touch every
 * busy conversation's index leaf, and a migration, which may rewrite a
 * table, keep SQLite's default.
 */
#define STORE_SQLITE_CACHE_KIB 64
#define STORE_SQLITE_CACHE_KIB_WRITER 2000
#define STORE_SQLITE_CACHE_PRAGMA                                              \
	"PRAGMA cache_size=-" STORE_SQLITE_STR(STORE_SQLITE_CACHE_KIB) "; "
#define STORE_SQLITE_LIMIT_MAX ((size_t)1 << 30)
/*
 * The most sends in one transaction. A commit here is a write to the WAL,
 * so a larger batch saves little and makes the first of a backlog (after
 * a checkpoint's stall) wait for all of it: with 1024, latency's p99 at
 * 20k msg/s was 28.3 ms against 24.8 (medians of 5 alternating runs).
 */
#define STORE_SQLITE_BATCH_MAX 256
/*
 * Conversations whose last seq the writer keeps (pairtab.h): 96 KiB, on
 * the writer's connection only (the first send makes them).
 */
#define STORE_SQLITE_SEQS 4096
/* Friendships the writer keeps (pairtab.h): 96 KiB, the same way. */
#define STORE_SQLITE_FRIENDS 4096

/*
 * The messages after msg_seqs_floor, which msg_seqs does not list yet
 * (schema 5): a range of the rowid, at most about STORE_SQLITE_SEQS_STEP
 * rows once the writer keeps up.
 */
#define STORE_SQLITE_TAIL "id > (SELECT id FROM msg_seqs_floor)"
/*
 * The newest seq of conversation ?2, 0 if it has no message: its newest
 * message in the tail, looked for from the tail's end (a conversation
 * just written to is found at once; one with nothing there costs a scan
 * of the tail, 0.3 ms at 1,024 rows), else one seek to the end of its
 * range of msg_seqs.
 */
#define STORE_SQLITE_LAST_SEQ_2                                                \
	"COALESCE((SELECT seq FROM messages WHERE " STORE_SQLITE_TAIL          \
	" AND conv = ?2 ORDER BY id DESC LIMIT 1), (SELECT MAX(seq) FROM "     \
	"msg_seqs WHERE conv = ?2), 0)"

/* msg_cmids' INSERT, for one row or for STORE_SQLITE_CMIDS_ROWS. */
#define STORE_SQLITE_CMIDS_PUT                                                 \
	"INSERT OR IGNORE INTO msg_cmids(sender, cmid, id) VALUES "
#define STORE_SQLITE_CMIDS_ROWS 16
/* msg_seqs' INSERT, the same way (a round may list a row twice). */
#define STORE_SQLITE_SEQS_PUT                                                  \
	"INSERT OR IGNORE INTO msg_seqs(conv, seq, id) VALUES "
#define STORE_SQLITE_ROWS_4 "(?, ?, ?), (?, ?, ?), (?, ?, ?), (?, ?, ?)"
#define STORE_SQLITE_ROWS_16                                                   \
	STORE_SQLITE_ROWS_4 ", " STORE_SQLITE_ROWS_4 ", " STORE_SQLITE_ROWS_4  \
	                    ", " STORE_SQLITE_ROWS_4

#define STORE_SQLITE_MSG_COLS                                                  \
	"SELECT m.conv, m.seq, m.sender, u.name, m.to_user, m.to_group, "      \
	"m.body, m.ts, m.cmid FROM messages m JOIN users u ON u.id = m.sender"

/* Every statement the backend runs, prepared once per connection. */
enum store_sqlite_sq {
	SQ_BEGIN,
	SQ_COMMIT,
	SQ_ROLLBACK,
	SQ_SAVEPOINT,
	SQ_RELEASE,
	SQ_ROLLBACK_TO,
	SQ_VERSION_HAS,
	SQ_VERSION_ADD,
	SQ_VERSION_MAX,
	SQ_USER_BY_NAME,
	SQ_USER_ID_BY_NAME,
	SQ_USER_BY_ID,
	SQ_USER_INSERT,
	SQ_FRIEND_CHECK,
	SQ_EPOCH_READ,
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
	SQ_MSG_BY_ID_CMID,
	SQ_MSG_MAX_ID,
	SQ_CMIDS_FLOOR,
	SQ_CMIDS_SINCE,
	SQ_CMIDS_PUT,
	SQ_CMIDS_PUT_MANY,
	SQ_CMIDS_FLOOR_SET,
	SQ_SEQS_FLOOR,
	SQ_SEQS_PUT,
	SQ_SEQS_PUT_MANY,
	SQ_SEQS_FLOOR_SET,
	SQ_SEQ_NEXT,
	SQ_MSG_INSERT,
	SQ_SYNC,
	SQ_MEMBER_CONV,
	SQ_ACK,
	SQ_HISTORY,
	SQ__COUNT
};

static const char *const store_sqlite_sql[SQ__COUNT] = {
    [SQ_BEGIN] = "BEGIN IMMEDIATE",
    [SQ_COMMIT] = "COMMIT",
    [SQ_ROLLBACK] = "ROLLBACK",
    [SQ_SAVEPOINT] = "SAVEPOINT call",
    [SQ_RELEASE] = "RELEASE call",
    [SQ_ROLLBACK_TO] = "ROLLBACK TO call",
    [SQ_VERSION_HAS] = "SELECT 1 FROM schema_version WHERE version = ?1",
    [SQ_VERSION_MAX] = "SELECT COALESCE(MAX(version), 0) FROM schema_version",
    [SQ_VERSION_ADD] = "INSERT INTO schema_version(version, name, applied) "
                       "VALUES(?1, ?2, ?3)",
    [SQ_USER_BY_NAME] = "SELECT id, name, pwhash FROM users WHERE name = ?1",
    [SQ_USER_ID_BY_NAME] = "SELECT id FROM users WHERE name = ?1",
    [SQ_USER_BY_ID] = "SELECT id, name FROM users WHERE id = ?1",
    [SQ_USER_INSERT] = "INSERT INTO users(name, pwhash, created) "
                       "VALUES(?1, ?2, ?3)",
    [SQ_FRIEND_CHECK] = "SELECT 1 FROM friendships "
                        "WHERE user_id = ?1 AND friend_id = ?2",
    /* Schema 4: bumped by every removal of a friendship. */
    [SQ_EPOCH_READ] = "SELECT n FROM social_epoch WHERE id = 1",
    [SQ_FRIEND_INSERT] = "INSERT OR IGNORE INTO "
                         "friendships(user_id, friend_id, created) "
                         "VALUES(?1, ?2, ?3), (?2, ?1, ?3)",
    [SQ_FRIEND_DELETE] = "DELETE FROM friendships "
                         "WHERE (user_id = ?1 AND friend_id = ?2) "
                         "OR (user_id = ?2 AND friend_id = ?1)",
    [SQ_FRIENDS] = "SELECT u.id, u.name FROM friendships f "
                   "JOIN users u ON u.id = f.friend_id "
                   "WHERE f.user_id = ?1 ORDER BY u.name",
    [SQ_FRIEND_IDS] = "SELECT friend_id FROM friendships "
                      "WHERE user_id = ?1 ORDER BY friend_id",
    [SQ_CONV_ENSURE] = "INSERT OR IGNORE INTO conversations(id) VALUES(?1)",
    /* A new participant's cursor starts at the conversation's end. */
    [SQ_CONV_ENTER] = "INSERT OR IGNORE INTO conv_members(user_id, conv, "
                      "acked) SELECT ?1, id, " STORE_SQLITE_LAST_SEQ_2
                      " FROM conversations WHERE id = ?2",
    [SQ_CONV_REENTER] = "INSERT OR REPLACE INTO conv_members(user_id, "
                        "conv, acked) SELECT ?1, id, " STORE_SQLITE_LAST_SEQ_2
                        " FROM conversations WHERE id = ?2",
    [SQ_CONV_LEAVE] = "DELETE FROM conv_members "
                      "WHERE conv = ?1 AND user_id = ?2",
    [SQ_GROUP_BY_ID] = "SELECT id, name, descr FROM chat_groups "
                       "WHERE id = ?1",
    [SQ_GROUP_BY_NAME] = "SELECT id, name, descr FROM chat_groups "
                         "WHERE name = ?1",
    [SQ_GROUP_INSERT] = "INSERT INTO chat_groups(name, descr, creator, "
                        "created) VALUES(?1, ?2, ?3, ?4)",
    [SQ_MEMBER_ROLE] = "SELECT role FROM group_members "
                       "WHERE group_id = ?1 AND user_id = ?2",
    [SQ_MEMBER_INSERT] = "INSERT INTO group_members(group_id, user_id, "
                         "role, joined) VALUES(?1, ?2, ?3, ?4)",
    [SQ_MEMBER_DELETE] = "DELETE FROM group_members "
                         "WHERE group_id = ?1 AND user_id = ?2",
    [SQ_GROUPS] = "SELECT g.id, g.name, g.descr, m.role "
                  "FROM group_members m "
                  "JOIN chat_groups g ON g.id = m.group_id "
                  "WHERE m.user_id = ?1 ORDER BY g.name",
    [SQ_MEMBERS] = "SELECT u.id, u.name, m.role FROM group_members m "
                   "JOIN users u ON u.id = m.user_id "
                   "WHERE m.group_id = ?1 ORDER BY u.name",
    [SQ_MEMBER_IDS] = "SELECT user_id FROM group_members "
                      "WHERE group_id = ?1 ORDER BY user_id",
    [SQ_MSG_BY_CMID] = STORE_SQLITE_MSG_COLS
    " WHERE m.id = (SELECT id FROM msg_cmids WHERE sender = ?1 AND "
    "cmid = ?2) AND m.sender = ?1 AND m.cmid = ?2",
    [SQ_MSG_BY_ID_CMID] = STORE_SQLITE_MSG_COLS
    " WHERE m.id = ?1 AND m.sender = ?2 AND m.cmid = ?3",
    [SQ_MSG_MAX_ID] = "SELECT COALESCE(MAX(id), 0) FROM messages",
    [SQ_CMIDS_FLOOR] = "SELECT id FROM msg_cmids_floor",
    [SQ_CMIDS_SINCE] = "SELECT id, sender, cmid, to_user, to_group, seq, "
                       "conv FROM messages WHERE id > ?1 ORDER BY id",
    [SQ_CMIDS_PUT] = STORE_SQLITE_CMIDS_PUT "(?, ?, ?)",
    [SQ_CMIDS_PUT_MANY] = STORE_SQLITE_CMIDS_PUT STORE_SQLITE_ROWS_16,
    [SQ_CMIDS_FLOOR_SET] = "UPDATE msg_cmids_floor SET id = MAX(id, ?1)",
    [SQ_SEQS_FLOOR] = "SELECT id FROM msg_seqs_floor",
    [SQ_SEQS_PUT] = STORE_SQLITE_SEQS_PUT "(?, ?, ?)",
    [SQ_SEQS_PUT_MANY] = STORE_SQLITE_SEQS_PUT STORE_SQLITE_ROWS_16,
    [SQ_SEQS_FLOOR_SET] = "UPDATE msg_seqs_floor SET id = MAX(id, ?1)",
    /* For a conversation with no message in the tail (s->tail). */
    [SQ_SEQ_NEXT] = "SELECT COALESCE(MAX(seq), 0) + 1 FROM msg_seqs "
                    "WHERE conv = ?1",
    /*
     * OR FAIL, not the default ABORT: an INSERT ... SELECT that may abort
     * opens a statement journal inside the batch's transaction, and the
     * pages it touches are copied there, in a 64 KiB block malloc'd for
     * every message. One row checks every constraint before it writes,
     * so FAIL leaves nothing half done either.
     */
    [SQ_MSG_INSERT] =
        "INSERT OR FAIL INTO messages(conv, seq, sender, to_user, "
        "to_group, body, ts, cmid) "
        "SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8 "
        "WHERE ?8 IS NULL OR NOT EXISTS (SELECT 1 FROM "
        "msg_cmids WHERE sender = ?3 AND cmid = ?8)",
    /*
     * A user's unacked messages: through msg_seqs, and in the tail (its
     * rows first, CROSS JOIN keeping that order, each then looked up in
     * the user's conversations).
     */
    [SQ_SYNC] = STORE_SQLITE_MSG_COLS
    " WHERE m.id IN (SELECT s.id FROM conv_members c JOIN msg_seqs s "
    "ON s.conv = c.conv AND s.seq > c.acked WHERE c.user_id = ?1 "
    "UNION ALL SELECT t.id FROM messages t CROSS JOIN conv_members c "
    "ON c.user_id = ?1 AND c.conv = t.conv AND t.seq > c.acked "
    "WHERE t." STORE_SQLITE_TAIL ") ORDER BY m.id LIMIT ?2",
    [SQ_MEMBER_CONV] = "SELECT acked FROM conv_members "
                       "WHERE user_id = ?1 AND conv = ?2",
    [SQ_ACK] = "UPDATE conv_members SET acked = MAX(acked, "
               "MIN(?3, " STORE_SQLITE_LAST_SEQ_2 ")) "
               "WHERE user_id = ?1 AND conv = ?2",
    [SQ_HISTORY] = STORE_SQLITE_MSG_COLS
    " WHERE m.id IN (SELECT id FROM (SELECT id FROM msg_seqs "
    "WHERE conv = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3) "
    "UNION ALL SELECT id FROM messages WHERE " STORE_SQLITE_TAIL
    " AND conv = ?1 AND seq < ?2) ORDER BY m.seq DESC LIMIT ?3",
};

struct store_sqlite {
	sqlite3 *db;
	char *path;
	struct store_options opt;
	char *dummy; /* hash checked for unknown names; made on first use */
	sqlite3_stmt *stmt[SQ__COUNT];
	bool batch;      /* in a group commit: calls but sends use savepoints */
	int wal_frames;  /* the WAL's length after this connection's commit */
	int wal_asked;   /* its length when a checkpoint was last due */
	int wal_force;   /* the length at which it checkpoints itself */
	int wal_restart; /* from which a checkpoint asks it to (returns 1) */
	/* The cmids not yet in msg_cmids (NULL: to be read back). */
	struct cmidtab *cmids;
	int64_t cmid_max;   /* the newest message id cmids knows of */
	int64_t cmid_floor; /* msg_cmids_floor, as last read or written */
	int64_t seq_floor;  /* msg_seqs_floor, read and written with it */
	/* The last seqs of the conversations in the tail, every one. */
	struct pairtab *tail;
	struct seqtail *rows; /* the tail's messages, to list in msg_seqs */
	bool cmids_fresh;     /* cmids checked in this write transaction */
	bool cmids_dirty;     /* cmids ahead of what is committed */
	/* Conversations' last seqs (NULL until the first send). */
	struct pairtab *seqs;
	bool seqs_dirty; /* seqs ahead of what is committed */
	/*
	 * Friendships sends found (NULL until the first), trusted while
	 * social_epoch's counter is friends_n (-1: not read yet).
	 */
	struct pairtab *friends;
	int64_t friends_n;
	bool friends_fresh; /* checked in this write transaction */
	/* The data version this connection's last commit left, if known. */
	unsigned int own_dv;
	bool own_dv_known;
};

/*
 * Maps a failed SQLite call to an errcode: a database that is locked,
 * full or unreadable is "unavailable" (the transaction did not commit),
 * anything else is a bug or corruption.
 */
static int
store_sqlite_fail(struct store_sqlite *s, int rc, const char *what)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_IOERR:
	case SQLITE_FULL:
	case SQLITE_CANTOPEN:
	case SQLITE_READONLY:
		log_warn("sqlite %s: %s: %s", s->path, what,
		         sqlite3_errmsg(s->db));
		return -ERR_UNAVAILABLE;
	default:
		log_error("sqlite %s: %s: %s (%s)", s->path, what,
		          sqlite3_errmsg(s->db), sqlite3_errstr(rc));
		return -ERR_INTERNAL;
	}
}

/* The cached statement id, prepared on first use. */
static int
store_sqlite_prep(struct store_sqlite *s, enum store_sqlite_sq id,
                  sqlite3_stmt **out)
{
	int rc;

	if (s->stmt[id] == NULL) {
		rc = sqlite3_prepare_v3(s->db, store_sqlite_sql[id], -1,
		                        SQLITE_PREPARE_PERSISTENT, &s->stmt[id],
		                        NULL);
		if (rc != SQLITE_OK)
			return store_sqlite_fail(s, rc, store_sqlite_sql[id]);
	}
	*out = s->stmt[id];
	return 0;
}

/*
 * Binds parameters 1.. from ap as types says: 'i' int64_t, 'n' int64_t
 * bound as NULL when 0, 's' string (NULL binds NULL), 'b' string and a
 * size_t length. Values are not copied: they must outlive the step.
 */
static int
store_sqlite_vbind(struct store_sqlite *s, sqlite3_stmt *st, const char *types,
                   va_list ap)
{
	const char *str;
	int64_t v;
	size_t len;
	int i, rc = SQLITE_OK;

	for (i = 1; types[i - 1] != '\0'; i++) {
		switch (types[i - 1]) {
		case 'i':
			rc = sqlite3_bind_int64(st, i, va_arg(ap, int64_t));
			break;
		case 'n':
			v = va_arg(ap, int64_t);
			rc = v != 0 ? sqlite3_bind_int64(st, i, v)
			            : sqlite3_bind_null(st, i);
			break;
		case 's':
			str = va_arg(ap, const char *);
			rc = str != NULL ? sqlite3_bind_text(st, i, str, -1,
			                                     SQLITE_STATIC)
			                 : sqlite3_bind_null(st, i);
			break;
		case 'b':
			str = va_arg(ap, const char *);
			len = va_arg(ap, size_t);
			rc = sqlite3_bind_text64(st, i, str, len, SQLITE_STATIC,
			                         SQLITE_UTF8);
			break;
		}
		if (rc != SQLITE_OK)
			return store_sqlite_fail(s, rc, "bind");
	}
	return 0;
}

/* Prepares statement id and binds its parameters, ready to step. */
static int
store_sqlite_query(struct store_sqlite *s, enum store_sqlite_sq id,
                   sqlite3_stmt **out, const char *types, ...)
{
	va_list ap;
	int r;

	if ((r = store_sqlite_prep(s, id, out)) < 0)
		return r;
	va_start(ap, types);
	r = store_sqlite_vbind(s, *out, types, ap);
	va_end(ap);
	if (r < 0)
		sqlite3_reset(*out);
	return r;
}

/* Ends a statement whose last step returned rc: resets it, maps errors. */
static int
store_sqlite_done(struct store_sqlite *s, sqlite3_stmt *st, int rc)
{
	int r = 0;

	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		r = store_sqlite_fail(s, rc, sqlite3_sql(st));
	sqlite3_reset(st);
	return r;
}

/* Runs a statement that returns no rows (sqlite3_changes tells more). */
static int
store_sqlite_run(struct store_sqlite *s, enum store_sqlite_sq id,
                 const char *types, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	int r;

	if ((r = store_sqlite_prep(s, id, &st)) < 0)
		return r;
	va_start(ap, types);
	r = store_sqlite_vbind(s, st, types, ap);
	va_end(ap);
	if (r < 0) {
		sqlite3_reset(st);
		return r;
	}
	return store_sqlite_done(s, st, sqlite3_step(st));
}

/*
 * Runs a query for one integer (column 0 of the first row): 1 and *out
 * if there is a row, 0 if none, or a negative errcode.
 */
static int
store_sqlite_int(struct store_sqlite *s, enum store_sqlite_sq id, int64_t *out,
                 const char *types, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	int r, rc;

	if ((r = store_sqlite_prep(s, id, &st)) < 0)
		return r;
	va_start(ap, types);
	r = store_sqlite_vbind(s, st, types, ap);
	va_end(ap);
	if (r < 0) {
		sqlite3_reset(st);
		return r;
	}
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	if ((r = store_sqlite_done(s, st, rc)) < 0)
		return r;
	return rc == SQLITE_ROW;
}

/*
 * --- cmids ---
 * A sender's cmids are unique, but a UNIQUE (sender, cmid) key on messages
 * dirtied a page for nearly every message: a group commit holds a message
 * or two per sender, each in a leaf of its own. So the writer keeps the
 * cmids of its recent messages in memory (cmidtab.h) and writes them to
 * msg_cmids STORE_SQLITE_CMIDS_PER_SENDER at a time per sender, in the
 * same transaction as a batch of sends: many to a page when a sender's
 * cmids sort in the order it makes them. Cmids made at random land all
 * over the sender's part of the index, so the more written at once, the
 * more share a page: 256 at a time instead of 32 cut the bytes such a
 * message writes by a fifth, and its p99 at 20k msg/s by 3x (measured:
 * doc/performance.md). A sender's count varies by up to half of that
 * either way (STORE_SQLITE_CMIDS_SPREAD): a hundred senders in step all
 * fell due within a few batches every 256 of their messages, and the
 * writer then wrote ~25,000 cmids back to back, 40 ms at 20k msg/s with
 * every send of them slower.
 *
 * msg_cmids_floor says up to which message msg_cmids is complete; after
 * a restart, or a rollback, the cmids of the messages after it are read
 * back from messages (a range of the rowid: at most about
 * STORE_SQLITE_CMIDS_AGE rows). A send checks memory, then msg_cmids.
 *
 * Another writer on the file (a second connection or process) is seen as
 * messages this one did not insert: their cmids are read in too.
 */
#define STORE_SQLITE_CMIDS_PER_SENDER 256
#define STORE_SQLITE_CMIDS_SPREAD STORE_SQLITE_CMIDS_PER_SENDER
#define STORE_SQLITE_CMIDS_AGE 65536 /* messages: then written anyway */
/* Per transaction, about: a batch's worth, so the writes keep up. */
#define STORE_SQLITE_CMIDS_TAKE STORE_SQLITE_BATCH_MAX
#define STORE_SQLITE_CMIDS_FLOOR_STEP 4096 /* messages between floor writes */

/*
 * --- seqs ---
 * Likewise a UNIQUE (conv, seq) key on messages dirtied a leaf for nearly
 * every message of a group commit, each in its own conversation's range:
 * 60 % of the bytes a message wrote to the WAL. msg_seqs lists messages
 * by (conv, seq); once STORE_SQLITE_SEQS_STEP messages are past
 * msg_seqs_floor, the writer lists them in a round (seqtail.h), sorted,
 * so that a conversation's rows share a leaf, STORE_SQLITE_SEQS_SLICE
 * rows or so a transaction: all 1,024 in one took 1.6 ms, every 50 ms at
 * 20k msg/s, and the sends behind it waited. Then the floor moves.
 * Readers scan the rowid range after the floor for the rest
 * (STORE_SQLITE_TAIL), where a round's rows may be in both places. A
 * conversation's next seq is the writer's own count (s->seqs), which another
 * connection's messages make it forget (store_sqlite_cmids_since). Where
 * s->seqs has none (it is a cache), the writer asks s->tail, which holds the
 * last seq of every conversation with messages in the tail (the writer's own
 * and, read with the cmids, others'), and only then msg_seqs: a scan of the
 * tail for every such send would cost more than the key did.
 */
#define STORE_SQLITE_SEQS_STEP 1024
#define STORE_SQLITE_SEQS_SLICE 64

/* Forgets the cmids in memory: read back in the next write transaction. */
static void
store_sqlite_cmids_forget(struct store_sqlite *s)
{
	cmidtab_free(s->cmids);
	s->cmids = NULL;
	s->cmids_fresh = s->cmids_dirty = false;
	if (s->tail != NULL)
		pairtab_clear(s->tail);
	if (s->rows != NULL)
		seqtail_clear(s->rows);
}

/*
 * After this connection's commit: notes the data version it left. SQLite
 * moves it for a commit of this connection's and, when a transaction
 * begins, for any other connection's since (SQLITE_FCNTL_DATA_VERSION).
 */
static void
store_sqlite_committed(struct store_sqlite *s)
{
	s->own_dv_known =
	    sqlite3_file_control(s->db, "main", SQLITE_FCNTL_DATA_VERSION,
	                         &s->own_dv) == SQLITE_OK;
}

/*
 * Whether another connection (a general thread's, a tool's) may have
 * committed since this one last did; asked inside a transaction.
 */
static bool
store_sqlite_others_wrote(struct store_sqlite *s)
{
	unsigned int dv;

	return !s->own_dv_known ||
	       sqlite3_file_control(s->db, "main", SQLITE_FCNTL_DATA_VERSION,
	                            &dv) != SQLITE_OK ||
	       dv != s->own_dv;
}

/* Forgets the friendships found: they are read again. */
static void
store_sqlite_friends_forget(struct store_sqlite *s)
{
	if (s->friends != NULL)
		pairtab_clear(s->friends);
	s->friends_n = -1;
}

/* Forgets the seqs noted if a transaction that noted them is undone. */
static void
store_sqlite_seqs_undone(struct store_sqlite *s)
{
	if (s->seqs_dirty)
		pairtab_clear(s->seqs);
	s->seqs_dirty = false;
}

/* Notes seq as the last of conversation (a, b) in the tail, if it is. */
static void
store_sqlite_tail_seq(struct store_sqlite *s, int64_t a, int64_t b, int64_t seq)
{
	if (seq > pairtab_find(s->tail, a, b))
		pairtab_set(s->tail, a, b, seq);
}

/* A message past msg_seqs_floor: its seq in s->tail, the row in s->rows. */
static void
store_sqlite_tail_add(struct store_sqlite *s, const struct seqtail_row *r)
{
	store_sqlite_tail_seq(s, r->a, r->b, r->seq);
	seqtail_add(s->rows, r);
}

/*
 * Adds the cmids of the messages after s->cmid_max, in id order, and
 * their conversations' seqs to s->tail; forgets those s->seqs noted: the
 * messages may be another connection's (messages has no (conv, seq) key
 * to refuse a seq taken twice). The caller then moves s->cmid_max to the
 * newest message.
 */
static int
store_sqlite_cmids_since(struct store_sqlite *s)
{
	struct store_send in = {0};
	struct seqtail_row row;
	sqlite3_stmt *st;
	const char *cmid;
	int r, rc;

	if ((r = store_sqlite_query(s, SQ_CMIDS_SINCE, &st, "i", s->cmid_max)) <
	    0)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		row.id = sqlite3_column_int64(st, 0);
		in.from_id = sqlite3_column_int64(st, 1);
		cmid = (const char *)sqlite3_column_text(st, 2);
		if (cmid != NULL)
			cmidtab_add(s->cmids, in.from_id, cmid, row.id);
		in.to_user = sqlite3_column_int64(st, 3);
		in.to_group = sqlite3_column_int64(st, 4);
		store_common_conv_key(&in, &row.a, &row.b);
		if (s->seqs != NULL)
			pairtab_forget(s->seqs, row.a, row.b);
		if (row.id <= s->seq_floor)
			continue;
		row.seq = sqlite3_column_int64(st, 5);
		snprintf(row.conv, sizeof(row.conv), "%s",
		         (const char *)sqlite3_column_text(st, 6));
		store_sqlite_tail_add(s, &row);
	}
	return store_sqlite_done(s, st, rc);
}

/*
 * Inside a send's write transaction, before anything else: cmids in
 * memory up to date with messages. Outside one (SQLite rolled the batch's
 * transaction back, e.g. on SQLITE_FULL) the send is refused: it would
 * commit alone, and nothing would know its cmid.
 */
static int
store_sqlite_cmids_ready(struct store_sqlite *s)
{
	int64_t max;
	int r;

	if (sqlite3_get_autocommit(s->db)) {
		store_sqlite_cmids_forget(s);
		return -ERR_UNAVAILABLE;
	}
	if (s->cmids_fresh)
		return 0;
	/* Nothing new since this connection's commit, which it knows. */
	if (s->cmids != NULL && !store_sqlite_others_wrote(s)) {
		s->cmids_fresh = true;
		return 0;
	}
	if ((r = store_sqlite_int(s, SQ_MSG_MAX_ID, &max, "")) < 0)
		return r;
	if (s->cmids != NULL && max < s->cmid_max) /* a rollback unseen */
		store_sqlite_cmids_forget(s);
	if (s->cmids == NULL) {
		if ((r = store_sqlite_int(s, SQ_CMIDS_FLOOR, &s->cmid_floor,
		                          "")) <= 0 ||
		    (r = store_sqlite_int(s, SQ_SEQS_FLOOR, &s->seq_floor,
		                          "")) <= 0)
			return r < 0 ? r : -ERR_INTERNAL;
		s->cmids = cmidtab_new(STORE_SQLITE_CMIDS_PER_SENDER,
		                       STORE_SQLITE_CMIDS_SPREAD);
		/* From the lower floor: s->tail needs every message after
		 * seq_floor; cmids already in msg_cmids are written again
		 * (ignored there). */
		s->cmid_max =
		    s->cmid_floor < s->seq_floor ? s->cmid_floor : s->seq_floor;
		if (s->tail == NULL) {
			s->tail = pairtab_new_exact(STORE_SQLITE_SEQS_STEP);
			s->rows = seqtail_new();
		}
	}
	if (max > s->cmid_max && (r = store_sqlite_cmids_since(s)) < 0) {
		store_sqlite_cmids_forget(s);
		return r;
	}
	s->cmid_max = max;
	s->cmids_fresh = true;
	return 0;
}

/* After a send's INSERT: its id, and its cmid if any, in memory. */
static void
store_sqlite_cmids_note(struct store_sqlite *s, const struct store_send *in)
{
	s->cmid_max = sqlite3_last_insert_rowid(s->db);
	s->cmids_dirty = true;
	if (in->cmid != NULL)
		cmidtab_add(s->cmids, in->from_id, in->cmid, s->cmid_max);
}

/* Moves msg_cmids_floor up to the oldest cmid still in memory. */
static int
store_sqlite_cmids_floor(struct store_sqlite *s)
{
	int64_t min, floor;
	int r;

	if (s->cmid_max - s->cmid_floor < STORE_SQLITE_CMIDS_FLOOR_STEP)
		return 0;
	min = cmidtab_min_id(s->cmids);
	floor = min != 0 ? min - 1 : s->cmid_max;
	if (floor <= s->cmid_floor)
		return 0;
	if ((r = store_sqlite_run(s, SQ_CMIDS_FLOOR_SET, "i", floor)) == 0) {
		s->cmid_floor = floor;
		s->cmids_dirty = true;
	}
	return r;
}

/* Binds rows[i]'s three values at parameters k, k + 1, k + 2. */
typedef int (*store_sqlite_bind3_fn)(sqlite3_stmt *st, int k, const void *rows,
                                     size_t i);

/*
 * Writes rows[0..n) with the three-value INSERT one, or many for
 * STORE_SQLITE_CMIDS_ROWS rows in a statement (one each, the statement's
 * own work was most of the cost).
 */
static int
store_sqlite_put_rows(struct store_sqlite *s, enum store_sqlite_sq one,
                      enum store_sqlite_sq many, const void *rows, size_t n,
                      store_sqlite_bind3_fn bind)
{
	sqlite3_stmt *st;
	size_t i = 0, k, m;
	int r = 0, rc = SQLITE_OK;

	while (i < n && r == 0) {
		m = n - i >= STORE_SQLITE_CMIDS_ROWS ? STORE_SQLITE_CMIDS_ROWS
		                                     : 1;
		if ((r = store_sqlite_prep(s, m > 1 ? many : one, &st)) < 0)
			return r;
		for (k = 0; k < m && rc == SQLITE_OK; k++, i++)
			rc = bind(st, (int)k * 3 + 1, rows, i);
		if (rc != SQLITE_OK) {
			sqlite3_reset(st);
			return store_sqlite_fail(s, rc, "bind");
		}
		r = store_sqlite_done(s, st, sqlite3_step(st));
	}
	return r;
}

/* A msg_cmids row: sender, cmid, id. */
static int
store_sqlite_bind_cmid(sqlite3_stmt *st, int k, const void *rows, size_t i)
{
	const struct cmidtab_entry *e = (const struct cmidtab_entry *)rows + i;
	int rc;

	if ((rc = sqlite3_bind_int64(st, k, e->sender)) == SQLITE_OK &&
	    (rc = sqlite3_bind_text(st, k + 1, e->cmid, -1, SQLITE_STATIC)) ==
	        SQLITE_OK)
		rc = sqlite3_bind_int64(st, k + 2, e->id);
	return rc;
}

/*
 * Whether this is a send transaction, still open, whose cmids (and the
 * tail) store_sqlite_cmids_ready brought up to date: what the writes
 * before its commit need.
 */
static bool
store_sqlite_sending(struct store_sqlite *s)
{
	return s->cmids != NULL && s->cmids_fresh &&
	       !sqlite3_get_autocommit(s->db);
}

/*
 * Before a send transaction commits: writes the cmids that are due to
 * msg_cmids. A failure forgets the cmids taken (read back later from
 * messages); the messages may still commit.
 */
static int
store_sqlite_cmids_flush(struct store_sqlite *s)
{
	struct cmidtab_entry *v;
	size_t n;
	int r;

	if (!store_sqlite_sending(s))
		return 0;
	n = cmidtab_take(s->cmids, s->cmid_max - STORE_SQLITE_CMIDS_AGE,
	                 STORE_SQLITE_CMIDS_TAKE, &v);
	s->cmids_dirty = s->cmids_dirty || n > 0;
	r = store_sqlite_put_rows(s, SQ_CMIDS_PUT, SQ_CMIDS_PUT_MANY, v, n,
	                          store_sqlite_bind_cmid);
	cmidtab_entries_free(v, n);
	if (r == 0)
		r = store_sqlite_cmids_floor(s);
	if (r < 0)
		store_sqlite_cmids_forget(s);
	return r;
}

/* A msg_seqs row: conv, seq, id. */
static int
store_sqlite_bind_seq(sqlite3_stmt *st, int k, const void *rows, size_t i)
{
	const struct seqtail_row *e = (const struct seqtail_row *)rows + i;
	int rc;

	if ((rc = sqlite3_bind_text(st, k, e->conv, -1, SQLITE_STATIC)) ==
	        SQLITE_OK &&
	    (rc = sqlite3_bind_int64(st, k + 1, e->seq)) == SQLITE_OK)
		rc = sqlite3_bind_int64(st, k + 2, e->id);
	return rc;
}

/*
 * The end of a round: every row of it in msg_seqs, the floor moves to its
 * newest id, and s->tail keeps the conversations of the rows after it.
 */
static int
store_sqlite_seqs_floor(struct store_sqlite *s, int64_t max)
{
	const struct seqtail_row *v;
	size_t n, i;
	int r;

	if ((r = store_sqlite_run(s, SQ_SEQS_FLOOR_SET, "i", max)) < 0)
		return r;
	s->seq_floor = max;
	seqtail_round_end(s->rows, &v, &n);
	pairtab_clear(s->tail);
	for (i = 0; i < n; i++)
		store_sqlite_tail_seq(s, v[i].a, v[i].b, v[i].seq);
	return 0;
}

/*
 * Before a send transaction commits: once STORE_SQLITE_SEQS_STEP messages
 * wait past msg_seqs_floor, a round lists them in msg_seqs, a slice of
 * STORE_SQLITE_SEQS_SLICE rows a transaction, then moves the floor. A
 * failure forgets the tail (read back from the floor later); the messages
 * may still commit, and are found in the tail meanwhile.
 */
static int
store_sqlite_seqs_flush(struct store_sqlite *s)
{
	const struct seqtail_row *v;
	int64_t max;
	size_t n;
	int r;

	if (!store_sqlite_sending(s) ||
	    (max = seqtail_round(s->rows, STORE_SQLITE_SEQS_STEP)) == 0)
		return 0;
	s->cmids_dirty = true; /* a rollback reads the tail again */
	if ((n = seqtail_slice(s->rows, STORE_SQLITE_SEQS_SLICE, &v)) > 0)
		r = store_sqlite_put_rows(s, SQ_SEQS_PUT, SQ_SEQS_PUT_MANY, v,
		                          n, store_sqlite_bind_seq);
	else
		r = store_sqlite_seqs_floor(s, max);
	if (r < 0)
		store_sqlite_cmids_forget(s);
	return r;
}

/*
 * Starts a write transaction, waiting for the write lock; in a batch, a
 * savepoint of the batch's transaction instead.
 */
static int
store_sqlite_begin(struct store_sqlite *s)
{
	return store_sqlite_run(s, s->batch ? SQ_SAVEPOINT : SQ_BEGIN, "");
}

/*
 * Ends the transaction begun by store_sqlite_begin: commits if r is 0,
 * else rolls back. Returns r, or the commit's error.
 */
static int
store_sqlite_end(struct store_sqlite *s, int r)
{
	if (s->batch) { /* the batch commits; a failed call undoes its own */
		if (r < 0)
			(void)store_sqlite_run(s, SQ_ROLLBACK_TO, "");
		(void)store_sqlite_run(s, SQ_RELEASE, "");
		return r;
	}
	if (r >= 0)
		(void)store_sqlite_seqs_flush(s);  /* the sends commit anyway */
	s->cmids_fresh = s->friends_fresh = false; /* others may write next */
	if (r >= 0 && (r = store_sqlite_run(s, SQ_COMMIT, "")) >= 0) {
		s->cmids_dirty = s->seqs_dirty = false;
		store_sqlite_committed(s);
		return r;
	}
	/* SQLite may have rolled back already (e.g. on SQLITE_FULL). */
	if (!sqlite3_get_autocommit(s->db))
		(void)store_sqlite_run(s, SQ_ROLLBACK, "");
	if (s->cmids_dirty) /* what it added or took is undone */
		store_sqlite_cmids_forget(s);
	store_sqlite_seqs_undone(s);
	store_sqlite_friends_forget(s);
	s->own_dv_known = false;
	return r;
}

/* Group commit: one write transaction for many calls (store.h). */
static int
store_sqlite_batch_begin(void *c)
{
	struct store_sqlite *s = c;
	int r;

	if ((r = store_sqlite_run(s, SQ_BEGIN, "")) == 0)
		s->batch = true;
	return r;
}

static int
store_sqlite_batch_end(void *c, bool commit)
{
	struct store_sqlite *s = c;

	s->batch = false;
	if (commit)
		(void)store_sqlite_cmids_flush(s); /* the sends commit anyway */
	return store_sqlite_end(s, commit ? 0 : -ERR_INTERNAL);
}

/* A copy of a text column, byte-exact; NULL for SQL NULL. */
static char *
store_sqlite_text(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	size_t len = (size_t)sqlite3_column_bytes(st, col);
	char *v;

	if (t == NULL)
		return NULL;
	v = xmalloc(len + 1);
	memcpy(v, t, len);
	v[len] = '\0';
	return v;
}

/* As store_sqlite_text, but "" for NULL: for NOT NULL columns. */
static char *
store_sqlite_text_nn(sqlite3_stmt *st, int col)
{
	char *v = store_sqlite_text(st, col);

	return v != NULL ? v : xstrdup("");
}

/* Collects column 0 of every row of statement id into out. */
static int
store_sqlite_ids(struct store_sqlite *s, enum store_sqlite_sq id, int64_t key,
                 struct store_ids *out)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int r, rc;

	out->ids = NULL;
	out->n = 0;
	if ((r = store_sqlite_query(s, id, &st, "i", key)) < 0)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		out->ids = xgrow(out->ids, out->n, &cap, sizeof(*out->ids));
		out->ids[out->n++] = sqlite3_column_int64(st, 0);
	}
	if ((r = store_sqlite_done(s, st, rc)) < 0) {
		free(out->ids);
		out->ids = NULL;
		out->n = 0;
	}
	return r;
}

/* Closes the connection and its statements; NULL is a no-op. */
static void
store_sqlite_close(void *c)
{
	struct store_sqlite *s = c;
	int i;

	if (s == NULL)
		return;
	for (i = 0; i < SQ__COUNT; i++)
		sqlite3_finalize(s->stmt[i]);
	if (sqlite3_close(s->db) != SQLITE_OK)
		log_error("sqlite %s: close: %s", s->path,
		          sqlite3_errmsg(s->db));
	cmidtab_free(s->cmids);
	pairtab_free(s->seqs);
	pairtab_free(s->tail);
	seqtail_free(s->rows);
	pairtab_free(s->friends);
	free(s->dummy);
	free(s->path);
	free(s);
}

/*
 * After each commit of this connection: the WAL's length, for
 * store_checkpoint_due. A WAL nobody checkpoints (no pool, or one that
 * lags far behind) is checkpointed here, as SQLite itself would.
 */
static int
store_sqlite_wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct store_sqlite *s = arg;

	s->wal_frames = frames;
	if (frames >= s->wal_force)
		(void)sqlite3_wal_checkpoint_v2(
		    db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	return SQLITE_OK;
}

/*
 * Whether the WAL is within STORE_SQLITE_CHECKPOINT pages of wal_force,
 * where a commit checkpoints it itself (store_sqlite_wal_hook).
 */
static bool
store_sqlite_wal_near_force(const struct store_sqlite *s)
{
	return s->wal_frames >= s->wal_force - STORE_SQLITE_CHECKPOINT;
}

/*
 * Due once per STORE_SQLITE_CHECKPOINT pages logged, counted from the
 * last time it was due (or from the WAL's start after SQLite restarted
 * it). Not "the WAL is that long": under steady writes a passive
 * checkpoint never catches up with the writer, the WAL is not restarted,
 * and that test made one due after every commit (60 to 80 a second,
 * each with two fsyncs, at 20k messages/s). Never near wal_force: the
 * writer's own checkpoint there fails (SQLITE_BUSY) while another runs
 * and is tried again at every commit, then shares the disk with the
 * other's sync.
 */
static bool
store_sqlite_checkpoint_due(void *c)
{
	struct store_sqlite *s = c;

	if (s->wal_frames < s->wal_asked)
		s->wal_asked = 0;
	if (s->wal_frames - s->wal_asked < STORE_SQLITE_CHECKPOINT ||
	    store_sqlite_wal_near_force(s))
		return false;
	s->wal_asked = s->wal_frames;
	return true;
}

/*
 * A batch is cheap unless its commit may reach wal_force (the hook's
 * checkpoint): a batch logs far fewer than STORE_SQLITE_CHECKPOINT pages.
 */
static bool
store_sqlite_batch_cheap(void *c)
{
	return !store_sqlite_wal_near_force(c);
}

/*
 * The writer's own checkpoint (store.h), for the WAL's restart: with a WAL
 * worth starting over, a passive checkpoint here copies all of it, as
 * nothing writes meanwhile, and the next commit restarts the WAL. Not
 * again until a commit has logged more.
 */
static int
store_sqlite_idle(void *c)
{
	struct store_sqlite *s = c;
	int logged = 0, copied = 0, rc;

	if (s->wal_frames < STORE_SQLITE_IDLE_PAGES)
		return 0;
	rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE,
	                               &logged, &copied);
	if (rc == SQLITE_BUSY)
		return 0; /* a general thread's checkpoint: next time */
	if (rc != SQLITE_OK)
		return store_sqlite_fail(s, rc, "checkpoint");
	if (copied == logged)
		s->wal_frames = 0;
	return 0;
}

/* The writer is idle: is a WAL worth starting over there (store.h)? */
static bool
store_sqlite_idle_due(void *c)
{
	const struct store_sqlite *s = c;

	return s->wal_frames >= STORE_SQLITE_IDLE_PAGES;
}

/* This connection's page cache: kib KiB (STORE_SQLITE_CACHE_KIB says why). */
static int
store_sqlite_cache(struct store_sqlite *s, int kib)
{
	char sql[48];
	int rc;

	snprintf(sql, sizeof sql, "PRAGMA cache_size=-%d", kib);
	rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? 0 : store_sqlite_fail(s, rc, "cache_size");
}

/*
 * Foreign keys off on the writer's connection (store.h says why), and
 * the writer's page cache.
 */
static int
store_sqlite_sends_only(void *c)
{
	struct store_sqlite *s = c;
	int rc =
	    sqlite3_exec(s->db, "PRAGMA foreign_keys=OFF", NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		return store_sqlite_fail(s, rc, "foreign_keys");
	return store_sqlite_cache(s, STORE_SQLITE_CACHE_KIB_WRITER);
}

/*
 * The database file to disk, after a pool checkpoint, once it has
 * STORE_SQLITE_DB_SYNC unsynced bytes or the WAL is to restart (restart).
 * SQLite syncs it at the end of a checkpoint only if that caught up with
 * the WAL, which one beside a busy writer never does: so every page
 * copied since the WAL last restarted waited for the writer's own
 * checkpoint (the restart), whose fsync took 15-30 ms at 20k msg/s. A
 * sync here, on the checkpoint's thread, leaves that fsync only the pages
 * the writer copies itself. Not after every checkpoint: each copies
 * mostly the same index leaves again (~650 KiB at 20k msg/s, every ~60
 * ms), and the disk wrote each as a 4 KiB block each time. Nothing rests
 * on these syncs but the restart's length: until the WAL restarts, every
 * page copied is still in it, synced, and a crash copies it again.
 */
static int
store_sqlite_sync_db(struct store_sqlite *s, bool restart)
{
	sqlite3_file *f = NULL;

	if (sqlite3_file_control(s->db, "main", SQLITE_FCNTL_FILE_POINTER,
	                         &f) != SQLITE_OK ||
	    f == NULL || f->pMethods == NULL)
		return SQLITE_OK;
	if (!restart && store_sqlite_vfs_unsynced(f) < STORE_SQLITE_DB_SYNC)
		return SQLITE_OK;
	return f->pMethods->xSync(f, SQLITE_SYNC_NORMAL);
}

/*
 * A passive checkpoint: copies what it can while the writer goes on,
 * then syncs the database file when due (store_sqlite_sync_db);
 * SQLITE_BUSY (another checkpoint running) is not a failure.
 */
static int
store_sqlite_checkpoint(void *c)
{
	struct store_sqlite *s = c;
	int logged = 0, copied = 0;
	int rc = sqlite3_wal_checkpoint_v2(
	    s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &logged, &copied);
	bool restart = logged >= s->wal_restart;

	if (rc == SQLITE_OK && copied > 0)
		rc = store_sqlite_sync_db(s, restart);
	if (rc == SQLITE_OK)
		return restart ? 1 : 0;
	if (rc == SQLITE_BUSY)
		return 0;
	return store_sqlite_fail(s, rc, "checkpoint");
}

/*
 * Waiting for another connection's write lock (the writer's group commit,
 * or a register or friend_add on a pool thread): retry every 100 us, up
 * to STORE_SQLITE_BUSY_MS. SQLite's own busy timeout sleeps 1, 2, 5, 10,
 * 15, 20, 25 ms... between tries, so a writer that met a short
 * transaction of a pool thread lost milliseconds, and every send with it.
 */
static int
store_sqlite_busy(void *arg, int tries)
{
	struct timespec step = {0, STORE_SQLITE_BUSY_STEP_US * 1000};

	(void)arg;
	if ((long)tries * STORE_SQLITE_BUSY_STEP_US >=
	    (long)STORE_SQLITE_BUSY_MS * 1000)
		return 0;
	nanosleep(&step, NULL);
	return 1;
}

/* The database's page size in bytes (what the WAL's frames hold). */
static int
store_sqlite_page_size(struct store_sqlite *s)
{
	sqlite3_stmt *st = NULL;
	int size = 0;

	if (sqlite3_prepare_v2(s->db, "PRAGMA page_size", -1, &st, NULL) ==
	        SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		size = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return size > 0 ? size : 4096;
}

/*
 * The WAL lengths, in pages, of the durability note at the top: wal_force
 * (STORE_SQLITE_WAL_MAX bytes, or the tests' own), wal_restart four
 * checkpoint intervals before it (half of it for a small test WAL): a
 * pool checkpoint takes 20-80 ms at 20k msg/s, one interval or so, and
 * the one that asks for the restart must be done before wal_force.
 */
static void
store_sqlite_wal_limits(struct store_sqlite *s)
{
	size_t max = s->opt.sqlite_wal_max != 0 ? s->opt.sqlite_wal_max
	                                        : STORE_SQLITE_WAL_MAX;
	int gap = 4 * STORE_SQLITE_CHECKPOINT;

	s->wal_force = (int)(max / (size_t)store_sqlite_page_size(s));
	s->wal_restart =
	    s->wal_force > 2 * gap ? s->wal_force - gap : s->wal_force / 2;
}

/* Connection settings; see the durability note at the top. */
static int
store_sqlite_setup(struct store_sqlite *s, char **err)
{
	char *msg = NULL;
	int rc;

	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_handler(s->db, store_sqlite_busy, NULL);
	rc = sqlite3_exec(s->db,
	                  /* Before WAL: that writes the first page. */
	                  "PRAGMA page_size=" STORE_SQLITE_PAGE_SIZE "; "
	                  "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
	                  "PRAGMA foreign_keys=ON; " STORE_SQLITE_CACHE_PRAGMA
	                  "PRAGMA journal_size_limit=" STORE_SQLITE_STR(
	                      STORE_SQLITE_WAL_MAX) ";",
	                  NULL, NULL, &msg);
	/* Replaces SQLite's automatic checkpoints. */
	sqlite3_wal_hook(s->db, store_sqlite_wal_hook, s);
	if (rc != SQLITE_OK) {
		if (err != NULL)
			*err = xasprintf(
			    "%s: %s%s", s->path,
			    msg != NULL ? msg : sqlite3_errstr(rc),
			    (rc & 0xff) == SQLITE_PROTOCOL
			        ? " (another process has it open; a store "
			          "serves one natterd at a time)"
			        : "");
		sqlite3_free(msg);
		return (rc & 0xff) == SQLITE_NOTADB ? -ERR_INTERNAL
		                                    : -ERR_UNAVAILABLE;
	}
	store_sqlite_wal_limits(s);
	return 0;
}

/* Opens (creating if needed) the database file at path. */
static int
store_sqlite_open(const char *path, const struct store_options *opt, void **out,
                  char **err)
{
	struct store_sqlite *s;
	int r, rc;

	*out = NULL;
	if (*path == '\0') {
		if (err != NULL)
			*err = xstrdup("sqlite: empty path");
		return -ERR_BAD_REQUEST;
	}
	if ((r = pwhash_init()) < 0) {
		if (err != NULL)
			*err = xstrdup("libsodium initialisation failed");
		return r;
	}
	s = xcalloc(1, sizeof(*s));
	s->friends_n = -1;
	s->path = xstrdup(path);
	if (opt != NULL)
		s->opt = *opt;
	rc = sqlite3_open_v2(path, &s->db,
	                     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	                         SQLITE_OPEN_NOMUTEX,
	                     store_sqlite_vfs_name());
	if (rc != SQLITE_OK) {
		if (err != NULL)
			*err = xasprintf("%s: %s", path,
			                 s->db != NULL ? sqlite3_errmsg(s->db)
			                               : sqlite3_errstr(rc));
		store_sqlite_close(s);
		return -ERR_UNAVAILABLE;
	}
	if ((r = store_sqlite_setup(s, err)) < 0) {
		store_sqlite_close(s);
		return r;
	}
	*out = s;
	return 0;
}

/* Applies one migration step unless schema_version has it already. */
static int
store_sqlite_migrate_step(struct store_sqlite *s,
                          const struct schema_step *step)
{
	int64_t have;
	char *msg = NULL;
	int r, rc;

	if ((r = store_sqlite_begin(s)) < 0)
		return r;
	r = store_sqlite_int(s, SQ_VERSION_HAS, &have, "i",
	                     (int64_t)step->version);
	if (r != 0)
		return store_sqlite_end(s, r < 0 ? r : 0);
	if ((rc = sqlite3_exec(s->db, step->sql, NULL, NULL, &msg)) !=
	    SQLITE_OK) {
		log_error("sqlite %s: migration %s: %s", s->path, step->name,
		          msg != NULL ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return store_sqlite_end(s, -ERR_INTERNAL);
	}
	r = store_sqlite_run(s, SQ_VERSION_ADD, "isi", (int64_t)step->version,
	                     step->name, store_now_ms());
	if ((r = store_sqlite_end(s, r)) == 0)
		log_info("sqlite %s: applied schema %s", s->path, step->name);
	return r;
}

/* Applies every embedded migration not yet recorded, in order. */
static int
store_sqlite_migrate(void *c)
{
	struct store_sqlite *s = c;
	const struct schema_step *step;
	int64_t have = 0;
	char *where;
	int r, rc;

	rc = sqlite3_exec(s->db,
	                  "CREATE TABLE IF NOT EXISTS schema_version ("
	                  "version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
	                  "applied INTEGER NOT NULL)",
	                  NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return store_sqlite_fail(s, rc, "create schema_version");
	if ((r = store_sqlite_int(s, SQ_VERSION_MAX, &have, "")) < 0)
		return r;
	where = xasprintf("sqlite %s", s->path);
	r = store_common_schema_newer(schema_sqlite, have, where);
	free(where);
	if (r < 0)
		return r;
	if ((r = store_sqlite_cache(s, STORE_SQLITE_CACHE_KIB_WRITER)) < 0)
		return r;
	for (step = schema_sqlite; step->version != 0; step++)
		if ((r = store_sqlite_migrate_step(s, step)) < 0)
			return r;
	return store_sqlite_cache(s, STORE_SQLITE_CACHE_KIB);
}

/* --- users --- */

/*
 * Hashes outside any transaction (it is slow); the UNIQUE constraint
 * settles a race between two registrations of one name.
 */
static int
store_sqlite_user_register(void *c, const char *name, const char *password,
                           struct store_user *out)
{
	struct store_sqlite *s = c;
	char hash[PWHASH_MAX];
	sqlite3_stmt *st;
	int64_t id;
	int r, rc;

	memset(out, 0, sizeof(*out));
	if ((r = store_sqlite_int(s, SQ_USER_ID_BY_NAME, &id, "s", name)) != 0)
		return r < 0 ? r : -ERR_NAME_TAKEN;
	if ((r = pwhash_make(&s->opt, password, hash)) < 0)
		return r;
	if ((r = store_sqlite_query(s, SQ_USER_INSERT, &st, "ssi", name, hash,
	                            store_now_ms())) < 0)
		return r;
	if ((rc = sqlite3_step(st)) == SQLITE_CONSTRAINT_UNIQUE) {
		sqlite3_reset(st);
		return -ERR_NAME_TAKEN;
	}
	if ((r = store_sqlite_done(s, st, rc)) < 0)
		return r;
	out->id = sqlite3_last_insert_rowid(s->db);
	out->name = xstrdup(name);
	return 0;
}

/* Looks the name up, then verifies with no statement open. */
static int
store_sqlite_user_login(void *c, const char *name, const char *password,
                        struct store_user *out)
{
	struct store_sqlite *s = c;
	sqlite3_stmt *st;
	char *hash = NULL;
	int r, rc;

	memset(out, 0, sizeof(*out));
	if ((r = store_sqlite_query(s, SQ_USER_BY_NAME, &st, "s", name)) < 0)
		return r;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		out->id = sqlite3_column_int64(st, 0);
		out->name = store_sqlite_text_nn(st, 1);
		hash = store_sqlite_text_nn(st, 2);
	}
	if ((r = store_sqlite_done(s, st, rc)) < 0 || hash == NULL) {
		store_user_clear(out);
		return r < 0 ? r
		             : store_common_login_unknown(&s->dummy, &s->opt,
		                                          password);
	}
	if (!pwhash_check(hash, password)) {
		store_user_clear(out);
		r = -ERR_BAD_CREDENTIALS;
	}
	free(hash);
	return r;
}

/* Reads the user with id into out. */
static int
store_sqlite_user_get(void *c, int64_t id, struct store_user *out)
{
	struct store_sqlite *s = c;
	sqlite3_stmt *st;
	int r, rc;

	memset(out, 0, sizeof(*out));
	if ((r = store_sqlite_query(s, SQ_USER_BY_ID, &st, "i", id)) < 0)
		return r;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		out->id = sqlite3_column_int64(st, 0);
		out->name = store_sqlite_text_nn(st, 1);
	}
	if ((r = store_sqlite_done(s, st, rc)) < 0)
		store_user_clear(out);
	else if (rc != SQLITE_ROW)
		r = -ERR_NOT_FOUND;
	return r;
}

/* --- friends --- */

/* Puts uid into conversation conv (creating it), cursor at its end. */
static int
store_sqlite_conv_enter(struct store_sqlite *s, const char *conv, int64_t uid,
                        bool reset)
{
	int r;

	if ((r = store_sqlite_run(s, SQ_CONV_ENSURE, "s", conv)) < 0)
		return r;
	return store_sqlite_run(s, reset ? SQ_CONV_REENTER : SQ_CONV_ENTER,
	                        "is", uid, conv);
}

/* The body of store_friend_add, inside its transaction. */
static int
store_sqlite_friend_add_txn(struct store_sqlite *s, int64_t uid,
                            const char *name, struct store_user *out,
                            bool *created)
{
	char conv[STORE_CONV_MAX];
	int64_t fid, one;
	int r;

	if ((r = store_sqlite_int(s, SQ_USER_ID_BY_NAME, &fid, "s", name)) <= 0)
		return r < 0 ? r : -ERR_NOT_FOUND;
	if (fid == uid)
		return -ERR_BAD_REQUEST;
	if ((r = store_sqlite_int(s, SQ_FRIEND_CHECK, &one, "ii", uid, fid)) <
	    0)
		return r;
	*created = r == 0;
	if (*created && (r = store_sqlite_run(s, SQ_FRIEND_INSERT, "iii", uid,
	                                      fid, store_now_ms())) < 0)
		return r;
	/* For an existing friendship this only repairs missing rows. */
	store_conv_direct(conv, uid, fid);
	if ((r = store_sqlite_conv_enter(s, conv, uid, false)) < 0 ||
	    (r = store_sqlite_conv_enter(s, conv, fid, false)) < 0)
		return r;
	out->id = fid;
	out->name = xstrdup(name);
	return 0;
}

/* Befriends both ways in one transaction. */
static int
store_sqlite_friend_add(void *c, int64_t uid, const char *name,
                        struct store_user *out, bool *created)
{
	struct store_sqlite *s = c;
	int r;

	memset(out, 0, sizeof(*out));
	*created = false;
	if ((r = store_sqlite_begin(s)) < 0)
		return r;
	r = store_sqlite_friend_add_txn(s, uid, name, out, created);
	if ((r = store_sqlite_end(s, r)) < 0) {
		store_user_clear(out);
		*created = false;
	}
	return r;
}

/* Ends the friendship both ways; both leave their direct conversation. */
static int
store_sqlite_friend_remove(void *c, int64_t uid, int64_t fid)
{
	struct store_sqlite *s = c;
	char conv[STORE_CONV_MAX];
	int r;

	if ((r = store_sqlite_begin(s)) < 0)
		return r;
	r = store_sqlite_run(s, SQ_FRIEND_DELETE, "ii", uid, fid);
	if (r == 0 && sqlite3_changes(s->db) == 0)
		r = -ERR_NOT_FRIENDS;
	store_conv_direct(conv, uid, fid);
	if (r == 0)
		r = store_sqlite_run(s, SQ_CONV_LEAVE, "si", conv, uid);
	if (r == 0)
		r = store_sqlite_run(s, SQ_CONV_LEAVE, "si", conv, fid);
	store_sqlite_friends_forget(s); /* its own commit is not another's */
	return store_sqlite_end(s, r);
}

/* uid's friends sorted by name. */
static int
store_sqlite_friends(void *c, int64_t uid, struct store_user **out, size_t *n)
{
	struct store_sqlite *s = c;
	sqlite3_stmt *st;
	size_t cap = 0;
	int r, rc;

	*out = NULL;
	*n = 0;
	if ((r = store_sqlite_query(s, SQ_FRIENDS, &st, "i", uid)) < 0)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = xgrow(*out, *n, &cap, sizeof(**out));
		memset(&(*out)[*n], 0, sizeof(**out));
		(*out)[*n].id = sqlite3_column_int64(st, 0);
		(*out)[(*n)++].name = store_sqlite_text_nn(st, 1);
	}
	if ((r = store_sqlite_done(s, st, rc)) < 0) {
		store_users_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return r;
}

/* uid's friends' ids, ascending. */
static int
store_sqlite_friend_ids(void *c, int64_t uid, struct store_ids *out)
{
	return store_sqlite_ids(c, SQ_FRIEND_IDS, uid, out);
}

/* --- groups --- */

/* The body of store_group_create, inside its transaction. */
static int
store_sqlite_group_create_txn(struct store_sqlite *s, int64_t uid,
                              const char *name, const char *desc,
                              struct store_group *out)
{
	char conv[STORE_CONV_MAX];
	int64_t gid, now = store_now_ms();
	int r;

	if ((r = store_sqlite_int(s, SQ_GROUP_BY_NAME, &gid, "s", name)) != 0)
		return r < 0 ? r : -ERR_NAME_TAKEN;
	if ((r = store_sqlite_run(s, SQ_GROUP_INSERT, "ssii", name, desc, uid,
	                          now)) < 0)
		return r;
	gid = sqlite3_last_insert_rowid(s->db);
	if ((r = store_sqlite_run(s, SQ_MEMBER_INSERT, "iiii", gid, uid,
	                          (int64_t)STORE_ROLE_CREATOR, now)) < 0)
		return r;
	store_conv_group(conv, gid);
	if ((r = store_sqlite_conv_enter(s, conv, uid, true)) < 0)
		return r;
	out->id = gid;
	out->name = xstrdup(name);
	out->desc = xstrdup(desc);
	out->role = STORE_ROLE_CREATOR;
	return 0;
}

/* Creates the group with uid as its creator; desc NULL means "". */
static int
store_sqlite_group_create(void *c, int64_t uid, const char *name,
                          const char *desc, struct store_group *out)
{
	struct store_sqlite *s = c;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = store_sqlite_begin(s)) < 0)
		return r;
	r = store_sqlite_group_create_txn(s, uid, name,
	                                  desc != NULL ? desc : "", out);
	if ((r = store_sqlite_end(s, r)) < 0)
		store_group_clear(out);
	return r;
}

/* Reads a group by id (gid > 0) or name into out; -ERR_NOT_FOUND. */
static int
store_sqlite_group_find(struct store_sqlite *s, int64_t gid, const char *name,
                        struct store_group *out)
{
	sqlite3_stmt *st;
	int r, rc;

	if (gid > 0)
		r = store_sqlite_query(s, SQ_GROUP_BY_ID, &st, "i", gid);
	else if (name != NULL)
		r = store_sqlite_query(s, SQ_GROUP_BY_NAME, &st, "s", name);
	else
		return -ERR_NOT_FOUND;
	if (r < 0)
		return r;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		out->id = sqlite3_column_int64(st, 0);
		out->name = store_sqlite_text_nn(st, 1);
		out->desc = store_sqlite_text_nn(st, 2);
	}
	if ((r = store_sqlite_done(s, st, rc)) < 0)
		return r;
	return rc == SQLITE_ROW ? 0 : -ERR_NOT_FOUND;
}

/* The body of store_group_join, inside its transaction. */
static int
store_sqlite_group_join_txn(struct store_sqlite *s, int64_t uid, int64_t gid,
                            const char *name, struct store_group *out)
{
	char conv[STORE_CONV_MAX];
	int64_t role;
	int r;

	if ((r = store_sqlite_group_find(s, gid, name, out)) < 0)
		return r;
	if ((r = store_sqlite_int(s, SQ_MEMBER_ROLE, &role, "ii", out->id,
	                          uid)) != 0)
		return r < 0 ? r : -ERR_ALREADY_MEMBER;
	if ((r = store_sqlite_run(s, SQ_MEMBER_INSERT, "iiii", out->id, uid,
	                          (int64_t)STORE_ROLE_MEMBER, store_now_ms())) <
	    0)
		return r;
	store_conv_group(conv, out->id);
	out->role = STORE_ROLE_MEMBER;
	return store_sqlite_conv_enter(s, conv, uid, true);
}

/* Joins; the new member's cursor starts at the group's last seq. */
static int
store_sqlite_group_join(void *c, int64_t uid, int64_t gid, const char *name,
                        struct store_group *out)
{
	struct store_sqlite *s = c;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = store_sqlite_begin(s)) < 0)
		return r;
	r = store_sqlite_group_join_txn(s, uid, gid, name, out);
	if ((r = store_sqlite_end(s, r)) < 0)
		store_group_clear(out);
	return r;
}

/* Whether group gid exists: 1, 0 or a negative errcode. */
static int
store_sqlite_group_exists(struct store_sqlite *s, int64_t gid)
{
	int64_t id;

	return store_sqlite_int(s, SQ_GROUP_BY_ID, &id, "i", gid);
}

/* Leaves the group and its conversation; the group stays. */
static int
store_sqlite_group_leave(void *c, int64_t uid, int64_t gid)
{
	struct store_sqlite *s = c;
	char conv[STORE_CONV_MAX];
	int r;

	if ((r = store_sqlite_begin(s)) < 0)
		return r;
	if ((r = store_sqlite_group_exists(s, gid)) == 0)
		r = -ERR_NOT_FOUND;
	if (r > 0)
		r = store_sqlite_run(s, SQ_MEMBER_DELETE, "ii", gid, uid);
	if (r == 0 && sqlite3_changes(s->db) == 0)
		r = -ERR_NOT_MEMBER;
	store_conv_group(conv, gid);
	if (r == 0)
		r = store_sqlite_run(s, SQ_CONV_LEAVE, "si", conv, uid);
	return store_sqlite_end(s, r);
}

/* uid's groups sorted by name, with uid's role in each. */
static int
store_sqlite_groups(void *c, int64_t uid, struct store_group **out, size_t *n)
{
	struct store_sqlite *s = c;
	struct store_group *g;
	sqlite3_stmt *st;
	size_t cap = 0;
	int r, rc;

	*out = NULL;
	*n = 0;
	if ((r = store_sqlite_query(s, SQ_GROUPS, &st, "i", uid)) < 0)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = xgrow(*out, *n, &cap, sizeof(**out));
		g = &(*out)[(*n)++];
		g->id = sqlite3_column_int64(st, 0);
		g->name = store_sqlite_text_nn(st, 1);
		g->desc = store_sqlite_text_nn(st, 2);
		g->role = sqlite3_column_int(st, 3) == STORE_ROLE_CREATOR
		              ? STORE_ROLE_CREATOR
		              : STORE_ROLE_MEMBER;
	}
	if ((r = store_sqlite_done(s, st, rc)) < 0) {
		store_groups_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return r;
}

/* Reads every member row of the prepared SQ_MEMBERS statement. */
static int
store_sqlite_members_read(struct store_sqlite *s, sqlite3_stmt *st,
                          struct store_member **out, size_t *n)
{
	struct store_member *m;
	size_t cap = 0;
	int r, rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = xgrow(*out, *n, &cap, sizeof(**out));
		m = &(*out)[(*n)++];
		memset(m, 0, sizeof(*m));
		m->id = sqlite3_column_int64(st, 0);
		m->name = store_sqlite_text_nn(st, 1);
		m->role = sqlite3_column_int(st, 2) == STORE_ROLE_CREATOR
		              ? STORE_ROLE_CREATOR
		              : STORE_ROLE_MEMBER;
	}
	if ((r = store_sqlite_done(s, st, rc)) < 0) {
		store_members_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return r;
}

/* The members of gid, sorted by name, for a member uid. */
static int
store_sqlite_group_members(void *c, int64_t uid, int64_t gid,
                           struct store_member **out, size_t *n)
{
	struct store_sqlite *s = c;
	sqlite3_stmt *st;
	int64_t role;
	int r;

	*out = NULL;
	*n = 0;
	if ((r = store_sqlite_group_exists(s, gid)) <= 0)
		return r < 0 ? r : -ERR_NOT_FOUND;
	if ((r = store_sqlite_int(s, SQ_MEMBER_ROLE, &role, "ii", gid, uid)) <=
	    0)
		return r < 0 ? r : -ERR_NOT_MEMBER;
	if ((r = store_sqlite_query(s, SQ_MEMBERS, &st, "i", gid)) < 0)
		return r;
	return store_sqlite_members_read(s, st, out, n);
}

/* Member ids of gid, ascending; empty for an unknown group. */
static int
store_sqlite_group_member_ids(void *c, int64_t gid, struct store_ids *out)
{
	return store_sqlite_ids(c, SQ_MEMBER_IDS, gid, out);
}

/* --- messages --- */

/* Reads a row of STORE_SQLITE_MSG_COLS into m. */
static void
store_sqlite_msg_row(sqlite3_stmt *st, struct store_msg *m)
{
	const unsigned char *conv = sqlite3_column_text(st, 0);

	memset(m, 0, sizeof(*m));
	if (conv != NULL)
		snprintf(m->conv, sizeof(m->conv), "%s", (const char *)conv);
	m->seq = sqlite3_column_int64(st, 1);
	m->from_id = sqlite3_column_int64(st, 2);
	m->from_name = store_sqlite_text_nn(st, 3);
	m->to_user = sqlite3_column_int64(st, 4);
	m->to_group = sqlite3_column_int64(st, 5);
	m->body = store_sqlite_text_nn(st, 6);
	m->ts = sqlite3_column_int64(st, 7);
	m->cmid = store_sqlite_text(st, 8);
}

/*
 * Steps a bound message query, keeping up to max rows; *more says whether
 * another row followed. Resets st.
 */
static int
store_sqlite_msgs_read(struct store_sqlite *s, sqlite3_stmt *st, size_t max,
                       struct store_msg **out, size_t *n, bool *more)
{
	size_t cap = 0;
	int r, rc;

	*more = false;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == max) {
			*more = true;
			break;
		}
		*out = xgrow(*out, *n, &cap, sizeof(**out));
		store_sqlite_msg_row(st, &(*out)[(*n)++]);
	}
	if ((r = store_sqlite_done(s, st, rc)) < 0) {
		store_msgs_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return r;
}

/* Who gets message m live: both sides, or every member of the group. */
static int
store_sqlite_rcpt(struct store_sqlite *s, const struct store_msg *m,
                  struct store_ids *rcpt)
{
	if (rcpt == NULL)
		return 0;
	if (m->to_group != 0)
		return store_sqlite_ids(s, SQ_MEMBER_IDS, m->to_group, rcpt);
	store_common_rcpt_direct(m, rcpt);
	return 0;
}

/*
 * The sender's earlier message with in->cmid: 1 and *out, 0 or error.
 * Recent ones are in memory, the rest in msg_cmids (see "cmids" above);
 * both are checked against the message itself.
 */
static int
store_sqlite_msg_by_cmid(struct store_sqlite *s, const struct store_send *in,
                         struct store_msg *out)
{
	sqlite3_stmt *st;
	bool more;
	size_t n = 0;
	struct store_msg *v = NULL;
	int64_t id = cmidtab_find(s->cmids, in->from_id, in->cmid);
	int r;

	if (id != 0)
		r = store_sqlite_query(s, SQ_MSG_BY_ID_CMID, &st, "iis", id,
		                       in->from_id, in->cmid);
	else
		r = store_sqlite_query(s, SQ_MSG_BY_CMID, &st, "is",
		                       in->from_id, in->cmid);
	if (r < 0)
		return r;
	if ((r = store_sqlite_msgs_read(s, st, 1, &v, &n, &more)) < 0)
		return r;
	if (n == 1)
		*out = v[0];
	free(v);
	return n == 1;
}

/*
 * What the sends of one store_msg_append_many call learned inside the
 * batch's transaction, which nothing else writes to while it lasts (the
 * writer's batch holds only sends, and SQLite lets one writer in): groups'
 * member lists. A send whose group is here skips reading them. Bounded:
 * past STORE_SQLITE_MEMO_GROUPS lists, sends just ask again.
 * Conversations' last seqs and friendships outlive the batch (s->seqs,
 * s->friends).
 */
#define STORE_SQLITE_MEMO_GROUPS 8 /* member lists kept */

struct store_sqlite_memo {
	struct {
		int64_t group;
		struct store_ids members; /* owned */
	} groups[STORE_SQLITE_MEMO_GROUPS];
	size_t ngroups;
};

static void
store_sqlite_memo_clear(struct store_sqlite_memo *m)
{
	size_t i;

	for (i = 0; i < m->ngroups; i++)
		free(m->groups[i].members.ids);
	m->ngroups = 0;
}

/*
 * Whether the friendships in s->friends hold in this write transaction: yes
 * while social_epoch's counter is what it was when they were found. The
 * counter is read only if another connection has committed since this one
 * last did (a removal on a general thread, an ack, a tool), and they are
 * forgotten if it moved. 0 or a negative errcode.
 */
static int
store_sqlite_friends_check(struct store_sqlite *s)
{
	int64_t n;
	int r;

	if (s->friends_fresh)
		return 0;
	if (s->friends == NULL)
		s->friends = pairtab_new(STORE_SQLITE_FRIENDS);
	if (s->friends_n < 0 || store_sqlite_others_wrote(s)) {
		if ((r = store_sqlite_int(s, SQ_EPOCH_READ, &n, "")) <= 0)
			return r < 0 ? r : -ERR_INTERNAL;
		if (n != s->friends_n)
			pairtab_clear(s->friends);
		s->friends_n = n;
	}
	s->friends_fresh = true;
	return 0;
}

/*
 * Whether a direct send's users are friends: 1, 0, or a negative errcode.
 * Asked of s->friends first, by the conversation's key; a friendship read
 * is kept there.
 */
static int
store_sqlite_are_friends(struct store_sqlite *s, const struct store_send *in)
{
	int64_t a, b, x;
	int r;

	if ((r = store_sqlite_friends_check(s)) < 0)
		return r;
	store_common_conv_key(in, &a, &b);
	if (pairtab_find(s->friends, a, b) != 0)
		return 1;
	if ((r = store_sqlite_int(s, SQ_FRIEND_CHECK, &x, "ii", in->from_id,
	                          in->to_user)) > 0)
		pairtab_set(s->friends, a, b, 1);
	return r;
}

/* A copy of ids into out. */
static void
store_sqlite_ids_copy(const struct store_ids *ids, struct store_ids *out)
{
	out->n = ids->n;
	out->ids = ids->n != 0 ? xmalloc(ids->n * sizeof(*ids->ids)) : NULL;
	if (ids->n != 0)
		memcpy(out->ids, ids->ids, ids->n * sizeof(*ids->ids));
}

/*
 * The members of group into out: from memo if an earlier send of the
 * batch read them (a fan-out's sends all go to one group, and reading a
 * hundred rows was half of natterd's instructions), else read, and kept.
 */
static int
store_sqlite_member_ids(struct store_sqlite *s, struct store_sqlite_memo *m,
                        int64_t group, struct store_ids *out)
{
	size_t i;
	int r;

	for (i = 0; m != NULL && i < m->ngroups; i++) {
		if (m->groups[i].group == group) {
			store_sqlite_ids_copy(&m->groups[i].members, out);
			return 0;
		}
	}
	if ((r = store_sqlite_ids(s, SQ_MEMBER_IDS, group, out)) < 0 ||
	    m == NULL || m->ngroups == STORE_SQLITE_MEMO_GROUPS)
		return r;
	m->groups[m->ngroups].group = group;
	store_sqlite_ids_copy(out, &m->groups[m->ngroups++].members);
	return r;
}

/*
 * Why a direct message may not go to in->to_user: -ERR_NOT_FOUND for no
 * such user, else -ERR_NOT_FRIENDS (oneself included).
 */
static int
store_sqlite_msg_direct_denied(struct store_sqlite *s,
                               const struct store_send *in)
{
	int64_t x;
	int r;

	r = store_sqlite_int(s, SQ_USER_BY_ID, &x, "i", in->to_user);
	return r < 0 ? r : r == 0 ? -ERR_NOT_FOUND : -ERR_NOT_FRIENDS;
}

/*
 * Checks the sender may write to the target and writes the conv id. The
 * common case costs one statement: the friendship or membership row (its
 * foreign keys vouch for the target); only a refusal looks further, to
 * tell "no such target" from "not allowed". When rcpt is not NULL a group's
 * member list (which rcpt needs anyway) is the membership check.
 */
static int
store_sqlite_msg_check(struct store_sqlite *s, const struct store_send *in,
                       char *conv, struct store_ids *rcpt,
                       struct store_sqlite_memo *memo)
{
	int64_t x;
	size_t i;
	int r;

	if (in->to_user != 0) {
		store_conv_direct(conv, in->from_id, in->to_user);
		if (in->to_user == in->from_id)
			return store_sqlite_msg_direct_denied(s, in);
		r = store_sqlite_are_friends(s, in);
		return r != 0 ? (r < 0 ? r : 0)
		              : store_sqlite_msg_direct_denied(s, in);
	}
	store_conv_group(conv, in->to_group);
	if (rcpt != NULL) {
		if ((r = store_sqlite_member_ids(s, memo, in->to_group, rcpt)) <
		    0)
			return r;
		for (i = 0; i < rcpt->n; i++)
			if (rcpt->ids[i] == in->from_id)
				return 0;
		r = 0;
	} else {
		r = store_sqlite_int(s, SQ_MEMBER_ROLE, &x, "ii", in->to_group,
		                     in->from_id);
	}
	if (r != 0)
		return r < 0 ? r : 0;
	r = store_sqlite_group_exists(s, in->to_group);
	return r < 0 ? r : r == 0 ? -ERR_NOT_FOUND : -ERR_NOT_MEMBER;
}

/*
 * Inserts the message with seq and notes its cmid: 0, 1 if msg_cmids has
 * the cmid (nothing written; the statement looks), or a negative errcode.
 */
static int
store_sqlite_msg_put(struct store_sqlite *s, const struct store_send *in,
                     const char *conv, int64_t seq)
{
	sqlite3_stmt *st;
	int r;

	if ((r = store_sqlite_query(s, SQ_MSG_INSERT, &st, "siinnbis", conv,
	                            seq, in->from_id, in->to_user, in->to_group,
	                            in->body, in->body_len, in->ts, in->cmid)) <
	    0)
		return r;
	if ((r = store_sqlite_done(s, st, sqlite3_step(st))) < 0)
		return r;
	if (sqlite3_changes(s->db) == 0)
		return 1;
	store_sqlite_cmids_note(s, in);
	return 0;
}

/*
 * The next seq of conv, which has no message in the tail (s->tail), read
 * from msg_seqs: 0 or a negative errcode.
 */
static int
store_sqlite_seq_read(struct store_sqlite *s, const char *conv, int64_t *seq)
{
	int r = store_sqlite_int(s, SQ_SEQ_NEXT, seq, "s", conv);

	return r < 0 ? r : r == 0 ? -ERR_INTERNAL : 0;
}

/*
 * Inserts the message with its conversation's next seq, *seq: 0, 1 if the
 * sender's cmid is taken (nothing written), or a negative errcode. The
 * last seq is the one noted in s->seqs, which holds while every message
 * goes through this connection (natterd sends only through its writer);
 * messages another connection wrote (a test, a tool) make it forget the
 * seqs of their conversations (store_sqlite_cmids_since). Failing that,
 * s->tail knows it, or msg_seqs (the seqs note at the top). Reading it
 * for every message was 14 % of the writer's time.
 */
static int
store_sqlite_msg_put_next(struct store_sqlite *s, const struct store_send *in,
                          const char *conv, int64_t *seq)
{
	struct seqtail_row row;
	int64_t a, b;
	int r = 0;

	if (s->seqs == NULL)
		s->seqs = pairtab_new(STORE_SQLITE_SEQS);
	store_common_conv_key(in, &a, &b);
	if ((*seq = pairtab_find(s->seqs, a, b)) > 0 ||
	    (*seq = pairtab_find(s->tail, a, b)) > 0)
		++*seq;
	else
		r = store_sqlite_seq_read(s, conv, seq);
	/* inside a transaction: cmids_ready made sure */
	if (r == 0 && (r = store_sqlite_msg_put(s, in, conv, *seq)) == 0) {
		row.a = a;
		row.b = b;
		row.seq = *seq;
		row.id = s->cmid_max; /* store_sqlite_cmids_note */
		snprintf(row.conv, sizeof(row.conv), "%s", conv);
		store_sqlite_tail_add(s, &row);
		pairtab_set(s->seqs, a, b, *seq);
		s->seqs_dirty = true;
	}
	return r;
}

/*
 * Inserts the message with the conversation's next seq: 0, 1 if the
 * sender's cmid is taken (nothing written), or a negative errcode.
 */
static int
store_sqlite_msg_insert(struct store_sqlite *s, const struct store_send *in,
                        const char *conv, struct store_msg *out)
{
	struct store_user sender = {0};
	int64_t seq;
	int r;

	/* The caller knows the sender's name from the login: lent. */
	if (in->from_name == NULL &&
	    (r = store_sqlite_user_get(s, in->from_id, &sender)) < 0)
		return r;
	if ((r = store_sqlite_msg_put_next(s, in, conv, &seq)) != 0) {
		store_user_clear(&sender);
		return r;
	}
	store_common_msg_fill(in, conv, seq, sender.name, out);
	return 0;
}

/*
 * The sender's earlier message with in->cmid, in place of a new one: the
 * stored message wins over any later change, checks included. r is what
 * storing a new one gave: a refusal, or 1 for a cmid that is taken (the
 * insert found it in msg_cmids, or it is in memory).
 */
static int
store_sqlite_msg_retry(struct store_sqlite *s, const struct store_send *in,
                       int r, struct store_msg *out, bool *dup,
                       struct store_ids *rcpt)
{
	int found;

	if (rcpt != NULL) { /* a group's, filled by the check */
		free(rcpt->ids);
		rcpt->ids = NULL;
		rcpt->n = 0;
	}
	if ((found = store_sqlite_msg_by_cmid(s, in, out)) < 0)
		return found;
	if (found == 0) /* 1: a duplicate (conv, seq) is corruption */
		return r == 1 ? -ERR_INTERNAL : r;
	*dup = true;
	return store_sqlite_rcpt(s, out, rcpt);
}

/*
 * The body of store_msg_append, inside its transaction. The common case
 * costs three statements: the check, the seq and the insert, which also
 * makes sure msg_cmids has not the cmid; a recent cmid is found in memory
 * first, an older one is looked up when the insert finds it taken or the
 * check refuses.
 */
static int
store_sqlite_msg_append_txn(struct store_sqlite *s, const struct store_send *in,
                            struct store_msg *out, bool *dup,
                            struct store_ids *rcpt,
                            struct store_sqlite_memo *memo)
{
	char conv[STORE_CONV_MAX];
	int r;

	if ((r = store_sqlite_cmids_ready(s)) < 0)
		return r;
	if (in->cmid != NULL &&
	    cmidtab_find(s->cmids, in->from_id, in->cmid) != 0)
		return store_sqlite_msg_retry(s, in, 1, out, dup, rcpt);
	/* A group's rcpt is read by the check. */
	if ((r = store_sqlite_msg_check(s, in, conv, rcpt, memo)) == 0 &&
	    (r = store_sqlite_msg_insert(s, in, conv, out)) == 0)
		return in->to_group != 0 ? 0 : store_sqlite_rcpt(s, out, rcpt);
	if (in->cmid == NULL || (r < 0 && !store_common_refused(r)))
		return r < 0 ? r : -ERR_INTERNAL;
	return store_sqlite_msg_retry(s, in, r, out, dup, rcpt);
}

/*
 * Stores a message in one write transaction. In a group commit it takes
 * no savepoint of its own (two statements a message, 7% of natterd's
 * instructions in the relay benchmark): the INSERT is its only write and
 * the last step that can fail, and SQLite undoes a failed statement by
 * itself. A write or a fallible step after the INSERT would need the
 * savepoint back.
 */
static int
store_sqlite_msg_append_memo(struct store_sqlite *s,
                             const struct store_send *in, struct store_msg *out,
                             bool *dup, struct store_ids *rcpt,
                             struct store_sqlite_memo *memo)
{
	int r;

	memset(out, 0, sizeof(*out));
	*dup = false;
	if (rcpt != NULL) {
		rcpt->ids = NULL;
		rcpt->n = 0;
	}
	if ((in->to_user != 0) == (in->to_group != 0) || in->body == NULL)
		return -ERR_BAD_REQUEST;
	if (s->batch)
		r = store_sqlite_msg_append_txn(s, in, out, dup, rcpt, memo);
	else if ((r = store_sqlite_begin(s)) == 0) {
		r = store_sqlite_msg_append_txn(s, in, out, dup, rcpt, NULL);
		if (r >= 0)
			(void)store_sqlite_cmids_flush(s);
		r = store_sqlite_end(s, r);
	}
	if (r < 0) {
		store_msg_clear(out);
		*dup = false;
		if (rcpt != NULL) {
			free(rcpt->ids);
			rcpt->ids = NULL;
			rcpt->n = 0;
		}
	}
	return r;
}

static int
store_sqlite_msg_append(void *c, const struct store_send *in,
                        struct store_msg *out, bool *dup,
                        struct store_ids *rcpt)
{
	return store_sqlite_msg_append_memo(c, in, out, dup, rcpt, NULL);
}

/*
 * store_msg_append n times in a row, with a memo while the sends share a
 * batch's transaction: a send whose pair (or group) and conversation came
 * before in the batch costs its INSERT alone. The memo is dropped if the
 * transaction is lost (SQLite rolls back by itself on some errors).
 */
static int
store_sqlite_msg_append_many(void *c, const struct store_send *in, size_t n,
                             struct store_msg *out, bool *dup,
                             struct store_ids *rcpt, int *res)
{
	struct store_sqlite *s = c;
	struct store_sqlite_memo memo;
	size_t i;

	memo.ngroups = 0;
	for (i = 0; i < n; i++) {
		bool txn = s->batch && !sqlite3_get_autocommit(s->db);

		res[i] = store_sqlite_msg_append_memo(
		    s, &in[i], &out[i], &dup[i], rcpt != NULL ? &rcpt[i] : NULL,
		    txn ? &memo : NULL);
	}
	store_sqlite_memo_clear(&memo);
	return 0;
}

/* Everything above uid's cursors, in global commit order. */
static int
store_sqlite_sync(void *c, int64_t uid, size_t limit, struct store_msg **out,
                  size_t *n, bool *more)
{
	struct store_sqlite *s = c;
	sqlite3_stmt *st;
	int r;

	*out = NULL;
	*n = 0;
	*more = false;
	if (limit > STORE_SQLITE_LIMIT_MAX)
		limit = STORE_SQLITE_LIMIT_MAX;
	if ((r = store_sqlite_query(s, SQ_SYNC, &st, "ii", uid,
	                            (int64_t)limit + 1)) < 0)
		return r;
	return store_sqlite_msgs_read(s, st, limit, out, n, more);
}

/* Moves the cursor forward only, never past the conversation's end. */
static int
store_sqlite_ack(void *c, int64_t uid, const char *conv, int64_t seq)
{
	struct store_sqlite *s = c;
	struct store_conv pc;
	int r;

	if (store_conv_parse(conv, &pc) < 0)
		return -ERR_BAD_REQUEST;
	if ((r = store_sqlite_run(s, SQ_ACK, "isi", uid, conv, seq)) < 0)
		return r;
	/* SQLite counts matched rows, changed or not. */
	return sqlite3_changes(s->db) == 0 ? -ERR_NOT_MEMBER : 0;
}

/* A page of conv before seq `before`, for a participant. */
static int
store_sqlite_history(void *c, int64_t uid, const char *conv, int64_t before,
                     size_t limit, struct store_msg **out, size_t *n)
{
	struct store_sqlite *s = c;
	struct store_conv pc;
	sqlite3_stmt *st;
	int64_t acked;
	bool more;
	int r;

	*out = NULL;
	*n = 0;
	if (store_conv_parse(conv, &pc) < 0)
		return -ERR_BAD_REQUEST;
	if ((r = store_sqlite_int(s, SQ_MEMBER_CONV, &acked, "is", uid,
	                          conv)) <= 0)
		return r < 0 ? r : -ERR_NOT_MEMBER;
	if (before <= 0)
		before = INT64_MAX;
	if (limit > STORE_SQLITE_LIMIT_MAX)
		limit = STORE_SQLITE_LIMIT_MAX;
	if ((r = store_sqlite_query(s, SQ_HISTORY, &st, "sii", conv, before,
	                            (int64_t)limit)) < 0)
		return r;
	if ((r = store_sqlite_msgs_read(s, st, limit, out, n, &more)) < 0)
		return r;
	store_common_msgs_reverse(*out, *n);
	return 0;
}

/*
 * Before any connection: SQLite's memory statistics off. They take a
 * global mutex around every allocation of every connection (about 14 a
 * message on the writer alone), and natterd never reads them.
 */
static int
store_sqlite_lib_init(void)
{
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); /* MISUSE if late */
	return sqlite3_initialize() == SQLITE_OK ? 0 : -ERR_UNAVAILABLE;
}

const struct store_backend store_sqlite_backend = {
    .prefix = "sqlite:",
    .lib_init = store_sqlite_lib_init,
    .open = store_sqlite_open,
    .close = store_sqlite_close,
    .migrate = store_sqlite_migrate,
    .batch_begin = store_sqlite_batch_begin,
    .batch_end = store_sqlite_batch_end,
    .batch_max = STORE_SQLITE_BATCH_MAX,
    .batch_cheap = store_sqlite_batch_cheap,
    .sends_only = store_sqlite_sends_only,
    .checkpoint_due = store_sqlite_checkpoint_due,
    .checkpoint = store_sqlite_checkpoint,
    .idle = store_sqlite_idle,
    .idle_due = store_sqlite_idle_due,
    .user_register = store_sqlite_user_register,
    .user_login = store_sqlite_user_login,
    .user_get = store_sqlite_user_get,
    .friend_add = store_sqlite_friend_add,
    .friend_remove = store_sqlite_friend_remove,
    .friends = store_sqlite_friends,
    .friend_ids = store_sqlite_friend_ids,
    .group_create = store_sqlite_group_create,
    .group_join = store_sqlite_group_join,
    .group_leave = store_sqlite_group_leave,
    .groups = store_sqlite_groups,
    .group_members = store_sqlite_group_members,
    .group_member_ids = store_sqlite_group_member_ids,
    .msg_append = store_sqlite_msg_append,
    .msg_append_many = store_sqlite_msg_append_many,
    .sync = store_sqlite_sync,
    .ack = store_sqlite_ack,
    .history = store_sqlite_history,
};
