// The audit trail: every management change (who, what, when, before/after without secrets).
// Device and common-rule changes are appended by the store's scripts in the same atomic step
// as the change, to the audit stream of their slot; this reads them all, merged newest-first.
// Changes outside the store (lockouts) are appended through the audit store to the stream of
// earlier versions, whose old entries are read as they are (not migrated).
import type { Change } from '../devices/device-service';
import { toPublic } from '../devices/device-service';
import type { Logger } from '../logger';
import { encodeCursor, type AuditCursor } from '../domain/audit-cursor';
import type { AuditRow, AuditStore } from '../store/audit-store';
import { decodeRecord } from '../store/records';

export interface AuditEntry {
  id: string;
  at: string;
  actor: string;
  action: string;
  target: string;
  before: unknown;
  after: unknown;
}

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
    private readonly store: AuditStore,
    private readonly logger: Logger,
  ) {}

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
      for (let attempt = 1; ; attempt++) {
        try {
          await this.store.append(note);
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
          if (opts.required) throw err; // StoreUnavailableError: the call answers 503
          break;
        }
      }
    }
    this.logger.info({ actor, action: change.action, target: change.target }, 'management change');
  }

  /** Newest first over every stream; `before` is an entry id to page backwards from. */
  async read(limit: number, before?: string): Promise<AuditEntry[]> {
    return (await this.store.page(limit, before)).rows.map(toEntry);
  }

  /** The newest entries, and the cursor a tail starts from (`after`): each stream's newest. */
  async head(limit: number): Promise<{ entries: AuditEntry[]; cursor: string }> {
    const page = await this.store.page(limit);
    return { entries: page.rows.map(toEntry), cursor: encodeCursor(page.cursor ?? new Map()) };
  }

  /** Oldest first from the reader's place in every stream; never skips, never repeats. */
  async after(
    cursor: AuditCursor,
    limit: number,
  ): Promise<{ entries: AuditEntry[]; cursor: string }> {
    const page = await this.store.after(cursor, limit);
    return { entries: page.rows.map(toEntry), cursor: encodeCursor(page.cursor) };
  }
}

function toEntry({ id, fields: f }: AuditRow): AuditEntry {
  const action = f.action ?? '';
  const target = f.target ?? '';
  return {
    id,
    at: new Date(Number(id.split('-')[0])).toISOString(),
    actor: f.actor ?? '',
    action,
    target,
    before:
      f.beforeFields !== undefined ? decodeBefore(action, target, f.beforeFields) : parse(f.before),
    after: parse(f.after),
  };
}
