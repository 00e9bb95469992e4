#include <string.h>

#include "errcode.h"
#include "log.h"
#include "pwhash.h"
#include "schema.h"
#include "store-common.h"
#include "xmalloc.h"

/* What was just stored, as the caller returns it; takes from_name. */
void
store_common_msg_fill(const struct store_send *in, const char *conv,
                      int64_t seq, char *from_name, struct store_msg *out)
{
	size_t len = strnlen(conv, sizeof(out->conv) - 1);

	memcpy(out->conv, conv, len); /* a conv id is shorter */
	out->conv[len] = '\0';
	out->seq = seq;
	out->from_id = in->from_id;
	out->to_user = in->to_user;
	out->to_group = in->to_group;
	out->ts = in->ts;
	out->lent = in->from_name != NULL;
	if (out->lent) {
		out->from_name = (char *)in->from_name;
		out->body = (char *)in->body;
		out->cmid = (char *)in->cmid;
		return;
	}
	out->from_name = from_name;
	out->body = xstrndup(in->body, in->body_len);
	out->cmid = in->cmid != NULL ? xstrdup(in->cmid) : NULL;
}

/* History is read newest first and returned oldest first. */
void
store_common_msgs_reverse(struct store_msg *v, size_t n)
{
	struct store_msg t;
	size_t i;

	for (i = 0; i < n / 2; i++) {
		t = v[i];
		v[i] = v[n - 1 - i];
		v[n - 1 - i] = t;
	}
}

/* A refusal is the sender's answer; anything else is a failure. */
bool
store_common_refused(int r)
{
	return r == -ERR_NOT_FOUND || r == -ERR_NOT_FRIENDS ||
	       r == -ERR_NOT_MEMBER;
}

void
store_common_conv_key(const struct store_send *in, int64_t *a, int64_t *b)
{
	*a = in->to_group != 0           ? 0
	     : in->from_id < in->to_user ? in->from_id
	                                 : in->to_user;
	*b = in->to_group != 0           ? in->to_group
	     : in->from_id < in->to_user ? in->to_user
	                                 : in->from_id;
}

/* Both sides of a direct message get it live, the sender's other
 * sessions included. */
void
store_common_rcpt_direct(const struct store_msg *m, struct store_ids *rcpt)
{
	rcpt->ids = xmalloc(2 * sizeof(*rcpt->ids));
	rcpt->ids[0] = m->from_id;
	rcpt->ids[1] = m->to_user;
	rcpt->n = 2;
}

/*
 * As long as a wrong password: no timing tells whether a name exists.
 * The dummy hash is made once per connection, on first use.
 */
int
store_common_login_unknown(char **dummy, const struct store_options *opt,
                           const char *password)
{
	char hash[PWHASH_MAX];

	if (*dummy == NULL) {
		if (pwhash_make(opt, "natter-dummy-password", hash) < 0)
			return -ERR_BAD_CREDENTIALS;
		*dummy = xstrdup(hash);
	}
	(void)pwhash_check(*dummy, password);
	return -ERR_BAD_CREDENTIALS;
}

int
store_common_schema_newer(const struct schema_step *steps, int64_t have,
                          const char *where)
{
	int newest = 0;

	for (; steps->version != 0; steps++)
		newest = steps->version;
	if (have <= newest)
		return 0;
	log_error("%s: the database's schema is version %lld, newer than this "
	          "natterd's %d: run a natterd at least as new as the one that "
	          "migrated it",
	          where, (long long)have, newest);
	return -ERR_INTERNAL;
}
