#include "account.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <json-c/json.h>

#include "codec.h"
#include "config.h"
#include "errcode.h"
#include "guard.h"
#include "handler.h"
#include "presence.h"
#include "server.h"
#include "session.h"
#include "validate.h"

#define ACCOUNT_TOKEN_BYTES 16

/* Monotonic milliseconds, for the failed-login windows. */
static int64_t
account_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* hello: what this server speaks, and the limits a client must respect. */
int
account_hello_parse(struct hjob *j)
{
	const struct config *cfg = j->srv->cfg;
	struct json_object *limits = json_object_new_object();

	codec_set_int(j->reply, "proto", 1);
	codec_set_string(j->reply, "server", "natterd/" NATTER_VERSION);
	codec_set_string(j->reply, "node", j->srv->node);
	codec_set_int(j->reply, "heartbeat", cfg->heartbeat);
	codec_set_int(limits, "max_frame", cfg->max_frame);
	codec_set_int(limits, "max_body", cfg->max_body);
	json_object_object_add(j->reply, "limits", limits);
	return 0;
}

/* ping: the reply is the answer. */
int
account_ping_parse(struct hjob *j)
{
	(void)j;
	return 0;
}

/* Reads and checks name and password, shared by register and login. */
static int
account_credentials(struct hjob *j, bool strict)
{
	const char *pw;
	size_t len, pwlen;

	if (codec_get_string(j->in, "name", &j->str, &len) != 0 ||
	    codec_get_string(j->in, "password", &pw, &pwlen) != 0)
		return handler_fail(j, ERR_BAD_REQUEST,
		                    "name and password must be strings");
	j->str2 = pw;
	j->len = len;
	if (!strict)
		return 0;
	if (validate_name(j->str, len) < 0)
		return handler_fail(j, ERR_INVALID_NAME, NULL);
	if (validate_password(pw, pwlen) < 0)
		return handler_fail(j, ERR_INVALID_PASSWORD, NULL);
	return 0;
}

/* Whether the client's address may have one more (slow) password check. */
static int
account_auth_budget(struct hjob *j)
{
	if (!guard_auth_take(j->srv->guard, j->addr, account_now_ms()))
		return handler_fail(j, ERR_RATE_LIMITED,
		                    "too many password checks: slow down");
	return 0;
}

int
account_register_parse(struct hjob *j)
{
	if (account_credentials(j, true) < 0)
		return j->err;
	return account_auth_budget(j);
}

/* Hashes the password (slow on purpose: on a DB thread) and stores. */
int
account_register_run(struct store *st, struct hjob *j)
{
	struct store_user u = {0};
	int r;

	if ((r = store_user_register(st, j->str, j->str2, &u)) < 0)
		return r;
	json_object_object_add(j->reply, "user",
	                       handler_user_json(u.id, u.name));
	store_user_clear(&u);
	return 0;
}

/*
 * A login may not switch users under a session; wrong-shaped credentials
 * are bad_credentials like wrong ones, so the reply tells nothing.
 */
int
account_login_parse(struct hjob *j)
{
	if (j->uid != 0)
		return handler_fail(j, ERR_BAD_REQUEST, "already logged in");
	if (account_credentials(j, false) < 0)
		return j->err;
	/* No such account can exist: no hash, nothing recorded. */
	if (validate_name(j->str, j->len) < 0)
		return handler_fail(j, ERR_BAD_CREDENTIALS, NULL);
	if (account_auth_budget(j) < 0)
		return j->err;
	if (!guard_login_allowed(j->srv->guard, j->str, j->addr,
	                         account_now_ms()))
		return handler_fail(j, ERR_RATE_LIMITED,
		                    "too many failed logins: try again later");
	return 0;
}

/* Verifies the password, and prepares the presence event for friends. */
int
account_login_run(struct store *st, struct hjob *j)
{
	unsigned char raw[ACCOUNT_TOKEN_BYTES];
	char token[2 * ACCOUNT_TOKEN_BYTES + 1];
	size_t i;
	int r;

	r = store_user_login(st, j->str, j->str2, &j->user);
	if (r == -ERR_BAD_CREDENTIALS)
		guard_login_failed(j->srv->guard, j->str, j->addr,
		                   account_now_ms());
	if (r < 0)
		return r;
	guard_login_succeeded(j->srv->guard, j->str);
	if ((r = store_friend_ids(st, j->user.id, &j->rcpt)) < 0)
		return r;
	if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
		return -ERR_INTERNAL;
	for (i = 0; i < sizeof raw; i++)
		snprintf(token + 2 * i, 3, "%02x", raw[i]);
	json_object_object_add(j->reply, "user",
	                       handler_user_json(j->user.id, j->user.name));
	codec_set_string(j->reply, "session", token);
	j->event = codec_event("presence");
	json_object_object_add(j->event, "user",
	                       handler_user_json(j->user.id, j->user.name));
	codec_set_bool(j->event, "online", true);
	return 0;
}

/*
 * Binds the session, unless the user has too many already; friends hear
 * only of a user's first session.
 */
void
account_login_done(struct hjob *j)
{
	long max = j->srv->cfg->max_sessions_per_user;
	bool first = false;

	if (max > 0 && presence_sessions(j->srv->presence, j->user.id) >= max)
		handler_fail(j, ERR_RATE_LIMITED, "too many sessions");
	else if (!j->s->closed && j->s->uid == 0)
		first = session_login(j->s, j->user.id, j->user.name);
	if (!first) {
		json_object_put(j->event);
		j->event = NULL;
	}
}

int
account_logout_parse(struct hjob *j)
{
	session_logout(j->s);
	return 0;
}
