// Node processes of ours: the built service (`node dist/src/cli.js serve`) and scripts.
import { existsSync } from 'node:fs';
import { send } from '../http';
import { CLI, startProcess, type Proc } from './core';
import { onFreePort } from './ports';

export interface ServiceProcess extends Proc {
  port: number;
  url: string;
  env: Record<string, string>;
}

export interface StartServiceOptions {
  /** Service environment (REDIS_URL, REDIS_KEY_PREFIX, …). PORT is chosen if absent. */
  env: Record<string, string>;
  /** node flags before the script (`--cpu-prof`). */
  nodeArgs?: string[];
  /** Ready when this path answers 200 (default /healthz). */
  readyPath?: string;
  readyTimeoutMs?: number;
}

/** A node script with only the environment it is given (no jest or npm variables leak in). */
export function startNode(args: string[], env: Record<string, string>): Proc {
  return startProcess(process.execPath, args, {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env },
  });
}

/** `node dist/src/cli.js serve` (needs `npm run build`, which npm test/stress/bench run). */
export async function startService(opts: StartServiceOptions): Promise<ServiceProcess> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
  const fixed = opts.env.PORT ? Number(opts.env.PORT) : undefined;
  const { port, proc } = await onFreePort(
    'mqtt-authd',
    fixed,
    (p) =>
      startNode([...(opts.nodeArgs ?? []), CLI, 'serve'], {
        LOG_LEVEL: 'warn',
        ...opts.env,
        PORT: String(p),
      }),
    async (p) =>
      (await send(p, opts.readyPath ?? '/healthz', { method: 'GET', timeoutMs: 500 })).status ===
      200,
    opts.readyTimeoutMs ?? 15_000,
  );
  return { ...proc, pid: proc.pid, port, url: `http://127.0.0.1:${port}`, env: opts.env };
}
