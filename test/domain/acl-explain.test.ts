import fc from 'fast-check';
import { explainAcl } from '../../src/domain/acl-explain';
import {
  aclVerdict,
  compileAcl,
  decideAcl,
  verdictRule,
  type Acc,
  type AclRule,
} from '../../src/domain/acl';

const R = (access: AclRule['access'], pattern: string): AclRule => ({ pattern, access });

type Case = [string, AclRule[], Acc, string, { allow: boolean; rule: number; reason: RegExp }];
const cases: Case[] = [
  [
    'the grant that completed read+write is named',
    [R('read', 'a/#'), R('write', 'a/+')],
    3,
    'a/b',
    {
      allow: true,
      rule: 1,
      reason: /granted by rule "a\/\+" \(write\) together with an earlier rule/,
    },
  ],
  [
    'read granted, write not',
    [R('read', 'a/#')],
    3,
    'a/b',
    { allow: false, rule: -1, reason: /read is granted, write is not/ },
  ],
  [
    'the first deny that matches wins',
    [R('readwrite', '#'), R('deny', 'a/x'), R('deny', 'a/+')],
    2,
    'a/x',
    { allow: false, rule: 1, reason: /^deny rule "a\/x" matches "a\/x"/ },
  ],
  [
    'a filter partly covered names an uncovered topic (the parent of a/#)',
    [R('read', 'a/+/#')],
    4,
    'a/#',
    { allow: false, rule: -1, reason: /"a\/\+\/#" covers only part of it \("a" is not covered\)/ },
  ],
  [
    'an uncovered example avoids the levels the rules use',
    [R('read', 'a/other/#')],
    4,
    'a/+',
    { allow: false, rule: -1, reason: /\("a\/other2" is not covered\)/ },
  ],
  [
    'a deny with %c and a client id that breaks it denies everything',
    [R('readwrite', '#'), R('deny', 'x/%c/#')],
    2,
    'y',
    {
      allow: false,
      rule: 1,
      reason: /is not a valid filter once %u\/%c are filled in \("x\/#\/#"\)/,
    },
  ],
  [
    'an invalid subscription filter',
    [R('read', '#')],
    4,
    'a/#/b',
    { allow: false, rule: -1, reason: /not a valid subscription filter/ },
  ],
];

describe('explainAcl', () => {
  it.each(cases)('%s', (_name, rules, acc, topic, want) => {
    const clientid = rules.some((r) => r.pattern.includes('%c')) ? '#' : 'c1';
    const e = explainAcl(rules, 'u1', acc, topic, clientid);
    expect(e.allow).toBe(want.allow);
    expect(e.rule).toBe(want.rule);
    expect(e.reason).toMatch(want.reason);
  });

  it('always agrees with the check, and names a rule of the right kind', () => {
    const level = fc.constantFrom('a', 'b', '+', '#', '%u', '%c', '$SYS');
    const filter = fc
      .array(level, { minLength: 1, maxLength: 3 })
      .map((ls) => ls.join('/'))
      .filter((f) => !/#./.test(f));
    const rule = fc.record({
      pattern: filter,
      access: fc.constantFrom('read', 'write', 'readwrite', 'deny') as fc.Arbitrary<
        AclRule['access']
      >,
    });
    fc.assert(
      fc.property(
        fc.array(rule, { maxLength: 5 }),
        fc.constantFrom(1, 2, 3, 4) as fc.Arbitrary<Acc>,
        filter,
        fc.constantFrom('u1', '+', 'c1'),
        fc.constantFrom('c1', '#', ''),
        (rules, acc, topic, user, client) => {
          const compiled = compileAcl(rules, user);
          const e = explainAcl(rules, user, acc, topic, client, compiled);
          expect(e.allow).toBe(decideAcl(compiled, acc, topic, client).allow);
          expect(e.rule).toBe(verdictRule(aclVerdict(compiled, acc, topic, client)));
          if (e.rule >= 0) {
            expect((rules[e.rule] as AclRule).access === 'deny').toBe(!e.allow);
          }
          expect(e.reason.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
