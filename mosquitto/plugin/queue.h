/* Events handed from the stream thread to the broker's thread, under a mutex. Bounded: past
 * QUEUE_MAX (or when memory runs out) further events are dropped and the taker is told to
 * empty the whole cache and revalidate the connected users instead, which covers them. */
#ifndef AUTHD_QUEUE_H
#define AUTHD_QUEUE_H
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#define QUEUE_MAX 100000

enum event_type {
	EV_HELLO,  /* the stream is up: empty the cache, trust it from now on; `revoke` here means
	            * resumed (the missed events follow), else revalidate (revalidate.h) */
	EV_USER,   /* drop one user's answers; `revoke`: also disconnect its clients */
	EV_COMMON, /* drop every ACL answer */
	EV_RESET,  /* drop every answer */
	EV_DOWN,   /* the stream is gone: stop trusting the cache (`text` says why) */
	EV_DISCONNECT, /* end the sessions of user `text` without revoking it (issue 27) */
	EV_LOCK,   /* a lockout: text "u<ms>:<username>" or "c<ms>:<clientid>" (ms 0: cleared) */
};

struct event {
	struct event *next;
	enum event_type type;
	bool revoke;
	char text[]; /* username (EV_USER) or reason (EV_DOWN), NUL-terminated */
};

struct queue {
	pthread_mutex_t lock;
	struct event *head, *tail;
	size_t count;
	size_t max;             /* QUEUE_MAX unless plugin_opt_queue_max says less */
	bool overflowed;
	atomic_size_t pending;  /* count, readable without the lock */
	atomic_ulong pushed;    /* every push ever (dropped ones too): a change counter */
	void (*notify)(void *); /* called after each push, outside the lock (wake.c), or NULL */
	void *notify_arg;
};

int queue_init(struct queue *q);
void queue_destroy(struct queue *q);
/* Stream thread. `text` may be NULL. */
void queue_push(struct queue *q, enum event_type type, bool revoke, const char *text,
		size_t textlen);
/* Broker thread: takes every queued event (oldest first; free each with free()); *overflowed
 * says some were dropped. */
struct event *queue_take(struct queue *q, bool *overflowed);

#endif
