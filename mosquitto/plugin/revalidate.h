/* Revalidation (docs/broker-protocol.md: `hello resumed:false`, `reset`, a lost event): drop
 * every record, refetch those of the connected users and disconnect the sessions the new
 * records no longer admit (unknown, disabled, damaged, another cred). Defined in
 * policy_sync.c; broker thread only. */
#ifndef AUTHD_REVALIDATE_H
#define AUTHD_REVALIDATE_H

struct plugin;

void policy_revalidate_all(struct plugin *p);

#endif
