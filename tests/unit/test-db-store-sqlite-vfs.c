/*
 * The SQLite backend's write path under group commits: WAL writes are
 * coalesced (store-sqlite-vfs.c), so check that every committed batch is
 * visible at once to another connection, that a rolled-back batch leaves
 * nothing, that large commits (more than the coalescing buffer) survive
 * a reopen, that a general connection's page cache stays small, that a
 * WAL which starts over is read back into memory ahead of its writes,
 * that a commit is one write to the WAL, and that the file passes
 * SQLite's integrity check.
 */
#include <fcntl.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "store.h"
#include "unit-db.h"
#include "xmalloc.h"

#define PAIRS 30
#define BATCHES 40
#define BODY 1500 /* a batch: PAIRS * 2 * BODY bytes, past 120 KiB */
#define CACHE_USERS 3000

static struct store *wr, *rd;
static int64_t uid[2 * PAIRS];
static char body[BODY + 1]; /* a NUL after, as store_send wants */

/* PAIRS pairs of friends: uid[2i] and uid[2i+1]. */
static void
test_users(void)
{
	struct store_user u;
	char name[32];
	bool created;
	int i;

	for (i = 0; i < 2 * PAIRS; i++) {
		snprintf(name, sizeof(name), "tune%d", i);
		CHECK_EQ_INT(store_user_register(wr, name, "password", &u), 0);
		uid[i] = u.id;
		store_user_clear(&u);
	}
	for (i = 0; i < PAIRS; i++) {
		snprintf(name, sizeof(name), "tune%d", 2 * i + 1);
		CHECK_EQ_INT(
		    store_friend_add(wr, uid[2 * i], name, &u, &created), 0);
		store_user_clear(&u);
	}
}

/* The newest seq of pair p's conversation as rd sees it, 0 if none. */
static int64_t
test_last_seq(struct store *st, int p)
{
	struct store_msg *v = NULL;
	char conv[STORE_CONV_MAX];
	int64_t seq = 0;
	size_t n = 0;

	snprintf(conv, sizeof(conv), "d:%lld:%lld", (long long)uid[2 * p],
	         (long long)uid[2 * p + 1]);
	if (store_history(st, uid[2 * p], conv, INT64_MAX, 1, &v, &n) == 0 &&
	    n == 1)
		seq = v[0].seq;
	store_msgs_free(v, n);
	return seq;
}

/* One batch: two messages in every conversation; commit or roll back. */
static void
test_batch(int b, bool commit)
{
	struct store_send in = {0};
	struct store_msg m;
	char cmid[32];
	bool dup;
	int p, k;

	CHECK_EQ_INT(store_batch_begin(wr), 0);
	for (p = 0; p < PAIRS; p++) {
		for (k = 0; k < 2; k++) {
			snprintf(cmid, sizeof(cmid), "%c%d.%d.%d",
			         commit ? 'c' : 'r', b, p, k);
			in.from_id = uid[2 * p + k];
			in.to_user = uid[2 * p + 1 - k];
			in.body = body;
			in.body_len = BODY;
			in.cmid = cmid;
			in.ts = b;
			CHECK_EQ_INT(store_msg_append(wr, &in, &m, &dup, NULL),
			             0);
			store_msg_clear(&m);
		}
	}
	CHECK_EQ_INT(store_batch_end(wr, commit) == 0, commit);
}

/* Batches, each seen whole by the other connection right after it. */
static void
test_batches(void)
{
	int b, p, ok = 0, want = 0;

	for (b = 0; b < BATCHES; b++) {
		test_batch(b, b % 7 != 3);
		if (b % 7 != 3)
			want += 2;
		for (p = 0; p < PAIRS; p++)
			ok += test_last_seq(rd, p) == want;
	}
	CHECK_EQ_INT(ok, BATCHES * PAIRS);
}

/*
 * The writes of SQLite's unix VFS, counted: it calls pwrite or pwrite64
 * through its table of system calls, which xSetSystemCall replaces.
 */
typedef ssize_t (*test_pwrite_fn)(int, const void *, size_t, off_t);
static int test_writes;
static test_pwrite_fn test_pwrite_real, test_pwrite64_real;

static ssize_t
test_pwrite(int fd, const void *buf, size_t n, off_t off)
{
	test_writes++;
	return test_pwrite_real(fd, buf, n, off);
}

static ssize_t
test_pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	test_writes++;
	return test_pwrite64_real(fd, buf, n, off);
}

/* Counts the unix VFS's writes from now on; before any file is opened. */
static void
test_count_writes(void)
{
	sqlite3_vfs *unix_vfs = sqlite3_vfs_find("unix");

	CHECK(unix_vfs != NULL && unix_vfs->iVersion >= 3);
	test_pwrite_real =
	    (test_pwrite_fn)unix_vfs->xGetSystemCall(unix_vfs, "pwrite");
	test_pwrite64_real =
	    (test_pwrite_fn)unix_vfs->xGetSystemCall(unix_vfs, "pwrite64");
	if (test_pwrite_real != NULL)
		unix_vfs->xSetSystemCall(unix_vfs, "pwrite",
		                         (sqlite3_syscall_ptr)test_pwrite);
	if (test_pwrite64_real != NULL)
		unix_vfs->xSetSystemCall(unix_vfs, "pwrite64",
		                         (sqlite3_syscall_ptr)test_pwrite64);
}

/* Commits k messages in one batch; the writes that took. */
static int
test_commit(int k)
{
	struct store_send in = {0};
	struct store_msg m;
	bool dup;

	in.body = "one write";
	in.body_len = strlen(in.body);
	CHECK_EQ_INT(store_batch_begin(wr), 0);
	test_writes = 0;
	for (int i = 0; i < k; i++) {
		in.from_id = uid[2 * i];
		in.to_user = uid[2 * i + 1];
		CHECK_EQ_INT(store_msg_append(wr, &in, &m, &dup, NULL), 0);
		store_msg_clear(&m);
	}
	CHECK_EQ_INT(store_batch_end(wr, true), 0);
	return test_writes;
}

/*
 * A commit of one message or a few (up to the coalescing buffer) is one
 * write: its frames, headers included, go out together. The first commit
 * on a reopened store may start the WAL over, which writes its header
 * first, so it is not counted.
 */
static void
test_one_write(void)
{
	(void)test_commit(1);
	for (int k = 1; k <= 4; k *= 2)
		CHECK_EQ_INT(test_commit(k), 1);
}

/* The page size of the file at path, or -1. */
static int
test_page_size(const char *path)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int n = -1;

	if (sqlite3_open(path, &db) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &st, NULL) ==
	        SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

/* A database made with 4 KiB pages keeps them when the store opens it. */
static void
test_existing(const char *tmp)
{
	char *path = xasprintf("%s/tuning-old-%d.db", tmp, (int)getpid());
	char *url = xasprintf("sqlite:%s", path);
	sqlite3 *db = NULL;

	unlink(path);
	CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
	CHECK_EQ_INT(sqlite3_exec(db,
	                          "PRAGMA page_size=4096; "
	                          "PRAGMA journal_mode=WAL; "
	                          "CREATE TABLE old(x)",
	                          NULL, NULL, NULL),
	             SQLITE_OK);
	sqlite3_close(db);
	store_close(unit_db_open(url));
	CHECK_EQ_INT(test_page_size(path), 4096);
	unlink(path);
	free(url);
	free(path);
}

/* SQLite's heap in use now, in KiB (all connections of the process). */
static long
test_sqlite_kib(void)
{
	sqlite3_int64 cur = 0, high = 0;

	sqlite3_status64(SQLITE_STATUS_MEMORY_USED, &cur, &high, 0);
	return (long)(cur / 1024);
}

/* How much SQLite's heap grows while st logs every cache user in. */
static long
test_logins_kib(struct store *st)
{
	struct store_user u;
	char name[32];
	long kib = test_sqlite_kib();
	int i;

	for (i = 0; i < CACHE_USERS; i++) {
		snprintf(name, sizeof(name), "cache%d", i);
		CHECK_EQ_INT(store_user_login(st, name, "password", &u), 0);
		store_user_clear(&u);
	}
	return test_sqlite_kib() - kib;
}

/*
 * A general connection's page cache stays small however many users log
 * in through it (~500 KiB of pages here); the writer's keeps SQLite's
 * default size.
 */
static void
test_cache(const char *url)
{
	struct store *st = unit_db_open(url);
	struct store_user u;
	char name[32];
	long kib;
	int i;

	for (i = 0; i < CACHE_USERS; i++) {
		snprintf(name, sizeof(name), "cache%d", i);
		CHECK_EQ_INT(store_user_register(st, name, "password", &u), 0);
		store_user_clear(&u);
	}
	store_close(st);
	st = unit_db_open(url);
	kib = test_logins_kib(st);
	CHECK(kib < 160);
	store_close(st);
	st = unit_db_open(url);
	CHECK_EQ_INT(store_sends_only(st), 0);
	kib = test_logins_kib(st);
	CHECK(kib > 300);
	store_close(st);
}

/* Pages of the file at path in memory, between from and to bytes. */
static long
test_resident(const char *path, off_t from, off_t to)
{
	long page = sysconf(_SC_PAGESIZE), n = 0, i;
	int fd = open(path, O_RDONLY);
	unsigned char *vec = xcalloc((size_t)((to - from) / page), 1);
	void *m;

	m = fd < 0 ? MAP_FAILED
	           : mmap(NULL, (size_t)(to - from), PROT_READ, MAP_SHARED, fd,
	                  from);
	if (m != MAP_FAILED && mincore(m, (size_t)(to - from), vec) == 0)
		for (i = 0; i < (to - from) / page; i++)
			n += vec[i] & 1;
	if (m != MAP_FAILED)
		munmap(m, (size_t)(to - from));
	if (fd >= 0)
		close(fd);
	free(vec);
	return n;
}

/*
 * A WAL of 4 MiB, copied to the database and started over, whose pages
 * the kernel then drops (POSIX_FADV_DONTNEED, as memory pressure would):
 * the first batch after the restart writes its start, and the layer asks
 * for the next 2 MiB (store_sqlite_vfs_ahead), so they come back into
 * memory without anything else reading them.
 */
static void
test_ahead(const char *tmp)
{
	char *path = xasprintf("%s/ahead-%d.db", tmp, (int)getpid());
	char *url = xasprintf("sqlite:%s", path);
	char *wal = xasprintf("%s-wal", path);
	long want = (1 << 20) / sysconf(_SC_PAGESIZE), got = 0;
	long restarts;
	int b, fd, tries;
	bool dropped;

	wr = unit_db_open(url);
	rd = unit_db_open(url);
	test_users();
	for (b = 0; b < 48; b++) /* 48 * 90 KB of bodies */
		test_batch(b, true);
	restarts = unit_wal_restarts(wal);
	CHECK(store_checkpoint(rd) >= 0);
	CHECK_EQ_INT(store_idle(wr), 0);
	fd = open(wal, O_RDONLY);
	CHECK(fd >= 0 && fdatasync(fd) == 0 &&
	      posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0);
	if (fd >= 0)
		close(fd);
	dropped = test_resident(wal, 1 << 20, 2 << 20) < want / 2;
	test_batch(48, true);
	CHECK_EQ_INT(unit_wal_restarts(wal), restarts + 1);
	if (!dropped) /* tmpfs keeps its pages: nothing to see */
		fprintf(stderr, "test_ahead: %s keeps its pages, skipped\n",
		        tmp);
	for (tries = 0; dropped && tries < 200 && got < want; tries++) {
		got = test_resident(wal, 1 << 20, 2 << 20);
		if (got < want)
			usleep(10000);
	}
	CHECK(!dropped || got == want);
	store_close(rd);
	store_close(wr);
	unlink(wal);
	unlink(path);
	free(wal);
	free(url);
	free(path);
}

/* SQLite's own check of the file, after both connections closed. */
static void
test_integrity(const char *path)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;

	CHECK_EQ_INT(test_page_size(path), 1024); /* a new database's */

	CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
	CHECK_EQ_INT(
	    sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL),
	    SQLITE_OK);
	CHECK_EQ_INT(sqlite3_step(st), SQLITE_ROW);
	CHECK(strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

int
main(void)
{
	const char *tmp =
	    getenv("NATTER_TEST_TMP") ? getenv("NATTER_TEST_TMP") : "/tmp";
	char *path, *url;
	int p, ok = 0, want = 2 * (BATCHES - (BATCHES + 3) / 7);

	path = xasprintf("%s/tuning-%d.db", tmp, (int)getpid());
	url = xasprintf("sqlite:%s", path);
	memset(body, 'b', BODY);
	test_count_writes();
	wr = unit_db_open(url);
	rd = unit_db_open(url);
	test_users();
	test_batches();
	store_close(rd);
	store_close(wr);
	wr = unit_db_open(url);
	for (p = 0; p < PAIRS; p++)
		ok += test_last_seq(wr, p) == want;
	CHECK_EQ_INT(ok, PAIRS);
	test_one_write();
	store_close(wr);
	test_cache(url);
	test_integrity(path);
	test_existing(tmp);
	test_ahead(tmp);
	unlink(path);
	free(url);
	free(path);
	return UNIT_END();
}
