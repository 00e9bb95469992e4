#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>

#include "dbpool.h"
#include "log.h"
#include "store-backend.h"
#include "xmalloc.h"

/*
 * The DB worker pool, after redis's bio.c: one mutex-guarded FIFO of jobs,
 * a condition variable to wake idle threads, and each thread with its own
 * store connection. Completions go back through the submitter's loopq.
 */
struct dbpool_job {
	dbpool_run_fn run;
	loopq_fn done;
	void *arg;
	struct loopq *reply;
	struct dbpool_job *next;
};

struct dbpool_worker {
	struct dbpool *pool;
	struct store *st;
	pthread_t tid;
	bool started;
};

struct dbpool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct dbpool_job *head, *tail;
	bool stopping;
	int n;
	struct dbpool_worker *w;
};

/* Takes the next job, waiting for one; NULL once stopping and drained. */
static struct dbpool_job *
dbpool_take(struct dbpool *p)
{
	struct dbpool_job *job;

	pthread_mutex_lock(&p->mu);
	while (p->head == NULL && !p->stopping)
		pthread_cond_wait(&p->cv, &p->mu);
	if ((job = p->head) != NULL) {
		p->head = job->next;
		if (p->head == NULL)
			p->tail = NULL;
	}
	pthread_mutex_unlock(&p->mu);
	return job;
}

/* A DB thread: runs jobs with its own connection until told to stop. */
static void *
dbpool_main(void *arg)
{
	struct dbpool_worker *w = arg;
	struct dbpool_job *job;

	store_thread_init();
	while ((job = dbpool_take(w->pool)) != NULL) {
		job->run(w->st, job->arg);
		if (job->done != NULL)
			loopq_post(job->reply, job->done, job->arg);
		free(job);
	}
	store_thread_end(); /* mysql_thread_end */
	return NULL;
}

/*
 * Starts the threads with every signal blocked, so signals go to the
 * loop threads that handle them.
 */
static int
dbpool_start(struct dbpool *p)
{
	sigset_t all, old;
	int i, e = 0;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (i = 0; i < p->n && e == 0; i++) {
		e = pthread_create(&p->w[i].tid, NULL, dbpool_main, &p->w[i]);
		p->w[i].started = e == 0;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return e;
}

/* Opens the n connections, migrating on the first before the others. */
static int
dbpool_open(struct dbpool *p, const char *url, const struct store_options *opt,
            char **err)
{
	char *msg = NULL;
	int i, r;

	for (i = 0; i < p->n; i++) {
		p->w[i].pool = p;
		if ((r = store_open(url, opt, &p->w[i].st, err)) < 0)
			return r;
		if (i == 0 && (r = store_migrate(p->w[0].st)) < 0) {
			msg = xasprintf("%s: schema migration failed", url);
			if (err != NULL)
				*err = msg;
			else
				free(msg);
			return r;
		}
	}
	return 0;
}

/* n connections and n threads; NULL and *err if the store fails. */
struct dbpool *
dbpool_new(const char *url, const struct store_options *opt, int n, char **err)
{
	struct dbpool *p;
	int e;

	if (err != NULL)
		*err = NULL;
	p = xcalloc(1, sizeof(*p));
	p->n = n > 0 ? n : 1;
	p->w = xcalloc((size_t)p->n, sizeof(*p->w));
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
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

/* Appends a job to the FIFO and wakes one thread. */
void
dbpool_submit(struct dbpool *p, dbpool_run_fn run, loopq_fn done, void *arg,
              struct loopq *reply)
{
	struct dbpool_job *job = xmalloc(sizeof(*job));

	job->run = run;
	job->done = done;
	job->arg = arg;
	job->reply = reply;
	job->next = NULL;
	pthread_mutex_lock(&p->mu);
	if (p->tail != NULL)
		p->tail->next = job;
	else
		p->head = job;
	p->tail = job;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

/* Threads drain the FIFO before they see stopping; then they are joined. */
void
dbpool_free(struct dbpool *p)
{
	int i;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stopping = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < p->n; i++)
		if (p->w[i].started)
			pthread_join(p->w[i].tid, NULL);
	for (i = 0; i < p->n; i++)
		store_close(p->w[i].st);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p->w);
	free(p);
}
