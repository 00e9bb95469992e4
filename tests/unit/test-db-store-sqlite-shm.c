/*
 * The in-memory WAL-index locks (db/store-sqlite-shm.c): SQLite's
 * xShmLock rules between connections, the mode the first connection's
 * guard decides; and, through a store, that another process cannot use
 * the database while the store has it open, and that a store opened
 * while another process has the database open keeps SQLite's locks.
 */
#include <sodium.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store-sqlite-shm.h"
#include "store.h"
#include "unit-db.h"
#include "xmalloc.h"

#define SH (SQLITE_SHM_LOCK | SQLITE_SHM_SHARED)
#define EX (SQLITE_SHM_LOCK | SQLITE_SHM_EXCLUSIVE)
#define UN_SH (SQLITE_SHM_UNLOCK | SQLITE_SHM_SHARED)
#define UN_EX (SQLITE_SHM_UNLOCK | SQLITE_SHM_EXCLUSIVE)

static int guards;

/* A guard that counts its calls; arg non-NULL: other processes are out. */
static int
test_guard(void *arg, bool *alone)
{
	guards++;
	*alone = arg != NULL;
	return -1;
}

/* Shared and exclusive between two connections, and what unlock frees. */
static void
test_rules(void)
{
	struct store_sqlite_shm_hold a, b, c;

	CHECK(store_sqlite_shm_attach(&a, 1, 1, test_guard, &guards));
	CHECK(store_sqlite_shm_attach(&b, 1, 1, test_guard, &guards));
	CHECK_EQ_INT(guards, 1); /* the first attacher decides */
	CHECK_EQ_INT(store_sqlite_shm_lock(&a, 3, 1, SH), SQLITE_OK);
	CHECK_EQ_INT(store_sqlite_shm_lock(&b, 3, 1, SH), SQLITE_OK);
	CHECK_EQ_INT(store_sqlite_shm_lock(&a, 3, 1, SH),
	             SQLITE_OK); /* again */
	CHECK_EQ_INT(store_sqlite_shm_lock(&a, 3, 1, EX), SQLITE_BUSY);
	CHECK_EQ_INT(store_sqlite_shm_lock(&b, 3, 1, UN_SH), SQLITE_OK);
	/* a's own shared hold does not block its exclusive */
	CHECK_EQ_INT(store_sqlite_shm_lock(&a, 3, 1, EX), SQLITE_OK);
	CHECK_EQ_INT(store_sqlite_shm_lock(&b, 3, 1, SH), SQLITE_BUSY);
	CHECK_EQ_INT(store_sqlite_shm_lock(&a, 3, 1, UN_EX), SQLITE_OK);
	CHECK_EQ_INT(store_sqlite_shm_lock(&b, 3, 1, SH), SQLITE_OK);
	/* a range is all or nothing: slot 3 is b's, so 0..3 fails whole */
	CHECK_EQ_INT(store_sqlite_shm_lock(&a, 0, 4, EX), SQLITE_BUSY);
	CHECK_EQ_INT(store_sqlite_shm_lock(&a, 0, 1, EX), SQLITE_OK);
	CHECK_EQ_INT(store_sqlite_shm_lock(&a, 1, 2, EX), SQLITE_OK);
	CHECK_EQ_INT(store_sqlite_shm_lock(&b, 0, 1, EX), SQLITE_BUSY);
	CHECK_EQ_INT(store_sqlite_shm_lock(&b, 2, 1, SH), SQLITE_BUSY);
	CHECK_EQ_INT(store_sqlite_shm_lock(&a, 0, 3, UN_EX), SQLITE_OK);
	CHECK_EQ_INT(store_sqlite_shm_lock(&b, 0, 1, EX), SQLITE_OK);
	/* a detached connection's holds go with it */
	store_sqlite_shm_detach(&b);
	CHECK_EQ_INT(store_sqlite_shm_lock(&a, 0, 8, EX), SQLITE_OK);
	CHECK_EQ_INT(store_sqlite_shm_lock(&a, 0, 9, EX), SQLITE_IOERR_SHMLOCK);
	store_sqlite_shm_detach(&a);
	/* the table went with its last connection: a new one guards again */
	CHECK(store_sqlite_shm_attach(&a, 1, 1, test_guard, &guards));
	CHECK_EQ_INT(guards, 2);
	/* another file, whose guard fails, is another table */
	CHECK(!store_sqlite_shm_attach(&b, 1, 2, test_guard, NULL));
	CHECK(!store_sqlite_shm_attach(&c, 1, 2, test_guard, &guards));
	CHECK_EQ_INT(guards, 3);
	store_sqlite_shm_detach(&c);
	store_sqlite_shm_detach(&b);
	store_sqlite_shm_detach(&a);
}

/*
 * Runs this program again as another process, "--MODE PATH" (a fresh
 * one: a forked child would share SQLite's memory of the open file),
 * with pipes to its standard input and from its standard output.
 */
static pid_t
test_spawn(const char *mode, const char *path, int *to, int *from)
{
	int in[2], out[2];
	pid_t pid;

	if (pipe(in) < 0 || pipe(out) < 0)
		return -1;
	if ((pid = fork()) == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		execl("/proc/self/exe", "test-db-store-sqlite-shm", mode, path,
		      (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	*to = in[1];
	*from = out[0];
	return pid;
}

/* The exit status of pid, or -1. */
static int
test_wait(pid_t pid)
{
	int status = -1;

	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* Another process's read of the users: SQLite's result code. */
static int
test_other_process_reads(const char *path)
{
	int to = -1, from = -1;
	pid_t pid = test_spawn("--read", path, &to, &from);
	int rc = test_wait(pid);

	close(to);
	close(from);
	return rc;
}

/* --read: reads the users with SQLite's default VFS. */
static int
test_child_read(const char *path)
{
	sqlite3 *db = NULL;
	int rc = sqlite3_open(path, &db);

	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, "SELECT count(*) FROM users", NULL, NULL,
		                  NULL);
	sqlite3_close(db);
	return rc & 0xff;
}

/*
 * --hold: opens a read transaction, says so ("r"), waits for a byte,
 * ends it and checks that it now sees two users.
 */
static int
test_child_hold(const char *path)
{
	sqlite3 *db = NULL;
	char c;
	int rc = sqlite3_open(path, &db);

	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, "BEGIN; SELECT count(*) FROM users", NULL,
		                  NULL, NULL);
	if (write(1, "r", 1) != 1 || read(0, &c, 1) != 1)
		rc = SQLITE_ERROR;
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(
		    db, "COMMIT; SELECT 1 / (count(*) = 2) FROM users", NULL,
		    NULL, NULL);
	sqlite3_close(db);
	return rc & 0xff;
}

/* A user named name in st: its id, or -1. */
static int64_t
test_user(struct store *st, const char *name)
{
	struct store_user u;
	int64_t id = -1;

	if (store_user_register(st, name, "password", &u) == 0) {
		id = u.id;
		store_user_clear(&u);
	}
	return id;
}

/*
 * While a store has the database, another process cannot map its
 * WAL-index: SQLite retries for about 10 s, then gives up.
 */
static void
test_kept_out(const char *url, const char *path)
{
	struct store *st = unit_db_open(url);

	CHECK(test_user(st, "ann") > 0);
	CHECK_EQ_INT(test_other_process_reads(path), SQLITE_PROTOCOL);
	store_close(st);
	CHECK_EQ_INT(test_other_process_reads(path), SQLITE_OK);
}

/*
 * Another process reading when the store opens: the store keeps SQLite's
 * locks, so it writes beside that reader, which then sees the write.
 */
static void
test_shared_with_other(const char *url, const char *path)
{
	int to = -1, from = -1;
	pid_t pid = test_spawn("--hold", path, &to, &from);
	struct store *st;
	char c = 0;

	CHECK(read(from, &c, 1) == 1 && c == 'r');
	st = unit_db_open(url);
	CHECK(test_user(st, "bob") > 0);
	CHECK(write(to, "g", 1) == 1);
	CHECK_EQ_INT(test_wait(pid), SQLITE_OK);
	store_close(st);
	close(to);
	close(from);
}

int
main(int argc, char **argv)
{
	const char *tmp = getenv("NATTER_TEST_TMP");
	char *path, *url;

	if (argc == 3 && strcmp(argv[1], "--read") == 0)
		return test_child_read(argv[2]);
	if (argc == 3 && strcmp(argv[1], "--hold") == 0)
		return test_child_hold(argv[2]);
	if (sodium_init() < 0)
		return 1;
	test_rules();
	path = xasprintf("%s/shm-%d.db", tmp ? tmp : "/tmp", (int)getpid());
	url = xasprintf("sqlite:%s", path);
	test_kept_out(url, path);
	test_shared_with_other(url, path);
	unit_db_unlink(path);
	free(path);
	free(url);
	return UNIT_END();
}
