import type { AclRule } from '../domain/acl';
import { writeUnconfirmed } from '../errors';
import { auditArgs, COMMON_STREAM, type AuditNote } from './audit-script';
import type { CredentialStore, WriteOutcome } from './credential-store';
import type { Keys } from './keys';
import type { RedisClient } from './redis-client';
import { guard, RedisReader, type DamageListener } from './redis-reader';
import {
  encodeFields,
  pairsToObject,
  revokingFields,
  type DeviceFields,
  type DeviceRecord,
} from './records';
import { toError, type ScriptReply } from './scripts';
import { ScriptWriter, type DurabilityOptions, type ScriptName } from './script-writer';

export type { DamageListener };

// The Redis credential store: the reads (redis-reader.ts) and the writes, each one Lua script
// in the user's bucket slot with its audit entry, WAITed for the replicas (script-writer.ts).
export class RedisCredentialStore extends RedisReader implements CredentialStore {
  private readonly writer: ScriptWriter;

  /**
   * `redis` answers reads; `writer` (default: the same) carries writes and their WAIT, which
   * holds its connection until the replicas confirm: checks must not queue behind it.
   * `auditCap`: AUDIT_MAX_ENTRIES, entries kept in the whole audit trail (the scripts append them).
   */
  constructor(
    redis: RedisClient,
    keys: Keys,
    defaultCommon: readonly AclRule[],
    onDamaged: DamageListener = () => undefined,
    durability: DurabilityOptions = { minReplicasAck: 0, waitTimeoutMs: 1000 },
    writer: RedisClient = redis,
    private readonly auditCap = 100000,
  ) {
    super(redis, keys, defaultCommon, onDamaged);
    this.writer = new ScriptWriter(writer, durability);
  }

  /**
   * One change script and its audit entry; a write the replicas did not confirm comes back
   * with `unconfirmed` set (it is applied on the primary: the caller knows what it did).
   */
  private async script(
    name: ScriptName,
    keys: string[],
    args: string[],
    audit: { note: AuditNote | null; stream: number },
  ): Promise<{ reply: ScriptReply; unconfirmed?: Error }> {
    const argv = [...auditArgs(audit.note, this.auditCap, audit.stream), ...args];
    const slot = audit.stream === COMMON_STREAM ? 'common' : String(audit.stream);
    const { reply, acked } = await this.writer.run(name, [...keys, ...argv], slot);
    const { minReplicasAck, waitTimeoutMs } = this.writer.durability;
    if (reply[0] === 'OK' && acked !== null && acked < minReplicasAck)
      return { reply, unconfirmed: writeUnconfirmed(acked, minReplicasAck, waitTimeoutMs) };
    return { reply };
  }

  /** Slots whose writes keep failing (for /readyz), after one more try of each. */
  async failingWrites(): Promise<{ slot: string; since: number; error: string }[]> {
    await Promise.all(
      [...this.writer.failing.keys()].map((slot) => {
        const b = slot === 'common' ? slot : Number(slot);
        return this.writer
          .run('touch', [this.keys.ack(b), String(Date.now())], slot)
          .catch(() => undefined);
      }),
    );
    return [...this.writer.failing].map(([slot, f]) => ({ slot, ...f }));
  }

  /**
   * Whether every write to `username`'s slot so far is on REDIS_MIN_REPLICAS_ACK replicas:
   * a write to that slot, then WAIT (replication is in order: what came before is there too).
   */
  async confirm(username: string): Promise<boolean> {
    const b = this.keys.bucketOf(username);
    const { acked } = await guard(() =>
      this.writer.run('touch', [this.keys.ack(b), String(Date.now())], String(b)),
    );
    return acked === null || acked >= this.writer.durability.minReplicasAck;
  }

  close(): Promise<void> {
    return this.writer.close();
  }

  private async write(
    mode: 'create' | 'update' | 'upsert',
    username: string,
    always: Partial<DeviceFields>,
    ifNew: Partial<DeviceFields> = {},
    note: AuditNote | null = null,
  ): Promise<WriteOutcome> {
    const a = encodeFields(always);
    const b = this.keys.bucketOf(username);
    const { reply, unconfirmed } = await this.script(
      'writeUser',
      this.userKeys(username, b),
      [
        mode,
        this.keys.events,
        username,
        String(a.length / 2),
        revokingFields(always),
        ...a,
        ...encodeFields(ifNew),
      ],
      { note, stream: b },
    );
    return this.outcome(reply, username, unconfirmed);
  }

  /** KEYS of WRITE_USER and DELETE_USER, in their headers' order: all in bucket `b`'s slot. */
  private userKeys(username: string, b: number): string[] {
    return [
      this.keys.user(username),
      this.keys.index(b),
      this.keys.revision(b),
      this.keys.auditBucket(b),
    ];
  }

  private outcome(reply: ScriptReply, username: string, unconfirmed?: Error): WriteOutcome {
    const [code, revision, old] = reply;
    if (code !== 'OK') throw toError(code, `device "${username}"`);
    return {
      before: this.decode(username, pairsToObject(old)),
      revision: Number(revision),
      ...(unconfirmed && { unconfirmed }),
    };
  }

  createUser(record: DeviceRecord, note?: AuditNote): Promise<WriteOutcome> {
    const { username, ...fields } = record;
    return this.write('create', username, fields, {}, note);
  }

  updateUser(username: string, patch: Partial<DeviceFields>, note?: AuditNote) {
    return this.write('update', username, patch, {}, note);
  }

  upsertUser(
    username: string,
    always: Partial<DeviceFields>,
    ifNew: Partial<DeviceFields>,
    note?: AuditNote,
  ) {
    return this.write('upsert', username, always, ifNew, note);
  }

  /**
   * Writes a hash as it was stored by an earlier layout, field for field, unless the user
   * exists already (then the existing one, written since, is newer). For migrate-store.
   */
  async copyIn(username: string, fields: Record<string, string>): Promise<'created' | 'exists'> {
    const pairs = Object.entries(fields).flat();
    const b = this.keys.bucketOf(username);
    const { reply } = await this.script(
      'writeUser',
      this.userKeys(username, b),
      // a copy creates: nothing to revoke
      ['create', this.keys.events, username, String(pairs.length / 2), '', ...pairs],
      { note: null, stream: b },
    );
    return reply[0] === 'OK' ? 'created' : 'exists';
  }

  async deleteUser(username: string, note?: AuditNote): Promise<WriteOutcome> {
    const b = this.keys.bucketOf(username);
    const { reply, unconfirmed } = await this.script(
      'deleteUser',
      this.userKeys(username, b),
      [this.keys.events, username],
      { note: note ?? null, stream: b },
    );
    return this.outcome(reply, username, unconfirmed);
  }

  async replaceHash(
    username: string,
    expected: string,
    hash: string,
    updatedAt: string,
    note?: AuditNote,
  ) {
    const b = this.keys.bucketOf(username);
    // Unconfirmed or not, the login it follows has answered already: nobody waits for this.
    const { reply } = await this.script(
      'replaceHash',
      [this.keys.user(username), this.keys.revision(b), this.keys.auditBucket(b)],
      [this.keys.events, username, expected, hash, updatedAt],
      { note: note ?? null, stream: b },
    );
    return reply[0] === 'OK' ? ('replaced' as const) : ('changed' as const);
  }

  async setCommonAcl(rules: AclRule[], note?: AuditNote) {
    const { reply, unconfirmed } = await this.script(
      'setCommon',
      [this.keys.commonAcl, this.keys.commonRevision, this.keys.auditCommon],
      [this.keys.events, JSON.stringify(rules)],
      { note: note ?? null, stream: COMMON_STREAM },
    );
    const [, revision, old] = reply;
    return {
      before: this.parseCommon(String(old ?? '')),
      revision: Number(revision),
      ...(unconfirmed && { unconfirmed }),
    };
  }
}
