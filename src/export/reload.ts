// Tells the fallback broker to re-read its passwd and acl files (MOSQUITTO_RELOAD), and says
// what that did. Mosquitto 2.1 QUITS when it refuses a reloaded file (2.0 logged and went on),
// so after a SIGHUP the exporter watches the pid (watchPid) before it calls the reload good.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { reloadFailed } from '../errors';

export type ReloadOutcome =
  /** SIGHUP sent to `pid`: whether it survives is for watchPid to say. */
  | { kind: 'signalled'; pid: number; message: string }
  /** The reload command exited 0 (its exit status is all we learn). */
  | { kind: 'ran'; message: string }
  /** No broker runs at the pid file (not started yet, or gone): it reads the files when it starts. */
  | { kind: 'no-broker'; message: string };

export interface Reloader {
  /** Throws reloadFailed when it could not tell the broker (bad pid file, failing command). */
  reload(): Promise<ReloadOutcome>;
  /** pidfile mode: the pid the file names, when that process runs; else null. */
  runningPid?(): Promise<number | null>;
}

/** `none`, `pidfile:PATH` (SIGHUP to the pid in PATH) or `command:CMD` (run by /bin/sh). */
export function createReloader(spec: string): Reloader | null {
  if (spec === 'none') return null;
  if (spec.startsWith('pidfile:')) return pidFileReloader(spec.slice('pidfile:'.length));
  const command = spec.slice('command:'.length);
  return {
    reload: () =>
      new Promise((resolve, reject) => {
        execFile('/bin/sh', ['-c', command], { timeout: 10_000 }, (err, _out, stderr) => {
          if (!err) return resolve({ kind: 'ran', message: 'reload command ran (exit 0)' });
          const why = `reload command failed: ${err.message} ${stderr.trim()}`.trim();
          reject(reloadFailed(why));
        });
      }),
  };
}

function pidFileReloader(path: string): Reloader {
  const readPid = async (): Promise<number | null> => {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw reloadFailed(`cannot read ${path}: ${(err as Error).message}`);
    }
    const pid = Number(text.trim());
    if (!Number.isInteger(pid) || pid <= 1) throw reloadFailed(`${path} does not hold a pid`);
    return pid;
  };
  return {
    async reload() {
      const pid = await readPid();
      if (pid === null) return { kind: 'no-broker', message: `${path} does not exist` };
      try {
        process.kill(pid, 'SIGHUP');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ESRCH')
          return { kind: 'no-broker', message: `pid ${pid} in ${path} is not running` };
        throw reloadFailed(`cannot signal pid ${pid} from ${path}: ${code ?? String(err)}`);
      }
      return { kind: 'signalled', pid, message: `SIGHUP sent to pid ${pid}` };
    },
    async runningPid() {
      const pid = await readPid().catch(() => null);
      return pid !== null && isRunning(pid) ? pid : null;
    },
  };
}

/** Whether `pid` is a live process (a zombie, dead but not yet reaped, counts as gone). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, not ours to signal
  }
  try {
    // /proc/PID/stat: "PID (comm) STATE …"; comm may hold spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no procfs: kill(0) is all we know
  }
}

/**
 * Polls `pid` for `windowMs`: the ms after which it was gone, or null if it still ran at the
 * end. A broker that refuses the reloaded files quits as soon as it has read them.
 */
export async function watchPid(
  pid: number,
  windowMs: number,
  everyMs = 50,
): Promise<number | null> {
  const start = Date.now();
  for (;;) {
    if (!isRunning(pid)) return Date.now() - start;
    if (Date.now() - start >= windowMs) return null;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
