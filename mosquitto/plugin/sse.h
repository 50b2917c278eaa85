/* Server-sent events (the subset /mqtt/events speaks: `event:`, `data:` and `id:` lines, `:`
 * comments, a blank line ends an event). Lines are bounded by SSE_MAX_LINE. */
#ifndef AUTHD_SSE_H
#define AUTHD_SSE_H
#include <stdbool.h>
#include <stddef.h>
#include "buf.h"

#define SSE_MAX_LINE 65536

typedef void (*sse_event_fn)(void *user, const char *event, const char *data, size_t datalen);

struct sse {
	struct buf line, event, data;
	struct buf id; /* the last event ID buffer (SSE: kept from event to event until an id: line) */
	sse_event_fn on_event;
	void *user;
};

void sse_init(struct sse *s, sse_event_fn on_event, void *user);
/* Forgets a partial event (a new connection). */
void sse_reset(struct sse *s);
/* False on a line past SSE_MAX_LINE or when memory runs out: drop the connection. */
bool sse_feed(struct sse *s, const char *bytes, size_t n);
void sse_free(struct sse *s);
/* The last event ID (NUL-terminated, "" when none was sent): valid inside on_event, where it
 * is the id of the event being dispatched. An id: value holding a NUL is ignored (SSE). */
const char *sse_last_id(const struct sse *s);

#endif
