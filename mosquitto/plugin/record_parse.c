#include "record_parse.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "verifier.h"

bool json_has_escaped_nul(const char *s, size_t n)
{
	for(size_t i = 0; i + 5 < n; i++){
		if(s[i] != '\\') continue;
		if(s[i + 1] == 'u' && s[i + 2] == '0' && s[i + 3] == '0' && s[i + 4] == '0'
				&& s[i + 5] == '0') return true;
		i++; /* the escaped character: `\\u0000` is a backslash and text */
	}
	return false;
}

static bool access_of(const char *s, enum access *a)
{
	static const struct { const char *name; enum access a; } names[] = {
		{"read", ACCESS_READ}, {"write", ACCESS_WRITE}, {"readwrite", ACCESS_READWRITE},
		{"deny", ACCESS_DENY},
	};
	for(size_t i = 0; i < sizeof names / sizeof names[0]; i++){
		if(strcmp(s, names[i].name) == 0){
			*a = names[i].a;
			return true;
		}
	}
	return false;
}

struct ruleset *rules_from_json(const cJSON *a, struct rule_table *t, const char **why)
{
	if(!cJSON_IsArray(a)){
		*why = "acl is not a list";
		return NULL;
	}
	int n = cJSON_GetArraySize(a);
	struct rule_in *in = n > 0 ? calloc((size_t)n, sizeof *in) : NULL;
	if(n > 0 && !in){
		*why = "out of memory";
		return NULL;
	}
	int i = 0;
	const cJSON *r;
	cJSON_ArrayForEach(r, a){
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(r, "pattern");
		const cJSON *acc = cJSON_GetObjectItemCaseSensitive(r, "access");
		if(!cJSON_IsString(p) || !cJSON_IsString(acc) || !access_of(acc->valuestring, &in[i].access)){
			free(in);
			*why = "acl holds a rule without a pattern string or a known access";
			return NULL;
		}
		in[i].pattern = p->valuestring;
		in[i].len = strlen(p->valuestring);
		i++;
	}
	struct ruleset *rs = rules_intern(t, in, (size_t)n);
	free(in);
	if(!rs) *why = "out of memory";
	return rs;
}

static int hexval(char c)
{
	if(c >= '0' && c <= '9') return c - '0';
	if(c >= 'a' && c <= 'f') return c - 'a' + 10;
	if(c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

static bool cred_of(const cJSON *c, uint8_t out[8])
{
	if(!cJSON_IsString(c) || strlen(c->valuestring) != 16) return false;
	for(int i = 0; i < 8; i++){
		int hi = hexval(c->valuestring[2 * i]), lo = hexval(c->valuestring[2 * i + 1]);
		if(hi < 0 || lo < 0) return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

/* "a\0b\0\0" from a list of strings; *out NULL for an empty list. */
static bool client_ids_of(const cJSON *a, char **out, const char **why)
{
	*out = NULL;
	if(!a || cJSON_IsNull(a)) return true;
	if(!cJSON_IsArray(a)){
		*why = "clientIds is not a list";
		return false;
	}
	size_t total = 1;
	const cJSON *c;
	cJSON_ArrayForEach(c, a){
		if(!cJSON_IsString(c) || c->valuestring[0] == '\0'){
			*why = "clientIds holds something other than a non-empty string";
			return false;
		}
		total += strlen(c->valuestring) + 1;
	}
	if(total == 1) return true;
	char *buf = malloc(total), *p = buf;
	if(!buf){
		*why = "out of memory";
		return false;
	}
	cJSON_ArrayForEach(c, a){
		size_t n = strlen(c->valuestring) + 1;
		memcpy(p, c->valuestring, n);
		p += n;
	}
	*p = '\0';
	*out = buf;
	return true;
}

static bool is_bool(const cJSON *o, const char *name, bool *v)
{
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(o, name);
	if(!b){
		*v = false;
		return true;
	}
	if(!cJSON_IsBool(b)) return false;
	*v = cJSON_IsTrue(b);
	return true;
}

/* A record that denies everything, its reason in *why (already set). */
static struct record *damaged(const char *username)
{
	struct record *r = record_alloc(username, 0, 0);
	if(r) r->flags = REC_KNOWN | REC_DAMAGED;
	return r;
}

struct record *record_from_json(const cJSON *o, struct rule_table *t, int64_t now_ms,
		const char **why)
{
	const cJSON *u = cJSON_GetObjectItemCaseSensitive(o, "username");
	if(!cJSON_IsObject(o) || !cJSON_IsString(u)){
		*why = "a record without a username";
		return NULL;
	}
	const char *name = u->valuestring;
	const cJSON *known = cJSON_GetObjectItemCaseSensitive(o, "known");
	if(!cJSON_IsBool(known)){
		*why = "known is not true or false";
		return damaged(name);
	}
	if(cJSON_IsFalse(known)){
		struct record *r = record_alloc(name, 0, 0);
		if(!r) *why = "out of memory";
		return r;
	}
	bool dmg = false, disabled = false, superuser = false;
	if(!is_bool(o, "damaged", &dmg) || dmg){
		*why = "the service says the stored record does not decode";
		return damaged(name);
	}
	if(!is_bool(o, "disabled", &disabled) || !is_bool(o, "superuser", &superuser)){
		*why = "disabled or superuser is not true or false";
		return damaged(name);
	}
	uint8_t cred[8];
	if(!cred_of(cJSON_GetObjectItemCaseSensitive(o, "cred"), cred)){
		*why = "cred is not 16 hex digits";
		return damaged(name);
	}
	const cJSON *locked = cJSON_GetObjectItemCaseSensitive(o, "lockedMs");
	if(locked && (!cJSON_IsNumber(locked) || locked->valuedouble < 0
			|| locked->valuedouble > 1e12)){
		*why = "lockedMs is not a number of milliseconds";
		return damaged(name);
	}
	/* the verifier: salt and key decoded into the record, or "ask the service" */
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "verifier");
	const cJSON *kind = cJSON_GetObjectItemCaseSensitive(v, "kind");
	if(!cJSON_IsObject(v) || !cJSON_IsString(kind)){
		*why = "verifier has no kind";
		return damaged(name);
	}
	unsigned char salt[VERIFIER_MAX_SALT], key[VERIFIER_MAX_KEY];
	long sl = 0, kl = 0;
	uint32_t iterations = 0;
	bool pbkdf2 = strcmp(kind->valuestring, "pbkdf2-sha512") == 0;
	if(pbkdf2){
		const cJSON *it = cJSON_GetObjectItemCaseSensitive(v, "iterations");
		const cJSON *s = cJSON_GetObjectItemCaseSensitive(v, "salt");
		const cJSON *k = cJSON_GetObjectItemCaseSensitive(v, "key");
		if(!cJSON_IsNumber(it) || it->valuedouble < 1 || it->valuedouble > 4294967295.0
				|| it->valuedouble != (double)(uint32_t)it->valuedouble
				|| !cJSON_IsString(s) || !cJSON_IsString(k)
				|| (sl = base64_decode(s->valuestring, strlen(s->valuestring), salt, sizeof salt)) < 1
				|| (kl = base64_decode(k->valuestring, strlen(k->valuestring), key, sizeof key)) < 16){
			*why = "verifier pbkdf2-sha512 without iterations, a base64 salt and a 16-64 byte key";
			return damaged(name);
		}
		iterations = (uint32_t)it->valuedouble;
		/* dearer than the broker may spend: the service verifies it */
		if(iterations > VERIFIER_MAX_ITERATIONS) pbkdf2 = false;
	}
	if(!pbkdf2) sl = kl = 0; /* "service" or a kind from the future: the service decides */
	struct ruleset *acl = rules_from_json(cJSON_GetObjectItemCaseSensitive(o, "acl"), t, why);
	if(!acl) return damaged(name);
	char *cids = NULL;
	if(!client_ids_of(cJSON_GetObjectItemCaseSensitive(o, "clientIds"), &cids, why)){
		rules_release(t, acl);
		return damaged(name);
	}
	struct record *r = record_alloc(name, (size_t)sl, (size_t)kl);
	if(!r){
		rules_release(t, acl);
		free(cids);
		*why = "out of memory";
		return NULL;
	}
	memcpy((unsigned char *)record_salt(r), salt, (size_t)sl);
	memcpy((unsigned char *)record_key(r), key, (size_t)kl);
	memset(key, 0, sizeof key);
	r->iterations = iterations;
	r->acl = acl;
	r->client_ids = cids;
	memcpy(r->cred, cred, sizeof cred);
	r->flags = REC_KNOWN | (disabled ? REC_DISABLED : 0) | (superuser ? REC_SUPERUSER : 0)
		| (pbkdf2 ? REC_PBKDF2 : 0);
	if(locked && locked->valuedouble > 0){
		r->locked_until = now_ms + (int64_t)locked->valuedouble;
	}
	return r;
}
