// What Mosquitto 2.1 accepts in a password_file and an acl_file, stated from its source
// (eclipse-mosquitto/mosquitto, tag v2.1.2). Since 2.1.0 any line these readers refuse makes
// the broker refuse to start, and a running broker QUIT on the SIGHUP that reloads the files
// (src/signals.c:108-121 returns the reader's error from the main loop); 2.0 logged and skipped.
// Pure: text in, the reason a line would be refused (or null) out. The export writes only lines
// these functions pass; the tests read every exported line back through them.

import { base64Length, utf8Length } from './utf8';

/** libcommon/topic_common.c:126 — a topic or filter is 1..65 535 bytes. */
export const MAX_TOPIC_BYTES = 65535;
/** config.h:93 TOPIC_HIERARCHY_LIMIT, checked at topic_common.c:129: at most 200 `/` (201 levels). */
export const MAX_TOPIC_SEPARATORS = 200;
/** libcommon/password_common.c:323 and :494 — the only salt sizes 2.1 decodes (HASH_LEN = 64). */
export const SALT_BYTES = [12, 64] as const;
/** password_common.c:341 and :512 — the key is one SHA-512 output. */
const KEY_BYTES = 64;

/**
 * `mosquitto_sub_topic_check` (topic_common.c:100-134), which the acl_file reader runs on every
 * `topic` and `pattern` line (plugins/acl-file/acl_parse.c:262-267): `+` and `#` only as whole
 * levels, `#` last, 1..65 535 bytes, at most 200 `/`. A NUL would end the C string early.
 */
export function filterProblem(filter: string): string | null {
  const n = filter.length;
  if (n === 0) return 'empty topic filter';
  let separators = 0;
  for (let i = 0; i < n; i++) {
    const c = filter.charCodeAt(i);
    if (c === NUL) return 'holds a NUL';
    if (c === SLASH) separators++;
    else if (c === PLUS || c === HASH) {
      const before = i === 0 || filter.charCodeAt(i - 1) === SLASH;
      const after = i === n - 1 || (c === PLUS && filter.charCodeAt(i + 1) === SLASH);
      if (!before || !after)
        return `"${filter[i]}" must be a whole level${c === HASH ? ', and last' : ''}`;
    }
  }
  // The export checks every rule of every user: count bytes only when it could matter.
  const bytes = n * 3 <= MAX_TOPIC_BYTES ? n : utf8Length(filter);
  if (bytes > MAX_TOPIC_BYTES) return `${bytes} bytes: Mosquitto's limit is ${MAX_TOPIC_BYTES}`;
  if (separators > MAX_TOPIC_SEPARATORS)
    return `${separators + 1} levels: Mosquitto's limit is ${MAX_TOPIC_SEPARATORS + 1} (${MAX_TOPIC_SEPARATORS} "/")`;
  return null;
}
const NUL = 0;
const SLASH = 0x2f;
const PLUS = 0x2b;
const HASH = 0x23;

const B64 = /^[A-Za-z0-9+/]*={0,2}$/;
const b64Bytes = (s: string): number | null =>
  s.length > 0 && s.length % 4 === 0 && B64.test(s) ? base64Length(s) : null;

/** The common case in one regex (the export checks every user): `$7$`/`$6$`, 12- or 64-byte salt. */
const LOADABLE_HASH =
  /^\$(?:7\$[1-9][0-9]{0,8}\$|6\$)(?:[A-Za-z0-9+/]{16}|[A-Za-z0-9+/]{86}==)\$[A-Za-z0-9+/]{86}==$/;

/**
 * `mosquitto_pw_decode` (password_common.c:625-653): `$6$SALT$KEY` or `$7$ITER$SALT$KEY`,
 * ITER ≥ 1 (:311), SALT base64 of 12 or 64 bytes (:323, :494), KEY base64 of 64 bytes (:341,
 * :512). `$argon2id$` decodes only in a broker built with argon2 (:158-175), so never here.
 */
export function hashProblem(hash: string): string | null {
  if (LOADABLE_HASH.test(hash)) return null;
  const parts = hash.split('$');
  const kind = parts[1];
  if (parts[0] !== '' || (kind !== '7' && kind !== '6'))
    return 'not a $7$ or $6$ hash (the only kinds every Mosquitto 2.1 build reads)';
  const [iterations, salt, key] = kind === '7' ? parts.slice(2) : ['1', ...parts.slice(2)];
  if (parts.length !== (kind === '7' ? 5 : 4)) return `not $${kind}$ with its fields`;
  if (!/^[1-9][0-9]{0,8}$/.test(iterations ?? '')) return 'iterations must be 1 to 999999999';
  const saltBytes = b64Bytes(salt ?? '');
  if (saltBytes === null) return 'salt is not base64';
  if (!SALT_BYTES.includes(saltBytes as 12 | 64))
    return `salt of ${saltBytes} bytes: Mosquitto 2.1 reads only 12 or 64 ("Unable to decode line in password file")`;
  if (b64Bytes(key ?? '') !== KEY_BYTES) return 'key must be 64 bytes of base64';
  return 'not in the form Mosquitto writes';
}

/** C `isspace` in the "C" locale, which mosquitto_trimblanks and the readers use. */
const isSpace = (c: string | undefined): boolean => c !== undefined && ' \t\n\v\f\r'.includes(c);
const trimC = (s: string): string => {
  let a = 0;
  let b = s.length;
  while (a < b && isSpace(s[a])) a++;
  while (b > a && isSpace(s[b - 1])) b--;
  return s.slice(a, b);
};

export interface FileProblem {
  line: number;
  problem: string;
}

/** libcommon/file_common.c:306-309: a NUL in a line ends the read, and every later line is lost. */
const nulProblem = 'holds a NUL: Mosquitto stops reading the file there';

/**
 * `password_file__parse` (plugins/password-file/password_parse.c:52-115) over a whole file:
 * `#` lines and lines without `:` are skipped (:56-61); otherwise the name (trimmed, :65) must be
 * 1..65 535 bytes (:66-73) and not listed before (:75-80), and the field after it up to the next
 * `:` (trimmed, :92-94) must decode (:101-105).
 */
export function passwdFileProblems(text: string): FileProblem[] {
  const out: FileProblem[] = [];
  const seen = new Set<string>();
  text.split('\n').forEach((line, i) => {
    const problem = line.includes('\u0000') ? nulProblem : passwdLine(line, seen);
    if (problem) out.push({ line: i + 1, problem });
  });
  return out;
}

function passwdLine(line: string, seen: Set<string>): string | null {
  if (line.startsWith('#') || !line.includes(':')) return null;
  // strtok_r(buf, ":") skips leading separators, then splits at the next one.
  const fields = line.split(':').filter((f) => f !== '');
  const name = trimC(fields[0] ?? '');
  if (name === '') return 'empty user name';
  if (utf8Length(name) > 65535) return 'user name over 65535 bytes';
  if (seen.has(name)) return `user "${name}" listed twice`;
  seen.add(name);
  if (fields[1] === undefined) return 'no password hash after the name';
  const hash = trimC(fields[1]);
  return hashProblem(hash) && `user "${name}": ${hashProblem(hash)}`;
}

const ACCESS_WORDS = new Set(['read', 'write', 'readwrite', 'deny']);

/**
 * `acl_file__parse` (plugins/acl-file/acl_parse.c:214-304) over a whole file: trailing blanks
 * go (:215-219), `#` lines are comments (:220), words are split at single spaces (:223). `topic`
 * and `pattern` need an access word (:232-237) among read/write/readwrite/deny (:245-258) and
 * a filter mosquitto_sub_topic_check accepts (:262-267); `user` needs a name (:277-297); any
 * other first word is an error (:298-301). The rest of the line after the word is trimmed (:240).
 */
export function aclFileProblems(text: string): FileProblem[] {
  const out: FileProblem[] = [];
  text.split('\n').forEach((line, i) => {
    const problem = line.includes('\u0000') ? nulProblem : aclLineProblem(line);
    if (problem) out.push({ line: i + 1, problem });
  });
  return out;
}

export function aclLineProblem(raw: string): string | null {
  let line = raw;
  while (line.length > 0 && isSpace(line[line.length - 1])) line = line.slice(0, -1);
  if (line.startsWith('#')) return null;
  const words = splitFirst(line);
  if (!words) return null; // a blank line: strtok finds no word
  const [word, rest] = words;
  if (word === 'user') {
    return rest === null || trimC(rest) === '' ? 'user line without a name' : null;
  }
  if (word !== 'topic' && word !== 'pattern') return `"${word}" is not topic, pattern or user`;
  const second = rest === null ? null : splitFirst(rest);
  if (!second) return `${word} line without an access word and filter`;
  const [access, after] = second;
  // Without a third word the second one is the filter (access readwrite), as :241-243 read it.
  if (after === null) return filterProblem(access);
  if (!ACCESS_WORDS.has(access)) return `"${access}" is not read, write, readwrite or deny`;
  return filterProblem(trimC(after));
}

/** strtok_r(s, " "): the first run of non-spaces, and what follows the space after it. */
function splitFirst(s: string): [string, string | null] | null {
  let a = 0;
  while (s[a] === ' ') a++;
  if (a === s.length) return null;
  const end = s.indexOf(' ', a);
  if (end < 0) return [s.slice(a), null];
  const rest = s.slice(end + 1);
  return [s.slice(a, end), rest === '' ? null : rest];
}
