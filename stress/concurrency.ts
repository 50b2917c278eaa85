// Scenario 3: several service processes (replicas on one Redis, exporting to the same files)
// take thousands of concurrent registrations with deliberately overlapping ids, then
// rotations racing deletions. Claims: every 201 is in Redis and in the export exactly once
// with the password it returned, every other attempt at that id is a 409; a deleted device
// stays deleted and is refused by every replica; a rotated one accepts only the last
// password it was given (of two racing rotation chains: the one that committed last).
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyPassword } from '../src/domain/passwd-hash';
import { createKeys } from '../src/store/keys';
import { testPrefix } from '../test/support/processes';
import { cleanTestPrefix, testRedisClient, testRedisEnv } from '../test/support/topology';
import { allIndexed } from './store-view';
import { spawnService, type SpawnedService } from '../test/support/spawn-service';
import { readExport } from './export-files';
import {
  bearer,
  JSON_HEADERS,
  pool,
  round,
  send,
  shuffle,
  sleep,
  waitFor,
  Violations,
  type Answer,
  type Report,
} from './http';

export interface ConcurrencyOptions {
  services: number;
  registrations: number;
  /** Distinct ids the registrations draw from (fewer than registrations: overlaps). */
  idPool: number;
  concurrency: number;
  rotationTargets: number;
  rotationsPerChain: number;
  iterations?: number;
  redisUrl?: string;
  log?: (line: string) => void;
}

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

export async function runConcurrency(opts: ConcurrencyOptions): Promise<Report> {
  const log = opts.log ?? (() => undefined);
  const v = new Violations();
  const prefix = testPrefix('concurrency');
  const keys = createKeys(prefix);
  const dir = await mkdtemp(join(tmpdir(), 'authd-conc-'));
  const token = `conc-admin-${randomBytes(12).toString('hex')}`;
  const passwdPath = join(dir, 'passwd');
  const aclPath = join(dir, 'acl');
  const redis = testRedisClient();
  const services: SpawnedService[] = [];
  const agents: http.Agent[] = [];
  const figures: Record<string, number | string> = {};
  const env = {
    ...testRedisEnv(),
    REDIS_KEY_PREFIX: prefix,
    ADMIN_TOKENS: `stress:${token}`,
    PASSWD_FILE: passwdPath,
    ACL_FILE: aclPath,
    PASSWD_ITERATIONS: String(opts.iterations ?? 101),
    EXPORT_DEBOUNCE_MS: '50',
    EXPORT_MAX_DELAY_MS: '300',
    // Old passwords are tried on purpose: lockouts would refuse the right one as well.
    AUTH_FAIL_LIMIT: '1000000',
  };
  try {
    for (let i = 0; i < opts.services; i++) {
      services.push(await spawnService({ env }));
      agents.push(new http.Agent({ keepAlive: true, maxSockets: opts.concurrency }));
    }
    const api = (svc: number, method: string, path: string, body?: object) =>
      send((services[svc] as SpawnedService).port, `/api/v1${path}`, {
        method,
        headers: bearer(token),
        body: body ? JSON.stringify(body) : '',
        agent: agents[svc],
        timeoutMs: 30_000,
      });
    const login = (svc: number, username: string, password: string) =>
      send((services[svc] as SpawnedService).port, '/mqtt/user', {
        body: JSON.stringify({ username, password, clientid: 'c' }),
        headers: JSON_HEADERS,
        agent: agents[svc],
      }).then((a) => a.status);
    const anySvc = () => Math.floor(Math.random() * services.length);
    const hashOf = (id: string) => redis.hget(keys.user(id), 'hash');

    // --- Phase A: concurrent registrations with overlapping ids ------------------------------
    const started = Date.now();
    const plan = shuffle(
      Array.from({ length: opts.registrations }, (_, i) => ({
        id: `c-${Math.floor(Math.random() * opts.idPool)}`,
        password: Math.random() < 0.7 ? `pw-${i}-${randomBytes(6).toString('hex')}` : undefined,
        svc: i % services.length,
      })),
    );
    const attempts: Attempt[] = await pool(plan, opts.concurrency, async (p) => ({
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
    log(`concurrency: ${attempts.length} registrations in ${regMs} ms`);

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
    const targets = shuffle([...created]).slice(0, opts.rotationTargets);
    for (const id of targets)
      for (let s = 0; s < services.length; s++) await login(s, id, winners.get(id) as string); // warm caches
    const results = await pool(
      targets,
      Math.max(4, Math.floor(opts.concurrency / 4)),
      async (id, i) => {
        const chains = i % 3 === 2 ? 2 : 1;
        const withDelete = i % 3 !== 0;
        const deletes: Step[] = [];
        const chainSteps: Step[][] = [];
        const chain = async () => {
          const steps: Step[] = [];
          chainSteps.push(steps);
          for (let r = 0; r < opts.rotationsPerChain; r++) {
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
          await sleep(Math.random() * opts.rotationsPerChain * 15);
          const twice = Math.random() < 0.3 ? 2 : 1;
          await Promise.all(
            Array.from({ length: twice }, async () => {
              const a = await api(anySvc(), 'DELETE', `/devices/${id}`);
              deletes.push({ status: a.status, startedAt: a.startedAt, endedAt: a.endedAt });
            }),
          );
        };
        await Promise.all([
          ...Array.from({ length: chains }, chain),
          ...(withDelete ? [del()] : []),
        ]);
        return { id, chainSteps, deletes };
      },
    );

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
  } finally {
    for (const a of agents) a.destroy();
    await Promise.all(services.map((s) => s.stop()));
    redis.disconnect();
    await cleanTestPrefix(prefix);
    await rm(dir, { recursive: true, force: true });
  }
  return { scenario: 'concurrency', figures, violations: v.list() };
}
