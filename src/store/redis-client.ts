// The one place a Redis client is made, for each topology (standalone, Sentinel, Cluster):
// timeouts, retry strategy, and always an `error` listener (an ioredis client without one
// crashes the process on the first refused connect). Failover is Redis' own (Sentinel or
// Cluster) as ioredis follows it; we add no failover logic of our own.
import Redis, { Cluster, type ClusterOptions, type RedisOptions } from 'ioredis';
import { parseHostList, type Config, type Topology } from '../config';
import type { Logger } from '../logger';
import { redactUrlValue } from '../redact';

/** A client of any topology: the commands, pipelines and scripts we use exist on both. */
export type RedisClient = Redis | Cluster;

export type RedisSettings = Pick<
  Config,
  | 'REDIS_TOPOLOGY'
  | 'REDIS_URL'
  | 'REDIS_SENTINELS'
  | 'REDIS_SENTINEL_NAME'
  | 'REDIS_SENTINEL_PASSWORD'
  | 'REDIS_CLUSTER_NODES'
  | 'REDIS_USERNAME'
  | 'REDIS_PASSWORD'
  | 'REDIS_DB'
>;

export interface RedisClientOptions {
  settings: RedisSettings;
  name: string;
  commandTimeoutMs?: number;
  logger: Logger;
  /** Connect at the first command instead of now (a CLI run that never listens to changes). */
  lazyConnect?: boolean;
}

/** Where the client points, for log lines and errors (never a password). */
export function describeRedis(s: RedisSettings): string {
  if (s.REDIS_TOPOLOGY === 'sentinel')
    return `Sentinel ${s.REDIS_SENTINELS} (master "${s.REDIS_SENTINEL_NAME}")`;
  if (s.REDIS_TOPOLOGY === 'cluster') return `Cluster ${s.REDIS_CLUSTER_NODES}`;
  return redactUrlValue(s.REDIS_URL);
}

/**
 * A replica that was a primary answers writes with READONLY; a node still loading its data
 * answers LOADING. Both mean "reconnect and find the primary" (Sentinel asks the sentinels
 * again); the command itself fails, which the store turns into a 503.
 */
const reconnectOnError = (err: Error) => /^(READONLY|LOADING|MASTERDOWN)/.test(err.message);

function nodeOptions(opts: RedisClientOptions): RedisOptions {
  const s = opts.settings;
  return {
    connectionName: `mqtt-authd:${opts.name}`,
    // Fail fast while disconnected: a broker check must answer 5xx now, not queue.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 2000,
    commandTimeout: opts.commandTimeoutMs,
    // Short steps: after a failover the new primary is there within a second or two.
    retryStrategy: (times) => Math.min(50 * times, 500),
    reconnectOnError,
    // A connection given up (a demoted primary, READONLY) is half-closed first; the default
    // waits 2 s for the server's side before destroying it, and reconnects only then.
    disconnectTimeout: 200,
    lazyConnect: opts.lazyConnect ?? false,
    ...(s.REDIS_USERNAME !== undefined && { username: s.REDIS_USERNAME }),
    ...(s.REDIS_PASSWORD !== undefined && { password: s.REDIS_PASSWORD }),
    ...(s.REDIS_DB !== undefined && { db: s.REDIS_DB }),
  };
}

function build(opts: RedisClientOptions): RedisClient {
  const s = opts.settings;
  const options = nodeOptions(opts);
  if (s.REDIS_TOPOLOGY === 'sentinel') {
    return new Redis({
      ...options,
      sentinels: parseHostList(s.REDIS_SENTINELS ?? ''),
      name: s.REDIS_SENTINEL_NAME,
      role: 'master',
      ...(s.REDIS_SENTINEL_PASSWORD !== undefined && {
        sentinelPassword: s.REDIS_SENTINEL_PASSWORD,
      }),
      // No `failoverDetector`: in ioredis 5.11 its disconnect on +switch-master, arriving while
      // the client reconnects after its primary died, ends the client ("end") or leaves it on
      // a half-closed stream for seconds (both seen in test/store/sentinel-failover.test.ts).
      // A demoted primary is left on READONLY instead (reconnectOnError).
      sentinelRetryStrategy: (times) => Math.min(100 * times, 1000),
    });
  }
  if (s.REDIS_TOPOLOGY === 'cluster') {
    const { retryStrategy: _r, enableOfflineQueue: _q, lazyConnect: _l, ...redisOptions } = options;
    const clusterOptions: ClusterOptions = {
      redisOptions,
      enableOfflineQueue: false,
      enableReadyCheck: true,
      scaleReads: 'master', // checks never read from a replica that may lag
      maxRedirections: 16, // MOVED/ASK are followed by ioredis
      retryDelayOnFailover: 100,
      retryDelayOnClusterDown: 100,
      retryDelayOnTryAgain: 100,
      slotsRefreshTimeout: 1000,
      clusterRetryStrategy: (times) => Math.min(100 * times, 2000),
    };
    return new Cluster(parseHostList(s.REDIS_CLUSTER_NODES ?? ''), clusterOptions);
  }
  return new Redis(s.REDIS_URL, options);
}

export function createRedisClient(opts: RedisClientOptions): RedisClient {
  return watch(build(opts), opts);
}

/** One log line per outage and one when it ends; the listener also keeps ioredis from throwing. */
function watch<C extends RedisClient>(client: C, opts: RedisClientOptions): C {
  const where = describeRedis(opts.settings);
  let down = false;
  client.on('error', (err: NodeJS.ErrnoException) => {
    if (down) return; // one line per outage, not one per retry
    down = true;
    opts.logger.error(
      { client: opts.name, code: err.code },
      `Redis at ${where} is unreachable (${err.code ?? err.message}); retrying. ` +
        'Start one (e.g. `redis-server --port 6379`) or set REDIS_URL ' +
        '(or REDIS_SENTINELS / REDIS_CLUSTER_NODES).',
    );
  });
  client.on('ready', () => {
    if (down) opts.logger.info({ client: opts.name }, `Redis at ${where} is reachable again`);
    down = false;
  });
  return client;
}

/** Quits (or, when that fails, drops) the connection for good. */
export async function closeClient(client: RedisClient): Promise<void> {
  // QUIT on a client that is not connected (never used, or still connecting) would connect it
  // or fail with "Stream isn't writeable"; there is nothing to flush, so just drop it.
  if (client.status === 'ready') await client.quit().catch(() => undefined);
  client.disconnect();
}

/**
 * The connection that listens to the change events. Standalone and Sentinel: a client like the
 * others (Sentinel follows the primary). Cluster: classic PUBLISH reaches every node, so one
 * plain connection to any node hears all changes; when it drops it moves on to the next seed
 * node, and the feed sees the drop (ioredis' own cluster subscriber switches nodes silently,
 * and a cache must know when it may have missed an invalidation).
 */
export function createSubscriberClient(opts: RedisClientOptions): Redis {
  const client = subscriberClient(opts);
  // The feeds subscribe again themselves on every 'ready' (and catch up from the log). ioredis'
  // own resubscribe would race them, and on a connection that drops again at once it rejects
  // with nobody listening: an unhandled rejection, which ends a Node process.
  client.options.autoResubscribe = false;
  return client;
}

function subscriberClient(opts: RedisClientOptions): Redis {
  const s = opts.settings;
  if (s.REDIS_TOPOLOGY !== 'cluster') return createRedisClient(opts) as Redis;
  const nodes = parseHostList(s.REDIS_CLUSTER_NODES ?? '');
  let at = 0;
  const options: RedisOptions = {
    ...nodeOptions(opts),
    ...nodes[0],
    db: 0,
    retryStrategy: (times) => {
      at = (at + 1) % nodes.length;
      // ioredis reads host and port again at each connect: rotate through the seed nodes.
      Object.assign(client.options, nodes[at]);
      return Math.min(50 * times, 500);
    },
  };
  const client: Redis = new Redis(options);
  return watch(client, opts);
}

export function topologyOf(client: RedisClient): Topology {
  if (client instanceof Cluster) return 'cluster';
  return client.options.sentinels ? 'sentinel' : 'standalone';
}

/** Resolves when the client is ready, or rejects after `timeoutMs`. */
export function waitReady(client: RedisClient, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      reject(new Error(`Redis not ready after ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    client.once('ready', onReady);
  });
}

export interface PrimaryStatus {
  topology: Topology;
  /** host:port of each primary the client writes to; empty while none is known. */
  primaries: string[];
}

/**
 * Which primaries the client talks to right now. Standalone and Sentinel: the node the client
 * is connected to, if ROLE says it is a primary (a demoted primary is not). Cluster: the
 * primaries that serve slots and are not marked failing, once the cluster state is ok.
 */
export async function primaryStatus(client: RedisClient): Promise<PrimaryStatus> {
  const topology = topologyOf(client);
  if (client instanceof Cluster) {
    const [info, nodes] = await Promise.all([
      client.cluster('INFO') as Promise<string>,
      client.cluster('NODES') as Promise<string>,
    ]);
    if (!/cluster_state:ok/.test(info)) return { topology, primaries: [] };
    const primaries = nodes
      .split('\n')
      .map((l) => l.split(' '))
      .filter((f) => f[2]?.split(',').includes('master') && !/fail/.test(f[2]) && f.length > 8)
      .map((f) => (f[1] ?? '').split('@')[0] ?? '')
      .sort();
    return { topology, primaries };
  }
  const role = (await client.role()) as [string, ...unknown[]];
  const s = client.stream;
  const at = s?.remoteAddress ? `${s.remoteAddress}:${s.remotePort}` : null;
  return { topology, primaries: role[0] === 'master' && at ? [at] : [] };
}
