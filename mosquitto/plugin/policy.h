/* The broker holds the policy (issue 25): CONNECT, superuser and ACL decisions from the
 * device's record (records.h) and the common rules, with no request on the broker's thread
 * for a known device. What it cannot decide (unknown names, wrong passwords, `service`
 * verifiers, a records endpoint that answers 403 because the service has no
 * BROKER_TOKEN_SHA256, a stream that is not up) passes to today's per-check path
 * (POLICY_PASS). policy.c decides; policy_sync.c fetches and follows the event stream. */
#ifndef AUTHD_POLICY_H
#define AUTHD_POLICY_H
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include "buf.h"
#include "cache.h"
#include "recfetch.h"
#include "records.h"
#include "revalidate.h"
#include "rules.h"
#include "preload.h"
#include "sessions.h"

#define POLICY_PASS (-1000) /* not decided here: ask the service as before */

struct plugin;

struct policy {
	struct rule_table rules;
	struct records *records;
	struct sessions *sessions;
	struct recfetch *fetch;
	struct ruleset *common;   /* NULL until fetched (GET /mqtt/common) */
	int64_t off_until;        /* records refused (403/401): per-check asking until then */
	bool said_off, said_failing;
	bool preload, preloaded;
	size_t doomed;            /* sessions to disconnect on the next tick */
	struct buf body, scratch;
	struct cache *locks;      /* lock events: key "u<name>" or "c<id>", stored_ms = until */
	struct preload *walking;  /* a preload under way */
	struct cache *touched;    /* names of `user` events applied since it began */
	int64_t walk_t0;
	size_t walk_n;
	atomic_size_t pages_waiting; /* handed over by the preload thread, not taken yet */
};

struct policy *policy_new(struct plugin *p);
void policy_free(struct policy *pol);

/* MOSQ_ERR_SUCCESS / MOSQ_ERR_AUTH / MOSQ_ERR_UNKNOWN, or POLICY_PASS. */
int policy_basic_auth(struct plugin *p, const void *client, const char *username,
		const char *password, const char *clientid);
/* Today's path admitted a client (no record cred known). */
void policy_admitted(struct plugin *p, const void *client, const char *username,
		const char *clientid);
/* MOSQ_ERR_SUCCESS / MOSQ_ERR_ACL_DENIED, or POLICY_PASS. */
int policy_acl(struct plugin *p, const void *client, const char *username,
		const char *clientid, const char *topic, int access);
void policy_disconnect(struct plugin *p, const void *client);

/* policy_sync.c: the event stream's `user` (revoke or not), `common`; the tick. */
void policy_user_event(struct plugin *p, const char *username, bool revoke);
void policy_common_event(struct plugin *p);
/* An EV_LOCK text (queue.h): a user name or a client id locked out, or cleared. */
void policy_lock_event(struct plugin *p, const char *text);
/* Whether a user name (kind 'u') or client id ('c') is locked out now, by a lock event. */
bool policy_locked(struct plugin *p, char kind, const char *name);
void policy_tick(struct plugin *p);
/* Any thread: preload pages waiting for the tick (the waker keeps waking while > 0). */
size_t policy_waiting(struct policy *pol);
/* Stops a preload under way (before the waker it pokes is stopped). NULL is fine. */
void policy_stop_preload(struct policy *pol);
/* On the tick: takes the preload's pages into the store. */
void policy_preload_apply(struct plugin *p);
/* Whether records may be used now (stream trusted, nothing queued, endpoint not refused). */
bool policy_usable(struct plugin *p);
/* The record of username: held, or fetched now (NULL: not available; ask the service). */
struct record *policy_record(struct plugin *p, const char *username);
/* The common rules: held, or fetched now (NULL: not available). */
struct ruleset *policy_common(struct plugin *p);

#endif
