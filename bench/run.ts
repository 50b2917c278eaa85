// `npm run bench`: mqtt-authd against a bare node:http ceiling, at a small and a large device
// count, then a Markdown table on stdout and in bench/results.md. Children are killed and
// the Redis prefixes removed on every way out.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import Redis from 'ioredis';
import { ConfigError, readConfig } from '../src/config';
import { hashPassword } from '../src/domain/passwd-hash';
import { PASSWORD_COUNT, passwordOf } from './devices';
import { measureHashBound } from './hash-bound';
import { describeMachine } from './machine';
import { startCeiling } from './measure-ceiling';
import { measureSize, type SizeContext } from './measure-size';
import { killAllChildren } from './processes';
import { deletePrefix, redisProcessId } from './redis-prefix';
import { renderReport, type Report } from './report';
import { readSettings, SettingsError } from './settings';

const RESULTS = path.join(__dirname, '..', '..', 'bench', 'results.md');

async function cleanUp(redis: Redis, prefixes: Set<string>): Promise<void> {
  killAllChildren();
  for (const prefix of prefixes) {
    const n = await deletePrefix(redis, prefix).catch(() => -1);
    console.error(n < 0 ? `could not remove ${prefix}*` : `removed ${n} keys under ${prefix}`);
  }
  prefixes.clear();
}

async function main(): Promise<void> {
  const settings = readSettings();
  const [small = 0] = settings.sizes;
  if (small < settings.connections) {
    throw new SettingsError('BENCH_SMALL must be at least BENCH_CONNECTIONS');
  }
  const config = readConfig({ ...process.env, REDIS_URL: settings.redisUrl });
  const redis = new Redis(settings.redisUrl, { maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined); // reported by the failing command
  const prefixes = new Set<string>();
  const onSignal = (signal: NodeJS.Signals) => {
    console.error(`\n${signal}: stopping children, removing bench keys`);
    void cleanUp(redis, prefixes).finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    await redis.ping().catch(() => {
      throw new SettingsError(`cannot reach Redis at ${settings.redisUrl} (set REDIS_URL)`);
    });
    const machine = await describeMachine(redis);
    console.log(
      `${machine.cpu} × ${machine.cores}, ${machine.memGiB.toFixed(1)} GiB, Node ${machine.node}, Redis ${machine.redis}`,
    );
    console.log(
      `${settings.connections} connections, ${settings.seconds} s per run, devices: ${settings.sizes.join(', ')}`,
    );
    const iterations = config.PASSWD_ITERATIONS;
    const hashes = await Promise.all(
      Array.from({ length: PASSWORD_COUNT }, (_, k) =>
        hashPassword(passwordOf(k), { iterations, saltBytes: config.PASSWD_SALT_BYTES }),
      ),
    );
    const hash = await measureHashBound(iterations);
    console.log(
      `PBKDF2-SHA512 × ${iterations}: ${hash.hashMs.toFixed(3)} ms → bound ${Math.round(hash.perSecond)}/s on ${hash.cores} cores`,
    );
    const warnings: string[] = [];
    console.log('\nceiling (bare node:http)');
    // Its CPU counts as ours only when it runs here (a remote pid would name a local stranger).
    const local = ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(settings.redisUrl).hostname);
    const redisPid = local ? await redisProcessId(redis) : 0;
    const retryBudget = { seconds: settings.retryBudgetS };
    const ceiling = await startCeiling(
      settings,
      { devices: small, connections: settings.connections, warmSet: settings.warmSet },
      { helperPids: [process.pid, redisPid], retries: settings.retries, retryBudget, warnings },
    );
    const ctx: SizeContext = {
      settings,
      redis,
      hashes,
      hash,
      redisPid,
      retryBudget,
      ceiling,
      warnings,
      prefixes,
    };
    const report: Report = {
      date: new Date().toISOString().slice(0, 10),
      machine,
      seconds: settings.seconds,
      connections: settings.connections,
      warmSet: settings.warmSet,
      hash,
      checks: [],
      paced: [],
      sizes: [],
      warnings,
    };
    for (const n of settings.sizes) {
      const f = await measureSize(n, ctx);
      report.checks.push(...f.checks);
      report.paced.push(...f.paced);
      report.sizes.push(f.size);
    }
    await ceiling.stop();
    // Rows of one workload next to each other: the cost growth with the device count shows.
    const order = ['acl-json', 'acl-form', 'user-warm', 'user-cold', 'superuser'];
    report.checks.sort((a, b) => order.indexOf(a.workload) - order.indexOf(b.workload));
    report.paced.sort((a, b) => order.indexOf(a.workload) - order.indexOf(b.workload));
    const md = renderReport(report);
    await writeFile(RESULTS, md);
    console.log(`\n${md}\n(written to ${path.relative(process.cwd(), RESULTS)})`);
  } finally {
    await cleanUp(redis, prefixes);
    redis.disconnect();
  }
}

main().catch((err: unknown) => {
  const known = err instanceof SettingsError || err instanceof ConfigError;
  console.error(`bench failed: ${known ? (err as Error).message : ((err as Error).stack ?? err)}`);
  process.exitCode = 1;
});
