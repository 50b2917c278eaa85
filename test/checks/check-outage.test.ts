// Redis stopped or hung under the service: checks answer 5xx within the bound and never
// allow; when Redis is back the service recovers by itself.
import { storeAck } from '../../src/cli/commands';
import { startRedis, type RedisProcess } from '../support/processes';
import { startTestService, type TestService } from '../support/service';
import { eventually, JSON_HEADERS, rawRequest } from '../support/http';

let redis: RedisProcess;
let t: TestService;
const BODY = '{"clientid":"c","password":"pw","username":"dev"}';
const ACL = '{"acc":2,"clientid":"c","topic":"devices/dev/x","username":"dev"}';

beforeAll(async () => {
  redis = await startRedis();
  t = await startTestService('outage', { REDIS_URL: redis.url, CHECK_TIMEOUT_MS: '250' });
  await t.service.ctx.devices.create({ id: 'dev', password: 'pw' });
  expect((await rawRequest(t.port, 'POST', '/mqtt/user', BODY, JSON_HEADERS)).status).toBe(200);
});
afterAll(async () => {
  await t.stop();
  await redis.stop();
});

async function timed(path: string, body: string) {
  const started = Date.now();
  const res = await rawRequest(t.port, 'POST', path, body, JSON_HEADERS);
  return { ...res, ms: Date.now() - started };
}

it('answers 503 fast while Redis is stopped, and recovers when it is back', async () => {
  await redis.stop();
  // The cache must not keep allowing: it cannot hear invalidations while Redis is gone.
  await eventually(async () => expect((await timed('/mqtt/user', BODY)).status).toBe(503));
  for (const [path, body] of [
    ['/mqtt/user', BODY],
    ['/mqtt/acl', ACL],
    ['/mqtt/superuser', '{"username":"dev"}'],
  ]) {
    const res = await timed(path as string, body as string);
    expect(res.status).toBe(503);
    expect(res.ms).toBeLessThan(2000); // far below go-auth's 5 s http_timeout
  }
  expect((await rawRequest(t.port, 'GET', '/readyz')).status).toBe(503);
  await redis.restart();
  // The restarted Redis kept nothing: register again once the service has reconnected.
  await eventually(async () => {
    await t.service.ctx.devices.create({ id: 'dev', password: 'pw' }).catch((err: Error) => {
      if (!/already exists/.test(err.message)) throw err;
    });
  }, 10000);
  await eventually(async () => expect((await timed('/mqtt/user', BODY)).status).toBe(200), 10000);
  expect((await timed('/mqtt/acl', ACL)).status).toBe(200);
  // Back, but empty: not ready until an operator acknowledges the loss (store-marker.ts).
  await eventually(async () => {
    const r = await rawRequest(t.port, 'GET', '/readyz');
    expect(r.status).toBe(503);
    expect(r.body).toMatch(/lost its data/);
  }, 5000);
  await storeAck(t.service.ctx);
  await eventually(
    async () => expect((await rawRequest(t.port, 'GET', '/readyz')).status).toBe(200),
    5000,
  );
});

it('stops answering from its cache within 2 s of a hung Redis (the subscriber PING)', async () => {
  await eventually(async () => expect((await timed('/mqtt/user', BODY)).status).toBe(200), 5000);
  expect((await timed('/mqtt/acl', ACL)).status).toBe(200); // both warm: answered from memory
  redis.pause();
  try {
    // REDIS_FEED_PING_MS 500: silent for 1.5 s → the feed is down and the cache stops. Without
    // the probe a warm device kept 200 until CACHE_TTL_MS (60 s) ran out. 4 s: room for CI load.
    await new Promise((r) => setTimeout(r, 4000));
    expect((await timed('/mqtt/user', BODY)).status).toBe(503);
    expect((await timed('/mqtt/acl', ACL)).status).toBe(503);
    expect((await rawRequest(t.port, 'GET', '/readyz')).status).toBe(503);
  } finally {
    redis.resume();
  }
  await eventually(async () => expect((await timed('/mqtt/user', BODY)).status).toBe(200), 10000);
});

it('answers 503 within the bound while Redis hangs (SIGSTOP), and recovers on SIGCONT', async () => {
  await eventually(async () => expect((await timed('/mqtt/acl', ACL)).status).toBe(200), 5000);
  redis.pause();
  try {
    // First request after the hang may still be answered from the cache; then it must fail.
    await eventually(async () => {
      const res = await timed(
        '/mqtt/user',
        '{"clientid":"c","password":"pw","username":"unknown-x"}',
      );
      expect(res.status).toBe(503);
      expect(res.ms).toBeLessThan(2000);
    }, 5000);
  } finally {
    redis.resume();
  }
  await eventually(async () => expect((await timed('/mqtt/user', BODY)).status).toBe(200), 10000);
});
