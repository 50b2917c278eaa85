// Every Redis key is built here: `${prefix}${kind}:${id}`. Keys of one user carry the hash
// tag `{username}`, so a user's keys stay in one Redis Cluster slot.
export interface Keys {
  prefix: string;
  user(username: string): string;
  /** ZSET, all members score 0: the device index in lexicographic order (listing, export). */
  index: string;
  /** STRING counter, bumped by every change: what an export has caught up with. */
  revision: string;
  /** STRING, JSON array of the rules that apply to every user. */
  commonAcl: string;
  /** Pub/sub channel: `u:<username>` or `common` after every change. */
  events: string;
  /** STREAM, capped: the audit trail of management changes. */
  audit: string;
  /** Prefix given to rate-limiter-flexible for failed-login counters and lockouts. */
  rateLimit: string;
  /** ZSET: current lockouts, `<u|c>:<digest>\t<name, first 256 chars>` scored by their end (ms). */
  lockouts: string;
}

export function createKeys(prefix: string): Keys {
  return {
    prefix,
    user: (username) => `${prefix}user:{${username}}`,
    index: `${prefix}users`,
    revision: `${prefix}revision`,
    commonAcl: `${prefix}acl:common`,
    events: `${prefix}events`,
    audit: `${prefix}audit`,
    rateLimit: `${prefix}rl`,
    lockouts: `${prefix}lockouts`,
  };
}
