#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "errcode.h"
#include "store-backend.h"
#include "store.h"
#include "validate.h"
#include "xmalloc.h"

/*
 * A thin dispatcher: a struct store is a backend's connection plus the
 * backend's table of functions, chosen by the URL's prefix.
 */
struct store {
	const struct store_backend *be;
	void *c;
};

static const struct store_backend *const store_backends[] = {
    &store_sqlite_backend,
    &store_mysql_backend,
};

#define STORE_NBACKENDS (sizeof(store_backends) / sizeof(*store_backends))

/* Picks the backend for url; NULL (and a message) if there is none. */
static const struct store_backend *
store_find_backend(const char *url, const char **rest, int *r, char **err)
{
	size_t i, len;

	for (i = 0; i < STORE_NBACKENDS; i++) {
		len = strlen(store_backends[i]->prefix);
		if (strncmp(url, store_backends[i]->prefix, len) == 0) {
			*rest = url + len;
			return store_backends[i];
		}
	}
	*r = -ERR_BAD_REQUEST;
	if (err != NULL)
		*err = xasprintf("unknown store URL (want sqlite:PATH or "
		                 "mysql://USER:PASS@HOST:PORT/DB)");
	return NULL;
}

/* Runs every backend's library initialisation, once, before threads. */
int
store_library_init(void)
{
	size_t i;
	int r;

	for (i = 0; i < STORE_NBACKENDS; i++)
		if (store_backends[i]->lib_init != NULL &&
		    (r = store_backends[i]->lib_init()) < 0)
			return r;
	return 0;
}

/* Per-thread set-up of every backend, on a DB thread as it starts. */
void
store_thread_init(void)
{
	size_t i;

	for (i = 0; i < STORE_NBACKENDS; i++)
		if (store_backends[i]->thread_init != NULL)
			store_backends[i]->thread_init();
}

/* Per-thread clean-up of every backend, on a DB thread as it exits. */
void
store_thread_end(void)
{
	size_t i;

	for (i = 0; i < STORE_NBACKENDS; i++)
		if (store_backends[i]->thread_end != NULL)
			store_backends[i]->thread_end();
}

/* Opens the backend that url names. */
int
store_open(const char *url, const struct store_options *opt, struct store **out,
           char **err)
{
	const struct store_backend *be;
	const char *rest = NULL;
	void *c = NULL;
	int r = 0;

	*out = NULL;
	if (err != NULL)
		*err = NULL;
	if ((be = store_find_backend(url, &rest, &r, err)) == NULL)
		return r;
	if ((r = be->open(rest, opt, &c, err)) < 0)
		return r;
	*out = xmalloc(sizeof(**out));
	(*out)->be = be;
	(*out)->c = c;
	return 0;
}

/* Closes the connection; NULL is a no-op. */
void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	st->be->close(st->c);
	free(st);
}

/* Applies the backend's pending migrations. */
int
store_migrate(struct store *st)
{
	return st->be->migrate(st->c);
}

/* Registers a user (the backend hashes the password). */
int
store_user_register(struct store *st, const char *name, const char *password,
                    struct store_user *out)
{
	return st->be->user_register(st->c, name, password, out);
}

/* Checks a name and password. */
int
store_user_login(struct store *st, const char *name, const char *password,
                 struct store_user *out)
{
	return st->be->user_login(st->c, name, password, out);
}

/* Reads one user by id. */
int
store_user_get(struct store *st, int64_t id, struct store_user *out)
{
	return st->be->user_get(st->c, id, out);
}

/* Befriends both ways. */
int
store_friend_add(struct store *st, int64_t uid, const char *name,
                 struct store_user *out, bool *created)
{
	return st->be->friend_add(st->c, uid, name, out, created);
}

/* Unfriends both ways. */
int
store_friend_remove(struct store *st, int64_t uid, int64_t fid)
{
	return st->be->friend_remove(st->c, uid, fid);
}

/* Lists uid's friends. */
int
store_friends(struct store *st, int64_t uid, struct store_user **out, size_t *n)
{
	return st->be->friends(st->c, uid, out, n);
}

/* Lists uid's friends' ids. */
int
store_friend_ids(struct store *st, int64_t uid, struct store_ids *out)
{
	return st->be->friend_ids(st->c, uid, out);
}

/* Creates a group with uid as creator. */
int
store_group_create(struct store *st, int64_t uid, const char *name,
                   const char *desc, struct store_group *out)
{
	return st->be->group_create(st->c, uid, name, desc, out);
}

/* Joins a group by id or name. */
int
store_group_join(struct store *st, int64_t uid, int64_t gid, const char *name,
                 struct store_group *out)
{
	return st->be->group_join(st->c, uid, gid, name, out);
}

/* Leaves a group. */
int
store_group_leave(struct store *st, int64_t uid, int64_t gid)
{
	return st->be->group_leave(st->c, uid, gid);
}

/* Lists uid's groups. */
int
store_groups(struct store *st, int64_t uid, struct store_group **out, size_t *n)
{
	return st->be->groups(st->c, uid, out, n);
}

/* Lists a group's members. */
int
store_group_members(struct store *st, int64_t uid, int64_t gid,
                    struct store_member **out, size_t *n)
{
	return st->be->group_members(st->c, uid, gid, out, n);
}

/* Lists a group's member ids. */
int
store_group_member_ids(struct store *st, int64_t gid, struct store_ids *out)
{
	return st->be->group_member_ids(st->c, gid, out);
}

/* The backend's batch size, capped at limit. */
size_t
store_batch_max(const struct store *st, size_t limit)
{
	size_t n = st->be->batch_max;

	return n != 0 && n < limit ? n : limit;
}

bool
store_batch_cheap(struct store *st)
{
	return st->be->batch_cheap != NULL && st->be->batch_cheap(st->c);
}

int
store_batch_begin(struct store *st)
{
	if (st->be->batch_begin == NULL)
		return 1;
	return st->be->batch_begin(st->c);
}

int
store_batch_end(struct store *st, bool commit)
{
	if (st->be->batch_end == NULL)
		return 0;
	return st->be->batch_end(st->c, commit);
}

int
store_sends_only(struct store *st)
{
	return st->be->sends_only != NULL ? st->be->sends_only(st->c) : 0;
}

bool
store_checkpoint_due(struct store *st)
{
	return st->be->checkpoint_due != NULL && st->be->checkpoint_due(st->c);
}

int
store_checkpoint(struct store *st)
{
	return st->be->checkpoint != NULL ? st->be->checkpoint(st->c) : 0;
}

int
store_idle(struct store *st)
{
	return st->be->idle != NULL ? st->be->idle(st->c) : 0;
}

bool
store_idle_due(struct store *st)
{
	return st->be->idle_due != NULL && st->be->idle_due(st->c);
}

/* Stores a message and allocates its seq. */
int
store_msg_append(struct store *st, const struct store_send *in,
                 struct store_msg *out, bool *dup, struct store_ids *rcpt)
{
	return st->be->msg_append(st->c, in, out, dup, rcpt);
}

/*
 * Many messages: the backend's bulk path, or one call each. A lost batch
 * shows as -ERR_UNAVAILABLE from every call after it (store.h), which is
 * what the loop returns then.
 */
int
store_msg_append_many(struct store *st, const struct store_send *in, size_t n,
                      struct store_msg *out, bool *dup, struct store_ids *rcpt,
                      int *res)
{
	size_t i;

	if (st->be->msg_append_many != NULL)
		return st->be->msg_append_many(st->c, in, n, out, dup, rcpt,
		                               res);
	for (i = 0; i < n; i++)
		res[i] = st->be->msg_append(st->c, &in[i], &out[i], &dup[i],
		                            rcpt != NULL ? &rcpt[i] : NULL);
	return 0;
}

/* Reads what lies above uid's cursors. */
int
store_sync(struct store *st, int64_t uid, size_t limit, struct store_msg **out,
           size_t *n, bool *more)
{
	return st->be->sync(st->c, uid, limit, out, n, more);
}

/* Moves uid's cursor in conv. */
int
store_ack(struct store *st, int64_t uid, const char *conv, int64_t seq)
{
	return st->be->ack(st->c, uid, conv, seq);
}

/* Reads a page of a conversation. */
int
store_history(struct store *st, int64_t uid, const char *conv, int64_t before,
              size_t limit, struct store_msg **out, size_t *n)
{
	return st->be->history(st->c, uid, conv, before, limit, out, n);
}

/*
 * Writes v in decimal at p and returns the end; at most 20 bytes. By hand:
 * every send names its conversation, and snprintf cost about 1,000
 * instructions a call.
 */
static char *
store_conv_int(char *p, int64_t v)
{
	char digits[20];
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
	size_t n = 0;

	if (v < 0)
		*p++ = '-';
	do {
		digits[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	while (n > 0)
		*p++ = digits[--n];
	return p;
}

/* The low id comes first so both sides name the same conversation. */
void
store_conv_direct(char *buf, int64_t a, int64_t b)
{
	char *p = buf;

	if (a > b) {
		int64_t t = a;
		a = b;
		b = t;
	}
	*p++ = 'd';
	*p++ = ':';
	p = store_conv_int(p, a);
	*p++ = ':';
	p = store_conv_int(p, b);
	*p = '\0'; /* 2 + 20 + 1 + 20 + 1 <= STORE_CONV_MAX */
}

/* A group conversation is named after the group id. */
void
store_conv_group(char *buf, int64_t gid)
{
	char *p = buf;

	*p++ = 'g';
	*p++ = ':';
	*store_conv_int(p, gid) = '\0';
}

/*
 * Reads one canonical id at *p (digits, no leading zero) and advances *p.
 * -ERR_BAD_REQUEST if there is none or it is out of range.
 */
static int
store_conv_id(const char **p, int64_t *out)
{
	const char *s = *p;
	int64_t v = 0;

	if (*s < '1' || *s > '9')
		return -ERR_BAD_REQUEST;
	for (; *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (*s - '0');
		if (v >= VALIDATE_ID_MAX)
			return -ERR_BAD_REQUEST;
	}
	*p = s;
	*out = v;
	return 0;
}

/* Accepts exactly what store_conv_direct and store_conv_group write. */
int
store_conv_parse(const char *conv, struct store_conv *out)
{
	const char *p;

	if (conv == NULL || (conv[0] != 'd' && conv[0] != 'g') ||
	    conv[1] != ':')
		return -ERR_BAD_REQUEST;
	memset(out, 0, sizeof(*out));
	out->kind = conv[0];
	p = conv + 2;
	if (store_conv_id(&p, &out->a) < 0)
		return -ERR_BAD_REQUEST;
	if (out->kind == 'd') {
		if (*p++ != ':' || store_conv_id(&p, &out->b) < 0 ||
		    out->a >= out->b)
			return -ERR_BAD_REQUEST;
	}
	return *p == '\0' ? 0 : -ERR_BAD_REQUEST;
}

/* Milliseconds since the epoch, wall clock. */
int64_t
store_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
store_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Output structs own their strings; clearing leaves them zeroed. */
void
store_user_clear(struct store_user *u)
{
	if (u == NULL)
		return;
	free(u->name);
	memset(u, 0, sizeof(*u));
}

/* Frees an array of users and their strings. */
void
store_users_free(struct store_user *v, size_t n)
{
	size_t i;

	for (i = 0; v != NULL && i < n; i++)
		store_user_clear(&v[i]);
	free(v);
}

/* Frees the strings of g and zeroes it. */
void
store_group_clear(struct store_group *g)
{
	if (g == NULL)
		return;
	free(g->name);
	free(g->desc);
	memset(g, 0, sizeof(*g));
}

/* Frees an array of groups and their strings. */
void
store_groups_free(struct store_group *v, size_t n)
{
	size_t i;

	for (i = 0; v != NULL && i < n; i++)
		store_group_clear(&v[i]);
	free(v);
}

/* Frees an array of members and their names. */
void
store_members_free(struct store_member *v, size_t n)
{
	size_t i;

	for (i = 0; v != NULL && i < n; i++)
		free(v[i].name);
	free(v);
}

/* Frees the strings of m and zeroes it. */
void
store_msg_clear(struct store_msg *m)
{
	if (m == NULL)
		return;
	if (!m->lent) {
		free(m->from_name);
		free(m->body);
		free(m->cmid);
	}
	memset(m, 0, sizeof(*m));
}

/* Frees an array of messages and their strings. */
void
store_msgs_free(struct store_msg *v, size_t n)
{
	size_t i;

	for (i = 0; v != NULL && i < n; i++)
		store_msg_clear(&v[i]);
	free(v);
}
