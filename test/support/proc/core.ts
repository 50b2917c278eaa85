// The spawn core: the only importer of node:child_process among the tests. Every process
// started here is tracked: stop() ends it, and whatever is still alive when this process
// exits or gets SIGINT/SIGTERM/SIGHUP is SIGCONTed and SIGKILLed (one exit hook for all).
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import type net from 'node:net';
import path from 'node:path';

const MAX_LOG_CHARS = 1_000_000;

/** The repository root, whether this file runs from test/ (jest) or dist/test/ (bench). */
export const ROOT = (() => {
  let dir = __dirname;
  while (!existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
})();
export const CLI = path.join(ROOT, 'dist', 'src', 'cli.js');

const live = new Set<ChildProcess>();
let hooked = false;

function killAllNow(): void {
  for (const child of live) {
    try {
      child.kill('SIGCONT'); // a paused process would otherwise never see the kill
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', killAllNow);
  // jest-worker ends a stuck worker with SIGTERM; without these the servers would outlive it.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      killAllNow();
      // Re-raised, the default action (exit) follows, unless the program has listeners.
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    });
  }
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Proc {
  readonly pid: number;
  /** stdout and stderr so far (the last MiB or so). */
  logs(): string;
  isRunning(): boolean;
  /** Resolves when the process has exited (never rejects). */
  exited: Promise<Exit>;
  /** Sends `signal` (default SIGKILL, a crash) and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<Exit>;
  /** SIGTERM, SIGKILL after `graceMs`; resolves once it has exited. Idempotent. */
  stop(graceMs?: number): Promise<Exit>;
  /** SIGSTOP: connections stay open, nothing is answered (a hung process). */
  pause(): void;
  resume(): void;
  /** Any other signal (SIGHUP for a reload). */
  signal(sig: NodeJS.Signals): void;
  /** Writes to its stdin (started with `stdin: true`; typing into a terminal program). */
  input(data: string): void;
}

export function startProcess(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; stdin?: boolean } = {},
): Proc {
  hookExit();
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: opts.env,
    stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const append = (chunk: Buffer | string) => {
    log += chunk.toString();
    if (log.length > MAX_LOG_CHARS) log = log.slice(-MAX_LOG_CHARS / 2);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  // A server a failed test forgot must not keep Jest waiting: the exit hook kills it.
  child.unref();
  for (const s of [child.stdout, child.stderr]) (s as unknown as net.Socket).unref();
  live.add(child);
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    });
    child.once('error', (err) => {
      append(`spawn ${cmd} failed: ${err.message}\n`);
      live.delete(child);
      resolve({ code: null, signal: null });
    });
  });
  const isRunning = () =>
    child.exitCode === null && child.signalCode === null && child.pid !== undefined;
  const waitExit = async (killAfterMs: number) => {
    // The timer also keeps a plain node script alive meanwhile (the child is unref'd).
    const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    try {
      return await exited;
    } finally {
      clearTimeout(timer);
    }
  };
  const signal = (sig: NodeJS.Signals) => {
    if (isRunning()) child.kill(sig);
  };
  return {
    get pid() {
      return child.pid ?? 0;
    },
    logs: () => log,
    isRunning,
    exited,
    async kill(sig = 'SIGKILL') {
      signal('SIGCONT');
      signal(sig);
      return waitExit(5000);
    },
    async stop(graceMs = 5000) {
      if (!isRunning()) return exited;
      signal('SIGCONT');
      signal('SIGTERM');
      return waitExit(graceMs);
    },
    pause: () => signal('SIGSTOP'),
    resume: () => signal('SIGCONT'),
    signal,
    input: (data) => void child.stdin?.write(data),
  };
}

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end; never rejects on a non-zero exit (the code says it). */
export function runCommand(
  cmd: string,
  args: string[],
  opts: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = execFile(
      cmd,
      args,
      { env: opts.env, cwd: opts.cwd, timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
        resolve({ code, stdout, stderr: stderr || (err && code === null ? err.message : '') });
      },
    );
    child.stdin?.on('error', () => undefined); // EPIPE: it exited without reading stdin
    child.stdin?.end(opts.input ?? '');
  });
}

/** Synchronous, for decisions at module load (is docker-compose installed? the uid of a user). */
export function commandSync(cmd: string, args: string[], input?: string): CommandResult {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input });
  return { code: r.error ? null : r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}
