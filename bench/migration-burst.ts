// `npm run bench:migration`: migration day. N devices imported from go-auth with its default
// hash (PBKDF2-SHA512, 100 000 iterations, 64-byte key) all reconnect at once, through C
// plugin connections that give up after go-auth's HTTP timeout (5 s) and retry a refused or
// timed-out CONNECT after 1 s, as a device would. Each slow-lane setting is a separate run on a
// fresh import: how long until every device is in, how many CONNECTs were refused (503) or
// timed out, and the answer times. Printed as a table (and written to BENCH_RESULTS if set).
//
//   BENCH_QUICK=1                  CI size: 300 devices
//   BENCH_MIGRATION_DEVICES        devices (10 000)
//   BENCH_MIGRATION_CONCURRENCY    plugin connections at once (50)
//   REDIS_URL                      the Redis to use (redis://127.0.0.1:6379)
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import { readConfig } from '../src/config';
import { createContext } from '../src/context';
import { cleanPrefix, startService, testPrefix } from '../test/support/processes';
import { percentile, send, sleep } from '../test/support/http';

const env = process.env;
const quick = env.BENCH_QUICK === '1';
const N = Number(env.BENCH_MIGRATION_DEVICES ?? (quick ? 300 : 10_000));
const C = Number(env.BENCH_MIGRATION_CONCURRENCY ?? 50);
const REDIS_URL = env.REDIS_URL || 'redis://127.0.0.1:6379';
const PLUGIN_TIMEOUT_MS = 5000; // go-auth's default http timeout
const RETRY_AFTER_MS = 1000;
const PASSWORDS = 16;

const VARIANTS: { name: string; env: Record<string, string> }[] = [
  { name: 'defaults (width 1, wait ≤ 3 s)', env: {} },
  {
    name: 'migration (width 3 of 4 threads)',
    env: { PASSWD_SLOW_LANE_WIDTH: '3', UV_THREADPOOL_SIZE: '4' },
  },
];

const goAuthHash = (password: string) => {
  const salt = randomBytes(16);
  const key = pbkdf2Sync(password, salt, 100_000, 64, 'sha512');
  return `PBKDF2$sha512$100000$${salt.toString('base64')}$${key.toString('base64')}`;
};

async function importDevices(prefix: string, hashes: string[]): Promise<void> {
  const ctx = createContext(
    readConfig({ REDIS_URL, REDIS_KEY_PREFIX: prefix, LOG_LEVEL: 'silent' }),
  );
  try {
    await ctx.health.ready(5000);
    for (let from = 0; from < N; from += 200) {
      const batch = [];
      for (let i = from; i < Math.min(N, from + 200); i++)
        batch.push(ctx.devices.importHash(`dev-${i}`, hashes[i % PASSWORDS] as string));
      await Promise.all(batch);
    }
  } finally {
    await ctx.close();
  }
}

interface BurstResult {
  allInMs: number;
  refused: number;
  timedOut: number;
  other: number;
  answerMs: number[];
}

async function burst(port: number): Promise<BurstResult> {
  const r: BurstResult = { allInMs: 0, refused: 0, timedOut: 0, other: 0, answerMs: [] };
  const queue = Array.from({ length: N }, (_, i) => i);
  const started = performance.now();
  const lane = async () => {
    for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
      for (;;) {
        const a = await send(port, '/mqtt/user', {
          body: JSON.stringify({
            username: `dev-${i}`,
            password: `pw-${i % PASSWORDS}`,
            clientid: `c-${i}`,
          }),
          headers: { 'Content-Type': 'application/json' },
          timeoutMs: PLUGIN_TIMEOUT_MS,
        });
        if (a.status === 200) {
          r.answerMs.push(a.ms);
          break;
        }
        if (a.status === 503) r.refused++;
        else if (a.status === 0) r.timedOut++;
        else r.other++;
        await sleep(RETRY_AFTER_MS);
      }
    }
  };
  await Promise.all(Array.from({ length: C }, lane));
  r.allInMs = performance.now() - started;
  return r;
}

async function main(): Promise<void> {
  console.log(`computing ${PASSWORDS} go-auth hashes (PBKDF2-SHA512, 100 000 iterations)…`);
  const hashes = Array.from({ length: PASSWORDS }, (_, i) => goAuthHash(`pw-${i}`));
  const rows: string[] = [
    `Migration burst: ${N} devices with go-auth PBKDF2-SHA512/100k hashes, ${C} plugin connections, ` +
      `${PLUGIN_TIMEOUT_MS} ms plugin timeout, retry after ${RETRY_AFTER_MS} ms; ${os.cpus().length} cores; ${new Date().toISOString()}`,
    '',
    '| setting | all in after | 503 (refused CONNECTs) | timed out | answer p50 | answer p99 | answer max |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const v of VARIANTS) {
    const prefix = testPrefix('bench-migration');
    try {
      await importDevices(prefix, hashes);
      const s = await startService({
        env: { REDIS_URL, REDIS_KEY_PREFIX: prefix, LOG_LEVEL: 'warn', ...v.env },
      });
      try {
        const r = await burst(s.port);
        const f = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
        rows.push(
          `| ${v.name} | ${f(r.allInMs)} | ${r.refused} | ${r.timedOut} | ${f(percentile(r.answerMs, 50))} | ${f(percentile(r.answerMs, 99))} | ${f(Math.max(...r.answerMs))} |`,
        );
        console.log(rows[rows.length - 1]);
      } finally {
        await s.stop();
      }
    } finally {
      await cleanPrefix(REDIS_URL, prefix);
    }
  }
  const table = rows.join('\n');
  console.log(`\n${table}`);
  if (env.BENCH_RESULTS) await writeFile(env.BENCH_RESULTS, `${table}\n`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
