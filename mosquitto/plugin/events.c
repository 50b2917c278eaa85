#include "events.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>
#include "buf.h"
#include "cancel.h"
#include "checks.h"
#include "json.h"
#include "resume.h"
#include "sse.h"

#define BACKOFF_MIN_MS 100
/* A service back is found within this (plus the reconnect): revocations missed meanwhile are
 * replayed or revalidated ≤ 1 s after it answers again. */
#define BACKOFF_MAX_MS 500
/* The heartbeat the plugin asks for (`?hb=`) and assumes until hello says another. */
#define HEARTBEAT_ASK_MS 500
#define HEARTBEAT_V1_MS 2000

struct events {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop;              /* under lock */
	atomic_bool stopping;   /* the same, for the curl callbacks */
	atomic_bool up;
	atomic_long at;         /* the URL index being held (meaningful while up) */
	bool hello;
	bool resumable;         /* the hello said v2: its events carry ids */
	atomic_llong fresh_ms;  /* coarse clock at the last byte whose events are queued */
	atomic_long window_ms;  /* the cache is trusted this long after a byte (1.5 heartbeats) */
	struct buf last_id;     /* id of the last event queued: Last-Event-ID (resume.c) */
	bool broken;            /* a protocol error: drop this connection */
	bool said_down;         /* the broker was told the stream is down */
	size_t fails;           /* connections in a row that got no hello */
	int64_t last_byte_ms;
	long timeout_ms;
	struct buf url;             /* "<u1>/mqtt/events\0<u2>/mqtt/events\0..." */
	size_t n_urls;
	struct curl_slist *headers; /* Accept, and the credential when there is one */
	struct queue *q;
	struct sse sse;
	struct buf name;
	struct cancel cancel;   /* events_stop ends a silent stream at once */
};

int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The same clock at tick resolution (a few ms), read in the hot path: no syscall, no rdtsc. */
static int64_t coarse_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* `lock {"username"?,"clientid"?,"ms"}` (docs/broker-protocol.md) as EV_LOCK texts. */
static void push_lock(struct events *ev, const char *data, size_t n)
{
	const char *v, *vend;
	long ms = -1;
	if(json_member(data, n, "ms", &v, &vend) && vend - v > 0 && vend - v < 16){
		char num[16];
		memcpy(num, v, (size_t)(vend - v));
		num[vend - v] = '\0';
		char *end;
		ms = strtol(num, &end, 10);
		if(*end != '\0' || ms < 0) ms = -1;
	}
	if(ms < 0) return; /* unreadable: records carry lockedMs, and the service still refuses */
	static const char *const keys[] = {"username", "clientid"};
	for(int i = 0; i < 2; i++){
		buf_reset(&ev->name);
		char head[24];
		int hn = snprintf(head, sizeof head, "%c%ld:", i == 0 ? 'u' : 'c', ms);
		if(json_member(data, n, keys[i], &v, &vend) && buf_add(&ev->name, head, (size_t)hn)
				&& json_string(v, vend, &ev->name)){
			queue_push(ev->q, EV_LOCK, false, ev->name.data, ev->name.len);
		}
	}
}

static void on_event(void *user, const char *event, const char *data, size_t n)
{
	struct events *ev = user;
	const char *v, *vend;
	if(strcmp(event, "hello") == 0){
		struct hello h = resume_hello(data, n, HEARTBEAT_V1_MS);
		ev->hello = true;
		ev->resumable = h.v2;
		ev->said_down = false;
		ev->fails = 0;
		atomic_store(&ev->window_ms, h.heartbeat_ms + h.heartbeat_ms / 2);
		queue_push(ev->q, EV_HELLO, h.resumed, NULL, 0);
		resume_remember(&ev->last_id, ev->resumable, sse_last_id(&ev->sse));
		atomic_store(&ev->up, true);
		return;
	}
	if(!ev->hello) return; /* nothing counts before hello */
	if(strcmp(event, "user") == 0){
		buf_reset(&ev->name);
		if(json_member(data, n, "username", &v, &vend) && json_string(v, vend, &ev->name)){
			bool revoke = json_member(data, n, "revoke", &v, &vend) && json_true(v, vend);
			queue_push(ev->q, EV_USER, revoke, ev->name.data, ev->name.len);
		}else{
			queue_push(ev->q, EV_RESET, false, NULL, 0); /* unreadable: anything may have changed */
		}
	}else if(strcmp(event, "lock") == 0){
		push_lock(ev, data, n);
	}else if(strcmp(event, "disconnect") == 0){
		buf_reset(&ev->name);
		if(json_member(data, n, "username", &v, &vend) && json_string(v, vend, &ev->name)){
			queue_push(ev->q, EV_DISCONNECT, false, ev->name.data, ev->name.len);
		}
	}else if(strcmp(event, "common") == 0){
		queue_push(ev->q, EV_COMMON, false, NULL, 0);
	}else if(strcmp(event, "reset") == 0){
		queue_push(ev->q, EV_RESET, false, NULL, 0);
	}
	/* unknown events: ignored (forward compatibility), and as applied as any other */
	resume_remember(&ev->last_id, ev->resumable, sse_last_id(&ev->sse));
}

static size_t on_bytes(char *data, size_t size, size_t count, void *user)
{
	struct events *ev = user;
	size_t n = size * count;
	ev->last_byte_ms = mono_ms();
	if(atomic_load(&ev->stopping)) return 0;
	if(!sse_feed(&ev->sse, data, n)){
		ev->broken = true;
		return 0;
	}
	/* after the feed: the events of these bytes are queued before the cache is fresh again */
	atomic_store(&ev->fresh_ms, coarse_ms());
	return n;
}

/* Called by libcurl about once a second when idle: ends a silent or unwanted stream. */
static int on_progress(void *user, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	struct events *ev = user;
	(void)a; (void)b; (void)c; (void)d;
	if(atomic_load(&ev->stopping)) return 1;
	return mono_ms() - ev->last_byte_ms > ev->timeout_ms;
}

static void hold_stream(struct events *ev, CURL *curl)
{
	char err[CURL_ERROR_SIZE] = "";
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, err);
	sse_reset(&ev->sse);
	ev->hello = false;
	ev->broken = false;
	ev->last_byte_ms = mono_ms();
	struct curl_slist *id = resume_header(ev->headers, &ev->last_id);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, ev->headers);
	CURLcode rc = curl_easy_perform(curl);
	resume_header_drop(ev->headers, id);
	bool was_up = ev->hello;
	atomic_store(&ev->up, false);
	if(atomic_load(&ev->stopping)) return;
	char why[CURL_ERROR_SIZE + 64];
	if(ev->broken){
		snprintf(why, sizeof why, "protocol error (line too long or out of memory)");
	}else if(rc == CURLE_ABORTED_BY_CALLBACK){
		snprintf(why, sizeof why, "no byte for %ld ms", ev->timeout_ms);
	}else if(rc == CURLE_OK){
		snprintf(why, sizeof why, "the service ended the stream");
	}else{
		snprintf(why, sizeof why, "%s", err[0] ? err : curl_easy_strerror(rc));
	}
	if(was_up || !ev->said_down){
		queue_push(ev->q, EV_DOWN, false, why, strlen(why));
		ev->said_down = true;
	}
}

static void *run(void *arg)
{
	struct events *ev = arg;
	CURL *curl = curl_easy_init();
	struct curl_slist *h = ev->headers;
	long backoff = BACKOFF_MIN_MS;
	if(curl && h){
		curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(curl, CURLOPT_USERAGENT, "mqtt-authd-plugin/1");
		curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(curl, CURLOPT_FAILONERROR, 1L);
		curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
		curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, ev->timeout_ms);
		curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_bytes);
		curl_easy_setopt(curl, CURLOPT_WRITEDATA, ev);
		curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(curl, CURLOPT_XFERINFODATA, ev);
		cancel_attach(&ev->cancel, curl);
	}else{
		const char *why = "cannot start libcurl (out of memory)";
		queue_push(ev->q, EV_DOWN, false, why, strlen(why));
	}
	size_t idx = 0;
	const char *url = ev->url.data;
	pthread_mutex_lock(&ev->lock);
	while(!ev->stop){
		pthread_mutex_unlock(&ev->lock);
		if(curl && h){
			curl_easy_setopt(curl, CURLOPT_URL, url);
			atomic_store(&ev->at, (long)idx);
			hold_stream(ev, curl);
			/* Every URL of the list tried in a row and none said hello: no service answers
			 * (outage.c may carry it). Said once, until a hello. */
			if(!ev->hello && !atomic_load(&ev->stopping) && ++ev->fails == ev->n_urls){
				const char *why = "no service answers the event stream";
				queue_push(ev->q, EV_DOWN, true, why, strlen(why));
			}
			/* The next time: the next URL of the list (whichever service process answers
			 * holds the same feed); the backoff grows only once every URL failed. */
			bool wrapped = ++idx == ev->n_urls;
			if(wrapped) idx = 0;
			url = idx == 0 ? ev->url.data : url + strlen(url) + 1;
			backoff = ev->hello || !wrapped ? BACKOFF_MIN_MS
				: (backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2);
		}else{
			backoff = BACKOFF_MAX_MS;
		}
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += backoff / 1000;
		until.tv_nsec += (backoff % 1000) * 1000000L;
		if(until.tv_nsec >= 1000000000L){
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&ev->lock);
		while(!ev->stop && pthread_cond_timedwait(&ev->wake, &ev->lock, &until) == 0){
		}
	}
	pthread_mutex_unlock(&ev->lock);
	if(curl) curl_easy_cleanup(curl);
	return NULL;
}

struct events *events_start(const char *url, long stream_timeout_ms, const char *token,
		struct queue *q)
{
	struct events *ev = calloc(1, sizeof *ev);
	if(!ev) return NULL;
	ev->q = q;
	ev->timeout_ms = stream_timeout_ms;
	atomic_init(&ev->up, false);
	atomic_init(&ev->at, 0L);
	atomic_init(&ev->fresh_ms, 0LL);
	atomic_init(&ev->window_ms, (long)HEARTBEAT_ASK_MS + HEARTBEAT_ASK_MS / 2);
	atomic_init(&ev->stopping, false);
	sse_init(&ev->sse, on_event, ev);
	pthread_condattr_t attr;
	bool ok = true;
	for(const char *p = url; ok;){
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char query[48];
		snprintf(query, sizeof query, "/mqtt/events?v=2&hb=%d", HEARTBEAT_ASK_MS);
		ok = buf_add(&ev->url, p, len) && buf_add_str(&ev->url, query)
			&& buf_add_char(&ev->url, '\0');
		ev->n_urls++;
		if(!end) break;
		p = end + 1;
	}
	struct curl_slist *h = ok ? curl_slist_append(NULL, "Accept: text/event-stream") : NULL;
	ok = ok && h && (ev->headers = auth_header_append(h, token)) != NULL;
	ok = ok && pthread_condattr_init(&attr) == 0;
	if(ok){
		ok = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0
			&& pthread_cond_init(&ev->wake, &attr) == 0;
		pthread_condattr_destroy(&attr);
	}
	if(ok && pthread_mutex_init(&ev->lock, NULL) != 0){
		pthread_cond_destroy(&ev->wake);
		ok = false;
	}
	if(ok && cancel_init(&ev->cancel) != 0){
		pthread_cond_destroy(&ev->wake);
		pthread_mutex_destroy(&ev->lock);
		ok = false;
	}
	if(ok && pthread_create(&ev->thread, NULL, run, ev) != 0){
		pthread_cond_destroy(&ev->wake);
		pthread_mutex_destroy(&ev->lock);
		cancel_destroy(&ev->cancel);
		ok = false;
	}
	if(!ok){
		headers_free_wiped(ev->headers);
		buf_free(&ev->url);
		free(ev);
		return NULL;
	}
	return ev;
}

void events_stop(struct events *ev)
{
	if(!ev) return;
	atomic_store(&ev->stopping, true);
	cancel_now(&ev->cancel);
	pthread_mutex_lock(&ev->lock);
	ev->stop = true;
	pthread_cond_signal(&ev->wake);
	pthread_mutex_unlock(&ev->lock);
	pthread_join(ev->thread, NULL);
	cancel_destroy(&ev->cancel);
	pthread_cond_destroy(&ev->wake);
	pthread_mutex_destroy(&ev->lock);
	sse_free(&ev->sse);
	buf_free(&ev->name);
	buf_free(&ev->url);
	buf_free(&ev->last_id);
	headers_free_wiped(ev->headers);
	free(ev);
}

bool events_up(struct events *ev)
{
	return ev && atomic_load(&ev->up);
}

bool events_fresh(struct events *ev)
{
	return events_up(ev)
		&& coarse_ms() - atomic_load(&ev->fresh_ms) <= atomic_load(&ev->window_ms);
}

long events_at(struct events *ev)
{
	return events_up(ev) ? atomic_load(&ev->at) : -1;
}
