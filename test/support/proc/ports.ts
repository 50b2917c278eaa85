// Free ports, readiness probes and test key prefixes for the starters.
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import Redis from 'ioredis';
import { sleep } from '../http';
import type { Proc } from './core';

/** A TCP port on 127.0.0.1, free a moment ago, ≤ 55535 (a cluster bus port is port+10000). */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = net.createServer();
      srv.unref();
      srv.once('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const { port: p } = srv.address() as net.AddressInfo;
        srv.close(() => resolve(p));
      });
    });
    if (port <= 55535) return port;
  }
}

export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(500, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

/** A raw RESP PING; true only on +PONG (a paused server answers nothing → false). */
export function redisPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    let buf = '';
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(500, () => done(false));
    sock.once('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('\r\n')) done(buf.startsWith('+PONG'));
    });
    sock.once('error', () => done(false));
  });
}

/** `test:<name>:<random>:`, within REDIS_KEY_PREFIX rules (≤ 64 characters, no braces). */
export function testPrefix(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 40);
  return `test:${safe}:${randomBytes(6).toString('hex')}:`;
}

/** Deletes the keys under `prefix` (SCAN + UNLINK, never KEYS); returns how many. */
export async function cleanPrefix(redisUrl: string, prefix: string): Promise<number> {
  if (!prefix) throw new Error('cleanPrefix: refusing an empty prefix');
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined); // the awaited commands report failures
  try {
    await redis.connect();
    const match = prefix.replace(/[*?[\]\\]/g, '\\$&') + '*';
    let cursor = '0';
    let deleted = 0;
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.unlink(...keys);
    } while (cursor !== '0');
    return deleted;
  } finally {
    // quit(), not disconnect(): disconnect() leaves a timer that keeps Jest from exiting.
    await redis.quit().catch(() => redis.disconnect());
  }
}

/** Polls `probe` until true; throws with the logs if the process exits or time runs out. */
async function waitReady(what: string, p: Proc, probe: () => Promise<boolean>, ms: number) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (!p.isRunning()) {
      throw new Error(
        `${what} exited (${JSON.stringify(await p.exited)}) before it was ready:\n${p.logs()}`,
      );
    }
    if (await probe()) return;
    await sleep(25);
  }
  throw new Error(`${what} not ready after ${ms} ms:\n${p.logs()}`);
}

/**
 * Starts what `launch(port)` makes on a free port, ready when `probe(port)` says so; another
 * port when the chosen one was taken meanwhile (freePort races with other jest workers).
 */
export async function onFreePort<T extends Proc>(
  what: string,
  fixed: number | undefined,
  launch: (port: number) => Promise<T> | T,
  probe: (port: number) => Promise<boolean>,
  ms: number,
): Promise<{ port: number; proc: T }> {
  for (let attempt = 1; ; attempt++) {
    const port = fixed ?? (await freePort());
    const proc = await launch(port);
    try {
      await waitReady(`${what} on port ${port}`, proc, () => probe(port), ms);
      return { port, proc };
    } catch (err) {
      await proc.kill();
      if (
        fixed !== undefined ||
        attempt >= 3 ||
        !/Address already in use|EADDRINUSE/.test(proc.logs())
      )
        throw err;
    }
  }
}
