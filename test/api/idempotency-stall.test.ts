// A 503 store_unavailable means "retry now works": with a hung Redis (SIGSTOP, connections
// open), the Idempotency-Key claim is sent but not answered; the request gets 503 and the
// claim runs when Redis resumes. Without an abandon the retry then got 409 idempotency_in_flight
// for a minute (the hostile run: every retry for ~65 s after a 5 s stall).
import request from 'supertest';
import { startRedis, type RedisProcess } from '../support/processes';
import { ADMIN_AUTH, startTestService, type TestService } from '../support/service';
import { sleep } from '../support/http';

let redis: RedisProcess;
let t: TestService;
beforeAll(async () => {
  redis = await startRedis();
  t = await startTestService('idem-stall', { REDIS_URL: redis.url });
});
afterAll(async () => {
  await t?.stop();
  await redis?.stop();
});

const create = (key: string, id: string) =>
  request(t.service.server)
    .post('/api/v1/devices')
    .set(ADMIN_AUTH)
    .set('Idempotency-Key', key)
    .send({ id });

it('after a 503 from a hung Redis, the retry with the same key runs (no 409)', async () => {
  const key = `idem-stall-${process.pid}-${Date.now()}-abcdef`;
  redis.pause();
  try {
    const during = await Promise.all([create(key, 'stall-a'), create(key, 'stall-a')]);
    for (const res of during) {
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('store_unavailable');
    }
  } finally {
    redis.resume();
  }
  // What was queued runs now (the claims and what follows them); then the client retries.
  let res = await create(key, 'stall-a');
  for (let i = 0; i < 50 && res.status === 503; i++) {
    await sleep(100);
    res = await create(key, 'stall-a');
  }
  expect(res.body.error?.code).toBeUndefined();
  expect(res.status).toBe(201);
  expect(res.headers['idempotent-replayed']).toBeUndefined();
  const again = await create(key, 'stall-a').expect(201);
  expect(again.headers['idempotent-replayed']).toBe('true');
  expect(again.body.password).toBe(res.body.password);
});

it("an abandon frees only its own claim: another attempt's pending claim stays", async () => {
  const records = t.service.ctx.idempotency;
  expect(await records.claim('stall-own', 'fp', 'first', 60_000)).toBeNull();
  await records.abandon('stall-own', 'fp', 'other');
  expect(await records.claim('stall-own', 'fp', 'second', 60_000)).toMatchObject({
    state: 'pending',
    owner: 'first',
  });
  await records.abandon('stall-own', 'fp', 'first');
  expect(await records.claim('stall-own', 'fp', 'second', 60_000)).toBeNull();
});
