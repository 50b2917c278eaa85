// The one manager of devices: what the registration API, the CLI, imports and tests call.
// Validates names, hashes passwords, writes to the store (atomic per user) and tells
// listeners (audit, export) what changed.
import type { AclRule } from '../domain/acl';
import { usernameProblem } from '../domain/names';
import { hashPassword, parseHash, type HashOptions } from '../domain/passwd-hash';
import { hashScheme } from '../domain/verifier';
import { generateDeviceId, generatePassword } from '../domain/password-gen';
import { badRequest, WriteUnconfirmedError } from '../errors';
import type { AuditNote, CredentialStore, Page, WriteOutcome } from '../store/credential-store';
import type { DeviceFields, DeviceRecord } from '../store/records';

export interface NewDevice {
  id?: string;
  password?: string;
  superuser?: boolean;
  disabled?: boolean;
  acl?: AclRule[];
  clientIds?: string[];
  metadata?: Record<string, unknown>;
}

export type DevicePatch = Partial<
  Pick<DeviceFields, 'disabled' | 'superuser' | 'clientIds' | 'metadata'>
>;

/** A device as shown outside: never the hash, only its scheme (`$7$`, `bcrypt`, …). */
export type PublicDevice = Omit<DeviceRecord, 'hash'> & { id: string; hashScheme: string };

export const toPublic = ({ hash, ...rest }: DeviceRecord): PublicDevice => ({
  id: rest.username,
  ...rest,
  hashScheme: hashScheme(hash),
});

/** What an import wants a device to be; `acl`/`superuser` undefined: left as they are. */
export interface ImportedDevice {
  hash: string;
  acl?: AclRule[];
  superuser?: boolean;
}

export interface ImportOutcome {
  result: 'created' | 'updated' | 'unchanged';
  /** Fields that were (or, in a dry run, would be) written. */
  changed: string[];
  /** The device already had a `$7$` hash, which an import never replaces by a legacy one. */
  keptHash: boolean;
}

export interface Change {
  /** Who: an admin token's name, `cli`, `system`. */
  actor?: string;
  action:
    | 'create'
    | 'update'
    | 'rotate'
    | 'delete'
    | 'set-acl'
    | 'set-common-acl'
    | 'import'
    | 'rehash'
    | 'lockout'
    | 'clear-lockout'
    | 'disconnect';
  target: string;
  before: unknown;
  after: unknown;
  /** Its audit entry was written by the store with the change itself. */
  audited?: boolean;
}

export type ChangeListener = (change: Change) => void | Promise<void>;

export function checkUsername(name: string, field = 'id'): void {
  const problem = usernameProblem(name);
  if (problem) throw badRequest(`${field}: ${problem}`, { field, rule: problem });
}

export class DeviceService {
  constructor(
    private readonly store: CredentialStore,
    private readonly hashing: HashOptions,
    private readonly actor = 'system',
    private readonly listeners: ChangeListener[] = [],
  ) {}

  /**
   * The same service, recording `actor` as who made the changes (the audit trail). Explicit
   * rather than AsyncLocalStorage, whose promise hooks would tax every broker check.
   */
  as(actor: string): DeviceService {
    return new DeviceService(this.store, this.hashing, actor, this.listeners);
  }

  /** The same service (actor, listeners) over another store: the bulk client for imports. */
  withStore(store: CredentialStore): DeviceService {
    return new DeviceService(store, this.hashing, this.actor, this.listeners);
  }

  onChange(listener: ChangeListener): void {
    this.listeners.push(listener);
  }

  private async emit(change: Change): Promise<void> {
    for (const l of this.listeners) await l({ ...change, actor: this.actor, audited: true });
  }

  /** The audit entry the store writes with the change (before: what the script copies). */
  private note(action: Change['action'], target: string, after: unknown, before = ''): AuditNote {
    return { actor: this.actor, action, target, after, before };
  }

  /**
   * `result` once the replicas confirmed; otherwise the store's error, carrying `result` (an
   * idempotent retry replays it once confirmed). Also when the answer was lost on the way.
   */
  private settle<T>(outcome: Pick<WriteOutcome, 'unconfirmed'>, result: T): T {
    if (outcome.unconfirmed) throw withApplied(outcome.unconfirmed, result);
    return result;
  }

  async create(input: NewDevice): Promise<{ device: PublicDevice; password: string }> {
    const username = input.id ?? generateDeviceId();
    checkUsername(username);
    const password = input.password ?? generatePassword();
    const now = new Date().toISOString();
    const record: DeviceRecord = {
      username,
      hash: await hashPassword(password, this.hashing),
      superuser: input.superuser ?? false,
      disabled: input.disabled ?? false,
      acl: input.acl ?? [],
      clientIds: input.clientIds ?? [],
      metadata: input.metadata ?? {},
      createdAt: now,
      updatedAt: now,
    };
    const device = toPublic(record);
    const outcome = await this.store
      .createUser(record, this.note('create', username, device))
      .catch((err: unknown) => {
        throw withApplied(err, { device, password });
      });
    await this.emit({ action: 'create', target: username, before: null, after: device });
    return this.settle(outcome, { device, password });
  }

  async get(id: string): Promise<PublicDevice | null> {
    const rec = await this.store.getUser(id);
    return rec ? toPublic(rec) : null;
  }

  async list(opts: {
    cursor?: string;
    limit: number;
    prefix?: string;
  }): Promise<{ devices: PublicDevice[]; next: string | null }> {
    const page: Page = await this.store.listUsers(opts);
    return { devices: page.users.map(toPublic), next: page.next };
  }

  private async update(
    action: Change['action'],
    id: string,
    patch: Partial<DeviceFields>,
  ): Promise<PublicDevice> {
    const updatedAt = new Date().toISOString();
    const fields = Object.keys(patch).filter((k) => k !== 'hash');
    const changed =
      'hash' in patch ? { password: 'rotated' } : pick({ ...patch } as object, fields);
    const outcome = await this.store.updateUser(
      id,
      { ...patch, updatedAt },
      this.note(action, id, changed, fields.join(',') || '={}'),
    );
    const old = outcome.before as DeviceRecord; // update never creates: there was a record
    const after = toPublic({ ...old, ...patch, updatedAt });
    await this.emit({ action, target: id, before: pick(toPublic(old), fields), after: changed });
    return this.settle(outcome, after);
  }

  patch(id: string, patch: DevicePatch): Promise<PublicDevice> {
    return this.update('update', id, patch);
  }

  setAcl(id: string, acl: AclRule[]): Promise<PublicDevice> {
    return this.update('set-acl', id, { acl });
  }

  async rotate(
    id: string,
    newPassword?: string,
  ): Promise<{ device: PublicDevice; password: string }> {
    const password = newPassword ?? generatePassword();
    const hash = await hashPassword(password, this.hashing);
    try {
      return { device: await this.update('rotate', id, { hash }), password };
    } catch (err) {
      const applied = (err as WriteUnconfirmedError).applied;
      throw applied ? withApplied(err, { device: applied, password }) : err;
    }
  }

  async remove(id: string): Promise<void> {
    const outcome = await this.store
      .deleteUser(id, this.note('delete', id, null, '*'))
      .catch((err: unknown) => {
        throw withApplied(err, {});
      });
    const { before } = outcome;
    await this.emit({
      action: 'delete',
      target: id,
      before: before && toPublic(before),
      after: null,
    });
    this.settle(outcome, {});
  }

  getCommonAcl(): Promise<AclRule[]> {
    return this.store.getCommonAcl();
  }

  async setCommonAcl(rules: AclRule[]): Promise<AclRule[]> {
    const outcome = await this.store.setCommonAcl(
      rules,
      this.note('set-common-acl', '*', rules, 'rules'),
    );
    await this.emit({
      action: 'set-common-acl',
      target: '*',
      before: outcome.before,
      after: rules,
    });
    return this.settle(outcome, rules);
  }

  /** Import keeps an existing hash as it is (`$7$` or `$6$`); ACL rules are replaced if given. */
  async importHash(
    username: string,
    hash: string,
    acl?: AclRule[],
  ): Promise<'created' | 'updated'> {
    checkUsername(username, 'username');
    const now = new Date().toISOString();
    const always: Partial<DeviceFields> = { hash, updatedAt: now, ...(acl ? { acl } : {}) };
    const ifNew: Partial<DeviceFields> = {
      superuser: false,
      disabled: false,
      acl: [],
      clientIds: [],
      metadata: {},
      createdAt: now,
    };
    const outcome = await this.store.upsertUser(
      username,
      always,
      ifNew,
      this.note('import', username, 'imported', 'existing'),
    );
    const { before } = outcome;
    await this.emit({
      action: 'import',
      target: username,
      before: before ? 'existing' : null,
      after: 'imported',
    });
    return this.settle(outcome, before ? 'updated' : 'created');
  }

  /**
   * Import from another system (go-auth): writes only what differs, so a second run changes
   * nothing. A device that already has a `$7$` hash keeps it (it logged in since, or was set
   * here): an import never downgrades a device to a hash Mosquitto cannot read.
   */
  async importDevice(
    username: string,
    want: ImportedDevice,
    opts: { dryRun?: boolean } = {},
  ): Promise<ImportOutcome> {
    checkUsername(username, 'username');
    const existing = await this.store.getUser(username);
    const keptHash =
      existing !== null && existing.hash !== want.hash && parseHash(existing.hash)?.kind === 7;
    const fields: Partial<DeviceFields> = {};
    if (!existing || (existing.hash !== want.hash && !keptHash)) fields.hash = want.hash;
    if (want.acl && (!existing || !sameJson(existing.acl, want.acl))) fields.acl = want.acl;
    // A new device is not a superuser unless the import says so (the ifNew default below).
    if (want.superuser !== undefined && (existing?.superuser ?? false) !== want.superuser)
      fields.superuser = want.superuser;
    const changed = Object.keys(fields);
    if (existing && changed.length === 0) return { result: 'unchanged', changed, keptHash };
    const result = existing ? 'updated' : 'created';
    if (opts.dryRun) return { result, changed, keptHash };
    const now = new Date().toISOString();
    const after = { changed: changed.map((f) => (f === 'hash' ? 'password' : f)) };
    const outcome = await this.store.upsertUser(
      username,
      { ...fields, updatedAt: now },
      { superuser: false, disabled: false, acl: [], clientIds: [], metadata: {}, createdAt: now },
      this.note('import', username, after, 'existing'),
    );
    await this.emit({
      action: 'import',
      target: username,
      before: existing ? 'existing' : null,
      after,
    });
    return this.settle(outcome, { result, changed, keptHash });
  }

  /**
   * Upgrade at login: `password` verified against the legacy `verified` hash; store a `$7$`
   * hash of it unless the hash changed meanwhile (a rotation racing the login wins).
   */
  async upgradeHash(
    username: string,
    verified: string,
    password: string,
  ): Promise<'upgraded' | 'changed'> {
    const hash = await hashPassword(password, this.hashing);
    const before = { hashScheme: hashScheme(verified) };
    const after = { hashScheme: '$7$' };
    const note = this.note('rehash', username, after, `=${JSON.stringify(before)}`);
    const r = await this.store.replaceHash(
      username,
      verified,
      hash,
      new Date().toISOString(),
      note,
    );
    if (r === 'changed') return 'changed';
    await this.emit({ action: 'rehash', target: username, before, after });
    return 'upgraded';
  }
}

/** Attaches what the call would have returned to an unconfirmed or lost write's error. */
function withApplied(err: unknown, applied: unknown): unknown {
  if (err instanceof WriteUnconfirmedError && err.applied === undefined) err.applied = applied;
  return err;
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function pick(obj: object, keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = (obj as Record<string, unknown>)[k];
  return out;
}
