#ifndef NATTER_BENCH_BENCH_PROC_H
#define NATTER_BENCH_BENCH_PROC_H

#include <stdint.h>
#include <sys/types.h>

/*
 * Clocks and process figures: the monotonic clock in nanoseconds, CPU
 * seconds used so far by a process (from /proc/PID/stat, all threads) or by
 * the generator itself, and a process's resident set (VmRSS) in KiB. The
 * /proc readers return -1 when the process cannot be read.
 */
uint64_t bench_proc_now(void);
double bench_proc_cpu(pid_t pid);
double bench_proc_self_cpu(void);
long bench_proc_rss(pid_t pid);
/*
 * Raises this process's soft descriptor limit to the hard one (the idle
 * workload holds thousands of connections; the soft default is 1024).
 * Returns the soft limit now (LONG_MAX: none), -1 if it cannot be read.
 */
long bench_proc_raise_nofile(void);

#endif
