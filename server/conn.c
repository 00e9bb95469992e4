#include "conn.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/event_struct.h>

#include "tls.h"
#include "xmalloc.h"

#define CONN_READ_CHUNK 4096 /* bytes asked of one read() */
#define CONN_READS_MAX 4     /* reads per turn before others get a go */
#define CONN_SPARES 64       /* empty buffers, and write events, a loop keeps */
#define CONN_PRIO_NONE (-1)  /* libevent's default priority */

struct conn_spares {
	struct evbuffer *v[CONN_SPARES];
	size_t n;
	struct event *ev[CONN_SPARES];
	size_t nev;
};

/*
 * bev is set for TLS; rev, wev, in and out serve a plain socket. in and
 * out are NULL while empty, and wev while no output waits: an event is
 * 128 bytes, a sixth of what an idle logged-in connection costs.
 */
struct conn {
	evutil_socket_t fd;
	struct bufferevent *bev;
	struct event rev;
	struct event *wev;
	struct evbuffer *in;
	struct evbuffer *out;
	struct conn_spares *spares; /* or NULL */
	size_t read_max;
	int prio;           /* of its events, or CONN_PRIO_NONE */
	int idle;           /* seconds, 0: none */
	int flush_seconds;  /* while flushing: allowed without progress */
	bool reading;       /* wanted by the owner */
	bool read_armed;    /* rev is added */
	bool write_pending; /* wev is active or added */
	bool flushing;      /* drained is wanted */
	const struct conn_cbs *cbs;
	void *arg;
};

static void conn_read_cb(evutil_socket_t fd, short what, void *arg);
static void conn_write_cb(evutil_socket_t fd, short what, void *arg);
static void conn_bev_read_cb(struct bufferevent *bev, void *arg);
static void conn_bev_write_cb(struct bufferevent *bev, void *arg);
static void conn_bev_event_cb(struct bufferevent *bev, short what, void *arg);

struct conn_spares *
conn_spares_new(void)
{
	return xcalloc(1, sizeof(struct conn_spares));
}

void
conn_spares_free(struct conn_spares *sp)
{
	if (sp == NULL)
		return;
	while (sp->n > 0)
		evbuffer_free(sp->v[--sp->n]);
	while (sp->nev > 0)
		free(sp->ev[--sp->nev]);
	free(sp);
}

/* An empty buffer: a spare if there is one. */
static struct evbuffer *
conn_buffer_get(struct conn *c)
{
	struct conn_spares *sp = c->spares;

	return sp != NULL && sp->n > 0 ? sp->v[--sp->n] : evbuffer_new();
}

/* Gives back an empty buffer: kept as a spare if there is room. */
static void
conn_buffer_put(struct conn *c, struct evbuffer *b)
{
	struct conn_spares *sp = c->spares;

	if (sp != NULL && sp->n < CONN_SPARES)
		sp->v[sp->n++] = b;
	else
		evbuffer_free(b);
}

/*
 * The write event, for output that waits: a spare if there is one. Made
 * for the socket at its connection's priority; not added.
 */
static struct event *
conn_wev_get(struct conn *c)
{
	struct conn_spares *sp = c->spares;
	struct event *ev =
	    sp != NULL && sp->nev > 0 ? sp->ev[--sp->nev] : xmalloc(sizeof *ev);

	event_assign(ev, event_get_base(&c->rev), c->fd, EV_WRITE | EV_PERSIST,
	             conn_write_cb, c);
	if (c->prio != CONN_PRIO_NONE)
		event_priority_set(ev, c->prio);
	return ev;
}

/* No output waits: the write event goes, kept as a spare if there is room. */
static void
conn_wev_put(struct conn *c)
{
	struct conn_spares *sp = c->spares;

	if (c->wev == NULL)
		return;
	event_del(c->wev);
	if (sp != NULL && sp->nev < CONN_SPARES)
		sp->ev[sp->nev++] = c->wev;
	else
		free(c->wev);
	c->wev = NULL;
}

/* A connection on fd; TLS goes through a bufferevent. */
struct conn *
conn_new(struct event_base *base, evutil_socket_t fd, struct tls *tls,
         struct conn_spares *spares, const struct conn_cbs *cbs, void *arg)
{
	struct conn *c = xcalloc(1, sizeof *c);

	c->fd = fd;
	c->prio = CONN_PRIO_NONE;
	c->spares = spares;
	c->cbs = cbs;
	c->arg = arg;
	if (tls != NULL) {
		c->bev = tls_bufferevent(tls, base, fd);
		bufferevent_setcb(c->bev, conn_bev_read_cb, NULL,
		                  conn_bev_event_cb, c);
		bufferevent_enable(c->bev, EV_WRITE);
	} else {
		event_assign(&c->rev, base, fd, EV_READ | EV_PERSIST,
		             conn_read_cb, c);
	}
	return c;
}

void
conn_free(struct conn *c)
{
	if (c == NULL)
		return;
	if (c->bev != NULL) {
		bufferevent_free(c->bev); /* closes fd */
	} else {
		event_del(&c->rev);
		conn_wev_put(c);
		if (c->in != NULL)
			evbuffer_free(c->in);
		if (c->out != NULL)
			evbuffer_free(c->out);
		close(c->fd);
	}
	free(c);
}

/*
 * Adds or removes the read event as the owner's wish, the limit and the
 * buffered input say; re-adding also restarts the idle timer.
 */
static void
conn_rearm(struct conn *c)
{
	struct timeval idle = {c->idle, 0};
	bool want = c->reading && !c->flushing &&
	            (c->read_max == 0 || c->in == NULL ||
	             evbuffer_get_length(c->in) < c->read_max);

	if (want == c->read_armed)
		return;
	c->read_armed = want;
	if (want)
		event_add(&c->rev, c->idle > 0 ? &idle : NULL);
	else
		event_del(&c->rev);
}

void
conn_set_priority(struct conn *c, int prio)
{
	/* Fails for an event in the active queue: it keeps its old one. */
	if (c->bev != NULL) {
		bufferevent_priority_set(c->bev, prio);
		return;
	}
	c->prio = prio;
	event_priority_set(&c->rev, prio);
	if (c->wev != NULL)
		event_priority_set(c->wev, prio);
}

void
conn_set_read_max(struct conn *c, size_t max)
{
	c->read_max = max;
	if (c->bev != NULL)
		bufferevent_setwatermark(c->bev, EV_READ, 0, max);
	else
		conn_rearm(c);
}

void
conn_set_idle(struct conn *c, int seconds)
{
	struct timeval t = {seconds, 0};

	c->idle = seconds;
	if (c->bev != NULL) {
		bufferevent_set_timeouts(c->bev, seconds > 0 ? &t : NULL, NULL);
		return;
	}
	if (c->read_armed) { /* the new timer */
		c->read_armed = false;
		conn_rearm(c);
	}
}

void
conn_set_reading(struct conn *c, bool on)
{
	c->reading = on;
	if (c->bev == NULL)
		conn_rearm(c);
	else if (on)
		bufferevent_enable(c->bev, EV_READ);
	else
		bufferevent_disable(c->bev, EV_READ);
}

struct evbuffer *
conn_input(struct conn *c)
{
	return c->bev != NULL ? bufferevent_get_input(c->bev) : c->in;
}

/* The reader is done for now: room again, or nothing to keep. */
void
conn_input_done(struct conn *c)
{
	if (c->bev != NULL)
		return; /* the bufferevent watches its own watermark */
	if (c->in != NULL && evbuffer_get_length(c->in) == 0) {
		conn_buffer_put(c, c->in);
		c->in = NULL;
	}
	conn_rearm(c);
}

/*
 * Reads what the socket has, a few chunks at most. Returns the bytes read,
 * or -CONN_EOF / -CONN_ERROR if the stream ended before any.
 *
 * Into the stack, then copied: reserving CONN_READ_CHUNK in the buffer
 * made libevent allocate an 8 KiB chain (the chunk and its header, to a
 * power of two) for nearly every request, and free it once the frame was
 * taken: a block too large for glibc's per-thread cache, so its slow
 * paths ran for every message. Copied, a request of a few hundred bytes
 * takes a 1 KiB chain, which that cache serves.
 */
static ssize_t
conn_read_some(struct conn *c)
{
	char chunk[CONN_READ_CHUNK];
	ssize_t n, total = 0;
	int i;

	for (i = 0; i < CONN_READS_MAX; i++) {
		if (c->read_max > 0 && c->in != NULL &&
		    evbuffer_get_length(c->in) >= c->read_max)
			break;
		n = read(c->fd, chunk, sizeof chunk);
		if (n <= 0) {
			if (total > 0 || (n < 0 && errno == EAGAIN))
				break; /* an end shows again on the next read */
			if (n < 0 && errno == EINTR)
				continue;
			return n == 0 ? -CONN_EOF : -CONN_ERROR;
		}
		if (c->in == NULL)
			c->in = conn_buffer_get(c);
		evbuffer_add(c->in, chunk, (size_t)n);
		total += n;
		if ((size_t)n < sizeof chunk)
			break; /* the socket is empty */
	}
	return total;
}

/* The socket is readable, or the idle time is up. */
static void
conn_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	ssize_t n;

	(void)fd;
	if (what & EV_TIMEOUT) {
		c->cbs->end(c, CONN_TIMEOUT, c->arg);
		return;
	}
	n = conn_read_some(c);
	if (n < 0) { /* an ended socket stays readable: stop asking */
		conn_set_reading(c, false);
		c->cbs->end(c, (int)-n, c->arg);
		return;
	}
	conn_rearm(c); /* at the limit: wait for the reader */
	if (n > 0)
		c->cbs->read(c, c->arg);
}

/* Runs the write callback later in this loop turn, unless it is due. */
static void
conn_schedule_write(struct conn *c)
{
	if (c->write_pending)
		return;
	c->write_pending = true;
	c->wev = conn_wev_get(c);
	event_active(c->wev, EV_WRITE, 1);
}

void
conn_write(struct conn *c, const void *data, size_t len)
{
	if (c->bev != NULL) {
		bufferevent_write(c->bev, data, len);
		return;
	}
	if (c->out == NULL)
		c->out = conn_buffer_get(c);
	evbuffer_add(c->out, data, len);
	conn_schedule_write(c);
}

size_t
conn_output_len(const struct conn *c)
{
	if (c->bev != NULL)
		return evbuffer_get_length(bufferevent_get_output(c->bev));
	return c->out != NULL ? evbuffer_get_length(c->out) : 0;
}

/*
 * Writes what is queued. Returns 1 when all of it is out, 0 when the
 * socket is full, -1 when it failed.
 */
static int
conn_write_some(struct conn *c)
{
	int n;

	while (c->out != NULL && evbuffer_get_length(c->out) > 0) {
		n = evbuffer_write(c->out, c->fd);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0)
			return -1;
	}
	return 1;
}

/* Output is queued and the socket may take it (or a flush timed out). */
static void
conn_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct timeval t = {c->flush_seconds, 0};
	int r;

	(void)fd;
	r = (what & EV_TIMEOUT) ? -CONN_TIMEOUT : conn_write_some(c);
	if (r < 0) { /* no more tries: the owner ends it */
		event_del(c->wev);
		c->cbs->end(c, r == -CONN_TIMEOUT ? CONN_TIMEOUT : CONN_ERROR,
		            c->arg);
		return;
	}
	if (r == 0) { /* wait until the socket has room */
		event_add(c->wev, c->flushing ? &t : NULL);
		return;
	}
	conn_wev_put(c);
	c->write_pending = false;
	if (c->out != NULL)
		conn_buffer_put(c, c->out);
	c->out = NULL;
	if (c->flushing)
		c->cbs->drained(c, c->arg);
}

/* Stops reading; drained comes once the output is out. */
bool
conn_flush(struct conn *c, int seconds)
{
	struct timeval t = {seconds, 0};

	if (conn_output_len(c) == 0)
		return true;
	c->flushing = true;
	c->flush_seconds = seconds;
	if (c->bev != NULL) {
		bufferevent_disable(c->bev, EV_READ);
		bufferevent_setcb(c->bev, NULL, conn_bev_write_cb,
		                  conn_bev_event_cb, c);
		bufferevent_set_timeouts(c->bev, NULL, &t);
		return false;
	}
	conn_rearm(c);
	if (c->wev != NULL && event_pending(c->wev, EV_WRITE, NULL))
		event_add(c->wev, &t); /* the timer starts now */
	return false;
}

/* TLS: decrypted input arrived. */
static void
conn_bev_read_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	c->cbs->read(c, c->arg);
}

/* TLS: the output drained during a flush. */
static void
conn_bev_write_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	c->cbs->drained(c, c->arg);
}

/* TLS: EOF, error or timeout. */
static void
conn_bev_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	if (what & BEV_EVENT_TIMEOUT)
		c->cbs->end(c, CONN_TIMEOUT, c->arg);
	else if (what & BEV_EVENT_EOF)
		c->cbs->end(c, CONN_EOF, c->arg);
	else if (what & BEV_EVENT_ERROR)
		c->cbs->end(c, CONN_ERROR, c->arg);
}
