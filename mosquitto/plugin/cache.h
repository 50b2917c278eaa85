/* The decision cache: at most `max` answers and `max_bytes` of entries (keys carry client-chosen
 * names and topics of up to 64 KiB each), least recently used evicted first. Keys are
 * built by the caller (kind byte, username, NUL, the rest); the cache knows only the kind and
 * the username part, so it can drop one user's answers or every ACL answer. Broker thread only. */
#ifndef AUTHD_CACHE_H
#define AUTHD_CACHE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum cache_kind { KIND_USER = 'U', KIND_SUPERUSER = 'S', KIND_ACL = 'A' };

struct cache;

/* NULL when memory runs out. max 0: a cache that stores nothing. */
struct cache *cache_new(size_t max, size_t max_bytes, uint64_t seed);
void cache_free(struct cache *c);

/* True when `key` is cached; *allow and *stored_ms (when it was stored) are set. */
bool cache_get(struct cache *c, const char *key, size_t keylen, bool *allow, int64_t *stored_ms);
/* Stores (or replaces) an answer; silently stores nothing when memory runs out. */
void cache_put(struct cache *c, const char *key, size_t keylen, bool allow, int64_t now_ms);

/* Drops every answer about `username` (all kinds). */
void cache_drop_user(struct cache *c, const char *username);
/* Drops every answer of one kind. */
void cache_drop_kind(struct cache *c, enum cache_kind kind);
void cache_clear(struct cache *c);
size_t cache_count(const struct cache *c);
/* Bytes held by the entries (what max_bytes bounds). */
size_t cache_bytes(const struct cache *c);

#endif
