/* See wake.h. The waker is a thread of its own so that the event thread and the delayed-login
 * workers only signal a condition variable; it alone calls pthread_kill. */
#define _GNU_SOURCE /* RTLD_DEFAULT */
#include "wake.h"

#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FIRST_RESEND_MS 1
#define MAX_RESEND_MS 50

struct wake {
	struct wake_conf conf;
	size_t (*waiting)(void *);
	void *arg;
	pthread_t broker;  /* the thread whose epoll_wait is interrupted */
	pthread_t thread;
	bool running;
	int sig;
	struct sigaction old;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool poked, stop;  /* under lock */
	atomic_ulong sent;
	char text[48];
};

bool wake_parse(const char *s, struct wake_conf *out)
{
	if(strcmp(s, "none") == 0){
		*out = (struct wake_conf){WAKE_NONE, 0};
		return true;
	}
	if(strcmp(s, "signal") == 0){
		*out = (struct wake_conf){WAKE_SIGNAL, 0};
		return true;
	}
	if(strncmp(s, "tick:", 5) == 0){
		char *end;
		long ms = strtol(s + 5, &end, 10);
		if(end == s + 5 || *end || ms < 1 || ms > 1000) return false;
		*out = (struct wake_conf){WAKE_TICK, ms};
		return true;
	}
	return false;
}

/* Only there to interrupt epoll_wait (EINTR); with SA_RESTART other calls carry on. */
static void on_signal(int sig)
{
	(void)sig;
}

/* The first real-time signal from SIGRTMIN+4 up that nobody handles (Mosquitto 2.1 uses
 * SIGRTMIN for log rotation; glibc keeps two below SIGRTMIN for itself). */
static int install(struct wake *w)
{
	for(int sig = SIGRTMIN + 4; sig < SIGRTMAX; sig++){
		struct sigaction cur;
		if(sigaction(sig, NULL, &cur) != 0) continue;
		if(!(cur.sa_flags & SA_SIGINFO) && cur.sa_handler != SIG_DFL) continue;
		if((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction) continue;
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_signal;
		sa.sa_flags = SA_RESTART;
		sigemptyset(&sa.sa_mask);
		if(sigaction(sig, &sa, &w->old) != 0) continue;
		return sig;
	}
	return -1;
}

static void deadline_in(struct timespec *ts, long ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if(ts->tv_nsec >= 1000000000L){
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static void *run(void *arg)
{
	struct wake *w = arg;
	pthread_mutex_lock(&w->lock);
	while(!w->stop){
		if(!w->poked){
			pthread_cond_wait(&w->cond, &w->lock);
			continue;
		}
		w->poked = false;
		/* Resend until the tick took the work: a signal that arrived while the broker was
		 * busy (not in epoll_wait) woke nothing, and the broker may go to sleep right after. */
		long delay = FIRST_RESEND_MS;
		while(!w->stop){
			pthread_mutex_unlock(&w->lock);
			bool more = w->waiting(w->arg) > 0;
			if(more){
				pthread_kill(w->broker, w->sig);
				atomic_fetch_add(&w->sent, 1);
			}
			pthread_mutex_lock(&w->lock);
			if(!more) break;
			struct timespec until;
			deadline_in(&until, delay);
			while(!w->stop && pthread_cond_timedwait(&w->cond, &w->lock, &until) == 0){
			}
			delay = delay * 2 > MAX_RESEND_MS ? MAX_RESEND_MS : delay * 2;
		}
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static bool is_broker_21(void)
{
	/* 2.1's delayed basic auth: absent from every 2.0 broker */
	return dlsym(RTLD_DEFAULT, "mosquitto_complete_basic_auth") != NULL;
}

struct wake *wake_start(struct wake_conf conf, size_t (*waiting)(void *), void *arg,
		const char **why)
{
	struct wake *w = calloc(1, sizeof *w);
	if(!w){
		*why = "out of memory";
		return NULL;
	}
	if(conf.mode == WAKE_DEFAULT) conf.mode = is_broker_21() ? WAKE_SIGNAL : WAKE_NONE;
	w->conf = conf;
	w->waiting = waiting;
	w->arg = arg;
	w->broker = pthread_self();
	atomic_init(&w->sent, 0);
	if(conf.mode == WAKE_TICK) snprintf(w->text, sizeof w->text, "tick every %ld ms", conf.tick_ms);
	else snprintf(w->text, sizeof w->text, "none");
	if(conf.mode != WAKE_SIGNAL) return w;

	pthread_condattr_t attr;
	if(pthread_condattr_init(&attr) != 0){
		free(w);
		*why = "cannot create a condition variable";
		return NULL;
	}
	bool cond = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0
		&& pthread_cond_init(&w->cond, &attr) == 0;
	pthread_condattr_destroy(&attr);
	if(!cond || pthread_mutex_init(&w->lock, NULL) != 0){
		if(cond) pthread_cond_destroy(&w->cond);
		free(w);
		*why = "cannot create a mutex or condition variable";
		return NULL;
	}
	if((w->sig = install(w)) < 0){
		pthread_cond_destroy(&w->cond);
		pthread_mutex_destroy(&w->lock);
		free(w);
		*why = "no free real-time signal";
		return NULL;
	}
	/* The waker takes no process signal (SIGTERM, SIGINT, …): they stay the broker's. */
	sigset_t all, saved;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &saved);
	w->running = pthread_create(&w->thread, NULL, run, w) == 0;
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	if(!w->running){
		sigaction(w->sig, &w->old, NULL);
		pthread_cond_destroy(&w->cond);
		pthread_mutex_destroy(&w->lock);
		free(w);
		*why = "cannot start the waker thread";
		return NULL;
	}
	snprintf(w->text, sizeof w->text, "signal %d (SIGRTMIN+%d)", w->sig, w->sig - SIGRTMIN);
	return w;
}

void wake_poke(struct wake *w)
{
	if(!w || !w->running) return;
	pthread_mutex_lock(&w->lock);
	w->poked = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

long wake_next_ms(const struct wake *w)
{
	return w && w->conf.mode == WAKE_TICK ? w->conf.tick_ms : 0;
}

const char *wake_describe(const struct wake *w)
{
	return w ? w->text : "none";
}

unsigned long wake_sent(const struct wake *w)
{
	return w ? atomic_load(&w->sent) : 0;
}

void wake_stop(struct wake *w)
{
	if(!w) return;
	if(w->running){
		pthread_mutex_lock(&w->lock);
		w->stop = true;
		pthread_cond_signal(&w->cond);
		pthread_mutex_unlock(&w->lock);
		pthread_join(w->thread, NULL);
		/* Ignored rather than the old default (terminate): a signal still pending on the
		 * broker's thread must neither kill it nor run code of an unloaded plugin. */
		struct sigaction ign;
		memset(&ign, 0, sizeof ign);
		ign.sa_handler = SIG_IGN;
		sigemptyset(&ign.sa_mask);
		sigaction(w->sig, &ign, NULL);
		pthread_cond_destroy(&w->cond);
		pthread_mutex_destroy(&w->lock);
	}
	free(w);
}
