// Redis Cluster, 3 primaries + 3 replicas on loopback, started by this file. The key layout
// spreads devices over every primary; a primary killed (-9) under load is a short outage
// (503s, never an allow for a device deleted before), no acknowledged write is lost, and
// service comes back by itself once its replica is promoted.
import Redis from 'ioredis';
import { startCluster, type ClusterNodes } from '../support/processes';
import { figures, login, startLoad } from '../support/failover-load';
import { startTestService, type TestService } from '../support/service';
import { eventually, rawRequest } from '../support/http';

jest.setTimeout(90_000);

let cluster: ClusterNodes;
let t: TestService;
const DEVICES = Array.from({ length: 12 }, (_, i) => `dev-${i}`);

beforeAll(async () => {
  cluster = await startCluster();
  t = await startTestService('cluster', {
    REDIS_CLUSTER_NODES: cluster.seedList,
    CHECK_TIMEOUT_MS: '250',
  });
  for (const id of [...DEVICES, 'gone']) await t.service.ctx.devices.create({ id, password: id });
});
afterAll(async () => {
  await t?.stop();
  await cluster?.stop();
});

const loginT = (id: string) => login(t.port, id);

async function keysOn(port: number): Promise<number> {
  const c = new Redis({ port, lazyConnect: true });
  await c.connect();
  try {
    const [, keys] = await c.scan('0', 'MATCH', `${t.config.REDIS_KEY_PREFIX}*`, 'COUNT', 10000);
    return keys.length;
  } finally {
    c.disconnect();
  }
}

it('/readyz names the topology and the three primaries', async () => {
  const r = await rawRequest(t.port, 'GET', '/readyz');
  expect(r.status).toBe(200);
  const ports = await cluster.primaryPorts();
  expect(JSON.parse(r.body).redis).toEqual({
    topology: 'cluster',
    primaries: ports.map((p) => `127.0.0.1:${p}`).sort(),
  });
});

it('devices land on all three primaries', async () => {
  const ports = await cluster.primaryPorts();
  expect(ports).toHaveLength(3);
  for (const p of ports) expect(await keysOn(p)).toBeGreaterThan(0);
});

it('kill -9 of a primary under load: 503s meanwhile, never an allow for a deleted device, no acknowledged write lost, back without a restart', async () => {
  for (const id of DEVICES) expect((await loginT(id)).status).toBe(200);
  await t.service.ctx.devices.remove('gone');
  const load = startLoad({ ports: [t.port], devices: DEVICES, gone: 'gone' });
  await new Promise((r) => setTimeout(r, 500));
  const { victim, killedAt, promotedAt } = await cluster.killPrimary();
  const promotedMs = promotedAt - killedAt;
  // Every device answers again, whichever slot it is in.
  await eventually(async () => {
    for (const id of DEVICES) expect((await loginT(id)).status).toBe(200);
  }, 15000);
  const allBackMs = Date.now() - killedAt;
  await new Promise((r) => setTimeout(r, 300));
  await load.stop();
  const f = figures(load.answers, killedAt);
  console.log(JSON.stringify({ scenario: 'cluster kill -9', promotedMs, allBackMs, ...f }));
  expect(load.answers.filter((a) => a.kind === 'gone' && a.status === 200)).toEqual([]);
  for (const a of load.answers) expect([200, 201, 403, 503]).toContain(a.status);
  expect(load.answers.filter((a) => a.kind === 'gone' && a.status === 403).length).toBeGreaterThan(
    0,
  );
  expect(allBackMs).toBeLessThan(promotedMs + 5000);
  for (const id of load.acked()) expect(await t.service.ctx.store.getUser(id)).not.toBeNull();
  const after = await cluster.primaryPorts();
  expect(after).toHaveLength(3);
  expect(after).not.toContain(victim.port);
});
