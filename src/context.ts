// One place builds everything from config: the stores, caches, services. Tests build the
// same context with their own config (own key prefix, own Redis) and may replace any part
// (atproto's `AppContext.fromConfig(cfg, overrides)`).
import { readAdminTokens, type AdminToken, type Config } from './config';
import { CheckService } from './checks/check-service';
import { LockoutList } from './checks/lockout-list';
import { LoginThrottle } from './checks/login-throttle';
import { UserCache } from './checks/user-cache';
import { DeviceService } from './devices/device-service';
import { HashWork } from './domain/hash-work';
import { createLogger, type Logger } from './logger';
import { createMetrics, type Metrics } from './ops/metrics';
import { registerPresenceMetrics } from './ops/presence-metrics';
import type { ChangeFeed } from './store/change-feed';
import type { CredentialStore } from './store/credential-store';
import type { AuditStore } from './store/audit-store';
import type { IdempotencyStore } from './store/idempotency-store';
import type { LockFeed } from './store/lock-feed';
import type { LockoutStore } from './store/lockout-store';
import type { PresenceStore } from './store/presence-store';
import { createRedisStores } from './store/redis-stores';
import type { StoreHealth } from './store/store-health';

export interface AppContext {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  /** Reads and writes of the checks and the API (short command timeout). */
  store: CredentialStore;
  /** Exports, imports, migrations (30 s command timeout). */
  bulkStore: CredentialStore;
  feed: ChangeFeed;
  lockoutStore: LockoutStore;
  /** Lockouts starting and ending, from every service process (the streams' `lock` events). */
  lockFeed: LockFeed;
  health: StoreHealth;
  /** The audit trail's streams (changes outside the credential store, and every read). */
  auditStore: AuditStore;
  /** Idempotency-Key records (the API's header, the CLI's --idempotency-key). */
  idempotency: IdempotencyStore;
  /** Sessions the brokers report (POST /mqtt/sessions; issue 27). */
  presence: PresenceStore;
  cache: UserCache;
  checks: CheckService;
  throttle: LoginThrottle;
  lockouts: LockoutList;
  devices: DeviceService;
  adminTokens: AdminToken[];
  close(): Promise<void>;
}

/** Any part a test (or another entry point) builds itself; the rest is built from config. */
export type ContextOverrides = Partial<Omit<AppContext, 'config' | 'close'>> & {
  /** false: no change-feed connection (a one-shot CLI command has no cache to invalidate). */
  changeFeed?: boolean;
};

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
        log.error({ username, err }, 'upgrading the hash to $7$ failed');
      },
    );
}

export function createContext(config: Config, overrides: ContextOverrides = {}): AppContext {
  const o = overrides;
  const logger = o.logger ?? createLogger(config.LOG_LEVEL);
  const metrics = o.metrics ?? createMetrics();
  const stores = createRedisStores(config, logger, { changeFeed: o.changeFeed });
  const store = o.store ?? stores.credentials;
  const feed = o.feed ?? stores.feed;
  const lockoutStore = o.lockoutStore ?? stores.lockouts;
  const presence = o.presence ?? stores.presence;
  if (!metrics.registry.getSingleMetric('mqtt_authd_broker_sessions')) {
    const log = logger.child({ name: 'authd:presence' });
    registerPresenceMetrics(metrics, () => presence.states(Date.now()), log);
  }
  const [hit, miss] = [metrics.cacheLookups.labels('hit'), metrics.cacheLookups.labels('miss')];
  const cache =
    o.cache ??
    new UserCache(
      store,
      {
        ttlMs: config.CACHE_TTL_MS,
        maxUsers: config.CACHE_MAX_USERS,
        onLookup: (isHit) => (isHit ? hit : miss).inc(),
        serveStaleMs: config.CACHE_SERVE_STALE_MS,
      },
      feed,
    );
  const limits = {
    limit: config.AUTH_FAIL_LIMIT,
    windowS: config.AUTH_FAIL_WINDOW_S,
    lockS: config.AUTH_LOCK_S,
  };
  const throttle = o.throttle ?? new LoginThrottle(lockoutStore, limits);
  throttle.on('lockout', (kind) => metrics.lockouts.labels(kind).inc());
  const lockFeed = o.lockFeed ?? stores.lockFeed;
  const lockMs = config.AUTH_LOCK_S * 1000;
  throttle.on('lockout', (kind, name) => void lockFeed.publish({ kind, name, ms: lockMs }));
  throttle.on('cleared', (kind, name) => void lockFeed.publish({ kind, name, ms: 0 }));
  const devices =
    o.devices ??
    new DeviceService(store, {
      iterations: config.PASSWD_ITERATIONS,
      saltBytes: config.PASSWD_SALT_BYTES,
    });
  const checkLog = logger.child({ name: 'authd:checks' });
  const checks =
    o.checks ??
    new CheckService({
      cache,
      load: (username) => cache.load(username),
      hashing: new HashWork({
        maxIterations: config.PASSWD_MAX_ITERATIONS,
        padTo: config.PASSWD_ITERATIONS,
        slowLaneWidth: config.PASSWD_SLOW_LANE_WIDTH,
        slowLaneMaxWaitMs: config.PASSWD_SLOW_LANE_MAX_WAIT_MS,
        slowLaneQueue: config.PASSWD_SLOW_LANE_QUEUE,
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
    config,
    logger,
    metrics,
    store,
    bulkStore: o.bulkStore ?? stores.bulkCredentials,
    feed,
    lockoutStore,
    lockFeed,
    health: o.health ?? stores.health,
    auditStore: o.auditStore ?? stores.audit,
    idempotency: o.idempotency ?? stores.idempotency,
    presence,
    cache,
    checks,
    throttle,
    lockouts: o.lockouts ?? new LockoutList(lockoutStore, throttle),
    devices,
    adminTokens: o.adminTokens ?? readAdminTokens(),
    close: () => stores.close(),
  };
}
