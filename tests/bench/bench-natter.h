#ifndef NATTER_BENCH_BENCH_NATTER_H
#define NATTER_BENCH_BENCH_NATTER_H

#include "bench-conn.h"

/*
 * The natter protocol (PROTOCOL.md) through shared/'s frame reader and
 * codec: register and login (READY), friend_add (pairing), group_create
 * and group_join, send (ACK on the reply) and msg events (MSG).
 */
extern const struct bench_proto bench_natter_proto;

/*
 * Sends a register request for name on c (any number may be pipelined);
 * each reply, ok or name_taken, is reported as BENCH_EV_REGISTERED.
 */
void bench_natter_register(struct bench_conn *c, const char *name);

#define BENCH_NATTER_PASSWORD "bench-password"

/*
 * How sends make their cmids (--cmid): a counter per connection ("17",
 * the default), as natter makes them (12 hex digits of ms time, then 20
 * random: 32), or 32 random hex digits. natterd indexes cmids by sender,
 * so their shape changes what a send costs it. Set before any run.
 */
enum bench_natter_cmid {
	BENCH_NATTER_CMID_COUNTER,
	BENCH_NATTER_CMID_TIME,
	BENCH_NATTER_CMID_RANDOM,
};

/* -1 for an unknown name ("counter", "time", "random"), else 0. */
int bench_natter_set_cmid(const char *name);

#endif
