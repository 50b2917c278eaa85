// Parsers for mosquitto-go-auth's files backend (backends/files/files.go): a passwords file of
// `username:hash` lines and an acl file with `user`, `topic` and `pattern` lines. Pure: text in,
// entries and FILE:LINE problems out; a bad line never stops the rest.
import type { AclRule } from './acl';
import { filesRule, isFilesAccess, patternProblem, type FilesAccess } from './goauth-acl';
import { userLine, type LineProblem } from './mosquitto-files';
import { usernameProblem } from './names';

export interface GoAuthPasswordLine {
  line: number;
  username: string;
  /** As written; the importer checks and normalises it. */
  hash: string;
}

/** go-auth: comment when the first character is `#`, blank lines skipped, `user:hash`. */
export function parseGoAuthPasswordLine(
  text: string,
  line: number,
): GoAuthPasswordLine | LineProblem | null {
  const raw = text.replace(/\r$/, '');
  if (raw.replace(/ /g, '') === '' || raw.startsWith('#')) return null;
  const parts = raw.split(':');
  if (parts.length !== 2) return { line, message: 'expected user:hash (exactly one ":")' };
  const [username, hash] = parts as [string, string];
  const problem = usernameProblem(username);
  if (problem) return { line, message: `user name ${problem}` };
  return { line, username, hash };
}

export interface GoAuthAclFile {
  /** A user's own `topic` rules, by user. */
  users: Map<string, AclRule[]>;
  /** `pattern` lines and `topic` lines before the first `user`: every user's. */
  common: AclRule[];
  /** `subscribe` rules left out (see filesRule), counted for the report. */
  subscribeOnly: number;
  problems: LineProblem[];
}

export function parseGoAuthAclFile(text: string): GoAuthAclFile {
  const out: GoAuthAclFile = { users: new Map(), common: [], subscribeOnly: 0, problems: [] };
  let user: string | null = null;
  let userSeen = false;
  text.split('\n').forEach((rawLine, i) => {
    const line = i + 1;
    const raw = rawLine.replace(/\r$/, '');
    if (raw.replace(/ /g, '') === '' || raw.startsWith('#')) return;
    const s = raw.trim();
    const fields = s.split(/\s+/);
    const word = fields[0] as string;
    if (word === 'user') {
      userSeen = true;
      user = userLine(s.slice(4).trim(), line, out.users, out.problems);
      return;
    }
    if (word !== 'topic' && word !== 'pattern') {
      out.problems.push({ line, message: `unknown keyword "${word}"` });
      return;
    }
    let access: FilesAccess = 'readwrite';
    let pattern = fields[1] ?? '';
    if (fields.length > 2) {
      // go-auth: the word after topic/pattern is the access, the rest (spaces included) the topic.
      const rest = s.slice(word.length).trim();
      const accessWord = rest.split(' ')[0] as string;
      if (!isFilesAccess(accessWord)) {
        out.problems.push({ line, message: `unknown access "${accessWord}"` });
        return;
      }
      access = accessWord;
      pattern = rest.slice(accessWord.length).trim();
    }
    const scope = word === 'pattern' || !userSeen ? 'common' : 'own';
    if (scope === 'own' && user === null) return; // under a user name that was refused
    const problem = patternProblem(pattern, scope);
    if (problem) {
      out.problems.push({ line, message: `${problem}: skipped` });
      return;
    }
    const rule = filesRule(access, pattern);
    if (!rule) {
      out.subscribeOnly++;
      return;
    }
    if (scope === 'common') out.common.push(rule);
    else out.users.get(user as string)?.push(rule);
  });
  return out;
}
