#include "options.h"

#include "buf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct range {
	const char *name;
	long *field;
	long min, max;
	const char *why;
};

static int read_long(const char *s, long min, long max, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if(errno || end == s || *end != '\0' || v < min || v > max) return -1;
	*out = v;
	return 0;
}

static int read_bool(const char *s, bool *out, const char **why)
{
	if(strcmp(s, "true") != 0 && strcmp(s, "false") != 0){
		*why = "must be true or false";
		return -1;
	}
	*out = strcmp(s, "true") == 0;
	return 0;
}

/* The whole file, its trailing line breaks and blanks dropped; only visible ASCII may remain
 * (it goes into an HTTP header). NULL with *why on failure. */
static char *read_token(const char *path, const char **why)
{
	FILE *f = fopen(path, "rb");
	if(!f){
		*why = "cannot be opened (missing or not readable by the broker)";
		return NULL;
	}
	size_t cap = 256, len = 0;
	char *t = malloc(cap);
	while(t){
		if(len + 1 >= cap){
			char *bigger = cap > 65536 ? NULL : malloc(cap * 2);
			if(!bigger){
				*why = cap > 65536 ? "is larger than 64 KiB (it must hold only the token)"
					: "out of memory";
				break;
			}
			memcpy(bigger, t, len);
			memset(t, 0, cap);
			free(t);
			t = bigger;
			cap *= 2;
		}
		size_t n = fread(t + len, 1, cap - 1 - len, f);
		len += n;
		if(n == 0){
			if(ferror(f)){
				*why = "cannot be read";
				break;
			}
			t[len] = '\0';
			fclose(f);
			while(len > 0 && (t[len - 1] == '\n' || t[len - 1] == '\r'
					|| t[len - 1] == ' ' || t[len - 1] == '\t')) t[--len] = '\0';
			if(len == 0){
				*why = "is empty (it must hold the broker token the service's "
					"BROKER_TOKEN_SHA256 verifies)";
				free(t);
				return NULL;
			}
			for(size_t i = 0; i < len; i++){
				unsigned char c = (unsigned char)t[i];
				if(c < 0x21 || c > 0x7e){
					*why = "must hold one token of visible ASCII characters (no blank, "
						"no line break inside)";
					memset(t, 0, cap);
					free(t);
					return NULL;
				}
			}
			return t;
		}
	}
	if(!t) *why = "out of memory";
	if(t){
		memset(t, 0, cap);
		free(t);
	}
	fclose(f);
	return NULL;
}

/* "<why> (\"<url>\")" into o->message (freed with the options); *why points at it. */
static void say_bad_url(struct options *o, const char *what, const char *u, size_t n,
		const char **why)
{
	struct buf m = {0};
	if(buf_add_str(&m, what) && buf_add_str(&m, " (bad entry \"") && buf_add(&m, u, n)
			&& buf_add_str(&m, "\")") && buf_add_char(&m, '\0')){
		free(o->message);
		o->message = m.data;
		*why = o->message;
		return;
	}
	buf_free(&m);
	*why = what;
}

/* A comma-separated list of service URLs, each http(s)://host[:port] (a trailing slash
 * dropped, no path), normalized into o->url as "u1,u2,...". */
static int read_urls(struct options *o, const char *value, const char **why)
{
	struct buf out = {0};
	const char *p = value;
	for(;;){
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		while(n > 0 && (*p == ' ' || *p == '\t')){ p++; n--; }
		while(n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t')) n--;
		size_t scheme = n >= 7 && strncasecmp(p, "http://", 7) == 0 ? 7
			: n >= 8 && strncasecmp(p, "https://", 8) == 0 ? 8 : 0;
		if(scheme == 0){
			say_bad_url(o, "must start with http:// or https://", p, n, why);
			buf_free(&out);
			return -1;
		}
		size_t m = n;
		while(m > scheme && p[m - 1] == '/') m--;
		bool ok = m > scheme;
		for(size_t i = scheme; ok && i < m; i++){
			if(p[i] == '/' || p[i] == '?' || p[i] == '#' || p[i] == ' ') ok = false;
		}
		if(!ok){
			say_bad_url(o, "must be http(s)://host[:port] with no path, query or blank",
					p, n, why);
			buf_free(&out);
			return -1;
		}
		if((out.len > 0 && !buf_add_char(&out, ',')) || !buf_add(&out, p, m)){
			buf_free(&out);
			*why = "out of memory";
			return -1;
		}
		if(!end) break;
		p = end + 1;
	}
	if(!buf_add_char(&out, '\0')){
		buf_free(&out);
		*why = "out of memory";
		return -1;
	}
	free(o->url);
	o->url = out.data;
	return 0;
}

int options_read(struct options *o, const struct mosquitto_opt *opts, int count,
		const char **bad, const char **why)
{
	memset(o, 0, sizeof *o);
	o->cache_size = 100000;
	o->cache_mb = 64;
	o->request_timeout_ms = 2000;
	o->stream_timeout_ms = 6000;
	o->stale_grace_ms = 0;
	o->queue_max = 100000;
	o->presence = true;
	o->heartbeat_ms = 3000;
	const struct range ranges[] = {
		{"heartbeat_ms", &o->heartbeat_ms, 500, 60000, "an integer 500..60000"},
		{"cache_size", &o->cache_size, 0, 100000000, "an integer 0..100000000"},
		{"cache_mb", &o->cache_mb, 1, 1048576, "an integer 1..1048576"},
		{"request_timeout_ms", &o->request_timeout_ms, 10, 60000, "an integer 10..60000"},
		{"stream_timeout_ms", &o->stream_timeout_ms, 200, 600000, "an integer 200..600000"},
		{"stale_grace_ms", &o->stale_grace_ms, 0, 86400000, "an integer 0..86400000"},
		{"queue_max", &o->queue_max, 1, 100000, "an integer 1..100000"},
	};
	for(int i = 0; i < count; i++){
		const char *key = opts[i].key, *value = opts[i].value ? opts[i].value : "";
		*bad = key;
		if(strcmp(key, "url") == 0){
			if(read_urls(o, value, why) != 0) return -1;
			continue;
		}
		if(strcmp(key, "wake") == 0){
			if(!wake_parse(value, &o->wake)){
				*why = "must be none, signal or tick:<ms> (1..1000)";
				return -1;
			}
			continue;
		}
		if(strcmp(key, "token_file") == 0){
			if(o->token){
				memset(o->token, 0, strlen(o->token));
				free(o->token);
			}
			if(!(o->token = read_token(value, why))) return -1;
			continue;
		}
		if(strcmp(key, "presence") == 0){
			if(read_bool(value, &o->presence, why) != 0) return -1;
			continue;
		}
		if(strcmp(key, "broker_id") == 0){
			size_t n = strlen(value);
			bool ok = n > 0 && n <= 256;
			for(size_t c = 0; ok && c < n; c++) ok = value[c] > 0x20 && value[c] < 0x7f;
			if(!ok){
				*why = "must be 1-256 visible ASCII characters (no blank)";
				return -1;
			}
			free(o->broker_id);
			if(!(o->broker_id = strdup(value))){
				*why = "out of memory";
				return -1;
			}
			continue;
		}
		if(strcmp(key, "preload") == 0){
			if(read_bool(value, &o->preload, why) != 0) return -1;
			continue;
		}
		size_t r = 0;
		while(r < sizeof ranges / sizeof ranges[0] && strcmp(key, ranges[r].name) != 0) r++;
		if(r == sizeof ranges / sizeof ranges[0]){
			*why = "is not an option of this plugin (url, token_file, cache_size, cache_mb, "
				"request_timeout_ms, stream_timeout_ms, stale_grace_ms, queue_max, preload, wake, presence, "
				"broker_id, heartbeat_ms)";
			return -1;
		}
		if(read_long(value, ranges[r].min, ranges[r].max, ranges[r].field) != 0){
			*why = ranges[r].why;
			return -1;
		}
	}
	const char *env = getenv("MQTT_AUTHD_WAKE");
	if(o->wake.mode == WAKE_DEFAULT && env && *env && !wake_parse(env, &o->wake)){
		*bad = "wake";
		*why = "(from the environment, MQTT_AUTHD_WAKE) must be none, signal or tick:<ms> (1..1000)";
		return -1;
	}
	if(!o->url){
		*bad = "url";
		*why = "is required (e.g. plugin_opt_url http://127.0.0.1:8080)";
		return -1;
	}
	return 0;
}

void options_free(struct options *o)
{
	free(o->url);
	o->url = NULL;
	free(o->message);
	o->message = NULL;
	free(o->broker_id);
	o->broker_id = NULL;
	if(o->token){
		memset(o->token, 0, strlen(o->token));
		free(o->token);
		o->token = NULL;
	}
}
