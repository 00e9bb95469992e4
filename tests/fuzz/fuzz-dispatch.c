/*
 * libFuzzer target for natterd's request path: session.c, handler.c and
 * the handlers, with a real DB pool on an in-memory SQLite store. One
 * worker's loop runs on the fuzzing thread (its thread is never started);
 * each input becomes a client on a socketpair. The first input byte
 * chooses a prologue (log in as a fixed user, with a friend and a group)
 * so that the handlers behind login are reached; the rest is sent as is.
 * Every frame the server sends back must be one JSON object.
 *
 * The store lives for the whole run, so what one input registers the next
 * one sees: a crash found here may need its neighbours to replay, but most
 * replay alone on a fresh store.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <json-c/json.h>

#include "codec.h"
#include "config.h"
#include "conn.h"
#include "dbpool.h"
#include "guard.h"
#include "log.h"
#include "presence.h"
#include "server.h"
#include "session.h"
#include "worker.h"
#include "xmalloc.h"

#define FUZZ_DISPATCH_TURNS 200000 /* loop turns before calling it a hang */
#define FUZZ_DISPATCH_OUT_MAX (1 << 20) /* output kept for checking */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What lives across inputs: the configuration, server, worker, store. */
static struct config fuzz_dispatch_cfg;
static struct server fuzz_dispatch_srv;
static struct worker *fuzz_dispatch_w;

/* One client: the session and the harness's end of its socket. */
struct fuzz_dispatch_client {
	struct session *s;
	int fd;  /* the client's end */
	int sfd; /* the session's end */
	const uint8_t *in;
	size_t inlen, sent;
	char *out; /* what the server sent, up to FUZZ_DISPATCH_OUT_MAX */
	size_t outlen;
};

/* Prologues: register and log in "fuzzer"; more state with more bits. */
static const char fuzz_dispatch_login[] =
    "{\"type\":\"register\",\"req\":1,\"name\":\"fuzzer\","
    "\"password\":\"fuzzpassword\"}\n"
    "{\"type\":\"login\",\"req\":2,\"name\":\"fuzzer\","
    "\"password\":\"fuzzpassword\"}\n";
static const char fuzz_dispatch_social[] =
    "{\"type\":\"register\",\"req\":3,\"name\":\"fuzzfriend\","
    "\"password\":\"fuzzpassword\"}\n"
    "{\"type\":\"friend_add\",\"req\":4,\"name\":\"fuzzfriend\"}\n"
    "{\"type\":\"group_create\",\"req\":5,\"name\":\"fuzzgroup\"}\n"
    "{\"type\":\"send\",\"req\":6,\"to\":{\"user\":2},\"body\":\"hi\","
    "\"cmid\":\"c1\"}\n";

/* Stops the run: the server broke an invariant. */
static void
fuzz_dispatch_fail(const char *what)
{
	fprintf(stderr, "fuzz-dispatch: %s\n", what);
	abort();
}

/* The server of main.c and server_run, minus listener, signals, threads. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct server *srv = &fuzz_dispatch_srv;
	struct config *cfg = &fuzz_dispatch_cfg;
	(void)argc;
	(void)argv;
	log_set_level(getenv("FUZZ_VERBOSE") != NULL ? LOG_DEBUG : LOG_ERROR);
	if (evthread_use_pthreads() < 0)
		fatal("evthread_use_pthreads failed");
	signal(SIGPIPE, SIG_IGN);
	config_init(cfg);
	cfg->store = xstrdup("sqlite::memory:"); /* one private DB: 1 thread */
	cfg->db_threads = 1;
	cfg->rate_limit = 0;
	cfg->max_frame = 2048;
	cfg->max_body = 256;
	cfg->output_cap = 65536;
	cfg->sync_max = 20;
	cfg->pwhash_ops = 1;
	cfg->pwhash_mem = 8192;
	cfg->login_max_failures = 0; /* a locked "fuzzer" would block depth */
	cfg->login_max_failures_addr = 0;
	cfg->auth_rate = 0;
	cfg->workers = 1;
	cfg->node = xstrdup("fuzz");
	if (server_init(srv, cfg) < 0)
		fatal("fuzz-dispatch: server_init failed");
	fuzz_dispatch_w = srv->workers[0];
	return 0;
}

/* Sends what the socket takes of the input and the prologue. */
static void
fuzz_dispatch_write(struct fuzz_dispatch_client *c)
{
	ssize_t n;

	while (c->sent < c->inlen) {
		n = write(c->fd, c->in + c->sent, c->inlen - c->sent);
		if (n <= 0)
			return; /* EAGAIN, or the server closed */
		c->sent += (size_t)n;
	}
}

/* Reads what the server sent, keeping the first part for the checks. */
static void
fuzz_dispatch_read(struct fuzz_dispatch_client *c)
{
	char buf[8192];
	size_t keep;
	ssize_t n;

	while ((n = read(c->fd, buf, sizeof buf)) > 0) {
		keep = (size_t)n;
		if (keep > FUZZ_DISPATCH_OUT_MAX - c->outlen)
			keep = FUZZ_DISPATCH_OUT_MAX - c->outlen;
		memcpy(c->out + c->outlen, buf, keep);
		c->outlen += keep;
	}
}

/*
 * Whether the session has nothing left to do: every byte sent and read,
 * every reply written, no request with the DB pool and no complete frame
 * waiting.
 */
static bool
fuzz_dispatch_idle(struct fuzz_dispatch_client *c)
{
	struct session *s = c->s;
	struct evbuffer *in;
	struct evbuffer_ptr p;
	int unread = 0;

	if (s->busy)
		return false;
	if (s->closed || s->conn == NULL)
		return s->conn == NULL; /* a closing session flushes first */
	if (c->sent < c->inlen || conn_output_len(s->conn) > 0)
		return false;
	if (ioctl(c->sfd, FIONREAD, &unread) == 0 && unread > 0)
		return false;
	if ((in = conn_input(s->conn)) == NULL)
		return true;
	p = evbuffer_search(in, "\n", 1, NULL);
	return p.pos < 0;
}

/* Turns the worker's loop until the client is idle. */
static void
fuzz_dispatch_pump(struct fuzz_dispatch_client *c)
{
	struct event_base *base = fuzz_dispatch_w->base;
	int turns;

	for (turns = 0; !fuzz_dispatch_idle(c); turns++) {
		if (turns == FUZZ_DISPATCH_TURNS)
			fuzz_dispatch_fail("session never went idle");
		fuzz_dispatch_write(c);
		/* Busy: block until the DB pool posts the completion. */
		event_base_loop(base,
		                c->s->busy ? EVLOOP_ONCE : EVLOOP_NONBLOCK);
		fuzz_dispatch_read(c);
	}
}

/* The sentinel's completion: every job before it is done. */
static void
fuzz_dispatch_barrier_done(void *arg)
{
	*(bool *)arg = true;
}

/* The sentinel's DB work: none. */
static void
fuzz_dispatch_barrier_run(struct store *st, void *arg)
{
	(void)st;
	(void)arg;
}

/*
 * Waits until every DB job submitted so far has completed on the loop (one
 * DB thread and FIFO queues: a sentinel's completion comes last), then runs
 * what those completions posted and the deferred frees.
 */
static void
fuzz_dispatch_settle(void)
{
	struct worker *w = fuzz_dispatch_w;
	bool done = false;

	dbpool_submit(fuzz_dispatch_srv.db, fuzz_dispatch_barrier_run,
	              fuzz_dispatch_barrier_done, &done, w->q);
	while (!done)
		event_base_loop(w->base, EVLOOP_ONCE);
	for (int i = 0; i < 3; i++) {
		loopq_drain(w->q);
		event_base_loop(w->base, EVLOOP_NONBLOCK);
	}
}

/* Every complete line the server sent must be one JSON object. */
static void
fuzz_dispatch_check_output(struct fuzz_dispatch_client *c)
{
	struct json_object *obj;
	char *line = c->out, *nl;

	if (getenv("FUZZ_VERBOSE") != NULL)
		fprintf(stderr, "%.*s", (int)c->outlen, c->out);
	while ((nl = memchr(line, '\n', c->outlen - (size_t)(line - c->out))) !=
	       NULL) {
		if (codec_parse(line, (size_t)(nl - line), 64, &obj) != 0) {
			fprintf(stderr, "server sent: %.*s\n", (int)(nl - line),
			        line);
			fuzz_dispatch_fail("server sent a frame that is not "
			                   "a JSON object");
		}
		json_object_put(obj);
		line = nl + 1;
	}
}

/* The bytes to send: the chosen prologue, then the input after byte 0. */
static uint8_t *
fuzz_dispatch_script(const uint8_t *data, size_t size, size_t *len)
{
	size_t l1 = sizeof fuzz_dispatch_login - 1;
	size_t l2 = sizeof fuzz_dispatch_social - 1;
	uint8_t *buf = xmalloc(l1 + l2 + size);
	size_t n = 0;

	if (data[0] & 1) {
		memcpy(buf, fuzz_dispatch_login, l1);
		n = l1;
		if (data[0] & 2) {
			memcpy(buf + n, fuzz_dispatch_social, l2);
			n += l2;
		}
	}
	memcpy(buf + n, data + 1, size - 1);
	*len = n + size - 1;
	return buf;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_dispatch_client c;
	uint8_t *script;
	int sv[2];

	if (size < 1)
		return -1;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		fatal("socketpair: %s", strerror(errno));
	evutil_make_socket_nonblocking(sv[0]);
	evutil_make_socket_nonblocking(sv[1]);
	memset(&c, 0, sizeof c);
	c.in = script = fuzz_dispatch_script(data, size, &c.inlen);
	c.fd = sv[1];
	c.sfd = sv[0];
	c.out = xmalloc(FUZZ_DISPATCH_OUT_MAX);
	if (!guard_conn_open(fuzz_dispatch_srv.guard, "127.0.0.1"))
		fuzz_dispatch_fail("guard refused the connection");
	c.s = session_new(fuzz_dispatch_w, sv[0], "127.0.0.1", 40000, false);
	session_ref(c.s); /* ours: s stays readable even once closed */
	fuzz_dispatch_pump(&c);
	session_close(c.s, "fuzz input done");
	session_unref(c.s);
	fuzz_dispatch_settle();
	fuzz_dispatch_read(&c);
	fuzz_dispatch_check_output(&c);
	close(c.fd);
	free(c.out);
	free(script);
	return 0;
}
