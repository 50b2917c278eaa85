// How a device is stored in its Redis hash, and what a damaged hash decodes to: every doubt
// falls on the side of refusing (test/store/damaged-records.test.ts: the same through checks).
import {
  decodeRecord,
  encodeFields,
  pairsToObject,
  revokingFields,
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

test('missing optional fields take the safe defaults and are not damage', () => {
  expect(decodeRecord('dev', { hash: 'h' })).toEqual({
    username: 'dev', hash: 'h', superuser: false, disabled: false, acl: [], clientIds: [],
    metadata: {}, createdAt: '', updatedAt: '',
  });
}); // prettier-ignore

// Any damaged field: the record is disabled, never a superuser, and says which field.
test.each([
  ['disabled other than 0/1', { hash: 'h', disabled: 'yes' }, 'disabled'],
  ['superuser other than 0/1', { hash: 'h', superuser: 'true' }, 'superuser'],
  ['an ACL that is not JSON', { hash: 'h', superuser: '1', acl: '[{' }, 'acl'],
  ['an ACL that is not a list', { hash: 'h', acl: '{"pattern":"#"}' }, 'acl'],
  ['client ids that are not a list', { hash: 'h', clientIds: '"x"' }, 'clientIds'],
  ['metadata that is not JSON', { hash: 'h', metadata: '{' }, 'metadata'],
  ['no password hash', { superuser: '1' }, 'hash'],
])('%s: disabled, not a superuser, damage named', (_what, hash: Record<string, string>, field) => {
  const rec = decodeRecord('dev', hash);
  expect(rec).toMatchObject({ disabled: true, superuser: false });
  expect(rec?.damaged?.map((d) => d.field)).toEqual([field]);
});

test('pairsToObject reads a Lua HGETALL reply and tolerates anything else', () => {
  expect(pairsToObject(['a', '1', 'b', 2])).toEqual({ a: '1', b: '2' });
  expect(pairsToObject(['odd'])).toEqual({});
  expect(pairsToObject(null)).toEqual({});
});

// The script revokes (`x:`) only when one of these fields really changes value (its old value
// is compared in Lua: test/checks/events-stream.test.ts); which ones a write offers is this.
test.each<[Partial<DeviceFields>, string]>([
  [{ hash: FULL.hash, updatedAt: 'now' }, 'hash'],
  [{ clientIds: [] }, 'clientIds'],
  [{ disabled: true }, 'disabled'],
  [{ disabled: false }, ''],
  [{ acl: [], metadata: {}, superuser: false, updatedAt: 'now' }, ''],
  [{ hash: FULL.hash, clientIds: ['a'], disabled: true }, 'hash clientIds disabled'],
  [{}, ''],
])('a write of %j may revoke through %j', (fields, expected) => {
  expect(revokingFields(fields)).toBe(expected);
});
