/* Unit checks of the in-broker policy: the topic algebra, rule sets (interning, %u/%c and the
 * CVE-2017-7650 guards, deny wins, $SYS), record decoding (hostile shapes deny, never crash),
 * the verifier (PBKDF2 against OpenSSL's own output, base64), the record store's bound.
 * Cases from docs/checks.md; test/vectors/ are run by units_vectors.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include "decisions.h"
#include "record_parse.h"
#include "records.h"
#include "rules.h"
#include "sessions.h"
#include "units_policy.h"
#include "verifier.h"

static int failures;
#define CHECK(cond) do{ if(!(cond)){ fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond); failures++; } }while(0)

static bool cov(const char *r, const char *x)
{
	return topic_covers(r, strlen(r), x, strlen(x));
}

static bool meets(const char *a, const char *b)
{
	return topic_intersects(a, strlen(a), b, strlen(b)) && topic_intersects(b, strlen(b), a, strlen(a));
}

static void test_topics(void)
{
	CHECK(topic_valid_filter("a/+/b/#", 7) && topic_valid_filter("#", 1) && topic_valid_filter("+", 1));
	CHECK(!topic_valid_filter("a/#/b", 5) && !topic_valid_filter("a+", 2) && !topic_valid_filter("a/b#", 4));
	CHECK(!topic_valid_filter("", 0) && topic_valid_filter("/", 1) && topic_valid_filter("a//b", 4));
	CHECK(topic_valid_name("a/b", 3) && !topic_valid_name("a/+", 3) && !topic_valid_name("#", 1));
	CHECK(!topic_valid_name("", 0) && !topic_valid_name("a\0b", 3));
	CHECK(cov("a/#", "a") && cov("a/#", "a/b/c") && cov("a/+", "a/b") && !cov("a/+", "a/b/c"));
	CHECK(!cov("a/+", "a/#") && cov("a/#", "a/+") && cov("a/#", "a/#") && !cov("a/b", "a/+"));
	CHECK(cov("+/+", "/x") && !cov("+", "/x") && cov("a//b", "a//b") && !cov("a/b", "a/b/"));
	CHECK(!cov("#", "$SYS/x") && !cov("+/x", "$SYS/x") && cov("$SYS/#", "$SYS/x"));
	CHECK(!cov("#", "$SYS/#") && cov("#", "x/$SYS"));
	CHECK(meets("a/+", "a/#") && meets("a/+/c", "+/b/+") && !meets("a/b", "a/c"));
	CHECK(meets("#", "a") && !meets("#", "$SYS/a") && !meets("+/a", "$SYS/a"));
	CHECK(meets("#", "+/a") && meets("$SYS/#", "$SYS/a") && !meets("a/b", "a/b/c"));
	CHECK(meets("a/#", "a") && !meets("a/+", "a"));
	CHECK(safe_level("dev1") && !safe_level("") && !safe_level("a/b") && !safe_level("a+")
			&& !safe_level("#") && !safe_level(NULL));
}

static struct ruleset *set_of(struct rule_table *t, const char *const *p, const enum access *a,
		size_t n)
{
	struct rule_in in[8];
	for(size_t i = 0; i < n; i++){
		in[i].pattern = p[i];
		in[i].len = strlen(p[i]);
		in[i].access = a[i];
	}
	return rules_intern(t, in, n);
}

static enum verdict vd(const struct ruleset *own, const struct ruleset *common, const char *u,
		const char *c, int acc, const char *topic)
{
	struct buf scratch = {0};
	enum verdict v = rules_verdict(own, common, u, c, acc, topic, &scratch);
	buf_free(&scratch);
	return v;
}

static void test_rules(void)
{
	struct rule_table t;
	CHECK(rule_table_init(&t, 42));
	const char *p1[] = {"devices/%u/#", "cmd/%c/+", "shared/read", "shared/write"};
	const enum access a1[] = {ACCESS_READWRITE, ACCESS_READ, ACCESS_READ, ACCESS_WRITE};
	struct ruleset *own = set_of(&t, p1, a1, 4);
	struct ruleset *again = set_of(&t, p1, a1, 4);
	CHECK(own && own == again && own->refs == 2 && t.count == 1); /* stored once */
	rules_release(&t, again);
	const char *pc[] = {"public/#", "secret/#"};
	const enum access ac[] = {ACCESS_READ, ACCESS_DENY};
	struct ruleset *common = set_of(&t, pc, ac, 2);
	CHECK(common && t.count == 2);

	CHECK(vd(own, common, "dev1", "c1", 2, "devices/dev1/t") == V_ALLOW);
	CHECK(vd(own, common, "dev1", "c1", 1, "devices/dev1/t/x") == V_ALLOW);
	CHECK(vd(own, common, "dev1", "c1", 2, "devices/dev2/t") == V_NO_GRANT);
	CHECK(vd(own, common, "dev1", "c1", 4, "devices/dev1/#") == V_ALLOW);
	CHECK(vd(own, common, "dev1", "c1", 4, "devices/+/#") == V_NO_GRANT);
	CHECK(vd(own, common, "dev1", "c1", 2, "devices/dev1/+") == V_INVALID_TOPIC); /* publish wildcard */
	CHECK(vd(own, common, "dev1", "c1", 4, "a/#/b") == V_INVALID_TOPIC);
	CHECK(vd(own, common, "dev1", "c1", 1, "cmd/c1/go") == V_ALLOW);
	CHECK(vd(own, common, "dev1", "c1", 2, "cmd/c1/go") == V_NO_GRANT); /* read only */
	CHECK(vd(own, common, "dev1", "c1", 1, "cmd/c2/go") == V_NO_GRANT);
	CHECK(vd(own, common, "dev1", "c1", 1, "public/x") == V_ALLOW);
	CHECK(vd(own, common, "dev1", "c1", 4, "public/#") == V_ALLOW);
	CHECK(vd(own, common, "dev1", "c1", 4, "#") == V_DENY_RULE);      /* a deny can match */
	CHECK(vd(own, common, "dev1", "c1", 1, "secret/x") == V_DENY_RULE);
	CHECK(vd(own, common, "dev1", "c1", 3, "shared/read") == V_NO_GRANT);
	CHECK(vd(own, common, "dev1", "c1", 3, "devices/dev1/rw") == V_ALLOW);
	CHECK(vd(own, common, "dev1", "c1", 0, "devices/dev1/rw") == V_BAD_ACC);
	/* CVE-2017-7650: names with wildcards or separators never widen a grant */
	CHECK(vd(own, common, "#", "c1", 2, "devices/x/t") == V_NO_GRANT);
	CHECK(vd(own, common, "+", "c1", 2, "devices/x/t") == V_NO_GRANT);
	CHECK(vd(own, common, "a/b", "c1", 2, "devices/a/b/t") == V_NO_GRANT);
	CHECK(vd(own, common, "dev1", "#", 1, "cmd/x/go") == V_NO_GRANT);
	CHECK(vd(own, common, "dev1", "", 1, "cmd//go") == V_NO_GRANT);
	CHECK(vd(own, common, "dev1", "a/b", 1, "cmd/a/b") == V_NO_GRANT);
	/* a name reading %c is not filled in again */
	CHECK(vd(own, common, "%c", "c1", 2, "devices/%c/x") == V_ALLOW);
	CHECK(vd(own, common, "%c", "c1", 2, "devices/c1/x") == V_NO_GRANT);
	/* denies take odd values literally: they only deny more */
	const char *pd[] = {"#", "blocked/%u/#", "nope/%c"};
	const enum access ad[] = {ACCESS_READWRITE, ACCESS_DENY, ACCESS_DENY};
	struct ruleset *dn = set_of(&t, pd, ad, 3);
	CHECK(vd(dn, NULL, "dev1", "c1", 2, "any/thing") == V_ALLOW);
	CHECK(vd(dn, NULL, "dev1", "c1", 2, "blocked/dev1/x") == V_DENY_RULE);
	CHECK(vd(dn, NULL, "a/b", "c1", 2, "blocked/a/b/x") == V_DENY_RULE);
	CHECK(vd(dn, NULL, "x#", "c1", 2, "any/thing") == V_DENY_UNSAFE);  /* invalid deny: deny all */
	CHECK(vd(dn, NULL, "dev1", "+", 2, "nope/q") == V_DENY_RULE);       /* literal `+` matches */
	CHECK(vd(dn, NULL, "dev1", "c1", 2, "$SYS/x") == V_NO_GRANT);       /* # does not match $SYS */
	/* deny wins wherever it is */
	const char *pw[] = {"a/#", "a/b"};
	const enum access aw[] = {ACCESS_READWRITE, ACCESS_DENY};
	struct ruleset *w = set_of(&t, pw, aw, 2);
	CHECK(vd(w, NULL, "u", "c", 2, "a/b") == V_DENY_RULE && vd(w, NULL, "u", "c", 2, "a/c") == V_ALLOW);
	CHECK(vd(NULL, w, "u", "c", 4, "a/+") == V_DENY_RULE);
	/* an invalid grant grants nothing (`a/#/b` is not `a/#`) */
	const char *pi[] = {"a/#/b"};
	const enum access ai[] = {ACCESS_READWRITE};
	struct ruleset *inv = set_of(&t, pi, ai, 1);
	CHECK(vd(inv, NULL, "u", "c", 2, "a/x/b") == V_NO_GRANT && vd(inv, NULL, "u", "c", 2, "a/z") == V_NO_GRANT);
	/* the empty set is shared too */
	struct ruleset *e1 = rules_intern(&t, NULL, 0), *e2 = rules_intern(&t, NULL, 0);
	CHECK(e1 && e1 == e2 && vd(e1, NULL, "u", "c", 1, "x") == V_NO_GRANT);
	rules_release(&t, e1);
	rules_release(&t, e2);
	rules_release(&t, own);
	rules_release(&t, common);
	rules_release(&t, dn);
	rules_release(&t, w);
	rules_release(&t, inv);
	CHECK(t.count == 0 && t.bytes == 0);
	rule_table_free(&t);
}

static void test_verifier(void)
{
	unsigned char out[64];
	CHECK(base64_decode("aGVsbG8=", 8, out, sizeof out) == 5 && memcmp(out, "hello", 5) == 0);
	CHECK(base64_decode("aGVsbG8", 7, out, sizeof out) == 5);
	CHECK(base64_decode("aGVsbG8==", 9, out, sizeof out) == -1);
	CHECK(base64_decode("aGVsbG9=", 8, out, sizeof out) == -1);   /* non-canonical tail */
	CHECK(base64_decode("a-Vs", 4, out, sizeof out) == -1);       /* url alphabet refused */
	CHECK(base64_decode("aGVsbG8=", 8, out, 4) == -1);            /* does not fit */
	CHECK(base64_decode("", 0, out, sizeof out) == 0);
	const unsigned char salt[12] = "0123456789a";
	unsigned char key[64];
	CHECK(PKCS5_PBKDF2_HMAC("secret", 6, salt, sizeof salt, 1000, EVP_sha512(), 64, key) == 1);
	CHECK(pbkdf2_matches("secret", 6, 1000, salt, sizeof salt, key, 64));
	CHECK(!pbkdf2_matches("secreT", 6, 1000, salt, sizeof salt, key, 64));
	CHECK(!pbkdf2_matches("secret", 6, 999, salt, sizeof salt, key, 64));
	CHECK(!pbkdf2_matches("secret", 6, VERIFIER_MAX_ITERATIONS + 1, salt, sizeof salt, key, 64));
	CHECK(!pbkdf2_matches("secret", 6, 1000, salt, sizeof salt, key, 0));
}

static struct record *parse(struct rule_table *t, const char *json, const char **why)
{
	cJSON *o = cJSON_Parse(json);
	*why = "";
	struct record *r = o ? record_from_json(o, t, 1000, why) : NULL;
	cJSON_Delete(o);
	return r;
}

static void test_parse(void)
{
	struct rule_table t;
	CHECK(rule_table_init(&t, 7));
	const char *why;
	struct buf s = {0};
	/* key = PBKDF2("pw", "salt0123456!", 1000): computed here, not trusted from a fixture */
	unsigned char key[64];
	CHECK(PKCS5_PBKDF2_HMAC("pw", 2, (const unsigned char *)"salt0123456!", 12, 1000, EVP_sha512(),
			64, key) == 1);
	unsigned char b64[100];
	CHECK(EVP_EncodeBlock(b64, key, 64) == 88);
	char json[1024];
	snprintf(json, sizeof json, "{\"username\":\"dev1\",\"known\":true,\"cred\":\"9f3c0a1b2c3d4e5f\","
		"\"disabled\":false,\"superuser\":false,\"clientIds\":[\"%%u-a\",\"b\"],"
		"\"verifier\":{\"kind\":\"pbkdf2-sha512\",\"iterations\":1000,\"salt\":\"c2FsdDAxMjM0NTYh\","
		"\"key\":\"%s\"},\"acl\":[{\"pattern\":\"devices/%%u/#\",\"access\":\"readwrite\"}],"
		"\"lockedMs\":0,\"future\":{\"x\":[1]}}", b64);
	struct record *r = parse(&t, json, &why);
	CHECK(r && r->flags == (REC_KNOWN | REC_PBKDF2) && strcmp(record_name(r), "dev1") == 0);
	CHECK(r && r->cred[0] == 0x9f && r->cred[7] == 0x5f && r->salt_len == 12 && r->key_len == 64);
	CHECK(r && pbkdf2_matches("pw", 2, r->iterations, record_salt(r), r->salt_len, record_key(r),
			r->key_len));
	CHECK(r && record_client_id_ok(r, "dev1-a") && record_client_id_ok(r, "b")
			&& !record_client_id_ok(r, "dev1") && !record_client_id_ok(r, "x-a")
			&& !record_client_id_ok(r, "dev1-ab") && !record_client_id_ok(r, "")
			&& !record_client_id_ok(r, "dev1-"));
	CHECK(r && decide_user(r, "b", 0) == R_OK && decide_user(r, "c", 0) == R_CLIENT_ID);
	CHECK(r && decide_superuser(r) == R_NOT_SUPERUSER);
	CHECK(r && decide_acl(r, NULL, "b", 2, "devices/dev1/x", &s) == R_OK);
	record_free(&t, r);

	/* hostile shapes: each denies that user, none crashes or allows */
	static const char *const bad[] = {
		"{\"username\":\"d\",\"known\":\"yes\"}",
		"{\"username\":\"d\",\"known\":true,\"damaged\":true}",
		"{\"username\":\"d\",\"known\":true,\"cred\":\"xyz\",\"verifier\":{\"kind\":\"service\"},\"acl\":[]}",
		"{\"username\":\"d\",\"known\":true,\"cred\":\"0000000000000000\",\"verifier\":{\"kind\":\"service\"},\"acl\":\"#\"}",
		"{\"username\":\"d\",\"known\":true,\"cred\":\"0000000000000000\",\"verifier\":{\"kind\":\"service\"},\"acl\":[{\"pattern\":\"#\"}]}",
		"{\"username\":\"d\",\"known\":true,\"cred\":\"0000000000000000\",\"verifier\":{\"kind\":\"service\"},\"acl\":[{\"pattern\":\"#\",\"access\":\"all\"}]}",
		"{\"username\":\"d\",\"known\":true,\"cred\":\"0000000000000000\",\"verifier\":{\"kind\":\"service\"},\"acl\":[],\"clientIds\":\"c\"}",
		"{\"username\":\"d\",\"known\":true,\"cred\":\"0000000000000000\",\"verifier\":{\"kind\":\"service\"},\"acl\":[],\"disabled\":1}",
		"{\"username\":\"d\",\"known\":true,\"cred\":\"0000000000000000\",\"verifier\":{\"kind\":\"pbkdf2-sha512\",\"iterations\":1000,\"salt\":\"!!\",\"key\":\"AAAA\"},\"acl\":[]}",
		"{\"username\":\"d\",\"known\":true,\"cred\":\"0000000000000000\",\"verifier\":{\"kind\":\"pbkdf2-sha512\",\"iterations\":-5,\"salt\":\"AAAA\",\"key\":\"AAAAAAAAAAAAAAAAAAAAAA==\"},\"acl\":[]}",
		"{\"username\":\"d\",\"known\":true,\"cred\":\"0000000000000000\",\"verifier\":{\"kind\":\"pbkdf2-sha512\",\"iterations\":1.5,\"salt\":\"AAAA\",\"key\":\"AAAAAAAAAAAAAAAAAAAAAA==\"},\"acl\":[]}",
		"{\"username\":\"d\",\"known\":true,\"cred\":\"0000000000000000\",\"verifier\":null,\"acl\":[]}",
		"{\"username\":\"d\",\"known\":true,\"cred\":\"0000000000000000\",\"verifier\":{\"kind\":\"service\"},\"acl\":[],\"lockedMs\":\"5\"}",
	};
	for(size_t i = 0; i < sizeof bad / sizeof bad[0]; i++){
		r = parse(&t, bad[i], &why);
		CHECK(r && (r->flags & REC_DAMAGED) && why[0]);
		CHECK(r && !reason_allows(decide_user(r, "c", 0)) && !reason_allows(decide_superuser(r))
				&& !reason_allows(decide_acl(r, NULL, "c", 1, "x", &s)));
		record_free(&t, r);
	}
	CHECK(!parse(&t, "{\"known\":true}", &why) && why[0]);
	CHECK(!parse(&t, "[1,2]", &why));
	r = parse(&t, "{\"username\":\"gone\",\"known\":false}", &why);
	CHECK(r && !(r->flags & REC_KNOWN) && decide_user(r, "c", 0) == R_UNKNOWN);
	record_free(&t, r);
	/* a dear hash is left to the service; a future kind too */
	r = parse(&t, "{\"username\":\"d\",\"known\":true,\"cred\":\"0000000000000000\",\"verifier\":"
		"{\"kind\":\"pbkdf2-sha512\",\"iterations\":1000000,\"salt\":\"AAAA\",\"key\":"
		"\"AAAAAAAAAAAAAAAAAAAAAA==\"},\"acl\":[],\"superuser\":true,\"lockedMs\":250}", &why);
	CHECK(r && r->flags == (REC_KNOWN | REC_SUPERUSER) && r->locked_until == 1250
			&& decide_superuser(r) == R_SUPERUSER && decide_user(r, "c", 1000) == R_LOCKED
			&& decide_user(r, "c", 1250) == R_OK);
	record_free(&t, r);
	r = parse(&t, "{\"username\":\"d\",\"known\":true,\"cred\":\"0000000000000000\",\"verifier\":"
		"{\"kind\":\"argon9\"},\"acl\":[],\"disabled\":true}", &why);
	CHECK(r && r->flags == (REC_KNOWN | REC_DISABLED) && decide_user(r, "c", 0) == R_DISABLED
			&& decide_acl(r, NULL, "c", 1, "x", &s) == R_DISABLED);
	record_free(&t, r);
	CHECK(json_has_escaped_nul("{\"a\":\"x\\u0000\"}", 15) && !json_has_escaped_nul("\"\\\\u0000\"", 9));
	CHECK(t.count == 0);
	buf_free(&s);
	rule_table_free(&t);
}

static void test_store(void)
{
	struct rule_table t;
	CHECK(rule_table_init(&t, 3));
	struct records *s = records_new(4096, 9, &t);
	CHECK(s != NULL);
	char name[32];
	for(int i = 0; i < 100; i++){
		snprintf(name, sizeof name, "dev%d", i);
		struct record *r = record_alloc(name, 0, 0);
		r->flags = REC_KNOWN;
		records_put(s, r);
		if(i == 0) records_pin(s, name, true); /* pinned: never evicted */
	}
	CHECK(records_bytes(s) + t.bytes <= 4096 && records_count(s) < 100);
	CHECK(records_get(s, "dev0") && records_get(s, "dev99") && !records_get(s, "dev1"));
	struct record *r = record_alloc("dev0", 0, 0);
	r->cred[0] = 1;
	records_put(s, r); /* the session count moves over */
	CHECK(records_get(s, "dev0")->sessions == 1);
	records_pin(s, "dev0", false);
	CHECK(records_get(s, "dev0")->sessions == 0);
	CHECK(records_drop(s, "dev0") && !records_get(s, "dev0") && !records_drop(s, "dev0"));
	records_clear(s);
	CHECK(records_count(s) == 0 && records_bytes(s) == 0);
	records_free(s);
	rule_table_free(&t);
}

static void test_sessions(void)
{
	struct sessions *s = sessions_new(11);
	CHECK(s != NULL);
	int clients[600];
	const uint8_t cred[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	char name[32];
	for(int i = 0; i < 600; i++){ /* past the first table size: it grows */
		snprintf(name, sizeof name, "u%d", i % 7);
		CHECK(sessions_add(s, &clients[i], name, "cid", i % 2 ? cred : NULL) != NULL);
	}
	CHECK(sessions_count(s) == 600);
	struct session *x = sessions_find(s, &clients[3]);
	CHECK(x && strcmp(x->username, "u3") == 0 && x->has_cred && x->cred[7] == 8);
	CHECK(sessions_find(s, &clients[4]) && !sessions_find(s, &clients[4])->has_cred);
	/* the same client pointer again (a missed DISCONNECT): replaced, not added */
	CHECK(sessions_add(s, &clients[3], "other", "c2", NULL) && sessions_count(s) == 600);
	CHECK(strcmp(sessions_find(s, &clients[3])->username, "other") == 0);
	CHECK(sessions_remove(s, &clients[3], NULL, NULL) && !sessions_find(s, &clients[3]));
	CHECK(!sessions_remove(s, &clients[3], NULL, NULL) && sessions_count(s) == 599);
	sessions_free(s);
}

int units_policy(void)
{
	failures = 0;
	test_topics();
	test_rules();
	test_verifier();
	test_parse();
	test_store();
	test_sessions();
	return failures;
}
