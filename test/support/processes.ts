// Real redis-server and mosquitto processes for integration tests: no mocks. Every process
// started here is killed by its stop(), and, as a safety net, when the test process exits.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Redis from 'ioredis';

const run = promisify(execFile);
const REDIS_SERVER = process.env.REDIS_SERVER_BIN ?? 'redis-server';
const MOSQUITTO = process.env.MOSQUITTO_BIN ?? '/usr/sbin/mosquitto';
const MOSQUITTO_PASSWD = '/usr/bin/mosquitto_passwd';
const MAX_LOG_CHARS = 1_000_000;

// ---------------------------------------------------------------------------------------------
// Process bookkeeping

const live = new Set<ChildProcess>();
let exitHooksInstalled = false;

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

function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  process.on('exit', killAllNow);
  // jest-worker ends a stuck worker with SIGTERM; without these the servers would outlive it.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      killAllNow();
      // Our listener is gone now: re-raised, the default action (exit) follows, unless the
      // program has listeners of its own, which then decide.
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    });
  }
}

interface Spawned {
  child: ChildProcess;
  logs(): string;
  exited: Promise<void>;
}

/** Collects a child's stdout and stderr (the last MiB or so); `append` adds a line of ours. */
export function captureLogs(child: ChildProcess): {
  logs: () => string;
  append: (b: Buffer) => void;
} {
  let log = '';
  const append = (chunk: Buffer) => {
    log += chunk.toString('utf8');
    if (log.length > MAX_LOG_CHARS) log = log.slice(-MAX_LOG_CHARS / 2);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  return { logs: () => log, append };
}

function spawnTracked(cmd: string, args: string[], cwd?: string): Spawned {
  installExitHooks();
  const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const { logs, append } = captureLogs(child);
  // A server a failed test forgot must not keep Jest waiting: the exit hook kills it.
  child.unref();
  for (const s of [child.stdout, child.stderr]) (s as net.Socket | null)?.unref();
  live.add(child);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      live.delete(child);
      resolve();
    });
    child.once('error', (err) => {
      append(Buffer.from(`spawn ${cmd} failed: ${err.message}\n`));
      live.delete(child);
      resolve();
    });
  });
  return { child, logs, exited };
}

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null && child.pid !== undefined;
}

/** Waits for the exit; the timer keeps a plain node script alive meanwhile (child is unref'd). */
async function waitExit(p: Spawned, killAfterMs = 5000): Promise<void> {
  const timer = setTimeout(() => p.child.kill('SIGKILL'), killAfterMs);
  try {
    await p.exited;
  } finally {
    clearTimeout(timer);
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. */
async function terminate(p: Spawned, graceMs = 3000): Promise<void> {
  if (!isRunning(p.child)) return p.exited;
  p.child.kill('SIGCONT');
  p.child.kill('SIGTERM');
  await waitExit(p, graceMs);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// Ports

/** A TCP port on 127.0.0.1 that was free a moment ago (callers retry on EADDRINUSE). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    sock.setTimeout(500);
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('timeout', () => {
      sock.destroy();
      resolve(false);
    });
    sock.once('error', () => resolve(false));
  });
}

/** Sends a raw RESP PING; true only on +PONG (a paused server answers nothing → false). */
function redisPing(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    let buf = '';
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('\r\n')) done(buf.startsWith('+PONG'));
    });
    sock.once('error', () => done(false));
  });
}

async function waitUntil(
  what: string,
  p: Spawned,
  probe: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (!isRunning(p.child)) {
      throw new Error(
        `${what} exited (code ${p.child.exitCode}) before it was ready:\n${p.logs()}`,
      );
    }
    if (await probe()) return;
    await sleep(25);
  }
  throw new Error(`${what} not ready after ${timeoutMs} ms:\n${p.logs()}`);
}

// ---------------------------------------------------------------------------------------------
// Redis

export interface RedisProcess {
  port: number;
  url: string;
  readonly pid: number | undefined;
  logs(): string;
  /** SIGTERM (then SIGKILL); idempotent. The data is gone: nothing is saved. */
  stop(): Promise<void>;
  /** Sends `signal` (default SIGKILL, a crash) and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts a fresh, empty server on the same port (stopping the old one if it still runs). */
  restart(extraArgs?: string[]): Promise<void>;
  /** SIGSTOP: connections stay open but nothing is answered, as in a hung server. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
}

export interface StartRedisOptions {
  port?: number;
  /** Extra `--name value` arguments for redis-server. */
  args?: string[];
  timeoutMs?: number;
}

export async function startRedis(opts: StartRedisOptions = {}): Promise<RedisProcess> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mqtt-authd-redis-'));
  const timeoutMs = opts.timeoutMs ?? 10000;
  let port = opts.port ?? (await freePort());
  let current: Spawned | undefined;

  const launch = async (extra: string[] = []) => {
    await mkdir(dir, { recursive: true }); // stop() removed it
    const args = [
      '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
      '--dir', dir, '--daemonize', 'no', '--logfile', '', ...(opts.args ?? []), ...extra,
    ]; // prettier-ignore
    const p = spawnTracked(REDIS_SERVER, args, dir);
    current = p;
    await waitUntil(`redis-server on port ${port}`, p, () => redisPing(port), timeoutMs);
  };

  for (let attempt = 1; ; attempt++) {
    try {
      await launch();
      break;
    } catch (err) {
      // freePort() races with other workers; pick another port unless the caller chose one.
      const inUse = current?.logs().includes('Address already in use');
      if (!inUse || opts.port !== undefined || attempt >= 3) {
        if (current) await terminate(current);
        await rm(dir, { recursive: true, force: true });
        throw err;
      }
      port = await freePort();
    }
  }

  const handle: RedisProcess = {
    get port() {
      return port;
    },
    get url() {
      return `redis://127.0.0.1:${port}`;
    },
    get pid() {
      return current?.child.pid;
    },
    logs: () => current?.logs() ?? '',
    async stop() {
      if (current) await terminate(current);
      await rm(dir, { recursive: true, force: true });
    },
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (!current || !isRunning(current.child)) return;
      current.child.kill('SIGCONT');
      current.child.kill(signal);
      await waitExit(current);
    },
    async restart(extraArgs?: string[]) {
      if (current) await terminate(current);
      await launch(extraArgs);
    },
    pause() {
      current?.child.kill('SIGSTOP');
    },
    resume() {
      current?.child.kill('SIGCONT');
    },
  };
  return handle;
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
}

export interface StartMosquittoOptions {
  /** Extra mosquitto.conf lines (password_file, acl_file, allow_anonymous, …). */
  config: string;
  /** Directory for mosquitto.conf; a fresh temp dir (removed by stop()) if omitted. */
  dir?: string;
  /**
   * Run as the `mosquitto` user, as a packaged broker does (the default keeps root; see below).
   * The temp dir is then made world-readable so that the broker can read files in it.
   */
  dropPrivileges?: boolean;
  timeoutMs?: number;
}

export async function startMosquitto(opts: StartMosquittoOptions): Promise<MosquittoProcess> {
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? (await mkdtemp(path.join(os.tmpdir(), 'mqtt-authd-mosq-')));
  const confFile = path.join(dir, 'mosquitto.conf');
  const timeoutMs = opts.timeoutMs ?? 10000;
  const asRoot = process.getuid?.() === 0;

  // Started as root, mosquitto 2.0 switches to the `mosquitto` user BEFORE it opens the
  // password file, the ACL file and its pid_file, so files in our 0700 temp dir would fail
  // with "Unable to open pwfile" (exit 13). `user root` keeps it root: fine for a test broker,
  // never for production. Not running as root, mosquitto ignores `user`, so no line is needed.
  const userLine = asRoot && !opts.dropPrivileges ? 'user root' : '';
  if (opts.dropPrivileges) await chmod(dir, 0o755);

  let port!: number;
  let p: Spawned | undefined;
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
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
    p = spawnTracked(MOSQUITTO, ['-c', confFile], dir);
    try {
      const probePort = port;
      await waitUntil(`mosquitto on port ${port}`, p, () => canConnect(probePort), timeoutMs);
      break;
    } catch (err) {
      await terminate(p);
      if (!p.logs().includes('Address already in use') || attempt >= 3) {
        if (ownDir) await rm(dir, { recursive: true, force: true });
        throw err;
      }
    }
  }
  const proc = p;

  const waitForLog = async (re: RegExp, ms = 5000, fromIndex = 0): Promise<number> => {
    const until = Date.now() + ms;
    for (;;) {
      const tail = proc.logs().slice(fromIndex);
      const m = re.exec(tail);
      if (m) return fromIndex + m.index + m[0].length;
      if (Date.now() > until) {
        throw new Error(`mosquitto log never matched ${re} within ${ms} ms:\n${proc.logs()}`);
      }
      if (!isRunning(proc.child)) throw new Error(`mosquitto exited:\n${proc.logs()}`);
      await sleep(10);
    }
  };

  return {
    port,
    pid: proc.child.pid as number,
    dir,
    confFile,
    logs: proc.logs,
    waitForLog,
    async reload() {
      const from = proc.logs().length;
      proc.child.kill('SIGHUP');
      await waitForLog(/Reloading config\./, 5000, from);
    },
    isRunning: () => isRunning(proc.child),
    async stop() {
      await terminate(proc);
      if (ownDir) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** `mosquitto_passwd -b` (with -c when the file does not exist yet). */
export async function mosquittoPasswd(file: string, user: string, pass: string): Promise<void> {
  const args = existsSync(file) ? ['-b', file, user, pass] : ['-c', '-b', file, user, pass];
  await run(MOSQUITTO_PASSWD, args);
}

// ---------------------------------------------------------------------------------------------
// Redis key prefixes

/**
 * `test:<name>:<random>:`: a key prefix of one's own in a shared Redis. Kept within the
 * service's REDIS_KEY_PREFIX rules (≤ 64 characters, no whitespace or braces).
 */
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
// Redis Sentinel and Redis Cluster, from the same redis-server binary

/** A free port ≤ 55535: a cluster node's bus listens on port + 10000. */
async function lowFreePort(): Promise<number> {
  for (;;) {
    const p = await freePort();
    if (p <= 55535) return p;
  }
}

async function redisCommand(port: number, ...args: (string | number)[]): Promise<unknown> {
  const r = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0 });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return await r.call(String(args[0]), ...args.slice(1).map(String));
  } finally {
    r.disconnect();
  }
}

export interface SentinelProcess {
  port: number;
  logs(): string;
  stop(): Promise<void>;
}

/** `redis-server <conf> --sentinel` with `conf` (a real file: sentinels rewrite it). */
export async function startSentinel(conf: string, port?: number): Promise<SentinelProcess> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mqtt-authd-sentinel-'));
  const p0 = port ?? (await freePort());
  const file = path.join(dir, 'sentinel.conf');
  await writeFile(file, `port ${p0}\nbind 127.0.0.1\ndir ${dir}\n${conf}\n`);
  const p = spawnTracked(REDIS_SERVER, [file, '--sentinel'], dir);
  await waitUntil(`sentinel on port ${p0}`, p, () => redisPing(p0), 10000);
  return {
    port: p0,
    logs: p.logs,
    async stop() {
      await terminate(p);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface SentinelSet {
  name: string;
  primary: RedisProcess;
  replica: RedisProcess;
  sentinels: SentinelProcess[];
  /** REDIS_SENTINELS for the service. */
  sentinelList: string;
  /** The port the sentinels currently name as primary. */
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
  ].join('\n');
  const sentinels = await Promise.all([0, 1, 2].map(() => startSentinel(conf)));
  const set: SentinelSet = {
    name,
    primary,
    replica,
    sentinels,
    sentinelList: sentinels.map((s) => `127.0.0.1:${s.port}`).join(','),
    async currentPrimaryPort() {
      for (const s of sentinels) {
        const addr = await redisCommand(s.port, 'SENTINEL', 'get-master-addr-by-name', name).catch(
          () => null,
        );
        if (Array.isArray(addr)) return Number(addr[1]);
      }
      throw new Error('no sentinel answers');
    },
    async agreedPrimaryPort() {
      const ports = await Promise.all(
        sentinels.map((s) =>
          redisCommand(s.port, 'SENTINEL', 'get-master-addr-by-name', name).then(
            (a) => (Array.isArray(a) ? Number(a[1]) : null),
            () => null,
          ),
        ),
      );
      return ports.every((p) => p === ports[0]) ? (ports[0] ?? null) : null;
    },
    async stop() {
      await Promise.all([...sentinels.map((s) => s.stop()), primary.stop(), replica.stop()]);
    },
  };
  // Until the replica is in sync and every sentinel knows it, a failover has nowhere to go.
  const until = Date.now() + 15000;
  for (;;) {
    const info = String(await redisCommand(replica.port, 'INFO', 'replication').catch(() => ''));
    const known = await Promise.all(
      sentinels.map((s) =>
        redisCommand(s.port, 'SENTINEL', 'replicas', name).then(
          (r) => Array.isArray(r) && r.length > 0,
          () => false,
        ),
      ),
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
  /** Ports of the nodes that are primaries serving slots right now. */
  primaryPorts(): Promise<number[]>;
  /** Resolves once every live node reports cluster_state:ok. */
  waitOk(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** 3 primaries + 3 replicas on loopback (`redis-cli --cluster create … --cluster-replicas 1`). */
export async function startCluster(): Promise<ClusterNodes> {
  const args = (port: number) => [
    '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`,
    '--cluster-node-timeout', '1000', '--cluster-replica-validity-factor', '0',
  ]; // prettier-ignore
  const nodes: RedisProcess[] = [];
  for (let i = 0; i < 6; i++) {
    const port = await lowFreePort();
    nodes.push(await startRedis({ port, args: args(port) }));
  }
  await run('redis-cli', [
    '--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`),
    '--cluster-replicas', '1', '--cluster-yes',
  ]); // prettier-ignore
  const live = async () => {
    const up = await Promise.all(nodes.map((n) => redisPing(n.port)));
    return nodes.filter((_, i) => up[i]);
  };
  const handle: ClusterNodes = {
    nodes,
    seedList: nodes.map((n) => `127.0.0.1:${n.port}`).join(','),
    async primaryPorts() {
      const out: number[] = [];
      for (const n of await live()) {
        const role = (await redisCommand(n.port, 'ROLE').catch(() => null)) as unknown[] | null;
        if (role?.[0] === 'master') out.push(n.port);
      }
      return out.sort();
    },
    async waitOk(timeoutMs = 20000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const infos = await Promise.all(
          (await live()).map((n) => redisCommand(n.port, 'CLUSTER', 'INFO').catch(() => '')),
        );
        if (infos.length > 0 && infos.every((i) => /cluster_state:ok/.test(String(i)))) return;
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
  const until = Date.now() + 20000;
  for (const n of nodes.slice(3)) {
    while (
      !/master_link_status:up/.test(String(await redisCommand(n.port, 'INFO', 'replication')))
    ) {
      if (Date.now() > until) throw new Error(`replica ${n.port} not in sync after 20 s`);
      await sleep(50);
    }
  }
  return handle;
}
