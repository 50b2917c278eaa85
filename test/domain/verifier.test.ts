// The stored hash decoded once (src/domain/verifier.ts), from a table: each scheme's kind, its
// work, the bound, needs-rehash, the scheme shown, and what the broker is served.
import { pbkdf2Sync } from 'node:crypto';
import {
  brokerVerifier,
  decodeVerifier,
  hashScheme,
  needsRehash,
  verifierTooCostly,
  verifierWork,
} from '../../src/domain/verifier';

const seven = (iterations: number, saltBytes: number, keyBytes = 64) =>
  `$7$${iterations}$${Buffer.alloc(saltBytes, 7).toString('base64')}$${Buffer.alloc(keyBytes, 9).toString('base64')}`;
const goAuth = `PBKDF2$sha512$1000$${Buffer.alloc(16, 1).toString('base64')}$${pbkdf2Sync('p', Buffer.alloc(16, 1), 1000, 32, 'sha512').toString('base64')}`;
const LIMITS = { padTo: 1000, maxIterations: 100_000 };

it.each<[string, string, string, number, boolean, string, 'pbkdf2-sha512' | 'service']>([
  ['$7$ 12-byte salt', seven(1000, 12), 'pbkdf2-sha512', 1000, false, '$7$', 'pbkdf2-sha512'],
  ['$7$ 64-byte salt', seven(101, 64), 'pbkdf2-sha512', 101, false, '$7$', 'pbkdf2-sha512'],
  ['$7$ 16-byte salt', seven(1000, 16), 'pbkdf2-sha512', 1000, true, '$7$', 'service'],
  ['$7$ slow lane', seven(10_001, 12), 'pbkdf2-sha512', 10_001, false, '$7$', 'service'],
  ['$7$ at the lane', seven(10_000, 12), 'pbkdf2-sha512', 10_000, false, '$7$', 'pbkdf2-sha512'],
  [
    '$6$',
    `$6$${Buffer.alloc(12).toString('base64')}$${Buffer.alloc(64).toString('base64')}`,
    'sha512',
    1,
    true,
    '$6$',
    'service',
  ],
  ['go-auth PBKDF2', goAuth, 'legacy', 1000, true, 'go-auth-pbkdf2-sha512', 'service'],
  ['garbage', 'not-a-hash', 'malformed', 0, false, 'unknown', 'service'],
  ['$7$ with a short key', seven(1000, 12, 32), 'malformed', 0, false, 'unknown', 'service'],
])('%s', (_, stored, kind, work, rehash, scheme, served) => {
  const v = decodeVerifier(stored);
  expect(v.kind).toBe(kind);
  expect(verifierWork(v)).toBe(work);
  expect(needsRehash(v)).toBe(rehash);
  expect(needsRehash(stored)).toBe(rehash);
  expect(hashScheme(v)).toBe(scheme);
  expect(brokerVerifier(v, LIMITS).kind).toBe(served);
});

it('the work bound: over PASSWD_MAX_ITERATIONS, or a key of many blocks, is refused', () => {
  expect(verifierTooCostly(decodeVerifier(seven(100_000, 12)), 100_000)).toBeNull();
  expect(verifierTooCostly(decodeVerifier(seven(100_001, 12)), 100_000)).toMatch(/100001/);
  expect(verifierTooCostly(decodeVerifier('not-a-hash'), 1)).toBeNull(); // nothing to derive
  expect(
    brokerVerifier(decodeVerifier(seven(100_001, 12)), { padTo: 100_000, maxIterations: 100_000 })
      .kind,
  ).toBe('service');
});

it('the broker verifier re-encodes salt and key in standard base64', () => {
  const v = brokerVerifier(decodeVerifier(seven(1000, 12)), LIMITS);
  expect(v).toEqual({
    kind: 'pbkdf2-sha512',
    iterations: 1000,
    salt: Buffer.alloc(12, 7).toString('base64'),
    key: Buffer.alloc(64, 9).toString('base64'),
  });
});
