// Listens to the events channel on a dedicated subscriber connection and tells the caches and
// the exporter what changed. While the subscription is down, listeners are told so: a cache
// that cannot hear invalidations must not answer from memory.
import { EventEmitter } from 'node:events';
import type Redis from 'ioredis';
import type { Logger } from '../logger';
import { DISCONNECT_MESSAGE } from './presence-store';

/** What a change was: one user's (`revoke`: its sessions end), the common rules, or unknown. */
export interface ChangeInfo {
  kind: 'user' | 'common' | 'reset';
  revoke: boolean;
}

export interface ChangeFeedEvents {
  /**
   * A user changed (username), or everything may have (`null`: common rules, resync); `info`
   * tells which, and whether the change ends the user's sessions.
   */
  change: [username: string | null, info: ChangeInfo];
  up: [];
  down: [];
  /** An operator asked every broker to end this user's sessions (presence-store.ts). */
  disconnect: [username: string];
}

const RESET: ChangeInfo = { kind: 'reset', revoke: false };

/**
 * A message of the events channel (written by the scripts in scripts.ts): `u:<name>` a change,
 * `x:<name>` a change that ends the device's sessions, `common`; anything else (a newer
 * replica's message) means everything may have changed.
 */
export function parseChange(msg: string): { username: string | null; info: ChangeInfo } {
  const p = msg.slice(0, 2);
  if (p === 'u:' || p === 'x:') {
    return { username: msg.slice(2), info: { kind: 'user', revoke: p === 'x:' } };
  }
  return { username: null, info: msg === 'common' ? { kind: 'common', revoke: false } : RESET };
}

export class ChangeFeed extends EventEmitter<ChangeFeedEvents> {
  private subscribed = false;
  private lastPong = Date.now();
  private readonly watchdog: NodeJS.Timeout | undefined;

  /**
   * `pingMs`: the subscriber is PINGed this often; a subscription that has not answered for
   * 3 × pingMs is silent (a hung Redis, a partition, a primary failed over behind a connection
   * that stays open): the feed is down (caches stop answering) and the connection is made
   * again, through Sentinel or the seed nodes, so the new primary's changes are heard. 0: off.
   */
  constructor(
    private readonly sub: Redis,
    private readonly channel: string,
    private readonly logger: Logger,
    private readonly pingMs = 0,
  ) {
    super();
    if (pingMs > 0) this.watchdog = setInterval(() => this.probe(), pingMs).unref();
    sub.on('message', (_ch: string, msg: string) => {
      if (msg.startsWith(DISCONNECT_MESSAGE)) return void this.emit('disconnect', msg.slice(2));
      const c = parseChange(msg);
      this.emit('change', c.username, c.info);
    });
    sub.on('ready', () => void this.resubscribe());
    for (const ev of ['close', 'end', 'reconnecting'] as const) sub.on(ev, () => this.markDown());
    if (sub.status === 'ready') void this.resubscribe();
  }

  get isUp(): boolean {
    return this.subscribed;
  }

  /** Stops the watchdog (the subscriber connection is closed by its owner). */
  close(): void {
    if (this.watchdog) clearInterval(this.watchdog);
  }

  private probe(): void {
    if (!this.subscribed || this.sub.status !== 'ready') return;
    if (Date.now() - this.lastPong > 3 * this.pingMs) {
      this.logger.warn(
        { silentMs: Date.now() - this.lastPong },
        'change feed silent: subscription dropped, reconnecting',
      );
      this.markDown();
      this.sub.disconnect(true);
      return;
    }
    this.sub.ping().then(
      () => (this.lastPong = Date.now()),
      () => undefined, // a lost connection is seen by its own events
    );
  }

  private markDown(): void {
    if (!this.subscribed) return;
    this.subscribed = false;
    this.emit('down');
  }

  private async resubscribe(): Promise<void> {
    try {
      await this.sub.subscribe(this.channel);
      this.lastPong = Date.now();
      this.subscribed = true;
      // Whatever happened while we were not listening is unknown: everyone resyncs.
      this.emit('up');
      this.emit('change', null, RESET);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'could not subscribe to change events');
    }
  }
}
