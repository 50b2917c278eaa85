// Constant-rate load, for "p99 at half of peak". autocannon's overallRate/connectionRate is a
// per-second budget (lib/httpClient.js: each connection sends back to back until its quota
// for the second is spent, then idles until the next tick), so at "half load" the first half
// of every second runs at full concurrency and its p99 is the peak p99. Here request n is due
// at start + n / rate (a 1 ms timer releases whatever is due) and goes out on the first idle
// one of `connections` keep-alive sockets; its latency runs from when it was due to the end
// of its answer, waiting for a socket included.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { CheckRequest } from './bodies';
import { encodeRequest, RawConnection } from './raw-connection';
import { Recorder, type RunResult } from './stats';

export interface PacedOptions {
  rate: number;
  seconds: number;
  connections: number;
}

export interface PacedResult extends RunResult {
  /** The most requests waiting for a free socket at once (0 or a few: the rate was held). */
  maxQueued: number;
}

export async function pacedLoad(
  baseUrl: string,
  requests: CheckRequest[],
  opts: PacedOptions,
): Promise<PacedResult> {
  const { host, port } = new URL(baseUrl);
  const buffers = requests.map((r) => encodeRequest(r, host));
  const rec = new Recorder();
  const conns = await Promise.all(
    Array.from({ length: opts.connections }, () =>
      RawConnection.open(Number(port), () => rec.errors++),
    ),
  );
  const total = Math.round(opts.rate * opts.seconds);
  const queue: { buf: Buffer; due: number }[] = [];
  let released = 0;
  let answered = 0;
  let maxQueued = 0;
  const loop = monitorEventLoopDelay({ resolution: 1 });

  return new Promise((resolve) => {
    const finish = () => {
      clearTimeout(deadline);
      for (const c of conns) c.close();
      rec.errors += total - answered;
      loop.disable();
      resolve({ ...rec.result(), maxQueued, generatorStallMs: loop.max / 1e6 });
    };
    // A lost connection would leave its request unanswered forever: count it, do not hang.
    const deadline = setTimeout(finish, (opts.seconds + 15) * 1000);
    const dispatch = () => {
      for (const c of conns) {
        if (queue.length === 0) return;
        if (c.busy) continue;
        const item = queue.shift() as { buf: Buffer; due: number };
        c.send(item.buf, (status) => {
          rec.add(status, performance.now() - item.due);
          if (++answered === total) finish();
          else dispatch();
        });
      }
    };
    loop.enable();
    const start = performance.now();
    rec.start(start);
    const timer = setInterval(() => {
      const now = performance.now();
      const due = Math.min(total, Math.floor(((now - start) * opts.rate) / 1000) + 1);
      while (released < due) {
        queue.push({ buf: buffers[released % buffers.length] as Buffer, due: now });
        released++;
      }
      if (released >= total) clearInterval(timer);
      dispatch();
      maxQueued = Math.max(maxQueued, queue.length);
    }, 1);
  });
}
