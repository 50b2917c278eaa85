// Hashes that cost more than they say, or that the verifier cannot decode, beside a fresh
// native login: PBKDF2 work counts every block of the key (iterations × ⌈key / digest⌉), keys and
// salts above the caps are refused without deriving, and an undecodable hash (argon2id salt,
// bcrypt, `$7$`/`$6$` spellings) is a 403, never a 5xx.
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { captureLog, startTestService, type TestService } from '../support/service';
import { JSON_HEADERS, rawRequest } from '../support/http';

jest.setTimeout(60_000);
const log = captureLog();
let t: TestService;

const b64 = (n: number) => randomBytes(n).toString('base64');
/** go-auth's PBKDF2 spelling with a key of `keyBytes` (made of random bytes: never derived). */
const goauth = (iterations: number, keyBytes: number, saltBytes = 16) =>
  `PBKDF2$sha512$${iterations}$${b64(saltBytes)}$${b64(keyBytes)}`;

const COSTLY: Record<string, string> = {
  // 1 MB key at 1000 iterations: 16 384 blocks, 16 million iterations' worth (and above the cap)
  'mb-key': goauth(1000, 1024 * 1024),
  // 1024-byte key at 100 000 iterations: 1.6 million iterations' worth, over the bound
  'wide-key': goauth(100_000, 1024),
  // a 1 MB salt
  'mb-salt': goauth(1000, 64, 1024 * 1024),
  '7-mb-salt': `$7$1000$${b64(1024 * 1024)}$${b64(64)}`,
};
const UNDECODABLE: Record<string, string> = {
  // base64 of 17 characters (length ≡ 1 mod 4) never decodes
  'argon-salt': `$argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAA$${b64(32).replace(/=+$/, '')}`,
  // stray low bits: the verifier decodes strictly
  'argon-bits': `$argon2id$v=19$m=19456,t=2,p=1$J0qM4r15tF+o4FVsRD0UCh$${b64(32).replace(/=+$/, '')}`,
  'bcrypt-bits': `$2y$10$${'z'.repeat(53)}`,
};

beforeAll(async () => {
  t = await startTestService(
    'costly-hashes',
    { PASSWD_MAX_ITERATIONS: '100000' },
    { log: log.stream },
  );
  const { devices } = t.service.ctx;
  for (const [id, hash] of Object.entries({ ...COSTLY, ...UNDECODABLE }))
    await devices.importHash(id, hash);
  const salt = randomBytes(16);
  const key = pbkdf2Sync('native-password', salt, 1000, 64, 'sha512');
  await devices.importHash(
    'fine',
    `PBKDF2$sha512$1000$${salt.toString('base64')}$${key.toString('base64')}`,
  );
  await devices.create({ id: 'native', password: 'native-password' });
});
afterAll(() => t.stop());

const login = async (username: string, password: string) => {
  const t0 = performance.now();
  const r = await rawRequest(
    t.port,
    'POST',
    '/mqtt/user',
    JSON.stringify({ username, password, clientid: `c-${username}` }),
    JSON_HEADERS,
  );
  return { status: r.status, ms: performance.now() - t0 };
};

it('refuses costly keys and salts without deriving, beside a fresh native login', async () => {
  const costly = Object.keys(COSTLY).flatMap((id) => [id, id, id, id]);
  const [native, ...refused] = await Promise.all([
    login('native', 'native-password'),
    ...costly.map((id) => login(id, 'any-password')),
  ]);
  expect(refused.map((r) => r.status)).toEqual(costly.map(() => 403));
  expect(native?.status).toBe(200);
  // Deriving even one of them takes seconds; refusing takes the dummy work of an unknown user.
  expect(Math.max(...refused.map((r) => r.ms))).toBeLessThan(2000);
  const lines = log.lines.filter((l) => l.level === 50 && String(l.username) in COSTLY);
  expect(lines.length).toBe(costly.length);
  console.log(
    `${costly.length} costly-hash logins: 403 within ${Math.max(...refused.map((r) => r.ms)).toFixed(0)} ms; ` +
      `fresh native login beside them: ${native?.ms.toFixed(0)} ms`,
  );
  // A well-formed go-auth hash still verifies.
  expect((await login('fine', 'native-password')).status).toBe(200);
});

it('answers 403, never 5xx, for hashes the verifier cannot decode', async () => {
  for (const id of Object.keys(UNDECODABLE)) {
    expect({ id, status: (await login(id, 'any-password')).status }).toEqual({ id, status: 403 });
  }
  expect((await login('native', 'native-password')).status).toBe(200);
});
