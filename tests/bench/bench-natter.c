/* The natter protocol side of the load generator. */
#include <event2/buffer.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench-natter.h"
#include "codec.h"
#include "frame.h"

/* Configuration: written by bench_natter_set_cmid before any run. */
static enum bench_natter_cmid bench_natter_cmid_kind;

int
bench_natter_set_cmid(const char *name)
{
	if (strcmp(name, "counter") == 0)
		bench_natter_cmid_kind = BENCH_NATTER_CMID_COUNTER;
	else if (strcmp(name, "time") == 0)
		bench_natter_cmid_kind = BENCH_NATTER_CMID_TIME;
	else if (strcmp(name, "random") == 0)
		bench_natter_cmid_kind = BENCH_NATTER_CMID_RANDOM;
	else
		return -1;
	return 0;
}

/* The cmid of c's next send, of the configured kind, into out[33]. */
static void
bench_natter_cmid(const struct bench_conn *c, char *out, size_t size)
{
	struct timespec ts;

	switch (bench_natter_cmid_kind) {
	case BENCH_NATTER_CMID_TIME:
		clock_gettime(CLOCK_REALTIME, &ts);
		snprintf(out, size, "%012llx%08lx%08lx%04lx",
		         (unsigned long long)ts.tv_sec * 1000 +
		             (unsigned long long)ts.tv_nsec / 1000000,
		         random(), random(), random() & 0xffff);
		break;
	case BENCH_NATTER_CMID_RANDOM:
		snprintf(out, size, "%08lx%08lx%08lx%08lx", random(), random(),
		         random(), random());
		break;
	default:
		snprintf(out, size, "%llu", (unsigned long long)c->nsent);
	}
}

/* A request frame {"type":type,"req":n}; the caller adds the fields. */
static struct json_object *
bench_natter_req(struct bench_conn *c, const char *type)
{
	struct json_object *o = codec_event(type);

	codec_set_int(o, "req", ++c->req);
	return o;
}

/* Writes o as one frame and drops it. */
static void
bench_natter_write(struct bench_conn *c, struct json_object *o)
{
	size_t len;
	char *s = codec_frame(o, &len);

	bench_conn_write(c, s, len);
	free(s);
	json_object_put(o);
}

/* The per-connection state: a frame reader. */
static void *
bench_natter_state_new(void)
{
	return frame_reader_new(1 << 20);
}

/* Frees the frame reader. */
static void
bench_natter_state_free(void *ps)
{
	frame_reader_free(ps);
}

/* A register or login request for name. */
static void
bench_natter_account(struct bench_conn *c, const char *type, const char *name)
{
	struct json_object *o = bench_natter_req(c, type);

	codec_set_string(o, "name", name);
	codec_set_string(o, "password", BENCH_NATTER_PASSWORD);
	bench_natter_write(c, o);
}

/* Pre-registration; the reply is BENCH_EV_REGISTERED. */
void
bench_natter_register(struct bench_conn *c, const char *name)
{
	bench_natter_account(c, "register", name);
}

/* Register (unless done before) and log in, pipelined. */
static void
bench_natter_login(struct bench_conn *c)
{
	if (!c->registered)
		bench_natter_account(c, "register", c->name);
	bench_natter_account(c, "login", c->name);
}

/* Friendship is mutual and immediate: the sender adds the receiver. */
static struct bench_conn *
bench_natter_pair(struct bench_conn *sender, struct bench_conn *receiver)
{
	struct json_object *o = bench_natter_req(sender, "friend_add");

	codec_set_string(o, "name", receiver->name);
	bench_natter_write(sender, o);
	return sender;
}

/* Creates the group, or joins it by name. */
static void
bench_natter_join(struct bench_conn *c, const char *group, bool create)
{
	struct json_object *o =
	    bench_natter_req(c, create ? "group_create" : "group_join");

	codec_set_string(o, "name", group);
	bench_natter_write(c, o);
}

/* Whether s[0..len) goes into a JSON string as it is (no escapes). */
static bool
bench_natter_plain(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == '"' || s[i] == '\\')
			return false;
	return true;
}

/*
 * A send to the friend or group found during setup. The frame is printed
 * by hand, as the MQTT and IRC sides print theirs: through json-c, sends
 * and their acks (bench_natter_fast_ack) took two thirds of the
 * generator's own instructions a message. A body that needs escapes (none
 * of the workloads' do) goes through json-c.
 */
static void
bench_natter_send(struct bench_conn *c, const char *body, size_t len)
{
	struct json_object *o, *to;
	char cmid[33], frame[4200];
	int n;

	bench_natter_cmid(c, cmid, sizeof cmid);
	n = snprintf(frame, sizeof frame,
	             "{\"type\":\"send\",\"req\":%u,\"to\":{\"%s\":%lld},"
	             "\"body\":\"%.*s\",\"cmid\":\"%s\"}\n",
	             ++c->req, c->target_group ? "group" : "user",
	             (long long)c->target_id, (int)len, body, cmid);
	if (bench_natter_plain(body, len) && n > 0 &&
	    (size_t)n < sizeof frame) {
		bench_conn_write(c, frame, (size_t)n);
		return;
	}
	o = codec_event("send");
	codec_set_int(o, "req", c->req);
	to = json_object_new_object();
	codec_set_int(to, c->target_group ? "group" : "user", c->target_id);
	json_object_object_add(o, "to", to);
	json_object_object_add(o, "body",
	                       json_object_new_string_len(body, (int)len));
	codec_set_string(o, "cmid", cmid);
	bench_natter_write(c, o);
}

/* The id inside reply field key ({"user":{"id":..}} and the like). */
static int64_t
bench_natter_id(struct json_object *o, const char *key)
{
	struct json_object *sub;
	int64_t id = 0;

	if (codec_get_object(o, key, &sub) == 0)
		codec_get_id(sub, "id", &id);
	return id;
}

/* A failed reply: report the error code. */
static void
bench_natter_fail(struct bench_conn *c, const char *type, struct json_object *o)
{
	struct json_object *err;
	const char *code = "?";
	char why[96];
	size_t n;

	if (codec_get_object(o, "error", &err) == 0)
		codec_get_string(err, "code", &code, &n);
	snprintf(why, sizeof why, "%s: %s", type, code);
	c->cb(c, BENCH_EV_FAIL, why, strlen(why));
}

/* A reply to one of our requests, told apart by its type. */
static void
bench_natter_reply(struct bench_conn *c, const char *type,
                   struct json_object *o)
{
	bool ok = false;

	codec_get_bool(o, "ok", &ok);
	if (strcmp(type, "register") == 0) {
		/* In a login, the register before it may say name_taken. */
		if (c->registered)
			c->cb(c, BENCH_EV_REGISTERED, NULL, 0);
		return;
	}
	if (!ok) {
		/* A refused send is answered too: its send time goes. */
		if (strcmp(type, "send") == 0)
			(void)bench_conn_ack_pop(c);
		bench_natter_fail(c, type, o);
	} else if (strcmp(type, "send") == 0) {
		c->cb(c, BENCH_EV_ACK, NULL, 0);
	} else if (strcmp(type, "login") == 0) {
		c->ready = true;
		c->cb(c, BENCH_EV_READY, NULL, 0);
	} else if (strcmp(type, "friend_add") == 0) {
		c->target_id = bench_natter_id(o, "friend");
		c->cb(c, BENCH_EV_DONE, NULL, 0);
	} else if (strncmp(type, "group_", 6) == 0) {
		c->target_id = bench_natter_id(o, "group");
		c->target_group = true;
		c->cb(c, BENCH_EV_DONE, NULL, 0);
	}
}

/*
 * A msg event's body taken without a JSON parser, as the MQTT and IRC
 * readers take theirs (else the generator, not the server, bounds fanout):
 * natterd writes msg events as {"type":"msg",...,"body":"..."}, and the
 * bench's bodies need no escapes. false: parse it the slow way.
 */
static bool
bench_natter_fast_msg(struct bench_conn *c, const char *line, size_t len)
{
	static const char head[] = "{\"type\":\"msg\",";
	static const char key[] = ",\"body\":\"";
	const char *b, *e;

	if (len < sizeof(head) - 1 || memcmp(line, head, sizeof(head) - 1) != 0)
		return false;
	if ((b = memmem(line, len, key, sizeof(key) - 1)) == NULL)
		return false;
	b += sizeof(key) - 1;
	e = memchr(b, '"', len - (size_t)(b - line));
	if (e == NULL || memchr(b, '\\', (size_t)(e - b)) != NULL)
		return false;
	c->cb(c, BENCH_EV_MSG, b, (size_t)(e - b));
	return true;
}

/*
 * A send's ok reply, known without a JSON parser when natterd wrote it as
 * it does, {"type":"send","req":..,"ok":true,...}: one comes for every
 * message, as many as the msg events. false: parse it the slow way.
 */
static bool
bench_natter_fast_ack(struct bench_conn *c, const char *line, size_t len)
{
	static const char head[] = "{\"type\":\"send\",\"req\":";
	static const char ok[] = ",\"ok\":true,";
	const char *p, *end = line + len;

	if (len < sizeof(head) - 1 || memcmp(line, head, sizeof(head) - 1) != 0)
		return false;
	p = line + sizeof(head) - 1;
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	if ((size_t)(end - p) < sizeof(ok) - 1 ||
	    memcmp(p, ok, sizeof(ok) - 1) != 0)
		return false;
	c->cb(c, BENCH_EV_ACK, NULL, 0);
	return true;
}

/* One frame: a reply (it has "req") or an event (only msg matters). */
static void
bench_natter_frame(struct bench_conn *c, const char *line, size_t len)
{
	struct json_object *o, *req;
	const char *type, *body;
	size_t n;

	if (bench_natter_fast_msg(c, line, len) ||
	    bench_natter_fast_ack(c, line, len))
		return;
	if (codec_parse(line, len, CODEC_MAX_DEPTH, &o) < 0)
		return;
	if (codec_get_string(o, "type", &type, &n) != 0) {
		json_object_put(o);
		return;
	}
	if (json_object_object_get_ex(o, "req", &req))
		bench_natter_reply(c, type, o);
	else if (strcmp(type, "msg") == 0 &&
	         codec_get_string(o, "body", &body, &n) == 0)
		c->cb(c, BENCH_EV_MSG, body, n);
	json_object_put(o);
}

/* Every complete frame in the input. */
static void
bench_natter_read(struct bench_conn *c, struct evbuffer *in)
{
	const char *line;
	size_t len;

	while (c->open && frame_reader_next(c->ps, in, &line, &len) == 1)
		bench_natter_frame(c, line, len);
}

const struct bench_proto bench_natter_proto = {
    .name = "natter",
    .state_new = bench_natter_state_new,
    .state_free = bench_natter_state_free,
    .login = bench_natter_login,
    .pair = bench_natter_pair,
    .join = bench_natter_join,
    .send = bench_natter_send,
    .read = bench_natter_read,
};
