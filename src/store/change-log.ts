// The change log: every change script appends to its slot's capped stream (`log:{NN}` per
// bucket, `log:{common}`) with the slot's revision as the entry id, and announces the same on
// the events channel (scripts.ts). A reader that knows the last revision it applied of each of
// the 65 logs (a cursor) gets everything after it, from any service process, or learns that
// the log no longer holds it (trimmed, lost, or the store went back) and must start over.
import { createHash } from 'node:crypto';
import { BUCKETS, type Keys } from './keys';
import type { RedisClient } from './redis-client';

/** 64 buckets, then the common rules' log (number 64, as in the announcements). */
export const LOGS = BUCKETS + 1;
export const COMMON_LOG = BUCKETS;

/** One logged change: `x` ends the user's sessions, `c` is a change of the common rules. */
export interface LoggedChange {
  log: number;
  rev: number;
  kind: 'u' | 'x' | 'c';
  username: string;
}

/** `2:<log>:<rev>:<u|x|c>:<name>`; null for anything else (an older version's message). */
export function parseAnnouncement(msg: string): LoggedChange | null {
  const m = /^2:(\d{1,2}):(\d{1,15}):([uxc]):/.exec(msg);
  if (!m) return null;
  const log = Number(m[1]);
  if (log >= LOGS) return null;
  const kind = m[3] as LoggedChange['kind'];
  return { log, rev: Number(m[2]), kind, username: msg.slice(m[0].length) };
}

/**
 * A cursor names a position in all 65 logs of one store: `1.<scope>.<65 base36 revisions>`,
 * scope a digest of the key prefix and the store's marker, so a cursor of another store or of
 * this one before it lost its data is not taken for a position (it is unknown: start over).
 */
export function cursorScope(prefix: string, marker: string | null): string {
  return createHash('sha256')
    .update(`${prefix}\n${marker ?? ''}`)
    .digest('hex')
    .slice(0, 12);
}

export function encodeCursor(scope: string, revs: readonly number[]): string {
  return `1.${scope}.${revs.map((r) => r.toString(36)).join('.')}`;
}

/** The revisions of a cursor of this scope; null when it is not one (unknown, malformed). */
export function decodeCursor(scope: string, cursor: string): number[] | null {
  if (cursor.length > 4096) return null;
  const parts = cursor.split('.');
  if (parts.length !== LOGS + 2 || parts[0] !== '1' || parts[1] !== scope) return null;
  const revs = parts.slice(2).map((p) => (/^[0-9a-z]{1,11}$/.test(p) ? parseInt(p, 36) : NaN));
  return revs.every((r) => Number.isSafeInteger(r)) ? revs : null;
}

/**
 * KEYS[1] revision counter   KEYS[2] change log   ARGV[1] the reader's revision
 * Returns {revision} (nothing missed, or the store is behind the reader) |
 * {revision, entries after the reader's}: read in one step, so the two agree.
 */
const LOG_SINCE = `
local rev = tonumber(redis.call('GET', KEYS[1]) or '0')
local since = tonumber(ARGV[1])
if rev <= since then return {rev} end
return {rev, redis.call('XRANGE', KEYS[2], (since + 1) .. '-0', '+')}
`;

type Entry = [id: string, fields: string[]];

export class ChangeLog {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
  ) {
    redis.defineCommand('changeLogSince', { numberOfKeys: 2, lua: LOG_SINCE });
  }

  private keysOf(log: number): [string, string] {
    return log === COMMON_LOG
      ? [this.keys.commonRevision, this.keys.logCommon]
      : [this.keys.revision(log), this.keys.log(log)];
  }

  /** The revision of each log now. */
  async revisions(): Promise<number[]> {
    return Promise.all(
      Array.from({ length: LOGS }, async (_, log) =>
        Number((await this.redis.get(this.keysOf(log)[0])) ?? 0),
      ),
    );
  }

  /**
   * Every change after `from`, each log in its order, and the revisions they lead to; null
   * when a log does not hold all of them (trimmed, deleted, an older version wrote without
   * logging) or its revision is behind `from` (the store lost data or went back).
   */
  async since(from: readonly number[]): Promise<{ changes: LoggedChange[]; to: number[] } | null> {
    const replies = await Promise.all(
      from.map((since, log) => {
        const run = (this.redis as unknown as Record<string, (...a: string[]) => Promise<unknown>>)
          .changeLogSince as (...a: string[]) => Promise<[number, Entry[]?]>;
        return run.call(this.redis, ...this.keysOf(log), String(since));
      }),
    );
    const changes: LoggedChange[] = [];
    const to: number[] = [];
    for (let log = 0; log < LOGS; log++) {
      const [rev, entries = []] = replies[log] as [number, Entry[]?];
      const since = from[log] as number;
      if (rev < since) return null;
      // Contiguous from since + 1 to rev, or something is missing.
      if (entries.length !== rev - since) return null;
      for (let i = 0; i < entries.length; i++) {
        const [id, fields] = entries[i] as Entry;
        if (id !== `${since + 1 + i}-0`) return null;
        const f = new Map<string, string>();
        for (let j = 0; j + 1 < fields.length; j += 2)
          f.set(fields[j] as string, fields[j + 1] as string);
        const kind = f.get('k');
        if (kind !== 'u' && kind !== 'x' && kind !== 'c') return null;
        changes.push({ log, rev: since + 1 + i, kind, username: f.get('n') ?? '' });
      }
      to.push(rev);
    }
    return { changes, to };
  }
}
