/* The plugin's state, owned by the broker's thread (the event thread owns only `events` and
 * talks through `queue`). */
#ifndef AUTHD_PLUGIN_H
#define AUTHD_PLUGIN_H
#include <stdbool.h>
#include <mosquitto.h>
#include <mosquitto_broker.h>
#include "auth21.h"
#include "buf.h"
#include "cache.h"
#include "checks.h"
#include "events.h"
#include "keyhash.h"
#include "options.h"
#include "outage.h"
#include "policy.h"
#include "presence.h"
#include "queue.h"
#include "wake.h"

struct plugin {
	mosquitto_plugin_id_t *id;
	struct options opts;
	struct keyhash keyhash;
	struct cache *cache;
	struct checks *checks;
	struct queue queue;
	bool queue_ready;
	struct events *events;
	struct presence *presence; /* sessions reported to the service; NULL: plugin_opt_presence false */
	struct wake *wake;  /* wakes the broker's thread when the queue has work (2.1) */
	struct auth21 *auth21; /* delayed basic auth (2.1), or NULL */
	bool trusted;     /* hello applied and no down since */
	bool failing;     /* the last check request failed (logged once per outage) */
	struct buf key;   /* the cache key being built (reused) */
	struct buf su_key; /* the superuser key, while `key` holds an ACL key */
	struct outage outage;    /* plugin_opt_stale_grace_ms: no service answers */
	struct policy *policy; /* records and sessions (policy.h) */
	bool offline_registered; /* 2.1's MOSQ_EVT_CLIENT_OFFLINE, when the broker has it */
};

/* decide.c: whether cached answers may be used now (stream up, hello applied, queue empty). */
bool cache_usable(struct plugin *p);
/* decide.c: a cached answer when the cache may be trusted, else the service's. */
enum answer decide(struct plugin *p, enum cache_kind kind, enum answer (*ask)(void *), void *ctx);
/* decide.c: applies queued events (MOSQ_EVT_TICK). */
void apply_events(struct plugin *p);

#endif
