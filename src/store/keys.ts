// Every Redis key is built here: `${prefix}${kind}:${id}`. The layout is the same on
// standalone, Sentinel and Cluster, so a deployment moves between them without a migration.
//
// Users are spread over BUCKETS index shards by a stable hash of the username. A bucket's keys
// share the hash tag `{NN}` (one Cluster slot): its users' hashes, its index ZSET and its
// revision counter, so a device write is one script in one slot. 64 tags land on every primary
// of any cluster up to a few dozen primaries; listing and export merge the 64 sorted indexes.
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';

export const BUCKETS = 64;

export interface Keys {
  prefix: string;
  /** The index shard a username belongs to: 0 … BUCKETS-1, stable across versions. */
  bucketOf(username: string): number;
  /** HASH: one device. */
  user(username: string): string;
  /** ZSET, all members score 0: a bucket's usernames in lexicographic order. */
  index(bucket: number): string;
  /** STRING counter, bumped by every change to the bucket. */
  revision(bucket: number): string;
  /** STRING, JSON array of the rules that apply to every user. */
  commonAcl: string;
  /** STRING counter, bumped by every change of the common rules (same slot as commonAcl). */
  commonRevision: string;
  /** Pub/sub channel: `u:<username>`, `x:<username>` (sessions end) or `common` after a change. */
  events: string;
  /** Pub/sub channel: lockouts starting and ending, for the brokers' streams (lock-feed.ts). */
  locks: string;
  /**
   * STREAM, capped: audit entries outside any bucket (lockouts), and every entry written by
   * versions before the per-bucket streams (read, never migrated).
   */
  audit: string;
  /** STREAM, capped: the audit entries of a bucket's changes, written by the change's script. */
  auditBucket(bucket: number): string;
  /** STREAM, capped: the audit entries of common-rule changes (same slot as commonAcl). */
  auditCommon: string;
  /** STRING, 60 s: touched (then WAIT) to learn whether a bucket's writes reached a replica. */
  ack(bucket: number | 'common'): string;
  /** STRING, 24 h: an Idempotency-Key's record, named by a hash of the key (sealed answer). */
  idempotency(name: string): string;
  /** Prefix given to rate-limiter-flexible for failed-login counters and lockouts. */
  rateLimit: string;
  /** ZSET: current lockouts, `<u|c>:<digest>\t<name, first 256 chars>` scored by their end (ms). */
  lockouts: string;
  /** Sessions the brokers report (issue 27; docs/presence.md). */
  presence: PresenceKeys;
  /** The layout before buckets (migrate-store reads them): user hash, index, revision. */
  legacy: { user(username: string): string; index: string; revision: string; commonAcl: string };
}

/**
 * One broker's keys share the hash tag `{p<16 hex of sha256(broker id)>}` (one slot, whatever
 * the id holds), all with the broker's TTL; the registry of brokers is one ZSET of its own.
 */
export interface PresenceKeys {
  /** ZSET: broker id scored by when it is presumed dead (ms since the epoch). */
  brokers: string;
  /** ZSET, all scores 0: `<username>\0<clientid>` of a broker's sessions, in byte order. */
  index(broker: string): string;
  /** HASH: client id → the session (JSON, its username included). */
  sessions(broker: string): string;
  /** HASH: boot, seq, heartbeatMs, counters, connects, disconnects of a broker. */
  meta(broker: string): string;
}

const brokerTag = (broker: string) =>
  `{p${createHash('sha256').update(broker, 'utf8').digest('hex').slice(0, 16)}}`;

const tag = (bucket: number) => `{${bucket.toString(16).padStart(2, '0')}}`;

export function bucketOf(username: string): number {
  return crc32(Buffer.from(username, 'utf8')) % BUCKETS;
}

export function createKeys(prefix: string): Keys {
  return {
    prefix,
    bucketOf,
    user: (username) => `${prefix}u:${tag(bucketOf(username))}:${username}`,
    index: (bucket) => `${prefix}ix:${tag(bucket)}`,
    revision: (bucket) => `${prefix}rev:${tag(bucket)}`,
    commonAcl: `${prefix}acl:{common}`,
    commonRevision: `${prefix}rev:{common}`,
    events: `${prefix}events`,
    locks: `${prefix}locks`,
    audit: `${prefix}audit`,
    auditBucket: (bucket) => `${prefix}audit:${tag(bucket)}`,
    auditCommon: `${prefix}audit:{common}`,
    ack: (bucket) => `${prefix}ack:${bucket === 'common' ? '{common}' : tag(bucket)}`,
    idempotency: (name) => `${prefix}idem:${name}`,
    rateLimit: `${prefix}rl`,
    lockouts: `${prefix}lockouts`,
    presence: {
      brokers: `${prefix}pr:brokers`,
      index: (broker) => `${prefix}pr:${brokerTag(broker)}:ix`,
      sessions: (broker) => `${prefix}pr:${brokerTag(broker)}:s`,
      meta: (broker) => `${prefix}pr:${brokerTag(broker)}:meta`,
    },
    legacy: {
      user: (username) => `${prefix}user:{${username}}`,
      index: `${prefix}users`,
      revision: `${prefix}revision`,
      commonAcl: `${prefix}acl:common`,
    },
  };
}
