#include "resume.h"

#include <stdlib.h>
#include <string.h>
#include "json.h"

static bool number(const char *v, const char *vend, long min, long max, long *out)
{
	long n = 0;
	if(v >= vend || vend - v > 9) return false;
	for(const char *p = v; p < vend; p++){
		if(*p < '0' || *p > '9') return false;
		n = n * 10 + (*p - '0');
	}
	if(n < min || n > max) return false;
	*out = n;
	return true;
}

struct hello resume_hello(const char *data, size_t n, long default_heartbeat_ms)
{
	struct hello h = {false, false, default_heartbeat_ms};
	const char *v, *vend;
	long version = 1;
	if(json_member(data, n, "v", &v, &vend) && number(v, vend, 0, 1000000, &version)){
		h.v2 = version >= 2;
	}
	h.resumed = h.v2 && json_member(data, n, "resumed", &v, &vend) && json_true(v, vend);
	if(json_member(data, n, "heartbeatMs", &v, &vend)){
		number(v, vend, 50, 600000, &h.heartbeat_ms);
	}
	return h;
}

void resume_remember(struct buf *last, bool v2, const char *id)
{
	size_t n = strlen(id);
	bool ok = v2 && n > 0 && n <= RESUME_MAX_ID;
	for(size_t i = 0; ok && i < n; i++) ok = id[i] > 0x20 && id[i] < 0x7f;
	if(ok && last->len == n && memcmp(last->data, id, n) == 0) return;
	buf_reset(last);
	if(ok && !buf_add(last, id, n)) buf_reset(last);
}

struct curl_slist *resume_header(struct curl_slist *h, const struct buf *last)
{
	if(!h || last->len == 0) return NULL;
	struct buf line = {0};
	struct curl_slist *node = NULL;
	if(buf_add_str(&line, "Last-Event-ID: ") && buf_add(&line, last->data, last->len)
			&& curl_slist_append(h, line.data)){
		for(node = h; node->next; node = node->next){
		}
	}
	buf_free(&line);
	return node;
}

void resume_header_drop(struct curl_slist *h, struct curl_slist *node)
{
	if(!node) return;
	for(struct curl_slist *i = h; i; i = i->next){
		if(i->next == node){
			i->next = NULL;
			curl_slist_free_all(node);
			return;
		}
	}
}
