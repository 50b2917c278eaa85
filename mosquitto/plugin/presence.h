/* Presence (issue 27; docs/presence.md): the broker's thread records who connected (basic-auth
 * success) and who left (MOSQ_EVT_DISCONNECT) in a table and a bounded queue of changes, under
 * one mutex, and does nothing else; a thread of its own (presence_send.c) sends the changes to
 * POST /mqtt/sessions in batches, beats a heartbeat with the decision counters, and sends the
 * whole table (`full`) after a start, when the queue dropped changes, and when the service
 * asks for it. */
#ifndef AUTHD_PRESENCE_H
#define AUTHD_PRESENCE_H
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Changes queued past this are dropped (and counted): the next batch is the whole table. */
#define PRESENCE_QUEUE_MAX 100000

enum presence_kind { PK_USER, PK_SUPERUSER, PK_ACL, PK_KINDS };
enum presence_decision { PD_ALLOW, PD_DENY, PD_ASKED, PD_DECISIONS };

/* One session or one change: strings owned (freed with the record). */
struct presence_rec {
	struct presence_rec *next;
	const void *client;      /* struct mosquitto * (table entries only) */
	bool connected;          /* change: connect (true) or disconnect */
	int protocol;            /* 3, 4, 5 */
	int reason;              /* disconnect */
	int64_t at;              /* ms since the epoch */
	char *username, *clientid, *address;
};

struct presence_send;

struct presence {
	pthread_mutex_t lock;
	pthread_cond_t wake;          /* a change was queued, or stop */
	/* under lock */
	struct presence_rec **table;  /* by client id: one session per client id on a broker */
	size_t buckets, count;
	struct presence_rec *head, *tail;
	size_t queued, queue_max;     /* queue_max: PRESENCE_QUEUE_MAX (smaller in unit checks) */
	bool need_full;
	bool stop;
	/* counters, written by the broker's thread, read by the sender */
	atomic_ulong decisions[PD_DECISIONS][PK_KINDS];
	atomic_ulong dropped;         /* changes dropped (queue full or out of memory) */
	atomic_ulong sent, failed;    /* batches answered 200 / not */
	struct presence_send *sender;
};

/* Starts the sender thread. broker_id NULL: "<host name>:<lowest TCP port this process
 * listens on>" (found at the first report; listeners open after plugins load). NULL when
 * memory or threads run out. */
struct presence *presence_start(const char *urls, const char *token, const char *broker_id,
		long heartbeat_ms, long timeout_ms);
void presence_stop(struct presence *pr);

/* Broker thread. */
void presence_connected(struct presence *pr, const void *client, const char *username,
		const char *clientid, const char *address, int protocol);
void presence_disconnected(struct presence *pr, const void *client, const char *clientid,
		int reason);
static inline void presence_count(struct presence *pr, enum presence_decision d,
		enum presence_kind k)
{
	if(pr) atomic_fetch_add_explicit(&pr->decisions[d][k], 1, memory_order_relaxed);
}

/* Sender thread (presence_send.c), under pr->lock: takes the queued changes (oldest first),
 * or, when a full report is due, copies the table and clears need_full (*full set). */
struct presence_rec *presence_take(struct presence *pr, bool *full);
void presence_rec_free(struct presence_rec *r);
void presence_list_free(struct presence_rec *r);
int64_t presence_now_ms(void);

/* presence_send.c */
struct presence_send *presence_send_start(struct presence *pr, const char *urls,
		const char *token, const char *broker_id, long heartbeat_ms, long timeout_ms);
void presence_send_stop(struct presence_send *s);

#endif
