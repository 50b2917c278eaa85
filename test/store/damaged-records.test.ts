// Stored data is input: a record or common rules that do not decode deny (403, never 5xx),
// one error line names the user and the field, and nobody else is affected.
import request from 'supertest';
import { ADMIN_AUTH, captureLog, startTestService, type TestService } from '../support/service';
import { eventually, JSON_HEADERS, rawRequest } from '../support/http';

const log = captureLog();
let t: TestService;

beforeAll(async () => {
  t = await startTestService('damaged', {}, { log: log.stream });
  await t.service.ctx.devices.create({ id: 'good', password: 'good-password' });
});
afterAll(() => t.stop());

const check = (kind: string, body: Record<string, unknown>, svc = t) =>
  rawRequest(svc.port, 'POST', `/mqtt/${kind}?response=json`, JSON.stringify(body), JSON_HEADERS);

/** Error lines the store wrote about `target`. */
const damageLines = (target: string) =>
  log.lines.filter((l) => l.level === 50 && l.username === target && l.name === 'authd:store');

// [case, field, stored value (null: field removed)]
const CASES: [string, string, string | null][] = [
  ['acl-not-json', 'acl', '[{"pattern":'],
  ['acl-a-number', 'acl', '42'],
  ['acl-rule-without-access', 'acl', '[{"pattern":"devices/#"}]'],
  ['acl-unknown-access', 'acl', '[{"pattern":"devices/#","access":"everything"}]'],
  ['acl-invalid-filter', 'acl', '[{"pattern":"a/#/b","access":"read"}]'],
  ['acl-an-object', 'acl', '{"pattern":"#","access":"readwrite"}'],
  ['clientids-a-string', 'clientIds', '"box-1"'],
  ['clientids-numbers', 'clientIds', '[1,2]'],
  ['metadata-an-array', 'metadata', '[1]'],
  ['metadata-nested', 'metadata', '{"a":{"b":1}}'],
  ['superuser-yes', 'superuser', 'yes'],
  ['disabled-2', 'disabled', '2'],
  ['hash-missing', 'hash', null],
  ['hash-empty', 'hash', ''],
];

describe.each(CASES)('a record with %s', (name, field, value) => {
  const id = `d-${name}`;
  const password = `pw-${name}-secret`;

  beforeAll(async () => {
    await t.service.ctx.devices.create({ id, password, superuser: true });
    const { redis, keys } = t.raw();
    const key = keys.user(id);
    // Written behind the service's back (no change event): the cache has never seen it.
    if (value === null) await redis.hdel(key, field);
    else await redis.hset(key, field, value);
  });

  it('is denied by every check with 403, logged once naming user and field', async () => {
    const user = await check('user', { username: id, password, clientid: `c-${id}` });
    expect([user.status, user.body]).toEqual([403, expect.stringContaining('134')]);
    expect((await check('superuser', { username: id })).status).toBe(403);
    const acl = await check('acl', {
      username: id,
      topic: `devices/${id}/x`,
      acc: 2,
      clientid: 'c',
    });
    expect(acl.status).toBe(403);
    const lines = damageLines(id);
    expect(lines).toHaveLength(1); // decoded once, on the one Redis read
    expect(lines[0]?.fields).toContain(field);
    expect(String(lines[0]?.msg)).toContain(field);
  });

  it('GET /devices/{id} says it is damaged instead of echoing the stored value', async () => {
    const res = await request(t.service.server)
      .get(`/api/v1/devices/${id}`)
      .set(ADMIN_AUTH)
      .expect(200);
    expect(res.body.damaged).toEqual([{ field, reason: expect.any(String) }]);
    expect(res.body.disabled).toBe(true);
    expect(res.body.superuser).toBe(false);
    expect(JSON.stringify(res.body)).not.toContain('everything');
  });

  it('leaves other devices alone', async () => {
    expect((await check('user', { username: 'good', password: 'good-password' })).status).toBe(200);
    const acl = await check('acl', { username: 'good', topic: 'devices/good/x', acc: 2 });
    expect(acl.status).toBe(200);
  });
});

describe('a user key of another Redis type (WRONGTYPE)', () => {
  beforeAll(async () => {
    const { redis, keys } = t.raw();
    await redis.set(keys.user('d-string'), 'not a hash');
    await redis.zadd(keys.index(keys.bucketOf('d-string')), 0, 'd-string');
  });

  it('denies every check with 403 and says so on GET and in the list', async () => {
    expect((await check('user', { username: 'd-string', password: 'whatever-pw' })).status).toBe(
      403,
    );
    expect((await check('superuser', { username: 'd-string' })).status).toBe(403);
    const api = request(t.service.server);
    const one = await api.get('/api/v1/devices/d-string').set(ADMIN_AUTH).expect(200);
    expect(one.body.damaged).toEqual([
      { field: 'key', reason: expect.stringMatching(/WRONGTYPE/) },
    ]);
    const list = await api.get('/api/v1/devices?limit=1000').set(ADMIN_AUTH).expect(200);
    const listed = list.body.devices.find((d: { id: string }) => d.id === 'd-string');
    expect(listed.damaged[0].field).toBe('key');
    expect(damageLines('d-string').length).toBeGreaterThanOrEqual(1);
  });

  it('a write to it is a 409 naming the problem; DELETE removes it', async () => {
    const api = request(t.service.server);
    const patch = await api
      .patch('/api/v1/devices/d-string')
      .set(ADMIN_AUTH)
      .send({ disabled: true })
      .expect(409);
    expect(patch.body.error).toMatchObject({ code: 'damaged_record' });
    await api.delete('/api/v1/devices/d-string').set(ADMIN_AUTH).expect(204);
    await api.get('/api/v1/devices/d-string').set(ADMIN_AUTH).expect(404);
  });
});

describe('damaged common rules', () => {
  let c: TestService;
  const clog = captureLog();
  beforeAll(async () => {
    c = await startTestService('damaged-common', {}, { log: clog.stream });
    await c.service.ctx.devices.create({
      id: 'own',
      password: 'own-password',
      acl: [{ pattern: 'own/%u/#', access: 'readwrite' }],
    });
  });
  afterAll(() => c.stop());

  it.each([
    ['not JSON', '[{'],
    ['a rule with an unknown access word', '[{"pattern":"devices/%u/#","access":"all"}]'],
    ['a string of rules', '"devices/%u/#"'],
  ])('%s: grant nothing, own rules still apply, one error line', async (_name, stored) => {
    const { redis, keys } = c.raw();
    await redis.set(keys.commonAcl, stored);
    c.service.ctx.cache.clear();
    const before = clog.lines.length;
    const acl = (topic: string) => check('acl', { username: 'own', topic, acc: 2 }, c);
    expect((await acl('devices/own/x')).status).toBe(403); // what the default common rule grants
    expect((await acl('own/own/x')).status).toBe(200);
    const errors = clog.lines
      .slice(before)
      .filter((l) => l.level === 50 && l.username === 'common rules');
    expect(errors).toHaveLength(1);
  });

  it('a common-rules key of another type denies the same way, and PUT repairs it', async () => {
    const { redis, keys } = c.raw();
    await redis.del(keys.commonAcl);
    await redis.rpush(keys.commonAcl, 'x');
    c.service.ctx.cache.clear();
    const acl = (topic: string) => check('acl', { username: 'own', topic, acc: 2 }, c);
    expect((await acl('devices/own/x')).status).toBe(403);
    expect((await acl('own/own/x')).status).toBe(200);
    const api = request(c.service.server);
    expect((await api.get('/api/v1/acl/common').set(ADMIN_AUTH).expect(200)).body.acl).toEqual([]);
    await api
      .put('/api/v1/acl/common')
      .set(ADMIN_AUTH)
      .send({ acl: [{ pattern: 'devices/%u/#', access: 'readwrite' }] })
      .expect(200);
    await eventually(async () => expect((await acl('devices/own/x')).status).toBe(200));
  });
});
