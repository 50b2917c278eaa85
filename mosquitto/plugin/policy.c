/* Decisions from records (policy.h): CONNECT (a right password for a pbkdf2 record, or the
 * HMAC of the last one that verified), superuser and ACL, sessions kept with their cred. */
#include "policy.h"

#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include "decisions.h"
#include "plugin.h"
#include "verifier.h"

/* Lock events held (the least recently used dropped beyond: a user name's record still says
 * its lockedMs when fetched after; the service still refuses wrong passwords). */
#define LOCKS_MAX 10000

struct policy *policy_new(struct plugin *p)
{
	struct policy *pol = calloc(1, sizeof *pol);
	uint64_t seed = 0;
	unsigned char mac[KEYHASH_LEN];
	/* seeds from the process key, so neither table's buckets can be aimed at */
	if(!pol || !keyhash_of(&p->keyhash, "seed", 4, mac)){
		free(pol);
		return NULL;
	}
	memcpy(&seed, mac, sizeof seed);
	pol->preload = p->opts.preload;
	atomic_init(&pol->pages_waiting, 0);
	if(!rule_table_init(&pol->rules, seed ^ 1)
			|| !(pol->records = records_new((size_t)p->opts.cache_mb * 1024 * 1024, seed ^ 2,
					&pol->rules))
			|| !(pol->sessions = sessions_new(seed ^ 3))
			|| !(pol->locks = cache_new(LOCKS_MAX, LOCKS_MAX * 512, seed ^ 4))
			|| !(pol->fetch = recfetch_new(p->opts.url, p->opts.request_timeout_ms, p->opts.token))){
		policy_free(pol);
		return NULL;
	}
	return pol;
}

void policy_free(struct policy *pol)
{
	if(!pol) return;
	preload_stop(pol->walking);
	cache_free(pol->touched);
	sessions_free(pol->sessions);
	cache_free(pol->locks);
	records_free(pol->records);
	if(pol->common) rules_release(&pol->rules, pol->common);
	rule_table_free(&pol->rules);
	recfetch_free(pol->fetch);
	buf_free(&pol->body);
	buf_free(&pol->scratch);
	free(pol);
}

static void unpin(void *ctx, const struct session *x)
{
	records_pin(ctx, x->username, false);
}

static void admit(struct policy *pol, const void *client, const char *username,
		const char *clientid, const uint8_t *cred)
{
	sessions_remove(pol->sessions, client, unpin, pol->records);
	if(sessions_add(pol->sessions, client, username, clientid, cred)){
		records_pin(pol->records, username, true);
	}
}

void policy_admitted(struct plugin *p, const void *client, const char *username,
		const char *clientid)
{
	admit(p->policy, client, username, clientid, NULL);
}

void policy_disconnect(struct plugin *p, const void *client)
{
	struct policy *pol = p->policy;
	sessions_remove(pol->sessions, client, unpin, pol->records);
}

/* The password verified against this record: the HMAC of the last one that did, else PBKDF2
 * when the record carries the verifier. */
static bool password_right(struct plugin *p, struct record *r, const char *password,
		const unsigned char mac[KEYHASH_LEN])
{
	if(r->verified && CRYPTO_memcmp(r->verified, mac, KEYHASH_LEN) == 0) return true;
	if(!(r->flags & REC_PBKDF2)) return false;
	if(!pbkdf2_matches(password, strlen(password), r->iterations, record_salt(r), r->salt_len,
			record_key(r), r->key_len)) return false;
	records_set_verified(p->policy->records, r, mac);
	return true;
}

int policy_basic_auth(struct plugin *p, const void *client, const char *username,
		const char *password, const char *clientid)
{
	struct policy *pol = p->policy;
	if(!policy_usable(p)) return POLICY_PASS;
	struct record *r = policy_record(p, username);
	/* unknown and disabled names: the service answers (it counts failures, spends the time) */
	if(!r || !(r->flags & REC_KNOWN) || (r->flags & REC_DISABLED)) return POLICY_PASS;
	if(r->flags & REC_DAMAGED) return MOSQ_ERR_AUTH;
	if((r->locked_until && r->locked_until > mono_ms()) || policy_locked(p, 'u', username)
			|| policy_locked(p, 'c', clientid)){
		return MOSQ_ERR_AUTH; /* locked out: refused without a request, as the service would */
	}
	unsigned char mac[KEYHASH_LEN];
	if(!keyhash_of(&p->keyhash, password, strlen(password), mac)) return MOSQ_ERR_UNKNOWN;
	if(!password_right(p, r, password, mac)){
		/* a wrong password, or a verifier only the service has: it decides and counts */
		unsigned long seen = atomic_load(&p->queue.pushed);
		enum answer a = checks_user(p->checks, username, password, clientid);
		if(a == ANSWER_ERROR) return MOSQ_ERR_UNKNOWN;
		if(a == ANSWER_DENY) return MOSQ_ERR_AUTH;
		/* the service admitted it: this record's password, unless something changed meanwhile */
		r = records_get(pol->records, username);
		if(r && atomic_load(&p->queue.pushed) == seen) records_set_verified(pol->records, r, mac);
		admit(pol, client, username, clientid, r && atomic_load(&p->queue.pushed) == seen
				? r->cred : NULL);
		return MOSQ_ERR_SUCCESS;
	}
	if(decide_user(r, clientid, mono_ms()) != R_OK) return MOSQ_ERR_AUTH; /* 133, or locked */
	admit(pol, client, username, clientid, r->cred);
	return MOSQ_ERR_SUCCESS;
}

static int acc_of(int access)
{
	switch(access){
		case MOSQ_ACL_READ: return 1;
		case MOSQ_ACL_WRITE: return 2;
		case MOSQ_ACL_SUBSCRIBE: return 4;
		default: return 0;
	}
}

int policy_acl(struct plugin *p, const void *client, const char *username,
		const char *clientid, const char *topic, int access)
{
	struct policy *pol = p->policy;
	if(!policy_usable(p)) return POLICY_PASS;
	struct record *r = policy_record(p, username);
	struct ruleset *common = r ? policy_common(p) : NULL;
	if(!r || !common) return POLICY_PASS;
	struct session *x = sessions_find(pol->sessions, client);
	if(x && x->has_cred && (r->flags & REC_KNOWN) && !(r->flags & REC_DAMAGED)
			&& memcmp(x->cred, r->cred, sizeof x->cred) != 0){
		/* admitted under another cred: rotated or re-bound, its revoke missed (issue 29.1) */
		if(!x->doomed){
			x->doomed = true;
			pol->doomed++;
		}
		return MOSQ_ERR_ACL_DENIED;
	}
	return reason_allows(decide_acl(r, common, clientid, acc_of(access), topic, &pol->scratch))
		? MOSQ_ERR_SUCCESS : MOSQ_ERR_ACL_DENIED;
}
