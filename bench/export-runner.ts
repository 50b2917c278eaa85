// Child process: one export exactly as `mqtt-authd export` runs it (src/cli/commands.ts
// exportOnce, i.e. createExporter from src/main.ts), then prints its wall time and the peak
// RSS of the whole process as one JSON line. Config comes from the environment.
import { readFileSync } from 'node:fs';
import { exportOnce } from '../src/cli/commands';
import { readConfig } from '../src/config';
import { createContext } from '../src/context';

export interface ExportFigures {
  ms: number;
  users: number;
  maxRssKiB: number;
}

/**
 * VmHWM: the peak RSS of this process image. Not resourceUsage().maxRSS: Linux carries
 * ru_maxrss across execve, so a child would report its parent's peak at fork time.
 */
function peakRssKiB(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]);
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS;
}

export async function exportAndMeasure(): Promise<ExportFigures> {
  const ctx = createContext(readConfig(), { adminTokens: [] });
  try {
    await ctx.health.ready(5000);
    const started = performance.now();
    const status = await exportOnce(ctx);
    return {
      ms: performance.now() - started,
      users: status.users ?? 0,
      maxRssKiB: peakRssKiB(),
    };
  } finally {
    await ctx.close();
  }
}

if (require.main === module) {
  exportAndMeasure().then(
    (figures) => process.stdout.write(`${JSON.stringify(figures)}\n`),
    (err: unknown) => {
      process.stderr.write(`export failed: ${(err as Error).message}\n`);
      process.exitCode = 1;
    },
  );
}
