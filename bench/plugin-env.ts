// Small helpers shared by the single-purpose plugin benches (plugin-kick, plugin-shutdown).
import { readFile } from 'node:fs/promises';

/** An integer ≥ 1 from the environment, or `fallback`; anything else stops the bench, named. */
export function envInt(name: string, fallback: number): number {
  const n = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`${name}=${process.env[name]}: an integer ≥ 1`);
  return n;
}

/** CPU seconds (user + system) a process has used so far: /proc/<pid>/stat, 100 ticks/s. */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
