/* The checks decided from a record, as the service decides them (src/domain/check-decisions.ts;
 * docs/checks.md). Pure: no broker, no network, so the unit checks run every case of
 * test/vectors/decisions.json through these same functions, reason codes included
 * (test/vectors/README.md has their order). */
#ifndef AUTHD_DECISIONS_H
#define AUTHD_DECISIONS_H
#include <stdbool.h>
#include <stdint.h>
#include "records.h"
#include "rules.h"

enum reason {
	R_OK = 0,         /* allowed by the rules (acl) or admitted (user) */
	R_SUPERUSER,      /* allowed: an enabled superuser */
	R_UNKNOWN,        /* no such device */
	R_DAMAGED,        /* the stored record does not decode */
	R_DISABLED,
	R_LOCKED,         /* locked out after failed logins */
	R_CLIENT_ID,      /* bound to other client ids (133) */
	R_NOT_SUPERUSER,
	R_BAD_ACC,
	R_INVALID_TOPIC,
	R_INVALID_FILTER,
	R_NO_GRANT,
	R_DENY_RULE,
	R_DENY_UNSAFE,
};

static inline bool reason_allows(enum reason r) { return r == R_OK || r == R_SUPERUSER; }
/* The reason code as test/vectors/README.md names it. */
const char *reason_name(enum reason r);

/* CONNECT whose password verified, at now_ms (mono_ms; locked_until is on the same clock). */
enum reason decide_user(const struct record *r, const char *clientid, int64_t now_ms);
enum reason decide_superuser(const struct record *r);
/* The broker's whole ACL answer: the superuser question first (as go-auth asks it), then the
 * device's rules and the common ones (NULL: none). Client-id binding is not asked here. */
enum reason decide_acl(const struct record *r, const struct ruleset *common,
		const char *clientid, int acc, const char *topic, struct buf *scratch);

#endif
