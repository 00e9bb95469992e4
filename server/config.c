#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

enum config_kind { CONFIG_STR, CONFIG_LONG };

/* One key: its name (also the flag --name), where it lives, its limits. */
struct config_key {
	const char *name;
	enum config_kind kind;
	size_t offset;
	long min, max;
	const char *arg;
	const char *help;
};

#define CONFIG_S(n, f, a, h)                                                   \
	{                                                                      \
		n, CONFIG_STR, offsetof(struct config, f), 0, 0, a, h          \
	}
#define CONFIG_L(n, f, lo, hi, h)                                              \
	{                                                                      \
		n, CONFIG_LONG, offsetof(struct config, f), lo, hi, "N", h     \
	}

static const struct config_key config_keys[] = {
    CONFIG_S("listen", listen, "ADDR:PORT", "address to listen on"),
    CONFIG_S("tls-listen", tls_listen, "ADDR:PORT",
             "address of the TLS listener (default: none)"),
    CONFIG_S("tls-cert", tls_cert, "FILE", "TLS certificate chain (PEM)"),
    CONFIG_S("tls-key", tls_key, "FILE", "TLS private key (PEM)"),
    CONFIG_S("data", data, "DIR", "data folder (SQLite file)"),
    CONFIG_S("store", store, "URL",
             "sqlite:PATH or mysql://USER:PASS@HOST:PORT/DB"),
    CONFIG_S("redis", redis, "HOST:PORT", "Redis relay (cluster)"),
    CONFIG_S("proxy-from", proxy_from, "ADDR,...",
             "proxies (nginx proxy_protocol) whose connections start with "
             "a PROXY v1 header"),
    CONFIG_S("node", node, "NAME", "node name (default: host name)"),
    CONFIG_S("log-level", log_level, "LEVEL", "debug, info, warn or error"),
    CONFIG_L("workers", workers, 0, 256, "worker threads (0: cores)"),
    CONFIG_L("db-threads", db_threads, 1, 256, "database threads"),
    CONFIG_L("heartbeat", heartbeat, 1, 3600,
             "seconds between pings; idle clients are cut after twice this"),
    CONFIG_L("max-frame", max_frame, 1024, 16 << 20, "largest frame, bytes"),
    CONFIG_L("max-frame-login", max_frame_login, 256, 16 << 20,
             "largest frame before login, bytes"),
    CONFIG_L("max-depth", max_depth, 2, 64, "deepest JSON nesting"),
    CONFIG_L("login-timeout", login_timeout, 0, 3600,
             "seconds to log in after connecting (0: no limit)"),
    CONFIG_L("idle-timeout", idle_timeout, 0, 86400,
             "seconds of silence before a client is cut (0: 2 x heartbeat)"),
    CONFIG_L("max-body", max_body, 1, 65536, "largest message body, bytes"),
    CONFIG_L("rate-limit", rate_limit, 0, 1000000,
             "requests per second per user (0: off)"),
    CONFIG_L("rate-burst", rate_burst, 0, 1000000, "rate limit bucket size"),
    CONFIG_L("output-cap", output_cap, 4096, 1L << 30,
             "bytes queued to a client before it is cut off"),
    CONFIG_L("output-soft-cap", output_soft_cap, 0, 1L << 30,
             "bytes that may stay queued to a client for output-soft-seconds"),
    CONFIG_L("output-soft-seconds", output_soft_seconds, 1, 3600,
             "seconds a client may stay above output-soft-cap"),
    CONFIG_L("max-clients", max_clients, 0, 10000000,
             "connections per node (0: no limit)"),
    CONFIG_L("max-clients-per-addr", max_clients_per_addr, 0, 10000000,
             "connections per client address (0: no limit)"),
    CONFIG_L("max-sessions-per-user", max_sessions_per_user, 0, 10000,
             "sessions of one user on a node (0: no limit)"),
    CONFIG_L("login-max-failures", login_max_failures, 0, 100000,
             "failed logins for one name before it is locked (0: never)"),
    CONFIG_L("login-max-failures-addr", login_max_failures_addr, 0, 100000,
             "failed logins from one address before it is locked (0: never)"),
    CONFIG_L("auth-rate", auth_rate, 0, 100000,
             "password checks (register, login) per second per address, "
             "bursts of twice that (0: no limit)"),
    CONFIG_L("login-lock-seconds", login_lock_seconds, 1, 86400,
             "failure window and lock length, seconds"),
    CONFIG_L("sync-max", sync_max, 1, 100000, "largest sync/history page"),
    CONFIG_L("pwhash-ops", pwhash_ops, 0, 1000,
             "argon2id passes (0: libsodium interactive)"),
    CONFIG_L("pwhash-mem", pwhash_mem, 0, 1L << 32,
             "argon2id memory, bytes (0: libsodium interactive)"),
};
#define CONFIG_NKEYS (sizeof config_keys / sizeof config_keys[0])

/* The defaults: one node on 127.0.0.1:6000, SQLite in ./natter-data. */
void
config_init(struct config *c)
{
	memset(c, 0, sizeof *c);
	c->listen = xstrdup("127.0.0.1:6000");
	c->data = xstrdup("./natter-data");
	c->log_level = xstrdup("info");
	c->db_threads = 2;
	c->heartbeat = 30;
	c->max_frame = 65536;
	c->max_frame_login = 4096;
	c->max_depth = 16;
	c->login_timeout = 15;
	c->max_body = 4096;
	c->rate_limit = 100;
	c->rate_burst = 200;
	c->output_cap = 4 << 20;
	c->output_soft_cap = 1 << 20;
	c->output_soft_seconds = 10;
	c->max_clients = 10000;
	c->max_clients_per_addr = 256;
	c->max_sessions_per_user = 16;
	c->login_max_failures = 10;
	c->login_max_failures_addr = 30;
	c->login_lock_seconds = 60;
	c->auth_rate = 20;
	c->sync_max = 1000;
}

/* Frees every string setting. */
void
config_clear(struct config *c)
{
	size_t i;

	for (i = 0; i < CONFIG_NKEYS; i++) {
		if (config_keys[i].kind == CONFIG_STR)
			free(*(char **)((char *)c + config_keys[i].offset));
	}
	free(c->config_file);
	memset(c, 0, sizeof *c);
}

/* The key called name, or NULL. */
static const struct config_key *
config_find(const char *name)
{
	size_t i;

	for (i = 0; i < CONFIG_NKEYS; i++) {
		if (strcmp(config_keys[i].name, name) == 0)
			return &config_keys[i];
	}
	return NULL;
}

/* Stores value under key k; -1 with a message if it is out of range. */
static int
config_set(struct config *c, const struct config_key *k, const char *value,
           const char *where)
{
	char *end;
	long v;

	if (k->kind == CONFIG_STR) {
		char **slot = (char **)((char *)c + k->offset);
		free(*slot);
		*slot = xstrdup(value);
		return 0;
	}
	errno = 0;
	v = strtol(value, &end, 10);
	if (errno != 0 || end == value || *end != '\0' || v < k->min ||
	    v > k->max) {
		fprintf(stderr,
		        "natterd: %s: %s must be a number from %ld to "
		        "%ld\n",
		        where, k->name, k->min, k->max);
		return -1;
	}
	*(long *)((char *)c + k->offset) = v;
	return 0;
}

/* Parses one "key value" line of the file; blank and # lines pass. */
static int
config_file_line(struct config *c, char *line, const char *where)
{
	const struct config_key *k;
	char *key, *value, *end;

	key = line + strspn(line, " \t");
	if (*key == '#' || *key == '\0' || *key == '\n')
		return 0;
	value = key + strcspn(key, " \t\n");
	if (*value != '\0')
		*value++ = '\0';
	value += strspn(value, " \t");
	end = value + strlen(value);
	while (end > value && strchr(" \t\r\n", end[-1]) != NULL)
		*--end = '\0';
	if ((k = config_find(key)) == NULL) {
		fprintf(stderr, "natterd: %s: unknown key %s\n", where, key);
		return -1;
	}
	return config_set(c, k, value, where);
}

/* Reads a natterd.conf file. */
static int
config_read_file(struct config *c, const char *path)
{
	char line[4096], where[PATH_MAX + 32];
	unsigned lineno = 0;
	FILE *f;
	int r = 0;

	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "natterd: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (r == 0 && fgets(line, sizeof line, f) != NULL) {
		snprintf(where, sizeof where, "%s:%u", path, ++lineno);
		r = config_file_line(c, line, where);
	}
	fclose(f);
	return r;
}

/* Prints the usage text generated from the key table. */
void
config_usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: natterd [--config FILE] [--KEY VALUE ...]\n"
	           "       natterd --help | --version\n\n");
	for (i = 0; i < CONFIG_NKEYS; i++) {
		fprintf(f, "  --%-24s %-10s %s\n", config_keys[i].name,
		        config_keys[i].arg, config_keys[i].help);
	}
}

/* Applies the flags; pass 0 only looks for --config, --help, --version. */
static int
config_flags(struct config *c, int argc, char **argv, int pass)
{
	const struct config_key *k;
	const char *name;
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			config_usage(stdout);
			return 1;
		}
		if (strcmp(argv[i], "--version") == 0) {
			printf("natterd %s\n", NATTER_VERSION);
			return 1;
		}
		name = strncmp(argv[i], "--", 2) == 0 ? argv[i] + 2 : "";
		k = config_find(name);
		if (k == NULL && strcmp(name, "config") != 0) {
			fprintf(stderr,
			        "natterd: unknown option %s (see --help)\n",
			        argv[i]);
			return -1;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "natterd: %s needs a value\n", argv[i]);
			return -1;
		}
		i++;
		if (k == NULL && pass == 0) {
			free(c->config_file);
			c->config_file = xstrdup(argv[i]);
		} else if (k != NULL && pass == 1 &&
		           config_set(c, k, argv[i], "command line") < 0) {
			return -1;
		}
	}
	return 0;
}

/* Defaults, then the file, then the flags over both. */
int
config_load(struct config *c, int argc, char **argv)
{
	int r;

	if ((r = config_flags(c, argc, argv, 0)) != 0)
		return r;
	if (c->config_file != NULL && config_read_file(c, c->config_file) < 0)
		return -1;
	return config_flags(c, argc, argv, 1);
}
