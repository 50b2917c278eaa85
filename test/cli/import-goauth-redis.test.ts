// Migration from mosquitto-go-auth's Redis backend, end to end: a real redis-server laid out
// as go-auth lays it out (db 1, its default), hashes from the real tools, the import, the
// broker checks, the upgrade to $7$ at the first login, the export, and a real mosquitto
// reading the exported passwd file.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import Redis from 'ioredis';
import mqtt from 'mqtt';
import request from 'supertest';
import { importGoAuth } from '../../src/cli/import-goauth';
import { argon2Cli, GO_AUTH_VECTORS, goAuthPbkdf2, htpasswdBcrypt } from '../support/legacy-hashes';
import { startRedis, type MosquittoProcess, type RedisProcess } from '../support/processes';
import { eventually } from '../support/http';
import {
  ADMIN_AUTH,
  startFallbackSetup,
  type FallbackSetup,
  type TestService,
} from '../support/service';

jest.setTimeout(60_000);

let dir: string;
let src: RedisProcess;
let goauth: Redis;
let t: TestService;
let broker: MosquittoProcess;
let setup: FallbackSetup;

// username → [password, hash] as go-auth stored them
const [vectorPw, vectorHash] = GO_AUTH_VECTORS[0]!;
const DEVICES: Record<string, [string, string]> = {
  pb32: ['pb32-password', goAuthPbkdf2('pb32-password')], // go-auth's defaults: 32-byte key
  pb64: [vectorPw, vectorHash], // go-auth's own published hash, 64-byte key
  bc: ['bc-password', htpasswdBcrypt('bc-password')],
  a2: ['a2-password', argon2Cli('a2-password', { p: 2 })],
  boss: ['boss-password', goAuthPbkdf2('boss-password', { iterations: 1000 })],
};

beforeAll(async () => {
  src = await startRedis();
  goauth = new Redis(`${src.url}/1`);
  const m = goauth.multi();
  for (const [u, [, hash]] of Object.entries(DEVICES)) m.set(u, hash);
  m.set('boss:su', 'true').set('bc:su', 'false');
  m.sadd('pb32:rwacls', 'plant/pb32/#').sadd('pb32:sacls', 'plant/pb32/#', 'news/+');
  m.sadd('pb32:wacls', 'alerts').sadd('pb32:racls', 'news/pb32');
  m.sadd('pb64:racls', 'x/%u'); // literal in go-auth: reported
  m.sadd('common:racls', 'broadcast/#').sadd('common:sacls', 'broadcast/#', 'cmd/%u/#');
  m.sadd('common:rwacls', 'cmd/%u/#').sadd('common:wacls', 'clients/%c/status');
  m.set('bad user', goAuthPbkdf2('x', { iterations: 1000 })); // a name we refuse
  m.set('plain', 'not-a-hash');
  m.set('cache-entry', 'true', 'EX', 600); // go-auth's own cache, not a user
  m.sadd('ghost:racls', 'a/b'); // no password key
  await m.exec();

  setup = await startFallbackSetup('goauth-redis');
  ({ dir, t, broker } = setup);
});
afterAll(async () => {
  goauth?.disconnect();
  await src?.stop();
  await setup?.stop();
});

const run = (args: Parameters<typeof importGoAuth>[1], print?: (l: string) => void) =>
  importGoAuth(
    { ...t.service.ctx, devices: t.service.ctx.devices.as('cli') },
    { redis: `${src.url}/1`, ...args },
    { print },
  );
const check = (kind: string, body: Record<string, unknown>) =>
  request(t.service.server)
    .post(`/mqtt/${kind}`)
    .send({ clientid: 'c-1', ...body });
const login = async (username: string, password: string, clientid = 'c-1') =>
  (await check('user', { username, password, clientid })).status;
const acl = async (username: string, acc: number, topic: string, clientid = 'c-1') =>
  (await check('acl', { username, acc, topic, clientid })).status;
const device = async (id: string) =>
  (await request(t.service.server).get(`/api/v1/devices/${id}`).set(ADMIN_AUTH).expect(200)).body;

it('a dry run prints what would change and writes nothing', async () => {
  const lines: string[] = [];
  const report = await run({ dryRun: true, replaceCommon: true }, (l) => lines.push(l));
  expect(report.created).toBe(5);
  expect(lines).toContain('create boss: hash, acl, superuser');
  expect(lines.some((l) => l.startsWith('set common rules: '))).toBe(true);
  expect(await t.service.ctx.store.countUsers()).toBe(0);
});

it('--disable-superuser (go-auth ignored <user>:su) imports no superuser', async () => {
  const lines: string[] = [];
  await run({ dryRun: true, replaceCommon: true, disableSuperuser: true }, (l) => lines.push(l));
  expect(lines).toContain('create boss: hash, acl');
});

it('without --replace-common, different common rules are kept and reported', async () => {
  const report = await run({ dryRun: true });
  expect(report.notes.join('\n')).toMatch(/kept the existing ones.*--replace-common/);
  expect(report.commonRules).toBeNull();
});

it('imports every device and reports every problem by key', async () => {
  const report = await run({ replaceCommon: true });
  expect(report).toMatchObject({ created: 5, updated: 0, commonRules: 3 });
  const where = report.problems.map((p) => p.where).sort();
  expect(where).toEqual(['bad user', 'pb64:racls', 'plain']);
  expect(report.problems.find((p) => p.where === 'pb64:racls')?.message).toMatch(/literally/);
  expect(report.notes.join('\n')).toMatch(/ghost:racls/);
  expect(report.notes.join('\n')).toMatch(/1 string key\(s\) with a TTL/);
});

it('each device logs in with its go-auth password and is refused with another', async () => {
  for (const [u, [pw]] of Object.entries(DEVICES)) {
    expect([u, await login(u, `${pw}!`)]).toEqual([u, 403]);
  }
  // Still legacy: the wrong passwords upgraded nothing.
  expect((await device('bc')).hashScheme).toBe('bcrypt');
  expect((await device('a2')).hashScheme).toBe('argon2id');
  expect((await device('pb32')).hashScheme).toBe('go-auth-pbkdf2-sha512');
  expect(JSON.stringify(await device('pb32'))).not.toMatch(/PBKDF2\$/);
  await t.service.exporter.run(true);
  expect(
    (await request(t.service.server).get('/api/v1/export').set(ADMIN_AUTH)).body.skipped,
  ).toEqual({
    'legacy-hash': 5,
  });
});

it('ACLs: own sets, common sets with %u and %c, subscribe only where sacls allowed it', async () => {
  expect(await acl('pb32', 4, 'plant/pb32/#')).toBe(200);
  expect(await acl('pb32', 1, 'plant/pb32/temp')).toBe(200);
  expect(await acl('pb32', 2, 'plant/pb32/temp')).toBe(200);
  expect(await acl('pb32', 2, 'alerts')).toBe(200);
  expect(await acl('pb32', 4, 'alerts')).toBe(403); // no sacls entry: go-auth refused it too
  expect(await acl('pb32', 4, 'news/pb32')).toBe(200); // sacls news/+ meets racls news/pb32
  expect(await acl('pb32', 4, 'news/other')).toBe(403);
  expect(await acl('pb32', 4, 'plant/bc/#')).toBe(403);
  expect(await acl('bc', 4, 'broadcast/#')).toBe(200);
  expect(await acl('bc', 1, 'broadcast/news')).toBe(200);
  expect(await acl('bc', 2, 'broadcast/news')).toBe(403);
  expect(await acl('bc', 4, 'cmd/bc/#')).toBe(200);
  expect(await acl('bc', 2, 'cmd/bc/reboot')).toBe(200);
  expect(await acl('bc', 2, 'cmd/pb32/reboot')).toBe(403);
  expect(await acl('bc', 2, 'clients/dev-7/status', 'dev-7')).toBe(200);
  expect(await acl('bc', 2, 'clients/dev-7/status', 'dev-8')).toBe(403);
  expect(await acl('pb64', 1, 'x/%u')).toBe(403); // the skipped literal rule
});

it('superuser from <user>:su = "true" only', async () => {
  expect((await check('superuser', { username: 'boss' })).status).toBe(200);
  expect((await check('superuser', { username: 'bc' })).status).toBe(403);
  expect((await check('superuser', { username: 'pb32' })).status).toBe(403);
});

it('after one correct login each hash is $7$, exported, and a real mosquitto accepts it', async () => {
  for (const [u, [pw]] of Object.entries(DEVICES))
    expect([u, await login(u, pw)]).toEqual([u, 200]);
  await eventually(async () => {
    for (const u of Object.keys(DEVICES))
      expect([u, (await device(u)).hashScheme]).toEqual([u, '$7$']);
  }, 5000);
  for (const [u, [pw]] of Object.entries(DEVICES)) {
    expect([u, await login(u, pw)]).toEqual([u, 200]);
    expect([u, await login(u, `${pw}!`)]).toEqual([u, 403]);
  }
  const metrics = (await request(t.service.server).get('/metrics')).text;
  expect(metrics).toMatch(/mqtt_authd_password_rehash_total\{result="upgraded"\} 5/);
  const audit = await request(t.service.server).get('/api/v1/audit?limit=50').set(ADMIN_AUTH);
  const rehash = audit.body.entries.filter((e: { action: string }) => e.action === 'rehash');
  expect(rehash).toHaveLength(5);
  expect(rehash[0].actor).toBe('system');
  expect(JSON.stringify(rehash)).not.toMatch(/\$7\$\d/);

  await t.service.exporter.run(true);
  const passwd = await readFile(join(dir, 'passwd'), 'utf8');
  for (const u of Object.keys(DEVICES)) expect(passwd).toMatch(new RegExp(`^${u}:\\$7\\$`, 'm'));
  expect(
    (await request(t.service.server).get('/api/v1/export').set(ADMIN_AUTH)).body.skipped,
  ).toEqual({});
  await broker.waitForLog(/Reloading config/, 5000).catch(() => undefined);
  for (const [u, [pw]] of Object.entries(DEVICES)) {
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, {
      username: u,
      password: pw,
      reconnectPeriod: 0,
      connectTimeout: 3000,
    });
    c.end(true);
    await expect(
      mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, {
        username: u,
        password: `${pw}!`,
        reconnectPeriod: 0,
        connectTimeout: 3000,
      }),
    ).rejects.toThrow();
  }
});

it('a second import changes nothing: upgraded devices keep their $7$ hash', async () => {
  const before = await t.service.ctx.store.revision();
  const report = await run({ replaceCommon: true });
  expect(report).toMatchObject({ created: 0, updated: 0, unchanged: 5, keptHashes: 5 });
  expect(report.commonRules).toBeNull();
  expect(await t.service.ctx.store.revision()).toBe(before);
  expect((await device('bc')).hashScheme).toBe('$7$');
});
