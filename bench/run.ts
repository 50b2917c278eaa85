// `npm run bench`: mqtt-authd against a bare node:http ceiling (same process tree, same
// requests), at a small and a large device count: checks, cold logins against the PBKDF2
// bound, latency at half of peak, bulk load, Redis memory per device, export time and peak
// RSS. Writes bench/results.md. Children (processes.ts) die with it; the Redis prefixes of
// the run are removed on every way out.
//
//   BENCH_QUICK=1          a tiny run that only shows the bench works (200 and 2,000 devices;
//                          its table goes to the temp dir, or to BENCH_RESULTS)
//   BENCH_SMALL, BENCH_LARGE   device counts (1,000 and 1,000,000)
//   BENCH_SECONDS, BENCH_CONNECTIONS, BENCH_WARM_SET   per run (10 s, 32, 1,000)
//   BENCH_RETRIES, BENCH_RETRY_BUDGET_S   repeats of a disturbed run (1, within 60 s)
//   BENCH_CPU_PROF=dir     `node --cpu-prof` profiles of mqtt-authd
//   BENCH_CLUSTER=0, BENCH_FAILOVER=0   skip the 3+3 Cluster checks, the failover figures
//   REDIS_URL              the Redis to measure against (redis://127.0.0.1:6379)
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import { readConfig } from '../src/config';
import { HashWork } from '../src/domain/hash-work';
import { hashPassword } from '../src/domain/passwd-hash';
import { createKeys } from '../src/store/keys';
import { cleanPrefix, ROOT, startNode, startService } from '../test/support/processes';
import { sleep } from '../test/support/http';
import { bulkLoad } from './bulk-load';
import { measureChecks, peakRun, type Target } from './checks';
import { measureCluster, renderCluster } from './cluster';
import { measureFailover, renderFailover } from './failover';
import { findPluginSection } from './plugin-section';
import { peakLoad, type MeasureContext, type RunResult } from './load';
import { renderReport, type Report, type SizeRow } from './report';
import * as w from './workloads';

const env = process.env;
const quick = env.BENCH_QUICK === '1';
function int(name: string, fallback: number, min = 1): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < min) throw new Error(`${name}=${raw}: an integer ≥ ${min}`);
  return n;
}
const small = int('BENCH_SMALL', quick ? 200 : 1000);
const large = int('BENCH_LARGE', quick ? 2000 : 1_000_000);
const settings = {
  seconds: int('BENCH_SECONDS', quick ? 2 : 10),
  connections: int('BENCH_CONNECTIONS', quick ? 8 : 32),
  sizes: large > small ? [small, large] : [small],
  warmSet: int('BENCH_WARM_SET', quick ? 100 : 1000),
  redisUrl: env.REDIS_URL || 'redis://127.0.0.1:6379',
  retries: int('BENCH_RETRIES', 1, 0),
};
const retryBudget = { seconds: int('BENCH_RETRY_BUDGET_S', 60, 0) };
// A quick run's figures mean nothing: they do not replace the evidence in bench/results.md.
const RESULTS =
  env.BENCH_RESULTS ??
  (quick
    ? path.join(os.tmpdir(), 'mqtt-authd-bench-quick.md')
    : path.join(ROOT, 'bench', 'results.md'));
const warnings: string[] = [];
const prefixes = new Set<string>();

/** What cold logins can reach at best: cores ÷ the CPU time of one PBKDF2 verification. */
async function hashBound(iterations: number) {
  const stored = await hashPassword('bench-password', { iterations, saltBytes: 12 });
  // What a login runs, at the configured cost: no padding, no slow lane.
  const work = new HashWork({ maxIterations: iterations, padTo: iterations });
  const verifyPassword = (pw: string, hash: string) => work.verify(pw, hash);
  for (let i = 0; i < 20; i++) await verifyPassword('bench-password', stored);
  let n = 0;
  const started = performance.now();
  const cpu = process.cpuUsage();
  while (performance.now() - started < 1000 && ++n) await verifyPassword('bench-password', stored);
  const used = process.cpuUsage(cpu);
  const hashMs = (used.user + used.system) / 1000 / n;
  const cores = os.cpus().length;
  return { iterations, hashMs, cores, perSecond: (cores * 1000) / hashMs };
}

/** `mqtt-authd export` in a child (bench/export-runner.ts): wall time and peak RSS. */
async function measureExport(prefix: string) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mqtt-authd-bench-export-'));
  const files = { PASSWD_FILE: path.join(dir, 'passwd'), ACL_FILE: path.join(dir, 'acl') };
  try {
    const child = startNode([path.join(__dirname, 'export-runner.js')], {
      ...files,
      REDIS_URL: settings.redisUrl,
      REDIS_KEY_PREFIX: prefix,
      MOSQUITTO_RELOAD: 'none',
      LOG_LEVEL: 'warn',
    });
    const exit = await child.exited;
    const line = child
      .logs()
      .split('\n')
      .find((l) => l.startsWith('{"ms"'));
    if (exit.code !== 0 || !line) throw new Error(`export failed:\n${child.logs()}`);
    const [p, a] = await Promise.all([stat(files.PASSWD_FILE), stat(files.ACL_FILE)]);
    const f = JSON.parse(line) as { ms: number; users: number; maxRssKiB: number };
    return { ...f, bytes: p.size + a.size };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const config = readConfig({ ...env, REDIS_URL: settings.redisUrl });
  const redis = new Redis(settings.redisUrl, { maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined); // reported by the failing command
  const info = async (section: string, field: string) =>
    new RegExp(`^${field}:(\\S+)`, 'm').exec(await redis.info(section))?.[1] ?? '?';
  try {
    const cpus = os.cpus();
    const machine = {
      cpu: (cpus[0]?.model ?? 'unknown CPU').replace(/\s+/g, ' ').trim(),
      cores: cpus.length,
      memGiB: os.totalmem() / 2 ** 30,
      os: `${os.type()} ${os.release()} ${os.arch()}`,
      node: process.version,
      redis: await info('server', 'redis_version'),
    };
    console.log(`${machine.cpu} × ${machine.cores}, Node ${machine.node}, Redis ${machine.redis}`);
    console.log(
      `${settings.connections} connections, ${settings.seconds} s/run, devices: ${settings.sizes.join(', ')}`,
    );
    const iterations = config.PASSWD_ITERATIONS;
    const hashes = await Promise.all(
      Array.from({ length: w.PASSWORD_COUNT }, (_, k) =>
        hashPassword(w.passwordOf(k), { iterations, saltBytes: config.PASSWD_SALT_BYTES }),
      ),
    );
    const hash = await hashBound(iterations);
    console.log(
      `PBKDF2-SHA512 × ${iterations}: ${hash.hashMs.toFixed(3)} ms → ${Math.round(hash.perSecond)}/s`,
    );
    // redis-server's CPU is part of the measurement when it runs on this host.
    const local = ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(settings.redisUrl).hostname);
    const helperPids = [process.pid, local ? Number(await info('server', 'process_id')) : 0];
    const context = (serverPid: number): MeasureContext => ({
      serverPid,
      helperPids,
      retries: settings.retries,
      retryBudget,
      warnings,
    });

    // The ceiling: peak figures once, then kept up to repeat each paced run at the same rate.
    console.log('\nceiling (bare node:http)');
    const ceilingProc = startNode([path.join(__dirname, 'ceiling-server.js')], { PORT: '0' });
    const port = await waitForLine(ceilingProc.logs, /listening on (\d+)/);
    const ceiling: Target = { url: `http://127.0.0.1:${port}`, m: context(ceilingProc.pid) };
    const base: w.Shape = {
      devices: small,
      connections: settings.connections,
      warmSet: settings.warmSet,
    };
    await peakLoad(ceiling.url, w.buildWorkload('acl-json', base, 9), { ...settings, seconds: 2 }); // warm-up
    const ceilingPeak = {} as Record<string, RunResult>;
    for (const id of ['acl-json', 'acl-form', 'user-warm', 'superuser'] as const)
      ceilingPeak[id] = await peakRun(settings, ceiling, `ceiling ${id}`, [200], (a) =>
        w.buildWorkload(id, base, a * 100),
      );

    const report: Report = {
      date: new Date().toISOString().slice(0, 10),
      machine,
      ...settings,
      hash,
      checks: [],
      paced: [],
      sizes: [],
      warnings,
    };
    for (const n of settings.sizes) {
      const prefix = `bench:${Math.random().toString(16).slice(2, 14)}:`;
      const keys = createKeys(prefix);
      prefixes.add(prefix);
      const before = Number(await info('memory', 'used_memory'));
      console.log(`\n${n.toLocaleString('en-US')} devices under ${prefix}`);
      const loadMs = await bulkLoad(
        settings.redisUrl,
        keys,
        n,
        (i) => ({
          name: w.deviceName(i),
          hash: hashes[i % w.PASSWORD_COUNT] as string,
          superuser: w.isSuperuser(i),
          acl: w.ownRules(w.deviceName(i)),
        }),
        w.COMMON_RULES,
      );
      const bytes = Number(await info('memory', 'used_memory')) - before;
      const encoding = String(await redis.object('ENCODING', keys.user(w.deviceName(0))));
      console.log(
        `  loaded in ${(loadMs / 1000).toFixed(1)} s; ${Math.round(bytes / n)} B/device, user hash ${encoding}`,
      );
      const authd = await startService({
        env: { REDIS_URL: settings.redisUrl, REDIS_KEY_PREFIX: prefix, HOST: '127.0.0.1', PASSWD_FILE: '', ACL_FILE: '',
          // The deny mix and repeats must not lock names out: this measures checks, not lockouts.
          AUTH_FAIL_LIMIT: '1000000' },
        nodeArgs: env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${env.BENCH_CPU_PROF}`] : [],
        readyPath: '/readyz',
      }); // prettier-ignore
      try {
        const f = await measureChecks(
          settings,
          { url: authd.url, m: context(authd.pid) },
          n,
          keys,
          redis,
          ceiling,
          ceilingPeak,
          hash.perSecond,
        );
        report.checks.push(...f.checks);
        report.paced.push(...f.paced);
      } catch (err) {
        console.error(`mqtt-authd output:\n${authd.logs().slice(-5000)}`);
        throw err;
      } finally {
        await authd.stop(15_000);
      }
      const exported = await measureExport(prefix);
      console.log(
        `  export: ${exported.users} users in ${(exported.ms / 1000).toFixed(2)} s, peak RSS ${(exported.maxRssKiB / 1024).toFixed(0)} MiB`,
      );
      const size: SizeRow = { devices: n, loadMs, bytesPerDevice: bytes / n, encoding, exported };
      report.sizes.push(size);
      await cleanPrefix(settings.redisUrl, prefix);
      prefixes.delete(prefix);
    }
    await ceilingProc.stop();
    // Rows of one workload next to each other: the cost growth with the device count shows.
    const order = ['acl-json', 'acl-form', 'user-warm', 'user-cold', 'superuser'];
    report.checks.sort((a, b) => order.indexOf(a.workload) - order.indexOf(b.workload));
    report.paced.sort((a, b) => order.indexOf(a.workload) - order.indexOf(b.workload));
    // The cluster beside standalone (at the small size only); BENCH_CLUSTER=0 skips it.
    let clusterMd = '';
    if (env.BENCH_CLUSTER !== '0') {
      console.log(`\ncluster (3 primaries + 3 replicas), ${small} devices`);
      clusterMd = renderCluster(
        await measureCluster(settings, small, hashes, context, report.checks),
      );
    }
    // Failover figures from the Sentinel and Cluster failover tests; BENCH_FAILOVER=0 skips it.
    let failoverMd = '';
    if (env.BENCH_FAILOVER !== '0') {
      console.log('\nfailover (Sentinel and Cluster tests under load)');
      failoverMd = renderFailover(await measureFailover());
    }
    // bench/plugin.ts's section (npm run bench:plugin) stays as it was
    const pluginMd = findPluginSection(await readFile(RESULTS, 'utf8').catch(() => ''));
    const md =
      [renderReport(report), clusterMd, failoverMd, pluginMd].filter(Boolean).join('\n\n') + '\n';
    await writeFile(RESULTS, md);
    console.log(`\n${md}\n(written to ${path.relative(process.cwd(), RESULTS)})`);
  } finally {
    for (const p of prefixes) await cleanPrefix(settings.redisUrl, p).catch(() => undefined);
    redis.disconnect();
  }
}

async function waitForLine(logs: () => string, re: RegExp): Promise<string> {
  for (let i = 0; i < 200; i++, await sleep(25)) {
    const m = re.exec(logs());
    if (m) return m[1] as string;
  }
  throw new Error(`never logged ${re}:\n${logs()}`);
}

const stop = (signal: NodeJS.Signals) => {
  console.error(`\n${signal}: removing bench keys`);
  void Promise.all([...prefixes].map((p) => cleanPrefix(settings.redisUrl, p))).finally(() =>
    process.exit(130),
  );
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
main().catch((err: unknown) => {
  console.error(`bench failed: ${(err as Error).stack ?? String(err)}`);
  process.exitCode = 1;
});
