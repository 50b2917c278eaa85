// The records endpoint's pure parts from tables: R from a decoded record, cred, the cursor.
import { credOf, toWire } from '../../src/checks/records';
import { decodePosition, encodePosition } from '../../src/checks/records-cursor';
import type { DeviceRecord } from '../../src/store/records';

const HASH = `$7$1000$${Buffer.alloc(12, 1).toString('base64')}$${Buffer.alloc(64, 2).toString('base64')}`;
const LIMITS = { padTo: 1000, maxIterations: 100_000 };
const rec = (o: Partial<DeviceRecord> = {}): DeviceRecord => ({
  username: 'd',
  hash: HASH,
  superuser: false,
  disabled: false,
  acl: [{ pattern: 'a/#', access: 'read' }],
  clientIds: [],
  metadata: {},
  createdAt: '',
  updatedAt: '',
  ...o,
});

describe('cred', () => {
  const base = credOf(rec());
  it.each<[string, Partial<DeviceRecord>, boolean]>([
    ['another hash', { hash: HASH.replace('1000', '1001') }, true],
    ['a client-id binding', { clientIds: ['x'] }, true],
    ['another binding order', { clientIds: ['b', 'a'] }, true],
    ['disabled', { disabled: true }, true],
    ['other rules', { acl: [] }, false],
    ['superuser', { superuser: true }, false],
    ['metadata', { metadata: { a: 1 } }, false],
    ['timestamps', { updatedAt: 'now' }, false],
  ])('%s: changes %s', (_, o, changes) => {
    expect(credOf(rec(o)) !== base).toBe(changes);
    expect(credOf(rec(o))).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('toWire', () => {
  it('an unknown name is only known:false', () => {
    expect(toWire('x', null, 0, LIMITS)).toEqual({ username: 'x', known: false });
  });
  it('a $7$ record carries its verifier; lockedMs is whole, never negative', () => {
    const r = toWire('d', rec(), 1234.2, LIMITS);
    expect(r).toMatchObject({
      known: true,
      verifier: { kind: 'pbkdf2-sha512', iterations: 1000 },
      lockedMs: 1235,
    });
    expect(toWire('d', rec(), -5, LIMITS)).toMatchObject({ lockedMs: 0 });
  });
  it('a damaged record: disabled, no superuser, no rules, a service verifier', () => {
    const r = toWire(
      'd',
      rec({ superuser: true, damaged: [{ field: 'acl', reason: 'x' }] }),
      0,
      LIMITS,
    );
    expect(r).toMatchObject({
      damaged: true,
      disabled: true,
      superuser: false,
      acl: [],
      verifier: { kind: 'service' },
    });
  });
  it('a hash the broker may not verify is a service verifier', () => {
    for (const hash of ['$6$abc$def', 'bogus', HASH.replace('$1000$', '$10001$')])
      expect(toWire('d', rec({ hash }), 0, LIMITS)).toMatchObject({
        verifier: { kind: 'service' },
      });
  });
});

describe('the page cursor', () => {
  it.each([
    { bucket: 0, name: 'a' },
    { bucket: 63, name: 'ü/+#:\u0001 long'.repeat(20) },
    { bucket: 5, name: null },
  ])('round-trips %j', (p) => {
    expect(decodePosition(encodePosition(p))).toEqual(p);
  });
  it.each(['', 'x', 'p1.64.YQ', 'p1.-1.YQ', 'p2.0.YQ', 'p1.0.Y+Q', 'p1.0.YR', 'p1.000.YQ'])(
    'refuses %j as bad_request',
    (c) => {
      expect(() => decodePosition(c)).toThrow(expect.objectContaining({ code: 'bad_request' }));
    },
  );
});
