#include "queue.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int queue_init(struct queue *q)
{
	memset(q, 0, sizeof *q);
	atomic_init(&q->pending, 0);
	atomic_init(&q->pushed, 0);
	return pthread_mutex_init(&q->lock, NULL);
}

static void free_list(struct event *e)
{
	while(e){
		struct event *next = e->next;
		free(e);
		e = next;
	}
}

void queue_destroy(struct queue *q)
{
	free_list(q->head);
	q->head = q->tail = NULL;
	pthread_mutex_destroy(&q->lock);
}

void queue_push(struct queue *q, enum event_type type, bool revoke, const char *text,
		size_t textlen)
{
	struct event *e = NULL;
	if(textlen < SIZE_MAX - sizeof *e - 1) e = malloc(sizeof *e + textlen + 1);
	if(e){
		e->next = NULL;
		e->type = type;
		e->revoke = revoke;
		if(textlen) memcpy(e->text, text, textlen);
		e->text[textlen] = '\0';
	}
	pthread_mutex_lock(&q->lock);
	atomic_fetch_add(&q->pushed, 1);
	/* A stream state change is never dropped: it decides whether the cache is trusted. */
	bool keep = e && (q->count < (q->max ? q->max : QUEUE_MAX) || type == EV_HELLO || type == EV_DOWN);
	if(keep){
		if(q->tail) q->tail->next = e; else q->head = e;
		q->tail = e;
		q->count++;
	}else{
		q->overflowed = true;
		q->count += q->count == 0; /* the taker must come, even for a lone dropped event */
	}
	atomic_store(&q->pending, q->count);
	pthread_mutex_unlock(&q->lock);
	if(!keep) free(e);
	if(q->notify) q->notify(q->notify_arg);
}

struct event *queue_take(struct queue *q, bool *overflowed)
{
	pthread_mutex_lock(&q->lock);
	struct event *head = q->head;
	*overflowed = q->overflowed;
	q->head = q->tail = NULL;
	q->count = 0;
	q->overflowed = false;
	atomic_store(&q->pending, 0);
	pthread_mutex_unlock(&q->lock);
	return head;
}
