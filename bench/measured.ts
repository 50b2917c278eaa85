// Runs one measurement and checks it: the answers must be the ones the workload should get
// (a 5xx, a timeout or a connection error means it measured an overload or an outage), and
// other processes must have left the CPU alone (on two cores, a test run elsewhere halves
// the figures): a disturbed run is repeated, and the least disturbed attempt kept. Suspect
// runs are logged and listed under the table.
import { watchCpu } from './cpu-watch';
import { collectGarbage } from './gc';
import { fmtStatuses, type RunResult } from './stats';

/** Other processes' CPU, in cores, above which a run counts as disturbed. */
export const NOISE_CORES = 0.25;
/** A load-generator stall this long (ms) is in the run's latencies: its p99 is suspect. */
const STALL_MS = 20;

export interface MeasureContext {
  serverPid: number;
  /** The other processes whose CPU is part of the measurement: us, redis-server. */
  helperPids: readonly number[];
  /** How many times a disturbed run is repeated… */
  retries: number;
  /** …while repeats, shared by all runs, have used less than this (seconds; decremented). */
  retryBudget: { seconds: number };
  warnings: string[];
}

export const disturbed = (r: RunResult): boolean => (r.foreignCores ?? 0) > NOISE_CORES;

export interface Measurement<P, T extends RunResult> {
  /** Builds the requests and sets up preconditions; called again for a repeat. Not timed. */
  prepare(attempt: number): Promise<P> | P;
  run(prepared: P): Promise<T>;
}

export async function measured<P, T extends RunResult>(
  what: string,
  allowed: readonly number[],
  m: MeasureContext,
  measurement: Measurement<P, T>,
  extra: (r: T) => string = () => '',
): Promise<T> {
  let best: T | undefined;
  for (let attempt = 0; attempt <= m.retries; attempt++) {
    const prepared = await measurement.prepare(attempt);
    collectGarbage();
    const watch = watchCpu(m.serverPid, m.helperPids);
    const started = performance.now();
    const r = await measurement.run(prepared);
    if (attempt > 0) m.retryBudget.seconds -= (performance.now() - started) / 1000;
    const cpu = watch.read();
    r.foreignCores = cpu?.foreignCores ?? null;
    r.serverUsPerRequest = cpu && r.requests ? (cpu.serverSeconds * 1e6) / r.requests : null;
    const other = cpu
      ? `  server ${r.serverUsPerRequest?.toFixed(0)} µs/req, other CPU ${cpu.foreignCores.toFixed(2)}`
      : '';
    const stall = `, generator stall ≤ ${(r.generatorStallMs ?? 0).toFixed(0)} ms`;
    console.log(
      `  ${what.padEnd(34)} ${Math.round(r.rps).toString().padStart(7)} req/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms  [${fmtStatuses(r.statuses)}]${extra(r)}${other}${stall}`,
    );
    const odd = Object.keys(r.statuses).filter((s) => !allowed.includes(Number(s)));
    if (r.errors > 0 || odd.length > 0 || r.requests === 0) {
      warn(m, `${what}: answers ${fmtStatuses(r.statuses) || 'none'}, ${r.errors} errors/timeouts`);
    }
    if (!best || (r.foreignCores ?? 0) < (best.foreignCores ?? 0)) best = r;
    if (!disturbed(r) || attempt === m.retries || m.retryBudget.seconds <= 0) break;
    console.log('  ↻ other processes were busy meanwhile: once more');
  }
  const r = best as T;
  if ((r.generatorStallMs ?? 0) > STALL_MS) {
    warn(m, `${what}: the load generator stalled ${(r.generatorStallMs ?? 0).toFixed(0)} ms`);
  }
  if (disturbed(r)) {
    warn(m, `${what}: other processes used ${(r.foreignCores ?? 0).toFixed(2)} cores meanwhile`);
  }
  return r;
}

function warn(m: MeasureContext, w: string): void {
  m.warnings.push(w);
  console.log(`  ⚠ ${w}`);
}
