/*
 * SQLite checkpoints off the writer: the writing connection says when one
 * is due (once per STORE_SQLITE_CHECKPOINT WAL pages), another connection
 * runs it, and the WAL starts over at the writer's next commit. Other
 * backends are never due. The writer's own checkpoint (store_idle, for
 * the restart) copies a WAL of some size, so that its next commit starts
 * it over; store_idle_due says when an idle writer's WAL is worth one.
 * Checkpoints that cannot catch up with the WAL still sync the database,
 * once 8 MiB of their copies wait.
 * And a commit that fails (the disk full) leaves nothing of its sends, not
 * even their cmids in the writer's memory. Last, a long WAL under load:
 * the pool's checkpoint asks for its restart, or the writer restarts it.
 */
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store-sqlite-vfs.h"
#include "store.h"
#include "unit.h"
#include "xmalloc.h"

#define TEST_BODY 3000 /* bytes: the WAL grows about a page a message */
#define TEST_BATCH 100 /* messages per transaction */
#define TEST_MAX 20000 /* messages before giving up on "due" */
#define TEST_WAL_MAX (32L * 1024 * 1024) /* test_long_wal's sqlite_wal_max */

/*
 * The default VFS, wrapped to count syncs of database files (not WALs):
 * installed before the first store opens, so natter's layer sits on it.
 */
static sqlite3_vfs test_vfs, *test_vfs_real;
static sqlite3_io_methods test_db_methods;
static const sqlite3_io_methods *test_db_real;
static int test_db_syncs;
static sqlite3_io_methods test_wal_methods;
static const sqlite3_io_methods *test_wal_real;
static int test_wal_full; /* writes to a WAL fail with SQLITE_FULL */

static int
test_wal_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
	if (test_wal_full)
		return SQLITE_FULL;
	return test_wal_real->xWrite(f, buf, n, off);
}

static int
test_db_sync(sqlite3_file *f, int flags)
{
	test_db_syncs++;
	return test_db_real->xSync(f, flags);
}

/* Opens through the real VFS; a database file gets the counting xSync. */
static int
test_vfs_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags,
              int *out)
{
	int rc = test_vfs_real->xOpen(test_vfs_real, name, f, flags, out);

	(void)vfs;
	if (rc == SQLITE_OK && f->pMethods != NULL &&
	    (flags & SQLITE_OPEN_MAIN_DB) != 0) {
		test_db_real = f->pMethods;
		test_db_methods = *f->pMethods;
		test_db_methods.xSync = test_db_sync;
		f->pMethods = &test_db_methods;
	} else if (rc == SQLITE_OK && f->pMethods != NULL &&
	           (flags & SQLITE_OPEN_WAL) != 0) {
		test_wal_real = f->pMethods;
		test_wal_methods = *f->pMethods;
		test_wal_methods.xWrite = test_wal_write;
		f->pMethods = &test_wal_methods;
	}
	return rc;
}

static void
test_vfs_install(void)
{
	test_vfs_real = sqlite3_vfs_find(NULL);
	test_vfs = *test_vfs_real;
	test_vfs.zName = "test-count";
	test_vfs.pNext = NULL;
	test_vfs.xOpen = test_vfs_open;
	CHECK_EQ_INT(sqlite3_vfs_register(&test_vfs, 1), SQLITE_OK);
}

/* Two friends; their ids in a and b. */
static void
test_users(struct store *st, int64_t *a, int64_t *b)
{
	struct store_user u = {0}, v = {0}, f = {0};
	bool created;

	CHECK_EQ_INT(store_user_register(st, "ck_a", "password-a", &u), 0);
	CHECK_EQ_INT(store_user_register(st, "ck_b", "password-b", &v), 0);
	CHECK_EQ_INT(store_friend_add(st, u.id, "ck_b", &f, &created), 0);
	*a = u.id;
	*b = v.id;
	store_user_clear(&u);
	store_user_clear(&v);
	store_user_clear(&f);
}

/* One batch of messages from a to b; returns how many were stored. */
static int
test_batch(struct store *st, int64_t a, int64_t b, const char *body)
{
	struct store_send in = {.from_id = a,
	                        .to_user = b,
	                        .body = body,
	                        .body_len = strlen(body),
	                        .ts = 1};
	struct store_msg m;
	bool dup;
	int i, ok = 0;

	CHECK_EQ_INT(store_batch_begin(st), 0);
	for (i = 0; i < TEST_BATCH; i++) {
		ok += store_msg_append(st, &in, &m, &dup, NULL) == 0;
		store_msg_clear(&m);
	}
	CHECK_EQ_INT(store_batch_end(st, true), 0);
	return ok;
}

/* The size of path, or -1. */
static long
test_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

/*
 * A connection in a read transaction, on the snapshot of now; the stores
 * are open, so only through their VFS (store-sqlite-shm.h).
 */
static sqlite3 *
test_reader(const char *path)
{
	sqlite3 *rd = NULL;

	CHECK_EQ_INT(sqlite3_open_v2(path, &rd, SQLITE_OPEN_READONLY,
	                             store_sqlite_vfs_name()),
	             SQLITE_OK);
	CHECK_EQ_INT(sqlite3_exec(rd, "BEGIN; SELECT count(*) FROM messages",
	                          NULL, NULL, NULL),
	             SQLITE_OK);
	return rd;
}

/*
 * A checkpoint that cannot catch up with the WAL: copies, from the last
 * one on, up to a reader's snapshot taken between two batches (an older
 * snapshot keeps it from catching up, as the writer does under load).
 * The reader is closed after; whether the database was synced.
 */
static bool
test_behind(struct store *w, struct store *ck, const char *path, int64_t a,
            int64_t b, const char *body)
{
	int syncs = test_db_syncs;
	sqlite3 *rd;

	test_batch(w, a, b, body);
	rd = test_reader(path);
	test_batch(w, a, b, body); /* past rd's snapshot */
	CHECK_EQ_INT(store_checkpoint(ck), 0);
	CHECK_EQ_INT(sqlite3_exec(rd, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(rd);
	return test_db_syncs > syncs;
}

/*
 * Checkpoints that cannot catch up: SQLite itself would not sync the
 * database, the pool's checkpoint does, else the writer's restart would
 * have all of those pages to sync; but only once STORE_SQLITE_DB_SYNC (8
 * MiB) wait, not after each checkpoint (a round here copies about 0.6
 * MiB: two batches of 3 KB bodies).
 */
static void
test_sync(struct store *w, struct store *ck, const char *path, int64_t a,
          int64_t b, const char *body)
{
	int n = 1;

	CHECK(!test_behind(w, ck, path, a, b, body));
	while (!test_behind(w, ck, path, a, b, body) && n < 40)
		n++;
	CHECK(n > 1 && n < 40);
	CHECK(!test_behind(w, ck, path, a, b, body)); /* counted afresh */
}

/*
 * store_idle: with a long WAL, the next commit starts it over; with a few
 * batches in it, nothing; and only once for one idle spell. store_idle_
 * due says which WAL is worth it.
 */
static void
test_idle(struct store *w, const char *wal, int64_t a, int64_t b,
          const char *body)
{
	long restarts = unit_wal_restarts(wal);
	int i;

	CHECK(restarts >= 0);
	CHECK(store_idle_due(w)); /* the WAL is long from main */
	CHECK_EQ_INT(store_idle(w), 0);
	test_batch(w, a, b, body);
	CHECK(unit_wal_restarts(wal) == ++restarts);
	CHECK(!store_idle_due(w));
	CHECK_EQ_INT(store_idle(w), 0);
	test_batch(w, a, b, body);
	CHECK(unit_wal_restarts(wal) == restarts); /* too little to bother */
	for (i = 0; i < 10; i++)
		test_batch(w, a, b, body);
	CHECK_EQ_INT(store_idle(w), 0);
	CHECK_EQ_INT(store_idle(w), 0);
	test_batch(w, a, b, body);
	CHECK(unit_wal_restarts(wal) == ++restarts);
}

/* n sends from a to b, cmids "full-0".., in one batch; its commit. */
static int
test_full_batch(struct store *w, int64_t a, int64_t b, int n, int64_t *seq0)
{
	struct store_send in = {
	    .from_id = a, .to_user = b, .body = "f", .body_len = 1, .ts = 1};
	struct store_msg m;
	char cmid[16];
	bool dup;
	int i;

	CHECK_EQ_INT(store_batch_begin(w), 0);
	for (i = 0; i < n; i++) {
		snprintf(cmid, sizeof(cmid), "full-%d", i);
		in.cmid = cmid;
		CHECK_EQ_INT(store_msg_append(w, &in, &m, &dup, NULL), 0);
		CHECK(!dup);
		if (i == 0)
			*seq0 = m.seq;
		store_msg_clear(&m);
	}
	return store_batch_end(w, true);
}

/*
 * The disk fills during a batch's commit: the batch fails, and the same
 * sends again are new messages, not retries of ones that never were.
 * Ten, fewer than the writer writes to msg_cmids at once, so their cmids
 * were only in its memory (with neither of its two ways of noticing the
 * rollback, the second batch fails as internal).
 */
static void
test_full(struct store *w, int64_t a, int64_t b)
{
	int64_t seq, again;

	test_wal_full = 1;
	CHECK(test_full_batch(w, a, b, 10, &seq) < 0);
	test_wal_full = 0;
	CHECK_EQ_INT(test_full_batch(w, a, b, 10, &again), 0);
	CHECK_EQ_INT(again, seq);
}

/* Batches until store_batch_cheap says no; how many messages it took. */
static int
test_until_dear(struct store *w, int64_t a, int64_t b, const char *body)
{
	int n = 0;

	while (store_batch_cheap(w) && n < 4 * TEST_MAX)
		n += test_batch(w, a, b, body);
	return n;
}

/*
 * A WAL of TEST_WAL_MAX at most: the pool's checkpoint (run here when
 * due) asks for the restart once the WAL is past wal_restart (store_
 * checkpoint returns 1), and store_idle then starts it over well before
 * wal_force. Left alone, the WAL reaches wal_force: the batches before
 * it are not cheap (the loops hand them to the writer) and no checkpoint
 * is due, and the commit that reaches it checkpoints itself.
 */
static void
test_long_wal(const char *dir, struct store_options opt, const char *body)
{
	char *path = xasprintf("%s/ckpt-long-%d.db", dir, (int)getpid());
	char *wal = xasprintf("%s-wal", path);
	char *url = xasprintf("sqlite:%s", path);
	struct store *w = NULL, *ck = NULL;
	sqlite3 *rd;
	int64_t a, b;
	long restarts;
	int r = 0, n = 0, syncs = 0;

	unlink(path);
	unlink(wal);
	opt.sqlite_wal_max = TEST_WAL_MAX;
	CHECK_EQ_INT(store_open(url, &opt, &w, NULL), 0);
	CHECK_EQ_INT(store_migrate(w), 0);
	CHECK_EQ_INT(store_open(url, &opt, &ck, NULL), 0);
	test_users(w, &a, &b);
	restarts = unit_wal_restarts(wal);
	/* A reader's old snapshot keeps the checkpoints from catching up, as
	 * the writer does under load. */
	rd = test_reader(path);
	while (r == 0 && n < 4 * TEST_MAX) {
		n += test_batch(w, a, b, body);
		CHECK(store_batch_cheap(w));
		if (store_checkpoint_due(w)) {
			syncs = test_db_syncs;
			r = store_checkpoint(ck);
		}
	}
	CHECK_EQ_INT(r, 1);
	CHECK(test_db_syncs > syncs); /* before asking, whatever waits */
	CHECK(test_size(wal) > TEST_WAL_MAX / 2 &&
	      test_size(wal) < TEST_WAL_MAX);
	sqlite3_close(rd); /* ends its transaction */
	CHECK_EQ_INT(store_idle(w), 0);
	test_batch(w, a, b, body);
	CHECK(unit_wal_restarts(wal) == ++restarts);

	CHECK(test_until_dear(w, a, b, body) > 0);
	CHECK(!store_checkpoint_due(w));
	CHECK(!store_batch_cheap(w));
	for (n = 0; unit_wal_restarts(wal) == restarts && n < TEST_MAX;)
		n += test_batch(w, a, b, body);
	CHECK(unit_wal_restarts(wal) == restarts + 1);
	CHECK(test_size(wal) < TEST_WAL_MAX + TEST_WAL_MAX / 8);
	store_close(ck);
	store_close(w);
	unlink(path);
	unlink(wal);
	free(url);
	free(wal);
	free(path);
}

int
main(void)
{
	struct store_options opt = {.pwhash_ops = crypto_pwhash_OPSLIMIT_MIN,
	                            .pwhash_mem = crypto_pwhash_MEMLIMIT_MIN};
	const char *tmp = getenv("NATTER_TEST_TMP");
	char *path, *wal, *url, *body = xmalloc(TEST_BODY + 1);
	struct store *w = NULL, *ck = NULL, *mem = NULL;
	int64_t a, b;
	bool due;
	int n = 0;

	path = xasprintf("%s/ckpt-%d.db", tmp ? tmp : "/tmp", (int)getpid());
	wal = xasprintf("%s-wal", path);
	url = xasprintf("sqlite:%s", path);
	memset(body, 'x', TEST_BODY);
	body[TEST_BODY] = '\0';
	test_vfs_install();
	CHECK_EQ_INT(store_open(url, &opt, &w, NULL), 0);
	CHECK_EQ_INT(store_migrate(w), 0);
	CHECK_EQ_INT(store_open(url, &opt, &ck, NULL), 0);
	test_users(w, &a, &b);
	CHECK(!store_checkpoint_due(w));
	while (!(due = store_checkpoint_due(w)) && n < TEST_MAX)
		n += test_batch(w, a, b, body);
	CHECK(due); /* and the writer did not do it */
	CHECK(n > 1000 && n < TEST_MAX);
	/* Due once, not again after each commit while the WAL is long. */
	test_batch(w, a, b, body);
	CHECK(!store_checkpoint_due(w));
	CHECK_EQ_INT(store_checkpoint(ck), 0);
	test_batch(w, a, b, body); /* the WAL starts over */
	CHECK(!store_checkpoint_due(w));
	CHECK(test_size(wal) > 0 && test_size(wal) <= 64L * 1024 * 1024);
	/* Due again after as much logged once more. */
	n = 0;
	while (!(due = store_checkpoint_due(w)) && n < TEST_MAX)
		n += test_batch(w, a, b, body);
	CHECK(due && n > 1000);
	test_sync(w, ck, path, a, b, body);
	test_idle(w, wal, a, b, body);
	test_full(w, a, b);
	test_long_wal(tmp ? tmp : "/tmp", opt, body);

	CHECK_EQ_INT(store_open("sqlite::memory:", &opt, &mem, NULL), 0);
	CHECK(!store_checkpoint_due(mem));
	CHECK(!store_idle_due(mem));
	CHECK_EQ_INT(store_checkpoint(mem), 0);
	CHECK_EQ_INT(store_idle(mem), 0);
	store_close(mem);
	store_close(ck);
	store_close(w);
	unlink(path);
	unlink(wal);
	free(body);
	free(url);
	free(wal);
	free(path);
	return UNIT_END();
}
