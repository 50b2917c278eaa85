// Issue 29 item 17 under Sentinel: the primary hangs (SIGSTOP: connections stay open, nothing
// answers), the sentinels fail over, and a device is revoked through the new primary. The
// service's cache must stop answering from memory once the store has not answered for
// 3 × REDIS_FEED_PING_MS (1.5 s by default) — it used to keep a warm device's 200 for
// CACHE_TTL_MS (60 s), its subscription hung on the old primary, deaf to the new one — and the
// revoked device is never allowed again.
import { startSentinelSet, type SentinelSet } from '../support/processes';
import { checkUser, eventually, sleep } from '../support/http';
import { startTestService, type TestService } from '../support/service';

jest.setTimeout(90_000);

let set: SentinelSet;
let t: TestService;
let w: TestService | undefined; // writes through the new primary once it is one
let stopped = false;

beforeAll(async () => {
  set = await startSentinelSet('hung');
  t = await startTestService('sentinel-hung', {
    REDIS_SENTINELS: set.sentinelList,
    REDIS_SENTINEL_NAME: set.name,
    CHECK_TIMEOUT_MS: '250',
  });
  await t.service.ctx.devices.create({ id: 'dev', password: 'pw-dev-123456' });
  await t.service.ctx.devices.create({ id: 'other', password: 'pw-other-123456' });
});
afterAll(async () => {
  if (stopped) set.primary.resume();
  await w?.stop();
  await t?.stop();
  await set?.stop();
});

test('SIGSTOP of the primary, failover, revoke on the new primary: the cached allow is gone', async () => {
  expect((await checkUser(t.port, 'dev', 'pw-dev-123456')).status).toBe(200);
  expect((await checkUser(t.port, 'dev', 'pw-dev-123456')).status).toBe(200);
  expect(t.service.ctx.cache.peek('dev')).toBeDefined(); // warm: answered from memory
  set.primary.pause();
  stopped = true;
  const hungAt = Date.now();
  // The cache stops answering: the store has not answered the subscriber's PING.
  await eventually(async () => {
    expect((await checkUser(t.port, 'dev', 'pw-dev-123456')).status).toBe(503);
  }, 10_000);
  const stoppedAnsweringMs = Date.now() - hungAt;
  await eventually(
    async () => expect(await set.agreedPrimaryPort()).toBe(set.replica.port),
    30_000,
  );
  // Another process of the same deployment revokes on the new primary (no replica left to
  // confirm: REDIS_MIN_REPLICAS_ACK 0 for this writer).
  w = await startTestService('sentinel-hung-w', {
    REDIS_URL: set.replica.url,
    REDIS_KEY_PREFIX: t.config.REDIS_KEY_PREFIX,
    REDIS_MIN_REPLICAS_ACK: '0',
  });
  await w.service.ctx.devices.remove('dev');
  // From the failover on, `dev` is never allowed again; the service comes back by itself.
  const seen: number[] = [];
  await eventually(async () => {
    const r = await checkUser(t.port, 'dev', 'pw-dev-123456');
    seen.push(r.status);
    expect(r.status).toBe(403);
  }, 20_000);
  for (let i = 0; i < 20; i++) {
    seen.push((await checkUser(t.port, 'dev', 'pw-dev-123456')).status);
    await sleep(50);
  }
  expect(seen).not.toContain(200);
  expect(seen.at(-1)).toBe(403);
  expect((await checkUser(t.port, 'other', 'pw-other-123456')).status).toBe(200);
  // For the report (not asserted: speed belongs to bench/).
  process.stdout.write(
    `sentinel-hung: cache stopped answering ${stoppedAnsweringMs} ms after SIGSTOP\n`,
  );
});
