/* Requests to the records endpoints (docs/broker-protocol.md, Records) on the check listener,
 * with the broker credential: POST /mqtt/records, GET /mqtt/common, POST /mqtt/records/page.
 * One kept-alive libcurl handle, the URLs of plugin_opt_url tried in order within one
 * request_timeout_ms, bodies bounded. Broker thread only. */
#ifndef AUTHD_RECFETCH_H
#define AUTHD_RECFETCH_H
#include <stddef.h>
#include "buf.h"

#define RECFETCH_MAX_BODY (64L * 1024 * 1024)

struct recfetch;

struct recfetch *recfetch_new(const char *urls, long timeout_ms, const char *token);
void recfetch_free(struct recfetch *f);
/* Each returns the HTTP status (the body, NUL-terminated, in *out) or -1 when no service
 * answered (why: recfetch_error). */
long recfetch_records(struct recfetch *f, const char *const *names, size_t n, struct buf *out);
long recfetch_common(struct recfetch *f, struct buf *out);
/* cursor NULL: the first page. */
long recfetch_page(struct recfetch *f, const char *cursor, long limit, struct buf *out);
const char *recfetch_error(const struct recfetch *f);
/* Sets what recfetch_error says (a request another handle made failed so). */
void recfetch_note(struct recfetch *f, const char *why);

#endif
