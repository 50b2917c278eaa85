// Legacy hashes from the real tools: go-auth's own published PBKDF2 vectors, go-auth's format
// from its documented parameters, `htpasswd -B` (apache2-utils) for bcrypt and the `argon2`
// CLI for argon2id. scripts/setup.sh --test installs both tools: these tests never skip.
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import {
  legacyTooCostly,
  legacyWork,
  parseLegacyHash,
  toStoredLegacy,
} from '../../src/domain/legacy-hash';
import { HashWork, overWorkBound } from '../../src/domain/hash-work';
import { hashScheme, needsRehash } from '../../src/domain/verifier';
import { verifyPassword } from '../support/verify';
import { argon2Cli, GO_AUTH_VECTORS, goAuthPbkdf2, htpasswdBcrypt } from '../support/legacy-hashes';

describe('go-auth PBKDF2', () => {
  it.each(GO_AUTH_VECTORS)('verifies go-auth’s published hash of %j', async (pw, hash) => {
    expect(await verifyPassword(pw, hash)).toBe('match');
    expect(await verifyPassword(`${pw}x`, hash)).toBe('mismatch');
    expect(hashScheme(hash)).toBe('go-auth-pbkdf2-sha512');
  });

  it('verifies the documented defaults (sha512, 100 000, 16-byte salt, 32-byte key) and 64-byte keys', async () => {
    for (const keyLen of [32, 64]) {
      const hash = goAuthPbkdf2('s3cret pässword', { keyLen });
      expect(await verifyPassword('s3cret pässword', hash)).toBe('match');
      expect(await verifyPassword('s3cret password', hash)).toBe('mismatch');
    }
  });

  it('verifies sha256 and the pbkdf2-sha512$i=,l= spelling', async () => {
    const h256 = goAuthPbkdf2('pw-256', { digest: 'sha256', iterations: 1000 });
    expect(hashScheme(h256)).toBe('go-auth-pbkdf2-sha256');
    expect(await verifyPassword('pw-256', h256)).toBe('match');
    const salt = randomBytes(16);
    const key = pbkdf2Sync('pw-phc', salt, 2000, 32, 'sha512');
    const unpadded = (b: Buffer) => b.toString('base64').replace(/=+$/, '');
    const phc = `$pbkdf2-sha512$i=2000,l=32$${unpadded(salt)}$${unpadded(key)}`;
    expect(await verifyPassword('pw-phc', phc)).toBe('match');
    expect(await verifyPassword('pw-php', phc)).toBe('mismatch');
  });

  it('re-encodes utf-8 salts (hasher_salt_encoding utf-8) as base64 of the same bytes', async () => {
    const salt = Buffer.from('Zq9;x!e%Lp0~aB3d', 'utf8'); // what a utf-8-mode salt looks like
    const raw = goAuthPbkdf2('dev-pw', { salt, utf8: true, iterations: 1000 });
    expect(raw).toContain('$Zq9;x!e%Lp0~aB3d$');
    expect(toStoredLegacy(raw, 'base64')).toBeNull(); // not base64: the option is needed
    const stored = toStoredLegacy(raw, 'utf-8') as string;
    expect(stored).toContain(`$${salt.toString('base64')}$`);
    expect(await verifyPassword('dev-pw', stored)).toBe('match');
    expect(await verifyPassword('dev-px', stored)).toBe('mismatch');
  });

  it.each([
    ['PBKDF2$md5$1000$c2FsdHNhbHQ=$' + Buffer.alloc(32).toString('base64'), 'unknown digest'],
    ['PBKDF2$sha512$0$c2FsdHNhbHQ=$' + Buffer.alloc(32).toString('base64'), 'zero iterations'],
    ['PBKDF2$sha512$1000$c2FsdHNhbHQ=$AAAA', 'key shorter than 16 bytes'],
    ['PBKDF2$sha512$1000$c2FsdHNhbHQ=$', 'no key (go-auth would accept any password)'],
    ['pbkdf2-sha512$i=1000,l=32$c2FsdA$!!', 'key not base64'],
    [
      'pbkdf2-sha512$i=1000,l=64$c2FsdA$' + Buffer.alloc(32).toString('base64').replace(/=+$/, ''),
      'l disagrees with the key',
    ],
    ['$2y$05$short', 'truncated bcrypt'],
    ['$argon2i$v=19$m=4096,t=3,p=1$c2FsdHNhbHQ$' + 'A'.repeat(43), 'argon2i, not argon2id'],
  ])('refuses %s (%s)', async (hash) => {
    expect(parseLegacyHash(hash)).toBeNull();
    expect(await verifyPassword('anything', hash)).toBe('malformed');
    expect(hashScheme(hash)).toBe('unknown');
  });
});

describe('bcrypt from htpasswd -B', () => {
  const hash = htpasswdBcrypt('bc-password');

  it('verifies $2y$ as htpasswd writes it, and the same hash as $2a$ and $2b$', async () => {
    expect(hash).toMatch(/^\$2y\$05\$/);
    for (const prefix of ['$2y$', '$2a$', '$2b$']) {
      const h = prefix + hash.slice(4);
      expect(hashScheme(h)).toBe('bcrypt');
      expect(await verifyPassword('bc-password', h)).toBe('match');
      expect(await verifyPassword('bc-passwore', h)).toBe('mismatch');
    }
  });

  it('refuses a cost above PASSWD_MAX_ITERATIONS without hashing (unusable)', async () => {
    const dear = hash.replace('$05$', '$14$'); // never derived: refused from the cost alone
    expect(legacyWork(parseLegacyHash(dear)!)).toBe(96 * 2 ** 14);
    expect(await verifyPassword('bc-password', dear, 100000)).toBe('unusable');
    expect(await verifyPassword('bc-password', hash, 100000)).toBe('match');
  });
});

describe('argon2id from the argon2 CLI', () => {
  it('verifies what the CLI writes, go-auth’s defaults (m=4096, t=3, p=2) included', async () => {
    for (const o of [{}, { p: 2 }, { t: 1, m: 10 }]) {
      const hash = argon2Cli('a2-password', o);
      expect(hash).toMatch(/^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$/);
      expect(hashScheme(hash)).toBe('argon2id');
      expect(await verifyPassword('a2-password', hash)).toBe('match');
      expect(await verifyPassword('a2-passworD', hash)).toBe('mismatch');
    }
  });

  it('caps memory and time: refused from the parameters, never derived', async () => {
    const hash = argon2Cli('a2-password');
    const huge = hash.replace(/m=\d+,t=\d+/, 'm=4194304,t=3'); // 4 GiB
    expect(legacyTooCostly(parseLegacyHash(huge)!, 1e9)).toMatch(/memory/);
    expect(await verifyPassword('a2-password', huge, 100000)).toBe('unusable');
    const slow = hash.replace(/t=\d+/, 't=1000');
    expect(await verifyPassword('a2-password', slow, 100000)).toBe('unusable');
  });
});

describe('through HashWork: the same bound, slow lane and padding as $7$', () => {
  const work = new HashWork({ maxIterations: 100000, padTo: 101 });

  it('verifies legacy hashes and refuses the dear ones without deriving them', async () => {
    const bc = htpasswdBcrypt('hw-password');
    expect(await work.verify('hw-password', bc)).toBe('match');
    expect(await work.verify('hw-passwore', bc)).toBe('mismatch');
    expect(await work.verify('hw-password', bc.replace('$05$', '$12$'))).toBe('unusable');
    const a2 = argon2Cli('hw-password');
    expect(await work.verify('hw-password', a2)).toBe('match');
    expect(await work.verify('hw-password', a2.replace(/m=\d+/, 'm=1048576'))).toBe('unusable');
    const pb = goAuthPbkdf2('hw-password', { iterations: 100001 });
    expect(await work.verify('hw-password', pb)).toBe('unusable');
    expect(overWorkBound(pb, 100000)).toBe(true);
    expect(overWorkBound(bc, 100000)).toBe(false);
  });

  it('go-auth’s default PBKDF2 (100 000 > 10 × padTo) verifies through the slow lane', async () => {
    const pb = goAuthPbkdf2('lane-password');
    const results = await Promise.all([1, 2, 3].map(() => work.verify('lane-password', pb)));
    expect(results).toEqual(['match', 'match', 'match']);
  });
});

describe('which hashes are upgraded at login', () => {
  it.each([
    [GO_AUTH_VECTORS[0]![1], true],
    ['$6$c2FsdA==$' + Buffer.alloc(64).toString('base64'), true],
    ['$7$101$c2FsdHNhbHRzYWx0$' + Buffer.alloc(64).toString('base64'), false],
    ['garbage', false],
  ])('%s → %s', (hash, expected) => {
    expect(needsRehash(hash)).toBe(expected);
  });
});

describe('verification runs off the event loop', () => {
  // Each of these takes ~0.2–0.4 s of CPU here. On the event loop a 5 ms timer would fire only
  // between them (a handful of times); in libuv's pool it keeps firing throughout. Counting
  // ticks, not measuring delays, keeps this meaningful on a busy machine.
  it('bcrypt cost 12 and argon2id 64 MiB × 8 passes leave the loop free', async () => {
    const bc = htpasswdBcrypt('loop-password', 12);
    const a2 = argon2Cli('loop-password', { m: 16, t: 8 });
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const results = await Promise.all([
      verifyPassword('loop-password', bc, 1e9),
      verifyPassword('loop-password', bc, 1e9),
      verifyPassword('loop-password', a2, 1e9),
      verifyPassword('loop-password', a2, 1e9),
    ]);
    clearInterval(timer);
    expect(results).toEqual(['match', 'match', 'match', 'match']);
    expect(ticks).toBeGreaterThan(40);
  });
});
