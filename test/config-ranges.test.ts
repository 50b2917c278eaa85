// Every whole-number variable names its accepted range when the value is not a number, not a
// whole one, or out of range (not zod's "expected number, received NaN").
import { readConfig } from '../src/config';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const doc = readFileSync(path.join(__dirname, '..', 'docs', 'configuration.md'), 'utf8');
/** The "Accepted values" table rows with a plain `min–max` range. */
const ranges = [
  ...doc.matchAll(/^\| ((?:`[A-Z_]+`(?:, )?)+) \| (\d+)–(\d+)(?:[,;].*)? \|$/gm),
].flatMap((m) =>
  [...m[1]!.matchAll(/`([A-Z_]+)`/g)].map((v) => [v[1]!, Number(m[2]), Number(m[3])] as const),
);

it('the configuration reference lists the ranges', () => {
  expect(ranges.length).toBeGreaterThanOrEqual(20);
  expect(ranges).toContainEqual(['PORT', 0, 65535]);
});

describe.each(ranges)('%s (%d–%d)', (name, min, max) => {
  it.each(['abc', '1.5', String(max + 1), ...(min > 0 ? [String(min - 1)] : ['-1'])])(
    '%p stops startup naming the range',
    (value) => {
      expect(() => readConfig({ [name]: value })).toThrow(
        `${name}=${JSON.stringify(value)}: must be a whole number from ${min} to ${max}`,
      );
    },
  );
  it('the bounds themselves are accepted', () => {
    // PASSWD_ITERATIONS may not exceed PASSWD_MAX_ITERATIONS: move the other one along.
    const extra =
      name === 'PASSWD_ITERATIONS'
        ? { PASSWD_MAX_ITERATIONS: String(max) }
        : name === 'PASSWD_MAX_ITERATIONS'
          ? { PASSWD_ITERATIONS: String(min) }
          : {};
    expect(() => readConfig({ ...extra, [name]: String(min) })).not.toThrow();
    expect(() => readConfig({ ...extra, [name]: String(max) })).not.toThrow();
  });
});
