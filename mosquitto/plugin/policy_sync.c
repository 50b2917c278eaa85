/* Keeping the records right (policy.h): fetched on first need, the common rules once and on
 * `common` events, every record at start and at a resync with plugin_opt_preload, a user's
 * record again on its `user` event; sessions the new records do not admit are disconnected on
 * the tick. A records endpoint refusing the broker (403: no BROKER_TOKEN_SHA256; 401) turns
 * records off for a minute at a time (404: a service from before them, too): the checks are asked per request, as before. */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "plugin.h"
#include "policy.h"
#include "record_parse.h"

#define OFF_RETRY_MS 60000
#define BATCH 100

bool policy_usable(struct plugin *p)
{
	struct policy *pol = p->policy;
	/* an outage (outage.h): the records held decide, none is fetched */
	return pol && (cache_usable(p) || outage_serving(&p->outage, p->opts.stale_grace_ms, mono_ms()))
		&& (pol->off_until == 0 || mono_ms() >= pol->off_until);
}

/* A 401/403 turns records off for a while; anything else unusable is said once per spell. */
static bool answered(struct plugin *p, long status, const char *what)
{
	struct policy *pol = p->policy;
	if(status == 200){
		if(pol->said_failing) mosquitto_log_printf(MOSQ_LOG_INFO, "mqtt-authd: %s answers again", what);
		pol->said_failing = false;
		pol->off_until = 0;
		return true;
	}
	if(status == 401 || status == 403 || status == 404){
		pol->off_until = mono_ms() + OFF_RETRY_MS;
		if(!pol->said_off){
			mosquitto_log_printf(MOSQ_LOG_WARNING, "mqtt-authd: %s refused the broker (HTTP %ld: %s); "
					"every check asks the service", what, status, status == 403
					? "the service needs BROKER_TOKEN_SHA256 to serve records"
					: status == 404 ? "a service without the records endpoints"
					: "plugin_opt_token_file does not hold the token BROKER_TOKEN_SHA256 verifies");
			pol->said_off = true;
		}
		return false;
	}
	if(!pol->said_failing){
		if(status < 0){
			mosquitto_log_printf(MOSQ_LOG_WARNING, "mqtt-authd: %s did not answer (%s); asking per check",
					what, recfetch_error(pol->fetch));
		}else{
			mosquitto_log_printf(MOSQ_LOG_WARNING, "mqtt-authd: %s answered HTTP %ld; asking per check",
					what, status);
		}
		pol->said_failing = true;
	}
	return false;
}

/* The `records` list of a 200 answer, or NULL (logged). */
static cJSON *records_of(struct plugin *p, cJSON **doc)
{
	struct policy *pol = p->policy;
	*doc = NULL;
	if(json_has_escaped_nul(pol->body.data, pol->body.len)){
		mosquitto_log_printf(MOSQ_LOG_ERR, "mqtt-authd: a records answer holds an escaped NUL; ignored");
		return NULL;
	}
	*doc = cJSON_ParseWithLength(pol->body.data, pol->body.len);
	cJSON *list = cJSON_GetObjectItemCaseSensitive(*doc, "records");
	if(!cJSON_IsArray(list)){
		mosquitto_log_printf(MOSQ_LOG_ERR, "mqtt-authd: a records answer is not {\"records\":[…]}; ignored");
		return NULL;
	}
	return list;
}

/* Decodes one R and keeps it; the damaged are logged (once per fetch, which is once until a
 * change is announced). want: the name asked for, or NULL (a page). */
static struct record *keep(struct plugin *p, const cJSON *o, const char *want)
{
	struct policy *pol = p->policy;
	const char *why = "";
	struct record *r = record_from_json(o, &pol->rules, mono_ms(), &why);
	if(!r){
		mosquitto_log_printf(MOSQ_LOG_ERR, "mqtt-authd: a record was refused (%s)", why);
		return NULL;
	}
	if(want && strcmp(record_name(r), want) != 0){
		mosquitto_log_printf(MOSQ_LOG_ERR, "mqtt-authd: asked for one record, got another's; ignored");
		record_free(&pol->rules, r);
		return NULL;
	}
	if(r->flags & REC_DAMAGED){
		mosquitto_log_printf(MOSQ_LOG_ERR, "mqtt-authd: the record of %s does not decode (%s); "
				"denying every check of that user", record_name(r), why);
	}
	records_put(pol->records, r);
	return r;
}

/* Fetches the records of names[0..n) (n <= BATCH) into the store; false when not answered. */
static bool fetch_batch(struct plugin *p, const char *const *names, size_t n)
{
	struct policy *pol = p->policy;
	if(!answered(p, recfetch_records(pol->fetch, names, n, &pol->body), "POST /mqtt/records")){
		return false;
	}
	cJSON *doc;
	cJSON *list = records_of(p, &doc);
	const cJSON *o;
	size_t i = 0;
	cJSON_ArrayForEach(o, list){
		if(i < n) keep(p, o, names[i]);
		i++;
	}
	cJSON_Delete(doc);
	return list != NULL;
}

struct record *policy_record(struct plugin *p, const char *username)
{
	struct policy *pol = p->policy;
	struct record *r = records_get(pol->records, username);
	if(r) return r;
	if(!cache_usable(p)) return NULL; /* an outage: what is not held is not known */
	if(!fetch_batch(p, &username, 1)) return NULL;
	return records_get(pol->records, username);
}

struct ruleset *policy_common(struct plugin *p)
{
	struct policy *pol = p->policy;
	if(pol->common) return pol->common;
	if(!cache_usable(p)) return NULL; /* an outage: what is not held is not known */
	if(!answered(p, recfetch_common(pol->fetch, &pol->body), "GET /mqtt/common")) return NULL;
	cJSON *doc = cJSON_ParseWithLength(pol->body.data, pol->body.len);
	const char *why = "";
	pol->common = rules_from_json(cJSON_GetObjectItemCaseSensitive(doc, "acl"), &pol->rules, &why);
	cJSON_Delete(doc);
	if(!pol->common){
		/* damaged common rules grant nothing; each device's own rules still apply */
		mosquitto_log_printf(MOSQ_LOG_ERR, "mqtt-authd: the common rules do not decode (%s); "
				"they grant nothing", why);
		pol->common = rules_intern(&pol->rules, NULL, 0);
	}
	return pol->common;
}

size_t policy_waiting(struct policy *pol)
{
	return pol ? atomic_load(&pol->pages_waiting) : 0;
}

void policy_stop_preload(struct policy *pol)
{
	if(!pol) return;
	preload_stop(pol->walking);
	pol->walking = NULL;
}

static void poke_broker(void *arg)
{
	wake_poke(arg);
}

/* plugin_opt_preload: every record, a page at a time, fetched by preload.c's thread. */
static void preload_begin(struct plugin *p)
{
	struct policy *pol = p->policy;
	preload_stop(pol->walking);
	cache_free(pol->touched);
	pol->walking = NULL;
	pol->walk_n = 0;
	pol->walk_t0 = mono_ms();
	if(!(pol->touched = cache_new(1000000, 256u * 1024 * 1024, (uint64_t)pol->walk_t0))
			|| !(pol->walking = preload_start(p->opts.url, p->opts.request_timeout_ms,
					p->opts.token, poke_broker, p->wake, &pol->pages_waiting))){
		mosquitto_log_printf(MOSQ_LOG_ERR, "mqtt-authd: cannot start the preload (out of memory "
				"or threads); records are fetched at first need");
		cache_free(pol->touched);
		pol->touched = NULL;
		pol->preloaded = true;
	}
}

void policy_preload_apply(struct plugin *p)
{
	struct policy *pol = p->policy;
	if(!pol || !pol->walking) return;
	atomic_store(&pol->pages_waiting, 0);
	bool finished = preload_finished(pol->walking); /* before the take: then nothing is left */
	struct page *pg = preload_take(pol->walking);
	while(pg){
		struct page *next = pg->next;
		if(pg->status < 0){
			recfetch_note(pol->fetch, pg->error);
		}
		if(answered(p, pg->status, "POST /mqtt/records/page")){
			buf_free(&pol->body);
			pol->body = pg->body; /* records_of reads pol->body */
			memset(&pg->body, 0, sizeof pg->body);
			cJSON *doc;
			cJSON *list = records_of(p, &doc);
			const cJSON *o;
			cJSON_ArrayForEach(o, list){
				const cJSON *u = cJSON_GetObjectItemCaseSensitive(o, "username");
				bool allow;
				int64_t at;
				/* read before a change whose event came first: the next need fetches it */
				if(cJSON_IsString(u) && cache_get(pol->touched, u->valuestring,
						strlen(u->valuestring), &allow, &at)) continue;
				if(keep(p, o, NULL)) pol->walk_n++;
			}
			cJSON_Delete(doc);
			buf_free(&pol->body);
		}
		page_free(pg);
		pg = next;
	}
	if(!finished) return;
	preload_stop(pol->walking);
	pol->walking = NULL;
	cache_free(pol->touched);
	pol->touched = NULL;
	pol->preloaded = true;
	malloc_trim(0); /* the pages' text and trees are gone: give their memory back (glibc) */
	mosquitto_log_printf(MOSQ_LOG_INFO, "mqtt-authd: preloaded %zu records in %lld ms (%zu held, "
			"%zu bytes, %zu rule sets)", pol->walk_n, (long long)(mono_ms() - pol->walk_t0),
			records_count(pol->records), records_bytes(pol->records), pol->rules.count);
}

/* Dooms a session the record held now does not admit. */
static void judge(void *ctx, struct session *x)
{
	struct policy *pol = ctx;
	if(x->doomed || x->kicked) return;
	struct record *r = records_get(pol->records, x->username);
	if(!r) return; /* not fetched: its checks fetch it, or ask the service */
	bool gone = !(r->flags & REC_KNOWN) || (r->flags & (REC_DAMAGED | REC_DISABLED))
		|| (x->has_cred && memcmp(x->cred, r->cred, sizeof r->cred) != 0);
	if(gone){
		x->doomed = true;
		pol->doomed++;
	}
}

struct names {
	const char **v;
	size_t n, cap;
};

static void collect(void *ctx, struct session *x)
{
	struct names *ns = ctx;
	if(ns->n == ns->cap){
		size_t cap = ns->cap ? ns->cap * 2 : 64;
		const char **v = realloc(ns->v, cap * sizeof *v);
		if(!v) return;
		ns->v = v;
		ns->cap = cap;
	}
	ns->v[ns->n++] = x->username;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void policy_revalidate_all(struct plugin *p)
{
	struct policy *pol = p->policy;
	if(!pol) return;
	records_clear(pol->records);
	if(pol->common) rules_release(&pol->rules, pol->common);
	pol->common = NULL;
	pol->preloaded = false;
	preload_stop(pol->walking); /* a walk begun before: its pages may predate what was missed */
	pol->walking = NULL;
	if(pol->off_until && mono_ms() < pol->off_until) return;
	{
		struct names ns = {0};
		sessions_each(pol->sessions, collect, &ns);
		qsort(ns.v, ns.n, sizeof *ns.v, by_name);
		size_t u = 0;
		for(size_t i = 0; i < ns.n; i++){
			if(u == 0 || strcmp(ns.v[u - 1], ns.v[i]) != 0) ns.v[u++] = ns.v[i];
		}
		for(size_t i = 0; i < u; i += BATCH){
			if(!fetch_batch(p, ns.v + i, u - i < BATCH ? u - i : BATCH)) break;
		}
		free(ns.v);
	}
	sessions_each(pol->sessions, judge, pol);
	/* the records fetched are pinned again by their sessions */
	struct names all = {0};
	sessions_each(pol->sessions, collect, &all);
	for(size_t i = 0; i < all.n; i++) records_pin(pol->records, all.v[i], true);
	free(all.v);
	/* then every other record, off this thread */
	if(pol->preload) preload_begin(p);
}

struct user_event {
	struct policy *pol;
	const char *username;
	const struct record *r;
};

/* A change that is not a revoke (a rule, a rehash at login): sessions take the new cred. */
static void follow(void *ctx, struct session *x)
{
	struct user_event *ue = ctx;
	if(strcmp(x->username, ue->username) != 0) return;
	if(ue->r && (ue->r->flags & REC_KNOWN) && !(ue->r->flags & (REC_DAMAGED | REC_DISABLED))){
		if(x->has_cred) memcpy(x->cred, ue->r->cred, sizeof x->cred);
	}else{
		judge(ue->pol, x);
	}
}

void policy_user_event(struct plugin *p, const char *username, bool revoke)
{
	struct policy *pol = p->policy;
	if(!pol) return;
	if(pol->touched) cache_put(pol->touched, username, strlen(username), true, 0);
	struct record *old = records_get(pol->records, username);
	uint32_t pinned = old ? old->sessions : 0;
	records_drop(pol->records, username);
	if(revoke || pinned == 0) return; /* the kick (revoke) or the next need refetches it */
	struct record *r = NULL;
	if(fetch_batch(p, &username, 1)) r = records_get(pol->records, username);
	for(uint32_t i = 0; r && i < pinned; i++) records_pin(pol->records, username, true);
	struct user_event ue = {pol, username, r};
	if(r) sessions_each(pol->sessions, follow, &ue);
}

void policy_common_event(struct plugin *p)
{
	struct policy *pol = p->policy;
	if(!pol || !pol->common) return;
	rules_release(&pol->rules, pol->common);
	pol->common = NULL;
}

void policy_lock_event(struct plugin *p, const char *text)
{
	struct policy *pol = p->policy;
	char *end;
	long ms = strtol(text + 1, &end, 10);
	if(!pol || (text[0] != 'u' && text[0] != 'c') || *end != ':' || ms < 0) return;
	const char *name = end + 1;
	int64_t until = ms > 0 ? mono_ms() + ms : 0;
	if(text[0] == 'u'){
		struct record *r = records_get(pol->records, name);
		if(r) r->locked_until = until;
	}
	/* kept apart from records too: a record fetched before the lock began does not say it */
	buf_reset(&pol->scratch);
	if(!buf_add_char(&pol->scratch, text[0]) || !buf_add_str(&pol->scratch, name)) return;
	cache_put(pol->locks, pol->scratch.data, pol->scratch.len, false, until); /* 0: cleared */
}

bool policy_locked(struct plugin *p, char kind, const char *name)
{
	struct policy *pol = p->policy;
	bool allow;
	int64_t until = 0;
	buf_reset(&pol->scratch);
	if(!buf_add_char(&pol->scratch, kind) || !buf_add_str(&pol->scratch, name)) return true;
	return cache_get(pol->locks, pol->scratch.data, pol->scratch.len, &allow, &until)
		&& until > mono_ms();
}

/* Sessions to disconnect, collected first: a kick runs our DISCONNECT callback at once. */
static void doomed(void *ctx, struct session *x)
{
	struct names *ns = ctx;
	if(!x->doomed || x->kicked) return;
	x->kicked = true;
	mosquitto_log_printf(MOSQ_LOG_NOTICE, "mqtt-authd: disconnecting %s (client %s): its record "
			"no longer admits the session", x->username, x->clientid);
	char *cid = strdup(x->clientid);
	struct session tmp = {.username = cid};
	if(cid) collect(ns, &tmp);
	if(ns->n == 0 || ns->v[ns->n - 1] != cid) free(cid);
}

void policy_tick(struct plugin *p)
{
	struct policy *pol = p->policy;
	if(!pol) return;
	if(pol->walking) policy_preload_apply(p);
	if(pol->preload && !pol->preloaded && !pol->walking && policy_usable(p)){
		policy_revalidate_all(p);
	}
	if(pol->doomed == 0) return;
	pol->doomed = 0;
	struct names ids = {0};
	sessions_each(pol->sessions, doomed, &ids);
	for(size_t i = 0; i < ids.n; i++){
		mosquitto_kick_client_by_clientid(ids.v[i], false);
		free((char *)ids.v[i]);
	}
	free(ids.v);
}
