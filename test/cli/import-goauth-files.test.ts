// Migration from mosquitto-go-auth's files backend: a passwords file with hashes from the real
// tools, a go-auth acl file (general rules, user rules, patterns, deny, subscribe, bad lines),
// utf-8 salts, then the broker checks against the real service and Redis.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { importGoAuth } from '../../src/cli/import-goauth';
import { parseGoAuthAclFile, parseGoAuthPasswordLine } from '../../src/domain/goauth-files';
import { argon2Cli, goAuthPbkdf2, htpasswdBcrypt } from '../support/legacy-hashes';
import { ADMIN_AUTH, startTestService, type TestService } from '../support/service';

jest.setTimeout(60_000);

let dir: string;
let t: TestService;

const PASSWORDS = [
  '# go-auth passwords file',
  `pb:${goAuthPbkdf2('pb-password', { iterations: 1000 })}`,
  `bc:${htpasswdBcrypt('bc-password')}`,
  `a2:${argon2Cli('a2-password')}`,
  'two:colons:here',
  'name with space:$2y$05$abc',
  'plain:not-a-hash',
  `slow:${htpasswdBcrypt('x').replace('$05$', '$15$')}`,
  '',
].join('\n');

const ACL = [
  '# general rules: every user, %u/%c substituted',
  'topic read broadcast/#',
  'topic deny broadcast/secret',
  'user pb',
  'topic readwrite plant/pb/#',
  'topic subscribe firehose/#',
  'topic read x/%u',
  'topic write',
  'user bc',
  'topic deny plant/bc/locked',
  'pattern readwrite devices/%u/#',
  'pattern write clients/%c/status',
  'pattern sometimes a/b',
  'user nobody',
  'topic read a/#',
  'bogus line',
].join('\n');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'authd-goauth-files-'));
  await writeFile(join(dir, 'passwords'), PASSWORDS);
  await writeFile(join(dir, 'acl'), ACL);
  t = await startTestService('goauth-files');
});
afterAll(async () => {
  await t?.stop();
  await rm(dir, { recursive: true, force: true });
});

const run = (args: Record<string, unknown> = {}) =>
  importGoAuth(t.service.ctx, {
    passwords: join(dir, 'passwords'),
    acl: join(dir, 'acl'),
    replaceCommon: true,
    ...args,
  });
const check = (kind: string, body: Record<string, unknown>) =>
  request(t.service.server)
    .post(`/mqtt/${kind}`)
    .send({ clientid: 'c-1', ...body })
    .then((r) => r.status);

describe('parsers', () => {
  it('password lines as go-auth splits them', () => {
    expect(parseGoAuthPasswordLine('# c', 1)).toBeNull();
    expect(parseGoAuthPasswordLine('  ', 2)).toBeNull();
    expect(parseGoAuthPasswordLine('a:b:c', 3)).toEqual({
      line: 3,
      message: expect.stringMatching(/exactly one/),
    });
    expect(parseGoAuthPasswordLine('u:$2y$x', 4)).toEqual({
      line: 4,
      username: 'u',
      hash: '$2y$x',
    });
  });

  it('acl file: general topic lines and patterns are common, 2-field lines readwrite', () => {
    const acl = parseGoAuthAclFile(
      'topic a/#\nuser u\ntopic b\ntopic deny b/c\npattern read %u/x\n',
    );
    expect(acl.common).toEqual([
      { pattern: 'a/#', access: 'readwrite' },
      { pattern: '%u/x', access: 'read' },
    ]);
    expect(acl.users.get('u')).toEqual([
      { pattern: 'b', access: 'readwrite' },
      { pattern: 'b/c', access: 'deny' },
    ]);
  });
});

it('imports, reporting every bad line as FILE:LINE', async () => {
  const report = await run();
  expect(report).toMatchObject({ created: 3, updated: 0 });
  const where = report.problems.map((p) => p.where.replace(`${dir}/`, ''));
  expect(where).toEqual([
    'acl:7', // own rule with a literal %u
    'acl:13', // unknown access word
    'acl:16', // unknown keyword
    'passwords:5',
    'passwords:6',
    'passwords:7',
    'passwords:8',
  ]);
  expect(report.problems.find((p) => p.where.endsWith('passwords:8'))?.message).toMatch(
    /PASSWD_MAX_ITERATIONS/,
  );
  const notes = report.notes.join('\n');
  expect(notes).toMatch(/1 "subscribe" rule/);
  expect(notes).toMatch(/nobody/);
});

it('each device logs in with its password and is refused with another', async () => {
  for (const u of ['pb', 'bc', 'a2']) {
    expect([u, await check('user', { username: u, password: `${u}-password` })]).toEqual([u, 200]);
    expect([u, await check('user', { username: u, password: `${u}-passwordx` })]).toEqual([u, 403]);
  }
});

it('ACL decisions as go-auth made them (never more)', async () => {
  const acl = (username: string, acc: number, topic: string, clientid = 'c-1') =>
    check('acl', { username, acc, topic, clientid });
  expect(await acl('pb', 4, 'plant/pb/#')).toBe(200);
  expect(await acl('pb', 2, 'plant/pb/x')).toBe(200);
  expect(await acl('pb', 4, 'firehose/#')).toBe(403); // subscribe-only: left out
  expect(await acl('pb', 4, 'broadcast/news/#')).toBe(200);
  // A deny inside a filter refuses the whole filter here (go-auth let it through).
  expect(await acl('pb', 4, 'broadcast/#')).toBe(403);
  expect(await acl('pb', 1, 'broadcast/news')).toBe(200);
  expect(await acl('pb', 1, 'broadcast/secret')).toBe(403); // general deny
  expect(await acl('pb', 2, 'broadcast/news')).toBe(403);
  expect(await acl('bc', 2, 'devices/bc/x')).toBe(200); // pattern %u
  expect(await acl('bc', 2, 'devices/pb/x')).toBe(403);
  expect(await acl('bc', 2, 'clients/k9/status', 'k9')).toBe(200); // pattern %c
  expect(await acl('bc', 2, 'clients/k9/status', 'k8')).toBe(403);
  expect(await acl('bc', 2, 'plant/bc/locked')).toBe(403);
  expect(await acl('pb', 1, 'x/pb')).toBe(403);
  expect(await check('superuser', { username: 'pb' })).toBe(403);
});

it('utf-8 salts with --salt-encoding utf-8', async () => {
  const salt = Buffer.from('k3y;S@lt~12345678', 'utf8');
  const file = join(dir, 'utf8');
  await writeFile(
    file,
    `u8:${goAuthPbkdf2('u8-password', { salt, utf8: true, iterations: 1000 })}\n`,
  );
  const wrong = await importGoAuth(t.service.ctx, { passwords: file });
  expect(wrong.problems[0]?.message).toMatch(/--salt-encoding utf-8/);
  const right = await importGoAuth(t.service.ctx, { passwords: file, saltEncoding: 'utf-8' });
  expect(right.created).toBe(1);
  expect(await check('user', { username: 'u8', password: 'u8-password' })).toBe(200);
  expect(await check('user', { username: 'u8', password: 'u8-passwore' })).toBe(403);
  const dev = await request(t.service.server).get('/api/v1/devices/u8').set(ADMIN_AUTH);
  expect(dev.body.hashScheme).toMatch(/^(go-auth-pbkdf2-sha512|\$7\$)$/);
});

it('bad arguments are clear errors', async () => {
  await expect(importGoAuth(t.service.ctx, {})).rejects.toThrow(/exactly one/);
  await expect(
    importGoAuth(t.service.ctx, { passwords: 'x', saltEncoding: 'latin1' }),
  ).rejects.toThrow(/--salt-encoding/);
  await expect(importGoAuth(t.service.ctx, { redis: 'redis://127.0.0.1:1/1' })).rejects.toThrow(
    /cannot reach/,
  );
});
