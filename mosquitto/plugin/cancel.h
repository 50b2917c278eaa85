/* Ending a libcurl transfer at once from another thread: the handle's sockets are opened and
 * closed through these callbacks, which remember them; cancel_now() shuts them down, so a
 * transfer waiting in poll() (a silent stream, a hung service) returns now instead of at its
 * next progress callback (about a second later). */
#ifndef AUTHD_CANCEL_H
#define AUTHD_CANCEL_H
#include <pthread.h>
#include <stdbool.h>
#include <curl/curl.h>

#define CANCEL_MAX_FDS 8 /* a handle has one or two sockets (happy eyeballs); beyond: untracked */

struct cancel {
	pthread_mutex_t lock;
	int fds[CANCEL_MAX_FDS];
	bool cancelled;
};

int cancel_init(struct cancel *c);
void cancel_destroy(struct cancel *c);
/* The handle's sockets go through `c` (which must outlive the handle's connections). */
void cancel_attach(struct cancel *c, CURL *curl);
/* Any thread: shuts the sockets down; no new socket is opened through `c` from then on. */
void cancel_now(struct cancel *c);

#endif
