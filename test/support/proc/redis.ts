// redis-server (and redis-sentinel) on a free port, ready when it answers PING.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runCommand, startProcess, type CommandResult, type Proc } from './core';
import { onFreePort, redisPing } from './ports';

const REDIS_SERVER = process.env.REDIS_SERVER_BIN ?? 'redis-server';

export interface RedisProcess {
  readonly port: number;
  readonly url: string;
  /** Its working directory (--dir): the conf file, AOF, nodes.conf live here. */
  readonly dir: string;
  readonly pid: number;
  logs(): string;
  /** SIGTERM (then SIGKILL) and removes `dir`; idempotent. */
  stop(): Promise<void>;
  /** Sends `signal` (default SIGKILL, a crash) and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /**
   * Starts it again on the same port and dir (empty unless it persisted: --appendonly yes),
   * with `extraArgs` after its own (e.g. `--replicaof`, so it never answers as an empty primary).
   */
  restart(extraArgs?: string[]): Promise<void>;
  pause(): void;
  resume(): void;
  /** `redis-cli -p <port> ...args`. */
  cli(...args: string[]): Promise<CommandResult>;
}

export interface StartRedisOptions {
  port?: number;
  /** `--name value` arguments, after the defaults (so they override them). */
  args?: string[];
  /** redis.conf contents, written to <dir>/redis.conf and passed as the first argument. */
  conf?: string;
  /** Run as a Sentinel (`redis-server redis.conf --sentinel`; needs `conf`). */
  sentinel?: boolean;
  timeoutMs?: number;
}

export async function startRedis(opts: StartRedisOptions = {}): Promise<RedisProcess> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mqtt-authd-redis-'));
  const confFile = path.join(dir, 'redis.conf');
  let current: Proc | undefined;
  let extra: string[] = [];
  const launch = async (port: number) => {
    await mkdir(dir, { recursive: true });
    if (opts.conf !== undefined && !existsSync(confFile)) await writeFile(confFile, opts.conf);
    const args = [
      ...(opts.conf !== undefined ? [confFile] : []),
      '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
      '--dir', dir, '--daemonize', 'no', '--logfile', '',
      ...(opts.args ?? []), ...extra, ...(opts.sentinel ? ['--sentinel'] : []),
    ]; // prettier-ignore
    current = startProcess(REDIS_SERVER, args, { cwd: dir });
    return current;
  };
  const timeoutMs = opts.timeoutMs ?? 10_000;
  let port: number;
  try {
    ({ port } = await onFreePort('redis-server', opts.port, launch, redisPing, timeoutMs));
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const proc = () => current as Proc;
  return {
    get port() {
      return port;
    },
    get url() {
      return `redis://127.0.0.1:${port}`;
    },
    dir,
    get pid() {
      return proc().pid;
    },
    logs: () => proc().logs(),
    async stop() {
      await proc().stop(3000);
      await rm(dir, { recursive: true, force: true });
    },
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      await proc().kill(signal);
    },
    async restart(extraArgs: string[] = []) {
      await proc().stop(3000);
      extra = extraArgs;
      await onFreePort('redis-server', port, launch, redisPing, timeoutMs);
    },
    pause: () => proc().pause(),
    resume: () => proc().resume(),
    cli: (...args) => runCommand('redis-cli', ['-p', String(port), ...args]),
  };
}
