// One place builds everything from config: Redis clients, store, caches, services. Tests
// build the same context with their own config (own key prefix, own Redis).
import { readAdminTokens, type AdminToken, type Config } from './config';
import { CheckService } from './checks/check-service';
import { LockoutList } from './checks/lockout-list';
import { LoginThrottle } from './checks/login-throttle';
import { UserCache } from './checks/user-cache';
import { DeviceService } from './devices/device-service';
import { createLogger, type Logger } from './logger';
import { createMetrics, type Metrics } from './ops/metrics';
import { ChangeFeed } from './store/change-feed';
import type { CredentialStore } from './store/credential-store';
import { createKeys, type Keys } from './store/keys';
import { RedisLockoutStore } from './store/lockout-store';
import {
  closeClient,
  createRedisClient,
  createSubscriberClient,
  type RedisClient,
} from './store/redis-client';
import { RedisCredentialStore } from './store/redis-credential-store';
import { HashWork } from './domain/hash-work';
import { COMMON, describeDamage } from './store/records';

export interface AppContext {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  keys: Keys;
  redis: RedisClient;
  /** Longer timeouts, for exports, imports, and writes with their WAIT for the replicas. */
  redisBulk: RedisClient;
  store: CredentialStore;
  bulkStore: CredentialStore;
  feed: ChangeFeed;
  cache: UserCache;
  checks: CheckService;
  throttle: LoginThrottle;
  lockouts: LockoutList;
  devices: DeviceService;
  adminTokens: AdminToken[];
  close(): Promise<void>;
}

export interface ContextOverrides {
  logger?: Logger;
  adminTokens?: AdminToken[];
}

/** Upgrade at login, as the `system` actor; counted, and never fails the login it follows. */
function rehasher(devices: DeviceService, metrics: Metrics, log: Logger) {
  const system = devices.as('system');
  return (username: string, verified: string, password: string) =>
    system.upgradeHash(username, verified, password).then(
      (result) => {
        metrics.rehashes.labels(result).inc();
        if (result === 'changed') log.info({ username }, 'hash changed during login; not upgraded');
      },
      (err: unknown) => {
        metrics.rehashes.labels('error').inc();
        log.error({ username, err: (err as Error).name }, 'upgrading the hash to $7$ failed');
      },
    );
}

export function createContext(config: Config, overrides: ContextOverrides = {}): AppContext {
  const logger = overrides.logger ?? createLogger(config.LOG_LEVEL);
  const metrics = createMetrics();
  const keys = createKeys(config.REDIS_KEY_PREFIX);
  const redisLog = logger.child({ name: 'authd:redis' });
  const opts = (name: string, commandTimeoutMs?: number) => ({
    settings: config,
    name,
    commandTimeoutMs,
    logger: redisLog,
  });
  const redis = createRedisClient(opts('main', Math.max(config.CHECK_TIMEOUT_MS, 1000)));
  const redisBulk = createRedisClient(opts('bulk', 30000));
  const redisSub = createSubscriberClient(opts('events'));
  const durability = {
    minReplicasAck: config.REDIS_MIN_REPLICAS_ACK,
    waitTimeoutMs: config.REDIS_WAIT_TIMEOUT_MS,
  };
  const storeLog = logger.child({ name: 'authd:store' });
  // One error line per read of a record that does not decode (a cache miss, an export).
  const onDamaged = (target: string, damage: readonly { field: string; reason: string }[]) =>
    storeLog.error(
      { username: target, fields: damage.map((d) => d.field) },
      target === COMMON
        ? `stored common rules do not decode (${describeDamage(damage)}); they grant nothing`
        : `stored record of ${JSON.stringify(target)} does not decode (${describeDamage(damage)}); it is denied everything`,
    );
  const store = new RedisCredentialStore(
    redis,
    keys,
    config.COMMON_ACL_DEFAULT,
    onDamaged,
    durability,
    redisBulk,
  );
  const bulkStore = new RedisCredentialStore(
    redisBulk,
    keys,
    config.COMMON_ACL_DEFAULT,
    onDamaged,
    durability,
  );
  const feed = new ChangeFeed(redisSub, keys.events, redisLog);
  const [hit, miss] = [metrics.cacheLookups.labels('hit'), metrics.cacheLookups.labels('miss')];
  const cache = new UserCache(
    store,
    {
      ttlMs: config.CACHE_TTL_MS,
      maxUsers: config.CACHE_MAX_USERS,
      onLookup: (isHit) => (isHit ? hit : miss).inc(),
      serveStaleMs: config.CACHE_SERVE_STALE_MS,
    },
    feed,
  );
  const base = {
    config,
    logger,
    metrics,
    keys,
    redis,
    redisBulk,
    store,
    bulkStore,
    feed,
    cache,
    adminTokens: overrides.adminTokens ?? readAdminTokens(),
  };
  const limits = {
    limit: config.AUTH_FAIL_LIMIT,
    windowS: config.AUTH_FAIL_WINDOW_S,
    lockS: config.AUTH_LOCK_S,
  };
  const lockoutStore = new RedisLockoutStore(redis, keys, limits);
  const throttle = new LoginThrottle(lockoutStore, limits);
  const lockouts = new LockoutList(lockoutStore, throttle);
  throttle.on('lockout', (kind) => metrics.lockouts.labels(kind).inc());
  const devices = new DeviceService(store, {
    iterations: config.PASSWD_ITERATIONS,
    saltBytes: config.PASSWD_SALT_BYTES,
  });
  const checkLog = logger.child({ name: 'authd:checks' });
  const checks = new CheckService({
    cache,
    load: (username) => cache.load(username),
    hashing: new HashWork({
      maxIterations: config.PASSWD_MAX_ITERATIONS,
      padTo: config.PASSWD_ITERATIONS,
    }),
    timeoutMs: config.CHECK_TIMEOUT_MS,
    logger: checkLog,
    throttle,
    onThrottled: () => metrics.throttled.inc(),
    stale: (username) => {
      const entry = cache.stale(username);
      if (entry) metrics.staleAnswers.inc();
      return entry;
    },
    legacy: {
      upgrade: config.PASSWD_REHASH === 'on' ? rehasher(devices, metrics, checkLog) : undefined,
    },
  });
  return {
    ...base,
    checks,
    throttle,
    lockouts,
    devices,
    async close() {
      await Promise.all([redis, redisBulk, redisSub].map(closeClient));
    },
  };
}
