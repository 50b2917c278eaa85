// Presence through real brokers (issue 27): the plugin reports who connects and leaves to
// POST /mqtt/sessions, the API lists them and marks devices online; Disconnect ends a
// device's sessions on the broker without revoking it; a broker killed with SIGKILL takes its
// sessions with it within 3 heartbeats; a restarted broker reports afresh; the default broker
// id is the host name and listener port; the heartbeat carries the decision counters.
import { hostname } from 'node:os';
import type { MqttClient } from 'mqtt';
import { eventually } from '../support/http';
import {
  closedAt,
  mustConnect,
  pluginConfig,
  publishCode,
  startPluginStack,
  type PluginStack,
} from '../support/plugin';
import { startMosquitto, type MosquittoProcess } from '../support/processes';

jest.setTimeout(90_000);

const HEARTBEAT_MS = 500;
let s: PluginStack;
const clients: MqttClient[] = [];
const brokers: MosquittoProcess[] = [];

interface Listed {
  username: string;
  clientid: string;
  broker: string;
  address: string;
  protocol: number;
}

beforeAll(async () => {
  s = await startPluginStack({
    name: 'plugin-presence',
    pluginOpts: { broker_id: 'pr-a', heartbeat_ms: HEARTBEAT_MS },
  });
  for (const id of ['pr-dev', 'pr-other']) {
    expect((await s.api('POST', '/devices', { id, password: `pw-${id}-0123`, acl: [{ pattern: '%u/#', access: 'readwrite' }] })).status).toBe(201); // prettier-ignore
  }
});
afterAll(async () => {
  for (const c of clients) c.end(true);
  for (const b of brokers) await b.stop();
  await s?.stop();
});

async function sessions(query = ''): Promise<Listed[]> {
  const a = await s.api('GET', `/sessions?limit=1000${query}`);
  expect(a.status).toBe(200);
  return (JSON.parse(a.body) as { sessions: Listed[] }).sessions;
}
const connect = async (port: number, id: string, clientId: string) => {
  const c = await mustConnect(port, id, `pw-${id}-0123`, clientId);
  clients.push(c);
  return c;
};
const online = async (id: string) =>
  (JSON.parse((await s.api('GET', `/devices/${id}`)).body) as { online: boolean }).online;

test('a connect is listed with its broker, address and protocol; the device is online; a disconnect ends it', async () => {
  const c = await connect(s.broker.port, 'pr-dev', 'pr-c1');
  await eventually(async () => {
    expect(await sessions('&broker=pr-a')).toEqual([
      expect.objectContaining({
        username: 'pr-dev',
        clientid: 'pr-c1',
        broker: 'pr-a',
        address: '127.0.0.1',
        protocol: 5,
      }),
    ]);
  }, 10_000);
  expect(await online('pr-dev')).toBe(true);
  expect(await online('pr-other')).toBe(false);
  c.end(true);
  await eventually(async () => expect(await sessions('&broker=pr-a')).toEqual([]), 10_000);
  expect(await online('pr-dev')).toBe(false);
});

test('a client id taken over by a new connection leaves one session', async () => {
  await connect(s.broker.port, 'pr-dev', 'pr-take');
  await connect(s.broker.port, 'pr-dev', 'pr-take');
  await eventually(async () => {
    expect((await sessions('&broker=pr-a')).map((x) => x.clientid)).toEqual(['pr-take']);
  }, 10_000);
  // The old connection's DISCONNECT arrived (the takeover) and did not remove the new one.
  await new Promise((r) => setTimeout(r, 3 * HEARTBEAT_MS));
  expect((await sessions('&broker=pr-a')).map((x) => x.clientid)).toEqual(['pr-take']);
});

test('Disconnect ends every session of the device on the broker, and it may connect again', async () => {
  const a = await connect(s.broker.port, 'pr-other', 'pr-o1');
  const b = await connect(s.broker.port, 'pr-other', 'pr-o2');
  await eventually(
    async () => expect(await sessions('&username=pr-other')).toHaveLength(2),
    10_000,
  );
  const closed = Promise.all([closedAt(a), closedAt(b)]);
  const asked = await s.api('POST', '/devices/pr-other/disconnect');
  expect([asked.status, JSON.parse(asked.body)]).toEqual([
    202,
    { username: 'pr-other', sessions: 2 },
  ]);
  await closed;
  await eventually(async () => expect(await sessions('&username=pr-other')).toEqual([]), 10_000);
  const again = await connect(s.broker.port, 'pr-other', 'pr-o3');
  expect(await publishCode(again, 'pr-other/t')).toBe(0);
});

test('the heartbeat carries the decision counters', async () => {
  await eventually(async () => {
    const p = JSON.parse((await s.api('GET', '/presence')).body) as {
      brokers: { broker: string; counters: Record<string, Record<string, number>> }[];
    };
    const mine = p.brokers.find((b) => b.broker === 'pr-a');
    expect(mine?.counters.allow?.user).toBeGreaterThanOrEqual(4);
    expect(mine?.counters.allow?.acl).toBeGreaterThanOrEqual(1);
  }, 10_000);
});

test('the default broker id is host:port; a broker killed with SIGKILL takes its sessions with it', async () => {
  const b = await startMosquitto({
    config: pluginConfig(s.service.url, { heartbeat_ms: HEARTBEAT_MS }),
  });
  brokers.push(b);
  const id = encodeURIComponent(`${hostname()}:${b.port}`);
  await connect(b.port, 'pr-dev', 'pr-k1');
  await eventually(async () => expect((await sessions(`&broker=${id}`)).map((x) => x.clientid)).toEqual(['pr-k1']), 10_000); // prettier-ignore
  process.kill(b.pid, 'SIGKILL');
  await b.exited;
  // Gone after 3 heartbeats (1.5 s here): the broker sent no disconnect.
  await eventually(async () => expect(await sessions(`&broker=${id}`)).toEqual([]), 10_000);
});

test('a restarted broker reports afresh: what it holds now, nothing of before', async () => {
  // A heartbeat of a minute: the old sessions could only go by the new start's full report.
  const conf = pluginConfig(s.service.url, { broker_id: 'pr-r', heartbeat_ms: 60_000 });
  const first = await startMosquitto({ config: conf });
  brokers.push(first);
  await connect(first.port, 'pr-dev', 'pr-r1');
  await eventually(async () => expect((await sessions('&broker=pr-r')).map((x) => x.clientid)).toEqual(['pr-r1']), 10_000); // prettier-ignore
  process.kill(first.pid, 'SIGKILL');
  await first.exited;
  const second = await startMosquitto({ config: conf });
  brokers.push(second);
  await connect(second.port, 'pr-dev', 'pr-r2');
  await eventually(async () => expect((await sessions('&broker=pr-r')).map((x) => x.clientid)).toEqual(['pr-r2']), 10_000); // prettier-ignore
});
