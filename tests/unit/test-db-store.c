/*
 * The store contract: what every backend must do, whatever its SQL. Runs
 * against NATTER_TEST_STORE_URL, or a fresh SQLite file in NATTER_TEST_TMP.
 * A MySQL URL must name an empty database of its own.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mariadb/mysql.h>
#include <sodium.h>

#include "errcode.h"
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

/* Sends body from one user to a user or group; returns the code. */
static int
test_send(int64_t from, int64_t to_user, int64_t to_group, const char *body,
          const char *cmid, struct store_msg *out, bool *dup)
{
	struct store_send in = {.from_id = from,
	                        .to_user = to_user,
	                        .to_group = to_group,
	                        .body = body,
	                        .body_len = strlen(body),
	                        .cmid = cmid,
	                        .ts = 1700000000000};
	bool d;
	int r;

	r = store_msg_append(st, &in, out, dup != NULL ? dup : &d, NULL);
	return r;
}

/* Sends and forgets: the new seq, or a negative errcode. */
static int64_t
test_say(int64_t from, int64_t to_user, int64_t to_group, const char *body)
{
	struct store_msg m;
	int64_t seq;
	int r;

	if ((r = test_send(from, to_user, to_group, body, NULL, &m, NULL)) < 0)
		return r;
	seq = m.seq;
	store_msg_clear(&m);
	return seq;
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

/* The number of other connections to this database: -1 on error. */
static int
test_mysql_others(MYSQL *my, bool kill)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	char q[64];
	int n = 0;

	if (mysql_query(my,
	                "SELECT id FROM information_schema.processlist "
	                "WHERE db = DATABASE() AND id <> CONNECTION_ID()") ||
	    (res = mysql_store_result(my)) == NULL)
		return -1;
	while ((row = mysql_fetch_row(res)) != NULL) {
		n++;
		snprintf(q, sizeof(q), "KILL CONNECTION %s", row[0]);
		if (kill)
			(void)mysql_query(my, q);
	}
	mysql_free_result(res);
	return n;
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

/* Runs the contract against one fresh store. */
int
main(void)
{
	struct store_options opt = {crypto_pwhash_OPSLIMIT_MIN,
	                            crypto_pwhash_MEMLIMIT_MIN};
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
	test_history();
	test_refriend();
	test_from_name();
	test_batch();
	test_batch_kill(url);
	test_open(url);
	store_close(st);
	if (path != NULL) {
		test_unlink(path);
	}
	free(path);
	free(url);
	return UNIT_END();
}
