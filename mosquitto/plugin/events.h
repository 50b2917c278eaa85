/* The background thread holding GET <url>/mqtt/events (docs: events-protocol, v1). It never
 * calls a broker function: it only pushes events onto the queue, and says through an atomic
 * flag whether the stream is up (hello seen, bytes arriving within the stream timeout). */
#ifndef AUTHD_EVENTS_H
#define AUTHD_EVENTS_H
#include <stdbool.h>
#include <stdint.h>
#include "queue.h"

struct events;

/* token: the broker credential (`Authorization: Bearer`), or NULL; copied into the headers. */
struct events *events_start(const char *url, long stream_timeout_ms, const char *token,
		struct queue *q);
/* Stops and joins the thread (within about a second), frees everything. */
void events_stop(struct events *ev);
bool events_up(struct events *ev);
/* Up, and a byte came within 1.5 heartbeats (the service's beat, `?hb=` asked: 500 ms): a
 * stream gone quiet stops the cache within 750 ms, long before stream_timeout_ms ends it. */
bool events_fresh(struct events *ev);
/* Which entry of plugin_opt_url's list holds the stream while it is up (0-based), else -1:
 * the checks follow it (failover.c), so that answers and events come from one process. */
long events_at(struct events *ev);

int64_t mono_ms(void);

#endif
