// Slow clients (slowloris): connections that send their headers, or their body, a few bytes
// at a time. The server must cut them off (headersTimeout CHECK_HEADERS_TIMEOUT_MS 5 s, requestTimeout 30 s in
// src/server.ts) and keep answering everyone else meanwhile.
import net from 'node:net';

export interface SlowOptions {
  connections: number;
  /** `headers`: never finishes the header block; `body`: headers done, body drip-fed. */
  mode: 'headers' | 'body';
  path: string;
  dripMs: number;
  /** Give up (and call it a violation) after this long. */
  maxWaitMs: number;
}

export interface SlowResult {
  /** ms from connect to the server closing the connection; null if it never did. */
  closedAfterMs: number | null;
  /** First line the server sent, e.g. `HTTP/1.1 408 Request Timeout`. */
  answer: string;
}

function slowClient(port: number, opts: SlowOptions): Promise<SlowResult> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    let started = Date.now();
    let answer = '';
    let timer: NodeJS.Timeout | undefined;
    let n = 0;
    const giveUp = setTimeout(() => {
      finish(null);
      sock.destroy();
    }, opts.maxWaitMs);
    const finish = (closedAfterMs: number | null) => {
      clearInterval(timer);
      clearTimeout(giveUp);
      resolve({ closedAfterMs, answer });
    };
    sock.on('connect', () => {
      started = Date.now();
      const head = `POST ${opts.path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n`;
      sock.write(
        opts.mode === 'headers' ? head : `${head}Content-Length: 1000000\r\n\r\n{"username":"`,
      );
      timer = setInterval(() => {
        if (sock.destroyed || !sock.writable) return;
        sock.write(opts.mode === 'headers' ? `X-Slow-${n++}: x\r\n` : 'a');
      }, opts.dripMs);
    });
    sock.on('data', (d: Buffer) => {
      if (!answer) answer = d.toString('latin1').split('\r\n')[0] ?? '';
    });
    sock.on('error', () => undefined); // a reset is one way of being cut off
    sock.on('close', () => finish(Date.now() - started));
  });
}

/** Opens the slow connections now; `done` resolves when every one has ended. */
export function startSlowClients(port: number, opts: SlowOptions): { done: Promise<SlowResult[]> } {
  const all: Promise<SlowResult>[] = [];
  for (let i = 0; i < opts.connections; i++) all.push(slowClient(port, opts));
  return { done: Promise.all(all) };
}
