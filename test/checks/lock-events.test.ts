// Lockouts reach every service process (lock-feed.ts) as the v2 stream's `lock` events
// (lock-events.ts): failures counted by one process, the lock heard by another, its clearing
// too, and the current lockouts listed for after `hello`. Two real services, one real Redis.
import { createLockEvents, type LockData } from '../../src/checks/lock-events';
import { decodeLock, encodeLock } from '../../src/store/lock-feed';
import { openEvents } from '../support/event-stream';
import { JSON_HEADERS, rawRequest, send, waitFor } from '../support/http';
import { testPrefix } from '../support/processes';
import { ADMIN_AUTH, startTestService, type TestService } from '../support/service';

jest.setTimeout(60_000);

const prefix = testPrefix('lock-events');
let a: TestService;
let b: TestService;
beforeAll(async () => {
  const env = { REDIS_KEY_PREFIX: prefix, AUTH_FAIL_LIMIT: '2', AUTH_LOCK_S: '60' };
  a = await startTestService('lock-events-a', env);
  b = await startTestService('lock-events-b', env);
});
afterAll(async () => {
  await b?.stop();
  await a?.stop();
});

const login = (t: TestService, username: string, clientid: string) =>
  send(t.port, '/mqtt/user', {
    body: JSON.stringify({ username, password: 'wrong-password', clientid }),
    headers: JSON_HEADERS,
  });

it('encodes and decodes a lock message, names with ":" included; other formats are ignored', () => {
  for (const c of [
    { kind: 'username' as const, name: 'a:b:c', ms: 60000 },
    { kind: 'clientid' as const, name: '', ms: 0 },
  ])
    expect(decodeLock(encodeLock(c))).toEqual(c);
  expect(decodeLock('x:1:a')).toBeNull();
  expect(decodeLock('u:-1:a')).toBeNull();
});

it('a lockout counted by one process is heard by the other, and so is its clearing', async () => {
  const heard: LockData[] = [];
  const events = createLockEvents({
    feed: b.service.ctx.lockFeed,
    lockouts: b.service.ctx.lockouts,
  });
  events.onLock((d) => heard.push(d));
  expect(await waitFor(async () => b.service.ctx.lockFeed.isUp, 5000)).not.toBeNull();
  for (let i = 0; i < 2; i++) expect((await login(a, 'locked-dev', `cid-${i}`)).status).toBe(403);
  expect(
    await waitFor(
      async () => heard.some((d) => 'username' in d && d.username === 'locked-dev'),
      5000,
    ),
  ).not.toBeNull();
  const lock = heard.find((d) => 'username' in d && d.username === 'locked-dev');
  expect(lock?.ms).toBe(60_000);
  // Both client ids failed once: not locked (2 per name are needed).
  expect(heard.some((d) => 'clientid' in d)).toBe(false);

  const current = await events.current();
  expect(current).toContainEqual({ username: 'locked-dev', ms: expect.any(Number) });
  const ms = (current.find((d) => 'username' in d && d.username === 'locked-dev') as LockData).ms;
  expect(ms).toBeGreaterThan(0);
  expect(ms).toBeLessThanOrEqual(60_000);

  const cleared = await rawRequest(a.port, 'DELETE', '/api/v1/lockouts?username=locked-dev', '', {
    ...JSON_HEADERS,
    ...ADMIN_AUTH,
  });
  expect(cleared.status).toBeLessThan(300);
  expect(
    await waitFor(async () => heard.some((d) => 'username' in d && d.ms === 0), 5000),
  ).not.toBeNull();
  expect(
    heard.filter((d) => 'username' in d && d.username === 'locked-dev').map((d) => d.ms),
  ).toEqual([60_000, 0]);
  expect(await events.current()).not.toContainEqual(
    expect.objectContaining({ username: 'locked-dev' }),
  );
});

it('a client id locked out is a lock event with clientid', async () => {
  const heard: LockData[] = [];
  createLockEvents({ feed: b.service.ctx.lockFeed, lockouts: b.service.ctx.lockouts }).onLock((d) =>
    heard.push(d),
  );
  for (const u of ['u1', 'u2']) expect((await login(a, u, 'shared-cid')).status).toBe(403);
  expect(
    await waitFor(
      async () => heard.some((d) => 'clientid' in d && d.clientid === 'shared-cid'),
      5000,
    ),
  ).not.toBeNull();
});

it('GET /mqtt/events: a lockout counted by another process is a lock event; a new stream gets the current ones after hello', async () => {
  expect(await waitFor(async () => b.service.ctx.lockFeed.isUp, 5000)).not.toBeNull();
  const stream = await openEvents(b.port);
  try {
    expect(stream.status).toBe(200);
    await stream.next((e) => e.event === 'hello', 5000);
    for (let i = 0; i < 2; i++) expect((await login(a, 'stream-dev', `s${i}`)).status).toBe(403);
    const e = await stream.next(
      (x) => x.event === 'lock' && x.data.username === 'stream-dev',
      5000,
    );
    expect(e.data).toEqual({ username: 'stream-dev', ms: 60_000 });
  } finally {
    stream.close();
  }
  const later = await openEvents(b.port);
  try {
    const hello = await later.next((x) => x.event === 'hello', 5000);
    const from = later.events.indexOf(hello);
    const e = await later.next(
      (x) => x.event === 'lock' && x.data.username === 'stream-dev',
      5000,
      from,
    );
    expect(e.data.ms).toBeGreaterThan(0);
    expect(e.data.ms).toBeLessThanOrEqual(60_000);
  } finally {
    later.close();
  }
});
