// The service's own cache across a silent partition from Redis (a TCP proxy that stops moving
// bytes without closing anything): the subscriber PING finds it (REDIS_FEED_PING_MS), the
// cache stops answering, and when the link is back the feed catches up from the change log —
// the device deleted meanwhile (through another process) is invalidated, the others stay
// cached — instead of clearing everything (issue 26 item 1's service side).
import { checkUser, eventually } from '../support/http';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';
import { startTestService, TEST_REDIS_URL, type TestService } from '../support/service';
import { cleanTestPrefix } from '../support/topology';

jest.setTimeout(60_000);

let proxy: TcpProxy;
let a: TestService; // through the proxy
let b: TestService; // straight to Redis, same store
const metric = (t: TestService, name: string, labels = '') =>
  t.service.ctx.metrics.registry
    .getSingleMetricAsString(name)
    .then((text) => Number(new RegExp(`^${name}${labels} (\\S+)$`, 'm').exec(text)?.[1] ?? 0));

beforeAll(async () => {
  const target = new URL(TEST_REDIS_URL);
  proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
  b = await startTestService('feed-partition');
  a = await startTestService('feed-partition-a', {
    REDIS_URL: `redis://127.0.0.1:${proxy.port}`,
    REDIS_KEY_PREFIX: b.config.REDIS_KEY_PREFIX,
    REDIS_FEED_PING_MS: '200',
  });
});
afterAll(async () => {
  proxy?.release();
  await a?.stop();
  await b?.stop();
  await proxy?.close();
  if (b) await cleanTestPrefix(b.config.REDIS_KEY_PREFIX);
});

test('a silent partition is found by the PING; back, the feed replays what it missed', async () => {
  // Warmed only once `a` has heard both creates: a create heard after the warm-up would drop
  // its entry (as any change does), and the test could not tell that from a blind clear.
  const heard = new Set<string>();
  a.service.ctx.feed.on('change', (name) => void (name && heard.add(name)));
  for (const id of ['keep', 'gone'])
    await b.service.ctx.devices.create({ id, password: `pw-${id}-123456` });
  await eventually(async () => expect([...heard].sort()).toEqual(['gone', 'keep']), 5000);
  for (const id of ['keep', 'gone']) {
    expect((await checkUser(a.port, id, `pw-${id}-123456`)).status).toBe(200);
    expect(a.service.ctx.cache.peek(id)).toBeDefined(); // warm
  }
  proxy.hold();
  // No FIN, no error: only the unanswered PING says the subscription is gone.
  await eventually(async () => expect(a.service.ctx.feed.isUp).toBe(false), 5000);
  expect((await checkUser(a.port, 'keep', 'pw-keep-123456')).status).toBe(503);
  await b.service.ctx.devices.remove('gone'); // unannounced to `a`
  proxy.release();
  await eventually(async () => expect(a.service.ctx.feed.isUp).toBe(true), 15_000);
  expect(a.service.ctx.cache.peek('gone')).toBeUndefined();
  expect(a.service.ctx.cache.peek('keep')).toBeDefined(); // kept: not a blind clear
  expect((await checkUser(a.port, 'gone', 'pw-gone-123456')).status).toBe(403);
  expect((await checkUser(a.port, 'keep', 'pw-keep-123456')).status).toBe(200);
  expect(await metric(a, 'mqtt_authd_change_feed_resyncs_total', '{outcome="resumed"}')).toBe(1);
  expect(await metric(a, 'mqtt_authd_change_feed_replayed_total')).toBeGreaterThanOrEqual(1);
});
