#ifndef NATTER_SERVER_SESSION_H
#define NATTER_SERVER_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include <event2/util.h>

struct json_object;
struct worker;

/*
 * One client connection, owned by its worker and touched only on that
 * worker's thread. Reference-counted: the connection holds one reference
 * and every job in flight another; the last unref frees it on the next
 * loop turn, so nothing vanishes under a running callback.
 */
struct session {
	uint64_t id;
	unsigned refs;
	struct worker *w;
	struct conn *conn; /* NULL once the socket is gone */
	struct frame_reader *fr;
	char addr[48]; /* the client's address, for limits */
	bool counted;  /* addr is counted in the guard */
	bool proxied;  /* the PROXY header is still to come */
	unsigned short port; /* the client's, for logs */
	struct event *login_timer;
	int64_t soft_since_ms; /* when output went over the soft cap */
	int64_t uid;           /* 0: not logged in */
	char *name;
	bool busy;       /* reading stops: a non-send is with the DB pool, a
	                    frame is held, or the client is being cut */
	unsigned writes; /* sends with the group-commit writer (pipelined) */
	char *held;      /* a frame waiting for those sends: replies in order */
	size_t held_len;
	bool flooded;             /* to be cut off once its sends are back */
	bool closed;              /* no more requests, replies or events */
	unsigned strikes;         /* rate-limited requests in the window */
	int64_t strikes_since_ms; /* when the window began */
	TAILQ_ENTRY(session) entry;
	struct session *unext; /* next session in the worker's user index */
};

/* How a connection came in (session_new's flags). */
#define SESSION_TLS 0x1   /* from the TLS listener: handshake first */
#define SESSION_PROXY 0x2 /* from a proxy: a PROXY v1 header comes first */

/* A session on w for the connected socket fd (taken) from host:port. */
struct session *session_new(struct worker *w, evutil_socket_t fd,
                            const char *host, int port, unsigned flags);
void session_ref(struct session *s);
void session_unref(struct session *s);

/* Closes now, dropping unsent output. reason is logged. */
void session_close(struct session *s, const char *reason);
/* Stops reading, sends what is queued (a few seconds at most), closes. */
void session_close_flush(struct session *s, const char *reason);

/* Queues obj (borrowed) as one frame; cuts a client past its output cap. */
void session_send(struct session *s, struct json_object *obj);
void session_send_raw(struct session *s, const char *frame, size_t len);
/* A reply as frame text: checked against the cap like session_send. */
void session_send_text(struct session *s, const char *frame, size_t len);

/*
 * Handles buffered frames until one goes to the general DB pool, too many
 * sends are in flight, or none is left.
 */
void session_resume(struct session *s);

/*
 * Binds the session to a user. Returns whether the user just came online
 * (no other session on any node): then friends are to be told.
 */
bool session_login(struct session *s, int64_t uid, const char *name);
/* Unbinds it; friends hear of it if it was the user's last session. */
void session_logout(struct session *s);

#endif
