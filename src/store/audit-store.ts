// The audit trail in Redis: device and common-rule changes are appended by the change scripts
// themselves, to the stream of their slot (audit-script.ts); other changes (lockouts) go to the
// stream of earlier versions, here. Reads merge every stream newest-first.
import { StoreUnavailableError } from '../errors';
import { APPEND_AUDIT, auditArgs, MISC_STREAM, type AuditNote } from './audit-script';
import { BUCKETS, type Keys } from './keys';
import type { RedisClient } from './redis-client';

/** One stream entry: its id and its fields as Redis holds them. */
export interface AuditRow {
  id: string;
  fields: Record<string, string>;
}

export interface AuditStore {
  /** Appends a change made outside the credential store; StoreUnavailableError on failure. */
  append(note: AuditNote): Promise<void>;
  /** Newest first over every stream; `before` is an entry id to page backwards from. */
  page(limit: number, before?: string): Promise<AuditRow[]>;
}

/** Stream ids compared as numbers (both parts may exceed 2^53). */
const idKey = (id: string) => {
  const [ms, seq] = id.split('-');
  return (BigInt(ms ?? 0) << 64n) + BigInt(seq ?? 0);
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

  async page(limit: number, before?: string): Promise<AuditRow[]> {
    const from = before ? `(${before}` : '+';
    const pages = await Promise.all(
      this.streams.map(
        (k) => this.redis.xrevrange(k, from, '-', 'COUNT', limit) as Promise<[string, string[]][]>,
      ),
    );
    const rows = pages.flat().sort((a, b) => {
      const d = idKey(b[0]) - idKey(a[0]);
      return d > 0n ? 1 : d < 0n ? -1 : 0;
    });
    return rows.slice(0, limit).map(([id, list]) => {
      const fields: Record<string, string> = {};
      for (let i = 0; i + 1 < list.length; i += 2)
        fields[list[i] as string] = list[i + 1] as string;
      return { id, fields };
    });
  }
}
