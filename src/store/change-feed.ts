// Listens to the events channel on a dedicated subscriber connection and tells the caches and
// the exporter what changed. While the subscription is down, listeners are told so: a cache
// that cannot hear invalidations must not answer from memory.
import { EventEmitter } from 'node:events';
import type Redis from 'ioredis';
import type { Logger } from '../logger';

export interface ChangeFeedEvents {
  /** A user changed (username), or everything may have (`null`: common rules, resync). */
  change: [username: string | null];
  up: [];
  down: [];
}

export class ChangeFeed extends EventEmitter<ChangeFeedEvents> {
  private subscribed = false;

  constructor(
    private readonly sub: Redis,
    private readonly channel: string,
    private readonly logger: Logger,
  ) {
    super();
    sub.on('message', (_ch: string, msg: string) => {
      this.emit('change', msg.startsWith('u:') ? msg.slice(2) : null);
    });
    sub.on('ready', () => void this.resubscribe());
    for (const ev of ['close', 'end', 'reconnecting'] as const) sub.on(ev, () => this.markDown());
    if (sub.status === 'ready') void this.resubscribe();
  }

  get isUp(): boolean {
    return this.subscribed;
  }

  private markDown(): void {
    if (!this.subscribed) return;
    this.subscribed = false;
    this.emit('down');
  }

  private async resubscribe(): Promise<void> {
    try {
      await this.sub.subscribe(this.channel);
      this.subscribed = true;
      // Whatever happened while we were not listening is unknown: everyone resyncs.
      this.emit('up');
      this.emit('change', null);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'could not subscribe to change events');
    }
  }
}
