// Redis error replies on the management API are a clean 503 with a clear message (or a 4xx
// when the request is at fault), never a 500; and other bad input of the management API.
import Redis from 'ioredis';
import request from 'supertest';
import { bucketOf } from '../../src/store/keys';
import { startRedis, type RedisProcess } from '../support/processes';
import { ADMIN_AUTH, startTestService, type TestService } from '../support/service';

jest.setTimeout(30_000);

describe('OOM under maxmemory', () => {
  let redis: RedisProcess;
  let t: TestService;
  beforeAll(async () => {
    // Room for the fill at first (the service's own clients and logs count too), then a limit below it.
    redis = await startRedis({ args: ['--maxmemory', '32mb', '--maxmemory-policy', 'noeviction'] });
    t = await startTestService('oom', { REDIS_URL: redis.url });
    await t.service.ctx.devices.create({ id: 'before-oom', password: 'before-oom-password' });
    const filler = new Redis(redis.url);
    // ~2 MB of data, then a limit below what is used: every write is refused with OOM from
    // now on (filling up to the limit exactly leaves Redis hovering around it).
    const chunk = 'x'.repeat(1024);
    for (let i = 0; i < 2000; i++) await filler.set(`filler:${i}`, chunk);
    await filler.config('SET', 'maxmemory', '1mb');
    filler.disconnect();
  });
  afterAll(async () => {
    await t.stop();
    await redis.stop();
  });

  it('writes answer 503 naming OOM; reads still answer', async () => {
    const api = request(t.service.server);
    const res = await api
      .post('/api/v1/devices')
      .set(ADMIN_AUTH)
      .send({ id: 'after-oom', password: 'after-oom-password' });
    expect(res.status).toBe(503);
    expect(res.body.error).toMatchObject({ code: 'store_unavailable' });
    expect(res.body.error.message).toMatch(/OOM/);
    expect(JSON.stringify(res.body)).not.toMatch(/\$7\$|at .*\.js/);
    const common = await api
      .put('/api/v1/acl/common')
      .set(ADMIN_AUTH)
      .send({ acl: [{ pattern: 'a/#', access: 'read' }] });
    expect([common.status, common.body.error?.code]).toEqual([503, 'store_unavailable']);
    await api.get('/api/v1/devices/before-oom').set(ADMIN_AUTH).expect(200);
  });

  it('/readyz is 503 while writes keep failing, naming the buckets, and 200 once they pass', async () => {
    const api = request(t.service.server);
    const bucket = String(bucketOf('after-oom'));
    const down = await api.get('/readyz').expect(503);
    expect(down.body.checks.writes).toMatch(
      new RegExp(`^failing for bucket .*\\b${bucket}\\b.*OOM`),
    );
    expect(down.body.checks.redis).toBe('ok'); // the primary answers: only writes fail
    const filler = new Redis(redis.url);
    await filler.config('SET', 'maxmemory', '0');
    filler.disconnect();
    const up = await api.get('/readyz').expect(200);
    expect(up.body.checks.writes).toBe('ok');
  });
});

describe('READONLY replica', () => {
  let redis: RedisProcess;
  let t: TestService;
  beforeAll(async () => {
    // A replica of a master that is not there: it serves reads, refuses writes.
    redis = await startRedis({ args: ['--replicaof', '127.0.0.1', '1'] });
    t = await startTestService('readonly', { REDIS_URL: redis.url });
  });
  afterAll(async () => {
    await t.stop();
    await redis.stop();
  });

  it('a write is 503 naming READONLY; a read answers', async () => {
    const api = request(t.service.server);
    const res = await api
      .post('/api/v1/devices')
      .set(ADMIN_AUTH)
      .send({ id: 'ro', password: 'ro-password-1' });
    expect([res.status, res.body.error?.code]).toEqual([503, 'store_unavailable']);
    expect(res.body.error.message).toMatch(/READONLY/);
    await api.get('/api/v1/devices').set(ADMIN_AUTH).expect(200);
  });
});

describe('on the shared Redis', () => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService('redis-errors');
    await t.service.ctx.devices.create({
      id: 'meta',
      password: 'meta-password',
      metadata: { site: 'north' },
    });
  });
  afterAll(() => t.stop());

  it('WRONGTYPE on a key every write touches (the revision counter) is a 503, not a 500', async () => {
    const { redis, keys } = t.raw();
    await redis.del(keys.revision(keys.bucketOf('typed-rev')));
    await redis.hset(keys.revision(keys.bucketOf('typed-rev')), 'x', '1');
    try {
      const res = await request(t.service.server)
        .post('/api/v1/devices')
        .set(ADMIN_AUTH)
        .send({ id: 'typed-rev', password: 'typed-rev-password' });
      expect([res.status, res.body.error?.code]).toEqual([503, 'store_unavailable']);
      expect(res.body.error.message).toMatch(/refused the command: WRONGTYPE/);
    } finally {
      await redis.del(keys.revision(keys.bucketOf('typed-rev')));
    }
  });

  it('creating over a user key of another type is a 409 naming the problem', async () => {
    const { redis, keys } = t.raw();
    await redis.set(keys.user('squatted'), 'x');
    const res = await request(t.service.server)
      .post('/api/v1/devices')
      .set(ADMIN_AUTH)
      .send({ id: 'squatted', password: 'squatted-password' });
    expect([res.status, res.body.error?.code]).toEqual([409, 'damaged_record']);
  });

  it.each(['0-0', '99999999999999999999-0', '1-99999999999999999999', 'abc', '1-', '-1'])(
    'GET /audit?before=%s is a 400',
    async (before) => {
      const res = await request(t.service.server)
        .get(`/api/v1/audit?before=${encodeURIComponent(before)}`)
        .set(ADMIN_AUTH);
      expect([res.status, res.body.error?.code]).toEqual([400, 'validation_failed']);
    },
  );

  it('GET /audit?before= at the largest id Redis accepts answers 200', async () => {
    await request(t.service.server)
      .get('/api/v1/audit?before=18446744073709551615-18446744073709551615')
      .set(ADMIN_AUTH)
      .expect(200);
  });

  it.each(['__proto__', 'constructor', 'prototype'])(
    'metadata key %s is a 400 on create and on PATCH, which leaves the metadata as it was',
    async (key) => {
      const api = request(t.service.server);
      const create = await api
        .post('/api/v1/devices')
        .set(ADMIN_AUTH)
        .set('Content-Type', 'application/json')
        .send(`{"id":"proto-${key}","metadata":{"${key}":{"polluted":true}}}`);
      expect(create.status).toBe(400);
      expect(create.body.error.message).toMatch(/metadata.*not allowed/);
      const patch = await api
        .patch('/api/v1/devices/meta')
        .set(ADMIN_AUTH)
        .set('Content-Type', 'application/json')
        .send(`{"metadata":{"${key}":"x","other":"y"}}`);
      expect(patch.status).toBe(400);
      const now = await api.get('/api/v1/devices/meta').set(ADMIN_AUTH).expect(200);
      expect(now.body.metadata).toEqual({ site: 'north' });
    },
  );
});
