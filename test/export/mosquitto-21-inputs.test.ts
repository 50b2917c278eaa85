// Issue 21: three inputs the service accepted made Mosquitto 2.1 quit (on start, and on the
// SIGHUP the service sends): a `$7$` salt of 16 bytes, a rule 202 levels deep, and a `%u` rule
// that grows past 65,535 bytes for a 128-character id. Each goes in through the API and through
// import-passwd (and, for stored data from before, straight into Redis); the export must leave
// out what 2.1 refuses, say so, and every line it writes must pass 2.1's rules
// (src/domain/mosquitto-rules.ts). Debian's Mosquitto 2.0.11 then loads and reloads the files.
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import request from 'supertest';
import { importPasswd } from '../../src/cli/import-passwd';
import { aclFileProblems, passwdFileProblems } from '../../src/domain/mosquitto-rules';
import { hashPassword } from '../../src/domain/passwd-hash';
import { eventually } from '../support/http';
import { commandSync, startMosquitto, type MosquittoProcess } from '../support/processes';
import { ADMIN_AUTH, fallbackConfig, startTestService, type TestService } from '../support/service';

jest.setTimeout(60_000);
const uid = commandSync('id', ['-u', 'mosquitto']).stdout.trim();
const gid = commandSync('id', ['-g', 'mosquitto']).stdout.trim();
const DEEP = `${'a/'.repeat(201)}a`; // 202 levels: 2.1 allows 200 "/"
const LONG_ID = 'u'.repeat(128);
const GROWS = '%u'.repeat(512); // 65,536 bytes once a 128-character id is filled in
let dir: string;
let t: TestService;
let broker: MosquittoProcess | null = null;
const api = () => request(t.service.server);

/** `$7$` as an old importer wrote it: a 16-byte salt (2.0 skipped the line, 2.1 quits). */
const salted16 = (password: string) => {
  const salt = randomBytes(16);
  const key = pbkdf2Sync(password, salt, 1000, 64, 'sha512');
  return `$7$1000$${salt.toString('base64')}$${key.toString('base64')}`;
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'authd-mosq21-'));
  await chmod(dir, 0o755);
  t = await startTestService('mosq21', {
    PASSWD_FILE: join(dir, 'passwd'),
    ACL_FILE: join(dir, 'acl'),
    EXPORT_OWNER: `${uid}:${gid}`,
    EXPORT_DEBOUNCE_MS: '60000', // exports run when the test asks
    EXPORT_MAX_DELAY_MS: '60000',
    MOSQUITTO_RELOAD: `pidfile:${join(dir, 'mosquitto.pid')}`,
    MOSQUITTO_RELOAD_CHECK_MS: '1500',
  });
});
afterAll(async () => {
  await broker?.stop();
  await t?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('the API refuses them at the door', () => {
  it.each([
    ['an own rule 202 levels deep', { id: 'deep', acl: [{ pattern: DEEP, access: 'read' }] }],
    ['a %u rule past 65,535 bytes', { id: LONG_ID, acl: [{ pattern: GROWS, access: 'read' }] }],
  ])('%s: 400 naming the field', async (_, body) => {
    const res = await api().post('/api/v1/devices').set(ADMIN_AUTH).send(body).expect(400);
    expect(res.body.error.message).toMatch(
      /^body\.acl\.0\.pattern: .*(202 levels|could be \d+ bytes)/,
    );
  });

  it('a common rule 202 levels deep: 400', async () => {
    const res = await api()
      .put('/api/v1/acl/common')
      .set(ADMIN_AUTH)
      .send({ acl: [{ pattern: DEEP, access: 'readwrite' }] })
      .expect(400);
    expect(res.body.error.message).toMatch(/^body\.acl\.0\.pattern: 202 levels/);
  });
});

it('import-passwd reports the rules and imports the odd salt to re-salt it at login', async () => {
  const fine = await hashPassword('fine-password', { iterations: 101, saltBytes: 12 });
  const passwd = join(dir, 'import.passwd');
  const acl = join(dir, 'import.acl');
  await writeFile(
    passwd,
    [`salty:${salted16('salty-password')}`, `deepuser:${fine}`, `${LONG_ID}:${fine}`, ''].join(
      '\n',
    ),
  );
  await writeFile(
    acl,
    [
      'user deepuser',
      `topic read ${DEEP}`,
      'topic read ok/deep',
      `user ${LONG_ID}`,
      `topic read ${GROWS}`,
      '',
    ].join('\n'),
  );
  const report = await importPasswd(t.service.ctx.devices, passwd, acl);
  expect(report.created).toBe(3);
  expect(report.problems.map((p) => [p.line, p.message])).toEqual([
    [2, expect.stringMatching(/202 levels.*not imported/)],
    [5, expect.stringMatching(/could be \d+ bytes.*not imported/)],
  ]);
  expect(report.notes.join('\n')).toMatch(
    /1 hash\(es\) have a salt Mosquitto 2.1 cannot read.*: salty/,
  );
});

it('the export leaves out what 2.1 refuses, names it, and writes only lines 2.1 loads', async () => {
  // Stored before the door existed: written straight into Redis.
  const { devices } = t.service.ctx;
  const { redis, keys } = t.raw();
  await devices.create({ id: 'legacy', password: 'legacy-password' });
  await redis.hset(
    keys.user('legacy'),
    'acl',
    JSON.stringify([
      { pattern: DEEP, access: 'read' },
      { pattern: `${DEEP}/#`, access: 'deny' },
      { pattern: 'legacy/ok', access: 'read' },
    ]),
  );
  // The import test above created it when the file runs whole; only that is let through.
  await devices.create({ id: LONG_ID, password: 'long-password' }).catch((err: unknown) => {
    if ((err as { code?: string }).code !== 'conflict') throw err;
  });
  await redis.hset(keys.user(LONG_ID), 'acl', JSON.stringify([{ pattern: GROWS, access: 'read' }]));
  await redis.set(
    keys.commonAcl,
    JSON.stringify([
      { pattern: 'devices/%u/#', access: 'readwrite' },
      { pattern: DEEP, access: 'read' },
    ]),
  );

  const res = await api().post('/api/v1/export').set(ADMIN_AUTH).expect(200);
  expect(res.body.skipped['unloadable-hash']).toBe(1);
  expect(res.body.rulesLeftOut).toBe(4);
  const named = (res.body.unloadable as { username: string; reason: string }[]).map(
    (u) => `${u.username}: ${u.reason}`,
  );
  expect(named).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/^salty: hash: salt of 16 bytes/),
      expect.stringMatching(/^common rules: read "a\/a.*202 levels.*left out$/),
      expect.stringMatching(/^legacy: read .*202 levels.*left out$/),
      expect.stringMatching(/^legacy: deny .*203 levels.*exported as deny #$/),
      expect.stringMatching(new RegExp(`^${LONG_ID}: read "%u.*65536 bytes`)),
    ]),
  );
  expect(res.body).toMatchObject({ lastError: null, consecutiveFailures: 0 });
  // No broker yet at the pid file: the files are current, the reload is only pending.
  expect(res.body.reload.state).toBe('no-broker');

  const passwd = await readFile(join(dir, 'passwd'), 'utf8');
  const acl = await readFile(join(dir, 'acl'), 'utf8');
  expect(passwdFileProblems(passwd)).toEqual([]);
  expect(aclFileProblems(acl)).toEqual([]);
  expect(passwd).not.toMatch(/^salty:/m);
  expect(acl).toContain('\nuser legacy\ntopic deny #\ntopic read legacy/ok\n');
  expect(acl).not.toContain('a/a/a/a');
});

it("Debian's Mosquitto 2.0.11 loads the files, and keeps running across a re-salting export and SIGHUP", async () => {
  broker = await startMosquitto({ dir, dropPrivileges: true, config: fallbackConfig(dir) });
  await writeFile(join(dir, 'mosquitto.pid'), String(broker.pid)); // pid_file is only written by -d
  expect(broker.logs()).not.toMatch(/error|warning|unable|invalid/i);

  // A login through the plugin path re-salts the imported hash; the next export writes it.
  const login = await api()
    .post('/mqtt/user')
    .send({ username: 'salty', password: 'salty-password', clientid: 'c' });
  expect(login.status).toBe(200);
  await t.service.ctx.checks.settled();
  await eventually(async () => {
    const hash = (await t.service.ctx.store.getUser('salty'))?.hash ?? '';
    expect(hash).toMatch(/^\$7\$101\$[A-Za-z0-9+/]{16}\$/);
  });
  const res = await api().post('/api/v1/export').set(ADMIN_AUTH).expect(200);
  expect(res.body.skipped['unloadable-hash']).toBeUndefined();
  expect(res.body.reload).toMatchObject({ state: 'ok', pid: broker.pid });
  expect(res.body.reload.message).toMatch(/still running 1500 ms later/);
  const passwd = await readFile(join(dir, 'passwd'), 'utf8');
  expect(passwd).toMatch(/^salty:\$7\$/m);
  expect(passwdFileProblems(passwd)).toEqual([]);
  expect(aclFileProblems(await readFile(join(dir, 'acl'), 'utf8'))).toEqual([]);

  await broker.waitForLog(/Reloading config/);
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, {
    username: 'salty',
    password: 'salty-password',
    reconnectPeriod: 0,
  });
  await c.endAsync();
  expect(broker.isRunning()).toBe(true);
  expect(broker.logs()).not.toMatch(/error|warning|unable|invalid/i);
  await request(t.service.server).get('/readyz').expect(200);
});

it('without the check, 2.0.11 itself refuses to start on such a line (so would 2.1 on reload)', async () => {
  const bad = await mkdtemp(join(tmpdir(), 'authd-mosq21-bad-'));
  try {
    await chmod(bad, 0o755);
    await writeFile(join(bad, 'passwd'), '');
    await writeFile(join(bad, 'acl'), `user x\ntopic read ${DEEP}\n`);
    await expect(
      startMosquitto({
        dir: bad,
        dropPrivileges: true,
        config: fallbackConfig(bad),
        timeoutMs: 5000,
      }),
    ).rejects.toThrow(/Invalid ACL topic/);
  } finally {
    await rm(bad, { recursive: true, force: true });
  }
});
