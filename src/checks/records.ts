// A device as the records endpoints serve it to the broker plugin (`R` in
// docs/broker-protocol.md). Pure: a decoded record in, the wire shape out.
import { createHash } from 'node:crypto';
import type { AclRule } from '../domain/acl';
import { brokerVerifier, decodeVerifier, type BrokerVerifier } from '../domain/verifier';
import type { DeviceRecord } from '../store/records';

export const RECORDS_VERSION = 2;

export type WireRecord =
  | { username: string; known: false }
  | {
      username: string;
      known: true;
      cred: string;
      disabled: boolean;
      superuser: boolean;
      clientIds: string[];
      verifier: BrokerVerifier;
      acl: AclRule[];
      lockedMs: number;
      damaged?: true;
    };

/**
 * 16 hex digits over exactly the revoking fields (records.ts revokingFields: the hash, the
 * client-id binding, disabled): a session admitted under one cred is not valid under another.
 * A digest of the hash, never the hash itself, goes in.
 */
export function credOf(rec: Pick<DeviceRecord, 'hash' | 'clientIds' | 'disabled'>): string {
  return createHash('sha256')
    .update('cred\0')
    .update(rec.hash)
    .update('\0')
    .update(JSON.stringify(rec.clientIds))
    .update(rec.disabled ? '\0d' : '\0e')
    .digest('hex')
    .slice(0, 16);
}

export interface WireLimits {
  /** PASSWD_ITERATIONS: `$7$` hashes dearer than 10 × this are verified by the service. */
  padTo: number;
  maxIterations: number;
}

/** `lockedMs`: how long the user name stays locked out (0: not locked). */
export function toWire(
  username: string,
  rec: DeviceRecord | null,
  lockedMs: number,
  limits: WireLimits,
): WireRecord {
  if (rec === null) return { username, known: false };
  const damaged = rec.damaged !== undefined && rec.damaged.length > 0;
  const out: WireRecord = {
    username,
    known: true,
    cred: credOf(rec),
    // A damaged record decides nothing: it is served disabled, without rules or verifier.
    disabled: rec.disabled || damaged,
    superuser: rec.superuser && !damaged,
    clientIds: rec.clientIds,
    verifier: damaged ? { kind: 'service' } : brokerVerifier(decodeVerifier(rec.hash), limits),
    acl: damaged ? [] : rec.acl,
    lockedMs: Math.max(0, Math.ceil(lockedMs)),
  };
  if (damaged) out.damaged = true;
  return out;
}
