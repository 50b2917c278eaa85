// The audit trail: every management change (who, what, when, before/after without secrets)
// appended to a capped Redis stream.
import type { RedisClient } from '../store/redis-client';
import type { Change } from '../devices/device-service';
import type { Logger } from '../logger';

export interface AuditEntry {
  id: string;
  at: string;
  actor: string;
  action: string;
  target: string;
  before: unknown;
  after: unknown;
}

export class AuditLog {
  constructor(
    private readonly redis: RedisClient,
    private readonly key: string,
    private readonly maxEntries: number,
    private readonly logger: Logger,
  ) {}

  /** Appends; a failure is logged, never undoes the change it describes (Redis has it). */
  async record(change: Change): Promise<void> {
    const actor = change.actor ?? 'system';
    try {
      await this.redis.xadd(
        this.key,
        'MAXLEN',
        '~',
        String(this.maxEntries),
        '*',
        'actor',
        actor,
        'action',
        change.action,
        'target',
        change.target,
        'before',
        JSON.stringify(change.before ?? null),
        'after',
        JSON.stringify(change.after ?? null),
      );
    } catch (err) {
      this.logger.error(
        { err: (err as Error).message, action: change.action },
        'audit append failed',
      );
    }
    this.logger.info({ actor, action: change.action, target: change.target }, 'management change');
  }

  /** Newest first; `before` is an entry id to page backwards from (exclusive). */
  async read(limit: number, before?: string): Promise<AuditEntry[]> {
    const rows = await this.redis.xrevrange(
      this.key,
      before ? `(${before}` : '+',
      '-',
      'COUNT',
      limit,
    );
    return rows.map(([id, fields]) => {
      const f: Record<string, string> = {};
      for (let i = 0; i + 1 < fields.length; i += 2)
        f[fields[i] as string] = fields[i + 1] as string;
      const parse = (s: string | undefined): unknown => {
        if (s === undefined) return null;
        try {
          return JSON.parse(s) as unknown;
        } catch {
          return s; // an entry written by someone else: shown as it is
        }
      };
      return {
        id,
        at: new Date(Number(id.split('-')[0])).toISOString(),
        actor: f.actor ?? '',
        action: f.action ?? '',
        target: f.target ?? '',
        before: parse(f.before),
        after: parse(f.after),
      };
    });
  }
}
