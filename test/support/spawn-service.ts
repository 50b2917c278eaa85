// The service as a real child process (`node dist/src/cli.js serve`): what crash, outage and
// multi-replica tests need, since an in-process service can be neither SIGKILLed nor run three
// times. Needs `npm run build` (which `npm test` and `npm run stress` do first). Every child
// started here is SIGKILLed when the test process exits, whatever happened.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { captureLogs, freePort } from './processes';

/** The repository root, whether this file runs from test/ (jest) or dist/test/ (stress). */
function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${__dirname}`);
    dir = up;
  }
  return dir;
}

export const CLI = path.join(repoRoot(), 'dist', 'src', 'cli.js');

const live = new Set<ChildProcess>();
let hooked = false;
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  const killAll = () => {
    for (const c of live) c.kill('SIGKILL');
    live.clear();
  };
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      killAll();
      process.kill(process.pid, sig);
    });
  }
}

export interface SpawnOptions {
  /** Service environment (REDIS_URL, REDIS_KEY_PREFIX, PASSWD_FILE, …). PORT is chosen if absent. */
  env: Record<string, string>;
  /** How long to wait for /healthz. */
  readyTimeoutMs?: number;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnedService {
  port: number;
  url: string;
  pid: number;
  env: Record<string, string>;
  logs(): string;
  isRunning(): boolean;
  /** Resolves when the process has exited (never rejects). */
  exited: Promise<Exit>;
  /** Sends `signal` (default SIGKILL) and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<Exit>;
  /** SIGTERM (a graceful stop), SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<Exit>;
}

/** GET `path` on 127.0.0.1:port; the status, or 0 when nothing answered within `timeoutMs`. */
export function httpStatus(port: number, urlPath: string, timeoutMs = 1000): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.setTimeout(timeoutMs, () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function launch(env: Record<string, string>, port: number) {
  hookExit();
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
  const child = spawn(process.execPath, [CLI, 'serve'], {
    // Only what the service needs: no jest or npm variables leaking into its config.
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      LOG_LEVEL: 'warn',
      ...env,
      PORT: String(port),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const { logs, append } = captureLogs(child);
  live.add(child);
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    });
    child.once('error', (err) => {
      append(Buffer.from(`spawn failed: ${err.message}\n`));
      live.delete(child);
      resolve({ code: null, signal: null });
    });
  });
  return { child, exited, logs };
}

export async function spawnService(opts: SpawnOptions): Promise<SpawnedService> {
  const readyTimeoutMs = opts.readyTimeoutMs ?? 15000;
  for (let attempt = 1; ; attempt++) {
    const port = opts.env.PORT ? Number(opts.env.PORT) : await freePort();
    const p = launch(opts.env, port);
    const running = () => p.child.exitCode === null && p.child.signalCode === null;
    const until = Date.now() + readyTimeoutMs;
    let ready = false;
    while (running() && Date.now() < until) {
      if ((await httpStatus(port, '/healthz', 500)) === 200) {
        ready = true;
        break;
      }
      await sleep(15);
    }
    if (!ready) {
      const exitedEarly = !running();
      if (!exitedEarly) {
        p.child.kill('SIGKILL');
        await p.exited;
      }
      // freePort() races with other workers: another port, unless the caller chose one.
      if (exitedEarly && p.logs().includes('EADDRINUSE') && !opts.env.PORT && attempt < 3) {
        continue;
      }
      throw new Error(
        `mqtt-authd ${exitedEarly ? 'exited' : `not healthy after ${readyTimeoutMs} ms`}:\n${p.logs()}`,
      );
    }
    const kill = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<Exit> => {
      if (running()) p.child.kill(signal);
      return p.exited;
    };
    return {
      port,
      url: `http://127.0.0.1:${port}`,
      pid: p.child.pid as number,
      env: opts.env,
      logs: p.logs,
      isRunning: running,
      exited: p.exited,
      kill,
      async stop(graceMs = 5000) {
        if (!running()) return p.exited;
        const timer = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
        p.child.kill('SIGTERM');
        const exit = await p.exited;
        clearTimeout(timer);
        return exit;
      },
    };
  }
}
