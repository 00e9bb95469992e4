/* natter-bench: load generator for natterd, MQTT brokers and IRC servers. */
#include <arpa/inet.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench-fanout.h"
#include "bench-groups.h"
#include "bench-idle.h"
#include "bench-irc.h"
#include "bench-mqtt.h"
#include "bench-natter.h"
#include "bench-pairs.h"
#include "bench-proc.h"
#include "bench-run.h"

static const char bench_main_usage[] =
    "usage: natter-bench --proto natter|mqtt|irc --port PORT\n"
    "                    --workload relay|latency|fanout|groups|idle|storm\n"
    "                    [options]\n"
    "  --host ADDR        server address (127.0.0.1)\n"
    "  --server-pid PID   server process, for its CPU and memory\n"
    "  --host2 ADDR       relay/latency/storm/groups: second server (--host)\n"
    "  --port2 PORT       relay/latency/storm: receivers connect there, to\n"
    "                     a second node; senders stay on --port; groups:\n"
    "                     every other member of each group\n"
    "  --server-pid2 PID  second node: its CPU adds to the server's\n"
    "  --aux-pid PID      a helper (database, Redis): aux_cpu; up to 4\n"
    "  --label NAME       server name in the results (the protocol)\n"
    "  --tag PREFIX       prefix of every name (random)\n"
    "  --sources N        source addresses 127.0.0.1..N (8)\n"
    "  --pairs N          relay/latency/storm pairs (100)\n"
    "  --members N        fanout group size (100)\n"
    "  --senders N        fanout senders among the members (4)\n"
    "  --groups N         groups: how many groups (100)\n"
    "  --group-size N     groups: members of each, all senders (10)\n"
    "  --conns N          idle connections (1000)\n"
    "  --logins N         storm logins (2000)\n"
    "  --burst N          connections being set up at once (200)\n"
    "  --storm-nice N     storm: its thread at nice N, not SCHED_IDLE\n"
    "  --window N         messages in flight per sender (16)\n"
    "  --body N           message body bytes (100)\n"
    "  --rate N           latency/storm/groups total messages/s (20000)\n"
    "  --tick US          latency/storm/groups: sending clock (200)\n"
    "  --duration S       measured seconds (10)\n"
    "  --warmup S         seconds before measuring (1)\n"
    "  --timeout S        give up after this long in all (300)\n"
    "  --irc-oper N:PASS  IRC: OPER and set user mode +F (ngircd flood "
    "limit)\n"
    "  --cmid KIND        natter: counter (default), time (as natter's\n"
    "                     client: ms time first) or random\n"
    "  --trace FILE       relay/latency/storm: a line per measured message\n"
    "                     (sent us on CLOCK_MONOTONIC, latency us, pair,\n"
    "                     in storm)\n";

static const struct option bench_main_longopts[] = {
    {"proto", required_argument, NULL, 'P'},
    {"host", required_argument, NULL, 'h'},
    {"port", required_argument, NULL, 'p'},
    {"workload", required_argument, NULL, 'w'},
    {"server-pid", required_argument, NULL, 'S'},
    {"host2", required_argument, NULL, 'j'},
    {"port2", required_argument, NULL, 'q'},
    {"server-pid2", required_argument, NULL, 'Z'},
    {"aux-pid", required_argument, NULL, 'x'},
    {"label", required_argument, NULL, 'L'},
    {"tag", required_argument, NULL, 'T'},
    {"sources", required_argument, NULL, 'a'},
    {"pairs", required_argument, NULL, 'n'},
    {"members", required_argument, NULL, 'm'},
    {"senders", required_argument, NULL, 's'},
    {"groups", required_argument, NULL, 'g'},
    {"group-size", required_argument, NULL, 'G'},
    {"conns", required_argument, NULL, 'c'},
    {"logins", required_argument, NULL, 'l'},
    {"burst", required_argument, NULL, 'B'},
    {"storm-nice", required_argument, NULL, 'N'},
    {"window", required_argument, NULL, 'W'},
    {"body", required_argument, NULL, 'b'},
    {"rate", required_argument, NULL, 'r'},
    {"tick", required_argument, NULL, 'k'},
    {"duration", required_argument, NULL, 'd'},
    {"warmup", required_argument, NULL, 'u'},
    {"timeout", required_argument, NULL, 't'},
    {"irc-oper", required_argument, NULL, 'O'},
    {"cmid", required_argument, NULL, 'C'},
    {"trace", required_argument, NULL, 'X'},
    {"help", no_argument, NULL, 'H'},
    {NULL, 0, NULL, 0},
};

/* The protocol module called name, or NULL. */
static const struct bench_proto *
bench_main_proto(const char *name)
{
	static const struct bench_proto *const all[] = {
	    &bench_natter_proto, &bench_mqtt_proto, &bench_irc_proto};
	size_t i;

	for (i = 0; i < sizeof all / sizeof all[0]; i++)
		if (strcmp(all[i]->name, name) == 0)
			return all[i];
	return NULL;
}

/* Defaults: the workload sizes. */
static void
bench_main_defaults(struct bench_opts *o)
{
	static char tag[16];

	memset(o, 0, sizeof *o);
	o->server.sin_family = AF_INET;
	o->server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	o->server2 = o->server; /* sin_port 0: no second server */
	o->sources = 8;
	o->pairs = 100;
	o->members = 100;
	o->senders = 4;
	o->groups = 100;
	o->group_size = 10;
	o->conns = 1000;
	o->logins = 2000;
	o->burst = 200;
	o->storm_nice = BENCH_STORM_IDLE;
	o->window = 16;
	o->body = 100;
	o->rate = 20000;
	o->tick_us = 200;
	o->duration = 10;
	o->warmup = 1;
	o->timeout = 300;
	/* Names must be fresh on a server that keeps its accounts, and be
	 * valid IRC nicks: a letter, then letters and digits. */
	snprintf(
	    tag, sizeof tag, "b%lx",
	    ((unsigned long)time(NULL) * 1000003ul ^ (unsigned long)getpid()) %
	        0xfffffff);
	o->tag = tag;
}

/* --irc-oper NAME:PASSWORD */
static int
bench_main_oper(const char *v)
{
	static char name[64];
	const char *colon = strchr(v, ':');

	if (colon == NULL || (size_t)(colon - v) >= sizeof name)
		return -1;
	memcpy(name, v, (size_t)(colon - v));
	name[colon - v] = '\0';
	bench_irc_set_oper(name, colon + 1);
	return 0;
}

/* One option into o; -1 on a bad one. */
static int
bench_main_opt(struct bench_opts *o, int ch, const char *v)
{
	switch (ch) {
	case 'P':
		o->proto = bench_main_proto(v);
		return o->proto ? 0 : -1;
	case 'h':
		return inet_pton(AF_INET, v, &o->server.sin_addr) == 1 ? 0 : -1;
	case 'p':
		o->server.sin_port = htons((uint16_t)atoi(v));
		return 0;
	case 'w':
		o->workload = v;
		return 0;
	case 'S':
		o->server_pid = (pid_t)atoi(v);
		return 0;
	case 'j':
		return inet_pton(AF_INET, v, &o->server2.sin_addr) == 1 ? 0
		                                                        : -1;
	case 'q':
		o->server2.sin_port = htons((uint16_t)atoi(v));
		return 0;
	case 'Z':
		o->server_pid2 = (pid_t)atoi(v);
		return 0;
	case 'x':
		if (o->naux == BENCH_RUN_MAX_AUX)
			return -1;
		o->aux_pids[o->naux++] = (pid_t)atoi(v);
		return 0;
	case 'L':
		o->label = v;
		return 0;
	case 'T':
		o->tag = v;
		return 0;
	case 'a':
		o->sources = atoi(v);
		return 0;
	case 'n':
		o->pairs = atoi(v);
		return 0;
	case 'm':
		o->members = atoi(v);
		return 0;
	case 's':
		o->senders = atoi(v);
		return 0;
	case 'g':
		o->groups = atoi(v);
		return 0;
	case 'G':
		o->group_size = atoi(v);
		return 0;
	case 'c':
		o->conns = atoi(v);
		return 0;
	case 'l':
		o->logins = atoi(v);
		return 0;
	case 'B':
		o->burst = atoi(v);
		return 0;
	case 'N':
		o->storm_nice = atoi(v);
		return 0;
	case 'W':
		o->window = atoi(v);
		return 0;
	case 'b':
		o->body = atoi(v);
		return 0;
	case 'r':
		o->rate = atof(v);
		return 0;
	case 'k':
		o->tick_us = atoi(v);
		return 0;
	case 'd':
		o->duration = atof(v);
		return 0;
	case 'u':
		o->warmup = atof(v);
		return 0;
	case 't':
		o->timeout = atof(v);
		return 0;
	case 'O':
		return bench_main_oper(v);
	case 'C':
		return bench_natter_set_cmid(v);
	case 'X':
		o->trace = v;
		return 0;
	default:
		return -1;
	}
}

/* Options into o; -1 (usage printed) if they do not make a run. */
static int
bench_main_args(struct bench_opts *o, int argc, char **argv)
{
	int ch;

	bench_main_defaults(o);
	while ((ch = getopt_long(argc, argv, "", bench_main_longopts, NULL)) !=
	       -1)
		if (bench_main_opt(o, ch, optarg) < 0)
			goto usage;
	if (o->proto == NULL || o->workload == NULL ||
	    o->server.sin_port == 0 || o->sources < 1 || o->pairs < 1 ||
	    o->members < 2 || o->senders < 1 || o->senders > o->members ||
	    o->conns < 1 || o->burst < 1 || o->window < 1 || o->body < 32 ||
	    o->body > 4000 || o->rate <= 0 || o->tick_us < 10 ||
	    o->tick_us > 1000000)
		goto usage;
	/* A group needs someone to send to. Its members are connections, so
	 * far fewer than a million fit under the file limit anyway; the cap
	 * keeps the connection numbers (group * size + member) in an int. */
	if (o->groups < 1 || o->group_size < 2 ||
	    (long long)o->groups * o->group_size > 1000000)
		goto usage;
	/* Only these workloads know whom to put on a second node. */
	if (o->server2.sin_port != 0 && strcmp(o->workload, "relay") != 0 &&
	    strcmp(o->workload, "latency") != 0 &&
	    strcmp(o->workload, "storm") != 0 &&
	    strcmp(o->workload, "groups") != 0)
		goto usage;
	if (o->label == NULL)
		o->label = o->proto->name;
	return 0;
usage:
	fputs(bench_main_usage, stderr);
	return -1;
}

int
main(int argc, char **argv)
{
	struct bench_opts o;
	struct bench_run *run;
	int r;

	if (bench_main_args(&o, argc, argv) < 0)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	if (bench_proc_raise_nofile() < (long)o.conns + 64 &&
	    strcmp(o.workload, "idle") == 0)
		fprintf(stderr,
		        "natter-bench: the descriptor limit (ulimit "
		        "-Hn) is below --conns %d: expect failures\n",
		        o.conns);
	run = bench_run_new(&o);
	if (strcmp(o.workload, "relay") == 0 ||
	    strcmp(o.workload, "latency") == 0 ||
	    strcmp(o.workload, "storm") == 0)
		r = bench_pairs_run(run);
	else if (strcmp(o.workload, "fanout") == 0)
		r = bench_fanout_run(run);
	else if (strcmp(o.workload, "groups") == 0)
		r = bench_groups_run(run);
	else if (strcmp(o.workload, "idle") == 0)
		r = bench_idle_run(run);
	else {
		fputs(bench_main_usage, stderr);
		r = 2;
	}
	bench_run_free(run);
	return r;
}
