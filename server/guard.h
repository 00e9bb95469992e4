#ifndef NATTER_SERVER_GUARD_H
#define NATTER_SERVER_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"

/*
 * Protection against abusive clients that needs a node-wide view: the
 * number of connections per client address and in all, and failed logins
 * per account name and per client address (brute force). An object behind
 * its own mutex, shared by the listener and the workers; addresses are the
 * client's real address (the PROXY protocol's, behind nginx).
 */
struct guard;

struct guard_limits {
	unsigned max_clients;          /* per node; 0: no limit */
	unsigned max_clients_per_addr; /* 0: no limit */
	unsigned max_fail_account;     /* failed logins before a lock */
	unsigned max_fail_addr;
	unsigned lock_seconds; /* failure window and lock length */
	unsigned auth_rate; /* password checks per second per address; 0: off */
};

struct guard *guard_new(const struct guard_limits *lim);
void guard_free(struct guard *g);

/* Counts a connection from addr in; false (not counted) if over a limit. */
bool guard_conn_open(struct guard *g, const char *addr);
void guard_conn_close(struct guard *g, const char *addr);
/*
 * Logs that a connection from addr was refused for too many clients: at
 * most one line a second for each l (one per thread: the listener's, each
 * worker's for proxied clients), since a client that reconnects in a loop
 * would fill the log; a line says how many it left out.
 */
void guard_refused_log(struct log_limit *l, const char *addr);

/*
 * Whether a login for name from addr may be tried now: false while either
 * is locked after too many failures (even the right password is refused).
 */
bool guard_login_allowed(struct guard *g, const char *name, const char *addr,
                         int64_t now_ms);
/*
 * Takes a token from addr's budget of password checks (register, login),
 * which cost a deliberately slow hash each. False if it is empty.
 */
bool guard_auth_take(struct guard *g, const char *addr, int64_t now_ms);

/* Entries held (addresses and names being counted): for tests and stats. */
size_t guard_size(struct guard *g);

/* Records the outcome of a password check. */
void guard_login_failed(struct guard *g, const char *name, const char *addr,
                        int64_t now_ms);
void guard_login_succeeded(struct guard *g, const char *name);

#endif
