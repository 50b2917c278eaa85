// MQTT topic and filter algebra (MQTT 3.1.1 §4.7, MQTT 5 §4.7). Pure functions, no I/O.
//
// A rule pattern is itself a filter; deciding an ACL check reduces to two questions:
//   covers(rule, x)      every topic matched by x is matched by rule
//   intersects(rule, x)  some topic is matched by both
// where x is a concrete topic (publish, delivery) or a subscription filter (subscribe).

import { utf8Length } from './utf8';

const MAX_TOPIC_BYTES = 65535;

/** A topic a client may publish to: non-empty, no wildcards, no NUL, ≤ 65535 bytes. */
export function isValidTopicName(topic: string): boolean {
  return (
    topic.length > 0 &&
    (topic.length <= MAX_UNITS_UNCOUNTED || utf8Length(topic) <= MAX_TOPIC_BYTES) &&
    !/[+#\u0000]/.test(topic)
  );
}

/** A UTF-16 unit is at most 3 UTF-8 bytes: shorter strings need no byte count. */
const MAX_UNITS_UNCOUNTED = Math.floor(MAX_TOPIC_BYTES / 3);
const SLASH = 0x2f;
const PLUS = 0x2b;
const HASH = 0x23;

/**
 * A subscription filter: `+` and `#` only as whole levels, `#` only last. One pass over the
 * characters, no split and no regex: every cache miss checks each stored rule with it
 * (isValidRulePattern, then compileAcl), and every subscribe check its filter.
 */
export function isValidFilter(filter: string): boolean {
  const n = filter.length;
  if (n === 0) return false;
  if (n > MAX_UNITS_UNCOUNTED && utf8Length(filter) > MAX_TOPIC_BYTES) return false;
  for (let i = 0; i < n; i++) {
    const c = filter.charCodeAt(i);
    if (c === 0) return false;
    if (c !== PLUS && c !== HASH) continue;
    // A wildcard is a whole level: a separator (or an end) on both sides; `#` ends the filter.
    if (i > 0 && filter.charCodeAt(i - 1) !== SLASH) return false;
    if (c === HASH ? i !== n - 1 : i !== n - 1 && filter.charCodeAt(i + 1) !== SLASH) return false;
  }
  return true;
}

const isWild = (level: string): boolean => level === '+' || level === '#';
const isSys = (level: string | undefined): boolean => level !== undefined && level.startsWith('$');

/**
 * True when every topic matched by `x` (a topic or a valid filter) is matched by `rule`.
 * A rule starting with a wildcard never matches `$`-topics, so it covers neither `$SYS/x`
 * nor `$SYS/#`; `a/#` covers `a` (the parent level), `a/+` does not cover `a/#`.
 */
export function covers(rule: readonly string[], x: readonly string[]): boolean {
  if (isWild(rule[0] ?? '') && isSys(x[0])) return false;
  for (let i = 0; ; i++) {
    const r = rule[i];
    const f = x[i];
    if (r === '#') return true;
    if (r === undefined || f === undefined) return r === undefined && f === undefined;
    if (f === '#') return false;
    if (r === '+') continue;
    if (f === '+' || r !== f) return false;
  }
}

/** True when at least one topic is matched by both `a` and `b` (topics or filters). */
export function intersects(a: readonly string[], b: readonly string[]): boolean {
  if (
    (isWild(a[0] ?? '') && isSys(b[0]) && !isWild(b[0] ?? '')) ||
    (isWild(b[0] ?? '') && isSys(a[0]) && !isWild(a[0] ?? ''))
  ) {
    return false;
  }
  for (let i = 0; ; i++) {
    const x = a[i];
    const y = b[i];
    if (x === '#' || y === '#') return true;
    if (x === undefined || y === undefined) return x === undefined && y === undefined;
    if (x === '+' || y === '+') continue;
    if (x !== y) return false;
  }
}

export const levels = (topic: string): string[] => topic.split('/');
