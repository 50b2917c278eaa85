// In-process cache of user records with their compiled ACL, and of the last verified
// credential (an HMAC under a per-process secret, never the password). It answers only
// while the change feed is up; every change anywhere invalidates it within one pub/sub hop.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { compileAcl, type AclRule, type CompiledAcl } from '../domain/acl';
import { decodeVerifier, type Verifier } from '../domain/verifier';
import type { CredentialStore } from '../store/credential-store';
import type { ChangeFeed } from '../store/change-feed';
import type { DeviceRecord } from '../store/records';

export interface CachedUser {
  record: DeviceRecord | null;
  acl: CompiledAcl | null;
  /** The stored hash decoded once: every step of a login reads this, never the text. */
  verifier: Verifier | null;
  verified?: Buffer;
  /** When it was read from Redis (ms since the epoch). */
  loadedAt: number;
  expires: number;
}

/** A record and its compiled rules (own first, then common), as checks decide with them. */
export function cachedUser(
  username: string,
  record: DeviceRecord | null,
  common: readonly AclRule[],
  loadedAt: number,
  expires: number,
): CachedUser {
  return {
    record,
    acl: record ? compileAcl([...record.acl, ...common], username) : null,
    verifier: record ? decodeVerifier(record.hash) : null,
    loadedAt,
    expires,
  };
}

export interface UserCacheOptions {
  ttlMs: number;
  maxUsers: number;
  /** Told of every lookup (metrics). */
  onLookup?: (hit: boolean) => void;
  /**
   * CACHE_SERVE_STALE_MS: while Redis cannot be asked, an entry read less than this long ago
   * may still answer (see stale()). 0: never; entries are dropped as soon as the feed drops.
   */
  serveStaleMs?: number;
}

export class UserCache {
  private readonly users = new Map<string, CachedUser>();
  private common: AclRule[] | null = null;
  private generation = 0;
  private enabled = false;
  private readonly secret = randomBytes(32);

  constructor(
    private readonly store: CredentialStore,
    private readonly opts: UserCacheOptions,
    feed: ChangeFeed,
  ) {
    feed.on('change', (name) => (name === null ? this.clear() : this.invalidate(name)));
    feed.on('up', () => this.setEnabled(true));
    feed.on('down', () => this.setEnabled(false));
    this.enabled = feed.isUp && opts.maxUsers > 0 && opts.ttlMs > 0;
  }

  private setEnabled(on: boolean): void {
    if (on || !this.opts.serveStaleMs) this.clear();
    else this.generation++; // kept only for stale(); no read in flight may add to them
    this.enabled = on && this.opts.maxUsers > 0 && this.opts.ttlMs > 0;
  }

  clear(): void {
    this.generation++;
    this.users.clear();
    this.common = null;
  }

  invalidate(username: string): void {
    this.generation++;
    this.users.delete(username);
  }

  /** The cached entry, synchronously (no promise, no timer on the hot path), or undefined. */
  peek(username: string): CachedUser | undefined {
    const hit = this.enabled ? this.users.get(username) : undefined;
    if (hit && hit.expires > Date.now()) {
      this.opts.onLookup?.(true);
      return hit;
    }
    return undefined;
  }

  /**
   * The entry read less than CACHE_SERVE_STALE_MS ago, for when Redis cannot be asked (the
   * caller counts every answer given from it). Changes heard before the outage removed their
   * entries; changes made during it are unknown: that is the trade-off the setting accepts.
   */
  stale(username: string): CachedUser | undefined {
    const max = this.opts.serveStaleMs ?? 0;
    const hit = max > 0 ? this.users.get(username) : undefined;
    return hit && hit.loadedAt + max > Date.now() ? hit : undefined;
  }

  /** A fresh entry from the store (a miss); kept when no change raced the read. */
  async load(username: string): Promise<CachedUser> {
    const now = Date.now();
    this.opts.onLookup?.(false);
    // A change that lands while we read makes this read unfit to keep (it may be older).
    const gen = this.generation;
    let record: DeviceRecord | null;
    let common = this.enabled ? this.common : null;
    if (common) {
      record = await this.store.getUser(username);
    } else {
      ({ user: record, common } = await this.store.getUserWithCommon(username));
    }
    const entry = cachedUser(username, record, common, now, now + this.opts.ttlMs);
    if (this.enabled && gen === this.generation) {
      this.common = common;
      if (this.users.size >= this.opts.maxUsers) this.evictOldest();
      this.users.set(username, entry);
    }
    return entry;
  }

  /**
   * Drops the oldest 1 % in one pass. One at a time, each eviction's keys().next() walks past
   * every slot deleted before it (up to 47 µs at 200 000 entries, measured by bench/).
   */
  private evictOldest(): void {
    let n = Math.max(1, Math.floor(this.opts.maxUsers / 100));
    for (const key of this.users.keys()) {
      this.users.delete(key);
      if (--n === 0) break;
    }
  }

  private mac(entry: CachedUser, password: string): Buffer {
    return createHmac('sha256', this.secret)
      .update(entry.record?.hash ?? '')
      .update('\0')
      .update(password)
      .digest();
  }

  /** True when `password` is the one that last verified for this cached entry. */
  isVerified(entry: CachedUser, password: string): boolean {
    return (
      entry.verified !== undefined && timingSafeEqual(entry.verified, this.mac(entry, password))
    );
  }

  rememberVerified(entry: CachedUser, password: string): void {
    entry.verified = this.mac(entry, password);
  }
}
