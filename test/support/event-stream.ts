// A reader of GET /mqtt/events (server-sent events), as the Mosquitto plugin holds it: every
// event and heartbeat with the time it arrived, and whether the server ended the stream.
import http from 'node:http';
import { sleep } from './http';

export interface StreamEvent {
  event: string;
  data: Record<string, unknown>;
  /** Date.now() when its last byte arrived. */
  at: number;
}

export interface EventStreamClient {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The body of a refusal (non-200). */
  body: string;
  events: StreamEvent[];
  pings: number[];
  /** Resolves (with Date.now()) when the server ends the stream or the connection drops. */
  ended: Promise<number>;
  isEnded(): boolean;
  /** The first event after `from` (an index into events) that `match` accepts. */
  next(match: (e: StreamEvent) => boolean, ms?: number, from?: number): Promise<StreamEvent>;
  close(): void;
}

/** One block of an event stream: `event:`/`data:` lines, or a `:` comment (a heartbeat). */
function parseBlock(block: string): { event?: string; data?: string; comment: boolean } {
  const out: { event?: string; data?: string; comment: boolean } = { comment: false };
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) out.comment = true;
    else if (line.startsWith('event: ')) out.event = line.slice(7);
    else if (line.startsWith('data: ')) out.data = line.slice(6);
  }
  return out;
}

export function openEvents(
  port: number,
  opts: {
    method?: string;
    timeoutMs?: number;
    headers?: http.OutgoingHttpHeaders;
    /** Default /mqtt/events; a query (`?v=2&hb=100`) goes here. */
    path?: string;
  } = {},
): Promise<EventStreamClient> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: opts.method ?? 'GET',
        path: opts.path ?? '/mqtt/events',
        agent: false,
        headers: opts.headers,
      },
      (res) => {
        req.setTimeout(0); // answered: from now on silence is the test's to judge
        let buf = '';
        let body = '';
        let ended = false;
        let endedAt: (t: number) => void = () => undefined;
        const c: EventStreamClient = {
          status: res.statusCode ?? 0,
          headers: res.headers,
          get body() {
            return body;
          },
          events: [],
          pings: [],
          ended: new Promise<number>((r) => (endedAt = r)),
          isEnded: () => ended,
          async next(match, ms = 5000, from = 0) {
            const until = Date.now() + ms;
            for (;;) {
              const e = c.events.slice(from).find(match);
              if (e) return e;
              if (Date.now() > until || ended) {
                throw new Error(
                  `no matching event within ${ms} ms (ended: ${ended}); got ${JSON.stringify(c.events.slice(from))}`,
                );
              }
              await sleep(5);
            }
          },
          close: () => req.destroy(),
        };
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (c.status !== 200) {
            body += chunk;
            return;
          }
          buf += chunk;
          let end: number;
          while ((end = buf.indexOf('\n\n')) !== -1) {
            const b = parseBlock(buf.slice(0, end));
            buf = buf.slice(end + 2);
            const at = Date.now();
            if (b.comment) c.pings.push(at);
            if (b.event) c.events.push({ event: b.event, data: JSON.parse(b.data ?? '{}'), at });
          }
        });
        const finish = () => {
          if (ended) return;
          ended = true;
          endedAt(Date.now());
        };
        res.on('end', finish);
        res.on('close', finish);
        res.on('error', finish);
        resolve(c);
      },
    );
    req.setTimeout(opts.timeoutMs ?? 10_000, () => req.destroy(new Error('no answer')));
    req.on('error', reject);
    req.end();
  });
}
