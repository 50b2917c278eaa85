// What an import report says about keys and lines it skips: every skipped key named (non-UTF-8
// names as bytes, `<user>:su` of the wrong type, keys of other types), control and bidi
// characters escaped, long text cut; a UTF-8 BOM named, not taken for part of the first name.
// Plus the ACL mapping's scale: linear in a user's set size (timings printed), and sets too
// large to map refused before the work. The real binary against a real go-auth Redis.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { redisUserRules, TooManyRules, type GoAuthSets } from '../../src/domain/goauth-acl';
import {
  CLI,
  cleanPrefix,
  runCommand,
  startRedis,
  testPrefix,
  type RedisProcess,
} from '../support/processes';
import { TEST_REDIS_URL } from '../support/service';

jest.setTimeout(120_000);
const prefix = testPrefix('import-reports');
let src: RedisProcess;
let goauth: Redis;
let dir: string;

const pbkdf2 = () =>
  `PBKDF2$sha512$1000$${randomBytes(16).toString('base64')}$${randomBytes(32).toString('base64')}`;
const run = (...args: string[]) =>
  runCommand(process.execPath, [CLI, 'import-goauth', ...args], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
      LOG_LEVEL: 'warn',
    },
    timeoutMs: 60_000,
  });

beforeAll(async () => {
  src = await startRedis();
  goauth = new Redis(src.url);
  dir = await mkdtemp(join(tmpdir(), 'authd-import-reports-'));
  const m = goauth.multi();
  m.set(Buffer.from([0x64, 0x65, 0x76, 0xff, 0xfe]), pbkdf2()); // not UTF-8
  m.set('suset', pbkdf2()).sadd('suset:su', 'true'); // su of the wrong type
  m.set('nl\nuser', pbkdf2()); // control character in a name
  m.set('bidi\u202Euser', pbkdf2());
  m.set('big', pbkdf2()).sadd('big:racls', `a/${'x'.repeat(1_000_000)}`); // a 1 MB pattern
  m.hset('a-hash', 'f', 'v'); // a key of another type
  await m.exec();
});
afterAll(async () => {
  goauth.disconnect();
  await src.stop();
  await rm(dir, { recursive: true, force: true });
  await cleanPrefix(TEST_REDIS_URL, prefix);
});

it('names every skipped key, escaped and cut', async () => {
  const r = await run('--redis', src.url, '--dry-run');
  const err = r.stderr;
  expect(err).toContain('0x646576fffe: key name is not UTF-8: skipped');
  expect(err).toMatch(/suset:su: not a string \(WRONGTYPE\)/);
  expect(err).toContain('nl\\u{A}user: user name');
  expect(err).toContain('bidi\\u{202E}user: user name');
  expect(err).toMatch(/"a\/x{150,}… \(\d+ more characters\)" is not a valid topic filter/);
  expect(err).toMatch(/other types .*"a-hash"/);
  // nothing raw: no bidi override, no line longer than the cut
  expect(err).not.toContain('\u202E');
  for (const line of err.split('\n')) expect(line.length).toBeLessThan(3000);
});

it('names a UTF-8 BOM at the start of a go-auth passwords file and imports its first user', async () => {
  const file = join(dir, 'passwords');
  await writeFile(file, `\uFEFFfirst:${pbkdf2()}\nsecond:${pbkdf2()}\n`);
  const r = await run('--passwords', file, '--dry-run');
  expect(r.stderr).toMatch(/byte order mark \(BOM\); it was ignored/);
  expect(r.stderr).not.toMatch(/control characters/);
  expect(r.stdout).toMatch(/create first/);
});

it('reports names not in NFC or with nothing visible, and imports the NFC one', async () => {
  const file = join(dir, 'passwords-unicode');
  const lines = ['cafe\u0301', '\u0301\u0301', '\u3164', 'caf\u00e9'].map(
    (u) => `${u}:${pbkdf2()}`,
  );
  await writeFile(file, `${lines.join('\n')}\n`);
  const r = await run('--passwords', file, '--dry-run');
  expect(r.stderr).toMatch(
    /passwords-unicode:1: user name must be in Unicode normalization form NFC/,
  );
  expect(r.stderr).toMatch(/passwords-unicode:2: user name must contain a visible character/);
  expect(r.stderr).toMatch(/passwords-unicode:3: user name must contain a visible character/);
  expect(r.stdout).toContain('create caf\u00e9');
  expect(r.stdout).not.toContain('create cafe\u0301');
});

describe('ACL mapping scale', () => {
  const empty: GoAuthSets = { racls: [], wacls: [], rwacls: [], sacls: [] };
  const set = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i));

  it('grows linearly with a set size (timings printed), and refuses sets too large before the work', () => {
    const lines: string[] = [];
    for (const n of [2000, 4000, 8000, 100_000]) {
      const own: GoAuthSets = {
        ...empty,
        racls: set(n, (i) => `r/${i}/+`),
        rwacls: set(Math.min(n, 5000), (i) => `rw/${i}/#`),
        sacls: ['r/#', 'rw/#'],
      };
      const t0 = performance.now();
      let outcome: string;
      try {
        outcome = `${redisUserRules('u', own, empty).rules.length} rules`;
      } catch (err) {
        if (!(err instanceof TooManyRules)) throw err;
        outcome = `refused: ${err.message}`;
      }
      lines.push(`${n} read patterns: ${(performance.now() - t0).toFixed(0)} ms (${outcome})`);
    }
    const big = {
      ...empty,
      sacls: set(1000, (i) => `s/${i}`),
      racls: set(1000, (i) => `s/+/${i}`),
    };
    const t0 = performance.now();
    expect(() => redisUserRules('u', big, empty)).toThrow(TooManyRules);
    lines.push(
      `1000 × 1000 subscribe × read: refused in ${(performance.now() - t0).toFixed(1)} ms`,
    );
    console.log(lines.join('\n'));
  });
});
