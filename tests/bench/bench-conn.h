#ifndef NATTER_BENCH_BENCH_CONN_H
#define NATTER_BENCH_BENCH_CONN_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event;
struct event_base;
struct evbuffer;
struct bench_conn;

/* What a connection reports to the workload that owns it. */
enum bench_ev {
	BENCH_EV_READY,      /* logged in / registered with the server */
	BENCH_EV_DONE,       /* a setup step (pairing, joining) finished */
	BENCH_EV_REGISTERED, /* natter: one pre-registration was answered */
	BENCH_EV_MSG,        /* a chat message arrived: body, len */
	BENCH_EV_ACK,        /* the server acknowledged one of our sends */
	BENCH_EV_FAIL,       /* a request failed: body is the reason */
	BENCH_EV_CLOSED,     /* the connection failed or was closed */
};

typedef void (*bench_conn_cb)(struct bench_conn *c, enum bench_ev ev,
                              const char *body, size_t len);

/*
 * One protocol's side of a connection. pair() makes sender able to reach
 * receiver and reports DONE on one of the two (the one named by the
 * return value); join() puts c in the group (create: c makes it) and
 * reports DONE on c; send() sends body to c's target.
 */
struct bench_proto {
	const char *name;
	void *(*state_new)(void);
	void (*state_free)(void *ps);
	void (*login)(struct bench_conn *c);
	struct bench_conn *(*pair)(struct bench_conn *sender,
	                           struct bench_conn *receiver);
	void (*join)(struct bench_conn *c, const char *group, bool create);
	void (*send)(struct bench_conn *c, const char *body, size_t len);
	void (*read)(struct bench_conn *c, struct evbuffer *in);
};

#define BENCH_CONN_ACKS 1024 /* send times kept while awaiting an ack */

/*
 * A client connection. Its layout is public: the protocol modules fill in
 * the target and ids, the workloads keep their own data in owner/idx.
 */
struct bench_conn {
	const struct bench_proto *proto;
	int fd; /* -1 once closed */
	struct event *rev, *wev;
	struct evbuffer *in, *out;
	bool connected;
	bool write_due; /* wev activated to run this loop turn */
	bench_conn_cb cb;
	void *owner;
	int idx;
	char name[40];
	char target[48];   /* MQTT topic, IRC nick or channel */
	int64_t target_id; /* natter user or group id */
	bool target_group;
	bool registered; /* natter: log in without registering first */
	bool no_login;   /* report READY once connected, send nothing */
	bool ready;
	bool open;
	uint32_t req;
	uint64_t nsent;
	void *ps; /* the protocol's per-connection state */
	uint64_t acks[BENCH_CONN_ACKS];
	unsigned ack_head, ack_tail, ack_lost;
};

/*
 * Opens a connection to server from source address src (port chosen by
 * the kernel at connect time, so many connections share one source), with
 * TCP_NODELAY, and starts the protocol's login once connected. Returns
 * NULL if the socket cannot be made (the error is printed).
 */
struct bench_conn *
bench_conn_new(struct event_base *base, const struct bench_proto *proto,
               const struct sockaddr_in *server, const struct sockaddr_in *src,
               const char *name, bench_conn_cb cb, void *owner, int idx);
void bench_conn_free(struct bench_conn *c);

/* Shuts c's socket (no more events or callbacks); bench_conn_free later. */
void bench_conn_close(struct bench_conn *c);

/* Appends data to c's output (protocol modules write through this). */
void bench_conn_write(struct bench_conn *c, const void *data, size_t len);

/* Sends body and remembers when, so send-to-ack latency can be measured. */
void bench_conn_send(struct bench_conn *c, const char *body, size_t len,
                     uint64_t now);

/* The send time of the oldest unacknowledged send, popped; 0 if none. */
uint64_t bench_conn_ack_pop(struct bench_conn *c);

#endif
