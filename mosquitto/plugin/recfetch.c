#include "recfetch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include "checks.h"
#include "events.h"
#include "json.h"
#include "shutdown.h"

struct recfetch {
	CURL *curl;
	struct curl_slist *headers;
	char *urls;          /* "u1,u2,…" */
	long timeout_ms;
	struct buf url, body;
	struct buf *out;
	bool too_big;
	char error[CURL_ERROR_SIZE + 64];
};

static size_t collect(char *data, size_t size, size_t n, void *user)
{
	struct recfetch *f = user;
	size_t len = size * n;
	if(f->out->len + len > (size_t)RECFETCH_MAX_BODY){
		f->too_big = true;
		return 0;
	}
	return buf_add(f->out, data, len) ? len : 0;
}

struct recfetch *recfetch_new(const char *urls, long timeout_ms, const char *token)
{
	struct recfetch *f = calloc(1, sizeof *f);
	if(!f || !(f->urls = strdup(urls)) || !(f->curl = curl_easy_init())){
		recfetch_free(f);
		return NULL;
	}
	f->timeout_ms = timeout_ms;
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	struct curl_slist *h2 = h ? curl_slist_append(h, "Expect:") : NULL;
	if(!h2) curl_slist_free_all(h);
	if(!h2 || !(f->headers = auth_header_append(h2, token))){
		recfetch_free(f);
		return NULL;
	}
	CURL *e = f->curl;
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, f->headers);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "mqtt-authd-plugin/1");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, f->error);
	shutdown_cancels(e); /* SIGTERM aborts a fetch in flight */
	return f;
}

void recfetch_free(struct recfetch *f)
{
	if(!f) return;
	if(f->curl) curl_easy_cleanup(f->curl);
	headers_free_wiped(f->headers);
	free(f->urls);
	buf_free(&f->url);
	buf_free(&f->body);
	free(f);
}

const char *recfetch_error(const struct recfetch *f)
{
	return f->error[0] ? f->error : "out of memory";
}

void recfetch_note(struct recfetch *f, const char *why)
{
	snprintf(f->error, sizeof f->error, "%s", why);
}

/* path on each URL in turn until one answers below 500, within the timeout. */
static long request(struct recfetch *f, const char *path, bool post, struct buf *out)
{
	int64_t deadline = mono_ms() + f->timeout_ms;
	long status = -1;
	f->error[0] = '\0';
	for(const char *p = f->urls; *p;){
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		long left = (long)(deadline - mono_ms());
		if(left <= 0) break;
		buf_reset(&f->url);
		buf_reset(out);
		f->out = out;
		f->too_big = false;
		if(!buf_add(&f->url, p, n) || !buf_add_str(&f->url, path) || !buf_add_char(&f->url, '\0')){
			return -1;
		}
		curl_easy_setopt(f->curl, CURLOPT_URL, f->url.data);
		curl_easy_setopt(f->curl, CURLOPT_TIMEOUT_MS, left);
		curl_easy_setopt(f->curl, CURLOPT_CONNECTTIMEOUT_MS, left);
		if(post){
			curl_easy_setopt(f->curl, CURLOPT_POSTFIELDS, f->body.data);
			curl_easy_setopt(f->curl, CURLOPT_POSTFIELDSIZE, (long)f->body.len);
		}else{
			curl_easy_setopt(f->curl, CURLOPT_HTTPGET, 1L);
		}
		CURLcode rc = curl_easy_perform(f->curl);
		if(rc == CURLE_OK){
			curl_easy_getinfo(f->curl, CURLINFO_RESPONSE_CODE, &status);
			if(status < 500 && buf_add_char(out, '\0')){
				out->len--;
				return status;
			}
			snprintf(f->error, sizeof f->error, "HTTP %ld from %s", status, f->url.data);
		}else if(f->too_big){
			snprintf(f->error, sizeof f->error, "an answer over %ld bytes from %s",
					RECFETCH_MAX_BODY, f->url.data);
		}else if(!f->error[0]){
			snprintf(f->error, sizeof f->error, "%s", curl_easy_strerror(rc));
		}
		status = -1;
		p = end ? end + 1 : p + n;
	}
	return -1;
}

long recfetch_records(struct recfetch *f, const char *const *names, size_t n, struct buf *out)
{
	buf_reset(&f->body);
	bool ok = buf_add_str(&f->body, "{\"usernames\":[");
	for(size_t i = 0; ok && i < n; i++){
		ok = (i == 0 || buf_add_char(&f->body, ',')) && json_add_string(&f->body, names[i]);
	}
	if(!ok || !buf_add_str(&f->body, "]}")) return -1;
	return request(f, "/mqtt/records", true, out);
}

long recfetch_common(struct recfetch *f, struct buf *out)
{
	return request(f, "/mqtt/common", false, out);
}

long recfetch_page(struct recfetch *f, const char *cursor, long limit, struct buf *out)
{
	char tail[32];
	snprintf(tail, sizeof tail, ",\"limit\":%ld}", limit);
	buf_reset(&f->body);
	bool ok = buf_add_str(&f->body, "{\"cursor\":")
		&& (cursor ? json_add_string(&f->body, cursor) : buf_add_str(&f->body, "null"))
		&& buf_add_str(&f->body, tail);
	if(!ok) return -1;
	return request(f, "/mqtt/records/page", true, out);
}
