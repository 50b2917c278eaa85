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
  /** pending: the attempt that claimed it (random), so only that attempt abandons it. */
  owner?: string;
  box?: string;
}

/** A first attempt's claim: the one shape claim() writes and abandon() looks for. */
export const pendingClaim = (fp: string, owner: string): IdempotencyRecord => ({
  state: 'pending',
  fp,
  owner,
});

const guard = <T>(p: Promise<T>) =>
  p.catch((err: unknown) => {
    throw new StoreUnavailableError(err);
  });

/**
 * KEYS[1] the record   ARGV[1] the pending record exactly as its owner wrote it
 * Deletes the record only while it is still that claim (not a later attempt's, not an answer).
 * Returns 1 when deleted, else 0.
 */
const ABANDON = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export interface IdempotencyStore {
  /** Claims `name` for a first attempt (null), or returns the record already there. */
  claim(
    name: string,
    fp: string,
    owner: string,
    pendingMs: number,
  ): Promise<IdempotencyRecord | null>;
  save(name: string, rec: IdempotencyRecord, ttlMs: number): Promise<unknown>;
  /** Frees `name` if it still holds the pending claim of `owner` (atomically): nobody else's. */
  abandon(name: string, fp: string, owner: string): Promise<unknown>;
}

export class RedisIdempotencyStore implements IdempotencyStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
  ) {}

  private key(name: string): string {
    return this.keys.idempotency(name);
  }

  async claim(
    name: string,
    fp: string,
    owner: string,
    pendingMs: number,
  ): Promise<IdempotencyRecord | null> {
    const rec = pendingClaim(fp, owner);
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

  abandon(name: string, fp: string, owner: string): Promise<unknown> {
    const claim = JSON.stringify(pendingClaim(fp, owner));
    return guard(this.redis.eval(ABANDON, 1, this.key(name), claim));
  }
}
