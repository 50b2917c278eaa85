import { decodeCursor, encodeCursor, idOrder, parseAfter } from '../../src/domain/audit-cursor';

it('a cursor reads back as the same place in every stream', () => {
  const places = new Map([
    [0, '1765152000123-128'],
    [5, '1765152000100-5'],
    [65, '18446744073709551615-18446744073709551615'],
  ]);
  const text = encodeCursor(places);
  expect(text).toMatch(/^1\.\d+(\.\d+-\d+-\d+)+$/);
  expect(decodeCursor(text)).toEqual(places);
  expect(decodeCursor(encodeCursor(new Map()))).toEqual(new Map());
});

it.each([
  ['', 'must be a cursor'],
  ['2.0', 'must be a cursor'],
  ['1.0.66-0-0', 'stream'],
  ['1.0.3-0-0.3-1-0', 'stream'],
  ['1.18446744073709551615.1-1-0', '2^64'],
  ['1.0.1-0-18446744073709551616', '2^64'],
])('%j is refused (%s)', (text, why) => {
  expect(decodeCursor(text)).toEqual(expect.stringContaining(why));
});

it('an entry id as `after` stands for that place in all 66 streams', () => {
  const all = parseAfter('0-0') as Map<number, string>;
  expect(all.size).toBe(66);
  expect([...all.values()].every((id) => id === '0-0')).toBe(true);
});

it('orders ids as numbers, not text', () => {
  expect(idOrder('10-0') > idOrder('9-999')).toBe(true);
  expect(idOrder('9-130') > idOrder('9-13')).toBe(true);
});
