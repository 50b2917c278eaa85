// GET /mqtt/events?v=2 against real Redis, two service processes on one store: every event
// has an id, a reader that comes back with Last-Event-ID gets what it missed from either
// process (the change log), and anything it cannot be given is a `resumed:false` hello.
import { bucketOf } from '../../src/store/keys';
import { openEvents, type EventStreamClient } from '../support/event-stream';
import { eventually } from '../support/http';
import { startTestService, type TestService } from '../support/service';

jest.setTimeout(60_000);

const LOG_CAP = 10;
let a: TestService;
let b: TestService;
const open: EventStreamClient[] = [];

beforeAll(async () => {
  a = await startTestService('events-v2', { CHANGE_LOG_MAX_ENTRIES: String(LOG_CAP) });
  // Same store, same prefix: another process of the same deployment.
  b = await startTestService('events-v2-b', {
    REDIS_KEY_PREFIX: a.config.REDIS_KEY_PREFIX,
    CHANGE_LOG_MAX_ENTRIES: String(LOG_CAP),
  });
});
afterAll(async () => {
  for (const c of open) c.close();
  await b?.stop();
  await a?.stop();
});

async function stream(t: TestService, lastId?: string, path = '/mqtt/events?v=2') {
  const c = await openEvents(t.port, {
    path,
    headers: lastId === undefined ? {} : { 'Last-Event-ID': lastId },
  });
  open.push(c);
  expect(c.status).toBe(200);
  await c.next((e) => e.event === 'hello');
  return c;
}

const devices = (t: TestService) => t.service.ctx.devices;
const lastId = (c: EventStreamClient) => c.events.at(-1)?.id as string;

/** Names that all fall in one bucket (one change log). */
function sameBucket(n: number, tag: string): string[] {
  const out: string[] = [];
  const want = bucketOf(`${tag}-0`);
  for (let i = 0; out.length < n; i++)
    if (bucketOf(`${tag}-${i}`) === want) out.push(`${tag}-${i}`);
  return out;
}

test('hello and every change carry an id; without Last-Event-ID the start is a reset', async () => {
  const c = await stream(a);
  const hello = c.events[0];
  expect(hello).toMatchObject({ event: 'hello', data: { v: 2, resumed: false } });
  expect(hello?.id).toMatch(/^1\.[0-9a-f]{12}(\.[0-9a-z]+){65}$/);
  await devices(a).create({ id: 'v2-one', password: 'pw-one-123456' });
  const e = await c.next((x) => x.event === 'user' && x.data.username === 'v2-one');
  expect(e.data).toEqual({ username: 'v2-one', revoke: false });
  expect(e.id).toBeDefined();
  expect(e.id).not.toBe(hello?.id);
  await devices(a).setCommonAcl([{ pattern: 'v2/#', access: 'read' }]);
  const common = await c.next((x) => x.event === 'common');
  expect(common.id).toBeDefined();
  expect(common.id).not.toBe(e.id);
});

test('v1 is unchanged without ?v=2: no ids', async () => {
  const c = await stream(a, undefined, '/mqtt/events');
  expect(c.events[0]).toMatchObject({ event: 'hello', data: { v: 1 } });
  expect(c.events[0]?.id).toBeUndefined();
  await devices(a).create({ id: 'v1-only', password: 'pw-v1-123456' });
  const e = await c.next((x) => x.data.username === 'v1-only');
  expect(e.id).toBeUndefined();
});

test('Last-Event-ID resumes on another process: hello resumed, then exactly what was missed', async () => {
  const first = await stream(a);
  await devices(a).create({ id: 'r-gone', password: 'pw-gone-123456' });
  await first.next((x) => x.data.username === 'r-gone');
  const id = lastId(first);
  first.close();
  // Missed: a create, a delete (revoke), the common rules.
  await devices(a).create({ id: 'r-new', password: 'pw-new-123456' });
  await devices(a).remove('r-gone');
  await devices(a).setCommonAcl([{ pattern: 'r/#', access: 'read' }]);
  const back = await stream(b, id);
  expect(back.events[0]).toMatchObject({ event: 'hello', data: { v: 2, resumed: true } });
  expect(back.events[0]?.id).toBe(id);
  await back.next((x) => x.event === 'common');
  const missed = back.events.slice(1).map((e) => [e.event, e.data]);
  expect(missed).toHaveLength(3);
  expect(missed).toEqual(
    expect.arrayContaining([
      ['user', { username: 'r-new', revoke: false }],
      ['user', { username: 'r-gone', revoke: true }],
      ['common', {}],
    ]),
  );
  // Then live ones, and the latest id resumes with nothing missed.
  await devices(b).create({ id: 'r-live', password: 'pw-live-123456' });
  await back.next((x) => x.data.username === 'r-live');
  const again = await stream(a, lastId(back));
  expect(again.events[0]?.data).toMatchObject({ resumed: true });
  await devices(a).create({ id: 'r-after', password: 'pw-after-123456' });
  await again.next((x) => x.data.username === 'r-after');
  expect(again.events.map((e) => e.data.username ?? e.event)).toEqual(['hello', 'r-after']);
});

test.each([
  ['garbage', 'not-a-cursor'],
  ['another store (prefix)', `1.000000000000${'.0'.repeat(65)}`],
  ['too short', '1.abc.1.2'],
])('a Last-Event-ID that is %s: resumed false', async (_what, id) => {
  const c = await stream(a, id);
  expect(c.events[0]?.data).toMatchObject({ v: 2, resumed: false });
});

test('an id older than the log holds (CHANGE_LOG_MAX_ENTRIES): resumed false', async () => {
  const names = sameBucket(LOG_CAP + 2, 'cap');
  const c = await stream(a);
  const id = lastId(c);
  c.close();
  for (const n of names) await devices(a).create({ id: n, password: 'pw-cap-123456' });
  const back = await stream(b, id);
  expect(back.events[0]?.data).toMatchObject({ resumed: false });
  // The cap is exact.
  const { redis, keys } = a.raw();
  expect(await redis.xlen(keys.log(bucketOf(names[0] as string)))).toBe(LOG_CAP);
});

test('the log lost (deleted): resumed false, and the next id works again', async () => {
  const [n1, n2] = sameBucket(2, 'lost');
  const c = await stream(a);
  const id = lastId(c);
  c.close();
  await devices(a).create({ id: n1 as string, password: 'pw-lost-123456' });
  const { redis, keys } = a.raw();
  await redis.del(keys.log(bucketOf(n1 as string)));
  await devices(a).create({ id: n2 as string, password: 'pw-lost-123456' });
  const back = await stream(a, id);
  expect(back.events[0]?.data).toMatchObject({ resumed: false });
  await devices(a).remove(n2 as string);
  await back.next((x) => x.data.username === n2 && x.data.revoke === true);
  const again = await stream(b, lastId(back));
  expect(again.events[0]?.data).toMatchObject({ resumed: true });
});

test('the revision counter lost but not the log: the log starts again, a reader resets', async () => {
  const [n1] = sameBucket(1, 'ctr');
  await devices(a).create({ id: n1 as string, password: 'pw-ctr-123456' });
  await devices(a).patch(n1 as string, { metadata: { n: 2 } });
  const c = await stream(a);
  const id = lastId(c);
  c.close();
  const { redis, keys } = a.raw();
  await redis.del(keys.revision(bucketOf(n1 as string)));
  // The write goes through (the script restarts the log), and the reader, ahead of the
  // counter now, is told to reset. (A counter that grew back to the reader's own revision is
  // not told apart: revisions alone cannot; the store's marker finds a store that lost all.)
  await devices(a).remove(n1 as string);
  const back = await stream(b, id);
  expect(back.events[0]?.data).toMatchObject({ resumed: false });
  await eventually(async () => expect(await redis.xlen(keys.log(bucketOf(n1 as string)))).toBe(1));
});
