#include "cache.h"

#include <stdlib.h>
#include <string.h>

struct entry {
	struct entry *chain;            /* next in the bucket */
	struct entry *newer, *older;    /* LRU list */
	uint64_t hash;
	int64_t stored_ms;
	size_t keylen;
	bool allow;
	char key[];                     /* kind, username, NUL, rest */
};

struct cache {
	struct entry **buckets;
	size_t mask;
	size_t count, max;
	size_t bytes, max_bytes;
	uint64_t seed;
	struct entry *newest, *oldest;
};

/* FNV-1a, seeded per process so names chosen by clients cannot aim at one bucket. */
static uint64_t hash_of(uint64_t seed, const char *key, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ seed;
	for(size_t i = 0; i < n; i++){
		h ^= (unsigned char)key[i];
		h *= 0x100000001b3ULL;
	}
	return h ^ (h >> 29);
}

struct cache *cache_new(size_t max, size_t max_bytes, uint64_t seed)
{
	struct cache *c = calloc(1, sizeof *c);
	if(!c) return NULL;
	size_t n = 16;
	while(n < max && n < ((size_t)1 << 30)) n *= 2;
	c->buckets = calloc(n, sizeof *c->buckets);
	if(!c->buckets){
		free(c);
		return NULL;
	}
	c->mask = n - 1;
	c->max = max;
	c->max_bytes = max_bytes;
	c->seed = seed;
	return c;
}

static void unlink_lru(struct cache *c, struct entry *e)
{
	if(e->newer) e->newer->older = e->older; else c->newest = e->older;
	if(e->older) e->older->newer = e->newer; else c->oldest = e->newer;
	e->newer = e->older = NULL;
}

static void push_newest(struct cache *c, struct entry *e)
{
	e->older = c->newest;
	e->newer = NULL;
	if(c->newest) c->newest->newer = e; else c->oldest = e;
	c->newest = e;
}

static void remove_entry(struct cache *c, struct entry *e)
{
	struct entry **slot = &c->buckets[e->hash & c->mask];
	while(*slot != e) slot = &(*slot)->chain;
	*slot = e->chain;
	unlink_lru(c, e);
	c->count--;
	c->bytes -= sizeof *e + e->keylen;
	free(e);
}

static struct entry *find(struct cache *c, const char *key, size_t n, uint64_t h)
{
	for(struct entry *e = c->buckets[h & c->mask]; e; e = e->chain){
		if(e->hash == h && e->keylen == n && memcmp(e->key, key, n) == 0) return e;
	}
	return NULL;
}

bool cache_get(struct cache *c, const char *key, size_t keylen, bool *allow, int64_t *stored_ms)
{
	struct entry *e = find(c, key, keylen, hash_of(c->seed, key, keylen));
	if(!e) return false;
	unlink_lru(c, e);
	push_newest(c, e);
	*allow = e->allow;
	*stored_ms = e->stored_ms;
	return true;
}

void cache_put(struct cache *c, const char *key, size_t keylen, bool allow, int64_t now_ms)
{
	if(c->max == 0) return;
	uint64_t h = hash_of(c->seed, key, keylen);
	struct entry *e = find(c, key, keylen, h);
	if(e){
		e->allow = allow;
		e->stored_ms = now_ms;
		unlink_lru(c, e);
		push_newest(c, e);
		return;
	}
	if(keylen > c->max_bytes || sizeof *e + keylen > c->max_bytes) return; /* never fits */
	while((c->count >= c->max || c->bytes + sizeof *e + keylen > c->max_bytes) && c->oldest){
		remove_entry(c, c->oldest);
	}
	e = malloc(sizeof *e + keylen);
	if(!e) return; /* not cached: the next check asks the service again */
	memcpy(e->key, key, keylen);
	e->keylen = keylen;
	e->hash = h;
	e->allow = allow;
	e->stored_ms = now_ms;
	e->chain = c->buckets[h & c->mask];
	c->buckets[h & c->mask] = e;
	push_newest(c, e);
	c->count++;
	c->bytes += sizeof *e + keylen;
}

/* The username part of a key: after the kind byte, up to the first NUL. */
static bool is_users(const struct entry *e, const char *username, size_t ulen)
{
	return e->keylen > ulen + 1 && e->key[ulen + 1] == '\0'
		&& memcmp(e->key + 1, username, ulen) == 0;
}

void cache_drop_user(struct cache *c, const char *username)
{
	size_t ulen = strlen(username);
	for(struct entry *e = c->oldest, *next; e; e = next){
		next = e->newer;
		if(is_users(e, username, ulen)) remove_entry(c, e);
	}
}

void cache_drop_kind(struct cache *c, enum cache_kind kind)
{
	for(struct entry *e = c->oldest, *next; e; e = next){
		next = e->newer;
		if(e->key[0] == (char)kind) remove_entry(c, e);
	}
}

void cache_clear(struct cache *c)
{
	while(c->oldest) remove_entry(c, c->oldest);
}

size_t cache_count(const struct cache *c)
{
	return c->count;
}

size_t cache_bytes(const struct cache *c)
{
	return c->bytes;
}

void cache_free(struct cache *c)
{
	if(!c) return;
	cache_clear(c);
	free(c->buckets);
	free(c);
}
