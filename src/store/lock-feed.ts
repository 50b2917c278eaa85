// Lockouts as they start and end, shared by every service process over pub/sub (channel
// `<prefix>locks`, its own subscriber connection): a broker's event stream may be held by
// another process than the one that counted the failures. A message: `<u|c>:<ms>:<name>`.
import { EventEmitter } from 'node:events';
import type Redis from 'ioredis';
import type { Logger } from '../logger';
import type { RedisClient } from './redis-client';

/** The same words as the lockouts API's kinds (the store does not import the API's contract). */
export type LockKind = 'username' | 'clientid';

export interface LockChange {
  kind: LockKind;
  name: string;
  /** How long the lockout lasts from now; 0: cleared. */
  ms: number;
}

export const encodeLock = (c: LockChange): string =>
  `${c.kind === 'username' ? 'u' : 'c'}:${Math.max(0, Math.round(c.ms))}:${c.name}`;

/** null: not a message of this channel's format (a newer version's, say): ignored. */
export function decodeLock(msg: string): LockChange | null {
  const m = /^([uc]):([0-9]{1,12}):/.exec(msg);
  if (!m) return null;
  return {
    kind: m[1] === 'u' ? 'username' : 'clientid',
    ms: Number(m[2]),
    name: msg.slice(m[0].length),
  };
}

export class LockFeed extends EventEmitter<{ lock: [LockChange] }> {
  private subscribed = false;

  constructor(
    private readonly pub: RedisClient,
    private readonly sub: Redis,
    private readonly channel: string,
    private readonly logger: Logger,
  ) {
    super();
    sub.on('message', (ch: string, msg: string) => {
      if (ch !== channel) return;
      const c = decodeLock(msg);
      if (c) this.emit('lock', c);
    });
    const subscribe = () =>
      sub.subscribe(channel).then(
        () => (this.subscribed = true),
        (err: unknown) =>
          this.logger.warn(
            { err },
            'lock feed: subscribe failed; it is retried at the next connect',
          ),
      );
    sub.on('ready', () => void subscribe());
    for (const ev of ['close', 'end', 'reconnecting'] as const)
      sub.on(ev, () => (this.subscribed = false));
    if (sub.status === 'ready') void subscribe();
  }

  /** Whether lock changes of other processes are heard now. */
  get isUp(): boolean {
    return this.subscribed;
  }

  /** Tells every process (this one too, through Redis). Never throws: a lost one only costs a request. */
  async publish(c: LockChange): Promise<void> {
    try {
      await this.pub.publish(this.channel, encodeLock(c));
    } catch (err) {
      this.logger.warn({ err, kind: c.kind }, 'lock feed: publish failed');
    }
  }
}
