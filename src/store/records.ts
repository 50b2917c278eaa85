// A device as stored: one Redis hash per user. Encoding and decoding live here and nowhere else.
// What Redis holds is input like any request (another writer, an old version, a manual HSET):
// it is decoded once per read by the same schemas that validate the API.
import type { z } from 'zod';
import type { AclRule } from '../domain/acl';
import { aclList, clientIdList, metadataSchema } from '../domain/device-schemas';

/** A field that did not decode: the record is kept out of every decision (fail closed). */
export interface Damage {
  field: string;
  reason: string;
}

export interface DeviceRecord {
  username: string;
  /** `$7$…` (or imported `$6$…`): never leaves the service except into the passwd export. */
  hash: string;
  superuser: boolean;
  disabled: boolean;
  acl: AclRule[];
  /** Client ids this user may connect with (`%u` allowed); empty: any. */
  clientIds: string[];
  metadata: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
  /** Set when a stored field did not decode; that field reads as its empty default. */
  damaged?: Damage[];
}

export type DeviceFields = Omit<DeviceRecord, 'username' | 'damaged'>;

/** Fields to HSET, as flat [field, value, …]. */
export function encodeFields(fields: Partial<DeviceFields>): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    out.push(
      k,
      typeof v === 'string' ? v : typeof v === 'boolean' ? (v ? '1' : '0') : JSON.stringify(v),
    );
  }
  return out;
}

/**
 * The fields of a write that end a device's sessions when their value changes (the `x:` event:
 * the Mosquitto plugin disconnects the device): a new password or hash, another client-id
 * binding, being disabled. ACL, metadata and enabling do not.
 */
export function revokingFields(fields: Partial<DeviceFields>): string {
  const out: string[] = [];
  if (fields.hash !== undefined) out.push('hash');
  if (fields.clientIds !== undefined) out.push('clientIds');
  if (fields.disabled === true) out.push('disabled');
  return out.join(' ');
}

const issue = (e: z.ZodError): string => {
  const i = e.issues[0];
  const at = i?.path.length ? `[${i.path.join('.')}] ` : '';
  return `${at}${i?.message ?? 'invalid'}`;
};

/** JSON text → value of `schema`; a missing field is `empty`. */
function jsonField<T>(
  damage: Damage[],
  field: string,
  text: string | undefined,
  schema: z.ZodType<T>,
  empty: T,
  emptyText: string,
): T {
  if (text === undefined || text === emptyText) return empty; // the common case, no parse
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    damage.push({ field, reason: 'not JSON' });
    return empty;
  }
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  damage.push({ field, reason: issue(r.error) });
  return empty;
}

function flag(damage: Damage[], field: string, text: string | undefined): boolean {
  if (text === undefined || text === '0') return false;
  if (text === '1') return true;
  damage.push({ field, reason: 'must be "0" or "1"' });
  return false;
}

/**
 * Decodes HGETALL (or HMGET) output; an empty hash is no user. A record with a damaged field
 * comes back with `damaged` set, that field empty and `disabled` true: it never logs in.
 */
export function decodeRecord(username: string, h: Record<string, string>): DeviceRecord | null {
  if (h.hash === undefined && Object.keys(h).length === 0) return null;
  const damage: Damage[] = [];
  if (!h.hash) damage.push({ field: 'hash', reason: 'missing' });
  const rec: DeviceRecord = {
    username,
    hash: h.hash ?? '',
    superuser: flag(damage, 'superuser', h.superuser),
    disabled: flag(damage, 'disabled', h.disabled),
    acl: jsonField(damage, 'acl', h.acl, aclList, [], '[]'),
    clientIds: jsonField(damage, 'clientIds', h.clientIds, clientIdList, [], '[]'),
    metadata: jsonField(damage, 'metadata', h.metadata, metadataSchema, {}, '{}') as Record<
      string,
      unknown
    >,
    createdAt: h.createdAt ?? '',
    updatedAt: h.updatedAt ?? '',
  };
  if (damage.length === 0) return rec;
  return { ...rec, superuser: false, disabled: true, damaged: damage };
}

/** A user key holding another Redis type (WRONGTYPE): a record that is all damage. */
export function wrongTypeRecord(username: string): DeviceRecord {
  return {
    username,
    hash: '',
    superuser: false,
    disabled: true,
    acl: [],
    clientIds: [],
    metadata: {},
    createdAt: '',
    updatedAt: '',
    damaged: [{ field: 'key', reason: 'holds another Redis type than a hash (WRONGTYPE)' }],
  };
}

/** The common rules as stored; damaged ones grant nothing (own rules still apply). */
export function decodeCommon(
  text: string | null,
  defaults: readonly AclRule[],
): { rules: AclRule[]; damaged?: Damage[] } {
  if (text === null || text === '') return { rules: [...defaults] };
  const damage: Damage[] = [];
  const rules = jsonField(damage, 'acl:common', text, aclList, [], '[]');
  return damage.length ? { rules: [], damaged: damage } : { rules };
}

/** The target named when the common rules are damaged. */
export const COMMON = 'common rules';

export const describeDamage = (d: readonly Damage[]): string =>
  d.map((x) => `${x.field}: ${x.reason}`).join('; ');

/** Converts the flat [k, v, k, v] array a Lua HGETALL returns. */
export function pairsToObject(pairs: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!Array.isArray(pairs)) return out;
  for (let i = 0; i + 1 < pairs.length; i += 2) out[String(pairs[i])] = String(pairs[i + 1]);
  return out;
}
