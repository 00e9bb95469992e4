#include "tls.h"

#include <stdlib.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "log.h"
#include "xmalloc.h"

struct tls {
	SSL_CTX *ctx;
};

/* The last OpenSSL error as a string the caller frees. */
static char *
tls_error(const char *what, const char *path)
{
	char buf[256];

	ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
	return xasprintf("%s %s: %s", what, path, buf);
}

struct tls *
tls_new(const char *cert, const char *key, char **err)
{
	struct tls *t = xcalloc(1, sizeof *t);

	t->ctx = SSL_CTX_new(TLS_server_method());
	if (t->ctx == NULL)
		fatal("%s: SSL_CTX_new failed", __func__);
	/* TLS 1.2 at least; OpenSSL 3's defaults pick sane ciphers. */
	SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(t->ctx, SSL_OP_NO_RENEGOTIATION);
	if (SSL_CTX_use_certificate_chain_file(t->ctx, cert) != 1) {
		*err = tls_error("cannot load certificate", cert);
	} else if (SSL_CTX_use_PrivateKey_file(t->ctx, key, SSL_FILETYPE_PEM) !=
	           1) {
		*err = tls_error("cannot load key", key);
	} else if (SSL_CTX_check_private_key(t->ctx) != 1) {
		*err = tls_error("key does not match certificate", key);
	} else {
		return t;
	}
	tls_free(t);
	return NULL;
}

void
tls_free(struct tls *t)
{
	if (t == NULL)
		return;
	SSL_CTX_free(t->ctx);
	free(t);
}

struct bufferevent *
tls_bufferevent(struct tls *t, struct event_base *base, evutil_socket_t fd)
{
	SSL *ssl = SSL_new(t->ctx);

	if (ssl == NULL)
		fatal("%s: SSL_new failed", __func__);
	/* Frees ssl and closes fd with the bufferevent. */
	return bufferevent_openssl_socket_new(
	    base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
}
