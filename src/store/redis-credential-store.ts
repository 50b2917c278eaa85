import { Cluster, type ChainableCommander } from 'ioredis';
import type { AclRule } from '../domain/acl';
import { AppError, badRequest, StoreUnavailableError, writeUnconfirmed } from '../errors';
import type { CredentialStore, Page, WriteOutcome } from './credential-store';
import { BUCKETS, type Keys } from './keys';
import { chunkFor, IndexMerge } from './merged-index';
import type { RedisClient } from './redis-client';
import {
  COMMON,
  decodeCommon,
  decodeRecord,
  encodeFields,
  pairsToObject,
  revokingFields,
  wrongTypeRecord,
  type Damage,
  type DeviceFields,
  type DeviceRecord,
} from './records';
import {
  DELETE_USER,
  REPLACE_HASH,
  SET_COMMON,
  toError,
  WRITE_USER,
  type ScriptReply,
} from './scripts';

interface Scripts {
  writeUser(...args: string[]): ChainableCommander;
  deleteUser(...args: string[]): ChainableCommander;
  setCommon(...args: string[]): ChainableCommander;
  replaceHash(...args: string[]): ChainableCommander;
}

/** Every Redis failure, error replies included, becomes StoreUnavailableError (→ 503). */
async function guard<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    if (err instanceof AppError || err instanceof StoreUnavailableError) throw err; // ours
    throw new StoreUnavailableError(err);
  }
}

/** The [error, reply] pairs of a pipeline. */
async function run(p: ChainableCommander): Promise<[Error | null, unknown][]> {
  const res = await p.exec();
  if (!res) throw new Error('pipeline aborted');
  return res;
}

/** The replies of a pipeline, or its first error. */
async function replies(p: ChainableCommander): Promise<unknown[]> {
  return (await run(p)).map(([err, reply]) => {
    if (err) throw err;
    return reply;
  });
}

export interface DurabilityOptions {
  /** Replicas that must confirm a write (Redis WAIT) before it is acknowledged; 0: none. */
  minReplicasAck: number;
  waitTimeoutMs: number;
}

export const unconfirmedWrite = (acked: number, opts: DurabilityOptions) =>
  writeUnconfirmed(
    `the write reached the Redis primary but ${acked} of ${opts.minReplicasAck} replica(s) ` +
      `confirmed it within ${opts.waitTimeoutMs} ms: it may or may not survive a failover; ` +
      're-read the device and retry if needed',
  );

const isWrongType = (err: unknown): boolean =>
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

export class RedisCredentialStore implements CredentialStore {
  private readonly cluster: boolean;

  /**
   * `redis` answers reads; `writer` (default: the same) carries writes and their WAIT, which
   * holds its connection until the replicas confirm: checks must not queue behind it.
   */
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly defaultCommon: readonly AclRule[],
    private readonly onDamaged: DamageListener = () => undefined,
    private readonly durability: DurabilityOptions = { minReplicasAck: 0, waitTimeoutMs: 1000 },
    private readonly writer: RedisClient = redis,
  ) {
    for (const c of new Set([redis, writer])) {
      c.defineCommand('writeUser', { numberOfKeys: 3, lua: WRITE_USER });
      c.defineCommand('deleteUser', { numberOfKeys: 3, lua: DELETE_USER });
      c.defineCommand('setCommon', { numberOfKeys: 2, lua: SET_COMMON });
      c.defineCommand('replaceHash', { numberOfKeys: 2, lua: REPLACE_HASH });
    }
    this.cluster = redis instanceof Cluster;
  }

  /**
   * One write script, then WAIT on the same connection (a pipeline goes to the one node that
   * owns the script's slot); a write the replicas did not confirm is not acknowledged.
   */
  private async script(name: keyof Scripts, args: string[]): Promise<ScriptReply> {
    const { minReplicasAck, waitTimeoutMs } = this.durability;
    const p = this.writer.pipeline() as ChainableCommander & Scripts;
    p[name](...args);
    if (minReplicasAck > 0) p.wait(minReplicasAck, waitTimeoutMs);
    const [reply, acked] = await guard(() => replies(p));
    const r = reply as ScriptReply;
    if (r[0] === 'OK' && minReplicasAck > 0 && Number(acked) < minReplicasAck) {
      throw unconfirmedWrite(Number(acked), this.durability);
    }
    return r;
  }

  private parseCommon(text: string | null): AclRule[] {
    const { rules, damaged } = decodeCommon(text, this.defaultCommon);
    if (damaged) this.onDamaged(COMMON, damaged);
    return rules;
  }

  /** The one decode of a user read: damaged records are reported here, once per read. */
  private decode(username: string, h: Record<string, string>): DeviceRecord | null {
    const rec = decodeRecord(username, h);
    if (rec?.damaged) this.onDamaged(username, rec.damaged);
    return rec;
  }

  private wrongType(username: string): DeviceRecord {
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

  private commonWrongType(): AclRule[] {
    this.onDamaged(COMMON, [{ field: 'key', reason: 'not a string (WRONGTYPE)' }]);
    return [];
  }

  private async write(
    mode: 'create' | 'update' | 'upsert',
    username: string,
    always: Partial<DeviceFields>,
    ifNew: Partial<DeviceFields> = {},
  ): Promise<WriteOutcome> {
    const a = encodeFields(always);
    const b = this.keys.bucketOf(username);
    const reply = await this.script('writeUser', [
      this.keys.user(username),
      this.keys.index(b),
      this.keys.revision(b),
      mode,
      this.keys.events,
      username,
      String(a.length / 2),
      revokingFields(always),
      ...a,
      ...encodeFields(ifNew),
    ]);
    return this.outcome(reply, username);
  }

  private outcome(reply: ScriptReply, username: string): WriteOutcome {
    const [code, revision, old] = reply;
    if (code !== 'OK') throw toError(code, `device "${username}"`);
    return { before: this.decode(username, pairsToObject(old)), revision: Number(revision) };
  }

  createUser(record: DeviceRecord): Promise<WriteOutcome> {
    const { username, ...fields } = record;
    return this.write('create', username, fields);
  }

  updateUser(username: string, patch: Partial<DeviceFields>): Promise<WriteOutcome> {
    return this.write('update', username, patch);
  }

  upsertUser(username: string, always: Partial<DeviceFields>, ifNew: Partial<DeviceFields>) {
    return this.write('upsert', username, always, ifNew);
  }

  /**
   * Writes a hash as it was stored by an earlier layout, field for field, unless the user
   * exists already (then the existing one, written since, is newer). For migrate-store.
   */
  async copyIn(username: string, fields: Record<string, string>): Promise<'created' | 'exists'> {
    const pairs = Object.entries(fields).flat();
    const b = this.keys.bucketOf(username);
    const [code] = await this.script('writeUser', [
      this.keys.user(username),
      this.keys.index(b),
      this.keys.revision(b),
      'create',
      this.keys.events,
      username,
      String(pairs.length / 2),
      '', // a copy creates: nothing to revoke
      ...pairs,
    ]);
    return code === 'OK' ? 'created' : 'exists';
  }

  async deleteUser(username: string): Promise<WriteOutcome> {
    const b = this.keys.bucketOf(username);
    const reply = await this.script('deleteUser', [
      this.keys.user(username),
      this.keys.index(b),
      this.keys.revision(b),
      this.keys.events,
      username,
    ]);
    return this.outcome(reply, username);
  }

  async replaceHash(username: string, expected: string, hash: string, updatedAt: string) {
    const [code] = await this.script('replaceHash', [
      this.keys.user(username),
      this.keys.revision(this.keys.bucketOf(username)),
      this.keys.events,
      username,
      expected,
      hash,
      updatedAt,
    ]);
    return code === 'OK' ? ('replaced' as const) : ('changed' as const);
  }

  async setCommonAcl(rules: AclRule[]) {
    const [, revision, old] = await this.script('setCommon', [
      this.keys.commonAcl,
      this.keys.commonRevision,
      this.keys.events,
      JSON.stringify(rules),
    ]);
    return { before: this.parseCommon(String(old ?? '')), revision: Number(revision) };
  }

  /**
   * HGETALL each name, or HMGET only `fields` (exports read five of nine): one pipeline, or in
   * Cluster one per bucket (a pipeline must stay in one slot), all sent at once.
   */
  private async fetchMany(names: string[], fields?: readonly string[]): Promise<DeviceRecord[]> {
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
    const out: DeviceRecord[] = [];
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
      // A name deleted between ZRANGE and the read is simply gone from this page.
      const rec = this.decode(name, h);
      if (rec) out.push(rec);
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
