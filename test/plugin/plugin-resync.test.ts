// Kicks never lost (issue 26 items 4 and 5), on real processes: two service processes A and B
// on one Redis (with BROKER_TOKEN_SHA256, so the broker holds records), a Mosquitto 2.0.11
// broker using A only. Devices deleted while the broker cannot hear of it — A killed and the
// deletes made through B; the broker SIGSTOPped past its stream timeout; more events than the
// queue holds — are disconnected once the broker hears from a service again (the stream
// resumes and replays, or its hello / the overflow revalidates the connected users). A device
// that was not touched stays connected and publishing. Times are printed, not asserted.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { JSON_HEADERS, rawRequest } from '../support/http';
import { buildPlugin, closedAt, mustConnect, pluginConfig, publishCode } from '../support/plugin';
import {
  startMosquitto,
  startService,
  testPrefix,
  type MosquittoProcess,
  type ServiceProcess,
} from '../support/processes';
import { cleanTestPrefix, testRedisEnv } from '../support/topology';

jest.setTimeout(120_000);

const ADMIN = 'resync-admin-token-0123456789';
const TOKEN = randomBytes(24).toString('base64url');
const prefix = testPrefix('plugin-resync');
const env = {
  ...testRedisEnv(),
  REDIS_KEY_PREFIX: prefix,
  ADMIN_TOKENS: `ops:${ADMIN}`,
  PASSWD_ITERATIONS: '101',
  AUTH_FAIL_LIMIT: '100000',
  BROKER_TOKEN_SHA256: createHash('sha256').update(TOKEN).digest('hex'),
};
let dir: string;
let a: ServiceProcess;
let b: ServiceProcess;
const brokers: MosquittoProcess[] = [];
const clients: MqttClient[] = [];

async function broker(opts: Record<string, string | number> = {}): Promise<MosquittoProcess> {
  const m = await startMosquitto({
    config: pluginConfig(a.url, { token_file: join(dir, 'token'), ...opts }),
  });
  brokers.push(m);
  await m.waitForLog(/mqtt-authd: event stream up/, 10_000);
  return m;
}

beforeAll(async () => {
  await buildPlugin();
  dir = await mkdtemp(join(tmpdir(), 'plugin-resync-'));
  await writeFile(join(dir, 'token'), `${TOKEN}\n`, { mode: 0o600 });
  a = await startService({ env });
  b = await startService({ env });
}, 60_000);
afterAll(async () => {
  for (const c of clients) c.end(true);
  for (const m of brokers) await m.stop();
  await a?.stop();
  await b?.stop();
  await cleanTestPrefix(prefix);
  await rm(dir, { recursive: true, force: true });
});

/** The management API of one process (B unless told). */
const api = (method: string, path: string, body?: unknown, s = b) =>
  rawRequest(s.port, method, `/api/v1${path}`, body === undefined ? '' : JSON.stringify(body), {
    ...JSON_HEADERS,
    Authorization: `Bearer ${ADMIN}`,
  });

async function connected(m: MosquittoProcess, id: string): Promise<MqttClient> {
  expect((await api('POST', '/devices', { id, password: `pw-${id}-0123` })).status).toBe(201);
  const c = await mustConnect(m.port, id, `pw-${id}-0123`, `${id}-c`);
  clients.push(c);
  expect(await publishCode(c, `devices/${id}/t`)).toBe(0);
  return c;
}

/** Resolves with the close times, or rejects naming the clients still connected after `ms`. */
async function allClosed(cs: MqttClient[], names: string[], ms = 15_000): Promise<number[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const open = names.filter((_n, i) => cs[i]?.connected);
      reject(new Error(`still connected after ${ms} ms: ${open.join(', ')}`));
    }, ms);
  });
  try {
    return await Promise.race([Promise.all(cs.map((c) => closedAt(c))), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

test("deleted through another process while the broker's service is down: disconnected once it is back", async () => {
  const m = await broker();
  const names = ['down-1', 'down-2', 'down-3'];
  const doomed = await Promise.all(names.map((n) => connected(m, n)));
  const keep = await connected(m, 'down-keep');
  const from = m.logs().length;
  await a.kill('SIGKILL');
  await m.waitForLog(/mqtt-authd: event stream down/, 10_000, from);
  for (const n of names) expect((await api('DELETE', `/devices/${n}`)).status).toBe(204);
  const closing = allClosed(doomed, names);
  a = await startService({ env: { ...env, PORT: String(a.port) } });
  const backAt = Date.now();
  const closed = await closing;
  console.log(
    `service back (ready) → deleted devices disconnected after ${closed
      .map((t) => Math.max(0, t - backAt))
      .join(', ')} ms`,
  );
  expect(keep.connected).toBe(true);
  expect(await publishCode(keep, 'devices/down-keep/t2')).toBe(0);
});

test('deleted while the broker is SIGSTOPped past its stream timeout: disconnected once it runs', async () => {
  const m = await broker({ stream_timeout_ms: 1000 });
  const gone = await connected(m, 'stop-1');
  const keep = await connected(m, 'stop-keep');
  process.kill(m.pid, 'SIGSTOP');
  try {
    expect((await api('DELETE', '/devices/stop-1', undefined, a)).status).toBe(204);
    await new Promise((r) => setTimeout(r, 2500)); // past the 1 s stream timeout
  } finally {
    process.kill(m.pid, 'SIGCONT');
  }
  const contAt = Date.now();
  const [closed] = await allClosed([gone], ['stop-1']);
  console.log(`SIGCONT → deleted device disconnected after ${(closed ?? contAt) - contAt} ms`);
  expect(keep.connected).toBe(true);
  expect(await publishCode(keep, 'devices/stop-keep/t2')).toBe(0);
});

test('more events than the queue holds (plugin_opt_queue_max 1): the overflow revalidates, every deleted device disconnected', async () => {
  const m = await broker({ queue_max: 1 });
  const names = Array.from({ length: 20 }, (_, i) => `over-${i}`);
  const doomed = await Promise.all(names.map((n) => connected(m, n)));
  const keep = await connected(m, 'over-keep');
  const from = m.logs().length;
  const closing = allClosed(doomed, names);
  const deletes = await Promise.all(names.map((n) => api('DELETE', `/devices/${n}`)));
  expect(deletes.map((r) => r.status)).toEqual(names.map(() => 204));
  await closing;
  await m.waitForLog(/mqtt-authd: event queue overflowed/, 5000, from);
  expect(m.logs().slice(from)).not.toMatch(/kicks of dropped events lost/);
  expect(keep.connected).toBe(true);
  expect(await publishCode(keep, 'devices/over-keep/t2')).toBe(0);
});
