// A stored password hash decoded once, with its record: verification, the work bound,
// needs-rehash, the scheme shown by the API and the verifier the records endpoint serves to
// the broker all read this one value instead of parsing the text again at each step.
import { HEAVY_FACTOR } from './hash-limits';
import {
  legacySchemeName,
  legacyTooCostly,
  legacyWork,
  parseLegacyHash,
  type LegacyHash,
} from './legacy-hash';
import { SALT_BYTES } from './mosquitto-rules';
import { nativeTooCostly, parseHash, workOf, type ParsedHash } from './passwd-hash';

export type Verifier =
  /** `$7$`: PBKDF2-HMAC-SHA512, what Mosquitto (and the plugin) verify. */
  | { kind: 'pbkdf2-sha512'; hash: ParsedHash }
  /** `$6$`: salted SHA-512 (Mosquitto 1.x), verified here and rehashed at login. */
  | { kind: 'sha512'; hash: ParsedHash }
  /** Imported go-auth PBKDF2, bcrypt or argon2id: verified here and rehashed at login. */
  | { kind: 'legacy'; hash: LegacyHash; stored: string }
  /** Not a hash any scheme reads: every password is wrong (after the same work). */
  | { kind: 'malformed' };

export function decodeVerifier(stored: string): Verifier {
  const parsed = parseHash(stored);
  if (parsed) return { kind: parsed.kind === 7 ? 'pbkdf2-sha512' : 'sha512', hash: parsed };
  const legacy = parseLegacyHash(stored);
  return legacy ? { kind: 'legacy', hash: legacy, stored } : { kind: 'malformed' };
}

const decoded = (v: string | Verifier): Verifier => (typeof v === 'string' ? decodeVerifier(v) : v);

/** Work of one verification in PBKDF2-SHA512 iterations (0: malformed, nothing derived). */
export function verifierWork(v: Verifier): number {
  if (v.kind === 'malformed') return 0;
  return v.kind === 'legacy' ? legacyWork(v.hash) : workOf(v.hash);
}

/** Why this hash may not be derived under `maxIterations`, or null when it may. */
export function verifierTooCostly(v: Verifier, maxIterations: number): string | null {
  if (v.kind === 'malformed') return null;
  return v.kind === 'legacy'
    ? legacyTooCostly(v.hash, maxIterations)
    : nativeTooCostly(v.hash, maxIterations);
}

/**
 * Whether a correct login should store a fresh `$7$` hash instead: legacy schemes, `$6$`, and
 * a `$7$` whose salt Mosquitto 2.1 cannot read (not 12 or 64 bytes).
 */
export function needsRehash(stored: string | Verifier): boolean {
  const v = decoded(stored);
  if (v.kind === 'pbkdf2-sha512') return !SALT_BYTES.includes(v.hash.salt.length as 12 | 64);
  return v.kind !== 'malformed';
}

/**
 * The scheme of a stored hash, shown instead of the hash: `$7$`, `$6$`, `go-auth-pbkdf2-sha512`,
 * `go-auth-pbkdf2-sha256`, `bcrypt`, `argon2id`, or `unknown`.
 */
export function hashScheme(stored: string | Verifier): string {
  const v = decoded(stored);
  if (v.kind === 'pbkdf2-sha512') return '$7$';
  if (v.kind === 'sha512') return '$6$';
  return v.kind === 'legacy' ? legacySchemeName(v.hash) : 'unknown';
}

/** The verifier as the records endpoint serves it (docs/broker-protocol.md, `verifier`). */
export type BrokerVerifier =
  { kind: 'pbkdf2-sha512'; iterations: number; salt: string; key: string } | { kind: 'service' };

/**
 * What the broker may verify itself: a `$7$` hash that needs no rehash, is within
 * PASSWD_MAX_ITERATIONS and is not a slow-lane hash (dearer than 10 × PASSWD_ITERATIONS).
 * Anything else the broker asks of the service, which verifies, counts and rehashes.
 */
export function brokerVerifier(
  v: Verifier,
  limits: { padTo: number; maxIterations: number },
): BrokerVerifier {
  if (
    v.kind !== 'pbkdf2-sha512' ||
    needsRehash(v) ||
    verifierTooCostly(v, limits.maxIterations) !== null ||
    verifierWork(v) > limits.padTo * HEAVY_FACTOR
  ) {
    return { kind: 'service' };
  }
  const { iterations, salt, key } = v.hash;
  return {
    kind: 'pbkdf2-sha512',
    iterations,
    salt: salt.toString('base64'),
    key: key.toString('base64'),
  };
}
