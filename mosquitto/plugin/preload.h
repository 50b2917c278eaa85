/* plugin_opt_preload's pages fetched off the broker's thread: a thread walks
 * POST /mqtt/records/page (1 000 a page) with its own connection (finding `next` with json.c's
 * allocation-free scan) and hands each answer's text over through a locked list, which the tick
 * takes (the thread pokes the broker awake: wake.h); the broker's thread decodes the records
 * into the store (about 3 µs each; decoded there, the trees come from its own malloc arena, which
 * malloc_trim gives back whole). Not through the event queue: a waiting page must not make the
 * records untrusted as a waiting event does. A page read before a change whose event was applied first must not overwrite the
 * change: the taker skips the names its `user` events touched since the walk began
 * (policy_sync.c). */
#ifndef AUTHD_PRELOAD_H
#define AUTHD_PRELOAD_H
#include <stdatomic.h>
#include <stdbool.h>
#include "buf.h"

struct page {
	struct page *next;
	long status;     /* HTTP status, -1: no answer (the walk ends after a page that is not 200) */
	struct buf body; /* the answer's text */
	char error[160]; /* why, when not answered */
};

struct preload;

/* Starts a walk; each page handed over adds one to *waiting, then pokes. NULL when memory or
 * threads run out. */
struct preload *preload_start(const char *urls, long timeout_ms, const char *token,
		void (*poke)(void *), void *poke_arg, atomic_size_t *waiting);
/* Broker thread: the pages fetched so far, oldest first (free each with page_free). */
struct page *preload_take(struct preload *pr);
/* True once the walk ended (every page handed over: take again once more). */
bool preload_finished(struct preload *pr);
/* Ends the walk (within one request), joins, frees what was not taken. NULL is fine. */
void preload_stop(struct preload *pr);
void page_free(struct page *pg);

#endif
