/* Unit tests of the parts without the broker or the network: JSON strings, SSE framing, the
 * cache (bounds, eviction, drops), the queue. `make check` builds and runs them (under valgrind
 * when present); test/plugin/plugin-units.test.ts runs `make check` from jest. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "cache.h"
#include "failover.h"
#include "json.h"
#include "queue.h"
#include "resume.h"
#include "sse.h"
#include "units_policy.h"

static int failures;
#define CHECK(cond) do{ if(!(cond)){ fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond); failures++; } }while(0)

static bool decodes(const char *json, const char *want)
{
	struct buf out = {0};
	bool ok = json_string(json, json + strlen(json), &out);
	bool same = ok && want && out.len == strlen(want) && memcmp(out.data, want, out.len) == 0;
	buf_free(&out);
	return want ? same : !ok;
}

static void test_json(void)
{
	CHECK(decodes("\"plain\"", "plain"));
	CHECK(decodes("\"\"", ""));
	CHECK(decodes("\"q\\\"u\\\\o\\/t\"", "q\"u\\o/t"));
	CHECK(decodes("\"\\b\\f\\n\\r\\t\"", "\b\f\n\r\t"));
	CHECK(decodes("\"\\u00e9\\u2603\"", "\xc3\xa9\xe2\x98\x83"));
	CHECK(decodes("\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80")); /* surrogate pair → U+1F600 */
	CHECK(decodes("\"d\xc3\xa9v\"", "d\xc3\xa9v"));           /* raw UTF-8 passes through */
	CHECK(decodes("\"\\ud83d\"", NULL));                       /* lone high surrogate */
	CHECK(decodes("\"\\ude00\"", NULL));                       /* lone low surrogate */
	CHECK(decodes("\"\\u0000\"", NULL));                       /* NUL: names are C strings */
	CHECK(decodes("\"\\x\"", NULL));
	CHECK(decodes("\"\\u12\"", NULL));
	CHECK(decodes("\"tab\there\"", NULL));                     /* raw control character */
	CHECK(decodes("\"open", NULL));

	const char *ev = "{\"revoke\":true,\"extra\":{\"a\":[1,2,{\"b\":\"}\"}]},\"username\":\"d\\\"1\"}";
	const char *v, *vend;
	struct buf name = {0};
	CHECK(json_member(ev, strlen(ev), "username", &v, &vend) && json_string(v, vend, &name)
			&& strcmp(name.data, "d\"1") == 0);
	CHECK(json_member(ev, strlen(ev), "revoke", &v, &vend) && json_true(v, vend));
	CHECK(!json_member(ev, strlen(ev), "missing", &v, &vend));
	CHECK(!json_member("{\"username\":\"a\"", 15, "username", &v, &vend)); /* truncated */
	CHECK(!json_member("[\"username\"]", 12, "username", &v, &vend));
	CHECK(json_member("{\"revoke\":false}", 16, "revoke", &v, &vend) && !json_true(v, vend));

	buf_reset(&name);
	CHECK(json_add_string(&name, "a\"b\\c\n\x01") && strcmp(name.data, "\"a\\\"b\\\\c\\n\\u0001\"") == 0);
	buf_free(&name);
}

static char events[512];
static void on_event(void *user, const char *event, const char *data, size_t n)
{
	const struct sse *s = user;
	size_t used = strlen(events);
	const char *id = s ? sse_last_id(s) : "";
	snprintf(events + used, sizeof events - used, "[%s|%.*s%s%s]", event, (int)n, data,
			*id ? "#" : "", id);
}

static void test_sse(void)
{
	struct sse s;
	sse_init(&s, on_event, NULL);
	const char *stream = "event: hello\ndata: {\"v\":1}\n\n: ping\n\nevent: user\r\ndata: {\"username\":\"a\"}\r\n\r\n";
	/* fed one byte at a time: lines split across reads */
	for(size_t i = 0; stream[i]; i++) CHECK(sse_feed(&s, stream + i, 1));
	CHECK(strcmp(events, "[hello|{\"v\":1}][user|{\"username\":\"a\"}]") == 0);
	char *big = malloc(SSE_MAX_LINE + 2);
	CHECK(big != NULL);
	if(big){
		memset(big, 'x', SSE_MAX_LINE + 1);
		CHECK(!sse_feed(&s, big, SSE_MAX_LINE + 1)); /* a line past the bound drops the stream */
		free(big);
	}
	/* id: kept from event to event until the next id: line; one holding a NUL is ignored;
	 * an empty one clears it; a new connection starts with none */
	sse_free(&s);
	sse_init(&s, on_event, &s);
	events[0] = '\0';
	const char ids[] = "id: 7\nevent: user\ndata: a\n\nevent: user\ndata: b\n\n"
		"id: 8\0x\nevent: common\ndata: {}\n\nid:9\r\nevent: reset\ndata: {}\n\n"
		"id:\nevent: hello\ndata: {}\n\n";
	CHECK(sse_feed(&s, ids, sizeof ids - 1));
	CHECK(strcmp(events, "[user|a#7][user|b#7][common|{}#7][reset|{}#9][hello|{}]") == 0);
	CHECK(sse_feed(&s, "id: 10\n", 7));
	sse_reset(&s);
	CHECK(strcmp(sse_last_id(&s), "") == 0);
	sse_free(&s);
}

static bool has(struct cache *c, const char *key, size_t n)
{
	bool allow;
	int64_t stored;
	return cache_get(c, key, n, &allow, &stored);
}

static void test_cache(void)
{
	struct cache *c = cache_new(3, 1 << 20, 42);
	CHECK(c != NULL);
	if(!c) return;
	/* keys: kind, user, NUL, rest */
	cache_put(c, "Sa\0", 3, true, 0);
	cache_put(c, "Aa\0" "2c\0t", 8, false, 0);
	cache_put(c, "Sb\0", 3, false, 0);
	CHECK(cache_count(c) == 3);
	CHECK(has(c, "Sa\0", 3)); /* a is now the most recent */
	cache_put(c, "Sab\0", 4, true, 0); /* evicts the least recently used: Aa… */
	CHECK(cache_count(c) == 3);
	CHECK(!has(c, "Aa\0" "2c\0t", 8));
	CHECK(has(c, "Sa\0", 3) && has(c, "Sb\0", 3) && has(c, "Sab\0", 4));
	cache_drop_user(c, "a"); /* not "ab": the user name is the part up to the NUL */
	CHECK(!has(c, "Sa\0", 3) && has(c, "Sab\0", 4) && has(c, "Sb\0", 3));
	cache_put(c, "Ab\0" "1c\0t", 8, true, 0);
	cache_drop_kind(c, KIND_ACL);
	CHECK(!has(c, "Ab\0" "1c\0t", 8) && has(c, "Sb\0", 3));
	bool allow = false;
	int64_t stored = 0;
	cache_put(c, "Sb\0", 3, true, 100);
	CHECK(cache_get(c, "Sb\0", 3, &allow, &stored) && allow && stored == 100);
	cache_clear(c);
	CHECK(cache_count(c) == 0);
	cache_free(c);

	struct cache *off = cache_new(0, 1 << 20, 1);
	CHECK(off != NULL);
	if(off){
		cache_put(off, "Sa\0", 3, true, 0);
		CHECK(cache_count(off) == 0);
		cache_free(off);
	}
	/* many entries: the bound holds */
	struct cache *big = cache_new(1000, 1 << 20, 7);
	CHECK(big != NULL);
	if(big){
		char key[32];
		for(int i = 0; i < 10000; i++){
			int n = snprintf(key, sizeof key, "Su%d", i);
			cache_put(big, key, (size_t)n + 1, true, 0);
		}
		CHECK(cache_count(big) == 1000);
		cache_free(big);
	}
	/* the byte bound: long keys (topics of up to 64 KiB) evict by size, not count */
	struct cache *sized = cache_new(1000000, 100000, 9);
	CHECK(sized != NULL);
	if(sized){
		size_t n = 10000;
		char *key = malloc(n);
		CHECK(key != NULL);
		if(key){
			memset(key, 't', n);
			key[0] = 'A';
			key[2] = '\0';
			for(int i = 0; i < 100; i++){
				key[3] = (char)('0' + i % 10);
				key[4] = (char)('0' + i / 10);
				cache_put(sized, key, n, true, 0);
				CHECK(cache_bytes(sized) <= 100000);
			}
			CHECK(cache_count(sized) >= 8 && cache_count(sized) <= 10);
			char *huge = malloc(200000);
			if(huge){
				memset(huge, 'h', 200000);
				huge[0] = 'A';
				huge[2] = '\0';
				cache_put(sized, huge, 200000, true, 0); /* larger than the bound: not kept */
				CHECK(!has(sized, huge, 200000) && cache_count(sized) >= 8);
				free(huge);
			}
			free(key);
		}
		cache_free(sized);
	}
}

static void test_queue(void)
{
	struct queue q;
	CHECK(queue_init(&q) == 0);
	queue_push(&q, EV_HELLO, false, NULL, 0);
	queue_push(&q, EV_USER, true, "dev", 3);
	CHECK(atomic_load(&q.pending) == 2 && atomic_load(&q.pushed) == 2);
	bool over = true;
	struct event *e = queue_take(&q, &over);
	CHECK(!over && e && e->type == EV_HELLO && e->next && e->next->type == EV_USER
			&& e->next->revoke && strcmp(e->next->text, "dev") == 0 && !e->next->next);
	while(e){
		struct event *next = e->next;
		free(e);
		e = next;
	}
	CHECK(atomic_load(&q.pending) == 0);
	for(int i = 0; i < QUEUE_MAX + 5; i++) queue_push(&q, EV_COMMON, false, NULL, 0);
	queue_push(&q, EV_DOWN, false, "gone", 4); /* never dropped */
	e = queue_take(&q, &over);
	int n = 0;
	bool down = false;
	while(e){
		struct event *next = e->next;
		n++;
		down = down || e->type == EV_DOWN;
		free(e);
		e = next;
	}
	CHECK(over && n == QUEUE_MAX + 1 && down);
	queue_destroy(&q);
}

/* plugin_opt_url's order: follow the stream; else the last good one, the first probed on a
 * doubling period; no flapping between probes. */
static void test_failover(void)
{
	struct failover f;
	bool probing;
	failover_init(&f, 3);
	CHECK(failover_first(&f, 0, &probing) == 0 && !probing);
	CHECK(failover_nth(0, 1) == 1 && failover_nth(0, 2) == 2);
	CHECK(failover_nth(2, 0) == 2 && failover_nth(2, 1) == 0 && failover_nth(2, 2) == 1);
	failover_answered(&f, 1, 1, false, 100); /* the first did not answer: moved to 1 */
	CHECK(failover_first(&f, 500, &probing) == 1 && !probing);
	CHECK(failover_first(&f, 1100, &probing) == 0 && probing); /* 1 s later: probe the first */
	failover_answered(&f, 1, 1, true, 1100);                  /* probe failed: 2 s */
	CHECK(failover_first(&f, 3000, &probing) == 1 && !probing);
	CHECK(failover_first(&f, 3100, &probing) == 0 && probing);
	failover_answered(&f, 1, 1, true, 3100);                  /* then 4 s */
	CHECK(failover_first(&f, 7000, &probing) == 1);
	failover_follow(&f, 2);                                   /* the stream is on entry 2 */
	CHECK(failover_first(&f, 99999, &probing) == 2 && !probing);
	failover_answered(&f, 2, 0, false, 99999);
	failover_follow(&f, 7);                                   /* out of range: ignored */
	CHECK(f.follow == -1);
	failover_follow(&f, -1);
	CHECK(failover_first(&f, 99999, &probing) == 0 && probing);
	failover_answered(&f, 0, 0, true, 99999);                 /* back on the first */
	CHECK(failover_first(&f, 100000, &probing) == 0 && !probing && f.retry_ms == FAILOVER_RETRY_MIN_MS);
	for(int i = 0; i < 10; i++) failover_answered(&f, 1, 1, true, 0);
	CHECK(f.retry_ms == FAILOVER_RETRY_MAX_MS);
}

/* The resumable stream: what hello says, which ids are kept, the header. */
static void test_resume(void)
{
	const char *h1 = "{\"v\":2,\"heartbeatMs\":500,\"resumed\":true}";
	struct hello h = resume_hello(h1, strlen(h1), 2000);
	CHECK(h.v2 && h.resumed && h.heartbeat_ms == 500);
	const char *h2 = "{\"v\":2,\"heartbeatMs\":2000,\"resumed\":false}";
	h = resume_hello(h2, strlen(h2), 2000);
	CHECK(h.v2 && !h.resumed && h.heartbeat_ms == 2000);
	const char *h3 = "{\"v\":1,\"heartbeatMs\":9,\"resumed\":true}"; /* v1: never resumed */
	h = resume_hello(h3, strlen(h3), 2000);
	CHECK(!h.v2 && !h.resumed && h.heartbeat_ms == 2000);  /* 9 ms: out of range, ignored */
	h = resume_hello("garbage", 7, 1234);
	CHECK(!h.v2 && !h.resumed && h.heartbeat_ms == 1234);

	struct buf last = {0};
	resume_remember(&last, true, "1.ab.0-3-z");
	CHECK(last.len == 10 && strcmp(last.data, "1.ab.0-3-z") == 0);
	resume_remember(&last, true, "has blank");  /* malformed: forgotten, not kept stale */
	CHECK(last.len == 0);
	resume_remember(&last, true, "2.x");
	resume_remember(&last, false, "3.x");       /* a v1 stream has nothing to resume */
	CHECK(last.len == 0);
	resume_remember(&last, true, "");
	CHECK(last.len == 0);
	char *big = malloc(RESUME_MAX_ID + 2);
	if(big){
		memset(big, 'a', RESUME_MAX_ID + 1);
		big[RESUME_MAX_ID + 1] = '\0';
		resume_remember(&last, true, big);
		CHECK(last.len == 0);
		big[RESUME_MAX_ID] = '\0';
		resume_remember(&last, true, big);
		CHECK(last.len == RESUME_MAX_ID);
		free(big);
	}
	resume_remember(&last, true, "9.q");
	struct curl_slist *hs = curl_slist_append(NULL, "Accept: text/event-stream");
	struct curl_slist *node = resume_header(hs, &last);
	CHECK(node && strcmp(node->data, "Last-Event-ID: 9.q") == 0 && hs->next == node);
	resume_header_drop(hs, node);
	CHECK(hs->next == NULL);
	buf_reset(&last);
	CHECK(resume_header(hs, &last) == NULL); /* no id: no header */
	curl_slist_free_all(hs);
	buf_free(&last);
}

int main(void)
{
	test_resume();
	test_failover();
	test_json();
	test_sse();
	test_cache();
	test_queue();
	failures += units_policy();
	failures += units_presence();
	failures += units_vectors(getenv("VECTORS_DIR") ? getenv("VECTORS_DIR") : "../../test/vectors");
	if(failures) fprintf(stderr, "%d check(s) failed\n", failures);
	else printf("units: all checks passed\n");
	return failures ? 1 : 0;
}
