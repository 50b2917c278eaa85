#include "sessions.h"

#include <stdlib.h>
#include <string.h>

struct sessions {
	struct session **b;
	size_t mask, count;
	uint64_t seed;
};

static size_t bucket(const struct sessions *s, const void *client)
{
	uint64_t h = ((uint64_t)(uintptr_t)client ^ s->seed) * 0x9e3779b97f4a7c15ULL;
	return (size_t)(h >> 32) & s->mask;
}

struct sessions *sessions_new(uint64_t seed)
{
	struct sessions *s = calloc(1, sizeof *s);
	if(!s) return NULL;
	s->mask = 255;
	s->seed = seed;
	if(!(s->b = calloc(s->mask + 1, sizeof *s->b))){
		free(s);
		return NULL;
	}
	return s;
}

static void session_free(struct session *x)
{
	free(x->username);
	free(x->clientid);
	free(x);
}

void sessions_free(struct sessions *s)
{
	if(!s) return;
	for(size_t i = 0; i <= s->mask; i++){
		struct session *x = s->b[i];
		while(x){
			struct session *next = x->chain;
			session_free(x);
			x = next;
		}
	}
	free(s->b);
	free(s);
}

static struct session **slot(struct sessions *s, const void *client)
{
	struct session **pp = &s->b[bucket(s, client)];
	while(*pp && (*pp)->client != client) pp = &(*pp)->chain;
	return pp;
}

static void grow(struct sessions *s)
{
	size_t old = s->mask;
	struct session **ob = s->b;
	struct session **nb = calloc((old + 1) * 2, sizeof *nb);
	if(!nb) return;
	s->b = nb;
	s->mask = old * 2 + 1;
	for(size_t i = 0; i <= old; i++){
		struct session *x = ob[i];
		while(x){
			struct session *next = x->chain;
			size_t j = bucket(s, x->client);
			x->chain = nb[j];
			nb[j] = x;
			x = next;
		}
	}
	free(ob);
}

struct session *sessions_add(struct sessions *s, const void *client, const char *username,
		const char *clientid, const uint8_t *cred)
{
	struct session *x = calloc(1, sizeof *x);
	if(!x || !(x->username = strdup(username)) || !(x->clientid = strdup(clientid))){
		if(x) session_free(x);
		return NULL;
	}
	x->client = client;
	if(cred){
		memcpy(x->cred, cred, sizeof x->cred);
		x->has_cred = true;
	}
	struct session **pp = slot(s, client);
	if(*pp){
		struct session *old = *pp;
		x->chain = old->chain;
		session_free(old);
		*pp = x;
		return x;
	}
	x->chain = s->b[bucket(s, client)];
	s->b[bucket(s, client)] = x;
	if(++s->count > s->mask + 1) grow(s);
	return x;
}

struct session *sessions_find(struct sessions *s, const void *client)
{
	return *slot(s, client);
}

bool sessions_remove(struct sessions *s, const void *client,
		void (*fn)(void *, const struct session *), void *ctx)
{
	struct session **pp = slot(s, client);
	struct session *x = *pp;
	if(!x) return false;
	if(fn) fn(ctx, x);
	*pp = x->chain;
	s->count--;
	session_free(x);
	return true;
}

void sessions_each(struct sessions *s, void (*fn)(void *, struct session *), void *ctx)
{
	for(size_t i = 0; i <= s->mask; i++){
		for(struct session *x = s->b[i]; x; x = x->chain) fn(ctx, x);
	}
}

size_t sessions_count(const struct sessions *s)
{
	return s->count;
}
