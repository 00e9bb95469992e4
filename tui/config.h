#ifndef NATTER_TUI_CONFIG_H
#define NATTER_TUI_CONFIG_H

#include <stdbool.h>

/*
 * natter's settings file: "key value" lines, '#' comments. Keys: server
 * HOST:PORT, user NAME, colours on|off, time_format STRFTIME, roster
 * on|off, tls on|off, ca FILE (the CAs TLS trusts instead of the
 * system's). Command-line flags override it. No password is ever read from
 * or written to it.
 */
struct config {
	char *server;
	char *user;
	char *time_format;
	bool colours;
	bool roster;
	bool tls;
	char *ca; /* PEM file of CAs for TLS, or NULL for the system's */
};

/* Defaults: no server, user or CA file, colours and roster on, TLS off,
 * "%H:%M". */
void config_init(struct config *cfg);
void config_clear(struct config *cfg);

/*
 * Reads path into cfg. Returns 0, or -1 if it cannot be opened (said on
 * stderr unless quiet_missing and it does not exist). A bad line is
 * reported on stderr and skipped.
 */
int config_read(const char *path, struct config *cfg, bool quiet_missing);

/* $XDG_CONFIG_HOME/natter/config (or ~/.config/natter/config); NULL if
 * neither variable is set. The caller frees it. */
char *config_default_path(void);

/* Replaces *slot with a copy of v. */
void config_set(char **slot, const char *v);

#endif
