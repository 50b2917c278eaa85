// Brute-force protection for the user (CONNECT) check, shared by all replicas through Redis
// (rate-limiter-flexible's atomic Lua counters). go-auth sends no client IP, so failures are
// counted per username and per client id: AUTH_FAIL_LIMIT failures in AUTH_FAIL_WINDOW_S lock
// that name for AUTH_LOCK_S. A locked name is denied before any PBKDF2 runs.
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { RedisClient } from '../store/redis-client';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { badRequest, StoreUnavailableError } from '../errors';
import type { Throttle, ThrottleState } from './check-service';

export type LockKind = 'username' | 'clientid';

export interface ThrottleOptions {
  limit: number;
  windowS: number;
  lockS: number;
}

export interface LockState {
  locked: boolean;
  failures: number;
  retryAfterS: number;
}

export interface Lockout extends LockState {
  kind: LockKind;
  /** The user name or client id (its first 256 characters when `truncated`). */
  name: string;
  truncated: boolean;
  until: string;
}

const SHOWN_NAME = 256;

// Client ids are chosen by the client (up to 64 KiB): keys carry a digest, bounded in size.
const keyOf = (kind: LockKind, name: string) =>
  `${kind === 'username' ? 'u' : 'c'}:${createHash('sha256').update(name).digest('base64url').slice(0, 32)}`;

const unavailable = (err: unknown): never => {
  throw new StoreUnavailableError(err);
};

export class LoginThrottle
  extends EventEmitter<{ lockout: [kind: LockKind, name: string] }>
  implements Throttle
{
  private readonly limiter: RateLimiterRedis;

  constructor(
    private readonly redis: RedisClient,
    keyPrefix: string,
    private readonly opts: ThrottleOptions,
    /** ZSET listing current lockouts (keys.lockouts). */
    private readonly lockIndex: string,
  ) {
    super();
    this.limiter = new RateLimiterRedis({
      storeClient: redis,
      keyPrefix,
      points: opts.limit,
      duration: opts.windowS,
      blockDuration: opts.lockS,
      rejectIfRedisNotReady: true,
    });
  }

  async state(kind: LockKind, name: string): Promise<LockState> {
    return this.stateOf(keyOf(kind, name));
  }

  private async stateOf(key: string): Promise<LockState> {
    const res = await this.limiter.get(key).catch(unavailable);
    const failures = res?.consumedPoints ?? 0;
    const locked = failures >= this.opts.limit;
    return {
      locked,
      // A lockout holds one point more than the limit (block()); report the failures seen.
      failures: Math.min(failures, this.opts.limit),
      retryAfterS: res && locked ? Math.ceil(res.msBeforeNext / 1000) : 0,
    };
  }

  async inspect(username: string, clientid: string): Promise<ThrottleState> {
    const [u, c] = await Promise.all([
      this.state('username', username),
      this.state('clientid', clientid),
    ]);
    const counted = u.failures > 0 || c.failures > 0;
    if (u.locked) {
      return {
        counted,
        locked: `too many failed logins for this user name; retry in ${u.retryAfterS} s`,
      };
    }
    if (c.locked) {
      return {
        counted,
        locked: `too many failed logins for this client id; retry in ${c.retryAfterS} s`,
      };
    }
    return { counted, locked: null };
  }

  /** The Nth failure in the window locks (AUTH_FAIL_LIMIT=N), for AUTH_LOCK_S. */
  private async fail(kind: LockKind, name: string): Promise<void> {
    const key = keyOf(kind, name);
    let consumed: number;
    try {
      consumed = (await this.limiter.consume(key)).consumedPoints;
    } catch (res) {
      if (!(res instanceof RateLimiterRes)) unavailable(res);
      return; // already past the limit: locked already
    }
    if (consumed !== this.opts.limit) return;
    // This failure reaches the limit: the lockout starts now, is listed and reported once.
    await this.limiter.block(key, this.opts.lockS).catch(unavailable);
    await this.redis
      .zadd(this.lockIndex, Date.now() + this.opts.lockS * 1000, indexMember(kind, name))
      .catch(unavailable);
    this.emit('lockout', kind, name);
  }

  async failed(username: string, clientid: string): Promise<void> {
    await Promise.all([this.fail('username', username), this.fail('clientid', clientid)]);
  }

  async succeeded(username: string, clientid: string): Promise<void> {
    await Promise.all([this.clear('username', username), this.clear('clientid', clientid)]);
  }

  async clear(kind: LockKind, name: string): Promise<boolean> {
    await this.redis.zrem(this.lockIndex, indexMember(kind, name)).catch(unavailable);
    return this.limiter.delete(keyOf(kind, name)).catch(unavailable);
  }

  /** Current lockouts, most time left first; `cursor` is the `next` of the previous page. */
  async list(
    limit: number,
    cursor?: string,
  ): Promise<{ lockouts: Lockout[]; next: string | null }> {
    const now = Date.now();
    const after = cursor ? decodeCursor(cursor) : null;
    try {
      await this.redis.zremrangebyscore(this.lockIndex, '-inf', now);
      const max = after ? String(after.score) : '+inf';
      const ties = after ? await this.redis.zcount(this.lockIndex, after.score, after.score) : 0;
      const raw = await this.redis.zrevrangebyscore(
        this.lockIndex,
        max,
        `(${now}`,
        'WITHSCORES',
        'LIMIT',
        0,
        limit + 1 + ties,
      );
      const rows: { member: string; score: number }[] = [];
      for (let i = 0; i + 1 < raw.length; i += 2) {
        const member = raw[i] as string;
        const score = Number(raw[i + 1]);
        // Equal scores come in reverse member order: skip those the last page showed.
        if (after && score === after.score && member >= after.member) continue;
        rows.push({ member, score });
      }
      const page = rows.slice(0, limit);
      const lockouts = await Promise.all(page.map((r) => this.lockoutOf(r.member, r.score)));
      const last = page[page.length - 1];
      return {
        lockouts: lockouts.filter((l): l is Lockout => l !== null),
        next: rows.length > limit && last ? encodeCursor(last.score, last.member) : null,
      };
    } catch (err) {
      return unavailable(err);
    }
  }

  private async lockoutOf(member: string, score: number): Promise<Lockout | null> {
    const tab = member.indexOf('\t');
    const key = member.slice(0, tab);
    const state = await this.stateOf(key);
    if (!state.locked) return null; // cleared or expired meanwhile
    const kind: LockKind = key.startsWith('u:') ? 'username' : 'clientid';
    const name = member.slice(tab + 1);
    return {
      kind,
      name,
      truncated: keyOf(kind, name) !== key,
      ...state,
      until: new Date(score).toISOString(),
    };
  }
}

const indexMember = (kind: LockKind, name: string) =>
  `${keyOf(kind, name)}\t${name.slice(0, SHOWN_NAME)}`;

const encodeCursor = (score: number, member: string) =>
  Buffer.from(JSON.stringify([score, member])).toString('base64url');

function decodeCursor(cursor: string): { score: number; member: string } {
  try {
    const [score, member] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [
      unknown,
      unknown,
    ];
    if (typeof score === 'number' && typeof member === 'string') return { score, member };
  } catch {
    // fall through
  }
  throw badRequest('query.cursor: not a cursor from a previous page');
}
