/* Mosquitto 2.1's delayed basic auth: a CONNECT whose answer is not in the cache returns
 * MOSQ_ERR_AUTH_DELAYED; one of AUTH21_WORKERS threads asks the service; the answer is handed
 * back through a locked list and completed on the broker's thread at the next tick
 * (mosquitto_complete_basic_auth, found with dlsym: one .so for 2.0 and 2.1). So a broker that
 * must ask the service about every login (a cold cache, a reconnect storm) never waits for
 * HTTP on its thread. At most AUTH21_MAX_WAITING logins wait; beyond that a CONNECT gets no
 * CONNACK (MOSQ_ERR_UNKNOWN: the client retries later), as when the service cannot answer. */
#ifndef AUTHD_AUTH21_H
#define AUTHD_AUTH21_H
#include <stdbool.h>
#include <stddef.h>

#define AUTH21_WORKERS 4
#define AUTH21_MAX_WAITING 1024

struct plugin;
struct auth21;

/* NULL with *why empty when the broker has no delayed basic auth (2.0); NULL with *why on
 * failure. `poke(arg)` is called (worker thread) when an answer is ready. Broker thread. */
struct auth21 *auth21_start(const char *url, long timeout_ms, const char *token,
		void (*poke)(void *), void *arg, const char **why);
/* Broker thread, from MOSQ_EVT_BASIC_AUTH with p->key holding the login's cache key: hands the
 * login to a worker and returns MOSQ_ERR_AUTH_DELAYED (or MOSQ_ERR_UNKNOWN when too many wait
 * or memory runs out). */
int auth21_submit(struct auth21 *a, struct plugin *p, const char *username, const char *password,
		const char *clientid);
/* Broker thread, from MOSQ_EVT_TICK: completes every answered login. */
void auth21_complete(struct auth21 *a, struct plugin *p);
/* Any thread: answers not yet completed (the waker resends while it is not 0). */
size_t auth21_waiting(struct auth21 *a);
/* Stops and joins the workers (a check in flight is cut at once); then nothing pokes. */
void auth21_halt(struct auth21 *a);
/* After auth21_halt and after the waker stopped: frees the rest. NULL is fine. */
void auth21_free(struct auth21 *a);

#endif
