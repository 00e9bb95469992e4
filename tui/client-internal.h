#ifndef NATTER_TUI_CLIENT_INTERNAL_H
#define NATTER_TUI_CLIENT_INTERNAL_H

/*
 * The client core's insides, shared by its modules: client.c (connection,
 * requests, events, login), client-sync.c (sync, pushes, acks) and
 * client-send.c (the outbox on the wire). Not for UI code.
 */
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "client.h"

struct bufferevent;
struct dedupe;
struct event;
struct frame_reader;
struct outbox;
struct ssl_ctx_st;

#define CLIENT_MAX_ADDRS 4
#define CLIENT_MAX_FRAME (16u << 20) /* replies (sync) can be large */
#define CLIENT_HEARTBEAT_DEFAULT 30
#define CLIENT_SYNC_LIMIT 500

/* A request awaiting its reply. */
struct client_pending {
	uint32_t req;
	struct json_object *req_obj; /* kept to apply replies to the roster */
	client_reply_cb cb;
	void *ud;
	struct client_pending *next;
};

/* Someone waiting for the current sync round to finish. */
struct client_sync_waiter {
	void (*cb)(void *ud, int n);
	void *ud;
	struct client_sync_waiter *next;
};

struct client {
	struct event_base *base;
	char *host, *port;
	struct ssl_ctx_st *tls_ctx; /* NULL: plain TCP */
	struct client_callbacks cbs;
	struct sockaddr_storage addrs[CLIENT_MAX_ADDRS];
	socklen_t addrlens[CLIENT_MAX_ADDRS];
	int naddrs, addr_i;

	bool reconnect;
	unsigned retry_attempt;
	struct event *retry_ev;

	enum client_state state;
	struct bufferevent *bev;
	bool tcp_up;
	struct frame_reader *fr;
	unsigned heartbeat;
	struct event *ping_ev;
	uint32_t next_req;
	struct client_pending *pending, *pending_tail;

	/* Credentials of the logged-in user, for logging in again. */
	char *name, *password;
	int64_t self_id;
	char *self_name;
	bool authed; /* login accepted on this connection */

	/* A login in progress (user's or automatic after a reconnect). */
	bool login_running;
	char *login_name, *login_password;
	unsigned login_wait; /* roster replies and sync still to come */
	client_reply_cb login_cb;
	void *login_ud;
	struct json_object *login_reply;

	struct roster *roster;
	struct dedupe *dedupe;

	bool sync_inflight, sync_again;
	int sync_count;
	struct client_sync_waiter *sync_waiters;

	struct outbox *outbox;
	struct event *send_ev; /* retry after rate_limited/unavailable */
	unsigned send_attempt;
	bool send_paused;
};

/* client.c */
void client_emit_event(struct client *c, const char *type,
                       struct json_object *ev);
/* Stops calling back for requests whose ud is ud (it is going away). */
void client_forget_ud(struct client *c, void *ud);

/* client-sync.c */
/* Starts a sync round now, or another one after the running one. */
void client_sync_start(struct client *c);
/* A pushed msg event: dedupe, deliver, ack or sync to fill a gap. */
void client_sync_push(struct client *c, struct json_object *ev);
/* Our own send got conv/seq: mark it seen so sync does not repeat it. */
void client_sync_sent(struct client *c, const char *conv, int64_t seq);
/* The connection dropped: waiters learn it, the round is over. */
void client_sync_abort(struct client *c);

/* client-tls.c */
/* A TLS bufferevent, not yet connected (bufferevent_socket_connect). */
struct bufferevent *client_tls_bufferevent(struct client *c);
/* Why TLS failed on c->bev, in buf; false if it was not TLS's doing. */
bool client_tls_error(struct client *c, char *buf, size_t len);
/* Frees the TLS context, if any. */
void client_tls_free(struct client *c);

/* client-send.c */
/* Sends every queued item (logged in, not backing off). */
void client_send_flush(struct client *c);
/* Answers every item with a synthetic error reply and empties the outbox. */
void client_send_fail_all(struct client *c, int code, const char *why);

#endif
