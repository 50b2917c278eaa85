// Several service processes (replicas on one Redis, exporting to the same files)
// take thousands of concurrent registrations with deliberately overlapping ids, then
// rotations racing deletions. Claims: every 201 is in Redis and in the export exactly once
// with the password it returned, every other attempt at that id is a 409; a deleted device
// stays deleted and is refused by every replica; a rotated one accepts only the last
// password it was given (of two racing rotation chains: the one that committed last).
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { verifyPassword } from '../support/verify';
import { createKeys } from '../../src/store/keys';
import type { RedisClient } from '../../src/store/redis-client';
import { readExport } from '../support/export-files';
import { Faults, report, round, sized, stage, type Stage } from '../support/hostile';
import { pool, shuffle, sleep, waitFor, type Answer } from '../support/http';
import type { ServiceProcess } from '../support/processes';
import { allIndexed } from '../support/store-view';
import { testRedisClient } from '../support/topology';

const S = sized(
  {
    services: 3,
    registrations: 2000,
    idPool: 1200,
    concurrency: 48,
    rotationTargets: 90,
    rotationsPerChain: 4,
    iterations: 101,
  },
  {
    services: 3,
    registrations: 20_000,
    idPool: 12_000,
    concurrency: 128,
    rotationTargets: 600,
    rotationsPerChain: 6,
    iterations: 1000,
  },
);
jest.setTimeout(sized(150_000, 900_000));

interface Attempt {
  id: string;
  password?: string;
  svc: number;
  answer: Answer;
}

interface Step {
  status: number;
  password?: string;
  startedAt: number;
  endedAt: number;
}

let st: Stage;
let redis: RedisClient;
const services: ServiceProcess[] = [];
const agents: http.Agent[] = [];
beforeAll(async () => {
  // Old passwords are tried on purpose: the stage's env has no lockouts.
  st = await stage('concurrency', { PASSWD_ITERATIONS: String(S.iterations) });
  for (let i = 0; i < S.services; i++) {
    services.push(await st.start());
    agents.push(new http.Agent({ keepAlive: true, maxSockets: S.concurrency }));
  }
  redis = testRedisClient(); // the standalone Redis or the cluster, as the services use
});
afterAll(async () => {
  for (const a of agents) a.destroy();
  redis.disconnect();
  await st.close();
});

test('3 replicas: every 201 exactly once in Redis and the export, every overlap a 409, rotations and deletions consistent', async () => {
  const v = new Faults();
  const { prefix, passwdPath, aclPath } = st;
  const keys = createKeys(prefix);
  const figures: Record<string, number | string> = {};
  const port = (svc: number) => (services[svc] as ServiceProcess).port;
  const api = (svc: number, method: string, path: string, body?: object) =>
    st.api(port(svc), method, path, body, { agent: agents[svc], timeoutMs: 30_000 });
  const login = (svc: number, username: string, password: string) =>
    st.login(port(svc), username, password, agents[svc]).then((a) => a.status);
  const anySvc = () => Math.floor(Math.random() * services.length);
  const hashOf = (id: string) => redis.hget(keys.user(id), 'hash');

  // --- Phase A: concurrent registrations with overlapping ids ------------------------------
  const started = Date.now();
  const plan = shuffle(
    Array.from({ length: S.registrations }, (_, i) => ({
      id: `c-${Math.floor(Math.random() * S.idPool)}`,
      password: Math.random() < 0.7 ? `pw-${i}-${randomBytes(6).toString('hex')}` : undefined,
      svc: i % services.length,
    })),
  );
  const attempts: Attempt[] = await pool(plan, S.concurrency, async (p) => ({
    ...p,
    answer: await api(p.svc, 'POST', '/devices', {
      id: p.id,
      ...(p.password ? { password: p.password } : {}),
      acl: [{ pattern: 'fleet/%u/#', access: 'read' }],
    }),
  }));
  const regMs = Date.now() - started;
  const winners = new Map<string, string>();
  const losers = new Map<string, string[]>();
  const perId = new Map<string, number>();
  const statuses: Record<string, number> = {};
  for (const a of attempts) {
    statuses[a.answer.status] = (statuses[a.answer.status] ?? 0) + 1;
    perId.set(a.id, (perId.get(a.id) ?? 0) + 1);
    if (a.answer.status === 201) {
      const body = JSON.parse(a.answer.body) as { id: string; password: string };
      if (body.id !== a.id) v.add('201 for another id', `${a.id} → ${body.id}`);
      if (a.password && body.password !== a.password) v.add('201 with another password', a.id);
      if (winners.has(a.id)) v.add('two 201 for one id', a.id);
      winners.set(a.id, body.password);
    } else if (a.answer.status === 409) {
      const code = (JSON.parse(a.answer.body) as { error?: { code?: string } }).error?.code;
      if (code !== 'conflict') v.add('409 without code conflict', a.answer.body);
      if (a.password) losers.set(a.id, [...(losers.get(a.id) ?? []), a.password]);
    } else {
      v.add('registration neither 201 nor 409', `${a.id}: ${a.answer.status} ${a.answer.body}`);
    }
  }
  for (const id of perId.keys())
    if (!winners.has(id)) v.add('id never created', `${id} (${perId.get(id)} attempts)`);
  const inRedis = await allIndexed(redis, keys);
  const created = [...winners.keys()].sort();
  if (inRedis.join(',') !== [...created].sort().join(','))
    v.add(
      'Redis index differs from the 201s',
      `${inRedis.length} in Redis, ${created.length} 201s`,
    );
  for (const id of created) {
    const hash = await hashOf(id);
    if (!hash || (await verifyPassword(winners.get(id) as string, hash)) !== 'match')
      v.add('stored password is not the one the 201 returned', id);
  }

  // Every replica: the winner logs in, a loser's password does not.
  const sample = shuffle([...created]).slice(0, 100);
  for (const id of sample) {
    for (let s = 0; s < services.length; s++) {
      const ok = await login(s, id, winners.get(id) as string);
      if (ok !== 200) v.add("winner's password refused", `${id} on service ${s}: ${ok}`);
      const lost = losers.get(id)?.[0];
      if (lost && (await login(s, id, lost)) !== 403)
        v.add("a 409's password accepted", `${id} on service ${s}`);
    }
  }

  // The export, written by whichever replica holds the lock, converges on exactly the 201s.
  const exportMatches = async (want: Map<string, string>) => {
    const e = await readExport(passwdPath, aclPath).catch(() => null);
    if (!e) return false;
    const names = [...want.keys()].sort();
    return (
      e.passwd.users.join(',') === names.join(',') && e.acl.users.join(',') === names.join(',')
    );
  };
  const checkExport = async (want: Map<string, string>, phase: string) => {
    const ms = await waitFor(() => exportMatches(want), 20_000, 100);
    const e = await readExport(passwdPath, aclPath);
    for (const p of [...e.passwd.problems, ...e.acl.problems])
      v.add('export broken', `${phase}: ${p}`);
    if (ms === null) {
      v.add('export never matched', `${phase}: ${e.passwd.users.length} users vs ${want.size}`);
      return null;
    }
    for (const [id, pw] of want) {
      const hash = e.passwd.hashes.get(id);
      if (!hash || (await verifyPassword(pw, hash)) !== 'match')
        v.add('exported hash is not the current password', `${phase}: ${id}`);
    }
    return ms;
  };
  const exportAMs = await checkExport(winners, 'after registrations');

  // --- Phase B: rotations racing deletions -------------------------------------------------
  const targets = shuffle([...created]).slice(0, S.rotationTargets);
  for (const id of targets)
    for (let s = 0; s < services.length; s++) await login(s, id, winners.get(id) as string); // warm caches
  const results = await pool(targets, Math.max(4, Math.floor(S.concurrency / 4)), async (id, i) => {
    const chains = i % 3 === 2 ? 2 : 1;
    const withDelete = i % 3 !== 0;
    const deletes: Step[] = [];
    const chainSteps: Step[][] = [];
    const chain = async () => {
      const steps: Step[] = [];
      chainSteps.push(steps);
      for (let r = 0; r < S.rotationsPerChain; r++) {
        const given = Math.random() < 0.5 ? `rot-${randomBytes(8).toString('hex')}` : undefined;
        const a = await api(
          anySvc(),
          'POST',
          `/devices/${id}/password`,
          given ? { password: given } : {},
        );
        const password =
          a.status === 200 ? (JSON.parse(a.body) as { password: string }).password : undefined;
        if (a.status === 200 && given && password !== given)
          v.add('rotation returned another password', id);
        steps.push({ status: a.status, password, startedAt: a.startedAt, endedAt: a.endedAt });
        if (a.status !== 200) break;
      }
    };
    const del = async () => {
      await sleep(Math.random() * S.rotationsPerChain * 15);
      const twice = Math.random() < 0.3 ? 2 : 1;
      await Promise.all(
        Array.from({ length: twice }, async () => {
          const a = await api(anySvc(), 'DELETE', `/devices/${id}`);
          deletes.push({ status: a.status, startedAt: a.startedAt, endedAt: a.endedAt });
        }),
      );
    };
    await Promise.all([...Array.from({ length: chains }, chain), ...(withDelete ? [del()] : [])]);
    return { id, chainSteps, deletes };
  });

  const deleted = new Set<string>();
  const final = new Map(winners);
  let rotations = 0;
  let rotated404 = 0;
  for (const { id, chainSteps, deletes } of results) {
    const ok = deletes.filter((d) => d.status === 204);
    for (const d of deletes)
      if (d.status !== 204 && d.status !== 404)
        v.add('delete neither 204 nor 404', `${id}: ${d.status}`);
    if (deletes.length > 0 && ok.length !== 1)
      v.add('not exactly one 204', `${id}: ${deletes.map((d) => d.status)}`);
    const gone = ok[0];
    if (gone) deleted.add(id);
    const lasts: string[] = [];
    for (const steps of chainSteps) {
      for (const s of steps) {
        rotations++;
        if (s.status === 404) rotated404++;
        if (s.status !== 200 && s.status !== 404)
          v.add('rotation neither 200 nor 404', `${id}: ${s.status}`);
        if (s.status === 404 && !gone) v.add('404 on rotation of a device never deleted', id);
        if (s.status === 200 && gone && s.startedAt > gone.endedAt)
          v.add('rotation succeeded after the delete was acknowledged', id);
      }
      const last = steps.filter((s) => s.status === 200).at(-1)?.password;
      if (last) lasts.push(last);
    }
    const candidates = [
      winners.get(id) as string,
      ...chainSteps.flat().flatMap((s) => (s.password ? [s.password] : [])),
    ];
    if (gone) {
      final.delete(id);
      if (
        (await redis.exists(keys.user(id))) !== 0 ||
        (await redis.zscore(keys.index(keys.bucketOf(id)), id)) !== null
      )
        v.add('deleted device came back', id);
      continue;
    }
    const hash = await hashOf(id);
    const matching: string[] = [];
    for (const c of candidates)
      if (hash && (await verifyPassword(c, hash)) === 'match') matching.push(c);
    const expected = lasts.length ? lasts : [winners.get(id) as string];
    if (matching.length !== 1 || !expected.includes(matching[0] as string)) {
      v.add(
        'stored password is not the last rotation',
        `${id}: ${matching.length} candidates match`,
      );
      continue;
    }
    final.set(id, matching[0] as string);
  }

  // Every replica, once the change has reached it, agrees: only the current password works.
  let converge = 0;
  let stale = 0;
  for (const { id, chainSteps } of results) {
    const current = final.get(id);
    const candidates = new Set([
      winners.get(id) as string,
      ...chainSteps.flat().flatMap((s) => (s.password ? [s.password] : [])),
    ]);
    for (let s = 0; s < services.length; s++) {
      for (const c of candidates) {
        const want = c === current ? 200 : 403;
        if ((await login(s, id, c)) === want) continue;
        stale++;
        const ms = await waitFor(async () => (await login(s, id, c)) === want, 3000, 50);
        if (ms === null) {
          v.add(
            want === 200 ? 'current password refused' : 'old password still accepted',
            `${id} on service ${s}${deleted.has(id) ? ' (deleted)' : ''}`,
          );
        } else converge = Math.max(converge, ms);
      }
    }
  }
  const exportBMs = await checkExport(final, 'after rotations and deletions');
  for (const s of services) if (!s.isRunning()) v.add('service died', s.logs().slice(-2000));

  Object.assign(figures, {
    services: services.length,
    registrations: attempts.length,
    statuses: JSON.stringify(statuses),
    distinctIds: perId.size,
    created: created.length,
    conflicts: statuses['409'] ?? 0,
    registrationsPerS: round((attempts.length / regMs) * 1000),
    exportConvergedMs: exportAMs ?? 'never',
    rotationTargets: targets.length,
    rotations,
    rotationsRefusedAfterDelete: rotated404,
    deleted: deleted.size,
    staleAnswersAfterRaces: stale,
    staleForMs: converge,
    exportAfterRacesMs: exportBMs ?? 'never',
    devicesLeft: final.size,
  });
  report('concurrency', figures);
  expect(v.list()).toEqual([]);
  expect(figures.registrations).toBe(S.registrations);
  expect(Number(figures.conflicts)).toBeGreaterThan(S.registrations * 0.15); // overlaps happened
  expect(Number(figures.created) + Number(figures.conflicts)).toBe(S.registrations);
  expect(Number(figures.deleted)).toBeGreaterThan(0);
  expect(Number(figures.rotationsRefusedAfterDelete)).toBeGreaterThan(0);
});
