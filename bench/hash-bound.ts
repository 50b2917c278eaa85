// What cold logins can reach at best: each one costs a PBKDF2-SHA512 at PASSWD_ITERATIONS,
// which runs on the libuv pool, so no more than (cores ÷ hash time) per second.
import { cpus } from 'node:os';
import { hashPassword, verifyPassword } from '../src/domain/passwd-hash';

export interface HashBound {
  iterations: number;
  /**
   * CPU time of one verifyPassword() in this process, in ms (a sequential series: CPU time,
   * not wall time, so other processes on the machine do not inflate it).
   */
  hashMs: number;
  cores: number;
  /** cores ÷ hash time, per second. */
  perSecond: number;
}

export async function measureHashBound(iterations: number, forMs = 1000): Promise<HashBound> {
  const stored = await hashPassword('bench-password', { iterations, saltBytes: 12 });
  for (let i = 0; i < 20; i++) await verifyPassword('bench-password', stored);
  let n = 0;
  const started = performance.now();
  const cpu = process.cpuUsage();
  while (performance.now() - started < forMs) {
    await verifyPassword('bench-password', stored);
    n++;
  }
  const used = process.cpuUsage(cpu);
  const hashMs = (used.user + used.system) / 1000 / n;
  const cores = cpus().length;
  return { iterations, hashMs, cores, perSecond: (cores * 1000) / hashMs };
}
