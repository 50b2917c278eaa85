// The options of `npm run bench:plugin` (bench/plugin.ts): command-line flags, each with an
// environment fallback for the older BENCH_PLUGIN_* names. Read once, checked, frozen.
import path from 'node:path';
import { ROOT } from '../test/support/processes';

/** a one topic per client, b a topic per message, c fanout to a `bench/#` subscriber,
 *  d a fresh broker taking back N devices, e revocation, f RSS per device with preload. */
export const WORKLOADS = ['a', 'b', 'c', 'd', 'e', 'f'] as const;
export type Workload = (typeof WORKLOADS)[number];

export interface BenchOptions {
  only: Workload[];
  rounds: number;
  /** Names the results section (`before`, `after`, `2.1.2`); one section per label. */
  label: string;
  /** The Mosquitto binary both brokers run. */
  broker: string;
  seconds: number;
  /** Devices registered for (a)–(c) and the ones (d) takes back. */
  devices: number;
  storm: number;
  trials: number;
  /** Device counts for (f). */
  rssSizes: number[];
  results: string;
  redisUrl: string;
}

const USAGE = `usage: npm run bench:plugin -- [--only a,b,c,d,e,f] [--rounds N] [--label X]
  [--broker /path/to/mosquitto] [--seconds S] [--devices N] [--storm N] [--trials N]
  [--rss 10000,100000] [--results FILE]`;

const positive = (flag: string, v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} ${v}: an integer ≥ 1\n${USAGE}`);
  return n;
};

export function readBenchOptions(
  argv: string[],
  env: Record<string, string | undefined>,
): Readonly<BenchOptions> {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] as string;
    const value = argv[i + 1];
    if (!flag.startsWith('--') || value === undefined) throw new Error(`${flag}?\n${USAGE}`);
    flags.set(flag.slice(2), value);
    i++;
  }
  const known = ['only', 'rounds', 'label', 'broker', 'seconds', 'devices', 'storm', 'trials', 'rss', 'results']; // prettier-ignore
  for (const k of flags.keys()) if (!known.includes(k)) throw new Error(`--${k}?\n${USAGE}`);
  const get = (k: string, envName: string, fallback: string) =>
    flags.get(k) ?? env[envName] ?? fallback;
  const only = get('only', 'BENCH_PLUGIN_ONLY', WORKLOADS.join(','))
    .split(',')
    .map((s) => s.trim());
  for (const w of only)
    if (!(WORKLOADS as readonly string[]).includes(w))
      throw new Error(`--only ${w}: one of ${WORKLOADS.join(', ')}\n${USAGE}`);
  const label = get('label', 'BENCH_PLUGIN_LABEL', 'main');
  if (!/^[\w.+-]{1,40}$/.test(label)) throw new Error(`--label ${label}: letters, digits, . + - _`);
  return Object.freeze({
    only: only as Workload[],
    rounds: positive('--rounds', get('rounds', 'BENCH_PLUGIN_ROUNDS', '3')),
    label,
    broker: get('broker', 'MOSQUITTO_BIN', '/usr/sbin/mosquitto'),
    seconds: positive('--seconds', get('seconds', 'BENCH_PLUGIN_SECONDS', '5')),
    devices: positive('--devices', get('devices', 'BENCH_PLUGIN_DEVICES', '200')),
    storm: positive('--storm', get('storm', 'BENCH_PLUGIN_STORM', '1500')),
    trials: positive('--trials', get('trials', 'BENCH_PLUGIN_TRIALS', '100')),
    rssSizes: get('rss', 'BENCH_PLUGIN_RSS', '10000,100000')
      .split(',')
      .map((s) => positive('--rss', s)),
    results: get('results', 'BENCH_RESULTS', path.join(ROOT, 'bench', 'results.md')),
    redisUrl: env.REDIS_URL || 'redis://127.0.0.1:6379',
  });
}
