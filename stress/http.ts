// Small HTTP and bookkeeping helpers shared by the hostile scenarios (stress/*.ts), which run
// both from jest (CI size) and from `npm run stress` (full size).
import http from 'node:http';

export interface Answer {
  /** 0 when no HTTP answer came back (connection refused or reset, timeout). */
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
  ms: number;
  /** When the request was sent and when the answer was complete (Date.now()). */
  startedAt: number;
  endedAt: number;
  error?: string;
}

export interface RequestOptions {
  method?: string;
  body?: string | Buffer;
  headers?: Record<string, string>;
  agent?: http.Agent | false;
  timeoutMs?: number;
}

/** One request; never rejects (a transport failure is status 0 with `error`). */
export function send(port: number, path: string, opts: RequestOptions = {}): Promise<Answer> {
  const startedAt = Date.now();
  const t0 = process.hrtime.bigint();
  const body = opts.body ?? '';
  return new Promise((resolve) => {
    let settled = false;
    const done = (a: Omit<Answer, 'ms' | 'startedAt' | 'endedAt'>) => {
      if (settled) return;
      settled = true;
      resolve({
        ...a,
        ms: Number(process.hrtime.bigint() - t0) / 1e6,
        startedAt,
        endedAt: Date.now(),
      });
    };
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: opts.method ?? 'POST',
        path,
        agent: opts.agent ?? false,
        headers: { 'Content-Length': Buffer.byteLength(body), ...opts.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          done({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            headers: res.headers,
          }),
        );
        res.on('error', (err) => done({ status: 0, body: '', headers: {}, error: err.message }));
      },
    );
    req.setTimeout(opts.timeoutMs ?? 10000, () => req.destroy(new Error('client timeout')));
    req.on('error', (err) => done({ status: 0, body: '', headers: {}, error: err.message }));
    req.end(body);
  });
}

export const JSON_HEADERS = { 'Content-Type': 'application/json' };

export function bearer(token: string): Record<string, string> {
  return { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Retries `probe` until it returns true; the time it took, or null after `timeoutMs`. */
export async function waitFor(
  probe: () => Promise<boolean>,
  timeoutMs: number,
  everyMs = 20,
): Promise<number | null> {
  const started = Date.now();
  for (;;) {
    if (await probe()) return Date.now() - started;
    if (Date.now() - started > timeoutMs) return null;
    await sleep(everyMs);
  }
}

/** Runs `worker` on `n` parallel lanes until each returns false. */
export async function lanes(n: number, worker: (lane: number) => Promise<boolean>): Promise<void> {
  await Promise.all(
    Array.from({ length: n }, async (_, lane) => {
      while (await worker(lane));
    }),
  );
}

/** Runs `fn` over `items` with at most `n` in flight. */
export async function pool<T, R>(items: T[], n: number, fn: (item: T, i: number) => Promise<R>) {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  await lanes(Math.min(n, items.length), async () => {
    const i = next++;
    if (i >= items.length) return false;
    out[i] = await fn(items[i] as T, i);
    return true;
  });
  return out;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** Math.max without spreading (a spread of 100k values overflows the stack). */
export const maxOf = (values: number[]) => values.reduce((a, b) => (b > a ? b : a), 0);

export const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

/** What a scenario found: figures to print, and every broken guarantee (empty: all held). */
export interface Report {
  scenario: string;
  figures: Record<string, number | string>;
  violations: string[];
}

/** Collects violations, keeping the first few of each kind and counting the rest. */
export class Violations {
  private readonly counts = new Map<string, number>();
  private readonly examples: string[] = [];

  add(kind: string, detail: string): void {
    const n = (this.counts.get(kind) ?? 0) + 1;
    this.counts.set(kind, n);
    if (n <= 5) this.examples.push(`${kind}: ${detail}`);
  }

  list(): string[] {
    const more = [...this.counts]
      .filter(([, n]) => n > 5)
      .map(([kind, n]) => `${kind}: ${n - 5} more`);
    return [...this.examples, ...more];
  }

  get size(): number {
    return this.examples.length;
  }
}

export function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

export const pick = <T>(items: readonly T[]): T =>
  items[Math.floor(Math.random() * items.length)] as T;
