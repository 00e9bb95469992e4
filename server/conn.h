#ifndef NATTER_SERVER_CONN_H
#define NATTER_SERVER_CONN_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/util.h>

struct event_base;
struct evbuffer;
struct tls;

/*
 * A client's byte stream on one worker loop. A plain socket is driven by
 * two events of its own: reads into an input buffer, and writes that are
 * tried in the same loop turn as the data was queued (all of a turn's
 * frames in one writev), waiting for the socket only when it is full. Its
 * buffers and its write event exist only while they hold or wait for
 * bytes, so an idle connection costs this struct and nothing else. A TLS
 * connection is a libevent bufferevent behind the same calls. Touched only on
 * its loop's thread.
 *
 * Callbacks may free the connection; conn never touches it after one.
 */
struct conn;

/*
 * Empty buffers and write events kept for reuse by the connections of one
 * loop: otherwise every message would make and free an input buffer on its
 * way in and an output buffer on its way out (about 4 % of natterd's
 * instructions a message, doc/performance.md), and a write event. Bounded;
 * idle connections still hold none. Touched only on the loop's thread.
 */
struct conn_spares;

/* Spares for one loop's connections. */
struct conn_spares *conn_spares_new(void);
/* Frees them, after every connection that used them; NULL is a no-op. */
void conn_spares_free(struct conn_spares *sp);

/* Why a connection ended (conn_cbs.end). */
#define CONN_EOF 1     /* the peer closed */
#define CONN_ERROR 2   /* the socket failed */
#define CONN_TIMEOUT 3 /* nothing read for the idle time, or a flush stuck */

struct conn_cbs {
	void (*read)(struct conn *c, void *arg); /* input arrived */
	void (*end)(struct conn *c, int why, void *arg);
	void (*drained)(struct conn *c, void *arg); /* conn_flush is done */
};

/*
 * A connection for the connected socket fd (taken); it reads once
 * conn_set_reading says so. tls: NULL for plain TCP, else the context that
 * accepts a TLS session. spares (base's loop's, or NULL) and cbs are
 * borrowed for the connection's life.
 */
struct conn *conn_new(struct event_base *base, evutil_socket_t fd,
                      struct tls *tls, struct conn_spares *spares,
                      const struct conn_cbs *cbs, void *arg);
/* Closes the socket and drops unsent output; NULL is a no-op. */
void conn_free(struct conn *c);

/* The loop priority of its events (worker.h's WORKER_PRIO_*). */
void conn_set_priority(struct conn *c, int prio);
/* Reading pauses while max bytes are buffered unread (0: no limit). */
void conn_set_read_max(struct conn *c, size_t max);
/* No input for seconds ends the connection (0: never). */
void conn_set_idle(struct conn *c, int seconds);
/* Starts or stops reading. */
void conn_set_reading(struct conn *c, bool on);

/* Buffered input, or NULL if there is none. */
struct evbuffer *conn_input(struct conn *c);
/*
 * The reader took what it could from conn_input: reading resumes if it
 * had paused at the limit, and an empty buffer is given back.
 */
void conn_input_done(struct conn *c);

/* Queues len bytes of data for the peer. */
void conn_write(struct conn *c, const void *data, size_t len);
/* Bytes queued and not yet written. */
size_t conn_output_len(const struct conn *c);

/*
 * Stops reading and reports drained once every queued byte is written, or
 * end(CONN_TIMEOUT) after seconds without progress. Returns true (and
 * reports nothing) if there is nothing to write.
 */
bool conn_flush(struct conn *c, int seconds);

#endif
