/* The clients this broker admitted (basic-auth success) until MOSQ_EVT_DISCONNECT, each with
 * the record `cred` it was admitted under (docs/broker-protocol.md: a session admitted under
 * one cred is not valid under another). Keyed by the broker's client pointer. Broker thread
 * only. */
#ifndef AUTHD_SESSIONS_H
#define AUTHD_SESSIONS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct session {
	struct session *chain;
	const void *client;   /* struct mosquitto * */
	char *username, *clientid;
	uint8_t cred[8];
	bool has_cred;        /* admitted from a record (else by the service alone) */
	bool doomed;          /* to be disconnected on the next tick */
	bool kicked;          /* asked to go; waiting for its DISCONNECT */
};

struct sessions;

struct sessions *sessions_new(uint64_t seed);
void sessions_free(struct sessions *s);
/* Records a client's admission, replacing what was held for that client pointer (a missed
 * DISCONNECT cannot leave a stale session behind a reused pointer). cred NULL: none. NULL when
 * memory runs out. */
struct session *sessions_add(struct sessions *s, const void *client, const char *username,
		const char *clientid, const uint8_t *cred);
struct session *sessions_find(struct sessions *s, const void *client);
/* Removes it; fn (may be NULL) is told of the session first. */
bool sessions_remove(struct sessions *s, const void *client,
		void (*fn)(void *, const struct session *), void *ctx);
/* Calls fn for every session (fn may change the session, not the set). */
void sessions_each(struct sessions *s, void (*fn)(void *, struct session *), void *ctx);
size_t sessions_count(const struct sessions *s);

#endif
