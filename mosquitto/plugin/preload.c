#include "preload.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "json.h"
#include "recfetch.h"

#define PAGE 1000

struct preload {
	pthread_t thread;
	pthread_mutex_t lock;
	struct page *head, *tail; /* under lock */
	atomic_bool stop, finished;
	struct recfetch *fetch;
	void (*poke)(void *);
	void *poke_arg;
	atomic_size_t *waiting;
};

void page_free(struct page *pg)
{
	if(!pg) return;
	buf_free(&pg->body);
	free(pg);
}

static void hand_over(struct preload *pr, struct page *pg)
{
	pthread_mutex_lock(&pr->lock);
	if(pr->tail) pr->tail->next = pg; else pr->head = pg;
	pr->tail = pg;
	pthread_mutex_unlock(&pr->lock);
	atomic_fetch_add(pr->waiting, 1);
	pr->poke(pr->poke_arg);
}

static void *walk(void *arg)
{
	struct preload *pr = arg;
	char *cursor = NULL;
	bool more = true;
	while(more && !atomic_load(&pr->stop)){
		struct page *pg = calloc(1, sizeof *pg);
		if(!pg) break;
		pg->status = recfetch_page(pr->fetch, cursor, PAGE, &pg->body);
		free(cursor);
		cursor = NULL;
		more = false;
		const char *v, *vend;
		struct buf next = {0};
		if(pg->status < 0){
			snprintf(pg->error, sizeof pg->error, "%s", recfetch_error(pr->fetch));
		}else if(pg->status == 200 && json_member(pg->body.data, pg->body.len, "next", &v, &vend)
				&& json_string(v, vend, &next) && next.len > 0 && buf_add_char(&next, '\0')){
			cursor = next.data; /* a JSON null (the last page) is not a string */
			more = true;
		}else{
			buf_free(&next);
		}
		hand_over(pr, pg);
	}
	free(cursor);
	atomic_store(&pr->finished, true);
	atomic_fetch_add(pr->waiting, 1);
	pr->poke(pr->poke_arg);
	return NULL;
}

struct preload *preload_start(const char *urls, long timeout_ms, const char *token,
		void (*poke)(void *), void *poke_arg, atomic_size_t *waiting)
{
	struct preload *pr = calloc(1, sizeof *pr);
	if(!pr) return NULL;
	pr->poke = poke;
	pr->poke_arg = poke_arg;
	pr->waiting = waiting;
	atomic_init(&pr->stop, false);
	atomic_init(&pr->finished, false);
	if(!(pr->fetch = recfetch_new(urls, timeout_ms, token))){
		free(pr);
		return NULL;
	}
	if(pthread_mutex_init(&pr->lock, NULL) != 0){
		recfetch_free(pr->fetch);
		free(pr);
		return NULL;
	}
	if(pthread_create(&pr->thread, NULL, walk, pr) != 0){
		pthread_mutex_destroy(&pr->lock);
		recfetch_free(pr->fetch);
		free(pr);
		return NULL;
	}
	return pr;
}

struct page *preload_take(struct preload *pr)
{
	pthread_mutex_lock(&pr->lock);
	struct page *pg = pr->head;
	pr->head = pr->tail = NULL;
	pthread_mutex_unlock(&pr->lock);
	return pg;
}

bool preload_finished(struct preload *pr)
{
	return atomic_load(&pr->finished);
}

void preload_stop(struct preload *pr)
{
	if(!pr) return;
	atomic_store(&pr->stop, true);
	pthread_join(pr->thread, NULL);
	struct page *pg = preload_take(pr);
	while(pg){
		struct page *next = pg->next;
		page_free(pg);
		pg = next;
	}
	pthread_mutex_destroy(&pr->lock);
	recfetch_free(pr->fetch);
	free(pr);
}
