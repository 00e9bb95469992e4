#include <limits.h>
#include <string.h>

#include "errcode.h"

/*
 * The wire slugs of PROTOCOL.md "Error codes", in enum order, with a default
 * sentence for each that a client can show as is.
 */
static const struct errcode_entry {
	const char *slug;
	const char *message;
} errcode_table[ERR__COUNT] = {
    [ERR_OK] = {"ok", "Success"},
    [ERR_BAD_REQUEST] = {"bad_request", "Malformed or invalid request"},
    [ERR_UNKNOWN_TYPE] = {"unknown_type", "Unknown request type"},
    [ERR_FRAME_TOO_LARGE] = {"frame_too_large", "Frame too large"},
    [ERR_NOT_AUTHENTICATED] = {"not_authenticated", "Log in first"},
    [ERR_BAD_CREDENTIALS] = {"bad_credentials", "Wrong name or password"},
    [ERR_NAME_TAKEN] = {"name_taken", "That name is already taken"},
    [ERR_INVALID_NAME] = {"invalid_name",
                          "Names are 1 to 32 characters, without spaces or "
                          "control characters"},
    [ERR_INVALID_PASSWORD] = {"invalid_password",
                              "Passwords are 8 to 128 bytes long"},
    [ERR_NOT_FOUND] = {"not_found", "No such user, group or conversation"},
    [ERR_NOT_FRIENDS] = {"not_friends", "You are not friends with that user"},
    [ERR_NOT_MEMBER] = {"not_member", "You are not a member of that group"},
    [ERR_ALREADY_MEMBER] = {"already_member",
                            "You are already a member of that group"},
    [ERR_BODY_TOO_LONG] = {"body_too_long", "Message too long"},
    [ERR_RATE_LIMITED] = {"rate_limited",
                          "Too many requests, slow down and retry later"},
    [ERR_UNAVAILABLE] = {"unavailable",
                         "Service temporarily unavailable, retry later"},
    [ERR_INTERNAL] = {"internal", "Internal server error"},
};

/* Maps code (or -code) to its table entry; out-of-range gives "internal". */
static const struct errcode_entry *
errcode_entry(int code)
{
	if (code < 0 && code != INT_MIN)
		code = -code;
	if (code < 0 || code >= ERR__COUNT)
		code = ERR_INTERNAL;
	return &errcode_table[code];
}

/* The wire slug of code, e.g. "not_found". */
const char *
errcode_slug(int code)
{
	return errcode_entry(code)->slug;
}

/* The default human sentence for code. */
const char *
errcode_message(int code)
{
	return errcode_entry(code)->message;
}

/* The code whose slug is slug, or -1; "ok" is not a wire error. */
int
errcode_from_slug(const char *slug)
{
	if (slug == NULL)
		return -1;
	for (int i = 1; i < ERR__COUNT; i++) {
		if (strcmp(errcode_table[i].slug, slug) == 0)
			return i;
	}
	return -1;
}
