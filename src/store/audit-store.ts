// The audit trail in Redis: device and common-rule changes are appended by the change scripts
// themselves, to the stream of their slot (audit-script.ts); other changes (lockouts) go to the
// stream of earlier versions, here. Reads merge every stream newest-first, or, after a
// cursor (domain/audit-cursor.ts), oldest-first from the reader's place in each stream.
import { advance, idOrder, type AuditCursor } from '../domain/audit-cursor';
import { StoreUnavailableError } from '../errors';
import { APPEND_AUDIT, auditArgs, MISC_STREAM, type AuditNote } from './audit-script';
import { BUCKETS, type Keys } from './keys';
import type { RedisClient } from './redis-client';

/** One stream entry: its id and its fields as Redis holds them. */
export interface AuditRow {
  id: string;
  /** Its stream's number: 0 … 63 buckets, then the common rules', then the lockouts'. */
  stream: number;
  fields: Record<string, string>;
}

export interface AuditPage {
  rows: AuditRow[];
  /** Newest first without `before`: every stream's newest entry when read (a tail's start). */
  cursor?: AuditCursor;
}

export interface AuditStore {
  /** Appends a change made outside the credential store; StoreUnavailableError on failure. */
  append(note: AuditNote): Promise<void>;
  /** Newest first over every stream; `before` is an entry id to page backwards from. */
  page(limit: number, before?: string): Promise<AuditPage>;
  /** Oldest first: what each stream holds after the cursor's place in it; the new cursor. */
  after(cursor: AuditCursor, limit: number): Promise<{ rows: AuditRow[]; cursor: AuditCursor }>;
}

type Raw = [string, string[]];
const row = (stream: number, [id, list]: Raw): AuditRow => {
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < list.length; i += 2) fields[list[i] as string] = list[i + 1] as string;
  return { id, stream, fields };
};
const byId = (a: AuditRow, b: AuditRow) => {
  const d = idOrder(a.id) - idOrder(b.id);
  return d > 0n ? 1 : d < 0n ? -1 : 0;
};

export class RedisAuditStore implements AuditStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly maxEntries: number,
  ) {}

  private get streams(): string[] {
    return [
      ...Array.from({ length: BUCKETS }, (_, b) => this.keys.auditBucket(b)),
      this.keys.auditCommon,
      this.keys.audit,
    ];
  }

  async append(note: AuditNote): Promise<void> {
    const args = auditArgs(note, this.maxEntries, MISC_STREAM);
    await this.redis.eval(APPEND_AUDIT, 1, this.keys.audit, ...args).catch((err: unknown) => {
      throw new StoreUnavailableError(err);
    });
  }

  async page(limit: number, before?: string): Promise<AuditPage> {
    const from = before ? `(${before}` : '+';
    const pages = await Promise.all(
      this.streams.map((k) => this.redis.xrevrange(k, from, '-', 'COUNT', limit) as Promise<Raw[]>),
    );
    const rows = pages.flatMap((p, s) => p.map((r) => row(s, r))).sort((a, b) => byId(b, a));
    if (before) return { rows: rows.slice(0, limit) };
    // Each stream's newest as read: whatever it gets later has a higher id in that stream.
    const cursor = new Map<number, string>();
    pages.forEach((p, s) => p[0] && cursor.set(s, p[0][0]));
    return { rows: rows.slice(0, limit), cursor };
  }

  async after(cursor: AuditCursor, limit: number) {
    const pages = await Promise.all(
      this.streams.map((k, s) => {
        const at = cursor.get(s);
        return this.redis.xrange(k, at ? `(${at}` : '-', '+', 'COUNT', limit) as Promise<Raw[]>;
      }),
    );
    const rows = pages
      .flatMap((p, s) => p.map((r) => row(s, r)))
      .sort(byId)
      .slice(0, limit);
    // Per stream, the rows kept are its oldest: the rest follow the last kept one.
    return { rows, cursor: advance(cursor, rows) };
  }
}
