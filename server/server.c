#include "server.h"

#include <errno.h>
#include <sched.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <json-c/json.h>

#include "codec.h"
#include "dbpool.h"
#include "log.h"
#include "guard.h"
#include "presence.h"
#include "relay.h"
#include "session.h"
#include "tls.h"
#include "worker.h"
#include "xmalloc.h"

#define SERVER_ACCEPT_PAUSE_MS 100   /* listeners rest when out of fds */
#define SERVER_ACCEPT_PAUSES_LOG 100 /* pauses a log line, after the first */
/*
 * Descriptors natterd keeps besides its clients' (listeners, store and
 * Redis connections, the loops' wake-ups, TLS and log files), with room.
 */
#define SERVER_FDS_OWN 256
/* The soft limit asked for when the hard one is unlimited (fs.nr_open). */
#define SERVER_FDS_UNLIMITED ((rlim_t)1 << 20)

/* A "went offline" notice waiting for the user's friend list. */
struct server_offline {
	struct server *srv;
	int64_t uid;
	char *name;
	struct store_ids friends;
	int err;
};

/* Formats a socket address's host into host (INET6_ADDRSTRLEN bytes). */
static int
server_addr_host(const struct sockaddr *sa, char *host)
{
	int port = 0;

	snprintf(host, INET6_ADDRSTRLEN, "?");

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;
		evutil_inet_ntop(AF_INET, &in->sin_addr, host,
		                 INET6_ADDRSTRLEN);
		port = ntohs(in->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		evutil_inet_ntop(AF_INET6, &in6->sin6_addr, host,
		                 INET6_ADDRSTRLEN);
		port = ntohs(in6->sin6_port);
	}
	return port;
}

/* Formats a socket address as "host:port". */
static void
server_addr_string(const struct sockaddr *sa, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];
	int port = server_addr_host(sa, host);

	snprintf(buf, len, "%s:%d", host, port);
}

/* Whether host is one of the proxies of proxy-from. */
static bool
server_is_proxy(const struct server *srv, const char *host)
{
	char **p;

	for (p = srv->proxies; p != NULL && *p != NULL; p++) {
		if (strcmp(*p, host) == 0)
			return true;
	}
	return false;
}

/*
 * A new client: counted against the limits (behind a proxy, once its
 * PROXY header names the client), no Nagle (small frames), then round
 * robin to a worker.
 */
static void
server_accept(struct server *srv, evutil_socket_t fd, struct sockaddr *sa,
              bool tls)
{
	char host[INET6_ADDRSTRLEN];
	unsigned flags = tls ? SESSION_TLS : 0;
	int one = 1, port;

	if (srv->accept_pauses > 0) {
		log_info("accepting connections again after %u pauses",
		         srv->accept_pauses);
		srv->accept_pauses = 0;
	}
	port = server_addr_host(sa, host);
	if (server_is_proxy(srv, host))
		flags |= SESSION_PROXY;
	else if (!guard_conn_open(srv->guard, host)) {
		guard_refused_log(&srv->refusals, host);
		evutil_closesocket(fd);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	trim_accepted(&srv->trim);
	worker_adopt(srv->workers[srv->next_worker], fd, host, port, flags);
	srv->next_worker = (srv->next_worker + 1) % srv->nworkers;
}

static void
server_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
                 struct sockaddr *sa, int salen, void *arg)
{
	(void)l;
	(void)salen;
	server_accept(arg, fd, sa, false);
}

static void
server_accept_tls_cb(struct evconnlistener *l, evutil_socket_t fd,
                     struct sockaddr *sa, int salen, void *arg)
{
	(void)l;
	(void)salen;
	server_accept(arg, fd, sa, true);
}

/* A burst of connections over: the memory its logins freed goes back. */
static void
server_trim_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	(void)fd;
	(void)what;
	if (trim_due(&srv->trim))
		trim_release();
}

/* The pause is over: the listeners take connections again. */
static void
server_accept_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	(void)fd;
	(void)what;
	if (srv->listener != NULL)
		evconnlistener_enable(srv->listener);
	if (srv->tls_listener != NULL)
		evconnlistener_enable(srv->tls_listener);
}

/*
 * accept() failed for a reason libevent does not retry. Out of descriptors
 * (or memory), the pending connection would fail again at once, so the
 * listeners rest for SERVER_ACCEPT_PAUSE_MS instead of spinning: the
 * clients wait in the backlog while sessions end and free descriptors.
 * The first pause is logged, then one in SERVER_ACCEPT_PAUSES_LOG (10 s).
 */
static void
server_accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct server *srv = arg;
	int err = EVUTIL_SOCKET_ERROR();
	struct timeval pause = {0, SERVER_ACCEPT_PAUSE_MS * 1000};

	(void)l;
	if (event_pending(srv->accept_pause, EV_TIMEOUT, NULL))
		return;
	if (srv->accept_pauses++ == 0)
		log_warn("cannot accept a connection: %s; pausing for %d ms",
		         evutil_socket_error_to_string(err),
		         SERVER_ACCEPT_PAUSE_MS);
	else if (srv->accept_pauses % SERVER_ACCEPT_PAUSES_LOG == 0)
		log_warn("cannot accept a connection: %s; paused %u times "
		         "for %d ms so far",
		         evutil_socket_error_to_string(err), srv->accept_pauses,
		         SERVER_ACCEPT_PAUSE_MS);
	if (srv->listener != NULL)
		evconnlistener_disable(srv->listener);
	if (srv->tls_listener != NULL)
		evconnlistener_disable(srv->tls_listener);
	event_add(srv->accept_pause, &pause);
}

/* Serializes ev once per worker and hands it to each. */
void
server_deliver(struct server *srv, const int64_t *uids, size_t n,
               struct json_object *ev, uint64_t except)
{
	size_t len;
	char *frame;

	if (n == 0)
		return;
	frame = codec_frame(ev, &len);
	server_deliver_frame(srv, uids, n, frame, len, except, true, NULL);
	free(frame);
}

/* Each worker gets its own copy: a job belongs to one thread. */
void
server_deliver_frame(struct server *srv, const int64_t *uids, size_t n,
                     const char *frame, size_t len, uint64_t except, bool relay,
                     const struct worker *skip)
{
	int i;

	if (n == 0)
		return;
	for (i = 0; i < srv->nworkers; i++)
		if (srv->workers[i] != skip)
			worker_deliver(srv->workers[i], frame, len, uids, n,
			               except);
	if (relay && srv->relay != NULL)
		relay_publish(srv->relay, uids, n, frame, len);
}

void
server_deliver_many(struct server *srv, const struct relay_ms_item *v, size_t n,
                    const int64_t *uids, size_t nuids, const char *region,
                    size_t rlen)
{
	int i;

	if (n == 0)
		return;
	for (i = 0; i < srv->nworkers; i++)
		worker_deliver_many(srv->workers[i], v, n, uids, nuids, region,
		                    rlen);
}

void
server_resync(struct server *srv)
{
	int i;

	for (i = 0; i < srv->nworkers; i++)
		worker_resync(srv->workers[i]);
}

/* DB thread: who should hear that the user went offline. */
static void
server_offline_run(struct store *st, void *arg)
{
	struct server_offline *o = arg;

	o->err = store_friend_ids(st, o->uid, &o->friends);
}

/* Loop thread: tell them, unless the user came back meanwhile. */
static void
server_offline_done(void *arg)
{
	struct server_offline *o = arg;
	struct json_object *ev, *user;

	if (o->err == 0 && !presence_online(o->srv->presence, o->uid)) {
		ev = codec_event("presence");
		user = json_object_new_object();
		codec_set_int(user, "id", o->uid);
		codec_set_string(user, "name", o->name);
		json_object_object_add(ev, "user", user);
		codec_set_bool(ev, "online", false);
		server_deliver(o->srv, o->friends.ids, o->friends.n, ev, 0);
		json_object_put(ev);
	}
	free(o->friends.ids);
	free(o->name);
	free(o);
}

void
server_notify_offline(struct server *srv, struct loopq *q, int64_t uid,
                      const char *name)
{
	struct server_offline *o = xcalloc(1, sizeof *o);

	o->srv = srv;
	o->uid = uid;
	o->name = xstrdup(name);
	dbpool_submit(srv->db, server_offline_run, server_offline_done, o, q);
}

void
server_quiesced(struct server *srv)
{
	pthread_mutex_lock(&srv->lock);
	srv->quiesced++;
	pthread_cond_signal(&srv->cond);
	pthread_mutex_unlock(&srv->lock);
}

/*
 * SIGTERM: stop accepting, stop reading requests, let the DB pool finish
 * every write in flight (their replies are posted to the workers), then
 * flush every client and stop.
 */
static void
server_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct server *srv = arg;
	int i;

	(void)what;
	log_info("signal %d: shutting down", (int)sig);
	evconnlistener_free(srv->listener);
	srv->listener = NULL;
	if (srv->tls_listener != NULL)
		evconnlistener_free(srv->tls_listener);
	srv->tls_listener = NULL;
	for (i = 0; i < srv->nworkers; i++)
		worker_quiesce(srv->workers[i]);
	pthread_mutex_lock(&srv->lock);
	while (srv->quiesced < srv->nworkers)
		pthread_cond_wait(&srv->cond, &srv->lock);
	pthread_mutex_unlock(&srv->lock);
	if (srv->relay != NULL)
		relay_leave(srv->relay); /* waits: no more DB jobs from it */
	dbpool_free(srv->db);
	srv->db = NULL;
	for (i = 0; i < srv->nworkers; i++)
		worker_finish(srv->workers[i]);
	event_base_loopbreak(srv->base);
}

/*
 * Parses ADDR:PORT ("[v6]:PORT" too). Unlike evutil_parse_sockaddr_port
 * alone, it takes port 0: any free port, which the log line then names.
 */
static int
server_parse_addr(const char *spec, struct sockaddr_storage *ss, int *sslen)
{
	const char *colon = strrchr(spec, ':');
	char host[128], *end;
	long port;

	if (colon == NULL || (size_t)(colon - spec) >= sizeof host)
		return -1;
	memcpy(host, spec, (size_t)(colon - spec));
	host[colon - spec] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || end == colon + 1 || port < 0 || port > 65535)
		return -1;
	if (evutil_parse_sockaddr_port(host, (struct sockaddr *)ss, sslen) < 0)
		return -1;
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
	return 0;
}

/* Binds a listening socket on spec and logs where it is; NULL on failure. */
static struct evconnlistener *
server_listen(struct server *srv, const char *spec, evconnlistener_cb cb,
              const char *what)
{
	struct evconnlistener *l;
	struct sockaddr_storage ss;
	int sslen = sizeof ss;
	socklen_t len = sizeof ss;
	char where[64];

	if (server_parse_addr(spec, &ss, &sslen) < 0) {
		log_error("bad listen address %s", spec);
		return NULL;
	}
	l = evconnlistener_new_bind(srv->base, cb, srv,
	                            LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE,
	                            512, (struct sockaddr *)&ss, sslen);
	if (l == NULL) {
		log_error("cannot listen on %s", spec);
		return NULL;
	}
	evconnlistener_set_error_cb(l, server_accept_error_cb);
	getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&ss, &len);
	server_addr_string((struct sockaddr *)&ss, where, sizeof where);
	log_info("node %s %s on %s", srv->node, what, where);
	return l;
}

/* The plain listener, and the TLS one if configured. */
static int
server_listen_all(struct server *srv)
{
	const struct config *cfg = srv->cfg;
	char *err = NULL;

	if (cfg->tls_listen != NULL) {
		if (cfg->tls_cert == NULL || cfg->tls_key == NULL) {
			log_error("tls-listen needs tls-cert and tls-key");
			return -1;
		}
		if ((srv->tls = tls_new(cfg->tls_cert, cfg->tls_key, &err)) ==
		    NULL) {
			log_error("tls: %s", err);
			free(err);
			return -1;
		}
		srv->tls_listener =
		    server_listen(srv, cfg->tls_listen, server_accept_tls_cb,
		                  "listening (TLS)");
		if (srv->tls_listener == NULL)
			return -1;
	}
	srv->listener =
	    server_listen(srv, cfg->listen, server_accept_cb, "listening");
	return srv->listener != NULL ? 0 : -1;
}

/* The node-wide limits on connections and failed logins. */
static struct guard *
server_guard_new(const struct config *cfg)
{
	struct guard_limits lim = {(unsigned)cfg->max_clients,
	                           (unsigned)cfg->max_clients_per_addr,
	                           (unsigned)cfg->login_max_failures,
	                           (unsigned)cfg->login_max_failures_addr,
	                           (unsigned)cfg->login_lock_seconds,
	                           (unsigned)cfg->auth_rate};

	return guard_new(&lim);
}

/* The store URL: --store, or the SQLite file in the data folder. */
static char *
server_store_url(const struct config *cfg)
{
	if (cfg->store != NULL)
		return xstrdup(cfg->store);
	if (mkdir(cfg->data, 0700) < 0 && errno != EEXIST) {
		log_error("cannot create %s: %s", cfg->data, strerror(errno));
		return NULL;
	}
	return xasprintf("sqlite:%s/natter.db", cfg->data);
}

/* Splits proxy-from ("a,b c") into a NULL-terminated list. */
static char **
server_split_proxies(const char *spec)
{
	char **v = xcalloc(1, sizeof *v), *copy, *tok, *save = NULL;
	size_t n = 0;

	if (spec == NULL)
		return v;
	copy = xstrdup(spec);
	for (tok = strtok_r(copy, ", \t", &save); tok != NULL;
	     tok = strtok_r(NULL, ", \t", &save)) {
		v = xrealloc(v, (n + 2) * sizeof *v);
		v[n++] = xstrdup(tok);
		v[n] = NULL;
	}
	free(copy);
	return v;
}

/*
 * The cores this process may run on (taskset, cgroups): the default number
 * of workers, so a pinned server does not pay for threads it cannot run.
 */
static int
server_cpus(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
		return CPU_COUNT(&set);
	return (int)sysconf(_SC_NPROCESSORS_ONLN);
}

/* The node's name: --node, or the host name. */
static void
server_node_name(struct server *srv)
{
	if (srv->cfg->node != NULL)
		snprintf(srv->node, sizeof srv->node, "%s", srv->cfg->node);
	else if (gethostname(srv->node, sizeof srv->node - 1) < 0)
		snprintf(srv->node, sizeof srv->node, "natterd");
}

/*
 * Raises the soft descriptor limit (never lowers it) to what --max-clients
 * needs, up to the hard limit, as redis-server does: the soft default of
 * shells and services, 1024, would stop a node at about a thousand
 * clients where the hard one allows far more.
 */
static void
server_raise_nofile(const struct config *cfg)
{
	struct rlimit rl;
	rlim_t want, was;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	want = cfg->max_clients == 0
	           ? rl.rlim_max
	           : (rlim_t)cfg->max_clients + SERVER_FDS_OWN;
	if (want > rl.rlim_max) {
		log_warn("the hard descriptor limit, %llu, is below "
		         "--max-clients %ld and natterd's own %d: past it, new "
		         "clients wait",
		         (unsigned long long)rl.rlim_max, cfg->max_clients,
		         SERVER_FDS_OWN);
		want = rl.rlim_max;
	}
	if (want == RLIM_INFINITY)
		want = SERVER_FDS_UNLIMITED;
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= want)
		return;
	was = rl.rlim_cur;
	rl.rlim_cur = want;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		log_warn(
		    "cannot raise the descriptor limit from %llu to %llu: %s",
		    (unsigned long long)was, (unsigned long long)want,
		    strerror(errno));
	else
		log_info("descriptor limit raised from %llu to %llu",
		         (unsigned long long)was, (unsigned long long)want);
}

/*
 * SIGTERM and SIGINT go to server_signal_cb from the end of server_init
 * on: a supervisor (or a test) that stops natterd the moment it logs
 * "listening on" (server_start) must get the graceful exit, not the
 * default action, which it got when the handlers came after
 * server_start. Before, while the store opens and migrates, the default
 * action still stops a natterd that hangs there at once.
 */
static void
server_signals(struct server *srv)
{
	srv->sig_term = evsignal_new(srv->base, SIGTERM, server_signal_cb, srv);
	srv->sig_int = evsignal_new(srv->base, SIGINT, server_signal_cb, srv);
	evsignal_add(srv->sig_term, NULL);
	evsignal_add(srv->sig_int, NULL);
}

int
server_init(struct server *srv, const struct config *cfg)
{
	struct store_options opt = {.pwhash_ops =
	                                (unsigned long long)cfg->pwhash_ops,
	                            .pwhash_mem = (size_t)cfg->pwhash_mem};
	char *url, *err = NULL;
	int i, cpus;

	memset(srv, 0, sizeof *srv);
	srv->cfg = cfg;
	pthread_mutex_init(&srv->lock, NULL);
	pthread_cond_init(&srv->cond, NULL);
	server_node_name(srv);
	server_raise_nofile(cfg);
	srv->proxies = server_split_proxies(cfg->proxy_from);
	if ((srv->base = event_base_new()) == NULL)
		fatal("%s: event_base_new failed", __func__);
	srv->accept_pause =
	    evtimer_new(srv->base, server_accept_resume_cb, srv);
	srv->trim_tick =
	    event_new(srv->base, -1, EV_PERSIST, server_trim_cb, srv);
	srv->presence =
	    presence_new((unsigned)cfg->rate_limit, (unsigned)cfg->rate_burst);
	srv->guard = server_guard_new(cfg);
	if ((url = server_store_url(cfg)) == NULL)
		return -1;
	srv->db = dbpool_new(url, &opt, (int)cfg->db_threads, &err);
	free(url);
	if (srv->db == NULL) {
		log_error("store: %s", err != NULL ? err : "cannot open");
		free(err);
		return -1;
	}
	cpus = server_cpus();
	/* On one core the writer thread only costs switches (dbpool.h). */
	dbpool_loop_writes(srv->db, cpus == 1);
	srv->nworkers = cfg->workers > 0 ? (int)cfg->workers : cpus;
	if (srv->nworkers < 1)
		srv->nworkers = 1;
	srv->workers = xcalloc((size_t)srv->nworkers, sizeof *srv->workers);
	for (i = 0; i < srv->nworkers; i++)
		srv->workers[i] = worker_new(srv, i);
	server_signals(srv);
	return 0;
}

/* Binds the listeners, then starts the workers and the relay. */
static int
server_start(struct server *srv)
{
	struct timeval tick = {0, TRIM_TICK_MS * 1000};
	int i;

	if (server_listen_all(srv) < 0)
		return -1;
	event_add(srv->trim_tick, &tick);
	for (i = 0; i < srv->nworkers; i++)
		worker_start(srv->workers[i]);
	if (srv->cfg->redis != NULL) {
		srv->relay = relay_new(srv, srv->cfg->redis);
		relay_start(srv->relay);
	}
	return 0;
}

/* Everything the server made, after the threads are gone. */
void
server_teardown(struct server *srv)
{
	int i;

	relay_free(srv->relay);
	if (srv->listener != NULL)
		evconnlistener_free(srv->listener);
	if (srv->tls_listener != NULL)
		evconnlistener_free(srv->tls_listener);
	dbpool_free(srv->db);
	for (i = 0; i < srv->nworkers; i++)
		worker_free(srv->workers[i]);
	free(srv->workers);
	presence_free(srv->presence);
	guard_free(srv->guard);
	for (i = 0; srv->proxies != NULL && srv->proxies[i] != NULL; i++)
		free(srv->proxies[i]);
	free(srv->proxies);
	tls_free(srv->tls);
	if (srv->sig_term != NULL)
		event_free(srv->sig_term);
	if (srv->sig_int != NULL)
		event_free(srv->sig_int);
	if (srv->accept_pause != NULL)
		event_free(srv->accept_pause);
	if (srv->trim_tick != NULL)
		event_free(srv->trim_tick);
	event_base_free(srv->base);
	pthread_cond_destroy(&srv->cond);
	pthread_mutex_destroy(&srv->lock);
}

int
server_run(const struct config *cfg)
{
	struct server srv;
	int i, r = 1;

	signal(SIGPIPE, SIG_IGN);
	if (server_init(&srv, cfg) == 0 && server_start(&srv) == 0) {
		event_base_dispatch(srv.base);
		for (i = 0; i < srv.nworkers; i++)
			worker_join(srv.workers[i]);
		relay_free(srv.relay);
		srv.relay = NULL;
		log_info("stopped");
		r = 0;
	}
	server_teardown(&srv);
	return r;
}
