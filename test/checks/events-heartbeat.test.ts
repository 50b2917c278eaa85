// `GET /mqtt/events?hb=<ms>` (src/checks/events-heartbeat.ts): a reader may ask for a faster
// heartbeat than EVENTS_HEARTBEAT_MS (the plugin asks 500 ms to distrust a quiet stream within
// 750 ms, issue 29 item 2), never a slower one; hello says the beat it gets.
import { openEvents, type EventStreamClient } from '../support/event-stream';
import { requestedHeartbeatMs } from '../../src/checks/events-heartbeat';
import { startService, testPrefix, type ServiceProcess } from '../support/processes';
import { cleanTestPrefix, testRedisEnv } from '../support/topology';

describe('requestedHeartbeatMs', () => {
  test.each([
    ['/mqtt/events', 2000],
    ['/mqtt/events?v=2', 2000],
    ['/mqtt/events?v=2&hb=500', 500],
    ['/mqtt/events?hb=100', 100],
    ['/mqtt/events?hb=5', 100], // the fastest is 100 ms
    ['/mqtt/events?hb=0', 100],
    ['/mqtt/events?hb=99999', 2000], // never slower than the setting
    ['/mqtt/events?hb=-1', 2000],
    ['/mqtt/events?hb=1e3', 2000],
    ['/mqtt/events?hb=', 2000],
    ['/mqtt/events?hb=1234567', 2000],
  ])('%s → %d ms', (url, ms) => expect(requestedHeartbeatMs(url, 2000)).toBe(ms));
});

describe('on the built service', () => {
  const prefix = testPrefix('events-hb');
  let s: ServiceProcess;
  const open: EventStreamClient[] = [];
  beforeAll(async () => {
    s = await startService({
      env: { ...testRedisEnv(), REDIS_KEY_PREFIX: prefix, EVENTS_HEARTBEAT_MS: '5000' },
      readyPath: '/readyz',
    });
  });
  afterAll(async () => {
    for (const c of open) c.close();
    await s?.stop();
    await cleanTestPrefix(prefix);
  });

  test('?hb=100: hello says 100 and the pings come that often; a plain stream keeps the setting', async () => {
    const plain = await openEvents(s.port);
    open.push(plain);
    const fast = await openEvents(s.port, { path: '/mqtt/events?v=2&hb=100' });
    open.push(fast);
    expect((await plain.next((e) => e.event === 'hello')).data.heartbeatMs).toBe(5000);
    expect((await fast.next((e) => e.event === 'hello')).data.heartbeatMs).toBe(100);
    // Five pings long before the 5 s setting would send its first.
    const until = Date.now() + 4000;
    while (fast.pings.length < 5 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(fast.pings.length).toBeGreaterThanOrEqual(5);
  });
});
