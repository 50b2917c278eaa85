#include "rules.h"

#include <stdlib.h>
#include <string.h>

#define MAX_TOPIC_BYTES 65535

bool topic_valid_name(const char *s, size_t n)
{
	if(n == 0 || n > MAX_TOPIC_BYTES) return false;
	for(size_t i = 0; i < n; i++){
		if(s[i] == '+' || s[i] == '#' || s[i] == '\0') return false;
	}
	return true;
}

bool topic_valid_filter(const char *s, size_t n)
{
	if(n == 0 || n > MAX_TOPIC_BYTES) return false;
	for(size_t i = 0; i < n; i++){
		char c = s[i];
		if(c == '\0') return false;
		if(c != '+' && c != '#') continue;
		/* a wildcard is a whole level; `#` ends the filter */
		if(i > 0 && s[i - 1] != '/') return false;
		if(c == '#' ? i != n - 1 : (i != n - 1 && s[i + 1] != '/')) return false;
	}
	return true;
}

bool safe_level(const char *v)
{
	if(!v || !*v) return false;
	for(; *v; v++){
		if(*v == '+' || *v == '#' || *v == '/') return false;
	}
	return true;
}

/* Levels as JavaScript's split('/') gives them: "" is one empty level, "a/" two. */
struct levels {
	const char *s;
	size_t n, i;
	bool done;
};

static bool next_level(struct levels *it, const char **l, size_t *ln)
{
	if(it->done) return false;
	size_t j = it->i;
	while(j < it->n && it->s[j] != '/') j++;
	*l = it->s + it->i;
	*ln = j - it->i;
	if(j == it->n) it->done = true; else it->i = j + 1;
	return true;
}

static bool is(const char *l, size_t ln, char c)
{
	return ln == 1 && l[0] == c;
}

/* The first level is `+` or `#` (a valid filter: a wildcard at 0 is a whole level). */
static bool wild_first(const char *s, size_t n)
{
	return n > 0 && (s[0] == '+' || s[0] == '#') && (n == 1 || s[1] == '/');
}

static bool sys_first(const char *s, size_t n)
{
	return n > 0 && s[0] == '$';
}

bool topic_covers(const char *rule, size_t rn, const char *x, size_t xn)
{
	if(wild_first(rule, rn) && sys_first(x, xn)) return false;
	struct levels r = {rule, rn, 0, false}, f = {x, xn, 0, false};
	for(;;){
		const char *rl = NULL, *fl = NULL;
		size_t rln = 0, fln = 0;
		bool hr = next_level(&r, &rl, &rln), hf = next_level(&f, &fl, &fln);
		if(hr && is(rl, rln, '#')) return true;
		if(!hr || !hf) return !hr && !hf;
		if(is(fl, fln, '#')) return false;
		if(is(rl, rln, '+')) continue;
		if(is(fl, fln, '+') || rln != fln || memcmp(rl, fl, rln) != 0) return false;
	}
}

bool topic_intersects(const char *a, size_t an, const char *b, size_t bn)
{
	if((wild_first(a, an) && sys_first(b, bn)) || (wild_first(b, bn) && sys_first(a, an))){
		return false;
	}
	struct levels x = {a, an, 0, false}, y = {b, bn, 0, false};
	for(;;){
		const char *xl = NULL, *yl = NULL;
		size_t xln = 0, yln = 0;
		bool hx = next_level(&x, &xl, &xln), hy = next_level(&y, &yl, &yln);
		if((hx && is(xl, xln, '#')) || (hy && is(yl, yln, '#'))) return true;
		if(!hx || !hy) return !hx && !hy;
		if(is(xl, xln, '+') || is(yl, yln, '+')) continue;
		if(xln != yln || memcmp(xl, yl, xln) != 0) return false;
	}
}

/* ---- interning ---- */

static uint64_t set_hash(uint64_t seed, const struct rule_in *in, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ seed;
	for(size_t i = 0; i < n; i++){
		h = (h ^ (uint64_t)in[i].access) * 0x100000001b3ULL;
		h = (h ^ (uint64_t)in[i].len) * 0x100000001b3ULL;
		for(size_t j = 0; j < in[i].len; j++){
			h = (h ^ (unsigned char)in[i].pattern[j]) * 0x100000001b3ULL;
		}
	}
	return h ^ (h >> 29);
}

static const char *text_of(const struct ruleset *rs)
{
	return (const char *)(rs->r + rs->n);
}

static bool same(const struct ruleset *rs, const struct rule_in *in, size_t n)
{
	if(rs->n != n) return false;
	const char *text = text_of(rs);
	for(size_t i = 0; i < n; i++){
		if(rs->r[i].access != in[i].access || rs->r[i].len != in[i].len
				|| memcmp(text + rs->r[i].off, in[i].pattern, in[i].len) != 0) return false;
	}
	return true;
}

bool rule_table_init(struct rule_table *t, uint64_t seed)
{
	memset(t, 0, sizeof *t);
	t->seed = seed;
	t->mask = 63;
	t->b = calloc(t->mask + 1, sizeof *t->b);
	return t->b != NULL;
}

void rule_table_free(struct rule_table *t)
{
	for(size_t i = 0; t->b && i <= t->mask; i++){
		struct ruleset *rs = t->b[i];
		while(rs){
			struct ruleset *next = rs->chain;
			free(rs);
			rs = next;
		}
	}
	free(t->b);
	memset(t, 0, sizeof *t);
}

static void grow(struct rule_table *t)
{
	size_t nm = t->mask * 2 + 1;
	struct ruleset **nb = calloc(nm + 1, sizeof *nb);
	if(!nb) return; /* longer chains, still correct */
	for(size_t i = 0; i <= t->mask; i++){
		struct ruleset *rs = t->b[i];
		while(rs){
			struct ruleset *next = rs->chain;
			rs->chain = nb[rs->hash & nm];
			nb[rs->hash & nm] = rs;
			rs = next;
		}
	}
	free(t->b);
	t->b = nb;
	t->mask = nm;
}

static uint8_t flags_of(const char *p, size_t n)
{
	uint8_t f = 0;
	for(size_t i = 0; i + 1 < n; i++){
		if(p[i] != '%') continue;
		if(p[i + 1] == 'u') f |= RULE_HAS_U;
		else if(p[i + 1] == 'c') f |= RULE_HAS_C;
	}
	if(!f && topic_valid_filter(p, n)) f |= RULE_VALID;
	return f;
}

struct ruleset *rules_intern(struct rule_table *t, const struct rule_in *in, size_t n)
{
	uint64_t h = set_hash(t->seed, in, n);
	for(struct ruleset *rs = t->b[h & t->mask]; rs; rs = rs->chain){
		if(rs->hash == h && same(rs, in, n)){
			rs->refs++;
			return rs;
		}
	}
	size_t text = 0;
	for(size_t i = 0; i < n; i++){
		if(in[i].len > UINT32_MAX || text > UINT32_MAX - in[i].len) return NULL;
		text += in[i].len;
	}
	if(n > (SIZE_MAX - sizeof(struct ruleset) - text) / sizeof(struct rule)) return NULL;
	size_t bytes = sizeof(struct ruleset) + n * sizeof(struct rule) + text;
	struct ruleset *rs = malloc(bytes);
	if(!rs) return NULL;
	rs->hash = h;
	rs->refs = 1;
	rs->n = (uint32_t)n;
	rs->bytes = bytes;
	char *dst = (char *)(rs->r + n);
	uint32_t off = 0;
	for(size_t i = 0; i < n; i++){
		rs->r[i].off = off;
		rs->r[i].len = (uint32_t)in[i].len;
		rs->r[i].access = (uint8_t)in[i].access;
		rs->r[i].flags = flags_of(in[i].pattern, in[i].len);
		if(in[i].len) memcpy(dst + off, in[i].pattern, in[i].len);
		off += (uint32_t)in[i].len;
	}
	rs->chain = t->b[h & t->mask];
	t->b[h & t->mask] = rs;
	t->count++;
	t->bytes += bytes;
	if(t->count > (t->mask + 1) * 2) grow(t);
	return rs;
}

void rules_release(struct rule_table *t, struct ruleset *rs)
{
	if(!rs || --rs->refs > 0) return;
	struct ruleset **pp = &t->b[rs->hash & t->mask];
	while(*pp && *pp != rs) pp = &(*pp)->chain;
	if(*pp) *pp = rs->chain;
	t->count--;
	t->bytes -= rs->bytes;
	free(rs);
}

/* ---- deciding ---- */

/* The pattern with `%u` and `%c` filled in (left to right, so a name reading `%c` is not
 * filled in again), into scratch; false when memory runs out. */
static bool fill(struct buf *out, const char *p, size_t n, const char *u, const char *c)
{
	buf_reset(out);
	size_t from = 0;
	for(size_t i = 0; i + 1 < n; i++){
		if(p[i] != '%' || (p[i + 1] != 'u' && p[i + 1] != 'c')) continue;
		if(!buf_add(out, p + from, i - from) || !buf_add_str(out, p[i + 1] == 'u' ? u : c)){
			return false;
		}
		from = i + 2;
		i++;
	}
	return buf_add(out, p + from, n - from) && buf_add_char(out, '\0');
}

static int needed_bits(int acc)
{
	return acc == 1 || acc == 4 ? ACCESS_READ : acc == 2 ? ACCESS_WRITE : ACCESS_READWRITE;
}

/* One set's rules; returns a deny verdict, or V_ALLOW meaning "no deny here" with *have grown. */
static enum verdict walk(const struct ruleset *rs, const char *username, bool user_safe,
		const char *clientid, bool client_safe, int need, const char *topic, size_t tn,
		int *have, struct buf *scratch)
{
	if(!rs) return V_ALLOW;
	const char *text = text_of(rs);
	for(uint32_t i = 0; i < rs->n; i++){
		const struct rule *r = &rs->r[i];
		bool deny = r->access == ACCESS_DENY;
		if(!deny && (r->access & need) == 0) continue;
		if(!deny && (*have & need) == need) continue; /* granted already: only denies matter */
		if(!deny && ((!user_safe && (r->flags & RULE_HAS_U))
				|| (!client_safe && (r->flags & RULE_HAS_C)))) continue;
		const char *p = text + r->off;
		size_t n = r->len;
		bool valid;
		if(r->flags & (RULE_HAS_U | RULE_HAS_C)){
			if(!fill(scratch, p, n, username, clientid)) return V_DENY_UNSAFE; /* no memory: deny */
			p = scratch->data;
			n = scratch->len - 1;
			valid = topic_valid_filter(p, n);
		}else{
			valid = (r->flags & RULE_VALID) != 0;
		}
		if(!valid){
			if(deny) return V_DENY_UNSAFE; /* an invalid deny denies everything */
			continue;                      /* an invalid grant grants nothing */
		}
		if(deny){
			if(topic_intersects(p, n, topic, tn)) return V_DENY_RULE;
		}else if(topic_covers(p, n, topic, tn)){
			*have |= r->access & need;
		}
	}
	return V_ALLOW;
}

enum verdict rules_verdict(const struct ruleset *own, const struct ruleset *common,
		const char *username, const char *clientid, int acc, const char *topic,
		struct buf *scratch)
{
	if(acc < 1 || acc > 4) return V_BAD_ACC;
	size_t tn = strlen(topic);
	if(acc == 4 ? !topic_valid_filter(topic, tn) : !topic_valid_name(topic, tn)){
		return V_INVALID_TOPIC;
	}
	int need = needed_bits(acc), have = 0;
	bool us = safe_level(username), cs = safe_level(clientid);
	enum verdict v = walk(own, username, us, clientid, cs, need, topic, tn, &have, scratch);
	if(v == V_ALLOW) v = walk(common, username, us, clientid, cs, need, topic, tn, &have, scratch);
	if(v != V_ALLOW) return v;
	return have == need ? V_ALLOW : V_NO_GRANT;
}
