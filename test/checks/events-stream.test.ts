// GET /mqtt/events on the built service (dist/), against real Redis: the change stream the
// Mosquitto plugin holds (docs/events.md). Which writes revoke, which only invalidate, how
// fast they arrive, and that a stream never outlives the change feed or the process.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEvents, type EventStreamClient, type StreamEvent } from '../support/event-stream';
import { checkUser, eventually, JSON_HEADERS, rawRequest, sleep } from '../support/http';
import {
  CLI,
  runCommand,
  startRedis,
  startService,
  testPrefix,
  type RedisProcess,
  type ServiceProcess,
} from '../support/processes';
import { ADMIN, ADMIN_AUTH } from '../support/service';
import { cleanTestPrefix, onCluster, testRedisClient, testRedisEnv } from '../support/topology';

jest.setTimeout(60_000);

/** The plugin must hear of a change within 250 ms; a loaded test machine gets 4× that. */
const BOUND_MS = 1000;
const HEARTBEAT_MS = 200;

const prefix = testPrefix('events');
const env = {
  ...testRedisEnv(),
  REDIS_KEY_PREFIX: prefix,
  ADMIN_TOKENS: `${ADMIN.name}:${ADMIN.token}`,
  PASSWD_ITERATIONS: '101',
  EVENTS_HEARTBEAT_MS: String(HEARTBEAT_MS),
  EVENTS_MAX_STREAMS: '4',
  // Streams are not checks: one check in flight at most, and checks still answer.
  CHECK_MAX_INFLIGHT: '1',
};
let s: ServiceProcess;
let stream: EventStreamClient;
let openedAt: number;
const open: EventStreamClient[] = [];

async function openStream(port = s.port): Promise<EventStreamClient> {
  const c = await openEvents(port);
  open.push(c);
  return c;
}

beforeAll(async () => {
  s = await startService({ env, readyPath: '/readyz' });
  stream = await openStream();
  openedAt = Date.now();
});
afterAll(async () => {
  for (const c of open) c.close();
  await s?.stop();
  await cleanTestPrefix(prefix);
});

const api = (method: string, path: string, body?: unknown) =>
  rawRequest(s.port, method, `/api/v1${path}`, body === undefined ? '' : JSON.stringify(body), {
    ...JSON_HEADERS,
    ...ADMIN_AUTH,
  });

/** Makes a change through the API; the `user` event for `id` that follows it, and its delay. */
async function change(
  id: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ e: StreamEvent; ms: number }> {
  const from = stream.events.length;
  const a = await api(method, path, body);
  expect(a.status).toBeLessThan(300);
  const e = await stream.next((x) => x.event === 'user' && x.data.username === id, 5000, from);
  return { e, ms: e.at - a.endedAt };
}

test('200, event-stream headers, and hello first', () => {
  expect(stream.status).toBe(200);
  expect(stream.headers['content-type']).toBe('text/event-stream');
  expect(stream.headers['cache-control']).toBe('no-store');
  expect(stream.headers['x-accel-buffering']).toBe('no');
  expect(stream.headers['content-length']).toBeUndefined();
  expect(stream.headers['transfer-encoding']).toBe('chunked');
  expect(stream.events[0]).toMatchObject({
    event: 'hello',
    data: { v: 1, heartbeatMs: HEARTBEAT_MS },
  });
});

test('a heartbeat comment every EVENTS_HEARTBEAT_MS', async () => {
  const from = stream.pings.length;
  await sleep(HEARTBEAT_MS * 6);
  const pings = stream.pings.slice(from);
  expect(pings.length).toBeGreaterThanOrEqual(3);
  const gaps = pings.slice(1).map((t, i) => t - (pings[i] as number));
  expect(Math.max(...gaps)).toBeLessThan(HEARTBEAT_MS * 4);
});

test('only GET: 405 naming the method', async () => {
  for (const method of ['POST', 'PUT', 'DELETE']) {
    const c = await openEvents(s.port, { method });
    await c.ended;
    expect(c.status).toBe(405);
    expect(c.headers.allow).toBe('GET');
  }
});

test('created, ACL, metadata, enabling: user events that do not revoke', async () => {
  const created = await change('dev-a', 'POST', '/devices', {
    id: 'dev-a',
    password: 'pw-a-123456',
  });
  expect(created.e.data).toEqual({ username: 'dev-a', revoke: false });
  const acl = await change('dev-a', 'PUT', '/devices/dev-a/acl', {
    acl: [{ pattern: 'x/#', access: 'read' }],
  });
  expect(acl.e.data).toEqual({ username: 'dev-a', revoke: false });
  const meta = await change('dev-a', 'PATCH', '/devices/dev-a', { metadata: { site: 'b' } });
  expect(meta.e.data.revoke).toBe(false);
  const same = await change('dev-a', 'PATCH', '/devices/dev-a', { clientIds: [] });
  expect(same.e.data.revoke).toBe(false); // the binding did not change
  const enabled = await change('dev-a', 'PATCH', '/devices/dev-a', { disabled: false });
  expect(enabled.e.data.revoke).toBe(false);
  for (const c of [created, acl, meta, same, enabled]) expect(c.ms).toBeLessThan(BOUND_MS);
});

test('disable, client-id binding, rotation, delete: user events that revoke, within the bound', async () => {
  const steps = [
    await change('dev-a', 'PATCH', '/devices/dev-a', { disabled: true }),
    await change('dev-a', 'PATCH', '/devices/dev-a', { disabled: false, clientIds: ['cid-1'] }),
    await change('dev-a', 'POST', '/devices/dev-a/password', { password: 'pw-a-rotated' }),
    await change('dev-a', 'DELETE', '/devices/dev-a'),
  ];
  for (const { e, ms } of steps) {
    expect(e.data).toEqual({ username: 'dev-a', revoke: true });
    expect(ms).toBeLessThan(BOUND_MS);
  }
});

test('common rules: a common event', async () => {
  const from = stream.events.length;
  const a = await api('PUT', '/acl/common', { acl: [{ pattern: 'pub/#', access: 'read' }] });
  expect(a.status).toBe(200);
  const e = await stream.next((x) => x.event === 'common', 5000, from);
  expect(e.data).toEqual({});
  expect(e.at - a.endedAt).toBeLessThan(BOUND_MS);
});

test('a message this version does not know (a newer replica): a reset event', async () => {
  const from = stream.events.length;
  const redis = testRedisClient();
  try {
    await redis.publish(`${prefix}events`, 'z:from-the-future');
  } finally {
    await redis.quit();
  }
  expect((await stream.next((x) => x.event !== 'user', 5000, from)).event).toBe('reset');
});

test('an import that writes the same hash again does not revoke; the login rehash does not either', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'authd-events-'));
  try {
    // Mosquitto 1.x's `$6$`: base64 salt, base64 SHA-512 of password and salt.
    const salt = randomBytes(12);
    const key = createHash('sha512').update('legacy-password').update(salt).digest('base64');
    await writeFile(join(dir, 'passwd'), `legacy:$6$${salt.toString('base64')}$${key}\n`);
    const importIt = () =>
      runCommand(process.execPath, [CLI, 'import-passwd', join(dir, 'passwd')], {
        env: { PATH: process.env.PATH, ...env, LOG_LEVEL: 'warn' },
      });
    let from = stream.events.length;
    expect((await importIt()).code).toBe(0);
    await stream.next((x) => x.event === 'user' && x.data.username === 'legacy', 5000, from);
    from = stream.events.length;
    expect((await importIt()).code).toBe(0);
    const again = await stream.next((x) => x.data.username === 'legacy', 5000, from);
    expect(again.data.revoke).toBe(false);

    from = stream.events.length;
    expect((await checkUser(s.port, 'legacy', 'legacy-password')).status).toBe(200);
    const rehash = await stream.next((x) => x.data.username === 'legacy', 5000, from);
    expect(rehash.data).toEqual({ username: 'legacy', revoke: false });
    expect((await api('GET', '/devices/legacy')).body).toContain('"hashScheme":"$7$"');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a stream outlives the server's whole-request timeout (30 s) and hears changes after it", async () => {
  await sleep(Math.max(0, openedAt + 32_000 - Date.now()));
  expect(stream.isEnded()).toBe(false);
  expect(Date.now() - (stream.pings.at(-1) ?? 0)).toBeLessThan(HEARTBEAT_MS * 4);
  const late = await change('late', 'POST', '/devices', { id: 'late' });
  expect(late.ms).toBeLessThan(BOUND_MS);
});

test('at most EVENTS_MAX_STREAMS streams (503 beyond), and streams are not checks', async () => {
  const more = [await openStream(), await openStream(), await openStream()]; // 4 with `stream`
  for (const c of more) expect(c.status).toBe(200);
  const refused = await openEvents(s.port);
  await refused.ended;
  expect(refused.status).toBe(503);
  expect(refused.body).toMatch(/too many event streams/);
  // CHECK_MAX_INFLIGHT=1 and four streams open: a check still answers.
  expect((await checkUser(s.port, 'nobody', 'x')).status).toBe(403);
  (more[0] as EventStreamClient).close();
  await eventually(async () => expect((await openStream()).status).toBe(200), 5000);
  const metrics = (await rawRequest(s.port, 'GET', '/metrics')).body;
  expect(metrics).toMatch(/^mqtt_authd_event_streams 4$/m);
  expect(metrics).toMatch(/^mqtt_authd_events_sent_total\{event="hello"\} [1-9]/m);
  expect(metrics).toMatch(/^mqtt_authd_events_sent_total\{event="user"\} [1-9]/m);
});

test('SIGTERM ends every stream and the process exits promptly', async () => {
  const streams = open.filter((c) => c.status === 200 && !c.isEnded());
  expect(streams.length).toBeGreaterThanOrEqual(2);
  const t0 = Date.now();
  const exit = await s.kill('SIGTERM');
  expect(exit).toEqual({ code: 0, signal: null });
  // SHUTDOWN_TIMEOUT_MS is 10 s: an exit well before it means no stream held stop() up.
  expect(Date.now() - t0).toBeLessThan(5000);
  for (const c of streams) expect(c.isEnded()).toBe(true);
});

// A Redis of its own to kill: standalone only (the cluster project's nodes are shared).
(onCluster() ? describe.skip : describe)('the change feed lost (a Redis of its own)', () => {
  let redis: RedisProcess;
  let svc: ServiceProcess;

  beforeAll(async () => {
    redis = await startRedis();
    svc = await startService({
      env: {
        ...env,
        REDIS_URL: redis.url,
        REDIS_KEY_PREFIX: testPrefix('events-feed'),
      },
      readyPath: '/readyz',
    });
  });
  afterAll(async () => {
    await svc?.stop();
    await redis?.stop();
  });

  const hello = async () => {
    const c = await openEvents(svc.port);
    open.push(c);
    if (c.status !== 200) await c.ended;
    expect(c.status).toBe(200);
    expect(c.events[0]?.event ?? (await c.next(() => true, 2000)).event).toBe('hello');
    return c;
  };

  test('the subscription killed: streams end at once; new ones get hello and hear changes', async () => {
    const c = await hello();
    const killed = Date.now();
    const k = await redis.cli('CLIENT', 'KILL', 'TYPE', 'pubsub');
    expect(k.stdout.trim()).not.toBe('0');
    expect((await c.ended) - killed).toBeLessThan(BOUND_MS);
    let again: EventStreamClient | undefined;
    await eventually(async () => {
      again = await hello();
    }, 10_000);
    const a = await rawRequest(svc.port, 'POST', '/api/v1/devices', '{"id":"after-kill"}', {
      ...JSON_HEADERS,
      ...ADMIN_AUTH,
    });
    expect(a.status).toBe(201);
    await (again as EventStreamClient).next((x) => x.data.username === 'after-kill');
  });

  test('Redis down: streams end, 503 while the feed is down, 200 and hello once it is back', async () => {
    const c = await hello();
    await redis.kill();
    await c.ended;
    await eventually(async () => {
      const r = await openEvents(svc.port);
      await r.ended;
      expect(r.status).toBe(503);
      expect(r.body).toBe('change feed down; retry\n');
    }, 10_000);
    await redis.restart();
    await eventually(async () => {
      await hello();
    }, 15_000);
  });
});
