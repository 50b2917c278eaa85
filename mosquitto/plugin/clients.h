/* Who is connected, as far as the plugin knows: a client admitted by basic auth until its
 * MOSQ_EVT_DISCONNECT, keyed by the broker's client pointer (a pointer reused by a later
 * client is simply admitted again). What a revalidation walks. Broker thread only. */
#ifndef AUTHD_CLIENTS_H
#define AUTHD_CLIENTS_H
#include <stdbool.h>
#include <stddef.h>

struct clients;

struct clients *clients_new(void);
void clients_free(struct clients *c);
/* False when memory runs out (the client is then not tracked). */
bool clients_put(struct clients *c, const void *client, const char *username);
void clients_drop(struct clients *c, const void *client);
size_t clients_count(const struct clients *c);
/* A copy of the distinct user names (each and the array freed with clients_names_free), so
 * that kicks, which call back into clients_drop, may run while it is walked. NULL with *n 0
 * when there are none or memory runs out. */
char **clients_names(const struct clients *c, size_t *n);
void clients_names_free(char **names, size_t n);

#endif
