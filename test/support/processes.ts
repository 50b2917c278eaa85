// The one module that starts processes for tests, hostile scenarios and benchmarks (the only
// importer of node:child_process outside src/). Real parts, no mocks. Every process started
// here is tracked: stop() ends it, and whatever is still alive when this process exits or
// gets SIGINT/SIGTERM/SIGHUP is SIGCONTed and SIGKILLed (one exit hook for all).
//
// API
//   startProcess(cmd, args, { cwd, env, stdin })   any long-running child → Proc
//   runCommand(cmd, args, { input, env })   a one-shot command → { code, stdout, stderr }
//   commandSync(cmd, args)                  the same, synchronously (module-level probes)
//   startRedis({ args, conf, sentinel, port, timeoutMs })
//       redis-server on a free port (≤ 55535, so a cluster bus port +10000 fits), ready when
//       it answers PING. `conf` is written to <dir>/redis.conf and passed first (a sentinel
//       rewrites it); `args` are `--name value` pairs (`--replicaof 127.0.0.1 6380`,
//       `--cluster-enabled yes`, `--appendonly yes`); `sentinel: true` adds `--sentinel`.
//       → RedisProcess: port, url, dir, pid, logs, stop, kill(sig), restart, pause (SIGSTOP),
//       resume (SIGCONT), cli(...args) (redis-cli against it).
//   startMosquitto({ config, dir, dropPrivileges, wrapper }) → MosquittoProcess (reload = SIGHUP;
//       `wrapper`: run under valgrind)
//   mosquittoPasswd(file, user, password)
//   startService({ env, nodeArgs, readyPath }) the built service (`node dist/src/cli.js serve`)
//   startNode([flags, script, args], env)   a node script of ours (bench children)
//   freePort(), testPrefix(name), cleanPrefix(url, prefix)
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import { send, sleep } from './http';

const REDIS_SERVER = process.env.REDIS_SERVER_BIN ?? 'redis-server';
const MOSQUITTO = process.env.MOSQUITTO_BIN ?? '/usr/sbin/mosquitto';
const MAX_LOG_CHARS = 1_000_000;

/** The repository root, whether this file runs from test/ (jest) or dist/test/ (bench). */
export const ROOT = (() => {
  let dir = __dirname;
  while (!existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
})();
export const CLI = path.join(ROOT, 'dist', 'src', 'cli.js');

// ---------------------------------------------------------------------------------------------
// Tracked processes and the exit hook

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

/** Polls `probe` until true; throws with the logs if the process exits or time runs out. */
async function waitReady(what: string, p: Proc, probe: () => Promise<boolean>, ms: number) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (!p.isRunning()) {
      throw new Error(
        `${what} exited (${JSON.stringify(await p.exited)}) before it was ready:\n${p.logs()}`,
      );
    }
    if (await probe()) return;
    await sleep(25);
  }
  throw new Error(`${what} not ready after ${ms} ms:\n${p.logs()}`);
}

/**
 * Starts what `launch(port)` makes on a free port, ready when `probe(port)` says so; another
 * port when the chosen one was taken meanwhile (freePort races with other jest workers).
 */
async function onFreePort<T extends Proc>(
  what: string,
  fixed: number | undefined,
  launch: (port: number) => Promise<T> | T,
  probe: (port: number) => Promise<boolean>,
  ms: number,
): Promise<{ port: number; proc: T }> {
  for (let attempt = 1; ; attempt++) {
    const port = fixed ?? (await freePort());
    const proc = await launch(port);
    try {
      await waitReady(`${what} on port ${port}`, proc, () => probe(port), ms);
      return { port, proc };
    } catch (err) {
      await proc.kill();
      if (
        fixed !== undefined ||
        attempt >= 3 ||
        !/Address already in use|EADDRINUSE/.test(proc.logs())
      )
        throw err;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Ports, probes, prefixes

/** A TCP port on 127.0.0.1, free a moment ago, ≤ 55535 (a cluster bus port is port+10000). */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = net.createServer();
      srv.unref();
      srv.once('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const { port: p } = srv.address() as net.AddressInfo;
        srv.close(() => resolve(p));
      });
    });
    if (port <= 55535) return port;
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(500, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

/** A raw RESP PING; true only on +PONG (a paused server answers nothing → false). */
function redisPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    let buf = '';
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(500, () => done(false));
    sock.once('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('\r\n')) done(buf.startsWith('+PONG'));
    });
    sock.once('error', () => done(false));
  });
}

/** `test:<name>:<random>:`, within REDIS_KEY_PREFIX rules (≤ 64 characters, no braces). */
export function testPrefix(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 40);
  return `test:${safe}:${randomBytes(6).toString('hex')}:`;
}

/** Deletes the keys under `prefix` (SCAN + UNLINK, never KEYS); returns how many. */
export async function cleanPrefix(redisUrl: string, prefix: string): Promise<number> {
  if (!prefix) throw new Error('cleanPrefix: refusing an empty prefix');
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined); // the awaited commands report failures
  try {
    await redis.connect();
    const match = prefix.replace(/[*?[\]\\]/g, '\\$&') + '*';
    let cursor = '0';
    let deleted = 0;
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.unlink(...keys);
    } while (cursor !== '0');
    return deleted;
  } finally {
    // quit(), not disconnect(): disconnect() leaves a timer that keeps Jest from exiting.
    await redis.quit().catch(() => redis.disconnect());
  }
}

// ---------------------------------------------------------------------------------------------
// Redis

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

// ---------------------------------------------------------------------------------------------
// Mosquitto

export interface MosquittoProcess {
  port: number;
  pid: number;
  /** The directory holding mosquitto.conf (and, by convention, the test's passwd/acl files). */
  dir: string;
  confFile: string;
  /** Everything the broker logged so far (`log_type all`). */
  logs(): string;
  /** Waits until the log (from `fromIndex` on) matches `re`; returns the index after the match. */
  waitForLog(re: RegExp, timeoutMs?: number, fromIndex?: number): Promise<number>;
  /**
   * SIGHUP: re-read config, password file and ACL file. Resolves once the broker logged
   * "Reloading config."; it reloads synchronously right after that line, before it handles any
   * further packet, so a client connecting afterwards sees the new files.
   */
  reload(): Promise<void>;
  isRunning(): boolean;
  /** SIGTERM (then SIGKILL); idempotent. Removes the temp dir unless `dir` was given. */
  stop(): Promise<void>;
  /** Resolves with the exit code when it has exited (a valgrind wrapper's verdict). */
  exited: Promise<Exit>;
}

export interface StartMosquittoOptions {
  /** Extra mosquitto.conf lines (password_file, acl_file, allow_anonymous, …). */
  config: string;
  /** Directory for mosquitto.conf; a fresh temp dir (removed by stop()) if omitted. */
  dir?: string;
  /** Run as the `mosquitto` user, as a packaged broker does (the temp dir is made 0755). */
  dropPrivileges?: boolean;
  timeoutMs?: number;
  /** A command the broker runs under (`['valgrind', '--error-exitcode=99', …]`). */
  wrapper?: string[];
}

export async function startMosquitto(opts: StartMosquittoOptions): Promise<MosquittoProcess> {
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? (await mkdtemp(path.join(os.tmpdir(), 'mqtt-authd-mosq-')));
  const confFile = path.join(dir, 'mosquitto.conf');
  // Started as root, mosquitto 2.0 switches to the `mosquitto` user BEFORE it opens the
  // password file, the ACL file and its pid_file, so files in our 0700 temp dir would fail
  // with "Unable to open pwfile" (exit 13). `user root` keeps it root: fine for a test broker,
  // never for production. Not running as root, mosquitto ignores `user`.
  const userLine = process.getuid?.() === 0 && !opts.dropPrivileges ? 'user root' : '';
  if (opts.dropPrivileges) await chmod(dir, 0o755);
  const launch = async (port: number) => {
    const conf = [
      '# written by test/support/processes.ts',
      `listener ${port} 127.0.0.1`,
      // stderr, not stdout: mosquitto does not flush stdout, so into a pipe its log would
      // only arrive when it exits.
      'log_dest stderr',
      'log_type all',
      'log_timestamp false',
      'persistence false',
      userLine,
      opts.config,
      '',
    ].join('\n');
    await writeFile(confFile, conf);
    const [cmd, ...pre] = [...(opts.wrapper ?? []), MOSQUITTO, '-c', confFile];
    return startProcess(cmd as string, pre, { cwd: dir });
  };
  let started: { port: number; proc: Proc };
  try {
    started = await onFreePort(
      'mosquitto',
      undefined,
      launch,
      canConnect,
      opts.timeoutMs ?? 10_000,
    );
  } catch (err) {
    if (ownDir) await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const { port, proc } = started;
  const waitForLog = async (re: RegExp, ms = 5000, fromIndex = 0): Promise<number> => {
    const until = Date.now() + ms;
    for (;;) {
      const m = re.exec(proc.logs().slice(fromIndex));
      if (m) return fromIndex + m.index + m[0].length;
      if (Date.now() > until)
        throw new Error(`mosquitto log never matched ${re} within ${ms} ms:\n${proc.logs()}`);
      if (!proc.isRunning()) throw new Error(`mosquitto exited:\n${proc.logs()}`);
      await sleep(10);
    }
  };
  return {
    port,
    pid: proc.pid,
    dir,
    confFile,
    logs: proc.logs,
    waitForLog,
    async reload() {
      const from = proc.logs().length;
      proc.signal('SIGHUP');
      await waitForLog(/Reloading config\./, 5000, from);
    },
    isRunning: proc.isRunning,
    exited: proc.exited,
    async stop() {
      await proc.stop(opts.wrapper ? 60_000 : 3000); // valgrind's leak check takes a while
      if (ownDir) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** `mosquitto_passwd -b` (with -c when the file does not exist yet); `-H sha512` optional. */
export async function mosquittoPasswd(
  file: string,
  user: string,
  pass: string,
  hashArgs: string[] = [],
): Promise<void> {
  const create = existsSync(file) ? [] : ['-c'];
  const r = await runCommand('mosquitto_passwd', [...create, ...hashArgs, '-b', file, user, pass]);
  if (r.code !== 0) throw new Error(`mosquitto_passwd failed (${r.code}): ${r.stderr}`);
}

// ---------------------------------------------------------------------------------------------
// Node processes: the service, and scripts of ours

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

// ---------------------------------------------------------------------------------------------
// Redis Sentinel sets and Redis Clusters, from the starters above

const cliLines = async (r: RedisProcess, ...args: string[]) =>
  (await r.cli(...args)).stdout.split('\n').map((l) => l.trim());

export interface SentinelSet {
  name: string;
  primary: RedisProcess;
  replica: RedisProcess;
  sentinels: RedisProcess[];
  /** REDIS_SENTINELS for the service. */
  sentinelList: string;
  /** The port the first sentinel that answers names as primary. */
  currentPrimaryPort(): Promise<number>;
  /** The port every sentinel names as primary, or null while they disagree. */
  agreedPrimaryPort(): Promise<number | null>;
  stop(): Promise<void>;
}

/** A primary, one replica and three sentinels (quorum 2) that fail over after ~1 s. */
export async function startSentinelSet(name = 'authd'): Promise<SentinelSet> {
  const primary = await startRedis();
  const replica = await startRedis({ args: ['--replicaof', '127.0.0.1', String(primary.port)] });
  const conf = [
    `sentinel monitor ${name} 127.0.0.1 ${primary.port} 2`,
    `sentinel down-after-milliseconds ${name} 1000`,
    `sentinel failover-timeout ${name} 5000`,
    `sentinel parallel-syncs ${name} 1`,
    '',
  ].join('\n');
  const sentinels = await Promise.all([0, 1, 2].map(() => startRedis({ conf, sentinel: true })));
  const named = async (s: RedisProcess) => {
    const [, port] = await cliLines(s, 'SENTINEL', 'get-master-addr-by-name', name);
    return port ? Number(port) : null;
  };
  const set: SentinelSet = {
    name,
    primary,
    replica,
    sentinels,
    sentinelList: sentinels.map((s) => `127.0.0.1:${s.port}`).join(','),
    async currentPrimaryPort() {
      for (const s of sentinels) {
        const port = await named(s).catch(() => null);
        if (port) return port;
      }
      throw new Error('no sentinel answers');
    },
    async agreedPrimaryPort() {
      const ports = await Promise.all(sentinels.map((s) => named(s).catch(() => null)));
      return ports.every((p) => p === ports[0]) ? (ports[0] ?? null) : null;
    },
    async stop() {
      await Promise.all([...sentinels.map((s) => s.stop()), primary.stop(), replica.stop()]);
    },
  };
  // Until the replica is in sync and every sentinel knows it, a failover has nowhere to go.
  const until = Date.now() + 15_000;
  for (;;) {
    const info = (await replica.cli('INFO', 'replication')).stdout;
    const known = await Promise.all(
      sentinels.map(async (s) => (await s.cli('SENTINEL', 'replicas', name)).stdout.trim() !== ''),
    );
    if (/master_link_status:up/.test(info) && known.every(Boolean)) break;
    if (Date.now() > until) throw new Error('sentinel set did not settle in 15 s');
    await sleep(100);
  }
  return set;
}

export interface ClusterNodes {
  /** Primaries first, then replicas, as created. */
  nodes: RedisProcess[];
  /** REDIS_CLUSTER_NODES for the service. */
  seedList: string;
  /** Ports of the live nodes that are primaries right now, sorted. */
  primaryPorts(): Promise<number[]>;
  /** Resolves once every live node reports cluster_state:ok. */
  waitOk(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** 3 primaries + 3 replicas on loopback (`redis-cli --cluster create … --cluster-replicas 1`). */
export async function startCluster(): Promise<ClusterNodes> {
  const args = [
    '--cluster-enabled', 'yes', '--cluster-node-timeout', '1000',
    '--cluster-replica-validity-factor', '0',
  ]; // prettier-ignore
  const nodes = await Promise.all(Array.from({ length: 6 }, () => startRedis({ args })));
  const created = await runCommand('redis-cli', [
    '--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`),
    '--cluster-replicas', '1', '--cluster-yes',
  ]); // prettier-ignore
  if (created.code !== 0) {
    await Promise.all(nodes.map((n) => n.stop()));
    throw new Error(`redis-cli --cluster create failed:\n${created.stdout}${created.stderr}`);
  }
  const live = async () => {
    const up = await Promise.all(nodes.map((n) => redisPing(n.port)));
    return nodes.filter((_, i) => up[i]);
  };
  const handle: ClusterNodes = {
    nodes,
    seedList: nodes.map((n) => `127.0.0.1:${n.port}`).join(','),
    async primaryPorts() {
      const out: number[] = [];
      for (const n of await live())
        if ((await cliLines(n, 'ROLE'))[0] === 'master') out.push(n.port);
      return out.sort();
    },
    async waitOk(timeoutMs = 20_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const infos = await Promise.all((await live()).map((n) => n.cli('CLUSTER', 'INFO')));
        if (infos.length > 0 && infos.every((i) => /cluster_state:ok/.test(i.stdout))) return;
        if (Date.now() > until) throw new Error(`cluster not ok after ${timeoutMs} ms`);
        await sleep(100);
      }
    },
    async stop() {
      await Promise.all(nodes.map((n) => n.stop()));
    },
  };
  await handle.waitOk();
  // Writes wait for a replica (REDIS_MIN_REPLICAS_ACK): every replica in sync first.
  const until = Date.now() + 20_000;
  for (const n of nodes) {
    for (;;) {
      const info = (await n.cli('INFO', 'replication')).stdout;
      if (/role:master/.test(info) || /master_link_status:up/.test(info)) break;
      if (Date.now() > until) throw new Error(`replica ${n.port} not in sync after 20 s`);
      await sleep(50);
    }
  }
  return handle;
}
