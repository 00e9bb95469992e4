#ifndef NATTER_SHARED_THREAD_H
#define NATTER_SHARED_THREAD_H

#include <pthread.h>

/*
 * pthread_create, with every signal blocked in the new thread (it
 * inherits the mask set around the call; the caller's own is restored).
 * natterd handles SIGTERM and SIGINT on its main loop: with them blocked
 * everywhere else, the kernel gives them to the main thread, instead of
 * interrupting a worker, relay or DB thread mid-call (the dbpool did this
 * alone before). Returns pthread_create's error, 0 on success.
 */
int thread_start(pthread_t *t, void *(*fn)(void *), void *arg);

#endif
