// The broker holds the policy (issue 25), on real processes (Mosquitto 2.0.11 loading the .so,
// the built service with BROKER_TOKEN_SHA256, Redis): a known device connects, publishes to
// any topic, subscribes and receives with no /mqtt/user or /mqtt/acl request (counted by the
// service's own metrics); a password rotation kicks and the old password is refused; a record
// that does not decode is denied without asking; the plugin says how many records it
// preloaded. Without BROKER_TOKEN_SHA256 (the README quick start) the plugin falls back to
// asking per check and still admits devices. A preload of 30,000 devices leaves the broker's
// thread free: a CONNECT and a publish are answered before it ends. A refused CONNECT is CONNACK 135 on 2.0.11 (docs/plugin.md).
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { bulkLoad } from '../../bench/bulk-load';
import { hashPassword } from '../../src/domain/passwd-hash';
import { createKeys } from '../../src/store/keys';
import { rawRequest } from '../support/http';
import {
  closedAt,
  connectV5,
  mustConnect,
  publishCode,
  startPluginStack,
  subscribeCode,
  type PluginStack,
} from '../support/plugin';
import { onCluster, TEST_REDIS_URL, testRedisClient } from '../support/topology';

jest.setTimeout(60_000);

const TOKEN = randomBytes(24).toString('base64url');
const DIGEST = createHash('sha256').update(TOKEN).digest('hex');
let dir: string;
let tokenFile: string;
const stacks: PluginStack[] = [];
const clients: MqttClient[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'plugin-policy-'));
  tokenFile = join(dir, 'token');
  await writeFile(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
});
afterAll(async () => {
  for (const c of clients) c.end(true);
  for (const s of stacks) await s.stop();
  await rm(dir, { recursive: true, force: true });
});

async function stack(name: string, pluginOpts: Record<string, string | number> = {}, env = {}) {
  const s = await startPluginStack({
    name,
    serviceEnv: { BROKER_TOKEN_SHA256: DIGEST, ...env },
    pluginOpts: { token_file: tokenFile, ...pluginOpts },
  });
  stacks.push(s);
  return s;
}

/** The service's count of go-auth checks answered, by kind. */
interface Checks {
  user: number;
  superuser: number;
  acl: number;
}
async function checks(s: PluginStack): Promise<Checks> {
  const r = await rawRequest(s.service.port, 'GET', '/metrics', '', {});
  const out: Checks = { user: 0, superuser: 0, acl: 0 };
  for (const m of r.body.matchAll(/^mqtt_authd_checks_total\{kind="(\w+)",[^}]*\} (\d+)/gm)) {
    const kind = m[1] as keyof Checks;
    if (kind in out) out[kind] += Number(m[2]);
  }
  return out;
}

async function device(s: PluginStack, id: string, acl: object[] = []) {
  const made = await s.api('POST', '/devices', { id, password: `pw-${id}-0123`, acl });
  expect(made.status).toBe(201);
  return `pw-${id}-0123`;
}

function received(client: MqttClient, n: number): Promise<string[]> {
  const topics: string[] = [];
  return new Promise((resolve) => {
    client.on('message', (topic) => {
      topics.push(topic);
      if (topics.length === n) resolve(topics);
    });
  });
}

describe('records in the broker', () => {
  let s: PluginStack;
  beforeAll(async () => {
    s = await stack('plugin-policy');
    await s.api('PUT', '/acl/common', { acl: [{ pattern: 'public/#', access: 'read' }] });
  }, 120_000);

  test('a known device: CONNECT, 40 new topics, a wildcard subscriber and its deliveries, no check request', async () => {
    const pub = await device(s, 'p1', [{ pattern: 'fleet/%u/#', access: 'readwrite' }]);
    const sub = await device(s, 'backend', [{ pattern: 'fleet/#', access: 'read' }]);
    // The first CONNECT of each fetches the record (POST /mqtt/records), not /mqtt/user.
    const before = await checks(s);
    const p = await mustConnect(s.broker.port, 'p1', pub, 'p1-c');
    const b = await mustConnect(s.broker.port, 'backend', sub, 'backend-c');
    clients.push(p, b);
    expect(await subscribeCode(b, 'fleet/#')).toBe(0);
    expect(await subscribeCode(b, 'public/#')).toBe(0); // a common rule
    const got = received(b, 40);
    for (let i = 0; i < 40; i++) expect(await publishCode(p, `fleet/p1/job-${i}`)).toBe(0);
    expect((await got).length).toBe(40);
    // Outside its rules, and a subscription wider than one read rule: refused in the broker.
    expect(await publishCode(p, 'fleet/other/x')).toBe(135);
    expect(await subscribeCode(b, '#')).toBe(135);
    expect(await checks(s)).toEqual(before);
  });

  test('a wrong password still goes to the service (it counts failures); the right one does not', async () => {
    const pw = await device(s, 'p2', [{ pattern: '%u/#', access: 'readwrite' }]);
    const before = await checks(s);
    expect((await connectV5(s.broker.port, 'p2', `${pw}x`, 'p2-c')).code).toBe(135);
    const after = await checks(s);
    expect(after.user).toBe(before.user + 1);
    const c = await mustConnect(s.broker.port, 'p2', pw, 'p2-c');
    clients.push(c);
    expect(await publishCode(c, 'p2/t')).toBe(0);
    expect(await checks(s)).toEqual(after);
  });

  test('an unknown user is asked of the service', async () => {
    const before = await checks(s);
    expect((await connectV5(s.broker.port, 'nobody-here', 'whatever-123', 'n-c')).code).toBe(135);
    expect((await checks(s)).user).toBe(before.user + 1);
  });

  test('a password rotation kicks the session; the old password is refused after', async () => {
    const pw = await device(s, 'p3', [{ pattern: '%u/#', access: 'readwrite' }]);
    const c = await mustConnect(s.broker.port, 'p3', pw, 'p3-c');
    const closed = closedAt(c);
    const rotated = await s.api('POST', '/devices/p3/password', {});
    expect(rotated.status).toBeLessThan(300);
    await closed;
    expect((await connectV5(s.broker.port, 'p3', pw, 'p3-c')).code).toBe(135);
    const fresh = (JSON.parse(rotated.body) as { password: string }).password;
    const again = await mustConnect(s.broker.port, 'p3', fresh, 'p3-c');
    clients.push(again);
    expect(await publishCode(again, 'p3/x')).toBe(0);
  });

  test('a record that does not decode is denied without asking, and logged', async () => {
    const pw = await device(s, 'p4', [{ pattern: '#', access: 'readwrite' }]);
    const redis = testRedisClient();
    // Written behind the service's back (no change event), before the broker ever needed it.
    await redis.hset(createKeys(s.prefix).user('p4'), 'acl', '{"pattern":"#"');
    redis.disconnect();
    const before = await checks(s);
    const mark = s.broker.logs().length;
    expect((await connectV5(s.broker.port, 'p4', pw, 'p4-c')).code).toBe(135);
    await s.broker.waitForLog(/the record of p4 does not decode/, 5000, mark);
    expect(await checks(s)).toEqual(before);
  });
});

test('plugin_opt_preload true: every record fetched at start, then CONNECTs with no request', async () => {
  const s = await stack('plugin-preload', { preload: 'true' });
  for (let i = 0; i < 30; i++) await device(s, `pre-${i}`, [{ pattern: '%u/#', access: 'readwrite' }]); // prettier-ignore
  // The devices were made after the broker started: a resync (a new hello) preloads them.
  const mark = s.broker.logs().length;
  await s.stopService();
  await s.startServiceAgain();
  await s.streamUp(mark);
  await s.broker.waitForLog(/preloaded 30 records/, 10_000, mark);
  const before = await checks(s);
  for (let i = 0; i < 30; i++) {
    const c = await mustConnect(s.broker.port, `pre-${i}`, `pw-pre-${i}-0123`, `pre-${i}-c`);
    expect(await publishCode(c, `pre-${i}/t`)).toBe(0);
    c.end(true);
  }
  expect(await checks(s)).toEqual(before);
});

// bulkLoad writes to one Redis with pipelines: on the cluster topology the devices go through
// the API in the other tests instead.
const standalone = onCluster() ? test.skip : test;
standalone(
  'a preload of 30,000 devices runs off the broker thread: a CONNECT is answered before it ends',
  async () => {
    const s = await stack('plugin-preload-big', { preload: 'true' });
    await s.broker.waitForLog(/preloaded 0 records/, 30_000); // the first walk, of nothing
    const hash = await hashPassword('pw-big-0123', { iterations: 101, saltBytes: 12 });
    const acl = [{ pattern: 'devices/%u/#', access: 'readwrite' as const }];
    await bulkLoad(TEST_REDIS_URL, createKeys(s.prefix), 30_000, (i) => ({ name: `big-${i}`, hash, superuser: false, acl }), []); // prettier-ignore
    const mark = s.broker.logs().length;
    await s.stopService();
    await s.startServiceAgain();
    await s.streamUp(mark);
    const c = await mustConnect(s.broker.port, 'big-7', 'pw-big-0123', 'big-7-c');
    expect(await publishCode(c, 'devices/big-7/t')).toBe(0);
    expect(s.broker.logs().slice(mark)).not.toMatch(/preloaded/);
    c.end(true);
    await s.broker.waitForLog(/preloaded 30000 records/, 120_000, mark);
  },
  180_000,
);

test('without BROKER_TOKEN_SHA256 (the quick start): records refused, every check asked, devices admitted', async () => {
  const s = await startPluginStack({ name: 'plugin-policy-open' });
  stacks.push(s);
  const pw = await device(s, 'q1', [{ pattern: '%u/#', access: 'readwrite' }]);
  const mark = s.broker.logs().length;
  const c = await mustConnect(s.broker.port, 'q1', pw, 'q1-c');
  clients.push(c);
  expect(await publishCode(c, 'q1/t')).toBe(0);
  expect(await publishCode(c, 'other/t')).toBe(135);
  await s.broker.waitForLog(/refused the broker \(HTTP 403/, 5000, mark);
  expect((await checks(s)).acl).toBeGreaterThan(0);
});
