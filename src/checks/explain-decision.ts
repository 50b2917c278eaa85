// The answer of POST /api/v1/decide and `mqtt-authd decide`: what the broker checks would
// decide now for this user, client id and topic, and why. The record is read fresh from the
// store (never from the cache), then decided by the checks' own functions.
import { explainAcl } from '../domain/acl-explain';
import type { Acc, AclRule, Access } from '../domain/acl';
import { refusal } from '../domain/check-decisions';
import type { CredentialStore } from '../store/credential-store';
import type { DeviceRecord } from '../store/records';
import { clientIdAllowed, isSuperuser, usableAcl } from './check-service';
import type { LockState, LoginThrottle } from './login-throttle';
import { cachedUser } from './user-cache';

export interface DecideInput {
  username: string;
  clientid: string;
  topic: string;
  acc: Acc;
}

export interface DecidingRule {
  /** Position in its list (the device's own rules or the common rules). */
  index: number;
  pattern: string;
  access: Access;
  /** The pattern with %u and %c filled in for this request. */
  resolved: string | null;
}

export interface ConnectState {
  exists: boolean;
  disabled: boolean;
  /** The stored fields that do not decode (the device is refused until they are rewritten). */
  damaged: { field: string; reason: string }[];
  superuser: boolean;
  clientIdAllowed: boolean;
  lockout: { username: LockState; clientid: LockState };
  /** Whether CONNECT can succeed (given the right password), and if not, why. */
  allow: boolean;
  reason: string;
}

export interface DecideAnswer {
  allow: boolean;
  reason: string;
  rule: DecidingRule | null;
  source: 'own' | 'common' | 'superuser' | null;
  connect: ConnectState;
}

type Throttle = Pick<LoginThrottle, 'state'>;

/** A damaged record is stored as disabled: say which field, so the operator can rewrite it. */
function disabledReason(rec: DeviceRecord): string {
  if (!rec.damaged?.length) return 'the device is disabled';
  const what = rec.damaged.map((d) => `${d.field}: ${d.reason}`).join('; ');
  return `the stored record is damaged (${what}); the device is refused until it is rewritten`;
}

function connectState(
  rec: DeviceRecord | null,
  input: DecideInput,
  lockout: ConnectState['lockout'],
): ConnectState {
  const base = {
    exists: rec !== null,
    disabled: rec?.disabled ?? false,
    damaged: rec?.damaged ?? [],
    superuser: rec?.superuser ?? false,
    clientIdAllowed: rec ? clientIdAllowed(rec.clientIds, input.username, input.clientid) : false,
    lockout,
  };
  const no = (reason: string) => ({ ...base, allow: false, reason });
  if (lockout.username.locked)
    return no(
      `user name locked out for ${lockout.username.retryAfterS} s more after failed logins`,
    );
  if (lockout.clientid.locked)
    return no(
      `client id locked out for ${lockout.clientid.retryAfterS} s more after failed logins`,
    );
  if (!rec) return no(`no device "${input.username}" is registered`);
  if (refusal(rec) !== null) return no(disabledReason(rec));
  if (!base.clientIdAllowed)
    return no(
      `client id "${input.clientid}" is not one of the device's client ids (${rec.clientIds.join(', ')})`,
    );
  return { ...base, allow: true, reason: 'allowed with the right password' };
}

export async function explainDecision(
  store: CredentialStore,
  throttle: Throttle,
  input: DecideInput,
): Promise<DecideAnswer> {
  const [{ user: rec, common }, u, c] = await Promise.all([
    store.getUserWithCommon(input.username),
    throttle.state('username', input.username),
    throttle.state('clientid', input.clientid),
  ]);
  const connect = connectState(rec, input, { username: u, clientid: c });
  const answer = (allow: boolean, reason: string): DecideAnswer => ({
    allow,
    reason,
    rule: null,
    source: null,
    connect,
  });
  // go-auth asks the superuser check before every ACL check and allows when it says yes.
  if (isSuperuser(rec)) {
    return {
      ...answer(true, 'superuser: the broker allows without an ACL check'),
      source: 'superuser',
    };
  }
  const entry = cachedUser(input.username, rec, common, Date.now(), 0);
  const acl = usableAcl(entry);
  if (!rec || !acl) {
    return answer(false, rec ? disabledReason(rec) : `no device "${input.username}" is registered`);
  }
  const rules: AclRule[] = [...rec.acl, ...common];
  const e = explainAcl(rules, input.username, input.acc, input.topic, input.clientid, acl);
  const own = e.rule < rec.acl.length;
  const rule = e.rule >= 0 ? (rules[e.rule] as AclRule) : null;
  return {
    allow: e.allow,
    reason: e.reason,
    rule: rule
      ? {
          index: own ? e.rule : e.rule - rec.acl.length,
          pattern: rule.pattern,
          access: rule.access,
          resolved: e.resolved,
        }
      : null,
    source: rule ? (own ? 'own' : 'common') : null,
    connect,
  };
}
