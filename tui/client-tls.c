/*
 * The client core's TLS: one OpenSSL context per client, a bufferevent that
 * connects and does the handshake, and a readable reason when it fails.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "client-internal.h"
#include "errcode.h"
#include "log.h"
#include "xmalloc.h"

/* The oldest OpenSSL error queued, as "what: reason" the caller frees. */
static char *
client_tls_errstr(const char *what)
{
	char buf[256];
	unsigned long e = ERR_get_error();

	if (e == 0)
		return xasprintf("TLS: %s", what);
	ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return xasprintf("TLS: %s: %s", what, buf);
}

/* True if host is an IPv4 or IPv6 literal (no SNI; checked as an IP). */
static bool
client_tls_is_ip(const char *host)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, buf) == 1 ||
	       inet_pton(AF_INET6, host, buf) == 1;
}

/*
 * Makes ssl check that the certificate names host (its IP for a literal,
 * else its DNS name, no partial wildcards) and sends SNI for names.
 */
static int
client_tls_set_host(SSL *ssl, const char *host)
{
	if (client_tls_is_ip(host))
		return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
		                                     host) == 1
		           ? 0
		           : -1;
	SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (SSL_set1_host(ssl, host) != 1 ||
	    SSL_set_tlsext_host_name(ssl, host) != 1)
		return -1;
	return 0;
}

/* A session object for c's context, set up for c's host; NULL if bad. */
static SSL *
client_tls_ssl(struct client *c)
{
	SSL *ssl = SSL_new(c->tls_ctx);

	if (ssl == NULL)
		fatal("%s: SSL_new failed", __func__);
	if (client_tls_set_host(ssl, c->host) < 0) {
		SSL_free(ssl);
		return NULL;
	}
	return ssl;
}

/* Loads the CAs to trust: ca_file only, or the system's. */
static int
client_tls_load_cas(SSL_CTX *ctx, const char *ca_file, char **err)
{
	char *what;

	if (ca_file == NULL) {
		if (SSL_CTX_set_default_verify_paths(ctx) == 1)
			return 0;
		*err = client_tls_errstr("cannot load the system CAs");
		return -ERR_NOT_FOUND;
	}
	if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) == 1)
		return 0;
	what = xasprintf("cannot load CA file %s", ca_file);
	*err = client_tls_errstr(what);
	free(what);
	return -ERR_NOT_FOUND;
}

/* A verifying client context (TLS 1.2 at least), checked against c->host. */
int
client_tls_enable(struct client *c, const char *ca_file, char **err)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *probe;
	int r;

	if (ctx == NULL)
		fatal("%s: SSL_CTX_new failed", __func__);
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if ((r = client_tls_load_cas(ctx, ca_file, err)) < 0) {
		SSL_CTX_free(ctx);
		return r;
	}
	SSL_CTX_free(c->tls_ctx);
	c->tls_ctx = ctx;
	/* A host the checks refuse fails now, not at every reconnect. */
	if ((probe = client_tls_ssl(c)) == NULL) {
		*err = client_tls_errstr("cannot check the server name");
		SSL_CTX_free(c->tls_ctx);
		c->tls_ctx = NULL;
		return -ERR_BAD_REQUEST;
	}
	SSL_free(probe);
	return 0;
}

/* Frees the context (NULL is fine). */
void
client_tls_free(struct client *c)
{
	SSL_CTX_free(c->tls_ctx);
	c->tls_ctx = NULL;
}

/*
 * A bufferevent that, once bufferevent_socket_connect has made the TCP
 * connection, does the handshake; BEV_EVENT_CONNECTED comes after it.
 */
struct bufferevent *
client_tls_bufferevent(struct client *c)
{
	SSL *ssl = client_tls_ssl(c);
	struct bufferevent *bev;

	if (ssl == NULL) /* client_tls_enable checked this host */
		fatal("%s: cannot set up the server name", __func__);
	bev = bufferevent_openssl_socket_new(c->base, -1, ssl,
	                                     BUFFEREVENT_SSL_CONNECTING,
	                                     BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL)
		fatal("%s: bufferevent_openssl_socket_new failed", __func__);
	/* A server going away without close_notify is an EOF, not an error. */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

/*
 * Why the TLS session on c->bev failed, in buf: a certificate the checks
 * refused, else OpenSSL's first error. False if TLS saw no error.
 */
bool
client_tls_error(struct client *c, char *buf, size_t len)
{
	SSL *ssl;
	unsigned long e;
	long vr;
	char why[256];

	if (c->tls_ctx == NULL || c->bev == NULL ||
	    (ssl = bufferevent_openssl_get_ssl(c->bev)) == NULL)
		return false;
	vr = SSL_get_verify_result(ssl);
	e = bufferevent_get_openssl_error(c->bev);
	while (bufferevent_get_openssl_error(c->bev) != 0)
		; /* the rest say the same thing less precisely */
	ERR_clear_error();
	if (vr != X509_V_OK) {
		snprintf(buf, len, "TLS: certificate verify failed: %s",
		         X509_verify_cert_error_string(vr));
		return true;
	}
	if (e == 0)
		return false;
	ERR_error_string_n(e, why, sizeof(why));
	snprintf(buf, len, "TLS: %s", why);
	return true;
}
