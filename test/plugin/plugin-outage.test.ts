// The service stops: the plugin stops trusting its cache (the stream ended), new connections
// are refused and connected clients' publishes are no longer allowed; it comes back on the same
// address: the broker recovers by itself (checks at once, the stream within its backoff).
// With plugin_opt_stale_grace_ms, recent answers carry a short outage instead.
import type { MqttClient } from 'mqtt';
import {
  connectV5,
  mustConnect,
  publishCode,
  startPluginStack,
  type PluginStack,
} from '../support/plugin';
import { eventually, send } from '../support/http';

const clients: MqttClient[] = [];
afterAll(() => {
  for (const c of clients) c.end(true);
});

async function withDevice(s: PluginStack, id: string) {
  expect((await s.api('POST', '/devices', { id, password: `pw-${id}-0123`, acl: [{ pattern: '%u/#', access: 'readwrite' }] })).status).toBe(201); // prettier-ignore
  const client = await mustConnect(s.broker.port, id, `pw-${id}-0123`, `${id}-c`);
  clients.push(client);
  expect(await publishCode(client, `${id}/t`)).toBe(0);
  expect(await publishCode(client, `${id}/t`)).toBe(0); // cached
  return client;
}

describe('without a stale grace (the default)', () => {
  let s: PluginStack;
  beforeAll(async () => {
    s = await startPluginStack({ name: 'plugin-outage' });
  }, 60_000);
  afterAll(() => s?.stop());

  test('service down: connects refused, publishes denied; back on the same port: recovered', async () => {
    const client = await withDevice(s, 'out-1');
    const from = s.broker.logs().length;
    await s.stopService();
    await s.broker.waitForLog(/mqtt-authd: event stream down/, 10_000, from);
    expect(await publishCode(client, 'out-1/t')).toBe(135);
    expect((await connectV5(s.broker.port, 'out-1', 'pw-out-1-0123', 'out-1-d')).code).not.toBe(0);
    expect(client.connected).toBe(true); // not kicked: it may publish again once we are back

    const back = s.broker.logs().length;
    await s.startServiceAgain();
    // checks work as soon as the service answers; the stream follows within its backoff (≤ 2 s)
    expect(await publishCode(client, 'out-1/t')).toBe(0);
    await s.streamUp(back, 10_000);
    expect(await publishCode(client, 'out-1/t')).toBe(0);
    const again = await connectV5(s.broker.port, 'out-1', 'pw-out-1-0123', 'out-1-d');
    if (again.client) clients.push(again.client);
    expect(again.code).toBe(0);
    // and push invalidation works again on the new stream
    const gone = new Promise<void>((r) => client.once('close', () => r()));
    expect((await s.api('DELETE', '/devices/out-1')).status).toBe(204);
    await gone;
  }, 60_000);
});

describe('with plugin_opt_stale_grace_ms 60000 (an outage answered from what the broker holds)', () => {
  let s: PluginStack;
  beforeAll(async () => {
    s = await startPluginStack({ name: 'plugin-stale', pluginOpts: { stale_grace_ms: 60000 } });
  }, 60_000);
  afterAll(() => s?.stop());

  /** The service's count of `/mqtt/user` checks (all results). */
  const userChecks = async () => {
    const text = (await send(s.service.port, '/metrics', { method: 'GET' })).body;
    return [...text.matchAll(/^mqtt_authd_checks_total\{kind="user",[^}]*\} (\d+)/gm)].reduce(
      (n, m) => n + Number(m[1]),
      0,
    );
  };

  test('answers seen in the last minute carry an outage; anything new is denied', async () => {
    const client = await withDevice(s, 'stale-1');
    // The device's create event may reach the plugin after its first CONNECT was asked (a
    // loaded machine): that answer is then not kept. Log in again until one is answered from
    // the plugin's cache (the service counts no check for it): that is the answer to carry.
    // (Another client id than the connected client's: a takeover would end its session.)
    await eventually(async () => {
      const before = await userChecks();
      const c = await mustConnect(s.broker.port, 'stale-1', 'pw-stale-1-0123', 'stale-1-d');
      c.end(true);
      expect(await userChecks()).toBe(before);
    }, 10_000);
    // A device revoked before the outage: its kick and its answers' drop are applied first.
    const revoked = await withDevice(s, 'stale-2');
    const kicked = new Promise<void>((r) => revoked.once('close', () => r()));
    expect((await s.api('DELETE', '/devices/stale-2')).status).toBe(204);
    await kicked;
    const from = s.broker.logs().length;
    await s.stopService();
    await s.broker.waitForLog(/mqtt-authd: event stream down/, 10_000, from);
    expect(await publishCode(client, 'stale-1/t')).toBe(0); // seen before: held answer
    await s.broker.waitForLog(/mqtt-authd: no service answers: outage/, 10_000, from);
    expect(await publishCode(client, 'stale-1/t')).toBe(0); // answered without asking
    expect(await publishCode(client, 'stale-1/never-seen')).toBe(135);
    const again = await connectV5(s.broker.port, 'stale-1', 'pw-stale-1-0123', 'stale-1-d');
    if (again.client) clients.push(again.client);
    expect(again.code).toBe(0); // the same login, verified a moment ago
    expect((await connectV5(s.broker.port, 'stale-1', 'wrong-password', 'stale-1-d')).code).not.toBe(0); // prettier-ignore
    expect((await connectV5(s.broker.port, 'stale-2', 'pw-stale-2-0123', 'stale-2-c')).code).not.toBe(0); // prettier-ignore
    expect((await connectV5(s.broker.port, 'nobody', 'pw-nobody-0123', 'nobody-c')).code).not.toBe(0); // prettier-ignore
    const back = s.broker.logs().length;
    await s.startServiceAgain();
    await s.broker.waitForLog(/mqtt-authd: outage over after \d+ ms/, 10_000, back);
  }, 60_000);
});
