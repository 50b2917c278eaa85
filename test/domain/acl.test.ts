import {
  compileAcl,
  decideAcl,
  isAcc,
  isValidRulePattern,
  ruleLimitProblem,
  type Acc,
  type AclRule,
} from '../../src/domain/acl';

const R = (access: AclRule['access'], pattern: string): AclRule => ({ pattern, access });

type Case = [string, AclRule[], Acc, string, boolean];
const U = 'dev1';
const C = 'cid1';

describe('decideAcl: access bits', () => {
  const cases: Case[] = [
    ['read grants acc 1', [R('read', 'a/b')], 1, 'a/b', true],
    ['read does not grant acc 2', [R('read', 'a/b')], 2, 'a/b', false],
    ['read does not grant acc 3', [R('read', 'a/b')], 3, 'a/b', false],
    ['read grants acc 4', [R('read', 'a/b')], 4, 'a/b', true],
    ['write grants acc 2', [R('write', 'a/b')], 2, 'a/b', true],
    ['write does not grant acc 1', [R('write', 'a/b')], 1, 'a/b', false],
    ['write does not grant acc 4', [R('write', 'a/#')], 4, 'a/b', false],
    ['write does not grant acc 3', [R('write', 'a/b')], 3, 'a/b', false],
    ['readwrite grants acc 1', [R('readwrite', 'a/#')], 1, 'a/b', true],
    ['readwrite grants acc 2', [R('readwrite', 'a/#')], 2, 'a/b', true],
    ['readwrite grants acc 3', [R('readwrite', 'a/#')], 3, 'a/b', true],
    ['readwrite grants acc 4', [R('readwrite', 'a/#')], 4, 'a/#', true],
    ['read + write rules grant acc 3', [R('read', 'a/#'), R('write', 'a/+')], 3, 'a/b', true],
    ['read + write on other topics', [R('read', 'a/#'), R('write', 'b/#')], 3, 'a/b', false],
    ['no rules deny', [], 1, 'a/b', false],
    ['deny alone grants nothing', [R('deny', 'a/b')], 1, 'a/b', false],
    ['unrelated rule denies', [R('readwrite', 'x/#')], 2, 'a/b', false],
    ['a/# grants the parent a', [R('read', 'a/#')], 1, 'a', true],
    ['# grants any topic', [R('readwrite', '#')], 2, 'x/y/z', true],
    ['# does not grant $SYS', [R('readwrite', '#')], 1, '$SYS/broker/uptime', false],
    ['# does not grant subscribe $SYS/#', [R('readwrite', '#')], 4, '$SYS/#', false],
    ['+/# does not grant $SYS', [R('read', '+/#')], 1, '$SYS/x', false],
    ['$SYS/# grants $SYS/x', [R('read', '$SYS/#')], 1, '$SYS/x', true],
  ];
  it.each(cases)('%s', (_, rules, acc, topic, expected) => {
    expect(decideAcl(compileAcl(rules, U), acc, topic, C).allow).toBe(expected);
  });
});

describe('decideAcl: subscribe (acc 4) carries a filter', () => {
  const cases: Case[] = [
    ['a/+ allows a/b', [R('read', 'a/+')], 4, 'a/b', true],
    ['a/+ allows a/+', [R('read', 'a/+')], 4, 'a/+', true],
    ['a/+ does not allow a/#', [R('read', 'a/+')], 4, 'a/#', false],
    ['a/+ does not allow #', [R('read', 'a/+')], 4, '#', false],
    ['a/+ does not allow a/+/c', [R('read', 'a/+')], 4, 'a/+/c', false],
    ['a/# allows a/#', [R('read', 'a/#')], 4, 'a/#', true],
    ['a/# allows a/+/c/#', [R('read', 'a/#')], 4, 'a/+/c/#', true],
    ['a/# does not allow #', [R('read', 'a/#')], 4, '#', false],
    ['a/# does not allow +/b', [R('read', 'a/#')], 4, '+/b', false],
    ['two rules that only together cover', [R('read', 'a/b'), R('read', 'a/c')], 4, 'a/+', false],
    ['a deny inside the filter', [R('read', 'a/#'), R('deny', 'a/secret')], 4, 'a/#', false],
    ['a deny inside the filter (+)', [R('read', 'a/#'), R('deny', 'a/s/x')], 4, 'a/+/x', false],
    ['a deny wildcard intersecting', [R('read', 'a/#'), R('deny', '+/secret')], 4, 'a/+', false],
    ['a deny outside the filter', [R('read', 'a/#'), R('deny', 'a/secret')], 4, 'a/pub/#', true],
    ['a deny # does not touch $SYS', [R('read', '$SYS/#'), R('deny', '#')], 4, '$SYS/#', true],
    ['invalid filter a/#/b', [R('read', '#')], 4, 'a/#/b', false],
    ['invalid filter a#', [R('read', '#')], 4, 'a#', false],
    ['empty filter', [R('read', '#')], 4, '', false],
  ];
  it.each(cases)('%s', (_, rules, acc, topic, expected) => {
    expect(decideAcl(compileAcl(rules, U), acc, topic, C).allow).toBe(expected);
  });
});

describe('decideAcl: topics for acc 1, 2 and 3 must be names', () => {
  it.each([
    [1, 'a/#'],
    [2, 'a/#'],
    [2, 'a/+'],
    [2, '#'],
    [2, '+'],
    [3, 'a/+'],
    [2, ''],
    [2, 'a/\u0000'],
  ] as [Acc, string][])('acc %i topic %j is denied even under #', (acc, topic) => {
    const d = decideAcl(compileAcl([R('readwrite', '#')], U), acc, topic, C);
    expect(d).toEqual({ allow: false, reason: expect.any(String) });
  });
});

describe('decideAcl: deny wins', () => {
  const cases: Case[] = [
    ['deny after grant', [R('readwrite', 'a/#'), R('deny', 'a/secret')], 1, 'a/secret', false],
    ['deny before grant', [R('deny', 'a/secret'), R('readwrite', 'a/#')], 2, 'a/secret', false],
    ['deny with +', [R('readwrite', '#'), R('deny', '+/secret')], 2, 'x/secret', false],
    ['deny # blocks all', [R('readwrite', 'a/#'), R('deny', '#')], 1, 'a/b', false],
    ['deny a/# blocks parent', [R('readwrite', '#'), R('deny', 'a/#')], 2, 'a', false],
    ['deny elsewhere', [R('readwrite', 'a/#'), R('deny', 'a/secret')], 2, 'a/public', true],
    ['deny exact only', [R('readwrite', 'a/#'), R('deny', 'a/secret')], 2, 'a/secret/x', true],
  ];
  it.each(cases)('%s', (_, rules, acc, topic, expected) => {
    expect(decideAcl(compileAcl(rules, U), acc, topic, C).allow).toBe(expected);
  });
});

// [description, rules, username, clientid, acc, topic, allowed]
type SubCase = [string, AclRule[], string, string, Acc, string, boolean];
const own = [R('readwrite', 'devices/%c/#')];
const ownU = [R('readwrite', 'devices/%u/#')];

describe('decideAcl: %u and %c substitution', () => {
  const cases: SubCase[] = [
    ['%c grants own space', own, U, 'c1', 2, 'devices/c1/x', true],
    ['%c grants own parent', own, U, 'c1', 1, 'devices/c1', true],
    ['%c subscribe own #', own, U, 'c1', 4, 'devices/c1/#', true],
    ['%c not another client', own, U, 'c1', 2, 'devices/c2/x', false],
    ['%c not a prefix match', own, U, 'c1', 2, 'devices/c10/x', false],
    ['%u grants own space', ownU, 'u1', C, 2, 'devices/u1/x', true],
    ['%u not another user', ownU, 'u1', C, 2, 'devices/u2/x', false],
    ['%u and %c together', [R('read', '%u/%c')], 'u', 'c', 1, 'u/c', true],
    ['%u and %c swapped', [R('read', '%u/%c')], 'u', 'c', 1, 'c/u', false],
    ['repeated %c', [R('write', '%c/x/%c')], U, 'c', 2, 'c/x/c', true],
    ['unicode client id', own, U, 'ünï', 2, 'devices/ünï/x', true],
    // CVE-2017-7650 class: a value with a wildcard or a separator must never widen a grant.
    ['clientid #', own, U, '#', 2, 'devices/x/y', false],
    ['clientid # own literal', own, U, '#', 1, 'devices/x', false],
    ['clientid +', own, U, '+', 2, 'devices/x/y', false],
    ['clientid + subscribe', own, U, '+', 4, 'devices/+/#', false],
    ['clientid a/b', own, U, 'a/b', 2, 'devices/a/b/c', false],
    ['clientid a/#', own, U, 'a/#', 2, 'devices/a/x', false],
    ['clientid with +', own, U, 'a+', 1, 'devices/x/y', false],
    ['clientid empty', own, U, '', 2, 'devices//x', false],
    ['clientid empty, parent', own, U, '', 1, 'devices', false],
    ['clientid NUL', own, U, 'a\u0000', 2, 'devices/x/y', false],
    ['username #', ownU, '#', C, 2, 'devices/x/y', false],
    ['username +', ownU, '+', C, 1, 'devices/x/y', false],
    ['username a/b', ownU, 'a/b', C, 2, 'devices/a/b/c', false],
    ['username empty', ownU, '', C, 2, 'devices//x', false],
    // String.replace patterns in a value must not act: `$'` would paste in the text after %c.
    ["clientid a$' cannot reach devices/a", own, U, "a$'", 2, 'devices/a/x', false],
    ["clientid a$' gets its literal space", own, U, "a$'", 2, "devices/a$'/x", true],
    ['clientid $& stays literal', own, U, '$&', 2, 'devices/%c/x', false],
    ["username a$' cannot reach devices/a", ownU, "a$'", C, 2, 'devices/a/x', false],
    ["username a$' gets its literal space", ownU, "a$'", C, 2, "devices/a$'/x", true],
    ['username $` stays literal', ownU, 'x$`', C, 2, 'devices/xdevices//x', false],
    // A username that itself reads `%c` is a name, not a placeholder.
    ['username %c is literal', [R('read', '%u/%c/#')], '%c', 'v', 1, 'v/v/x', false],
    ['username %c own space', [R('read', '%u/%c/#')], '%c', 'v', 1, '%c/v/x', true],
    ['username %u is literal', [R('read', '%c/%u')], '%u', 'v', 1, 'v/%u', true],
  ];
  it.each(cases)('%s', (_, rules, u, c, acc, topic, expected) => {
    expect(decideAcl(compileAcl(rules, u), acc, topic, c).allow).toBe(expected);
  });
});

describe('decideAcl: deny rules with odd values still deny', () => {
  const grant = R('readwrite', '#');
  const cases: SubCase[] = [
    ['clientid a/b: textual', [grant, R('deny', 'd/%c/s')], U, 'a/b', 2, 'd/a/b/s', false],
    ['clientid +: wider', [grant, R('deny', 'd/%c/s')], U, '+', 2, 'd/x/s', false],
    ['clientid #: invalid result', [grant, R('deny', 'd/%c/s')], U, '#', 2, 'other', false],
    ['clientid a#: invalid', [grant, R('deny', 'd/%c/s')], U, 'a#', 1, 'other', false],
    ['clientid # at end: wider', [grant, R('deny', 'd/%c')], U, '#', 2, 'd/x/y', false],
    ['clientid empty', [grant, R('deny', 'd/%c/s')], U, '', 2, 'd//s', false],
    ['clientid safe, elsewhere', [grant, R('deny', 'd/%c/s')], U, 'c', 2, 'd/x/s', true],
    ['clientid +, elsewhere', [grant, R('deny', 'd/%c/s')], U, '+', 2, 'e/x/s', true],
    ['username a/b: textual', [grant, R('deny', 'd/%u/s')], 'a/b', C, 2, 'd/a/b/s', false],
    ['username +: wider', [grant, R('deny', 'd/%u/s')], '+', C, 2, 'd/x/s', false],
    ['username #: invalid result', [grant, R('deny', 'd/%u/s')], '#', C, 2, 'other', false],
    ['username a+: invalid result', [grant, R('deny', 'd/%u/s')], 'a+', C, 1, 'other', false],
    ['username empty', [grant, R('deny', 'd/%u/s')], '', C, 2, 'd//s', false],
    ['username safe, elsewhere', [grant, R('deny', 'd/%u/s')], 'u', C, 2, 'd/x/s', true],
  ];
  it.each(cases)('%s', (_, rules, u, c, acc, topic, expected) => {
    expect(decideAcl(compileAcl(rules, u), acc, topic, c).allow).toBe(expected);
  });
});

describe('compileAcl', () => {
  it('compiles once and decides for many client ids', () => {
    const acl = compileAcl(own, U);
    expect(decideAcl(acl, 2, 'devices/a/x', 'a').allow).toBe(true);
    expect(decideAcl(acl, 2, 'devices/b/x', 'b').allow).toBe(true);
    expect(decideAcl(acl, 2, 'devices/a/x', 'b').allow).toBe(false);
  });

  it('reports a reason on denial', () => {
    const d = decideAcl(compileAcl([R('read', 'a')], U), 2, 'a', C);
    expect(d.allow).toBe(false);
    expect(d.allow === false && d.reason.length > 0).toBe(true);
  });
});

describe('isAcc', () => {
  it.each([
    [1, true],
    [2, true],
    [3, true],
    [4, true],
    [0, false],
    [5, false],
    [1.5, false],
    [-1, false],
    [NaN, false],
  ])('%p -> %p', (n, expected) => {
    expect(isAcc(n)).toBe(expected);
  });
});

describe('isValidRulePattern', () => {
  it.each([
    ['devices/%u/#', true],
    ['devices/%c/#', true],
    ['%u/%c', true],
    ['#', true],
    ['a/+/b', true],
    ['$SYS/#', true],
    ['pre%u/x', true],
    ['a/#/b', false],
    ['a#', false],
    ['%u#', false],
    ['%c+', false],
    ['', false],
    ['a/\u0000', false],
  ])('%j -> %p', (pattern, expected) => {
    expect(isValidRulePattern(pattern)).toBe(expected);
  });
});

describe('ruleLimitProblem (new rules load in Mosquitto 2.1 for every id)', () => {
  it.each([
    ['devices/%u/#'],
    [`${'a/'.repeat(200)}a`], // 201 levels
    ['%u/'.repeat(150) + 'x'], // 151 × 384 bytes + 301 fits
    [`cmd/%c/${'x'.repeat(64000)}`],
  ])('accepts %#', (p) => expect(ruleLimitProblem(p)).toBeNull());
  it.each([
    [`${'a/'.repeat(201)}a`, /202 levels/],
    ['%u'.repeat(512), /could be 196608 bytes/], // the issue's `%u` × 512 with a 128-char id
    ['%u'.repeat(171), /could be 65664 bytes/],
    [`%c/${'x'.repeat(64800)}`, /could be 65569 bytes/],
  ])('refuses %#', (p, why) => expect(ruleLimitProblem(p)).toMatch(why));
});
