// Why an ACL check allows or denies: the verdict of aclVerdict (the broker check's own
// function) plus words for an operator. Pure: rules in, explanation out.
import {
  aclVerdict,
  compileAcl,
  neededBits,
  safeLevel,
  verdictAllows,
  verdictRule,
  VERDICT,
  type Acc,
  type AclRule,
} from './acl';
import { covers, intersects, isValidFilter, levels } from './topic';

export interface AclExplanation {
  allow: boolean;
  reason: string;
  /** Index (into the rules given) of the rule that decided, or -1. */
  rule: number;
  /** The deciding rule's pattern with %u and %c substituted. */
  resolved: string | null;
}

const ACC_WORDS: Record<Acc, string> = {
  1: 'read (receive)',
  2: 'write (publish)',
  3: 'read and write',
  4: 'subscribe',
};
const BITS: Record<AclRule['access'], number> = { read: 1, write: 2, readwrite: 3, deny: 0 };

/** The pattern as this user and client id see it, or null when a grant would not apply. */
function resolve(rule: AclRule, username: string, clientid: string): string | null {
  const grant = rule.access !== 'deny';
  if (grant && rule.pattern.includes('%u') && !safeLevel(username)) return null;
  if (grant && rule.pattern.includes('%c') && !safeLevel(clientid)) return null;
  return rule.pattern
    .split('%c')
    .map((p) => p.replace(/%u/g, () => username))
    .join(clientid);
}

/** A topic matched by `filter` that no grant in `grants` covers, to show what is missing. */
function uncoveredExample(filter: string[], grants: string[][]): string | null {
  const used = new Set(grants.flat());
  let other = 'other';
  for (let i = 2; used.has(other); i++) other = `other${i}`;
  const concrete = filter.map((l) => (l === '+' || l === '#' ? other : l));
  const candidates = [concrete];
  if (filter[filter.length - 1] === '#') candidates.push(filter.slice(0, -1)); // the parent
  for (const c of candidates) {
    if (c.length > 0 && !grants.some((g) => covers(g, c))) return c.join('/');
  }
  return null;
}

function whyNoGrant(
  rules: readonly AclRule[],
  username: string,
  acc: Acc,
  topic: string,
  clientid: string,
): string {
  const need = neededBits(acc);
  const x = levels(topic);
  const what = acc === 4 ? `the filter "${topic}"` : `"${topic}"`;
  const notes: string[] = [];
  const partial: string[][] = [];
  let have = 0;
  for (const rule of rules) {
    if (rule.access === 'deny') continue;
    const text = resolve(rule, username, clientid);
    if (text === null) {
      const which = rule.pattern.includes('%u') && !safeLevel(username) ? 'username' : 'client id';
      if (BITS[rule.access] & need)
        notes.push(
          `rule "${rule.pattern}" is skipped: a ${which} that is empty or contains +, # or / never fills a grant`,
        );
      continue;
    }
    if (!isValidFilter(text)) continue;
    const p = levels(text);
    if (covers(p, x)) {
      have |= BITS[rule.access] & need;
      if ((BITS[rule.access] & need) === 0)
        notes.push(`rule "${rule.pattern}" matches but grants ${rule.access} only`);
    } else if (/^[+#]/.test(text) && x[0]?.startsWith('$')) {
      notes.push(
        `rule "${rule.pattern}" starts with a wildcard, which never matches $ topics (MQTT 4.7.2)`,
      );
    } else if (acc === 4 && BITS[rule.access] & need && intersects(p, x)) {
      partial.push(p);
    }
  }
  if (acc === 3 && have !== 0) {
    notes.push(
      `${have === 1 ? 'read' : 'write'} is granted, ${have === 1 ? 'write' : 'read'} is not`,
    );
  }
  if (partial.length > 0) {
    const example = uncoveredExample(x, partial);
    notes.push(
      `${partial.map((p) => `"${p.join('/')}"`).join(', ')} cover${partial.length === 1 ? 's' : ''} only part of it` +
        (example ? ` ("${example}" is not covered)` : '') +
        '; a subscription needs one rule that covers the whole filter',
    );
  }
  return [`no rule grants ${ACC_WORDS[acc]} on ${what}`, ...notes].join('; ');
}

/**
 * Explains the decision for `rules` (own then common, as the check compiles them). The verdict
 * is aclVerdict's, computed from `compiled` when given (the very object the check would use).
 */
export function explainAcl(
  rules: readonly AclRule[],
  username: string,
  acc: Acc,
  topic: string,
  clientid: string,
  compiled = compileAcl(rules, username),
): AclExplanation {
  const v = aclVerdict(compiled, acc, topic, clientid);
  const index = verdictRule(v);
  const rule = index >= 0 ? (rules[index] as AclRule) : null;
  const resolved = rule ? resolve(rule, username, clientid) : null;
  let reason: string;
  if (verdictAllows(v)) {
    reason = `${ACC_WORDS[acc]} on "${topic}" is granted by rule "${rule?.pattern}" (${rule?.access})`;
    if (acc === 3 && rule?.access !== 'readwrite') reason += ' together with an earlier rule';
  } else if (v === VERDICT.invalidTopic) {
    reason =
      acc === 4
        ? `"${topic}" is not a valid subscription filter (+ and # only as whole levels, # last)`
        : `"${topic}" is not a valid topic name (not empty, no + or #)`;
  } else if (v === VERDICT.noGrant) {
    reason = whyNoGrant(rules, username, acc, topic, clientid);
  } else if (resolved !== null && isValidFilter(resolved)) {
    reason =
      `deny rule "${rule?.pattern}" matches ${acc === 4 ? `part of the filter "${topic}"` : `"${topic}"`}` +
      '; a deny wins over every grant';
  } else {
    reason =
      `deny rule "${rule?.pattern}" is not a valid filter once %u/%c are filled in ` +
      `("${resolved}"), so it denies everything for this client`;
  }
  return { allow: verdictAllows(v), reason, rule: index, resolved };
}
