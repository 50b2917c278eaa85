/* Stopping checks in flight when the broker is told to stop. A CONNECT or ACL check waits on the
 * broker's thread for the service (up to request_timeout_ms); on SIGTERM with N such checks in
 * one loop iteration against a hung service the broker took N × the timeout to exit. Mosquitto
 * keeps its stop flag to itself, so the plugin chains its own handler in front of the broker's
 * SIGTERM/SIGINT handlers and every libcurl transfer of the checks aborts (progress callback)
 * once it is set. */
#ifndef AUTHD_SHUTDOWN_H
#define AUTHD_SHUTDOWN_H
#include <signal.h>
#include <stdbool.h>
#include <curl/curl.h>

/* Broker thread, on the first tick (the broker installs its handlers after loading plugins):
 * SIGTERM and SIGINT set the flag, then run the broker's handler. Idempotent. */
void shutdown_watch(void);
/* Plugin cleanup: sets the flag (the delayed-login workers abort), puts the broker's handlers
 * back. */
void shutdown_unwatch(void);
/* Plugin init: the flag cleared. */
void shutdown_reset(void);
bool shutdown_requested(void);
/* Sets the progress callback on a check handle: the transfer aborts once the flag is set. */
void shutdown_cancels(CURL *curl);
/* Blocks every signal in the calling thread (*saved: the mask before), so that threads created
 * meanwhile never take the broker's signals; pthread_sigmask(SIG_SETMASK, saved, NULL) after. */
void shutdown_block_signals(sigset_t *saved);

#endif
