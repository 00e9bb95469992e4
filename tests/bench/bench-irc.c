/* The IRC side of the load generator. */
#include <event2/buffer.h>
#include <stdio.h>
#include <string.h>

#include "bench-irc.h"

static const char *bench_irc_oper_name, *bench_irc_oper_password;

/* Set before any connection is opened; read-only afterwards. */
void
bench_irc_set_oper(const char *name, const char *password)
{
	bench_irc_oper_name = name;
	bench_irc_oper_password = password;
}

/* Writes one formatted line (the caller includes "\r\n"). */
static void
bench_irc_line(struct bench_conn *c, const char *s)
{
	bench_conn_write(c, s, strlen(s));
}

/* No per-connection state. */
static void *
bench_irc_state_new(void)
{
	return NULL;
}

/* Nothing to free. */
static void
bench_irc_state_free(void *ps)
{
	(void)ps;
}

/* Registration: NICK and USER; 001 means we are in. */
static void
bench_irc_login(struct bench_conn *c)
{
	char buf[128];

	snprintf(buf, sizeof buf, "NICK %s\r\nUSER %s 0 * :bench\r\n", c->name,
	         c->name);
	bench_irc_line(c, buf);
}

/* PRIVMSG goes straight to a nick: nothing to set up. */
static struct bench_conn *
bench_irc_pair(struct bench_conn *sender, struct bench_conn *receiver)
{
	snprintf(sender->target, sizeof sender->target, "%s", receiver->name);
	sender->cb(sender, BENCH_EV_DONE, NULL, 0);
	return sender;
}

/* A group is a channel. */
static void
bench_irc_join(struct bench_conn *c, const char *group, bool create)
{
	char buf[96];

	(void)create;
	snprintf(c->target, sizeof c->target, "#%s", group);
	snprintf(buf, sizeof buf, "JOIN %s\r\n", c->target);
	bench_irc_line(c, buf);
}

/* PRIVMSG target :body */
static void
bench_irc_send(struct bench_conn *c, const char *body, size_t len)
{
	bench_conn_write(c, "PRIVMSG ", 8);
	bench_irc_line(c, c->target);
	bench_conn_write(c, " :", 2);
	bench_conn_write(c, body, len);
	bench_conn_write(c, "\r\n", 2);
}

/* Registered: ready now, or once the flood protection is relaxed. */
static void
bench_irc_welcome(struct bench_conn *c)
{
	char buf[192];

	if (bench_irc_oper_name == NULL) {
		c->ready = true;
		c->cb(c, BENCH_EV_READY, NULL, 0);
		return;
	}
	snprintf(buf, sizeof buf, "OPER %s %s\r\nMODE %s +F\r\n",
	         bench_irc_oper_name, bench_irc_oper_password, c->name);
	bench_irc_line(c, buf);
}

/* One line (no CRLF, len bytes): the command after an optional prefix. */
static void
bench_irc_message(struct bench_conn *c, char *l, size_t len)
{
	char *cmd = l, *end = l + len, *p, buf[160];

	if (*cmd == ':' && (cmd = memchr(l, ' ', len)) != NULL)
		cmd++;
	if (cmd == NULL)
		return;
	if (strncmp(cmd, "PRIVMSG ", 8) == 0) {
		if ((p = strstr(cmd, " :")) != NULL)
			c->cb(c, BENCH_EV_MSG, p + 2, (size_t)(end - p - 2));
	} else if (strncmp(cmd, "001 ", 4) == 0) {
		bench_irc_welcome(c);
	} else if (strncmp(cmd, "MODE ", 5) == 0 && strstr(cmd, "+F") &&
	           !c->ready) {
		c->ready = true;
		c->cb(c, BENCH_EV_READY, NULL, 0);
	} else if (strncmp(cmd, "366 ", 4) == 0) {
		c->cb(c, BENCH_EV_DONE, NULL, 0);
	} else if (strncmp(cmd, "PING ", 5) == 0) {
		snprintf(buf, sizeof buf, "PONG %.140s\r\n", cmd + 5);
		bench_irc_line(c, buf);
	} else if (strncmp(cmd, "433 ", 4) == 0 ||
	           strncmp(cmd, "ERROR", 5) == 0) {
		c->cb(c, BENCH_EV_FAIL, cmd, (size_t)(end - cmd));
	}
}

/* Every complete line in the input. */
static void
bench_irc_read(struct bench_conn *c, struct evbuffer *in)
{
	struct evbuffer_ptr eol;
	size_t eol_len;
	char *l;
	size_t n;

	while (c->open) {
		eol =
		    evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_CRLF);
		if (eol.pos < 0)
			return;
		n = (size_t)eol.pos;
		l = (char *)evbuffer_pullup(in, (ssize_t)(n + eol_len));
		l[n] = '\0';
		bench_irc_message(c, l, n);
		evbuffer_drain(in, n + eol_len);
	}
}

const struct bench_proto bench_irc_proto = {
    .name = "irc",
    .state_new = bench_irc_state_new,
    .state_free = bench_irc_state_free,
    .login = bench_irc_login,
    .pair = bench_irc_pair,
    .join = bench_irc_join,
    .send = bench_irc_send,
    .read = bench_irc_read,
};
