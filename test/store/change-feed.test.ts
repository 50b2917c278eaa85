// The change feed against a Redis of its own: which messages mean which user, and that a
// lost subscription is reported (the cache must stop answering from memory) and recovered.
import Redis from 'ioredis';
import { createLogger } from '../../src/logger';
import { ChangeFeed, parseChange, type ChangeInfo } from '../../src/store/change-feed';
import { eventually } from '../support/http';
import { startRedis, type RedisProcess } from '../support/processes';

let redis: RedisProcess;
let sub: Redis;
let pub: Redis;
let feed: ChangeFeed;
const changes: (string | null)[] = [];
const infos: ChangeInfo[] = [];
const states: string[] = [];

beforeAll(async () => {
  redis = await startRedis();
  sub = new Redis(redis.url, { retryStrategy: () => 50 });
  sub.on('error', () => undefined);
  pub = new Redis(redis.url, { retryStrategy: () => 50, maxRetriesPerRequest: 1 });
  pub.on('error', () => undefined);
  feed = new ChangeFeed(sub, 'p:events', createLogger('silent'));
  feed.on('change', (u, info) => {
    changes.push(u);
    infos.push(info);
  });
  feed.on('up', () => states.push('up'));
  feed.on('down', () => states.push('down'));
  await eventually(async () => expect(feed.isUp).toBe(true), 5000);
});
afterAll(async () => {
  sub.disconnect();
  pub.disconnect();
  await redis.stop();
});

test('coming up resyncs everything once (a change of null)', () => {
  expect(states).toEqual(['up']);
  expect(changes).toEqual([null]);
});

test('u:<name> names one user; any other message means everything may have changed', async () => {
  changes.length = 0;
  await pub.publish('p:events', 'u:dev-1');
  await pub.publish('p:events', 'u:a:b'); // names may hold a colon
  await pub.publish('p:events', 'common');
  await pub.publish('other:events', 'u:not-ours');
  await eventually(async () => expect(changes).toEqual(['dev-1', 'a:b', null]));
});

test.each([
  ['u:dev-1', 'dev-1', { kind: 'user', revoke: false }],
  ['x:dev-1', 'dev-1', { kind: 'user', revoke: true }],
  ['x:', '', { kind: 'user', revoke: true }],
  ['x:a:b', 'a:b', { kind: 'user', revoke: true }],
  ['common', null, { kind: 'common', revoke: false }],
  ['y:dev-1', null, { kind: 'reset', revoke: false }], // a newer replica's: resync
  ['', null, { kind: 'reset', revoke: false }],
])('%j is a change of %j, %j', (msg, username, info) => {
  expect(parseChange(msg)).toEqual({ username, info });
});

test('x:<name> names one user and says its sessions end', async () => {
  changes.length = 0;
  infos.length = 0;
  await pub.publish('p:events', 'x:dev-2');
  await pub.publish('p:events', 'u:dev-2');
  await eventually(async () => expect(changes).toEqual(['dev-2', 'dev-2']));
  expect(infos.map((i) => i.revoke)).toEqual([true, false]);
});

test('a lost connection is reported down, and up (with a resync) once Redis is back', async () => {
  changes.length = 0;
  await redis.kill();
  await eventually(async () => expect(feed.isUp).toBe(false), 5000);
  expect(states.at(-1)).toBe('down');
  await redis.restart();
  await eventually(async () => expect(feed.isUp).toBe(true), 10_000);
  expect(states.slice(-2)).toEqual(['down', 'up']);
  expect(changes).toContain(null);
  // and it listens again
  await pub.publish('p:events', 'u:after');
  await eventually(async () => expect(changes).toContain('after'), 5000);
});
