#ifndef NATTER_DB_STORE_BACKEND_H
#define NATTER_DB_STORE_BACKEND_H

#include "store.h"

/*
 * Internal to db/: what a storage backend provides to store.c, which
 * dispatches store.h calls through it. Each function takes the backend's
 * own connection (void *c, from open) and has the semantics of the store.h
 * function of the same name. A new backend (store-mysql.c) fills one
 * struct store_backend and is added to store.c's table.
 */
struct store_backend {
	const char *prefix; /* URL prefix, e.g. "sqlite:" */
	/*
	 * Optional (NULL: nothing to do). lib_init runs before any DB
	 * thread starts; thread_init and thread_end run on each DB thread
	 * as it starts and exits (mysql_library_init, mysql_thread_end).
	 */
	int (*lib_init)(void);
	void (*thread_init)(void);
	void (*thread_end)(void);
	/* rest is the URL after prefix. */
	int (*open)(const char *rest, const struct store_options *opt,
	            void **out, char **err);
	void (*close)(void *c);
	int (*migrate)(void *c);
	int (*batch_begin)(void *c); /* optional: group commit */
	int (*batch_end)(void *c, bool commit);
	size_t batch_max; /* store_batch_max; 0: as many as offered */
	bool (*batch_cheap)(void *c);    /* optional: NULL, never */
	int (*sends_only)(void *c);      /* optional */
	bool (*checkpoint_due)(void *c); /* optional: both or neither */
	int (*checkpoint)(void *c);
	int (*idle)(void *c);      /* optional */
	bool (*idle_due)(void *c); /* optional: NULL, never */
	int (*user_register)(void *c, const char *name, const char *password,
	                     struct store_user *out);
	int (*user_login)(void *c, const char *name, const char *password,
	                  struct store_user *out);
	int (*user_get)(void *c, int64_t id, struct store_user *out);
	int (*friend_add)(void *c, int64_t uid, const char *name,
	                  struct store_user *out, bool *created);
	int (*friend_remove)(void *c, int64_t uid, int64_t fid);
	int (*friends)(void *c, int64_t uid, struct store_user **out,
	               size_t *n);
	int (*friend_ids)(void *c, int64_t uid, struct store_ids *out);
	int (*group_create)(void *c, int64_t uid, const char *name,
	                    const char *desc, struct store_group *out);
	int (*group_join)(void *c, int64_t uid, int64_t gid, const char *name,
	                  struct store_group *out);
	int (*group_leave)(void *c, int64_t uid, int64_t gid);
	int (*groups)(void *c, int64_t uid, struct store_group **out,
	              size_t *n);
	int (*group_members)(void *c, int64_t uid, int64_t gid,
	                     struct store_member **out, size_t *n);
	int (*group_member_ids)(void *c, int64_t gid, struct store_ids *out);
	int (*msg_append)(void *c, const struct store_send *in,
	                  struct store_msg *out, bool *dup,
	                  struct store_ids *rcpt);
	/* Optional: NULL makes n msg_append calls. */
	int (*msg_append_many)(void *c, const struct store_send *in, size_t n,
	                       struct store_msg *out, bool *dup,
	                       struct store_ids *rcpt, int *res);
	int (*sync)(void *c, int64_t uid, size_t limit, struct store_msg **out,
	            size_t *n, bool *more);
	int (*ack)(void *c, int64_t uid, const char *conv, int64_t seq);
	int (*history)(void *c, int64_t uid, const char *conv, int64_t before,
	               size_t limit, struct store_msg **out, size_t *n);
};

extern const struct store_backend store_sqlite_backend;
extern const struct store_backend store_mysql_backend;

/* Every backend's lib_init: before DB threads start. 0 or an errcode. */
int store_library_init(void);
/* Every backend's thread_init / thread_end, on a DB thread. */
void store_thread_init(void);
void store_thread_end(void);

/* A parsed conversation id. */
struct store_conv {
	char kind; /* 'd' or 'g' */
	int64_t a; /* low user id, or the group id */
	int64_t b; /* high user id; 0 for a group */
};

/*
 * Parses a conversation id strictly: "d:<low>:<high>" with low < high, or
 * "g:<id>", ids in canonical decimal (no sign, no leading zero) and valid
 * (validate_id). -ERR_BAD_REQUEST otherwise.
 */
int store_conv_parse(const char *conv, struct store_conv *out);
/* Milliseconds since the epoch, for created/joined columns. */
int64_t store_now_ms(void);
/* Milliseconds of CLOCK_MONOTONIC, for intervals. */
int64_t store_mono_ms(void);

#endif
