// A full garbage collection on demand, between runs. The load generator lives in this
// process and each workload's request sets (100k+ objects and buffers) become garbage after
// its run; left alone, a mark-compact of that heap lands inside a later run and stalls the
// generator for tens of ms, which then shows up as the server's p99. `npm run bench` runs
// plain `node`, hence the flag is set at run time and `gc` taken from a fresh context.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

export function collectGarbage(): void {
  gc();
}
