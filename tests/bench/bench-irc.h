#ifndef NATTER_BENCH_BENCH_IRC_H
#define NATTER_BENCH_BENCH_IRC_H

#include "bench-conn.h"

/*
 * IRC (RFC 2812) as far as the workloads need: NICK/USER until 001
 * (READY), PRIVMSG to a nick (pairs) or a channel (groups; JOIN, DONE at
 * 366 end of names), PING answered with PONG. PRIVMSG has no
 * acknowledgement.
 */
extern const struct bench_proto bench_irc_proto;

/*
 * Makes every connection OPER as name/password after 001 and set user
 * mode +F (ngircd's "relaxed flood protection", operators only); READY
 * then waits for the +F. Both strings must outlive the run.
 */
void bench_irc_set_oper(const char *name, const char *password);

#endif
