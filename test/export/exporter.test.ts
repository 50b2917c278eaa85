// The passwd/acl_file export on real files from the real Redis.
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { verifyPassword } from '../support/verify';
import { ADMIN_AUTH, startTestService, type TestService } from '../support/service';
import { eventually } from '../support/http';

const auth = ADMIN_AUTH;
let dir: string;
let t: TestService;
const files = () => ({ passwd: join(dir, 'passwd'), acl: join(dir, 'acl') });

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'authd-export-'));
});
afterEach(async () => {
  await t?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function start(env: Record<string, string> = {}) {
  t = await startTestService('export', {
    PASSWD_FILE: files().passwd,
    ACL_FILE: files().acl,
    EXPORT_DEBOUNCE_MS: '50',
    EXPORT_MAX_DELAY_MS: '300',
    ...env,
  });
  return t;
}

it('writes sorted passwd and acl files, mode 0600, from Redis', async () => {
  await start();
  const devices = t.service.ctx.devices;
  await devices.create({ id: 'zeta', password: 'zeta-password' });
  await devices.create({
    id: 'alpha',
    password: 'alpha-password',
    acl: [
      { pattern: 'fleet/%u/#', access: 'read' },
      { pattern: 'fleet/%u/secret', access: 'deny' },
      { pattern: 'cmd/%c', access: 'write' },
    ],
  });
  await devices.create({ id: 'boss', password: 'boss-password', superuser: true });
  await devices.create({ id: 'off', password: 'off-password', disabled: true });
  await devices.create({ id: 'bound', password: 'bound-password', clientIds: ['b1'] });
  // A debounced export may have caught only the first devices (the burst test covers the
  // debounce): export once more, after the last change, and read that.
  await t.service.exporter.run(true);
  const passwd = await readFile(files().passwd, 'utf8');
  const users = passwd
    .split('\n')
    .filter((l) => l.includes(':') && !l.startsWith('#'))
    .map((l) => l.split(':')[0]);
  expect(users).toEqual(['alpha', 'boss', 'zeta']); // sorted; disabled and client-bound left out
  const line = passwd.split('\n').find((l) => l.startsWith('alpha:')) as string;
  expect(await verifyPassword('alpha-password', line.slice('alpha:'.length))).toBe('match');
  expect(line).toMatch(/^alpha:\$7\$101\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==$/);

  const acl = await readFile(files().acl, 'utf8');
  expect(acl).toContain('pattern readwrite devices/%u/#\n');
  expect(acl).toContain('\nuser alpha\ntopic read fleet/alpha/#\ntopic deny fleet/alpha/secret\n');
  expect(acl).not.toContain('cmd/'); // a per-user %c grant cannot be expressed: left out (narrower)
  expect(acl).toContain('\nuser boss\ntopic readwrite #\n');
  expect(acl).not.toContain('user off');
  for (const f of [files().passwd, files().acl]) expect((await stat(f)).mode & 0o777).toBe(0o600);

  // deterministic: another export of the same data gives the same bytes
  await t.service.exporter.run(true);
  expect(await readFile(files().passwd, 'utf8')).toBe(passwd);
  expect(await readFile(files().acl, 'utf8')).toBe(acl);
});

it('debounces a burst of registrations into a few exports, done soon after the last', async () => {
  await start();
  await t.service.exporter.run(true);
  const exportRuns = async () =>
    (await t.service.ctx.metrics.exportRuns.get()).values.reduce((a, v) => a + v.value, 0);
  const runsBefore = await exportRuns();
  const api = request(t.service.server);
  await Promise.all(
    Array.from({ length: 200 }, (_, i) =>
      api
        .post('/api/v1/devices')
        .set(auth)
        .send({ id: `burst-${String(i).padStart(3, '0')}` })
        .expect(201),
    ),
  );
  // The file is renamed into place a moment before its run is counted: wait for both.
  await eventually(async () => {
    expect(await readFile(files().passwd, 'utf8')).toMatch(/^burst-199:/m);
    expect((await exportRuns()) - runsBefore).toBeGreaterThanOrEqual(1);
  }, 3000);
  expect((await exportRuns()) - runsBefore).toBeLessThan(20);
  const passwd = await readFile(files().passwd, 'utf8');
  expect(passwd.match(/^burst-/gm)).toHaveLength(200);
});

it('an export failure keeps the Redis write, shows in /export and recovers after backoff', async () => {
  const blocked = join(dir, 'sub');
  await writeFile(blocked, 'not a directory'); // PASSWD_FILE's parent is a file: ENOTDIR
  await start({ PASSWD_FILE: join(blocked, 'passwd'), ACL_FILE: join(blocked, 'acl') });
  const api = request(t.service.server);
  await api
    .post('/api/v1/devices')
    .set(auth)
    .send({ id: 'kept-1', password: 'password-1' })
    .expect(201);
  await eventually(async () => {
    const res = await api.get('/api/v1/export').set(auth).expect(200);
    expect(res.body.lastError).toMatch(/ENOTDIR|EEXIST/);
    expect(res.body.pending).toBe(true);
  }, 3000);
  expect(await t.service.ctx.devices.get('kept-1')).not.toBeNull();
  // Not ready only after 3 failures in a row (the retries back off: 0.5 s, 1 s, 2 s, …).
  await eventually(async () => {
    const res = await api.get('/api/v1/export').set(auth).expect(200);
    expect(res.body.consecutiveFailures).toBeGreaterThanOrEqual(3);
  }, 15000);
  const ready = await api.get('/readyz');
  expect([ready.status, ready.body.checks?.export]).toEqual([503, 'failing']);
  await rm(blocked);
  await mkdir(blocked);
  await eventually(
    async () => expect(await readFile(join(blocked, 'passwd'), 'utf8')).toMatch(/^kept-1:/m),
    10000,
  );
  // the passwd file is renamed before the acl_file and before the status is updated
  await eventually(async () => {
    const res = await api.get('/api/v1/export').set(auth).expect(200);
    expect(res.body).toMatchObject({ lastError: null, pending: false, users: 1 });
  });
  expect((await api.get('/readyz')).body.checks.export).toBe('ok');
});

it('runs the reload command after a change, and leaves no temp files', async () => {
  const counter = join(dir, 'reloads');
  await start({ MOSQUITTO_RELOAD: `command:echo reload >> ${counter}` });
  await eventually(
    async () => expect((await readFile(counter, 'utf8')).split('\n').length).toBeGreaterThan(1),
    3000,
  );
  const before = (await readFile(counter, 'utf8')).length;
  await t.service.ctx.devices.create({ id: 'r1', password: 'password-1' });
  await eventually(
    async () => expect((await readFile(counter, 'utf8')).length).toBeGreaterThan(before),
    3000,
  );
  // an export that changes nothing does not reload the broker again
  const after = (await readFile(counter, 'utf8')).length;
  await t.service.exporter.run(true);
  expect((await readFile(counter, 'utf8')).length).toBe(after);
  expect((await readdir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
});

it('applies EXPORT_FILE_MODE and EXPORT_OWNER', async () => {
  await chmod(dir, 0o755);
  await start({ EXPORT_FILE_MODE: '0640', EXPORT_OWNER: '0:0' });
  await t.service.exporter.run(true);
  const s = await stat(files().passwd);
  expect(s.mode & 0o777).toBe(0o640);
  expect([s.uid, s.gid]).toEqual([0, 0]);
});
