// CHECK_TIMEOUT_MS bounds all the Redis waiting of a check (record, lockout state, failure
// counters) and MANAGEMENT_TIMEOUT_MS bounds a management call, with Redis SIGSTOPped (it
// keeps the connections open and answers nothing, as a hung server does).
import request from 'supertest';
import { startRedis, type RedisProcess } from '../support/processes';
import { ADMIN_AUTH, startTestService, type TestService } from '../support/service';
import { eventually, JSON_HEADERS, rawRequest } from '../support/http';

jest.setTimeout(30_000);
const CHECK_TIMEOUT_MS = 300;
const MANAGEMENT_TIMEOUT_MS = 400;
// Generous: the promise is "well before go-auth's 5 s and before the 1 s Redis command
// timeout"; the margin absorbs a loaded CI machine.
const SLACK_MS = 450;
let redis: RedisProcess;
let t: TestService;

beforeAll(async () => {
  redis = await startRedis();
  t = await startTestService('check-timeout', {
    REDIS_URL: redis.url,
    CHECK_TIMEOUT_MS: String(CHECK_TIMEOUT_MS),
    MANAGEMENT_TIMEOUT_MS: String(MANAGEMENT_TIMEOUT_MS),
    AUTH_FAIL_LIMIT: '5',
  });
  await t.service.ctx.devices.create({ id: 'dev', password: 'dev-password' });
});
afterAll(async () => {
  redis.resume();
  await t.stop();
  await redis.stop();
});

const login = async (username: string, password: string) => {
  const started = Date.now();
  const res = await rawRequest(
    t.port,
    'POST',
    '/mqtt/user?response=json',
    JSON.stringify({ username, password, clientid: `c-${username}` }),
    JSON_HEADERS,
  );
  return { status: res.status, ms: Date.now() - started };
};

it('a stalled Redis answers every check 503 within CHECK_TIMEOUT_MS, the throttle path too', async () => {
  expect((await login('dev', 'dev-password')).status).toBe(200); // cached and verified
  redis.pause();
  try {
    // The record is cached, the password is not the verified one: the lockout state is read.
    const throttled = await login('dev', 'wrong-password');
    expect(throttled.status).toBe(503);
    expect(throttled.ms).toBeLessThan(CHECK_TIMEOUT_MS + SLACK_MS);
    // A cache miss: the record itself is read.
    const miss = await login('nobody', 'whatever-password');
    expect(miss.status).toBe(503);
    expect(miss.ms).toBeLessThan(CHECK_TIMEOUT_MS + SLACK_MS);
    // The password that verified last needs no Redis at all.
    expect((await login('dev', 'dev-password')).status).toBe(200);

    const started = Date.now();
    const res = await request(t.service.server).get('/api/v1/devices/dev').set(ADMIN_AUTH);
    expect(res.status).toBe(503);
    expect(res.body.error.message).toMatch(/MANAGEMENT_TIMEOUT_MS/);
    expect(Date.now() - started).toBeLessThan(MANAGEMENT_TIMEOUT_MS + SLACK_MS);
  } finally {
    redis.resume();
  }
  // Back without a restart.
  await eventually(
    async () => expect((await login('dev', 'wrong-password')).status).toBe(403),
    5000,
  );
});

it('AUTH_FAIL_LIMIT=N: the Nth failure locks, not the N+1th', async () => {
  await t.service.ctx.devices.create({ id: 'exact', password: 'exact-password' });
  await t.service.ctx.devices.create({ id: 'below', password: 'below-password' });
  for (let i = 0; i < 4; i++) expect((await login('below', `guess-${i}`)).status).toBe(403);
  expect((await login('below', 'below-password')).status).toBe(200); // 4 of 5: not locked
  for (let i = 0; i < 5; i++) expect((await login('exact', `guess-${i}`)).status).toBe(403);
  expect((await login('exact', 'exact-password')).status).toBe(403); // the 5th locked it
  const state = await request(t.service.server)
    .get('/api/v1/lockouts/username/exact')
    .set(ADMIN_AUTH)
    .expect(200);
  expect(state.body).toMatchObject({ locked: true, failures: 5 });
});
