/*
 * The store contract: what every backend must do, whatever its SQL. Runs
 * against NATTER_TEST_STORE_URL, or a fresh SQLite file in NATTER_TEST_TMP.
 * A MySQL URL must name an empty database of its own.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mariadb/mysql.h>
#include <sodium.h>

#include "errcode.h"
#include "store-mysql.h"
#include "store.h"
#include "unit.h"
#include "xmalloc.h"

static struct store *st;

/* Registers name (which must be free) and returns its id. */
static int64_t
test_register(const char *name)
{
	struct store_user u;
	int64_t id;

	CHECK_EQ_INT(store_user_register(st, name, "password1", &u), 0);
	id = u.id;
	CHECK(u.name != NULL && strcmp(u.name, name) == 0);
	store_user_clear(&u);
	return id;
}

/* Sends body at server time ts; returns the code. */
static int
test_send_at(int64_t from, int64_t to_user, int64_t to_group, const char *body,
             const char *cmid, int64_t ts, struct store_msg *out, bool *dup)
{
	struct store_send in = {.from_id = from,
	                        .to_user = to_user,
	                        .to_group = to_group,
	                        .body = body,
	                        .body_len = strlen(body),
	                        .cmid = cmid,
	                        .ts = ts};
	bool d;

	return store_msg_append(st, &in, out, dup != NULL ? dup : &d, NULL);
}

/* Sends body from one user to a user or group; returns the code. */
static int
test_send(int64_t from, int64_t to_user, int64_t to_group, const char *body,
          const char *cmid, struct store_msg *out, bool *dup)
{
	return test_send_at(from, to_user, to_group, body, cmid, 1700000000000,
	                    out, dup);
}

/* Sends at ts and forgets: the new seq, or a negative errcode. */
static int64_t
test_say_at(int64_t from, int64_t to_user, int64_t to_group, const char *body,
            int64_t ts)
{
	struct store_msg m;
	int64_t seq;
	int r;

	r = test_send_at(from, to_user, to_group, body, NULL, ts, &m, NULL);
	if (r < 0)
		return r;
	seq = m.seq;
	store_msg_clear(&m);
	return seq;
}

/* Sends and forgets: the new seq, or a negative errcode. */
static int64_t
test_say(int64_t from, int64_t to_user, int64_t to_group, const char *body)
{
	return test_say_at(from, to_user, to_group, body, 1700000000000);
}

/* The number of messages uid's sync would return (up to 1000). */
static size_t
test_pending(int64_t uid)
{
	struct store_msg *v;
	size_t n;
	bool more;

	CHECK_EQ_INT(store_sync(st, uid, 1000, &v, &n, &more), 0);
	store_msgs_free(v, n);
	return n;
}

/* Register, login, names byte-exact and case-sensitive. */
static void
test_users(void)
{
	static const char *names[] = {"张伟",          "🙂emoji🎉",
	                              "Robert');DROP", "a'b\"c%_\\*",
	                              "Alice",         "alice"};
	struct store_user u;
	int64_t id;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(*names); i++) {
		id = test_register(names[i]);
		CHECK_EQ_INT(store_user_login(st, names[i], "password1", &u),
		             0);
		CHECK_EQ_INT(u.id, id);
		CHECK(u.name != NULL && strcmp(u.name, names[i]) == 0);
		store_user_clear(&u);
		CHECK_EQ_INT(store_user_get(st, id, &u), 0);
		CHECK(u.name != NULL && strcmp(u.name, names[i]) == 0);
		store_user_clear(&u);
	}
	CHECK_EQ_INT(store_user_register(st, "Alice", "otherpass", &u),
	             -ERR_NAME_TAKEN);
	CHECK(u.name == NULL);
	CHECK_EQ_INT(store_user_login(st, "Alice", "wrongpass", &u),
	             -ERR_BAD_CREDENTIALS);
	CHECK(u.name == NULL);
	CHECK_EQ_INT(store_user_login(st, "nobody", "password1", &u),
	             -ERR_BAD_CREDENTIALS);
	CHECK_EQ_INT(store_user_login(st, "ALICE", "password1", &u),
	             -ERR_BAD_CREDENTIALS);
	CHECK_EQ_INT(store_user_get(st, 999999, &u), -ERR_NOT_FOUND);
}

/* Friends: mutual, idempotent add, errors, removal. */
static void
test_friends(void)
{
	int64_t a = test_register("f-ann"), b = test_register("f-bob");
	int64_t c = test_register("f-cat");
	struct store_user u, *v;
	struct store_ids ids;
	bool created;
	size_t n;

	CHECK_EQ_INT(store_friend_add(st, a, "f-bob", &u, &created), 0);
	CHECK(created);
	CHECK_EQ_INT(u.id, b);
	CHECK(strcmp(u.name, "f-bob") == 0);
	store_user_clear(&u);
	CHECK_EQ_INT(store_friend_add(st, b, "f-ann", &u, &created), 0);
	CHECK(!created);
	CHECK_EQ_INT(u.id, a);
	store_user_clear(&u);
	CHECK_EQ_INT(store_friend_add(st, a, "f-cat", &u, &created), 0);
	store_user_clear(&u);
	CHECK_EQ_INT(store_friend_add(st, a, "f-ann", &u, &created),
	             -ERR_BAD_REQUEST);
	CHECK_EQ_INT(store_friend_add(st, a, "f-nobody", &u, &created),
	             -ERR_NOT_FOUND);

	CHECK_EQ_INT(store_friends(st, a, &v, &n), 0);
	CHECK_EQ_INT(n, 2);
	if (n == 2) {
		CHECK(strcmp(v[0].name, "f-bob") == 0 && v[0].id == b);
		CHECK(strcmp(v[1].name, "f-cat") == 0 && v[1].id == c);
	}
	store_users_free(v, n);
	CHECK_EQ_INT(store_friend_ids(st, b, &ids), 0);
	CHECK(ids.n == 1 && ids.ids[0] == a);
	free(ids.ids);

	CHECK_EQ_INT(store_friend_remove(st, b, a), 0);
	CHECK_EQ_INT(store_friend_remove(st, a, b), -ERR_NOT_FRIENDS);
	CHECK_EQ_INT(store_friend_remove(st, a, 999999), -ERR_NOT_FRIENDS);
	CHECK_EQ_INT(store_friend_ids(st, a, &ids), 0);
	CHECK(ids.n == 1 && ids.ids[0] == c);
	free(ids.ids);
	CHECK_EQ_INT(store_friends(st, b, &v, &n), 0);
	CHECK_EQ_INT(n, 0);
	store_users_free(v, n);
}

/* Leaving: errors, listings after, the creator leaving too. */
static void
test_groups_leave(int64_t a, int64_t b, int64_t c, int64_t gid)
{
	struct store_member *mv;
	struct store_group g;
	struct store_ids ids;
	size_t n;

	CHECK_EQ_INT(store_group_leave(st, c, gid), 0);
	CHECK_EQ_INT(store_group_leave(st, c, gid), -ERR_NOT_MEMBER);
	CHECK_EQ_INT(store_group_leave(st, c, 999999), -ERR_NOT_FOUND);
	CHECK_EQ_INT(store_group_members(st, c, gid, &mv, &n), -ERR_NOT_MEMBER);
	CHECK_EQ_INT(store_group_member_ids(st, gid, &ids), 0);
	CHECK(ids.n == 2 && ids.ids[0] == a && ids.ids[1] == b);
	free(ids.ids);
	/* The creator may leave; the group stays. */
	CHECK_EQ_INT(store_group_leave(st, a, gid), 0);
	CHECK_EQ_INT(store_group_join(st, c, 0, "讨论组", &g), 0);
	store_group_clear(&g);
	CHECK_EQ_INT(store_group_member_ids(st, gid, &ids), 0);
	CHECK(ids.n == 2 && ids.ids[0] == b && ids.ids[1] == c);
	free(ids.ids);
}

/* Groups: create, join by id and name, leave, listings, errors. */
static void
test_groups(void)
{
	int64_t a = test_register("g-ann"), b = test_register("g-bob");
	int64_t c = test_register("g-cat");
	struct store_group g, *gv;
	struct store_member *mv;
	int64_t gid;
	size_t n;

	CHECK_EQ_INT(store_group_create(st, a, "讨论组", "desc 描述", &g), 0);
	gid = g.id;
	CHECK(strcmp(g.name, "讨论组") == 0 &&
	      strcmp(g.desc, "desc 描述") == 0);
	CHECK_EQ_INT(g.role, STORE_ROLE_CREATOR);
	store_group_clear(&g);
	CHECK_EQ_INT(store_group_create(st, b, "讨论组", NULL, &g),
	             -ERR_NAME_TAKEN);
	/* User and group names are separate namespaces. */
	CHECK_EQ_INT(store_group_create(st, b, "g-ann", NULL, &g), 0);
	CHECK(strcmp(g.desc, "") == 0);
	store_group_clear(&g);

	CHECK_EQ_INT(store_group_join(st, b, gid, NULL, &g), 0);
	CHECK(g.id == gid && g.role == STORE_ROLE_MEMBER);
	CHECK(strcmp(g.name, "讨论组") == 0);
	store_group_clear(&g);
	CHECK_EQ_INT(store_group_join(st, c, 0, "讨论组", &g), 0);
	CHECK_EQ_INT(g.id, gid);
	store_group_clear(&g);
	CHECK_EQ_INT(store_group_join(st, c, gid, NULL, &g),
	             -ERR_ALREADY_MEMBER);
	CHECK_EQ_INT(store_group_join(st, a, gid, NULL, &g),
	             -ERR_ALREADY_MEMBER);
	CHECK_EQ_INT(store_group_join(st, c, 999999, NULL, &g), -ERR_NOT_FOUND);
	CHECK_EQ_INT(store_group_join(st, c, 0, "no-such", &g), -ERR_NOT_FOUND);

	CHECK_EQ_INT(store_groups(st, b, &gv, &n), 0);
	CHECK_EQ_INT(n, 2);
	if (n == 2) {
		CHECK(strcmp(gv[0].name, "g-ann") == 0);
		CHECK_EQ_INT(gv[0].role, STORE_ROLE_CREATOR);
		CHECK_EQ_INT(gv[1].role, STORE_ROLE_MEMBER);
	}
	store_groups_free(gv, n);

	CHECK_EQ_INT(store_group_members(st, b, gid, &mv, &n), 0);
	CHECK_EQ_INT(n, 3);
	if (n == 3) {
		CHECK(mv[0].id == a && mv[0].role == STORE_ROLE_CREATOR);
		CHECK(strcmp(mv[1].name, "g-bob") == 0);
		CHECK(mv[2].role == STORE_ROLE_MEMBER);
	}
	store_members_free(mv, n);
	CHECK_EQ_INT(store_group_members(st, b, 999999, &mv, &n),
	             -ERR_NOT_FOUND);

	test_groups_leave(a, b, c, gid);
}

/* Direct messages: checks, seq, content round trip, rcpt. */
static void
test_direct(void)
{
	int64_t a = test_register("d-ann"), b = test_register("d-bob");
	int64_t c = test_register("d-cat");
	const char *body = "你好 🌏 'quote' \"dq\"; DROP TABLE messages;--";
	struct store_send in = {.from_id = a,
	                        .to_user = b,
	                        .body = body,
	                        .body_len = strlen(body),
	                        .cmid = "c-1",
	                        .ts = 42};
	struct store_user u;
	struct store_msg m;
	struct store_ids rcpt;
	char conv[STORE_CONV_MAX];
	bool dup, created;

	CHECK_EQ_INT(test_say(a, b, 0, "hi"), -ERR_NOT_FRIENDS);
	CHECK_EQ_INT(test_say(a, 999999, 0, "hi"), -ERR_NOT_FOUND);
	CHECK_EQ_INT(test_say(a, a, 0, "hi"), -ERR_NOT_FRIENDS);
	CHECK_EQ_INT(store_friend_add(st, a, "d-bob", &u, &created), 0);
	store_user_clear(&u);

	CHECK_EQ_INT(store_msg_append(st, &in, &m, &dup, &rcpt), 0);
	store_conv_direct(conv, b, a);
	CHECK(strcmp(m.conv, conv) == 0 && m.seq == 1 && !dup);
	CHECK(m.from_id == a && strcmp(m.from_name, "d-ann") == 0);
	CHECK(m.to_user == b && m.to_group == 0 && m.ts == 42);
	CHECK(strcmp(m.body, body) == 0 && strcmp(m.cmid, "c-1") == 0);
	CHECK(rcpt.n == 2);
	CHECK((rcpt.ids[0] == a && rcpt.ids[1] == b) ||
	      (rcpt.ids[0] == b && rcpt.ids[1] == a));
	free(rcpt.ids);
	store_msg_clear(&m);
	CHECK_EQ_INT(test_say(b, a, 0, "two"), 2);
	CHECK_EQ_INT(test_say(a, b, 0, "three"), 3);
	CHECK_EQ_INT(test_say(a, c, 0, "x"), -ERR_NOT_FRIENDS);

	/* A retry with the same cmid returns the first message. */
	in.body = "different";
	in.body_len = strlen(in.body);
	CHECK_EQ_INT(store_msg_append(st, &in, &m, &dup, &rcpt), 0);
	CHECK(dup && m.seq == 1 && strcmp(m.body, body) == 0);
	free(rcpt.ids);
	store_msg_clear(&m);
	CHECK_EQ_INT(test_say(a, b, 0, "four"), 4);
	/* Another sender may use the same cmid. */
	CHECK_EQ_INT(test_send(b, a, 0, "b's", "c-1", &m, &dup), 0);
	CHECK(!dup && m.seq == 5);
	store_msg_clear(&m);
	CHECK_EQ_INT(test_pending(b), 5);
	CHECK_EQ_INT(test_pending(c), 0);
}

/* Group messages, and the join cursor: no replay, but history. */
static void
test_group_msgs(void)
{
	int64_t a = test_register("gm-ann"), b = test_register("gm-bob");
	int64_t c = test_register("gm-cat");
	struct store_group g;
	struct store_msg *v, m;
	struct store_ids rcpt;
	char conv[STORE_CONV_MAX];
	struct store_send in = {.from_id = a, .body = "after", .body_len = 5};
	int64_t gid;
	bool more, dup;
	size_t n;

	CHECK_EQ_INT(store_group_create(st, a, "gm-room", NULL, &g), 0);
	gid = in.to_group = g.id;
	store_group_clear(&g);
	store_conv_group(conv, gid);
	CHECK_EQ_INT(store_group_join(st, b, gid, NULL, &g), 0);
	store_group_clear(&g);
	CHECK_EQ_INT(test_say(c, 0, gid, "x"), -ERR_NOT_MEMBER);
	CHECK_EQ_INT(test_say(c, 0, 999999, "x"), -ERR_NOT_FOUND);
	CHECK_EQ_INT(test_say(a, 0, gid, "one"), 1);
	CHECK_EQ_INT(test_say(b, 0, gid, "two"), 2);

	CHECK_EQ_INT(store_group_join(st, c, gid, NULL, &g), 0);
	store_group_clear(&g);
	CHECK_EQ_INT(test_pending(c), 0);
	CHECK_EQ_INT(store_history(st, c, conv, 0, 10, &v, &n), 0);
	CHECK(n == 2 && v[0].seq == 1 && v[1].seq == 2);
	CHECK(n == 2 && v[0].to_group == gid && v[0].to_user == 0);
	store_msgs_free(v, n);

	CHECK_EQ_INT(store_msg_append(st, &in, &m, &dup, &rcpt), 0);
	CHECK_EQ_INT(m.seq, 3);
	CHECK(rcpt.n == 3 && rcpt.ids[0] == a && rcpt.ids[2] == c);
	free(rcpt.ids);
	store_msg_clear(&m);
	CHECK_EQ_INT(store_sync(st, c, 10, &v, &n, &more), 0);
	CHECK(n == 1 && v[0].seq == 3 && !more);
	CHECK(n == 1 && strcmp(v[0].conv, conv) == 0);
	store_msgs_free(v, n);
	/* Leaving stops sync and history. */
	CHECK_EQ_INT(store_group_leave(st, c, gid), 0);
	CHECK_EQ_INT(test_pending(c), 0);
	CHECK_EQ_INT(store_history(st, c, conv, 0, 10, &v, &n),
	             -ERR_NOT_MEMBER);
}

/* Malformed conversation ids are bad requests, not "not member". */
static void
test_bad_conv(int64_t uid)
{
	static const char *bad[] = {
	    "x:1",   "d:2:1", "d:1:1", "g:01",   "g:1x",
	    "g:",    "g:-1",  "d:1",   "",       "g:99999999999999999999",
	    "d:x:y", "g:+1",  "g: 1",  "d:1:2:", "G:1"};
	struct store_msg *v;
	size_t i, n;

	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		CHECK_EQ_INT(store_ack(st, uid, bad[i], 1), -ERR_BAD_REQUEST);
		CHECK_EQ_INT(store_history(st, uid, bad[i], 0, 5, &v, &n),
		             -ERR_BAD_REQUEST);
	}
	CHECK_EQ_INT(store_ack(st, uid, NULL, 1), -ERR_BAD_REQUEST);
}

/* Sync order, limit and more; ack forward only and clamped. */
static void
test_sync_ack(void)
{
	int64_t a = test_register("s-ann"), b = test_register("s-bob");
	int64_t c = test_register("s-cat");
	struct store_user u;
	struct store_group g;
	struct store_msg *v;
	char dconv[STORE_CONV_MAX], gconv[STORE_CONV_MAX];
	int64_t gid;
	bool created, more;
	size_t n;

	CHECK_EQ_INT(store_friend_add(st, a, "s-bob", &u, &created), 0);
	store_user_clear(&u);
	CHECK_EQ_INT(store_group_create(st, a, "s-room", NULL, &g), 0);
	gid = g.id;
	store_group_clear(&g);
	store_conv_direct(dconv, a, b);
	store_conv_group(gconv, gid);
	CHECK_EQ_INT(store_group_join(st, b, gid, NULL, &g), 0);
	store_group_clear(&g);
	CHECK_EQ_INT(test_say(a, b, 0, "d1"), 1);
	CHECK_EQ_INT(test_say(a, 0, gid, "g1"), 1);
	CHECK_EQ_INT(test_say(b, a, 0, "d2"), 2);
	CHECK_EQ_INT(test_say(a, 0, gid, "g2"), 2);

	CHECK_EQ_INT(store_sync(st, b, 3, &v, &n, &more), 0);
	CHECK(n == 3 && more);
	if (n == 3) {
		CHECK(strcmp(v[0].body, "d1") == 0);
		CHECK(strcmp(v[1].body, "g1") == 0);
		CHECK(strcmp(v[2].body, "d2") == 0 && v[2].from_id == b);
	}
	store_msgs_free(v, n);
	CHECK_EQ_INT(store_sync(st, b, 4, &v, &n, &more), 0);
	CHECK(n == 4 && !more);
	store_msgs_free(v, n);

	CHECK_EQ_INT(store_ack(st, b, dconv, 2), 0);
	CHECK_EQ_INT(store_ack(st, b, dconv, 1), 0); /* never back */
	CHECK_EQ_INT(store_sync(st, b, 10, &v, &n, &more), 0);
	CHECK(n == 2 && strcmp(v[0].body, "g1") == 0);
	store_msgs_free(v, n);
	CHECK_EQ_INT(store_ack(st, b, gconv, 100), 0); /* clamped to 2 */
	CHECK_EQ_INT(test_pending(b), 0);
	CHECK_EQ_INT(test_say(a, 0, gid, "g3"), 3);
	CHECK_EQ_INT(store_sync(st, b, 10, &v, &n, &more), 0);
	CHECK(n == 1 && v[0].seq == 3);
	store_msgs_free(v, n);

	CHECK_EQ_INT(store_ack(st, c, dconv, 1), -ERR_NOT_MEMBER);
	CHECK_EQ_INT(store_ack(st, c, gconv, 1), -ERR_NOT_MEMBER);
	CHECK_EQ_INT(store_ack(st, c, "g:999999", 1), -ERR_NOT_MEMBER);
	CHECK_EQ_INT(store_history(st, c, dconv, 0, 5, &v, &n),
	             -ERR_NOT_MEMBER);
	test_bad_conv(b);
}

/*
 * Whether v[0..n) holds, for each conversation, the seqs right above
 * the cursor in order: 1, 2, ... (uid acked nothing yet).
 */
static bool
test_sync_prefixes(const struct store_msg *v, size_t n)
{
	size_t i, j;
	int64_t want;

	for (i = 0; i < n; i++) {
		want = 1;
		for (j = 0; j < i; j++)
			if (strcmp(v[j].conv, v[i].conv) == 0)
				want++;
		if (v[i].seq != want)
			return false;
	}
	return true;
}

/*
 * Sends whose ts go back within a conversation (the caller's clock):
 * whatever the limit, sync returns each conversation's seqs in order, so
 * a client acking what it got never skips one, and each message's ts as
 * sent. (A store's own order across nodes: test-db-syncorder.c.)
 */
static void
test_sync_clocks(void)
{
	int64_t a = test_register("ck-ann"), b = test_register("ck-bob");
	struct store_user u;
	struct store_group g;
	struct store_msg *v;
	int64_t gid;
	bool created, more;
	size_t n, limit, i;

	CHECK_EQ_INT(store_friend_add(st, a, "ck-bob", &u, &created), 0);
	store_user_clear(&u);
	CHECK_EQ_INT(store_group_create(st, a, "ck-room", NULL, &g), 0);
	gid = g.id;
	store_group_clear(&g);
	CHECK_EQ_INT(store_group_join(st, b, gid, NULL, &g), 0);
	store_group_clear(&g);
	CHECK_EQ_INT(test_say_at(a, b, 0, "d1", 1700000000300), 1);
	CHECK_EQ_INT(test_say_at(a, 0, gid, "g1", 1700000000200), 1);
	CHECK_EQ_INT(test_say_at(a, b, 0, "d2", 1700000000100), 2);
	CHECK_EQ_INT(test_say_at(a, 0, gid, "g2", 1700000000400), 2);
	for (limit = 1; limit <= 5; limit++) {
		CHECK_EQ_INT(store_sync(st, b, limit, &v, &n, &more), 0);
		CHECK(n == (limit < 4 ? limit : 4) && more == (limit < 4));
		CHECK(test_sync_prefixes(v, n));
		/* Each keeps the ts it was sent with (d2's went back). */
		for (i = 0; i < n; i++)
			CHECK(strcmp(v[i].body, "d2") != 0 ||
			      v[i].ts == 1700000000100);
		store_msgs_free(v, n);
	}
}

/*
 * Sync pages through more than a page of several conversations, acking
 * what each page returned: every message once, each conversation in seq
 * order (on MariaDB, pages then stop where a conversation was read only
 * in part).
 */
static void
test_sync_pages(void)
{
	int64_t a = test_register("sp-ann"), b[3], seen[3] = {0};
	struct store_user u;
	struct store_msg *v;
	bool created, more = true;
	size_t n, i, total = 0;
	int k, pages = 0;

	for (k = 0; k < 3; k++) {
		b[k] = test_register(k == 0   ? "sp-bob"
		                     : k == 1 ? "sp-cat"
		                              : "sp-dan");
		CHECK_EQ_INT(store_friend_add(st, b[k], "sp-ann", &u, &created),
		             0);
		store_user_clear(&u);
	}
	/*
	 * 40 each, one conversation after another: on MariaDB each page
	 * then stops at the last message read of a conversation read in
	 * part (32, 40, 40, 8; SQLite 50, 50, 20).
	 */
	for (i = 0; i < 120; i++)
		CHECK(test_say(b[i / 40], a, 0, "p") > 0);
	while (more && pages++ < 20) {
		CHECK_EQ_INT(store_sync(st, a, 50, &v, &n, &more), 0);
		CHECK(n > 0 && n <= 50);
		for (i = 0; i < n; i++) {
			for (k = 0; k < 3 && v[i].from_id != b[k]; k++)
				;
			CHECK(k < 3 && v[i].seq == ++seen[k < 3 ? k : 0]);
			CHECK_EQ_INT(store_ack(st, a, v[i].conv, v[i].seq), 0);
		}
		total += n;
		store_msgs_free(v, n);
	}
	CHECK(!more && total == 120);
	CHECK(seen[0] == 40 && seen[1] == 40 && seen[2] == 40);
}

/* History pages backwards with before; oldest first in each page. */
static void
test_history(void)
{
	int64_t a = test_register("h-ann"), b = test_register("h-bob");
	struct store_user u;
	struct store_msg *v;
	char conv[STORE_CONV_MAX], body[16];
	bool created;
	size_t n;
	int i;

	CHECK_EQ_INT(store_friend_add(st, b, "h-ann", &u, &created), 0);
	store_user_clear(&u);
	for (i = 1; i <= 7; i++) {
		snprintf(body, sizeof(body), "m%d", i);
		CHECK_EQ_INT(test_say(i % 2 ? a : b, i % 2 ? b : a, 0, body),
		             i);
	}
	store_conv_direct(conv, a, b);
	CHECK_EQ_INT(store_history(st, a, conv, 0, 3, &v, &n), 0);
	CHECK(n == 3 && v[0].seq == 5 && v[2].seq == 7);
	CHECK(n == 3 && strcmp(v[2].body, "m7") == 0);
	store_msgs_free(v, n);
	CHECK_EQ_INT(store_history(st, b, conv, 5, 3, &v, &n), 0);
	CHECK(n == 3 && v[0].seq == 2 && v[2].seq == 4);
	store_msgs_free(v, n);
	CHECK_EQ_INT(store_history(st, b, conv, 2, 3, &v, &n), 0);
	CHECK(n == 1 && v[0].seq == 1);
	store_msgs_free(v, n);
	CHECK_EQ_INT(store_history(st, b, conv, 1, 3, &v, &n), 0);
	CHECK_EQ_INT(n, 0);
	store_msgs_free(v, n);
}

/* Unfriend and befriend again: history kept, old messages not replayed. */
static void
test_refriend(void)
{
	int64_t a = test_register("r-ann"), b = test_register("r-bob");
	struct store_user u;
	struct store_msg *v;
	char conv[STORE_CONV_MAX];
	bool created;
	size_t n;

	store_conv_direct(conv, a, b);
	CHECK_EQ_INT(store_friend_add(st, a, "r-bob", &u, &created), 0);
	store_user_clear(&u);
	CHECK_EQ_INT(test_say(a, b, 0, "one"), 1);
	CHECK_EQ_INT(test_say(a, b, 0, "two"), 2);
	CHECK_EQ_INT(store_friend_remove(st, a, b), 0);
	CHECK_EQ_INT(test_pending(b), 0);
	CHECK_EQ_INT(store_history(st, b, conv, 0, 10, &v, &n),
	             -ERR_NOT_MEMBER);
	CHECK_EQ_INT(test_say(a, b, 0, "x"), -ERR_NOT_FRIENDS);
	CHECK_EQ_INT(store_friend_add(st, b, "r-ann", &u, &created), 0);
	CHECK(created);
	store_user_clear(&u);
	CHECK_EQ_INT(test_pending(b), 0);
	CHECK_EQ_INT(test_say(b, a, 0, "three"), 3);
	CHECK_EQ_INT(test_pending(a), 1);
	CHECK_EQ_INT(store_history(st, a, conv, 0, 10, &v, &n), 0);
	CHECK_EQ_INT(n, 3);
	store_msgs_free(v, n);
}

/* Sends with the sender's name given; the code or the new seq. */
static int64_t
test_say_as(int64_t from, const char *name, int64_t to_user, int64_t to_group,
            const char *body, const char *cmid, struct store_ids *rcpt)
{
	struct store_send in = {.from_id = from,
	                        .to_user = to_user,
	                        .to_group = to_group,
	                        .body = body,
	                        .body_len = strlen(body),
	                        .cmid = cmid,
	                        .ts = 7,
	                        .from_name = name};
	struct store_msg m;
	int64_t seq;
	bool dup;
	int r;

	if ((r = store_msg_append(st, &in, &m, &dup, rcpt)) < 0)
		return r;
	/* A given name is copied, not looked up. */
	CHECK(m.from_name != NULL && name != NULL &&
	      strcmp(m.from_name, name) == 0);
	seq = m.seq;
	store_msg_clear(&m);
	return seq;
}

/* from_name: copied when given, looked up when NULL; same checks. */
static void
test_from_name(void)
{
	int64_t a = test_register("n-ann"), b = test_register("n-bob");
	int64_t c = test_register("n-cat");
	struct store_send in = {.from_id = a, .body = "x", .body_len = 1};
	struct store_user u;
	struct store_group g;
	struct store_ids rcpt;
	struct store_msg m;
	bool created, dup;

	CHECK_EQ_INT(store_friend_add(st, a, "n-bob", &u, &created), 0);
	store_user_clear(&u);
	CHECK_EQ_INT(store_group_create(st, a, "n-room", NULL, &g), 0);
	in.to_group = g.id;
	store_group_clear(&g);
	CHECK_EQ_INT(test_say_as(a, "n-ann", b, 0, "one", "n1", NULL), 1);
	CHECK_EQ_INT(test_say_as(a, "n-ann", 0, in.to_group, "g", NULL, &rcpt),
	             1);
	CHECK(rcpt.n == 1 && rcpt.ids[0] == a);
	free(rcpt.ids);
	/* The checks are the same with a name given. */
	CHECK_EQ_INT(test_say_as(a, "n-ann", c, 0, "x", NULL, NULL),
	             -ERR_NOT_FRIENDS);
	CHECK_EQ_INT(test_say_as(a, "n-ann", a, 0, "x", NULL, NULL),
	             -ERR_NOT_FRIENDS);
	CHECK_EQ_INT(test_say_as(a, "n-ann", 999999, 0, "x", NULL, NULL),
	             -ERR_NOT_FOUND);
	CHECK_EQ_INT(test_say_as(999999, "ghost", 999999, 0, "x", NULL, NULL),
	             -ERR_NOT_FOUND);
	CHECK_EQ_INT(test_say_as(c, "n-cat", 0, in.to_group, "x", NULL, &rcpt),
	             -ERR_NOT_MEMBER);
	CHECK(rcpt.ids == NULL && rcpt.n == 0);
	CHECK_EQ_INT(test_say_as(c, "n-cat", 0, 999999, "x", NULL, &rcpt),
	             -ERR_NOT_FOUND);
	/* NULL looks the name up. */
	CHECK_EQ_INT(store_msg_append(st, &in, &m, &dup, NULL), 0);
	CHECK(m.seq == 2 && strcmp(m.from_name, "n-ann") == 0);
	store_msg_clear(&m);
	/* A retry returns the stored message, name included. */
	CHECK_EQ_INT(test_say_as(a, "n-ann", b, 0, "again", "n1", NULL), 1);
	/* ... even when the checks would refuse it now; seqs go on. */
	CHECK_EQ_INT(store_friend_remove(st, a, b), 0);
	CHECK_EQ_INT(test_say_as(a, "n-ann", b, 0, "again", "n1", NULL), 1);
	CHECK_EQ_INT(test_say_as(a, "n-ann", b, 0, "x", "n2", NULL),
	             -ERR_NOT_FRIENDS);
	CHECK_EQ_INT(store_friend_add(st, b, "n-ann", &u, &created), 0);
	store_user_clear(&u);
	CHECK_EQ_INT(test_say_as(a, "n-ann", b, 0, "two", "n2", NULL), 2);
}

/* Whether m lends in's strings (store_msg.lent) or holds copies. */
static bool
test_lends(const struct store_msg *m, const struct store_send *in)
{
	CHECK(strcmp(m->body, in->body) == 0 && strcmp(m->cmid, in->cmid) == 0);
	if (!m->lent)
		return false;
	CHECK(m->from_name == in->from_name && m->body == in->body &&
	      m->cmid == in->cmid);
	return true;
}

/*
 * A new message lends the send's strings when the name is given, one by
 * one and in a batch; a looked-up name or a retry's stored message are
 * copies. store_msg_clear frees only copies (ASan: no leak, no bad free).
 */
static void
test_lent(void)
{
	int64_t a = test_register("l-ann"), b = test_register("l-bob");
	struct store_send in[3];
	struct store_msg m[3];
	struct store_user u;
	bool dup[3], created;
	int res[3], i;

	memset(m, 0, sizeof(m));
	CHECK_EQ_INT(store_friend_add(st, a, "l-bob", &u, &created), 0);
	store_user_clear(&u);
	for (i = 0; i < 3; i++)
		in[i] = (struct store_send){.from_id = a,
		                            .to_user = b,
		                            .body = i == 1 ? "two" : "one",
		                            .body_len = 3,
		                            .cmid = i == 1 ? "l2" : "l1",
		                            .ts = 5,
		                            .from_name = "l-ann"};
	CHECK_EQ_INT(store_msg_append(st, &in[0], &m[0], &dup[0], NULL), 0);
	CHECK(!dup[0] && test_lends(&m[0], &in[0]));
	store_msg_clear(&m[0]);
	/* a retry (stored), a new one, a new one with its name looked up */
	in[2].cmid = "l3";
	in[2].from_name = NULL;
	CHECK_EQ_INT(store_batch_begin(st), 0);
	CHECK_EQ_INT(store_msg_append_many(st, in, 3, m, dup, NULL, res), 0);
	CHECK_EQ_INT(store_batch_end(st, true), 0);
	CHECK(res[0] == 0 && res[1] == 0 && res[2] == 0);
	CHECK(dup[0] && m[0].seq == 1 && !test_lends(&m[0], &in[0]));
	CHECK(!dup[1] && m[1].seq == 2 && test_lends(&m[1], &in[1]));
	CHECK(!dup[2] && m[2].seq == 3 && !test_lends(&m[2], &in[2]));
	CHECK(strcmp(m[0].from_name, "l-ann") == 0 &&
	      strcmp(m[2].from_name, "l-ann") == 0);
	for (i = 0; i < 3; i++)
		store_msg_clear(&m[i]);
}

/* The number of messages in conv that uid's history shows (up to 100). */
static size_t
test_count(int64_t uid, const char *conv)
{
	struct store_msg *v;
	size_t n;

	CHECK_EQ_INT(store_history(st, uid, conv, 0, 100, &v, &n), 0);
	store_msgs_free(v, n);
	return n;
}

/* A rolled back batch stores nothing; seqs are given back. */
static void
test_batch_rollback(int64_t a, int64_t b, const char *conv)
{
	CHECK_EQ_INT(store_batch_begin(st), 0);
	CHECK_EQ_INT(test_say_as(a, "b-ann", b, 0, "gone1", "bc-x", NULL), 5);
	CHECK_EQ_INT(test_say_as(b, "b-bob", a, 0, "gone2", NULL, NULL), 6);
	CHECK(store_batch_end(st, false) < 0);
	CHECK_EQ_INT(test_count(a, conv), 4);
	/* Outside a batch, each call commits on its own again. */
	CHECK_EQ_INT(test_say_as(a, "b-ann", b, 0, "five", "bc-x", NULL), 5);
	CHECK_EQ_INT(test_count(b, conv), 5);
}

/*
 * A batch whose first call is refused (on MariaDB its undo is the whole
 * transaction, there being nothing before it), then a batch right after
 * (on MariaDB in the empty transaction the last one's end opened).
 */
static void
test_batch_first_refused(int64_t a, int64_t b, int64_t c, const char *conv)
{
	CHECK_EQ_INT(store_batch_begin(st), 0);
	CHECK_EQ_INT(test_say_as(a, "b-ann", c, 0, "no", NULL, NULL),
	             -ERR_NOT_FRIENDS);
	CHECK_EQ_INT(test_say_as(a, "b-ann", b, 0, "six", NULL, NULL), 6);
	CHECK_EQ_INT(store_batch_end(st, true), 0);
	CHECK_EQ_INT(store_batch_begin(st), 0);
	CHECK_EQ_INT(test_say_as(b, "b-bob", a, 0, "seven", NULL, NULL), 7);
	CHECK_EQ_INT(store_batch_end(st, true), 0);
	CHECK_EQ_INT(test_count(b, conv), 7);
}

/*
 * Group commit: a failing call in the middle undoes only itself, the rest
 * commit together with consecutive seqs; a cmid repeated in one batch is
 * a duplicate.
 */
static void
test_batch(void)
{
	int64_t a = test_register("b-ann"), b = test_register("b-bob");
	int64_t c = test_register("b-cat");
	struct store_user u;
	struct store_group g;
	struct store_ids rcpt;
	char conv[STORE_CONV_MAX];
	int64_t gid;
	bool created;
	int r;

	CHECK_EQ_INT(store_friend_add(st, a, "b-bob", &u, &created), 0);
	store_user_clear(&u);
	CHECK_EQ_INT(store_group_create(st, a, "b-room", NULL, &g), 0);
	gid = g.id;
	store_group_clear(&g);
	store_conv_direct(conv, a, b);
	if ((r = store_batch_begin(st)) == 1)
		return; /* this backend does not batch */
	CHECK_EQ_INT(r, 0);
	CHECK_EQ_INT(test_say_as(a, "b-ann", b, 0, "one", "bc-1", NULL), 1);
	CHECK_EQ_INT(test_say_as(b, "b-bob", a, 0, "two", NULL, NULL), 2);
	CHECK_EQ_INT(test_say_as(a, "b-ann", c, 0, "x", NULL, NULL),
	             -ERR_NOT_FRIENDS);
	CHECK_EQ_INT(test_say_as(c, "b-cat", 0, gid, "x", NULL, &rcpt),
	             -ERR_NOT_MEMBER);
	CHECK_EQ_INT(test_say_as(a, "b-ann", b, 0, "three", NULL, NULL), 3);
	CHECK_EQ_INT(test_say_as(a, "b-ann", b, 0, "dup", "bc-1", NULL), 1);
	CHECK_EQ_INT(test_say_as(a, "b-ann", 0, gid, "g", NULL, &rcpt), 1);
	free(rcpt.ids);
	CHECK_EQ_INT(test_say_as(b, "b-bob", a, 0, "four", NULL, NULL), 4);
	CHECK_EQ_INT(store_batch_end(st, true), 0);
	CHECK_EQ_INT(test_count(a, conv), 4);
	CHECK_EQ_INT(test_pending(c), 0);
	test_batch_rollback(a, b, conv);
	test_batch_first_refused(a, b, c, conv);
}

/* Parses a test URL "mysql://USER:PASS@HOST:PORT/DB" and connects. */
static MYSQL *
test_mysql_connect(const char *url)
{
	char user[64], pass[64], host[64], db[64];
	unsigned int port;
	MYSQL *my;

	if (sscanf(url, "mysql://%63[^:]:%63[^@]@%63[^:]:%u/%63s", user, pass,
	           host, &port, db) != 5)
		return NULL;
	if ((my = mysql_init(NULL)) == NULL)
		return NULL;
	if (mysql_real_connect(my, host, user, pass, db, port, NULL, 0) ==
	    NULL) {
		fprintf(stderr, "test: connect: %s\n", mysql_error(my));
		mysql_close(my);
		return NULL;
	}
	return my;
}

/*
 * Waits (up to 5 s) until the connections in ids (a list "1, 2") have
 * left the processlist: a killed connection lingers for a moment.
 */
static void
test_mysql_gone(MYSQL *my, const char *ids)
{
	MYSQL_RES *res;
	char *q;
	int i, n = 1;

	q = xasprintf("SELECT id FROM information_schema.processlist "
	              "WHERE id IN (%s)",
	              ids);
	for (i = 0; i < 250 && n > 0; i++) {
		if (mysql_query(my, q) ||
		    (res = mysql_store_result(my)) == NULL)
			break;
		n = (int)mysql_num_rows(res);
		mysql_free_result(res);
		if (n > 0)
			usleep(20 * 1000);
	}
	free(q);
}

/*
 * Kills (if kill) the other connections to this database but keep (0:
 * none), and waits until they are gone; returns how many there were, or
 * -1 on error.
 */
static int
test_mysql_kill(MYSQL *my, bool kill, unsigned long keep)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	char q[64], ids[512] = "0";
	size_t len = 1;
	int n = 0;

	if (mysql_query(my,
	                "SELECT id FROM information_schema.processlist "
	                "WHERE db = DATABASE() AND id <> CONNECTION_ID()") ||
	    (res = mysql_store_result(my)) == NULL)
		return -1;
	while ((row = mysql_fetch_row(res)) != NULL) {
		if (keep != 0 && strtoul(row[0], NULL, 10) == keep)
			continue;
		n++;
		snprintf(q, sizeof(q), "KILL CONNECTION %s", row[0]);
		if (kill && mysql_query(my, q) == 0 && len < sizeof(ids) - 24)
			len += (size_t)snprintf(ids + len, sizeof(ids) - len,
			                        ", %s", row[0]);
	}
	mysql_free_result(res);
	if (kill)
		test_mysql_gone(my, ids);
	return n;
}

/* The number of other connections to this database (killed if kill). */
static int
test_mysql_others(MYSQL *my, bool kill)
{
	return test_mysql_kill(my, kill, 0);
}

/*
 * MariaDB: the connection killed in the middle of a batch. The rest of
 * the batch fails without reconnecting (it would run outside the batch's
 * transaction), nothing of it is stored, and the next batch works.
 */
static void
test_batch_kill(const char *url)
{
	int64_t a = test_register("k-ann"), b = test_register("k-bob");
	struct store_user u;
	char conv[STORE_CONV_MAX];
	bool created;
	MYSQL *my;

	if (strncmp(url, "mysql://", 8) != 0)
		return;
	CHECK((my = test_mysql_connect(url)) != NULL);
	if (my == NULL)
		return;
	CHECK_EQ_INT(store_friend_add(st, a, "k-bob", &u, &created), 0);
	store_user_clear(&u);
	store_conv_direct(conv, a, b);
	CHECK_EQ_INT(store_batch_begin(st), 0);
	CHECK_EQ_INT(test_say_as(a, "k-ann", b, 0, "lost", NULL, NULL), 1);
	CHECK_EQ_INT(test_mysql_others(my, true), 1);
	CHECK_EQ_INT(test_say_as(a, "k-ann", b, 0, "x", NULL, NULL),
	             -ERR_UNAVAILABLE);
	CHECK_EQ_INT(test_say_as(b, "k-bob", a, 0, "y", "k-1", NULL),
	             -ERR_UNAVAILABLE);
	CHECK_EQ_INT(test_mysql_others(my, false), 0); /* no reconnect */
	CHECK_EQ_INT(store_batch_end(st, true), -ERR_UNAVAILABLE);
	CHECK_EQ_INT(store_batch_begin(st), 0);
	CHECK_EQ_INT(test_say_as(a, "k-ann", b, 0, "one", NULL, NULL), 1);
	CHECK_EQ_INT(test_say_as(b, "k-bob", a, 0, "two", "k-1", NULL), 2);
	CHECK_EQ_INT(store_batch_end(st, true), 0);
	CHECK_EQ_INT(test_count(a, conv), 2);
	/* Killed between batches: the next batch reconnects as it begins. */
	CHECK_EQ_INT(test_mysql_others(my, true), 1);
	CHECK_EQ_INT(store_batch_begin(st), 0);
	CHECK_EQ_INT(test_say_as(a, "k-ann", b, 0, "three", NULL, NULL), 3);
	CHECK_EQ_INT(store_batch_end(st, true), 0);
	/* Killed after the last call: the commit fails, nothing stored. */
	CHECK_EQ_INT(store_batch_begin(st), 0);
	CHECK_EQ_INT(test_say_as(a, "k-ann", b, 0, "four", NULL, NULL), 4);
	CHECK_EQ_INT(test_mysql_others(my, true), 1);
	CHECK_EQ_INT(store_batch_end(st, true), -ERR_UNAVAILABLE);
	CHECK_EQ_INT(test_count(a, conv), 3);
	mysql_close(my);
}

/* --- store_msg_append_many: the same as one call after another --- */

#define TEST_WU 5 /* users of a bulk world */
#define TEST_WG 2 /* groups of a bulk world */
#define TEST_NOUSER 999998
#define TEST_NOGROUP 999997
#define TEST_GHOST 999996

/*
 * A bulk world: users and groups made the same way under a prefix of
 * their own, so that two worlds in one database can run one script and
 * be compared (ids mapped back to indexes, names to suffixes).
 */
struct test_world {
	char pfx[16];
	int64_t u[TEST_WU], g[TEST_WG];
	char name[TEST_WU][32], alias[TEST_WU][32];
};

/* One send of a script: indexes into a world, or -1 for "no such". */
struct test_op {
	int from;
	char kind; /* 'u' direct, 'g' group, 'x' both targets, '0' none */
	int to;
	int body;
	int cmid;  /* -1: none, else "c-N" */
	int named; /* 0: from_name NULL, 1: the name, 2: an alias */
};

static const char *const test_bodies[] = {
    "hello",
    "it's a \"quote\" and a back\\slash",
    "'); DROP TABLE messages; --",
    "%_*?\\%\\_ LIKE metacharacters",
    "张伟说：你好，世界",
    "🙂🎉 emoji 👩‍👩‍👧",
    "\\",
    "'",
    "tab\tnew\nline\rcr",
    "X'41' 0x41 NULL \\0 \\n",
    " trailing space ",
    NULL, /* filled with 4096 bytes */
};

#define TEST_NBODIES (sizeof(test_bodies) / sizeof(*test_bodies))

static char test_long_body[4097];

/* A body of the pool; 99 is not UTF-8. */
static const char *
test_body(int i)
{
	if (i == 99)
		return "\xff\xfe not UTF-8";
	if (test_bodies[i] != NULL)
		return test_bodies[i];
	memset(test_long_body, 'a', 4096);
	test_long_body[0] = '\'';
	test_long_body[4095] = '\\';
	return test_long_body;
}

/*
 * Makes a world: users 0-4; friends 0-1, 0-2, 1-2, 3-4; group 0 of 0, 1,
 * 2 and group 1 of 3, 4; messages stored before: 0->1 "c-0", 1->group 0
 * "c-1", 3->4 "c-2", then 3 and 4 no longer friends.
 */
static void
test_world_new(struct test_world *w, const char *pfx)
{
	static const int fr[][2] = {{0, 1}, {0, 2}, {1, 2}, {3, 4}};
	struct store_user u;
	struct store_group g;
	struct store_msg m;
	char name[48];
	bool created;
	size_t i;

	snprintf(w->pfx, sizeof(w->pfx), "%s", pfx);
	for (i = 0; i < TEST_WU; i++) {
		snprintf(w->name[i], sizeof(w->name[i]), "%s-%zu", pfx, i);
		snprintf(w->alias[i], sizeof(w->alias[i]), "%s-al'%zu", pfx, i);
		w->u[i] = test_register(w->name[i]);
	}
	for (i = 0; i < 4; i++) {
		CHECK_EQ_INT(store_friend_add(st, w->u[fr[i][0]],
		                              w->name[fr[i][1]], &u, &created),
		             0);
		store_user_clear(&u);
	}
	for (i = 0; i < TEST_WG; i++) {
		snprintf(name, sizeof(name), "%s-room%zu", pfx, i);
		CHECK_EQ_INT(
		    store_group_create(st, w->u[i * 3], name, NULL, &g), 0);
		w->g[i] = g.id;
		store_group_clear(&g);
	}
	CHECK_EQ_INT(store_group_join(st, w->u[1], w->g[0], NULL, &g), 0);
	store_group_clear(&g);
	CHECK_EQ_INT(store_group_join(st, w->u[2], w->g[0], NULL, &g), 0);
	store_group_clear(&g);
	CHECK_EQ_INT(store_group_join(st, w->u[4], w->g[1], NULL, &g), 0);
	store_group_clear(&g);
	CHECK_EQ_INT(test_send(w->u[0], w->u[1], 0, "old", "c-0", &m, NULL), 0);
	store_msg_clear(&m);
	CHECK_EQ_INT(test_send(w->u[1], 0, w->g[0], "old", "c-1", &m, NULL), 0);
	store_msg_clear(&m);
	CHECK_EQ_INT(test_send(w->u[3], w->u[4], 0, "old", "c-2", &m, NULL), 0);
	store_msg_clear(&m);
	CHECK_EQ_INT(store_friend_remove(st, w->u[3], w->u[4]), 0);
}

/* The world's id of user index i (-1: one that does not exist). */
static int64_t
test_world_user(const struct test_world *w, int i)
{
	return i < 0 ? (i == -1 ? TEST_NOUSER : TEST_GHOST) : w->u[i];
}

/* The send of op in world w; cmid is a buffer for its cmid. */
static void
test_world_send(const struct test_world *w, const struct test_op *op,
                struct store_send *in, char *cmid, size_t cmid_size)
{
	memset(in, 0, sizeof(*in));
	in->from_id = test_world_user(w, op->from < 0 ? -2 : op->from);
	if (op->kind == 'u' || op->kind == 'x')
		in->to_user = test_world_user(w, op->to);
	if (op->kind == 'g' || op->kind == 'x')
		in->to_group =
		    op->to < 0 ? TEST_NOGROUP : w->g[op->to % TEST_WG];
	in->body = test_body(op->body);
	in->body_len = strlen(in->body);
	in->ts = 1700000000000 + op->body;
	if (op->cmid >= 0) {
		snprintf(cmid, cmid_size, "c-%d", op->cmid);
		in->cmid = cmid;
	}
	if (op->from >= 0 && op->named > 0)
		in->from_name =
		    op->named == 1 ? w->name[op->from] : w->alias[op->from];
}

/* An id of world w as the same in every world: u<i>, g<i> or the id. */
static void
test_world_id(const struct test_world *w, int64_t id, bool group, char *buf,
              size_t size)
{
	size_t i;

	for (i = 0; i < TEST_WU && !group; i++)
		if (w->u[i] == id) {
			snprintf(buf, size, "u%zu", i);
			return;
		}
	for (i = 0; i < TEST_WG && group; i++)
		if (w->g[i] == id) {
			snprintf(buf, size, "g%zu", i);
			return;
		}
	snprintf(buf, size, "%lld", (long long)id);
}

/* A conversation id of world w, the same in every world. */
static void
test_world_conv(const struct test_world *w, const char *conv, char *buf,
                size_t size)
{
	char a[24], b[24];
	long long x, y;

	if (sscanf(conv, "d:%lld:%lld", &x, &y) == 2) {
		test_world_id(w, x, false, a, sizeof(a));
		test_world_id(w, y, false, b, sizeof(b));
		snprintf(buf, size, "d:%s:%s", a, b);
	} else if (sscanf(conv, "g:%lld", &x) == 1) {
		test_world_id(w, x, true, a, sizeof(a));
		snprintf(buf, size, "g:%s", a);
	} else {
		snprintf(buf, size, "?%s", conv);
	}
}

/* A stored message of world w as text that is the same in every world. */
static char *
test_world_msg(const struct test_world *w, const struct store_msg *m)
{
	char conv[64], from[24], tu[24], tg[24];
	size_t plen = strlen(w->pfx);
	const char *name = m->from_name != NULL ? m->from_name : "(null)";

	if (strncmp(name, w->pfx, plen) == 0)
		name += plen;
	test_world_conv(w, m->conv, conv, sizeof(conv));
	test_world_id(w, m->from_id, false, from, sizeof(from));
	test_world_id(w, m->to_user, false, tu, sizeof(tu));
	test_world_id(w, m->to_group, true, tg, sizeof(tg));
	return xasprintf("conv=%s seq=%lld from=%s name=%s to=%s/%s ts=%lld "
	                 "cmid=%s body=[%s]",
	                 conv, (long long)m->seq, from, name, tu, tg,
	                 (long long)m->ts, m->cmid ? m->cmid : "(null)",
	                 m->body ? m->body : "(null)");
}

/* One result of a script as text that is the same in every world. */
static char *
test_world_result(const struct test_world *w, int res,
                  const struct store_msg *m, bool dup,
                  const struct store_ids *rcpt)
{
	char *msg = test_world_msg(w, m), *ids = xstrdup(""), *t, id[24];
	size_t i;

	for (i = 0; i < rcpt->n; i++) {
		test_world_id(w, rcpt->ids[i], false, id, sizeof(id));
		t = xasprintf("%s %s", ids, id);
		free(ids);
		ids = t;
	}
	t = xasprintf("res=%d dup=%d %s rcpt=[%s]", res, dup, msg, ids);
	free(msg);
	free(ids);
	return t;
}

/* Whether test_world_run asks for recipients (the writer always does). */
static bool test_want_rcpt = true;
/* The store test_world_run sends through, if not st: a writer's. */
static struct store *test_wst;

/*
 * Runs a script in world w in one batch, in one store_msg_append_many
 * call (bulk) or one store_msg_append per send; res_text[i] gets each
 * result as text.
 */
static void
test_world_run(const struct test_world *w, const struct test_op *ops, size_t n,
               bool bulk, char **res_text)
{
	struct store_send *in = xcalloc(n, sizeof(*in));
	struct store_msg *out = xcalloc(n, sizeof(*out));
	struct store_ids *rcpt = xcalloc(n, sizeof(*rcpt));
	char(*cmid)[16] = xcalloc(n, sizeof(*cmid));
	bool *dup = xcalloc(n, sizeof(*dup));
	int *res = xcalloc(n, sizeof(*res));
	struct store *ws = test_wst != NULL ? test_wst : st;
	int r = store_batch_begin(ws);
	size_t i;

	CHECK(r == 0 || r == 1);
	for (i = 0; i < n; i++)
		test_world_send(w, &ops[i], &in[i], cmid[i], sizeof(cmid[i]));
	if (bulk)
		CHECK_EQ_INT(store_msg_append_many(ws, in, n, out, dup,
		                                   test_want_rcpt ? rcpt : NULL,
		                                   res),
		             0);
	for (i = 0; i < n && !bulk; i++)
		res[i] = store_msg_append(ws, &in[i], &out[i], &dup[i],
		                          test_want_rcpt ? &rcpt[i] : NULL);
	CHECK_EQ_INT(store_batch_end(ws, true), 0);
	for (i = 0; i < n; i++) {
		res_text[i] =
		    test_world_result(w, res[i], &out[i], dup[i], &rcpt[i]);
		store_msg_clear(&out[i]);
		free(rcpt[i].ids);
	}
	free(res);
	free(dup);
	free(cmid);
	free(rcpt);
	free(out);
	free(in);
}

/* What every user of world w has to sync, as text. */
static char *
test_world_state(const struct test_world *w)
{
	struct store_msg *v;
	char *s = xstrdup(""), *t, *m;
	size_t i, j, n;
	bool more;

	for (i = 0; i < TEST_WU; i++) {
		CHECK_EQ_INT(store_sync(st, w->u[i], 1000, &v, &n, &more), 0);
		for (j = 0; j < n; j++) {
			m = test_world_msg(w, &v[j]);
			t = xasprintf("%su%zu: %s\n", s, i, m);
			free(m);
			free(s);
			s = t;
		}
		store_msgs_free(v, n);
	}
	return s;
}

/*
 * Runs ops in two fresh worlds, bulk and one by one, and checks every
 * result and everything stored are the same.
 */
static void
test_bulk_compare(const char *pfx, const struct test_op *ops, size_t n)
{
	struct test_world a, b;
	char **ra = xcalloc(n, sizeof(*ra)), **rb = xcalloc(n, sizeof(*rb));
	char pa[16], pb[16], *sa, *sb;
	size_t i;

	snprintf(pa, sizeof(pa), "%sA", pfx);
	snprintf(pb, sizeof(pb), "%sB", pfx);
	test_world_new(&a, pa);
	test_world_new(&b, pb);
	test_world_run(&a, ops, n, true, ra);
	test_world_run(&b, ops, n, false, rb);
	for (i = 0; i < n; i++) {
		if (strcmp(ra[i], rb[i]) != 0)
			fprintf(stderr, "%s #%zu:\n  bulk: %s\n  loop: %s\n",
			        pfx, i, ra[i], rb[i]);
		CHECK(strcmp(ra[i], rb[i]) == 0);
		free(ra[i]);
		free(rb[i]);
	}
	sa = test_world_state(&a);
	sb = test_world_state(&b);
	if (strcmp(sa, sb) != 0)
		fprintf(stderr, "%s stored:\n--- bulk\n%s--- loop\n%s", pfx, sa,
		        sb);
	CHECK(strcmp(sa, sb) == 0);
	free(sa);
	free(sb);
	free(ra);
	free(rb);
}

/* A deterministic pseudo-random number below n. */
static int
test_rand(unsigned int *seed, int n)
{
	*seed = *seed * 1103515245u + 12345u;
	return (int)((*seed >> 16) % (unsigned int)n);
}

/*
 * A random-ish script: mostly allowed sends, some refused (not friends,
 * not a member, no such user or group, oneself, no such sender), some
 * malformed; cmids repeated within the script and of stored messages.
 */
static void
test_script(struct test_op *ops, size_t n, unsigned int seed)
{
	struct test_op *op;
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		op = &ops[i];
		k = test_rand(&seed, 100);
		op->from = test_rand(&seed, 40) == 0 ? -2 : test_rand(&seed, 3);
		if (test_rand(&seed, 5) == 0 && op->from >= 0)
			op->from = 3 + test_rand(&seed, 2);
		op->kind = k < 55 ? 'u' : k < 95 ? 'g' : k < 98 ? 'x' : '0';
		op->to = test_rand(&seed, op->kind == 'u' ? 5 : 2);
		if (test_rand(&seed, 30) == 0)
			op->to = -1;
		op->body = test_rand(&seed, (int)TEST_NBODIES);
		op->cmid = test_rand(&seed, 3) == 0 ? -1 : test_rand(&seed, 40);
		op->named = test_rand(&seed, 3);
	}
}

/* "TAG" + "NAME" in buf (8 bytes). */
static const char *
test_tag(char *buf, const char *tag, const char *name)
{
	snprintf(buf, 8, "%s%s", tag, name);
	return buf;
}

/*
 * Bulk equals one by one: sizes 1, 2 and 256 (random-ish), edge cases;
 * tag makes the worlds' names unique in the database.
 */
static void
test_bulk(const char *tag)
{
	static const struct test_op one[] = {{0, 'g', 0, 4, 7, 2}};
	static const struct test_op two[] = {{0, 'u', 1, 2, 9, 2},
	                                     {0, 'u', 2, 5, 9, 1}};
	/* Refused first, then stored, then retried (refused again). */
	static const struct test_op edge[] = {
	    {3, 'u', 4, 0, 8, 0},    {0, 'u', 1, 1, 8, 0},
	    {3, 'u', 4, 0, 8, 0},    {3, 'u', 4, 1, 2, 2},
	    {0, 'g', 1, 4, 0, 1},    {0, 'u', 0, 3, 5, 1},
	    {1, 'g', 0, 6, 6, 0},    {1, 'u', 0, 7, 6, 2},
	    {-2, 'u', 0, 8, 11, 0},  {0, 'u', -1, 9, 12, 1},
	    {0, 'g', -1, 10, 13, 1}, {2, 'x', 0, 11, -1, 0},
	    {2, '0', 0, 0, -1, 0},   {2, 'g', 0, 11, -1, 0},
	    {1, 'u', 2, 11, 1, 1},   {4, 'g', 1, 5, 1, 2},
	};
	struct test_op *ops = xcalloc(256, sizeof(*ops));
	char pfx[8];

	test_bulk_compare(test_tag(pfx, tag, "s1"), one, 1);
	test_bulk_compare(test_tag(pfx, tag, "s2"), two, 2);
	test_bulk_compare(test_tag(pfx, tag, "se"), edge,
	                  sizeof(edge) / sizeof(*edge));
	test_script(ops, 256, 42);
	test_bulk_compare(test_tag(pfx, tag, "s256"), ops, 256);
	test_script(ops, 256, 7);
	test_bulk_compare(test_tag(pfx, tag, "t256"), ops, 256);
	/* Without recipients a group send reads only its sender's row. */
	test_want_rcpt = false;
	test_script(ops, 256, 11);
	test_bulk_compare(test_tag(pfx, tag, "n256"), ops, 256);
	test_want_rcpt = true;
	free(ops);
}

/*
 * How many sends a batch should hold: the backend's own figure, never
 * above the caller's limit; MariaDB's, a dozen statements a batch, is the
 * larger.
 */
static void
test_batch_max(const char *url)
{
	size_t mine = store_batch_max(st, SIZE_MAX);

	CHECK(mine >= 64 && mine < SIZE_MAX);
	CHECK(store_batch_max(st, 1) == 1);
	CHECK(store_batch_max(st, mine - 1) == mine - 1);
	CHECK(store_batch_max(st, mine + 1) == mine);
	if (strncmp(url, "mysql://", 8) == 0)
		CHECK(mine == 1024);
	else
		CHECK(mine == 256);
}

/*
 * The sum of the server's counters (all connections) named like pattern,
 * or -1: "Questions" counts the statements so far.
 */
static long long
test_mysql_status(MYSQL *my, const char *pattern)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	char q[128];
	long long n = 0;

	snprintf(q, sizeof(q), "SHOW GLOBAL STATUS LIKE '%s'", pattern);
	if (mysql_query(my, q) || (res = mysql_store_result(my)) == NULL)
		return -1;
	while ((row = mysql_fetch_row(res)) != NULL)
		n += row[1] != NULL ? strtoll(row[1], NULL, 10) : 0;
	mysql_free_result(res);
	return n;
}

/* n sends, every one allowed, each with a cmid of its own. */
static void
test_ops_allowed(struct test_op *ops, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		ops[i] = (struct test_op){(int)(i % 3),       i % 4 ? 'u' : 'g',
		                          (int)((i + 1) % 3), (int)(i % 11),
		                          (int)(100 + i),     1};
		if (ops[i].kind == 'g')
			ops[i].to = 0;
	}
}

/*
 * Runs the n sends of ops in world w (in bulk if bulk), checks that every
 * result begins with want ("res=0 dup=0": stored); returns the
 * statements that took, as the test connection my counts them.
 */
static long long
test_bulk_counted(MYSQL *my, const struct test_world *w,
                  const struct test_op *ops, size_t n, bool bulk,
                  const char *want)
{
	char **res = xcalloc(n, sizeof(*res));
	long long q0, q1;
	size_t i;

	q0 = test_mysql_status(my, "Questions");
	test_world_run(w, ops, n, bulk, res);
	q1 = test_mysql_status(my, "Questions");
	for (i = 0; i < n; i++) {
		CHECK(strncmp(res[i], want, strlen(want)) == 0);
		free(res[i]);
	}
	free(res);
	CHECK(q0 >= 0 && q1 >= 0);
	return q1 - q0 - 1; /* less the count's own statement */
}

/*
 * Makes world pfx and runs n allowed sends (test_ops_allowed: ops has
 * room for n) in it in bulk, each stored; returns the statements that
 * took.
 */
static long long
test_bulk_new(MYSQL *my, struct test_world *w, const char *pfx,
              struct test_op *ops, size_t n)
{
	test_ops_allowed(ops, n);
	test_world_new(w, pfx);
	return test_bulk_counted(my, w, ops, n, true, "res=0 dup=0");
}

/*
 * MariaDB: a batch of 256 allowed sends costs a few statements in bulk
 * (about 4 per send one by one); an invalid body makes the bulk path fall
 * back to one by one, with the same results. The first batch after the
 * world's joins and friendship removal runs twice (the epochs it assumed
 * changed); the next reads them in its seq upsert alone.
 */
static void
test_bulk_mysql(const char *url)
{
	static const struct test_op fb[] = {
	    {0, 'u', 1, 0, 30, 1}, {0, 'u', 1, 99, 31, 1},
	    {1, 'g', 0, 4, 32, 0}, {1, 'g', 0, 99, -1, 1},
	    {0, 'u', 1, 5, 31, 1}, {3, 'u', 4, 5, 2, 1},
	};
	struct test_op *ops = xcalloc(256, sizeof(*ops));
	struct test_world w;
	long long bulk, single, steady;
	size_t i;
	MYSQL *my;

	test_bulk_compare("fb", fb, sizeof(fb) / sizeof(*fb));
	if (strncmp(url, "mysql://", 8) != 0 ||
	    (my = test_mysql_connect(url)) == NULL) {
		free(ops);
		return;
	}
	bulk = test_bulk_new(my, &w, "rt", ops, 256);
	single = test_bulk_counted(my, &w, ops, 256, false, "res=0 dup=1");
	/* Retries of stored messages in bulk: the first attempt, which does
	 * not look cmids up, hits (sender, cmid) and the batch runs again. */
	(void)test_bulk_counted(my, &w, ops, 256, true, "res=0 dup=1");
	printf("bulk: 256 sends in %lld statements (one by one: %lld)\n", bulk,
	       single);
	CHECK(bulk <= 14);
	for (i = 0; i < 256; i++)
		ops[i].cmid += 1000;
	steady = test_bulk_counted(my, &w, ops, 256, true, "res=0 dup=0");
	printf("bulk: 256 more in %lld statements\n", steady);
	CHECK(steady <= 5);
	mysql_close(my);
	free(ops);
}

/*
 * MariaDB against a server without bulk execution (Oracle MySQL): a
 * batch's rows go one INSERT each, with the same results as the other
 * paths, retries of stored messages (the rerun) included.
 */
static void
test_bulk_rows_each(const char *url)
{
	struct store_options opt = {.pwhash_ops = crypto_pwhash_OPSLIMIT_MIN,
	                            .pwhash_mem = crypto_pwhash_MEMLIMIT_MIN,
	                            .mysql_rows_each = true};
	struct store *keep = st;
	struct test_op ops[64];
	struct test_world w;
	long long q;
	MYSQL *my;

	if (strncmp(url, "mysql://", 8) != 0 ||
	    (my = test_mysql_connect(url)) == NULL)
		return;
	CHECK_EQ_INT(store_open(url, &opt, &st, NULL), 0);
	test_bulk("e");
	/* and the rows did go one by one: an INSERT each */
	q = test_bulk_new(my, &w, "er", ops, 64);
	printf("rows each: 64 sends in %lld statements\n", q);
	CHECK(q >= 64);
	store_close(st);
	st = keep;
	mysql_close(my);
}

/* Runs one bulk send of ops[0]; checks its result code. */
static void
test_bulk_one(const struct test_world *w, struct test_op op, int want)
{
	char *res, *pfx = xasprintf("res=%d ", want);

	test_world_run(w, &op, 1, true, &res);
	if (strncmp(res, pfx, strlen(pfx)) != 0)
		fprintf(stderr, "bulk send: %s, want %s\n", res, pfx);
	CHECK(strncmp(res, pfx, strlen(pfx)) == 0);
	free(res);
	free(pfx);
}

/*
 * A friendship removed by another connection (a pool thread, another
 * node) stops the bulk path's sends at once, though the writer's
 * connection found it before (MariaDB keeps the friendships it found
 * while the social epoch holds); one added again is found again.
 */
static void
test_bulk_unfriend(const char *url)
{
	struct store *keep = st, *other = NULL;
	struct store_user u = {0};
	struct test_world w;
	bool created;

	CHECK_EQ_INT(store_open(url, NULL, &other, NULL), 0);
	test_world_new(&w, "uf");
	test_bulk_one(&w, (struct test_op){0, 'u', 1, 0, 50, 1}, 0);
	test_bulk_one(&w, (struct test_op){0, 'u', 2, 0, 51, 1}, 0);
	st = other;
	CHECK_EQ_INT(store_friend_remove(st, w.u[0], w.u[1]), 0);
	st = keep;
	test_bulk_one(&w, (struct test_op){0, 'u', 1, 0, 52, 1},
	              -ERR_NOT_FRIENDS);
	test_bulk_one(&w, (struct test_op){0, 'u', 2, 0, 53, 1}, 0);
	/* the writer's own connection removing one */
	CHECK_EQ_INT(store_friend_remove(st, w.u[2], w.u[0]), 0);
	test_bulk_one(&w, (struct test_op){0, 'u', 2, 0, 54, 1},
	              -ERR_NOT_FRIENDS);
	CHECK_EQ_INT(store_friend_add(other, w.u[1], w.name[0], &u, &created),
	             0);
	CHECK(created);
	store_user_clear(&u);
	test_bulk_one(&w, (struct test_op){0, 'u', 1, 0, 55, 1}, 0);
	store_close(other);
}

/* Runs one bulk send of op; checks that its result holds want. */
static void
test_bulk_has(const struct test_world *w, struct test_op op, const char *want)
{
	char *res;

	test_world_run(w, &op, 1, true, &res);
	if (strstr(res, want) == NULL)
		fprintf(stderr, "bulk send: %s, want %s\n", res, want);
	CHECK(strstr(res, want) != NULL);
	free(res);
}

/*
 * A member who leaves (by another connection, or the writer's own) gets
 * nothing more pushed by the bulk path, and a new member gets the next
 * message at once, though the writer's connection read the list before
 * (MariaDB keeps member lists while the members epoch holds).
 */
static void
test_bulk_leave(const char *url)
{
	struct store *other = NULL;
	struct store_group g;
	struct test_world w;

	CHECK_EQ_INT(store_open(url, NULL, &other, NULL), 0);
	test_world_new(&w, "lv");
	test_bulk_has(&w, (struct test_op){0, 'g', 0, 0, 60, 1},
	              "rcpt=[ u0 u1 u2]");
	CHECK_EQ_INT(store_group_leave(other, w.u[1], w.g[0]), 0);
	test_bulk_has(&w, (struct test_op){0, 'g', 0, 0, 61, 1},
	              "rcpt=[ u0 u2]");
	test_bulk_one(&w, (struct test_op){1, 'g', 0, 0, 62, 1},
	              -ERR_NOT_MEMBER);
	CHECK_EQ_INT(store_group_join(other, w.u[3], w.g[0], NULL, &g), 0);
	store_group_clear(&g);
	test_bulk_has(&w, (struct test_op){3, 'g', 0, 0, 63, 1},
	              "rcpt=[ u0 u2 u3]");
	/* the writer's own connection */
	CHECK_EQ_INT(store_group_leave(st, w.u[2], w.g[0]), 0);
	test_bulk_has(&w, (struct test_op){0, 'g', 0, 0, 65, 1},
	              "rcpt=[ u0 u3]");
	/* a group the list of which is known beside one that is not */
	test_bulk_has(&w, (struct test_op){4, 'g', 1, 0, 66, 1},
	              "rcpt=[ u3 u4]");
	store_close(other);
}

/* A killer thread's connection and the one it spares. */
struct test_killer {
	MYSQL *my;
	unsigned long keep;
};

/* Kills the store's connection a moment later, while it waits. */
static void *
test_killer_main(void *arg)
{
	struct test_killer *k = arg;

	usleep(300 * 1000);
	(void)test_mysql_kill(k->my, true, k->keep);
	return NULL;
}

/* Checks a lost bulk call: every send failed, no output left. */
static void
test_bulk_check_lost(int r, const struct store_msg *out, const bool *dup,
                     const struct store_ids *rcpt, const int *res, size_t n)
{
	size_t i;

	CHECK_EQ_INT(r, -ERR_UNAVAILABLE);
	for (i = 0; i < n; i++) {
		CHECK_EQ_INT(res[i], -ERR_UNAVAILABLE);
		CHECK(!dup[i] && out[i].from_name == NULL &&
		      out[i].body == NULL && out[i].seq == 0);
		CHECK(rcpt[i].ids == NULL && rcpt[i].n == 0);
	}
}

/* Runs the three sends of the kill test in one call; 0 or an errcode. */
static int
test_bulk_many(struct store_send *in, struct store_msg *out, bool *dup,
               struct store_ids *rcpt, int *res, bool lost)
{
	int r = store_msg_append_many(st, in, 3, out, dup, rcpt, res);
	size_t i;

	if (lost)
		test_bulk_check_lost(r, out, dup, rcpt, res, 3);
	for (i = 0; i < 3; i++) {
		if (!lost)
			CHECK_EQ_INT(res[i], 0);
		store_msg_clear(&out[i]);
		free(rcpt[i].ids);
	}
	return r;
}

/*
 * MariaDB: the bulk path when the connection is killed before it, and in
 * the middle of it (waiting for a conversation row another connection
 * holds): every send fails, nothing is stored, no reconnect inside the
 * batch, and the next batch works.
 */
static void
test_bulk_kill(const char *url)
{
	static const struct test_op ops[] = {{0, 'u', 1, 0, 20, 1},
	                                     {1, 'g', 0, 1, 21, 1},
	                                     {2, 'u', 0, 2, -1, 0}};
	struct test_killer k;
	struct store_send in[3];
	struct store_msg out[3];
	struct store_ids rcpt[3];
	struct test_world w;
	char cmid[3][16], conv[STORE_CONV_MAX], q[128];
	bool dup[3];
	int res[3];
	pthread_t t;
	MYSQL *my, *my2;
	size_t i;

	if (strncmp(url, "mysql://", 8) != 0 ||
	    (my = test_mysql_connect(url)) == NULL)
		return;
	test_world_new(&w, "bk");
	for (i = 0; i < 3; i++)
		test_world_send(&w, &ops[i], &in[i], cmid[i], sizeof(cmid[i]));
	store_conv_direct(conv, w.u[0], w.u[1]);
	CHECK_EQ_INT(store_batch_begin(st), 0);
	CHECK_EQ_INT(test_bulk_many(in, out, dup, rcpt, res, false), 0);
	CHECK_EQ_INT(test_mysql_others(my, true), 1);
	test_bulk_many(in, out, dup, rcpt, res, true);
	CHECK_EQ_INT(test_mysql_others(my, false), 0); /* no reconnect */
	CHECK_EQ_INT(store_batch_end(st, true), -ERR_UNAVAILABLE);
	CHECK_EQ_INT(test_count(w.u[0], conv), 1);
	/*
	 * Killed while it waits for the row lock my2 holds: the insert's
	 * foreign key check reads the conversation's row (checks are on).
	 */
	CHECK((my2 = test_mysql_connect(url)) != NULL);
	snprintf(q, sizeof(q),
	         "UPDATE conversations SET id = id WHERE id = '%s'", conv);
	CHECK(mysql_query(my2, "START TRANSACTION") == 0 &&
	      mysql_query(my2, q) == 0);
	CHECK_EQ_INT(store_batch_begin(st), 0);
	k.my = my;
	k.keep = mysql_thread_id(my2);
	CHECK(pthread_create(&t, NULL, test_killer_main, &k) == 0);
	test_bulk_many(in, out, dup, rcpt, res, true);
	pthread_join(t, NULL);
	CHECK_EQ_INT(store_batch_end(st, true), -ERR_UNAVAILABLE);
	CHECK(mysql_query(my2, "ROLLBACK") == 0);
	mysql_close(my2);
	CHECK_EQ_INT(test_count(w.u[0], conv), 1);
	/* The next batch reconnects and stores all three. */
	CHECK_EQ_INT(store_batch_begin(st), 0);
	CHECK_EQ_INT(test_bulk_many(in, out, dup, rcpt, res, false), 0);
	CHECK_EQ_INT(store_batch_end(st, true), 0);
	CHECK_EQ_INT(test_count(w.u[0], conv), 2);
	mysql_close(my);
}

/*
 * The bulk path on a writer's connection (store_sends_only: foreign key
 * checks off), as natterd runs it: the scripts of test_bulk and smaller
 * ones, a friendship removed and a member gone by another connection,
 * and (MariaDB) the statements of a small batch right after another.
 */
static void
test_bulk_writer(const char *url)
{
	struct test_op *ops = xcalloc(48, sizeof(*ops));
	struct test_world w;
	unsigned int seed;
	long long n;
	char pfx[8];
	MYSQL *my;

	CHECK_EQ_INT(store_open(url, NULL, &test_wst, NULL), 0);
	CHECK_EQ_INT(store_sends_only(test_wst), 0);
	test_bulk("w");
	for (seed = 1; seed <= 8; seed++) {
		test_script(ops, 48, seed);
		snprintf(pfx, sizeof(pfx), "w48%u", seed);
		test_bulk_compare(pfx, ops, 48);
	}
	test_world_new(&w, "wu");
	test_bulk_one(&w, (struct test_op){0, 'u', 1, 0, 70, 1}, 0);
	test_bulk_has(&w, (struct test_op){0, 'g', 0, 0, 71, 1},
	              "rcpt=[ u0 u1 u2]");
	CHECK_EQ_INT(store_friend_remove(st, w.u[0], w.u[1]), 0);
	test_bulk_one(&w, (struct test_op){0, 'u', 1, 0, 72, 1},
	              -ERR_NOT_FRIENDS);
	test_bulk_one(&w, (struct test_op){0, 'u', 2, 0, 73, 1}, 0);
	CHECK_EQ_INT(store_group_leave(st, w.u[1], w.g[0]), 0);
	test_bulk_has(&w, (struct test_op){0, 'g', 0, 0, 74, 1},
	              "rcpt=[ u0 u2]");
	if (strncmp(url, "mysql://", 8) == 0 &&
	    (my = test_mysql_connect(url)) != NULL) {
		test_world_new(&w, "wc");
		test_ops_allowed(ops, 48);
		/* one batch to learn the new world's epochs */
		(void)test_bulk_counted(my, &w, ops, 4, true, "res=0 dup=0");
		n = test_bulk_counted(my, &w, ops + 4, 44, true, "res=0 dup=0");
		printf("bulk: 44 sends on a writer in %lld statements\n", n);
		/* the seqs, the INSERT, the COMMIT; and START TRANSACTION
		 * if the machine was slow enough to end the chain */
		CHECK(n <= 4);
		mysql_close(my);
	}
	store_close(test_wst);
	test_wst = NULL;
	free(ops);
}

/*
 * A connection that only stores messages (the DB pool's writer, foreign
 * keys off in SQLite) still stores between friends and members and
 * refuses everyone else.
 */
static void
test_sends_only(const char *url)
{
	int64_t a = test_register("so-ann"), b = test_register("so-bob");
	int64_t c = test_register("so-cat");
	struct store_send in = {.from_id = a, .body = "x", .body_len = 1};
	struct store_user u;
	struct store_group g;
	struct store_msg m;
	struct store *w;
	bool created, dup;

	CHECK_EQ_INT(store_friend_add(st, a, "so-bob", &u, &created), 0);
	store_user_clear(&u);
	CHECK_EQ_INT(store_group_create(st, b, "so-room", NULL, &g), 0);
	CHECK_EQ_INT(store_open(url, NULL, &w, NULL), 0);
	CHECK_EQ_INT(store_sends_only(w), 0);
	in.to_user = b;
	CHECK_EQ_INT(store_msg_append(w, &in, &m, &dup, NULL), 0);
	CHECK_EQ_INT(m.seq, 1);
	store_msg_clear(&m);
	in.to_user = c;
	CHECK_EQ_INT(store_msg_append(w, &in, &m, &dup, NULL),
	             -ERR_NOT_FRIENDS);
	in.to_user = 0;
	in.to_group = g.id;
	CHECK_EQ_INT(store_msg_append(w, &in, &m, &dup, NULL), -ERR_NOT_MEMBER);
	in.to_group = g.id + 1000;
	CHECK_EQ_INT(store_msg_append(w, &in, &m, &dup, NULL), -ERR_NOT_FOUND);
	store_group_clear(&g);
	store_close(w);
	CHECK_EQ_INT(test_pending(b), 1);
}

/* Sends of from to to, cmids "<pfx><i>" for i in [i0, i1), in batches. */
static void
test_cmid_batches(struct store *w, int64_t from, int64_t to, const char *pfx,
                  int i0, int i1, int64_t *seqs, bool want_dup)
{
	struct store_send in[200];
	struct store_msg m[200];
	bool dup[200];
	int res[200], i, k, n;
	char(*cmid)[24] = xcalloc(200, sizeof(*cmid));

	for (i = i0; i < i1; i += n) {
		n = i1 - i < 200 ? i1 - i : 200;
		for (k = 0; k < n; k++) {
			snprintf(cmid[k], sizeof(cmid[k]), "%s%d", pfx, i + k);
			in[k] = (struct store_send){.from_id = from,
			                            .to_user = to,
			                            .body = "r",
			                            .body_len = 1,
			                            .cmid = cmid[k],
			                            .ts = 9};
		}
		CHECK_EQ_INT(store_batch_begin(w), 0);
		CHECK_EQ_INT(
		    store_msg_append_many(w, in, (size_t)n, m, dup, NULL, res),
		    0);
		CHECK_EQ_INT(store_batch_end(w, true), 0);
		for (k = 0; k < n; k++) {
			CHECK_EQ_INT(res[k], 0);
			CHECK(dup[k] == want_dup);
			if (want_dup)
				CHECK_EQ_INT(m[k].seq, seqs[i + k]);
			else
				seqs[i + k] = m[k].seq;
			store_msg_clear(&m[k]);
		}
	}
	free(cmid);
}

/*
 * A retry is the stored message however long ago it was sent, through
 * another connection, after a reopen (natterd restarted) and after
 * thousands of later messages (SQLite keeps recent cmids in memory and
 * writes them to msg_cmids later: both places are hit).
 */
static void
test_cmid_retries(const char *url)
{
	enum { N = 5000 };
	int64_t a = test_register("cr-ann"), b = test_register("cr-bob");
	int64_t *seqs = xcalloc(N + 1, sizeof(*seqs)), next[1];
	struct store_user u;
	struct store_msg m;
	struct store *w;
	bool created, dup;

	CHECK_EQ_INT(store_friend_add(st, a, "cr-bob", &u, &created), 0);
	store_user_clear(&u);
	CHECK_EQ_INT(store_open(url, NULL, &w, NULL), 0);
	CHECK_EQ_INT(store_sends_only(w), 0);
	test_cmid_batches(w, a, b, "cr-", 0, N, seqs, false);
	CHECK_EQ_INT(seqs[N - 1], N);
	/* Another connection, both ways. */
	CHECK_EQ_INT(test_send(a, b, 0, "x", "cr-7", &m, &dup), 0);
	CHECK(dup && m.seq == 8);
	store_msg_clear(&m);
	CHECK_EQ_INT(test_send(a, b, 0, "x", "cr-5000", &m, &dup), 0);
	CHECK(!dup && m.seq == N + 1);
	seqs[N] = m.seq;
	store_msg_clear(&m);
	/* The writer's next seq follows the other connection's message. */
	test_cmid_batches(w, a, b, "cr-next", 0, 1, next, false);
	CHECK_EQ_INT(next[0], N + 2);
	test_cmid_batches(w, a, b, "cr-", N - 40, N + 1, seqs, true);
	/* Reopened: every one of them, oldest first. */
	store_close(w);
	CHECK_EQ_INT(store_open(url, NULL, &w, NULL), 0);
	CHECK_EQ_INT(store_sends_only(w), 0);
	test_cmid_batches(w, a, b, "cr-", 0, N + 1, seqs, true);
	/* The same cmid from someone else is a message of its own. */
	test_cmid_batches(w, b, a, "cr-", 0, 10, seqs, false);
	CHECK_EQ_INT(seqs[0], N + 3);
	store_close(w);
	free(seqs);
}

/* Conversation names, formatted by hand, read as snprintf would write. */
static void
test_conv_names(void)
{
	static const int64_t v[] = {0,     1,         9,  10,
	                            12345, INT64_MAX, -1, INT64_MIN};
	char got[STORE_CONV_MAX], want[STORE_CONV_MAX];
	size_t i, j;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		store_conv_group(got, v[i]);
		snprintf(want, sizeof(want), "g:%" PRId64, v[i]);
		CHECK(strcmp(got, want) == 0);
		for (j = 0; j < sizeof(v) / sizeof(v[0]); j++) {
			store_conv_direct(got, v[i], v[j]);
			snprintf(want, sizeof(want), "d:%" PRId64 ":%" PRId64,
			         v[i] < v[j] ? v[i] : v[j],
			         v[i] < v[j] ? v[j] : v[i]);
			CHECK(strcmp(got, want) == 0);
		}
	}
}

/* Migrating again is a no-op; a bad URL is refused. */
static void
test_open(const char *url)
{
	struct store *st2;
	char *err = NULL;

	CHECK_EQ_INT(store_migrate(st), 0);
	CHECK(store_open("bogus:x", NULL, &st2, &err) < 0 && st2 == NULL);
	CHECK(err != NULL);
	free(err);
	err = NULL;
	CHECK_EQ_INT(
	    store_open("sqlite:/nonexistent-dir/x/y.db", NULL, &st2, &err),
	    -ERR_UNAVAILABLE);
	CHECK(err != NULL);
	free(err);
	/* A second connection sees the same data. */
	CHECK_EQ_INT(store_open(url, NULL, &st2, NULL), 0);
	CHECK_EQ_INT(store_migrate(st2), 0);
	store_close(st2);
	store_close(NULL);
}

/* One send as test_say_as, in a batch of its own if batch. */
static int64_t
test_say_batched(int64_t from, const char *name, int64_t to, bool batch)
{
	int64_t seq;

	if (batch)
		CHECK_EQ_INT(store_batch_begin(st), 0);
	seq = test_say_as(from, name, to, 0, "turn", NULL, NULL);
	if (batch)
		CHECK_EQ_INT(store_batch_end(st, true), 0);
	return seq;
}

/*
 * Two connections send to one conversation in turn, in batches and alone:
 * each send takes the next seq, and a cmid one stored is a duplicate on
 * the other (SQLite's writer keeps a conversation's last seq and recent
 * cmids in memory, and must notice the other connection's).
 */
static void
test_two_writers(const char *url)
{
	struct store *first = st, *other;
	int64_t a = test_register("tw-ann"), b = test_register("tw-bob");
	struct store_user u;
	struct store_msg m;
	bool created, dup;
	int64_t i;

	CHECK_EQ_INT(store_friend_add(st, a, "tw-bob", &u, &created), 0);
	store_user_clear(&u);
	CHECK_EQ_INT(store_open(url, NULL, &other, NULL), 0);
	for (i = 1; i <= 8; i++) {
		st = i % 2 != 0 ? first : other;
		CHECK_EQ_INT(test_say_batched(i % 3 != 0 ? a : b,
		                              i % 3 != 0 ? "tw-ann" : "tw-bob",
		                              i % 3 != 0 ? b : a, i > 4),
		             i);
	}
	st = first;
	/* The same connection twice in a row after the other's send. */
	CHECK_EQ_INT(test_say_batched(a, "tw-ann", b, true), 9);
	CHECK_EQ_INT(test_say_batched(a, "tw-ann", b, false), 10);
	/* A cmid the other connection stored is a duplicate here. */
	st = other;
	CHECK_EQ_INT(test_send(a, b, 0, "once", "tw-c1", &m, &dup), 0);
	CHECK(!dup && m.seq == 11);
	store_msg_clear(&m);
	st = first;
	CHECK_EQ_INT(test_send(a, b, 0, "once", "tw-c1", &m, &dup), 0);
	CHECK(dup && m.seq == 11);
	store_msg_clear(&m);
	store_close(other);
}

/* One send to a friend by the bulk path in a batch: its seq or code. */
static int64_t
test_say_bulk(int64_t from, int64_t to)
{
	struct store_send in = {.from_id = from,
	                        .to_user = to,
	                        .body = "undo",
	                        .body_len = 4,
	                        .ts = 7};
	struct store_msg m = {0};
	bool dup = false;
	int res = 0;
	int64_t seq;

	CHECK_EQ_INT(store_batch_begin(st), 0);
	CHECK_EQ_INT(store_msg_append_many(st, &in, 1, &m, &dup, NULL, &res),
	             0);
	CHECK_EQ_INT(store_batch_end(st, true), 0);
	seq = res < 0 ? res : m.seq;
	store_msg_clear(&m);
	return seq;
}

/*
 * A batch undone after it took its seqs leaves no gap: another
 * connection's unfriending (of others) changes the epoch the writer's
 * hopeful attempt assumed, so that attempt is rolled back after its
 * insert and the batch runs again. MariaDB's writer remembers the next
 * seq of the conversations it wrote; a rollback must forget them.
 */
static void
test_seq_after_undo(const char *url)
{
	struct store *other;
	int64_t a = test_register("su-ann"), b = test_register("su-bob");
	int64_t c = test_register("su-cat"), d = test_register("su-dan");
	struct store_user u;
	bool created;

	CHECK_EQ_INT(store_friend_add(st, a, "su-bob", &u, &created), 0);
	store_user_clear(&u);
	CHECK_EQ_INT(store_friend_add(st, c, "su-dan", &u, &created), 0);
	store_user_clear(&u);
	CHECK_EQ_INT(test_say_bulk(a, b), 1);
	CHECK_EQ_INT(test_say_bulk(a, b), 2);
	CHECK_EQ_INT(store_open(url, NULL, &other, NULL), 0);
	CHECK_EQ_INT(store_friend_remove(other, c, d), 0);
	store_close(other);
	CHECK_EQ_INT(test_say_bulk(a, b), 3);
	CHECK_EQ_INT(test_say_bulk(b, a), 4);
}

/* Runs q on my; 0, or -1 with the server's error shown. */
static int
test_mysql_do(MYSQL *my, const char *q)
{
	if (mysql_query(my, q) == 0)
		return 0;
	fprintf(stderr, "test: %s: %s\n", q, mysql_error(my));
	return -1;
}

/*
 * MariaDB inserts a batch's messages by (conv, seq), whatever order they
 * came in, so that every node takes the key's locks in one order
 * (store_mysql_bulk_order); a trigger logs the rows as they go in. Their
 * ord keeps the input order, which sync follows.
 */
static void
test_bulk_key_order(const char *url)
{
	int64_t a = test_register("ko-ann"), to[2];
	struct store_send in[3];
	struct store_msg out[3], *v;
	struct store_user u;
	bool created, dup[3], more;
	int res[3], i;
	size_t n;
	char prev[STORE_CONV_MAX + 24] = "", cur[sizeof(prev)];
	MYSQL_RES *rs;
	MYSQL_ROW row;
	MYSQL *my;

	if (strncmp(url, "mysql://", 8) != 0 ||
	    (my = test_mysql_connect(url)) == NULL)
		return;
	to[0] = test_register("ko-bob");
	to[1] = test_register("ko-cat");
	for (i = 0; i < 2; i++) {
		CHECK_EQ_INT(
		    store_friend_add(st, to[i], "ko-ann", &u, &created), 0);
		store_user_clear(&u);
	}
	CHECK(test_mysql_do(my,
	                    "CREATE TABLE ko_log (n INT AUTO_INCREMENT "
	                    "PRIMARY KEY, conv VARCHAR(64), seq BIGINT)") == 0);
	CHECK(test_mysql_do(
	          my, "CREATE TRIGGER ko_log BEFORE INSERT ON "
	              "messages FOR EACH ROW INSERT INTO "
	              "ko_log(conv, seq) VALUES(NEW.conv, NEW.seq)") == 0);
	/* cat, bob, cat: the later conversation first */
	for (i = 0; i < 3; i++)
		in[i] = (struct store_send){.from_id = a,
		                            .to_user = to[i == 1 ? 0 : 1],
		                            .body = "order",
		                            .body_len = 5,
		                            .ts = 7};
	CHECK_EQ_INT(store_batch_begin(st), 0);
	CHECK_EQ_INT(store_msg_append_many(st, in, 3, out, dup, NULL, res), 0);
	CHECK_EQ_INT(store_batch_end(st, true), 0);
	CHECK(test_mysql_do(my, "SELECT conv, seq FROM ko_log ORDER BY n") ==
	          0 &&
	      (rs = mysql_store_result(my)) != NULL);
	for (i = 0; (row = mysql_fetch_row(rs)) != NULL; i++) {
		snprintf(cur, sizeof(cur), "%s %020lld", row[0],
		         strtoll(row[1], NULL, 10));
		CHECK(strcmp(prev, cur) < 0);
		memcpy(prev, cur, sizeof(prev));
	}
	CHECK_EQ_INT(i, 3);
	mysql_free_result(rs);
	CHECK(test_mysql_do(my, "DROP TRIGGER ko_log") == 0);
	CHECK(test_mysql_do(my, "DROP TABLE ko_log") == 0);
	/* cat's first, bob's, cat's second: as sent */
	CHECK_EQ_INT(store_sync(st, to[1], 10, &v, &n, &more), 0);
	CHECK(n == 2 && v[0].seq == 1 && v[1].seq == 2);
	store_msgs_free(v, n);
	CHECK_EQ_INT(store_sync(st, a, 10, &v, &n, &more), 0);
	CHECK(n == 3 && v[0].to_user == to[1] && v[1].to_user == to[0] &&
	      v[2].to_user == to[1]);
	store_msgs_free(v, n);
	for (i = 0; i < 3; i++)
		store_msg_clear(&out[i]);
	mysql_close(my);
}

/* Another node's message, as it inserts it: 0 or -1. */
static int
test_mysql_msg(MYSQL *my, const char *conv, int seq, int64_t from, int64_t to,
               const char *cmid)
{
	char q[512];

	snprintf(q, sizeof(q),
	         "INSERT INTO messages(conv, seq, sender, to_user, body, ts, "
	         "cmid, ord) VALUES('%s', %d, %" PRId64 ", %" PRId64
	         ", 'other', 7, '%s', "
	         "CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS SIGNED))",
	         conv, seq, from, to, cmid);
	return test_mysql_do(my, q);
}

/* Commits my's transaction after a while (a thread of its own). */
static void *
test_commit_later(void *arg)
{
	MYSQL *my = arg;

	usleep(300 * 1000);
	return test_mysql_do(my, "COMMIT") == 0 ? my : NULL;
}

/*
 * Another node has inserted the next seq and not committed yet when a
 * single-path send (a batch's fallback) takes its seq: the send waits
 * for that commit and takes the seq after it, inside a batch.
 */
static void
test_seq_taken_meanwhile(const char *url)
{
	int64_t a = test_register("sm-ann"), b = test_register("sm-bob");
	struct store_send in = {.from_id = a,
	                        .to_user = b,
	                        .body = "mine",
	                        .body_len = 4,
	                        .cmid = "sm-mine",
	                        .ts = 7};
	struct store_msg out = {0}, *v;
	struct store_user u;
	bool created, dup = false, more;
	char conv[STORE_CONV_MAX];
	size_t n;
	pthread_t t;
	void *done;
	MYSQL *my;

	if (strncmp(url, "mysql://", 8) != 0 ||
	    (my = test_mysql_connect(url)) == NULL)
		return;
	CHECK_EQ_INT(store_friend_add(st, a, "sm-bob", &u, &created), 0);
	store_user_clear(&u);
	CHECK_EQ_INT(test_say_bulk(a, b), 1);
	store_conv_direct(conv, a, b);
	CHECK(test_mysql_do(my, "BEGIN") == 0 &&
	      test_mysql_msg(my, conv, 2, b, a, "sm-other") == 0);
	CHECK_EQ_INT(pthread_create(&t, NULL, test_commit_later, my), 0);
	CHECK_EQ_INT(store_batch_begin(st), 0);
	CHECK_EQ_INT(store_msg_append(st, &in, &out, &dup, NULL), 0);
	CHECK_EQ_INT(store_batch_end(st, true), 0);
	CHECK(pthread_join(t, &done) == 0 && done == my);
	CHECK(out.seq == 3 && !dup);
	store_msg_clear(&out);
	CHECK_EQ_INT(store_sync(st, b, 10, &v, &n, &more), 0);
	CHECK(n == 3 && v[0].seq == 1 && v[1].seq == 2 && v[2].seq == 3 &&
	      strcmp(v[2].body, "mine") == 0);
	store_msgs_free(v, n);
	mysql_close(my);
}

/*
 * The same for a batch's bulk read of the seqs (a conversation the
 * writer has no hint for): the read waits for the other insert's commit,
 * so the bulk attempt takes seq 3 at once, with no attempt undone.
 */
static void
test_bulk_seq_waits(const char *url)
{
	int64_t a = test_register("sw-ann"), b = test_register("sw-bob");
	struct store_send in = {.from_id = a,
	                        .to_user = b,
	                        .body = "mine",
	                        .body_len = 4,
	                        .cmid = "sw-mine",
	                        .ts = 7,
	                        .from_name = "sw-ann"};
	struct store_msg out = {0};
	struct store_user u;
	bool created, dup = false;
	long long undone;
	char conv[STORE_CONV_MAX];
	int res = 0;
	pthread_t t;
	void *done;
	MYSQL *my;

	if (strncmp(url, "mysql://", 8) != 0 ||
	    (my = test_mysql_connect(url)) == NULL)
		return;
	CHECK_EQ_INT(store_friend_add(st, a, "sw-bob", &u, &created), 0);
	store_user_clear(&u);
	store_conv_direct(conv, a, b); /* its row came with the friendship */
	CHECK_EQ_INT(test_mysql_msg(my, conv, 1, b, a, "sw-1"), 0);
	CHECK(test_mysql_do(my, "BEGIN") == 0 &&
	      test_mysql_msg(my, conv, 2, b, a, "sw-2") == 0);
	undone = test_mysql_status(my, "Com_rollback%");
	CHECK_EQ_INT(pthread_create(&t, NULL, test_commit_later, my), 0);
	CHECK_EQ_INT(store_batch_begin(st), 0);
	CHECK_EQ_INT(store_msg_append_many(st, &in, 1, &out, &dup, NULL, &res),
	             0);
	CHECK_EQ_INT(store_batch_end(st, true), 0);
	CHECK(pthread_join(t, &done) == 0 && done == my);
	CHECK(res == 0 && out.seq == 3 && !dup);
	CHECK_EQ_INT(test_mysql_status(my, "Com_rollback%") - undone, 0);
	store_msg_clear(&out);
	mysql_close(my);
}

/* Removes an SQLite database and its WAL files. */
static void
test_unlink(const char *path)
{
	static const char *sfx[] = {"", "-wal", "-shm"};
	char *p;
	size_t i;

	for (i = 0; i < 3; i++) {
		p = xasprintf("%s%s", path, sfx[i]);
		unlink(p);
		free(p);
	}
}

/* Which MariaDB servers an event loop may run batches on: local ones. */
static void
test_mysql_local(void)
{
	CHECK(store_mysql_host_local("127.0.0.1", NULL));
	CHECK(store_mysql_host_local("127.4.5.6", NULL));
	CHECK(store_mysql_host_local("::1", NULL));
	CHECK(store_mysql_host_local("localhost", NULL));
	CHECK(store_mysql_host_local("db.example", "/run/mysqld/mysqld.sock"));
	CHECK(!store_mysql_host_local("db.example", NULL));
	CHECK(!store_mysql_host_local("10.0.0.5", NULL));
	CHECK(!store_mysql_host_local("128.0.0.1", NULL));
	CHECK(!store_mysql_host_local("fe80::1", NULL));
}

/*
 * store_batch_cheap on MariaDB (SQLite's is test-db-checkpoint's): only
 * while the transaction the last batch's end opened may be used.
 */
static void
test_batch_cheap(const char *url)
{
	struct timespec wait = {0, 150 * 1000000L};
	struct store *w;
	bool cheap = false;
	int i;

	if (strncmp(url, "mysql://", 8) != 0)
		return;
	CHECK_EQ_INT(store_open(url, NULL, &w, NULL), 0);
	CHECK(!store_batch_cheap(w)); /* no batch yet */
	/* the chained transaction is there (unless 100 ms passed: again) */
	for (i = 0; i < 3 && !cheap; i++) {
		CHECK_EQ_INT(store_batch_begin(w), 0);
		CHECK_EQ_INT(store_batch_end(w, true), 0);
		cheap = store_batch_cheap(w);
	}
	CHECK(cheap);
	nanosleep(&wait, NULL);
	CHECK(!store_batch_cheap(w)); /* older than the chain's 100 ms */
	store_close(w);
}

/* Runs the contract against one fresh store. */
int
main(void)
{
	struct store_options opt = {.pwhash_ops = crypto_pwhash_OPSLIMIT_MIN,
	                            .pwhash_mem = crypto_pwhash_MEMLIMIT_MIN};
	const char *tmp = getenv("NATTER_TEST_TMP");
	const char *env = getenv("NATTER_TEST_STORE_URL");
	char *url, *path = NULL, *err = NULL;

	if (env != NULL && *env != '\0') {
		url = xstrdup(env);
	} else {
		path = xasprintf("%s/contract-%d.db", tmp ? tmp : "/tmp",
		                 (int)getpid());
		test_unlink(path);
		url = xasprintf("sqlite:%s", path);
	}
	if (store_open(url, &opt, &st, &err) < 0) {
		fprintf(stderr, "%s: %s\n", url, err ? err : "?");
		return 1;
	}
	CHECK_EQ_INT(store_migrate(st), 0);
	test_users();
	test_friends();
	test_groups();
	test_direct();
	test_group_msgs();
	test_sync_ack();
	test_sync_clocks();
	test_sync_pages();
	test_history();
	test_refriend();
	test_from_name();
	test_lent();
	test_batch();
	test_batch_kill(url);
	test_bulk("");
	test_bulk_mysql(url);
	test_bulk_rows_each(url);
	test_bulk_unfriend(url);
	test_bulk_leave(url);
	test_bulk_writer(url);
	test_batch_max(url);
	test_mysql_local();
	test_batch_cheap(url);
	test_bulk_kill(url);
	test_open(url);
	test_sends_only(url);
	test_cmid_retries(url);
	test_conv_names();
	test_two_writers(url);
	test_seq_after_undo(url);
	test_bulk_key_order(url);
	test_seq_taken_meanwhile(url);
	test_bulk_seq_waits(url);
	store_close(st);
	if (path != NULL) {
		test_unlink(path);
	}
	free(path);
	free(url);
	return UNIT_END();
}
