#ifndef NATTER_BENCH_BENCH_RUN_H
#define NATTER_BENCH_BENCH_RUN_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bench-conn.h"

struct event_base;
struct bench_run_timer;

#define BENCH_RUN_MAX_AUX 4

/* What to run against which server; filled in by bench-main.c. */
struct bench_opts {
	const struct bench_proto *proto;
	const char *label;    /* server name in the results */
	const char *workload; /* relay, latency, fanout, groups, idle, storm */
	const char *tag;      /* prefix of every user/nick/client id */
	struct sockaddr_in server;
	struct sockaddr_in server2; /* pairs' receivers; sin_port 0: server */
	pid_t server_pid;           /* 0: no server CPU or RSS figures */
	pid_t server_pid2; /* a second node: its CPU adds to server's */
	pid_t aux_pids[BENCH_RUN_MAX_AUX]; /* database, Redis: aux_cpu */
	int naux;
	int sources; /* source addresses 127.0.0.1 .. 127.0.0.N */
	int pairs, members, senders, conns, logins, window, body;
	int groups, group_size; /* groups: how many, members of each */
	int burst;              /* connections being set up at once */
	double duration, warmup, timeout, rate;
	int tick_us;    /* fixed-rate workloads: how often the sends due go */
	int storm_nice; /* the storm thread's nice; BENCH_STORM_IDLE: none */
	const char *trace; /* relay/latency/storm: a line a message, or NULL */
};

/* bench_opts.storm_nice: the storm thread runs at SCHED_IDLE instead. */
#define BENCH_STORM_IDLE (-100)

#define BENCH_RUN_MAX_RESULTS 24

/*
 * One workload run: the event loop, every connection it opened, the
 * figures gathered so far. A workload ends by calling bench_run_finish
 * (success: prints the results) or bench_run_fail.
 */
struct bench_run {
	const struct bench_opts *o;
	struct event_base *base;
	struct bench_conn **conns;
	size_t nconns, cap;
	struct event *deadline;
	struct bench_run_timer *timers; /* bench_run_after's, not yet fired */
	int status;                     /* exit status: 0 ok, 1 failed */
	bool measuring;
	const char *phase; /* what the run is doing, for a time-out report */
	int progress;      /* how far it got in that phase */
	double cpu_server0, cpu_server20, cpu_self0, cpu_aux0;
	uint64_t t_cpu0;
	size_t nresults;
	struct {
		const char *key;
		double v;
	} results[BENCH_RUN_MAX_RESULTS];
};

struct bench_run *bench_run_new(const struct bench_opts *o);
void bench_run_free(struct bench_run *run);

/* Runs the loop until the workload finishes or fails; the exit status. */
int bench_run_loop(struct bench_run *run);

/*
 * Opens a connection named tag+role+idx from the next source address; the
 * run owns and frees it. NULL (the run failed) if no socket could be made.
 */
struct bench_conn *bench_run_open(struct bench_run *run, const char *role,
                                  int idx, bench_conn_cb cb, void *owner);

/* The same, to another server (a second node of a cluster). */
struct bench_conn *bench_run_open_at(struct bench_run *run,
                                     const struct sockaddr_in *server,
                                     const char *role, int idx,
                                     bench_conn_cb cb, void *owner);

/*
 * The dialling under bench_run_open, for a loop of another thread (the
 * login storm's): a connection on base named tag+role+idx, to server from
 * 127.0.0.(1 + n % sources). Not kept by any run; NULL if no socket.
 */
struct bench_conn *bench_run_dial(struct event_base *base,
                                  const struct bench_opts *o,
                                  const struct sockaddr_in *server, size_t n,
                                  const char *role, int idx, bench_conn_cb cb,
                                  void *owner);

/* Closes c now (the run still frees it at the end). */
void bench_run_close(struct bench_run *run, struct bench_conn *c);

/* Calls fn(arg) after secs seconds, once. */
void bench_run_after(struct bench_run *run, double secs, void (*fn)(void *),
                     void *arg);

/*
 * The fixed-rate workloads' clock: fn(arg) every us microseconds, to the
 * microsecond (a timerfd that repeats by itself), until
 * bench_run_clock_free. Late ticks are not made up: fn sends what is due
 * by the time it runs. NULL if the timerfd cannot be made.
 */
struct bench_run_clock;
struct bench_run_clock *bench_run_clock_new(struct bench_run *run, int us,
                                            void (*fn)(void *), void *arg);
/* Stops and frees the clock; NULL is a no-op. */
void bench_run_clock_free(struct bench_run_clock *k);

/*
 * Registers n natter accounts named tag+role+0..n-1 ahead of the workload
 * (pipelined over a few connections), then calls done(arg). Other
 * protocols need no accounts: done is called on the next loop turn.
 */
void bench_run_accounts(struct bench_run *run, const char *role, int n,
                        void (*done)(void *), void *arg);

/*
 * Starts and stops the CPU clocks; stop adds server_cpu (both nodes),
 * server2_cpu (the second node alone), aux_cpu (the --aux-pid processes)
 * and gen_cpu, as % of one core.
 */
void bench_run_cpu_start(struct bench_run *run);
void bench_run_cpu_stop(struct bench_run *run);

void bench_run_result(struct bench_run *run, const char *key, double v);
/*
 * Adds h's p50, p99 and p99.9 in ms as p50_ms... (ack: ack_p50_ms...),
 * unless h is empty: a server far behind delivers nothing sent in the
 * measured window before it ends, and no figure beats a 0.
 */
struct bench_hist;
void bench_run_pcts(struct bench_run *run, struct bench_hist *h, bool ack);

/* Prints the results (a text line, then one JSON line) and stops. */
void bench_run_finish(struct bench_run *run);

/* Prints a JSON error line and stops with status 1. */
void bench_run_fail(struct bench_run *run, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * A message body of len bytes (at least 32) that carries the send time
 * and the sender's index; parse returns -1 on a body it did not make.
 */
void bench_run_body(char *buf, size_t len, uint64_t now, int sender);
int bench_run_body_parse(const char *body, size_t len, uint64_t *sent,
                         int *sender);

#endif
