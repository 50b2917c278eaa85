// The three broker checks, decided from the cache (and the store behind it). Returns a
// decision; a store failure propagates (the handler answers 5xx: never allow, never deny
// for a reason that is not true).
import { aclVerdict, isAcc, verdictReason, type CompiledAcl } from '../domain/acl';
import {
  clientIdAllowed,
  loginDecision,
  refusal,
  superuserDecision,
} from '../domain/check-decisions';
import type { HashWork } from '../domain/hash-work';
import { needsRehash } from '../domain/verifier';
import { StoreUnavailableError } from '../errors';
import type { Logger } from '../logger';
import { withTimeout } from '../store/with-timeout';
import type { DeviceRecord } from '../store/records';
import type { CheckFields } from './check-request';
import type { CachedUser, UserCache } from './user-cache';

export type Decision = { allow: true } | { allow: false; reason: string };

// Deny reasons name the MQTT v5 reason codes they end up as.
export const REASONS = {
  badCredentials: 'bad user name or password (134)',
  clientId: 'client identifier not valid (133)',
  notAuthorized: 'not authorized (135)',
} as const;

export interface ThrottleState {
  locked: string | null;
  counted: boolean;
}

export interface Throttle {
  /** Whether this user/client id is locked out (a deny reason), and has failures counted. */
  inspect(username: string, clientid: string): Promise<ThrottleState>;
  failed(username: string, clientid: string): Promise<void>;
  succeeded(username: string, clientid: string): Promise<void>;
}

export interface LegacyOptions {
  /**
   * Called after a correct password against a legacy hash (PASSWD_REHASH=on); runs in the
   * background, the answer does not wait for it.
   */
  upgrade?: (username: string, verifiedHash: string, password: string) => Promise<unknown>;
}

const ALLOW: Decision = { allow: true };
const deny = (reason: string): Decision => ({ allow: false, reason });

/**
 * CHECK_TIMEOUT_MS shared by every Redis step of one check (record, lockout state, failure
 * counters): the whole check waits on Redis for that long at most. Hashing is CPU, not
 * Redis, and is not charged. Made only on the slow path; a cached answer needs none.
 */
class RedisBudget {
  constructor(private left: number) {}
  async run<T>(p: Promise<T>): Promise<T> {
    if (this.left <= 0) {
      p.catch(() => undefined);
      throw new StoreUnavailableError('check timeout spent');
    }
    const t0 = Date.now();
    try {
      return await withTimeout(p, this.left);
    } finally {
      this.left -= Date.now() - t0;
    }
  }
}

export interface CheckServiceOptions {
  cache: UserCache;
  /** A record from the store, cached (UserCache.load). */
  load: (username: string) => Promise<CachedUser>;
  hashing: HashWork;
  /** CHECK_TIMEOUT_MS: what one check may wait on Redis, all steps together. */
  timeoutMs: number;
  logger: Logger;
  /** Brute-force protection; none: failures are not counted. */
  throttle?: Throttle;
  /** Told of each login denied because of a lockout (a metric). */
  onThrottled?: () => void;
  /** CACHE_SERVE_STALE_MS: an entry to answer from while Redis cannot be asked, if any. */
  stale?: (username: string) => CachedUser | undefined;
  /** PASSWD_REHASH=on: what upgrades a legacy hash after a correct password. */
  legacy?: LegacyOptions;
}

export class CheckService {
  private readonly cache: UserCache;
  private readonly load: (username: string) => Promise<CachedUser>;
  private readonly hashing: HashWork;
  private readonly timeoutMs: number;
  private readonly logger: Logger;
  private readonly throttle?: Throttle;
  private readonly onThrottled?: () => void;
  private readonly stale?: (username: string) => CachedUser | undefined;
  private readonly legacy: LegacyOptions;

  constructor(opts: CheckServiceOptions) {
    this.cache = opts.cache;
    this.load = opts.load;
    this.hashing = opts.hashing;
    this.timeoutMs = opts.timeoutMs;
    this.logger = opts.logger;
    this.throttle = opts.throttle;
    this.onThrottled = opts.onThrottled;
    this.stale = opts.stale;
    this.legacy = opts.legacy ?? {};
  }

  /** Upgrades under way, by username: a burst of logins upgrades once. */
  private readonly upgrading = new Map<string, Promise<unknown>>();

  /** Resolves when the upgrades started so far are done (shutdown waits for them). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.upgrading.values()]);
  }

  private async fetch(username: string, budget?: RedisBudget): Promise<CachedUser> {
    try {
      return await (budget
        ? budget.run(this.load(username))
        : withTimeout(this.load(username), this.timeoutMs));
    } catch (err) {
      const entry = err instanceof StoreUnavailableError ? this.stale?.(username) : undefined;
      if (!entry) throw err;
      return entry;
    }
  }

  /**
   * `asker`: gives a signal aborted when the asker has gone (a slow-lane wait is then dropped);
   * called only when the password is hashed.
   */
  async user(f: CheckFields, asker?: () => AbortSignal): Promise<Decision> {
    let budget: RedisBudget | undefined;
    let entry = this.cache.peek(f.username);
    if (!entry) entry = await this.fetch(f.username, (budget = new RedisBudget(this.timeoutMs)));
    const rec = entry.record;
    // The password that last verified for this record: no hash, no throttle, no Redis.
    if (refusal(rec) === null && this.cache.isVerified(entry, f.password)) {
      return this.clientIdDecision(rec, f);
    }
    budget ??= new RedisBudget(this.timeoutMs);
    const throttle = this.throttle;
    const state = throttle ? await budget.run(throttle.inspect(f.username, f.clientid)) : null;
    const locked = state?.locked;
    if (locked) {
      this.onThrottled?.();
      return deny(`${REASONS.badCredentials}: ${locked}`);
    }
    let ok = false;
    if (!rec || refusal(rec) !== null) {
      await this.hashing.dummy(f.password);
    } else {
      const verifier = entry.verifier ?? rec.hash;
      const result = await this.hashing.verify(f.password, verifier, asker?.());
      if (result === 'malformed') {
        this.logger.error({ username: f.username }, 'stored password hash is malformed; denying');
      } else if (result === 'unusable') {
        this.logger.error(
          { username: f.username, field: 'hash' },
          `stored password hash needs more work than PASSWD_MAX_ITERATIONS (${this.hashing.limits.maxIterations}); denying`,
        );
      }
      ok = result === 'match';
    }
    if (!ok) {
      if (throttle) await budget.run(throttle.failed(f.username, f.clientid));
      return deny(REASONS.badCredentials);
    }
    this.cache.rememberVerified(entry, f.password);
    const upgrade = this.legacy.upgrade;
    if (
      upgrade &&
      needsRehash(entry.verifier ?? (rec as DeviceRecord).hash) &&
      !this.upgrading.has(f.username)
    ) {
      const done = upgrade(f.username, (rec as DeviceRecord).hash, f.password)
        .catch((err: unknown) => this.logger.error({ username: f.username, err }, 'upgrade failed'))
        .finally(() => this.upgrading.delete(f.username));
      this.upgrading.set(f.username, done);
    }
    // Only when something was counted: a clean login costs no Redis write.
    if (throttle && state?.counted) await budget.run(throttle.succeeded(f.username, f.clientid));
    return this.clientIdDecision(rec, f);
  }

  private clientIdDecision(rec: DeviceRecord | null, f: CheckFields): Decision {
    return loginDecision(rec, f.clientid, false).allow ? ALLOW : deny(REASONS.clientId);
  }

  async superuser(f: CheckFields): Promise<Decision> {
    const rec = (this.cache.peek(f.username) ?? (await this.fetch(f.username))).record;
    return isSuperuser(rec) ? ALLOW : deny(REASONS.notAuthorized);
  }

  async acl(f: CheckFields): Promise<Decision> {
    if (!isAcc(f.acc)) return deny('acc must be 1, 2, 3 or 4');
    const acl = usableAcl(this.cache.peek(f.username) ?? (await this.fetch(f.username)));
    if (!acl) return deny(REASONS.notAuthorized);
    const v = aclVerdict(acl, f.acc, f.topic, f.clientid);
    return v >= 0 ? ALLOW : deny(`${REASONS.notAuthorized}: ${verdictReason(v, f.acc)}`);
  }
}

// The decisions below are shared with the explainer (/api/v1/decide), so it says what the
// checks do.

/** What the superuser check allows: an enabled, intact superuser. */
export const isSuperuser = (rec: DeviceRecord | null): boolean => superuserDecision(rec).allow;

/** The compiled rules an ACL check decides with; null (deny) for unknown, damaged, disabled. */
export const usableAcl = (entry: CachedUser): CompiledAcl | null =>
  refusal(entry.record) === null ? entry.acl : null;

export { clientIdAllowed };
