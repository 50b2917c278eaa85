/* Compiled ACL rule sets and the topic algebra they are decided with (docs/checks.md; the
 * TypeScript twin is src/domain/acl.ts + topic.ts, and both run test/vectors/decisions.json).
 * A rule set is stored as the service sent it (`%u`/`%c` kept) and interned: identical lists
 * (most devices share `devices/%u/#`-style templates) are one refcounted copy. Placeholders are
 * filled in per check into a scratch buffer, with the CVE-2017-7650 guards: a name or client id
 * that is empty or holds `+`, `#`, `/` never widens a grant; denies take it literally. Broker
 * thread only (the table is not locked). */
#ifndef AUTHD_RULES_H
#define AUTHD_RULES_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "buf.h"

enum access { ACCESS_NONE = 0, ACCESS_READ = 1, ACCESS_WRITE = 2, ACCESS_READWRITE = 3,
	ACCESS_DENY = 4 };

/* One rule as parsed (the pattern is not copied until interned). */
struct rule_in {
	const char *pattern;
	size_t len;
	enum access access;
};

struct rule {
	uint32_t off, len;   /* the pattern in the set's text */
	uint8_t access;      /* enum access */
	uint8_t flags;       /* RULE_HAS_U, RULE_HAS_C, RULE_VALID */
};
#define RULE_HAS_U 1
#define RULE_HAS_C 2
#define RULE_VALID 4     /* placeholder-free and a valid filter */

struct ruleset {
	struct ruleset *chain; /* next in the intern table's bucket */
	uint64_t hash;
	uint32_t refs, n;
	size_t bytes;          /* what this allocation holds */
	struct rule r[];       /* then the patterns' text */
};

struct rule_table {
	struct ruleset **b;
	size_t mask, count, bytes;
	uint64_t seed;
};

/* How an ACL check was decided (verdict_reason names them as the vectors do). */
enum verdict {
	V_ALLOW = 0,
	V_BAD_ACC,        /* acc is not 1-4 */
	V_INVALID_TOPIC,  /* not a topic name (acc 1-3) or not a filter (acc 4) */
	V_NO_GRANT,       /* no single rule grants the access */
	V_DENY_RULE,      /* a deny rule can match */
	V_DENY_UNSAFE,    /* a deny rule turned invalid with an odd name or client id */
};

bool rule_table_init(struct rule_table *t, uint64_t seed);
void rule_table_free(struct rule_table *t);
/* The interned set of these rules with one more reference; NULL when memory runs out or a
 * pattern is longer than 4 GiB. n may be 0 (the empty set, also shared). */
struct ruleset *rules_intern(struct rule_table *t, const struct rule_in *in, size_t n);
/* Drops one reference (NULL: nothing); the last frees the set. */
void rules_release(struct rule_table *t, struct ruleset *rs);

/* MQTT topic names and filters (MQTT 3.1.1/5 §4.7), as src/domain/topic.ts. */
bool topic_valid_name(const char *s, size_t n);
bool topic_valid_filter(const char *s, size_t n);
/* Every topic x matches is matched by rule (x a topic or a valid filter). */
bool topic_covers(const char *rule, size_t rn, const char *x, size_t xn);
/* Some topic is matched by both. */
bool topic_intersects(const char *a, size_t an, const char *b, size_t bn);
/* A value that may fill a grant's placeholder: one non-empty level without wildcards. */
bool safe_level(const char *v);

/* The ACL decision over `own` then `common` (either may be NULL) for a client of `username`
 * with `clientid` asking `acc` (1 read/deliver, 2 write/publish, 3 both, 4 subscribe) on
 * `topic`. `scratch` is reused for the filled-in patterns. */
enum verdict rules_verdict(const struct ruleset *own, const struct ruleset *common,
		const char *username, const char *clientid, int acc, const char *topic,
		struct buf *scratch);

#endif
