// The ceiling: the same requests against a server that does nothing but answer. Its peak
// figures are taken once; it stays up so each paced run of mqtt-authd can be repeated
// against it at the same rate with the same requests.
import path from 'node:path';
import type { CheckRequest } from './bodies';
import { peakLoad } from './cannon';
import { measured, type MeasureContext } from './measured';
import type { PacedResult } from './paced-load';
import { freePort, spawnNode, waitForHttp, type Child } from './processes';
import { pacedRun, peakRun } from './runs';
import type { Settings } from './settings';
import type { RunResult } from './stats';
import { buildWorkload, type WorkloadId, type WorkloadShape } from './workloads';

export type PeakId = Exclude<WorkloadId, 'user-cold'>;
export const PEAK_IDS: readonly PeakId[] = ['acl-json', 'acl-form', 'user-warm', 'superuser'];

export interface Ceiling {
  peak: Record<PeakId, RunResult>;
  /** A paced run at `rate` with the requests `build` makes, as mqtt-authd just had. */
  pacedAt(
    what: string,
    rate: number,
    build: (attempt: number) => CheckRequest[],
  ): Promise<PacedResult>;
  stop(): Promise<void>;
}

export async function startCeiling(
  settings: Settings,
  shape: WorkloadShape,
  ctx: Omit<MeasureContext, 'serverPid'>,
): Promise<Ceiling> {
  const port = await freePort();
  const child: Child = spawnNode('ceiling', [path.join(__dirname, 'ceiling-server.js')], {
    PORT: String(port),
  });
  const url = `http://127.0.0.1:${port}`;
  const opts = { connections: settings.connections, seconds: settings.seconds };
  const m: MeasureContext = { ...ctx, serverPid: child.process.pid ?? 0 };
  try {
    await waitForHttp(child, `${url}/`);
    // Warm-up (JIT, connections), not measured.
    await peakLoad(url, buildWorkload('acl-json', shape, 9), { ...opts, seconds: 2 });
    const peak = {} as Record<PeakId, RunResult>;
    for (const id of PEAK_IDS) {
      const build = (attempt: number) => buildWorkload(id, shape, attempt * 100);
      peak[id] = await measured(`ceiling ${id}`, [200], m, peakRun(url, opts, build));
    }
    return {
      peak,
      pacedAt: (what, rate, build) =>
        measured(`ceiling ${what} at ${rate}/s`, [200], m, pacedRun(url, { ...opts, rate }, build)),
      stop: () => child.stop(),
    };
  } catch (err) {
    await child.stop();
    throw err;
  }
}
