import { Cluster, ReplyError, type ChainableCommander } from 'ioredis';
import type { AclRule } from '../domain/acl';
import { AppError, badRequest, StoreUnavailableError } from '../errors';
import type { CredentialStore, Page, WriteOutcome } from './credential-store';
import { BUCKETS, type Keys } from './keys';
import { chunkFor, IndexMerge } from './merged-index';
import type { RedisClient } from './redis-client';
import {
  decodeRecord,
  encodeFields,
  pairsToObject,
  type DeviceFields,
  type DeviceRecord,
} from './records';
import { DELETE_USER, SET_COMMON, toError, WRITE_USER, type ScriptReply } from './scripts';

interface Scripts {
  writeUser(...args: string[]): ChainableCommander;
  deleteUser(...args: string[]): ChainableCommander;
  setCommon(...args: string[]): ChainableCommander;
}

// Replies that mean "no primary for this slot right now" (failover, resharding, a replica that
// was a primary, a node still loading): the store is unavailable, not broken (→ 503).
const TRANSIENT = /^(READONLY|LOADING|TRYAGAIN|MOVED|ASK|CLUSTERDOWN|MASTERDOWN|NOREPLICAS|BUSY)\b/;

/** Connection-level failures become StoreUnavailableError (→ 503); other replies pass. */
async function guard<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    if (err instanceof ReplyError && TRANSIENT.test((err as Error).message)) {
      throw new StoreUnavailableError(err);
    }
    if (err instanceof ReplyError || (err as { status?: number }).status) throw err;
    throw new StoreUnavailableError(err);
  }
}

/** The replies of a pipeline, or its first error. */
async function run(p: ChainableCommander): Promise<unknown[]> {
  const res = await p.exec();
  if (!res) throw new Error('pipeline aborted');
  return res.map(([err, reply]) => {
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
  new AppError(
    503,
    'write_unconfirmed',
    `the write reached the Redis primary but ${acked} of ${opts.minReplicasAck} replica(s) ` +
      `confirmed it within ${opts.waitTimeoutMs} ms: it may or may not survive a failover; ` +
      're-read the device and retry if needed',
  );

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
    private readonly durability: DurabilityOptions = { minReplicasAck: 0, waitTimeoutMs: 1000 },
    private readonly writer: RedisClient = redis,
  ) {
    for (const c of new Set([redis, writer])) {
      c.defineCommand('writeUser', { numberOfKeys: 3, lua: WRITE_USER });
      c.defineCommand('deleteUser', { numberOfKeys: 3, lua: DELETE_USER });
      c.defineCommand('setCommon', { numberOfKeys: 2, lua: SET_COMMON });
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
    const [reply, acked] = await guard(() => run(p));
    const r = reply as ScriptReply;
    if (r[0] === 'OK' && minReplicasAck > 0 && Number(acked) < minReplicasAck) {
      throw unconfirmedWrite(Number(acked), this.durability);
    }
    return r;
  }

  private parseCommon(text: string | null): AclRule[] {
    if (text === null || text === '') return [...this.defaultCommon];
    try {
      const rules = JSON.parse(text) as unknown;
      if (Array.isArray(rules)) return rules as AclRule[];
    } catch {
      /* fall through: fail closed */
    }
    return [{ pattern: '#', access: 'deny' }];
  }

  getUser(username: string): Promise<DeviceRecord | null> {
    return guard(async () =>
      decodeRecord(username, await this.redis.hgetall(this.keys.user(username))),
    );
  }

  getUserWithCommon(username: string) {
    // Two slots (in Cluster two nodes, maybe): sent together, answered in one round trip's time.
    return guard(async () => {
      const [h, common] = await Promise.all([
        this.redis.hgetall(this.keys.user(username)),
        this.redis.get(this.keys.commonAcl),
      ]);
      return { user: decodeRecord(username, h), common: this.parseCommon(common) };
    });
  }

  getCommonAcl(): Promise<AclRule[]> {
    return guard(async () => this.parseCommon(await this.redis.get(this.keys.commonAcl)));
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
      ...a,
      ...encodeFields(ifNew),
    ]);
    return this.outcome(reply, username);
  }

  private outcome(reply: ScriptReply, username: string): WriteOutcome {
    const [code, revision, old] = reply;
    if (code !== 'OK') throw toError(code, `device "${username}"`);
    return { before: decodeRecord(username, pairsToObject(old)), revision: Number(revision) };
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
    const replies = new Map<string, unknown>();
    await Promise.all(
      [...groups.values()].map(async (group) => {
        const p = this.redis.pipeline();
        for (const n of group) {
          if (fields) p.hmget(this.keys.user(n), ...fields);
          else p.hgetall(this.keys.user(n));
        }
        (await run(p)).forEach((reply, i) => replies.set(group[i] as string, reply));
      }),
    );
    const out: DeviceRecord[] = [];
    for (const name of names) {
      const reply = replies.get(name);
      const h = fields
        ? zip(fields, reply as (string | null)[])
        : (reply as Record<string, string>);
      // A name deleted between ZRANGE and the read is simply gone from this page.
      const rec = decodeRecord(name, h);
      if (rec) out.push(rec);
    }
    return out;
  }

  private merge(after: string | null, limit: number): IndexMerge {
    return new IndexMerge(
      BUCKETS,
      (b, from, count) =>
        this.redis.zrangebylex(
          this.keys.index(b),
          from === null ? '-' : `(${from}`,
          '+',
          'LIMIT',
          0,
          count,
        ),
      after,
      chunkFor(limit, BUCKETS),
    );
  }

  listUsers(opts: { cursor?: string; limit: number }): Promise<Page> {
    return guard(async () => {
      const after = opts.cursor ? decodeCursor(opts.cursor) : null;
      const names = await this.merge(after, opts.limit).next(opts.limit);
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
      return (await run(p)).map((v) => Number(v ?? 0));
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
