/* Unit checks of presence.c, the broker-thread side (no network: the sender is stubbed): one
 * session per client id, a takeover's old DISCONNECT ignored, the queue's bound (drop, count,
 * next report in full), and the full report being the table. */
#include "presence.h"
#include "units_policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;
#define CHECK(cond) do{ if(!(cond)){ fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond); failures++; } }while(0)

/* The sender thread is not started here. */
static int sender;
struct presence_send *presence_send_start(struct presence *pr, const char *urls,
		const char *token, const char *broker_id, long heartbeat_ms, long timeout_ms)
{
	(void)pr; (void)urls; (void)token; (void)broker_id; (void)heartbeat_ms; (void)timeout_ms;
	return (struct presence_send *)&sender;
}
void presence_send_stop(struct presence_send *s)
{
	(void)s;
}

static size_t length(const struct presence_rec *r)
{
	size_t n = 0;
	for(; r; r = r->next) n++;
	return n;
}

int units_presence(void)
{
	struct presence *pr = presence_start("http://x", NULL, "b", 1000, 1000);
	CHECK(pr != NULL);
	if(!pr) return failures;
	int a, b;
	bool full;
	/* a start reports in full: the (empty) table */
	struct presence_rec *got = presence_take(pr, &full);
	CHECK(full && got == NULL && !pr->need_full);

	presence_connected(pr, &a, "u", "c1", "127.0.0.1", 5);
	presence_connected(pr, &b, "u", "c1", "127.0.0.1", 4); /* takeover of c1 */
	presence_disconnected(pr, &a, "c1", 0);                /* the old one leaves: ignored */
	CHECK(pr->count == 1);
	got = presence_take(pr, &full);
	CHECK(!full && length(got) == 2 && got->connected && got->next->protocol == 4);
	presence_list_free(got);
	presence_disconnected(pr, &b, "c1", 7);
	got = presence_take(pr, &full);
	CHECK(!full && length(got) == 1 && !got->connected && got->reason == 7
			&& strcmp(got->username, "u") == 0 && strcmp(got->clientid, "c1") == 0);
	presence_list_free(got);
	CHECK(pr->count == 0);

	/* past the bound: dropped, counted, and the next report is the whole table */
	enum { MAX = 1000 };
	pr->queue_max = MAX;
	static int clients[MAX + 2];
	char id[32];
	for(int i = 0; i < MAX + 2; i++){
		snprintf(id, sizeof id, "k%d", i);
		presence_connected(pr, &clients[i], "v", id, "", 5);
	}
	CHECK(atomic_load(&pr->dropped) == 2 && pr->need_full && pr->count == MAX + 2);
	got = presence_take(pr, &full);
	CHECK(full && length(got) == MAX + 2 && pr->queued == 0 && !pr->need_full);
	presence_list_free(got);
	presence_count(pr, PD_ALLOW, PK_ACL);
	CHECK(atomic_load(&pr->decisions[PD_ALLOW][PK_ACL]) == 1);
	presence_stop(pr);
	fprintf(stderr, "presence: %d failures\n", failures);
	return failures;
}
