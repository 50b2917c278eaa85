// Real responses against the contract: every call below goes to the running service (real
// Redis, real export files), and each answer's body is parsed with the response schema its
// route declares for that status (src/contract/*). Parsing strips keys a schema does not
// know, so `parse(body)` equal to `body` also catches fields the contract does not list.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { ROUTES } from '../../src/api/routes';
import { checkUser, send } from '../support/http';
import { ADMIN_AUTH, startTestService, type TestService } from '../support/service';

let t: TestService;
let dir: string;
const seen = new Set<string>();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'authd-contract-'));
  t = await startTestService('contract', {
    PASSWD_FILE: join(dir, 'passwd'),
    ACL_FILE: join(dir, 'acl'),
    AUTH_FAIL_LIMIT: '2',
    AUTH_LOCK_S: '600',
  });
});
afterAll(async () => {
  await t?.stop();
  await rm(dir, { recursive: true, force: true });
});

const pattern = (p: string) => new RegExp(`^${p.replace(/:\w+/g, '[^/]+')}$`);

/** Calls the API and checks the answer against the schema its route declares for the status. */
async function call(
  method: 'get' | 'post' | 'put' | 'patch' | 'delete',
  path: string,
  body?: object,
) {
  let req = request(t.service.server)[method](`/api/v1${path}`).set(ADMIN_AUTH);
  if (body) req = req.send(body);
  const res = await req;
  const bare = path.split('?')[0] as string;
  const spec = ROUTES.find((r) => r.method === method && pattern(r.path).test(bare));
  if (!spec) throw new Error(`no route declared for ${method} ${bare}`);
  const declared = spec.responses[res.status];
  if (!declared) throw new Error(`${method} ${spec.path} answered ${res.status}, not declared`);
  if (declared.schema) expect(declared.schema.parse(res.body)).toEqual(res.body);
  else expect(res.text).toBe('');
  seen.add(`${method} ${spec.path} ${res.status}`);
  return res;
}

it('device calls answer what the contract says', async () => {
  const acl = [{ pattern: 'plant/%u/#', access: 'readwrite' }];
  expect(
    (await call('post', '/devices', { id: 'ct-1', acl, metadata: { site: 'a' } })).status,
  ).toBe(201);
  expect((await call('post', '/devices', { id: 'bad id' })).status).toBe(400);
  expect((await call('get', '/devices?limit=5')).body.devices.length).toBeGreaterThan(0);
  expect((await call('get', '/devices/ct-1')).body.hashScheme).toBe('$7$');
  expect((await call('get', '/devices/none-such')).status).toBe(404);
  expect((await call('patch', '/devices/ct-1', { superuser: false })).status).toBe(200);
  expect((await call('post', '/devices/ct-1/password', {})).body.password).toEqual(
    expect.any(String),
  );
  expect((await call('put', '/devices/ct-1/acl', { acl })).status).toBe(200);
});

it('session calls answer what the contract says', async () => {
  const body = JSON.stringify({
    broker: 'ct-b',
    boot: 'b',
    seq: 1,
    full: true,
    heartbeatMs: 5000,
    connected: [{ username: 'ct-1', clientid: 'c', address: '::1', protocol: 5, at: 1 }],
  });
  await send(t.port, '/mqtt/sessions', { body, headers: { 'Content-Type': 'application/json' } });
  expect((await call('get', '/sessions?username=ct-1')).body.sessions).toHaveLength(1);
  expect((await call('get', '/sessions?cursor=x')).status).toBe(400);
  expect((await call('get', '/presence')).body.brokers.length).toBeGreaterThan(0);
  expect((await call('get', '/devices/ct-1')).body.online).toBe(true);
  expect((await call('post', '/devices/ct-1/disconnect')).body.sessions).toBe(1);
  expect((await call('post', '/devices/none-such/disconnect')).status).toBe(404);
});

it('common rules, export, audit, decide and check counters answer what the contract says', async () => {
  expect((await call('get', '/acl/common')).status).toBe(200);
  expect(
    (await call('put', '/acl/common', { acl: [{ pattern: 'pub/#', access: 'read' }] })).status,
  ).toBe(200);
  expect((await call('post', '/export')).body.enabled).toBe(true);
  expect((await call('get', '/export')).body.lastRevision).toEqual(expect.any(Number));
  expect((await call('get', '/audit?limit=3')).body.entries).toHaveLength(3);
  await checkUser(t.port, 'ct-1', 'not-the-password');
  const decided = await call('post', '/decide', {
    username: 'ct-1',
    topic: 'plant/ct-1/x',
    acc: 'write',
  });
  expect(decided.body.rule.pattern).toBe('plant/%u/#');
  expect((await call('get', '/stats/checks')).body.byKind.user.deny).toBeGreaterThanOrEqual(1);
});

it('lockout calls answer what the contract says', async () => {
  await checkUser(t.port, 'ct-locked', 'wrong-1', 'ct-client');
  await checkUser(t.port, 'ct-locked', 'wrong-2', 'ct-client');
  const page = await call('get', '/lockouts?limit=10');
  expect(page.body.lockouts.map((l: { name: string }) => l.name)).toContain('ct-locked');
  expect((await call('get', '/lockouts/username/ct-locked')).body.locked).toBe(true);
  expect((await call('get', '/lockouts/nonsense/ct-locked')).status).toBe(400);
  expect((await call('delete', '/lockouts/username/ct-locked')).status).toBe(204);
  expect((await call('delete', '/lockouts?clientid=ct-client')).status).toBe(204);
  expect((await call('delete', '/lockouts')).status).toBe(400);
  expect((await call('delete', '/devices/ct-1')).status).toBe(204);
});

it('every route with a success schema was checked against a real answer', () => {
  const missing = ROUTES.filter(
    (r) => !Object.keys(r.responses).some((s) => seen.has(`${r.method} ${r.path} ${s}`)),
  ).map((r) => `${r.method} ${r.path}`);
  expect(missing).toEqual([]);
});
