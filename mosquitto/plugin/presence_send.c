/* Presence, the sender thread: batches of changes to POST /mqtt/sessions, a heartbeat with the
 * decision counters, the whole table when a report is due in full (docs/broker-protocol.md,
 * Sessions). Never touches the broker: it reads only what presence.c hands over. */
#include "presence.h"

#include <dirent.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include <openssl/rand.h>
#include "buf.h"
#include "checks.h"
#include "events.h"
#include "json.h"
#include "shutdown.h"

#define BATCH_MS 50                  /* changes wait this long for more to share a request */
#define CHUNK_BYTES (512 * 1024)     /* a request's records; the service takes 1 MiB */
#define RETRY_MS 500

struct presence_send {
	struct presence *pr;
	pthread_t thread;
	CURL *curl;
	struct curl_slist *headers;
	char *urls;             /* "u1,u2,…" */
	size_t url_at;          /* which of them */
	char *broker_id;        /* NULL: the default, found at the first report */
	char boot[33];
	uint64_t seq;
	long heartbeat_ms, timeout_ms;
	struct buf body, conn, disc, answer, url;
	int connected_n, disconnected_n;
};

static const char *KIND_NAMES[PK_KINDS] = {"user", "superuser", "acl"};
static const char *DECISION_NAMES[PD_DECISIONS] = {"allow", "deny", "asked"};

/* The lowest port of a listening TCP socket of this process, or 0. */
static int listening_port(void)
{
	DIR *d = opendir("/proc/self/fd");
	if(!d) return 0;
	int best = 0;
	for(struct dirent *e; (e = readdir(d));){
		int fd = atoi(e->d_name);
		if(fd <= 2 || fd == dirfd(d)) continue;
		int listening = 0;
		socklen_t len = sizeof listening;
		if(getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening) continue;
		struct sockaddr_storage sa;
		len = sizeof sa;
		if(getsockname(fd, (struct sockaddr *)&sa, &len) != 0) continue;
		int port = sa.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&sa)->sin_port)
			: sa.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&sa)->sin6_port) : 0;
		if(port > 0 && (best == 0 || port < best)) best = port;
	}
	closedir(d);
	return best;
}

static bool default_broker_id(struct presence_send *s)
{
	int port = listening_port();
	if(port == 0) return false;
	char host[256] = "";
	if(gethostname(host, sizeof host - 1) != 0 || !host[0]) snprintf(host, sizeof host, "broker");
	for(char *c = host; *c; c++) if(*c <= ' ' || *c > '~') *c = '-';
	char id[300];
	snprintf(id, sizeof id, "%s:%d", host, port);
	return (s->broker_id = strdup(id)) != NULL;
}

static size_t collect(char *data, size_t size, size_t n, void *user)
{
	struct presence_send *s = user;
	size_t len = size * n;
	if(s->answer.len + len > 4096) return 0;
	return buf_add(&s->answer, data, len) ? len : 0;
}

static bool add_record(struct buf *b, const struct presence_rec *r)
{
	char num[64];
	bool ok = buf_add_str(b, b->len ? ",{\"username\":" : "{\"username\":")
		&& json_add_string(b, r->username) && buf_add_str(b, ",\"clientid\":")
		&& json_add_string(b, r->clientid) && buf_add_str(b, ",\"address\":")
		&& json_add_string(b, r->address);
	if(r->connected) snprintf(num, sizeof num, ",\"protocol\":%d,\"at\":%lld}",
			r->protocol >= 3 && r->protocol <= 5 ? r->protocol : 4, (long long)r->at);
	else snprintf(num, sizeof num, ",\"protocol\":%d,\"at\":%lld,\"reason\":%d}",
			r->protocol >= 3 && r->protocol <= 5 ? r->protocol : 4, (long long)r->at, r->reason);
	return ok && buf_add_str(b, num);
}

static bool add_counters(struct presence_send *s)
{
	char num[32];
	if(!buf_add_str(&s->body, ",\"counters\":{")) return false;
	for(int d = 0; d < PD_DECISIONS; d++){
		if((d && !buf_add_char(&s->body, ',')) || !buf_add_char(&s->body, '"')
				|| !buf_add_str(&s->body, DECISION_NAMES[d]) || !buf_add_str(&s->body, "\":{")) return false;
		for(int k = 0; k < PK_KINDS; k++){
			snprintf(num, sizeof num, "%s\"%s\":%lu", k ? "," : "", KIND_NAMES[k],
					atomic_load_explicit(&s->pr->decisions[d][k], memory_order_relaxed));
			if(!buf_add_str(&s->body, num)) return false;
		}
		if(!buf_add_char(&s->body, '}')) return false;
	}
	return buf_add_char(&s->body, '}');
}

/* One request of what conn/disc hold; false when it was not answered 200 (or asked full). */
static bool post(struct presence_send *s, bool full, bool *need_full)
{
	char head[128];
	snprintf(head, sizeof head, ",\"seq\":%llu,\"full\":%s,\"heartbeatMs\":%ld",
			(unsigned long long)++s->seq, full ? "true" : "false", s->heartbeat_ms);
	buf_reset(&s->body);
	bool ok = buf_add_str(&s->body, "{\"v\":2,\"broker\":") && json_add_string(&s->body, s->broker_id)
		&& buf_add_str(&s->body, ",\"boot\":\"") && buf_add_str(&s->body, s->boot)
		&& buf_add_char(&s->body, '"') && buf_add_str(&s->body, head)
		&& buf_add_str(&s->body, ",\"connected\":[") && buf_add(&s->body, s->conn.data, s->conn.len)
		&& buf_add_str(&s->body, "],\"disconnected\":[") && buf_add(&s->body, s->disc.data, s->disc.len)
		&& buf_add_char(&s->body, ']') && add_counters(s) && buf_add_char(&s->body, '}');
	buf_reset(&s->conn);
	buf_reset(&s->disc);
	if(!ok) return false;
	/* the URL: the current entry of the list */
	const char *u = s->urls;
	for(size_t i = 0; i < s->url_at && u; i++){
		u = strchr(u, ',');
		if(u) u++;
	}
	if(!u){
		s->url_at = 0;
		u = s->urls;
	}
	const char *end = strchr(u, ',');
	buf_reset(&s->url);
	if(!buf_add(&s->url, u, end ? (size_t)(end - u) : strlen(u))
			|| !buf_add_str(&s->url, "/mqtt/sessions") || !buf_add_char(&s->url, '\0')) return false;
	buf_reset(&s->answer);
	curl_easy_setopt(s->curl, CURLOPT_URL, s->url.data);
	curl_easy_setopt(s->curl, CURLOPT_POSTFIELDS, s->body.data);
	curl_easy_setopt(s->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)s->body.len);
	long status = 0;
	if(curl_easy_perform(s->curl) == CURLE_OK) curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
	if(status != 200){
		if(strchr(s->urls, ',')) s->url_at++; /* the next service process, next time */
		return false;
	}
	const char *v, *vend;
	if(json_member(s->answer.data, s->answer.len, "needFull", &v, &vend) && json_true(v, vend)){
		*need_full = true;
		return false;
	}
	return true;
}

/* Sends `list` (oldest first): chunks of connects then disconnects, so the service, which
 * applies a batch's connects before its disconnects, sees them in the order they happened. */
static bool send_all(struct presence_send *s, struct presence_rec *list, bool full,
		bool *need_full)
{
	bool first = true, ok = true;
	buf_reset(&s->conn);
	buf_reset(&s->disc);
	for(struct presence_rec *r = list; r && ok; r = r->next){
		if((r->connected && s->disc.len) || s->conn.len + s->disc.len > CHUNK_BYTES){
			ok = post(s, full && first, need_full);
			first = false;
		}
		if(ok) ok = add_record(r->connected ? &s->conn : &s->disc, r);
	}
	if(ok) ok = post(s, full && first, need_full); /* the last chunk, or the heartbeat */
	return ok;
}

static void deadline_in(struct timespec *t, long ms)
{
	clock_gettime(CLOCK_MONOTONIC, t);
	t->tv_sec += ms / 1000;
	t->tv_nsec += (ms % 1000) * 1000000L;
	if(t->tv_nsec >= 1000000000L){
		t->tv_sec++;
		t->tv_nsec -= 1000000000L;
	}
}

static void *run(void *arg)
{
	struct presence_send *s = arg;
	struct presence *pr = s->pr;
	struct timespec beat;
	deadline_in(&beat, 0);
	bool backoff = false;  /* the last request failed: wait for `beat` whatever is queued */
	pthread_mutex_lock(&pr->lock);
	while(!pr->stop){
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		bool beat_due = now.tv_sec > beat.tv_sec
			|| (now.tv_sec == beat.tv_sec && now.tv_nsec >= beat.tv_nsec);
		if(!beat_due && (backoff || (!pr->head && !pr->need_full))){
			pthread_cond_timedwait(&pr->wake, &pr->lock, &beat);
			continue;
		}
		if(!beat_due){ /* let more changes join this batch */
			struct timespec soon;
			deadline_in(&soon, BATCH_MS);
			while(!pr->stop && pthread_cond_timedwait(&pr->wake, &pr->lock, &soon) == 0){
			}
			if(pr->stop) break;
		}
		if(!s->broker_id && !default_broker_id(s)){ /* listeners not open yet */
			deadline_in(&beat, 100);
			continue;
		}
		bool full;
		struct presence_rec *list = presence_take(pr, &full);
		if(full && pr->need_full){ /* no memory for the copy: never report an empty table */
			backoff = true;
			deadline_in(&beat, RETRY_MS);
			continue;
		}
		pthread_mutex_unlock(&pr->lock);
		bool need_full = false;
		bool ok = send_all(s, list, full, &need_full);
		presence_list_free(list);
		pthread_mutex_lock(&pr->lock);
		if(!ok) pr->need_full = true; /* lost or refused: the whole table next time */
		atomic_fetch_add(ok ? &pr->sent : &pr->failed, 1);
		backoff = !ok && !need_full;
		deadline_in(&beat, ok ? s->heartbeat_ms : need_full ? 0 : RETRY_MS);
	}
	pthread_mutex_unlock(&pr->lock);
	return NULL;
}

struct presence_send *presence_send_start(struct presence *pr, const char *urls,
		const char *token, const char *broker_id, long heartbeat_ms, long timeout_ms)
{
	struct presence_send *s = calloc(1, sizeof *s);
	if(!s) return NULL;
	s->pr = pr;
	s->heartbeat_ms = heartbeat_ms;
	s->timeout_ms = timeout_ms;
	unsigned char rnd[16];
	if(RAND_bytes(rnd, sizeof rnd) != 1){
		uint64_t t = (uint64_t)presence_now_ms() ^ ((uint64_t)getpid() << 32);
		memcpy(rnd, &t, sizeof t);
		memcpy(rnd + 8, &s, sizeof s < 8 ? sizeof s : 8);
	}
	for(size_t i = 0; i < sizeof rnd; i++) snprintf(s->boot + 2 * i, 3, "%02x", rnd[i]);
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	struct curl_slist *h2 = h ? curl_slist_append(h, "Expect:") : NULL;
	if(!h2) curl_slist_free_all(h);
	bool ok = h2 && (s->headers = auth_header_append(h2, token)) != NULL
		&& (s->urls = strdup(urls)) != NULL && (!broker_id || (s->broker_id = strdup(broker_id)))
		&& (s->curl = curl_easy_init()) != NULL;
	if(ok){
		CURL *e = s->curl;
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, s->headers);
		curl_easy_setopt(e, CURLOPT_USERAGENT, "mqtt-authd-plugin/1");
		curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
		curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, collect);
		curl_easy_setopt(e, CURLOPT_WRITEDATA, s);
		shutdown_cancels(e); /* at shutdown a report in flight aborts (within about a second) */
		ok = pthread_create(&s->thread, NULL, run, s) == 0;
	}
	if(!ok){
		if(s->curl) curl_easy_cleanup(s->curl);
		headers_free_wiped(s->headers);
		free(s->urls);
		free(s->broker_id);
		free(s);
		return NULL;
	}
	return s;
}

void presence_send_stop(struct presence_send *s)
{
	if(!s) return;
	pthread_join(s->thread, NULL); /* presence_stop set pr->stop and signalled */
	curl_easy_cleanup(s->curl);
	headers_free_wiped(s->headers);
	free(s->urls);
	free(s->broker_id);
	buf_free(&s->body);
	buf_free(&s->conn);
	buf_free(&s->disc);
	buf_free(&s->answer);
	buf_free(&s->url);
	free(s);
}
