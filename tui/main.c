/*
 * natter: command line and configuration file, then the full-screen UI
 * (on a terminal) or the line-mode client (--batch, --line, or when
 * stdin or stdout is not a terminal).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "batch.h"
#include "config.h"
#include "log.h"
#include "ui.h"
#include "width.h"
#include "xmalloc.h"

#define MAIN_DEFAULT_SERVER "127.0.0.1:6000"

/* What the command line and the config file decide. */
struct main_opts {
	struct config cfg;
	bool batch;
	bool line;
	bool verbose;
	bool config_given;
	char *log_path;
};

/* Usage on stdout (--help) or stderr (mistakes). */
static void
main_usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: natter [--config FILE] [--server HOST:PORT] [--user NAME]\n"
	    "              [--tls | --no-tls] [--ca FILE]\n"
	    "              [--batch | --line] [--no-roster] [--no-colour]\n"
	    "              [-v] [--log FILE] [--version] [--help]\n"
	    "\n"
	    "  --config FILE       settings (default "
	    "$XDG_CONFIG_HOME/natter/config):\n"
	    "                      server, user, colours, time_format, "
	    "roster,\n"
	    "                      tls, ca\n"
	    "  --server HOST:PORT  natterd to use (default %s;\n"
	    "                      IPv6 as [ADDR]:PORT)\n"
	    "  --user NAME         lets \"/login PASSWORD\" omit the name\n"
	    "  --tls               connect over TLS, verifying the server's\n"
	    "                      certificate and name (--no-tls: plain)\n"
	    "  --ca FILE           with TLS, trust the CAs in FILE (PEM)\n"
	    "                      instead of the system's; implies --tls\n"
	    "  --batch             read /commands from stdin, print one line "
	    "per\n"
	    "                      event or reply; no reconnecting\n"
	    "  --line              the line mode, interactively (reconnects)\n"
	    "  --no-roster         start with the roster panel hidden\n"
	    "  --no-colour         no colours\n"
	    "  -v, --verbose       log debugging details (full screen: to\n"
	    "                      $XDG_STATE_HOME/natter/natter.log)\n"
	    "  --log FILE          with -v, the full-screen client's log file\n"
	    "\n"
	    "On a terminal natter is a full-screen client (/help inside);\n"
	    "otherwise, or with --line, it runs the line mode and reconnects\n"
	    "when dropped.\n"
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
	    "acknowledged; 1 if the connection failed (TLS verification "
	    "too) or\n"
	    "was lost, or the server "
	    "refused a /msg; 2 for a bad command line.\n",
	    MAIN_DEFAULT_SERVER);
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

/* Reads the default config file unless --config named one. */
static void
main_default_config(struct main_opts *o)
{
	char *path;

	if (o->config_given || (path = config_default_path()) == NULL)
		return;
	config_read(path, &o->cfg, true);
	free(path);
}

/* Flags that do not take part in the config-then-flags order. */
static int
main_flag(int ch, struct main_opts *o)
{
	switch (ch) {
	case 'b':
		o->batch = true;
		break;
	case 'l':
		o->line = true;
		break;
	case 'R':
		o->cfg.roster = false;
		break;
	case 'C':
		o->cfg.colours = false;
		break;
	case 'v':
		o->verbose = true;
		break;
	case 'L':
		config_set(&o->log_path, optarg);
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
	return 0;
}

/*
 * --tls/--no-tls (tls 1/0, -1 if neither) and --ca over the config file;
 * --ca alone asks for TLS.
 */
static void
main_tls_flags(struct main_opts *o, int tls, const char *ca)
{
	if (ca != NULL)
		config_set(&o->cfg.ca, ca);
	if (tls >= 0)
		o->cfg.tls = tls == 1;
	else if (ca != NULL)
		o->cfg.tls = true;
}

/* getopt_long; the config file is read first so the flags override it. */
static int
main_parse_args(int argc, char **argv, struct main_opts *o)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"server", required_argument, NULL, 's'},
	    {"user", required_argument, NULL, 'u'},
	    {"tls", no_argument, NULL, 'T'},
	    {"no-tls", no_argument, NULL, 'P'},
	    {"ca", required_argument, NULL, 'A'},
	    {"batch", no_argument, NULL, 'b'},
	    {"line", no_argument, NULL, 'l'},
	    {"no-roster", no_argument, NULL, 'R'},
	    {"no-colour", no_argument, NULL, 'C'},
	    {"no-color", no_argument, NULL, 'C'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"log", required_argument, NULL, 'L'},
	    {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	char *server = NULL, *user = NULL, *ca = NULL;
	int ch, r = 0, tls = -1;

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--config") == 0 ||
		    strncmp(argv[i], "--config=", 9) == 0 ||
		    strcmp(argv[i], "-c") == 0)
			o->config_given = true;
	if (!o->config_given)
		main_default_config(o);
	while (r == 0 && (ch = getopt_long(argc, argv, "c:s:u:bvVh", longopts,
	                                   NULL)) != -1) {
		if (ch == 'c')
			r = config_read(optarg, &o->cfg, false) < 0 ? 2 : 0;
		else if (ch == 's')
			config_set(&server, optarg);
		else if (ch == 'u')
			config_set(&user, optarg);
		else if (ch == 'T' || ch == 'P')
			tls = ch == 'T';
		else if (ch == 'A')
			config_set(&ca, optarg);
		else
			r = main_flag(ch, o);
	}
	if (r == 0 && optind < argc) {
		main_usage(stderr);
		r = 2;
	}
	if (server != NULL)
		config_set(&o->cfg.server, server);
	if (user != NULL)
		config_set(&o->cfg.user, user);
	main_tls_flags(o, tls, ca);
	free(server);
	free(user);
	free(ca);
	return r;
}

/* -v in full screen: a log file, in a private directory. */
static char *
main_log_path(struct main_opts *o)
{
	const char *x = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	char *dir, *path;

	if (!o->verbose)
		return NULL;
	if (o->log_path != NULL)
		return xstrdup(o->log_path);
	if (x != NULL && *x == '/')
		dir = xasprintf("%s/natter", x);
	else if (home != NULL && *home != '\0') {
		path = xasprintf("%s/.local", home);
		mkdir(path, 0700);
		free(path);
		path = xasprintf("%s/.local/state", home);
		mkdir(path, 0700);
		free(path);
		dir = xasprintf("%s/.local/state/natter", home);
	} else
		return xstrdup("natter.log");
	mkdir(dir, 0700);
	path = xasprintf("%s/natter.log", dir);
	free(dir);
	return path;
}

/* The full-screen client. */
static int
main_run_ui(struct event_base *base, struct main_opts *o, const char *host,
            const char *port)
{
	struct ui_options uo;
	char *log_path = main_log_path(o);
	int r;

	if (width_init() < 0) {
		fprintf(stderr, "natter: no UTF-8 locale; try --line\n");
		free(log_path);
		return 2;
	}
	memset(&uo, 0, sizeof(uo));
	uo.host = host;
	uo.port = port;
	uo.user = o->cfg.user;
	uo.time_format = o->cfg.time_format;
	uo.colours = o->cfg.colours;
	uo.roster = o->cfg.roster;
	uo.log_path = log_path;
	uo.tls = o->cfg.tls;
	uo.ca = o->cfg.ca;
	r = ui_run(base, &uo);
	free(log_path);
	return r;
}

/* Parses options and runs the full-screen or the line-mode client. */
int
main(int argc, char **argv)
{
	struct main_opts o;
	struct batch_options bo;
	struct event_base *base;
	char *host = NULL, *port = NULL;
	int r;

	memset(&o, 0, sizeof(o));
	config_init(&o.cfg);
	if ((r = main_parse_args(argc, argv, &o)) != 0)
		goto done;
	if (o.cfg.server == NULL)
		o.cfg.server = xstrdup(MAIN_DEFAULT_SERVER);
	if (main_split_server(o.cfg.server, &host, &port) < 0) {
		fprintf(stderr,
		        "natter: bad server address %s (want HOST:PORT)\n",
		        o.cfg.server);
		r = 2;
		goto done;
	}
	log_set_level(o.verbose ? LOG_DEBUG : LOG_ERROR);
	signal(SIGPIPE, SIG_IGN); /* a dead server is an event, not a signal */
	if ((base = event_base_new()) == NULL)
		fatal("cannot create the event loop");
	/* The redraw runs after the turn's other events (ui.c). */
	event_base_priority_init(base, 3);
	if (!o.batch && !o.line && isatty(STDIN_FILENO) &&
	    isatty(STDOUT_FILENO))
		r = main_run_ui(base, &o, host, port);
	else {
		bo.host = host;
		bo.port = port;
		bo.user = o.cfg.user;
		bo.interactive = !o.batch;
		bo.tls = o.cfg.tls;
		bo.ca = o.cfg.ca;
		r = batch_run(base, &bo);
	}
	event_base_free(base);
done:
	free(host);
	free(port);
	free(o.log_path);
	config_clear(&o.cfg);
	return r;
}
