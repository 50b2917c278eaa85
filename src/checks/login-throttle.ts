// Brute-force protection for the user (CONNECT) check, shared by all replicas through the
// lockout store. go-auth sends no client IP, so failures are counted per username and per
// client id: AUTH_FAIL_LIMIT failures in AUTH_FAIL_WINDOW_S lock that name for AUTH_LOCK_S.
// A locked name is denied before any PBKDF2 runs.
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { LockKind, LockState } from '../contract/lockouts';
import type { LockoutStore } from '../store/lockout-store';
import type { Throttle, ThrottleState } from './check-service';

export type { LockKind, LockState };

export interface ThrottleOptions {
  limit: number;
  windowS: number;
  lockS: number;
}

/** Names shown in the lockout list are cut to this many characters. */
export const SHOWN_NAME = 256;

// Client ids are chosen by the client (up to 64 KiB): keys carry a digest, bounded in size.
export const keyOf = (kind: LockKind, name: string) =>
  `${kind === 'username' ? 'u' : 'c'}:${createHash('sha256').update(name).digest('base64url').slice(0, 32)}`;

/** The lockout list's member for a name: its key, a tab, the name (cut). */
export const indexMember = (kind: LockKind, name: string) =>
  `${keyOf(kind, name)}\t${name.slice(0, SHOWN_NAME)}`;

export class LoginThrottle
  extends EventEmitter<{
    lockout: [kind: LockKind, name: string];
    /** A listed lockout was cleared (a good login, or DELETE /lockouts). */
    cleared: [kind: LockKind, name: string];
  }>
  implements Throttle
{
  constructor(
    private readonly store: LockoutStore,
    private readonly opts: ThrottleOptions,
  ) {
    super();
  }

  async state(kind: LockKind, name: string): Promise<LockState> {
    return this.stateOfKey(keyOf(kind, name));
  }

  /** The state behind a key (`u:<digest>` or `c:<digest>`), for the lockout list. */
  async stateOfKey(key: string): Promise<LockState> {
    const res = await this.store.counter(key);
    const failures = res?.consumed ?? 0;
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
    const consumed = await this.store.consume(key);
    if (consumed !== this.opts.limit) return;
    // This failure reaches the limit: the lockout starts now, is listed and reported once.
    await this.store.block(key, this.opts.lockS);
    await this.store.index(indexMember(kind, name), Date.now() + this.opts.lockS * 1000);
    this.emit('lockout', kind, name);
  }

  async failed(username: string, clientid: string): Promise<void> {
    await Promise.all([this.fail('username', username), this.fail('clientid', clientid)]);
  }

  async succeeded(username: string, clientid: string): Promise<void> {
    await Promise.all([this.clear('username', username), this.clear('clientid', clientid)]);
  }

  async clear(kind: LockKind, name: string): Promise<boolean> {
    const listed = await this.store.unindex(indexMember(kind, name));
    const reset = await this.store.reset(keyOf(kind, name));
    if (listed) this.emit('cleared', kind, name);
    return reset;
  }
}
