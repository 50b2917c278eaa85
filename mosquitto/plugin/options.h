/* plugin_opt_* lines, read once at init (docs/plugin.md lists them). */
#ifndef AUTHD_OPTIONS_H
#define AUTHD_OPTIONS_H
#include <stdbool.h>
#include <stddef.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>
#include "wake.h"

struct options {
	char *url;               /* the service: one URL or "u1,u2,..." (preferred first), each
	                          * http(s)://host[:port] without a trailing slash */
	char *message;           /* an error message options_read made (freed with the rest) */
	char *token;             /* the broker credential (plugin_opt_token_file), or NULL; never
	                          * logged, wiped at free */
	long cache_size;         /* decisions kept; 0 turns the cache off */
	long cache_mb;           /* and at most this many MiB of them */
	long request_timeout_ms; /* one check request, connect included */
	long stream_timeout_ms;  /* the event stream is dead after this long without a byte */
	long stale_grace_ms;     /* how long an outage is answered from what is held; 0 never */
	long queue_max;          /* events waiting for the broker's thread at most */
	bool preload;            /* every record fetched at start and at a resync */
	struct wake_conf wake;   /* plugin_opt_wake, else MQTT_AUTHD_WAKE, else by broker version */
	bool presence;           /* report sessions to POST /mqtt/sessions (issue 27) */
	char *broker_id;         /* plugin_opt_broker_id; NULL: host name and listener port */
	long heartbeat_ms;       /* presence heartbeat; the service forgets a broker after 3 */
};

/* 0 on success; otherwise the bad option's name in *bad and a message in *why. */
int options_read(struct options *o, const struct mosquitto_opt *opts, int count,
		const char **bad, const char **why);
void options_free(struct options *o);

#endif
