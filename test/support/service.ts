// Starts the real service in-process against the real Redis, under a key prefix of its own.
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readConfig, type AdminToken, type Config } from '../../src/config';
import { createLogger } from '../../src/logger';
import { buildService } from '../../src/main';
import { createKeys, type Keys } from '../../src/store/keys';
import type { RedisClient } from '../../src/store/redis-client';
import type { FullService as Service } from '../../src/main';
import { sleep } from './http';
import { commandSync, startMosquitto, testPrefix, type MosquittoProcess } from './processes';
import { cleanTestPrefix, TEST_REDIS_URL, testRedisClient, testRedisEnv } from './topology';

export { TEST_REDIS_URL };
export const ADMIN = { name: 'test-admin', token: 'test-admin-token-0123456789' };
/** The management API's Authorization header for ADMIN. */
export const ADMIN_AUTH = { Authorization: `Bearer ${ADMIN.token}` };

export interface TestService {
  service: Service;
  port: number;
  config: Config;
  /**
   * A client of the test Redis and the service's key layout, for writing behind the service's
   * back (damaged records) and reading what is stored. The service hands out no client.
   */
  raw(): { redis: RedisClient; keys: Keys };
  stop(): Promise<void>;
}

/** Log lines a service wrote, as parsed JSON objects (pass `logs.stream` as the logger's). */
export function captureLog(): {
  lines: Record<string, unknown>[];
  text(): string;
  stream: { write(s: string): void };
} {
  const raw: string[] = [];
  return {
    get lines() {
      return raw.map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    text: () => raw.join(''),
    stream: { write: (s: string) => void raw.push(s) },
  };
}

export async function startTestService(
  name: string,
  env: Record<string, string> = {},
  opts: { log?: { write(s: string): void }; adminTokens?: AdminToken[] } = {},
): Promise<TestService> {
  const config = readConfig({
    PORT: '0',
    ...(env.REDIS_URL || env.REDIS_SENTINELS || env.REDIS_CLUSTER_NODES ? {} : testRedisEnv()),
    REDIS_KEY_PREFIX: testPrefix(name),
    PASSWD_ITERATIONS: '101',
    LOG_LEVEL: 'silent',
    AUTH_FAIL_LIMIT: '1000', // suites that test lockouts set their own
    ...env,
  });
  const service = await buildService(config, {
    logger: createLogger(opts.log ? 'info' : config.LOG_LEVEL, opts.log),
    adminTokens: opts.adminTokens ?? [ADMIN],
  });
  const { port } = await service.start();
  await service.ctx.health.ready(5000).catch(() => undefined);
  await waitFeed(service);
  let raw: { redis: RedisClient; keys: Keys } | undefined;
  return {
    service,
    port,
    config,
    raw: () => (raw ??= { redis: testRedisClient(), keys: createKeys(config.REDIS_KEY_PREFIX) }),
    async stop() {
      raw?.redis.disconnect();
      await service.stop();
      if (!env.REDIS_URL && !env.REDIS_SENTINELS && !env.REDIS_CLUSTER_NODES) {
        await cleanTestPrefix(config.REDIS_KEY_PREFIX);
      }
    },
  };
}

/** Waits until the change feed is subscribed (the cache answers only from then on). */
export async function waitFeed(service: Service, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!service.ctx.feed.isUp && Date.now() < until) await sleep(10);
}

/** mosquitto.conf lines of a broker reading the files exported into `dir`. */
export const fallbackConfig = (dir: string): string =>
  [
    `password_file ${join(dir, 'passwd')}`,
    `acl_file ${join(dir, 'acl')}`,
    'allow_anonymous false',
  ].join('\n');

export interface FallbackSetup {
  dir: string;
  t: TestService;
  broker: MosquittoProcess;
  stop(): Promise<void>;
}

/**
 * The service exporting passwd and acl files into a fresh directory and a real mosquitto
 * reading them, reloaded by SIGHUP after each export (pidfile), as in fallback mode.
 */
export async function startFallbackSetup(
  name: string,
  env: Record<string, string> = {},
): Promise<FallbackSetup> {
  const uid = commandSync('id', ['-u', 'mosquitto']).stdout.trim();
  const gid = commandSync('id', ['-g', 'mosquitto']).stdout.trim();
  const dir = await mkdtemp(join(tmpdir(), `authd-${name}-`));
  await chmod(dir, 0o755);
  const t = await startTestService(name, {
    PASSWD_FILE: join(dir, 'passwd'),
    ACL_FILE: join(dir, 'acl'),
    EXPORT_OWNER: `${uid}:${gid}`, // the broker drops to `mosquitto` before reading the files
    EXPORT_DEBOUNCE_MS: '20',
    EXPORT_MAX_DELAY_MS: '200',
    MOSQUITTO_RELOAD: `pidfile:${join(dir, 'mosquitto.pid')}`,
    ...env,
  });
  await t.service.exporter.run(true);
  const broker = await startMosquitto({
    dir,
    dropPrivileges: true,
    config: fallbackConfig(dir),
  });
  await writeFile(join(dir, 'mosquitto.pid'), String(broker.pid)); // pid_file is only written by -d
  return {
    dir,
    t,
    broker,
    async stop() {
      await broker.stop();
      await t.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
