// Every store on Redis, built from config: the clients (checks, bulk, subscriber), the
// credential stores on them, the change feed, lockout counters, audit streams, idempotency
// records and the health view. The only place that creates Redis clients for the service; the
// app context gets stores.
import type { Config } from '../config';
import type { Logger } from '../logger';
import { ChangeFeed } from './change-feed';
import type { CredentialStore } from './credential-store';
import { RedisAuditStore, type AuditStore } from './audit-store';
import { RedisIdempotencyStore, type IdempotencyStore } from './idempotency-store';
import { createKeys } from './keys';
import { LockFeed } from './lock-feed';
import { RedisLockoutStore, type LockoutStore } from './lockout-store';
import { RedisPresenceStore } from './presence-redis';
import type { PresenceStore } from './presence-store';
import { legacyLayoutPresent, migrateStore } from './migrate-store';
import { COMMON, describeDamage, type Damage } from './records';
import {
  closeClient,
  createRedisClient,
  createSubscriberClient,
  describeRedis,
  primaryStatus,
  topologyOf,
  waitReady,
  type RedisClient,
} from './redis-client';
import { RedisCredentialStore } from './redis-credential-store';
import type { StoreHealth } from './store-health';

export interface Stores {
  /** Reads and writes of the checks and the API: the short command timeout. */
  credentials: CredentialStore;
  /** Exports, imports and migrations: a 30 s command timeout. */
  bulkCredentials: CredentialStore;
  feed: ChangeFeed;
  lockouts: LockoutStore;
  /** Lockouts starting and ending, from every process. */
  lockFeed: LockFeed;
  health: StoreHealth;
  audit: AuditStore;
  idempotency: IdempotencyStore;
  /** Sessions the brokers report (issue 27). */
  presence: PresenceStore;
  close(): Promise<void>;
}

export function createRedisStores(
  config: Config,
  logger: Logger,
  opts: { changeFeed?: boolean } = {},
): Stores {
  const keys = createKeys(config.REDIS_KEY_PREFIX);
  const redisLog = logger.child({ name: 'authd:redis' });
  const client = (name: string, commandTimeoutMs?: number, lazyConnect?: boolean) => ({
    settings: config,
    name,
    commandTimeoutMs,
    logger: redisLog,
    lazyConnect,
  });
  const redis = createRedisClient(client('main', Math.max(config.CHECK_TIMEOUT_MS, 1000)));
  const redisBulk = createRedisClient(client('bulk', 30000));
  // A one-shot CLI command has no cache to invalidate: its subscriber never connects.
  const redisSub = createSubscriberClient(client('events', undefined, opts.changeFeed === false));
  const redisLocks = createSubscriberClient(client('locks', undefined, opts.changeFeed === false));
  // A write's WAIT holds its connection: concurrent writes each take one more writer.
  let writers = 0;
  const durability = {
    minReplicasAck: config.REDIS_MIN_REPLICAS_ACK,
    waitTimeoutMs: config.REDIS_WAIT_TIMEOUT_MS,
    connect: () => createRedisClient(client(`writer-${++writers}`, 30000)),
    // A write refused by a cluster that is moving slots is sent again, within the deadline.
    retryForMs: Math.max(0, config.MANAGEMENT_TIMEOUT_MS - config.REDIS_WAIT_TIMEOUT_MS - 500),
  };
  const onDamaged = damageLogger(logger.child({ name: 'authd:store' }));
  // Reads on `reader` (checks: the short timeout; exports: the bulk one); writes through the
  // script writer (bulk first, then a pool for concurrent WAITs), never queued behind checks.
  const credentialStore = (reader: RedisClient) =>
    new RedisCredentialStore(
      reader,
      keys,
      config.COMMON_ACL_DEFAULT,
      onDamaged,
      durability,
      redisBulk,
      config.AUDIT_MAX_ENTRIES,
    );
  const credentials = credentialStore(redis);
  const bulkCredentials = credentialStore(redisBulk);
  const lockouts = new RedisLockoutStore(redis, keys, {
    limit: config.AUTH_FAIL_LIMIT,
    windowS: config.AUTH_FAIL_WINDOW_S,
    lockS: config.AUTH_LOCK_S,
  });
  const lockFeed = new LockFeed(redis, redisLocks, keys.locks, redisLog);
  const feed = new ChangeFeed(redisSub, keys.events, redisLog, config.REDIS_FEED_PING_MS);
  const health: StoreHealth = {
    where: describeRedis(config),
    ready: async (ms) => {
      await Promise.all([waitReady(redis, ms), waitReady(redisBulk, ms)]);
    },
    primaries: () =>
      primaryStatus(redis).catch(() => ({ topology: topologyOf(redis), primaries: [] })),
    legacyLayout: () => legacyLayoutPresent(redis, keys),
    migrate: (progress) => migrateStore(redisBulk, keys, bulkCredentials, progress),
  };
  return {
    credentials,
    bulkCredentials,
    feed,
    lockouts,
    lockFeed,
    health,
    audit: new RedisAuditStore(redis, keys, config.AUDIT_MAX_ENTRIES),
    idempotency: new RedisIdempotencyStore(redis, keys),
    presence: new RedisPresenceStore(redis, keys.presence, keys.events),
    async close() {
      feed.close();
      await Promise.all([credentials.close(), bulkCredentials.close()]);
      await Promise.all([redis, redisBulk, redisSub, redisLocks].map(closeClient));
    },
  };
}

/** One error line per read of a record that does not decode (a cache miss, an export). */
const damageLogger = (log: Logger) => (target: string, damage: readonly Damage[]) =>
  log.error(
    { username: target, fields: damage.map((d) => d.field) },
    target === COMMON
      ? `stored common rules do not decode (${describeDamage(damage)}); they grant nothing`
      : `stored record of ${JSON.stringify(target)} does not decode (${describeDamage(damage)}); it is denied everything`,
  );
