#ifndef NATTER_SHARED_ERRCODE_H
#define NATTER_SHARED_ERRCODE_H

/*
 * The protocol's error codes (PROTOCOL.md "Error codes"). Functions across
 * natter return 0 or the negative of one of these, e.g. -ERR_NOT_FOUND.
 */
enum errcode {
	ERR_OK = 0,
	ERR_BAD_REQUEST,
	ERR_UNKNOWN_TYPE,
	ERR_FRAME_TOO_LARGE,
	ERR_NOT_AUTHENTICATED,
	ERR_BAD_CREDENTIALS,
	ERR_NAME_TAKEN,
	ERR_INVALID_NAME,
	ERR_INVALID_PASSWORD,
	ERR_NOT_FOUND,
	ERR_NOT_FRIENDS,
	ERR_NOT_MEMBER,
	ERR_ALREADY_MEMBER,
	ERR_BODY_TOO_LONG,
	ERR_RATE_LIMITED,
	ERR_UNAVAILABLE,
	ERR_INTERNAL,
	ERR__COUNT
};

/* The wire slug ("not_found"); "internal" for out-of-range values. Static. */
const char *errcode_slug(int code);
/* A default sentence for humans. Static. */
const char *errcode_message(int code);
/* Slug back to code; -1 if unknown. Negative input is accepted (abs). */
int errcode_from_slug(const char *slug);

#endif
