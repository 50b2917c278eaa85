// Peak load with autocannon: `connections` keep-alive connections, each sending its own
// prepared requests back to back (closed loop), for `seconds` or until `amount` answers.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import autocannon from 'autocannon';
import type { CheckRequest } from './bodies';
import { Recorder, type RunResult } from './stats';

export interface PeakOptions {
  connections: number;
  seconds: number;
  /** Stop after this many answers instead of after `seconds`. */
  amount?: number;
}

const toCannon = (r: CheckRequest): autocannon.Request => ({
  method: 'POST',
  path: r.path,
  headers: r.headers as autocannon.Request['headers'],
  body: r.body,
});

export async function peakLoad(
  baseUrl: string,
  perConnection: CheckRequest[][],
  opts: PeakOptions,
): Promise<RunResult> {
  const rec = new Recorder();
  const loop = monitorEventLoopDelay({ resolution: 1 });
  const sets = perConnection.map((reqs) => reqs.map(toCannon));
  let next = 0;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const run = autocannon(
      {
        url: baseUrl,
        connections: opts.connections,
        duration: opts.seconds,
        amount: opts.amount,
        timeout: 10,
        requests: sets[0],
        setupClient(client) {
          client.setRequests(sets[next++ % sets.length] as autocannon.Request[]);
          client.on('response', (status: number, _bytes: number, ms: number) =>
            rec.add(status, ms),
          );
        },
      },
      (err: unknown, res: autocannon.Result) => (err ? reject(err as Error) : resolve(res)),
    );
    // Request buffers are built before the first request: not part of the measurement.
    run.on('start', () => {
      rec.start();
      loop.enable();
    });
  });
  loop.disable();
  rec.errors = result.errors;
  return { ...rec.result(), generatorStallMs: loop.max / 1e6 };
}
