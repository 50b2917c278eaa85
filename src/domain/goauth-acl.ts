// mosquitto-go-auth's ACLs mapped onto ours, never granting more than go-auth did. Pure.
//
// go-auth (backends/redis.go, backends/files/files.go, backends/topics/topics.go):
// - Redis: `acc` 1 (deliver) is granted by racls+rwacls, 2 (publish) by wacls+rwacls, and 4
//   (SUBSCRIBE) by sacls ONLY. Own sets are matched literally; only the common sets get `%c`
//   then `%u` substituted. No deny.
// - Files: `read` grants deliver and subscribe (but not subscribing the filter `#` itself),
//   `write` publish, `readwrite` all, `subscribe` subscribe only, `deny` wins. Rules before
//   the first `user` line and `pattern` lines apply to everyone with `%u`/`%c` substituted;
//   a user's own `topic` lines are literal.
// - Ours: `read` grants both delivery and subscribing every filter the rule covers.
//
// Receiving a message needs both a subscription and a delivery grant. So in the Redis mapping
// a `read` rule is the meet of a subscribe rule and a read rule (every topic both match): a
// device may subscribe a filter only inside a sacls entry and receive only what its racls allow.
import { AppError } from '../errors';
import { isValidRulePattern, ruleLimitProblem, type AclRule } from './acl';
import { pruneCovered } from './filter-set';
import { quoted } from './printable';

export interface GoAuthSets {
  racls: string[];
  wacls: string[];
  rwacls: string[];
  sacls: string[];
}
export const SET_NAMES = ['racls', 'wacls', 'rwacls', 'sacls'] as const;

export interface RuleProblem {
  /** Where the rule was: a Redis key (`alice:racls`) or `FILE:LINE`. */
  where: string;
  message: string;
}

const PLACEHOLDER = /%[uc]/;
const MAX_PATTERN = 1024;

/** Why go-auth's pattern cannot become one of our rules as it is, or null. */
export function patternProblem(pattern: string, scope: 'own' | 'common'): string | null {
  if (pattern.length > MAX_PATTERN || !isValidRulePattern(pattern)) {
    return `${quoted(pattern)} is not a valid topic filter here`;
  }
  if (scope === 'own' && PLACEHOLDER.test(pattern)) {
    return `${quoted(pattern)}: go-auth matches a user's own rule literally (it substitutes %u/%c only in common rules), mqtt-authd would substitute it`;
  }
  // The same limits as every new rule (API, import-passwd): its acl_file line must load in
  // Mosquitto 2.1, which quits on a filter over 200 levels or 65,535 bytes.
  const limit = ruleLimitProblem(pattern);
  return limit ? `${quoted(pattern)}: ${limit}` : null;
}

/**
 * One level of two filters' meet; levels holding %u/%c are templates. A template meets a
 * literal only where it would become that literal (%u of this user). `widen` (for denies):
 * where that cannot be known at import (%c), assume it matches, so a deny only denies more.
 */
function meetLevel(x: string, y: string, username?: string, widen = false): string | null {
  if (x === y) return x;
  if (x === '+') return y;
  if (y === '+') return x;
  const resolve = (l: string) =>
    username !== undefined && !l.includes('%c') ? l.replace(/%u/g, () => username) : l;
  const [rx, ry] = [resolve(x), resolve(y)];
  const [tx, ty] = [PLACEHOLDER.test(rx), PLACEHOLDER.test(ry)];
  if (!tx && !ty) return rx === ry ? rx : null;
  if (!widen) return null;
  return tx && ty ? '+' : tx ? ry : rx;
}

/**
 * The filter matching exactly the topics both `a` and `b` match (MQTT filters meet in one
 * filter), or null when none. With `username`, `%u` meets that user's name.
 */
export function meetFilters(a: string, b: string, username?: string, widen = false): string | null {
  const [x, y] = [a.split('/'), b.split('/')];
  const out: string[] = [];
  for (let i = 0; ; i++) {
    const [l, r] = [x[i], y[i]];
    if (l === '#') return [...out, ...y.slice(i)].join('/') || null;
    if (r === '#') return [...out, ...x.slice(i)].join('/') || null;
    if (l === undefined || r === undefined) return l === r ? out.join('/') : null;
    const m = meetLevel(l, r, username, widen);
    if (m === null) return null;
    out.push(m);
  }
}

/**
 * read + write grants → rules, a pattern in both becoming readwrite; covered ones dropped (a
 * meet of many pairs repeats itself a lot). Linear in the number of patterns (filter-set.ts).
 */
function toRules(read: Iterable<string>, write: Iterable<string>): AclRule[] {
  const reads = pruneCovered(read);
  const writes = pruneCovered(write);
  const [readSet, writeSet] = [new Set(reads), new Set(writes)];
  const rules: AclRule[] = [];
  for (const p of reads) rules.push({ pattern: p, access: writeSet.has(p) ? 'readwrite' : 'read' });
  for (const p of writes) if (!readSet.has(p)) rules.push({ pattern: p, access: 'write' });
  return rules;
}

/** The most rules one device may have (the API's bound). */
export const MAX_DEVICE_RULES = 1000;
/**
 * Subscribe × read pairs one mapping may meet. Past this the mapping is refused before any
 * work: the meets of two sets grow as their product (two 100 000-entry sets: 10^10).
 */
export const MAX_MEET_PAIRS = 250_000;
/** Distinct meets past which a mapping stops: pruning could not bring them to a device's bound. */
export const MAX_MEETS = MAX_DEVICE_RULES * 10;

/** Raised when a user's sets are too large to map; the importer reports it and skips the user. */
export class TooManyRules extends AppError {
  constructor(message: string) {
    super('too_many_rules', message);
  }
}

function valid(
  sets: GoAuthSets,
  scope: 'own' | 'common',
  keyOf: (set: string) => string,
  problems: RuleProblem[],
): GoAuthSets {
  const out = { racls: [], wacls: [], rwacls: [], sacls: [] } as GoAuthSets;
  for (const name of SET_NAMES) {
    for (const p of sets[name]) {
      const problem = patternProblem(p, scope);
      if (problem) problems.push({ where: keyOf(name), message: `${problem}: skipped` });
      else out[name].push(p);
    }
  }
  return out;
}

function pairs(subs: string[], reads: string[], username?: string): string[] {
  if (subs.length * reads.length > MAX_MEET_PAIRS) {
    throw new TooManyRules(
      `${subs.length} subscribe × ${reads.length} read patterns are more than ${MAX_MEET_PAIRS} combinations to map`,
    );
  }
  const out = new Set<string>();
  for (const s of subs) {
    for (const r of reads) {
      const m = meetFilters(s, r, username);
      if (m !== null && out.add(m).size > MAX_MEETS) {
        throw new TooManyRules(
          `more than ${MAX_MEETS} distinct subscribe × read grants (at most ${MAX_DEVICE_RULES} rules a device)`,
        );
      }
    }
  }
  return [...out];
}

/** Refuses, before any mapping work, sets whose writes alone exceed the device rule bound. */
function checkWrites(sets: GoAuthSets): void {
  const writes = new Set([...sets.wacls, ...sets.rwacls]).size;
  // Pruning could shrink them, but a set of more distinct writes than this is not a device's.
  if (writes > MAX_DEVICE_RULES * 10)
    throw new TooManyRules(`${writes} write patterns (at most ${MAX_DEVICE_RULES} rules a device)`);
}

/** The common rules of a go-auth Redis backend (`common:*` sets). */
export function redisCommonRules(common: GoAuthSets): {
  rules: AclRule[];
  problems: RuleProblem[];
} {
  const problems: RuleProblem[] = [];
  const c = valid(common, 'common', (n) => `common:${n}`, problems);
  checkWrites(c);
  const read = pairs(c.sacls, [...c.racls, ...c.rwacls]);
  return { rules: toRules(read, [...c.wacls, ...c.rwacls]), problems };
}

/**
 * One user's own rules: its writes, and the meets of every subscribe rule with every read rule
 * that are not already common × common (those are in the common rules).
 */
export function redisUserRules(
  username: string,
  own: GoAuthSets,
  common: GoAuthSets,
): { rules: AclRule[]; problems: RuleProblem[] } {
  const problems: RuleProblem[] = [];
  const o = valid(own, 'own', (n) => `${username}:${n}`, problems);
  const c = valid(common, 'common', () => '', []);
  checkWrites(o);
  const ownReads = [...o.racls, ...o.rwacls];
  const read = [
    ...pairs(o.sacls, [...ownReads, ...c.racls, ...c.rwacls], username),
    ...pairs(c.sacls, ownReads, username),
  ];
  return { rules: toRules(read, [...o.wacls, ...o.rwacls]), problems };
}

/** go-auth files backend access words. */
export const FILES_ACCESS = ['read', 'write', 'readwrite', 'subscribe', 'deny'] as const;
export type FilesAccess = (typeof FILES_ACCESS)[number];

/**
 * One files-backend rule as ours; null for `subscribe` (subscribing without delivery grants
 * nothing a `read` rule does not). `read #` becomes `read +/#`: go-auth's `read` never lets a
 * device subscribe the filter `#` itself, and `+/#` matches the same topics.
 */
export function filesRule(access: FilesAccess, pattern: string): AclRule | null {
  if (access === 'subscribe') return null;
  if (access === 'read' && pattern === '#') return { pattern: '+/#', access };
  return { pattern, access };
}

const wildFirst = (p: string) => /^[+#](\/|$)/.test(p);
const sysFirst = (p: string) => p.startsWith('$');

/**
 * go-auth's matcher knows nothing of `$` topics: its `deny #` also denies `$SYS/…`, where ours
 * (MQTT's rule: a wildcard first level never matches `$`) would not. Each such deny meets each
 * `$` grant into a deny ours applies.
 */
function sysDenies(denies: AclRule[], grants: AclRule[], username?: string): AclRule[] {
  const out: AclRule[] = [];
  const [wild, sys] = [
    denies.filter((r) => wildFirst(r.pattern)),
    grants.filter((r) => sysFirst(r.pattern)),
  ];
  if (wild.length * sys.length > MAX_MEET_PAIRS) {
    throw new TooManyRules(
      `${wild.length} wildcard denies × ${sys.length} $-topic grants are more than ${MAX_MEET_PAIRS} combinations to map`,
    );
  }
  for (const d of wild) {
    for (const g of sys) {
      const m = meetFilters(d.pattern, g.pattern, username, true);
      if (m !== null) out.push({ pattern: m, access: 'deny' });
    }
  }
  return out;
}

const denies = (rules: AclRule[]) => rules.filter((r) => r.access === 'deny');
const grants = (rules: AclRule[]) => rules.filter((r) => r.access !== 'deny');

/** The common rules of a files backend (general `topic` lines and `pattern` lines). */
export const filesCommonRules = (common: AclRule[]): AclRule[] => [
  ...common,
  ...sysDenies(denies(common), grants(common)),
];

/** One user's own rules of a files backend, given the common ones. */
export const filesUserRules = (username: string, own: AclRule[], common: AclRule[]): AclRule[] => [
  ...own,
  ...sysDenies([...denies(own), ...denies(common)], grants(own), username),
  ...sysDenies(denies(own), grants(common), username),
];

export const isFilesAccess = (w: string): w is FilesAccess =>
  (FILES_ACCESS as readonly string[]).includes(w);
