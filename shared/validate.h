#ifndef NATTER_SHARED_VALIDATE_H
#define NATTER_SHARED_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

/*
 * The protocol's content rules (PROTOCOL.md "Limits and validation").
 * Each returns 0 or a negative errcode.
 */

#define VALIDATE_NAME_MAX_CP 32
#define VALIDATE_PASSWORD_MIN 8
#define VALIDATE_PASSWORD_MAX 128
#define VALIDATE_BODY_MAX 4096
#define VALIDATE_ID_MAX ((int64_t)1 << 53) /* ids are below 2^53 */

/*
 * User or group name: 1..32 code points of valid UTF-8, no whitespace
 * (ASCII or Unicode: U+0085, U+00A0, U+1680, U+2000..U+200A, U+2028,
 * U+2029, U+202F, U+205F, U+3000, U+FEFF) and no control characters
 * (C0, DEL, C1). -ERR_INVALID_NAME otherwise.
 */
int validate_name(const char *s, size_t len);

/* 8..128 bytes (any bytes but NUL). -ERR_INVALID_PASSWORD otherwise. */
int validate_password(const char *s, size_t len);

/*
 * Message body: 1..max bytes of valid UTF-8 without NUL. Too long gives
 * -ERR_BODY_TOO_LONG, empty, NUL or bad UTF-8 gives -ERR_BAD_REQUEST.
 */
int validate_body(const char *s, size_t len, size_t max);

/* An id: 1 <= id < 2^53. */
int validate_id(int64_t id);

#endif
