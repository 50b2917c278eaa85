// The audit trail: every management change (who, what, when, before/after without secrets).
// Device and common-rule changes are appended by the store's scripts in the same atomic step
// as the change, to the audit stream of their slot; this reads them all, merged newest-first.
// Changes outside the store (lockouts) are appended here to the stream of earlier versions,
// whose old entries are read as they are (not migrated).
import type { Change } from '../devices/device-service';
import { toPublic } from '../devices/device-service';
import { StoreUnavailableError } from '../errors';
import type { Logger } from '../logger';
import { APPEND_AUDIT, auditArgs, MISC_STREAM } from '../store/audit-script';
import { BUCKETS, type Keys } from '../store/keys';
import { decodeRecord } from '../store/records';
import type { RedisClient } from '../store/redis-client';

export interface AuditEntry {
  id: string;
  at: string;
  actor: string;
  action: string;
  target: string;
  before: unknown;
  after: unknown;
}

type Row = [id: string, fields: string[]];

/** Stream ids compared as numbers (both parts may exceed 2^53). */
const idKey = (id: string) => {
  const [ms, seq] = id.split('-');
  return (BigInt(ms ?? 0) << 64n) + BigInt(seq ?? 0);
};

const parse = (s: string | undefined): unknown => {
  if (s === undefined) return null;
  try {
    return JSON.parse(s) as unknown;
  } catch {
    return s; // an entry written by someone else: shown as it is
  }
};

/** `beforeFields`: the old record's fields as Redis held them, decoded like any read. */
function decodeBefore(action: string, target: string, text: string): unknown {
  const raw = parse(text);
  if (!raw || typeof raw !== 'object') return raw;
  const fields = raw as Record<string, string>;
  if (action === 'set-common-acl') return fields.rules ? parse(fields.rules) : null;
  const names = Object.keys(fields);
  if (names.length === 0) return action === 'delete' ? null : {};
  const rec = decodeRecord(target, { hash: '-', ...fields }); // never stored: no hash
  if (!rec) return null;
  const { hashScheme: _h, damaged: _d, ...pub } = toPublic(rec);
  if (action === 'delete') return pub;
  const out: Record<string, unknown> = {};
  for (const k of names) out[k] = (pub as Record<string, unknown>)[k];
  return out;
}

export class AuditLog {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly maxEntries: number,
    private readonly logger: Logger,
  ) {}

  private get streams(): string[] {
    return [
      ...Array.from({ length: BUCKETS }, (_, b) => this.keys.auditBucket(b)),
      this.keys.auditCommon,
      this.keys.audit,
    ];
  }

  /**
   * Told of every change. Store changes carry their entry already (`audited`); others are
   * appended here, tried three times over a second (a failover). `required`: a failure is
   * thrown (StoreUnavailableError) so the call answers 503 and is retried — for management
   * changes that are idempotent (clearing a lockout); otherwise it is logged.
   */
  async record(change: Change, opts: { required?: boolean } = {}): Promise<void> {
    const actor = change.actor ?? 'system';
    if (!change.audited) {
      const note = { ...change, actor, before: `=${JSON.stringify(change.before ?? null)}` };
      const args = auditArgs(note, this.maxEntries, MISC_STREAM);
      for (let attempt = 1; ; attempt++) {
        try {
          await this.redis.eval(APPEND_AUDIT, 1, this.keys.audit, ...args);
          break;
        } catch (err) {
          if (attempt < 3) {
            await new Promise((r) => setTimeout(r, 250 * attempt));
            continue;
          }
          this.logger.error(
            { err: (err as Error).message, action: change.action },
            'audit append failed',
          );
          if (opts.required) throw new StoreUnavailableError(err);
          break;
        }
      }
    }
    this.logger.info({ actor, action: change.action, target: change.target }, 'management change');
  }

  /** Newest first over every stream; `before` is an entry id to page backwards from. */
  async read(limit: number, before?: string): Promise<AuditEntry[]> {
    const from = before ? `(${before}` : '+';
    const pages = await Promise.all(
      this.streams.map((k) => this.redis.xrevrange(k, from, '-', 'COUNT', limit) as Promise<Row[]>),
    );
    const rows = pages.flat().sort((a, b) => {
      const d = idKey(b[0]) - idKey(a[0]);
      return d > 0n ? 1 : d < 0n ? -1 : 0;
    });
    return rows.slice(0, limit).map(([id, fields]) => {
      const f: Record<string, string> = {};
      for (let i = 0; i + 1 < fields.length; i += 2)
        f[fields[i] as string] = fields[i + 1] as string;
      const action = f.action ?? '';
      const target = f.target ?? '';
      return {
        id,
        at: new Date(Number(id.split('-')[0])).toISOString(),
        actor: f.actor ?? '',
        action,
        target,
        before:
          f.beforeFields !== undefined
            ? decodeBefore(action, target, f.beforeFields)
            : parse(f.before),
        after: parse(f.after),
      };
    });
  }
}
