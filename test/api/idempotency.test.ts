// Idempotency-Key on the management API's writes, on the real service and Redis: a retry gets
// the first answer (a generated password included), another request with the key is a 422, a
// retry while the first runs is a 409, and no answer is readable in Redis.
import request from 'supertest';
import { ADMIN_AUTH, startTestService, type TestService } from '../support/service';
import { testRedisClient } from '../support/topology';

let t: TestService;
beforeAll(async () => {
  t = await startTestService('idempotency');
});
afterAll(() => t?.stop());

const api = () => request(t.service.server);
let n = 0;
const freshKey = () => `test-key-${process.pid}-${Date.now()}-${n++}-abcdef`;

it('a create retried with the same key returns the same device and password, replayed', async () => {
  const key = freshKey();
  const first = await api()
    .post('/api/v1/devices')
    .set(ADMIN_AUTH)
    .set('Idempotency-Key', key)
    .send({ id: 'idem-a' })
    .expect(201);
  expect(first.body.password).toEqual(expect.any(String));
  const again = await api()
    .post('/api/v1/devices')
    .set(ADMIN_AUTH)
    .set('Idempotency-Key', key)
    .send({ id: 'idem-a' })
    .expect(201);
  expect(again.body).toEqual(first.body);
  expect(again.headers['idempotent-replayed']).toBe('true');
  // Without the key, the same create is a conflict: the key is what makes the retry safe.
  await api().post('/api/v1/devices').set(ADMIN_AUTH).send({ id: 'idem-a' }).expect(409);
});

it('the same key with another request is a 422; a bad key is a 400 naming the header', async () => {
  const key = freshKey();
  await api()
    .post('/api/v1/devices')
    .set(ADMIN_AUTH)
    .set('Idempotency-Key', key)
    .send({ id: 'idem-b' })
    .expect(201);
  const other = await api()
    .post('/api/v1/devices')
    .set(ADMIN_AUTH)
    .set('Idempotency-Key', key)
    .send({ id: 'idem-c' })
    .expect(422);
  expect(other.body.error.code).toBe('idempotency_key_reused');
  await api()
    .delete('/api/v1/devices/idem-b')
    .set(ADMIN_AUTH)
    .set('Idempotency-Key', key)
    .expect(422);
  const bad = await api()
    .post('/api/v1/devices')
    .set(ADMIN_AUTH)
    .set('Idempotency-Key', 'short')
    .send({ id: 'idem-d' })
    .expect(400);
  expect(bad.body.error.message).toMatch(/^Idempotency-Key: /);
  expect(await t.service.ctx.store.getUser('idem-d')).toBeNull();
});

it('rotation and delete replay their first answer; a 4xx is an answer too', async () => {
  await t.service.ctx.devices.create({ id: 'idem-r', password: 'idem-r-password' });
  const key = freshKey();
  const rotate = () =>
    api()
      .post('/api/v1/devices/idem-r/password')
      .set(ADMIN_AUTH)
      .set('Idempotency-Key', key)
      .send({});
  const a = await rotate().expect(200);
  const b = await rotate().expect(200);
  expect(b.body.password).toBe(a.body.password);
  const audit = await t.service.audit.read(50);
  expect(audit.filter((e) => e.action === 'rotate' && e.target === 'idem-r')).toHaveLength(1);
  const del = freshKey();
  for (let i = 0; i < 2; i++)
    await api()
      .delete('/api/v1/devices/idem-r')
      .set(ADMIN_AUTH)
      .set('Idempotency-Key', del)
      .expect(204);
  const missing = freshKey();
  for (let i = 0; i < 2; i++)
    await api()
      .delete('/api/v1/devices/nobody')
      .set(ADMIN_AUTH)
      .set('Idempotency-Key', missing)
      .expect(404);
});

it('a retry while the first attempt runs is a 409 with Retry-After', async () => {
  const key = freshKey();
  const send = () =>
    api()
      .post('/api/v1/devices')
      .set(ADMIN_AUTH)
      .set('Idempotency-Key', key)
      .send({ id: 'idem-c2', password: 'idem-c2-password' });
  const answers = await Promise.all([send(), send(), send()]);
  const statuses = answers.map((r) => r.status).sort();
  expect(statuses[0]).toBe(201);
  for (const r of answers.filter((x) => x.status !== 201)) {
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe('idempotency_in_flight');
    expect(r.headers['retry-after']).toBe('1');
  }
  expect((await send()).status).toBe(201);
});

it('no generated password is in Redis in plaintext; only hashes of the keys name the records', async () => {
  const key = freshKey();
  const res = await api()
    .post('/api/v1/devices')
    .set(ADMIN_AUTH)
    .set('Idempotency-Key', key)
    .send({ id: 'idem-p' })
    .expect(201);
  const redis = testRedisClient();
  try {
    const prefix = t.config.REDIS_KEY_PREFIX;
    const keys = await redis.keys(`${prefix}*`);
    expect(keys.some((k) => k.startsWith(`${prefix}idem:`))).toBe(true);
    expect(keys.join('\n')).not.toContain(key);
    for (const k of keys) {
      const dump = await redis.dumpBuffer(k);
      expect(dump?.toString('latin1') ?? '').not.toContain(res.body.password);
    }
  } finally {
    redis.disconnect();
  }
});

it('the query string is part of the request: the same key on another ?username= is a 422', async () => {
  const { throttle } = t.service.ctx;
  await throttle.failed('idem-lk1', 'idem-lk-c1');
  await throttle.failed('idem-lk2', 'idem-lk-c2');
  const key = freshKey();
  const clear = (name: string) =>
    api().delete(`/api/v1/lockouts?username=${name}`).set(ADMIN_AUTH).set('Idempotency-Key', key);
  await clear('idem-lk1').expect(204);
  expect((await throttle.state('username', 'idem-lk1')).failures).toBe(0);
  const other = await clear('idem-lk2').expect(422);
  expect(other.body.error.code).toBe('idempotency_key_reused');
  expect((await throttle.state('username', 'idem-lk2')).failures).toBe(1);
  // the same query again is the retry
  const again = await clear('idem-lk1').expect(204);
  expect(again.headers['idempotent-replayed']).toBe('true');
});

it('a key sent to a route that does not exist is free again at once, not held for 60 s', async () => {
  const key = freshKey();
  const miss = () =>
    api()
      .post('/api/v1/no-such-route')
      .set(ADMIN_AUTH)
      .set('Idempotency-Key', key)
      .send({ id: 'idem-nr' });
  expect((await miss()).status).toBe(404);
  const again = await miss();
  expect(again.status).toBe(404);
  expect(again.body.error.code).toBe('not_found');
  // the same key then serves the request that was meant
  await api()
    .post('/api/v1/devices')
    .set(ADMIN_AUTH)
    .set('Idempotency-Key', key)
    .send({ id: 'idem-nr' })
    .expect(201);
});
