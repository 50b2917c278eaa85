/* mqtt-authd as a Mosquitto 2.0 plugin (interface v5): CONNECT, superuser and ACL decisions
 * from an in-plugin cache kept exact by the service's event stream, the service's check
 * endpoints on a miss; revoked devices kicked. Layout as Mosquitto's own plugins
 * (plugins/dynamic-security): version, init registering callbacks, cleanup undoing it. */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>
#include "plugin.h"
#include "shutdown.h"

#define EXPORT __attribute__((visibility("default")))
#define AUTHD_STR_(x) #x
#define AUTHD_STR(x) AUTHD_STR_(x)

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

/* key = kind, username, NUL, then the rest of the question */
static bool key_start(struct plugin *p, enum cache_kind kind, const char *username)
{
	buf_reset(&p->key);
	return buf_add_char(&p->key, (char)kind) && buf_add_str(&p->key, username)
		&& buf_add_char(&p->key, '\0');
}

struct question {
	struct plugin *p;
	const char *username, *password, *clientid, *topic;
	int acc;
};

static enum answer ask_user(void *ctx)
{
	struct question *q = ctx;
	presence_count(q->p->presence, PD_ASKED, PK_USER);
	return checks_user(q->p->checks, q->username, q->password, q->clientid);
}

static enum answer ask_superuser(void *ctx)
{
	struct question *q = ctx;
	presence_count(q->p->presence, PD_ASKED, PK_SUPERUSER);
	return checks_superuser(q->p->checks, q->username);
}

static enum answer ask_acl(void *ctx)
{
	struct question *q = ctx;
	presence_count(q->p->presence, PD_ASKED, PK_ACL);
	return checks_acl(q->p->checks, q->username, q->clientid, q->topic, q->acc);
}

static int basic_auth(int event, void *data, void *userdata)
{
	struct mosquitto_evt_basic_auth *ed = data;
	struct plugin *p = userdata;
	(void)event;
	if(!ed->username) return MOSQ_ERR_AUTH; /* anonymous: refused, as with go-auth */
	struct question q = {p, ed->username, or_empty(ed->password),
		or_empty(mosquitto_client_id(ed->client)), NULL, 0};
	int decided = policy_basic_auth(p, ed->client, q.username, q.password, q.clientid);
	if(decided != POLICY_PASS) return decided;
	unsigned char mac[KEYHASH_LEN];
	if(!keyhash_of(&p->keyhash, q.password, strlen(q.password), mac)
			|| !key_start(p, KIND_USER, q.username) || !buf_add_str(&p->key, q.clientid)
			|| !buf_add_char(&p->key, '\0') || !buf_add(&p->key, mac, sizeof mac)){
		return MOSQ_ERR_UNKNOWN;
	}
	if(p->auth21 && q.clientid[0]){ /* completed by client id: it must have one */
		/* 2.1: a login neither the policy nor the cache can answer (per-check asking: records
		 * refused, the stream not up, an unknown name) is asked off the broker's thread */
		bool allow = false;
		int64_t stored;
		if(!cache_usable(p) || !cache_get(p->cache, p->key.data, p->key.len, &allow, &stored)){
			return auth21_submit(p->auth21, p, q.username, q.password, q.clientid);
		}
	}
	switch(decide(p, KIND_USER, ask_user, &q)){
		case ANSWER_ALLOW:
			policy_admitted(p, ed->client, q.username, q.clientid);
			return MOSQ_ERR_SUCCESS;
		case ANSWER_DENY: return MOSQ_ERR_AUTH;
		default: return MOSQ_ERR_UNKNOWN; /* no CONNACK: the client retries later */
	}
}

static int acl_check(int event, void *data, void *userdata)
{
	struct mosquitto_evt_acl_check *ed = data;
	struct plugin *p = userdata;
	(void)event;
	if(ed->access == MOSQ_ACL_UNSUBSCRIBE) return MOSQ_ERR_SUCCESS; /* as go-auth */
	const char *username = mosquitto_client_username(ed->client);
	if(!username || !ed->topic) return MOSQ_ERR_ACL_DENIED;
	struct question q = {p, username, NULL, or_empty(mosquitto_client_id(ed->client)),
		ed->topic, ed->access};
	int decided = policy_acl(p, ed->client, username, q.clientid, ed->topic, ed->access);
	if(decided != POLICY_PASS) return decided;
	bool acl_key = key_start(p, KIND_ACL, username) && buf_add_char(&p->key, (char)('0' + ed->access))
		&& buf_add_str(&p->key, q.clientid) && buf_add_char(&p->key, '\0')
		&& buf_add_str(&p->key, ed->topic);
	if(!acl_key) return MOSQ_ERR_ACL_DENIED;
	/* The hot path: a cached grant is the answer whatever the superuser check would say. */
	bool allow = false;
	int64_t stored;
	if(cache_usable(p) && cache_get(p->cache, p->key.data, p->key.len, &allow, &stored) && allow){
		return MOSQ_ERR_SUCCESS;
	}
	/* Otherwise the superuser question first, as go-auth asks it: a superuser may do anything.
	 * decide() reads p->key: the superuser key goes in a second buffer, the ACL key stays. */
	struct buf acl = p->key;
	p->key = p->su_key;
	bool su_key = key_start(p, KIND_SUPERUSER, username);
	enum answer su = su_key ? decide(p, KIND_SUPERUSER, ask_superuser, &q) : ANSWER_ERROR;
	p->su_key = p->key;
	p->key = acl;
	if(su == ANSWER_ALLOW) return MOSQ_ERR_SUCCESS;
	if(su == ANSWER_ERROR) return MOSQ_ERR_ACL_DENIED;
	return decide(p, KIND_ACL, ask_acl, &q) == ANSWER_ALLOW ? MOSQ_ERR_SUCCESS
		: MOSQ_ERR_ACL_DENIED;
}

/* Presence (presence.h): a successful login is a session; every decision is counted. */
static int on_basic_auth(int event, void *data, void *userdata)
{
	struct mosquitto_evt_basic_auth *ed = data;
	struct plugin *p = userdata;
	int rc = basic_auth(event, data, userdata);
	presence_count(p->presence, rc == MOSQ_ERR_SUCCESS ? PD_ALLOW : PD_DENY, PK_USER);
	if(rc == MOSQ_ERR_SUCCESS && p->presence){
		presence_connected(p->presence, ed->client, ed->username, mosquitto_client_id(ed->client),
				mosquitto_client_address(ed->client), mosquitto_client_protocol_version(ed->client));
	}
	return rc;
}

static int on_acl_check(int event, void *data, void *userdata)
{
	struct plugin *p = userdata;
	int rc = acl_check(event, data, userdata);
	presence_count(p->presence, rc == MOSQ_ERR_SUCCESS ? PD_ALLOW : PD_DENY, PK_ACL);
	return rc;
}

static int on_tick(int event, void *data, void *userdata)
{
	struct mosquitto_evt_tick *ed = data;
	struct plugin *p = userdata;
	(void)event;
	shutdown_watch(); /* the first tick: the broker's signal handlers are in place by now */
	apply_events(p);
	policy_tick(p);
	auth21_complete(p->auth21, p);
	/* 2.0's header calls this slot next_ns; 2.1 reads it as next_ms (0: no request) */
	ed->next_ns = wake_next_ms(p->wake);
	return MOSQ_ERR_SUCCESS;
}

/* MOSQ_EVT_CLIENT_OFFLINE of 2.1's broker.h; its data starts as 2.0's disconnect event's. */
#define EVT_CLIENT_OFFLINE_21 28

static int on_disconnect(int event, void *data, void *userdata)
{
	struct mosquitto_evt_disconnect *ed = data;
	struct plugin *p = userdata;
	(void)event;
	policy_disconnect(userdata, ed->client);
	presence_disconnected(p->presence, ed->client, mosquitto_client_id(ed->client), ed->reason);
	return MOSQ_ERR_SUCCESS;
}

/* The queue's notify hook (stream thread) and the waker's measure of work left. */
static void poke(void *arg)
{
	wake_poke(arg);
}

static size_t waiting(void *arg)
{
	struct plugin *p = arg;
	return atomic_load(&p->queue.pending) + auth21_waiting(p->auth21)
		+ policy_waiting(p->policy);
}

/* The waker before the stream thread (its first push already pokes it); all threads created
 * with every signal blocked, so that SIGTERM and the wake signal reach the broker's thread. */
static bool start_threads(struct plugin *p, const char **why)
{
	sigset_t saved;
	bool ok = false;
	shutdown_block_signals(&saved);
	if((p->wake = wake_start(p->opts.wake, waiting, p, why))){
		p->queue.notify_arg = p->wake;
		p->queue.notify = poke;
		p->auth21 = auth21_start(p->opts.url, p->opts.request_timeout_ms, p->opts.token, poke,
				p->wake, why);
		ok = (p->auth21 || !(*why)[0]) && (p->events = events_start(p->opts.url,
				p->opts.stream_timeout_ms, p->opts.token, &p->queue)) != NULL
			&& (!p->opts.presence || (p->presence = presence_start(p->opts.url, p->opts.token,
				p->opts.broker_id, p->opts.heartbeat_ms, p->opts.request_timeout_ms)) != NULL);
	}
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	return ok;
}

EXPORT int mosquitto_plugin_version(int supported_version_count, const int *supported_versions)
{
	for(int i = 0; i < supported_version_count; i++){
		if(supported_versions[i] == 5) return 5;
	}
	return -1;
}

static void plugin_free(struct plugin *p)
{
	shutdown_unwatch();     /* checks still in flight on other threads abort */
	presence_stop(p->presence); /* its thread reads only its own state */
	auth21_halt(p->auth21); /* first the threads that poke the waker and push */
	events_stop(p->events);
	policy_stop_preload(p->policy); /* its thread pokes the waker */
	wake_stop(p->wake);     /* then the waker, which reads the queues */
	auth21_free(p->auth21);
	if(p->queue_ready) queue_destroy(&p->queue);
	policy_free(p->policy);
	checks_free(p->checks);
	cache_free(p->cache);
	keyhash_wipe(&p->keyhash);
	buf_free(&p->key);
	buf_free(&p->su_key);
	options_free(&p->opts);
	free(p);
	curl_global_cleanup();
}

static const struct {
	int event;
	MOSQ_FUNC_generic_callback cb;
} CALLBACKS[] = {
	{MOSQ_EVT_BASIC_AUTH, on_basic_auth},
	{MOSQ_EVT_ACL_CHECK, on_acl_check},
	{MOSQ_EVT_TICK, on_tick},
	{MOSQ_EVT_DISCONNECT, on_disconnect},
};
#define N_CALLBACKS (sizeof CALLBACKS / sizeof CALLBACKS[0])

EXPORT int mosquitto_plugin_init(mosquitto_plugin_id_t *identifier, void **userdata,
		struct mosquitto_opt *options, int option_count)
{
	const char *bad = "", *why = "";
	uint64_t seed = 0;
	if(curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK){
		mosquitto_log_printf(MOSQ_LOG_ERR, "mqtt-authd: libcurl failed to initialise");
		return MOSQ_ERR_UNKNOWN;
	}
	struct plugin *p = calloc(1, sizeof *p);
	if(!p){
		curl_global_cleanup();
		return MOSQ_ERR_NOMEM;
	}
	p->id = identifier;
	shutdown_reset();
	if(options_read(&p->opts, options, option_count, &bad, &why) != 0){
		mosquitto_log_printf(MOSQ_LOG_ERR, "mqtt-authd: plugin_opt_%s %s", bad, why);
		plugin_free(p);
		return MOSQ_ERR_INVAL;
	}
	if(!keyhash_init(&p->keyhash, &seed)
			|| !(p->cache = cache_new((size_t)p->opts.cache_size,
					(size_t)p->opts.cache_mb * 1024 * 1024, seed))
			|| !(p->checks = checks_new(p->opts.url, p->opts.request_timeout_ms, p->opts.token))
			|| !(p->policy = policy_new(p))
			|| queue_init(&p->queue) != 0 || !(p->queue_ready = true)
			|| !(p->queue.max = (size_t)p->opts.queue_max)
			|| !start_threads(p, &why)){
		mosquitto_log_printf(MOSQ_LOG_ERR, "mqtt-authd: cannot start (%s)",
				why[0] ? why : "out of memory or threads");
		plugin_free(p);
		return MOSQ_ERR_NOMEM;
	}
	for(size_t i = 0; i < N_CALLBACKS; i++){
		int rc = mosquitto_callback_register(identifier, CALLBACKS[i].event, CALLBACKS[i].cb,
				NULL, p);
		if(rc != MOSQ_ERR_SUCCESS){
			for(size_t j = 0; j < i; j++){
				mosquitto_callback_unregister(identifier, CALLBACKS[j].event, CALLBACKS[j].cb, NULL);
			}
			mosquitto_log_printf(MOSQ_LOG_ERR, "mqtt-authd: cannot register callbacks (%d)", rc);
			plugin_free(p);
			return rc;
		}
	}
	/* 2.1 tells a client with a session that outlives it as offline, not disconnected (absent
	 * in 2.0, which refuses the registration): its session ends there too. */
	p->offline_registered = mosquitto_callback_register(identifier, EVT_CLIENT_OFFLINE_21,
			on_disconnect, NULL, p) == MOSQ_ERR_SUCCESS;
	*userdata = p;
	mosquitto_log_printf(MOSQ_LOG_INFO,
			"mqtt-authd: checks at %s, cache %ld, cache_mb %ld, request timeout %ld ms, stream timeout %ld ms, "
			"stale grace %ld ms, broker credential %s, preload %s, wake %s, delayed basic auth %s", p->opts.url, p->opts.cache_size, p->opts.cache_mb,
			p->opts.request_timeout_ms, p->opts.stream_timeout_ms, p->opts.stale_grace_ms,
			p->opts.token ? "from token_file" : "none", p->opts.preload ? "true" : "false",
			wake_describe(p->wake),
			p->auth21 ? "on (" AUTHD_STR(AUTH21_WORKERS) " threads, up to "
				AUTHD_STR(AUTH21_MAX_WAITING) " waiting)" : "off (not in this broker)");
	return MOSQ_ERR_SUCCESS;
}

EXPORT int mosquitto_plugin_cleanup(void *userdata, struct mosquitto_opt *options,
		int option_count)
{
	struct plugin *p = userdata;
	(void)options;
	(void)option_count;
	if(!p) return MOSQ_ERR_SUCCESS;
	for(size_t i = 0; i < N_CALLBACKS; i++){
		mosquitto_callback_unregister(p->id, CALLBACKS[i].event, CALLBACKS[i].cb, NULL);
	}
	if(p->offline_registered){
		mosquitto_callback_unregister(p->id, EVT_CLIENT_OFFLINE_21, on_disconnect, NULL);
	}
	plugin_free(p);
	return MOSQ_ERR_SUCCESS;
}
