#ifndef NATTER_SERVER_ACCOUNT_H
#define NATTER_SERVER_ACCOUNT_H

#include "store.h"

struct hjob;

/* Handlers of hello, ping, register, login and logout (handler.h). */
int account_hello_parse(struct hjob *j);
int account_ping_parse(struct hjob *j);
int account_register_parse(struct hjob *j);
int account_register_run(struct store *st, struct hjob *j);
int account_login_parse(struct hjob *j);
int account_login_run(struct store *st, struct hjob *j);
void account_login_done(struct hjob *j);
int account_logout_parse(struct hjob *j);

#endif
