// Scenario 1: Redis dies (SIGKILL) under a load of broker checks and registrations.
// Claims: every check answers within the bound, 5xx while Redis is gone, never 200 for
// anything not allowed; the process stays up and /readyz says not ready; once Redis is back
// (same port, AOF with fsync always) the service recovers by itself within seconds, and every
// registration acknowledged with 201 before the crash is still there.
import { createKeys } from '../src/store/keys';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { startRedis } from '../test/support/processes';
import { spawnService, type SpawnedService } from '../test/support/spawn-service';
import {
  bearer,
  JSON_HEADERS,
  lanes,
  maxOf,
  percentile,
  pick,
  round,
  send,
  sleep,
  waitFor,
  Violations,
  type Answer,
  type Report,
} from './http';

export interface OutageOptions {
  cycles: number;
  users: number;
  lanes: number;
  upMs: number;
  outageMs: number;
  /** A check answer slower than this is a violation (go-auth gives up at 5 s). */
  maxLatencyMs: number;
  recoveryTimeoutMs: number;
  log?: (line: string) => void;
}

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

export async function runOutage(opts: OutageOptions): Promise<Report> {
  const log = opts.log ?? (() => undefined);
  const v = new Violations();
  const token = `outage-admin-${randomBytes(12).toString('hex')}`;
  const redis = await startRedis({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
  let svc: SpawnedService | undefined;
  const direct = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  direct.on('error', () => undefined);
  const prefix = `outage:${randomBytes(4).toString('hex')}:`;
  const figures: Record<string, number | string> = {};
  try {
    svc = await spawnService({
      env: {
        REDIS_URL: redis.url,
        REDIS_KEY_PREFIX: prefix,
        ADMIN_TOKENS: `stress:${token}`,
        PASSWD_ITERATIONS: '101',
        CHECK_TIMEOUT_MS: '250',
        // Wrong passwords are part of the load: lockouts would turn right ones into denials.
        AUTH_FAIL_LIMIT: '1000000',
      },
    });
    const port = svc.port;
    const api = (method: string, path: string, body?: object) =>
      send(port, `/api/v1${path}`, {
        method,
        headers: bearer(token),
        body: body ? JSON.stringify(body) : '',
      });

    const users: { id: string; password: string }[] = [];
    for (let i = 0; i < opts.users; i++) {
      const id = `u-${i}`;
      const password = `pw-${randomBytes(9).toString('base64url')}`;
      const res = await api('POST', '/devices', { id, password });
      if (res.status !== 201) throw new Error(`seeding ${id}: ${res.status} ${res.body}`);
      users.push({ id, password });
    }
    const boss = 'boss';
    const bossRes = await api('POST', '/devices', { id: boss, superuser: true });
    if (bossRes.status !== 201) throw new Error(`seeding boss: ${bossRes.status} ${bossRes.body}`);

    const agent = new http.Agent({ keepAlive: true, maxSockets: opts.lanes });
    const samples: Sample[] = [];
    const acked: { id: string; password: string; endedAt: number }[] = [];
    const windows: { kill: number; restart: number; recovered: number }[] = [];
    let stop = false;
    let regs = 0;
    let regsDuringOutage = 0;
    let outage = false;

    const load = lanes(opts.lanes, async () => {
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
    for (let cycle = 0; cycle < opts.cycles; cycle++) {
      await sleep(opts.upMs);
      const kill = Date.now();
      outage = true;
      windows.push({ kill, restart: Infinity, recovered: Infinity });
      await redis.kill('SIGKILL');
      const outageEnd = Date.now() + opts.outageMs;
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
        opts.recoveryTimeoutMs,
        25,
      );
      if (recoveryMs === null) {
        v.add('no recovery', `not recovered ${opts.recoveryTimeoutMs} ms after Redis restarted`);
        break;
      }
      recoveries.push(Date.now() - restart);
      win.recovered = Date.now();
      outage = false;
      log(
        `outage cycle ${cycle + 1}/${opts.cycles}: recovered ${Date.now() - restart} ms after restart`,
      );
    }
    await sleep(Math.min(opts.upMs, 1000));
    stop = true;
    await Promise.all([load, registrar]);
    agent.destroy();

    // Nothing acknowledged is lost: every 201 (before, during or after an outage) is in Redis.
    await direct.connect();
    let lost = 0;
    for (const a of acked) {
      const hash = await direct.hget(createKeys(prefix).user(a.id), 'hash');
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
      if (r.status !== 200)
        v.add('registered device refused after recovery', `${a.id}: ${r.status}`);
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
      if (s.ms > opts.maxLatencyMs)
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
  } finally {
    direct.disconnect();
    await svc?.stop();
    await redis.stop();
  }
  return { scenario: 'redis-outage', figures, violations: v.list() };
}
