// The export skips records that do not decode, names them (log and GET /export), writes
// everyone else, and its files always load in a real mosquitto.
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import request from 'supertest';
import { commandSync, startMosquitto, type MosquittoProcess } from '../support/processes';
import {
  ADMIN_AUTH,
  captureLog,
  fallbackConfig,
  startTestService,
  type TestService,
} from '../support/service';

jest.setTimeout(30_000);
const uid = commandSync('id', ['-u', 'mosquitto']).stdout.trim();
const gid = commandSync('id', ['-g', 'mosquitto']).stdout.trim();
const log = captureLog();
let dir: string;
let t: TestService;
let broker: MosquittoProcess | null = null;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'authd-damaged-export-'));
  await chmod(dir, 0o755);
  t = await startTestService(
    'damaged-export',
    {
      PASSWD_FILE: join(dir, 'passwd'),
      ACL_FILE: join(dir, 'acl'),
      EXPORT_OWNER: `${uid}:${gid}`,
      EXPORT_DEBOUNCE_MS: '60000', // exports run when the test asks
      EXPORT_MAX_DELAY_MS: '60000',
    },
    { log: log.stream },
  );
  const { devices } = t.service.ctx;
  const { redis, keys } = t.raw();
  await devices.create({
    id: 'fine',
    password: 'fine-password',
    acl: [{ pattern: 'fine/#', access: 'readwrite' }],
  });
  for (const id of ['bad-acl', 'bad-clientids', 'bad-flag', 'typed'])
    await devices.create({ id, password: `${id}-password` });
  await redis.hset(keys.user('bad-acl'), 'acl', '[{"pattern":"x\\ny","access":"read"}]');
  await redis.hset(keys.user('bad-clientids'), 'clientIds', '"box"');
  await redis.hset(keys.user('bad-flag'), 'disabled', 'no');
  await redis.del(keys.user('typed'));
  await redis.sadd(keys.user('typed'), 'member');
  // Names no Mosquitto file can carry, written straight into the index with a valid hash.
  const hash = (await redis.hget(keys.user('fine'), 'hash')) as string;
  for (const name of ['two words', 'line\nbreak', 'colon:name']) {
    await redis.hset(keys.user(name), 'hash', hash);
    await redis.zadd(keys.index(keys.bucketOf(name)), 0, name);
  }
});
afterAll(async () => {
  await broker?.stop();
  await t.stop();
  await rm(dir, { recursive: true, force: true });
});

it('skips the damaged records, names each, and writes everyone else', async () => {
  const res = await request(t.service.server).post('/api/v1/export').set(ADMIN_AUTH).expect(200);
  const names = (res.body.damaged as { username: string }[]).map((d) => d.username).sort();
  expect(names).toEqual(
    [
      'bad-acl',
      'bad-clientids',
      'bad-flag',
      'colon:name',
      'line\nbreak',
      'two words',
      'typed',
    ].sort(),
  );
  expect(res.body.skipped.damaged).toBe(7);
  expect(res.body.users).toBe(1);
  for (const d of res.body.damaged as { reason: string }[]) expect(d.reason).not.toBe('');
  const passwd = await readFile(join(dir, 'passwd'), 'utf8');
  expect(passwd).toMatch(/^fine:\$7\$/m);
  expect(passwd.split('\n').filter((l) => l && !l.startsWith('#'))).toHaveLength(1);
  const acl = await readFile(join(dir, 'acl'), 'utf8');
  expect(acl).toContain('user fine\ntopic readwrite fine/#\n');
  expect(acl).not.toMatch(/bad-|typed|two words|break/);
  // The status GET shows the same list, and readiness does not fail for it.
  const status = await request(t.service.server).get('/api/v1/export').set(ADMIN_AUTH).expect(200);
  expect(status.body.damaged).toHaveLength(7);
  await request(t.service.server).get('/readyz').expect(200);
  expect(log.lines.some((l) => l.level === 50 && l.username === 'bad-acl')).toBe(true);
});

it('the exported files load in a real mosquitto, which lets the good device in', async () => {
  broker = await startMosquitto({
    dir,
    dropPrivileges: true,
    config: fallbackConfig(dir),
  });
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, {
    username: 'fine',
    password: 'fine-password',
    reconnectPeriod: 0,
  });
  await c.endAsync();
  await expect(
    mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, {
      username: 'bad-acl',
      password: 'bad-acl-password',
      reconnectPeriod: 0,
    }),
  ).rejects.toThrow(/Not authorized|Bad username/i);
  expect(broker.logs()).not.toMatch(/error|warning|unable|invalid/i);
});

it('POST /export answers 503 with the reason when the export it ran failed', async () => {
  const f = await startTestService('export-fails', {
    PASSWD_FILE: '/dev/null/passwd', // a directory that cannot exist
    EXPORT_DEBOUNCE_MS: '60000',
    EXPORT_MAX_DELAY_MS: '60000',
  });
  try {
    const res = await request(f.service.server).post('/api/v1/export').set(ADMIN_AUTH).expect(503);
    expect(res.body.error.code).toBe('export_failed');
    expect(res.body.error.message).toMatch(/mkdir/);
  } finally {
    f.service.exporter.cancel();
    await f.stop();
  }
});
