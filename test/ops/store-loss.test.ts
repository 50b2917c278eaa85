// Redis restarted empty or flushed under a running service (issue 29 item 15), on a Redis of
// this file's own (it is flushed and restarted): the loss is found by the store's marker
// within STORE_WATCH_MS — an error line, the metric, /readyz 503 naming it — cached answers
// go at once (a device gone with the data is not allowed from memory), and it lasts until
// `store-ack` or until the marker is back. A service on a replica never writes a marker.
import Redis from 'ioredis';
import { storeAck } from '../../src/cli/commands';
import { checkUser, eventually, JSON_HEADERS, rawRequest } from '../support/http';
import { startRedis, type RedisProcess } from '../support/processes';
import { captureLog, startTestService, type TestService } from '../support/service';

jest.setTimeout(60_000);

let redis: RedisProcess;
let raw: Redis;
let t: TestService;
const logs = captureLog();
const ACL = '{"acc":2,"clientid":"c","topic":"devices/dev/x","username":"dev"}';

beforeAll(async () => {
  redis = await startRedis();
  raw = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  raw.on('error', () => undefined);
  t = await startTestService(
    'store-loss',
    { REDIS_URL: redis.url, STORE_WATCH_MS: '100', LOG_LEVEL: 'info' },
    { log: logs.stream },
  );
});
afterAll(async () => {
  await t?.stop();
  raw?.disconnect();
  await redis?.stop();
});

const readyz = async () => {
  const r = await rawRequest(t.port, 'GET', '/readyz');
  return { status: r.status, body: JSON.parse(r.body) as { checks: Record<string, string> } };
};
const metric = async (name: string) => {
  const text = (await rawRequest(t.port, 'GET', '/metrics')).body;
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
};
const acl = () => rawRequest(t.port, 'POST', '/mqtt/acl', ACL, JSON_HEADERS);

async function warmDevice() {
  await t.service.ctx.devices.create({ id: 'dev', password: 'pw-dev-123456' });
  expect((await checkUser(t.port, 'dev', 'pw-dev-123456')).status).toBe(200);
  expect((await acl()).status).toBe(200);
  expect((await checkUser(t.port, 'dev', 'pw-dev-123456')).status).toBe(200); // from the cache
}

test('a new store gets a marker; /readyz is ready', async () => {
  await eventually(async () => expect(await raw.get(t.raw().keys.marker)).not.toBeNull());
  expect((await readyz()).status).toBe(200);
  expect(await metric('mqtt_authd_store_lost')).toBe(0);
});

test('FLUSHDB: found, logged, counted, /readyz 503 naming it; the cache drops at once', async () => {
  await warmDevice();
  await raw.flushdb();
  await eventually(async () => {
    const r = await readyz();
    expect(r.status).toBe(503);
    expect(r.body.checks.store).toMatch(/lost its data.*store-ack/);
  });
  // Gone with the data: denied, not allowed from memory (it kept 200 for 55-60 s before).
  expect((await checkUser(t.port, 'dev', 'pw-dev-123456')).status).toBe(403);
  expect((await acl()).status).toBe(403);
  expect(await metric('mqtt_authd_store_lost')).toBe(1);
  expect(await metric('mqtt_authd_store_losses_total')).toBe(1);
  expect(logs.lines.some((l) => l.level === 50 && /lost its data/.test(String(l.msg)))).toBe(true);
  // The service does not write a marker over the loss by itself: still 503 later.
  await new Promise((r) => setTimeout(r, 500));
  expect(await raw.get(t.raw().keys.marker)).toBeNull();
  expect((await readyz()).status).toBe(503);
});

test('store-ack: ready again, the gauge back to 0', async () => {
  expect(await storeAck(t.service.ctx)).toMatch(/there was none/);
  await eventually(async () => expect((await readyz()).status).toBe(200));
  expect(await metric('mqtt_authd_store_lost')).toBe(0);
});

test('Redis restarted empty: the same; the marker coming back (the data is back) clears it', async () => {
  const marker = await raw.get(t.raw().keys.marker);
  await warmDevice();
  await redis.restart();
  await eventually(async () => {
    const r = await readyz();
    expect(r.status).toBe(503);
    expect(r.body.checks.store).toMatch(/lost its data/);
  }, 10_000);
  await eventually(async () =>
    expect((await checkUser(t.port, 'dev', 'pw-dev-123456')).status).toBe(403),
  );
  await raw.set(t.raw().keys.marker, marker as string);
  await eventually(async () => expect((await readyz()).status).toBe(200));
  expect(await metric('mqtt_authd_store_losses_total')).toBe(2);
});

test('a service whose Redis is a replica never writes the marker (and stays connected)', async () => {
  const primary = await startRedis();
  const replica = await startRedis({ args: ['--replicaof', '127.0.0.1', String(primary.port)] });
  const p = new Redis(primary.url, { maxRetriesPerRequest: 1 });
  p.on('error', () => undefined);
  const r = await startTestService('store-loss-replica', {
    REDIS_URL: replica.url,
    STORE_WATCH_MS: '100',
  });
  try {
    await new Promise((res) => setTimeout(res, 800));
    expect(await p.dbsize()).toBe(0);
    expect(r.service.ctx.marker.id).toBeNull();
    expect(r.service.ctx.marker.problem).toBeNull();
    // Once the primary has one, the service on the replica goes by it.
    await p.set(r.raw().keys.marker, 'from-the-primary');
    await eventually(async () => expect(r.service.ctx.marker.id).toBe('from-the-primary'), 5000);
  } finally {
    await r.stop();
    p.disconnect();
    await replica.stop();
    await primary.stop();
  }
});
