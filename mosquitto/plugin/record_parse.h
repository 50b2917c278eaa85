/* One record object of the records endpoints (docs/broker-protocol.md `R`) decoded once into a
 * struct record, with cJSON. What does not decode never allows: the record comes back
 * REC_DAMAGED (every check of that user denied, *why names the field), and only a record without
 * a readable username is refused outright (NULL, *why set). */
#ifndef AUTHD_RECORD_PARSE_H
#define AUTHD_RECORD_PARSE_H
#include <cjson/cJSON.h>
#include "records.h"

/* now_ms: mono_ms() (lockedMs is relative). NULL on out of memory too (*why "out of memory"). */
struct record *record_from_json(const cJSON *o, struct rule_table *t, int64_t now_ms,
		const char **why);
/* A list of rules ([{pattern, access}, …]) interned; NULL with *why when it does not decode. */
struct ruleset *rules_from_json(const cJSON *a, struct rule_table *t, const char **why);
/* True when the text holds an escaped NUL (`\u0000`), which cJSON would cut a name at. */
bool json_has_escaped_nul(const char *s, size_t n);

#endif
