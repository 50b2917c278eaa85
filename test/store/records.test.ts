// How a device is stored in its Redis hash, and what a damaged hash decodes to: every
// doubt falls on the side of refusing (disabled, deny-all rules, no client id matches).
import {
  decodeRecord,
  encodeFields,
  pairsToObject,
  type DeviceFields,
} from '../../src/store/records';

const FULL: DeviceFields = {
  hash: '$7$101$c2FsdA==$a2V5',
  superuser: true,
  disabled: false,
  acl: [{ pattern: 'devices/%u/#', access: 'readwrite' }],
  clientIds: ['%u-1'],
  metadata: { site: 'north', n: 3 },
  createdAt: '2026-11-30T00:00:00.000Z',
  updatedAt: '2026-11-30T00:00:01.000Z',
};

/** HSET's flat [field, value, …] as the hash HGETALL gives back. */
const asHash = (flat: string[]) => pairsToObject(flat);

test('encode → decode gives the record back', () => {
  expect(decodeRecord('dev', asHash(encodeFields(FULL)))).toEqual({ username: 'dev', ...FULL });
});

test('booleans are stored as 1/0 and JSON fields as JSON; undefined fields are not written', () => {
  expect(encodeFields({ superuser: true, disabled: false, acl: [], hash: undefined })).toEqual([
    'superuser', '1', 'disabled', '0', 'acl', '[]',
  ]); // prettier-ignore
});

test('an empty hash is no user', () => {
  expect(decodeRecord('ghost', {})).toBeNull();
});

test.each([
  ['missing fields take the safe defaults', { hash: 'h' }, { superuser: false, disabled: false, acl: [], clientIds: [], metadata: {} }],
  ['disabled is anything but an explicit 0', { hash: 'h', disabled: 'yes' }, { disabled: true }],
  ['disabled "" also disables', { hash: 'h', disabled: '' }, { disabled: true }],
  ['superuser only for exactly 1', { hash: 'h', superuser: 'true' }, { superuser: false }],
  ['a corrupt ACL denies everything', { hash: 'h', acl: '[{' }, { acl: [{ pattern: '#', access: 'deny' }] }],
  ['an ACL that is not a list denies everything', { hash: 'h', acl: '{"pattern":"#"}' }, { acl: [{ pattern: '#', access: 'deny' }] }],
  ['corrupt client ids match no client', { hash: 'h', clientIds: 'x' }, { clientIds: ['\u0000corrupt'] }],
  ['corrupt metadata is dropped, not fatal', { hash: 'h', metadata: '{' }, { metadata: {} }],
])('%s', (_what, hash: Record<string, string>, expected) => {
  expect(decodeRecord('dev', hash)).toMatchObject(expected);
}); // prettier-ignore

test('a hash without a password hash still decodes (and then can never verify)', () => {
  expect(decodeRecord('dev', { superuser: '1' })).toMatchObject({ hash: '', superuser: true });
});

test('pairsToObject reads a Lua HGETALL reply and tolerates anything else', () => {
  expect(pairsToObject(['a', '1', 'b', 2])).toEqual({ a: '1', b: '2' });
  expect(pairsToObject(['odd'])).toEqual({});
  expect(pairsToObject(null)).toEqual({});
});
