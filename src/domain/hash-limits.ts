// What a stored hash may cost, the same for every format. PBKDF2 derives its key one digest-
// sized block at a time, each block running every iteration again: the real work is
// iterations × ⌈key length / digest length⌉ (RFC 8018 §5.2), so a 1 MB key at 1000 iterations
// costs as much as 16 million iterations of a 64-byte one. Salts and keys are also capped in
// size: a hash outside these bounds is refused without deriving anything.

/** Larger salts are refused (every format). go-auth writes 16 bytes, Mosquitto 12. */
export const MAX_SALT_BYTES = 1024;
/** Larger derived keys are refused (every PBKDF2 format). go-auth writes 32 or 64 bytes. */
export const MAX_KEY_BYTES = 1024;

/** Hashes dearer than this many times PASSWD_ITERATIONS verify in the slow lane. */
export const HEAVY_FACTOR = 10;

const DIGEST_BYTES = { sha256: 32, sha512: 64 } as const;

/**
 * Work in PBKDF2-SHA512 iterations of one 64-byte block. A SHA-256 block counts as a SHA-512
 * one (it is cheaper: the bound stays conservative).
 */
export function pbkdf2Work(
  iterations: number,
  keyBytes: number,
  digest: keyof typeof DIGEST_BYTES,
): number {
  return iterations * Math.ceil(keyBytes / DIGEST_BYTES[digest]);
}

/** Why a hash with this salt and key size is refused, or null. */
export function sizeProblem(saltBytes: number, keyBytes: number): string | null {
  if (saltBytes > MAX_SALT_BYTES)
    return `its salt (${saltBytes} bytes) is above ${MAX_SALT_BYTES} bytes`;
  if (keyBytes > MAX_KEY_BYTES)
    return `its key (${keyBytes} bytes) is above ${MAX_KEY_BYTES} bytes`;
  return null;
}
