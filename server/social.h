#ifndef NATTER_SERVER_SOCIAL_H
#define NATTER_SERVER_SOCIAL_H

#include "store.h"

struct hjob;

/* Handlers of the friend_* and group_* requests (handler.h). */
int social_name_parse(struct hjob *j);
int social_user_parse(struct hjob *j);
int social_group_parse(struct hjob *j);
int social_none_parse(struct hjob *j);
int social_friend_add_run(struct store *st, struct hjob *j);
int social_friend_remove_run(struct store *st, struct hjob *j);
int social_friends_run(struct store *st, struct hjob *j);
int social_group_create_parse(struct hjob *j);
int social_group_create_run(struct store *st, struct hjob *j);
int social_group_join_parse(struct hjob *j);
int social_group_join_run(struct store *st, struct hjob *j);
int social_group_leave_run(struct store *st, struct hjob *j);
int social_groups_run(struct store *st, struct hjob *j);
int social_group_members_run(struct store *st, struct hjob *j);

#endif
