/* `make memory`: what the broker holds per one-rule device with preload, measured with glibc's
 * own accounting (mallinfo2: bytes in use, before and after). N records as the page endpoint
 * sends them (12-byte salt, 64-byte key, `devices/%u/#` readwrite) are decoded and kept, the
 * JSON freed, as plugin_opt_preload does. docs/plugin.md quotes the result. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "record_parse.h"
#include "records.h"

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 100000;
	struct rule_table t;
	if(n <= 0 || !rule_table_init(&t, 5)) return 1;
	struct records *s = records_new((size_t)1 << 40, 6, &t);
	if(!s) return 1;
	size_t before = mallinfo2().uordblks;
	char json[512];
	for(long i = 0; i < n; i++){
		snprintf(json, sizeof json, "{\"username\":\"device-%06ld\",\"known\":true,"
			"\"cred\":\"%016lx\",\"disabled\":false,\"superuser\":false,\"clientIds\":[],"
			"\"verifier\":{\"kind\":\"pbkdf2-sha512\",\"iterations\":1000,\"salt\":\"c2FsdDAxMjM0NTYh\","
			"\"key\":\"MRtZOBQXsLWFXX+nkbpyhJsFIT0gGEjSPudwTHGVJgnGcqhTwKdUozKb8ZbMzHbZbLDtUYKGQFWeVg8cK8BNoA==\"},"
			"\"acl\":[{\"pattern\":\"devices/%%u/#\",\"access\":\"readwrite\"}],\"lockedMs\":0}", i,
			(unsigned long)i * 2654435761u);
		cJSON *o = cJSON_Parse(json);
		const char *why = "";
		struct record *r = o ? record_from_json(o, &t, 0, &why) : NULL;
		cJSON_Delete(o);
		if(!r || (r->flags & REC_DAMAGED)){
			fprintf(stderr, "memory: record %ld refused (%s)\n", i, why);
			return 1;
		}
		records_put(s, r);
	}
	size_t after = mallinfo2().uordblks;
	printf("memory: %ld one-rule devices: %.1f B/device in use (malloc), %.1f B/device "
		"accounted against cache_mb, %zu rule set(s)\n", n, (double)(after - before) / (double)n,
		(double)(records_bytes(s) + t.bytes) / (double)n, t.count);
	records_free(s);
	rule_table_free(&t);
	return 0;
}
