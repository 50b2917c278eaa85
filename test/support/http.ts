// HTTP and timing helpers shared by tests, hostile scenarios and the harness itself.
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
  /** an array: the header sent that many times */
  headers?: Record<string, string | string[]>;
  agent?: http.Agent | false;
  timeoutMs?: number;
}

/** One request with exactly these bytes (a GET may carry a body, as go-auth sends); never rejects. */
export function send(port: number, path: string, opts: RequestOptions = {}): Promise<Answer> {
  const startedAt = Date.now();
  const t0 = performance.now();
  const body = opts.body ?? '';
  return new Promise((resolve) => {
    let settled = false;
    const done = (a: Pick<Answer, 'status' | 'body' | 'headers' | 'error'>) => {
      if (settled) return;
      settled = true;
      resolve({ ...a, ms: performance.now() - t0, startedAt, endedAt: Date.now() });
    };
    const failed = (err: Error) => done({ status: 0, body: '', headers: {}, error: err.message });
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
        res.on('error', failed);
      },
    );
    req.setTimeout(opts.timeoutMs ?? 10_000, () => req.destroy(new Error('client timeout')));
    req.on('error', failed);
    req.end(body);
  });
}

export const rawRequest = (
  port: number,
  method: string,
  path: string,
  body = '',
  headers: Record<string, string> = {},
) => send(port, path, { method, body, headers });

export const JSON_HEADERS = {
  'Content-Type': 'application/json',
  'User-Agent': 'mosquitto-2.0.11',
};
export const FORM_HEADERS = {
  'Content-Type': 'application/x-www-form-urlencoded',
  'User-Agent': 'Go-http-client/1.1',
};
export const bearer = (token: string) => ({
  Authorization: `Bearer ${token}`,
  'Content-Type': 'application/json',
});

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

/** Retries an assertion until it passes; the last failure if it never does. */
export async function eventually(assertion: () => Promise<void>, ms = 2000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      return await assertion();
    } catch (err) {
      if (Date.now() > until) throw err;
      await sleep(20);
    }
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

export function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

export const pick = <T>(items: readonly T[]): T =>
  items[Math.floor(Math.random() * items.length)] as T;

/** The go-auth user (CONNECT) check, as the plugin sends it in json mode. */
export const checkUser = (port: number, username: string, password: string, clientid = 'c') =>
  rawRequest(
    port,
    'POST',
    '/mqtt/user',
    JSON.stringify({ username, password, clientid }),
    JSON_HEADERS,
  );
