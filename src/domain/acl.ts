// ACL decisions for the go-auth `acl` check. Pure: rules in, decision out.
import { MAX_TOPIC_BYTES, MAX_TOPIC_SEPARATORS } from './mosquitto-rules';
import { MAX_NAME_LENGTH } from './names';
import { utf8Length } from './utf8';
import { covers, intersects, isValidFilter, isValidTopicName, levels } from './topic';

export const ACCESS = ['read', 'write', 'readwrite', 'deny'] as const;
export type Access = (typeof ACCESS)[number];
export interface AclRule {
  pattern: string;
  access: Access;
}

/** go-auth's `acc`: 1 read (delivery), 2 write (publish), 3 both, 4 subscribe (a filter). */
export type Acc = 1 | 2 | 3 | 4;
export const isAcc = (n: number): n is Acc => n === 1 || n === 2 || n === 3 || n === 4;
/** The same as words, as the CLI and the explainer API also take them. */
export const ACC_WORDS = { read: 1, write: 2, readwrite: 3, subscribe: 4 } as const;
export type AccWord = keyof typeof ACC_WORDS;
export const ACC_EXPECTED =
  'expected read, write, readwrite, subscribe, or 1-4 as go-auth sends it';

const READ = 1;
const WRITE = 2;
const accessBits = (a: Access): number =>
  a === 'read' ? READ : a === 'write' ? WRITE : a === 'readwrite' ? READ | WRITE : 0;

/** A rule with `%u` already substituted; `%c` is left for the request when present. */
interface CompiledRule {
  /** Position of the rule in the list given to compileAcl (own rules first, then common). */
  source: number;
  deny: boolean;
  bits: number;
  fixed?: string[];
  /** The pattern split at `%c`, `%u` substituted: joined with the client id per request. */
  template?: string[];
}
export interface CompiledAcl {
  rules: CompiledRule[];
  hasDeny: boolean;
}

/**
 * A value substituted into a GRANT must be exactly one topic level with no wildcard, or the
 * grant would widen (CVE-2017-7650: a client id `#` turning `devices/%c/#` into `devices/#/#`).
 * Denies take the value textually, so an odd value can only make them deny more.
 */
export const safeLevel = (v: string): boolean => v.length > 0 && !/[+#/\u0000]/.test(v);

/**
 * What a new rule must also meet (the API, the CLI, COMMON_ACL_DEFAULT, import-passwd): its
 * acl_file line must load in Mosquitto 2.1 for every device: at most 200 "/" (names hold none),
 * and at most 65,535 bytes with `%u` as the longest id (128 UTF-16 units, ≤ 384 bytes) and
 * `%c` as the longest client id we bind (256 units, ≤ 768 bytes). A client connecting with a
 * longer id gets a topic MQTT cannot carry, so the rule cannot match for it (and `%c` is never
 * written into the files: a `pattern` line keeps it, an own deny writes `+`). Rules stored
 * before this check still decide; the export leaves out a line Mosquitto would refuse.
 */
export function ruleLimitProblem(pattern: string): string | null {
  let separators = 0;
  let u = 0;
  let c = 0;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern.charCodeAt(i);
    if (ch === SLASH) separators++;
    else if (ch === PERCENT) {
      const next = pattern[i + 1];
      if (next === 'u') u++;
      else if (next === 'c') c++;
    }
  }
  if (separators > MAX_TOPIC_SEPARATORS)
    return `${separators + 1} levels: Mosquitto allows at most ${MAX_TOPIC_SEPARATORS + 1} (${MAX_TOPIC_SEPARATORS} "/")`;
  const fixed = utf8Length(pattern) - 2 * (u + c);
  const worst = fixed + u * MAX_NAME_BYTES + c * MAX_CLIENT_ID_BYTES;
  if (worst > MAX_TOPIC_BYTES)
    return `could be ${worst} bytes once %u/%c are filled in (an id is up to ${MAX_NAME_BYTES} bytes, a client id up to ${MAX_CLIENT_ID_BYTES}); MQTT's limit is ${MAX_TOPIC_BYTES}`;
  return null;
}
const SLASH = 0x2f;
const PERCENT = 0x25;
/** A UTF-16 unit is at most 3 UTF-8 bytes (a surrogate pair: 2 units, 4 bytes). */
const MAX_NAME_BYTES = 3 * MAX_NAME_LENGTH;
export const MAX_CLIENT_ID_LENGTH = 256;
const MAX_CLIENT_ID_BYTES = 3 * MAX_CLIENT_ID_LENGTH;

/** Checks a rule pattern as stored: a valid filter once placeholders are read as levels. */
export function isValidRulePattern(pattern: string): boolean {
  // Each rule becomes one acl_file line, which Mosquitto trims: a control character (a line
  // break injects lines) or a blank at either end would not reach the broker as written.
  if (/[\p{Cc}\u2028\u2029]/u.test(pattern) || pattern !== pattern.trim()) return false;
  return isValidFilter(pattern.replace(/%[uc]/g, 'x'));
}

export function compileAcl(rules: readonly AclRule[], username: string): CompiledAcl {
  const out: CompiledRule[] = [];
  const userSafe = safeLevel(username);
  for (let source = 0; source < rules.length; source++) {
    const rule = rules[source] as AclRule;
    const deny = rule.access === 'deny';
    if (!deny && !userSafe && rule.pattern.includes('%u')) continue;
    // A function, not a string: `$'`, `$&`… in a name must not act as replacement patterns.
    // Split at `%c` first so a name that reads `%c` is not substituted again.
    const parts = rule.pattern.split('%c').map((p) => p.replace(/%u/g, () => username));
    const compiled: CompiledRule = { source, deny, bits: accessBits(rule.access) };
    // An invalid deny goes the template way too, where an invalid result denies everything.
    const valid = parts.length > 1 || isValidFilter(parts[0] as string);
    // A grant that is not a valid filter (a damaged record) grants nothing: `a/#/b` must
    // not act as `a/#`.
    if (!deny && !valid) continue;
    if (parts.length > 1 || !valid) compiled.template = parts;
    else compiled.fixed = levels(parts[0] as string);
    out.push(compiled);
  }
  return { rules: out, hasDeny: out.some((r) => r.deny) };
}

/**
 * The decision and the rule that made it, as one number so the broker check allocates nothing:
 *   >= 0                  allowed; the source index of the grant that completed the access
 *   VERDICT.invalidTopic  denied: not a topic name (acc 1-3) or not a filter (acc 4)
 *   VERDICT.noGrant       denied: no single rule grants the access
 *   <= VERDICT.deniedBase denied by a deny rule: source index = VERDICT.deniedBase - v, halved;
 *                         odd offsets mean the deny turned invalid with an unsafe name or id
 * Read it with verdictAllows / verdictRule / verdictReason.
 */
export const VERDICT = { invalidTopic: -1, noGrant: -2, deniedBase: -3 } as const;

export const verdictAllows = (v: number): boolean => v >= 0;

/** The source index of the deciding rule, or -1 when no rule decided. */
export function verdictRule(v: number): number {
  if (v >= 0) return v;
  if (v <= VERDICT.deniedBase) return (VERDICT.deniedBase - v) >> 1;
  return -1;
}

export function verdictReason(v: number, acc: Acc): string {
  if (v >= 0) return 'allowed';
  if (v === VERDICT.invalidTopic)
    return acc === 4 ? 'invalid subscription filter' : 'invalid topic name';
  if (v === VERDICT.noGrant) return 'no rule grants this access';
  return (VERDICT.deniedBase - v) & 1
    ? 'deny rule matched (unsafe name or id)'
    : 'deny rule matched';
}

const deniedBy = (source: number, unsafe: boolean): number =>
  VERDICT.deniedBase - (source * 2 + (unsafe ? 1 : 0));

/** The bits of access `acc` needs: read (delivery, subscribe), write (publish) or both. */
export const neededBits = (acc: Acc): number =>
  acc === 1 || acc === 4 ? READ : acc === 2 ? WRITE : READ | WRITE;

/** What the broker check decides. The explainer (acl-explain.ts) calls this same function. */
export function aclVerdict(acl: CompiledAcl, acc: Acc, topic: string, clientid: string): number {
  if (acc === 4 ? !isValidFilter(topic) : !isValidTopicName(topic)) return VERDICT.invalidTopic;
  const x = levels(topic);
  const need = neededBits(acc);
  const clientSafe = safeLevel(clientid);
  let have = 0;
  let by = -1;
  for (const rule of acl.rules) {
    let pattern = rule.fixed;
    if (pattern === undefined) {
      if (!rule.deny && !clientSafe) continue;
      const text = (rule.template as string[]).join(clientid);
      if (!isValidFilter(text)) {
        if (rule.deny) return deniedBy(rule.source, true);
        continue;
      }
      pattern = levels(text);
    }
    if (rule.deny) {
      if (intersects(pattern, x)) return deniedBy(rule.source, false);
    } else if ((have & need) !== need && (rule.bits & need) !== 0 && covers(pattern, x)) {
      have |= rule.bits & need;
      by = rule.source;
      if (have === need && !acl.hasDeny) return by;
    }
  }
  return have === need ? by : VERDICT.noGrant;
}

export type AclDecision = { allow: true } | { allow: false; reason: string };

/** aclVerdict as an object (tests, tools); the broker check reads the number directly. */
export function decideAcl(
  acl: CompiledAcl,
  acc: Acc,
  topic: string,
  clientid: string,
): AclDecision {
  const v = aclVerdict(acl, acc, topic, clientid);
  return v >= 0 ? { allow: true } : { allow: false, reason: verdictReason(v, acc) };
}
