// Sentinel, one replica, REDIS_MIN_REPLICAS_ACK=1: the replica dies. A create answers
// `write_unconfirmed` promptly (concurrent ones side by side, not one WAIT after another); once
// the replica is back, the retry with the same Idempotency-Key returns the same device and
// password, and that password logs in. No generated password is in Redis in plaintext.
import Redis from 'ioredis';
import { login } from '../support/failover-load';
import { eventually, JSON_HEADERS, rawRequest } from '../support/http';
import { startSentinelSet, type SentinelSet } from '../support/processes';
import { ADMIN_AUTH, startTestService, type TestService } from '../support/service';

jest.setTimeout(90_000);

const MANAGEMENT_TIMEOUT_MS = 5000;
let set: SentinelSet;
let t: TestService;

beforeAll(async () => {
  set = await startSentinelSet();
  t = await startTestService('sentinel-unconfirmed', {
    REDIS_SENTINELS: set.sentinelList,
    REDIS_SENTINEL_NAME: set.name,
    REDIS_MIN_REPLICAS_ACK: '1',
    REDIS_WAIT_TIMEOUT_MS: '1000',
    MANAGEMENT_TIMEOUT_MS: String(MANAGEMENT_TIMEOUT_MS),
  });
});
afterAll(async () => {
  await t?.stop();
  await set?.stop();
});

interface Created {
  id: string;
  password: string;
  error: { code: string; message: string };
}

const create = async (key: string, body: unknown = {}) => {
  const started = Date.now();
  const r = await rawRequest(t.port, 'POST', '/api/v1/devices', JSON.stringify(body), {
    ...JSON_HEADERS,
    ...ADMIN_AUTH,
    'Idempotency-Key': key,
  });
  return { ...r, ms: Date.now() - started, json: JSON.parse(r.body) as Created };
};

it('replica gone: unconfirmed promptly; replica back: the retry returns the same password, which logs in', async () => {
  const run = `${process.pid}-${Date.now()}`;
  const keys = Array.from({ length: 10 }, (_, i) => `${run}-create-${i}-0123456789`);
  await set.replica.kill('SIGKILL');
  // Ten at once: each waits for the replica on a connection of its own, none behind another.
  const first = await Promise.all(keys.map((k) => create(k)));
  for (const r of first) {
    expect(r.status).toBe(503);
    expect(r.json.error.code).toBe('write_unconfirmed');
    expect(r.json.error.message).toMatch(/applied on the primary, not yet confirmed by a replica/);
    expect(r.headers['retry-after']).toBe('1');
    expect(r.ms).toBeLessThan(MANAGEMENT_TIMEOUT_MS);
  }
  // Still no replica: the retry says so again, and creates nothing twice.
  const stillDown = await create(keys[0]!);
  expect(stillDown.status).toBe(503);
  expect(stillDown.json.error.code).toBe('write_unconfirmed');

  await set.replica.restart();
  await eventually(async () => {
    expect((await set.replica.cli('INFO', 'replication')).stdout).toMatch(/master_link_status:up/);
  }, 20_000);
  const passwords: string[] = [];
  for (const k of keys) {
    const again = await create(k);
    expect(again.status).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    const once = await create(k);
    expect(once.json).toEqual(again.json);
    expect((await login(t.port, again.json.id, again.json.password)).status).toBe(200);
    passwords.push(again.json.password as string);
  }
  expect(new Set(passwords).size).toBe(10);
  // Ten devices, each created once: one audit entry each.
  const entries = await t.service.audit.read(1000);
  const created = entries.filter((e) => e.action === 'create').map((e) => e.target);
  expect(created).toHaveLength(10);

  // Nothing in Redis holds a generated password in plaintext (every key of this test, dumped).
  const redis = new Redis(set.primary.url); // the primary all along (only the replica died)
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(
      cursor,
      'MATCH',
      `${t.config.REDIS_KEY_PREFIX}*`,
      'COUNT',
      1000,
    );
    cursor = next;
    for (const key of batch) {
      const dump = (await redis.dumpBuffer(key))?.toString('latin1') ?? '';
      for (const p of passwords) if (dump.includes(p)) found.push(key);
    }
  } while (cursor !== '0');
  redis.disconnect();
  expect(found).toEqual([]);
});
