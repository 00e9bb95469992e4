#include "relay.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <event2/event.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <json-c/json.h>

#include "codec.h"
#include "log.h"
#include "loopq.h"
#include "presence.h"
#include "relay-ms.h"
#include "server.h"
#include "thread.h"
#include "worker.h"
#include "xmalloc.h"

#define RELAY_CHANNEL "natter:cluster"
#define RELAY_TICK_SECONDS 3   /* lease refresh and checks */
#define RELAY_LEASE_SECONDS 10 /* a dead node is noticed within 10 + 3 s */
#define RELAY_ROUTE_SECONDS 30 /* routes are refreshed every 3 ticks */
#define RELAY_ROUTE_TICKS 3
#define RELAY_MAX_DEPTH 6
/* A batch of deliveries is published once it holds this many bytes. */
#define RELAY_BATCH_BYTES ((size_t)256 * 1024)

/* A user another node reports online. */
struct relay_user {
	int64_t uid;
	char *name;
	bool seen; /* in the snapshot being applied */
	struct relay_user *next;
};

/* Another node, as last heard of: its epoch and its online users. */
struct relay_node {
	char *name;
	int64_t epoch;
	struct relay_user *users;
	struct relay_node *next;
};

struct relay {
	struct server *srv;
	char host[128];
	int port;
	int64_t epoch; /* this incarnation of the node */
	pthread_t thread;
	struct event_base *base;
	struct loopq *q;
	struct event *tick;
	unsigned ticks;
	redisAsyncContext *pub, *sub;
	bool pub_ready, sub_ready;
	bool ever_up;         /* a later "up" is a reconnect: clients resync */
	bool leaving;         /* shutting down: no more announcements */
	pthread_mutex_t lock; /* guards left */
	pthread_cond_t cond;
	bool left;
	struct relay_node *nodes;
	struct event *flush;    /* publishes the batch once the jobs ran */
	struct codec_out batch; /* a batch being built (relay-ms.h), or empty */
	size_t nbatch;          /* deliveries in it */
	struct codec_out ms;    /* how every batch of ours begins */
	struct relay_ms in;     /* another node's batch, read in place */
};

/*
 * A job from another thread: publish a delivery (item, len bytes of a
 * batch, in the same block as the job), or announce a user.
 */
struct relay_job {
	struct relay *r;
	char *item; /* NULL: an announcement */
	size_t len;
	int64_t uid;
	char *name;
	int on;
};

static void relay_connect(struct relay *r);
static void relay_batch_flush(struct relay *r);

/* Wall-clock milliseconds: epochs differ across restarts. */
static int64_t
relay_now_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* A cluster message of kind k from this node (caller puts it). */
static struct json_object *
relay_message(struct relay *r, const char *k)
{
	struct json_object *m = json_object_new_object();

	codec_set_string(m, "n", r->srv->node);
	codec_set_int(m, "e", r->epoch);
	codec_set_string(m, "k", k);
	return m;
}

/*
 * PUBLISHes m on the cluster channel (relay thread), after the deliveries
 * batched before it; drops if down.
 */
static void
relay_send(struct relay *r, struct json_object *m)
{
	const char *s;
	size_t len;

	relay_batch_flush(r);
	if (r->pub_ready) {
		s = json_object_to_json_string_length(
		    m, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
		    &len);
		redisAsyncCommand(r->pub, NULL, NULL, "PUBLISH %s %b",
		                  RELAY_CHANNEL, s, len);
	}
	json_object_put(m);
}

/* --- other nodes and their users (relay thread only) --- */

/* The node called name, or NULL. */
static struct relay_node *
relay_node_find(struct relay *r, const char *name)
{
	struct relay_node *n;

	for (n = r->nodes; n != NULL; n = n->next) {
		if (strcmp(n->name, name) == 0)
			return n;
	}
	return NULL;
}

/*
 * Whether this node is the one, of the live ones, that tells friends:
 * the smallest name, leaving out dead (the node whose users are dropped).
 */
static bool
relay_is_leader(struct relay *r, const struct relay_node *dead)
{
	struct relay_node *n;

	for (n = r->nodes; n != NULL; n = n->next) {
		if (n != dead && strcmp(n->name, r->srv->node) < 0)
			return false;
	}
	return true;
}

/* Forgets u of a node; friends hear if the user is now offline. */
static void
relay_user_gone(struct relay *r, struct relay_user *u, bool notify)
{
	presence_remote_remove(r->srv->presence, u->uid);
	if (notify && !r->leaving && !presence_online(r->srv->presence, u->uid))
		server_notify_offline(r->srv, r->q, u->uid, u->name);
	free(u->name);
	free(u);
}

/*
 * Drops every user of node n (it died, restarted or said bye); with
 * notify, friends of those now offline hear of it (from one node).
 */
static void
relay_node_clear(struct relay *r, struct relay_node *n, bool notify)
{
	struct relay_user *u, *next;
	bool leader = notify && relay_is_leader(r, n);

	for (u = n->users; u != NULL; u = next) {
		next = u->next;
		relay_user_gone(r, u, leader);
	}
	n->users = NULL;
}

/* Removes node n altogether. */
static void
relay_node_remove(struct relay *r, struct relay_node *n)
{
	struct relay_node **pp;

	log_info("relay: node %s (epoch %lld) is gone", n->name,
	         (long long)n->epoch);
	relay_node_clear(r, n, true);
	for (pp = &r->nodes; *pp != n; pp = &(*pp)->next)
		;
	*pp = n->next;
	free(n->name);
	free(n);
}

/*
 * The node a message came from; a new epoch means it restarted, so what
 * its old incarnation reported is dropped.
 */
static struct relay_node *
relay_node_seen(struct relay *r, const char *name, int64_t epoch)
{
	struct relay_node *n = relay_node_find(r, name);

	if (n != NULL && n->epoch != epoch) {
		log_info("relay: node %s restarted", name);
		relay_node_clear(r, n, true);
		n->epoch = epoch;
	}
	if (n == NULL) {
		n = xcalloc(1, sizeof *n);
		n->name = xstrdup(name);
		n->epoch = epoch;
		n->next = r->nodes;
		r->nodes = n;
		log_info("relay: node %s joined", name);
	}
	return n;
}

/* The slot of uid in n's list. */
static struct relay_user **
relay_user_slot(struct relay_node *n, int64_t uid)
{
	struct relay_user **pp = &n->users;

	while (*pp != NULL && (*pp)->uid != uid)
		pp = &(*pp)->next;
	return pp;
}

/* n reports uid online. */
static void
relay_user_on(struct relay *r, struct relay_node *n, int64_t uid,
              const char *name)
{
	struct relay_user **pp = relay_user_slot(n, uid);

	if (*pp != NULL)
		return;
	*pp = xcalloc(1, sizeof **pp);
	(*pp)->uid = uid;
	(*pp)->name = xstrdup(name);
	presence_remote_add(r->srv->presence, uid);
}

/* n reports uid offline (its friends were told by n). */
static void
relay_user_off(struct relay *r, struct relay_node *n, int64_t uid)
{
	struct relay_user **pp = relay_user_slot(n, uid), *u = *pp;

	if (u == NULL)
		return;
	*pp = u->next;
	relay_user_gone(r, u, false);
}

/* n's full list of online users replaces what we had of it. */
static void
relay_apply_snapshot(struct relay *r, struct relay_node *n,
                     struct json_object *users)
{
	struct relay_user **pp, *u;
	struct json_object *pair;
	bool leader = relay_is_leader(r, NULL);
	size_t i, len = json_object_array_length(users);
	int64_t uid;

	for (i = 0; i < len; i++) {
		pair = json_object_array_get_idx(users, i);
		if (!json_object_is_type(pair, json_type_array) ||
		    json_object_array_length(pair) != 2)
			continue;
		uid = json_object_get_int64(json_object_array_get_idx(pair, 0));
		relay_user_on(
		    r, n, uid,
		    json_object_get_string(json_object_array_get_idx(pair, 1)));
		(*relay_user_slot(n, uid))->seen = true;
	}
	for (pp = &n->users; (u = *pp) != NULL;) {
		if (u->seen) {
			u->seen = false;
			pp = &u->next;
		} else { /* went offline while we could not hear it */
			*pp = u->next;
			relay_user_gone(r, u, leader);
		}
	}
}

/* Publishes this node's online users (on start and after a reconnect). */
static void
relay_send_snapshot(struct relay *r)
{
	struct json_object *m = relay_message(r, "snap");
	struct json_object *users = json_object_new_array(), *pair;
	int64_t *uids;
	char **names;
	size_t i, n;

	n = presence_local_users(r->srv->presence, &uids, &names);
	for (i = 0; i < n; i++) {
		pair = json_object_new_array();
		json_object_array_add(pair, json_object_new_int64(uids[i]));
		json_object_array_add(pair, json_object_new_string(names[i]));
		json_object_array_add(users, pair);
		free(names[i]);
	}
	free(uids);
	free(names);
	json_object_object_add(m, "users", users);
	relay_send(r, m);
}

/*
 * A message names us as its node: ours, come back on the channel (or a
 * node misconfigured with our name), which we do not handle.
 */
static bool
relay_is_self(const struct relay *r, const char *node, int64_t epoch)
{
	if (strcmp(node, r->srv->node) != 0)
		return false;
	if (epoch != r->epoch)
		log_warn("relay: another node calls itself %s", node);
	return true;
}

/* A relayed event for some users: deliver to those on this node. */
static void
relay_deliver(struct relay *r, struct json_object *m)
{
	struct json_object *u, *f;
	int64_t *uids;
	size_t i, n;

	if (!json_object_object_get_ex(m, "u", &u) ||
	    !json_object_is_type(u, json_type_array) ||
	    !json_object_object_get_ex(m, "f", &f) ||
	    !json_object_is_type(f, json_type_string))
		return;
	n = json_object_array_length(u);
	uids = xmalloc((n + 1) * sizeof *uids);
	for (i = 0; i < n; i++)
		uids[i] =
		    json_object_get_int64(json_object_array_get_idx(u, i));
	server_deliver_frame(r->srv, uids, n, json_object_get_string(f),
	                     (size_t)json_object_get_string_len(f), 0, false,
	                     NULL);
	free(uids);
}

/* A batch of relayed events: each element of "m" as relay_deliver's. */
static void
relay_deliver_many(struct relay *r, struct json_object *m)
{
	struct json_object *v;
	size_t i;

	if (!json_object_object_get_ex(m, "m", &v) ||
	    !json_object_is_type(v, json_type_array))
		return;
	for (i = 0; i < json_object_array_length(v); i++)
		relay_deliver(r, json_object_array_get_idx(v, i));
}

/* Another node's batch of deliveries (relay-ms.h), read in place. */
static void
relay_deliver_batch(struct relay *r, const char *s, size_t len)
{
	char *node;

	if (relay_ms_read(s, len, &r->in) != 0) {
		log_warn("relay: malformed batch of deliveries (%zu bytes)",
		         len);
		return;
	}
	node = xmemdup0(r->in.node, r->in.node_len);
	if (r->in.bad > 0)
		log_warn("relay: %zu malformed deliveries from node %s left "
		         "out",
		         r->in.bad, node);
	if (!relay_is_self(r, node, r->in.epoch)) {
		relay_node_seen(r, node, r->in.epoch);
		server_deliver_many(r->srv, r->in.items, r->in.nitems,
		                    r->in.uids, r->in.nuids, s, len);
	}
	free(node);
}

/* Handles one cluster message from another node. */
static void
relay_handle(struct relay *r, struct json_object *m)
{
	const char *node, *k, *name = "";
	struct relay_node *n;
	struct json_object *users;
	int64_t epoch, uid = 0;
	uint64_t e;
	size_t len;

	if (codec_get_string(m, "n", &node, &len) != 0 ||
	    codec_get_string(m, "k", &k, &len) != 0 ||
	    codec_get_uint(m, "e", INT64_MAX, &e) != 0)
		return;
	epoch = (int64_t)e;
	if (relay_is_self(r, node, epoch))
		return;
	if (strcmp(k, "bye") == 0) {
		if ((n = relay_node_find(r, node)) != NULL)
			relay_node_remove(r, n);
		return;
	}
	n = relay_node_seen(r, node, epoch);
	codec_get_id(m, "u", &uid);
	codec_get_string(m, "name", &name, &len);
	if (strcmp(k, "ms") == 0) /* a batch in JSON: older nodes */
		relay_deliver_many(r, m);
	else if (strcmp(k, "m") == 0) /* one delivery: older nodes */
		relay_deliver(r, m);
	else if (strcmp(k, "on") == 0 && uid != 0)
		relay_user_on(r, n, uid, name);
	else if (strcmp(k, "off") == 0 && uid != 0)
		relay_user_off(r, n, uid);
	else if (strcmp(k, "snap") == 0 &&
	         json_object_object_get_ex(m, "users", &users) &&
	         json_object_is_type(users, json_type_array))
		relay_apply_snapshot(r, n, users);
	else if (strcmp(k, "hello") == 0)
		relay_send_snapshot(r);
	else if (strcmp(k, "resync") == 0)
		server_resync(r->srv);
}

/*
 * Our own batches of deliveries come back to us, as every node reads the
 * one channel. They begin with r->ms, byte for byte, up to its count:
 * skipped unread, as they are up to RELAY_BATCH_BYTES.
 */
static bool
relay_is_own_ms(const struct relay *r, const redisReply *payload)
{
	return payload->len > r->ms.len &&
	       memcmp(payload->str, r->ms.buf,
	              r->ms.len - RELAY_MS_COUNT_LEN) == 0;
}

/* A reply on the subscriber connection: a message, or a confirmation. */
static void
relay_sub_cb(redisAsyncContext *ac, void *reply, void *arg)
{
	struct relay *r = arg;
	redisReply *rep = reply, *payload;
	struct json_object *m;

	(void)ac;
	if (rep == NULL || rep->type != REDIS_REPLY_ARRAY ||
	    rep->elements != 3 || rep->element[0]->type != REDIS_REPLY_STRING ||
	    strcmp(rep->element[0]->str, "message") != 0)
		return;
	payload = rep->element[2];
	if (payload->type == REDIS_REPLY_STRING &&
	    relay_ms_is_batch(payload->str, payload->len)) {
		if (!relay_is_own_ms(r, payload))
			relay_deliver_batch(r, payload->str, payload->len);
		return;
	}
	if (payload->type != REDIS_REPLY_STRING ||
	    codec_parse(payload->str, payload->len, RELAY_MAX_DEPTH, &m) < 0) {
		log_warn("relay: malformed cluster message");
		return;
	}
	relay_handle(r, m);
	json_object_put(m);
}

/* --- Redis connections, lease and routes (relay thread) --- */

/* Both connections are up: lease, our users, theirs; resync if a reconnect. */
static void
relay_up(struct relay *r)
{
	log_info("relay: connected to Redis %s:%d", r->host, r->port);
	redisAsyncCommand(r->pub, NULL, NULL, "SET natter:lease:%s %lld EX %d",
	                  r->srv->node, (long long)r->epoch,
	                  RELAY_LEASE_SECONDS);
	redisAsyncCommand(r->sub, relay_sub_cb, r, "SUBSCRIBE %s",
	                  RELAY_CHANNEL);
	relay_send_snapshot(r);
	relay_send(r, relay_message(r, "hello"));
	if (r->ever_up) {
		/* Pushes were lost both ways while Redis was away. */
		relay_send(r, relay_message(r, "resync"));
		server_resync(r->srv);
	}
	r->ever_up = true;
}

/* A connection attempt ended. */
static void
relay_connect_cb(const redisAsyncContext *ac, int status)
{
	struct relay *r = ac->data;
	bool is_pub = ac == r->pub;

	if (status != REDIS_OK) {
		log_warn("relay: cannot connect to Redis %s:%d: %s", r->host,
		         r->port, ac->errstr);
		if (is_pub)
			r->pub = NULL; /* hiredis frees it */
		else
			r->sub = NULL;
		return;
	}
	if (is_pub)
		r->pub_ready = true;
	else
		r->sub_ready = true;
	if (r->pub_ready && r->sub_ready)
		relay_up(r);
}

/* A connection is gone; the next tick reconnects. */
static void
relay_disconnect_cb(const redisAsyncContext *ac, int status)
{
	struct relay *r = ac->data;

	if (!r->leaving)
		log_warn("relay: lost Redis (%s): pushes wait for sync",
		         status == REDIS_OK ? "closed" : ac->errstr);
	if (ac == r->pub) {
		r->pub = NULL;
		r->pub_ready = false;
	} else {
		r->sub = NULL;
		r->sub_ready = false;
	}
	if (r->leaving && r->pub == NULL && r->sub == NULL)
		event_base_loopexit(r->base, NULL);
}

/* Opens one async connection on the relay's loop; NULL on failure. */
static redisAsyncContext *
relay_open(struct relay *r)
{
	redisAsyncContext *ac = redisAsyncConnect(r->host, r->port);

	if (ac == NULL)
		return NULL;
	if (ac->err) {
		log_warn("relay: %s", ac->errstr);
		redisAsyncFree(ac);
		return NULL;
	}
	ac->data = r;
	redisLibeventAttach(ac, r->base);
	redisAsyncSetConnectCallback(ac, relay_connect_cb);
	redisAsyncSetDisconnectCallback(ac, relay_disconnect_cb);
	return ac;
}

/* (Re)opens whichever connection is missing. */
static void
relay_connect(struct relay *r)
{
	if (r->pub == NULL)
		r->pub = relay_open(r);
	if (r->sub == NULL)
		r->sub = relay_open(r);
}

/* A reply to a lease check: the node is dead if its lease is not its own. */
static void
relay_lease_cb(redisAsyncContext *ac, void *reply, void *arg)
{
	struct relay *r = ac->data;
	redisReply *rep = reply;
	char *name = arg;
	struct relay_node *n = relay_node_find(r, name);

	if (rep != NULL && n != NULL &&
	    (rep->type != REDIS_REPLY_STRING ||
	     strtoll(rep->str, NULL, 10) != n->epoch))
		relay_node_remove(r, n);
	free(name);
}

/* Refreshes the routes of every user on this node. */
static void
relay_refresh_routes(struct relay *r)
{
	int64_t *uids;
	char **names;
	size_t i, n;

	n = presence_local_users(r->srv->presence, &uids, &names);
	for (i = 0; i < n; i++) {
		redisAsyncCommand(r->pub, NULL, NULL,
		                  "SET natter:route:%lld:%s %lld EX %d",
		                  (long long)uids[i], r->srv->node,
		                  (long long)r->epoch, RELAY_ROUTE_SECONDS);
		free(names[i]);
	}
	free(uids);
	free(names);
}

/* Every few seconds: reconnect, renew the lease, check the others'. */
static void
relay_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct relay *r = arg;
	struct relay_node *n;

	(void)fd;
	(void)what;
	if (r->leaving)
		return;
	if (!r->pub_ready || !r->sub_ready) {
		relay_connect(r);
		return;
	}
	redisAsyncCommand(r->pub, NULL, NULL, "SET natter:lease:%s %lld EX %d",
	                  r->srv->node, (long long)r->epoch,
	                  RELAY_LEASE_SECONDS);
	for (n = r->nodes; n != NULL; n = n->next)
		redisAsyncCommand(r->pub, relay_lease_cb, xstrdup(n->name),
		                  "GET natter:lease:%s", n->name);
	if (++r->ticks % RELAY_ROUTE_TICKS == 0)
		relay_refresh_routes(r);
}

/* --- the thread, and what other threads hand it --- */

/*
 * Publishes the deliveries batched since the last call as one batch
 * (relay-ms.h): one PUBLISH, and one reply to read on each other node,
 * for all the deliveries of a loop turn (a group commit's worth) instead
 * of one each. Dropped if Redis is down.
 */
static void
relay_batch_flush(struct relay *r)
{
	if (r->nbatch == 0)
		return;
	relay_ms_set_count(r->batch.buf, r->ms.len, r->nbatch);
	if (r->pub_ready)
		redisAsyncCommand(r->pub, NULL, NULL, "PUBLISH %s %b",
		                  RELAY_CHANNEL, r->batch.buf, r->batch.len);
	r->batch.len = 0; /* the buffer stays for the next batch */
	r->nbatch = 0;
}

/* The flush event: the jobs queued in this loop turn have all run. */
static void
relay_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	relay_batch_flush(arg);
}

/* Adds a delivery to the batch; it goes out after this loop turn. */
static void
relay_batch_add(struct relay *r, const char *item, size_t len)
{
	if (r->nbatch == 0) {
		codec_out_bytes(&r->batch, r->ms.buf, r->ms.len);
		event_active(r->flush, EV_TIMEOUT, 0);
	}
	codec_out_bytes(&r->batch, item, len);
	r->nbatch++;
	if (r->batch.len >= RELAY_BATCH_BYTES)
		relay_batch_flush(r);
}

/* Relay thread: a job from a worker or DB thread. */
static void
relay_job_cb(void *arg)
{
	struct relay_job *j = arg;
	struct relay *r = j->r;
	struct json_object *m;

	if (j->item != NULL) {
		relay_batch_add(r, j->item, j->len);
	} else if (!r->leaving) {
		m = relay_message(r, j->on ? "on" : "off");
		codec_set_int(m, "u", j->uid);
		codec_set_string(m, "name", j->name);
		relay_send(r, m);
		if (r->pub_ready && j->on)
			redisAsyncCommand(r->pub, NULL, NULL,
			                  "SET natter:route:%lld:%s %lld EX %d",
			                  (long long)j->uid, r->srv->node,
			                  (long long)r->epoch,
			                  RELAY_ROUTE_SECONDS);
		else if (r->pub_ready)
			redisAsyncCommand(r->pub, NULL, NULL,
			                  "DEL natter:route:%lld:%s",
			                  (long long)j->uid, r->srv->node);
	}
	free(j->name);
	free(j);
}

/*
 * Every delivery goes to the relay thread as a batch's item, to be
 * batched (relay_batch_add): this runs once per message, on the DB
 * writer, so the item comes in the job's own block, ready to copy.
 */
void
relay_publish(struct relay *r, const int64_t *uids, size_t n, const char *frame,
              size_t len)
{
	size_t size = relay_ms_item_size(n, len);
	struct relay_job *j = xmalloc(sizeof *j + size);

	*j = (struct relay_job){.r = r, .item = (char *)(j + 1), .len = size};
	relay_ms_put_item(j->item, uids, n, frame, len);
	loopq_post(r->q, relay_job_cb, j);
}

void
relay_announce(struct relay *r, int64_t uid, const char *name, int on)
{
	struct relay_job *j = xcalloc(1, sizeof *j);

	j->r = r;
	j->uid = uid;
	j->name = xstrdup(name);
	j->on = on;
	loopq_post(r->q, relay_job_cb, j);
}

/* The relay's thread: its loop, until relay_free ends it. */
static void *
relay_main(void *arg)
{
	struct relay *r = arg;

	pthread_setname_np(pthread_self(), "relay"); /* for top -H, perf */
	relay_connect(r);
	event_base_loop(r->base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

struct relay *
relay_new(struct server *srv, const char *addr)
{
	struct relay *r = xcalloc(1, sizeof *r);
	struct timeval tick = {RELAY_TICK_SECONDS, 0};
	const char *colon = strrchr(addr, ':');

	r->srv = srv;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
	r->port = colon != NULL ? atoi(colon + 1) : 6379;
	snprintf(r->host, sizeof r->host, "%.*s",
	         colon != NULL ? (int)(colon - addr) : (int)strlen(addr), addr);
	r->epoch = relay_now_ms();
	relay_ms_put_head(&r->ms, srv->node, strlen(srv->node), r->epoch);
	if ((r->base = event_base_new()) == NULL)
		fatal("%s: event_base_new failed", __func__);
	r->q = loopq_new(r->base);
	r->tick = event_new(r->base, -1, EV_PERSIST, relay_tick_cb, r);
	event_add(r->tick, &tick);
	r->flush = event_new(r->base, -1, 0, relay_flush_cb, r);
	return r;
}

void
relay_start(struct relay *r)
{
	if (thread_start(&r->thread, relay_main, r) != 0)
		fatal("%s: pthread_create failed", __func__);
}

/*
 * Relay thread: say bye, so the other nodes drop our users at once (and
 * tell their friends), and announce nothing more.
 */
static void
relay_leave_cb(void *arg)
{
	struct relay *r = arg;

	if (r->pub_ready) {
		relay_send(r, relay_message(r, "bye"));
		redisAsyncCommand(r->pub, NULL, NULL, "DEL natter:lease:%s",
		                  r->srv->node);
	}
	r->leaving = true;
	pthread_mutex_lock(&r->lock);
	r->left = true;
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

void
relay_leave(struct relay *r)
{
	loopq_post(r->q, relay_leave_cb, r);
	pthread_mutex_lock(&r->lock);
	while (!r->left)
		pthread_cond_wait(&r->cond, &r->lock);
	pthread_mutex_unlock(&r->lock);
}

/* Relay thread: close both connections once their replies are in. */
static void
relay_close_cb(void *arg)
{
	struct relay *r = arg;
	struct timeval grace = {2, 0};

	r->leaving = true;
	if (r->pub != NULL)
		redisAsyncDisconnect(r->pub);
	if (r->sub != NULL)
		redisAsyncDisconnect(r->sub);
	event_base_loopexit(r->base,
	                    r->pub == NULL && r->sub == NULL ? NULL : &grace);
}

void
relay_free(struct relay *r)
{
	struct relay_node *n, *next;

	if (r == NULL)
		return;
	loopq_post(r->q, relay_close_cb, r);
	pthread_join(r->thread, NULL);
	loopq_drain(r->q);
	if (r->pub != NULL)
		redisAsyncFree(r->pub);
	if (r->sub != NULL)
		redisAsyncFree(r->sub);
	for (n = r->nodes; n != NULL; n = next) {
		next = n->next;
		relay_node_clear(r, n, false);
		free(n->name);
		free(n);
	}
	event_free(r->tick);
	event_free(r->flush);
	free(r->batch.buf);
	free(r->ms.buf);
	relay_ms_clear(&r->in);
	loopq_free(r->q);
	event_base_free(r->base);
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->lock);
	free(r);
}
