/* See shutdown.h. Process-wide state: signal handlers can reach nothing else. */
#include "shutdown.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

static const int SIGNALS[] = {SIGTERM, SIGINT};
#define N_SIGNALS (sizeof SIGNALS / sizeof SIGNALS[0])

static atomic_bool requested;
static bool watching;
static struct sigaction previous[N_SIGNALS];

static void on_signal(int sig, siginfo_t *info, void *ctx)
{
	atomic_store(&requested, true);
	for(size_t i = 0; i < N_SIGNALS; i++){
		if(SIGNALS[i] != sig) continue;
		const struct sigaction *old = &previous[i];
		if(old->sa_flags & SA_SIGINFO){
			if(old->sa_sigaction) old->sa_sigaction(sig, info, ctx);
		}else if(old->sa_handler == SIG_DFL){
			sigaction(sig, old, NULL); /* nobody handled it: the default (terminate) */
			raise(sig);
		}else if(old->sa_handler != SIG_IGN){
			old->sa_handler(sig);
		}
	}
}

void shutdown_reset(void)
{
	atomic_store(&requested, false);
}

void shutdown_watch(void)
{
	if(watching) return;
	watching = true;
	for(size_t i = 0; i < N_SIGNALS; i++){
		struct sigaction sa;
		if(sigaction(SIGNALS[i], NULL, &previous[i]) != 0) continue;
		memset(&sa, 0, sizeof sa);
		sa.sa_sigaction = on_signal;
		sa.sa_flags = (previous[i].sa_flags & SA_RESTART) | SA_SIGINFO;
		sa.sa_mask = previous[i].sa_mask;
		sigaction(SIGNALS[i], &sa, NULL);
	}
}

void shutdown_unwatch(void)
{
	atomic_store(&requested, true);
	if(!watching) return;
	watching = false;
	for(size_t i = 0; i < N_SIGNALS; i++){
		struct sigaction cur;
		/* only when ours is still the handler: someone may have chained in front of it */
		if(sigaction(SIGNALS[i], NULL, &cur) == 0 && (cur.sa_flags & SA_SIGINFO)
				&& cur.sa_sigaction == on_signal){
			sigaction(SIGNALS[i], &previous[i], NULL);
		}
	}
}

bool shutdown_requested(void)
{
	return atomic_load(&requested);
}

static int on_progress(void *user, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	(void)user; (void)a; (void)b; (void)c; (void)d;
	return atomic_load(&requested) ? 1 : 0;
}

void shutdown_cancels(CURL *curl)
{
	curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
}

void shutdown_block_signals(sigset_t *saved)
{
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, saved);
}
