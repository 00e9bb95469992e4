#include "chat.h"

#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <json-c/json.h>

#include "codec.h"
#include "config.h"
#include "errcode.h"
#include "handler.h"
#include "jsonfast.h"
#include "server.h"
#include "session.h"
#include "validate.h"
#include "xmalloc.h"

#define CHAT_CMID_MAX 128       /* bytes of a client message id */
#define CHAT_SYNC_DEFAULT 500   /* PROTOCOL.md's default sync page */
#define CHAT_HISTORY_DEFAULT 50 /* and history page */

/* Wall-clock milliseconds: a message's ts. */
static int64_t
chat_now_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

struct json_object *
chat_msg_json(const struct store_msg *m)
{
	struct json_object *ev = codec_event("msg");
	struct json_object *to = json_object_new_object();

	codec_set_string(ev, "conv", m->conv);
	codec_set_int(ev, "seq", m->seq);
	json_object_object_add(ev, "from",
	                       handler_user_json(m->from_id, m->from_name));
	if (m->to_group != 0)
		codec_set_int(to, "group", m->to_group);
	else
		codec_set_int(to, "user", m->to_user);
	json_object_object_add(ev, "to", to);
	codec_set_string(ev, "body", m->body);
	codec_set_int(ev, "ts", m->ts);
	if (m->cmid != NULL)
		codec_set_string(ev, "cmid", m->cmid);
	return ev;
}

/*
 * chat_msg_json as one frame, written directly: it is built for every
 * send, and a json-c object would cost an allocation per field.
 */
void
chat_msg_frame(const struct store_msg *m, struct codec_out *o)
{
	codec_out_raw(o, "{\"type\":\"msg\",\"conv\":");
	codec_out_str(o, m->conv, strlen(m->conv));
	codec_out_raw(o, ",\"seq\":");
	codec_out_int(o, m->seq);
	codec_out_raw(o, ",\"from\":{\"id\":");
	codec_out_int(o, m->from_id);
	codec_out_raw(o, ",\"name\":");
	codec_out_str(o, m->from_name, strlen(m->from_name));
	codec_out_raw(o, m->to_group != 0 ? "},\"to\":{\"group\":"
	                                  : "},\"to\":{\"user\":");
	codec_out_int(o, m->to_group != 0 ? m->to_group : m->to_user);
	codec_out_raw(o, "},\"body\":");
	codec_out_str(o, m->body, strlen(m->body));
	codec_out_raw(o, ",\"ts\":");
	codec_out_int(o, m->ts);
	if (m->cmid != NULL) {
		codec_out_raw(o, ",\"cmid\":");
		codec_out_str(o, m->cmid, strlen(m->cmid));
	}
	codec_out_raw(o, "}\n");
}

/* "to": exactly one of {"user":id} and {"group":id}. */
static int
chat_parse_to(struct hjob *j, int64_t *user, int64_t *group)
{
	struct json_object *to;
	int ru, rg;

	if (codec_get_object(j->in, "to", &to) != 0)
		return -1;
	ru = codec_get_id(to, "user", user);
	rg = codec_get_id(to, "group", group);
	if (ru < 0 || rg < 0 || ru == rg)
		return -1;
	if (ru != 0)
		*user = 0;
	if (rg != 0)
		*group = 0;
	return 0;
}

/* send: a target, a body within the limits, an optional cmid. */
int
chat_send_parse(struct hjob *j)
{
	int64_t user = 0, group = 0;
	size_t clen;
	int r;

	if (chat_parse_to(j, &user, &group) < 0)
		return handler_fail(
		    j, ERR_BAD_REQUEST,
		    "to must be {\"user\":id} or {\"group\":id}");
	j->id = user != 0 ? user : group;
	j->num = group != 0; /* 1: a group message */
	if (codec_get_string(j->in, "body", &j->str, &j->len) != 0)
		return handler_fail(j, ERR_BAD_REQUEST,
		                    "body must be a string");
	if ((r = validate_body(j->str, j->len, (size_t)j->srv->cfg->max_body)) <
	    0)
		return handler_fail(j, -r, NULL);
	r = codec_get_string(j->in, "cmid", &j->str2, &clen);
	if (r == 1)
		j->str2 = NULL;
	else if (r < 0 || clen == 0 || clen > CHAT_CMID_MAX ||
	         memchr(j->str2, '\0', clen) != NULL)
		return handler_fail(j, ERR_BAD_REQUEST,
		                    "cmid must be a string of 1 to 128 bytes");
	return 0;
}

/* The slots of a send frame, for codec_reader_fields. */
enum chat_field {
	CHAT_F_TYPE,
	CHAT_F_REQ,
	CHAT_F_TO,
	CHAT_F_USER,
	CHAT_F_GROUP,
	CHAT_F_BODY,
	CHAT_F_CMID,
	CHAT_F_COUNT
};

/* Whether string field f holds exactly s, with no escapes. */
static bool
chat_field_is(const struct jsonfast_field *f, const char *s)
{
	return f->set && !f->escaped && f->len == strlen(s) &&
	       memcmp(f->str, s, f->len) == 0;
}

/* The envelope: type send, a uint32 req if any, one valid recipient. */
static bool
chat_send_envelope(const struct jsonfast_field *f, struct chat_send_frame *out)
{
	const struct jsonfast_field *to;

	if (!chat_field_is(&f[CHAT_F_TYPE], "send") ||
	    f[CHAT_F_USER].set == f[CHAT_F_GROUP].set || !f[CHAT_F_BODY].set)
		return false;
	if (f[CHAT_F_REQ].set &&
	    (f[CHAT_F_REQ].num < 0 || f[CHAT_F_REQ].num > UINT32_MAX))
		return false;
	out->has_req = f[CHAT_F_REQ].set;
	out->req = (uint32_t)f[CHAT_F_REQ].num;
	out->group = f[CHAT_F_GROUP].set;
	to = out->group ? &f[CHAT_F_GROUP] : &f[CHAT_F_USER];
	out->to = to->num;
	return validate_id(to->num) == 0;
}

/* String field f, unescaped to dst (room for f->len + 1); its length. */
static size_t
chat_field_copy(const struct jsonfast_field *f, char *dst)
{
	size_t n = f->len;

	if (f->escaped)
		n = jsonfast_unescape(f->str, f->len, dst);
	else
		memcpy(dst, f->str, n);
	dst[n] = '\0';
	return n;
}

bool
chat_send_decode(const struct codec_reader *r, const char *line, size_t len,
                 size_t max_body, struct chat_send_frame *out)
{
	struct jsonfast_field f[CHAT_F_COUNT] = {
	    [CHAT_F_TYPE] = {.key = "type", .kind = JSONFAST_STRING},
	    [CHAT_F_REQ] = {.key = "req", .kind = JSONFAST_INT},
	    [CHAT_F_TO] = {.key = "to", .kind = JSONFAST_OBJECT},
	    [CHAT_F_USER] = {.key = "to.user", .kind = JSONFAST_INT},
	    [CHAT_F_GROUP] = {.key = "to.group", .kind = JSONFAST_INT},
	    [CHAT_F_BODY] = {.key = "body", .kind = JSONFAST_STRING},
	    [CHAT_F_CMID] = {.key = "cmid", .kind = JSONFAST_STRING},
	};
	char *buf = out->buf;
	size_t cap = out->cap, clen = 0, need;

	memset(out, 0, sizeof(*out));
	out->buf = buf;
	out->cap = cap;
	if (codec_reader_fields(r, line, len, f, CHAT_F_COUNT) != 0 ||
	    !chat_send_envelope(f, out))
		return false;
	need = f[CHAT_F_BODY].len + f[CHAT_F_CMID].len + 2;
	if (need > out->cap) {
		out->buf = xrealloc(out->buf, need);
		out->cap = need;
	}
	out->body_len = chat_field_copy(&f[CHAT_F_BODY], out->buf);
	if (f[CHAT_F_CMID].set) {
		out->cmid = out->buf + out->body_len + 1;
		clen = chat_field_copy(&f[CHAT_F_CMID],
		                       out->buf + out->body_len + 1);
	}
	/* chat_send_parse's checks; a frame failing one goes its way. */
	return validate_body(out->buf, out->body_len, max_body) == 0 &&
	       (out->cmid == NULL || (clen > 0 && clen <= CHAT_CMID_MAX));
}

void
chat_send_take(struct hjob *j, struct chat_send_frame *f)
{
	j->inbuf = f->buf;
	j->inbuf_cap = f->cap;
	f->buf = NULL;
	f->cap = 0;
	j->id = f->to;
	j->num = f->group;
	j->str = j->inbuf;
	j->len = f->body_len;
	j->str2 = f->cmid;
}

/*
 * The ok reply to a send, {"type":"send","req":..,"ok":true,"msg":{..}},
 * into the job's buffer.
 */
static void
chat_send_reply(struct hjob *j, const struct store_msg *m)
{
	struct codec_out *o = &j->reply_text;

	codec_out_raw(o, "{\"type\":\"send\"");
	if (j->has_req) {
		codec_out_raw(o, ",\"req\":");
		codec_out_int(o, j->req);
	}
	codec_out_raw(o, ",\"ok\":true,\"msg\":{\"conv\":");
	codec_out_str(o, m->conv, strlen(m->conv));
	codec_out_raw(o, ",\"seq\":");
	codec_out_int(o, m->seq);
	codec_out_raw(o, ",\"ts\":");
	codec_out_int(o, m->ts);
	codec_out_raw(o, "}}\n");
}

/* What store_msg_append needs for job j. */
static void
chat_send_input(const struct hjob *j, struct store_send *in)
{
	memset(in, 0, sizeof(*in));
	in->from_id = j->uid;
	in->to_user = j->num ? 0 : j->id;
	in->to_group = j->num ? j->id : 0;
	in->body = j->str;
	in->body_len = j->len;
	in->cmid = j->str2;
	in->ts = chat_now_ms();
	in->from_name = j->uname; /* no lookup of the sender */
}

/* The reply and, unless a retry (pushed the first time), the push. */
static void
chat_send_result(struct hjob *j, const struct store_msg *m, bool dup)
{
	j->reply_text.len = 0;
	chat_send_reply(j, m);
	j->frame.len = 0;
	if (!dup)
		chat_msg_frame(m, &j->frame);
}

/*
 * Stores the message (the writer thread, or on one core the loop itself,
 * runs it in a group commit with the other sends waiting); the push waits
 * for the commit.
 */
int
chat_send_run(struct store *st, struct hjob *j)
{
	struct store_send in;
	struct store_msg m = {0};
	bool dup = false;
	int r;

	chat_send_input(j, &in);
	if ((r = store_msg_append(st, &in, &m, &dup, &j->rcpt)) < 0)
		return r;
	chat_send_result(j, &m, dup);
	store_msg_clear(&m);
	return 0;
}

/* chat_send_run for the n sends of a batch, in one store call. */
void
chat_send_run_many(struct store *st, struct hjob **j, size_t n)
{
	/* The store's five arrays in one block: a batch is often one send. */
	size_t sz_in = n * sizeof(struct store_send),
	       sz_m = n * sizeof(struct store_msg),
	       sz_rcpt = n * sizeof(struct store_ids), sz_res = n * sizeof(int);
	char *block = xcalloc(1, sz_in + sz_m + sz_rcpt + sz_res + n);
	struct store_send *in = (struct store_send *)(void *)block;
	struct store_msg *m = (struct store_msg *)(void *)(block + sz_in);
	struct store_ids *rcpt =
	    (struct store_ids *)(void *)(block + sz_in + sz_m);
	int *res = (int *)(void *)(block + sz_in + sz_m + sz_rcpt);
	bool *dup = (bool *)(block + sz_in + sz_m + sz_rcpt + sz_res);
	size_t i;

	for (i = 0; i < n; i++)
		chat_send_input(j[i], &in[i]);
	(void)store_msg_append_many(st, in, n, m, dup, rcpt, res);
	for (i = 0; i < n; i++) {
		j[i]->rcpt = rcpt[i];
		if ((j[i]->err = res[i]) == 0)
			chat_send_result(j[i], &m[i], dup[i]);
		store_msg_clear(&m[i]);
	}
	free(block);
}

/*
 * Keeps the recipients in the job's own buffer for its worker, and frees
 * the store's array here, on the thread that made it.
 */
static void
chat_send_keep_rcpt(struct hjob *j)
{
	if (j->rcpt.n > j->here_cap) {
		free(j->here.ids);
		j->here.ids = xmalloc(j->rcpt.n * sizeof(*j->here.ids));
		j->here_cap = j->rcpt.n;
	}
	if (j->rcpt.n > 0)
		memcpy(j->here.ids, j->rcpt.ids,
		       j->rcpt.n * sizeof(*j->here.ids));
	j->here.n = j->rcpt.n;
	free(j->rcpt.ids);
	j->rcpt = (struct store_ids){NULL, 0};
}

/*
 * The batch is committed (or not): push now, on the thread that ran it
 * (the writer, or a loop: dbpool_loop_writes), so every worker receives
 * a conversation's messages in commit (seq) order.
 * The sender's worker is pushed to by the job itself, whose completion is
 * posted after this in the same order, so it needs no copy.
 */
void
chat_send_committed(struct hjob *j, int err)
{
	if (err < 0 && j->err == 0)
		handler_fail(j, -err, NULL);
	if (j->err == 0 && j->frame.len > 0)
		server_deliver_frame(j->srv, j->rcpt.ids, j->rcpt.n,
		                     j->frame.buf, j->frame.len, j->except,
		                     true, j->s->w);
	else
		j->frame.len = 0;
	chat_send_keep_rcpt(j);
}

/* An optional page size "limit": 1..sync-max, or dflt. */
static int
chat_parse_limit(struct hjob *j, uint64_t dflt)
{
	uint64_t max = (uint64_t)j->srv->cfg->sync_max;
	int r = codec_get_uint(j->in, "limit", UINT64_MAX, &j->num);

	if (r < 0 || (r == 0 && j->num == 0))
		return handler_fail(j, ERR_BAD_REQUEST,
		                    "limit must be a positive integer");
	if (r == 1)
		j->num = dflt;
	if (j->num > max)
		j->num = max;
	return 0;
}

int
chat_sync_parse(struct hjob *j)
{
	return chat_parse_limit(j, CHAT_SYNC_DEFAULT);
}

/* Adds msgs (and the more flag, if more is not NULL) to the reply. */
static void
chat_reply_msgs(struct hjob *j, struct store_msg *v, size_t n)
{
	struct json_object *arr = json_object_new_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_object_array_add(arr, chat_msg_json(&v[i]));
	json_object_object_add(j->reply, "msgs", arr);
	store_msgs_free(v, n);
}

int
chat_sync_run(struct store *st, struct hjob *j)
{
	struct store_msg *v = NULL;
	size_t n = 0;
	bool more = false;
	int r;

	if ((r = store_sync(st, j->uid, (size_t)j->num, &v, &n, &more)) < 0)
		return r;
	chat_reply_msgs(j, v, n);
	codec_set_bool(j->reply, "more", more);
	return 0;
}

int
chat_ack_parse(struct hjob *j)
{
	if (codec_get_string(j->in, "conv", &j->str, &j->len) != 0)
		return handler_fail(j, ERR_BAD_REQUEST,
		                    "conv must be a string");
	if (codec_get_id(j->in, "seq", &j->id) != 0)
		return handler_fail(j, ERR_BAD_REQUEST, "seq must be an id");
	return 0;
}

int
chat_ack_run(struct store *st, struct hjob *j)
{
	return store_ack(st, j->uid, j->str, j->id);
}

/* history: conv, an optional "before" seq and page size. */
int
chat_history_parse(struct hjob *j)
{
	int r;

	if (codec_get_string(j->in, "conv", &j->str, &j->len) != 0)
		return handler_fail(j, ERR_BAD_REQUEST,
		                    "conv must be a string");
	r = codec_get_id(j->in, "before", &j->id);
	if (r < 0)
		return handler_fail(j, ERR_BAD_REQUEST, "before must be a seq");
	if (r == 1)
		j->id = 0;
	return chat_parse_limit(j, CHAT_HISTORY_DEFAULT);
}

int
chat_history_run(struct store *st, struct hjob *j)
{
	struct store_msg *v = NULL;
	size_t n = 0;
	int r;

	r = store_history(st, j->uid, j->str, j->id, (size_t)j->num, &v, &n);
	if (r < 0)
		return r;
	chat_reply_msgs(j, v, n);
	return 0;
}
