#include "outage.h"

#include <stdio.h>
#include <string.h>
#include <mosquitto.h>
#include <mosquitto_broker.h>

#define TOPIC "$SYS/broker/mqtt-authd/outage"

static void announce(const struct outage *o, int64_t now)
{
	char payload[160];
	int n = snprintf(payload, sizeof payload,
			"{\"outage\":%s,\"expired\":%s,\"ms\":%lld,\"held\":%lu,\"refused\":%lu}",
			o->on ? "true" : "false", o->expired ? "true" : "false",
			(long long)(now - o->since), o->held, o->refused);
	if(n > 0 && (size_t)n < sizeof payload){
		mosquitto_broker_publish_copy(NULL, TOPIC, n, payload, 0, true, NULL);
	}
}

bool outage_serving(const struct outage *o, long grace_ms, int64_t now)
{
	return grace_ms > 0 && o->on && !o->expired && now - o->since <= grace_ms;
}

bool outage_holding(struct outage *o, long grace_ms, int64_t now)
{
	if(!o->on || o->expired) return false;
	if(now - o->since > grace_ms){
		o->expired = true;
		mosquitto_log_printf(MOSQ_LOG_WARNING, "mqtt-authd: outage longer than stale_grace_ms "
				"(%ld ms): refusing what is not answered from now on (%lu answers were given from "
				"what the broker held)", grace_ms, o->held);
		announce(o, now);
		return false;
	}
	if(now >= o->probe_at){
		o->probe_at = now + OUTAGE_PROBE_MS;
		return false; /* this one asks */
	}
	return true;
}

void outage_begin(struct outage *o, long grace_ms, int64_t now, unsigned long entries)
{
	if(o->on) return;
	memset(o, 0, sizeof *o);
	o->on = true;
	o->since = now;
	o->probe_at = now + OUTAGE_PROBE_MS;
	mosquitto_log_printf(MOSQ_LOG_WARNING, "mqtt-authd: no service answers: outage, answering "
			"for up to %ld ms from what the broker holds as of the last change applied (%lu "
			"answers); anything else is refused", grace_ms, entries);
	announce(o, now);
}

void outage_end(struct outage *o, int64_t now, const char *why)
{
	if(!o->on) return;
	o->on = false;
	mosquitto_log_printf(MOSQ_LOG_INFO, "mqtt-authd: outage over after %lld ms (%s): %lu answers "
			"given from what the broker held, %lu refused", (long long)(now - o->since), why,
			o->held, o->refused);
	announce(o, now);
	o->expired = false;
}
