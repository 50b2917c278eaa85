// Tells the fallback broker to re-read its passwd and acl files (MOSQUITTO_RELOAD).
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';

export type Reloader = () => Promise<string>;

/** `none`, `pidfile:PATH` (SIGHUP to the pid in PATH) or `command:CMD` (run by /bin/sh). */
export function createReloader(spec: string): Reloader | null {
  if (spec === 'none') return null;
  if (spec.startsWith('pidfile:')) {
    const path = spec.slice('pidfile:'.length);
    return async () => {
      const text = await readFile(path, 'utf8');
      const pid = Number(text.trim());
      if (!Number.isInteger(pid) || pid <= 1) throw new Error(`${path} does not hold a pid`);
      process.kill(pid, 'SIGHUP');
      return `SIGHUP sent to pid ${pid}`;
    };
  }
  const command = spec.slice('command:'.length);
  return () =>
    new Promise((resolve, reject) => {
      execFile('/bin/sh', ['-c', command], { timeout: 10_000 }, (err, _out, stderr) => {
        if (err) reject(new Error(`reload command failed: ${err.message} ${stderr.trim()}`.trim()));
        else resolve('reload command ran');
      });
    });
}
