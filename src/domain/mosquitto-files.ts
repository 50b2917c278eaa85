// Parsers for existing Mosquitto passwd and acl files (imports). Pure: text in, entries and
// line-numbered problems out; a bad line never stops the rest.
import { isValidRulePattern, type AclRule, type Access } from './acl';
import { usernameProblem } from './names';
import { parseLegacyHash } from './legacy-hash';
import { parseHash } from './passwd-hash';

/** What a Mosquitto passwd file holds: `$7$`, `$6$`, and argon2id (mosquitto_passwd 2.1). */
const mosquittoHash = (hash: string) =>
  parseHash(hash) !== null || parseLegacyHash(hash)?.kind === 'argon2id';

export interface LineProblem {
  line: number;
  message: string;
}

export interface PasswdEntry {
  line: number;
  username: string;
  hash: string;
}

export function parsePasswdLine(text: string, line: number): PasswdEntry | LineProblem | null {
  const raw = text.replace(/\r$/, '');
  if (raw.trim() === '' || raw.startsWith('#')) return null;
  const at = raw.indexOf(':');
  if (at <= 0) return { line, message: 'expected user:hash' };
  const username = raw.slice(0, at);
  const hash = raw.slice(at + 1).trim();
  const problem = usernameProblem(username);
  if (problem) return { line, message: `user name ${problem}` };
  if (!mosquittoHash(hash))
    return { line, message: `user "${username}": hash is not a valid $7$, $6$ or argon2id hash` };
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

const ACCESS_WORDS = new Set<string>(['read', 'write', 'readwrite', 'deny']);

export function parseAclFile(text: string): AclFile {
  const out: AclFile = { users: new Map(), patterns: [], anonymous: [], problems: [] };
  let user: string | null = null;
  text.split('\n').forEach((rawLine, i) => {
    const line = i + 1;
    const s = rawLine.replace(/\r$/, '').trim();
    if (s === '' || s.startsWith('#')) return;
    const [word, ...rest] = s.split(/\s+/);
    if (word === 'user') {
      const name = rest.join(' ');
      const problem = usernameProblem(name);
      if (problem) {
        out.problems.push({ line, message: `user name ${problem}` });
        user = '\u0000invalid';
        return;
      }
      user = name;
      if (!out.users.has(name)) out.users.set(name, []);
      return;
    }
    if (word !== 'topic' && word !== 'pattern') {
      out.problems.push({ line, message: `unknown keyword "${word}"` });
      return;
    }
    let access: Access = 'readwrite';
    if (rest[0] !== undefined && ACCESS_WORDS.has(rest[0]) && rest.length > 1)
      access = rest.shift() as Access;
    const pattern = rest.join(' ');
    if (!isValidRulePattern(pattern)) {
      out.problems.push({ line, message: `"${pattern}" is not a valid topic filter` });
      return;
    }
    const rule = { pattern, access };
    if (word === 'pattern') out.patterns.push(rule);
    else if (user === null) out.anonymous.push(rule);
    else if (user !== '\u0000invalid') out.users.get(user)?.push(rule);
  });
  return out;
}
