/* natter: command line, configuration file, then the line-mode client. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "batch.h"
#include "log.h"
#include "xmalloc.h"

#define MAIN_DEFAULT_SERVER "127.0.0.1:6000"

/* What the command line and the config file decide. */
struct main_opts {
	char *server; /* HOST:PORT */
	char *user;
	bool batch;
	bool verbose;
};

/* Usage on stdout (--help) or stderr (mistakes). */
static void
main_usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: natter [--config FILE] [--server HOST:PORT] [--user NAME]\n"
	    "              [--batch] [-v] [--version] [--help]\n"
	    "\n"
	    "  --config FILE       read \"server HOST:PORT\" and \"user NAME\" "
	    "lines\n"
	    "  --server HOST:PORT  natterd to use (default %s;\n"
	    "                      IPv6 as [ADDR]:PORT)\n"
	    "  --user NAME         lets \"/login PASSWORD\" omit the name\n"
	    "  --batch             read /commands from stdin, print one line "
	    "per\n"
	    "                      event or reply; no reconnecting\n"
	    "  -v, --verbose       log debugging details to stderr\n"
	    "\n"
	    "Without --batch natter runs the same line mode on the terminal\n"
	    "(the full-screen UI is coming) and reconnects when dropped.\n"
	    "\n"
	    "Commands:\n"
	    "/register NAME PASSWORD | /login NAME PASSWORD | /logout\n"
	    "/add NAME | /remove NAME | /friends\n"
	    "/msg NAME|#GROUP TEXT... (a friend wins over a group of the same "
	    "name)\n"
	    "/group create NAME [DESC...] | /group join NAME | /group leave "
	    "NAME\n"
	    "/group members NAME | /groups | /history NAME [N] | /sync\n"
	    "/sleep SECONDS | /quit | /help\n"
	    "\n"
	    "Output: every command ends with one line \"ok <cmd> ...\" or\n"
	    "\"error <cmd> <code>: <message>\"; events print as lines such as\n"
	    "\"msg <conv> <seq> <ts> <from>: <body>\", \"presence NAME "
	    "online\".\n"
	    "Control characters in text are escaped (\\n, \\t, \\e, \\xHH).\n"
	    "\n"
	    "Exit status (--batch): 0 when stdin ends and every /msg was\n"
	    "acknowledged; 1 if the connection failed or was lost, or the "
	    "server\n"
	    "refused a /msg; 2 for a bad command line.\n",
	    MAIN_DEFAULT_SERVER);
}

/* Replaces *slot with a copy of v. */
static void
main_set(char **slot, const char *v)
{
	free(*slot);
	*slot = xstrdup(v);
}

/* Strips leading and trailing blanks in place. */
static char *
main_trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' ||
	                 e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* "key value" lines, # comments; unknown keys are warned about. */
static int
main_read_config(const char *path, struct main_opts *o)
{
	FILE *f = fopen(path, "r");
	char buf[1024];
	int lineno = 0;

	if (f == NULL) {
		fprintf(stderr, "natter: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(buf, sizeof(buf), f) != NULL) {
		char *key = main_trim(buf), *val;

		lineno++;
		if (*key == '\0' || *key == '#')
			continue;
		val = key + strcspn(key, " \t");
		if (*val != '\0')
			*val++ = '\0';
		val = main_trim(val);
		if (strcmp(key, "server") == 0 && *val != '\0')
			main_set(&o->server, val);
		else if (strcmp(key, "user") == 0 && *val != '\0')
			main_set(&o->user, val);
		else
			fprintf(stderr, "natter: %s:%d: unknown setting %s\n",
			        path, lineno, key);
	}
	fclose(f);
	return 0;
}

/* Splits HOST:PORT or [V6]:PORT into freshly allocated parts. */
static int
main_split_server(const char *s, char **host, char **port)
{
	const char *colon;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || close[1] != ':' || close[2] == '\0')
			return -1;
		*host = xstrndup(s + 1, (size_t)(close - s - 1));
		*port = xstrdup(close + 2);
		return 0;
	}
	colon = strrchr(s, ':');
	if (colon == NULL || colon == s || colon[1] == '\0' ||
	    memchr(s, ':', (size_t)(colon - s)) != NULL)
		return -1;
	*host = xstrndup(s, (size_t)(colon - s));
	*port = xstrdup(colon + 1);
	return 0;
}

/* getopt_long; --config is read first so the flags override it. */
static int
main_parse_args(int argc, char **argv, struct main_opts *o)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"server", required_argument, NULL, 's'},
	    {"user", required_argument, NULL, 'u'},
	    {"batch", no_argument, NULL, 'b'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	char *server = NULL, *user = NULL;
	int ch;

	while ((ch = getopt_long(argc, argv, "c:s:u:bvVh", longopts, NULL)) !=
	       -1) {
		switch (ch) {
		case 'c':
			if (main_read_config(optarg, o) < 0)
				return 2;
			break;
		case 's':
			main_set(&server, optarg);
			break;
		case 'u':
			main_set(&user, optarg);
			break;
		case 'b':
			o->batch = true;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'V':
			printf("natter %s\n", NATTER_VERSION);
			exit(0);
		case 'h':
			main_usage(stdout);
			exit(0);
		default:
			main_usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		main_usage(stderr);
		return 2;
	}
	if (server != NULL) {
		free(o->server);
		o->server = server;
	}
	if (user != NULL) {
		free(o->user);
		o->user = user;
	}
	return 0;
}

/* Parses options and runs the line-mode client. */
int
main(int argc, char **argv)
{
	struct main_opts o = {NULL, NULL, false, false};
	struct batch_options bo;
	struct event_base *base;
	char *host = NULL, *port = NULL;
	int r;

	if ((r = main_parse_args(argc, argv, &o)) != 0)
		return r;
	if (o.server == NULL)
		o.server = xstrdup(MAIN_DEFAULT_SERVER);
	if (main_split_server(o.server, &host, &port) < 0) {
		fprintf(stderr,
		        "natter: bad server address %s (want HOST:PORT)\n",
		        o.server);
		return 2;
	}
	log_set_level(o.verbose ? LOG_DEBUG : LOG_ERROR);
	signal(SIGPIPE, SIG_IGN); /* a dead server is an event, not a signal */
	if ((base = event_base_new()) == NULL)
		fatal("cannot create the event loop");
	bo.host = host;
	bo.port = port;
	bo.user = o.user;
	bo.interactive = !o.batch;
	r = batch_run(base, &bo);
	event_base_free(base);
	free(host);
	free(port);
	free(o.server);
	free(o.user);
	return r;
}
