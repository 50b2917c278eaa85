// Huge PBKDF2 iteration counts while other devices log in: hashes above PASSWD_MAX_ITERATIONS
// are refused (403, one error line) without being derived; hashes at the bound verify in the
// slow lane, so other devices' first logins do not wait for them. Prints the figures.
import { randomBytes } from 'node:crypto';
import { hashPassword } from '../../src/domain/passwd-hash';
import { captureLog, startTestService, type TestService } from '../support/service';
import { JSON_HEADERS, rawRequest } from '../support/http';

jest.setTimeout(60_000);
const MAX = 200_000;
const log = captureLog();
let t: TestService;

const hashAt = (iterations: number) =>
  `$7$${iterations}$${randomBytes(12).toString('base64')}$${randomBytes(64).toString('base64')}`;

beforeAll(async () => {
  t = await startTestService(
    'slow-hashes',
    { PASSWD_MAX_ITERATIONS: String(MAX) },
    { log: log.stream },
  );
  const { devices } = t.service.ctx;
  for (let i = 1; i <= 4; i++) {
    await devices.importHash(`huge-${i}`, hashAt(20_000_000));
    const dear = await hashPassword(`dear-${i}-password`, { iterations: MAX, saltBytes: 12 });
    await devices.importHash(`dear-${i}`, dear);
  }
  for (let i = 1; i <= 20; i++)
    await devices.create({ id: `other-${i}`, password: `other-${i}-password` });
});
afterAll(() => t.stop());

const login = async (username: string, password: string) => {
  const started = process.hrtime.bigint();
  const res = await rawRequest(
    t.port,
    'POST',
    '/mqtt/user',
    JSON.stringify({ username, password, clientid: `c-${username}` }),
    JSON_HEADERS,
  );
  return {
    status: res.status,
    ms: Number(process.hrtime.bigint() - started) / 1e6,
    at: Date.now(),
  };
};
const p = (xs: number[], q: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? 0;

it('refuses hashes above PASSWD_MAX_ITERATIONS at once, logging user and field', async () => {
  const huge = await Promise.all([1, 2, 3, 4].map((i) => login(`huge-${i}`, 'any-password')));
  expect(huge.map((r) => r.status)).toEqual([403, 403, 403, 403]);
  const lines = log.lines.filter((l) => l.level === 50 && String(l.username).startsWith('huge-'));
  expect(lines).toHaveLength(4);
  expect(lines[0]).toMatchObject({ field: 'hash' });
  expect(String(lines[0]?.msg)).toMatch(/PASSWD_MAX_ITERATIONS/);
  console.log(
    `four 20 000 000-iteration checks answered 403 in ${huge.map((r) => r.ms.toFixed(1)).join(', ')} ms`,
  );
});

it("four checks at the bound do not hold up other devices' first logins", async () => {
  const alone = await Promise.all(
    Array.from({ length: 10 }, (_, i) => login(`other-${i + 1}`, `other-${i + 1}-password`)),
  );
  const dear = Promise.all([1, 2, 3, 4].map((i) => login(`dear-${i}`, `dear-${i}-password`)));
  const others = await Promise.all(
    Array.from({ length: 10 }, (_, i) => login(`other-${i + 11}`, `other-${i + 11}-password`)),
  );
  const slow = await dear;
  expect(alone.every((r) => r.status === 200)).toBe(true);
  expect(others.every((r) => r.status === 200)).toBe(true);
  expect(slow.every((r) => r.status === 200)).toBe(true);
  // The slow lane takes one hashing thread: every other login is through before even the
  // first slow check is (without the lane they all wait for a thread, ~as long as a slow one).
  expect(Math.max(...others.map((r) => r.ms))).toBeLessThan(Math.min(...slow.map((r) => r.ms)));
  const f = (rs: { ms: number }[]) =>
    `p50 ${p(
      rs.map((r) => r.ms),
      0.5,
    ).toFixed(1)} ms, max ${Math.max(...rs.map((r) => r.ms)).toFixed(1)} ms`;
  console.log(
    [
      `other devices' first logins, alone: ${f(alone)}`,
      `other devices' first logins while four ${MAX}-iteration checks run: ${f(others)}`,
      `the four ${MAX}-iteration checks: ${slow.map((r) => r.ms.toFixed(0)).join(', ')} ms`,
    ].join('\n'),
  );
});
