/* Presence, the broker-thread side: a table of sessions by client id and a bounded queue of
 * changes, both under pr->lock, so the broker's thread never waits on the network. */
#include "presence.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FIRST_BUCKETS 1024

int64_t presence_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for(; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

void presence_rec_free(struct presence_rec *r)
{
	if(!r) return;
	free(r->username);
	free(r->clientid);
	free(r->address);
	free(r);
}

void presence_list_free(struct presence_rec *r)
{
	while(r){
		struct presence_rec *next = r->next;
		presence_rec_free(r);
		r = next;
	}
}

static struct presence_rec *rec_new(const char *username, const char *clientid,
		const char *address)
{
	struct presence_rec *r = calloc(1, sizeof *r);
	if(!r) return NULL;
	r->username = strdup(username ? username : "");
	r->clientid = strdup(clientid ? clientid : "");
	r->address = strdup(address ? address : "");
	if(!r->username || !r->clientid || !r->address){
		presence_rec_free(r);
		return NULL;
	}
	return r;
}

static struct presence_rec *rec_copy(const struct presence_rec *s)
{
	struct presence_rec *r = rec_new(s->username, s->clientid, s->address);
	if(!r) return NULL;
	r->connected = s->connected;
	r->protocol = s->protocol;
	r->reason = s->reason;
	r->at = s->at;
	return r;
}

static bool grow(struct presence *pr)
{
	size_t n = pr->buckets ? pr->buckets * 2 : FIRST_BUCKETS;
	struct presence_rec **t = calloc(n, sizeof *t);
	if(!t) return false;
	for(size_t i = 0; i < pr->buckets; i++){
		for(struct presence_rec *r = pr->table[i], *next; r; r = next){
			next = r->next;
			size_t b = hash_str(r->clientid) & (n - 1);
			r->next = t[b];
			t[b] = r;
		}
	}
	free(pr->table);
	pr->table = t;
	pr->buckets = n;
	return true;
}

static struct presence_rec **slot_of(struct presence *pr, const char *clientid)
{
	struct presence_rec **at = &pr->table[hash_str(clientid) & (pr->buckets - 1)];
	while(*at && strcmp((*at)->clientid, clientid) != 0) at = &(*at)->next;
	return at;
}

/* Under lock: queues a copy of `r` as a change, or marks the table as the next report. */
static void enqueue(struct presence *pr, const struct presence_rec *r)
{
	struct presence_rec *c = pr->queued < pr->queue_max ? rec_copy(r) : NULL;
	if(!c){
		pr->need_full = true;
		atomic_fetch_add(&pr->dropped, 1);
		return;
	}
	if(pr->tail) pr->tail->next = c;
	else pr->head = c;
	pr->tail = c;
	pr->queued++;
	pthread_cond_signal(&pr->wake);
}

void presence_connected(struct presence *pr, const void *client, const char *username,
		const char *clientid, const char *address, int protocol)
{
	if(!pr || !username) return;
	struct presence_rec *r = rec_new(username, clientid, address);
	if(r){
		r->client = client;
		r->connected = true;
		r->protocol = protocol;
		r->at = presence_now_ms();
	}
	pthread_mutex_lock(&pr->lock);
	if(!r || ((pr->count + 1) * 2 > pr->buckets && !grow(pr))){
		pr->need_full = true; /* the table misses one: the service must not trust deltas */
		atomic_fetch_add(&pr->dropped, 1);
		pthread_mutex_unlock(&pr->lock);
		presence_rec_free(r);
		return;
	}
	struct presence_rec **at = slot_of(pr, r->clientid);
	if(*at){ /* a takeover: the new session replaces the old one of that client id */
		struct presence_rec *old = *at;
		r->next = old->next;
		presence_rec_free(old);
	}else{
		r->next = NULL;
		pr->count++;
	}
	*at = r;
	struct presence_rec change = *r;
	change.next = NULL;
	enqueue(pr, &change);
	pthread_mutex_unlock(&pr->lock);
}

void presence_disconnected(struct presence *pr, const void *client, const char *clientid,
		int reason)
{
	if(!pr || !clientid) return;
	pthread_mutex_lock(&pr->lock);
	struct presence_rec **at = pr->buckets ? slot_of(pr, clientid) : NULL;
	/* Only the session this client pointer holds: a newer one that took the id over stays. */
	if(at && *at && (*at)->client == client){
		struct presence_rec *r = *at;
		*at = r->next;
		pr->count--;
		r->next = NULL;
		r->connected = false;
		r->reason = reason;
		r->at = presence_now_ms();
		enqueue(pr, r);
		presence_rec_free(r);
	}
	pthread_mutex_unlock(&pr->lock);
}

struct presence_rec *presence_take(struct presence *pr, bool *full)
{
	*full = pr->need_full;
	if(!pr->need_full){
		struct presence_rec *h = pr->head;
		pr->head = pr->tail = NULL;
		pr->queued = 0;
		return h;
	}
	/* The whole table; the queued changes are in it already. */
	presence_list_free(pr->head);
	pr->head = pr->tail = NULL;
	pr->queued = 0;
	struct presence_rec *out = NULL;
	for(size_t i = 0; i < pr->buckets; i++){
		for(struct presence_rec *r = pr->table[i]; r; r = r->next){
			struct presence_rec *c = rec_copy(r);
			if(!c){ /* try again at the next batch */
				presence_list_free(out);
				return NULL;
			}
			c->next = out;
			out = c;
		}
	}
	pr->need_full = false;
	return out;
}

struct presence *presence_start(const char *urls, const char *token, const char *broker_id,
		long heartbeat_ms, long timeout_ms)
{
	struct presence *pr = calloc(1, sizeof *pr);
	if(!pr) return NULL;
	pr->need_full = true; /* a start reports afresh */
	pr->queue_max = PRESENCE_QUEUE_MAX;
	pthread_condattr_t attr;
	if(pthread_condattr_init(&attr) != 0){
		free(pr);
		return NULL;
	}
	bool ok = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0
		&& pthread_cond_init(&pr->wake, &attr) == 0;
	pthread_condattr_destroy(&attr);
	if(!ok){
		free(pr);
		return NULL;
	}
	if(pthread_mutex_init(&pr->lock, NULL) != 0 || !grow(pr)){
		pthread_cond_destroy(&pr->wake);
		free(pr->table);
		free(pr);
		return NULL;
	}
	if(!(pr->sender = presence_send_start(pr, urls, token, broker_id, heartbeat_ms,
			timeout_ms))){
		pthread_cond_destroy(&pr->wake);
		pthread_mutex_destroy(&pr->lock);
		free(pr->table);
		free(pr);
		return NULL;
	}
	return pr;
}

void presence_stop(struct presence *pr)
{
	if(!pr) return;
	pthread_mutex_lock(&pr->lock);
	pr->stop = true;
	pthread_cond_signal(&pr->wake);
	pthread_mutex_unlock(&pr->lock);
	presence_send_stop(pr->sender); /* joins the thread */
	presence_list_free(pr->head);
	for(size_t i = 0; i < pr->buckets; i++) presence_list_free(pr->table[i]);
	free(pr->table);
	pthread_cond_destroy(&pr->wake);
	pthread_mutex_destroy(&pr->lock);
	free(pr);
}
