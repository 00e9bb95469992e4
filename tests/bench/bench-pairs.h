#ifndef NATTER_BENCH_BENCH_PAIRS_H
#define NATTER_BENCH_BENCH_PAIRS_H

struct bench_run;

/*
 * The one-to-one workloads over o->pairs sender/receiver pairs:
 *  - relay: each pair keeps o->window messages in flight (sent, not yet
 *    received); delivered messages/s and both CPUs over o->duration;
 *  - latency: o->rate messages/s in all, spread over the pairs, open loop;
 *    p50/p99/p99.9 from send to the receiver's event, and to the ack
 *    (natter only: MQTT QoS 0 and IRC PRIVMSG have none);
 *  - storm: latency, plus o->logins new connections logging in (at most
 *    o->burst at once) after the warm-up, on a thread and loop of their
 *    own (bench-storm.h) so the chat loop only does chat; logins/s and
 *    the chat latency of messages sent while the logins ran.
 * With o->server2 set (--port2), every receiver connects there, to another
 * node of a cluster, and its sender to o->server: messages cross nodes.
 * Each sets up, measures and prints its result; returns the run's exit
 * status.
 */
int bench_pairs_run(struct bench_run *run);

#endif
