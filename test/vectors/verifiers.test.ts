// The committed verifier vectors agree with src/domain/verifier.ts and with the service's own
// verification (HashWork). UPDATE_VECTORS=1 regenerates the file first.
import { pbkdf2Sync, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { HashWork } from '../../src/domain/hash-work';
import { brokerVerifier, decodeVerifier } from '../../src/domain/verifier';
import {
  buildVerifiers,
  renderVerifiers,
  VERIFIERS_PATH,
  writeVerifiers,
  type VerifierFile,
} from './generate-verifiers';

if (process.env.UPDATE_VECTORS === '1') writeVerifiers();
const text = readFileSync(VERIFIERS_PATH, 'utf8');
const committed = JSON.parse(text) as VerifierFile;
const work = new HashWork({ ...committed.limits });

describe('test/vectors/verifiers.json', () => {
  it('is what generate-verifiers.ts builds now (regenerate: UPDATE_VECTORS=1)', () => {
    expect(text).toBe(renderVerifiers(buildVerifiers()));
    const kinds = committed.cases.map((c) => c.verifier.kind);
    expect(kinds).toContain('pbkdf2-sha512');
    expect(kinds).toContain('service');
  });

  it.each(committed.cases.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    expect(brokerVerifier(decodeVerifier(c.hash), committed.limits)).toEqual(c.verifier);
    const v = c.verifier;
    if (v.kind === 'pbkdf2-sha512') {
      // What the broker runs: PBKDF2-HMAC-SHA512(password, salt, iterations, 64) = key.
      const salt = Buffer.from(v.salt, 'base64');
      const key = Buffer.from(v.key, 'base64');
      expect(`$7$${v.iterations}$${v.salt}$${v.key}`).toBe(c.hash);
      const derive = (p: string) => pbkdf2Sync(p, salt, v.iterations, 64, 'sha512');
      expect(timingSafeEqual(derive(c.right), key)).toBe(true);
      for (const w of c.wrong) expect(timingSafeEqual(derive(w), key)).toBe(false);
    }
    // The service agrees on every hash it can verify under the limits.
    const result = await work.verify(c.right, c.hash);
    if (c.name === 'not a hash') expect(result).toBe('malformed');
    else if (c.name.includes('above PASSWD_MAX_ITERATIONS')) expect(result).toBe('unusable');
    else {
      expect(result).toBe('match');
      for (const w of c.wrong)
        expect(await work.verify(w, decodeVerifier(c.hash))).toBe('mismatch');
    }
  });
});
