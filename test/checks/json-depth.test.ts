import { jsonDepth } from '../../src/checks/json-depth';

describe('jsonDepth', () => {
  const cases: [string, number][] = [
    ['"x"', 0],
    ['{}', 1],
    ['{"a":"b","c":1}', 1],
    ['{"a":"{[{[","b":"\\"{"}', 1],
    ['{"a":"\\\\","b":[1]}', 2],
    ['[[[]]]', 3],
    ['{"a":{"b":{"c":[]}}}', 4],
    ['{"a":"unterminated {{{', 1],
  ];
  it.each(cases)('%s → %d', (text, depth) => expect(jsonDepth(text)).toBe(depth));

  it('stops counting above the bound', () => {
    expect(jsonDepth('['.repeat(1_000_000), 1)).toBe(2);
  });
});
