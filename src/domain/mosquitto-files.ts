// Parsers for existing Mosquitto passwd and acl files (imports). Pure: text in, entries and
// line-numbered problems out; a bad line never stops the rest.
import { isValidRulePattern, ruleLimitProblem, type AclRule, type Access } from './acl';
import { MAX_PATTERN_LENGTH } from './device-schemas';
import { usernameProblem } from './names';
import { legacyTooCostly, parseLegacyHash } from './legacy-hash';
import { nativeTooCostly, parseHash } from './passwd-hash';

export interface LineProblem {
  line: number;
  message: string;
}

export interface PasswdEntry {
  line: number;
  username: string;
  hash: string;
}

/** One passwd line; a hash dearer than `maxIterations` is a problem (it could never log in). */
export function parsePasswdLine(
  text: string,
  line: number,
  maxIterations = Infinity,
): PasswdEntry | LineProblem | null {
  const raw = text.replace(/\r$/, '');
  if (raw.trim() === '' || raw.startsWith('#')) return null;
  const at = raw.indexOf(':');
  if (at <= 0) return { line, message: 'expected user:hash' };
  const username = raw.slice(0, at);
  const hash = raw.slice(at + 1).trim();
  const problem = usernameProblem(username);
  if (problem) return { line, message: `user name ${problem}` };
  const parsed = parseHash(hash);
  const legacy = parsed ? null : parseLegacyHash(hash);
  if (!parsed && legacy?.kind !== 'argon2id')
    return { line, message: `user "${username}": hash is not a valid $7$, $6$ or argon2id hash` };
  const tooCostly = parsed
    ? nativeTooCostly(parsed, maxIterations)
    : legacyTooCostly(legacy!, maxIterations);
  if (tooCostly)
    return { line, message: `user "${username}": hash refused: ${tooCostly}; not imported` };
  return { line, username, hash };
}

export interface AclFile {
  /** Per-user `topic` rules. */
  users: Map<string, AclRule[]>;
  /** `pattern` rules: apply to every client. */
  patterns: AclRule[];
  /** `topic` rules before the first `user` line (Mosquitto: anonymous clients only). */
  anonymous: AclRule[];
  problems: LineProblem[];
}

/** A `user NAME` line (both acl dialects): the name, or null (reported) when refused. */
export function userLine(
  name: string,
  line: number,
  users: Map<string, AclRule[]>,
  problems: LineProblem[],
): string | null {
  const problem = usernameProblem(name);
  if (problem) {
    problems.push({ line, message: `user name ${problem}` });
    return null;
  }
  if (!users.has(name)) users.set(name, []);
  return name;
}

const ACCESS_WORDS = new Set<string>(['read', 'write', 'readwrite', 'deny']);
const short = (p: string): string => (p.length > 80 ? `${p.slice(0, 77)}...` : p);

export function parseAclFile(text: string): AclFile {
  const out: AclFile = { users: new Map(), patterns: [], anonymous: [], problems: [] };
  let user: string | null = null;
  text.split('\n').forEach((rawLine, i) => {
    const line = i + 1;
    const s = rawLine.replace(/\r$/, '').trim();
    if (s === '' || s.startsWith('#')) return;
    const [word, ...rest] = s.split(/\s+/);
    if (word === 'user') {
      user = userLine(rest.join(' '), line, out.users, out.problems) ?? '\u0000invalid';
      return;
    }
    if (word !== 'topic' && word !== 'pattern') {
      out.problems.push({ line, message: `unknown keyword "${word}"` });
      return;
    }
    let access: Access = 'readwrite';
    if (rest.length > 1) {
      // `topic ACCESS PATTERN`: a second word that is not an access word is a typo (`rw`),
      // never part of the pattern.
      const word2 = rest.shift() as string;
      if (!ACCESS_WORDS.has(word2)) {
        out.problems.push({
          line,
          message: `unknown access "${word2}" (expected read, write, readwrite or deny)`,
        });
        return;
      }
      access = word2 as Access;
    }
    const pattern = rest.join(' ');
    if (!isValidRulePattern(pattern)) {
      out.problems.push({ line, message: `"${short(pattern)}" is not a valid topic filter` });
      return;
    }
    const tooBig =
      pattern.length > MAX_PATTERN_LENGTH ? 'over 1024 characters' : ruleLimitProblem(pattern);
    if (tooBig) {
      out.problems.push({ line, message: `"${short(pattern)}": ${tooBig}; not imported` });
      return;
    }
    const rule = { pattern, access };
    if (word === 'pattern') out.patterns.push(rule);
    else if (user === null) out.anonymous.push(rule);
    else if (user !== '\u0000invalid') out.users.get(user)?.push(rule);
  });
  return out;
}
