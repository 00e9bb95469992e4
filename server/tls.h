#ifndef NATTER_SERVER_TLS_H
#define NATTER_SERVER_TLS_H

#include <event2/util.h>

struct bufferevent;
struct event_base;

/*
 * The optional TLS listener's side of OpenSSL: one server context made at
 * start-up (read-only afterwards, so every worker may use it), and a
 * bufferevent that does the handshake and encryption for a session.
 */
struct tls;

/*
 * A context for the certificate chain in cert and the private key in key
 * (PEM files). NULL and a message in *err (caller frees) on failure.
 */
struct tls *tls_new(const char *cert, const char *key, char **err);
void tls_free(struct tls *t);

/* A bufferevent that accepts a TLS session on fd (taken). */
struct bufferevent *tls_bufferevent(struct tls *t, struct event_base *base,
                                    evutil_socket_t fd);

#endif
