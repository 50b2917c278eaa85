// The audit trail over the per-bucket streams: entries written by the change scripts, merged
// newest-first with the common-rules stream and the single stream of earlier versions (read as
// it is), paged by `before` without a skip or a repeat.
import Redis from 'ioredis';
import { RedisAuditStore } from '../../src/store/audit-store';
import { AuditLog } from '../../src/ops/audit';
import { DeviceService } from '../../src/devices/device-service';
import { createLogger } from '../../src/logger';
import { createKeys } from '../../src/store/keys';
import { RedisCredentialStore } from '../../src/store/redis-credential-store';
import { cleanPrefix, testPrefix } from '../support/processes';
import { TEST_REDIS_URL } from '../support/service';

const prefix = testPrefix('audit-streams');
const keys = createKeys(prefix);
const redis = new Redis(TEST_REDIS_URL);
const devices = new DeviceService(new RedisCredentialStore(redis, keys, []), {
  iterations: 101,
  saltBytes: 12,
}).as('tester');
const audit = new AuditLog(new RedisAuditStore(redis, keys, 1000), createLogger('silent'));

afterAll(async () => {
  await cleanPrefix(TEST_REDIS_URL, prefix);
  redis.disconnect();
});

it('merges every stream newest-first, the old single stream included, and pages exactly', async () => {
  // An entry as an earlier version wrote it (auto id, plain JSON fields).
  await redis.xadd(
    keys.audit,
    '1000-0',
    'actor',
    'old',
    'action',
    'create',
    'target',
    'legacy',
    'before',
    'null',
    'after',
    '{"id":"legacy"}',
  );
  const ids = Array.from({ length: 30 }, (_, i) => `dev-${i}`);
  for (const id of ids) await devices.create({ id, password: `${id}-password` });
  // Order across buckets is by millisecond (within one, by stream number): apart by a few ms.
  const tick = () => new Promise((r) => setTimeout(r, 3));
  await tick();
  await devices.patch('dev-3', { disabled: true });
  await tick();
  await devices.setCommonAcl([{ pattern: 'pub/#', access: 'read' }]);
  await tick();
  await devices.remove('dev-4');
  const all = await audit.read(1000);
  expect(all).toHaveLength(34);
  expect(all.map((e) => e.action).slice(0, 3)).toEqual(['delete', 'set-common-acl', 'update']);
  expect(all.at(-1)).toMatchObject({ actor: 'old', target: 'legacy', after: { id: 'legacy' } });
  expect(all[0]?.before).toMatchObject({ id: 'dev-4', username: 'dev-4', disabled: false });
  expect(all[2]).toMatchObject({ before: { disabled: false }, after: { disabled: true } });
  expect(JSON.stringify(all)).not.toMatch(/\$7\$\d|password"/);
  // Pages of 7 cover the same entries in the same order.
  const paged: string[] = [];
  let before: string | undefined;
  for (;;) {
    const page = await audit.read(7, before);
    if (page.length === 0) break;
    paged.push(...page.map((e) => e.id));
    before = page.at(-1)?.id;
  }
  expect(paged).toEqual(all.map((e) => e.id));
  expect(new Set(paged).size).toBe(paged.length);
});
