#ifndef NATTER_BENCH_BENCH_FANOUT_H
#define NATTER_BENCH_BENCH_FANOUT_H

struct bench_run;

/*
 * Fanout: one group (natter group, MQTT topic, IRC channel) of o->members
 * connections, the first o->senders of which send. Each sender keeps
 * o->window messages in flight (counted in deliveries to the other
 * members); deliveries/s over o->duration and both CPUs. Returns the
 * run's exit status.
 */
int bench_fanout_run(struct bench_run *run);

#endif
