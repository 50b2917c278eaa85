/* The checks decided from a record, as the service decides them (src/checks/check-service.ts:
 * user, superuser, acl; docs/checks.md). Pure: no broker, no network, so the unit checks run
 * every case of test/vectors/decisions.json through these same functions. */
#ifndef AUTHD_DECISIONS_H
#define AUTHD_DECISIONS_H
#include <stdbool.h>
#include "records.h"
#include "rules.h"

enum reason {
	R_ALLOW = 0,
	R_UNKNOWN,        /* no such device */
	R_DAMAGED,        /* the stored record does not decode */
	R_DISABLED,
	R_CLIENT_ID,      /* bound to other client ids (133) */
	R_NOT_SUPERUSER,
	R_BAD_ACC,
	R_INVALID_TOPIC,
	R_NO_GRANT,
	R_DENY_RULE,
	R_DENY_UNSAFE,
};

/* A stable short name of each reason. */
const char *reason_name(enum reason r);

/* CONNECT with a password that verified: who may connect with this client id. */
enum reason decide_user(const struct record *r, const char *clientid);
enum reason decide_superuser(const struct record *r);
/* The ACL check with the device's rules then the common ones (NULL: none); a superuser is
 * not special here (the broker asks decide_superuser first, as go-auth does). */
enum reason decide_acl(const struct record *r, const struct ruleset *common,
		const char *clientid, int acc, const char *topic, struct buf *scratch);

#endif
