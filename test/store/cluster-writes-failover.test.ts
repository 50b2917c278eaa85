// Every kind of write after a Redis Cluster failover, without restarting the service: a
// primary is killed (-9) under load, its replica promoted, the old primary back as a replica;
// then creates, rotations, ACL changes, patches, deletes, rehash-at-login and lockout counters
// against a device in each of the 64 buckets all succeed within 10 s of the promotion, with
// their effect on the checks at once, and every acknowledged change has exactly one audit
// entry. Runs in the cluster project, on a cluster of its own (the shared one stays whole).
import { bucketOf, BUCKETS } from '../../src/store/keys';
import { figures, login, startLoad } from '../support/failover-load';
import { eventually, JSON_HEADERS, pool, rawRequest, sleep } from '../support/http';
import { htpasswdBcrypt } from '../support/legacy-hashes';
import { startCluster, type ClusterNodes } from '../support/processes';
import { ADMIN_AUTH, startTestService, type TestService } from '../support/service';

jest.setTimeout(180_000);

let cluster: ClusterNodes;
let t: TestService;
const LOAD = Array.from({ length: 6 }, (_, i) => `load-${i}`);
const BUCKET_LIST = Array.from({ length: BUCKETS }, (_, b) => b);
const LEGACY_PASSWORD = 'legacy-password';

/** A name of `kind` in bucket `b`. */
function nameIn(kind: string, b: number): string {
  for (let i = 0; ; i++) if (bucketOf(`${kind}-${i}`) === b) return `${kind}-${i}`;
}

beforeAll(async () => {
  cluster = await startCluster();
  t = await startTestService('cluster-writes', {
    REDIS_CLUSTER_NODES: cluster.seedList,
    CHECK_TIMEOUT_MS: '250',
  });
  const devices = t.service.ctx.devices;
  for (const id of [...LOAD, 'gone']) await devices.create({ id, password: id });
  await devices.remove('gone');
  const legacy = htpasswdBcrypt(LEGACY_PASSWORD);
  await pool(BUCKET_LIST, 8, async (b) => {
    const acl = [{ pattern: 'data/#', access: 'readwrite' as const }];
    await devices.create({ id: nameIn('keep', b), password: `keep-${b}-password`, acl });
    await devices.create({ id: nameIn('del', b), password: `del-${b}-password` });
    await devices.importDevice(nameIn('legacy', b), { hash: legacy });
  });
});
afterAll(async () => {
  await t?.stop();
  await cluster?.stop();
});

const api = (method: string, path: string, key: string, body?: unknown) =>
  rawRequest(
    t.port,
    method,
    `/api/v1${path}`,
    body === undefined ? undefined : JSON.stringify(body),
    {
      ...JSON_HEADERS,
      ...ADMIN_AUTH,
      'Idempotency-Key': key,
    },
  ).catch(() => ({ status: 0, body: '' }));
const acl = (username: string, topic: string, acc: number) =>
  rawRequest(
    t.port,
    'POST',
    '/mqtt/acl',
    JSON.stringify({ username, topic, acc, clientid: `c-${username}` }),
    JSON_HEADERS,
  ).then((r) => r.status);

/** Sends until answered `ok` (a provisioning system's retry: same Idempotency-Key), by `until`. */
async function until2xx(
  send: () => Promise<{ status: number; body: string }>,
  ok: number,
  deadline: number,
  tries: { n: number; answers: Record<string, number> },
): Promise<{ status: number; body: string; at: number }> {
  for (;;) {
    const r = await send();
    if (r.status === ok) return { ...r, at: Date.now() };
    tries.n++;
    const code = /"code":"([a-z_]+)"/.exec(r.body)?.[1] ?? '';
    const what = `${r.status}${code ? ` ${code}` : ''}`;
    tries.answers[what] = (tries.answers[what] ?? 0) + 1;
    if (Date.now() > deadline) throw new Error(`still ${r.status} ${r.body} at the deadline`);
    await sleep(200);
  }
}

it('kill -9 of a primary under load, then every kind of write in all 64 buckets within 10 s of the promotion', async () => {
  const run = `${process.pid}-${Date.now()}`;
  const load = startLoad({ ports: [t.port], devices: LOAD, gone: 'gone' });
  await sleep(500);
  const { victim, killedAt, promotedAt } = await cluster.killPrimary();
  // The old primary comes back as a replica: the promoted shard can confirm writes again.
  await victim.restart();
  const deadline = promotedAt + 10_000;
  const retries = { n: 0, answers: {} as Record<string, number> };
  const last: number[] = [];
  const acked: { action: string; target: string }[] = [];
  await pool(BUCKET_LIST, 8, async (b) => {
    const [keep, del, legacy, fresh] = ['keep', 'del', 'legacy', 'new'].map((k) => nameIn(k, b));
    const key = (what: string) => `${run}-${what}-${b}-0123456789`;
    const created = await until2xx(
      () => api('POST', '/devices', key('create'), { id: fresh }),
      201,
      deadline,
      retries,
    );
    const freshPassword = JSON.parse(created.body).password as string;
    acked.push({ action: 'create', target: fresh! });
    const rotated = await until2xx(
      () => api('POST', `/devices/${keep}/password`, key('rotate'), {}),
      200,
      deadline,
      retries,
    );
    const keepPassword = JSON.parse(rotated.body).password as string;
    acked.push({ action: 'rotate', target: keep! });
    const narrowed = [{ pattern: 'data/own', access: 'readwrite' }];
    await until2xx(
      () => api('PUT', `/devices/${keep}/acl`, key('acl'), { acl: narrowed }),
      200,
      deadline,
      retries,
    );
    acked.push({ action: 'set-acl', target: keep! });
    await until2xx(
      () => api('PATCH', `/devices/${keep}`, key('patch'), { metadata: { b } }),
      200,
      deadline,
      retries,
    );
    acked.push({ action: 'update', target: keep! });
    const deleted = await until2xx(
      () => api('DELETE', `/devices/${del}`, key('delete')),
      204,
      deadline,
      retries,
    );
    acked.push({ action: 'delete', target: del! });
    // Their effects, at once: the change feed told the cache.
    expect((await login(t.port, del!, `del-${b}-password`)).status).toBe(403);
    expect((await login(t.port, fresh!, freshPassword)).status).toBe(200);
    expect((await login(t.port, keep!, `keep-${b}-password`)).status).toBe(403); // also a lockout counter write
    expect((await login(t.port, keep!, keepPassword)).status).toBe(200);
    expect(await acl(keep!, 'data/other', 1)).toBe(403);
    expect(await acl(keep!, 'data/own', 1)).toBe(200);
    // Rehash at login: the legacy hash is replaced by `$7$` (REPLACE_HASH in this bucket).
    const rehashed = await until2xx(
      () => login(t.port, legacy!, LEGACY_PASSWORD).then((r) => ({ body: '', ...r })),
      200,
      deadline,
      retries,
    );
    await t.service.ctx.checks.settled();
    await eventually(
      async () => {
        expect((await t.service.ctx.store.getUser(legacy!))?.hash).toMatch(/^\$7\$/);
      },
      Math.max(500, deadline - Date.now()),
    );
    acked.push({ action: 'rehash', target: legacy! });
    last.push(Math.max(created.at, deleted.at, rehashed.at, Date.now()));
  });
  const allDoneMs = Math.max(...last) - promotedAt;
  await load.stop();
  const f = figures(load.answers, killedAt);
  // One line for bench/failover.ts; "all devices back": every write in all 64 buckets done.
  console.log(
    JSON.stringify({
      scenario: 'cluster kill -9, every write kind × 64 buckets',
      promotedMs: promotedAt - killedAt,
      allBackMs: Math.max(...last) - killedAt,
      retriedWrites: retries.n,
      retriedAfter: retries.answers,
      ...f,
    }),
  );
  expect(allDoneMs).toBeLessThan(10_000);
  // Never an allow for the device deleted before the kill.
  expect(load.answers.filter((a) => a.kind === 'gone' && a.status === 200)).toEqual([]);
  // Every acknowledged change has exactly one audit entry (the load's registrations too).
  for (const id of load.acked()) acked.push({ action: 'create', target: id });
  const entries = await t.service.audit.read(100_000);
  const count = new Map<string, number>();
  for (const e of entries)
    count.set(`${e.action} ${e.target}`, (count.get(`${e.action} ${e.target}`) ?? 0) + 1);
  const wrong = acked.map((a) => `${a.action} ${a.target}`).filter((k) => count.get(k) !== 1);
  expect(wrong).toEqual([]);
  // Ready again, no shard's writes failing.
  await eventually(async () => {
    const r = await rawRequest(t.port, 'GET', '/readyz');
    expect(JSON.parse(r.body).checks.writes).toBe('ok');
    expect(r.status).toBe(200);
  }, 10_000);
});
