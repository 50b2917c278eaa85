/* The little JSON the plugin speaks: request bodies it writes (string encoding) and the
 * one-line objects of the event stream it reads (RFC 8259 strings, members by name). */
#ifndef AUTHD_JSON_H
#define AUTHD_JSON_H
#include <stdbool.h>
#include <stddef.h>
#include "buf.h"

/* Appends `s` as a JSON string, quotes included. */
bool json_add_string(struct buf *out, const char *s);

/* Finds member `key` of the top-level object in s[0..n); its value is [*v, *vend).
 * False when absent or when the text is not one JSON object. Other members are skipped. */
bool json_member(const char *s, size_t n, const char *key, const char **v, const char **vend);

/* Decodes the JSON string at [v, vend) into `out` as UTF-8 (escapes, surrogate pairs).
 * False for anything else, a lone surrogate, or a NUL (names are C strings). */
bool json_string(const char *v, const char *vend, struct buf *out);

/* True when [v, vend) is the literal `true`. */
bool json_true(const char *v, const char *vend);


#endif
