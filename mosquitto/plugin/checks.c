#include "checks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include "buf.h"
#include "events.h"
#include "failover.h"
#include "json.h"
#include "shutdown.h"

enum which { W_USER, W_SUPERUSER, W_ACL };

struct target {
	struct buf url[3]; /* by enum which */
};

struct checks {
	CURL *curl;
	struct curl_slist *headers;
	struct target *targets; /* plugin_opt_url's list, preferred first */
	size_t n;
	struct failover order;  /* which one to ask first (failover.c) */
	long timeout_ms;        /* the whole budget of one check, all URLs together */
	struct buf body;
	char error[CURL_ERROR_SIZE + 32]; /* why the last request failed */
};

static size_t discard(char *data, size_t size, size_t n, void *user)
{
	(void)data;
	(void)user;
	return size * n;
}

/* ?response=status: the answer is the status whatever CHECK_RESPONSE_MODE go-auth uses. */
static bool endpoint(struct buf *b, const char *url, const char *path)
{
	return buf_add_str(b, url) && buf_add_str(b, path) && buf_add_str(b, "?response=status");
}

struct curl_slist *auth_header_append(struct curl_slist *h, const char *token)
{
	if(!token) return h;
	struct buf line = {0};
	struct curl_slist *out = NULL;
	if(buf_add_str(&line, "Authorization: Bearer ") && buf_add_str(&line, token)){
		out = curl_slist_append(h, line.data);
	}
	if(line.data) memset(line.data, 0, line.cap);
	buf_free(&line);
	if(!out) headers_free_wiped(h);
	return out;
}

void headers_free_wiped(struct curl_slist *h)
{
	for(struct curl_slist *i = h; i; i = i->next) memset(i->data, 0, strlen(i->data));
	curl_slist_free_all(h);
}

struct checks *checks_new(const char *url, long timeout_ms, const char *token)
{
	struct checks *c = calloc(1, sizeof *c);
	if(!c) return NULL;
	c->timeout_ms = timeout_ms;
	size_t n = 1;
	for(const char *q = url; *q; q++) n += *q == ',';
	if(!(c->targets = calloc(n, sizeof *c->targets))){
		free(c);
		return NULL;
	}
	c->n = n;
	failover_init(&c->order, n);
	const char *p = url;
	for(size_t i = 0; i < n; i++){
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		struct buf base = {0};
		bool ok = buf_add(&base, p, len) && buf_add_char(&base, '\0')
			&& endpoint(&c->targets[i].url[W_USER], base.data, "/mqtt/user")
			&& endpoint(&c->targets[i].url[W_SUPERUSER], base.data, "/mqtt/superuser")
			&& endpoint(&c->targets[i].url[W_ACL], base.data, "/mqtt/acl");
		buf_free(&base);
		if(!ok){
			checks_free(c);
			return NULL;
		}
		p = end ? end + 1 : p + len;
	}
	if(!(c->curl = curl_easy_init())){
		checks_free(c);
		return NULL;
	}
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	struct curl_slist *h2 = h ? curl_slist_append(h, "Expect:") : NULL; /* no 100-continue */
	if(!h2) curl_slist_free_all(h);
	struct curl_slist *h3 = h2 ? auth_header_append(h2, token) : NULL;
	if(!h3){
		checks_free(c);
		return NULL;
	}
	c->headers = h3;
	CURL *e = c->curl;
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->headers);
	curl_easy_setopt(e, CURLOPT_POST, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "mqtt-authd-plugin/1");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->error);
	shutdown_cancels(e); /* SIGTERM aborts a check in flight */
	return c;
}

CURL *checks_handle(struct checks *c)
{
	return c->curl;
}

void checks_free(struct checks *c)
{
	if(!c) return;
	if(c->curl) curl_easy_cleanup(c->curl);
	headers_free_wiped(c->headers);
	for(size_t i = 0; c->targets && i < c->n; i++){
		for(int w = 0; w < 3; w++) buf_free(&c->targets[i].url[w]);
	}
	free(c->targets);
	if(c->body.data) memset(c->body.data, 0, c->body.cap); /* it held a password */
	buf_free(&c->body);
	free(c);
}

/* One request to one URL within `budget_ms`: ALLOW (2xx), DENY (4xx), or ERROR (no answer,
 * or 5xx: that process cannot decide). */
static enum answer post_one(struct checks *c, const struct buf *url, long budget_ms)
{
	long status = 0;
	c->error[0] = '\0';
	curl_easy_setopt(c->curl, CURLOPT_URL, url->data);
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, budget_ms);
	curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS, budget_ms);
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, c->body.data);
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE, (long)c->body.len);
	CURLcode rc = curl_easy_perform(c->curl);
	if(rc != CURLE_OK){
		if(!c->error[0]) snprintf(c->error, sizeof c->error, "%s", curl_easy_strerror(rc));
		return ANSWER_ERROR;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
	if(status >= 200 && status < 300) return ANSWER_ALLOW;
	if(status >= 400 && status < 500) return ANSWER_DENY;
	/* 5xx: the service cannot decide; never an allow, never cached */
	snprintf(c->error, sizeof c->error, "HTTP %ld from %s", status, url->data);
	return ANSWER_ERROR;
}

/* The check against the entry failover.c names first, then the others in order, all within
 * request_timeout_ms: attempt k of the n gets an equal share of what is left, so a hanging URL
 * cannot eat the whole budget. */
static enum answer post(struct checks *c, enum which w)
{
	int64_t start = mono_ms(), deadline = start + c->timeout_ms;
	bool probing;
	size_t first = failover_first(&c->order, start, &probing);
	enum answer a = ANSWER_ERROR;
	for(size_t k = 0; k < c->n; k++){
		size_t i = failover_nth(first, k);
		long left = (long)(deadline - mono_ms());
		if(left <= 0) break;
		long slice = left / (long)(c->n - k);
		a = post_one(c, &c->targets[i].url[w], slice > 0 ? slice : 1);
		if(a != ANSWER_ERROR){
			failover_answered(&c->order, i, k, probing, mono_ms());
			break;
		}
	}
	memset(c->body.data, 0, c->body.len);
	return a;
}

void checks_follow(struct checks *c, long at)
{
	failover_follow(&c->order, at);
}

const char *checks_error(const struct checks *c)
{
	return c->error[0] ? c->error : "out of memory";
}

/* Appends `"name":<string>` with a comma before it unless first. */
static bool field(struct buf *b, const char *name, const char *value, bool first)
{
	return (first || buf_add_char(b, ','))
		&& json_add_string(b, name) && buf_add_char(b, ':') && json_add_string(b, value);
}

enum answer checks_user(struct checks *c, const char *username, const char *password,
		const char *clientid)
{
	buf_reset(&c->body);
	if(!buf_add_char(&c->body, '{') || !field(&c->body, "username", username, true)
			|| !field(&c->body, "password", password, false)
			|| !field(&c->body, "clientid", clientid, false) || !buf_add_char(&c->body, '}')){
		if(c->body.data) memset(c->body.data, 0, c->body.len);
		return ANSWER_ERROR;
	}
	return post(c, W_USER);
}

enum answer checks_superuser(struct checks *c, const char *username)
{
	buf_reset(&c->body);
	if(!buf_add_char(&c->body, '{') || !field(&c->body, "username", username, true)
			|| !buf_add_char(&c->body, '}')) return ANSWER_ERROR;
	return post(c, W_SUPERUSER);
}

enum answer checks_acl(struct checks *c, const char *username, const char *clientid,
		const char *topic, int acc)
{
	char accs[16];
	snprintf(accs, sizeof accs, ",\"acc\":%d}", acc);
	buf_reset(&c->body);
	if(!buf_add_char(&c->body, '{') || !field(&c->body, "username", username, true)
			|| !field(&c->body, "clientid", clientid, false)
			|| !field(&c->body, "topic", topic, false) || !buf_add_str(&c->body, accs)){
		return ANSWER_ERROR;
	}
	return post(c, W_ACL);
}
