// Idempotency records: `idem:<name>` (name derived from the Idempotency-Key, see
// domain/idempotency-crypto.ts), one STRING of JSON each, in its own slot: it is written after
// the change (whose own slot it cannot know before the handler ran), never with it.
import { StoreUnavailableError } from '../errors';
import type { Keys } from './keys';
import type { RedisClient } from './redis-client';

export interface IdempotencyRecord {
  /** pending: the first attempt runs; done: its answer is sealed in `box`; applied: the write
   * is on the primary, not confirmed (or its answer was lost); `box` holds the answer. */
  state: 'pending' | 'done' | 'applied';
  /** The request's keyed fingerprint. */
  fp: string;
  box?: string;
}

const guard = <T>(p: Promise<T>) =>
  p.catch((err: unknown) => {
    throw new StoreUnavailableError(err);
  });

export interface IdempotencyStore {
  /** Claims `name` for a first attempt (null), or returns the record already there. */
  claim(name: string, fp: string, pendingMs: number): Promise<IdempotencyRecord | null>;
  save(name: string, rec: IdempotencyRecord, ttlMs: number): Promise<unknown>;
  release(name: string): Promise<unknown>;
}

export class RedisIdempotencyStore implements IdempotencyStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
  ) {}

  private key(name: string): string {
    return this.keys.idempotency(name);
  }

  /** Claims `name` for a first attempt (null), or returns the record already there. */
  async claim(name: string, fp: string, pendingMs: number): Promise<IdempotencyRecord | null> {
    const rec: IdempotencyRecord = { state: 'pending', fp };
    const old = await guard(
      this.redis.set(this.key(name), JSON.stringify(rec), 'PX', pendingMs, 'NX', 'GET'),
    );
    if (old === null) return null;
    try {
      return JSON.parse(old) as IdempotencyRecord;
    } catch {
      // Not ours (a hand-written key): taken over by this attempt.
      await this.save(name, rec, pendingMs);
      return null;
    }
  }

  save(name: string, rec: IdempotencyRecord, ttlMs: number): Promise<unknown> {
    return guard(this.redis.set(this.key(name), JSON.stringify(rec), 'PX', ttlMs));
  }

  release(name: string): Promise<unknown> {
    return guard(this.redis.del(this.key(name)));
  }
}
