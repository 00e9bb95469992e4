/*
 * The DB pool under concurrency: 8 clients append 50 messages each to one
 * group through a 4-thread pool; every seq 1..400 must be used exactly
 * once, and every completion must arrive on the loop thread. Then the
 * same through the writer (group commit): seqs 401..800 in exactly the
 * order the jobs were submitted, each told its commit before its
 * completion; then again with loop writes on (dbpool_loop_writes), where
 * held batches run on the loop thread itself while the writer is not
 * running one. Then a long WAL starts over once the writer has been
 * idle (a general thread's checkpoint), after batches of the loop's.
 * Last, a general thread keeps Argon2's area (pwhash.h) from one hash to
 * the next while jobs wait, and releases it when its queue is empty.
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <sodium.h>

#include "dbpool.h"
#include "errcode.h"
#include "pwhash.h"
#include "unit.h"
#include "xmalloc.h"

#define TEST_CLIENTS 8
#define TEST_PER_CLIENT 50
#define TEST_TOTAL (TEST_CLIENTS * TEST_PER_CLIENT)
#define TEST_BIG 600       /* messages to grow the WAL past idle's floor */
#define TEST_BIG_BODY 3000 /* bytes: about two WAL pages a message */
/* The loop-writes lane's rounds: the first more than a batch holds. */
#define TEST_HELD_FIRST 300

struct test_job {
	int64_t from, gid;
	int k;
	int r;
	int64_t seq;
	int rank;      /* submission order (write lane) */
	int committed; /* commit hooks seen; must be 1 */
	int commit_err;
	struct dbpool_job link; /* its place in the writer's queue */
};

static struct event_base *base;
static pthread_t loop_thread;
static int done_count, wrong_thread;
static int loop_runs;        /* test_run calls on the loop thread */
static int wait_for;         /* test_done stops the loop at this count too */
static int commit_rank_next; /* the last rank given to a write job */
static int seen[TEST_TOTAL + 1];

/* On a DB thread: one append. */
static void
test_run(struct store *st, void *arg)
{
	struct test_job *j = arg;
	char body[64], cmid[32];
	struct store_send in = {.from_id = j->from, .to_group = j->gid};
	struct store_msg m;
	bool dup;

	if (pthread_equal(pthread_self(), loop_thread))
		loop_runs++;
	snprintf(body, sizeof(body), "client %lld msg %d", (long long)j->from,
	         j->k);
	snprintf(cmid, sizeof(cmid), "k%d", j->k);
	in.body = body;
	in.body_len = strlen(body);
	in.cmid = cmid;
	in.ts = 1;
	j->r = store_msg_append(st, &in, &m, &dup, NULL);
	j->seq = m.seq;
	store_msg_clear(&m);
}

/*
 * On the writer: a run of jobs that share test_run_many, in submission
 * order (every other round of the write lane is submitted with it).
 */
static int many_jobs, many_rank;

static void
test_run_many(struct store *st, void **args, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct test_job *j = args[i];

		if (j->rank <= many_rank)
			CHECK(!"many() out of submission order");
		many_rank = j->rank;
		test_run(st, j);
		many_jobs++;
	}
}

/* On the writer, after the batch's commit: in submission order. */
static int commit_rank;

static void
test_committed(void *arg, int err)
{
	struct test_job *j = arg;

	j->committed++;
	j->commit_err = err;
	if (j->rank != ++commit_rank)
		CHECK(!"commit hook out of submission order");
}

/* On the loop: count the completion. */
static void
test_done(void *arg)
{
	struct test_job *j = arg;

	if (!pthread_equal(pthread_self(), loop_thread))
		wrong_thread++;
	CHECK_EQ_INT(j->r, 0);
	if (j->rank > 0) { /* the writer: seq follows submission order */
		CHECK_EQ_INT(j->committed, 1);
		CHECK_EQ_INT(j->commit_err, 0);
		CHECK_EQ_INT(j->seq, TEST_TOTAL + j->rank);
	} else if (j->r == 0 && j->seq >= 1 && j->seq <= TEST_TOTAL) {
		seen[j->seq]++;
	} else {
		CHECK(!"seq out of range");
	}
	free(j);
	if (++done_count % TEST_TOTAL == 0 || done_count == wait_for)
		event_base_loopbreak(base);
}

/* Runs the loop until n more completions have come. */
static void
test_wait_done(int n)
{
	wait_for = done_count + n;
	event_base_dispatch(base);
	wait_for = 0;
}

/* On a DB thread: the clients and their group. */
static void
test_setup_run(struct store *st, void *arg)
{
	int64_t *ids = arg;
	struct store_user u;
	struct store_group g;
	char name[16];
	int i;

	for (i = 0; i < TEST_CLIENTS; i++) {
		snprintf(name, sizeof(name), "client%d", i);
		if (store_user_register(st, name, "password1", &u) < 0)
			return;
		ids[i] = u.id;
		store_user_clear(&u);
		if (i == 0 &&
		    store_group_create(st, ids[0], "room", NULL, &g) == 0)
			ids[TEST_CLIENTS] = g.id;
		else if (i > 0 &&
		         store_group_join(st, ids[i], ids[TEST_CLIENTS], NULL,
		                          &g) < 0)
			return;
		store_group_clear(&g);
	}
}

/* On the loop: setup is over. */
static void
test_setup_done(void *arg)
{
	(void)arg;
	event_base_loopbreak(base);
}

/* A timeout so a lost completion fails the test instead of hanging. */
static void
test_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	CHECK(!"timed out waiting for completions");
	event_base_loopbreak(base);
}

/* Removes an SQLite database and its WAL files. */
static void
test_unlink(const char *path)
{
	static const char *sfx[] = {"", "-wal", "-shm"};
	char *p;
	size_t i;

	for (i = 0; i < 3; i++) {
		p = xasprintf("%s%s", path, sfx[i]);
		unlink(p);
		free(p);
	}
}

/* The three ways appends are submitted (test_submit_all). */
enum test_lane { TEST_GENERAL, TEST_WRITER, TEST_HELD };

/*
 * Submits every append, interleaving the clients: to the general threads,
 * or to the writer (ranked in submission order, with other cmids), and in
 * the held lane between dbpool_hold_writes and dbpool_release_writes in
 * two rounds, waiting for each.
 */
static void
test_submit_all(struct dbpool *p, struct loopq *q, const int64_t *ids,
                enum test_lane lane)
{
	struct test_job *j;
	int i, k, n = 0, rank = lane == TEST_HELD ? TEST_TOTAL : 0;

	if (lane == TEST_HELD)
		dbpool_hold_writes();
	for (k = 0; k < TEST_PER_CLIENT; k++) {
		for (i = 0; i < TEST_CLIENTS; i++) {
			j = xcalloc(1, sizeof(*j));
			j->from = ids[i];
			j->gid = ids[TEST_CLIENTS];
			j->k = (int)lane * TEST_PER_CLIENT + k;
			if (lane == TEST_GENERAL) {
				dbpool_submit(p, test_run, test_done, j, q);
				continue;
			}
			j->rank = ++rank;
			commit_rank_next = rank;
			dbpool_submit_write(p, &j->link, test_run,
			                    k % 2 ? test_run_many : NULL,
			                    test_committed, test_done, j, q);
			if (lane == TEST_HELD && ++n == TEST_HELD_FIRST) {
				dbpool_release_writes(p);
				test_wait_done(TEST_HELD_FIRST);
				dbpool_hold_writes();
			}
		}
	}
	if (lane == TEST_HELD)
		dbpool_release_writes(p);
}

/*
 * Held sends of one at a time until one has run on the loop: the held
 * lane's releases may each have found the writer still holding the batch
 * mutex for a moment after posting its completions, and handed over.
 */
static void
test_held_until_loop(struct dbpool *p, struct loopq *q, const int64_t *ids)
{
	struct test_job *j;
	int tries;

	for (tries = 0; loop_runs == 0 && tries < 200; tries++) {
		usleep(10000);
		j = xcalloc(1, sizeof(*j));
		j->from = ids[0];
		j->gid = ids[TEST_CLIENTS];
		j->k = 3 * TEST_PER_CLIENT + tries;
		j->rank = ++commit_rank_next;
		dbpool_hold_writes();
		dbpool_submit_write(p, &j->link, test_run, NULL, test_committed,
		                    test_done, j, q);
		dbpool_release_writes(p);
		test_wait_done(1);
	}
	CHECK(loop_runs > 0);
}

/* On the writer: a large message from the first client to the group. */
static void
test_big_run(struct store *st, void *arg)
{
	const int64_t *ids = arg;
	char body[TEST_BIG_BODY + 1];
	struct store_send in = {.from_id = ids[0],
	                        .to_group = ids[TEST_CLIENTS],
	                        .body = body,
	                        .body_len = TEST_BIG_BODY,
	                        .ts = 1};
	struct store_msg m;
	bool dup;

	memset(body, 'x', TEST_BIG_BODY);
	body[TEST_BIG_BODY] = '\0';
	CHECK_EQ_INT(store_msg_append(st, &in, &m, &dup, NULL), 0);
	store_msg_clear(&m);
}

/* On the loop: n large messages stored, then stop. */
static void
test_big_done(void *arg)
{
	static int n;

	(void)arg;
	if (++n == TEST_BIG || n == TEST_BIG + 1)
		event_base_loopbreak(base);
}

/*
 * The WAL, grown by TEST_BIG messages, starts over at the first commit
 * after the writer has been idle, though the loop ran batches too.
 */
static void
test_idle(struct dbpool *p, struct loopq *q, int64_t *ids, const char *path)
{
	char *wal = xasprintf("%s-wal", path);
	struct dbpool_job *links = xcalloc(TEST_BIG + 1, sizeof(*links));
	long restarts;
	int i;

	dbpool_hold_writes();
	for (i = 0; i < TEST_BIG; i++)
		dbpool_submit_write(p, &links[i], test_big_run, NULL, NULL,
		                    test_big_done, ids, q);
	dbpool_release_writes(p);
	event_base_dispatch(base);
	restarts = unit_wal_restarts(wal);
	CHECK(restarts >= 0);
	usleep(3 * DBPOOL_IDLE_MS * 1000);
	dbpool_hold_writes();
	dbpool_submit_write(p, &links[TEST_BIG], test_big_run, NULL, NULL,
	                    test_big_done, ids, q);
	dbpool_release_writes(p);
	event_base_dispatch(base);
	CHECK(unit_wal_restarts(wal) == restarts + 1);
	free(links);
	free(wal);
}

/* Sets up the clients through the pool, then races their appends. */
/* The area test's jobs: what each found kept before its own hash. */
struct test_area_job {
	const struct store_options *opt;
	sem_t *go; /* the first job waits for it: the others are queued */
	size_t kept;
	int r;
};

/* On the general thread: note the kept area, then hash. */
static void
test_area_run(struct store *st, void *arg)
{
	struct test_area_job *j = arg;
	char hash[PWHASH_MAX];

	(void)st;
	if (j->go != NULL)
		sem_wait(j->go);
	j->kept = pwhash_area_kept();
	j->r = pwhash_make(j->opt, "area password", hash);
}

static void
test_area_done(void *arg)
{
	(void)arg;
	if (++done_count == wait_for)
		event_base_loopbreak(base);
}

/*
 * One general thread: three jobs queued at once, the second and third
 * find the first's area kept; a job after the queue ran dry finds none.
 */
static void
test_area(const char *url, const struct store_options *opt, struct loopq *q)
{
	struct test_area_job j[4];
	struct dbpool *p;
	sem_t go;
	char *err = NULL;
	size_t area = 0;
	int i;

#ifndef NATTER_SANITIZED
	area = opt->pwhash_mem; /* libsodium maps m_cost KiB blocks: mem */
#endif
	memset(j, 0, sizeof(j));
	sem_init(&go, 0, 0);
	if ((p = dbpool_new(url, opt, 1, &err)) == NULL) {
		CHECK(!"dbpool_new for the area test");
		free(err);
		return;
	}
	j[0].go = &go;
	for (i = 0; i < 4; i++)
		j[i].opt = opt;
	for (i = 0; i < 3; i++)
		dbpool_submit(p, test_area_run, test_area_done, &j[i], q);
	sem_post(&go);
	test_wait_done(3);
	dbpool_submit(p, test_area_run, test_area_done, &j[3], q);
	test_wait_done(1);
	for (i = 0; i < 4; i++)
		CHECK_EQ_INT(j[i].r, 0);
	CHECK_EQ_INT(j[0].kept, 0);
	CHECK_EQ_INT(j[1].kept, area);
	CHECK_EQ_INT(j[2].kept, area);
	CHECK_EQ_INT(j[3].kept, 0);
	dbpool_free(p);
	sem_destroy(&go);
}

int
main(void)
{
	struct store_options opt = {.pwhash_ops = crypto_pwhash_OPSLIMIT_MIN,
	                            .pwhash_mem = crypto_pwhash_MEMLIMIT_MIN};
	const char *tmp = getenv("NATTER_TEST_TMP");
	int64_t ids[TEST_CLIENTS + 1] = {0};
	struct timeval tv = {60, 0};
	struct event *timer;
	struct dbpool *p;
	struct loopq *q;
	char *path, *url, *err = NULL;
	int i, once = 0;

	evthread_use_pthreads();
	base = event_base_new();
	loop_thread = pthread_self();
	q = loopq_new(base);
	path = xasprintf("%s/dbpool-%d.db", tmp ? tmp : "/tmp", (int)getpid());
	test_unlink(path);
	url = xasprintf("sqlite:%s", path);
	CHECK(dbpool_new("bogus:x", &opt, 2, &err) == NULL && err != NULL);
	free(err);
	if ((p = dbpool_new(url, &opt, 4, &err)) == NULL) {
		fprintf(stderr, "dbpool_new: %s\n", err ? err : "?");
		return 1;
	}
	timer = evtimer_new(base, test_timeout, NULL);
	evtimer_add(timer, &tv);
	dbpool_submit(p, test_setup_run, test_setup_done, ids, q);
	event_base_dispatch(base);
	CHECK(ids[TEST_CLIENTS] > 0 && ids[TEST_CLIENTS - 1] > 0);

	test_submit_all(p, q, ids, TEST_GENERAL);
	event_base_dispatch(base);
	CHECK_EQ_INT(done_count, TEST_TOTAL);
	CHECK_EQ_INT(wrong_thread, 0);
	for (i = 1; i <= TEST_TOTAL; i++)
		once += seen[i] == 1;
	CHECK_EQ_INT(once, TEST_TOTAL);

	test_submit_all(p, q, ids, TEST_WRITER);
	event_base_dispatch(base);
	CHECK_EQ_INT(done_count, 2 * TEST_TOTAL);
	CHECK_EQ_INT(commit_rank, TEST_TOTAL);
	CHECK_EQ_INT(many_jobs, TEST_TOTAL / 2); /* odd rounds */
	CHECK_EQ_INT(wrong_thread, 0);
	CHECK_EQ_INT(loop_runs, 0); /* loop writes are off by default */

	dbpool_loop_writes(p, true);
	test_submit_all(p, q, ids, TEST_HELD);
	event_base_dispatch(base);
	CHECK_EQ_INT(done_count, 3 * TEST_TOTAL);
	CHECK_EQ_INT(commit_rank, 2 * TEST_TOTAL);
	CHECK_EQ_INT(many_jobs, TEST_TOTAL); /* odd rounds */
	CHECK_EQ_INT(wrong_thread, 0);
	/* The first round is more than a batch: the writer ran the rest. */
	CHECK(loop_runs < TEST_TOTAL);
	test_held_until_loop(p, q, ids);
	CHECK_EQ_INT(wrong_thread, 0);
	test_idle(p, q, ids, path);

	dbpool_free(p);
	test_area(url, &opt, q);
	dbpool_free(NULL);
	event_free(timer);
	loopq_free(q);
	event_base_free(base);
	test_unlink(path);
	free(path);
	free(url);
	return UNIT_END();
}
