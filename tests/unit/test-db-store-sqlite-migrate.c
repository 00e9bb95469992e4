/*
 * An SQLite store made by schema version 1 (conversations.last_seq kept
 * the newest seq) and opened by today's natterd: migration 2 drops the
 * counter, and the seq, the cursors and the acks carry on from the
 * messages already stored; migration 3 moves the cmids to msg_cmids, and
 * a retry of a message stored before it is still the stored message;
 * migration 5 lists the messages in msg_seqs instead of a (conv, seq)
 * key, and history and seqs go on across its floor.
 */
#include <sodium.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "schema.h"
#include "store-sqlite-vfs.h"
#include "store.h"
#include "unit-db.h"
#include "xmalloc.h"

/* Users 1 (ann), 2 (bob), 3 (cy); ann and bob are friends with 3 messages. */
static const char *const test_v1_rows =
    "INSERT INTO schema_version VALUES(1, '001-init', 0);"
    "INSERT INTO users VALUES(1, 'ann', 'x', 0), (2, 'bob', 'x', 0),"
    " (3, 'cy', 'x', 0);"
    "INSERT INTO friendships VALUES(1, 2, 0), (2, 1, 0);"
    "INSERT INTO conversations VALUES('d:1:2', 3);"
    "INSERT INTO conv_members VALUES(1, 'd:1:2', 3), (2, 'd:1:2', 1);"
    "INSERT INTO messages(conv, seq, sender, to_user, body, ts, cmid) VALUES"
    " ('d:1:2', 1, 1, 2, 'one', 1, 'c1'), ('d:1:2', 2, 2, 1, 'two', 2, NULL),"
    " ('d:1:2', 3, 1, 2, 'three', 3, 'c3');";

/* Writes a version 1 database at path, as natterd 0.1 left it. */
static void
test_make_v1(const char *path)
{
	sqlite3 *db;
	char *msg = NULL;

	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK(schema_sqlite[0].version == 1);
	CHECK(sqlite3_exec(db,
	                   "CREATE TABLE schema_version (version INTEGER "
	                   "PRIMARY KEY, name TEXT NOT NULL, applied INTEGER "
	                   "NOT NULL);",
	                   NULL, NULL, &msg) == SQLITE_OK);
	CHECK(sqlite3_exec(db, schema_sqlite[0].sql, NULL, NULL, &msg) ==
	      SQLITE_OK);
	CHECK(sqlite3_exec(db, test_v1_rows, NULL, NULL, &msg) == SQLITE_OK);
	if (msg != NULL)
		fprintf(stderr, "%s\n", msg);
	sqlite3_free(msg);
	sqlite3_close(db);
}

/* Sends body from ann to bob; the seq it got, or -1. */
static int64_t
test_send(struct store *st, const char *body, const char *cmid)
{
	struct store_send in = {.from_id = 1,
	                        .to_user = 2,
	                        .body = body,
	                        .body_len = strlen(body),
	                        .cmid = cmid,
	                        .ts = 9};
	struct store_msg out;
	struct store_ids rcpt;
	bool dup;
	int64_t seq = -1;

	if (store_msg_append(st, &in, &out, &dup, &rcpt) == 0)
		seq = out.seq;
	store_msg_clear(&out);
	free(rcpt.ids);
	return seq;
}

/* The seqs of uid's pending messages, oldest first, as "2,3,...". */
static void
test_pending(struct store *st, int64_t uid, char *buf, size_t size)
{
	struct store_msg *v = NULL;
	size_t n = 0, i, len = 0;
	bool more;

	buf[0] = '\0';
	CHECK_EQ_INT(store_sync(st, uid, 100, &v, &n, &more), 0);
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%lld",
		                        i ? "," : "", (long long)v[i].seq);
	store_msgs_free(v, n);
}

static void
test_after_migration(struct store *st)
{
	struct store_user u;
	char buf[64];
	bool created;

	/* The seq goes on from the newest message, not from 1. */
	CHECK_EQ_INT(test_send(st, "four", "c4"), 4);
	/* A retried cmid is the stored message; nothing new: one from
	 * before the migration (in msg_cmids), one from after (in memory). */
	CHECK_EQ_INT(test_send(st, "three again", "c3"), 3);
	CHECK_EQ_INT(test_send(st, "one again", "c1"), 1);
	CHECK_EQ_INT(test_send(st, "four again", "c4"), 4);
	CHECK_EQ_INT(test_send(st, "five", NULL), 5);
	test_pending(st, 2, buf, sizeof(buf));
	CHECK(strcmp(buf, "2,3,4,5") == 0);
	/* An ack past the end stops at the end. */
	CHECK_EQ_INT(store_ack(st, 2, "d:1:2", 99), 0);
	test_pending(st, 2, buf, sizeof(buf));
	CHECK(strcmp(buf, "") == 0);
	CHECK_EQ_INT(test_send(st, "six", NULL), 6);
	test_pending(st, 2, buf, sizeof(buf));
	CHECK(strcmp(buf, "6") == 0);
	/* A new friend's cursor starts at the conversation's end. */
	CHECK_EQ_INT(store_friend_add(st, 3, "ann", &u, &created), 0);
	store_user_clear(&u);
	test_pending(st, 3, buf, sizeof(buf));
	CHECK(strcmp(buf, "") == 0);
}

/* The value of query's first row and column, or -1. */
static int
test_int(sqlite3 *db, const char *query)
{
	sqlite3_stmt *st;
	int v = -1;

	CHECK(sqlite3_prepare_v2(db, query, -1, &st, NULL) == SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

/*
 * Once migrated: the counter column is gone, the cmids are in msg_cmids
 * and the seqs in msg_seqs up to the newest message, and messages has no
 * index of its own.
 */
static void
test_migrated(const char *path)
{
	sqlite3 *db;
	sqlite3_stmt *st;

	/* the store is open: only through its VFS (store-sqlite-shm.h) */
	CHECK(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE,
	                      store_sqlite_vfs_name()) == SQLITE_OK);
	CHECK(sqlite3_prepare_v2(db, "SELECT last_seq FROM conversations", -1,
	                         &st, NULL) != SQLITE_OK);
	CHECK_EQ_INT(test_int(db, "SELECT max(version) FROM schema_version"),
	             5);
	CHECK_EQ_INT(test_int(db, "SELECT n FROM social_epoch WHERE id = 1"),
	             0);
	CHECK_EQ_INT(test_int(db, "SELECT count(*) FROM msg_cmids"), 2);
	CHECK_EQ_INT(test_int(db, "SELECT id FROM msg_cmids_floor"), 3);
	CHECK_EQ_INT(test_int(db, "SELECT count(*) FROM msg_seqs"), 3);
	CHECK_EQ_INT(test_int(db, "SELECT id FROM msg_seqs_floor"), 3);
	CHECK_EQ_INT(test_int(db, "SELECT count(*) FROM sqlite_schema WHERE "
	                          "type = 'index' AND tbl_name = 'messages'"),
	             0);
	sqlite3_close(db);
}

/* n sends from bob to ann in batches of 250 on writer w, cmids "b<i>". */
static void
test_flood(struct store *w, int n)
{
	struct store_send in[250];
	struct store_msg m[250];
	bool dup[250];
	int res[250], i, k, b;
	char(*cmid)[16] = xcalloc(250, sizeof(*cmid));

	for (i = 0; i < n; i += b) {
		b = n - i < 250 ? n - i : 250;
		for (k = 0; k < b; k++) {
			snprintf(cmid[k], sizeof(cmid[k]), "b%d", i + k);
			in[k] = (struct store_send){.from_id = 2,
			                            .to_user = 1,
			                            .body = "f",
			                            .body_len = 1,
			                            .cmid = cmid[k],
			                            .ts = 9};
		}
		CHECK_EQ_INT(store_batch_begin(w), 0);
		CHECK_EQ_INT(
		    store_msg_append_many(w, in, (size_t)b, m, dup, NULL, res),
		    0);
		CHECK_EQ_INT(store_batch_end(w, true), 0);
		for (k = 0; k < b; k++) {
			CHECK(res[k] == 0 && !dup[k]);
			store_msg_clear(&m[k]);
		}
	}
	free(cmid);
}

/*
 * A cmid that stays in memory (its sender sends little) is written to
 * msg_cmids once 65536 later messages came, and msg_cmids_floor moves past
 * it: after a restart it is found there, not read back from messages.
 */
static void
test_old_cmid(const char *url, const char *path)
{
	struct store *w = unit_db_open(url);
	sqlite3 *db;
	int64_t seq;

	CHECK_EQ_INT(store_sends_only(w), 0);
	seq = test_send(w, "old", "c-old");
	CHECK(seq > 0);
	test_flood(w, 70000);
	store_close(w);
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK_EQ_INT(test_int(db, "SELECT count(*) FROM msg_cmids WHERE "
	                          "sender = 1 AND cmid = 'c-old'"),
	             1);
	CHECK(test_int(db, "SELECT id FROM msg_cmids_floor") >
	      test_int(db, "SELECT id FROM messages WHERE cmid = 'c-old'"));
	sqlite3_close(db);
	w = unit_db_open(url);
	CHECK_EQ_INT(test_send(w, "old again", "c-old"), seq);
	store_close(w);
}

/* The seqs history gives, oldest first, as "7,8,...". */
static void
test_history(struct store *st, int64_t before, size_t n, char *buf, size_t size)
{
	struct store_msg *v = NULL;
	size_t got = 0, i, len = 0;

	buf[0] = '\0';
	CHECK_EQ_INT(store_history(st, 1, "d:1:2", before, n, &v, &got), 0);
	for (i = 0; i < got; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%lld",
		                        i ? "," : "", (long long)v[i].seq);
	store_msgs_free(v, got);
}

/*
 * After the flood, msg_seqs lists every message up to its floor, which
 * the writer moved on in rounds, and not the last sent since; history reads
 * across the floor (msg_seqs below, the tail above) and the next seq
 * follows the newest, after a restart too.
 */
static void
test_seqs_floor(const char *url, const char *path)
{
	struct store *st = unit_db_open(url);
	sqlite3 *db;
	int floor, last, i;
	char buf[128], want[128];

	for (i = 0; i < 3; i++)
		CHECK(test_send(st, "after the flood", NULL) > 0);
	store_close(st);
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	floor = test_int(db, "SELECT id FROM msg_seqs_floor");
	last = test_int(db, "SELECT max(seq) FROM messages");
	CHECK(floor > 60000 && floor < last);
	/* every message up to the floor listed (and some of a round after) */
	CHECK_EQ_INT(test_int(db, "SELECT count(*) FROM messages m WHERE "
	                          "id <= (SELECT id FROM msg_seqs_floor) AND "
	                          "NOT EXISTS (SELECT 1 FROM msg_seqs s WHERE "
	                          "s.conv = m.conv AND s.seq = m.seq "
	                          "AND s.id = m.id)"),
	             0);
	CHECK(test_int(db, "SELECT count(*) FROM msg_seqs") >= floor);
	sqlite3_close(db);
	st = unit_db_open(url);
	/* id and seq move together in d:1:2, the only conversation. */
	snprintf(want, sizeof(want), "%d,%d,%d,%d", floor - 2, floor - 1, floor,
	         floor + 1);
	test_history(st, floor + 2, 4, buf, sizeof(buf));
	CHECK(strcmp(buf, want) == 0);
	snprintf(want, sizeof(want), "%d,%d", last - 1, last);
	test_history(st, INT64_MAX, 2, buf, sizeof(buf));
	CHECK(strcmp(buf, want) == 0);
	CHECK_EQ_INT(test_send(st, "after a restart", NULL), last + 1);
	store_close(st);
}

int
main(void)
{
	struct store_options opt = {.pwhash_ops = crypto_pwhash_OPSLIMIT_MIN,
	                            .pwhash_mem = crypto_pwhash_MEMLIMIT_MIN};
	const char *tmp = getenv("NATTER_TEST_TMP");
	char *path, *url;
	struct store *st = NULL;
	char *err = NULL;

	path = xasprintf("%s/migrate-%d.db", tmp ? tmp : "/tmp", (int)getpid());
	test_make_v1(path);
	url = xasprintf("sqlite:%s", path);
	CHECK_EQ_INT(store_open(url, &opt, &st, &err), 0);
	CHECK_EQ_INT(store_migrate(st), 0);
	test_migrated(path);
	test_after_migration(st);
	store_close(st);
	/* Again, as after a restart: c4's cmid was only in memory. */
	CHECK_EQ_INT(store_open(url, &opt, &st, &err), 0);
	CHECK_EQ_INT(test_send(st, "four again", "c4"), 4);
	CHECK_EQ_INT(test_send(st, "seven", "c7"), 7);
	store_close(st);
	test_old_cmid(url, path);
	test_seqs_floor(url, path);
	unit_db_unlink(path);
	free(path);
	free(url);
	free(err);
	return UNIT_END();
}
