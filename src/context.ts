// One place builds everything from config: Redis clients, store, caches, services. Tests
// build the same context with their own config (own key prefix, own Redis).
import type Redis from 'ioredis';
import { readAdminTokens, type AdminToken, type Config } from './config';
import { CheckService } from './checks/check-service';
import { LoginThrottle } from './checks/throttle';
import { UserCache } from './checks/user-cache';
import { DeviceService } from './devices/device-service';
import { createLogger, type Logger } from './logger';
import { createMetrics, type Metrics } from './ops/metrics';
import { ChangeFeed } from './store/change-feed';
import type { CredentialStore } from './store/credential-store';
import { createKeys, type Keys } from './store/keys';
import { createRedisClient } from './store/redis-client';
import { RedisCredentialStore } from './store/redis-credential-store';
import { HashWork } from './domain/hash-work';
import { COMMON, describeDamage } from './store/records';

export interface AppContext {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  keys: Keys;
  redis: Redis;
  /** Longer timeouts, for exports and imports that move many records. */
  redisBulk: Redis;
  store: CredentialStore;
  bulkStore: CredentialStore;
  feed: ChangeFeed;
  cache: UserCache;
  checks: CheckService;
  throttle: LoginThrottle;
  devices: DeviceService;
  adminTokens: AdminToken[];
  close(): Promise<void>;
}

export interface ContextOverrides {
  logger?: Logger;
  adminTokens?: AdminToken[];
}

export function createContext(config: Config, overrides: ContextOverrides = {}): AppContext {
  const logger = overrides.logger ?? createLogger(config.LOG_LEVEL);
  const metrics = createMetrics();
  const keys = createKeys(config.REDIS_KEY_PREFIX);
  const redisLog = logger.child({ name: 'authd:redis' });
  const client = (name: string, commandTimeoutMs?: number) =>
    createRedisClient({ url: config.REDIS_URL, name, commandTimeoutMs, logger: redisLog });
  const redis = client('main', Math.max(config.CHECK_TIMEOUT_MS, 1000));
  const redisBulk = client('bulk', 30000);
  const redisSub = client('events');
  const storeLog = logger.child({ name: 'authd:store' });
  // One error line per read of a record that does not decode (a cache miss, an export).
  const onDamaged = (target: string, damage: readonly { field: string; reason: string }[]) =>
    storeLog.error(
      { username: target, fields: damage.map((d) => d.field) },
      target === COMMON
        ? `stored common rules do not decode (${describeDamage(damage)}); they grant nothing`
        : `stored record of ${JSON.stringify(target)} does not decode (${describeDamage(damage)}); it is denied everything`,
    );
  const store = new RedisCredentialStore(redis, keys, config.COMMON_ACL_DEFAULT, onDamaged);
  const bulkStore = new RedisCredentialStore(redisBulk, keys, config.COMMON_ACL_DEFAULT, onDamaged);
  const feed = new ChangeFeed(redisSub, keys.events, redisLog);
  const [hit, miss] = [metrics.cacheLookups.labels('hit'), metrics.cacheLookups.labels('miss')];
  const cache = new UserCache(
    store,
    {
      ttlMs: config.CACHE_TTL_MS,
      maxUsers: config.CACHE_MAX_USERS,
      onLookup: (isHit) => (isHit ? hit : miss).inc(),
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
  const throttle = new LoginThrottle(
    redis,
    keys.rateLimit,
    {
      limit: config.AUTH_FAIL_LIMIT,
      windowS: config.AUTH_FAIL_WINDOW_S,
      lockS: config.AUTH_LOCK_S,
    },
    keys.lockouts,
  );
  throttle.on('lockout', (kind) => metrics.lockouts.labels(kind).inc());
  const checks = new CheckService(
    cache,
    (username) => cache.load(username),
    new HashWork({ maxIterations: config.PASSWD_MAX_ITERATIONS, padTo: config.PASSWD_ITERATIONS }),
    config.CHECK_TIMEOUT_MS,
    logger.child({ name: 'authd:checks' }),
    throttle,
    () => metrics.throttled.inc(),
  );
  const devices = new DeviceService(store, {
    iterations: config.PASSWD_ITERATIONS,
    saltBytes: config.PASSWD_SALT_BYTES,
  });
  return {
    ...base,
    checks,
    throttle,
    devices,
    async close() {
      await Promise.allSettled([redis.quit(), redisBulk.quit(), redisSub.quit()]);
      for (const c of [redis, redisBulk, redisSub]) c.disconnect();
    },
  };
}
