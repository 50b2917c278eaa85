#include "decisions.h"

const char *reason_name(enum reason r)
{
	static const char *const names[] = {
		[R_OK] = "ok", [R_SUPERUSER] = "superuser", [R_UNKNOWN] = "unknown",
		[R_DAMAGED] = "damaged", [R_DISABLED] = "disabled", [R_LOCKED] = "locked",
		[R_CLIENT_ID] = "clientid", [R_NOT_SUPERUSER] = "not-superuser", [R_BAD_ACC] = "bad-acc",
		[R_INVALID_TOPIC] = "invalid-topic", [R_INVALID_FILTER] = "invalid-filter",
		[R_NO_GRANT] = "no-grant", [R_DENY_RULE] = "deny-rule", [R_DENY_UNSAFE] = "deny-unsafe",
	};
	return (unsigned)r < sizeof names / sizeof names[0] ? names[r] : "?";
}

static enum reason usable(const struct record *r)
{
	if(!r || !(r->flags & REC_KNOWN)) return R_UNKNOWN;
	if(r->flags & REC_DAMAGED) return R_DAMAGED;
	if(r->flags & REC_DISABLED) return R_DISABLED;
	return R_OK;
}

enum reason decide_user(const struct record *r, const char *clientid, int64_t now_ms)
{
	enum reason u = usable(r);
	if(u != R_OK) return u;
	if(r->locked_until > now_ms) return R_LOCKED;
	return record_client_id_ok(r, clientid) ? R_OK : R_CLIENT_ID;
}

enum reason decide_superuser(const struct record *r)
{
	enum reason u = usable(r);
	if(u != R_OK) return u;
	return (r->flags & REC_SUPERUSER) ? R_SUPERUSER : R_NOT_SUPERUSER;
}

enum reason decide_acl(const struct record *r, const struct ruleset *common,
		const char *clientid, int acc, const char *topic, struct buf *scratch)
{
	enum reason u = usable(r);
	if(u != R_OK) return u;
	if(r->flags & REC_SUPERUSER) return R_SUPERUSER;
	switch(rules_verdict(r->acl, common, record_name(r), clientid, acc, topic, scratch)){
		case V_ALLOW: return R_OK;
		case V_BAD_ACC: return R_BAD_ACC;
		case V_INVALID_TOPIC: return acc == 4 ? R_INVALID_FILTER : R_INVALID_TOPIC;
		case V_NO_GRANT: return R_NO_GRANT;
		case V_DENY_RULE: return R_DENY_RULE;
		default: return R_DENY_UNSAFE;
	}
}
