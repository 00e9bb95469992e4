/* Client connections of the load generator, on libevent bufferevents. */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench-conn.h"
#include "xmalloc.h"

/* Input: the protocol module parses whatever is complete. */
static void
bench_conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct bench_conn *c = arg;

	c->proto->read(c, bufferevent_get_input(bev));
}

/* Connected: log in. Failed or closed: tell the owner, once. */
static void
bench_conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct bench_conn *c = arg;
	const char *why;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		if (c->no_login)
			c->cb(c, BENCH_EV_READY, NULL, 0);
		else
			c->proto->login(c);
		return;
	}
	if (c->open) {
		why = (what & BEV_EVENT_EOF) ? "closed by the server"
		                             : strerror(errno);
		c->open = false;
		bufferevent_disable(c->bev, EV_READ | EV_WRITE);
		c->cb(c, BENCH_EV_CLOSED, why, strlen(why));
	}
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
	c = xcalloc(1, sizeof *c);
	c->proto = proto;
	c->cb = cb;
	c->owner = owner;
	c->idx = idx;
	c->open = true;
	snprintf(c->name, sizeof c->name, "%s", name);
	c->ps = proto->state_new();
	c->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(c->bev, bench_conn_read_cb, NULL, bench_conn_event_cb,
	                  c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect(c->bev, (const struct sockaddr *)server,
	                               sizeof *server) < 0) {
		fprintf(stderr, "natter-bench: connect: %s\n", strerror(errno));
		bench_conn_free(c);
		return NULL;
	}
	return c;
}

/* Closes and frees c; NULL is a no-op. */
void
bench_conn_free(struct bench_conn *c)
{
	if (c == NULL)
		return;
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	c->proto->state_free(c->ps);
	free(c);
}

/* Queues bytes for the server. */
void
bench_conn_write(struct bench_conn *c, const void *data, size_t len)
{
	evbuffer_add(bufferevent_get_output(c->bev), data, len);
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
