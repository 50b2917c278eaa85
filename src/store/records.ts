// A device as stored: one Redis hash per user. Encoding and decoding live here and nowhere else.
import type { AclRule } from '../domain/acl';

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
}

export type DeviceFields = Omit<DeviceRecord, 'username'>;

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

const FAIL_CLOSED: AclRule[] = [{ pattern: '#', access: 'deny' }];

function json<T>(text: string | undefined, fallback: T, corrupt: T): T {
  if (text === undefined) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return corrupt;
  }
}

/** Decodes HGETALL output; an empty hash is no user. A corrupt ACL denies everything. */
export function decodeRecord(username: string, h: Record<string, string>): DeviceRecord | null {
  if (h.hash === undefined && Object.keys(h).length === 0) return null;
  const acl = json<AclRule[]>(h.acl, [], FAIL_CLOSED);
  return {
    username,
    hash: h.hash ?? '',
    superuser: h.superuser === '1',
    // Anything but an explicit '0' disables: a damaged record must not log in.
    disabled: h.disabled !== undefined && h.disabled !== '0',
    acl: Array.isArray(acl) ? acl : FAIL_CLOSED,
    clientIds: json<string[]>(h.clientIds, [], ['\u0000corrupt']),
    metadata: json<Record<string, unknown>>(h.metadata, {}, {}),
    createdAt: h.createdAt ?? '',
    updatedAt: h.updatedAt ?? '',
  };
}

/** Converts the flat [k, v, k, v] array a Lua HGETALL returns. */
export function pairsToObject(pairs: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!Array.isArray(pairs)) return out;
  for (let i = 0; i + 1 < pairs.length; i += 2) out[String(pairs[i])] = String(pairs[i + 1]);
  return out;
}
