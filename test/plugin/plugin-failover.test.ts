// plugin_opt_url with two service processes on one Redis (issue 26 item 2), all real: the
// first is killed with SIGKILL while a device publishes; new CONNECTs and uncached publishes
// keep succeeding through the second, the event stream moves there and kicks still arrive.
import type { MqttClient } from 'mqtt';
import { JSON_HEADERS, rawRequest, send } from '../support/http';
import { buildPlugin, closedAt, mustConnect, pluginConfig, publishCode } from '../support/plugin';
import {
  startMosquitto,
  startService,
  testPrefix,
  type MosquittoProcess,
  type ServiceProcess,
} from '../support/processes';
import { cleanTestPrefix, testRedisEnv } from '../support/topology';

jest.setTimeout(90_000);

const TOKEN = 'failover-admin-token-0123456789';
const prefix = testPrefix('plugin-failover');
const env = {
  ...testRedisEnv(),
  REDIS_KEY_PREFIX: prefix,
  ADMIN_TOKENS: `ops:${TOKEN}`,
  PASSWD_ITERATIONS: '101',
  AUTH_FAIL_LIMIT: '100000',
};
let a: ServiceProcess;
let b: ServiceProcess;
let broker: MosquittoProcess;
const clients: MqttClient[] = [];

beforeAll(async () => {
  await buildPlugin();
  a = await startService({ env });
  b = await startService({ env });
  broker = await startMosquitto({ config: pluginConfig(`${a.url},${b.url}/`) });
  await broker.waitForLog(/mqtt-authd: event stream up/, 10_000);
}, 180_000);
afterAll(async () => {
  for (const c of clients) c.end(true);
  await broker?.stop();
  await a?.stop();
  await b?.stop();
  await cleanTestPrefix(prefix);
});

const api = (method: string, path: string, body?: unknown) =>
  rawRequest(b.port, method, `/api/v1${path}`, body === undefined ? '' : JSON.stringify(body), {
    ...JSON_HEADERS,
    Authorization: `Bearer ${TOKEN}`,
  });

async function device(id: string) {
  expect((await api('POST', '/devices', { id, password: `pw-${id}-0123` })).status).toBe(201);
}

test('the first service killed -9 mid-publish: connects, uncached publishes and kicks go on through the second', async () => {
  await device('fo-1');
  await device('fo-2');
  const pub = await mustConnect(broker.port, 'fo-1', 'pw-fo-1-0123', 'fo-1-c');
  clients.push(pub);
  // A publisher on ever new topics: every publish is a cache miss, a check on the broker's thread.
  const codes: { at: number; code: number }[] = [];
  let publishing = true;
  const loop = (async () => {
    for (let i = 0; publishing; i++) {
      codes.push({ at: Date.now(), code: await publishCode(pub, `devices/fo-1/t${i}`) });
    }
  })();
  try {
    while (codes.length < 20) await new Promise((r) => setTimeout(r, 10));
    const logFrom = broker.logs().length;
    await a.kill('SIGKILL');
    const killedAt = Date.now();
    // The stream moves to the second process.
    await broker.waitForLog(/mqtt-authd: event stream up/, 10_000, logFrom);
    // A new CONNECT (no cache for it) through the second.
    const c2 = await mustConnect(broker.port, 'fo-2', 'pw-fo-2-0123', 'fo-2-c');
    clients.push(c2);
    const n = codes.length;
    while (codes.length < n + 20) await new Promise((r) => setTimeout(r, 10));
    publishing = false;
    await loop;
    const after = codes.filter((c) => c.at >= killedAt);
    expect(after.length).toBeGreaterThanOrEqual(20);
    expect(after.filter((c) => c.code !== 0)).toEqual([]);
    expect(codes.filter((c) => c.code !== 0)).toEqual([]);
    // A kick still arrives: through the stream now held on the second process.
    const closed = closedAt(pub);
    expect((await api('DELETE', '/devices/fo-1')).status).toBe(204);
    await closed;
  } finally {
    publishing = false;
    await loop;
  }
});

/** A service's count of checks of one kind (all results), from its /metrics. */
async function checksOf(s: ServiceProcess, kind: string): Promise<number> {
  const text = (await send(s.port, '/metrics', { method: 'GET' })).body;
  const re = new RegExp(`^mqtt_authd_checks_total\\{kind="${kind}",[^}]*\\} (\\d+)`, 'gm');
  return [...text.matchAll(re)].reduce((n, m) => n + Number(m[1]), 0);
}

test('the first process back: checks stay with the stream on the second (no split, no flapping)', async () => {
  // After the test above the stream is on b and a is dead; a comes back on its address.
  a = await startService({ env: { ...env, PORT: String(a.port) } });
  await device('fo-3');
  const pub = await mustConnect(broker.port, 'fo-3', 'pw-fo-3-0123', 'fo-3-c');
  clients.push(pub);
  // Uncached publishes for longer than the first retry period (1 s), each one check.
  const before = await checksOf(b, 'acl');
  const until = Date.now() + 2500;
  let n = 0;
  for (; Date.now() < until; n++) expect(await publishCode(pub, `devices/fo-3/t${n}`)).toBe(0);
  expect(await checksOf(b, 'acl')).toBeGreaterThanOrEqual(before + n);
  expect(await checksOf(a, 'acl')).toBe(0);
});

describe('url lists the broker refuses to start with', () => {
  const refuses = async (url: string, message: RegExp) => {
    await expect(startMosquitto({ config: pluginConfig(url), timeoutMs: 5000 })).rejects.toThrow(
      message,
    );
  };
  test('a second entry that is not http(s), named', () =>
    refuses(
      'http://127.0.0.1:1,ftp://127.0.0.1:2',
      /plugin_opt_url must start with http:\/\/ or https:\/\/ \(bad entry "ftp:\/\/127\.0\.0\.1:2"\)/,
    ));
  test('an entry with a path, named', () =>
    refuses(
      'http://127.0.0.1:1,http://127.0.0.1:2/auth',
      /plugin_opt_url must be http\(s\):\/\/host\[:port\] with no path.*"http:\/\/127\.0\.0\.1:2\/auth"/,
    ));
  test('an empty entry', () => refuses('http://127.0.0.1:1,', /plugin_opt_url must start with/));
});
