/* The decision vectors shared with the TypeScript side (test/vectors/README.md): every case of
 * decisions.json decided by decisions.c, every case of verifiers.json by verifier.c; prints how
 * many agree and fails on any disagreement. Missing files are said, not passed over silently. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "decisions.h"
#include "record_parse.h"
#include "units_policy.h"
#include "verifier.h"

static char *slurp(const char *dir, const char *name)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "rb");
	if(!f) return NULL;
	struct buf b = {0};
	char chunk[65536];
	size_t n;
	while((n = fread(chunk, 1, sizeof chunk, f)) > 0){
		if(!buf_add(&b, chunk, n)) break;
	}
	fclose(f);
	if(!buf_add_char(&b, '\0')){
		buf_free(&b);
		return NULL;
	}
	return b.data;
}

static const char *str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* One case: 1 agrees, 0 disagrees (printed). */
static int decide_case(cJSON *c, struct rule_table *t, struct buf *scratch)
{
	const char *name = str(c, "name");
	const cJSON *req = cJSON_GetObjectItemCaseSensitive(c, "request");
	const cJSON *exp = cJSON_GetObjectItemCaseSensitive(c, "expect");
	const char *kind = str(req, "kind");
	const char *cid = str(req, "clientid");
	const char *topic = str(req, "topic");
	const cJSON *acc = cJSON_GetObjectItemCaseSensitive(req, "acc");
	const cJSON *allow = cJSON_GetObjectItemCaseSensitive(exp, "allow");
	if(!kind || !cJSON_IsBool(allow)){
		fprintf(stderr, "vectors: case %s: no request.kind or expect.allow\n", name ? name : "?");
		return 0;
	}
	const char *why = "";
	/* the vectors leave out what only sessions and passwords need: as the service serves it */
	cJSON *rec = cJSON_GetObjectItemCaseSensitive(c, "record");
	if(cJSON_IsObject(rec) && !cJSON_HasObjectItem(rec, "cred")){
		cJSON_AddStringToObject(rec, "cred", "0000000000000000");
	}
	if(cJSON_IsObject(rec) && !cJSON_HasObjectItem(rec, "verifier")){
		cJSON *v = cJSON_AddObjectToObject(rec, "verifier");
		if(v) cJSON_AddStringToObject(v, "kind", "service");
	}
	struct record *r = record_from_json(rec, t, 0, &why);
	const char *cwhy = "";
	const cJSON *cj = cJSON_GetObjectItemCaseSensitive(c, "common");
	/* damaged common rules grant nothing; each device's own still apply */
	struct ruleset *common = cj ? rules_from_json(cj, t, &cwhy) : NULL;
	enum reason got;
	if(strcmp(kind, "user") == 0) got = decide_user(r, cid ? cid : "", 0);
	else if(strcmp(kind, "superuser") == 0) got = decide_superuser(r);
	else if(strcmp(kind, "acl") == 0){
		got = decide_acl(r, common, cid ? cid : "", cJSON_IsNumber(acc) ? acc->valueint : 0,
				topic ? topic : "", scratch);
	}else{
		got = R_BAD_ACC;
		fprintf(stderr, "vectors: case %s: kind %s unknown\n", name ? name : "?", kind);
	}
	rules_release(t, common);
	record_free(t, r);
	const char *want = str(exp, "reason");
	bool ok = reason_allows(got) == cJSON_IsTrue(allow) && want && strcmp(want, reason_name(got)) == 0;
	if(!ok){
		fprintf(stderr, "vectors: DISAGREE %s: C %s (%s), TypeScript %s (%s)\n", name ? name : "?",
				reason_allows(got) ? "allow" : "deny", reason_name(got),
				cJSON_IsTrue(allow) ? "allow" : "deny", want ? want : "");
	}
	return ok;
}

static int run_decisions(const char *dir)
{
	char *text = slurp(dir, "decisions.json");
	if(!text){
		fprintf(stderr, "vectors: %s/decisions.json not found\n", dir);
		return 1;
	}
	cJSON *doc = cJSON_Parse(text);
	free(text);
	cJSON *cases = cJSON_GetObjectItemCaseSensitive(doc, "cases");
	if(!cJSON_IsArray(cases)){
		fprintf(stderr, "vectors: decisions.json has no cases list\n");
		cJSON_Delete(doc);
		return 1;
	}
	struct rule_table t;
	struct buf scratch = {0};
	if(!rule_table_init(&t, 1)){
		cJSON_Delete(doc);
		return 1;
	}
	int n = 0, agree = 0;
	cJSON *c;
	cJSON_ArrayForEach(c, cases){
		n++;
		agree += decide_case(c, &t, &scratch);
	}
	int leaked = t.count != 0;
	buf_free(&scratch);
	rule_table_free(&t);
	cJSON_Delete(doc);
	printf("vectors: decisions %d cases, %d agree, %d disagree\n", n, agree, n - agree);
	return (n - agree) + leaked + (n == 0);
}

/* One verifiers.json case through the production path: the verifier inside a record as the
 * records endpoint serves it, decoded by record_from_json, then PBKDF2 against the record. */
static bool verifier_case(const cJSON *c, struct rule_table *t)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, "verifier");
	const char *right = str(c, "right"), *kind = str(v, "kind");
	const cJSON *wrong = cJSON_GetObjectItemCaseSensitive(c, "wrong");
	if(!kind || !right || !cJSON_IsArray(wrong) || cJSON_GetArraySize(wrong) == 0) return false;
	cJSON *rec = cJSON_CreateObject();
	cJSON *vc = cJSON_Duplicate(v, 1);
	if(!rec || !vc || !cJSON_AddStringToObject(rec, "username", "v")
			|| !cJSON_AddBoolToObject(rec, "known", 1)
			|| !cJSON_AddStringToObject(rec, "cred", "0123456789abcdef")
			|| !cJSON_AddArrayToObject(rec, "acl")){
		cJSON_Delete(rec);
		cJSON_Delete(vc);
		return false;
	}
	cJSON_AddItemToObject(rec, "verifier", vc);
	const char *why = "";
	struct record *r = record_from_json(rec, t, 0, &why);
	cJSON_Delete(rec);
	bool ok = r && !(r->flags & REC_DAMAGED);
	if(ok && strcmp(kind, "pbkdf2-sha512") == 0){
		ok = (r->flags & REC_PBKDF2) && pbkdf2_matches(right, strlen(right), r->iterations,
				record_salt(r), r->salt_len, record_key(r), r->key_len);
		const cJSON *w;
		cJSON_ArrayForEach(w, wrong){
			ok = ok && cJSON_IsString(w) && !pbkdf2_matches(w->valuestring, strlen(w->valuestring),
					r->iterations, record_salt(r), r->salt_len, record_key(r), r->key_len);
		}
	}else if(ok){
		ok = !(r->flags & REC_PBKDF2); /* `service`: the broker asks the service */
	}
	record_free(t, r);
	return ok;
}

/* The UTF-16 unit of a `\uXXXX` escape at s, or -1. */
static long unit_at(const char *s)
{
	if(s[0] != '\\' || s[1] != 'u') return -1;
	long v = 0;
	for(int i = 2; i < 6; i++){
		char c = s[i];
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if(d < 0) return -1;
		v = v * 16 + d;
	}
	return v;
}

/* Some wrong passwords are lone UTF-16 surrogates (a JavaScript string can hold one), which
 * cJSON refuses and MQTT cannot carry: each becomes U+FFFD, still a wrong password. */
static void replace_lone_surrogates(char *s)
{
	for(size_t i = 0; s[i]; i++){
		if(s[i] == '\\' && s[i + 1] == '\\'){
			i++;
			continue;
		}
		long u = unit_at(s + i);
		if(u >= 0xd800 && u <= 0xdbff && unit_at(s + i + 6) >= 0xdc00 && unit_at(s + i + 6) <= 0xdfff){
			i += 11;
		}else if(u >= 0xd800 && u <= 0xdfff){
			memcpy(s + i, "\\ufffd", 6);
			i += 5;
		}
	}
}

static int run_verifiers(const char *dir)
{
	char *text = slurp(dir, "verifiers.json");
	if(!text){
		fprintf(stderr, "vectors: %s/verifiers.json not found\n", dir);
		return 1;
	}
	replace_lone_surrogates(text);
	cJSON *doc = cJSON_Parse(text);
	free(text);
	struct rule_table t;
	if(!rule_table_init(&t, 2)){
		cJSON_Delete(doc);
		return 1;
	}
	const cJSON *cases = cJSON_GetObjectItemCaseSensitive(doc, "cases");
	int n = 0, agree = 0;
	const cJSON *c;
	cJSON_ArrayForEach(c, cases){
		n++;
		bool ok = verifier_case(c, &t);
		if(!ok) fprintf(stderr, "vectors: DISAGREE verifier %s\n", str(c, "name") ? str(c, "name") : "?");
		agree += ok;
	}
	int leaked = t.count != 0;
	rule_table_free(&t);
	cJSON_Delete(doc);
	printf("vectors: verifiers %d cases, %d agree, %d disagree\n", n, agree, n - agree);
	return (n - agree) + (n == 0) + leaked;
}

int units_vectors(const char *dir)
{
	return run_decisions(dir) + run_verifiers(dir);
}
