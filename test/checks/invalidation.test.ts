// Two service processes on the same Redis keys: a change made through one stops working on the
// other — whose cache is warm — within 1 s (rotation, deletion, narrowed ACL, common rules).
import { startService, testPrefix, type ServiceProcess } from '../support/processes';
import { cleanTestPrefix, testRedisEnv } from '../support/topology';
import { ADMIN, ADMIN_AUTH } from '../support/service';
import { JSON_HEADERS, rawRequest } from '../support/http';

const prefix = testPrefix('invalidation');
const env = {
  ...testRedisEnv(),
  REDIS_KEY_PREFIX: prefix,
  ADMIN_TOKENS: `${ADMIN.name}:${ADMIN.token}`,
  PASSWD_ITERATIONS: '101',
};
let a: ServiceProcess;
let b: ServiceProcess;

beforeAll(async () => {
  [a, b] = await Promise.all([startService({ env }), startService({ env })]);
});
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await cleanTestPrefix(prefix);
});

const H = { ...JSON_HEADERS, ...ADMIN_AUTH };
const api = (method: string, path: string, body?: unknown) =>
  rawRequest(a.port, method, `/api/v1${path}`, body === undefined ? '' : JSON.stringify(body), H);
const login = (s: ServiceProcess, username: string, password: string) =>
  rawRequest(
    s.port,
    'POST',
    '/mqtt/user',
    JSON.stringify({ username, password, clientid: 'c' }),
    JSON_HEADERS,
  );
const publish = (s: ServiceProcess, username: string, topic: string) =>
  rawRequest(
    s.port,
    'POST',
    '/mqtt/acl',
    JSON.stringify({ username, topic, acc: 2, clientid: 'c' }),
    JSON_HEADERS,
  );

async function cacheHits(s: ServiceProcess): Promise<number> {
  const text = (await rawRequest(s.port, 'GET', '/metrics')).body;
  return Number(/mqtt_authd_cache_lookups_total\{result="hit"\} (\d+)/.exec(text)?.[1] ?? 0);
}

/** Polls until `probe` answers `status`; returns how long that took. */
async function msUntil(
  probe: () => Promise<{ status: number }>,
  status: number,
  limitMs = 3000,
): Promise<number> {
  const started = Date.now();
  while ((await probe()).status !== status) {
    if (Date.now() - started > limitMs) throw new Error(`still not ${status} after ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return Date.now() - started;
}

async function warm(fn: () => Promise<{ status: number }>, expected: number): Promise<void> {
  const before = await cacheHits(b);
  for (let i = 0; i < 3; i++) expect((await fn()).status).toBe(expected);
  expect(await cacheHits(b)).toBeGreaterThan(before); // b answers from its cache now
}

it('a rotated password stops working on the other replica within 1 s', async () => {
  expect((await api('POST', '/devices', { id: 'rot', password: 'first-password' })).status).toBe(
    201,
  );
  await warm(() => login(b, 'rot', 'first-password'), 200);
  expect((await api('POST', '/devices/rot/password', {})).status).toBe(200);
  expect(await msUntil(() => login(b, 'rot', 'first-password'), 403)).toBeLessThanOrEqual(1000);
});

it('a deleted device is refused by the other replica within 1 s', async () => {
  expect((await api('POST', '/devices', { id: 'gone', password: 'gone-password' })).status).toBe(
    201,
  );
  await warm(() => login(b, 'gone', 'gone-password'), 200);
  expect((await api('DELETE', '/devices/gone')).status).toBe(204);
  expect(await msUntil(() => login(b, 'gone', 'gone-password'), 403)).toBeLessThanOrEqual(1000);
  expect((await publish(b, 'gone', 'devices/gone/x')).status).toBe(403);
});

it('a narrowed ACL (own or common) is enforced by the other replica within 1 s', async () => {
  expect(
    (
      await api('POST', '/devices', {
        id: 'narrow',
        password: 'narrow-password',
        acl: [{ pattern: 'fleet/#', access: 'write' }],
      })
    ).status,
  ).toBe(201);
  await warm(() => publish(b, 'narrow', 'fleet/x'), 200);
  expect((await api('PUT', '/devices/narrow/acl', { acl: [] })).status).toBe(200);
  expect(await msUntil(() => publish(b, 'narrow', 'fleet/x'), 403)).toBeLessThanOrEqual(1000);

  await warm(() => publish(b, 'narrow', 'devices/narrow/x'), 200); // the default common rule
  expect((await api('PUT', '/acl/common', { acl: [] })).status).toBe(200);
  expect(await msUntil(() => publish(b, 'narrow', 'devices/narrow/x'), 403)).toBeLessThanOrEqual(
    1000,
  );
});
