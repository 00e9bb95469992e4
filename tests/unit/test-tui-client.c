/*
 * The client core against a scripted fake server in the same process: the
 * login sequence, dedupe of push + sync, acks, a rate_limited send retried
 * with the same cmid, and a send resent with its cmid after a reconnect.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <json-c/json.h>

#include "client.h"
#include "roster.h"
#include "unit.h"

static struct event_base *base;
static int lfd, sfd = -1;
static char rbuf[65536];
static size_t rlen;

static int nmsgs;
static char msgs[16][64];
static struct json_object *last_reply;
static int replies;

/* Milliseconds on a monotonic clock. */
static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Turns the client's loop for about ms milliseconds. */
static void
spin(int ms)
{
	long end = now_ms() + ms;

	while (now_ms() < end) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		usleep(1000);
	}
}

/* Accepts the client's connection, turning its loop meanwhile. */
static void
fake_accept(void)
{
	struct pollfd p = {lfd, POLLIN, 0};
	long end = now_ms() + 5000;

	while (now_ms() < end) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		if (poll(&p, 1, 5) == 1) {
			sfd = accept(lfd, NULL, NULL);
			rlen = 0;
			return;
		}
	}
	CHECK(!"client did not connect");
}

/* The next frame the client sent, as an object (NULL on timeout). */
static struct json_object *
fake_read(void)
{
	struct pollfd p = {sfd, POLLIN, 0};
	long end = now_ms() + 5000;
	struct json_object *o;
	size_t used;
	char *nl;

	while ((nl = memchr(rbuf, '\n', rlen)) == NULL && now_ms() < end) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		if (poll(&p, 1, 5) == 1) {
			ssize_t n = read(sfd, rbuf + rlen, sizeof(rbuf) - rlen);

			if (n <= 0)
				return NULL;
			rlen += (size_t)n;
		}
	}
	if (nl == NULL)
		return NULL;
	*nl = '\0';
	o = json_tokener_parse(rbuf);
	used = (size_t)(nl - rbuf) + 1;
	memmove(rbuf, nl + 1, rlen - used);
	rlen -= used;
	return o;
}

/* Reads a frame that must be of this type; returns it (caller puts). */
static struct json_object *
expect(const char *type)
{
	struct json_object *o = fake_read(), *t;
	bool ok = o != NULL && json_object_object_get_ex(o, "type", &t) &&
	          strcmp(json_object_get_string(t), type) == 0;

	if (!ok)
		fprintf(stderr, "expected %s, got %s\n", type,
		        o ? json_object_to_json_string(o) : "nothing");
	CHECK(ok);
	return o;
}

/* The string value of a field of o (borrowed). */
static const char *
str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v))
		return "";
	return json_object_get_string(v);
}

/* Sends a frame: JSON text plus newline. */
static void
fake_send(const char *json)
{
	char line[4096];
	int n = snprintf(line, sizeof(line), "%s\n", json);

	CHECK(write(sfd, line, (size_t)n) == n);
}

/* Replies to request o with extra fields (a JSON fragment, may be ""). */
static void
reply(struct json_object *o, const char *extra)
{
	char buf[4096];

	snprintf(buf, sizeof(buf),
	         "{\"type\":\"%s\",\"req\":%s,\"ok\":true%s%s}", str(o, "type"),
	         str(o, "req"), *extra ? "," : "", extra);
	fake_send(buf);
	json_object_put(o);
}

/* Pushes a msg event from bob. */
static void
push(const char *conv, int seq, const char *body)
{
	char buf[512];

	snprintf(
	    buf, sizeof(buf),
	    "{\"type\":\"msg\",\"conv\":\"%s\",\"seq\":%d,\"from\":{\"id\":2,"
	    "\"name\":\"bob\"},\"to\":{\"user\":1},\"body\":\"%s\",\"ts\":1,"
	    "\"cmid\":\"c\"}",
	    conv, seq, body);
	fake_send(buf);
}

/* Records delivered messages as conv/seq/body. */
static void
on_event(void *ud, const char *type, struct json_object *ev)
{
	(void)ud;
	if (strcmp(type, "msg") == 0 && nmsgs < 16)
		snprintf(msgs[nmsgs++], sizeof(msgs[0]), "%s/%s/%s",
		         str(ev, "conv"), str(ev, "seq"), str(ev, "body"));
}

/* Keeps the last reply for the checks. */
static void
on_reply(void *ud, struct json_object *r)
{
	(void)ud;
	json_object_put(last_reply);
	last_reply = r ? json_object_get(r) : NULL;
	replies++;
}

/* Checks an ack frame for conv/seq. */
static void
expect_ack(const char *conv, const char *seq)
{
	struct json_object *o = expect("ack");

	CHECK(strcmp(str(o, "conv"), conv) == 0);
	CHECK(strcmp(str(o, "seq"), seq) == 0);
	json_object_put(o);
}

/* The login exchange up to the first sync request (left unanswered). */
static struct json_object *
serve_login(void)
{
	reply(expect("login"), "\"user\":{\"id\":1,\"name\":\"alice\"},"
	                       "\"session\":\"s\"");
	reply(expect("friends"),
	      "\"friends\":[{\"id\":2,\"name\":\"bob\",\"online\":true}]");
	reply(expect("groups"), "\"groups\":[]");
	return expect("sync");
}

/* Login: roster, sync with a push racing it, dedupe, acks. */
static void
test_login_sync(struct client *c)
{
	struct json_object *o;
	int64_t u, g;

	fake_accept();
	reply(expect("hello"), "\"heartbeat\":30");
	spin(20);
	CHECK_EQ_INT(client_state(c), CLIENT_CONNECTED);
	CHECK_EQ_INT(client_login(c, "alice", "password1", on_reply, NULL), 0);
	o = serve_login();
	push("d:1:2", 6, "six"); /* floor unknown: delivered, sync again */
	reply(o, "\"msgs\":[{\"type\":\"msg\",\"conv\":\"d:1:2\",\"seq\":5,"
	         "\"from\":{\"id\":2,\"name\":\"bob\"},\"body\":\"five\"},"
	         "{\"type\":\"msg\",\"conv\":\"d:1:2\",\"seq\":6,"
	         "\"from\":{\"id\":2,\"name\":\"bob\"},\"body\":\"six\"}],"
	         "\"more\":false");
	expect_ack("d:1:2", "6");
	reply(expect("sync"), "\"msgs\":[],\"more\":false");
	spin(20);
	CHECK_EQ_INT(replies, 1);
	CHECK(last_reply != NULL && strcmp(str(last_reply, "ok"), "true") == 0);
	CHECK_EQ_INT(client_state(c), CLIENT_LOGGED_IN);
	CHECK_EQ_INT(nmsgs, 2);
	CHECK(strcmp(msgs[0], "d:1:2/6/six") == 0);
	CHECK(strcmp(msgs[1], "d:1:2/5/five") == 0);
	CHECK_EQ_INT(roster_resolve(client_roster(c), "bob", &u, &g), 0);
	CHECK_EQ_INT(u, 2);
	push("d:1:2", 7, "seven");
	expect_ack("d:1:2", "7");
	push("d:1:2", 7, "seven"); /* a copy: not delivered again */
	expect_ack("d:1:2", "7");
	CHECK_EQ_INT(nmsgs, 3);
}

/* rate_limited: the same cmid comes back after a backoff. */
static void
test_send_retry(struct client *c)
{
	struct json_object *o;
	char cmid[64], buf[256];

	replies = 0;
	CHECK_EQ_INT(client_send(c, 2, 0, "hi", on_reply, NULL), 0);
	o = expect("send");
	snprintf(cmid, sizeof(cmid), "%s", str(o, "cmid"));
	CHECK_EQ_INT(strlen(cmid), 32);
	/* a reply to no request is ignored */
	fake_send("{\"type\":\"send\",\"req\":0,\"ok\":false}");
	snprintf(buf, sizeof(buf),
	         "{\"type\":\"send\",\"req\":%s,\"ok\":false,\"error\":"
	         "{\"code\":\"rate_limited\",\"message\":\"slow\"}}",
	         str(o, "req"));
	fake_send(buf);
	json_object_put(o);
	o = expect("send"); /* after 0.5..1 s */
	CHECK(strcmp(str(o, "cmid"), cmid) == 0);
	CHECK_EQ_INT(replies, 0);
	reply(o, "\"msg\":{\"conv\":\"d:1:2\",\"seq\":8,\"ts\":2}");
	expect_ack("d:1:2", "8"); /* our own message, contiguous */
	CHECK_EQ_INT(replies, 1);
	CHECK_EQ_INT(client_outbox_count(c), 0);
}

/* A drop with a send in flight: reconnect, log in again, resend. */
static void
test_reconnect_resend(struct client *c)
{
	struct json_object *o;
	char cmid[64];

	replies = 0;
	CHECK_EQ_INT(client_send(c, 2, 0, "again", on_reply, NULL), 0);
	o = expect("send");
	snprintf(cmid, sizeof(cmid), "%s", str(o, "cmid"));
	json_object_put(o);
	close(sfd);
	spin(50);
	CHECK_EQ_INT(client_state(c), CLIENT_DISCONNECTED);
	CHECK_EQ_INT(client_outbox_count(c), 1);
	fake_accept(); /* after 0.5..1 s */
	reply(expect("hello"), "\"heartbeat\":30");
	o = serve_login();
	reply(o, "\"msgs\":[],\"more\":false");
	o = expect("send");
	CHECK(strcmp(str(o, "cmid"), cmid) == 0);
	CHECK_EQ_INT(replies, 0);
	reply(o, "\"msg\":{\"conv\":\"d:1:2\",\"seq\":9,\"ts\":3}");
	expect_ack("d:1:2", "9");
	CHECK_EQ_INT(replies, 1);
	CHECK_EQ_INT(client_state(c), CLIENT_LOGGED_IN);
}

/* A listener on a free loopback port plays the server. */
int
main(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	struct client *c;
	char port[16];

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	CHECK(listen(lfd, 4) == 0);
	getsockname(lfd, (struct sockaddr *)&sa, &len);
	snprintf(port, sizeof(port), "%d", ntohs(sa.sin_port));
	base = event_base_new();
	c = client_new(base, "127.0.0.1", port,
	               &(struct client_callbacks){on_event, NULL, NULL});
	CHECK_EQ_INT(client_connect(c), 0);
	test_login_sync(c);
	test_send_retry(c);
	test_reconnect_resend(c);
	client_free(c);
	json_object_put(last_reply);
	event_base_free(base);
	close(sfd);
	close(lfd);
	return UNIT_END();
}
