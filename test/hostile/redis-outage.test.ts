// Redis dies (SIGKILL) under a load of broker checks and registrations, against the service
// as a real process. What must hold: every check answers within the bound, 5xx while Redis is
// gone, never 200 for anything not allowed; the process stays up and /readyz says not ready;
// once Redis is back (same port, AOF with fsync always) the service recovers by itself, and
// every registration acknowledged with 201 before the crash is still there.
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { createKeys } from '../../src/store/keys';
import { Faults, report, round, sized, stage, type Stage } from '../support/hostile';
import {
  JSON_HEADERS,
  lanes,
  maxOf,
  percentile,
  pick,
  send,
  sleep,
  waitFor,
  type Answer,
} from '../support/http';
import { startRedis, type RedisProcess, type ServiceProcess } from '../support/processes';

const S = sized(
  { cycles: 2, users: 30, lanes: 8, upMs: 1500, outageMs: 2000 },
  { cycles: 6, users: 200, lanes: 32, upMs: 4000, outageMs: 3000 },
);
/** A check answer slower than this is a fault (go-auth gives up at 5 s). */
const MAX_LATENCY_MS = 2000;
const RECOVERY_TIMEOUT_MS = 10_000;
jest.setTimeout(S.cycles * (S.upMs + S.outageMs + RECOVERY_TIMEOUT_MS) + 60_000);

interface Probe {
  path: string;
  body: string;
  headers: Record<string, string>;
  allowed: boolean;
  what: string;
}

interface Sample extends Answer {
  probe: Probe;
}

const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };

function probes(users: { id: string; password: string }[], boss: string): Probe[] {
  const u = pick(users);
  const other = pick(users);
  const json = (o: object) => JSON.stringify(o);
  const list: Probe[] = [
    {
      what: 'right password',
      path: '/mqtt/user',
      body: json({ username: u.id, password: u.password, clientid: 'c' }),
      headers: JSON_HEADERS,
      allowed: true,
    },
    {
      what: 'right password (form)',
      path: '/mqtt/user',
      body: new URLSearchParams({ username: u.id, password: u.password, clientid: 'c' }).toString(),
      headers: FORM,
      allowed: true,
    },
    {
      what: 'wrong password',
      path: '/mqtt/user',
      body: json({ username: u.id, password: `${u.password}x`, clientid: 'c' }),
      headers: JSON_HEADERS,
      allowed: false,
    },
    {
      what: 'unknown user',
      path: '/mqtt/user',
      body: json({
        username: `ghost-${randomBytes(4).toString('hex')}`,
        password: 'x',
        clientid: 'c',
      }),
      headers: JSON_HEADERS,
      allowed: false,
    },
    {
      what: 'own topic',
      path: '/mqtt/acl',
      body: json({ username: u.id, clientid: 'c', topic: `devices/${u.id}/t`, acc: 2 }),
      headers: JSON_HEADERS,
      allowed: true,
    },
    {
      what: 'own subtree subscribe',
      path: '/mqtt/acl',
      body: json({ username: u.id, clientid: 'c', topic: `devices/${u.id}/#`, acc: 4 }),
      headers: JSON_HEADERS,
      allowed: true,
    },
    {
      what: 'subscribe #',
      path: '/mqtt/acl',
      body: json({ username: u.id, clientid: 'c', topic: '#', acc: 4 }),
      headers: JSON_HEADERS,
      allowed: false,
    },
    {
      what: 'superuser (not one)',
      path: '/mqtt/superuser',
      body: json({ username: u.id }),
      headers: JSON_HEADERS,
      allowed: false,
    },
    {
      what: 'superuser (boss)',
      path: '/mqtt/superuser',
      body: json({ username: boss }),
      headers: JSON_HEADERS,
      allowed: true,
    },
  ];
  if (other.id !== u.id) {
    list.push({
      what: "another device's topic",
      path: '/mqtt/acl',
      body: json({ username: u.id, clientid: 'c', topic: `devices/${other.id}/t`, acc: 2 }),
      headers: JSON_HEADERS,
      allowed: false,
    });
  }
  return list;
}

let redis: RedisProcess;
let st: Stage;
let svc: ServiceProcess;
const users: { id: string; password: string }[] = [];
const boss = 'boss';
beforeAll(async () => {
  redis = await startRedis({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
  st = await stage('outage', {
    REDIS_URL: redis.url,
    CHECK_TIMEOUT_MS: '250',
    PASSWD_FILE: '',
    ACL_FILE: '',
  });
  svc = await st.start();
  for (let i = 0; i < S.users; i++) {
    const id = `u-${i}`;
    const password = `pw-${randomBytes(9).toString('base64url')}`;
    const res = await st.api(svc.port, 'POST', '/devices', { id, password });
    if (res.status !== 201) throw new Error(`seeding ${id}: ${res.status} ${res.body}`);
    users.push({ id, password });
  }
  const res = await st.api(svc.port, 'POST', '/devices', { id: boss, superuser: true });
  if (res.status !== 201) throw new Error(`seeding boss: ${res.status} ${res.body}`);
});
afterAll(async () => {
  await st.close();
  await redis.stop();
});

test('Redis killed under load: 5xx within the bound, never a wrong allow, recovery without a restart, no acknowledged write lost', async () => {
  const v = new Faults();
  const direct = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  direct.on('error', () => undefined);
  const port = svc.port;
  const api = (method: string, path: string, body?: object) => st.api(port, method, path, body);
  const figures: Record<string, number | string> = {};

  const agent = new http.Agent({ keepAlive: true, maxSockets: S.lanes });
  const samples: Sample[] = [];
  const acked: { id: string; password: string; endedAt: number }[] = [];
  const windows: { kill: number; restart: number; recovered: number }[] = [];
  let stop = false;
  let regs = 0;
  let regsDuringOutage = 0;
  let outage = false;

  const load = lanes(S.lanes, async () => {
    const probe = pick(probes(users, boss));
    const a = await send(port, probe.path, { body: probe.body, headers: probe.headers, agent });
    samples.push({ ...a, probe });
    if (a.status === 0 && !stop) await sleep(5); // no hot loop if the process were gone
    return !stop;
  });
  const registrar = lanes(1, async () => {
    const id = `r-${regs++}`;
    const password = `pw-${randomBytes(9).toString('base64url')}`;
    const res = await api('POST', '/devices', { id, password });
    if (res.status === 201) acked.push({ id, password, endedAt: res.endedAt });
    else if (outage) regsDuringOutage++;
    else if (res.status !== 503) v.add('registration failed', `${id}: ${res.status} ${res.body}`);
    const w = windows[windows.length - 1];
    if (res.status === 201 && w && res.startedAt > w.kill + 200 && res.endedAt < w.restart) {
      v.add('201 while Redis was dead', id);
    }
    await sleep(outage ? 50 : 5);
    return !stop;
  });

  let readyFailed = 0;
  let readyProbes = 0;
  const recoveries: number[] = [];
  for (let cycle = 0; cycle < S.cycles; cycle++) {
    await sleep(S.upMs);
    const kill = Date.now();
    outage = true;
    windows.push({ kill, restart: Infinity, recovered: Infinity });
    await redis.kill('SIGKILL');
    const outageEnd = Date.now() + S.outageMs;
    while (Date.now() < outageEnd) {
      readyProbes++;
      const r = await send(port, '/readyz', { method: 'GET' });
      if (r.status === 503) readyFailed++;
      else if (Date.now() - kill > 1000)
        v.add('/readyz not failing', `status ${r.status} ${Date.now() - kill} ms after kill`);
      if (!svc.isRunning()) v.add('process died', svc.logs().slice(-2000));
      await sleep(100);
    }
    const restart = Date.now();
    const win = windows[cycle] as (typeof windows)[number];
    win.restart = restart;
    await redis.restart();
    const u = users[0] as { id: string; password: string };
    const recoveryMs = await waitFor(
      async () => {
        const [c, r] = await Promise.all([
          send(port, '/mqtt/user', {
            body: JSON.stringify({ username: u.id, password: u.password, clientid: 'c' }),
            headers: JSON_HEADERS,
          }),
          send(port, '/readyz', { method: 'GET' }),
        ]);
        return c.status === 200 && r.status === 200;
      },
      RECOVERY_TIMEOUT_MS,
      25,
    );
    if (recoveryMs === null) {
      v.add('no recovery', `not recovered ${RECOVERY_TIMEOUT_MS} ms after Redis restarted`);
      break;
    }
    recoveries.push(Date.now() - restart);
    win.recovered = Date.now();
    outage = false;
  }
  await sleep(Math.min(S.upMs, 1000));
  stop = true;
  await Promise.all([load, registrar]);
  agent.destroy();

  // Nothing acknowledged is lost: every 201 (before, during or after an outage) is in Redis.
  await direct.connect();
  let lost = 0;
  for (const a of acked) {
    const hash = await direct.hget(createKeys(st.prefix).user(a.id), 'hash');
    if (!hash) {
      lost++;
      v.add('acknowledged registration lost', `${a.id} (201 at ${a.endedAt})`);
    }
  }
  const beforeLastKill = acked.filter((a) => a.endedAt < (windows.at(-1)?.kill ?? 0));
  for (const a of beforeLastKill.slice(-20)) {
    const r = await send(port, '/mqtt/user', {
      body: JSON.stringify({ username: a.id, password: a.password, clientid: 'c' }),
      headers: JSON_HEADERS,
    });
    if (r.status !== 200) v.add('registered device refused after recovery', `${a.id}: ${r.status}`);
  }

  // Classify every check answer by when it was asked.
  const inOutage = (s: Sample) =>
    windows.some((w) => s.startedAt >= w.kill + 500 && s.endedAt <= w.restart);
  const settled = (s: Sample) =>
    windows.every((w) => s.endedAt < w.kill || s.startedAt > w.recovered + 500);
  const outageMs: number[] = [];
  const status: Record<string, number> = {};
  let wrongAllow = 0;
  for (const s of samples) {
    status[s.status] = (status[s.status] ?? 0) + 1;
    if (s.status === 200 && !s.probe.allowed) {
      wrongAllow++;
      v.add('200 for something not allowed', `${s.probe.what} ${s.probe.body}`);
    }
    if (s.status === 0) v.add('no answer', `${s.probe.what}: ${s.error}`);
    if (s.ms > MAX_LATENCY_MS)
      v.add('slow answer', `${s.probe.what}: ${round(s.ms)} ms, status ${s.status}`);
    if (inOutage(s)) {
      outageMs.push(s.ms);
      if (s.status < 500) v.add('decided without Redis', `${s.probe.what}: ${s.status}`);
    } else if (settled(s) && s.status >= 500) {
      v.add('5xx while Redis was up', `${s.probe.what}: ${s.status} ${s.body}`);
    } else if (settled(s) && s.status === 403 && s.probe.allowed) {
      v.add('denied something allowed', `${s.probe.what}: ${s.body}`);
    }
  }
  if (readyFailed === 0) v.add('/readyz never failed', `${readyProbes} probes during outages`);
  if (!svc.isRunning()) v.add('process died', svc.logs().slice(-2000));
  Object.assign(figures, {
    cycles: windows.length,
    checks: samples.length,
    statuses: JSON.stringify(status),
    wrongAllows: wrongAllow,
    outageAnswers: outageMs.length,
    outageP50Ms: round(percentile(outageMs, 50)),
    outageP99Ms: round(percentile(outageMs, 99)),
    outageMaxMs: round(maxOf(outageMs)),
    allMaxMs: round(maxOf(samples.map((s) => s.ms))),
    recoveryMaxMs: maxOf(recoveries),
    registrationsAcked: acked.length,
    registrationsRefusedInOutage: regsDuringOutage,
    registrationsLost: lost,
    processAlive: String(svc.isRunning()),
  });
  if (outageMs.length === 0) v.add('no check asked during an outage', 'load too small');

  direct.disconnect();
  report('redis-outage', figures);
  expect(v.list()).toEqual([]);
  expect(figures.cycles).toBe(S.cycles);
  expect(figures.wrongAllows).toBe(0);
  expect(figures.outageAnswers).toBeGreaterThan(50);
  // go-auth's http_timeout is 5 s; the bound is CHECK_TIMEOUT_MS (250 ms) on a fetch.
  expect(figures.outageP99Ms).toBeLessThan(1000);
  expect(figures.recoveryMaxMs).toBeLessThan(RECOVERY_TIMEOUT_MS);
  expect(figures.registrationsAcked).toBeGreaterThan(0);
  expect(figures.registrationsLost).toBe(0);
  expect(figures.processAlive).toBe('true');
});
