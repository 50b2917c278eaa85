/* Revalidation (docs/broker-protocol.md: `hello resumed:false`, `reset`, a lost event): refetch
 * what the broker relies on for every connected user and disconnect the sessions revoked
 * meanwhile. The broker's policy (policy_sync.c, sessions.c) defines these; without it the
 * weak defaults in revalidate_default.c track the connected user names and disconnect those
 * whose records are unknown, disabled or damaged. Broker thread only. */
#ifndef AUTHD_REVALIDATE_H
#define AUTHD_REVALIDATE_H

struct plugin;

void policy_revalidate_all(struct plugin *p);
/* Basic auth admitted a client / MOSQ_EVT_DISCONNECT: who revalidation walks. */
void policy_admitted(struct plugin *p, const void *client, const char *username,
		const char *clientid);
void policy_disconnect(struct plugin *p, const void *client);

#endif
