import type { AclRule } from '../domain/acl';
import type { AuditNote } from './audit-script';
import type { DeviceFields, DeviceRecord } from './records';

export type { AuditNote };

export interface WriteOutcome {
  /** The record before the write (null when it was created). */
  before: DeviceRecord | null;
  revision: number;
  /** Applied on the primary, not confirmed by enough replicas: the error to answer with. */
  unconfirmed?: Error;
}

export interface Page {
  users: DeviceRecord[];
  /** Opaque cursor for the next page; null at the end. */
  next: string | null;
}

/** Where a walk over every user stands: a bucket and the last name read in it. */
export interface NamePosition {
  bucket: number;
  name: string | null;
}

/** The credential store: Redis is the implementation; the domain never sees Redis. */
export interface CredentialStore {
  getUser(username: string): Promise<DeviceRecord | null>;
  /** The user and the common rules in one round trip (a cold check). */
  getUserWithCommon(username: string): Promise<{ user: DeviceRecord | null; common: AclRule[] }>;
  getCommonAcl(): Promise<AclRule[]>;
  /** One record (null: no such user) per name, in the order asked. */
  getUsers(usernames: string[]): Promise<(DeviceRecord | null)[]>;
  /** The walk of the records page: names after a position in (bucket, name) order. */
  namesAfter(after: NamePosition | null, limit: number): Promise<NamePosition[]>;
  // `note`: the audit entry, appended in the same atomic step as the change.
  createUser(record: DeviceRecord, note?: AuditNote): Promise<WriteOutcome>;
  updateUser(
    username: string,
    patch: Partial<DeviceFields>,
    note?: AuditNote,
  ): Promise<WriteOutcome>;
  /** Sets `always` fields; `ifNew` fields only where the user had none (imports). */
  upsertUser(
    username: string,
    always: Partial<DeviceFields>,
    ifNew: Partial<DeviceFields>,
    note?: AuditNote,
  ): Promise<WriteOutcome>;
  deleteUser(username: string, note?: AuditNote): Promise<WriteOutcome>;
  /** Sets `hash` only if the stored hash is still `expected` (compare-and-set). */
  replaceHash(
    username: string,
    expected: string,
    hash: string,
    updatedAt: string,
    note?: AuditNote,
  ): Promise<'replaced' | 'changed'>;
  setCommonAcl(
    rules: AclRule[],
    note?: AuditNote,
  ): Promise<{ before: AclRule[]; revision: number; unconfirmed?: Error }>;
  /** Whether the writes to `username`'s slot so far are on enough replicas (touch + WAIT). */
  confirm(username: string): Promise<boolean>;
  /** Slots whose writes keep failing, each tried once more first. */
  failingWrites(): Promise<{ slot: string; since: number; error: string }[]>;
  /** Users in username order; with `prefix`, only those whose username starts with it. */
  listUsers(opts: { cursor?: string; limit: number; prefix?: string }): Promise<Page>;
  /**
   * Every user in username order, `batch` at a time (the next batch is fetched while the caller
   * works); memory stays flat. With `fields`, only those are read (others take defaults).
   */
  iterateUsers(batch: number, fields?: readonly string[]): AsyncGenerator<DeviceRecord[]>;
  countUsers(): Promise<number>;
  revision(): Promise<number>;
}
