// The service (a real process exporting PASSWD_FILE and ACL_FILE) is SIGKILLed
// again and again while devices are registered and exports run. Claims: after every kill
// both files are complete (every line parses, every hash verifies with the device's
// password, nothing torn, each file is one snapshot: a prefix of the registration order at
// least as new as the export marker says); the next start re-exports, and the files then
// match Redis exactly.
//
// Timing: the export lock is a directory with a 10 s stale time, and a killed holder's lock
// blocks the next export until it is stale. Waiting 10 s per kill would make thousands of
// kills impossible, so between kills the scenario ages a dead holder's lock (sets its mtime
// 30 s back: what waiting would do, nothing else). The last kill is waited out for real and
// the delay is reported (finalReexportMs).
import { randomBytes } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile, stat, utimes } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { readConfig } from '../../src/config';
import { createContext, type AppContext } from '../../src/context';
import { verifyPassword } from '../support/verify';
import { createLogger } from '../../src/logger';
import { readExport, tempFiles } from '../support/export-files';
import { allIndexed } from '../support/store-view';
import { testRedisClient } from '../support/topology';
import { createKeys } from '../../src/store/keys';
import { Faults, report, round, sized, stage } from '../support/hostile';
import { pool, sleep, waitFor } from '../support/http';
import type { ServiceProcess } from '../support/processes';

const S = sized(
  {
    lanes: 1,
    killsPerLane: 15,
    seedUsers: 3000,
    budgetMs: 60_000,
    writerPauseMs: 2,
    verifyAll: true,
  },
  // Full size: independent service+writer pairs killed in parallel, newest 50 hashes verified.
  {
    lanes: 2,
    killsPerLane: 500,
    seedUsers: 1000,
    budgetMs: 270_000,
    writerPauseMs: 20,
    verifyAll: false,
  },
);
jest.setTimeout(S.budgetMs + 120_000);

const pad = (n: number) => String(n).padStart(6, '0');
const RULE = (name: string) => `read fleet/${name}/#`;

/** One service+writer pair killed again and again; what it saw, and the faults. */
async function lane(v: Faults): Promise<Record<string, number | string>> {
  const st = await stage('crash-export', { EXPORT_DEBOUNCE_MS: '10', EXPORT_MAX_DELAY_MS: '100' });
  const { passwdPath, aclPath, env } = st;
  const dir = dirname(passwdPath);
  const lockPath = `${passwdPath}.lock`;
  const markerPath = join(dir, '.mqtt-authd-export.json');
  const salt = randomBytes(6).toString('hex');
  const passwordOf = (name: string) => `pw-${name}-${salt}`;
  const config = readConfig({ ...env, LOG_LEVEL: 'silent' });
  const ctx: AppContext = createContext(config, {
    adminTokens: [],
    logger: createLogger('silent'),
  });
  const raw = testRedisClient(); // what is stored, read behind the service's back
  const figures: Record<string, number | string> = {};
  let svc: ServiceProcess | undefined;
  let watcher: FSWatcher | undefined;
  let writing = true;
  let writer: Promise<void> = Promise.resolve();
  try {
    await ctx.health.ready(5000);
    // Seeds (acknowledged before any kill), then a writer registering in name order: names
    // only grow, so a paginated export of any moment is a prefix of `expected`.
    const expected: string[] = Array.from({ length: S.seedUsers }, (_, i) => `d-0-${pad(i)}`);
    await pool(expected, 32, (id) =>
      ctx.devices.create({
        id,
        password: passwordOf(id),
        acl: [{ pattern: 'fleet/%u/#', access: 'read' }],
      }),
    );
    const r0 = await ctx.store.revision();
    let attempted = expected.length;
    writer = (async () => {
      for (let i = 0; writing; i++) {
        const id = `d-1-${pad(i)}`;
        expected.push(id);
        attempted = expected.length;
        await ctx.devices.create({
          id,
          password: passwordOf(id),
          acl: [{ pattern: 'fleet/%u/#', access: 'read' }],
        });
        await sleep(S.writerPauseMs);
      }
    })();

    // Every temp file the exporter opens, by the pid in its name.
    const temps: { pid: number; at: number }[] = [];
    watcher = watch(dir, (_event, name) => {
      const m = name ? /^\.(?:passwd|acl)\.(\d+)\.[0-9a-f]{8}\.tmp$/.exec(String(name)) : null;
      if (m) temps.push({ pid: Number(m[1]), at: Date.now() });
    });
    const nextTemp = async (pid: number, after: number, timeoutMs: number) => {
      const found = await waitFor(
        async () => temps.some((t) => t.pid === pid && t.at >= after),
        timeoutMs,
        1,
      );
      return found !== null;
    };

    // A first clean export gives the time one export takes.
    svc = await st.start();
    const firstMs = await waitFor(
      async () => (await readExport(passwdPath, aclPath).catch(() => null)) !== null,
      15000,
    );
    if (firstMs === null) throw new Error(`no first export:\n${svc.logs()}`);
    await svc.kill('SIGTERM');
    svc = await st.start();
    await nextTemp(svc.pid, 0, 5000);
    const tempAt = temps.find((t) => t.pid === svc?.pid)?.at ?? Date.now();
    await waitFor(async () => (await stat(lockPath).catch(() => null)) === null, 5000, 2);
    const exportMs = Math.max(20, Math.min(1000, Date.now() - tempAt));
    await svc.kill('SIGTERM');

    const verified = new Map<string, string>();
    const checkSnapshot = async (when: string) => {
      const { passwd, acl } = await readExport(passwdPath, aclPath);
      for (const p of passwd.problems) v.add('passwd file broken', `${when}: ${p}`);
      for (const p of acl.problems) v.add('acl file broken', `${when}: ${p}`);
      const markerText = await readFile(markerPath, 'utf8').catch(() => '');
      let atLeast = S.seedUsers;
      try {
        const rev = (JSON.parse(markerText) as { revision?: number }).revision;
        if (typeof rev === 'number') atLeast = S.seedUsers + Math.max(0, rev - r0);
      } catch {
        // A marker torn by a kill only makes the next export run: nothing to check here.
      }
      for (const [what, users] of [
        ['passwd', passwd.users],
        ['acl', acl.users],
      ] as const) {
        const bad = users.findIndex((u, i) => u !== expected[i]);
        if (bad !== -1) {
          v.add(
            `${what} not one snapshot`,
            `${when}: line for ${users[bad]} where ${expected[bad]} belongs`,
          );
        }
        if (users.length < atLeast) {
          v.add(
            `${what} older than its marker`,
            `${when}: ${users.length} users, marker says ≥ ${atLeast}`,
          );
        }
        if (users.length > attempted) {
          v.add(`${what} has users never registered`, `${when}: ${users.length} > ${attempted}`);
        }
      }
      for (const u of acl.users) {
        const rules = acl.rules.get(u) ?? [];
        if (rules.length !== 1 || rules[0] !== RULE(u))
          v.add('acl section wrong', `${when}: ${u}: ${JSON.stringify(rules)}`);
      }
      if (acl.patterns.join('|') !== 'readwrite devices/%u/#')
        v.add('acl common rules wrong', `${when}: ${JSON.stringify(acl.patterns)}`);
      const toVerify = S.verifyAll ? passwd.users : passwd.users.slice(-50);
      for (const u of toVerify) {
        const hash = passwd.hashes.get(u) as string;
        if (verified.get(u) === hash) continue;
        if ((await verifyPassword(passwordOf(u), hash)) !== 'match')
          v.add('passwd hash does not verify', `${when}: ${u}`);
        else verified.set(u, hash);
      }
      return { passwd: passwd.users.length, acl: acl.users.length };
    };
    await checkSnapshot('after the first export');

    let kills = 0;
    let midExport = 0;
    let agedLocks = 0;
    let tempsLeft = 0;
    let splitSnapshots = 0;
    let spawnTotal = 0;
    let checkTotal = 0;
    const started = Date.now();
    while (kills < S.killsPerLane && Date.now() - started < S.budgetMs) {
      // A dead holder's lock: age it past the stale time instead of waiting it out.
      if (await stat(lockPath).catch(() => null)) {
        const past = new Date(Date.now() - 30_000);
        await utimes(lockPath, past, past).catch(() => undefined);
        agedLocks++;
      }
      const spawnedAt = Date.now();
      svc = await st.start();
      spawnTotal += Date.now() - spawnedAt;
      const mode = kills % 3;
      if (mode === 0) {
        // during the startup export (forced on every start)
        await sleep(Math.random() * exportMs * 1.5);
      } else if (mode === 1) {
        // during an export triggered by the writer's registrations
        if (await nextTemp(svc.pid, Date.now(), 3000)) await sleep(Math.random() * exportMs);
      } else {
        await sleep(Math.random() * 400);
      }
      if (!svc.isRunning()) v.add('service died by itself', svc.logs().slice(-2000));
      await svc.kill('SIGKILL');
      kills++;
      const lockLeft = (await stat(lockPath).catch(() => null)) !== null;
      if (lockLeft) midExport++;
      const left = (await tempFiles(passwdPath)).length + (await tempFiles(aclPath)).length;
      if (left > 0) tempsLeft++;
      const checkedAt = Date.now();
      const n = await checkSnapshot(`kill ${kills} (${Date.now() - spawnedAt} ms after start)`);
      checkTotal += Date.now() - checkedAt;
      if (n.passwd !== n.acl) splitSnapshots++;
    }

    // The last kill is waited out for real: a start after a crash mid-export re-exports once
    // the dead holder's lock is stale.
    writing = false;
    await writer;
    let lockLeft = false;
    for (let attempt = 0; attempt < 20 && !lockLeft; attempt++) {
      if (await stat(lockPath).catch(() => null)) {
        const past = new Date(Date.now() - 30_000);
        await utimes(lockPath, past, past);
      }
      svc = await st.start();
      await nextTemp(svc.pid, 0, 3000);
      await svc.kill('SIGKILL');
      kills++;
      lockLeft = (await stat(lockPath).catch(() => null)) !== null;
      await checkSnapshot('final kill');
    }
    if (!lockLeft) v.add('could not kill mid-export', 'no lock left after 20 tries');
    const all = await allIndexed(raw, createKeys(config.REDIS_KEY_PREFIX));
    const revision = await ctx.store.revision();
    const restartAt = Date.now();
    svc = await st.start();
    const finalMs = await waitFor(
      async () => {
        const e = await readExport(passwdPath, aclPath).catch(() => null);
        return (
          e !== null && e.passwd.users.length === all.length && e.acl.users.length === all.length
        );
      },
      30_000,
      50,
    );
    const finalReexportMs = finalMs === null ? 'never' : Date.now() - restartAt;
    if (finalMs === null) v.add('no re-export after restart', `${all.length} users in Redis`);
    else await sleep(200); // the marker follows the files
    const final = await readExport(passwdPath, aclPath);
    if (final.passwd.users.join('\n') !== all.join('\n'))
      v.add(
        'files differ from Redis after restart',
        `${final.passwd.users.length} vs ${all.length}`,
      );
    if (final.acl.users.join('\n') !== all.join('\n'))
      v.add('acl differs from Redis after restart', `${final.acl.users.length} vs ${all.length}`);
    await checkSnapshot('after restart');
    const marker = JSON.parse(await readFile(markerPath, 'utf8')) as { revision: number };
    if (marker.revision !== revision)
      v.add('marker not current', `${marker.revision} vs ${revision}`);
    const leftovers = [...(await tempFiles(passwdPath)), ...(await tempFiles(aclPath))];
    if (leftovers.length) v.add('temp files left after a clean export', leftovers.join(', '));
    const exit = await svc.stop();
    if (exit.code !== 0) v.add('graceful stop failed', `${JSON.stringify(exit)}\n${svc.logs()}`);
    if (await stat(lockPath).catch(() => null)) v.add('lock left after a graceful stop', lockPath);

    Object.assign(figures, {
      kills,
      killsLeavingLock: midExport,
      killsLeavingTempFiles: tempsLeft,
      agedLocks,
      splitSnapshots,
      users: all.length,
      registeredDuringKills: all.length - S.seedUsers,
      exportMs,
      finalReexportMs,
      elapsedS: round((Date.now() - started) / 1000),
      meanSpawnMs: Math.round(spawnTotal / Math.max(1, kills)),
      meanCheckMs: Math.round(checkTotal / Math.max(1, kills)),
    });
  } finally {
    writing = false;
    await writer.catch(() => undefined);
    watcher?.close();
    await svc?.kill('SIGKILL');
    await ctx.close();
    raw.disconnect();
    await st.close();
  }
  return figures;
}

test('SIGKILL during exports never leaves a torn or mixed passwd/acl file, and the next start re-exports', async () => {
  const v = new Faults();
  const lanes = await Promise.all(Array.from({ length: S.lanes }, () => lane(v)));
  report('crash-export', { lanes });
  expect(v.list()).toEqual([]);
  const sum = (k: string) => lanes.reduce((a, f) => a + Number(f[k]), 0);
  expect(sum('kills')).toBeGreaterThanOrEqual(Math.min(S.killsPerLane, 15) * S.lanes);
  // Some kills must have landed inside an export, or the test proved nothing.
  expect(sum('killsLeavingLock')).toBeGreaterThanOrEqual(3);
  expect(sum('registeredDuringKills')).toBeGreaterThan(0);
  // A dead holder's lock is stale after 10 s; the next start's export follows it.
  for (const f of lanes) expect(f.finalReexportMs).toBeLessThan(20_000);
});
