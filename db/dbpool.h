#ifndef NATTER_DB_DBPOOL_H
#define NATTER_DB_DBPOOL_H

#include <stdbool.h>

#include "loopq.h"
#include "store.h"

/*
 * The DB worker pool: N threads, each owning one store connection. Jobs go
 * in from any thread; each job's run() executes on a DB thread with that
 * thread's store, then its done() is posted to the caller's loopq and runs
 * on the caller's loop. A job belongs to the pool from submit until done()
 * is called.
 */
struct dbpool;

typedef void (*dbpool_run_fn)(struct store *st, void *arg);
/*
 * After a write job's transaction: err 0 if it committed. On the thread
 * that ran the batch: the writer, or a loop (dbpool_loop_writes).
 */
typedef void (*dbpool_commit_fn)(void *arg, int err);
/*
 * The most write jobs in one transaction, and in one many() call; the
 * writer takes fewer if its store says so (store_batch_max).
 */
#define DBPOOL_BATCH_MAX 1024
/*
 * The writer is idle after this long without a batch, its own or a
 * loop's (a general thread then checkpoints, store_idle_due); it wakes
 * this often to see.
 */
#define DBPOOL_IDLE_MS 100

/* run() for n write jobs at once, args in queue order; as committed. */
typedef void (*dbpool_many_fn)(struct store *st, void **args, size_t n);

/*
 * A job's place in a queue. A write job's is the caller's, kept in the
 * caller's own job (dbpool_submit_write), so that a message costs no
 * allocation here; its fields are the pool's until done() is posted.
 */
struct dbpool_job {
	dbpool_run_fn run;
	dbpool_many_fn many;        /* write queue only; may be NULL */
	dbpool_commit_fn committed; /* write queue only */
	loopq_fn done;
	void *arg;
	struct loopq *reply;
	struct dbpool_job *next;
	bool pooled; /* allocated by the pool, which frees it */
};

/*
 * Opens n + 1 connections to url (migrating the schema first, on one of
 * them) and starts n general threads and the writer. Returns NULL and a message
 * in *err (caller frees) if the store cannot be opened.
 */
struct dbpool *dbpool_new(const char *url, const struct store_options *opt,
                          int n, char **err);
/* Queues a job: run(st, arg) on a DB thread, then done(arg) on reply. */
void dbpool_submit(struct dbpool *p, dbpool_run_fn run, loopq_fn done,
                   void *arg, struct loopq *reply);
/*
 * Queues a write job for the pool's writer thread (or a loop, with loop
 * writes on), which runs the jobs waiting together in one transaction
 * (group commit, store_batch_begin):
 * run(st, arg) for each, then, in queue order, committed(arg, err) with
 * the outcome of the commit (committed may be NULL), then done(arg) on the
 * reply loop. Jobs are committed in the order they were submitted, so a
 * caller that submits in order also sees commit order. If many is not
 * NULL, jobs with the same many that follow each other in a batch are run
 * by one many(st, args, n) call instead (a backend may store them in fewer
 * round trips). job is the caller's, untouched once done is posted: it
 * must live until then (callers keep it inside arg).
 */
void dbpool_submit_write(struct dbpool *p, struct dbpool_job *job,
                         dbpool_run_fn run, dbpool_many_fn many,
                         dbpool_commit_fn committed, loopq_fn done, void *arg,
                         struct loopq *reply);

/*
 * Between dbpool_hold_writes and dbpool_release_writes, the calling
 * thread's write jobs wait in a list of its own; the release queues them
 * at once and wakes the writer once. For a loop that submits many sends
 * in one turn: a writer woken per job would take them one by one (on a
 * shared core it preempts the loop) and commit each alone. Order is kept.
 */
void dbpool_hold_writes(void);
void dbpool_release_writes(struct dbpool *p);

/*
 * With on, a loop's dbpool_release_writes may run the batch itself, on
 * the loop's thread, when the writer is not running one and the store
 * says the batch is cheap (store_batch_cheap: SQLite, not about to
 * checkpoint; MariaDB on this machine, its connection just used). For a
 * server on one core, where handing a batch to the writer and its
 * completions back cost about three context switches.
 * Off by default; set before any loop submits.
 */
void dbpool_loop_writes(struct dbpool *p, bool on);

/*
 * Waits until every job submitted so far has run and its completion has
 * been posted, then stops and joins the threads and closes connections.
 */
void dbpool_free(struct dbpool *p);

#endif
