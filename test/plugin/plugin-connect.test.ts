// CONNECT through the plugin on a real broker: right, wrong and unknown passwords, the client-id
// binding, anonymous clients, a cached login that must not let another password in, and
// options the broker refuses to start with.
import type { MqttClient } from 'mqtt';
import { startMosquitto } from '../support/processes';
import {
  buildPlugin,
  connectV5,
  pluginConfig,
  startPluginStack,
  type PluginStack,
} from '../support/plugin';

let s: PluginStack;
const clients: MqttClient[] = [];
const PW = 'right-password-0123';

beforeAll(async () => {
  s = await startPluginStack({ name: 'plugin-connect' });
  const made = await Promise.all([
    s.api('POST', '/devices', { id: 'dev-a', password: PW }),
    s.api('POST', '/devices', { id: 'dev-b', password: PW, clientIds: ['fixed-id', '%u-1'] }),
  ]);
  for (const m of made) expect(m.status).toBe(201);
}, 60_000);
afterAll(async () => {
  for (const c of clients) c.end(true);
  await s?.stop();
});

const connect = async (user: string, pass: string, clientId: string) => {
  const r = await connectV5(s.broker.port, user, pass, clientId);
  if (r.client) clients.push(r.client);
  return r.code;
};

test('the right password connects, also a second time (from the cache)', async () => {
  expect(await connect('dev-a', PW, 'a-1')).toBe(0);
  expect(await connect('dev-a', PW, 'a-1')).toBe(0);
});

test('a wrong password is refused, also right after the right one was cached', async () => {
  expect(await connect('dev-a', PW, 'a-2')).toBe(0);
  expect(await connect('dev-a', 'wrong-password-0123', 'a-2')).toBe(135);
  expect(await connect('dev-a', `${PW} `, 'a-2')).toBe(135);
  expect(await connect('dev-a', '', 'a-2')).toBe(135);
});

test('an unknown user is refused', async () => {
  expect(await connect('nobody-here', PW, 'n-1')).toBe(135);
});

test('a client id binding: only the listed ids (with %u) connect', async () => {
  expect(await connect('dev-b', PW, 'fixed-id')).toBe(0);
  expect(await connect('dev-b', PW, 'dev-b-1')).toBe(0);
  expect(await connect('dev-b', PW, 'other-id')).toBe(135);
  // the cached login of fixed-id is no login for another id
  expect(await connect('dev-b', PW, 'dev-b-2')).toBe(135);
});

test('a client without a user name is refused', async () => {
  expect(await connect('', '', 'anon-1')).toBe(135);
});

describe('options the broker refuses to start with', () => {
  beforeAll(buildPlugin, 180_000);
  const refuses = async (config: string, message: RegExp) => {
    const started = startMosquitto({ config, timeoutMs: 5000 });
    await expect(started).rejects.toThrow(message);
  };
  test('no url', () =>
    refuses(
      pluginConfig('http://x').replace(/^plugin_opt_url.*$/m, ''),
      /plugin_opt_url is required/,
    ));
  test('a cache size that is not a number', () =>
    refuses(
      pluginConfig('http://127.0.0.1:1', { cache_size: '10k' }),
      /plugin_opt_cache_size an integer/,
    ));
  test('an unknown option (a typo)', () =>
    refuses(
      pluginConfig('http://127.0.0.1:1', { cache_sise: 10 }),
      /plugin_opt_cache_sise is not an option/,
    ));
  test('a url that is not http(s)', () =>
    refuses(pluginConfig('ftp://127.0.0.1:1'), /plugin_opt_url must start with http/));
});
