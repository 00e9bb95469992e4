#ifndef NATTER_TUI_ONELINE_H
#define NATTER_TUI_ONELINE_H

#include <stddef.h>

struct json_object;

/*
 * One-line text forms of protocol objects, as the line-mode client prints
 * them (formats in batch.c). Each returns a string the caller frees. Text
 * from the peer never spans lines: control characters are escaped.
 */

/*
 * Copies s escaping C0 controls, DEL and C1 controls: \n \r \t \e, other
 * bytes as \xHH, C1 code points as \u00HH. Everything else, backslash
 * included, is copied as is.
 */
char *oneline_escape(const char *s, size_t len);

/* "<prefix> <conv> <seq> <ts> <from>: <body>" for a msg object. */
char *oneline_msg(const char *prefix, struct json_object *m);
/* "bob(2,online)" for a friend {id,name,online}. */
char *oneline_friend(struct json_object *f);
/* "alice(creator,online)" for a member {name,role,online}. */
char *oneline_member(struct json_object *m);
/* "dev(creator)" for a group {name,role}. */
char *oneline_group(struct json_object *g);
/*
 * An event other than msg: "presence bob online", "friend_added bob",
 * "group_joined dev bob", "group_left dev bob", "error event CODE: MSG";
 * other types print as "<type>".
 */
char *oneline_event(const char *type, struct json_object *ev);
/* "error <cmd> <code>: <message>" for an error reply. */
char *oneline_error(const char *cmd, struct json_object *reply);

#endif
