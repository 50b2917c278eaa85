// The device manager against the real store: what it tells its listeners (the audit trail and
// the exporter read these) and what it writes. No secret ever reaches a listener.
import Redis from 'ioredis';
import { DeviceService, type Change } from '../../src/devices/device-service';
import { verifyPassword } from '../support/verify';
import { createKeys } from '../../src/store/keys';
import { RedisCredentialStore } from '../../src/store/redis-credential-store';
import { cleanPrefix, testPrefix } from '../support/processes';
import { TEST_REDIS_URL } from '../support/service';

const prefix = testPrefix('device-service');
const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
const store = new RedisCredentialStore(redis, createKeys(prefix), []);
const changes: Change[] = [];
const devices = new DeviceService(store, { iterations: 101, saltBytes: 12 }, 'system', [
  (c) => void changes.push(c),
]);

afterAll(async () => {
  await cleanPrefix(TEST_REDIS_URL, prefix);
  await redis.quit();
});
beforeEach(() => (changes.length = 0));

test('create, patch, rotate, delete: each change names its actor and action, never a secret', async () => {
  const ops = devices.as('ops');
  const { password } = await ops.create({ id: 'dev-1', password: 'first-password' });
  expect(password).toBe('first-password');
  await ops.patch('dev-1', { disabled: true });
  const rotated = await ops.rotate('dev-1');
  await ops.remove('dev-1');
  expect(changes.map((c) => [c.actor, c.action, c.target])).toEqual([
    ['ops', 'create', 'dev-1'],
    ['ops', 'update', 'dev-1'],
    ['ops', 'rotate', 'dev-1'],
    ['ops', 'delete', 'dev-1'],
  ]);
  expect(changes[1]).toMatchObject({ before: { disabled: false }, after: { disabled: true } });
  expect(changes[2]?.after).toEqual({ password: 'rotated' });
  const seen = JSON.stringify(changes);
  for (const secret of ['first-password', rotated.password, '"hash"'])
    expect(seen).not.toContain(secret);
  expect(seen).not.toMatch(/\$7\$\d/); // a hash; `"hashScheme":"$7$"` only names the scheme
});

test('rotate stores a hash of the new password only; a generated one is long and random', async () => {
  await devices.create({ id: 'dev-2', password: 'old-password' });
  const { password } = await devices.rotate('dev-2');
  expect(password).toMatch(/^[A-Za-z0-9_-]{32}$/);
  const hash = (await store.getUser('dev-2'))?.hash as string;
  expect(await verifyPassword(password, hash)).toBe('match');
  expect(await verifyPassword('old-password', hash)).not.toBe('match');
  expect(changes.at(-1)?.actor).toBe('system');
});

test('importHash keeps the hash as given, creates then updates, replaces rules only when given', async () => {
  await devices.create({ id: 'src', password: 'imported-pw' });
  const hash = (await store.getUser('src'))?.hash as string;
  expect(await devices.importHash('imp', hash, [{ pattern: 'a/#', access: 'read' }])).toBe('created');
  expect(await devices.importHash('imp', hash)).toBe('updated');
  const rec = await store.getUser('imp');
  expect(rec?.hash).toBe(hash);
  expect(rec?.acl).toEqual([{ pattern: 'a/#', access: 'read' }]);
  expect(changes.filter((c) => c.action === 'import').map((c) => c.before)).toEqual([null, 'existing']);
  await expect(devices.importHash('bad:name', hash)).rejects.toThrow(/username/);
}); // prettier-ignore
