/*
 * Client connections of the load generator: a socket, a read event and a
 * write event on libevent, and two evbuffers. Not bufferevents: their
 * evbuffer_read asks the kernel how much is readable (ioctl FIONREAD)
 * before each read, one more system call per read, and the generator is
 * what bounds fan-out on some machines.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "bench-conn.h"
#include "xmalloc.h"

#define BENCH_CONN_READ 16384 /* bytes asked of one read */
#define BENCH_CONN_READS 4    /* reads per wake-up before others go */

/* Failed or closed: stop its events and tell the owner, once. */
static void
bench_conn_lost(struct bench_conn *c, const char *why)
{
	if (!c->open)
		return;
	c->open = false;
	event_del(c->rev);
	event_del(c->wev);
	c->cb(c, BENCH_EV_CLOSED, why, strlen(why));
}

/*
 * Reads what the socket has into in: the bytes read (a full read may
 * leave more), 0 if it would block, -1 if the connection is gone.
 */
static ssize_t
bench_conn_fill(struct bench_conn *c)
{
	struct evbuffer_iovec v[2];
	int nv = evbuffer_reserve_space(c->in, BENCH_CONN_READ, v, 2);
	struct iovec iov[2];
	ssize_t n, left;
	int i;

	for (i = 0; i < nv; i++) {
		iov[i].iov_base = v[i].iov_base;
		iov[i].iov_len = v[i].iov_len;
	}
	if ((n = readv(c->fd, iov, nv)) <= 0) {
		evbuffer_commit_space(c->in, v, 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		bench_conn_lost(c, n == 0 ? "closed by the server"
		                          : strerror(errno));
		return -1;
	}
	for (i = 0, left = n; i < nv; i++) {
		if ((size_t)left < v[i].iov_len)
			v[i].iov_len = (size_t)left;
		left -= (ssize_t)v[i].iov_len;
	}
	evbuffer_commit_space(c->in, v, nv);
	return n;
}

/*
 * Input: the protocol module parses whatever is complete. Only a read
 * that filled its buffer is followed by another (a short one emptied the
 * socket); the event fires again for the rest.
 */
static void
bench_conn_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct bench_conn *c = arg;
	ssize_t n = BENCH_CONN_READ;
	int i;

	(void)fd;
	(void)what;
	for (i = 0; i < BENCH_CONN_READS && c->open && n == BENCH_CONN_READ;
	     i++) {
		if ((n = bench_conn_fill(c)) <= 0)
			break;
		c->proto->read(c, c->in);
	}
}

/* Connected: log in. */
static void
bench_conn_connected(struct bench_conn *c)
{
	int err = 0;
	socklen_t len = sizeof err;

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err != 0) {
		bench_conn_lost(c, strerror(err));
		return;
	}
	c->connected = true;
	event_add(c->rev, NULL);
	if (c->no_login)
		c->cb(c, BENCH_EV_READY, NULL, 0);
	else
		c->proto->login(c);
}

/* Writable: the connect finished, or room for more output. */
static void
bench_conn_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct bench_conn *c = arg;

	(void)what;
	c->write_due = false;
	if (!c->connected)
		bench_conn_connected(c);
	if (!c->open || evbuffer_get_length(c->out) == 0)
		return;
	if (evbuffer_write(c->out, fd) < 0 && errno != EAGAIN &&
	    errno != EINTR) {
		bench_conn_lost(c, strerror(errno));
		return;
	}
	if (evbuffer_get_length(c->out) > 0)
		event_add(c->wev, NULL);
}

/* A non-blocking TCP socket bound to src's address, port left open. */
static int
bench_conn_socket(const struct sockaddr_in *src)
{
	int fd, one = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	/* Without this, bind() picks the port before the destination is
	 * known and one source address runs out of ports early. */
	setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
	if (src != NULL &&
	    bind(fd, (const struct sockaddr *)src, sizeof *src) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A new connection; see bench-conn.h. */
struct bench_conn *
bench_conn_new(struct event_base *base, const struct bench_proto *proto,
               const struct sockaddr_in *server, const struct sockaddr_in *src,
               const char *name, bench_conn_cb cb, void *owner, int idx)
{
	struct bench_conn *c;
	int fd;

	if ((fd = bench_conn_socket(src)) < 0) {
		fprintf(stderr, "natter-bench: socket: %s\n", strerror(errno));
		return NULL;
	}
	if (connect(fd, (const struct sockaddr *)server, sizeof *server) < 0 &&
	    errno != EINPROGRESS) {
		fprintf(stderr, "natter-bench: connect: %s\n", strerror(errno));
		close(fd);
		return NULL;
	}
	c = xcalloc(1, sizeof *c);
	c->proto = proto;
	c->cb = cb;
	c->owner = owner;
	c->idx = idx;
	c->open = true;
	c->fd = fd;
	snprintf(c->name, sizeof c->name, "%s", name);
	c->ps = proto->state_new();
	c->in = evbuffer_new();
	c->out = evbuffer_new();
	c->rev =
	    event_new(base, fd, EV_READ | EV_PERSIST, bench_conn_read_cb, c);
	c->wev = event_new(base, fd, EV_WRITE, bench_conn_write_cb, c);
	event_add(c->wev, NULL); /* writable once connected */
	return c;
}

/* Shuts c's socket and stops its events; its memory stays. */
void
bench_conn_close(struct bench_conn *c)
{
	c->open = false;
	if (c->fd < 0)
		return;
	event_del(c->rev);
	event_del(c->wev);
	close(c->fd);
	c->fd = -1;
}

/* Closes and frees c; NULL is a no-op. */
void
bench_conn_free(struct bench_conn *c)
{
	if (c == NULL)
		return;
	bench_conn_close(c);
	event_free(c->rev);
	event_free(c->wev);
	evbuffer_free(c->in);
	evbuffer_free(c->out);
	c->proto->state_free(c->ps);
	free(c);
}

/*
 * Queues bytes for the server. They go later in this loop turn, with
 * whatever else is queued for c by then: the write event is made active,
 * not added, so the socket is watched for room (two epoll_ctl calls) only
 * when a write did not take everything. Adding it for every send was a
 * tenth of the generator's time at 20k msg/s.
 */
void
bench_conn_write(struct bench_conn *c, const void *data, size_t len)
{
	if (c->fd < 0)
		return;
	evbuffer_add(c->out, data, len);
	if (c->connected && !c->write_due &&
	    !event_pending(c->wev, EV_WRITE, NULL)) {
		c->write_due = true;
		event_active(c->wev, EV_WRITE, 1);
	}
}

/* Sends one chat message and keeps its send time for the ack. */
void
bench_conn_send(struct bench_conn *c, const char *body, size_t len,
                uint64_t now)
{
	/* Once the ring overflows, later sends are only counted until their
	 * acks drain, so the ring's entries stay the oldest ones. */
	if (c->ack_lost == 0 && c->ack_tail - c->ack_head < BENCH_CONN_ACKS)
		c->acks[c->ack_tail++ % BENCH_CONN_ACKS] = now;
	else
		c->ack_lost++;
	c->nsent++;
	c->proto->send(c, body, len);
}

/* Replies come in request order, so the oldest send is the one acked. */
uint64_t
bench_conn_ack_pop(struct bench_conn *c)
{
	if (c->ack_head == c->ack_tail) {
		if (c->ack_lost > 0)
			c->ack_lost--;
		return 0;
	}
	return c->acks[c->ack_head++ % BENCH_CONN_ACKS];
}
