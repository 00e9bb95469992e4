/* The guard's counters: connection caps, login locks, the password-check
 * budget, and that expired entries do not pile up (a leak found in review:
 * every failed name stayed in memory for the life of the process). */
#include <stdio.h>

#include "guard.h"
#include "unit.h"

#define WINDOW_S 60
#define WINDOW_MS (WINDOW_S * 1000)

static struct guard *
guard_make(unsigned per_addr, unsigned fail_name, unsigned fail_addr,
           unsigned auth)
{
	struct guard_limits lim = {3,         per_addr, fail_name,
	                           fail_addr, WINDOW_S, auth};

	return guard_new(&lim);
}

static void
test_conn_caps(void)
{
	struct guard *g = guard_make(2, 0, 0, 0);

	CHECK(guard_conn_open(g, "10.0.0.1"));
	CHECK(guard_conn_open(g, "10.0.0.1"));
	CHECK(!guard_conn_open(g, "10.0.0.1")); /* per address */
	CHECK(guard_conn_open(g, "10.0.0.2"));
	CHECK(!guard_conn_open(g, "10.0.0.3")); /* per node: 3 */
	guard_conn_close(g, "10.0.0.1");
	CHECK(guard_conn_open(g, "10.0.0.3"));
	guard_conn_close(g, "10.0.0.1");
	guard_conn_close(g, "10.0.0.2");
	guard_conn_close(g, "10.0.0.3");
	CHECK_EQ_INT(guard_size(g), 0);
	guard_free(g);
}

static void
test_login_locks(void)
{
	struct guard *g = guard_make(0, 3, 5, 0);
	int i;

	for (i = 0; i < 3; i++) {
		CHECK(guard_login_allowed(g, "alice", "10.0.0.1", 1000));
		guard_login_failed(g, "alice", "10.0.0.1", 1000);
	}
	CHECK(!guard_login_allowed(g, "alice", "10.0.0.9", 1001)); /* name */
	CHECK(guard_login_allowed(g, "bob", "10.0.0.1", 1001));
	CHECK(guard_login_allowed(g, "alice", "10.0.0.9", 1000 + WINDOW_MS));
	/* five failures over any names lock the address */
	for (i = 0; i < 2; i++)
		guard_login_failed(g, "x", "10.0.0.1", 2000);
	CHECK(!guard_login_allowed(g, "carol", "10.0.0.1", 2001));
	CHECK(guard_login_allowed(g, "carol", "10.0.0.2", 2001));
	guard_free(g);
}

static void
test_auth_budget(void)
{
	struct guard *g = guard_make(0, 0, 0, 2); /* 2/s, bursts of 4 */
	int i, ok = 0;

	for (i = 0; i < 10; i++)
		ok += guard_auth_take(g, "10.0.0.1", 5000);
	CHECK_EQ_INT(ok, 4);
	CHECK(guard_auth_take(g, "10.0.0.2", 5000)); /* per address */
	CHECK(guard_auth_take(g, "10.0.0.1", 5600)); /* refilled one */
	guard_free(g);
}

static void
test_sweep(void)
{
	struct guard *g = guard_make(0, 10, 0, 0);
	char name[32];
	int i;

	for (i = 0; i < 10000; i++) {
		snprintf(name, sizeof name, "guess%d", i);
		guard_login_failed(g, name, "10.0.0.1", 1000);
	}
	CHECK(guard_size(g) >= 10000);
	/* a window later, the next failure sweeps what expired */
	guard_login_failed(g, "late", "10.0.0.2", 1000 + 2 * WINDOW_MS);
	CHECK(guard_size(g) <= 2);
	guard_free(g);
}

int
main(void)
{
	test_conn_caps();
	test_login_locks();
	test_auth_budget();
	test_sweep();
	return UNIT_END();
}
