/* Waking the broker's thread when the plugin has work for it (queued events, completed
 * delayed logins). Mosquitto 2.0 ticks a plugin once per loop and wakes at least every 100 ms;
 * 2.1 sleeps until its next event (up to the keep-alive horizon, seconds) and ticks a plugin
 * only when it asks. Modes (plugin_opt_wake, or MQTT_AUTHD_WAKE when the option is absent):
 *   signal    a real-time signal sent to the broker's thread interrupts its epoll_wait, so
 *             the loop runs and ticks us; resent at 1, 2, 4 … 50 ms until the work is taken
 *             (a signal that lands outside epoll_wait wakes nothing). Default on 2.1.
 *   tick:<ms> ask 2.1 for a tick every <ms> (1..1000): polling, it costs CPU when idle.
 *   none      rely on the broker's own wake-ups. Default on 2.0. */
#ifndef AUTHD_WAKE_H
#define AUTHD_WAKE_H
#include <stdbool.h>
#include <stddef.h>

enum wake_mode { WAKE_DEFAULT, WAKE_NONE, WAKE_SIGNAL, WAKE_TICK };

struct wake_conf {
	enum wake_mode mode;
	long tick_ms;
};

/* "none", "signal" or "tick:<1..1000>"; false when it is none of them. */
bool wake_parse(const char *s, struct wake_conf *out);

struct wake;

/* On the broker's thread (plugin init): that thread is the one woken. `waiting` (any thread)
 * says how much work is still queued for the tick. WAKE_DEFAULT picks by broker version.
 * NULL with *why on failure. */
struct wake *wake_start(struct wake_conf conf, size_t (*waiting)(void *), void *arg,
		const char **why);
/* Any thread: work was queued. */
void wake_poke(struct wake *w);
/* Broker thread, from MOSQ_EVT_TICK: how long until the next tick we ask for (0: the
 * broker's choice). */
long wake_next_ms(const struct wake *w);
/* "signal 38", "tick every 5 ms", "none" (for the init log line). */
const char *wake_describe(const struct wake *w);
/* How many signals were sent so far. */
unsigned long wake_sent(const struct wake *w);
/* Stops and joins the waker thread; the signal is ignored from then on. NULL is fine. */
void wake_stop(struct wake *w);

#endif
