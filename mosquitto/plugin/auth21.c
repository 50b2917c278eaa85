/* See auth21.h. Ownership: a job is the worker's from `todo` until it is on `done`, then the
 * broker thread's. `latest` (broker thread only) remembers, per client id, the last login
 * handed out: Mosquitto completes by client id, so an answer for a client that went away and
 * was replaced by a new CONNECT with the same id must not complete the new one. */
#define _GNU_SOURCE /* RTLD_DEFAULT */
#include "auth21.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "cancel.h"
#include "plugin.h"

/* 2.1's include/mosquitto/defs.h; 2.0's headers do not have it */
#ifndef MOSQ_ERR_AUTH_DELAYED
#define MOSQ_ERR_AUTH_DELAYED (-5)
#endif

struct job {
	struct job *next;
	unsigned long serial;
	unsigned long seen;     /* the event counter when asked: a change since means no caching */
	bool cached, cached_allow;
	int64_t cached_at;
	enum answer answer;
	size_t keylen, size;    /* size: of data */
	char *username, *password, *clientid, *key; /* one allocation, `data` */
	char data[];
};

struct worker {
	pthread_t thread;
	bool running, cancel_ready;
	struct checks *checks;
	struct cancel cancel;
	struct auth21 *a;
};

struct latest {
	char *clientid;
	unsigned long serial;
};

struct auth21 {
	void (*complete)(const char *clientid, int result);
	void (*poke)(void *);
	void *poke_arg;
	pthread_mutex_t lock;
	pthread_cond_t more;
	struct job *todo, *todo_tail, *done; /* under lock */
	bool stop;                           /* under lock */
	atomic_size_t answered;              /* jobs on `done` */
	size_t waiting;                      /* broker thread: submitted, not completed */
	unsigned long serial;                /* broker thread */
	struct latest latest[AUTH21_MAX_WAITING];
	size_t n_latest;
	bool full_said;
	struct worker workers[AUTH21_WORKERS];
};

static void job_free(struct job *j)
{
	if(!j) return;
	memset(j->data, 0, j->size); /* it held a password */
	free(j);
}

static void *run(void *arg)
{
	struct worker *w = arg;
	struct auth21 *a = w->a;
	pthread_mutex_lock(&a->lock);
	for(;;){
		while(!a->stop && !a->todo) pthread_cond_wait(&a->more, &a->lock);
		if(a->stop) break;
		struct job *j = a->todo;
		a->todo = j->next;
		if(!a->todo) a->todo_tail = NULL;
		pthread_mutex_unlock(&a->lock);
		j->answer = checks_user(w->checks, j->username, j->password, j->clientid);
		memset(j->password, 0, strlen(j->password));
		pthread_mutex_lock(&a->lock);
		j->next = a->done;
		a->done = j;
		atomic_fetch_add(&a->answered, 1);
		pthread_mutex_unlock(&a->lock);
		a->poke(a->poke_arg);
		pthread_mutex_lock(&a->lock);
	}
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

struct auth21 *auth21_start(const char *url, long timeout_ms, const char *token,
		void (*poke)(void *), void *arg, const char **why)
{
	void (*complete)(const char *, int);
	*(void **)&complete = dlsym(RTLD_DEFAULT, "mosquitto_complete_basic_auth");
	if(!complete) return NULL; /* 2.0: logins are answered on the broker's thread */
	struct auth21 *a = calloc(1, sizeof *a);
	if(!a || pthread_mutex_init(&a->lock, NULL) != 0){
		free(a);
		*why = "out of memory";
		return NULL;
	}
	if(pthread_cond_init(&a->more, NULL) != 0){
		pthread_mutex_destroy(&a->lock);
		free(a);
		*why = "cannot create a condition variable";
		return NULL;
	}
	a->complete = complete;
	a->poke = poke;
	a->poke_arg = arg;
	atomic_init(&a->answered, 0);
	for(int i = 0; i < AUTH21_WORKERS; i++){
		struct worker *w = &a->workers[i];
		w->a = a;
		w->cancel_ready = cancel_init(&w->cancel) == 0;
		if(!w->cancel_ready || !(w->checks = checks_new(url, timeout_ms, token))){
			*why = "out of memory";
			break;
		}
		cancel_attach(&w->cancel, checks_handle(w->checks));
		if(pthread_create(&w->thread, NULL, run, w) != 0){
			*why = "cannot start the delayed-login threads";
			break;
		}
		w->running = true;
	}
	if(!a->workers[AUTH21_WORKERS - 1].running){
		auth21_halt(a);
		auth21_free(a);
		return NULL;
	}
	return a;
}

/* The entry of `clientid` in `latest`, or NULL. */
static struct latest *find_latest(struct auth21 *a, const char *clientid)
{
	for(size_t i = 0; i < a->n_latest; i++){
		if(strcmp(a->latest[i].clientid, clientid) == 0) return &a->latest[i];
	}
	return NULL;
}

int auth21_submit(struct auth21 *a, struct plugin *p, const char *username, const char *password,
		const char *clientid)
{
	if(a->waiting >= AUTH21_MAX_WAITING){
		if(!a->full_said){
			a->full_said = true;
			mosquitto_log_printf(MOSQ_LOG_WARNING, "mqtt-authd: %d logins wait for the service; "
					"further CONNECTs get no CONNACK until some are answered", AUTH21_MAX_WAITING);
		}
		return MOSQ_ERR_UNKNOWN;
	}
	size_t lu = strlen(username), lp = strlen(password), lc = strlen(clientid);
	size_t n = lu + lp + lc + 3 + p->key.len;
	struct job *j = n < SIZE_MAX - sizeof *j ? malloc(sizeof *j + n) : NULL;
	struct latest *l = find_latest(a, clientid);
	char *cid = l ? NULL : strdup(clientid);
	if(!j || (!l && !cid)){
		free(j);
		free(cid);
		return MOSQ_ERR_UNKNOWN;
	}
	j->next = NULL;
	j->serial = ++a->serial;
	j->seen = atomic_load(&p->queue.pushed);
	j->cached = cache_get(p->cache, p->key.data, p->key.len, &j->cached_allow, &j->cached_at);
	j->keylen = p->key.len;
	j->size = n;
	j->username = j->data;
	j->password = j->username + lu + 1;
	j->clientid = j->password + lp + 1;
	j->key = j->clientid + lc + 1;
	memcpy(j->username, username, lu + 1);
	memcpy(j->password, password, lp + 1);
	memcpy(j->clientid, clientid, lc + 1);
	memcpy(j->key, p->key.data, p->key.len);
	if(!l){
		l = &a->latest[a->n_latest++]; /* fits: one entry per waiting login at most */
		l->clientid = cid;
	}
	l->serial = j->serial; /* an older login of this id, if any, will not be completed */
	a->waiting++;
	pthread_mutex_lock(&a->lock);
	if(a->todo_tail) a->todo_tail->next = j; else a->todo = j;
	a->todo_tail = j;
	pthread_cond_signal(&a->more);
	pthread_mutex_unlock(&a->lock);
	return MOSQ_ERR_AUTH_DELAYED;
}

/* The answer's effect, as decide() has it for a login asked on the broker's thread. */
static int finish(struct plugin *p, struct job *j)
{
	enum answer ans = j->answer;
	if((ans == ANSWER_ERROR) != p->failing){
		p->failing = ans == ANSWER_ERROR;
		mosquitto_log_printf(p->failing ? MOSQ_LOG_WARNING : MOSQ_LOG_INFO, p->failing
				? "mqtt-authd: the service did not answer a delayed login; denying until it does"
				: "mqtt-authd: the service answers checks again");
	}
	if(ans == ANSWER_ERROR && j->cached && p->opts.stale_grace_ms > 0
			&& mono_ms() - j->cached_at <= p->opts.stale_grace_ms){
		ans = j->cached_allow ? ANSWER_ALLOW : ANSWER_DENY;
	}else if(ans == ANSWER_ALLOW && atomic_load(&p->queue.pushed) == j->seen){
		cache_put(p->cache, j->key, j->keylen, true, mono_ms()); /* refusals never cached */
	}
	return ans == ANSWER_ALLOW ? MOSQ_ERR_SUCCESS : MOSQ_ERR_AUTH;
}

void auth21_complete(struct auth21 *a, struct plugin *p)
{
	if(!a || atomic_load(&a->answered) == 0) return;
	pthread_mutex_lock(&a->lock);
	struct job *j = a->done;
	a->done = NULL;
	atomic_store(&a->answered, 0);
	pthread_mutex_unlock(&a->lock);
	while(j){
		struct job *next = j->next;
		struct latest *l = find_latest(a, j->clientid);
		if(l && l->serial == j->serial){
			/* 2.1.2 completes with allow or deny only: a login the service could not answer
			 * gets CONNACK 135, where the broker's thread path sends none */
			a->complete(j->clientid, finish(p, j));
			free(l->clientid);
			*l = a->latest[--a->n_latest];
		}
		a->waiting--;
		if(a->waiting < AUTH21_MAX_WAITING / 2) a->full_said = false;
		job_free(j);
		j = next;
	}
}

size_t auth21_waiting(struct auth21 *a)
{
	return a ? atomic_load(&a->answered) : 0;
}

void auth21_halt(struct auth21 *a)
{
	if(!a) return;
	pthread_mutex_lock(&a->lock);
	a->stop = true;
	pthread_cond_broadcast(&a->more);
	pthread_mutex_unlock(&a->lock);
	for(int i = 0; i < AUTH21_WORKERS; i++){
		struct worker *w = &a->workers[i];
		if(w->running){
			cancel_now(&w->cancel);
			pthread_join(w->thread, NULL);
			w->running = false;
		}
	}
}

void auth21_free(struct auth21 *a)
{
	if(!a) return;
	for(struct job *lists[] = {a->todo, a->done}, **l = lists; l < lists + 2; l++){
		for(struct job *j = *l; j;){
			struct job *next = j->next;
			job_free(j);
			j = next;
		}
	}
	for(size_t i = 0; i < a->n_latest; i++) free(a->latest[i].clientid);
	for(int i = 0; i < AUTH21_WORKERS; i++){
		checks_free(a->workers[i].checks); /* closes its sockets through the cancel callbacks */
		if(a->workers[i].cancel_ready) cancel_destroy(&a->workers[i].cancel);
	}
	pthread_cond_destroy(&a->more);
	pthread_mutex_destroy(&a->lock);
	free(a);
}
