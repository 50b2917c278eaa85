// Listens to the events channel on a dedicated subscriber connection and tells the caches and
// the exporter what changed. While the subscription is down, listeners are told so: a cache
// that cannot hear invalidations must not answer from memory. When it is back, the feed
// catches up from the change log (change-log.ts): the changes announced meanwhile are told
// one by one, and only when the log no longer holds them all is everything reset.
import { EventEmitter } from 'node:events';
import type Redis from 'ioredis';
import type { Logger } from '../logger';
import { parseAnnouncement, type ChangeLog, type LoggedChange } from './change-log';
import { DISCONNECT_MESSAGE } from './presence-store';

/** What a change was: one user's (`revoke`: its sessions end), the common rules, or unknown. */
export interface ChangeInfo {
  kind: 'user' | 'common' | 'reset';
  revoke: boolean;
  /** Where it is in the change log (absent: an older version's message, or a reset). */
  log?: number;
  rev?: number;
}

export interface ChangeFeedEvents {
  /**
   * A user changed (username), or everything may have (`null`: common rules, resync); `info`
   * tells which, and whether the change ends the user's sessions.
   */
  change: [username: string | null, info: ChangeInfo];
  up: [];
  down: [];
  /** The subscription went silent (no PONG for 3 × pingMs): other connections may hang too. */
  silent: [];
  /** After the subscription came back: caught up from the log (`replayed` changes), or reset. */
  resync: [outcome: 'resumed' | 'reset', replayed: number];
  /** An operator asked every broker to end this user's sessions (presence-store.ts). */
  disconnect: [username: string];
}

const RESET: ChangeInfo = { kind: 'reset', revoke: false };

/** A change of the log as listeners are told it. */
export function loggedChange(c: LoggedChange): { username: string | null; info: ChangeInfo } {
  if (c.kind === 'c') return { username: null, info: { kind: 'common', revoke: false, ...at(c) } };
  return { username: c.username, info: { kind: 'user', revoke: c.kind === 'x', ...at(c) } };
}
const at = (c: LoggedChange) => ({ log: c.log, rev: c.rev });

/**
 * A message of the events channel (written by the scripts in scripts.ts):
 * `2:<log>:<rev>:<u|x|c>:<name>`; from versions before the change log `u:<name>` a change,
 * `x:<name>` a change that ends the device's sessions, `common` (no place in the log); anything
 * else (a newer replica's message) means everything may have changed.
 */
export function parseChange(msg: string): { username: string | null; info: ChangeInfo } {
  const logged = parseAnnouncement(msg);
  if (logged) return loggedChange(logged);
  if (msg.startsWith('2:')) return { username: null, info: RESET };
  const p = msg.slice(0, 2);
  if (p === 'u:' || p === 'x:') {
    return { username: msg.slice(2), info: { kind: 'user', revoke: p === 'x:' } };
  }
  return { username: null, info: msg === 'common' ? { kind: 'common', revoke: false } : RESET };
}

const FIRST_RETRY_MS = 50;

export class ChangeFeed extends EventEmitter<ChangeFeedEvents> {
  private subscribed = false;
  private lastPong = Date.now();
  private readonly watchdog: NodeJS.Timeout | undefined;
  /** The last revision heard of each log (null: not read yet, the first subscribe resets). */
  private seen: number[] | null = null;
  private retry: NodeJS.Timeout | undefined;
  private retryMs = FIRST_RETRY_MS;

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
    private readonly log?: ChangeLog,
  ) {
    super();
    if (pingMs > 0) this.watchdog = setInterval(() => this.probe(), pingMs).unref();
    sub.on('message', (_ch: string, msg: string) => {
      if (msg.startsWith(DISCONNECT_MESSAGE)) return void this.emit('disconnect', msg.slice(2));
      const c = parseChange(msg);
      const { log, rev } = c.info;
      if (this.seen && log !== undefined && rev !== undefined)
        this.seen[log] = Math.max(this.seen[log] ?? 0, rev);
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
    clearTimeout(this.retry);
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
      this.emit('silent');
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

  /**
   * Forgets where the feed is in the log (the store lost its data: its revisions start again);
   * the next catch-up resets.
   */
  rebase(): void {
    this.seen = null;
  }

  private async resubscribe(): Promise<void> {
    try {
      await this.sub.subscribe(this.channel);
      this.lastPong = Date.now();
      // Subscribed first, then read: a change is either in what is read or heard after it.
      const caught = await this.catchUp();
      this.subscribed = true;
      this.retryMs = FIRST_RETRY_MS;
      this.emit('up');
      if (!caught) this.emit('change', null, RESET);
    } catch (err) {
      // Once per failing spell: while Redis is away this repeats every 500 ms.
      if (this.retryMs === FIRST_RETRY_MS)
        this.logger.warn({ err: (err as Error).message }, 'could not subscribe to change events');
      // Not subscribed, or subscribed but not caught up (the log could not be read: on Cluster
      // the command client is often not ready yet when the subscriber is): not up; try again
      // soon (50 ms, doubling to 500 ms), whatever the subscriber's status says (a 'ready' it
      // emitted before is not emitted again).
      this.retry ??= setTimeout(() => {
        this.retry = undefined;
        if (!this.subscribed) void this.resubscribe();
      }, this.retryMs).unref();
      this.retryMs = Math.min(this.retryMs * 2, 500);
    }
  }

  /**
   * Tells every change announced while the feed was not listening, from the log; false when
   * that is not known (first start, the log does not hold them all): everyone resyncs.
   */
  private async catchUp(): Promise<boolean> {
    if (!this.log) return false;
    const from = this.seen ? [...this.seen] : null; // messages heard meanwhile move this.seen
    const got = from ? await this.log.since(from) : null;
    if (!got) {
      // Where the log is now; heard meanwhile (subscribed already) only moves it forward.
      const now = await this.log.revisions();
      this.seen = now.map((r, i) => Math.max(r, this.seen?.[i] ?? 0));
      if (from) {
        this.logger.warn('change feed: the log does not hold every change missed; resetting');
        this.emit('resync', 'reset', 0);
      }
      return false;
    }
    for (const c of got.changes) {
      const { username, info } = loggedChange(c);
      this.emit('change', username, info);
    }
    this.seen = got.to.map((r, i) => Math.max(r, this.seen?.[i] ?? 0));
    if (got.changes.length > 0)
      this.logger.info({ replayed: got.changes.length }, 'change feed: caught up from the log');
    this.emit('resync', 'resumed', got.changes.length);
    return true;
  }
}
