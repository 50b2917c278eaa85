// The secrets an Idempotency-Key turns into, and the sealed answer: pure, no I/O.
import {
  fingerprint,
  idempotencyKeyProblem,
  idempotencySecrets,
  openAnswer,
  sealAnswer,
} from '../../src/domain/idempotency-crypto';

const KEY = '3f1c2a9e-5b7d-4e8f-9a0b-1c2d3e4f5a6b';

it.each([
  ['', 'must be 16 to 255'],
  ['short-key', 'must be 16 to 255'],
  ['x'.repeat(256), 'must be 16 to 255'],
  ['has a space in it ok', 'printable ASCII'],
  ['ünïcödé-key-123456', 'printable ASCII'],
])('Idempotency-Key %j is refused (%s)', (key, why) => {
  expect(idempotencyKeyProblem(key)).toContain(why);
});

it('accepts a UUID and any 16+ printable ASCII', () => {
  expect(idempotencyKeyProblem(KEY)).toBeNull();
  expect(idempotencyKeyProblem('order-0000000001')).toBeNull();
});

it('the record name, seal key and MAC key are stable, distinct, and none is the key', () => {
  const a = idempotencySecrets(KEY);
  expect(idempotencySecrets(KEY)).toEqual(a);
  expect(a.name).toMatch(/^[0-9a-f]{64}$/);
  expect(a.name).not.toContain(KEY);
  expect(a.seal.toString('hex')).not.toBe(a.name);
  expect(a.mac.equals(a.seal)).toBe(false);
  expect(idempotencySecrets(`${KEY}x`).name).not.toBe(a.name);
  // one key, one record per admin token; '' (the CLI) keeps the name it always had
  expect(idempotencySecrets(KEY, 'token-a').name).not.toBe(a.name);
  expect(idempotencySecrets(KEY, 'token-a').name).not.toBe(idempotencySecrets(KEY, 'token-c').name);
  expect(idempotencySecrets(KEY, '')).toEqual(a);
});

it('a sealed answer opens with its key only, and holds no plaintext', () => {
  const s = idempotencySecrets(KEY);
  const answer = { status: 201, body: { id: 'dev', password: 'Secret-Password-123' } };
  const box = sealAnswer(s.seal, answer);
  expect(box).not.toContain('Secret');
  expect(Buffer.from(box, 'base64url').toString('latin1')).not.toContain('Secret-Password');
  expect(openAnswer(s.seal, box)).toEqual(answer);
  expect(openAnswer(idempotencySecrets(`${KEY}-other`).seal, box)).toBeNull();
  const tampered = Buffer.from(box, 'base64url');
  tampered.writeUInt8((tampered.at(-1) ?? 0) ^ 1, tampered.length - 1);
  expect(openAnswer(s.seal, tampered.toString('base64url'))).toBeNull();
  expect(sealAnswer(s.seal, answer)).not.toBe(box); // a fresh IV each time
});

it('the fingerprint tells requests apart, part boundaries included', () => {
  const { mac } = idempotencySecrets(KEY);
  const fp = (...p: string[]) => fingerprint(mac, p);
  expect(fp('POST', '/devices', 'a', '{}')).toBe(fp('POST', '/devices', 'a', '{}'));
  expect(fp('POST', '/devices', 'a', '{}')).not.toBe(fp('POST', '/devices', 'b', '{}'));
  expect(fp('ab', 'c')).not.toBe(fp('a', 'bc'));
  expect(fingerprint(idempotencySecrets(`${KEY}-2`).mac, ['x'])).not.toBe(fp('x'));
});
