import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashPassword, parseHash } from '../../src/domain/passwd-hash';
import { verifyPassword } from '../support/verify';
import { mosquittoPasswd } from '../support/processes';

// From the mosquitto reference doc (password `test`).
const V6 =
  '$6$njERlZMi/7DzNB9E$iiavfuXvUm8iyDZArTy7smTxh07GXXOrOsqxfW6gkOYVXHGk+W+i/8d3xDxrMwEPygEBhoA8A/gjQC0N2M4Lkw==';
const V7 =
  '$7$101$njERlZMi/7DzNB9E$/yzqCUhWGkAZ2+h0JzojJAjLCVTZ8quVVHhnC1Fbf3a7pClfzV0jRcbBYlOqTFCwR+52lEHnCgkqm8JkLG47bg==';

describe('reference vectors', () => {
  it.each([
    ['$6$', V6],
    ['$7$', V7],
  ])('%s verifies `test`', async (_, hash) => {
    await expect(verifyPassword('test', hash)).resolves.toBe('match');
  });

  it.each([
    ['', V6],
    ['Test', V6],
    ['test ', V6],
    ['tes', V6],
    ['test\n', V6],
    ['', V7],
    ['Test', V7],
    ['test ', V7],
    ['testtest', V7],
    ['test\u0000x', V7],
  ])('%j does not verify against %s', async (pw, hash) => {
    await expect(verifyPassword(pw, hash)).resolves.toBe('mismatch');
  });

  it('parses the $7$ vector', () => {
    const p = parseHash(V7);
    expect(p).not.toBeNull();
    expect(p?.kind).toBe(7);
    expect(p?.iterations).toBe(101);
    expect(p?.salt.length).toBe(12);
    expect(p?.key.length).toBe(64);
  });
});

describe('vectors from the real mosquitto_passwd', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'authd-passwd-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const passwords = [
    'test',
    'p4ssw0rd',
    'with:colon',
    ':leading',
    'trailing:',
    'a:b:c',
    'with space',
    'pä:ss wörd',
    'пароль',
    '密码🔑',
    'emoji 🦄🔒',
    'x'.repeat(200),
  ];
  const cases = passwords.flatMap((pw) => [
    ['sha512-pbkdf2', '$7$', pw],
    ['sha512', '$6$', pw],
  ]);

  let n = 0;
  it.each(cases)('-H %s (%s) %j', async (algo, prefix, pw) => {
    const file = join(dir, `passwd-${n++}`);
    await mosquittoPasswd(file, 'user', pw, ['-H', algo]);
    const line = (await readFile(file, 'utf8')).trim();
    expect(line.startsWith(`user:${prefix}`)).toBe(true);
    const hash = line.slice('user:'.length);
    if (prefix === '$7$') expect(parseHash(hash)?.iterations).toBe(101);
    await expect(verifyPassword(pw, hash)).resolves.toBe('match');
    await expect(verifyPassword(pw + 'x', hash)).resolves.toBe('mismatch');
    await expect(verifyPassword(pw.slice(0, -1), hash)).resolves.toBe('mismatch');
    await expect(verifyPassword(pw.normalize('NFD'), hash)).resolves.toBe(
      pw.normalize('NFD') === pw ? 'match' : 'mismatch',
    );
  });
});

describe('hashPassword', () => {
  const B64 = '[A-Za-z0-9+/]+={0,2}';
  it.each([
    [12, 1],
    [12, 101],
    [12, 1000],
    [64, 101],
    [64, 1000],
    [64, 2],
    [16, 50],
  ])('salt %i bytes, %i iterations', async (saltBytes, iterations) => {
    const pw = 'pä:ss wörd🔑';
    const hash = await hashPassword(pw, { saltBytes, iterations });
    expect(hash).toMatch(new RegExp(`^\\$7\\$${iterations}\\$${B64}\\$${B64}$`));
    const [, , iter, salt, key] = hash.split('$');
    expect(iter).toBe(String(iterations));
    expect(Buffer.from(salt as string, 'base64').length).toBe(saltBytes);
    expect(Buffer.from(key as string, 'base64').length).toBe(64);
    expect((key as string).length).toBe(88);
    await expect(verifyPassword(pw, hash)).resolves.toBe('match');
    await expect(verifyPassword('pä:ss wörd', hash)).resolves.toBe('mismatch');
    const parsed = parseHash(hash);
    expect(parsed?.iterations).toBe(iterations);
    expect(parsed?.salt.length).toBe(saltBytes);
  });

  it('uses a fresh salt each time', async () => {
    const opts = { saltBytes: 12, iterations: 1 };
    const hashes = await Promise.all(Array.from({ length: 20 }, () => hashPassword('x', opts)));
    expect(new Set(hashes).size).toBe(20);
  });

  it('hashes the empty password', async () => {
    const hash = await hashPassword('', { saltBytes: 12, iterations: 101 });
    await expect(verifyPassword('', hash)).resolves.toBe('match');
    await expect(verifyPassword(' ', hash)).resolves.toBe('mismatch');
  });
});

describe('malformed hashes', () => {
  const [, , , salt7, key7] = V7.split('$') as [string, string, string, string, string];
  const [, , salt6, key6] = V6.split('$') as [string, string, string, string];
  const shortKey = Buffer.alloc(32, 1).toString('base64');
  const longKey = Buffer.alloc(65, 1).toString('base64');
  it.each([
    ['empty', ''],
    ['plain text', 'test'],
    ['just $', '$'],
    ['$7$ only', '$7$'],
    ['$5$', `$5$${salt7}$${key7}`],
    [
      '$2q$ (no such bcrypt version)',
      '$2q$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy',
    ],
    ['missing key', `$7$101$${salt7}`],
    ['missing salt', `$7$101$${key7}`],
    ['missing iterations', `$7$${salt7}$${key7}`],
    ['extra part', `${V7}$x`],
    ['no leading $', V7.slice(1)],
    ['leading text', `x${V7}`],
    ['iterations 0', `$7$0$${salt7}$${key7}`],
    ['iterations 00101', `$7$00101$${salt7}$${key7}`],
    ['iterations -1', `$7$-1$${salt7}$${key7}`],
    ['iterations 1.5', `$7$1.5$${salt7}$${key7}`],
    ['iterations x', `$7$x$${salt7}$${key7}`],
    ['iterations 1e3', `$7$1e3$${salt7}$${key7}`],
    ['iterations huge', `$7$99999999999$${salt7}$${key7}`],
    ['iterations empty', `$7$$${salt7}$${key7}`],
    ['empty salt', `$7$101$$${key7}`],
    ['empty key', `$7$101$${salt7}$`],
    ['salt bad base64', `$7$101$not*base64!$${key7}`],
    ['key bad base64', `$7$101$${salt7}$${key7.replace('/', '_')}`],
    ['key with space', `$7$101$${salt7}$ ${key7}`],
    ['key too short', `$7$101$${salt7}$${shortKey}`],
    ['key too long', `$7$101$${salt7}$${longKey}`],
    ['key truncated', `$7$101$${salt7}$${key7.slice(0, 40)}`],
    ['trailing newline', `${V7}\n`],
    ['trailing space', `${V7} `],
    ['too many =', `$7$101$${salt7}$${key7}=`],
    ['$6$ missing key', `$6$${salt6}`],
    ['$6$ extra part', `$6$101$${salt6}$${key6}`],
    ['$6$ short key', `$6$${salt6}$${shortKey}`],
    ['$6$ bad base64', `$6$${salt6}$${key6.replace('+', '-')}`],
    ['$6$ empty salt', `$6$$${key6}`],
    ['whole passwd line', `test:${V7}`],
  ])('%s -> malformed, never throws', async (_, hash) => {
    expect(parseHash(hash)).toBeNull();
    await expect(verifyPassword('test', hash)).resolves.toBe('malformed');
  });
});
