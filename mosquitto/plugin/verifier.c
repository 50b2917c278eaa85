#include "verifier.h"

#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

static int b64_value(unsigned char c)
{
	if(c >= 'A' && c <= 'Z') return c - 'A';
	if(c >= 'a' && c <= 'z') return c - 'a' + 26;
	if(c >= '0' && c <= '9') return c - '0' + 52;
	if(c == '+') return 62;
	if(c == '/') return 63;
	return -1;
}

long base64_decode(const char *s, size_t n, unsigned char *out, size_t cap)
{
	size_t pad = 0;
	while(n > 0 && s[n - 1] == '='){ n--; pad++; }
	if(pad > 2 || n % 4 == 1 || (pad > 0 && (n + pad) % 4 != 0)) return -1;
	size_t len = 0;
	uint32_t acc = 0;
	int bits = 0;
	for(size_t i = 0; i < n; i++){
		int v = b64_value((unsigned char)s[i]);
		if(v < 0) return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if(bits >= 8){
			bits -= 8;
			if(len >= cap) return -1;
			out[len++] = (unsigned char)(acc >> bits);
		}
	}
	if(bits > 0 && (acc & ((1u << bits) - 1)) != 0) return -1; /* non-canonical tail */
	return (long)len;
}

bool pbkdf2_matches(const char *password, size_t plen, uint32_t iterations,
		const unsigned char *salt, size_t salt_len, const unsigned char *key, size_t key_len)
{
	unsigned char derived[VERIFIER_MAX_KEY];
	if(key_len == 0 || key_len > sizeof derived || iterations == 0
			|| iterations > VERIFIER_MAX_ITERATIONS || plen > 0x7fffffff) return false;
	bool ok = PKCS5_PBKDF2_HMAC(password, (int)plen, salt, (int)salt_len, (int)iterations,
			EVP_sha512(), (int)key_len, derived) == 1
		&& CRYPTO_memcmp(derived, key, key_len) == 0;
	OPENSSL_cleanse(derived, sizeof derived);
	return ok;
}
