// Failed-login counters and the list of current lockouts, in Redis: rate-limiter-flexible's
// atomic Lua counters (shared by all replicas) and a ZSET of lockouts scored by their end.
// Keys are opaque here (`u:<digest>`, `c:<digest>`): the throttle names them.
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { StoreUnavailableError } from '../errors';
import type { Keys } from './keys';
import type { RedisClient } from './redis-client';

export interface CounterLimits {
  /** Failures in the window that lock (AUTH_FAIL_LIMIT). */
  limit: number;
  windowS: number;
  lockS: number;
}

export interface Counter {
  /** Failures counted in the window (one more than the limit once blocked). */
  consumed: number;
  msBeforeNext: number;
}

export interface IndexRow {
  member: string;
  /** When the lockout ends, in ms since the epoch. */
  score: number;
}

export interface LockoutStore {
  counter(key: string): Promise<Counter | null>;
  /** Counts one failure; `null` when the key is past the limit already (blocked). */
  consume(key: string): Promise<number | null>;
  block(key: string, seconds: number): Promise<void>;
  /** Whether a counter was there to delete. */
  reset(key: string): Promise<boolean>;
  index(member: string, untilMs: number): Promise<void>;
  /** Whether the member was listed. */
  unindex(member: string): Promise<boolean>;
  /**
   * Index rows ending after `now`, latest end first, from `maxScore` down; `count` at most.
   * Expired rows are dropped first. `ties`: how many rows share `maxScore` (for paging).
   */
  page(now: number, maxScore: number | null, count: number): Promise<IndexRow[]>;
  ties(score: number): Promise<number>;
  /** When each member's lockout ends (ms since the epoch), null when it is not listed. */
  endsOf(members: string[]): Promise<(number | null)[]>;
}

const unavailable = (err: unknown): never => {
  throw new StoreUnavailableError(err);
};

export class RedisLockoutStore implements LockoutStore {
  private readonly limiter: RateLimiterRedis;
  private readonly indexKey: string;

  constructor(
    private readonly redis: RedisClient,
    keys: Pick<Keys, 'rateLimit' | 'lockouts'>,
    limits: CounterLimits,
  ) {
    this.indexKey = keys.lockouts;
    this.limiter = new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: keys.rateLimit,
      points: limits.limit,
      duration: limits.windowS,
      blockDuration: limits.lockS,
      rejectIfRedisNotReady: true,
    });
  }

  async counter(key: string): Promise<Counter | null> {
    const res = await this.limiter.get(key).catch(unavailable);
    return res ? { consumed: res.consumedPoints, msBeforeNext: res.msBeforeNext } : null;
  }

  async consume(key: string): Promise<number | null> {
    try {
      return (await this.limiter.consume(key)).consumedPoints;
    } catch (res) {
      if (!(res instanceof RateLimiterRes)) unavailable(res);
      return null; // already past the limit: locked already
    }
  }

  async block(key: string, seconds: number): Promise<void> {
    await this.limiter.block(key, seconds).catch(unavailable);
  }

  reset(key: string): Promise<boolean> {
    return this.limiter.delete(key).catch(unavailable);
  }

  async index(member: string, untilMs: number): Promise<void> {
    await this.redis.zadd(this.indexKey, untilMs, member).catch(unavailable);
  }

  async unindex(member: string): Promise<boolean> {
    return (await this.redis.zrem(this.indexKey, member).catch(unavailable)) > 0;
  }

  async endsOf(members: string[]): Promise<(number | null)[]> {
    if (members.length === 0) return [];
    const scores = await this.redis.zmscore(this.indexKey, ...members).catch(unavailable);
    return scores.map((s) => (s === null ? null : Number(s)));
  }

  async ties(score: number): Promise<number> {
    return this.redis.zcount(this.indexKey, score, score).catch(unavailable);
  }

  async page(now: number, maxScore: number | null, count: number): Promise<IndexRow[]> {
    try {
      await this.redis.zremrangebyscore(this.indexKey, '-inf', now);
      const raw = await this.redis.zrevrangebyscore(
        this.indexKey,
        maxScore === null ? '+inf' : String(maxScore),
        `(${now}`,
        'WITHSCORES',
        'LIMIT',
        0,
        count,
      );
      const rows: IndexRow[] = [];
      for (let i = 0; i + 1 < raw.length; i += 2)
        rows.push({ member: raw[i] as string, score: Number(raw[i + 1]) });
      return rows;
    } catch (err) {
      return unavailable(err);
    }
  }
}
