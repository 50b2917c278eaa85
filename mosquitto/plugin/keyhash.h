/* What the cache keeps of a verified password: HMAC-SHA-256 under a key drawn at startup
 * (OpenSSL's libcrypto: already loaded by the broker and libcurl, and a vetted SHA-256). The
 * key never leaves the process, so a cache dump gives nothing to test guesses against. */
#ifndef AUTHD_KEYHASH_H
#define AUTHD_KEYHASH_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KEYHASH_LEN 32

struct keyhash {
	unsigned char key[32];
};

/* Draws the key (and returns a random 64-bit seed for the cache in *seed). */
bool keyhash_init(struct keyhash *k, uint64_t *seed);
bool keyhash_of(const struct keyhash *k, const char *secret, size_t n,
		unsigned char out[KEYHASH_LEN]);
void keyhash_wipe(struct keyhash *k);

#endif
