#ifndef NATTER_BENCH_BENCH_STORM_H
#define NATTER_BENCH_BENCH_STORM_H

#include <stdint.h>

struct bench_opts;
struct event_base;
struct bench_storm;

/*
 * The login storm on a thread of its own, with its own event loop and its
 * own connections, so the chat loop that measures latency is not stuck
 * behind the logins: o->logins connections named tag+"l"+0.. (natter:
 * registered beforehand) log in to o->server, at most o->burst being set
 * up at once. done(arg) is called on base's loop (the caller's) once every
 * login is in, and again if a storm connection fails or closes (then
 * bench_storm_error says why). The connections stay open until
 * bench_storm_free, which stops and joins the thread; o must outlive it.
 * Returns NULL if the thread cannot be started (the error is printed).
 */
struct bench_storm *bench_storm_start(const struct bench_opts *o,
                                      struct event_base *base,
                                      void (*done)(void *), void *arg);

/* Stops the thread, closes its connections and frees st; NULL: no-op. */
void bench_storm_free(struct bench_storm *st);

/* Logins completed so far; callable from any thread. */
int bench_storm_logins(const struct bench_storm *st);

/* When the last login completed (bench_proc_now's clock); 0 until then. */
uint64_t bench_storm_end(const struct bench_storm *st);

/* Why the storm failed (borrowed), or NULL if it has not. */
const char *bench_storm_error(const struct bench_storm *st);

#endif
