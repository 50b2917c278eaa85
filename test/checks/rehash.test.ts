// Upgrade at login: a correct password against a legacy hash stores `$7$`, compare-and-set, so
// a rotation racing the login always wins and the old password never comes back.
import request from 'supertest';
import { htpasswdBcrypt } from '../support/legacy-hashes';
import { eventually } from '../support/http';
import { ADMIN_AUTH, startTestService, type TestService } from '../support/service';

jest.setTimeout(60_000);

let t: TestService;
let off: TestService;

beforeAll(async () => {
  // Cost 10 bcrypt (~0.1 s here) leaves a window for the rotation to land in.
  t = await startTestService('rehash', { PASSWD_MAX_ITERATIONS: '1000000' });
  off = await startTestService('rehash-off', { PASSWD_REHASH: 'off' });
});
afterAll(async () => {
  await t?.stop();
  await off?.stop();
});

const login = (s: TestService, username: string, password: string) =>
  request(s.service.server)
    .post('/mqtt/user')
    .send({ username, password, clientid: 'c' })
    .then((r) => r.status);
const scheme = async (s: TestService, id: string) =>
  (await request(s.service.server).get(`/api/v1/devices/${id}`).set(ADMIN_AUTH)).body.hashScheme;
const stored = async (s: TestService, id: string) =>
  (await s.service.ctx.store.getUser(id))?.hash as string;

it('the compare-and-set refuses to write over a hash that changed since it was verified', async () => {
  const devices = t.service.ctx.devices;
  const legacy = htpasswdBcrypt('old-password');
  await devices.importDevice('cas', { hash: legacy });
  await devices.rotate('cas', 'new-password');
  expect(await devices.upgradeHash('cas', legacy, 'old-password')).toBe('changed');
  expect(await login(t, 'cas', 'old-password')).toBe(403);
  expect(await login(t, 'cas', 'new-password')).toBe(200);
  await devices.remove('cas');
  expect(await devices.upgradeHash('cas', legacy, 'old-password')).toBe('changed');
  expect(await t.service.ctx.store.getUser('cas')).toBeNull(); // not resurrected either
});

it.each([0, 5, 20, 60, 150])(
  'a rotation %i ms into a legacy login wins: the old password is refused afterwards',
  async (delayMs) => {
    const id = `race-${delayMs}`;
    await t.service.ctx.devices.importDevice(id, { hash: htpasswdBcrypt('old-password', 10) });
    const loggingIn = login(t, id, 'old-password');
    await new Promise((r) => setTimeout(r, delayMs));
    const rotated = await request(t.service.server)
      .post(`/api/v1/devices/${id}/password`)
      .set(ADMIN_AUTH)
      .send({ password: 'new-password' })
      .expect(200);
    expect(rotated.body.password).toBe('new-password');
    expect(await loggingIn).toBe(200); // it was right when it was checked
    await t.service.ctx.checks.settled();
    expect(await login(t, id, 'old-password')).toBe(403);
    expect(await login(t, id, 'new-password')).toBe(200);
    expect(await scheme(t, id)).toBe('$7$');
  },
);

it('the race outcomes are counted: upgraded or changed, never an error', async () => {
  const metrics = (await request(t.service.server).get('/metrics')).text;
  const count = (result: string) =>
    Number(
      new RegExp(`mqtt_authd_password_rehash_total\\{result="${result}"\\} (\\d+)`).exec(
        metrics,
      )?.[1] ?? 0,
    );
  expect(count('upgraded') + count('changed')).toBeGreaterThanOrEqual(5);
  expect(count('error')).toBe(0);
});

it('a burst of logins upgrades once', async () => {
  await t.service.ctx.devices.importDevice('burst', { hash: htpasswdBcrypt('burst-password') });
  const statuses = await Promise.all(
    Array.from({ length: 8 }, () => login(t, 'burst', 'burst-password')),
  );
  expect(statuses).toEqual(Array(8).fill(200));
  await eventually(async () => expect(await scheme(t, 'burst')).toBe('$7$'));
  const audit = await request(t.service.server).get('/api/v1/audit?limit=100').set(ADMIN_AUTH);
  const rehash = audit.body.entries.filter(
    (e: { action: string; target: string }) => e.action === 'rehash' && e.target === 'burst',
  );
  expect(rehash).toHaveLength(1);
  expect(rehash[0]).toMatchObject({ actor: 'system', after: { hashScheme: '$7$' } });
});

it('PASSWD_REHASH=off keeps the legacy hash', async () => {
  const legacy = htpasswdBcrypt('kept-password');
  await off.service.ctx.devices.importDevice('kept', { hash: legacy });
  expect(await login(off, 'kept', 'kept-password')).toBe(200);
  await off.service.ctx.checks.settled();
  expect(await stored(off, 'kept')).toBe(legacy);
  expect(await scheme(off, 'kept')).toBe('bcrypt');
});
