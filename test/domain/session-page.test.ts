// Paging over several brokers' sessions: the bounds each broker is read with, and the merge,
// checked against a plain sort of the same sessions (the Redis store reads with exactly these).
import fc from 'fast-check';
import {
  compareBytes,
  decodeCursor,
  encodeCursor,
  lexRange,
  memberOf,
  mergePage,
  splitMember,
  type Candidate,
  type SessionCursor,
} from '../../src/domain/session-page';

const C = (member: string, broker: string): SessionCursor => ({ member, broker });

it.each([
  ['no cursor, no user', 'b', null, undefined, '-', '+'],
  ['one user', 'b', null, 'dev', '[dev\0', '(dev\x01'],
  ['broker before the cursor broker: strictly after', 'a', C('x\0c', 'b'), undefined, '(x\0c', '+'],
  [
    'broker after the cursor broker: the member again',
    'c',
    C('x\0c', 'b'),
    undefined,
    '[x\0c',
    '+',
  ],
  ['same broker: strictly after', 'b', C('x\0c', 'b'), undefined, '(x\0c', '+'],
  ['cursor inside the user', 'b', C('dev\0c', 'a'), 'dev', '[dev\0c', '(dev\x01'],
  [
    'cursor before the user: the user from its start',
    'b',
    C('a\0c', 'a'),
    'dev',
    '[dev\0',
    '(dev\x01',
  ],
])('lexRange: %s', (_why, broker, cursor, username, min, max) => {
  expect(lexRange(broker, cursor, username)).toEqual({ min, max });
});

it('members split back into user name and client id, client ids with the separator aside', () => {
  expect(splitMember(memberOf('u', 'c:1'))).toEqual({ username: 'u', clientid: 'c:1' });
  expect(splitMember(memberOf('u', ''))).toEqual({ username: 'u', clientid: '' });
});

it('a cursor survives its encoding; anything else is refused', () => {
  const c = C('ü\0😀', 'broker-1');
  expect(decodeCursor(encodeCursor(c))).toEqual(c);
  for (const bad of [
    '',
    'x',
    Buffer.from('[1,2]').toString('base64url'),
    Buffer.from('{}').toString('base64url'),
  ]) {
    expect(decodeCursor(bad)).toBeNull();
  }
});

/** What one broker's ZRANGEBYLEX would answer for the bounds lexRange gives. */
function read(
  members: string[],
  broker: string,
  cursor: SessionCursor | null,
  limit: number,
  user?: string,
) {
  const { min, max } = lexRange(broker, cursor, user);
  const ok = (m: string) => {
    const lo =
      min === '-' ||
      (min[0] === '[' ? compareBytes(m, min.slice(1)) >= 0 : compareBytes(m, min.slice(1)) > 0);
    const hi =
      max === '+' ||
      (max[0] === '[' ? compareBytes(m, max.slice(1)) <= 0 : compareBytes(m, max.slice(1)) < 0);
    return lo && hi;
  };
  return [...members]
    .sort(compareBytes)
    .filter(ok)
    .slice(0, limit)
    .map((member) => ({ member, broker }));
}

it('pages over every broker list each session once, in order, with or without one user', () => {
  const name = fc.string({
    unit: fc.constantFrom('a', 'b', 'é', '😀'),
    minLength: 1,
    maxLength: 3,
  });
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.constantFrom('b1', 'b2', 'b10'), name, name), { maxLength: 60 }),
      fc.integer({ min: 1, max: 7 }),
      fc.option(name, { nil: undefined }),
      (rows, limit, user) => {
        const brokers = new Map<string, Set<string>>();
        for (const [b, u, c] of rows)
          (brokers.get(b) ?? brokers.set(b, new Set()).get(b)!).add(memberOf(u, c));
        const want: Candidate[] = [...brokers]
          .flatMap(([broker, ms]) => [...ms].map((member) => ({ member, broker })))
          .filter((c) => user === undefined || splitMember(c.member).username === user)
          .sort((a, b) => compareBytes(a.member, b.member) || compareBytes(a.broker, b.broker));
        const got: Candidate[] = [];
        let cursor: SessionCursor | null = null;
        for (let pages = 0; pages < 100; pages++) {
          const per = [...brokers].map(([b, ms]) => read([...ms], b, cursor, limit, user));
          const { page, next } = mergePage(per, limit);
          got.push(...page);
          if (!next) break;
          cursor = decodeCursor(encodeCursor(next));
        }
        expect(got).toEqual(want);
      },
    ),
  );
});
