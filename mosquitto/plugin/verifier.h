/* Password verification in the broker for `$7$` records (kind pbkdf2-sha512 in the records
 * endpoint: docs/broker-protocol.md): PBKDF2-HMAC-SHA512(password, salt, iterations, |key|)
 * compared with the stored key in constant time, by OpenSSL's libcrypto (the same the files
 * broker runs). A wrong password is never a deny here: the caller asks the service, which
 * counts failed logins. */
#ifndef AUTHD_VERIFIER_H
#define AUTHD_VERIFIER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VERIFIER_MAX_KEY 64
#define VERIFIER_MAX_SALT 255
/* Dearer hashes are left to the service (it verifies them in its slow lane), so a hostile or
 * odd record cannot hold the broker's thread. */
#define VERIFIER_MAX_ITERATIONS 100000

/* Strict standard base64 (RFC 4648 §4, padding optional) into out[0..cap); the decoded length,
 * or -1 when it is not base64 or does not fit. */
long base64_decode(const char *s, size_t n, unsigned char *out, size_t cap);

/* True when PBKDF2-HMAC-SHA512(password) equals key (constant-time compare). */
bool pbkdf2_matches(const char *password, size_t plen, uint32_t iterations,
		const unsigned char *salt, size_t salt_len, const unsigned char *key, size_t key_len);

#endif
