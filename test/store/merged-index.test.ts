// The k-way merge behind listing and export: byte order across buckets, from any cursor,
// in chunks, whatever the sizes — checked against a plain sort of the same names.
import fc from 'fast-check';
import { IndexMerge } from '../../src/store/merged-index';

const byBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** Buckets held in memory, answering like ZRANGEBYLEX (after, LIMIT 0 count). */
function fakeBuckets(names: string[], buckets: number) {
  const parts: string[][] = Array.from({ length: buckets }, () => []);
  names.forEach((n, i) => parts[(n.length + i) % buckets]!.push(n));
  for (const p of parts) p.sort(byBytes);
  let calls = 0;
  return {
    fetch: async (b: number, after: string | null, count: number) => {
      calls++;
      const p = parts[b]!;
      return p.filter((n) => after === null || byBytes(n, after) > 0).slice(0, count);
    },
    calls: () => calls,
  };
}

it('walks all buckets in byte order, in pages, from a cursor', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.uniqueArray(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 6 }), {
        maxLength: 120,
      }),
      fc.integer({ min: 1, max: 9 }),
      fc.integer({ min: 1, max: 25 }),
      async (names, buckets, page) => {
        const sorted = [...names].sort(byBytes);
        const { fetch } = fakeBuckets(names, buckets);
        const merge = new IndexMerge(buckets, fetch, null, 3);
        const seen: string[] = [];
        for (;;) {
          const got = await merge.next(page);
          seen.push(...got);
          if (got.length < page) break;
        }
        expect(seen).toEqual(sorted);
        // A cursor (the last name of a page) resumes right after it.
        const cut = sorted[Math.floor(sorted.length / 2)];
        if (cut !== undefined) {
          const rest = await new IndexMerge(buckets, fetch, cut, 4).next(1000);
          expect(rest).toEqual(sorted.filter((n) => byBytes(n, cut) > 0));
        }
      },
    ),
  );
});

it('orders by UTF-8 bytes as Redis does, not by UTF-16 units', async () => {
  const names = ['\u{1F600}', '\uFFFD', 'a'];
  const { fetch } = fakeBuckets(names, 2);
  expect(await new IndexMerge(2, fetch, null, 8).next(10)).toEqual(['a', '\uFFFD', '\u{1F600}']);
});

it('reads each bucket a chunk at a time (bounded memory), not all at once', async () => {
  const names = Array.from({ length: 1000 }, (_, i) => `d-${String(i).padStart(4, '0')}`);
  const { fetch, calls } = fakeBuckets(names, 8);
  const merge = new IndexMerge(8, fetch, null, 10);
  expect(await merge.next(5)).toEqual(names.slice(0, 5));
  expect(calls()).toBe(8); // one chunk of 10 per bucket so far
  let n = 5;
  for (let got = await merge.next(100); got.length > 0; got = await merge.next(100))
    n += got.length;
  expect(n).toBe(1000);
  expect(calls()).toBeLessThanOrEqual(8 + 1000 / 10 + 8);
});
