#ifndef NATTER_DB_STORE_MYSQL_BULK_H
#define NATTER_DB_STORE_MYSQL_BULK_H

#include <stdbool.h>
#include <stddef.h>

#include "store.h"

/*
 * Internal to db/: store_msg_append_many for the MariaDB backend (c is a
 * struct store_mysql). Inside a batch, n sends cost a constant number of
 * round trips; the results are those of n store_msg_append calls in a
 * row. Returns 0, or -ERR_UNAVAILABLE when the batch is lost (then every
 * res[i] is -ERR_UNAVAILABLE and the outputs are empty).
 */
int store_mysql_bulk_msg_append_many(void *c, const struct store_send *in,
                                     size_t n, struct store_msg *out, bool *dup,
                                     struct store_ids *rcpt, int *res);

#endif
