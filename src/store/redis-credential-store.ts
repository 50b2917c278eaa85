import type Redis from 'ioredis';
import { ReplyError } from 'ioredis';
import type { AclRule } from '../domain/acl';
import { badRequest, StoreUnavailableError } from '../errors';
import type { CredentialStore, Page, WriteOutcome } from './credential-store';
import type { Keys } from './keys';
import {
  decodeRecord,
  encodeFields,
  pairsToObject,
  type DeviceFields,
  type DeviceRecord,
} from './records';
import { DELETE_USER, SET_COMMON, toError, WRITE_USER, type ScriptReply } from './scripts';

interface ScriptClient extends Redis {
  writeUser(...args: string[]): Promise<ScriptReply>;
  deleteUser(...args: string[]): Promise<ScriptReply>;
  setCommon(...args: string[]): Promise<ScriptReply>;
}

/** Connection-level failures become StoreUnavailableError (→ 503); Redis replies pass. */
async function guard<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    if (err instanceof ReplyError || (err as { status?: number }).status) throw err;
    throw new StoreUnavailableError(err);
  }
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
  ) {
    redis.defineCommand('writeUser', { numberOfKeys: 3, lua: WRITE_USER });
    redis.defineCommand('deleteUser', { numberOfKeys: 3, lua: DELETE_USER });
    redis.defineCommand('setCommon', { numberOfKeys: 2, lua: SET_COMMON });
    this.redis = redis as ScriptClient;
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
      if (e1 || e2) throw e1 ?? e2;
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

  private async fetchMany(names: string[]): Promise<DeviceRecord[]> {
    if (names.length === 0) return [];
    const p = this.redis.pipeline();
    for (const n of names) p.hgetall(this.keys.user(n));
    const res = (await p.exec()) ?? [];
    const out: DeviceRecord[] = [];
    res.forEach(([err, h], i) => {
      if (err) throw err;
      // A name deleted between ZRANGE and HGETALL is simply gone from this page.
      const rec = decodeRecord(names[i] as string, h as Record<string, string>);
      if (rec) out.push(rec);
    });
    return out;
  }

  listUsers(opts: { cursor?: string; limit: number }): Promise<Page> {
    return guard(async () => {
      const after = opts.cursor ? decodeCursor(opts.cursor) : null;
      const names = await this.redis.zrangebylex(
        this.keys.index,
        after === null ? '-' : `(${after}`,
        '+',
        'LIMIT',
        0,
        opts.limit,
      );
      const users = await this.fetchMany(names);
      const last = names[names.length - 1];
      return {
        users,
        next: names.length === opts.limit && last !== undefined ? encodeCursor(last) : null,
      };
    });
  }

  async *iterateUsers(batch: number): AsyncGenerator<DeviceRecord[]> {
    let cursor: string | undefined;
    for (;;) {
      const page = await this.listUsers({ cursor, limit: batch });
      if (page.users.length > 0) yield page.users;
      if (page.next === null) return;
      cursor = page.next;
    }
  }

  countUsers(): Promise<number> {
    return guard(() => this.redis.zcard(this.keys.index));
  }

  revision(): Promise<number> {
    return guard(async () => Number((await this.redis.get(this.keys.revision)) ?? 0));
  }
}
