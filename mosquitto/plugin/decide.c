/* Where an answer comes from: the cache, trusted only while the event stream is up and
 * nothing is waiting in the queue; otherwise the service, whose answer is cached unless an
 * event arrived while it was asked (the read raced a change). */
#include <stdlib.h>
#include <string.h>
#include "plugin.h"

bool cache_usable(struct plugin *p)
{
	return p->trusted && events_fresh(p->events) && atomic_load(&p->queue.pending) == 0;
}

enum answer decide(struct plugin *p, enum cache_kind kind, enum answer (*ask)(void *), void *ctx)
{
	const char *key = p->key.data;
	size_t keylen = p->key.len;
	int64_t stored = 0;
	bool allow = false;
	bool cached = cache_get(p->cache, key, keylen, &allow, &stored);
	if(cached && cache_usable(p)) return allow ? ANSWER_ALLOW : ANSWER_DENY;
	long grace = p->opts.stale_grace_ms;
	if(grace > 0 && outage_holding(&p->outage, grace, mono_ms())){
		/* no service: what is held answers, without a request on the broker's thread */
		if(cached){
			p->outage.held++;
			return allow ? ANSWER_ALLOW : ANSWER_DENY;
		}
		p->outage.refused++;
		return ANSWER_ERROR;
	}

	unsigned long seen = atomic_load(&p->queue.pushed);
	checks_follow(p->checks, events_at(p->events));
	enum answer a = ask(ctx);
	if((a == ANSWER_ERROR) != p->failing){
		p->failing = a == ANSWER_ERROR;
		if(p->failing){
			mosquitto_log_printf(MOSQ_LOG_WARNING, "mqtt-authd: the service did not answer a check "
					"(%s); denying until it does", checks_error(p->checks));
		}else{
			mosquitto_log_printf(MOSQ_LOG_INFO, "mqtt-authd: the service answers checks again");
		}
	}
	if(a == ANSWER_ERROR){
		/* plugin_opt_stale_grace_ms: no process answers and the stream is down or quiet */
		if(grace > 0 && !events_fresh(p->events)){
			outage_begin(&p->outage, grace, mono_ms(), (unsigned long)cache_count(p->cache));
			if(!p->outage.expired && cached){
				p->outage.held++;
				return allow ? ANSWER_ALLOW : ANSWER_DENY;
			}
			if(!p->outage.expired) p->outage.refused++;
		}
		return ANSWER_ERROR;
	}
	if(p->outage.on) outage_end(&p->outage, mono_ms(), "a service answers checks");
	/* A refused password is never cached: the service counts failed logins (lockouts). */
	bool keep = !(kind == KIND_USER && a == ANSWER_DENY);
	if(keep && atomic_load(&p->queue.pushed) == seen){
		/* the ask may have taken a while: key is p->key, unchanged (ask builds no key) */
		cache_put(p->cache, key, keylen, a == ANSWER_ALLOW, mono_ms());
	}
	return a;
}

void apply_events(struct plugin *p)
{
	if(atomic_load(&p->queue.pending) == 0) return;
	bool overflowed = false, resync = false;
	struct event *e = queue_take(&p->queue, &overflowed);
	while(e){
		struct event *next = e->next;
		switch(e->type){
			case EV_HELLO:
				cache_clear(p->cache);
				p->trusted = true;
				outage_end(&p->outage, mono_ms(), "event stream up");
				/* resumed (e->revoke): the events missed follow, their kicks with them */
				resync = resync || !e->revoke;
				mosquitto_log_printf(MOSQ_LOG_INFO, "mqtt-authd: event stream up; cache trusted%s",
						e->revoke ? " (resumed)" : "");
				break;
			case EV_DOWN:
				p->trusted = false;
				mosquitto_log_printf(MOSQ_LOG_WARNING,
						"mqtt-authd: event stream down (%s); every check asks the service", e->text);
				break;
			case EV_USER:
				cache_drop_user(p->cache, e->text);
				policy_user_event(p, e->text, e->revoke);
				if(e->revoke) mosquitto_kick_client_by_username(e->text, false);
				break;
			case EV_COMMON:
				cache_drop_kind(p->cache, KIND_ACL);
				policy_common_event(p);
				break;
			case EV_DISCONNECT: /* not a revocation: the cache and the records stay */
				mosquitto_kick_client_by_username(e->text, false);
				break;
			case EV_LOCK:
				policy_lock_event(p, e->text);
				break;
			case EV_RESET:
				cache_clear(p->cache);
				resync = true;
				break;
		}
		free(e);
		e = next;
	}
	if(overflowed){
		cache_clear(p->cache);
		resync = true;
		mosquitto_log_printf(MOSQ_LOG_WARNING,
				"mqtt-authd: event queue overflowed; cache emptied, revalidating the connected users");
	}
	if(resync) policy_revalidate_all(p);
}
