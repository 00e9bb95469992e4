#ifndef NATTER_TUI_CLIENT_H
#define NATTER_TUI_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

struct event_base;
struct json_object;
struct roster;

/*
 * The client core: one connection to natterd on the caller's event loop,
 * shared by the line-mode client and the full-screen UI.
 *
 * It says hello on each connect, pings every heartbeat/2, tracks requests
 * by "req", keeps the friends/groups roster, and after a login fetches the
 * roster and syncs: every message reaches on_event once (deduplicated by
 * conv+seq) and is acked. Sends go through an outbox that survives
 * reconnects (same cmid, so the server stores them once). Credentials are
 * kept in memory only, to log in again after a reconnect; reconnecting
 * backs off from 1 s doubling to 60 s with jitter, and can be turned off.
 *
 * Callbacks run on the loop. A callback may issue requests but must not
 * free the client; schedule that on the loop instead.
 */
struct client;

enum client_state {
	CLIENT_DISCONNECTED, /* no connection (maybe waiting to reconnect) */
	CLIENT_CONNECTING,   /* TCP connect in progress */
	CLIENT_CONNECTED,    /* hello answered; not logged in */
	CLIENT_LOGGING_IN,   /* login sent or roster/sync after it running */
	CLIENT_LOGGED_IN,    /* logged in, roster loaded, first sync done */
};

/*
 * A reply to one request: the whole reply object (borrowed for the call;
 * "ok" true or false), or NULL if the connection dropped before it came.
 */
typedef void (*client_reply_cb)(void *ud, struct json_object *reply);

struct client_callbacks {
	/*
	 * Events: "msg" (after dedupe, from push or sync), "presence",
	 * "friend_added", "group_joined", "group_left" (its group gains a
	 * "name" from the roster when known), "error", and any unknown type.
	 * Server pings are not passed on. ev is borrowed for the call.
	 */
	void (*on_event)(void *ud, const char *type, struct json_object *ev);
	/* State changes; why is a short reason for a disconnect, or NULL. */
	void (*on_state)(void *ud, enum client_state st, const char *why);
	void *ud;
};

/* A client for host:port (not yet connecting). cbs is copied. */
struct client *client_new(struct event_base *base, const char *host,
                          const char *port, const struct client_callbacks *cbs);
/*
 * Frees the client and its connection. Pending reply and send callbacks
 * are dropped without being called. NULL is a no-op.
 */
void client_free(struct client *c);

/*
 * Connects over TLS (1.2 or later) from now on. The server's certificate
 * must chain to a CA in ca_file (PEM), or to the system's CAs if ca_file
 * is NULL, and must name the host given to client_new (its IP address if
 * that is an IP literal; SNI is sent for names). A certificate refused
 * fails the connection with a reason "TLS: certificate verify failed:
 * ..." given to on_state. Returns 0, or -ERR_NOT_FOUND (CAs not loadable)
 * or -ERR_BAD_REQUEST (unusable host name) with a message in *err that the
 * caller frees.
 */
int client_tls_enable(struct client *c, const char *ca_file, char **err);

/* Reconnect after a drop (default true). The batch client turns it off. */
void client_set_reconnect(struct client *c, bool on);

/*
 * Resolves the address (a blocking getaddrinfo, so call it before the loop
 * runs; numeric addresses and "localhost" do not touch the network) and
 * starts connecting. Returns 0, or -ERR_NOT_FOUND if the name does not
 * resolve. Later reconnects reuse the addresses.
 */
int client_connect(struct client *c);

enum client_state client_state(const struct client *c);
const char *client_state_name(enum client_state st);

/*
 * Sends req (takes it, whatever the result) with a fresh "req" field;
 * cb(ud, reply) runs when the reply comes (cb may be NULL). Replies update
 * the roster before cb runs. Returns 0, or -ERR_UNAVAILABLE when not
 * connected (cb is not called then).
 */
int client_request(struct client *c, struct json_object *req,
                   client_reply_cb cb, void *ud);

/*
 * Logs in and keeps name/password in memory to log in again after a
 * reconnect. cb gets the login reply: an error reply at once, or the ok
 * reply once the roster is loaded and the first sync delivered; NULL if
 * the connection dropped. Returns 0, -ERR_UNAVAILABLE if not connected,
 * -ERR_BAD_REQUEST if a login is already running.
 */
int client_login(struct client *c, const char *name, const char *password,
                 client_reply_cb cb, void *ud);

/*
 * Logs out: forgets the credentials, roster and dedupe state, and fails
 * queued sends (their callbacks get a not_authenticated error reply).
 */
int client_logout(struct client *c, client_reply_cb cb, void *ud);

/*
 * Queues a message to a user or group (exactly one of to_user, to_group
 * non-zero) and sends it when logged in. cb gets the final reply: ok
 * ({"msg":{conv,seq,ts}}) or an error reply other than rate_limited and
 * unavailable, which are retried with backoff, as are sends cut by a
 * disconnect. Returns 0, or -ERR_NOT_AUTHENTICATED if no user is logged in
 * (nor being logged in again).
 */
int client_send(struct client *c, int64_t to_user, int64_t to_group,
                const char *body, client_reply_cb cb, void *ud);

/*
 * client_send that also copies the message's cmid (OUTBOX_CMID_LEN hex
 * digits and a NUL) to cmid, so the UI can match the send's own echo.
 */
int client_send_cmid(struct client *c, int64_t to_user, int64_t to_group,
                     const char *body, client_reply_cb cb, void *ud,
                     char *cmid);

/*
 * Milliseconds until the next reconnection attempt, or -1 if none is
 * scheduled (connected, or reconnecting turned off).
 */
long client_reconnect_in_ms(const struct client *c);
/* Drops the connection (if any) and connects again at once. */
void client_reconnect_now(struct client *c);

/*
 * Runs sync until the server has nothing more; cb(ud, n) then gets the
 * number of new messages delivered, or n < 0 (-ERR_UNAVAILABLE) if the
 * connection dropped. Returns 0 or -ERR_UNAVAILABLE if not logged in.
 */
int client_sync(struct client *c, void (*cb)(void *ud, int n), void *ud);

/* The roster (borrowed; changes as events arrive). */
const struct roster *client_roster(const struct client *c);
/* The logged-in user (0 / NULL if none). */
int64_t client_self_id(const struct client *c);
const char *client_self_name(const struct client *c);
/* Sends not yet acknowledged. */
unsigned client_outbox_count(const struct client *c);
/* True if requests are awaiting replies (acks, syncs, sends...). */
bool client_busy(const struct client *c);

#endif
