// GET /audit?after=<cursor> never skips an entry. Entry ids grow within each of the 66 streams,
// not across them (another primary's clock, two streams in one millisecond): a reader that
// tailed by the newest id it had seen missed, for good, an entry written after a higher id of
// another stream was returned (the hostile run: 9 of 1,525). The cursor is a place per stream.
import request from 'supertest';
import { ADMIN_AUTH, startTestService, type TestService } from '../support/service';
import { sleep } from '../support/http';

let t: TestService;
beforeAll(async () => {
  t = await startTestService('audit-after');
});
afterAll(() => t?.stop());

const api = () => request(t.service.server);
interface Page {
  entries: { id: string; target: string; action: string }[];
  next: string | null;
  cursor?: string;
}
const audit = async (query: string): Promise<Page> =>
  (await api().get(`/api/v1/audit${query}`).set(ADMIN_AUTH).expect(200)).body as Page;

/** Two devices in different buckets. */
function twoBuckets(stem: string): [string, string] {
  const { keys } = t.raw();
  const a = `${stem}-a`;
  for (let i = 0; ; i++) {
    const b = `${stem}-b${i}`;
    if (keys.bucketOf(b) !== keys.bucketOf(a)) return [a, b];
  }
}

it('an entry written after a higher id of another stream is returned after the cursor', async () => {
  const { redis, keys } = t.raw();
  const [a, b] = twoBuckets('tail');
  await api().post('/api/v1/devices').set(ADMIN_AUTH).send({ id: a }).expect(201);
  await sleep(5); // b's entry one millisecond or more later: a higher id than a's
  await api().post('/api/v1/devices').set(ADMIN_AUTH).send({ id: b }).expect(201);
  const head = await audit('?limit=10');
  expect(head.entries.slice(0, 2).map((e) => e.target)).toEqual([b, a]);
  expect(head.cursor).toEqual(expect.any(String));
  const [newest, second] = head.entries as [Page['entries'][0], Page['entries'][0]];

  // What the race leaves: a's stream gets an entry now whose id is above a's newest but below
  // b's, as a primary with a slower clock (or a same-millisecond write) would write it.
  const [ms, seq] = second.id.split('-').map(Number) as [number, number];
  const late = `${ms}-${seq + 128}`;
  expect(BigInt(ms) < BigInt(newest.id.split('-')[0] as string)).toBe(true);
  const stream = keys.auditBucket(keys.bucketOf(a));
  await redis.xadd(stream, late, 'actor', 'x', 'action', 'update', 'target', a, 'after', '{}');

  // Tailing by the newest id seen, as a reader had to: the late entry is never listed.
  expect((await audit(`?after=${newest.id}`)).entries).toEqual([]);
  // From the cursor: it is.
  const tail = await audit(`?after=${head.cursor}`);
  expect(tail.entries.map((e) => e.id)).toEqual([late]);
  expect(tail.next).toBeNull();
  // And the next cursor does not return it again.
  expect((await audit(`?after=${tail.cursor}`)).entries).toEqual([]);
});

it('a tail kept up while devices change in every bucket sees each entry once', async () => {
  let cursor = (await audit('?limit=1')).cursor as string;
  const seen: string[] = [];
  let writing = true;
  const tailer = (async () => {
    while (writing) {
      const page = await audit(`?limit=7&after=${cursor}`);
      seen.push(...page.entries.map((e) => e.id));
      cursor = page.cursor as string;
    }
  })();
  const ids = Array.from({ length: 120 }, (_, i) => `tail-many-${i}`);
  for (let i = 0; i < ids.length; i += 12) {
    await Promise.all(
      ids
        .slice(i, i + 12)
        .map((id) => api().post('/api/v1/devices').set(ADMIN_AUTH).send({ id }).expect(201)),
    );
  }
  writing = false;
  await tailer;
  for (;;) {
    const page = await audit(`?limit=50&after=${cursor}`);
    if (page.entries.length === 0) break;
    seen.push(...page.entries.map((e) => e.id));
    cursor = page.cursor as string;
  }
  const all = (await audit('?limit=1000')).entries.filter((e) => e.target.startsWith('tail-many-'));
  expect(all).toHaveLength(120);
  expect(new Set(seen).size).toBe(seen.length); // nothing twice
  expect(seen.sort()).toEqual(all.map((e) => e.id).sort()); // nothing missed
});

it('refuses a bad cursor and after with before, naming the field', async () => {
  const bad = await api().get('/api/v1/audit?after=1.0.99-0-0').set(ADMIN_AUTH).expect(400);
  expect(bad.body.error.message).toMatch(/^query\.after: /);
  const both = await api().get('/api/v1/audit?after=0-0&before=5-0').set(ADMIN_AUTH).expect(400);
  expect(both.body.error.message).toMatch(/before and after/);
  const all = await audit('?after=0-0&limit=1');
  expect(all.entries).toHaveLength(1);
});
