/* The resumable stream (docs/broker-protocol.md, stream v2), the event thread's side: what a
 * hello says, the id of the last event queued, and the Last-Event-ID header sent with it on the
 * next connection, so that any service process replays what was missed (`hello resumed:true`)
 * or says it cannot (`resumed:false`: the broker's thread revalidates). */
#ifndef AUTHD_RESUME_H
#define AUTHD_RESUME_H
#include <stdbool.h>
#include <stddef.h>
#include <curl/curl.h>
#include "buf.h"

#define RESUME_MAX_ID 4096

struct hello {
	bool v2;           /* `"v":2`: events carry ids */
	bool resumed;      /* `"resumed":true`: the missed events follow, what is held stays valid */
	long heartbeat_ms; /* `heartbeatMs` (50..600000), else the default given */
};

struct hello resume_hello(const char *data, size_t n, long default_heartbeat_ms);
/* After an event was queued: keeps its id when the stream is v2 and the id is well-formed
 * (1..RESUME_MAX_ID printable ASCII, no blank); otherwise forgets (no resume next time). */
void resume_remember(struct buf *last, bool v2, const char *id);
/* Appends `Last-Event-ID: <last>` to h when there is an id; returns that node (NULL: none or
 * out of memory, the stream then starts afresh). */
struct curl_slist *resume_header(struct curl_slist *h, const struct buf *last);
/* Unlinks and frees the node resume_header appended (NULL: nothing). */
void resume_header_drop(struct curl_slist *h, struct curl_slist *node);

#endif
