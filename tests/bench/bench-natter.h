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

#endif
