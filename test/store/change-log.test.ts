// The change log's pure parts: the announcement on the events channel and the cursor a v2
// reader holds (src/store/change-log.ts). The reads themselves: test/checks/events-v2.test.ts.
import {
  cursorScope,
  decodeCursor,
  encodeCursor,
  LOGS,
  parseAnnouncement,
} from '../../src/store/change-log';
import { parseChange } from '../../src/store/change-feed';

test.each([
  ['2:0:1:u:dev', { log: 0, rev: 1, kind: 'u', username: 'dev' }],
  ['2:63:99:x:a:b', { log: 63, rev: 99, kind: 'x', username: 'a:b' }], // names may hold ':'
  ['2:64:7:c:', { log: 64, rev: 7, kind: 'c', username: '' }],
  ['2:65:1:u:dev', null], // no 66th log
  ['2:1:1:y:dev', null],
  ['2:1::u:dev', null],
  ['u:dev', null],
  ['', null],
])('announcement %j → %j', (msg, want) => {
  expect(parseAnnouncement(msg)).toEqual(want);
});

test.each([
  ['2:5:3:x:dev', 'dev', { kind: 'user', revoke: true, log: 5, rev: 3 }],
  ['2:5:4:u:dev', 'dev', { kind: 'user', revoke: false, log: 5, rev: 4 }],
  ['2:64:2:c:', null, { kind: 'common', revoke: false, log: 64, rev: 2 }],
  ['2:99:2:c:', null, { kind: 'reset', revoke: false }], // a v2 message this one cannot place
  ['x:dev', 'dev', { kind: 'user', revoke: true }], // an older version's: no position
])('the feed reads %j as a change of %j, %j', (msg, username, info) => {
  expect(parseChange(msg)).toEqual({ username, info });
});

describe('cursors', () => {
  const scope = cursorScope('p:', 'marker-1');
  const revs = Array.from({ length: LOGS }, (_, i) => i * 1000);

  test('round trip, printable, no blanks, well under 4 KiB', () => {
    const c = encodeCursor(scope, revs);
    expect(c).toMatch(/^[\x21-\x7e]+$/);
    expect(c.length).toBeLessThan(4096);
    expect(decodeCursor(scope, c)).toEqual(revs);
  });

  test('the scope is the prefix and the marker', () => {
    expect(cursorScope('p:', 'marker-2')).not.toBe(scope);
    expect(cursorScope('q:', 'marker-1')).not.toBe(scope);
    expect(decodeCursor(cursorScope('p:', 'marker-2'), encodeCursor(scope, revs))).toBeNull();
  });

  test.each([
    ['another version', `2.${scope}${'.0'.repeat(LOGS)}`],
    ['one log short', `1.${scope}${'.0'.repeat(LOGS - 1)}`],
    ['one log more', `1.${scope}${'.0'.repeat(LOGS + 1)}`],
    ['not base 36', `1.${scope}${'.0'.repeat(LOGS - 1)}.-1`],
    ['beyond a safe integer', `1.${scope}${'.0'.repeat(LOGS - 1)}.zzzzzzzzzzz`],
    ['empty', ''],
    ['huge', 'x'.repeat(5000)],
  ])('%s: not a cursor', (_what, c) => {
    expect(decodeCursor(scope, c)).toBeNull();
  });
});
