/* The default revalidation (weak: the broker's policy, sessions.c and policy_sync.c, replaces
 * it with one that also compares each session's `cred`). The answer cache is emptied by the
 * caller; here the connected user names go to `POST /mqtt/records` (100 a request, the stream's
 * process first) and every session of a name that is now unknown, disabled or damaged is
 * disconnected. A service without the records endpoint (404) or without BROKER_TOKEN_SHA256
 * (403) cannot say: those sessions stay, denied every check by the service, and the log says
 * so. */
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include <mosquitto.h>
#include <mosquitto_broker.h>
#include "json.h"
#include "plugin.h"
#include "revalidate.h"

#define WEAK __attribute__((weak))
#define BATCH 100
#define MAX_ANSWER (64u * 1024 * 1024)

WEAK void policy_admitted(struct plugin *p, const void *client, const char *username,
		const char *clientid)
{
	(void)clientid;
	clients_put(p->clients, client, username);
}

WEAK void policy_disconnect(struct plugin *p, const void *client)
{
	clients_drop(p->clients, client);
}

static size_t collect(char *data, size_t size, size_t n, void *user)
{
	struct buf *b = user;
	size_t len = size * n;
	if(b->len + len > MAX_ANSWER || !buf_add(b, data, len)) return 0;
	return len;
}

/* POST {"usernames":[...]} to <base>/mqtt/records; the HTTP status (0: no answer). */
static long post_records(CURL *curl, const char *base, size_t baselen, struct buf *req,
		struct buf *answer, long timeout_ms)
{
	struct buf url = {0};
	long status = 0;
	if(buf_add(&url, base, baselen) && buf_add_str(&url, "/mqtt/records")){
		buf_reset(answer);
		curl_easy_setopt(curl, CURLOPT_URL, url.data);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req->data);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)req->len);
		curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
		curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
		if(curl_easy_perform(curl) == CURLE_OK){
			curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
		}
	}
	buf_free(&url);
	return status;
}

/* Entry i of plugin_opt_url's list ("u1,u2,..."). */
static bool url_entry(const char *list, size_t i, const char **u, size_t *n)
{
	const char *p = list;
	for(; i > 0; i--){
		if(!(p = strchr(p, ','))) return false;
		p++;
	}
	const char *end = strchr(p, ',');
	*u = p;
	*n = end ? (size_t)(end - p) : strlen(p);
	return true;
}

/* Kicks the revoked of one answer; the number kicked. */
static size_t judge(const struct buf *answer)
{
	const char *arr, *arrend, *at = NULL, *v, *vend, *f, *fend;
	size_t kicked = 0;
	struct buf name = {0};
	if(!json_member(answer->data, answer->len, "records", &arr, &arrend)) return 0;
	while(json_next(arr, arrend, &at, &v, &vend)){
		buf_reset(&name);
		size_t n = (size_t)(vend - v);
		if(!json_member(v, n, "username", &f, &fend) || !json_string(f, fend, &name)) continue;
		bool known = json_member(v, n, "known", &f, &fend) && json_true(f, fend);
		bool disabled = json_member(v, n, "disabled", &f, &fend) && json_true(f, fend);
		bool damaged = json_member(v, n, "damaged", &f, &fend) && json_true(f, fend);
		if(!known || disabled || damaged){
			mosquitto_kick_client_by_username(name.data, false);
			kicked++;
		}
	}
	buf_free(&name);
	return kicked;
}

WEAK void policy_revalidate_all(struct plugin *p)
{
	size_t n = 0;
	char **names = clients_names(p->clients, &n);
	if(!names) return; /* nobody connected (or out of memory: nothing to walk) */
	CURL *curl = curl_easy_init();
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	struct curl_slist *h2 = h ? curl_slist_append(h, "Expect:") : NULL;
	if(!h2) curl_slist_free_all(h);
	struct curl_slist *headers = h2 ? auth_header_append(h2, p->opts.token) : NULL;
	struct buf req = {0}, answer = {0};
	size_t kicked = 0, asked = 0, urls = 1;
	long status = 0;
	for(const char *c = p->opts.url; *c; c++) urls += *c == ',';
	if(curl && headers){
		curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
		curl_easy_setopt(curl, CURLOPT_USERAGENT, "mqtt-authd-plugin/1");
		curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
		curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);
		long first = events_at(p->events);
		for(size_t i = 0; i < n; i += BATCH){
			buf_reset(&req);
			bool ok = buf_add_str(&req, "{\"usernames\":[");
			for(size_t k = i; ok && k < n && k < i + BATCH; k++){
				ok = (k == i || buf_add_char(&req, ',')) && json_add_string(&req, names[k]);
			}
			if(!ok || !buf_add_str(&req, "]}")) break;
			/* the stream's process first (its answers are as fresh as its events), then the rest */
			status = 0;
			for(size_t k = 0; k < urls && (status == 0 || status >= 500); k++){
				size_t idx = first >= 0 ? (k == 0 ? (size_t)first : (k - 1 < (size_t)first ? k - 1 : k)) : k;
				const char *u;
				size_t ulen;
				if(url_entry(p->opts.url, idx, &u, &ulen)){
					status = post_records(curl, u, ulen, &req, &answer, p->opts.request_timeout_ms);
				}
			}
			if(status != 200) break;
			asked += (n - i < BATCH ? n - i : BATCH);
			kicked += judge(&answer);
		}
	}
	if(asked == n){
		mosquitto_log_printf(MOSQ_LOG_INFO, "mqtt-authd: revalidated %zu connected user name(s): "
				"%zu disconnected (deleted, disabled or damaged meanwhile)", n, kicked);
	}else{
		mosquitto_log_printf(MOSQ_LOG_WARNING, "mqtt-authd: cannot revalidate %zu of %zu connected "
				"user name(s) (POST /mqtt/records: %s %ld); sessions revoked meanwhile stay connected, "
				"denied every check", n - asked, n, status ? "HTTP" : "no answer", status);
	}
	if(req.data) memset(req.data, 0, req.cap);
	buf_free(&req);
	buf_free(&answer);
	headers_free_wiped(headers);
	if(curl) curl_easy_cleanup(curl);
	clients_names_free(names, n);
}
