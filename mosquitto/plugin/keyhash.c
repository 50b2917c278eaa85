#include "keyhash.h"

#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

bool keyhash_init(struct keyhash *k, uint64_t *seed)
{
	unsigned char s[8];
	if(RAND_bytes(k->key, sizeof k->key) != 1 || RAND_bytes(s, sizeof s) != 1) return false;
	memcpy(seed, s, sizeof s);
	return true;
}

bool keyhash_of(const struct keyhash *k, const char *secret, size_t n,
		unsigned char out[KEYHASH_LEN])
{
	unsigned int len = 0;
	return HMAC(EVP_sha256(), k->key, (int)sizeof k->key, (const unsigned char *)secret, n,
			out, &len) != NULL && len == KEYHASH_LEN;
}

void keyhash_wipe(struct keyhash *k)
{
	OPENSSL_cleanse(k->key, sizeof k->key);
}
