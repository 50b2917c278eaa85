// What one measured run produced: counts by status, latencies (ms, sub-millisecond
// resolution: autocannon's own histogram keeps whole milliseconds), achieved rate.
export interface RunResult {
  requests: number;
  /** Responses per second between the first request and the last response. */
  rps: number;
  p50: number;
  p99: number;
  statuses: Record<string, number>;
  /** Connection errors and timeouts. */
  errors: number;
  /** Cores' worth of CPU that other processes used meanwhile (null: unknown). */
  foreignCores?: number | null;
  /** CPU time of the server under test per answer, in µs (null: unknown). */
  serverUsPerRequest?: number | null;
  /** The load generator's longest event-loop stall, in ms: what it adds to any latency. */
  generatorStallMs?: number;
}

export class Recorder {
  private latencies = new Float64Array(1 << 16);
  private n = 0;
  readonly statuses: Record<string, number> = {};
  errors = 0;
  private first = 0;
  private last = 0;

  /** Call when the first request goes out. */
  start(now = performance.now()): void {
    if (this.first === 0) this.first = now;
  }

  add(status: number, ms: number, now = performance.now()): void {
    if (this.n === this.latencies.length) {
      const bigger = new Float64Array(this.latencies.length * 2);
      bigger.set(this.latencies);
      this.latencies = bigger;
    }
    this.latencies[this.n++] = ms;
    this.statuses[status] = (this.statuses[status] ?? 0) + 1;
    this.last = now;
  }

  result(): RunResult {
    const sorted = this.latencies.subarray(0, this.n).sort();
    const at = (q: number) => sorted[Math.min(this.n - 1, Math.floor(q * this.n))] ?? NaN;
    const span = (this.last - this.first) / 1000;
    return {
      requests: this.n,
      rps: span > 0 ? this.n / span : 0,
      p50: at(0.5),
      p99: at(0.99),
      statuses: this.statuses,
      errors: this.errors,
    };
  }
}

export const fmtStatuses = (s: Record<string, number>): string =>
  Object.entries(s)
    .map(([k, v]) => `${k}×${v}`)
    .join(' ');
