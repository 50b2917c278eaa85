// The check endpoints' hot path, A/B in one run: several builds of mqtt-authd (this tree and
// others, e.g. a `git worktree` of main before a change) and the bare node:http ceiling, all
// up at once on one Redis and one device set, measured in interleaved rounds (each round runs
// every case on every target, in an order rotated per round), so a machine that gets busier
// or quieter during the run moves all of them alike. Reported per case: each target's
// answers/s per round and its median fraction of the ceiling's in the same round.
//
//   node dist/bench/hot-path.js                   (after `npm run build && npm run build:tools`)
//   HOT_TARGETS=before=/path/to/tree,old=/path    other trees, each built (dist/src/cli.js)
//   HOT_ROUNDS=3 HOT_SECONDS=5 HOT_CONNECTIONS=32,1 HOT_DEVICES=1000
//   REDIS_URL (redis://127.0.0.1:6379)
import os from 'node:os';
import path from 'node:path';
import { readConfig } from '../src/config';
import { hashPassword } from '../src/domain/passwd-hash';
import { createKeys } from '../src/store/keys';
import { send } from '../test/support/http';
import { cleanPrefix, onFreePort, ROOT, startNode, type Proc } from '../test/support/processes';
import { peakLoad, processTicks, type RunResult } from './load';
import { bulkLoad } from './bulk-load';
import * as w from './workloads';

const env = process.env;
const num = (name: string, fallback: number) => Number(env[name] ?? fallback);
const rounds = num('HOT_ROUNDS', 3);
const seconds = num('HOT_SECONDS', 5);
const connections = (env.HOT_CONNECTIONS ?? '32,1').split(',').map(Number);
const devices = num('HOT_DEVICES', 1000);
const redisUrl = env.REDIS_URL || 'redis://127.0.0.1:6379';
const trees: [string, string][] = [
  ...(env.HOT_TARGETS ?? '')
    .split(',')
    .filter(Boolean)
    .map((t): [string, string] => {
      const [name, dir] = t.split('=');
      return [name as string, path.resolve(dir as string)];
    }),
  ['this', ROOT],
];
const CASES = ['acl-json', 'user-warm'] as const;

interface Target {
  name: string;
  url: string;
  proc: Proc;
}

async function startTree(name: string, dir: string, prefix: string): Promise<Target> {
  const cli = path.join(dir, 'dist', 'src', 'cli.js');
  const { port, proc } = await onFreePort(
    name,
    undefined,
    (p) =>
      startNode([cli, 'serve'], {
        REDIS_URL: redisUrl,
        REDIS_KEY_PREFIX: prefix,
        HOST: '127.0.0.1',
        PORT: String(p),
        LOG_LEVEL: 'warn',
        PASSWD_FILE: '',
        ACL_FILE: '',
        AUTH_FAIL_LIMIT: '1000000', // the deny mix must not lock names out
        // A machine starved enough to miss three subscriber PINGs drops the cache, and the warm
        // logins turn into PBKDF2s: that measures the machine, not the hot path.
        REDIS_FEED_PING_MS: '0',
        // A run outlasts the default 60 s: the warm set must not expire between its rounds.
        CACHE_TTL_MS: '86400000',
      }),
    async (p) => (await send(p, '/readyz', { method: 'GET', timeoutMs: 500 })).status === 200,
    20_000,
  );
  return { name, url: `http://127.0.0.1:${port}`, proc };
}

async function startCeiling(): Promise<Target> {
  const proc = startNode([path.join(__dirname, 'ceiling-server.js')], { PORT: '0' });
  for (let i = 0; i < 200; i++) {
    const m = /listening on (\d+)/.exec(proc.logs());
    if (m) return { name: 'bare node:http', url: `http://127.0.0.1:${m[1]}`, proc };
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`ceiling never listened:\n${proc.logs()}`);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

async function main(): Promise<void> {
  const prefix = `bench:hot:${Math.random().toString(16).slice(2, 12)}:`;
  const keys = createKeys(prefix);
  const config = readConfig({ REDIS_URL: redisUrl });
  const hashes = await Promise.all(
    Array.from({ length: w.PASSWORD_COUNT }, (_, k) =>
      hashPassword(w.passwordOf(k), { iterations: config.PASSWD_ITERATIONS, saltBytes: 12 }),
    ),
  );
  const started: Target[] = [];
  try {
    const device = (i: number) => ({
      name: w.deviceName(i),
      hash: hashes[i % w.PASSWORD_COUNT] as string,
      superuser: w.isSuperuser(i),
      acl: w.ownRules(w.deviceName(i)),
    });
    await bulkLoad(redisUrl, keys, devices, device, w.COMMON_RULES);
    started.push(await startCeiling());
    for (const [name, dir] of trees) started.push(await startTree(name, dir, prefix));
    const cpu = os.cpus()[0]?.model.replace(/\s+/g, ' ').trim() ?? 'unknown CPU';
    console.log(`${cpu} × ${os.cpus().length}, Node ${process.version}, load ${os.loadavg()[0]}`);
    console.log(`${rounds} rounds × ${seconds} s; connections ${connections.join(', ')}`);
    // Warm every target: the warm set's logins cached, the ACL path compiled.
    for (const t of started) {
      for (const c of connections) {
        const shape = { devices, connections: c, warmSet: 1000 };
        const logins = { connections: c, seconds: 60, amount: 2 * w.warmSetSize(shape) };
        await peakLoad(t.url, w.warmSetRequests(shape), logins);
        await peakLoad(t.url, w.buildWorkload('acl-json', shape, 9), {
          connections: c,
          seconds: 1,
        });
      }
    }
    const got = new Map<string, RunResult[]>(); // `${case}@${c} ${target}` → one per round
    for (let r = 0; r < rounds; r++) {
      for (const id of CASES) {
        for (const c of connections) {
          const shape = { devices, connections: c, warmSet: 1000 };
          const order = started.map((_, i) => started[(i + r) % started.length] as Target);
          for (const t of order) {
            const ticks = processTicks(t.proc.pid);
            const res = await peakLoad(t.url, w.buildWorkload(id, shape, r), {
              connections: c,
              seconds,
            });
            // The server's own CPU per answer: what other processes on the machine barely move.
            res.serverUsPerRequest = ((processTicks(t.proc.pid) - ticks) * 1e4) / res.requests;
            // Anything but the workload's answers (a 503 of an overloaded machine) is shown.
            const other = Object.entries(res.statuses).filter(([k]) => k !== '200' && k !== '403');
            const k = `${id}@${c} ${t.name}`;
            got.set(k, [...(got.get(k) ?? []), res]);
            const errors =
              (res.errors ? ` (${res.errors} connection errors)` : '') +
              (other.length ? ` (${other.map(([k, v]) => `${v} × ${k}`).join(', ')})` : '');
            const us = (res.serverUsPerRequest as number).toFixed(1);
            console.log(
              `round ${r + 1} ${id} @${c} ${t.name}: ${Math.round(res.rps)}/s, ${us} µs CPU/answer${errors}`,
            );
          }
        }
      }
    }
    console.log(
      '\n| case | target | answers/s per round | of bare (median) | server CPU µs/answer (median) | p50 ms (median) |',
    );
    console.log('|---|---|---|---|---|---|');
    for (const id of CASES) {
      for (const c of connections) {
        const bare = got.get(`${id}@${c} ${started[0]?.name}`) as RunResult[];
        for (const t of started) {
          const rs = got.get(`${id}@${c} ${t.name}`) as RunResult[];
          const ratio = median(rs.map((x, i) => x.rps / (bare[i] as RunResult).rps));
          const us = median(rs.map((x) => x.serverUsPerRequest as number));
          console.log(
            `| ${id} @${c} | ${t.name} | ${rs.map((x) => Math.round(x.rps)).join(' / ')} | ` +
              `${ratio.toFixed(3)} | ${us.toFixed(1)} | ${median(rs.map((x) => x.p50)).toFixed(3)} |`,
          );
        }
      }
    }
  } finally {
    for (const t of started) await t.proc.stop(10_000);
    await cleanPrefix(redisUrl, prefix);
  }
}

main().catch((err: unknown) => {
  console.error(`hot-path bench failed: ${(err as Error).stack ?? String(err)}`);
  process.exitCode = 1;
});
