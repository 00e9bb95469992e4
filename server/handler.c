#include "handler.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "account.h"
#include "chat.h"
#include "codec.h"
#include "dbpool.h"
#include "errcode.h"
#include "log.h"
#include "presence.h"
#include "server.h"
#include "session.h"
#include "social.h"
#include "worker.h"
#include "xmalloc.h"

/* Rate-limited requests within a window that make a client a flood. */
#define HANDLER_FLOOD_STRIKES 100
#define HANDLER_FLOOD_WINDOW_MS 10000
/*
 * Jobs a worker keeps for reuse, and the largest buffer a kept job keeps:
 * a send then allocates nothing on the loop or the writer. Enough for the
 * sends in flight at 20k msg/s many times over; at most about 2.5 MiB a
 * worker.
 */
#define HANDLER_SPARE_JOBS 256
#define HANDLER_SPARE_BUF 2048

/*
 * Every request of PROTOCOL.md v1: login needed, rate-limited, mandatory
 * fields, then parse, run (DB), done (loop), committed (group commit),
 * run_many (the writer's many sends in one call). The hottest, send,
 * comes first.
 */
/* clang-format off */
static const struct handler handler_table[] = {
	{"send", true, true, {"to", "body"},
	    chat_send_parse, chat_send_run, NULL, chat_send_committed,
	    chat_send_run_many},
	{"hello", false, false, {NULL},
	    account_hello_parse, NULL, NULL, NULL, NULL},
	{"ping", false, false, {NULL},
	    account_ping_parse, NULL, NULL, NULL, NULL},
	{"register", false, false, {"name", "password"},
	    account_register_parse, account_register_run, NULL, NULL, NULL},
	{"login", false, false, {"name", "password"},
	    account_login_parse, account_login_run, account_login_done, NULL,
	    NULL},
	{"logout", true, false, {NULL},
	    account_logout_parse, NULL, NULL, NULL, NULL},
	{"friend_add", true, true, {"name"},
	    social_name_parse, social_friend_add_run, NULL, NULL, NULL},
	{"friend_remove", true, true, {"user"},
	    social_user_parse, social_friend_remove_run, NULL, NULL, NULL},
	{"friends", true, true, {NULL},
	    social_none_parse, social_friends_run, NULL, NULL, NULL},
	{"group_create", true, true, {"name"},
	    social_group_create_parse, social_group_create_run, NULL, NULL, NULL},
	{"group_join", true, true, {NULL},
	    social_group_join_parse, social_group_join_run, NULL, NULL, NULL},
	{"group_leave", true, true, {"group"},
	    social_group_parse, social_group_leave_run, NULL, NULL, NULL},
	{"groups", true, true, {NULL},
	    social_none_parse, social_groups_run, NULL, NULL, NULL},
	{"group_members", true, true, {"group"},
	    social_group_parse, social_group_members_run, NULL, NULL, NULL},
	{"sync", true, false, {NULL},
	    chat_sync_parse, chat_sync_run, NULL, NULL, NULL},
	{"ack", true, false, {"conv", "seq"},
	    chat_ack_parse, chat_ack_run, NULL, NULL, NULL},
	{"history", true, true, {"conv"},
	    chat_history_parse, chat_history_run, NULL, NULL, NULL},
};
/* clang-format on */

/* The handler of type, or NULL. */
static const struct handler *
handler_find(const char *type)
{
	size_t i;

	for (i = 0; i < sizeof handler_table / sizeof handler_table[0]; i++) {
		if (strcmp(handler_table[i].type, type) == 0)
			return &handler_table[i];
	}
	return NULL;
}

int
handler_fail(struct hjob *j, int code, const char *msg)
{
	free(j->errmsg);
	j->errmsg = msg != NULL ? xstrdup(msg) : NULL;
	j->err = -code;
	return j->err;
}

struct json_object *
handler_user_json(int64_t id, const char *name)
{
	struct json_object *o = json_object_new_object();

	codec_set_int(o, "id", id);
	codec_set_string(o, "name", name);
	return o;
}

/* A cleared job: one of w's spares (its buffers kept), or a new one. */
static struct hjob *
handler_job_alloc(struct worker *w)
{
	struct hjob *j = w->spare_jobs;

	if (j == NULL)
		return xcalloc(1, sizeof(*j));
	w->spare_jobs = j->next_spare;
	w->nspare_jobs--;
	j->next_spare = NULL;
	return j;
}

/* Frees a kept buffer that grew past HANDLER_SPARE_BUF. */
static void
handler_buf_trim(char **buf, size_t *cap)
{
	if (*cap > HANDLER_SPARE_BUF) {
		free(*buf);
		*buf = NULL;
		*cap = 0;
	}
}

/* Clears j for reuse, keeping its buffers, and adds it to w's spares. */
static void
handler_job_keep(struct worker *w, struct hjob *j)
{
	struct hjob kept = {0};

	handler_buf_trim(&j->inbuf, &j->inbuf_cap);
	handler_buf_trim(&j->reply_text.buf, &j->reply_text.cap);
	handler_buf_trim(&j->frame.buf, &j->frame.cap);
	if (j->here_cap * sizeof(*j->here.ids) > HANDLER_SPARE_BUF) {
		free(j->here.ids);
		j->here.ids = NULL;
		j->here_cap = 0;
	}
	kept.inbuf = j->inbuf;
	kept.inbuf_cap = j->inbuf_cap;
	kept.reply_text =
	    (struct codec_out){j->reply_text.buf, 0, j->reply_text.cap};
	kept.frame = (struct codec_out){j->frame.buf, 0, j->frame.cap};
	kept.here.ids = j->here.ids;
	kept.here_cap = j->here_cap;
	kept.next_spare = w->spare_jobs;
	*j = kept;
	w->spare_jobs = j;
	w->nspare_jobs++;
}

/* Frees a cleared job and the buffers it keeps. */
static void
handler_job_destroy(struct hjob *j)
{
	free(j->inbuf);
	free(j->reply_text.buf);
	free(j->frame.buf);
	free(j->here.ids);
	free(j);
}

/*
 * Frees what a job holds but its session reference; the job goes back to
 * w's spares, or is freed if w has enough. Loop thread.
 */
static void
handler_job_free(struct worker *w, struct hjob *j)
{
	json_object_put(j->in);
	json_object_put(j->reply);
	json_object_put(j->event);
	free(j->rcpt.ids);
	store_user_clear(&j->user);
	free(j->errmsg);
	if (j->uname != j->uname_buf)
		free(j->uname);
	if (w->nspare_jobs < HANDLER_SPARE_JOBS)
		handler_job_keep(w, j);
	else
		handler_job_destroy(j);
}

void
handler_spares_free(struct worker *w)
{
	struct hjob *j;

	while ((j = w->spare_jobs) != NULL) {
		w->spare_jobs = j->next_spare;
		handler_job_destroy(j);
	}
	w->nspare_jobs = 0;
}

/* Sends the reply (or error) and delivers the job's event. */
static void
handler_job_finish(struct hjob *j)
{
	struct json_object *err;

	if (j->err != 0) {
		err = codec_reply_error(j->h->type, j->has_req, j->req, -j->err,
		                        j->errmsg);
		session_send(j->s, err);
		json_object_put(err);
	} else {
		if (j->reply_text.len > 0)
			session_send_text(j->s, j->reply_text.buf,
			                  j->reply_text.len);
		else if (j->reply != NULL)
			session_send(j->s, j->reply);
		if (j->event != NULL)
			server_deliver(j->srv, j->rcpt.ids, j->rcpt.n, j->event,
			               j->except);
		if (j->frame.len > 0) /* a send's, for this worker */
			worker_deliver_here(j->s->w, j->frame.buf, j->frame.len,
			                    j->here.ids, j->here.n, j->except);
	}
}

/*
 * DB thread (or, for a send on one core, the loop: dbpool_loop_writes):
 * the handler's storage work. A job that already failed only
 * passes through the writer, to keep its reply behind earlier sends.
 */
static void
handler_job_run(struct store *st, void *arg)
{
	struct hjob *j = arg;

	if (j->err == 0)
		j->err = j->h->run(st, j);
}

/*
 * DB (writer) thread: several write jobs at once. Those that have not
 * failed already go to their handler's run_many, a run of one handler at
 * a time.
 */
static void
handler_job_run_many(struct store *st, void **args, size_t n)
{
	struct hjob *v[DBPOOL_BATCH_MAX];
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		struct hjob *j = args[i];

		if (k > 0 && j->h != v[0]->h) {
			v[0]->h->run_many(st, v, k);
			k = 0;
		}
		if (j->err == 0)
			v[k++] = j;
	}
	if (k > 0)
		v[0]->h->run_many(st, v, k);
}

/* DB (writer) thread: the outcome of the transaction the job was in. */
static void
handler_job_committed(void *arg, int err)
{
	struct hjob *j = arg;

	j->h->committed(j, err);
}

/* Cuts a flooding client off, after the replies to its earlier requests. */
static void
handler_cut(struct session *s)
{
	struct json_object *ev =
	    codec_error_event(ERR_RATE_LIMITED, "flooding: disconnected");

	session_send(s, ev);
	json_object_put(ev);
	session_close_flush(s, "flooding");
}

/* The frame held behind the session's sends, now that they are done. */
static void
handler_release(struct session *s)
{
	char *line = s->held;

	s->held = NULL;
	s->busy = false;
	if (!s->closed)
		handler_dispatch(s, line, s->held_len);
	free(line);
}

/* Loop thread: the job is back; reply, then read the next request. */
static void
handler_job_done(void *arg)
{
	struct hjob *j = arg;
	struct session *s = j->s;

	if (j->err == 0 && j->h->done != NULL)
		j->h->done(j);
	if (j->h->committed != NULL)
		s->writes--;
	else
		s->busy = false;
	handler_job_finish(j);
	handler_job_free(s->w, j);
	if (s->writes == 0 && s->flooded && !s->closed)
		handler_cut(s);
	else if (s->writes == 0 && s->held != NULL)
		handler_release(s);
	session_resume(s);
	session_unref(s);
}

/*
 * Hands a job to the DB pool: a send to the writer, pipelined behind the
 * session's other sends; anything else to the general queue, and the
 * session reads nothing more until it is back.
 */
static void
handler_submit(struct hjob *j)
{
	struct session *s = j->s;

	session_ref(s);
	if (j->h->committed != NULL) {
		s->writes++;
		/* The writer is woken once for this loop turn's sends. */
		worker_hold_writes(s->w);
		dbpool_submit_write(
		    j->srv->db, &j->wlink, handler_job_run,
		    j->h->run_many != NULL ? handler_job_run_many : NULL,
		    handler_job_committed, handler_job_done, j, s->w->q);
	} else {
		s->busy = true;
		dbpool_submit(j->srv->db, handler_job_run, handler_job_done, j,
		              s->w->q);
	}
}

/*
 * Keeps a frame that is not a send while sends are in flight: its reply
 * must not overtake theirs. It is handled when the last one is back.
 */
static bool
handler_hold(struct session *s, const char *line, size_t len)
{
	if (s->writes == 0)
		return false;
	s->held = xmemdup0(line, len); /* a frame may hold a NUL */
	s->held_len = len;
	s->busy = true;
	return true;
}

/* Milliseconds on the monotonic clock, for the token buckets. */
static int64_t
handler_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sends an error reply to a request that never became a job. */
static void
handler_reject(struct session *s, const char *type, bool has_req, uint32_t req,
               int code, const char *msg)
{
	struct json_object *err;

	err = codec_reply_error(type, has_req, req, code, msg);
	session_send(s, err);
	json_object_put(err);
}

/*
 * Counts a request against the user's budget. A client over it gets
 * rate_limited; one that keeps going (HANDLER_FLOOD_STRIKES refusals within
 * HANDLER_FLOOD_WINDOW_MS, whatever got through between them) is cut off.
 */
static bool
handler_rate_ok(struct session *s)
{
	int64_t now = handler_now_ms();

	if (presence_take(s->w->srv->presence, s->uid, now))
		return true;
	if (now - s->strikes_since_ms > HANDLER_FLOOD_WINDOW_MS) {
		s->strikes = 0;
		s->strikes_since_ms = now;
	}
	if (++s->strikes >= HANDLER_FLOOD_STRIKES) {
		s->flooded = true;
		s->busy = true; /* read nothing more */
		if (s->writes == 0)
			handler_cut(s);
	}
	return false;
}

/* The gatekeeping on the session: login, then the rate limit. */
static int
handler_admit_session(struct session *s, const struct handler *h)
{
	if (h->login && s->uid == 0)
		return ERR_NOT_AUTHENTICATED;
	if (h->limited && !handler_rate_ok(s))
		return ERR_RATE_LIMITED;
	return 0;
}

/* The gatekeeping a handler relies on: the session's, mandatory fields. */
static int
handler_admit(struct session *s, const struct handler *h,
              struct json_object *in, const char **msg)
{
	size_t i;
	int code;

	*msg = NULL;
	if ((code = handler_admit_session(s, h)) != 0)
		return code;
	for (i = 0; i < 3 && h->fields[i] != NULL; i++) {
		if (!json_object_object_get_ex(in, h->fields[i], NULL)) {
			*msg = h->fields[i];
			return ERR_BAD_REQUEST;
		}
	}
	return 0;
}

/* Fills in job j for request in (taken) of handler h from session s. */
static void
handler_job_init(struct hjob *j, struct session *s, const struct handler *h,
                 struct json_object *in, bool has_req, uint32_t req)
{
	size_t nlen;

	j->s = s;
	j->srv = s->w->srv;
	j->h = h;
	j->in = in;
	j->has_req = has_req;
	j->req = req;
	j->except = s->id;
	j->uid = s->uid;
	_Static_assert(sizeof j->addr == sizeof s->addr, "addr sizes");
	memcpy(j->addr, s->addr, sizeof j->addr); /* NUL-terminated in s */
	if (s->name != NULL && (nlen = strlen(s->name)) < sizeof j->uname_buf)
		j->uname = memcpy(j->uname_buf, s->name, nlen + 1);
	else if (s->name != NULL)
		j->uname = xstrdup(s->name);
	if (h->committed != NULL) /* run() writes the reply as text */
		return;
	j->reply = codec_reply_ok(h->type, req);
	if (!has_req)
		json_object_object_del(j->reply, "req");
}

/* A job for request in (taken) of handler h from session s. */
static struct hjob *
handler_job_new(struct session *s, const struct handler *h,
                struct json_object *in, bool has_req, uint32_t req)
{
	struct hjob *j = handler_job_alloc(s->w);

	handler_job_init(j, s, h, in, has_req, req);
	return j;
}

/*
 * Runs an admitted request: at once, or on the DB pool. With sends in
 * flight (then h is a send: other requests were held), even a failed one
 * queues behind them.
 */
static void
handler_start(struct session *s, const struct handler *h,
              struct json_object *in, bool has_req, uint32_t req)
{
	struct hjob *j = handler_job_new(s, h, in, has_req, req);

	if ((h->parse(j) == 0 && h->run != NULL) || s->writes > 0) {
		handler_submit(j);
		return;
	}
	if (j->err == 0 && h->done != NULL)
		h->done(j);
	handler_job_finish(j);
	handler_job_free(s->w, j);
}

/* Refuses an admitted-type request: at once, or behind the sends. */
static void
handler_refuse(struct session *s, const struct handler *h,
               struct json_object *in, bool has_req, uint32_t req, int code,
               const char *field)
{
	char *m = field != NULL ? xasprintf("missing field %s", field) : NULL;
	struct hjob *j;

	if (s->writes > 0) {
		j = handler_job_new(s, h, in, has_req, req);
		handler_fail(j, code, m);
		handler_submit(j);
	} else {
		handler_reject(s, h->type, has_req, req, code, m);
		json_object_put(in);
	}
	free(m);
}

/* Reads "req": absent is allowed, anything but a uint32 is not. */
static int
handler_req(struct json_object *in, bool *has_req, uint32_t *req)
{
	uint64_t v = 0;
	int r = codec_get_uint(in, "req", UINT32_MAX, &v);

	*has_req = r == 0;
	*req = (uint32_t)v;
	return r < 0 ? r : 0;
}

/* Whether request in goes to the group-commit writer (a send). */
static bool
handler_pipelined(struct json_object *in)
{
	const struct handler *h;
	const char *type;
	size_t tlen;

	return codec_get_string(in, "type", &type, &tlen) == 0 &&
	       (h = handler_find(type)) != NULL && h->committed != NULL;
}

/* Answers a frame that is not a JSON object. */
static void
handler_not_json(struct session *s)
{
	struct json_object *ev =
	    codec_error_event(ERR_BAD_REQUEST, "not a JSON object in UTF-8");

	session_send(s, ev);
	json_object_put(ev);
}

/*
 * The hot path: a well-formed send, read without json-c objects. It goes
 * where handler_dispatch would send it; false for any other frame.
 */
static bool
handler_fast_send(struct session *s, const char *line, size_t len)
{
	const struct handler *send = handler_find("send"); /* the first */
	struct hjob *j = handler_job_alloc(s->w);
	struct chat_send_frame f = {.buf = j->inbuf, .cap = j->inbuf_cap};
	bool fast;
	int code;

	fast = chat_send_decode(s->w->reader, line, len,
	                        (size_t)s->w->srv->cfg->max_body, &f);
	j->inbuf = f.buf; /* the job's buffer, perhaps grown */
	j->inbuf_cap = f.cap;
	if (fast && (code = handler_admit_session(s, send)) != 0) {
		handler_refuse(s, send, NULL, f.has_req, f.req, code, NULL);
	} else if (fast) {
		handler_job_init(j, s, send, NULL, f.has_req, f.req);
		chat_send_take(j, &f);
		handler_submit(j);
		return true;
	}
	handler_job_free(s->w, j);
	return fast;
}

void
handler_dispatch(struct session *s, const char *line, size_t len)
{
	const struct handler *h;
	struct json_object *in;
	const char *type, *msg;
	bool has_req;
	uint32_t req;
	size_t tlen;
	int code;

	if (handler_fast_send(s, line, len))
		return;
	if (codec_reader_parse(s->w->reader, line, len, &in) < 0)
		in = NULL;
	if ((in == NULL || !handler_pipelined(in)) &&
	    handler_hold(s, line, len)) {
		json_object_put(in);
		return;
	}
	if (in == NULL) {
		handler_not_json(s);
		return;
	}
	if (handler_req(in, &has_req, &req) < 0 ||
	    codec_get_string(in, "type", &type, &tlen) != 0) {
		handler_reject(
		    s, "error", has_req, req, ERR_BAD_REQUEST,
		    "a request needs a string type and a uint32 req");
	} else if ((h = handler_find(type)) == NULL) {
		handler_reject(s, type, has_req, req, ERR_UNKNOWN_TYPE, NULL);
	} else if ((code = handler_admit(s, h, in, &msg)) != 0) {
		handler_refuse(s, h, in, has_req, req, code, msg);
		return;
	} else {
		handler_start(s, h, in, has_req, req);
		return;
	}
	json_object_put(in);
}
