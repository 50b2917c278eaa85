import { usernameProblem } from '../../src/domain/names';
import { generateDeviceId, generatePassword } from '../../src/domain/password-gen';

const N = 1000;

describe('generatePassword', () => {
  const pws = Array.from({ length: N }, generatePassword);

  it('is base64url of at least 128 bits, no padding', () => {
    for (const pw of pws) {
      expect(pw).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(Buffer.from(pw, 'base64url').length * 8).toBeGreaterThanOrEqual(128);
      expect(Buffer.from(pw, 'base64url').toString('base64url')).toBe(pw);
    }
  });

  it('is 32 characters (24 bytes)', () => {
    expect(new Set(pws.map((p) => p.length))).toEqual(new Set([32]));
  });

  it('never repeats', () => {
    expect(new Set(pws).size).toBe(N);
  });

  it('uses the whole alphabet', () => {
    const seen = new Set(pws.join(''));
    expect(seen.size).toBe(64);
  });

  it('is safe in a passwd file, a URL and a shell word', () => {
    for (const pw of pws) expect(pw).not.toMatch(/[:\s$'"\\/+=]/);
  });
});

describe('generateDeviceId', () => {
  const ids = Array.from({ length: N }, generateDeviceId);

  it('is dev- and 128 bits of hex', () => {
    for (const id of ids) expect(id).toMatch(/^dev-[0-9a-f]{32}$/);
  });

  it('never repeats', () => {
    expect(new Set(ids).size).toBe(N);
  });

  it('is an acceptable username', () => {
    for (const id of ids) expect(usernameProblem(id)).toBeNull();
  });
});
