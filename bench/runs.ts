// The two kinds of measured run, as `measured()` takes them: requests are built (and any
// precondition set up) in prepare, outside the timed part.
import type { CheckRequest } from './bodies';
import { peakLoad, type PeakOptions } from './cannon';
import type { Measurement } from './measured';
import { pacedLoad, type PacedOptions, type PacedResult } from './paced-load';
import type { RunResult } from './stats';

type Before = () => Promise<void>;

export const peakRun = (
  url: string,
  opts: PeakOptions,
  build: (attempt: number) => CheckRequest[][],
  before?: Before,
): Measurement<CheckRequest[][], RunResult> => ({
  async prepare(attempt) {
    await before?.();
    return build(attempt);
  },
  run: (sets) => peakLoad(url, sets, opts),
});

export const pacedRun = (
  url: string,
  opts: PacedOptions,
  build: (attempt: number) => CheckRequest[],
  before?: Before,
): Measurement<CheckRequest[], PacedResult> => ({
  async prepare(attempt) {
    await before?.();
    return build(attempt);
  },
  run: (requests) => pacedLoad(url, requests, opts),
});
