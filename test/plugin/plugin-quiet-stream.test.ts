// Issue 29 item 2: the service's event stream goes silent (a TCP proxy between the broker and
// the service forwards nothing, no FIN, no RST) while a device publishes on a topic whose
// answer is cached. The plugin must stop using its cached answers soon after the stream goes
// quiet (1.5 heartbeats), not when plugin_opt_stream_timeout_ms (60 s here) ends the stream:
// the device, deleted through the API meanwhile, must be refused long before that. The time
// from the silence to the last granted publish is printed (a measurement, not asserted).
import type { MqttClient } from 'mqtt';
import { JSON_HEADERS, rawRequest } from '../support/http';
import { buildPlugin, mustConnect, pluginConfig, publishCode } from '../support/plugin';
import {
  startMosquitto,
  startService,
  testPrefix,
  type MosquittoProcess,
  type ServiceProcess,
} from '../support/processes';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';
import { cleanTestPrefix, testRedisEnv } from '../support/topology';

jest.setTimeout(120_000);

const TOKEN = 'quiet-admin-token-0123456789';
const prefix = testPrefix('plugin-quiet');
let service: ServiceProcess;
let proxy: TcpProxy;
let broker: MosquittoProcess;
let client: MqttClient | undefined;

beforeAll(async () => {
  await buildPlugin();
  service = await startService({
    env: {
      ...testRedisEnv(),
      REDIS_KEY_PREFIX: prefix,
      ADMIN_TOKENS: `ops:${TOKEN}`,
      PASSWD_ITERATIONS: '101',
      AUTH_FAIL_LIMIT: '100000',
    },
  });
  proxy = await startTcpProxy({ host: '127.0.0.1', port: service.port });
  broker = await startMosquitto({
    config: pluginConfig(`http://127.0.0.1:${proxy.port}`, {
      stream_timeout_ms: 60000,
      request_timeout_ms: 500,
    }),
  });
  await broker.waitForLog(/mqtt-authd: event stream up/, 10_000);
}, 60_000);
afterAll(async () => {
  client?.end(true);
  await broker?.stop();
  await proxy?.close();
  await service?.stop();
  await cleanTestPrefix(prefix);
});

const api = (method: string, path: string, body?: unknown) =>
  rawRequest(
    service.port,
    method,
    `/api/v1${path}`,
    body === undefined ? '' : JSON.stringify(body),
    {
      ...JSON_HEADERS,
      Authorization: `Bearer ${TOKEN}`,
    },
  );

test('a silent stream stops cached grants well before the stream timeout', async () => {
  expect((await api('POST', '/devices', { id: 'q-1', password: 'pw-q-1-0123' })).status).toBe(201);
  client = await mustConnect(broker.port, 'q-1', 'pw-q-1-0123', 'q-1-c');
  expect(await publishCode(client, 'devices/q-1/t')).toBe(0);
  expect(await publishCode(client, 'devices/q-1/t')).toBe(0); // from the cache now
  proxy.silence();
  const silentAt = Date.now();
  expect((await api('DELETE', '/devices/q-1')).status).toBe(204);
  const deletedAt = Date.now();
  // Publishing the cached topic; without the fix every one is granted until the 60 s timeout.
  let lastGrant = silentAt;
  let refusedAt = 0;
  while (Date.now() - silentAt < 30_000) {
    const code = await publishCode(client, 'devices/q-1/t');
    if (code !== 0) {
      refusedAt = Date.now();
      break;
    }
    lastGrant = Date.now();
    await new Promise((r) => setTimeout(r, 20));
  }
  console.log(
    `quiet stream: last cached grant ${lastGrant - silentAt} ms after the silence ` +
      `(${lastGrant - deletedAt} ms after the delete's 204); first refusal seen at ` +
      `${refusedAt - silentAt} ms (the refused check waited out request_timeout_ms 500)`,
  );
  expect(refusedAt).toBeGreaterThan(0);
  proxy.heal();
});
