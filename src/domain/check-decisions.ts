// The broker's decisions from a device record, as short stable reason codes. Pure: record,
// common rules and request in, decision out. The check service decides with these functions,
// and test/vectors/decisions.json (generated from them) is what the plugin's C decides by.
import {
  aclVerdict,
  compileAcl,
  isAcc,
  VERDICT,
  type Acc,
  type AclRule,
  type CompiledAcl,
} from './acl';

/**
 * Why a check is allowed or denied. Stable: the decision vectors and the plugin's C use them.
 * Order of the questions (the first that applies answers), for every kind:
 *   unknown → damaged → disabled, then
 *   user:      locked → clientid → ok
 *   superuser: not-superuser → superuser
 *   acl:       superuser (allow, go-auth asks it first) → bad-acc → invalid-topic |
 *              invalid-filter → the rules (deny-rule | deny-unsafe | no-grant | ok)
 */
export const REASON_CODES = [
  'ok',
  'superuser',
  'unknown',
  'damaged',
  'disabled',
  'locked',
  'clientid',
  'not-superuser',
  'bad-acc',
  'invalid-topic',
  'invalid-filter',
  'no-grant',
  'deny-rule',
  'deny-unsafe',
] as const;
export type ReasonCode = (typeof REASON_CODES)[number];

export interface CodedDecision {
  allow: boolean;
  reason: ReasonCode;
}

/** What the decisions read of a record: the stored record and the records endpoint's R both fit. */
export interface DecisionRecord {
  username: string;
  disabled: boolean;
  superuser: boolean;
  clientIds: readonly string[];
  /** true (R) or the list of damaged fields (a decoded record); absent or empty: intact. */
  damaged?: boolean | readonly object[];
}

export const isDamaged = (rec: DecisionRecord): boolean =>
  rec.damaged === true || (Array.isArray(rec.damaged) && rec.damaged.length > 0);

/** Why a record cannot be used for any check at all, or null when it can. */
export function refusal(rec: DecisionRecord | null): 'unknown' | 'damaged' | 'disabled' | null {
  if (rec === null) return 'unknown';
  if (isDamaged(rec)) return 'damaged';
  return rec.disabled ? 'disabled' : null;
}

/** The client-id binding: empty allows any; `%u` in an entry is the username. */
export function clientIdAllowed(allowed: readonly string[], username: string, clientid: string) {
  if (allowed.length === 0) return true;
  return allowed.some((p) => p.replace(/%u/g, () => username) === clientid);
}

/** A CONNECT once its password has verified (the password itself is not decided here). */
export function loginDecision(
  rec: DecisionRecord | null,
  clientid: string,
  locked: boolean,
): CodedDecision {
  const no = refusal(rec);
  if (no) return { allow: false, reason: no };
  if (locked) return { allow: false, reason: 'locked' };
  return clientIdAllowed(
    (rec as DecisionRecord).clientIds,
    (rec as DecisionRecord).username,
    clientid,
  )
    ? { allow: true, reason: 'ok' }
    : { allow: false, reason: 'clientid' };
}

export function superuserDecision(rec: DecisionRecord | null): CodedDecision {
  const no = refusal(rec);
  if (no) return { allow: false, reason: no };
  return (rec as DecisionRecord).superuser
    ? { allow: true, reason: 'superuser' }
    : { allow: false, reason: 'not-superuser' };
}

/** aclVerdict's number as a reason code. */
export function verdictCode(v: number, acc: Acc): ReasonCode {
  if (v >= 0) return 'ok';
  if (v === VERDICT.invalidTopic) return acc === 4 ? 'invalid-filter' : 'invalid-topic';
  if (v === VERDICT.noGrant) return 'no-grant';
  return (VERDICT.deniedBase - v) & 1 ? 'deny-unsafe' : 'deny-rule';
}

/** The rules a usable record decides with (own first, then common), compiled for its name. */
export const compileFor = (
  rec: DecisionRecord & { acl: readonly AclRule[] },
  common: readonly AclRule[],
) => compileAcl([...rec.acl, ...common], rec.username);

/** The ACL rules' answer for a usable, non-superuser record (what /mqtt/acl decides). */
export function rulesDecision(
  acl: CompiledAcl,
  acc: number,
  topic: string,
  clientid: string,
): CodedDecision {
  if (!isAcc(acc)) return { allow: false, reason: 'bad-acc' };
  const v = aclVerdict(acl, acc, topic, clientid);
  return { allow: v >= 0, reason: verdictCode(v, acc) };
}

/** A record as the records endpoint serves it (docs/broker-protocol.md, `R`), as far as it decides. */
export interface PolicyRecord {
  username: string;
  known: boolean;
  disabled?: boolean;
  superuser?: boolean;
  clientIds?: string[];
  acl?: AclRule[];
  damaged?: boolean;
  lockedMs?: number;
}

export interface PolicyRequest {
  kind: 'user' | 'superuser' | 'acl';
  clientid: string;
  topic: string;
  /** go-auth's: 1 read (delivery), 2 write (publish), 3 both, 4 subscribe (a filter). */
  acc: number;
}

const asDecisionRecord = (r: PolicyRecord): DecisionRecord | null =>
  r.known
    ? {
        username: r.username,
        disabled: r.disabled ?? false,
        superuser: r.superuser ?? false,
        clientIds: r.clientIds ?? [],
        damaged: r.damaged ?? false,
      }
    : null;

/**
 * What the broker decides for one check, from the record and the common rules alone: the
 * function the decision vectors are generated from. `user` assumes the password verified.
 */
export function decideCheck(
  r: PolicyRecord,
  common: readonly AclRule[],
  req: PolicyRequest,
): CodedDecision {
  const rec = asDecisionRecord(r);
  if (req.kind === 'user') return loginDecision(rec, req.clientid, (r.lockedMs ?? 0) > 0);
  const su = superuserDecision(rec);
  if (req.kind === 'superuser' || su.allow) return su;
  const no = refusal(rec);
  if (no) return { allow: false, reason: no };
  const acl = compileFor({ ...(rec as DecisionRecord), acl: r.acl ?? [] }, common);
  return rulesDecision(acl, req.acc, req.topic, req.clientid);
}
