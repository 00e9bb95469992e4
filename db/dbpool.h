#ifndef NATTER_DB_DBPOOL_H
#define NATTER_DB_DBPOOL_H

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
 * Opens n connections to url (migrating the schema first, on one of them)
 * and starts n threads. Returns NULL and a message in *err (caller frees)
 * if the store cannot be opened.
 */
struct dbpool *dbpool_new(const char *url, const struct store_options *opt,
                          int n, char **err);
/* Queues a job: run(st, arg) on a DB thread, then done(arg) on reply. */
void dbpool_submit(struct dbpool *p, dbpool_run_fn run, loopq_fn done,
                   void *arg, struct loopq *reply);
/*
 * Waits until every job submitted so far has run and its completion has
 * been posted, then stops and joins the threads and closes connections.
 */
void dbpool_free(struct dbpool *p);

#endif
