/* The service's check endpoints (/mqtt/user, /mqtt/superuser, /mqtt/acl; json bodies as
 * go-auth sends them, status answers), over one kept-alive libcurl connection with a bounded
 * timeout. Broker thread only: it waits for the answer, as with go-auth, but only on a miss. */
#ifndef AUTHD_CHECKS_H
#define AUTHD_CHECKS_H

enum answer { ANSWER_ALLOW, ANSWER_DENY, ANSWER_ERROR };

#include <curl/curl.h>

struct checks;

/* token: the broker credential sent as `Authorization: Bearer`, or NULL (copied). */
struct checks *checks_new(const char *url, long timeout_ms, const char *token);
/* Appends `Authorization: Bearer <token>` (nothing when token is NULL); NULL on out of memory,
 * with h freed. */
struct curl_slist *auth_header_append(struct curl_slist *h, const char *token);
/* Frees a header list, wiping each header first (one holds the token). */
void headers_free_wiped(struct curl_slist *h);
void checks_free(struct checks *c);
/* The libcurl handle (to set socket callbacks on; no transfer may be running). */
CURL *checks_handle(struct checks *c);

enum answer checks_user(struct checks *c, const char *username, const char *password,
		const char *clientid);
enum answer checks_superuser(struct checks *c, const char *username);
/* The entry of the URL list holding the event stream (events_at), or -1: asked first. */
void checks_follow(struct checks *c, long at);
/* Why the last check was ANSWER_ERROR. */
const char *checks_error(const struct checks *c);
enum answer checks_acl(struct checks *c, const char *username, const char *clientid,
		const char *topic, int acc);

#endif
