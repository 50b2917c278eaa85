// The store's marker: one random id written once into Redis (`marker:{common}`), read back
// every STORE_WATCH_MS. Redis restarted without its data, a FLUSHDB, a restore of another
// store: the marker is gone (or another one), and nothing else would tell — new writes are
// accepted, caches and plugins keep answering for devices that no longer exist. Then the loss
// is reported (`lost`) until an operator acknowledges it (`mqtt-authd store-ack` writes a new
// marker) or the marker is back (the data came back, e.g. a failover to a replica that has it).
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Cluster } from 'ioredis';
import type { Logger } from '../logger';
import type { RedisClient } from './redis-client';

export interface StoreMarkerEvents {
  /** The marker this process knew is gone or another: what is cached may be wrong. */
  lost: [reason: string];
  /**
   * The marker known is back (the data is), or `acknowledged`: another one (store-ack). Either
   * way what was cached during the loss (answers from an empty store) goes too.
   */
  found: [acknowledged: boolean];
}

const newMarker = () => `${Date.now()}.${randomBytes(9).toString('hex')}`;

/**
 * Only a primary is written to: a replica answers READONLY, which also makes the client drop
 * its connection (reconnectOnError). Cluster routes every write to the slot's primary.
 */
async function onPrimary(redis: RedisClient): Promise<boolean> {
  if (redis instanceof Cluster) return true;
  const role = (await redis.role()) as [string, ...unknown[]];
  return role[0] === 'master';
}

export class StoreMarker extends EventEmitter<StoreMarkerEvents> {
  private knownId: string | null = null;
  private lostReason: string | null = null;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;

  constructor(
    private readonly redis: RedisClient,
    private readonly key: string,
    private readonly logger: Logger,
    private readonly watchMs: number,
  ) {
    super();
  }

  /** The marker this process goes by (null until one was read). */
  get id(): string | null {
    return this.knownId;
  }

  /** Why the store is not to be trusted (for /readyz), or null. */
  get problem(): string | null {
    return this.lostReason;
  }

  /**
   * `mqtt-authd store-ack`: writes a new marker, which every service process goes by within
   * STORE_WATCH_MS (their `/readyz` is ready again). Returns what the marker was (null: none).
   */
  async acknowledge(): Promise<{ before: string | null; now: string }> {
    const now = newMarker();
    const before = await this.redis.getset(this.key, now);
    return { before, now };
  }

  start(): void {
    this.timer ??= setInterval(() => void this.check(), this.watchMs).unref();
    void this.check();
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Reads the marker once (one read at a time); a store that does not answer says nothing. */
  check(): Promise<void> {
    this.running ??= this.read()
      .catch(() => undefined) // unreachable is not lost: /readyz says so by itself
      .finally(() => (this.running = null));
    return this.running;
  }

  private async read(): Promise<void> {
    let seen = await this.redis.get(this.key);
    if (seen === null && this.knownId === null) {
      // Never seen one: a new store (or this process started after the loss: it cannot tell).
      if (!(await onPrimary(this.redis))) return;
      await this.redis.set(this.key, newMarker(), 'NX');
      seen = await this.redis.get(this.key);
      if (seen === null) return;
    }
    if (this.knownId === null) {
      this.knownId = seen;
      return;
    }
    if (seen === this.knownId) {
      if (this.lostReason === null) return;
      this.lostReason = null;
      this.logger.warn('the store marker is back: the store has its data again');
      this.emit('found', false);
      return;
    }
    if (seen === null) {
      if (this.lostReason !== null) return;
      this.lostReason =
        'the store lost its data (marker gone: Redis restarted empty, FLUSHDB, or a restore ' +
        'without it); check, restore, then acknowledge with `mqtt-authd store-ack`';
      this.logger.error({ key: this.key }, this.lostReason);
      this.emit('lost', this.lostReason);
      return;
    }
    // Another marker: an operator acknowledged a loss (store-ack), or this is another store.
    const was = this.lostReason;
    this.knownId = seen;
    this.lostReason = null;
    this.logger.warn(
      was ? 'store loss acknowledged (a new store marker)' : 'the store marker changed',
    );
    this.emit('found', true);
  }
}
