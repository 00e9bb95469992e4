#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysql.h>

#include "errcode.h"
#include "log.h"
#include "pairtab.h"
#include "store-common.h"
#include "store-mysql-bulk.h"
#include "store-mysql.h"
#include "xmalloc.h"

/*
 * store_msg_append_many on MariaDB. One store_msg_append costs about four
 * round trips (savepoint, check, seq, insert); a batch of n sends here
 * costs a handful, whatever n:
 *   savepoint (none for a batch's first call); (the cmids already
 *   stored: see store_mysql_bulk_run); the friendships and the group
 *   members (each an epoch's one row, which the first attempt reads
 *   with the seqs instead, or after the insert if it reads no seq; and
 *   only what the connection does not know yet: store_mysql_known);
 *   (the senders' names, if not given); (the last seqs of the
 *   conversations the connection has no hint for, in one SELECT: see
 *   store_mysql_bulk_seq_take); one execution of a prepared INSERT bound
 *   to arrays of rows, in key order (split past STORE_MYSQL_BULK_CHUNK
 *   bytes of bodies); (the messages a send repeats within the batch, read
 *   back).
 * Refusals are rare: each one asks the single path's check why, for the
 * exact code. The reads are SQL text: strings escaped by the connection,
 * cmids as hex literals (byte-exact binary); the INSERT's rows go bound.
 *
 * The results are those of n store_msg_append calls in a row: a send is
 * decided in input order (a cmid repeated within the batch is a retry of
 * the first send that stored it; a refused send stores nothing), and a
 * conversation's seqs follow input order. Anything unexpected undoes the
 * bulk attempt (its savepoint) and runs the n sends through the single
 * path instead; a lost batch fails them all.
 */

/* Bytes of bodies after which the rows gathered are inserted. */
#define STORE_MYSQL_BULK_CHUNK ((size_t)1 << 20)
#define STORE_MYSQL_BULK_NONE SIZE_MAX
/* The epochs (store_mysql_epoch_id 1 and 2) a batch may rely on. */
#define STORE_MYSQL_BULK_EPOCHS 2
/* Attempts of a batch: the hopeful one, then with lookups and reads. */
#define STORE_MYSQL_BULK_TRIES 3

/*
 * Messages first, by their (sender, cmid) key: left to itself the
 * optimizer may start from users and scan each sender's every message.
 */
#define STORE_MYSQL_BULK_MSG_COLS                                              \
	"SELECT STRAIGHT_JOIN m.conv, m.seq, m.sender, u.name, m.to_user, "    \
	"m.to_group, m.body, m.ts, m.cmid FROM messages m "                    \
	"FORCE INDEX (messages_sender_cmid) JOIN users u ON u.id = m.sender"

/* What a send of the batch becomes. */
enum store_mysql_bulk_state {
	BULK_DONE,  /* res is final: malformed or refused */
	BULK_CHECK, /* being checked */
	BULK_NEW,   /* to be stored */
	BULK_OLD,   /* a retry of a message stored before the batch */
	BULK_AGAIN, /* a retry of a message stored earlier in the batch */
};

struct store_mysql_bulk_item {
	char conv[STORE_CONV_MAX];
	enum store_mysql_bulk_state state;
	int check;    /* 0 if allowed, else the refusal */
	size_t row;   /* OLD, AGAIN: the stored message in rows */
	size_t first; /* AGAIN: the send it repeats */
	int64_t seq;  /* NEW */
	int64_t ord;  /* NEW: in input order, though inserted by key */
	size_t ci;    /* NEW: its conversation, in convs */
};

struct store_mysql_bulk_name {
	int64_t id;
	char *name;
};

/*
 * A conversation of the batch: k new messages, the next seq to give (0:
 * not known yet), and a send to it (for its key in the seq hints).
 */
struct store_mysql_bulk_conv {
	const char *id;
	int64_t k, next;
	const struct store_send *in;
};

/* One store_msg_append_many call. */
struct store_mysql_bulk {
	struct store_mysql *s;
	const struct store_send *in;
	size_t n;
	struct store_msg *out;
	bool *dup;
	struct store_ids *rcpt; /* NULL: not wanted */
	int *res;
	struct store_mysql_bulk_item *it;
	struct store_msg *rows; /* stored messages read back */
	size_t nrows, caprows;
	/* friendships wanted (sorted), then found; memberships (sorted) */
	struct store_mysql_pair *friends, *members;
	size_t nfriends, capfriends, nmembers, capmembers;
	const struct store_mysql_pair *mv; /* the memberships to check */
	size_t mn;
	struct store_mysql_bulk_name *names;
	size_t nnames, capnames;
	struct store_mysql_bulk_conv *convs; /* sorted by id */
	size_t nconvs;
	char *q; /* the SQL being built */
	size_t qlen, qcap;
	size_t mark;  /* qlen after a list's head: the list is empty */
	bool hopeful; /* no cmid lookup: no send is a retry, we hope */
	bool missed;  /* one was (or may be): run again, with the lookup */
	/* hopeful: an epoch assumed unchanged, read with the seqs */
	bool assumed[STORE_MYSQL_BULK_EPOCHS];
};

/* --- building SQL --- */

/* Makes room for len more bytes of SQL and a NUL. */
static void
store_mysql_bulk_room(struct store_mysql_bulk *b, size_t len)
{
	if (b->qlen + len + 1 <= b->qcap)
		return;
	while (b->qlen + len + 1 > b->qcap)
		b->qcap = b->qcap != 0 ? b->qcap * 2 : 4096;
	b->q = xrealloc(b->q, b->qcap);
}

/* Appends formatted SQL. */
static void __attribute__((format(printf, 2, 3)))
store_mysql_bulk_add(struct store_mysql_bulk *b, const char *fmt, ...)
{
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	store_mysql_bulk_room(b, (size_t)len);
	va_start(ap, fmt);
	vsnprintf(b->q + b->qlen, b->qcap - b->qlen, fmt, ap);
	va_end(ap);
	b->qlen += (size_t)len;
}

/* Starts a new statement with head; the list after it is empty. */
static void
store_mysql_bulk_start(struct store_mysql_bulk *b, const char *head)
{
	b->qlen = 0;
	store_mysql_bulk_add(b, "%s", head);
	b->mark = b->qlen;
}

/* The separator before the next element of the list. */
static const char *
store_mysql_bulk_sep(const struct store_mysql_bulk *b, const char *sep)
{
	return b->qlen > b->mark ? sep : "";
}

/* Appends a string literal escaped for the connection's charset. */
static void
store_mysql_bulk_add_str(struct store_mysql_bulk *b, const char *str,
                         size_t len)
{
	store_mysql_bulk_room(b, 2 * len + 2);
	b->q[b->qlen++] = '\'';
	b->qlen += mysql_real_escape_string(
	    store_mysql_conn(b->s), b->q + b->qlen, str, (unsigned long)len);
	b->q[b->qlen++] = '\'';
	b->q[b->qlen] = '\0';
}

/* Appends a hex literal: the exact bytes, for a binary column. */
static void
store_mysql_bulk_add_hex(struct store_mysql_bulk *b, const char *str)
{
	size_t len = strlen(str);

	store_mysql_bulk_room(b, 2 * len + 3);
	b->q[b->qlen++] = 'X';
	b->q[b->qlen++] = '\'';
	b->qlen += mysql_hex_string(b->q + b->qlen, str, (unsigned long)len);
	b->q[b->qlen++] = '\'';
	b->q[b->qlen] = '\0';
}

/* Runs the SQL built in b; *res (if not NULL) gets its buffered rows. */
static int
store_mysql_bulk_exec(struct store_mysql_bulk *b, const char *what,
                      MYSQL_RES **res)
{
	MYSQL *db = store_mysql_conn(b->s);

	if (res != NULL)
		*res = NULL;
	if (db == NULL)
		return -ERR_UNAVAILABLE;
	if (mysql_real_query(db, b->q, (unsigned long)b->qlen) != 0)
		return store_mysql_conn_fail(b->s, what);
	if (res != NULL && (*res = mysql_store_result(db)) == NULL)
		return store_mysql_conn_fail(b->s, what);
	return 0;
}

/* --- reading rows --- */

/* An integer column; 0 for NULL. */
static int64_t
store_mysql_bulk_col_int(MYSQL_ROW row, int col)
{
	return row[col] != NULL ? strtoll(row[col], NULL, 10) : 0;
}

/* A copy of a text column, byte-exact; NULL for SQL NULL. */
static char *
store_mysql_bulk_col_str(MYSQL_ROW row, const unsigned long *len, int col)
{
	char *v;

	if (row[col] == NULL)
		return NULL;
	v = xmalloc((size_t)len[col] + 1);
	memcpy(v, row[col], len[col]);
	v[len[col]] = '\0';
	return v;
}

/* As store_mysql_bulk_col_str, but "" for NULL: for NOT NULL columns. */
static char *
store_mysql_bulk_col_str_nn(MYSQL_ROW row, const unsigned long *len, int col)
{
	char *v = store_mysql_bulk_col_str(row, len, col);

	return v != NULL ? v : xstrdup("");
}

/* Reads a row of STORE_MYSQL_BULK_MSG_COLS into m. */
static void
store_mysql_bulk_msg_row(MYSQL_ROW row, const unsigned long *len,
                         struct store_msg *m)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->conv, sizeof(m->conv), "%.*s", (int)len[0],
	         row[0] != NULL ? row[0] : "");
	m->seq = store_mysql_bulk_col_int(row, 1);
	m->from_id = store_mysql_bulk_col_int(row, 2);
	m->from_name = store_mysql_bulk_col_str_nn(row, len, 3);
	m->to_user = store_mysql_bulk_col_int(row, 4);
	m->to_group = store_mysql_bulk_col_int(row, 5);
	m->body = store_mysql_bulk_col_str_nn(row, len, 6);
	m->ts = store_mysql_bulk_col_int(row, 7);
	m->cmid = store_mysql_bulk_col_str(row, len, 8);
}

/* Appends the messages of res to b->rows and frees res. */
static void
store_mysql_bulk_msgs_read(struct store_mysql_bulk *b, MYSQL_RES *res)
{
	MYSQL_ROW row;

	while ((row = mysql_fetch_row(res)) != NULL) {
		b->rows =
		    xgrow(b->rows, b->nrows, &b->caprows, sizeof(*b->rows));
		store_mysql_bulk_msg_row(row, mysql_fetch_lengths(res),
		                         &b->rows[b->nrows++]);
	}
	mysql_free_result(res);
}

/* Appends the (a, b) rows of res to *v and frees res. */
static void
store_mysql_bulk_pairs_read(MYSQL_RES *res, struct store_mysql_pair **v,
                            size_t *n, size_t *cap)
{
	MYSQL_ROW row;

	while ((row = mysql_fetch_row(res)) != NULL) {
		*v = xgrow(*v, *n, cap, sizeof(**v));
		(*v)[*n].a = store_mysql_bulk_col_int(row, 0);
		(*v)[(*n)++].b = store_mysql_bulk_col_int(row, 1);
	}
	mysql_free_result(res);
}

/* The first index of v (sorted) not below (a, b). */
static size_t
store_mysql_bulk_lower(const struct store_mysql_pair *v, size_t n, int64_t a,
                       int64_t b)
{
	size_t lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (v[mid].a < a || (v[mid].a == a && v[mid].b < b))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Whether v (sorted) holds (a, b). */
static bool
store_mysql_bulk_has(const struct store_mysql_pair *v, size_t n, int64_t a,
                     int64_t b)
{
	size_t i = store_mysql_bulk_lower(v, n, a, b);

	return i < n && v[i].a == a && v[i].b == b;
}

/* --- reads: what each send becomes --- */

/* Rejects malformed sends as store_msg_append does; names the rest's conv. */
static void
store_mysql_bulk_prepare(struct store_mysql_bulk *b)
{
	const struct store_send *in;
	size_t i;

	for (i = 0; i < b->n; i++) {
		in = &b->in[i];
		b->it[i].row = b->it[i].first = STORE_MYSQL_BULK_NONE;
		if ((in->to_user != 0) == (in->to_group != 0) ||
		    in->body == NULL) {
			b->it[i].state = BULK_DONE;
			b->res[i] = -ERR_BAD_REQUEST;
		} else {
			b->it[i].state = BULK_CHECK;
			if (in->to_user != 0)
				store_conv_direct(b->it[i].conv, in->from_id,
				                  in->to_user);
			else
				store_conv_group(b->it[i].conv, in->to_group);
		}
	}
}

/* Whether send i is in state and has a cmid. */
static bool
store_mysql_bulk_keyed(const struct store_mysql_bulk *b, size_t i,
                       enum store_mysql_bulk_state state)
{
	return b->it[i].state == state && b->in[i].cmid != NULL;
}

/*
 * A send's (or a stored message's) key. A batch's sends are matched by
 * sorting their keys, not by looking back from each send: a batch holds
 * up to thousands of them, and the look back for repeats was 8 % of a
 * node's CPU in the cross-node relay.
 */
struct store_mysql_bulk_key {
	int64_t from;
	const char *cmid;
	size_t i; /* the send's place in the batch, or the message's row */
};

/* Two keys by (sender, cmid). */
static int
store_mysql_bulk_key_order(const struct store_mysql_bulk_key *p,
                           const struct store_mysql_bulk_key *q)
{
	if (p->from != q->from)
		return p->from < q->from ? -1 : 1;
	return strcmp(p->cmid, q->cmid);
}

/* Two keys by (sender, cmid, place): qsort's. */
static int
store_mysql_bulk_key_cmp(const void *x, const void *y)
{
	const struct store_mysql_bulk_key *p = x, *q = y;
	int c = store_mysql_bulk_key_order(p, q);

	if (c != 0)
		return c;
	return p->i < q->i ? -1 : p->i > q->i;
}

/* The keys of the sends in state with a cmid, sorted; *n of them. */
static struct store_mysql_bulk_key *
store_mysql_bulk_keys(const struct store_mysql_bulk *b,
                      enum store_mysql_bulk_state state, size_t *n)
{
	struct store_mysql_bulk_key *v = xcalloc(b->n + 1, sizeof(*v));
	size_t i;

	*n = 0;
	for (i = 0; i < b->n; i++)
		if (store_mysql_bulk_keyed(b, i, state))
			v[(*n)++] = (struct store_mysql_bulk_key){
			    b->in[i].from_id, b->in[i].cmid, i};
	qsort(v, *n, sizeof(*v), store_mysql_bulk_key_cmp);
	return v;
}

/*
 * Points each send of keys (n, sorted) at its sender's stored message
 * with its cmid among rows from on (one at most: the key is unique), by
 * walking both in key order.
 */
static void
store_mysql_bulk_match(struct store_mysql_bulk *b,
                       const struct store_mysql_bulk_key *keys, size_t n,
                       size_t from)
{
	struct store_mysql_bulk_key *rk =
	    xcalloc(b->nrows - from + 1, sizeof(*rk));
	size_t i, j = 0, nr = 0;
	int c = 1;

	for (i = from; i < b->nrows; i++)
		if (b->rows[i].cmid != NULL)
			rk[nr++] = (struct store_mysql_bulk_key){
			    b->rows[i].from_id, b->rows[i].cmid, i};
	qsort(rk, nr, sizeof(*rk), store_mysql_bulk_key_cmp);
	for (i = 0; i < n; i++) {
		while (j < nr &&
		       (c = store_mysql_bulk_key_order(&rk[j], &keys[i])) < 0)
			j++;
		if (j == nr || c != 0)
			continue;
		b->it[keys[i].i].row = rk[j].i;
		if (b->it[keys[i].i].state == BULK_CHECK)
			b->it[keys[i].i].state = BULK_OLD;
	}
	free(rk);
}

/*
 * Adds "(m.sender = S AND m.cmid IN (...))" for each sender of keys (n,
 * sorted): a run of keys with one sender.
 */
static void
store_mysql_bulk_add_keys(struct store_mysql_bulk *b,
                          const struct store_mysql_bulk_key *keys, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i = j) {
		store_mysql_bulk_add(
		    b, "%s(m.sender = %" PRId64 " AND m.cmid IN (",
		    store_mysql_bulk_sep(b, " OR "), keys[i].from);
		for (j = i; j < n && keys[j].from == keys[i].from; j++) {
			if (j > i)
				store_mysql_bulk_add(b, ", ");
			store_mysql_bulk_add_hex(b, keys[j].cmid);
		}
		store_mysql_bulk_add(b, "))");
	}
}

/*
 * Reads the stored messages that the sends in state name by sender and
 * cmid, and points the sends at them (a send still checking becomes a
 * retry: the stored message wins over any check).
 */
static int
store_mysql_bulk_lookup(struct store_mysql_bulk *b,
                        enum store_mysql_bulk_state state)
{
	MYSQL_RES *res;
	size_t n, from = b->nrows;
	struct store_mysql_bulk_key *keys = store_mysql_bulk_keys(b, state, &n);
	int r = 0;

	store_mysql_bulk_start(b, STORE_MYSQL_BULK_MSG_COLS " WHERE ");
	store_mysql_bulk_add_keys(b, keys, n);
	if (n > 0 &&
	    (r = store_mysql_bulk_exec(b, "bulk: cmid lookup", &res)) == 0) {
		store_mysql_bulk_msgs_read(b, res);
		store_mysql_bulk_match(b, keys, n, from);
	}
	free(keys);
	return r;
}

/* Whether send i is a direct one to someone else, being checked. */
static bool
store_mysql_bulk_direct(const struct store_mysql_bulk *b, size_t i)
{
	const struct store_send *in = &b->in[i];

	return b->it[i].state == BULK_CHECK && in->to_user != 0 &&
	       in->to_user != in->from_id;
}

/* Orders pairs as the primary keys do. */
static int
store_mysql_bulk_pair_cmp(const void *x, const void *y)
{
	const struct store_mysql_pair *p = x, *q = y;

	if (p->a != q->a)
		return p->a < q->a ? -1 : 1;
	return p->b < q->b ? -1 : p->b > q->b;
}

/* Sorts v and drops repeats; returns the new count. */
static size_t
store_mysql_bulk_unique(struct store_mysql_pair *v, size_t n)
{
	size_t i, k = 0;

	if (n == 0) /* v may be NULL: no qsort */
		return 0;
	qsort(v, n, sizeof(*v), store_mysql_bulk_pair_cmp);
	for (i = 0; i < n; i++)
		if (k == 0 || store_mysql_bulk_pair_cmp(&v[k - 1], &v[i]) != 0)
			v[k++] = v[i];
	return k;
}

/*
 * Lists the (sender, target) pairs of the direct sends being checked in
 * b->friends, sorted, each once.
 */
static void
store_mysql_bulk_friends_wanted(struct store_mysql_bulk *b)
{
	size_t i;

	b->nfriends = 0;
	for (i = 0; i < b->n; i++) {
		if (!store_mysql_bulk_direct(b, i))
			continue;
		b->friends = xgrow(b->friends, b->nfriends, &b->capfriends,
		                   sizeof(*b->friends));
		b->friends[b->nfriends].a = b->in[i].from_id;
		b->friends[b->nfriends++].b = b->in[i].to_user;
	}
	b->nfriends = store_mysql_bulk_unique(b->friends, b->nfriends);
}

/*
 * Reads epoch which; a new one (or kn's first) voids everything kn
 * knew, as does kn having outgrown STORE_MYSQL_KNOWN_MAX. A hopeful
 * attempt assumes kn's epoch still holds, which the seqs' read checks
 * (store_mysql_bulk_seq_take; store_mysql_bulk_verify if there is none):
 * a round trip less per batch, since epochs change rarely.
 */
static int
store_mysql_bulk_epoch(struct store_mysql_bulk *b,
                       enum store_mysql_epoch_id which,
                       struct store_mysql_known *kn)
{
	int64_t epoch;
	int r;

	if (b->hopeful && kn->valid && kn->n <= STORE_MYSQL_KNOWN_MAX) {
		b->assumed[which - 1] = true;
		return 0;
	}
	if ((r = store_mysql_epoch(b->s, which, &epoch)) < 0)
		return r;
	if (!kn->valid || kn->epoch != epoch || kn->n > STORE_MYSQL_KNOWN_MAX) {
		kn->valid = true;
		kn->epoch = epoch;
		kn->n = 0;
	}
	return 0;
}

/*
 * Merges v (sorted, n pairs, none of them in kn) into kn. kn may outgrow
 * STORE_MYSQL_KNOWN_MAX by one batch's reads: this batch still relies on
 * all of it; the next one's store_mysql_bulk_epoch starts over.
 */
static void
store_mysql_bulk_learn(struct store_mysql_known *kn,
                       const struct store_mysql_pair *v, size_t n)
{
	size_t i = kn->n, j = n, k = kn->n + n;

	while (kn->cap < k)
		kn->v = xgrow(kn->v, kn->cap, &kn->cap, sizeof(*kn->v));
	/* from the back, so that nothing is moved twice */
	while (j > 0)
		if (i > 0 &&
		    store_mysql_bulk_pair_cmp(&kn->v[i - 1], &v[j - 1]) > 0)
			kn->v[--k] = kn->v[--i];
		else
			kn->v[--k] = v[--j];
	kn->n += n;
}

/* Drops from b->friends the pairs kn knows to be friends. */
static void
store_mysql_bulk_friends_known(struct store_mysql_bulk *b,
                               const struct store_mysql_known *kn)
{
	size_t i, k = 0;

	for (i = 0; i < b->nfriends; i++)
		if (!store_mysql_bulk_has(kn->v, kn->n, b->friends[i].a,
		                          b->friends[i].b))
			b->friends[k++] = b->friends[i];
	b->nfriends = k;
}

/*
 * Makes sure the connection's known friendships (store_mysql_known)
 * hold every friendship the direct sends being checked need, reading
 * only those it lacks, as one list of (user, friend) rows. Planning that
 * read (the range optimizer: a point range per pair) for every batch was
 * a quarter of the database's CPU at 20k msg/s, in this form or as an OR
 * of per-sender IN lists; with the friendships known, a batch reads one
 * row.
 */
static int
store_mysql_bulk_friends(struct store_mysql_bulk *b)
{
	struct store_mysql_known *kn =
	    store_mysql_known(b->s, STORE_MYSQL_EPOCH_FRIENDS);
	MYSQL_RES *res;
	size_t i;
	int r;

	store_mysql_bulk_friends_wanted(b);
	if (b->nfriends == 0)
		return 0;
	if ((r = store_mysql_bulk_epoch(b, STORE_MYSQL_EPOCH_FRIENDS, kn)) < 0)
		return r;
	store_mysql_bulk_friends_known(b, kn);
	if (b->nfriends == 0)
		return 0;
	store_mysql_bulk_start(b, "SELECT user_id, friend_id FROM friendships "
	                          "WHERE (user_id, friend_id) IN (");
	for (i = 0; i < b->nfriends; i++)
		store_mysql_bulk_add(b, "%s(%" PRId64 ", %" PRId64 ")",
		                     i > 0 ? ", " : "", b->friends[i].a,
		                     b->friends[i].b);
	store_mysql_bulk_add(b, ") ORDER BY user_id, friend_id");
	b->nfriends = 0;
	if ((r = store_mysql_bulk_exec(b, "bulk: friendships", &res)) < 0)
		return r;
	store_mysql_bulk_pairs_read(res, &b->friends, &b->nfriends,
	                            &b->capfriends);
	store_mysql_bulk_learn(kn, b->friends, b->nfriends);
	return 0;
}

/*
 * Lists in b->members, sorted, each once, what the membership read needs
 * for each send being checked (or a retry of a group's message): its
 * group as (group, 0) when recipients are wanted, since the whole member
 * list is read, else its (group, sender) row.
 */
static void
store_mysql_bulk_members_wanted(struct store_mysql_bulk *b)
{
	const struct store_send *in;
	struct store_mysql_pair p;
	size_t i;

	b->nmembers = 0;
	for (i = 0; i < b->n; i++) {
		in = &b->in[i];
		if (b->it[i].state == BULK_OLD && b->rcpt != NULL)
			p = (struct store_mysql_pair){
			    b->rows[b->it[i].row].to_group, 0};
		else if (b->it[i].state == BULK_CHECK && in->to_group != 0)
			p = (struct store_mysql_pair){
			    in->to_group, b->rcpt != NULL ? 0 : in->from_id};
		else
			continue;
		if (p.a == 0) /* a retry of a direct message */
			continue;
		b->members = xgrow(b->members, b->nmembers, &b->capmembers,
		                   sizeof(*b->members));
		b->members[b->nmembers++] = p;
	}
	b->nmembers = store_mysql_bulk_unique(b->members, b->nmembers);
}

/* Drops from b->members the groups whose member lists kn holds. */
static void
store_mysql_bulk_members_known(struct store_mysql_bulk *b,
                               const struct store_mysql_known *kn)
{
	size_t i, j, k = 0;

	for (i = 0; i < b->nmembers; i++) {
		j = store_mysql_bulk_lower(kn->v, kn->n, b->members[i].a,
		                           INT64_MIN);
		if (j == kn->n || kn->v[j].a != b->members[i].a)
			b->members[k++] = b->members[i];
	}
	b->nmembers = k;
}

/*
 * Reads what store_mysql_bulk_members_wanted listed: whole member lists
 * as one IN list of groups, or (group, user) rows; sorted.
 */
static int
store_mysql_bulk_members_read(struct store_mysql_bulk *b)
{
	MYSQL_RES *res;
	size_t i;
	int r;

	if (b->rcpt != NULL)
		store_mysql_bulk_start(b, "SELECT group_id, user_id FROM "
		                          "group_members WHERE group_id IN (");
	else
		store_mysql_bulk_start(b, "SELECT group_id, user_id FROM "
		                          "group_members WHERE (group_id, "
		                          "user_id) IN (");
	for (i = 0; i < b->nmembers; i++)
		if (b->rcpt != NULL)
			store_mysql_bulk_add(b, "%s%" PRId64, i > 0 ? ", " : "",
			                     b->members[i].a);
		else
			store_mysql_bulk_add(b, "%s(%" PRId64 ", %" PRId64 ")",
			                     i > 0 ? ", " : "", b->members[i].a,
			                     b->members[i].b);
	store_mysql_bulk_add(b, ") ORDER BY group_id, user_id");
	b->nmembers = 0;
	if ((r = store_mysql_bulk_exec(b, "bulk: members", &res)) < 0)
		return r;
	store_mysql_bulk_pairs_read(res, &b->members, &b->nmembers,
	                            &b->capmembers);
	return 0;
}

/*
 * Makes b->mv hold the memberships the batch needs. With recipients
 * wanted (the server's writer always wants them) those are whole member
 * lists, kept on the connection (store_mysql_known) while the members
 * epoch holds, so a batch reads only the groups it has not sent to
 * before: in fanout to 100 members on MariaDB, reading the list was
 * ~150 us a batch, the costliest statement. A join or leave (or a lost
 * connection) voids them all, so a leaver gets nothing pushed once the
 * leave has committed, as when every batch read the lists.
 */
static int
store_mysql_bulk_members(struct store_mysql_bulk *b)
{
	struct store_mysql_known *kn =
	    store_mysql_known(b->s, STORE_MYSQL_EPOCH_MEMBERS);
	int r;

	store_mysql_bulk_members_wanted(b);
	if (b->nmembers == 0)
		return 0;
	if (b->rcpt == NULL) {
		r = store_mysql_bulk_members_read(b);
		b->mv = b->members;
		b->mn = b->nmembers;
		return r;
	}
	if ((r = store_mysql_bulk_epoch(b, STORE_MYSQL_EPOCH_MEMBERS, kn)) < 0)
		return r;
	store_mysql_bulk_members_known(b, kn);
	if (b->nmembers > 0) {
		if ((r = store_mysql_bulk_members_read(b)) < 0)
			return r;
		store_mysql_bulk_learn(kn, b->members, b->nmembers);
	}
	b->mv = kn->v;
	b->mn = kn->n;
	return 0;
}

/*
 * Decides each check from the rows read; a send they do not allow asks
 * the single path's check why (no such target, or not allowed).
 */
static int
store_mysql_bulk_check(struct store_mysql_bulk *b)
{
	const struct store_mysql_known *kn =
	    store_mysql_known(b->s, STORE_MYSQL_EPOCH_FRIENDS);
	const struct store_send *in;
	char conv[STORE_CONV_MAX];
	size_t i;
	int r;

	for (i = 0; i < b->n; i++) {
		in = &b->in[i];
		if (b->it[i].state != BULK_CHECK)
			continue;
		if (in->to_user != 0 && in->to_user != in->from_id &&
		    store_mysql_bulk_has(kn->v, kn->n, in->from_id,
		                         in->to_user))
			continue;
		if (in->to_group != 0 &&
		    store_mysql_bulk_has(b->mv, b->mn, in->to_group,
		                         in->from_id))
			continue;
		r = store_mysql_msg_check(b->s, in, conv, NULL);
		if (r < 0 && !store_common_refused(r))
			return r;
		b->it[i].check = r;
	}
	return 0;
}

/*
 * Points each checked send that repeats an earlier one (same sender and
 * cmid) at the first of them the checks allow, as calls one after another
 * would: that one is stored and the rest find it. The repeats are runs of
 * the sorted keys.
 */
static void
store_mysql_bulk_repeats(struct store_mysql_bulk *b)
{
	size_t i, j, n, first;
	struct store_mysql_bulk_key *v =
	    store_mysql_bulk_keys(b, BULK_CHECK, &n);

	for (i = 0; i < n; i = j) {
		first = STORE_MYSQL_BULK_NONE;
		for (j = i;
		     j < n && store_mysql_bulk_key_order(&v[j], &v[i]) == 0;
		     j++) {
			if (first != STORE_MYSQL_BULK_NONE)
				b->it[v[j].i].first = first;
			else if (b->it[v[j].i].check >= 0)
				first = v[j].i;
		}
	}
	free(v);
}

/*
 * Decides, in input order as calls one after another would, what each
 * checked send becomes: a retry of an earlier send of the batch (before
 * any check), refused, or new.
 */
static void
store_mysql_bulk_resolve(struct store_mysql_bulk *b)
{
	struct store_mysql_bulk_item *it;
	size_t i;

	store_mysql_bulk_repeats(b);
	for (i = 0; i < b->n; i++) {
		it = &b->it[i];
		if (it->state != BULK_CHECK)
			continue;
		if (it->first != STORE_MYSQL_BULK_NONE) {
			it->state = BULK_AGAIN;
		} else if (it->check < 0) {
			it->state = BULK_DONE;
			b->res[i] = it->check;
			/* A retry's stored message would win over the refusal.
			 */
			if (b->hopeful && b->in[i].cmid != NULL)
				b->missed = true;
		} else {
			it->state = BULK_NEW;
		}
	}
}

/* The name read for user id, or NULL. */
static const char *
store_mysql_bulk_name_of(const struct store_mysql_bulk *b, int64_t id)
{
	size_t i;

	for (i = 0; i < b->nnames; i++)
		if (b->names[i].id == id)
			return b->names[i].name;
	return NULL;
}

/* Appends the users of res to b->names and frees res. */
static void
store_mysql_bulk_names_read(struct store_mysql_bulk *b, MYSQL_RES *res)
{
	MYSQL_ROW row;

	while ((row = mysql_fetch_row(res)) != NULL) {
		b->names =
		    xgrow(b->names, b->nnames, &b->capnames, sizeof(*b->names));
		b->names[b->nnames].id = store_mysql_bulk_col_int(row, 0);
		b->names[b->nnames++].name = store_mysql_bulk_col_str_nn(
		    row, mysql_fetch_lengths(res), 1);
	}
	mysql_free_result(res);
}

/* Reads the names of the new messages' senders that the caller left out. */
static int
store_mysql_bulk_names(struct store_mysql_bulk *b)
{
	MYSQL_RES *res;
	size_t i;
	int r;

	store_mysql_bulk_start(b, "SELECT id, name FROM users WHERE id IN (");
	for (i = 0; i < b->n; i++)
		if (b->it[i].state == BULK_NEW && b->in[i].from_name == NULL)
			store_mysql_bulk_add(b, "%s%" PRId64,
			                     store_mysql_bulk_sep(b, ", "),
			                     b->in[i].from_id);
	if (b->qlen == b->mark)
		return 0;
	store_mysql_bulk_add(b, ")");
	if ((r = store_mysql_bulk_exec(b, "bulk: names", &res)) < 0)
		return r;
	store_mysql_bulk_names_read(b, res);
	for (i = 0; i < b->n; i++)
		if (b->it[i].state == BULK_NEW && b->in[i].from_name == NULL &&
		    store_mysql_bulk_name_of(b, b->in[i].from_id) == NULL)
			return -ERR_INTERNAL; /* the check vouched for it */
	return 0;
}

/* Everything the writes need, read inside the savepoint. */
static int
store_mysql_bulk_reads(struct store_mysql_bulk *b)
{
	int r;

	store_mysql_bulk_prepare(b);
	if ((!b->hopeful && (r = store_mysql_bulk_lookup(b, BULK_CHECK)) < 0) ||
	    (r = store_mysql_bulk_friends(b)) < 0 ||
	    (r = store_mysql_bulk_members(b)) < 0 ||
	    (r = store_mysql_bulk_check(b)) < 0)
		return r;
	store_mysql_bulk_resolve(b);
	if (b->missed)
		return -ERR_INTERNAL;
	return store_mysql_bulk_names(b);
}

/* --- writes --- */

/* Orders conversations by id, as the index does (ids are ASCII). */
static int
store_mysql_bulk_conv_cmp(const void *x, const void *y)
{
	const struct store_mysql_bulk_conv *a = x, *b = y;

	return strcmp(a->id, b->id);
}

/* The batch's entry for conversation id. */
static struct store_mysql_bulk_conv *
store_mysql_bulk_conv_find(const struct store_mysql_bulk *b, const char *id)
{
	struct store_mysql_bulk_conv key = {.id = id};

	return bsearch(&key, b->convs, b->nconvs, sizeof(*b->convs),
	               store_mysql_bulk_conv_cmp);
}

/*
 * Lists the new messages' conversations, sorted by id, with their counts,
 * and points each new message at its own (it->ci). The messages are
 * grouped by their conversation's key in a hash table and only the
 * conversations are sorted: a batch holds up to thousands of sends in a
 * few hundred conversations, and sorting the sends by their
 * conversations' ids (twice: here and for the INSERT's order) was a
 * sixth of the DB writer's time in the cross-node relay.
 */
static void
store_mysql_bulk_convs(struct store_mysql_bulk *b)
{
	struct pairtab *t = pairtab_new_exact(64);
	int64_t x, y, v;
	size_t i;

	b->convs = xcalloc(b->n, sizeof(*b->convs));
	for (i = 0; i < b->n; i++) {
		if (b->it[i].state != BULK_NEW)
			continue;
		store_common_conv_key(&b->in[i], &x, &y);
		if ((v = pairtab_find(t, x, y)) == 0) {
			v = (int64_t)++b->nconvs;
			pairtab_set(t, x, y, v);
			b->convs[v - 1].id = b->it[i].conv;
			b->convs[v - 1].in = &b->in[i];
		}
		b->convs[v - 1].k++;
	}
	qsort(b->convs, b->nconvs, sizeof(*b->convs),
	      store_mysql_bulk_conv_cmp);
	for (i = 0; i < b->nconvs; i++) {
		store_common_conv_key(b->convs[i].in, &x, &y);
		pairtab_set(t, x, y, (int64_t)i + 1);
	}
	for (i = 0; i < b->n; i++) {
		if (b->it[i].state != BULK_NEW)
			continue;
		store_common_conv_key(&b->in[i], &x, &y);
		b->it[i].ci = (size_t)pairtab_find(t, x, y) - 1;
	}
	pairtab_free(t);
}

/*
 * Compares epoch which, as read now, with the one the attempt assumed.
 * A change voids what the connection knew and runs the batch again.
 */
static int
store_mysql_bulk_epoch_held(struct store_mysql_bulk *b, size_t which,
                            int64_t now)
{
	struct store_mysql_known *kn =
	    store_mysql_known(b->s, (enum store_mysql_epoch_id)(which + 1));

	b->assumed[which] = false;
	if (kn->valid && kn->epoch == now)
		return 0;
	kn->valid = false;
	b->missed = true;
	return -ERR_INTERNAL;
}

/*
 * Reads (id, last seq) rows of the conversations without a hint: each
 * one's next seq; then, in order, the epochs the attempt assumed. A
 * conversation without a row gets one (the messages' foreign key wants
 * it), and seq 1.
 */
static int
store_mysql_bulk_seq_read(struct store_mysql_bulk *b, MYSQL_RES *res)
{
	bool assumed[STORE_MYSQL_BULK_EPOCHS];
	struct store_mysql_bulk_conv *c;
	MYSQL_ROW row;
	size_t i;
	int col, r = 0;

	memcpy(assumed, b->assumed, sizeof(assumed));
	while ((row = mysql_fetch_row(res)) != NULL) {
		if (row[0] != NULL &&
		    (c = store_mysql_bulk_conv_find(b, row[0])) != NULL)
			c->next = store_mysql_bulk_col_int(row, 1) + 1;
		for (i = 0, col = 2; i < STORE_MYSQL_BULK_EPOCHS && r == 0; i++)
			if (assumed[i])
				r = store_mysql_bulk_epoch_held(
				    b, i, store_mysql_bulk_col_int(row, col++));
	}
	mysql_free_result(res);
	if (r < 0)
		return r;
	store_mysql_bulk_start(b, "INSERT INTO conversations(id) VALUES ");
	for (i = 0; i < b->nconvs; i++) {
		if (b->convs[i].next > 0)
			continue;
		store_mysql_bulk_add(b, "%s(", store_mysql_bulk_sep(b, ", "));
		store_mysql_bulk_add_str(b, b->convs[i].id,
		                         strlen(b->convs[i].id));
		store_mysql_bulk_add(b, ")");
		b->convs[i].next = 1;
	}
	if (b->qlen == b->mark)
		return 0;
	store_mysql_bulk_add(b, " ON DUPLICATE KEY UPDATE id = id");
	return store_mysql_bulk_exec(b, "bulk: conversations", NULL);
}

/*
 * Gives each conversation its next seq: the connection's hint, or, for
 * those it has none of, the end of the key's range, read in one query
 * with the epochs the attempt assumed (store_mysql_bulk_verify reads them
 * if there is no such query). The read waits for another writer's insert
 * at a conversation's end, uncommitted yet; a seq another writer took
 * after it, or through a stale hint, fails the insert, and the batch
 * runs again (store-mysql.c).
 */
static int
store_mysql_bulk_seq_take(struct store_mysql_bulk *b)
{
	MYSQL_RES *res;
	size_t i;
	int r;

	store_mysql_bulk_start(
	    b, "SELECT v.id, " STORE_MYSQL_LAST_SEQ_LOCKED("v.id"));
	for (i = 0; i < STORE_MYSQL_BULK_EPOCHS; i++)
		if (b->assumed[i])
			store_mysql_bulk_add(b,
			                     ", (SELECT n FROM social_epoch "
			                     "WHERE id = %zu)",
			                     i + 1);
	store_mysql_bulk_add(b, " FROM conversations v WHERE v.id IN (");
	b->mark = b->qlen;
	for (i = 0; i < b->nconvs; i++) {
		b->convs[i].next = store_mysql_seq_hint(b->s, b->convs[i].in);
		if (b->convs[i].next > 0)
			continue;
		store_mysql_bulk_add(b, "%s", store_mysql_bulk_sep(b, ", "));
		store_mysql_bulk_add_str(b, b->convs[i].id,
		                         strlen(b->convs[i].id));
	}
	if (b->qlen == b->mark)
		return 0;
	store_mysql_bulk_add(b, ")");
	if ((r = store_mysql_bulk_exec(b, "bulk: seqs", &res)) < 0)
		return r;
	return store_mysql_bulk_seq_read(b, res);
}

/*
 * Gives the new messages their seqs: input order within a conversation.
 * The hints move past them now: if the insert fails, its rollback
 * forgets every hint.
 */
static int
store_mysql_bulk_seqs(struct store_mysql_bulk *b)
{
	size_t i;
	int r;

	store_mysql_bulk_convs(b);
	if ((r = store_mysql_bulk_seq_take(b)) < 0)
		return r;
	for (i = 0; i < b->n; i++) {
		if (b->it[i].state != BULK_NEW)
			continue;
		b->it[i].seq = b->convs[b->it[i].ci].next++;
		b->it[i].ord = store_mysql_ord_next(b->s);
	}
	for (i = 0; i < b->nconvs; i++)
		store_mysql_seq_note(b->s, b->convs[i].in, b->convs[i].next);
	return 0;
}

/* The next size bytes of a block being cut into arrays. */
static void *
store_mysql_bulk_cut(char **p, size_t size)
{
	void *at = *p;

	*p += size;
	return at;
}

/*
 * Column arrays of the rows to insert, for n sends at most: one block,
 * the eight-byte columns first (the block's alignment holds for them),
 * the one-byte indicators last; r->conv is its start.
 */
static void
store_mysql_bulk_rows_new(struct store_mysql_rows *r, size_t n)
{
	char *p = xcalloc(n, 12 * sizeof(long long) + 3);

	r->conv = store_mysql_bulk_cut(&p, n * sizeof(*r->conv));
	r->conv_len = store_mysql_bulk_cut(&p, n * sizeof(*r->conv_len));
	r->seq = store_mysql_bulk_cut(&p, n * sizeof(*r->seq));
	r->sender = store_mysql_bulk_cut(&p, n * sizeof(*r->sender));
	r->to_user = store_mysql_bulk_cut(&p, n * sizeof(*r->to_user));
	r->to_group = store_mysql_bulk_cut(&p, n * sizeof(*r->to_group));
	r->ts = store_mysql_bulk_cut(&p, n * sizeof(*r->ts));
	r->ord = store_mysql_bulk_cut(&p, n * sizeof(*r->ord));
	r->body = store_mysql_bulk_cut(&p, n * sizeof(*r->body));
	r->body_len = store_mysql_bulk_cut(&p, n * sizeof(*r->body_len));
	r->cmid = store_mysql_bulk_cut(&p, n * sizeof(*r->cmid));
	r->cmid_len = store_mysql_bulk_cut(&p, n * sizeof(*r->cmid_len));
	r->to_user_ind = store_mysql_bulk_cut(&p, n);
	r->to_group_ind = store_mysql_bulk_cut(&p, n);
	r->cmid_ind = store_mysql_bulk_cut(&p, n);
}

/* Puts send i's row at k of the column arrays; returns its body's size. */
static size_t
store_mysql_bulk_put_row(const struct store_mysql_bulk *b, size_t i,
                         struct store_mysql_rows *r, size_t k)
{
	const struct store_send *in = &b->in[i];

	r->conv[k] = b->it[i].conv;
	r->conv_len[k] = (unsigned long)strlen(b->it[i].conv);
	r->seq[k] = b->it[i].seq;
	r->sender[k] = in->from_id;
	r->to_user[k] = in->to_user;
	r->to_user_ind[k] =
	    in->to_user != 0 ? STMT_INDICATOR_NONE : STMT_INDICATOR_NULL;
	r->to_group[k] = in->to_group;
	r->to_group_ind[k] =
	    in->to_group != 0 ? STMT_INDICATOR_NONE : STMT_INDICATOR_NULL;
	r->body[k] = in->body;
	r->body_len[k] = (unsigned long)in->body_len;
	r->ts[k] = in->ts;
	r->ord[k] = b->it[i].ord;
	r->cmid[k] = in->cmid != NULL ? in->cmid : "";
	r->cmid_len[k] = in->cmid != NULL ? (unsigned long)strlen(in->cmid) : 0;
	r->cmid_ind[k] =
	    in->cmid != NULL ? STMT_INDICATOR_NONE : STMT_INDICATOR_NULL;
	return in->body_len;
}

/*
 * Executes the k rows gathered. A duplicate key is a retry missed (a
 * hopeful attempt's), or a seq another writer took first: either way the
 * batch runs again, with the lookup and its seqs read.
 */
static int
store_mysql_bulk_put(struct store_mysql_bulk *b,
                     const struct store_mysql_rows *r, size_t k)
{
	int rc = store_mysql_insert_rows(b->s, r, k);

	if (rc == 1) {
		b->missed = true;
		return -ERR_INTERNAL;
	}
	return rc;
}

/*
 * The new messages' items (*n of them, an array the caller frees) by
 * (conv, seq), the order their keys are inserted in: every node then
 * locks keys in the same order, so two batches whose seqs collide (hints
 * gone stale on both) wait for each other instead of deadlocking. Their
 * ords keep the input order (store_mysql_bulk_seqs), which sync follows.
 */
static const struct store_mysql_bulk_item **
store_mysql_bulk_order(const struct store_mysql_bulk *b, size_t *n)
{
	const struct store_mysql_bulk_item **v = xcalloc(b->n, sizeof(*v));
	size_t *at = xcalloc(b->nconvs + 1, sizeof(*at));
	size_t i;

	/* convs are sorted, and a conversation's seqs follow input order */
	for (i = 0; i < b->nconvs; i++)
		at[i + 1] = at[i] + (size_t)b->convs[i].k;
	*n = at[b->nconvs];
	for (i = 0; i < b->n; i++)
		if (b->it[i].state == BULK_NEW)
			v[at[b->it[i].ci]++] = &b->it[i];
	free(at);
	return v;
}

/*
 * Inserts the new messages with one execution of a prepared INSERT bound
 * to arrays: mariadbd parses no SQL text for them (parsing the multi-row
 * INSERT's text was about a quarter of its CPU in the relay). One
 * execution per STORE_MYSQL_BULK_CHUNK bytes of bodies.
 */
static int
store_mysql_bulk_insert(struct store_mysql_bulk *b)
{
	const struct store_mysql_bulk_item **order;
	struct store_mysql_rows r;
	size_t i, j, n, k = 0, bytes = 0;
	int rc = 0;

	order = store_mysql_bulk_order(b, &n);
	store_mysql_bulk_rows_new(&r, b->n);
	for (j = 0; j < n && rc == 0; j++) {
		i = (size_t)(order[j] - b->it);
		bytes += store_mysql_bulk_put_row(b, i, &r, k++);
		if (bytes < STORE_MYSQL_BULK_CHUNK)
			continue;
		rc = store_mysql_bulk_put(b, &r, k);
		k = bytes = 0;
	}
	if (rc == 0 && k > 0)
		rc = store_mysql_bulk_put(b, &r, k);
	free((void *)r.conv); /* the block */
	free(order);
	return rc;
}

/* Reads back the messages that later sends of the batch repeat. */
static int
store_mysql_bulk_again(struct store_mysql_bulk *b)
{
	size_t i;
	int r;

	if ((r = store_mysql_bulk_lookup(b, BULK_AGAIN)) < 0)
		return r;
	for (i = 0; i < b->n; i++)
		if (b->it[i].state == BULK_AGAIN &&
		    b->it[i].row == STORE_MYSQL_BULK_NONE)
			return -ERR_INTERNAL;
	return 0;
}

/* Stores the new messages. */
static int
store_mysql_bulk_writes(struct store_mysql_bulk *b)
{
	size_t i;
	int r;

	for (i = 0; i < b->n && b->it[i].state != BULK_NEW; i++)
		;
	if (i == b->n)
		return 0;
	if ((r = store_mysql_bulk_seqs(b)) < 0 ||
	    (r = store_mysql_bulk_insert(b)) < 0)
		return r;
	return store_mysql_bulk_again(b);
}

/* Reads the epochs still assumed: no read of seqs took them along. */
static int
store_mysql_bulk_verify(struct store_mysql_bulk *b)
{
	int64_t epoch;
	size_t i;
	int r;

	for (i = 0; i < STORE_MYSQL_BULK_EPOCHS; i++) {
		if (!b->assumed[i])
			continue;
		if ((r = store_mysql_epoch(b->s,
		                           (enum store_mysql_epoch_id)(i + 1),
		                           &epoch)) < 0 ||
		    (r = store_mysql_bulk_epoch_held(b, i, epoch)) < 0)
			return r;
	}
	return 0;
}

/* --- outputs --- */

/* Who gets a message live: both sides, or every member of the group. */
static void
store_mysql_bulk_rcpt(const struct store_mysql_bulk *b, size_t i,
                      const struct store_msg *m)
{
	struct store_ids *rcpt = &b->rcpt[i];
	size_t j, k;

	if (m->to_group == 0) {
		store_common_rcpt_direct(m, rcpt);
		return;
	}
	j = store_mysql_bulk_lower(b->mv, b->mn, m->to_group, INT64_MIN);
	for (k = j; k < b->mn && b->mv[k].a == m->to_group; k++)
		;
	if (k == j)
		return;
	rcpt->ids = xmalloc((k - j) * sizeof(*rcpt->ids));
	for (rcpt->n = 0; j < k; j++)
		rcpt->ids[rcpt->n++] = b->mv[j].b;
}

/* A deep copy of a stored message. */
static void
store_mysql_bulk_copy(struct store_msg *dst, const struct store_msg *src)
{
	*dst = *src;
	dst->from_name = xstrdup(src->from_name);
	dst->body = xstrdup(src->body);
	dst->cmid = src->cmid != NULL ? xstrdup(src->cmid) : NULL;
}

/* Fills out[i] with new message i as stored (store_common_msg_fill). */
static void
store_mysql_bulk_fill_new(const struct store_mysql_bulk *b, size_t i)
{
	const struct store_send *in = &b->in[i];
	const char *looked_up;
	char *name = NULL;

	if (in->from_name == NULL) { /* the attempt's names, freed with it */
		looked_up = store_mysql_bulk_name_of(b, in->from_id);
		name = xstrdup(looked_up != NULL ? looked_up : "");
	}
	store_common_msg_fill(in, b->it[i].conv, b->it[i].seq, name,
	                      &b->out[i]);
}

/* The outputs of a bulk attempt that went through. */
static void
store_mysql_bulk_fill(const struct store_mysql_bulk *b)
{
	const struct store_mysql_bulk_item *it;
	size_t i;

	for (i = 0; i < b->n; i++) {
		it = &b->it[i];
		if (it->state == BULK_DONE)
			continue;
		if (it->state == BULK_NEW) {
			store_mysql_bulk_fill_new(b, i);
		} else {
			store_mysql_bulk_copy(&b->out[i], &b->rows[it->row]);
			b->dup[i] = true;
		}
		if (b->rcpt != NULL)
			store_mysql_bulk_rcpt(b, i, &b->out[i]);
		b->res[i] = 0;
	}
}

/* --- the call --- */

/* Forgets what an attempt read, for another one. */
static void
store_mysql_bulk_reset(struct store_mysql_bulk *b)
{
	size_t i;

	store_msgs_free(b->rows, b->nrows);
	for (i = 0; i < b->nnames; i++)
		free(b->names[i].name);
	free(b->names);
	free(b->friends);
	free(b->members);
	free(b->convs);
	b->rows = NULL;
	b->names = NULL;
	b->friends = b->members = NULL;
	b->mv = NULL;
	b->mn = 0;
	b->convs = NULL;
	b->nrows = b->caprows = b->nnames = b->capnames = 0;
	b->nfriends = b->capfriends = b->nmembers = b->capmembers = 0;
	b->nconvs = 0;
	memset(b->it, 0, b->n * sizeof(*b->it));
	memset(b->assumed, 0, sizeof(b->assumed));
}

/* Frees what a bulk attempt read; the outputs stay. */
static void
store_mysql_bulk_free(struct store_mysql_bulk *b)
{
	store_mysql_bulk_reset(b);
	free(b->it);
	free(b->q);
}

/*
 * One bulk attempt, in a savepoint: 0, or an errcode after undoing what
 * it wrote (unless the batch is lost).
 */
static int
store_mysql_bulk_attempt(struct store_mysql_bulk *b)
{
	int r;

	if ((r = store_mysql_savepoint(b->s)) < 0)
		return r;
	if ((r = store_mysql_bulk_reads(b)) < 0 ||
	    (r = store_mysql_bulk_writes(b)) < 0 ||
	    (r = store_mysql_bulk_verify(b)) < 0) {
		if (!store_mysql_lost(b->s))
			store_mysql_rollback_savepoint(b->s);
		return r;
	}
	store_mysql_bulk_fill(b);
	return 0;
}

/*
 * Retries are rare, so the first attempt does not look cmids up: a send
 * that repeats a stored one then fails the INSERT on (sender, cmid), or
 * (if the checks refuse it) might have; the attempt is undone and the
 * batch runs again with the lookup, as it always did before. A seq that
 * another writer took first fails the INSERT too: each attempt after the
 * first reads the seqs, and another writer can take one only between
 * that read and the insert. Past STORE_MYSQL_BULK_TRIES the caller
 * stores the sends one by one.
 */
static int
store_mysql_bulk_run(struct store_mysql_bulk *b)
{
	int r, i;

	b->hopeful = true;
	for (i = 0;; i++) {
		if ((r = store_mysql_bulk_attempt(b)) == 0 || !b->missed ||
		    store_mysql_lost(b->s) || i + 1 >= STORE_MYSQL_BULK_TRIES)
			return r;
		store_mysql_bulk_reset(b);
		b->hopeful = b->missed = false;
	}
}

/* Empties the outputs (freeing what they hold if held is set). */
static void
store_mysql_bulk_clear(struct store_msg *out, bool *dup, struct store_ids *rcpt,
                       size_t n, bool held)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (held) {
			store_msg_clear(&out[i]);
			if (rcpt != NULL)
				free(rcpt[i].ids);
		}
		memset(&out[i], 0, sizeof(out[i]));
		dup[i] = false;
		if (rcpt != NULL)
			memset(&rcpt[i], 0, sizeof(rcpt[i]));
	}
}

/* The batch is lost: every send fails and nothing of them is kept. */
static int
store_mysql_bulk_lost(struct store_msg *out, bool *dup, struct store_ids *rcpt,
                      int *res, size_t n)
{
	size_t i;

	store_mysql_bulk_clear(out, dup, rcpt, n, true);
	for (i = 0; i < n; i++)
		res[i] = -ERR_UNAVAILABLE;
	return -ERR_UNAVAILABLE;
}

/* The n sends one call after another (outside a batch, or as fallback). */
static int
store_mysql_bulk_loop(struct store_mysql *s, const struct store_send *in,
                      size_t n, struct store_msg *out, bool *dup,
                      struct store_ids *rcpt, int *res)
{
	size_t i;

	for (i = 0; i < n; i++)
		res[i] = store_mysql_msg_append(s, &in[i], &out[i], &dup[i],
		                                rcpt != NULL ? &rcpt[i] : NULL);
	if (store_mysql_lost(s))
		return store_mysql_bulk_lost(out, dup, rcpt, res, n);
	return 0;
}

/* n sends at once inside a batch; one by one outside or as a fallback. */
int
store_mysql_bulk_msg_append_many(void *c, const struct store_send *in, size_t n,
                                 struct store_msg *out, bool *dup,
                                 struct store_ids *rcpt, int *res)
{
	struct store_mysql *s = c;
	struct store_mysql_bulk b = {.s = s,
	                             .in = in,
	                             .n = n,
	                             .out = out,
	                             .dup = dup,
	                             .rcpt = rcpt,
	                             .res = res};
	int r;

	store_mysql_bulk_clear(out, dup, rcpt, n, false);
	if (n == 0)
		return store_mysql_lost(s) ? -ERR_UNAVAILABLE : 0;
	if (!store_mysql_batching(s))
		return store_mysql_bulk_loop(s, in, n, out, dup, rcpt, res);
	if (store_mysql_lost(s))
		return store_mysql_bulk_lost(out, dup, rcpt, res, n);
	b.it = xcalloc(n, sizeof(*b.it));
	r = store_mysql_bulk_run(&b);
	store_mysql_bulk_free(&b);
	if (r == 0)
		return 0;
	if (store_mysql_lost(s))
		return store_mysql_bulk_lost(out, dup, rcpt, res, n);
	log_warn("mysql: bulk append of %zu failed (%d): one by one", n, r);
	return store_mysql_bulk_loop(s, in, n, out, dup, rcpt, res);
}
