import { pruneCovered } from '../../src/domain/filter-set';
import { covers, levels } from '../../src/domain/topic';

/** The definition: drop a filter when another distinct one covers it (quadratic). */
const reference = (xs: string[]) => {
  const u = [...new Set(xs)];
  return u.filter((p, i) => !u.some((q, j) => j !== i && covers(levels(q), levels(p))));
};

describe('pruneCovered', () => {
  const sets: string[][] = [
    ['a/b', 'a/+', 'a/#', 'a'],
    ['a/+', 'a/b/c', 'a/+/c', '+/+/c', 'x'],
    ['#', '$SYS/x', 'a', '+/x', '$SYS/#'],
    ['+/#', '$SYS/x', 'a'],
    ['a/#', 'a/#', 'a/+/#', 'a/+/+'],
    ['a/+', 'a/#'],
    ['+', '+/+', 'a/b', 'a', '', '/', '+/'],
    ['a/b/c/d', 'a/+/c/+', '+/b/+/d', 'a/b/#', 'a/b/c'],
    ['$x/+', '$x/y', '+/y', '#/'.slice(0, 1)],
  ];
  it.each(sets)('agrees with the definition: %j', (...xs) => {
    expect(pruneCovered(xs)).toEqual(reference(xs));
  });

  it('agrees on random sets', () => {
    const pick = <T>(a: T[]) => a[Math.floor(Math.random() * a.length)] as T;
    for (let round = 0; round < 300; round++) {
      const xs = Array.from({ length: 1 + Math.floor(Math.random() * 12) }, () => {
        const n = 1 + Math.floor(Math.random() * 4);
        const ls = Array.from({ length: n }, () => pick(['a', 'b', '+', '$s', '']));
        if (Math.random() < 0.3) ls.push('#');
        return ls.join('/');
      });
      expect({ xs, out: pruneCovered(xs, Infinity) }).toEqual({ xs, out: reference(xs) });
    }
  });

  it('keeps a filter when its walk runs out of budget (safe: it grants nothing more)', () => {
    expect(pruneCovered(['+/+/+', 'a/b/c'], 1)).toEqual(['+/+/+', 'a/b/c']);
  });
});
