// Presence in Redis (issue 27): what a broker's batches leave behind, when the service asks
// for everything again, takeovers, expiry of a silent broker, and paging that stays complete
// while sessions come and go. Real Redis, a prefix of this file's own.
import { createKeys } from '../../src/store/keys';
import { RedisPresenceStore } from '../../src/store/presence-redis';
import type { SessionBatch, SessionRecord } from '../../src/store/presence-store';
import { eventually } from '../support/http';
import { testPrefix } from '../support/processes';
import { cleanTestPrefix, testRedisClient } from '../support/topology';

const prefix = testPrefix('presence-store');
const keys = createKeys(prefix);
const redis = testRedisClient();
const store = new RedisPresenceStore(redis, keys.presence, keys.events);
const NOW = Date.now();

afterAll(async () => {
  redis.disconnect();
  await cleanTestPrefix(prefix);
});

const S = (username: string, clientid: string, at = 1_700_000_000_000): SessionRecord => ({
  username,
  clientid,
  address: '127.0.0.1',
  protocol: 4,
  at,
});

function batch(broker: string, seq: number, part: Partial<SessionBatch> = {}): SessionBatch {
  return {
    broker,
    boot: 'boot-1',
    seq,
    full: false,
    heartbeatMs: 5000,
    connected: [],
    disconnected: [],
    ...part,
  };
}

async function all(q: { username?: string; broker?: string } = {}, limit = 1000) {
  const out: string[] = [];
  let cursor = null;
  for (;;) {
    const page = await store.page({ ...q, limit, cursor }, NOW);
    out.push(...page.sessions.map((s) => `${s.broker}/${s.username}/${s.clientid}`));
    if (!page.next) return out;
    cursor = page.next;
  }
}

it('a broker first heard of is asked for everything; a full batch then deltas apply in order', async () => {
  expect(await store.report(batch('b-seq', 1, { connected: [S('u1', 'c1')] }), NOW)).toBe(
    'needFull',
  );
  expect(await all({ broker: 'b-seq' })).toEqual([]);
  expect(
    await store.report(batch('b-seq', 1, { full: true, connected: [S('u1', 'c1')] }), NOW),
  ).toBe('applied');
  expect(await store.report(batch('b-seq', 2, { connected: [S('u2', 'c2')] }), NOW)).toBe(
    'applied',
  );
  // A retry of seq 2 changes nothing; a skipped seq or another boot is asked for everything.
  expect(await store.report(batch('b-seq', 2, { disconnected: [S('u1', 'c1')] }), NOW)).toBe(
    'duplicate',
  );
  expect(await store.report(batch('b-seq', 4, { disconnected: [S('u1', 'c1')] }), NOW)).toBe(
    'needFull',
  );
  expect(await store.report(batch('b-seq', 3, { boot: 'boot-2' }), NOW)).toBe('needFull');
  expect(await all({ broker: 'b-seq' })).toEqual(['b-seq/u1/c1', 'b-seq/u2/c2']);
  expect(await store.report(batch('b-seq', 3, { disconnected: [S('u1', 'c1')] }), NOW)).toBe(
    'applied',
  );
  expect(await all({ broker: 'b-seq' })).toEqual(['b-seq/u2/c2']);
  // A restart (another boot) reports afresh: full replaces what the old boot left.
  expect(
    await store.report(
      batch('b-seq', 1, { boot: 'boot-2', full: true, connected: [S('u3', 'c3')] }),
      NOW,
    ),
  ).toBe('applied');
  expect(await all({ broker: 'b-seq' })).toEqual(['b-seq/u3/c3']);
  const [state] = (await store.states(NOW)).filter((s) => s.broker === 'b-seq');
  expect(state).toMatchObject({ sessions: 1, connects: 1, disconnects: 1, heartbeatMs: 5000 });
});

it('a client id taken over by another user leaves one session; the old one ending does not end the new', async () => {
  await store.report(batch('b-take', 1, { full: true, connected: [S('old', 'shared')] }), NOW);
  await store.report(
    batch('b-take', 2, { connected: [S('new', 'shared')], disconnected: [S('old', 'shared')] }),
    NOW,
  );
  expect(await all({ broker: 'b-take' })).toEqual(['b-take/new/shared']);
  expect(await store.online(['old', 'new'], NOW)).toEqual(new Set(['new']));
});

it('sessions carry what the broker said; online and one user’s sessions across brokers', async () => {
  await store.report(
    batch('b-x', 1, { full: true, connected: [S('dev', 'a', 42), S('other', 'z')] }),
    NOW,
  );
  await store.report(batch('b-y', 1, { full: true, connected: [S('dev', 'b')] }), NOW);
  const page = await store.page({ username: 'dev', limit: 10, cursor: null }, NOW);
  expect(page.sessions).toEqual([
    { broker: 'b-x', username: 'dev', clientid: 'a', address: '127.0.0.1', protocol: 4, at: 42 },
    {
      broker: 'b-y',
      username: 'dev',
      clientid: 'b',
      address: '127.0.0.1',
      protocol: 4,
      at: 1_700_000_000_000,
    },
  ]);
  expect(page.next).toBeNull();
  expect(await store.online(['dev', 'other', 'nobody', 'de'], NOW)).toEqual(
    new Set(['dev', 'other']),
  );
});

it('counters of the last heartbeat are kept per broker', async () => {
  const counters = { allow: { user: 3, acl: 10 }, deny: { acl: 1 }, asked: { user: 1 } };
  await store.report(batch('b-c', 1, { full: true, counters }), NOW);
  const [state] = (await store.states(NOW)).filter((s) => s.broker === 'b-c');
  expect(state?.counters).toEqual(counters);
});

it('a broker silent for 3 heartbeats has no sessions, and is asked for everything when it comes back', async () => {
  await store.report(
    batch('b-dead', 1, { full: true, heartbeatMs: 500, connected: [S('d', 'c')] }),
    Date.now(),
  );
  expect(await store.online(['d'], Date.now())).toEqual(new Set(['d']));
  await eventually(async () => {
    expect(await store.brokers(Date.now())).not.toContain('b-dead');
    expect(await redis.exists(keys.presence.index('b-dead'))).toBe(0);
  }, 10_000);
  expect(await store.online(['d'], Date.now())).toEqual(new Set());
  expect(await store.report(batch('b-dead', 2, { heartbeatMs: 500 }), Date.now())).toBe('needFull');
});

it('paging stays complete while sessions come and go', async () => {
  const brokers = ['p-1', 'p-2', 'p-3'];
  const pad = (n: number) => String(n).padStart(3, '0');
  const stay = new Map(
    brokers.map((b) => [
      b,
      Array.from({ length: 200 }, (_, n) => S(`s${pad(n)}`, `${b}-${pad(n)}`)),
    ]),
  );
  for (const b of brokers)
    await store.report(batch(b, 1, { full: true, connected: stay.get(b) }), NOW);
  // Page order: member bytes, then broker (all ASCII here, so string order is byte order).
  const key = (b: string, s: { username: string; clientid: string }) => [
    `${s.username}\0${s.clientid}`,
    b,
  ];
  const want = brokers
    .flatMap((b) => stay.get(b)!.map((s) => key(b, s)))
    .sort((x, y) => (x[0]! < y[0]! ? -1 : x[0]! > y[0]! ? 1 : x[1]! < y[1]! ? -1 : 1))
    .map(([m, b]) => `${b}/${m!.replace('\0', '/')}`);
  const seen: string[] = [];
  let cursor = null;
  for (let round = 2; round < 100; round++) {
    const page = await store.page({ limit: 37, cursor }, NOW);
    seen.push(...page.sessions.map((s) => `${s.broker}/${s.username}/${s.clientid}`));
    // Between pages, on every broker: sessions come before and after the cursor, others go.
    for (const b of brokers) {
      const come = [
        S('a', `t-${b}-${round}`),
        S(`s${pad((round * 7) % 200)}`, `t-${b}-${round}`),
        S('zz', `u-${b}-${round}`),
      ];
      const go = [S('a', `t-${b}-${round - 1}`), S('zz', `u-${b}-${round - 1}`)];
      expect(await store.report(batch(b, round, { connected: come, disconnected: go }), NOW)).toBe(
        'applied',
      );
    }
    if (!page.next) break;
    cursor = page.next;
  }
  expect(seen.filter((s) => /\/p-\d-\d+$/.test(s))).toEqual(want);
  expect(new Set(seen).size).toBe(seen.length);
});
