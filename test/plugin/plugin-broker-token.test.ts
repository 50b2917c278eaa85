// The brokers' credential on /mqtt/events (BROKER_TOKEN_SHA256 on the service,
// plugin_opt_token_file on the plugin), against a real service, Redis and Mosquitto: a request
// without the right bearer token is refused with 401 at once and never takes one of the
// EVENTS_MAX_STREAMS slots, so a local flood cannot keep a broker from its stream; the plugin
// with the token file holds the stream and gets its kicks. The token is never logged.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEvents, type EventStreamClient } from '../support/event-stream';
import {
  buildPlugin,
  closedAt,
  mustConnect,
  pluginConfig,
  publishCode,
  startPluginStack,
  type PluginStack,
} from '../support/plugin';
import {
  startMosquitto,
  startService,
  testPrefix,
  type MosquittoProcess,
} from '../support/processes';
import { cleanTestPrefix, testRedisEnv } from '../support/topology';

jest.setTimeout(60_000);

const TOKEN = randomBytes(24).toString('base64url');
const DIGEST = createHash('sha256').update(TOKEN).digest('hex');
let dir: string;
let tokenFile: string;
let s: PluginStack;
const brokers: MosquittoProcess[] = [];
const streams: EventStreamClient[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'broker-token-'));
  tokenFile = join(dir, 'token');
  await writeFile(tokenFile, `${TOKEN}\n`, { mode: 0o600 }); // a trailing newline, as echo writes
  s = await startPluginStack({
    name: 'broker-token',
    // Two slots: the stack's broker and one more.
    serviceEnv: { BROKER_TOKEN_SHA256: DIGEST, EVENTS_MAX_STREAMS: '2', LOG_LEVEL: 'debug' },
    pluginOpts: { token_file: tokenFile },
  });
}, 120_000);
afterAll(async () => {
  for (const c of streams) c.close();
  for (const b of brokers) await b.stop();
  await s?.stop();
  await rm(dir, { recursive: true, force: true });
});

const open = async (headers?: Record<string, string>) => {
  const c = await openEvents(s.service.port, { headers });
  streams.push(c);
  return c;
};

test('no credential, a wrong one, another scheme: 401 at once, with WWW-Authenticate', async () => {
  for (const headers of [
    undefined,
    { Authorization: `Bearer ${TOKEN}x` },
    { Authorization: `Bearer ${TOKEN.slice(1)}` },
    { Authorization: `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}` },
    { Authorization: `Bearer ${DIGEST}` }, // the verifier is not the token
  ]) {
    const c = await open(headers);
    expect(c.status).toBe(401);
    expect(c.headers['www-authenticate']).toMatch(/^Bearer /);
    expect(c.body).toMatch(/broker credential is required/);
    await c.ended;
  }
});

test('an unauthenticated flood takes no slot: the broker keeps its stream, kicks arrive, a new broker gets one', async () => {
  // Flood: 400 requests, 40 at a time, for as long as the test below runs.
  let refused = 0;
  let other = 0;
  let flooding = true;
  const flood = Promise.all(
    Array.from({ length: 40 }, async () => {
      while (flooding) {
        const c = await openEvents(s.service.port);
        if (c.status === 401) refused++;
        else other++;
        c.close();
      }
    }),
  );
  try {
    // A second broker with the token file, started during the flood, gets the last slot.
    const b = await startMosquitto({
      config: pluginConfig(s.service.url, { token_file: tokenFile }),
    });
    brokers.push(b);
    await b.waitForLog(/mqtt-authd: event stream up/, 10_000);
    // The slots are now both taken by brokers: a third authenticated stream gets 503, an
    // unauthenticated one still 401 (the credential is checked before the count).
    const third = await open({ Authorization: `Bearer ${TOKEN}` });
    expect(third.status).toBe(503);
    // A kick through the first broker, during the flood.
    const id = 'tok-kick';
    expect((await s.api('POST', '/devices', { id, password: 'pw-tok-kick-0123' })).status).toBe(
      201,
    );
    const client = await mustConnect(s.broker.port, id, 'pw-tok-kick-0123', `${id}-c`);
    expect(await publishCode(client, `devices/${id}/t`)).toBe(0);
    const closed = closedAt(client);
    expect((await s.api('DELETE', `/devices/${id}`)).status).toBe(204);
    await closed;
  } finally {
    flooding = false;
    await flood;
  }
  expect(refused).toBeGreaterThan(40);
  expect(other).toBe(0);
  expect(s.broker.logs()).not.toContain(TOKEN);
  expect(s.broker.logs()).toMatch(/broker credential from token_file/);
});

test('the right token: 200 and hello (a slot freed by the second broker)', async () => {
  await brokers.pop()?.stop();
  // The service notices the closed stream at once; retry briefly all the same.
  let c = await open({ Authorization: `Bearer ${TOKEN}` });
  for (let i = 0; c.status === 503 && i < 50; i++) {
    await new Promise((r) => setTimeout(r, 100));
    c = await open({ Authorization: `Bearer ${TOKEN}` });
  }
  expect(c.status).toBe(200);
  expect((await c.next((e) => e.event === 'hello')).data.v).toBe(1);
});

describe('token files the broker refuses to start with', () => {
  beforeAll(buildPlugin, 180_000);
  const refuses = async (file: string, message: RegExp) => {
    const started = startMosquitto({
      config: pluginConfig('http://127.0.0.1:1', { token_file: file }),
      timeoutMs: 5000,
    });
    await expect(started).rejects.toThrow(message);
  };
  test('missing', () => refuses(join(dir, 'nope'), /plugin_opt_token_file cannot be opened/));
  test('empty (only a newline)', async () => {
    await writeFile(join(dir, 'empty'), '\n');
    await refuses(join(dir, 'empty'), /plugin_opt_token_file is empty/);
  });
  test('two lines', async () => {
    await writeFile(join(dir, 'two'), `${TOKEN}\nsecond\n`);
    await refuses(join(dir, 'two'), /plugin_opt_token_file must hold one token/);
  });
});

test('BROKER_TOKEN_SHA256 unset: the stream stays open (compatibility) and the start logs a warning', async () => {
  const prefix = testPrefix('broker-token-unset');
  const svc = await startService({
    env: { ...testRedisEnv(), REDIS_KEY_PREFIX: prefix },
    readyPath: '/readyz',
  });
  try {
    const c = await openEvents(svc.port);
    streams.push(c);
    expect(c.status).toBe(200);
    const line = svc
      .logs()
      .split('\n')
      .find((l) => l.includes('BROKER_TOKEN_SHA256 is not set'));
    expect(JSON.parse(line ?? '{}')).toMatchObject({ level: 40 });
  } finally {
    await svc.stop();
    await cleanTestPrefix(prefix);
  }
});
