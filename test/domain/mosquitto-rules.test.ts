// Mosquitto 2.1.2's readers, as tables: each refused case is one the broker quits on when it
// reloads (src/domain/mosquitto-rules.ts cites the source lines).
import { randomBytes } from 'node:crypto';
import {
  aclFileProblems,
  aclLineProblem,
  filterProblem,
  hashProblem,
  passwdFileProblems,
} from '../../src/domain/mosquitto-rules';

const b64 = (n: number) => randomBytes(n).toString('base64');
const key = b64(64);
const deep = (separators: number) => 'a/'.repeat(separators) + 'a';

describe('filterProblem (mosquitto_sub_topic_check)', () => {
  it.each([['a'], ['#'], ['+'], ['a/+/b/#'], ['/'], ['$SYS/#'], ['devices/%u/#'], ['ünï/🔑']])(
    'accepts %j',
    (f) => expect(filterProblem(f)).toBeNull(),
  );

  it.each([
    ['201 levels (200 "/")', deep(200)],
    ['65,535 bytes', 'x'.repeat(65535)],
  ])('accepts %s', (_, f) => expect(filterProblem(f)).toBeNull());

  it.each([
    ['empty', '', /empty/],
    ['202 levels', deep(201), /202 levels.*201/],
    ['65,536 bytes', 'x'.repeat(65536), /65536 bytes/],
    ['65,536 bytes in 32,768 units', 'é'.repeat(32768), /65536 bytes/],
    ['a/#/b', 'a/#/b', /"#" must be a whole level, and last/],
    ['a#', 'a#', /"#"/],
    ['a+/b', 'a+/b', /"\+" must be a whole level/],
    ['a/+b', 'a/+b', /"\+"/],
    ['NUL', 'a\u0000b', /NUL/],
  ])('refuses %s', (_, f, why) => expect(filterProblem(f)).toMatch(why));
});

describe('hashProblem (mosquitto_pw_decode)', () => {
  it.each([
    [`$7$101$${b64(12)}$${key}`],
    [`$7$1000$${b64(64)}$${key}`],
    [`$6$${b64(12)}$${key}`],
    [`$6$${b64(64)}$${key}`],
  ])('accepts %s', (h) => expect(hashProblem(h)).toBeNull());

  it.each([
    [`$7$1000$${b64(16)}$${key}`, /salt of 16 bytes.*12 or 64/],
    [`$7$1000$${b64(8)}$${key}`, /salt of 8 bytes/],
    [`$7$1000$${b64(32)}$${key}`, /salt of 32 bytes/],
    [`$6$${b64(16)}$${key}`, /salt of 16 bytes/],
    [`$7$0$${b64(12)}$${key}`, /iterations/],
    [`$7$1000$${b64(12)}$${b64(32)}`, /key must be 64 bytes/],
    [`$7$1000$${b64(12)}`, /fields/],
    ['$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g', /not a \$7\$ or \$6\$/],
    ['plain', /not a \$7\$/],
  ])('refuses %s', (h, why) => expect(hashProblem(h)).toMatch(why));
});

describe('passwdFileProblems (password_file__parse)', () => {
  const good = `$7$101$${b64(12)}$${key}`;
  it('skips comments, blank lines and lines without ":", as Mosquitto does', () => {
    expect(passwdFileProblems(`# header\n\nnocolon\nalice:${good}\n`)).toEqual([]);
  });
  it.each([
    [`alice:$7$101$${b64(16)}$${key}\n`, 1, /salt of 16 bytes/],
    [`alice:${good}\nalice:${good}\n`, 2, /listed twice/],
    [`alice:\n`, 1, /no password hash/],
    [` \t:${good}\n`, 1, /empty user name/],
    [`a\u0000b:${good}\n`, 1, /NUL/],
  ])('refuses %j (line %i)', (text, line, why) => {
    const problems = passwdFileProblems(text);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.line).toBe(line);
    expect(problems[0]?.problem).toMatch(why);
  });
});

describe('aclLineProblem (acl_file__parse)', () => {
  it.each([
    ['# comment'],
    [''],
    ['   '],
    ['user alice'],
    ['topic read a/b'],
    ['topic a/b'], // no access word: the word is the topic, readwrite
    ['pattern readwrite devices/%u/#'],
    ['topic deny   spaced/topic  '],
    ['topic read with space/ok'],
  ])('accepts %j', (line) => expect(aclLineProblem(line)).toBeNull());

  it('accepts a topic line 201 levels deep', () =>
    expect(aclLineProblem(`topic read ${deep(200)}`)).toBeNull());

  it.each([
    ['user', /without a name/],
    ['user   ', /without a name/],
    ['topic', /without an access word/],
    ['topic rw a/b', /"rw" is not read/],
    ['topics read a', /"topics" is not topic, pattern or user/],
    ['topic\tread a', /is not topic/],
    ['topic read a/#/b', /whole level/],
  ])('refuses %j', (line, why) => expect(aclLineProblem(line)).toMatch(why));

  it.each([
    ['a topic line 202 levels deep', `topic read ${deep(201)}`, /202 levels/],
    ['a pattern line 202 levels deep', `pattern read ${'%u/'.repeat(201)}x`, /202 levels/],
    ['a topic line of 65,536 bytes', `topic read ${'u'.repeat(65536)}`, /65536 bytes/],
  ])('refuses %s', (_, line, why) => expect(aclLineProblem(line)).toMatch(why));

  it('aclFileProblems numbers the lines and stops trusting the file at a NUL', () => {
    const text = `# h\npattern read a/%u\nuser bob\ntopic read ${deep(201)}\ntopic read x\u0000\n`;
    expect(aclFileProblems(text).map((p) => p.line)).toEqual([4, 5]);
  });
});
