#include "json.h"

#include <stdio.h>
#include <string.h>

#define MAX_DEPTH 32

bool json_add_string(struct buf *out, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	if(!buf_add_char(out, '"')) return false;
	for(const unsigned char *p = (const unsigned char *)s; *p; p++){
		bool ok;
		switch(*p){
			case '"': ok = buf_add(out, "\\\"", 2); break;
			case '\\': ok = buf_add(out, "\\\\", 2); break;
			case '\n': ok = buf_add(out, "\\n", 2); break;
			case '\r': ok = buf_add(out, "\\r", 2); break;
			case '\t': ok = buf_add(out, "\\t", 2); break;
			default:
				if(*p < 0x20){
					char esc[6] = {'\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15]};
					ok = buf_add(out, esc, sizeof esc);
				}else{
					ok = buf_add_char(out, (char)*p);
				}
		}
		if(!ok) return false;
	}
	return buf_add_char(out, '"');
}

static const char *skip_ws(const char *p, const char *end)
{
	while(p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
	return p;
}

/* p at the opening quote; returns the position after the closing one, or NULL. */
static const char *skip_string(const char *p, const char *end)
{
	for(p++; p < end; p++){
		if(*p == '\\'){
			p++;
		}else if(*p == '"'){
			return p + 1;
		}
	}
	return NULL;
}

static const char *skip_value(const char *p, const char *end, int depth)
{
	if(p >= end || depth > MAX_DEPTH) return NULL;
	if(*p == '"') return skip_string(p, end);
	if(*p == '{' || *p == '['){
		char close = *p == '{' ? '}' : ']';
		p = skip_ws(p + 1, end);
		if(p < end && *p == close) return p + 1;
		for(;;){
			if(close == '}'){
				if(p >= end || *p != '"' || !(p = skip_string(p, end))) return NULL;
				p = skip_ws(p, end);
				if(p >= end || *p != ':') return NULL;
				p = skip_ws(p + 1, end);
			}
			if(!(p = skip_value(p, end, depth + 1))) return NULL;
			p = skip_ws(p, end);
			if(p >= end) return NULL;
			if(*p == close) return p + 1;
			if(*p != ',') return NULL;
			p = skip_ws(p + 1, end);
		}
	}
	/* number, true, false, null: up to the next delimiter */
	const char *start = p;
	while(p < end && !strchr(",}] \t\r\n", *p)) p++;
	return p > start ? p : NULL;
}

bool json_member(const char *s, size_t n, const char *key, const char **v, const char **vend)
{
	const char *end = s + n;
	const char *p = skip_ws(s, end);
	struct buf name = {0};
	bool found = false;
	if(p >= end || *p != '{') return false;
	p = skip_ws(p + 1, end);
	if(p < end && *p == '}') return false;
	while(p < end && *p == '"'){
		const char *kend = skip_string(p, end);
		if(!kend) break;
		buf_reset(&name);
		bool named = json_string(p, kend, &name) && strcmp(name.data, key) == 0;
		p = skip_ws(kend, end);
		if(p >= end || *p != ':') break;
		p = skip_ws(p + 1, end);
		const char *vstart = p;
		if(!(p = skip_value(p, end, 1))) break;
		if(named && !found){
			*v = vstart;
			*vend = p;
			found = true;
		}
		p = skip_ws(p, end);
		if(p < end && *p == '}'){
			buf_free(&name);
			return found && skip_ws(p + 1, end) == end;
		}
		if(p >= end || *p != ',') break;
		p = skip_ws(p + 1, end);
	}
	buf_free(&name);
	return false;
}

static int hex4(const char *p, const char *end)
{
	int v = 0;
	if(end - p < 4) return -1;
	for(int i = 0; i < 4; i++){
		char c = p[i];
		int d = c >= '0' && c <= '9' ? c - '0'
			: c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if(d < 0) return -1;
		v = v * 16 + d;
	}
	return v;
}

static bool add_utf8(struct buf *out, unsigned long cp)
{
	char u[4];
	size_t n;
	if(cp < 0x80){
		u[0] = (char)cp; n = 1;
	}else if(cp < 0x800){
		u[0] = (char)(0xC0 | (cp >> 6)); u[1] = (char)(0x80 | (cp & 0x3F)); n = 2;
	}else if(cp < 0x10000){
		u[0] = (char)(0xE0 | (cp >> 12)); u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[2] = (char)(0x80 | (cp & 0x3F)); n = 3;
	}else{
		u[0] = (char)(0xF0 | (cp >> 18)); u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); u[3] = (char)(0x80 | (cp & 0x3F)); n = 4;
	}
	return buf_add(out, u, n);
}

bool json_string(const char *v, const char *vend, struct buf *out)
{
	if(vend - v < 2 || *v != '"' || vend[-1] != '"') return false;
	const char *p = v + 1, *end = vend - 1;
	if(!buf_add(out, "", 0)) return false; /* "" decodes to an allocated empty C string */
	while(p < end){
		unsigned char c = (unsigned char)*p;
		if(c < 0x20) return false;
		if(c != '\\'){
			if(!buf_add_char(out, (char)c)) return false;
			p++;
			continue;
		}
		if(++p >= end) return false;
		char e = *p++;
		const char *plain = strchr("\"\\/bfnrt", e);
		if(e && plain){
			static const char to[] = "\"\\/\b\f\n\r\t";
			if(!buf_add_char(out, to[plain - "\"\\/bfnrt"])) return false;
			continue;
		}
		if(e != 'u') return false;
		int hi = hex4(p, end);
		if(hi < 0) return false;
		p += 4;
		unsigned long cp = (unsigned long)hi;
		if(hi >= 0xD800 && hi <= 0xDBFF){
			if(end - p < 6 || p[0] != '\\' || p[1] != 'u') return false;
			int lo = hex4(p + 2, end);
			if(lo < 0xDC00 || lo > 0xDFFF) return false;
			p += 6;
			cp = 0x10000 + (((unsigned long)hi - 0xD800) << 10) + ((unsigned long)lo - 0xDC00);
		}else if(hi >= 0xDC00 && hi <= 0xDFFF){
			return false;
		}
		if(cp == 0 || !add_utf8(out, cp)) return false;
	}
	return true;
}

bool json_true(const char *v, const char *vend)
{
	return vend - v == 4 && memcmp(v, "true", 4) == 0;
}
