// The `lock` events of the v2 stream (docs/broker-protocol.md): a user name or client id locked
// out for `ms` (0: cleared), from whichever service process counted the failures (lock-feed.ts),
// and after `hello` one per current lockout, so a broker refuses a locked-out name — even with
// the right password — without asking. The stream calls these; nothing else lives there.
import type { LockChange, LockFeed } from '../store/lock-feed';
import type { LockoutList } from './lockout-list';

export type LockData = { username: string; ms: number } | { clientid: string; ms: number };

export const lockData = (c: LockChange): LockData =>
  c.kind === 'username' ? { username: c.name, ms: c.ms } : { clientid: c.name, ms: c.ms };

/** At most this many current lockouts follow a `hello` (a flood of locked unknown names). */
export const MAX_CURRENT_LOCKS = 10_000;
const PAGE = 500;

export interface LockEvents {
  /** Calls `send` for every lockout that starts or is cleared from now on. */
  onLock(send: (data: LockData) => void): void;
  /** The current lockouts, most time left first (names cut in the list are left out). */
  current(): Promise<LockData[]>;
}

export function createLockEvents(deps: {
  feed: Pick<LockFeed, 'on'>;
  lockouts: Pick<LockoutList, 'list'>;
}): LockEvents {
  return {
    onLock(send) {
      deps.feed.on('lock', (c) => send(lockData(c)));
    },
    async current() {
      const out: LockData[] = [];
      let cursor: string | undefined;
      do {
        const page = await deps.lockouts.list(PAGE, cursor);
        const now = Date.now();
        for (const l of page.lockouts) {
          if (l.truncated) continue; // the list holds only its first 256 characters
          const ms = Math.max(1, Date.parse(l.until) - now);
          out.push(lockData({ kind: l.kind, name: l.name, ms }));
        }
        cursor = page.next ?? undefined;
      } while (cursor && out.length < MAX_CURRENT_LOCKS);
      return out.slice(0, MAX_CURRENT_LOCKS);
    },
  };
}

/**
 * After `hello`: one `lock` per current lockout, sent while the stream is still open. A lock
 * read fails quietly: records carry lockedMs, and the service still refuses what it counts.
 */
export async function sendCurrentLocks(
  events: LockEvents,
  open: () => boolean,
  send: (data: LockData) => void,
  onError: (err: unknown) => void,
): Promise<void> {
  try {
    const list = await events.current();
    for (const d of list) if (open()) send(d);
  } catch (err) {
    onError(err);
  }
}
