import type Redis from 'ioredis';
import type { AclRule } from '../domain/acl';
import { badRequest, StoreUnavailableError } from '../errors';
import type { CredentialStore, Page, WriteOutcome } from './credential-store';
import type { Keys } from './keys';
import {
  COMMON,
  decodeCommon,
  decodeRecord,
  encodeFields,
  pairsToObject,
  wrongTypeRecord,
  type Damage,
  type DeviceFields,
  type DeviceRecord,
} from './records';
import { DELETE_USER, SET_COMMON, toError, WRITE_USER, type ScriptReply } from './scripts';

interface ScriptClient extends Redis {
  writeUser(...args: string[]): Promise<ScriptReply>;
  deleteUser(...args: string[]): Promise<ScriptReply>;
  setCommon(...args: string[]): Promise<ScriptReply>;
}

/** Every Redis failure, error replies included, becomes StoreUnavailableError (→ 503). */
async function guard<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    if ((err as { status?: number }).status) throw err; // our own AppErrors
    throw new StoreUnavailableError(err);
  }
}

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
  private readonly redis: ScriptClient;

  constructor(
    redis: Redis,
    private readonly keys: Keys,
    private readonly defaultCommon: readonly AclRule[],
    private readonly onDamaged: DamageListener = () => undefined,
  ) {
    redis.defineCommand('writeUser', { numberOfKeys: 3, lua: WRITE_USER });
    redis.defineCommand('deleteUser', { numberOfKeys: 3, lua: DELETE_USER });
    redis.defineCommand('setCommon', { numberOfKeys: 2, lua: SET_COMMON });
    this.redis = redis as ScriptClient;
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
    return guard(async () => {
      const res = await this.redis
        .pipeline()
        .hgetall(this.keys.user(username))
        .get(this.keys.commonAcl)
        .exec();
      if (!res) throw new Error('pipeline aborted');
      const [[e1, h], [e2, common]] = res as [
        [Error | null, Record<string, string>],
        [Error | null, string | null],
      ];
      for (const e of [e1, e2]) if (e && !isWrongType(e)) throw e;
      return {
        user: e1 ? this.wrongType(username) : this.decode(username, h),
        common: e2 ? this.commonWrongType() : this.parseCommon(common),
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
    const reply = await guard(() =>
      this.redis.writeUser(
        this.keys.user(username),
        this.keys.index,
        this.keys.revision,
        mode,
        this.keys.events,
        username,
        String(a.length / 2),
        ...a,
        ...encodeFields(ifNew),
      ),
    );
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

  async deleteUser(username: string): Promise<WriteOutcome> {
    const reply = await guard(() =>
      this.redis.deleteUser(
        this.keys.user(username),
        this.keys.index,
        this.keys.revision,
        this.keys.events,
        username,
      ),
    );
    return this.outcome(reply, username);
  }

  async setCommonAcl(rules: AclRule[]) {
    const [, revision, old] = await guard(() =>
      this.redis.setCommon(
        this.keys.commonAcl,
        this.keys.revision,
        this.keys.events,
        JSON.stringify(rules),
      ),
    );
    return { before: this.parseCommon(String(old ?? '')), revision: Number(revision) };
  }

  /** HGETALL each name, or HMGET only `fields` (exports read five of nine). */
  private async fetchMany(names: string[], fields?: readonly string[]): Promise<DeviceRecord[]> {
    if (names.length === 0) return [];
    const p = this.redis.pipeline();
    for (const n of names) {
      if (fields) p.hmget(this.keys.user(n), ...fields);
      else p.hgetall(this.keys.user(n));
    }
    const res = (await p.exec()) ?? [];
    const out: DeviceRecord[] = [];
    res.forEach(([err, reply], i) => {
      const name = names[i] as string;
      if (err) {
        if (!isWrongType(err)) throw err;
        out.push(this.wrongType(name));
        return;
      }
      const h = fields
        ? zip(fields, reply as (string | null)[])
        : (reply as Record<string, string>);
      // A name deleted between ZRANGE and the read is simply gone from this page.
      const rec = this.decode(name, h);
      if (rec) out.push(rec);
    });
    return out;
  }

  private page(
    cursor: string | undefined,
    limit: number,
    fields?: readonly string[],
    prefix = '',
  ): Promise<Page> {
    return guard(async () => {
      const after = cursor ? decodeCursor(cursor) : null;
      // 0xFF never occurs in UTF-8: every name starting with the prefix sorts below it.
      const end = prefix ? Buffer.concat([Buffer.from(`[${prefix}`), Buffer.from([0xff])]) : '+';
      const start = after !== null && after >= prefix ? `(${after}` : prefix ? `[${prefix}` : '-';
      const names = await this.redis.zrangebylex(this.keys.index, start, end, 'LIMIT', 0, limit);
      const users = await this.fetchMany(names, fields);
      const last = names[names.length - 1];
      return {
        users,
        next: names.length === limit && last !== undefined ? encodeCursor(last) : null,
      };
    });
  }

  listUsers(opts: { cursor?: string; limit: number; prefix?: string }): Promise<Page> {
    return this.page(opts.cursor, opts.limit, undefined, opts.prefix);
  }

  async *iterateUsers(batch: number, fields?: readonly string[]): AsyncGenerator<DeviceRecord[]> {
    let next = this.page(undefined, batch, fields);
    for (;;) {
      const page = await next;
      // Ask for the next page while the caller works on this one.
      if (page.next !== null) {
        next = this.page(page.next, batch, fields);
        next.catch(() => undefined); // rejected while the caller is away: it is awaited above
      }
      if (page.users.length > 0) yield page.users;
      if (page.next === null) return;
    }
  }

  countUsers(): Promise<number> {
    return guard(() => this.redis.zcard(this.keys.index));
  }

  revision(): Promise<number> {
    return guard(async () => Number((await this.redis.get(this.keys.revision)) ?? 0));
  }
}
