#ifndef NATTER_SERVER_CONFIG_H
#define NATTER_SERVER_CONFIG_H

#include <stddef.h>
#include <stdio.h>

/*
 * natterd's settings: defaults, then the file named by --config
 * (natterd.conf: "key value" lines, "#" comments), then the command line,
 * where every key is also a flag of the same name (--key value). Written
 * once before any thread starts; read-only afterwards.
 */
struct config {
	char *config_file;
	char *listen;     /* ADDR:PORT */
	char *tls_listen; /* ADDR:PORT of the TLS listener; NULL: none */
	char *tls_cert;   /* PEM certificate chain */
	char *tls_key;    /* PEM private key */
	char *data;       /* data folder */
	char *store;      /* store URL; NULL: sqlite:DATA/natter.db */
	char *redis;      /* HOST:PORT; NULL: single node */
	char *proxy_from; /* addresses that send a PROXY header; NULL: none */
	char *node;       /* node name; NULL: the host name */
	char *log_level;  /* debug|info|warn|error */
	long workers;     /* 0: number of cores */
	long db_threads;
	long heartbeat;       /* seconds */
	long max_frame;       /* bytes */
	long max_frame_login; /* bytes, before login */
	long max_depth;       /* JSON nesting */
	long login_timeout;   /* seconds to log in after connecting */
	long idle_timeout;    /* seconds; 0: twice the heartbeat */
	long max_body;        /* bytes */
	long rate_limit;      /* requests per second per user; 0: off */
	long rate_burst;
	long output_cap;      /* bytes queued to one session before it is cut */
	long output_soft_cap; /* bytes that may stay queued ... */
	long output_soft_seconds; /* ... for at most this long */
	long max_clients;         /* connections per node */
	long max_clients_per_addr;
	long max_sessions_per_user;
	long login_max_failures; /* per account, before a lock */
	long login_max_failures_addr;
	long login_lock_seconds;
	long auth_rate;  /* password checks per second per address */
	long sync_max;   /* largest sync/history page */
	long pwhash_ops; /* 0: libsodium's interactive defaults */
	long pwhash_mem;
};

/* Fills in the defaults. */
void config_init(struct config *c);
void config_clear(struct config *c);

/*
 * Reads the command line (and the --config file it names) into c. Returns
 * 0, 1 if the program should exit 0 (--help or --version printed), or -1
 * after printing an error to stderr.
 */
int config_load(struct config *c, int argc, char **argv);

/* Prints every key, its flag and its default (--help). */
void config_usage(FILE *f);

#endif
