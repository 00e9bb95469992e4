#include <pthread.h>
#include <errno.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "dbpool.h"
#include "log.h"
#include "pwhash.h"
#include "store-backend.h"
#include "thread.h"
#include "xmalloc.h"
#include "yield.h"

/*
 * The DB worker pool, after redis's bio.c: mutex-guarded FIFOs of jobs,
 * condition variables to wake idle threads, and each thread with its own
 * store connection. Completions go back through the submitter's loopq.
 *
 * Two queues: the general one, served by n threads, and the write queue,
 * served by one writer that takes every job waiting (up to a batch) and
 * runs them in one transaction (group commit): one commit for many
 * messages, and commit order is the order the jobs were queued in. With
 * loop writes on, a loop may take a batch from that queue and run it
 * itself, under the same mutex as the writer.
 */

#define DBPOOL_GENERAL_NICE 10 /* general threads' niceness */
#define DBPOOL_YIELD_US 250    /* a general thread's longest hold on a core */

/* Jobs in order, with the last one at hand for appending. */
struct dbpool_list {
	struct dbpool_job *head, *tail;
};

struct dbpool_queue {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct dbpool_list jobs;
	bool stopping;
};

struct dbpool_worker {
	struct dbpool *pool;
	struct dbpool_queue *q;
	bool writer;
	struct store *st;
	pthread_t tid;
	bool started;
};

/* The write jobs a thread holds back (dbpool_hold_writes); its own. */
static _Thread_local struct {
	bool on;
	struct dbpool_list jobs;
} dbpool_held;

struct dbpool {
	struct dbpool_queue general, write;
	/*
	 * Held while a batch is taken from the write queue and run, by the
	 * writer or by a loop (dbpool_release_writes), so batches run one
	 * at a time and in queue order. batches counts them, under it.
	 */
	pthread_mutex_t write_mu;
	unsigned long batches;
	int take;                  /* the most jobs in a batch */
	bool loop_writes;          /* dbpool_loop_writes */
	atomic_bool checkpointing; /* a checkpoint job is queued or running */
	atomic_bool restart_due;   /* a checkpoint asked for store_idle */
	int n; /* workers: n - 1 general threads and the writer */
	struct dbpool_worker *w;
};

static void
dbpool_queue_init(struct dbpool_queue *q)
{
	pthread_condattr_t ca;

	pthread_mutex_init(&q->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* for timedwait */
	pthread_cond_init(&q->cv, &ca);
	pthread_condattr_destroy(&ca);
}

/* Appends the jobs of more (a non-empty list) to l. */
static void
dbpool_list_cat(struct dbpool_list *l, struct dbpool_list more)
{
	if (l->tail != NULL)
		l->tail->next = more.head;
	else
		l->head = more.head;
	l->tail = more.tail;
}

/* Appends jobs (a non-empty list) without waking anyone. */
static void
dbpool_queue_add(struct dbpool_queue *q, struct dbpool_list jobs)
{
	pthread_mutex_lock(&q->mu);
	dbpool_list_cat(&q->jobs, jobs);
	pthread_mutex_unlock(&q->mu);
}

/*
 * Appends jobs and wakes a thread. The signal comes after the unlock: on
 * a shared core the thread woken preempts us, and had we still held the
 * lock it would block on it at once and preempt us again when let go.
 */
static void
dbpool_queue_append(struct dbpool_queue *q, struct dbpool_list jobs)
{
	dbpool_queue_add(q, jobs);
	pthread_cond_signal(&q->cv);
}

/* Whether q has a job waiting. */
static bool
dbpool_queue_any(struct dbpool_queue *q)
{
	bool any;

	pthread_mutex_lock(&q->mu);
	any = q->jobs.head != NULL;
	pthread_mutex_unlock(&q->mu);
	return any;
}

/* Appends a job and wakes a thread. */
static void
dbpool_queue_put(struct dbpool_queue *q, struct dbpool_job *job)
{
	job->next = NULL;
	dbpool_queue_append(q, (struct dbpool_list){job, job});
}

/* When a wait of ms milliseconds from now ends. */
static struct timespec
dbpool_deadline(int ms)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += (long)(ms % 1000) * 1000000;
	if (t.tv_nsec >= 1000000000) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000;
	}
	return t;
}

/*
 * Waits until q has a job or is stopping, or (ms > 0) ms have passed;
 * false once q is stopping and drained.
 */
static bool
dbpool_queue_wait(struct dbpool_queue *q, int ms)
{
	struct timespec until = {0, 0};
	bool more;

	if (ms > 0)
		until = dbpool_deadline(ms);
	pthread_mutex_lock(&q->mu);
	while (q->jobs.head == NULL && !q->stopping)
		if (ms <= 0)
			pthread_cond_wait(&q->cv, &q->mu);
		else if (pthread_cond_timedwait(&q->cv, &q->mu, &until) ==
		         ETIMEDOUT)
			break;
	more = q->jobs.head != NULL || !q->stopping;
	pthread_mutex_unlock(&q->mu);
	return more;
}

/* Takes up to max jobs, as a list; NULL if there is none. */
static struct dbpool_job *
dbpool_queue_take(struct dbpool_queue *q, int max)
{
	struct dbpool_job *first, *last;
	int n = 1;

	pthread_mutex_lock(&q->mu);
	if ((first = q->jobs.head) != NULL) {
		for (last = first; last->next != NULL && n < max; n++)
			last = last->next;
		q->jobs.head = last->next;
		if (q->jobs.head == NULL)
			q->jobs.tail = NULL;
		last->next = NULL;
	}
	pthread_mutex_unlock(&q->mu);
	return first;
}

/* Tells the threads of q to finish what is queued and stop. */
static void
dbpool_queue_stop(struct dbpool_queue *q)
{
	pthread_mutex_lock(&q->mu);
	q->stopping = true;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

/*
 * Hands a finished job back to its submitter's loop. A write job lives in
 * its caller's memory, which is not ours to touch once done is posted.
 */
static void
dbpool_finish(struct dbpool_job *job)
{
	loopq_fn done = job->done;
	struct loopq *reply = job->reply;
	void *arg = job->arg;

	if (job->pooled)
		free(job);
	if (done != NULL)
		loopq_post(reply, done, arg);
}

/*
 * Runs job, or the jobs from job on that share its many(); returns the
 * first job not run. Outside a batch each call committed on its own.
 */
static struct dbpool_job *
dbpool_run_some(struct store *st, struct dbpool_job *job)
{
	void *args[DBPOOL_BATCH_MAX];
	struct dbpool_job *end;
	size_t n = 0;

	if (job->many == NULL) {
		job->run(st, job->arg);
		return job->next;
	}
	for (end = job;
	     end != NULL && end->many == job->many && n < DBPOOL_BATCH_MAX;
	     end = end->next)
		args[n++] = end->arg;
	job->many(st, args, n);
	return end;
}

/*
 * A general thread: the checkpoint the writer asked for. If it says the
 * log is long, the writer's next batch ends with store_idle (write_loop).
 */
static void
dbpool_checkpoint_run(struct store *st, void *arg)
{
	struct dbpool *p = arg;

	if (store_checkpoint(st) > 0)
		atomic_store(&p->restart_due, true);
	atomic_store(&p->checkpointing, false);
}

/*
 * Hands a checkpoint to a general thread, one at a time, so the writer
 * never waits for its syncs; false if one is running already.
 */
static bool
dbpool_checkpoint_start(struct dbpool *p)
{
	if (atomic_exchange(&p->checkpointing, true))
		return false;
	dbpool_submit(p, dbpool_checkpoint_run, NULL, p, NULL);
	return true;
}

/* The writer, after a batch: a checkpoint, if one is due. */
static void
dbpool_checkpoint_if_due(struct dbpool *p, struct store *st)
{
	if (store_checkpoint_due(st))
		(void)dbpool_checkpoint_start(p);
}

/*
 * The writer, idle: a checkpoint now copies all of the log, so the next
 * commit starts it over (store_idle_due); a send that comes meanwhile
 * does not wait for its syncs. False if one is running already: next
 * time, then.
 */
static bool
dbpool_idle_checkpoint(struct dbpool *p, struct store *st)
{
	return !store_idle_due(st) || dbpool_checkpoint_start(p);
}

/*
 * The writer: runs a batch in one transaction, then tells each job the
 * outcome in commit order, each just before its completion is posted (a
 * send's pushes to other loops, posted by committed(), and its own loop's,
 * made by done, stay in commit order). A backend that does not batch (or
 * a batch that cannot begin) commits job by job; committed() then hears 0.
 */
static void
dbpool_run_batch(struct dbpool *p, struct store *st, struct dbpool_job *jobs)
{
	struct dbpool_job *job, *next;
	bool batched = store_batch_begin(st) == 0;
	int err = 0;

	for (job = jobs; job != NULL;)
		job = dbpool_run_some(st, job);
	if (batched)
		err = store_batch_end(st, true);
	loopq_hold(); /* one wake-up per loop for the whole batch */
	for (job = jobs; job != NULL; job = next) {
		next = job->next;
		if (job->committed != NULL)
			job->committed(job->arg, err);
		dbpool_finish(job);
	}
	loopq_release();
	dbpool_checkpoint_if_due(p, st);
}

/*
 * The general threads run below the loops and the writer (Linux nice is
 * per thread): their jobs include password hashing, milliseconds of CPU
 * each, and a storm of logins must not starve the chat traffic. They also
 * yield (yield.h) between jobs and inside SQLite checkpoints, at most
 * every DBPOOL_YIELD_US: in a login storm `perf sched` showed the event
 * loop waiting 3-5 ms behind one of them (nice 10, even SCHED_IDLE), and
 * the chat's p99 during the storm was 2.8x its p99 without. 250 us, not
 * 1 ms, since sends arrive spread out (fifteenth session): the storm's
 * chat p99 0.65x, its logins/s 0.85x (doc/performance.md).
 */
static void
dbpool_lower_priority(void)
{
	if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid),
	                DBPOOL_GENERAL_NICE) != 0)
		log_debug("dbpool: setpriority: %s", strerror(errno));
}

/*
 * Takes a batch from the write queue and runs it; false if there was
 * none. The caller holds write_mu.
 */
static bool
dbpool_write_some(struct dbpool *p)
{
	struct dbpool_job *jobs = dbpool_queue_take(&p->write, p->take);

	if (jobs == NULL)
		return false;
	dbpool_run_batch(p, p->w[p->n - 1].st, jobs);
	p->batches++;
	return true;
}

/*
 * The writer: runs batches until told to stop. It is idle (a checkpoint,
 * dbpool_idle_checkpoint) once DBPOOL_IDLE_MS have passed without a
 * batch, its own or a loop's, so it wakes that often (as redis's cron
 * does) to see.
 */
static void
dbpool_write_loop(struct dbpool_worker *w)
{
	struct dbpool *p = w->pool;
	unsigned long seen = 0;
	bool idle = true;

	while (dbpool_queue_wait(w->q, DBPOOL_IDLE_MS)) {
		pthread_mutex_lock(&p->write_mu);
		if (dbpool_write_some(p)) {
			seen = p->batches;
			idle = false;
			if (atomic_exchange(&p->restart_due, false))
				(void)store_idle(w->st);
		} else if (p->batches != seen) {
			seen = p->batches;
			idle = false;
		} else if (!idle) {
			idle = dbpool_idle_checkpoint(p, w->st);
		}
		pthread_mutex_unlock(&p->write_mu);
	}
}

/*
 * A general thread, below the loops: runs jobs one at a time until told
 * to stop, keeping Argon2's area (pwhash.h) while jobs wait.
 */
static void
dbpool_general_loop(struct dbpool_worker *w)
{
	struct dbpool_job *job;
	bool last;

	dbpool_lower_priority();
	yield_enable(DBPOOL_YIELD_US);
	pwhash_keep_area();
	while (dbpool_queue_wait(w->q, 0)) {
		if ((job = dbpool_queue_take(w->q, 1)) == NULL)
			continue; /* another thread took it */
		job->run(w->st, job->arg);
		last = !dbpool_queue_any(w->q); /* the logins are in */
		dbpool_finish(job);
		if (last)
			pwhash_release_area();
		yield_point();
	}
	pwhash_release_area();
}

/* A DB thread: runs jobs with its own connection until told to stop. */
static void *
dbpool_main(void *arg)
{
	struct dbpool_worker *w = arg;
	char name[16]; /* the kernel's limit, NUL included */

	if (w->writer)
		snprintf(name, sizeof name, "db-writer");
	else
		snprintf(name, sizeof name, "db-%d", (int)(w - w->pool->w));
	pthread_setname_np(pthread_self(), name); /* for top -H, perf */
	store_thread_init();
	if (w->writer)
		dbpool_write_loop(w);
	else
		dbpool_general_loop(w);
	store_thread_end(); /* mysql_thread_end */
	return NULL;
}

/* Starts the threads (signals blocked in them: thread.h). */
static int
dbpool_start(struct dbpool *p)
{
	int i, e = 0;

	for (i = 0; i < p->n && e == 0; i++) {
		e = thread_start(&p->w[i].tid, dbpool_main, &p->w[i]);
		p->w[i].started = e == 0;
	}
	return e;
}

/* Returns r, with "url: what" in *err if err is not NULL. */
static int
dbpool_open_failed(int r, const char *url, const char *what, char **err)
{
	if (err != NULL)
		*err = xasprintf("%s: %s", url, what);
	return r;
}

/*
 * Opens the connections, migrating on the first before the others; the
 * writer's is told it only stores messages.
 */
static int
dbpool_open(struct dbpool *p, const char *url, const struct store_options *opt,
            char **err)
{
	int i, r;

	for (i = 0; i < p->n; i++) {
		p->w[i].pool = p;
		p->w[i].writer = i == p->n - 1;
		p->w[i].q = p->w[i].writer ? &p->write : &p->general;
		if ((r = store_open(url, opt, &p->w[i].st, err)) < 0)
			return r;
		if (i == 0 && (r = store_migrate(p->w[0].st)) < 0)
			return dbpool_open_failed(
			    r, url, "schema migration failed", err);
		if (p->w[i].writer && (r = store_sends_only(p->w[i].st)) < 0)
			return dbpool_open_failed(
			    r, url, "cannot set up the writer", err);
	}
	return 0;
}

/* n general threads and the writer; NULL and *err if the store fails. */
struct dbpool *
dbpool_new(const char *url, const struct store_options *opt, int n, char **err)
{
	struct dbpool *p;
	int e;

	if (err != NULL)
		*err = NULL;
	p = xcalloc(1, sizeof(*p));
	p->n = (n > 0 ? n : 1) + 1;
	p->w = xcalloc((size_t)p->n, sizeof(*p->w));
	dbpool_queue_init(&p->general);
	dbpool_queue_init(&p->write);
	pthread_mutex_init(&p->write_mu, NULL);
	/* mysql_library_init must run before any DB thread exists. */
	if (store_library_init() < 0) {
		if (err != NULL)
			*err =
			    xstrdup("cannot initialise the database libraries");
		dbpool_free(p);
		return NULL;
	}
	if (dbpool_open(p, url, opt, err) < 0) {
		dbpool_free(p);
		return NULL;
	}
	p->take = (int)store_batch_max(p->w[p->n - 1].st, DBPOOL_BATCH_MAX);
	if ((e = dbpool_start(p)) != 0) {
		log_error("%s: pthread_create: error %d", __func__, e);
		if (err != NULL)
			*err =
			    xasprintf("cannot start DB threads (error %d)", e);
		dbpool_free(p);
		return NULL;
	}
	return p;
}

/* A job for the general queue. */
void
dbpool_submit(struct dbpool *p, dbpool_run_fn run, loopq_fn done, void *arg,
              struct loopq *reply)
{
	struct dbpool_job *job = xcalloc(1, sizeof(*job));

	job->run = run;
	job->done = done;
	job->arg = arg;
	job->reply = reply;
	job->pooled = true;
	dbpool_queue_put(&p->general, job);
}

/* A job for the writer's queue (group commit), in the caller's job. */
void
dbpool_submit_write(struct dbpool *p, struct dbpool_job *job, dbpool_run_fn run,
                    dbpool_many_fn many, dbpool_commit_fn committed,
                    loopq_fn done, void *arg, struct loopq *reply)
{
	job->pooled = false;
	job->run = run;
	job->many = many;
	job->committed = committed;
	job->done = done;
	job->arg = arg;
	job->reply = reply;
	job->next = NULL;
	if (dbpool_held.on)
		dbpool_list_cat(&dbpool_held.jobs,
		                (struct dbpool_list){job, job});
	else
		dbpool_queue_put(&p->write, job);
}

void
dbpool_hold_writes(void)
{
	dbpool_held.on = true;
}

/*
 * Queues the held jobs for the writer; or, with loop writes on and no
 * batch running, runs a batch from the queue (which ends with them) on
 * the calling thread while nobody else can. Not when the batch ends with
 * a checkpoint (restart_due, store_batch_cheap): the loop reads on while
 * the writer runs that.
 */
void
dbpool_release_writes(struct dbpool *p)
{
	struct dbpool_list held = dbpool_held.jobs;
	bool more;

	dbpool_held.on = false;
	dbpool_held.jobs = (struct dbpool_list){NULL, NULL};
	if (held.head == NULL)
		return;
	if (!p->loop_writes || pthread_mutex_trylock(&p->write_mu) != 0) {
		dbpool_queue_append(&p->write, held);
		return;
	}
	dbpool_queue_add(&p->write, held);
	if (store_batch_cheap(p->w[p->n - 1].st) &&
	    !atomic_load(&p->restart_due))
		(void)dbpool_write_some(p);
	more = dbpool_queue_any(&p->write);
	pthread_mutex_unlock(&p->write_mu);
	if (more)
		pthread_cond_signal(&p->write.cv);
}

void
dbpool_loop_writes(struct dbpool *p, bool on)
{
	p->loop_writes = on;
}

/* Threads drain their queue before they see stopping; then joined. */
void
dbpool_free(struct dbpool *p)
{
	int i;

	if (p == NULL)
		return;
	/* The writer first: it may still queue a checkpoint job. */
	dbpool_queue_stop(&p->write);
	if (p->w[p->n - 1].started)
		pthread_join(p->w[p->n - 1].tid, NULL);
	dbpool_queue_stop(&p->general);
	for (i = 0; i < p->n - 1; i++)
		if (p->w[i].started)
			pthread_join(p->w[i].tid, NULL);
	for (i = 0; i < p->n; i++)
		store_close(p->w[i].st);
	pthread_mutex_destroy(&p->general.mu);
	pthread_cond_destroy(&p->general.cv);
	pthread_mutex_destroy(&p->write.mu);
	pthread_cond_destroy(&p->write.cv);
	pthread_mutex_destroy(&p->write_mu);
	free(p->w);
	free(p);
}
