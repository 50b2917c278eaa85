#include "sse.h"

#include <string.h>

void sse_init(struct sse *s, sse_event_fn on_event, void *user)
{
	memset(s, 0, sizeof *s);
	s->on_event = on_event;
	s->user = user;
}

void sse_reset(struct sse *s)
{
	buf_reset(&s->id);
	buf_reset(&s->line);
	buf_reset(&s->event);
	buf_reset(&s->data);
}

/* The value of `field: value` (one optional space after the colon). */
static const char *value_of(const char *line, const char *field)
{
	size_t n = strlen(field);
	if(strncmp(line, field, n) != 0 || line[n] != ':') return NULL;
	return line[n + 1] == ' ' ? line + n + 2 : line + n + 1;
}

static bool line_done(struct sse *s)
{
	const char *line = s->line.data ? s->line.data : "";
	size_t n = s->line.len;
	if(n > 0 && line[n - 1] == '\r') n--;
	if(n == 0){
		if(s->event.len > 0 || s->data.len > 0){
			s->on_event(s->user, s->event.data ? s->event.data : "message",
					s->data.data ? s->data.data : "", s->data.len);
		}
		buf_reset(&s->event);
		buf_reset(&s->data);
		return true;
	}
	s->line.data[n] = '\0';
	const char *v;
	if(line[0] == ':') return true; /* comment: the heartbeat */
	if((v = value_of(line, "event"))){
		buf_reset(&s->event);
		return buf_add_str(&s->event, v);
	}
	if((v = value_of(line, "data"))){
		if(s->data.len > 0 && !buf_add_char(&s->data, '\n')) return false;
		return s->data.len + strlen(v) <= SSE_MAX_LINE && buf_add_str(&s->data, v);
	}
	if((v = value_of(line, "id"))){
		if(memchr(line, '\0', n)) return true; /* SSE: an id holding a NUL is ignored */
		buf_reset(&s->id);
		return buf_add_str(&s->id, v);
	}
	return true; /* retry:, unknown fields */
}

bool sse_feed(struct sse *s, const char *bytes, size_t n)
{
	while(n > 0){
		const char *nl = memchr(bytes, '\n', n);
		size_t part = nl ? (size_t)(nl - bytes) : n;
		if(s->line.len + part > SSE_MAX_LINE || !buf_add(&s->line, bytes, part)) return false;
		if(!nl) return true;
		bool ok = line_done(s);
		buf_reset(&s->line);
		if(!ok) return false;
		bytes += part + 1;
		n -= part + 1;
	}
	return true;
}

const char *sse_last_id(const struct sse *s)
{
	return s->id.len ? s->id.data : "";
}

void sse_free(struct sse *s)
{
	buf_free(&s->id);
	buf_free(&s->line);
	buf_free(&s->event);
	buf_free(&s->data);
}
