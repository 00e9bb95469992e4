/*
 * conn over a socketpair: writes leave in the turn they were queued, input
 * pauses at its limit, buffers and write events are given back when empty
 * (and reused clean by the next connection, even one freed with a write
 * due), and EOF, idle time and a stuck flush end the connection.
 */

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "conn.h"
#include "unit.h"

#define TEST_CONN_BIG (4 * 1024 * 1024) /* more than a socket buffer */

static struct conn_spares *test_spares; /* every test conn's */

/* What the callbacks saw. */
struct test_conn {
	struct conn *c;
	int reads;
	int end;
	int drained;
	bool consume; /* the read callback drains the input */
};

static void
test_conn_read_cb(struct conn *c, void *arg)
{
	struct test_conn *t = arg;
	struct evbuffer *in = conn_input(c);

	t->reads++;
	if (t->consume && in != NULL)
		evbuffer_drain(in, evbuffer_get_length(in));
	conn_input_done(c);
}

static void
test_conn_end_cb(struct conn *c, int why, void *arg)
{
	struct test_conn *t = arg;

	(void)c;
	t->end = why;
}

static void
test_conn_drained_cb(struct conn *c, void *arg)
{
	struct test_conn *t = arg;

	(void)c;
	t->drained++;
}

static const struct conn_cbs test_conn_cbs = {
    test_conn_read_cb, test_conn_end_cb, test_conn_drained_cb};

/* A reading conn on one end of a socketpair; *peer is the other end. */
static void
test_conn_open(struct event_base *base, struct test_conn *t, int *peer)
{
	int sv[2];

	memset(t, 0, sizeof *t);
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	evutil_make_socket_nonblocking(sv[0]);
	evutil_make_socket_nonblocking(sv[1]);
	t->c = conn_new(base, sv[0], NULL, test_spares, &test_conn_cbs, t);
	conn_set_reading(t->c, true);
	*peer = sv[1];
}

/* Turns the loop without waiting, n times. */
static void
test_conn_turns(struct event_base *base, int n)
{
	while (n-- > 0)
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
}

/* A write is on the wire after one turn; the output buffer goes after. */
static void
test_conn_write(struct event_base *base)
{
	struct test_conn t;
	char buf[16];
	int peer;

	test_conn_open(base, &t, &peer);
	conn_write(t.c, "hello\n", 6);
	conn_write(t.c, "again\n", 6);
	CHECK_EQ_INT(conn_output_len(t.c), 12);
	test_conn_turns(base, 1);
	CHECK_EQ_INT(conn_output_len(t.c), 0);
	CHECK_EQ_INT(read(peer, buf, sizeof buf), 12);
	CHECK(memcmp(buf, "hello\nagain\n", 12) == 0);
	conn_free(t.c);
	close(peer);
}

/* Input arrives; an emptied buffer is given back; EOF ends it. */
static void
test_conn_read_eof(struct event_base *base)
{
	struct test_conn t;
	int peer;

	test_conn_open(base, &t, &peer);
	t.consume = true;
	CHECK_EQ_INT(write(peer, "abc\n", 4), 4);
	test_conn_turns(base, 1);
	CHECK_EQ_INT(t.reads, 1);
	CHECK(conn_input(t.c) == NULL);
	close(peer);
	test_conn_turns(base, 1);
	CHECK_EQ_INT(t.end, CONN_EOF);
	conn_free(t.c);
}

/* Reading pauses at the limit and resumes once the reader took some. */
static void
test_conn_read_max(struct event_base *base)
{
	struct test_conn t;
	char *junk = calloc(1, 65536);
	size_t had;
	int peer;

	test_conn_open(base, &t, &peer);
	conn_set_read_max(t.c, 100);
	CHECK_EQ_INT(write(peer, junk, 65536), 65536);
	test_conn_turns(base, 3);
	had = evbuffer_get_length(conn_input(t.c));
	CHECK(had >= 100 && had < 65536);
	CHECK_EQ_INT(t.reads, 1); /* paused, not called again */
	evbuffer_drain(conn_input(t.c), had);
	conn_input_done(t.c);
	CHECK(conn_input(t.c) == NULL);
	test_conn_turns(base, 1);
	CHECK_EQ_INT(t.reads, 2);
	conn_free(t.c);
	close(peer);
	free(junk);
}

/* A flush drains once the peer reads; a stuck one times out. */
static void
test_conn_flush(struct event_base *base)
{
	struct test_conn t;
	char *big = calloc(1, TEST_CONN_BIG), buf[65536];
	int peer, turns;

	test_conn_open(base, &t, &peer);
	CHECK(conn_flush(t.c, 1)); /* nothing to write */
	conn_write(t.c, big, TEST_CONN_BIG);
	test_conn_turns(base, 1);
	CHECK(conn_output_len(t.c) > 0); /* the socket is full */
	CHECK(!conn_flush(t.c, 1));
	for (turns = 0; turns < 100000 && t.drained == 0; turns++) {
		while (read(peer, buf, sizeof buf) > 0)
			;
		test_conn_turns(base, 1);
	}
	CHECK_EQ_INT(t.drained, 1);
	CHECK_EQ_INT(t.end, 0);
	conn_free(t.c);
	close(peer);

	test_conn_open(base, &t, &peer);
	conn_write(t.c, big, TEST_CONN_BIG);
	test_conn_turns(base, 1);
	CHECK(!conn_flush(t.c, 1));
	event_base_loop(base, EVLOOP_ONCE); /* the peer never reads */
	CHECK_EQ_INT(t.end, CONN_TIMEOUT);
	CHECK_EQ_INT(t.drained, 0);
	conn_free(t.c);
	close(peer);
	free(big);
}

/* Nothing read for the idle time ends the connection. */
static void
test_conn_idle(struct event_base *base)
{
	struct test_conn t;
	int peer;

	test_conn_open(base, &t, &peer);
	conn_set_idle(t.c, 1);
	event_base_loop(base, EVLOOP_ONCE);
	CHECK_EQ_INT(t.end, CONN_TIMEOUT);
	conn_free(t.c);
	close(peer);
}

/* The bytes buffered as input on t, as a string in buf. */
static void
test_conn_input(struct test_conn *t, char *buf, size_t size)
{
	struct evbuffer *in = conn_input(t->c);
	size_t n = in != NULL ? evbuffer_get_length(in) : 0;

	CHECK(n < size);
	if (n > 0)
		evbuffer_remove(in, buf, n);
	buf[n] = '\0';
	conn_input_done(t->c);
}

/*
 * Two connections take turns with the loop's spare buffers: each reads
 * and writes its own bytes only, and one freed with output queued takes
 * it along.
 */
static void
test_conn_spares(struct event_base *base)
{
	struct test_conn a, b;
	char buf[16];
	int pa, pb;

	test_conn_open(base, &a, &pa);
	test_conn_open(base, &b, &pb);
	conn_write(a.c, "one\n", 4);
	test_conn_turns(base, 1);
	conn_write(b.c, "two\n", 4);
	test_conn_turns(base, 1);
	CHECK_EQ_INT(read(pa, buf, sizeof buf), 4);
	CHECK(memcmp(buf, "one\n", 4) == 0);
	CHECK_EQ_INT(read(pb, buf, sizeof buf), 4);
	CHECK(memcmp(buf, "two\n", 4) == 0);
	CHECK_EQ_INT(write(pa, "x\n", 2), 2);
	test_conn_turns(base, 1);
	test_conn_input(&a, buf, sizeof buf);
	CHECK(strcmp(buf, "x\n") == 0);
	CHECK_EQ_INT(write(pb, "yz\n", 3), 3);
	test_conn_turns(base, 1);
	test_conn_input(&b, buf, sizeof buf);
	CHECK(strcmp(buf, "yz\n") == 0);
	conn_write(a.c, "left\n", 5);
	conn_free(a.c);
	conn_write(b.c, "b\n", 2);
	test_conn_turns(base, 1);
	CHECK_EQ_INT(read(pb, buf, sizeof buf), 2);
	CHECK(memcmp(buf, "b\n", 2) == 0);
	conn_free(b.c);
	close(pa);
	close(pb);
}

int
main(void)
{
	struct event_base *base = event_base_new();

	test_spares = conn_spares_new();

	test_conn_write(base);
	test_conn_read_eof(base);
	test_conn_read_max(base);
	test_conn_flush(base);
	test_conn_idle(base);
	test_conn_spares(base);
	conn_spares_free(test_spares);
	conn_spares_free(NULL);
	event_base_free(base);
	return UNIT_END();
}
