// How much CPU went to processes that are not part of the measurement (other test runs on a
// shared machine): all busy time (/proc/stat, steal included) minus that of our own processes
// (this one, the server under test, redis-server). Linux only; elsewhere it reports nothing.
import { readFileSync } from 'node:fs';

const TICKS_PER_S = 100; // USER_HZ, 100 on every mainstream Linux

function busyTicks(): number {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  const [, user, nice, system, , , irq, softirq, steal] = cpu.trim().split(/\s+/).map(Number);
  return [user, nice, system, irq, softirq, steal].reduce<number>((a, b) => a + (b ?? 0), 0);
}

function processTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0; // exited
  }
}

export interface CpuFigures {
  /** Cores' worth of CPU used by other processes meanwhile. */
  foreignCores: number;
  /** CPU seconds the server under test used meanwhile. */
  serverSeconds: number;
}

export interface CpuWatch {
  /** Since the watch started; null where /proc is not there. */
  read(): CpuFigures | null;
}

/** `serverPid`: the process under test; `helperPids`: the rest of the measurement. */
export function watchCpu(serverPid: number, helperPids: readonly number[]): CpuWatch {
  const ours = () => helperPids.reduce((a, pid) => a + processTicks(pid), 0);
  let start: { busy: number; ours: number; server: number; at: number };
  try {
    start = {
      busy: busyTicks(),
      ours: ours(),
      server: processTicks(serverPid),
      at: performance.now(),
    };
  } catch {
    return { read: () => null };
  }
  return {
    read() {
      const seconds = (performance.now() - start.at) / 1000;
      const server = processTicks(serverPid) - start.server;
      const foreign = busyTicks() - start.busy - (ours() - start.ours) - server;
      return {
        foreignCores: seconds > 0 ? Math.max(0, foreign / TICKS_PER_S / seconds) : 0,
        serverSeconds: server / TICKS_PER_S,
      };
    },
  };
}
