/* Which service process a check asks first, for plugin_opt_url's list (preferred first): the
 * one holding the event stream while it is up (answers and events from one process: the
 * process drops its own cache entry before it sends the event, so an answer asked after the
 * event is fresh); otherwise the one that answered last, with the preferred one probed again
 * after 1 s, then 2, 4 … 30 s while it stays down (one probe per period: no flapping).
 * Pure bookkeeping, no I/O: checks.c asks it, the unit checks drive it with a fake clock. */
#ifndef AUTHD_FAILOVER_H
#define AUTHD_FAILOVER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FAILOVER_RETRY_MIN_MS 1000
#define FAILOVER_RETRY_MAX_MS 30000

struct failover {
	size_t n;          /* entries in the list */
	size_t cur;        /* the one that answered last */
	int64_t retry_at;  /* when cur != 0: when to try entry 0 first again */
	long retry_ms;
	long follow;       /* the stream's entry, or -1 (stream down) */
};

void failover_init(struct failover *f, size_t n);
/* The stream's entry (events_at), or -1. */
void failover_follow(struct failover *f, long at);
/* Starts one check at `now`: the entry to try first; *probing when it is a probe of entry 0. */
size_t failover_first(const struct failover *f, int64_t now, bool *probing);
/* The entry of attempt k (0 = first) when `first` was tried first: then the others in order. */
size_t failover_nth(size_t first, size_t k);
/* Entry i answered (2xx or 4xx) at attempt k. */
void failover_answered(struct failover *f, size_t i, size_t k, bool probing, int64_t now);

#endif
