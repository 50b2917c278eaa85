// Brute force: failed logins lock a user name / client id across replicas, before PBKDF2.
import request from 'supertest';
import { ADMIN_AUTH, startTestService, type TestService } from '../support/service';
import { JSON_HEADERS, rawRequest } from '../support/http';

const auth = ADMIN_AUTH;
let a: TestService;
let b: TestService; // a second replica on the same Redis keys

beforeAll(async () => {
  a = await startTestService('throttle', { AUTH_FAIL_LIMIT: '3', AUTH_LOCK_S: '60' });
  b = await startTestService('throttle-b', {
    AUTH_FAIL_LIMIT: '3',
    AUTH_LOCK_S: '60',
    REDIS_KEY_PREFIX: a.config.REDIS_KEY_PREFIX,
  });
  for (const id of ['victim', 'bystander', 'cid-user'])
    await a.service.ctx.devices.create({ id, password: `${id}-password` });
});
afterAll(async () => {
  await b.stop();
  await a.stop();
});

const login = (t: TestService, username: string, password: string, clientid = `c-${username}`) =>
  rawRequest(
    t.port,
    'POST',
    '/mqtt/user?response=json',
    JSON.stringify({ username, password, clientid }),
    JSON_HEADERS,
  );

it('locks a user name after the limit, on every replica, until an admin clears it', async () => {
  for (let i = 0; i < 4; i++)
    expect((await login(a, 'victim', `guess-${i}`, `g-${i}`)).status).toBe(403);
  const throttledBefore = (await a.service.ctx.metrics.throttled.get()).values[0]?.value ?? 0;
  const locked = await login(a, 'victim', 'victim-password');
  expect(locked.status).toBe(403);
  expect(JSON.parse(locked.body).error).toMatch(/too many failed logins/);
  expect((await a.service.ctx.metrics.throttled.get()).values[0]?.value).toBe(throttledBefore + 1);
  expect((await login(b, 'victim', 'victim-password')).status).toBe(403); // the other replica too
  expect((await login(b, 'bystander', 'bystander-password')).status).toBe(200); // others unaffected

  const lockouts = (await a.service.ctx.metrics.lockouts.get()).values.find(
    (v) => v.labels.kind === 'username',
  );
  expect(lockouts?.value).toBe(1);
  const audit = await request(a.service.server).get('/api/v1/audit').set(auth).expect(200);
  expect(
    audit.body.entries.map((e: { action: string; target: string }) => `${e.action} ${e.target}`),
  ).toContain('lockout username:victim');

  const api = request(a.service.server);
  const state = await api.get('/api/v1/lockouts/username/victim').set(auth).expect(200);
  expect(state.body).toMatchObject({ locked: true });
  expect(state.body.retryAfterS).toBeGreaterThan(0);
  await api.delete('/api/v1/lockouts/username/victim').set(auth).expect(204);
  expect((await login(b, 'victim', 'victim-password')).status).toBe(200);
  await api.get('/api/v1/lockouts/nonsense/victim').set(auth).expect(400);
});

it('locks a client id that tries many user names', async () => {
  for (let i = 0; i < 4; i++)
    expect((await login(a, `someone-${i}`, 'x', 'attacker-box')).status).toBe(403);
  expect((await login(a, 'cid-user', 'cid-user-password', 'attacker-box')).status).toBe(403);
  expect((await login(a, 'cid-user', 'cid-user-password', 'honest-box')).status).toBe(200);
});

it('a device whose password verified before keeps working while its name is attacked', async () => {
  expect((await login(a, 'bystander', 'bystander-password')).status).toBe(200); // now verified in a's cache
  for (let i = 0; i < 5; i++) await login(a, 'bystander', `guess-${i}`, `evil-${i}`);
  expect((await login(a, 'bystander', 'bystander-password')).status).toBe(200);
  expect((await login(a, 'bystander', 'guess-9', 'evil-9')).status).toBe(403);
});
