#ifndef NATTER_TUI_BATCH_H
#define NATTER_TUI_BATCH_H

#include <stdbool.h>

struct event_base;

/*
 * The line-mode client: /commands from stdin, one event or reply per line
 * on stdout. Formats and exit status are described at the top of batch.c.
 */
struct batch_options {
	const char *host;
	const char *port;
	const char *user; /* default NAME for "/login PASSWORD", or NULL */
	bool interactive; /* a human at a terminal: reconnect, plain text */
	bool tls;         /* connect over TLS */
	const char *ca;   /* with tls: CA file to trust, NULL: the system's */
};

/* Runs until stdin ends (or /quit); returns the process exit status. */
int batch_run(struct event_base *base, const struct batch_options *opts);

#endif
