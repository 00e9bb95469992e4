#ifndef NATTER_SERVER_HANDLER_H
#define NATTER_SERVER_HANDLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec.h"
#include "dbpool.h"
#include "store.h"
#include "validate.h"

struct json_object;
struct server;
struct session;
struct worker;

/*
 * Request dispatch. A table (handler.c) maps each protocol type to its
 * handler and says whether it needs a login, which fields it must have and
 * whether it runs on the DB pool. A request is carried by a struct hjob:
 * parse() reads and checks its fields on the loop thread; run(), if any,
 * does the storage work on a DB thread (on the writer, in a group commit,
 * if the handler has committed(), which then learns the commit's outcome,
 * and run() writes its ok reply as text: reply_text, not reply);
 * done(), if any, applies the effect on the session back on the loop
 * thread. Then the reply is sent and the
 * job's event, if any, delivered to rcpt.
 */

struct hjob {
	struct session *s; /* referenced until the job ends */
	struct server *srv;
	const struct handler *h;
	struct json_object *in; /* the request, or NULL: */
	char *inbuf;            /* its strings, read without json-c */
	size_t inbuf_cap;
	struct json_object *reply; /* the ok reply; run/parse add fields */
	/* Or, if its len is not 0, the whole ok reply as a frame (writes). */
	struct codec_out reply_text;
	bool has_req;
	uint32_t req;
	uint64_t except; /* the caller's session id: events skip it */
	int64_t uid;     /* the caller, from the session: 0 before login */
	char *uname;     /* the caller's name: in uname_buf, or allocated */
	char uname_buf[4 * VALIDATE_NAME_MAX_CP + 1];
	char addr[48]; /* the caller's address */
	int err;       /* 0 or -ERR_*: then an error reply is sent */
	char *errmsg;  /* NULL: the code's default sentence */

	/* Arguments read by parse(); strings borrowed from in or inbuf. */
	int64_t id;
	const char *str, *str2;
	size_t len;
	uint64_t num;

	/*
	 * Effects: an event for users (or its frame), the login's result. The
	 * buffers (inbuf, reply_text, frame, here) stay with a job that its
	 * worker keeps for reuse.
	 */
	struct json_object *event;
	struct codec_out frame; /* len 0: none */
	struct store_ids rcpt;
	/*
	 * A send's frame goes to its own worker's recipients from the job
	 * (handler_job_finish): these, in a buffer of here_cap ids kept with
	 * the job. Other workers get a copy from the writer.
	 */
	struct store_ids here;
	size_t here_cap;
	struct store_user user;

	struct dbpool_job wlink; /* its place in the writer's queue */
	struct hjob *next_spare; /* in its worker's spare jobs */
};

struct handler {
	const char *type;
	bool login;            /* needs a logged-in session */
	bool limited;          /* counts against the rate limit */
	const char *fields[3]; /* mandatory fields */
	int (*parse)(struct hjob *j);
	int (*run)(struct store *st, struct hjob *j); /* NULL: loop only */
	void (*done)(struct hjob *j);
	/* Non-NULL: a write for the group-commit writer; the outcome. */
	void (*committed)(struct hjob *j, int err);
	/* Optional, writes only: run() for n jobs in one call. */
	void (*run_many)(struct store *st, struct hjob **j, size_t n);
};

/*
 * Handles one frame from s: decode, check, then either reply at once or
 * hand the job to the DB pool (s->busy until it is back; a send only
 * counts in s->writes, and other frames wait until those are back).
 */
void handler_dispatch(struct session *s, const char *line, size_t len);

/*
 * Frees the jobs that worker w keeps for reuse (a request's job and its
 * buffers are recycled, so a send allocates nothing once they have grown).
 * Worker thread, or after it ended.
 */
void handler_spares_free(struct worker *w);

/* Fails the job with code and an optional message (copied). */
int handler_fail(struct hjob *j, int code, const char *msg);

/* {"id":..,"name":..} as used in events and replies. */
struct json_object *handler_user_json(int64_t id, const char *name);

#endif
