#include "records.h"

#include <stdlib.h>
#include <string.h>

struct records {
	struct record **b;
	size_t mask, count, bytes, max_bytes;
	uint64_t seed;
	struct rule_table *rules;
	struct record *newest, *oldest;
};

/* What malloc really takes for n bytes (glibc: 8 bytes of header, 16-byte granules). */
static size_t footprint(size_t n)
{
	return n < 24 ? 32 : (n + 8 + 15) & ~(size_t)15;
}

static size_t name_len(const struct record *r)
{
	return strlen(r->data);
}

const unsigned char *record_salt(const struct record *r)
{
	return (const unsigned char *)r->data + name_len(r) + 1;
}

const unsigned char *record_key(const struct record *r)
{
	return record_salt(r) + r->salt_len;
}

static size_t record_bytes(const struct record *r)
{
	size_t n = footprint(sizeof *r + name_len(r) + 1 + r->salt_len + r->key_len);
	if(r->verified) n += footprint(KEYHASH_LEN);
	if(r->client_ids){
		const char *p = r->client_ids;
		while(*p) p += strlen(p) + 1;
		n += footprint((size_t)(p - r->client_ids) + 1);
	}
	return n + sizeof(struct record *); /* its bucket slot, at load factor 1 */
}

struct record *record_alloc(const char *username, size_t salt_len, size_t key_len)
{
	size_t n = strlen(username);
	if(salt_len > UINT8_MAX || key_len > UINT8_MAX) return NULL;
	struct record *r = calloc(1, sizeof *r + n + 1 + salt_len + key_len);
	if(!r) return NULL;
	memcpy(r->data, username, n + 1);
	r->salt_len = (uint8_t)salt_len;
	r->key_len = (uint8_t)key_len;
	return r;
}

void record_free(struct rule_table *t, struct record *r)
{
	if(!r) return;
	rules_release(t, r->acl);
	if(r->verified) memset(r->verified, 0, KEYHASH_LEN);
	free(r->verified);
	free(r->client_ids);
	free(r);
}

bool record_client_id_ok(const struct record *r, const char *cid)
{
	if(!r->client_ids) return true;
	const char *u = record_name(r);
	size_t ul = strlen(u), cl = strlen(cid);
	for(const char *p = r->client_ids; *p; p += strlen(p) + 1){
		/* compare p with %u filled in against cid, without building it */
		size_t at = 0;
		bool ok = true;
		for(const char *q = p; *q && ok; q++){
			if(q[0] == '%' && q[1] == 'u'){
				ok = at + ul <= cl && memcmp(cid + at, u, ul) == 0;
				at += ul;
				q++;
			}else{
				ok = at < cl && cid[at] == *q;
				at++;
			}
		}
		if(ok && at == cl) return true;
	}
	return false;
}

static uint64_t hash_of(uint64_t seed, const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ seed;
	for(; *s; s++){
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h ^ (h >> 29);
}

struct records *records_new(size_t max_bytes, uint64_t seed, struct rule_table *rules)
{
	struct records *s = calloc(1, sizeof *s);
	if(!s) return NULL;
	s->mask = 1023;
	if(!(s->b = calloc(s->mask + 1, sizeof *s->b))){
		free(s);
		return NULL;
	}
	s->max_bytes = max_bytes;
	s->seed = seed;
	s->rules = rules;
	return s;
}

static void lru_unlink(struct records *s, struct record *r)
{
	if(r->newer) r->newer->older = r->older; else if(s->newest == r) s->newest = r->older;
	if(r->older) r->older->newer = r->newer; else if(s->oldest == r) s->oldest = r->newer;
	r->newer = r->older = NULL;
}

static void lru_front(struct records *s, struct record *r)
{
	r->older = s->newest;
	r->newer = NULL;
	if(s->newest) s->newest->newer = r;
	s->newest = r;
	if(!s->oldest) s->oldest = r;
}

static struct record **slot(struct records *s, const char *username)
{
	struct record **pp = &s->b[hash_of(s->seed, username) & s->mask];
	while(*pp && strcmp((*pp)->data, username) != 0) pp = &(*pp)->chain;
	return pp;
}

/* Unlinks *pp from the table and the LRU, and frees it. */
static void remove_at(struct records *s, struct record **pp)
{
	struct record *r = *pp;
	*pp = r->chain;
	lru_unlink(s, r);
	s->count--;
	s->bytes -= record_bytes(r);
	record_free(s->rules, r);
}

void records_free(struct records *s)
{
	if(!s) return;
	records_clear(s);
	free(s->b);
	free(s);
}

struct record *records_get(struct records *s, const char *username)
{
	struct record *r = *slot(s, username);
	if(r && r->sessions == 0 && s->newest != r){
		lru_unlink(s, r);
		lru_front(s, r);
	}
	return r;
}

static void grow(struct records *s)
{
	size_t nm = s->mask * 2 + 1;
	struct record **nb = calloc(nm + 1, sizeof *nb);
	if(!nb) return;
	for(size_t i = 0; i <= s->mask; i++){
		struct record *r = s->b[i];
		while(r){
			struct record *next = r->chain;
			size_t j = hash_of(s->seed, r->data) & nm;
			r->chain = nb[j];
			nb[j] = r;
			r = next;
		}
	}
	free(s->b);
	s->b = nb;
	s->mask = nm;
}

static void evict(struct records *s, const struct record *keep)
{
	while(s->bytes + s->rules->bytes > s->max_bytes && s->oldest && s->oldest != keep){
		remove_at(s, slot(s, s->oldest->data));
	}
}

void records_put(struct records *s, struct record *r)
{
	struct record **pp = slot(s, r->data);
	if(*pp){
		struct record *old = *pp;
		r->sessions = old->sessions;
		if(old->verified && memcmp(old->cred, r->cred, sizeof r->cred) == 0 && !r->verified){
			r->verified = old->verified;
			old->verified = NULL;
		}
		remove_at(s, pp);
		pp = slot(s, r->data);
	}
	r->chain = NULL;
	*pp = r;
	s->count++;
	s->bytes += record_bytes(r);
	if(r->sessions == 0) lru_front(s, r);
	evict(s, r);
	if(s->count > s->mask + 1) grow(s);
}

bool records_drop(struct records *s, const char *username)
{
	struct record **pp = slot(s, username);
	if(!*pp) return false;
	remove_at(s, pp);
	return true;
}

void records_clear(struct records *s)
{
	for(size_t i = 0; i <= s->mask; i++){
		while(s->b[i]) remove_at(s, &s->b[i]);
	}
}

void records_pin(struct records *s, const char *username, bool on)
{
	struct record *r = *slot(s, username);
	if(!r) return;
	if(on){
		if(r->sessions++ == 0) lru_unlink(s, r);
	}else if(r->sessions > 0 && --r->sessions == 0){
		lru_front(s, r);
		evict(s, NULL);
	}
}

void records_set_verified(struct records *s, struct record *r, const unsigned char *mac)
{
	if(!r->verified){
		unsigned char *m = malloc(KEYHASH_LEN);
		if(!m) return; /* the next login verifies again */
		s->bytes -= record_bytes(r);
		r->verified = m;
		s->bytes += record_bytes(r);
	}
	memcpy(r->verified, mac, KEYHASH_LEN);
}

size_t records_count(const struct records *s)
{
	return s->count;
}

size_t records_bytes(const struct records *s)
{
	return s->bytes;
}

void records_each_pinned(struct records *s, void (*fn)(void *, struct record *), void *ctx)
{
	for(size_t i = 0; i <= s->mask; i++){
		for(struct record *r = s->b[i]; r; r = r->chain){
			if(r->sessions > 0) fn(ctx, r);
		}
	}
}
