/*
 * SQLite checkpoints off the writer: the writing connection says when one
 * is due (once per STORE_SQLITE_CHECKPOINT WAL pages), another connection
 * runs it, and the WAL starts over at the writer's next commit. Other
 * backends are never due. An idle writer (store_idle) checkpoints a WAL
 * of some size itself, so that its next commit starts it over.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"
#include "unit.h"
#include "xmalloc.h"

#define TEST_BODY 3000 /* bytes: the WAL grows about a page a message */
#define TEST_BATCH 100 /* messages per transaction */
#define TEST_MAX 20000 /* messages before giving up on "due" */

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
 * store_idle: with a long WAL, the next commit starts it over; with a few
 * batches in it, nothing; and only once for one idle spell.
 */
static void
test_idle(struct store *w, const char *wal, int64_t a, int64_t b,
          const char *body)
{
	long restarts = unit_wal_restarts(wal);
	int i;

	CHECK(restarts >= 0);
	CHECK_EQ_INT(store_idle(w), 0); /* the WAL is long from main */
	test_batch(w, a, b, body);
	CHECK(unit_wal_restarts(wal) == ++restarts);
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
	test_idle(w, wal, a, b, body);

	CHECK_EQ_INT(store_open("sqlite::memory:", &opt, &mem, NULL), 0);
	CHECK(!store_checkpoint_due(mem));
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
