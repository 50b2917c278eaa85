// The read side of the Redis credential store: one user (with or without the common rules),
// pages and walks over the 64 bucketed indexes, counts and the revision sum. What Redis
// returns is decoded here, once; a record that does not decode is reported and denied.
import { Cluster, type ChainableCommander } from 'ioredis';
import type { AclRule } from '../domain/acl';
import { AppError, badRequest, StoreUnavailableError } from '../errors';
import type { NamePosition, Page } from './credential-store';
import { BUCKETS, type Keys } from './keys';
import { chunkFor, IndexMerge } from './merged-index';
import type { RedisClient } from './redis-client';
import {
  COMMON,
  decodeCommon,
  decodeRecord,
  wrongTypeRecord,
  type Damage,
  type DeviceRecord,
} from './records';

/** Every Redis failure, error replies included, becomes StoreUnavailableError (→ 503). */
export async function guard<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    if (err instanceof AppError || err instanceof StoreUnavailableError) throw err; // ours
    throw new StoreUnavailableError(err);
  }
}

/** The [error, reply] pairs of a pipeline. */
export async function run(p: ChainableCommander): Promise<[Error | null, unknown][]> {
  const res = await p.exec();
  if (!res) throw new Error('pipeline aborted');
  return res;
}

/** The replies of a pipeline, or its first error. */
export async function replies(p: ChainableCommander): Promise<unknown[]> {
  return (await run(p)).map(([err, reply]) => {
    if (err) throw err;
    return reply;
  });
}

export const isWrongType = (err: unknown): boolean =>
  (err as Error | null)?.name === 'ReplyError' &&
  String((err as Error).message).startsWith('WRONGTYPE');

/** Told once per read of a record or common rules that did not decode (an error log line). */
export type DamageListener = (target: string, damage: readonly Damage[]) => void;

function zip(fields: readonly string[], values: (string | null)[]): Record<string, string> {
  const out: Record<string, string> = {};
  fields.forEach((f, i) => {
    const v = values[i];
    if (v !== null && v !== undefined) out[f] = v;
  });
  return out;
}

const encodeCursor = (name: string) => Buffer.from(name, 'utf8').toString('base64url');
function decodeCursor(cursor: string): string {
  if (!/^[A-Za-z0-9_-]*$/.test(cursor)) throw badRequest('cursor: not a cursor from this API');
  return Buffer.from(cursor, 'base64url').toString('utf8');
}
// ZRANGEBYLEX bounds: `(x` exclusive; a name may hold any byte, which the protocol carries.

export class RedisReader {
  protected readonly cluster: boolean;

  constructor(
    protected readonly redis: RedisClient,
    protected readonly keys: Keys,
    protected readonly defaultCommon: readonly AclRule[],
    protected readonly onDamaged: DamageListener = () => undefined,
  ) {
    this.cluster = redis instanceof Cluster;
  }

  protected parseCommon(text: string | null): AclRule[] {
    const { rules, damaged } = decodeCommon(text, this.defaultCommon);
    if (damaged) this.onDamaged(COMMON, damaged);
    return rules;
  }

  /** The one decode of a user read: damaged records are reported here, once per read. */
  protected decode(username: string, h: Record<string, string>): DeviceRecord | null {
    const rec = decodeRecord(username, h);
    if (rec?.damaged) this.onDamaged(username, rec.damaged);
    return rec;
  }

  protected wrongType(username: string): DeviceRecord {
    const rec = wrongTypeRecord(username);
    this.onDamaged(username, rec.damaged ?? []);
    return rec;
  }

  getUser(username: string): Promise<DeviceRecord | null> {
    return guard(async () => {
      try {
        return this.decode(username, await this.redis.hgetall(this.keys.user(username)));
      } catch (err) {
        if (isWrongType(err)) return this.wrongType(username);
        throw err;
      }
    });
  }

  getUserWithCommon(username: string) {
    // Two slots (in Cluster two nodes, maybe): sent together, answered in one round trip's time.
    return guard(async () => {
      const [u, c] = await Promise.allSettled([
        this.redis.hgetall(this.keys.user(username)),
        this.redis.get(this.keys.commonAcl),
      ]);
      for (const r of [u, c]) if (r.status === 'rejected' && !isWrongType(r.reason)) throw r.reason;
      return {
        user: u.status === 'rejected' ? this.wrongType(username) : this.decode(username, u.value),
        common: c.status === 'rejected' ? this.commonWrongType() : this.parseCommon(c.value),
      };
    });
  }

  getCommonAcl(): Promise<AclRule[]> {
    return guard(async () => {
      try {
        return this.parseCommon(await this.redis.get(this.keys.commonAcl));
      } catch (err) {
        if (!isWrongType(err)) throw err;
        return this.commonWrongType();
      }
    });
  }

  protected commonWrongType(): AclRule[] {
    this.onDamaged(COMMON, [{ field: 'key', reason: 'not a string (WRONGTYPE)' }]);
    return [];
  }

  /**
   * HGETALL each name, or HMGET only `fields` (exports read five of nine): one pipeline, or in
   * Cluster one per bucket (a pipeline must stay in one slot), all sent at once.
   */
  private async fetchMany(names: string[], fields?: readonly string[]): Promise<DeviceRecord[]> {
    // A name deleted between ZRANGE and the read is simply gone from this page.
    return (await this.fetchEach(names, fields)).filter((r): r is DeviceRecord => r !== null);
  }

  /** One record (or null: no such user) per name, in order; one round trip as fetchMany. */
  getUsers(names: string[]): Promise<(DeviceRecord | null)[]> {
    return guard(() => this.fetchEach(names));
  }

  /**
   * Up to `limit` names after `after` in (bucket, name) order: each bucket's index read in
   * lexicographic order from an exclusive bound, so a name present for the whole walk comes
   * exactly once whatever is added or removed meanwhile (ZSCAN may repeat names).
   */
  namesAfter(after: NamePosition | null, limit: number): Promise<NamePosition[]> {
    return guard(async () => {
      const out: NamePosition[] = [];
      let bucket = after?.bucket ?? 0;
      let from = after?.name ?? null;
      for (; bucket < BUCKETS && out.length < limit; bucket++, from = null) {
        const need = limit - out.length;
        const names = await this.redis.zrangebylex(
          this.keys.index(bucket),
          from === null ? '-' : `(${from}`,
          '+',
          'LIMIT',
          0,
          need,
        );
        for (const name of names) out.push({ bucket, name });
        if (names.length === need) break;
      }
      return out;
    });
  }

  private async fetchEach(
    names: string[],
    fields?: readonly string[],
  ): Promise<(DeviceRecord | null)[]> {
    if (names.length === 0) return [];
    const groups = new Map<number, string[]>();
    for (const n of names) {
      const g = this.cluster ? this.keys.bucketOf(n) : 0;
      const list = groups.get(g);
      if (list) list.push(n);
      else groups.set(g, [n]);
    }
    const got = new Map<string, [Error | null, unknown]>();
    await Promise.all(
      [...groups.values()].map(async (group) => {
        const p = this.redis.pipeline();
        for (const n of group) {
          if (fields) p.hmget(this.keys.user(n), ...fields);
          else p.hgetall(this.keys.user(n));
        }
        (await run(p)).forEach((pair, i) => got.set(group[i] as string, pair));
      }),
    );
    const out: (DeviceRecord | null)[] = [];
    for (const name of names) {
      const [err, reply] = got.get(name) ?? [null, null];
      if (err) {
        if (!isWrongType(err)) throw err;
        out.push(this.wrongType(name));
        continue;
      }
      const h = fields
        ? zip(fields, reply as (string | null)[])
        : (reply as Record<string, string>);
      out.push(this.decode(name, h));
    }
    return out;
  }

  private merge(after: string | null, limit: number, prefix = ''): IndexMerge {
    // 0xFF never occurs in UTF-8: every name starting with the prefix sorts below it.
    const end = prefix ? Buffer.concat([Buffer.from(`[${prefix}`), Buffer.from([0xff])]) : '+';
    return new IndexMerge(
      BUCKETS,
      (b, from, count) =>
        this.redis.zrangebylex(
          this.keys.index(b),
          from !== null && from >= prefix ? `(${from}` : prefix ? `[${prefix}` : '-',
          end,
          'LIMIT',
          0,
          count,
        ),
      after,
      chunkFor(limit, BUCKETS),
    );
  }

  listUsers(opts: { cursor?: string; limit: number; prefix?: string }): Promise<Page> {
    return guard(async () => {
      const after = opts.cursor ? decodeCursor(opts.cursor) : null;
      const names = await this.merge(after, opts.limit, opts.prefix).next(opts.limit);
      const users = await this.fetchMany(names);
      const last = names[names.length - 1];
      return {
        users,
        next: names.length === opts.limit && last !== undefined ? encodeCursor(last) : null,
      };
    });
  }

  async *iterateUsers(batch: number, fields?: readonly string[]): AsyncGenerator<DeviceRecord[]> {
    // One merge for the whole walk: each bucket is read a chunk at a time, once.
    const merge = this.merge(null, batch);
    const page = async () => {
      const names = await guard(() => merge.next(batch));
      return { names, users: await guard(() => this.fetchMany(names, fields)) };
    };
    let next = page();
    for (;;) {
      const { names, users } = await next;
      const more = names.length === batch;
      // Ask for the next batch while the caller works on this one.
      if (more) {
        next = page();
        next.catch(() => undefined); // rejected while the caller is away: it is awaited above
      }
      if (users.length > 0) yield users;
      if (!more) return;
    }
  }

  /** One value per key, each key in its own slot: MGET-like on any topology. */
  private async each(keys: string[], cmd: 'get' | 'zcard'): Promise<number[]> {
    if (!this.cluster) {
      const p = this.redis.pipeline();
      for (const k of keys) p[cmd](k);
      return (await replies(p)).map((v) => Number(v ?? 0));
    }
    return Promise.all(keys.map(async (k) => Number((await this.redis[cmd](k)) ?? 0)));
  }

  countUsers(): Promise<number> {
    return guard(async () => {
      const counts = await this.each(
        Array.from({ length: BUCKETS }, (_, b) => this.keys.index(b)),
        'zcard',
      );
      return counts.reduce((a, b) => a + b, 0);
    });
  }

  /**
   * The sum of the bucket counters and the common rules' counter: it grows with every change
   * anywhere, so an exporter that saw a sum has seen every change up to it.
   */
  revision(): Promise<number> {
    return guard(async () => {
      const keys = Array.from({ length: BUCKETS }, (_, b) => this.keys.revision(b));
      const revs = await this.each([...keys, this.keys.commonRevision], 'get');
      return revs.reduce((a, b) => a + b, 0);
    });
  }
}
