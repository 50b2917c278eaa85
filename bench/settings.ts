// The benchmark's knobs, read once from the environment. A bad value stops the run with a
// message naming the variable, like the service's own config.
export interface Settings {
  /** Seconds per measured run (BENCH_SECONDS). */
  seconds: number;
  /** Concurrent connections for peak runs (BENCH_CONNECTIONS). */
  connections: number;
  /** Device counts, small then large (BENCH_SMALL, BENCH_LARGE). */
  sizes: number[];
  /** Devices that reconnect in the warm /mqtt/user runs (BENCH_WARM_SET). */
  warmSet: number;
  redisUrl: string;
  /** Directory for `node --cpu-prof` profiles of mqtt-authd, or '' for none (BENCH_CPU_PROF). */
  cpuProfDir: string;
  /** Repeats of a run that other processes disturbed (BENCH_RETRIES)… */
  retries: number;
  /** …as long as repeats have taken less than this many seconds in all (BENCH_RETRY_BUDGET_S). */
  retryBudgetS: number;
}

/** A bad BENCH_* variable or an unreachable Redis: reported in one line, no stack. */
export class SettingsError extends Error {}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 1): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < min) {
    throw new SettingsError(`${name}=${JSON.stringify(raw)}: must be an integer ≥ ${min}`);
  }
  return n;
}

export function readSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const small = integer(env, 'BENCH_SMALL', 1000);
  const large = integer(env, 'BENCH_LARGE', 1_000_000);
  return Object.freeze({
    seconds: integer(env, 'BENCH_SECONDS', 10),
    connections: integer(env, 'BENCH_CONNECTIONS', 32),
    sizes: large > small ? [small, large] : [small],
    warmSet: integer(env, 'BENCH_WARM_SET', 1000),
    redisUrl: env.REDIS_URL || 'redis://127.0.0.1:6379',
    cpuProfDir: env.BENCH_CPU_PROF ?? '',
    retries: integer(env, 'BENCH_RETRIES', 1, 0),
    retryBudgetS: integer(env, 'BENCH_RETRY_BUDGET_S', 60, 0),
  });
}
