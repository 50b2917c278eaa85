import fc from 'fast-check';
import {
  covers,
  intersects,
  isValidFilter,
  isValidTopicName,
  levels,
} from '../../src/domain/topic';

const L = levels;

describe('isValidTopicName', () => {
  it.each([
    ['a'],
    ['a/b/c'],
    ['/'],
    ['/a'],
    ['a/'],
    ['a//b'],
    ['$SYS/broker/uptime'],
    ['ünï/cødé/🔑'],
    ['with space/and%c/%u'],
    ['x'.repeat(65535)],
  ])('accepts %j', (topic) => {
    expect(isValidTopicName(topic)).toBe(true);
  });

  it.each([
    ['', 'empty'],
    ['#', 'multi-level wildcard'],
    ['+', 'single-level wildcard'],
    ['a/#', 'wildcard level'],
    ['a/+/b', 'wildcard level'],
    ['a#', 'wildcard inside a level'],
    ['a+b', 'wildcard inside a level'],
    ['a/\u0000/b', 'NUL'],
    ['x'.repeat(65536), 'over 65535 bytes'],
    ['é'.repeat(32768), 'over 65535 bytes in UTF-8 (65536), though 32768 UTF-16 units'],
  ])('rejects %j (%s)', (topic) => {
    expect(isValidTopicName(topic)).toBe(false);
  });
});

describe('isValidFilter', () => {
  it.each([
    ['#'],
    ['+'],
    ['a'],
    ['a/#'],
    ['a/+'],
    ['+/+'],
    ['+/#'],
    ['a/+/b/#'],
    ['/'],
    ['/#'],
    ['a//b'],
    ['$SYS/#'],
    ['%u/%c'],
    ['x'.repeat(65535)],
  ])('accepts %j', (filter) => {
    expect(isValidFilter(filter)).toBe(true);
  });

  it.each([
    ['', 'empty'],
    ['#/a', '# not last'],
    ['a/#/b', '# not last'],
    ['#/#', '# not last'],
    ['a#', '# inside a level'],
    ['a/b#', '# inside a level'],
    ['a+', '+ inside a level'],
    ['a/+b/c', '+ inside a level'],
    ['++', '+ inside a level'],
    ['##', '# inside a level'],
    ['a/\u0000', 'NUL'],
    ['x'.repeat(65536), 'over 65535 bytes'],
  ])('rejects %j (%s)', (filter) => {
    expect(isValidFilter(filter)).toBe(false);
  });

  // The rule as MQTT states it, level by level: the one-pass implementation must agree.
  const byLevels = (f: string): boolean =>
    f.length > 0 &&
    Buffer.byteLength(f) <= 65535 &&
    !f.includes('\u0000') &&
    f
      .split('/')
      .every((l, i, all) => (l === '#' ? i === all.length - 1 : l === '+' || !/[+#]/.test(l)));

  it('agrees with the level-by-level rule on any string of /, +, #, NUL and letters', () => {
    const unit = fc.constantFrom('/', '+', '#', '\u0000', 'a', 'é', '$', '🔑');
    fc.assert(
      fc.property(fc.array(unit, { maxLength: 12 }), (units) => {
        const f = units.join('');
        expect(isValidFilter(f)).toBe(byLevels(f));
      }),
      { numRuns: 5000 },
    );
  });

  it('counts UTF-8 bytes, not UTF-16 units, near the limit', () => {
    expect(isValidFilter('é'.repeat(32767))).toBe(true);
    expect(isValidFilter('é'.repeat(32768))).toBe(false);
    expect(isValidFilter('€'.repeat(21845))).toBe(true);
    expect(isValidFilter('€'.repeat(21846))).toBe(false);
  });
});

// [rule, x, covers(rule, x)]: every topic matched by x is matched by rule.
const coverCases: [string, string, boolean][] = [
  // exact topics
  ['a', 'a', true],
  ['a', 'b', false],
  ['a/b', 'a/b', true],
  ['a/b', 'a', false],
  ['a', 'a/b', false],
  ['a/b', 'a/c', false],
  ['A', 'a', false],
  // `#`
  ['#', 'a', true],
  ['#', 'a/b/c', true],
  ['#', '#', true],
  ['#', '+', true],
  ['#', '+/#', true],
  ['#', 'a/#', true],
  ['#', '/', true],
  ['#', '/a', true],
  ['a/#', 'a', true],
  ['a/#', 'a/b', true],
  ['a/#', 'a/b/c', true],
  ['a/#', 'a/#', true],
  ['a/#', 'a/+', true],
  ['a/#', 'a/+/c/#', true],
  ['a/#', 'a/', true],
  ['a/#', 'b', false],
  ['a/#', 'ab', false],
  ['a/#', 'b/a', false],
  ['a/#', '#', false],
  ['a/#', '+', false],
  ['a/#', '+/b', false],
  ['a/b/#', 'a', false],
  ['a/b/#', 'a/#', false],
  // `+`
  ['+', 'a', true],
  ['+', '+', true],
  ['+', 'a/b', false],
  ['+', '#', false],
  ['a/+', 'a/b', true],
  ['a/+', 'a/+', true],
  ['a/+', 'a/', true],
  ['a/+', 'a', false],
  ['a/+', 'a/b/c', false],
  ['a/+', 'a/#', false],
  ['a/+', 'a/+/c', false],
  ['a/+', 'b/c', false],
  ['+/b', 'a/b', true],
  ['+/b', '+/b', true],
  ['+/b', 'a/c', false],
  ['+/b', '#', false],
  ['+/+', 'a/b', true],
  ['+/+', '+/+', true],
  ['+/+', 'a', false],
  ['+/+', 'a/b/c', false],
  ['a/+/c', 'a/b/c', true],
  ['a/+/c', 'a/+/c', true],
  ['a/+/c', 'a/b/d', false],
  ['a/+/#', 'a/b', true],
  ['a/+/#', 'a/+', true],
  ['a/+/#', 'a/b/c/d', true],
  ['a/+/#', 'a', false],
  ['a/+/#', 'a/#', false],
  ['a/b', 'a/+', false],
  ['a/b', 'a/#', false],
  ['a/b', '#', false],
  // `$` topics: a rule starting with a wildcard never matches them
  ['#', '$SYS', false],
  ['#', '$SYS/x', false],
  ['#', '$SYS/#', false],
  ['#', '$share/g/t', false],
  ['+/x', '$SYS/x', false],
  ['+/#', '$SYS/x', false],
  ['+', '$SYS', false],
  ['$SYS/#', '$SYS/x', true],
  ['$SYS/#', '$SYS', true],
  ['$SYS/#', '$SYS/#', true],
  ['$SYS/+', '$SYS/x', true],
  ['$SYS/#', '#', false],
  ['$SYS/#', '+/x', false],
  ['$SYS/x', '$SYS/x', true],
  ['a/#', 'a/$x', true],
  ['a/+', 'a/$x', true],
  // empty levels
  ['a//b', 'a//b', true],
  ['a/+/b', 'a//b', true],
  ['a/b', 'a//b', false],
  ['a//b', 'a/b', false],
  ['+/a', '/a', true],
  ['/#', '/a', true],
  ['/a', 'a', false],
  ['a', '/a', false],
  ['a/', 'a', false],
  ['a', 'a/', false],
  ['+/+', '/', true],
  ['+', '/', false],
];

describe('covers(rule, x)', () => {
  it.each(coverCases)('%j covers %j: %s', (rule, x, expected) => {
    expect(covers(L(rule), L(x))).toBe(expected);
  });
});

// [a, b, intersects]; checked in both orders.
const intersectCases: [string, string, boolean][] = [
  ['a', 'a', true],
  ['a', 'b', false],
  ['a/b', 'a', false],
  ['#', 'a', true],
  ['#', '#', true],
  ['#', '+', true],
  ['#', 'a/b/c', true],
  ['a/#', 'a', true],
  ['a/#', 'a/b/c', true],
  ['a/#', 'b/#', false],
  ['a/#', '+/b', true],
  ['a/#', 'a/+', true],
  ['a/#', '+', true],
  ['a/b/#', 'a', false],
  ['a/b/#', 'a/+', true],
  ['a/b/#', 'a/c/#', false],
  ['a/+', 'a/#', true],
  ['a/+', 'a', false],
  ['a/+', 'a/b/c', false],
  ['a/+', '+/b', true],
  ['a/+', '+/+/+', false],
  ['a/+/c', 'a/b/+', true],
  ['a/+/c', 'a/b/d', false],
  ['a/+/#', 'a', false],
  ['a/+/#', 'a/#', true],
  ['+', 'a/b', false],
  ['+/+', 'a', false],
  ['+', 'x', true],
  // `$` topics
  ['#', '$SYS/x', false],
  ['#', '$SYS/#', false],
  ['+/#', '$SYS/x', false],
  ['+/x', '$SYS/+', false],
  ['+', '$SYS', false],
  ['$SYS/#', '$SYS/x', true],
  ['$SYS/#', '$SYS', true],
  ['$SYS/+', '$SYS/#', true],
  ['$SYS/x', '$SYS/y', false],
  ['$SYS/#', 'a/#', false],
  ['a/#', 'a/$x', true],
  // empty levels
  ['a//b', 'a/+/b', true],
  ['a//b', 'a/b', false],
  ['/a', '+/a', true],
  ['/a', '#', true],
  ['/a', 'a', false],
  ['a/', 'a/+', true],
  ['a/', 'a', false],
];

describe('intersects(a, b)', () => {
  it.each(intersectCases)('%j ∩ %j: %s', (a, b, expected) => {
    expect(intersects(L(a), L(b))).toBe(expected);
    expect(intersects(L(b), L(a))).toBe(expected);
  });

  it.each(coverCases.filter(([, , c]) => c))('%j covers %j, so they intersect', (rule, x) => {
    expect(intersects(L(rule), L(x))).toBe(true);
  });
});

describe('levels', () => {
  it.each([
    ['a', ['a']],
    ['a/b', ['a', 'b']],
    ['/', ['', '']],
    ['a//b', ['a', '', 'b']],
  ])('%j -> %j', (t, expected) => {
    expect(levels(t)).toEqual(expected);
  });
});
