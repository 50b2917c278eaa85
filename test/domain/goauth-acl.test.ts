// The go-auth → mqtt-authd ACL mapping never grants more than go-auth did: checked against a
// model of go-auth's own decisions, written from its source (backends/redis.go checkAcl,
// backends/files/files.go CheckAcl, backends/topics/topics.go Match), on generated rules.
import fc from 'fast-check';
import { compileAcl, decideAcl, type Acc, type AclRule } from '../../src/domain/acl';
import {
  filesCommonRules,
  filesRule,
  filesUserRules,
  meetFilters,
  patternProblem,
  redisCommonRules,
  redisUserRules,
  type FilesAccess,
  type GoAuthSets,
} from '../../src/domain/goauth-acl';

// ---- go-auth, as its source does it ----------------------------------------------------------
function goMatch(saved: string, given: string): boolean {
  const m = (route: string[], topic: string[]): boolean => {
    if (route.length === 0) return topic.length === 0;
    if (topic.length === 0) return route[0] === '#';
    if (route[0] === '#') return route.length === 1;
    if (route[0] === '+' || route[0] === topic[0]) return m(route.slice(1), topic.slice(1));
    return false;
  };
  return given === saved || m(saved.split('/'), given.split('/'));
}
const subst = (p: string, u: string, c: string) => p.split('%c').join(c).split('%u').join(u);

function goRedis(
  own: GoAuthSets,
  common: GoAuthSets,
  u: string,
  c: string,
  acc: Acc,
  topic: string,
) {
  const pick = (s: GoAuthSets) =>
    acc === 4
      ? s.sacls
      : acc === 1
        ? [...s.racls, ...s.rwacls]
        : acc === 2
          ? [...s.wacls, ...s.rwacls]
          : [];
  return (
    pick(own).some((p) => goMatch(p, topic)) ||
    pick(common).some((p) => goMatch(subst(p, u, c), topic))
  );
}

interface FileRec {
  access: FilesAccess;
  pattern: string;
}
const ACC_OF: Record<FilesAccess, number> = {
  read: 1,
  write: 2,
  readwrite: 3,
  subscribe: 4,
  deny: 0x11,
};
function goFiles(own: FileRec[], common: FileRec[], u: string, c: string, acc: Acc, topic: string) {
  const all = [
    ...own.map((r) => [r, r.pattern] as const),
    ...common.map((r) => [r, subst(r.pattern, u, c)] as const),
  ];
  if (all.some(([r, p]) => r.access === 'deny' && goMatch(p, topic))) return false;
  return all.some(([r, p]) => {
    if (!goMatch(p, topic)) return false;
    const a = ACC_OF[r.access];
    return acc === a || a === 3 || (acc === 4 && topic !== '#' && (a === 1 || a === 4));
  });
}

// ---- ours ------------------------------------------------------------------------------------
const ours = (own: AclRule[], common: AclRule[], u: string, c: string, acc: Acc, topic: string) =>
  decideAcl(compileAcl([...own, ...common], u), acc, topic, c).allow;

const U = 'alice';
const C = 'c1';
const level = fc.constantFrom('a', 'b', 'alice', 'c1', '+', '#', '%u', '%c', '$SYS', 'x%cy');
const pattern = fc.array(level, { minLength: 1, maxLength: 4 }).map((l) => l.join('/'));
const topicLevel = fc.constantFrom('a', 'b', 'alice', 'c1', '%u', '$SYS', 'xc1y');
const topic = fc.array(topicLevel, { minLength: 1, maxLength: 4 }).map((l) => l.join('/'));
const filterLevel = fc.constantFrom('a', 'b', 'alice', 'c1', '+', '#', '$SYS');
const filter = fc.array(filterLevel, { minLength: 1, maxLength: 4 }).map((l) => l.join('/'));
const sets = fc.record({
  racls: fc.array(pattern, { maxLength: 3 }),
  wacls: fc.array(pattern, { maxLength: 3 }),
  rwacls: fc.array(pattern, { maxLength: 3 }),
  sacls: fc.array(pattern, { maxLength: 3 }),
});
const access = fc.constantFrom<FilesAccess>('read', 'write', 'readwrite', 'subscribe', 'deny');
const fileRecs = fc.array(fc.record({ access, pattern }), { maxLength: 4 });

describe('meetFilters', () => {
  it.each([
    ['a/#', 'a/b', 'a/b'],
    ['a/#', 'a', 'a'],
    ['+/b/#', 'a/#', 'a/b/#'],
    ['a/+/#', '+/b', 'a/b'],
    ['#', '+/#', '+/#'],
    ['a/b', 'a/c', null],
    ['a/+', 'a/b/c', null],
    ['devices/+/cmd', 'devices/%u/#', 'devices/%u/cmd'],
    ['devices/%c', 'devices/+', 'devices/%c'],
    ['devices/%u', 'devices/alice', null], // without the user: unknown, so nothing
  ])('%s ∧ %s = %s', (a, b, want) => {
    expect(meetFilters(a, b)).toBe(want);
  });

  it('a template meets a literal only as that user', () => {
    expect(meetFilters('devices/%u', 'devices/alice', 'alice')).toBe('devices/alice');
    expect(meetFilters('devices/%u', 'devices/bob', 'alice')).toBeNull();
    expect(meetFilters('devices/%c', 'devices/c1', 'alice')).toBeNull();
  });
});

describe('Redis backend mapping', () => {
  it('never grants more than go-auth (generated sets, topics and filters)', () => {
    fc.assert(
      fc.property(sets, sets, topic, filter, (own, common, t, f) => {
        const mine = redisUserRules(U, own, common).rules;
        const shared = redisCommonRules(common).rules;
        for (const acc of [1, 2] as Acc[]) {
          if (ours(mine, shared, U, C, acc, t))
            expect(goRedis(own, common, U, C, acc, t)).toBe(true);
        }
        if (ours(mine, shared, U, C, 4, f)) expect(goRedis(own, common, U, C, 4, f)).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });

  const empty: GoAuthSets = { racls: [], wacls: [], rwacls: [], sacls: [] };

  it('keeps what a typical go-auth setup grants', () => {
    const own = {
      ...empty,
      rwacls: ['plant/alice/#'],
      sacls: ['plant/alice/#'],
      wacls: ['alerts'],
    };
    const common = {
      ...empty,
      racls: ['broadcast/#'],
      sacls: ['broadcast/#', 'cmd/%u/#'],
      rwacls: ['cmd/%u/#'],
    };
    const mine = redisUserRules(U, own, common);
    const shared = redisCommonRules(common);
    expect(mine.problems).toEqual([]);
    const allow = (acc: Acc, t: string) => ours(mine.rules, shared.rules, U, C, acc, t);
    expect(allow(4, 'plant/alice/#')).toBe(true);
    expect(allow(1, 'plant/alice/temp')).toBe(true);
    expect(allow(2, 'plant/alice/temp')).toBe(true);
    expect(allow(2, 'alerts')).toBe(true);
    expect(allow(4, 'alerts')).toBe(false); // no sacls for it: go-auth refused that subscription too
    expect(allow(4, 'broadcast/#')).toBe(true);
    expect(allow(2, 'broadcast/x')).toBe(false);
    expect(allow(4, 'cmd/alice/#')).toBe(true);
    expect(allow(2, 'cmd/alice/reboot')).toBe(true);
    expect(allow(2, 'cmd/bob/reboot')).toBe(false);
    expect(allow(4, 'plant/bob/#')).toBe(false);
  });

  it('read rules without a subscribe rule grant no subscription (as in go-auth)', () => {
    const mine = redisUserRules(U, { ...empty, racls: ['a/#'], rwacls: ['b/#'] }, empty);
    expect(mine.rules).toEqual([{ pattern: 'b/#', access: 'write' }]);
  });

  it('reports own rules whose %u/%c go-auth took literally, and invalid filters', () => {
    const mine = redisUserRules(
      U,
      { ...empty, racls: ['x/%u'], wacls: ['a/#/b'], sacls: ['y/%c/#'] },
      empty,
    );
    expect(mine.rules).toEqual([]);
    expect(mine.problems.map((p) => p.where)).toEqual([
      'alice:racls',
      'alice:wacls',
      'alice:sacls',
    ]);
    expect(mine.problems[0]!.message).toMatch(/literally/);
  });

  it('reports rules a Mosquitto 2.1 broker would refuse once exported (depth, %u length)', () => {
    const deep = 'a/'.repeat(201) + 'a';
    const long = '%u'.repeat(300);
    expect(patternProblem(deep, 'common')).toMatch(/202 levels/);
    expect(patternProblem(long, 'common')).toMatch(/65535/);
    expect(patternProblem('a/'.repeat(199) + 'a', 'common')).toBeNull();
    const mine = redisUserRules(U, { ...empty, wacls: [deep, 'ok/x'] }, empty);
    expect(mine.rules.map((r) => r.pattern)).toEqual(['ok/x']);
    expect(mine.problems.map((p) => p.where)).toEqual(['alice:wacls']);
  });
});

describe('files backend mapping', () => {
  const map = (recs: FileRec[]) =>
    recs.map((r) => filesRule(r.access, r.pattern)).filter((r): r is AclRule => r !== null);
  // The importer skips (and reports) own rules with %u/%c and invalid filters.
  const valid = (recs: FileRec[], scope: 'own' | 'common') =>
    recs.filter((r) => patternProblem(r.pattern, scope) === null);

  it('never grants more than go-auth (generated rules, topics and filters)', () => {
    fc.assert(
      fc.property(fileRecs, fileRecs, topic, filter, (ownRaw, commonRaw, t, f) => {
        const own = valid(ownRaw, 'own');
        const common = valid(commonRaw, 'common');
        const shared = filesCommonRules(map(common));
        const mine = filesUserRules(U, map(own), map(common));
        for (const acc of [1, 2] as Acc[]) {
          if (ours(mine, shared, U, C, acc, t))
            expect(goFiles(own, common, U, C, acc, t)).toBe(true);
        }
        if (ours(mine, shared, U, C, 4, f)) expect(goFiles(own, common, U, C, 4, f)).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });

  it('a wildcard deny also denies $ topics, as go-auth’s matcher does', () => {
    const own = [{ pattern: '$SYS/c1', access: 'read' as const }];
    const common = [{ pattern: '+/%c', access: 'deny' as const }];
    const mine = filesUserRules(U, own, common);
    expect(ours(mine, filesCommonRules(common), U, C, 1, '$SYS/c1')).toBe(false);
  });

  it('read # allows every subscription but "#" itself, as go-auth', () => {
    const rules = [filesRule('read', '#') as AclRule];
    expect(ours(rules, [], U, C, 4, 'a/#')).toBe(true);
    expect(ours(rules, [], U, C, 4, '+')).toBe(true);
    expect(ours(rules, [], U, C, 4, '#')).toBe(false);
    expect(ours(rules, [], U, C, 1, 'a')).toBe(true);
    expect(ours([{ pattern: '#', access: 'readwrite' }], [], U, C, 4, '#')).toBe(true);
  });
});
