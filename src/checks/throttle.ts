// Brute-force protection for the user (CONNECT) check, shared by all replicas through Redis
// (rate-limiter-flexible's atomic Lua counters). go-auth sends no client IP, so failures are
// counted per username and per client id: AUTH_FAIL_LIMIT failures in AUTH_FAIL_WINDOW_S lock
// that name for AUTH_LOCK_S. A locked name is denied before any PBKDF2 runs.
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { RedisClient } from '../store/redis-client';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { StoreUnavailableError } from '../errors';
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
    redis: RedisClient,
    keyPrefix: string,
    private readonly opts: ThrottleOptions,
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
    const res = await this.limiter.get(keyOf(kind, name)).catch(unavailable);
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
    // This failure reaches the limit: the lockout starts now and is reported once.
    await this.limiter.block(key, this.opts.lockS).catch(unavailable);
    this.emit('lockout', kind, name);
  }

  async failed(username: string, clientid: string): Promise<void> {
    await Promise.all([this.fail('username', username), this.fail('clientid', clientid)]);
  }

  async succeeded(username: string, clientid: string): Promise<void> {
    await Promise.all([this.clear('username', username), this.clear('clientid', clientid)]);
  }

  async clear(kind: LockKind, name: string): Promise<boolean> {
    return this.limiter.delete(keyOf(kind, name)).catch(unavailable);
  }
}
