/* The per-device records the broker decides with (docs/broker-protocol.md, Records): held by
 * username, pinned while a session of that user is connected, least recently used evicted
 * beyond the byte bound (plugin_opt_cache_mb, shared with the answer cache's budget). Rule
 * sets are interned in a rule_table (rules.h). Broker thread only. */
#ifndef AUTHD_RECORDS_H
#define AUTHD_RECORDS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "keyhash.h"
#include "rules.h"

#define REC_KNOWN 1       /* false: the service has no such device */
#define REC_DAMAGED 2     /* the stored record does not decode: deny every check */
#define REC_DISABLED 4
#define REC_SUPERUSER 8
#define REC_PBKDF2 16     /* the verifier is here (salt, key, iterations); else ask the service */

struct record {
	struct record *chain;          /* bucket */
	struct record *newer, *older;  /* LRU, only while no session pins it */
	struct ruleset *acl;           /* the device's own rules (interned) */
	unsigned char *verified;       /* KEYHASH_LEN: HMAC of the last password that verified */
	char *client_ids;              /* NULL: any client id; else "a\0b\0\0" */
	int64_t locked_until;          /* mono_ms; 0: not locked out */
	uint32_t iterations;
	uint32_t sessions;             /* connected clients of this user (pins it) */
	uint8_t cred[8];
	uint8_t flags, salt_len, key_len;
	char data[];                   /* username, NUL, salt, key */
};

static inline const char *record_name(const struct record *r) { return r->data; }
const unsigned char *record_salt(const struct record *r);
const unsigned char *record_key(const struct record *r);

/* A record of `username` with room for salt_len + key_len bytes (copied in by the caller at
 * record_salt/record_key); NULL when memory runs out. Everything else zero. */
struct record *record_alloc(const char *username, size_t salt_len, size_t key_len);
/* Frees a record that is not in a store. */
void record_free(struct rule_table *t, struct record *r);
/* Whether client id `cid` may connect as this record's user (`%u` filled in literally). */
bool record_client_id_ok(const struct record *r, const char *cid);

struct records;

struct records *records_new(size_t max_bytes, uint64_t seed, struct rule_table *rules);
void records_free(struct records *s);
/* The held record, or NULL; moves it to the LRU's young end. */
struct record *records_get(struct records *s, const char *username);
/* Takes `r` in place of the record of the same name (whose session count moves over, and its
 * verified password too when the cred is the same), evicting beyond the bound. */
void records_put(struct records *s, struct record *r);
/* Forgets one user's record (false when none was held). */
bool records_drop(struct records *s, const char *username);
void records_clear(struct records *s);
/* A session of that user started or ended (pins the record while > 0). */
void records_pin(struct records *s, const char *username, bool on);
/* Remembers the HMAC of a password that verified. */
void records_set_verified(struct records *s, struct record *r, const unsigned char *mac);
size_t records_count(const struct records *s);
size_t records_bytes(const struct records *s);
/* Calls fn for each held record whose sessions > 0 (fn must not change the store). */
void records_each_pinned(struct records *s, void (*fn)(void *, struct record *), void *ctx);

#endif
