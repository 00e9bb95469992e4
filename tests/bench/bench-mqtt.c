/* The MQTT 3.1.1 (QoS 0) side of the load generator. */
#include <event2/buffer.h>
#include <stdio.h>
#include <string.h>

#include "bench-mqtt.h"

/* Writes a fixed header: type byte and the variable-length remainder. */
static void
bench_mqtt_header(struct bench_conn *c, unsigned char type, size_t rem)
{
	unsigned char h[5];
	size_t n = 0;

	h[n++] = type;
	do {
		h[n] = rem & 0x7f;
		rem >>= 7;
		if (rem > 0)
			h[n] |= 0x80;
		n++;
	} while (rem > 0);
	bench_conn_write(c, h, n);
}

/* Writes a length-prefixed string. */
static void
bench_mqtt_string(struct bench_conn *c, const char *s, size_t len)
{
	unsigned char l[2] = {(unsigned char)(len >> 8), (unsigned char)len};

	bench_conn_write(c, l, 2);
	bench_conn_write(c, s, len);
}

/* No per-connection state beyond the connection's. */
static void *
bench_mqtt_state_new(void)
{
	return NULL;
}

/* Nothing to free. */
static void
bench_mqtt_state_free(void *ps)
{
	(void)ps;
}

/* CONNECT, clean session, no keep-alive, the name as client id. */
static void
bench_mqtt_login(struct bench_conn *c)
{
	static const unsigned char vh[] = {0,   4, 'M',  'Q', 'T',
	                                   'T', 4, 0x02, 0,   0};
	size_t n = strlen(c->name);

	bench_mqtt_header(c, 0x10, sizeof vh + 2 + n);
	bench_conn_write(c, vh, sizeof vh);
	bench_mqtt_string(c, c->name, n);
}

/* SUBSCRIBE to topic at QoS 0; SUBACK reports DONE. */
static void
bench_mqtt_subscribe(struct bench_conn *c, const char *topic)
{
	size_t n = strlen(topic);
	unsigned char id[2] = {0, 1}, qos = 0;

	bench_mqtt_header(c, 0x82, 2 + 2 + n + 1);
	bench_conn_write(c, id, 2);
	bench_mqtt_string(c, topic, n);
	bench_conn_write(c, &qos, 1);
}

/* The receiver subscribes to its own topic; the sender publishes there. */
static struct bench_conn *
bench_mqtt_pair(struct bench_conn *sender, struct bench_conn *receiver)
{
	snprintf(sender->target, sizeof sender->target, "r/%s", receiver->name);
	bench_mqtt_subscribe(receiver, sender->target);
	return receiver;
}

/* A group is a topic every member subscribes to. */
static void
bench_mqtt_join(struct bench_conn *c, const char *group, bool create)
{
	(void)create;
	snprintf(c->target, sizeof c->target, "g/%s", group);
	bench_mqtt_subscribe(c, c->target);
}

/* PUBLISH at QoS 0 to the target topic. */
static void
bench_mqtt_send(struct bench_conn *c, const char *body, size_t len)
{
	size_t n = strlen(c->target);

	bench_mqtt_header(c, 0x30, 2 + n + len);
	bench_mqtt_string(c, c->target, n);
	bench_conn_write(c, body, len);
}

/* One whole packet p of len bytes, rem of them after the fixed header. */
static void
bench_mqtt_packet(struct bench_conn *c, const unsigned char *p, size_t hdr,
                  size_t rem)
{
	const unsigned char *v = p + hdr;
	size_t tlen, skip;

	switch (p[0] >> 4) {
	case 2: /* CONNACK */
		if (rem >= 2 && v[1] == 0) {
			c->ready = true;
			c->cb(c, BENCH_EV_READY, NULL, 0);
		} else {
			c->cb(c, BENCH_EV_FAIL, "connack refused", 15);
		}
		break;
	case 9: /* SUBACK */
		c->cb(c, BENCH_EV_DONE, NULL, 0);
		break;
	case 3: /* PUBLISH */
		if (rem < 2)
			break;
		tlen = (size_t)v[0] << 8 | v[1];
		skip = 2 + tlen + (((p[0] >> 1) & 3) ? 2 : 0);
		if (skip <= rem)
			c->cb(c, BENCH_EV_MSG, (const char *)v + skip,
			      rem - skip);
		break;
	}
}

/* Every complete packet in the input. */
static void
bench_mqtt_read(struct bench_conn *c, struct evbuffer *in)
{
	unsigned char h[5];
	size_t have, n, rem, hdr;
	int shift;

	while (c->open && (have = evbuffer_get_length(in)) >= 2) {
		n = evbuffer_copyout(in, h, sizeof h);
		rem = 0;
		shift = 0;
		for (hdr = 1; hdr < n; hdr++) {
			rem |= (size_t)(h[hdr] & 0x7f) << shift;
			shift += 7;
			if (!(h[hdr] & 0x80))
				break;
		}
		if (hdr == n)
			return; /* length not complete yet */
		hdr++;
		if (have < hdr + rem)
			return;
		bench_mqtt_packet(c, evbuffer_pullup(in, (ssize_t)(hdr + rem)),
		                  hdr, rem);
		evbuffer_drain(in, hdr + rem);
	}
}

const struct bench_proto bench_mqtt_proto = {
    .name = "mqtt",
    .state_new = bench_mqtt_state_new,
    .state_free = bench_mqtt_state_free,
    .login = bench_mqtt_login,
    .pair = bench_mqtt_pair,
    .join = bench_mqtt_join,
    .send = bench_mqtt_send,
    .read = bench_mqtt_read,
};
