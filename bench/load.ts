// Load generators and the measured run. Peak: autocannon, closed loop, each connection
// sending its own prepared requests back to back. Paced (for "p99 at half of peak"):
// request n is due at start + n / rate and goes out on the first idle keep-alive socket;
// its latency runs from when it was due (autocannon's overallRate is a per-second budget:
// the first half of every second would run at full concurrency). Every run is checked: the
// answers must be the ones the workload should get, and other processes must have left the
// CPU alone (on two cores a test run elsewhere halves the figures): a disturbed run is
// repeated and the least disturbed attempt kept; suspect runs are listed under the table.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import autocannon from 'autocannon';
import type { CheckRequest } from './workloads';

export interface RunResult {
  requests: number;
  /** Answers per second between the first request and the last answer. */
  rps: number;
  /** ms, sub-millisecond (autocannon's own histogram keeps whole milliseconds). */
  p50: number;
  p99: number;
  statuses: Record<string, number>;
  /** Connection errors and timeouts. */
  errors: number;
  /** Cores' worth of CPU other processes used meanwhile (null: unknown). */
  foreignCores?: number | null;
  /** CPU time of the server under test per answer, µs (null: unknown). */
  serverUsPerRequest?: number | null;
  /** The load generator's longest event-loop stall (ms): it adds to any latency. */
  generatorStallMs?: number;
  /** Paced runs: most requests waiting for a free socket at once (a few: the rate held). */
  maxQueued?: number;
}

class Recorder {
  private latencies: number[] = [];
  readonly statuses: Record<string, number> = {};
  errors = 0;
  private first = 0;
  private last = 0;
  private readonly loop = monitorEventLoopDelay({ resolution: 1 });

  start(now = performance.now()): void {
    if (this.first === 0) this.first = now;
    this.loop.enable();
  }

  add(status: number, ms: number): void {
    this.latencies.push(ms);
    this.statuses[status] = (this.statuses[status] ?? 0) + 1;
    this.last = performance.now();
  }

  result(): RunResult {
    this.loop.disable();
    const sorted = Float64Array.from(this.latencies).sort();
    const n = sorted.length;
    const at = (q: number) => sorted[Math.min(n - 1, Math.floor(q * n))] ?? NaN;
    const span = (this.last - this.first) / 1000;
    return {
      requests: n,
      rps: span > 0 ? n / span : 0,
      p50: at(0.5),
      p99: at(0.99),
      statuses: this.statuses,
      errors: this.errors,
      generatorStallMs: this.loop.max / 1e6,
    };
  }
}

export interface LoadOptions {
  connections: number;
  seconds: number;
  /** Peak: stop after this many answers instead of after `seconds`. */
  amount?: number;
  /** Paced: requests per second. */
  rate?: number;
}

export async function peakLoad(url: string, sets: CheckRequest[][], o: LoadOptions) {
  const rec = new Recorder();
  const cannon = sets.map((reqs) => reqs.map((r) => ({ method: 'POST' as const, ...r })));
  let next = 0;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const run = autocannon(
      {
        url,
        connections: o.connections,
        duration: o.seconds,
        amount: o.amount,
        timeout: 10,
        requests: cannon[0],
        setupClient(client) {
          client.setRequests(cannon[next++ % cannon.length] as autocannon.Request[]);
          client.on('response', (status: number, _b: number, ms: number) => rec.add(status, ms));
        },
      },
      (err: unknown, res: autocannon.Result) => (err ? reject(err as Error) : resolve(res)),
    );
    run.on('start', () => rec.start()); // request buffers are built before: not measured
  });
  rec.errors = result.errors + result.timeouts;
  return rec.result();
}

export function pacedLoad(url: string, requests: CheckRequest[], o: LoadOptions) {
  const rate = o.rate ?? 1;
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.connections });
  const { hostname, port } = new URL(url);
  const rec = new Recorder();
  const total = Math.round(rate * o.seconds);
  let released = 0;
  let answered = 0;
  let inFlight = 0;
  let maxQueued = 0;
  return new Promise<RunResult>((resolve) => {
    const finish = () => {
      clearTimeout(deadline);
      clearInterval(timer);
      agent.destroy();
      rec.errors += total - answered;
      resolve({ ...rec.result(), maxQueued });
    };
    // A lost connection would leave its request unanswered forever: count it, do not hang.
    const deadline = setTimeout(finish, (o.seconds + 15) * 1000);
    const answer = (status: number, due: number) => {
      inFlight--;
      rec.add(status, performance.now() - due);
      if (++answered === total) finish();
    };
    const start = performance.now();
    rec.start(start);
    const timer = setInterval(() => {
      const now = performance.now();
      const due = Math.min(total, Math.floor(((now - start) * rate) / 1000) + 1);
      for (; released < due; released++) {
        const r = requests[released % requests.length] as CheckRequest;
        inFlight++;
        const req = http.request(
          { host: hostname, port, path: r.path, method: 'POST', agent, headers: r.headers },
          (res) => res.resume().on('end', () => answer(res.statusCode ?? 0, now)),
        );
        req.on('error', () => answer(0, now));
        req.end(r.body);
      }
      maxQueued = Math.max(maxQueued, inFlight - o.connections);
      if (released >= total) clearInterval(timer);
    }, 1);
  });
}

// ---------------------------------------------------------------------------------------------
// CPU accounting (Linux /proc; elsewhere nothing is reported)

const TICKS_PER_S = 100; // USER_HZ on every mainstream Linux

function busyTicks(): number {
  const [, user, nice, system, , , irq, softirq, steal] = (
    readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? ''
  )
    .trim()
    .split(/\s+/)
    .map(Number);
  return [user, nice, system, irq, softirq, steal].reduce<number>((a, b) => a + (b ?? 0), 0);
}

export function processTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0; // exited
  }
}

/** Other processes' CPU, in cores, above which a run counts as disturbed. */
export const NOISE_CORES = 0.25;
export const disturbed = (r: RunResult) => (r.foreignCores ?? 0) > NOISE_CORES;

export interface MeasureContext {
  serverPid: number;
  /** The other processes whose CPU is part of the measurement: us, redis-server. */
  helperPids: readonly number[];
  retries: number;
  /** Seconds repeats may still take, shared by all runs. */
  retryBudget: { seconds: number };
  warnings: string[];
}

const fmt = (s: Record<string, number>) =>
  Object.entries(s)
    .map(([k, v]) => `${k}×${v}`)
    .join(' ');

/** Runs `run(attempt)` (attempt picks another request sample), repeated while disturbed. */
export async function measured(
  what: string,
  allowed: readonly number[],
  m: MeasureContext,
  run: (attempt: number) => Promise<RunResult>,
): Promise<RunResult> {
  let best: RunResult | undefined;
  const warn = (w: string) => {
    m.warnings.push(w);
    console.log(`  ⚠ ${w}`);
  };
  for (let attempt = 0; attempt <= m.retries; attempt++) {
    (globalThis as { gc?: () => void }).gc?.(); // the last run's request sets, not in this run
    const ours = () => m.helperPids.reduce((a, pid) => a + processTicks(pid), 0);
    const t0 = { busy: busyTicks(), ours: ours(), server: processTicks(m.serverPid) };
    const started = performance.now();
    const r = await run(attempt);
    const seconds = (performance.now() - started) / 1000;
    if (attempt > 0) m.retryBudget.seconds -= seconds;
    const server = processTicks(m.serverPid) - t0.server;
    const foreign = busyTicks() - t0.busy - (ours() - t0.ours) - server;
    r.foreignCores = Math.max(0, foreign / TICKS_PER_S / seconds);
    r.serverUsPerRequest = r.requests ? (server / TICKS_PER_S / r.requests) * 1e6 : null;
    console.log(
      `  ${what.padEnd(34)} ${Math.round(r.rps).toString().padStart(7)} req/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms  [${fmt(r.statuses)}]` +
        `${r.maxQueued === undefined ? '' : `  queued ≤ ${r.maxQueued}`}  server ${r.serverUsPerRequest?.toFixed(0)} µs/req, other CPU ${r.foreignCores.toFixed(2)}, generator stall ≤ ${(r.generatorStallMs ?? 0).toFixed(0)} ms`,
    );
    const odd = Object.keys(r.statuses).filter((s) => !allowed.includes(Number(s)));
    if (r.errors > 0 || odd.length > 0 || r.requests === 0)
      warn(`${what}: answers ${fmt(r.statuses) || 'none'}, ${r.errors} errors/timeouts`);
    if (!best || (r.foreignCores ?? 0) < (best.foreignCores ?? 0)) best = r;
    if (!disturbed(r) || attempt === m.retries || m.retryBudget.seconds <= 0) break;
    console.log('  ↻ other processes were busy meanwhile: once more');
  }
  const r = best as RunResult;
  if ((r.generatorStallMs ?? 0) > 20)
    warn(`${what}: the load generator stalled ${(r.generatorStallMs ?? 0).toFixed(0)} ms`);
  if (disturbed(r))
    warn(`${what}: other processes used ${(r.foreignCores ?? 0).toFixed(2)} cores meanwhile`);
  return r;
}
