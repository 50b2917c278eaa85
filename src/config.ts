// Reads the environment once: parse → defaults → validate → frozen object. A bad value stops
// startup with a message naming the variable and what it accepts. Secrets (admin tokens) are
// read apart, in readAdminTokens(), and never printed.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { AclRule } from './domain/acl';
import { aclRuleInput } from './domain/device-schemas';
import { redactUrlValue } from './redact';

export const RESPONSE_MODES = ['status', 'text', 'json'] as const;
export type ResponseMode = (typeof RESPONSE_MODES)[number];

/** A whole number in [min, max]; every failure names the range (not "received NaN"). */
const int = (min: number, max: number) => {
  const error = `must be a whole number from ${min} to ${max}`;
  return z.coerce.number({ error }).int({ error }).min(min, { error }).max(max, { error });
};
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

const DEFAULT_COMMON_ACL: AclRule[] = [{ pattern: 'devices/%u/#', access: 'readwrite' }];

const reloadSchema = z.string().refine((v) => /^(none|pidfile:.+|command:.+)$/.test(v), {
  message: 'must be none, pidfile:PATH or command:COMMAND',
});

const HOST_LIST = /^[^\s,:]+:\d{1,5}(,[^\s,:]+:\d{1,5})*$/;

const schema = z.object({
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: int(0, 65535).default(8080),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
    .default('redis://127.0.0.1:6379'),
  REDIS_SENTINELS: z.string().regex(HOST_LIST, 'must be host:port[,host:port…]').optional(),
  REDIS_SENTINEL_NAME: z.string().min(1).max(256).optional(),
  REDIS_SENTINEL_PASSWORD: z.string().optional(),
  REDIS_CLUSTER_NODES: z.string().regex(HOST_LIST, 'must be host:port[,host:port…]').optional(),
  REDIS_USERNAME: z.string().optional(),
  REDIS_PASSWORD: z.string().optional(),
  REDIS_DB: int(0, 1000).optional(),
  REDIS_MIN_REPLICAS_ACK: int(0, 100).optional(),
  REDIS_WAIT_TIMEOUT_MS: int(1, 60000).default(1000),
  REDIS_FEED_PING_MS: int(0, 10000).default(500),
  // The change log (src/store/change-log.ts): entries kept per bucket, exactly. A reader
  // (a plugin's stream, a service's cache) that missed more than this in one bucket resets.
  CHANGE_LOG_MAX_ENTRIES: int(10, 10000000).default(1000),
  // How often the store's marker is read: its loss (Redis restarted empty, FLUSHDB) is found
  // within this (src/store/store-marker.ts).
  STORE_WATCH_MS: int(100, 600000).default(1000),
  CACHE_SERVE_STALE_MS: int(0, 86400000).default(0),
  REDIS_KEY_PREFIX: z
    .string()
    .max(64)
    .regex(/^[^\s{}]*$/, 'must not contain whitespace or braces')
    .default('mqtt-authd:'),
  CHECK_RESPONSE_MODE: z.enum(RESPONSE_MODES).default('status'),
  CHECK_TIMEOUT_MS: int(10, 60000).default(250),
  MANAGEMENT_TIMEOUT_MS: int(100, 600000).default(5000),
  CHECK_MAX_INFLIGHT: int(1, 1000000).default(2000),
  CHECK_BODY_LIMIT_BYTES: int(256, 16 * 1024 * 1024).default(256 * 1024),
  // Slow clients (check-handler.ts, server.ts): the plugin sends a request at once.
  CHECK_HEADERS_TIMEOUT_MS: int(100, 60000).default(5000),
  CHECK_BODY_TIMEOUT_MS: int(50, 60000).default(2000),
  // GET /mqtt/events (the Mosquitto plugin's change stream): `: ping` every so often, and at
  // most so many streams at once (beyond: 503).
  EVENTS_HEARTBEAT_MS: int(100, 60000).default(2000),
  EVENTS_MAX_STREAMS: int(1, 100000).default(64),
  // The brokers' credential for /mqtt/events: hex SHA-256 of the bearer token (a comma list, to
  // rotate), never the token itself. Unset: the stream is open, with a warning at start.
  BROKER_TOKEN_SHA256: z
    .string()
    .regex(
      /^[0-9a-fA-F]{64}(,[0-9a-fA-F]{64})*$/,
      'must be the hex SHA-256 of the token (64 hex digits), comma separated to rotate',
    )
    .transform((s) => s.split(',').map((h) => h.toLowerCase()))
    .optional(),
  CACHE_TTL_MS: int(0, 86400000).default(60000),
  CACHE_MAX_USERS: int(0, 100000000).default(200000),
  PASSWD_ITERATIONS: int(1, 10000000).default(1000),
  // The bound on hashing work per check (src/domain/hash-work.ts): 100 times the default cost.
  PASSWD_MAX_ITERATIONS: int(1, 100000000).default(100000),
  // A correct login against a legacy hash (go-auth PBKDF2, bcrypt, argon2id, `$6$`) stores `$7$`.
  PASSWD_REHASH: z.enum(['on', 'off']).default('on'),
  // The only salt sizes Mosquitto 2.1 reads (src/domain/mosquitto-rules.ts); 2.0 reads only 12.
  PASSWD_SALT_BYTES: z.coerce
    .number()
    .refine((n) => n === 12 || n === 64, { message: 'must be 12 or 64 (what Mosquitto 2.1 reads)' })
    .default(12),
  // The slow lane (src/domain/hash-work.ts): hashes above 10 × PASSWD_ITERATIONS. Width: how
  // many derive at once (of UV_THREADPOOL_SIZE hashing threads, 4 by default); a login waits
  // only if it can be answered within MAX_WAIT (with room for its own hash below go-auth's 5 s HTTP timeout).
  PASSWD_SLOW_LANE_WIDTH: int(1, 1024).default(1),
  PASSWD_SLOW_LANE_MAX_WAIT_MS: int(10, 600000).default(3000),
  PASSWD_SLOW_LANE_QUEUE: int(0, 1000000).default(10000),
  COMMON_ACL_DEFAULT: z
    .string()
    .default(JSON.stringify(DEFAULT_COMMON_ACL))
    .transform((s, ctx) => {
      try {
        return JSON.parse(s) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be a JSON array of {pattern, access}' });
        return z.NEVER;
      }
    })
    .pipe(z.array(aclRuleInput).max(1000)),
  PASSWD_FILE: z.string().default(''),
  ACL_FILE: z.string().default(''),
  EXPORT_FILE_MODE: z
    .string()
    .regex(/^0?[0-7]{3}$/, 'must be an octal file mode such as 0600 or 0640')
    .default('0600')
    .transform((s) => parseInt(s, 8)),
  EXPORT_OWNER: z
    .string()
    .regex(/^(\d+(:\d+)?)?$/, 'must be UID or UID:GID (numbers), or empty')
    .default(''),
  EXPORT_DEBOUNCE_MS: int(0, 60000).default(200),
  EXPORT_MAX_DELAY_MS: int(0, 600000).default(1000),
  MOSQUITTO_RELOAD: reloadSchema.default('none'),
  // After a SIGHUP, how long the broker must keep running for the reload to count as good.
  MOSQUITTO_RELOAD_CHECK_MS: int(0, 600000).default(2000),
  AUTH_FAIL_LIMIT: int(1, 1000000).default(10),
  AUTH_FAIL_WINDOW_S: int(1, 86400).default(300),
  AUTH_LOCK_S: int(1, 86400).default(900),
  AUDIT_MAX_ENTRIES: int(100, 100000000).default(100000),
  SHUTDOWN_TIMEOUT_MS: int(100, 600000).default(10000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  TRUST_PROXY: bool.default(false),
});

export const TOPOLOGIES = ['standalone', 'sentinel', 'cluster'] as const;
export type Topology = (typeof TOPOLOGIES)[number];

export type Config = Readonly<
  Omit<z.output<typeof schema>, 'REDIS_MIN_REPLICAS_ACK'> & {
    /** Which Redis deployment the variables describe (derived, not read). */
    REDIS_TOPOLOGY: Topology;
    /** Resolved: 1 under Sentinel and Cluster, 0 standalone, unless set. */
    REDIS_MIN_REPLICAS_ACK: number;
  }
>;

export class ConfigError extends Error {}

/** "h1:p1,h2:p2" (validated by the schema) as ioredis addresses. */
export function parseHostList(list: string): { host: string; port: number }[] {
  return list.split(',').map((hp) => {
    const at = hp.lastIndexOf(':');
    return { host: hp.slice(0, at), port: Number(hp.slice(at + 1)) };
  });
}

/** The topology the set variables describe; two at once is an error naming both. */
function topologyOf(picked: Record<string, string>): Topology {
  const set: [Topology, string][] = [];
  if (picked.REDIS_URL) set.push(['standalone', 'REDIS_URL']);
  if (picked.REDIS_SENTINELS) set.push(['sentinel', 'REDIS_SENTINELS']);
  if (picked.REDIS_CLUSTER_NODES) set.push(['cluster', 'REDIS_CLUSTER_NODES']);
  if (set.length > 1) {
    throw new ConfigError(
      `invalid configuration:\n  ${set.map(([, v]) => v).join(' and ')} are both set: ` +
        'choose one Redis topology (standalone, Sentinel or Cluster)',
    );
  }
  const topology = set[0]?.[0] ?? 'standalone';
  if (topology === 'sentinel' && !picked.REDIS_SENTINEL_NAME) {
    throw new ConfigError(
      'invalid configuration:\n  REDIS_SENTINEL_NAME: required with REDIS_SENTINELS ' +
        '(the master name the sentinels monitor)',
    );
  }
  if (topology === 'cluster' && picked.REDIS_DB && picked.REDIS_DB !== '0') {
    throw new ConfigError(
      `invalid configuration:\n  REDIS_DB=${JSON.stringify(picked.REDIS_DB)}: ` +
        'Redis Cluster has only database 0',
    );
  }
  return topology;
}

/** Variables whose value a bad-value error never prints. */
const NOT_SHOWN = new Set(['BROKER_TOKEN_SHA256']);

export function readConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const picked: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const v = env[key];
    if (v !== undefined && v !== '') picked[key] = v;
  }
  const parsed = schema.safeParse(picked);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const name = String(i.path[0] ?? '?');
      // A token pasted where its digest belongs must not reach the log.
      if (NOT_SHOWN.has(name)) return `  ${name} (value not shown): ${i.message}`;
      return `  ${name}=${JSON.stringify(redactUrlValue(picked[name] ?? ''))}: ${i.message}`;
    });
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  if (parsed.data.PASSWD_ITERATIONS > parsed.data.PASSWD_MAX_ITERATIONS) {
    throw new ConfigError(
      `invalid configuration:\n  PASSWD_ITERATIONS=${parsed.data.PASSWD_ITERATIONS}: must not exceed PASSWD_MAX_ITERATIONS (${parsed.data.PASSWD_MAX_ITERATIONS})`,
    );
  }
  const topology = topologyOf(picked);
  return Object.freeze({
    ...parsed.data,
    REDIS_TOPOLOGY: topology,
    REDIS_MIN_REPLICAS_ACK:
      parsed.data.REDIS_MIN_REPLICAS_ACK ?? (topology === 'standalone' ? 0 : 1),
  });
}

export interface AdminToken {
  name: string;
  token: string;
}

/**
 * ADMIN_TOKENS: comma separated `name:token` (or bare `token`, named admin-1, admin-2, …);
 * ADMIN_TOKEN_FILE: the same, one per line. Tokens shorter than 16 characters are refused, and
 * so are two tokens of one name.
 */
export function readAdminTokens(env: NodeJS.ProcessEnv = process.env): AdminToken[] {
  const entries: string[] = [];
  if (env.ADMIN_TOKENS) entries.push(...env.ADMIN_TOKENS.split(','));
  if (env.ADMIN_TOKEN_FILE) {
    let text: string;
    try {
      text = readFileSync(env.ADMIN_TOKEN_FILE, 'utf8');
    } catch (err) {
      throw new ConfigError(
        `ADMIN_TOKEN_FILE: cannot read ${env.ADMIN_TOKEN_FILE} (${(err as NodeJS.ErrnoException).code})`,
      );
    }
    entries.push(...text.split(/\r?\n/).filter((l) => l.trim() && !l.trim().startsWith('#')));
  }
  const tokens = entries
    .map((e) => e.trim())
    .filter(Boolean)
    .map((e, i) => {
      const at = e.indexOf(':');
      const name = at > 0 ? e.slice(0, at) : `admin-${i + 1}`;
      const token = at > 0 ? e.slice(at + 1) : e;
      if (token.length < 16) {
        throw new ConfigError(
          `ADMIN_TOKENS/ADMIN_TOKEN_FILE: token "${name}" is shorter than 16 characters`,
        );
      }
      return { name, token };
    });
  // The name is what the audit trail shows: two tokens under one name could not be told apart.
  const seen = new Set<string>();
  for (const { name } of tokens) {
    if (seen.has(name)) {
      throw new ConfigError(
        `ADMIN_TOKENS/ADMIN_TOKEN_FILE: the name "${name}" is given to more than one token; give each token its own name`,
      );
    }
    seen.add(name);
  }
  return tokens;
}
