/* plugin_opt_stale_grace_ms > 0: while no service answers (a check failed on every URL and the
 * event stream is down), the broker answers from what it holds — the answers (or, with the
 * broker-held policy, the records) as of the last change applied; whatever it does not hold is
 * refused — for at most stale_grace_ms, then fail-closed. Held answers are used without asking:
 * one check in OUTAGE_PROBE_MS still asks (a service that answers checks ends the outage), and
 * the stream's hello ends it too. Logged at start and end, and a retained
 * `$SYS/broker/mqtt-authd/outage` message (`{"outage":true|false,...}`) for monitoring.
 * Broker thread only. */
#ifndef AUTHD_OUTAGE_H
#define AUTHD_OUTAGE_H
#include <stdbool.h>
#include <stdint.h>

#define OUTAGE_PROBE_MS 2000

struct outage {
	bool on;
	bool expired;          /* past stale_grace_ms: fail-closed until the service is back */
	int64_t since, probe_at;
	unsigned long held;    /* answers given from what is held */
	unsigned long refused; /* questions the broker held no answer for */
};

/* True: answer from what is held, do not ask (an outage within its grace, no probe due). */
bool outage_holding(struct outage *o, long grace_ms, int64_t now);
/* An outage within its grace (no side effect): the broker-held policy decides from the
 * records it holds meanwhile, fetching none. */
bool outage_serving(const struct outage *o, long grace_ms, int64_t now);
/* A check found no service (and the stream is down): starts the outage (logged). */
void outage_begin(struct outage *o, long grace_ms, int64_t now, unsigned long entries);
/* A service answered, or the stream is up: ends it (logged). */
void outage_end(struct outage *o, int64_t now, const char *why);

#endif
