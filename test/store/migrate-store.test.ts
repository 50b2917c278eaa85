// `mqtt-authd migrate-store`: a store written in the layout before index buckets (one global
// index, `user:{name}` hashes, one revision counter) is moved into today's layout; the devices
// log in as before; a second run finds nothing; an interrupted run resumes; a device written
// in the new layout meanwhile wins over its old copy.
import { createKeys } from '../../src/store/keys';
import { legacyLayoutPresent, migrateStore } from '../../src/store/migrate-store';
import { RedisCredentialStore } from '../../src/store/redis-credential-store';
import { CLI, freePort, startNode, testPrefix } from '../support/processes';
import { cleanTestPrefix, testRedisClient, testRedisEnv } from '../support/topology';
import { hashPassword } from '../../src/domain/passwd-hash';
import { verifyPassword } from '../support/verify';

const prefix = testPrefix('migrate');
const keys = createKeys(prefix);
const redis = testRedisClient();
const store = new RedisCredentialStore(redis, keys, []);
afterAll(async () => {
  await cleanTestPrefix(prefix);
  redis.disconnect();
});

async function writeLegacy(n: number, stem = 'old'): Promise<string> {
  const hash = await hashPassword('old-password', { iterations: 101, saltBytes: 12 });
  const now = new Date().toISOString();
  for (let i = 0; i < n; i++) {
    const name = `${stem}-${String(i).padStart(3, '0')}`;
    await redis.hset(keys.legacy.user(name), {
      hash,
      superuser: '0',
      disabled: '0',
      acl: '[]',
      clientIds: '[]',
      metadata: '{}',
      createdAt: now,
      updatedAt: now,
    });
    await redis.zadd(keys.legacy.index, 0, name);
  }
  await redis.zadd(keys.legacy.index, 0, 'dangling'); // an index entry without a hash
  await redis.set(keys.legacy.commonAcl, '[{"pattern":"common/#","access":"read"}]');
  await redis.set(keys.legacy.revision, '5000');
  return hash;
}

it('moves every device, the common rules and the revision; idempotent; the new copy wins', async () => {
  const hash = await writeLegacy(250);
  expect(await legacyLayoutPresent(redis, keys)).toBe(true);
  // No service answers from half a layout: `serve` refuses to start and names the command.
  const serve = startNode([CLI, 'serve'], {
    ...testRedisEnv(),
    REDIS_KEY_PREFIX: prefix,
    PORT: String(await freePort()),
    ADMIN_TOKENS: 'ci:0123456789abcdef0123',
  });
  expect((await serve.exited).code).toBe(1);
  expect(serve.logs()).toMatch(/run `mqtt-authd migrate-store`/);
  // Written by a new service before the migration ran: kept.
  await store.createUser({
    username: 'old-007',
    hash: await hashPassword('new-password', { iterations: 101, saltBytes: 12 }),
    superuser: false,
    disabled: false,
    acl: [],
    clientIds: [],
    metadata: {},
    createdAt: new Date().toISOString(),
    updatedAt: new Date().toISOString(),
  });
  const seen: number[] = [];
  const report = await migrateStore(redis, keys, store, {
    start: (n) => seen.push(n),
    update: (n) => seen.push(n),
    stop: () => undefined,
  });
  expect(report).toEqual({ copied: 249, kept: 1, dangling: 1, commonAcl: 'copied' });
  expect(seen[0]).toBe(251);
  expect(seen[seen.length - 1]).toBe(251);
  expect(await legacyLayoutPresent(redis, keys)).toBe(false);
  expect(await store.countUsers()).toBe(250);
  expect((await store.getUser('old-123'))?.hash).toBe(hash);
  expect(await verifyPassword('new-password', (await store.getUser('old-007'))!.hash)).toBe(
    'match',
  );
  expect(await store.getCommonAcl()).toEqual([{ pattern: 'common/#', access: 'read' }]);
  // Exporters that saw revision 5000 of the old layout are not told they are up to date.
  expect(await store.revision()).toBeGreaterThan(5000);
  const page = await store.listUsers({ limit: 1000 });
  expect(page.users.map((u) => u.username)).toEqual(
    Array.from({ length: 250 }, (_, i) => `old-${String(i).padStart(3, '0')}`),
  );
  // A second run finds nothing to do.
  expect(await migrateStore(redis, keys, store)).toEqual({
    copied: 0,
    kept: 0,
    dangling: 0,
    commonAcl: 'none',
  });
});

it('an interrupted run resumes where it stopped', async () => {
  await writeLegacy(30, 'resumed');
  // Interrupt: a progress callback that throws after the first batch has been handled.
  const failing = {
    start: () => undefined,
    update: () => {
      throw new Error('interrupted');
    },
    stop: () => undefined,
  };
  await expect(migrateStore(redis, keys, store, failing, 10)).rejects.toThrow('interrupted');
  expect(await redis.zcard(keys.legacy.index)).toBe(21);
  const again = await migrateStore(redis, keys, store, undefined, 10);
  // The 10 of the first batch are not copied twice; the rest are copied now.
  expect(again.copied + again.dangling).toBe(21);
  expect(await legacyLayoutPresent(redis, keys)).toBe(false);
  expect(await store.countUsers()).toBe(280);
});
